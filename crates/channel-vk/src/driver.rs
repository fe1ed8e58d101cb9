//! The VK driver: the Callback API in, the VK API out, behind the `Driver` seam.

use crate::{Callback, VkContext, VkEvent};
use async_trait::async_trait;
use serde::Deserialize;
use serde_json::Value;
use switchboard_channels::config::{HttpUrl, Secret, numeric_id, parse};
use switchboard_channels::driver::first_recipient;
use switchboard_channels::http::FileHosts;
use switchboard_channels::{
    ChannelEvent, ChannelRef, Driver, HookError, HookReply, HookRequest, InboundError, Outgoing, Received, SendContext, SendError, Sent,
};
use switchboard_domain::ChannelKind;

/// The largest file fetched from VK's servers.
const MAX_DOWNLOAD_BYTES: usize = 25 * 1024 * 1024;

/// A VK channel's settings (CONTRACT.md). VK signs nothing: the `secret` it sends back is all
/// that tells its notifications apart.
#[derive(Debug, Clone, Deserialize)]
pub struct VkConfig {
    /// The community's id, as a number or as text of digits (the console shows `club229…`'s
    /// digits as text).
    #[serde(deserialize_with = "numeric_id")]
    pub group_id: i64,
    pub access_token: Secret,
    pub secret: Secret,
    /// The string VK's confirmation request must be answered with.
    pub confirmation: Secret,
    pub api_base_url: Option<HttpUrl>,
}

impl VkConfig {
    pub fn from_json(config: &Value) -> Result<Self, InboundError> {
        parse(config)
    }

    fn base(&self) -> &str {
        self.api_base_url.as_ref().map_or(crate::API_BASE_URL, HttpUrl::as_str)
    }
}

fn settings(channel: &ChannelRef<'_>) -> Result<VkConfig, SendError> {
    VkConfig::from_json(channel.config).map_err(|e| SendError::permanent(e.to_string()))
}

pub struct VkDriver;

