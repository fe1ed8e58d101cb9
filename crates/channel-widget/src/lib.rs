//! The web chat widget: its channel settings, which sites may embed it, who a visitor is (an
//! anonymous visitor's signed token, or a site user the site vouches for with an HMAC, as
//! Intercom's identity verification does), and a visitor's message as an `InboundMessage`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use switchboard_channels::InboundError;
use switchboard_domain::inbound::{AttachmentMeta, IdentityHint, InboundMessage};
use switchboard_domain::*;

mod driver;
pub use driver::WidgetDriver;

type HmacSha256 = Hmac<Sha256>;

/// How long a reply waits for the visitor's browser before it goes by email instead.
pub const DEFAULT_EMAIL_AFTER_SECONDS: i64 = 120;
const MAX_TEXT_CHARS: usize = 10_000;
const MAX_NAME_CHARS: usize = 200;

/// A widget channel's settings, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct WidgetConfig {
    /// Origins (`scheme://host[:port]`) whose pages may run the widget; `*` allows any.
    pub allowed_origins: Vec<String>,
    /// The key a site signs its users' ids (and emails) with; `None`: no verified visitors.
    pub identity_secret: Option<String>,
    /// Shown in the widget's header.
    pub title: Option<String>,
    /// The first words a visitor sees.
    pub greeting: Option<String>,
    /// `#rrggbb` of the launcher and the header.
    pub color: Option<String>,
    /// A reply the visitor's browser has not received within this many seconds goes to the
    /// email they left, if any.
    pub email_after_seconds: i64,
    /// The email channel such replies go out by; else the workspace's first one that sends.
    pub email_channel_id: Option<ChannelId>,
    /// Messages one client address may send a minute (all its visitors together; 0: no limit).
    pub messages_per_minute_per_address: u32,
}

/// Messages one visitor may send a minute: more than anyone types.
pub const MESSAGES_PER_MINUTE_PER_VISITOR: u32 = 20;
/// The default allowance of one client address a minute (several visitors behind one NAT).
pub const DEFAULT_MESSAGES_PER_MINUTE_PER_ADDRESS: u32 = 120;

impl WidgetConfig {
    /// Reads and checks a widget channel's `config`; the error names the key at fault.
    pub fn from_json(config: &Value) -> Result<Self, InboundError> {
        let text = |key: &str| -> Result<Option<String>, InboundError> {
            match config.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.trim().to_owned())),
                Some(_) => Err(InboundError::new(format!("config.{key}"), "must be text")),
            }
        };
        let origins = config.get("allowed_origins").and_then(Value::as_array).filter(|a| !a.is_empty()).ok_or_else(|| {
            InboundError::new("config.allowed_origins", "list the sites that embed the widget, e.g. [\"https://shop.example\"]")
        })?;
        let mut allowed_origins = Vec::with_capacity(origins.len());
        for (i, o) in origins.iter().enumerate() {
            let field = format!("config.allowed_origins[{i}]");
            let o = o.as_str().ok_or_else(|| InboundError::new(field.clone(), "must be text"))?;
            allowed_origins.push(if o.trim() == "*" {
                "*".to_owned()
            } else {
                normal_origin(o).ok_or_else(|| InboundError::new(field, "must be an origin such as https://shop.example"))?
            });
        }
        let identity_secret = text("identity_secret")?;
        if identity_secret.as_ref().is_some_and(|s| s.len() < 16) {
            return Err(InboundError::new("config.identity_secret", "must be at least 16 characters"));
        }
        let color = text("color")?;
        if let Some(c) = &color
            && !(c.len() == 7 && c.starts_with('#') && c[1..].bytes().all(|b| b.is_ascii_hexdigit()))
        {
            return Err(InboundError::new("config.color", "must be #rrggbb"));
        }
        let email_after_seconds = match config.get("email_after_seconds") {
            None | Some(Value::Null) => DEFAULT_EMAIL_AFTER_SECONDS,
            Some(v) => v
                .as_i64()
                .filter(|s| (0..=7 * 86_400).contains(s))
                .ok_or_else(|| InboundError::new("config.email_after_seconds", "must be a number of seconds up to a week"))?,
        };
        let messages_per_minute_per_address = match config.get("messages_per_minute_per_address") {
            None | Some(Value::Null) => DEFAULT_MESSAGES_PER_MINUTE_PER_ADDRESS,
            Some(v) => v
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| InboundError::new("config.messages_per_minute_per_address", "must be a whole number (0: no limit)"))?,
        };
        let email_channel_id = text("email_channel_id")?
            .map(|id| ChannelId::parse(&id).map_err(|_| InboundError::new("config.email_channel_id", "must be a channel id")))
            .transpose()?;
        Ok(Self {
            allowed_origins,
            identity_secret,
            title: text("title")?,
            greeting: text("greeting")?,
            color,
            email_after_seconds,
            email_channel_id,
            messages_per_minute_per_address,
        })
    }

    /// Whether a page of `origin` (the browser's `Origin` header) may use the widget.
    pub fn allows(&self, origin: &str) -> bool {
        let Some(origin) = normal_origin(origin) else { return false };
        self.allowed_origins.iter().any(|o| o == "*" || *o == origin)
    }
}

