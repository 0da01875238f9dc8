//! Project configuration: `preflight.toml` or `[tool.preflight]` in `pyproject.toml`, at the
//! project root. Unknown keys are an error (a typo must not silently disable a check).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawConfig {
    pub select: Option<Vec<String>>,
    #[serde(default)]
    pub ignore: Vec<String>,
    /// Gitignore-style globs of paths not to scan at all.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Glob → rule ids not reported for matching paths.
    #[serde(default)]
    pub per_path_ignores: BTreeMap<String, Vec<String>>,
    /// Maximum file size in bytes.
    pub max_file_size: Option<u64>,
    #[serde(default)]
    pub settings: SettingsConfig,
    #[serde(default)]
    pub console_log: ConsoleLogConfig,
    #[serde(default)]
    pub todo_fixme: TodoConfig,
    #[serde(default)]
    pub image_unoptimized: ImageConfig,
    #[serde(default)]
    pub xss_unsafe_html: XssConfig,
    /// Globs of files that are production code even though their path says otherwise, and
    /// globs of files that are not.
    #[serde(default)]
    pub production: ProductionConfig,
    /// Judge every migration, not only those a next deploy would apply (an audit).
    #[serde(default)]
    pub all_migrations: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SettingsConfig {
    /// Globs of settings modules that are production-relevant whatever their name.
    #[serde(default)]
    pub production: Vec<String>,
    /// Globs of settings modules that are dev/test only.
    #[serde(default)]
    pub dev: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ConsoleLogConfig {
    /// Console methods allowed in production (default: error, warn).
    pub allow: Option<Vec<String>>,
    /// Report calls guarded by a NODE_ENV/DEV check too (default: false).
    #[serde(default)]
    pub report_dev_guarded: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct TodoConfig {
    /// Look for TODO/FIXME in Python docstrings too (default: false).
    #[serde(default)]
    pub docstrings: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct XssConfig {
    /// Also report values whose source the code does not show (an audit; default: false).
    #[serde(default)]
    pub report_unknown_sources: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ImageConfig {
    /// The size over which one committed, served image is reported, in KB (default: 300).
    pub budget_kb: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ProductionConfig {
    #[serde(default)]
    pub include: Vec<String>,
    #[serde(default)]
    pub exclude: Vec<String>,
}

#[derive(Deserialize)]
struct PyProject {
    tool: Option<PyTool>,
}

#[derive(Deserialize)]
struct PyTool {
    preflight: Option<RawConfig>,
}

/// Why a config cannot be used: each names the file, and the line where the file says it.
/// (`thiserror` is already in the build, through serde-sarif: no crate is added.)
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Not readable (a FIFO, a device, over 4 MiB, an I/O error) or, named by `--config`, absent.
    #[error("{}: {cause}", path.display())]
    Unreadable { path: PathBuf, cause: String },
    /// A `pyproject.toml` named by `--config` that has no `[tool.preflight]` table.
    #[error("{}: no [tool.preflight] table", path.display())]
    NoTable { path: PathBuf },
    /// Not TOML, or a key or value of the wrong kind (`table` is ` [tool.preflight]` in a
    /// pyproject.toml); `line` and `column` are 1-based.
    #[error("{}{table}: line {line}, column {column}: {cause}", path.display())]
    Syntax { path: PathBuf, table: &'static str, line: usize, column: usize, cause: String },
    /// Well-formed, with a value preflight does not accept (an unknown rule id, a bad glob,
    /// `max-file-size` over the ceiling), on `line` (0: the line is not known).
    #[error("{}{table}{}: {cause}", path.display(), if *line > 0 { format!(": line {line}") } else { String::new() })]
    Invalid { path: PathBuf, table: &'static str, line: usize, cause: String },
}

/// A value `Config::from_raw` does not accept: the text that shows it in the file (to find its
/// line) and why.
#[derive(Debug, thiserror::Error)]
#[error("{cause}")]
pub struct InvalidValue {
    pub needle: String,
    pub cause: String,
}

impl InvalidValue {
    fn new(needle: impl Into<String>, cause: impl Into<String>) -> Self {
        InvalidValue { needle: needle.into(), cause: cause.into() }
    }

    /// The error naming `path` and the first line outside a comment that holds the value.
    fn at(self, path: &Path, table: &'static str, text: &str) -> ConfigError {
        let line =
            text.lines().position(|l| l.split('#').next().unwrap_or("").contains(&self.needle)).map_or(0, |i| i + 1);
        ConfigError::Invalid { path: path.to_path_buf(), table, line, cause: self.cause }
    }
}

/// A TOML error as a `ConfigError::Syntax`, its line and column from the error's span.
fn syntax(path: &Path, table: &'static str, text: &str, e: &toml::de::Error) -> ConfigError {
    let at = e.span().map_or(0, |s| s.start.min(text.len()));
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    let cause = e.message().trim_end().to_string();
    ConfigError::Syntax { path: path.to_path_buf(), table, line, column, cause }
}

/// Loaded configuration with globs compiled.
#[derive(Debug, Default)]
pub struct Config {
    pub raw: RawConfig,
    /// Where it came from, for messages.
    pub source: Option<String>,
    /// The config file read, if any.
    pub path: Option<std::path::PathBuf>,
    per_path: Vec<(GlobSet, Vec<String>)>,
    settings_prod: Option<GlobSet>,
    settings_dev: Option<GlobSet>,
    prod_include: Option<GlobSet>,
    prod_exclude: Option<GlobSet>,
    /// The run cache's folder (`cache::default_dir`), when the run may use it; `None` (the
    /// default, and `--no-cache`) runs afresh.
    pub cache_dir: Option<std::path::PathBuf>,
}

pub const DEFAULT_MAX_FILE_SIZE: u64 = 2 * 1024 * 1024;

/// The largest `max-file-size` a config may set (64 MiB): a repository's own config must not
/// make a run hold gigabytes per file.
pub const MAX_FILE_SIZE_CEILING: u64 = 64 * 1024 * 1024;

/// The text of a config file; `None` when there is none. Read safely: regular files only, 4 MiB
/// at most.
pub fn read_config(path: &Path) -> Result<Option<String>, ConfigError> {
    use crate::fsread::{read_text_capped, ReadError, SMALL_FILE_CAP};
    let unreadable = |cause: String| ConfigError::Unreadable { path: path.to_path_buf(), cause };
    match read_text_capped(path, SMALL_FILE_CAP) {
        Ok(t) => Ok(Some(t)),
        Err(ReadError::NotFound) => Ok(None),
        Err(ReadError::TooLarge(n)) => {
            Err(unreadable(format!("{n} bytes, over the {SMALL_FILE_CAP} byte limit for a config file")))
        }
        Err(e) => Err(unreadable(e.to_string())),
    }
}

/// Whether a pyproject.toml's text has a `[tool.preflight]` table (or a subtable of it).
pub fn mentions_section(text: &str) -> bool {
    text.lines().any(|l| {
        let l = l.trim_start();
        l.starts_with("[tool.preflight]") || l.starts_with("[tool.preflight.")
    })
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
}

fn globset(globs: &[String]) -> Result<Option<GlobSet>, InvalidValue> {
    if globs.is_empty() {
        return Ok(None);
    }
    let mut b = GlobSetBuilder::new();
    let bad = |g: &str, e: globset::Error| InvalidValue::new(g, format!("invalid glob `{g}`: {}", e.kind()));
    for g in globs {
        b.add(Glob::new(g).map_err(|e| bad(g, e))?);
        // `dir/**` should also match `dir` itself, and a bare name anywhere below.
        if !g.contains('/') {
            b.add(Glob::new(&format!("**/{g}")).map_err(|e| bad(g, e))?);
        }
    }
    b.build().map(Some).map_err(|e| bad(&globs.join(", "), e))
}

impl Config {
    /// Loads the config from `root`, or the defaults when there is none. A config file that is
    /// not a regular file (a symlink to a device, a FIFO) or is over 4 MiB is an error naming it.
    pub fn load(root: &Path) -> Result<Config, ConfigError> {
        let toml_path = root.join("preflight.toml");
        // A preflight.toml that is there but not a file (a symlink to a device) is an error, not
        // a reason to look elsewhere.
        if toml_path.symlink_metadata().is_ok() {
            return Config::load_file(&toml_path);
        }
        let py = root.join("pyproject.toml");
        match read_config(&py)? {
            Some(text) if mentions_section(&text) => Config::from_pyproject(&py, &text),
            _ => Config::from_raw(RawConfig::default(), None).map_err(|e| e.at(&py, "", "")),
        }
    }

    /// Loads one named config file (`--config FILE`): a `pyproject.toml` (its
    /// `[tool.preflight]` table) by that name, a `preflight.toml` otherwise.
    pub fn load_file(path: &Path) -> Result<Config, ConfigError> {
        let text = read_config(path)?
            .ok_or_else(|| ConfigError::Unreadable { path: path.to_path_buf(), cause: "no such file".into() })?;
        if path.file_name().is_some_and(|n| n == "pyproject.toml") {
            if !mentions_section(&text) {
                return Err(ConfigError::NoTable { path: path.to_path_buf() });
            }
            return Config::from_pyproject(path, &text);
        }
        let raw: RawConfig = toml::from_str(&text).map_err(|e| syntax(path, "", &text, &e))?;
        let mut config = Config::from_raw(raw, Some(file_name(path))).map_err(|e| e.at(path, "", &text))?;
        config.path = Some(path.to_path_buf());
        Ok(config)
    }

    /// The `[tool.preflight]` table of a pyproject.toml. A file that mentions the table but does
    /// not parse is an error naming it (and the line): silently running on defaults would hide a
    /// switched-off check.
    fn from_pyproject(py: &Path, text: &str) -> Result<Config, ConfigError> {
        const TABLE: &str = " [tool.preflight]";
        // Parsed from the text, so a wrong key in the table is located like a syntax error.
        let parsed: PyProject = toml::from_str(text).map_err(|e| syntax(py, TABLE, text, &e))?;
        let Some(raw) = parsed.tool.and_then(|t| t.preflight) else {
            return Config::from_raw(RawConfig::default(), None).map_err(|e| e.at(py, TABLE, text));
        };
        let mut config = Config::from_raw(raw, Some(file_name(py))).map_err(|e| e.at(py, TABLE, text))?;
        config.path = Some(py.to_path_buf());
        Ok(config)
    }

    pub fn from_raw(raw: RawConfig, source: Option<String>) -> Result<Config, InvalidValue> {
        // Rule ids are checked here, where the file is known, so the error can name its line.
        for (key, ids) in [("select", raw.select.as_deref().unwrap_or_default()), ("ignore", raw.ignore.as_slice())] {
            if let Some(id) = ids.iter().find(|id| *id != "ALL" && crate::catalog::meta(id).is_none()) {
                return Err(InvalidValue::new(
                    format!("\"{id}\""),
                    format!("{key}: unknown rule id `{id}` (see `preflight rules`)"),
                ));
            }
        }
        let mut per_path = Vec::new();
        for (glob, ids) in &raw.per_path_ignores {
            for id in ids {
                if crate::catalog::meta(id).is_none() {
                    return Err(InvalidValue::new(
                        format!("\"{id}\""),
                        format!("per-path-ignores: unknown rule id `{id}`"),
                    ));
                }
            }
            per_path.push((globset(std::slice::from_ref(glob))?.expect("one glob"), ids.clone()));
        }
        if let Some(max) = raw.max_file_size.filter(|&m| m > MAX_FILE_SIZE_CEILING) {
            return Err(InvalidValue::new(
                "max-file-size",
                format!("max-file-size = {max} is over the ceiling of {MAX_FILE_SIZE_CEILING} bytes (64 MiB)"),
            ));
        }
        Ok(Config {
            path: None,
            settings_prod: globset(&raw.settings.production)?,
            settings_dev: globset(&raw.settings.dev)?,
            prod_include: globset(&raw.production.include)?,
            prod_exclude: globset(&raw.production.exclude)?,
            per_path,
            raw,
            source,
            cache_dir: None,
        })
    }

    pub fn max_file_size(&self) -> u64 {
        self.raw.max_file_size.unwrap_or(DEFAULT_MAX_FILE_SIZE)
    }

    /// Whether a rule is switched off for a path by `per-path-ignores`.
    pub fn ignored_for_path(&self, rule: &str, rel: &str) -> bool {
        self.per_path.iter().any(|(set, ids)| ids.iter().any(|i| i == rule) && set.is_match(rel))
    }

    /// `Some(true)` when config forces a settings module to dev/test, `Some(false)` to production.
    pub fn settings_override(&self, rel: &str) -> Option<bool> {
        if self.settings_prod.as_ref().is_some_and(|s| s.is_match(rel)) {
            return Some(false);
        }
        if self.settings_dev.as_ref().is_some_and(|s| s.is_match(rel)) {
            return Some(true);
        }
        None
    }

    /// `Some(true)` when config says a file is production code, `Some(false)` when it is not.
    pub fn production_override(&self, rel: &str) -> Option<bool> {
        if self.prod_exclude.as_ref().is_some_and(|s| s.is_match(rel)) {
            return Some(false);
        }
        if self.prod_include.as_ref().is_some_and(|s| s.is_match(rel)) {
            return Some(true);
        }
        None
    }
}
