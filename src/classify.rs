//! Decides, once per file, its language and its roles. Rules ask the class ("is this production
//! code?") and never look at paths themselves.

use std::path::Path;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    Python,
    JavaScript,
    Jsx,
    TypeScript,
    Tsx,
    /// Django/Jinja templates (HTML).
    Template,
    Dotenv,
    Css,
    /// Any other text file (YAML, JSON, shell, Dockerfile...).
    Other,
}

impl Lang {
    pub fn name(self) -> &'static str {
        match self {
            Lang::Python => "python",
            Lang::JavaScript => "javascript",
            Lang::Jsx => "jsx",
            Lang::TypeScript => "typescript",
            Lang::Tsx => "tsx",
            Lang::Template => "template",
            Lang::Dotenv => "dotenv",
            Lang::Css => "css",
            Lang::Other => "text",
        }
    }

    pub fn is_js_family(self) -> bool {
        matches!(self, Lang::JavaScript | Lang::Jsx | Lang::TypeScript | Lang::Tsx)
    }
}

/// Roles a file plays; several may hold at once (a test inside a migrations package, say).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Roles {
    pub test: bool,
    pub story: bool,
    /// JS tooling config and scripts: `*.config.js`, `.eslintrc.*`, `scripts/`.
    pub tooling: bool,
    pub docs: bool,
    /// Vendored, minified or generated code.
    pub vendored: bool,
    pub migration: bool,
    /// A template for an env file (`.env.example`), never a live one.
    pub env_template: bool,
    /// Path says dev/test settings (`settings/dev.py`, `local_settings.py`).
    pub dev_settings_name: bool,
    /// A Vue or Svelte single-file component (`.vue`, `.svelte`): its language stays `Other`,
    /// and rules that read JS/TS read its `<script>` blocks.
    pub component: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileClass {
    pub lang: Lang,
    pub roles: Roles,
    /// Set from config (`[production] include/exclude`); wins over the roles.
    pub forced_production: Option<bool>,
}

impl FileClass {
    /// Production code: not a test, story, tooling config, docs, or vendored/generated file.
    pub fn is_production(&self) -> bool {
        if let Some(p) = self.forced_production {
            return p;
        }
        let r = &self.roles;
        !(r.test || r.story || r.tooling || r.docs || r.vendored)
    }
}

/// Settings modules named for development, tests, CI or the image build (`collectstatic` with a
/// placeholder key), never for serving.
const DEV_WORDS: &[&str] = &[
    "dev",
    "development",
    "local",
    "test",
    "tests",
    "testing",
    "unittest",
    "unittests",
    "ci",
    "build",
    "smoketest",
    "smoke",
];
const TEMPLATE_PARTS: &[&str] = &["example", "examples", "sample", "template", "tmpl", "tpl", "dist", "defaults"];
const TEST_DIRS: &[&str] =
    &["tests", "test", "__tests__", "__mocks__", "cypress", "e2e", "playwright", "testing", "spec"];
const DOC_DIRS: &[&str] = &["docs", "doc"];
const VENDOR_DIRS: &[&str] = &["vendor", "vendors", "third_party", "third-party", "staticfiles", "bower_components"];
/// Folders named after a CSS framework whose sources projects copy in to customise (Bootstrap's
/// LESS/SCSS): the stylesheets in them are the framework's, not the project's.
/// Folders named after a browser library that projects copy into their static files whole (a
/// PDF viewer, a rich-text editor): the JS and CSS in them are the library's.
const JS_LIBRARY_DIRS: &[&str] = &[
    "pdfjs",
    "pdf.js",
    "tinymce",
    "ckeditor",
    "ckeditor5",
    "mathjax",
    "ace-builds",
    "codemirror",
    "jquery-ui",
    "select2",
    "swagger-ui",
    "summernote",
    "fullcalendar",
];
const CSS_FRAMEWORK_DIRS: &[&str] =
    &["bootstrap", "font-awesome", "fontawesome", "bulma", "foundation", "materialize", "semantic-ui", "uikit"];
const TOOL_CONFIG_STEMS: &[&str] = &[
    "webpack",
    "vite",
    "vitest",
    "rollup",
    "babel",
    "jest",
    "karma",
    "gulpfile",
    "gruntfile",
    "postcss",
    "tailwind",
    "eslint",
    "prettier",
    "commitlint",
    "esbuild",
    "craco",
    "metro",
    "svelte",
    "astro",
    "playwright",
    "cypress",
    "stylelint",
    "lint-staged",
    "tsup",
    "next",
    "nuxt",
    "remix",
    "storybook",
];

