//! django-logging-not-configured: production settings that leave Django's default logging in
//! place (no LOGGING), switch logging configuration off (`LOGGING_CONFIG = None`) with nothing
//! configuring it instead, or send every handler to `logging.NullHandler`.
//!
//! With DEBUG off, Django's default configuration sends errors to `mail_admins` only and prints
//! nothing: a 500's traceback reaches no log the platform collects. Any sign that logging is
//! configured some other way (a `dictConfig`/`basicConfig`/`fileConfig` call, structlog,
//! loguru, a LOGGING imported by name) keeps the rule silent, as does a chain that may be set
//! elsewhere (`try: from .local import *`).

use crate::project::{Needs, Project};
use crate::registry::{ProjectSink, Rule};
use crate::python::eval::V;
use crate::setup::{any_python_holds, project_dir, chain_texts, has_word, judgeable, root_line, stmt_text};

pub(crate) struct DjangoLoggingNotConfigured;

/// Code that configures logging without the LOGGING setting.
const CONFIGURES: &[&str] = &[
    "dictConfig(",
    "basicConfig(",
    "fileConfig(",
    "structlog",
    "loguru",
    "setup_logging",
    "configure_logging",
    "logging_config",
];

const FIX: &str = "add a LOGGING that sends errors to the console, e.g. LOGGING = {\"version\": 1, \
                   \"handlers\": {\"console\": {\"class\": \"logging.StreamHandler\"}}, \
                   \"root\": {\"handlers\": [\"console\"], \"level\": \"INFO\"}}";

/// The handler classes a LOGGING statement names (`"class": "logging.StreamHandler"`).
fn handler_classes(stmt: &str) -> Vec<&str> {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| regex::Regex::new(r#"["']class["']\s*:\s*["']([\w.]+)["']"#).unwrap());
    re.captures_iter(stmt).filter_map(|c| c.get(1)).map(|m| m.as_str()).collect()
}

impl Rule for DjangoLoggingNotConfigured {
    fn id(&self) -> &'static str {
        "django-logging-not-configured"
    }

    fn needs(&self) -> Needs {
        Needs::SETTINGS
    }

    fn check_project(&self, project: &Project, sink: &mut ProjectSink) {
        sink.report_roots(|root, env| {
            if !judgeable(project, root, env) {
                return vec![];
            }
            // Read lazily: whether a production module of the project configures logging itself.
            let dir = project_dir(project, root);
            let mut elsewhere: Option<bool> = None;
            let mut configured_elsewhere =
                || *elsewhere.get_or_insert_with(|| any_python_holds(project, &dir, CONFIGURES));
            let texts = chain_texts(project, root, env);
            if let Some(b) = env.get("LOGGING") {
                let stmt = stmt_text(project, b.at);
                let classes = handler_classes(stmt);
                if !classes.is_empty()
                    && classes.iter().all(|c| *c == "logging.NullHandler")
                    && !texts.iter().any(|t| t.contains("LOGGING[") || t.contains("LOGGING.update"))
                    && !configured_elsewhere()
                {
                    let msg = format!(
                        "every LOGGING handler is logging.NullHandler, so errors and tracebacks are thrown away: {FIX}"
                    );
                    return vec![(b.at, msg)];
                }
                return vec![];
            }
            if let Some(b) = env.get("LOGGING_CONFIG") {
                if b.value.v == V::None && !configured_elsewhere() {
                    let msg = format!(
                        "LOGGING_CONFIG = None switches Django's logging set-up off and nothing configures logging \
                         instead, so errors reach no handler: remove it, or call logging.config.dictConfig() \
                         yourself; {FIX}"
                    );
                    return vec![(b.at, msg)];
                }
                return vec![];
            }
            if texts.iter().any(|t| has_word(t, "LOGGING")) || configured_elsewhere() {
                return vec![];
            }
            vec![(
                root_line(project, root),
                format!(
                    "no LOGGING in the production settings, so Django's default applies: with DEBUG off, errors \
                     go only to mail_admins (email to ADMINS) and nothing reaches the server's log: {FIX}"
                ),
            )]
        });
    }
}
