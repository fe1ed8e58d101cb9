//! Fuzz target: any body posted to an API channel's webhook or its `/status` reports, signed with
//! the channel's secret (`X-Switchboard-Signature: sha256=HEX`), goes through the real driver
//! (JSON decoding, identities, timestamps, threads, attachments, receipts; on a channel marked
//! public, posts with their link) without a panic and keeps the invariants of
//! `switchboard_fuzz::Channel::check`; signed with another secret it is refused.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::json;
use std::sync::LazyLock;
use switchboard_channel_api::ApiDriver;
use switchboard_channels::signature::sign;
use switchboard_fuzz::{CHANNEL_SECRET, Channel, Request, other_secret};

const HEADER: &str = "x-switchboard-signature";

static CHANNEL: LazyLock<Channel> =
    LazyLock::new(|| Channel::new(&ApiDriver, json!({"url": "https://crm.example.com/switchboard/replies", "default_region": "PL"})));
/// A channel marked public: its posts become mentions (with their link), not messages.
static PUBLIC: LazyLock<Channel> = LazyLock::new(|| Channel::new(&ApiDriver, json!({"public": true, "default_region": "PL"})));

fuzz_target!(|body: &[u8]| {
    let signature = sign(CHANNEL_SECRET, body);
    let forged = sign(&other_secret(CHANNEL_SECRET), body);
    for channel in [&*CHANNEL, &*PUBLIC] {
        for suffix in ["", "/status"] {
            let request = Request { method: "POST", suffix, query: None, headers: &[(HEADER, &signature)], body };
            let _ = channel.receive(&ApiDriver, &request);
            channel.refuses(&ApiDriver, &Request { headers: &[(HEADER, &forged)], ..request });
        }
    }
});
