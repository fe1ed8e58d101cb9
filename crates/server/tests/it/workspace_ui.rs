//! The agent workspace's pages over HTTP: session cookies, sign-in throttling, cross-site
//! refusals, roles, and customer text that stays text. (The browser flow is in e2e/.)

use crate::{App, spawn_app, spawn_app_with};
use serde_json::{Value, json};
use switchboard_server::config::Config;

/// A client that shows redirects instead of following them.
fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client")
}

impl App {
    pub(crate) async fn account(&self, email: &str, role: &str) {
        let config = Config { data: self.data.clone(), database_url: self.database_url.clone(), ..Config::default() };
        let store = switchboard_server::open_store(&config).await.expect("store");
        let ws = store.workspace_by_slug("default").await.expect("ws");
        let password_hash = switchboard_web::signin::hash_password("a long password").expect("hash");
        let new = switchboard_store::NewAccount {
            workspace_id: ws.id,
            name: email.split('@').next().unwrap_or("x").to_owned(),
            email: email.to_owned(),
            role: role.parse().expect("role"),
            password_hash,
        };
        store.create_account(new).await.expect("account");
    }

    /// Signs in from our own page; the whole `Set-Cookie` and the `name=value` to send back.
    pub(crate) async fn sign_in(&self, email: &str, password: &str) -> (u16, String, String) {
        let res = client()
            .post(format!("{}/login", self.base))
            .header("origin", &self.base)
            .form(&[("email", email), ("password", password)])
            .send()
            .await
            .expect("login");
        let status = res.status().as_u16();
        let set = res.headers().get("set-cookie").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        let pair = set.split(';').next().unwrap_or("").to_owned();
        (status, set, pair)
    }

    pub(crate) async fn page(&self, path: &str, cookie: &str) -> (u16, String) {
        let res = client().get(format!("{}{path}", self.base)).header("cookie", cookie).send().await.expect("page");
        (res.status().as_u16(), res.text().await.expect("body"))
    }

    /// A button on one of our pages (a form without fields), pressed from our page; the page
    /// that answers.
    pub(crate) async fn press(&self, path: &str, cookie: &str) -> String {
        let res =
            client().post(format!("{}{path}", self.base)).header("cookie", cookie).header("origin", &self.base).send().await.expect("post");
        res.text().await.expect("page")
    }

    /// A form post with the cookie and the given provenance headers.
    pub(crate) async fn form(&self, path: &str, cookie: &str, headers: &[(&str, &str)], form: &[(&str, &str)]) -> u16 {
        let mut req = client().post(format!("{}{path}", self.base)).header("cookie", cookie).form(form);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send().await.expect("post").status().as_u16()
    }

    async fn message_count(&self, conversation: &str) -> usize {
        let (_, body) = self.call("GET", &format!("/api/v1/conversations/{conversation}/messages"), Some(&self.admin), None).await;
        body["items"].as_array().map_or(0, Vec::len)
    }
}

fn evil_customer() -> Value {
    json!({
        "message_id": "x-1",
        "from": {"id": "evil", "name": "<img src=x onerror=alert(1)>Eve"},
        "subject": "<script>alert('subject')</script>",
        "text": "<script>alert('text')</script><iframe src=//evil.example></iframe>"
    })
}

#[tokio::test]
async fn session_cookies_carry_their_flags_and_failed_sign_ins_are_throttled() {
    let app = spawn_app().await;
    app.account("anna@example.com", "agent").await;
    let (status, set, pair) = app.sign_in("Anna@Example.com", "a long password").await;
    assert_eq!(status, 303, "{set}");
    assert!(set.starts_with("sb_session=") && set.contains("HttpOnly") && set.contains("SameSite=Lax") && set.contains("Path=/"), "{set}");
    assert!(!set.contains("Secure"), "plain HTTP (a local evaluation): no Secure, so no __Host- prefix either");
    let (status, body) = app.page("/inbox", &pair).await;
    assert_eq!(status, 200);
    assert!(body.contains("data-agent-name=\"anna\""));

    // Logout ends the session on the server, not only in the browser.
    assert_eq!(app.form("/logout", &pair, &[("origin", &app.base)], &[]).await, 303);
    let res = client().get(format!("{}/inbox", app.base)).header("cookie", &pair).send().await.expect("inbox");
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(res.headers()["location"], "/login?next=/inbox");

    // Five failures for an email, then even the right password waits.
    for _ in 0..5 {
        assert_eq!(app.sign_in("anna@example.com", "wrong password").await.0, 401);
    }
    let (status, set, _) = app.sign_in("anna@example.com", "a long password").await;
    assert_eq!((status, set.as_str()), (429, ""), "throttled: no session");
}

