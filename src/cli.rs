//! The command line: `preflight check`, `preflight rules`, `preflight rule ID`.
//!
//! Exit codes: 0 no findings, 1 findings, 2 usage or I/O error. An error outranks findings.

use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand, ValueEnum};

use crate::catalog::RULES;
use crate::config::Config;
use crate::engine::{self, Scan};
use crate::finding::Level;
use crate::output::{self, eprint};
use crate::report;

#[derive(Parser, Debug)]
#[command(name = "preflight", version, about = "Static pre-deployment audit for Django + React repositories")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

// Parsed once per process: the size of the `check` variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check files or directories (default: the current directory).
    Check(CheckArgs),
    /// List every rule: id, level, checklist item.
    Rules {
        #[arg(long, value_enum, default_value_t = ListFormat::Text)]
        format: ListFormat,
    },
    /// Print one rule's documentation.
    Rule { id: String },
    /// The pre-deployment checklist for a repository: every item passed, failed, needing a
    /// human or not applicable, with the findings and what was judged (`check --format html`,
    /// exit 0 unless the run itself fails).
    Report(ReportArgs),
}

#[derive(clap::Args, Debug)]
pub struct ReportArgs {
    /// Files or directories (default: the current directory).
    pub paths: Vec<PathBuf>,
    /// html (one self-contained page) or checklist (Markdown).
    #[arg(long, value_enum, default_value_t = ReportFormat::Html)]
    pub format: ReportFormat,
    /// Write the report to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Only these rules (comma-separated ids, or ALL).
    #[arg(long, value_delimiter = ',', value_name = "IDS")]
    pub select: Vec<String>,
    /// Skip these rules (comma-separated ids).
    #[arg(long, value_delimiter = ',', value_name = "IDS")]
    pub ignore: Vec<String>,
    /// Worker threads (default: the number of CPUs).
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,
}

#[derive(Copy, Clone, Debug, ValueEnum, PartialEq, Eq)]
pub enum ReportFormat {
    Html,
    Checklist,
}

#[derive(Copy, Clone, Debug, ValueEnum, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Sarif,
    /// GitHub Actions workflow commands (annotations).
    Github,
    /// A summary table and the findings by file, for `$GITHUB_STEP_SUMMARY` or a review.
    Markdown,
    /// GitLab code quality report (`artifacts:reports:codequality`).
    Gitlab,
    /// JUnit XML test results (GitLab, Jenkins, Azure Pipelines, CircleCI).
    Junit,
    /// The pre-deployment checklist as one self-contained HTML page (as `preflight report`).
    Html,
    /// The pre-deployment checklist as Markdown with `- [x]` items, for a PR comment or
    /// `$GITHUB_STEP_SUMMARY`.
    Checklist,
}

/// The lowest level of finding that makes the exit code 1.
#[derive(Copy, Clone, Debug, ValueEnum, PartialEq, Eq)]
pub enum FailOn {
    Error,
    Warning,
    Note,
    /// Exit 0 whatever is found (errors of the run itself still exit 2).
    Never,
}

#[derive(Copy, Clone, Debug, ValueEnum, PartialEq, Eq)]
pub enum ListFormat {
    Text,
    Json,
    /// The README's rule table.
    Markdown,
}

