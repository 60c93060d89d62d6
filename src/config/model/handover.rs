//! Whether a string run by `/bin/sh -c` hands over to its program (SPEC §3.4 "the shell hands
//! over"): Debian's dash does not exec the last command of `-c` (busybox ash does), so `web:
//! puma -p $PORT` ran as a dash with puma as its child, and a forwarded HUP or USR1 killed the
//! dash — ending the instance — instead of reaching puma. One simple command gets `exec`
//! written before its program; for a compound string `check` says where to write it.
//!
//! Pure: a small scan of the text, aware of quotes, escapes, `$(…)`, backquotes and comments.
//! It never changes what the shell would run, only whether the shell stays as a parent.

/// What a shell string is, for the hand-over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// One simple command running a program: `exec ` goes in at this byte offset (after any
    /// leading assignments: `FOO=1 exec prog` keeps FOO for prog, `exec FOO=1 prog` would not).
    Simple(usize),
    /// One command whose first word is a builtin or keyword (`exec prog` already, `cd`, `if`):
    /// left as written.
    Builtin,
    /// Control operators or a subshell (`a && b`, `a; b`, `a | b`, `(a)`), or nothing to run.
    /// `last_exec`: the last command already starts with `exec`, so the shell hands over at
    /// its end. `traps`: the string sets a `trap`, so the shell handles signals itself.
    Compound { last_exec: bool, traps: bool },
}

/// Shell builtins and keywords that cannot follow `exec` (SPEC §3.4's list, and the keywords
/// that can start a line).
const BUILTINS: &[&str] = &[
    "exec", "exit", "cd", "export", "set", ".", "source", "eval", "ulimit", "umask", "trap", "if",
    "for", "while", "until", "case", "!", "{", "}", "[[", "function", "select", "time", "return",
    "shift", "unset", "readonly", "local", "wait", "alias", "read", "then", "do", "done", "fi",
    "esac", "elif", "else",
];

/// The shape of `text` (a string command run by `/bin/sh -c`).
pub fn shape(text: &str) -> Shape {
    // Words of the current command, as byte ranges, and whether a control operator or a
    // subshell was seen; the first word of the last command.
    let mut compound = false;
    let mut commands: Vec<Vec<(usize, usize)>> = vec![Vec::new()];
    let mut word: Option<usize> = None;
    let bytes = text.as_bytes();
    let (mut single, mut double, mut backquote) = (false, false, false);
    let mut depth = 0usize; // inside $( … )
    let mut i = 0;
    let end_word = |word: &mut Option<usize>, commands: &mut Vec<Vec<(usize, usize)>>, at| {
        if let (Some(start), Some(words)) = (word.take(), commands.last_mut()) {
            words.push((start, at));
        }
    };
    while i < bytes.len() {
        let b = bytes[i];
        if single {
            single = b != b'\'';
            i += 1;
            continue;
        }
        if b == b'\\' {
            word.get_or_insert(i);
            i += 2;
            continue;
        }
        if double {
            if b == b'"' {
                double = false;
            }
            i += 1;
            continue;
        }
        if backquote {
            backquote = b != b'`';
            i += 1;
            continue;
        }
        match b {
            b'\'' => single = true,
            b'"' => double = true,
            b'`' => backquote = true,
            b'$' if bytes.get(i + 1) == Some(&b'(') => {
                depth += 1;
                word.get_or_insert(i);
                i += 2;
                continue;
            }
            b'(' if depth > 0 => depth += 1,
            b')' if depth > 0 => depth -= 1,
            _ if depth > 0 => {}
            b'#' if word.is_none() => break,
            b' ' | b'\t' => {
                end_word(&mut word, &mut commands, i);
                i += 1;
                continue;
            }
            b'&' if i > 0 && matches!(bytes[i - 1], b'>' | b'<') => {}
            b';' | b'&' | b'|' | b'\n' | b'(' | b')' => {
                compound = true;
                end_word(&mut word, &mut commands, i);
                if commands.last().is_some_and(|c| !c.is_empty()) {
                    commands.push(Vec::new());
                }
                i += 1;
                continue;
            }
            _ => {}
        }
        word.get_or_insert(i);
        i += 1;
    }
    end_word(&mut word, &mut commands, bytes.len());
    let program = |words: &[(usize, usize)]| {
        words.iter().copied().find(|&(s, e)| {
            let w = &text[s..e];
            !assignment(w) && !redirection(w)
        })
    };
    let last = commands.iter().rev().find(|c| !c.is_empty());
    if compound {
        let last_exec = last
            .and_then(|c| program(c))
            .is_some_and(|(s, e)| &text[s..e] == "exec");
        let traps = commands
            .iter()
            .filter_map(|c| program(c))
            .any(|(s, e)| &text[s..e] == "trap");
        return Shape::Compound { last_exec, traps };
    }
    match last.and_then(|c| program(c)) {
        Some((s, e)) if BUILTINS.contains(&&text[s..e]) => Shape::Builtin,
        Some(_) => {
            let words = last.map(Vec::as_slice).unwrap_or_default();
            // After the leading assignments (a redirection before the program may stay
            // behind `exec`: `exec 2>&1 prog` works).
            let at = words
                .iter()
                .find(|&&(s, e)| !assignment(&text[s..e]))
                .map_or(0, |&(s, _)| s);
            Shape::Simple(at)
        }
        None => Shape::Compound {
            last_exec: false,
            traps: false,
        },
    }
}

