//! The project pass: facts that need more than one file, built before the per-file pass.
//! Today: the Django settings chain and the repository's git index. Project rules report
//! through `ProjectSink`.

use std::collections::HashMap;
use std::sync::Arc;

use crate::classify::FileClass;
use crate::finding::Finding;
use crate::registry::RuleMeta;
use crate::settings::{Loc, SettingsIndex};
use crate::source::SourceFile;

pub struct Project {
    /// Files the project pass loaded (settings candidates); `Loc::file` indexes this.
    pub files: Vec<Arc<SourceFile>>,
    pub settings: SettingsIndex,
    /// Every walked file, relative to the report root, with its class.
    pub walked: Vec<(String, FileClass)>,
    /// Paths git tracks, relative to the report root; `None` outside a git repository.
    pub tracked: Option<Vec<String>>,
    pub by_rel: HashMap<String, usize>,
    /// Field declarations across each app's migrations, and irreversible operation classes.
    pub migrations: crate::migrations::FieldHistory,
    /// The migrations a next deploy would apply (each app's leaves), when the run is scoped to
    /// them; `None`: every migration is judged (`--all-migrations`, `--diff-base`).
    pub deploy_migrations: Option<std::collections::HashSet<String>>,
    /// What the project's views give the templates that mark values safe (xss-unsafe-html).
    pub template_contexts: crate::registry::rules_impl::xss_unsafe_html::TemplateContexts,
    /// Models, managers, querysets and serializers of the whole project.
    pub models: crate::models::ModelGraph,
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
