//! Whole-binary tests: exit codes, formats, selection, suppression, file mode, determinism.

mod common;

use common::*;

const SETTINGS_BASE: &str = "import os\nSECRET_KEY = os.environ['SECRET_KEY']\nDEBUG = True\nALLOWED_HOSTS = ['example.com']\nINSTALLED_APPS = ['app']\nROOT_URLCONF = 'app.urls'\nCACHES = {'default': {'BACKEND': 'django.core.cache.backends.redis.RedisCache'}}\nLOGGING = {'version': 1, 'handlers': {'console': {'class': 'logging.StreamHandler'}}}\nsentry_sdk.init(dsn=os.environ.get('SENTRY_DSN'))\nINSTALLED_APPS += ['django_prometheus']\n";

fn split_settings() -> Project {
    Project::new(&[
        ("manage.py", "import os\n"),
        ("app/__init__.py", ""),
        ("app/settings/__init__.py", ""),
        ("app/settings/base.py", SETTINGS_BASE),
        ("app/settings/prod.py", "from .base import *\n\nALLOWED_HOSTS = ['*']\n"),
        ("app/settings/dev.py", "from .base import *\nDEBUG = True\n"),
    ])
}

#[test]
fn exit_codes() {
    let clean = Project::new(&[("app/views.py", "def index(request):\n    return None\n")]);
    let o = clean.run(&["check"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("no findings in 1 files"), "{}", stderr(&o));

    let p = split_settings();
    assert_eq!(p.run(&["check"]).status.code(), Some(1));
    assert_eq!(p.run(&["check", "--exit-zero"]).status.code(), Some(0));

    let o = p.run(&["check", "no/such/dir"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("`no/such/dir` does not exist"), "{}", stderr(&o));

    let o = p.run(&["check", "--select", "not-a-rule"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown rule id `not-a-rule`"), "{}", stderr(&o));

    assert_eq!(p.run(&["check", "--format", "yaml"]).status.code(), Some(2));
}

#[test]
fn text_format_shows_location_source_and_caret() {
    let p = split_settings();
    let o = p.run(&["check", "--format", "text"]);
    let out = stdout(&o);
    let expected = "app/settings/base.py:3:1: error[django-debug-enabled] DEBUG = True in production settings: set \
                    `DEBUG = False` (or read it from the environment with a False default) (in effect for \
                    `app/settings/prod.py`)\n  |\n3 | DEBUG = True\n  | ^^^^^^^^^^^^\n";
    assert!(out.starts_with(expected), "{out}");
    assert!(out.contains("app/settings/prod.py:3:1: error[django-allowed-hosts-wildcard]"), "{out}");
    assert!(!out.contains("dev.py"), "{out}");
    let err = stderr(&o);
    assert!(err.contains("2 findings in 6 files"), "{err}");
    assert!(err.contains("1  error    django-debug-enabled"), "{err}");
}

#[test]
fn json_format_is_the_documented_array() {
    let p = split_settings();
    let o = p.run(&["check", "--format", "json"]);
    assert_eq!(
        triples(&o),
        vec![
            t("django-debug-enabled", "app/settings/base.py", 3),
            t("django-allowed-hosts-wildcard", "app/settings/prod.py", 3)
        ]
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let keys: Vec<&str> = v[0].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["column", "end_column", "end_line", "fingerprint", "level", "line", "message", "path", "rule"]);
    assert_eq!(v[0]["end_column"], 13);
}

#[test]
fn sarif_validates_and_carries_rules_fingerprints_and_srcroot() {
    let p = split_settings();
    let o = p.run(&["check", "--format", "sarif", "--sarif-category", "backend"]);
    let doc = stdout(&o);
    assert_valid_sarif(&doc);
    let v: serde_json::Value = serde_json::from_str(&doc).unwrap();
    let run = &v["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), preflight::catalog::RULES.len());
    let r0 = &run["results"][0];
    assert_eq!(r0["ruleId"], "django-debug-enabled");
    assert_eq!(rules[r0["ruleIndex"].as_u64().unwrap() as usize]["id"], "django-debug-enabled");
    let loc = &r0["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "app/settings/base.py");
    assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    assert_eq!(loc["region"]["startLine"], 3);
    assert!(r0["partialFingerprints"]["preflight/v1"].as_str().unwrap().len() == 16);
    assert_eq!(run["automationDetails"]["id"], "backend/");
    assert!(run["originalUriBaseIds"]["%SRCROOT%"]["uri"].as_str().unwrap().starts_with("file:///"));
    let debug_rule = rules.iter().find(|r| r["id"] == "django-debug-enabled").unwrap();
    assert_eq!(debug_rule["properties"]["security-severity"], "7.5");
    assert!(debug_rule["help"]["markdown"].as_str().unwrap().contains("## Use instead"));
}

#[test]
fn fingerprints_survive_lines_moving_above() {
    let p = split_settings();
    let fp = |o: &std::process::Output| {
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        v[0]["fingerprint"].as_str().unwrap().to_string()
    };
    let before = fp(&p.run(&["check", "--format", "json"]));
    p.write("app/settings/base.py", &format!("# a comment\n\n{SETTINGS_BASE}"));
    let o = p.run(&["check", "--format", "json"]);
    assert_eq!(triples(&o)[0], t("django-debug-enabled", "app/settings/base.py", 5));
    assert_eq!(fp(&o), before);
}

#[test]
fn select_and_ignore() {
    let p = split_settings();
    let o = p.run(&["check", "--format", "json", "--select", "django-allowed-hosts-wildcard"]);
    assert_eq!(triples(&o), vec![t("django-allowed-hosts-wildcard", "app/settings/prod.py", 3)]);
    let o = p.run(&["check", "--format", "json", "--ignore", "django-allowed-hosts-wildcard,env-file-committed"]);
    assert_eq!(triples(&o), vec![t("django-debug-enabled", "app/settings/base.py", 3)]);
}

#[test]
fn config_file_selects_ignores_and_per_path_ignores() {
    let p = split_settings();
    p.write("preflight.toml", "ignore = [\"django-debug-enabled\"]\n");
    assert_eq!(
        triples(&p.run(&["check", "--format", "json"])),
        vec![t("django-allowed-hosts-wildcard", "app/settings/prod.py", 3)]
    );
    p.write("preflight.toml", "[per-path-ignores]\n\"app/settings/prod.py\" = [\"django-allowed-hosts-wildcard\"]\n");
    assert_eq!(
        triples(&p.run(&["check", "--format", "json"])),
        vec![t("django-debug-enabled", "app/settings/base.py", 3)]
    );
    p.write("preflight.toml", "[settings]\ndev = [\"app/settings/prod.py\"]\n");
    assert_eq!(triples(&p.run(&["check", "--format", "json"])), vec![]);
    std::fs::remove_file(p.path().join("preflight.toml")).unwrap();
    p.write("pyproject.toml", "[tool.preflight]\nselect = [\"django-debug-enabled\"]\n");
    assert_eq!(
        triples(&p.run(&["check", "--format", "json"])),
        vec![t("django-debug-enabled", "app/settings/base.py", 3)]
    );
    p.write("pyproject.toml", "[tool.preflight]\nslect = [\"x\"]\n");
    let o = p.run(&["check"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown field `slect`"), "{}", stderr(&o));
}

#[test]
fn suppression_comments() {
    let p = split_settings();
    p.write("app/settings/prod.py", "from .base import *\n\nALLOWED_HOSTS = ['*']  # preflight: ignore[django-allowed-hosts-wildcard] behind a proxy that checks Host\n");
    p.write(
        "app/settings/base.py",
        &SETTINGS_BASE.replace("DEBUG = True", "# preflight: ignore[django-debug-enabled]\nDEBUG = True"),
    );
    assert_eq!(triples(&p.run(&["check", "--format", "json"])), vec![]);
    // A bare marker suppresses nothing and is reported itself.
    p.write("app/settings/prod.py", "from .base import *\n\nALLOWED_HOSTS = ['*']  # preflight: ignore\n");
    assert_eq!(
        triples(&p.run(&["check", "--format", "json"])),
        vec![
            t("django-allowed-hosts-wildcard", "app/settings/prod.py", 3),
            t("blanket-suppression", "app/settings/prod.py", 3)
        ]
    );
}

#[test]
fn single_file_argument_uses_the_project_around_it() {
    let p = split_settings();
    // Only prod.py is reported on; base.py's DEBUG (in effect for prod) is not a finding in this file.
    let o = p.run(&["check", "--format", "json", "app/settings/prod.py"]);
    assert_eq!(triples(&o), vec![t("django-allowed-hosts-wildcard", "app/settings/prod.py", 3)]);
    // And the star import is still resolved: an override in base.py reaches prod through the chain.
    p.write("app/settings/prod.py", "from .base import *\n\nDEBUG = True\n");
    let o = p.run(&["check", "--format", "json", "app/settings/prod.py", "app/settings/dev.py"]);
    assert_eq!(triples(&o), vec![t("django-debug-enabled", "app/settings/prod.py", 3)]);
    // From a subfolder, paths stay relative to the working directory.
    let o = run_in(&p.path().join("app"), &["check", "--format", "json", "settings/prod.py"]);
    assert_eq!(triples(&o), vec![t("django-debug-enabled", "settings/prod.py", 3)]);
}

#[test]
fn output_is_identical_across_thread_counts() {
    let p = split_settings();
    for i in 0..30 {
        p.write(
            &format!("pkg{i}/settings.py"),
            &format!("INSTALLED_APPS = []\nROOT_URLCONF = 'x'\nDEBUG = True\nALLOWED_HOSTS = ['*']\nX = {i}\n"),
        );
    }
    for format in ["text", "json", "sarif"] {
        let one = p.run(&["check", "--format", format, "--threads", "1", "--quiet"]);
        for _ in 0..3 {
            let two = p.run(&["check", "--format", format, "--threads", "2", "--quiet"]);
            assert_eq!(stdout(&one), stdout(&two), "{format}");
        }
        assert_eq!(stdout(&one), stdout(&p.run(&["check", "--format", format, "--quiet"])), "{format}");
        if format == "sarif" {
            assert_valid_sarif(&stdout(&one));
        }
    }
}

#[test]
fn output_file_option() {
    let p = split_settings();
    let o = p.run(&["check", "--format", "json", "--output", "report.json"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty());
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p.path().join("report.json")).unwrap()).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 2);
}

#[test]
fn rules_and_rule_commands() {
    let p = Project::new(&[]);
    let o = p.run(&["rules"]);
    assert_eq!(o.status.code(), Some(0));
    for r in preflight::catalog::RULES {
        assert!(stdout(&o).contains(r.id), "{}", r.id);
    }
    let o = p.run(&["rule", "django-secret-key-hardcoded"]);
    let doc = stdout(&o);
    for heading in [
        "# django-secret-key-hardcoded",
        "## What it finds",
        "## Why it matters",
        "## Example",
        "## Use instead",
        "## References",
    ] {
        assert!(doc.contains(heading), "{heading}\n{doc}");
    }
    assert_eq!(p.run(&["rule", "nope"]).status.code(), Some(2));
    let o = p.run(&["rules", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), preflight::catalog::RULES.len());
}

#[test]
fn secret_key_never_printed_in_full() {
    let key = "Zq81vLm0PxR4tY7uWc2eHs9kBn3fJd6a-live-key";
    let p = Project::new(&[(
        "proj/settings.py",
        &format!("INSTALLED_APPS = []\nROOT_URLCONF = 'u'\nSECRET_KEY = '{key}'\n"),
    )]);
    for format in ["text", "json", "sarif"] {
        let o = p.run(&["check", "--format", format]);
        assert_eq!(o.status.code(), Some(1));
        assert!(!stdout(&o).contains(key) && !stderr(&o).contains(key), "{format} leaks the key");
        assert!(!stdout(&o).contains(&key[..12]), "{format} shows too much of the key");
    }
}

#[test]
fn env_files_in_a_git_repository() {
    let p = Project::new(&[
        (".env", "DATABASE_PASSWORD=hunter22\n"),
        (".env.example", "DATABASE_PASSWORD=\n"),
        ("web/.env.local", "API_TOKEN=abc\n"),
        ("app/views.py", "x = 1\n"),
    ]);
    p.git(&["init", "-q"]);
    p.write(".gitignore", "web/.env.local\n");
    p.git(&["add", ".env", ".env.example", ".gitignore", "app/views.py"]);
    p.git(&["commit", "-qm", "init"]);
    let o = p.run(&["check", "--format", "json", "--select", "env-file-committed"]);
    assert_eq!(triples(&o), vec![t("env-file-committed", ".env", 1)]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v[0]["message"].as_str().unwrap().contains("is committed to git"));

    // Tracked though .gitignore now lists it: still reported, from the index.
    p.write(".gitignore", "web/.env.local\n.env\n");
    assert_eq!(
        triples(&p.run(&["check", "--format", "json", "--select", "env-file-committed"])),
        vec![t("env-file-committed", ".env", 1)]
    );

    // Untracked and not ignored: one `git add .` away.
    p.write("deploy/prod.env", "DB_PASSWORD=Prod-Db-Pw-7731\n");
    let o = p.run(&["check", "--format", "json", "--select", "env-file-committed"]);
    assert_eq!(triples(&o), vec![t("env-file-committed", ".env", 1), t("env-file-committed", "deploy/prod.env", 1)]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v[1]["message"].as_str().unwrap().contains("not ignored by git"));

    // Index version 4 (prefix-compressed paths) reads the same.
    p.git(&["update-index", "--index-version", "4"]);
    p.git(&["add", "deploy/prod.env"]);
    let o = p.run(&["check", "--format", "json", "--select", "env-file-committed"]);
    assert_eq!(triples(&o), vec![t("env-file-committed", ".env", 1), t("env-file-committed", "deploy/prod.env", 1)]);
    assert!(String::from_utf8_lossy(&o.stdout).matches("is committed to git").count() == 2);

    // Removed from the index: gone.
    p.git(&["rm", "-q", "--cached", ".env", "deploy/prod.env"]);
    std::fs::remove_file(p.path().join("deploy/prod.env")).unwrap();
    assert_eq!(triples(&p.run(&["check", "--format", "json", "--select", "env-file-committed"])), vec![]);
}

#[test]
fn bad_files_become_notes_and_the_run_goes_on() {
    let p = Project::new(&[("app/views.py", "def f():\n    return 1\n")]);
    std::fs::write(p.path().join("app/blob.py"), b"\x00\x01binary\x00").unwrap();
    // Images, fonts and compiled catalogues are assets: passed by without a note.
    for asset in ["static/logo.PNG", "static/font.woff2", "locale/fr/LC_MESSAGES/django.mo"] {
        std::fs::create_dir_all(p.path().join(asset).parent().unwrap()).unwrap();
        std::fs::write(p.path().join(asset), b"\x89PNG\x00\x00binary").unwrap();
    }
    std::fs::write(p.path().join("app/huge.js"), vec![b'a'; 3 * 1024 * 1024]).unwrap();
    // Invalid UTF-8 and a syntax error in a settings module: still analysed where it parses.
    let mut settings =
        b"INSTALLED_APPS = []\nROOT_URLCONF = 'x'\nNAME = '\xff\xfe'\nDEBUG = True\ndef broken(:\n".to_vec();
    settings.extend_from_slice(b"    pass\n");
    std::fs::write(p.path().join("app/settings.py"), settings).unwrap();
    let o = p.run(&["check", "--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    // No CACHES and no LOGGING in these settings: the set-up rules report them on line 1.
    assert_eq!(
        triples(&o),
        vec![
            t("django-cache-not-configured", "app/settings.py", 1),
            t("django-logging-not-configured", "app/settings.py", 1),
            t("error-tracking-missing", "app/settings.py", 1),
            t("metrics-missing", "app/settings.py", 1),
            t("django-debug-enabled", "app/settings.py", 4)
        ]
    );
    let err = stderr(&o);
    assert!(err.contains("app/blob.py: note: binary file, skipped"), "{err}");
    assert!(err.contains("app/huge.js: note: 3145728 bytes, over the 2097152 byte limit, skipped"), "{err}");
    assert!(err.contains("app/settings.py: note: invalid UTF-8, decoded with replacement characters"), "{err}");
    assert_eq!(err.matches(": note: ").count(), 4, "{err}");
    let o = p.run(&["check", "--format", "sarif"]);
    let doc = stdout(&o);
    assert_valid_sarif(&doc);
    let v: serde_json::Value = serde_json::from_str(&doc).unwrap();
    let inv = &v["runs"][0]["invocations"][0];
    assert_eq!(inv["executionSuccessful"], true);
    let notes: Vec<&str> = inv["toolExecutionNotifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["message"]["text"].as_str().unwrap())
        .collect();
    assert!(notes.contains(&"app/blob.py: binary file, skipped"), "{notes:?}");
}

#[test]
fn bom_crlf_and_syntax_errors_keep_positions_right() {
    let p = Project::new(&[]);
    std::fs::write(p.path().join("bom.ts"), "\u{feff}  console.log('x');\n".as_bytes()).unwrap();
    std::fs::write(p.path().join("crlf.ts"), b"const a = 1;\r\nconst b = 2;\r\n    console.log(a, b);\r\n").unwrap();
    std::fs::write(p.path().join("lone_cr.ts"), b"const a = 1;\rconsole.log(a);\r").unwrap();
    p.write("broken.tsx", "const x = (;\nconsole.log('after the error');\n");
    let o = p.run(&["check", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let got: Vec<(String, u64, u64)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["path"].as_str().unwrap().to_string(), f["line"].as_u64().unwrap(), f["column"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("bom.ts".into(), 1, 3),
            ("broken.tsx".into(), 2, 1),
            ("crlf.ts".into(), 3, 5),
            ("lone_cr.ts".into(), 2, 1)
        ]
    );
    assert!(
        stderr(&o).contains("broken.tsx: note: syntax errors; results from the parts that parsed"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn readme_rule_table_is_current() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme.find("<!-- rules:start -->\n").expect("start marker") + "<!-- rules:start -->\n".len();
    let end = readme.find("<!-- rules:end -->").expect("end marker");
    assert_eq!(
        &readme[start..end],
        preflight::cli::rules_table(),
        "README rule table is stale: regenerate it with `preflight rules --format markdown`"
    );
}

#[test]
fn dependency_build_and_virtualenv_folders_are_not_walked() {
    const LOG: &str = "console.log(1);\n";
    let p = Project::new(&[
        ("web/app.js", LOG),
        ("web/node_modules/left-pad/index.js", LOG),
        ("web/dist/bundle.js", LOG),
        ("pkg.egg-info/x.js", LOG),
        // A virtualenv under any name is known by its pyvenv.cfg, whatever it holds.
        ("web/env/pyvenv.cfg", "home = /usr/bin\n"),
        ("web/env/lib/helper.js", LOG),
        ("web/env/lib/python3.12/site-packages/pkg/x.js", LOG),
        // A folder beside it with a similar name is walked.
        ("web/env2/x.js", LOG),
    ]);
    let o = p.run(&["check", "--format", "json", "--select", "console-log"]);
    assert_eq!(triples(&o), [t("console-log", "web/app.js", 1), t("console-log", "web/env2/x.js", 1)]);
    assert!(!stderr(&o).contains("note:"), "{}", stderr(&o));
    // Pointed at the virtualenv itself, preflight checks it.
    let o = p.run(&["check", "--format", "json", "--select", "console-log", "web/env"]);
    assert_eq!(triples(&o), [t("console-log", "web/env/lib/helper.js", 1)]);
}

/// A debugger word only in comments and strings of a Python file (a generated module's
/// `#import pdb`, a docstring) costs no parse: the lexical gate sees it is not code. A word in
/// code is parsed and reported as before.
#[test]
fn debugger_words_in_comments_cost_no_parse() {
    let p = Project::new(&[(
        "schema/generated.py",
        "#import pdb\n\"\"\"Call pdb.set_trace() to debug.\"\"\"\nNAME = 'breakpoint'\n\nclass A:\n    x = 1\n",
    )]);
    let parses = |p: &Project| {
        let o = std::process::Command::new(bin())
            .args(["check", "--select", "debugger-statement", "--format", "json"])
            .current_dir(p.path())
            .env("PREFLIGHT_TIMINGS", "1")
            .output()
            .unwrap();
        let err = stderr(&o);
        let last = err.lines().rfind(|l| l.contains("parses so far:")).unwrap_or_default().to_string();
        let n: usize = last.split("parses so far: ").nth(1).and_then(|r| r.split(',').next()).unwrap().parse().unwrap();
        (n, triples(&o))
    };
    assert_eq!(parses(&p), (0, vec![]));
    p.write("schema/generated.py", "#import pdb\nimport pdb\n");
    assert_eq!(parses(&p), (1, vec![t("debugger-statement", "schema/generated.py", 2)]));
}

/// Many files with the same note are shown by their first four and a count, so a vendored PDF
/// viewer's two hundred font files do not bury the findings; SARIF lists every one.
#[test]
fn many_notes_of_a_kind_are_counted() {
    let files: Vec<(String, String)> =
        (0..12).map(|i| (format!("static/fonts/f{i:02}.bcmap"), "\0\u{1}binary".to_string())).collect();
    let refs: Vec<(&str, &str)> = files.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let p = Project::new(&refs);
    p.write("app/blob.py", "\0\u{1}");
    let err = stderr(&p.run(&["check", "--no-cache"]));
    let notes: Vec<&str> = err.lines().filter(|l| l.contains("note:")).collect();
    assert_eq!(
        notes,
        [
            "app/blob.py: note: binary file, skipped",
            "static/fonts/f00.bcmap: note: binary file, skipped",
            "static/fonts/f01.bcmap: note: binary file, skipped",
            "static/fonts/f02.bcmap: note: binary file, skipped",
            "… and 9 more files: note: binary file, skipped (`--format sarif` lists every one)",
        ]
    );
    let sarif: serde_json::Value = serde_json::from_slice(&p.run(&["check", "--format", "sarif"]).stdout).unwrap();
    assert_eq!(sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"].as_array().unwrap().len(), 13);
}

/// The baseline is for review: sorted entries with the rule, the path, the line, the message
/// and the flagged line (secrets masked), byte-identical when rewritten for the same findings;
/// entries whose finding is gone are reported, and `--update-baseline` drops them and refreshes
/// the lines of the others without adding new findings.
#[test]
fn baseline_is_reviewable_and_reports_stale_entries() {
    let p = Project::new(&[
        ("app/views.py", "def f():\n    breakpoint()\n    # TODO: later\n"),
        ("app/conf.py", "API_PASSWORD = \"Xk9-very-s3cret-value2\"\n"),
    ]);
    let o = p.run(&["check", "--write-baseline", "b.json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let written = std::fs::read_to_string(p.path().join("b.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&written).unwrap();
    let entries = v["findings"].as_array().unwrap();
    let rows: Vec<(&str, &str, u64, &str)> = entries
        .iter()
        .map(|e| {
            (
                e["path"].as_str().unwrap(),
                e["rule"].as_str().unwrap(),
                e["line"].as_u64().unwrap(),
                e["snippet"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            ("app/conf.py", "secret-hardcoded", 1, "API_PASSWORD = \"Xk9-******************\""),
            ("app/views.py", "debugger-statement", 2, "breakpoint()"),
            ("app/views.py", "todo-fixme", 3, "# TODO: later"),
        ]
    );
    assert_eq!(v["version"], 2);
    assert!(entries[0]["message"].as_str().unwrap().starts_with("`API_PASSWORD` is a hardcoded credential"));
    assert!(entries.iter().all(|e| e["fingerprint"].as_str().unwrap().len() == 16));
    assert!(!written.contains("s3cret"), "{written}");
    // The same findings give the same bytes.
    p.run(&["check", "--write-baseline", "b2.json"]);
    assert_eq!(std::fs::read_to_string(p.path().join("b2.json")).unwrap(), written);
    // Lines move, one finding is fixed, one is new.
    p.write("app/views.py", "import os\n\n\ndef f():\n    # TODO: later\n    print(1)\n");
    p.write("app/new.py", "breakpoint()\n");
    let o = p.run(&["check", "--format", "json", "--baseline", "b.json"]);
    assert_eq!((o.status.code(), triples(&o)), (Some(1), vec![t("debugger-statement", "app/new.py", 1)]));
    let fp = entries[1]["fingerprint"].as_str().unwrap();
    assert!(
        stderr(&o).contains(&format!(
            "preflight: 1 baseline entries match no finding any more (fixed, or the line changed); --update-baseline \
             removes them:\n  app/views.py:2: debugger-statement ({fp})\n"
        )),
        "{}",
        stderr(&o)
    );
    // Scanning only another folder, or without the rule, does not call the entry stale.
    let o = p.run(&["check", "--format", "json", "--baseline", "b.json", "--select", "todo-fixme,secret-hardcoded"]);
    assert!(!stderr(&o).contains("match no finding"), "{}", stderr(&o));
    // --update-baseline: the stale entry goes, the moved one gets its new line, the new finding
    // is still reported and not added.
    let o = p.run(&["check", "--format", "json", "--baseline", "b.json", "--update-baseline"]);
    assert_eq!((o.status.code(), triples(&o)), (Some(1), vec![t("debugger-statement", "app/new.py", 1)]));
    assert!(stderr(&o).contains("updated b.json: 2 entries, 1 stale removed"), "{}", stderr(&o));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p.path().join("b.json")).unwrap()).unwrap();
    let rows: Vec<(&str, &str, u64)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["path"].as_str().unwrap(), e["rule"].as_str().unwrap(), e["line"].as_u64().unwrap()))
        .collect();
    assert_eq!(rows, vec![("app/conf.py", "secret-hardcoded", 1), ("app/views.py", "todo-fixme", 5)]);
    let o = p.run(&["check", "--format", "json", "--baseline", "b.json"]);
    assert!(!stderr(&o).contains("match no finding"), "{}", stderr(&o));
    // --update-baseline needs --baseline.
    assert_eq!(p.run(&["check", "--update-baseline"]).status.code(), Some(2));
}

/// `--diff-base` run from a folder above the repository finds the repository of the folder it
/// checks (it said "not inside a git repository").
#[test]
fn diff_base_works_from_a_folder_above_the_repository() {
    let p = Project::new(&[("repo/app/views.py", "x = 1\n")]);
    let repo = p.path().join("repo");
    let git = |args: &[&str]| {
        let st = std::process::Command::new("git")
            .args(["-c", "user.email=t@example.com", "-c", "user.name=t", "-c", "init.defaultBranch=main"])
            .args(args)
            .current_dir(&repo)
            .output()
            .unwrap();
        assert!(st.status.success(), "{}", String::from_utf8_lossy(&st.stderr));
    };
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&["commit", "-qm", "init"]);
    p.write("repo/app/views.py", "x = 1\nbreakpoint()\n# TODO: later\n");
    git(&["commit", "-qam", "two"]);
    p.write("repo/app/views.py", "x = 1\nbreakpoint()\n# TODO: later\nbreakpoint()\n");
    let o = p.run(&["check", "repo", "--format", "json", "--diff-base", "HEAD~1"]);
    assert_eq!(
        (o.status.code(), triples(&o)),
        (
            Some(1),
            vec![
                t("debugger-statement", "repo/app/views.py", 2),
                t("todo-fixme", "repo/app/views.py", 3),
                t("debugger-statement", "repo/app/views.py", 4)
            ]
        ),
        "{}",
        stderr(&o)
    );
    let o = p.run(&["check", "repo", "--format", "json", "--diff-base", "HEAD"]);
    assert_eq!(triples(&o), vec![t("debugger-statement", "repo/app/views.py", 4)], "{}", stderr(&o));
}

/// `check <folder>` reports on that folder only: a committed `.env` at the repository's top is
/// not reported when a subfolder is checked (it was, from git's index), and is when the top is.
#[test]
fn checking_a_subfolder_reports_nothing_outside_it() {
    let p = Project::new(&[
        (".env", "DB_PASSWORD=Zq8-very-s3cret\n"),
        ("app/views.py", "breakpoint()\n"),
        ("web/.env", "API_TOKEN=Qm7-other-s3cret-value\n"),
    ]);
    p.git(&["init", "-q"]);
    p.git(&["add", "-f", "."]);
    p.git(&["commit", "-qm", "init"]);
    let o = p.run(&["check", "app", "--format", "json", "--select", "env-file-committed,debugger-statement"]);
    assert_eq!(triples(&o), vec![t("debugger-statement", "app/views.py", 1)], "{}", stderr(&o));
    let o = p.run(&["check", "web", "--format", "json", "--select", "env-file-committed,debugger-statement"]);
    assert_eq!(triples(&o), vec![t("env-file-committed", "web/.env", 1)], "{}", stderr(&o));
    let o = p.run(&["check", ".", "--format", "json", "--select", "env-file-committed,debugger-statement"]);
    assert_eq!(
        triples(&o),
        vec![
            t("env-file-committed", ".env", 1),
            t("debugger-statement", "app/views.py", 1),
            t("env-file-committed", "web/.env", 1)
        ],
        "{}",
        stderr(&o)
    );
}

/// `--diff-base` compares with an analysis of the tree at the base: a change that deletes the
/// `DEBUG = False` override from `prod.py` (so `base.py`'s unchanged `DEBUG = True` is in
/// effect) or removes `SECURE_SSL_REDIRECT` is reported; what the base already had is not.
#[test]
fn diff_base_reports_findings_a_change_puts_in_effect_elsewhere() {
    let prod = "from .base import *\n\nDEBUG = False\nMIDDLEWARE = ['django.middleware.security.SecurityMiddleware', \
                'django.middleware.clickjacking.XFrameOptionsMiddleware', 'django.middleware.csrf.CsrfViewMiddleware']\n\
                SECURE_SSL_REDIRECT = True\nSECURE_HSTS_SECONDS = 31536000\nSECURE_HSTS_INCLUDE_SUBDOMAINS = True\n\
                SECURE_HSTS_PRELOAD = True\nSESSION_COOKIE_SECURE = True\nCSRF_COOKIE_SECURE = True\n";
    let p = Project::new(&[
        ("manage.py", ""),
        ("shop/__init__.py", ""),
        ("shop/settings/__init__.py", ""),
        (
            "shop/settings/base.py",
            "INSTALLED_APPS = ['shop']\nROOT_URLCONF = 'shop.urls'\nDEBUG = True\nALLOWED_HOSTS = ['example.com']\n",
        ),
        ("shop/settings/prod.py", prod),
        ("shop/views.py", "# TODO: old\n"),
    ]);
    p.git(&["init", "-q"]);
    p.git(&["add", "-A"]);
    p.git(&["commit", "-qm", "one"]);
    let run = || triples(&p.run(&["check", "--format", "json", "--diff-base", "HEAD"]));
    assert_eq!(run(), vec![]);
    p.write("shop/settings/prod.py", &prod.replace("SECURE_SSL_REDIRECT = True\n", ""));
    // Reported beside SECURE_HSTS_SECONDS (line 5), a related setting the module sets.
    assert_eq!(run(), vec![t("django-deploy-check", "shop/settings/prod.py", 5)]);
    p.write("shop/settings/prod.py", &prod.replace("DEBUG = False\n", ""));
    assert_eq!(run(), vec![t("django-debug-enabled", "shop/settings/base.py", 3)]);
    // A second identical line: only the added one is new.
    p.write("shop/settings/prod.py", prod);
    p.write("shop/views.py", "# TODO: old\n# TODO: old\n");
    assert_eq!(run(), vec![t("todo-fixme", "shop/views.py", 2)]);
}
