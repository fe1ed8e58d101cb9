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
    if let Some(v) = header(headers, "X-Auto-Response-Suppress") {
        // Exchange sets it on its own automatic mail; senders of bulk mail set it too.
        auto_reply = true;
        signals.push(format!("X-Auto-Response-Suppress: {v}"));
    }
    if header(headers, "X-MS-Exchange-Inbox-Rules-Loop").is_some() {
        auto_reply = true;
        signals.push("X-MS-Exchange-Inbox-Rules-Loop".into());
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
    Automatic { auto_reply, bulk, signals }
}
