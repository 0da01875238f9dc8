//! env-file-committed: dotenv files in git's index, or present and not ignored.

use std::collections::BTreeMap;

use crate::classify::{is_dotenv_name, is_dotenv_template};
use crate::project::{Project, ProjectSink};
use crate::registry::Rule;
use crate::walk::SKIP_DIRS;

pub struct EnvFileCommitted;

/// Variables with these prefixes are compiled into front-end bundles by design.
const PUBLIC_PREFIXES: &[&str] =
    &["VITE_", "REACT_APP_", "NEXT_PUBLIC_", "PUBLIC_", "EXPO_PUBLIC_", "GATSBY_", "VUE_APP_", "NUXT_PUBLIC_"];

#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum State {
    Tracked,
    Present,
}

impl Rule for EnvFileCommitted {
    fn id(&self) -> &'static str {
        "env-file-committed"
    }

    fn check_project(&self, project: &Project, sink: &mut ProjectSink) {
        let mut found: BTreeMap<String, State> = BTreeMap::new();
        if let Some(tracked) = &project.tracked {
            // A committed dotenv file is deployed wherever it is, `node_modules` included.
            for rel in tracked.iter().filter(|r| is_live_dotenv(r, true)) {
                found.insert(rel.clone(), State::Tracked);
            }
        }
        for (rel, _) in project.walked.iter().filter(|(r, _)| is_live_dotenv(r, false)) {
            found.entry(rel.clone()).or_insert(State::Present);
        }
        for (rel, state) in found {
            if only_public_or_empty(project, &rel) {
                continue;
            }
            let name = rel.rsplit('/').next().unwrap_or(&rel);
            let msg = match (state, project.tracked.is_some()) {
                (State::Tracked, _) => format!(
                    "`{rel}` is committed to git: remove it with `git rm --cached {rel}`, add `{name}` to .gitignore, \
                     commit a `.env.example` with placeholders, and rotate every value it held"
                ),
                (State::Present, true) => format!(
                    "`{rel}` is not ignored by git, so the next `git add .` commits it: add `{name}` to .gitignore"
                ),
                (State::Present, false) => format!(
                    "`{rel}` is in the source tree and not ignored: keep dotenv files out of the repository and \
                     ship a `.env.example` with placeholders"
                ),
            };
            sink.report_file(&rel, msg);
        }
    }
}

/// A live dotenv file; one in a folder the walk never enters counts only when git tracks it.
fn is_live_dotenv(rel: &str, tracked: bool) -> bool {
    let mut parts = rel.split('/').collect::<Vec<_>>();
    let Some(name) = parts.pop() else { return false };
    let lower = name.to_lowercase();
    is_dotenv_name(&lower) && !is_dotenv_template(&lower) && (tracked || !parts.iter().any(|d| SKIP_DIRS.contains(d)))
}

/// True when every assignment in the file has a public front-end prefix, or there is none.
/// A file that cannot be read (not a regular file, over 4 MiB) is judged by its name alone.
fn only_public_or_empty(project: &Project, rel: &str) -> bool {
    let Some(root) = project.root.as_deref() else { return false };
    // Read safely: a committed `.env` may be a symlink to /dev/zero or a FIFO.
    let Ok(text) = crate::fsread::read_text_capped(&root.join(rel), crate::fsread::SMALL_FILE_CAP) else {
        return false;
    };
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.strip_prefix("export ").unwrap_or(l).split_once('=').map(|(k, _)| k.trim()))
        .all(|k| PUBLIC_PREFIXES.iter().any(|p| k.starts_with(p)))
}
