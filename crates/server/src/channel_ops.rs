//! Calls to providers beyond intake and delivery, for the admin pages and the webhooks: "test
//! the connection" (reach the provider the way delivery and fetching do, change nothing, say what
//! worked or what failed), registering a webhook, and acknowledging button presses.

use futures_util::future::BoxFuture;
use std::time::Duration;
use switchboard_channels::{telegram, twilio, viber, vk, whatsapp};
use switchboard_domain::ChannelKind;
use switchboard_email::config::EmailConfig;
use switchboard_store::Channel;

/// The provider calls of this build, with one HTTP client.
pub struct ProviderCalls {
    client: reqwest::Client,
}

impl Default for ProviderCalls {
    fn default() -> Self {
        Self::new()
    }
}

impl ProviderCalls {
    pub fn new() -> Self {
        Self { client: reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap_or_default() }
    }
}

impl switchboard_web::ChannelOps for ProviderCalls {
    fn check(&self, channel: Channel) -> BoxFuture<'static, Result<String, String>> {
        let client = self.client.clone();
        Box::pin(async move {
            match channel.kind {
                ChannelKind::Api => api(&client, &channel).await,
                ChannelKind::Email => email(&channel).await,
                ChannelKind::Telegram => {
                    let (base, token) = telegram_settings(&channel)?;
                    telegram::get_me(&client, &base, &token).await.map_err(|e| e.message)
                }
                ChannelKind::Whatsapp => {
                    let get = |k: &str| channel.config.get(k).and_then(|v| v.as_str()).unwrap_or("").to_owned();
                    let base = Some(get("api_base_url")).filter(|b| !b.is_empty()).unwrap_or_else(|| whatsapp::API_BASE_URL.to_owned());
                    whatsapp::check(&client, &base, &get("phone_number_id"), &get("access_token")).await.map_err(|e| e.message)
                }
                ChannelKind::Vk => {
                    let get = |k: &str| channel.config.get(k).and_then(|v| v.as_str()).unwrap_or("").to_owned();
                    let base = Some(get("api_base_url")).filter(|b| !b.is_empty()).unwrap_or_else(|| vk::API_BASE_URL.to_owned());
                    vk::check(&client, &base, &get("access_token")).await.map_err(|e| e.message)
                }
                ChannelKind::Viber => {
                    let get = |k: &str| channel.config.get(k).and_then(|v| v.as_str()).unwrap_or("").to_owned();
                    let base = Some(get("api_base_url")).filter(|b| !b.is_empty()).unwrap_or_else(|| viber::API_BASE_URL.to_owned());
                    viber::check(&client, &base, &get("auth_token")).await.map_err(|e| e.message)
                }
                ChannelKind::TwilioSms => {
                    let get = |k: &str| channel.config.get(k).and_then(|v| v.as_str()).unwrap_or("").to_owned();
                    let (base, sid, token) = (get("api_base_url"), get("account_sid"), get("auth_token"));
                    let base_url = if base.is_empty() { twilio::API_BASE_URL } else { base.as_str() };
                    twilio::check(&client, &twilio::Account { base_url, sid: &sid, token: &token }).await.map_err(|e| e.message)
                }
                ChannelKind::Widget => {
                    let config = switchboard_channels::widget::WidgetConfig::from_json(&channel.config).map_err(|e| e.to_string())?;
                    let signed = if config.identity_secret.is_some() { "; signed-in users are verified" } else { "" };
                    Ok(format!("the widget may be embedded on {}{signed}", config.allowed_origins.join(", ")))
                }
                other => Err(format!("channels of kind {} have no connection check in this version", other.as_str())),
            }
        })
    }

    fn register_webhook(&self, channel: Channel, url: String) -> BoxFuture<'static, Result<String, String>> {
        let client = self.client.clone();
        Box::pin(async move {
            match channel.kind {
                ChannelKind::Telegram => {
                    let (base, token) = telegram_settings(&channel)?;
                    let secret = channel.config.get("secret_token").and_then(|s| s.as_str()).ok_or("the channel has no secret_token")?;
                    telegram::set_webhook(&client, &base, &token, &url, secret).await.map_err(|e| e.message)
                }
                other => Err(format!("channels of kind {} are not registered from here", other.as_str())),
            }
        })
    }

    fn acknowledge_button(&self, channel: Channel, query_id: String) -> BoxFuture<'static, ()> {
        let client = self.client.clone();
        Box::pin(async move {
            if channel.kind != ChannelKind::Telegram {
                return;
            }
            let Ok((base, token)) = telegram_settings(&channel) else { return };
            if let Err(e) = telegram::answer_callback(&client, &base, &token, &query_id).await {
                tracing::warn!(channel = %channel.id, error = %e.message, "cannot answer a Telegram button press");
            }
        })
    }
}

/// (API base URL, bot token) of a Telegram channel.
fn telegram_settings(channel: &Channel) -> Result<(String, String), String> {
    let token = channel.config.get("bot_token").and_then(|t| t.as_str()).ok_or("the channel has no bot_token")?;
    let base = channel.config.get("api_base_url").and_then(|u| u.as_str()).unwrap_or(telegram::API_BASE_URL);
    Ok((base.to_owned(), token.to_owned()))
}

/// A signed `{"type": "ping"}` to the system's reply URL, as replies are sent; any 2xx passes.
async fn api(client: &reqwest::Client, channel: &Channel) -> Result<String, String> {
    let url = channel.config.get("url").and_then(|u| u.as_str()).ok_or("the channel has no config.url to send replies to")?;
    let body = serde_json::json!({"type": "ping", "channel_id": channel.id}).to_string();
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
