//! preflight's deploy checks against Django's own: `check --deploy --tag security` run by a real
//! Django (installed from PyPI by `.ci/run`) on each production settings module of
//! fixtures/django-deploy-check, compared check id by check id with what preflight reports
//! for the same module from the source alone.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use common::run_in;

/// The production settings modules of the fixture tree, and the environment each is checked
/// under (the same for both tools: variables left unset take the defaults in the source).
const ROOTS: &[&str] = &[
    "config.settings.production",
    "config.settings.staging",
    "gateway.settings",
    "intranet.settings",
    "legacy.settings",
    "portal.settings",
    "twins.settings.api",
    "twins.settings.web",
];

/// Where preflight reports less than Django, by design (README, "Django's deploy checks"):
/// `intranet.settings` ends with `try: from .local import *` and the repository holds no
/// local.py, so what the module leaves unset may be set at deploy time; Django, run without
/// that file, sees the defaults.
const LEFT_TO_THE_DEPLOYMENT: &[(&str, &[&str])] =
    &[("intranet.settings", &["security.W004", "security.W008", "security.W016", "security.W020"])];

const SECRET: &str = "k9#Qz!vR2m@Lp7$Wn4^Xc8&Tb1*Hd6(Jf3)Gs5-Ya0+Ue%Io_Ek";

fn fixture() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/django-deploy-check")
}

/// Python with Django importable, or `None` (the test is skipped outside CI).
fn python_with_django() -> Option<&'static str> {
    let ok = Command::new("python3").args(["-c", "import django"]).output().is_ok_and(|o| o.status.success());
    ok.then_some("python3")
}

/// The ids Django's deployment checks report for `module`.
fn django_ids(python: &str, module: &str) -> BTreeSet<String> {
    let script = "import django, json\n\
                  django.setup()\n\
                  from django.core.checks import Tags, run_checks\n\
                  found = run_checks(tags=[Tags.security], include_deployment_checks=True)\n\
                  print(json.dumps(sorted({m.id for m in found})))\n";
    let o = Command::new(python)
        .args(["-c", script])
        .current_dir(fixture())
        .env("DJANGO_SETTINGS_MODULE", module)
        .env("DJANGO_SECRET_KEY", SECRET)
        .env("REFERRER_POLICY", "same-origin")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env_remove("HSTS_PRELOAD")
        .env_remove("SSL_REDIRECT")
        .env_remove("HSTS_SECONDS")
        .env_remove("CSRF_COOKIE_SECURE")
        .output()
        .expect("python3");
    assert!(o.status.success(), "Django on {module}: {}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice::<Vec<String>>(&o.stdout).unwrap().into_iter().collect()
}

/// The Django check ids preflight reports, per production settings module. Findings of
/// django-deploy-check carry the id at the start of the message and name the modules they are
/// in effect for when they sit in an inherited base module; the other settings rules stand for
/// the checks they cover (W003, W018, W009).
fn preflight_ids() -> BTreeMap<String, BTreeSet<String>> {
    let o = run_in(&fixture(), &["check", ".", "--format", "json", "--quiet"]);
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
    let findings: Vec<serde_json::Value> = serde_json::from_slice(&o.stdout).unwrap();
    let module = |path: &str| path.trim_end_matches(".py").replace('/', ".");
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in &findings {
        let msg = f["message"].as_str().unwrap();
        let id = match f["rule"].as_str().unwrap() {
            "django-deploy-check" => msg.split(':').next().unwrap().to_string(),
            "csrf-disabled" if msg.starts_with("MIDDLEWARE") => "security.W003".into(),
            "django-debug-enabled" => "security.W018".into(),
            "django-secret-key-hardcoded" => "security.W009".into(),
            _ => continue,
        };
        let roots: Vec<String> = match msg.split_once("(in effect for ") {
            Some((_, list)) => list.split('`').skip(1).step_by(2).map(module).collect(),
            None => vec![module(f["path"].as_str().unwrap())],
        };
        for r in roots {
            out.entry(r).or_default().insert(id.clone());
        }
    }
    out
}

#[test]
fn deploy_checks_match_manage_py_check_deploy() {
    let Some(python) = python_with_django() else {
        if std::env::var_os("CI").is_some() {
            panic!("Django is not importable by python3; .ci/run installs it");
        }
        eprintln!("SKIPPED: Django is not installed (pip install django)");
        return;
    };
    let ours = preflight_ids();
    let mut report = Vec::new();
    for root in ROOTS {
        let mut theirs = django_ids(python, root);
        let mine = ours.get(*root).cloned().unwrap_or_default();
        assert!(!theirs.is_empty(), "{root}: the fixture is meant to fail some of Django's checks");
        for (r, ids) in LEFT_TO_THE_DEPLOYMENT {
            if r == root {
                for id in *ids {
                    assert!(theirs.remove(*id), "{root}: Django no longer reports {id}; update the table");
                }
            }
        }
        if mine != theirs {
            report.push(format!(
                "{root}: preflight {:?}, Django {:?}",
                mine.iter().collect::<Vec<_>>(),
                theirs.iter().collect::<Vec<_>>()
            ));
        }
    }
    // Modules preflight reports on are exactly the production roots (dev, test and the module
    // with a computed MIDDLEWARE stay silent).
    let reported: BTreeSet<&str> = ours.keys().map(String::as_str).collect();
    assert_eq!(reported, ROOTS.iter().copied().collect::<BTreeSet<&str>>());
    assert!(report.is_empty(), "\n{}\n", report.join("\n"));
}
