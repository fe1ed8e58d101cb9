//! Fuzz target: any body posted to a VK channel's Callback API webhook goes through the real
//! driver (JSON decoding, the community's id and secret, messages, reactions, confirmation)
//! without a panic and keeps the invariants of `switchboard_fuzz::Channel::check`.
//!
//! VK signs nothing: its notifications carry the community's `group_id` and `secret` in the JSON
//! itself. The channel is configured with the fixtures' values, so the raw bytes reach the
//! translation while the fuzzer keeps them; a JSON object that lost them is sent once more with
//! them put back. A body sent to a channel with another secret is refused unless it names that
//! secret.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};
use std::sync::LazyLock;
use switchboard_channel_vk::{Callback, VkDriver};
use switchboard_fuzz::{Channel, Request, other_secret};

/// The fixtures' community and secret (crates/channels/tests/fixtures/README.md).
const GROUP_ID: i64 = 229_876_543;
const SECRET: &str = "vk-test-secret-Pa55w0rd";

fn config(secret: &str) -> Value {
    json!({"group_id": GROUP_ID, "access_token": "fuzz-access-token", "secret": secret, "confirmation": "a1b2c3d4"})
}

static CHANNEL: LazyLock<Channel> = LazyLock::new(|| Channel::new(&VkDriver, config(SECRET)));
static OTHER: LazyLock<Channel> = LazyLock::new(|| Channel::new(&VkDriver, config(&other_secret(SECRET))));

/// Whether the body names `secret` as its own, read as the driver reads it (a `Callback`, which
/// skips the other fields unchecked): then it is that community's notification.
fn carries(body: &[u8], secret: &str) -> bool {
    serde_json::from_slice::<Callback>(body).is_ok_and(|c| c.secret.as_deref() == Some(secret))
}

fuzz_target!(|body: &[u8]| {
    let authentic = CHANNEL.receive(&VkDriver, &Request::post(&[], body)).is_ok();
    // The fuzzer can write any secret into a body, the other channel's too (it once did, from
    // the fixtures' secret and one more letter): only a body without it must be refused there.
    if !carries(body, OTHER.config["secret"].as_str().unwrap_or_default()) {
        OTHER.refuses(&VkDriver, &Request::post(&[], body));
    }
    if authentic {
        return;
    }
    let Ok(Value::Object(mut callback)) = serde_json::from_slice::<Value>(body) else { return };
    callback.insert("group_id".into(), json!(GROUP_ID));
    callback.insert("secret".into(), json!(SECRET));
    let Ok(patched) = serde_json::to_vec(&callback) else { return };
    let _ = CHANNEL.receive(&VkDriver, &Request::post(&[], &patched));
});
