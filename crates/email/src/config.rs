//! The `config` of an email channel (CONTRACT.md): the addresses it serves, how mail is
//! fetched (IMAP) and sent (SMTP), and its limits. Mail can also arrive by hook or LMTP, so
//! both servers are optional.

use crate::inbound::Limits;
use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// Plain text: only for a server on the same machine or network.
    None,
    /// Plain connection upgraded with STARTTLS.
    Starttls,
    /// TLS from the first byte (IMAPS 993, SMTPS 465).
    #[default]
    Tls,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImapConfig {
    pub host: String,
    pub port: Option<u16>,
    #[serde(default)]
    pub tls: TlsMode,
    pub username: String,
    pub password: String,
    #[serde(default = "inbox")]
    pub folder: String,
    /// Wait for new mail with IDLE when the server offers it; else poll.
    #[serde(default = "yes")]
    pub idle: bool,
    #[serde(default = "sixty")]
    pub poll_seconds: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    pub port: Option<u16>,
    #[serde(default)]
    pub tls: TlsMode,
    pub username: Option<String>,
    pub password: Option<String>,
    pub from_name: Option<String>,
}

fn inbox() -> String {
    "INBOX".into()
}
fn yes() -> bool {
    true
}
fn sixty() -> u64 {
    60
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
pub struct EmailConfig {
    /// The support address: From of our replies, base of their `+tN` Reply-To.
    pub address: Option<String>,
    /// Further addresses the channel serves (aliases).
    #[serde(default)]
    pub addresses: Vec<String>,
    pub imap: Option<ImapConfig>,
    pub smtp: Option<SmtpConfig>,
    /// Addresses that send mail on behalf of others (a web shop's contact form, `noreply@shop`):
    /// such mail is the customer's in its Reply-To. Addresses like `noreply@`, `no-reply@` and
    /// `donotreply@` with a different Reply-To are read so without being listed.
    #[serde(default)]
    pub form_senders: Vec<String>,
    pub max_message_bytes: Option<usize>,
    pub max_attachment_bytes: Option<usize>,
    /// Answer the first mail of each new conversation automatically (never automatic mail).
    pub acknowledgement: Option<Acknowledgement>,
}

/// The automatic answer to a new conversation's first mail.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Acknowledgement {
    /// `en`, `ru` or `pl`: the built-in text in that language (default `en`).
    #[serde(default)]
    pub language: Option<String>,
    /// A text of the team's own instead; `{number}` becomes the ticket number.
    #[serde(default)]
    pub text: Option<String>,
}

impl EmailConfig {
    /// Reads a channel's stored config; the error names the field at fault.
    pub fn from_json(value: &serde_json::Value) -> Result<Self, (String, String)> {
        let config: Self = serde_path_to_error::deserialize(value).map_err(|e| {
            let path = e.path().to_string();
            (if path == "." { "config".into() } else { format!("config.{path}") }, e.into_inner().to_string())
        })?;
        for (i, a) in config.support_addresses().iter().enumerate() {
            if switchboard_domain::Identity::email(a).is_err() {
                let field = if i == 0 && config.address.is_some() { "config.address".into() } else { "config.addresses".to_string() };
                return Err((field, format!("{a} is not an email address")));
            }
        }
        if let Some(bad) = config.form_senders.iter().find(|a| switchboard_domain::Identity::email(a).is_err()) {
            return Err(("config.form_senders".into(), format!("{bad} is not an email address")));
        }
        if let Some(ack) = &config.acknowledgement {
            if config.smtp.is_none() {
                return Err(("config.acknowledgement".into(), "an acknowledgement is sent by SMTP: configure smtp".into()));
            }
            if ack.language.as_deref().is_some_and(|l| !["en", "ru", "pl"].contains(&l)) {
                return Err(("config.acknowledgement.language".into(), "must be en, ru or pl".into()));
            }
            if ack.text.as_deref().is_some_and(|t| t.trim().is_empty() || t.len() > 8 * 1024) {
                return Err(("config.acknowledgement.text".into(), "must be 1 byte to 8 KiB".into()));
            }
        }
        if config.smtp.is_some() && config.address.is_none() {
            return Err(("config.address".into(), "sending mail needs the support address to send from".into()));
        }
        Ok(config)
    }

    /// `form_senders`, lower-cased.
    pub fn form_senders(&self) -> Vec<String> {
        self.form_senders.iter().map(|a| a.trim().to_lowercase()).collect()
    }

    /// Every address the channel serves, lower-cased.
    pub fn support_addresses(&self) -> Vec<String> {
        self.address.iter().chain(&self.addresses).map(|a| a.trim().to_lowercase()).collect()
    }

    pub fn limits(&self) -> Limits {
        let d = Limits::default();
        Limits {
            // A channel may lower the server's limits, never raise them.
            max_message_bytes: self.max_message_bytes.map_or(d.max_message_bytes, |v| v.min(d.max_message_bytes)),
            max_attachment_bytes: self.max_attachment_bytes.map_or(d.max_attachment_bytes, |v| v.min(d.max_attachment_bytes)),
            max_attachments: d.max_attachments,
        }
    }
}
