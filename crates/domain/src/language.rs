//! The languages content is written in (Russian, Polish, English) and how a text's language is
//! told: by its alphabet first, then by letters and short words only one of the Latin-script
//! languages uses. Deterministic and linear in the text; no model.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A content language: a knowledge-base locale, the stemmer a text is indexed with, the
/// language a customer wrote in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Ru,
    Pl,
    En,
}

impl Language {
    pub const ALL: [Language; 3] = [Language::Ru, Language::Pl, Language::En];

    /// The ISO 639-1 code: `ru`, `pl`, `en`.
    pub const fn code(self) -> &'static str {
        match self {
            Language::Ru => "ru",
            Language::Pl => "pl",
            Language::En => "en",
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown language: expected ru, pl or en")]
pub struct UnknownLanguage;

impl FromStr for Language {
    type Err = UnknownLanguage;
    /// An exact code, any case (`ru`, `PL`); a region suffix (`ru-RU`, `pl_PL`, `en-GB`) is
    /// ignored, since the stemmers and the knowledge base do not tell regions apart.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let base = s.split(['-', '_']).next().unwrap_or("").trim().to_ascii_lowercase();
        Language::ALL.into_iter().find(|l| l.code() == base).ok_or(UnknownLanguage)
    }
}

/// Letters only Polish uses among the three languages.
const POLISH_LETTERS: &[char] = &['ą', 'ć', 'ę', 'ł', 'ń', 'ó', 'ś', 'ź', 'ż', 'Ą', 'Ć', 'Ę', 'Ł', 'Ń', 'Ó', 'Ś', 'Ź', 'Ż'];

/// Short, frequent Polish words that are not English words (customers often type without
/// diacritics: `nie dziala`, `jak zwrocic`).
const POLISH_WORDS: &[&str] = &[
    "nie",
    "jest",
    "jak",
    "czy",
    "sie",
    "się",
    "mam",
    "moje",
    "moja",
    "mój",
    "moj",
    "dla",
    "oraz",
    "ale",
    "jestem",
    "chce",
    "chcę",
    "dzien",
    "dzień",
    "dobry",
    "prosze",
    "proszę",
    "dziekuje",
    "dziękuję",
    "gdzie",
    "kiedy",
    "jaki",
    "jaka",
    "jakie",
    "zamowienie",
    "zamówienie",
    "przez",
    "juz",
    "już",
    "tak",
    "nic",
    "ktory",
    "który",
    "ze",
    "że",
    "po",
    "na",
    "za",
    "od",
    "do",
    "bez",
    "pan",
    "pani",
    "mnie",
    "moge",
    "mogę",
    "jeszcze",
    "teraz",
    "tylko",
    "bardzo",
    "co",
    "zwrot",
    "zwrotu",
];

/// Short, frequent English words that are not Polish words.
const ENGLISH_WORDS: &[&str] = &[
    "the", "is", "are", "my", "how", "what", "where", "when", "why", "you", "your", "and", "or", "not", "can", "could", "would", "with",
    "have", "has", "this", "that", "it", "of", "for", "from", "hello", "hi", "please", "thanks", "thank", "order", "refund", "does", "do",
    "i", "me", "was", "were", "want", "need", "help", "an", "a", "there", "get", "return",
];

/// What a text shows of its language: letters of each script and marker words.
#[derive(Debug, Default)]
struct Evidence {
    cyrillic: usize,
    latin: usize,
    polish_letters: usize,
    polish_words: usize,
    english_words: usize,
}

impl Evidence {
    /// Letters are counted in one pass; marker words only when Latin letters are there.
    fn of(text: &str) -> Self {
        let mut e = Evidence::default();
        for c in text.chars() {
            if ('\u{0400}'..='\u{04FF}').contains(&c) {
                e.cyrillic += 1;
            } else if c.is_alphabetic() && (c.is_ascii_alphabetic() || ('\u{00C0}'..='\u{024F}').contains(&c)) {
                e.latin += 1;
                if POLISH_LETTERS.contains(&c) {
                    e.polish_letters += 1;
                }
            }
        }
        if e.latin == 0 || e.polish_letters > 0 {
            return e;
        }
        for word in text.split(|c: char| !c.is_alphabetic()).filter(|w| !w.is_empty()) {
            // Marker words are short; a long word is never one (and is not lowered needlessly).
            if word.len() > 12 {
                continue;
            }
            let word = word.to_lowercase();
            if POLISH_WORDS.contains(&word.as_str()) {
                e.polish_words += 1;
            }
            if ENGLISH_WORDS.contains(&word.as_str()) {
                e.english_words += 1;
            }
        }
        e
    }

