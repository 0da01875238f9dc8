//! The rules' side of the house: the `Rule` trait every rule implements, what a rule is given
//! (`FileCtx` for a file, `ProjectSink` for the project) and how it reports (`Extra`). The
//! rules themselves are `rules_impl` (`src/rules/`, one module per `rules/<id>.toml`).

use crate::catalog::RuleMeta;
use crate::classify::FileClass;
use crate::config::Config;
use crate::finding::Finding;
use crate::level::Level;
use crate::project::{Needs, Project};
use crate::python::eval::Loc;
use crate::source::SourceFile;

/// The procedural part of a rule. The engine gates each file by language (from the metadata),
/// then `wants` (roles), then the literal `prefilter`; a file is parsed when a rule that passed
/// every gate first asks for its tree (`FileCtx::tree`), once for all rules.
pub(crate) trait Rule: Send + Sync {
    /// The rule's id; must equal the `id` of its `rules/<id>.toml`.
    fn id(&self) -> &'static str;
    /// Literals of which at least one must occur in a file's bytes for `check_file` to run.
    /// Empty means no prefilter.
    fn prefilter(&self) -> &'static [&'static str] {
        &[]
    }
    /// Whether, in a Python file, one of the `prefilter` literals must occur in code (an
    /// identifier outside comments and strings: `lexgate`) for the file to be checked: for rules
    /// that only report code, so a literal in a comment or docstring costs no parse.
    fn prefilter_in_code(&self) -> bool {
        false
    }
    /// Role gate: whether the rule looks at files of this class at all.
    fn wants(&self, _class: &FileClass) -> bool {
        false
    }
    /// The project facts the rule reads (`FileCtx::project`, `check_project`): the project
    /// pass builds only what the selected rules need.
    fn needs(&self) -> Needs {
        Needs::NONE
    }
    /// What `check_file` reads of the project (a part of `needs`): after an edit, the run
    /// cache builds for the rules that check the changed files only what they read there.
    fn file_needs(&self) -> Needs {
        self.needs()
    }
    /// Per-file check; runs in parallel, once per file that passed the gates.
    fn check_file(&self, _ctx: &mut FileCtx<'_>) {}
    /// Project-wide check; runs once, after the project pass.
    fn check_project(&self, _project: &Project, _sink: &mut ProjectSink) {}
    /// Builds what the rule builds once (compiled patterns) ahead of the first file: a run
    /// calls it on a thread of its own while it walks and loads.
    fn warm_up(&self) {}
}

pub(crate) mod rules_impl {
    use super::Rule;
    include!(concat!(env!("OUT_DIR"), "/rule_mods.rs"));
}

/// How a finding departs from its rule's defaults, decided in the call that reports it: a
/// finding is final when created.
#[derive(Default)]
pub(crate) struct Extra {
    /// A level other than the rule's.
    pub level: Option<Level>,
    /// What identifies the finding in its file for the fingerprint, instead of the flagged
    /// line's text (a check id that stays when the line changes).
    pub key: Option<String>,
    /// A snippet other than the flagged line as the file has it.
    pub snippet: Option<Snippet>,
}

/// The snippet a finding shows instead of its flagged line.
pub(crate) enum Snippet {
    /// The flagged line with a known secret masked; clipped to a window around the column when
    /// long.
    Line(String),
    /// A window already cut and masked, with the characters left out before it.
    Window(String, usize),
}

impl Extra {
    fn apply(self, f: &mut Finding) {
        if let Some(level) = self.level {
            f.level = level;
        }
        if self.key.is_some() {
            f.key = self.key;
        }
        match self.snippet {
            Some(Snippet::Line(line)) => f.set_snippet(&line),
            Some(Snippet::Window(window, from)) => {
                f.snippet = window;
                f.snippet_from = from;
            }
            None => {}
        }
    }
}

/// What a per-file check sees: the file (with its parse), the project facts, and where its
/// findings go.
pub(crate) struct FileCtx<'a> {
    pub file: &'a SourceFile,
    pub project: &'a Project,
    pub rule: &'static RuleMeta,
    pub config: &'a Config,
    pub out: &'a mut Vec<Finding>,
}

impl FileCtx<'_> {
    pub(crate) fn tree(&self) -> Option<&tree_sitter::Tree> {
        self.file.tree()
    }

    pub(crate) fn report(&mut self, start: usize, end: usize, message: String) {
        self.out.push(Finding::at(self.rule, self.file, start, end, message));
    }

    /// Reports bytes `start..end` with the departures from the rule's defaults in `extra`.
    pub(crate) fn report_with(&mut self, start: usize, end: usize, message: String, extra: Extra) {
        let mut f = Finding::at(self.rule, self.file, start, end, message);
        extra.apply(&mut f);
        self.out.push(f);
    }
}

/// Collects findings of one project rule.
pub(crate) struct ProjectSink<'a> {
    pub project: &'a Project,
    pub config: &'a Config,
    pub rule: &'static RuleMeta,
    pub out: Vec<Finding>,
    /// Notes for the summary (what the rule left unjudged).
    pub notes: Vec<String>,
}

impl ProjectSink<'_> {
    pub(crate) fn report(&mut self, at: Loc, message: String) {
        self.report_with(at, message, Extra::default());
    }

    /// Reports at `at` with the departures from the rule's defaults in `extra`.
    pub(crate) fn report_with(&mut self, at: Loc, message: String, extra: Extra) {
        let file = self.project.file(at.file);
        let mut f = Finding::at(self.rule, file, at.start, at.end, message);
        extra.apply(&mut f);
        self.out.push(f);
    }

    /// A finding about a whole file that may not be loaded (line 1, no snippet).
    pub(crate) fn report_file(&mut self, rel: &str, message: String) {
        self.out.push(Finding::whole_file(self.rule, rel, message));
    }

    /// Reports what `judge` finds in each production settings root (see
    /// `settings::judge_roots`): each distinct (location, message) once.
    pub(crate) fn report_roots(&mut self, judge: impl FnMut(usize, &crate::python::eval::Env) -> Vec<(Loc, String)>) {
        for (at, message) in crate::django::settings::judge_roots(&self.project.settings, judge) {
            self.report(at, message);
        }
    }

    /// Reports what `judge` finds in the bindings of `names` in each production settings root.
    pub(crate) fn report_setting(
        &mut self,
        names: &[&str],
        judge: impl FnMut(&str, &crate::python::eval::Binding) -> Vec<(Loc, String)>,
    ) {
        for (at, message) in crate::django::settings::judge_setting(&self.project.settings, names, judge) {
            self.report(at, message);
        }
    }
}
