//! artifact-committed: build output, installed dependencies and runtime data tracked by git,
//! read from the git index (`Project::tracked`). One finding per folder (per file for the
//! single-file kinds), with the file count, the size in the work tree and the fix.

use std::collections::{BTreeMap, BTreeSet};

use crate::project::{Needs, Project};
use crate::registry::{ProjectSink, Rule};
use crate::setup::stmt_text;

pub(crate) struct ArtifactCommitted;

/// Folders that hold test data, samples and documentation: artifacts there are committed on
/// purpose (a `node_modules` fixture of a resolver test, a sample log a parser is tested on).
const DATA_DIRS: &[&str] = &[
    "tests", "test", "__tests__", "fixtures", "__fixtures__", "testdata", "test_data", "testing", "spec", "e2e",
    "cypress", "examples", "example", "samples", "sample", "docs", "doc",
];

/// Folders of vendored third-party code: a library committed with its release build is not the
/// project's build output.
const VENDOR_DIRS: &[&str] =
    &["vendor", "vendors", "third_party", "third-party", "external", "bower_components", "lib", "libs"];

/// Caches and generated output of build and test tools, by folder name: no source lives there
/// (Vite's dependency pre-bundles, Parcel, Turborepo, Next.js, Nuxt, SvelteKit, pytest, mypy,
/// Ruff, tox).
const TOOL_CACHE_DIRS: &[&str] =
    &[".vite", ".parcel-cache", ".turbo", ".next", ".nuxt", ".svelte-kit", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".tox"];

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Kind {
    NodeModules,
    ToolCache,
    FrontendBuild,
    Coverage,
    Bytecode,
    CollectedStatic,
    Log,
    Database,
    RedisDump,
    CeleryBeat,
}

impl Kind {
    fn what(self) -> &'static str {
        match self {
            Kind::NodeModules => "installed npm packages",
            Kind::ToolCache => "a build or test tool's cache or generated output",
            Kind::FrontendBuild => "front-end build output",
            Kind::Coverage => "test coverage reports",
            Kind::Bytecode => "compiled Python bytecode",
            Kind::CollectedStatic => "static files collected by `collectstatic` (STATIC_ROOT)",
            Kind::Log => "log files",
            Kind::Database => "a SQLite database (it may hold user data and password hashes)",
            Kind::RedisDump => "a Redis snapshot (it may hold sessions, cache and queued tasks)",
            Kind::CeleryBeat => "Celery beat's schedule state",
        }
    }

    /// The `.gitignore` line that keeps the artifact out.
    fn ignore_line(self, key: &str) -> String {
        let name = key.rsplit('/').next().unwrap_or(key);
        match self {
            Kind::NodeModules => "node_modules/".into(),
            Kind::ToolCache => format!("{name}/"),
            Kind::Bytecode => "__pycache__/` and `*.py[cod]".into(),
            Kind::Log => "*.log".into(),
            Kind::CeleryBeat => "celerybeat-schedule*".into(),
            Kind::Database | Kind::RedisDump => name.into(),
            Kind::Coverage if name.starts_with(".coverage") => ".coverage*".into(),
            Kind::Coverage => format!("{name}/"),
            Kind::FrontendBuild | Kind::CollectedStatic => format!("/{key}/"),
        }
    }
}

/// A test, fixture, sample or docs folder: `tests`, `unittests`, `api_tests`, `testdata`…
fn is_data_dir(d: &str) -> bool {
    DATA_DIRS.contains(&d) || d.starts_with("test") || d.ends_with("tests") || d.ends_with("_test")
}

fn parts(rel: &str) -> Vec<&str> {
    rel.split('/').collect()
}

fn join(parts: &[&str]) -> String {
    parts.join("/")
}

fn is_hashed_asset(name: &str) -> bool {
    // `main.3f9a2c1b.js`, `index-4f8a1c2e.css`, `app.min.js`, source maps.
    if name.ends_with(".map") || name.ends_with(".min.js") || name.ends_with(".min.css") {
        return true;
    }
    let Some((stem, ext)) = name.rsplit_once('.') else { return false };
    if !matches!(ext, "js" | "css" | "mjs") {
        return false;
    }
    stem.rsplit(['.', '-']).next().is_some_and(|h| {
        h.len() >= 8 && h.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') && h.bytes().any(|b| b.is_ascii_digit())
    })
}

