//! Issue 19: findings a reviewer can act on. Which migrations `django-migration-unsafe` judges
//! by default (those a next deploy would apply), and how to judge the whole history.

mod common;

use common::*;

const RULE: &str = "django-migration-unsafe";

fn migration(deps: &[&str], ops: &str) -> String {
    let deps: Vec<String> = deps.iter().map(|d| format!("(\"shop\", \"{d}\")")).collect();
    format!(
        "from django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n    dependencies = [{}]\n\n    \
         operations = [\n        {ops}\n    ]\n",
        deps.join(", ")
    )
}

fn shop() -> Project {
    let create = "migrations.CreateModel(name=\"Item\", fields=[(\"id\", models.AutoField(primary_key=True)), \
                  (\"a\", models.IntegerField()), (\"b\", models.IntegerField()), (\"c\", models.IntegerField())]),";
    Project::new(&[
        ("manage.py", ""),
        ("shop/__init__.py", ""),
        ("shop/migrations/__init__.py", ""),
        ("shop/migrations/0001_initial.py", &migration(&[], create)),
        ("shop/migrations/0002_drop_a.py", &migration(&["0001_initial"], "migrations.RemoveField(\"item\", \"a\"),")),
        ("shop/migrations/0003_drop_b.py", &migration(&["0002_drop_a"], "migrations.RemoveField(\"item\", \"b\"),")),
    ])
}

fn run_rule(p: &Project, extra: &[&str]) -> (Vec<(String, String, u64)>, String) {
    let mut args = vec!["check", "--format", "json", "--select", RULE];
    args.extend_from_slice(extra);
    let o = p.run(&args);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    (triples(&o), stderr(&o))
}

/// By default only each app's leaf migration is judged: older ones ran in earlier deploys. The
/// summary says how many were left out and how to include them.
#[test]
fn only_the_migrations_a_next_deploy_applies_are_judged() {
    let p = shop();
    let (found, err) = run_rule(&p, &[]);
    assert_eq!(found, vec![t(RULE, "shop/migrations/0003_drop_b.py", 8)]);
    assert!(
        err.contains(
            ".: note: django-migration-unsafe and django-migration-irreversible judged only each app's latest \
             migrations, the ones a next deploy would apply; 2 older migrations were not judged: `--all-migrations` (or `all-migrations = true` in the config) \
             judges the whole history, `--diff-base REV` the migrations changed since REV (a release tag)"
        ),
        "{err}"
    );

    let all = vec![t(RULE, "shop/migrations/0002_drop_a.py", 8), t(RULE, "shop/migrations/0003_drop_b.py", 8)];
    let (found, err) = run_rule(&p, &["--all-migrations"]);
    assert_eq!(found, all);
    assert!(!err.contains("not judged"), "{err}");
    p.write("preflight.toml", "all-migrations = true\n");
    assert_eq!(run_rule(&p, &[]).0, all);
}

/// A merge migration is the leaf, but the branches it joins are new too.
#[test]
fn a_merge_migration_brings_in_the_heads_it_joins() {
    let p = shop();
    p.write("shop/migrations/0003_drop_c.py", &migration(&["0002_drop_a"], "migrations.RemoveField(\"item\", \"c\"),"));
    p.write("shop/migrations/0004_merge.py", &migration(&["0003_drop_b", "0003_drop_c"], ""));
    let (found, err) = run_rule(&p, &[]);
    assert_eq!(found, vec![t(RULE, "shop/migrations/0003_drop_b.py", 8), t(RULE, "shop/migrations/0003_drop_c.py", 8)]);
    assert!(err.contains("; 2 older migrations were not judged"), "{err}");
}

/// With a diff base, the migrations changed since it are judged, however many.
#[test]
fn with_a_diff_base_every_changed_migration_is_judged() {
    let p = shop();
    p.git(&["init", "-q"]);
    p.git(&["add", "manage.py", "shop/__init__.py", "shop/migrations/__init__.py", "shop/migrations/0001_initial.py"]);
    p.git(&["commit", "-q", "-m", "v1"]);
    p.git(&["tag", "v1"]);
    let (found, err) = run_rule(&p, &["--diff-base", "v1"]);
    assert_eq!(found, vec![t(RULE, "shop/migrations/0002_drop_a.py", 8), t(RULE, "shop/migrations/0003_drop_b.py", 8)]);
    assert!(!err.contains("not judged"), "{err}");
}

