//! What preflight knows about Python, independent of Django and of rules: syntax helpers over
//! tree-sitter nodes (`syntax`). Nothing here knows about findings, rules or reporting.

pub mod eval;
pub mod syntax;
