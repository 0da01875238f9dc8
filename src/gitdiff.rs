//! `--diff-base REV`: which lines changed since REV, from `git diff`.
//!
//! This is the one place preflight runs git, at the user's request, and with the ways a
//! repository's own config can make git execute commands switched off: no fsmonitor, no hooks,
//! no external diff drivers, no textconv filters.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

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

fn git(top: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(top)
        .args(["-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null", "-c", "diff.external="])
        .args(args)
        .env("GIT_EXTERNAL_DIFF", "")
        .env("GIT_PAGER", "cat")
        .output()
        .map_err(|e| format!("--diff-base needs git: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(format!("git {}: {}", args.join(" "), err.lines().next().unwrap_or("failed")));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Lines changed since `rev` in the work tree (committed, staged or not), keyed by path
/// relative to `root`; untracked files count as changed whole.
pub fn changed_since(root: &Path, rev: &str) -> Result<HashMap<String, Changed>, String> {
    let (top, _) = crate::gitindex::find_repo(root).ok_or("--diff-base: not inside a git repository")?;
    if rev.starts_with('-') {
        return Err(format!("--diff-base: `{rev}` is not a revision"));
    }
    git(&top, &["rev-parse", "--verify", "--quiet", &format!("{rev}^{{commit}}")])
        .map_err(|_| format!("--diff-base: `{rev}` is not a commit in this repository"))?;
    let diff = git(&top, &["diff", "--no-ext-diff", "--no-textconv", "--no-color", "--no-renames", "-U0", rev, "--"])?;
    let untracked = git(&top, &["ls-files", "--others", "--exclude-standard", "-z"])?;

    let rel = |p: &str| -> Option<String> {
        let abs = top.join(p);
        abs.strip_prefix(root).ok().map(|r| r.to_string_lossy().replace('\\', "/"))
    };
    let mut changed: HashMap<String, Changed> = HashMap::new();
    let mut current: Option<String> = None;
    for line in diff.lines() {
        if let Some(p) = line.strip_prefix("+++ ") {
            current = p.strip_prefix("b/").and_then(rel);
            if let Some(c) = &current {
                changed.entry(c.clone()).or_insert(Changed::Ranges(Vec::new()));
            }
        } else if let (Some(hunk), Some(path)) = (line.strip_prefix("@@ "), &current) {
            // @@ -a,b +c,d @@: lines c..c+d-1 are new; d = 0 is a pure deletion.
            let plus = hunk.split_whitespace().find(|t| t.starts_with('+')).unwrap_or("+0");
            let mut it = plus[1..].split(',');
            let start: usize = it.next().and_then(|s| s.parse().ok()).unwrap_or(0);
            let count: usize = it.next().map_or(1, |s| s.parse().unwrap_or(1));
            if count > 0 {
                if let Some(Changed::Ranges(r)) = changed.get_mut(path) {
                    r.push((start, start + count - 1));
                }
            }
        }
    }
    for p in untracked.split('\0').filter(|p| !p.is_empty()) {
        if let Some(r) = rel(p) {
            changed.insert(r, Changed::All);
        }
    }
    Ok(changed)
}
