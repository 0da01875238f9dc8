//! Which paths git tracks, read straight from `.git/index`.
//!
//! preflight does not run `git` on a repository it audits: a hostile repository's config can
//! make git execute commands (`core.fsmonitor`), and preflight never executes what it scans.
//! The index format (versions 2, 3 and 4, SHA-1 or SHA-256) is small enough to read directly.
//!
//! Every file of a git dir is read through `fsread` (regular files only, size-capped, never
//! blocking), and a git file never sends a read outside the git dir: a `.git` file is followed
//! only to a git dir that points back at it, a ref must be a well-formed `refs/...` name inside
//! the git dir, and only hexadecimal object names are taken from what is read.

use std::path::{Path, PathBuf};

use crate::fsread::{read_regular_capped, read_text_capped};

/// Cap for git's small files (HEAD, refs, config, `.git` files, packed-refs).
const GIT_FILE_CAP: u64 = 4 << 20;
/// Cap for `.git/index` (about 100 bytes an entry: ~2.5 million files).
const INDEX_CAP: u64 = 256 << 20;
/// Nesting of submodules followed.
const MAX_SUBMODULE_DEPTH: usize = 8;

fn read_small(path: &Path) -> Option<String> {
    read_text_capped(path, GIT_FILE_CAP).ok()
}

/// The work-tree root and git dir of the repository holding `start`, if any.
pub(crate) fn find_repo(start: &Path) -> Option<(PathBuf, PathBuf)> {
    let mut dir = Some(start);
    while let Some(d) = dir {
        let dotgit = d.join(".git");
        if dotgit.is_dir() {
            return Some((d.to_path_buf(), dotgit));
        }
        if dotgit.is_file() {
            // Worktrees and submodules: `gitdir: <path>`.
            return linked_gitdir(d).map(|g| (d.to_path_buf(), g));
        }
        dir = d.parent();
    }
    None
}

/// The git dir a `.git` file in `top` names, when that git dir belongs to `top`: a worktree's
/// git dir names the `.git` file back (its `gitdir` file), a submodule's has `top` as its
/// `core.worktree`. Anything else (a `.git` file aiming at another repository) is no repository.
fn linked_gitdir(top: &Path) -> Option<PathBuf> {
    let dotgit = top.join(".git");
    let text = read_small(&dotgit)?;
    let target = text.lines().next()?.strip_prefix("gitdir:")?.trim();
    let gitdir = top.join(target).canonicalize().ok()?;
    let me = dotgit.canonicalize().ok()?;
    let back = read_small(&gitdir.join("gitdir"))
        .and_then(|b| gitdir.join(b.trim()).canonicalize().ok())
        .is_some_and(|b| b == me);
    let worktree = || {
        let config = read_small(&gitdir.join("config"))?;
        let wt = config_value(&config, "core", "worktree")?;
        gitdir.join(wt).canonicalize().ok()
    };
    (back || worktree().is_some_and(|w| Some(w) == top.canonicalize().ok())).then_some(gitdir)
}

/// The common dir of a git dir (a worktree's shares the main repository's refs and config):
/// followed only to an ancestor of the git dir, where `git worktree add` puts it.
fn common_dir(gitdir: &Path) -> PathBuf {
    read_small(&gitdir.join("commondir"))
        .and_then(|c| gitdir.join(c.trim()).canonicalize().ok())
        .filter(|c| gitdir.canonicalize().is_ok_and(|g| g.starts_with(c)))
        .unwrap_or_else(|| gitdir.to_path_buf())
}

/// The value of `key` in `[section]` of a git config (last one wins), unquoted.
fn config_value(config: &str, section: &str, key: &str) -> Option<String> {
    let mut current = String::new();
    let mut found = None;
    for line in config.lines().map(str::trim) {
        if let Some(sec) = line.strip_prefix('[') {
            current = sec.split([']', ' ', '"']).next().unwrap_or("").to_lowercase();
        } else if current == section {
            if let Some((k, v)) = line.split_once('=') {
                if k.trim().eq_ignore_ascii_case(key) {
                    found = Some(v.trim().trim_matches('"').to_string());
                }
            }
        }
    }
    found
}

/// Tracked paths (relative to the work tree, `/`-separated), or `None` if the index cannot be
/// read (a split index, `git update-index --split-index`, is read with its shared index).
/// Submodules checked out in the work tree add their own tracked paths, under their folder.
pub(crate) fn tracked_paths(top: &Path, gitdir: &Path) -> Option<Vec<String>> {
    tracked_in(gitdir, top, 0)
}

