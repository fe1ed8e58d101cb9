//! The knowledge base (`KnowledgeStore`): articles with an append-only version for every
//! change, categories, and the bot's answers with their deflection.

use crate::error::{Result, StoreError};
use crate::model::*;
use crate::params;
use crate::sql::{Conn, Row};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use switchboard_domain::kb::{self, ArticleState, ArticleStatus, Question, Variant, VariantKind};
use switchboard_domain::*;

/// What `kb_articles.content` and `kb_article_versions.content` hold.
#[derive(Serialize, Deserialize, Default)]
struct Content {
    variants: Vec<Variant>,
    questions: Vec<Question>,
}

fn opt_date(raw: Option<String>) -> Result<Option<::time::Date>> {
    raw.map(|r| kb::parse_date(&r).ok_or_else(|| StoreError::other(format!("bad date in database: {r}")))).transpose()
}

fn content_of(raw: &str) -> Result<Content> {
    serde_json::from_str(raw).map_err(|e| StoreError::other(format!("bad article content in database: {e}")))
}

const ARTICLE_COLS: &str = "id, workspace_id, version, status, review_by, category_id, tags, content, created_at, updated_at, updated_by";

fn article_from(row: &Row) -> Result<Article> {
    let content = content_of(&row.text(7)?)?;
    Ok(Article {
        id: ArticleId::from_trusted(row.text(0)?),
        workspace_id: WorkspaceId::from_trusted(row.text(1)?),
        state: ArticleState {
            version: row.int(2)?,
            status: super::parse_enum(row.text(3)?, "article status")?,
            review_by: opt_date(row.opt_text(4)?)?,
            variants: content.variants,
        },
        category_id: row.opt_text(5)?.map(KbCategoryId::from_trusted),
        tags: serde_json::from_str(&row.text(6)?).unwrap_or_default(),
        questions: content.questions,
        created_at: Timestamp(row.int(8)?),
        updated_at: Timestamp(row.int(9)?),
        updated_by: row.opt_text(10)?.map(AgentId::from_trusted),
    })
}

pub fn article(conn: &mut dyn Conn, workspace: &WorkspaceId, id: &ArticleId) -> Result<Article> {
    let sql = format!("SELECT {ARTICLE_COLS} FROM kb_articles WHERE id = $1 AND workspace_id = $2");
    article_from(&conn.query_one(&sql, params![id.as_str(), workspace.as_str()])?)
}

/// Every article of the workspace, most recently changed first.
pub fn list_articles(conn: &mut dyn Conn, workspace: &WorkspaceId) -> Result<Vec<Article>> {
    let sql = format!("SELECT {ARTICLE_COLS} FROM kb_articles WHERE workspace_id = $1 ORDER BY updated_at DESC, id");
    conn.query(&sql, params![workspace.as_str()])?.iter().map(article_from).collect()
}

/// The articles of `ids` in the workspace (others' ids are left out), in no particular order.
pub fn articles_by_id(conn: &mut dyn Conn, workspace: &WorkspaceId, ids: &[ArticleId]) -> Result<Vec<Article>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!("SELECT {ARTICLE_COLS} FROM kb_articles WHERE workspace_id = $1 AND id IN ({})", super::placeholders(2, ids.len()));
    let mut values = vec![crate::sql::Value::from(workspace.as_str())];
    values.extend(ids.iter().map(|id| crate::sql::Value::from(id.as_str())));
    conn.query(&sql, &values)?.iter().map(article_from).collect()
}

/// Checks an editor's input against the domain's limits and this workspace's categories.
fn checked(conn: &mut dyn Conn, workspace: &WorkspaceId, input: ArticleInput) -> Result<(ArticleInput, Vec<String>)> {
    let tags = tags::clean_tags(&input.tags).map_err(|e| StoreError::invalid(&e.field, e.message))?;
    let (variants, questions) =
        kb::clean_content(&input.variants, &input.questions).map_err(|e| StoreError::invalid(&e.field, e.message))?;
    if let Some(category) = &input.category_id {
        let found = conn
            .query_opt("SELECT 1 FROM kb_categories WHERE id = $1 AND workspace_id = $2", params![category.as_str(), workspace.as_str()])?;
        if found.is_none() {
            return Err(StoreError::invalid("category_id", "no such category in this workspace"));
        }
    }
    Ok((ArticleInput { variants, questions, tags: tags.clone(), ..input }, tags))
}

