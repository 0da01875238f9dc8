//! Output formats. Every reporter receives findings already sorted, fingerprinted and redacted,
//! so none of them can reorder output or leak a secret.

pub mod github;
pub mod gitlab;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod sarif;
pub mod text;

/// Findings in the order people and annotation limits want them: errors first, then warnings,
/// then notes; by path, line and column within a level (the order they come in). GitHub shows
/// at most 10 annotations per level and step, so errors must come before warnings.
pub fn by_level(findings: &[crate::finding::Finding]) -> Vec<&crate::finding::Finding> {
    let mut v: Vec<&crate::finding::Finding> = findings.iter().collect();
    v.sort_by_key(|f| std::cmp::Reverse(f.level));
    v
}

/// Replaces terminal control characters from scanned content or file names with visible
/// escapes, so a hostile repository cannot rewrite the user's terminal.
pub fn sanitize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() && c != '\t'
            || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    out
}
