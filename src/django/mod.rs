//! What preflight knows about Django, built on `python`: the settings chain (`settings`), the
//! model graph with managers, querysets and DRF serializers (`models`), and migration history
//! (`migrations`). Nothing here knows about findings, rules or reporting.

pub mod drf;
pub mod html;
pub mod migration_state;
pub mod migrations;
pub mod models;
pub mod settings;
