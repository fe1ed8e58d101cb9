//! Conversation tags: what an agent may put on a conversation, cleaned to one form (trimmed,
//! lower-case, each once, sorted) and bounded, so a tag list costs the same everywhere it goes.

use std::collections::BTreeSet;

/// Most tags one conversation carries.
pub const MAX_TAGS: usize = 50;
/// Longest tag, in characters.
pub const MAX_TAG_CHARS: usize = 64;

/// Why a tag list is refused: `field` is `tags` or `tags[i]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagError {
    pub field: String,
    pub message: String,
}

/// The tags as stored: each trimmed and lower-cased, duplicates once, in order. Refuses more
/// than `MAX_TAGS` entries (before cleaning, so the work is bounded by the limit, not the
/// input), and a tag that is empty, longer than `MAX_TAG_CHARS` or holds a control character.
/// O(n log n) in the number of tags.
pub fn clean_tags(tags: &[String]) -> Result<Vec<String>, TagError> {
    if tags.len() > MAX_TAGS {
        return Err(TagError { field: "tags".into(), message: format!("at most {MAX_TAGS} tags, {} given", tags.len()) });
    }
    let mut out = BTreeSet::new();
    for (i, tag) in tags.iter().enumerate() {
        let tag = tag.trim();
        if tag.is_empty() || tag.chars().count() > MAX_TAG_CHARS || tag.chars().any(char::is_control) {
            return Err(TagError { field: format!("tags[{i}]"), message: format!("a tag is 1 to {MAX_TAG_CHARS} printable characters") });
        }
        out.insert(tag.to_lowercase());
    }
    Ok(out.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(list: &[&str]) -> Vec<String> {
        list.iter().map(|t| t.to_string()).collect()
    }

    #[test]
    fn tags_are_trimmed_lower_cased_once_and_sorted() {
        assert_eq!(clean_tags(&tags(&[" VIP ", "Refund", "vip", "Возврат"])), Ok(tags(&["refund", "vip", "возврат"])));
    }

    #[test]
    fn too_many_too_long_empty_or_control_tags_are_refused_by_field() {
        let many: Vec<String> = (0..=MAX_TAGS).map(|i| format!("t{i}")).collect();
        assert_eq!(clean_tags(&many).map_err(|e| e.field), Err("tags".into()));
        assert!(clean_tags(&many[..MAX_TAGS]).is_ok());
        assert_eq!(clean_tags(&tags(&["ok", &"x".repeat(65)])).map_err(|e| e.field), Err("tags[1]".into()));
        assert!(clean_tags(&tags(&["ż".repeat(64).as_str()])).is_ok());
        assert_eq!(clean_tags(&tags(&["  "])).map_err(|e| e.field), Err("tags[0]".into()));
        assert_eq!(clean_tags(&tags(&["a\u{0}b"])).map_err(|e| e.field), Err("tags[0]".into()));
    }
}
