//! The entry point shared by the fuzz targets (`fuzz/`) and the property tests
//! (`tests/properties.rs`): arbitrary bytes become a file of a chosen kind, go through
//! classification, decoding, prefilters, parsing, every rule and every reporter, and the result
//! is checked against the invariants every run must keep.

use std::path::Path;

use crate::catalog::RULES;
use crate::config::{Config, RawConfig};
use crate::engine::{run_in_memory, Outcome};
use crate::report;

/// Names a Python input is checked under: each role the classifier knows.
pub const PYTHON_NAMES: &[&str] = &[
    "app/views.py",
    "project/settings.py",
    "project/settings/production.py",
    "project/settings/dev.py",
    "shop/migrations/0002_auto.py",
    "shop/models.py",
    "shop/tests/test_views.py",
    "manage.py",
];

/// Names a JS/TS input is checked under: each grammar, production and test.
pub const JS_NAMES: &[&str] = &[
    "src/App.tsx",
    "src/api/client.ts",
    "src/components/List.jsx",
    "src/index.js",
    "src/util.mjs",
    "src/legacy.cjs",
    "src/App.test.tsx",
    "vite.config.ts",
];

/// Names of the other text kinds: dotenv files, templates, config and plain text.
pub const OTHER_NAMES: &[&str] = &[
    ".env",
    ".env.production",
    ".env.example",
    "templates/base.html",
    "deploy/config.yml",
    "package.json",
    "Dockerfile",
    "notes.txt",
];

/// The names a fuzz target (by its name) checks its inputs under.
pub fn names_for_target(target: &str) -> &'static [&'static str] {
    match target {
        "python_file" => PYTHON_NAMES,
        "js_file" => JS_NAMES,
        _ => OTHER_NAMES,
    }
}

/// Checks `data[1..]` as the file named by `names[data[0] % names.len()]`. Panics when an
/// invariant breaks, which is what a fuzzer reports.
pub fn check(names: &[&str], data: &[u8]) -> Outcome {
    let Some((&pick, content)) = data.split_first() else {
        return check_files(vec![(names[0].to_string(), Vec::new())]);
    };
    let name = names[usize::from(pick) % names.len()];
    check_files(vec![(name.to_string(), content.to_vec())])
}

/// Runs every rule over in-memory files and asserts the output invariants.
pub fn check_files(files: Vec<(String, Vec<u8>)>) -> Outcome {
    let config = Config::from_raw(RawConfig::default(), None).expect("default config");
    let selected = vec![true; RULES.len()];
    let sizes: Vec<(String, usize)> = files.iter().map(|(n, b)| (n.clone(), b.len())).collect();
    let outcome = run_in_memory(files, &config, &selected);
    for f in &outcome.findings {
        let (_, size) = sizes.iter().find(|(n, _)| *n == f.path).expect("finding on a given file");
        assert!(f.line >= 1 && f.col >= 1, "1-based position: {f:?}");
        assert!((f.end_line, f.end_col) >= (f.line, f.col), "span ends before it starts: {f:?}");
        assert!(f.line <= size + 1, "line past the end of the file: {f:?}");
        assert!(!f.message.is_empty() && !f.fingerprint.is_empty());
    }
    let text = report::text::findings(&outcome, &report::text::Style { color: false });
    assert!(!text.chars().any(|c| c.is_control() && c != '\n' && c != '\t'), "control character in text output");
    let json = report::json::render(&outcome.findings);
    serde_json::from_str::<serde_json::Value>(&json).expect("JSON output parses");
    let sarif = report::sarif::render(&outcome, Path::new("/fuzz"), &Default::default());
    serde_json::from_str::<serde_json::Value>(&sarif).expect("SARIF output parses");
    outcome
}