fn is_front_source(name: &str) -> bool {
    let source = [".ts", ".tsx", ".jsx", ".vue", ".svelte", ".py", ".scss", ".sass", ".less"];
    (source.iter().any(|e| name.ends_with(e)) && !name.ends_with(".d.ts")) || name == "package.json"
}

/// Classifies every tracked path; returns the artifacts by (kind, folder or file).
fn artifacts(tracked: &[String]) -> BTreeMap<(Kind, String), Vec<String>> {
    let set: BTreeSet<&str> = tracked.iter().map(String::as_str).collect();
    let mut out: BTreeMap<(Kind, String), Vec<String>> = BTreeMap::new();
    // dist/ and build/ folders: their files, to judge them as a whole.
    let mut builds: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    // coverage/ folders, likewise: a component folder can be named coverage.
    let mut covs: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for rel in tracked {
        let p = parts(rel);
        let (dirs, name) = p.split_at(p.len() - 1);
        let name = name[0];
        let in_data = |upto: usize| dirs[..upto].iter().any(|d| is_data_dir(d));
        let mut add = |kind: Kind, key: String| out.entry((kind, key)).or_default().push(rel.clone());
        if let Some(i) = dirs.iter().position(|d| *d == "node_modules") {
            if !in_data(i) {
                add(Kind::NodeModules, join(&p[..=i]));
            }
            continue;
        }
        if in_data(dirs.len()) || dirs.iter().any(|d| VENDOR_DIRS.contains(d)) {
            continue;
        }
        if let Some(i) = dirs.iter().position(|d| TOOL_CACHE_DIRS.contains(d)) {
            add(Kind::ToolCache, join(&p[..=i]));
            continue;
        }
        if let Some(i) = dirs.iter().position(|d| *d == "__pycache__") {
            add(Kind::Bytecode, join(&p[..=i]));
            continue;
        }
        if name.ends_with(".pyc") || name.ends_with(".pyo") {
            add(Kind::Bytecode, join(dirs));
            continue;
        }
        if let Some(i) = dirs.iter().position(|d| matches!(*d, "coverage" | "htmlcov" | ".nyc_output")) {
            covs.entry(join(&p[..=i])).or_default().push(rel);
            continue;
        }
        if name == ".coverage" || (name.starts_with(".coverage.") && !name.ends_with(".ini") && !name.ends_with("rc")) {
            add(Kind::Coverage, rel.clone());
            continue;
        }
        if let Some(i) = dirs.iter().position(|d| matches!(*d, "dist" | "build")) {
            builds.entry(join(&p[..=i])).or_default().push(rel);
            continue;
        }
        if let Some(root) = rel.strip_suffix("/admin/js/admin/RelatedObjectLookups.js") {
            // Django's admin static, outside Django's own source: a collectstatic output.
            if !root.ends_with("contrib/admin/static") && set.contains(format!("{root}/admin/css/base.css").as_str()) {
                out.entry((Kind::CollectedStatic, root.to_string())).or_default();
            }
            continue;
        }
        if name.ends_with(".log") && name.len() > 4 {
            add(Kind::Log, join(dirs));
        } else if matches!(name, "db.sqlite3" | "db.sqlite3-journal") {
            add(Kind::Database, rel.clone());
        } else if name == "dump.rdb" {
            add(Kind::RedisDump, rel.clone());
        } else if name == "celerybeat-schedule"
            || name.starts_with("celerybeat-schedule.")
            || name == "celerybeat.pid"
        {
            add(Kind::CeleryBeat, rel.clone());
        }
    }
    for (folder, files) in covs {
        let report = [
            "lcov.info",
            "coverage-final.json",
            "coverage-summary.json",
            "clover.xml",
            "cobertura-coverage.xml",
            "index.html",
            "status.json",
        ];
        let nyc = folder.ends_with(".nyc_output");
        if nyc || files.iter().any(|f| report.contains(&f.rsplit('/').next().unwrap_or(f))) {
            out.insert((Kind::Coverage, folder), files.into_iter().map(str::to_string).collect());
        }
    }
    // A collected static root: every tracked file under it.
    let roots: Vec<String> =
        out.keys().filter(|(k, _)| *k == Kind::CollectedStatic).map(|(_, r)| r.clone()).collect();
    for root in roots {
        let files: Vec<String> = tracked.iter().filter(|r| r.starts_with(&format!("{root}/"))).cloned().collect();
        // Its files were perhaps counted as something else (a hashed asset under a dist/): one
        // finding for the folder is enough.
        out.retain(|(k, key), _| *k == Kind::CollectedStatic || !key.starts_with(&format!("{root}/")));
        builds.retain(|key, _| !key.starts_with(&format!("{root}/")));
        out.insert((Kind::CollectedStatic, root), files);
    }
    // dist/ and build/ of a front end: beside a package.json, holding built assets (an
    // index.html, hashed or minified bundles, source maps) and no source files. A build/
    // folder of webpack scripts (Vue CLI 2) or a Python package named build is source.
    for (folder, files) in builds {
        let parent = folder.rsplit_once('/').map_or("", |(d, _)| d);
        let manifest = if parent.is_empty() { "package.json".to_string() } else { format!("{parent}/package.json") };
        let names = files.iter().map(|f| f.rsplit('/').next().unwrap_or(f));
        let built = names.clone().any(|n| n == "index.html" || n == "asset-manifest.json" || is_hashed_asset(n));
        let source = names.clone().any(is_front_source);
        if set.contains(manifest.as_str()) && built && !source {
            out.insert((Kind::FrontendBuild, folder), files.into_iter().map(str::to_string).collect());
        }
    }
    out
}