/// Writes the article row as `state` says and appends the version that `change` describes.
#[allow(clippy::too_many_arguments)]
fn write_version(
    conn: &mut dyn Conn,
    workspace: &WorkspaceId,
    id: &ArticleId,
    state: &ArticleState,
    category: Option<&KbCategoryId>,
    tags: &[String],
    questions: &[Question],
    change: &str,
    author: Option<&AgentId>,
    created: bool,
) -> Result<Timestamp> {
    let now = crate::now().millis();
    let content = serde_json::to_string(&Content { variants: state.variants.clone(), questions: questions.to_vec() })
        .map_err(|e| StoreError::other(e.to_string()))?;
    let tags_json = serde_json::to_string(tags).map_err(|e| StoreError::other(e.to_string()))?;
    let review_by = state.review_by.map(kb::format_date);
    if created {
        conn.execute(
            "INSERT INTO kb_articles (id, workspace_id, version, status, review_by, category_id, tags, content, created_at, updated_at, updated_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10)",
            params![
                id.as_str(),
                workspace.as_str(),
                state.version,
                state.status.as_str(),
                review_by.clone(),
                category.map(|c| c.as_str()),
                tags_json.as_str(),
                content.as_str(),
                now,
                author.map(|a| a.as_str())
            ],
        )?;
    } else {
        // The version check makes concurrent edits on two nodes safe: the second one's
        // update finds the version moved on and is retried against the new state.
        let changed = conn.execute(
            "UPDATE kb_articles SET version = $1, status = $2, review_by = $3, category_id = $4, tags = $5, content = $6, \
             updated_at = $7, updated_by = $8 WHERE id = $9 AND workspace_id = $10 AND version = $11",
            params![
                state.version,
                state.status.as_str(),
                review_by.clone(),
                category.map(|c| c.as_str()),
                tags_json.as_str(),
                content.as_str(),
                now,
                author.map(|a| a.as_str()),
                id.as_str(),
                workspace.as_str(),
                state.version - 1
            ],
        )?;
        if changed == 0 {
            return Err(StoreError::Retry);
        }
    }
    conn.execute(
        "INSERT INTO kb_article_versions (article_id, version, workspace_id, status, review_by, category_id, tags, content, change, author_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        params![
            id.as_str(),
            state.version,
            workspace.as_str(),
            state.status.as_str(),
            review_by,
            category.map(|c| c.as_str()),
            tags_json.as_str(),
            content.as_str(),
            change,
            author.map(|a| a.as_str()),
            now
        ],
    )?;
    Ok(Timestamp(now))
}

pub fn create_article(conn: &mut dyn Conn, workspace: &WorkspaceId, input: ArticleInput, author: Option<&AgentId>) -> Result<Article> {
    let (input, tags) = checked(conn, workspace, input)?;
    let id = ArticleId::generate();
    let state =
        ArticleState { version: 1, status: input.status, review_by: input.review_by, variants: kb::next_variants(&[], input.variants, 1) };
    write_version(conn, workspace, &id, &state, input.category_id.as_ref(), &tags, &input.questions, "created", author, true)?;
    article(conn, workspace, &id)
}

/// Replaces the article's content as a new version; variants whose text is unchanged keep
/// their dates (so a translation nobody touched becomes outdated when another locale changed).
pub fn update_article(
    conn: &mut dyn Conn,
    workspace: &WorkspaceId,
    id: &ArticleId,
    input: ArticleInput,
    author: Option<&AgentId>,
) -> Result<Article> {
    let current = article(conn, workspace, id)?;
    let (input, tags) = checked(conn, workspace, input)?;
    let version = current.state.version + 1;
    let state = ArticleState {
        version,
        status: input.status,
        review_by: input.review_by,
        variants: kb::next_variants(&current.state.variants, input.variants, version),
    };
    write_version(conn, workspace, id, &state, input.category_id.as_ref(), &tags, &input.questions, "edited", author, false)?;
    article(conn, workspace, id)
}