/// `scheme://host[:port]` in lower case without a trailing slash or default port, if `raw` is
/// an http(s) origin and nothing more.
pub fn normal_origin(raw: &str) -> Option<String> {
    let raw = raw.trim().trim_end_matches('/').to_ascii_lowercase();
    let (scheme, rest) = raw.split_once("://")?;
    if !matches!(scheme, "http" | "https") || rest.is_empty() || rest.contains(['/', '?', '#', '@', ' ']) {
        return None;
    }
    let rest = match (scheme, rest.rsplit_once(':')) {
        ("http", Some((host, "80"))) | ("https", Some((host, "443"))) if !host.ends_with(']') || host.starts_with('[') => host,
        _ => rest,
    };
    Some(format!("{scheme}://{rest}"))
}

/// How long an anonymous visitor's token lasts after it was issued: 30 days, in milliseconds.
/// Every use (opening the chat, sending, polling, the socket) issues a new one.
pub const ANONYMOUS_TOKEN_TTL_MS: i64 = 30 * 24 * 60 * 60 * 1000;

/// What a visitor token is worth.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenCheck {
    Valid(Visitor),
    /// Signed by the channel, but too old.
    Expired,
    /// Not signed by the channel's secret, or not a token.
    Unknown,
}

/// Who is chatting: an anonymous visitor (a random key this server minted) or a user of the
/// site, vouched for by the site's signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Visitor {
    Anonymous(String),
    User(String),
}

impl Visitor {
    pub fn new_anonymous() -> Self {
        Self::Anonymous(uuid_like())
    }

    /// The identity the channel proves for this visitor.
    pub fn identity(&self, channel: &ChannelId) -> Identity {
        let raw = match self {
            Self::Anonymous(key) => format!("visitor:{key}"),
            Self::User(id) => format!("user:{id}"),
        };
        // Both are short printable text by construction (checked in `verify_user`).
        Identity::scoped(IdentityKind::Widget, channel, &raw)
            .unwrap_or_else(|_| Identity::from_trusted(IdentityKind::Widget, format!("{channel}:{raw}")))
    }

    /// The token the visitor's browser keeps: the visitor and when the token was issued
    /// (`now_ms`, Unix milliseconds, kept to the second), signed with the channel's secret:
    /// `KEY.ISSUED.SIGNATURE`.
    pub fn token(&self, secret: &str, now_ms: i64) -> String {
        let key = self.key();
        let issued = now_ms.div_euclid(1000);
        format!("{key}.{issued}.{}", mac(secret, &format!("widget-visitor\n{key}\n{issued}")))
    }

