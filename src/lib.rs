//! preflight: a static pre-deployment auditor for Django + React repositories.
//!
//! The pipeline: `walk` → `classify` → `source`/`parse` → `project` (the project pass: settings
//! chain, models, migrations, as the selected rules need) → `engine` (rules in parallel,
//! suppressions, dedupe) → `report`. What preflight knows of Python and Django is in the layers
//! `python` and `django`, which know nothing of rules; rules see it through `registry`'s
//! `FileCtx` and `ProjectSink`. Rule metadata lives in `rules/*.toml` (compiled into `catalog`
//! by `build.rs`), rule logic in `src/rules/`. README.md "Architecture" has the layers;
//! `tests/architecture.rs` keeps the arrows one way.

#![warn(unreachable_pub)]

pub(crate) mod baseline;
pub(crate) mod budget;
pub(crate) mod cache;
pub mod catalog;
pub(crate) mod checklist;
pub mod classify;
pub mod cli;
pub mod config;
pub(crate) mod digest;
pub(crate) mod django;
pub mod engine;
pub mod finding;
pub(crate) mod fix;
pub(crate) mod fsread;
pub mod fuzzing;
pub mod gitdiff;
pub(crate) mod gitindex;
pub mod level;
pub(crate) mod lexgate;
pub(crate) mod output;
pub mod parse;
pub mod project;
pub(crate) mod python;
pub(crate) mod registry;
pub(crate) mod report;
pub mod secrets;
pub(crate) mod setup;
pub mod source;
pub(crate) mod stattable;
pub(crate) mod suppress;
pub(crate) mod walk;
