//! django-static-not-compressed: production settings that serve static files with Django's
//! default storage (no content hashes, no pre-compressed copies), with no other sign of
//! compression in the repository.
//!
//! Judged on the text of the statements that bind STATICFILES_STORAGE and STORAGES: a Manifest
//! or Compressed storage, a remote storage (S3, Google Cloud, Azure: served by a CDN), or any
//! storage the rule does not know keeps it silent, as does an nginx/Apache/Caddy configuration
//! with gzip or brotli, or a build-time compression plugin.

use crate::project::{Needs, Project};
use crate::registry::{ProjectSink, Rule};
use crate::django::settings::string_list;
use crate::setup::{belongs_to, chain_texts, has_word, judgeable, project_dir, root_line, server_configs, stmt_text};

pub(crate) struct DjangoStaticNotCompressed;

const DEFAULT_STORAGE: &str = "django.contrib.staticfiles.storage.StaticFilesStorage";

/// Evidence of compression in server or build configuration (lower-cased text).
const SERVER_EVIDENCE: &[&str] =
    &["gzip on", "gzip_static", "brotli on", "brotli_static", "encode gzip", "encode zstd", "encode br", "deflate", "compression"];

const FIX: &str = "use a hashed, compressed storage, e.g. STORAGES = {\"staticfiles\": {\"BACKEND\": \
                   \"whitenoise.storage.CompressedManifestStaticFilesStorage\"}, ...} with WhiteNoise, or compress \
                   at the web server (gzip/brotli) or CDN";

impl Rule for DjangoStaticNotCompressed {
    fn id(&self) -> &'static str {
        "django-static-not-compressed"
    }

    fn needs(&self) -> Needs {
        Needs::SETTINGS
    }

    fn check_project(&self, project: &Project, sink: &mut ProjectSink) {
        let mut configs: Option<Vec<(String, String)>> = None;
        let mut compressed_for = |dir: &str| {
            configs.get_or_insert_with(|| {
                server_configs(project)
                    .into_iter()
                    .filter(|(_, t)| SERVER_EVIDENCE.iter().any(|e| t.to_ascii_lowercase().contains(e)))
                    .collect()
            });
            configs.as_ref().is_some_and(|c| c.iter().any(|(rel, _)| belongs_to(project, rel, dir)))
        };
        sink.report_roots(|root, env| {
            if !judgeable(project, root, env) {
                return vec![];
            }
            let staticfiles = env
                .get("INSTALLED_APPS")
                .and_then(|b| string_list(&b.value.v))
                .is_some_and(|apps| apps.contains(&"django.contrib.staticfiles"));
            if !staticfiles {
                return vec![];
            }
            let texts = chain_texts(project, root, env);
            if texts.iter().any(|t| t.contains("STORAGES[") || t.contains("STORAGES.update") || t.contains("whitenoise")) {
                return vec![];
            }
            // Where the default storage is chosen: an explicit default, or nothing.
            let explicit = |name: &str| env.get(name).map(|b| (b.at, stmt_text(project, b.at)));
            let at = match (explicit("STATICFILES_STORAGE"), explicit("STORAGES")) {
                (Some((at, s)), _) if s.contains(DEFAULT_STORAGE) && !s.contains(" if ") => Some(at),
                (None, Some((at, s)))
                    if s.contains("staticfiles") && s.contains(DEFAULT_STORAGE) && !s.contains(" if ") =>
                {
                    Some(at)
                }
                (Some(_), _) | (_, Some(_)) => return vec![],
                // Imported by name from a module the chain does not star-import.
                (None, None) if texts.iter().any(|t| has_word(t, "STORAGES") || has_word(t, "STATICFILES_STORAGE")) => {
                    return vec![]
                }
                (None, None) => None,
            };
            if compressed_for(&project_dir(project, root)) {
                return vec![];
            }
            let msg = format!(
                "static files are served with Django's default StaticFilesStorage: no content hashes in their names \
                 (browsers cannot cache them for long) and no compressed copies, and nothing in the repository \
                 compresses them (no gzip/brotli in a server config, no build plugin): {FIX}"
            );
            vec![(at.unwrap_or_else(|| root_line(project, root)), msg)]
        });
    }
}
