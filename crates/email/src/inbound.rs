//! A parsed email to the domain's `InboundMessage`: who sent it, who else it was addressed to,
//! the threading layers, the automatic-mail mark, attachments within the channel's limits, and
//! the delivery report a bounce carries.

use crate::html;
use crate::parse::ParsedEmail;
use crate::tokens;
use std::collections::HashMap;
use switchboard_domain::*;

/// Limits of one channel, with defaults that fit ordinary support mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The whole message as received.
    pub max_message_bytes: usize,
    /// One attachment, decoded.
    pub max_attachment_bytes: usize,
    pub max_attachments: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_message_bytes: 25 * 1024 * 1024, max_attachment_bytes: 10 * 1024 * 1024, max_attachments: 50 }
    }
}

/// The channel facts the translation needs.
pub struct EmailChannel<'a> {
    pub workspace_id: &'a WorkspaceId,
    pub channel_id: &'a ChannelId,
    /// The addresses the channel serves: never customers, and where `+tN` reply tokens are read.
    pub support_addresses: &'a [String],
    pub limits: Limits,
    /// Where a stored attachment is served from; inline images in the HTML point there.
    pub attachment_url: &'a dyn Fn(&AttachmentId) -> String,
    /// Now, in milliseconds: a Date header far in the future is not believed.
    pub now_ms: i64,
    /// Addresses that send on behalf of others (a web shop's contact form): their mail speaks
    /// for the address in Reply-To. Lower-case.
    pub form_senders: &'a [String],
}

/// What one email becomes.
#[derive(Debug, Clone, PartialEq)]
pub struct EmailInbound {
    pub message: InboundMessage,
    /// Set for a delivery report on a message we sent: record it on that message. When it names
    /// no message of ours, `message` is taken in instead.
    pub report: Option<DeliveryReportIn>,
    /// Remote images removed from the HTML.
    pub blocked_images: usize,
    /// No automatic mail (acknowledgement) may answer it: automatic, bulk or senderless.
    pub suppress_automatic_mail: bool,
}

/// Why an email cannot be taken in; `field` names the part at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct Rejected {
    pub field: String,
    pub message: String,
}

fn rejected(field: impl Into<String>, message: impl Into<String>) -> Rejected {
    Rejected { field: field.into(), message: message.into() }
}

/// The sender of mail that names none: one quarantine customer per workspace, whom no
/// automatic mail can reach (`.invalid` never resolves).
pub const UNKNOWN_SENDER: &str = "unknown-sender@switchboard.invalid";

/// External ids are bounded like every channel's; a longer Message-ID is hashed.
const MAX_EXTERNAL_ID: usize = 200;

fn bounded_id(id: &str) -> String {
    if id.len() <= MAX_EXTERNAL_ID {
        return id.to_string();
    }
    use sha2::Digest;
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(id.as_bytes())))
}

/// Local parts of addresses that nobody reads: mail from one of them that names a different
/// Reply-To was sent for someone else (a web form's notification).
/// (`wordpress@` is what WordPress contact forms send from by default.)
const NOBODY_READS: &[&str] = &["noreply", "no-reply", "no_reply", "donotreply", "do-not-reply", "do_not_reply", "wordpress"];

/// The mailbox the mail speaks for: From, except for mail a form sent on someone's behalf,
/// which speaks for its (first) Reply-To (Zendesk and Freshdesk read web-form mail so too). Two
/// visitors of one form are two customers, and replies go to each of them. A form is an
/// address in the channel's `form_senders`, or a no-reply address (`NOBODY_READS`) of the
/// channel's own domain (or a subdomain of it): anyone can send from `noreply@` of a domain
/// they own, and a Reply-To naming someone else must not let them write as that customer.
fn speaker<'m>(email: &'m ParsedEmail, form_senders: &[String], support: &[String]) -> Option<&'m crate::parse::Mailbox> {
    let from = email.from.as_ref()?;
    let address = from.address.trim().to_ascii_lowercase();
    // Never our own address: a form that names the support mailbox as Reply-To is not ours.
    let reply_to = email.reply_to.iter().find(|r| !r.address.trim().eq_ignore_ascii_case(&address) && !is_support(&r.address, support));
    let local = address.split('@').next().unwrap_or("");
    let on_behalf = form_senders.contains(&address) || (NOBODY_READS.contains(&local) && of_our_domain(&address, support));
    match reply_to {
        Some(reply_to) if on_behalf && Identity::email(&reply_to.address).is_ok() => Some(reply_to),
        _ => Some(from),
    }
}

