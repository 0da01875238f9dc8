//! The checklist report (`preflight report`, `check --format html|checklist`): each item's
//! status for small projects, and the HTML page in a real headless Chromium.

mod common;

use common::*;

fn sample_project() -> Project {
    Project::new(&[
        ("manage.py", ""),
        ("requirements.txt", "Django==5.0.6\n"),
        ("shop/settings/__init__.py", ""),
        ("shop/settings/base.py", "INSTALLED_APPS = ['shop']\nROOT_URLCONF = 'shop.urls'\nDEBUG = True\n"),
        ("shop/settings/prod.py", "from .base import *\n\nALLOWED_HOSTS = ['*']\nSECRET_KEY = __import__('os').environ['SECRET_KEY']\n"),
        ("shop/models.py", "from django.db import models\n\nclass Order(models.Model):\n    total = models.IntegerField()\n"),
        ("frontend/package.json", "{}\n"),
        ("frontend/src/api.ts", "export async function load() {\n  const r = await fetch('/api/');\n  console.log(r.status);\n  return r.json();\n}\n"),
        ("shop/views.py", "def index(request):\n    # TODO: paginate\n    return None\n"),
    ])
}

/// The checklist line of `item` in `--format checklist` output.
fn line_of<'a>(out: &'a str, item: &str) -> &'a str {
    out.lines()
        .find(|l| l.starts_with("- [") && l.contains(&format!("**{item}**")))
        .unwrap_or_else(|| panic!("no item {item}:\n{out}"))
}

#[test]
fn checklist_statuses_and_counts() {
    let p = sample_project();
    let o = p.run(&["report", "--format", "checklist"]);
    assert_eq!(o.status.code(), Some(0), "a report is not a failed check: {}", stderr(&o));
    let out = stdout(&o);
    assert_eq!(
        line_of(&out, "No DEBUG=True in production"),
        "- [ ] **No DEBUG=True in production** · DEBUG=False в продакшене — ❌ failed: 1 error (`django-debug-enabled`)"
    );
    assert_eq!(
        line_of(&out, "ALLOWED_HOSTS set properly"),
        "- [ ] **ALLOWED_HOSTS set properly** · ALLOWED_HOSTS настроен — ❌ failed: 1 error (`django-allowed-hosts-wildcard`)"
    );
    assert_eq!(
        line_of(&out, "No console.log in production code"),
        "- [ ] **No console.log in production code** · Нет console.log в продакшен-коде — ❌ failed: 1 warning (`console-log`)"
    );
    assert_eq!(
        line_of(&out, "No hardcoded SECRET_KEY"),
        "- [x] **No hardcoded SECRET_KEY** · SECRET_KEY не захардкожен — ✅ passed (`django-secret-key-hardcoded`)"
    );
    assert!(line_of(&out, "All tests pass")
        .starts_with("- [ ] **All tests pass** · Все тесты проходят — 👤 needs a human: "));
    assert_eq!(
        line_of(&out, "No merge conflicts"),
        "- [x] **No merge conflicts** · Нет конфликтов слияния — ✅ passed (`merge-conflict-marker`)"
    );
    assert_eq!(
        line_of(&out, "Env variables set properly"),
        "- [x] **Env variables set properly** · Переменные окружения заданы правильно — ✅ passed (`frontend-env-undefined`)"
    );
    assert_eq!(
        line_of(&out, "All dependencies in requirements.txt"),
        "- [x] **All dependencies in requirements.txt** · Все зависимости в requirements.txt — ✅ passed (`dependency-undeclared`)"
    );
    // The production settings set no CACHES: the caching item is decided by a rule now.
    assert_eq!(
        line_of(&out, "Caching configured (Redis)"),
        "- [ ] **Caching configured (Redis)** · Кэширование настроено (Redis) — ❌ failed: 1 note (`django-cache-not-configured`)"
    );
    assert_eq!(
        line_of(&out, "Logging configured"),
        "- [ ] **Logging configured** · Логирование настроено — ❌ failed: 1 warning (`django-logging-not-configured`)"
    );
    assert_eq!(
        line_of(&out, "Error tracking works"),
        "- [ ] **Error tracking works** · Трекинг ошибок работает (Sentry) — ❌ failed: 1 note (`error-tracking-missing`)"
    );
    // No URLconf in the repository: the health-check rule has nothing to judge, and passes.
    assert_eq!(
        line_of(&out, "Health check endpoint works"),
        "- [x] **Health check endpoint works** · Health check работает (/api/health/) — ✅ passed (`health-endpoint-missing`)"
    );
    assert_eq!(
        line_of(&out, "Metrics are collected"),
        "- [ ] **Metrics are collected** · Метрики собираются — ❌ failed: 1 note (`metrics-missing`)"
    );
    // No committed image over the budget (the sample is no git repository): passed.
    assert!(line_of(&out, "Images optimised").contains("✅ passed (`image-unoptimized`)"), "{out}");
    // Migrations created: decided by django-migration-missing (the sample's models have none).
    assert_eq!(
        line_of(&out, "Migrations created"),
        "- [x] **Migrations created** · Миграции созданы (make makemigrations) — ✅ passed (`django-migration-missing`)"
    );
    assert!(out.contains("**8 failed** · 20 passed · 5 need a human · 0 not applicable · 0 not checked"), "{out}");
    assert!(
        out.contains(
            "- Production settings `shop/settings/prod.py`: `shop/settings/prod.py` ← `shop/settings/base.py`"
        ),
        "{out}"
    );
    assert!(out.contains("- Django apps: 1; "), "{out}");
    assert!(out.contains("- Front-end roots: `frontend`; production files: 4 Python, 1 JS/TS"), "{out}");
}

