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
    for (format, file) in [
        ("text", "sample.txt"),
        ("markdown", "sample.md"),
        ("github", "sample.github"),
        ("gitlab", "sample.gitlab.json"),
        ("junit", "sample.junit.xml"),
    ] {
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
        ("app/settings.py", "import os\nINSTALLED_APPS = ['app']\nROOT_URLCONF = 'app.urls'\nDEBUG = False\nSECRET_KEY = os.environ['SECRET_KEY']\nLOGGING = {'version': 1, 'handlers': {'console': {'class': 'logging.StreamHandler'}}, 'root': {'handlers': ['console']}}\n"),
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
    p.write("app/settings.py", "import os\nINSTALLED_APPS = ['app']\nROOT_URLCONF = 'app.urls'\nDEBUG = True\nSECRET_KEY = os.environ['SECRET_KEY']\nLOGGING = {'version': 1, 'handlers': {'console': {'class': 'logging.StreamHandler'}}, 'root': {'handlers': ['console']}}\n");
    p.git(&["add", "app/settings.py"]);
    let o = commit("debug on");
    let out = format!("{}{}", stdout(&o), stderr(&o));
    assert!(!o.status.success(), "commit with DEBUG = True passed:\n{out}");
    assert!(out.contains("app/settings.py:4:1: error[django-debug-enabled]"), "{out}");
}

/// `--fail-on` sets the lowest level that fails the run; `--exit-zero` and `never` pass always.
#[test]
fn fail_on_chooses_the_level_that_fails() {
    let warnings_only = Project::new(&[("frontend/src/api.ts", "export function f() {\n  console.log('x');\n}\n")]);
    let p = sample_project();
    let code = |p: &Project, args: &[&str]| p.run(&[&["check", "--quiet"], args].concat()).status.code();
    assert_eq!(code(&warnings_only, &[]), Some(1), "default: warnings fail");
    assert_eq!(code(&warnings_only, &["--fail-on", "warning"]), Some(1));
    assert_eq!(code(&warnings_only, &["--fail-on", "note"]), Some(1));
    assert_eq!(code(&warnings_only, &["--fail-on", "error"]), Some(0));
    assert_eq!(code(&p, &["--fail-on", "error"]), Some(1), "the sample project has errors");
    assert_eq!(code(&p, &["--fail-on", "never"]), Some(0));
    assert_eq!(code(&p, &["--exit-zero"]), Some(0));
    // An error of the run itself is exit 2 whatever --fail-on says.
    assert_eq!(code(&p, &["--fail-on", "never", "--select", "no-such-rule"]), Some(2));
}

