//! Regression tests for smaller defects: the settings star-import cycle (issue 28, item 7), rule
//! selection and cross-rule deduplication, and debugger imports (issue 25).

mod common;

use common::*;

/// Issue 28, item 7: `a.py: from .b import *` and `b.py: from .a import *`, both production
/// settings: each was imported by the other, so neither was a root and nobody judged them.
#[test]
fn settings_star_import_cycle_is_judged() {
    let p = Project::new(&[
        ("manage.py", ""),
        ("proj/__init__.py", ""),
        ("proj/settings/__init__.py", ""),
        ("proj/settings/a.py", "from .b import *\n\nDEBUG = True\nINSTALLED_APPS = ['proj']\n"),
        ("proj/settings/b.py", "from .a import *\n\nROOT_URLCONF = 'proj.urls'\n"),
    ]);
    let o = p.run(&["check", "--format", "json", "--select", "django-debug-enabled"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v[0]["path"], "proj/settings/a.py");
    assert_eq!(v[0]["line"], 3);
    assert_eq!(
        v[0]["message"],
        "DEBUG = True in production settings: set `DEBUG = False` (or read it from the environment with a False \
         default) (in effect for `proj/settings/b.py`)"
    );
    // A module imported from outside the cycle is not a root: only prod.py is (one finding,
    // in effect for prod.py alone).
    p.write("proj/settings/prod.py", "from .a import *\n");
    let o = p.run(&["check", "--format", "json", "--select", "django-debug-enabled"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1, "{v}");
    assert_eq!(
        v[0]["message"],
        "DEBUG = True in production settings: set `DEBUG = False` (or read it from the environment with a False \
         default) (in effect for `proj/settings/prod.py`)"
    );
}

type Found = std::collections::BTreeSet<(String, usize, &'static str)>;

fn findings_with(dir: &std::path::Path, rules: &[&str]) -> Found {
    use preflight::engine::{run, Scan};
    let config = preflight::config::Config::load(dir).unwrap();
    let scan = Scan { dirs: vec![dir.to_path_buf()], files: vec![], root: dir.to_path_buf() };
    let selected: Vec<bool> = preflight::catalog::RULES.iter().map(|r| rules.contains(&r.id)).collect();
    let out = run(&scan, &config, &selected, 2).unwrap();
    out.findings.into_iter().map(|f| (f.path, f.line, f.rule.id)).collect()
}

/// Issue 25: secret-hardcoded deferred SECRET_KEY in settings modules to
/// django-secret-key-hardcoded without knowing whether that rule runs, so with it switched off
/// a hardcoded key was reported by nobody. Over every combination of the rules involved (and
/// an unrelated settings rule), on both rules' fixtures: each selected rule yields exactly its
/// findings of the full run, and a key the Django rule reports is reported by secret-hardcoded
/// when that rule runs alone.
#[test]
fn every_selection_including_a_rule_yields_its_findings() {
    const SH: &str = "secret-hardcoded";
    const DJ: &str = "django-secret-key-hardcoded";
    const UNIVERSE: [&str; 3] = [SH, DJ, "django-debug-enabled"];
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    for tree in [DJ, SH] {
        let dir = root.join(tree);
        let all = findings_with(&dir, &UNIVERSE);
        let of = |rule: &str| -> Found { all.iter().filter(|f| f.2 == rule).cloned().collect() };
        assert!(!of(DJ).is_empty() || tree == SH, "{tree}: the Django rule reports nothing: {all:?}");
        assert!(!of(SH).is_empty() || tree == DJ, "{tree}: secret-hardcoded reports nothing: {all:?}");
        for mask in 1..(1 << UNIVERSE.len()) {
            let sel: Vec<&str> =
                UNIVERSE.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, r)| *r).collect();
            let got = findings_with(&dir, &sel);
            let mut want = Found::new();
            for &rule in &sel {
                want.extend(of(rule));
            }
            if sel.contains(&SH) && !sel.contains(&DJ) {
                want.extend(of(DJ).into_iter().map(|(p, l, _)| (p, l, SH)));
            }
            assert_eq!(got, want, "{tree} with --select {}", sel.join(","));
        }
    }
}

/// The same through the command line: config `ignore` and `--select` without the Django rule.
#[test]
fn hardcoded_secret_key_is_reported_with_the_django_rule_switched_off() {
    let key = ["django-insecure-", "q8n2xv0m4k7s9t1w3y5z6b8c0"].concat();
    let p = Project::new(&[
        ("manage.py", ""),
        (
            "proj/settings.py",
            &format!("SECRET_KEY = \"{key}\"\nINSTALLED_APPS = ['proj']\nROOT_URLCONF = 'proj.urls'\n"),
        ),
    ]);
    let message = "SECRET_KEY is hardcoded (\"djan…\" (41 chars)): read it from the environment with no fallback, \
                   `SECRET_KEY = os.environ[\"SECRET_KEY\"]`, and rotate the key";
    let only = |o: &std::process::Output, rule: &str| {
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let hits: Vec<_> = v.as_array().unwrap().iter().filter(|f| f["line"] == 1 && f["level"] == "error").collect();
        assert_eq!(hits.len(), 1, "{v}");
        assert_eq!((hits[0]["rule"].as_str(), hits[0]["path"].as_str()), (Some(rule), Some("proj/settings.py")));
        assert_eq!(hits[0]["message"], message);
        assert!(!String::from_utf8_lossy(&o.stdout).contains(&key));
    };
    only(&p.run(&["check", "--format", "json"]), "django-secret-key-hardcoded");
    only(&p.run(&["check", "--format", "json", "--select", "secret-hardcoded"]), "secret-hardcoded");
    only(&p.run(&["check", "--format", "json", "--ignore", "django-secret-key-hardcoded"]), "secret-hardcoded");
    p.write("preflight.toml", "ignore = [\"django-secret-key-hardcoded\"]\n");
    only(&p.run(&["check", "--format", "json"]), "secret-hardcoded");
    // Suppressed for secret-hardcoded: suppressed whichever rule reports it.
    p.write(
        "proj/settings.py",
        &format!("SECRET_KEY = \"{key}\"  # preflight: ignore[secret-hardcoded] rotated\nINSTALLED_APPS = ['proj']\n"),
    );
    let o = p.run(&["check", "--format", "json"]);
    // What is left is what the settings do not set up: a shared cache, logging, error tracking,
    // metrics.
    assert_eq!(
        triples(&o),
        vec![
            t("django-cache-not-configured", "proj/settings.py", 1),
            t("django-logging-not-configured", "proj/settings.py", 1),
            t("error-tracking-missing", "proj/settings.py", 1),
            t("metrics-missing", "proj/settings.py", 1)
        ],
        "{}",
        stdout(&o)
    );
}

/// Issue 25: debugger-statement flagged a project's own `set_trace()`. A bare call is a
/// debugger's only when the name comes from one (under any alias).
#[test]
fn project_set_trace_is_not_a_debugger() {
    let p = Project::new(&[
        ("app/trace.py", "def set_trace(name):\n    return name\n"),
        ("app/views.py", "from app.trace import set_trace\n\n\ndef view(request):\n    set_trace('view')\n"),
        ("app/jobs.py", "from pudb import set_trace as st\n\n\ndef job():\n    st()\n"),
    ]);
    let o = p.run(&["check", "--format", "json", "--select", "debugger-statement"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let got: Vec<(&str, u64, &str)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["path"].as_str().unwrap(), f["line"].as_u64().unwrap(), f["message"].as_str().unwrap()))
        .collect();
    assert_eq!(
        got,
        [
            ("app/jobs.py", 1, "`from pudb import ...` left in the code: remove it before committing"),
            ("app/jobs.py", 5, "`st()` left in the code: remove it before committing"),
        ]
    );
}
