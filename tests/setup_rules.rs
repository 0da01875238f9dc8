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

/// A PNG header for `w`×`h` pixels, padded with zeros to `size` bytes.
fn png(w: u32, h: u32, size: usize) -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    b.extend_from_slice(&w.to_be_bytes());
    b.extend_from_slice(&h.to_be_bytes());
    b.resize(size, 0);
    b
}

#[test]
fn only_committed_images_over_the_budget_are_reported() {
    let p = Project::new(&[("app/views.py", "def f():\n    return 1\n")]);
    std::fs::create_dir_all(p.path().join("frontend/public")).unwrap();
    std::fs::write(p.path().join("frontend/public/hero.png"), png(3000, 2000, 600 * 1024)).unwrap();
    std::fs::write(p.path().join("frontend/public/icon.png"), png(32, 32, 2048)).unwrap();
    let run = || triples(&p.run(&["check", "--format", "json", "--select", "image-unoptimized"]));
    // Outside a git repository: nothing is known to be committed.
    assert_eq!(run(), vec![]);
    p.git(&["init", "-q"]);
    assert_eq!(run(), vec![], "untracked images are not committed");
    p.git(&["add", "frontend/public/hero.png", "frontend/public/icon.png"]);
    assert_eq!(run(), vec![t("image-unoptimized", "frontend/public/hero.png", 1)]);
    let o = p.run(&["check", "--format", "json", "--select", "image-unoptimized"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        v[0]["message"].as_str().unwrap().starts_with("PNG image of 600 KB, 3000×2000 pixels, over the 300 KB budget"),
        "{v}"
    );
    // The budget is the team's: over 1 MB only, the hero passes; under 1 KB, the icon fails too.
    p.write("preflight.toml", "[image-unoptimized]\nbudget-kb = 1024\n");
    assert_eq!(run(), vec![]);
    p.write("preflight.toml", "[image-unoptimized]\nbudget-kb = 1\n");
    assert_eq!(
        run(),
        vec![
            t("image-unoptimized", "frontend/public/hero.png", 1),
            t("image-unoptimized", "frontend/public/icon.png", 1)
        ]
    );
    let o = p.run(&["check", "--format", "json", "--select", "image-unoptimized"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v[1]["message"].as_str().unwrap().contains("over the 1 KB budget"), "{v}");
}
