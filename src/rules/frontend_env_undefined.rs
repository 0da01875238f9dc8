//! frontend-env-undefined: a front-end build variable (`import.meta.env.VITE_X`,
//! `process.env.REACT_APP_X`, `process.env.NEXT_PUBLIC_X`) read by production code but defined
//! nowhere the repository holds: no committed env file or template, no build config, no
//! Dockerfile, compose file, CI workflow or deployment manifest, no documentation. The build
//! then compiles `undefined` into the bundle, silently.

use std::collections::HashSet;
use std::sync::OnceLock;

use tree_sitter::Node;

use crate::classify::{is_dotenv_name, FileClass};
use crate::registry::{FileCtx, Rule};
use crate::parse::for_each_node;
use crate::project::Project;

/// The rule, with the names the repository defines, gathered once per run on first need.
pub(crate) struct FrontendEnvUndefinedRule {
    defined: OnceLock<Definitions>,
}

/// One instance per run (`registry::rules_impl::instantiate`).
#[allow(non_upper_case_globals, clippy::declare_interior_mutable_const)]
pub(crate) const FrontendEnvUndefined: FrontendEnvUndefinedRule = FrontendEnvUndefinedRule { defined: OnceLock::new() };

#[derive(Default)]
struct Definitions {
    /// Every `VITE_…`, `REACT_APP_…`, `NEXT_PUBLIC_…` name written in a definition file.
    names: HashSet<String>,
    /// Folders whose build config builds the env dynamically (`...process.env`,
    /// `EnvironmentPlugin`, `dotenv-webpack`): nothing under them is judged.
    dynamic: Vec<String>,
}

const PREFIXES: &[&str] = &["VITE_", "REACT_APP_", "NEXT_PUBLIC_"];

const BUILD_CONFIGS: &[&str] = &[
    "vite.config.",
    "vitest.config.",
    "next.config.",
    "webpack.config.",
    "webpack.",
    "craco.config.",
    "config-overrides.",
    "rsbuild.config.",
    "vue.config.",
    "quasar.conf",
    "quasar.config.",
    "svelte.config.",
    "astro.config.",
    "nuxt.config.",
    "env.config.",
];

/// Whether a file can define a build variable: env files and templates, build configs, container
/// and deployment files, CI workflows, package manifests' scripts, documentation.
fn is_definition_source(rel: &str) -> bool {
    if rel.split('/').any(|d| crate::walk::SKIP_DIRS.contains(&d)) {
        return false;
    }
    let name = rel.rsplit('/').next().unwrap_or(rel).to_lowercase();
    let ext = name.rsplit_once('.').map_or("", |(_, e)| e);
    is_dotenv_name(&name)
        || name.starts_with("dockerfile")
        || name.ends_with(".dockerfile")
        || matches!(name.as_str(), "makefile" | "procfile" | "jenkinsfile" | "justfile" | "containerfile")
        || matches!(
            ext,
            "yml" | "yaml" | "toml" | "sh" | "bash" | "md" | "rst" | "ini" | "cfg" | "conf" | "tf" | "tfvars" | "hcl" | "j2" | "tpl"
        )
        || matches!(name.as_str(), "package.json" | "vercel.json" | "app.json" | "now.json" | "netlify.json" | "turbo.json" | "project.json")
        || BUILD_CONFIGS.iter().any(|c| name.starts_with(c))
}

fn is_build_config(rel: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel).to_lowercase();
    BUILD_CONFIGS.iter().any(|c| name.starts_with(c))
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'
}

/// Every prefixed name in `text`, as whole words.
fn names_in(text: &str, out: &mut HashSet<String>) {
    let b = text.as_bytes();
    for p in PREFIXES {
        let mut from = 0;
        while let Some(i) = text[from..].find(p) {
            let at = from + i;
            from = at + p.len();
            if at > 0 && (is_name_byte(b[at - 1]) || b[at - 1].is_ascii_lowercase()) {
                continue;
            }
            let end = at + b[at..].iter().take_while(|&&c| is_name_byte(c)).count();
            if end > at + p.len() {
                out.insert(text[at..end].to_string());
            }
        }
    }
}