#[derive(Copy, Clone, Debug, ValueEnum, PartialEq, Eq)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// Files or directories. Given files, preflight reports on them only, with the project
    /// around them (found upwards) as context.
    pub paths: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Write the report to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// One more report from the same scan, as FORMAT:FILE (or FORMAT alone for stdout); may be
    /// repeated, e.g. `--format github --output-format sarif:results.sarif`.
    #[arg(long, value_name = "FORMAT[:FILE]")]
    pub output_format: Vec<String>,
    /// Lowest level of finding that fails the run (exit 1).
    #[arg(long, value_enum, default_value_t = FailOn::Warning, value_name = "LEVEL")]
    pub fail_on: FailOn,
    /// Only these rules (comma-separated ids, or ALL).
    #[arg(long, value_delimiter = ',', value_name = "IDS")]
    pub select: Vec<String>,
    /// Skip these rules (comma-separated ids, or ALL).
    #[arg(long, value_delimiter = ',', value_name = "IDS")]
    pub ignore: Vec<String>,
    /// Add these rules to the selection (comma-separated ids).
    #[arg(long, value_delimiter = ',', value_name = "IDS")]
    pub extend_select: Vec<String>,
    /// Use this config file (a preflight.toml, or a pyproject.toml's [tool.preflight]) instead
    /// of the one found above the scanned folder.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print the settings in effect (and where each comes from), then exit.
    #[arg(long)]
    pub show_settings: bool,
    /// Exit 0 even when there are findings (as `--fail-on never`).
    #[arg(long)]
    pub exit_zero: bool,
    /// Print findings only: no notes, no summary.
    #[arg(long, short)]
    pub quiet: bool,
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Worker threads (default: the number of CPUs).
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,
    /// SARIF `automationDetails.id`, to keep several analyses apart in code scanning.
    #[arg(long, value_name = "CATEGORY")]
    pub sarif_category: Option<String>,
    /// Do not report findings recorded in this baseline file.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// With --baseline: rewrite it without its stale entries (findings gone) and with the
    /// current line of the others; new findings are reported, not added.
    #[arg(long, requires = "baseline")]
    pub update_baseline: bool,
    /// Record the current findings in FILE (and exit 0).
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
    /// Report only findings new since the git revision REV: on lines added or changed since,
    /// or of a kind the tree at REV (analysed the same way) had fewer of.
    #[arg(long, visible_alias = "new-since", value_name = "REV")]
    pub diff_base: Option<String>,
    /// Judge every migration, not only those a next deploy would apply (each app's latest).
    #[arg(long)]
    pub all_migrations: bool,
    /// Run afresh: neither read nor write the run cache (see README "Performance").
    #[arg(long)]
    pub no_cache: bool,
    /// Write a `preflight: ignore[...]` comment on every line with a finding (as Ruff's
    /// `--add-noqa`), print how many were added and which findings could not be, and exit.
    #[arg(long, conflicts_with_all = ["write_baseline", "output", "output_format"])]
    pub add_suppressions: bool,
}

pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    match cli.command {
        Command::Check(args) => match check(&args) {
            Ok(code) => code,
            Err(msg) => {
                // Messages quote config keys and values, paths and git output: a hostile
                // repository's text, so sanitised like every other line preflight prints.
                eprint(&format!("preflight: error: {}\n", report::sanitize_lines(&msg)));
                2
            }
        },
        Command::Report(r) => {
            let args = CheckArgs {
                paths: r.paths,
                format: match r.format {
                    ReportFormat::Html => Format::Html,
                    ReportFormat::Checklist => Format::Checklist,
                },
                output: r.output,
                output_format: Vec::new(),
                fail_on: FailOn::Never,
                select: r.select,
                ignore: r.ignore,
                extend_select: Vec::new(),
                config: None,
                show_settings: false,
                exit_zero: true,
                quiet: false,
                color: ColorChoice::Auto,
                threads: r.threads,
                sarif_category: None,
                baseline: None,
                update_baseline: false,
                write_baseline: None,
                diff_base: None,
                all_migrations: false,
                no_cache: false,
                add_suppressions: false,
            };
            match check(&args) {
                Ok(code) => code,
                Err(msg) => {
                    eprint(&format!("preflight: error: {}\n", report::sanitize_lines(&msg)));
                    2
                }
            }
        }
        Command::Rules { format } => print_or_2(&list_rules(format)),
        Command::Rule { id } => match crate::catalog::meta(&id) {
            Some(r) => print_or_2(&report::sarif::rule_markdown(r)),
            None => {
                eprint(&format!("preflight: error: no rule `{}` (see `preflight rules`)\n", report::sanitize(&id)));
                2
            }
        },
    }
}

/// Prints to stdout: 0, or 2 with a message when stdout cannot be written.
fn print_or_2(text: &str) -> i32 {
    match output::write_stdout(text.as_bytes()) {
        Ok(()) => 0,
        Err(e) => {
            eprint(&format!("preflight: error: {e}\n"));
            2
        }
    }
}

fn list_rules(format: ListFormat) -> String {
    match format {
        ListFormat::Text => {
            let mut s = String::new();
            for r in RULES {
                s.push_str(&format!("{:<32} {:<8} {}\n", r.id, r.level.as_str(), r.checklist));
            }
            s
        }
        ListFormat::Markdown => rules_table(),
        ListFormat::Json => {
            let arr: Vec<serde_json::Value> = RULES
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "id": r.id, "name": r.name, "level": r.level.as_str(), "summary": r.summary,
                        "checklist": r.checklist, "languages": r.languages, "tags": r.tags, "cwe": r.cwe,
                        "precision": r.precision, "security_severity": r.security_severity,
                        "what": r.what, "why": r.why, "example": r.example, "use_instead": r.use_instead,
                        "references": r.references,
                    })
                })
                .collect();
            serde_json::to_string_pretty(&arr).expect("json") + "\n"
        }
    }
}

