//! Shared evidence for the project-level "is it set up at all" rules (caching, logging, error
//! tracking, health check): the modules of a resolved production settings chain and their text,
//! whether a chain can be judged, and bounded reads of other project files.
//!
//! These rules stay silent when the analysis cannot be sure: a chain that star-imports a module
//! the repository does not hold (`try: from .local import *`) or that assembles itself with
//! django-split-settings may get anything from elsewhere.

use crate::project::Project;
use crate::python::eval::{Env, Loc};

/// Files larger than this are not read for evidence (a generated bundle says nothing here).
pub(crate) const MAX_EVIDENCE_BYTES: u64 = 1 << 20;

/// The module indexes of a production root's chain: the root and every module that made one of
/// its final bindings, sorted.
pub(crate) fn chain_modules(root: usize, env: &Env) -> Vec<usize> {
    let mut mods: Vec<usize> = env.values().map(|b| b.module).collect();
    mods.push(root);
    mods.sort_unstable();
    mods.dedup();
    mods
}

/// The texts of a production root's chain modules.
pub(crate) fn chain_texts<'a>(project: &'a Project, root: usize, env: &Env) -> Vec<&'a str> {
    let idx = &project.settings;
    chain_modules(root, env).into_iter().map(|m| project.file(idx.module(m).file).text.as_str()).collect()
}

/// Whether a root's chain can be judged for a setting it leaves unset: not open to a module the
/// repository does not hold, not assembled by django-split-settings' `include()`.
/// A production root whose file is named as a test, example or template configuration (`smoketest_settings.py`,
/// `configuration_example.py`, `settings.sample.py`) is a file a deployment copies or a CI job
/// uses, not the settings a deployment runs: it is not judged.
pub(crate) fn judgeable(project: &Project, root: usize, env: &Env) -> bool {
    !crate::django::settings::is_stand_in(&project.settings.module(root).rel)
        && !project.settings.open.contains(&root)
        && !chain_texts(project, root, env).iter().any(|t| t.contains("split_settings") || t.contains("importlib"))
}

/// The first line of a production root module, where a finding about what its chain lacks goes.
pub(crate) fn root_line(project: &Project, root: usize) -> Loc {
    let module = project.settings.module(root);
    let text = &project.file(module.file).text;
    Loc { file: module.file, start: 0, end: text.find('\n').unwrap_or(text.len()) }
}

/// The source text of a binding's statement.
pub(crate) fn stmt_text(project: &Project, at: Loc) -> &str {
    project.file(at.file).text.get(at.start..at.end).unwrap_or("")
}

