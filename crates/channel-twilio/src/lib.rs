//! Twilio Programmable Messaging (SMS, MMS, WhatsApp through Twilio): a form post verified by
//! `X-Twilio-Signature` over the URL Twilio requested and the sorted parameters, translated into
//! a message for the intake or a status of ours; replies through the Messages API.

use base64::Engine;
use hmac::{Hmac, Mac};
use switchboard_channels::InboundError;
use switchboard_domain::conversation::DeliveryStatus;
use switchboard_domain::identity::{Identity, IdentityKind};
use switchboard_domain::inbound::{AttachmentMeta, IdentityHint, InboundMessage};
use switchboard_domain::{AttachmentId, ChannelId, ChannelKind, Region, WorkspaceId};

mod driver;
pub use driver::{TwilioConfig, TwilioDriver};

pub const API_BASE_URL: &str = "https://api.twilio.com";
/// A Twilio media URL of an MMS, fetched (with the account's credentials) after the commit.
pub const FILE_URL_PREFIX: &str = "twilio-media:";

/// The decoded parameters of a form post, in their order.
pub fn params(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body).into_owned().collect()
}

/// base64(HMAC-SHA1(auth token, URL + every parameter's name and value, sorted by name)).
pub fn signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(auth_token.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Whether `header` is Twilio's signature of this request (constant time).
pub fn verify(auth_token: &str, url: &str, params: &[(String, String)], header: &str) -> bool {
    !auth_token.is_empty() && switchboard_channels::signature::same_secret(&signature(auth_token, url, params), header.trim())
}

fn get<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

pub struct TwilioContext<'a> {
    pub workspace_id: &'a WorkspaceId,
    pub channel_id: &'a ChannelId,
    pub default_region: Option<Region>,
}

/// An inbound SMS, MMS or WhatsApp message.
pub fn to_inbound(params: &[(String, String)], ctx: &TwilioContext<'_>) -> Result<InboundMessage, InboundError> {
    let sid = get(params, "MessageSid").filter(|s| !s.is_empty()).ok_or_else(|| InboundError::new("MessageSid", "missing"))?;
    let from = get(params, "From").ok_or_else(|| InboundError::new("From", "missing"))?;
    // The carrier (or WhatsApp) proves the number: it is the sender itself.
    let (sender, hints) = match from.strip_prefix("whatsapp:") {
        Some(number) => {
            let phone = Identity::phone(number, ctx.default_region).map_err(|e| InboundError::new("From", e.to_string()))?;
            let account = Identity::account(IdentityKind::Whatsapp, number.trim_start_matches('+'))
                .map_err(|e| InboundError::new("From", e.to_string()))?;
            (account, vec![IdentityHint { identity: phone, vouched: true }])
        }
        None => (Identity::phone(from, ctx.default_region).map_err(|e| InboundError::new("From", e.to_string()))?, Vec::new()),
    };
    let count: usize = get(params, "NumMedia").and_then(|n| n.parse().ok()).unwrap_or(0).min(10);
    let mut attachments = Vec::new();
    for i in 0..count {
        let Some(url) = get(params, &format!("MediaUrl{i}")) else { continue };
        let content_type = get(params, &format!("MediaContentType{i}")).unwrap_or("application/octet-stream");
        let extension = content_type.split('/').nth(1).unwrap_or("bin");
        attachments.push(AttachmentMeta {
            id: AttachmentId::generate(),
            filename: format!("media-{i}.{extension}"),
            content_type: content_type.to_owned(),
            content: None,
            url: Some(format!("{FILE_URL_PREFIX}{url}")),
            size: None,
            inline: false,
            content_id: None,
        });
    }
    let text = get(params, "Body").unwrap_or("").to_owned();
    if text.trim().is_empty() && attachments.is_empty() {
        return Err(InboundError::new("Body", "a message needs text or media"));
    }
    Ok(InboundMessage {
        workspace_id: ctx.workspace_id.clone(),
        channel_id: ctx.channel_id.clone(),
        channel_kind: ChannelKind::TwilioSms,
        external_id: sid.to_owned(),
        sender,
        sender_name: get(params, "ProfileName").map(str::to_owned),
        hints,
        subject: None,
        text,
        quoted_text: None,
        html: None,
        html_remote_images: None,
        sent_at: None,
        thread: None,
        attachments,
        auto_reply: false,
        participants: Vec::new(),
        group: None,
    })
}

