//! The bot's article matching ([`SearchIndex::match_articles`]): candidates by BM25, then a
//! confidence from the content words the text shares with the article's closest phrasing.

use crate::analysis::{Analyzer, Analyzers, fold};
use crate::doc::{ArticleMatch, DocKind};
use crate::index::SearchIndex;
use crate::query::{MAX_QUERY_WORDS, str_field, top};
use crate::{Language, Result};
use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;
use tantivy::collector::DocSetCollector;
use tantivy::query::{BooleanQuery, ConstScoreQuery, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{Score, TantivyDocument, Term};

/// Documents retrieved by BM25 to find candidate articles.
const CANDIDATE_DOCS: usize = 64;

/// Candidate articles whose phrasings are compared, at least (more when `limit` is larger).
const MIN_CANDIDATES: usize = 10;

/// Two articles closer than this in confidence are ambiguous…
const AMBIGUITY_MARGIN: f32 = 0.1;
/// …and their confidence is multiplied by this.
const AMBIGUITY_FACTOR: f32 = 0.8;

const RU: &[&str] = &[
    "как",
    "я",
    "мой",
    "моя",
    "моё",
    "мои",
    "мою",
    "моего",
    "моей",
    "мне",
    "меня",
    "мы",
    "нам",
    "нас",
    "вы",
    "вам",
    "вас",
    "ты",
    "он",
    "она",
    "они",
    "это",
    "этот",
    "эта",
    "не",
    "нет",
    "да",
    "на",
    "в",
    "во",
    "и",
    "а",
    "но",
    "или",
    "что",
    "чтобы",
    "где",
    "куда",
    "когда",
    "почему",
    "зачем",
    "какой",
    "какая",
    "какое",
    "какие",
    "ли",
    "же",
    "бы",
    "у",
    "с",
    "со",
    "по",
    "к",
    "ко",
    "о",
    "об",
    "от",
    "до",
    "за",
    "из",
    "для",
    "при",
    "можно",
    "есть",
    "уже",
    "ещё",
    "еще",
    "так",
    "то",
    "там",
    "тут",
    "здравствуйте",
    "привет",
    "добрый",
    "день",
    "вечер",
    "утро",
    "пожалуйста",
    "спасибо",
    "подскажите",
    "скажите",
    "хочу",
    "хотел",
    "хотела",
    "нужно",
    "надо",
    "могу",
    "можете",
];
const PL: &[&str] = &[
    "jak",
    "mój",
    "moja",
    "moje",
    "mojego",
    "mojej",
    "moim",
    "mi",
    "mnie",
    "ja",
    "my",
    "nam",
    "nas",
    "wy",
    "pan",
    "pani",
    "nie",
    "się",
    "w",
    "we",
    "i",
    "a",
    "z",
    "ze",
    "na",
    "do",
    "czy",
    "to",
    "ten",
    "ta",
    "te",
    "jest",
    "są",
    "o",
    "od",
    "po",
    "za",
    "dla",
    "przy",
    "u",
    "co",
    "gdzie",
    "kiedy",
    "dlaczego",
    "jaki",
    "jaka",
    "jakie",
    "że",
    "lub",
    "albo",
    "oraz",
    "ale",
    "już",
    "jeszcze",
    "tak",
    "można",
    "mam",
    "chcę",
    "chciałbym",
    "chciałabym",
    "mogę",
    "proszę",
    "dzień",
    "dobry",
    "witam",
    "cześć",
    "dziękuję",
];
const EN: &[&str] = &[
    "how", "i", "my", "me", "mine", "we", "our", "us", "you", "your", "it", "its", "the", "a", "an", "to", "do", "does", "did", "is",
    "are", "was", "were", "be", "am", "can", "could", "would", "will", "should", "of", "for", "in", "on", "at", "by", "from", "with",
    "and", "or", "not", "no", "what", "where", "when", "why", "which", "who", "this", "that", "there", "please", "hello", "hi", "hey",
    "thanks", "thank", "want", "need", "m", "s", "t", "ve", "ll", "d",
];

/// The stopwords of `language` dropped from texts before matching articles (pronouns,
/// prepositions, question words, greetings), as written.
pub fn stopwords(language: Language) -> &'static [&'static str] {
    match language {
        Language::Ru => RU,
        Language::Pl => PL,
        Language::En => EN,
    }
}

/// How a word is compared with the stopword list: lowercased, `ё` as `е`, Latin folded.
fn normalize(language: Language, word: &str) -> String {
    let lower = word.to_lowercase();
    match language {
        Language::Ru => lower.replace('ё', "е"),
        Language::Pl | Language::En => fold(&lower),
    }
}

