//! csrf-disabled: CSRF protection switched off for a view (`@csrf_exempt`,
//! `method_decorator(csrf_exempt)`, `csrf_exempt(view)` in a urls module), or for the whole site
//! (a production settings module whose MIDDLEWARE lacks CsrfViewMiddleware).
//!
//! DRF views are left alone: DRF exempts its views from Django's middleware and enforces CSRF
//! itself through SessionAuthentication.

use tree_sitter::Node;

use crate::classify::FileClass;
use crate::registry::{Extra, FileCtx, ProjectSink, Rule};
use crate::finding::Level;
use crate::project::{Needs, Project};
use crate::python::scope::enclosing_class_node;
use crate::python::syntax::{call_args, text};
use crate::django::settings::string_list;

pub(crate) struct CsrfDisabled;

const CSRF_MIDDLEWARE: &str = "django.middleware.csrf.CsrfViewMiddleware";
/// Bases of DRF views.
const DRF: &[&str] = crate::django::drf::API_VIEWS;

impl Rule for CsrfDisabled {
    fn id(&self) -> &'static str {
        "csrf-disabled"
    }

    fn needs(&self) -> Needs {
        Needs::SETTINGS
    }

    fn prefilter(&self) -> &'static [&'static str] {
        &["csrf_exempt"]
    }

    fn wants(&self, class: &FileClass) -> bool {
        class.is_production() && !class.roles.migration
    }


    fn check_project(&self, project: &Project, sink: &mut ProjectSink) {
        let judged = crate::django::settings::judge_setting(&project.settings, &["MIDDLEWARE"], |_, b| {
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
        for (at, message) in judged {
            sink.report_with(at, message, Extra { level: Some(Level::Error), ..Extra::default() });
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
        for (local, module) in crate::django::models::imports_of(tree.root_node(), src) {
            if module.ends_with("decorators.csrf") && src.contains(&format!("csrf_exempt as {local}")) {
                names.push(local);
            }
        }
        let is_exempt = |s: &str| names.iter().any(|n| n == last(s));
        let sessions = sessions_possible(ctx.project);
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
                // A method is judged with its class: the class's other methods handle the request.
                let view = if decorated.kind() == "function_definition" {
                    enclosing_class_node(decorated).unwrap_or(decorated)
                } else {
                    decorated
                };
                if let Some(msg) = judge(view, &target, tree.root_node(), src, sessions) {
                    out.push((n.start_byte(), n.end_byte(), msg));
                }
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
                // A view of this module is judged by its code; one imported from elsewhere is not
                // seen, so it is reported unless the project has no session cookies at all.
                let msg = match local_def(tree.root_node(), src, class) {
                    Some(def) => judge(def, class, tree.root_node(), src, sessions),
                    None => sessions.then(|| message(class)),
                };
                if let Some(msg) = msg {
                    out.push((n.start_byte(), n.end_byte(), msg));
                }
            }
            _ => {}
        });
        for (s, e, m) in out {
            ctx.report(s, e, m);
        }
    }
}

/// Whether the project may authenticate browsers with a session cookie: false only when settings
/// modules exist, assign MIDDLEWARE, and none of them mentions SessionMiddleware (an API with
/// token or JWT headers, such as a GraphQL backend).
fn sessions_possible(project: &Project) -> bool {
    let modules: Vec<&str> = project.files.iter().map(|f| f.text.as_str()).filter(|t| t.contains("MIDDLEWARE")).collect();
    modules.is_empty() || modules.iter().any(|t| t.contains("SessionMiddleware"))
}

/// The function or class `name` (dotted: its last part) defined at the top level of the module.
fn local_def<'t>(root: Node<'t>, src: &str, name: &str) -> Option<Node<'t>> {
    if name.contains('.') {
        return None;
    }
    let mut c = root.walk();
    let found = root.named_children(&mut c).find_map(|n| {
        let def = if n.kind() == "decorated_definition" { n.child_by_field_name("definition")? } else { n };
        (matches!(def.kind(), "function_definition" | "class_definition")
            && def.child_by_field_name("name").is_some_and(|x| text(x, src) == name))
        .then_some(def)
    });
    found
}

