//! `switchboard demo`: a realistic workspace — customers in Russia, Poland and the UK who write
//! through several channels, agents who answer, notes, statuses, tags (a complaint), the
//! customers' time zones and opt-outs for the contact policy, public posts in the mentions
//! stream — built through the same intake pipeline real traffic uses.

use serde_json::json;
use std::sync::Arc;
use switchboard_domain::time::HOUR_MS;
use switchboard_domain::*;
use switchboard_store::*;

struct Person {
    id: &'static str,
    name: &'static str,
    email: &'static str,
    phone: &'static str,
    region: &'static str,
    messages: &'static [&'static str],
    reply: &'static str,
    status: Status,
    priority: Priority,
    tags: &'static [&'static str],
    /// What agents keep about them; `time_zone` and `opt_out` feed the contact policy.
    attributes: &'static [(&'static str, &'static str)],
}

const PEOPLE: &[Person] = &[
    Person {
        id: "crm-1001",
        name: "Иван Петров",
        email: "ivan.petrov@example.ru",
        phone: "8 912 345-67-89",
        region: "RU",
        messages: &[
            "Здравствуйте! Заказ №5521 до сих пор не доставлен.",
            "Звонил вчера, но так и не получил ответа. Когда будет доставка?",
        ],
        reply: "Иван, добрый день! Заказ передан курьеру, доставка завтра до 18:00.",
        status: Status::Pending,
        priority: Priority::High,
        tags: &["жалоба", "доставка"],
        attributes: &[("time_zone", "Asia/Yekaterinburg")],
    },
    Person {
        id: "crm-1002",
        name: "Anna Kowalska",
        email: "anna.kowalska@example.pl",
        phone: "601 234 567",
        region: "PL",
        messages: &["Dzień dobry, proszę o fakturę VAT do zamówienia 7781.", "Czy faktura może być wystawiona na firmę?"],
        reply: "Pani Anno, faktura na firmę została wysłana na adres e-mail.",
        status: Status::Solved,
        priority: Priority::Normal,
        tags: &["faktura"],
        attributes: &[("time_zone", "Europe/Warsaw"), ("opt_out", "marketing, sales:phone")],
    },
    Person {
        id: "crm-1003",
        name: "James Taylor",
        email: "james.taylor@example.co.uk",
        phone: "+44 7911 123456",
        region: "GB",
        messages: &["Hi, the app logs me out every few minutes since the last update."],
        reply: "Hi James, thanks for reporting this. Our engineers are on it; I will update you today.",
        status: Status::OnHold,
        priority: Priority::Normal,
        tags: &[],
        attributes: &[("time_zone", "Europe/London"), ("plan", "Business")],
    },
    Person {
        id: "crm-1004",
        name: "Ольга Смирнова",
        email: "olga.smirnova@example.ru",
        phone: "+7 903 111-22-33",
        region: "RU",
        messages: &["Хочу вернуть товар, он не подошёл по размеру."],
        reply: "Ольга, оформили возврат. Курьер заберёт товар в четверг.",
        status: Status::Open,
        priority: Priority::Normal,
        tags: &["возврат"],
        attributes: &[("time_zone", "Europe/Moscow")],
    },
];

/// Public posts about the brand: author handle, name, the email a listening tool knows, text, link.
const POSTS: &[(&str, &str, Option<&str>, &str, &str)] = &[
    (
        "olga_s",
        "Ольга Смирнова",
        Some("olga.smirnova@example.ru"),
        "Третий день жду, когда заберут возврат. Магазин молчит.",
        "https://social.example/olga_s/posts/1",
    ),
    ("kasia_w", "Kasia W.", None, "Czy ktoś zamawiał tu ostatnio? Jak z czasem dostawy?", "https://forum.example.pl/t/4411"),
    ("tom_r", "Tom R.", None, "Great support from this shop, sorted my invoice in minutes.", "https://social.example/tom_r/posts/7"),
];