fn json_findings(o: &std::process::Output) -> Vec<(String, u64, String)> {
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json output");
    v.as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

const SETTINGS_WITH_SESSIONS: &str = "INSTALLED_APPS = ['api']\nROOT_URLCONF = 'api.urls'\nMIDDLEWARE = [\n    \
     'django.contrib.sessions.middleware.SessionMiddleware',\n    'django.middleware.csrf.CsrfViewMiddleware',\n]\n";
const SETTINGS_WITHOUT_SESSIONS: &str = "INSTALLED_APPS = ['api']\nROOT_URLCONF = 'api.urls'\nMIDDLEWARE = [\n    \
     'django.middleware.security.SecurityMiddleware',\n    'django.middleware.csrf.CsrfViewMiddleware',\n]\n";

/// csrf-disabled: an exempt GraphQL view imported into urls.py is reported only when the
/// project authenticates browsers with a session cookie at all.
#[test]
fn csrf_exempt_graphql_view_matters_only_with_sessions() {
    let urls = "from django.urls import path\nfrom django.views.decorators.csrf import csrf_exempt\n\n\
                from .graphql import GraphQLView\n\nurlpatterns = [path(\"graphql/\", csrf_exempt(GraphQLView.as_view()))]\n";
    let p = Project::new(&[("manage.py", ""), ("api/settings.py", SETTINGS_WITHOUT_SESSIONS), ("api/urls.py", urls)]);
    let o = p.run(&["check", "--format", "json", "--select", "csrf-disabled"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    p.write("api/settings.py", SETTINGS_WITH_SESSIONS);
    let o = p.run(&["check", "--format", "json", "--select", "csrf-disabled"]);
    assert_eq!(
        json_findings(&o),
        vec![(
            "api/urls.py".to_string(),
            6,
            "csrf_exempt switches off CSRF protection for `GraphQLView`, so any site can make a logged-in user's \
             browser call it: remove it and send the token from the client (the X-CSRFToken header)"
                .to_string()
        )]
    );
}

/// csrf-disabled: a webhook that verifies nothing is reported for that, not for a browser's
/// cookie; one that checks a signature is not reported.
#[test]
fn csrf_exempt_webhook_is_about_the_signature() {
    let views = "from django.http import HttpResponse\nfrom django.views.decorators.csrf import csrf_exempt\n\n\n\
                 @csrf_exempt\ndef stripe_webhook(request):\n    Event.objects.create(body=request.body)\n    \
                 return HttpResponse()\n\n\n@csrf_exempt\ndef github_webhook(request):\n    \
                 if not check_signature(request.headers['X-Hub-Signature-256'], request.body):\n        \
                 return HttpResponse(status=403)\n    return HttpResponse()\n";
    let p = Project::new(&[("manage.py", ""), ("api/settings.py", SETTINGS_WITH_SESSIONS), ("api/views.py", views)]);
    let o = p.run(&["check", "--format", "json", "--select", "csrf-disabled"]);
    assert_eq!(
        json_findings(&o),
        vec![(
            "api/views.py".to_string(),
            5,
            "`stripe_webhook` is exempt from CSRF and verifies nothing about the sender: anyone can call it; verify \
             the sender's signature (e.g. the Stripe-Signature or X-Hub-Signature-256 header) before acting on the \
             request"
                .to_string()
        )]
    );
}

/// django-migration-irreversible has the same scope: a rollback concerns the migrations a next
/// deploy applies, not those earlier releases ran.
#[test]
fn irreversible_migrations_are_judged_in_the_same_scope() {
    let p = shop();
    let run_python = "migrations.RunPython(fill),";
    let body = |deps: &[&str]| {
        migration(deps, run_python)
            .replace("class Migration", "def fill(apps, schema_editor):\n    pass\n\n\nclass Migration")
    };
    p.write("shop/migrations/0002_drop_a.py", &body(&["0001_initial"]));
    p.write("shop/migrations/0003_drop_b.py", &body(&["0002_drop_a"]));
    let run = |extra: &[&str]| {
        let mut args = vec!["check", "--format", "json", "--select", "django-migration-irreversible"];
        args.extend_from_slice(extra);
        triples(&p.run(&args))
    };
    let irr = "django-migration-irreversible";
    assert_eq!(run(&[]), vec![t(irr, "shop/migrations/0003_drop_b.py", 12)]);
    assert_eq!(
        run(&["--all-migrations"]),
        vec![t(irr, "shop/migrations/0002_drop_a.py", 12), t(irr, "shop/migrations/0003_drop_b.py", 12)]
    );
}

/// django-n-plus-one: a relation compared whole (`book.author == user`) is answered by its key
/// column: the message offers `book.author_id` as well as `select_related`; a relation whose
/// fields are read gets only `select_related`.
#[test]
fn a_relation_compared_whole_is_offered_its_key() {
    let p = Project::new(&[
        (
            "library/models.py",
            "from django.db import models\n\n\nclass Author(models.Model):\n    name = models.CharField(max_length=9)\n\n\n\
             class Book(models.Model):\n    author = models.ForeignKey(Author, on_delete=models.CASCADE)\n",
        ),
        (
            "library/views.py",
            "from .models import Book\n\n\ndef mine(user):\n    out = []\n    for book in Book.objects.all():\n        \
             if book.author == user:\n            out.append(book)\n    return out\n\n\ndef names():\n    \
             for book in Book.objects.all():\n        print(book.author.name)\n",
        ),
    ]);
    let o = p.run(&["check", ".", "--select", "django-n-plus-one", "--format", "json"]);
    let found = json_findings(&o);
    assert_eq!(
        found.iter().map(|(p, l, _)| (p.as_str(), *l)).collect::<Vec<_>>(),
        [("library/views.py", 7), ("library/views.py", 14)]
    );
    assert!(found[0].2.contains("or compare the key (`book.author_id` with the other side's `.pk`)"), "{}", found[0].2);
    assert!(found[0].2.contains("add `.select_related(\"author\")`"), "{}", found[0].2);
    assert!(!found[1].2.contains("author_id"), "{}", found[1].2);
}
