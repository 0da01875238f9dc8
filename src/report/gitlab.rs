//! GitLab code quality report (`artifacts:reports:codequality`): a JSON array of issues, each
//! with a description, a check name, a fingerprint, a severity and a location (path and line).

use serde_json::json;

use crate::finding::{Finding, Level};

/// GitLab's severities are info, minor, major, critical and blocker; preflight's errors are
/// what blocks a deploy (critical), warnings should be fixed (major), notes inform (info).
fn severity(l: Level) -> &'static str {
    match l {
        Level::Error => "critical",
        Level::Warning => "major",
        Level::Note => "info",
    }
}

pub(crate) fn render(findings: &[Finding]) -> String {
    let arr: Vec<serde_json::Value> = findings
        .iter()
        .map(|f| {
            json!({
                "description": format!("{}: {}", f.rule.id, f.message),
                "check_name": f.rule.id,
                // Unique per finding across the report, as GitLab requires: the rule and the path
                // are already part of preflight's fingerprint.
                "fingerprint": f.fingerprint,
                "severity": severity(f.level),
                "location": { "path": f.path, "lines": { "begin": f.line, "end": f.end_line } },
            })
        })
        .collect();
    let mut s = super::escape_json_invisible(serde_json::to_string_pretty(&arr).expect("json"));
    s.push('\n');
    s
}