/// The path tails the elements of a `STATICFILES_DIRS` statement name, as written: each
/// element's string literals in order, joined (`os.path.join(BASE_DIR, 'project-static',
/// 'dist')`, `BASE_DIR / "frontend" / "build" / "static"`, `f"{BASE_DIR}/assets/dist"` →
/// `project-static/dist`, `frontend/build/static`, `assets/dist`), split into folder names.
/// What the base (`BASE_DIR`) is stays unknown: the caller matches the tail's end.
fn static_dirs_tails(stmt: &str) -> Vec<Vec<String>> {
    let Some(open) = stmt.find(['[', '(']) else { return Vec::new() };
    let body = &stmt[open + 1..];
    let mut tails = Vec::new();
    let mut current = String::new();
    let mut depth = 0i32;
    let b = body.as_bytes();
    let mut i = 0;
    let flush = |current: &mut String, tails: &mut Vec<Vec<String>>| {
        let parts: Vec<String> =
            current.split('/').filter(|p| !p.is_empty() && *p != ".").map(str::to_string).collect();
        if !parts.is_empty() {
            tails.push(parts);
        }
        current.clear();
    };
    while i < b.len() {
        match b[i] {
            q @ (b'"' | b'\'') => {
                let start = i + 1;
                let mut j = start;
                while j < b.len() && b[j] != q && b[j] != b'\n' {
                    j += if b[j] == b'\\' { 2 } else { 1 };
                }
                let lit = body.get(start..j.min(b.len())).unwrap_or("");
                // An f-string's `{BASE_DIR}` is the unknown base.
                let mut plain = String::new();
                let mut in_brace = false;
                for c in lit.chars() {
                    match c {
                        '{' => in_brace = true,
                        '}' => in_brace = false,
                        c if !in_brace => plain.push(c),
                        _ => {}
                    }
                }
                current.push('/');
                current.push_str(&plain);
                i = j + 1;
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                i += 1;
            }
            b')' | b']' | b'}' => {
                depth -= 1;
                if depth < 0 {
                    break;
                }
                i += 1;
            }
            b',' if depth == 0 => {
                flush(&mut current, &mut tails);
                i += 1;
            }
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    flush(&mut current, &mut tails);
    tails
}

/// Whether the build folder `folder` is one that a production settings module in `settings_rel`
/// serves through `STATICFILES_DIRS` (the folder, or a folder inside it): a tail whose first
/// names end the folder's path, the rest of the path above them being a folder that holds the
/// settings module (where `BASE_DIR` points).
fn served(folder: &str, settings_rel: &str, tails: &[Vec<String>]) -> bool {
    let f: Vec<&str> = folder.split('/').collect();
    let settings_dir = settings_rel.rsplit_once('/').map_or("", |(d, _)| d);
    tails.iter().any(|t| {
        (1..=t.len().min(f.len())).any(|k| {
            let (base, end) = f.split_at(f.len() - k);
            let base = base.join("/");
            end.iter().zip(&t[..k]).all(|(a, b)| a == b)
                && (base.is_empty() || settings_dir == base || settings_dir.starts_with(&format!("{base}/")))
        })
    })
}

fn human_size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MB", b as f64 / f64::from(1 << 20)),
        b if b >= 1 << 10 => format!("{:.1} KB", b as f64 / 1024.0),
        b => format!("{b} bytes"),
    }
}