/// Someone checked that the `locale` `kind` variant still says what the other locales say:
/// it is current as of a new version, its text unchanged. `NotFound` when the article has no
/// such variant.
pub fn confirm_variant(
    conn: &mut dyn Conn,
    workspace: &WorkspaceId,
    id: &ArticleId,
    locale: Language,
    kind: VariantKind,
    author: Option<&AgentId>,
) -> Result<Article> {
    let current = article(conn, workspace, id)?;
    let version = current.state.version + 1;
    let mut state = current.state.clone();
    state.version = version;
    let variant = state.variants.iter_mut().find(|v| v.locale == locale && v.kind == kind).ok_or(StoreError::NotFound)?;
    variant.current_as_of = version;
    let change = format!("confirmed {locale} {kind}");
    write_version(conn, workspace, id, &state, current.category_id.as_ref(), &current.tags, &current.questions, &change, author, false)?;
    article(conn, workspace, id)
}

/// Every version of the article, newest first, with who made it.
pub fn article_versions(conn: &mut dyn Conn, workspace: &WorkspaceId, id: &ArticleId) -> Result<Vec<ArticleVersion>> {
    let rows = conn.query(
        "SELECT v.version, v.status, v.review_by, v.category_id, v.tags, v.content, v.change, v.author_id, a.name, v.created_at \
         FROM kb_article_versions v LEFT JOIN agents a ON a.id = v.author_id \
         WHERE v.article_id = $1 AND v.workspace_id = $2 ORDER BY v.version DESC",
        params![id.as_str(), workspace.as_str()],
    )?;
    if rows.is_empty() {
        return Err(StoreError::NotFound);
    }
    rows.iter()
        .map(|r| {
            let content = content_of(&r.text(5)?)?;
            Ok(ArticleVersion {
                version: r.int(0)?,
                status: super::parse_enum::<ArticleStatus>(r.text(1)?, "article status")?,
                review_by: opt_date(r.opt_text(2)?)?,
                category_id: r.opt_text(3)?.map(KbCategoryId::from_trusted),
                tags: serde_json::from_str(&r.text(4)?).unwrap_or_default(),
                variants: content.variants,
                questions: content.questions,
                change: r.text(6)?,
                author_id: r.opt_text(7)?.map(AgentId::from_trusted),
                author_name: r.opt_text(8)?,
                created_at: Timestamp(r.int(9)?),
            })
        })
        .collect()
}

// ---------------------------------------------------------------- categories

/// Longest category name, in characters.
const MAX_CATEGORY_NAME: usize = 120;

pub fn list_categories(conn: &mut dyn Conn, workspace: &WorkspaceId) -> Result<Vec<KbCategory>> {
    conn.query("SELECT id, names, position FROM kb_categories WHERE workspace_id = $1 ORDER BY position, id", params![workspace.as_str()])?
        .iter()
        .map(|r| {
            Ok(KbCategory {
                id: KbCategoryId::from_trusted(r.text(0)?),
                names: serde_json::from_str(&r.text(1)?).map_err(|e| StoreError::other(e.to_string()))?,
                position: r.int(2)?,
            })
        })
        .collect()
}