/// One scan writes several reports: annotations on stdout (errors first, for GitHub's cap of
/// ten per level), SARIF, a job summary, GitLab code quality and JUnit files, all the same
/// findings.
#[test]
fn one_scan_writes_several_formats() {
    let p = sample_project();
    let o = p.run(&[
        "check",
        "--format",
        "github",
        "--output-format",
        "sarif:out/report.sarif",
        "--output-format",
        "markdown:summary.md",
        "--output-format",
        "gitlab:gl.json",
        "--output-format",
        "junit:junit.xml",
    ]);
    // No folder `out/`: an error naming the file, exit 2.
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("out/report.sarif"), "{}", stderr(&o));
    std::fs::create_dir(p.path().join("out")).unwrap();
    let o = p.run(&[
        "check",
        "--format",
        "github",
        "--output-format",
        "sarif:out/report.sarif",
        "--output-format",
        "markdown:summary.md",
        "--output-format",
        "gitlab:gl.json",
        "--output-format",
        "junit:junit.xml",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let annotations = stdout(&o);
    let levels: Vec<&str> = annotations.lines().map(|l| l.split_once(' ').map_or(l, |(cmd, _)| cmd)).collect();
    assert_eq!(
        levels,
        ["::error", "::error", "::warning", "::warning", "::warning", "::notice", "::notice", "::notice"],
        "{}",
        stdout(&o)
    );
    let read = |f: &str| std::fs::read_to_string(p.path().join(f)).unwrap();
    let sarif = read("out/report.sarif");
    assert_valid_sarif(&sarif);
    let v: serde_json::Value = serde_json::from_str(&sarif).unwrap();
    assert_eq!(v["runs"][0]["results"].as_array().unwrap().len(), 8);
    assert!(read("summary.md").contains("django-debug-enabled"));
    let gl: serde_json::Value = serde_json::from_str(&read("gl.json")).unwrap();
    let checks: Vec<(&str, &str, u64)> = gl
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["check_name"].as_str().unwrap(),
                i["location"]["path"].as_str().unwrap(),
                i["location"]["lines"]["begin"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        checks,
        [
            ("console-log", "frontend/src/api.ts", 3),
            ("django-debug-enabled", "shop/settings/base.py", 3),
            ("django-cache-not-configured", "shop/settings/prod.py", 1),
            ("django-logging-not-configured", "shop/settings/prod.py", 1),
            ("error-tracking-missing", "shop/settings/prod.py", 1),
            ("metrics-missing", "shop/settings/prod.py", 1),
            ("django-allowed-hosts-wildcard", "shop/settings/prod.py", 3),
            ("todo-fixme", "shop/views.py", 2)
        ]
    );
    let junit = read("junit.xml");
    assert_eq!(junit.matches("<testcase ").count(), 8);
    assert_eq!(junit.matches("<failure ").count(), 8);
    assert!(junit.contains("<testsuites name=\"preflight\" tests=\"8\" failures=\"8\">"), "{junit}");
    // An unknown format is a usage error.
    let o = p.run(&["check", "--output-format", "yaml:x.yml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown format `yaml`"), "{}", stderr(&o));
}

/// The SARIF needs no web page: each rule's help holds what, why, example, fix and references,
/// and no URI points at a home that is not preflight's.
#[test]
fn sarif_rule_help_is_complete_without_links() {
    let p = sample_project();
    let doc = stdout(&p.run(&["check", "--format", "sarif"]));
    assert!(!doc.contains("helpUri") && !doc.contains("informationUri"));
    let v: serde_json::Value = serde_json::from_str(&doc).unwrap();
    for rule in v["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap() {
        let text = rule["help"]["text"].as_str().unwrap();
        let md = rule["help"]["markdown"].as_str().unwrap();
        for part in ["Why: ", "Example:\n", "Use instead:\n"] {
            assert!(text.contains(part), "{}: help text lacks {part:?}", rule["id"]);
        }
        assert!(md.contains("## Why it matters") && md.contains("## Use instead"), "{}", rule["id"]);
    }
}

/// The repository names no other project as its home, and the pre-commit mirror pins the
/// version being built.
#[test]
fn no_borrowed_identity_and_the_mirror_pins_this_version() {
    let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let files = std::process::Command::new("git").args(["-C"]).arg(here).args(["ls-files", "-z"]).output().unwrap();
    assert!(files.status.success());
    let mut checked = 0;
    for rel in files.stdout.split(|&b| b == 0).filter(|b| !b.is_empty()) {
        let rel = String::from_utf8_lossy(rel);
        if rel.starts_with("fixtures/") || rel.starts_with("tests/") {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(here.join(&*rel)) else { continue };
        assert!(!text.contains("preflight-dev/preflight"), "{rel} names another project's repository");
        checked += 1;
    }
    assert!(checked > 50, "only {checked} files checked");
    let version = env!("CARGO_PKG_VERSION");
    let mirror = std::fs::read_to_string(here.join("pre-commit-mirror/pyproject.toml")).unwrap();
    assert!(mirror.contains(&format!("version = \"{version}\"")), "mirror version is not {version}");
    assert!(mirror.contains(&format!("\"preflight-django=={version}\"")), "mirror does not pin {version}");
    let action = std::fs::read_to_string(here.join("action.yml")).unwrap();
    assert!(action.contains(&format!("default: \"{version}\"")), "action.yml does not install {version}");
}

/// The hooks of `pre-commit-mirror/` (language: python) install the preflight-django wheel, so
/// pre-commit needs no Rust: from a clone of the mirror, with the wheel `.ci/run` built (its
/// folder in PREFLIGHT_WHEELHOUSE), a commit adding `DEBUG = True` to production settings is
/// refused and a clean one passes. The first run's time (environment included) is written to
/// target/pre-commit-python-first-run.txt, which `.ci/run` prints.
#[test]
fn pre_commit_python_hook_needs_no_rust() {
    let Ok(version) = std::process::Command::new("pre-commit").arg("--version").output() else {
        if std::env::var_os("CI").is_some() {
            panic!("pre-commit is not installed; .ci/run installs it");
        }
        eprintln!("SKIPPED: pre-commit is not installed (pip install pre-commit)");
        return;
    };
    assert!(version.status.success());
    let Some(wheelhouse) = std::env::var_os("PREFLIGHT_WHEELHOUSE") else {
        if std::env::var_os("CI").is_some() {
            panic!("PREFLIGHT_WHEELHOUSE is not set; .ci/run builds the wheel and sets it");
        }
        eprintln!("SKIPPED: PREFLIGHT_WHEELHOUSE is not set (maturin build --release --locked -o DIR)");
        return;
    };
    let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    // The mirror as its own repository, as users would point at it.
    let mirror = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(here.join("pre-commit-mirror")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), mirror.path().join(entry.file_name())).unwrap();
    }
    let git = |dir: &std::path::Path, args: &[&str]| {
        let o = std::process::Command::new("git")
            .args(["-c", "user.email=t@example.com", "-c", "user.name=t", "-c", "init.defaultBranch=main"])
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(o.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    };
    git(mirror.path(), &["init", "-q"]);
    git(mirror.path(), &["add", "-A"]);
    git(mirror.path(), &["commit", "-qm", "mirror"]);
    let rev = git(mirror.path(), &["rev-parse", "HEAD"]);
    let settings = |debug: &str| {
        format!("import os\nINSTALLED_APPS = ['app']\nROOT_URLCONF = 'app.urls'\nDEBUG = {debug}\nSECRET_KEY = os.environ['SECRET_KEY']\nLOGGING = {{'version': 1, 'handlers': {{'console': {{'class': 'logging.StreamHandler'}}}}, 'root': {{'handlers': ['console']}}}}\n")
    };
    let config =
        format!("repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: preflight\n", mirror.path().display());
    let p = Project::new(&[
        ("manage.py", ""),
        ("app/settings.py", &settings("False")),
        (".pre-commit-config.yaml", &config),
    ]);
    p.git(&["init", "-q"]);
    p.git(&["add", "-A"]);
    // A fresh pre-commit home: the first run creates the hook's environment.
    let home = tempfile::tempdir().unwrap();
    let commit = |msg: &str| {
        std::process::Command::new("git")
            .args(["-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", msg])
            .current_dir(p.path())
            .env("PRE_COMMIT_HOME", home.path())
            .env("PIP_FIND_LINKS", &wheelhouse)
            .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
            // No cargo on the way: the wheel must be used, never a build from source.
            .env("CARGO", "/nonexistent/cargo")
            .env("PATH", path_without_cargo())
            .output()
            .unwrap()
    };
    let o = std::process::Command::new("pre-commit")
        .arg("install")
        .current_dir(p.path())
        .env("PRE_COMMIT_HOME", home.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let started = std::time::Instant::now();
    let o = commit("clean");
    let first_run = started.elapsed();
    assert!(o.status.success(), "clean commit refused:\n{}{}", stdout(&o), stderr(&o));
    let _ = std::fs::write(
        here.join("target/pre-commit-python-first-run.txt"),
        format!(
            "pre-commit python hook, first run (environment and wheel install included): {:.1} s\n",
            first_run.as_secs_f64()
        ),
    );
    p.write("app/settings.py", &settings("True"));
    p.git(&["add", "app/settings.py"]);
    let o = commit("debug on");
    let out = format!("{}{}", stdout(&o), stderr(&o));
    assert!(!o.status.success(), "commit with DEBUG = True passed:\n{out}");
    assert!(out.contains("app/settings.py:4:1: error[django-debug-enabled]"), "{out}");
}

/// PATH without the folders that hold cargo or rustc.
fn path_without_cargo() -> std::ffi::OsString {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let kept: Vec<std::path::PathBuf> =
        std::env::split_paths(&path).filter(|d| !d.join("cargo").exists() && !d.join("rustc").exists()).collect();
    std::env::join_paths(kept).unwrap()
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
