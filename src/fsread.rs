//! Reading one file safely: every file preflight reads (the walk's files, config files, `.env`
//! files, the git dir's files, ignore files) goes through `read_regular_capped`.
//!
//! A repository may commit a symlink to `/dev/zero` (reads forever), `/dev/stdin` or a FIFO
//! (blocks), or swap a file for a FIFO between the walk and the read. So a file is opened
//! non-blocking (opening a FIFO never waits for a writer), checked on the open handle (no race
//! between a check and the open), read only when it is a regular file, and never read past a
//! size cap.

use std::fs::File;
use std::io::Read;
use std::path::Path;

/// Why a file was not read.
#[derive(Debug)]
pub(crate) enum ReadError {
    NotFound,
    /// A FIFO, socket, device or folder.
    NotRegular,
    /// Bigger than the cap: its size.
    TooLarge(u64),
    Io(std::io::Error),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::NotFound => f.write_str("not found"),
            ReadError::NotRegular => f.write_str("not a regular file (FIFO, socket or device)"),
            ReadError::TooLarge(n) => write!(f, "{n} bytes, too large"),
            ReadError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl From<std::io::Error> for ReadError {
    fn from(e: std::io::Error) -> Self {
        match e.kind() {
            std::io::ErrorKind::NotFound => ReadError::NotFound,
            _ => ReadError::Io(e),
        }
    }
}

/// Opens `path` (following symlinks) without blocking and returns it with its size when it is
/// a regular file.
pub(crate) fn open_regular(path: &Path) -> Result<(File, u64), ReadError> {
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // O_NONBLOCK: opening a FIFO returns at once instead of waiting for a writer; it
        // changes nothing for a regular file. O_NOCTTY: a terminal never becomes ours.
        opts.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    let file = match opts.open(path) {
        Ok(f) => f,
        // A socket cannot be opened at all (ENXIO).
        #[cfg(unix)]
        Err(e) if e.raw_os_error() == Some(libc::ENXIO) => return Err(ReadError::NotRegular),
        Err(e) => return Err(e.into()),
    };
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(ReadError::NotRegular);
    }
    Ok((file, meta.len()))
}

/// The bytes of the regular file at `path`, at most `cap` of them.
///
/// The file is read to the size it had when opened (one read call for most files; a file
/// growing meanwhile is read as it was); a size of 0 includes files generated when read
/// (`/proc`), which are read to the end, up to the cap.
pub(crate) fn read_regular_capped(path: &Path, cap: u64) -> Result<Vec<u8>, ReadError> {
    let (file, len) = open_regular(path)?;
    if len > cap {
        return Err(ReadError::TooLarge(len));
    }
    let limit = if len == 0 { cap.saturating_add(1) } else { len };
    let mut bytes = Vec::with_capacity(len as usize);
    file.take(limit).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap {
        return Err(ReadError::TooLarge(bytes.len() as u64));
    }
    Ok(bytes)
}

/// `read_regular_capped` as text (invalid UTF-8 replaced).
pub(crate) fn read_text_capped(path: &Path, cap: u64) -> Result<String, ReadError> {
    read_regular_capped(path, cap)
        .map(|b| String::from_utf8(b).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
}

/// Cap for small text files preflight reads besides the scanned ones: config files, `.env`
/// files, ignore files, git's HEAD, refs and config.
pub(crate) const SMALL_FILE_CAP: u64 = 4 << 20;

/// A path as text with `/` separators. A name that is not UTF-8 keeps its bytes: each byte of
/// an invalid sequence is written `\xNN` (a valid path here never holds a backslash: it is
/// turned into a separator), so two files whose names differ only in those bytes stay two
/// files, with two findings and two fingerprints. `report::sarif::uri_path` turns the escapes
/// back into the bytes.
pub(crate) fn path_text(path: &Path) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        bytes_text(path.as_os_str().as_bytes())
    }
    #[cfg(not(unix))]
    {
        path.to_string_lossy().replace('\\', "/")
    }
}

/// `path_text` for a path given as bytes.
pub(crate) fn bytes_text(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.push_str(&chunk.valid().replace('\\', "/"));
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_fifos_and_large_files_are_refused_without_blocking() {
        assert!(matches!(read_regular_capped(Path::new("/dev/zero"), 10), Err(ReadError::NotRegular)));
        assert!(matches!(read_regular_capped(Path::new("/dev/null"), 10), Err(ReadError::NotRegular)));
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        assert!(matches!(read_regular_capped(&fifo, 10), Err(ReadError::NotRegular)));
        let big = dir.path().join("big");
        std::fs::write(&big, "0123456789A").unwrap();
        assert!(matches!(read_regular_capped(&big, 10), Err(ReadError::TooLarge(11))));
        assert_eq!(read_regular_capped(&big, 11).unwrap(), b"0123456789A");
        assert!(matches!(read_regular_capped(&dir.path().join("nope"), 10), Err(ReadError::NotFound)));
        assert!(matches!(read_regular_capped(dir.path(), 10), Err(ReadError::NotRegular)));
    }
}
