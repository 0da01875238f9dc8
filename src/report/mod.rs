//! Output formats. Every reporter receives findings already sorted, fingerprinted and redacted,
//! so none of them can reorder output or leak a secret.

pub mod github;
pub mod json;
pub mod markdown;
pub mod sarif;
pub mod text;

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
