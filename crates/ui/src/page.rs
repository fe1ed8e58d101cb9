//! The frame every page shares (header, navigation, the strings the script needs), security
//! headers, and small helpers for showing times, channels and errors.

use crate::Agent;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};
use switchboard_domain::{ChannelKind, Timestamp};
use switchboard_i18n::{Lang, t};
use switchboard_web::error::ApiError;

pub const APP_JS: &str = include_str!("../assets/app.js");
pub const APP_CSS: &str = include_str!("../assets/app.css");

/// A translated string without variables.
pub fn tr(lang: Lang, key: &str) -> String {
    t(lang, key, &[])
}

/// The page as a response, with the headers that keep injected content inert: no script but
/// our own file, no framing, no MIME sniffing, no referrer to other sites.
pub fn respond(status: StatusCode, markup: Markup) -> Response {
    let mut response = (status, axum::response::Html(markup.into_string())).into_response();
    let headers = response.headers_mut();
    let fixed = [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; \
             object-src 'none'; base-uri 'none'; frame-src 'self'; frame-ancestors 'none'; form-action 'self'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::CACHE_CONTROL, "no-store"),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// A page for someone not signed in (sign-in, setup).
pub fn bare(lang: Lang, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head { (head(title)) }
            body.bare {
                main.card id="main" {
                    p.brand { "Switchboard" }
                    (body)
                }
            }
        }
    }
}

fn head(title: &str) -> Markup {
    html! {
        meta charset="utf-8";
        meta name="viewport" content="width=device-width, initial-scale=1";
        title { (title) " · Switchboard" }
        link rel="stylesheet" href="/ui/app.css";
        script src="/ui/app.js" defer {}
    }
}

/// Which part of the workspace a page belongs to (highlighted in the navigation).
#[derive(PartialEq, Eq, Clone, Copy)]
pub enum Section {
    Inbox,
    Mentions,
    Knowledge,
    Notifications,
    Account,
    Admin,
}

/// The signed-in frame: navigation, colleagues' presence, live notices, then the page.
pub fn frame(agent: &Agent, section: Section, title: &str, body: Markup) -> Markup {
    let lang = agent.lang();
    let s = &agent.session;
    let current = |sec: Section| if sec == section { Some("page") } else { None };
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head { (head(title)) }
            body data-agent-id=(s.principal.agent_id) data-agent-name=(s.name) data-role=(s.principal.role.as_str())
                data-notify-desktop=(s.notifications.desktop) data-notify-sound=(s.notifications.sound) {
                a.skip href="#main" { (tr(lang, "ui.skip_to_content")) }
                header.top {
                    a.brand href="/inbox" { "Switchboard" }
                    nav aria-label=(tr(lang, "ui.navigation")) {
                        a href="/inbox" aria-current=[current(Section::Inbox)] { (tr(lang, "ui.inbox")) }
                        a href="/mentions" aria-current=[current(Section::Mentions)] { (tr(lang, "ui.mentions.title")) }
                        a href="/kb" aria-current=[current(Section::Knowledge)] { (tr(lang, "ui.kb.title")) }
                        a href="/notifications" aria-current=[current(Section::Notifications)] {
                            (tr(lang, "ui.notifications")) " "
                            span #unread.badge hidden[agent.unread == 0] { (agent.unread) }
                        }
                        @if crate::admin::may_administer(s.principal.role) {
                            a href="/admin" aria-current=[current(Section::Admin)] { (tr(lang, "ui.admin.title")) }
                        }
                        a href="/account" aria-current=[current(Section::Account)] { (s.name) }
                    }
                    ul #presence.presence aria-label=(tr(lang, "ui.colleagues_online")) {}
                    form method="post" action="/logout" {
                        button.link type="submit" { (tr(lang, "ui.sign_out")) }
                    }
                }
                (strings(lang))
                div #notices.notices role="status" aria-live="polite" {}
                main #main tabindex="-1" { (body) }
            }
        }
    }
}

/// Texts the script shows, in the page's language (attributes, so they stay plain text).
fn strings(lang: Lang) -> Markup {
    let keys = [
        ("viewing", "ui.live.viewing"),
        ("typing", "ui.live.typing"),
        ("customer-typing", "ui.customer_typing"),
        ("new-conversation", "ui.live.new_conversation"),
        ("new-reply", "ui.live.new_reply"),
        ("mentioned", "ui.live.mentioned"),
        ("public-mention", "ui.notification.public_mention"),
        ("online", "ui.presence.online"),
        ("away", "ui.presence.away"),
        ("offline", "ui.presence.offline"),
        ("reconnecting", "ui.live.reconnecting"),
        ("failed", "ui.live.failed"),
    ];
    html! {
        div #strings hidden {
            @for (name, key) in keys {
                // `{name}` stays for the script to fill in.
                span data-key=(name) { (t(lang, key, &[("name", "{name}")])) }
            }
        }
    }
}

/// An error as a page (for forms and links; the API answers JSON).
pub fn error_page(lang: Lang, error: &ApiError) -> Response {
    let body = html! {
        h1 { (tr(lang, "ui.error_title")) }
        p role="alert" { (error.message()) }
        p { a href="/inbox" { (tr(lang, "ui.back_to_inbox")) } }
    };
    respond(error.status, bare(lang, &tr(lang, "ui.error_title"), body))
}