#[tokio::test]
async fn over_tls_the_cookie_is_secure_and_host_only() {
    let data = std::env::temp_dir().join(format!("switchboard-it-{}", uuid::Uuid::new_v4()));
    let public = "https://support.example.com";
    let app = spawn_app_with(Config { data, public_url: Some(public.into()), ..Config::default() }).await;
    app.account("anna@example.com", "agent").await;
    let res = client()
        .post(format!("{}/login", app.base))
        .header("origin", public)
        .form(&[("email", "anna@example.com"), ("password", "a long password")])
        .send()
        .await
        .expect("login");
    let set = res.headers()["set-cookie"].to_str().expect("cookie").to_owned();
    assert!(set.starts_with("__Host-sb_session=") && set.contains("; Secure") && set.contains("HttpOnly"), "{set}");
    assert!(set.contains("Path=/") && !set.contains("Domain"), "{set}");
    // Our own address is the public one: a form posted from the listener's address is foreign.
    let refused = client()
        .post(format!("{}/login", app.base))
        .header("origin", &app.base)
        .form(&[("email", "anna@example.com"), ("password", "a long password")])
        .send()
        .await
        .expect("login");
    assert_eq!(refused.status().as_u16(), 403);
}

#[tokio::test]
async fn cross_site_changes_are_refused_and_store_nothing() {
    let app = spawn_app().await;
    app.account("anna@example.com", "agent").await;
    let channel = app.channel("http://127.0.0.1:9/replies").await;
    let conversation = app.send(&channel, json!({"message_id": "1", "from": {"id": "c1"}, "text": "hello"})).await["conversation_id"]
        .as_str()
        .expect("id")
        .to_owned();
    let (_, _, cookie) = app.sign_in("anna@example.com", "a long password").await;
    let reply = format!("/conversations/{conversation}/update");
    let solve = [("status", "solved")];
    for headers in [
        vec![("origin", "https://evil.example")],
        vec![("sec-fetch-site", "cross-site"), ("origin", app.base.as_str())],
        vec![("sec-fetch-site", "same-site")],
        vec![],
    ] {
        assert_eq!(app.form(&reply, &cookie, &headers, &solve).await, 403, "{headers:?}");
    }
    let (_, c) = app.call("GET", &format!("/api/v1/conversations/{conversation}"), Some(&app.admin), None).await;
    assert_eq!(c["status"], "new", "nothing changed");

    // The JSON API with the cookie is held to the same rule; a token is not (no browser sends it).
    let res = client()
        .patch(format!("{}/api/v1/conversations/{conversation}", app.base))
        .header("cookie", &cookie)
        .header("origin", "https://evil.example")
        .json(&json!({"status": "solved"}))
        .send()
        .await
        .expect("patch");
    assert_eq!(res.status().as_u16(), 403);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["error"]["code"], "cross_site_request");
    let before = app.message_count(&conversation).await;
    let res = client()
        .post(format!("{}/api/v1/conversations/{conversation}/messages", app.base))
        .header("cookie", &cookie)
        .header("sec-fetch-site", "cross-site")
        .json(&json!({"text": "forged"}))
        .send()
        .await
        .expect("post");
    assert_eq!(res.status().as_u16(), 403);
    assert_eq!(app.message_count(&conversation).await, before, "no message stored");

    // Signing in from another site is refused too (it would plant the attacker's session).
    let res = client()
        .post(format!("{}/login", app.base))
        .header("origin", "https://evil.example")
        .form(&[("email", "anna@example.com"), ("password", "a long password")])
        .send()
        .await
        .expect("login");
    assert_eq!(res.status().as_u16(), 403);
    assert!(res.headers().get("set-cookie").is_none());

    // From our own page the same change goes through.
    assert_eq!(app.form(&reply, &cookie, &[("sec-fetch-site", "same-origin")], &solve).await, 303);
    let (_, c) = app.call("GET", &format!("/api/v1/conversations/{conversation}"), Some(&app.admin), None).await;
    assert_eq!(c["status"], "solved");
}

