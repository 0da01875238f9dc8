//! ci-security-scan-missing: the repository has CI (GitHub Actions workflows, `.gitlab-ci.yml`)
//! and no job of it runs a security scan.
//!
//! Read from disk at the report root, so a pre-commit run sees what a whole run sees. A scanner
//! named anywhere in the CI files (a step, an action, an included template) counts, as does a
//! workflow that runs preflight itself. Without CI files the rule says nothing: CI may live in a
//! service the repository does not configure.

use crate::project::Project;
use crate::registry::{ProjectSink, Rule};
use crate::setup::read_rel;

pub(crate) struct CiSecurityScanMissing;

/// Security scanners as CI files name them (lower-cased).
const SCANNERS: &[&str] = &[
    "preflight",
    "bandit",
    "semgrep",
    "codeql",
    "pip-audit",
    "pip_audit",
    "safety check",
    "safety scan",
    "npm audit",
    "yarn audit",
    "pnpm audit",
    "yarn npm audit",
    "trivy",
    "gitleaks",
    "trufflehog",
    "detect-secrets",
    "snyk",
    "grype",
    "osv-scanner",
    "dependency-review-action",
    "scorecard",
    "zizmor",
    "sonar",
    "checkov",
    "anchore",
    // GitLab's security templates and jobs (not a bare "sast": "disaster" holds it).
    "sast.gitlab-ci",
    "sast.latest.gitlab-ci",
    "sast:",
    "secret-detection",
    "secret_detection",
    "dependency-scanning",
    "dependency_scanning",
    "container-scanning",
    "container_scanning",
    "security-scan",
    "security_scan",
];

/// The CI files of the repository at the report root, sorted.
fn ci_files(project: &Project) -> Vec<String> {
    let Some(top) = project.root.as_ref() else { return vec![] };
    let mut out = Vec::new();
    if let Some(entries) = project.list_dir(&top.join(".github/workflows")) {
        out.extend(
            entries
                .into_iter()
                .map(|(n, _)| n)
                .filter(|n| n.ends_with(".yml") || n.ends_with(".yaml"))
                .map(|n| format!(".github/workflows/{n}")),
        );
    }
    if project.read(&top.join(".gitlab-ci.yml"), crate::fsread::SMALL_FILE_CAP, true).is_some() {
        out.push(".gitlab-ci.yml".to_string());
    }
    out
}

/// Whether a CI file's text (lower-cased) runs Ruff: `ruff check`, `ruff .`, the Ruff action, or
/// pre-commit (in CI, or pre-commit.ci configured by a `ci:` section) with a Ruff hook in the
/// root's .pre-commit-config.yaml. A mere mention (a version
/// script's argument) is not a run.
fn runs_ruff(project: &Project, lower: &str) -> bool {
    if ["ruff check", "ruff .", "ruff-action", "ruff src"].iter().any(|r| lower.contains(r)) {
        return true;
    }
    // pre-commit in CI, or pre-commit.ci (its `ci:` section), running a Ruff hook.
    read_rel(project, ".pre-commit-config.yaml").is_some_and(|t| {
        let hook = t.lines().any(|l| matches!(l.trim().trim_start_matches("- ").trim(), "id: ruff" | "id: ruff-check"));
        let pre_commit_ci = t.lines().any(|l| l.starts_with("ci:"));
        hook && (pre_commit_ci || lower.contains("pre-commit run") || lower.contains("pre-commit/action"))
    })
}

/// Whether the root's Ruff configuration (ruff.toml, .ruff.toml, pyproject.toml's
/// `[tool.ruff]`) selects flake8-bandit's checks (`"S"`, `"S1"`, `"S608"`…, or `"ALL"`): CI
/// running Ruff then runs Bandit's rules.
fn ruff_selects_bandit(project: &Project) -> bool {
    static SELECT: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    static CODE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let select = SELECT.get_or_init(|| regex::Regex::new(r"(?m)^\s*(?:[\w.]+\.)?(?:extend-)?select\s*=\s*\[([^\]]*)\]").unwrap());
    let code = CODE.get_or_init(|| regex::Regex::new(r#"["'](?:S\d*|ALL)["']"#).unwrap());
    ["ruff.toml", ".ruff.toml", "pyproject.toml"].iter().any(|rel| {
        let Some(text) = read_rel(project, rel) else { return false };
        if *rel == "pyproject.toml" && !text.contains("[tool.ruff") {
            return false;
        }
        // Only lines outside comments: a commented-out `# "S",` selects nothing.
        let text: String = text.lines().map(|l| l.split('#').next().unwrap_or("")).collect::<Vec<_>>().join("\n");
        select.captures_iter(&text).any(|c| code.is_match(&c[1]))
    })
}

impl Rule for CiSecurityScanMissing {
    fn id(&self) -> &'static str {
        "ci-security-scan-missing"
    }

    fn check_project(&self, project: &Project, sink: &mut ProjectSink) {
        let files = ci_files(project);
        let Some(first) = files.first() else { return };
        let mut any_read = false;
        for rel in &files {
            let Some(text) = read_rel(project, rel) else { return };
            any_read = true;
            let lower = text.to_ascii_lowercase();
            if SCANNERS.iter().any(|s| lower.contains(s)) {
                return;
            }
            if runs_ruff(project, &lower) && ruff_selects_bandit(project) {
                return;
            }
        }
        if any_read {
            sink.report_file(
                first,
                format!(
                    "no CI job runs a security scan ({} CI file{} read: no preflight, Bandit, Semgrep, CodeQL, \
                     pip-audit, npm audit, Trivy or gitleaks): add a workflow, e.g. .github/workflows/security-scan.yml \
                     running `preflight check . --format sarif` and `pip-audit` on every pull request",
                    files.len(),
                    if files.len() == 1 { "" } else { "s" }
                ),
            );
        }
    }
}