/// The finding for an exempt view, if it is one: the view authenticates by the session cookie
/// (reads `request.user` or the session, is wrapped in `login_required`, has a login mixin,
/// directly or through a function or decorator of the module), or it is a webhook that verifies
/// nothing. A view authenticated otherwise (an API key or token header, a signed link, a
/// secret in the URL) or by nothing cannot be abused through a logged-in user's browser.
fn judge(view: Node<'_>, name: &str, root: Node<'_>, src: &str, sessions: bool) -> Option<String> {
    if !sessions {
        return None;
    }
    if cookie_auth(view, root, src, 0) {
        return Some(browser_message(name));
    }
    // A receiver that does nothing with the request (a stub) acts on nothing anyone sends.
    let reads_request = text(view, src).contains("request.");
    let webhook = is_webhook(name) && reads_request && !verifies(view, root, src, 0) && !has_url_params(view, src);
    webhook.then(|| {
        format!(
            "`{name}` is exempt from CSRF and verifies nothing about the sender: anyone can call it; verify the \
             sender's signature (e.g. the Stripe-Signature or X-Hub-Signature-256 header) before acting on the request"
        )
    })
}

const LOGIN_DECORATORS: &[&str] =
    &["login_required", "permission_required", "staff_member_required", "user_passes_test", "superuser_required"];
const LOGIN_MIXINS: &[&str] = &["LoginRequiredMixin", "PermissionRequiredMixin", "UserPassesTestMixin"];

/// The decorators around a definition.
fn decorators<'t>(def: Node<'t>) -> Vec<Node<'t>> {
    let Some(d) = def.parent().filter(|p| p.kind() == "decorated_definition") else { return vec![] };
    let mut c = d.walk();
    let found: Vec<Node<'t>> = d.named_children(&mut c).filter(|x| x.kind() == "decorator").collect();
    found
}

/// Functions of the module that `def` calls with `request` among the arguments, and the
/// module's own decorators around it: where the request is also handled.
fn helpers<'t>(def: Node<'t>, root: Node<'t>, src: &str) -> Vec<Node<'t>> {
    let mut out = Vec::new();
    for d in decorators(def) {
        let Some(e) = d.named_child(0) else { continue };
        let e = if e.kind() == "call" { e.child_by_field_name("function").unwrap_or(e) } else { e };
        out.extend(local_def(root, src, text(e, src)));
    }
    crate::parse::for_each_node(def, |n| {
        if n.kind() != "call" {
            return;
        }
        let Some(f) = n.child_by_field_name("function").filter(|f| f.kind() == "identifier") else { return };
        let passes_request = call_args(n, src).0.iter().any(|a| matches!(text(*a, src), "request" | "self.request"));
        if passes_request {
            out.extend(local_def(root, src, text(f, src)).filter(|d| d.id() != def.id()));
        }
    });
    out
}

fn cookie_auth(def: Node<'_>, root: Node<'_>, src: &str, depth: usize) -> bool {
    use std::sync::OnceLock;
    static USES: OnceLock<regex::Regex> = OnceLock::new();
    let uses = USES.get_or_init(|| {
        regex::Regex::new(r"\brequest\.(user|session|COOKIES)\b|\b(auth\.)?login\(\s*request\b|\bget_user\(\s*request\b").unwrap()
    });
    static SETS_USER: OnceLock<regex::Regex> = OnceLock::new();
    let sets_user = SETS_USER.get_or_init(|| regex::Regex::new(r"\brequest\.user\s*=[^=]").unwrap());
    if depth > 3 {
        return false;
    }
    // A view that sets `request.user` itself (from a bot's or token's owner) does not take the
    // user from the session: its reads of `request.user` after that are of its own value. A
    // read before it (`if not request.user.is_authenticated:`) is the session's.
    let body = text(def, src);
    let set_at = sets_user.find(body).map_or(usize::MAX, |m| m.start());
    let reads_cookie_auth =
        uses.captures_iter(body).any(|c| c.get(1).is_none_or(|m| m.as_str() != "user" || m.start() < set_at));
    let decorated_login = decorators(def).iter().any(|d| LOGIN_DECORATORS.iter().any(|l| text(*d, src).contains(l)));
    let mixin = def.kind() == "class_definition"
        && def.child_by_field_name("superclasses").is_some_and(|b| LOGIN_MIXINS.iter().any(|m| text(b, src).contains(m)));
    decorated_login
        || mixin
        || reads_cookie_auth
        || helpers(def, root, src).into_iter().any(|h| cookie_auth(h, root, src, depth + 1))
}

