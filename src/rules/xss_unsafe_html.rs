//! xss-unsafe-html: HTML escaping switched off for values that are not literals.
//!
//! Python: `mark_safe`/`SafeString`/`SafeText` of an f-string, concatenation, `%`/`.format()`
//! result or a variable; `format_html` whose format string is not a literal. Templates:
//! `{{ var|safe }}`, `{% autoescape off %}` around variables. React/JS:
//! `dangerouslySetInnerHTML={{ __html: x }}`, `el.innerHTML = x`, `outerHTML`,
//! `insertAdjacentHTML`, `document.write(x)`, unless `x` is a literal or a sanitizer's result.

use std::sync::OnceLock;

use regex::Regex;
use tree_sitter::Node;

use crate::classify::{FileClass, Lang};
use crate::django::html::{
    escaping_helper, has_interpolation, is_literal, py_safe_call, safe_value_functions, Given, FUNCTIONS, SAFE_PRODUCERS,
};
use crate::project::Needs;
use crate::registry::{FileCtx, Rule};
use crate::finding::excerpt;
use crate::python::syntax::{call_args, text};

pub(crate) struct XssUnsafeHtml;

impl Rule for XssUnsafeHtml {
    fn id(&self) -> &'static str {
        "xss-unsafe-html"
    }

    fn needs(&self) -> Needs {
        Needs { template_contexts: true, ..Needs::NONE }
    }

    fn prefilter(&self) -> &'static [&'static str] {
        &[
            "mark_safe",
            "SafeString",
            "SafeText",
            "format_html",
            "safe",
            "autoescape",
            "dangerouslySetInnerHTML",
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
        ]
    }

    fn wants(&self, class: &FileClass) -> bool {
        class.is_production()
    }


    fn check_file(&self, ctx: &mut FileCtx<'_>) {
        let lang = ctx.file.class.lang;
        let mut out: Vec<(usize, usize, String)> = Vec::new();
        // What the project's views give this template (`Given`), by its name below
        // `templates/` (a file outside `templates/` has no name, and no views' contexts).
        let name = ctx.file.rel.rsplit_once("templates/").map_or("", |(_, n)| n);
        let keys = ctx.project.template_contexts.get(name).filter(|_| !name.is_empty()).and_then(|k| k.as_ref());
        if lang == Lang::Template {
            match renders_html(&ctx.file.rel, &ctx.file.text) {
                Output::Text => return,
                Output::Html => {
                    template(&ctx.file.text, &mut out);
                    let given = |v: &str| keys.and_then(|k| k.get(v)).copied();
                    let functions = ctx.project.template_contexts.get(FUNCTIONS).and_then(|k| k.as_ref());
                    let src = &ctx.file.text;
                    let lower = src.to_ascii_lowercase();
                    out.retain(|(s, e, _)| {
                        let m = &src[*s..*e];
                        if m.starts_with("{%") {
                            return true;
                        }
                        // In a `<script>` block the values are data the view serialised (chart
                        // series, configuration): reported only when a view builds them from the
                        // request, where a `</script>` in the input ends the block.
                        if in_script(&lower, *s) {
                            return value_root(m).is_some_and(|r| given(r) == Some(Given::Request));
                        }
                        // Made by a filter or method of the project that escapes what it puts in
                        // its HTML (`{{ finding|status_links|safe }}`).
                        let escaped_by = safe_value_functions(m);
                        if escaped_by.first().is_some_and(|f| functions.and_then(|k| k.get(f)) == Some(&Given::Safe)) {
                            return false;
                        }
                        // Values every view of the project gives the template already escaped.
                        safe_var(m).is_none_or(|v| given(v) != Some(Given::Safe))
                    });
                }
                // A fragment without tags is judged only where it outputs a value named as HTML
                // (`{{ html|safe }}`: a rich-text fragment included in pages).
                Output::Untagged => {
                    template(&ctx.file.text, &mut out);
                    out.retain(|(s, e, _)| ctx.file.text[*s..*e].to_ascii_lowercase().contains("html"));
                }
            }
        } else if lang == Lang::Python {
            let Some(tree) = ctx.file.tree() else { return };
            // The project's functions that escape, for the calls of imported ones.
            let escaping: Vec<String> = ctx
                .project
                .template_contexts
                .get(FUNCTIONS)
                .and_then(|k| k.as_ref())
                .map(|k| k.iter().filter(|(_, g)| **g == Given::Safe).map(|(n, _)| n.clone()).collect())
                .unwrap_or_default();
            PROJECT_ESCAPERS.with(|p| *p.borrow_mut() = escaping);
            python(tree.root_node(), &ctx.file.text, &mut out);
            PROJECT_ESCAPERS.with(|p| p.borrow_mut().clear());
        } else if lang.is_js_family() {
            let Some(tree) = ctx.file.tree() else { return };
            javascript(tree.root_node(), &ctx.file.text, &mut out);
        }
        // What is reported by default: values a request or the page's address can set. A value
        // whose source preflight cannot see (a context value, a model field, a component's
        // props) is what the project put there, as far as the code shows, and it is left to an
        // audit: `[xss-unsafe-html] report-unknown-sources = true`.
        let all = ctx.config.raw.xss_unsafe_html.report_unknown_sources;
        for (start, end, msg) in out {
            let span = &ctx.file.text[start..end];
            let known = match lang {
                Lang::Template => {
                    value_root(span).is_some_and(|r| r == "request" || keys.and_then(|k| k.get(r)) == Some(&Given::Request))
                        || (span.starts_with("{%") && REQUEST_DATA.iter().any(|r| span.contains(r)))
                }
                Lang::Python => REQUEST_DATA.iter().any(|r| span.contains(r)),
                _ => DOM_SOURCES.iter().any(|r| span.contains(r)),
            };
            if all || known {
                ctx.report(start, end, msg);
            }
        }
    }
}

/// Request data in Python code or templates: what a client sends.
const REQUEST_DATA: &[&str] = &[
    "request.GET",
    "request.POST",
    "request.data",
    "request.query_params",
    "request.body",
    "request.COOKIES",
    "request.META",
    "request.headers",
    "request.FILES",
    "self.kwargs",
];

/// Where page script reads what a link or another page can set (DOM XSS sources).
const DOM_SOURCES: &[&str] = &[
    "location.search",
    "location.hash",
    "location.href",
    "document.URL",
    "document.documentURI",
    "document.referrer",
    "window.name",
    "URLSearchParams",
    "searchParams",
    "useSearchParams",
    "router.query",
    "event.data",
    "document.cookie",
];

