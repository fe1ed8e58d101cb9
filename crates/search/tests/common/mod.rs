//! Builders shared by the search tests: documents, an index holding them, a temporary directory.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use switchboard_search::{DocKind, Document, GroupChange, Hit, Language, SearchIndex, SearchQuery};

pub const WS: &str = "ws-a";

/// A message of conversation `conversation` in workspace `ws`, its language detected.
pub fn message(ws: &str, conversation: &str, id: &str, body: &str, at: i64) -> Document {
    Document {
        workspace: ws.to_owned(),
        kind: DocKind::Message,
        target_id: conversation.to_owned(),
        key: format!("message:{id}"),
        group: format!("message:{id}"),
        title: String::new(),
        body: body.to_owned(),
        language: None,
        variant: String::new(),
        at,
    }
}

/// A conversation's own document (its subject).
pub fn conversation(ws: &str, id: &str, subject: &str, at: i64) -> Document {
    Document {
        workspace: ws.to_owned(),
        kind: DocKind::Conversation,
        target_id: id.to_owned(),
        key: format!("conversation:{id}"),
        group: format!("conversation:{id}"),
        title: subject.to_owned(),
        body: String::new(),
        language: None,
        variant: String::new(),
        at,
    }
}

pub fn contact(ws: &str, id: &str, name: &str, details: &str) -> Document {
    Document {
        workspace: ws.to_owned(),
        kind: DocKind::Contact,
        target_id: id.to_owned(),
        key: format!("contact:{id}"),
        group: format!("contact:{id}"),
        title: name.to_owned(),
        body: details.to_owned(),
        language: None,
        variant: String::new(),
        at: 0,
    }
}

/// One variant of article `id` in `locale`.
pub fn article(ws: &str, id: &str, locale: Language, variant: &str, title: &str, body: &str) -> Document {
    Document {
        workspace: ws.to_owned(),
        kind: DocKind::Article,
        target_id: id.to_owned(),
        key: format!("article:{id}:{locale}:{variant}"),
        group: format!("article:{id}"),
        title: title.to_owned(),
        body: body.to_owned(),
        language: Some(locale),
        variant: variant.to_owned(),
        at: 0,
    }
}

/// The changes putting `docs` in, each group replaced by its documents.
pub fn changes(docs: Vec<Document>) -> Vec<GroupChange> {
    let mut out: Vec<GroupChange> = Vec::new();
    for doc in docs {
        match out.iter_mut().find(|c| c.group == doc.group) {
            Some(change) => change.docs.push(doc),
            None => out.push(GroupChange::replace(doc.group.clone(), vec![doc])),
        }
    }
    out
}

/// An in-memory index holding `docs`.
pub fn index_of(docs: Vec<Document>) -> SearchIndex {
    let index = SearchIndex::in_memory().expect("in-memory index");
    index.apply(changes(docs), 1).expect("apply");
    index
}

pub fn search(index: &SearchIndex, text: &str) -> Vec<Hit> {
    index.search(&SearchQuery::new(WS, text)).expect("search")
}

/// The target ids of a search's hits, best first.
pub fn targets(index: &SearchIndex, text: &str) -> Vec<String> {
    search(index, text).into_iter().map(|h| h.target_id).collect()
}

/// A directory under the system's temporary one, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new() -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!("switchboard-search-{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed)));
        let _ = std::fs::remove_dir_all(&path);
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
