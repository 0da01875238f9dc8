//! django-secret-key-hardcoded: a literal SECRET_KEY in the resolved production settings.

use crate::finding::{redact, redact_line};
use crate::project::{Needs, Project};
use crate::registry::{ProjectSink, Rule};
use crate::python::eval::V;

pub(crate) struct DjangoSecretKeyHardcoded;

impl Rule for DjangoSecretKeyHardcoded {
    fn id(&self) -> &'static str {
        "django-secret-key-hardcoded"
    }

    fn needs(&self) -> Needs {
        Needs::SETTINGS
    }

    fn check_project(&self, _project: &Project, sink: &mut ProjectSink) {
        let mut secrets = Vec::new();
        sink.report_setting(&["SECRET_KEY"], |_, b| {
            let V::Str(s) = &b.value.v else { return vec![] };
            if s.trim().is_empty() {
                return vec![];
            }
            secrets.push(s.clone());
            let msg = if b.value.fallback {
                format!(
                    "SECRET_KEY falls back to a hardcoded value ({}) when the environment variable is unset: \
                     drop the default, `SECRET_KEY = os.environ[\"SECRET_KEY\"]`, and rotate the key",
                    redact(s)
                )
            } else {
                format!(
                    "SECRET_KEY is hardcoded ({}): read it from the environment with no fallback, \
                     `SECRET_KEY = os.environ[\"SECRET_KEY\"]`, and rotate the key",
                    redact(s)
                )
            };
            vec![(b.at, msg)]
        });
        // Never print the key: mask it in the snippet (the fingerprint then hashes the masked
        // line, like every finding's).
        for f in &mut sink.out {
            for s in &secrets {
                f.snippet = redact_line(&f.snippet, s);
                // A clipped snippet may hold a piece of the key that `redact_line` cannot see
                // as a whole: show no source line rather than a piece of a secret.
                if s.len() >= 8 && s.as_bytes().windows(8).any(|w| f.snippet.as_bytes().windows(8).any(|x| x == w)) {
                    f.snippet.clear();
                }
            }
        }
    }
}
