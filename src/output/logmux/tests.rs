//! Tests of the log mux.

use super::*;

fn pieces(data: &[u8], at_eof: bool) -> (Vec<(Vec<u8>, bool)>, usize) {
    let mut out = Vec::new();
    let used = frame(data, at_eof, false, |p, partial| {
        out.push((p.to_vec(), partial));
        true
    });
    (out, used)
}

#[test]
fn whole_lines_and_an_unfinished_one() {
    let (out, used) = pieces(b"a\n\nbc\nd", false);
    assert_eq!(
        out,
        [
            (b"a".to_vec(), false),
            (vec![], false),
            (b"bc".to_vec(), false)
        ]
    );
    assert_eq!(used, 6);
    let (out, used) = pieces(b"d", true);
    assert_eq!(out, [(b"d".to_vec(), false)]);
    assert_eq!(used, 1);
}

#[test]
fn long_lines_are_cut_at_16_kib_and_join_back() {
    for len in [MAX_LINE - 1, MAX_LINE, MAX_LINE + 1, 2 * MAX_LINE, 100_000] {
        let mut line: Vec<u8> = (0..len).map(|i| (i % 251) as u8 | 1).collect();
        line.retain(|b| *b != b'\n');
        let mut data = line.clone();
        data.push(b'\n');
        let (out, used) = pieces(&data, false);
        assert_eq!(used, data.len(), "len {len}");
        assert!(out.iter().all(|(p, _)| p.len() <= MAX_LINE));
        let (last, firsts) = out.split_last().expect("pieces");
        assert!(
            !last.1 && firsts.iter().all(|(_, partial)| *partial),
            "len {len}"
        );
        let joined: Vec<u8> = out.iter().flat_map(|(p, _)| p.clone()).collect();
        assert_eq!(joined, line, "len {len}");
    }
}

#[test]
fn stops_when_emit_refuses() {
    let mut n = 0;
    let used = frame(b"a\nb\nc\n", false, false, |_, _| {
        n += 1;
        n <= 2
    });
    assert_eq!(used, 4);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
    /// The framer's invariant, for any bytes cut into any chunks: the pieces join back to
    /// the input, no piece holds a newline or more than 16 KiB, and only pieces that the
    /// next one continues are partial.
    #[test]
    fn framing_preserves_every_byte(
        data in proptest::collection::vec(
            proptest::prop_oneof![9 => proptest::num::u8::ANY, 1 => proptest::strategy::Just(b'\n')],
            0..70_000,
        ),
        cuts in proptest::collection::vec(1usize..20_000, 1..8),
    ) {
        let mut pending: Vec<u8> = Vec::new();
        let mut out: Vec<u8> = Vec::new();
        let mut fed = 0;
        let mut cut = cuts.iter().cycle();
        while fed < data.len() {
            let step = (*cut.next().expect("cycle")).min(data.len() - fed);
            pending.extend_from_slice(&data[fed..fed + step]);
            fed += step;
            let at_eof = fed == data.len();
            let used = frame(&pending, at_eof, false, |piece, partial| {
                assert!(piece.len() <= MAX_LINE && !piece.contains(&b'\n'));
                assert!(!partial || piece.len() == MAX_LINE);
                out.extend_from_slice(piece);
                if !partial {
                    out.push(b'\n');
                }
                true
            });
            pending.drain(..used);
        }
        proptest::prop_assert!(pending.is_empty());
        let mut want = data.clone();
        if !want.is_empty() && !want.ends_with(b"\n") {
            want.push(b'\n');
        }
        proptest::prop_assert_eq!(out, want);
    }
}

mod sources {
    use super::super::sources::Sources;
    use super::*;
    use std::os::fd::OwnedFd;

