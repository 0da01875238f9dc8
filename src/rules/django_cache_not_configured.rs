//! django-cache-not-configured: the resolved production settings leave Django on a per-process
//! or no-op cache (no CACHES, or a default backend that is LocMemCache, DummyCache or
//! FileBasedCache) where the checklist wants a shared one (Redis, Memcached).
//!
//! Judged on the text of the statement that finally binds CACHES (the settings IR does not
//! model dicts): a shared backend anywhere in the chain, a backend read from the environment
//! (`env.cache()`, `CACHE_URL`, django-cache-url), a CACHES modified after it is bound, or a
//! backend the rule does not recognise all keep the rule silent.

use crate::project::{Needs, Project};
use crate::registry::{ProjectSink, Rule};
use crate::setup::{chain_texts, has_word, judgeable, root_line, stmt_text};

pub(crate) struct DjangoCacheNotConfigured;

/// Per-process or no-op backends, and what each means for a deployment.
const LOCAL: &[(&str, &str)] = &[
    ("LocMemCache", "a per-process memory cache: each worker caches on its own and a restart empties it"),
    ("DummyCache", "a cache that caches nothing"),
    ("FileBasedCache", "a cache on each server's local disk, not shared between servers"),
];

/// Text (lower-cased) that shows a shared backend or one chosen outside the source.
const SHARED: &[&str] = &[
    "redis",
    // Not "memcache": "locmemcache" holds it.
    "memcached",
    "pymemcache",
    "pylibmc",
    "valkey",
    "databasecache",
    "cache_url",
    "cacheurl",
    ".cache(",
    "cache_backend",
];

const FIX: &str = "use a shared cache, e.g. CACHES = {\"default\": {\"BACKEND\": \
                   \"django.core.cache.backends.redis.RedisCache\", \"LOCATION\": os.environ[\"REDIS_URL\"]}}";

impl Rule for DjangoCacheNotConfigured {
    fn id(&self) -> &'static str {
        "django-cache-not-configured"
    }

    fn needs(&self) -> Needs {
        Needs::SETTINGS
    }

    fn check_project(&self, project: &Project, sink: &mut ProjectSink) {
        sink.report_roots(|root, env| {
            if !judgeable(project, root, env) {
                return vec![];
            }
            let texts = chain_texts(project, root, env);
            if texts.iter().any(|t| {
                let lower = t.to_ascii_lowercase();
                SHARED.iter().any(|m| lower.contains(m))
                    || t.contains("CACHES[")
                    || t.contains("CACHES.update")
                    || t.contains("CACHES.setdefault")
                    || t.contains("CACHES |=")
            }) {
                return vec![];
            }
            match env.get("CACHES") {
                None if texts.iter().any(|t| has_word(t, "CACHES")) => vec![],
                None => vec![(
                    root_line(project, root),
                    format!(
                        "no CACHES in the production settings, so Django's default LocMemCache applies \
                         (a per-process memory cache: each worker caches on its own and a restart empties it): {FIX}"
                    ),
                )],
                Some(b) => {
                    let stmt = stmt_text(project, b.at);
                    let Some((name, effect)) = LOCAL.iter().find(|(n, _)| stmt.contains(n)) else {
                        return vec![];
                    };
                    // Two different local backends (or one under a condition) in one statement:
                    // a choice the source cannot make.
                    if LOCAL.iter().filter(|(n, _)| stmt.contains(n)).count() > 1 || stmt.contains(" if ") {
                        return vec![];
                    }
                    vec![(b.at, format!("the production cache is {name}, {effect}: {FIX}"))]
                }
            }
        });
    }
}
