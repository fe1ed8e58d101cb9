//! The search index's feed (`SearchFeedStore`): the change log triggers write in the same
//! transaction as the data, and the documents each changed entity stands for now.

use crate::error::Result;
use crate::model::*;
use crate::params;
use crate::sql::{Conn, Value};
use switchboard_domain::kb::VariantKind;
use switchboard_domain::*;

/// Changes after `after`, oldest first, at most `limit`.
pub fn search_changes(conn: &mut dyn Conn, after: i64, limit: usize) -> Result<Vec<SearchChange>> {
    conn.query(
        "SELECT seq, workspace_id, entity, entity_id, at FROM search_changes WHERE seq > $1 ORDER BY seq LIMIT $2",
        params![after, limit as i64],
    )?
    .iter()
    .map(|r| {
        Ok(SearchChange {
            seq: r.int(0)?,
            workspace_id: WorkspaceId::from_trusted(r.text(1)?),
            entity: r.text(2)?,
            entity_id: r.text(3)?,
            at: Timestamp(r.int(4)?),
        })
    })
    .collect()
}

/// The latest change's sequence number and the oldest one still kept (0 for none).
pub fn search_change_bounds(conn: &mut dyn Conn) -> Result<(i64, i64)> {
    // Two subqueries: SQLite answers a lone MIN or MAX from the primary key's end, but scans the
    // whole table for both in one SELECT (every search asks this: see `fresh_index`).
    let row = conn
        .query_one("SELECT COALESCE((SELECT MAX(seq) FROM search_changes), 0), COALESCE((SELECT MIN(seq) FROM search_changes), 0)", &[])?;
    Ok((row.int(0)?, row.int(1)?))
}

/// Forgets changes written before `before` (ms): a node that was away longer rebuilds.
pub fn prune_search_changes(conn: &mut dyn Conn, before: Timestamp) -> Result<u64> {
    conn.execute("DELETE FROM search_changes WHERE at < $1", params![before.millis()])
}

fn in_list(conn: &mut dyn Conn, sql: &str, ids: &[String]) -> Result<Vec<crate::sql::Row>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = sql.replace("{ids}", &super::placeholders(1, ids.len()));
    let values: Vec<Value> = ids.iter().map(|id| Value::from(id.as_str())).collect();
    conn.query(&sql, &values)
}

/// The documents of each named entity as it is now; an entity that is gone (or merged away)
/// has none, so the index drops it.
pub fn search_sources(conn: &mut dyn Conn, entity: &str, ids: &[String]) -> Result<Vec<SearchSource>> {
    let mut found: std::collections::HashMap<String, Vec<SearchDocument>> = std::collections::HashMap::new();
    match entity {
        "message" => {
            for r in in_list(conn, "SELECT id, workspace_id, conversation_id, text, received_at FROM messages WHERE id IN ({ids})", ids)? {
                let id = r.text(0)?;
                found.entry(id.clone()).or_default().push(SearchDocument {
                    workspace_id: WorkspaceId::from_trusted(r.text(1)?),
                    kind: "message",
                    target_id: r.text(2)?,
                    key: format!("message:{id}"),
                    title: String::new(),
                    body: r.text(3)?,
                    language: None,
                    variant: String::new(),
                    at: Timestamp(r.int(4)?),
                });
            }
        }
        "conversation" => {
            for r in in_list(
                conn,
                "SELECT id, workspace_id, subject, created_at FROM conversations \
                 WHERE id IN ({ids}) AND merged_into IS NULL AND subject IS NOT NULL AND subject <> ''",
                ids,
            )? {
                let id = r.text(0)?;
                found.entry(id.clone()).or_default().push(SearchDocument {
                    workspace_id: WorkspaceId::from_trusted(r.text(1)?),
                    kind: "conversation",
                    target_id: id.clone(),
                    key: format!("conversation:{id}"),
                    title: r.text(2)?,
                    body: String::new(),
                    language: None,
                    variant: String::new(),
                    at: Timestamp(r.int(3)?),
                });
            }
        }
        "contact" => {
            let contacts =
                in_list(conn, "SELECT id, workspace_id, name, created_at FROM contacts WHERE id IN ({ids}) AND merged_into IS NULL", ids)?;
            let identities = in_list(conn, "SELECT contact_id, value FROM identities WHERE contact_id IN ({ids}) ORDER BY value", ids)?;
            let mut values: std::collections::HashMap<String, Vec<String>> = std::collections::HashMap::new();
            for r in identities {
                values.entry(r.text(0)?).or_default().push(r.text(1)?);
            }
            for r in contacts {
                let id = r.text(0)?;
                let identities = values.remove(&id).unwrap_or_default();
                let name = r.opt_text(2)?.unwrap_or_default();
                found.entry(id.clone()).or_default().push(SearchDocument {
                    workspace_id: WorkspaceId::from_trusted(r.text(1)?),
                    kind: "contact",
                    target_id: id.clone(),
                    key: format!("contact:{id}"),
                    title: if name.is_empty() { identities.first().cloned().unwrap_or_default() } else { name },
                    body: identities.join(" "),
                    language: None,
                    variant: String::new(),
                    at: Timestamp(r.int(3)?),
                });
            }
        }
        "article" => {
            let mut by_workspace: std::collections::HashMap<String, Vec<ArticleId>> = std::collections::HashMap::new();
            for r in in_list(conn, "SELECT id, workspace_id FROM kb_articles WHERE id IN ({ids})", ids)? {
                by_workspace.entry(r.text(1)?).or_default().push(ArticleId::from_trusted(r.text(0)?));
            }
            for (workspace, articles) in by_workspace {
                let workspace = WorkspaceId::from_trusted(workspace);
                for article in super::kb::articles_by_id(conn, &workspace, &articles)? {
                    let docs = found.entry(article.id.to_string()).or_default();
                    docs.extend(article_documents(&article));
                }
            }
        }
        _ => {}
    }
    Ok(ids
        .iter()
        .map(|id| SearchSource { entity: entity.to_owned(), entity_id: id.clone(), documents: found.remove(id).unwrap_or_default() })
        .collect())
}

