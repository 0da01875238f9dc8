//! Findings that used to be dropped without a word: code the parser read differently from
//! Python, tracked files that `.gitignore` lists, and secrets in files taken for vendored code.

mod common;

use common::*;

#[test]
fn a_lone_cr_ends_a_line_as_it_does_for_python() {
    // CPython runs `DEBUG = True` after `# production\r`; the parser used to read it as part
    // of the comment.
    let settings = "INSTALLED_APPS = []\nROOT_URLCONF = 'x'\n# production\rDEBUG = True\n";
    let p = Project::new(&[("proj/settings.py", settings)]);
    let o = p.run(&["check", "--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(triples(&o), vec![t("django-debug-enabled", "proj/settings.py", 4)]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!((v[0]["column"].as_u64(), v[0]["end_column"].as_u64()), (Some(1), Some(13)));
}
