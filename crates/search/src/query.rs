//! Free text to tantivy queries, and [`SearchIndex::search`]: every query word looked up through
//! every analyzer, all words required (or any, when that finds nothing), hits grouped by what
//! they point at.

use crate::analysis::{Analyzer, Analyzers, chunks, is_cyrillic, is_digit_chunk, is_latin, joins_digits};
use crate::doc::{DocKind, Hit, SearchQuery};
use crate::index::{Inner, SearchIndex};
use crate::schema::{AT, Fields, WORKSPACE};
use crate::snippet::{QueryTerms, snippet};
use crate::{Language, Result};
use std::collections::{HashMap, HashSet};
use tantivy::collector::TopDocs;
use tantivy::collector::sort_key::{SortBySimilarityScore, SortByStaticFastValue};
use tantivy::query::doc_predicate_query::{DocPredicateQuery, FunctionPredicate};
use tantivy::query::{BooleanQuery, BoostQuery, ConstScoreQuery, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption, Value};
use tantivy::{DocAddress, DocId, Order, Score, Searcher, SegmentReader, TantivyDocument, Term};

/// At most this many distinct query words are used (the first ones); the rest of a longer text
/// is ignored.
pub const MAX_QUERY_WORDS: usize = 32;

/// At most this many pieces of one query word are looked up (`a-b-c-…`).
const MAX_PIECES_PER_WORD: usize = 16;

/// Most documents fetched to fill `limit` groups.
const MAX_FETCH: usize = 4096;

/// Title matches count this many times a body match.
const TITLE_BOOST: Score = 2.0;

/// The words of a query: chunks between spaces and brackets, quotes and the like, trimmed to
/// their first and last letter or digit (`field:value` and `order-1001` stay whole; `"`, `(`,
/// `*` alone are no word); consecutive groups of digits (`+48 601 234 567`) are one word. The
/// first [`MAX_QUERY_WORDS`] distinct (case-insensitive) ones.
pub(crate) fn words(text: &str) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    // Digit chunks being joined into one word: (start, end, chunks).
    let mut digits: Option<(usize, usize, usize)> = None;
    let mut ready: Vec<(usize, usize)> = Vec::new();
    for (start, end) in chunks(text) {
        let is_digits = is_digit_chunk(&text[start..end]);
        if let Some((s, e, n)) = digits {
            if is_digits && n < 8 && joins_digits(&text[e..start]) {
                digits = Some((s, end, n + 1));
                continue;
            }
            ready.push((s, e));
            digits = None;
        }
        if is_digits {
            digits = Some((start, end, 1));
        } else {
            ready.push((start, end));
        }
        for (s, e) in ready.drain(..) {
            let word = &text[s..e];
            if seen.insert(word.to_lowercase()) {
                out.push(word);
            }
        }
        if out.len() >= MAX_QUERY_WORDS {
            break;
        }
    }
    if let Some((s, e, _)) = digits {
        let word = &text[s..e];
        if seen.insert(word.to_lowercase()) {
            out.push(word);
        }
    }
    out.truncate(MAX_QUERY_WORDS);
    out
}

fn raw_query(field: Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(Term::from_field_text(field, text), IndexRecordOption::Basic))
}

fn any_of(mut queries: Vec<Box<dyn Query>>) -> Option<Box<dyn Query>> {
    match queries.len() {
        0 => None,
        1 => queries.pop(),
        _ => Some(Box::new(BooleanQuery::union(queries))),
    }
}

fn all_of(mut queries: Vec<Box<dyn Query>>) -> Option<Box<dyn Query>> {
    match queries.len() {
        0 => None,
        1 => queries.pop(),
        _ => Some(Box::new(BooleanQuery::intersection(queries))),
    }
}

/// A term query for a term the index has: a term no segment has matches nothing, and leaving
/// it out lets a word found in one field be a single term scorer rather than a union.
fn known_term(searcher: &Searcher, field: Field, text: &str) -> Option<Box<dyn Query>> {
    let term = Term::from_field_text(field, text);
    (searcher.doc_freq(&term).unwrap_or(1) > 0).then(|| Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs)) as Box<dyn Query>)
}

