//! django-migration-missing against Django's own `makemigrations --check --dry-run`: on the
//! fixture tree (apps `boutique` and `billing`, in sync in many shapes and with each kind of drift)
//! and on small generated projects (Django writes the migrations, then one change at a time is
//! made to the models), the models preflight reports must be exactly the models Django would
//! write a migration for. Django comes from PyPI (`.ci/run` installs it); without it the test
//! is skipped, loudly, outside CI.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use common::run_in;

const SETTINGS: &str = "SECRET_KEY = 'not-a-secret-only-for-this-test'\n\
INSTALLED_APPS = ['django.contrib.contenttypes', 'django.contrib.auth', %APPS%]\n\
DATABASES = {'default': {'ENGINE': 'django.db.backends.sqlite3', 'NAME': ':memory:'}}\n\
DEFAULT_AUTO_FIELD = 'django.db.models.BigAutoField'\n\
USE_TZ = True\n";

fn python_with_django() -> Option<&'static str> {
    let ok = Command::new("python3").args(["-c", "import django"]).output().is_ok_and(|o| o.status.success());
    ok.then_some("python3")
}

fn django(python: &str, dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(python)
        .args(["-m", "django"])
        .args(args)
        .current_dir(dir)
        .env("DJANGO_SETTINGS_MODULE", "preflight_test_settings")
        .env("PYTHONPATH", dir)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("python3")
}

/// (app label, lower-cased model) for every model `makemigrations --check --dry-run` would
/// write an operation for.
fn django_models(python: &str, dir: &Path) -> BTreeSet<(String, String)> {
    let o = django(python, dir, &["makemigrations", "--check", "--dry-run", "--noinput"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        matches!(o.status.code(), Some(0) | Some(1)) && o.stderr.is_empty(),
        "makemigrations failed: {out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let app_re = regex::Regex::new(r"^Migrations for '(\w+)':").unwrap();
    let model_re =
        regex::Regex::new(r"(?:Create (?:proxy )?model|Delete model|Rename table for) (\w+)(?: to \w+)?$").unwrap();
    let field_re = regex::Regex::new(r"(?:Add|Remove|Alter) field \w+ (?:to|from|on) (\w+)$").unwrap();
    let mut app = String::new();
    let mut found = BTreeSet::new();
    for line in out.lines() {
        if let Some(c) = app_re.captures(line) {
            app = c[1].to_string();
        } else if let Some(c) = model_re.captures(line.trim()).or_else(|| field_re.captures(line.trim())) {
            found.insert((app.clone(), c[1].to_lowercase()));
        } else if line.trim_start().starts_with(['+', '-', '~']) {
            panic!("an operation this test does not parse: {line}");
        }
    }
    found
}

/// The same, from preflight's findings (a model no class defines any more is reported at the
/// app's models module).
fn preflight_models(dir: &Path) -> BTreeSet<(String, String)> {
    let o = run_in(dir, &["check", ".", "--select", "django-migration-missing", "--format", "json", "--quiet"]);
    assert!(matches!(o.status.code(), Some(0) | Some(1)), "{}", String::from_utf8_lossy(&o.stderr));
    let findings: Vec<serde_json::Value> = serde_json::from_slice(&o.stdout).unwrap();
    let re = regex::Regex::new(r"^(?:model `(\w+)`|`(\w+)\.\w+`).*? of app `(\w+)`").unwrap();
    findings
        .iter()
        .map(|f| {
            let msg = f["message"].as_str().unwrap();
            let c = re.captures(msg).unwrap_or_else(|| panic!("message names no model: {msg}"));
            let model = c.get(1).or(c.get(2)).unwrap().as_str().to_lowercase();
            (c[3].to_string(), model)
        })
        .collect()
}

fn copy_tree(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        let dest = to.join(e.file_name());
        if p.is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
            copy_tree(&p, &dest);
        } else {
            std::fs::copy(&p, &dest).unwrap();
        }
    }
}

fn skip_or(python: Option<&'static str>) -> Option<&'static str> {
    if python.is_none() {
        if std::env::var_os("CI").is_some() {
            panic!("Django is not importable by python3; .ci/run installs it");
        }
        eprintln!("SKIPPED: Django is not installed (pip install django)");
    }
    python
}

#[test]
fn fixture_tree_agrees_with_makemigrations_model_by_model() {
    let Some(python) = skip_or(python_with_django()) else { return };
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/django-migration-missing");
    let dir = tempfile::tempdir().unwrap();
    // The apps Django can import (`extras` needs django-mptt, `legacy` is about preflight
    // leaving a custom operation alone).
    for app in ["boutique", "billing"] {
        std::fs::create_dir_all(dir.path().join(app)).unwrap();
        copy_tree(&fixture.join(app), &dir.path().join(app));
    }
    std::fs::write(dir.path().join("preflight_test_settings.py"), SETTINGS.replace("%APPS%", "'boutique', 'billing'"))
        .unwrap();
    let theirs = django_models(python, dir.path());
    let ours = preflight_models(dir.path());
    assert_eq!(theirs.len(), 12, "the fixture has twelve drifted models: {theirs:?}");
    assert_eq!(ours, theirs);
}

const MODELS: &str = r#"from django.conf import settings
from django.db import models


class Stamped(models.Model):
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True


class Shelf(models.Model):
    label = models.CharField(max_length=10)


class Box(models.Model):
    label = models.CharField(max_length=10)


class Bin(models.Model):
    label = models.CharField(max_length=10)


class Item(Stamped):
    title = models.CharField(max_length=50)
    slug = models.SlugField()
    email = models.EmailField()
    site = models.URLField(blank=True)
    count = models.IntegerField(default=0)
    price = models.DecimalField(max_digits=6, decimal_places=2)
    note = models.TextField(blank=True)
    shelf = models.ForeignKey(Shelf, on_delete=models.CASCADE)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE)
    boxes = models.ManyToManyField("shop.Box", blank=True)
    token = models.UUIDField(unique=True)
    data = models.JSONField(default=dict)


