//! debugger-statement: `debugger;`, `breakpoint()`, `pdb.set_trace()` and debugger imports.

use std::collections::HashSet;

use tree_sitter::Node;

use crate::classify::{FileClass, Lang};
use crate::registry::{FileCtx, Rule};
use crate::parse::for_each_node;
use crate::python::imports::Import;
use crate::python::syntax::{dotted, text};

pub(crate) struct DebuggerStatement;

const DEBUGGER_MODULES: &[&str] = &["pdb", "ipdb", "pudb", "pdbpp", "wdb", "web_pdb", "remote_pdb"];
/// Modules a `set_trace` may also be imported from, whose import alone is no finding (IPython
/// and Celery are imported for much else).
const DEBUGGER_SOURCES: &[&str] = &["IPython.core.debugger", "IPython.terminal.debugger", "celery.contrib.rdb"];
const DEBUGGER_CALLS: &[&str] = &["set_trace", "post_mortem", "pm"];

fn is_debugger_module(m: &str) -> bool {
    DEBUGGER_MODULES.contains(&m) || DEBUGGER_SOURCES.contains(&m)
}

/// Where the file's names come from, as far as a bare debugger call needs: `from M import n
/// [as a]` bindings (local name -> (M, n)), modules imported under another name (`import ipdb
/// as dbg`), local `def`s, and the modules star-imported. Flow-insensitive: one file, one map.
#[derive(Default)]
struct Bindings {
    from_imports: Vec<(String, String, String)>,
    module_aliases: Vec<(String, String)>,
    defined: Vec<String>,
    star_modules: Vec<String>,
}

impl Bindings {
    fn of(root: Node<'_>, src: &str) -> Self {
        let mut b = Bindings::default();
        for_each_node(root, |n| match n.kind() {
            "import_from_statement" | "import_statement" => match crate::python::imports::read(n, src) {
                Some(Import { from: Some(m), names, star }) => {
                    if star {
                        b.star_modules.push(m.clone());
                    }
                    b.from_imports.extend(names.into_iter().map(|(orig, local)| (local, m.clone(), orig)));
                }
                Some(i) => b.module_aliases.extend(i.aliased().map(|(orig, alias)| (alias.clone(), orig.clone()))),
                None => {}
            },
            "function_definition" => {
                if let Some(name) = n.child_by_field_name("name") {
                    b.defined.push(text(name, src).to_string());
                }
            }
            _ => {}
        });
        b
    }

    /// Whether a call of the bare name `f` is a debugger's: imported from a debugger under that
    /// name or another; or, for `set_trace`, bound nowhere in the file (it cannot be the
    /// project's) or star-imported from a debugger. A `set_trace` the project defines or imports
    /// from its own modules is not.
    fn bare_is_debugger(&self, f: &str) -> bool {
        let imported: Vec<&(String, String, String)> = self.from_imports.iter().filter(|(l, _, _)| l == f).collect();
        if imported.iter().any(|(_, m, orig)| is_debugger_module(m) && DEBUGGER_CALLS.contains(&orig.as_str())) {
            return true;
        }
        if f != "set_trace" || !imported.is_empty() || self.defined.iter().any(|d| d == f) {
            return false;
        }
        if self.star_modules.iter().any(|m| is_debugger_module(m)) {
            return true;
        }
        self.star_modules.is_empty()
    }

    /// The module a name used as `name.set_trace()` stands for.
    fn module<'a>(&'a self, name: &'a str) -> &'a str {
        self.module_aliases.iter().find(|(a, _)| a == name).map_or(name, |(_, m)| m.as_str())
    }
}

impl Rule for DebuggerStatement {
    fn id(&self) -> &'static str {
        "debugger-statement"
    }

    fn prefilter(&self) -> &'static [&'static str] {
        &["debugger", "breakpoint", "pdb", "pudb", "set_trace", "post_mortem"]
    }

    fn prefilter_in_code(&self) -> bool {
        true
    }

    fn wants(&self, class: &FileClass) -> bool {
        !class.roles.vendored
    }


    fn check_file(&self, ctx: &mut FileCtx<'_>) {
        let file = ctx.file;
        let Some(tree) = file.tree() else { return };
        let src = file.text.as_str();
        let python = file.class.lang == Lang::Python;
        let bindings = if python { Bindings::of(tree.root_node(), src) } else { Bindings::default() };
        let mut hits: Vec<(Node<'_>, String)> = Vec::new();
        for_each_node(tree.root_node(), |n| {
            if python {
                if let Some(what) = python_hit(n, src, &bindings) {
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

fn python_hit(n: Node<'_>, src: &str, bindings: &Bindings) -> Option<String> {
    match n.kind() {
        "call" => {
            let f = dotted(n.child_by_field_name("function")?, src)?;
            let hit = match f.rsplit_once('.') {
                Some((module, name)) => is_debugger_module(bindings.module(module)) && DEBUGGER_CALLS.contains(&name),
                None => f == "breakpoint" || bindings.bare_is_debugger(&f),
            };
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
