//! What preflight knows about Python, independent of Django and of rules: syntax helpers over
//! tree-sitter nodes (`syntax`), import statements and relative module names (`imports`),
//! scopes and bindings (`scope`), and a small abstract evaluator (`eval`). Nothing here knows
//! about findings, rules or reporting.

pub mod eval;
pub mod imports;
pub mod scope;
pub mod syntax;