/// All positions of `field`, each matching any of its forms; `None` when one of them cannot.
fn positions_query(searcher: &Searcher, field: Field, positions: &[Vec<String>]) -> Option<Box<dyn Query>> {
    let mut all = Vec::with_capacity(positions.len());
    for forms in positions {
        all.push(any_of(forms.iter().filter_map(|f| known_term(searcher, field, f)).collect())?);
    }
    all_of(all)
}

/// Whether a word has letters or digits other than Cyrillic and Latin letters: it may be in a
/// document found through the simple field only (`601 234 567`, `東京`).
fn needs_simple_words(word: &str) -> bool {
    word.chars().any(|c| c.is_alphanumeric() && !(c.is_alphabetic() && (is_cyrillic(c) || is_latin(c))))
}

/// The query words, each as a query over every analysed field, and the terms looked up.
///
/// `None` for a word none of whose terms the index has: no document has all the words then.
pub(crate) fn word_queries(
    searcher: &Searcher,
    fields: &Fields,
    analyzers: &mut Analyzers,
    text: &str,
) -> (Vec<Option<Box<dyn Query>>>, QueryTerms) {
    let mut terms = QueryTerms::default();
    let mut queries = Vec::new();
    for word in words(text) {
        let (mut body, mut title) = (Vec::new(), Vec::new());
        for analyzer in [Analyzer::Ru, Analyzer::Pl, Analyzer::En] {
            let positions = analyzers.positions(analyzer, word, MAX_PIECES_PER_WORD);
            positions.iter().flatten().for_each(|t| terms.add(analyzer, t));
            body.extend(positions_query(searcher, fields.text[analyzer as usize], &positions));
            title.extend(positions_query(searcher, fields.title_text[analyzer as usize], &positions));
        }
        let (simple_words, whole) = analyzers.simple_parts(word, MAX_PIECES_PER_WORD);
        simple_words.iter().chain(&whole).for_each(|t| terms.add(Analyzer::Simple, t));
        // A word of Cyrillic and Latin letters is in the language fields of every document that
        // has it (each document with such letters has the fields of every language they may be
        // in): its simple form is not looked up, which spares a second long posting list per
        // frequent word. Digits and other scripts may be in documents with no language.
        let simple_positions: Vec<Vec<String>> =
            if needs_simple_words(word) { simple_words.into_iter().map(|w| vec![w]).collect() } else { Vec::new() };
        for (field, list) in
            [(fields.text[Analyzer::Simple as usize], &mut body), (fields.title_text[Analyzer::Simple as usize], &mut title)]
        {
            list.extend(positions_query(searcher, field, &simple_positions));
            list.extend(whole.iter().filter_map(|w| known_term(searcher, field, w)));
        }
        let title = any_of(title).map(|q| Box::new(BoostQuery::new(q, TITLE_BOOST)) as Box<dyn Query>);
        queries.push(any_of(body.into_iter().chain(title).collect()));
    }
    (queries, terms)
}

/// A workspace holding at least this share of the index is filtered by its fast field rather
/// than by its posting list.
const DENSE_WORKSPACE_SHARE: u64 = 8;

/// Documents of `workspace` only. A workspace with few of the index's documents is filtered by
/// its posting list, which then leads the intersection; a large one by a per-document check of
/// its fast field, which costs the words' postings a lookup each instead of a seek in a long
/// list (half the time of a frequent word's query in a workspace of a third of the index).
pub(crate) fn workspace_filter(searcher: &Searcher, fields: &Fields, workspace: &str) -> Box<dyn Query> {
    let term = Term::from_field_text(fields.workspace, workspace);
    let docs = searcher.doc_freq(&term).unwrap_or(u64::MAX);
    if docs.saturating_mul(DENSE_WORKSPACE_SHARE) < searcher.num_docs() {
        return raw_query(fields.workspace, workspace);
    }
    let workspace = workspace.to_owned();
    let predicate = FunctionPredicate::from(move |segment: &SegmentReader| -> tantivy::Result<_> {
        let (wanted, ords) = match segment.fast_fields().str(WORKSPACE)? {
            Some(column) => (column.dictionary().term_ord(&workspace)?, Some(column.into_parts().1)),
            None => (None, None),
        };
        Ok(move |doc: DocId| wanted.is_some() && ords.as_ref().and_then(|o| o.first(doc)) == wanted)
    });
    Box::new(DocPredicateQuery::from(predicate))
}

