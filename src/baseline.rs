//! Baselines: adopt preflight on an existing code base by recording today's findings and
//! reporting only new ones. A finding is matched by (rule, path, fingerprint); fingerprints do
//! not contain line numbers, so a finding whose line moved stays baselined.
//!
//! The file is meant to be reviewed in a pull request: pretty JSON, one entry per finding,
//! sorted by path, line and rule, each with the rule, the path, the line at the time, the
//! message and the flagged line as the report shows them (secrets masked: both went through
//! `finding::redact_text`) and the fingerprint. Rewriting it for the same findings gives the same
//! bytes. Version 1 files (rule, path and fingerprint only) are still read.

use std::collections::BTreeSet;
use std::path::Path;

use crate::finding::Finding;

pub(crate) type Key = (String, String, String);

fn key(f: &Finding) -> Key {
    (f.rule.id.to_string(), f.path.clone(), f.fingerprint.clone())
}

/// One recorded finding. `line`, `message` and `snippet` are for the reader (and refreshed by
/// `--update-baseline`); matching uses the key only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub rule: String,
    pub path: String,
    pub fingerprint: String,
    pub line: Option<u64>,
    pub message: Option<String>,
    pub snippet: Option<String>,
}

impl Entry {
    pub(crate) fn key(&self) -> Key {
        (self.rule.clone(), self.path.clone(), self.fingerprint.clone())
    }

    fn of(f: &Finding) -> Entry {
        // Already masked by `finding::finalize`; once more, as every reporter's input is.
        let snippet = crate::finding::redact_text(f.snippet.trim());
        Entry {
            rule: f.rule.id.to_string(),
            path: f.path.clone(),
            fingerprint: f.fingerprint.clone(),
            line: Some(f.line as u64),
            message: Some(crate::finding::redact_text(&f.message)),
            snippet: (!snippet.is_empty()).then_some(snippet),
        }
    }

    /// The entry as a pretty-printed JSON object, keys in reading order (rule and path first,
    /// the fingerprint last), indented for the `findings` array.
    fn to_json(&self) -> String {
        let q = |s: &str| serde_json::to_string(s).expect("json");
        let mut fields = vec![format!("\"rule\": {}", q(&self.rule)), format!("\"path\": {}", q(&self.path))];
        if let Some(l) = self.line {
            fields.push(format!("\"line\": {l}"));
        }
        if let Some(s) = &self.message {
            fields.push(format!("\"message\": {}", q(s)));
        }
        if let Some(s) = &self.snippet {
            fields.push(format!("\"snippet\": {}", q(s)));
        }
        fields.push(format!("\"fingerprint\": {}", q(&self.fingerprint)));
        format!("    {{\n      {}\n    }}", fields.join(",\n      "))
    }
}

/// A baseline file as read.
#[derive(Debug, Default)]
pub(crate) struct Baseline {
    pub entries: Vec<Entry>,
    pub keys: BTreeSet<Key>,
}

/// The file's text for `entries`: sorted by path, line, rule and fingerprint, one object per
/// entry, keys in a fixed order, a trailing newline.
pub(crate) fn render(entries: &[Entry]) -> String {
    let mut sorted: Vec<&Entry> = entries.iter().collect();
    sorted.sort_by(|a, b| (&a.path, a.line, &a.rule, &a.fingerprint).cmp(&(&b.path, b.line, &b.rule, &b.fingerprint)));
    sorted.dedup_by(|a, b| a.key() == b.key());
    let items: Vec<String> = sorted.iter().map(|e| e.to_json()).collect();
    let body = if items.is_empty() { "[]".to_string() } else { format!("[\n{}\n  ]", items.join(",\n")) };
    let doc = format!("{{\n  \"tool\": \"preflight\",\n  \"version\": 2,\n  \"findings\": {body}\n}}\n");
    // Hidden characters (bidi controls, zero-width) in a message or a line are escaped, so a
    // reviewer sees them.
    crate::report::escape_json_invisible(doc)
}

pub(crate) fn write(path: &Path, findings: &[Finding]) -> Result<(), String> {
    let entries: Vec<Entry> = findings.iter().map(Entry::of).collect();
    crate::output::write_file(path, render(&entries).as_bytes())
}

/// Why a baseline cannot be used; each names the file, and the line or entry at fault.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BaselineError {
    /// Missing, not a regular file, too large, an I/O error.
    #[error("baseline {}: {cause}", path.display())]
    Unreadable { path: std::path::PathBuf, cause: String },
    /// Not JSON; `line` and `column` are 1-based.
    #[error("baseline {}: line {line}, column {column}: not JSON: {cause}", path.display())]
    NotJson { path: std::path::PathBuf, line: usize, column: usize, cause: String },
    #[error("baseline {}: no `findings` array", path.display())]
    NoFindings { path: std::path::PathBuf },
    /// Entry `index` (1-based, in file order) lacks a field every entry has.
    #[error("baseline {}: entry {index} has no `{field}`", path.display())]
    Entry { path: std::path::PathBuf, index: usize, field: &'static str },
}

