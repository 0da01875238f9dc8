//! Findings that used to be dropped without a word: code the parser read differently from
//! Python, tracked files that `.gitignore` lists, and secrets in files taken for vendored code.

mod common;

use common::*;

#[test]
fn a_lone_cr_ends_a_line_as_it_does_for_python() {
    // CPython runs `DEBUG = True` after `# production\r`; the parser used to read it as part
    // of the comment.
    let settings = "INSTALLED_APPS = []\nROOT_URLCONF = 'x'\n# production\rDEBUG = True\n";
    let p = Project::new(&[("proj/settings.py", settings)]);
    let o = p.run(&["check", "--format", "json", "--select", "django-debug-enabled"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(triples(&o), vec![t("django-debug-enabled", "proj/settings.py", 4)]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!((v[0]["column"].as_u64(), v[0]["end_column"].as_u64()), (Some(1), Some(13)));
}

#[test]
fn tracked_files_are_read_whatever_gitignore_says() {
    // `.gitignore` applies to untracked files only: a tracked file listed there is deployed.
    let p = Project::new(&[
        (".gitignore", "secrets.py\nscratch.py\nnode_modules/\n.env\n"),
        ("app/secrets.py", "API_TOKEN = \"tk-8842-Qz-live-77aa\"\n"),
        ("app/views.py", "def index(request):\n    return None\n"),
        // Committed dependencies: vendored code (no console-log), but a secret is a secret and a
        // committed .env is committed.
        ("node_modules/sdk/index.js", "const apiKey = \"fk_51d0c7b6a5e4f3a2\";\nconsole.log(apiKey);\n"),
        ("node_modules/sdk/.env", "DJANGO_DEBUG=1\nDB_PASSWORD=Prod-Db-Pw-7731\n"),
    ]);
    p.git(&["init", "-q"]);
    p.git(&[
        "add",
        "-f",
        ".gitignore",
        "app/secrets.py",
        "app/views.py",
        "node_modules/sdk/index.js",
        "node_modules/sdk/.env",
    ]);
    // Ignored and untracked: not looked at.
    p.write("app/scratch.py", "# TODO: never committed\n");
    p.write("node_modules/other/index.js", "const apiKey = \"fk_0123456789abcdef\";\n");
    p.write(".env", "DJANGO_DEBUG=1\n");
    let o = p.run(&["check", "--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(
        triples(&o),
        vec![
            t("secret-hardcoded", "app/secrets.py", 1),
            // A committed node_modules is itself an artifact.
            t("artifact-committed", "node_modules", 1),
            t("env-file-committed", "node_modules/sdk/.env", 1),
            t("secret-hardcoded", "node_modules/sdk/.env", 2),
            t("secret-hardcoded", "node_modules/sdk/index.js", 1),
        ]
    );
    assert!(stderr(&o).contains("5 findings in 5 files"), "{}", stderr(&o));
    // An `exclude` glob in the config still leaves tracked files out.
    p.write("preflight.toml", "exclude = [\"node_modules/\"]\n");
    let o = p.run(&["check", "--format", "json"]);
    assert_eq!(triples(&o), vec![t("secret-hardcoded", "app/secrets.py", 1)]);
}
