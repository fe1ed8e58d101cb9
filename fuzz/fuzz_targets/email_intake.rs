//! Fuzz target: any bytes through the email intake (MIME parsing, quote trimming, automatic-mail
//! and bounce detection, HTML sanitising, translation to the domain) must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchboard_domain::{AttachmentId, ChannelId, WorkspaceId};
use switchboard_email::inbound::{EmailChannel, Limits, to_inbound};

fuzz_target!(|raw: &[u8]| {
    let Ok(parsed) = switchboard_email::parse(raw) else { return };
    let (workspace, channel) = (WorkspaceId::generate(), ChannelId::generate());
    let support = vec!["support@helpdesk.example.com".to_string()];
    let forms = vec!["forms@shop.example.com".to_string()];
    let url = |id: &AttachmentId| format!("/api/v1/attachments/{id}");
    let ctx = EmailChannel {
        workspace_id: &workspace,
        channel_id: &channel,
        support_addresses: &support,
        limits: Limits::default(),
        attachment_url: &url,
        now_ms: 1_767_225_600_000,
        form_senders: &forms,
    };
    let _ = to_inbound(raw.len(), parsed, &ctx);
});
