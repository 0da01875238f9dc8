//! The run cache (issue 20): a second run over an unchanged tree answers from the cache, byte
//! for byte what a fresh run gives; any change to what a run reads makes a fresh run; the cache
//! lives outside the scanned repository and `--no-cache` neither reads nor writes it.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::*;

/// Runs `preflight check . <args>` in `dir` with the cache in `cache`; returns the output and
/// whether the run answered from the cache (its `cached` phase, or `vouched` when the files'
/// times vouched for their content, in `PREFLIGHT_TIMINGS`).
fn run_cached(dir: &Path, cache: &Path, args: &[&str]) -> (Output, bool) {
    let o = Command::new(bin())
        .args(["check", "."])
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("PREFLIGHT_CACHE_DIR", cache)
        .env("PREFLIGHT_TIMINGS", "1")
        .output()
        .unwrap();
    let hit = stderr(&o).lines().any(|l| l.starts_with("timing: cached") || l.starts_with("timing: vouched"));
    (o, hit)
}

/// How many changed files a run checked again while keeping the rest of the last run's result
/// (`PREFLIGHT_TIMINGS`); `None` when it did not keep it.
fn checked_again(o: &Output) -> Option<usize> {
    let e = stderr(o);
    let line = e.lines().find(|l| l.contains("the last run stands: "))?;
    line.split("stands: ").nth(1)?.split(' ').next()?.parse().ok()
}

/// What no longer stood in a run that kept the rest (`PREFLIGHT_TIMINGS`): parts of the project
/// and project rules, comma-separated.
fn fallen(o: &Output) -> String {
    let e = stderr(o);
    e.lines().find_map(|l| l.split("; fallen: ").nth(1)).unwrap_or("").trim().to_string()
}

/// The run's entry in the cache folder (not its partial entry, model graph or table of times).
fn run_entry(cache: &Path) -> std::path::PathBuf {
    std::fs::read_dir(cache)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            let name = p.to_string_lossy();
            name.ends_with(".json") && !name.ends_with(".files.json") && !name.ends_with(".models.json")
        })
        .unwrap()
}

fn shop() -> Project {
    Project::new(&[
        ("manage.py", "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'shop.settings')\n"),
        ("shop/settings.py", "SECRET_KEY = 'k9#Qz!vT2@pL8&wR5^mN1*xB4'\nDEBUG = True\nALLOWED_HOSTS = ['*']\n"),
        (
            "shop/models.py",
            "from django.db import models\n\n\nclass Book(models.Model):\n    title = models.CharField(max_length=9)\n",
        ),
        ("shop/views.py", "def index(request):\n    print('x')  # TODO: remove\n"),
        ("web/app.js", "console.log('hi');\n"),
        ("requirements.txt", "django==5.2\n"),
    ])
}

/// Whether the run answered without reading the files: their sizes and times vouched for them.
fn vouched(o: &Output) -> bool {
    stderr(o).lines().any(|l| l.starts_with("timing: vouched"))
}

#[test]
fn files_whose_times_stand_are_not_read_again_and_any_edit_is_seen() {
    let p = shop();
    let cache = tempfile::tempdir().unwrap();
    let (first, _) = run_cached(p.path(), cache.path(), &["--format", "json"]);
    // Files written moments ago could change again within their clock's tick: racy, read.
    let (second, hit) = run_cached(p.path(), cache.path(), &["--format", "json"]);
    assert!(hit && !vouched(&second), "a racy tree was not read by content");
    // Once the files are older than the slack, a run taken by content writes a table that
    // vouches; the next run answers from it, byte for byte.
    std::thread::sleep(std::time::Duration::from_millis(3200));
    let (third, _) = run_cached(p.path(), cache.path(), &["--format", "json"]);
    let (fourth, _) = run_cached(p.path(), cache.path(), &["--format", "json"]);
    assert!(!vouched(&third) && vouched(&fourth));
    assert_eq!(stdout(&first), stdout(&fourth));
    // An edit that keeps the size: its change time differs, so the file is read again.
    let views = p.path().join("shop/views.py");
    let text = std::fs::read_to_string(&views).unwrap();
    std::fs::write(&views, text.replace("TODO", "NOTE")).unwrap();
    let (edited, _) = run_cached(p.path(), cache.path(), &["--format", "json"]);
    assert!(!vouched(&edited));
    assert!(stdout(&first).contains("todo-fixme") && !stdout(&edited).contains("todo-fixme"));
    // A file added: the walk differs.
    std::fs::write(p.path().join("shop/extra.py"), "# FIXME: later\n").unwrap();
    let (added, _) = run_cached(p.path(), cache.path(), &["--format", "json"]);
    assert!(!vouched(&added) && stdout(&added).contains("shop/extra.py"));
}

