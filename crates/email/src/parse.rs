//! Raw RFC 5322 bytes to a `ParsedEmail`: decoded addresses and subject, the text a person
//! wrote (quotes split off), user attachments with their exact octets, and the signals the
//! threading, loop and bounce rules need. Built on `mail-parser`; never panics on bad input.

use crate::automatic::{Automatic, classify};
use crate::dsn::{DeliveryReport, delivery_report};
use crate::forward::{Forwarded, inline_forward};
use crate::quote::split_quoted;
use mail_parser::decoders::base64::base64_decode;
use mail_parser::decoders::quoted_printable::quoted_printable_decode;
use mail_parser::{Address, Encoding, HeaderValue, Message, MessageParser, MessagePart, MimeHeaders, PartType};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// A display name and an address, as written (not normalised).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    pub name: Option<String>,
    pub address: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub filename: String,
    pub content_type: String,
    /// The decoded octets exactly as sent: a text attachment keeps its own charset.
    pub content: Vec<u8>,
    /// An image the HTML shows through `cid:`; not a file the customer attached.
    pub inline: bool,
    pub content_id: Option<String>,
    /// The part was cut off (the message ended before its closing boundary or mid-encoding).
    pub truncated: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ParsedEmail {
    /// Without angle brackets. Synthesised from the raw bytes when the header is missing.
    pub message_id: String,
    pub message_id_synthesized: bool,
    pub from: Option<Mailbox>,
    pub to: Vec<Mailbox>,
    pub cc: Vec<Mailbox>,
    pub reply_to: Vec<Mailbox>,
    /// Envelope recipients the delivering server recorded (Delivered-To, X-Original-To).
    pub delivered_to: Vec<String>,
    pub subject: Option<String>,
    /// Milliseconds since the Unix epoch, from the Date header (the sender's own clock).
    pub date: Option<i64>,
    /// When the last server on the way took the mail (the topmost Received header's time, in
    /// ms): the clock of a server near us, against which the sender's is checked. (Lower
    /// Received headers the sender could have written themselves.)
    pub last_received: Option<i64>,
    /// Message ids without angle brackets.
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    /// The whole plain text (from the HTML when the message has no text part).
    pub text: String,
    /// What the sender wrote this time: `text` without the quoted earlier mail.
    pub new_text: String,
    /// The quoted earlier mail that `new_text` leaves out, kept for the agent to expand.
    pub quoted_text: Option<String>,
    /// The HTML body as sent, not yet sanitised (see `html::sanitize`).
    pub raw_html: Option<String>,
    pub attachments: Vec<Attachment>,
    pub automatic: Automatic,
    pub delivery_report: Option<DeliveryReport>,
    pub forwarded: Option<Forwarded>,
}

/// The bytes are not a message at all (empty, or no header and no body to speak of).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an email message")]
pub struct NotAnEmail;

/// Parses one message. Malformed mail still parses as far as it can: only input that holds no
/// message at all is an error.
pub fn parse(raw: &[u8]) -> Result<ParsedEmail, NotAnEmail> {
    parse_at(raw, Forwards::Read)
}

/// Whether a parse looks into an attached message for the forward it is.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Forwards {
    Read,
    /// The message is itself the attached one: what it attaches in turn is only its files.
    /// (Reading forwards inside forwards recursed once per level: a 60 KB mail of a thousand
    /// nested messages overflowed the stack and took the server down.)
    Ignore,
}

pub(crate) fn parse_at(raw: &[u8], forwards: Forwards) -> Result<ParsedEmail, NotAnEmail> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Err(NotAnEmail);
    }
    let message = MessageParser::default().parse(raw).ok_or(NotAnEmail)?;
    // What a delivery agent adds (Return-Path, Delivered-To, Received) around nothing is not
    // mail: an empty DATA over LMTP would otherwise be stored as a message from nobody.
    const TRACE: [&str; 4] = ["return-path", "delivered-to", "received", "x-original-to"];
    let only_trace = message.headers().iter().all(|h| TRACE.iter().any(|t| h.name.as_str().eq_ignore_ascii_case(t)));
    let parsed = from_message(&message, raw, forwards);
    if only_trace && parsed.text.trim().is_empty() && parsed.raw_html.is_none() && parsed.attachments.is_empty() {
        return Err(NotAnEmail);
    }
    Ok(parsed)
}