    /// What a token is worth at `now_ms`. An anonymous visitor's token expires
    /// [`ANONYMOUS_TOKEN_TTL_MS`] after it was issued (each use hands out a new one, so the
    /// expiry slides with use); a signed-in user's has no age limit, since it counts only with
    /// the site's signature of the user on every call. Tokens of the format before issue times
    /// (`KEY.SIGNATURE`) never expired, and are refused as unknown.
    pub fn read_token(secret: &str, token: &str, now_ms: i64) -> TokenCheck {
        let mut parts = token.trim().rsplitn(3, '.');
        let (Some(sig), Some(issued), Some(key)) = (parts.next(), parts.next(), parts.next()) else { return TokenCheck::Unknown };
        if !same(&mac(secret, &format!("widget-visitor\n{key}\n{issued}")), sig) {
            return TokenCheck::Unknown;
        }
        let Ok(issued_s) = issued.parse::<i64>() else { return TokenCheck::Unknown };
        let visitor = if let Some(k) = key.strip_prefix("v_") {
            Self::Anonymous(k.to_owned())
        } else {
            let Some(id) = key.strip_prefix("u_").and_then(|u| URL_SAFE_NO_PAD.decode(u).ok()).and_then(|id| String::from_utf8(id).ok())
            else {
                return TokenCheck::Unknown;
            };
            Self::User(id)
        };
        let age_ms = now_ms.saturating_sub(issued_s.saturating_mul(1000));
        match visitor {
            Self::Anonymous(_) if age_ms >= ANONYMOUS_TOKEN_TTL_MS => TokenCheck::Expired,
            visitor => TokenCheck::Valid(visitor),
        }
    }

    fn key(&self) -> String {
        match self {
            Self::Anonymous(k) => format!("v_{k}"),
            Self::User(id) => format!("u_{}", URL_SAFE_NO_PAD.encode(id)),
        }
    }
}

/// A user the site says is signed in: `hash` = hex HMAC-SHA256(identity_secret, id), and, for
/// the email (phone) to count as theirs, `email_hash` (`phone_hash`) = the same over the email
/// (phone) exactly as given.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteUser {
    pub id: String,
    pub hash: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub email_hash: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub phone_hash: Option<String>,
}

/// A site user whose signature checked out: their id, and their email when it was signed too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedUser {
    pub visitor: Visitor,
    pub name: Option<String>,
    pub email: Option<Identity>,
    pub phone: Option<Identity>,
}

/// Checks a site user's signatures.
pub fn verify_user(config: &WidgetConfig, user: &SiteUser, default_region: Option<Region>) -> Result<VerifiedUser, InboundError> {
    let secret = config
        .identity_secret
        .as_deref()
        .ok_or_else(|| InboundError::new("user", "this widget does not verify users (its channel has no identity_secret)"))?;
    let id = user.id.trim();
    if id.is_empty() || id.chars().count() > 200 || id.chars().any(char::is_control) {
        return Err(InboundError::new("user.id", "must be 1 to 200 printable characters"));
    }
    if !same(&hex_mac(secret, id), &user.hash.trim().to_ascii_lowercase()) {
        return Err(InboundError::new("user.hash", "is not the HMAC-SHA256 of the user id with this channel's identity secret"));
    }
    // A detail without its own valid signature is refused rather than downgraded to a claim:
    // the site meant to vouch for it, so a wrong signature is a mistake to be told about.
    let signed = |name: &str, value: Option<&str>, hash: Option<&str>| -> Result<Option<String>, InboundError> {
        let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else { return Ok(None) };
        if !hash.is_some_and(|h| same(&hex_mac(secret, value), &h.trim().to_ascii_lowercase())) {
            return Err(InboundError::new(
                format!("user.{name}_hash"),
                format!("is not the HMAC-SHA256 of the {name} with this channel's identity secret"),
            ));
        }
        Ok(Some(value.to_owned()))
    };
    let email = signed("email", user.email.as_deref(), user.email_hash.as_deref())?
        .map(|e| Identity::email(&e).map_err(|err| InboundError::new("user.email", err.to_string())))
        .transpose()?;
    let phone = signed("phone", user.phone.as_deref(), user.phone_hash.as_deref())?
        .map(|p| Identity::phone(&p, default_region).map_err(|err| InboundError::new("user.phone", err.to_string())))
        .transpose()?;
    Ok(VerifiedUser { visitor: Visitor::User(id.to_owned()), name: clean_name(user.name.as_deref()), email, phone })
}

