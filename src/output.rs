//! Writing reports: `--output`/`--write-baseline` files, stdout and stderr.
//!
//! A report file is written to a temporary file in the same folder and renamed over the target,
//! so a failed write (a full disk) leaves the previous report whole and two concurrent runs never
//! interleave. A target that is a symlink (a scanned repository may commit one where the report
//! goes), a path named on the command line or an existing source file is refused. A device or FIFO
//! (`/dev/null`) is written in place. Errors writing stdout are errors (exit 2), except a closed
//! pipe (`| head`), which ends the output quietly. Nothing written to stderr can panic.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `s` to stderr, ignoring errors (a closed stderr must not end the run).
pub(crate) fn eprint(s: &str) {
    let _ = std::io::stderr().lock().write_all(s.as_bytes());
}

/// Writes the report to stdout; a closed pipe counts as written (the reader stopped reading).
pub(crate) fn write_stdout(bytes: &[u8]) -> Result<(), String> {
    // (A descriptor closed before the run starts is reopened on /dev/null by Rust's runtime, as
    // for every Rust program: such output is discarded like output sent to /dev/null.)
    let mut out = std::io::stdout().lock();
    let result = out.write_all(bytes).and_then(|_| out.flush());
    match result {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(format!("writing the report to stdout: {e}")),
    }
}

/// Refuses a report target that must not be overwritten: a symlink, one of `inputs` (paths named
/// on the command line, the baseline read), or an existing source file (Python, JS/TS, a
/// template, CSS, a dotenv file).
pub(crate) fn check_target(target: &Path, inputs: &[PathBuf], what: &str) -> Result<(), String> {
    let shown = target.display();
    let Ok(meta) = target.symlink_metadata() else { return Ok(()) };
    if meta.file_type().is_symlink() {
        return Err(format!("{what} {shown} is a symlink: refusing to write through it (name its target instead)"));
    }
    if !meta.is_file() {
        return Ok(());
    }
    let Ok(canon) = target.canonicalize() else { return Ok(()) };
    if inputs.iter().filter_map(|p| p.canonicalize().ok()).any(|p| p == canon) {
        return Err(format!("{what} {shown} is a file this run reads: refusing to overwrite it"));
    }
    // Source code preflight checks (`--output manage.py`); a committed report or baseline
    // (JSON, SARIF, Markdown) may be rewritten.
    let name = canon.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    if crate::classify::classify(&name, b"").lang != crate::classify::Lang::Other {
        return Err(format!("{what} {shown} is source code this run checks: refusing to overwrite it"));
    }
    Ok(())
}

/// Writes `bytes` to `target`: through a temporary file in the same folder, renamed over it.
pub(crate) fn write_file(target: &Path, bytes: &[u8]) -> Result<(), String> {
    let shown = target.display();
    // A device or FIFO (`/dev/null`, `/dev/stdout` in a pipeline) cannot be replaced: write it.
    if target.metadata().is_ok_and(|m| !m.is_file() && !m.is_dir()) {
        let mut f = std::fs::OpenOptions::new().write(true).open(target).map_err(|e| format!("{shown}: {e}"))?;
        return f.write_all(bytes).and_then(|_| f.flush()).map_err(|e| format!("{shown}: {e}"));
    }
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = target.file_name().ok_or_else(|| format!("{shown}: not a file name"))?;
    let mut n = 0u32;
    let (tmp, mut file) = loop {
        let tmp = dir.join(format!(".{}.{}-{n}.preflight-tmp", name.to_string_lossy(), std::process::id()));
        // create_new: never through a symlink or over an existing file.
        match std::fs::OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(f) => break (tmp, f),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 100 => n += 1,
            Err(e) => return Err(format!("{shown}: {e}")),
        }
    };
    let written = file.write_all(bytes).and_then(|_| file.sync_all());
    drop(file);
    if let Err(e) = written.and_then(|_| std::fs::rename(&tmp, target)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(format!("{shown}: {e}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_leaves_the_previous_report() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("report.json");
        write_file(&target, b"old\n").unwrap();
        // A rename that cannot happen (the target became a folder with content) fails and
        // leaves no temporary file behind.
        let blocked = dir.path().join("blocked");
        std::fs::create_dir_all(blocked.join("x")).unwrap();
        assert!(write_file(&blocked, b"new\n").is_err());
        assert_eq!(std::fs::read(&target).unwrap(), b"old\n");
        write_file(&target, b"new\n").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"new\n");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }
}