#[async_trait]
impl Driver for VkDriver {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Vk
    }

    fn validate(&self, config: &Value) -> Result<(), InboundError> {
        VkConfig::from_json(config).map(|_| ())
    }

    fn config_example(&self) -> &'static str {
        "{\n  \"group_id\": 0,\n  \"access_token\": \"\",\n  \"secret\": \"\",\n  \"confirmation\": \"\"\n}"
    }

    /// A Callback API notification: its community and our secret are checked before anything in
    /// it is used. The confirmation request is answered with `config.confirmation`, everything
    /// else with `ok` once stored.
    fn receive(&self, channel: &ChannelRef<'_>, request: &HookRequest<'_>) -> Result<Received, HookError> {
        if request.method != "POST" || !request.suffix.is_empty() {
            return Err(HookError::NoSuchHook);
        }
        let config = VkConfig::from_json(channel.config).map_err(|_| HookError::NotAuthentic)?;
        let callback: Callback = serde_json::from_slice(request.body).map_err(|_| HookError::NotAuthentic)?;
        if !crate::authentic(&callback, config.group_id, config.secret.expose()) {
            return Err(HookError::NotAuthentic);
        }
        let ctx = VkContext { workspace_id: channel.workspace_id, channel_id: channel.id };
        let ok = HookReply::Text("ok".to_owned());
        Ok(match crate::to_event(callback, &ctx)? {
            VkEvent::Confirmation => Received::reply(HookReply::Text(config.confirmation.expose().to_owned())),
            VkEvent::Message(message) => Received { reply: ok, ..Received::events(vec![ChannelEvent::Message(message)]) },
            VkEvent::Reaction { external_id, label, sender } => {
                let reaction = ChannelEvent::Reaction { external_id, emoji: label, sender, at: None };
                Received { reply: ok, ..Received::events(vec![reaction]) }
            }
            VkEvent::Ignored => Received::reply(ok),
        })
    }

    async fn send(&self, ctx: &SendContext<'_>, channel: &ChannelRef<'_>, reply: &Outgoing) -> Result<Sent, SendError> {
        let config = settings(channel)?;
        let (base, token) = (config.base(), config.access_token.expose());
        // The peer of the customer's latest message here (a dialog or a group chat).
        let peer = reply
            .thread
            .iter()
            .rev()
            .filter(|t| t.inbound)
            .find_map(|t| crate::peer_of(&t.external_id))
            .or_else(|| first_recipient(reply).ok().and_then(|r| r.parse().ok()))
            .ok_or_else(|| SendError::permanent("no VK dialog to reply to"))?;
        // The same random_id on every attempt: VK drops a repeated send.
        let random_id = crate::random_id(reply.message_id.as_str());
        // Each file is uploaded to VK first, then the message goes with them attached.
        let mut attachments = Vec::new();
        for file in &reply.files {
            let bytes = ctx.files.bytes(file).await?;
            attachments.push(crate::upload_file(ctx.http, base, token, peer, &file.filename, &file.content_type, bytes).await?);
        }
        crate::send_message(ctx.http, base, token, peer, random_id, &reply.text, &attachments).await.map(|id| Sent::Done(Some(id)))
    }

    /// `messages.send` with the same `random_id` posts once (VK API, messages.send).
    fn idempotent_sends(&self) -> bool {
        true
    }

    /// Only from VK's own hosts (`crate::FILE_HOSTS`, or the host of an overriding
    /// `api_base_url`): a link elsewhere stays a link.
    async fn fetch_file(&self, ctx: &SendContext<'_>, channel: &ChannelRef<'_>, reference: &str) -> Result<Vec<u8>, SendError> {
        let url = reference.strip_prefix(crate::FILE_URL_PREFIX).ok_or_else(|| SendError::permanent("not a VK file link"))?;
        let config = settings(channel)?;
        let hosts =
            FileHosts { provider: "VK", domains: crate::FILE_HOSTS, api_base_url: config.api_base_url.as_ref().map(HttpUrl::as_str) };
        switchboard_channels::http::download(ctx.http, url, MAX_DOWNLOAD_BYTES, &hosts, None).await
    }

    async fn check(&self, ctx: &SendContext<'_>, channel: &ChannelRef<'_>) -> Result<String, String> {
        let config = settings(channel).map_err(|e| e.message)?;
        crate::check(ctx.http, config.base(), config.access_token.expose()).await.map_err(|e| e.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use switchboard_domain::{ChannelId, Timestamp, WorkspaceId};

    #[test]
    fn the_community_id_may_be_typed_as_a_number_or_as_text() {
        let keys = json!({"access_token": "t", "secret": "s3", "confirmation": "c0nf"});
        for group_id in [json!(229000001), json!("229000001"), json!(" 229000001 ")] {
            let mut config = keys.clone();
            config["group_id"] = group_id.clone();
            assert_eq!(VkConfig::from_json(&config).map(|c| c.group_id), Ok(229000001), "{group_id}");
            // And a notification of that community is taken with either.
            let (id, ws) = (ChannelId::generate(), WorkspaceId::generate());
            let channel =
                ChannelRef { id: &id, workspace_id: &ws, kind: ChannelKind::Vk, name: "vk", secret: "x", config: &config, webhook_url: "" };
            let headers = reqwest::header::HeaderMap::new();
            let body = br#"{"type": "confirmation", "group_id": 229000001, "secret": "s3"}"#;
            let request = HookRequest { method: "POST", suffix: "", query: None, headers: &headers, body, received_at: Timestamp(0) };
            let received = VkDriver.receive(&channel, &request).expect("authentic");
            assert_eq!(received.reply, HookReply::Text("c0nf".into()));
        }
        for bad in [json!("club229000001"), json!(0), json!(-1), json!(null)] {
            let mut config = keys.clone();
            config["group_id"] = bad.clone();
            assert_eq!(VkConfig::from_json(&config).map(|_| ()).expect_err("refused").field, "config.group_id", "{bad}");
        }
    }
}