/// What a visitor sends: text and files, with the pre-chat form's answers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VisitorMessage {
    /// The browser's own id for the message, so that a retried send is stored once.
    pub client_id: String,
    pub text: String,
    pub name: Option<String>,
    /// Typed into the form: kept on the profile as a claim, never used to find the customer.
    pub email: Option<String>,
    pub files: Vec<(String, String, Vec<u8>)>,
}

/// The context a widget message is translated in.
pub struct WidgetContext<'a> {
    pub workspace_id: &'a WorkspaceId,
    pub channel_id: &'a ChannelId,
    pub visitor: &'a Visitor,
    /// For a verified user: their signed name and email.
    pub verified: Option<&'a VerifiedUser>,
}

pub fn to_inbound(m: VisitorMessage, ctx: &WidgetContext<'_>) -> Result<InboundMessage, InboundError> {
    let client_id = m.client_id.trim();
    if client_id.is_empty() || client_id.len() > 100 || client_id.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(InboundError::new("client_id", "must be 1 to 100 characters without spaces"));
    }
    if m.text.chars().count() > MAX_TEXT_CHARS {
        return Err(InboundError::new("text", format!("longer than {MAX_TEXT_CHARS} characters")));
    }
    if m.text.trim().is_empty() && m.files.is_empty() {
        return Err(InboundError::new("text", "a message needs text or a file"));
    }
    let mut hints = Vec::new();
    for detail in ctx.verified.into_iter().flat_map(|v| [v.phone.clone(), v.email.clone()]).flatten() {
        hints.push(IdentityHint { identity: detail, vouched: true });
    }
    if let Some(email) = m.email.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
        let identity = Identity::email(email).map_err(|e| InboundError::new("email", e.to_string()))?;
        if !hints.iter().any(|h| h.identity == identity) {
            hints.push(IdentityHint { identity, vouched: false });
        }
    }
    let name = ctx.verified.and_then(|v| v.name.clone()).or_else(|| clean_name(m.name.as_deref()));
    if m.name.as_deref().is_some_and(|n| n.chars().count() > MAX_NAME_CHARS) {
        return Err(InboundError::new("name", format!("longer than {MAX_NAME_CHARS} characters")));
    }
    let attachments = m
        .files
        .into_iter()
        .map(|(filename, content_type, content)| AttachmentMeta {
            id: AttachmentId::generate(),
            filename,
            content_type,
            size: Some(content.len() as u64),
            content: Some(content),
            url: None,
            inline: false,
            content_id: None,
        })
        .collect();
    Ok(InboundMessage {
        workspace_id: ctx.workspace_id.clone(),
        channel_id: ctx.channel_id.clone(),
        channel_kind: ChannelKind::Widget,
        external_id: format!("{}:{client_id}", ctx.visitor.key()),
        sender: ctx.visitor.identity(ctx.channel_id),
        sender_name: name,
        hints,
        subject: None,
        text: m.text.trim().to_owned(),
        quoted_text: None,
        html: None,
        html_remote_images: None,
        sent_at: None,
        thread: None,
        attachments,
        auto_reply: false,
        participants: Vec::new(),
        group: None,
    })
}

fn clean_name(name: Option<&str>) -> Option<String> {
    name.map(str::trim)
        .filter(|n| !n.is_empty() && n.chars().count() <= MAX_NAME_CHARS)
        .map(|n| n.chars().filter(|c| !c.is_control()).collect())
}

