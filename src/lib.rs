//! preflight: a static pre-deployment auditor for Django + React repositories.
//!
//! The pipeline: `walk` → `classify` → `source`/`parse` → `project` (the project pass: settings
//! chain, models, migrations, as the selected rules need) → `engine` (rules in parallel,
//! suppressions, dedupe) → `report`. What preflight knows of Python and Django is in the layers
//! `python` and `django`, which know nothing of rules; rules see it through `registry`'s
//! `FileCtx` and `ProjectSink`. Rule metadata lives in `rules/*.toml` (compiled into `catalog`
//! by `build.rs`), rule logic in `src/rules/`. README.md "Architecture" has the layers;
//! `tests/architecture.rs` keeps the arrows one way.

pub mod baseline;
pub mod budget;
pub mod cache;
pub mod catalog;
pub mod checklist;
pub mod classify;
pub mod cli;
pub mod config;
pub mod django;
pub mod engine;
pub mod finding;
pub mod fix;
pub mod fsread;
pub mod fuzzing;
pub mod gitdiff;
pub mod gitindex;
pub mod level;
pub mod lexgate;
pub mod output;
pub mod parse;
pub mod project;
pub mod python;
pub mod registry;
pub mod report;
pub mod secrets;
pub mod setup;
pub mod source;
pub mod suppress;
pub mod walk;
