//! Known token formats, tested with synthetic samples generated at test time (no live-looking
//! token is committed): each format fires on two samples in two kinds of file, near misses stay
//! silent, and no output format ever prints a sample in full.

mod common;

use common::*;
use preflight::finding::Level;
use preflight::secrets::{sample, FORMATS};

/// Puts a sample in its context (`{}`), inside a Python module and inside a YAML file.
fn files_for(i: usize) -> Vec<(String, String, String)> {
    let f = &FORMATS[i];
    let mut out = Vec::new();
    for (seed, kind) in [(1u64 + i as u64 * 7, "py"), (1000 + i as u64 * 13, "yml")] {
        let secret = sample(f, seed);
        let body = f.context.replace("{}", &secret);
        let (path, text) = match kind {
            "py" => (format!("app/fmt_{i}.py"), format!("VALUE = \"\"\"{body}\"\"\"\n")),
            _ => {
                let indented = body.lines().collect::<Vec<_>>().join("\n  ");
                (format!("deploy/fmt_{i}.yml"), format!("value: |\n  {indented}\n"))
            }
        };
        out.push((path, text, secret));
    }
    out
}

/// Writes two samples of every format into the project: (path, format index, secret).
fn write_all_samples(p: &Project) -> Vec<(String, usize, String)> {
    let mut written = Vec::new();
    for i in 0..FORMATS.len() {
        for (path, text, secret) in files_for(i) {
            p.write(&path, &text);
            written.push((path, i, secret));
        }
    }
    written
}

