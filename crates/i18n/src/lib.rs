//! Translations of every user-facing string (English, Russian, Polish) and locale negotiation.
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::sync::OnceLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    En,
    Ru,
    Pl,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::En, Lang::Ru, Lang::Pl];

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ru => "ru",
            Lang::Pl => "pl",
        }
    }

    fn source(self) -> &'static str {
        match self {
            Lang::En => include_str!("../locales/en.toml"),
            Lang::Ru => include_str!("../locales/ru.toml"),
            Lang::Pl => include_str!("../locales/pl.toml"),
        }
    }

    /// The best supported language for an `Accept-Language` header (q-values respected).
    pub fn negotiate(accept_language: Option<&str>) -> Lang {
        let Some(header) = accept_language else { return Lang::En };
        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',') {
            let mut pieces = part.trim().split(';');
            let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = pieces.find_map(|p| p.trim().strip_prefix("q=").and_then(|q| q.parse::<f32>().ok())).unwrap_or(1.0);
            let primary = tag.split('-').next().unwrap_or("");
            if let Some(lang) = Lang::ALL.into_iter().find(|l| l.code() == primary)
                && best.is_none_or(|(bq, _)| q > bq)
            {
                best = Some((q, lang));
            }
        }
        best.map_or(Lang::En, |(_, l)| l)
    }

    /// Same as [`Lang::negotiate`] for a `LANG`-style environment value (`ru_RU.UTF-8`).
    pub fn from_env_locale(value: Option<&str>) -> Lang {
        let code = value.unwrap_or("").split(['_', '.', '-']).next().unwrap_or("").to_ascii_lowercase();
        Lang::ALL.into_iter().find(|l| l.code() == code).unwrap_or(Lang::En)
    }
}

fn catalogues() -> &'static HashMap<Lang, HashMap<String, String>> {
    static CATALOGUES: OnceLock<HashMap<Lang, HashMap<String, String>>> = OnceLock::new();
    CATALOGUES.get_or_init(|| {
        Lang::ALL
            .into_iter()
            .map(|lang| {
                let table: HashMap<String, String> = toml::from_str(lang.source()).unwrap_or_default();
                (lang, table)
            })
            .collect()
    })
}

/// The message `key` in `lang` with `{name}` placeholders filled; falls back to English, then
/// to the key itself, so a missing translation is visible but never fatal.
pub fn t(lang: Lang, key: &str, args: &[(&str, &str)]) -> String {
    let cats = catalogues();
    let template =
        cats.get(&lang).and_then(|c| c.get(key)).or_else(|| cats.get(&Lang::En).and_then(|c| c.get(key))).map_or(key, String::as_str);
    let mut out = template.to_owned();
    for (name, value) in args {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_locale_has_every_key_with_the_same_placeholders() {
        let cats = catalogues();
        let en = &cats[&Lang::En];
        assert!(en.len() > 10, "the English catalogue parsed");
        let placeholders = |s: &str| {
            let mut p: Vec<String> = s.split('{').skip(1).filter_map(|x| x.split_once('}').map(|(n, _)| n.to_owned())).collect();
            p.sort();
            p
        };
        for lang in [Lang::Ru, Lang::Pl] {
            let cat = &cats[&lang];
            assert_eq!(cat.len(), en.len(), "{lang:?} has the same number of keys");
            for (key, text) in en {
                let other = cat.get(key).unwrap_or_else(|| panic!("{lang:?} lacks {key}"));
                assert_eq!(placeholders(other), placeholders(text), "{lang:?} {key}");
            }
        }
    }

    #[test]
    fn negotiation_and_substitution() {
        assert_eq!(Lang::negotiate(Some("pl-PL,pl;q=0.9,en;q=0.5")), Lang::Pl);
        assert_eq!(Lang::negotiate(Some("de, ru;q=0.3, en;q=0.2")), Lang::Ru);
        assert_eq!(Lang::negotiate(Some("fr")), Lang::En);
        assert_eq!(Lang::negotiate(None), Lang::En);
        assert_eq!(Lang::from_env_locale(Some("ru_RU.UTF-8")), Lang::Ru);
        assert_eq!(t(Lang::Ru, "error.missing_field", &[("field", "text")]), "Поле text обязательно");
        assert_eq!(t(Lang::Pl, "no.such.key", &[]), "no.such.key");
    }
}
