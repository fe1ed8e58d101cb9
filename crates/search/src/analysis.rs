//! Text analysis, the same for documents and queries.
//!
//! - `sb_ru`, `sb_pl`, `sb_en`: words (letters and digits), lowercased in every alphabet,
//!   stemmed by that language's Snowball stemmer; Russian `ё` is read as `е`; Polish and English
//!   are folded to ASCII after stemming (`żółtego` → `zolt`), and a word with diacritics also
//!   gets, at the same position, the stem of its folded form, since the Polish stemmer reads a
//!   word typed without diacritics (`zwrotow`) differently from the written one (`zwrotów`);
//!   a Polish word typed in ASCII ending in `-ow` likewise also gets the stem of its `-ów` form.
//! - `sb_simple`: no stemming; words lowercased and folded, plus whole identifiers: a run with
//!   inner punctuation (`order-1001`, `anna@example.com`) as one more token, and a phone number
//!   written in groups (`+48 601 234 567`, `+7 (916) 123-45-67`) also as its digits joined, each
//!   tail of its groups joined (`601234567`), and the last 9 and 10 digits of a long number
//!   (the national number without the country code).

use frostem::{Algorithm, Stemmer};
use switchboard_domain::Language;
use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, RawTokenizer, RemoveLongFilter, SimpleTokenizer, TextAnalyzer, Token, TokenFilter, TokenStream,
    Tokenizer, TokenizerManager,
};

/// Tokens of this many bytes or more are not indexed (nor looked up): hashes, base64, URLs.
pub(crate) const MAX_TOKEN_BYTES: usize = 100;

/// One of the four analyzers; also the index of its fields in [`crate::schema::Fields`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Analyzer {
    Ru = 0,
    Pl = 1,
    En = 2,
    Simple = 3,
}

impl Analyzer {
    pub(crate) const ALL: [Analyzer; 4] = [Analyzer::Ru, Analyzer::Pl, Analyzer::En, Analyzer::Simple];

    pub(crate) const fn of(language: Language) -> Analyzer {
        match language {
            Language::Ru => Analyzer::Ru,
            Language::Pl => Analyzer::Pl,
            Language::En => Analyzer::En,
        }
    }

    /// The tokenizer's name in tantivy's manager.
    pub(crate) const fn name(self) -> &'static str {
        match self {
            Analyzer::Ru => "sb_ru",
            Analyzer::Pl => "sb_pl",
            Analyzer::En => "sb_en",
            Analyzer::Simple => "sb_simple",
        }
    }

    /// The field-name suffix: `text_ru`, `title_simple`.
    pub(crate) const fn suffix(self) -> &'static str {
        match self {
            Analyzer::Ru => "ru",
            Analyzer::Pl => "pl",
            Analyzer::En => "en",
            Analyzer::Simple => "simple",
        }
    }

    pub(crate) fn build(self) -> TextAnalyzer {
        match self {
            Analyzer::Ru => language_analyzer(Language::Ru),
            Analyzer::Pl => language_analyzer(Language::Pl),
            Analyzer::En => language_analyzer(Language::En),
            Analyzer::Simple => TextAnalyzer::builder(IdTokenizer::default())
                .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
                .filter(LowerCaser)
                .filter(AsciiFoldingFilter)
                .build(),
        }
    }
}

fn language_analyzer(language: Language) -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser)
        .filter(StemFold { language })
        .build()
}

/// Registers the four analyzers under their names.
pub(crate) fn register(manager: &TokenizerManager) {
    for analyzer in Analyzer::ALL {
        manager.register(analyzer.name(), analyzer.build());
    }
}

/// The four analyzers plus the normaliser of simple pieces, ready for one query.
pub(crate) struct Analyzers {
    analyzers: [TextAnalyzer; 4],
    simple_norm: TextAnalyzer,
}

impl Analyzers {
    pub(crate) fn new() -> Self {
        Analyzers {
            analyzers: Analyzer::ALL.map(Analyzer::build),
            simple_norm: TextAnalyzer::builder(RawTokenizer::default()).filter(LowerCaser).filter(AsciiFoldingFilter).build(),
        }
    }

