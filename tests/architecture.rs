//! The layers import one way. Reads `src/` and checks the arrows between modules (a `crate::x`
//! path in a module's non-test code is an arrow to `x`): no cycle, and no arrow from a
//! knowledge layer (`python`, `django`) or from a rule up to what runs or reports them.
//! README.md "Architecture" draws the same picture.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The module a source file belongs to: `src/x.rs` is `x`, anything under `src/x/` is `x`.
fn node_of(rel: &str) -> String {
    match rel.split_once('/') {
        Some((dir, _)) => dir.to_string(),
        None => rel.trim_end_matches(".rs").to_string(),
    }
}

/// The code of a file without its test module and comments.
fn code(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap_or(text);
    text.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n")
}

/// The modules `code` refers to: `crate::x` and `use crate::{x, y}`.
fn targets(code: &str) -> BTreeSet<String> {
    let ident = |s: &str| s.chars().take_while(|c| c.is_ascii_lowercase() || *c == '_').collect::<String>();
    let mut out = BTreeSet::new();
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = group.split('}').next().unwrap_or("");
            out.extend(group.split(',').map(|p| ident(p.trim())).filter(|p| !p.is_empty()));
        } else {
            out.insert(ident(rest));
        }
    }
    out.remove("");
    out
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                files.push(p);
            }
        }
    }
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in files {
        let rel = f.strip_prefix(&src).unwrap().to_string_lossy().replace('\\', "/");
        let node = node_of(&rel);
        if node == "main" || node == "lib" {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap();
        let entry = g.entry(node.clone()).or_default();
        entry.extend(targets(&code(&text)).into_iter().filter(|t| *t != node));
    }
    g
}

/// A cycle through `start`, if any (depth-first over the arrows).
fn cycle(g: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        g: &BTreeMap<String, BTreeSet<String>>,
        n: &str,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == n) {
            let mut c = path[i..].to_vec();
            c.push(n.to_string());
            return Some(c);
        }
        if done.contains(n) {
            return None;
        }
        path.push(n.to_string());
        for t in g.get(n).into_iter().flatten() {
            if let Some(c) = visit(g, t, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(n.to_string());
        None
    }
    let mut done = BTreeSet::new();
    g.keys().find_map(|n| visit(g, n, &mut Vec::new(), &mut done))
}

#[test]
fn the_module_graph_has_no_cycle() {
    let g = graph();
    assert!(g.len() > 20, "read too few modules: {:?}", g.keys());
    assert_eq!(cycle(&g), None, "a cycle between modules");
}

#[test]
fn knowledge_layers_know_nothing_of_rules_or_reporting() {
    let g = graph();
    // What `python` and `django` may use: the syntax layer below them, and `python` for
    // `django`.
    let below = ["budget", "classify", "fsread", "parse", "source", "walk"];
    for (layer, extra) in [("python", vec![]), ("django", vec!["python"])] {
        let uses = &g[layer];
        let outside: Vec<&String> =
            uses.iter().filter(|t| !below.contains(&t.as_str()) && !extra.contains(&t.as_str())).collect();
        assert!(outside.is_empty(), "`{layer}` uses {outside:?}");
    }
}

#[test]
fn rules_do_not_reach_up_to_what_runs_or_reports_them() {
    let g = graph();
    for up in ["engine", "report", "cli", "checklist", "output", "baseline", "fuzzing"] {
        assert!(!g["rules"].contains(up), "a rule uses `{up}`");
        assert!(!g["registry"].contains(up), "the rule API uses `{up}`");
        assert!(!g["project"].contains(up), "the project pass uses `{up}`");
    }
    assert!(!g["project"].contains("registry") && !g["project"].contains("rules"), "the project pass knows rules");
}

