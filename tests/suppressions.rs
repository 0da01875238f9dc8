//! Other tools' suppression markers (ESLint, Ruff/flake8 `noqa`, Bandit `nosec`, detect-secrets,
//! gitleaks) honoured for the one preflight rule each maps to, and
//! `unused-suppression`.

mod common;
use common::*;

fn findings(p: &Project) -> Vec<(String, String, u64)> {
    triples(&p.run(&["check", "--format", "json", "--exit-zero"]))
}

#[test]
fn eslint_markers_suppress_console_log_and_debugger_only() {
    let p = Project::new(&[
        ("frontend/package.json", r#"{"name": "web", "dependencies": {"react": "18.0.0"}}"#),
        (
            "frontend/src/app.js",
            r#"export function f(x) {
  // eslint-disable-next-line no-console
  console.log(x);
  console.log(x); // eslint-disable-line no-console
  console.log(x); // eslint-disable-line no-debugger
  // eslint-disable-next-line no-debugger -- stepping through
  debugger;
  const s = "// eslint-disable-next-line no-console";
  console.log(s);
  // eslint-disable-next-line
  console.log(x);
}
/* eslint-disable no-console */
console.log(1);
console.log(2);
/* eslint-enable */
console.log(3);
"#,
        ),
    ]);
    // Line 5 names another rule, line 9's marker is in a string, line 11's names no rule (a
    // blanket peer marker is not honoured), line 17 is after `eslint-enable`.
    let f = "frontend/src/app.js";
    assert_eq!(
        findings(&p),
        vec![t("console-log", f, 5), t("console-log", f, 9), t("console-log", f, 11), t("console-log", f, 17)]
    );
}

#[test]
fn noqa_and_nosec_codes_suppress_their_rule_only() {
    let p = Project::new(&[(
        "shop/views.py",
        r#"from django.db import connection
from django.utils.safestring import mark_safe


def report(request, field, table):
    breakpoint()  # noqa: T100
    breakpoint()  # noqa: T201
    breakpoint()  # noqa
    with connection.cursor() as cursor:
        cursor.execute("SELECT MAX(%s) FROM shop_order" % field)  # noqa: S608
        cursor.execute("SELECT MAX(%s) FROM shop_order" % field)  # nosec B608
        cursor.execute("SELECT COUNT(*) FROM " + table)  # nosec
        cursor.execute("SELECT COUNT(*) FROM " + table)  # nosec B105
    a = mark_safe(request.GET["q"])  # noqa: S308
    b = mark_safe(request.GET["q"])  # nosec: B703
    c = mark_safe(request.GET["q"])  # noqa: S608
    return a, b, c
"#,
    )]);
    // A trailing marker covers its own line only (line 6's T100 does not reach line 7); T201
    // (print) maps to no rule; bare `# noqa` / `# nosec` suppress nothing; B105 and S608 name
    // other rules than the one on their line.
    let f = "shop/views.py";
    assert_eq!(
        findings(&p),
        vec![
            t("debugger-statement", f, 7),
            t("debugger-statement", f, 8),
            t("sql-injection", f, 12),
            t("sql-injection", f, 13),
            t("xss-unsafe-html", f, 16),
        ]
    );
}

#[test]
fn secret_allow_markers_suppress_secret_hardcoded() {
    let p = Project::new(&[
        ("deploy/s1.sh", "export API_TOKEN=\"tok-83jd-29dk-2ksl\"  # pragma: allowlist secret\n"),
        ("deploy/s2.sh", "export API_TOKEN=\"tok-83jd-29dk-2ksm\"  # gitleaks:allow\n"),
        ("deploy/s3.py", "API_TOKEN = \"tok-83jd-29dk-2ksn\"  # nosec B105\n"),
        ("deploy/s4.py", "API_TOKEN = \"tok-83jd-29dk-2kso\"  # noqa: S105\n"),
        ("deploy/s5.py", "API_TOKEN = \"tok-83jd-29dk-2ksp\"  # noqa: S608\n"),
        ("deploy/s6.sh", "echo \"# gitleaks:allow\"; export API_TOKEN=\"tok-83jd-29dk-2ksq\"\n"),
        ("deploy/s7.sh", "# pragma: allowlist nextline secret\nexport API_TOKEN=\"tok-83jd-29dk-2ksr\"\n"),
    ]);
    // s5 names another rule; s6's marker is inside a string.
    assert_eq!(findings(&p), vec![t("secret-hardcoded", "deploy/s5.py", 1), t("secret-hardcoded", "deploy/s6.sh", 1)]);
}

