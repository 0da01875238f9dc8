//! Time that grows faster than the input: each case here took from minutes to hours before its
//! fix (numbers in the commit messages) and must now finish within a few seconds. The binary
//! runs under a deadline, so a regression fails instead of hanging the suite.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// Runs `preflight <args>` in `dir`; fails the test if it has not finished within `secs`.
fn run_within(dir: &Path, args: &[&str], secs: u64) -> Output {
    let out = tempfile::tempdir().unwrap();
    let (o, e) = (out.path().join("stdout"), out.path().join("stderr"));
    // PREFLIGHT_TEST_BIN runs another build (an older one, to see a case fail without its fix).
    let bin = std::env::var_os("PREFLIGHT_TEST_BIN").map_or_else(bin, Into::into);
    let mut child = Command::new(bin)
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdout(Stdio::from(std::fs::File::create(&o).unwrap()))
        .stderr(Stdio::from(std::fs::File::create(&e).unwrap()))
        .spawn()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if started.elapsed() > Duration::from_secs(secs) {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("preflight {:?} still running after {secs} s", &args[..args.len().min(5)]);
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output { status, stdout: std::fs::read(&o).unwrap(), stderr: std::fs::read(&e).unwrap() }
}

#[test]
fn a_variable_reassigned_from_itself_many_times_is_analysed_in_linear_time() {
    // Each `q = q + helper(i)` made the taint analysis follow every earlier assignment again:
    // 8 reassignments took 1 s, 16 take minutes.
    let mut safe = String::from("from django.db import connection\n\n\ndef report(request):\n    q = \"1\"\n");
    for i in 0..24 {
        safe.push_str(&format!("    q = q + helper({i})\n"));
    }
    safe.push_str("    with connection.cursor() as c:\n        c.execute(f\"SELECT * FROM t WHERE {q}\")\n");
    // The same chain with a request parameter at its end is still found.
    let unsafe_ = safe
        .replace("def report(request):", "def search(request, term):")
        .replace("    with connection.cursor()", "    q = q + term\n    with connection.cursor()");
    let p = Project::new(&[("app/reports.py", &safe), ("app/search.py", &unsafe_)]);
    let o = run_within(p.path(), &["check", "--format", "json"], 10);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(triples(&o), vec![t("sql-injection", "app/search.py", 32)]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v[0]["message"].as_str().unwrap().split(" reaches").next().unwrap(), "an f-string interpolating `q`");
}

#[test]
fn a_rule_over_its_work_budget_stops_for_that_file_with_a_note() {
    // xss-unsafe-html reads the whole module for each `self.x` it meets in mark_safe: 3,000
    // such calls are 10^8 steps, far over the budget of a 150 KB file. The rule stops there,
    // keeps none of its findings in that file, and says so; other rules and files are
    // unaffected, and the outcome is the same on every run and thread count (steps are
    // counted, not timed).
    let mut big =
        String::from("from django.utils.safestring import mark_safe\n\n\nclass Badge:\n    def render(self):\n");
    for _ in 0..3000 {
        big.push_str("        yield mark_safe(\"<b>%s</b>\" % self.title)\n");
    }
    big.push_str("# TODO: paginate\n");
    let small = "from django.utils.safestring import mark_safe\n\n\nclass Badge:\n    def render(self):\n        \
                 return mark_safe(\"<b>%s</b>\" % self.title)\n";
    // `self.title`'s source is not shown: judged only in an audit, which this test needs.
    let audit = "[xss-unsafe-html]\nreport-unknown-sources = true\n";
    let p = Project::new(&[("app/badges.py", &big), ("app/badge.py", small), ("preflight.toml", audit)]);
    let mut first = None;
    for threads in ["1", "2", "8"] {
        let o = run_within(p.path(), &["check", "--format", "json", "--threads", threads], 20);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert_eq!(triples(&o), vec![t("xss-unsafe-html", "app/badge.py", 6), t("todo-fixme", "app/badges.py", 3006)]);
        assert!(
            stderr(&o).contains(
                "app/badges.py: note: rule xss-unsafe-html stopped: the file needs more analysis than its work budget"
            ),
            "{}",
            stderr(&o)
        );
        match &first {
            None => first = Some(o.stdout),
            Some(f) => assert_eq!(f, &o.stdout),
        }
    }
}

#[test]
fn many_findings_on_one_long_line_cost_the_same_each() {
    // 5,000 findings on one 200 KB line: each used to count the line's characters (for its
    // column and for clipping its snippet) from the line start.
    let line = "c.execute(\"SELECT \" + request.GET[\"q\"]);".repeat(5_000);
    let p = Project::new(&[("app/views.py", &format!("x = 1\n{line}\n"))]);
    let o = run_within(p.path(), &["check", "--format", "json", "--select", "sql-injection"], 10);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let all = v.as_array().unwrap();
    assert_eq!(all.len(), 5_000);
    let last = &all[4_999];
    assert_eq!((last["line"].as_u64(), last["column"].as_u64()), (Some(2), Some(4_999 * 40 + 11)));
}

#[test]
fn suppression_markers_are_looked_up_by_line() {
    // 60,000 findings, each on a line with a marker for another rule: every finding used to
    // be compared with every marker of the file.
    let body = "breakpoint()  # preflight: ignore[a]\n".repeat(60_000);
    let p = Project::new(&[("app/debug.py", &body), ("preflight.toml", "max-file-size = 4194304\n")]);
    let o = run_within(p.path(), &["check", "--format", "github", "--select", "debugger-statement"], 15);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    assert_eq!(out.lines().filter(|l| l.starts_with("::error file=app/debug.py,")).count(), 60_000);
}

#[test]
fn named_files_are_matched_against_the_walk_through_a_set() {
    // `pre-commit run --all-files` names every file: each was looked for in the walk's list.
    let p = Project::new(&[("manage.py", "# TODO: remove\n")]);
    let names: Vec<String> = (0..12_000).map(|i| format!("app/m{i}.py")).collect();
    std::fs::create_dir_all(p.path().join("app")).unwrap();
    for n in &names {
        std::fs::File::create(p.path().join(n)).unwrap();
    }
    let mut args = vec!["check", "--format", "json", "manage.py"];
    args.extend(names.iter().map(String::as_str));
    let o = run_within(p.path(), &args, 15);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(triples(&o), vec![t("todo-fixme", "manage.py", 1)]);
}

#[test]
fn a_huge_thread_count_is_clamped_with_a_message() {
    let p = Project::new(&[("app/views.py", "# TODO: remove\n")]);
    let o = run_within(p.path(), &["check", "--format", "json", "--threads", "1000000"], 10);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(triples(&o), vec![t("todo-fixme", "app/views.py", 1)]);
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let msg = format!("preflight: --threads 1000000 is more than this machine can use; using {}\n", cpus * 4);
    assert!(stderr(&o).starts_with(&msg), "{}", stderr(&o));
}

#[test]
fn many_secrets_on_one_long_line_are_redacted_in_the_window_shown() {
    // 2,000 keys on one 0.8 MB line: the whole line used to be redacted for each of them.
    // Keys are assembled at run time, so this file holds no secret-shaped literal.
    let mut state: u64 = 11;
    let mut line = String::from("[");
    for i in 0..2000 {
        let key: String = std::iter::once("AKIA".to_string())
            .chain((0..16).map(|_| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".chars().nth((state >> 33) as usize % 32).unwrap().to_string()
            }))
            .collect();
        // Each key appears again 364 characters later: for the first, whose window starts at
        // the line start, that copy is cut by the window's end and must not show either.
        let pad = "x".repeat(320);
        line.push_str(&format!("{{\"id\": {i}, \"key\": \"{key}\", \"pad\": \"{pad}\", \"again\": \"{key}\"}}, "));
    }
    line.push_str("{}]\n");
    let p = Project::new(&[("data/dump.json", &line)]);
    let o = run_within(p.path(), &["check", "--format", "sarif", "--select", "secret-hardcoded"], 15);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let results = v["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 4000);
    // No 8 characters of a finding's own key show in its snippet.
    for r in results {
        let region = &r["locations"][0]["physicalLocation"]["region"];
        let col = region["startColumn"].as_u64().unwrap() as usize;
        let key = &line[col - 1..col + 19];
        let snippet = region["snippet"]["text"].as_str().unwrap();
        assert!(snippet.len() < 800, "{snippet}");
        for i in 4..=12 {
            assert!(!snippet.contains(&key[i..i + 8]), "{key} shows in {snippet}");
        }
    }
}

/// A pre-commit hook names a few files: django-migration-missing replays the migration history
/// (every migration of the project parsed) only when one of them can hold a model; its
/// findings cannot land anywhere else.
#[test]
fn a_hook_without_a_models_module_does_not_replay_the_migrations() {
    let p = Project::new(&[
        ("manage.py", "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'shop.settings')\n"),
        ("shop/__init__.py", ""),
        ("shop/settings.py", "INSTALLED_APPS = ['shop']\n"),
        (
            "shop/models.py",
            "from django.db import models\n\n\nclass Book(models.Model):\n    title = models.CharField(max_length=9)\n",
        ),
        ("shop/migrations/__init__.py", ""),
        (
            "shop/migrations/0001_initial.py",
            "from django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n    initial = True\n    \
             dependencies = []\n    operations = [\n        migrations.CreateModel(\n            name='Book',\n            \
             fields=[('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID'))],\n        ),\n    ]\n",
        ),
        ("shop/views.py", "def index(request):\n    return None\n"),
    ]);
    let run = |file: &str| {
        Command::new(bin())
            .args(["check", file, "--select", "django-migration-missing", "--format", "json"])
            .current_dir(p.path())
            .env("PREFLIGHT_MIGRATIONS", "1")
            .output()
            .unwrap()
    };
    let views = run("shop/views.py");
    assert_eq!(views.status.code(), Some(0), "{}", stderr(&views));
    assert!(!stderr(&views).contains("models judged"), "replayed for a view: {}", stderr(&views));
    let models = run("shop/models.py");
    assert!(stderr(&models).contains("django-migration-missing: 1 models judged"), "{}", stderr(&models));
    let found: serde_json::Value = serde_json::from_slice(&models.stdout).unwrap();
    let at: Vec<(String, u64)> = found
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["rule"].as_str().unwrap().to_string(), f["line"].as_u64().unwrap()))
        .collect();
    assert_eq!(at, [("django-migration-missing".to_string(), 5)], "{}", stderr(&models));
}
