//! Markdown: a summary table by rule and level, then the findings grouped by file. For
//! `$GITHUB_STEP_SUMMARY` and for pasting into a review.

use std::collections::BTreeMap;

use crate::engine::Outcome;
use crate::finding::Level;

fn cell(s: &str) -> String {
    super::sanitize(s).replace('|', "\\|").replace('\n', " ")
}

pub fn render(outcome: &Outcome) -> String {
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
        let meta = crate::registry::meta(id).expect("catalogue");
        out.push_str(&format!("| `{id}` | {level} | {n} | {} |\n", cell(meta.checklist)));
    }
    let mut by_file: BTreeMap<&str, Vec<&crate::finding::Finding>> = BTreeMap::new();
    for f in &outcome.findings {
        by_file.entry(&f.path).or_default().push(f);
    }
    for (path, fs) in by_file {
        out.push_str(&format!("\n### `{}`\n\n| line | level | rule | message |\n|---:|---|---|---|\n", cell(path)));
        for f in fs {
            out.push_str(&format!("| {} | {} | `{}` | {} |\n", f.line, f.level, f.rule.id, cell(&f.message)));
        }
    }
    if !outcome.notes.is_empty() {
        out.push_str(&format!(
            "\n<details><summary>{} files skipped or partly analysed</summary>\n\n",
            outcome.notes.len()
        ));
        for n in &outcome.notes {
            out.push_str(&format!("- `{}`: {}\n", cell(&n.path), cell(&n.message)));
        }
        out.push_str("\n</details>\n");
    }
    out
}
