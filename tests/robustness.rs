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

/// Runs preflight in `dir` with at most 2 GB of address space, killed after 60 s: a run that
/// blocks or reads without end fails the test instead of hanging the suite or the machine.
/// `stdin_open` keeps a pipe on stdin that nobody writes (what `/dev/stdin` then reads).
fn run_bounded(dir: &Path, args: &[&str], stdin_open: bool) -> std::process::Output {
    use std::process::Stdio;
    let out = tempfile::NamedTempFile::new().unwrap();
    let err = tempfile::NamedTempFile::new().unwrap();
    let mut child = Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 2000000; exec \"$0\" \"$@\"")
        .arg(bin())
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(if stdin_open { Stdio::piped() } else { Stdio::null() })
        .stdout(out.reopen().unwrap())
        .stderr(err.reopen().unwrap())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if started.elapsed() > std::time::Duration::from_secs(60) {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("preflight {args:?} did not finish in 60 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    std::process::Output {
        status,
        stdout: std::fs::read(out.path()).unwrap(),
        stderr: std::fs::read(err.path()).unwrap(),
    }
}

#[test]
fn hostile_ignore_files_become_notes_and_the_folder_is_still_walked() {
    let p = Project::new(&[
        ("app/views.py", "# TODO: one\n"),
        ("web/src/App.tsx", "console.log('x');\n"),
        ("web/src/skipped.js", "console.log('ignored by web/.gitignore: read once it is unsafe');\n"),
        ("lib/a.py", "# FIXME: two\n"),
        ("api/handlers.py", "# TODO: three\n"),
    ]);
    let root = p.path();
    // /dev/zero: read to the end, memory grows until the run aborts.
    symlink("/dev/zero", root.join(".gitignore")).unwrap();
    // A FIFO and /dev/stdin (a pipe nobody writes): opening or reading them blocks forever.
    mkfifo(&root.join("web/.gitignore"));
    symlink("/dev/stdin", root.join("lib/.ignore")).unwrap();
    // A safe one, still honoured.
    p.write("api/.gitignore", "ignored.py\n");
    p.write("api/ignored.py", "# TODO: never seen\n");
    let o = run_bounded(root, &["check", "--format", "json"], true);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let note = "not read, so ignore files do not apply in this folder and below";
    assert_eq!(
        text_notes(&o),
        [
            format!(".gitignore: not a regular file (FIFO, socket or device): {note}"),
            // Walked without ignore files, the hostile files themselves are seen too.
            ".gitignore: symlink not followed, skipped".to_string(),
            "lib/.ignore: symlink not followed, skipped".to_string(),
            "web/.gitignore: not a regular file (FIFO, socket or device), skipped".to_string(),
        ]
    );
    // The root's ignore file is unsafe, so the whole tree is walked without ignore files.
    assert_eq!(
        triples(&o),
        vec![
            t("todo-fixme", "api/handlers.py", 1),
            t("todo-fixme", "api/ignored.py", 1),
            t("todo-fixme", "app/views.py", 1),
            t("todo-fixme", "lib/a.py", 1),
            t("console-log", "web/src/App.tsx", 1),
            t("console-log", "web/src/skipped.js", 1),
        ]
    );

    // With a safe root ignore file, only the folders with unsafe ones lose their ignore files.
    std::fs::remove_file(root.join(".gitignore")).unwrap();
    p.write(".gitignore", "*.log\n");
    p.write("web/src/.gitignore", "skipped.js\n");
    let o = run_bounded(root, &["check", "--format", "json"], true);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(
        text_notes(&o),
        [
            format!("lib/.ignore: not a regular file (FIFO, socket or device): {note}"),
            "lib/.ignore: symlink not followed, skipped".to_string(),
            "web/.gitignore: not a regular file (FIFO, socket or device), skipped".to_string(),
            format!("web/.gitignore: not a regular file (FIFO, socket or device): {note}"),
        ]
    );
    assert_eq!(
        triples(&o),
        vec![
            t("todo-fixme", "api/handlers.py", 1),
            t("todo-fixme", "app/views.py", 1),
            t("todo-fixme", "lib/a.py", 1),
            t("console-log", "web/src/App.tsx", 1),
            t("console-log", "web/src/skipped.js", 1),
        ]
    );
}

