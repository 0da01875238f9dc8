//! A file as every rule sees it: decoded text, a line index, and a syntax tree parsed on first
//! request and shared by all rules (at most one parse per file).
//!
//! Decoding never fails on text: a UTF-8 BOM is stripped (columns then count from the first real
//! character), UTF-16 with a BOM is transcoded, invalid UTF-8 is decoded lossily. Each of these
//! leaves a note. Binary content (a NUL byte in the first 8 KiB) is refused.

use std::path::PathBuf;
use std::sync::OnceLock;

use crate::classify::FileClass;

/// Longest snippet kept, in characters.
pub const MAX_SNIPPET: usize = 400;

/// What decoding had to do to a file, or why it refused it.
pub enum Decoded {
    Text { text: String, note: Option<String> },
    Binary,
}

pub fn decode(bytes: Vec<u8>) -> Decoded {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        let le = bytes[0] == 0xFF;
        let units = bytes[2..].chunks_exact(2).map(|c| {
            if le {
                u16::from_le_bytes([c[0], c[1]])
            } else {
                u16::from_be_bytes([c[0], c[1]])
            }
        });
        let text: String = char::decode_utf16(units).map(|r| r.unwrap_or('\u{FFFD}')).collect();
        return Decoded::Text { text, note: Some("decoded from UTF-16".into()) };
    }
    let head = &bytes[..bytes.len().min(8192)];
    if head.contains(&0) {
        return Decoded::Binary;
    }
    let body = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF][..]).map(<[u8]>::to_vec).unwrap_or(bytes);
    match String::from_utf8(body) {
        Ok(text) => Decoded::Text { text, note: None },
        Err(e) => {
            let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
            Decoded::Text { text, note: Some("invalid UTF-8, decoded with replacement characters".into()) }
        }
    }
}

/// Byte offsets of line starts. Lines end at `\n`, `\r\n` or a lone `\r`.
#[derive(Debug, Default)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let b = text.as_bytes();
        let mut starts = vec![0];
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'\n' => starts.push(i + 1),
                b'\r' if b.get(i + 1) != Some(&b'\n') => starts.push(i + 1),
                _ => {}
            }
            i += 1;
        }
        LineIndex { starts }
    }

    /// 0-based line of a byte offset.
    pub fn line_of(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset).saturating_sub(1)
    }

    pub fn line_start(&self, line: usize) -> usize {
        self.starts[line.min(self.starts.len() - 1)]
    }

    pub fn len(&self) -> usize {
        self.starts.len()
    }

    pub fn is_empty(&self) -> bool {
        false
    }
}

pub struct SourceFile {
    pub path: PathBuf,
    /// Path relative to the report root, with forward slashes.
    pub rel: String,
    pub class: FileClass,
    pub text: String,
    /// Line starts, built on first use (most files never report a position).
    lines: OnceLock<LineIndex>,
    /// What decoding had to do (UTF-16, lossy UTF-8), for the per-file notes.
    pub decode_note: Option<String>,
    tree: OnceLock<Option<tree_sitter::Tree>>,
    parse_note: OnceLock<String>,
    /// Characters before every `MARK`-th byte, built the first time a column is asked for far
    /// into a long line, so that each finding on a minified line costs the same whatever the
    /// line's length.
    char_marks: OnceLock<Vec<usize>>,
}

/// Bytes between two entries of `char_marks`.
const MARK: usize = 1024;

/// Characters in `b` (valid UTF-8 cut anywhere): the bytes that do not continue a character.
fn count_chars(b: &[u8]) -> usize {
    b.iter().filter(|&&x| (x as i8) >= -0x40).count()
}

impl SourceFile {
    pub fn new(path: PathBuf, rel: String, class: FileClass, text: String) -> Self {
        SourceFile {
            path,
            rel,
            class,
            text,
            lines: OnceLock::new(),
            decode_note: None,
            tree: OnceLock::new(),
            parse_note: OnceLock::new(),
            char_marks: OnceLock::new(),
        }
    }

    pub fn lines(&self) -> &LineIndex {
        self.lines.get_or_init(|| LineIndex::new(&self.text))
    }

    /// The syntax tree, parsed on first call. `None` when the language has no grammar or the
    /// parse was abandoned (see `parse_note`).
    pub fn tree(&self) -> Option<&tree_sitter::Tree> {
        self.tree
            .get_or_init(|| match crate::parse::parse(self.class.lang, &self.text) {
                Ok(t) => {
                    if t.root_node().has_error() {
                        let _ = self.parse_note.set("syntax errors; results from the parts that parsed".into());
                    }
                    Some(t)
                }
                Err(why) => {
                    let _ = self.parse_note.set(why);
                    None
                }
            })
            .as_ref()
    }

