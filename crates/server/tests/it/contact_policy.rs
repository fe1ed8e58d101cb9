//! The contact policy over HTTP: every reason code, asked by contact id, by phone (unescaped
//! `+`, national with a region) and by email, merged and unknown customers, quiet hours at a
//! chosen instant and now, the audit of every answer, settings, opt-outs, roles, bad input and
//! other workspaces.

use crate::{App, error_field, spawn_app};
use serde_json::{Value, json};
use switchboard_server::config::Config;

const SHOP: &str = "http://shop.test:8080";

impl App {
    async fn policy(&self, query: &str, token: &str) -> (u16, Value) {
        self.call("GET", &format!("/api/v1/contact-policy?{query}"), Some(token), None).await
    }

    async fn contact_policy(&self, contact: &str, query: &str) -> Value {
        let (status, body) = self.call("GET", &format!("/api/v1/contacts/{contact}/contact-policy?{query}"), Some(&self.admin), None).await;
        assert_eq!(status, 200, "{query}: {body}");
        body
    }

    async fn patch_conversation(&self, id: &str, body: Value) {
        let (status, out) = self.call("PATCH", &format!("/api/v1/conversations/{id}"), Some(&self.admin), Some(body)).await;
        assert_eq!(status, 200, "{out}");
    }

    async fn policy_settings(&self, body: Value) -> Value {
        let (status, out) = self.call("PUT", "/api/v1/contact-policy/settings", Some(&self.admin), Some(body)).await;
        assert_eq!(status, 200, "{out}");
        out
    }

    /// A call of the widget's API from the shop's page.
    async fn post_from_shop(&self, path: &str, token: Option<&str>, body: Value) -> (u16, Value) {
        let mut req = self.http.post(format!("{}{path}", self.base)).header("origin", SHOP).json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.expect("request");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }
}

fn codes(answer: &Value) -> Vec<&str> {
    answer["reasons"].as_array().expect("reasons").iter().map(|r| r["code"].as_str().expect("code")).collect()
}

/// `YYYY-MM-DD` of the UTC day `days` after today.
fn utc_date(days: i64) -> String {
    let day = time::OffsetDateTime::now_utc().date() + time::Duration::days(days);
    format!("{:04}-{:02}-{:02}", day.year(), u8::from(day.month()), day.day())
}

