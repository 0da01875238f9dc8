//! health-endpoint-missing: a Django project with no URL route that serves a health check.
//!
//! A route counts when a URL module of the Django project (the folder of its `manage.py`;
//! `urls.py`, a `urls/` package or a module defining `urlpatterns`) declares one whose last
//! path segment is a health word (`health`, `healthz`, `health-check`, `ready`, `readiness`,
//! `live`, `liveness`, `ping`, `status`, `heartbeat`, `alive`), under any prefix
//! (`api/health/`), through `path`, `re_path`, `url` or a router's `register`, or routes any
//! path to a view named for a health check; a Django Ninja decorator such as
//! `@router.get("/health")` counts in any module, a health path an ASGI/WSGI module answers
//! itself too. A health-check app (django-health-check, django-alive, django-watchman) counts
//! where it is used: in INSTALLED_APPS, imported, or its URLs included; its name in a message or
//! a comment is no evidence. Reported once per root URLconf, at its first line; silent when
//! ROOT_URLCONF is not a known string or its module is not in the repository.

use std::collections::BTreeSet;

use crate::project::{Needs, Project};
use crate::registry::{ProjectSink, Rule};
use crate::python::eval::V;
use crate::setup::{holds_any, judgeable, production_python, project_dir, read_rel};

pub(crate) struct HealthEndpointMissing;

/// Health-check apps and libraries, by top-level module.
const APPS: &[&str] = &["health_check", "django_alive", "watchman", "django_healthchecks", "healthcheck"];

/// A route declaration whose path's last segment is a health word.
const HEALTH_PATH: &str = r#"\s*[rbu]?["']\^?/?(?:[^"'\s]*/)?(?:health[\w-]*|ready\w*|readiness|live|liveness|livez|ping|status|heartbeat|alive)[/?$]*["']"#;

/// URL declarations: `path(...)`, a router's `register(...)`, whose path is a health path; or a
/// route of any path whose view is named for a health check (`path("", health_check)`,
/// `path("ht/", HealthView.as_view())`).
fn url_route_re() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(&format!(
            r#"(?i)(?:\b(?:path|re_path|url|add_url_rule)\(|\.register\(){HEALTH_PATH}|\b(?:path|re_path|url)\(\s*[rbu]?["'][^"'\n]*["']\s*,\s*[\w.]*health\w*"#
        ))
        .unwrap()
    })
}

/// A decorator route (`@router.get("/health")`, Django Ninja).
fn decorator_re() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| regex::Regex::new(&format!(r"(?i)@[\w.]*\.(?:get|route|api_route)\({HEALTH_PATH}")).unwrap())
}

/// A health-check app used: imported, or its URLs included.
fn app_use_re() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        let apps = APPS.join("|");
        regex::Regex::new(&format!(
            r#"(?m)^[ \t]*(?:from|import)[ \t]+(?:{apps})\b|\binclude\(\s*["'](?:{apps})(?:\.[\w.]*)?["']"#
        ))
        .unwrap()
    })
}

/// A health path literal that an ASGI/WSGI application answers before Django
/// (`application = health_check(application, "/health/")`).
fn probe_path_re() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| regex::Regex::new(r#"(?i)["']/(?:health\w*|healthz|ready\w*|live\w*|ping|status|heartbeat|alive)/?["']"#).unwrap())
}

/// What any of the patterns above matches in a whole text (comments and module kinds aside):
/// a module where it matches nothing holds no health evidence. Asked as a question of each
/// module (`setup::holds_any`), so that for the run cache an edit of a view that names no
/// health route keeps the rule's result; only modules where it matches are read whole.
fn may_have_health() -> &'static regex::bytes::Regex {
    static RE: std::sync::OnceLock<regex::bytes::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        let parts = [app_use_re(), url_route_re(), decorator_re(), probe_path_re()];
        let union = parts.iter().map(|r| format!("(?:{})", r.as_str())).collect::<Vec<_>>().join("|");
        regex::bytes::Regex::new(&union).unwrap()
    })
}

/// The text with comment lines blanked: a commented-out route or app is not one.
fn code_lines(text: &str) -> String {
    text.lines().map(|l| if l.trim_start().starts_with('#') { "" } else { l }).collect::<Vec<_>>().join("\n")
}

/// Whether the production module `rel` declares a health route or uses a health-check app:
/// route declarations count in URL modules (`urls.py`, a `urls/` package, a module defining
/// `urlpatterns`), decorator routes in Django Ninja modules, an app where it is imported or its
/// URLs included, and a health path an ASGI/WSGI module answers itself. A name that only
/// occurs in a message, a comment or a variable is no evidence.
pub(crate) fn has_health(rel: &str, text: &str) -> bool {
    let code = code_lines(text);
    let name = rel.rsplit('/').next().unwrap_or(rel);
    let url_module = name == "urls.py"
        || name.ends_with("_urls.py")
        || rel.split('/').rev().skip(1).any(|d| d == "urls")
        || code.contains("urlpatterns");
    let ninja = code.contains("from ninja") || code.contains("import ninja");
    let server = rel.split('/').any(|p| p.contains("asgi") || p.contains("wsgi"));
    app_use_re().is_match(&code)
        || (url_module && url_route_re().is_match(&code))
        || (ninja && decorator_re().is_match(&code))
        || (server && probe_path_re().is_match(&code))
}

