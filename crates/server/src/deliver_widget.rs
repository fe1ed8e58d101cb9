//! Agent replies on the web chat widget. The visitor's browser shows a reply the moment it is
//! stored and says when it has it; this job only decides what happens when it never does: the
//! visitor left, so the reply goes to the email they gave, in the same conversation (its
//! Message-ID becomes the reply's external id, so their answer by mail threads back here).

use crate::deliver_email;
use std::sync::Arc;
use switchboard_channels::widget::WidgetConfig;
use switchboard_domain::conversation::DeliveryStatus;
use switchboard_domain::{ChannelKind, Timestamp};
use switchboard_email::config::EmailConfig;
use switchboard_store::{Channel, Delivery, JobOutcome, Store};

pub async fn deliver(store: &Arc<dyn Store>, d: &Delivery) -> JobOutcome {
    let failed = |error: String, retryable: bool| JobOutcome::Failed { error, retryable };
    let config = match WidgetConfig::from_json(&d.channel.config) {
        Ok(c) => c,
        Err(e) => return failed(format!("the widget channel is misconfigured: {e}"), false),
    };
    if d.message.delivery_status == Some(DeliveryStatus::Delivered) {
        return JobOutcome::Done { external_id: None };
    }
    let due = d.message.created_at.millis() + config.email_after_seconds * 1000;
    if switchboard_store::now().millis() < due {
        return JobOutcome::Later { at: Timestamp(due), reason: "waiting for the visitor's browser to receive it".into() };
    }
    let ws = &d.channel.workspace_id;
    let contact = match store.contact(ws, &d.conversation.contact_id).await {
        Ok(c) => c,
        Err(e) => return failed(format!("cannot read the customer: {e}"), true),
    };
    let Some(address) = contact.email_to_answer().cloned() else {
        // No email: the reply waits in the widget for the visitor's next visit.
        return JobOutcome::Done { external_id: None };
    };
    let mail_channel = match email_channel(store, d, &config).await {
        Ok(Some(c)) => c,
        Ok(None) => {
            tracing::warn!(channel = %d.channel.id, "a widget reply could go by email, but no email channel can send");
            return JobOutcome::Done { external_id: None };
        }
        Err(e) => return failed(e, true),
    };
    let by_mail =
        Delivery { channel: mail_channel, recipients: vec![address.clone()], thread: Vec::new(), copied: Vec::new(), ..d.clone() };
    match deliver_email::send(store, &by_mail).await {
        Ok(message_id) => {
            if let Err(e) = store.note_continued_by_email(ws, &d.message.id, &address.value).await {
                tracing::error!(error = %e, "cannot note that a widget reply went by email");
            }
            JobOutcome::Done { external_id: message_id }
        }
        Err(e) => failed(format!("the visitor had left; emailing {} failed: {}", address.value, e.message), e.retryable),
    }
}

/// The channel replies continue by: the one the widget names, else the workspace's first email
/// channel that has an SMTP server.
async fn email_channel(store: &Arc<dyn Store>, d: &Delivery, config: &WidgetConfig) -> Result<Option<Channel>, String> {
    let sends = |c: &Channel| c.kind == ChannelKind::Email && EmailConfig::from_json(&c.config).is_ok_and(|e| e.smtp.is_some());
    if let Some(id) = &config.email_channel_id {
        let c = store.channel(id).await.map_err(|e| format!("cannot read the email channel: {e}"))?;
        return Ok((c.workspace_id == d.channel.workspace_id && sends(&c)).then_some(c));
    }
    let all = store.list_channels(&d.channel.workspace_id).await.map_err(|e| format!("cannot list channels: {e}"))?;
    Ok(all.into_iter().find(sends))
}
