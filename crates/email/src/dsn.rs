//! Delivery status notifications (RFC 3464 `multipart/report; report-type=delivery-status`):
//! which of our messages failed, for whom, and why.

use crate::parse::clean_id;
use mail_parser::{Message, MessageParser, MimeHeaders, PartType};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryReport {
    /// `failed`, `delayed`, `delivered`, `relayed` or `expanded` (lower case).
    pub action: String,
    /// The enhanced status code, e.g. `5.1.1`.
    pub status: Option<String>,
    pub final_recipient: Option<String>,
    pub diagnostic: Option<String>,
    /// The Message-ID of the message the report is about, without angle brackets.
    pub original_message_id: Option<String>,
}

impl DeliveryReport {
    /// A permanent failure: the message will not arrive. `delayed` is only a warning.
    pub fn is_failure(&self) -> bool {
        self.action == "failed"
    }

    /// One line for the agent: what happened, to whom, and the server's words.
    pub fn summary(&self) -> String {
        let mut s = self.action.clone();
        if let Some(status) = &self.status {
            s.push(' ');
            s.push_str(status);
        }
        if let Some(r) = &self.final_recipient {
            s.push_str(" for ");
            s.push_str(r);
        }
        if let Some(d) = &self.diagnostic {
            s.push_str(": ");
            s.push_str(d);
        }
        s
    }
}

fn section_text(message: &Message<'_>, id: u32) -> Option<String> {
    let part = message.parts.get(id as usize)?;
    let raw = message.raw_message();
    let bytes = raw.get(part.offset_body as usize..(part.offset_end as usize).min(raw.len()))?;
    Some(match &part.body {
        PartType::Text(t) | PartType::Html(t) => t.to_string(),
        _ => String::from_utf8_lossy(bytes).into_owned(),
    })
}

/// Fields of one block (`Name: value`, continuation lines folded in), names lower-cased.
fn fields(block: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in block.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = out.last_mut() {
                last.1.push(' ');
                last.1.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            out.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    out
}

/// `rfc822; someone@example.org` to `someone@example.org`.
fn address_field(value: &str) -> String {
    value.split_once(';').map_or(value, |(_, v)| v).trim().trim_start_matches('<').trim_end_matches('>').to_string()
}

/// Reads the report when the message is one; `None` for every other message.
pub fn delivery_report(message: &Message<'_>) -> Option<DeliveryReport> {
    let root = message.parts.first()?;
    let is_report = root.is_content_type("multipart", "report")
        && root.content_type().and_then(|ct| ct.attribute("report-type")).is_some_and(|t| t.eq_ignore_ascii_case("delivery-status"));
    if !is_report {
        return None;
    }
    let PartType::Multipart(children) = &root.body else { return None };
    let mut report =
        DeliveryReport { action: String::new(), status: None, final_recipient: None, diagnostic: None, original_message_id: None };
    for &child in children {
        let Some(part) = message.parts.get(child as usize) else { continue };
        if part.is_content_type("message", "delivery-status") || part.is_content_type("message", "global-delivery-status") {
            let text = section_text(message, child).unwrap_or_default().replace("\r\n", "\n");
            // The first block is about the message; each further block is one recipient. The
            // first recipient that failed (or else the first one) is the one reported.
            let recipients: Vec<Vec<(String, String)>> =
                text.split("\n\n").skip(1).map(fields).filter(|f| f.iter().any(|(n, _)| n == "action")).collect();
            let chosen =
                recipients.iter().find(|f| f.iter().any(|(n, v)| n == "action" && v.eq_ignore_ascii_case("failed"))).or(recipients.first());
            if let Some(f) = chosen {
                let get = |name: &str| f.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
                report.action = get("action").unwrap_or_default().to_ascii_lowercase();
                report.status = get("status").map(|s| s.split_whitespace().next().unwrap_or("").to_string());
                report.final_recipient = get("final-recipient").or_else(|| get("original-recipient")).map(|v| address_field(&v));
                report.diagnostic = get("diagnostic-code").map(|v| v.split_once(';').map_or(v.as_str(), |(_, d)| d).trim().to_string());
            }
        } else if part.is_content_type("text", "rfc822-headers") || part.is_content_type("message", "rfc822-headers") {
            let text = section_text(message, child).unwrap_or_default();
            let headers = MessageParser::default().parse_headers(text.as_bytes());
            report.original_message_id = headers.and_then(|h| h.message_id().map(clean_id));
        } else if let PartType::Message(inner) = &part.body {
            report.original_message_id = inner.message_id().map(clean_id);
        }
    }
    if report.action.is_empty() {
        report.action = "failed".into();
    }
    Some(report)
}