#[tokio::test]
async fn a_crm_hears_every_reason_by_id_phone_or_email_and_each_answer_is_audited() {
    let app = spawn_app().await;
    // No quiet hours while the other reasons are shown, whatever the time of the run.
    let saved = app.policy_settings(json!({"quiet_hours": null, "default_time_zone": "utc"})).await;
    assert_eq!((saved["quiet_hours"].clone(), saved["default_time_zone"].as_str()), (Value::Null, Some("UTC")));
    let ch = app.channel("http://127.0.0.1:9/x").await;
    let anna = app
        .send(&ch, json!({"message_id": "1", "from": {"id": "a1", "phone": "601 234 567", "email": "Anna@Example.pl"}, "text": "Zepsute!"}))
        .await;
    let (contact, conversation) = (anna["contact_id"].as_str().expect("id"), anna["conversation_id"].as_str().expect("id"));

    let answer = app.contact_policy(contact, "purpose=sales&channel=phone").await;
    assert_eq!((answer["decision"].as_str(), codes(&answer).len()), (Some("allow"), 0));
    assert_eq!(
        (answer["contact_id"].as_str(), answer["purpose"].as_str(), answer["channel"].as_str()),
        (Some(contact), Some("sales"), Some("phone"))
    );

    // A complaint, then urgent: both deny sales and marketing, with the conversation; not service.
    app.patch_conversation(conversation, json!({"tags": ["Reklamacja"]})).await;
    let answer = app.contact_policy(contact, "purpose=marketing").await;
    assert_eq!((answer["decision"].as_str(), codes(&answer)), (Some("deny"), vec!["open_complaint"]));
    assert_eq!(answer["reasons"][0]["conversation_id"].as_str(), Some(conversation));
    assert_eq!((answer["reasons"][0]["tag"].as_str(), answer["reasons"][0]["effect"].as_str()), (Some("reklamacja"), Some("deny")));
    app.patch_conversation(conversation, json!({"priority": "urgent"})).await;
    let answer = app.contact_policy(contact, "purpose=sales&channel=twilio_voice").await;
    assert_eq!(codes(&answer), vec!["open_complaint", "open_high_priority"]);
    assert_eq!((answer["channel"].as_str(), answer["reasons"][1]["priority"].as_str()), (Some("phone"), Some("urgent")));
    assert_eq!(app.contact_policy(contact, "purpose=service&channel=phone").await["decision"], "allow");

    // A dialer knows the number (a `+` left unescaped, or national with the region), a mailer the
    // address in any case: the same customer, the same answer.
    for query in ["phone=+48601234567", "phone=%2B48%20601%20234%20567", "phone=601234567&region=pl", "email=ANNA@example.PL"] {
        let (status, answer) = app.policy(&format!("{query}&purpose=sales"), &app.admin).await;
        assert_eq!(status, 200, "{query}: {answer}");
        assert_eq!((answer["decision"].as_str(), answer["contact_id"].as_str()), (Some("deny"), Some(contact)), "{query}");
    }

    // Solved and closed: what was a complaint cautions for 30 days; urgency no longer counts.
    app.patch_conversation(conversation, json!({"status": "solved"})).await;
    app.patch_conversation(conversation, json!({"status": "closed"})).await;
    let answer = app.contact_policy(contact, "purpose=sales").await;
    assert_eq!((answer["decision"].as_str(), codes(&answer)), (Some("caution"), vec!["recent_complaint"]));
    assert!(answer["reasons"][0]["until"].as_str().is_some_and(|u| u.starts_with(&utc_date(30)[..7])), "{answer}");

    // Her own opt-outs: marketing everywhere, text messages for sales and marketing.
    let (status, out) = app
        .call("PUT", &format!("/api/v1/contacts/{contact}/opt-outs"), Some(&app.admin), Some(json!({"opt_outs": ["SMS", "marketing"]})))
        .await;
    assert_eq!((status, out["opt_outs"].clone()), (200, json!(["marketing", "sms"])), "{out}");
    let answer = app.contact_policy(contact, "purpose=marketing&channel=email").await;
    assert_eq!((answer["decision"].as_str(), codes(&answer)), (Some("deny"), vec!["opted_out", "recent_complaint"]));
    assert_eq!(answer["reasons"][0]["opt_out"], "marketing");
    let answer = app.contact_policy(contact, "purpose=sales&channel=sms").await;
    assert_eq!((answer["decision"].as_str(), answer["reasons"][0]["channel"].as_str()), (Some("deny"), Some("sms")));
    let answer = app.contact_policy(contact, "purpose=sales").await;
    assert_eq!(
        (answer["decision"].as_str(), codes(&answer)),
        (Some("caution"), vec!["opted_out", "recent_complaint"]),
        "other channels remain"
    );
    assert_eq!(app.contact_policy(contact, "purpose=service&channel=sms").await["decision"], "allow", "service is not marketing");
    let (_, shown) = app.call("GET", &format!("/api/v1/contacts/{contact}"), Some(&app.admin), None).await;
    assert_eq!(shown["attributes"]["opt_out"], "marketing, sms", "kept as the opt_out attribute");

    // A second profile of hers (another address), merged into this one: asked by its id or its
    // address, the answer is the surviving customer's.
    let work = app.send(&ch, json!({"message_id": "2", "from": {"id": "a2", "email": "anna@firma.pl"}, "text": "Hi"})).await;
    let work_contact = work["contact_id"].as_str().expect("id");
    let (status, _) =
        app.call("POST", &format!("/api/v1/contacts/{contact}/merge"), Some(&app.admin), Some(json!({"other_id": work_contact}))).await;
    assert_eq!(status, 201);
    let answer = app.contact_policy(work_contact, "purpose=marketing").await;
    assert_eq!((answer["decision"].as_str(), answer["contact_id"].as_str()), (Some("deny"), Some(contact)));
    let (_, answer) = app.policy("email=anna@firma.pl&purpose=marketing", &app.admin).await;
    assert_eq!(answer["contact_id"].as_str(), Some(contact));

    // Nobody has this number: allow, no reasons, no contact (not a 404).
    let (status, answer) = app.policy("phone=+48500000000&purpose=sales&channel=phone", &app.admin).await;
    assert_eq!((status, answer["decision"].as_str(), codes(&answer).len()), (200, Some("allow"), 0));
    assert_eq!((answer["contact_id"].clone(), answer["contact_ids"].clone()), (Value::Null, json!([])));

    // Any role may ask, a viewer (the sales department's read-only integration) too; only
    // supervisors see who asked. Every answer is there, newest first, with who asked.
    let viewer = app.token("viewer").await;
    let (status, answer) = app.policy("phone=+48601234567&purpose=sales", &viewer).await;
    assert_eq!((status, answer["decision"].as_str()), (200, Some("caution")));
    let path = format!("/api/v1/contacts/{contact}/contact-policy/checks");
    assert_eq!(app.call("GET", &path, Some(&viewer), None).await.0, 403);
    let (status, checks) = app.call("GET", &format!("{path}?limit=3"), Some(&app.admin), None).await;
    assert_eq!(status, 200, "{checks}");
    let items = checks["items"].as_array().expect("items");
    assert_eq!(items.len(), 3);
    assert_eq!(items[0]["action"], "contact_policy.checked");
    assert_eq!(
        (items[0]["data"]["subject"]["phone"].as_str(), items[0]["data"]["decision"].as_str()),
        (Some("+48601234567"), Some("caution"))
    );
    assert_eq!((items[0]["data"]["purpose"].as_str(), items[0]["actor"]["kind"].as_str()), (Some("sales"), Some("agent")));
    assert_ne!(items[0]["actor"]["id"], items[1]["actor"]["id"], "the viewer asked last, the admin before");
    assert_eq!(items[1]["data"]["reasons"][0]["code"], "opted_out");
    let (_, all) = app.call("GET", &format!("{path}?limit=200"), Some(&app.admin), None).await;
    assert_eq!(all["items"].as_array().expect("items").len(), 16, "every answer about her, by id, number or address");
}