fn mac(secret: &str, text: &str) -> String {
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(text.as_bytes());
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

/// Lower-case hex HMAC-SHA256: what a site computes with its identity secret.
pub fn hex_mac(secret: &str, text: &str) -> String {
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(text.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

fn same(expected: &str, given: &str) -> bool {
    switchboard_channels::signature::same_secret(expected, given)
}

/// 32 lower-case hex digits of randomness.
fn uuid_like() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config() -> WidgetConfig {
        WidgetConfig::from_json(&json!({"allowed_origins": ["https://Shop.example:443/", "http://127.0.0.1:3000"], "identity_secret": "site-secret-0123456789"}))
            .expect("valid")
    }

    #[test]
    fn only_listed_origins_may_embed_the_widget() {
        let c = config();
        assert_eq!(c.allowed_origins, ["https://shop.example", "http://127.0.0.1:3000"]);
        assert!(c.allows("https://shop.example"));
        assert!(c.allows("https://SHOP.example:443"));
        assert!(c.allows("http://127.0.0.1:3000"));
        assert!(!c.allows("http://shop.example"), "another scheme is another origin");
        assert!(!c.allows("https://evil.example"));
        assert!(!c.allows("https://shop.example.evil.example"));
        assert!(!c.allows("http://127.0.0.1:3001"));
        assert!(!c.allows("null"), "sandboxed frames and files");
        assert!(!c.allows(""));
        let any = WidgetConfig::from_json(&json!({"allowed_origins": ["*"]})).expect("valid");
        assert!(any.allows("https://anything.example"));
        assert!(!any.allows("null"));
    }

    #[test]
    fn settings_are_checked_key_by_key() {
        let field = |v: Value| WidgetConfig::from_json(&v).expect_err("invalid").field;
        assert_eq!(field(json!({})), "config.allowed_origins");
        assert_eq!(field(json!({"allowed_origins": []})), "config.allowed_origins");
        assert_eq!(field(json!({"allowed_origins": ["shop.example"]})), "config.allowed_origins[0]");
        assert_eq!(field(json!({"allowed_origins": ["https://a.example/path"]})), "config.allowed_origins[0]");
        assert_eq!(field(json!({"allowed_origins": ["*"], "identity_secret": "short"})), "config.identity_secret");
        assert_eq!(field(json!({"allowed_origins": ["*"], "color": "red"})), "config.color");
        assert_eq!(field(json!({"allowed_origins": ["*"], "email_after_seconds": -1})), "config.email_after_seconds");
        assert_eq!(field(json!({"allowed_origins": ["*"], "email_channel_id": "x"})), "config.email_channel_id");
        let ok = WidgetConfig::from_json(&json!({"allowed_origins": ["*"]})).expect("valid");
        assert_eq!(ok.email_after_seconds, DEFAULT_EMAIL_AFTER_SECONDS);
    }

    #[test]
    fn visitor_tokens_are_signed_by_the_channel_and_anonymous_ones_expire() {
        let now = 1_750_000_000_000;
        let anon = Visitor::new_anonymous();
        let token = anon.token("channel-secret", now);
        assert_eq!(Visitor::read_token("channel-secret", &token, now), TokenCheck::Valid(anon.clone()));
        assert_eq!(Visitor::read_token("other-secret", &token, now), TokenCheck::Unknown);
        let forged = token.replacen("v_", "v_0", 1);
        assert_eq!(Visitor::read_token("channel-secret", &forged, now), TokenCheck::Unknown);
        // The issue time is signed too: a token cannot be made younger.
        let (rest, sig) = token.rsplit_once('.').expect("signed");
        let (key, _) = rest.rsplit_once('.').expect("issued");
        assert_eq!(Visitor::read_token("channel-secret", &format!("{key}.{}.{sig}", now / 1000 + 100), now), TokenCheck::Unknown);
        // 30 days after its issue an anonymous token is worth nothing; a new one lasts again.
        let later = now + ANONYMOUS_TOKEN_TTL_MS;
        assert_eq!(Visitor::read_token("channel-secret", &token, later - 1000), TokenCheck::Valid(anon.clone()));
        assert_eq!(Visitor::read_token("channel-secret", &token, later), TokenCheck::Expired);
        assert_eq!(Visitor::read_token("channel-secret", &anon.token("channel-secret", later), later), TokenCheck::Valid(anon.clone()));
        // A signed-in user's token has no age: the site's signature decides on every call.
        let user = Visitor::User("ü 42".into());
        assert_eq!(Visitor::read_token("s", &user.token("s", now), later * 2), TokenCheck::Valid(user));
        // The format before issue times (key.signature) is unknown.
        let old = format!("v_{}.{}", "a".repeat(32), mac("channel-secret", &format!("widget-visitor\nv_{}", "a".repeat(32))));
        assert_eq!(Visitor::read_token("channel-secret", &old, now), TokenCheck::Unknown);
        assert_eq!(Visitor::read_token("channel-secret", "", now), TokenCheck::Unknown);
    }

    #[test]
    fn a_site_user_counts_only_with_the_sites_signature() {
        let c = config();
        let secret = "site-secret-0123456789";
        let user = SiteUser { id: "42".into(), hash: hex_mac(secret, "42"), ..Default::default() };
        assert_eq!(verify_user(&c, &user, None).expect("valid").visitor, Visitor::User("42".into()));
        let upper = SiteUser { hash: hex_mac(secret, "42").to_ascii_uppercase(), ..user.clone() };
        assert!(verify_user(&c, &upper, None).is_ok(), "hex in capitals is the same signature");
        let wrong = SiteUser { hash: hex_mac("another-secret-123456", "42"), ..user.clone() };
        assert_eq!(verify_user(&c, &wrong, None).expect_err("refused").field, "user.hash");
        let email = SiteUser { email: Some("Anna@Example.com".into()), ..user.clone() };
        assert_eq!(verify_user(&c, &email, None).expect_err("unsigned email").field, "user.email_hash");
        let signed = SiteUser { email_hash: Some(hex_mac(secret, "Anna@Example.com")), ..email };
        assert_eq!(verify_user(&c, &signed, None).expect("valid").email, Some(Identity::email("anna@example.com").expect("email")));
        let phone =
            SiteUser { phone: Some("+48 601 234 567".into()), phone_hash: Some(hex_mac(secret, "+48 601 234 567")), ..user.clone() };
        assert_eq!(verify_user(&c, &phone, None).expect("valid").phone, Identity::phone("+48601234567", None).ok());
        let unsigned_phone = SiteUser { phone_hash: None, ..phone };
        assert_eq!(verify_user(&c, &unsigned_phone, None).expect_err("unsigned phone").field, "user.phone_hash");
        let no_secret = WidgetConfig::from_json(&json!({"allowed_origins": ["*"]})).expect("valid");
        assert_eq!(verify_user(&no_secret, &user, None).expect_err("no secret").field, "user");
    }

    #[test]
    fn a_typed_email_is_a_claim_and_a_signed_one_is_vouched() {
        let (ws, ch) = (WorkspaceId::generate(), ChannelId::generate());
        let visitor = Visitor::new_anonymous();
        let ctx = WidgetContext { workspace_id: &ws, channel_id: &ch, visitor: &visitor, verified: None };
        let m = VisitorMessage {
            client_id: "c1".into(),
            text: " Hello ".into(),
            email: Some("anna@example.com".into()),
            name: Some("Anna".into()),
            ..Default::default()
        };
        let inbound = to_inbound(m.clone(), &ctx).expect("valid");
        assert_eq!(inbound.text, "Hello");
        assert_eq!(inbound.sender, visitor.identity(&ch));
        assert_eq!(inbound.hints, vec![IdentityHint { identity: Identity::email("anna@example.com").expect("email"), vouched: false }]);
        assert!(inbound.external_id.ends_with(":c1"));

        let user = VerifiedUser {
            visitor: Visitor::User("42".into()),
            name: Some("Anna K".into()),
            email: Identity::email("anna@example.com").ok(),
            phone: None,
        };
        let ctx = WidgetContext { workspace_id: &ws, channel_id: &ch, visitor: &user.visitor, verified: Some(&user) };
        let inbound = to_inbound(m.clone(), &ctx).expect("valid");
        assert_eq!(inbound.hints.len(), 1, "the signed email, once");
        assert!(inbound.hints[0].vouched);
        assert_eq!(inbound.sender_name.as_deref(), Some("Anna K"));

        let field = |m: VisitorMessage| to_inbound(m, &ctx).expect_err("invalid").field;
        assert_eq!(field(VisitorMessage { client_id: "".into(), ..m.clone() }), "client_id");
        assert_eq!(field(VisitorMessage { text: " ".into(), ..m.clone() }), "text");
        assert_eq!(field(VisitorMessage { email: Some("not an email".into()), ..m.clone() }), "email");
    }
}