#[test]
fn items_without_their_stack_are_not_applicable_and_unselected_rules_not_checked() {
    // Front end only: the Django items are not applicable; no console.log means passed.
    let js = Project::new(&[("web/package.json", "{}\n"), ("web/src/App.tsx", "export const App = () => null;\n")]);
    let out = stdout(&js.run(&["report", "--format", "checklist"]));
    assert_eq!(
        line_of(&out, "No DEBUG=True in production"),
        "- [x] **No DEBUG=True in production** · DEBUG=False в продакшене — ➖ not applicable: no Django project found (`django-debug-enabled`)"
    );
    assert!(line_of(&out, "No console.log in production code").contains("✅ passed"));
    // Back end only: the front-end-only rule is not applicable.
    let py = Project::new(&[("manage.py", ""), ("app/views.py", "def f():\n    return 1\n")]);
    let out = stdout(&py.run(&["report", "--format", "checklist"]));
    assert!(
        line_of(&out, "No console.log in production code").contains("➖ not applicable: no front-end code found"),
        "{out}"
    );
    // Rules not selected: their items are not checked, never "passed".
    let out = stdout(&sample_project().run(&["report", "--format", "checklist", "--select", "todo-fixme"]));
    assert!(line_of(&out, "No DEBUG=True in production").contains("⏸ not checked"), "{out}");
    assert!(line_of(&out, "No TODO/FIXME in production code").contains("❌ failed: 1 warning"), "{out}");
}

