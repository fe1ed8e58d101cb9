//! Keeps this node's full-text index current: reads the database's search change log after the
//! sequence number the index committed last, loads what each changed entity stands for now,
//! and commits both in one index commit; rebuilds from scratch when the index is new, from
//! another build, or further behind than the log reaches (`switchboard reindex` does the same
//! on demand).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use switchboard_domain::Timestamp;
use switchboard_search::{DocKind, Document, GroupChange, SearchIndex};
use switchboard_store::{SearchChange, SearchDocument, Store, StoreError, now};

/// Changes read in one pass.
const BATCH: usize = 2000;
/// Entities whose documents are read in one query.
const LOAD_CHUNK: usize = 500;
/// A gap in the sequence younger than this may still fill: on PostgreSQL a transaction that
/// took its number earlier can commit later. The cursor waits before it; changes after it are
/// applied again (harmlessly) until it fills or ages. Gaps older than this are numbers of
/// transactions that rolled back.
const GAP_WAIT_MS: i64 = 10_000;
/// How long the change log is kept; a node away longer rebuilds its index.
pub const KEEP_CHANGES_MS: i64 = 7 * switchboard_domain::time::DAY_MS;
/// Pause between passes when there was nothing to do, and when there was. Under a stream of
/// changes a pass every second batches them into one index commit (each commit writes a
/// segment that later merges cost CPU the intake needs); a search that must see a change
/// wakes the indexer at once (`switchboard_web::kb::fresh_index`).
const IDLE: Duration = Duration::from_millis(500);
const BUSY: Duration = Duration::from_millis(1000);

/// The index and where it is fed from.
#[derive(Clone)]
pub struct Indexer {
    pub store: Arc<dyn Store>,
    pub index: Arc<SearchIndex>,
    /// Told of every commit, and wakes the indexer when a search waits for it.
    pub progress: Arc<switchboard_web::kb::IndexProgress>,
}

#[derive(Debug)]
pub enum IndexError {
    Store(StoreError),
    Index(String),
}

impl std::fmt::Display for IndexError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IndexError::Store(e) => write!(f, "database: {e}"),
            IndexError::Index(e) => write!(f, "search index: {e}"),
        }
    }
}

impl From<StoreError> for IndexError {
    fn from(e: StoreError) -> Self {
        IndexError::Store(e)
    }
}

fn index_error(e: impl std::fmt::Display) -> IndexError {
    IndexError::Index(e.to_string())
}

/// The index's document for the store's.
pub fn document(group: &str, d: SearchDocument) -> Option<Document> {
    let kind = match d.kind {
        "conversation" => DocKind::Conversation,
        "message" => DocKind::Message,
        "contact" => DocKind::Contact,
        "article" => DocKind::Article,
        _ => return None,
    };
    Some(Document {
        workspace: d.workspace_id.to_string(),
        kind,
        target_id: d.target_id,
        key: d.key,
        group: group.to_owned(),
        title: d.title,
        body: d.body,
        language: d.language,
        variant: d.variant,
        at: d.at.millis(),
    })
}

/// Where the cursor may move after `changes` (read after `cursor`, in order): up to the last
/// change before the first gap that may still fill.
fn safe_cursor(cursor: i64, changes: &[SearchChange], now: Timestamp) -> i64 {
    let mut safe = cursor;
    for change in changes {
        if change.seq != safe + 1 && now.since(change.at) < GAP_WAIT_MS {
            break;
        }
        safe = change.seq;
    }
    safe
}

impl Indexer {
    /// What the index needs: `Some(cursor)` to go on from, `None` to rebuild first.
    async fn start_from(&self) -> Result<Option<i64>, IndexError> {
        let Some(cursor) = self.index.cursor() else { return Ok(None) };
        let (latest, oldest) = self.store.search_change_bounds().await?;
        // Changes it missed were pruned: its own cursor is older than the oldest kept one.
        if oldest > cursor + 1 || cursor > latest {
            return Ok(None);
        }
        Ok(Some(cursor))
    }

    /// Applies every change written after the index's cursor (rebuilding when needed); how many
    /// changes were applied.
    pub async fn catch_up(&self) -> Result<usize, IndexError> {
        let Some(cursor) = self.start_from().await? else {
            self.rebuild(|_, _| {}).await?;
            return Ok(0);
        };
        let changes = self.store.search_changes(cursor, BATCH).await?;
        if changes.is_empty() {
            return Ok(0);
        }
        let next = safe_cursor(cursor, &changes, now());
        let mut by_entity: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for change in &changes {
            let ids = by_entity.entry(change.entity.clone()).or_default();
            if !ids.contains(&change.entity_id) {
                ids.push(change.entity_id.clone());
            }
        }
        let mut groups = Vec::new();
        for (entity, ids) in by_entity {
            for chunk in ids.chunks(LOAD_CHUNK) {
                for source in self.store.search_sources(&entity, chunk.to_vec()).await? {
                    let group = format!("{}:{}", source.entity, source.entity_id);
                    let docs = source.documents.into_iter().filter_map(|d| document(&group, d)).collect();
                    groups.push(GroupChange::replace(group, docs));
                }
            }
        }
        let applied = changes.len();
        let index = self.index.clone();
        tokio::task::spawn_blocking(move || index.apply(groups, next)).await.map_err(index_error)?.map_err(index_error)?;
        Ok(applied)
    }