fn tracked_in(gitdir: &Path, top: &Path, depth: usize) -> Option<Vec<String>> {
    let data = match read_regular_capped(&gitdir.join("index"), INDEX_CAP) {
        Ok(d) => d,
        // A repository with nothing staged yet has no index: it tracks nothing.
        Err(crate::fsread::ReadError::NotFound) if gitdir.is_dir() => return Some(Vec::new()),
        Err(_) => return None,
    };
    let config = read_small(&common_dir(gitdir).join("config")).unwrap_or_default();
    let hash_len = if config.to_lowercase().replace(' ', "").contains("objectformat=sha256") { 32 } else { 20 };
    let mut index = parse_index(&data, hash_len)?;
    if let Some(link) = index.link.take() {
        // A split index: the rest is in `sharedindex.<hash>`; unreadable, tracked-ness is unknown.
        let deleted = link.deleted?;
        // An all-zero hash: no shared index.
        if link.shared.bytes().all(|b| b == b'0') {
            return tracked_entries(index, top, depth);
        }
        let name = format!("sharedindex.{}", link.shared);
        let shared = [gitdir.to_path_buf(), common_dir(gitdir)]
            .iter()
            .find_map(|d| read_regular_capped(&d.join(&name), INDEX_CAP).ok())?;
        let shared = parse_index(&shared, hash_len).filter(|s| s.link.is_none())?;
        index = merge_split(index, shared, &deleted);
    }
    tracked_entries(index, top, depth)
}

/// The tracked paths of a whole index, with those of its submodules.
fn tracked_entries(index: Index, top: &Path, depth: usize) -> Option<Vec<String>> {
    let mut paths = index.paths();
    // Submodules: a gitlink entry is a folder with a repository of its own.
    let gitlinks = index.gitlinks();
    if depth < MAX_SUBMODULE_DEPTH && !gitlinks.is_empty() {
        for link in &gitlinks {
            if !is_plain_relative(link) {
                continue;
            }
            let sub = top.join(link);
            let sub_gitdir = if sub.join(".git").is_dir() { Some(sub.join(".git")) } else { linked_gitdir(&sub) };
            // A submodule whose index cannot be read makes tracked-ness unknown.
            if let Some(g) = sub_gitdir {
                paths.extend(tracked_in(&g, &sub, depth + 1)?.into_iter().map(|p| format!("{link}/{p}")));
            }
        }
        paths.sort();
        paths.dedup();
    }
    Some(paths)
}

/// A relative path without `.`, `..` or empty components.
fn is_plain_relative(p: &str) -> bool {
    !p.is_empty() && p.split('/').all(|c| !c.is_empty() && c != "." && c != "..")
}

/// What preflight needs of an index.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Index {
    /// Every entry, in order: path and mode (sparse-index folders left out).
    pub entries: Vec<(String, u32)>,
    /// A split index (`git update-index --split-index`): most entries are in a shared index.
    pub link: Option<Link>,
}

/// A split index's `link` extension.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Link {
    /// The shared index's hash (`sharedindex.<hex>`).
    pub shared: String,
    /// Entries of the shared index deleted in this one, or `None` when unreadable.
    pub deleted: Option<Vec<bool>>,
}

const GITLINK: u32 = 0o160000;

impl Index {
    /// Tracked files, without duplicates (an unmerged path has several entries).
    pub(crate) fn paths(&self) -> Vec<String> {
        let mut p: Vec<String> = self
            .entries
            .iter()
            .filter(|(p, m)| m & 0o170000 != GITLINK && !p.is_empty())
            .map(|(p, _)| p.clone())
            .collect();
        p.dedup();
        p
    }

    /// Submodules (gitlink entries).
    pub(crate) fn gitlinks(&self) -> Vec<String> {
        self.entries.iter().filter(|(p, m)| m & 0o170000 == GITLINK && !p.is_empty()).map(|(p, _)| p.clone()).collect()
    }
}

/// A split index with its shared index: the shared entries not deleted, then this index's own
/// (entries replacing a shared one have no name here and keep the shared one's).
fn merge_split(split: Index, shared: Index, deleted: &[bool]) -> Index {
    let mut entries: Vec<(String, u32)> = shared
        .entries
        .into_iter()
        .enumerate()
        .filter(|(i, _)| !deleted.get(*i).copied().unwrap_or(false))
        .map(|(_, e)| e)
        .collect();
    entries.extend(split.entries.into_iter().filter(|(p, _)| !p.is_empty()));
    entries.sort();
    Index { entries, link: None }
}

