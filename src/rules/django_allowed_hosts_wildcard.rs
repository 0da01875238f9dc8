//! django-allowed-hosts-wildcard: `'*'` in the resolved production ALLOWED_HOSTS.

use crate::project::{Needs, Project};
use crate::registry::{ProjectSink, Rule};
use crate::django::settings::elements;
use crate::python::eval::V;

pub(crate) struct DjangoAllowedHostsWildcard;

impl Rule for DjangoAllowedHostsWildcard {
    fn id(&self) -> &'static str {
        "django-allowed-hosts-wildcard"
    }

    fn needs(&self) -> Needs {
        Needs::SETTINGS
    }

    fn check_project(&self, _project: &Project, sink: &mut ProjectSink) {
        sink.report_setting(&["ALLOWED_HOSTS"], |_, b| {
            elements(b)
                .into_iter()
                .filter(|(v, _, _)| matches!(v, V::Str(s) if s.trim() == "*"))
                .take(1)
                .map(|(_, at, fallback)| {
                    let msg = if fallback {
                        "ALLOWED_HOSTS falls back to '*' when the environment variable is unset: drop the \
                         default (`os.environ[\"ALLOWED_HOSTS\"].split(\",\")`) or default to your domains"
                    } else {
                        "ALLOWED_HOSTS contains '*', so any Host header is accepted: list your domains, \
                         e.g. `ALLOWED_HOSTS = [\"example.com\", \".example.com\"]`"
                    };
                    (at, msg.to_string())
                })
                .collect()
        });
    }
}
