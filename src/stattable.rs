//! The run cache's quick check: when every file the walk gives has the same size, times, inode
//! and mode as when the last run read it, the files are taken to hold what they held, and the
//! cache entry is looked up without reading a byte of them (as git's index and Ruff's cache do).
//! Anything else — a file touched, added or removed, a note of the walk that differs, git's list
//! of tracked files — sends the run down the full path, which reads and hashes every file.
//!
//! Racy files (git's term): a file written within `SLACK` of the moment its times were taken
//! could be written again within the same tick of the file system's clock, keeping its times.
//! A table that holds such a file is not trusted; the next run, reading by content, writes one
//! that is.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rayon::prelude::*;

use crate::digest::KeyHasher;
use crate::finding::Note;

/// Bump when what the table holds changes.
const FORMAT: u32 = 1;

/// How long before the times were taken a file must have been last written (and its inode
/// changed) for its times to vouch for its content: above the coarsest timestamp granularity of
/// common file systems (FAT's 2 s).
const SLACK: Duration = Duration::from_secs(3);

/// What the walk gave this run, and the file system's times of each file.
pub(crate) struct Taken {
    /// The slot, every path in order, the walk's notes and git's tracked list.
    tree: String,
    /// Each file's size, modification and change times, device, inode and mode, in order.
    stats: String,
    /// The latest modification or change time among the files (nanoseconds since the epoch).
    newest: u128,
    /// When the times were taken.
    taken: u128,
}

fn nanos(t: SystemTime) -> u128 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos())
}

/// Takes the times of every path (in parallel). `None` where the platform gives no change time
/// or inode (the quick check is then never used).
pub(crate) fn take(
    slot: &KeyHasher,
    paths: &[PathBuf],
    notes: &[Note],
    tracked: Option<(&Path, &[String])>,
) -> Option<Taken> {
    if !cfg!(unix) {
        return None;
    }
    let taken = nanos(SystemTime::now());
    let mut tree = slot.clone();
    tree.part(&FORMAT.to_le_bytes());
    // The paths as the walk gave them (the slot holds the root they are under).
    for p in paths {
        tree.part(p.as_os_str().as_encoded_bytes());
    }
    for n in notes {
        tree.part(n.path.as_bytes());
        tree.part(n.message.as_bytes());
    }
    match tracked {
        Some((top, t)) => {
            tree.part(crate::fsread::path_text(top).as_bytes());
            t.iter().for_each(|p| tree.part(p.as_bytes()));
        }
        None => tree.part(b"untracked"),
    }
    let each: Vec<([u64; 8], u128)> = paths.par_iter().map(|p| stat(p)).collect();
    let mut stats = KeyHasher::default();
    let mut newest = 0;
    for (words, latest) in &each {
        let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        stats.part(&bytes);
        newest = newest.max(*latest);
    }
    Some(Taken { tree: tree.finish(), stats: stats.finish(), newest, taken })
}

/// A file's size, times, device, inode and mode as words, and its latest time; zeros (and a
/// marker) when it cannot be stat'ed, which the full path turns into a note.
#[cfg(unix)]
fn stat(p: &Path) -> ([u64; 8], u128) {
    use std::os::unix::fs::MetadataExt;
    match std::fs::metadata(p) {
        Ok(m) => {
            let (mt, ct) = (m.mtime() as u64, m.ctime() as u64);
            let (mn, cn) = (m.mtime_nsec() as u64, m.ctime_nsec() as u64);
            let latest =
                (u128::from(mt) * 1_000_000_000 + u128::from(mn)).max(u128::from(ct) * 1_000_000_000 + u128::from(cn));
            ([m.size(), mt, mn, ct, cn, m.dev(), m.ino(), u64::from(m.mode())], latest)
        }
        Err(e) => ([u64::MAX, e.raw_os_error().unwrap_or(0) as u64, 0, 0, 0, 0, 0, 0], 0),
    }
}