static STOPWORDS: LazyLock<[HashSet<String>; 3]> =
    LazyLock::new(|| Language::ALL.map(|l| stopwords(l).iter().map(|w| normalize(l, w)).collect()));

/// Whether `word` (any case, with or without diacritics) is one of `language`'s
/// [`stopwords`].
pub fn is_stopword(language: Language, word: &str) -> bool {
    STOPWORDS[Analyzer::of(language) as usize].contains(&normalize(language, word))
}

/// The distinct content words of `text` in `language`, each as its stemmed forms (one, or two
/// for a Polish or English word with diacritics): stopwords dropped, at most `max`.
fn content_words(analyzers: &mut Analyzers, language: Language, text: &str, max: usize) -> Vec<Vec<String>> {
    let mut words: Vec<Vec<String>> = Vec::new();
    let mut current: Option<((usize, usize), Vec<String>)> = None;
    let finish = |word: Vec<String>, words: &mut Vec<Vec<String>>| {
        if words.len() < max && !words.iter().any(|w| shares(w, &word)) {
            words.push(word);
        }
    };
    analyzers.for_each_token(Analyzer::of(language), text, |from, to, term| {
        if is_stopword(language, &text[from..to]) {
            return;
        }
        match &mut current {
            Some((span, forms)) if *span == (from, to) => forms.push(term.to_owned()),
            _ => {
                if let Some((_, word)) = current.replace(((from, to), vec![term.to_owned()])) {
                    finish(word, &mut words);
                }
            }
        }
    });
    if let Some((_, word)) = current {
        finish(word, &mut words);
    }
    words
}

fn shares(a: &[String], b: &[String]) -> bool {
    a.iter().any(|f| b.contains(f))
}

/// |Q ∩ P| / max(|Q|, |P|) over content words (a word is in both when they share a form).
fn overlap(q: &[Vec<String>], p: &[Vec<String>]) -> f32 {
    if q.is_empty() || p.is_empty() {
        return 0.0;
    }
    let common = q.iter().filter(|w| p.iter().any(|v| shares(w, v))).count();
    common as f32 / q.len().max(p.len()) as f32
}

/// The first sentence of `text`: up to the first `.`, `!` or `?` followed by a space or the
/// end, or the first line break.
fn first_sentence(text: &str) -> &str {
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let next_is_break = chars.peek().is_none_or(|&(_, n)| n.is_whitespace());
        if c == '\n' || (matches!(c, '.' | '!' | '?') && next_is_break) {
            return &text[..i];
        }
    }
    text
}

fn raw(field: Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(Term::from_field_text(field, text), IndexRecordOption::Basic))
}

fn scored(field: Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(Term::from_field_text(field, text), IndexRecordOption::WithFreqs))
}

fn not_scored(queries: Vec<Box<dyn Query>>) -> Box<dyn Query> {
    Box::new(ConstScoreQuery::new(Box::new(BooleanQuery::intersection(queries)), 0.0))
}