/// Percent-encodes a query value.
pub fn url_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A channel's symbol and name, for timelines and lists (the name is read by screen readers).
pub fn channel_badge(lang: Lang, kind: ChannelKind) -> Markup {
    let symbol = match kind {
        ChannelKind::Email => "✉",
        ChannelKind::Telegram => "✈",
        ChannelKind::Whatsapp => "◉",
        ChannelKind::Vk => "VK",
        ChannelKind::Viber => "◎",
        ChannelKind::TwilioSms => "✆",
        ChannelKind::TwilioVoice => "☎",
        ChannelKind::Widget => "💬",
        ChannelKind::Api => "⇄",
    };
    let name = channel_name(lang, kind);
    html! {
        span class=(format!("ch ch-{}", kind.as_str())) title=(name) {
            span aria-hidden="true" { (symbol) }
            span.sr { (name) }
        }
    }
}

pub fn channel_name(lang: Lang, kind: ChannelKind) -> String {
    tr(lang, &format!("ui.channel.{}", kind.as_str()))
}

/// `<time>` with the moment in UTC; the script shows it in the agent's own time zone.
pub fn when(t: Timestamp) -> Markup {
    let iso = switchboard_web::dto::time(t);
    let shown = iso.get(..16).unwrap_or(&iso).replace('T', " ");
    html! { time datetime=(iso) { (shown) " UTC" } }
}

/// The moment as plain text (for a title attribute).
pub fn plain_time(t: Timestamp) -> String {
    let iso = switchboard_web::dto::time(t);
    format!("{} UTC", iso.get(..16).unwrap_or(&iso).replace('T', " "))
}

/// "5 minutes", "2 hours", "3 days": how long someone has waited, with the language's plurals.
pub fn duration(lang: Lang, millis: i64) -> String {
    let minutes = (millis / 60_000).max(0);
    let (key, count) = if minutes < 60 {
        ("ui.duration.minutes", minutes)
    } else if minutes < 48 * 60 {
        ("ui.duration.hours", minutes / 60)
    } else {
        ("ui.duration.days", minutes / (24 * 60))
    };
    t(lang, key, &[("count", &count.to_string())])
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_domain::{Priority, Role, Status};

    /// Every key the pages use has an English message (the i18n crate checks that ru and pl
    /// have every English one): no page ever shows a raw key.
    #[test]
    fn every_key_the_pages_use_is_translated() {
        let sources = [
            include_str!("account.rs"),
            include_str!("admin.rs"),
            include_str!("automation.rs"),
            include_str!("conversation.rs"),
            include_str!("customer.rs"),
            include_str!("inbox.rs"),
            include_str!("mentions.rs"),
            include_str!("notifications.rs"),
            include_str!("page.rs"),
            include_str!("webhooks.rs"),
        ];
        let mut keys: Vec<String> = Vec::new();
        for source in sources {
            for piece in source.split("\"ui.").skip(1) {
                let key: String = piece.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.').collect();
                if !key.is_empty() && !key.ends_with('.') {
                    keys.push(format!("ui.{key}"));
                }
            }
        }
        // The keys made with format!: one per value.
        keys.extend(Status::ALL.iter().map(|s| format!("ui.status.{}", s.as_str())));
        keys.extend(["unsolved", "any"].map(|s| format!("ui.status.{s}")));
        keys.extend([Priority::Low, Priority::Normal, Priority::High, Priority::Urgent].map(|p| format!("ui.priority.{}", p.as_str())));
        keys.extend(Role::ALL.iter().map(|r| format!("ui.role.{}", r.as_str())));
        keys.extend(ChannelKind::ALL.iter().map(|k| format!("ui.channel.{}", k.as_str())));
        keys.extend(["in", "out", "note", "system"].map(|d| format!("ui.direction.{d}")));
        keys.extend(["queued", "sent", "delivered", "failed"].map(|d| format!("ui.delivery.{d}")));
        keys.extend(["mine", "unassigned", "teams", "all", "risk"].map(|v| format!("ui.view.{v}")));
        keys.extend(switchboard_domain::rules::Trigger::ALL.iter().map(|t| format!("ui.rules.trigger.{}", t.as_str().replace('.', "_"))));
        keys.extend(switchboard_domain::sla::Metric::ALL.iter().map(|m| format!("ui.sla.metric.{}", m.as_str())));
        keys.extend(["channels", "messages", "public"].map(|r| format!("ui.risk.reason.{r}")));
        keys.extend(switchboard_store::MentionStatus::ALL.iter().map(|s| format!("ui.mentions.status.{}", s.as_str())));
        keys.extend(switchboard_domain::calendar::DAYS.iter().map(|d| format!("ui.day.{d}")));
        keys.extend(switchboard_domain::webhook::EventType::ALL.iter().map(|e| format!("ui.webhook_event.{}", e.as_str())));
        keys.extend(switchboard_domain::webhook::DeliveryState::ALL.iter().map(|s| format!("ui.webhook_status.{}", s.as_str())));
        assert!(keys.len() > 150, "{} keys found", keys.len());
        for key in keys {
            assert_ne!(t(Lang::En, &key, &[("count", "1"), ("name", "x")]), key, "no English message for {key}");
        }
    }
}
