//! `--diff-base REV`: which lines changed since REV, and the tree at REV for a second analysis.
//!
//! This is the one place preflight runs git, at the user's request, and only to read objects:
//! `git rev-parse` to resolve REV and `git cat-file --batch` for the files at REV, without
//! filters or textconv. The work tree is never handed to git: `git diff` would run the
//! repository's `filter.<x>.clean` commands (from `.git/config` and `.gitattributes`) on work
//! tree files, so the comparison with the work tree is made here, on the files with findings.
//! fsmonitor and hooks are switched off all the same.

use std::collections::HashMap;
use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Changed lines of one file: all of it (new or untracked), or 1-based ranges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Changed {
    All,
    Ranges(Vec<(usize, usize)>),
}

impl Changed {
    pub fn contains(&self, line: usize) -> bool {
        match self {
            Changed::All => true,
            Changed::Ranges(r) => r.iter().any(|&(a, b)| a <= line && line <= b),
        }
    }
}

fn git_command(top: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.arg("-C")
        .arg(top)
        .args(["-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null", "-c", "diff.external="])
        .args(["-c", "core.attributesFile=/dev/null"])
        .env("GIT_EXTERNAL_DIFF", "")
        .env("GIT_PAGER", "cat")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_TERMINAL_PROMPT", "0")
        // A partial clone would fetch missing objects from its remote: no network, no
        // transport at all (a missing object counts as not in REV).
        .env("GIT_NO_LAZY_FETCH", "1")
        .args(["-c", "protocol.allow=never"])
        .stdin(Stdio::null());
    cmd
}

