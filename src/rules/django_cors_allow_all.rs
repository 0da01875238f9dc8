//! django-cors-allow-all: django-cors-headers accepting every origin in production settings.

use crate::project::{Needs, Project};
use crate::registry::{ProjectSink, Rule};
use crate::django::settings::elements;
use crate::python::eval::V;

pub(crate) struct DjangoCorsAllowAll;

const ALLOW_ALL: &[&str] = &["CORS_ALLOW_ALL_ORIGINS", "CORS_ORIGIN_ALLOW_ALL"];
const ORIGIN_LISTS: &[&str] = &["CORS_ALLOWED_ORIGINS", "CORS_ORIGIN_WHITELIST"];
const REGEX_LISTS: &[&str] = &["CORS_ALLOWED_ORIGIN_REGEXES", "CORS_ORIGIN_REGEX_WHITELIST"];

impl Rule for DjangoCorsAllowAll {
    fn id(&self) -> &'static str {
        "django-cors-allow-all"
    }

    fn needs(&self) -> Needs {
        Needs::SETTINGS
    }

    fn check_project(&self, _project: &Project, sink: &mut ProjectSink) {
        let names: Vec<&str> = ALLOW_ALL.iter().chain(ORIGIN_LISTS).chain(REGEX_LISTS).copied().collect();
        sink.report_roots(|_, env| {
            // CORS for a few URLs only (`CORS_URLS_REGEX`, a bookmarklet's endpoint) and without
            // credentials: any site may call those URLs, but never as a logged-in user.
            let scoped = env.get("CORS_URLS_REGEX").is_some_and(|b| matches!(&b.value.v, V::Str(s) if !matches_every_path(s)));
            let no_credentials = env.get("CORS_ALLOW_CREDENTIALS").is_none_or(|b| b.value.truthy() == Some(false));
            let judge = |name: &str, b: &crate::python::eval::Binding| -> Vec<(crate::python::eval::Loc, String)> {
            if ALLOW_ALL.contains(&name) {
                if b.value.truthy() != Some(true) || (scoped && no_credentials) {
                    return vec![];
                }
                let how = match &b.unless {
                    Some(vars) => format!(" when `{vars}` is unset or empty (set it in every deployment)"),
                    None if b.value.fallback => " by its environment default".to_string(),
                    None => String::new(),
                };
                return vec![(
                    b.at,
                    format!(
                        "{name} is True{how}, so any web site can read this API's responses: \
                         set it to False and list trusted origins in CORS_ALLOWED_ORIGINS"
                    ),
                )];
            }
            let regex = REGEX_LISTS.contains(&name);
            elements(b)
                .into_iter()
                .filter_map(|(v, at, _)| {
                    let V::Str(s) = v else { return None };
                    let bad = if regex { matches_everything(&s) } else { s.trim() == "*" };
                    bad.then(|| {
                        let what = if regex { format!("the match-everything pattern {s:?}") } else { "'*'".into() };
                        (at, format!("{name} contains {what}, so any origin is allowed: list trusted origins explicitly"))
                    })
                })
                .take(1)
                .collect()
            };
            names.iter().filter_map(|name| env.get(*name).map(|b| judge(name, b))).flatten().collect()
        });
    }
}

/// A `CORS_URLS_REGEX` that every path matches (django-cors-headers' default is `^.*$`).
fn matches_every_path(re: &str) -> bool {
    let s = re.trim();
    let s = s.strip_prefix('^').unwrap_or(s);
    let s = s.strip_suffix('$').unwrap_or(s);
    matches!(s, "" | ".*" | ".+" | "/" | "/.*" | "/.+" | "(.*)" | ".*?" | r"\/.*")
}

/// A regex that accepts any origin: anchors and an optional scheme around "anything".
fn matches_everything(re: &str) -> bool {
    let mut s = re.trim();
    s = s.strip_prefix('^').unwrap_or(s);
    s = s.strip_suffix('$').unwrap_or(s);
    for scheme in ["(https?://)?", "(https?:\\/\\/)?", "https?://", "https?:\\/\\/", "https://", "http://", "https:\\/\\/", "http:\\/\\/"] {
        if let Some(rest) = s.strip_prefix(scheme) {
            s = rest;
            break;
        }
    }
    matches!(s, ".*" | ".+" | "(.*)" | "(.+)" | ".*?" | ".+?" | "\\S*" | "\\S+" | "[^/]*" | "[^/]+")
}

#[cfg(test)]
mod tests {
    use super::matches_everything;

    #[test]
    fn match_all_patterns() {
        for re in [".*", "^.*$", "^https?://.*$", "^https://.+$", r"^(https?://)?.*$", "^.*"] {
            assert!(matches_everything(re), "{re}");
        }
        for re in [r"^https://\w+\.example\.com$", r"^https://.*\.example\.com$", "", "example"] {
            assert!(!matches_everything(re), "{re}");
        }
    }
}