impl SearchIndex {
    /// Bot matching: the articles in `locale` of `workspace` that answer `text`, best first, at
    /// most `limit`.
    ///
    /// 1. Q = the distinct content words of `text` under `locale`'s analyzer: stemmed (and
    ///    folded for Polish and English), [`stopwords`] dropped, at most
    ///    [`crate::MAX_QUERY_WORDS`]. No content word → no match.
    /// 2. Candidates: the articles of the best BM25 documents in `locale` whose title (any
    ///    variant) or whose `questions` or `short` text has a word of Q; an article's `score` is
    ///    its best document's.
    /// 3. Each candidate's phrasings: its titles, each line of its `questions`, the first
    ///    sentence of its `short` text. For a phrasing's content words P (same analysis), the
    ///    overlap is |Q ∩ P| / max(|Q|, |P|), a word being in both when its stemmed forms meet;
    ///    the article's confidence is its best phrasing's overlap. A text sharing only
    ///    stopwords with an article gets 0 (and is no candidate).
    /// 4. Ambiguity: when the runner-up's confidence is within 0.1 of the best's, every article
    ///    within 0.1 of the best (the best included) has its confidence multiplied by 0.8, so the
    ///    order stays and a bot threshold sees the doubt.
    ///
    /// Sorted by confidence, then score.
    pub fn match_articles(&self, workspace: &str, locale: Language, text: &str, limit: usize) -> Result<Vec<ArticleMatch>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let fields = &self.inner.fields;
        let mut analyzers = Analyzers::new();
        let q = content_words(&mut analyzers, locale, text, MAX_QUERY_WORDS);
        if q.is_empty() {
            return Ok(Vec::new());
        }
        let analyzer = Analyzer::of(locale) as usize;
        let forms: Vec<&String> = q.iter().flatten().collect();
        let in_locale =
            || vec![raw(fields.workspace, workspace), raw(fields.kind, DocKind::Article.as_str()), raw(fields.language, locale.code())];
        let titles = BooleanQuery::union(forms.iter().map(|f| scored(fields.title_text[analyzer], f)).collect());
        let texts = BooleanQuery::intersection(vec![
            Box::new(BooleanQuery::union(forms.iter().map(|f| scored(fields.text[analyzer], f)).collect())),
            not_scored(vec![Box::new(BooleanQuery::union(vec![raw(fields.variant, "questions"), raw(fields.variant, "short")]))]),
        ]);
        let query = BooleanQuery::intersection(vec![
            Box::new(BooleanQuery::union(vec![Box::new(titles), Box::new(texts)])),
            not_scored(in_locale()),
        ]);
        let searcher = self.inner.reader.searcher();
        let mut candidates: Vec<(String, Score)> = Vec::new();
        for ((score, _), address) in top(&searcher, &query, CANDIDATE_DOCS)? {
            let doc: TantivyDocument = searcher.doc(address)?;
            let id = str_field(&doc, fields.target_id);
            if !candidates.iter().any(|(c, _)| c == id) {
                candidates.push((id.to_owned(), score));
            }
        }
        candidates.truncate(limit.max(MIN_CANDIDATES));
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
        // Every document of the candidates in this locale: their phrasings.
        let mut of_candidates = in_locale();
        of_candidates.push(Box::new(BooleanQuery::union(candidates.iter().map(|(id, _)| raw(fields.target_id, id)).collect())));
        let mut confidence: HashMap<String, f32> = HashMap::new();
        for address in searcher.search(&BooleanQuery::intersection(of_candidates), &DocSetCollector)? {
            let doc: TantivyDocument = searcher.doc(address)?;
            let body = str_field(&doc, fields.body);
            let mut phrasings = vec![str_field(&doc, fields.title)];
            match str_field(&doc, fields.variant) {
                "questions" => phrasings.extend(body.lines()),
                "short" => phrasings.push(first_sentence(body)),
                _ => {}
            }
            let best = phrasings
                .into_iter()
                .filter(|p| !p.trim().is_empty())
                .map(|p| overlap(&q, &content_words(&mut analyzers, locale, p, MAX_QUERY_WORDS)))
                .fold(0.0f32, f32::max);
            let entry = confidence.entry(str_field(&doc, fields.target_id).to_owned()).or_insert(0.0);
            *entry = entry.max(best);
        }
        let mut matches: Vec<ArticleMatch> = candidates
            .into_iter()
            .map(|(article_id, score)| ArticleMatch { confidence: confidence.get(&article_id).copied().unwrap_or(0.0), article_id, score })
            .collect();
        matches.sort_by(|a, b| b.confidence.total_cmp(&a.confidence).then(b.score.total_cmp(&a.score)));
        if let [best, runner_up, ..] = matches.as_slice()
            && best.confidence > 0.0
            && best.confidence - runner_up.confidence <= AMBIGUITY_MARGIN
        {
            let best = best.confidence;
            for m in matches.iter_mut().filter(|m| best - m.confidence <= AMBIGUITY_MARGIN) {
                m.confidence *= AMBIGUITY_FACTOR;
            }
        }
        matches.truncate(limit);
        Ok(matches)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stopwords_ignore_case_and_diacritics() {
        assert!(is_stopword(Language::Ru, "Как"));
        assert!(is_stopword(Language::Ru, "ЕЩЁ"));
        assert!(is_stopword(Language::Pl, "sie"));
        assert!(is_stopword(Language::Pl, "Się"));
        assert!(is_stopword(Language::En, "THE"));
        assert!(!is_stopword(Language::Ru, "возврат"));
    }

    #[test]
    fn overlap_is_shared_over_the_larger_set() {
        let mut a = Analyzers::new();
        let q = content_words(&mut a, Language::Ru, "Как вернуть товар?", 32);
        assert_eq!(q.len(), 2);
        let p = content_words(&mut a, Language::Ru, "как вернуть товар", 32);
        assert!((overlap(&q, &p) - 1.0).abs() < f32::EPSILON);
        let p = content_words(&mut a, Language::Ru, "вернуть товар ненадлежащего качества", 32);
        assert!((overlap(&q, &p) - 0.5).abs() < f32::EPSILON);
        assert!(content_words(&mut a, Language::Ru, "как я у вас", 32).is_empty());
    }

    #[test]
    fn first_sentence_ends_at_a_stop_followed_by_a_space() {
        assert_eq!(first_sentence("Return within 30 days. Keep the receipt."), "Return within 30 days");
        assert_eq!(first_sentence("Version 2.5 is out"), "Version 2.5 is out");
        assert_eq!(first_sentence("Line one\nline two"), "Line one");
    }
}