#[test]
fn the_checker_sees_arrows_and_cycles() {
    assert_eq!(
        targets("use crate::a::B;\nuse crate::{b, c::D};\nlet x = crate::d::f();"),
        ["a", "b", "c", "d"].iter().map(|s| s.to_string()).collect()
    );
    assert_eq!(code("use crate::a; // crate::b\n#[cfg(test)]\nuse crate::c;"), "use crate::a; ");
    let g: BTreeMap<String, BTreeSet<String>> = [("a", "b"), ("b", "c"), ("c", "a")]
        .iter()
        .map(|(f, t)| (f.to_string(), BTreeSet::from([t.to_string()])))
        .collect();
    assert_eq!(cycle(&g).map(|c| c.len()), Some(4));
}

#[test]
fn the_new_rule_scaffold_writes_the_three_places() {
    let dir = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/new-rule");
    let run = |args: &[&str]| {
        std::process::Command::new("bash").arg(&script).args(args).env("PREFLIGHT_ROOT", dir.path()).output().unwrap()
    };
    assert!(run(&["leftover-marker"]).status.success());
    let read = |p: &str| std::fs::read_to_string(dir.path().join(p)).unwrap();
    // Three places and nothing else.
    let mut top: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    top.sort();
    assert_eq!(top, ["fixtures", "rules", "src"]);
    let meta: toml::Table = read("rules/leftover-marker.toml").parse().unwrap();
    // Every key an existing rule's metadata has, and a checklist item that exists.
    let model: toml::Table =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/todo-fixme.toml"))
            .unwrap()
            .parse()
            .unwrap();
    let keys = |t: &toml::Table| t.keys().cloned().collect::<BTreeSet<_>>();
    assert!(keys(&model).is_subset(&keys(&meta)), "{:?} lacks some of {:?}", keys(&meta), keys(&model));
    let checklist =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/checklist/deployment.toml")).unwrap();
    assert!(checklist.contains(&format!("name = \"{}\"", meta["checklist"].as_str().unwrap())));
    assert!(read("src/rules/leftover_marker.rs").contains("impl Rule for LeftoverMarker {"));
    assert!(read("fixtures/leftover-marker/app.py").contains("# expect: leftover-marker"));
    // The snippet cases, in the rule's file: one where the marker is flagged, one where it is
    // not (the skeleton rule skips test files), in the shape tests/snippets.rs reads.
    let cases = meta["case"].as_array().unwrap();
    let expect = |i: usize| cases[i]["expect"].as_array().unwrap().clone();
    assert_eq!(cases.len(), 2);
    assert_eq!(expect(0), vec![toml::Value::from("app/views.py:1")]);
    assert_eq!(cases[0]["files"]["app/views.py"].as_str(), Some("XXX_LEFTOVER_MARKER = 1\n"));
    assert!(expect(1).is_empty());
    assert_eq!(cases[1]["files"]["app/tests/test_views.py"].as_str(), Some("XXX_LEFTOVER_MARKER = 1\n"));
    // A second run does not overwrite; a bad id is refused.
    assert_eq!(run(&["leftover-marker"]).status.code(), Some(2));
    assert_eq!(run(&["Bad_Id"]).status.code(), Some(2));
}

/// Rules and the knowledge layers read the disk only through `Project` (`read`, `metadata`,
/// `head`, `list_dir`), which records each look for the run cache to take again: a read
/// behind its back would let a cached result outlive a change.
#[test]
fn rules_read_the_disk_only_through_the_project() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut offenders = Vec::new();
    for dir in ["rules", "django", "python"] {
        for e in std::fs::read_dir(src.join(dir)).unwrap().flatten() {
            let text = std::fs::read_to_string(e.path()).unwrap();
            if ["std::fs", "fs::read", "File::open", ".is_file()", ".exists()"].iter().any(|p| code(&text).contains(p))
            {
                offenders.push(e.path());
            }
        }
    }
    let setup = code(&std::fs::read_to_string(src.join("setup.rs")).unwrap());
    if setup.contains("std::fs") {
        offenders.push(src.join("setup.rs"));
    }
    assert!(offenders.is_empty(), "reads the disk itself: {offenders:?}");
}
