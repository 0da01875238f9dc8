//! Property tests over the fuzzing entry point (`preflight::fuzzing`): arbitrary bytes, and
//! fixture files cut and spliced at random, as every kind of file, through classification,
//! decoding, prefilters, parsing, every rule and every reporter. The invariants are asserted
//! inside `fuzzing::check_files`; a panic fails the case. Inputs the fuzzers found are replayed
//! from `tests/fuzz-regressions/<target>/`.

use std::path::Path;

use preflight::fuzzing::{check, check_files, names_for_target};
use proptest::prelude::*;

const NAMES: &[&str] = &[
    "app/views.py",
    "project/settings.py",
    "project/settings/production.py",
    "shop/migrations/0002_auto.py",
    "shop/models.py",
    "src/App.tsx",
    "src/api/client.ts",
    "src/List.jsx",
    "src/index.js",
    ".env",
    ".env.example",
    "templates/base.html",
    "notes.txt",
];

/// Every fixture file, as (name, bytes): realistic material to cut and splice.
fn fixture_files() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(b) = std::fs::read(&p) {
                out.push((p.file_name().unwrap().to_string_lossy().into_owned(), b));
            }
        }
    }
    out.sort();
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_as_any_file(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
        check(NAMES, &data);
    }

    #[test]
    fn source_like_text_as_any_file(kind in 0..NAMES.len(), text in "([a-zA-Z_]{1,8}|[ \t\n\r]|[()\\[\\]{}<>:;,.=+\\-*/'\"`#@!?\\\\]|TODO|console\\.log|DEBUG|SECRET_KEY|os\\.environ|migrations\\.RunPython|\\$\\{|AKIA[A-Z0-9]{16}){0,200}") {
        check_files(vec![(NAMES[kind].to_string(), text.into_bytes())]);
    }

    #[test]
    fn fixtures_cut_and_spliced(
        a in any::<proptest::sample::Index>(),
        b in any::<proptest::sample::Index>(),
        cut_a in any::<proptest::sample::Index>(),
        cut_b in any::<proptest::sample::Index>(),
        kind in 0..NAMES.len(),
    ) {
        let files = fixture_files();
        let (_, x) = &files[a.index(files.len())];
        let (_, y) = &files[b.index(files.len())];
        let mut data = x[..cut_a.index(x.len() + 1)].to_vec();
        data.extend_from_slice(&y[cut_b.index(y.len() + 1)..]);
        check_files(vec![(NAMES[kind].to_string(), data)]);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    /// Whole repositories on disk (names, symlinks, sockets, configs, `.git`), through walk,
    /// project pass, every rule and every reporter, on one and two threads.
    #[cfg(unix)]
    #[test]
    fn arbitrary_repositories(data in proptest::collection::vec(any::<u8>(), 0..4096)) {
        preflight::fuzzing::check_repo(&data);
    }
}

#[test]
fn fuzz_regressions_replay() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-regressions");
    let mut n = 0;
    for target in std::fs::read_dir(&root).unwrap() {
        let target = target.unwrap().path();
        if !target.is_dir() {
            continue;
        }
        let target_name = target.file_name().unwrap().to_str().unwrap().to_string();
        for input in std::fs::read_dir(&target).unwrap() {
            let data = std::fs::read(input.unwrap().path()).unwrap();
            if target_name == "repository" {
                #[cfg(unix)]
                preflight::fuzzing::check_repo(&data);
            } else {
                check(names_for_target(&target_name), &data);
            }
            n += 1;
        }
    }
    assert!(n >= 1, "no regression inputs under {}", root.display());
}