/// Folders a generated repository puts its entries in: the places where roles change (settings,
/// migrations, front end, tests, vendored and skipped folders, git's own folder).
const REPO_DIRS: &[&str] = &[
    "",
    "app/",
    "config/settings/",
    "shop/migrations/",
    "frontend/src/",
    "app/tests/",
    "node_modules/lib/",
    "static/js/",
    ".git/",
    "sub/deeper/",
];

/// Names an entry may take; the fuzzer may also spell a name of its own, in any bytes.
const REPO_NAMES: &[&str] = &[
    "settings.py",
    "production.py",
    "base.py",
    "dev.py",
    "views.py",
    "models.py",
    "serializers.py",
    "0002_auto.py",
    "App.tsx",
    "index.js",
    ".env",
    ".env.production",
    ".gitignore",
    ".ignore",
    "preflight.toml",
    "pyproject.toml",
    "HEAD",
    "index",
    "config",
    "manage.py",
    "base.html",
    "Dockerfile",
];

/// Reads generated-repository instructions from fuzz bytes.
struct Bytes<'a>(&'a [u8]);

impl<'a> Bytes<'a> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }

    fn take(&mut self, n: usize) -> &'a [u8] {
        let (a, b) = self.0.split_at(n.min(self.0.len()));
        self.0 = b;
        a
    }
}

/// Builds a repository on disk from `data` (files with any names and bytes, symlinks into the
/// tree, out of it, to devices and in loops, sockets, configs, ignore files and a `.git`), runs
/// the whole pipeline over it (config load, walk, project pass, every rule, every reporter), once
/// as a whole-tree scan on one and on two threads and once as a pre-commit run naming files, and
/// checks the invariants: no panic, outputs that parse, the same output on any thread count.
/// Unix only (symlinks and sockets).
#[cfg(unix)]
pub fn check_repo(data: &[u8]) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static RUN: AtomicUsize = AtomicUsize::new(0);
    let base = if Path::new("/dev/shm").is_dir() { std::path::PathBuf::from("/dev/shm") } else { std::env::temp_dir() };
    let dir = base.join(format!("preflight-fuzz-{}-{}", std::process::id(), RUN.fetch_add(1, Ordering::Relaxed)));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("fuzz folder");
    let named = build_repo(&dir, data);
    check_tree(&dir, &named);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Lays out the entries `data` describes under `dir`; returns the regular files made, for the
/// pre-commit run.
#[cfg(unix)]
fn build_repo(dir: &Path, data: &[u8]) -> Vec<std::path::PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    let mut input = Bytes(data);
    let mut files = Vec::new();
    let mut made: Vec<std::path::PathBuf> = Vec::new();
    for _ in 0..24 {
        let (Some(op), Some(d), Some(n)) = (input.byte(), input.byte(), input.byte()) else { break };
        let folder = dir.join(REPO_DIRS[usize::from(d) % REPO_DIRS.len()]);
        let name: std::ffi::OsString = if n < 0xe0 {
            REPO_NAMES[usize::from(n) % REPO_NAMES.len()].into()
        } else {
            // A name of the fuzzer's own: any bytes but `/` and NUL, never `.` or `..`.
            let raw: Vec<u8> =
                input.take(usize::from(n - 0xdf)).iter().copied().filter(|&b| b != b'/' && b != 0).collect();
            if raw.is_empty() || raw == b"." || raw == b".." {
                continue;
            }
            std::ffi::OsStr::from_bytes(&raw).to_os_string()
        };
        let path = folder.join(&name);
        let _ = std::fs::create_dir_all(&folder);
        let len = input.byte().map_or(0, |a| usize::from(a) * 16 + usize::from(input.byte().unwrap_or(0) % 16));
        let content = input.take(len);
        let made_ok = match op % 10 {
            0..=4 => std::fs::write(&path, content).is_ok(),
            5 => match made.get(usize::from(op) % made.len().max(1)) {
                Some(target) => std::os::unix::fs::symlink(target, &path).is_ok(),
                None => false,
            },
            6 => std::os::unix::fs::symlink("..", &path).is_ok(),
            7 => {
                const OUTSIDE: &[&str] =
                    &["/etc/hostname", "/nonexistent/x", "/dev/null", "/dev/zero", "/proc/self/mem"];
                std::os::unix::fs::symlink(OUTSIDE[usize::from(op / 10) % OUTSIDE.len()], &path).is_ok()
            }
            8 => std::os::unix::net::UnixListener::bind(&path).is_ok(),
            _ => {
                // A folder: later entries may land in it through a name of the fuzzer's own.
                std::fs::create_dir_all(&path).is_ok()
            }
        };
        if made_ok {
            if op % 10 <= 4 {
                files.push(path.clone());
            }
            made.push(path);
        }
    }
    files.sort();
    files.truncate(3);
    files
}

