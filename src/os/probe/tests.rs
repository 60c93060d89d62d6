//! Tests of the check attempts: HTTP status lines, the socket set and the index of bounds.

use super::attempt::status;
use super::*;

#[test]
fn http_status_lines() {
    let table: [(&[u8], Result<(), &str>); 6] = [
        (b"HTTP/1.1 200 OK\r\n", Ok(())),
        (b"HTTP/1.0 302 Found\r\n", Ok(())),
        (b"HTTP/1.1 503 Service Unavailable\r\n", Err("answered 503")),
        (b"HTTP/1.1 404 Not Found\r\n", Err("answered 404")),
        (b"", Err("closed without an answer")),
        (
            b"SSH-2.0-OpenSSH\r\n",
            Err("not an HTTP answer: \"SSH-2.0-OpenSSH\""),
        ),
    ];
    for (answer, want) in table {
        assert_eq!(status(answer), want.map_err(String::from), "{answer:?}");
    }
}

#[test]
fn many_attempts_share_one_fd_and_each_reports_once() {
    let plan = Instance::new("t.1".into(), vec![], Duration::ZERO, StdioMode::Null);
    let open = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = open.local_addr().expect("addr").port();
    let now = Instant::now();
    let mut probes = Probes::default();
    assert!(probes.fd().is_none(), "no set before the first socket");
    // 100: within the listen backlog (128), so every handshake completes unaccepted.
    for slot in 0..100 {
        let kind = ProbeKind::Tcp(format!("127.0.0.1:{port}"));
        let bound = Duration::from_secs(10 + slot as u64);
        assert!(
            probes
                .start((slot, 1, Probe::Ready), &kind, &plan, bound, now)
                .is_none()
        );
    }
    assert!(probes.fd().is_some(), "one fd for all of them");
    let mut reported = std::collections::BTreeSet::new();
    for _ in 0..50 {
        reported.extend(
            probes
                .wait(nix::poll::PollTimeout::from(2000u16))
                .into_iter()
                .map(|(slot, run, _, r)| {
                    assert_eq!((run, r), (1, Ok(())), "slot {slot}");
                    slot
                }),
        );
        if reported.len() == 100 {
            break;
        }
    }
    assert_eq!(
        reported.len(),
        100,
        "every connect completed and reported once"
    );
    assert!(probes.fd().is_none(), "the set is empty again");
    assert_eq!(probes.next_deadline(), None);
}

#[test]
fn bounds_are_an_index_the_earliest_is_the_next_deadline_and_only_late_ones_expire() {
    let plan = Instance::new("t.1".into(), vec![], Duration::ZERO, StdioMode::Null);
    let now = Instant::now();
    let mut probes = Probes::default();
    // Connections to a port nobody listens on are refused at once, but they are only
    // looked at when the set is read: until then they are attempts under way.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    for (slot, secs) in [(0, 30), (1, 10), (2, 20)] {
        let kind = ProbeKind::Tcp(format!("127.0.0.1:{port}"));
        let bound = Duration::from_secs(secs);
        assert!(
            probes
                .start((slot, 7, Probe::Ready), &kind, &plan, bound, now)
                .is_none()
        );
    }
    assert_eq!(probes.next_deadline(), Some(now + Duration::from_secs(10)));
    let late = probes.expire(now + Duration::from_secs(20));
    let slots: Vec<usize> = late.iter().map(|r| r.0).collect();
    assert_eq!(slots, [1, 2]);
    assert!(
        late.iter()
            .all(|r| r.3 == Err("no answer in time".to_string()))
    );
    assert_eq!(probes.next_deadline(), Some(now + Duration::from_secs(30)));
    // The one left is refused: reported through the set, and gone from the index.
    let reports = probes.wait(nix::poll::PollTimeout::from(2000u16));
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].0, 0);
    assert!(reports[0].3.is_err(), "{reports:?}");
    assert_eq!(probes.next_deadline(), None);
    assert!(probes.fd().is_none());
}
