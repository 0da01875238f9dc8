//! csrf-disabled: CSRF protection switched off for a view (`@csrf_exempt`,
//! `method_decorator(csrf_exempt)`, `csrf_exempt(view)` in a urls module), or for the whole site
//! (a production settings module whose MIDDLEWARE lacks CsrfViewMiddleware).
//!
//! DRF views are left alone: DRF exempts its views from Django's middleware and enforces CSRF
//! itself through SessionAuthentication.

use tree_sitter::Node;

use crate::classify::FileClass;
use crate::engine::FileCtx;
use crate::finding::Level;
use crate::project::{Project, ProjectSink};
use crate::python::{call_args, text};
use crate::registry::Rule;
use crate::settings::{report_setting, string_list};

pub struct CsrfDisabled;

const CSRF_MIDDLEWARE: &str = "django.middleware.csrf.CsrfViewMiddleware";
/// Bases and decorators of DRF views.
const DRF: &[&str] = &["APIView", "GenericAPIView", "ViewSet", "GenericViewSet", "ModelViewSet", "ReadOnlyModelViewSet"];

impl Rule for CsrfDisabled {
    fn id(&self) -> &'static str {
        "csrf-disabled"
    }

    fn prefilter(&self) -> &'static [&'static str] {
        &["csrf_exempt"]
    }

    fn wants(&self, class: &FileClass) -> bool {
        class.is_production() && !class.roles.migration
    }

    fn needs_tree(&self) -> bool {
        true
    }

    fn check_project(&self, project: &Project, sink: &mut ProjectSink) {
        let before = sink.out.len();
        report_setting(project, sink, &["MIDDLEWARE"], |_, b| {
            // Not fully known: stay silent.
            let Some(names) = string_list(&b.value.v) else { return vec![] };
            if names.is_empty() || names.contains(&CSRF_MIDDLEWARE) {
                return vec![];
            }
            vec![(
                b.at,
                format!(
                    "MIDDLEWARE has no {CSRF_MIDDLEWARE}, so no view is protected against cross-site request \
                     forgery: add it after SessionMiddleware"
                ),
            )]
        });
        for f in &mut sink.out[before..] {
            f.level = Level::Error;
        }
    }

    fn check_file(&self, ctx: &mut FileCtx<'_>) {
        let file = ctx.file;
        let Some(tree) = file.tree() else { return };
        let src = file.text.as_str();
        let urls = file.rel.rsplit('/').next().is_some_and(|n| n == "urls.py" || n.starts_with("urls_"));
        let mut out: Vec<(usize, usize, String)> = Vec::new();
        // `from django.views.decorators.csrf import csrf_exempt as no_csrf`
        let mut names = vec!["csrf_exempt".to_string()];
        for (local, module) in crate::models::imports_of(tree.root_node(), src) {
            if module.ends_with("decorators.csrf") && src.contains(&format!("csrf_exempt as {local}")) {
                names.push(local);
            }
        }
        let is_exempt = |s: &str| names.iter().any(|n| n == last(s));
        crate::parse::for_each_node(tree.root_node(), |n| match n.kind() {
            "decorator" => {
                let Some(expr) = n.named_child(0) else { return };
                let exempt = match expr.kind() {
                    "identifier" | "attribute" => is_exempt(text(expr, src)),
                    // @method_decorator(csrf_exempt, name="dispatch")
                    "call" => {
                        let f = expr.child_by_field_name("function").map(|f| text(f, src)).unwrap_or("");
                        last(f) == "method_decorator"
                            && call_args(expr, src).0.first().is_some_and(|a| is_exempt(text(*a, src)))
                    }
                    _ => false,
                };
                if !exempt {
                    return;
                }
                let Some(decorated) = n.parent().and_then(|p| p.child_by_field_name("definition")) else { return };
                if is_drf(decorated, src) {
                    return;
                }
                let name = decorated.child_by_field_name("name").map(|x| text(x, src)).unwrap_or("view");
                let target = if decorated.kind() == "class_definition" {
                    name.to_string()
                } else {
                    // A method: name its class.
                    enclosing_class(decorated, src).map_or(name.to_string(), |c| format!("{c}.{name}"))
                };
                out.push((n.start_byte(), n.end_byte(), message(&target)));
            }
            "call" if urls => {
                let f = n.child_by_field_name("function").map(|f| text(f, src)).unwrap_or("");
                if !is_exempt(f) {
                    return;
                }
                let Some(view) = call_args(n, src).0.first().copied() else { return };
                let shown = text(view, src);
                let class = shown.split(".as_view").next().unwrap_or(shown);
                if shown.contains(".as_view") && DRF.iter().any(|d| last(class).ends_with(d)) {
                    return;
                }
                out.push((n.start_byte(), n.end_byte(), message(class)));
            }
            _ => {}
        });
        for (s, e, m) in out {
            ctx.report(s, e, m);
        }
    }
}

fn last(dotted: &str) -> &str {
    dotted.rsplit('.').next().unwrap_or(dotted)
}

fn message(view: &str) -> String {
    let lower = view.to_lowercase();
    let webhook = ["webhook", "hook", "callback", "ipn", "notify", "notification", "stripe", "paypal", "github", "slack"]
        .iter()
        .any(|w| lower.contains(w));
    if webhook {
        format!(
            "csrf_exempt switches off CSRF protection for `{view}`: if it receives webhooks, verify the sender's \
             signature (e.g. the Stripe-Signature or X-Hub-Signature-256 header) before acting on the request"
        )
    } else {
        format!(
            "csrf_exempt switches off CSRF protection for `{view}`, so any site can make a logged-in user's \
             browser call it: remove it and send the token from the client (the X-CSRFToken header)"
        )
    }
}

/// A DRF view: `@api_view` on the function, or a class with a DRF base (also the class
/// around a decorated method).
fn is_drf(def: Node<'_>, src: &str) -> bool {
    if def.kind() == "function_definition" {
        if let Some(d) = def.parent().filter(|p| p.kind() == "decorated_definition") {
            let mut c = d.walk();
            if d.named_children(&mut c).any(|x| x.kind() == "decorator" && text(x, src).contains("api_view")) {
                return true;
            }
        }
    }
    let class = if def.kind() == "class_definition" { Some(def) } else { enclosing_class_node(def) };
    class.and_then(|c| c.child_by_field_name("superclasses")).is_some_and(|b| {
        let t = text(b, src);
        DRF.iter().any(|d| t.contains(d))
    })
}

fn enclosing_class_node(n: Node<'_>) -> Option<Node<'_>> {
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

fn enclosing_class<'s>(n: Node<'_>, src: &'s str) -> Option<&'s str> {
    enclosing_class_node(n).and_then(|c| c.child_by_field_name("name")).map(|x| text(x, src))
}