/// Creates channels, agents and conversations; returns the number of conversations touched.
pub async fn fill(store: &Arc<dyn Store>, workspace: &WorkspaceId) -> Result<usize, StoreError> {
    let channel = |name: &str, region: &str| NewChannel {
        workspace_id: workspace.clone(),
        kind: ChannelKind::Api,
        name: name.to_owned(),
        config: json!({"url": "http://127.0.0.1:9/demo-replies", "default_region": region}),
        secret: random_secret(),
    };
    let crm = store.create_channel(channel("CRM", "RU")).await?;
    let forum = store.create_channel(channel("Forum", "PL")).await?;
    let phone = store.create_channel(channel("Call centre", "GB")).await?;
    let agent = store.create_token(workspace, "Demo agent", Role::Agent).await?.agent;
    store.create_team(workspace, "Support", std::slice::from_ref(&agent.id)).await.or_else(|e| match e {
        StoreError::Conflict { .. } => Ok(Team {
            id: TeamId::generate(),
            workspace_id: workspace.clone(),
            name: "Support".into(),
            members: vec![],
            created_at: now(),
            assignment: TeamAssignment::default(),
        }),
        e => Err(e),
    })?;
    let start = now().millis() - 30 * HOUR_MS;
    let mut conversations = std::collections::HashSet::new();
    for (i, p) in PEOPLE.iter().enumerate() {
        let region: Region = p.region.parse().map_err(|_| StoreError::other("bad demo region"))?;
        let err = |e: switchboard_domain::identity::IdentityError| StoreError::other(e.to_string());
        let email = IdentityHint { identity: Identity::email(p.email).map_err(err)?, vouched: true };
        let phone_hint = IdentityHint { identity: Identity::phone(p.phone, Some(region)).map_err(err)?, vouched: true };
        for (j, text) in p.messages.iter().enumerate() {
            // The first message comes through the CRM with the email, the next through the
            // forum or the call centre with the phone: one customer, one case, two channels.
            let ch = if j == 0 {
                &crm
            } else if i % 2 == 0 {
                &phone
            } else {
                &forum
            };
            let outcome = store
                .intake(InboundMessage {
                    workspace_id: workspace.clone(),
                    channel_id: ch.id.clone(),
                    channel_kind: ch.kind,
                    external_id: format!("demo-{}-{j}", p.id),
                    sender: Identity::scoped(IdentityKind::Api, &ch.id, &format!("{}-{j}", p.id))
                        .map_err(|e| StoreError::other(e.to_string()))?,
                    sender_name: Some(p.name.into()),
                    hints: if j == 0 { vec![email.clone(), phone_hint.clone()] } else { vec![phone_hint.clone()] },
                    subject: None,
                    text: (*text).into(),
                    html: None,
                    sent_at: Some(Timestamp(start + (i as i64) * HOUR_MS + (j as i64) * 2 * HOUR_MS)),
                    thread: None,
                    attachments: vec![],
                    auto_reply: false,
                    quoted_text: None,
                    participants: Vec::new(),
                    html_remote_images: None,
                    group: None,
                })
                .await?;
            conversations.insert(outcome.conversation_id.clone());
            if j + 1 == p.messages.len() && !outcome.duplicate {
                let conv = &outcome.conversation_id;
                store
                    .post_agent_message(
                        workspace,
                        conv,
                        NewAgentMessage {
                            text: p.reply.into(),
                            channel_id: None,
                            internal: false,
                            attachments: vec![],
                            mentions: Vec::new(),
                        },
                        &agent.id,
                    )
                    .await?;
                store
                    .post_agent_message(
                        workspace,
                        conv,
                        NewAgentMessage {
                            text: format!("Demo note: {}", p.name),
                            channel_id: None,
                            internal: true,
                            attachments: vec![],
                            mentions: vec![],
                        },
                        &agent.id,
                    )
                    .await?;
                let patch = ConversationPatch {
                    status: Some(p.status),
                    priority: Some(p.priority),
                    assignee: Some(Some(agent.id.clone())),
                    tags: Some(p.tags.iter().map(|t| t.to_string()).collect()),
                    ..Default::default()
                };
                store.update_conversation(workspace, conv, patch, Actor::Agent(agent.id.clone())).await?;
                let attributes = p.attributes.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
                let update = ContactUpdate { attributes: Some(attributes), ..Default::default() };
                store.update_contact(workspace, &outcome.contact_id, update, Actor::Agent(agent.id.clone())).await?;
            }
        }
    }
    // Social listening: posts about the brand through an API channel marked public go to the
    // mentions stream, not the inbox; Olga, a known customer, complains in public too.
    let listening = store
        .create_channel(NewChannel { config: json!({"public": true, "default_region": "RU"}), ..channel("Social listening", "RU") })
        .await?;
    for (k, (author, name, email, text, url)) in POSTS.iter().enumerate() {
        let hints = match email {
            Some(e) => vec![IdentityHint { identity: Identity::email(e).map_err(|e| StoreError::other(e.to_string()))?, vouched: true }],
            None => Vec::new(),
        };
        let post = InboundMessage {
            workspace_id: workspace.clone(),
            channel_id: listening.id.clone(),
            channel_kind: ChannelKind::Api,
            external_id: format!("demo-post-{k}"),
            sender: Identity::scoped(IdentityKind::Api, &listening.id, author).map_err(|e| StoreError::other(e.to_string()))?,
            sender_name: Some((*name).into()),
            hints,
            subject: None,
            text: (*text).into(),
            html: None,
            sent_at: Some(Timestamp(start + (k as i64 + 5) * HOUR_MS)),
            thread: None,
            attachments: vec![],
            auto_reply: false,
            quoted_text: None,
            participants: Vec::new(),
            html_remote_images: None,
            group: None,
        };
        store.take_mention(post, Some((*url).into())).await?;
    }
    // Replies target a placeholder URL: mark their delivery jobs failed right away instead of
    // retrying for hours, so the demo shows the failure path too.
    for job in store.claim_jobs(100, 60_000).await? {
        store
            .finish_job(&job.id, JobOutcome::Failed { error: "demo channel: replies are not sent anywhere".into(), retryable: false })
            .await?;
    }
    Ok(conversations.len())
}