/// Folders whose settings modules are never deployed: CI configuration and demo projects.
const NON_PRODUCTION_DIRS: &[&str] = &[
    ".github",
    ".gitlab",
    ".circleci",
    "ci",
    "demo",
    "demos",
    "sandbox",
    "example_project",
    "exampleproject",
    "testproject",
    "test_project",
    "testapp",
    "testsite",
    "test_app",
    "benchmarks",
    "benchmark",
];

/// A test folder: `tests`, `__tests__`, or a name with `test`/`tests` as a `_`/`-` part
/// (`integration_tests`, `upgrade-test`).
fn is_test_dir_name(d: &str) -> bool {
    TEST_DIRS.contains(&d) || d.split(['_', '-']).any(|p| p == "test" || p == "tests")
}

/// True when a settings path names a dev/test environment: the file stem or its folder is one of
/// the dev words, or has one as a `_`/`-`/`.`-separated part.
pub fn is_dev_settings_name(rel: &str) -> bool {
    let p = Path::new(rel);
    let stem = p.file_stem().map(|s| s.to_string_lossy().to_lowercase()).unwrap_or_default();
    let folder = p.parent().and_then(|d| d.file_name()).map(|s| s.to_string_lossy().to_lowercase()).unwrap_or_default();
    [stem, folder].iter().any(|name| name.split(['_', '-', '.']).any(|part| DEV_WORDS.contains(&part)))
}

/// A dotenv file by name: `.env`, `.env.<x>`, `<x>.env`.
pub fn is_dotenv_name(name: &str) -> bool {
    name == ".env" || name.starts_with(".env.") || (name.ends_with(".env") && name.len() > 4)
}

/// A dotenv template (`.env.example`, `example.env`, `.env.local.sample`).
pub fn is_dotenv_template(name: &str) -> bool {
    name.split('.').any(|part| TEMPLATE_PARTS.contains(&part.to_lowercase().as_str()))
}

pub fn classify(rel: &str, head: &[u8]) -> FileClass {
    let path = Path::new(rel);
    let name = path.file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let lower = name.to_lowercase();
    let ext = path.extension().map(|s| s.to_string_lossy().to_lowercase()).unwrap_or_default();
    let dirs: Vec<String> = path
        .parent()
        .map(|p| p.components().map(|c| c.as_os_str().to_string_lossy().to_lowercase()).collect())
        .unwrap_or_default();
    let in_dir = |names: &[&str]| dirs.iter().any(|d| names.contains(&d.as_str()));

    let lang = if is_dotenv_name(&lower) {
        Lang::Dotenv
    } else {
        match ext.as_str() {
            "py" | "pyi" => Lang::Python,
            "js" | "mjs" | "cjs" => Lang::JavaScript,
            "jsx" => Lang::Jsx,
            "ts" | "mts" | "cts" => Lang::TypeScript,
            "tsx" => Lang::Tsx,
            "html" | "htm" | "djhtml" | "jinja" | "jinja2" | "j2" => Lang::Template,
            "css" | "scss" | "sass" | "less" => Lang::Css,
            _ => Lang::Other,
        }
    };

    let mut roles = Roles::default();
    let stem = lower.split('.').next().unwrap_or("");
    roles.test = in_dir(TEST_DIRS)
        || (lang == Lang::Python
            && (lower.starts_with("test_")
                || stem.ends_with("_test")
                || lower == "conftest.py"
                || lower == "tests.py"))
        || lower.contains(".test.")
        || lower.contains(".spec.")
        || lower.contains("_spec.")
        || dirs.iter().any(|d| is_test_dir_name(d));
    roles.story = lower.contains(".stories.") || lower.contains(".story.") || in_dir(&[".storybook"]);
    roles.tooling = (lang.is_js_family()
        && (lower.contains(".config.")
            || TOOL_CONFIG_STEMS.contains(&stem)
            || lower.starts_with(".eslintrc")
            || lower.starts_with(".babelrc")))
        || (lang.is_js_family() && in_dir(&["scripts", "bin", "tools", "tooling", ".storybook", "config"]))
        || (lang == Lang::Python && (lower == "setup.py" || lower == "noxfile.py" || lower == "fabfile.py"));
    roles.docs = matches!(ext.as_str(), "md" | "rst" | "markdown" | "adoc")
        || in_dir(DOC_DIRS)
        || in_dir(&["examples", "example"]);
    // Folders the walk never enters (`node_modules`, `dist`, a virtualenv's `site-packages`)
    // are read only for the files git tracks in them: vendored code, still scanned for secrets.
    roles.vendored = in_dir(VENDOR_DIRS)
        || in_dir(crate::walk::SKIP_DIRS)
        || dirs.iter().any(|d| d.ends_with(".egg-info"))
        || lower.contains(".min.")
        || lower.contains("-min.")
        || lower.contains(".bundle.")
        || lower.contains(".chunk.")
        || lower.ends_with(".map")
        || (lang == Lang::Css && in_dir(CSS_FRAMEWORK_DIRS))
        || ((lang == Lang::Css || lang.is_js_family()) && in_dir(JS_LIBRARY_DIRS))
        // A `lib/` folder of Django static files holds copied libraries (a front end's own
        // `src/lib/` is not under `static/`).
        || ((lang == Lang::Css || lang.is_js_family()) && in_dir(&["lib", "libs"]) && in_dir(&["static"]))
        || is_lock_file(&lower)
        || looks_generated(head, lang);
    roles.component = matches!(ext.as_str(), "vue" | "svelte");
    roles.migration = lang == Lang::Python && dirs.last().is_some_and(|d| d == "migrations") && lower != "__init__.py";
    roles.env_template = lang == Lang::Dotenv && is_dotenv_template(&lower);
    // Settings of tests, docs builds, CI jobs and demo projects never reach production.
    // (A configuration under `scripts/` is a tool's, such as a smoke test's.)
    roles.dev_settings_name = is_dev_settings_name(rel)
        || roles.test
        || roles.docs
        || roles.vendored
        || in_dir(NON_PRODUCTION_DIRS)
        || in_dir(&["scripts"]);
    FileClass { lang, roles, forced_production: None }
}

