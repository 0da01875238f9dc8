//! error-tracking-missing: a Django project whose production code initialises no error tracker
//! (Sentry, Rollbar, Bugsnag, Honeybadger, Airbrake, New Relic, Datadog, Elastic APM, Scout,
//! AppSignal, OpenTelemetry).
//!
//! Evidence is looked for in every production Python module of the Django project (the folder
//! of its `manage.py`; settings, wsgi/asgi, apps, startup code) and the repository top
//! (`gunicorn.conf.py`), and in its process files (`newrelic-admin run-program`, `ddtrace-run`,
//! `opentelemetry-instrument` in a Procfile or Dockerfile): any of them keeps the rule silent. A
//! tracker only declared in the dependency manifests is installed but never initialised, and
//! does not count. Reported once per production settings root whose chain can be
//! judged, on its first line.
//!
//! The React half: every React front end of the repository (a `package.json` whose
//! `dependencies` name `react`, with an app entry: an `index.html`, `src/main.*`,
//! `src/index.tsx`/`.jsx`, or a `pages`/`app` folder of a framework such as Next.js or React
//! Router) that initialises no browser error tracker is reported once, at its `package.json`.
//! Judged on its own, whatever the Django side does. A tracker dependency in a `package.json` of
//! the front end or its workspace, or a tracker named anywhere in their source or in the
//! repository's HTML templates (a CDN snippet), keeps it silent; so do libraries (no app
//! entry) and documentation sites (Docusaurus, Nextra, VitePress...).

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

/// Launchers that initialise a tracker around the server process, in a Procfile, a Dockerfile
/// or another process file (lower-cased). A tracker only declared in the dependencies is
/// installed, not initialised: `sentry-sdk` in requirements.txt with no `sentry_sdk.init()` reports
/// nothing.
const IN_PROCESS_FILES: &[&str] = &["newrelic-admin run-program", "ddtrace-run", "opentelemetry-instrument"];

/// Browser error trackers by npm package: a name equal to one of these or starting with one
/// that ends in `/` or `-`.
const JS_TRACKER_PACKAGES: &[&str] = &[
    "@sentry/",
    "logrocket",
    "@bugsnag/",
    "bugsnag-js",
    "rollbar",
    "@rollbar/",
    "@datadog/browser-rum",
    "@datadog/browser-logs",
    "@honeybadger-io/",
    "trackjs",
    "@trackjs/",
    "@grafana/faro-",
    "highlight.run",
    "@highlight-run/",
    "@newrelic/browser-agent",
    "@opentelemetry/sdk-trace-web",
    "raygun4js",
    "@airbrake/browser",
    "@elastic/apm-rum",
    "@appsignal/javascript",
];

fn is_js_tracker(name: &str) -> bool {
    JS_TRACKER_PACKAGES.iter().any(|t| {
        name == t.trim_end_matches(['/', '-'])
            || (name.starts_with(t) && (t.ends_with('/') || t.ends_with('-')))
            || name.strip_prefix(t).is_some_and(|r| r.starts_with('-') || r.starts_with('/'))
    })
}

/// What initialising a browser tracker leaves in source or an HTML page: an import of a tracker
/// package, its init call, or a CDN snippet (case-insensitive, whole words).
fn js_evidence() -> &'static regex::bytes::Regex {
    static RE: std::sync::OnceLock<regex::bytes::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        // ASCII word boundaries: with Unicode ones the search falls back to a slow engine on
        // any text holding a non-ASCII letter (plane: 0.5 s).
        regex::bytes::Regex::new(
            r#"(?i-u)@sentry/|\bsentry\.init\(|sentry-cdn\.com|\blogrocket\b|@bugsnag/|\bbugsnag\.start\(|['"]rollbar['"/]|\brollbar\.init\(|\bnew rollbar\(|_rollbarconfig|\bdatadogrum\b|@datadog/browser-rum|\bdd_rum\b|@honeybadger-io/|\bhoneybadger\.configure\(|\btrackjs\b|\binitializefaro\(|@grafana/faro-|highlight\.run|@highlight-run/|@newrelic/browser-agent|\bnreum\b|js-agent\.newrelic\.com|@opentelemetry/sdk-trace-web|\bwebtracerprovider\b|raygun4js|\brg4js\(|@airbrake/browser|@elastic/apm-rum|@appsignal/javascript"#,
        )
        .expect("regex")
    })
}

