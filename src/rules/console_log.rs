//! console-log: debug console calls in production JS/TS.

use tree_sitter::Node;

use crate::classify::FileClass;
use crate::registry::{FileCtx, Rule};
use crate::parse::for_each_node;

pub(crate) struct ConsoleLog;

/// Methods that are debug output; `error` and `warn` are not in the list.
const DEBUG_METHODS: &[&str] = &["log", "debug", "info", "trace", "dir", "dirxml", "table"];
const GLOBAL_OBJECTS: &[&str] = &["window", "globalThis", "self", "global"];

impl Rule for ConsoleLog {
    fn id(&self) -> &'static str {
        "console-log"
    }

    fn prefilter(&self) -> &'static [&'static str] {
        // The debug methods by name: a file whose only console call is console.error is not
        // parsed for this rule.
        &["console.log", "console.debug", "console.info", "console.trace", "console.dir", "console.table"]
    }

    fn wants(&self, class: &FileClass) -> bool {
        class.is_production()
    }


    fn check_file(&self, ctx: &mut FileCtx<'_>) {
        let file = ctx.file;
        let Some(tree) = file.tree() else { return };
        let src = file.text.as_str();
        let cfg = &ctx.config.raw.console_log;
        let allowed: Vec<&str> = cfg.allow.as_ref().map_or(vec!["error", "warn"], |a| a.iter().map(String::as_str).collect());
        let mut shadows: Vec<Node<'_>> = Vec::new();
        let mut calls: Vec<(Node<'_>, String)> = Vec::new();
        for_each_node(tree.root_node(), |n| match n.kind() {
            "call_expression" => {
                if let Some(method) = console_method(n, src) {
                    if DEBUG_METHODS.contains(&method.as_str()) && !allowed.contains(&method.as_str()) {
                        calls.push((n, method));
                    }
                }
            }
            "identifier" if text(n, src) == "console" && is_binding(n) => shadows.push(n),
            _ => {}
        });
        for (call, method) in calls {
            if shadows.iter().any(|b| binding_scope(*b).is_some_and(|s| contains(s, call))) {
                continue;
            }
            if !cfg.report_dev_guarded && dev_guarded(call, src) {
                continue;
            }
            let shown = crate::finding::excerpt(text(call, src));
            ctx.report(
                call.start_byte(),
                call.end_byte(),
                format!("`{shown}` left in production code: remove it, or use console.{method} behind a dev-only check"),
            );
        }
    }
}

fn text<'a>(n: Node<'_>, src: &'a str) -> &'a str {
    src.get(n.byte_range()).unwrap_or("")
}

/// `console.<m>(...)` or `window.console.<m>(...)` → `m`.
fn console_method(call: Node<'_>, src: &str) -> Option<String> {
    let f = call.child_by_field_name("function")?;
    if f.kind() != "member_expression" {
        return None;
    }
    let obj = f.child_by_field_name("object")?;
    let prop = f.child_by_field_name("property")?;
    let is_console = match obj.kind() {
        "identifier" => text(obj, src) == "console",
        "member_expression" => {
            let o = obj.child_by_field_name("object")?;
            let p = obj.child_by_field_name("property")?;
            o.kind() == "identifier" && GLOBAL_OBJECTS.contains(&text(o, src)) && text(p, src) == "console"
        }
        _ => false,
    };
    is_console.then(|| text(prop, src).to_string())
}

/// An identifier that declares a name: `const console = ...`, a parameter, an import.
fn is_binding(id: Node<'_>) -> bool {
    let Some(p) = id.parent() else { return false };
    match p.kind() {
        "variable_declarator" => p.child_by_field_name("name") == Some(id),
        "required_parameter" | "optional_parameter" | "formal_parameters" => true,
        "import_specifier" | "import_clause" | "namespace_import" => true,
        "function_declaration" | "class_declaration" => p.child_by_field_name("name") == Some(id),
        "shorthand_property_identifier_pattern" | "object_pattern" | "array_pattern" => true,
        _ => false,
    }
}

/// The node a binding is visible in: the function for a parameter, else the nearest block,
/// function body or program.
fn binding_scope(id: Node<'_>) -> Option<Node<'_>> {
    let mut n = id.parent()?;
    let is_param = matches!(n.kind(), "required_parameter" | "optional_parameter" | "formal_parameters");
    loop {
        let k = n.kind();
        if is_param && matches!(k, "function_declaration" | "function_expression" | "arrow_function" | "method_definition" | "function") {
            return Some(n);
        }
        if !is_param && matches!(k, "statement_block" | "program" | "class_body") {
            return Some(n);
        }
        n = n.parent()?;
    }
}

fn contains(outer: Node<'_>, inner: Node<'_>) -> bool {
    outer.start_byte() <= inner.start_byte() && inner.end_byte() <= outer.end_byte()
}

/// Conditions that are true only in development builds.
fn is_dev_condition(cond: &str) -> bool {
    let c: String = cond.chars().filter(|c| !c.is_whitespace()).collect::<String>().replace(['"', '`'], "'");
    let c = c.trim_start_matches('(').trim_end_matches(')');
    const GUARDS: &[&str] = &[
        "process.env.NODE_ENV!=='production'",
        "process.env.NODE_ENV!='production'",
        "process.env.NODE_ENV==='development'",
        "process.env.NODE_ENV=='development'",
        "'production'!==process.env.NODE_ENV",
        "'development'===process.env.NODE_ENV",
        "import.meta.env.DEV",
        "!import.meta.env.PROD",
        "import.meta.env.MODE==='development'",
        "import.meta.env.MODE!=='production'",
        "__DEV__",
    ];
    GUARDS.iter().any(|g| c == *g || c.starts_with(&format!("{g}&&")) || c.ends_with(&format!("&&{g}")))
}

/// Inside the then-branch of a dev-only `if`, the right side of `devGuard && ...`, or the
/// true branch of `devGuard ? ... : ...`.
fn dev_guarded(call: Node<'_>, src: &str) -> bool {
    let mut child = call;
    while let Some(p) = child.parent() {
        match p.kind() {
            "if_statement" => {
                if let (Some(cond), Some(then)) = (p.child_by_field_name("condition"), p.child_by_field_name("consequence")) {
                    if contains(then, call) && is_dev_condition(text(cond, src)) {
                        return true;
                    }
                }
            }
            "binary_expression" => {
                if let (Some(l), Some(r)) = (p.child_by_field_name("left"), p.child_by_field_name("right")) {
                    let op = src.get(l.end_byte()..r.start_byte()).unwrap_or("").trim();
                    if op == "&&" && contains(r, call) && is_dev_condition(text(l, src)) {
                        return true;
                    }
                }
            }
            "ternary_expression" => {
                if let (Some(cond), Some(yes)) = (p.child_by_field_name("condition"), p.child_by_field_name("consequence")) {
                    if contains(yes, call) && is_dev_condition(text(cond, src)) {
                        return true;
                    }
                }
            }
            _ => {}
        }
        child = p;
    }
    false
}

