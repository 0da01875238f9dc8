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
pub(crate) const SKIP_DIRS: &[&str] = &[
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
pub(crate) fn is_asset(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| ASSET_EXTENSIONS.iter().any(|a| a.eq_ignore_ascii_case(e)))
}

#[derive(Debug, Clone)]
pub(crate) struct WalkNote {
    pub path: PathBuf,
    pub message: String,
}

pub(crate) struct WalkOptions<'a> {
    pub threads: usize,
    /// Extra exclusion globs (gitignore syntax, relative to `root`).
    pub exclude: &'a [String],
    pub root: &'a Path,
}

pub(crate) fn is_skipped_dir(path: &Path) -> bool {
    is_skipped_dir_name(path) || path.join("pyvenv.cfg").is_file()
}

fn is_skipped_dir_name(path: &Path) -> bool {
    let name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    SKIP_DIRS.contains(&name.as_ref()) || name.ends_with(".egg-info")
}

/// An ignore file the `ignore` crate would read in `dir` that is not safe to read: not a regular
/// file (a symlink to /dev/zero, a FIFO) or over 4 MiB. The crate reads `.gitignore`, `.ignore`
/// and `.git/info/exclude` itself (to the end, blocking on a FIFO), so they are checked before
/// the walk enters a folder. Three `stat` calls a folder, nearly all of them answered "no such
/// file".
fn hostile_ignore_file(dir: &Path) -> Option<WalkNote> {
    let check = |path: PathBuf| -> Option<WalkNote> {
        let why = match std::fs::metadata(&path) {
            Err(_) => return None,
            Ok(m) if m.is_dir() => return None,
            Ok(m) if m.is_file() && m.len() <= crate::fsread::SMALL_FILE_CAP => return None,
            Ok(m) if m.is_file() => format!("{} bytes, over the {} byte limit", m.len(), crate::fsread::SMALL_FILE_CAP),
            Ok(_) => "not a regular file (FIFO, socket or device)".to_string(),
        };
        let message = format!("{why}: not read, so ignore files do not apply in this folder and below");
        Some(WalkNote { path, message })
    };
    if let Some(n) = check(dir.join(".gitignore")).or_else(|| check(dir.join(".ignore"))) {
        return Some(n);
    }
    let exclude = dir.join(".git/info/exclude");
    match std::fs::metadata(&exclude) {
        Err(e) if e.raw_os_error() == Some(libc::ENOTDIR) => {}
        _ => return check(exclude),
    }
    // `.git` is a file (a worktree or submodule): the crate reads its first line, the git dir's
    // `commondir` and the common dir's `info/exclude`.
    let dotgit = dir.join(".git");
    if let Some(n) = check(dotgit.clone()) {
        return Some(n);
    }
    let text = crate::fsread::read_text_capped(&dotgit, crate::fsread::SMALL_FILE_CAP).ok()?;
    let gitdir = PathBuf::from(text.lines().next()?.strip_prefix("gitdir: ")?);
    if let Some(n) = check(gitdir.join("commondir")) {
        return Some(n);
    }
    let common = crate::fsread::read_text_capped(&gitdir.join("commondir"), crate::fsread::SMALL_FILE_CAP).ok()?;
    let common = common.lines().next()?;
    let common = if common.starts_with('.') { gitdir.join(common) } else { PathBuf::from(common) };
    check(common.join("info/exclude"))
}

/// Walks `paths` (directories) and returns regular files, sorted, plus notes.
///
/// A folder whose ignore file is not safe to read (see `hostile_ignore_file`) gets a note and is
/// walked apart, with no ignore file read in it or below: more files are looked at, never fewer.
pub(crate) fn walk(paths: &[PathBuf], opts: &WalkOptions<'_>) -> Result<(Vec<PathBuf>, Vec<WalkNote>), String> {
    let files = Mutex::new(Vec::new());
    let notes = Mutex::new(Vec::new());
    let venvs = Mutex::new(Vec::new());
    let plain_dirs = Mutex::new(Vec::new());
    let mut with_ignores = Vec::new();
    let mut without = Vec::new();
    for p in paths {
        // The crate reads the ignore files of the folder walked and of every folder above it.
        let hostile: Vec<WalkNote> = p.ancestors().filter_map(hostile_ignore_file).collect();
        if hostile.is_empty() {
            with_ignores.push(p.clone());
        } else {
            notes.lock().unwrap().extend(hostile);
            without.push(p.clone());
        }
    }
    let sinks = Sinks { files: &files, notes: &notes, venvs: &venvs, plain_dirs: &plain_dirs };
    if !with_ignores.is_empty() {
        walk_some(&with_ignores, opts, true, &sinks)?;
    }
    without.extend(plain_dirs.lock().unwrap().drain(..));
    if !without.is_empty() {
        walk_some(&without, opts, false, &sinks)?;
    }
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

struct Sinks<'a> {
    files: &'a Mutex<Vec<PathBuf>>,
    notes: &'a Mutex<Vec<WalkNote>>,
    venvs: &'a Mutex<Vec<PathBuf>>,
    /// Folders found with an unsafe ignore file, to walk without ignore files.
    plain_dirs: &'a Mutex<Vec<PathBuf>>,
}

/// One parallel walk of `paths`, reading ignore files or none at all.
fn walk_some(paths: &[PathBuf], opts: &WalkOptions<'_>, ignores: bool, sinks: &Sinks<'_>) -> Result<(), String> {
    let mut builder = WalkBuilder::new(&paths[0]);
    for p in &paths[1..] {
        builder.add(p);
    }
    let mut ov = OverrideBuilder::new(opts.root);
    for glob in opts.exclude {
        ov.add(&format!("!{glob}")).map_err(|e| format!("invalid exclude glob `{glob}`: {e}"))?;
    }
    let overrides = ov.build().map_err(|e| e.to_string())?;
    // Folders with an unsafe ignore file, and their notes (the filter must own what it uses).
    let hostile: std::sync::Arc<Mutex<Vec<(PathBuf, WalkNote)>>> = Default::default();
    let found = hostile.clone();
    builder
        .hidden(false)
        .git_ignore(ignores)
        .git_global(false)
        .git_exclude(ignores)
        .require_git(false)
        .ignore(ignores)
        .parents(ignores)
        .follow_links(false)
        .overrides(overrides)
        .threads(opts.threads)
        .filter_entry(move |e| {
            if !e.file_type().is_some_and(|t| t.is_dir()) || e.depth() == 0 {
                return true;
            }
            if is_skipped_dir_name(e.path()) {
                return false;
            }
            if ignores {
                if let Some(note) = hostile_ignore_file(e.path()) {
                    found.lock().unwrap().push((e.path().to_path_buf(), note));
                    return false;
                }
            }
            true
        });

    builder.build_parallel().run(|| {
        let files = sinks.files;
        let notes = sinks.notes;
        let venvs = sinks.venvs;
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
    for (dir, note) in std::mem::take(&mut *hostile.lock().unwrap()) {
        sinks.plain_dirs.lock().unwrap().push(dir);
        sinks.notes.lock().unwrap().push(note);
    }
    Ok(())
}

/// The order of `Path::cmp` (component by component) for the clean paths a walk yields, as a
/// byte comparison in which `/` sorts before every other byte: the same order, without
/// splitting both paths into components at each comparison (1% of a large run's CPU).
pub(crate) fn path_order(a: &Path, b: &Path) -> std::cmp::Ordering {
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
