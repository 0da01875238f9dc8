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
    let meta_re = regex::Regex::new(
        r"^(?:Alter (?:unique|index)_together for (\w+) |Create index \w+ on .* (?:of|on) model (\w+)$|Remove index \w+ from (\w+)$|Rename (?:unnamed )?index .* on (\w+) to \w+$|Create constraint \w+ on model (\w+)$|Remove constraint \w+ from model (\w+)$|Alter constraint \w+ on (\w+)$|Change Meta options on (\w+)$|Set order_with_respect_to on (\w+) to \w+$)",
    )
    .unwrap();
    let mut app = String::new();
    let mut found = BTreeSet::new();
    for line in out.lines() {
        if let Some(c) = app_re.captures(line) {
            app = c[1].to_string();
        } else if let Some(c) = model_re.captures(line.trim()).or_else(|| field_re.captures(line.trim())) {
            found.insert((app.clone(), c[1].to_lowercase()));
        } else if let Some(c) = meta_re.captures(line.trim_start().trim_start_matches(['+', '-', '~', ' '])) {
            let m = c.iter().skip(1).flatten().next().unwrap().as_str();
            found.insert((app.clone(), m.to_lowercase()));
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
    assert_eq!(theirs.len(), 13, "the fixture has thirteen drifted models: {theirs:?}");
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
            ".: note: django-migration-missing compared 41 models with the migrations; 5 other classes of the apps \
             were not judged"
        ),
        "{err}"
    );
}

const META_MODELS: &str = r#"from django.db import models
from django.utils.translation import gettext_lazy as _


class Tagged(models.Model):
    label = models.CharField(max_length=10)

    class Meta:
        abstract = True
        indexes = [models.Index(fields=["label"], name="%(app_label)s_%(class)s_lbl")]


class Shelf(Tagged):
    code = models.CharField(max_length=10)
    room = models.CharField(max_length=10)
    floor = models.IntegerField(default=0)

    class Meta(Tagged.Meta):
        ordering = ["code"]
        verbose_name = _("shelf")
        unique_together = ("code", "room")
        indexes = [
            models.Index(fields=["room", "-floor"], name="shelf_room_floor"),
            models.Index(fields=["code"]),
        ]
        constraints = [
            models.UniqueConstraint(fields=["room", "floor"], name="one_per_floor"),
            models.CheckConstraint(condition=models.Q(floor__gte=0), name="floor_positive"),
        ]


class Box(Tagged):
    size = models.IntegerField()


class Bin(models.Model):
    size = models.IntegerField()

    class Meta:
        permissions = [("empty_bin", "Can empty the bin")]
        get_latest_by = "size"


class BinView(Bin):
    class Meta:
        proxy = True
        ordering = ["size"]
"#;

