//! "Test the connection" of a channel, for the admin pages: reach the provider the way delivery
//! and fetching do, change nothing, and say what worked or what failed.

use std::time::Duration;
use switchboard_domain::ChannelKind;
use switchboard_email::config::EmailConfig;
use switchboard_store::Channel;

/// The check for every channel kind this build can reach.
pub fn checker() -> switchboard_web::ChannelCheck {
    std::sync::Arc::new(|channel: Channel| Box::pin(check(channel)))
}

async fn check(channel: Channel) -> Result<String, String> {
    match channel.kind {
        ChannelKind::Api => api(&channel).await,
        ChannelKind::Email => email(&channel).await,
        other => Err(format!("channels of kind {} have no connection check in this version", other.as_str())),
    }
}

/// A signed `{"type": "ping"}` to the system's reply URL, as replies are sent; any 2xx passes.
async fn api(channel: &Channel) -> Result<String, String> {
    let url = channel.config.get("url").and_then(|u| u.as_str()).ok_or("the channel has no config.url to send replies to")?;
    let body = serde_json::json!({"type": "ping", "channel_id": channel.id}).to_string();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().map_err(|e| e.to_string())?;
    let res = client
        .post(url)
        .header("content-type", "application/json")
        .header("x-switchboard-signature", switchboard_channels::signature::sign(&channel.secret, body.as_bytes()))
        .body(body)
        .send()
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    if res.status().is_success() { Ok(format!("{url} answered {}", res.status())) } else { Err(format!("{url} answered {}", res.status())) }
}

/// SMTP (connect, greet, sign in) and IMAP (sign in, open the folder), each when configured.
async fn email(channel: &Channel) -> Result<String, String> {
    let config = EmailConfig::from_json(&channel.config).map_err(|(field, detail)| format!("{field}: {detail}"))?;
    let mut worked = Vec::new();
    if let Some(smtp) = &config.smtp {
        worked.push(switchboard_email_transport::smtp::check(smtp).await?);
    }
    if let Some(imap) = &config.imap {
        worked.push(switchboard_email_transport::imap::check(imap).await?);
    }
    if worked.is_empty() {
        return Err("no smtp or imap block: mail arrives through the hook or LMTP, and replies are not sent".into());
    }
    Ok(worked.join("; "))
}