/// Dependencies that make a package a documentation site, not an application.
const DOCS_SITES: &[&str] =
    &["@docusaurus/core", "nextra", "fumadocs-core", "vitepress", "vuepress", "docz", "@storybook/react"];

/// Frameworks whose `pages`/`app` folder is an application's entry.
const APP_FRAMEWORKS: &[&str] =
    &["next", "@react-router/dev", "@remix-run/react", "@remix-run/dev", "gatsby", "@tanstack/react-start", "waku"];

fn parent(rel: &str) -> &str {
    rel.rsplit_once('/').map_or("", |(d, _)| d)
}

fn dep_names(v: &serde_json::Value, sections: &[&str]) -> Vec<String> {
    sections
        .iter()
        .filter_map(|s| v.get(*s).and_then(|d| d.as_object()))
        .flat_map(|o| o.keys().cloned())
        .collect()
}

/// Files under `dir` (relative to the report root), read from the disk so that a run on named
/// files sees what a whole run sees: installed, built and hidden folders left out, at most
/// `LISTED_CAP` entries (past it, `None`: not judged).
const LISTED_CAP: usize = 50_000;

fn files_under(project: &Project, root: &std::path::Path, dir: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_string()];
    let mut seen = 0usize;
    while let Some(d) = stack.pop() {
        let Some(entries) = project.list_dir(&root.join(&d)) else { continue };
        for (name, is_dir) in entries {
            seen += 1;
            if seen > LISTED_CAP {
                return None;
            }
            let rel = if d.is_empty() { name.clone() } else { format!("{d}/{name}") };
            if is_dir {
                if !name.starts_with('.') && !crate::walk::SKIP_DIRS.contains(&name.as_str()) {
                    stack.push(rel);
                }
            } else {
                out.push(rel);
            }
        }
    }
    out.sort();
    Some(out)
}

fn read_json(project: &Project, root: &std::path::Path, rel: &str) -> Option<serde_json::Value> {
    let bytes = project.read(&root.join(rel), crate::config::DEFAULT_MAX_FILE_SIZE, false)?;
    serde_json::from_slice(&bytes).ok()
}

