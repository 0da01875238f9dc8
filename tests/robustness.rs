//! Hostile and broken input: every case finishes, says what it could not read (a note in the
//! text output and a `toolExecutionNotifications` entry in SARIF), keeps the findings of
//! everything else exact, and sets the exit code by the findings alone.

mod common;

use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;
use std::process::Command;

use common::*;

/// Notes from the text run's stderr, as `path: message` lines.
fn text_notes(o: &std::process::Output) -> Vec<String> {
    stderr(o).lines().filter_map(|l| l.split_once(": note: ").map(|(p, m)| format!("{p}: {m}"))).collect()
}

/// Notes from a SARIF run, as `path: message` lines.
fn sarif_notes(p: &Project, args: &[&str]) -> Vec<String> {
    let mut all = vec!["check", "--format", "sarif"];
    all.extend_from_slice(args);
    let o = p.run(&all);
    let doc = stdout(&o);
    assert_valid_sarif(&doc);
    let v: serde_json::Value = serde_json::from_str(&doc).unwrap();
    let inv = &v["runs"][0]["invocations"][0];
    assert_eq!(inv["executionSuccessful"], true);
    inv["toolExecutionNotifications"]
        .as_array()
        .map(|a| a.iter().map(|n| n["message"]["text"].as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

fn mkfifo(path: &Path) {
    let st = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(st.success());
}

#[test]
fn hostile_files_become_notes_and_findings_stay_exact() {
    let p = Project::new(&[
        ("src/empty.ts", ""),
        ("src/App.tsx", "export const App = () => {\n  console.log('render');\n  return null;\n};\n"),
    ]);
    let root = p.path();
    // UTF-16LE with a BOM: decoded, analysed, noted.
    let mut utf16 = vec![0xff, 0xfe];
    for u in "const a = 1;\r\nconsole.debug(a);\r\n".encode_utf16() {
        utf16.extend_from_slice(&u.to_le_bytes());
    }
    std::fs::write(root.join("src/utf16.js"), utf16).unwrap();
    // NUL bytes in a text-named file, and a binary renamed .py.
    std::fs::write(root.join("src/nul.js"), b"console.log(1);\x00\x00\x00").unwrap();
    std::fs::create_dir_all(root.join("app")).unwrap();
    std::fs::write(root.join("app/image.py"), [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]).unwrap();
    // Syntax errors everywhere, with one real finding among them.
    p.write("app/broken.py", "def (:\n  ]]] class\n# FIXME: remove the fallback\nlambda lambda\n");
    // Symlinks: a loop, one leaving the tree, a broken one. None is followed.
    symlink(".", root.join("src/loop")).unwrap();
    symlink("/etc/passwd", root.join("src/outside.js")).unwrap();
    symlink("missing.js", root.join("src/broken.js")).unwrap();
    // A FIFO (reading it would block forever) and a socket.
    mkfifo(&root.join("src/fifo.js"));
    let _sock = std::os::unix::net::UnixListener::bind(root.join("src/sock.js")).unwrap();
    // A file name that is not UTF-8.
    let name = std::ffi::OsStr::from_bytes(b"src/caf\xe9.js");
    std::fs::write(root.join(name), "console.table([1]);\n").unwrap();

    let o = p.run(&["check", "--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(
        triples(&o),
        vec![
            t("todo-fixme", "app/broken.py", 3),
            t("console-log", "src/App.tsx", 2),
            t("console-log", "src/caf\\xe9.js", 1),
            t("console-log", "src/utf16.js", 2),
        ]
    );
    let expected = [
        "app/broken.py: syntax errors; results from the parts that parsed",
        "app/image.py: binary file, skipped",
        "src/broken.js: broken symlink, skipped",
        "src/caf\\xe9.js: file name is not valid UTF-8, its invalid bytes shown as \\xNN",
        "src/fifo.js: not a regular file (FIFO, socket or device), skipped",
        "src/loop: symlink not followed, skipped",
        "src/nul.js: binary file, skipped",
        "src/outside.js: symlink not followed, skipped",
        "src/sock.js: not a regular file (FIFO, socket or device), skipped",
        "src/utf16.js: decoded from UTF-16",
    ];
    assert_eq!(text_notes(&o), expected);
    assert_eq!(sarif_notes(&p, &[]), expected);

    // Named on the command line (a pre-commit hook passes names): the FIFO and the socket are
    // notes too, and the run does not wait on the FIFO.
    let mut child = std::process::Command::new(bin())
        .args(["check", "--format", "json", "src/fifo.js", "src/sock.js", "src/App.tsx"])
        .current_dir(root)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > std::time::Duration::from_secs(30) {
            child.kill().unwrap();
            panic!("preflight blocked on a named FIFO");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(triples(&o), vec![t("console-log", "src/App.tsx", 2)]);
    assert_eq!(
        text_notes(&o),
        [
            "src/fifo.js: not a regular file (FIFO, socket or device), skipped",
            "src/sock.js: not a regular file (FIFO, socket or device), skipped",
        ]
    );
}

#[test]
fn unreadable_files_and_folders_are_notes() {
    let p = Project::new(&[
        ("app/views.py", "# TODO: cache this\n"),
        ("app/secret.py", "X = 1\n"),
        ("locked/inner.py", "# TODO: never seen\n"),
    ]);
    let root = p.path();
    std::fs::set_permissions(root.join("app/secret.py"), std::fs::Permissions::from_mode(0o000)).unwrap();
    std::fs::set_permissions(root.join("locked"), std::fs::Permissions::from_mode(0o000)).unwrap();
    // Root reads through permissions; then the check runs as `nobody`, with a copy of the
    // binary it may execute and a tree it may enter.
    let as_root = String::from_utf8(Command::new("id").arg("-u").output().unwrap().stdout).unwrap().trim() == "0";
    let o = if as_root {
        std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(root.join("app"), std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(root.join("app/views.py"), std::fs::Permissions::from_mode(0o644)).unwrap();
        let tools = tempfile::tempdir().unwrap();
        std::fs::set_permissions(tools.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let copy = tools.path().join("preflight");
        std::fs::copy(bin(), &copy).unwrap();
        let mut parent = root.parent();
        while let Some(d) = parent {
            // The temporary directory's parents must be enterable (they are, for /tmp).
            assert!(d.metadata().unwrap().permissions().mode() & 0o001 != 0, "{} not enterable", d.display());
            parent = d.parent();
        }
        Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&copy)
            .args(["check", "--format", "json", "."])
            .current_dir(root)
            .env("NO_COLOR", "1")
            .output()
            .expect("setpriv")
    } else {
        p.run(&["check", "--format", "json"])
    };
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(triples(&o), vec![t("todo-fixme", "app/views.py", 1)]);
    assert_eq!(text_notes(&o), ["app/secret.py: permission denied, skipped", "locked: permission denied, skipped"]);
    std::fs::set_permissions(root.join("locked"), std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn huge_files_are_bounded() {
    let p = Project::new(&[]);
    // A 50 MB single-line minified bundle: over the size limit by default.
    let mut bundle = b"!function(){".to_vec();
    while bundle.len() < 50 * 1024 * 1024 {
        bundle.extend_from_slice(b"var a=function(b){return b+1};console.log(a(2));");
    }
    bundle.extend_from_slice(b"}();\n");
    std::fs::create_dir_all(p.path().join("static")).unwrap();
    std::fs::write(p.path().join("static/app.js"), &bundle).unwrap();
    // A 200,000-line generated file with one finding on its last line.
    let mut long = "export const x0 = 0;\n".to_string();
    for i in 1..199_999 {
        long.push_str(&format!("x{i};\n"));
    }
    long.push_str("console.log(x0);\n");
    p.write("src/generated.js", &long);
    let o = p.run(&["check", "--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(triples(&o), vec![t("console-log", "src/generated.js", 200_000)]);
    assert_eq!(
        text_notes(&o),
        [format!("static/app.js: {} bytes, over the 2097152 byte limit, skipped", bundle.len())]
    );

    // With the limit raised, the bundle is read and recognised as minified (not production
    // code, no console-log); a 50 MB one-line data file is scanned for secrets, and its
    // finding shows a window of the line, not all of it.
    p.write("preflight.toml", "max-file-size = 67108864\n");
    let mut dump = b"{\"rows\": [".to_vec();
    while dump.len() < 50 * 1024 * 1024 {
        dump.extend_from_slice(b"{\"id\": 1, \"name\": \"row\"}, ");
    }
    // The key is assembled at run time so that this file holds no secret-shaped literal.
    dump.extend_from_slice(format!("{{\"aws\": \"{}{}\"}}]}}\n", "AKIA", "Z7VRSQ5LXN3QTPEB").as_bytes());
    std::fs::create_dir_all(p.path().join("data")).unwrap();
    std::fs::write(p.path().join("data/dump.json"), &dump).unwrap();
    let o = p.run(&["check", "--format", "text"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.starts_with("data/dump.json:1:"), "{}", &out[..out.len().min(1000)]);
    assert!(out.contains("\nsrc/generated.js:200000:1: warning[console-log]"), "{}", &out[..out.len().min(2000)]);
    assert!(!out.contains("static/app.js"), "{}", &out[..out.len().min(2000)]);
    assert!(out.len() < 4000, "output copies the data file: {} bytes", out.len());
}

/// 1-based line of the first line starting with `prefix`.
fn line_of(text: &str, prefix: &str) -> u64 {
    text.lines().position(|l| l.starts_with(prefix)).unwrap() as u64 + 1
}

#[test]
fn deep_nesting_neither_overflows_nor_hides_later_findings() {
    let n = 10_000;
    let py = format!(
        "x = {}1{}\ny = {}{}\n# TODO: after the nesting\n",
        "(\n".repeat(n),
        ")".repeat(n),
        "[".repeat(n),
        "]".repeat(n)
    );
    let tsx = format!(
        "const x = {}1{};\nconst y = {}{};\nconsole.log(x, y);\n",
        "(\n".repeat(n),
        ")\n".repeat(n),
        "<b>\n".repeat(n),
        "</b>\n".repeat(n)
    );
    let settings = format!(
        "INSTALLED_APPS = []\nROOT_URLCONF = 'x'\nX = {}1\nDEBUG = True\nY = {}1{}\n",
        "1 + ".repeat(n),
        "{'a': ".repeat(n),
        "}".repeat(n)
    );
    let p = Project::new(&[("app/deep.py", &py), ("src/Deep.tsx", &tsx), ("proj/settings.py", &settings)]);
    let o = p.run(&["check", "--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(
        triples(&o),
        vec![
            t("todo-fixme", "app/deep.py", line_of(&py, "# TODO")),
            t("django-cache-not-configured", "proj/settings.py", 1),
            t("django-logging-not-configured", "proj/settings.py", 1),
            t("error-tracking-missing", "proj/settings.py", 1),
            t("metrics-missing", "proj/settings.py", 1),
            t("django-debug-enabled", "proj/settings.py", 4),
            t("console-log", "src/Deep.tsx", line_of(&tsx, "console.log")),
        ]
    );
}

#[test]
fn a_hundred_thousand_empty_files() {
    let p = Project::new(&[("src/index.ts", "// FIXME: wire the router\n")]);
    let dir = p.path().join("src/empty");
    std::fs::create_dir_all(&dir).unwrap();
    for i in 0..100_000 {
        std::fs::File::create(dir.join(format!("{i}.ts"))).unwrap();
    }
    let o = p.run(&["check", "--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(triples(&o), vec![t("todo-fixme", "src/index.ts", 1)]);
    assert_eq!(text_notes(&o), Vec::<String>::new());
    let o = p.run(&["check"]);
    assert!(stderr(&o).contains("1 finding in 100001 files"), "{}", stderr(&o));
}

#[test]
fn missing_paths_are_errors_the_user_must_act_on() {
    let p = Project::new(&[("app/views.py", "x = 1\n")]);
    let o = p.run(&["check", "app/nope.py"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("`app/nope.py` does not exist"), "{}", stderr(&o));
    // Clean files and notes alone exit 0.
    std::fs::write(p.path().join("app/blob.py"), b"\x00\x01").unwrap();
    let o = p.run(&["check"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn output_is_byte_identical_over_twenty_runs_and_thread_counts() {
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures");
    for format in ["text", "json", "sarif"] {
        let mut first: Option<Vec<u8>> = None;
        for i in 0..20 {
            let threads = ["1", "2", "0"][i % 3];
            let mut args = vec!["check", "--format", format, "--quiet", "--color", "never", "."];
            if threads != "0" {
                args.extend(["--threads", threads]);
            }
            let o = run_in(Path::new(fixtures), &args);
            assert_eq!(o.status.code(), Some(1));
            match &first {
                None => first = Some(o.stdout),
                Some(f) => assert!(f == &o.stdout, "{format} differs on run {i} (--threads {threads})"),
            }
        }
    }
}
