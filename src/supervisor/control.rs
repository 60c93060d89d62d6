//! The control socket served from the loop (SPEC §10): requests read from its connections,
//! handed to the engine as events, their answers written back; `--wait` connections kept
//! and fed the engine's progress after every turn until their request is done or times out.
//!
//! Each request is logged as one of formation's own lines (`control: restart web (uid 0)`),
//! so `docker logs` shows who changed what; `status`, which changes nothing, only at debug.

use super::Supervisor;
use crate::config::names::Level;
use crate::engine::{Answer, Order, Ticket};
use crate::os::conns::{ConnId, Event, Token};
use crate::os::control::Control;
use crate::serve::control::{self, Command, End, Request};
use crate::serve::render::{self, Snapshot};
use crate::time::duration::Human;
use std::time::{Duration, Instant};

/// A `--wait` request: its connection stays open until the engine says it is done, or its
/// timeout passes.
pub(super) struct Wait {
    conn: ConnId,
    ticket: Ticket,
    /// When it times out.
    until: Instant,
    timeout: Duration,
}

impl Supervisor {
    /// Serves the control socket from the loop.
    pub fn open_control(&mut self, control: Control) {
        self.control = Some(control);
    }

    /// Serves the control socket's ready fds, then closes the connections past their
    /// deadline.
    pub(super) fn serve_control(&mut self, tokens: Vec<Token>) {
        let Some(control) = self.control.as_mut() else {
            return;
        };
        let now = Instant::now();
        let mut events = Vec::new();
        for token in tokens {
            control.ready(token, now, &mut events);
        }
        control.expire(now);
        for event in events {
            match event {
                Event::Request { conn, uid, bytes } => self.request(conn, uid, &bytes),
                Event::Refused { uid, why } => {
                    let text = format!("control: refused a client with uid {uid}: {why}");
                    self.say(Level::Warn, text);
                }
                Event::Gone(conn) => {
                    // The client went away (^C): its request goes on, unwatched.
                    if let Some(at) = self.waits.iter().position(|w| w.conn == conn) {
                        let wait = self.waits.swap_remove(at);
                        self.engine.forget(wait.ticket);
                    }
                }
            }
        }
    }

    /// The earliest deadline of the control socket's connections and of the `--wait`s.
    pub(super) fn control_deadline(&self) -> Option<Instant> {
        let conns = self.control.as_ref().and_then(|c| c.next_deadline());
        let waits = self.waits.iter().map(|w| w.until).min();
        conns.into_iter().chain(waits).min()
    }

    /// Streams what the `--wait` requests have come to since the last turn, and ends those
    /// that are done or timed out. Called after each turn's effects were carried out.
    pub(super) fn progress(&mut self) {
        if self.waits.is_empty() {
            return;
        }
        let now = Instant::now();
        let mut at = 0;
        while at < self.waits.len() {
            let wait = &self.waits[at];
            let progress = self.engine.progress(wait.ticket);
            let end = if progress.done {
                Some(progress.failed.map_or(End::Ok, End::Failed))
            } else if wait.until <= now {
                let after = Human(wait.timeout);
                Some(End::Failed(format!("timed out after {after}")))
            } else {
                None
            };
            let (conn, ticket) = (wait.conn, wait.ticket);
            let lines: Vec<&str> = progress.lines.iter().map(String::as_str).collect();
            self.write(conn, &lines, end.as_ref());
            if end.is_some() {
                self.engine.forget(ticket);
                self.waits.swap_remove(at);
            } else {
                at += 1;
            }
        }
    }

    /// Answers one request line.
    fn request(&mut self, conn: ConnId, uid: Option<u32>, line: &[u8]) {
        let who = uid.map_or_else(|| "?".into(), |u| u.to_string());
        let parsed = control::words(line).and_then(|words| {
            let request = control::parse(&words);
            let level = match request {
                Ok(Request {
                    command: Command::Status { .. },
                    ..
                }) => Level::Debug,
                _ => Level::Info,
            };
            let text = format!("control: {} (uid {who})", words.join(" "));
            self.say(level, control::one_line(&text));
            request
        });
        let request = match parsed {
            Ok(request) => request,
            Err(reason) => return self.reply(conn, &[], &End::Usage(reason)),
        };
        let (wait, timeout) = (request.wait, request.timeout);
        let order = match request.command {
            Command::Status { .. } => {
                let now = Instant::now();
                let (engine, types, counts) = (&self.engine, &self.types, self.log.counts());
                let body = render::status(&Snapshot::of(engine, types, counts, now));
                let lines: Vec<&str> = body.lines().collect();
                return self.reply(conn, &lines, &End::Ok);
            }
            Command::Order(order) => order,
        };
        self.order(conn, order, wait, timeout);
    }

    /// Hands `order` to the engine and answers; with `--wait`, keeps the connection for the
    /// progress of what it began.
    fn order(&mut self, conn: ConnId, order: Order, wait: bool, timeout: Option<Duration>) {
        let (lines, end) = match self.control(order) {
            Answer::Done { lines, ticket } => match ticket {
                Some(ticket) if wait => {
                    let timeout = timeout.unwrap_or_else(|| self.engine.wait_timeout(ticket));
                    let until = Instant::now() + timeout;
                    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
                    self.write(conn, &lines, None);
                    self.waits.push(Wait {
                        conn,
                        ticket,
                        until,
                        timeout,
                    });
                    // Done at once (nothing to wait for after all): said this turn.
                    return self.progress();
                }
                ticket => {
                    if let Some(ticket) = ticket {
                        self.engine.forget(ticket);
                    }
                    (lines, End::Ok)
                }
            },
            Answer::Usage(mut lines) => {
                let reason = first(&mut lines);
                (lines, End::Usage(reason))
            }
            Answer::Failed(mut lines) => {
                let reason = first(&mut lines);
                (lines, End::Failed(reason))
            }
        };
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        self.reply(conn, &lines, &end);
    }

    /// Writes `lines` and the last line `end` to `conn`, and closes it.
    fn reply(&mut self, conn: ConnId, lines: &[&str], end: &End) {
        self.write(conn, lines, Some(end));
    }

    /// Writes `lines` to `conn`, and the last line `end` if the answer ends here.
    fn write(&mut self, conn: ConnId, lines: &[&str], end: Option<&End>) {
        if lines.is_empty() && end.is_none() {
            return;
        }
        let mut bytes = String::new();
        for line in lines {
            bytes.push_str(&control::one_line(line));
            bytes.push('\n');
        }
        if let Some(end) = end {
            bytes.push_str(&end.line());
        }
        if let Some(control) = self.control.as_mut() {
            control.answer(conn, bytes.as_bytes(), end.is_some(), Instant::now());
        }
    }
}

/// The reason of an engine's refusal (its first line), the rest left in `lines`.
fn first(lines: &mut Vec<String>) -> String {
    match lines.is_empty() {
        true => "refused".into(),
        false => lines.remove(0),
    }
}