/// Runs the pipeline as the command line does and checks the invariants.
#[cfg(unix)]
fn check_tree(dir: &Path, named: &[std::path::PathBuf]) {
    use crate::engine::run;
    // A config the fuzzer wrote may be refused: that is a clean error, and the end of the run.
    let Ok((scan, cfg_root)) = crate::cli::build_scan(&[dir.to_path_buf()], dir) else { return };
    let Ok(config) = Config::load(&cfg_root) else { return };
    let Ok(selected) = crate::cli::selection(&[], &[], &config) else { return };
    let one = run(&scan, &config, &selected, 1).expect("a walk of an existing folder runs");
    let two = run(&scan, &config, &selected, 2).expect("a walk of an existing folder runs");
    let json = report::json::render(&one.findings);
    assert_eq!(json, report::json::render(&two.findings), "output depends on the thread count");
    assert_eq!(one.notes, two.notes, "notes depend on the thread count");
    check_reports(&one, dir);
    if !named.is_empty() {
        if let Ok((scan, _)) = crate::cli::build_scan(named, dir) {
            if let Ok(outcome) = run(&scan, &config, &selected, 2) {
                check_reports(&outcome, dir);
            }
        }
    }
}

/// Every reporter renders the outcome, and the machine formats parse.
#[cfg(unix)]
fn check_reports(outcome: &Outcome, root: &Path) {
    for f in &outcome.findings {
        assert!(f.line >= 1 && f.col >= 1, "1-based position: {f:?}");
        assert!((f.end_line, f.end_col) >= (f.line, f.col), "span ends before it starts: {f:?}");
        assert!(!f.message.is_empty() && !f.fingerprint.is_empty());
    }
    let text = report::text::findings(outcome, &report::text::Style { color: false });
    assert!(!text.chars().any(|c| c.is_control() && c != '\n' && c != '\t'), "control character in text output");
    let _ = report::text::summary(outcome, &report::text::Style { color: false });
    serde_json::from_str::<serde_json::Value>(&report::json::render(&outcome.findings)).expect("JSON output parses");
    let sarif = report::sarif::render(outcome, root, &Default::default());
    serde_json::from_str::<serde_json::Value>(&sarif).expect("SARIF output parses");
    let _ = report::github::render(&outcome.findings);
    let _ = report::markdown::render(outcome);
    let _ = report::checklist::render(outcome);
    let html = report::html::render(outcome);
    // A tab is whitespace in HTML and XML (a file name may hold one); every other control
    // character must have been escaped.
    if let Some((i, c)) = html.char_indices().find(|&(_, c)| c.is_control() && c != '\n' && c != '\t') {
        panic!(
            "control character {c:?} in the HTML report: {:?}",
            &html[i.saturating_sub(200)..(i + 50).min(html.len())]
        );
    }
    serde_json::from_str::<serde_json::Value>(&report::gitlab::render(&outcome.findings))
        .expect("GitLab report parses");
    let junit = report::junit::render(&outcome.findings);
    assert!(!junit.chars().any(|c| c.is_control() && c != '\n' && c != '\t'), "control character in JUnit XML");
}