fn python(root: Node<'_>, src: &str, out: &mut Vec<(usize, usize, String)>) {
    crate::parse::for_each_node(root, |n| {
        if n.kind() != "call" {
            return;
        }
        let Some(f) = n.child_by_field_name("function") else { return };
        let name = text(f, src).rsplit('.').next().unwrap_or("");
        let (pos, _) = call_args(n, src);
        let Some(arg) = pos.first().copied() else { return };
        BUDGET.with(|b| b.set(200));
        match name {
            "mark_safe" | "SafeString" | "SafeText" => {
                if let Some(why) = py_unsafe(arg, src) {
                    out.push((
                        n.start_byte(),
                        n.end_byte(),
                        format!(
                            "`{name}()` of {why} switches off escaping for whatever it holds (XSS): build the HTML with \
                             `format_html(\"<b>{{}}</b>\", value)`, which escapes each value"
                        ),
                    ));
                }
            }
            "format_html" => {
                if is_literal(arg, src)
                    || is_constant(text(arg, src))
                    || local_is_safe(arg, src)
                    || class_attr_is_literal(arg, src)
                {
                    return;
                }
                out.push((
                    n.start_byte(),
                    n.end_byte(),
                    format!(
                        "`format_html()` with a non-literal format string (`{}`): values already in it are not escaped \
                         (XSS); pass a literal format string and the values as arguments",
                        excerpt(text(arg, src))
                    ),
                ));
            }
            _ => {}
        }
    });
}

fn is_constant(s: &str) -> bool {
    let last = s.rsplit('.').next().unwrap_or(s);
    // `__version__`, `__docs__`: module metadata written in the source.
    let dunder = last.len() > 4 && last.starts_with("__") && last.ends_with("__");
    dunder || (last.chars().any(|c| c.is_ascii_uppercase()) && !last.chars().any(|c| c.is_ascii_lowercase()))
}

/// Why a `mark_safe` argument may carry unescaped input, or `None` when it cannot. A string
/// built by f-string, `+`, `%` or `.format()` is safe when every value put into it is: a literal,
/// a translation of one, a number, a constant, or the result of an escaper (`escape(x)`).
fn py_unsafe(arg: Node<'_>, src: &str) -> Option<String> {
    let f = arg.child_by_field_name("function").map(|f| text(f, src)).unwrap_or("");
    let what = match arg.kind() {
        "string" if has_interpolation(arg) => "an f-string interpolating",
        "binary_operator" => "a string built with",
        "call" if f.ends_with(".format") => "a `.format()` result with",
        "call" if f.ends_with(".join") => "a joined string with",
        "identifier" | "attribute" | "subscript" => {
            let t = text(arg, src);
            if is_constant(t) || local_is_safe(arg, src) || class_attr_is_literal(arg, src) {
                return None;
            }
            return Some(format!("`{}`", excerpt(t)));
        }
        _ => return None,
    };
    let piece = unsafe_piece(arg, src, 0)?;
    Some(format!("{what} `{}` (`{}`)", excerpt(text(piece, src)), excerpt(text(arg, src))))
}

/// The first value put into a built string that is not known to be safe HTML.
fn unsafe_piece<'t>(n: Node<'t>, src: &str, depth: usize) -> Option<Node<'t>> {
    if depth > 32 {
        return Some(n);
    }
    let all = |parts: Vec<Node<'t>>| parts.into_iter().find_map(|p| unsafe_piece(p, src, depth + 1));
    match n.kind() {
        "string" => {
            let mut c = n.walk();
            let values: Vec<Node<'t>> = n
                .named_children(&mut c)
                .filter(|ch| ch.kind() == "interpolation")
                .filter_map(|i| i.child_by_field_name("expression").or_else(|| i.named_child(0)))
                .collect();
            all(values)
        }
        "concatenated_string" => {
            let mut c = n.walk();
            let parts: Vec<Node<'t>> = n.named_children(&mut c).collect();
            all(parts)
        }
        "integer" | "float" | "true" | "false" | "none" => None,
        // `a if cond else b`: both branches (the condition is not put into the string).
        "conditional_expression" => {
            let mut c = n.walk();
            let parts: Vec<Node<'t>> = n.named_children(&mut c).enumerate().filter(|(i, _)| *i != 1).map(|(_, x)| x).collect();
            all(parts)
        }
        "parenthesized_expression" => all(n.named_child(0).into_iter().collect()),
        "tuple" | "list" => {
            let mut c = n.walk();
            let parts: Vec<Node<'t>> = n.named_children(&mut c).collect();
            all(parts)
        }
        "dictionary" => {
            let mut c = n.walk();
            let parts: Vec<Node<'t>> =
                n.named_children(&mut c).filter_map(|p| p.child_by_field_name("value")).collect();
            all(parts)
        }
        "binary_operator" => {
            let parts: Vec<Node<'t>> =
                [n.child_by_field_name("left"), n.child_by_field_name("right")].into_iter().flatten().collect();
            all(parts)
        }
        "list_splat" => all(n.named_child(0).into_iter().collect()),
        "comment" => None,
        // PREFERENCES[key]["label"], pref["note"] of a loop over a constant.
        "subscript" => (!loop_over_constant(n, src)).then_some(n),
        "identifier" | "attribute" => {
            let t = text(n, src);
            let last = t.rsplit('.').next().unwrap_or(t);
            // Primary and foreign keys are integers: `obj.pk`, `self.manufacturer_id`.
            let key = n.kind() == "attribute" && (last == "pk" || last == "id" || last.ends_with("_id"));
            (!(key
                || is_constant(t)
                || local_is_safe_at(n, src, depth + 1)
                || class_attr_is_literal(n, src)
                || loop_over_constant(n, src)))
                .then_some(n)
        }
        "call" => {
            if is_literal(n, src) {
                return None;
            }
            let f = n.child_by_field_name("function").map(|f| text(f, src)).unwrap_or("");
            let last = f.rsplit('.').next().unwrap_or(f);
            if py_safe_call(f)
                || escaping_helper(n, src)
                || matches!(last, "int" | "len" | "float" | "round" | "abs" | "ord" | "count" | "escapejs" | "json_script")
                || own_method_safe(n, src, depth)
                || module_function_safe(n, src, depth)
                || imported_escaper(n, src)
                || autoescape_alias(n, src)
                // A choice's label (`get_status_display()`): text written in the source.
                || (last.starts_with("get_") && last.ends_with("_display"))
                // Dates as text: digits, month names, "2 hours ago".
                || matches!(last, "isoformat" | "strftime" | "naturaltime" | "naturalday" | "intcomma")
                || (last == "mark_safe" && py_unsafe_arg_is_literal(n, src))
            {
                return None;
            }
            // mark_safe(x) is as safe as x.
            if matches!(last, "mark_safe" | "SafeString" | "SafeText") {
                return match call_args(n, src).0.first() {
                    Some(a) => unsafe_piece(*a, src, depth + 1),
                    None => None,
                };
            }
            if last == "join" {
                // "".join("<p>" + escape(m) + "</p>" for m in msgs): the separator and each item.
                let sep = n.child_by_field_name("function").and_then(|f| f.child_by_field_name("object"));
                let items = n
                    .child_by_field_name("arguments")
                    .filter(|a| a.kind() == "generator_expression")
                    .or_else(|| call_args(n, src).0.first().copied());
                let body = items.and_then(|i| match i.kind() {
                    "generator_expression" | "list_comprehension" => i.child_by_field_name("body"),
                    _ => None,
                });
                // A join of a list built elsewhere (rendered fragments, usually) is not judged.
                return match (sep, body) {
                    (Some(sep), Some(body)) => all(vec![sep, body]),
                    _ => None,
                };
            }
            if last == "format" {
                // "...{}...".format(a, b): the template and every value.
                let template = n.child_by_field_name("function").and_then(|f| f.child_by_field_name("object"));
                let (pos, kw) = call_args(n, src);
                let mut parts: Vec<Node<'t>> = template.into_iter().collect();
                parts.extend(pos);
                parts.extend(kw.into_iter().map(|(_, v)| v));
                return all(parts);
            }
            Some(n)
        }
        _ => Some(n),
    }
}