impl Rule for ArtifactCommitted {
    fn id(&self) -> &'static str {
        "artifact-committed"
    }

    fn needs(&self) -> Needs {
        Needs::SETTINGS
    }

    fn check_project(&self, project: &Project, sink: &mut ProjectSink) {
        let Some(tracked) = &project.tracked else { return };
        // The folders production settings serve as static sources (STATICFILES_DIRS): a build
        // committed there is the distribution, what `collectstatic` copies at deploy time.
        let static_dirs: Vec<(&str, Vec<Vec<String>>)> = project
            .settings
            .roots
            .iter()
            .filter_map(|(root, env)| {
                let b = env.get("STATICFILES_DIRS")?;
                Some((project.settings.module(*root).rel.as_str(), static_dirs_tails(stmt_text(project, b.at))))
            })
            .collect();
        for ((kind, key), files) in artifacts(tracked) {
            if kind == Kind::FrontendBuild && static_dirs.iter().any(|(rel, tails)| served(&key, rel, tails)) {
                continue;
            }
            // Sizes as the work tree holds them; a file deleted there counts as 0.
            let size: u64 = project.root.as_deref().map_or(0, |root| {
                files.iter().filter_map(|f| project.metadata(&root.join(f))).map(|(_, len)| len).sum()
            });
            let ignore = kind.ignore_line(&key);
            let msg = if !(files.len() == 1 && files[0] == key) {
                let n = files.len();
                let s = if n == 1 { "" } else { "s" };
                format!(
                    "`{key}/` is committed: {n} file{s}, {}, of {}: remove it from git with \
                     `git rm -r --cached {key}` and add `{ignore}` to .gitignore",
                    human_size(size),
                    kind.what()
                )
            } else {
                format!(
                    "`{key}` is committed ({}): {}: remove it from git with `git rm --cached {key}` and add \
                     `{ignore}` to .gitignore",
                    human_size(size),
                    kind.what()
                )
            };
            sink.report_file(&key, msg);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_dirs_name_their_tails() {
        let t = static_dirs_tails(
            "STATICFILES_DIRS = (\n    os.path.join(BASE_DIR, 'project-static', 'dist'),\n    # a comment, 'x'\n    \
             BASE_DIR / \"frontend\" / \"build\" / \"static\",\n    f\"{BASE_DIR}/assets/dist/\",\n    \
             ('docs', DOCS_ROOT),\n    str(APPS_DIR / 'static'),\n)",
        );
        let t: Vec<String> = t.iter().map(|p| p.join("/")).collect();
        assert_eq!(t, ["project-static/dist", "frontend/build/static", "assets/dist", "docs", "static"]);
        let tails = static_dirs_tails("STATICFILES_DIRS = [BASE_DIR / 'frontend' / 'build' / 'static']");
        assert!(served("frontend/build", "config/settings.py", &tails));
        assert!(!served("admin/build", "config/settings.py", &tails));
        let tails = static_dirs_tails("STATICFILES_DIRS = [os.path.join(BASE_DIR, 'project-static', 'dist')]");
        assert!(served("netbox/project-static/dist", "netbox/netbox/settings.py", &tails));
        // BASE_DIR holds the settings module: a same-named folder elsewhere is not the one.
        assert!(!served("other/project-static/dist", "netbox/netbox/settings.py", &tails));
    }

    #[test]
    fn hashed_assets() {
        assert!(is_hashed_asset("main.3f9a2c1b.js"));
        assert!(is_hashed_asset("index-4f8a1c2e.css"));
        assert!(is_hashed_asset("vendor.min.js"));
        assert!(!is_hashed_asset("webpack.base.conf.js"));
        assert!(!is_hashed_asset("build.js"));
        assert!(!is_hashed_asset("check-versions.js"));
    }
}
