//! The parallel walk: which files a run looks at.
//!
//! Honours .gitignore/.ignore (also outside a git repository), never descends into VCS folders,
//! dependencies, virtualenvs (any folder holding `pyvenv.cfg`), or build output, does not follow
//! symlinks, passes media, fonts, archives and compiled files by, and turns every file it cannot
//! take (too large, not a regular file, unreadable folder, symlink loop) into a note instead of an
//! error.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ignore::overrides::OverrideBuilder;
use ignore::{WalkBuilder, WalkState};

/// Folders never entered, by name.
pub const SKIP_DIRS: &[&str] = &[
    ".git",
    ".hg",
    ".svn",
    "node_modules",
    "bower_components",
    "site-packages",
    "dist-packages",
    "__pycache__",
    "dist",
    "build",
    "coverage",
    "htmlcov",
    ".next",
    ".nuxt",
    ".svelte-kit",
    ".turbo",
    ".parcel-cache",
    ".cache",
    ".tox",
    ".nox",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".venv",
    "venv",
    ".eggs",
    ".idea",
    ".vscode",
    "target",
];

/// Extensions of media, fonts, archives and compiled files: assets no rule can read, so the walk
/// passes them by without a note (a per-file note for each image of a real project buries the
/// findings). A binary file under any other name is still read, and noted as binary.
const ASSET_EXTENSIONS: &[&str] = &[
    "png", "jpg", "jpeg", "gif", "bmp", "ico", "icns", "webp", "avif", "tif", "tiff", "psd", "xcf", "woff", "woff2",
    "ttf", "otf", "eot", "mo", "pyc", "pyo", "so", "dll", "dylib", "exe", "o", "a", "class", "jar", "war", "zip", "gz",
    "tgz", "bz2", "xz", "lzma", "lz4", "br", "zst", "egg", "7z", "rar", "tar", "whl", "pdf", "doc", "docx", "xls",
    "xlsx", "ppt", "pptx", "odt", "ods", "mp3", "mp4", "m4a", "wav", "ogg", "oga", "webm", "mov", "avi", "flac", "swf",
    "wasm", "npy", "npz", "pkl", "h5", "parquet",
];

/// Whether the file name ends in a media, font, archive or compiled-code extension.
pub fn is_asset(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| ASSET_EXTENSIONS.iter().any(|a| a.eq_ignore_ascii_case(e)))
}

#[derive(Debug, Clone)]
pub struct WalkNote {
    pub path: PathBuf,
    pub message: String,
}

pub struct WalkOptions<'a> {
    pub threads: usize,
    /// Extra exclusion globs (gitignore syntax, relative to `root`).
    pub exclude: &'a [String],
    pub root: &'a Path,
}

pub fn is_skipped_dir(path: &Path) -> bool {
    is_skipped_dir_name(path) || path.join("pyvenv.cfg").is_file()
}

fn is_skipped_dir_name(path: &Path) -> bool {
    let name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    SKIP_DIRS.contains(&name.as_ref()) || name.ends_with(".egg-info")
}

