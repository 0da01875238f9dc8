//! preflight: a static pre-deployment auditor for Django + React repositories.
//!
//! The pipeline, one module each: `walk` → `classify` → `source`/`parse` → `project` (settings
//! chain, git index) → `engine` (rules) → `report`. Rule metadata lives in `rules/*.toml`
//! (compiled in by `build.rs`), rule logic in `src/rules/`.

pub mod baseline;
pub mod budget;
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
