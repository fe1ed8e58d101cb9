//! The ticket references we put into outbound mail and read back from replies: the subject tag
//! `[#1042]` and the plus-address `support+t1042@…` we set as Reply-To.

/// The number in the first `[#N]` of a subject.
pub fn subject_ticket(subject: &str) -> Option<i64> {
    let mut rest = subject;
    while let Some(start) = rest.find("[#") {
        let after = &rest[start + 2..];
        let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
        if !digits.is_empty() && after[digits.len()..].starts_with(']') {
            return digits.parse().ok().filter(|n| *n > 0);
        }
        rest = after;
    }
    None
}

/// The subject of our outbound mail for conversation `number`: the tag first, once.
pub fn tagged_subject(number: i64, subject: &str) -> String {
    let tag = format!("[#{number}]");
    let subject = subject.trim();
    if subject.contains(&tag) {
        subject.to_string()
    } else if subject.is_empty() {
        tag
    } else {
        format!("{tag} {subject}")
    }
}

/// `Support+t42@Example.com` gives `support@example.com`: the address without its `+tag`, in
/// lower case, as a channel is configured with it.
pub fn base_address(address: &str) -> String {
    let address = address.trim().to_lowercase();
    match address.rsplit_once('@') {
        Some((local, domain)) => format!("{}@{domain}", local.split('+').next().unwrap_or(local)),
        None => address,
    }
}

/// `support@example.com` and conversation 1042 give `support+t1042@example.com`.
pub fn reply_address(support: &str, number: i64) -> String {
    match support.rsplit_once('@') {
        Some((local, domain)) => format!("{}+t{number}@{domain}", local.split('+').next().unwrap_or(local)),
        None => support.to_string(),
    }
}

/// The ticket number in a recipient that is one of `support` addresses plus `+tN`. With no
/// support address configured, any `+tN` tag counts.
pub fn address_ticket<'a>(recipients: impl IntoIterator<Item = &'a str>, support: &[String]) -> Option<i64> {
    recipients.into_iter().find_map(|addr| {
        let (local, _) = addr.trim().rsplit_once('@')?;
        let (_, tag) = local.split_once('+')?;
        let plain = base_address(addr);
        if !support.is_empty() && !support.iter().any(|s| s.eq_ignore_ascii_case(&plain)) {
            return None;
        }
        let digits = tag.strip_prefix('t').or_else(|| tag.strip_prefix('T'))?;
        if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok().filter(|n| *n > 0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subject_tags() {
        assert_eq!(subject_ticket("Re: [#48213] Заказ"), Some(48213));
        assert_eq!(subject_ticket("[#] [#x1] [#12"), None);
        assert_eq!(subject_ticket("Re: [#abc] and [#7]"), Some(7));
        assert_eq!(tagged_subject(7, "Re: [#7] Hello"), "Re: [#7] Hello");
        assert_eq!(tagged_subject(7, "Hello"), "[#7] Hello");
    }

    #[test]
    fn plus_addresses() {
        let support = vec!["support@helpdesk.example.com".to_string()];
        assert_eq!(reply_address("support@helpdesk.example.com", 42), "support+t42@helpdesk.example.com");
        assert_eq!(address_ticket(["Support+t42@helpdesk.example.com"], &support), Some(42));
        assert_eq!(address_ticket(["other+t42@helpdesk.example.com"], &support), None);
        assert_eq!(address_ticket(["support+news@helpdesk.example.com"], &support), None);
        assert_eq!(address_ticket(["anyone+t9@x.example"], &[]), Some(9));
        assert_eq!(base_address(" Support+t42@Helpdesk.Example.com "), "support@helpdesk.example.com");
    }
}