#[test]
fn an_unchanged_tree_is_answered_from_the_cache_byte_for_byte() {
    let p = shop();
    let cache = tempfile::tempdir().unwrap();
    let (first, hit) = run_cached(p.path(), cache.path(), &["--format", "json"]);
    assert!(!hit, "an empty cache answered");
    assert_eq!(first.status.code(), Some(1));
    // One entry serves every output format.
    for format in ["json", "sarif", "text", "checklist"] {
        let (fresh, _) = run_cached(p.path(), cache.path(), &["--format", format, "--no-cache"]);
        let (cached, hit) = run_cached(p.path(), cache.path(), &["--format", format]);
        assert!(hit, "{format}: not answered from the cache");
        assert_eq!(stdout(&fresh), stdout(&cached), "{format}");
        assert_eq!(fresh.status.code(), cached.status.code(), "{format}");
    }
    // The repository holds nothing new: the cache is in the user's cache folder.
    let mut names: Vec<String> = walk_names(p.path());
    names.sort();
    assert_eq!(
        names,
        ["manage.py", "requirements.txt", "shop/models.py", "shop/settings.py", "shop/views.py", "web/app.js"]
    );
}

fn walk_names(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                out.push(e.path().strip_prefix(dir).unwrap().to_string_lossy().replace('\\', "/"));
            }
        }
    }
    out
}

#[test]
fn any_change_to_what_a_run_reads_runs_afresh() {
    let p = shop();
    let cache = tempfile::tempdir().unwrap();
    let json = ["--format", "json"];
    run_cached(p.path(), cache.path(), &json);
    // A changed models module, a new file, a removed file, another configuration, another
    // rule selection: each a miss, each the fresh result.
    type Change<'a> = (&'a str, Box<dyn Fn() + 'a>);
    let changes: Vec<Change> = vec![
        ("models module", Box::new(|| p.write("shop/models.py", "from django.db import models\n"))),
        ("new file", Box::new(|| p.write("shop/admin.py", "import pdb\npdb.set_trace()\n"))),
        ("removed file", Box::new(|| std::fs::remove_file(p.path().join("web/app.js")).unwrap())),
        ("config", Box::new(|| p.write("preflight.toml", "ignore = [\"todo-fixme\"]\n"))),
    ];
    for (what, change) in changes {
        change();
        let (o, hit) = run_cached(p.path(), cache.path(), &json);
        assert!(!hit, "{what}: answered from the cache");
        let (fresh, _) = run_cached(p.path(), cache.path(), &["--format", "json", "--no-cache"]);
        assert_eq!(stdout(&o), stdout(&fresh), "{what}");
        assert!(run_cached(p.path(), cache.path(), &json).1, "{what}: the next run is not a hit");
    }
    let (_, hit) = run_cached(p.path(), cache.path(), &["--format", "json", "--select", "console-log"]);
    assert!(!hit, "another selection answered from the cache");
}

#[test]
fn no_cache_neither_reads_nor_writes_and_named_files_do_not_use_it() {
    let p = shop();
    let cache = tempfile::tempdir().unwrap();
    let (_, hit) = run_cached(p.path(), cache.path(), &["--no-cache"]);
    assert!(!hit);
    assert_eq!(std::fs::read_dir(cache.path()).unwrap().count(), 0, "--no-cache wrote the cache");
    let o = Command::new(bin())
        .args(["check", "shop/views.py"])
        .current_dir(p.path())
        .env("PREFLIGHT_CACHE_DIR", cache.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(std::fs::read_dir(cache.path()).unwrap().count(), 0, "a named-file run wrote the cache");
}

#[test]
fn a_corrupt_or_forged_entry_is_ignored() {
    let p = shop();
    let cache = tempfile::tempdir().unwrap();
    let (fresh, _) = run_cached(p.path(), cache.path(), &["--format", "json"]);
    let entry = run_entry(cache.path());
    // Truncated: not JSON.
    let bytes = std::fs::read(&entry).unwrap();
    std::fs::write(&entry, &bytes[..bytes.len() / 2]).unwrap();
    let (o, hit) = run_cached(p.path(), cache.path(), &["--format", "json"]);
    assert!(!hit);
    assert_eq!(stdout(&o), stdout(&fresh));
    // The key kept but a finding naming a rule that does not exist: refused.
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&entry).unwrap()).unwrap();
    v["findings"][0]["rule"] = "no-such-rule".into();
    std::fs::write(&entry, serde_json::to_vec(&v).unwrap()).unwrap();
    let (o, hit) = run_cached(p.path(), cache.path(), &["--format", "json"]);
    assert!(!hit);
    assert_eq!(stdout(&o), stdout(&fresh));
}

