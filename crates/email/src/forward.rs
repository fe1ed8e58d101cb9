//! Forwarded mail: who wrote the original, whether it came as an attached `message/rfc822` or
//! as a "Forwarded message" block in the text. Shown to the agent; it never changes who the
//! sender is, since anyone can type a forward block.

use crate::parse::{Attachment, Mailbox};
use mail_parser::{Message, PartType};

#[derive(Debug, Clone, PartialEq)]
pub struct Forwarded {
    pub from: Option<Mailbox>,
    pub subject: Option<String>,
    pub message_id: Option<String>,
    /// The original's own attachments (attached forwards only).
    pub attachments: Vec<Attachment>,
}

/// The first attached message, parsed.
pub fn attached_forward(message: &Message<'_>) -> Option<Forwarded> {
    // A delivery report carries our own returned mail: that is not a forward.
    if message.parts.first().is_some_and(|p| mail_parser::MimeHeaders::is_content_type(p, "multipart", "report")) {
        return None;
    }
    message.attachments.iter().find_map(|&id| match &message.parts.get(id as usize)?.body {
        PartType::Message(inner) => {
            // Parsed again on its own bytes: the nested parse keeps the outer message's offsets.
            let parsed = crate::parse::parse_at(inner.raw_message(), crate::parse::Forwards::Ignore).ok()?;
            Some(Forwarded {
                from: parsed.from,
                subject: parsed.subject,
                message_id: (!parsed.message_id_synthesized).then_some(parsed.message_id),
                attachments: parsed.attachments,
            })
        }
        _ => None,
    })
}

/// Markers mail clients put before an inline forward.
const MARKERS: &[&str] = &[
    "---------- forwarded message",
    "-------- forwarded message",
    "-------- original message",
    "begin forwarded message:",
    "---------- пересылаемое сообщение",
    "-------- пересылаемое сообщение",
    "-------- перенаправленное сообщение",
    "---------- przekazana wiadomość",
    "-------- przekazana wiadomość",
    "-----original message-----",
];

fn field<'a>(line: &'a str, names: &[&str]) -> Option<&'a str> {
    let (name, value) = line.split_once(':')?;
    let name = name.trim().trim_matches('*').trim();
    names.iter().any(|n| name.eq_ignore_ascii_case(n)).then(|| value.trim())
}

/// `Name <addr>` or a bare address.
fn mailbox(value: &str) -> Option<Mailbox> {
    let value = value.trim();
    if let (Some(open), Some(close)) = (value.rfind('<'), value.rfind('>')) {
        let address = value.get(open + 1..close)?.trim();
        if !address.contains('@') {
            return None;
        }
        let name = value[..open].trim().trim_matches('"').trim();
        return Some(Mailbox { name: (!name.is_empty()).then(|| name.to_string()), address: address.to_string() });
    }
    value.contains('@').then(|| Mailbox { name: None, address: value.to_string() })
}

/// Finds a forward block in plain text and reads its From and Subject lines.
pub fn inline_forward(text: &str) -> Option<Forwarded> {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.iter().position(|l| {
        let lower = l.trim().to_lowercase();
        MARKERS.iter().any(|m| lower.starts_with(m))
    })?;
    let mut from = None;
    let mut subject = None;
    for line in lines.iter().skip(start + 1).take(8) {
        if line.trim().is_empty() && (from.is_some() || subject.is_some()) {
            break;
        }
        if let Some(v) = field(line, &["From", "От", "Od", "De", "Von"]) {
            from = mailbox(v);
        } else if let Some(v) = field(line, &["Subject", "Тема", "Temat", "Objet", "Betreff"]) {
            subject = Some(v.to_string()).filter(|s| !s.is_empty());
        }
    }
    (from.is_some() || subject.is_some()).then_some(Forwarded { from, subject, message_id: None, attachments: Vec::new() })
}
