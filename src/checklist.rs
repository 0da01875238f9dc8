//! The pre-deployment checklist (`rules/checklist/deployment.toml`, compiled in by `build.rs`)
//! and each item's status after a run: passed, failed, needs a human, not applicable, or not
//! checked. Knows nothing of output formats; `report::html` and `report::checklist` render it.

use crate::catalog;
use crate::catalog::RuleMeta;
use crate::engine::Outcome;
use crate::finding::{Finding, Level};
use crate::project::Facts;

pub(crate) struct ChecklistSection {
    pub name: &'static str,
    pub name_ru: &'static str,
    pub items: &'static [ChecklistItem],
}

pub(crate) struct ChecklistItem {
    pub name: &'static str,
    pub name_ru: &'static str,
    /// Rules whose `checklist` field names this item; empty for items a human checks.
    pub rules: &'static [&'static str],
    /// How a human checks the item, when no rule decides it.
    pub human: Option<&'static str>,
}

include!(concat!(env!("OUT_DIR"), "/checklist.rs"));

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    /// Its rules ran and found nothing.
    Passed,
    /// Findings, by level.
    Failed { errors: usize, warnings: usize, notes: usize },
    /// No rule decides it: how to check it by hand.
    Human(&'static str),
    /// Nothing in the project it applies to (why).
    NotApplicable(&'static str),
    /// Its rules were not selected for this run.
    NotChecked,
}

impl Status {
    pub(crate) fn label(&self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Failed { .. } => "failed",
            Status::Human(_) => "needs a human",
            Status::NotApplicable(_) => "not applicable",
            Status::NotChecked => "not checked",
        }
    }

    /// A stable word for styling and filtering.
    pub(crate) fn key(&self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Failed { .. } => "failed",
            Status::Human(_) => "human",
            Status::NotApplicable(_) => "na",
            Status::NotChecked => "unchecked",
        }
    }
}

/// One item after the run, with the findings of its rules.
pub(crate) struct ItemResult<'a> {
    pub item: &'static ChecklistItem,
    pub status: Status,
    pub findings: Vec<&'a Finding>,
}

pub(crate) struct SectionResult<'a> {
    pub section: &'static ChecklistSection,
    pub items: Vec<ItemResult<'a>>,
}

/// Why a rule has nothing to look at in this project, if so: a Django rule (tag `django`) in a
/// project without Django, a front-end rule in a project without JS/TS. A rule that also reads
/// other files (secrets: any text) always applies.
fn not_applicable(rule: &RuleMeta, facts: &Facts) -> Option<&'static str> {
    let django_rule = rule.tags.contains(&"django");
    let applies = rule.languages.iter().any(|l| match *l {
        "python" | "template" => !django_rule || facts.django,
        "javascript" | "jsx" | "typescript" | "tsx" => facts.frontend_files > 0,
        _ => true,
    });
    if applies {
        None
    } else if django_rule && !facts.django {
        Some("no Django project found")
    } else {
        Some("no front-end code found")
    }
}

/// Every checklist item's status for `outcome`.
pub(crate) fn evaluate(outcome: &Outcome) -> Vec<SectionResult<'_>> {
    let facts = &outcome.facts;
    CHECKLIST
        .iter()
        .map(|section| SectionResult {
            section,
            items: section
                .items
                .iter()
                .map(|item| {
                    let findings: Vec<&Finding> =
                        outcome.findings.iter().filter(|f| item.rules.contains(&f.rule.id)).collect();
                    let status = status(item, &findings, facts);
                    ItemResult { item, status, findings }
                })
                .collect(),
        })
        .collect()
}

fn status(item: &'static ChecklistItem, findings: &[&Finding], facts: &Facts) -> Status {
    if item.rules.is_empty() {
        return Status::Human(item.human.unwrap_or(""));
    }
    if !findings.is_empty() {
        let count = |l: Level| findings.iter().filter(|f| f.level == l).count();
        return Status::Failed {
            errors: count(Level::Error),
            warnings: count(Level::Warning),
            notes: count(Level::Note),
        };
    }
    let ran: Vec<&RuleMeta> =
        item.rules.iter().filter(|id| facts.rules_run.contains(id)).filter_map(|id| catalog::meta(id)).collect();
    if ran.is_empty() {
        return Status::NotChecked;
    }
    let reasons: Vec<&'static str> = ran.iter().filter_map(|r| not_applicable(r, facts)).collect();
    if reasons.len() == ran.len() {
        return Status::NotApplicable(reasons[0]);
    }
    if let Some(why) = settings_not_judged(&ran, facts) {
        return Status::Human(why);
    }
    Status::Passed
}

/// Why rules that judge the settings in effect (tag `settings`) had nothing to judge, when every
/// rule of an item is one: no production settings module found (examples and templates of a
/// configuration are not one), or each one's chain imports a module the repository does not
/// hold (its values are left to the deployment). Silence then is not a pass.
fn settings_not_judged(ran: &[&RuleMeta], facts: &Facts) -> Option<&'static str> {
    if !facts.django || !ran.iter().all(|r| r.tags.contains(&"settings") && r.tags.contains(&"django")) {
        return None;
    }
    // A stand-in (an example or template configuration) is not what a deployment runs.
    let stand_in = |r: &&crate::project::SettingsRoot| crate::django::settings::is_stand_in(&r.module);
    let judged: Vec<_> = facts.settings.iter().filter(|r| !stand_in(r)).collect();
    if judged.is_empty() {
        return Some(
            "preflight found no production settings module to judge: check the settings the deployment runs with \
             (`DJANGO_SETTINGS_MODULE`, or `[settings] production` in preflight.toml names the module)",
        );
    }
    judged.iter().all(|r| r.open).then_some(
        "every production settings module imports a module the repository does not hold (a `local.py` left to the \
         deployment), so the values in effect are not known here: check them where the deployment defines them",
    )
}

/// Counts of items by status key, in a fixed order: failed, passed, human, na, unchecked.
pub(crate) fn totals(results: &[SectionResult<'_>]) -> [(&'static str, usize); 5] {
    let mut t = [("failed", 0), ("passed", 0), ("human", 0), ("na", 0), ("unchecked", 0)];
    for s in results {
        for i in &s.items {
            if let Some(e) = t.iter_mut().find(|(k, _)| *k == i.status.key()) {
                e.1 += 1;
            }
        }
    }
    t
}