/// Each React front end without a browser error tracker: (its package.json, its entry).
fn react_front_ends_missing(project: &Project) -> Vec<(String, String)> {
    let Some(root) = project.root.as_deref() else { return vec![] };
    let join = |dir: &str, rest: &str| if dir.is_empty() { rest.to_string() } else { format!("{dir}/{rest}") };
    // The package.json files the run saw or git tracks.
    let mut manifests: Vec<&str> = project
        .walked
        .iter()
        .map(|(r, _)| r.as_str())
        .chain(project.tracked.iter().flatten().map(String::as_str))
        .filter(|r| *r == "package.json" || r.ends_with("/package.json"))
        .filter(|r| {
            !r.split('/').any(|p| crate::walk::SKIP_DIRS.contains(&p)) && !crate::classify::classify(r, b"").roles.vendored
        })
        .collect();
    manifests.sort_unstable();
    manifests.dedup();
    let mut evidence: std::collections::HashMap<String, bool> = std::collections::HashMap::new();
    let mut out = Vec::new();
    for manifest in manifests {
        let dir = parent(manifest);
        let Some(v) = read_json(project, root, manifest) else { continue };
        let deps = dep_names(&v, &["dependencies"]);
        let all = dep_names(&v, &["dependencies", "devDependencies", "peerDependencies", "optionalDependencies"]);
        if !deps.iter().any(|d| d == "react") || all.iter().any(|d| DOCS_SITES.contains(&d.as_str())) {
            continue;
        }
        // The scope of evidence: the front end, or the outermost workspace that holds it.
        let mut scope = dir;
        let mut up = dir;
        while !up.is_empty() {
            up = parent(up);
            let workspace = read_json(project, root, &join(up, "package.json")).is_some_and(|w| w.get("workspaces").is_some())
                || project.metadata(&root.join(join(up, "pnpm-workspace.yaml"))).is_some();
            if workspace {
                scope = up;
            }
        }
        let Some(files) = files_under(project, root, scope) else { continue };
        let files: std::collections::HashSet<&str> = files.iter().map(String::as_str).collect();
        let has = |rest: &str| files.contains(join(dir, rest).as_str());
        let entry_files = [
            "index.html",
            "public/index.html",
            "src/index.html",
            "src/main.tsx",
            "src/main.jsx",
            "src/main.ts",
            "src/main.js",
            "src/index.tsx",
            "src/index.jsx",
        ];
        let framework = all.iter().any(|d| APP_FRAMEWORKS.contains(&d.as_str()));
        let entry = entry_files.iter().find(|e| has(e)).map(|e| join(dir, e)).or_else(|| {
            let folder = |d: &str| {
                let prefix = format!("{}/", join(dir, d));
                files.iter().any(|f| f.starts_with(&prefix))
            };
            framework.then(|| ["app", "pages", "src/app", "src/pages"].into_iter().find(|d| folder(d))).flatten().map(|d| format!("{}/", join(dir, d)))
        });
        let Some(entry) = entry else { continue };
        let mut sorted: Vec<&str> = files.iter().copied().collect();
        sorted.sort_unstable();
        let declared = sorted
            .iter()
            .filter(|r| r.ends_with("package.json") && !crate::classify::classify(r, b"").roles.vendored)
            .filter_map(|r| read_json(project, root, r))
            .any(|p| dep_names(&p, &["dependencies", "devDependencies", "optionalDependencies"]).iter().any(|n| is_js_tracker(n)));
        if declared {
            continue;
        }
        // Source of the scope, and Django templates (the page that serves the bundle may hold
        // the snippet).
        let templates = project
            .walked
            .iter()
            .map(|(r, _)| r.as_str())
            .chain(project.tracked.iter().flatten().map(String::as_str))
            .filter(|r| r.split('/').any(|p| p == "templates"));
        let sources: Vec<&str> = sorted
            .iter()
            .copied()
            .chain(templates)
            .filter(|rel| {
                let class = crate::classify::classify(rel, b"");
                (class.lang.is_js_family() || class.roles.component || class.lang == crate::classify::Lang::Template)
                    && !class.roles.vendored
            })
            .collect();
        // Each file read once however many front ends share it, in parallel.
        let unread: Vec<&str> = sources.iter().copied().filter(|r| !evidence.contains_key(*r)).collect();
        let read: Vec<bool> = {
            use rayon::prelude::*;
            unread
                .par_iter()
                .map(|rel| project.read_matches(&root.join(rel), MAX_SOURCE, js_evidence()))
                .collect()
        };
        evidence.extend(unread.iter().map(|r| r.to_string()).zip(read));
        let in_source = sources.iter().any(|r| evidence.get(*r) == Some(&true));
        if !in_source {
            out.push((manifest.to_string(), entry));
        }
    }
    out
}

/// Source files larger than this are a bundle, not read.
const MAX_SOURCE: u64 = 1 << 20;

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
            IN_PROCESS_FILES,
            "no error tracker is initialised for this production configuration (no Sentry, Rollbar, Bugsnag, \
             New Relic, Datadog or OpenTelemetry in its settings, wsgi/asgi or startup code): production \
             exceptions are seen only if someone reads the logs; add one, e.g. `sentry_sdk.init(dsn=os.environ[\
             \"SENTRY_DSN\"])` in the production settings",
        );
        for (manifest, entry) in react_front_ends_missing(project) {
            sink.report_file(
                &manifest,
                format!(
                    "this React front end (entry `{entry}`) initialises no browser error tracker: no Sentry, LogRocket, \
                     Bugsnag, Rollbar, Datadog RUM, Honeybadger, TrackJS, Grafana Faro, Highlight, New Relic browser, \
                     OpenTelemetry web, Raygun or Airbrake in its source or package.json, so exceptions in users' \
                     browsers are never seen; add one, e.g. `npm install @sentry/react` and `Sentry.init({{ dsn: \
                     import.meta.env.VITE_SENTRY_DSN }})` before the app renders"
                ),
            );
        }
    }
}
