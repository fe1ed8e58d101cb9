//! Fuzz target: any body posted to a Telegram channel's webhook with the right secret token goes
//! through the real driver (JSON decoding, translation of messages, edits, buttons, reactions)
//! without a panic, and keeps the invariants of `switchboard_fuzz::Channel::check`; with a wrong
//! token it is refused.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::json;
use std::sync::LazyLock;
use switchboard_channel_telegram::TelegramDriver;
use switchboard_fuzz::{Channel, Request, other_secret};

/// The fixtures' secret token (crates/channels/tests/fixtures/README.md).
const SECRET: &str = "tg-test-secret_2026-Xq9";
const HEADER: &str = "x-telegram-bot-api-secret-token";

static CHANNEL: LazyLock<Channel> =
    LazyLock::new(|| Channel::new(&TelegramDriver, json!({"bot_token": "123456:fuzz-bot-token", "secret_token": SECRET})));

fuzz_target!(|body: &[u8]| {
    let _ = CHANNEL.receive(&TelegramDriver, &Request::post(&[(HEADER, SECRET)], body));
    let wrong = other_secret(SECRET);
    CHANNEL.refuses(&TelegramDriver, &Request::post(&[(HEADER, &wrong)], body));
    CHANNEL.refuses(&TelegramDriver, &Request::post(&[], body));
});
