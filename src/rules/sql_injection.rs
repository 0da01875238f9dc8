//! sql-injection: SQL text built from non-literal values (f-string, `%`, `.format()`, `+`) that
//! reaches a raw-SQL sink: `cursor.execute/executemany`, `Model.objects.raw`, `QuerySet.extra`,
//! `RawSQL`. A variable is followed to its assignments in the same function.
//!
//! Interpolating a literal, an UPPER_CASE constant, a table name from `_meta`, a quoted name
//! (`quote_name(...)`), a number (`int(...)`, `len(...)`) or a placeholder list
//! (`", ".join(["%s"] * len(ids))`) is not injection and stays silent.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use tree_sitter::Node;

use crate::classify::FileClass;
use crate::registry::{FileCtx, Rule};
use crate::python::scope::{assignments, enclosing_scope, is_parameter, loop_iterables};
use crate::python::syntax::{call_args, text};

pub(crate) struct SqlInjection;

impl Rule for SqlInjection {
    fn id(&self) -> &'static str {
        "sql-injection"
    }

    fn prefilter(&self) -> &'static [&'static str] {
        &["execute", ".raw(", ".extra(", "RawSQL"]
    }

    fn wants(&self, class: &FileClass) -> bool {
        class.is_production() && !class.roles.migration
    }


    fn check_file(&self, ctx: &mut FileCtx<'_>) {
        let file = ctx.file;
        let Some(tree) = file.tree() else { return };
        let src = file.text.as_str();
        let mut reports = Vec::new();
        let a = Analysis::new(src);
        crate::parse::for_each_node(tree.root_node(), |n| {
            if n.kind() != "call" {
                return;
            }
            let Some((sink, args)) = sink_args(n, src) else { return };
            for arg in args {
                if let Some(why) = a.unsafe_sql(arg, 0) {
                    reports.push((arg.start_byte(), arg.end_byte(), sink.clone(), why));
                    break;
                }
            }
        });
        for (start, end, sink, why) in reports {
            ctx.report(
                start,
                end,
                format!(
                    "{why} reaches {sink}: a value can rewrite the query (SQL injection); keep the SQL a literal \
                     with placeholders and pass the values separately, e.g. `cursor.execute(\"... WHERE id = %s\", [value])`"
                ),
            );
        }
    }
}

/// The SQL-carrying arguments of a sink call, with the sink's name.
fn sink_args<'t>(call: Node<'t>, src: &str) -> Option<(String, Vec<Node<'t>>)> {
    let f = call.child_by_field_name("function")?;
    let (pos, kw) = call_args(call, src);
    let kwarg = |k: &str| kw.iter().find(|(n, _)| n == k).map(|(_, v)| *v);
    match f.kind() {
        "attribute" => {
            let name = text(f.child_by_field_name("attribute")?, src);
            match name {
                "execute" | "executemany" => {
                    Some((format!("{name}()"), pos.first().copied().or_else(|| kwarg("sql")).into_iter().collect()))
                }
                "raw" => {
                    // Manager.raw / QuerySet.raw: an `objects` (or other manager) chain.
                    let obj = text(f.child_by_field_name("object")?, src);
                    if !obj.contains("objects") && !obj.contains("_manager") {
                        return None;
                    }
                    Some(("raw()".into(), pos.first().copied().or_else(|| kwarg("raw_query")).into_iter().collect()))
                }
                "extra" => {
                    let mut args = Vec::new();
                    for k in ["where", "select", "tables", "order_by"] {
                        if let Some(v) = kwarg(k) {
                            args.extend(elements(v));
                        }
                    }
                    Some(("extra()".into(), args))
                }
                _ => None,
            }
        }
        "identifier" if text(f, src) == "RawSQL" => Some(("RawSQL()".into(), pos.first().copied().into_iter().collect())),
        _ => None,
    }
}

/// The items of a list/tuple/dict value (the SQL strings of `extra(where=[...])`), or the value.
fn elements(v: Node<'_>) -> Vec<Node<'_>> {
    match v.kind() {
        "list" | "tuple" => {
            let mut c = v.walk();
            v.named_children(&mut c).collect()
        }
        "dictionary" => {
            let mut c = v.walk();
            v.named_children(&mut c).filter_map(|p| p.child_by_field_name("value")).collect()
        }
        _ => vec![v],
    }
}


/// The analysis of one file. Its three questions (is this SQL built unsafely, is this value
/// tainted, is it safe) are pure functions of a node and a depth, so each answer is computed
/// once: a variable reassigned n times from itself (`q = q + x`) used to be followed along
/// every chain of its assignments, n^8 paths (32 reassignments: minutes), and is now n x 9
/// answers. A scope's assignments are collected once. Every computed answer is a step of the
/// rule's work budget; once it is spent, answers are "no" and the engine drops the file's
/// findings of this rule.
struct Analysis<'t> {
    src: &'t str,
    scopes: RefCell<HashMap<usize, Rc<Assignments<'t>>>>,
    unsafe_memo: RefCell<HashMap<(usize, usize), Option<String>>>,
    taint_memo: RefCell<HashMap<(usize, usize), bool>>,
    safe_memo: RefCell<HashMap<(usize, usize), bool>>,
}

