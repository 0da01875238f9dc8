//! The entry point shared by the fuzz targets (`fuzz/`) and the property tests
//! (`tests/properties.rs`): arbitrary bytes become a file of a chosen kind, go through
//! classification, decoding, prefilters, parsing, every rule and every reporter, and the result
//! is checked against the invariants every run must keep.

use std::path::Path;

use crate::config::{Config, RawConfig};
use crate::engine::{run_in_memory, Outcome};
use crate::registry::RULES;
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
