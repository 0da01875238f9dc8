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

/// What the project's views give a template for one context key, over every view that renders
/// it: `Safe` when every value is (a literal, an escaper's or a sanitizer's result, a URL, a
/// same-module escaping helper's result); `Request` when some value is built from the request
/// (`request.GET`, a call handed the request); `Unknown` otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum Given {
    Safe,
    Unknown,
    Request,
}

impl Given {
    /// Two views' values for one key: the request taints, and only safe and safe is safe.
    pub fn and(self, other: Given) -> Given {
        match (self, other) {
            (Given::Request, _) | (_, Given::Request) => Given::Request,
            (Given::Safe, Given::Safe) => Given::Safe,
            _ => Given::Unknown,
        }
    }
}

/// Per template name (its path below `templates/`): each context key the project's views give
/// it, and what they give (`Given`). A template rendered anywhere with a context preflight
/// cannot read (`context.update(...)`, `**kwargs`, a context from elsewhere) has an entry `None`,
/// and nothing in it counts as safe.
pub(crate) type TemplateContexts = std::collections::HashMap<String, Option<std::collections::HashMap<String, Given>>>;

/// Adds one module's contexts (`template_contexts` and `escaping_functions` into an empty map)
/// to those of the modules before it: the same as reading the module into `out` directly, as
/// `Given::and` is a join (the request taints, then unknown, then safe) and a context that
/// cannot be read (`None`) stays unread.
pub(crate) fn absorb_contexts(out: &mut TemplateContexts, mine: TemplateContexts) {
    for (name, keys) in mine {
        add_context(out, name, keys);
    }
}

/// Adds what one render (or one module) gives template `name`: its keys, or `None` when the
/// context cannot be read (the template's entry is then unread for good).
fn add_context(out: &mut TemplateContexts, name: String, keys: Option<impl IntoIterator<Item = (String, Given)>>) {
    let entry = out.entry(name).or_insert_with(|| Some(Default::default()));
    match (entry.as_mut(), keys) {
        (Some(map), Some(keys)) => {
            for (k, given) in keys {
                let e = map.entry(k).or_insert(given);
                *e = e.and(given);
            }
        }
        _ => *entry = None,
    }
}

/// A module's contexts as text that does not depend on hashing (sorted), for the run cache.
pub(crate) fn contexts_text(c: &TemplateContexts) -> String {
    let mut names: Vec<_> = c
        .iter()
        .map(|(n, keys)| {
            let keys = keys.as_ref().map(|k| {
                let mut k: Vec<_> = k.iter().collect();
                k.sort();
                k
            });
            (n, keys)
        })
        .collect();
    names.sort();
    format!("{names:?}")
}

/// The entry of `TemplateContexts` that holds, instead of a template's keys, the project's
/// functions named before a `|safe` (`{{ f|display_status|safe }}`, `{{ f.file_link|safe }}`):
/// `Safe` when every definition of that name escapes the values it puts in its HTML
/// (`escaping_function`).
pub(crate) const FUNCTIONS: &str = "";

/// The functions a template's `|safe` values come from: the filter right before `|safe`
/// (`x|status_badge|safe`) and the method or property a path ends with (`x.file_link|safe`).
pub(crate) fn safe_value_functions(template: &str) -> Vec<String> {
    static SAFE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let safe = SAFE.get_or_init(|| {
        regex::Regex::new(r"\{\{-?\s*([A-Za-z_][\w.]*)\s*((?:\|\s*\w+(?::[^|{}]*)?\s*)*)\|\s*safe\b").unwrap()
    });
    let mut out = Vec::new();
    for c in safe.captures_iter(template) {
        let filters = c[2].trim();
        if let Some(last) = filters.rsplit('|').next().filter(|f| !f.trim().is_empty()) {
            out.push(last.split(':').next().unwrap_or("").trim().to_string());
        } else if let Some((_, attr)) = c[1].rsplit_once('.') {
            out.push(attr.to_string());
        }
    }
    out.retain(|f| !f.is_empty() && !f.chars().all(|ch| ch.is_ascii_digit()));
    out
}

/// The names a Python module imports by name (`from .utils import clean_html, highlight as hl`
/// gives `clean_html` and `highlight`), when it marks something safe: the project's functions
/// among them are judged once for the whole project (`escaping_functions`).
pub(crate) fn imported_names(py: &str) -> Vec<String> {
    static IMPORT: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    if !py.contains("mark_safe") && !py.contains("SafeString") {
        return Vec::new();
    }
    let import =
        IMPORT.get_or_init(|| regex::Regex::new(r"(?m)^\s*from\s+[\w.]+\s+import\s+(\([^)]*\)|[^\n#]+)").unwrap());
    let mut out = Vec::new();
    for c in import.captures_iter(py) {
        for part in c[1].trim_matches(|ch| ch == '(' || ch == ')').split(',') {
            let name = part.split_whitespace().next().unwrap_or("");
            if !name.is_empty() && name != "*" && name.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_') {
                out.push(name.to_string());
            }
        }
    }
    out
}