/// The README's rule table (between `<!-- rules:start -->` and `<!-- rules:end -->`).
pub fn rules_table() -> String {
    let mut s = String::from("| rule | level | checklist item | what it finds |\n|---|---|---|---|\n");
    for r in RULES {
        s.push_str(&format!("| `{}` | {} | {} | {} |\n", r.id, r.level.as_str(), r.checklist, r.summary));
    }
    s
}

/// Why the rules to run cannot be resolved. (The config's own lists are checked when it is
/// loaded: `ConfigError` names the file and line.)
#[derive(Debug, thiserror::Error)]
pub enum SelectionError {
    /// An id in `--select`, `--extend-select` or `--ignore` that names no rule.
    #[error("{option}: unknown rule id `{id}` (see `preflight rules`)")]
    UnknownRule { option: &'static str, id: String },
    /// Nothing left to run; `config` is the config file, when there is one.
    #[error("no rule is selected{}: a run would check nothing; see `preflight check --show-settings`",
        config.as_deref().map_or(String::new(), |s| format!(" ({s} and the command line)")))]
    Empty { config: Option<String> },
}

/// Resolves `--select`/`--ignore` and config into one switch per catalogue rule.
pub fn selection(select: &[String], ignore: &[String], config: &Config) -> Result<Vec<bool>, SelectionError> {
    select_rules(select, &[], ignore, config)
}

/// Which rules run, as Ruff resolves it: the config first (`select`, or every rule, less its
/// `ignore`), then the command line over it (`--select` starts over, `--extend-select` adds,
/// `--ignore` removes). `ALL` names every rule in each list. A selection of no rule is an error:
/// a run that checks nothing must not look like a clean one.
pub fn select_rules(
    select: &[String],
    extend: &[String],
    ignore: &[String],
    config: &Config,
) -> Result<Vec<bool>, SelectionError> {
    for (option, list) in [("--select", select), ("--extend-select", extend), ("--ignore", ignore)] {
        if let Some(id) = list.iter().find(|id| *id != "ALL" && crate::catalog::meta(id).is_none()) {
            return Err(SelectionError::UnknownRule { option, id: id.clone() });
        }
    }
    let cfg_select = config.raw.select.clone();
    let names = |list: &[String], id: &str| list.iter().any(|s| s == "ALL" || s == id);
    let mut on: Vec<bool> = RULES.iter().map(|r| cfg_select.as_deref().is_none_or(|s| names(s, r.id))).collect();
    for (i, r) in RULES.iter().enumerate() {
        on[i] &= !names(&config.raw.ignore, r.id);
        if !select.is_empty() {
            on[i] = names(select, r.id);
        }
        on[i] |= names(extend, r.id);
        on[i] &= !names(ignore, r.id);
    }
    if !on.iter().any(|&b| b) {
        return Err(SelectionError::Empty { config: config.source.clone() });
    }
    Ok(on)
}

/// The nearest folder at or above `start` holding `.git`, `manage.py` or `pyproject.toml`.
pub fn project_root(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|d| d.join(".git").exists() || d.join("manage.py").is_file() || d.join("pyproject.toml").is_file())
        .map(Path::to_path_buf)
}

/// The folder whose config applies: nearest at or above `start` with `preflight.toml` or a
/// `pyproject.toml` with `[tool.preflight]`, not looking past the repository top.
fn config_root(start: &Path) -> Option<PathBuf> {
    for d in start.ancestors() {
        if d.join("preflight.toml").symlink_metadata().is_ok() {
            return Some(d.to_path_buf());
        }
        // A pyproject.toml that cannot be read safely is taken, so that loading it says why.
        if crate::config::read_config(&d.join("pyproject.toml"))
            .map_or(true, |t| t.is_some_and(|t| t.contains("[tool.preflight")))
        {
            return Some(d.to_path_buf());
        }
        if d.join(".git").exists() {
            break;
        }
    }
    None
}