    /// Replaces the index by every entity of the database; `progress(done, total)` in entities.
    /// Changes written meanwhile are applied by the next `catch_up`: the cursor stored is the
    /// latest change before the first entity was read.
    pub async fn rebuild(&self, mut progress: impl FnMut(u64, u64) + Send + 'static) -> Result<u64, IndexError> {
        let (latest, _) = self.store.search_change_bounds().await?;
        let total = self.store.search_entity_count().await?;
        // Batches of documents cross to the index writer's thread through a short queue: the
        // reads wait when the writer is behind, and memory stays bounded.
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Document>>(4);
        let index = self.index.clone();
        let consumer = tokio::task::spawn_blocking(move || index.rebuild(rx.into_iter().flatten(), latest, |_| {}));
        let mut done = 0u64;
        let produced: Result<(), IndexError> = async {
            for entity in ["article", "contact", "conversation", "message"] {
                let mut after = String::new();
                loop {
                    let ids = self.store.search_entity_ids(entity, &after, LOAD_CHUNK).await?;
                    let Some(last) = ids.last().cloned() else { break };
                    let count = ids.len() as u64;
                    let mut batch = Vec::with_capacity(ids.len());
                    for source in self.store.search_sources(entity, ids).await? {
                        let group = format!("{}:{}", source.entity, source.entity_id);
                        batch.extend(source.documents.into_iter().filter_map(|d| document(&group, d)));
                    }
                    let tx = tx.clone();
                    tokio::task::spawn_blocking(move || tx.send(batch))
                        .await
                        .map_err(index_error)?
                        .map_err(|_| IndexError::Index("the index stopped taking documents".into()))?;
                    done += count;
                    progress(done, total.max(done));
                    after = last;
                }
            }
            Ok(())
        }
        .await;
        drop(tx);
        let added = consumer.await.map_err(index_error)?.map_err(index_error)?;
        produced?;
        tracing::info!(entities = done, documents = added, cursor = latest, "search index rebuilt");
        Ok(added)
    }

    /// Keeps the index current until `shutdown`; prunes the change log once an hour.
    pub async fn run(self, mut shutdown: tokio::sync::watch::Receiver<bool>) -> Result<(), String> {
        let mut last_prune = now().plus_millis(-switchboard_domain::time::HOUR_MS);
        self.progress.start(self.index.cursor().unwrap_or(-1));
        loop {
            if *shutdown.borrow() {
                return Ok(());
            }
            let pause = match self.catch_up().await {
                Ok(0) => IDLE,
                Ok(_) => BUSY,
                Err(e) => {
                    tracing::error!(error = %e, "the search index could not catch up; retrying");
                    IDLE * 4
                }
            };
            if let Some(cursor) = self.index.cursor() {
                self.progress.applied(cursor);
            }
            if now().since(last_prune) >= switchboard_domain::time::HOUR_MS {
                last_prune = now();
                if let Err(e) = self.store.prune_search_changes(now().plus_millis(-KEEP_CHANGES_MS)).await {
                    tracing::warn!(error = %e, "cannot prune the search change log");
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = self.progress.woken() => {}
                _ = shutdown.changed() => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_domain::WorkspaceId;

    fn change(seq: i64, at: i64) -> SearchChange {
        SearchChange { seq, workspace_id: WorkspaceId::generate(), entity: "message".into(), entity_id: seq.to_string(), at: Timestamp(at) }
    }

    #[test]
    fn the_cursor_waits_before_a_young_gap_and_passes_an_old_one() {
        let now = Timestamp(100_000);
        let young = now.millis() - 1_000;
        let old = now.millis() - GAP_WAIT_MS - 1;
        assert_eq!(safe_cursor(10, &[change(11, young), change(12, young)], now), 12, "no gap");
        assert_eq!(safe_cursor(10, &[change(11, young), change(13, young)], now), 11, "13 waits for 12");
        assert_eq!(safe_cursor(10, &[change(11, old), change(13, old), change(14, young)], now), 14, "12 rolled back long ago");
        assert_eq!(safe_cursor(10, &[change(12, young)], now), 10, "the very first may still come");
    }
}