fn gather(project: &Project, max_size: u64) -> Definitions {
    let mut d = Definitions::default();
    let Some(root) = project.root.as_deref() else { return d };
    let rels: Vec<&String> = match &project.tracked {
        Some(t) => t.iter().collect(),
        None => project.walked.iter().map(|(r, _)| r).collect(),
    };
    for rel in rels.into_iter().filter(|r| is_definition_source(r)) {
        let path = root.join(rel);
        // Only regular files of a bounded size: a tracked path may be a symlink or vanish.
        let Some(bytes) = project.read(&path, max_size, false) else { continue };
        let text = String::from_utf8_lossy(&bytes);
        names_in(&text, &mut d.names);
        if is_build_config(rel) {
            let dynamic = ["...process.env", "process.env[", "Object.keys(process.env", "Object.entries(process.env"]
                .iter()
                .chain(&["EnvironmentPlugin", "dotenv-webpack", "Dotenv(", "envPrefix"])
                .any(|s| text.contains(s));
            if dynamic {
                d.dynamic.push(rel.rsplit_once('/').map_or(String::new(), |(dir, _)| format!("{dir}/")));
            }
        }
    }
    d
}

/// `import.meta.env.VITE_X` or `process.env.REACT_APP_X`/`NEXT_PUBLIC_X`: the name, if `n` is one.
fn env_read<'s>(n: Node<'_>, src: &'s str) -> Option<&'s str> {
    let object = n.child_by_field_name("object")?;
    let property = n.child_by_field_name("property")?;
    let obj = src.get(object.byte_range())?;
    let name = src.get(property.byte_range())?;
    let ok = match obj {
        "import.meta.env" => name.starts_with("VITE_"),
        "process.env" => name.starts_with("REACT_APP_") || name.starts_with("NEXT_PUBLIC_"),
        _ => false,
    };
    (ok && name.len() > name.find('_')? + 1).then_some(name)
}

/// Whether the read is tested or given a fallback (`x || "…"`, `x ?? …`, `if (x)`, `x ? a : b`,
/// `!x`, `typeof x`, a comparison): the code handles `undefined`.
fn handled(n: Node<'_>, src: &str) -> bool {
    let mut cur = n;
    while let Some(p) = cur.parent() {
        match p.kind() {
            "parenthesized_expression" | "as_expression" | "non_null_expression" | "satisfies_expression" => cur = p,
            "binary_expression" => {
                let op = p.child_by_field_name("operator").and_then(|o| src.get(o.byte_range())).unwrap_or("");
                return matches!(op, "||" | "??" | "&&" | "==" | "===" | "!=" | "!==");
            }
            "unary_expression" | "if_statement" | "while_statement" => return true,
            "ternary_expression" => return p.child_by_field_name("condition").is_some_and(|c| c.id() == cur.id()),
            _ => return false,
        }
    }
    false
}

impl Rule for FrontendEnvUndefinedRule {
    fn id(&self) -> &'static str {
        "frontend-env-undefined"
    }

    fn prefilter(&self) -> &'static [&'static str] {
        &["env.VITE_", "env.REACT_APP_", "env.NEXT_PUBLIC_"]
    }

    fn wants(&self, class: &FileClass) -> bool {
        class.lang.is_js_family() && class.is_production()
    }


    fn check_file(&self, ctx: &mut FileCtx<'_>) {
        let file = ctx.file;
        let Some(tree) = file.tree() else { return };
        let src = file.text.as_str();
        let mut reads: Vec<(usize, usize, &str)> = Vec::new();
        for_each_node(tree.root_node(), |n| {
            if n.kind() == "member_expression" {
                if let Some(name) = env_read(n, src) {
                    if !handled(n, src) {
                        reads.push((n.start_byte(), n.end_byte(), name));
                    }
                }
            }
        });
        if reads.is_empty() {
            return;
        }
        let defs = self.defined.get_or_init(|| gather(ctx.project, ctx.config.max_file_size()));
        if defs.dynamic.iter().any(|dir| file.rel.starts_with(dir.as_str())) {
            return;
        }
        let mut seen = HashSet::new();
        for (start, end, name) in reads {
            if defs.names.contains(name) || !seen.insert(name) {
                continue;
            }
            let read = crate::finding::excerpt(&src[start..end]);
            ctx.report(
                start,
                end,
                format!(
                    "`{read}` is read here, but {name} is defined in no committed env file or template (.env.production, \
                     .env.example…), build config, Dockerfile, compose file or CI workflow: a build without it in the \
                     environment compiles `undefined` into the bundle; add {name} to .env.example (or .env.production) \
                     and set it where the front end is built"
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_whole_words() {
        let mut s = HashSet::new();
        names_in("VITE_API_URL=x\nexport REACT_APP_SENTRY_DSN=\nMY_VITE_X=1\nNEXT_PUBLIC_=\n`VITE_A`", &mut s);
        let mut v: Vec<_> = s.into_iter().collect();
        v.sort();
        assert_eq!(v, ["REACT_APP_SENTRY_DSN", "VITE_A", "VITE_API_URL"]);
    }
}