/// An EWAH bitmap as git writes it (`ewah/ewah_io.c`): bit count, word count, 64-bit words
/// (a run-length word, then literal words), the last run-length word's position; big-endian.
fn parse_ewah(data: &[u8]) -> Option<Vec<bool>> {
    let bits = be32(data, 0)? as usize;
    let words = be32(data, 4)? as usize;
    let word =
        |i: usize| -> Option<u64> { Some(u64::from_be_bytes(data.get(8 + i * 8..16 + i * 8)?.try_into().ok()?)) };
    let mut out = Vec::with_capacity(bits.min(1 << 24));
    let mut i = 0;
    while i < words {
        let rlw = word(i)?;
        i += 1;
        let run = ((rlw >> 1) & 0xffff_ffff) as usize;
        let literals = (rlw >> 33) as usize;
        if out.len() + run * 64 > bits + 64 {
            return None;
        }
        out.extend(std::iter::repeat_n(rlw & 1 == 1, run * 64));
        for _ in 0..literals {
            let w = word(i)?;
            i += 1;
            out.extend((0..64).map(|b| w >> b & 1 == 1));
        }
    }
    out.truncate(bits);
    Some(out)
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

pub(crate) fn parse_index(data: &[u8], hash_len: usize) -> Option<Index> {
    if data.get(0..4)? != b"DIRC" {
        return None;
    }
    let version = be32(data, 4)?;
    if !(2..=4).contains(&version) {
        return None;
    }
    let count = be32(data, 8)? as usize;
    let mut pos = 12;
    let mut entries = Vec::with_capacity(count.min(1 << 20));
    let mut prev: Vec<u8> = Vec::new();
    for _ in 0..count {
        let entry_start = pos;
        let mode = be32(data, pos + 24)?;
        let flags_at = pos + 40 + hash_len;
        let flags = u16::from_be_bytes(data.get(flags_at..flags_at + 2)?.try_into().ok()?);
        pos = flags_at + 2;
        if version >= 3 && flags & 0x4000 != 0 {
            pos += 2;
        }
        let path = if version == 4 {
            // Prefix compression: a varint of bytes to drop from the previous path, then a
            // NUL-terminated suffix.
            let mut byte = *data.get(pos)?;
            pos += 1;
            let mut strip = u64::from(byte & 0x7f);
            while byte & 0x80 != 0 {
                byte = *data.get(pos)?;
                pos += 1;
                strip = ((strip + 1) << 7) | u64::from(byte & 0x7f);
            }
            let keep = prev.len().checked_sub(usize::try_from(strip).ok()?)?;
            let end = pos + data.get(pos..)?.iter().position(|&b| b == 0)?;
            let mut p = prev[..keep].to_vec();
            p.extend_from_slice(&data[pos..end]);
            pos = end + 1;
            p
        } else {
            let end = pos + data.get(pos..)?.iter().position(|&b| b == 0)?;
            let p = data[pos..end].to_vec();
            // Entries are NUL-padded to a multiple of 8 bytes (at least one NUL).
            let len = end - entry_start;
            pos = entry_start + (len + 8) / 8 * 8;
            p
        };
        // Sparse-index directory entries (mode 040000) are not files; names that are not UTF-8 keep
        // their bytes, as the walk's do (`fsread::bytes_text`). The position in the
        // list is kept (a split index's bitmaps count every entry).
        let dir = mode & 0o170000 == 0o040000;
        entries.push((if dir { String::new() } else { crate::fsread::bytes_text(&path) }, mode));
        prev = path;
    }
    // Extensions: a 4-byte signature and a 32-bit size each, up to the trailing checksum.
    let mut link = None;
    while pos + 8 <= data.len().saturating_sub(hash_len) {
        let size = be32(data, pos + 4)? as usize;
        if &data[pos..pos + 4] == b"link" {
            let ext = data.get(pos + 8..pos + 8 + size)?;
            let shared: String = ext.get(..hash_len)?.iter().map(|b| format!("{b:02x}")).collect();
            link = Some(Link { shared, deleted: parse_ewah(&ext[hash_len..]) });
        }
        pos = pos.checked_add(8 + size)?;
    }
    Some(Index { entries, link })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry_v2(path: &str) -> Vec<u8> {
        let mut e = vec![0u8; 40];
        e[24..28].copy_from_slice(&0o100644u32.to_be_bytes());
        e.extend_from_slice(&[0u8; 20]);
        e.extend_from_slice(&(path.len() as u16).to_be_bytes());
        e.extend_from_slice(path.as_bytes());
        let len = e.len();
        e.resize((len + 8) / 8 * 8, 0);
        e
    }

    #[test]
    fn reads_v2_index() {
        let mut data = b"DIRC".to_vec();
        data.extend_from_slice(&2u32.to_be_bytes());
        data.extend_from_slice(&2u32.to_be_bytes());
        data.extend(entry_v2(".env"));
        data.extend(entry_v2("backend/app/settings.py"));
        assert_eq!(parse_index(&data, 20).unwrap().paths(), vec![".env", "backend/app/settings.py"]);
    }

    #[test]
    fn reads_ewah_bitmaps() {
        // 70 bits: a run of 64 ones, then one literal word with bits 0 and 2 set.
        let mut data = 70u32.to_be_bytes().to_vec();
        data.extend_from_slice(&2u32.to_be_bytes());
        data.extend_from_slice(&(1u64 | 1 << 1 | 1 << 33).to_be_bytes());
        data.extend_from_slice(&0b101u64.to_be_bytes());
        data.extend_from_slice(&0u32.to_be_bytes());
        let bits = parse_ewah(&data).unwrap();
        assert_eq!(bits.len(), 70);
        assert!(bits[..64].iter().all(|&b| b));
        assert_eq!(&bits[64..], &[true, false, true, false, false, false]);
        assert_eq!(parse_ewah(&data[..12]), None);
    }

    /// Runs git in `dir` with hooks and the user's config out of the way.
    fn git(dir: &Path, args: &[&str]) -> Vec<u8> {
        let o = std::process::Command::new("git")
            .args(["-c", "user.email=t@example.com", "-c", "user.name=t", "-c", "init.defaultBranch=main"])
            .args(args)
            .current_dir(dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", dir)
            .output()
            .expect("git");
        assert!(o.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&o.stderr));
        o.stdout
    }

    /// What git itself lists as tracked: `git ls-files -z`, sorted.
    fn ls_files(dir: &Path) -> Vec<String> {
        let out = git(dir, &["ls-files", "-z"]);
        let mut v: Vec<String> =
            out.split(|&b| b == 0).filter(|p| !p.is_empty()).map(|p| String::from_utf8_lossy(p).into_owned()).collect();
        v.sort();
        v.dedup();
        v
    }

    fn write(dir: &Path, rel: &str, body: &str) {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    }

    /// A split index as git writes it in each shape (`--split-index`, `core.splitIndex`, index
    /// version 4's prefix compression, a SHA-256 repository), after additions, changes that
    /// replace shared entries, deletions and renames, and a re-split that writes a new shared
    /// index: preflight's reader lists what `git ls-files` lists.
    #[test]
    fn split_indexes_read_as_git_lists_them() {
        let shapes: &[(&str, &[&str], &[&str])] = &[
            ("update-index", &[], &["update-index", "--split-index"]),
            ("core.splitIndex", &[], &["config", "core.splitIndex", "true"]),
            ("version 4", &[], &["config", "core.splitIndex", "true"]),
            ("sha256", &["--object-format=sha256"], &["config", "core.splitIndex", "true"]),
        ];
        for &(name, init, split) in shapes {
            let tmp = tempfile::tempdir().unwrap();
            let dir = tmp.path();
            let mut init_args = vec!["init", "-q"];
            init_args.extend_from_slice(init);
            git(dir, &init_args);
            for i in 0..40 {
                write(dir, &format!("app/m{i:02}/models.py"), &format!("x = {i}\n"));
            }
            write(dir, ".env", "A=1\n");
            write(dir, "web/src/caf\u{e9} views.py", "x = 1\n");
            git(dir, &["add", "-A"]);
            git(dir, &["commit", "-qm", "one"]);
            if name == "version 4" {
                git(dir, &["update-index", "--index-version", "4"]);
            }
            git(dir, split);
            // Keep what the split index holds apart from the shared one (no re-split yet).
            let keep = ["-c", "splitIndex.maxPercentChange=100"];
            let step = |args: &[&str]| {
                let mut a = keep.to_vec();
                a.extend_from_slice(args);
                git(dir, &a);
            };
            write(dir, "app/m03/models.py", "x = 'changed'\n");
            write(dir, "app/new/views.py", "y = 2\n");
            write(dir, "web/.env", "B=2\n");
            step(&["add", "-A"]);
            step(&["rm", "-q", "--cached", "app/m07/models.py", ".env"]);
            step(&["mv", "app/m11/models.py", "app/m11/renamed.py"]);
            step(&["update-index", "--split-index"]);
            let gitdir = dir.join(".git");
            let shared = std::fs::read_dir(&gitdir)
                .unwrap()
                .flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with("sharedindex."));
            assert!(shared, "{name}: git wrote no shared index");
            let data = std::fs::read(gitdir.join("index")).unwrap();
            let hash_len = if name == "sha256" { 32 } else { 20 };
            assert!(parse_index(&data, hash_len).unwrap().link.is_some(), "{name}: not a split index");
            let mut ours = tracked_paths(dir, &gitdir).unwrap_or_else(|| panic!("{name}: unread"));
            ours.sort();
            assert_eq!(ours, ls_files(dir), "{name}");
            // A change that rewrites the shared index (more than 20% of it replaced): the split
            // index now links to a new `sharedindex.<hash>`.
            for i in 12..30 {
                write(dir, &format!("app/m{i:02}/models.py"), "x = 'again'\n");
            }
            git(dir, &["-c", "splitIndex.maxPercentChange=20", "add", "-A"]);
            let mut ours = tracked_paths(dir, &gitdir).unwrap_or_else(|| panic!("{name}: unread after re-split"));
            ours.sort();
            assert_eq!(ours, ls_files(dir), "{name}, re-split");
            // A linked worktree: its own split index, beside the common dir.
            let wt = dir.join("wt");
            git(dir, &["worktree", "add", "-q", wt.to_str().unwrap()]);
            write(&wt, "wt_only/settings.py", "DEBUG = False\n");
            step(&["-C", wt.to_str().unwrap(), "add", "wt_only/settings.py"]);
            step(&["-C", wt.to_str().unwrap(), "update-index", "--split-index"]);
            let (_, wt_gitdir) = find_repo(&wt).unwrap();
            let mut ours = tracked_paths(&wt, &wt_gitdir).unwrap_or_else(|| panic!("{name}: worktree unread"));
            ours.sort();
            assert_eq!(ours, ls_files(&wt), "{name}, worktree");
        }
    }

    #[test]
    fn rejects_garbage() {
        assert!(parse_index(b"DIRC\0\0\0\x02\0\0\0\x05", 20).is_none());
        assert!(parse_index(b"nope", 20).is_none());
    }
}

