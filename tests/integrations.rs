//! The tools users already run: golden output for text, Markdown and GitHub annotations,
//! baselines, `--diff-base`, SARIF provenance, and the real `pre-commit`.

mod common;

use common::*;

fn sample_project() -> Project {
    Project::new(&[
        ("manage.py", ""),
        ("shop/settings/__init__.py", ""),
        ("shop/settings/base.py", "INSTALLED_APPS = ['shop']\nROOT_URLCONF = 'shop.urls'\nDEBUG = True\n"),
        ("shop/settings/prod.py", "from .base import *\n\nALLOWED_HOSTS = ['*']\n"),
        ("frontend/src/api.ts", "export async function load() {\n  const r = await fetch('/api/');\n  console.log(r.status); // 100% sure, with: colon, and comma\n  return r.json();\n}\n"),
        ("shop/views.py", "def index(request):\n    # TODO: paginate\n    return None\n"),
    ])
}

/// Compares with `tests/golden/<name>`; `UPDATE_GOLDEN=1` rewrites the file instead.
fn golden(name: &str, actual: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(actual, expected, "output differs from tests/golden/{name} (UPDATE_GOLDEN=1 rewrites it)");
}

#[test]
fn golden_text_markdown_and_github() {
    let p = sample_project();
    for (format, file) in [("text", "sample.txt"), ("markdown", "sample.md"), ("github", "sample.github")] {
        let o = p.run(&["check", "--format", format, "--color", "never"]);
        assert_eq!(o.status.code(), Some(1));
        golden(file, &stdout(&o));
    }
}