/// (what changes, from, to, the model Django and preflight report) over `META_MODELS`.
const META_CHANGES: &[(&str, &str, &str, Option<&str>)] = &[
    ("unique_together changed", "unique_together = (\"code\", \"room\")", "unique_together = (\"code\", \"floor\")", Some("shelf")),
    ("unique_together removed", "        unique_together = (\"code\", \"room\")\n", "", Some("shelf")),
    (
        "index added",
        "            models.Index(fields=[\"code\"]),\n",
        "            models.Index(fields=[\"code\"]),\n            models.Index(fields=[\"floor\"], name=\"shelf_floor\"),\n",
        Some("shelf"),
    ),
    ("index removed", "            models.Index(fields=[\"room\", \"-floor\"], name=\"shelf_room_floor\"),\n", "", Some("shelf")),
    ("index renamed", "name=\"shelf_room_floor\"", "name=\"shelf_room_level\"", Some("shelf")),
    ("index fields changed", "fields=[\"room\", \"-floor\"]", "fields=[\"room\", \"floor\"]", Some("shelf")),
    ("unnamed index fields changed", "models.Index(fields=[\"code\"])", "models.Index(fields=[\"room\"])", Some("shelf")),
    (
        "inherited index name changed",
        "name=\"%(app_label)s_%(class)s_lbl\"",
        "name=\"%(app_label)s_%(class)s_label\"",
        Some("box"),
    ),
    (
        "constraint added",
        "        constraints = [\n",
        "        constraints = [\n            models.UniqueConstraint(fields=[\"code\"], name=\"one_code\"),\n",
        Some("shelf"),
    ),
    (
        "constraint removed",
        "            models.CheckConstraint(condition=models.Q(floor__gte=0), name=\"floor_positive\"),\n",
        "",
        Some("shelf"),
    ),
    ("constraint fields changed", "fields=[\"room\", \"floor\"], name=\"one_per_floor\"", "fields=[\"room\"], name=\"one_per_floor\"", Some("shelf")),
    ("ordering changed", "ordering = [\"code\"]", "ordering = [\"-code\"]", Some("shelf")),
    ("ordering as a tuple", "ordering = [\"code\"]", "ordering = (\"code\",)", Some("shelf")),
    ("ordering added", "class Box(Tagged):\n    size = models.IntegerField()\n", "class Box(Tagged):\n    size = models.IntegerField()\n\n    class Meta(Tagged.Meta):\n        ordering = [\"size\"]\n", Some("box")),
    ("verbose_name changed", "verbose_name = _(\"shelf\")", "verbose_name = _(\"rack\")", Some("shelf")),
    ("permissions changed", "(\"empty_bin\", \"Can empty the bin\")", "(\"empty_bin\", \"Can empty bins\")", Some("bin")),
    ("get_latest_by removed", "        get_latest_by = \"size\"\n", "", Some("bin")),
    ("proxy ordering changed", "ordering = [\"size\"]", "ordering = [\"-size\"]", Some("binview")),
    // Django writes the table name even when it is the default one.
    ("default db_table written out", "        get_latest_by = \"size\"\n", "        get_latest_by = \"size\"\n        db_table = \"shop_bin\"\n", Some("bin")),
    // What Django does not see as a change, preflight does not either.
    ("unique_together as a tuple of tuples", "unique_together = (\"code\", \"room\")", "unique_together = ((\"code\", \"room\"),)", None),
    ("unique_together as a list of lists", "unique_together = (\"code\", \"room\")", "unique_together = [[\"code\", \"room\"]]", None),
    ("verbose_name untranslated", "verbose_name = _(\"shelf\")", "verbose_name = \"shelf\"", None),
    ("index fields as a tuple", "fields=[\"room\", \"-floor\"]", "fields=(\"room\", \"-floor\")", None),
    ("constraint fields as a tuple", "fields=[\"room\", \"floor\"], name=\"one_per_floor\"", "fields=(\"room\", \"floor\"), name=\"one_per_floor\"", None),
    (
        "indexes reordered",
        "            models.Index(fields=[\"room\", \"-floor\"], name=\"shelf_room_floor\"),\n            models.Index(fields=[\"code\"]),\n",
        "            models.Index(fields=[\"code\"]),\n            models.Index(fields=[\"room\", \"-floor\"], name=\"shelf_room_floor\"),\n",
        None,
    ),

];