/// A status callback: (our message's sid, its status, Twilio's error code), or `None` for a
/// status that changes nothing for us (queued, accepted, sending).
pub fn status(params: &[(String, String)]) -> Option<(String, DeliveryStatus, Option<String>)> {
    let sid = get(params, "MessageSid")?.to_owned();
    let status = match get(params, "MessageStatus")? {
        "sent" => DeliveryStatus::Sent,
        "delivered" | "read" => DeliveryStatus::Delivered,
        "undelivered" | "failed" => DeliveryStatus::Failed,
        _ => return None,
    };
    let error = get(params, "ErrorCode").filter(|c| !c.is_empty()).map(|c| format!("Twilio error {c}"));
    Some((sid, status, error))
}

/// The account's credentials for the Messages API and media.
pub struct Account<'a> {
    pub base_url: &'a str,
    pub sid: &'a str,
    pub token: &'a str,
}

/// "Test the connection": the account the credentials open (`GET /Accounts/{sid}.json`).
pub async fn check(client: &reqwest::Client, account: &Account<'_>) -> Result<String, switchboard_channels::SendError> {
    let url = format!("{}/2010-04-01/Accounts/{}.json", account.base_url.trim_end_matches('/'), account.sid);
    let response = client
        .get(&url)
        .basic_auth(account.sid, Some(account.token))
        .send()
        .await
        .map_err(|e: reqwest::Error| switchboard_channels::http::unreachable("Twilio", e))?;
    let status = response.status();
    let answer: serde_json::Value = response.json().await.unwrap_or(serde_json::Value::Null);
    // Twilio's documented fields, each kept short; the rest of the body is not kept.
    let text = |k: &str| switchboard_channels::http::short(answer.get(k).and_then(serde_json::Value::as_str).unwrap_or("?"));
    if !status.is_success() {
        return Err(switchboard_channels::SendError::permanent(format!("Twilio answered {status}: {}", text("message"))));
    }
    Ok(format!("the account is {} ({})", text("friendly_name"), text("status")))
}

/// Sends `text` to `to` from `from`, with files Twilio fetches from `media` (links of ours that
/// expire; an MMS, or WhatsApp through Twilio, takes up to 10); Twilio's sid of the message.
pub async fn send(
    client: &reqwest::Client,
    account: &Account<'_>,
    from: &str,
    to: &str,
    text: &str,
    media: &[String],
    status_callback: &str,
) -> Result<String, switchboard_channels::SendError> {
    let url = format!("{}/2010-04-01/Accounts/{}/Messages.json", account.base_url.trim_end_matches('/'), account.sid);
    let mut form = vec![("To", to), ("From", from), ("Body", text), ("StatusCallback", status_callback)];
    form.extend(media.iter().map(|m| ("MediaUrl", m.as_str())));
    let response = client
        .post(&url)
        .basic_auth(account.sid, Some(account.token))
        .form(&form)
        .send()
        .await
        .map_err(|e: reqwest::Error| switchboard_channels::http::unreachable("Twilio", e))?;
    let status = response.status();
    let retry_after = switchboard_channels::SendError::retry_after_header(response.headers());
    let answer: serde_json::Value = response.json().await.unwrap_or(serde_json::Value::Null);
    if status.is_success() {
        return Ok(answer.get("sid").and_then(serde_json::Value::as_str).unwrap_or_default().to_owned());
    }
    // Twilio's documented error message and code, kept short; the rest of the body is not kept.
    let message = switchboard_channels::http::short(answer.get("message").and_then(serde_json::Value::as_str).unwrap_or(""));
    let code = answer.get("code").and_then(serde_json::Value::as_i64).map(|c| format!(" ({c})")).unwrap_or_default();
    Err(switchboard_channels::SendError {
        message: format!("Twilio answered {status}: {message}{code}"),
        retryable: status.as_u16() == 429 || status.is_server_error(),
        retry_after,
    })
}

/// The domains Twilio serves media from: the Media resource on `api.twilio.com`, which
/// redirects to `mms.twiliocdn.com` (media under HTTP auth) or, for media stored before that,
/// `s3-external-1.amazonaws.com` (Twilio's "Protect Media Access with HTTP Basic
/// Authentication"). A media link elsewhere is not fetched.
pub const FILE_HOSTS: &[&str] = &["twilio.com", "twiliocdn.com", "s3-external-1.amazonaws.com"];

