//! GitHub Actions workflow commands: one `::error|warning|notice file=…,line=…::message` line
//! per finding, so findings show as annotations in a plain workflow run. File names and
//! messages are sanitised first (`super::sanitize`), then escaped by the workflow-command rules,
//! so a file name cannot end the command early or start another one.

use crate::finding::{Finding, Level};

/// Escapes a workflow command's message (`%`, CR, LF).
fn data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escapes a workflow command property (also `:` and `,`).
fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

pub(crate) fn render(findings: &[Finding]) -> String {
    let mut out = String::new();
    for f in super::by_level(findings) {
        let cmd = match f.level {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Note => "notice",
        };
        let mut props = format!("file={},line={},col={}", property(&super::sanitize(&f.path)), f.line, f.col);
        if f.end_line > f.line || f.end_col > f.col {
            props.push_str(&format!(",endLine={},endColumn={}", f.end_line, f.end_col));
        }
        props.push_str(&format!(",title={}", property(&format!("preflight {}", f.rule.id))));
        out.push_str(&format!("::{cmd} {props}::{}\n", data(&super::sanitize(&f.message))));
    }
    out
}
