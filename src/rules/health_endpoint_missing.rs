//! health-endpoint-missing: a Django project with no URL route that serves a health check.
//!
//! A route counts when a production module of the Django project (the folder of its
//! `manage.py`) declares one whose last path segment is a health word (`health`, `healthz`,
//! `health-check`, `ready`, `readiness`, `live`, `liveness`, `ping`, `status`, `heartbeat`,
//! `alive`), under any prefix (`api/health/`), through `path`, `re_path`, `url`, a router's
//! `register` or a decorator such as `@router.get("/health")`; a health-check app
//! (django-health-check, django-alive, django-watchman) anywhere in the project counts too.
//! Reported once per root URLconf, at its first line; silent when ROOT_URLCONF is not a known
//! string or its module is not in the repository.

use std::collections::BTreeSet;

use crate::project::{Needs, Project};
use crate::registry::{ProjectSink, Rule};
use crate::python::eval::V;
use crate::setup::{judgeable, production_python, project_dir, read_rel};

pub(crate) struct HealthEndpointMissing;

/// Health-check apps and libraries.
const APPS: &[&str] = &["health_check", "django_alive", "watchman", "django_healthchecks", "healthcheck", "HealthCheck"];

fn route_re() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(
            r#"(?i)(?:\b(?:path|re_path|url|add_url_rule)\(|\.register\(|@[\w.]*\.(?:get|route|api_route)\()\s*[rbu]?["']\^?/?(?:[^"'\s]*/)?(?:health[\w-]*|ready\w*|readiness|live|liveness|livez|ping|status|heartbeat|alive)[/?$]*["']"#,
        )
        .unwrap()
    })
}

/// Whether `text` declares a health route or uses a health-check app.
pub(crate) fn has_health(text: &str) -> bool {
    APPS.iter().any(|a| text.contains(a)) || route_re().is_match(text)
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
            let found = production_python(project)
                .filter(in_project)
                .any(|rel| read_rel(project, rel).is_some_and(|t| has_health(&t)));
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
    use super::has_health;

    #[test]
    fn health_routes_under_any_prefix() {
        assert!(has_health("urlpatterns = [path(\"api/health/\", views.health)]"));
        assert!(has_health("re_path(r'^healthz/?$', ok)"));
        assert!(has_health("path('v1/status', status_view)"));
        assert!(has_health("@router.get(\"/ping\")\ndef ping(): ..."));
        assert!(has_health("router.register(r\"readiness\", ReadyViewSet)"));
        assert!(has_health("INSTALLED_APPS += [\"health_check\", \"health_check.db\"]"));
        assert!(!has_health("path(\"api/orders/\", views.orders)"));
        assert!(!has_health("path(\"status-report/<int:pk>/\", report)"));
        assert!(!has_health("order.status = \"ready\""));
        assert!(!has_health("path(\"live-stream/\", stream)"));
        // A dict lookup or a call that is not a route declaration.
        assert!(!has_health("if data.get(\"status\") is not None:"));
        assert!(!has_health("requests.get(\"https://example.com/health\")"));
    }
}