#[test]
fn html_report_is_self_contained_and_escapes_the_repository() {
    let p = sample_project();
    p.write("frontend/src/<img src=x onerror=alert(1)>.ts", "console.log('x');\n");
    let o = p.run(&["report", "-o", "report.html"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let html = std::fs::read_to_string(p.path().join("report.html")).unwrap();
    assert!(html.starts_with("<!doctype html>"));
    assert!(html.contains("default-src 'none'"), "a CSP forbids every request");
    for needle in ["http://", "https://", " src=\"", "<link", "@import", "url("] {
        let hits: Vec<&str> = html.lines().filter(|l| l.contains(needle)).collect();
        // Rule references are text, never links the page loads.
        assert!(hits.iter().all(|l| l.starts_with("<details id=\"rule-")), "{needle} in {hits:?}");
    }
    assert!(!html.contains("<img src=x"), "markup from a file name reached the page");
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;.ts"));
    assert!(html.contains("data-item=\"No DEBUG=True in production\" data-status=\"failed\""));
    assert!(html.contains("data-item=\"All tests pass\" data-status=\"human\""));
}

/// The page in a real browser: headless Chromium from the system's packages, driven by
/// playwright-core (`.ci/run` installs both; NODE_PATH points at it). No console error, no
/// request, the statuses, every filter, dark mode; the screenshot lands in target/.
#[test]
fn html_report_in_headless_chromium() {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let node_path = std::env::var_os("NODE_PATH");
    let have_driver = node_path
        .as_ref()
        .is_some_and(|p| std::env::split_paths(p).any(|d| d.join("playwright-core/package.json").is_file()));
    if !std::path::Path::new(&chromium).is_file() || !have_driver {
        if std::env::var_os("CI").is_some() {
            panic!("chromium ({chromium}) or playwright-core (in NODE_PATH) is missing; .ci/run installs both");
        }
        eprintln!(
            "SKIPPED: the browser test needs chromium (apt-get install chromium) and playwright-core in NODE_PATH"
        );
        return;
    }
    let p = sample_project();
    let o = p.run(&["report", "-o", "report.html"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let shot = here.join("target/report-screenshot.png");
    let o = std::process::Command::new("node")
        .arg(here.join("tests/browser/report.cjs"))
        .arg(p.path().join("report.html"))
        .arg(&shot)
        .env("CHROMIUM", &chromium)
        .output()
        .expect("node");
    assert!(o.status.success(), "browser script failed:\n{}{}", stdout(&o), stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("the script prints JSON");
    assert_eq!(v["errors"], serde_json::json!([]), "console errors");
    assert_eq!(v["requests"], serde_json::json!([]), "requests left the page");
    let items = &v["items"];
    assert_eq!(items["No DEBUG=True in production"], "failed");
    assert_eq!(items["No hardcoded SECRET_KEY"], "passed");
    assert_eq!(items["All tests pass"], "human");
    assert_eq!(items.as_object().unwrap().len(), 33, "every checklist item is on the page");
    let f = &v["filters"];
    assert_eq!((f["all"].as_u64(), f["level_error"].as_u64()), (Some(8), Some(2)), "{f}");
    assert_eq!((f["rule_console-log"].as_u64(), f["rule_todo-fixme"].as_u64()), (Some(1), Some(1)), "{f}");
    assert_eq!(f["path_settings"].as_u64(), Some(6), "{f}");
    assert_eq!(f["status_text"], "6 of 8 findings shown");
    assert_eq!(v["darkBg"], "rgb(13, 17, 23)", "dark mode");
    assert!(shot.is_file());
}

/// Settings rules that had nothing to judge are not a pass: with no production settings module,
/// or with every one (examples and templates aside) importing a module the repository does not
/// hold, their items need a human; with a settings chain preflight can read, silence is a pass.
#[test]
fn settings_items_are_not_passed_when_nothing_could_be_judged() {
    let item = "No DEBUG=True in production";
    // A Django project whose settings module is nowhere to be found.
    let none = Project::new(&[("manage.py", ""), ("app/views.py", "def f():\n    return 1\n")]);
    let out = stdout(&none.run(&["report", "--format", "checklist"]));
    assert!(line_of(&out, item).contains("👤 needs a human: preflight found no production settings module"), "{out}");
    // Every production module star-imports a `local` module the repository does not hold.
    let open = Project::new(&[
        ("manage.py", "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'shop.settings')\n"),
        ("shop/__init__.py", ""),
        ("shop/settings.py", "INSTALLED_APPS = ['shop']\nDEBUG = False\n\nfrom .local import *\n"),
    ]);
    let out = stdout(&open.run(&["report", "--format", "checklist"]));
    assert!(
        line_of(&out, item).contains("👤 needs a human: every production settings module imports a module"),
        "{out}"
    );
    // The same, beside an example configuration a deployment copies (NetBox's
    // `configuration_example.py`): the example is not what runs, so still a human's call.
    let example = Project::new(&[
        ("manage.py", "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'shop.settings')\n"),
        ("shop/__init__.py", ""),
        ("shop/settings.py", "INSTALLED_APPS = ['shop']\nDEBUG = False\n\nfrom .local import *\n"),
        ("shop/configuration_example.py", "INSTALLED_APPS = ['shop']\nDEBUG = False\nSECRET_KEY = ''\n"),
    ]);
    let out = stdout(&example.run(&["report", "--format", "checklist"]));
    assert!(
        line_of(&out, item).contains("👤 needs a human: every production settings module imports a module"),
        "{out}"
    );
    // The same chain without the missing module: judged, and silent means passed.
    let closed = Project::new(&[
        ("manage.py", "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'shop.settings')\n"),
        ("shop/__init__.py", ""),
        ("shop/settings.py", "INSTALLED_APPS = ['shop']\nDEBUG = False\n"),
    ]);
    let out = stdout(&closed.run(&["report", "--format", "checklist"]));
    assert!(line_of(&out, item).contains("✅ passed"), "{out}");
    // A rule outside the settings chain on the same item list is unaffected.
    assert!(line_of(&out, "No console.log in production code").contains("not applicable"), "{out}");
}
