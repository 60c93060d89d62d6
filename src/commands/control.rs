//! The control commands' client (SPEC §10, §2.1): `formation status`, asked over the control
//! socket of this container's formation (or, with none, read from /proc), and `formation
//! restart|stop|start|scale|signal|reload`, sent over it. The client prints the answer's lines
//! as they come (`--wait` streams progress) and exits 0 (`ok`), 1 (refused, failed, timed out,
//! nothing to ask) or 2 (usage: one line naming what is wrong, no usage text).

use crate::cli::Options;
use crate::commands::{USAGE_ERROR, say_to};
use crate::os;
use crate::os::control::{Client, Unreachable};
use crate::output::logmux::Stream;
use crate::serve::control::{self, End};
use crate::serve::status::{self, groups};
use std::time::Duration;

/// How long the client waits for a line of an answer that is not streamed (`--wait`).
const ANSWER: Duration = Duration::from_secs(10);
/// How much longer than a `--wait`'s own timeout the client waits for its last line: the
/// server ends the answer at the timeout.
const MARGIN: Duration = Duration::from_secs(10);

/// `formation restart web --wait` & co: `words` as typed, the command's name first.
pub fn request(words: &[String]) -> i32 {
    let request = match control::parse(words) {
        Ok(request) => request,
        Err(e) => {
            say_to(Stream::Stderr, format_args!("formation: {e}\n"));
            return USAGE_ERROR;
        }
    };
    // With `--wait` and no `--timeout`, the server's default (the grace and ready timeout of
    // what it touches) bounds the answer; the client waits for it.
    let wait = match (request.wait, request.timeout) {
        (false, _) => ANSWER,
        (true, Some(timeout)) => timeout + MARGIN,
        (true, None) => Duration::from_secs(24 * 3600),
    };
    let mut client = match Client::request(words, wait) {
        Ok(client) => client,
        Err(e) => {
            say_to(
                Stream::Stderr,
                format_args!("formation: {}\n", unreachable(&e)),
            );
            return 1;
        }
    };
    // Lines that arrived together with the last one are its details (a reload's config
    // errors): on stderr with an error, like the error. Lines streamed before it (`--wait`'s
    // progress) are on stdout as they come.
    let mut held: Vec<String> = Vec::new();
    loop {
        let line = match client.line() {
            Ok(Some(line)) => line,
            Ok(None) => {
                say_to(
                    Stream::Stderr,
                    format_args!("formation: the answer ended before its last line\n"),
                );
                return 1;
            }
            Err(e) => {
                say_to(Stream::Stderr, format_args!("formation: no answer: {e}\n"));
                return 1;
            }
        };
        let Some(end) = End::parse(&line) else {
            held.push(line);
            if !client.more_here() {
                for line in held.drain(..) {
                    say_to(Stream::Stdout, format_args!("{line}\n"));
                }
            }
            continue;
        };
        let to = match end {
            End::Ok => Stream::Stdout,
            _ => Stream::Stderr,
        };
        for line in held.iter().chain([&line]) {
            say_to(to, format_args!("{line}\n"));
        }
        return end.status();
    }
}

/// Why the control socket cannot be asked, in a line.
fn unreachable(e: &Unreachable) -> String {
    match e {
        Unreachable::NoSocket => "no formation to ask here: nothing listens on the control \
            socket of this pid namespace (control is off, or formation is not what runs here)"
            .into(),
        Unreachable::Other(e) => format!("cannot reach the control socket: {e}"),
    }
}

/// `formation status [--json]`: the formation's table over the control socket, with the RSS
/// and CPU of each instance's process group from /proc; without a socket, /proc alone.
pub fn status(options: &Options) -> i32 {
    let known = ask_status().and_then(|body| status::parse_instances(&body));
    let known = match known {
        Ok(known) => known,
        // Refused (another uid) or failed: an answer, not a socket to fall back from.
        Err(why) if why.starts_with("error: ") => {
            say_to(Stream::Stderr, format_args!("{why}\n"));
            return 1;
        }
        Err(why) => {
            say_to(
                Stream::Stderr,
                format_args!("formation status: {why}; showing what /proc tells\n"),
            );
            return super::status::status(options);
        }
    };
    let procs = os::procfs::groups(&known);
    let text = if options.json {
        status::render_json(&procs, Some(&known), None, true)
    } else {
        status::render_text(&groups::fold(&procs, &known), Some(&known))
    };
    say_to(Stream::Stdout, format_args!("{text}"));
    0
}

/// The body of the control socket's answer to `status`.
fn ask_status() -> Result<String, String> {
    let words = ["status".to_string()];
    let mut client = Client::request(&words, ANSWER).map_err(|e| unreachable(&e))?;
    let mut body = String::new();
    loop {
        let line = client.line().map_err(|e| format!("no answer: {e}"))?;
        let Some(line) = line else {
            return Err("the answer ended before its last line".into());
        };
        match End::parse(&line) {
            Some(End::Ok) => return Ok(body),
            Some(_) => return Err(line),
            None => {
                body.push_str(&line);
                body.push('\n');
            }
        }
    }
}