    /// Calls `f(from, to, term)` for each token of `text` under `analyzer`.
    pub(crate) fn for_each_token(&mut self, analyzer: Analyzer, text: &str, mut f: impl FnMut(usize, usize, &str)) {
        let mut stream = self.analyzers[analyzer as usize].token_stream(text);
        while stream.advance() {
            let t = stream.token();
            f(t.offset_from, t.offset_to, &t.text);
        }
    }

    /// The terms of `text` under a language analyzer, grouped by position: each inner list
    /// holds the forms of one word (one, or two for a folded Polish or English word). At most
    /// `max_words` words.
    pub(crate) fn positions(&mut self, analyzer: Analyzer, text: &str, max_words: usize) -> Vec<Vec<String>> {
        let mut out: Vec<Vec<String>> = Vec::new();
        let mut last = usize::MAX;
        let mut stream = self.analyzers[analyzer as usize].token_stream(text);
        while stream.advance() {
            let t = stream.token();
            if t.position != last || out.is_empty() {
                if out.len() == max_words {
                    break;
                }
                out.push(Vec::new());
                last = t.position;
            }
            if let Some(forms) = out.last_mut()
                && !forms.contains(&t.text)
            {
                forms.push(t.text.clone());
            }
        }
        out
    }

    /// The simple field's view of one query word: its words (all must match) and the whole
    /// identifiers it may match instead (the word with its punctuation, its digits joined).
    pub(crate) fn simple_parts(&mut self, text: &str, max_words: usize) -> (Vec<String>, Vec<String>) {
        let (mut words, mut whole) = (Vec::new(), Vec::new());
        let mut raw = Vec::new();
        scan(text, |t| raw.push(t));
        for t in raw {
            let list = match t.piece {
                Piece::Word if words.len() < max_words => &mut words,
                Piece::Compound | Piece::Join | Piece::Tail => &mut whole,
                Piece::Word | Piece::Suffix => continue,
            };
            let mut stream = self.simple_norm.token_stream(&t.text);
            if stream.advance() {
                let norm = &stream.token().text;
                if norm.len() < MAX_TOKEN_BYTES && !list.contains(norm) {
                    list.push(norm.clone());
                }
            }
        }
        (words, whole)
    }
}

/// The stemming (and folding) step of the language analyzers.
#[derive(Clone)]
struct StemFold {
    language: Language,
}

impl TokenFilter for StemFold {
    type Tokenizer<T: Tokenizer> = StemFoldFilter<T>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> StemFoldFilter<T> {
        StemFoldFilter { language: self.language, inner: tokenizer }
    }
}

#[derive(Clone)]
struct StemFoldFilter<T> {
    language: Language,
    inner: T,
}

impl<T: Tokenizer> Tokenizer for StemFoldFilter<T> {
    type TokenStream<'a> = StemFoldStream<T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        StemFoldStream {
            tail: self.inner.token_stream(text),
            language: self.language,
            stemmer: Stemmer::new(algorithm(self.language)),
            pending: None,
        }
    }
}

struct StemFoldStream<S> {
    tail: S,
    language: Language,
    stemmer: Stemmer,
    /// The second form of the last word, given at the same position on the next advance.
    pending: Option<String>,
}

impl<S: TokenStream> TokenStream for StemFoldStream<S> {
    fn advance(&mut self) -> bool {
        if let Some(second) = self.pending.take() {
            self.tail.token_mut().text = second;
            return true;
        }
        if !self.tail.advance() {
            return false;
        }
        let token = self.tail.token_mut();
        let (first, second) = stem_forms(&self.stemmer, self.language, &token.text);
        token.text = first;
        self.pending = second;
        true
    }

    fn token(&self) -> &Token {
        self.tail.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.tail.token_mut()
    }
}

fn algorithm(language: Language) -> Algorithm {
    match language {
        Language::Ru => Algorithm::Russian,
        Language::Pl => Algorithm::Polish,
        Language::En => Algorithm::English,
    }
}