/// Runs `changes` one at a time over `models` (the app `shop`, its migrations written by Django
/// first) and requires preflight to report the models Django does, and nothing else.
fn agree_on_each_change(python: &str, models: &str, changes: &[(&str, &str, &str, Option<&str>)]) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::create_dir_all(p.join("shop/migrations")).unwrap();
    std::fs::write(p.join("shop/__init__.py"), "").unwrap();
    std::fs::write(p.join("shop/migrations/__init__.py"), "").unwrap();
    std::fs::write(p.join("shop/models.py"), models).unwrap();
    std::fs::write(p.join("preflight_test_settings.py"), SETTINGS.replace("%APPS%", "'shop'")).unwrap();
    let o = django(python, p, &["makemigrations", "shop", "--noinput"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(django_models(python, p), BTreeSet::new());
    assert_eq!(preflight_models(p), BTreeSet::new(), "Django's own migrations, in sync");
    let mut report = Vec::new();
    for (what, from, to, model) in changes {
        assert!(models.contains(from), "{what}: `{from}` is not in the models");
        std::fs::write(p.join("shop/models.py"), models.replacen(from, to, 1)).unwrap();
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

#[test]
fn each_meta_change_agrees_with_makemigrations() {
    let Some(python) = skip_or(python_with_django()) else { return };
    agree_on_each_change(python, META_MODELS, META_CHANGES);
}

const FIELD_MODELS: &str = r#"from django.db import models


def fresh_code():
    return "x"


class Shelf(models.Model):
    label = models.CharField(max_length=10)


class Item(models.Model):
    title = models.CharField(max_length=50, default="untitled")
    code = models.CharField(max_length=10, default=fresh_code)
    count = models.IntegerField(default=0)
    done = models.BooleanField(default=False)
    note = models.TextField(blank=True)
    slug = models.SlugField()
    tag = models.SlugField(db_index=False)
    shelf = models.ForeignKey(Shelf, on_delete=models.CASCADE)
    spare = models.ForeignKey(Shelf, on_delete=models.CASCADE, db_index=False, related_name="+")
    rank = models.IntegerField(db_index=True)


class Box(models.Model):
    shelf = models.ForeignKey(Shelf, on_delete=models.CASCADE)
    spare = models.ForeignKey(Shelf, on_delete=models.CASCADE, related_name="+")

    class Meta:
        order_with_respect_to = "shelf"
"#;

/// (what changes, from, to, the model Django and preflight report) over `FIELD_MODELS`, whose
/// defaults and indexes Django's migrations hold (in sync: silent).
const FIELD_CHANGES: &[(&str, &str, &str, Option<&str>)] = &[
    (
        "default added",
        "note = models.TextField(blank=True)",
        "note = models.TextField(blank=True, default=\"\")",
        Some("item"),
    ),
    ("default removed", "count = models.IntegerField(default=0)", "count = models.IntegerField()", Some("item")),
    (
        "default changed",
        "count = models.IntegerField(default=0)",
        "count = models.IntegerField(default=1)",
        Some("item"),
    ),
    ("string default changed", "default=\"untitled\"", "default=\"new\"", Some("item")),
    (
        "callable default removed",
        "code = models.CharField(max_length=10, default=fresh_code)",
        "code = models.CharField(max_length=10)",
        Some("item"),
    ),
    (
        "db_index added",
        "note = models.TextField(blank=True)",
        "note = models.TextField(blank=True, db_index=True)",
        Some("item"),
    ),
    ("db_index removed", "rank = models.IntegerField(db_index=True)", "rank = models.IntegerField()", Some("item")),
    (
        "db_index=False on a ForeignKey",
        "shelf = models.ForeignKey(Shelf, on_delete=models.CASCADE)",
        "shelf = models.ForeignKey(Shelf, on_delete=models.CASCADE, db_index=False)",
        Some("item"),
    ),
    (
        "ForeignKey index restored",
        "on_delete=models.CASCADE, db_index=False, related_name",
        "on_delete=models.CASCADE, related_name",
        Some("item"),
    ),
    ("SlugField index restored", "tag = models.SlugField(db_index=False)", "tag = models.SlugField()", Some("item")),
    // What Django does not see as a change, preflight does not either.
    ("db_index=True on a SlugField", "slug = models.SlugField()", "slug = models.SlugField(db_index=True)", None),
    (
        "db_index=True on a ForeignKey",
        "shelf = models.ForeignKey(Shelf, on_delete=models.CASCADE)",
        "shelf = models.ForeignKey(Shelf, on_delete=models.CASCADE, db_index=True)",
        None,
    ),
    (
        "db_index=False written out",
        "note = models.TextField(blank=True)",
        "note = models.TextField(blank=True, db_index=False)",
        None,
    ),
    (
        "order_with_respect_to added",
        "    rank = models.IntegerField(db_index=True)\n",
        "    rank = models.IntegerField(db_index=True)\n\n    class Meta:\n        order_with_respect_to = \"shelf\"\n",
        Some("item"),
    ),
    (
        "order_with_respect_to changed",
        "order_with_respect_to = \"shelf\"",
        "order_with_respect_to = \"spare\"",
        Some("box"),
    ),
    (
        "order_with_respect_to removed",
        "\n    class Meta:\n        order_with_respect_to = \"shelf\"\n",
        "",
        Some("box"),
    ),
    ("False default as 0", "done = models.BooleanField(default=False)", "done = models.BooleanField(default=0)", None),
];

#[test]
fn each_default_and_index_change_agrees_with_makemigrations() {
    let Some(python) = skip_or(python_with_django()) else { return };
    agree_on_each_change(python, FIELD_MODELS, FIELD_CHANGES);
}