class SpecialItem(Item):
    level = models.PositiveSmallIntegerField(null=True)


class ItemView(Item):
    class Meta:
        proxy = True
"#;

/// (what changes, from, to, Django and preflight report the model) over `MODELS`.
const CHANGES: &[(&str, &str, &str, Option<&str>)] = &[
    (
        "field added",
        "    note = models.TextField(blank=True)\n",
        "    note = models.TextField(blank=True)\n    extra = models.IntegerField(null=True)\n",
        Some("item"),
    ),
    ("field removed", "    note = models.TextField(blank=True)\n", "", Some("item")),
    (
        "model added",
        "class ItemView(Item):",
        "class Fresh(models.Model):\n    x = models.IntegerField()\n\n\nclass ItemView(Item):",
        Some("fresh"),
    ),
    ("model removed", "class Bin(models.Model):\n    label = models.CharField(max_length=10)\n\n\n", "", Some("bin")),
    (
        "db_table changed",
        "class Shelf(models.Model):\n    label = models.CharField(max_length=10)\n",
        "class Shelf(models.Model):\n    label = models.CharField(max_length=10)\n\n    class Meta:\n        db_table = \"shelves\"\n",
        Some("shelf"),
    ),
    (
        "class changed",
        "count = models.IntegerField(default=0)",
        "count = models.BigIntegerField(default=0)",
        Some("item"),
    ),
    (
        "null changed",
        "title = models.CharField(max_length=50)",
        "title = models.CharField(max_length=50, null=True)",
        Some("item"),
    ),
    (
        "max_length changed",
        "title = models.CharField(max_length=50)",
        "title = models.CharField(max_length=60)",
        Some("item"),
    ),
    ("unique changed", "slug = models.SlugField()", "slug = models.SlugField(unique=True)", Some("item")),
    ("relation target changed", "shelf = models.ForeignKey(Shelf,", "shelf = models.ForeignKey(Bin,", Some("item")),
    (
        "abstract base field added",
        "    created = models.DateTimeField(auto_now_add=True)\n",
        "    created = models.DateTimeField(auto_now_add=True)\n    edited = models.DateTimeField(null=True)\n",
        Some("item"),
    ),
    (
        "multi-table child field added",
        "    level = models.PositiveSmallIntegerField(null=True)\n",
        "    level = models.PositiveSmallIntegerField(null=True)\n    rank = models.IntegerField(null=True)\n",
        Some("specialitem"),
    ),
    // What Django does not see as a change, preflight does not either.
    (
        "default max_length written out",
        "email = models.EmailField()",
        "email = models.EmailField(max_length=254)",
        None,
    ),
    (
        "default null written out",
        "note = models.TextField(blank=True)",
        "note = models.TextField(blank=True, null=False)",
        None,
    ),
    (
        "target written as a string",
        "shelf = models.ForeignKey(Shelf,",
        "shelf = models.ForeignKey(\"shop.Shelf\",",
        None,
    ),
    (
        "field moved to an abstract base",
        "    created = models.DateTimeField(auto_now_add=True)\n",
        "    created = models.DateTimeField(auto_now_add=True)\n    note = models.TextField(blank=True)\n",
        None,
    ),
];

#[test]
fn each_change_agrees_with_makemigrations() {
    let Some(python) = skip_or(python_with_django()) else { return };
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::create_dir_all(p.join("shop/migrations")).unwrap();
    std::fs::write(p.join("shop/__init__.py"), "").unwrap();
    std::fs::write(p.join("shop/migrations/__init__.py"), "").unwrap();
    std::fs::write(p.join("shop/models.py"), MODELS).unwrap();
    std::fs::write(p.join("preflight_test_settings.py"), SETTINGS.replace("%APPS%", "'shop'")).unwrap();
    let o = django(python, p, &["makemigrations", "shop", "--noinput"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(django_models(python, p), BTreeSet::new());
    assert_eq!(preflight_models(p), BTreeSet::new(), "Django's own migrations, in sync");
    let mut report = Vec::new();
    for (what, from, to, model) in CHANGES {
        assert!(MODELS.contains(from), "{what}: `{from}` is not in the models");
        let mut changed = MODELS.replacen(from, to, 1);
        if *what == "field moved to an abstract base" {
            changed = changed.replacen("    note = models.TextField(blank=True)\n    shelf", "    shelf", 1);
        }
        std::fs::write(p.join("shop/models.py"), &changed).unwrap();
        let theirs = django_models(python, p);
        let ours = preflight_models(p);
        let want: BTreeSet<(String, String)> = model.iter().map(|m| ("shop".to_string(), m.to_string())).collect();
        assert_eq!(theirs, want, "{what}: Django is not reporting what this test expects");
        if ours != theirs {
            report.push(format!("{what}: preflight {ours:?}, Django {theirs:?}"));
        }
    }
    assert!(report.is_empty(), "\n{}\n", report.join("\n"));
}

/// The summary says how many models were compared and how many classes were left alone.
#[test]
fn summary_counts_the_models_not_judged() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/django-migration-missing");
    let o = run_in(&fixture, &["check", ".", "--select", "django-migration-missing"]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(
            ".: note: django-migration-missing compared 28 models with the migrations; 4 other classes of the apps \
             were not judged"
        ),
        "{err}"
    );
}
