//! django-deploy-check: the static counterparts of `manage.py check --deploy`, judged on each
//! resolved production settings root.
//!
//! Django's checks read the final settings, with Django's defaults for what a project does not
//! set. Here the same conditions are evaluated on the settings chain the project pass resolved:
//! a setting bound in the chain is judged where it is bound (in the base module when production
//! inherits it); a setting left to Django's default is reported in the module that should set it
//! (the root, or the base every production module built on it leaves it unset in), on the line
//! of a related setting that module assigns (`SECURE_SSL_REDIRECT` for a missing
//! `SECURE_HSTS_SECONDS`), else on its last top-level setting: never on a line 1 that holds a
//! licence header or a docstring. The check id is the finding's key, so its fingerprint stays
//! when the line moves, and a marker suppresses one check with
//! `preflight: ignore[django-deploy-check:security.W004]`.
//! A value the resolution cannot know (read from the environment without a default, derived
//! from DEBUG, computed) is never judged; a default used when the environment is silent is.
//!
//! Not repeated here: security.W003 (csrf-disabled), W009 and W025 (secret keys:
//! django-secret-key-hardcoded and secret-hardcoded decide what the source shows), W018
//! (django-debug-enabled). Not decidable from the source: E100-E102 (they import the failure
//! view).

use crate::finding::Level;
use crate::project::{Needs, Project};
use crate::registry::{Extra, ProjectSink, Rule};
use crate::django::settings::string_list;
use crate::python::eval::{truthy, Binding, Env, Loc, Value, V};

pub(crate) struct DjangoDeployCheck;

const SECURITY_MW: &str = "django.middleware.security.SecurityMiddleware";
const XFRAME_MW: &str = "django.middleware.clickjacking.XFrameOptionsMiddleware";
const CSRF_MW: &str = "django.middleware.csrf.CsrfViewMiddleware";
const SESSION_MW: &str = "django.contrib.sessions.middleware.SessionMiddleware";
const SESSION_APP: &str = "django.contrib.sessions";

const REFERRER_POLICIES: &[&str] = &[
    "no-referrer",
    "no-referrer-when-downgrade",
    "origin",
    "origin-when-cross-origin",
    "same-origin",
    "strict-origin",
    "strict-origin-when-cross-origin",
    "unsafe-url",
];
const OPENER_POLICIES: &[&str] = &["same-origin", "same-origin-allow-popups", "unsafe-none"];

/// What the resolved chain says of one setting.
enum Setting<'a> {
    /// Not bound anywhere in the chain: Django's default applies.
    Absent,
    /// Bound to a value the resolution knows; `fallback` when it is an env lookup's default.
    Known { v: &'a V, fallback: bool, at: Loc },
    /// Bound to something unknowable from the source.
    Unknown,
}

/// A production root's resolved settings; `open` when its chain star-imports a module that is
/// not in the project, which may set anything the project leaves unset.
struct Chain<'a> {
    env: &'a Env,
    open: bool,
}

fn setting<'a>(chain: &Chain<'a>, name: &str) -> Setting<'a> {
    match chain.env.get(name) {
        None if chain.open => Setting::Unknown,
        None => Setting::Absent,
        Some(b) => match &b.value.v {
            V::Unknown | V::EnvUnset | V::EnvSchema(_) | V::Func(..) => Setting::Unknown,
            // Set under an undecided `if`: judged only when every branch gives the same value.
            V::Either(variants) => match variants.split_first() {
                Some((first, rest)) if rest.iter().all(|e| e.v == first.v) => {
                    Setting::Known { v: &first.v, fallback: b.value.fallback, at: first.at }
                }
                _ => Setting::Unknown,
            },
            v => Setting::Known { v, fallback: b.value.fallback, at: b.at },
        },
    }
}

/// The strings of a fully known list setting, and where it is set.
fn strings<'a>(chain: &Chain<'a>, name: &str) -> Option<(Vec<&'a str>, Loc)> {
    let b = chain.env.get(name)?;
    Some((string_list(&b.value.v)?, b.at))
}

fn is_true(v: &V) -> bool {
    matches!(v, V::Bool(true))
}

