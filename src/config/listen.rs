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

#[cfg(test)]
mod tests {
    use super::*;

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
