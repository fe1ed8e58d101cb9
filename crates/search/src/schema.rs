//! The index's schema: raw fields to filter and delete by, stored fields for results, and one
//! analysed text and title field per language plus the simple ones.

use crate::analysis::Analyzer;
use tantivy::schema::{FAST, Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions};

/// Version of the schema and of the analyzers behind it. An index directory written with
/// another version is wiped and rebuilt by the caller (see [`crate::SearchIndex::open`]): bump
/// it on any change to fields, tokenizers, stemming or folding.
pub const SCHEMA_VERSION: u32 = 1;

/// The fields, resolved once.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fields {
    pub workspace: Field,
    pub kind: Field,
    pub target_id: Field,
    pub key: Field,
    pub group: Field,
    pub variant: Field,
    pub language: Field,
    pub title: Field,
    pub body: Field,
    pub at: Field,
    /// Body text, by analyzer ([`Analyzer::ALL`] order: ru, pl, en, simple).
    pub text: [Field; 4],
    /// Title text, by analyzer, same order.
    pub title_text: [Field; 4],
}

pub(crate) const AT: &str = "at";
pub(crate) const WORKSPACE: &str = "workspace";

pub(crate) fn build() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let analysed = |analyzer: Analyzer| {
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default().set_tokenizer(analyzer.name()).set_index_option(IndexRecordOption::WithFreqs),
        )
    };
    let workspace = b.add_text_field(WORKSPACE, STRING | FAST);
    let kind = b.add_text_field("kind", STRING | STORED);
    let target_id = b.add_text_field("target_id", STRING | STORED);
    let key = b.add_text_field("key", STRING | STORED);
    let group = b.add_text_field("group", STRING);
    let variant = b.add_text_field("variant", STRING | STORED);
    let language = b.add_text_field("language", STRING | STORED);
    let title = b.add_text_field("title", STORED);
    let body = b.add_text_field("body", STORED);
    let at = b.add_i64_field(AT, FAST);
    let text = Analyzer::ALL.map(|a| b.add_text_field(&format!("text_{}", a.suffix()), analysed(a)));
    let title_text = Analyzer::ALL.map(|a| b.add_text_field(&format!("title_{}", a.suffix()), analysed(a)));
    let fields = Fields { workspace, kind, target_id, key, group, variant, language, title, body, at, text, title_text };
    (b.build(), fields)
}
