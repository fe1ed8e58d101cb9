//! Full-text search of Switchboard: conversations, messages, contacts and knowledge-base articles
//! in Russian, Polish and English, on a tantivy index kept on disk (or in memory for tests).
//!
//! The crate knows nothing about the database: the server feeds it [`Document`]s grouped by the
//! entity they belong to ([`GroupChange`]) and asks it questions ([`SearchQuery`],
//! [`SearchIndex::match_articles`]). Each text is indexed twice: stemmed in the field of its
//! language (Snowball stemmers; Polish and English folded to ASCII after stemming) and unstemmed
//! in a `simple` field that also holds whole identifiers (order numbers, e-mail addresses, phone
//! numbers). Query words are free text, never a query language: each is looked up through every
//! language's analyzer and the simple one, since a one- or two-word query's own language cannot be
//! told reliably.

mod analysis;
mod doc;
mod error;
mod index;
mod matching;
mod query;
mod schema;
mod snippet;

pub use doc::{ArticleMatch, DocKind, Document, GroupChange, Hit, SearchQuery};
pub use error::{Error, Result};
pub use index::SearchIndex;
pub use matching::{is_stopword, stopwords};
pub use query::MAX_QUERY_WORDS;
pub use schema::SCHEMA_VERSION;
pub use snippet::MAX_SNIPPET_CHARS;
pub use switchboard_domain::Language;

/// The stemmers of the index as rules read words (`contains_any` matches what search would).
#[derive(Debug, Clone, Copy, Default)]
pub struct WordStems;

/// Longest text stemmed for a rule, in words (a long mail's first words decide its routing).
pub const MAX_RULE_WORDS: usize = 2_000;

impl switchboard_domain::rules::WordForms for WordStems {
    fn stems(&self, language: Language, text: &str) -> Vec<Vec<String>> {
        thread_local! {
            static ANALYZERS: std::cell::RefCell<analysis::Analyzers> = std::cell::RefCell::new(analysis::Analyzers::new());
        }
        ANALYZERS.with(|a| a.borrow_mut().positions(analysis::Analyzer::of(language), text, MAX_RULE_WORDS))
    }
}