fn show(v: &V) -> String {
    match v {
        V::Str(s) => format!("{s:?}"),
        V::Int(i) => i.to_string(),
        V::Bool(true) => "True".into(),
        V::Bool(false) => "False".into(),
        V::None => "None".into(),
        V::List(items) => {
            let parts: Vec<String> = items.iter().map(|e| show(&e.v)).collect();
            format!("[{}]", parts.join(", "))
        }
        _ => "unknown".into(),
    }
}

/// One failed check: where (`None`: the setting is unset), the setting, the check id, what is
/// wrong, how to fix it.
struct Failure {
    at: Option<Loc>,
    setting: &'static str,
    id: &'static str,
    problem: String,
    fix: &'static str,
    fallback: bool,
}

/// The settings beside which a missing `name` belongs, nearest first; an entry ending in `_` is
/// a family of settings (see `Module::anchor`).
fn related(name: &str) -> &'static [&'static str] {
    match name {
        "SECURE_HSTS_SECONDS" => &[
            "SECURE_HSTS_INCLUDE_SUBDOMAINS",
            "SECURE_HSTS_PRELOAD",
            "SECURE_SSL_REDIRECT",
            "SECURE_PROXY_SSL_HEADER",
            "SECURE_",
            "SESSION_COOKIE_SECURE",
            "CSRF_COOKIE_SECURE",
        ],
        "SECURE_HSTS_INCLUDE_SUBDOMAINS" => &["SECURE_HSTS_SECONDS", "SECURE_HSTS_PRELOAD", "SECURE_"],
        "SECURE_HSTS_PRELOAD" => &["SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_SECONDS", "SECURE_"],
        "SECURE_SSL_REDIRECT" => &[
            "SECURE_PROXY_SSL_HEADER",
            "SECURE_HSTS_SECONDS",
            "SECURE_",
            "SESSION_COOKIE_SECURE",
            "CSRF_COOKIE_SECURE",
        ],
        "SESSION_COOKIE_SECURE" => &[
            "CSRF_COOKIE_SECURE",
            "SESSION_COOKIE_HTTPONLY",
            "SESSION_COOKIE_",
            "CSRF_COOKIE_",
            "SESSION_",
            "SECURE_SSL_REDIRECT",
        ],
        "CSRF_COOKIE_SECURE" => &[
            "SESSION_COOKIE_SECURE",
            "CSRF_COOKIE_",
            "CSRF_TRUSTED_ORIGINS",
            "CSRF_",
            "SESSION_COOKIE_",
            "SECURE_SSL_REDIRECT",
        ],
        "ALLOWED_HOSTS" => &["CSRF_TRUSTED_ORIGINS", "USE_X_FORWARDED_HOST", "DEBUG"],
        _ => &[],
    }
}

/// Judges one setting: a bound value fails unless `passes`; an absent one fails when Django's
/// default does (`default_passes` false).
fn judge(
    env: &Chain<'_>,
    name: &'static str,
    id: &'static str,
    default_passes: bool,
    passes: impl Fn(&V) -> bool,
    effect: &str,
    fix: &'static str,
) -> Option<Failure> {
    match setting(env, name) {
        Setting::Absent if !default_passes => {
            Some(Failure {
                at: None,
                setting: name,
                id,
                problem: format!("{name} is not set, so {effect}"),
                fix,
                fallback: false,
            })
        }
        Setting::Known { v, fallback, at } if !passes(v) => Some(Failure {
            at: Some(at),
            setting: name,
            id,
            problem: format!("{name} is {}, so {effect}", show(v)),
            fix,
            fallback,
        }),
        _ => None,
    }
}

/// A setting that passes only when it `is True` (Django's own test) and defaults to False.
fn must_be_true(env: &Chain<'_>, name: &'static str, id: &'static str, effect: &str, fix: &'static str) -> Option<Failure> {
    judge(env, name, id, false, is_true, effect, fix)
}

/// A setting whose Django default is True: only an explicit other value fails.
fn explicit_not_true(env: &Chain<'_>, name: &'static str, id: &'static str, effect: &str, fix: &'static str) -> Option<Failure> {
    judge(env, name, id, true, is_true, effect, fix)
}

