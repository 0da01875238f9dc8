//! What preflight knows about Django, built on `python`: the settings chain (`settings`), the
//! model graph with managers, querysets and DRF serializers (`models`), migration history and
//! the model state it replays to (`migrations`, `migration_state`), model field classes
//! (`fields`), DRF's views (`drf`) and what makes HTML safe (`html`). Nothing here knows about
//! findings, rules or reporting.

pub(crate) mod drf;
pub(crate) mod fields;
pub(crate) mod html;
pub(crate) mod migration_state;
pub(crate) mod migrations;
pub(crate) mod models;
pub(crate) mod settings;
