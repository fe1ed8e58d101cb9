//! Our replies as MIME: the headers that make the customer's mail program thread them and that
//! bring the customer's answer back to the same conversation (Message-ID carrying the ticket,
//! In-Reply-To/References, the `[#N]` subject tag, the `+tN` Reply-To), text and HTML
//! alternatives, and the attachments.

use crate::tokens;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};

/// One reply to send, in the terms of the conversation.
#[derive(Debug, Clone)]
pub struct OutboundEmail {
    /// The support address it is sent from; its `+tN` form becomes Reply-To.
    pub from_address: String,
    pub from_name: Option<String>,
    pub to_address: String,
    pub to_name: Option<String>,
    /// People copied on the conversation.
    pub cc: Vec<String>,
    pub conversation_number: i64,
    /// The conversation's subject (the customer's first mail's), if any.
    pub subject: Option<String>,
    /// Our message's id (the message row's), made part of the Message-ID.
    pub message_key: String,
    /// Message-IDs of the conversation's mail on this channel, oldest first, without brackets:
    /// the last inbound one is answered (In-Reply-To), all of them are References.
    pub thread: Vec<ThreadMail>,
    pub text: String,
    pub attachments: Vec<OutboundAttachment>,
    /// An automatic answer (the acknowledgement): marked `Auto-Submitted: auto-replied` so that
    /// the other side's autoresponder does not answer it.
    pub automatic: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadMail {
    pub message_id: String,
    pub inbound: bool,
}

#[derive(Debug, Clone)]
pub struct OutboundAttachment {
    pub filename: String,
    pub content_type: String,
    pub content: Vec<u8>,
}

/// Why a reply cannot be written as mail: always the data's fault, so never worth retrying.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ComposeError(pub String);

/// References name at most this many ids (the first and the latest ones): some servers refuse
/// header lines of thousands of characters, and the thread is found by the nearest ones.
const MAX_REFERENCES: usize = 20;

/// The Message-ID of our message `key` in conversation `number`: `t42.<key>@<domain>`, so that
/// a reply naming it leads back even without the database row (and is recognisably ours).
pub fn message_id(number: i64, key: &str, from_address: &str) -> String {
    let domain = from_address.rsplit_once('@').map_or("switchboard.invalid", |(_, d)| d);
    let key: String = key.chars().filter(char::is_ascii_alphanumeric).collect();
    format!("t{number}.{key}@{domain}")
}

/// The subject of a reply: `Re: [#N] …` when it answers mail, else `[#N] …`; earlier `Re:`
/// and `Fwd:` prefixes are folded into one.
pub fn reply_subject(number: i64, subject: Option<&str>, answers_mail: bool) -> String {
    let mut rest = subject.unwrap_or("").trim();
    loop {
        let lower = rest.to_lowercase();
        let prefix = ["re:", "fwd:", "fw:", "aw:", "odp:", "ответ:"].into_iter().find(|p| lower.starts_with(p));
        match prefix {
            // The prefixes are ASCII or whole Cyrillic words; their char count is their length
            // in the lower-cased text, so count chars, not bytes, when cutting the original.
            Some(p) => rest = rest[rest.char_indices().nth(p.chars().count()).map_or(rest.len(), |(i, _)| i)..].trim_start(),
            None => break,
        }
    }
    let tagged = tokens::tagged_subject(number, rest);
    if answers_mail { format!("Re: {tagged}") } else { tagged }
}

/// The agent's plain text as simple HTML: escaped, paragraphs at blank lines, breaks at lines.
pub fn text_to_html(text: &str) -> String {
    let escape = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
    let paragraphs: Vec<String> = text
        .replace("\r\n", "\n")
        .split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .map(|p| format!("<p>{}</p>", p.trim_matches('\n').lines().map(escape).collect::<Vec<_>>().join("<br>\n")))
        .collect();
    format!("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head><body>\n{}\n</body></html>\n", paragraphs.join("\n"))
}

/// A reply as a ready MIME message, and the Message-ID it carries (without brackets).
pub fn compose(mail: &OutboundEmail) -> Result<(lettre::Message, String), ComposeError> {
    let mailbox = |name: Option<&String>, address: &str, field: &str| -> Result<Mailbox, ComposeError> {
        let address = address.parse().map_err(|e| ComposeError(format!("{field} {address} is not a usable address: {e}")))?;
        Ok(Mailbox::new(name.filter(|n| !n.trim().is_empty()).cloned(), address))
    };
    let id = message_id(mail.conversation_number, &mail.message_key, &mail.from_address);
    let answered = mail.thread.iter().rev().find(|m| m.inbound);
    let mut builder = lettre::Message::builder()
        .from(mailbox(mail.from_name.as_ref(), &mail.from_address, "from")?)
        .reply_to(mailbox(mail.from_name.as_ref(), &tokens::reply_address(&mail.from_address, mail.conversation_number), "reply-to")?)
        .to(mailbox(mail.to_name.as_ref(), &mail.to_address, "to")?)
        .subject(reply_subject(mail.conversation_number, mail.subject.as_deref(), answered.is_some()))
        .message_id(Some(format!("<{id}>")))
        .date_now();
    for cc in &mail.cc {
        if !cc.eq_ignore_ascii_case(&mail.to_address) {
            builder = builder.cc(mailbox(None, cc, "cc")?);
        }
    }
    if let Some(answered) = answered {
        builder = builder.in_reply_to(format!("<{}>", answered.message_id));
    }
    if !mail.thread.is_empty() {
        let ids: Vec<&ThreadMail> = if mail.thread.len() > MAX_REFERENCES {
            // The first (the conversation's root) and the latest ones.
            std::iter::once(&mail.thread[0]).chain(&mail.thread[mail.thread.len() - (MAX_REFERENCES - 1)..]).collect()
        } else {
            mail.thread.iter().collect()
        };
        builder = builder.references(ids.iter().map(|m| format!("<{}>", m.message_id)).collect::<Vec<_>>().join(" "));
    }
    if mail.automatic {
        builder = builder.raw_header(HeaderValue::new(HeaderName::new_from_ascii_str("Auto-Submitted"), "auto-replied".into()));
        // Exchange and Outlook: do not answer this with an out-of-office reply.
        builder = builder.raw_header(HeaderValue::new(HeaderName::new_from_ascii_str("X-Auto-Response-Suppress"), "All".into()));
    }
    let body = MultiPart::alternative_plain_html(mail.text.clone(), text_to_html(&mail.text));
    let message = if mail.attachments.is_empty() {
        builder.multipart(body)
    } else {
        let mut mixed = MultiPart::mixed().multipart(body);
        for a in &mail.attachments {
            let content_type =
                ContentType::parse(&a.content_type).unwrap_or(ContentType::parse("application/octet-stream").expect("a valid type"));
            let part: SinglePart = Attachment::new(a.filename.clone()).body(a.content.clone(), content_type);
            mixed = mixed.singlepart(part);
        }
        builder.multipart(mixed)
    };
    let message = message.map_err(|e| ComposeError(format!("cannot build the message: {e}")))?;
    Ok((message, id))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply() -> OutboundEmail {
        OutboundEmail {
            from_address: "support@helpdesk.example.com".into(),
            from_name: Some("Поддержка".into()),
            to_address: "anna@example.ru".into(),
            to_name: Some("Анна Петрова".into()),
            cc: vec!["boss@example.ru".into()],
            conversation_number: 42,
            subject: Some("Re: Fwd: Заказ не пришёл".into()),
            message_key: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b".into(),
            thread: vec![
                ThreadMail { message_id: "first@mail.example.ru".into(), inbound: true },
                ThreadMail { message_id: "t42.x@helpdesk.example.com".into(), inbound: false },
                ThreadMail { message_id: "second@mail.example.ru".into(), inbound: true },
            ],
            text: "Здравствуйте!\n\nПосылка <в пути>.\nСпасибо".into(),
            attachments: vec![OutboundAttachment {
                filename: "накладная.pdf".into(),
                content_type: "application/pdf".into(),
                content: b"%PDF-1.4".to_vec(),
            }],
            automatic: false,
        }
    }

    #[test]
    fn a_reply_carries_the_thread_and_the_ticket() {
        let (message, id) = compose(&reply()).expect("compose");
        assert_eq!(id, "t42.0190a1b2c3d47e5f8a9b0c1d2e3f4a5b@helpdesk.example.com");
        let raw = message.formatted();
        // Read back with the same parser intake uses: what we send must thread when it returns.
        let parsed = crate::parse::parse(&raw).expect("parse our own mail");
        assert_eq!(parsed.message_id, id);
        assert_eq!(parsed.in_reply_to, vec!["second@mail.example.ru".to_string()]);
        assert_eq!(parsed.references, vec!["first@mail.example.ru", "t42.x@helpdesk.example.com", "second@mail.example.ru"]);
        assert_eq!(parsed.subject.as_deref(), Some("Re: [#42] Заказ не пришёл"));
        assert_eq!(parsed.reply_to.first().map(|m| m.address.as_str()), Some("support+t42@helpdesk.example.com"));
        assert_eq!(parsed.from.as_ref().and_then(|m| m.name.as_deref()), Some("Поддержка"));
        assert_eq!(parsed.to.first().and_then(|m| m.name.as_deref()), Some("Анна Петрова"));
        assert_eq!(parsed.cc.first().map(|m| m.address.as_str()), Some("boss@example.ru"));
        assert_eq!(parsed.text.trim_end(), "Здравствуйте!\n\nПосылка <в пути>.\nСпасибо");
        assert!(parsed.raw_html.as_deref().is_some_and(|h| h.contains("Посылка &lt;в пути&gt;.<br>")));
        assert_eq!(parsed.attachments.len(), 1);
        assert_eq!(parsed.attachments[0].filename, "накладная.pdf");
        assert_eq!(parsed.attachments[0].content, b"%PDF-1.4");
        assert!(!parsed.automatic.auto_reply);
        let text = String::from_utf8_lossy(&raw);
        assert!(text.contains("multipart/alternative"), "{text}");
    }

    #[test]
    fn an_automatic_answer_says_so() {
        let mut ack = reply();
        ack.automatic = true;
        ack.thread.truncate(1);
        ack.attachments.clear();
        let (message, _) = compose(&ack).expect("compose");
        let parsed = crate::parse::parse(&message.formatted()).expect("parse");
        assert!(parsed.automatic.auto_reply, "our own acknowledgement must read as automatic");
        assert_eq!(parsed.in_reply_to, vec!["first@mail.example.ru".to_string()]);
    }

    #[test]
    fn long_threads_keep_the_root_and_the_latest_references() {
        let mut long = reply();
        long.thread = (0..50).map(|i| ThreadMail { message_id: format!("m{i}@x.example"), inbound: i % 2 == 0 }).collect();
        let (message, _) = compose(&long).expect("compose");
        let parsed = crate::parse::parse(&message.formatted()).expect("parse");
        assert_eq!(parsed.references.len(), MAX_REFERENCES);
        assert_eq!(parsed.references[0], "m0@x.example");
        assert_eq!(parsed.references.last().map(String::as_str), Some("m49@x.example"));
        assert_eq!(parsed.in_reply_to, vec!["m48@x.example".to_string()]);
    }

    #[test]
    fn subjects_fold_prefixes_and_tag_once() {
        assert_eq!(reply_subject(7, Some("RE: Re: Fwd: Hello"), true), "Re: [#7] Hello");
        assert_eq!(reply_subject(7, Some("Ответ: Привет"), false), "[#7] Привет");
        assert_eq!(reply_subject(7, Some("Re: [#7] Hello"), true), "Re: [#7] Hello");
        assert_eq!(reply_subject(7, None, false), "[#7]");
    }

    #[test]
    fn bad_addresses_are_refused_not_sent() {
        let mut bad = reply();
        bad.to_address = "not an address".into();
        assert!(compose(&bad).expect_err("refused").0.contains("to not an address"));
    }
}
