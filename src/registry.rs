//! The rule catalogue: metadata compiled from `rules/*.toml` by `build.rs`, and the `Rule` trait
//! every rule implements. The catalogue is sorted by id; a rule's index in it is its SARIF
//! `ruleIndex` and its bit in the engine's selection mask.

use crate::classify::FileClass;
use crate::engine::FileCtx;
use crate::finding::Level;
use crate::project::{Project, ProjectSink};

/// Everything about a rule that is data: identity, level, documentation.
#[derive(Debug)]
pub struct RuleMeta {
    pub id: &'static str,
    pub name: &'static str,
    pub level: Level,
    pub summary: &'static str,
    pub checklist: &'static str,
    pub languages: &'static [&'static str],
    pub tags: &'static [&'static str],
    pub cwe: &'static [&'static str],
    pub precision: &'static str,
    pub security_severity: Option<&'static str>,
    pub since: &'static str,
    pub what: &'static str,
    pub why: &'static str,
    pub example: &'static str,
    pub use_instead: &'static str,
    pub references: &'static [&'static str],
}

include!(concat!(env!("OUT_DIR"), "/rules.rs"));

/// The procedural part of a rule. The engine gates each file by language (from the metadata),
/// then `wants` (roles), then the literal `prefilter`, and parses only when a rule that passed
/// all gates says `needs_tree`.
pub trait Rule: Send + Sync {
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
    /// Whether `check_file` reads the syntax tree.
    fn needs_tree(&self) -> bool {
        false
    }
    /// Per-file check; runs in parallel, once per file that passed the gates.
    fn check_file(&self, _ctx: &mut FileCtx<'_>) {}
    /// Project-wide check; runs once, after the project pass.
    fn check_project(&self, _project: &Project, _sink: &mut ProjectSink) {}
    /// Builds what the rule builds once (compiled patterns) ahead of the first file: a run
    /// calls it on a thread of its own while it walks and loads.
    fn warm_up(&self) {}
}

pub mod rules_impl {
    use super::Rule;
    include!(concat!(env!("OUT_DIR"), "/rule_mods.rs"));
}

/// Looks a rule up by id.
pub fn meta(id: &str) -> Option<&'static RuleMeta> {
    RULES.iter().find(|r| r.id == id)
}

/// The catalogue index of a rule id. Panics on an unknown id: ids come from the catalogue.
pub fn index_of(id: &str) -> usize {
    RULES.iter().position(|r| r.id == id).unwrap_or_else(|| panic!("unknown rule id {id}"))
}