/// Turns the command-line paths into a `Scan`.
pub fn build_scan(paths: &[PathBuf], cwd: &Path) -> Result<(Scan, PathBuf), String> {
    let given: Vec<PathBuf> = if paths.is_empty() { vec![PathBuf::from(".")] } else { paths.to_vec() };
    let mut dirs = Vec::new();
    let mut files = Vec::new();
    for p in &given {
        let abs = cwd.join(p);
        let meta = std::fs::metadata(&abs).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => format!("`{}` does not exist", p.display()),
            _ => format!("`{}`: {e}", p.display()),
        })?;
        let canon = abs.canonicalize().map_err(|e| format!("`{}`: {e}", p.display()))?;
        if meta.is_dir() {
            dirs.push(canon)
        } else {
            files.push(canon)
        }
    }
    let cwd = cwd.canonicalize().unwrap_or_else(|_| cwd.to_path_buf());
    let first_dir = dirs.first().cloned().unwrap_or_else(|| files[0].parent().unwrap_or(&cwd).to_path_buf());
    let context =
        if dirs.is_empty() { project_root(&first_dir).unwrap_or_else(|| first_dir.clone()) } else { first_dir.clone() };
    let all_under_cwd = dirs.iter().chain(&files).all(|p| p.starts_with(&cwd));
    let root = if all_under_cwd { cwd.clone() } else { context.clone() };
    let cfg_root = config_root(&first_dir).unwrap_or_else(|| context.clone());
    let scan = if dirs.is_empty() {
        Scan { dirs: vec![context], files, root }
    } else {
        // Files given beside directories are scanned like the directories' files.
        dirs.extend(files);
        Scan { dirs, files: Vec::new(), root }
    };
    Ok((scan, cfg_root))
}