/// The bytes of an MMS medium (Twilio may require the account's credentials for media), from
/// Twilio's hosts or the account's `api_base_url` only; the credentials go to the media link's
/// own host, never to the CDN it redirects to.
pub async fn download_media(
    client: &reqwest::Client,
    account: &Account<'_>,
    url: &str,
) -> Result<Vec<u8>, switchboard_channels::SendError> {
    const MAX: usize = 25 * 1024 * 1024;
    let hosts = switchboard_channels::http::FileHosts { provider: "Twilio", domains: FILE_HOSTS, api_base_url: Some(account.base_url) };
    switchboard_channels::http::download(client, url, MAX, &hosts, Some((account.sid, account.token))).await
}

#[cfg(test)]
mod tests {
    use super::*;

    const AUTH_TOKEN: &str = "7b3f1c2e9a8d4f6b0c5e2a1d8f7b6c4a";

    fn fixture(name: &str) -> Vec<(String, String)> {
        let path = format!("{}/../channels/tests/fixtures/twilio/{name}", env!("CARGO_MANIFEST_DIR"));
        params(&std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}")))
    }

    #[test]
    fn the_expected_signatures_are_reproduced_and_twilios_own_vector_too() {
        let table: serde_json::Value = serde_json::from_slice(
            &std::fs::read(format!("{}/../channels/tests/fixtures/signatures.json", env!("CARGO_MANIFEST_DIR"))).expect("table"),
        )
        .expect("json");
        let rows: Vec<&serde_json::Value> =
            table["fixtures"].as_array().expect("rows").iter().filter(|r| r["channel"] == "twilio").collect();
        assert_eq!(rows.len(), 8);
        for row in rows {
            let params = fixture(row["file"].as_str().expect("file"));
            let (url, expected) = (row["url"].as_str().expect("url"), row["value"].as_str().expect("value"));
            assert_eq!(signature(AUTH_TOKEN, url, &params), expected, "{}", row["file"]);
            assert!(verify(AUTH_TOKEN, url, &params, expected));
            assert!(!verify(AUTH_TOKEN, &format!("{url}x"), &params, expected), "another URL");
        }
        // Twilio's documentation: token 12345, this URL and these parameters.
        let doc = [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+12349013030"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
            ("To", "+18005551212"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()));
        assert_eq!(signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", &doc), "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
    }

    #[test]
    fn sms_mms_and_whatsapp_through_twilio() {
        let (ws, ch) = (WorkspaceId::generate(), ChannelId::generate());
        let ctx = TwilioContext { workspace_id: &ws, channel_id: &ch, default_region: None };
        let sms = to_inbound(&fixture("sms.form"), &ctx).expect("sms");
        assert_eq!(
            (sms.sender.kind(), sms.sender.value(), sms.external_id.as_str()),
            (IdentityKind::Phone, "+48601234567", "SM8c1f0e2d3b4a59687a6b5c4d3e2f1a0b")
        );
        assert_eq!(sms.text, "Dzień dobry! Kurier nie dostarczył paczki 48213, proszę o kontakt & informację.");
        let mms = to_inbound(&fixture("mms.form"), &ctx).expect("mms");
        assert_eq!(mms.attachments.len(), 2);
        assert_eq!((mms.attachments[1].content_type.as_str(), mms.attachments[1].filename.as_str()), ("application/pdf", "media-1.pdf"));
        assert!(mms.attachments[0].url.as_deref().is_some_and(|u| u.starts_with("twilio-media:https://")));
        let wa = to_inbound(&fixture("whatsapp_inbound.form"), &ctx).expect("whatsapp");
        assert_eq!((wa.sender.kind(), wa.sender.value()), (IdentityKind::Whatsapp, "48601234567"));
        assert!(wa.hints.iter().any(|h| h.vouched && h.identity.value() == "+48601234567"));
        assert_eq!(
            status(&fixture("sms_status_delivered.form")),
            Some(("SMf0e1d2c3b4a5968778695a4b3c2d1e0f".into(), DeliveryStatus::Delivered, None))
        );
    }
}
