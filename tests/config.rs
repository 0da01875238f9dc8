//! Configuration users can trust (issue 27): a broken config is an error naming the file and
//! line, the command line wins over the config as in Ruff, a selection of no rule is an error,
//! `--config FILE` and `--show-settings`.

mod common;

use common::*;

fn project(config: (&str, &str)) -> Project {
    Project::new(&[
        config,
        ("app/views.py", "def f():\n    # TODO: x\n    breakpoint()\n"),
        ("web/src/a.ts", "console.log('x');\n"),
    ])
}

fn rules_found(p: &Project, args: &[&str]) -> Vec<String> {
    let o = p.run(&[&["check", "--format", "json"], args].concat());
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    let mut r: Vec<String> = triples(&o).into_iter().map(|(rule, _, _)| rule).collect();
    r.sort();
    r.dedup();
    r
}

#[test]
fn a_malformed_pyproject_with_our_table_is_an_error_naming_file_and_line() {
    let p = project(("pyproject.toml", "[project]\nname = \"x\"\n\n[tool.preflight]\nselect = [\"todo-fixme\"\n"));
    let o = p.run(&["check"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("pyproject.toml") && err.contains("line 5"), "{err}");
    // A broken pyproject.toml that does not configure preflight is not preflight's business.
    let p = project(("pyproject.toml", "[project\nname = \"x\"\n"));
    assert_eq!(p.run(&["check", "--quiet"]).status.code(), Some(1));
}

#[test]
fn the_command_line_wins_over_the_config() {
    let p = project(("preflight.toml", "ignore = [\"todo-fixme\"]\n"));
    assert_eq!(rules_found(&p, &[]), ["console-log", "debugger-statement"]);
    // --select starts over: the config's ignore does not beat it.
    assert_eq!(rules_found(&p, &["--select", "todo-fixme"]), ["todo-fixme"]);
    // --extend-select adds to the config's selection.
    let p = project(("preflight.toml", "select = [\"console-log\"]\n"));
    assert_eq!(rules_found(&p, &["--extend-select", "todo-fixme"]), ["console-log", "todo-fixme"]);
    // --ignore ALL leaves nothing: an error, not a clean run.
    let o = p.run(&["check", "--ignore", "ALL"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no rule is selected"), "{}", stderr(&o));
}

#[test]
fn an_empty_selection_is_an_error() {
    let p = project(("preflight.toml", "select = []\n"));
    let o = p.run(&["check"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no rule is selected (preflight.toml and the command line)"), "{}", stderr(&o));
}

#[test]
fn config_option_names_the_file_to_use() {
    let p = project(("ci/strict.toml", "select = [\"debugger-statement\"]\n"));
    assert_eq!(rules_found(&p, &["--config", "ci/strict.toml"]), ["debugger-statement"]);
    p.write("ci/pyproject.toml", "[tool.preflight]\nselect = [\"todo-fixme\"]\n");
    assert_eq!(rules_found(&p, &["--config", "ci/pyproject.toml"]), ["todo-fixme"]);
    let o = p.run(&["check", "--config", "ci/missing.toml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("missing.toml: no such file"), "{}", stderr(&o));
}

#[test]
fn show_settings_says_what_is_in_effect_and_where_it_comes_from() {
    let p = project((
        "preflight.toml",
        "ignore = [\"todo-fixme\"]\nmax-file-size = 1000\n\n[console-log]\nallow = [\"info\"]\n",
    ));
    let o = p.run(&["check", "--show-settings"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.lines().any(|l| l.starts_with("select = [") && !l.contains("\"todo-fixme\"") && l.contains("# from ")),
        "{out}"
    );
    assert!(out.contains("max-file-size = 1000  # from "), "{out}");
    assert!(out.contains("exclude = []  # default"), "{out}");
    assert!(out.contains("allow = [\"info\"]"), "{out}");
    assert!(
        out.contains(&format!(
            "# {} of {} rules run",
            preflight::catalog::RULES.len() - 1,
            preflight::catalog::RULES.len()
        )),
        "{out}"
    );
}

/// The one error line of a run that exits 2.
fn error_of(p: &Project, args: &[&str]) -> String {
    let o = p.run(args);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    err.lines().find(|l| l.starts_with("preflight: error: ")).unwrap_or_else(|| panic!("{err}")).to_string()
}

#[test]
fn config_baseline_and_command_line_errors_name_the_file_the_line_and_the_cause() {
    let p = project(("pyproject.toml", "[project]\nname = \"x\"\n\n[tool.preflight]\nselect = [\"todo-fixme\"\n"));
    let py = p.path().join("pyproject.toml").display().to_string();
    assert_eq!(
        error_of(&p, &["check"]),
        format!("preflight: error: {py} [tool.preflight]: line 5, column 23: unclosed array, expected `]`")
    );
    // A key of the wrong type in the table: located in the file like a syntax error.
    p.write("pyproject.toml", "[project]\nname = \"x\"\n\n[tool.preflight]\nmax-file-size = \"big\"\n");
    assert_eq!(
        error_of(&p, &["check"]),
        format!(
            "preflight: error: {py} [tool.preflight]: line 5, column 17: invalid type: string \"big\", expected u64"
        )
    );
    std::fs::remove_file(p.path().join("pyproject.toml")).unwrap();
    let toml = p.path().join("preflight.toml").display().to_string();
    // A rule id the config names that is no rule: its file and line (it used to name neither).
    p.write("preflight.toml", "# strict\nselect = [\"todo-fixme\", \"todo-fixmee\"]\n");
    assert_eq!(
        error_of(&p, &["check"]),
        format!("preflight: error: {toml}: line 2: select: unknown rule id `todo-fixmee` (see `preflight rules`)")
    );
    p.write("preflight.toml", "[per-path-ignores]\n\"tests/**\" = [\"nope\"]\n");
    assert_eq!(
        error_of(&p, &["check"]),
        format!("preflight: error: {toml}: line 2: per-path-ignores: unknown rule id `nope`")
    );
    p.write("preflight.toml", "ignore = []\nmax-file-size = 99999999999\n");
    assert_eq!(
        error_of(&p, &["check"]),
        format!(
            "preflight: error: {toml}: line 2: max-file-size = 99999999999 is over the ceiling of 67108864 bytes (64 MiB)"
        )
    );
    std::fs::remove_file(p.path().join("preflight.toml")).unwrap();
    // The command line names the option.
    assert_eq!(
        error_of(&p, &["check", "--extend-select", "todo-fixme,nope"]),
        "preflight: error: --extend-select: unknown rule id `nope` (see `preflight rules`)"
    );
    // A baseline: the line and column of broken JSON, the entry missing a field.
    p.write("base.json", "{\"findings\": [\n  {\"rule\": \"todo-fixme\"}\n");
    assert_eq!(
        error_of(&p, &["check", "--baseline", "base.json"]),
        "preflight: error: baseline base.json: line 3, column 1: not JSON: EOF while parsing a list"
    );
    p.write("base.json", "{\"findings\": [\n  {\"rule\": \"todo-fixme\", \"path\": \"app/views.py\"}\n]}\n");
    assert_eq!(
        error_of(&p, &["check", "--baseline", "base.json"]),
        "preflight: error: baseline base.json: entry 1 has no `fingerprint`"
    );
}