/// How far the sender's clock (Date) may be from the first server's (Received) before the
/// server is believed instead: mail sits in an outbox for minutes, a clock set to the wrong day
/// or year is off by more.
const SENDER_CLOCK_SLACK_MS: i64 = 60 * 60 * 1000;

/// How long before its receipt a mail that no server dated may say it was written (a mail
/// handed to the hook straight from a program).
const UNDATED_BY_SERVERS_SLACK_MS: i64 = 24 * 60 * 60 * 1000;

/// When the mail was sent, as far as we can tell: the Date header, unless the server that
/// handed it to us saw another time by more than an hour (a sender's clock days or years off);
/// with no server's time, no more than a day before we received it; never after.
fn sent_at(date: Option<i64>, server: Option<i64>, now_ms: i64) -> Option<Timestamp> {
    let believed = match (date, server) {
        (Some(date), Some(server)) if (date - server).abs() > SENDER_CLOCK_SLACK_MS => Some(server),
        (Some(date), Some(_)) => Some(date),
        (Some(date), None) => Some(date.max(now_ms - UNDATED_BY_SERVERS_SLACK_MS)),
        (None, server) => server,
    };
    believed.map(|t| Timestamp(t.min(now_ms)))
}

/// Whether `address` is at the domain of one of our addresses, or a subdomain of it.
fn of_our_domain(address: &str, support: &[String]) -> bool {
    let Some((_, domain)) = address.trim().rsplit_once('@') else { return false };
    let domain = domain.to_ascii_lowercase();
    support.iter().filter_map(|s| s.trim().rsplit_once('@')).any(|(_, ours)| {
        let ours = ours.to_ascii_lowercase();
        domain == ours || domain.strip_suffix(&ours).is_some_and(|head| head.ends_with('.'))
    })
}

fn is_support(address: &str, support: &[String]) -> bool {
    let Some((local, domain)) = address.trim().rsplit_once('@') else { return false };
    let base = format!("{}@{domain}", local.split('+').next().unwrap_or(local));
    support.iter().any(|s| s.eq_ignore_ascii_case(&base) || s.eq_ignore_ascii_case(address.trim()))
}