/// A loop variable, or an attribute of one, over a constant of the source: `for name, pref in
/// PREFERENCES.items()`, `f"<code>{c}</code>" for c in ColorChoices.values()`. A name also
/// assigned in the function is not one.
fn loop_over_constant(n: Node<'_>, src: &str) -> bool {
    let mut root = n;
    while matches!(root.kind(), "attribute" | "subscript") {
        let field = if root.kind() == "attribute" { "object" } else { "value" };
        match root.child_by_field_name(field) {
            Some(o) => root = o,
            None => return false,
        }
    }
    if root.kind() != "identifier" {
        return false;
    }
    let name = text(root, src);
    // The innermost comprehension binding the name decides alone; else the function's loops.
    let mut scope = root.parent();
    while let Some(s) = scope {
        if matches!(s.kind(), "function_definition" | "module") {
            break;
        }
        if matches!(s.kind(), "generator_expression" | "list_comprehension" | "set_comprehension" | "dictionary_comprehension") {
            let mut c = s.walk();
            let binds = s.named_children(&mut c).filter(|x| x.kind() == "for_in_clause").any(|f| {
                let mut b = false;
                if let Some(l) = f.child_by_field_name("left") {
                    crate::parse::for_each_node(l, |id| b |= id.kind() == "identifier" && text(id, src) == name);
                }
                b
            });
            if binds {
                break;
            }
        }
        scope = s.parent();
    }
    let Some(scope) = scope else { return false };
    let constant_iter = |it: Node<'_>| -> bool {
        let it = match it.kind() {
            // ColorChoices.values(), PREFERENCES.items(), enumerate(CHOICES)
            "call" => {
                let f = it.child_by_field_name("function").map(|f| text(f, src)).unwrap_or("");
                match f.rsplit_once('.') {
                    Some((obj, "values" | "items" | "keys")) => obj,
                    _ if f == "enumerate" || f == "sorted" => {
                        return call_args(it, src).0.first().is_some_and(|a| is_constant(text(*a, src)));
                    }
                    _ => return false,
                }
            }
            _ => text(it, src),
        };
        let last = it.rsplit('.').next().unwrap_or(it);
        is_constant(it) || (last.ends_with("Choices") && last.starts_with(|c: char| c.is_ascii_uppercase()))
    };
    let (mut bound, mut other) = (false, false);
    crate::parse::for_each_node(scope, |x| {
        let (left, right) = match x.kind() {
            "for_statement" | "for_in_clause" => (x.child_by_field_name("left"), x.child_by_field_name("right")),
            "assignment" | "augmented_assignment" => {
                if x.child_by_field_name("left").is_some_and(|l| text(l, src) == name) {
                    other = true;
                }
                return;
            }
            _ => return,
        };
        let Some(left) = left else { return };
        let mut binds = false;
        crate::parse::for_each_node(left, |id| binds |= id.kind() == "identifier" && text(id, src) == name);
        if binds {
            if right.is_some_and(constant_iter) {
                bound = true;
            } else {
                other = true;
            }
        }
    });
    bound && !other
}

/// `self.name(...)` where the enclosing class defines `name` once and every one of its returns is
/// safe HTML (a literal, `mark_safe` of a literal, a string built only of safe values).
fn own_method_safe(call: Node<'_>, src: &str, depth: usize) -> bool {
    let Some(f) = call.child_by_field_name("function").filter(|f| f.kind() == "attribute") else { return false };
    let (Some(obj), Some(attr)) = (f.child_by_field_name("object"), f.child_by_field_name("attribute")) else {
        return false;
    };
    if !matches!(text(obj, src), "self" | "cls") {
        return false;
    }
    let name = text(attr, src);
    let mut class = call.parent();
    while let Some(c) = class.filter(|c| c.kind() != "class_definition") {
        class = c.parent();
    }
    let Some(body) = class.and_then(|c| c.child_by_field_name("body")) else { return false };
    let mut defs = Vec::new();
    let mut c = body.walk();
    for stmt in body.named_children(&mut c) {
        let def = if stmt.kind() == "decorated_definition" { stmt.child_by_field_name("definition") } else { Some(stmt) };
        if let Some(d) = def.filter(|d| d.kind() == "function_definition") {
            if d.child_by_field_name("name").is_some_and(|x| text(x, src) == name) {
                defs.push(d);
            }
        }
    }
    let [def] = defs[..] else { return false };
    returns_safe(def, src, depth)
}