/// A package manager's lock file, by lower-case file name: data the tool writes, whose
/// `"token"`-like keys are not credentials.
pub fn is_lock_file(lower_name: &str) -> bool {
    matches!(
        lower_name,
        "package-lock.json"
            | "yarn.lock"
            | "pnpm-lock.yaml"
            | "poetry.lock"
            | "pipfile.lock"
            | "uv.lock"
            | "cargo.lock"
    )
}

/// A library's release banner opening the file: a `/*!` comment (the one minifiers keep) naming
/// a version and a license, as jQuery's and Bootstrap's do.
fn library_banner(head: &[u8]) -> bool {
    static VERSION: std::sync::OnceLock<regex::bytes::Regex> = std::sync::OnceLock::new();
    let start = head.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(head.len());
    let Some(rest) = head[start..].strip_prefix(b"/*!") else { return false };
    let comment = rest.windows(2).position(|w| w == b"*/").map_or(rest, |end| &rest[..end]);
    let version = VERSION.get_or_init(|| regex::bytes::Regex::new(r"(?i)(?:\bv|\bversion\s+)\d+\.\d+").expect("regex"));
    comment.windows(5).any(|w| w.eq_ignore_ascii_case(b"licen")) && version.is_match(comment)
}

/// Minified, generated or a library's build: a generated-code banner in the file's leading
/// comment block, a JS/CSS file whose first 8 KiB are mostly minified code, or a JS file opening
/// with a UMD/AMD wrapper (`define.amd`), which is how libraries ship (d3, moment, select2
/// committed under `static/`); application code is written as modules.
///
/// One comment or one long line is not enough: `DO NOT EDIT` further down is a note to a
/// colleague, and a hand-written component may hold a long data URL or SVG path. Vendored code
/// is still scanned for secrets.
const GENERATORS: &[&str] = &[
    "by generateDS",
    "generated by xsdata",
    "Generated by the protocol buffer compiler",
    "Autogenerated by Thrift",
    "OpenAPI Generator",
    "openapi-generator",
    "swagger-codegen",
    "datamodel-codegen",
];