pub fn to_inbound(raw_len: usize, email: ParsedEmail, ch: &EmailChannel<'_>) -> Result<EmailInbound, Rejected> {
    if raw_len > ch.limits.max_message_bytes {
        return Err(rejected("message", format!("larger than {} bytes", ch.limits.max_message_bytes)));
    }
    let files = email.attachments.len();
    if files > ch.limits.max_attachments {
        return Err(rejected("attachments", format!("{files} attachments, at most {} allowed", ch.limits.max_attachments)));
    }
    if let Some((i, a)) = email.attachments.iter().enumerate().find(|(_, a)| a.content.len() > ch.limits.max_attachment_bytes) {
        return Err(rejected(
            format!("attachments[{i}]"),
            format!("{} is {} bytes, at most {} allowed", a.filename, a.content.len(), ch.limits.max_attachment_bytes),
        ));
    }
    let from = speaker(&email, ch.form_senders, ch.support_addresses).and_then(|f| Identity::email(&f.address).ok().map(|id| (id, f)));
    let (sender, sender_name, senderless) = match &from {
        Some((identity, mailbox)) => (identity.clone(), mailbox.name.clone(), false),
        None => (Identity::email(UNKNOWN_SENDER).map_err(|e| rejected("from", e.to_string()))?, None, true),
    };
    // Mail from our own address is a loop (an autoresponder bouncing our reply back to us).
    let from_ourselves = email.from.as_ref().is_some_and(|f| is_support(&f.address, ch.support_addresses));
    let auto_reply = email.automatic.auto_reply || from_ourselves;

    let mut references: Vec<String> = email.in_reply_to.iter().chain(&email.references).map(|r| bounded_id(r)).collect();
    references.dedup();
    let recipients: Vec<&str> =
        email.to.iter().chain(&email.cc).map(|m| m.address.as_str()).chain(email.delivered_to.iter().map(String::as_str)).collect();
    let address_ticket = tokens::address_ticket(recipients, ch.support_addresses);
    let subject_ticket = email.subject.as_deref().and_then(tokens::subject_ticket);
    let has_layers = !references.is_empty() || address_ticket.is_some() || subject_ticket.is_some();
    let thread = has_layers.then_some(ThreadHint::Email { references, address_ticket, subject_ticket });

    let participants = participants(&email, &sender, ch.support_addresses);
    let mut cid_urls = HashMap::new();
    let attachments: Vec<AttachmentMeta> = email
        .attachments
        .into_iter()
        .map(|a| {
            let id = AttachmentId::generate();
            if let Some(cid) = &a.content_id {
                cid_urls.insert(cid.clone(), (ch.attachment_url)(&id));
            }
            AttachmentMeta {
                id,
                size: Some(a.content.len() as u64),
                filename: a.filename,
                content_type: a.content_type,
                content: Some(a.content),
                url: None,
                inline: a.inline,
                content_id: a.content_id,
            }
        })
        .collect();
    // HTML too costly to parse (nested too deep, a tag with too many attributes) is shown as its
    // text (which the parser took out).
    let renderable = email.raw_html.as_deref().filter(|h| !html::too_costly(h));
    let sanitized = renderable.map(|h| html::sanitize(h, &cid_urls, false));
    // Kept apart for an agent who chooses to load them; most mail has none and stores nothing.
    let with_remote_images = match (&sanitized, renderable) {
        (Some(s), Some(h)) if s.blocked_images > 0 => Some(html::sanitize(h, &cid_urls, true).html),
        _ => None,
    };
    // A Date more than a day ahead is a wrong clock or a trick to stay on top of the inbox.
    let sent_at = sent_at(email.date, email.last_received, ch.now_ms);
    let external_id = bounded_id(&email.message_id);
    let report = email.delivery_report.as_ref().and_then(|r| {
        Some(DeliveryReportIn {
            workspace_id: ch.workspace_id.clone(),
            channel_id: ch.channel_id.clone(),
            external_id: external_id.clone(),
            about: bounded_id(r.original_message_id.as_deref()?),
            failed: r.is_failure(),
            summary: r.summary(),
        })
    });
    let suppress_automatic_mail = email.automatic.suppresses_automatic_mail() || from_ourselves || senderless;
    Ok(EmailInbound {
        message: InboundMessage {
            workspace_id: ch.workspace_id.clone(),
            channel_id: ch.channel_id.clone(),
            channel_kind: ChannelKind::Email,
            external_id,
            sender,
            sender_name,
            hints: Vec::new(),
            subject: email.subject,
            text: email.new_text,
            quoted_text: email.quoted_text,
            html: sanitized.as_ref().map(|s| s.html.clone()),
            html_remote_images: with_remote_images,
            sent_at,
            thread,
            attachments,
            auto_reply,
            participants,
            group: None,
        },
        report,
        blocked_images: sanitized.map_or(0, |s| s.blocked_images),
        suppress_automatic_mail,
    })
}

/// At most this many people copied on one mail join its conversation: a message sent to a
/// crowd is a newsletter, not a conversation with all of them.
pub const MAX_PARTICIPANTS: usize = 20;