#[test]
fn hostile_config_files_are_errors_naming_them() {
    let p = Project::new(&[("app/views.py", "# TODO: one\n")]);
    let root = p.path();
    symlink("/dev/zero", root.join("preflight.toml")).unwrap();
    let o = run_bounded(root, &["check"], false);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("preflight.toml: not a regular file (FIFO, socket or device)"), "{}", stderr(&o));
    std::fs::remove_file(root.join("preflight.toml")).unwrap();
    mkfifo(&root.join("pyproject.toml"));
    let o = run_bounded(root, &["check"], false);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("pyproject.toml: not a regular file (FIFO, socket or device)"), "{}", stderr(&o));
    std::fs::remove_file(root.join("pyproject.toml")).unwrap();
    // max-file-size has a ceiling of 64 MiB.
    p.write("preflight.toml", "max-file-size = 67108865\n");
    let o = run_bounded(root, &["check"], false);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(
            "preflight.toml: line 1: max-file-size = 67108865 is over the ceiling of 67108864 bytes (64 MiB)"
        ),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_committed_env_symlink_to_a_device_or_fifo_is_judged_by_its_name() {
    let p = Project::new(&[("app/views.py", "x = 1\n")]);
    p.git(&["init", "-q"]);
    symlink("/dev/zero", p.path().join(".env")).unwrap();
    symlink("/dev/stdin", p.path().join("prod.env")).unwrap();
    p.git(&["add", "-A"]);
    p.git(&["commit", "-qm", "init"]);
    let o = run_bounded(p.path(), &["check", "--format", "json", "--select", "env-file-committed"], true);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(triples(&o), vec![t("env-file-committed", ".env", 1), t("env-file-committed", "prod.env", 1)]);
}

/// A `.git` planted in a scanned folder: its files are symlinks to devices and FIFOs, its
/// HEAD names a file outside, and nothing it points at is read or copied into the report.
#[test]
fn a_hostile_git_dir_is_neither_followed_nor_copied_into_sarif() {
    let p = Project::new(&[("app/views.py", "# TODO: one\n")]);
    p.git(&["init", "-q"]);
    p.git(&["remote", "add", "origin", "https://github.com/acme/shop.git"]);
    p.git(&["add", "-A"]);
    p.git(&["commit", "-qm", "init"]);
    let git = p.path().join(".git");
    let sarif = |p: &Project| {
        let o = run_bounded(p.path(), &["check", "--format", "sarif"], true);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        let doc = stdout(&o);
        assert_valid_sarif(&doc);
        assert!(!doc.contains("root:") && !doc.contains("/bin/"), "{doc}");
        serde_json::from_str::<serde_json::Value>(&doc).unwrap()["runs"][0]["versionControlProvenance"][0].clone()
    };
    // HEAD names a file outside the git dir, absolutely or through `..`.
    for head in ["ref: /etc/passwd\n", "ref: refs/heads/../../../../../../etc/passwd\n", "ref: ../../../etc/passwd\n"] {
        std::fs::write(git.join("HEAD"), head).unwrap();
        let vcp = sarif(&p);
        assert_eq!(vcp["repositoryUri"], "https://github.com/acme/shop.git");
        assert_eq!(vcp.get("revisionId"), None);
        assert_eq!(vcp.get("branch"), None);
    }
    // A well-formed branch whose ref file is a symlink out of the git dir.
    std::fs::write(git.join("HEAD"), "ref: refs/heads/main\n").unwrap();
    std::fs::remove_file(git.join("refs/heads/main")).unwrap();
    symlink("/etc/passwd", git.join("refs/heads/main")).unwrap();
    let vcp = sarif(&p);
    assert_eq!(vcp.get("revisionId"), None);
    assert_eq!(vcp["branch"], "refs/heads/main");
    // HEAD, the index, the config and info/exclude as devices and FIFOs: no hang, no OOM.
    std::fs::remove_file(git.join("HEAD")).unwrap();
    symlink("/dev/zero", git.join("HEAD")).unwrap();
    std::fs::remove_file(git.join("index")).unwrap();
    symlink("/dev/zero", git.join("index")).unwrap();
    std::fs::create_dir_all(git.join("info")).unwrap();
    let _ = std::fs::remove_file(git.join("info/exclude"));
    mkfifo(&git.join("info/exclude"));
    assert_eq!(sarif(&p), serde_json::Value::Null);
    std::fs::remove_file(git.join("config")).unwrap();
    symlink("/dev/stdin", git.join("config")).unwrap();
    assert_eq!(sarif(&p), serde_json::Value::Null);

    // A `.git` file naming another repository's git dir: that repository is not this one.
    let q = Project::new(&[("app/views.py", "# TODO: one\n")]);
    q.write(".git", &format!("gitdir: {}\n", git.display()));
    std::fs::remove_file(git.join("config")).unwrap();
    std::fs::write(git.join("config"), "[remote \"origin\"]\n\turl = https://github.com/victim/private.git\n").unwrap();
    assert_eq!(sarif(&q), serde_json::Value::Null);
}

