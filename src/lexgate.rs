//! A lexical gate before a parse: whether words occur in a Python file's code, not only in its
//! comments and string literals. A rule whose literal prefilter passes on a comment
//! (`#import pdb` in a 3 MB generated schema module) would otherwise parse the whole file to
//! find nothing. The scan is one pass over the bytes, far cheaper than a parse; it errs towards
//! "in code" (an unterminated string ends at the line break, as Python's own do), so a gate that
//! says "no" is never wrong about code that Python would run.

/// Whether an identifier of `src`'s code (outside comments and string literals) contains one of
/// `words`. Identifiers are ASCII letters, digits, `_` and any non-ASCII bytes.
pub(crate) fn python_code_has(src: &str, words: &[&str]) -> bool {
    let b = src.as_bytes();
    let n = b.len();
    let mut i = 0;
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80;
    while i < n {
        match b[i] {
            b'#' => {
                while i < n && b[i] != b'\n' && b[i] != b'\r' {
                    i += 1;
                }
            }
            q @ (b'\'' | b'"') => {
                if i + 2 < n && b[i + 1] == q && b[i + 2] == q {
                    // Triple-quoted: to the next unescaped triple quote, across lines.
                    i += 3;
                    while i < n {
                        if b[i] == b'\\' {
                            i += 2;
                        } else if b[i] == q && i + 2 < n && b[i + 1] == q && b[i + 2] == q {
                            i += 3;
                            break;
                        } else {
                            i += 1;
                        }
                    }
                } else {
                    // One line: to the closing quote, or the line break (an unterminated string).
                    i += 1;
                    while i < n && b[i] != q && b[i] != b'\n' && b[i] != b'\r' {
                        i += if b[i] == b'\\' { 2 } else { 1 };
                    }
                    i += 1;
                }
            }
            c if ident(c) => {
                let start = i;
                while i < n && ident(b[i]) {
                    i += 1;
                }
                // Words are ASCII: a byte search in the identifier is exact.
                let id = &b[start..i];
                if words.iter().any(|w| id.windows(w.len()).any(|x| x == w.as_bytes())) {
                    return true;
                }
            }
            _ => i += 1,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::python_code_has;

    const W: &[&str] = &["pdb", "breakpoint", "set_trace"];

    #[test]
    fn words_in_code_pass() {
        for src in [
            "import pdb\n",
            "import ipdb; ipdb.set_trace()\n",
            "x = 1\nbreakpoint()\n",
            "s = 'a#b'; import pdb\n",
            "s = \"unterminated\nimport pdb\n",
            "t = '''doc'''\nset_trace()\n",
            "f = r'\\'' ; pdb.run('x')\n",
            "é = 1; pdb.set_trace()\n",
        ] {
            assert!(python_code_has(src, W), "{src:?}");
        }
    }

    #[test]
    fn words_only_in_comments_and_strings_do_not() {
        for src in [
            "#import pdb\nx = 1\n",
            "x = 1  # breakpoint() here\n",
            "\"\"\"Use pdb.set_trace() to debug.\n\nimport pdb\n\"\"\"\n",
            "s = 'import pdb'\n",
            "s = \"say \\\" pdb\"\n",
            "s = f'{x} pdb'\n",
            "'''unterminated triple pdb",
            "x = 1\r# pdb\r",
        ] {
            assert!(!python_code_has(src, W), "{src:?}");
        }
    }
}
