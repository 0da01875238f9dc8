//! Markdown: a summary table by rule and level, then the findings grouped by file. For
//! `$GITHUB_STEP_SUMMARY` and for pasting into a review.
//!
//! GitHub renders the summary as Markdown with HTML: file names and messages from a hostile
//! repository must not open HTML (`<img src=x onerror=…>`), close a code span early, or break a
//! table. Text is sanitised first (`super::sanitize`); outside code spans `<`, `>` and `&` become
//! entities and `\` and `` ` `` are backslash-escaped; a code span's fence is longer than any
//! run of backticks inside it; in a table `|` is escaped, and no cell holds a line break.

use std::collections::BTreeMap;

use crate::engine::Outcome;
use crate::finding::Level;

/// Plain text: no HTML, no code span, no backslash escape of what follows.
pub(crate) fn plain(s: &str, table: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' => {
                out.push('\\');
                out.push(c);
            }
            '|' if table => out.push_str("\\|"),
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

/// `s` as one code span: the fence is one backtick longer than the longest run inside, and a
/// space pads content that starts or ends with a backtick or a space (the padding is stripped
/// by the renderer). Inside a code span nothing is HTML.
pub(crate) fn code(s: &str, table: bool) -> String {
    let s = s.replace(['\n', '\r'], " ");
    let s = if table { s.replace('|', "\\|") } else { s };
    if s.is_empty() {
        return String::new();
    }
    let mut longest = 0;
    let mut run = 0;
    for c in s.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let pad = s.starts_with(['`', ' ']) || s.ends_with(['`', ' ']);
    let sp = if pad { " " } else { "" };
    format!("{fence}{sp}{s}{sp}{fence}")
}

/// A message, whose `` `code` `` parts stay code spans: the text between backticks alternates
/// plain and code, each rendered by `plain` or `code`; an unpaired last backtick is plain. Which
/// part is which may be decided by the scanned source (a backtick in a quoted line), but every
/// part is escaped for what it is, so neither can open HTML or swallow the other.
pub(crate) fn message(s: &str, table: bool) -> String {
    let s = super::sanitize(s);
    let parts: Vec<&str> = s.split('`').collect();
    let paired = if parts.len() % 2 == 1 { parts.len() } else { parts.len() - 1 };
    let mut out = String::with_capacity(s.len());
    for (i, p) in parts.iter().enumerate() {
        if i >= paired {
            out.push_str("\\`");
            out.push_str(&plain(p, table));
        } else if i % 2 == 0 {
            out.push_str(&plain(p, table));
        } else if p.is_empty() {
            out.push_str("\\`\\`");
        } else {
            out.push_str(&code(p, table));
        }
    }
    out
}

fn cell(s: &str) -> String {
    plain(&super::sanitize(s), true)
}

pub(crate) fn render(outcome: &Outcome) -> String {
    let mut out = String::from("## preflight\n\n");
    if outcome.findings.is_empty() {
        out.push_str(&format!("No findings in {} files.\n", outcome.files_scanned));
        return out;
    }
    let count = |l: Level| outcome.findings.iter().filter(|f| f.level == l).count();
    out.push_str(&format!(
        "**{} findings** in {} files: {} errors, {} warnings, {} notes.\n\n",
        outcome.findings.len(),
        outcome.files_scanned,
        count(Level::Error),
        count(Level::Warning),
        count(Level::Note)
    ));
    let mut by_rule: BTreeMap<(&str, Level), usize> = BTreeMap::new();
    for f in &outcome.findings {
        *by_rule.entry((f.rule.id, f.level)).or_default() += 1;
    }
    out.push_str("| rule | level | findings | checklist item |\n|---|---|---:|---|\n");
    for ((id, level), n) in &by_rule {
        let meta = crate::catalog::meta(id).expect("catalogue");
        out.push_str(&format!("| `{id}` | {level} | {n} | {} |\n", cell(meta.checklist)));
    }
    let mut by_file: BTreeMap<&str, Vec<&crate::finding::Finding>> = BTreeMap::new();
    for f in &outcome.findings {
        by_file.entry(&f.path).or_default().push(f);
    }
    for (path, fs) in by_file {
        out.push_str(&format!(
            "\n### {}\n\n| line | level | rule | message |\n|---:|---|---|---|\n",
            code(&super::sanitize(path), false)
        ));
        for f in fs {
            out.push_str(&format!("| {} | {} | `{}` | {} |\n", f.line, f.level, f.rule.id, message(&f.message, true)));
        }
    }
    if !outcome.notes.is_empty() {
        out.push_str(&format!(
            "\n<details><summary>{} files skipped or partly analysed</summary>\n\n",
            outcome.notes.len()
        ));
        for n in &outcome.notes {
            out.push_str(&format!("- {}: {}\n", code(&super::sanitize(&n.path), false), message(&n.message, false)));
        }
        out.push_str("\n</details>\n");
    }
    out
}
