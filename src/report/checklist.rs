//! The pre-deployment checklist as Markdown, for a pull-request comment or
//! `$GITHUB_STEP_SUMMARY`: every item with `- [x]` (passed, not applicable) or `- [ ]` (failed,
//! needs a human, not checked), its status and counts, then the findings of failed items and
//! what preflight judged. Escaping as in `markdown`: nothing from the repository opens HTML.

use std::fmt::Write as _;

use super::markdown::{code, message, plain};
use crate::checklist::{evaluate, totals, Status};
use crate::engine::Outcome;

/// Findings listed per failed item; the rest are counted.
const MAX_LISTED: usize = 10;

pub(crate) fn render(outcome: &Outcome) -> String {
    let results = evaluate(outcome);
    let mut out = String::from("## Pre-deployment checklist (preflight)\n\n");
    let t = totals(&results);
    let n = |k: &str| t.iter().find(|(key, _)| *key == k).map_or(0, |(_, n)| *n);
    let _ = writeln!(
        out,
        "**{} failed** · {} passed · {} need a human · {} not applicable · {} not checked — {} files checked\n",
        n("failed"),
        n("passed"),
        n("human"),
        n("na"),
        n("unchecked"),
        outcome.files_scanned
    );
    for s in &results {
        let _ = writeln!(out, "### {} · {}\n", plain(s.section.name, false), plain(s.section.name_ru, false));
        for i in &s.items {
            let (mark, what) = match &i.status {
                Status::Passed => ("x", "✅ passed".to_string()),
                Status::Failed { errors, warnings, notes } => {
                    let mut parts = Vec::new();
                    for (k, word) in [(errors, "error"), (warnings, "warning"), (notes, "note")] {
                        if *k > 0 {
                            parts.push(format!("{k} {word}{}", if *k == 1 { "" } else { "s" }));
                        }
                    }
                    (" ", format!("❌ failed: {}", parts.join(", ")))
                }
                Status::Human(how) => (" ", format!("👤 needs a human: {}", plain(how, false))),
                Status::NotApplicable(why) => ("x", format!("➖ not applicable: {}", plain(why, false))),
                Status::NotChecked => (" ", "⏸ not checked (rules not selected)".to_string()),
            };
            let rules: Vec<String> = i.item.rules.iter().map(|r| format!("`{r}`")).collect();
            let rules = if rules.is_empty() { String::new() } else { format!(" ({})", rules.join(", ")) };
            let _ = writeln!(
                out,
                "- [{mark}] **{}** · {} — {what}{rules}",
                plain(i.item.name, false),
                plain(i.item.name_ru, false)
            );
        }
        out.push('\n');
    }
    let failed: Vec<_> = results.iter().flat_map(|s| &s.items).filter(|i| !i.findings.is_empty()).collect();
    if !failed.is_empty() {
        out.push_str("### Findings of the failed items\n\n");
        for i in failed {
            let _ = writeln!(out, "<details><summary>{} ({})</summary>\n", plain(i.item.name, false), i.findings.len());
            for f in i.findings.iter().take(MAX_LISTED) {
                let loc = format!("{}:{}", f.path, f.line);
                let _ = writeln!(
                    out,
                    "- {} {} `{}`: {}",
                    code(&super::sanitize(&loc), false),
                    f.level,
                    f.rule.id,
                    message(&f.message, false)
                );
            }
            if i.findings.len() > MAX_LISTED {
                let _ =
                    writeln!(out, "- … and {} more (`preflight check` lists them all)", i.findings.len() - MAX_LISTED);
            }
            out.push_str("\n</details>\n\n");
        }
    }
    let facts = &outcome.facts;
    out.push_str("### What preflight judged\n\n");
    if facts.settings.is_empty() {
        let _ = writeln!(
            out,
            "- Production settings: none found{}",
            if facts.django { "" } else { " (no Django project)" }
        );
    }
    for r in &facts.settings {
        let chain: Vec<String> = r.chain.iter().map(|m| code(&super::sanitize(m), false)).collect();
        let _ = writeln!(
            out,
            "- Production settings {}: {}{}",
            code(&super::sanitize(&r.module), false),
            chain.join(" ← "),
            if r.open {
                " (imports a module the repository does not hold: unset settings left to the deployment)"
            } else {
                ""
            }
        );
    }
    let _ = writeln!(out, "- Django apps: {}; models read: {}", facts.apps.len(), facts.models);
    let roots: Vec<String> = facts.frontend_roots.iter().map(|r| code(&super::sanitize(r), false)).collect();
    let _ = writeln!(
        out,
        "- Front-end roots: {}; production files: {} Python, {} JS/TS",
        if roots.is_empty() { "none".to_string() } else { roots.join(", ") },
        facts.python_files,
        facts.frontend_files
    );
    if !outcome.notes.is_empty() {
        let _ = writeln!(out, "- {} files skipped or partly analysed (see `preflight check`)", outcome.notes.len());
    }
    out
}