#[test]
fn a_committed_env_in_a_submodule_is_committed() {
    let sub = Project::new(&[(".env", "DATABASE_PASSWORD=hunter22\n"), ("lib.py", "x = 1\n")]);
    sub.git(&["init", "-q"]);
    sub.git(&["add", "-A"]);
    sub.git(&["commit", "-qm", "sub"]);
    let p = Project::new(&[("app/views.py", "x = 1\n")]);
    p.git(&["init", "-q"]);
    let url = sub.path().display().to_string();
    p.git(&["-c", "protocol.file.allow=always", "submodule", "add", "-q", &url, "vendor/lib"]);
    p.git(&["commit", "-qam", "init"]);
    let o = run_bounded(p.path(), &["check", "--format", "json", "--select", "env-file-committed"], false);
    assert_eq!(triples(&o), vec![t("env-file-committed", "vendor/lib/.env", 1)]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let msg = v[0]["message"].as_str().unwrap();
    assert!(msg.starts_with("`vendor/lib/.env` is committed to git"), "{msg}");

    // A split index (`git update-index --split-index`) keeps most entries in a shared index
    // and records deletions in a bitmap: read with its shared index, the answers stay right.
    p.write("web/.env", "API_TOKEN=tk-8842-Qz-live-77aa\n");
    p.git(&["add", "web/.env"]);
    p.git(&["commit", "-qm", "web env"]);
    p.git(&["-c", "splitIndex.maxPercentChange=100", "update-index", "--split-index"]);
    p.write(".env", "DATABASE_PASSWORD=hunter22\n");
    p.git(&["-c", "splitIndex.maxPercentChange=100", "add", ".env"]);
    p.git(&["-c", "splitIndex.maxPercentChange=100", "rm", "-q", "--cached", "web/.env"]);
    let shared = std::fs::read_dir(p.path().join(".git"))
        .unwrap()
        .filter_map(|e| e.ok())
        .any(|e| e.file_name().to_string_lossy().starts_with("sharedindex."));
    assert!(shared, "git wrote no shared index");
    let o = run_bounded(p.path(), &["check", "--format", "json", "--select", "env-file-committed"], false);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let found: Vec<(&str, &str)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["path"].as_str().unwrap(), f["message"].as_str().unwrap().split(':').next().unwrap()))
        .collect();
    assert_eq!(
        found,
        [
            (".env", "`.env` is committed to git and holds credentials (`DATABASE_PASSWORD`)"),
            ("vendor/lib/.env", "`vendor/lib/.env` is committed to git and holds credentials (`DATABASE_PASSWORD`)"),
            (
                "web/.env",
                "`web/.env` is not ignored by git and holds credentials (`API_TOKEN`), so the next `git add .` commits it"
            ),
        ]
    );
    // A shared index that cannot be read: tracked-ness is unknown, and the advice does not
    // speak of git.
    for e in std::fs::read_dir(p.path().join(".git")).unwrap().filter_map(|e| e.ok()) {
        if e.file_name().to_string_lossy().starts_with("sharedindex.") {
            std::fs::remove_file(e.path()).unwrap();
        }
    }
    let o = run_bounded(p.path(), &["check", "--format", "json", "--select", "env-file-committed"], false);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let msgs: Vec<&str> = v.as_array().unwrap().iter().map(|f| f["message"].as_str().unwrap()).collect();
    assert_eq!(msgs.len(), 3, "{msgs:?}");
    assert!(msgs.iter().all(|m| m.contains("is in the source tree and not ignored")), "{msgs:?}");
}

#[test]
fn a_worktree_sarif_names_its_commit() {
    let p = Project::new(&[("app/views.py", "# TODO: one\n")]);
    p.git(&["init", "-q"]);
    p.git(&["remote", "add", "origin", "https://github.com/acme/shop.git"]);
    p.git(&["add", "-A"]);
    p.git(&["commit", "-qm", "init"]);
    let wt = tempfile::tempdir().unwrap();
    let wt_path = wt.path().join("feature");
    p.git(&["worktree", "add", "-q", "-b", "feature", wt_path.to_str().unwrap()]);
    let head = Command::new("git").args(["rev-parse", "HEAD"]).current_dir(&wt_path).output().unwrap();
    let head = String::from_utf8(head.stdout).unwrap().trim().to_string();
    let o = run_bounded(&wt_path, &["check", "--format", "sarif"], false);
    let doc = stdout(&o);
    assert_valid_sarif(&doc);
    let v: serde_json::Value = serde_json::from_str(&doc).unwrap();
    let vcp = &v["runs"][0]["versionControlProvenance"][0];
    assert_eq!(vcp["repositoryUri"], "https://github.com/acme/shop.git");
    assert_eq!(vcp["revisionId"], head.as_str());
    assert_eq!(vcp["branch"], "refs/heads/feature");
}

