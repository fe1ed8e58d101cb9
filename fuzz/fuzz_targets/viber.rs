//! Fuzz target: any body posted to a Viber channel's webhook, signed with the bot's auth token
//! as Viber signs it (`X-Viber-Content-Signature`: hex HMAC-SHA256, no prefix), goes through the
//! real driver (JSON decoding, messages, files, contacts, statuses) without a panic and keeps the
//! invariants of `switchboard_fuzz::Channel::check`; signed with another token it is refused.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::json;
use std::sync::LazyLock;
use switchboard_channel_viber::ViberDriver;
use switchboard_channels::signature::sign;
use switchboard_fuzz::{Channel, Request, other_secret};

/// The fixtures' auth token (crates/channels/tests/fixtures/README.md).
const TOKEN: &str = "4a1d5e7f90b2c3d4-5e6f7a8b9c0d1e2f-3a4b5c6d7e8f9a0b";
const HEADER: &str = "x-viber-content-signature";

static CHANNEL: LazyLock<Channel> = LazyLock::new(|| Channel::new(&ViberDriver, json!({"auth_token": TOKEN})));

/// Viber's header: the hex digest alone.
fn viber_signature(token: &str, body: &[u8]) -> String {
    sign(token, body).trim_start_matches("sha256=").to_owned()
}

fuzz_target!(|body: &[u8]| {
    let signature = viber_signature(TOKEN, body);
    let _ = CHANNEL.receive(&ViberDriver, &Request::post(&[(HEADER, &signature)], body));
    let forged = viber_signature(&other_secret(TOKEN), body);
    CHANNEL.refuses(&ViberDriver, &Request::post(&[(HEADER, &forged)], body));
});
