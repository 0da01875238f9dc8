//! JUnit XML, which most CI systems (GitLab, Jenkins, Azure Pipelines, CircleCI) show as test
//! results: one test suite per file with findings, one failed test case per finding. A run
//! without findings is one passing test case, so the CI shows that the check ran.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::finding::Finding;

/// Escapes text for an XML attribute or element. Hidden characters (controls, bidi overrides,
/// zero-width characters: `super::sanitize`) become visible escapes first, which also removes
/// every character XML 1.0 cannot hold.
fn xml(s: &str) -> String {
    super::escape_markup(s, "&apos;", true)
}

pub(crate) fn render(findings: &[Finding]) -> String {
    let mut by_file: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in findings {
        by_file.entry(f.path.as_str()).or_default().push(f);
    }
    let n = findings.len();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(out, "<testsuites name=\"preflight\" tests=\"{}\" failures=\"{n}\">", n.max(1));
    if findings.is_empty() {
        out.push_str("  <testsuite name=\"preflight\" tests=\"1\" failures=\"0\">\n");
        out.push_str("    <testcase name=\"no findings\" classname=\"preflight\"/>\n");
        out.push_str("  </testsuite>\n");
    }
    for (path, fs) in &by_file {
        let _ = writeln!(out, "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\">", xml(path), fs.len(), fs.len());
        for f in fs {
            let _ = writeln!(
                out,
                "    <testcase name=\"{}:{}:{} {}\" classname=\"{}\" file=\"{}\" line=\"{}\">",
                xml(path),
                f.line,
                f.col,
                f.rule.id,
                xml(path),
                xml(path),
                f.line
            );
            let _ = writeln!(
                out,
                "      <failure message=\"{}\" type=\"{}\">{}:{}:{}: {}[{}] {}</failure>",
                xml(&f.message),
                f.level,
                xml(path),
                f.line,
                f.col,
                f.level,
                f.rule.id,
                xml(&f.message)
            );
            out.push_str("    </testcase>\n");
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}
