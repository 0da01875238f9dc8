//! Output formats. Every reporter receives findings already sorted, fingerprinted and redacted,
//! so none of them can reorder output or leak a secret.
//!
//! Scanned content and file names come from the repository, which may be hostile: every string a
//! person reads goes through `sanitize` (terminal and text formats) or `escape_json_invisible`
//! (JSON and SARIF), and the document formats escape their own syntax on top (`github`,
//! `markdown`).

pub(crate) mod checklist;
pub(crate) mod github;
pub(crate) mod gitlab;
pub(crate) mod html;
pub(crate) mod json;
pub(crate) mod junit;
pub(crate) mod markdown;
pub(crate) mod sarif;
pub(crate) mod text;

/// Findings in the order people and annotation limits want them: errors first, then warnings,
/// then notes; by path, line and column within a level (the order they come in). GitHub shows
/// at most 10 annotations per level and step, so errors must come before warnings.
pub(crate) fn by_level(findings: &[crate::finding::Finding]) -> Vec<&crate::finding::Finding> {
    let mut v: Vec<&crate::finding::Finding> = findings.iter().collect();
    v.sort_by_key(|f| std::cmp::Reverse(f.level));
    v
}

/// Characters a repository must not get onto a reader's screen raw: C0 and C1 controls and DEL
/// (terminal escape sequences, OSC 8 hyperlinks, carriage returns that overwrite a line), bidi
/// embeddings, overrides, isolates and marks (text that reads in another order than it runs),
/// zero-width characters and the word joiner (invisible text), and the line and paragraph
/// separators (line breaks that are not `\n`). A tab is kept.
pub(crate) fn is_hidden_char(c: char) -> bool {
    (c.is_control() && c != '\t')
        || matches!(c,
            '\u{061c}'                      // Arabic letter mark
            | '\u{200b}'..='\u{200f}'       // zero-width space, non-joiner, joiner; LRM, RLM
            | '\u{2028}'..='\u{202e}'       // line/paragraph separators; LRE, RLE, PDF, LRO, RLO
            | '\u{2060}'..='\u{2069}'       // word joiner, invisible operators; LRI, RLI, FSI, PDI
            | '\u{feff}'                    // zero-width no-break space (a BOM inside text)
        )
}

/// The one sanitiser for human-facing text: every hidden character (see `is_hidden_char`)
/// becomes a visible Rust-style escape, `\u{1b}`, `\u{202e}`, so a hostile repository can
/// neither rewrite the user's terminal nor make a line read differently from what it is.
pub(crate) fn sanitize(s: &str) -> String {
    if !s.chars().any(is_hidden_char) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if is_hidden_char(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

/// `sanitize` for a message of several lines (a config parse error quoting the file): each line
/// is sanitised, the line breaks between them are kept.
pub(crate) fn sanitize_lines(s: &str) -> String {
    s.split('\n').map(sanitize).collect::<Vec<_>>().join("\n")
}

/// Escapes, in serialised JSON, every hidden character that serde_json leaves raw (it escapes
/// only C0 controls): DEL, C1 controls, bidi controls, zero-width characters and line
/// separators become `\uXXXX`. Outside strings JSON holds only ASCII, so every such character is
/// inside a string, where the escape means the same character: the document stays valid and
/// equal in value.
pub(crate) fn escape_json_invisible(json: String) -> String {
    if !json.chars().any(|c| c >= '\u{7f}' && is_hidden_char(c)) {
        return json;
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if c >= '\u{7f}' && is_hidden_char(c) {
            // Every hidden character is in the Basic Multilingual Plane: one \u escape each.
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Sanitised text (`sanitize`) escaped for an element or a quoted attribute of HTML or XML: `&`,
/// `<`, `>`, `"` and `'` as entities (`apos` is the apostrophe's entity, `&#39;` or `&apos;`);
/// with `xml`, the noncharacters U+FFFE and U+FFFF, which XML 1.0 cannot hold, as visible escapes.
pub(crate) fn escape_markup(s: &str, apos: &str, xml: bool) -> String {
    let s = sanitize(s);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str(apos),
            '\u{fffe}' | '\u{ffff}' if xml => out.push_str(&c.escape_unicode().to_string()),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_escapes_every_hidden_class() {
        let s = "a\x1b[2J\x1b]8;;http://e/\x07b\u{202e}c\u{200b}d\u{2028}e\u{feff}f\u{85}g\x7fh\u{061c}\u{2066}\ti";
        assert_eq!(
            sanitize(s),
            "a\\u{1b}[2J\\u{1b}]8;;http://e/\\u{7}b\\u{202e}c\\u{200b}d\\u{2028}e\\u{feff}f\\u{85}g\\u{7f}h\\u{61c}\\u{2066}\ti"
        );
        assert_eq!(sanitize("plain é ✓"), "plain é ✓");
        assert_eq!(sanitize_lines("one\x1b\ntwo\r"), "one\\u{1b}\ntwo\\u{d}");
    }

    #[test]
    fn json_escape_keeps_value() {
        let v = serde_json::json!({"m": "x\u{202e}y\u{85}z\u{7f}\u{2028}\u{200b}\u{1b}é"});
        let s = escape_json_invisible(serde_json::to_string_pretty(&v).unwrap());
        assert_eq!(s, "{\n  \"m\": \"x\\u202ey\\u0085z\\u007f\\u2028\\u200b\\u001bé\"\n}");
        assert_eq!(serde_json::from_str::<serde_json::Value>(&s).unwrap(), v);
    }
}
