//! The control socket served from the loop (SPEC §10): requests read from its connections,
//! handed to the engine as events, their answers written back; `--wait` connections kept
//! and fed the engine's progress after every turn until their request is done or times out.
//!
//! Each request is logged as one of formation's own lines (`control: restart web (uid 0)`),
//! so `docker logs` shows who changed what; `status`, which changes nothing, only at debug.

use super::Supervisor;
use crate::config::units::Level;
use crate::os::conns::{ConnId, Event, Token};
use crate::os::control::Control;
use crate::serve::control::{self, Command, End, Request};
use crate::serve::render::{self, Snapshot};
use std::time::Instant;

impl Supervisor {
    /// Serves the control socket from the loop.
    pub fn control(&mut self, control: Control) {
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
                Event::Gone(_) => {}
            }
        }
    }

    /// The earliest deadline of the control socket's connections.
    pub(super) fn control_deadline(&self) -> Option<Instant> {
        self.control.as_ref().and_then(|c| c.next_deadline())
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
        match request.command {
            Command::Status { .. } => {
                let now = Instant::now();
                let (engine, types, counts) = (&self.engine, &self.types, self.log.counts());
                let body = render::status(&Snapshot::of(engine, types, counts, now));
                let lines: Vec<&str> = body.lines().collect();
                self.reply(conn, &lines, &End::Ok);
            }
            _ => {
                let end = End::Failed("not available yet".into());
                self.reply(conn, &[], &end);
            }
        }
    }

    /// Writes `lines` and the last line `end` to `conn`, and closes it.
    fn reply(&mut self, conn: ConnId, lines: &[&str], end: &End) {
        let mut bytes = String::new();
        for line in lines {
            bytes.push_str(&control::one_line(line));
            bytes.push('\n');
        }
        bytes.push_str(&end.line());
        if let Some(control) = self.control.as_mut() {
            control.answer(conn, bytes.as_bytes(), true, Instant::now());
        }
    }
}