#[tokio::test]
async fn a_viewer_reads_but_cannot_reply_or_change_status() {
    let app = spawn_app().await;
    app.account("olga@example.com", "viewer").await;
    let channel = app.channel("http://127.0.0.1:9/replies").await;
    let conversation = app.send(&channel, json!({"message_id": "1", "from": {"id": "c1"}, "text": "hello"})).await["conversation_id"]
        .as_str()
        .expect("id")
        .to_owned();
    let (_, _, cookie) = app.sign_in("olga@example.com", "a long password").await;
    let (status, page) = app.page(&format!("/conversations/{conversation}"), &cookie).await;
    assert_eq!(status, 200);
    assert!(page.contains("hello") && !page.contains("id=\"composer\"") && !page.contains("id=\"c-status\""), "read-only page");

    let ours = [("origin", app.base.as_str())];
    assert_eq!(app.form(&format!("/conversations/{conversation}/update"), &cookie, &ours, &[("status", "solved")]).await, 403);
    let multipart = reqwest::multipart::Form::new().text("kind", "reply").text("text", "I am only a viewer");
    let res = client()
        .post(format!("{}/conversations/{conversation}/messages", app.base))
        .header("cookie", &cookie)
        .header("origin", &app.base)
        .multipart(multipart)
        .send()
        .await
        .expect("reply");
    assert_eq!(res.status().as_u16(), 403);
    assert_eq!(app.message_count(&conversation).await, 1, "nothing stored");
    let (_, c) = app.call("GET", &format!("/api/v1/conversations/{conversation}"), Some(&app.admin), None).await;
    assert_eq!(c["status"], "new");
}

#[tokio::test]
async fn customer_markup_renders_as_text_on_every_page() {
    let app = spawn_app().await;
    app.account("anna@example.com", "agent").await;
    let channel = app.channel("http://127.0.0.1:9/replies").await;
    let conversation = app.send(&channel, evil_customer()).await["conversation_id"].as_str().expect("id").to_owned();
    let (_, _, cookie) = app.sign_in("anna@example.com", "a long password").await;
    for path in ["/inbox", &format!("/conversations/{conversation}"), "/inbox?q=%3Cscript%3E", "/inbox?tag=%3Cscript%3Ex"] {
        let res = client().get(format!("{}{path}", app.base)).header("cookie", &cookie).send().await.expect("page");
        assert_eq!(res.status().as_u16(), 200, "{path}");
        let csp = res.headers()["content-security-policy"].to_str().expect("csp").to_owned();
        assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");
        let page = res.text().await.expect("body");
        for raw in ["<script>alert", "<img src=x", "<iframe", "<script>x"] {
            assert!(!page.contains(raw), "{path} carries {raw} as markup");
        }
        // The only script is our own file.
        assert_eq!(page.matches("<script").count(), 1, "{path}");
        assert!(page.contains("<script src=\"/ui/app.js\" defer>"));
    }
    let (_, page) = app.page(&format!("/conversations/{conversation}"), &cookie).await;
    assert!(page.contains("&lt;script&gt;alert('text')&lt;/script&gt;"), "the text is shown, escaped");
    assert!(page.contains("&lt;img src=x onerror=alert(1)&gt;Eve"));
}

#[tokio::test]
async fn pages_ship_less_than_100_kb_of_script() {
    let app = spawn_app().await;
    let res = client().get(format!("{}/ui/app.js", app.base)).send().await.expect("script");
    assert_eq!(res.headers()["content-type"], "text/javascript; charset=utf-8");
    let size = res.bytes().await.expect("body").len();
    assert!(size > 1000 && size < 100 * 1024, "{size} bytes");
}

#[tokio::test]
async fn administration_follows_roles() {
    let app = spawn_app().await;
    for (email, role) in
        [("ada@example.com", "admin"), ("sam@example.com", "supervisor"), ("ag@example.com", "agent"), ("vi@example.com", "viewer")]
    {
        app.account(email, role).await;
    }
    let pages = ["/admin/people", "/admin/teams", "/admin/channels", "/admin/canned", "/admin/tokens", "/admin/settings"];
    let expected: [(&str, [u16; 6]); 4] = [
        ("ada@example.com", [200, 200, 200, 200, 200, 200]),
        ("sam@example.com", [403, 200, 403, 200, 403, 403]),
        ("ag@example.com", [403; 6]),
        ("vi@example.com", [403; 6]),
    ];
    for (email, statuses) in expected {
        let (_, _, cookie) = app.sign_in(email, "a long password").await;
        for (path, status) in pages.iter().zip(statuses) {
            assert_eq!(app.page(path, &cookie).await.0, status, "{email} {path}");
        }
        let ours = [("origin", app.base.as_str())];
        let invite =
            app.form("/admin/people/invite", &cookie, &ours, &[("name", "X"), ("email", "x@example.com"), ("role", "admin")]).await;
        assert_eq!(invite, if email.starts_with("ada") { 200 } else { 403 }, "{email} invites");
    }
    // Only the admin's invitation exists.
    let (_, _, cookie) = app.sign_in("ada@example.com", "a long password").await;
    // A hand-made form without a field gets a clear 400 page, and nothing is stored.
    let ours = [("origin", app.base.as_str())];
    assert_eq!(app.form("/admin/people/invite", &cookie, &ours, &[("name", "Y"), ("email", "y@example.com")]).await, 400);
    let (_, people) = app.page("/admin/people", &cookie).await;
    assert_eq!(people.matches("x@example.com").count(), 1);
    assert!(!people.contains("y@example.com"));
}

