//! The email round trip against real servers that `scripts/test.sh` starts on loopback
//! (`scripts/mail-servers.sh`): Dovecot serves the support mailbox over IMAP, Postfix takes our
//! replies by SMTP into the customer's Maildir and relays mail for the support domain to our LMTP
//! listener. Without those servers the test fails rather than skipping.

use super::*;

fn env(name: &str) -> String {
    std::env::var(name)
        .unwrap_or_else(|_| panic!("{name} is not set: run the tests through scripts/test.sh, which starts Dovecot and Postfix"))
}

/// Drops `raw` into a Maildir as a delivery agent would (tmp, then renamed into new).
fn deliver_to_maildir(maildir: &str, name: &str, raw: &[u8]) {
    let tmp = std::path::Path::new(maildir).join("tmp").join(name);
    std::fs::write(&tmp, raw).expect("write mail");
    std::fs::rename(&tmp, std::path::Path::new(maildir).join("new").join(name)).expect("deliver mail");
}

/// Empties a Maildir, so that the test also holds on servers an earlier run used.
fn clear_maildir(maildir: &str) {
    for d in ["new", "cur", "tmp"] {
        for entry in std::fs::read_dir(std::path::Path::new(maildir).join(d)).into_iter().flatten().flatten() {
            std::fs::remove_file(entry.path()).expect("clear maildir");
        }
    }
}

/// The customer's received mail, oldest first.
fn customer_mail(maildir: &str) -> Vec<Vec<u8>> {
    let mut files: Vec<_> = ["new", "cur"]
        .iter()
        .flat_map(|d| std::fs::read_dir(std::path::Path::new(maildir).join(d)).into_iter().flatten().flatten())
        .map(|e| e.path())
        .collect();
    files.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
    files.iter().map(|p| std::fs::read(p).expect("read mail")).collect()
}

async fn conversations(app: &App) -> Vec<Value> {
    let (_, list) = app.call("GET", "/api/v1/conversations", Some(&app.admin), None).await;
    list["items"].as_array().expect("items").clone()
}

async fn messages(app: &App, conversation: &str) -> Vec<Value> {
    let (_, m) = app.call("GET", &format!("/api/v1/conversations/{conversation}/messages"), Some(&app.admin), None).await;
    m["items"].as_array().expect("items").clone()
}