pub(crate) fn from_message(message: &Message<'_>, raw: &[u8], forwards: Forwards) -> ParsedEmail {
    let (message_id, message_id_synthesized) = match message.message_id().map(clean_id).filter(|id| !id.is_empty()) {
        Some(id) => (id, false),
        None => (synthesized_id(raw), true),
    };
    // Every HTML body once: attachments need it to tell inline images, the message keeps it.
    let html = (0..message.html_body_count()).filter_map(|i| message.body_html(i)).collect::<Vec<_>>().join("\n");
    let (attachments, orphan_text) = attachments(message, &html);
    let mut text = body_text(message);
    if text.is_empty() {
        // Broken structure (a boundary that never occurs, nested parts reusing one): the text
        // the parser could not place is still what the customer wrote.
        text = orphan_text.join("\n").trim().to_string();
    }
    let (new_text, quoted_text) = split_quoted(&text);
    // A text-only message has its text converted into `html`; only real HTML is kept.
    let raw_html = message.html_part(0).is_some_and(|p| matches!(p.body, PartType::Html(_))).then_some(html);
    let headers: Vec<(String, String)> =
        message.headers_raw().map(|(name, value)| (name.to_string(), unfold(value).trim().to_string())).collect();
    let subject = message.subject().map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let from = message.from().and_then(|a| mailboxes(a).into_iter().next());
    let delivery_report = delivery_report(message);
    let automatic = classify(&headers, subject.as_deref(), from.as_ref().map(|f| f.address.as_str()), delivery_report.is_some());
    let attached = match forwards {
        Forwards::Read => crate::forward::attached_forward(message),
        Forwards::Ignore => None,
    };
    let forwarded = attached.or_else(|| inline_forward(&text));
    ParsedEmail {
        message_id,
        message_id_synthesized,
        from,
        to: message.to().map(mailboxes).unwrap_or_default(),
        cc: message.cc().map(mailboxes).unwrap_or_default(),
        reply_to: message.reply_to().map(mailboxes).unwrap_or_default(),
        delivered_to: headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("Delivered-To") || n.eq_ignore_ascii_case("X-Original-To"))
            .map(|(_, v)| clean_id(v))
            .collect(),
        subject,
        date: message.date().filter(|d| d.is_valid()).map(|d| d.to_timestamp().saturating_mul(1000)),
        last_received: message.received().and_then(|r| r.date()).filter(|d| d.is_valid()).map(|d| d.to_timestamp().saturating_mul(1000)),
        in_reply_to: ids(message.in_reply_to()),
        references: ids(message.references()),
        text,
        new_text,
        quoted_text,
        raw_html,
        attachments,
        automatic,
        delivery_report,
        forwarded,
    }
}

/// A stable id for mail without a Message-ID, so that the same bytes fetched twice are one
/// message.
fn synthesized_id(raw: &[u8]) -> String {
    let digest = hex::encode(Sha256::digest(raw));
    format!("{}@synthesized.switchboard.invalid", &digest[..32])
}

/// `<id>` to `id`; message ids compare as exact strings once the brackets are gone.
pub fn clean_id(raw: &str) -> String {
    raw.trim().trim_start_matches('<').trim_end_matches('>').trim().to_string()
}

fn unfold(value: &str) -> String {
    value.replace("\r\n", "").replace('\n', "")
}

fn ids(value: &HeaderValue<'_>) -> Vec<String> {
    let list: Vec<String> = match value {
        HeaderValue::Text(t) => t.split_whitespace().map(clean_id).collect(),
        HeaderValue::TextList(l) => l.iter().flat_map(|t| t.split_whitespace().map(clean_id).collect::<Vec<_>>()).collect(),
        _ => Vec::new(),
    };
    list.into_iter().filter(|id| !id.is_empty() && id.len() <= 998).collect()
}

pub(crate) fn mailboxes(address: &Address<'_>) -> Vec<Mailbox> {
    address
        .iter()
        .filter_map(|a| {
            let address = a.address().map(str::trim).filter(|s| s.contains('@'))?;
            let name = a.name().map(|n| n.trim().trim_matches('"').trim().to_string()).filter(|n| !n.is_empty() && n != address);
            Some(Mailbox { name, address: address.to_string() })
        })
        .collect()
}

