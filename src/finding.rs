//! Findings, their levels and their fingerprints.
//!
//! A fingerprint identifies a finding across edits that do not touch it: it hashes the rule id,
//! the path and the whitespace-normalised text of the flagged line (or, for secrets, a hash of the
//! secret), plus the occurrence index among equal keys in the same file. Line numbers are not in
//! it, so a finding keeps its fingerprint when lines above it move.

use std::fmt;

use crate::registry::RuleMeta;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Note,
    Warning,
    Error,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Note => "note",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One reported problem. Positions are 1-based; `end_col` is the column just past the span
/// (SARIF's convention). Columns count Unicode scalar values.
#[derive(Clone, Debug)]
pub struct Finding {
    pub rule: &'static RuleMeta,
    pub level: Level,
    pub path: String,
    pub line: usize,
    pub col: usize,
    pub end_line: usize,
    pub end_col: usize,
    pub message: String,
    /// The flagged source line, already redacted where the rule asked for it; on a very long
    /// line, a window of it around the finding (see `clip_line`).
    pub snippet: String,
    /// Characters of the line left out before `snippet` (0 unless the line was clipped).
    pub snippet_from: usize,
    /// What identifies the finding inside its file when the flagged line is not the right key
    /// (a secret's hash, say). `None` means the normalised snippet.
    pub key: Option<String>,
    pub fingerprint: String,
}

/// 64-bit FNV-1a: small, fixed output across platforms and releases (unlike `DefaultHasher`).
pub fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for &b in *part {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        // Separator, so ("ab","c") and ("a","bc") differ.
        h ^= 0xff;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn normalise(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Sorts findings into report order and fills in their fingerprints. Sorting by
/// (path, line, column, rule) makes output independent of thread scheduling.
pub fn finalize(findings: &mut Vec<Finding>) {
    findings.sort_by(|a, b| {
        (&a.path, a.line, a.col, a.rule.id, &a.message).cmp(&(&b.path, b.line, b.col, b.rule.id, &b.message))
    });
    findings.dedup_by(|a, b| {
        a.path == b.path && a.line == b.line && a.col == b.col && a.rule.id == b.rule.id && a.message == b.message
    });
    let mut seen: std::collections::HashMap<(String, &str, String), usize> = std::collections::HashMap::new();
    for f in findings.iter_mut() {
        let key = f.key.clone().unwrap_or_else(|| normalise(&f.snippet));
        let n = seen.entry((f.path.clone(), f.rule.id, key.clone())).or_insert(0);
        let h = fnv1a(&[f.rule.id.as_bytes(), f.path.as_bytes(), key.as_bytes(), n.to_string().as_bytes()]);
        f.fingerprint = format!("{h:016x}");
        *n += 1;
    }
}

impl Finding {
    /// A finding spanning bytes `start..end` of `file`; the snippet is the first flagged line.
    pub fn at(
        rule: &'static RuleMeta,
        file: &crate::source::SourceFile,
        start: usize,
        end: usize,
        message: String,
    ) -> Self {
        let (line, col) = file.position(start);
        let end = end.max(start);
        let (end_line, end_col) = file.position(end);
        // A span ending at a line break is reported as ending on the line it covers.
        let (end_line, end_col) = if end_line > line && end_col == 1 && end > start {
            let prev = end_line - 2;
            (end_line - 1, file.line_text(prev).chars().count() + 1)
        } else {
            (end_line, end_col)
        };
        let mut f = Finding {
            rule,
            level: rule.level,
            path: file.rel.clone(),
            line,
            col,
            end_line,
            end_col: if end_line == line && end_col <= col { col + 1 } else { end_col },
            message,
            snippet: String::new(),
            snippet_from: 0,
            key: None,
            fingerprint: String::new(),
        };
        let (window, from) = file.line_window(line - 1, start);
        f.snippet = window.to_string();
        f.snippet_from = from;
        f
    }

    /// Sets the snippet from the flagged line, clipped to a window around the finding when the
    /// line is long (a minified bundle is one line of megabytes; no finding copies all of it).
    pub fn set_snippet(&mut self, line: &str) {
        let (snippet, from) = clip_line(line, self.col);
        self.snippet = snippet;
        self.snippet_from = from;
    }

    pub fn whole_file(rule: &'static RuleMeta, rel: &str, message: String) -> Self {
        Finding {
            rule,
            level: rule.level,
            path: rel.to_string(),
            line: 1,
            col: 1,
            end_line: 1,
            end_col: 1,
            message,
            snippet: String::new(),
            snippet_from: 0,
            key: Some(String::new()),
            fingerprint: String::new(),
        }
    }
}

/// Source text for a message: whitespace runs collapsed to one space, cut to 60 characters.
pub fn excerpt(s: &str) -> String {
    let one: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() > 60 {
        format!("{}…", one.chars().take(59).collect::<String>())
    } else {
        one
    }
}

/// Longest snippet kept, in characters.
pub const MAX_SNIPPET: usize = 400;

/// `line`, or when it is longer than `MAX_SNIPPET` characters a window of it starting a little
/// before column `col` (1-based); with the number of characters left out before the window.
pub fn clip_line(line: &str, col: usize) -> (String, usize) {
    if line.len() <= MAX_SNIPPET || line.chars().count() <= MAX_SNIPPET {
        return (line.to_string(), 0);
    }
    let from = col.saturating_sub(1).saturating_sub(MAX_SNIPPET / 4);
    (line.chars().skip(from).take(MAX_SNIPPET).collect(), from)
}

/// A secret as it may appear in output: at most its first 4 characters, `…`, and its length.
pub fn redact(secret: &str) -> String {
    let n = secret.chars().count();
    let shown: String = if n >= 12 { secret.chars().take(4).collect() } else { String::new() };
    format!("\"{shown}…\" ({n} chars)")
}

/// A source line with `secret` redacted; every quoted string that contains part of the secret
/// is redacted too, so a secret split across concatenated literals does not leak piecewise.
pub fn redact_line(line: &str, secret: &str) -> String {
    let shown: String = if secret.chars().count() >= 12 { secret.chars().take(4).collect() } else { String::new() };
    let mut out = line.replace(secret, &format!("{shown}…"));
    // Quoted pieces of a concatenated secret.
    let mut result = String::with_capacity(out.len());
    let mut rest = out.as_str();
    while let Some(q) = rest.find(['"', '\'']) {
        let quote = rest.as_bytes()[q] as char;
        result.push_str(&rest[..=q]);
        let after = &rest[q + 1..];
        match after.find(quote) {
            Some(end) => {
                let piece = &after[..end];
                if piece.len() >= 4 && secret.contains(piece) {
                    result.push('…');
                } else {
                    result.push_str(piece);
                }
                result.push(quote);
                rest = &after[end + 1..];
            }
            None => {
                rest = after;
            }
        }
    }
    result.push_str(rest);
    out = result;
    out
}
