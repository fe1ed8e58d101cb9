//! Fuzz target: any body posted to a WhatsApp Cloud API channel's webhook, signed with the app
//! secret as Meta signs it, goes through the real driver (JSON decoding, messages, reactions,
//! statuses, changes for other numbers) without a panic and keeps the invariants of
//! `switchboard_fuzz::Channel::check`; signed with another secret it is refused. The same bytes
//! as the query of Meta's subscription handshake (`GET`) never panic either.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::json;
use std::sync::LazyLock;
use switchboard_channel_whatsapp::WhatsappDriver;
use switchboard_channels::signature::sign;
use switchboard_fuzz::{Channel, Request, other_secret};

/// The fixtures' app secret, number and verify token (crates/channels/tests/fixtures/README.md).
const APP_SECRET: &str = "5d41402abc4b2a76b9719d911017c592";
const HEADER: &str = "x-hub-signature-256";

static CHANNEL: LazyLock<Channel> = LazyLock::new(|| {
    Channel::new(
        &WhatsappDriver,
        json!({
            "phone_number_id": "112233445566778",
            "access_token": "fuzz-access-token",
            "app_secret": APP_SECRET,
            "verify_token": "meta-verify-token-test-42",
        }),
    )
});

fuzz_target!(|body: &[u8]| {
    let signature = sign(APP_SECRET, body);
    let _ = CHANNEL.receive(&WhatsappDriver, &Request::post(&[(HEADER, &signature)], body));
    let forged = sign(&other_secret(APP_SECRET), body);
    CHANNEL.refuses(&WhatsappDriver, &Request::post(&[(HEADER, &forged)], body));
    let query = String::from_utf8_lossy(body);
    let handshake = Request { method: "GET", suffix: "", query: Some(&query), headers: &[], body: b"" };
    if let Ok(received) = CHANNEL.receive(&WhatsappDriver, &handshake) {
        assert!(received.events.is_empty(), "a handshake stored something");
    }
});
