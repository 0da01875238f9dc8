//! django-debug-enabled: DEBUG truthy in the resolved production settings.

use crate::project::{Needs, Project};
use crate::registry::{ProjectSink, Rule};
use crate::python::eval::V;

pub(crate) struct DjangoDebugEnabled;

impl Rule for DjangoDebugEnabled {
    fn id(&self) -> &'static str {
        "django-debug-enabled"
    }

    fn needs(&self) -> Needs {
        Needs::SETTINGS
    }

    fn check_project(&self, _project: &Project, sink: &mut ProjectSink) {
        sink.report_setting(&["DEBUG"], |_, b| {
            if b.value.truthy() != Some(true) {
                return vec![];
            }
            let msg = match (&b.value.v, b.value.fallback) {
                (_, true) if b.unless.is_some() => format!(
                    "DEBUG is on when `{}` is unset or empty: make the branch a deployment takes by \
                     default turn debug mode off",
                    b.unless.as_deref().unwrap_or_default()
                ),
                (V::Str(s), _) => format!(
                    "DEBUG is the string {s:?}, which is truthy, so debug mode is on: compare instead, \
                     `DEBUG = os.environ.get(\"DEBUG\", \"\") == \"True\"`"
                ),
                (_, true) => "DEBUG defaults to on when the environment variable is unset: make the default \
                              False, e.g. `env.bool(\"DEBUG\", default=False)`"
                    .to_string(),
                (_, false) => "DEBUG = True in production settings: set `DEBUG = False` (or read it from the \
                               environment with a False default)"
                    .to_string(),
            };
            vec![(b.at, msg)]
        });
    }
}
