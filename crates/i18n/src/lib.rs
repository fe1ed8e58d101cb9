//! Translations of every user-facing string (English, Russian, Polish) in Fluent files
//! (`locales/*.ftl`: plurals by each language's CLDR rules), and locale negotiation.
#![forbid(unsafe_code)]

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
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

    /// The language of an exact code (`en`, `ru`, `pl`).
    pub fn from_code(code: &str) -> Option<Lang> {
        Lang::ALL.into_iter().find(|l| l.code() == code)
    }

    fn source(self) -> &'static str {
        match self {
            Lang::En => include_str!("../locales/en.ftl"),
            Lang::Ru => include_str!("../locales/ru.ftl"),
            Lang::Pl => include_str!("../locales/pl.ftl"),
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
            if let Some(lang) = Lang::from_code(primary)
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
        Lang::from_code(&code).unwrap_or(Lang::En)
    }
}

type Bundle = FluentBundle<FluentResource>;

/// One bundle per language, parsed once. A syntax error in a shipped file is a bug the tests
/// catch (`every_locale_parses_and_has_every_message`); at run time the entries that parsed
/// are still used.
fn bundles() -> &'static HashMap<Lang, Bundle> {
    static BUNDLES: OnceLock<HashMap<Lang, Bundle>> = OnceLock::new();
    BUNDLES.get_or_init(|| Lang::ALL.into_iter().map(|lang| (lang, bundle(lang).0)).collect())
}

/// The bundle of `lang` and the syntax errors of its file.
fn bundle(lang: Lang) -> (Bundle, Vec<String>) {
    let mut errors = Vec::new();
    let resource = FluentResource::try_new(lang.source().to_owned()).unwrap_or_else(|(partial, e)| {
        errors.extend(e.iter().map(|e| format!("{e:?}")));
        partial
    });
    let id: unic_langid::LanguageIdentifier = lang.code().parse().unwrap_or_default();
    let mut bundle = FluentBundle::new_concurrent(vec![id]);
    // Plain text out (JSON, logs, mail): no Unicode isolation marks around values.
    bundle.set_use_isolating(false);
    if let Err(e) = bundle.add_resource(resource) {
        errors.extend(e.iter().map(|e| format!("{e:?}")));
    }
    (bundle, errors)
}

/// The message `key` (dots in the code, dashes in the files) in `lang` with its variables;
/// falls back to English, then to the key itself, so a missing translation is visible but never
/// fatal. A value that is a whole number is passed as a number, so that plurals choose by it.
pub fn t(lang: Lang, key: &str, args: &[(&str, &str)]) -> String {
    let id = key.replace('.', "-");
    let mut fluent_args = FluentArgs::new();
    for (name, value) in args {
        match value.parse::<i64>() {
            Ok(n) if !value.starts_with('0') || *value == "0" => fluent_args.set(*name, FluentValue::from(n)),
            _ => fluent_args.set(*name, FluentValue::from(*value)),
        }
    }
    let all = bundles();
    for bundle in [&all[&lang], &all[&Lang::En]] {
        if let Some(pattern) = bundle.get_message(&id).and_then(|m| m.value()) {
            let mut errors = Vec::new();
            return bundle.format_pattern(pattern, Some(&fluent_args), &mut errors).into_owned();
        }
    }
    key.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Message ids and the variables each message uses, read from the file.
    fn messages(lang: Lang) -> HashMap<String, Vec<String>> {
        let mut out: HashMap<String, Vec<String>> = HashMap::new();
        let mut current = None;
        for line in lang.source().lines() {
            if let Some((id, _)) = line.split_once(" =").filter(|_| !line.starts_with([' ', '#'])) {
                current = Some(id.trim().to_owned());
                out.entry(id.trim().to_owned()).or_default();
            }
            if let Some(id) = &current {
                let vars = out.entry(id.clone()).or_default();
                for part in line.split("$").skip(1) {
                    let name: String = part.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                    if !vars.contains(&name) {
                        vars.push(name);
                    }
                }
                vars.sort();
            }
        }
        out
    }

    #[test]
    fn every_locale_parses_and_has_every_message_with_the_same_variables() {
        for lang in Lang::ALL {
            assert_eq!(bundle(lang).1, Vec::<String>::new(), "{lang:?} parses without errors");
        }
        let en = messages(Lang::En);
        assert!(en.len() > 10, "the English catalogue parsed");
        for lang in [Lang::Ru, Lang::Pl] {
            let other = messages(lang);
            assert_eq!(other.len(), en.len(), "{lang:?} has the same number of messages");
            for (id, vars) in &en {
                assert_eq!(other.get(id), Some(vars), "{lang:?} {id}");
            }
        }
    }

    #[test]
    fn plurals_follow_each_language() {
        let demo = |lang, n: &str| t(lang, "cli.demo_done", &[("workspace", "default"), ("conversations", n)]);
        assert_eq!(demo(Lang::En, "1"), "Demo data created in workspace default: 1 conversation.");
        assert_eq!(demo(Lang::En, "5"), "Demo data created in workspace default: 5 conversations.");
        assert!(demo(Lang::Ru, "1").ends_with("1 обращение."));
        assert!(demo(Lang::Ru, "3").ends_with("3 обращения."));
        assert!(demo(Lang::Ru, "11").ends_with("11 обращений."));
        assert!(demo(Lang::Ru, "21").ends_with("21 обращение."));
        assert!(demo(Lang::Pl, "1").ends_with("1 rozmowa."));
        assert!(demo(Lang::Pl, "22").ends_with("22 rozmowy."));
        assert!(demo(Lang::Pl, "25").ends_with("25 rozmów."));
        let ack = t(Lang::En, "email.acknowledgement", &[("number", "42")]);
        assert!(ack.starts_with("Hello,\n\nwe have received") && ack.contains("request #42."), "{ack}");
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