fn body_text(message: &Message<'_>) -> String {
    let mut parts = Vec::new();
    for i in 0..message.text_body_count() {
        if let Some(text) = message.body_text(i) {
            parts.push(text.replace("\r\n", "\n"));
        }
    }
    let text = parts.join("\n");
    if text.trim().is_empty() { String::new() } else { text }
}

/// The parent of every part, so that a part's place in the tree (an alternative, a report
/// section) can be judged.
fn parents(message: &Message<'_>) -> Vec<Option<usize>> {
    let mut parent = vec![None; message.parts.len()];
    for (i, part) in message.parts.iter().enumerate() {
        if let PartType::Multipart(children) = &part.body {
            for &c in children {
                if let Some(slot) = parent.get_mut(c as usize) {
                    *slot = Some(i);
                }
            }
        }
    }
    parent
}

fn is_multipart(part: &MessagePart<'_>, subtype: &str) -> bool {
    part.is_content_type("multipart", subtype)
}

fn content_type(part: &MessagePart<'_>) -> String {
    match part.content_type() {
        Some(ct) => match ct.subtype() {
            Some(sub) => format!("{}/{}", ct.ctype(), sub).to_ascii_lowercase(),
            None => ct.ctype().to_ascii_lowercase(),
        },
        None => "application/octet-stream".into(),
    }
}

/// The octets of a part as sent, decoded from its transfer encoding but not from its charset.
fn part_octets(message: &Message<'_>, part: &MessagePart<'_>) -> (Vec<u8>, bool) {
    match &part.body {
        PartType::Binary(b) | PartType::InlineBinary(b) => return (b.to_vec(), false),
        PartType::Multipart(_) => return (Vec::new(), false),
        // The attached message exactly as it was, headers included.
        PartType::Message(inner) => return (inner.raw_message().to_vec(), false),
        _ => {}
    }
    let raw = message.raw_message();
    let (start, end) = (part.offset_body as usize, (part.offset_end as usize).min(raw.len()));
    let body = raw.get(start..end).unwrap_or_default();
    match part.encoding {
        Encoding::Base64 => match base64_decode(body) {
            Some(bytes) => (bytes, false),
            None => (part.contents().to_vec(), true),
        },
        Encoding::QuotedPrintable => match quoted_printable_decode(body) {
            Some(bytes) => (bytes, false),
            None => (part.contents().to_vec(), true),
        },
        // The line break before the next boundary belongs to the boundary, and the parser's
        // end offset already leaves it out.
        Encoding::None => (body.to_vec(), false),
    }
}

/// Where each closing delimiter (`--boundary--` at the start of a line, RFC 2046 §5.1.1)
/// last occurs in the raw message, by boundary: found in one pass, so that telling whether a
/// multipart was closed costs nothing per part (searching onwards for each part took seconds
/// on a few thousand nested multiparts).
fn closing_delimiters(raw: &[u8]) -> HashMap<&[u8], usize> {
    let mut last = HashMap::new();
    let mut at = 0;
    for line in raw.split(|b| *b == b'\n') {
        let trimmed = line.trim_ascii_end();
        if trimmed.len() >= 4 && trimmed.starts_with(b"--") && trimmed.ends_with(b"--") {
            last.insert(&trimmed[2..trimmed.len() - 2], at);
        }
        at += line.len() + 1;
    }
    last
}

/// Whether the multipart's closing delimiter never came (the message was cut off).
fn unterminated(message: &Message<'_>, multipart: &MessagePart<'_>, closings: &HashMap<&[u8], usize>) -> bool {
    let Some(boundary) = multipart.content_type().and_then(|ct| ct.attribute("boundary")) else { return false };
    let from = (multipart.offset_body as usize).min(message.raw_message().len());
    closings.get(boundary.as_bytes()).is_none_or(|&at| at < from)
}

