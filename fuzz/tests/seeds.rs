//! The fuzz targets' channels take their seeds: every provider fixture, signed as the target
//! signs it, is accepted by the real driver, so libFuzzer starts past the signature checks
//! (a wrong secret in a target would leave it fuzzing nothing but refusals).
//! Run with `cd fuzz && cargo test`.

use serde_json::json;
use std::path::Path;
use switchboard_channels::Driver;
use switchboard_channels::signature::sign;
use switchboard_fuzz::{CHANNEL_SECRET, Channel, Request};

fn seeds(dirs: &[&str]) -> Vec<(String, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in dirs {
        for entry in std::fs::read_dir(root.join(dir)).expect("seed directory") {
            let path = entry.expect("entry").path();
            let name = path.display().to_string();
            if name.ends_with(".json") || name.ends_with(".form") {
                files.push((name, std::fs::read(&path).expect("seed")));
            }
        }
    }
    assert!(!files.is_empty(), "no seeds in {dirs:?}");
    files
}

fn accepted(channel: &Channel, driver: &dyn Driver, name: &str, request: &Request<'_>) {
    if let Err(e) = channel.receive(driver, request) {
        panic!("{name}: refused with {e:?}");
    }
}

#[test]
fn telegram() {
    let driver = switchboard_channel_telegram::TelegramDriver;
    let secret = "tg-test-secret_2026-Xq9";
    let channel = Channel::new(&driver, json!({"bot_token": "123456:fuzz-bot-token", "secret_token": secret}));
    for (name, body) in seeds(&["../crates/channels/tests/fixtures/telegram", "seeds/telegram"]) {
        accepted(&channel, &driver, &name, &Request::post(&[("x-telegram-bot-api-secret-token", secret)], &body));
    }
}

#[test]
fn whatsapp() {
    let driver = switchboard_channel_whatsapp::WhatsappDriver;
    let secret = "5d41402abc4b2a76b9719d911017c592";
    let config = json!({"phone_number_id": "112233445566778", "access_token": "t", "app_secret": secret, "verify_token": "v"});
    let channel = Channel::new(&driver, config);
    for (name, body) in seeds(&["../crates/channels/tests/fixtures/whatsapp", "seeds/whatsapp"]) {
        let signature = sign(secret, &body);
        let received = channel.receive(&driver, &Request::post(&[("x-hub-signature-256", &signature)], &body));
        assert!(received.is_ok_and(|r| !r.events.is_empty()), "{name}: nothing taken in");
    }
}

#[test]
fn viber() {
    let driver = switchboard_channel_viber::ViberDriver;
    let token = "4a1d5e7f90b2c3d4-5e6f7a8b9c0d1e2f-3a4b5c6d7e8f9a0b";
    let channel = Channel::new(&driver, json!({"auth_token": token}));
    for (name, body) in seeds(&["../crates/channels/tests/fixtures/viber"]) {
        let signature = sign(token, &body).trim_start_matches("sha256=").to_owned();
        accepted(&channel, &driver, &name, &Request::post(&[("x-viber-content-signature", &signature)], &body));
    }
}

#[test]
fn vk() {
    let driver = switchboard_channel_vk::VkDriver;
    let config = json!({"group_id": 229_876_543, "access_token": "t", "secret": "vk-test-secret-Pa55w0rd", "confirmation": "a1b2c3d4"});
    let channel = Channel::new(&driver, config);
    for (name, body) in seeds(&["../crates/channels/tests/fixtures/vk", "seeds/vk"]) {
        accepted(&channel, &driver, &name, &Request::post(&[], &body));
    }
}

#[test]
fn twilio() {
    let driver = switchboard_channel_twilio::TwilioDriver;
    let token = "7b3f1c2e9a8d4f6b0c5e2a1d8f7b6c4a";
    let channel = Channel::new(&driver, json!({"account_sid": "AC0123", "auth_token": token, "from_number": "+48221234567"}));
    for (name, body) in seeds(&["../crates/channels/tests/fixtures/twilio"]) {
        // Messages go to the hook, statuses to its /status; calls are not this channel's.
        if name.contains("voice") {
            continue;
        }
        let suffix = if name.contains("status") { "/status" } else { "" };
        let form = switchboard_channel_twilio::params(&body);
        let signature = switchboard_channel_twilio::signature(token, &format!("{}{suffix}", channel.webhook_url), &form);
        let request = Request { method: "POST", suffix, query: None, headers: &[("x-twilio-signature", &signature)], body: &body };
        accepted(&channel, &driver, &name, &request);
    }
}

#[test]
fn api() {
    let driver = switchboard_channel_api::ApiDriver;
    let channel = Channel::new(&driver, json!({}));
    for (name, body) in seeds(&["seeds/api"]) {
        let signature = sign(CHANNEL_SECRET, &body);
        let suffix = if name.contains("status") { "/status" } else { "" };
        let request = Request { method: "POST", suffix, query: None, headers: &[("x-switchboard-signature", &signature)], body: &body };
        accepted(&channel, &driver, &name, &request);
    }
}
