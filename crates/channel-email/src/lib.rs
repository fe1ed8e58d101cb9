//! The email channel's driver: one raw RFC 5322 message in (the hook, LMTP and IMAP all bring
//! mail through `EmailDriver::translate`), replies composed as MIME and sent by the channel's
//! SMTP server. Parsing and composing live in `switchboard-email`, the network in
//! `switchboard-email-transport`.
#![forbid(unsafe_code)]

use async_trait::async_trait;
use serde_json::Value;
use switchboard_channels::{
    ChannelEvent, ChannelRef, Driver, HookError, HookRequest, InboundError, Outgoing, Received, SendContext, SendError, Sent, signature,
};
use switchboard_domain::{AttachmentId, ChannelKind, Timestamp};
use switchboard_email::config::EmailConfig;
use switchboard_email::inbound::EmailChannel;
use switchboard_email::outbound::{self, OutboundAttachment, OutboundEmail, ThreadMail};
use switchboard_i18n::Lang;

/// Media types the hook takes a raw message as.
const ACCEPTED_TYPES: [&str; 3] = ["message/rfc822", "text/plain", "application/octet-stream"];

/// Reads a channel's email settings; the error names the key at fault.
pub fn config(config: &Value) -> Result<EmailConfig, InboundError> {
    EmailConfig::from_json(config).map_err(|(field, detail)| InboundError::new(field, switchboard_channels::config::without_value(&detail)))
}

pub struct EmailDriver;

impl EmailDriver {
    /// One raw message of `channel`, however it came (the hook after its signature, LMTP, IMAP):
    /// its message (or the delivery report it is), and the channel's acknowledgement to send
    /// when it starts a conversation, with `{number}` for the conversation's number. CPU work
    /// of up to milliseconds per megabyte: callers run it off the async threads.
    pub fn translate(channel: &ChannelRef<'_>, raw: &[u8], received_at: Timestamp) -> Result<Received, HookError> {
        let config = config(channel.config)?;
        let limits = config.limits();
        if raw.len() > limits.max_message_bytes {
            return Err(HookError::TooLarge {
                field: "message".into(),
                detail: format!("{} bytes, at most {}", raw.len(), limits.max_message_bytes),
            });
        }
        let parsed = switchboard_email::parse(raw).map_err(|_| HookError::NotAnEmail)?;
        let support = config.support_addresses();
        let form_senders = config.form_senders();
        let url = |id: &AttachmentId| format!("/api/v1/attachments/{id}");
        let ctx = EmailChannel {
            workspace_id: channel.workspace_id,
            channel_id: channel.id,
            support_addresses: &support,
            limits,
            attachment_url: &url,
            now_ms: received_at.millis(),
            form_senders: &form_senders,
        };
        let email = switchboard_email::inbound::to_inbound(raw.len(), parsed, &ctx).map_err(|e| {
            if e.field.starts_with("attachments") || e.field == "message" {
                HookError::TooLarge { field: e.field, detail: e.message }
            } else {
                HookError::Invalid(InboundError::new(e.field, e.message))
            }
        })?;
        let acknowledgement = match &config.acknowledgement {
            Some(ack) if !email.suppress_automatic_mail => Some(match &ack.text {
                Some(text) => text.clone(),
                None => {
                    let lang = ack.language.as_deref().and_then(Lang::from_code).unwrap_or(Lang::En);
                    switchboard_i18n::t(lang, "email.acknowledgement", &[("number", "{number}")])
                }
            }),
            _ => None,
        };
        let event = match email.report {
            Some(report) => ChannelEvent::Report { report, otherwise: Box::new(email.message) },
            None => ChannelEvent::Message(Box::new(email.message)),
        };
        Ok(Received { acknowledgement, ..Received::events(vec![event]) })
    }
}