/// The people copied (Cc), except our own addresses and the sender: the first
/// `MAX_PARTICIPANTS` distinct ones. Linear in the Cc list (it once compared each address with
/// every one before it: 40,000 addresses took seconds).
fn participants(email: &ParsedEmail, sender: &Identity, support: &[String]) -> Vec<Participant> {
    let mut out: Vec<Participant> = Vec::new();
    for m in &email.cc {
        if out.len() == MAX_PARTICIPANTS {
            break;
        }
        if is_support(&m.address, support) {
            continue;
        }
        let Ok(identity) = Identity::email(&m.address) else { continue };
        if &identity == sender || out.iter().any(|p| p.identity == identity) {
            continue;
        }
        out.push(Participant { identity, name: m.name.clone() });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_own_domains_no_reply_or_listed_forms_speak_for_their_reply_to() {
        let support = vec!["help@shop.example".to_string()];
        let mail = |from: &str| ParsedEmail {
            from: Some(crate::parse::Mailbox { name: None, address: from.into() }),
            reply_to: vec![crate::parse::Mailbox { name: None, address: "anna@customer.example".into() }],
            ..crate::parse::parse(b"From: x@y.z\r\n\r\nhi").expect("parse")
        };
        let speaks = |from: &str, forms: &[String]| speaker(&mail(from), forms, &support).map(|m| m.address.clone());
        assert_eq!(speaks("noreply@shop.example", &[]).as_deref(), Some("anna@customer.example"));
        assert_eq!(speaks("wordpress@www.shop.example", &[]).as_deref(), Some("anna@customer.example"));
        // A stranger's own domain: the From is who writes.
        assert_eq!(speaks("noreply@attacker.example", &[]).as_deref(), Some("noreply@attacker.example"));
        assert_eq!(speaks("noreply@evilshop.example", &[]).as_deref(), Some("noreply@evilshop.example"));
        // A form service the admin listed.
        let forms = vec!["forms@tilda.example".to_string()];
        assert_eq!(speaks("forms@tilda.example", &forms).as_deref(), Some("anna@customer.example"));
    }

    const NOW: i64 = 1_796_000_000_000;
    const HOUR: i64 = 3_600_000;

    #[test]
    fn the_senders_clock_is_checked_against_the_first_server() {
        // A Date within the outbox's usual minutes of the first server's time is the sender's.
        assert_eq!(sent_at(Some(NOW - 2 * HOUR - 600_000), Some(NOW - 2 * HOUR), NOW), Some(Timestamp(NOW - 2 * HOUR - 600_000)));
        // Years behind or days ahead of the server: the server's time.
        assert_eq!(sent_at(Some(NOW - 3 * 365 * 24 * HOUR), Some(NOW - HOUR), NOW), Some(Timestamp(NOW - HOUR)));
        assert_eq!(sent_at(Some(NOW + 48 * HOUR), Some(NOW - 60_000), NOW), Some(Timestamp(NOW - 60_000)));
        // No Received header: the Date, never after receipt nor over a day before it; no Date:
        // the server's time.
        assert_eq!(sent_at(Some(NOW + 48 * HOUR), None, NOW), Some(Timestamp(NOW)));
        assert_eq!(sent_at(Some(NOW - 3 * 365 * 24 * HOUR), None, NOW), Some(Timestamp(NOW - 24 * HOUR)));
        assert_eq!(sent_at(Some(NOW - 2 * HOUR), None, NOW), Some(Timestamp(NOW - 2 * HOUR)));
        assert_eq!(sent_at(None, Some(NOW - HOUR), NOW), Some(Timestamp(NOW - HOUR)));
        assert_eq!(sent_at(None, None, NOW), None);
        // An old mail fetched late (a mailbox's first sync) keeps its old time: both clocks agree.
        let old = NOW - 400 * 24 * HOUR;
        assert_eq!(sent_at(Some(old), Some(old + 5_000), NOW), Some(Timestamp(old)));
    }
}