#[test]
fn diff_base_never_runs_the_repositorys_filters() {
    let p = Project::new(&[("app/views.py", "def f():\n    return 1\n")]);
    p.git(&["init", "-q"]);
    p.write(".gitattributes", "*.py filter=evil diff=evil\n");
    p.git(&["add", "-A"]);
    p.git(&["commit", "-qm", "one"]);
    // Set after the commits (the test's own git would run them): each writes a marker.
    let marker = p.path().join("MARKER");
    let cmd = format!("sh -c 'touch {}; cat'", marker.display());
    for key in ["filter.evil.clean", "filter.evil.smudge", "diff.evil.textconv", "diff.evil.command", "core.fsmonitor"]
    {
        p.git(&["config", key, &cmd]);
    }
    p.git(&["config", "filter.evil.process", &cmd]);
    p.write("app/views.py", "def f():\n    import pdb\n    return 1\n");
    let o = run_bounded(p.path(), &["check", "--format", "json", "--diff-base", "HEAD"], false);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(triples(&o), vec![t("debugger-statement", "app/views.py", 2)]);
    assert!(!marker.exists(), "git ran a command from the repository's config");
}

#[test]
fn report_files_are_replaced_whole_and_never_aimed() {
    let p = Project::new(&[("app/views.py", "# TODO: one\n"), ("app/models.py", "x = 1\n")]);
    let root = p.path();
    // A symlink where the report goes (a repository may commit one) is refused, and its target
    // left alone.
    let victim = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(victim.path(), "precious\n").unwrap();
    symlink(victim.path(), root.join("report.json")).unwrap();
    for flag in ["--output", "--write-baseline"] {
        let o = run_bounded(root, &["check", flag, "report.json"], false);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains(&format!("{flag} report.json is a symlink")), "{}", stderr(&o));
    }
    assert_eq!(std::fs::read_to_string(victim.path()).unwrap(), "precious\n");
    std::fs::remove_file(root.join("report.json")).unwrap();
    // A file the run reads.
    let o = run_bounded(root, &["check", "app/views.py", "--output", "app/views.py"], false);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--output app/views.py is a file this run reads"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(root.join("app/views.py")).unwrap(), "# TODO: one\n");
    // Source code the run checks.
    let o = run_bounded(root, &["check", "--write-baseline", "app/models.py"], false);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--write-baseline app/models.py is source code this run checks"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(root.join("app/models.py")).unwrap(), "x = 1\n");
    // A committed baseline is rewritten, as the README's adoption steps do.
    p.write("preflight-baseline.json", "{}\n");
    p.git(&["init", "-q"]);
    p.git(&["add", "-A"]);
    p.git(&["commit", "-qm", "init"]);
    let o = run_bounded(root, &["check", "--write-baseline", "preflight-baseline.json"], false);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(std::fs::read_to_string(root.join("preflight-baseline.json")).unwrap().contains("todo-fixme"));
    // A full disk is exit 2.
    let o = run_bounded(root, &["check", "--output", "/dev/full"], false);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("preflight: error: /dev/full: No space left on device"), "{}", stderr(&o));
    // An existing report is replaced whole, with no temporary file left behind.
    p.write("out/report.json", "old\n");
    let o = run_bounded(root, &["check", "--format", "json", "--output", "out/report.json"], false);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.join("out/report.json")).unwrap()).unwrap();
    assert_eq!(report.as_array().unwrap().len(), 1);
    assert_eq!(std::fs::read_dir(root.join("out")).unwrap().count(), 1);
}

#[test]
fn stdout_and_stderr_errors() {
    let p = Project::new(&[("app/views.py", "# TODO: one\n")]);
    let dev_full = || std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
    // A report that cannot be written is exit 2, with the reason on stderr.
    let o = Command::new(bin()).args(["check"]).current_dir(p.path()).stdout(dev_full()).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("preflight: error: writing the report to stdout: No space left on device"));
    // A stderr that cannot be written does not crash the run: the exit code is the findings'.
    let o = Command::new(bin())
        .args(["check", "--format", "json"])
        .current_dir(p.path())
        .stderr(dev_full())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(triples(&o), vec![t("todo-fixme", "app/views.py", 1)]);
    let o = Command::new(bin()).args(["rules"]).stdout(dev_full()).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let o = Command::new(bin()).args(["rule", "nope"]).stderr(dev_full()).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    // A reader that stops early (`| head`) ends the output quietly; the exit code is the
    // findings'.
    let mut child = Command::new(bin())
        .args(["check"])
        .current_dir(p.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(!stderr(&o).contains("error"), "{}", stderr(&o));
}