/// Whether a settings chain installs a health-check app (`INSTALLED_APPS`).
fn installs_health_app(env: &crate::python::eval::Env) -> bool {
    env.get("INSTALLED_APPS").is_some_and(|b| {
        crate::django::settings::elements(b).iter().any(|(v, _, _)| {
            matches!(v, V::Str(s) if APPS.contains(&s.split('.').next().unwrap_or(s)))
        })
    })
}

/// The walked file of a dotted module path (`shop.urls` → `shop/urls.py` or
/// `shop/urls/__init__.py`), preferring one inside the project folder `dir`.
fn module_file<'a>(project: &'a Project, dotted: &str, dir: &str) -> Option<&'a str> {
    let base = dotted.replace('.', "/");
    let names = [format!("{base}.py"), format!("{base}/__init__.py")];
    let matches = |rel: &str| names.iter().any(|n| rel == n || rel.ends_with(&format!("/{n}")));
    let found: Vec<&str> = project.walked.iter().map(|(r, _)| r.as_str()).filter(|r| matches(r)).collect();
    found.iter().find(|r| dir.is_empty() || r.starts_with(&format!("{dir}/"))).or(found.first()).copied()
}

impl Rule for HealthEndpointMissing {
    fn id(&self) -> &'static str {
        "health-endpoint-missing"
    }

    fn needs(&self) -> Needs {
        Needs::SETTINGS
    }

    fn check_project(&self, project: &Project, sink: &mut ProjectSink) {
        let mut urlconfs: BTreeSet<String> = BTreeSet::new();
        for (root, env) in &project.settings.roots {
            if !judgeable(project, *root, env) {
                continue;
            }
            let Some(V::Str(dotted)) = env.get("ROOT_URLCONF").map(|b| &b.value.v) else { continue };
            let dir = project_dir(project, *root);
            let Some(urls) = module_file(project, dotted, &dir) else { continue };
            if urlconfs.contains(urls) {
                continue;
            }
            let in_project = |rel: &&str| {
                dir.is_empty() || !rel.contains('/') || rel.strip_prefix(dir.as_str()).is_some_and(|r| r.starts_with('/'))
            };
            let found = installs_health_app(env)
                || production_python(project)
                    .filter(in_project)
                    .any(|rel| {
                        holds_any(project, rel, Some(may_have_health()))
                            && read_rel(project, rel).is_some_and(|t| has_health(rel, &t))
                    });
            if !found {
                urlconfs.insert(urls.to_string());
            }
        }
        for urls in urlconfs {
            sink.report_file(
                &urls,
                "no health-check route in this project's URLs (no `health/`, `healthz/`, `ready/`, `live/`, `ping/` \
                 or `status/` under any prefix, no django-health-check): load balancers and orchestrators cannot \
                 tell a broken instance from a working one; add one, e.g. `path(\"api/health/\", health)` with a \
                 view that checks the database and answers 200, or django-health-check's \
                 `path(\"ht/\", include(\"health_check.urls\"))`"
                    .to_string(),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{has_health, may_have_health};

    #[test]
    fn health_routes_under_any_prefix() {
        // Every text that holds evidence passes the question asked first.
        let urls = |t: &str| {
            let found = has_health("shop/urls.py", t);
            assert!(!found || may_have_health().is_match(t.as_bytes()), "{t}");
            found
        };
        assert!(urls("urlpatterns = [path(\"api/health/\", views.health)]"));
        assert!(urls("re_path(r'^healthz/?$', ok)"));
        assert!(urls("path('v1/status', status_view)"));
        assert!(urls("router.register(r\"readiness\", ReadyViewSet)"));
        assert!(urls("urlpatterns = [path(\"\", health_check)]"));
        assert!(urls("path(\"ht/\", include(\"health_check.urls\"))"));
        for (rel, text) in [
            ("shop/api.py", "from ninja import Router\n@router.get(\"/ping\")\ndef ping(): ..."),
            ("shop/views.py", "from health_check.views import MainView"),
            ("shop/asgi/__init__.py", "application = health_check(application, \"/health/\")"),
        ] {
            assert!(has_health(rel, text) && may_have_health().is_match(text.as_bytes()), "{text}");
        }
        // A view that answers with HTTP statuses names no health route.
        assert!(!may_have_health().is_match(b"return Response(status=status.HTTP_200_OK)"));
        assert!(!urls("path(\"api/orders/\", views.orders)"));
        assert!(!urls("path(\"status-report/<int:pk>/\", report)"));
        assert!(!urls("order.status = \"ready\""));
        assert!(!urls("path(\"live-stream/\", stream)"));
        assert!(!urls("# path(\"health/\", views.health)"));
        assert!(!urls("# \"health_check\","));
        // A dict lookup or a call that is not a route declaration.
        assert!(!urls("if data.get(\"status\") is not None:"));
        assert!(!urls("requests.get(\"https://example.com/health\")"));
        // Route declarations outside URL modules, a Flask service, a message string.
        assert!(!has_health("shop/views.py", "path(\"health/\", views.health)"));
        assert!(!has_health("service/main.py", "@app.route(\"/health\")\ndef health(): ..."));
        assert!(!has_health("dojo/tools/parser.py", "description = \"Risk identified by PingCastle HealthCheck.\""));
        assert!(!has_health("app/settings.py", "# healthcheck in docker\nCONN_HEALTH_CHECKS = True"));
        assert!(!has_health("shop/views.py", "requests.get(url + \"/health/\")"));
    }
}
