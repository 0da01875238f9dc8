//! Terminal and document injection (issue 28, item 6): a file name and a source line carrying
//! an ANSI screen clear, an OSC 8 hyperlink, a right-to-left override, a zero-width space, a line
//! separator, a backtick run and an HTML tag reach every output channel escaped for it.

mod common;

use common::*;

/// ESC[2J, an OSC 8 hyperlink, U+202E, U+200B, U+2028, a backtick run and an HTML tag.
const HOSTILE: &str = "\x1b[2J\x1b]8;;x\x07L\x1b]8;;\x07\u{202e}\u{200b}\u{2028}```<img src=x onerror=alert(1)>";

fn hostile_name() -> String {
    format!("h{HOSTILE}.py")
}

fn hostile_project() -> Project {
    let name = hostile_name();
    Project::new(&[(name.as_str(), &format!("def f():\n    pass  # TODO {HOSTILE}\n"))])
}

/// `HOSTILE` as every text format shows it: each hidden character a visible `\u{…}` escape.
const SHOWN: &str =
    "\\u{1b}[2J\\u{1b}]8;;x\\u{7}L\\u{1b}]8;;\\u{7}\\u{202e}\\u{200b}\\u{2028}```<img src=x onerror=alert(1)>";

/// `HOSTILE` inside a JSON string: serde_json's C0 escapes, then the others as `\uXXXX`.
const JSON_SHOWN: &str =
    "\\u001b[2J\\u001b]8;;x\\u0007L\\u001b]8;;\\u0007\\u202e\\u200b\\u2028```<img src=x onerror=alert(1)>";

