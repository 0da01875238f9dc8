//! Regression tests for smaller defects: the settings star-import cycle (issue 28, item 7), rule
//! selection and cross-rule deduplication, and debugger imports (issue 25).

mod common;

use common::*;

/// Issue 28, item 7: `a.py: from .b import *` and `b.py: from .a import *`, both production
/// settings: each was imported by the other, so neither was a root and nobody judged them.
#[test]
fn settings_star_import_cycle_is_judged() {
    let p = Project::new(&[
        ("manage.py", ""),
        ("proj/__init__.py", ""),
        ("proj/settings/__init__.py", ""),
        ("proj/settings/a.py", "from .b import *\n\nDEBUG = True\nINSTALLED_APPS = ['proj']\n"),
        ("proj/settings/b.py", "from .a import *\n\nROOT_URLCONF = 'proj.urls'\n"),
    ]);
    let o = p.run(&["check", "--format", "json", "--select", "django-debug-enabled"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v[0]["path"], "proj/settings/a.py");
    assert_eq!(v[0]["line"], 3);
    assert_eq!(
        v[0]["message"],
        "DEBUG = True in production settings: set `DEBUG = False` (or read it from the environment with a False \
         default) (in effect for `proj/settings/b.py`)"
    );
    // A module imported from outside the cycle is not a root: only prod.py is (one finding,
    // in effect for prod.py alone).
    p.write("proj/settings/prod.py", "from .a import *\n");
    let o = p.run(&["check", "--format", "json", "--select", "django-debug-enabled"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1, "{v}");
    assert_eq!(
        v[0]["message"],
        "DEBUG = True in production settings: set `DEBUG = False` (or read it from the environment with a False \
         default) (in effect for `proj/settings/prod.py`)"
    );
}