/// The Content-IDs the HTML shows through `cid:` URLs, found in one pass (looking each part's
/// id up in the whole HTML cost parts × HTML size). A URL ends at a quote, a bracket, a space
/// or `>`; `cid:<id>` is read as `cid:id`.
fn cids_shown(html: &str) -> std::collections::HashSet<&str> {
    let mut shown = std::collections::HashSet::new();
    let mut rest = html;
    while let Some(at) = rest.find("cid:") {
        let tail = rest[at + 4..].trim_start_matches('<');
        let end = tail.find(|c: char| matches!(c, '"' | '\'' | ')' | '>' | '<') || c.is_whitespace()).unwrap_or(tail.len());
        shown.insert(&tail[..end]);
        rest = &tail[end..];
    }
    shown
}

/// The user attachments, and the text of parts that are really body text the parser could not
/// place (no filename, not marked as an attachment).
fn attachments(message: &Message<'_>, html: &str) -> (Vec<Attachment>, Vec<String>) {
    let parent = parents(message);
    let shown = cids_shown(html);
    let closings = closing_delimiters(message.raw_message());
    let mut out = Vec::new();
    let mut orphan_text = Vec::new();
    for &id in &message.attachments {
        let Some(part) = message.parts.get(id as usize) else { continue };
        let parent_part = parent.get(id as usize).copied().flatten().and_then(|p| message.parts.get(p));
        let disposition_attachment = part.content_disposition().is_some_and(|d| d.is_attachment());
        if let Some(p) = parent_part {
            // Another rendering of the body (text/enriched next to text/plain) is not a file.
            if is_multipart(p, "alternative") && !disposition_attachment {
                continue;
            }
            // The sections of a delivery report are the report, not files.
            if is_multipart(p, "report") {
                continue;
            }
        }
        let content_type = content_type(part);
        if let PartType::Text(text) = &part.body
            && part.attachment_name().is_none()
            && !disposition_attachment
            && (content_type == "text/plain" || content_type.starts_with("multipart/"))
        {
            orphan_text.push(text.replace("\r\n", "\n"));
            continue;
        }
        let content_id = part.content_id().map(clean_id).filter(|c| !c.is_empty());
        let referenced = content_id.as_ref().is_some_and(|cid| shown.contains(cid.as_str()));
        let inline = referenced && !disposition_attachment;
        let (content, mut truncated) = part_octets(message, part);
        let is_last_child = parent_part.is_some_and(|p| match &p.body {
            PartType::Multipart(children) => children.last() == Some(&id),
            _ => false,
        });
        if is_last_child && parent_part.is_some_and(|p| unterminated(message, p, &closings)) {
            truncated = true;
        }
        let filename = part
            .attachment_name()
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty())
            .or_else(|| match &part.body {
                PartType::Message(inner) => inner.subject().map(|s| format!("{}.eml", s.trim())),
                _ => None,
            })
            .unwrap_or_else(|| default_filename(&content_type, out.len() + 1));
        out.push(Attachment { filename: sanitize_filename(&filename), content_type, content, inline, content_id, truncated });
    }
    (out, orphan_text)
}

fn default_filename(content_type: &str, n: usize) -> String {
    let ext = match content_type {
        "message/rfc822" => "eml",
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "image/gif" => "gif",
        "application/pdf" => "pdf",
        t if t.starts_with("text/") => "txt",
        _ => "bin",
    };
    format!("attachment-{n}.{ext}")
}

/// Filenames come from strangers: no path separators, no control characters, bounded length.
pub fn sanitize_filename(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| if c == '/' || c == '\\' || c.is_control() { '_' } else { c })
        .collect::<String>()
        .trim_start_matches('.')
        .trim()
        .chars()
        .take(200)
        .collect();
    if cleaned.is_empty() { "attachment".into() } else { cleaned }
}

#[cfg(test)]
mod tests {
    #[test]
    fn trace_headers_around_nothing_are_not_mail() {
        assert!(super::parse(b"Return-Path: <>\r\nDelivered-To: a@b.example\r\n\r\n\r\n").is_err());
        assert!(super::parse(b"Return-Path: <>\r\nDelivered-To: a@b.example\r\n\r\nhello\r\n").is_ok());
        assert!(super::parse(b"Return-Path: <>\r\nSubject: hi\r\n\r\n").is_ok());
    }
}
