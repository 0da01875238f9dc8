//! What preflight knows about Django, built on `python`: the settings chain (`settings`), the
//! model graph with managers, querysets and DRF serializers (`models`), and migration history
//! (`migrations`). Nothing here knows about findings, rules or reporting.

pub(crate) mod drf;
pub(crate) mod html;
pub(crate) mod migration_state;
pub(crate) mod migrations;
pub(crate) mod models;
pub(crate) mod settings;