/// The forms a lowercased word is indexed as: the stem (folded for Polish and English), and for
/// a Polish or English word with diacritics also the folded stem of its folded form when that
/// differs.
fn stem_forms(stemmer: &Stemmer, language: Language, word: &str) -> (String, Option<String>) {
    match language {
        Language::Ru => {
            if word.contains('ё') {
                (stemmer.stem(&word.replace('ё', "е")).into_owned(), None)
            } else {
                (stemmer.stem(word).into_owned(), None)
            }
        }
        Language::Pl | Language::En => {
            let first = fold(&stemmer.stem(word));
            if word.is_ascii() {
                // Polish typed without diacritics: `-ow` is most often `-ów` (genitive plural),
                // which the stemmer removes only when written so (`zwrotow` meets `zwrot`).
                let second = (language == Language::Pl && word.len() > 4)
                    .then(|| word.strip_suffix("ow"))
                    .flatten()
                    .map(|stem| fold(&stemmer.stem(&format!("{stem}ów"))))
                    .filter(|second| *second != first);
                return (first, second);
            }
            let second = fold(&stemmer.stem(&fold(word)));
            let second = (second != first).then_some(second);
            (first, second)
        }
    }
}

/// `text` (lowercase) with Latin letters' diacritics removed: `żółć` → `zolc`, `straße` →
/// `strasse`. Other characters are kept.
pub(crate) fn fold(text: &str) -> String {
    if text.is_ascii() {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match fold_char(c) {
            Some(s) => out.push_str(s),
            None => out.push(c),
        }
    }
    out
}

/// Lowercase Latin-1 and Latin Extended-A letters to ASCII.
fn fold_char(c: char) -> Option<&'static str> {
    Some(match c {
        'ß' => "ss",
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => "a",
        'æ' => "ae",
        'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' => "c",
        'ď' | 'đ' | 'ð' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => "e",
        'ĝ' | 'ğ' | 'ġ' | 'ģ' => "g",
        'ĥ' | 'ħ' => "h",
        'ì' | 'í' | 'î' | 'ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' => "i",
        'ĳ' => "ij",
        'ĵ' => "j",
        'ķ' | 'ĸ' => "k",
        'ĺ' | 'ļ' | 'ľ' | 'ŀ' | 'ł' => "l",
        'ñ' | 'ń' | 'ņ' | 'ň' | 'ŉ' | 'ŋ' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ŏ' | 'ő' => "o",
        'œ' => "oe",
        'ŕ' | 'ŗ' | 'ř' => "r",
        'ś' | 'ŝ' | 'ş' | 'š' | 'ſ' => "s",
        'ţ' | 'ť' | 'ŧ' => "t",
        'þ' => "th",
        'ù' | 'ú' | 'û' | 'ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' => "u",
        'ŵ' => "w",
        'ý' | 'ÿ' | 'ŷ' => "y",
        'ź' | 'ż' | 'ž' => "z",
        _ => return None,
    })
}

pub(crate) fn is_cyrillic(c: char) -> bool {
    ('\u{0400}'..='\u{04FF}').contains(&c)
}

/// A letter of the Latin script as language detection counts it (ASCII, Latin-1 to Latin
/// Extended-B).
pub(crate) fn is_latin(c: char) -> bool {
    c.is_ascii_alphabetic() || ('\u{00C0}'..='\u{024F}').contains(&c)
}

/// What a piece of the simple analyzer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Piece {
    /// A run of letters and digits.
    Word,
    /// A whole run with inner punctuation: `order-1001`, `anna@example.com`.
    Compound,
    /// The digits of a number written in groups, joined: `48601234567`.
    Join,
    /// A later part of such a number, joined: `601234567` of `+48 601 234 567`. Indexed, not
    /// looked up (a query's groups are all meant).
    Suffix,
    /// The last 9 or 10 digits of an 11- to 15-digit number.
    Tail,
}

#[derive(Debug, Clone)]
pub(crate) struct RawToken {
    pub from: usize,
    pub to: usize,
    pub position: usize,
    pub piece: Piece,
    pub text: String,
}

/// Characters that end a chunk (besides whitespace). Others (`-`, `@`, `.`, `_`, `/`, `:`, `+`,
/// `#`) are inner punctuation of identifiers.
pub(crate) fn is_separator(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            ',' | ';'
                | '('
                | ')'
                | '['
                | ']'
                | '{'
                | '}'
                | '<'
                | '>'
                | '"'
                | '\''
                | '`'
                | '«'
                | '»'
                | '“'
                | '”'
                | '„'
                | '‘'
                | '’'
                | '!'
                | '?'
                | '|'
                | '*'
                | '…'
                | '='
                | '~'
                | '^'
                | '\\'
        )
}