/// `name(...)` of a function defined once at the top level of the module, every return of which
/// is safe HTML (as `own_method_safe`).
fn module_function_safe(call: Node<'_>, src: &str, depth: usize) -> bool {
    let Some(f) = call.child_by_field_name("function").filter(|f| f.kind() == "identifier") else { return false };
    let name = text(f, src);
    let mut root = call;
    while let Some(p) = root.parent() {
        root = p;
    }
    let mut defs = Vec::new();
    let mut c = root.walk();
    for stmt in root.named_children(&mut c) {
        let def = if stmt.kind() == "decorated_definition" { stmt.child_by_field_name("definition") } else { Some(stmt) };
        if let Some(d) = def.filter(|d| d.kind() == "function_definition") {
            if d.child_by_field_name("name").is_some_and(|x| text(x, src) == name) {
                defs.push(d);
            }
        }
    }
    let [def] = defs[..] else { return false };
    returns_safe(def, src, depth)
}

/// Every `return` of a function gives safe HTML (at least one does; a bare `return` is `None`).
fn returns_safe(def: Node<'_>, src: &str, depth: usize) -> bool {
    let mut returns = Vec::new();
    crate::parse::for_each_node(def, |n| {
        if n.kind() == "return_statement" {
            returns.push(n.named_child(0));
        }
    });
    !returns.is_empty() && returns.iter().all(|r| r.is_none_or(|r| unsafe_piece(r, src, depth + 2).is_none()))
}

/// `name(...)` of a function the module imports by name from the project, whose every definition
/// escapes what it puts in its HTML (`from utilities.html import clean_html`).
fn imported_escaper(call: Node<'_>, src: &str) -> bool {
    let Some(f) = call.child_by_field_name("function").filter(|f| f.kind() == "identifier") else { return false };
    let name = text(f, src);
    if !PROJECT_ESCAPERS.with(|p| p.borrow().iter().any(|n| n == name)) {
        return false;
    }
    let mut root = call;
    while let Some(p) = root.parent() {
        root = p;
    }
    let mut imported = false;
    crate::parse::for_each_node(root, |n| {
        if n.kind() == "import_from_statement" {
            let mut c = n.walk();
            // `from m import name` (not `from m import name as other`, nor a module).
            imported |= n
                .children_by_field_name("name", &mut c)
                .any(|x| x.kind() == "dotted_name" && text(x, src) == name);
        }
    });
    imported
}

/// Django's `needs_autoescape` idiom: in a filter taking `autoescape`, `esc = conditional_escape`
/// when it is on (and the identity when the template switched escaping off). `esc(x)` escapes
/// exactly when the template does.
fn autoescape_alias(call: Node<'_>, src: &str) -> bool {
    let Some(f) = call.child_by_field_name("function").filter(|f| f.kind() == "identifier") else { return false };
    let name = text(f, src);
    let Some(scope) = scope_of(call).filter(|s| s.kind() == "function_definition") else { return false };
    let takes_autoescape = scope.child_by_field_name("parameters").is_some_and(|p| {
        let mut found = false;
        crate::parse::for_each_node(p, |n| found |= n.kind() == "identifier" && text(n, src) == "autoescape");
        found
    });
    let mut aliased = false;
    crate::parse::for_each_node(scope, |n| {
        if n.kind() == "assignment"
            && n.child_by_field_name("left").is_some_and(|l| text(l, src) == name)
            && n.child_by_field_name("right").is_some_and(|r| matches!(text(r, src), "conditional_escape" | "escape"))
        {
            aliased = true;
        }
    });
    takes_autoescape && aliased
}

/// `self.template` where the module's classes set `template` only to literals (or translations
/// of literals) in their bodies: the HTML comes from the source, not from input.
fn class_attr_is_literal(n: Node<'_>, src: &str) -> bool {
    if n.kind() != "attribute" {
        return false;
    }
    let (Some(obj), Some(attr)) = (n.child_by_field_name("object"), n.child_by_field_name("attribute")) else {
        return false;
    };
    if !matches!(text(obj, src), "self" | "cls") {
        return false;
    }
    let name = text(attr, src);
    let mut root = n;
    while let Some(p) = root.parent() {
        root = p;
    }
    let mut values = Vec::new();
    let mut assigned_elsewhere = false;
    let mut set_in_methods = false;
    crate::parse::for_each_node(root, |x| {
        if x.kind() != "assignment" {
            return;
        }
        let Some(left) = x.child_by_field_name("left") else { return };
        let right = x.child_by_field_name("right");
        // A class-level `name = value`, or an assignment `self.name = value` in a method.
        let in_class_body = x.parent().and_then(|p| p.parent()).is_some_and(|b| {
            b.kind() == "block" && b.parent().is_some_and(|c| c.kind() == "class_definition")
        });
        if left.kind() == "identifier" && text(left, src) == name && in_class_body {
            values.push(right);
        } else if left.kind() == "attribute" && left.child_by_field_name("attribute").is_some_and(|a| text(a, src) == name)
        {
            // `self.name = "..."` in a method: judged like any built string.
            let own = left.child_by_field_name("object").is_some_and(|o| text(o, src) == "self");
            match right {
                Some(r) if own && unsafe_piece(r, src, 16).is_none() => set_in_methods = true,
                _ => assigned_elsewhere = true,
            }
        }
    });
    !assigned_elsewhere
        && (!values.is_empty() || set_in_methods)
        && values.iter().all(|v| v.is_some_and(|v| is_literal(v, src) || class_fstring_literal(v, root, src, 0)))
}

/// A class-level f-string that interpolates only other class-level names set to literals (or to
/// such f-strings): `ui_outreach = f"{ui_try_free} or {ui_contact_us}."`.
fn class_fstring_literal(v: Node<'_>, root: Node<'_>, src: &str, depth: usize) -> bool {
    if v.kind() != "string" || depth > 4 {
        return false;
    }
    let mut names = Vec::new();
    let mut other = false;
    let mut c = v.walk();
    for i in v.named_children(&mut c).filter(|ch| ch.kind() == "interpolation") {
        match i.child_by_field_name("expression").or_else(|| i.named_child(0)) {
            Some(e) if e.kind() == "identifier" => names.push(text(e, src)),
            _ => other = true,
        }
    }
    if other {
        return false;
    }
    names.iter().all(|name| {
        let mut values = Vec::new();
        let mut elsewhere = false;
        crate::parse::for_each_node(root, |x| {
            if x.kind() != "assignment" {
                return;
            }
            let Some(left) = x.child_by_field_name("left").filter(|l| text(*l, src) == *name) else { return };
            let in_class_body = x.parent().and_then(|p| p.parent()).is_some_and(|b| {
                b.kind() == "block" && b.parent().is_some_and(|c| c.kind() == "class_definition")
            });
            if in_class_body && left.kind() == "identifier" {
                values.push(x.child_by_field_name("right"));
            } else {
                elsewhere = true;
            }
        });
        !elsewhere
            && !values.is_empty()
            && values.iter().all(|v| v.is_some_and(|v| is_literal(v, src) || class_fstring_literal(v, root, src, depth + 1)))
    })
}