/// Polls `check` (bounded, 30 s) until it gives a value.
async fn eventually<T, F: std::future::Future<Output = Option<T>>>(what: &str, mut check: impl FnMut() -> F) -> T {
    for _ in 0..300 {
        if let Some(v) = check().await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test]
async fn imap_in_smtp_out_lmtp_from_postfix_with_real_servers() {
    let (imap_port, support_maildir) = (env("SWITCHBOARD_TEST_IMAP_PORT"), env("SWITCHBOARD_TEST_SUPPORT_MAILDIR"));
    let (smtp_port, customer_maildir) = (env("SWITCHBOARD_TEST_SMTP_PORT"), env("SWITCHBOARD_TEST_CUSTOMER_MAILDIR"));
    let lmtp_port = env("SWITCHBOARD_TEST_LMTP_PORT");
    clear_maildir(&support_maildir);
    clear_maildir(&customer_maildir);
    let data = std::env::temp_dir().join(format!("switchboard-it-{}", uuid::Uuid::new_v4()));
    let config = Config { data, lmtp_listen: Some(format!("127.0.0.1:{lmtp_port}")), ..Config::default() };
    let app = spawn_app_with(config.clone()).await;
    let channel = json!({"kind": "email", "name": "support", "config": {
        "address": "support@helpdesk.example.com",
        "imap": {"host": "127.0.0.1", "port": imap_port.parse::<u16>().expect("port"), "tls": "none", "username": "support", "password": "secret", "idle": true, "poll_seconds": 1},
        "smtp": {"host": "127.0.0.1", "port": smtp_port.parse::<u16>().expect("port"), "tls": "none", "from_name": "Helpdesk"}}});
    let (status, body) = app.call("POST", "/api/v1/channels", Some(&app.admin), Some(channel)).await;
    assert_eq!(status, 201, "{body}");

    // 1. A customer's mail, fetched over IMAP (woken by IDLE), becomes a conversation; the mail
    //    is flagged seen.
    deliver_to_maildir(
        &support_maildir,
        "1.customer",
        b"From: Anna Nowak <anna@customer.example>\r\nTo: support@helpdesk.example.com\r\nSubject: Zamowienie 17\r\nMessage-ID: <c1@customer.example>\r\n\r\nGdzie jest paczka?\r\n",
    );
    let conversation = eventually("the IMAP mail to arrive", || async {
        conversations(&app).await.first().map(|c| c["id"].as_str().expect("id").to_owned())
    })
    .await;
    let (_, conv) = app.call("GET", &format!("/api/v1/conversations/{conversation}"), Some(&app.admin), None).await;
    let number = conv["number"].as_i64().expect("number");
    eventually("the fetched mail to be flagged \\Seen", || async {
        std::fs::read_dir(std::path::Path::new(&support_maildir).join("cur"))
            .ok()?
            .flatten()
            .any(|e| e.file_name().to_string_lossy().contains(",S"))
            .then_some(())
    })
    .await;

    // 2. The agent's reply arrives at the customer through Postfix with the threading headers.
    let (status, reply) = app
        .call(
            "POST",
            &format!("/api/v1/conversations/{conversation}/messages"),
            Some(&app.admin),
            Some(json!({"text": "Paczka wyjechala dzis."})),
        )
        .await;
    assert_eq!(status, 201, "{reply}");
    let received =
        eventually("the reply in the customer's Maildir", || async { customer_mail(&customer_maildir).into_iter().next() }).await;
    let ours = switchboard_email::parse(&received).expect("parse");
    assert!(ours.message_id.starts_with(&format!("t{number}.")), "{}", ours.message_id);
    assert_eq!(ours.in_reply_to, vec!["c1@customer.example".to_string()]);
    assert_eq!(ours.references, vec!["c1@customer.example".to_string()]);
    assert_eq!(ours.subject.as_deref(), Some(format!("Re: [#{number}] Zamowienie 17").as_str()));
    assert_eq!(ours.reply_to[0].address, format!("support+t{number}@helpdesk.example.com"));
    assert_eq!(ours.text.trim_end(), "Paczka wyjechala dzis.");

    // 3. Her answer to it (In-Reply-To only, new subject) lands in the same conversation.
    let answer = format!(
        "From: anna@customer.example\r\nTo: support@helpdesk.example.com\r\nSubject: dzieki\r\nMessage-ID: <c2@customer.example>\r\nIn-Reply-To: <{}>\r\n\r\nDziekuje!\r\n",
        ours.message_id
    );
    deliver_to_maildir(&support_maildir, "2.answer", answer.as_bytes());
    eventually("the answer in the conversation", || async { (messages(&app, &conversation).await.len() == 3).then_some(()) }).await;
    assert_eq!(conversations(&app).await.len(), 1);

    // 4. Mail that is not mail is kept raw as failed and does not block the next one; an
    //    out-of-office answer to our reply is kept, marked, and sends nothing.
    deliver_to_maildir(&support_maildir, "3.junk", b"Return-Path: <>\r\n\r\n\r\n");
    let away = format!(
        "From: anna@customer.example\r\nTo: support@helpdesk.example.com\r\nSubject: Automatyczna odpowiedz: Re: [#{number}] Zamowienie 17\r\nAuto-Submitted: auto-replied\r\nMessage-ID: <ooo@customer.example>\r\nIn-Reply-To: <{}>\r\n\r\nJestem na urlopie.\r\n",
        ours.message_id
    );
    deliver_to_maildir(&support_maildir, "4.away", away.as_bytes());
    let items = eventually("the out-of-office reply", || async {
        let items = messages(&app, &conversation).await;
        (items.len() == 4).then_some(items)
    })
    .await;
    assert_eq!(items[3]["auto_reply"], true, "{:?}", items[3]);
    let (_, failed) =
        app.call("GET", &format!("/api/v1/channels/{}/failed-mail", body["id"].as_str().expect("id")), Some(&app.admin), None).await;
    assert_eq!(failed["items"].as_array().map(Vec::len), Some(1), "{failed}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(customer_mail(&customer_maildir).len(), 1, "an auto-reply triggers no mail");

    // 5. A restart neither loses nor repeats: the same mailbox, a new process, one more mail.
    app.stop_keeping_data().await;
    let app = spawn_app_with(Config { lmtp_listen: None, ..config.clone() }).await;
    deliver_to_maildir(
        &support_maildir,
        "5.after-restart",
        b"From: Jan <jan@customer.example>\r\nTo: support@helpdesk.example.com\r\nSubject: Inna sprawa\r\nMessage-ID: <j1@customer.example>\r\n\r\nPytanie\r\n",
    );
    eventually("the mail after the restart", || async { (conversations(&app).await.len() == 2).then_some(()) }).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(messages(&app, &conversation).await.len(), 4, "nothing fetched twice after the restart");
    app.stop_keeping_data().await;

    // 6. Postfix delivers mail for the support domain to our LMTP listener.
    let app = spawn_app_with(config).await;
    let mut smtp = tokio::net::TcpStream::connect(("127.0.0.1", smtp_port.parse::<u16>().expect("port"))).await.expect("connect postfix");
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let script = "EHLO customer.example\r\nMAIL FROM:<ewa@customer.example>\r\nRCPT TO:<support@helpdesk.example.com>\r\nDATA\r\n\
                  From: Ewa <ewa@customer.example>\r\nTo: support@helpdesk.example.com\r\nSubject: Przez LMTP\r\nMessage-ID: <e1@customer.example>\r\n\r\nCzesc\r\n.\r\nQUIT\r\n";
    smtp.write_all(script.as_bytes()).await.expect("send to postfix");
    let mut answer = String::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), smtp.read_to_string(&mut answer)).await;
    assert!(answer.contains("250 2.0.0 Ok: queued"), "{answer}");
    eventually("Postfix's LMTP delivery", || async { (conversations(&app).await.len() == 3).then_some(()) }).await;
}