#[test]
fn every_format_fires_on_two_samples_with_its_name_and_level() {
    let p = Project::new(&[]);
    let expected: Vec<(String, usize)> = write_all_samples(&p).into_iter().map(|(path, i, _)| (path, i)).collect();
    assert!(FORMATS.len() >= 30, "{} formats", FORMATS.len());
    let o = p.run(&["check", "--format", "json", "--select", "secret-hardcoded"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let findings = v.as_array().unwrap();
    let mut failures = Vec::new();
    for (path, i) in &expected {
        let f = &FORMATS[*i];
        let mine: Vec<&serde_json::Value> = findings.iter().filter(|x| x["path"] == path.as_str()).collect();
        let want_level = if f.level == Level::Note { "note" } else { "error" };
        match mine.as_slice() {
            [one] if one["message"].as_str().unwrap().starts_with(f.name) && one["level"] == want_level => {}
            other => failures.push(format!(
                "{path} ({}): {:?}",
                f.id,
                other.iter().map(|x| &x["message"]).collect::<Vec<_>>()
            )),
        }
    }
    assert_eq!(findings.len(), expected.len(), "{failures:#?}");
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn near_misses_stay_silent() {
    let near = [
        "AKIA1234567890ABCDE",                       // 15 after the prefix, and a digit 1 not in base32
        "AKIAIOSFODNN7EXAMPLE",                      // AWS's documentation key
        "ghp_0123456789abcdefghijklmnopqrstuvwxy",   // 35 characters
        "sk_live_short",                             // too short
        "sk_live_xxxxxxxxxxxxxxxxxxxxxxxxxxxx",      // marked fake
        "xoxb-123-456",                              // too short
        "AIzaShort",                                 // too short
        "-----BEGIN PUBLIC KEY-----",                // public
        "-----BEGIN RSA PRIVATE KEY-----",           // a header alone, in docs
        "postgres://user:${DB_PASSWORD}@db/app",     // a variable
        "postgres://postgres:postgres@localhost/db", // local default
        "redis://:password@localhost:6379/0",        // placeholder
        "amqp://guest:guest@localhost//",            // RabbitMQ default
        "https://abc123@o1.ingest.sentry.io/42",     // modern DSN: public key only
        "key-short",                                 // Mailgun prefix, too short
        "npm_tooShort123",
        "glpat-abc",
        "sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==",
        "550e8400-e29b-41d4-a716-446655440000",
    ];
    let p = Project::new(&[]);
    let mut py = String::new();
    for (i, n) in near.iter().enumerate() {
        py.push_str(&format!("VALUE_{i} = \"{n}\"\n"));
    }
    p.write("app/near.py", &py);
    let o = p.run(&["check", "--format", "json", "--select", "secret-hardcoded"]);
    assert_eq!(triples(&o), vec![], "{}", stdout(&o));
}

#[test]
fn no_output_format_prints_a_secret_in_full() {
    let p = Project::new(&[]);
    let mut secrets: Vec<String> = write_all_samples(&p).into_iter().map(|(_, _, s)| s).collect();
    // Name-based credentials from the static fixtures too.
    p.write("app/creds.py", "db_password = \"Pg-Prod-2024!x\"\nAPI_TOKEN = 'tok-83jd-29dk-2ksl'\n");
    secrets.extend(["Pg-Prod-2024!x".to_string(), "tok-83jd-29dk-2ksl".to_string()]);
    for format in ["text", "json", "sarif"] {
        let o = p.run(&["check", "--format", format]);
        let all = format!("{}{}", stdout(&o), stderr(&o));
        for s in &secrets {
            // The secret's core (a PEM block's key material; anything else whole).
            let core = s.lines().nth(1).unwrap_or(s);
            assert!(!all.contains(core), "{format} prints {core}");
            // Public prefixes (`github_pat_`, 11 characters) appear in the rule's docs; anything
            // longer than the 4 characters the redaction shows plus such a prefix is a leak.
            if core.chars().count() > 12 {
                let head: String = core.chars().take(12).collect();
                assert!(
                    !all.contains(&head),
                    "{format} prints more than 4 characters of {core}: {}",
                    all.lines().find(|l| l.contains(&head)).unwrap_or("")
                );
            }
        }
    }
}

/// Issue 18: a committed dotenv file is judged by what it holds. Credentials: one finding per
/// file naming the keys to rotate (never their values), and one secret-hardcoded finding per
/// value; machine-local files always; dev-stack settings, paths and public build variables never.
#[test]
fn committed_dotenv_files_are_judged_by_their_values() {
    let p = Project::new(&[]);
    p.git(&["init", "-q"]);
    p.write("backend/.env", "DEBUG=0\nSECRET_KEY=Qz8-live-K3y-7741-wxyz\nCACHE_URL=redis://:Cache-Pw-5521@cache:6379/0\n# REDIS_PASSWORD=old\n");
    p.write("contrib/app.env", "APP_ROOT=/opt/app\nDB_ENGINE=sqlite3\n");
    p.write("web/.env", "VITE_API_URL=https://api.example.com\n");
    p.write("web/.env.local", "VITE_API_URL=http://localhost\n");
    p.write("site/.env.production", "NEXT_PUBLIC_API_SECRET=Pub-Secr3t-8812-live\n");
    p.git(&["add", "-A"]);
    let o = p.run(&["check", "--format", "json", "--select", "env-file-committed,secret-hardcoded"]);
    assert_eq!(
        triples(&o),
        vec![
            t("env-file-committed", "backend/.env", 1),
            t("secret-hardcoded", "backend/.env", 2),
            t("secret-hardcoded", "backend/.env", 3),
            t("env-file-committed", "site/.env.production", 1),
            t("secret-hardcoded", "site/.env.production", 1),
            t("env-file-committed", "web/.env.local", 1),
        ]
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let msg = |path: &str| {
        v.as_array().unwrap().iter().find(|f| f["path"] == path && f["rule"] == "env-file-committed").unwrap()
            ["message"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        msg("backend/.env"),
        "`backend/.env` is committed to git and holds credentials (`SECRET_KEY`, `CACHE_URL`): remove it with \
         `git rm --cached backend/.env`, add `.env` to .gitignore, commit a `.env.example` with placeholders, \
         and rotate SECRET_KEY, CACHE_URL"
    );
    assert!(msg("site/.env.production")
        .contains("`NEXT_PUBLIC_API_SECRET` has a public prefix, so the bundler ships it to every browser"));
    assert!(msg("web/.env.local")
        .starts_with("`web/.env.local` is committed to git (a machine-local file, never committed by convention)"));
    let out = String::from_utf8_lossy(&o.stdout);
    for value in ["Qz8-live-K3y-7741-wxyz", "Cache-Pw-5521", "Pub-Secr3t-8812-live"] {
        assert!(!out.contains(value), "{value} in clear: {out}");
    }
}