fn check(args: &CheckArgs) -> Result<i32, String> {
    let cwd = std::env::current_dir().map_err(|e| format!("current directory: {e}"))?;
    let (scan, cfg_root) = build_scan(&args.paths, &cwd)?;
    // Report files must not be written through a symlink or over a file this run reads.
    let inputs: Vec<PathBuf> = args.paths.iter().chain(&args.baseline).map(|p| cwd.join(p)).collect();
    if let Some(path) = &args.output {
        output::check_target(path, &inputs, "--output")?;
    }
    if let Some(path) = &args.write_baseline {
        output::check_target(path, &inputs, "--write-baseline")?;
    }
    let extra = args.output_format.iter().map(|spec| parse_output_format(spec)).collect::<Result<Vec<_>, _>>()?;
    for path in extra.iter().filter_map(|(_, p)| p.as_ref()) {
        output::check_target(path, &inputs, "--output-format")?;
    }
    let mut config = match &args.config {
        Some(path) => Config::load_file(&cwd.join(path)).map_err(|e| e.to_string())?,
        None => Config::load(&cfg_root).map_err(|e| e.to_string())?,
    };
    // With a diff base, the migrations changed since it are the ones judged (every finding
    // outside the changed lines is dropped below).
    config.raw.all_migrations |= args.all_migrations || args.diff_base.is_some();
    if !args.no_cache {
        config.cache_dir = crate::cache::default_dir();
    }
    if let (Some(used), false) = (&config.path, args.quiet) {
        // A config found in a folder above the scanned one applies too: say which.
        let shown = used.strip_prefix(cwd.canonicalize().as_deref().unwrap_or(&cwd)).unwrap_or(used);
        eprint(&format!("preflight: config {}\n", report::sanitize(&shown.display().to_string())));
    }
    let selected = select_rules(&args.select, &args.extend_select, &args.ignore, &config).map_err(|e| e.to_string())?;
    if args.show_settings {
        output::write_stdout(show_settings(&config, &selected, args).as_bytes())?;
        return Ok(0);
    }
    let threads = args.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if threads == 0 {
        return Err("--threads must be at least 1".into());
    }
    if engine::clamp_threads(threads) < threads && !args.quiet {
        eprintln!(
            "preflight: --threads {threads} is more than this machine can use; using {}",
            engine::clamp_threads(threads)
        );
    }
    let mut outcome = engine::run(&scan, &config, &selected, threads)?;
    // Checking a folder reports on that folder only: git's index lists the whole repository (a
    // `.env` at its top), and what lies outside the folder is not what was asked about.
    if scan.files.is_empty() {
        outcome.findings.retain(|f| {
            let abs = scan.root.join(&f.path);
            scan.dirs.iter().any(|d| abs.starts_with(d))
        });
    }
    // Nothing could be read although there was something to read: not a clean run (the report
    // is still written, with its notes; a baseline is not).
    let nothing_read = (outcome.files_scanned == 0)
        .then(|| {
            let unreadable: Vec<&crate::finding::Note> =
                outcome.notes.iter().filter(|n| engine::is_unreadable_note(&n.message)).collect();
            let first = unreadable.first()?;
            let more = match unreadable.len() - 1 {
                0 => String::new(),
                n => format!(" (and {n} more)"),
            };
            Some(format!("no file could be read: {}: {}{more}", first.path, first.message))
        })
        .flatten();
    if let Some(path) = &args.write_baseline {
        if let Some(e) = nothing_read {
            return Err(e);
        }
        crate::baseline::write(path, &outcome.findings)?;
        if !args.quiet {
            eprint(&format!(
                "preflight: recorded {} findings in {}\n",
                outcome.findings.len(),
                report::sanitize(&path.display().to_string())
            ));
        }
        return Ok(0);
    }
    if let Some(path) = &args.baseline {
        let known = crate::baseline::read(path).map_err(|e| e.to_string())?;
        let matched = crate::baseline::apply(&mut outcome.findings, &known);
        let shown = report::sanitize(&path.display().to_string());
        // An entry is judged when its rule ran and its path was scanned: only then does no
        // finding mean the finding is gone.
        let judged = |e: &crate::baseline::Entry| {
            let on = crate::catalog::meta(&e.rule).is_some_and(|_| selected[crate::catalog::index_of(&e.rule)]);
            let abs = scan.root.join(&e.path);
            let scanned = if scan.files.is_empty() {
                scan.dirs.iter().any(|d| abs.starts_with(d))
            } else {
                scan.files.contains(&abs)
            };
            on && scanned
        };
        let stale = crate::baseline::stale(&known, &matched, judged);
        if !args.quiet && !matched.is_empty() {
            eprint(&format!("preflight: {} findings are in the baseline {shown}\n", matched.len()));
        }
        if args.update_baseline {
            if path.symlink_metadata().is_ok_and(|m| m.file_type().is_symlink()) {
                return Err(format!("--update-baseline {shown} is a symlink: refusing to write through it"));
            }
            let entries = crate::baseline::updated(&known, &matched, judged);
            output::write_file(path, crate::baseline::render(&entries).as_bytes())?;
            if !args.quiet {
                eprint(&format!(
                    "preflight: updated {shown}: {} entries, {} stale removed\n",
                    entries.len(),
                    stale.len()
                ));
            }
        } else if !args.quiet && !stale.is_empty() {
            let mut msg = format!(
                "preflight: {} baseline entries match no finding any more (fixed, or the line changed); \
                 --update-baseline removes them:\n",
                stale.len()
            );
            for e in &stale {
                let line = e.line.map_or(String::new(), |l| format!(":{l}"));
                let _ = writeln!(msg, "  {}{line}: {} ({})", e.path, e.rule, e.fingerprint);
            }
            eprint(&report::sanitize_lines(&msg));
        }
    }
    if let Some(rev) = &args.diff_base {
        let scanned = scan.files.first().or(scan.dirs.first()).unwrap_or(&scan.root);
        let (top, commit) = crate::gitdiff::resolve(&scan.root, scanned, rev)?;
        let mut paths: Vec<&str> = outcome.findings.iter().map(|f| f.path.as_str()).collect();
        paths.dedup();
        let changed = crate::gitdiff::changed_since(&scan.root, &top, &commit, &paths)?;
        // The same analysis of the tree at REV: a finding of a kind REV did not have is new
        // even on an unchanged line (the change put it in effect elsewhere).
        let tree = crate::gitdiff::materialize(&top, &commit, config.max_file_size())?;
        let map = |p: &Path| tree.dir.join(p.strip_prefix(&top).unwrap_or(p));
        let base_scan = Scan {
            dirs: scan.dirs.iter().map(|d| map(d)).collect(),
            files: scan.files.iter().map(|f| map(f)).collect(),
            root: tree.dir.clone(),
        };
        let base_scan = Scan { dirs: base_scan.dirs.into_iter().filter(|d| d.exists()).collect(), ..base_scan };
        let base = if base_scan.dirs.is_empty() {
            Vec::new()
        } else {
            engine::run(&base_scan, &config, &selected, threads)?.findings
        };
        let kind = |f: &crate::finding::Finding, path: String| {
            let what = f.key.clone().unwrap_or_else(|| f.snippet.split_whitespace().collect::<Vec<_>>().join(" "));
            (f.rule.id, path, what)
        };
        let top_rel = |p: &Path| p.strip_prefix(&top).map(|r| r.to_string_lossy().replace('\\', "/")).ok();
        let current: Vec<_> = outcome
            .findings
            .iter()
            .map(|f| {
                let on_changed = changed.get(&f.path).is_some_and(|c| c.contains(f.line));
                let path = top_rel(&scan.root.join(&f.path)).unwrap_or_else(|| f.path.clone());
                (kind(f, path), on_changed)
            })
            .collect();
        let base_kinds = base.iter().map(|f| kind(f, f.path.clone()));
        let keep = crate::gitdiff::select_new(&current, base_kinds);
        let mut keep = keep.into_iter();
        outcome.findings.retain(|_| keep.next().unwrap_or(true));
    }
    if args.add_suppressions {
        if let Some(e) = nothing_read {
            return Err(e);
        }
        return add_suppressions(&scan.root, &outcome.findings, args.quiet);
    }

    let to_terminal = args.output.is_none() && std::io::stdout().is_terminal();
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => to_terminal && std::env::var_os("NO_COLOR").is_none(),
    };
    let style = report::text::Style { color };
    let render = |format: Format, style: &report::text::Style| match format {
        Format::Text => report::text::findings(&outcome, style),
        Format::Json => report::json::render(&outcome.findings),
        Format::Sarif => {
            let provenance =
                crate::gitindex::find_repo(&scan.root).and_then(|(_, gitdir)| crate::gitindex::provenance(&gitdir));
            let opts = report::sarif::SarifOptions {
                category: args.sarif_category.clone(),
                provenance,
                config_file: config.path.clone(),
            };
            report::sarif::render(&outcome, &scan.root, &opts)
        }
        Format::Github => report::github::render(&outcome.findings),
        Format::Markdown => report::markdown::render(&outcome),
        Format::Gitlab => report::gitlab::render(&outcome.findings),
        Format::Junit => report::junit::render(&outcome.findings),
        Format::Html => report::html::render(&outcome),
        Format::Checklist => report::checklist::render(&outcome),
    };
    let plain = report::text::Style { color: false };
    let mut to_stdout = Vec::new();
    match &args.output {
        Some(path) => output::write_file(path, render(args.format, &plain).as_bytes())?,
        None => to_stdout.push(render(args.format, &style)),
    }
    for (format, path) in &extra {
        match path {
            Some(path) => output::write_file(path, render(*format, &plain).as_bytes())?,
            None => to_stdout.push(render(*format, &style)),
        }
    }
    if !to_stdout.is_empty() {
        // A closed pipe (`| head`) ends the output quietly; any other write error is exit 2.
        output::write_stdout(to_stdout.concat().as_bytes())?;
    }
    if !args.quiet {
        let err_style = report::text::Style { color: color && std::io::stderr().is_terminal() };
        eprint(&report::text::summary(&outcome, &err_style));
    }
    if let Some(e) = nothing_read {
        return Err(e);
    }
    let threshold = match args.fail_on {
        _ if args.exit_zero => None,
        FailOn::Never => None,
        FailOn::Error => Some(Level::Error),
        FailOn::Warning => Some(Level::Warning),
        FailOn::Note => Some(Level::Note),
    };
    Ok(match threshold {
        Some(t) if outcome.findings.iter().any(|f| f.level >= t) => 1,
        _ => 0,
    })
}