/// One document per variant and one per locale's ways of asking.
pub fn article_documents(article: &Article) -> Vec<SearchDocument> {
    let id = article.id.as_str();
    let mut docs: Vec<SearchDocument> = article
        .state
        .variants
        .iter()
        .map(|v| SearchDocument {
            workspace_id: article.workspace_id.clone(),
            kind: "article",
            target_id: id.to_owned(),
            key: format!("article:{id}:{}:{}", v.locale, v.kind),
            title: v.title.clone(),
            body: v.body.clone(),
            language: Some(v.locale),
            variant: v.kind.as_str().to_owned(),
            at: article.updated_at,
        })
        .collect();
    for locale in Language::ALL {
        let asked: Vec<&str> = article.questions.iter().filter(|q| q.locale == locale).map(|q| q.text.as_str()).collect();
        if asked.is_empty() {
            continue;
        }
        let title = article
            .state
            .variants
            .iter()
            .filter(|v| v.locale == locale)
            .min_by_key(|v| v.kind != VariantKind::Web)
            .map(|v| v.title.clone())
            .unwrap_or_default();
        docs.push(SearchDocument {
            workspace_id: article.workspace_id.clone(),
            kind: "article",
            target_id: id.to_owned(),
            key: format!("article:{id}:{locale}:questions"),
            title,
            body: asked.join("\n"),
            language: Some(locale),
            variant: "questions".to_owned(),
            at: article.updated_at,
        });
    }
    docs
}

/// Ids of one entity kind in id order after `after` (for a rebuild), at most `limit`.
pub fn entity_ids(conn: &mut dyn Conn, entity: &str, after: &str, limit: usize) -> Result<Vec<String>> {
    let table = match entity {
        "message" => "messages",
        "conversation" => "conversations",
        "contact" => "contacts",
        "article" => "kb_articles",
        _ => return Ok(Vec::new()),
    };
    conn.query(&format!("SELECT id FROM {table} WHERE id > $1 ORDER BY id LIMIT $2"), params![after, limit as i64])?
        .iter()
        .map(|r| r.text(0))
        .collect()
}

/// How many rows a rebuild reads (for its progress bar).
pub fn entity_count(conn: &mut dyn Conn) -> Result<u64> {
    let row = conn.query_one(
        "SELECT (SELECT COUNT(*) FROM messages) + (SELECT COUNT(*) FROM conversations) + (SELECT COUNT(*) FROM contacts) + (SELECT COUNT(*) FROM kb_articles)",
        &[],
    )?;
    Ok(row.int(0)?.max(0) as u64)
}