#[tokio::test]
async fn channel_pages_never_show_stored_secrets_and_keep_them_on_save() {
    let app = spawn_app().await;
    app.account("ada@example.com", "admin").await;
    let config = json!({"address": "help@example.com", "smtp": {"host": "127.0.0.1", "port": 2525, "tls": "none", "username": "help", "password": "hunter2-secret"}});
    let (status, channel) =
        app.call("POST", "/api/v1/channels", Some(&app.admin), Some(json!({"kind": "email", "name": "Help", "config": config}))).await;
    assert_eq!(status, 201, "{channel}");
    let id = channel["id"].as_str().expect("id");
    let (_, _, cookie) = app.sign_in("ada@example.com", "a long password").await;
    let (status, page) = app.page(&format!("/admin/channels/{id}"), &cookie).await;
    assert_eq!(status, 200);
    assert!(!page.contains("hunter2-secret"), "the password is not on the page");
    assert!(page.contains(channel["secret"].as_str().expect("secret")), "the signing secret is, for the provider's setup");
    // Saving what the page showed (the password left out) keeps the stored password.
    let shown = json!({"address": "help@example.com", "smtp": {"host": "127.0.0.1", "port": 2525, "tls": "none", "username": "help"}});
    let ours = [("origin", app.base.as_str())];
    let saved = app.form(&format!("/admin/channels/{id}"), &cookie, &ours, &[("name", "Help desk"), ("config", &shown.to_string())]).await;
    assert_eq!(saved, 303);
    let store = switchboard_server::open_store(&Config { data: app.data.clone(), ..Config::default() }).await.expect("store");
    let stored = store.channel(&switchboard_domain::ChannelId::parse(id).expect("id")).await.expect("channel");
    assert_eq!((stored.name.as_str(), &stored.config["smtp"]["password"]), ("Help desk", &json!("hunter2-secret")));
    // Bad JSON is refused with the field named, and nothing changes.
    let bad = app.form(&format!("/admin/channels/{id}"), &cookie, &ours, &[("name", "X"), ("config", "{not json")]).await;
    assert_eq!(bad, 400);
}

#[tokio::test]
async fn email_html_is_shown_in_a_sandboxed_document_of_its_own() {
    let app = spawn_app().await;
    app.account("anna@example.com", "agent").await;
    let channel = app.email_channel(json!({"address": "help@example.com"})).await;
    let raw = "From: Marta <marta@example.pl>\r\nTo: help@example.com\r\nSubject: Invoice\r\nMessage-ID: <h1@example.pl>\r\n\
MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
<p style=\"color:red\">Please <b>check</b> the invoice</p><script>alert(1)</script><img src=\"https://tracker.example/p.gif\">\r\n";
    let (status, out) = app.mail(&channel, raw.as_bytes(), "message/rfc822").await;
    assert_eq!(status, 200, "{out}");
    let (_, _, cookie) = app.sign_in("anna@example.com", "a long password").await;
    let (_, page) = app.page(&format!("/conversations/{}", out["conversation_id"].as_str().expect("id")), &cookie).await;
    let message = out["message_id"].as_str().expect("message id");
    assert!(
        page.contains(&format!("<iframe src=\"/messages/{message}/html\" sandbox=\"allow-same-origin allow-popups")),
        "framed, sandboxed"
    );
    assert!(page.contains(&format!("/messages/{message}/html?remote=1")), "remote images were blocked: offered");

    let res = client().get(format!("{}/messages/{message}/html", app.base)).header("cookie", &cookie).send().await.expect("html");
    assert_eq!(res.status().as_u16(), 200);
    let csp = res.headers()["content-security-policy"].to_str().expect("csp").to_owned();
    assert!(csp.contains("default-src 'none'") && csp.contains("sandbox") && !csp.contains("script-src"), "{csp}");
    assert!(csp.contains("img-src 'self' data:;"), "no remote images by default: {csp}");
    let body = res.text().await.expect("body");
    assert!(body.contains("<b>check</b>") && !body.contains("<script") && !body.contains("tracker.example"), "{body}");
    let res =
        client().get(format!("{}/messages/{message}/html?remote=1", app.base)).header("cookie", &cookie).send().await.expect("remote");
    let csp = res.headers()["content-security-policy"].to_str().expect("csp").to_owned();
    assert!(csp.contains("https:"), "{csp}");
    assert!(res.text().await.expect("body").contains("tracker.example"), "loaded when asked");
    // Not signed in, nothing.
    let res = client().get(format!("{}/messages/{message}/html", app.base)).send().await.expect("anonymous");
    assert_eq!(res.status().as_u16(), 303);
}