#[test]
fn baseline_survives_unrelated_edits_and_reports_new_findings() {
    let p = sample_project();
    let o = p.run(&["check", "--write-baseline", "preflight-baseline.json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = p.run(&["check", "--format", "json", "--baseline", "preflight-baseline.json"]);
    assert_eq!((o.status.code(), triples(&o)), (Some(0), vec![]));
    // Lines move above every finding: still baselined.
    p.write(
        "shop/settings/base.py",
        "# Base settings.\n\nINSTALLED_APPS = ['shop']\nROOT_URLCONF = 'shop.urls'\nDEBUG = True\n",
    );
    p.write("frontend/src/api.ts", "// API client.\n\nexport async function load() {\n  const r = await fetch('/api/');\n  console.log(r.status); // 100% sure, with: colon, and comma\n  return r.json();\n}\n");
    let o = p.run(&["check", "--format", "json", "--baseline", "preflight-baseline.json"]);
    assert_eq!(triples(&o), vec![]);
    // A new finding is reported.
    p.write("shop/views.py", "def index(request):\n    # TODO: paginate\n    breakpoint()\n    return None\n");
    let o = p.run(&["check", "--format", "json", "--baseline", "preflight-baseline.json"]);
    assert_eq!((o.status.code(), triples(&o)), (Some(1), vec![t("debugger-statement", "shop/views.py", 3)]));
    // A broken baseline is an error the user must act on.
    p.write("bad.json", "{}");
    assert_eq!(p.run(&["check", "--baseline", "bad.json"]).status.code(), Some(2));
}

#[test]
fn diff_base_reports_only_new_lines() {
    let p = sample_project();
    p.git(&["init", "-q"]);
    p.git(&["add", "-A"]);
    p.git(&["commit", "-qm", "one"]);
    // Second commit: one new finding in a changed file, one in a new file; old ones stay.
    p.write("shop/views.py", "def index(request):\n    # TODO: paginate\n    breakpoint()\n    return None\n");
    p.write("frontend/src/new.ts", "console.debug('new');\n");
    p.git(&["add", "-A"]);
    p.git(&["commit", "-qm", "two"]);
    // And an untracked file counts as new.
    p.write("shop/extra.py", "import pdb\n");
    let o = p.run(&["check", "--format", "json", "--diff-base", "HEAD~1"]);
    assert_eq!(
        triples(&o),
        vec![
            t("console-log", "frontend/src/new.ts", 1),
            t("debugger-statement", "shop/extra.py", 1),
            t("debugger-statement", "shop/views.py", 3)
        ]
    );
    let o = p.run(&["check", "--format", "json", "--new-since", "HEAD"]);
    assert_eq!(triples(&o), vec![t("debugger-statement", "shop/extra.py", 1)]);
    let o = p.run(&["check", "--diff-base", "no-such-rev"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("`no-such-rev` is not a commit"), "{}", stderr(&o));
}

#[test]
fn sarif_names_the_repository_and_commit_without_credentials() {
    let p = sample_project();
    p.git(&["init", "-q"]);
    p.git(&["remote", "add", "origin", "https://x-access-token:ghs_secret@github.com/acme/shop.git"]);
    p.git(&["add", "-A"]);
    p.git(&["commit", "-qm", "one"]);
    let o = p.run(&["check", "--format", "sarif"]);
    let doc = stdout(&o);
    assert_valid_sarif(&doc);
    assert!(!doc.contains("ghs_secret"));
    let v: serde_json::Value = serde_json::from_str(&doc).unwrap();
    let vcp = &v["runs"][0]["versionControlProvenance"][0];
    assert_eq!(vcp["repositoryUri"], "https://github.com/acme/shop.git");
    assert_eq!(vcp["revisionId"].as_str().unwrap().len(), 40);
    assert_eq!(vcp["branch"], "refs/heads/main");
}

/// Drives the real `pre-commit` (installed by `.ci/run`): a commit adding `DEBUG = True` to a
/// production settings module is refused with the finding shown; a clean commit passes.
#[test]
fn pre_commit_hook_refuses_debug_true() {
    let Ok(version) = std::process::Command::new("pre-commit").arg("--version").output() else {
        if std::env::var_os("CI").is_some() {
            panic!("pre-commit is not installed; .ci/run installs it");
        }
        eprintln!("SKIPPED: pre-commit is not installed (pip install pre-commit)");
        return;
    };
    assert!(version.status.success());
    // pre-commit clones this repository at HEAD: the hook definition and the code as committed.
    let here = env!("CARGO_MANIFEST_DIR");
    let head = std::process::Command::new("git").args(["-C", here, "rev-parse", "HEAD"]).output().unwrap();
    let head = String::from_utf8_lossy(&head.stdout).trim().to_string();
    let p = Project::new(&[
        ("manage.py", ""),
        ("app/settings.py", "import os\nINSTALLED_APPS = ['app']\nROOT_URLCONF = 'app.urls'\nDEBUG = False\nSECRET_KEY = os.environ['SECRET_KEY']\n"),
        (".pre-commit-config.yaml", &format!("repos:\n  - repo: {here}\n    rev: {head}\n    hooks:\n      - id: preflight\n")),
    ]);
    p.git(&["init", "-q"]);
    p.git(&["add", "-A"]);
    let home = std::path::Path::new(here).join("target/pre-commit-home");
    let run = |args: &[&str]| {
        std::process::Command::new("pre-commit")
            .args(args)
            .current_dir(p.path())
            .env("PRE_COMMIT_HOME", &home)
            .output()
            .expect("pre-commit")
    };
    let o = run(&["install"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let commit = |msg: &str| {
        std::process::Command::new("git")
            .args(["-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", msg])
            .current_dir(p.path())
            .env("PRE_COMMIT_HOME", &home)
            // pre-commit builds the hook with `cargo install` (a release build); the test is
            // about the hook's behaviour, so a quick unoptimised build will do.
            .env("CARGO_PROFILE_RELEASE_LTO", "false")
            .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "0")
            .env("CARGO_PROFILE_RELEASE_DEBUG", "false")
            .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "256")
            .output()
            .unwrap()
    };
    let o = commit("clean");
    assert!(o.status.success(), "clean commit refused:\n{}{}", stdout(&o), stderr(&o));
    p.write("app/settings.py", "import os\nINSTALLED_APPS = ['app']\nROOT_URLCONF = 'app.urls'\nDEBUG = True\nSECRET_KEY = os.environ['SECRET_KEY']\n");
    p.git(&["add", "app/settings.py"]);
    let o = commit("debug on");
    let out = format!("{}{}", stdout(&o), stderr(&o));
    assert!(!o.status.success(), "commit with DEBUG = True passed:\n{out}");
    assert!(out.contains("app/settings.py:4:1: error[django-debug-enabled]"), "{out}");
}

/// `--diff-base` compares the work tree with REV itself (git never reads the work tree): its
/// edit script is as short as git's, so it inserts as many lines as `git diff` adds, on 300
/// random pairs of files over a small alphabet (many repeated lines, the ambiguous case).
#[test]
fn diff_base_lines_match_git_diff() {
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = (dir.path().join("old"), dir.path().join("new"));
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    for case in 0..300 {
        let (la, lb) = (next(30), next(30));
        let lines: Vec<&str> = (0..la + lb).map(|_| ["a\n", "b\n", "c\n", "}\n", "\n"][next(5) as usize]).collect();
        let (a, b) = (lines[..la as usize].concat(), lines[la as usize..].concat());
        std::fs::write(&old, &a).unwrap();
        std::fs::write(&new, &b).unwrap();
        let out = std::process::Command::new("git")
            .args(["diff", "--no-index", "--no-color", "-U0", "--diff-algorithm=myers"])
            .arg(&old)
            .arg(&new)
            .output()
            .unwrap();
        let diff = String::from_utf8(out.stdout).unwrap();
        let added = diff.lines().filter(|l| l.starts_with('+') && !l.starts_with("+++")).count();
        let ours: usize =
            preflight::gitdiff::new_lines(a.as_bytes(), b.as_bytes()).iter().map(|(s, e)| e - s + 1).sum();
        assert_eq!(ours, added, "case {case}:\n--- old\n{a}--- new\n{b}--- git\n{diff}");
    }
}
