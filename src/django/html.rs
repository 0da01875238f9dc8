//! What Python code produces safe HTML: Django's escapers and HTML builders, sanitizers, URL
//! builders, literals and translations of them, escaping helpers of the same module; and the
//! contexts a project's views give to templates (`TemplateContexts`), with whether each value
//! given is safe.

use tree_sitter::Node;

use crate::python::syntax::{call_args, text};

/// Calls whose result is safe HTML: escapers, sanitizers, Django's HTML builders.
pub(crate) const SAFE_PRODUCERS: &[&str] = &[
    "format_html",
    "format_html_join",
    "escape",
    "conditional_escape",
    "render_to_string",
    "json_script",
    "linebreaks",
    "urlize",
    "strip_tags",
    "bleach.clean",
    "clean",
    "sanitize",
    "sanitizeHtml",
    "sanitize_html",
    "DOMPurify.sanitize",
    "purify.sanitize",
    "xss",
    "filterXSS",
    "escapeHtml",
    "escapeHTML",
    "marked.parse",
];

/// Python calls whose result holds no HTML special character or is escaped: URLs built by
/// Django or percent-encoded, and sanitizers. `quote` only as a bare call (`shlex.quote` quotes
/// for a shell, not for HTML).
const PY_SAFE_PRODUCERS: &[&str] = &[
    "urlencode",
    "parse.quote",
    "quote_plus",
    "reverse",
    "reverse_lazy",
    "get_absolute_url",
    "iri_to_uri",
    "escape_uri_path",
    "nh3.clean",
    // Django's `flatatt(attrs)`: ` key="value"` pairs with each value escaped.
    "flatatt",
    // `obj.__html__()`: the safe-HTML protocol (Django, MarkupSafe); the object vouches for it.
    "__html__",
];

/// Whether the Python callee `f` returns safe HTML: an escaper, a sanitizer, a URL builder.
pub(crate) fn py_safe_call(f: &str) -> bool {
    f == "quote" || SAFE_PRODUCERS.iter().chain(PY_SAFE_PRODUCERS).any(|p| f == *p || f.ends_with(&format!(".{p}")))
}

/// A call of a function of the same module that returns only escaped values: each `return`
/// gives an escaper's result, or a local that the function escapes and then only transforms
/// (`text = escape(text); text = linkify(text); return text.replace("\n", "<br>")`).
pub(crate) fn escaping_helper(call: Node<'_>, src: &str) -> bool {
    let Some(f) = call.child_by_field_name("function").filter(|f| f.kind() == "identifier") else { return false };
    let name = text(f, src);
    let mut root = call;
    while let Some(p) = root.parent() {
        root = p;
    }
    let mut defs = Vec::new();
    crate::parse::for_each_node(root, |n| {
        if n.kind() == "function_definition" && n.child_by_field_name("name").is_some_and(|x| text(x, src) == name) {
            defs.push(n);
        }
    });
    let [def] = defs[..] else { return false };
    let Some(body) = def.child_by_field_name("body") else { return false };
    let mut returns = Vec::new();
    let mut unescapes = false;
    crate::parse::for_each_node(body, |n| {
        if n.kind() == "return_statement" {
            returns.push(n.named_child(0));
        }
        if n.kind() == "call" && n.child_by_field_name("function").is_some_and(|x| text(x, src).ends_with("unescape")) {
            unescapes = true;
        }
    });
    if unescapes || returns.is_empty() {
        return false;
    }
    returns.iter().all(|r| {
        let Some(r) = *r else { return false };
        let r = receiver(r);
        match r.kind() {
            "call" => r.child_by_field_name("function").is_some_and(|x| py_safe_call(text(x, src))),
            "identifier" => {
                let var = text(r, src);
                let mut escaped = false;
                let mut other = false;
                crate::parse::for_each_node(body, |n| {
                    if n.kind() != "assignment"
                        || !n
                            .child_by_field_name("left")
                            .is_some_and(|l| l.kind() == "identifier" && text(l, src) == var)
                    {
                        return;
                    }
                    let Some(v) = n.child_by_field_name("right") else { return };
                    let callee = v.child_by_field_name("function").map(|x| text(x, src)).unwrap_or("");
                    if v.kind() == "call" && py_safe_call(callee) {
                        escaped = true;
                    } else if v.kind() != "call" || !text(v, src).contains(var) {
                        other = true;
                    }
                });
                escaped && !other
            }
            _ => false,
        }
    })
}

