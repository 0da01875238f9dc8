//! The run cache: a run over a tree that has not changed since the last run with the same
//! binary, configuration and rules answers from that run's result.
//!
//! Correct by construction rather than by invalidation rules: the key hashes everything a run
//! reads — the binary's sources (`PREFLIGHT_BUILD_ID`), the configuration in effect, the rule
//! selection, and every loaded file's path, class and full content, the notes of what was
//! skipped, the empty files, git's list of tracked paths — and the entry lists every other look
//! a rule took at the disk (`project::Look`: a manifest, a workflow folder, an image's size),
//! each checked again before the entry is trusted. So a changed models module, a new
//! `requirements.txt` or a resized image each make a miss, and a hit is what a fresh run gives,
//! byte for byte.
//!
//! Entries live in the user's cache folder (`$PREFLIGHT_CACHE_DIR`, else
//! `$XDG_CACHE_HOME/preflight`, else `~/.cache/preflight`), never in the scanned repository: a
//! repository cannot plant a result for its own audit. One entry per project root, rule
//! selection and configuration; the oldest beyond `MAX_ENTRIES` are removed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::catalog;
use crate::finding::{Finding, Note};
use crate::level::Level;
use crate::project::{Asked, Consumer, Facts, Look, Part, Probe, SettingsRoot};

/// Entries kept; the oldest (by modification time) beyond this are removed when one is written.
const MAX_ENTRIES: usize = 64;

/// Bump when the entry format changes.
const FORMAT: u32 = 10;

/// The cache folder: `$PREFLIGHT_CACHE_DIR`, `$XDG_CACHE_HOME/preflight` or
/// `~/.cache/preflight`; `None` when none can be named.
pub(crate) fn default_dir() -> Option<PathBuf> {
    let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    var("PREFLIGHT_CACHE_DIR")
        .or_else(|| var("XDG_CACHE_HOME").map(|d| d.join("preflight")))
        .or_else(|| var("HOME").map(|h| h.join(".cache/preflight")))
}

pub(crate) use crate::digest::KeyHasher;

/// Where a run's entry lives and what it must match.
pub(crate) struct Key {
    /// The entry's file name: the project root, selection and configuration.
    pub slot: String,
    /// Everything the run read.
    pub full: String,
}

/// What a hit gives back.
pub(crate) struct Hit {
    pub findings: Vec<Finding>,
    pub notes: Vec<Note>,
    pub facts: Facts,
}

/// The entry for `key` in `dir`, if its key matches and every look it lists sees the same now.
pub(crate) fn load(dir: &Path, key: &Key) -> Option<Hit> {
    let path = dir.join(format!("{}.json", key.slot));
    let bytes = crate::fsread::read_regular_capped(&path, 256 << 20).ok()?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    if v["format"] != FORMAT || v["key"] != key.full.as_str() {
        return None;
    }
    for l in v["looks"].as_array()? {
        let look = look_from(l)?;
        if crate::project::look(&look).1.to_string() != l["digest"].as_str()? {
            return None;
        }
    }
    let findings = v["findings"].as_array()?.iter().map(finding_from).collect::<Option<Vec<_>>>()?;
    let notes = v["notes"]
        .as_array()?
        .iter()
        .map(|n| Some(Note { path: n["path"].as_str()?.to_string(), message: n["message"].as_str()?.to_string() }))
        .collect::<Option<Vec<_>>>()?;
    let facts = facts_from(&v["facts"])?;
    Some(Hit { findings, notes, facts })
}