#[test]
fn nothing_readable_is_an_error() {
    let p = Project::new(&[]);
    mkfifo(&p.path().join("a.py"));
    let o = run_bounded(p.path(), &["check", "a.py"], false);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(
            "preflight: error: no file could be read: a.py: not a regular file (FIFO, socket or device), skipped"
        ),
        "{}",
        stderr(&o)
    );
    let o = run_bounded(p.path(), &["check", "."], false);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    // No baseline is recorded from nothing.
    let o = run_bounded(p.path(), &["check", "--write-baseline", "b.json"], false);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(!p.path().join("b.json").exists());
    // An empty folder has nothing to read: that is no error.
    let q = Project::new(&[]);
    assert_eq!(run_bounded(q.path(), &["check"], false).status.code(), Some(0));
}

#[test]
fn the_config_used_is_named() {
    // No `.git`: a config in a folder above applies, and the run says so.
    let p = Project::new(&[("preflight.toml", "ignore = [\"todo-fixme\"]\n"), ("proj/app/views.py", "# TODO: one\n")]);
    let o = run_bounded(&p.path().join("proj"), &["check"], false);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let cfg = p.path().canonicalize().unwrap().join("preflight.toml");
    assert!(stderr(&o).starts_with(&format!("preflight: config {}\n", cfg.display())), "{}", stderr(&o));
    // SARIF records it in the invocation's properties.
    let o = run_bounded(&p.path().join("proj"), &["check", "--format", "sarif"], false);
    let doc = stdout(&o);
    assert_valid_sarif(&doc);
    let v: serde_json::Value = serde_json::from_str(&doc).unwrap();
    let uri = format!("file://{}", cfg.display());
    assert_eq!(v["runs"][0]["invocations"][0]["properties"]["configFile"], uri.as_str());
    let o = run_bounded(p.path(), &["check", "--quiet"], false);
    assert_eq!(stderr(&o), "");
    let o = run_bounded(p.path(), &["check"], false);
    assert!(stderr(&o).starts_with("preflight: config preflight.toml\n"), "{}", stderr(&o));
}

/// In a partial clone, git fetches missing objects from the remote when asked for them: with
/// `--diff-base` it is never allowed to (no network), and a file whose old version is not
/// there counts as new.
#[test]
fn diff_base_never_fetches_in_a_partial_clone() {
    let origin = Project::new(&[("app/views.py", "def f():\n    return 1\n")]);
    origin.git(&["init", "-q"]);
    origin.git(&["add", "-A"]);
    origin.git(&["commit", "-qm", "one"]);
    origin.write("app/views.py", "def f():\n    return 2\n");
    origin.git(&["commit", "-qam", "two"]);
    origin.git(&["config", "uploadpack.allowFilter", "true"]);
    let clone = tempfile::tempdir().unwrap();
    let url = format!("file://{}", origin.path().display());
    let st = Command::new("git")
        .args(["clone", "-q", "--no-local", "--filter=blob:none", &url])
        .arg(clone.path().join("c"))
        .output()
        .unwrap();
    assert!(st.status.success(), "{}", String::from_utf8_lossy(&st.stderr));
    let dir = clone.path().join("c");
    std::fs::write(dir.join("app/views.py"), "def f():\n    import pdb\n    return 2\n").unwrap();
    let blob = Command::new("git").args(["rev-parse", "HEAD~1:app/views.py"]).current_dir(&dir).output().unwrap();
    let blob = String::from_utf8(blob.stdout).unwrap().trim().to_string();
    let present = |b: &str| {
        Command::new("git")
            .args(["cat-file", "-e", b])
            .current_dir(&dir)
            .env("GIT_NO_LAZY_FETCH", "1")
            .status()
            .unwrap()
            .success()
    };
    assert!(!present(&blob));
    let o = run_bounded(&dir, &["check", "--format", "json", "--diff-base", "HEAD~1"], false);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(triples(&o), vec![t("debugger-statement", "app/views.py", 2)]);
    assert!(!present(&blob), "preflight made git fetch from the remote");
}
