//! `--diff-base REV`: which lines changed since REV.
//!
//! This is the one place preflight runs git, at the user's request, and only to read objects:
//! `git rev-parse` to resolve REV and `git cat-file --batch` for the files at REV, without
//! filters or textconv. The work tree is never handed to git: `git diff` would run the
//! repository's `filter.<x>.clean` commands (from `.git/config` and `.gitattributes`) on work
//! tree files, so the comparison with the work tree is made here, on the files with findings.
//! fsmonitor and hooks are switched off all the same.

use std::collections::HashMap;
use std::io::{BufRead, Read, Write};
use std::path::Path;
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

/// Lines changed since `rev` in the work tree (committed, staged or not) of each of `paths`
/// (relative to `root`): a file that REV does not hold (new, untracked) changed whole.
pub fn changed_since(root: &Path, rev: &str, paths: &[&str]) -> Result<HashMap<String, Changed>, String> {
    let (top, _) = crate::gitindex::find_repo(root).ok_or("--diff-base: not inside a git repository")?;
    if rev.starts_with('-') {
        return Err(format!("--diff-base: `{rev}` is not a revision"));
    }
    let commit = git(&top, &["rev-parse", "--verify", "--quiet", "--end-of-options", &format!("{rev}^{{commit}}")])
        .map_err(|_| format!("--diff-base: `{rev}` is not a commit in this repository"))?;
    let commit = commit.trim();
    let top = top.canonicalize().unwrap_or(top);
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    // Each path relative to the work tree's top, as git names it at REV.
    let mut asked: Vec<(String, String)> = Vec::new();
    let mut changed: HashMap<String, Changed> = HashMap::new();
    for &p in paths {
        match root.join(p).strip_prefix(&top).ok().and_then(|r| r.to_str()) {
            Some(r) if !r.contains('\n') => asked.push((p.to_string(), r.replace('\\', "/"))),
            _ => {
                changed.insert(p.to_string(), Changed::All);
            }
        }
    }
    if asked.is_empty() {
        return Ok(changed);
    }
    let blobs = blobs_at(&top, commit, asked.iter().map(|(_, r)| r.as_str()))?;
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

/// The 1-based line ranges of `new` that are not in a longest common subsequence of the lines
/// of `old` and `new` (line ends `\n` or `\r\n`; a CRLF checkout of an LF blob is unchanged).
/// Common lines at both ends are matched first; a middle too big to compare (over 4 million
/// line pairs) counts as changed whole.
pub fn new_lines(old: &[u8], new: &[u8]) -> Vec<(usize, usize)> {
    let split = |b: &'_ [u8]| -> Vec<Vec<u8>> {
        let mut v: Vec<Vec<u8>> =
            b.split(|&c| c == b'\n').map(|l| l.strip_suffix(b"\r").unwrap_or(l).to_vec()).collect();
        if v.last().is_some_and(|l| l.is_empty()) {
            v.pop();
        }
        v
    };
    let (a, b) = (split(old), split(new));
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..].iter().rev().zip(b[prefix..].iter().rev()).take_while(|(x, y)| x == y).count();
    let (a, b_mid) = (&a[prefix..a.len() - suffix], &b[prefix..b.len() - suffix]);
    let mut changed = vec![true; b_mid.len()];
    if !a.is_empty() && !b_mid.is_empty() && a.len().saturating_mul(b_mid.len()) <= 4 << 20 {
        // LCS lengths of every pair of suffixes, then one walk from the start.
        let (n, m) = (a.len(), b_mid.len());
        let mut len = vec![0u32; (n + 1) * (m + 1)];
        for i in (0..n).rev() {
            for j in (0..m).rev() {
                len[i * (m + 1) + j] = if a[i] == b_mid[j] {
                    len[(i + 1) * (m + 1) + j + 1] + 1
                } else {
                    len[(i + 1) * (m + 1) + j].max(len[i * (m + 1) + j + 1])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < n && j < m {
            if a[i] == b_mid[j] {
                changed[j] = false;
                i += 1;
                j += 1;
            } else if len[(i + 1) * (m + 1) + j] >= len[i * (m + 1) + j + 1] {
                i += 1;
            } else {
                j += 1;
            }
        }
    }
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

#[cfg(test)]
mod tests {
    use super::new_lines;

    #[test]
    fn new_lines_are_the_lines_not_in_the_old_file() {
        assert_eq!(new_lines(b"a\nb\nc\n", b"a\nb\nc\n"), vec![]);
        assert_eq!(new_lines(b"a\nb\nc\n", b"a\nX\nb\nc\nY\n"), vec![(2, 2), (5, 5)]);
        assert_eq!(new_lines(b"a\nb\nc\n", b"a\nB\nc\n"), vec![(2, 2)]);
        assert_eq!(new_lines(b"a\nb\n", b"a\r\nb\r\n"), vec![]);
        assert_eq!(new_lines(b"", b"x\ny\n"), vec![(1, 2)]);
        assert_eq!(new_lines(b"a\nb\nc\nd\n", b"a\nd\n"), vec![]);
        assert_eq!(new_lines(b"a\nb\n", b"b\na\nb\n"), vec![(1, 1)]);
    }
}
