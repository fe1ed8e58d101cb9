//! Agent replies on email channels: the delivery record becomes a MIME message (threaded on the
//! conversation's earlier mail, tagged with its ticket) and goes out through the channel's SMTP
//! server. Its Message-ID becomes the message's external id, so the customer's answer finds it.

use std::sync::Arc;
use switchboard_channels::SendError;
use switchboard_email::config::EmailConfig;
use switchboard_email::outbound::{self, OutboundAttachment, OutboundEmail, ThreadMail};
use switchboard_store::{Delivery, Store};

/// Sends `d` and answers with the Message-ID it carried.
pub async fn send(store: &Arc<dyn Store>, d: &Delivery) -> Result<Option<String>, SendError> {
    let permanent = SendError::permanent;
    let config = EmailConfig::from_json(&d.channel.config).map_err(|(field, detail)| permanent(format!("{field}: {detail}")))?;
    let smtp = config.smtp.as_ref().ok_or_else(|| permanent("the channel has no SMTP server configured".into()))?;
    let from_address = config.address.clone().ok_or_else(|| permanent("the channel has no support address".into()))?;
    let recipient = d.recipients.first().ok_or_else(|| permanent("the customer has no email address".into()))?;
    let mut attachments = Vec::with_capacity(d.message.attachments.len());
    for a in d.message.attachments.iter().filter(|a| a.has_content) {
        let content = crate::worker::file_bytes(store, d, a).await?;
        attachments.push(OutboundAttachment { filename: a.filename.clone(), content_type: a.content_type.clone(), content });
    }
    let mail = OutboundEmail {
        from_address,
        from_name: smtp.from_name.clone(),
        to_address: recipient.value.clone(),
        to_name: d.contact_name.clone(),
        cc: d.copied.clone(),
        conversation_number: d.conversation.number,
        subject: d.conversation.subject.clone(),
        message_key: d.message.id.to_string(),
        thread: d.thread.iter().map(|t| ThreadMail { message_id: t.external_id.clone(), inbound: t.inbound }).collect(),
        text: d.message.text.clone(),
        attachments,
        automatic: d.message.auto_reply,
    };
    let (message, id) = outbound::compose(&mail).map_err(|e| permanent(e.0))?;
    switchboard_email_transport::smtp::send(smtp, &message).await.map_err(|e| SendError {
        message: e.message,
        retryable: e.retryable,
        retry_after: None,
    })?;
    Ok(Some(id))
}