/// The chunks of `text` (runs of non-separators) trimmed to their first and last letter or
/// digit: `(start, end)` byte offsets, empty chunks skipped.
pub(crate) fn chunks(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut rest = text.char_indices().peekable();
    std::iter::from_fn(move || {
        loop {
            while rest.next_if(|&(_, c)| is_separator(c)).is_some() {}
            let (start, _) = *rest.peek()?;
            let mut end = start;
            while let Some((i, c)) = rest.next_if(|&(_, c)| !is_separator(c)) {
                end = i + c.len_utf8();
            }
            if let Some(core) = trim_to_alphanumeric(text, start, end) {
                return Some(core);
            }
        }
    })
}

fn trim_to_alphanumeric(text: &str, start: usize, end: usize) -> Option<(usize, usize)> {
    let chunk = &text[start..end];
    let a = chunk.char_indices().find(|(_, c)| c.is_alphanumeric())?.0;
    let (b, c) = chunk.char_indices().rev().find(|(_, c)| c.is_alphanumeric())?;
    Some((start + a, start + b + c.len_utf8()))
}

/// A chunk made of digit groups only (`601`, `123-45-67`, `12.34`).
pub(crate) fn is_digit_chunk(chunk: &str) -> bool {
    chunk.chars().all(|c| c.is_ascii_digit() || c == '-' || c == '.')
}

/// Whether two digit chunks with `gap` between them are parts of one number: short gaps of
/// spaces, brackets, `+`, `-` and `.` only (no line break).
pub(crate) fn joins_digits(gap: &str) -> bool {
    gap.chars().count() <= 4 && gap.chars().all(|c| matches!(c, ' ' | '\t' | '\u{a0}' | '(' | ')' | '+' | '-' | '.'))
}

/// Longest digit span joined (groups).
const MAX_SPAN_GROUPS: usize = 8;

/// The simple analyzer's pieces of `text`, unnormalised (see the module doc).
pub(crate) fn scan(text: &str, mut emit: impl FnMut(RawToken)) {
    let mut position = 0usize;
    // Digit groups of the current number: (from, to, position).
    let mut span: Vec<(usize, usize, usize)> = Vec::new();
    for (start, end) in chunks(text) {
        let core = &text[start..end];
        let digits = is_digit_chunk(core);
        if !span.is_empty() {
            let span_end = span.last().map_or(0, |g| g.1);
            if !digits || !joins_digits(&text[span_end..start]) || span.len() >= MAX_SPAN_GROUPS {
                flush_span(text, &mut span, &mut emit);
            }
        }
        let first_position = position;
        let mut words = 0usize;
        let mut run: Option<usize> = None;
        for (i, c) in core.char_indices().chain(std::iter::once((core.len(), ' '))) {
            match (run, c.is_alphanumeric()) {
                (None, true) => run = Some(i),
                (Some(from), false) => {
                    let (from, to) = (start + from, start + i);
                    emit(RawToken { from, to, position, piece: Piece::Word, text: text[from..to].to_owned() });
                    if digits {
                        span.push((from, to, position));
                    }
                    position += 1;
                    words += 1;
                    run = None;
                }
                _ => {}
            }
        }
        if words > 1 {
            emit(RawToken { from: start, to: end, position: first_position, piece: Piece::Compound, text: core.to_owned() });
        }
    }
    flush_span(text, &mut span, &mut emit);
}

fn flush_span(text: &str, span: &mut Vec<(usize, usize, usize)>, emit: &mut impl FnMut(RawToken)) {
    let Some(&(_, to, _)) = span.last() else { return };
    let mut emitted: Vec<String> = Vec::new();
    let mut push = |from: usize, position: usize, piece: Piece, joined: String, emit: &mut dyn FnMut(RawToken)| {
        if !emitted.contains(&joined) {
            emitted.push(joined.clone());
            emit(RawToken { from, to, position, piece, text: joined });
        }
    };
    for (i, &(from, _, position)) in span.iter().enumerate().take(span.len().saturating_sub(1)) {
        let joined: String = span[i..].iter().map(|&(f, t, _)| &text[f..t]).collect();
        if i == 0 {
            push(from, position, Piece::Join, joined, &mut *emit);
        } else if joined.len() >= 6 {
            push(from, position, Piece::Suffix, joined, &mut *emit);
        }
    }
    let all: String = span.iter().map(|&(f, t, _)| &text[f..t]).collect();
    if (11..=15).contains(&all.len()) {
        let (from, position) = (span[0].0, span[0].2);
        for n in [9, 10] {
            push(from, position, Piece::Tail, all[all.len() - n..].to_owned(), &mut *emit);
        }
    }
    span.clear();
}