pub(crate) fn read(path: &Path) -> Result<Baseline, BaselineError> {
    let p = || path.to_path_buf();
    // Read safely: not a FIFO or device, at most 256 MiB.
    let text = crate::fsread::read_text_capped(path, 256 << 20)
        .map_err(|e| BaselineError::Unreadable { path: p(), cause: e.to_string() })?;
    let doc: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        // serde_json's message without its own " at line L column C" (said before it here).
        let full = e.to_string();
        let cause = full.rsplit_once(" at line ").map_or(full.as_str(), |(m, _)| m).to_string();
        BaselineError::NotJson { path: p(), line: e.line(), column: e.column().max(1), cause }
    })?;
    let items = doc["findings"].as_array().ok_or_else(|| BaselineError::NoFindings { path: p() })?;
    let entries = items
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let s = |k: &'static str| {
                e[k].as_str().map(str::to_string).ok_or(BaselineError::Entry { path: p(), index: i + 1, field: k })
            };
            Ok(Entry {
                rule: s("rule")?,
                path: s("path")?,
                fingerprint: s("fingerprint")?,
                line: e["line"].as_u64(),
                message: e["message"].as_str().map(str::to_string),
                snippet: e["snippet"].as_str().map(str::to_string),
            })
        })
        .collect::<Result<Vec<Entry>, BaselineError>>()?;
    let keys = entries.iter().map(Entry::key).collect();
    Ok(Baseline { entries, keys })
}

/// Drops the findings the baseline records; returns them (for `--update-baseline`).
pub(crate) fn apply(findings: &mut Vec<Finding>, baseline: &Baseline) -> Vec<Finding> {
    let (known, new): (Vec<Finding>, Vec<Finding>) =
        std::mem::take(findings).into_iter().partition(|f| baseline.keys.contains(&key(f)));
    *findings = new;
    known
}

/// The entries no finding matched although this run judged them (`judged`: their rule ran on
/// their path): the finding is gone (fixed, or its line changed), so the entry can go.
pub(crate) fn stale<'a>(
    baseline: &'a Baseline,
    matched: &[Finding],
    judged: impl Fn(&Entry) -> bool,
) -> Vec<&'a Entry> {
    let found: BTreeSet<Key> = matched.iter().map(key).collect();
    baseline.entries.iter().filter(|e| !found.contains(&e.key()) && judged(e)).collect()
}

/// The baseline after `--update-baseline`: the entries matched, refreshed from their findings
/// (line, message, line text), and those this run did not judge, as they were; stale entries
/// are dropped and no new finding is added.
pub(crate) fn updated(baseline: &Baseline, matched: &[Finding], judged: impl Fn(&Entry) -> bool) -> Vec<Entry> {
    let mut out: Vec<Entry> = matched.iter().map(Entry::of).collect();
    out.extend(baseline.entries.iter().filter(|e| !judged(e)).cloned());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(rule: &str, path: &str, line: u64, fp: &str) -> Entry {
        Entry {
            rule: rule.into(),
            path: path.into(),
            fingerprint: fp.into(),
            line: Some(line),
            message: Some("m".into()),
            snippet: Some("x = 1".into()),
        }
    }

    #[test]
    fn the_file_is_sorted_and_stable() {
        let a = entry("todo-fixme", "b.py", 3, "01");
        let b = entry("console-log", "a.js", 9, "02");
        let c = entry("secret-hardcoded", "a.js", 2, "03");
        let one = render(&[a.clone(), b.clone(), c.clone()]);
        assert_eq!(one, render(&[c.clone(), a.clone(), b.clone()]));
        let order: Vec<usize> = ["\"03\"", "\"02\"", "\"01\""].iter().map(|k| one.find(k).unwrap()).collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{one}");
        assert!(one.contains(
            "    {\n      \"rule\": \"console-log\",\n      \"path\": \"a.js\",\n      \"line\": 9,\n      \
             \"message\": \"m\",\n      \"snippet\": \"x = 1\",\n      \"fingerprint\": \"02\"\n    }"
        ));
        let v: serde_json::Value = serde_json::from_str(&one).unwrap();
        assert_eq!(v["findings"].as_array().unwrap().len(), 3);
        assert_eq!(render(&[]), "{\n  \"tool\": \"preflight\",\n  \"version\": 2,\n  \"findings\": []\n}\n");
    }
}
