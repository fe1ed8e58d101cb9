//! Is this mail written by a machine? RFC 3834 and the de-facto headers and habits of
//! autoresponders, list servers and mailer daemons. Automatic mail is stored and marked but
//! never answered automatically and never reopens a solved conversation.

/// What the headers say about who wrote the message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Automatic {
    /// An autoresponder, a notification or a delivery report wrote it.
    pub auto_reply: bool,
    /// Mailing-list or bulk mail: written by a person perhaps, but never to be answered
    /// automatically (RFC 3834 section 2).
    pub bulk: bool,
    /// The signals found, as `Header: value` or a short description, for the agent and the log.
    pub signals: Vec<String>,
}

impl Automatic {
    /// No automatic mail (acknowledgement, notification) may go back to this sender.
    pub fn suppresses_automatic_mail(&self) -> bool {
        self.auto_reply || self.bulk
    }
}

/// Subject prefixes autoresponders use when they send no header to say so (Exchange, some
/// webmails), in the languages our customers write.
const AUTO_SUBJECT_PREFIXES: &[&str] = &[
    "automatic reply:",
    "auto reply:",
    "autoreply:",
    "auto-reply:",
    "out of office:",
    "out of office reply:",
    "автоответ:",
    "автоматический ответ:",
    "нет на месте:",
    "odpowiedź automatyczna:",
    "automatyczna odpowiedź:",
    "nieobecność w biurze:",
];

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

/// `headers`: every header of the message as (name, unfolded raw value).
pub fn classify(headers: &[(String, String)], subject: Option<&str>, from: Option<&str>, is_delivery_report: bool) -> Automatic {
    let mut signals = Vec::new();
    let mut auto_reply = false;
    let mut bulk = false;
    if let Some(v) = header(headers, "Auto-Submitted") {
        let keyword = v.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        if !keyword.is_empty() && keyword != "no" {
            auto_reply = true;
            signals.push(format!("Auto-Submitted: {keyword}"));
        }
    }
    for name in ["X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Auto-Reply"] {
        if let Some(v) = header(headers, name) {
            auto_reply = true;
            signals.push(format!("{name}: {v}"));
        }
    }
    if let Some(v) = header(headers, "Precedence") {
        let v = v.trim().to_ascii_lowercase();
        match v.as_str() {
            "auto_reply" | "auto-reply" => {
                auto_reply = true;
                signals.push(format!("Precedence: {v}"));
            }
            "bulk" | "junk" | "list" => {
                bulk = true;
                signals.push(format!("Precedence: {v}"));
            }
            _ => {}
        }
    }
    // `X-Auto-Response-Suppress` is not among them: it asks *others* not to answer this mail
    // automatically, and Outlook puts it on every reply a person writes (MS-OXCMAIL 2.2.3.2.14).
    // Exchange marks mail its rules and autoresponders generate with X-MS-Exchange-Generated-*
    // and X-MS-Exchange-Inbox-Rules-Loop.
    if let Some((name, _)) = headers.iter().find(|(n, _)| {
        let n = n.to_ascii_lowercase();
        n.starts_with("x-ms-exchange-generated-") || n == "x-ms-exchange-inbox-rules-loop"
    }) {
        auto_reply = true;
        signals.push(name.clone());
    }
    if header(headers, "List-Id").is_some() || header(headers, "List-Unsubscribe").is_some() {
        bulk = true;
        signals.push("List-Id".into());
    }
    if let Some(s) = subject {
        let lower = s.trim().to_lowercase();
        if let Some(prefix) = AUTO_SUBJECT_PREFIXES.iter().find(|p| lower.starts_with(*p)) {
            auto_reply = true;
            signals.push(format!("Subject prefix '{prefix}'"));
        }
    }
    if header(headers, "Return-Path").is_some_and(|v| v.trim() == "<>") {
        auto_reply = true;
        signals.push("Return-Path: <>".into());
    }
    if let Some(addr) = from {
        let local = addr.split('@').next().unwrap_or("").to_ascii_lowercase();
        if local == "mailer-daemon" || local == "postmaster" {
            auto_reply = true;
            signals.push(format!("From: {addr}"));
        }
    }
    if is_delivery_report {
        auto_reply = true;
        signals.push("multipart/report; report-type=delivery-status".into());
    }
    // Mail found automatic for the reasons above often carries this too: worth showing with
    // them, never a reason of its own.
    if (auto_reply || bulk)
        && let Some(v) = header(headers, "X-Auto-Response-Suppress")
    {
        signals.push(format!("X-Auto-Response-Suppress: {v}"));
    }
    Automatic { auto_reply, bulk, signals }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn a_persons_reply_from_outlook_is_not_automatic() {
        // What Outlook and Exchange put on a reply a person typed.
        let outlook = headers(&[
            ("X-Auto-Response-Suppress", "All"),
            ("X-MS-Has-Attach", ""),
            ("X-MS-TNEF-Correlator", ""),
            ("Thread-Topic", "Order 1042"),
            ("X-MS-Exchange-Organization-SCL", "-1"),
            ("Return-Path", "<anna@example.pl>"),
        ]);
        let seen = classify(&outlook, Some("RE: Order 1042"), Some("anna@example.pl"), false);
        assert_eq!(seen, Automatic::default(), "{:?}", seen.signals);
    }

    /// Headers, subject, sender, and whether the mail is automatic.
    type Case<'a> = (&'a [(&'a str, &'a str)], Option<&'a str>, &'a str, bool);

    #[test]
    fn machines_are_known_by_their_own_markers() {
        let cases: &[Case] = &[
            (&[("Auto-Submitted", "auto-replied")], None, "anna@example.pl", true),
            (&[("Auto-Submitted", "auto-generated; type=ooo")], None, "anna@example.pl", true),
            (&[("X-Autoreply", "yes")], None, "anna@example.pl", true),
            (&[("X-Autorespond", "Out of office")], None, "anna@example.pl", true),
            (&[("X-MS-Exchange-Generated-Message-Source", "Mailbox Rules Agent")], None, "anna@example.pl", true),
            (&[("X-MS-Exchange-Inbox-Rules-Loop", "anna@example.pl")], None, "anna@example.pl", true),
            (&[("Return-Path", "<>")], None, "anna@example.pl", true),
            (&[], None, "MAILER-DAEMON@mx.example.pl", true),
            (&[], Some("Automatic reply: Order 1042"), "anna@example.pl", true),
            (&[("Auto-Submitted", "no")], None, "anna@example.pl", false),
        ];
        for (list, subject, from, auto) in cases {
            let seen = classify(&headers(list), *subject, Some(from), false);
            assert_eq!(seen.auto_reply, *auto, "{list:?} {subject:?} {from}: {:?}", seen.signals);
        }
        for precedence in ["bulk", "junk", "list"] {
            let seen = classify(&headers(&[("Precedence", precedence)]), None, Some("news@shop.example"), false);
            assert!(seen.bulk && seen.suppresses_automatic_mail(), "{precedence}");
        }
    }
}
