//! The project-level set-up rules on small repositories, where a fixture tree (one repository)
//! cannot hold every variant: ci-security-scan-missing.

mod common;

use common::*;

const TESTS_ONLY: &str =
    "on: [pull_request]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: pytest\n";

fn ci_findings(files: &[(&str, &str)]) -> Vec<(String, String, u64)> {
    let p = Project::new(files);
    triples(&p.run(&["check", "--format", "json", "--select", "ci-security-scan-missing"]))
}

#[test]
fn ci_without_a_scanner_is_reported_on_its_first_file() {
    assert_eq!(
        ci_findings(&[(".github/workflows/tests.yml", TESTS_ONLY), (".github/workflows/deploy.yaml", TESTS_ONLY)]),
        vec![t("ci-security-scan-missing", ".github/workflows/deploy.yaml", 1)]
    );
    assert_eq!(
        ci_findings(&[(".gitlab-ci.yml", "test:\n  script: pytest\n")]),
        vec![t("ci-security-scan-missing", ".gitlab-ci.yml", 1)]
    );
}

#[test]
fn a_scanner_in_any_ci_file_or_no_ci_at_all_is_silent() {
    let bandit = "jobs:\n  scan:\n    steps:\n      - run: pipx run bandit -r src\n";
    let codeql = "jobs:\n  analyze:\n    steps:\n      - uses: github/codeql-action/analyze@v3\n";
    let gitlab = "include:\n  - template: Security/SAST.gitlab-ci.yml\ntest:\n  script: pytest\n";
    let npm = "jobs:\n  web:\n    steps:\n      - run: npm audit --audit-level=high\n";
    for (path, text) in [
        (".github/workflows/security.yml", bandit),
        (".github/workflows/codeql.yml", codeql),
        (".github/workflows/web.yml", npm),
        (".gitlab-ci.yml", gitlab),
    ] {
        assert_eq!(ci_findings(&[(".github/workflows/tests.yml", TESTS_ONLY), (path, text)]), vec![], "{path}");
    }
    // No CI files: CI may live in a service the repository does not configure.
    assert_eq!(ci_findings(&[("app/views.py", "def f():\n    return 1\n")]), vec![]);
}