/// Workspace, kinds, and for articles locale and variants, as a clause that does not score.
fn filter(searcher: &Searcher, fields: &Fields, q: &SearchQuery<'_>) -> Box<dyn Query> {
    let mut must = vec![workspace_filter(searcher, fields, q.workspace)];
    let mut kinds: Vec<DocKind> = if q.kinds.is_empty() { DocKind::ALL.to_vec() } else { q.kinds.clone() };
    if kinds.contains(&DocKind::Conversation) && !kinds.contains(&DocKind::Message) {
        kinds.push(DocKind::Message);
    }
    let articles_narrowed = q.language.is_some() || !q.variants.is_empty();
    let all_kinds = DocKind::ALL.iter().all(|k| kinds.contains(k));
    if !all_kinds || articles_narrowed {
        let mut alternatives = Vec::new();
        for kind in DocKind::ALL.into_iter().filter(|k| kinds.contains(k)) {
            let mut clause = vec![raw_query(fields.kind, kind.as_str())];
            if kind == DocKind::Article {
                if let Some(language) = q.language {
                    clause.push(raw_query(fields.language, language.code()));
                }
                clause.extend(any_of(q.variants.iter().map(|v| raw_query(fields.variant, v)).collect()));
            }
            alternatives.extend(all_of(clause));
        }
        must.extend(any_of(alternatives));
    }
    let must = all_of(must).unwrap_or_else(|| raw_query(fields.workspace, q.workspace));
    Box::new(ConstScoreQuery::new(must, 0.0))
}

/// `query` within the workspace, kinds and article filters of `q`.
fn with_filter(searcher: &Searcher, fields: &Fields, q: &SearchQuery<'_>, query: Box<dyn Query>) -> Box<dyn Query> {
    Box::new(BooleanQuery::intersection(vec![query, filter(searcher, fields, q)]))
}

/// A ranked document: `(score, at)` and where it is.
pub(crate) type Ranked = ((Score, Option<i64>), DocAddress);

pub(crate) fn top(searcher: &Searcher, query: &dyn Query, n: usize) -> Result<Vec<Ranked>> {
    let collector = TopDocs::with_limit(n.max(1))
        .order_by(((SortBySimilarityScore, Order::Desc), (SortByStaticFastValue::<i64>::for_field(AT), Order::Desc)));
    Ok(searcher.search(query, &collector)?)
}

pub(crate) fn str_field(doc: &TantivyDocument, field: Field) -> &str {
    doc.get_first(field).and_then(|v| v.as_str()).unwrap_or("")
}

struct Group {
    doc: TantivyDocument,
    kind: DocKind,
    target_id: String,
    score: Score,
    at: i64,
    /// A title from another document of the group when the best one has none (a message's
    /// conversation subject).
    title: Option<String>,
}

impl SearchIndex {
    /// Best first. `q.text` is free user input: never an error for its syntax — it is read as
    /// words (no query language: quotes, colons and brackets are just characters; see
    /// [`SearchQuery::text`]). A query without letters or digits finds nothing.
    ///
    /// A document matches when it contains all the query's words, each in any of the language
    /// fields or the simple field (title or body): word `w` matches if `stem_ru(w)` is in
    /// `text_ru`, or `stem_pl(w)` in `text_pl`, or `stem_en(w)` in `text_en`, or the whole
    /// identifier or joined phone number it is in `text_simple` (and, for a word with digits or
    /// letters of other scripts, which may be in a document without a language, `w` lowercased
    /// and folded in `text_simple`). A word of several pieces (`order-1001`) needs all of them
    /// in one field. When no document has all the words, documents with any of them are ranked
    /// instead. Ranking is BM25 summed over the fields that match, titles counting twice; newer
    /// first among equal scores.
    ///
    /// Conversation and message hits are grouped by conversation (`target_id`), article hits by
    /// article: one [`Hit`] each, from its best-matching document. Grouping over-fetches
    /// (`4 × limit` documents, more while groups are missing, at most 4096), never all hits.
    pub fn search(&self, q: &SearchQuery<'_>) -> Result<Vec<Hit>> {
        if q.limit == 0 {
            return Ok(Vec::new());
        }
        let inner = &*self.inner;
        let mut analyzers = Analyzers::new();
        let searcher = inner.reader.searcher();
        let (words, terms) = word_queries(&searcher, &inner.fields, &mut analyzers, q.text);
        if words.is_empty() {
            return Ok(Vec::new());
        }
        let several = words.len() > 1;
        let all = if words.iter().all(Option::is_some) { all_of(words.iter().flatten().map(|w| w.box_clone()).collect()) } else { None };
        let mut groups = match all {
            Some(all) => collect(inner, &searcher, &*with_filter(&searcher, &inner.fields, q, all), q.limit)?,
            None => Vec::new(),
        };
        if groups.is_empty()
            && several
            && let Some(any) = any_of(words.into_iter().flatten().collect())
        {
            groups = collect(inner, &searcher, &*with_filter(&searcher, &inner.fields, q, any), q.limit)?;
        }
        Ok(groups.into_iter().map(|g| hit(inner, &mut analyzers, &terms, g)).collect())
    }
}