/// Whether the view (or a function of the module it hands the request to) checks a signature,
/// a token or a secret.
fn verifies(def: Node<'_>, root: Node<'_>, src: &str, depth: usize) -> bool {
    use std::sync::OnceLock;
    static CHECKS: OnceLock<regex::Regex> = OnceLock::new();
    let checks = CHECKS.get_or_init(|| {
        regex::Regex::new(
            r"(?i)signature|hmac|compare_digest|unsign|verif|secret|token|authoriz|api_?key|password|signing|hexdigest",
        )
        .unwrap()
    });
    if depth > 3 {
        return false;
    }
    let body = def.child_by_field_name("body").map_or(def, |b| b);
    checks.is_match(text(body, src)) || helpers(def, root, src).into_iter().any(|h| verifies(h, root, src, depth + 1))
}

/// A function view with URL parameters besides the request (`def hook(request, code)`): a
/// secret or signed value in the URL identifies the caller.
fn has_url_params(def: Node<'_>, src: &str) -> bool {
    if def.kind() != "function_definition" {
        return false;
    }
    let Some(params) = def.child_by_field_name("parameters") else { return false };
    let mut c = params.walk();
    let count = params
        .named_children(&mut c)
        .filter(|p| matches!(p.kind(), "identifier" | "typed_parameter" | "default_parameter" | "typed_default_parameter"))
        .filter(|p| !matches!(text(*p, src).split([':', '=']).next().unwrap_or("").trim(), "request" | "self"))
        .count();
    count > 0
}

fn is_webhook(view: &str) -> bool {
    let lower = view.to_lowercase();
    ["webhook", "hook", "callback", "ipn", "notify", "notification", "stripe", "paypal", "github", "slack"]
        .iter()
        .any(|w| lower.contains(w))
}

fn last(dotted: &str) -> &str {
    dotted.rsplit('.').next().unwrap_or(dotted)
}

fn message(view: &str) -> String {
    if is_webhook(view) {
        format!(
            "csrf_exempt switches off CSRF protection for `{view}`: if it receives webhooks, verify the sender's \
             signature (e.g. the Stripe-Signature or X-Hub-Signature-256 header) before acting on the request"
        )
    } else {
        browser_message(view)
    }
}

fn browser_message(view: &str) -> String {
    format!(
        "csrf_exempt switches off CSRF protection for `{view}`, so any site can make a logged-in user's browser call \
         it: remove it and send the token from the client (the X-CSRFToken header)"
    )
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
    // DRF's own APIView (or a project's fork of it) exempts its dispatch by design and enforces
    // CSRF in SessionAuthentication.
    let own_name = class.and_then(|c| c.child_by_field_name("name")).is_some_and(|n| DRF.contains(&text(n, src)));
    own_name
        || class.and_then(|c| c.child_by_field_name("superclasses")).is_some_and(|b| {
            let t = text(b, src);
            DRF.iter().any(|d| t.contains(d))
        })
}


fn enclosing_class<'s>(n: Node<'_>, src: &'s str) -> Option<&'s str> {
    enclosing_class_node(n).and_then(|c| c.child_by_field_name("name")).map(|x| text(x, src))
}