/// Creates (`id` = `None`) or renames and moves a category; names 1 to 120 characters, at least one.
pub fn save_category(
    conn: &mut dyn Conn,
    workspace: &WorkspaceId,
    id: Option<&KbCategoryId>,
    names: BTreeMap<Language, String>,
    position: i64,
) -> Result<KbCategory> {
    let mut cleaned = BTreeMap::new();
    for (locale, name) in names {
        let name = name.trim().to_owned();
        if name.is_empty() || name.chars().count() > MAX_CATEGORY_NAME || name.chars().any(char::is_control) {
            return Err(StoreError::invalid(&format!("names.{locale}"), format!("1 to {MAX_CATEGORY_NAME} printable characters")));
        }
        cleaned.insert(locale, name);
    }
    if cleaned.is_empty() {
        return Err(StoreError::invalid("names", "a name in at least one locale"));
    }
    let names_json = serde_json::to_string(&cleaned).map_err(|e| StoreError::other(e.to_string()))?;
    let now = crate::now().millis();
    let id = match id {
        Some(id) => {
            let changed = conn.execute(
                "UPDATE kb_categories SET names = $1, position = $2, updated_at = $3 WHERE id = $4 AND workspace_id = $5",
                params![names_json.as_str(), position, now, id.as_str(), workspace.as_str()],
            )?;
            if changed == 0 {
                return Err(StoreError::NotFound);
            }
            id.clone()
        }
        None => {
            let id = KbCategoryId::generate();
            conn.execute(
                "INSERT INTO kb_categories (id, workspace_id, names, position, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)",
                params![id.as_str(), workspace.as_str(), names_json.as_str(), position, now],
            )?;
            id
        }
    };
    Ok(KbCategory { id, names: cleaned, position })
}

