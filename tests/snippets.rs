//! Snippet tests: the quickest spec of each rule. The `[[case]]` tables at the end of
//! `rules/<rule-id>.toml` (beside the rule's metadata and docs) are cases, each a few small
//! files and the exact `"path:line"` of every finding of that rule alone:
//!
//! ```toml
//! [[case]]
//! name = "mark_safe of an f-string with request data"
//! expect = ["app/views.py:4"]   # [] = the rule stays silent
//! [case.files]
//! "app/views.py" = """
//! ...
//! """
//! ```
//!
//! A case runs in memory (`engine::run_in_memory`, default config, only its rule selected).
//! Rules that read the work tree or git's index (env files, manifests, CI workflows, committed
//! artifacts and images) say `run = "disk"` (the files written to a temporary folder and walked
//! as the command line does) or `run = "git"` (the same, with every file added to git's index).
//! `with = ["todo-fixme"]` selects other rules too (unused-suppression judges their markers).
//! `[case.binary]` gives files of raw bytes: `{ hex = "89504e47...", size = 409600 }` is the hex
//! bytes, padded with zeros to `size`.
//!
//! Every rule of the catalogue has at least two cases where it fires and two where it must stay
//! silent. `SNIPPETS=<rule-id> cargo test --test snippets` runs one rule's cases.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use preflight::catalog::RULES;
use preflight::config::{Config, RawConfig};
use preflight::engine::{run, run_in_memory, Scan};

/// A rule's file: its metadata and docs (read by build.rs) and its cases.
#[derive(serde::Deserialize)]
struct SnippetFile {
    #[serde(default)]
    case: Vec<Case>,
}

#[derive(serde::Deserialize, Default, Clone, Copy, PartialEq, Debug)]
#[serde(rename_all = "lowercase")]
enum Mode {
    #[default]
    Memory,
    Disk,
    Git,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Binary {
    hex: String,
    size: usize,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    expect: Vec<String>,
    #[serde(default)]
    files: BTreeMap<String, String>,
    #[serde(default)]
    binary: BTreeMap<String, Binary>,
    #[serde(default)]
    run: Mode,
    /// Other rules selected too (their findings are not compared): unused-suppression judges
    /// the markers of the rules that ran.
    #[serde(default)]
    with: Vec<String>,
}

fn snippets_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("rules")
}

fn load(rule: &str) -> Result<Vec<Case>, String> {
    let path = snippets_dir().join(format!("{rule}.toml"));
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let file: SnippetFile = toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(file.case)
}

fn unhex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex bytes")).collect()
}

/// The case's files as (relative path, bytes).
fn contents(case: &Case) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> =
        case.files.iter().map(|(p, t)| (p.clone(), t.clone().into_bytes())).collect();
    for (p, b) in &case.binary {
        let mut bytes = unhex(&b.hex);
        bytes.resize(b.size.max(bytes.len()), 0);
        files.push((p.clone(), bytes));
    }
    files
}

