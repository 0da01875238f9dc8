//! Runs the scanner over every `fixtures/<rule-id>/` tree and compares the findings with the
//! inline marks, exactly: `expect: <id>[, <id>]` in a comment on the line that must be flagged
//! (`# expect: ...`, `// expect: ...`, `{/* expect: ... */}`, `<!-- expect: ... -->`,
//! `{# expect: ... #}`), or a line `path:line rule-id` in a sidecar `expect.txt` for files that
//! cannot hold comments. Every rule runs on every tree, so a rule that fires in another rule's
//! fixtures fails too. Tricky negatives carry an `ok: <reason>` comment and are counted.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use preflight::catalog::RULES;
use preflight::config::Config;
use preflight::engine::{run, Scan};

type Mark = (String, usize, String);

fn fixtures_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        let ft = std::fs::symlink_metadata(&p).unwrap().file_type();
        if ft.is_dir() {
            files_under(&p, out);
        } else if ft.is_file() {
            out.push(p);
        }
    }
}

fn marks_in(dir: &Path) -> (BTreeSet<Mark>, usize) {
    let re = regex::Regex::new(r"expect: *([a-z0-9-]+(?: *, *[a-z0-9-]+)*)").unwrap();
    let mut marks = BTreeSet::new();
    let mut oks = 0;
    let mut files = Vec::new();
    files_under(dir, &mut files);
    for f in files {
        let rel = f.strip_prefix(dir).unwrap().to_string_lossy().replace('\\', "/");
        let Ok(text) = std::fs::read(&f) else {
            continue;
        };
        let text = String::from_utf8_lossy(&text);
        if rel == "expect.txt" {
            for line in text.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')) {
                let (loc, id) = line.split_once(' ').expect("expect.txt: `path:line rule-id`");
                let (path, n) = loc.rsplit_once(':').unwrap();
                marks.insert((path.to_string(), n.parse().unwrap(), id.trim().to_string()));
            }
            continue;
        }
        // Line numbering must agree with the scanner's (\r\n, \n and lone \r end a line).
        let normalised = text.replace("\r\n", "\n").replace('\r', "\n");
        for (i, line) in normalised.lines().enumerate() {
            if let Some(c) = re.captures(line) {
                for id in c[1].split(',') {
                    marks.insert((rel.clone(), i + 1, id.trim().to_string()));
                }
            }
            oks += line.matches("ok: ").count();
        }
    }
    (marks, oks)
}

fn findings_in(dir: &Path) -> BTreeSet<Mark> {
    let config = Config::load(dir).unwrap();
    let scan = Scan { dirs: vec![dir.to_path_buf()], files: vec![], root: dir.to_path_buf() };
    // A fixture tree may switch rules off in its preflight.toml (the settings fixtures of one
    // rule are not about Django's deploy checks, which have their own tree).
    let selected = preflight::cli::selection(&[], &[], &config).unwrap();
    let out = run(&scan, &config, &selected, 2).unwrap();
    out.findings.into_iter().map(|f| (f.path, f.line, f.rule.id.to_string())).collect()
}

/// The fewest marked positives and `ok:` negatives a rule's fixture tree must have.
fn minimum(rule: &str) -> (usize, usize) {
    match rule {
        "blanket-suppression" | "env-file-committed" | "unused-suppression" => (3, 3),
        "console-log" | "debugger-statement" | "todo-fixme" => (12, 12),
        "django-migration-irreversible" | "django-migration-unsafe" => (12, 12),
        "secret-hardcoded" => (15, 40),
        "sql-injection" | "xss-unsafe-html" | "csrf-disabled" | "django-deploy-check" => (12, 12),
        // Project-level rules report once per project: fewer positives, one per project missing the thing.
        "django-cache-not-configured"
        | "django-logging-not-configured"
        | "error-tracking-missing"
        | "health-endpoint-missing"
        | "django-static-not-compressed"
        | "metrics-missing"
        | "image-unoptimized" => (3, 5),
        // One repository per tree: one CI finding (tests/setup_rules.rs has the set-up variants).
        "ci-security-scan-missing" => (1, 5),
        _ => (10, 10),
    }
}

#[test]
fn every_fixture_tree_matches_its_marks() {
    let mut failures = Vec::new();
    for rule in RULES {
        let dir = fixtures_root().join(rule.id);
        let (expected, oks) = marks_in(&dir);
        let got = findings_in(&dir);
        let missing: Vec<_> = expected.difference(&got).collect();
        let unexpected: Vec<_> = got.difference(&expected).collect();
        for m in &missing {
            failures.push(format!("fixtures/{}: missing (FN) {}:{} {}", rule.id, m.0, m.1, m.2));
        }
        for m in &unexpected {
            failures.push(format!("fixtures/{}: unexpected (FP) {}:{} {}", rule.id, m.0, m.1, m.2));
        }
        let own = expected.iter().filter(|m| m.2 == rule.id).count();
        let (min_pos, min_neg) = minimum(rule.id);
        if own < min_pos || oks < min_neg {
            failures.push(format!(
                "fixtures/{}: {own} positives and {oks} `ok:` negatives; at least {min_pos} and {min_neg} required",
                rule.id
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}\n", failures.join("\n"));
}

/// A pre-commit hook names the staged files: for each of them preflight must report exactly
/// what a run over the whole tree reports in that file, project context (settings chain,
/// model graph, migration history) included. Checked file by file on every fixture tree.
#[test]
fn named_files_get_the_findings_of_the_whole_run() {
    let mut failures = Vec::new();
    for rule in RULES {
        let dir = fixtures_root().join(rule.id);
        let config = Config::load(&dir).unwrap();
        let selected = preflight::cli::selection(&[], &[], &config).unwrap();
        let whole = findings_in(&dir);
        let files: BTreeSet<&String> = whole.iter().map(|m| &m.0).collect();
        for rel in files {
            let scan = Scan { dirs: vec![dir.clone()], files: vec![dir.join(rel)], root: dir.clone() };
            let got: BTreeSet<Mark> = run(&scan, &config, &selected, 2)
                .unwrap()
                .findings
                .into_iter()
                .map(|f| (f.path, f.line, f.rule.id.to_string()))
                .collect();
            let want: BTreeSet<Mark> = whole.iter().filter(|m| &m.0 == rel).cloned().collect();
            if got != want {
                failures.push(format!("fixtures/{}/{rel}: named {got:?}, whole run {want:?}", rule.id));
            }
        }
    }
    assert!(failures.is_empty(), "\n{}\n", failures.join("\n"));
}