#[cfg(not(unix))]
fn stat(_: &Path) -> ([u64; 8], u128) {
    ([0; 8], 0)
}

/// What a table vouches for: the key of the run that read the files, and how many it scanned.
pub(crate) struct Vouched {
    pub full: String,
    pub files_scanned: usize,
}

fn file(dir: &Path, slot: &str) -> PathBuf {
    dir.join(format!("{slot}.stat"))
}

/// The last run's key, if its table matches what was taken now and no file was racy then.
pub(crate) fn vouched(dir: &Path, slot: &str, now: &Taken) -> Option<Vouched> {
    let bytes = crate::fsread::read_regular_capped(&file(dir, slot), 4096).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let f: Vec<&str> = text.split_whitespace().collect();
    let [magic, format, tree, stats, newest, taken, full, scanned] = f[..] else { return None };
    let (newest, taken): (u128, u128) = (newest.parse().ok()?, taken.parse().ok()?);
    let fresh = newest.saturating_add(SLACK.as_nanos()) >= taken;
    if magic != "preflight-stat" || format != FORMAT.to_string() || tree != now.tree || stats != now.stats || fresh {
        return None;
    }
    Some(Vouched { full: full.to_string(), files_scanned: scanned.parse().ok()? })
}

/// Writes the table for the run whose key is `full`. Best effort.
pub(crate) fn store(dir: &Path, slot: &str, now: &Taken, full: &str, files_scanned: usize) {
    let text = format!(
        "preflight-stat {FORMAT} {} {} {} {} {full} {files_scanned}\n",
        now.tree, now.stats, now.newest, now.taken
    );
    if std::fs::create_dir_all(dir).is_ok() {
        let _ = crate::output::write_file(&file(dir, slot), text.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn taken_of(dir: &Path, names: &[&str]) -> Taken {
        let paths: Vec<PathBuf> = names.iter().map(|n| dir.join(n)).collect();
        take(&KeyHasher::default(), &paths, &[], None).unwrap()
    }

    fn age(path: &Path, secs: u64) {
        let f = std::fs::File::options().write(true).open(path).unwrap();
        f.set_modified(SystemTime::now() - Duration::from_secs(secs)).unwrap();
    }

    #[test]
    fn a_table_vouches_only_for_the_same_files_with_the_same_times() {
        let tmp = std::env::temp_dir().join(format!("preflight-stat-{}", std::process::id()));
        let (tree, cache) = (tmp.join("tree"), tmp.join("cache"));
        std::fs::create_dir_all(&tree).unwrap();
        std::fs::write(tree.join("a.py"), "x = 1\n").unwrap();
        std::fs::write(tree.join("b.py"), "y = 2\n").unwrap();
        let names = ["a.py", "b.py"];

        // Just written: the change time is now, so the table is racy and vouches for nothing.
        let now = taken_of(&tree, &names);
        store(&cache, "slot", &now, "KEY", 2);
        assert!(vouched(&cache, "slot", &taken_of(&tree, &names)).is_none());

        // A table taken well after the files' last change vouches for them.
        let mut later = taken_of(&tree, &names);
        later.taken += 10 * 1_000_000_000;
        store(&cache, "slot", &later, "KEY", 2);
        let mut again = taken_of(&tree, &names);
        again.taken = later.taken;
        let v = vouched(&cache, "slot", &again).expect("same files, same times");
        assert_eq!((v.full.as_str(), v.files_scanned), ("KEY", 2));

        // The same content with other times, another file list, another slot: no.
        age(&tree.join("b.py"), 100);
        assert!(vouched(&cache, "slot", &taken_of(&tree, &names)).is_none());
        assert!(vouched(&cache, "slot", &taken_of(&tree, &["a.py"])).is_none());
        assert!(vouched(&cache, "other", &again).is_none());
        std::fs::remove_dir_all(&tmp).unwrap();
    }
}