#[tokio::test]
async fn a_low_rating_in_the_widget_cautions_sales_and_marketing() {
    let app = spawn_app().await;
    app.policy_settings(json!({"quiet_hours": null})).await;
    let (status, widget) = app
        .call(
            "POST",
            "/api/v1/channels",
            Some(&app.admin),
            Some(json!({"kind": "widget", "name": "Chat", "config": {"allowed_origins": [SHOP]}})),
        )
        .await;
    assert_eq!(status, 201, "{widget}");
    let channel = widget["id"].as_str().expect("id");
    let (_, session) = app.post_from_shop(&format!("/widget/v1/{channel}/session"), None, json!({})).await;
    let token = session["token"].as_str().expect("token").to_owned();
    let (status, sent) =
        app.post_from_shop(&format!("/widget/v1/{channel}/messages"), Some(&token), json!({"client_id": "1", "text": "Help"})).await;
    assert_eq!(status, 200, "{sent}");
    let conversation = sent["conversation_id"].as_str().expect("id").to_owned();
    app.patch_conversation(&conversation, json!({"status": "solved"})).await;
    let (status, rated) =
        app.post_from_shop(&format!("/widget/v1/{channel}/csat"), Some(&token), json!({"rating": 1, "comment": "Slow"})).await;
    assert_eq!(status, 201, "{rated}");
    let (_, c) = app.call("GET", &format!("/api/v1/conversations/{conversation}"), Some(&app.admin), None).await;
    let contact = c["contact_id"].as_str().expect("contact");
    let answer = app.contact_policy(contact, "purpose=marketing&channel=email").await;
    assert_eq!((answer["decision"].as_str(), codes(&answer)), (Some("caution"), vec!["low_rating"]));
    assert_eq!(
        (answer["reasons"][0]["rating"].as_i64(), answer["reasons"][0]["conversation_id"].as_str()),
        (Some(1), Some(conversation.as_str()))
    );
    assert_eq!(app.contact_policy(contact, "purpose=service").await["decision"], "allow");
    // A workspace that finds a 1 no reason to hold back.
    app.policy_settings(json!({"low_rating_max": 0})).await;
    assert_eq!(app.contact_policy(contact, "purpose=marketing").await["decision"], "allow");
}

