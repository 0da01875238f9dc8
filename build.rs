//! Compiles `rules/*.toml` into a static rule catalogue (`$OUT_DIR/rules.rs`).
//!
//! The build fails, with the offending file named, when a rule lacks a required doc section,
//! when two rules share an id, when a rule has no `fixtures/<id>/` or no `src/rules/<id>.rs`:
//! every rule is documented, tested and implemented, or the crate does not build.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    id: String,
    name: String,
    level: String,
    summary: String,
    checklist: String,
    languages: Vec<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    cwe: Vec<String>,
    precision: String,
    #[serde(default)]
    security_severity: Option<String>,
    since: String,
    docs: Docs,
    /// The rule's snippet cases (`tests/snippets.rs` runs them; not compiled in).
    #[serde(default, rename = "case")]
    _case: Vec<toml::Value>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Docs {
    what: String,
    why: String,
    example: String,
    use_instead: String,
    #[serde(default)]
    references: Vec<String>,
}

/// `rules/checklist/deployment.toml`: the pre-deployment checklist, by section.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Checklist {
    section: Vec<Section>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Section {
    // The section's id in the file: for its readers, not compiled in.
    #[serde(rename = "id")]
    _id: String,
    name: String,
    name_ru: String,
    item: Vec<Item>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Item {
    name: String,
    name_ru: String,
    #[serde(default)]
    human: Option<String>,
}

fn fail(msg: String) -> ! {
    eprintln!("error: {msg}");
    std::process::exit(1);
}

/// A digest of everything the binary is built from (`src/`, `rules/`, `build.rs`, `Cargo.toml`,
/// `Cargo.lock`): the run cache trusts a result only from a binary built from the same sources.
fn build_id() -> String {
    fn collect(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                collect(&p, out);
            } else {
                out.push(p);
            }
        }
    }
    let mut files = vec![Path::new("build.rs").to_path_buf(), "Cargo.toml".into(), "Cargo.lock".into()];
    collect(Path::new("src"), &mut files);
    collect(Path::new("rules"), &mut files);
    files.sort();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for f in files {
        for b in f.to_string_lossy().bytes().chain([0]).chain(std::fs::read(&f).unwrap_or_default()).chain([0]) {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

fn main() {
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=Cargo.lock");
    println!("cargo:rustc-env=PREFLIGHT_BUILD_ID={}", build_id());
    println!("cargo:rerun-if-changed=rules");
    println!("cargo:rerun-if-changed=src/rules");
    println!("cargo:rerun-if-changed=fixtures");
    let mut entries: Vec<_> = std::fs::read_dir("rules")
        .unwrap_or_else(|e| fail(format!("rules/: {e}")))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    entries.sort();

    let mut ids = BTreeSet::new();
    // (rule id, checklist item) of every rule, to place each rule on the checklist.
    let mut placed: Vec<(String, String)> = Vec::new();
    let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap();
    let mut mods = String::new();
    let mut make = String::from("/// One instance of every rule, in catalogue order (sorted by id).\npub(crate) fn instantiate() -> Vec<Box<dyn Rule>> {\n    vec![\n");
    let mut out = String::from("pub static RULES: &[RuleMeta] = &[\n");
    for path in &entries {
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| fail(format!("{}: {e}", path.display())));
        let r: RuleFile = toml::from_str(&text).unwrap_or_else(|e| fail(format!("{}: {e}", path.display())));
        let stem = path.file_stem().unwrap().to_string_lossy();
        if stem != r.id {
            fail(format!("{}: id `{}` does not match the file name", path.display(), r.id));
        }
        if !ids.insert(r.id.clone()) {
            fail(format!("duplicate rule id `{}`", r.id));
        }
        for (section, body) in [
            ("what", &r.docs.what),
            ("why", &r.docs.why),
            ("example", &r.docs.example),
            ("use_instead", &r.docs.use_instead),
        ] {
            if body.trim().is_empty() {
                fail(format!("{}: docs.{section} is empty", path.display()));
            }
        }
        placed.push((r.id.clone(), r.checklist.clone()));
        if !matches!(r.level.as_str(), "error" | "warning" | "note") {
            fail(format!("{}: level must be error, warning or note", path.display()));
        }
        if !matches!(r.precision.as_str(), "very-high" | "high" | "medium" | "low") {
            fail(format!("{}: precision must be very-high, high, medium or low", path.display()));
        }
        if !Path::new("fixtures").join(&r.id).is_dir() {
            fail(format!("rule `{}` has no fixtures/{}/", r.id, r.id));
        }
        let snake = r.id.replace('-', "_");
        if !Path::new("src/rules").join(format!("{snake}.rs")).is_file() {
            fail(format!("rule `{}` has no src/rules/{snake}.rs", r.id));
        }
        let file = Path::new(&manifest).join("src/rules").join(format!("{snake}.rs"));
        writeln!(mods, "#[path = {:?}]\npub(crate) mod {snake};", file.display().to_string()).unwrap();
        writeln!(make, "        Box::new({snake}::{}),", r.name).unwrap();
        let level = match r.level.as_str() {
            "error" => "Level::Error",
            "warning" => "Level::Warning",
            _ => "Level::Note",
        };
        writeln!(
            out,
            "    RuleMeta {{ id: {:?}, name: {:?}, level: {level}, summary: {:?}, checklist: {:?}, \
             languages: &{:?}, tags: &{:?}, cwe: &{:?}, precision: {:?}, security_severity: {:?}, \
             since: {:?}, what: {:?}, why: {:?}, example: {:?}, use_instead: {:?}, references: &{:?} }},",
            r.id,
            r.name,
            r.summary.trim(),
            r.checklist,
            r.languages,
            r.tags,
            r.cwe,
            r.precision,
            r.security_severity,
            r.since,
            r.docs.what.trim(),
            r.docs.why.trim(),
            r.docs.example.trim_end(),
            r.docs.use_instead.trim_end(),
            r.docs.references,
        )
        .unwrap();
    }
    out.push_str("];\n");
    make.push_str("    ]\n}\n");
    let dir = std::env::var("OUT_DIR").unwrap();
    std::fs::write(Path::new(&dir).join("rules.rs"), out).unwrap();
    std::fs::write(Path::new(&dir).join("rule_mods.rs"), format!("{mods}\n{make}")).unwrap();
    std::fs::write(Path::new(&dir).join("checklist.rs"), checklist(&placed)).unwrap();
}

/// The checklist as Rust statics; every rule's `checklist` names an item, every item has rules
/// or says how a human checks it.
fn checklist(placed: &[(String, String)]) -> String {
    let path = Path::new("rules/checklist/deployment.toml");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| fail(format!("{}: {e}", path.display())));
    let list: Checklist = toml::from_str(&text).unwrap_or_else(|e| fail(format!("{}: {e}", path.display())));
    let mut out = String::from("pub(crate) static CHECKLIST: &[ChecklistSection] = &[\n");
    let mut names = BTreeSet::new();
    for s in &list.section {
        writeln!(out, "    ChecklistSection {{ name: {:?}, name_ru: {:?}, items: &[", s.name, s.name_ru).unwrap();
        for i in &s.item {
            if !names.insert(i.name.clone()) {
                fail(format!("{}: item `{}` is listed twice", path.display(), i.name));
            }
            let rules: Vec<&str> = placed.iter().filter(|(_, c)| *c == i.name).map(|(id, _)| id.as_str()).collect();
            if rules.is_empty() && i.human.is_none() {
                fail(format!("{}: item `{}` has no rule and no `human` text", path.display(), i.name));
            }
            writeln!(
                out,
                "        ChecklistItem {{ name: {:?}, name_ru: {:?}, rules: &{:?}, human: {:?} }},",
                i.name, i.name_ru, rules, i.human
            )
            .unwrap();
        }
        out.push_str("    ] },\n");
    }
    out.push_str("];\n");
    for (id, item) in placed {
        if !names.contains(item) {
            fail(format!("rule `{id}`: checklist item `{item}` is not in {}", path.display()));
        }
    }
    out
}