fn looks_generated(head: &[u8], lang: Lang) -> bool {
    if lang.is_js_family() && (head.windows(10).any(|w| w == b"define.amd") || library_banner(head)) {
        return true;
    }
    let banner = leading_comments(&head[..head.len().min(4096)]);
    let has = |needle: &str| banner.windows(needle.len()).any(|w| w == needle.as_bytes());
    // `@licstart`: the license notice LibreJS reads, which libraries put on the builds they
    // ship to browsers (pdf.js).
    if has("@generated") || has("DO NOT EDIT") || has("Code generated by") || (lang.is_js_family() && has("@licstart"))
    {
        return true;
    }
    // Code generators that say their name in the banner (generateDS and xsdata schema bindings,
    // protobuf, Thrift, OpenAPI/Swagger clients, datamodel-codegen), not "Generated by Django"
    // of a migration, which is the project's.
    if GENERATORS.iter().any(|g| has(g)) {
        return true;
    }
    (lang.is_js_family() || lang == Lang::Css) && mostly_minified(head)
}

/// The comment lines opening a file (after blank lines and a shebang): `#`, `//` and `/* */`
/// comments, up to the first line of code.
fn leading_comments(head: &[u8]) -> &[u8] {
    let mut end = 0;
    let mut in_block = false;
    for line in head.split_inclusive(|&b| b == b'\n') {
        let t = line.trim_ascii();
        let comment = in_block
            || t.is_empty()
            || t.starts_with(b"#")
            || t.starts_with(b"//")
            || t.starts_with(b"/*")
            || t.starts_with(b"<!--");
        if !comment {
            break;
        }
        if t.starts_with(b"/*") || in_block {
            in_block = !t.windows(2).any(|w| w == b"*/");
        }
        end += line.len();
    }
    &head[..end]
}