    fn pipe() -> (OwnedFd, OwnedFd) {
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC | nix::fcntl::OFlag::O_NONBLOCK)
            .expect("pipe")
    }

    fn ready(sources: &Sources, stream: Stream) -> Vec<usize> {
        let mut out = Vec::new();
        sources.ready(stream, &mut out);
        out.sort_unstable();
        out
    }

    #[test]
    fn only_the_pipes_with_input_are_handed_over_per_stream() {
        let mut sources = Sources::new();
        assert!(
            sources.set_fd(Stream::Stdout).is_none(),
            "no set before a pipe"
        );
        let mut writers = Vec::new();
        for i in 0..1000 {
            let (r, w) = pipe();
            let stream = if i % 2 == 0 {
                Stream::Stdout
            } else {
                Stream::Stderr
            };
            sources.add(i, stream, r, false).expect("add");
            writers.push(w);
        }
        assert_eq!(sources.open(), 1000);
        assert!(ready(&sources, Stream::Stdout).is_empty());
        for id in [4, 500, 998, 7] {
            nix::unistd::write(&writers[id], b"x\n").expect("write");
        }
        assert_eq!(ready(&sources, Stream::Stdout), [4, 500, 998]);
        assert_eq!(ready(&sources, Stream::Stderr), [7]);
        // A writer that goes away is an EOF: readable too.
        writers[10] = pipe().1;
        assert_eq!(ready(&sources, Stream::Stdout), [4, 10, 500, 998]);
    }

    #[test]
    fn a_closed_source_leaves_its_set_and_its_id_is_reused_once_emptied() {
        let mut sources = Sources::new();
        let (r0, w0) = pipe();
        let (r1, _w1) = pipe();
        sources.add(0, Stream::Stdout, r0, false).expect("add");
        sources.add(1, Stream::Stdout, r1, false).expect("add");
        nix::unistd::write(&w0, b"tail").expect("write");
        sources.close(0);
        sources.get_mut(0).expect("source 0").pending = b"tail".to_vec();
        sources.settle(0);
        assert_eq!(sources.open(), 2, "closed but holding bytes");
        assert!(ready(&sources, Stream::Stdout).is_empty());
        sources.get_mut(0).expect("source 0").pending.clear();
        sources.settle(0);
        assert_eq!(sources.open(), 1);
        let (r2, _w2) = pipe();
        sources.add(2, Stream::Stderr, r2, false).expect("add");
        assert_eq!(sources.get(0).map(|s| s.label), Some(2), "id 0 reused");
    }

    #[test]
    fn a_source_holding_more_than_a_line_is_not_read_until_it_is_emitted() {
        let mut sources = Sources::new();
        let (r, w) = pipe();
        sources.add(0, Stream::Stdout, r, false).expect("add");
        nix::unistd::write(&w, b"more\n").expect("write");
        assert_eq!(ready(&sources, Stream::Stdout), [0]);
        sources.get_mut(0).expect("source").pending = vec![b'a'; MAX_LINE + 1];
        sources.settle(0);
        assert!(ready(&sources, Stream::Stdout).is_empty(), "disarmed");
        sources
            .get_mut(0)
            .expect("source")
            .pending
            .truncate(MAX_LINE);
        sources.settle(0);
        assert_eq!(ready(&sources, Stream::Stdout), [0], "armed again");
    }
}

