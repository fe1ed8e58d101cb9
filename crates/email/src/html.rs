//! HTML from strangers made safe to show an agent: an allowlist of tags and attributes (no
//! scripts, handlers, forms, styles or frames), `cid:` images pointed at the stored attachment,
//! remote images blocked unless the agent allowed them for this message (they track opens).

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sanitized {
    pub html: String,
    /// Remote images removed; the agent can ask to see them.
    pub blocked_images: usize,
}

/// `cid_urls`: Content-ID (no brackets) to the URL the stored inline image is served from.
pub fn sanitize(html: &str, cid_urls: &HashMap<String, String>, allow_remote_images: bool) -> Sanitized {
    let cids = Arc::new(cid_urls.clone());
    let blocked = Arc::new(AtomicUsize::new(0));
    let counter = blocked.clone();
    let mut builder = ammonia::Builder::default();
    builder
        .url_schemes(HashSet::from(["http", "https", "mailto", "tel", "cid"]))
        .add_tag_attributes("td", ["colspan", "rowspan", "align", "valign"])
        .add_tag_attributes("th", ["colspan", "rowspan", "align", "valign"])
        .add_tags(["center", "font"])
        .add_tag_attributes("font", ["color", "face", "size"])
        .attribute_filter(move |element, attribute, value| {
            if element != "img" || attribute != "src" {
                return Some(Cow::Owned(value.to_string()));
            }
            let lower = value.trim().to_ascii_lowercase();
            if let Some(cid) = lower.strip_prefix("cid:").map(|_| value.trim()[4..].trim_start_matches('<').trim_end_matches('>')) {
                return cids.get(cid).map(|url| Cow::Owned(url.clone()));
            }
            if allow_remote_images && (lower.starts_with("https:") || lower.starts_with("http:")) {
                return Some(Cow::Owned(value.to_string()));
            }
            counter.fetch_add(1, Ordering::Relaxed);
            None
        });
    let html = builder.clean(html).to_string();
    Sanitized { html, blocked_images: blocked.load(Ordering::Relaxed) }
}

/// Deepest element nesting an HTML body may have to be shown as HTML. Parsing HTML costs the
/// depth for every element (the HTML5 tree builder searches the open elements for each tag),
/// so 20,000 nested `<div>`s took seconds; real mail nests a few dozen deep. A deeper body is
/// shown as its text. Browsers cap the same way (Chromium at 512).
pub const MAX_DEPTH: usize = 256;