/// Every check that fails for one resolved production root.
fn failures(env: &Chain<'_>) -> Vec<Failure> {
    // A list changed under an undecided `if`: judge each variant, keep what fails in all.
    let branched = ["MIDDLEWARE", "INSTALLED_APPS"].into_iter().find_map(|name| match env.env.get(name) {
        Some(Binding { value: Value { v: V::Either(variants), .. }, module, .. }) => Some((name, variants, module)),
        _ => None,
    });
    if let Some((name, variants, module)) = branched {
        let mut common: Option<Vec<Failure>> = None;
        for e in variants {
            let mut one = env.env.clone();
            let value = Value { v: e.v.clone(), fallback: e.fallback };
            one.insert(name.into(), Binding { value, at: e.at, module: *module, unless: None, keys: Vec::new() });
            let found = failures(&Chain { env: &one, open: env.open });
            common = Some(match common {
                None => found,
                Some(prev) => prev.into_iter().filter(|f| found.iter().any(|g| g.id == f.id && g.problem == f.problem)).collect(),
            });
        }
        return common.unwrap_or_default();
    }
    let mut out = Vec::new();
    // Without a fully known MIDDLEWARE the module is not a settings root the rule can judge.
    let Some((mw, mw_at)) = strings(env, "MIDDLEWARE") else { return out };
    let has = |m: &str| mw.contains(&m);
    let security = has(SECURITY_MW);

    if !security {
        out.push(Failure {
            at: Some(mw_at),
            setting: "MIDDLEWARE",
            id: "security.W001",
            problem: format!("MIDDLEWARE has no {SECURITY_MW}, so no SECURE_* setting (HSTS, HTTPS redirect, nosniff, referrer and opener policies) takes effect"),
            fix: "add it as the first entry of MIDDLEWARE",
            fallback: false,
        });
    }
    if !has(XFRAME_MW) {
        out.push(Failure {
            at: Some(mw_at),
            setting: "MIDDLEWARE",
            id: "security.W002",
            problem: format!("MIDDLEWARE has no {XFRAME_MW}, so any site can show your pages in a frame (clickjacking)"),
            fix: "add it to MIDDLEWARE (it sends X-Frame-Options: DENY)",
            fallback: false,
        });
    }
    if security {
        let hsts = setting(env, "SECURE_HSTS_SECONDS");
        out.extend(judge(
            env,
            "SECURE_HSTS_SECONDS",
            "security.W004",
            false,
            |v| truthy(v) != Some(false),
            "browsers are never told to refuse plain HTTP for this site (HSTS)",
            "set SECURE_HSTS_SECONDS (start with 3600, then 31536000 once every page works over HTTPS)",
        ));
        if matches!(&hsts, Setting::Known { v, .. } if truthy(v) == Some(true)) {
            out.extend(must_be_true(
                env,
                "SECURE_HSTS_INCLUDE_SUBDOMAINS",
                "security.W005",
                "HSTS does not cover subdomains, which stay open to downgrade attacks",
                "set SECURE_HSTS_INCLUDE_SUBDOMAINS = True once every subdomain serves HTTPS",
            ));
            out.extend(must_be_true(
                env,
                "SECURE_HSTS_PRELOAD",
                "security.W021",
                "the site cannot be submitted to the browsers' HSTS preload list, and a first visit can still go over HTTP",
                "set SECURE_HSTS_PRELOAD = True when the site is ready for the preload list",
            ));
        }
        out.extend(explicit_not_true(
            env,
            "SECURE_CONTENT_TYPE_NOSNIFF",
            "security.W006",
            "browsers may guess content types and run an upload as HTML or script",
            "remove the setting (Django's default is True) or set it to True",
        ));
        out.extend(must_be_true(
            env,
            "SECURE_SSL_REDIRECT",
            "security.W008",
            "requests over plain HTTP are served instead of redirected to HTTPS",
            "set SECURE_SSL_REDIRECT = True (or redirect at the proxy and say so with a suppression comment)",
        ));
        match setting(env, "SECURE_REFERRER_POLICY") {
            Setting::Known { v: V::None, fallback, at } => out.push(Failure {
                at: Some(at),
                setting: "SECURE_REFERRER_POLICY",
                id: "security.W022",
                problem: "SECURE_REFERRER_POLICY is None, so full URLs (with their tokens and ids) leak to other sites in the Referer header".into(),
                fix: "remove the setting (Django's default is \"same-origin\") or choose a policy",
                fallback,
            }),
            Setting::Known { v, fallback, at } => {
                let values: Option<Vec<&str>> = match v {
                    V::Str(s) => Some(s.split(',').map(str::trim).collect()),
                    _ => string_list(v),
                };
                if let Some(bad) = values.and_then(|vs| vs.into_iter().find(|x| !REFERRER_POLICIES.contains(x))) {
                    out.push(Failure {
                        at: Some(at),
                        setting: "SECURE_REFERRER_POLICY",
                        id: "security.E023",
                        problem: format!("SECURE_REFERRER_POLICY has the invalid value {bad:?}, which browsers ignore, so the policy you meant is not applied"),
                        fix: "use one of: no-referrer, no-referrer-when-downgrade, origin, origin-when-cross-origin, same-origin, strict-origin, strict-origin-when-cross-origin, unsafe-url",
                        fallback,
                    });
                }
            }
            _ => {}
        }
        if let Setting::Known { v: V::Str(s), fallback, at } = setting(env, "SECURE_CROSS_ORIGIN_OPENER_POLICY") {
            if !OPENER_POLICIES.contains(&s.as_str()) {
                out.push(Failure {
                    at: Some(at),
                    setting: "SECURE_CROSS_ORIGIN_OPENER_POLICY",
                    id: "security.E024",
                    problem: format!("SECURE_CROSS_ORIGIN_OPENER_POLICY has the invalid value {s:?}, so browsers ignore the header"),
                    fix: "use one of: same-origin, same-origin-allow-popups, unsafe-none",
                    fallback,
                });
            }
        }
    }

    // Session cookie: W010 (the sessions app), W011 (the middleware), W012 (both).
    let apps = strings(env, "INSTALLED_APPS").map(|(a, _)| a.contains(&SESSION_APP));
    let session_mw = has(SESSION_MW);
    let cookie_id = match (apps, session_mw) {
        (Some(true), true) => Some("security.W012"),
        (Some(true), false) => Some("security.W010"),
        (Some(false) | None, true) => Some("security.W011"),
        (Some(false) | None, false) => None,
    };
    if let Some(id) = cookie_id {
        out.extend(must_be_true(
            env,
            "SESSION_COOKIE_SECURE",
            id,
            "the session cookie is also sent over plain HTTP, where anyone on the network can steal the session",
            "set SESSION_COOKIE_SECURE = True",
        ));
        let httponly_id = match id {
            "security.W012" => "security.W015",
            "security.W010" => "security.W013",
            _ => "security.W014",
        };
        out.extend(explicit_not_true(
            env,
            "SESSION_COOKIE_HTTPONLY",
            httponly_id,
            "scripts on the page (and any XSS) can read the session cookie",
            "remove the setting (Django's default is True) or set it to True",
        ));
    }

    // CSRF cookie: W016, unless the token lives in the session.
    let csrf_in_session = match setting(env, "CSRF_USE_SESSIONS") {
        Setting::Absent => Some(false),
        Setting::Known { v, .. } => truthy(v),
        Setting::Unknown => None,
    };
    if has(CSRF_MW) && csrf_in_session == Some(false) {
        out.extend(must_be_true(
            env,
            "CSRF_COOKIE_SECURE",
            "security.W016",
            "the CSRF cookie is also sent over plain HTTP, where it can be read and replayed",
            "set CSRF_COOKIE_SECURE = True",
        ));
    }

    if has(XFRAME_MW) {
        out.extend(judge(
            env,
            "X_FRAME_OPTIONS",
            "security.W019",
            true,
            |v| matches!(v, V::Str(s) if s == "DENY"),
            "other pages of the same origin can frame yours",
            "set X_FRAME_OPTIONS = \"DENY\" unless the site frames its own pages",
        ));
    }

    match setting(env, "ALLOWED_HOSTS") {
        Setting::Absent => out.push(Failure {
            at: None,
            setting: "ALLOWED_HOSTS",
            id: "security.W020",
            problem: "ALLOWED_HOSTS is not set, so with DEBUG off Django answers every request with 400 Bad Request".into(),
            fix: "list the site's host names, e.g. ALLOWED_HOSTS = [\"www.example.com\"]",
            fallback: false,
        }),
        Setting::Known { v: V::List(items), fallback, at } if items.is_empty() => out.push(Failure {
            at: Some(at),
            setting: "ALLOWED_HOSTS",
            id: "security.W020",
            problem: "ALLOWED_HOSTS is empty, so with DEBUG off Django answers every request with 400 Bad Request".into(),
            fix: "list the site's host names, e.g. ALLOWED_HOSTS = [\"www.example.com\"]",
            fallback,
        }),
        _ => {}
    }
    out
}

