//! Secrets on any line a report shows are masked, whatever rule flagged the line, in every
//! output format (text, JSON, SARIF, Markdown, GitHub annotations) and in baselines; the
//! fingerprints of secret findings hold nothing derived from the secret; the SARIF repository
//! URI holds no credential. Tokens are synthetic, generated from the format catalogue's sample
//! templates at test time.

mod common;

use common::*;
use preflight::secrets::{sample, FORMATS};

fn token(id: &str, seed: u64) -> String {
    sample(FORMATS.iter().find(|f| f.id == id).unwrap(), seed)
}

/// Every report the binary writes for the project: each format's stdout and stderr, and the
/// baseline file.
fn every_output(p: &Project) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for format in ["text", "json", "sarif", "markdown", "github", "gitlab", "junit", "html", "checklist"] {
        let o = p.run(&["check", "--format", format, "--color", "never"]);
        assert_eq!(o.status.code(), Some(1), "{format}: {}", stderr(&o));
        out.push((format.to_string(), format!("{}{}", stdout(&o), stderr(&o))));
    }
    let o = p.run(&["check", "--write-baseline", "baseline.json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    out.push(("baseline".to_string(), std::fs::read_to_string(p.path().join("baseline.json")).unwrap()));
    out
}

/// The first piece of `secret` (6 characters or more) that `output` shows, if any. A token's
/// public prefix is at most 4 characters, so any 6 consecutive characters of a secret in the
/// output are a leak.
fn leaked(output: &str, secret: &str) -> Option<String> {
    let chars: Vec<char> = secret.chars().collect();
    chars.windows(6.min(chars.len())).map(|w| w.iter().collect::<String>()).find(|w| output.contains(w.as_str()))
}

fn assert_no_leak(p: &Project, secrets: &[String]) -> Vec<(String, String)> {
    let outputs = every_output(p);
    for (format, text) in &outputs {
        for s in secrets {
            if let Some(piece) = leaked(text, s) {
                let line = text.lines().find(|l| l.contains(&piece)).unwrap_or("");
                panic!("{format} shows `{piece}` of a secret:\n{line}");
            }
        }
    }
    outputs
}

fn text_of(outputs: &[(String, String)], format: &str) -> String {
    outputs.iter().find(|(f, _)| f == format).unwrap().1.clone()
}

fn stars(n: usize) -> String {
    "*".repeat(n)
}

/// Runs every format on `files`, requires that none shows a piece of `secrets`, that the
/// findings are `expected`, and that the text output holds each of `shown` (frames, messages).
fn check(files: &[(&str, &str)], secrets: &[&str], expected: &[(&str, &str, u64)], shown: &[String]) {
    let p = Project::new(files);
    let secrets: Vec<String> = secrets.iter().map(|s| s.to_string()).collect();
    let outputs = assert_no_leak(&p, &secrets);
    // Masking changes what is shown, not what is found.
    let o = p.run(&["check", "--format", "json"]);
    assert_eq!(triples(&o), expected.iter().map(|&(r, f, l)| t(r, f, l)).collect::<Vec<_>>());
    let text = text_of(&outputs, "text");
    for s in shown {
        assert!(text.contains(s.as_str()), "no `{s}` in:\n{text}");
    }
}

#[test]
fn a_token_console_log_quotes_is_masked_in_its_message_and_frame() {
    let ghp = token("github-pat", 11);
    let slack = token("slack-token", 13);
    let js = format!("export function f() {{\n  console.log(\"{ghp}\");\n  console.debug('auth', \"{slack}\");\n}}\n");
    check(
        &[("web/src/app.js", &js)],
        // Checked without their public prefixes.
        &[&ghp[4..], &slack[5..]],
        &[
            ("console-log", "web/src/app.js", 2),
            ("secret-hardcoded", "web/src/app.js", 2),
            ("console-log", "web/src/app.js", 3),
            ("secret-hardcoded", "web/src/app.js", 3),
        ],
        &[
            format!("`console.log(\"ghp_{}\")` left in production code", stars(36)),
            format!("2 |   console.log(\"ghp_{}\");\n  |   ^^^^^", stars(36)),
            format!("3 |   console.debug('auth', \"xoxb{}\");", stars(slack.len() - 4)),
        ],
    );
}

#[test]
fn a_key_on_a_line_with_a_todo_is_masked() {
    let stripe = token("stripe-secret-live", 12);
    let password = "Hnt3r-2024x";
    check(
        &[
            ("shop/billing.py", &format!("API_KEY = \"{stripe}\"  # TODO rotate\n")),
            ("web/src/login.js", &format!("// TODO password={password} until the vault is up\nexport {{}};\n")),
        ],
        &[&stripe[8..], password],
        &[
            ("secret-hardcoded", "shop/billing.py", 1),
            ("todo-fixme", "shop/billing.py", 1),
            ("todo-fixme", "web/src/login.js", 1),
        ],
        &[
            format!("1 | API_KEY = \"sk_l{}\"  # TODO rotate", stars(36)),
            // The TODO's message quotes the comment: masked before it is cut to length.
            format!("`TODO password={} until the vault is up`", stars(11)),
            format!("1 | // TODO password={} until the vault is up", stars(11)),
        ],
    );
}

#[test]
fn a_secret_key_on_the_debug_line_is_masked() {
    let key = format!("k3y-{}", &token("github-pat", 14)[4..]);
    let prod = format!("INSTALLED_APPS = ['shop']\nROOT_URLCONF = 'shop.urls'\nDEBUG = True; SECRET_KEY = \"{key}\"\n");
    check(
        &[("manage.py", ""), ("shop/settings/__init__.py", ""), ("shop/settings/prod.py", &prod)],
        &[&key],
        &[
            ("django-cache-not-configured", "shop/settings/prod.py", 1),
            ("django-logging-not-configured", "shop/settings/prod.py", 1),
            ("error-tracking-missing", "shop/settings/prod.py", 1),
            ("metrics-missing", "shop/settings/prod.py", 1),
            ("django-debug-enabled", "shop/settings/prod.py", 3),
            ("django-secret-key-hardcoded", "shop/settings/prod.py", 3),
        ],
        // The caret stays under its span: masking keeps every column.
        &[format!("3 | DEBUG = True; SECRET_KEY = \"k3y-{}\"\n  | ^^^^^^^^^^^^\n", stars(36))],
    );
}

#[test]
fn a_broker_url_password_next_to_a_fixme_is_masked() {
    let (plain, with_at) = ("pa55word-R4bbit", "p@55w0rd-x");
    let tasks = format!(
        "BROKER_URL = \"amqp://user:{plain}@rabbit.internal:5672//\"  # FIXME\nRESULT_URL = \"redis://cache:{with_at}@cache.internal:6379/0\"  # FIXME\n"
    );
    check(
        &[("shop/tasks.py", &tasks)],
        &[plain, with_at],
        &[
            ("secret-hardcoded", "shop/tasks.py", 1),
            ("todo-fixme", "shop/tasks.py", 1),
            ("secret-hardcoded", "shop/tasks.py", 2),
            ("todo-fixme", "shop/tasks.py", 2),
        ],
        &[
            format!("1 | BROKER_URL = \"amqp://user:pa55{}@rabbit.internal:5672//\"  # FIXME", stars(11)),
            format!("2 | RESULT_URL = \"redis://cache:{}@cache.internal:6379/0\"  # FIXME", stars(10)),
            // The password with an `@` is found whole: 10 characters, not 1.
            "database or broker URL with an inline password hardcoded (\"…\" (10 chars))".to_string(),
        ],
    );
}

#[test]
fn key_material_after_an_escaped_newline_on_a_pem_begin_line_is_masked() {
    // secret-hardcoded's own frame: the BEGIN line carries base64 after an escaped `\n`, and
    // the block goes on below in the same triple-quoted string; also the block on one line.
    let (a, b) = (token("github-pat", 15)[4..].repeat(2), token("github-pat", 16)[4..].repeat(2));
    let keys = format!(
        "KEY = \"\"\"-----BEGIN RSA PRIVATE KEY-----\\n{a}\n{b}\n-----END RSA PRIVATE KEY-----\"\"\"\nONE = \"-----BEGIN RSA PRIVATE KEY-----\\n{b}\\n{a}\\n-----END RSA PRIVATE KEY-----\"\n"
    );
    check(
        &[("shop/keys.py", &keys)],
        &[&a, &b],
        &[("secret-hardcoded", "shop/keys.py", 1), ("secret-hardcoded", "shop/keys.py", 4)],
        &[format!("1 | KEY = \"\"\"-----BEGIN RSA PRIVATE KEY-----{}\n", stars(2 + 72))],
    );
}

#[test]
fn ordinary_lines_are_shown_unchanged() {
    let py = [
        "password = request.POST.get(\"password\")  # TODO validate",
        "api_key = settings.API_KEY  # TODO",
        "url = \"https://example.com:8080/path?page=2\"  # TODO",
        "token = get_token(user)  # TODO cache",
        "fields = (\"email\", \"password\", \"first_name\")  # TODO",
        "def login(username: str, password: str = None):  # TODO",
        "headers = {\"Authorization\": f\"Bearer {token}\"}  # TODO",
        "DATABASE_URL = \"postgres://app:${DB_PASSWORD}@db/app\"  # TODO",
        "SECRET_KEY = os.environ[\"SECRET_KEY\"]  # TODO",
        "auth = \"Basic authentication\"  # TODO",
    ];
    let js = [
        "  console.log(\"token expired\", user.id);",
        "  console.log(`password reset for ${email}`);",
        "  console.log({ password: form.password, token: res.data.token });",
    ];
    let p = Project::new(&[
        ("app/views.py", &(py.join("\n") + "\n")),
        ("web/src/app.js", &format!("export function f(user, email, form, res) {{\n{}\n}}\n", js.join("\n"))),
    ]);
    let o = p.run(&["check", "--format", "text", "--color", "never"]);
    let text = stdout(&o);
    for (i, line) in py.iter().enumerate() {
        let frame = format!("{} | {line}\n", i + 1);
        assert!(text.contains(&frame), "no frame `{frame}` in:\n{text}");
    }
    for (i, line) in js.iter().enumerate() {
        let frame = format!("{} | {line}\n", i + 2);
        assert!(text.contains(&frame), "no frame `{frame}` in:\n{text}");
    }
    assert!(!text.contains("**"), "{text}");
}

#[test]
fn secret_fingerprints_hold_nothing_of_the_secret() {
    // Two tokens of the same format and length: the report shows the same for both, so the
    // fingerprints must be the same too (a hash of the secret would tell them apart, and could
    // be brute-forced offline).
    let files = |tok: &str| {
        vec![
            ("app/client.py".to_string(), format!("GITHUB = \"{tok}\"\n")),
            ("app/db.py".to_string(), format!("db_password = \"Pg-x{}9\"\n", &tok[4..16])),
        ]
    };
    let run = |tok: &str| {
        let p = Project::new(&[]);
        for (path, body) in files(tok) {
            p.write(&path, &body);
        }
        let json = stdout(&p.run(&["check", "--format", "json"]));
        let sarif = stdout(&p.run(&["check", "--format", "sarif"]));
        p.run(&["check", "--write-baseline", "b.json"]);
        let baseline = std::fs::read_to_string(p.path().join("b.json")).unwrap();
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        let fps: Vec<String> =
            v.as_array().unwrap().iter().map(|f| f["fingerprint"].as_str().unwrap().to_string()).collect();
        let s: serde_json::Value = serde_json::from_str(&sarif).unwrap();
        let sarif_fps: Vec<String> = s["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["partialFingerprints"]["preflight/v1"].as_str().unwrap().to_string())
            .collect();
        (fps, sarif_fps, baseline, p)
    };
    let (a, a_sarif, a_baseline, pa) = run(&token("github-pat", 21));
    let (b, b_sarif, b_baseline, _) = run(&token("github-pat", 22));
    assert_eq!(a.len(), 2);
    assert_eq!(a, b);
    assert_eq!(a_sarif, b_sarif);
    assert_eq!(a_sarif, a);
    assert_eq!(a_baseline, b_baseline);
    // Still stable across runs and when lines move above.
    let tok = token("github-pat", 21);
    pa.write("app/client.py", &format!("import os\n\n\nGITHUB = \"{tok}\"\n"));
    let v: serde_json::Value = serde_json::from_slice(&pa.run(&["check", "--format", "json"]).stdout).unwrap();
    let moved: Vec<&str> = v.as_array().unwrap().iter().map(|f| f["fingerprint"].as_str().unwrap()).collect();
    assert_eq!(moved, a);
    let o = pa.run(&["check", "--format", "json", "--baseline", "b.json"]);
    assert_eq!((o.status.code(), triples(&o)), (Some(0), vec![]));
    // A baseline written before holds the old fingerprint (a hash of the secret): it no longer
    // matches, so the finding is reported as new, once; the run does not fail otherwise.
    use preflight::finding::fnv1a;
    let old_key = format!("{:016x}", fnv1a(&[tok.as_bytes()]));
    let old = format!("{:016x}", fnv1a(&[b"secret-hardcoded", b"app/client.py", old_key.as_bytes(), b"0"]));
    assert!(!a.contains(&old));
    pa.write(
        "old.json",
        &format!("{{\"tool\": \"preflight\", \"version\": 1, \"findings\": [{{\"rule\": \"secret-hardcoded\", \"path\": \"app/client.py\", \"fingerprint\": \"{old}\"}}]}}"),
    );
    let o = pa.run(&["check", "--format", "json", "--baseline", "old.json", "--select", "secret-hardcoded"]);
    assert_eq!(
        (o.status.code(), triples(&o)),
        (Some(1), vec![t("secret-hardcoded", "app/client.py", 4), t("secret-hardcoded", "app/db.py", 1)])
    );
}

#[test]
fn sarif_repository_uri_holds_no_credential() {
    for (remote, uri) in [
        ("https://deploy:p@ss-W0rd-9@git.example.com/acme/shop.git", "https://git.example.com/acme/shop.git"),
        ("https://git.example.com/acme/shop.git?access_token=tok3n-9f8e7d6c", "https://git.example.com/acme/shop.git"),
        ("deploy:p@ss-W0rd-9@git.example.com:acme/shop.git", "https://git.example.com/acme/shop"),
    ] {
        let p = Project::new(&[("app/views.py", "# TODO: paginate\n")]);
        p.git(&["init", "-q"]);
        p.git(&["remote", "add", "origin", remote]);
        let o = p.run(&["check", "--format", "sarif"]);
        let doc = stdout(&o);
        assert_valid_sarif(&doc);
        for secret in ["ss-W0rd", "tok3n"] {
            assert!(!doc.contains(secret), "{remote}: {secret} in the SARIF");
        }
        let v: serde_json::Value = serde_json::from_str(&doc).unwrap();
        assert_eq!(v["runs"][0]["versionControlProvenance"][0]["repositoryUri"], uri, "{remote}");
    }
}

#[test]
fn a_password_in_a_migrations_sql_is_masked_before_the_message_cuts_it() {
    let migration = "from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n    dependencies = []\n    operations = [\n        migrations.RunSQL(\"ALTER ROLE app WITH PASSWORD 'Xk2-pass-9'\"),\n    ]\n";
    check(
        &[("shop/__init__.py", ""), ("shop/migrations/__init__.py", ""), ("shop/migrations/0002_role.py", migration)],
        &["Xk2-pass-9"],
        &[("django-migration-irreversible", "shop/migrations/0002_role.py", 7)],
        &["RunSQL(\"ALTER ROLE app WITH PASSWORD '*********) has no reverse_sql".to_string()],
    );
}