#[tokio::test]
async fn quiet_hours_hold_back_sales_in_the_customers_zone_now_and_at_a_chosen_time() {
    let app = spawn_app().await;
    let ch = app.channel("http://127.0.0.1:9/x").await;
    let out = app.send(&ch, json!({"message_id": "1", "from": {"id": "k1", "name": "Kenji"}, "text": "Hello"})).await;
    let contact = out["contact_id"].as_str().expect("id");

    // Now, placed inside quiet hours: from an hour ago to an hour ahead, UTC (the default zone).
    let now = time::OffsetDateTime::now_utc();
    let minute = i64::from(now.hour()) * 60 + i64::from(now.minute());
    let hh_mm = |m: i64| format!("{:02}:{:02}", m.rem_euclid(1440) / 60, m.rem_euclid(60));
    app.policy_settings(json!({"quiet_hours": {"start": hh_mm(minute - 60), "end": hh_mm(minute + 61)}})).await;
    let answer = app.contact_policy(contact, "purpose=sales&channel=phone").await;
    assert_eq!((answer["decision"].as_str(), codes(&answer)), (Some("deny"), vec!["quiet_hours"]));
    let until = answer["reasons"][0]["until"].as_str().expect("until");
    assert!(until.ends_with(&format!("{}:00+00:00", hh_mm(minute + 61))), "{until}");
    assert_eq!(answer["time_zone_source"], "workspace");
    assert_eq!(app.contact_policy(contact, "purpose=sales&channel=email").await["decision"], "allow", "email waits in the inbox");
    let service = app.contact_policy(contact, "purpose=service&channel=phone").await;
    assert_eq!((service["decision"].as_str(), service["reasons"][0]["effect"].as_str()), (Some("caution"), Some("caution")));

    // The customer lives in Tokyo (+09:00, no DST); quiet from 21:00 to 09:00 there. Tomorrow at
    // 13:00 UTC is 22:00 in Tokyo: quiet until 09:00 the next morning, Tokyo time.
    app.policy_settings(json!({"quiet_hours": {"start": "21:00", "end": "09:00"}})).await;
    let (status, _) = app.call("GET", &format!("/api/v1/contacts/{contact}"), Some(&app.admin), None).await;
    assert_eq!(status, 200);
    set_attribute(&app, contact, "time_zone", "Asia/Tokyo").await;
    let at = format!("{}T13:00:00Z", utc_date(1));
    let answer = app.contact_policy(contact, &format!("purpose=marketing&at={at}")).await;
    assert_eq!(
        (answer["decision"].as_str(), answer["time_zone"].as_str(), answer["time_zone_source"].as_str()),
        (Some("deny"), Some("Asia/Tokyo"), Some("contact"))
    );
    assert_eq!(answer["reasons"][0]["until"].as_str(), Some(format!("{}T09:00:00+09:00", utc_date(2)).as_str()));
    assert_eq!(answer["at"].as_str(), Some(at.as_str()));
    let morning = app.contact_policy(contact, &format!("purpose=marketing&at={}T01:00:00Z", utc_date(1))).await;
    assert_eq!(morning["decision"], "allow", "10:00 in Tokyo");
    // Quiet hours off: never quiet.
    app.policy_settings(json!({"quiet_hours": null})).await;
    assert_eq!(app.contact_policy(contact, &format!("purpose=marketing&at={at}")).await["decision"], "allow");
}

/// Sets one attribute of the customer as an agent does (the whole list, here of one).
async fn set_attribute(app: &App, contact: &str, name: &str, value: &str) {
    let store = switchboard_server::open_store(&Config { data: app.data.clone(), ..Config::default() }).await.expect("store");
    let ws = store.workspace_by_slug("default").await.expect("ws");
    let id = switchboard_domain::ContactId::parse(contact).expect("id");
    let update = switchboard_store::ContactUpdate { attributes: Some(vec![(name.into(), value.into())]), ..Default::default() };
    store.update_contact(&ws.id, &id, update, switchboard_store::Actor::System).await.expect("attribute");
}