fn run(format: &str) -> (String, String) {
    let o = hostile_project().run(&["check", "--format", format, "--color", "never"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    (stdout(&o), stderr(&o))
}

#[test]
fn hostile_config_value_is_escaped_in_the_error_on_stderr() {
    let toml = HOSTILE.replace('\x1b', "\\u001b").replace('\x07', "\\u0007");
    let p = Project::new(&[("preflight.toml", &format!("select = [\"{toml}\"]\n"))]);
    let o = p.run(&["check"]);
    assert_eq!(o.status.code(), Some(2));
    // Checked as the config is loaded: the error names the file (the id is written with escapes
    // there, so its line is not found and not named).
    assert_eq!(
        stderr(&o),
        format!(
            "preflight: error: {}: select: unknown rule id `{SHOWN}` (see `preflight rules`)\n",
            p.path().join("preflight.toml").display()
        )
    );
}

#[test]
fn hostile_config_key_is_not_copied_into_a_parse_error() {
    // A raw ESC in the file is a TOML error; the message names the file, line and column and
    // the cause, and quotes nothing of the line.
    let p = Project::new(&[("preflight.toml", "select = [] # \x1b[2J\u{202e}\n")]);
    let o = p.run(&["check"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        format!(
            "preflight: error: {}: line 1, column 15: invalid comment character, expected printable characters\n",
            p.path().join("preflight.toml").display()
        )
    );
}

#[test]
fn text_report_escapes_file_name_message_and_source_line() {
    let (out, _) = run("text");
    assert_eq!(
        out,
        format!(
            "h{SHOWN}.py:2:13: warning[todo-fixme] TODO in production code: `TODO {SHOWN}`: resolve it or track it as an \
             issue\n  |\n2 |     pass  # TODO {SHOWN}\n  |             ^^^^\n  = help: `preflight rule todo-fixme` \
             explains why and shows the fix\n\n"
        )
    );
}

#[test]
fn github_annotations_escape_the_file_property_and_the_message() {
    let (out, _) = run("github");
    assert_eq!(
        out,
        format!(
            "::warning file=h{SHOWN}.py,line=2,col=13,endLine=2,endColumn=17,title=preflight todo-fixme::TODO in \
             production code: `TODO {SHOWN}`: resolve it or track it as an issue\n"
        )
    );
    // A comma, a colon, a percent sign and a line break in a file name are workflow-command
    // syntax: escaped in the `file` property.
    let p = Project::new(&[("a,b:c%d\ne.py", "breakpoint()\n")]);
    let o = p.run(&["check", "--format", "github"]);
    assert!(stdout(&o).starts_with("::error file=a%2Cb%3Ac%25d\\u{a}e.py,line=1,col=1,"), "{}", stdout(&o));
}

#[test]
fn markdown_escapes_html_backticks_and_keeps_code_spans_closed() {
    let (out, _) = run("markdown");
    let path_md = format!("````h{SHOWN}.py````");
    let shown_md = SHOWN.replace("```<img src=x onerror=alert(1)>", "");
    let expected = format!(
        "### {path_md}\n\n| line | level | rule | message |\n|---:|---|---|---|\n| 2 | warning | `todo-fixme` | TODO in \
         production code: `TODO {shown_md}`\\`\\`&lt;img src=x onerror=alert(1)&gt;\\`: resolve it or track it as an \
         issue |\n"
    );
    assert!(out.ends_with(&expected), "{out}");
    // The tag is raw only inside the heading's code span, where Markdown shows it as text.
    assert_eq!(out.matches("<img").count(), 1, "{out}");
}

#[test]
fn json_escapes_c1_bidi_zero_width_and_separators() {
    let (out, _) = run("json");
    assert!(out.contains(&format!("\"path\": \"h{JSON_SHOWN}.py\",\n")), "{out}");
    assert!(
        out.contains(&format!(
            "\"message\": \"TODO in production code: `TODO {JSON_SHOWN}`: resolve it or track it as an issue\",\n"
        )),
        "{out}"
    );
    assert!(!out.contains(['\u{202e}', '\u{200b}', '\u{2028}', '\x1b']), "{out}");
    // Still the same values.
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v[0]["path"], serde_json::json!(hostile_name()));
}

#[test]
fn sarif_escapes_snippet_message_and_percent_encodes_the_uri() {
    let (out, _) = run("sarif");
    assert_valid_sarif(&out);
    assert!(
        out.contains(
            "\"uri\": \"h%1B%5B2J%1B%5D8%3B%3Bx%07L%1B%5D8%3B%3B%07%E2%80%AE%E2%80%8B%E2%80%A8%60%60%60%3Cimg%20src%3Dx%20\
             onerror%3Dalert%281%29%3E.py\""
        ),
        "{out}"
    );
    assert!(out.contains(&format!("\"text\": \"    pass  # TODO {JSON_SHOWN}\"\n")), "{out}");
    assert!(out.contains(&format!("\"text\": \"TODO in production code: `TODO {JSON_SHOWN}`: resolve it")), "{out}");
    assert!(!out.contains(['\u{202e}', '\u{200b}', '\u{2028}', '\x1b']), "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let snippet = &v["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["snippet"]["text"];
    assert_eq!(snippet, &serde_json::json!(format!("    pass  # TODO {HOSTILE}")));
}

/// Issue 28, item 7: two files whose names differ only in bytes that are not UTF-8 were both
/// shown as `a\u{fffd}.py` and collapsed into one finding. Each keeps its bytes now.
#[cfg(unix)]
#[test]
fn non_utf8_names_that_differ_only_in_invalid_bytes_stay_two_findings() {
    use std::os::unix::ffi::OsStrExt;
    let p = Project::new(&[]);
    for name in [&b"a\xff.py"[..], &b"a\xfe.py"[..]] {
        std::fs::write(p.path().join(std::ffi::OsStr::from_bytes(name)), "breakpoint()\n").unwrap();
    }
    let o = p.run(&["check", "--format", "json"]);
    assert_eq!(
        triples(&o),
        vec![t("debugger-statement", "a\\xfe.py", 1), t("debugger-statement", "a\\xff.py", 1)],
        "{}",
        stderr(&o)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_ne!(v[0]["fingerprint"], v[1]["fingerprint"]);

    let o = p.run(&["check", "--format", "text"]);
    assert!(stdout(&o).starts_with("a\\xfe.py:1:1: error[debugger-statement]"), "{}", stdout(&o));
    assert!(stdout(&o).contains("\na\\xff.py:1:1: error[debugger-statement]"), "{}", stdout(&o));
    assert!(stderr(&o).contains("a\\xff.py: note: file name is not valid UTF-8, its invalid bytes shown as \\xNN\n"));

    // SARIF names the files on disk: the raw bytes, percent-encoded.
    let o = p.run(&["check", "--format", "sarif"]);
    let sarif = stdout(&o);
    assert_valid_sarif(&sarif);
    let v: serde_json::Value = serde_json::from_str(&sarif).unwrap();
    let uris: Vec<&str> = v["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str().unwrap())
        .collect();
    assert_eq!(uris, ["a%FE.py", "a%FF.py"]);
}

/// The git index holds the same bytes: a committed `.env` in a folder whose name is not UTF-8
/// is one finding, "committed", not one for the index and one for the walk.
#[cfg(unix)]
#[test]
fn non_utf8_names_in_the_git_index_match_the_walk() {
    use std::os::unix::ffi::OsStrExt;
    let p = Project::new(&[("manage.py", "")]);
    let dir = p.path().join(std::ffi::OsStr::from_bytes(b"conf\xe9"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(".env"), "DATABASE_PASSWORD=Zq7vR2mXk9pL4wT8\n").unwrap();
    p.git(&["init", "-q"]);
    p.git(&["add", "-A"]);
    let o = p.run(&["check", "--format", "json", "--select", "env-file-committed"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let found: Vec<(&str, &str)> =
        v.as_array().unwrap().iter().map(|f| (f["path"].as_str().unwrap(), f["message"].as_str().unwrap())).collect();
    assert_eq!(found.len(), 1, "{v}");
    assert_eq!(found[0].0, "conf\\xe9/.env");
    assert!(found[0].1.starts_with("`conf\\xe9/.env` is committed to git"), "{}", found[0].1);
    // From inside that folder (the report root below the repository's top): `.env`.
    let o = run_in(&dir, &["check", "--format", "json", "--select", "env-file-committed"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v[0]["path"], ".env");
    assert!(v[0]["message"].as_str().unwrap().starts_with("`.env` is committed to git"), "{v}");
}

#[test]
fn gitlab_and_junit_escape_hidden_characters_and_markup() {
    let (gitlab, _) = run("gitlab");
    assert!(gitlab.contains(JSON_SHOWN), "{gitlab}");
    assert!(!gitlab.contains('\u{202e}') && !gitlab.contains('\x1b'));
    serde_json::from_str::<serde_json::Value>(&gitlab).expect("GitLab report parses");
    let (junit, _) = run("junit");
    let xml_shown = SHOWN.replace('<', "&lt;").replace('>', "&gt;");
    assert!(junit.contains(&xml_shown), "{junit}");
    assert!(!junit.contains("<img") && !junit.contains('\x1b') && !junit.contains('\u{202e}'), "{junit}");
}
