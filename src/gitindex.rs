//! Which paths git tracks, read straight from `.git/index`.
//!
//! preflight does not run `git` on a repository it audits: a hostile repository's config can
//! make git execute commands (`core.fsmonitor`), and preflight never executes what it scans.
//! The index format (versions 2, 3 and 4, SHA-1 or SHA-256) is small enough to read directly.

use std::path::{Path, PathBuf};

/// The work-tree root and git dir of the repository holding `start`, if any.
pub fn find_repo(start: &Path) -> Option<(PathBuf, PathBuf)> {
    let mut dir = Some(start);
    while let Some(d) = dir {
        let dotgit = d.join(".git");
        if dotgit.is_dir() {
            return Some((d.to_path_buf(), dotgit));
        }
        if dotgit.is_file() {
            // Worktrees and submodules: `gitdir: <path>`.
            let text = std::fs::read_to_string(&dotgit).ok()?;
            let target = text.strip_prefix("gitdir:")?.trim();
            let gitdir = d.join(target);
            return Some((d.to_path_buf(), gitdir));
        }
        dir = d.parent();
    }
    None
}

/// Tracked paths (relative to the work tree, `/`-separated), or `None` if the index cannot be read.
pub fn tracked_paths(gitdir: &Path) -> Option<Vec<String>> {
    let data = match std::fs::read(gitdir.join("index")) {
        Ok(d) => d,
        // A repository with nothing staged yet has no index: it tracks nothing.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && gitdir.is_dir() => return Some(Vec::new()),
        Err(_) => return None,
    };
    let config = std::fs::read_to_string(gitdir.join("config")).unwrap_or_default();
    let hash_len = if config.to_lowercase().replace(' ', "").contains("objectformat=sha256") { 32 } else { 20 };
    parse_index(&data, hash_len)
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

pub fn parse_index(data: &[u8], hash_len: usize) -> Option<Vec<String>> {
    if data.get(0..4)? != b"DIRC" {
        return None;
    }
    let version = be32(data, 4)?;
    if !(2..=4).contains(&version) {
        return None;
    }
    let count = be32(data, 8)? as usize;
    let mut pos = 12;
    let mut paths = Vec::with_capacity(count.min(1 << 20));
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
        // Sparse-index directory entries (mode 040000) are not files.
        if mode & 0o170000 != 0o040000 {
            // Names that are not UTF-8 keep their bytes, as the walk's do (`engine::bytes_text`).
            paths.push(crate::engine::bytes_text(&path));
        }
        prev = path;
    }
    paths.dedup();
    Some(paths)
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
        assert_eq!(parse_index(&data, 20).unwrap(), vec![".env", "backend/app/settings.py"]);
    }

    #[test]
    fn rejects_garbage() {
        assert!(parse_index(b"DIRC\0\0\0\x02\0\0\0\x05", 20).is_none());
        assert!(parse_index(b"nope", 20).is_none());
    }
}

/// The repository's remote URL (origin, else the first remote) without credentials, the HEAD
/// commit and the branch, read from the git dir's files.
pub fn provenance(gitdir: &Path) -> Option<(String, Option<String>, Option<String>)> {
    let config = std::fs::read_to_string(gitdir.join("config")).ok().or_else(|| {
        // Worktrees keep the config in the common dir.
        let common = std::fs::read_to_string(gitdir.join("commondir")).ok()?;
        std::fs::read_to_string(gitdir.join(common.trim()).join("config")).ok()
    })?;
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
    let head = std::fs::read_to_string(gitdir.join("HEAD")).ok()?;
    let head = head.trim();
    let (rev, branch) = match head.strip_prefix("ref: ") {
        Some(r) => {
            let rev = std::fs::read_to_string(gitdir.join(r)).ok().map(|s| s.trim().to_string()).or_else(|| {
                let packed = std::fs::read_to_string(gitdir.join("packed-refs")).ok()?;
                packed
                    .lines()
                    .find(|l| l.ends_with(&format!(" {r}")))
                    .and_then(|l| l.split_once(' '))
                    .map(|(sha, _)| sha.to_string())
            });
            (rev, Some(r.to_string()))
        }
        None => (Some(head.to_string()), None),
    };
    Some((url, rev.filter(|r| r.len() >= 40), branch))
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
