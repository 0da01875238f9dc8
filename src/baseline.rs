//! Baselines: adopt preflight on an existing code base by recording today's findings and
//! reporting only new ones. A finding is matched by (rule, path, fingerprint); fingerprints do
//! not contain line numbers, so a finding whose line moved stays baselined.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::json;

use crate::finding::Finding;

type Key = (String, String, String);

fn key(f: &Finding) -> Key {
    (f.rule.id.to_string(), f.path.clone(), f.fingerprint.clone())
}

pub fn write(path: &Path, findings: &[Finding]) -> Result<(), String> {
    let keys: BTreeSet<Key> = findings.iter().map(key).collect();
    let entries: Vec<_> = keys.iter().map(|(r, p, f)| json!({"rule": r, "path": p, "fingerprint": f})).collect();
    let doc = json!({"tool": "preflight", "version": 1, "findings": entries});
    let text = serde_json::to_string_pretty(&doc).expect("json") + "\n";
    crate::output::write_file(path, text.as_bytes())
}

pub fn read(path: &Path) -> Result<BTreeSet<Key>, String> {
    // Read safely: not a FIFO or device, at most 256 MiB.
    let text =
        crate::fsread::read_text_capped(path, 256 << 20).map_err(|e| format!("baseline {}: {e}", path.display()))?;
    let doc: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("baseline {}: not JSON: {e}", path.display()))?;
    let entries =
        doc["findings"].as_array().ok_or_else(|| format!("baseline {}: no `findings` array", path.display()))?;
    entries
        .iter()
        .map(|e| {
            let s = |k: &str| {
                e[k].as_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("baseline {}: entry without `{k}`", path.display()))
            };
            Ok((s("rule")?, s("path")?, s("fingerprint")?))
        })
        .collect()
}

/// Drops the findings the baseline records; returns how many were dropped.
pub fn apply(findings: &mut Vec<Finding>, baseline: &BTreeSet<Key>) -> usize {
    let before = findings.len();
    findings.retain(|f| !baseline.contains(&key(f)));
    before - findings.len()
}