#[async_trait]
impl Driver for EmailDriver {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Email
    }

    fn validate(&self, value: &Value) -> Result<(), InboundError> {
        config(value).map(|_| ())
    }

    fn config_example(&self) -> &'static str {
        "{\n  \"address\": \"support@example.com\",\n  \"addresses\": [],\n  \"smtp\": {\"host\": \"smtp.example.com\", \"tls\": \"starttls\", \"username\": \"support@example.com\", \"password\": \"\", \"from_name\": \"Support\"},\n  \"imap\": {\"host\": \"imap.example.com\", \"tls\": \"tls\", \"username\": \"support@example.com\", \"password\": \"\", \"folder\": \"INBOX\"}\n}"
    }

    fn provider_host(&self, channel: &ChannelRef<'_>) -> String {
        config(channel.config).ok().and_then(|c| c.smtp).map_or_else(|| "smtp".to_owned(), |smtp| smtp.host.to_ascii_lowercase())
    }

    /// The SMTP and IMAP servers' hosts.
    fn destinations(&self, config_json: &Value) -> Vec<(String, String)> {
        let Ok(config) = config(config_json) else { return Vec::new() };
        let mut hosts = Vec::new();
        if let Some(smtp) = config.smtp {
            hosts.push(("config.smtp.host".to_owned(), smtp.host));
        }
        if let Some(imap) = config.imap {
            hosts.push(("config.imap.host".to_owned(), imap.host));
        }
        hosts
    }

    fn own_addresses(&self, channel: &ChannelRef<'_>) -> Vec<switchboard_domain::Identity> {
        config(channel.config)
            .map(|c| c.support_addresses().iter().filter_map(|a| switchboard_domain::Identity::email(a).ok()).collect())
            .unwrap_or_default()
    }

    fn can_send(&self, channel: &ChannelRef<'_>) -> bool {
        config(channel.config).is_ok_and(|c| c.smtp.is_some())
    }

    fn max_body_bytes(&self, channel: &ChannelRef<'_>) -> Option<usize> {
        Some(config(channel.config).map_or_else(|_| switchboard_email::inbound::Limits::default(), |c| c.limits()).max_message_bytes)
    }

    /// `POST /hooks/email/{id}`: one raw message, signed like the API hook.
    fn receive(&self, channel: &ChannelRef<'_>, request: &HookRequest<'_>) -> Result<Received, HookError> {
        if request.method != "POST" || !request.suffix.is_empty() {
            return Err(HookError::NoSuchHook);
        }
        if !signature::verify(channel.secret, request.body, request.header("x-switchboard-signature")) {
            return Err(HookError::NotAuthentic);
        }
        if let Some(ct) = request.content_type()
            && !ACCEPTED_TYPES.contains(&ct.as_str())
        {
            return Err(HookError::UnsupportedMediaType { expected: "message/rfc822" });
        }
        Self::translate(channel, request.body, request.received_at)
    }

    /// The reply as a MIME message threaded on the conversation's earlier mail and tagged with
    /// its ticket, through the channel's SMTP server; its Message-ID, which the customer's
    /// answer will name.
    async fn send(&self, ctx: &SendContext<'_>, channel: &ChannelRef<'_>, reply: &Outgoing) -> Result<Sent, SendError> {
        let config = config(channel.config).map_err(|e| SendError::permanent(e.to_string()))?;
        let smtp = config.smtp.as_ref().ok_or_else(|| SendError::permanent("the channel has no SMTP server configured"))?;
        let from_address = config.address.clone().ok_or_else(|| SendError::permanent("the channel has no support address"))?;
        let to_address = reply.recipients.first().cloned().ok_or_else(|| SendError::permanent("the customer has no email address"))?;
        let mut attachments = Vec::with_capacity(reply.files.len());
        for file in &reply.files {
            let content = ctx.files.bytes(file).await?;
            attachments.push(OutboundAttachment { filename: file.filename.clone(), content_type: file.content_type.clone(), content });
        }
        let mail = OutboundEmail {
            from_address,
            from_name: smtp.from_name.clone(),
            to_address,
            to_name: reply.contact_name.clone(),
            cc: reply.copied.clone(),
            conversation_number: reply.conversation_number,
            subject: reply.subject.clone(),
            message_key: reply.message_id.to_string(),
            thread: reply.thread.iter().map(|t| ThreadMail { message_id: t.external_id.clone(), inbound: t.inbound }).collect(),
            text: reply.text.clone(),
            attachments,
            automatic: reply.auto_reply,
        };
        let (message, id) = outbound::compose(&mail).map_err(|e| SendError::permanent(e.0))?;
        switchboard_email_transport::smtp::send(smtp, ctx.outbound, &message).await.map_err(|e| SendError {
            message: e.message,
            retryable: e.retryable,
            retry_after: None,
        })?;
        Ok(Sent::Done(Some(id)))
    }

    /// SMTP (connect, greet, sign in) and IMAP (sign in, open the folder), each when configured;
    /// a server's own words in a failure are kept to one short line.
    async fn check(&self, ctx: &SendContext<'_>, channel: &ChannelRef<'_>) -> Result<String, String> {
        let config = config(channel.config).map_err(|e| e.to_string())?;
        let mut worked = Vec::new();
        if let Some(smtp) = &config.smtp {
            worked.push(
                switchboard_email_transport::smtp::check(smtp, ctx.outbound).await.map_err(|e| switchboard_channels::http::short(&e))?,
            );
        }
        if let Some(imap) = &config.imap {
            worked.push(
                switchboard_email_transport::imap::check(imap, ctx.outbound).await.map_err(|e| switchboard_channels::http::short(&e))?,
            );
        }
        if worked.is_empty() {
            return Err("no smtp or imap block: mail arrives through the hook or LMTP, and replies are not sent".into());
        }
        Ok(worked.join("; "))
    }
}
