//! The line framer (SPEC §5): a child's bytes, arriving in reads cut anywhere and taken by
//! a sink that stops when full, come out as the same pieces as a simple model says —
//! whole lines, lines over 16 KiB cut into 16 KiB pieces marked partial, an unfinished last
//! line only at EOF; from a terminal, the `\r`s that end a line are not part of it.
//!
//! The input is a small program, so that short inputs make long lines: the first byte's low
//! bit says pipe or terminal; then a byte 0xFF followed by two bytes N appends N copies of the
//! byte after them, and any other byte is itself. Split points and full sinks come from the
//! program's own bytes.
#![no_main]
use formation_fuzz::output::lines::{MAX_LINE, frame};
use libfuzzer_sys::fuzz_target;

/// (the data, the length of each read, whether emit refuses after k pieces).
fn decode(input: &[u8]) -> (Vec<u8>, Vec<usize>, Vec<bool>) {
    let mut data = Vec::new();
    let mut i = 0;
    while i < input.len() {
        if input[i] == 0xFF && i + 3 < input.len() {
            let n = u16::from_le_bytes([input[i + 1], input[i + 2]]) as usize;
            data.extend(std::iter::repeat_n(input[i + 3], n));
            i += 4;
        } else {
            data.push(input[i]);
            i += 1;
        }
    }
    let reads = input.iter().map(|b| 1 + usize::from(*b) * 97).collect();
    let refusals = input.iter().map(|b| b % 5 == 0).collect();
    (data, reads, refusals)
}

/// What the framer must emit for all of `data` at EOF.
fn model(data: &[u8], tty: bool) -> Vec<(Vec<u8>, bool)> {
    let mut out = Vec::new();
    let mut lines: Vec<&[u8]> = data.split(|b| *b == b'\n').collect();
    if data.last().is_none_or(|b| *b == b'\n') {
        lines.pop(); // nothing after the last newline
    }
    for line in lines {
        let mut rest = line;
        loop {
            let mut payload = rest;
            while tty && let [head @ .., b'\r'] = payload {
                payload = head;
            }
            // Whole: at most 16 KiB; from a terminal, 16 KiB of payload ended by at most
            // 16 KiB of `\r`s (a longer run is payload).
            if rest.len() <= MAX_LINE || (payload.len() <= MAX_LINE && rest.len() <= 2 * MAX_LINE) {
                out.push((payload.to_vec(), false));
                break;
            }
            out.push((rest[..MAX_LINE].to_vec(), true));
            rest = &rest[MAX_LINE..];
        }
    }
    out
}

fuzz_target!(|input: &[u8]| {
    let Some((mode, input)) = input.split_first() else {
        return;
    };
    let tty = mode & 1 == 1;
    let (data, reads, refusals) = decode(input);
    let mut pending: Vec<u8> = Vec::new();
    let mut got: Vec<(Vec<u8>, bool)> = Vec::new();
    let mut fed = 0;
    let mut turn = 0;
    let mut refuse = refusals.iter().cycle();
    loop {
        let at_eof = fed == data.len();
        if !at_eof {
            let n = reads.get(turn % reads.len().max(1)).copied().unwrap_or(1);
            let take = n.min(data.len() - fed);
            pending.extend_from_slice(&data[fed..fed + take]);
            fed += take;
        }
        let at_eof = fed == data.len();
        // A sink that is full now and then: the framer stops there and goes on next time.
        loop {
            let full = *refuse.next().unwrap_or(&false);
            let mut first = true;
            let used = frame(&pending, at_eof, tty, |piece, partial| {
                if full && !first {
                    return false;
                }
                first = false;
                got.push((piece.to_vec(), partial));
                true
            });
            pending.drain(..used);
            if !full || used == 0 {
                break;
            }
        }
        if at_eof {
            // Everything is emitted once the input has ended and the sink takes it all.
            let used = frame(&pending, true, tty, |piece, partial| {
                got.push((piece.to_vec(), partial));
                true
            });
            pending.drain(..used);
            assert!(pending.is_empty(), "bytes left at EOF");
            break;
        }
        turn += 1;
    }
    assert_eq!(got, model(&data, tty));
});
