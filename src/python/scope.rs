//! Scopes and bindings: which function a name belongs to, what it is assigned, whether it is a
//! parameter. Flow-insensitive: every assignment in a scope counts, nested functions are
//! scopes of their own.

use std::collections::HashMap;

use tree_sitter::Node;

use crate::python::syntax::text;

/// The function (or the module) whose locals a node's names are.
pub(crate) fn enclosing_scope(n: Node<'_>) -> Option<Node<'_>> {
    let mut cur = n.parent();
    while let Some(c) = cur {
        if matches!(c.kind(), "function_definition" | "module") {
            return Some(c);
        }
        cur = c.parent();
    }
    None
}

/// Whether `name` is a parameter of the function `scope` (`self` and `cls` are not counted).
pub(crate) fn is_parameter(scope: Node<'_>, name: &str, src: &str) -> bool {
    if matches!(name, "self" | "cls") {
        return false;
    }
    let Some(params) = scope.child_by_field_name("parameters") else { return false };
    let mut c = params.walk();
    let found = params.named_children(&mut c).any(|p| {
        let id = match p.kind() {
            "identifier" => Some(p),
            "default_parameter" | "typed_default_parameter" => p.child_by_field_name("name"),
            _ => {
                let mut c2 = p.walk();
                let first = p.named_children(&mut c2).find(|x| x.kind() == "identifier");
                first
            }
        };
        id.is_some_and(|i| text(i, src) == name)
    });
    found
}

/// The iterables of the `for` loops in `scope` (not in nested functions) whose target is the
/// plain name `name`: `for pk in ids:` gives `ids` for `pk`.
pub(crate) fn loop_iterables<'t>(scope: Node<'t>, name: &str, src: &str) -> Vec<Node<'t>> {
    let mut out = Vec::new();
    crate::parse::for_each_node(scope, |n| {
        if n.kind() != "for_statement" || enclosing_scope(n) != Some(scope) {
            return;
        }
        let target = n.child_by_field_name("left").filter(|l| l.kind() == "identifier" && text(*l, src) == name);
        if let (Some(_), Some(iter)) = (target, n.child_by_field_name("right")) {
            out.push(iter);
        }
    });
    out
}

/// `name = value` and `name += value` in a scope (not in nested functions).
pub(crate) fn assignments<'t>(scope: Node<'t>, src: &str) -> HashMap<String, Vec<Node<'t>>> {
    let mut out: HashMap<String, Vec<Node<'t>>> = HashMap::new();
    crate::parse::for_each_node(scope, |n| {
        if !matches!(n.kind(), "assignment" | "augmented_assignment") {
            return;
        }
        if enclosing_scope(n) != Some(scope) {
            return;
        }
        let (Some(l), Some(r)) = (n.child_by_field_name("left"), n.child_by_field_name("right")) else { return };
        if l.kind() == "identifier" {
            out.entry(text(l, src).to_string()).or_default().push(r);
        }
    });
    out
}

/// Statement-level nodes of a scope in document order, not entering nested functions, classes
/// or lambdas (they are scopes of their own).
pub(crate) fn scope_nodes(scope: Node<'_>) -> Vec<Node<'_>> {
    let mut out = Vec::new();
    let start = match scope.kind() {
        "function_definition" => scope.child_by_field_name("body"),
        _ => Some(scope),
    };
    let Some(start) = start else { return out };
    out.push(start);
    // Pre-order with one cursor: named nodes, not entering the nested scopes.
    let mut cursor = start.walk();
    if !cursor.goto_first_child() {
        return out;
    }
    loop {
        let n = cursor.node();
        let enter = n.is_named()
            && !matches!(n.kind(), "function_definition" | "class_definition" | "lambda" | "decorated_definition");
        if enter {
            out.push(n);
            if cursor.goto_first_child() {
                continue;
            }
        }
        while !cursor.goto_next_sibling() {
            if !cursor.goto_parent() {
                return out;
            }
        }
    }
}

/// The class whose body holds `n` directly (a method's class), not through a function.
pub(crate) fn enclosing_class_node(n: Node<'_>) -> Option<Node<'_>> {
    let mut cur = n.parent();
    while let Some(c) = cur {
        if c.kind() == "class_definition" {
            return Some(c);
        }
        if c.kind() == "function_definition" {
            return None;
        }
        cur = c.parent();
    }
    None
}
