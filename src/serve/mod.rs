//! The status listener's side that is pure (SPEC §9): the bytes a connection has sent so far
//! → nothing yet, or the whole response to write back.
//!
//! Owns: the request head rules — GET and HEAD only (405), a head of at most [`MAX_HEAD`]
//! bytes (431), one response per connection (`Connection: close`) — the routes `/health`,
//! `/status` and `/metrics` (their bodies are `render`'s), and `formation status`'s reading
//! of /proc and of the listener's answer (`status`, `json`).
//!
//! Must not: touch a socket or the clock, or block: the sockets, the connection limits and
//! the deadlines are `os::listener`'s, and the time is handed in with the snapshot.
//!
//! Heads are parsed by httparse (SIMD-free here, no_std, no allocation): it takes the bytes
//! received so far and answers Partial until the blank line that ends the head, so a head
//! split over any number of reads is parsed the same. It accepts HTTP/1.0 and 1.1 only.

pub mod control;
mod json;
pub mod render;
pub mod status;

use render::Snapshot;

/// The longest request head we read: beyond it, 431.
pub const MAX_HEAD: usize = 8 * 1024;
/// The most header lines a head may have: beyond it, 431 as well.
const MAX_HEADERS: usize = 32;

/// What the bytes received so far amount to.
#[derive(Debug, PartialEq, Eq)]
pub enum Head<'a> {
    /// Not a whole head yet: read on.
    Partial,
    /// A whole GET (or HEAD, with `head_only`) for `path`.
    Get { path: &'a str, head_only: bool },
    /// A request we refuse with this status: 400, 405 or 431.
    Refuse(u16),
}

/// Reads the head of a request from the bytes received so far.
pub fn parse(buf: &[u8]) -> Head<'_> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    match request.parse(buf) {
        Ok(httparse::Status::Complete(len)) if len <= MAX_HEAD => {
            match (request.method, request.path) {
                (Some("GET"), Some(path)) => Head::Get {
                    path,
                    head_only: false,
                },
                (Some("HEAD"), Some(path)) => Head::Get {
                    path,
                    head_only: true,
                },
                _ => Head::Refuse(405),
            }
        }
        Ok(httparse::Status::Partial) if buf.len() <= MAX_HEAD => Head::Partial,
        Ok(_) | Err(httparse::Error::TooManyHeaders) => Head::Refuse(431),
        Err(_) => Head::Refuse(400),
    }
}

/// The answer to the bytes received so far on a connection, once there is one. `snapshot`
/// is called only for a route that shows the formation.
pub fn answer<'s>(buf: &[u8], snapshot: impl FnOnce() -> Snapshot<'s>) -> Option<Vec<u8>> {
    let (path, head_only) = match parse(buf) {
        Head::Partial => return None,
        Head::Refuse(code) => return Some(response(code, TEXT, &reason(code), false)),
        Head::Get { path, head_only } => (path, head_only),
    };
    let route = path.split_once('?').map_or(path, |(route, _)| route);
    let (code, kind, body) = match route {
        "/health" => {
            let (ok, body) = render::health(&snapshot());
            (if ok { 200 } else { 503 }, TEXT, body)
        }
        "/status" => (200, JSON, render::status(&snapshot())),
        "/metrics" => (200, METRICS, render::metrics(&snapshot())),
        _ => (404, TEXT, reason(404)),
    };
    Some(response(code, kind, &body, head_only))
}

const TEXT: &str = "text/plain; charset=utf-8";
const JSON: &str = "application/json";
/// Prometheus' text exposition format, version 0.0.4.
const METRICS: &str = "text/plain; version=0.0.4; charset=utf-8";

fn reason_phrase(code: u16) -> &'static str {
    match code {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        431 => "Request Header Fields Too Large",
        _ => "Service Unavailable",
    }
}

/// The body of an error answer: its reason, on a line.
fn reason(code: u16) -> String {
    format!("{}\n", reason_phrase(code).to_ascii_lowercase())
}

/// A whole response; the body is left out for HEAD, its length is not.
fn response(code: u16, kind: &str, body: &str, head_only: bool) -> Vec<u8> {
    let allow = if code == 405 {
        "Allow: GET, HEAD\r\n"
    } else {
        ""
    };
    let mut out = format!(
        "HTTP/1.1 {code} {}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\n{allow}Connection: close\r\n\r\n",
        reason_phrase(code),
        body.len()
    )
    .into_bytes();
    if !head_only {
        out.extend_from_slice(body.as_bytes());
    }
    out
}

#[cfg(test)]
mod tests;