#[tokio::test]
async fn bad_questions_are_400_naming_the_field_and_other_workspaces_404() {
    let app = spawn_app().await;
    let ch = app.channel("http://127.0.0.1:9/x").await;
    let out = app.send(&ch, json!({"message_id": "1", "from": {"id": "u", "phone": "+48601234567"}, "text": "hi"})).await;
    let contact = out["contact_id"].as_str().expect("id");
    let by_id = |query: &str| format!("/api/v1/contacts/{contact}/contact-policy?{query}");
    for (path, field) in [
        (by_id(""), "purpose"),
        (by_id("purpose=spam"), "purpose"),
        (by_id("purpose=sales&channel=fax"), "channel"),
        (by_id("purpose=sales&at=tomorrow"), "at"),
        (by_id("purpose=sales&at=2001-01-01T00:00:00Z"), "at"),
        (by_id(&format!("purpose=sales&at={}T00:00:00Z", utc_date(400))), "at"),
        ("/api/v1/contact-policy?purpose=sales".into(), "phone"),
        ("/api/v1/contact-policy?purpose=sales&phone=%2B48601234567&email=a@b.pl".into(), "email"),
        ("/api/v1/contact-policy?purpose=sales&phone=12".into(), "phone"),
        ("/api/v1/contact-policy?purpose=sales&phone=601234567".into(), "phone"),
        ("/api/v1/contact-policy?purpose=sales&phone=601234567&region=XX".into(), "region"),
        ("/api/v1/contact-policy?purpose=sales&email=nobody".into(), "email"),
        ("/api/v1/contact-policy?phone=%2B48601234567".into(), "purpose"),
    ] {
        let (status, body) = app.call("GET", &path, Some(&app.admin), None).await;
        assert_eq!((status, error_field(&body)), (400, field), "{path}: {body}");
    }
    let unknown = "00000000-0000-7000-8000-000000000000";
    for id in [unknown, "not-an-id"] {
        let (status, _) = app.call("GET", &format!("/api/v1/contacts/{id}/contact-policy?purpose=sales"), Some(&app.admin), None).await;
        assert_eq!(status, 404);
    }
    assert_eq!(app.call("GET", &by_id("purpose=sales"), None, None).await.0, 401);

    // Settings: supervisors read, admins write; bad values name their field and change nothing.
    let supervisor = app.token("supervisor").await;
    let viewer = app.token("viewer").await;
    assert_eq!(app.call("GET", "/api/v1/contact-policy/settings", Some(&viewer), None).await.0, 403);
    let (status, settings) = app.call("GET", "/api/v1/contact-policy/settings", Some(&supervisor), None).await;
    assert_eq!(status, 200);
    assert_eq!(settings["quiet_hours"], json!({"start": "21:00", "end": "09:00", "days": [], "exempt_channels": ["email"]}));
    assert_eq!((settings["complaint_caution_days"].as_i64(), settings["updated_at"].clone()), (Some(30), Value::Null));
    assert_eq!(app.call("PUT", "/api/v1/contact-policy/settings", Some(&supervisor), Some(json!({}))).await.0, 403);
    for (body, field) in [
        (json!({"quiet_hours": {"start": "25:00", "end": "09:00"}}), "quiet_hours.start"),
        (json!({"quiet_hours": {"start": "21:00"}}), "quiet_hours.end"),
        (json!({"quiet_hours": {"start": "21:00", "end": "09:00", "days": ["someday"]}}), "quiet_hours.days[0]"),
        (json!({"complaint_tags": ["ok", ""]}), "complaint_tags[1]"),
        (json!({"complaint_caution_days": 1000}), "complaint_caution_days"),
        (json!({"low_rating_max": 5}), "low_rating_max"),
        (json!({"default_time_zone": "Moon/Base"}), "default_time_zone"),
        (json!({"default_time_zone": 3}), "default_time_zone"),
        (json!({"quiet": true}), "quiet"),
    ] {
        let (status, out) = app.call("PUT", "/api/v1/contact-policy/settings", Some(&app.admin), Some(body.clone())).await;
        assert_eq!((status, error_field(&out)), (400, field), "{body}: {out}");
    }
    let (_, after) = app.call("GET", "/api/v1/contact-policy/settings", Some(&app.admin), None).await;
    assert_eq!(after, settings, "nothing stored");

    // Opt-outs: agents record them, viewers cannot; an unknown one names its place.
    let path = format!("/api/v1/contacts/{contact}/opt-outs");
    let (status, out) = app.call("PUT", &path, Some(&app.admin), Some(json!({"opt_outs": ["sales", "fax"]}))).await;
    assert_eq!((status, error_field(&out)), (400, "opt_outs[1]"));
    assert_eq!(app.call("PUT", &path, Some(&viewer), Some(json!({"opt_outs": ["sales"]}))).await.0, 403);
    let agent = app.token("agent").await;
    let (status, out) = app.call("PUT", &path, Some(&agent), Some(json!({"opt_outs": ["service:phone"]}))).await;
    assert_eq!((status, out["opt_outs"].clone()), (200, json!(["service:phone"])));
    let (_, shown) = app.call("GET", &path, Some(&viewer), None).await;
    assert_eq!(shown, json!({"contact_id": contact, "opt_outs": ["service:phone"], "unreadable": []}));

    // Another workspace: the contact is not found, the number is nobody there, its checks too.
    let store = switchboard_server::open_store(&Config { data: app.data.clone(), ..Config::default() }).await.expect("store");
    let other = store.create_workspace("acme", "ACME").await.expect("ws");
    let mallory = store.create_token(&other.id, "mallory", switchboard_domain::Role::Admin).await.expect("t").token;
    drop(store);
    assert_eq!(app.call("GET", &by_id("purpose=sales"), Some(&mallory), None).await.0, 404);
    assert_eq!(app.call("GET", &path, Some(&mallory), None).await.0, 404);
    assert_eq!(app.call("PUT", &path, Some(&mallory), Some(json!({"opt_outs": []}))).await.0, 404);
    assert_eq!(app.call("GET", &format!("/api/v1/contacts/{contact}/contact-policy/checks"), Some(&mallory), None).await.0, 404);
    let (status, answer) = app.policy("phone=%2B48601234567&purpose=sales&channel=email", &mallory).await;
    assert_eq!((status, answer["decision"].as_str(), answer["contact_id"].clone()), (200, Some("allow"), Value::Null));
}
