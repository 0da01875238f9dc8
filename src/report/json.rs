//! JSON output: an array of findings, one object each, with the documented stable fields
//! `rule, level, path, line, column, end_line, end_column, message, fingerprint`.

use serde_json::json;

use crate::finding::Finding;

pub(crate) fn render(findings: &[Finding]) -> String {
    let arr: Vec<serde_json::Value> = findings
        .iter()
        .map(|f| {
            json!({
                "rule": f.rule.id,
                "level": f.level.as_str(),
                "path": f.path,
                "line": f.line,
                "column": f.col,
                "end_line": f.end_line,
                "end_column": f.end_col,
                "message": f.message,
                "fingerprint": f.fingerprint,
            })
        })
        .collect();
    let mut s = super::escape_json_invisible(serde_json::to_string_pretty(&arr).expect("json"));
    s.push('\n');
    s
}