/// Records under `FUNCTIONS` whether each function of one module named in `wanted` escapes.
pub(crate) fn escaping_functions(
    root: Node<'_>,
    src: &str,
    wanted: &std::collections::HashSet<String>,
    out: &mut TemplateContexts,
) {
    crate::parse::for_each_node(root, |n| {
        if n.kind() != "function_definition" {
            return;
        }
        let Some(name) = n.child_by_field_name("name").map(|x| text(x, src)) else { return };
        if !wanted.contains(name) {
            return;
        }
        let given = if escaping_function(n, src) { Given::Safe } else { Given::Unknown };
        let entry = out.entry(FUNCTIONS.to_string()).or_insert_with(|| Some(Default::default()));
        if let Some(map) = entry.as_mut() {
            let e = map.entry(name.to_string()).or_insert(given);
            *e = e.and(given);
        }
    });
}

/// A function that builds HTML and escapes what it puts in it: its body calls an escaper or a
/// sanitizer (`escape`, `conditional_escape`, `format_html`, `bleach.clean`, a project helper
/// named for bleaching or sanitizing), it neither unescapes nor marks anything but a literal
/// safe, and it never returns a parameter as it came.
fn escaping_function(def: Node<'_>, src: &str) -> bool {
    let Some(body) = def.child_by_field_name("body") else { return false };
    let params: Vec<&str> = def
        .child_by_field_name("parameters")
        .map(|p| {
            let mut c = p.walk();
            p.named_children(&mut c)
                .filter_map(|x| {
                    if x.kind() == "identifier" {
                        Some(text(x, src))
                    } else {
                        x.named_child(0).map(|y| text(y, src))
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let (mut escapes, mut bad) = (false, false);
    crate::parse::for_each_node(body, |n| match n.kind() {
        "call" => {
            let f = n.child_by_field_name("function").map(|x| text(x, src)).unwrap_or("");
            let last = f.rsplit('.').next().unwrap_or(f).to_ascii_lowercase();
            if last.contains("unescape")
                || (matches!(last.as_str(), "mark_safe" | "safestring")
                    && !call_args(n, src).0.first().is_some_and(|a| is_literal(*a, src)))
            {
                bad = true;
            } else if py_safe_call(f) || last.contains("escape") || last.contains("bleach") || last.contains("sanitiz")
            {
                escapes = true;
            }
        }
        "return_statement" => {
            bad |= n.named_child(0).is_some_and(|r| r.kind() == "identifier" && params.contains(&text(r, src)));
        }
        _ => {}
    });
    escapes && !bad
}

/// The contexts one Python module gives to templates named in `wanted`, through
/// `render_to_string(name, ctx)` and `render(request, name, ctx)` with a literal name.
pub(crate) fn template_contexts(
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
        add_context(out, name, ctx.and_then(|c| context_keys(c, src)));
    });
}

/// The keys of a context argument and whether each value is safe: a dict literal, or a local
/// built from a dict literal and `ctx["key"] = value` in the same function. `None` when the
/// context is anything else.
fn context_keys(ctx: Node<'_>, src: &str) -> Option<Vec<(String, Given)>> {
    let mut keys = Vec::new();
    let dict = |d: Node<'_>, keys: &mut Vec<(String, Given)>| -> Option<()> {
        let mut c = d.walk();
        for p in d.named_children(&mut c) {
            if p.kind() != "pair" {
                return None; // `**other`
            }
            let k = crate::python::syntax::string_value(p.child_by_field_name("key")?, src)?;
            keys.push((k, given_value(p.child_by_field_name("value")?, src, 0)));
        }
        Some(())
    };
    match ctx.kind() {
        "dictionary" => dict(ctx, &mut keys)?,
        // dict(key=value, ...)
        "call" if ctx.child_by_field_name("function").is_some_and(|f| text(f, src) == "dict") => {
            let (pos, kw) = call_args(ctx, src);
            let args = ctx.child_by_field_name("arguments").map_or(0, |a| a.named_child_count());
            if !pos.is_empty() || kw.len() != args {
                return None; // dict(other, ...), dict(**other)
            }
            for (k, v) in kw {
                keys.push((k, given_value(v, src, 0)));
            }
        }
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
                                let given =
                                    a.child_by_field_name("right").map_or(Given::Unknown, |v| given_value(v, src, 0));
                                keys.push((k, given));
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

/// What a context value is: `Safe` (a literal, an escaper's or sanitizer's result, a URL, a
/// same-module helper that escapes, a concatenation of those, a local only ever assigned those),
/// `Request` (built from the request: `request.GET[...]`, a call handed the request, a local
/// assigned such a value), or `Unknown`.
fn given_value(v: Node<'_>, src: &str, depth: usize) -> Given {
    if depth > 4 {
        return Given::Unknown;
    }
    match v.kind() {
        "string" | "concatenated_string" if !has_interpolation(v) => Given::Safe,
        "integer" | "float" | "true" | "false" | "none" => Given::Safe,
        "call" => {
            let f = v.child_by_field_name("function").map(|f| text(f, src)).unwrap_or("");
            if is_literal(v, src) || py_safe_call(f) || escaping_helper(v, src) {
                Given::Safe
            } else if from_request(v, src) {
                Given::Request
            } else {
                // json.dumps(result): what the call is given.
                let (pos, kw) = call_args(v, src);
                let given =
                    pos.into_iter().chain(kw.into_iter().map(|(_, a)| a)).fold(None, |acc: Option<Given>, a| {
                        Some(acc.map_or(given_value(a, src, depth + 1), |g| g.and(given_value(a, src, depth + 1))))
                    });
                if given == Some(Given::Request) {
                    Given::Request
                } else {
                    Given::Unknown
                }
            }
        }
        "binary_operator" => {
            let parts = [v.child_by_field_name("left"), v.child_by_field_name("right")];
            parts
                .into_iter()
                .fold(Given::Safe, |acc, p| acc.and(p.map_or(Given::Unknown, |p| given_value(p, src, depth + 1))))
        }
        "identifier" => local_given(v, src, depth),
        _ if from_request(v, src) => Given::Request,
        _ => Given::Unknown,
    }
}

/// Whether an expression reads the request's data: it names `request` other than for the user,
/// the session or a URL built from it (`request.GET["q"]`, `process(request, name)`).
pub(crate) fn from_request(v: Node<'_>, src: &str) -> bool {
    let mut found = false;
    crate::parse::for_each_node(v, |n| {
        if found || n.kind() != "identifier" || text(n, src) != "request" {
            return;
        }
        let attr = n
            .parent()
            .filter(|p| p.kind() == "attribute" && p.child_by_field_name("object").is_some_and(|o| o.id() == n.id()))
            .and_then(|p| p.child_by_field_name("attribute"))
            .map(|a| text(a, src));
        found = !matches!(
            attr,
            Some("user" | "session" | "build_absolute_uri" | "method" | "LANGUAGE_CODE" | "is_secure" | "get_host")
        );
    });
    found
}

/// A local of the enclosing function, by every value assigned to it (also as part of a tuple:
/// `result, url = process(request)`); a parameter or a name never assigned is `Unknown`.
fn local_given(id: Node<'_>, src: &str, depth: usize) -> Given {
    let name = text(id, src);
    let mut scope = id.parent();
    while let Some(s) = scope.filter(|s| s.kind() != "function_definition") {
        scope = s.parent();
    }
    let Some(scope) = scope else { return Given::Unknown };
    let mut given: Option<Given> = None;
    crate::parse::for_each_node(scope, |n| {
        if !matches!(n.kind(), "assignment" | "augmented_assignment") {
            return;
        }
        let Some(left) = n.child_by_field_name("left") else { return };
        let direct = left.kind() == "identifier" && text(left, src) == name;
        let in_tuple = matches!(left.kind(), "pattern_list" | "tuple_pattern") && {
            let mut c = left.walk();
            let hit = left.named_children(&mut c).any(|x| x.kind() == "identifier" && text(x, src) == name);
            hit
        };
        if !direct && !in_tuple {
            return;
        }
        let right = n.child_by_field_name("right");
        let g = match right {
            // A tuple assignment's right side is judged whole: only its taint carries over.
            Some(r) if in_tuple => {
                if from_request(r, src) {
                    Given::Request
                } else {
                    Given::Unknown
                }
            }
            Some(r) if r.kind() == "identifier" && text(r, src) == name => Given::Unknown,
            Some(r) => given_value(r, src, depth + 1),
            None => Given::Unknown,
        };
        given = Some(given.map_or(g, |x| x.and(g)));
    });
    given.unwrap_or(Given::Unknown)
}