type Assignments<'t> = HashMap<String, Vec<Node<'t>>>;

impl<'t> Analysis<'t> {
    fn new(src: &'t str) -> Self {
        Analysis {
            src,
            scopes: RefCell::default(),
            unsafe_memo: RefCell::default(),
            taint_memo: RefCell::default(),
            safe_memo: RefCell::default(),
        }
    }

    fn assignments(&self, scope: Node<'t>) -> Rc<Assignments<'t>> {
        if let Some(a) = self.scopes.borrow().get(&scope.id()) {
            return a.clone();
        }
        let a = Rc::new(assignments(scope, self.src));
        self.scopes.borrow_mut().insert(scope.id(), a.clone());
        a
    }

    fn unsafe_sql(&self, n: Node<'t>, depth: usize) -> Option<String> {
        if let Some(r) = self.unsafe_memo.borrow().get(&(n.id(), depth)) {
            return r.clone();
        }
        if !crate::budget::spend(1) {
            return None;
        }
        let r = self.unsafe_sql_uncached(n, depth);
        self.unsafe_memo.borrow_mut().insert((n.id(), depth), r.clone());
        r
    }

    fn tainted(&self, n: Node<'t>, depth: usize) -> bool {
        if let Some(&r) = self.taint_memo.borrow().get(&(n.id(), depth)) {
            return r;
        }
        if !crate::budget::spend(1) {
            return false;
        }
        let r = self.tainted_uncached(n, depth);
        self.taint_memo.borrow_mut().insert((n.id(), depth), r);
        r
    }

    fn safe_within(&self, n: Node<'t>, depth: usize) -> bool {
        if let Some(&r) = self.safe_memo.borrow().get(&(n.id(), depth)) {
            return r;
        }
        if !crate::budget::spend(1) {
            return false;
        }
        let r = self.safe_within_uncached(n, depth);
        self.safe_memo.borrow_mut().insert((n.id(), depth), r);
        r
    }
}

impl<'t> Analysis<'t> {
/// Why the SQL expression is built from non-literal values, or `None` when it is not.
fn unsafe_sql_uncached(&self, n: Node<'t>, depth: usize) -> Option<String> {
    let src = self.src;
    if depth > 8 {
        return None;
    }
    match n.kind() {
        "string" => {
            let mut c = n.walk();
            let bad: Vec<String> = n
                .named_children(&mut c)
                .filter(|ch| ch.kind() == "interpolation")
                .filter_map(|i| i.child_by_field_name("expression").or_else(|| i.named_child(0)))
                .filter(|e| self.tainted(*e, 0))
                .map(|e| text(e, src).to_string())
                .collect();
            (!bad.is_empty()).then(|| format!("an f-string interpolating `{}`", crate::finding::excerpt(&bad.join("`, `"))))
        }
        "concatenated_string" => {
            let mut c = n.walk();
            let parts: Vec<Node<'t>> = n.named_children(&mut c).collect();
            parts.into_iter().find_map(|p| self.unsafe_sql(p, depth + 1))
        }
        "parenthesized_expression" => self.unsafe_sql(n.named_child(0)?, depth + 1),
        "binary_operator" => {
            let op = n.child_by_field_name("operator").map(|o| text(o, src))?;
            let left = n.child_by_field_name("left")?;
            let right = n.child_by_field_name("right")?;
            match op {
                "%" if is_stringish(left, src) => {
                    let vals = elements(right);
                    let bad: Vec<&str> = vals.iter().filter(|v| self.tainted(**v, 0)).map(|v| text(*v, src)).collect();
                    (!bad.is_empty()).then(|| format!("`%` formatting with `{}`", crate::finding::excerpt(&bad.join("`, `"))))
                }
                "+" if is_stringish(left, src) || is_stringish(right, src) => {
                    if let Some(w) = self.unsafe_sql(left, depth + 1).or_else(|| self.unsafe_sql(right, depth + 1)) {
                        return Some(w);
                    }
                    let bad: Vec<&str> = [left, right]
                        .into_iter()
                        .filter(|v| !is_stringish(*v, src) && self.tainted(*v, 0))
                        .map(|v| text(v, src))
                        .collect();
                    (!bad.is_empty()).then(|| format!("concatenation with `{}`", crate::finding::excerpt(&bad.join("`, `"))))
                }
                _ => None,
            }
        }
        "call" => {
            // "...".format(x)
            let f = n.child_by_field_name("function")?;
            if f.kind() != "attribute" || f.child_by_field_name("attribute").map(|a| text(a, src)) != Some("format") {
                return None;
            }
            let obj = f.child_by_field_name("object")?;
            if !is_stringish(obj, src) {
                return None;
            }
            let (pos, kw) = call_args(n, src);
            let bad: Vec<&str> =
                pos.iter().chain(kw.iter().map(|(_, v)| v)).filter(|v| self.tainted(**v, 0)).map(|v| text(*v, src)).collect();
            (!bad.is_empty()).then(|| format!("`.format()` with `{}`", crate::finding::excerpt(&bad.join("`, `"))))
        }
        "identifier" => {
            let name = text(n, src);
            let scope = enclosing_scope(n)?;
            let assigned = self.assignments(scope);
            let values = assigned.get(name)?;
            values
                .iter()
                .filter(|v| v.end_byte() <= n.start_byte())
                .find_map(|v| self.unsafe_sql(*v, depth + 1))
                .map(|why| format!("`{name}`, built by {why},"))
        }
        _ => None,
    }
}

/// A value that may come from outside: a parameter, an attribute or item of one, request data,
/// or an expression of those. Literals, constants and the safe forms of `safe_value` are not;
/// nor is the result of a call the rule cannot see into (a helper returning a SQL fragment),
/// except `str()`/`repr()` of a tainted value and reads of request data.
fn tainted_uncached(&self, n: Node<'t>, depth: usize) -> bool {
    let src = self.src;
    if depth > 8 || self.safe_within(n, 0) {
        return false;
    }
    let t = text(n, src);
    match n.kind() {
        "identifier" => {
            let Some(scope) = enclosing_scope(n) else { return false };
            match self.assignments(scope).get(t) {
                // A parameter may come from a caller, a loop variable from what it loops over;
                // a module name, an import or an unpacking target is something the rule cannot
                // follow, so it stays silent.
                None => {
                    is_parameter(scope, t, src)
                        || loop_iterables(scope, t, src).into_iter().any(|it| self.tainted(it, depth + 1))
                }
                Some(vals) => vals.iter().any(|v| self.tainted(*v, depth + 1)),
            }
        }
        "attribute" | "subscript" => {
            // Request data anywhere in the chain, or a chain rooted in a tainted name;
            // `self.x` is the object's own state (`self.request`, `self.kwargs` excepted).
            if t.split(|c: char| !(c.is_alphanumeric() || c == '_')).any(|p| {
                matches!(p, "request" | "GET" | "POST" | "query_params" | "COOKIES" | "META" | "FILES" | "headers")
            }) || (t.starts_with("self.kwargs") || t.starts_with("self.args"))
            {
                return true;
            }
            let mut root = n;
            while let Some(inner) = root.child_by_field_name("object").or_else(|| root.child_by_field_name("value")) {
                root = inner;
            }
            root.kind() == "identifier" && !matches!(text(root, src), "self" | "cls") && self.tainted(root, depth + 1)
        }
        "call" => {
            let f = n.child_by_field_name("function").map(|f| text(f, src)).unwrap_or("");
            if matches!(f, "str" | "repr") {
                return call_args(n, src).0.first().is_some_and(|a| self.tainted(*a, depth + 1));
            }
            f.split('.').any(|p| matches!(p, "request" | "GET" | "POST" | "query_params" | "data" | "COOKIES" | "META"))
        }
        "binary_operator" => {
            n.child_by_field_name("left").is_some_and(|l| self.tainted(l, depth + 1))
                || n.child_by_field_name("right").is_some_and(|r| self.tainted(r, depth + 1))
        }
        "string" => {
            let mut c = n.walk();
            let parts: Vec<Node<'t>> = n.named_children(&mut c).filter(|ch| ch.kind() == "interpolation").collect();
            parts.iter().any(|i| i.named_child(0).is_some_and(|e| self.tainted(e, depth + 1)))
        }
        "parenthesized_expression" => n.named_child(0).is_some_and(|x| self.tainted(x, depth + 1)),
        _ => false,
    }
}

}

/// A string literal, an f-string, or a string expression (so `+`/`%` are string operations).
fn is_stringish(n: Node<'_>, src: &str) -> bool {
    match n.kind() {
        "string" | "concatenated_string" => true,
        "binary_operator" => {
            n.child_by_field_name("left").is_some_and(|l| is_stringish(l, src))
                || n.child_by_field_name("right").is_some_and(|r| is_stringish(r, src))
        }
        "parenthesized_expression" => n.named_child(0).is_some_and(|x| is_stringish(x, src)),
        "identifier" => {
            let t = text(n, src).to_ascii_lowercase();
            t.contains("sql") || t.contains("query") || t == "q" || t.contains("where") || t.contains("stmt")
        }
        _ => false,
    }
}

impl<'t> Analysis<'t> {
/// A value that cannot carry SQL from outside: literals, constants, table and column names
/// from the ORM, quoted names, numbers, placeholder lists.
fn safe_within_uncached(&self, n: Node<'t>, depth: usize) -> bool {
    let src = self.src;
    if depth > 8 {
        return false;
    }
    let safe_value = |x: Node<'t>, _: &str| self.safe_within(x, depth + 1);
    let t = text(n, src);
    match n.kind() {
        "string" => {
            let mut c = n.walk();
            let interpolations: Vec<Node<'t>> = n.named_children(&mut c).filter(|ch| ch.kind() == "interpolation").collect();
            interpolations.iter().all(|i| i.named_child(0).is_some_and(|e| safe_value(e, src)))
        }
        "integer" | "float" | "true" | "false" | "none" | "concatenated_string" => true,
        "identifier" => {
            // A constant, or a local only ever assigned safe values.
            if is_constant(t) {
                return true;
            }
            let Some(scope) = enclosing_scope(n) else { return false };
            let assigned = self.assignments(scope);
            // Only assignments completed before this use count: `expr = "CAST(%s)" % expr` reads the
            // earlier value of `expr`, not itself.
            let mut before = assigned.get(t).into_iter().flatten().filter(|v| v.end_byte() <= n.start_byte()).peekable();
            before.peek().is_some() && before.all(|v| safe_value(*v, src))
        }
        "subscript" => {
            // CONSTANT_MAP[key]: a value from a constant table.
            n.child_by_field_name("value").is_some_and(|v| is_constant_ref(text(v, src)))
        }
        "attribute" => {
            let last = t.rsplit('.').next().unwrap_or(t);
            // A model's primary key (`user.id`, `obj.pk`) is an integer or a UUID; never one
            // read from the request's data.
            let pk = matches!(last, "id" | "pk")
                && !t.split('.').any(|p| matches!(p, "data" | "query_params" | "GET" | "POST" | "json" | "kwargs"));
            is_constant_ref(t) || t.contains("_meta.") || last == "db_table" || last == "column" || pk
        }
        "tuple" | "list" | "parenthesized_expression" => {
            let mut c = n.walk();
            let items: Vec<Node<'t>> = n.named_children(&mut c).collect();
            items.into_iter().all(|x| safe_value(x, src))
        }
        "call" => {
            let f = n.child_by_field_name("function").map(|f| text(f, src)).unwrap_or("");
            let last = f.rsplit('.').next().unwrap_or(f);
            if matches!(last, "quote_name" | "int" | "float" | "len" | "bool" | "quote" | "sql_placeholders") {
                return true;
            }
            // ALLOWED_COLUMNS.get(key, "default"): a value from a constant table.
            if last == "get" {
                let obj = f.rsplit_once('.').map_or("", |(o, _)| o);
                let (_, kw) = call_args(n, src);
                let default_safe = call_args(n, src).0.get(1).is_none_or(|d| safe_value(*d, src));
                return kw.is_empty() && default_safe && is_constant_ref(obj);
            }
            // ", ".join(["%s"] * len(ids)) and friends: only placeholders inside.
            if last == "join" {
                let mut strings = Vec::new();
                crate::parse::for_each_node(n, |x| {
                    if x.kind() == "string_content" {
                        strings.push(text(x, src));
                    }
                });
                return strings.iter().all(|s| matches!(s.trim(), "%s" | "?" | "," | ", " | "" | " OR " | " AND "))
                    && !text(n, src).contains("f\"")
                    && !text(n, src).contains("f'");
            }
            false
        }
        "binary_operator" => {
            n.child_by_field_name("left").is_some_and(|l| safe_value(l, src))
                && n.child_by_field_name("right").is_some_and(|r| safe_value(r, src))
        }
        _ => false,
    }
}

}

/// `ALLOWED`, `self.ALLOWED`, `settings.COLUMNS`: a constant table; never the request's
/// uppercase attributes (`request.GET`, `request.META`), which carry user input.
fn is_constant_ref(dotted: &str) -> bool {
    let last = dotted.rsplit('.').next().unwrap_or(dotted);
    is_constant(last)
        && !matches!(last, "GET" | "POST" | "META" | "COOKIES" | "FILES" | "DATA" | "FORM")
        && !dotted.split('.').any(|p| p == "request" || p == "query_params" || p == "data")
}

fn is_constant(name: &str) -> bool {
    name.chars().any(|c| c.is_ascii_uppercase()) && !name.chars().any(|c| c.is_ascii_lowercase())
}


