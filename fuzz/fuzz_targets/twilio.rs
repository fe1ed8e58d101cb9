//! Fuzz target: any form posted to a Twilio channel's webhook or its `/status` callback, signed
//! with the auth token as Twilio signs it (`X-Twilio-Signature`: base64 HMAC-SHA1 over the URL
//! and the sorted parameters), goes through the real driver (form decoding, SMS, MMS media,
//! WhatsApp-through-Twilio senders, delivery statuses) without a panic and keeps the invariants
//! of `switchboard_fuzz::Channel::check`; signed with another token it is refused.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::json;
use std::sync::LazyLock;
use switchboard_channel_twilio::{TwilioDriver, params, signature};
use switchboard_fuzz::{Channel, Request, other_secret};

/// The fixtures' auth token (crates/channels/tests/fixtures/README.md).
const AUTH_TOKEN: &str = "7b3f1c2e9a8d4f6b0c5e2a1d8f7b6c4a";
const HEADER: &str = "x-twilio-signature";

static CHANNEL: LazyLock<Channel> = LazyLock::new(|| {
    Channel::new(
        &TwilioDriver,
        json!({"account_sid": "AC0123456789abcdef0123456789abcdef", "auth_token": AUTH_TOKEN, "from_number": "+48221234567"}),
    )
});

fuzz_target!(|body: &[u8]| {
    let form = params(body);
    for suffix in ["", "/status"] {
        let url = format!("{}{suffix}", CHANNEL.webhook_url);
        let signed = signature(AUTH_TOKEN, &url, &form);
        let request = Request { method: "POST", suffix, query: None, headers: &[(HEADER, &signed)], body };
        let _ = CHANNEL.receive(&TwilioDriver, &request);
        let forged = signature(&other_secret(AUTH_TOKEN), &url, &form);
        CHANNEL.refuses(&TwilioDriver, &Request { headers: &[(HEADER, &forged)], ..request });
    }
});