/// Elements that never hold others.
const VOID: &[&str] = &[
    "area", "base", "basefont", "bgsound", "br", "col", "embed", "frame", "hr", "img", "input", "keygen", "link", "meta", "param",
    "source", "track", "wbr",
];
/// Elements a parser closes by themselves when the next of their kind starts: they never
/// stack up, so they are not counted.
const SELF_CLOSING_SIBLINGS: &[&str] = &[
    "p", "li", "dt", "dd", "option", "optgroup", "td", "th", "tr", "tbody", "thead", "tfoot", "rb", "rt", "rtc", "rp", "colgroup",
    "caption", "html", "head", "body",
];
/// Elements whose content is text up to their own end tag.
const RAW_TEXT: &[&str] = &["script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "noscript"];

/// Most attributes one tag may carry for the body to be shown as HTML: the parser compares each
/// attribute with the ones before it on its tag (duplicates are dropped), so 100,000 on one tag
/// took seconds. Real mail has a handful per tag.
pub const MAX_ATTRIBUTES: usize = 512;

/// Whether parsing `html` would cost more than its size: elements nested deeper than
/// `MAX_DEPTH` or a tag with more than `MAX_ATTRIBUTES` attributes, estimated in one linear
/// pass over its tags. A start tag opens one level, an end tag closes one if an element of its
/// name is open. Errs on the costly side (it knows fewer implied end tags than a parser, and
/// counts `=` and values written without quotes as names), never by more than a small factor
/// on the cheap side, which is what bounds the parser's work.
pub fn too_costly(html: &str) -> bool {
    let lower = html.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let mut open: HashMap<&str, usize> = HashMap::new();
    let (mut depth, mut i) = (0usize, 0usize);
    let name_at = |from: usize| {
        let end =
            bytes[from..].iter().position(|b| !(b.is_ascii_alphanumeric() || *b == b'-' || *b == b':')).map_or(bytes.len(), |n| from + n);
        (&lower[from..end], end)
    };
    while let Some(offset) = lower[i..].find('<') {
        let at = i + offset;
        let next = bytes.get(at + 1).copied().unwrap_or(b' ');
        if lower[at..].starts_with("<!--") {
            i = lower[at + 4..].find("-->").map_or(bytes.len(), |n| at + 4 + n + 3);
        } else if next == b'!' || next == b'?' {
            i = lower[at..].find('>').map_or(bytes.len(), |n| at + n + 1);
        } else if next == b'/' && bytes.get(at + 2).is_some_and(u8::is_ascii_alphabetic) {
            let (name, end) = name_at(at + 2);
            if let Some(count) = open.get_mut(name).filter(|c| **c > 0) {
                *count -= 1;
                depth -= 1;
            }
            i = lower[end..].find('>').map_or(bytes.len(), |n| end + n + 1);
        } else if next.is_ascii_alphabetic() {
            let (name, end) = name_at(at + 1);
            let (close, attributes) = tag_end(bytes, end);
            if attributes > MAX_ATTRIBUTES {
                return true;
            }
            let self_closed = close >= 2
                && bytes[close - 2] == b'/'
                && (open.get("svg").is_some_and(|c| *c > 0) || open.get("math").is_some_and(|c| *c > 0));
            i = close;
            if RAW_TEXT.contains(&name) {
                i = lower[i..].find(&format!("</{name}")).map_or(bytes.len(), |n| i + n);
                continue;
            }
            if name == "plaintext" {
                break;
            }
            if VOID.contains(&name) || SELF_CLOSING_SIBLINGS.contains(&name) || self_closed {
                continue;
            }
            *open.entry(name).or_default() += 1;
            depth += 1;
            if depth > MAX_DEPTH {
                return true;
            }
        } else {
            i = at + 1;
        }
    }
    false
}

/// Just past the `>` closing the tag whose name ends at `from`, skipping quoted attribute
/// values (they may hold `>`), and how many attribute names it saw (a run of characters
/// after white space, outside quotes).
fn tag_end(bytes: &[u8], from: usize) -> (usize, usize) {
    let (mut quote, mut attributes, mut after_space) = (None, 0usize, false);
    for (n, &b) in bytes[from..].iter().enumerate() {
        match (quote, b) {
            (Some(q), _) if b == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(b),
            (None, b'>') => return (from + n + 1, attributes),
            (None, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' | b'/') => {
                after_space = true;
                continue;
            }
            _ => {}
        }
        if after_space && quote.is_none() {
            attributes += 1;
        }
        after_space = false;
    }
    (bytes.len(), attributes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_is_measured_in_one_pass_and_errs_deep() {
        let nested = |n: usize, open: &str, close: &str| format!("{}x{}", open.repeat(n), close.repeat(n));
        assert!(!too_costly(&nested(200, "<div class=\"a>b\">", "</div>")));
        assert!(too_costly(&nested(300, "<div>", "</div>")));
        // Self-closing syntax does not close an HTML element; unmatched end tags close nothing.
        assert!(too_costly(&"<div/>".repeat(300)));
        assert!(too_costly(&"<span></b>".repeat(300)));
        // Siblings, paragraphs and list items that close each other, comments and scripts do not add up.
        assert!(!too_costly(&"<div>x</div>".repeat(10_000)));
        assert!(!too_costly(&"<p>x<li>y<td>z<br>".repeat(10_000)));
        assert!(!too_costly(&format!("<!--{}--><script>{}</script>", "<div>".repeat(1000), "<div>".repeat(1000))));
        assert!(!too_costly(&format!("<svg>{}</svg>", "<path d=\"M0\"/>".repeat(1000))));
        assert!(!too_costly(&"<DIV>x</Div>".repeat(1000)));
        // Attributes: a few hundred on one tag are fine, thousands are not; across tags they do not add up.
        let tag = |n: usize| format!("<p{}>x</p>", (0..n).map(|i| format!(" a{i}=\"v w\"")).collect::<String>());
        assert!(!too_costly(&tag(200)));
        assert!(too_costly(&tag(1000)));
        assert!(!too_costly(&tag(100).repeat(1000)));
    }

    #[test]
    fn scripts_handlers_forms_and_remote_images_are_removed() {
        let dirty = r#"<p onclick="steal()">Hi<script>alert(1)</script></p><form action="https://x.example"><input name=p></form>
            <img src="https://tracker.example/p.gif"><img src="cid:logo@x"><a href="javascript:alert(1)">x</a><style>p{}</style>"#;
        let cids = HashMap::from([("logo@x".to_string(), "/api/v1/attachments/1".to_string())]);
        let out = sanitize(dirty, &cids, false);
        for bad in ["onclick", "script", "alert", "<form", "<input", "tracker.example", "javascript", "<style"] {
            assert!(!out.html.contains(bad), "{bad} left in {}", out.html);
        }
        assert!(out.html.contains(r#"src="/api/v1/attachments/1""#), "{}", out.html);
        assert_eq!(out.blocked_images, 1);
        let allowed = sanitize(dirty, &cids, true);
        assert!(allowed.html.contains("https://tracker.example/p.gif"));
        assert_eq!(allowed.blocked_images, 0);
    }
}