/// The repository's remote URL (origin, else the first remote) without credentials, the HEAD
/// commit and the branch, read from the git dir's files (a worktree's refs and config are in
/// its common dir). Only a well-formed branch name and a hexadecimal commit are taken.
pub(crate) fn provenance(gitdir: &Path) -> Option<(String, Option<String>, Option<String>)> {
    let common = common_dir(gitdir);
    let config = read_small(&gitdir.join("config")).or_else(|| read_small(&common.join("config")))?;
    let mut remotes: Vec<(String, String)> = Vec::new();
    let mut section = String::new();
    for line in config.lines().map(str::trim) {
        if line.starts_with('[') {
            section = line.to_string();
        } else if let Some(url) = line.strip_prefix("url").map(str::trim_start).and_then(|l| l.strip_prefix('=')) {
            if section.starts_with("[remote") {
                remotes.push((section.clone(), url.trim().to_string()));
            }
        }
    }
    let url = remotes
        .iter()
        .find(|(s, _)| s.contains("\"origin\""))
        .or(remotes.first())
        .map(|(_, u)| strip_credentials(u))?;
    let head = read_small(&gitdir.join("HEAD"))?;
    let head = head.trim();
    let (rev, branch) = match head.strip_prefix("ref:").map(str::trim) {
        Some(r) if is_ref_name(r) => (resolve_ref(gitdir, &common, r), Some(r.to_string())),
        Some(_) => (None, None),
        None => (Some(head.to_string()), None),
    };
    Some((url, rev.filter(|r| is_object_name(r)), branch))
}

