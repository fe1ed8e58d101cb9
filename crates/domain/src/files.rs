//! File names and media types as they are kept and served: whatever a sender wrote (control
//! characters, paths, megabytes of name, `text/html; x=<script>`) becomes a name a browser and
//! an HTTP header take, and a plain `type/subtype`.

/// Longest file name kept, in characters (most file systems allow 255 bytes).
pub const MAX_FILENAME_CHARS: usize = 200;

/// The name a file is kept under: the last path segment (no `../`, no `C:\`), control and
/// format characters (including bidirectional overrides that disguise `exe` as `txt`) and
/// quotes removed, whitespace runs as one space, at most `MAX_FILENAME_CHARS` characters with
/// its extension kept, `file` when nothing is left.
pub fn clean_filename(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    let mut name = String::with_capacity(last.len().min(MAX_FILENAME_CHARS * 4));
    let mut space = false;
    for c in last.chars() {
        if c.is_control() || is_invisible_format(c) || c == '"' {
            continue;
        }
        if c.is_whitespace() {
            space = !name.is_empty();
            continue;
        }
        if space {
            name.push(' ');
            space = false;
        }
        name.push(c);
    }
    let name = name.trim_matches(|c: char| c == '.' || c == ' ');
    if name.is_empty() {
        return "file".into();
    }
    if name.chars().count() <= MAX_FILENAME_CHARS {
        return name.to_owned();
    }
    // Keep a short extension: the type a person sees the file as.
    let ext = name.rsplit_once('.').map(|(_, e)| e).filter(|e| (1..=10).contains(&e.chars().count()) && !e.contains(' '));
    let keep = MAX_FILENAME_CHARS - ext.map_or(0, |e| e.chars().count() + 1);
    let stem: String = name.chars().take(keep).collect();
    match ext {
        Some(ext) => format!("{}.{ext}", stem.trim_end()),
        None => stem,
    }
}

/// Unicode format characters that change how a name reads without being seen (RFC 9839's
/// "problematic" code points for names: bidi controls, zero-width characters, BOM).
fn is_invisible_format(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}' | '\u{00AD}')
}

/// The media type a file is kept as: `type/subtype`, lower-case, of RFC 6838's restricted
/// name characters only (parameters dropped); `application/octet-stream` for anything else.
pub fn clean_content_type(raw: &str) -> String {
    let essence = raw.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let restricted = |s: &str| {
        (1..=127).contains(&s.len())
            && s.as_bytes()[0].is_ascii_alphanumeric()
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    match essence.split_once('/') {
        Some((kind, sub)) if restricted(kind) && restricted(sub) => essence,
        _ => "application/octet-stream".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_paths_controls_quotes_and_disguises() {
        assert_eq!(clean_filename("../../etc/passwd"), "passwd");
        assert_eq!(clean_filename("C:\\Users\\a\\report.pdf"), "report.pdf");
        assert_eq!(clean_filename("in\r\nvoice\u{0}.pdf"), "invoice.pdf");
        assert_eq!(clean_filename("photo\u{202E}gpj.exe"), "photogpj.exe");
        assert_eq!(clean_filename("a  \"b\"\t c.txt"), "a b c.txt");
        assert_eq!(clean_filename("Счёт №5.pdf"), "Счёт №5.pdf");
        assert_eq!(clean_filename(" .. "), "file");
        assert_eq!(clean_filename(""), "file");
        let long = format!("{}.pdf", "ż".repeat(1000));
        let kept = clean_filename(&long);
        assert_eq!(kept.chars().count(), MAX_FILENAME_CHARS);
        assert!(kept.ends_with(".pdf"));
    }

    #[test]
    fn types_are_a_plain_type_and_subtype_or_octet_stream() {
        assert_eq!(clean_content_type("Image/PNG"), "image/png");
        assert_eq!(clean_content_type("text/plain; charset=utf-8"), "text/plain");
        assert_eq!(clean_content_type("application/vnd.ms-excel"), "application/vnd.ms-excel");
        assert_eq!(clean_content_type("text/html\r\nX-Evil: 1"), "application/octet-stream");
        assert_eq!(clean_content_type("image"), "application/octet-stream");
        assert_eq!(clean_content_type("../x"), "application/octet-stream");
        assert_eq!(clean_content_type("im age/png"), "application/octet-stream");
    }
}