/// Deletes a category; its articles stay, without a category.
pub fn delete_category(conn: &mut dyn Conn, workspace: &WorkspaceId, id: &KbCategoryId, author: Option<&AgentId>) -> Result<()> {
    let rows =
        conn.query("SELECT id FROM kb_articles WHERE workspace_id = $1 AND category_id = $2", params![workspace.as_str(), id.as_str()])?;
    for row in rows {
        // Every change is a version, this one too.
        let article_id = ArticleId::from_trusted(row.text(0)?);
        let current = article(conn, workspace, &article_id)?;
        let mut state = current.state.clone();
        state.version += 1;
        write_version(conn, workspace, &article_id, &state, None, &current.tags, &current.questions, "category removed", author, false)?;
    }
    if conn.execute("DELETE FROM kb_categories WHERE id = $1 AND workspace_id = $2", params![id.as_str(), workspace.as_str()])? == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

// ---------------------------------------------------------------- the bot's answers

/// The bot's answer: an outbound message of `author_kind` `bot` on the channel (queued for
/// delivery in the same transaction), recorded for deflection; the conversation shows in the
/// Bot view until a hand-off. Never counts as a first response.
pub fn post_bot_answer(conn: &mut dyn Conn, answer: &NewBotAnswer) -> Result<Message> {
    let message = super::messages::queue_bot_message(
        conn,
        &answer.workspace_id,
        &answer.conversation_id,
        &answer.channel_id,
        &answer.text,
        &answer.buttons,
    )?;
    conn.execute(
        "INSERT INTO kb_bot_answers (id, workspace_id, conversation_id, channel_id, channel_kind, article_id, message_id, question, confidence_pct, outcome, answered_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'answered', $10)",
        params![
            BotAnswerId::generate().as_str(),
            answer.workspace_id.as_str(),
            answer.conversation_id.as_str(),
            answer.channel_id.as_str(),
            answer.channel_kind.as_str(),
            answer.article_id.as_str(),
            message.id.as_str(),
            answer.question.chars().take(2000).collect::<String>(),
            (f64::from(answer.confidence.clamp(0.0, 1.0)) * 100.0).round() as i64,
            message.received_at.millis()
        ],
    )?;
    conn.execute(
        "UPDATE conversations SET bot_active = TRUE WHERE id = $1 AND workspace_id = $2",
        params![answer.conversation_id.as_str(), answer.workspace_id.as_str()],
    )?;
    Ok(message)
}

/// The conversation's latest bot answer still waiting for its outcome: (article, asked at).
pub fn open_bot_answer(conn: &mut dyn Conn, conversation: &ConversationId) -> Result<Option<(String, ArticleId)>> {
    conn.query_opt(
        "SELECT id, article_id FROM kb_bot_answers WHERE conversation_id = $1 AND outcome = 'answered' ORDER BY answered_at DESC, id DESC LIMIT 1",
        params![conversation.as_str()],
    )?
    .map(|r| Ok((r.text(0)?, ArticleId::from_trusted(r.text(1)?))))
    .transpose()
}

/// Records how the conversation's open bot answer ended (if it has one), and on a hand-off
/// takes the conversation out of the Bot view, with `note` (the bot's exchange for the agents)
/// as an internal note.
pub fn settle_bot_answer(
    conn: &mut dyn Conn,
    workspace: &WorkspaceId,
    conversation: &ConversationId,
    outcome: BotOutcome,
    note: Option<&str>,
) -> Result<()> {
    if let Some((id, _)) = open_bot_answer(conn, conversation)? {
        conn.execute("UPDATE kb_bot_answers SET outcome = $1 WHERE id = $2", params![outcome.as_str(), id.as_str()])?;
    }
    if matches!(outcome, BotOutcome::HandedOff | BotOutcome::NotHelpful) {
        conn.execute(
            "UPDATE conversations SET bot_active = FALSE WHERE id = $1 AND workspace_id = $2",
            params![conversation.as_str(), workspace.as_str()],
        )?;
        if let Some(note) = note {
            super::messages::insert_system_note(conn, workspace, conversation, note, "bot")?;
        }
    }
    Ok(())
}

/// Deflection of the bot's answers given from `since` (ms) up to `now` (settled: given before
/// `now` less the window): an answer is settled
/// once its 72 hours are over, and deflected when it was not marked unhelpful or handed off and
/// no agent wrote to the same customer (on any of their conversations, any channel) within
/// those 72 hours.
pub fn kb_stats(conn: &mut dyn Conn, workspace: &WorkspaceId, since: Timestamp, now: Timestamp) -> Result<KbStats> {
    let window = kb::DEFLECTION_WINDOW_MS;
    let rows = conn.query(
        "SELECT b.channel_kind, b.article_id, \
                CASE WHEN b.answered_at > $3 THEN 1 ELSE 0 END AS pending, \
                CASE WHEN b.answered_at <= $3 AND b.outcome IN ('answered', 'helpful') AND NOT EXISTS ( \
                    SELECT 1 FROM conversations other JOIN messages m ON m.conversation_id = other.id \
                    WHERE other.contact_id = c.contact_id AND other.workspace_id = b.workspace_id \
                      AND m.direction = 'out' AND m.author_agent_id IS NOT NULL AND m.author_kind IS NULL \
                      AND m.received_at >= b.answered_at AND m.received_at <= b.answered_at + $4) \
                THEN 1 ELSE 0 END AS deflected \
         FROM kb_bot_answers b JOIN conversations c ON c.id = b.conversation_id \
         WHERE b.workspace_id = $1 AND b.answered_at >= $2",
        params![workspace.as_str(), since.millis(), now.millis() - window, window],
    )?;
    let mut stats = KbStats::default();
    let mut by_channel: BTreeMap<String, DeflectionCounts> = BTreeMap::new();
    let mut by_article: BTreeMap<String, DeflectionCounts> = BTreeMap::new();
    for row in rows {
        let (pending, deflected) = (row.int(2)?, row.int(3)?);
        for counts in [&mut stats.total, by_channel.entry(row.text(0)?).or_default(), by_article.entry(row.text(1)?).or_default()] {
            counts.answered += 1;
            counts.pending += pending;
            counts.deflected += deflected;
        }
    }
    stats.by_channel = by_channel
        .into_iter()
        .map(|(kind, counts)| Ok((super::parse_enum::<ChannelKind>(kind, "channel kind")?, counts)))
        .collect::<Result<_>>()?;
    stats.by_article = by_article.into_iter().map(|(id, counts)| (ArticleId::from_trusted(id), counts)).collect();
    stats.by_article.sort_by(|a, b| b.1.answered.cmp(&a.1.answered).then_with(|| a.0.cmp(&b.0)));
    Ok(stats)
}
