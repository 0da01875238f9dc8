//! The project pass: facts that need more than one file, built before the per-file pass.
//! Today: the Django settings chain and the repository's git index. Project rules report
//! through `ProjectSink`.

use std::collections::HashMap;
use std::sync::Arc;

use crate::classify::FileClass;
use crate::django::settings::SettingsIndex;
use crate::finding::Finding;
use crate::python::eval::Loc;
use crate::registry::RuleMeta;
use crate::source::SourceFile;

pub struct Project {
    /// Files the project pass loaded (settings candidates); `Loc::file` indexes this.
    pub files: Vec<Arc<SourceFile>>,
    pub settings: SettingsIndex,
    /// Every walked file with content, and the empty ones with a name rules and the checklist
    /// ask for (dotenv files, manage.py, models.py, apps.py, package.json), relative to the
    /// report root, with their class. Other empty files are counted, not listed.
    pub walked: Vec<(String, FileClass)>,
    /// Production (not test, tooling, docs or vendored) Python and JS/TS files checked.
    pub production_files: (usize, usize),
    /// Paths git tracks, relative to the report root; `None` outside a git repository.
    pub tracked: Option<Vec<String>>,
    pub by_rel: HashMap<String, usize>,
    /// Field declarations across each app's migrations, and irreversible operation classes.
    pub migrations: crate::django::migrations::FieldHistory,
    /// The migrations a next deploy would apply (each app's leaves), when the run is scoped to
    /// them; `None`: every migration is judged (`--all-migrations`, `--diff-base`).
    pub deploy_migrations: Option<std::collections::HashSet<String>>,
    /// What the project's views give the templates that mark values safe (xss-unsafe-html).
    pub template_contexts: crate::django::html::TemplateContexts,
    /// Models, managers, querysets and serializers of the whole project.
    pub models: crate::django::models::ModelGraph,
    /// The report root (absolute), to read files the walk did not load.
    pub root: Option<std::path::PathBuf>,
}

impl Project {
    pub fn file(&self, idx: usize) -> &SourceFile {
        &self.files[idx]
    }
}

/// Collects findings of one project rule.
pub struct ProjectSink<'a> {
    pub project: &'a Project,
    pub rule: &'static RuleMeta,
    pub out: Vec<Finding>,
    /// Notes for the summary (what the rule left unjudged).
    pub notes: Vec<String>,
}

impl ProjectSink<'_> {
    pub fn report(&mut self, at: Loc, message: String) {
        let file = self.project.file(at.file);
        self.out.push(Finding::at(self.rule, file, at.start, at.end, message));
    }

    /// A finding about a whole file that may not be loaded (line 1, no snippet).
    pub fn report_file(&mut self, rel: &str, message: String) {
        self.out.push(Finding::whole_file(self.rule, rel, message));
    }
}

impl Project {
    /// What the project pass saw, for the checklist report: settings roots and their chains,
    /// apps, models, front-end roots, file counts. `rules_run` are the ids of the rules that ran.
    pub fn facts(&self, rules_run: Vec<&'static str>) -> crate::checklist::Facts {
        use crate::checklist::{Facts, SettingsRoot};
        let name = |rel: &str| rel.rsplit('/').next().unwrap_or(rel).to_string();
        let parent = |rel: &str| rel.rsplit_once('/').map_or(".".to_string(), |(d, _)| d.to_string());
        let mut apps = std::collections::BTreeSet::new();
        let mut frontend_roots = std::collections::BTreeSet::new();
        let mut manage = false;
        for (rel, class) in &self.walked {
            let file = name(rel);
            if class.roles.vendored || rel.split('/').any(|d| d == "node_modules") {
                continue;
            }
            match file.as_str() {
                "manage.py" => manage = true,
                "models.py" | "apps.py" if !class.roles.test => {
                    apps.insert(parent(rel));
                }
                "package.json" => {
                    frontend_roots.insert(parent(rel));
                }
                _ => {}
            }
        }
        let index = &self.settings;
        let settings: Vec<SettingsRoot> = index
            .roots
            .iter()
            .map(|(m, env)| {
                let module = index.module(*m).rel.clone();
                let mut chain: Vec<String> = env.values().map(|b| index.module(b.module).rel.clone()).collect();
                chain.sort();
                chain.dedup();
                chain.retain(|c| *c != module);
                chain.insert(0, module.clone());
                SettingsRoot { module, chain, open: index.open.contains(m) }
            })
            .collect();
        Facts {
            django: manage || !index.modules.is_empty(),
            settings,
            apps: apps.into_iter().collect(),
            models: self.models.models.len(),
            frontend_roots: frontend_roots.into_iter().collect(),
            python_files: self.production_files.0,
            frontend_files: self.production_files.1,
            rules_run,
        }
    }
}