/// Minified code: lines of over 1,000 bytes hold most of the head, and they are code (a
/// minifier's `;{}()` in at least 3% of their bytes), not a data URL or an SVG path.
fn mostly_minified(head: &[u8]) -> bool {
    let long: Vec<&[u8]> = head.split(|&b| b == b'\n').filter(|l| l.len() > 1000).collect();
    let bytes: usize = long.iter().map(|l| l.len()).sum();
    let punct: usize = long.iter().map(|l| l.iter().filter(|b| b";{}()".contains(b)).count()).sum();
    bytes * 2 >= head.len() && bytes > 0 && punct * 100 >= bytes * 3
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_settings_names() {
        for p in [
            "proj/settings/dev.py",
            "settings_dev.py",
            "test_settings.py",
            "local_settings.py",
            "settings/local.py",
            "config/tests/settings.py",
            "settings/ci.py",
        ] {
            assert!(is_dev_settings_name(p), "{p}");
        }
        for p in [
            "proj/settings.py",
            "settings/base.py",
            "settings/prod.py",
            "settings/production.py",
            "settings/staging.py",
            "settings/common.py",
            "devops/settings.py",
        ] {
            assert!(!is_dev_settings_name(p), "{p}");
        }
    }

    #[test]
    fn dotenv_names() {
        assert!(is_dotenv_name(".env") && is_dotenv_name(".env.production") && is_dotenv_name("prod.env"));
        assert!(!is_dotenv_name("environment.py") && !is_dotenv_name(".envrc") && !is_dotenv_name(".env_file"));
        assert!(
            is_dotenv_template(".env.example")
                && is_dotenv_template("example.env")
                && is_dotenv_template(".env.local.sample")
        );
        assert!(!is_dotenv_template(".env") && !is_dotenv_template(".env.production"));
    }

    #[test]
    fn roles() {
        assert!(classify("frontend/src/App.test.tsx", b"").roles.test);
        assert!(classify("frontend/src/Button.stories.tsx", b"").roles.story);
        assert!(classify("frontend/vite.config.ts", b"").roles.tooling);
        assert!(classify("static/js/app.min.js", b"").roles.vendored);
        let umd =
            b"/*! lib v1 */\n(function (g, f) {\n  typeof define === 'function' && define.amd ? define(f) : f();\n})";
        assert!(classify("shop/static/chart/chart.js", umd).roles.vendored);
        assert!(!classify("shop/static/shop/app.js", b"export const defineAmd = 1;\n").roles.vendored);
        let banner = b"/*!\n * Bootstrap v3.4.1 (https://getbootstrap.com/)\n * Licensed under the MIT license\n */\n";
        assert!(classify("shop/static/bootstrap/js/bootstrap.js", banner).roles.vendored);
        // A copy of a CSS framework's sources, customised: its stylesheets are the framework's;
        // a project's own `bootstrap` code (app start-up) is not vendored.
        assert!(classify("stuff/bootstrap/variables.less", b"// Variables\n").roles.vendored);
        assert!(classify("static/scss/bootstrap/_mixins.scss", b"").roles.vendored);
        assert!(!classify("src/bootstrap/index.ts", b"export function start() {}\n").roles.vendored);
        assert!(!classify("app/bootstrap/apps.py", b"").roles.vendored);
        assert!(!classify("static/scss/overrides/_bootstrap.scss", b"").roles.vendored);
        // A PDF viewer copied whole into the static files, by its folder or its license notice.
        assert!(classify("cookbook/static/pdfjs/web/debugger.mjs", b"/* Copyright Mozilla */\n").roles.vendored);
        assert!(classify("app/config/static/config/css/lib/advanced-mode.css", b"").roles.vendored);
        assert!(classify("app/static/js/libs/editor.js", b"").roles.vendored);
        assert!(!classify("frontend/src/lib/api.ts", b"export const get = 1;\n").roles.vendored);
        assert!(!classify("shop/static/shop/js/app.js", b"export const a = 1;\n").roles.vendored);
        let licstart = b"/**\n * @licstart The following is the entire license notice\n */\nconst x = 1;\n";
        assert!(classify("static/viewer/viewer.mjs", licstart).roles.vendored);
        assert!(!classify("static/viewer/viewer.mjs", b"/* Copyright 2024 Acme */\nconst x = 1;\n").roles.vendored);
        assert!(!classify("apps/pdfjs.py", b"").roles.vendored);
        // A bundle's license pointer without a version, or a plain comment: the project's own.
        let own = b"/*! For license information please see app.js.LICENSE.txt */\nexport const a = 1;\n";
        assert!(!classify("shop/static/shop/app.js", own).roles.vendored);
        assert!(!classify("shop/static/shop/app.js", b"/* v1.2 of the checkout, MIT license */\n").roles.vendored);
        // Generators named in the banner; a Django migration's own banner is not one.
        assert!(
            classify("schemas/rates.py", b"#!/usr/bin/env python\n#\n# Generated Thu Apr  2 2020 by generateDS.py version 2.35.15.\n#\nimport os\n")
                .roles
                .vendored
        );
        assert!(
            !classify(
                "shop/migrations/0002_auto.py",
                b"# Generated by Django 4.2 on 2024-01-01 10:00\n\nfrom django.db import migrations\n"
            )
            .roles
            .vendored
        );
        // A generated-code banner counts in the leading comment block only.
        assert!(
            classify("api/schema_pb2.py", b"# -*- coding: utf-8 -*-\n# Generated by protoc.  DO NOT EDIT!\n")
                .roles
                .vendored
        );
        assert!(
            classify("src/gen/api.ts", b"/**\n * Code generated by openapi-gen.\n * DO NOT EDIT.\n */\nexport {};\n")
                .roles
                .vendored
        );
        assert!(
            !classify("src/config.ts", b"import x from 'y';\n// DO NOT EDIT without asking ops\nexport const a = 1;\n")
                .roles
                .vendored
        );
        // Minified: most of the head in long lines of code; a long data URL is not.
        let minified = format!("!function(e){{{}}}();\n", "var a=function(b){return b+1};".repeat(200));
        assert!(classify("static/app.js", minified.as_bytes()).roles.vendored);
        let icon = format!("import React from 'react';\n\nexport const Logo = () => (\n  <img src=\"data:image/png;base64,{}\" />\n);\n", "iVBORw0KGgo".repeat(300));
        assert!(!classify("src/Logo.tsx", icon.as_bytes()).roles.vendored);
        let svg = format!("export const path = \"M0,0 {}\";\n", "L10.5,20.25 C1,2 3,4 5,6 ".repeat(100));
        assert!(!classify("src/icons.ts", svg.as_bytes()).roles.vendored);
        assert!(classify("blog/migrations/0001_initial.py", b"").roles.migration);
        assert!(classify("frontend/src/components/TodoList.tsx", b"").is_production());
        assert!(classify("blog/tests/test_views.py", b"").roles.test);
        assert!(classify(".github/upgrade-test/proj/settings.py", b"").roles.test);
        assert!(classify("integration_tests/settings.py", b"").roles.test);
        assert!(!classify("testimonials/views.py", b"").roles.test);
        assert!(classify("docs/django_settings.py", b"").roles.dev_settings_name);
        assert!(classify("sandbox/settings.py", b"").roles.dev_settings_name);
        assert!(!classify("config/settings/production.py", b"").roles.dev_settings_name);
    }
}
