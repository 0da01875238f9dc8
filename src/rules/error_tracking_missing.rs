//! error-tracking-missing: a Django project whose production code initialises no error tracker
//! (Sentry, Rollbar, Bugsnag, Honeybadger, Airbrake, New Relic, Datadog, Elastic APM, Scout,
//! AppSignal, OpenTelemetry).
//!
//! Evidence is looked for in every production Python module of the Django project (the folder
//! of its `manage.py`; settings, wsgi/asgi, apps, startup code) and the repository top
//! (`gunicorn.conf.py`), and in its dependency manifests and process files (a tracker in
//! requirements, `newrelic-admin run-program`, `ddtrace-run` in a Procfile or Dockerfile): any of
//! them keeps the rule silent. Reported once per production settings root whose chain can be
//! judged, on its first line.

use crate::project::{Needs, Project};
use crate::registry::{ProjectSink, Rule};
use crate::setup::report_unless_set_up;

pub(crate) struct ErrorTrackingMissing;

/// What initialising (or installing) an error tracker leaves in Python code.
const IN_CODE: &[&str] = &[
    "sentry_sdk",
    "raven.contrib",
    "RAVEN_CONFIG",
    "rollbar",
    "bugsnag",
    "honeybadger",
    "airbrake",
    "newrelic",
    "ddtrace",
    "datadog",
    "opentelemetry",
    "elasticapm",
    "scout_apm",
    "appsignal",
    "logfire",
];

/// The same in manifests and process files (lower-cased).
const IN_MANIFESTS: &[&str] = &[
    "sentry",
    "raven",
    "rollbar",
    "bugsnag",
    "honeybadger",
    "airbrake",
    "newrelic",
    "ddtrace",
    "datadog",
    "opentelemetry",
    "elastic-apm",
    "scout-apm",
    "appsignal",
    "logfire",
];

impl Rule for ErrorTrackingMissing {
    fn id(&self) -> &'static str {
        "error-tracking-missing"
    }

    fn needs(&self) -> Needs {
        Needs::SETTINGS
    }

    fn check_project(&self, project: &Project, sink: &mut ProjectSink) {
        report_unless_set_up(
            project,
            sink,
            IN_CODE,
            IN_MANIFESTS,
            "no error tracker is initialised for this production configuration (no Sentry, Rollbar, Bugsnag, \
             New Relic, Datadog or OpenTelemetry in its settings, wsgi/asgi or startup code): production \
             exceptions are seen only if someone reads the logs; add one, e.g. `sentry_sdk.init(dsn=os.environ[\
             \"SENTRY_DSN\"])` in the production settings",
        );
    }
}