/// `NAME=value`: a variable assignment before the command.
fn assignment(word: &str) -> bool {
    let Some((name, _)) = word.split_once('=') else {
        return false;
    };
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A redirection word (`>f`, `2>&1`, `<in`, `>>log`): digits then `<` or `>`.
fn redirection(word: &str) -> bool {
    word.trim_start_matches(|c: char| c.is_ascii_digit())
        .starts_with(['<', '>'])
}

/// The text `/bin/sh -c` runs: with `exec` written before the program of one simple command.
pub fn handed_over(text: &str) -> std::borrow::Cow<'_, str> {
    match shape(text) {
        Shape::Simple(at) => format!("{}exec {}", &text[..at], &text[at..]).into(),
        _ => text.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_simple_command_gets_exec_before_its_program() {
        let table = [
            ("puma -p $PORT", "exec puma -p $PORT"),
            (
                "bundle exec puma -C config/puma.rb",
                "exec bundle exec puma -C config/puma.rb",
            ),
            (
                "FOO=1 BAR=\"a b\" prog $X",
                "FOO=1 BAR=\"a b\" exec prog $X",
            ),
            ("prog > /tmp/log 2>&1", "exec prog > /tmp/log 2>&1"),
            ("prog 2>&1", "exec prog 2>&1"),
            ("2>&1 prog", "exec 2>&1 prog"),
            (
                "echo 'a; b && c' \"x | y\"",
                "exec echo 'a; b && c' \"x | y\"",
            ),
            (
                "server --name=$(hostname) --n $((1 + 2))",
                "exec server --name=$(hostname) --n $((1 + 2))",
            ),
            ("server --at `date; date`", "exec server --at `date; date`"),
            ("server a\\;b", "exec server a\\;b"),
            (
                "server # a comment; with && operators",
                "exec server # a comment; with && operators",
            ),
            ("  puma  ", "  exec puma  "),
        ];
        for (text, want) in table {
            assert_eq!(handed_over(text), want, "{text:?}");
        }
    }

    #[test]
    fn builtins_and_compound_strings_stay_as_written() {
        let table = [
            ("exec puma -p $PORT", Shape::Builtin),
            (
                "cd /srv && puma",
                Shape::Compound {
                    last_exec: false,
                    traps: false,
                },
            ),
            (
                "cd /srv && exec puma",
                Shape::Compound {
                    last_exec: true,
                    traps: false,
                },
            ),
            (
                "migrate; exec server",
                Shape::Compound {
                    last_exec: true,
                    traps: false,
                },
            ),
            (
                "a | b",
                Shape::Compound {
                    last_exec: false,
                    traps: false,
                },
            ),
            (
                "a || b",
                Shape::Compound {
                    last_exec: false,
                    traps: false,
                },
            ),
            (
                "a & wait",
                Shape::Compound {
                    last_exec: false,
                    traps: false,
                },
            ),
            (
                "a &> /dev/null",
                Shape::Compound {
                    last_exec: false,
                    traps: false,
                },
            ),
            (
                "(a)",
                Shape::Compound {
                    last_exec: false,
                    traps: false,
                },
            ),
            (
                "a\nb",
                Shape::Compound {
                    last_exec: false,
                    traps: false,
                },
            ),
            (
                "trap 'echo bye' TERM; while true; do sleep 1; done",
                Shape::Compound {
                    last_exec: false,
                    traps: true,
                },
            ),
            (
                "FOO=1",
                Shape::Compound {
                    last_exec: false,
                    traps: false,
                },
            ),
            ("if true", Shape::Builtin),
            ("ulimit -n 1024", Shape::Builtin),
        ];
        for (text, want) in table {
            assert_eq!(shape(text), want, "{text:?}");
            if !matches!(want, Shape::Simple(_)) {
                assert_eq!(handed_over(text), text, "{text:?}");
            }
        }
    }
}
