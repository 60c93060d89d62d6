//! The end of a source and of the output: an instance's pipes read to their EOF before its
//! end is told (SPEC §4 "lines before their exit"), every pipe closed at the drain deadline,
//! an output's failures told, and the last flush bounded by the stop's worst case (§4.1).

use super::{DRAIN_READS, Fill, Lazy, LogMux, Stream};
use nix::poll::PollFlags;

impl LogMux {
    /// Reads what label `label`'s pipes hold now, up to their EOF, and queues all of it (past
    /// the high-water mark), before formation says a line about that instance's end (SPEC §4
    /// "lines before their exit"). Everything the instance wrote before its exit is in the
    /// pipes already (a pipe `write` has returned once the bytes are in the pipe), so nothing
    /// is waited for: a pipe that another process still holds open is read as far as it goes
    /// now, and the rest comes as it comes. Bounded by [`DRAIN_READS`] reads per pipe, so that
    /// such a process writing without pause cannot hold the loop.
    pub fn drain(&mut self, label: usize) {
        // The ids are copied out: no borrow of the table is held while reading.
        for id in self.sources.of_label(label) {
            for _ in 0..DRAIN_READS {
                if self.fill(id) != Fill::Data {
                    break;
                }
            }
            self.emit(id, true);
        }
        // The instance has ended: its terminal may hang up now.
        self.hung.retain(|(of, _)| *of != label);
    }

    /// Closes every child pipe now, emitting what they hold (the drain deadline has passed).
    pub fn close_sources(&mut self) {
        for id in self.sources.ids() {
            self.sources.close(id);
            self.emit(id, true);
        }
        self.hung.clear();
    }

    /// Says, in formation's own lines, that an output began to fail or how many lines its
    /// failure dropped (issue #26). A notice about stderr goes to stderr too: when it is
    /// still failing, that line is one more dropped.
    pub(super) fn say_failures(&mut self, at_exit: bool) {
        for stream in [Stream::Stdout, Stream::Stderr] {
            let Some(sink) = self.sinks[stream as usize].get_mut() else {
                continue;
            };
            for notice in sink.take_notices(at_exit) {
                self.own(&notice.describe(stream.name()));
            }
        }
    }

    /// Writes what is queued, waiting at most until `deadline` for a slow reader (SPEC §4.1:
    /// the stop ends within its worst case even when our stdout is blocked). What could not
    /// be written by then is dropped, and one line on stderr — written only if it fits at
    /// once — counts the dropped lines.
    pub fn finish(&mut self, deadline: std::time::Instant) {
        let mut dropped = 0;
        for sink in self.sinks.iter_mut().filter_map(Lazy::get_mut) {
            loop {
                sink.flush(true);
                let left = deadline.saturating_duration_since(std::time::Instant::now());
                if !sink.wants_write() || left.is_zero() {
                    break;
                }
                let millis = u16::try_from(left.as_millis()).unwrap_or(u16::MAX);
                let mut fds = [nix::poll::PollFd::new(sink.fd(), PollFlags::POLLOUT)];
                let _ = nix::poll::poll(&mut fds, millis);
            }
            if sink.wants_write() {
                dropped += sink.drop_queue();
            }
        }
        self.say_failures(true);
        if dropped > 0 {
            self.own(&format!(
                "{dropped} output line(s) dropped: the output was blocked past the stop's deadline"
            ));
        }
        if let Some(sink) = self.sinks[Stream::Stderr as usize].get_mut() {
            sink.flush(true);
        }
    }
}
