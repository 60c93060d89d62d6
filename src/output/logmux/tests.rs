//! Tests of the log mux.

use super::*;

fn pieces(data: &[u8], at_eof: bool) -> (Vec<(Vec<u8>, bool)>, usize) {
    let mut out = Vec::new();
    let used = frame(data, at_eof, |p, partial| {
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
    let used = frame(b"a\nb\nc\n", false, |_, _| {
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
            let used = frame(&pending, at_eof, |piece, partial| {
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