/// A local variable every assignment of which is a literal or a safe producer's result.
fn local_is_safe(id: Node<'_>, src: &str) -> bool {
    local_is_safe_at(id, src, 0)
}

/// `local_is_safe`, `depth` levels into the values of other locals.
fn local_is_safe_at(id: Node<'_>, src: &str, depth: usize) -> bool {
    if id.kind() != "identifier" || depth > 32 {
        return false;
    }
    // A bound on the work for one call judged: locals read by locals can branch.
    if BUDGET.with(|b| {
        let left = b.get();
        b.set(left.saturating_sub(1));
        left == 0
    }) {
        return false;
    }
    let name = text(id, src);
    let Some(scope) = scope_of(id) else { return false };
    if ASSUMED.with(|a| a.borrow().iter().any(|(s, n)| *s == scope.id() && n == name)) {
        return true;
    }
    let mut assigns: Vec<(Node<'_>, Option<Node<'_>>)> = Vec::new();
    crate::parse::for_each_node(scope, |n| {
        if matches!(n.kind(), "assignment" | "augmented_assignment")
            && n.child_by_field_name("left").is_some_and(|l| l.kind() == "identifier" && text(l, src) == name)
        {
            assigns.push((n, n.child_by_field_name("right")));
        }
        // `if warning := pref.warning:`
        if n.kind() == "named_expression" && n.child_by_field_name("name").is_some_and(|l| text(l, src) == name) {
            assigns.push((n, n.child_by_field_name("value")));
        }
    });
    let values: Vec<Option<Node<'_>>> = match dominating_assignment(id, &assigns) {
        Some(v) => vec![v],
        None => assigns.iter().map(|(_, v)| *v).collect(),
    };
    !values.is_empty()
        && values.iter().all(|v| {
            v.is_some_and(|v| match v.kind() {
                "string" | "concatenated_string" => !has_interpolation(v) || built_safe(v, src, name, depth),
                "call" if is_literal(v, src) => true,
                "call" => {
                    let f = v.child_by_field_name("function").map(|f| text(f, src)).unwrap_or("");
                    py_safe_call(f)
                        || escaping_helper(v, src)
                        || (f.ends_with("mark_safe") && py_unsafe_arg_is_literal(v, src))
                        || built_safe(v, src, name, depth)
                }
                // An f-string or a concatenation whose every value is safe HTML, not reading the
                // local itself (`html = f"{html}<li>"` is judged by its other assignments).
                _ => built_safe(v, src, name, depth),
            })
        })
}

/// The one assignment that decides a local's value at `use`: the last plain assignment before it,
/// a statement of a block that holds the use (so it runs on every path to the use, and no other
/// assignment comes between), when no assignment follows the use (a loop could bring one back).
/// `html = markdown(text); html = f"<div>{html}</div>"; html = clean_html(html)`: the last.
fn dominating_assignment<'t>(use_: Node<'t>, assigns: &[(Node<'t>, Option<Node<'t>>)]) -> Option<Option<Node<'t>>> {
    if assigns.iter().any(|(a, _)| a.start_byte() > use_.start_byte()) {
        return None;
    }
    let (last, value) = assigns.iter().filter(|(a, _)| a.kind() == "assignment").max_by_key(|(a, _)| a.start_byte())?;
    if assigns.iter().any(|(a, _)| a.start_byte() > last.start_byte()) {
        return None; // an augmented assignment or a walrus after it
    }
    let stmt = last.parent().filter(|p| p.kind() == "expression_statement")?;
    let block = stmt.parent()?;
    let mut up = use_.parent();
    while let Some(u) = up {
        if u.id() == block.id() {
            return Some(*value);
        }
        up = u.parent();
    }
    None
}

/// A string built (f-string, `+`, `.format()`, `"sep".join(... for ...)`) only of safe values.
///
/// A value that reads the local itself (`html += f"<li>{escape(x)}</li>"`, `text =
/// f"{pref.description}<br>{text}"`) is judged assuming the local safe, which holds by induction
/// when the local is bound nowhere but by these assignments (not a parameter, a loop target, ...).
fn built_safe(v: Node<'_>, src: &str, local: &str, depth: usize) -> bool {
    let mut reads_itself = false;
    crate::parse::for_each_node(v, |n| reads_itself |= n.kind() == "identifier" && text(n, src) == local);
    if !reads_itself {
        return unsafe_piece(v, src, depth + 2).is_none();
    }
    // `value = highlight(value, q)`: a sanitizer's result, whatever it was given.
    if v.kind() == "call" {
        let f = v.child_by_field_name("function").map(|f| text(f, src)).unwrap_or("");
        if py_safe_call(f)
            || escaping_helper(v, src)
            || imported_escaper(v, src)
            || module_function_safe(v, src, depth)
            || own_method_safe(v, src, depth)
        {
            return true;
        }
    }
    let Some(scope) = scope_of(v) else { return false };
    if bound_otherwise(scope, local, src) {
        return false;
    }
    let key = (scope.id(), local.to_string());
    ASSUMED.with(|a| a.borrow_mut().push(key.clone()));
    let safe = unsafe_piece(v, src, depth + 2).is_none();
    ASSUMED.with(|a| a.borrow_mut().retain(|k| *k != key));
    safe
}

