//! The status listener's address (SPEC §7), as `--listen`, `FORMATION_LISTEN` and the
//! config's `listen` key write it. Pure: text in, an address or a one-line reason out.

use std::net::SocketAddr;

/// The listener's address: `9090` is `0.0.0.0:9090`; otherwise an IP address and a port
/// (`127.0.0.1:9090`, `[::1]:9090`). No host names: PID 1 resolves nothing.
pub fn parse_listen(text: &str) -> Result<SocketAddr, String> {
    if let Ok(port) = text.parse::<u16>() {
        return Ok(SocketAddr::from(([0, 0, 0, 0], port)));
    }
    text.parse().map_err(|_| {
        format!("--listen takes a port or an IP address and port (9090, 127.0.0.1:9090, [::1]:9090), not {text:?}")
    })
}

/// A check's `host:port` (after `$PORT` is replaced) → the address to connect to: an IP
/// address, or `localhost` as 127.0.0.1. No other names, as for `--listen`: a lookup
/// (`getaddrinfo`) blocks, for up to 5 s per try with musl's resolver, and PID 1's one loop
/// would stop reaping, forwarding signals and moving output for that long.
pub fn check_address(text: &str) -> Result<SocketAddr, String> {
    let local = text
        .strip_prefix("localhost:")
        .map(|port| port.parse::<u16>());
    match local {
        Some(Ok(port)) => Ok(SocketAddr::from(([127, 0, 0, 1], port))),
        _ => text.parse().map_err(|_| {
            format!(
                "{text}: not an IP address (or localhost) and port; formation looks up no names"
            )
        }),
    }
}

/// Whether a check's host, as written, can be connected to (see [`check_address`]); a host
/// holding `$` is left to the check itself.
pub fn check_host_ok(host: &str) -> bool {
    host == "localhost"
        || host.contains('$')
        || host.parse::<std::net::Ipv4Addr>().is_ok()
        || host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .is_some_and(|h| h.parse::<std::net::Ipv6Addr>().is_ok())
}

/// An `http` check's URL, `http://AUTHORITY[/PATH]` → (authority, path, host), the host
/// being the authority without its `:port`; None if it is not `http://`.
pub fn http_parts(url: &str) -> Option<(&str, &str, &str)> {
    let rest = url.strip_prefix("http://")?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let host = match authority.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && !port.contains(']') => host,
        _ => authority,
    };
    Some((authority, path, host))
}

#[cfg(test)]
mod tests {
    #[test]
    fn http_urls_in_parts() {
        let table = [
            (
                "http://127.0.0.1:5000/up",
                Some(("127.0.0.1:5000", "/up", "127.0.0.1")),
            ),
            ("http://localhost", Some(("localhost", "/", "localhost"))),
            ("http://[::1]/x?y", Some(("[::1]", "/x?y", "[::1]"))),
            ("http://[::1]:$PORT/", Some(("[::1]:$PORT", "/", "[::1]"))),
            ("https://example.com/", None),
        ];
        for (url, want) in table {
            assert_eq!(super::http_parts(url), want, "{url}");
        }
    }

    use super::*;

    #[test]
    fn check_addresses() {
        let table = [
            ("127.0.0.1:5432", Some("127.0.0.1:5432")),
            ("localhost:80", Some("127.0.0.1:80")),
            ("[::1]:8080", Some("[::1]:8080")),
            ("db:5432", None),
            ("localhost:x", None),
            ("example.com:80", None),
        ];
        for (text, want) in table {
            let got = check_address(text).ok().map(|a| a.to_string());
            assert_eq!(got.as_deref(), want, "{text}");
        }
        for (host, ok) in [
            ("localhost", true),
            ("10.0.0.1", true),
            ("[::1]", true),
            ("$HOST", true),
            ("db", false),
            ("::1", false),
            ("", false),
        ] {
            assert_eq!(check_host_ok(host), ok, "{host}");
        }
    }

    #[test]
    fn listen_addresses() {
        let table = [
            ("9090", "0.0.0.0:9090"),
            ("127.0.0.1:9090", "127.0.0.1:9090"),
            ("[::1]:9090", "[::1]:9090"),
            ("0", "0.0.0.0:0"),
        ];
        for (text, want) in table {
            assert_eq!(
                parse_listen(text).map(|a| a.to_string()),
                Ok(want.into()),
                "{text}"
            );
        }
        for bad in ["", "localhost:9090", "65536", "1.2.3.4", ":9090", "[::1]"] {
            assert!(parse_listen(bad).is_err(), "{bad}");
        }
    }
}