/// The innermost receiver of a method chain: `v.replace(a, b).strip()` → `v`.
fn receiver(mut v: Node<'_>) -> Node<'_> {
    while v.kind() == "call" {
        let Some(func) = v.child_by_field_name("function") else { break };
        match func.child_by_field_name("object") {
            Some(obj) if func.kind() == "attribute" => v = obj,
            _ => break,
        }
    }
    v
}

/// Gettext and its variants: their result is a translation of the literal they are given.
const GETTEXT: &[&str] = &[
    "_",
    "gettext",
    "gettext_lazy",
    "ugettext",
    "ugettext_lazy",
    "pgettext",
    "pgettext_lazy",
    "ngettext",
    "ngettext_lazy",
];

/// A string literal without interpolation, or gettext of one.
pub(crate) fn is_literal(n: Node<'_>, src: &str) -> bool {
    match n.kind() {
        "string" | "concatenated_string" => !has_interpolation(n),
        "call" => {
            let f = n.child_by_field_name("function").map(|f| text(f, src)).unwrap_or("");
            GETTEXT.contains(&f.rsplit('.').next().unwrap_or(f))
                && call_args(n, src)
                    .0
                    .iter()
                    .all(|a| matches!(a.kind(), "string" | "concatenated_string") && !has_interpolation(*a))
        }
        _ => false,
    }
}

pub(crate) fn has_interpolation(n: Node<'_>) -> bool {
    let mut found = false;
    crate::parse::for_each_node(n, |x| found |= x.kind() == "interpolation");
    found
}

/// Per template name (its path below `templates/`): each context key the project's views give
/// it, and whether every value given is safe (a literal, an escaper's or a sanitizer's result,
/// a URL, a same-module escaping helper's result). A template rendered anywhere with a context
/// preflight cannot read (`context.update(...)`, `**kwargs`, a context from elsewhere) has no
/// entry with `None`, and nothing in it counts as safe.
pub type TemplateContexts = std::collections::HashMap<String, Option<std::collections::HashMap<String, bool>>>;

/// The contexts one Python module gives to templates named in `wanted`, through
/// `render_to_string(name, ctx)` and `render(request, name, ctx)` with a literal name.
pub fn template_contexts(
    root: Node<'_>,
    src: &str,
    wanted: &std::collections::HashSet<String>,
    out: &mut TemplateContexts,
) {
    crate::parse::for_each_node(root, |n| {
        if n.kind() != "call" {
            return;
        }
        let f = n.child_by_field_name("function").map(|f| text(f, src)).unwrap_or("");
        let (pos, kw) = call_args(n, src);
        let (name_at, ctx_at) = match f.rsplit('.').next().unwrap_or(f) {
            "render_to_string" => (0, 1),
            "render" | "TemplateResponse" => (1, 2),
            _ => return,
        };
        let Some(name) = kw
            .iter()
            .find(|(k, _)| k == "template_name")
            .map(|(_, v)| *v)
            .or_else(|| pos.get(name_at).copied())
            .and_then(|a| crate::python::syntax::string_value(a, src))
        else {
            return;
        };
        if !wanted.contains(&name) {
            return;
        }
        let ctx = kw.iter().find(|(k, _)| k == "context").map(|(_, v)| *v).or_else(|| pos.get(ctx_at).copied());
        let keys = ctx.and_then(|c| context_keys(c, src));
        let entry = out.entry(name).or_insert_with(|| Some(Default::default()));
        match (entry.as_mut(), keys) {
            (Some(map), Some(keys)) => {
                for (k, safe) in keys {
                    let e = map.entry(k).or_insert(true);
                    *e &= safe;
                }
            }
            _ => *entry = None,
        }
    });
}

/// The keys of a context argument and whether each value is safe: a dict literal, or a local
/// built from a dict literal and `ctx["key"] = value` in the same function. `None` when the
/// context is anything else.
fn context_keys(ctx: Node<'_>, src: &str) -> Option<Vec<(String, bool)>> {
    let mut keys = Vec::new();
    let dict = |d: Node<'_>, keys: &mut Vec<(String, bool)>| -> Option<()> {
        let mut c = d.walk();
        for p in d.named_children(&mut c) {
            if p.kind() != "pair" {
                return None; // `**other`
            }
            let k = crate::python::syntax::string_value(p.child_by_field_name("key")?, src)?;
            keys.push((k, safe_value(p.child_by_field_name("value")?, src)));
        }
        Some(())
    };
    match ctx.kind() {
        "dictionary" => dict(ctx, &mut keys)?,
        "identifier" => {
            let name = text(ctx, src);
            let mut scope = ctx.parent();
            while let Some(s) = scope.filter(|s| s.kind() != "function_definition") {
                scope = s.parent();
            }
            let scope = scope?;
            let mut unknown = false;
            crate::parse::for_each_node(scope, |n| {
                let uses = n.kind() == "identifier" && text(n, src) == name;
                if !uses || n.id() == ctx.id() {
                    return;
                }
                let Some(p) = n.parent() else { return };
                match p.kind() {
                    // ctx = {...}
                    "assignment" if p.child_by_field_name("left").is_some_and(|l| l.id() == n.id()) => {
                        match p.child_by_field_name("right").filter(|r| r.kind() == "dictionary") {
                            Some(d) => unknown |= dict(d, &mut keys).is_none(),
                            None => unknown = true,
                        }
                    }
                    // ctx["key"] = value
                    "subscript" => {
                        let assign = p.parent().filter(|a| {
                            a.kind() == "assignment" && a.child_by_field_name("left").is_some_and(|l| l.id() == p.id())
                        });
                        let key = p
                            .child_by_field_name("subscript")
                            .and_then(|k| crate::python::syntax::string_value(k, src));
                        match (assign, key) {
                            (Some(a), Some(k)) => {
                                let safe = a.child_by_field_name("right").is_some_and(|v| safe_value(v, src));
                                keys.push((k, safe));
                            }
                            // A read (`if ctx["k"]:`) changes nothing.
                            (None, Some(_)) => {}
                            _ => unknown = true,
                        }
                    }
                    // A read of a key, or the render call itself.
                    "argument_list" | "keyword_argument" => {
                        let call =
                            if p.kind() == "argument_list" { p.parent() } else { p.parent().and_then(|a| a.parent()) };
                        let callee = call.and_then(|c| c.child_by_field_name("function")).map_or("", |f| text(f, src));
                        let last = callee.rsplit('.').next().unwrap_or(callee);
                        unknown |= !matches!(last, "render_to_string" | "render" | "TemplateResponse");
                    }
                    // ctx.update(...), ctx passed around, aliased: not followed.
                    _ => unknown = true,
                }
            });
            if unknown {
                return None;
            }
        }
        _ => return None,
    }
    Some(keys)
}

/// A value that is safe to mark safe: a literal, an escaper's or sanitizer's result, a URL,
/// a same-module helper that escapes.
fn safe_value(v: Node<'_>, src: &str) -> bool {
    match v.kind() {
        "string" | "concatenated_string" => !has_interpolation(v),
        "integer" | "float" | "true" | "false" | "none" => true,
        "call" => {
            let f = v.child_by_field_name("function").map(|f| text(f, src)).unwrap_or("");
            is_literal(v, src) || py_safe_call(f) || escaping_helper(v, src)
        }
        _ => false,
    }
}
