//! env-file-committed: dotenv files in git's index, or present and not ignored.

use std::collections::BTreeMap;

use crate::classify::{is_dotenv_name, is_dotenv_template, Lang, Roles};
use crate::project::{Needs, Project};
use crate::registry::{ProjectSink, Rule};
use crate::registry::rules_impl::secret_hardcoded::{hits, Place};
use crate::walk::SKIP_DIRS;

pub(crate) struct EnvFileCommitted;

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

    fn needs(&self) -> Needs {
        Needs::SETTINGS
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
            let name = rel.rsplit('/').next().unwrap_or(&rel);
            let local = is_machine_local(&name.to_ascii_lowercase());
            // What the file holds: the keys of its credentials; unreadable, judged by its name.
            let keys = credential_keys(project, &rel);
            if keys.as_ref().is_some_and(Vec::is_empty) && !local {
                continue;
            }
            let held = match keys.as_deref() {
                Some([]) | None => String::new(),
                Some(keys) => {
                    let list = keys.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ");
                    let public: Vec<String> =
                        keys.iter().filter(|k| PUBLIC_PREFIXES.iter().any(|p| k.starts_with(p))).map(|k| format!("`{k}`")).collect();
                    let shipped = match public.as_slice() {
                        [] => String::new(),
                        p => format!("; {} has a public prefix, so the bundler ships it to every browser", p.join(", ")),
                    };
                    format!(" and holds credentials ({list}{shipped})")
                }
            };
            let why = if local && held.is_empty() { " (a machine-local file, never committed by convention)" } else { "" };
            let rotate = match keys.as_deref() {
                Some([]) => String::new(),
                Some(keys) => format!(", and rotate {}", keys.join(", ")),
                None => ", and rotate every value it held".to_string(),
            };
            let msg = match (state, project.tracked.is_some()) {
                (State::Tracked, _) => format!(
                    "`{rel}` is committed to git{why}{held}: remove it with `git rm --cached {rel}`, add `{name}` to \
                     .gitignore, commit a `.env.example` with placeholders{rotate}"
                ),
                (State::Present, true) => format!(
                    "`{rel}` is not ignored by git{why}{held}, so the next `git add .` commits it: add `{name}` to .gitignore"
                ),
                (State::Present, false) => format!(
                    "`{rel}` is in the source tree and not ignored{why}{held}: keep dotenv files out of the repository and \
                     ship a `.env.example` with placeholders"
                ),
            };
            sink.report_file(&rel, msg);
        }
    }
}

/// `.env.local`, `.env.development.local`: by the Vite, Create React App and Next.js
/// conventions, a developer's own overrides, never committed whatever they hold.
fn is_machine_local(name: &str) -> bool {
    name.split('.').any(|p| p == "local")
}

/// A live dotenv file; one in a folder the walk never enters counts only when git tracks it.
fn is_live_dotenv(rel: &str, tracked: bool) -> bool {
    let mut parts = rel.split('/').collect::<Vec<_>>();
    let Some(name) = parts.pop() else { return false };
    let lower = name.to_lowercase();
    is_dotenv_name(&lower) && !is_dotenv_template(&lower) && (tracked || !parts.iter().any(|d| SKIP_DIRS.contains(d)))
}

/// The keys of the credentials a dotenv file holds, as `secret-hardcoded` judges its values
/// (placeholders, references and dev-stack settings are none); `None` when it cannot be read.
fn credential_keys(project: &Project, rel: &str) -> Option<Vec<String>> {
    let root = project.root.as_deref()?;
    // Read safely: a committed `.env` may be a symlink to /dev/zero or a FIFO.
    let bytes = project.read(&root.join(rel), crate::fsread::SMALL_FILE_CAP, true)?;
    let text = String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    let place = Place { lang: Lang::Dotenv, rel, roles: Roles::default(), settings_module: false, judge_context: false };
    let mut keys: Vec<String> = Vec::new();
    for hit in hits(&text, &place) {
        if !keys.contains(&hit.name) {
            keys.push(hit.name);
        }
    }
    Some(keys)
}
