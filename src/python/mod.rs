//! What preflight knows about Python, independent of Django and of rules: syntax helpers over
//! tree-sitter nodes (`syntax`), import statements and relative module names (`imports`),
//! scopes and bindings (`scope`), and a small abstract evaluator (`eval`). Nothing here knows
//! about findings, rules or reporting.

pub(crate) mod eval;
pub(crate) mod imports;
pub(crate) mod scope;
pub(crate) mod syntax;