    /// The Latin-script language the Latin letters point to: Polish letters or more Polish
    /// marker words mean Polish, anything else English.
    fn latin_language(&self) -> Language {
        if self.polish_letters > 0 || self.polish_words > self.english_words { Language::Pl } else { Language::En }
    }
}

/// The language `text` is most likely written in; `None` when it has no letters at all.
///
/// Cyrillic letters outnumbering Latin ones mean Russian. Otherwise a Polish letter
/// (`ą ć ę ł ń ó ś ź ż`) or more Polish than English marker words mean Polish, and anything
/// else in Latin script is English (the default of the three for unknown Latin-script text).
pub fn detect(text: &str) -> Option<Language> {
    detect_from(&Evidence::of(text))
}

fn detect_from(e: &Evidence) -> Option<Language> {
    if e.cyrillic == 0 && e.latin == 0 {
        return None;
    }
    if e.cyrillic > e.latin {
        return Some(Language::Ru);
    }
    Some(e.latin_language())
}

/// Every language `text` may be written in, [`detect`]'s first: Russian when it has Cyrillic
/// letters, and for its Latin letters (two or more) the Latin-script language they point to —
/// or both Polish and English when nothing tells them apart (no Polish letter, as many Polish as
/// English marker words: a name, `Zwroty towarow`). For indexing a text under every stemmer
/// that may apply to its words; empty for a text without letters.
pub fn detect_all(text: &str) -> Vec<Language> {
    let e = Evidence::of(text);
    let mut all: Vec<Language> = detect_from(&e).into_iter().collect();
    let mut add = |l: Language| {
        if !all.contains(&l) {
            all.push(l);
        }
    };
    if e.cyrillic > 0 {
        add(Language::Ru);
    }
    if e.latin >= 2 {
        add(e.latin_language());
        if e.polish_letters == 0 && e.polish_words == e.english_words {
            add(Language::Pl);
            add(Language::En);
        }
    }
    all
}

/// `detect`, or `fallback` for a text without letters (`"?"`, `"123"`).
pub fn detect_or(text: &str, fallback: Language) -> Language {
    detect(text).unwrap_or(fallback)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_alphabet_decides_first() {
        assert_eq!(detect("Привет, как вернуть товар?"), Some(Language::Ru));
        assert_eq!(detect("ВОЗВРАТ order #1234"), Some(Language::Ru));
        assert_eq!(detect("Zażółć gęślą jaźń"), Some(Language::Pl));
        assert_eq!(detect("How do I get a refund?"), Some(Language::En));
    }

    #[test]
    fn polish_without_diacritics_is_told_by_its_words() {
        assert_eq!(detect("jak zwrocic zamowienie, nie dziala"), Some(Language::Pl));
        assert_eq!(detect("Dzien dobry, gdzie jest moje zamowienie"), Some(Language::Pl));
        assert_eq!(detect("where is my order"), Some(Language::En));
    }

    #[test]
    fn every_language_a_text_may_be_in() {
        assert_eq!(detect_all("Привет, как вернуть товар?"), [Language::Ru]);
        assert_eq!(detect_all("Возврат заказа, order"), [Language::Ru, Language::En]);
        assert_eq!(detect_all("Иван Петров, ivan.petrov@example.org"), [Language::En, Language::Ru, Language::Pl]);
        assert_eq!(detect_all("Zażółć gęślą jaźń"), [Language::Pl]);
        assert_eq!(detect_all("How do I get a refund?"), [Language::En]);
        assert_eq!(detect_all("jak zwrocic zamowienie, nie dziala"), [Language::Pl]);
        assert_eq!(detect_all("Jan Kowalski"), [Language::En, Language::Pl]);
        assert_eq!(detect_all("Zwroty towarow"), [Language::En, Language::Pl]);
        assert_eq!(detect_all("Привет X"), [Language::Ru]);
        assert!(detect_all("123 ?!").is_empty());
    }

    #[test]
    fn no_letters_no_language() {
        assert_eq!(detect("123 ?!"), None);
        assert_eq!(detect(""), None);
        assert_eq!(detect_or("42", Language::Pl), Language::Pl);
    }

    #[test]
    fn codes_parse_with_or_without_a_region() {
        assert_eq!("ru-RU".parse::<Language>(), Ok(Language::Ru));
        assert_eq!("PL".parse::<Language>(), Ok(Language::Pl));
        assert_eq!("en_GB".parse::<Language>(), Ok(Language::En));
        assert!("de".parse::<Language>().is_err());
        assert!("".parse::<Language>().is_err());
    }
}