/// The simple analyzer's tokenizer: [`scan`]'s pieces as tantivy tokens.
#[derive(Clone, Default)]
struct IdTokenizer {
    tokens: Vec<Token>,
}

struct IdTokenStream<'a> {
    tokens: &'a mut Vec<Token>,
    next: usize,
    empty: Token,
}

impl Tokenizer for IdTokenizer {
    type TokenStream<'a> = IdTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> IdTokenStream<'a> {
        self.tokens.clear();
        scan(text, |t| {
            self.tokens.push(Token { offset_from: t.from, offset_to: t.to, position: t.position, text: t.text, position_length: 1 })
        });
        IdTokenStream { tokens: &mut self.tokens, next: 0, empty: Token::default() }
    }
}

impl TokenStream for IdTokenStream<'_> {
    fn advance(&mut self) -> bool {
        if self.next < self.tokens.len() {
            self.next += 1;
            true
        } else {
            false
        }
    }

    fn token(&self) -> &Token {
        self.next.checked_sub(1).and_then(|i| self.tokens.get(i)).unwrap_or(&self.empty)
    }

    fn token_mut(&mut self) -> &mut Token {
        match self.next.checked_sub(1).and_then(|i| self.tokens.get_mut(i)) {
            Some(t) => t,
            None => &mut self.empty,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(analyzer: Analyzer, text: &str) -> Vec<String> {
        let mut a = Analyzers::new();
        let mut out = Vec::new();
        a.for_each_token(analyzer, text, |_, _, t| out.push(t.to_owned()));
        out
    }

    #[test]
    fn lowercasing_covers_cyrillic_and_polish_capitals() {
        assert_eq!(terms(Analyzer::Simple, "ПРИВЕТ Привет ŻÓŁTY"), ["привет", "привет", "zolty"]);
        assert_eq!(terms(Analyzer::Ru, "ПРИВЕТ"), terms(Analyzer::Ru, "привет"));
        assert_eq!(terms(Analyzer::Pl, "ŻÓŁTY")[0], terms(Analyzer::Pl, "żółty")[0]);
    }

    #[test]
    fn yo_is_read_as_ye() {
        assert_eq!(terms(Analyzer::Ru, "ещё"), terms(Analyzer::Ru, "еще"));
    }

    #[test]
    fn identifiers_and_phone_numbers_are_whole_pieces_too() {
        assert_eq!(terms(Analyzer::Simple, "ORDER-1001."), ["order", "1001", "order-1001"]);
        assert_eq!(terms(Analyzer::Simple, "(anna@example.com)"), ["anna", "example", "com", "anna@example.com"]);
        let phone = terms(Analyzer::Simple, "tel. +48 601 234 567, thanks");
        for t in ["48", "601", "234", "567", "48601234567", "601234567", "234567", "8601234567"] {
            assert!(phone.contains(&t.to_owned()), "{t} in {phone:?}");
        }
        let ru = terms(Analyzer::Simple, "+7 (916) 123-45-67");
        for t in ["79161234567", "9161234567", "123-45-67"] {
            assert!(ru.contains(&t.to_owned()), "{t} in {ru:?}");
        }
        // A line break ends a number.
        assert!(!terms(Analyzer::Simple, "601\n234").contains(&"601234".to_owned()));
    }

    #[test]
    fn chunks_are_trimmed_to_letters_and_digits() {
        let text = "  \"(hello)\", +48 -- ::  a.b. ";
        let got: Vec<&str> = chunks(text).map(|(s, e)| &text[s..e]).collect();
        assert_eq!(got, ["hello", "48", "a.b"]);
    }

    #[test]
    fn long_tokens_are_dropped() {
        let long = "a".repeat(MAX_TOKEN_BYTES);
        assert!(terms(Analyzer::En, &long).is_empty());
        assert!(terms(Analyzer::Simple, &long).is_empty());
    }
}