    /// Runs `f` on the syntax tree without keeping it: the cached tree if there is one, else a
    /// fresh parse dropped afterwards. For the project pass, which reads many files once and
    /// must not hold all their trees at the same time.
    pub fn with_tree<R>(&self, f: impl FnOnce(&tree_sitter::Tree) -> R) -> Option<R> {
        if let Some(cached) = self.tree.get() {
            return cached.as_ref().map(f);
        }
        crate::parse::parse(self.class.lang, &self.text).ok().map(|t| f(&t))
    }

    pub fn parse_note(&self) -> Option<&str> {
        self.parse_note.get().map(String::as_str)
    }

    /// Text of one 0-based line without its line ending.
    pub fn line_text(&self, line: usize) -> &str {
        let lines = self.lines();
        let start = lines.line_start(line);
        let end = if line + 1 < lines.len() { lines.line_start(line + 1) } else { self.text.len() };
        self.text[start..end].trim_end_matches(['\n', '\r'])
    }

    /// 1-based (line, column) of a byte offset; columns count characters.
    pub fn position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let lines = self.lines();
        let line = lines.line_of(offset);
        let start = lines.line_start(line);
        let col = if offset - start <= 4 * MARK {
            self.text.get(start..offset).map_or(offset - start, |s| s.chars().count())
        } else {
            self.chars_before(offset) - self.chars_before(start)
        };
        (line + 1, col + 1)
    }

    /// Characters in the text before byte `offset`, in at most `MARK` steps.
    fn chars_before(&self, offset: usize) -> usize {
        let b = self.text.as_bytes();
        let marks = self.char_marks.get_or_init(|| {
            let mut n = 0;
            b.chunks(MARK)
                .map(|c| {
                    let before = n;
                    n += count_chars(c);
                    before
                })
                .collect()
        });
        let offset = offset.min(b.len());
        let k = offset / MARK;
        marks.get(k).map_or(0, |m| m + count_chars(&b[k * MARK..offset]))
    }

    /// The text of 0-based `line` shown for a finding at byte `offset` of it (a window when the
    /// line is long, as `finding::clip_line` cuts it), with the characters left out before it.
    /// It costs the same whatever the length of the line.
    pub fn line_window(&self, line: usize, offset: usize) -> (&str, usize) {
        let whole = self.line_text(line);
        let start = self.lines().line_start(line);
        let end = start + whole.len();
        if whole.len() <= MAX_SNIPPET || self.chars_before(end) - self.chars_before(start) <= MAX_SNIPPET {
            return (whole, 0);
        }
        // The window opens MAX_SNIPPET / 4 characters before the offset, or at the line start.
        let mut at = offset.clamp(start, end);
        while !self.text.is_char_boundary(at) {
            at -= 1;
        }
        let col = self.chars_before(at) - self.chars_before(start);
        let back = col.min(MAX_SNIPPET / 4);
        let from_byte = match back {
            0 => at,
            _ => start + self.text[start..at].char_indices().rev().nth(back - 1).map_or(0, |(i, _)| i),
        };
        let rest = &self.text[from_byte..end];
        let to = rest.char_indices().nth(MAX_SNIPPET).map_or(rest.len(), |(i, _)| i);
        (&rest[..to], col - back)
    }

    pub fn slice(&self, start: usize, end: usize) -> &str {
        self.text.get(start..end).unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::clip_line;

    #[test]
    fn columns_and_windows_on_long_lines_match_the_plain_computation() {
        let line: String = (0..3000)
            .map(|i| {
                if i % 7 == 0 {
                    'é'
                } else if i % 11 == 0 {
                    '😀'
                } else {
                    'a'
                }
            })
            .collect();
        let text = format!("x = 1\n{line}\r\nend\n");
        let class = crate::classify::classify("a.py", b"");
        let f = SourceFile::new("a.py".into(), "a.py".into(), class, text.clone());
        let start = 6;
        for (k, (i, _)) in line.char_indices().enumerate().step_by(97) {
            let offset = start + i;
            let col = line[..i].chars().count() + 1;
            assert_eq!(f.position(offset), (2, col), "offset {offset}");
            let (window, from) = f.line_window(1, offset);
            assert_eq!((window.to_string(), from), clip_line(&line, col), "char {k}");
        }
        assert_eq!(f.line_window(0, 2), ("x = 1", 0));
        assert_eq!(f.position(text.len()), (4, 1));
    }
}