/// A branch or other ref as git writes one: `refs/...`, components that do not start with a
/// dot, no `..`, no control characters, spaces or the characters git forbids.
fn is_ref_name(r: &str) -> bool {
    r.starts_with("refs/")
        && r.len() <= 1024
        && r.split('/').all(|c| !c.is_empty() && !c.starts_with('.') && !c.ends_with(".lock"))
        && !r.contains("..")
        && !r.contains("@{")
        && !r.bytes().any(|b| b < 0x20 || b == 0x7f || b" ~^:?*[\\".contains(&b))
}

/// 40 (SHA-1) or 64 (SHA-256) hexadecimal digits.
fn is_object_name(s: &str) -> bool {
    (s.len() == 40 || s.len() == 64) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The commit a ref names: its file in the git dir or the common dir (only when it resolves
/// inside that dir: no symlink out), else `packed-refs`.
fn resolve_ref(gitdir: &Path, common: &Path, r: &str) -> Option<String> {
    for dir in [gitdir, common] {
        let path = dir.join(r);
        let inside = match (path.canonicalize(), dir.canonicalize()) {
            (Ok(p), Ok(d)) => p.starts_with(d),
            _ => false,
        };
        if inside {
            if let Some(text) = read_small(&path) {
                return Some(text.trim().to_string());
            }
        }
    }
    let packed = read_small(&common.join("packed-refs"))?;
    packed
        .lines()
        .find(|l| l.ends_with(&format!(" {r}")))
        .and_then(|l| l.split_once(' '))
        .map(|(sha, _)| sha.to_string())
}

/// `https://user:token@host/x` → `https://host/x`; `git@host:o/r.git` → `https://host/o/r`.
/// The user information ends at the last `@` before the path (a password may hold an `@`, or
/// even a `/`), and the query and fragment are dropped (`?access_token=…`).
fn strip_credentials(url: &str) -> String {
    let url = url.split(['?', '#']).next().unwrap_or(url);
    if url.starts_with('/') {
        return format!("file://{url}");
    }
    if let Some((scheme, rest)) = url.split_once("://") {
        let authority_end = rest.find('/').unwrap_or(rest.len());
        let host_from = match rest[..authority_end].rfind('@') {
            Some(at) => at + 1,
            // No `@` before the first `/`, but one after it while the authority holds a `:` that
            // is no port: a password with a `/` in it. Cut at the last `@`.
            None if rest[..authority_end]
                .split_once(':')
                .is_some_and(|(_, p)| !p.bytes().all(|b| b.is_ascii_digit())) =>
            {
                rest.rfind('@').map_or(0, |at| at + 1)
            }
            None => 0,
        };
        return format!("{scheme}://{}", &rest[host_from..]);
    }
    if let Some((user_host, path)) = url.split_once(':') {
        // scp-like `[user@]host:path`; a user part with its own `:` (`user:pass@host:path`) ends
        // at the last `@` before the path.
        let (user_host, path) = match url[..url.find('/').unwrap_or(url.len())].rfind('@') {
            Some(at) => url[at + 1..].split_once(':').unwrap_or((user_host, path)),
            None => (user_host, path),
        };
        let host = user_host.rsplit('@').next().unwrap_or(user_host);
        return format!("https://{host}/{}", path.trim_end_matches(".git"));
    }
    url.to_string()
}

#[cfg(test)]
mod provenance_tests {
    use super::strip_credentials;

    #[test]
    fn credentials_never_reach_the_report() {
        assert_eq!(
            strip_credentials("https://x-access-token:ghs_abc@github.com/o/r.git"),
            "https://github.com/o/r.git"
        );
        assert_eq!(strip_credentials("git@github.com:o/r.git"), "https://github.com/o/r");
        assert_eq!(strip_credentials("https://github.com/o/r"), "https://github.com/o/r");
        assert_eq!(strip_credentials("/srv/git/r.git"), "file:///srv/git/r.git");
    }

    #[test]
    fn a_password_with_an_at_sign_or_a_token_in_the_query_is_removed() {
        assert_eq!(strip_credentials("https://user:p@ss@host.example/x.git"), "https://host.example/x.git");
        assert_eq!(strip_credentials("https://u:p@s@s@host/o/r"), "https://host/o/r");
        assert_eq!(strip_credentials("https://user:pa/ss@host/o/r.git"), "https://host/o/r.git");
        assert_eq!(strip_credentials("https://host:8443/o/r@v1"), "https://host:8443/o/r@v1");
        assert_eq!(strip_credentials("https://host/o/r.git?access_token=s3cr3t"), "https://host/o/r.git");
        assert_eq!(strip_credentials("https://host/o/r.git#tok3n"), "https://host/o/r.git");
        assert_eq!(strip_credentials("user:p@ss@host:o/r.git"), "https://host/o/r");
        assert_eq!(strip_credentials("git@github.com:o/r.git?token=abc"), "https://github.com/o/r");
    }
}