/// `--add-suppressions`: writes the markers, then says how many and lists the findings left.
/// The run is an edit: it exits 0 unless it fails, as Ruff's `--add-noqa`.
fn add_suppressions(root: &Path, findings: &[crate::finding::Finding], quiet: bool) -> Result<i32, String> {
    let s = crate::fix::add_suppressions(root, findings)?;
    let mut msg = String::new();
    if !quiet {
        for l in &s.left {
            let _ = writeln!(msg, "{}:{}: {}: not suppressed: {}", l.path, l.line, l.rule, l.why);
        }
    }
    let plural = |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let _ = writeln!(
        msg,
        "preflight: added suppressions for {} ({} in {}); {} could not be suppressed in place",
        plural(s.suppressed, "finding", "findings"),
        plural(s.lines, "line", "lines"),
        plural(s.files, "file", "files"),
        plural(s.left.len(), "finding", "findings"),
    );
    eprint(&report::sanitize_lines(&msg));
    Ok(0)
}

/// `FORMAT:FILE` or `FORMAT` (stdout), as `--output-format` takes it.
fn parse_output_format(spec: &str) -> Result<(Format, Option<PathBuf>), String> {
    let (name, path) = match spec.split_once(':') {
        Some((name, path)) if !path.is_empty() => (name, Some(PathBuf::from(path))),
        Some((name, _)) => (name, None),
        None => (spec, None),
    };
    let format = Format::from_str(name, true).map_err(|_| {
        let names: Vec<String> = Format::value_variants()
            .iter()
            .filter_map(|v| v.to_possible_value())
            .map(|v| v.get_name().to_string())
            .collect();
        format!("--output-format `{spec}`: unknown format `{name}` (one of: {})", names.join(", "))
    })?;
    Ok((format, path))
}

