//! unused-suppression: `preflight: ignore[rule-id]` markers that suppressed nothing in this run.
//!
//! Whether a marker was used is known only after every rule ran and the suppressions were
//! applied, so the engine reports these (`engine::unused_suppressions`); the rule itself runs on
//! no file.

use crate::registry::Rule;

pub(crate) struct UnusedSuppression;

impl Rule for UnusedSuppression {
    fn id(&self) -> &'static str {
        "unused-suppression"
    }
}
