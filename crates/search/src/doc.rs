//! What goes into the index ([`Document`], [`GroupChange`]) and what comes out ([`Hit`],
//! [`ArticleMatch`]), and how a search is asked ([`SearchQuery`]).

use std::fmt;
use std::str::FromStr;
use switchboard_domain::Language;

/// What a document is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DocKind {
    /// A conversation's own text (its subject, say); `target_id` is the conversation id.
    Conversation,
    /// One message; `target_id` is its conversation's id. Hits report [`DocKind::Conversation`].
    Message,
    /// A contact (name, e-mail addresses, phone numbers); `target_id` is the contact id.
    Contact,
    /// One variant of a knowledge-base article in one locale; `target_id` is the article id.
    Article,
}

impl DocKind {
    /// Every kind.
    pub const ALL: [DocKind; 4] = [DocKind::Conversation, DocKind::Message, DocKind::Contact, DocKind::Article];

    /// The name stored in the index: `conversation`, `message`, `contact`, `article`.
    pub const fn as_str(self) -> &'static str {
        match self {
            DocKind::Conversation => "conversation",
            DocKind::Message => "message",
            DocKind::Contact => "contact",
            DocKind::Article => "article",
        }
    }

    /// The kind a hit on this document reports: messages report their conversation.
    pub const fn reported(self) -> DocKind {
        match self {
            DocKind::Message => DocKind::Conversation,
            other => other,
        }
    }
}

impl fmt::Display for DocKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DocKind {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DocKind::ALL.into_iter().find(|k| k.as_str() == s).ok_or(())
    }
}

/// One document of the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// The workspace it belongs to; searches never cross workspaces.
    pub workspace: String,
    pub kind: DocKind,
    /// What a result points at: conversation id (for Conversation and Message docs), contact id,
    /// article id.
    pub target_id: String,
    /// Unique key of this document, e.g. `message:ID`, `conversation:ID`, `contact:ID`,
    /// `article:ID:ru:web`. Reported in [`Hit::key`] for the document that matched best.
    pub key: String,
    /// Deletion group: all documents of one entity (`article:ID` for all variants of an
    /// article), replaced or deleted together by [`GroupChange`].
    pub group: String,
    pub title: String,
    /// The text. Indexed up to [`Document::MAX_INDEXED_BODY`] bytes, stored up to
    /// [`Document::MAX_STORED_BODY`] bytes for snippets (an article's `questions` and `short`
    /// variants whole, for [`crate::SearchIndex::match_articles`]).
    pub body: String,
    /// Language of the text if known (an article variant's locale); otherwise detected from
    /// title and body with [`switchboard_domain::language::detect`]. A text without letters has
    /// no language and is found through the simple field only.
    pub language: Option<Language>,
    /// For articles: variant kind (`web`, `short`, `spoken`, `agent`, or `questions` for a doc
    /// holding the ways customers ask it, one per line). Empty for others.
    pub variant: String,
    /// Unix ms; newer first among equally relevant hits.
    pub at: i64,
}

impl Document {
    /// How much of a body is indexed (bytes, cut at a character boundary): a longer text is
    /// found by its first 64 KiB.
    pub const MAX_INDEXED_BODY: usize = 64 * 1024;
    /// How much of a body is stored for snippets (bytes, cut at a character boundary).
    pub const MAX_STORED_BODY: usize = 4 * 1024;
}

/// Replaces every document of one deletion group: `docs` empty deletes the group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupChange {
    pub group: String,
    /// The group's new documents; each must name `group` as its [`Document::group`].
    pub docs: Vec<Document>,
}

impl GroupChange {
    /// The group's documents become `docs`.
    pub fn replace(group: impl Into<String>, docs: Vec<Document>) -> Self {
        GroupChange { group: group.into(), docs }
    }

    /// The group's documents go.
    pub fn delete(group: impl Into<String>) -> Self {
        GroupChange { group: group.into(), docs: Vec::new() }
    }
}

/// A search as a person types it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery<'a> {
    pub workspace: &'a str,
    /// Free text: words, never query syntax. At most [`crate::MAX_QUERY_WORDS`] distinct words
    /// are used.
    pub text: &'a str,
    /// The kinds wanted; empty means all. [`DocKind::Conversation`] takes in message documents
    /// too (a conversation is found by its messages); [`DocKind::Message`] alone means message
    /// documents only.
    pub kinds: Vec<DocKind>,
    /// Articles: only documents of this locale. Does not filter other kinds.
    pub language: Option<Language>,
    /// Articles: only these variant kinds; empty means any. Does not filter other kinds.
    pub variants: Vec<String>,
    /// At most this many hits (after grouping).
    pub limit: usize,
}

impl<'a> SearchQuery<'a> {
    /// All kinds, any locale and variant, 20 hits.
    pub fn new(workspace: &'a str, text: &'a str) -> Self {
        SearchQuery { workspace, text, kinds: Vec::new(), language: None, variants: Vec::new(), limit: 20 }
    }
}

/// One result: a conversation, contact or article, with the best-matching document's snippet.
///
/// `snippet` and `title` are plain text (not HTML). `highlights` and `title_highlights` are the
/// byte ranges `start..end` (half-open, on character boundaries, sorted, not overlapping) of
/// the matched words in `snippet` and `title`: the web layer escapes the text and wraps those
/// ranges.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// Message hits report [`DocKind::Conversation`].
    pub kind: DocKind,
    pub target_id: String,
    /// The key of the document that matched best (e.g. `message:ID`, to scroll to it).
    pub key: String,
    pub title: String,
    pub title_highlights: Vec<(usize, usize)>,
    /// At most [`crate::MAX_SNIPPET_CHARS`] characters of the body around its first matching
    /// word (or its start), with `…` where it was cut; line breaks become spaces.
    pub snippet: String,
    pub highlights: Vec<(usize, usize)>,
    /// BM25 score of the best-matching document (titles count twice).
    pub score: f32,
    pub variant: String,
    pub language: Option<Language>,
    /// The best-matching document's time (Unix ms).
    pub at: i64,
}

/// An article that answers a customer's text, for the bot. See
/// [`crate::SearchIndex::match_articles`] for how `confidence` is computed.
#[derive(Debug, Clone, PartialEq)]
pub struct ArticleMatch {
    pub article_id: String,
    /// 0..=1: the share of content words the text and the article's closest phrasing have in
    /// common, lowered when another article is nearly as close.
    pub confidence: f32,
    /// The best BM25 score among the article's titles, questions and short answers.
    pub score: f32,
}