/// The best `limit` groups for `query`.
fn collect(inner: &Inner, searcher: &Searcher, query: &dyn Query, limit: usize) -> Result<Vec<Group>> {
    let fields = &inner.fields;
    let mut fetch = limit.saturating_mul(4).clamp(16, MAX_FETCH);
    loop {
        let found = top(searcher, query, fetch)?;
        let exhausted = found.len() < fetch;
        let mut groups: Vec<Group> = Vec::new();
        let mut index: HashMap<(DocKind, String), usize> = HashMap::new();
        for ((score, at), address) in found {
            let doc: TantivyDocument = searcher.doc(address)?;
            let Ok(kind) = str_field(&doc, fields.kind).parse::<DocKind>() else { continue };
            let kind = kind.reported();
            let target_id = str_field(&doc, fields.target_id).to_owned();
            match index.get(&(kind, target_id.clone())) {
                Some(&i) => {
                    let group = &mut groups[i];
                    if group.title.is_none() && str_field(&group.doc, fields.title).is_empty() {
                        let title = str_field(&doc, fields.title);
                        if !title.is_empty() {
                            group.title = Some(title.to_owned());
                        }
                    }
                }
                None if groups.len() < limit => {
                    index.insert((kind, target_id.clone()), groups.len());
                    groups.push(Group { doc, kind, target_id, score, at: at.unwrap_or(0), title: None });
                }
                None => {}
            }
        }
        if groups.len() >= limit || exhausted || fetch >= MAX_FETCH {
            return Ok(groups);
        }
        fetch = fetch.saturating_mul(4).min(MAX_FETCH);
    }
}

fn hit(inner: &Inner, analyzers: &mut Analyzers, terms: &QueryTerms, g: Group) -> Hit {
    let fields = &inner.fields;
    let language = str_field(&g.doc, fields.language).parse::<Language>().ok();
    let body = str_field(&g.doc, fields.body);
    let (snippet, highlights) = snippet(body, &terms.ranges(analyzers, body, language));
    let title = g.title.unwrap_or_else(|| str_field(&g.doc, fields.title).to_owned());
    let title_highlights = terms.ranges(analyzers, &title, language);
    Hit {
        kind: g.kind,
        key: str_field(&g.doc, fields.key).to_owned(),
        target_id: g.target_id,
        title,
        title_highlights,
        snippet,
        highlights,
        score: g.score,
        variant: str_field(&g.doc, fields.variant).to_owned(),
        language,
        at: g.at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_chunks_and_numbers_in_groups_are_one() {
        assert_eq!(words("Где мой заказ ORDER-1001?"), ["Где", "мой", "заказ", "ORDER-1001"]);
        assert_eq!(words("call +48 601 234 567 now"), ["call", "48 601 234 567", "now"]);
        assert_eq!(words("\" ( * AND OR NOT field:value"), ["AND", "OR", "NOT", "field:value"]);
        assert_eq!(words("Refund refund REFUND"), ["Refund"]);
        assert!(words("🙂 ?! ---").is_empty());
    }

    #[test]
    fn at_most_32_distinct_words() {
        let text: String = (0..1000).map(|i| format!("w{i} ")).collect();
        let got = words(&text);
        assert_eq!(got.len(), MAX_QUERY_WORDS);
        assert_eq!(got[31], "w31");
    }
}
