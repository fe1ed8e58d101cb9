//! What an email is about: its subject without the reply and forward prefixes mail programs add
//! in every language, ticket tags and case, so that "Re: Fwd: [#12] Invoice" and "invoice" are
//! one topic. A fresh email on another topic than the customer's open conversation starts a new
//! one, as in every helpdesk.

/// Prefixes mail programs put before a subject, lower-case, without the colon: English, Polish,
/// Russian, German, the Nordic languages, French, Italian, Spanish, Dutch (and Outlook's
/// numbered `RE[2]`, handled apart).
const PREFIXES: &[&str] = &[
    "re",
    "fw",
    "fwd",
    "odp",
    "pd",
    "prz",
    "przekaż",
    "ответ",
    "отв",
    "пересл",
    "переслать",
    "aw",
    "wg",
    "sv",
    "vs",
    "vb",
    "tr",
    "réf",
    "rif",
    "r",
    "i",
    "rv",
    "antw",
    "doorst",
];

/// The topic of `subject`: `None` when it says nothing (empty, or only prefixes and tags).
pub fn topic_key(subject: &str) -> Option<String> {
    let rest = without_prefixes(subject);
    let key: String = rest.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
    (!key.is_empty()).then_some(key)
}

/// `subject` without the reply and forward prefixes and ticket tags at its front, as written
/// otherwise ("Re: [#12] Invoice" is "Invoice"): the name a conversation takes from a mail.
pub fn without_prefixes(subject: &str) -> &str {
    let mut rest = subject.trim();
    loop {
        let before = rest;
        // A ticket tag anywhere at the front: `[#1042]`, `[Ticket #1042]`.
        if let Some(tail) = rest.strip_prefix('[')
            && let Some(end) = tail.find(']')
            && tail[..end].contains('#')
        {
            rest = tail[end + 1..].trim_start();
        }
        if let Some(colon) = rest.find([':', '：']) {
            let head = rest[..colon].trim().to_lowercase();
            // `RE[2]`, `Re(3)`, `Re^2`: a numbered prefix.
            let bare = head.trim_end_matches(|c: char| c.is_ascii_digit() || "[]()^ ".contains(c));
            if PREFIXES.contains(&bare) {
                rest = rest[colon + rest[colon..].chars().next().map_or(1, char::len_utf8)..].trim_start();
            }
        }
        if rest == before {
            break;
        }
    }
    rest
}

/// Whether two subjects are on one topic. A subject that says nothing matches any.
pub fn same_topic(a: &str, b: &str) -> bool {
    match (topic_key(a), topic_key(b)) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_tags_and_case_do_not_change_the_topic() {
        for subject in [
            "Invoice for order 1042",
            "Re: Invoice for order 1042",
            "RE: Fwd: invoice  for ORDER 1042",
            "Odp: PD: Invoice for order 1042",
            "Ответ: ПЕРЕСЛ: Invoice for order 1042",
            "Отв: Invoice for order 1042",
            "AW: WG: Invoice for order 1042",
            "RE[2]: Invoice for order 1042",
            "[#1042] Re: Invoice for order 1042",
            "Re: [#1042] Invoice for order 1042",
        ] {
            assert_eq!(topic_key(subject).as_deref(), Some("invoice for order 1042"), "{subject}");
        }
        assert_eq!(topic_key("Возврат ТОВАРА").as_deref(), Some("возврат товара"));
        assert!(same_topic("Re: Возврат товара", "возврат товара"));
        assert!(!same_topic("Invoice for order 1042", "Broken lid"));
        // A colon inside a subject is not a prefix.
        assert_eq!(topic_key("Order: 1042 is late").as_deref(), Some("order: 1042 is late"));
        assert_eq!(without_prefixes("Re: Fwd: [#1042] Invoice for Order 1042"), "Invoice for Order 1042");
        // Nothing but prefixes: no topic, which matches any.
        assert_eq!(topic_key("Re: "), None);
        assert!(same_topic("Re:", "Broken lid"));
    }
}
