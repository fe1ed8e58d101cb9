//! Mail from the mail transports (the LMTP listener, the IMAP fetcher) into the intake: an
//! envelope recipient is routed to the email channel serving that address, and the intake's
//! answer is put in SMTP terms. The mail goes through the email driver and `hooks::store`, as the hook's does.

use async_trait::async_trait;
use switchboard_domain::{ChannelId, ChannelKind};
use switchboard_email::config::EmailConfig;
use switchboard_email::tokens::base_address;
use switchboard_email_transport::Refusal;
use switchboard_email_transport::lmtp::MailSink;
use switchboard_web::AppState;
use switchboard_web::error::ApiError;

pub struct ChannelMailSink {
    pub state: AppState,
}

/// The intake's refusal as an SMTP answer: the sender's fault is final (5xx), ours is not (4xx).
pub fn refusal(e: &ApiError) -> Refusal {
    let status = e.status.as_u16();
    let (permanent, code) = match status {
        413 => (true, "5.3.4"),
        400..=499 => (true, "5.6.0"),
        _ => (false, "4.3.0"),
    };
    Refusal { permanent, status: code, message: e.message() }
}

#[async_trait]
impl MailSink for ChannelMailSink {
    async fn route(&self, recipient: &str) -> Option<String> {
        let wanted = base_address(recipient);
        let channels = match self.state.store.channels_of_kind(ChannelKind::Email).await {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "cannot list email channels");
                return None;
            }
        };
        channels.into_iter().find_map(|channel| {
            let config = EmailConfig::from_json(&channel.config).ok()?;
            config.support_addresses().iter().any(|a| base_address(a) == wanted).then(|| channel.id.to_string())
        })
    }

    async fn deliver(&self, route: &str, raw: Vec<u8>) -> Result<(), Refusal> {
        let temporary = |message: String| Refusal { permanent: false, status: "4.3.0", message };
        let id = ChannelId::parse(route).map_err(|_| temporary(format!("unknown route {route}")))?;
        let channel = self.state.store.channel(&id).await.map_err(|e| temporary(format!("cannot load the channel: {e}")))?;
        take_in_mail(&self.state, &channel, raw).await.map_err(|e| refusal(&e))
    }
}

/// One raw message of an email channel, from a mail transport: translated by the email driver
/// (off the async threads), then stored as a hook's would be.
pub async fn take_in_mail(state: &AppState, channel: &switchboard_store::Channel, raw: Vec<u8>) -> Result<(), ApiError> {
    let driver = state.drivers.get(ChannelKind::Email).cloned().ok_or_else(|| ApiError::internal("no email driver in this build"))?;
    let webhook_url = state.webhook_url(channel);
    let received = {
        let (channel, webhook_url) = (channel.clone(), webhook_url.clone());
        tokio::task::spawn_blocking(move || {
            switchboard_channel_email::EmailDriver::translate(
                &switchboard_web::hooks::channel_ref(&channel, &webhook_url),
                &raw,
                switchboard_store::now(),
            )
        })
        .await
        .map_err(ApiError::internal)?
        .map_err(switchboard_web::hooks::hook_error)?
    };
    switchboard_web::hooks::store(state, channel, &driver, received).await.map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_senders_faults_are_final_and_ours_are_not() {
        use axum::http::StatusCode;
        let too_large = ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "email_too_large", "error.email_too_large");
        assert_eq!((refusal(&too_large).permanent, refusal(&too_large).status), (true, "5.3.4"));
        let not_mail = ApiError::new(StatusCode::BAD_REQUEST, "not_an_email", "error.not_an_email");
        assert_eq!((refusal(&not_mail).permanent, refusal(&not_mail).status), (true, "5.6.0"));
        let ours = ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "error.internal");
        assert_eq!((refusal(&ours).permanent, refusal(&ours).status), (false, "4.3.0"));
    }
}