const VIEWS: &str = r##"def total(prices):
    # TODO: paginate  # preflight: ignore[todo-fixme] tracked in SHOP-12
    n = sum(prices)  # preflight: ignore[todo-fixme] the task was done
    m = 2  # preflight: ignore[sql-injection, debugger-statement]
    k = 3  # noqa: S608
    s = "# preflight: ignore[todo-fixme]"
    return n + m + k  # preflight: ignore[django-debug-enabled]
"##;

#[test]
fn unused_suppressions_are_reported_for_rules_that_ran() {
    let p = Project::new(&[("shop/views.py", VIEWS)]);
    let o = p.run(&["check", "--format", "json"]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let got: Vec<(String, u64, String)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (f["rule"].as_str().unwrap().into(), f["line"].as_u64().unwrap(), f["message"].as_str().unwrap().into())
        })
        .collect();
    // Line 2's marker is used by its TODO; line 3's is not (line 3 has no TODO: a marker covers
    // its line and the next, not the one above). A string, a peer marker and a project rule's
    // marker are not judged.
    assert_eq!(
        got,
        vec![
            (
                "unused-suppression".into(),
                3,
                "`todo-fixme` found nothing on this line or the next, so this suppression is unused: remove it".into()
            ),
            (
                "unused-suppression".into(),
                4,
                "`sql-injection`, `debugger-statement` found nothing on this line or the next, so these \
                 suppressions are unused: remove them"
                    .into()
            ),
        ]
    );
}

#[test]
fn unused_suppressions_only_for_selected_rules_on_their_files() {
    let p = Project::new(&[("shop/views.py", VIEWS)]);
    // Only todo-fixme ran: the sql-injection and debugger-statement ids are not judged.
    let o = p.run(&["check", "--format", "json", "--select", "todo-fixme,unused-suppression"]);
    assert_eq!(triples(&o), vec![t("unused-suppression", "shop/views.py", 3)]);
    // Not selected: nothing.
    let o = p.run(&["check", "--format", "json", "--select", "todo-fixme"]);
    assert_eq!(triples(&o), vec![]);
    // A per-path ignore of the named rule means the rule did not run there.
    p.write("preflight.toml", "[per-path-ignores]\n\"shop/**\" = [\"todo-fixme\", \"sql-injection\"]\n");
    assert_eq!(findings(&p), vec![t("unused-suppression", "shop/views.py", 4)]);
    // A test file: todo-fixme looks at production code only, so its marker is not judged there.
    std::fs::remove_file(p.path().join("preflight.toml")).unwrap();
    p.write("shop/tests/test_views.py", "x = 1  # preflight: ignore[todo-fixme]\n");
    assert!(!findings(&p).iter().any(|f| f.1 == "shop/tests/test_views.py"), "{:?}", findings(&p));
}

/// A marker shown in documentation (a README's example) is not judged as unused.
#[test]
fn markers_in_documentation_are_examples_not_unused() {
    let p = Project::new(&[
        ("README.md", "```python\nTOKEN = \"x\"  # preflight: ignore[secret-hardcoded] sandbox token\n```\n"),
        ("app/views.py", "x = 1  # preflight: ignore[debugger-statement] stale\n"),
    ]);
    let o = p.run(&["check", "--format", "json", "--select", "unused-suppression,secret-hardcoded,debugger-statement"]);
    assert_eq!(triples(&o), vec![t("unused-suppression", "app/views.py", 1)]);
}