/// A rule's read of a file the run loaded is covered by the key (its content is in it): the
/// entry does not list it, so a warm run does not read it twice; a file the walk did not load
/// (a manifest excluded by the config) is listed and checked again.
#[test]
fn reads_of_loaded_files_are_not_listed_again() {
    let p = shop();
    p.write("preflight.toml", "exclude = [\"requirements/prod.txt\"]\n");
    p.write("requirements/prod.txt", "gunicorn==22\n");
    let cache = tempfile::tempdir().unwrap();
    run_cached(p.path(), cache.path(), &["--format", "json"]);
    let entry = run_entry(cache.path());
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&entry).unwrap()).unwrap();
    let paths: Vec<&str> = v["looks"].as_array().unwrap().iter().filter_map(|l| l["path"].as_str()).collect();
    assert!(!paths.iter().any(|p| p.ends_with("/requirements.txt")), "a loaded manifest is listed: {paths:?}");
    // The same answer from the cache, and a change to the loaded manifest is still a miss.
    assert!(run_cached(p.path(), cache.path(), &["--format", "json"]).1);
    p.write("requirements.txt", "django==5.2\nboto3==1\n");
    assert!(!run_cached(p.path(), cache.path(), &["--format", "json"]).1);
}

/// A run after a change keeps what still holds and runs the rest again: the changed files
/// with every rule; the parts of the project and the project rules that asked a changed file a
/// question whose answer is now another (a template that now marks a value safe: the template
/// contexts; a manifest: the rules that read it; a models module: the model graph and sources;
/// a view or serializers module whose outline changed: the model graph), with the rules that
/// need them on every file. Each result is the fresh one, in every format.
#[test]
fn a_run_after_a_change_keeps_what_still_holds() {
    let p = shop();
    p.write("shop/templates/shop/index.html", "<p>{{ title }}</p>\n");
    let api = |extra: &str| {
        format!(
            "from rest_framework import viewsets\nfrom .models import Book\nfrom .serializers import BookSerializer\n\n{extra}\n\n\
             class BookViewSet(viewsets.ModelViewSet):\n    queryset = Book.objects.all()\n    serializer_class = BookSerializer\n"
        )
    };
    p.write("shop/api.py", &api(""));
    let serializers = |extra: &str, fields: &str| {
        format!(
            "from rest_framework import serializers\nfrom .models import Book\n{extra}\n\n\
             class BookSerializer(serializers.ModelSerializer):\n    class Meta:\n        model = Book\n        \
             fields = {fields}\n"
        )
    };
    p.write("shop/serializers.py", &serializers("", "[\"title\"]"));
    let render = |extra: &str| {
        format!(
            "from django.shortcuts import render\nfrom django.utils.safestring import mark_safe\n{extra}\n\n\
             def index(request):\n    \
             return render(request, \"shop/index.html\", {{\"title\": mark_safe(\"<b>hi</b>\")}})\n"
        )
    };
    let cache = tempfile::tempdir().unwrap();
    let json = ["--format", "json"];
    let (first, _) = run_cached(p.path(), cache.path(), &json);
    assert_eq!(checked_again(&first), None, "an empty cache was reused");
    type Change<'a> = (&'a str, Box<dyn Fn() + 'a>, usize, &'a str);
    let changes: Vec<Change> = vec![
        ("a front-end file", Box::new(|| p.write("web/app.js", "console.log('a');\n// TODO: b\n")), 1, ""),
        (
            "a template and the front end",
            Box::new(|| {
                p.write("shop/templates/shop/index.html", "<p>{{ title }}</p>\n<!-- TODO: c -->\n");
                p.write("web/app.js", "console.debug('a');\n");
            }),
            2,
            "",
        ),
        (
            "a template now marking a value safe",
            Box::new(|| p.write("shop/templates/shop/index.html", "{{ title|safe }}\n")),
            1,
            "templates",
        ),
        (
            "a manifest rules read",
            Box::new(|| p.write("requirements.txt", "django==5.2\nrequests\n")),
            1,
            "dependency-undeclared, error-tracking-missing, metrics-missing",
        ),
        (
            "a models module",
            Box::new(|| {
                p.write("shop/models.py", "from django.db import models\n\n\nclass Book(models.Model):\n    pass\n")
            }),
            1,
            "models, sources",
        ),
        // A module of views is asked for its outline of views: a function added above the
        // viewset moves it and keeps the model graph; a hook it now defines brings it down.
        (
            "a view module, its views moved",
            Box::new(|| p.write("shop/api.py", &api("def helper():\n    return 1\n"))),
            1,
            "",
        ),
        (
            "a view module, a hook added",
            Box::new(|| {
                p.write(
                    "shop/api.py",
                    &format!("{}    def get_queryset(self):\n        return Book.objects.all()\n", api("")),
                )
            }),
            1,
            "models",
        ),
        // The setup rules ask a view only whether it holds their evidence: the same answers.
        (
            "a view the setup rules ask questions of",
            Box::new(|| p.write("shop/views.py", "import pdb\npdb.set_trace()\n")),
            1,
            "",
        ),
        // A serializers module is asked for its outline too: moved, it keeps the graph; a
        // serializer that now lists another field brings it down.
        (
            "a serializers module, its classes moved",
            Box::new(|| p.write("shop/serializers.py", &serializers("\n\nLIMIT = 10\n", "[\"title\"]"))),
            1,
            "",
        ),
        (
            "a serializer's fields changed",
            Box::new(|| p.write("shop/serializers.py", &serializers("", "[\"id\", \"title\"]"))),
            1,
            "models",
        ),
        // A view that now renders the template with a context: the template contexts fall; an
        // edit that moves the view keeps them (the module is asked what it gives templates).
        ("a view now rendering the template", Box::new(|| p.write("shop/views.py", &render(""))), 1, "templates"),
        ("the rendering view moved", Box::new(|| p.write("shop/views.py", &render("\n\nX = 1\n"))), 1, ""),
        ("the front end again", Box::new(|| p.write("web/app.js", "debugger;\n")), 1, ""),
    ];
    for (what, change, changed, fell) in changes {
        change();
        let (o, hit) = run_cached(p.path(), cache.path(), &json);
        assert!(!hit, "{what}: answered whole from the cache");
        assert_eq!((checked_again(&o), fallen(&o).as_str()), (Some(changed), fell), "{what}: {}", stderr(&o));
        // The N+1 rule checks the changed view module with the graph the last run built.
        if what == "a view module, its views moved" {
            assert!(stderr(&o).contains("models, kept from the last run)"), "{}", stderr(&o));
        }
        // The xss rule checks the moved view with the contexts the last run built.
        if what == "the rendering view moved" {
            assert!(stderr(&o).contains("template contexts kept from the last run"), "{}", stderr(&o));
        }
        let (fresh, _) = run_cached(p.path(), cache.path(), &["--format", "json", "--no-cache"]);
        assert_eq!(stdout(&o), stdout(&fresh), "{what}");
        assert_eq!(o.status.code(), fresh.status.code(), "{what}");
        // Every output format of the result kept (the entry the run wrote) is the fresh one.
        for format in ["sarif", "checklist"] {
            let (fresh, _) = run_cached(p.path(), cache.path(), &["--format", format, "--no-cache"]);
            let (kept, hit) = run_cached(p.path(), cache.path(), &["--format", format]);
            assert!(hit, "{what}: {format}");
            assert_eq!(stdout(&fresh), stdout(&kept), "{what}: {format}");
        }
    }
}

