//! Inline suppressions: `# preflight: ignore[rule-id, other-id] optional reason` (or `//`,
//! `/* */`, `{# #}`, `<!-- -->`) on the flagged line or the line above it.
//!
//! A marker counts only after a comment opener on its line, so the words inside a string do not
//! suppress anything. A marker without ids suppresses nothing; the `blanket-suppression` rule
//! reports it.

use crate::source::SourceFile;

pub const MARKER: &str = "preflight: ignore";

/// One suppression comment: its 0-based line, its ids (empty for a blanket marker) and the byte
/// offset of the marker.
#[derive(Debug, Clone)]
pub struct Suppression {
    pub line: usize,
    pub ids: Vec<String>,
    pub offset: usize,
}

const OPENERS: &[&str] = &["#", "//", "/*", "{#", "<!--", "{/*"];

pub fn parse(file: &SourceFile) -> Vec<Suppression> {
    let mut out = Vec::new();
    if !file.text.contains(MARKER) {
        return out;
    }
    for line in 0..file.lines().len() {
        let text = file.line_text(line);
        let Some(pos) = text.find(MARKER) else {
            continue;
        };
        let before = text[..pos].trim_end();
        // The marker starts its comment (`x = 1  # preflight: ignore[...]`, also after another
        // tool's directive: `# noqa: E501  # preflight: ignore[...]`), so prose that quotes the
        // marker inside a comment does not count.
        if !OPENERS.iter().any(|o| before.ends_with(o)) || !opener_outside_quotes(before) {
            continue;
        }
        let after = &text[pos + MARKER.len()..];
        let ids = match after.strip_prefix('[').and_then(|a| a.split_once(']')) {
            Some((list, _)) => list.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
            None => Vec::new(),
        };
        out.push(Suppression { line, ids, offset: file.lines().line_start(line) + pos });
    }
    out
}

/// True when `before` holds a comment opener that is not inside a quoted string.
fn opener_outside_quotes(before: &str) -> bool {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in before.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match quote {
            Some(q) => {
                if c == '\\' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                }
            }
            None => {
                if matches!(c, '"' | '\'' | '`') {
                    quote = Some(c);
                } else if OPENERS.iter().any(|o| before[i..].starts_with(o)) {
                    return true;
                }
            }
        }
    }
    false
}

/// Whether a finding of `rule` on 1-based `line` is suppressed. `sups` is in line order (as
/// `parse` returns it), so only the markers on the line and the line above are looked at: a
/// file with many markers and many findings costs a binary search per finding, not a scan.
pub fn is_suppressed(sups: &[Suppression], rule: &str, line: usize) -> bool {
    let l0 = line.saturating_sub(1);
    let from = sups.partition_point(|s| s.line + 1 < l0);
    sups[from..]
        .iter()
        .take_while(|s| s.line <= l0)
        .any(|s| (s.line == l0 || s.line + 1 == l0) && s.ids.iter().any(|i| i == rule))
}
