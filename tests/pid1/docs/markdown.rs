//! Just enough Markdown to check the documentation: fenced code blocks with their tag, the
//! links outside them, and the anchors GitHub gives headings. No Markdown crate: the docs use
//! one fence style (three backticks at the start of a line, possibly indented inside a list)
//! and inline links, and a checker that understood more than the docs use would prove less.

use std::path::{Path, PathBuf};

/// The documentation: README.md, every docs/*.md and every examples/*/README.md (the
/// walk-throughs), in a stable order.
pub fn files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![root.join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs/ exists")
        .map(|e| e.expect("read docs/").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    let mut examples: Vec<PathBuf> = std::fs::read_dir(root.join("examples"))
        .expect("examples/ exists")
        .map(|e| e.expect("read examples/").path().join("README.md"))
        .filter(|p| p.is_file())
        .collect();
    examples.sort();
    files.extend(examples);
    files
}

/// A file's name relative to the repository, for messages.
pub fn name(path: &Path) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// One fenced code block.
pub struct Block {
    /// The line of its opening fence (1-based).
    pub line: usize,
    /// The fence's first word: `toml`, `procfile`, `sh`, `dockerfile`… (empty for none).
    pub lang: String,
    /// The rest of the fence line: `error` for an example that must fail.
    pub info: String,
    /// The lines between the fences, without the fence's indentation.
    pub body: String,
}

/// A fence opens or closes a block: three backticks (not four: ```` ```x ```` in prose is
/// inline code) after optional indentation.
fn fence(line: &str) -> Option<(usize, &str)> {
    let trimmed = line.trim_start();
    let rest = trimmed.strip_prefix("```")?;
    if rest.starts_with('`') {
        return None;
    }
    Some((line.len() - trimmed.len(), rest.trim()))
}

/// The fenced blocks of a document, and the document with them blanked out (same line
/// numbers), where links and headings are looked for.
pub fn split(text: &str) -> (Vec<Block>, String) {
    let mut blocks = Vec::new();
    let mut prose = String::new();
    let mut open: Option<(Block, usize)> = None;
    for (i, line) in text.lines().enumerate() {
        match (&mut open, fence(line)) {
            (None, Some((indent, tag))) => {
                let (lang, info) = tag.split_once(' ').unwrap_or((tag, ""));
                let block = Block {
                    line: i + 1,
                    lang: lang.to_ascii_lowercase(),
                    info: info.trim().to_string(),
                    body: String::new(),
                };
                open = Some((block, indent));
            }
            (Some(_), Some((_, ""))) => blocks.push(open.take().expect("open block").0),
            (Some((block, indent)), _) => {
                let cut = line.len() - line.trim_start().len();
                block.body.push_str(&line[cut.min(*indent)..]);
                block.body.push('\n');
            }
            (None, None) => prose.push_str(line),
        }
        prose.push('\n');
    }
    assert!(open.is_none(), "a code block is never closed");
    (blocks, prose)
}

/// The targets of the inline links `[text](target)` in prose, with their lines.
pub fn links(prose: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (i, line) in prose.lines().enumerate() {
        // Inline code is not a link: `a[0](x)` in backticks is text.
        let mut outside = String::new();
        for (n, part) in line.split('`').enumerate() {
            if n % 2 == 0 {
                outside.push_str(part);
            }
            outside.push(' ');
        }
        let mut rest = outside.as_str();
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let end = after.find(')').unwrap_or(after.len());
            let target = after[..end].split_whitespace().next().unwrap_or("");
            found.push((i + 1, target.to_string()));
            rest = &after[end..];
        }
    }
    found
}

/// The anchors GitHub makes of a document's headings: lower case, punctuation but `-` and `_`
/// dropped, spaces as `-`, and `-1`, `-2`… for a repeated one.
pub fn anchors(prose: &str) -> Vec<String> {
    let mut bases: Vec<String> = Vec::new();
    let mut anchors = Vec::new();
    for line in prose.lines() {
        let Some(title) = line.strip_prefix('#') else {
            continue;
        };
        let title = title.trim_start_matches('#');
        if !title.starts_with(' ') {
            continue;
        }
        let slug: String = title
            .trim()
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
            .map(|c| if c == ' ' { '-' } else { c })
            .collect();
        let before = bases.iter().filter(|b| **b == slug).count();
        anchors.push(if before == 0 {
            slug.clone()
        } else {
            format!("{slug}-{before}")
        });
        bases.push(slug);
    }
    anchors
}

#[test]
fn the_markdown_reader_finds_blocks_links_and_anchors() {
    let text = "# A title: `x`\n\nSee [b](b.md#c-d) and `[no](link)`.\n\n- a list\n\n  ```toml error\n  a = 1\n  ```\n\n```` ```sh ```` is prose.\n## A title: `x`\n";
    let (blocks, prose) = split(text);
    assert_eq!(blocks.len(), 1);
    assert_eq!((blocks[0].line, blocks[0].lang.as_str()), (7, "toml"));
    assert_eq!(
        (blocks[0].info.as_str(), blocks[0].body.as_str()),
        ("error", "a = 1\n")
    );
    assert_eq!(links(&prose), [(3, "b.md#c-d".to_string())]);
    assert_eq!(anchors(&prose), ["a-title-x", "a-title-x-1"]);
}