/// The loop's contract with `pump`, driven as the supervisor drives it: poll what `interest`
/// names, act on it, `pump`, again. A sink that takes everything at once (a regular file, so
/// it never asks for POLLOUT) and a pipe already at EOF (so it has no fd): lines held back
/// past the high-water mark must still all come out, without the loop ever having nothing to
/// wait for while lines are held. (`pump` once made a single pass over the held lines; the
/// loop then slept until the stop's grace ended, 1 run in 6 of the pid1 flood test.)
#[test]
fn held_lines_come_out_when_the_sink_takes_all_and_the_pipe_is_at_eof() {
    use nix::poll::{PollFd, PollTimeout, poll};
    use std::io::{Read, Seek, Write};
    let style = Style {
        format: LogFormat::Text,
        color: [false, false],
        timestamps: false,
    };
    let mut mux = LogMux::new(style, &[("web.1".to_string(), 0)], false);
    let path = std::env::temp_dir().join(format!("formation-pump-{}", std::process::id()));
    let mut file = std::fs::File::options()
        .create(true)
        .truncate(true)
        .read(true)
        .write(true)
        .open(&path)
        .expect("temp file");
    let _ = std::fs::remove_file(&path);
    let sink = Sink::new(file.as_fd()).expect("a file sink");
    mux.sinks = [Lazy::Opened(Some(sink)), Lazy::Opened(None)];

    // 4 × HIGH_WATER of short lines, written whole before the first read, then EOF: each
    // read takes 64 KiB, whose lines with their prefix fill the sink's room ~3 times over.
    let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).expect("pipe");
    nix::fcntl::fcntl(&r, nix::fcntl::FcntlArg::F_SETPIPE_SZ(1 << 20)).expect("pipe size");
    let lines = 4 * HIGH_WATER / 7;
    let mut writer = std::fs::File::from(w);
    for i in 0..lines {
        writeln!(writer, "{i:06}").expect("write");
    }
    drop(writer);
    nix::fcntl::fcntl(
        &r,
        nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
    )
    .expect("non-blocking");
    mux.add_source(0, Stream::Stdout, r).expect("add");

    for turn in 0.. {
        assert!(turn < 10_000, "the loop does not end");
        if mux.open_sources() == 0 {
            break;
        }
        let interest: Vec<(Token, BorrowedFd<'_>, PollFlags)> = mux.interest().collect();
        assert!(
            !interest.is_empty(),
            "turn {turn}: lines are held, and nothing would wake the loop for them"
        );
        let mut fds: Vec<PollFd> = interest
            .iter()
            .map(|(_, fd, f)| PollFd::new(*fd, *f))
            .collect();
        let n = poll(&mut fds, PollTimeout::from(1000u16)).expect("poll");
        assert!(n > 0, "turn {turn}: waited a second for nothing");
        let tokens: Vec<Token> = interest
            .iter()
            .zip(&fds)
            .filter(|(_, fd)| fd.revents().is_some_and(|r| !r.is_empty()))
            .map(|((token, ..), _)| *token)
            .collect();
        drop(interest);
        for token in tokens {
            mux.ready(token);
        }
        mux.pump();
    }
    let mut out = String::new();
    file.rewind().expect("rewind");
    file.read_to_string(&mut out).expect("read");
    let got: Vec<&str> = out.lines().collect();
    assert_eq!(got.len(), lines, "every line, once");
    for (i, line) in got.iter().enumerate() {
        assert!(
            line.ends_with(&format!("| {i:06}")),
            "line {i} in order: {line:?}"
        );
    }
}

/// What the mux writes to our stdout for `input`, written by one instance `web.1` into a pipe
/// before the first read (then EOF), with `style`.
fn through_mux(style: Style, input: &[u8]) -> Vec<u8> {
    use std::io::{Read, Seek, Write};
    let mut mux = LogMux::new(style, &[("web.1".to_string(), 0)], false);
    let path = std::env::temp_dir().join(format!(
        "formation-mux-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let mut file = std::fs::File::options()
        .create(true)
        .truncate(true)
        .read(true)
        .write(true)
        .open(&path)
        .expect("temp file");
    let _ = std::fs::remove_file(&path);
    let sink = Sink::new(file.as_fd()).expect("a file sink");
    mux.sinks = [Lazy::Opened(Some(sink)), Lazy::Opened(None)];
    let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).expect("pipe");
    nix::fcntl::fcntl(&r, nix::fcntl::FcntlArg::F_SETPIPE_SZ(1 << 20)).expect("pipe size");
    let mut writer = std::fs::File::from(w);
    writer.write_all(input).expect("write");
    drop(writer);
    mux.add_source(0, Stream::Stdout, r).expect("add");
    for turn in 0.. {
        assert!(turn < 10_000, "the mux does not finish");
        if mux.open_sources() == 0 {
            break;
        }
        mux.ready(Token::Sources(Stream::Stdout));
        mux.pump();
    }
    let mut out = Vec::new();
    file.rewind().expect("rewind");
    file.read_to_end(&mut out).expect("read");
    out
}

#[test]
fn json_merges_whole_lines_only_never_the_last_piece_of_a_cut_one() {
    let style = Style {
        format: LogFormat::Json,
        color: [false, false],
        timestamps: false,
    };
    let mut input = b"{\"a\":1}\n".to_vec();
    input.extend(vec![b'x'; MAX_LINE]);
    input.extend(b"{\"b\":2}\n{\"c\":3}");
    let out = through_mux(style, &input);
    let lines: Vec<serde_json::Value> = out
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).expect("JSON"))
        .collect();
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert_eq!(
        (&lines[0]["a"], &lines[0]["proc"]),
        (&1.into(), &"web.1".into())
    );
    assert_eq!(lines[1]["partial"], true);
    assert_eq!(
        lines[2]["line"], "{\"b\":2}",
        "the end of a cut line stays a string"
    );
    assert_eq!(lines[3]["c"], 3, "a last line without newline is whole");
}