fn git(top: &Path, args: &[&str]) -> Result<String, String> {
    let out = git_command(top).args(args).output().map_err(|e| format!("--diff-base needs git: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(format!("git {}: {}", args.join(" "), err.lines().next().unwrap_or("failed")));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The top of the repository holding `scanned` (the folder or file checked; else `root`) and
/// the commit `rev` names there. A run from a folder above the repository (`preflight check
/// repo --diff-base main`) finds the repository below.
pub fn resolve(root: &Path, scanned: &Path, rev: &str) -> Result<(PathBuf, String), String> {
    let (top, _) = crate::gitindex::find_repo(scanned)
        .or_else(|| crate::gitindex::find_repo(root))
        .ok_or("--diff-base: not inside a git repository")?;
    if rev.starts_with('-') {
        return Err(format!("--diff-base: `{rev}` is not a revision"));
    }
    let commit = git(&top, &["rev-parse", "--verify", "--quiet", "--end-of-options", &format!("{rev}^{{commit}}")])
        .map_err(|_| format!("--diff-base: `{rev}` is not a commit in this repository"))?;
    let top = top.canonicalize().unwrap_or(top);
    Ok((top, commit.trim().to_string()))
}

/// Lines changed since `commit` in the work tree (committed, staged or not) of each of `paths`
/// (relative to `root`), in the repository whose top is `top`: a file that the commit does not
/// hold (new, untracked) changed whole.
pub fn changed_since(
    root: &Path,
    top: &Path,
    commit: &str,
    paths: &[&str],
) -> Result<HashMap<String, Changed>, String> {
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    // Each path relative to the work tree's top, as git names it at REV.
    let mut asked: Vec<(String, String)> = Vec::new();
    let mut changed: HashMap<String, Changed> = HashMap::new();
    for &p in paths {
        match root.join(p).strip_prefix(top).ok().and_then(|r| r.to_str()) {
            Some(r) if !r.contains('\n') => asked.push((p.to_string(), r.replace('\\', "/"))),
            _ => {
                changed.insert(p.to_string(), Changed::All);
            }
        }
    }
    if asked.is_empty() {
        return Ok(changed);
    }
    let blobs = blobs_at(top, commit, asked.iter().map(|(_, r)| r.as_str()))?;
    for ((p, _), blob) in asked.into_iter().zip(blobs) {
        let c = match blob {
            None => Changed::All,
            Some(old) => {
                let new = crate::fsread::read_regular_capped(&root.join(&p), crate::config::MAX_FILE_SIZE_CEILING)
                    .map_err(|e| format!("--diff-base: {p}: {e}"))?;
                Changed::Ranges(new_lines(&old, &new))
            }
        };
        changed.insert(p, c);
    }
    Ok(changed)
}

/// The content of each `path` at `commit` (`None` where the commit has no such file), raw: as
/// committed, no filter or textconv applied.
fn blobs_at<'a>(
    top: &Path,
    commit: &str,
    paths: impl Iterator<Item = &'a str>,
) -> Result<Vec<Option<Vec<u8>>>, String> {
    let mut input = Vec::new();
    let mut n = 0;
    for p in paths {
        input.extend_from_slice(format!("{commit}:{p}\n").as_bytes());
        n += 1;
    }
    let mut child = git_command(top)
        .args(["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("--diff-base needs git: {e}"))?;
    let mut stdin = child.stdin.take().expect("piped");
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let mut out = std::io::BufReader::new(child.stdout.take().expect("piped"));
    let mut blobs = Vec::with_capacity(n);
    let broken = || "--diff-base: unexpected output from git cat-file".to_string();
    for _ in 0..n {
        let mut header = String::new();
        out.read_line(&mut header).map_err(|e| format!("--diff-base: git cat-file: {e}"))?;
        let fields: Vec<&str> = header.split_whitespace().collect();
        match fields.as_slice() {
            [_, "blob", size] => {
                let size: usize = size.parse().map_err(|_| broken())?;
                let mut blob = vec![0; size + 1];
                out.read_exact(&mut blob).map_err(|_| broken())?;
                blob.pop();
                blobs.push(Some(blob));
            }
            [_, kind, size] => {
                // Not a file at REV (a folder or a submodule there): changed whole.
                let size: u64 = size.parse().map_err(|_| broken())?;
                std::io::copy(&mut (&mut out).take(size + 1), &mut std::io::sink()).map_err(|_| broken())?;
                let _ = kind;
                blobs.push(None);
            }
            [_, "missing"] | [_, "ambiguous"] => blobs.push(None),
            _ => return Err(broken()),
        }
    }
    let _ = writer.join();
    let _ = child.wait();
    Ok(blobs)
}

/// A folder holding a commit's files, removed when dropped.
pub struct BaseTree {
    pub dir: PathBuf,
}

impl Drop for BaseTree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Whether a path from a git tree can be written under a folder: relative, no `.`, `..` or
/// `.git` component (git refuses such trees too; a crafted one must not write elsewhere).
fn safe_tree_path(p: &[u8]) -> bool {
    !p.is_empty()
        && !p.starts_with(b"/")
        && p.split(|&c| c == b'/').all(|c| !c.is_empty() && c != b"." && c != b".." && !c.eq_ignore_ascii_case(b".git"))
}

/// Writes the regular files of `commit` (each at most `max_size` bytes; symlinks and
/// submodules left out) into a new temporary folder, with an index of the commit in its
/// `.git/index`, so that an analysis of the folder sees the tree as it was, tracked files
/// included. Paths are read NUL-separated (`ls-tree -z`), never quoted; blobs raw, no filter.
pub fn materialize(top: &Path, commit: &str, max_size: u64) -> Result<BaseTree, String> {
    let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let dir = std::env::temp_dir().join(format!("preflight-base-{}-{stamp}", std::process::id()));
    std::fs::create_dir(&dir).map_err(|e| format!("--diff-base: {}: {e}", dir.display()))?;
    let base = BaseTree { dir };
    let fail = |e: std::io::Error| format!("--diff-base: writing the tree of {commit}: {e}");
    std::fs::create_dir(base.dir.join(".git")).map_err(fail)?;
    let out = git_command(top)
        .args(["ls-tree", "-r", "-z", "-l", "--full-tree", commit])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .output()
        .map_err(|e| format!("--diff-base needs git: {e}"))?;
    if !out.status.success() {
        return Err(format!("--diff-base: git ls-tree {commit} failed"));
    }
    // `<mode> <type> <object> <size>\t<path>`, NUL-terminated.
    let mut wanted: Vec<(String, Vec<u8>)> = Vec::new();
    for entry in out.stdout.split(|&c| c == 0).filter(|e| !e.is_empty()) {
        let Some(tab) = entry.iter().position(|&c| c == b'\t') else { continue };
        let (meta, path) = (String::from_utf8_lossy(&entry[..tab]), &entry[tab + 1..]);
        let f: Vec<&str> = meta.split_whitespace().collect();
        let [mode, "blob", object, size] = f.as_slice() else { continue };
        let small = size.parse::<u64>().is_ok_and(|n| n <= max_size);
        if (*mode == "100644" || *mode == "100755") && small && safe_tree_path(path) {
            wanted.push((object.to_string(), path.to_vec()));
        }
    }
    let mut child = git_command(top)
        .args(["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("--diff-base needs git: {e}"))?;
    let input: Vec<u8> = wanted.iter().flat_map(|(o, _)| format!("{o}\n").into_bytes()).collect();
    let mut stdin = child.stdin.take().expect("piped");
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let mut out = std::io::BufReader::new(child.stdout.take().expect("piped"));
    let broken = || "--diff-base: unexpected output from git cat-file".to_string();
    for (_, path) in &wanted {
        let mut header = String::new();
        out.read_line(&mut header).map_err(|e| format!("--diff-base: git cat-file: {e}"))?;
        let fields: Vec<&str> = header.split_whitespace().collect();
        let size: u64 = match fields.as_slice() {
            [_, _, size] => size.parse().map_err(|_| broken())?,
            // A partial clone's missing blob: the file is left out (its findings count as new).
            [_, "missing"] => continue,
            _ => return Err(broken()),
        };
        let mut blob = Vec::with_capacity(size as usize);
        (&mut out).take(size + 1).read_to_end(&mut blob).map_err(|_| broken())?;
        blob.pop();
        #[cfg(unix)]
        let rel = {
            use std::os::unix::ffi::OsStrExt;
            std::path::PathBuf::from(std::ffi::OsStr::from_bytes(path))
        };
        #[cfg(not(unix))]
        let rel = std::path::PathBuf::from(String::from_utf8_lossy(path).into_owned());
        let target = base.dir.join(rel);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(fail)?;
        }
        // create_new: a path written twice (or through anything already there) is an error.
        let mut file = std::fs::OpenOptions::new().write(true).create_new(true).open(&target).map_err(fail)?;
        file.write_all(&blob).map_err(fail)?;
    }
    let _ = writer.join();
    let _ = child.wait();
    // The commit's index, so committed files are known as committed (a `.env` at REV).
    let index = base.dir.join(".git").join("index");
    let st = git_command(top)
        .args(["-c", "core.splitIndex=false", "-c", "index.sparse=false", "read-tree", commit])
        .env("GIT_INDEX_FILE", &index)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| format!("--diff-base needs git: {e}"))?;
    if !st.success() {
        return Err(format!("--diff-base: git read-tree {commit} failed"));
    }
    Ok(base)
}

/// Which current findings are new since the base: those on changed lines (as before), and
/// those of a kind the base had fewer of. A kind is (rule, path, what the fingerprint hashes
/// besides the occurrence index: the flagged line's normalised text or the rule's key), so a
/// finding on an unchanged line that the change brought into effect (a `DEBUG = False`
/// override deleted from `prod.py` puts `base.py`'s `DEBUG = True` in effect; a removed
/// `SECURE_SSL_REDIRECT`) is new, while one the base already had is not. `kind` gives a
/// finding's kind, paths relative to the repository's top.
pub fn select_new<K: std::hash::Hash + Eq>(current: &[(K, bool)], base: impl IntoIterator<Item = K>) -> Vec<bool> {
    let mut at_base: HashMap<K, usize> = HashMap::new();
    for k in base {
        *at_base.entry(k).or_insert(0) += 1;
    }
    // Findings on unchanged lines of a kind: new beyond the base's count of that kind.
    let mut unchanged: HashMap<&K, usize> = HashMap::new();
    current
        .iter()
        .map(|(k, on_changed_line)| {
            if *on_changed_line {
                return true;
            }
            let n = unchanged.entry(k).or_insert(0);
            *n += 1;
            *n > at_base.get(k).copied().unwrap_or(0)
        })
        .collect()
}

/// The 1-based line ranges of `new` that a shortest edit script from `old` inserts (Myers'
/// algorithm, as `git diff` uses by default; line ends `\n` or `\r\n`, so a CRLF checkout of an
/// LF blob is unchanged; a last line without a line end differs, as for git). Common lines at
/// both ends are matched first. When the files differ by more than 4,000 edits (32 MB of search
/// state) the lines between the common ends all count as changed (more findings shown, never
/// fewer).
pub fn new_lines(old: &[u8], new: &[u8]) -> Vec<(usize, usize)> {
    let split = |b: &'_ [u8]| -> Vec<Vec<u8>> {
        let mut v: Vec<Vec<u8>> =
            b.split(|&c| c == b'\n').map(|l| l.strip_suffix(b"\r").unwrap_or(l).to_vec()).collect();
        match v.last_mut() {
            Some(l) if l.is_empty() => {
                v.pop();
            }
            // A last line without a line end differs from the same line with one, as for git;
            // no line holds a `\n`, so it marks the difference.
            Some(l) => l.push(b'\n'),
            None => {}
        }
        v
    };
    let (a, b) = (split(old), split(new));
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..].iter().rev().zip(b[prefix..].iter().rev()).take_while(|(x, y)| x == y).count();
    let (a, b) = (&a[prefix..a.len() - suffix], &b[prefix..b.len() - suffix]);
    // Lines as numbers, compared in one step.
    let mut ids: HashMap<&[u8], u32> = HashMap::new();
    let mut numbered = [Vec::with_capacity(a.len()), Vec::with_capacity(b.len())];
    for (lines, out) in [a, b].into_iter().zip(numbered.iter_mut()) {
        for l in lines {
            let n = ids.len() as u32;
            out.push(*ids.entry(l.as_slice()).or_insert(n));
        }
    }
    let [a, b] = numbered;
    let changed = inserted(&a, &b, 4_000).unwrap_or_else(|| vec![true; b.len()]);
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    for (k, _) in changed.iter().enumerate().filter(|(_, c)| **c) {
        let line = prefix + k + 1;
        match ranges.last_mut() {
            Some((_, end)) if *end + 1 == line => *end = line,
            _ => ranges.push((line, line)),
        }
    }
    ranges
}

/// For each line of `b`, whether a shortest edit script from `a` to `b` inserts it; `None` when
/// that script has more than `max_d` edits.
fn inserted(a: &[u32], b: &[u32], max_d: usize) -> Option<Vec<bool>> {
    let (n, m) = (a.len() as isize, b.len() as isize);
    let mut changed = vec![false; b.len()];
    if n == 0 || m == 0 {
        return Some(vec![true; b.len()]);
    }
    let max = (n + m) as usize;
    let off = max as isize + 1;
    let mut v = vec![0isize; 2 * max + 3];
    // trace[d]: v[-(d+1)..=(d+1)] (every other diagonal) as it was before round d.
    let mut trace: Vec<Vec<i32>> = Vec::new();
    let mut found = None;
    'rounds: for d in 0..=max.min(max_d) as isize {
        // Round d reads v at k - 1 and k + 1 for k in -d..=d step 2: the d + 2 diagonals of the
        // other parity.
        trace.push(v[(off - d - 1) as usize..=(off + d + 1) as usize].iter().step_by(2).map(|&x| x as i32).collect());
        let mut k = -d;
        while k <= d {
            let mut x = if k == -d || (k != d && v[(off + k - 1) as usize] < v[(off + k + 1) as usize]) {
                v[(off + k + 1) as usize]
            } else {
                v[(off + k - 1) as usize] + 1
            };
            let mut y = x - k;
            while x < n && y < m && a[x as usize] == b[y as usize] {
                x += 1;
                y += 1;
            }
            v[(off + k) as usize] = x;
            if x >= n && y >= m {
                found = Some(d);
                break 'rounds;
            }
            k += 2;
        }
    }
    let d_end = found?;
    let (mut x, mut y) = (n, m);
    for d in (1..=d_end).rev() {
        let t = &trace[d as usize];
        let at = |k: isize| t[((k + d + 1) / 2) as usize] as isize;
        let k = x - y;
        let prev_k = if k == -d || (k != d && at(k - 1) < at(k + 1)) { k + 1 } else { k - 1 };
        let prev_x = at(prev_k);
        let prev_y = prev_x - prev_k;
        while x > prev_x && y > prev_y {
            x -= 1;
            y -= 1;
        }
        if x == prev_x {
            // Down: b[prev_y] inserted.
            changed[prev_y as usize] = true;
        }
        x = prev_x;
        y = prev_y;
    }
    Some(changed)
}

#[cfg(test)]
mod tests {
    use super::new_lines;
    use super::{safe_tree_path, select_new, BaseTree};

    #[test]
    fn new_findings_are_changed_lines_and_kinds_the_base_had_fewer_of() {
        // (kind, on a changed line)
        let current = [("debug", false), ("todo", false), ("todo", true), ("cache", false), ("todo", false)];
        assert_eq!(select_new(&current, ["todo", "cache"]), vec![true, false, true, false, true]);
        assert_eq!(select_new(&current, ["debug", "todo", "todo", "cache"]), vec![false, false, true, false, false]);
    }

    #[test]
    fn tree_paths_that_would_leave_the_folder_are_refused() {
        for bad in [&b"../x"[..], b"/etc/passwd", b"a/../../x", b".git/hooks/x", b"a/.GIT/x", b"a//b", b"./a", b""] {
            assert!(!safe_tree_path(bad), "{}", String::from_utf8_lossy(bad));
        }
        assert!(safe_tree_path("café views.py".as_bytes()));
        assert!(safe_tree_path(b"a/.gitignore"));
    }

    #[test]
    fn the_base_tree_is_removed_when_dropped() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("tree");
        std::fs::create_dir_all(dir.join("a/b")).unwrap();
        std::fs::write(dir.join("a/b/c.py"), "x").unwrap();
        drop(BaseTree { dir: dir.clone() });
        assert!(!dir.exists());
    }

    #[test]
    fn new_lines_are_the_lines_not_in_the_old_file() {
        assert_eq!(new_lines(b"a\nb\nc\n", b"a\nb\nc\n"), vec![]);
        assert_eq!(new_lines(b"a\nb\nc\n", b"a\nX\nb\nc\nY\n"), vec![(2, 2), (5, 5)]);
        assert_eq!(new_lines(b"a\nb\nc\n", b"a\nB\nc\n"), vec![(2, 2)]);
        assert_eq!(new_lines(b"a\nb\n", b"a\r\nb\r\n"), vec![]);
        assert_eq!(new_lines(b"", b"x\ny\n"), vec![(1, 2)]);
        assert_eq!(new_lines(b"a\nb\nc\nd\n", b"a\nd\n"), vec![]);
        assert_eq!(new_lines(b"a\nb\n", b"b\na\nb\n"), vec![(1, 1)]);
        // A line end added to the last line changes it, as for git.
        assert_eq!(new_lines(b"a\nb", b"a\nb\n"), vec![(2, 2)]);
        // Myers' shortest edit script: a moved block is one deletion and one insertion.
        assert_eq!(new_lines(b"x\na\nb\nc\ny\n", b"x\nc\na\nb\ny\n"), vec![(2, 2)]);
        assert_eq!(new_lines(b"1\n2\n3\n4\n5\n6\n", b"1\n2\nX\n4\nY\n6\n"), vec![(3, 3), (5, 5)]);
    }
}