impl Rule for DjangoDeployCheck {
    fn id(&self) -> &'static str {
        "django-deploy-check"
    }

    fn needs(&self) -> Needs {
        Needs::SETTINGS
    }

    fn check_project(&self, project: &Project, sink: &mut ProjectSink) {
        let idx = &project.settings;
        // A setting left unset by every production module built on the same base module is
        // that base's gap: one finding there, naming the modules it is in effect for, rather
        // than one per module at its first line.
        let missing: Vec<(usize, Option<usize>, Vec<&'static str>)> = idx
            .roots
            .iter()
            .map(|(root, env)| {
                let chain = Chain { env, open: idx.open.contains(root) };
                let ids = failures(&chain).into_iter().filter(|f| f.at.is_none()).map(|f| f.id).collect();
                (*root, idx.direct_base(*root), ids)
            })
            .collect();
        let shared_gap = |root: usize, id: &str| -> Option<usize> {
            let base = missing.iter().find(|(r, _, _)| *r == root)?.1?;
            let siblings: Vec<&(usize, Option<usize>, Vec<&str>)> =
                missing.iter().filter(|(_, b, _)| *b == Some(base)).collect();
            (siblings.len() >= 2 && siblings.iter().all(|(_, _, ids)| ids.contains(&id))).then_some(base)
        };
        let judged = crate::django::settings::judge_roots(idx, |root, env| {
            let chain = Chain { env, open: idx.open.contains(&root) };
            failures(&chain)
                .into_iter()
                .map(|f| {
                    let base = if f.at.is_none() { shared_gap(root, f.id) } else { None };
                    let module = idx.module(base.unwrap_or(root));
                    let mut msg = format!("{}: {}: {}", f.id, f.problem, f.fix);
                    if f.fallback {
                        msg.push_str(" (the value is the default used when the environment does not set it)");
                    } else if f.at.is_none() && base.is_some() {
                        msg.push_str(" (Django's default applies: neither this module nor a module built on it sets it)");
                    } else if f.at.is_none() {
                        msg.push_str(&format!(
                            " (Django's default applies: nothing in the settings chain of `{}` sets it)",
                            module.rel
                        ));
                    }
                    let at = f.at.unwrap_or_else(|| {
                        // The first line of the anchor statement (a multi-line list is flagged
                        // where it starts); line 1 only for a module with no setting at all.
                        let text = &project.file(module.file).text;
                        let start = module.anchor(related(f.setting)).map_or(0, |a| a.start);
                        let end = text[start..].find('\n').map_or(text.len(), |i| start + i);
                        Loc { file: module.file, start, end }
                    });
                    (at, msg)
                })
                .collect()
        });
        for (at, message) in judged {
            // The check id keeps the fingerprint when the flagged line or the findings around it
            // change; Django's errors (E023, E024) are errors here too.
            let id = message.split(':').next().unwrap_or_default().to_string();
            let level = id.contains(".E").then_some(Level::Error);
            sink.report_with(at, message, Extra { level, key: Some(id), snippet: None });
        }
    }
}

#[cfg(test)]
mod tests {
    /// Every check id the rule reports is a per-check suppression id `blanket-suppression`
    /// knows, and the table names no check the rule does not have.
    #[test]
    fn every_check_id_is_a_suppression_id() {
        let src = include_str!("django_deploy_check.rs");
        let re = regex::Regex::new(r#""(security\.[EW]\d{3})""#).unwrap();
        let mut ids: Vec<String> =
            re.captures_iter(src).map(|c| format!("django-deploy-check:{}", &c[1])).collect();
        ids.sort();
        ids.dedup();
        let mut table: Vec<String> = crate::suppress::CHECK_IDS.iter().map(|s| s.to_string()).collect();
        table.sort();
        assert_eq!(ids, table);
    }
}