/// Walks `paths` (directories) and returns regular files, sorted, plus notes.
pub fn walk(paths: &[PathBuf], opts: &WalkOptions<'_>) -> Result<(Vec<PathBuf>, Vec<WalkNote>), String> {
    let mut builder = WalkBuilder::new(&paths[0]);
    for p in &paths[1..] {
        builder.add(p);
    }
    let mut ov = OverrideBuilder::new(opts.root);
    for glob in opts.exclude {
        ov.add(&format!("!{glob}")).map_err(|e| format!("invalid exclude glob `{glob}`: {e}"))?;
    }
    let overrides = ov.build().map_err(|e| e.to_string())?;
    builder
        .hidden(false)
        .git_ignore(true)
        .git_global(false)
        .git_exclude(true)
        .require_git(false)
        .ignore(true)
        .parents(true)
        .follow_links(false)
        .overrides(overrides)
        .threads(opts.threads)
        .filter_entry(|e| {
            !(e.file_type().is_some_and(|t| t.is_dir()) && e.depth() > 0 && is_skipped_dir_name(e.path()))
        });

    let files = Mutex::new(Vec::new());
    let notes = Mutex::new(Vec::new());
    let venvs = Mutex::new(Vec::new());
    builder.build_parallel().run(|| {
        let files = &files;
        let notes = &notes;
        let venvs = &venvs;
        Box::new(move |entry| {
            let entry = match entry {
                Ok(e) => e,
                Err(err) => {
                    let (path, message) = describe_walk_error(&err);
                    notes.lock().unwrap().push(WalkNote { path, message });
                    return WalkState::Continue;
                }
            };
            let Some(ft) = entry.file_type() else {
                return WalkState::Continue;
            };
            if ft.is_dir() {
                return WalkState::Continue;
            }
            let path = entry.path().to_path_buf();
            // A virtualenv is known by its `pyvenv.cfg`: asking every folder for one would be a
            // system call per folder, so what the walk found under one is dropped afterwards.
            if entry.depth() > 0 && entry.file_name() == "pyvenv.cfg" {
                if let Some(dir) = path.parent() {
                    venvs.lock().unwrap().push(dir.to_path_buf());
                }
            }
            if ft.is_symlink() {
                let target = std::fs::metadata(&path);
                let message = match target {
                    Err(_) => "broken symlink, skipped".to_string(),
                    Ok(_) => "symlink not followed, skipped".to_string(),
                };
                notes.lock().unwrap().push(WalkNote { path, message });
                return WalkState::Continue;
            }
            if !ft.is_file() {
                notes
                    .lock()
                    .unwrap()
                    .push(WalkNote { path, message: "not a regular file (FIFO, socket or device), skipped".into() });
                return WalkState::Continue;
            }
            if is_asset(&path) {
                return WalkState::Continue;
            }
            // The size limit is checked when the file is opened: a stat here would be one more
            // system call per file.
            files.lock().unwrap().push(path);
            WalkState::Continue
        })
    });
    let venvs: Vec<PathBuf> = venvs.into_inner().unwrap();
    let in_venv = |p: &Path| venvs.iter().any(|v| p.starts_with(v) && !paths.iter().any(|r| r.starts_with(v)));
    let mut files: Vec<PathBuf> = files.into_inner().unwrap();
    files.retain(|f| !in_venv(f));
    files.sort_unstable_by(|a, b| path_order(a, b));
    files.dedup();
    let mut notes = notes.into_inner().unwrap();
    notes.retain(|n| !in_venv(&n.path));
    notes.sort_by(|a, b| (&a.path, &a.message).cmp(&(&b.path, &b.message)));
    Ok((files, notes))
}

/// The order of `Path::cmp` (component by component) for the clean paths a walk yields, as a
/// byte comparison in which `/` sorts before every other byte: the same order, without
/// splitting both paths into components at each comparison (1% of a large run's CPU).
pub fn path_order(a: &Path, b: &Path) -> std::cmp::Ordering {
    let key = |c: &u8| if *c == b'/' { 0 } else { *c };
    a.as_os_str().as_encoded_bytes().iter().map(key).cmp(b.as_os_str().as_encoded_bytes().iter().map(key))
}

fn describe_walk_error(err: &ignore::Error) -> (PathBuf, String) {
    use ignore::Error as E;
    match err {
        E::WithPath { path, err } => (path.clone(), describe_walk_error(err).1),
        E::WithDepth { err, .. } | E::WithLineNumber { err, .. } => describe_walk_error(err),
        E::Loop { child, .. } => (child.clone(), "symlink loop, skipped".into()),
        E::Io(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            (PathBuf::new(), "permission denied, skipped".into())
        }
        other => (PathBuf::new(), other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::path_order;
    use std::path::Path;

    #[test]
    fn path_order_is_the_order_of_components() {
        let names =
            ["a", "a/b", "a-b", "a.b", "a/b/c", "a/b-c", "a/b.c", "a0", "a b", "a_b/x", "A", "é/x", "ab", "a/ba", "b"];
        for x in names {
            for y in names {
                let (px, py) = (Path::new(x), Path::new(y));
                assert_eq!(path_order(px, py), px.cmp(py), "{x} vs {y}");
            }
        }
    }
}
