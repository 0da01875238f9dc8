//! The rule catalogue: metadata compiled from `rules/*.toml` by `build.rs`. Data only: the
//! catalogue is sorted by id; a rule's index in it is its SARIF `ruleIndex` and its bit in the
//! engine's selection mask.

use crate::level::Level;

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

/// Looks a rule up by id.
pub fn meta(id: &str) -> Option<&'static RuleMeta> {
    RULES.iter().find(|r| r.id == id)
}

/// The catalogue index of a rule id. Panics on an unknown id: ids come from the catalogue.
pub fn index_of(id: &str) -> usize {
    RULES.iter().position(|r| r.id == id).unwrap_or_else(|| panic!("unknown rule id {id}"))
}
