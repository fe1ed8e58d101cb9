//! Fuzz target: any JSON a widget visitor's browser posts as a message (`POST
//! /widget/v1/{channel}/messages`) goes through the same decoding and translation as the server
//! (`switchboard_channels::json::decode`, which the web crate's `JsonBody` uses, then the widget
//! channel's `verify_user` and `to_inbound`) without a panic. A signed-in site user is signed
//! here with the channel's identity secret, so the fuzzer reaches past the signature check;
//! the user's token must name that user again (`Visitor::token` / `read_token` round trip), and
//! the same user with a wrong signature is refused. The body's text is also tried as a visitor
//! token, which must never name a visitor unless this channel signed it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde::Deserialize;
use serde_json::json;
use std::sync::LazyLock;
use switchboard_channel_widget::{
    SiteUser, TokenCheck, Visitor, VisitorMessage, WidgetConfig, WidgetContext, WidgetDriver, hex_mac, to_inbound, verify_user,
};
use switchboard_fuzz::{CHANNEL_SECRET, Channel, other_secret};

const IDENTITY_SECRET: &str = "fuzz-identity-secret";

/// The JSON form of a visitor's message, as `crates/widget/src/api.rs` (`SendJson`) reads it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SendJson {
    client_id: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    user: Option<SiteUser>,
}

static CHANNEL: LazyLock<Channel> = LazyLock::new(|| {
    Channel::new(
        &WidgetDriver,
        json!({"allowed_origins": ["https://www.example.com"], "identity_secret": IDENTITY_SECRET, "default_region": "PL"}),
    )
});
static CONFIG: LazyLock<WidgetConfig> = LazyLock::new(|| WidgetConfig::from_json(&CHANNEL.config).expect("the target's widget config"));

/// The clock the target's tokens are issued and read at (fixed: a run is reproducible).
const NOW_MS: i64 = 1_796_000_000_000;

/// The site's signatures of the user's id, email and phone, as its page computes them.
fn signed(mut user: SiteUser, secret: &str) -> SiteUser {
    user.hash = hex_mac(secret, user.id.trim());
    user.email_hash = user.email.as_deref().map(|email| hex_mac(secret, email.trim()));
    user.phone_hash = user.phone.as_deref().map(|phone| hex_mac(secret, phone.trim()));
    user
}

fuzz_target!(|body: &[u8]| {
    let token = String::from_utf8_lossy(body);
    let check = Visitor::read_token(CHANNEL_SECRET, &token, NOW_MS);
    if check != TokenCheck::Unknown {
        panic!("a token this channel never signed reads as {check:?}");
    }
    let Ok(send) = switchboard_channels::json::decode::<SendJson>(body) else { return };
    let ctx = CHANNEL.as_ref();
    let region = ctx.default_region();
    let verified = match send.user {
        Some(user) => {
            // As given (a page's own hashes), then signed by the site, then by someone else.
            let _ = verify_user(&CONFIG, &user, region);
            if verify_user(&CONFIG, &signed(user.clone(), &other_secret(IDENTITY_SECRET)), region).is_ok() {
                panic!("a user signed with another secret was verified");
            }
            verify_user(&CONFIG, &signed(user, IDENTITY_SECRET), region).ok()
        }
        None => None,
    };
    let visitor = verified.as_ref().map_or_else(Visitor::new_anonymous, |v| v.visitor.clone());
    assert_eq!(
        Visitor::read_token(CHANNEL_SECRET, &visitor.token(CHANNEL_SECRET, NOW_MS), NOW_MS),
        TokenCheck::Valid(visitor.clone()),
        "a token that loses its visitor"
    );
    let message = VisitorMessage { client_id: send.client_id, text: send.text, name: send.name, email: send.email, files: Vec::new() };
    let widget = WidgetContext { workspace_id: ctx.workspace_id, channel_id: ctx.id, visitor: &visitor, verified: verified.as_ref() };
    if let Ok(inbound) = to_inbound(message, &widget) {
        let received = switchboard_channels::Received::events(vec![switchboard_channels::ChannelEvent::Message(Box::new(inbound))]);
        CHANNEL.check(&received, body.len());
    }
});
