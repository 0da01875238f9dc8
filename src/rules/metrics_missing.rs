//! metrics-missing: a Django project whose production code collects no metrics (Prometheus,
//! StatsD, OpenTelemetry metrics, Datadog, New Relic, Elastic APM, Scout).
//!
//! Evidence is looked for as for error-tracking-missing: every production Python module of the
//! Django project (the folder of its `manage.py`) and the repository top, and its dependency
//! manifests and process files. Reported once per judgeable production settings root, on its
//! first line.

use crate::project::{Needs, Project};
use crate::registry::{ProjectSink, Rule};
use crate::setup::report_unless_set_up;

pub(crate) struct MetricsMissing;

/// What collecting metrics leaves in Python code.
const IN_CODE: &[&str] = &[
    "django_prometheus",
    "prometheus_client",
    "prometheus",
    "statsd",
    "opentelemetry",
    "ddtrace",
    "datadog",
    "newrelic",
    "elasticapm",
    "scout_apm",
    "appsignal",
    "pyroscope",
];

/// The same in manifests and process files (lower-cased).
const IN_MANIFESTS: &[&str] =
    &["prometheus", "statsd", "opentelemetry", "ddtrace", "datadog", "newrelic", "elastic-apm", "scout-apm", "appsignal"];

impl Rule for MetricsMissing {
    fn id(&self) -> &'static str {
        "metrics-missing"
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
            "nothing collects metrics for this production configuration (no django-prometheus, \
             prometheus_client, StatsD, OpenTelemetry or an APM agent in its code or dependencies): request \
             rate, latency and errors of a release cannot be watched; add one, e.g. django-prometheus \
             (`django_prometheus` in INSTALLED_APPS, its two middlewares, `path(\"\", include(\"django_prometheus.urls\"))`)",
        );
    }
}
