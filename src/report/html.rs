//! The checklist report as one self-contained HTML page: no network request (a Content Security
//! Policy forbids every source but the page's own inline style and script), works from
//! `file://`, readable in light and dark mode, printable. At the top the checklist with each
//! item's status; per failed item its findings with code frames, the fix and the rule's docs
//! (embedded, not linked); filters by rule, level and path; what preflight judged (settings
//! chains, apps, front-end roots); a bar chart of findings by checklist section.
//!
//! Everything from the repository (paths, messages, source lines) is sanitised
//! (`super::sanitize`) and HTML-escaped; secrets are already redacted in the findings.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use crate::catalog;
use crate::checklist::{evaluate, totals, Status};
use crate::engine::Outcome;

/// Text for an element or a quoted attribute.
fn h(s: &str) -> String {
    super::escape_markup(s, "&#39;", false)
}

const STYLE: &str = r#"
:root { color-scheme: light dark; --bg: #fff; --fg: #1b1f24; --muted: #57606a; --line: #d0d7de;
  --card: #f6f8fa; --fail: #cf222e; --pass: #1a7f37; --human: #9a6700; --na: #6e7781; --accent: #0969da; }
@media (prefers-color-scheme: dark) { :root { --bg: #0d1117; --fg: #e6edf3; --muted: #9198a1; --line: #30363d;
  --card: #161b22; --fail: #ff7b72; --pass: #3fb950; --human: #d29922; --na: #9198a1; --accent: #4493f8; } }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 72rem; padding: 1.5rem; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif;
  background: var(--bg); color: var(--fg); }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; } h2 { border-bottom: 1px solid var(--line); padding-bottom: .3rem; margin-top: 2rem; }
h3 { margin: 1.2rem 0 .4rem; } .ru { color: var(--muted); font-weight: normal; font-size: .9em; }
a { color: var(--accent); } .muted { color: var(--muted); }
.totals { display: flex; flex-wrap: wrap; gap: .5rem; margin: 1rem 0; padding: 0; list-style: none; }
.totals li { border: 1px solid var(--line); border-radius: .5rem; padding: .4rem .8rem; background: var(--card); }
.totals strong { font-size: 1.3rem; margin-right: .3rem; }
ul.items { list-style: none; padding: 0; margin: 0; } ul.items li { padding: .35rem .5rem; border-bottom: 1px solid var(--line); }
.badge { display: inline-block; min-width: 9.5rem; font-size: .8rem; font-weight: 600; text-transform: uppercase; letter-spacing: .02em; }
.s-failed .badge { color: var(--fail); } .s-passed .badge { color: var(--pass); } .s-human .badge { color: var(--human); }
.s-na .badge, .s-unchecked .badge { color: var(--na); }
.how { display: block; margin-left: 9.5rem; color: var(--muted); font-size: .9rem; }
form.filters { display: flex; flex-wrap: wrap; gap: 1rem; align-items: end; padding: .75rem; background: var(--card);
  border: 1px solid var(--line); border-radius: .5rem; position: sticky; top: 0; }
form.filters label { display: flex; flex-direction: column; font-size: .85rem; color: var(--muted); }
select, input { font: inherit; color: var(--fg); background: var(--bg); border: 1px solid var(--line); border-radius: .3rem; padding: .25rem .4rem; }
.finding { border: 1px solid var(--line); border-radius: .5rem; margin: .6rem 0; padding: .5rem .75rem; }
.finding[hidden] { display: none; }
.loc { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .85rem; }
.lvl-error { color: var(--fail); } .lvl-warning { color: var(--human); } .lvl-note { color: var(--na); }
pre { background: var(--card); border-radius: .3rem; padding: .5rem; overflow-x: auto; font-size: .82rem; margin: .4rem 0; }
.fix { border-left: 3px solid var(--pass); padding-left: .6rem; }
table { border-collapse: collapse; } td, th { text-align: left; padding: .2rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
svg text { fill: var(--fg); font-size: 12px; } svg rect.bar { fill: var(--fail); }
details { margin: .4rem 0; } summary { cursor: pointer; }
@media print { form.filters { display: none; } .finding[hidden] { display: block; } details { display: block; }
  details > * { display: block; } body { max-width: none; } a { color: inherit; } }
"#;

const SCRIPT: &str = r#"
(function () {
  var rule = document.getElementById('f-rule'), level = document.getElementById('f-level'),
      path = document.getElementById('f-path'), shown = document.getElementById('shown');
  var all = Array.prototype.slice.call(document.querySelectorAll('.finding'));
  function apply() {
    var r = rule.value, l = level.value, p = path.value.toLowerCase(), n = 0;
    all.forEach(function (f) {
      var ok = (!r || f.dataset.rule === r) && (!l || f.dataset.level === l) &&
               (!p || f.dataset.path.toLowerCase().indexOf(p) !== -1);
      f.hidden = !ok; if (ok) n++;
    });
    document.querySelectorAll('article.item').forEach(function (a) {
      a.hidden = !a.querySelector('.finding:not([hidden])');
    });
    shown.textContent = n + ' of ' + all.length + ' findings shown';
  }
  [rule, level].forEach(function (e) { e.addEventListener('change', apply); });
  path.addEventListener('input', apply);
  apply();
})();
"#;

pub(crate) fn render(outcome: &Outcome) -> String {
    let results = evaluate(outcome);
    let t = totals(&results);
    let n = |k: &str| t.iter().find(|(key, _)| *key == k).map_or(0, |(_, n)| *n);
    let mut o = String::with_capacity(64 * 1024);
    o.push_str("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    o.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    o.push_str(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; \
         script-src 'unsafe-inline'; img-src data:\">\n",
    );
    o.push_str("<title>Pre-deployment checklist · preflight</title>\n<style>");
    o.push_str(STYLE);
    o.push_str("</style>\n</head>\n<body>\n<header>\n<h1>Pre-deployment checklist</h1>\n");
    let _ = writeln!(
        o,
        "<p class=\"muted\">preflight {} · {} files checked · {} findings</p>",
        env!("CARGO_PKG_VERSION"),
        outcome.files_scanned,
        outcome.findings.len()
    );
    o.push_str("<ul class=\"totals\" aria-label=\"Items by status\">\n");
    for (key, word) in [
        ("failed", "failed"),
        ("passed", "passed"),
        ("human", "need a human"),
        ("na", "not applicable"),
        ("unchecked", "not checked"),
    ] {
        let _ = writeln!(o, "<li class=\"s-{key}\" data-total=\"{key}\"><strong>{}</strong>{word}</li>", n(key));
    }
    o.push_str("</ul>\n</header>\n<main>\n");

    // The checklist.
    o.push_str("<section aria-labelledby=\"h-checklist\">\n<h2 id=\"h-checklist\">Checklist</h2>\n");
    let mut item_no = 0;
    for s in &results {
        let _ = writeln!(
            o,
            "<h3>{} <span class=\"ru\" lang=\"ru\">{}</span></h3>",
            h(s.section.name),
            h(s.section.name_ru)
        );
        o.push_str("<ul class=\"items\">\n");
        for i in &s.items {
            item_no += 1;
            let detail = match &i.status {
                Status::Failed { errors, warnings, notes } => {
                    let mut parts = Vec::new();
                    for (k, word) in [(errors, "error"), (warnings, "warning"), (notes, "note")] {
                        if *k > 0 {
                            parts.push(format!("{k} {word}{}", if *k == 1 { "" } else { "s" }));
                        }
                    }
                    format!(" — <a href=\"#item-{item_no}\">{}</a>", parts.join(", "))
                }
                Status::Human(how) => format!("<span class=\"how\">{}</span>", h(how)),
                Status::NotApplicable(why) => format!(" — <span class=\"muted\">{}</span>", h(why)),
                Status::NotChecked => " — <span class=\"muted\">its rules were not selected</span>".to_string(),
                Status::Passed => String::new(),
            };
            let _ = writeln!(
                o,
                "<li class=\"s-{}\" data-item=\"{}\" data-status=\"{}\"><span class=\"badge\">{}</span>{} \
                 <span class=\"ru\" lang=\"ru\">{}</span>{detail}</li>",
                i.status.key(),
                h(i.item.name),
                i.status.key(),
                i.status.label(),
                h(i.item.name),
                h(i.item.name_ru),
            );
        }
        o.push_str("</ul>\n");
    }
    o.push_str("</section>\n");

    // Chart: findings by section.
    let per_section: Vec<(&str, usize)> =
        results.iter().map(|s| (s.section.name, s.items.iter().map(|i| i.findings.len()).sum())).collect();
    let max = per_section.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    o.push_str("<section aria-labelledby=\"h-chart\">\n<h2 id=\"h-chart\">Findings by section</h2>\n");
    let height = per_section.len() * 26 + 4;
    let _ = writeln!(
        o,
        "<svg role=\"img\" aria-labelledby=\"chart-title\" width=\"640\" height=\"{height}\" viewBox=\"0 0 640 {height}\">\
         <title id=\"chart-title\">Findings per checklist section</title>"
    );
    for (k, (name, count)) in per_section.iter().enumerate() {
        let y = k * 26 + 2;
        let w = count * 420 / max;
        let _ = write!(
            o,
            "<text x=\"0\" y=\"{}\">{}</text><rect class=\"bar\" x=\"150\" y=\"{y}\" width=\"{w}\" height=\"18\" rx=\"3\"/>\
             <text x=\"{}\" y=\"{}\">{count}</text>",
            y + 14,
            h(name),
            155 + w,
            y + 14
        );
    }
    o.push_str("</svg>\n</section>\n");

    // Findings, by failed item, with filters.
    o.push_str("<section aria-labelledby=\"h-findings\">\n<h2 id=\"h-findings\">Findings</h2>\n");
    let rules: BTreeSet<&str> = outcome.findings.iter().map(|f| f.rule.id).collect();
    o.push_str("<form class=\"filters\" role=\"search\" onsubmit=\"return false\">\n");
    o.push_str("<label for=\"f-rule\">Rule<select id=\"f-rule\"><option value=\"\">all rules</option>");
    for r in &rules {
        let _ = write!(o, "<option value=\"{r}\">{r}</option>");
    }
    o.push_str(
        "</select></label>\n<label for=\"f-level\">Level<select id=\"f-level\"><option value=\"\">all levels</option>",
    );
    o.push_str("<option value=\"error\">error</option><option value=\"warning\">warning</option><option value=\"note\">note</option>");
    o.push_str("</select></label>\n<label for=\"f-path\">Path contains<input id=\"f-path\" type=\"search\" autocomplete=\"off\"></label>\n");
    o.push_str("<p id=\"shown\" role=\"status\" aria-live=\"polite\"></p>\n</form>\n");
    if outcome.findings.is_empty() {
        o.push_str("<p>No findings.</p>\n");
    }
    let mut item_no = 0;
    for s in &results {
        for i in &s.items {
            item_no += 1;
            if i.findings.is_empty() {
                continue;
            }
            let _ = writeln!(o, "<article class=\"item\" id=\"item-{item_no}\">\n<h3>{}</h3>", h(i.item.name));
            for rule in i.item.rules {
                if let Some(meta) = catalog::meta(rule) {
                    if i.findings.iter().any(|f| f.rule.id == meta.id) {
                        let _ = writeln!(
                            o,
                            "<div class=\"fix\"><p><strong>Fix</strong> (<a href=\"#rule-{id}\">{id}</a>):</p><pre>{}</pre></div>",
                            h(meta.use_instead),
                            id = meta.id
                        );
                    }
                }
            }
            for f in &i.findings {
                let _ = writeln!(
                    o,
                    "<div class=\"finding\" data-rule=\"{}\" data-level=\"{}\" data-path=\"{}\">\
                     <p class=\"loc\">{}:{}:{} <span class=\"lvl-{}\">{}</span>[<a href=\"#rule-{}\">{}</a>]</p>\
                     <p>{}</p><pre>{}</pre></div>",
                    f.rule.id,
                    f.level,
                    h(&f.path),
                    h(&f.path),
                    f.line,
                    f.col,
                    f.level,
                    f.level,
                    f.rule.id,
                    f.rule.id,
                    h(&f.message),
                    h(super::text::frame(f).trim_end())
                );
            }
            o.push_str("</article>\n");
        }
    }
    o.push_str("</section>\n");

    // What was judged.
    let facts = &outcome.facts;
    o.push_str("<section aria-labelledby=\"h-facts\">\n<h2 id=\"h-facts\">What preflight judged</h2>\n<table>\n");
    let settings = if facts.settings.is_empty() {
        if facts.django {
            "none found".to_string()
        } else {
            "none (no Django project found)".to_string()
        }
    } else {
        facts
            .settings
            .iter()
            .map(|r| {
                let chain: Vec<String> = r.chain.iter().map(|m| format!("<code>{}</code>", h(m))).collect();
                format!(
                    "{}{}",
                    chain.join(" ← "),
                    if r.open {
                        " <span class=\"muted\">(imports a module the repository does not hold)</span>"
                    } else {
                        ""
                    }
                )
            })
            .collect::<Vec<_>>()
            .join("<br>")
    };
    let _ = writeln!(
        o,
        "<tr><th scope=\"row\">Production settings (and the modules in effect)</th><td>{settings}</td></tr>"
    );
    let apps: Vec<String> = facts.apps.iter().map(|a| format!("<code>{}</code>", h(a))).collect();
    let _ = writeln!(
        o,
        "<tr><th scope=\"row\">Django apps</th><td>{} {}</td></tr>",
        facts.apps.len(),
        if apps.is_empty() {
            String::new()
        } else {
            format!("<details><summary>list</summary>{}</details>", apps.join(" "))
        }
    );
    let _ = writeln!(o, "<tr><th scope=\"row\">Models read</th><td>{}</td></tr>", facts.models);
    let roots: Vec<String> = facts.frontend_roots.iter().map(|a| format!("<code>{}</code>", h(a))).collect();
    let _ = writeln!(
        o,
        "<tr><th scope=\"row\">Front-end roots</th><td>{}</td></tr>",
        if roots.is_empty() { "none".to_string() } else { roots.join(" ") }
    );
    let _ = writeln!(
        o,
        "<tr><th scope=\"row\">Production files</th><td>{} Python, {} JS/TS</td></tr>",
        facts.python_files, facts.frontend_files
    );
    let _ = writeln!(o, "<tr><th scope=\"row\">Rules run</th><td>{}</td></tr>", facts.rules_run.len());
    o.push_str("</table>\n");
    if !outcome.notes.is_empty() {
        let _ = writeln!(o, "<details><summary>{} files skipped or partly analysed</summary><ul>", outcome.notes.len());
        for note in &outcome.notes {
            let _ = writeln!(o, "<li><code>{}</code>: {}</li>", h(&note.path), h(&note.message));
        }
        o.push_str("</ul></details>\n");
    }
    o.push_str("</section>\n");

    // The rules' documentation, embedded.
    o.push_str("<section aria-labelledby=\"h-rules\">\n<h2 id=\"h-rules\">Rules</h2>\n");
    for r in catalog::RULES {
        let _ = write!(
            o,
            "<details id=\"rule-{id}\"><summary><code>{id}</code> · {level} · {}</summary>\
             <p>{}</p><p><strong>Why:</strong> {}</p><p><strong>Example</strong></p><pre>{}</pre>\
             <p><strong>Use instead</strong></p><pre>{}</pre>",
            h(r.summary),
            h(r.what),
            h(r.why),
            h(r.example),
            h(r.use_instead),
            id = r.id,
            level = r.level
        );
        if !r.references.is_empty() {
            o.push_str("<p><strong>References</strong></p><ul>");
            for u in r.references {
                let _ = write!(o, "<li>{}</li>", h(u));
            }
            o.push_str("</ul>");
        }
        o.push_str("</details>\n");
    }
    o.push_str("</section>\n</main>\n<script>");
    o.push_str(SCRIPT);
    o.push_str("</script>\n</body>\n</html>\n");
    o
}