/// `--show-settings`: the settings in effect, as TOML a config file could hold, each with where
/// it comes from (the config file, the command line, or the default).
fn show_settings(config: &Config, selected: &[bool], args: &CheckArgs) -> String {
    let file = config.path.as_ref().map(|p| report::sanitize(&p.display().to_string()));
    let from_file = |set: bool| match (&file, set) {
        (Some(f), true) => format!("# from {f}"),
        _ => "# default".to_string(),
    };
    let list = |v: &[String]| {
        let items: Vec<String> = v.iter().map(|s| format!("{:?}", report::sanitize(s))).collect();
        format!("[{}]", items.join(", "))
    };
    let raw = &config.raw;
    let mut out = String::new();
    let _ = writeln!(out, "# config file: {}", file.as_deref().unwrap_or("none (defaults)"));
    let ids: Vec<String> = RULES.iter().zip(selected).filter(|(_, &on)| on).map(|(r, _)| r.id.to_string()).collect();
    let by = if !args.select.is_empty() || !args.extend_select.is_empty() || !args.ignore.is_empty() {
        "# from the command line over the config".to_string()
    } else {
        from_file(raw.select.is_some() || !raw.ignore.is_empty())
    };
    let _ = writeln!(out, "# {} of {} rules run", ids.len(), RULES.len());
    let _ = writeln!(out, "select = {}  {by}", list(&ids));
    let _ = writeln!(out, "exclude = {}  {}", list(&raw.exclude), from_file(!raw.exclude.is_empty()));
    let _ = writeln!(out, "max-file-size = {}  {}", config.max_file_size(), from_file(raw.max_file_size.is_some()));
    let _ = writeln!(out, "\n[per-path-ignores]  {}", from_file(!raw.per_path_ignores.is_empty()));
    for (glob, ids) in &raw.per_path_ignores {
        let _ = writeln!(out, "{:?} = {}", report::sanitize(glob), list(ids));
    }
    let s = &raw.settings;
    let _ = writeln!(out, "\n[settings]  {}", from_file(!s.production.is_empty() || !s.dev.is_empty()));
    let _ = writeln!(out, "production = {}\ndev = {}", list(&s.production), list(&s.dev));
    let p = &raw.production;
    let _ = writeln!(out, "\n[production]  {}", from_file(!p.include.is_empty() || !p.exclude.is_empty()));
    let _ = writeln!(out, "include = {}\nexclude = {}", list(&p.include), list(&p.exclude));
    let c = &raw.console_log;
    let allow = c.allow.clone().unwrap_or_else(|| vec!["error".into(), "warn".into()]);
    let _ = writeln!(out, "\n[console-log]  {}", from_file(c.allow.is_some() || c.report_dev_guarded));
    let _ = writeln!(out, "allow = {}\nreport-dev-guarded = {}", list(&allow), c.report_dev_guarded);
    let _ = writeln!(out, "\n[todo-fixme]  {}", from_file(raw.todo_fixme.docstrings));
    let _ = writeln!(out, "docstrings = {}", raw.todo_fixme.docstrings);
    let xss = raw.xss_unsafe_html.report_unknown_sources;
    let _ = writeln!(out, "\n[xss-unsafe-html]  {}", from_file(xss));
    let _ = writeln!(out, "report-unknown-sources = {xss}");
    let budget = raw.image_unoptimized.budget_kb;
    let _ = writeln!(out, "\n[image-unoptimized]  {}", from_file(budget.is_some()));
    let _ = writeln!(out, "budget-kb = {}", budget.unwrap_or(300));
    out
}