fn git(dir: &Path, args: &[&str]) {
    let st = std::process::Command::new("git")
        .args(["-c", "user.email=t@example.com", "-c", "user.name=t", "-c", "init.defaultBranch=main"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(st.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&st.stderr));
}

/// Runs one case with only `rule` selected; returns `"path:line"` of each of the rule's findings.
fn findings(rule: &str, case: &Case) -> BTreeSet<String> {
    let selected: Vec<bool> = RULES.iter().map(|r| r.id == rule || case.with.iter().any(|w| w == r.id)).collect();
    assert!(selected.contains(&true), "unknown rule {rule}");
    let outcome = match case.run {
        Mode::Memory => {
            let config = Config::from_raw(RawConfig::default(), None).expect("default config");
            run_in_memory(contents(case), &config, &selected)
        }
        Mode::Disk | Mode::Git => {
            let dir = tempfile::tempdir().unwrap();
            for (rel, bytes) in contents(case) {
                let p = dir.path().join(rel);
                std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                std::fs::write(p, bytes).unwrap();
            }
            if case.run == Mode::Git {
                git(dir.path(), &["init", "-q"]);
                git(dir.path(), &["add", "-A"]);
            }
            let config = Config::load(dir.path()).unwrap();
            let scan = Scan { dirs: vec![dir.path().to_path_buf()], files: vec![], root: dir.path().to_path_buf() };
            run(&scan, &config, &selected, 1).unwrap()
        }
    };
    outcome.findings.iter().filter(|f| f.rule.id == rule).map(|f| format!("{}:{}", f.path, f.line)).collect()
}

/// Checks one case: `Err` says what differs, with the case's name.
fn check(rule: &str, case: &Case) -> Result<(), String> {
    let expected: BTreeSet<String> = case.expect.iter().cloned().collect();
    if expected.len() != case.expect.len() {
        return Err(format!("{rule} / {}: an expectation is listed twice: {:?}", case.name, case.expect));
    }
    let known: BTreeSet<&String> = case.files.keys().chain(case.binary.keys()).collect();
    for e in &expected {
        let path = e.rsplit_once(':').map_or(e.as_str(), |(p, _)| p);
        // A file of the case, or a folder holding some (artifact-committed reports folders).
        if !known.iter().any(|k| *k == path || k.starts_with(&format!("{path}/"))) {
            return Err(format!("{rule} / {}: expectation {e} names no file of the case", case.name));
        }
    }
    let got = findings(rule, case);
    if got == expected {
        Ok(())
    } else {
        Err(format!("{rule} / {}:\n  expected {:?}\n  got      {:?}", case.name, expected, got))
    }
}

/// Every case of one rule's file; the failures, all of them.
fn failures(rule: &str) -> Vec<String> {
    match load(rule) {
        Ok(cases) => cases.iter().filter_map(|c| check(rule, c).err()).collect(),
        Err(e) => vec![e],
    }
}

#[test]
fn every_rule_passes_its_snippets() {
    let only = std::env::var("SNIPPETS").ok();
    let mut all = Vec::new();
    let mut cases = 0;
    for rule in RULES.iter().map(|r| r.id).filter(|id| only.as_deref().is_none_or(|o| o == *id)) {
        cases += load(rule).map_or(0, |c| c.len());
        all.extend(failures(rule));
    }
    assert!(cases > 0, "no snippet case ran (SNIPPETS={only:?})");
    assert!(all.is_empty(), "{} of {cases} snippet cases failed:\n{}", all.len(), all.join("\n"));
}

#[test]
fn every_rule_has_two_failing_and_two_passing_snippets() {
    let mut problems = Vec::new();
    for rule in RULES.iter().map(|r| r.id) {
        match load(rule) {
            Ok(cases) => {
                let fire = cases.iter().filter(|c| !c.expect.is_empty()).count();
                let silent = cases.len() - fire;
                if fire < 2 || silent < 2 {
                    problems.push(format!("{rule}: {fire} failing and {silent} passing cases, 2 of each at least"));
                }
                let names: BTreeSet<&str> = cases.iter().map(|c| c.name.as_str()).collect();
                if names.len() != cases.len() {
                    problems.push(format!("{rule}: two cases have the same name"));
                }
            }
            Err(e) => problems.push(format!("{rule}: its cases cannot be read ({e})")),
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The runner cannot pass vacuously: a wrong line, a finding not expected and a finding
/// missing are each caught, and the right expectation passes.
#[test]
fn the_runner_catches_a_wrong_expectation() {
    let case = |expect: &[&str]| Case {
        name: "probe".into(),
        expect: expect.iter().map(|s| s.to_string()).collect(),
        files: [(
            "src/App.jsx".to_string(),
            "export function App() {\n  console.log('hi');\n  return null;\n}\n".into(),
        )]
        .into(),
        binary: BTreeMap::new(),
        run: Mode::Memory,
        with: vec![],
    };
    assert_eq!(check("console-log", &case(&["src/App.jsx:2"])), Ok(()));
    let wrong_line = check("console-log", &case(&["src/App.jsx:3"])).unwrap_err();
    assert!(wrong_line.contains("expected {\"src/App.jsx:3\"}") && wrong_line.contains("got      {\"src/App.jsx:2\"}"));
    assert!(check("console-log", &case(&[])).unwrap_err().contains("probe"));
    assert!(check("console-log", &case(&["src/App.jsx:2", "src/App.jsx:3"])).is_err());
    assert!(check("console-log", &case(&["src/Other.jsx:2"])).unwrap_err().contains("names no file"));
    // Another rule's findings are not this rule's.
    assert!(check("todo-fixme", &case(&["src/App.jsx:2"])).is_err());
    assert_eq!(check("todo-fixme", &case(&[])), Ok(()));
    // On disk, the same.
    let mut on_disk = case(&["src/App.jsx:2"]);
    on_disk.run = Mode::Disk;
    assert_eq!(check("console-log", &on_disk), Ok(()));
    on_disk.expect = vec![];
    assert!(check("console-log", &on_disk).is_err());
}
