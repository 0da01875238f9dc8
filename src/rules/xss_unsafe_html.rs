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
use crate::project::Needs;
use crate::registry::{FileCtx, Rule};
use crate::django::html::{escaping_helper, has_interpolation, is_literal, py_safe_call, SAFE_PRODUCERS};
use crate::finding::excerpt;
use crate::python::syntax::{call_args, text};

pub struct XssUnsafeHtml;

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

    fn needs_tree(&self) -> bool {
        true
    }

    fn check_file(&self, ctx: &mut FileCtx<'_>) {
        let lang = ctx.file.class.lang;
        let mut out: Vec<(usize, usize, String)> = Vec::new();
        if lang == Lang::Template {
            match renders_html(&ctx.file.rel, &ctx.file.text) {
                Output::Text => return,
                Output::Html => {
                    template(&ctx.file.text, &mut out);
                    // Values every view of the project gives the template already escaped.
                    let name = ctx.file.rel.rsplit_once("templates/").map_or("", |(_, n)| n);
                    if let Some(Some(keys)) = ctx.project.template_contexts.get(name) {
                        out.retain(|(s, e, _)| {
                            let var = safe_var(&ctx.file.text[*s..*e]);
                            var.is_none_or(|v| keys.get(v) != Some(&true))
                        });
                    }
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
            python(tree.root_node(), &ctx.file.text, &mut out);
        } else if lang.is_js_family() {
            let Some(tree) = ctx.file.tree() else { return };
            javascript(tree.root_node(), &ctx.file.text, &mut out);
        }
        for (start, end, msg) in out {
            ctx.report(start, end, msg);
        }
    }
}

fn python(root: Node<'_>, src: &str, out: &mut Vec<(usize, usize, String)>) {
    crate::parse::for_each_node(root, |n| {
        if n.kind() != "call" {
            return;
        }
        let Some(f) = n.child_by_field_name("function") else { return };
        let name = text(f, src).rsplit('.').next().unwrap_or("");
        let (pos, _) = call_args(n, src);
        let Some(arg) = pos.first().copied() else { return };
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
    last.chars().any(|c| c.is_ascii_uppercase()) && !last.chars().any(|c| c.is_ascii_lowercase())
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
    if depth > 16 {
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
        "identifier" | "attribute" => {
            let t = text(n, src);
            (!(is_constant(t) || local_is_safe(n, src) || class_attr_is_literal(n, src))).then_some(n)
        }
        "call" => {
            if is_literal(n, src) {
                return None;
            }
            let f = n.child_by_field_name("function").map(|f| text(f, src)).unwrap_or("");
            let last = f.rsplit('.').next().unwrap_or(f);
            if py_safe_call(f)
                || escaping_helper(n, src)
                || matches!(last, "int" | "len" | "float" | "ord" | "escapejs" | "json_script")
                || (last == "mark_safe" && py_unsafe_arg_is_literal(n, src))
            {
                return None;
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
            assigned_elsewhere = true;
        }
    });
    !assigned_elsewhere
        && !values.is_empty()
        && values.iter().all(|v| v.is_some_and(|v| is_literal(v, src)))
}

/// A local variable every assignment of which is a literal or a safe producer's result.
fn local_is_safe(id: Node<'_>, src: &str) -> bool {
    if id.kind() != "identifier" {
        return false;
    }
    let name = text(id, src);
    let mut scope = id.parent();
    while let Some(s) = scope {
        if s.kind() == "function_definition" || s.kind() == "module" {
            break;
        }
        scope = s.parent();
    }
    let Some(scope) = scope else { return false };
    let mut values = Vec::new();
    crate::parse::for_each_node(scope, |n| {
        if matches!(n.kind(), "assignment" | "augmented_assignment")
            && n.child_by_field_name("left").is_some_and(|l| l.kind() == "identifier" && text(l, src) == name)
        {
            values.push(n.child_by_field_name("right"));
        }
    });
    !values.is_empty()
        && values.iter().all(|v| {
            v.is_some_and(|v| match v.kind() {
                "string" | "concatenated_string" => !has_interpolation(v),
                "call" if is_literal(v, src) => true,
                "call" => {
                    let f = v.child_by_field_name("function").map(|f| text(f, src)).unwrap_or("");
                    py_safe_call(f)
                        || escaping_helper(v, src)
                        || (f.ends_with("mark_safe") && py_unsafe_arg_is_literal(v, src))
                }
                _ => false,
            })
        })
}

fn py_unsafe_arg_is_literal(call: Node<'_>, src: &str) -> bool {
    call_args(call, src).0.first().is_some_and(|a| a.kind() == "string" && !has_interpolation(*a))
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
        if var.starts_with('"') || var.starts_with('\'') || var.chars().all(|ch| ch.is_ascii_digit()) || var.ends_with("help_text") {
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