/// `check --add-suppressions`: a marker on every flagged line in each language's comment
/// syntax, ids merged into a marker already there, every other byte kept (CRLF, trailing
/// blanks, the BOM), a line inside a triple-quoted string left and counted; a second run adds
/// nothing, and a later check reports only the finding left (no unused suppression).
#[test]
fn add_suppressions_writes_markers_preflight_honours() {
    let views = "import os\n\n\ndef f(x):\n    breakpoint()\n    # TODO: remove  # preflight: ignore[sql-injection]\n    \
                 return x\n\n\nHELP = \"\"\"\npassword = \"Xk9-very-s3cret-value\"\n\"\"\"\nAPI_PASSWORD = \"Xk9-very-s3cret-value2\"\n";
    let crlf = "\u{feff}def g():\r\n    breakpoint()  \r\n    return 1\r\n";
    let jsx = "export const A = () => (\n  <div>\n    {console.log(1)}\n  </div>\n);\nconsole.log(2);\n";
    let p = Project::new(&[
        ("shop/views.py", views),
        ("shop/crlf.py", crlf),
        ("web/package.json", r#"{"name": "web", "dependencies": {"react": "18.0.0"}}"#),
        ("web/src/a.jsx", jsx),
        (".env", "DB_PASSWORD=Zq8-very-s3cret\n"),
    ]);
    let before = findings(&p);
    assert_eq!(before.len(), 10, "{before:?}");
    let o = p.run(&["check", "--add-suppressions"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stderr(&o),
        "shop/views.py:6: unused-suppression: not suppressed: a finding about a marker: fix the marker by hand\n\
         shop/views.py:11: secret-hardcoded: not suppressed: inside a multi-line string: a comment there would be \
         part of the string\n\
         preflight: added suppressions for 8 findings (7 lines in 4 files); 2 findings could not be suppressed in place\n"
    );
    let read = |f: &str| String::from_utf8(std::fs::read(p.path().join(f)).unwrap()).unwrap();
    assert_eq!(
        read("shop/views.py"),
        "import os\n\n\ndef f(x):\n    breakpoint()  # preflight: ignore[debugger-statement]\n    \
         # TODO: remove  # preflight: ignore[sql-injection, todo-fixme]\n    return x\n\n\nHELP = \"\"\"\n\
         password = \"Xk9-very-s3cret-value\"\n\"\"\"\n\
         API_PASSWORD = \"Xk9-very-s3cret-value2\"  # preflight: ignore[secret-hardcoded]\n"
    );
    assert_eq!(
        read("shop/crlf.py"),
        "\u{feff}def g():\r\n    breakpoint()  # preflight: ignore[debugger-statement]\r\n    return 1\r\n"
    );
    assert_eq!(
        read("web/src/a.jsx"),
        "export const A = () => (\n  <div>\n    {console.log(1)}{/* preflight: ignore[console-log] */}\n  </div>\n);\n\
         console.log(2);  // preflight: ignore[console-log]\n"
    );
    assert_eq!(
        read(".env"),
        "# preflight: ignore[env-file-committed, secret-hardcoded]\nDB_PASSWORD=Zq8-very-s3cret\n"
    );
    assert_eq!(read("web/package.json"), r#"{"name": "web", "dependencies": {"react": "18.0.0"}}"#);
    // Only the finding in the string is left; the merged marker now suppresses todo-fixme, and
    // its stale `sql-injection` id is still reported, as before.
    assert_eq!(
        findings(&p),
        vec![t("unused-suppression", "shop/views.py", 6), t("secret-hardcoded", "shop/views.py", 11)]
    );
    // Idempotent: nothing more is added, no byte changes.
    let files = ["shop/views.py", "shop/crlf.py", "web/src/a.jsx", ".env"].map(read);
    let o = p.run(&["check", "--add-suppressions"]);
    assert!(
        stderr(&o).ends_with("preflight: added suppressions for 0 findings (0 lines in 0 files); 2 findings could not be suppressed in place\n"),
        "{}",
        stderr(&o)
    );
    assert_eq!(["shop/views.py", "shop/crlf.py", "web/src/a.jsx", ".env"].map(read), files);
}

/// A file preflight cannot parse is not edited, and a run with `--diff-base` or `--select`
/// adds markers only for the findings that run reports.
#[test]
fn add_suppressions_never_edits_a_file_that_does_not_parse() {
    let broken = "def f(:\n    breakpoint()\n";
    let p = Project::new(&[("app/broken.py", broken), ("app/ok.py", "breakpoint()\n# TODO: x\n")]);
    let o = p.run(&["check", "--add-suppressions", "--select", "debugger-statement"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("app/broken.py:2: debugger-statement: not suppressed: preflight cannot parse this file")
    );
    assert_eq!(std::fs::read_to_string(p.path().join("app/broken.py")).unwrap(), broken);
    assert_eq!(
        std::fs::read_to_string(p.path().join("app/ok.py")).unwrap(),
        "breakpoint()  # preflight: ignore[debugger-statement]\n# TODO: x\n"
    );
}

/// A production settings module that leaves HSTS, the HTTPS redirect and the secure cookies to
/// Django's defaults, under a licence header.
const PROD_SETTINGS: &str = r#"# Copyright (c) 2026 Example Ltd.
# Licensed under the Apache License, Version 2.0.
"""Production settings."""
import os

SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
DEBUG = False
ALLOWED_HOSTS = ["shop.example.com"]
ROOT_URLCONF = "shop.urls"
INSTALLED_APPS = ["django.contrib.auth", "django.contrib.contenttypes"]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
LANGUAGE_CODE = "en-us"
"#;

/// (line, check id, fingerprint) of each deploy-check finding.
fn deploy_checks(p: &Project) -> Vec<(u64, String, String)> {
    let o = p.run(&["check", "--format", "json", "--exit-zero", "--select", "django-deploy-check"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json output");
    v.as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let msg = f["message"].as_str().unwrap();
            (
                f["line"].as_u64().unwrap(),
                msg.split(':').next().unwrap().to_string(),
                f["fingerprint"].as_str().unwrap().into(),
            )
        })
        .collect()
}

#[test]
fn deploy_checks_of_unset_settings_sit_beside_a_related_setting_not_on_line_1() {
    let p = Project::new(&[("shop/settings.py", PROD_SETTINGS), ("manage.py", "import os\n")]);
    let found = deploy_checks(&p);
    let at: Vec<(u64, &str)> = found.iter().map(|(l, id, _)| (*l, id.as_str())).collect();
    // HSTS and the HTTPS redirect beside SECURE_PROXY_SSL_HEADER (line 16); CSRF_COOKIE_SECURE,
    // with no related setting in the module, at its last setting (line 17).
    assert_eq!(at, vec![(16, "security.W004"), (16, "security.W008"), (17, "security.W016")]);
    // An unrelated edit above (a longer header) moves the lines, not the fingerprints.
    p.write("shop/settings.py", &format!("# Third line of the header.\n\n{PROD_SETTINGS}"));
    let moved = deploy_checks(&p);
    assert_eq!(moved.iter().map(|(l, _, _)| *l).collect::<Vec<_>>(), vec![18, 18, 19]);
    assert_eq!(
        moved.iter().map(|(_, id, fp)| (id.clone(), fp.clone())).collect::<Vec<_>>(),
        found.iter().map(|(_, id, fp)| (id.clone(), fp.clone())).collect::<Vec<_>>()
    );
}

#[test]
fn a_deploy_check_is_suppressed_per_check_id() {
    let text = PROD_SETTINGS.replace(
        "SECURE_PROXY_SSL_HEADER = (\"HTTP_X_FORWARDED_PROTO\", \"https\")",
        "SECURE_PROXY_SSL_HEADER = (\"HTTP_X_FORWARDED_PROTO\", \"https\")  # preflight: ignore[django-deploy-check:security.W008] the proxy redirects",
    );
    let p = Project::new(&[("shop/settings.py", &text), ("manage.py", "import os\n")]);
    let ids = |p: &Project| deploy_checks(p).into_iter().map(|(l, id, _)| (l, id)).collect::<Vec<_>>();
    // W008 is suppressed; W004 on the same line is still reported.
    assert_eq!(ids(&p), vec![(16, "security.W004".to_string()), (17, "security.W016".to_string())]);
    // The rule's bare id still suppresses every check of its line and the next.
    p.write("shop/settings.py", &text.replace("django-deploy-check:security.W008", "django-deploy-check"));
    assert_eq!(ids(&p), vec![]);
    // A check id the rule does not have is reported and suppresses nothing.
    p.write("shop/settings.py", &text.replace("security.W008", "security.W999"));
    let o = p.run(&["check", "--format", "json", "--exit-zero", "--select", "django-deploy-check,blanket-suppression"]);
    let f = "shop/settings.py";
    assert_eq!(
        triples(&o),
        vec![
            t("django-deploy-check", f, 16),
            t("django-deploy-check", f, 16),
            t("blanket-suppression", f, 16),
            t("django-deploy-check", f, 17)
        ]
    );
}

#[test]
fn add_suppressions_writes_deploy_checks_per_check_id() {
    let p = Project::new(&[("shop/settings.py", PROD_SETTINGS), ("manage.py", "import os\n")]);
    let o = p.run(&["check", "--add-suppressions", "--select", "django-deploy-check"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = std::fs::read_to_string(p.path().join("shop/settings.py")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[15],
        "SECURE_PROXY_SSL_HEADER = (\"HTTP_X_FORWARDED_PROTO\", \"https\")  \
         # preflight: ignore[django-deploy-check:security.W004, django-deploy-check:security.W008]"
    );
    assert_eq!(lines[16], "LANGUAGE_CODE = \"en-us\"  # preflight: ignore[django-deploy-check:security.W016]");
    assert_eq!(lines[0], "# Copyright (c) 2026 Example Ltd.");
    // A rerun finds nothing and reports no unknown marker.
    let o =
        p.run(&["check", "--format", "json", "--select", "django-deploy-check,unused-suppression,blanket-suppression"]);
    assert_eq!((triples(&o), o.status.code()), (vec![], Some(0)));
}