thread_local! {
    /// Locals `local_is_safe_at` may still look into for the call being judged.
    static BUDGET: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    /// The project's functions that escape what they put in their HTML (`escaping_function`),
    /// while one Python file is checked.
    static PROJECT_ESCAPERS: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
    /// Locals assumed safe while their self-reading assignments are judged (`built_safe`).
    static ASSUMED: std::cell::RefCell<Vec<(usize, String)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The function (or module) a node belongs to.
fn scope_of(n: Node<'_>) -> Option<Node<'_>> {
    let mut scope = n.parent();
    while let Some(s) = scope {
        if s.kind() == "function_definition" || s.kind() == "module" {
            return Some(s);
        }
        scope = s.parent();
    }
    None
}

/// Whether `name` is bound in `scope` other than by an assignment: a parameter, a loop target,
/// `with ... as`, `except ... as`, an import, `global`/`nonlocal`.
fn bound_otherwise(scope: Node<'_>, name: &str, src: &str) -> bool {
    let mut found = false;
    if let Some(params) = scope.child_by_field_name("parameters") {
        crate::parse::for_each_node(params, |n| found |= n.kind() == "identifier" && text(n, src) == name);
    }
    crate::parse::for_each_node(scope, |n| {
        let target = match n.kind() {
            "for_statement" | "for_in_clause" => n.child_by_field_name("left"),
            "as_pattern" | "with_item" | "except_clause" | "import_statement" | "import_from_statement"
            | "global_statement" | "nonlocal_statement" => Some(n),
            _ => None,
        };
        if let Some(t) = target {
            crate::parse::for_each_node(t, |x| found |= x.kind() == "identifier" && text(x, src) == name);
        }
    });
    found
}

fn py_unsafe_arg_is_literal(call: Node<'_>, src: &str) -> bool {
    call_args(call, src).0.first().is_some_and(|a| a.kind() == "string" && !has_interpolation(*a))
}

/// The context key a `{{ var.attr|safe }}` match reads: `var`.
fn value_root(m: &str) -> Option<&str> {
    let inner = m.strip_prefix("{{")?.trim_start_matches('-').trim_start();
    let var = inner.split(|c: char| c == '|' || c == '.' || c.is_whitespace()).next()?;
    (!var.is_empty() && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')).then_some(var)
}

/// The variable of a `{{ var|safe }}` match, when it is a plain name (a context key).
fn safe_var(m: &str) -> Option<&str> {
    let inner = m.strip_prefix("{{")?.trim_start_matches('-').trim_start();
    let var = inner.split(|c: char| c == '|' || c.is_whitespace()).next()?;
    (!var.is_empty() && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')).then_some(var)
}

enum Output {
    Html,
    /// Plain text by its name: an e-mail's text part or subject.
    Text,
    /// No HTML tag or comment at all: SMS, chat and API messages, titles (or an HTML fragment).
    Untagged,
}

/// Whether a template renders HTML. Not: plain-text e-mail bodies and subjects by their names
/// (`alert-body-text.html`, `welcome_subject.html`, `body.text.html`); and most likely not a
/// template without a single HTML tag or comment (SMS, chat and API messages, titles), whose
/// output nobody parses as HTML. Escaping them would put `&amp;` in a text message.
fn renders_html(rel: &str, src: &str) -> Output {
    static TAG: OnceLock<Regex> = OnceLock::new();
    let name = rel.rsplit('/').next().unwrap_or(rel).to_ascii_lowercase();
    let stem = name.split_once('.').map_or(name.as_str(), |(s, _)| s);
    let text_name = ["text", "txt", "plain", "subject"].iter().any(|w| {
        stem == *w
            || stem.ends_with(&format!("-{w}"))
            || stem.ends_with(&format!("_{w}"))
            || name.contains(&format!(".{w}."))
    });
    let tag = TAG.get_or_init(|| Regex::new(r"<[A-Za-z!/]").unwrap());
    if text_name {
        Output::Text
    } else if tag.is_match(src) {
        Output::Html
    } else {
        Output::Untagged
    }
}

/// Variables a template sets to literals only: `{% cycle '' '</tr><tr>' as row silent %}`,
/// `{% with sep="<br>" %}`.
fn literal_template_vars(src: &str) -> Vec<String> {
    static CYCLE: OnceLock<Regex> = OnceLock::new();
    static WITH: OnceLock<Regex> = OnceLock::new();
    static LIT: OnceLock<Regex> = OnceLock::new();
    let cycle = CYCLE.get_or_init(|| Regex::new(r"\{%-?\s*cycle\s+(.*?)\s+as\s+(\w+)").unwrap());
    let with = WITH.get_or_init(|| Regex::new(r"\{%-?\s*with\s+([^%]*)%\}").unwrap());
    let lit = LIT.get_or_init(|| Regex::new(r#"^(?:\s*(?:'[^']*'|"[^"]*"))+\s*$"#).unwrap());
    let mut out = Vec::new();
    for c in cycle.captures_iter(src) {
        if lit.is_match(&c[1]) {
            out.push(c[2].to_string());
        }
    }
    static PAIR: OnceLock<Regex> = OnceLock::new();
    let pair = PAIR.get_or_init(|| Regex::new(r#"(\w+)=(?:'[^']*'|"[^"]*"|(\S+))"#).unwrap());
    for c in with.captures_iter(src) {
        for p in pair.captures_iter(&c[1]) {
            if p.get(2).is_none() {
                out.push(p[1].to_string());
            }
        }
    }
    // A name set to a non-literal anywhere else in the template is not a constant.
    out.retain(|v| {
        !with.captures_iter(src).any(|c| pair.captures_iter(&c[1]).any(|p| &p[1] == v && p.get(2).is_some()))
    });
    out
}

/// Whether byte `at` of a template is inside a `<script>` element: the last `<script` before it
/// is not closed before it.
/// `lower` is the template lower-cased (ASCII, so its offsets are the source's).
fn in_script(lower: &str, at: usize) -> bool {
    let before = lower.get(..at).unwrap_or("");
    before.rfind("<script").is_some_and(|open| !before[open..].contains("</script"))
}

fn template(src: &str, out: &mut Vec<(usize, usize, String)>) {
    static SAFE: OnceLock<Regex> = OnceLock::new();
    static AUTO: OnceLock<Regex> = OnceLock::new();
    let safe = SAFE.get_or_init(|| Regex::new(r"\{\{-?\s*([^{}|]+?)\s*((?:\|[^{}]*?)?)\|\s*safe\b[^{}]*\}\}").unwrap());
    let auto = AUTO.get_or_init(|| {
        Regex::new(r"(?s)\{%-?\s*autoescape\s+off\s*-?%\}(.*?)\{%-?\s*endautoescape\s*-?%\}").unwrap()
    });
    let literal_vars = literal_template_vars(src);
    let lower = src.to_ascii_lowercase();
    for c in safe.captures_iter(src) {
        let var = c[1].trim();
        if literal_vars.iter().any(|v| v == var) {
            continue;
        }
        // Literals; and help texts, which Django renders unescaped by design: developers write them.
        // Settings and configuration constants (`config.BANNER_LOGIN`): set by whoever deploys.
        if var.starts_with('"')
            || var.starts_with('\'')
            || var.chars().all(|ch| ch.is_ascii_digit())
            || var.ends_with("help_text")
            || is_constant(var)
        {
            continue;
        }
        let m = c.get(0).expect("match");
        // In a `<script>` block, HTML escaping is not the fix (it garbles JSON and strings);
        // `json_script` is.
        let msg = if in_script(&lower, m.start()) {
            let id: String = var.chars().map(|ch| if ch.is_ascii_alphanumeric() { ch } else { '-' }).collect();
            format!(
                "`{}` writes `{var}` into a `<script>` block unescaped: a value holding `</script>` ends the block \
                 and the rest runs as HTML (XSS): render it with `{{{{ {var}|json_script:\"{id}\" }}}}` outside the \
                 script and read it with `JSON.parse(document.getElementById(\"{id}\").textContent)`",
                excerpt(m.as_str())
            )
        } else {
            format!(
                "`{}` marks `{var}` safe, so the template does not escape it (XSS): let Django escape it, or build \
                 the HTML in Python with `format_html()`",
                excerpt(m.as_str())
            )
        };
        out.push((m.start(), m.end(), msg));
    }
    for c in auto.captures_iter(src) {
        let body = c.get(1).expect("body");
        if !body.as_str().contains("{{") {
            continue;
        }
        let m = c.get(0).expect("match");
        let tag_end = src[m.start()..].find("%}").map_or(m.end(), |i| m.start() + i + 2);
        out.push((
            m.start(),
            tag_end,
            "`{% autoescape off %}` around variables: none of them is escaped (XSS); remove it, or mark only \
             trusted values safe"
                .to_string(),
        ));
    }
}

fn javascript(root: Node<'_>, src: &str, out: &mut Vec<(usize, usize, String)>) {
    let safe_locals = sanitized_locals(root, src);
    // An escaper imported under another name: `import { escapeHtml as h } from "./utils"`.
    let mut safe_aliases: Vec<&str> = Vec::new();
    crate::parse::for_each_node(root, |n| {
        if n.kind() != "import_specifier" {
            return;
        }
        let (Some(name), Some(alias)) = (n.child_by_field_name("name"), n.child_by_field_name("alias")) else { return };
        if SAFE_PRODUCERS.contains(&text(name, src)) {
            safe_aliases.push(text(alias, src));
        }
    });
    let js_unsafe = |v: Node<'_>| -> Option<String> {
        if js_markup(v, src, 0) {
            return None;
        }
        match v.kind() {
            "string" | "number" | "null" | "undefined" => None,
            "template_string" => {
                let mut c = v.walk();
                let subs = v.named_children(&mut c).any(|x| x.kind() == "template_substitution");
                subs.then(|| format!("a template string (`{}`)", excerpt(text(v, src))))
            }
            "call_expression" => {
                let f = v.child_by_field_name("function").map(|f| text(f, src)).unwrap_or("");
                let last = f.rsplit('.').next().unwrap_or(f);
                if SAFE_PRODUCERS.iter().any(|p| f == *p || last == *p) || safe_aliases.contains(&f) {
                    None
                } else {
                    Some(format!("`{}`", excerpt(text(v, src))))
                }
            }
            "identifier" if safe_locals.iter().any(|s| s == text(v, src)) => None,
            "identifier" if server_response(v, src) => None,
            _ => Some(format!("`{}`", excerpt(text(v, src)))),
        }
    };
    crate::parse::for_each_node(root, |n| match n.kind() {
        "jsx_attribute" => {
            let mut c = n.walk();
            let kids: Vec<Node<'_>> = n.named_children(&mut c).collect();
            if kids.first().map(|k| text(*k, src)) != Some("dangerouslySetInnerHTML") {
                return;
            }
            // {{ __html: x }}
            let Some(value) = kids.get(1) else { return };
            let mut html = None;
            crate::parse::for_each_node(*value, |p| {
                if p.kind() == "pair" && p.child_by_field_name("key").is_some_and(|k| text(k, src) == "__html") {
                    html = p.child_by_field_name("value");
                }
            });
            let Some(html) = html else { return };
            if let Some(why) = js_unsafe(html) {
                out.push((
                    n.start_byte(),
                    n.end_byte(),
                    format!(
                        "`dangerouslySetInnerHTML` renders {why} as HTML without escaping (XSS): render it as text, or \
                         sanitize it first (`DOMPurify.sanitize(html)`)"
                    ),
                ));
            }
        }
        "assignment_expression" => {
            let Some(left) = n.child_by_field_name("left") else { return };
            if left.kind() != "member_expression" {
                return;
            }
            let prop = left.child_by_field_name("property").map(|p| text(p, src)).unwrap_or("");
            if prop != "innerHTML" && prop != "outerHTML" {
                return;
            }
            let Some(right) = n.child_by_field_name("right") else { return };
            if let Some(why) = js_unsafe(right) {
                out.push((
                    n.start_byte(),
                    n.end_byte(),
                    format!(
                        "`{prop}` set to {why}: the browser parses it as HTML (XSS); use `textContent`, or sanitize it \
                         first (`DOMPurify.sanitize(html)`)"
                    ),
                ));
            }
        }
        "call_expression" => {
            let Some(f) = n.child_by_field_name("function") else { return };
            let ft = text(f, src);
            let which = if ft.ends_with(".insertAdjacentHTML") {
                1
            } else if ft == "document.write" || ft == "document.writeln" {
                0
            } else {
                return;
            };
            let Some(args) = n.child_by_field_name("arguments") else { return };
            let Some(arg) = args.named_child(which) else { return };
            if let Some(why) = js_unsafe(arg) {
                out.push((
                    n.start_byte(),
                    n.end_byte(),
                    format!(
                        "`{ft}()` with {why} inserts it as HTML (XSS): insert text nodes, or sanitize it first \
                         (`DOMPurify.sanitize(html)`)"
                    ),
                ));
            }
        }
        _ => {}
    });
}

/// Markup that is HTML already, escaped or parsed: the `.value` of highlight.js
/// (`hljs.highlight(code, opts).value`, which escapes the code it colours), another element's
/// `innerHTML`/`outerHTML` (markup the browser parsed and serialised, moved or copied with
/// literal replacements), and `a ? b : c`, `a || b` of those and literals.
fn js_markup(v: Node<'_>, src: &str, depth: usize) -> bool {
    if depth > 8 {
        return false;
    }
    let literal = |n: Node<'_>| matches!(n.kind(), "string" | "number" | "regex" | "null" | "undefined");
    match v.kind() {
        "string" | "number" | "null" | "undefined" => depth > 0,
        "parenthesized_expression" => v.named_child(0).is_some_and(|x| js_markup(x, src, depth + 1)),
        "ternary_expression" => {
            ["consequence", "alternative"].iter().all(|f| v.child_by_field_name(f).is_some_and(|x| js_markup(x, src, depth + 1)))
        }
        "binary_expression" => {
            let op = v.child_by_field_name("operator").map(|o| text(o, src)).unwrap_or("");
            matches!(op, "||" | "??")
                && ["left", "right"].iter().all(|f| v.child_by_field_name(f).is_some_and(|x| js_markup(x, src, depth + 1)))
        }
        "member_expression" => {
            let prop = v.child_by_field_name("property").map(|p| text(p, src)).unwrap_or("");
            let obj = v.child_by_field_name("object");
            match prop {
                "innerHTML" | "outerHTML" => true,
                "value" => obj.is_some_and(|o| {
                    o.kind() == "call_expression"
                        && o.child_by_field_name("function").is_some_and(|f| {
                            matches!(text(f, src), "hljs.highlight" | "hljs.highlightAuto" | "highlight.highlight")
                        })
                }),
                _ => false,
            }
        }
        // el.innerHTML.replace(/\n/g, "<br>"), html.trim()
        "call_expression" => {
            let Some(f) = v.child_by_field_name("function").filter(|f| f.kind() == "member_expression") else {
                return false;
            };
            let method = f.child_by_field_name("property").map(|p| text(p, src)).unwrap_or("");
            let args_literal = v.child_by_field_name("arguments").is_some_and(|a| {
                let mut c = a.walk();
                let all = a.named_children(&mut c).all(literal);
                all
            });
            matches!(method, "replace" | "replaceAll" | "trim") && args_literal
                && f.child_by_field_name("object").is_some_and(|o| js_markup(o, src, depth + 1) && o.kind() != "string")
        }
        _ => false,
    }
}

/// An identifier that is the body of the server's response, as an AJAX callback receives it:
/// the parameter of a jQuery `success:` callback or of a `.done(...)` callback, or of the
/// `.then(...)` callback after `response.text()`. That is HTML the project's own views rendered,
/// with their templates' escaping; whether those escape is judged in the templates.
fn server_response(id: Node<'_>, src: &str) -> bool {
    let name = text(id, src);
    let mut f = id.parent();
    while let Some(n) = f {
        if matches!(n.kind(), "arrow_function" | "function_expression" | "function") {
            break;
        }
        f = n.parent();
    }
    let Some(func) = f else { return false };
    // The identifier must be the callback's first parameter.
    let first = func
        .child_by_field_name("parameters")
        .and_then(|p| p.named_child(0))
        .or_else(|| func.child_by_field_name("parameter"));
    if first.is_none_or(|p| text(p, src) != name) {
        return false;
    }
    let Some(parent) = func.parent() else { return false };
    if parent.kind() == "pair" {
        // `$.ajax({ url, success: function (data) {...} })`
        let ajax = parent
            .parent()
            .and_then(|o| o.parent())
            .filter(|a| a.kind() == "arguments")
            .and_then(|a| a.parent())
            .and_then(|c| c.child_by_field_name("function"))
            .is_some_and(|c| matches!(text(c, src), "$.ajax" | "jQuery.ajax" | "$.get" | "$.post"));
        return ajax && parent.child_by_field_name("key").is_some_and(|k| text(k, src) == "success");
    }
    if parent.kind() != "arguments" {
        return false;
    }
    let Some(call) = parent.parent().filter(|c| c.kind() == "call_expression") else { return false };
    let Some(callee) = call.child_by_field_name("function").filter(|c| c.kind() == "member_expression") else {
        return false;
    };
    let method = callee.child_by_field_name("property").map(|p| text(p, src)).unwrap_or("");
    let object = callee.child_by_field_name("object").map(|o| text(o, src)).unwrap_or("");
    match method {
        "done" => object.contains("ajax") || object.contains("$.get") || object.contains("$.post"),
        "then" => object.contains(".text()"),
        _ => false,
    }
}

/// Names declared from a sanitizer or escaper: `const clean = DOMPurify.sanitize(html)`.
fn sanitized_locals(root: Node<'_>, src: &str) -> Vec<String> {
    let mut out = Vec::new();
    crate::parse::for_each_node(root, |n| {
        if n.kind() != "variable_declarator" {
            return;
        }
        let (Some(name), Some(value)) = (n.child_by_field_name("name"), n.child_by_field_name("value")) else {
            return;
        };
        let mut v = value;
        while v.kind() == "await_expression" {
            match v.named_child(0) {
                Some(x) => v = x,
                None => return,
            }
        }
        let safe = match v.kind() {
            "string" => true,
            // A template literal without substitutions: markup written in the source.
            "template_string" => {
                let mut c = v.walk();
                let constant = !v.named_children(&mut c).any(|x| x.kind() == "template_substitution");
                constant
            }
            "call_expression" => {
                let f = v.child_by_field_name("function").map(|f| text(f, src)).unwrap_or("");
                let last = f.rsplit('.').next().unwrap_or(f);
                SAFE_PRODUCERS.iter().any(|p| f == *p || last == *p)
            }
            _ => false,
        };
        if safe {
            out.push(text(name, src).to_string());
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn findings(py: &str) -> Vec<usize> {
        let tree = crate::parse::parse(Lang::Python, py).expect("parses");
        let mut out = Vec::new();
        python(tree.root_node(), py, &mut out);
        out.into_iter().map(|(s, _, _)| py[..s].lines().count()).collect()
    }

    #[test]
    fn locals_reading_locals_stay_bounded() {
        // Each local read twice by the next: a naive walk of the values doubles at every step.
        let mut py = String::from("def f(x):\n    v0 = x\n");
        for i in 1..40 {
            py.push_str(&format!("    v{i} = f\"{{v{}}}{{v{}}}\"\n", i - 1, i - 1));
        }
        py.push_str("    return mark_safe(v39)\n");
        let started = std::time::Instant::now();
        assert_eq!(findings(&py), vec![42]);
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn the_last_assignment_decides_only_when_it_dominates() {
        let py = "def a(t):\n    h = t\n    h = escape(h)\n    return mark_safe(h)\n\n\
                  def b(t, c):\n    h = escape(t)\n    if c:\n        h = t\n    return mark_safe(h)\n\n\
                  def c(rows):\n    h = ''\n    for r in rows:\n        mark_safe(h)\n        h = r\n";
        assert_eq!(findings(py), vec![10, 15]);
    }
}