/// Writes the entry for `key`. Best effort: a cache that cannot be written is no error.
pub(crate) fn store(dir: &Path, key: &Key, findings: &[Finding], notes: &[Note], facts: &Facts, looks: &[(Look, u64)]) {
    let Some(looks) = looks.iter().map(|(l, d)| look_to(l, *d)).collect::<Option<Vec<_>>>() else { return };
    let v = json!({
        "format": FORMAT,
        "key": key.full,
        "looks": looks,
        "findings": findings.iter().map(finding_to).collect::<Vec<_>>(),
        "notes": notes.iter().map(|n| json!({"path": n.path, "message": n.message})).collect::<Vec<_>>(),
        "facts": facts_to(facts),
    });
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    let _ = std::fs::write(
        dir.join("CACHEDIR.TAG"),
        "Signature: 8a477f597d28d172789f06886806bc55\n# preflight's run cache\n",
    );
    let Ok(bytes) = serde_json::to_vec(&v) else { return };
    if crate::output::write_file(&dir.join(format!("{}.json", key.slot)), &bytes).is_ok() {
        prune(dir);
    }
}

/// What a run leaves for reuse where it still holds (`<slot>.files.json`): the tree's shape,
/// each loaded file's digest, the questions asked of files' texts and who asked, the looks at
/// the disk, each project rule's findings before suppressions, the migration scope note, each
/// file's findings by rule and its own notes, the facts.
pub(crate) struct Partial {
    pub structure: String,
    pub files: HashMap<String, String>,
    pub probes: Vec<Asked>,
    pub looks: Vec<(Look, u64)>,
    pub project: Vec<ProjectResult>,
    pub scope_note: Option<Note>,
    pub per_file: HashMap<String, FileEntry>,
    pub facts: Facts,
    /// The digest of the model graph the run built or kept (`<slot>.models.json`), if any.
    pub models: Option<String>,
    /// The template contexts the run built or kept, if any.
    pub contexts: Option<crate::django::html::TemplateContexts>,
}

/// Writes the model graph beside the partial entry of `slot`; its digest, which the partial
/// entry holds so that a graph is only ever read with the entry it was written with.
pub(crate) fn store_models(dir: &Path, slot: &str, graph: &crate::django::models::ModelGraph) -> Option<String> {
    let bytes = serde_json::to_vec(graph).ok()?;
    let digest = crate::digest::digest64(&[&bytes]).to_string();
    std::fs::create_dir_all(dir).ok()?;
    crate::output::write_file(&dir.join(format!("{slot}.models.json")), &bytes).ok()?;
    Some(digest)
}

/// The model graph of `slot`, if its bytes have the digest the partial entry holds.
pub(crate) fn load_models(dir: &Path, slot: &str, digest: &str) -> Option<crate::django::models::ModelGraph> {
    let bytes = crate::fsread::read_regular_capped(&dir.join(format!("{slot}.models.json")), 1 << 30).ok()?;
    if crate::digest::digest64(&[&bytes]).to_string() != digest {
        return None;
    }
    serde_json::from_slice(&bytes).ok()
}

/// What one project rule (or an owner standing in for one) found, before suppressions.
#[derive(Clone)]
pub(crate) struct ProjectResult {
    /// The rule whose project check ran.
    pub rule: &'static str,
    pub findings: Vec<Finding>,
    pub notes: Vec<Note>,
}

