//! image-unoptimized: images committed to the front end or static folders over a size budget
//! (300 KB). Only the file size and the image header are read, never the pixels.
//!
//! The images are the ones git tracks (the index, read without running git): what is committed
//! is what ships. Outside a git repository the rule says nothing.

use crate::project::Project;
use crate::registry::{ProjectSink, Rule};

pub(crate) struct ImageUnoptimized;

/// The size budget for one image, in bytes.
pub(crate) const BUDGET: u64 = 300 * 1024;

/// Folders whose images are served to browsers.
const SERVED: &[&str] = &["static", "public", "assets", "images", "img", "media", "src", "frontend", "web", "www"];

/// The format and, when the header says, the pixel size of an image.
pub(crate) fn header(bytes: &[u8]) -> Option<(&'static str, Option<(u32, u32)>)> {
    let be16 = |i: usize| bytes.get(i..i + 2).map(|b| u32::from(u16::from_be_bytes([b[0], b[1]])));
    let le16 = |i: usize| bytes.get(i..i + 2).map(|b| u32::from(u16::from_le_bytes([b[0], b[1]])));
    let be32 = |i: usize| bytes.get(i..i + 4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some(("PNG", be32(16).zip(be32(20))));
    }
    if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        return Some(("GIF", le16(6).zip(le16(8))));
    }
    if bytes.starts_with(b"\xff\xd8") {
        // Walk the JPEG segments to a start-of-frame marker (SOF0..SOF15 but DHT, JPG, DAC).
        let mut i = 2;
        while i + 9 < bytes.len() && bytes[i] == 0xff {
            let marker = bytes[i + 1];
            let len = be16(i + 2)? as usize;
            if (0xc0..=0xcf).contains(&marker) && ![0xc4, 0xc8, 0xcc].contains(&marker) {
                return Some(("JPEG", be16(i + 7).zip(be16(i + 5))));
            }
            i += 2 + len;
        }
        return Some(("JPEG", None));
    }
    if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        return Some(("WebP", None));
    }
    if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" && (&bytes[8..12] == b"avif" || &bytes[8..12] == b"avis") {
        return Some(("AVIF", None));
    }
    None
}

fn kb(bytes: u64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
    } else {
        format!("{} KB", bytes / 1024)
    }
}

impl Rule for ImageUnoptimized {
    fn id(&self) -> &'static str {
        "image-unoptimized"
    }

    fn check_project(&self, project: &Project, sink: &mut ProjectSink) {
        let (Some(tracked), Some(root)) = (project.tracked.as_ref(), project.root.as_ref()) else { return };
        let mut images: Vec<&String> = tracked
            .iter()
            .filter(|rel| {
                let lower = rel.to_ascii_lowercase();
                let image = [".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif"].iter().any(|e| lower.ends_with(e));
                let dirs: Vec<&str> = lower.split('/').collect();
                let served = dirs[..dirs.len() - 1].iter().any(|d| SERVED.contains(d));
                let excluded = dirs.iter().any(|d| {
                    matches!(*d, "node_modules" | "docs" | "doc" | "test" | "tests" | "__tests__" | "fixtures" | ".github")
                });
                image && served && !excluded
            })
            .collect();
        images.sort();
        let budget = sink.config.raw.image_unoptimized.budget_kb.map_or(BUDGET, |kb| kb.saturating_mul(1024));
        for rel in images {
            let path = root.join(rel.as_str());
            // The size first: only an image over the budget is opened.
            if !project.metadata(&path).is_some_and(|(kind, len)| kind == 1 && len > budget) {
                continue;
            }
            let Some((len, head)) = project.head(&path, 64 * 1024) else { continue };
            if len <= budget {
                continue;
            }
            let Some((format, dims)) = header(&head) else { continue };
            let size = dims.map(|(w, h)| format!(", {w}×{h} pixels")).unwrap_or_default();
            let advice = match format {
                "WebP" | "AVIF" => "compress it harder or scale it to the size it is shown at",
                _ => "convert it to WebP or AVIF (typically a quarter of the size), or compress it and scale it to the size it is shown at",
            };
            sink.report_file(
                rel,
                format!("{format} image of {}{size}, over the {} budget for one image: {advice}", kb(len), kb(budget)),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::header;

    #[test]
    fn headers_give_format_and_size() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        png.extend_from_slice(&1920u32.to_be_bytes());
        png.extend_from_slice(&1080u32.to_be_bytes());
        assert_eq!(header(&png), Some(("PNG", Some((1920, 1080)))));
        assert_eq!(header(b"GIF89a\x80\x02\xe0\x01"), Some(("GIF", Some((640, 480)))));
        // SOI, an APP0 segment of 16 bytes, then SOF0: precision, height 600, width 800.
        let mut jpeg = b"\xff\xd8\xff\xe0\x00\x10".to_vec();
        jpeg.extend_from_slice(&[0; 14]);
        jpeg.extend_from_slice(b"\xff\xc0\x00\x11\x08\x02\x58\x03\x20\x03");
        assert_eq!(header(&jpeg), Some(("JPEG", Some((800, 600)))));
        assert_eq!(header(b"RIFF\0\0\0\0WEBPVP8 "), Some(("WebP", None)));
        assert_eq!(header(b"<svg xmlns="), None);
        assert_eq!(header(b"\xff\xd8\xff"), Some(("JPEG", None)));
    }
}