/// Reads a project file (relative to the report root) for evidence; `None` when it is missing,
/// too large or not a regular file.
pub(crate) fn read_rel(project: &Project, rel: &str) -> Option<String> {
    // Texts the project holds: the read is recorded for the run cache like a read from disk
    // (the rule may not need the part that holds them).
    if let Some(&i) = project.by_rel.get(rel) {
        project.note_read(rel);
        return Some(project.file(i).text.clone());
    }
    if let Some(text) = project.sources.get(rel) {
        project.note_read(rel);
        return Some(text.clone());
    }
    let path = project.root.as_ref()?.join(rel);
    let bytes = project.read(&path, MAX_EVIDENCE_BYTES, false)?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// The production Python files the walk saw (tests, docs, vendored code, migrations and dev/test
/// settings modules left out), relative to the report root.
pub(crate) fn production_python(project: &Project) -> impl Iterator<Item = &str> {
    project
        .walked
        .iter()
        .filter(|(_, c)| {
            c.lang == crate::classify::Lang::Python
                && c.is_production()
                && !c.roles.migration
                && !c.roles.dev_settings_name
        })
        .map(|(rel, _)| rel.as_str())
}

/// Whether a file belongs to the Django project in `dir`: it is inside `dir`, or inside no other
/// Django project's folder (a `deploy/nginx/` beside `backend/` serves the backend).
pub(crate) fn belongs_to(project: &Project, rel: &str, dir: &str) -> bool {
    let under = |d: &str| d.is_empty() || rel.strip_prefix(d).is_some_and(|r| r.starts_with('/'));
    under(dir)
        || !project
            .walked
            .iter()
            .filter_map(|(r, _)| r.strip_suffix("/manage.py"))
            .any(|other| other != dir && under(other))
}

/// The folder of the Django project a production root belongs to: the nearest folder above the
/// settings module that holds a `manage.py`, or the report root (`""`).
pub(crate) fn project_dir(project: &Project, root: usize) -> String {
    let rel = &project.settings.module(root).rel;
    let manages: std::collections::HashSet<&str> = project
        .walked
        .iter()
        .filter_map(|(r, _)| if r == "manage.py" { Some("") } else { r.strip_suffix("/manage.py") })
        .collect();
    let mut dir = rel.as_str();
    while let Some((up, _)) = dir.rsplit_once('/') {
        if manages.contains(up) {
            return up.to_string();
        }
        dir = up;
    }
    String::new()
}

/// Whether a production Python file of the Django project in `dir` (or at the top of the
/// repository, where `gunicorn.conf.py` lives) holds one of `needles`; files are read from disk
/// when the project pass did not load them, and an unreadable file is no evidence.
pub(crate) fn any_python_holds(project: &Project, dir: &str, needles: &[&str]) -> bool {
    let pattern = needles.iter().map(|n| regex::escape(n)).collect::<Vec<_>>().join("|");
    let re = regex::bytes::Regex::new(&pattern).ok().filter(|_| !needles.is_empty());
    production_python(project)
        .filter(|rel| dir.is_empty() || !rel.contains('/') || rel.strip_prefix(dir).is_some_and(|r| r.starts_with('/')))
        .any(|rel| holds_any(project, rel, re.as_ref()))
}

/// Whether the file at `rel` matches `re` (one of the needles): a yes-or-no
/// question of a file the project does not hold (`Project::read_matches`, recorded as such for
/// the run cache), else a read.
pub(crate) fn holds_any(project: &Project, rel: &str, re: Option<&regex::bytes::Regex>) -> bool {
    // A text the project holds is asked the question, not read whole.
    let held = match project.by_rel.get(rel) {
        Some(&i) => Some(project.file(i).text.as_str()),
        None => project.sources.get(rel).map(String::as_str),
    };
    if let Some(text) = held {
        return re.is_some_and(|re| project.held_matches(rel, text, re));
    }
    let (Some(path), Some(re)) = (project.root.as_ref().map(|r| r.join(rel)), re) else { return false };
    project.read_matches(&path, MAX_EVIDENCE_BYTES, re)
}

/// The dependency manifests and process files of the Django project in `dir` and of the
/// repository top (requirements*.txt and requirements/, pyproject.toml, Pipfile, setup.cfg,
/// setup.py, Procfile, Dockerfile*), read from disk.
pub(crate) fn manifests(project: &Project, dir: &str) -> Vec<String> {
    let Some(top) = project.root.as_ref() else { return vec![] };
    let wanted = |name: &str| {
        let n = name.to_ascii_lowercase();
        n.starts_with("requirements")
            || n.starts_with("dockerfile")
            || matches!(n.as_str(), "pyproject.toml" | "pipfile" | "setup.cfg" | "setup.py" | "procfile")
    };
    let mut dirs = vec![String::new()];
    if !dir.is_empty() {
        dirs.push(dir.to_string());
    }
    for d in dirs.clone() {
        dirs.push(if d.is_empty() { "requirements".into() } else { format!("{d}/requirements") });
    }
    let mut out = Vec::new();
    for d in dirs {
        let Some(entries) = project.list_dir(&top.join(&d)) else { continue };
        let names: Vec<String> = entries.into_iter().map(|(n, _)| n).collect();
        for name in names.into_iter().filter(|n| wanted(n) || d.ends_with("requirements")) {
            let rel = if d.is_empty() { name } else { format!("{d}/{name}") };
            out.extend(read_rel(project, &rel));
        }
    }
    out
}

/// Server and build configuration files of the repository (nginx and Apache `.conf`, Caddyfile,
/// vite/webpack/next configs), found by a bounded walk from disk (depth 5, 20,000 entries;
/// dot folders, `node_modules` and virtualenvs skipped), sorted, with their text. The same in a
/// whole run and when files are named.
pub(crate) fn server_configs(project: &Project) -> Vec<(String, String)> {
    let Some(top) = project.root.as_ref() else { return vec![] };
    let wanted = |n: &str| {
        n.ends_with(".conf")
            || n.ends_with(".conf.template")
            || n.contains("nginx")
            || n == "caddyfile"
            || n.starts_with("vite.config.")
            || n.starts_with("webpack")
            || n.starts_with("next.config.")
    };
    let mut out = Vec::new();
    let mut queue = std::collections::VecDeque::from([(String::new(), 0usize)]);
    let mut seen = 0usize;
    while let Some((dir, depth)) = queue.pop_front() {
        let Some(items) = project.list_dir(&top.join(&dir)) else { continue };
        for (name, is_dir) in items {
            seen += 1;
            if seen > 20_000 {
                return out;
            }
            let rel = if dir.is_empty() { name.clone() } else { format!("{dir}/{name}") };
            let skip_dir = name.starts_with('.')
                || matches!(name.as_str(), "node_modules" | "venv" | "site-packages" | "__pycache__")
                || project.metadata(&top.join(&rel).join("pyvenv.cfg")).is_some();
            if is_dir {
                if depth < 5 && !skip_dir {
                    queue.push_back((rel, depth + 1));
                }
            } else if wanted(&name.to_ascii_lowercase()) {
                if let Some(t) = read_rel(project, &rel) {
                    out.push((rel, t));
                }
            }
        }
    }
    out
}

/// Whether `text` holds `word` with no identifier character on either side.
pub(crate) fn has_word(text: &str, word: &str) -> bool {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    text.match_indices(word).any(|(i, _)| {
        !text[..i].chars().next_back().is_some_and(ident) && !text[i + word.len()..].chars().next().is_some_and(ident)
    })
}

/// For a rule that asks whether the project set something up (an error tracker, metrics):
/// reports `message` on the first line of each production settings root that can be judged and
/// whose project holds none of `in_code` in its production Python and none of `in_manifests`
/// (lower case) in its dependency manifests and process files.
pub(crate) fn report_unless_set_up(
    project: &Project,
    sink: &mut crate::registry::ProjectSink<'_>,
    in_code: &[&str],
    in_manifests: &[&str],
    message: &str,
) {
    sink.report_roots(|root, env| {
        if !judgeable(project, root, env) {
            return vec![];
        }
        let dir = project_dir(project, root);
        let set_up = any_python_holds(project, &dir, in_code)
            || manifests(project, &dir).iter().any(|t| in_manifests.iter().any(|m| t.to_ascii_lowercase().contains(m)));
        if set_up {
            return vec![];
        }
        vec![(root_line(project, root), message.to_string())]
    });
}

#[cfg(test)]
mod tests {
    use super::has_word;

    #[test]
    fn words_are_whole_identifiers() {
        assert!(has_word("CACHES = {}", "CACHES"));
        assert!(has_word("from .cache import CACHES\n", "CACHES"));
        assert!(!has_word("MY_CACHES = {}", "CACHES"));
        assert!(!has_word("CACHES_TTL = 3", "CACHES"));
    }
}