/// What the rules found in one file, before suppressions: by rule id, findings and notes; and
/// the file's own notes.
#[derive(Clone, Default)]
pub(crate) struct FileEntry {
    pub rules: Vec<(&'static str, Vec<Finding>, Vec<Note>)>,
    pub file_notes: Vec<Note>,
}

/// `rels[i]` → `digests[i]`.
pub(crate) fn digest_map(rels: &[String], digests: Vec<String>) -> HashMap<String, String> {
    rels.iter().cloned().zip(digests).collect()
}

/// The partial entry of `slot`, if every look it lists sees the same now.
pub(crate) fn load_partial(dir: &Path, slot: &str) -> Option<Partial> {
    let path = dir.join(format!("{slot}.files.json"));
    let bytes = crate::fsread::read_regular_capped(&path, 512 << 20).ok()?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    if v["format"] != FORMAT {
        return None;
    }
    let mut looks = Vec::new();
    for l in v["looks"].as_array()? {
        let look = look_from(l)?;
        let digest = crate::project::look(&look).1;
        if digest.to_string() != l["digest"].as_str()? {
            return None;
        }
        looks.push((look, digest));
    }
    let notes = |v: &Value| -> Option<Vec<Note>> { v.as_array()?.iter().map(note_from).collect() };
    let findings = |v: &Value| -> Option<Vec<Finding>> { v.as_array()?.iter().map(finding_from).collect() };
    let files = v["files"]
        .as_object()?
        .iter()
        .map(|(k, d)| Some((k.clone(), d.as_str()?.to_string())))
        .collect::<Option<HashMap<_, _>>>()?;
    let lists: Vec<std::sync::Arc<Vec<String>>> = v["lists"]
        .as_array()?
        .iter()
        .map(|l| {
            Some(std::sync::Arc::new(
                l.as_array()?.iter().map(|s| s.as_str().map(str::to_string)).collect::<Option<Vec<_>>>()?,
            ))
        })
        .collect::<Option<Vec<_>>>()?;
    let probes = v["probes"].as_array()?.iter().map(|p| probe_from(p, &lists)).collect::<Option<Vec<_>>>()?;
    let rule_id = |v: &Value| catalog::meta(v.as_str()?).map(|m| m.id);
    let per_file = v["per_file"]
        .as_object()?
        .iter()
        .map(|(k, e)| {
            let rules = e["rules"]
                .as_array()?
                .iter()
                .map(|r| Some((rule_id(&r["rule"])?, findings(&r["findings"])?, notes(&r["notes"])?)))
                .collect::<Option<Vec<_>>>()?;
            Some((k.clone(), FileEntry { rules, file_notes: notes(&e["file_notes"])? }))
        })
        .collect::<Option<HashMap<_, _>>>()?;
    let project = v["project"]
        .as_array()?
        .iter()
        .map(|r| {
            Some(ProjectResult {
                rule: rule_id(&r["rule"])?,
                findings: findings(&r["findings"])?,
                notes: notes(&r["notes"])?,
            })
        })
        .collect::<Option<Vec<_>>>()?;
    let scope_note = if v["scope_note"].is_null() { None } else { Some(note_from(&v["scope_note"])?) };
    Some(Partial {
        structure: v["structure"].as_str()?.to_string(),
        files,
        probes,
        looks,
        project,
        scope_note,
        per_file,
        facts: facts_from(&v["facts"])?,
        models: v["models"].as_str().map(str::to_string),
        contexts: if v["contexts"].is_null() {
            None
        } else {
            Some(serde_json::from_value(v["contexts"].clone()).ok()?)
        },
    })
}

/// Writes the partial entry of `slot`. Best effort.
pub(crate) fn store_partial(dir: &Path, slot: &str, p: &Partial) {
    let Some(looks) = p.looks.iter().map(|(l, d)| look_to(l, *d)).collect::<Option<Vec<_>>>() else { return };
    // Sorted by path, so that the entry does not depend on hashing.
    let files: serde_json::Map<String, Value> = p
        .files
        .iter()
        .map(|(k, d)| (k.clone(), Value::from(d.as_str())))
        .collect::<std::collections::BTreeMap<_, _>>()
        .into_iter()
        .collect();
    let per_file: serde_json::Map<String, Value> = p
        .per_file
        .iter()
        .map(|(k, e)| {
            let rules: Vec<Value> = e
                .rules
                .iter()
                .map(|(id, f, n)| {
                    json!({"rule": id, "findings": f.iter().map(finding_to).collect::<Vec<_>>(), "notes": n.iter().map(note_to).collect::<Vec<_>>()})
                })
                .collect();
            (k.clone(), json!({"rules": rules, "file_notes": e.file_notes.iter().map(note_to).collect::<Vec<_>>()}))
        })
        .collect::<std::collections::BTreeMap<_, _>>()
        .into_iter()
        .collect();
    let mut lists = Vec::new();
    let probes: Vec<Value> = p.probes.iter().map(|a| probe_to(a, &mut lists)).collect();
    let v = json!({
        "format": FORMAT,
        "structure": p.structure,
        "files": files,
        "probes": probes,
        "lists": lists.iter().map(|l| l.as_slice()).collect::<Vec<_>>(),
        "looks": looks,
        "project": p.project.iter().map(|r| json!({
            "rule": r.rule,
            "findings": r.findings.iter().map(finding_to).collect::<Vec<_>>(),
            "notes": r.notes.iter().map(note_to).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "scope_note": p.scope_note.as_ref().map(note_to),
        "per_file": per_file,
        "facts": facts_to(&p.facts),
        "models": p.models,
        "contexts": p.contexts,
    });
    let Ok(bytes) = serde_json::to_vec(&v) else { return };
    if std::fs::create_dir_all(dir).is_ok() {
        let _ = crate::output::write_file(&dir.join(format!("{slot}.files.json")), &bytes);
    }
}

fn note_to(n: &Note) -> Value {
    json!({"path": n.path, "message": n.message})
}

fn note_from(n: &Value) -> Option<Note> {
    Some(Note { path: n["path"].as_str()?.to_string(), message: n["message"].as_str()?.to_string() })
}

/// A recorded question as JSON; the literal lists of `MentionsAny` are stored once, in `lists`.
/// The index of a probe's list of literals in the entry's `lists` (stored once however many
/// questions name it).
fn list_index(lists: &mut Vec<std::sync::Arc<Vec<String>>>, l: &std::sync::Arc<Vec<String>>) -> usize {
    lists.iter().position(|x| std::sync::Arc::ptr_eq(x, l) || x == l).unwrap_or_else(|| {
        lists.push(l.clone());
        lists.len() - 1
    })
}

fn probe_to((by, rel, probe, answer): &Asked, lists: &mut Vec<std::sync::Arc<Vec<String>>>) -> Value {
    let (kind, arg) = match probe {
        Probe::MentionsAny(l) => ("mentions-any", list_index(lists, l).to_string()),
        Probe::Contexts(l) => ("contexts", list_index(lists, l).to_string()),
        Probe::Matches { pattern, cap } => ("matches", format!("{cap}:{pattern}")),
        Probe::Outline { cap } => ("outline", cap.to_string()),
        Probe::GraphOutline => ("graph-outline", String::new()),
        Probe::Text => ("text", String::new()),
        Probe::Contains(w) => ("contains", w.clone()),
        Probe::SettingsCandidate => ("settings-candidate", String::new()),
        Probe::ModelCandidate(s) => ("model-candidate", if *s { "serializers" } else { "" }.to_string()),
        Probe::ListView => ("list-view", String::new()),
        Probe::ImportedNames => ("imported-names", String::new()),
        Probe::SafeValueFunctions => ("safe-value-functions", String::new()),
        Probe::SettingsNamed => ("settings-named", String::new()),
    };
    let by = match by {
        Consumer::Part(p) => p.name().to_string(),
        Consumer::Rule(id) => format!("rule:{id}"),
        Consumer::Files => "files".to_string(),
    };
    json!([by, rel, kind, arg, answer])
}

fn probe_from(v: &Value, lists: &[std::sync::Arc<Vec<String>>]) -> Option<Asked> {
    let by = match v[0].as_str()? {
        "files" => Consumer::Files,
        other => match other.strip_prefix("rule:") {
            Some(id) => Consumer::Rule(catalog::meta(id)?.id),
            None => Consumer::Part(*Part::ALL.iter().find(|p| p.name() == other)?),
        },
    };
    let v = &v.as_array()?[1..];
    let arg = v[2].as_str()?;
    let probe = match v[1].as_str()? {
        "text" => Probe::Text,
        "contains" => Probe::Contains(arg.to_string()),
        "settings-candidate" => Probe::SettingsCandidate,
        "model-candidate" => Probe::ModelCandidate(arg == "serializers"),
        "list-view" => Probe::ListView,
        "imported-names" => Probe::ImportedNames,
        "safe-value-functions" => Probe::SafeValueFunctions,
        "settings-named" => Probe::SettingsNamed,
        "mentions-any" => Probe::MentionsAny(lists.get(arg.parse::<usize>().ok()?)?.clone()),
        "contexts" => Probe::Contexts(lists.get(arg.parse::<usize>().ok()?)?.clone()),
        "outline" => Probe::Outline { cap: arg.parse().ok()? },
        "graph-outline" => Probe::GraphOutline,
        "matches" => {
            let (cap, pattern) = arg.split_once(':')?;
            Probe::Matches { pattern: std::sync::Arc::from(pattern), cap: cap.parse().ok()? }
        }
        _ => return None,
    };
    Some((by, v[0].as_str()?.to_string(), probe, v[3].as_u64()?))
}

/// Removes the oldest entries beyond `MAX_ENTRIES`.
fn prune(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut found: Vec<(std::time::SystemTime, PathBuf)> = entries
        .flatten()
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.ends_with(".json") && !name.ends_with(".files.json") && !name.ends_with(".models.json")
        })
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .collect();
    if found.len() <= MAX_ENTRIES {
        return;
    }
    found.sort();
    for (_, p) in &found[..found.len() - MAX_ENTRIES] {
        let _ = std::fs::remove_file(p);
        // Beside the entry: its partial entry, model graph and table of file times.
        for extension in ["files.json", "models.json", "stat"] {
            let _ = std::fs::remove_file(p.with_extension(extension));
        }
    }
}

fn level_from(s: &str) -> Option<Level> {
    [Level::Note, Level::Warning, Level::Error].into_iter().find(|l| l.as_str() == s)
}

fn finding_to(f: &Finding) -> Value {
    json!({
        "rule": f.rule.id, "level": f.level.as_str(), "path": f.path, "line": f.line, "col": f.col,
        "end_line": f.end_line, "end_col": f.end_col, "message": f.message, "snippet": f.snippet,
        "snippet_from": f.snippet_from, "key": f.key, "fingerprint": f.fingerprint,
    })
}

fn finding_from(v: &Value) -> Option<Finding> {
    let n = |k: &str| v[k].as_u64().map(|x| x as usize);
    let s = |k: &str| v[k].as_str().map(str::to_string);
    Some(Finding {
        rule: catalog::meta(v["rule"].as_str()?)?,
        level: level_from(v["level"].as_str()?)?,
        path: s("path")?,
        line: n("line")?,
        col: n("col")?,
        end_line: n("end_line")?,
        end_col: n("end_col")?,
        message: s("message")?,
        snippet: s("snippet")?,
        snippet_from: n("snippet_from")?,
        key: if v["key"].is_null() { None } else { Some(s("key")?) },
        fingerprint: s("fingerprint")?,
    })
}

fn facts_to(f: &Facts) -> Value {
    json!({
        "django": f.django,
        "settings": f.settings.iter().map(|r| json!({"module": r.module, "chain": r.chain, "open": r.open})).collect::<Vec<_>>(),
        "apps": f.apps, "models": f.models, "frontend_roots": f.frontend_roots,
        "python_files": f.python_files, "frontend_files": f.frontend_files, "rules_run": f.rules_run,
    })
}

fn facts_from(v: &Value) -> Option<Facts> {
    let strings = |v: &Value| v.as_array().map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect());
    Some(Facts {
        django: v["django"].as_bool()?,
        settings: v["settings"]
            .as_array()?
            .iter()
            .map(|r| {
                Some(SettingsRoot {
                    module: r["module"].as_str()?.to_string(),
                    chain: strings(&r["chain"])?,
                    open: r["open"].as_bool()?,
                })
            })
            .collect::<Option<Vec<_>>>()?,
        apps: strings(&v["apps"])?,
        models: v["models"].as_u64()? as usize,
        frontend_roots: strings(&v["frontend_roots"])?,
        python_files: v["python_files"].as_u64()? as usize,
        frontend_files: v["frontend_files"].as_u64()? as usize,
        rules_run: v["rules_run"]
            .as_array()?
            .iter()
            .map(|id| catalog::meta(id.as_str()?).map(|m| m.id))
            .collect::<Option<Vec<_>>>()?,
    })
}

/// A look as JSON; `None` for a path that is not UTF-8 (the entry is then not written).
fn look_to(l: &Look, digest: u64) -> Option<Value> {
    let p = |p: &Path| p.to_str().map(str::to_string);
    Some(match l {
        Look::Read { path, cap, follow } => {
            json!({"look": "read", "path": p(path)?, "cap": cap, "follow": follow, "digest": digest.to_string()})
        }
        Look::Metadata(path) => json!({"look": "metadata", "path": p(path)?, "digest": digest.to_string()}),
        Look::ListDir(path) => json!({"look": "list", "path": p(path)?, "digest": digest.to_string()}),
        Look::Head { path, n } => json!({"look": "head", "path": p(path)?, "n": n, "digest": digest.to_string()}),
    })
}

fn look_from(v: &Value) -> Option<Look> {
    let path = PathBuf::from(v["path"].as_str()?);
    Some(match v["look"].as_str()? {
        "read" => Look::Read { path, cap: v["cap"].as_u64()?, follow: v["follow"].as_bool()? },
        "metadata" => Look::Metadata(path),
        "list" => Look::ListDir(path),
        "head" => Look::Head { path, n: v["n"].as_u64()? as usize },
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_sees_every_byte_and_every_boundary() {
        let digest = |parts: &[&[u8]]| {
            let mut h = KeyHasher::default();
            for p in parts {
                h.part(p);
            }
            h.finish()
        };
        assert_eq!(digest(&[b"abc"]), digest(&[b"abc"]));
        assert_ne!(digest(&[b"ab", b"c"]), digest(&[b"a", b"bc"]));
        assert_ne!(digest(&[b"abcdefgh"]), digest(&[b"abcdefgh\0"]));
        let long = vec![7u8; 1000];
        let mut changed = long.clone();
        changed[999] = 8;
        assert_ne!(digest(&[&long]), digest(&[&changed]));
        assert_eq!(digest(&[b""]).len(), 32);
    }

    /// A look at the disk listed in an entry is taken again: when it sees something else, the
    /// entry is not trusted.
    #[test]
    fn an_entry_stands_only_while_its_looks_see_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = dir.path().join("requirements.txt");
        std::fs::write(&manifest, "django\n").unwrap();
        let key = Key { slot: "s".into(), full: "f".into() };
        let facts = Facts::default();
        let looks: Vec<(Look, u64)> = [
            Look::Read { path: manifest.clone(), cap: 100, follow: false },
            Look::Metadata(manifest.clone()),
            Look::ListDir(dir.path().to_path_buf()),
            Look::Head { path: manifest.clone(), n: 4 },
        ]
        .into_iter()
        .map(|l| {
            let d = crate::project::look(&l).1;
            (l, d)
        })
        .collect();
        let cache_dir = tempfile::tempdir().unwrap();
        let cache = cache_dir.path().to_path_buf();
        store(&cache, &key, &[], &[], &facts, &looks);
        assert!(load(&cache, &key).is_some());
        assert!(load(&cache, &Key { slot: "s".into(), full: "other".into() }).is_none());
        std::fs::write(&manifest, "django\nrequests\n").unwrap();
        assert!(load(&cache, &key).is_none(), "a changed file was not seen");
        // Each kind of look on its own.
        for (i, l) in looks.iter().enumerate() {
            let now: Vec<(Look, u64)> = vec![(l.0.clone(), crate::project::look(&l.0).1)];
            let k = Key { slot: format!("one{i}"), full: "f".into() };
            store(&cache, &k, &[], &[], &facts, &now);
            assert!(load(&cache, &k).is_some(), "{:?}", l.0);
            std::fs::write(&manifest, format!("{i}{}", "x".repeat(i))).unwrap();
            std::fs::write(dir.path().join(format!("new{i}")), "").unwrap();
            assert!(load(&cache, &k).is_none(), "{:?} did not see the change", l.0);
        }
    }
}