/// A rule's question of a file that needs no more of it (does it initialise an error tracker?)
/// is recorded as that question: an edit that keeps the answer keeps the rule's finding; one
/// that changes it runs the rule again.
#[test]
fn a_question_answered_the_same_keeps_the_rule_that_asked_it() {
    let p = Project::new(&[
        ("web/package.json", r#"{"name": "web", "dependencies": {"react": "18.2.0", "react-dom": "18.2.0"}}"#),
        ("web/index.html", "<div id=\"root\"></div>\n"),
        ("web/src/main.tsx", "import React from 'react';\nexport const App = () => null;\n"),
    ]);
    let cache = tempfile::tempdir().unwrap();
    let args = ["--format", "json", "--select", "error-tracking-missing"];
    let (first, _) = run_cached(p.path(), cache.path(), &args);
    assert!(stdout(&first).contains("web/package.json"), "{}", stdout(&first));
    p.write("web/src/main.tsx", "import React from 'react';\nexport const App = () => 1;\n");
    let (kept, _) = run_cached(p.path(), cache.path(), &args);
    assert_eq!((checked_again(&kept), fallen(&kept).as_str()), (Some(1), ""), "{}", stderr(&kept));
    assert_eq!(stdout(&kept), stdout(&first));
    p.write("web/src/main.tsx", "import * as Sentry from '@sentry/react';\nSentry.init({ dsn: '' });\n");
    let (again, _) = run_cached(p.path(), cache.path(), &args);
    assert_eq!(
        (checked_again(&again), fallen(&again).as_str()),
        (Some(1), "error-tracking-missing"),
        "{}",
        stderr(&again)
    );
    let (fresh, _) =
        run_cached(p.path(), cache.path(), &["--format", "json", "--select", "error-tracking-missing", "--no-cache"]);
    assert_eq!(stdout(&again), stdout(&fresh));
    assert!(!stdout(&again).contains("web/package.json"), "{}", stdout(&again));
}

/// django-migration-missing asks a module that can define no model only for its outline (its
/// classes, whether it patches makemigrations): an edit inside a view keeps the rule's result;
/// a new class in it runs the rule again.
#[test]
fn an_edit_that_keeps_a_modules_outline_keeps_the_migration_check() {
    let p = Project::new(&[
        ("shop/__init__.py", ""),
        (
            "shop/models.py",
            "from django.db import models\n\n\nclass Book(models.Model):\n    title = models.CharField(max_length=9)\n",
        ),
        ("shop/migrations/__init__.py", ""),
        (
            "shop/migrations/0001_initial.py",
            "from django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n    initial = True\n    \
             dependencies = []\n    operations = [\n        migrations.CreateModel(\n            name='Book',\n            \
             fields=[('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, \
             verbose_name='ID'))],\n        ),\n    ]\n",
        ),
        ("shop/views.py", "def index(request):\n    return None\n"),
    ]);
    let cache = tempfile::tempdir().unwrap();
    let args = ["--format", "json", "--select", "django-migration-missing"];
    let (first, _) = run_cached(p.path(), cache.path(), &args);
    assert!(stdout(&first).contains("title"), "{}", stdout(&first));
    p.write("shop/views.py", "def index(request):\n    return 1  # changed\n");
    let (kept, _) = run_cached(p.path(), cache.path(), &args);
    assert_eq!((checked_again(&kept), fallen(&kept).as_str()), (Some(1), ""), "{}", stderr(&kept));
    assert_eq!(stdout(&kept), stdout(&first));
    p.write("shop/views.py", "class Helper:\n    pass\n");
    let (again, _) = run_cached(p.path(), cache.path(), &args);
    assert_eq!(
        (checked_again(&again), fallen(&again).as_str()),
        (Some(1), "django-migration-missing"),
        "{}",
        stderr(&again)
    );
    let (fresh, _) =
        run_cached(p.path(), cache.path(), &["--format", "json", "--select", "django-migration-missing", "--no-cache"]);
    assert_eq!(stdout(&again), stdout(&fresh));
}

/// After an edit, the project is built for the rules that check the changed file with what
/// their file check reads (`Rule::file_needs`): dependency-undeclared judges a file's imports
/// against the manifests alone, so a view's new import parses no settings module.
#[test]
fn an_edit_builds_only_what_the_file_checks_read() {
    let p = shop();
    let cache = tempfile::tempdir().unwrap();
    let json = ["--format", "json"];
    run_cached(p.path(), cache.path(), &json);
    p.write("shop/views.py", "import requests\n\n\ndef index(request):\n    return requests.get('x')\n");
    let (o, _) = run_cached(p.path(), cache.path(), &json);
    assert_eq!(checked_again(&o), Some(1), "{}", stderr(&o));
    let e = stderr(&o);
    let project = e.lines().find(|l| l.starts_with("timing: project")).unwrap();
    assert!(project.contains("parses so far: 0,"), "{project}");
    assert!(stdout(&o).contains("`requests` is imported"), "{}", stdout(&o));
    let (fresh, _) = run_cached(p.path(), cache.path(), &["--format", "json", "--no-cache"]);
    assert_eq!(stdout(&o), stdout(&fresh));
}
