//! Human output: `path:line:col: level[rule-id] message`, the source line with a caret under the
//! span, a help line; notes and the summary go to stderr.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::sanitize;
use crate::engine::Outcome;
use crate::finding::{Finding, Level};

pub(crate) struct Style {
    pub color: bool,
}

impl Style {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
}

fn level_code(l: Level) -> &'static str {
    match l {
        Level::Error => "1;31",
        Level::Warning => "1;33",
        Level::Note => "1;36",
    }
}

pub(crate) fn findings(outcome: &Outcome, style: &Style) -> String {
    let mut out = String::new();
    for f in super::by_level(&outcome.findings) {
        finding(&mut out, f, style);
    }
    out
}

/// One finding as the text report shows it (location, message, source line with a caret, help),
/// without colour: the code frame of the HTML report.
pub(crate) fn frame(f: &Finding) -> String {
    let mut out = String::new();
    finding(&mut out, f, &Style { color: false });
    out
}

/// Longest source line shown in full, in characters.
const MAX_SHOWN: usize = 160;

fn finding(out: &mut String, f: &Finding, style: &Style) {
    let head = format!("{}:{}:{}:", sanitize(&f.path), f.line, f.col);
    let level = style.paint(level_code(f.level), &format!("{}[{}]", f.level, f.rule.id));
    let _ = writeln!(out, "{} {} {}", style.paint("1", &head), level, sanitize(&f.message));
    if f.snippet.is_empty() {
        out.push('\n');
        return;
    }
    let num = f.line.to_string();
    let pad = " ".repeat(num.len());
    let chars: Vec<char> = f.snippet.chars().collect();
    // Caret under the span (to the end of the line when the span continues below).
    let start = f.col.saturating_sub(1).saturating_sub(f.snippet_from).min(chars.len());
    let end = if f.end_line == f.line {
        f.end_col.saturating_sub(1).saturating_sub(f.snippet_from).min(chars.len())
    } else {
        chars.len()
    };
    // A long line (minified code, a generated table) is shown as a window around the span.
    let (from, to) = if chars.len() <= MAX_SHOWN {
        (0, chars.len())
    } else {
        let from = start.saturating_sub(MAX_SHOWN / 3);
        (from, (from + MAX_SHOWN).min(chars.len()))
    };
    let width = |cs: &[char]| {
        cs.iter().map(|&c| if c == '\t' { 4 } else { sanitize(&c.to_string()).chars().count() }).sum::<usize>()
    };
    let shown: String = chars[from..to].iter().collect();
    let line = format!(
        "{}{}{}",
        if from + f.snippet_from > 0 { "…" } else { "" },
        sanitize(&shown.replace('\t', "    ")),
        if to < chars.len() { "…" } else { "" }
    );
    let lead = usize::from(from + f.snippet_from > 0) + width(&chars[from..start.max(from)]);
    let span = width(&chars[start.clamp(from, to)..end.clamp(from, to).max(start.clamp(from, to))]).max(1);
    let _ = writeln!(out, "{pad} |");
    let _ = writeln!(out, "{num} | {line}");
    let _ = writeln!(out, "{pad} | {}{}", " ".repeat(lead), style.paint(level_code(f.level), &"^".repeat(span)));
    let _ = writeln!(out, "{pad} = help: `preflight rule {}` explains why and shows the fix", f.rule.id);
    out.push('\n');
}

/// Files shown with the same note before the rest are counted.
const NOTES_OF_A_KIND: usize = 5;

/// Notes and the summary, for stderr.
pub(crate) fn summary(outcome: &Outcome, style: &Style) -> String {
    let mut out = String::new();
    // Many files with one and the same note (a PDF viewer's fonts: "binary file, skipped") are
    // shown by their first few and a count; SARIF lists every one (tool execution notifications).
    let mut same: BTreeMap<&str, usize> = BTreeMap::new();
    for n in &outcome.notes {
        *same.entry(n.message.as_str()).or_default() += 1;
    }
    let mut shown: BTreeMap<&str, usize> = BTreeMap::new();
    for n in &outcome.notes {
        let k = shown.entry(n.message.as_str()).or_default();
        *k += 1;
        let total = same[n.message.as_str()];
        if total <= NOTES_OF_A_KIND || *k < NOTES_OF_A_KIND {
            let _ = writeln!(out, "{}: note: {}", sanitize(&n.path), sanitize(&n.message));
        } else if *k == NOTES_OF_A_KIND {
            let more = total - (NOTES_OF_A_KIND - 1);
            let _ = writeln!(
                out,
                "… and {more} more files: note: {} (`--format sarif` lists every one)",
                sanitize(&n.message)
            );
        }
    }
    let mut per_rule: BTreeMap<&str, (Level, usize)> = BTreeMap::new();
    for f in &outcome.findings {
        per_rule.entry(f.rule.id).or_insert((f.level, 0)).1 += 1;
    }
    let n = outcome.findings.len();
    let files = outcome.files_scanned;
    let secs = outcome.elapsed.as_secs_f64();
    if n == 0 {
        let _ = writeln!(out, "{} no findings in {files} files ({secs:.2}s)", style.paint("1;32", "✓"));
        return out;
    }
    let _ = writeln!(
        out,
        "{} {n} finding{} in {files} files ({secs:.2}s):",
        style.paint("1", "✗"),
        if n == 1 { "" } else { "s" }
    );
    for (id, (level, count)) in per_rule {
        let _ = writeln!(out, "  {count:>5}  {:<8} {id}", level.as_str());
    }
    out
}
