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

#[cfg(test)]
mod tests {
    use super::*;

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
