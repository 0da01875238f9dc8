//! debugger-statement: `debugger;`, `breakpoint()`, `pdb.set_trace()` and debugger imports.

use std::collections::HashSet;

use tree_sitter::Node;

use crate::classify::{FileClass, Lang};
use crate::engine::FileCtx;
use crate::parse::for_each_node;
use crate::python::{dotted, text};
use crate::registry::Rule;

pub struct DebuggerStatement;

const DEBUGGER_MODULES: &[&str] = &["pdb", "ipdb", "pudb", "pdbpp", "wdb", "web_pdb", "remote_pdb"];
const DEBUGGER_CALLS: &[&str] = &["set_trace", "post_mortem", "pm"];

impl Rule for DebuggerStatement {
    fn id(&self) -> &'static str {
        "debugger-statement"
    }

    fn prefilter(&self) -> &'static [&'static str] {
        &["debugger", "breakpoint", "pdb", "pudb", "set_trace", "post_mortem"]
    }

    fn wants(&self, class: &FileClass) -> bool {
        !class.roles.vendored
    }

    fn needs_tree(&self) -> bool {
        true
    }

    fn check_file(&self, ctx: &mut FileCtx<'_>) {
        let file = ctx.file;
        let Some(tree) = file.tree() else { return };
        let src = file.text.as_str();
        let python = file.class.lang == Lang::Python;
        let mut hits: Vec<(Node<'_>, String)> = Vec::new();
        for_each_node(tree.root_node(), |n| {
            if python {
                if let Some(what) = python_hit(n, src) {
                    hits.push((n, what));
                }
            } else if n.kind() == "debugger_statement" {
                hits.push((n, "`debugger` statement".into()));
            }
        });
        let mut lines = HashSet::new();
        for (n, what) in hits {
            if lines.insert(n.start_position().row) {
                ctx.report(n.start_byte(), n.end_byte(), format!("{what} left in the code: remove it before committing"));
            }
        }
    }
}

fn python_hit(n: Node<'_>, src: &str) -> Option<String> {
    match n.kind() {
        "call" => {
            let f = dotted(n.child_by_field_name("function")?, src)?;
            let (module, name) = f.rsplit_once('.').unwrap_or(("", &f));
            let hit = f == "breakpoint"
                || (DEBUGGER_MODULES.contains(&module) && DEBUGGER_CALLS.contains(&name))
                || f == "set_trace";
            hit.then(|| format!("`{f}()`"))
        }
        "import_statement" => {
            let mut c = n.walk();
            let names: Vec<String> = n
                .children_by_field_name("name", &mut c)
                .filter_map(|m| {
                    let m = if m.kind() == "aliased_import" { m.child_by_field_name("name")? } else { m };
                    Some(text(m, src).to_string())
                })
                .collect();
            names.iter().find(|m| DEBUGGER_MODULES.contains(&m.as_str())).map(|m| format!("`import {m}`"))
        }
        "import_from_statement" => {
            let m = text(n.child_by_field_name("module_name")?, src);
            DEBUGGER_MODULES.contains(&m).then(|| format!("`from {m} import ...`"))
        }
        _ => None,
    }
}
