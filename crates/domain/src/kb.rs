//! The knowledge base's content model and its one rule for what may be served: an article with
//! variants by locale and kind, the ways customers ask it, a review date after which it is
//! stale, and the versions that tell a translation left behind (outdated) from a current one.
//! The help center, the bot, the answer API and the agent's suggestions all ask `serve`.

use crate::channel::ChannelKind;
use crate::language::Language;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Whether customers may see an article at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArticleStatus {
    Draft,
    Published,
}

impl ArticleStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Published => "published",
        }
    }
}

impl FromStr for ArticleStatus {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "draft" => Ok(Self::Draft),
            "published" => Ok(Self::Published),
            _ => Err(UnknownValue),
        }
    }
}

/// The form one unit of knowledge takes for one audience.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VariantKind {
    /// The help-center article; also what an email answer links to.
    Web,
    /// A chat or messenger answer: a few sentences.
    Short,
    /// What an IVR reads aloud.
    Spoken,
    /// Instructions only agents see.
    Agent,
}

impl VariantKind {
    pub const ALL: [VariantKind; 4] = [Self::Web, Self::Short, Self::Spoken, Self::Agent];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Web => "web",
            Self::Short => "short",
            Self::Spoken => "spoken",
            Self::Agent => "agent",
        }
    }
}

impl fmt::Display for VariantKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for VariantKind {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|k| k.as_str() == s).ok_or(UnknownValue)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown value")]
pub struct UnknownValue;

/// One variant as it stands: its text and the article versions that date it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variant {
    pub locale: Language,
    pub kind: VariantKind,
    pub title: String,
    /// Markdown.
    pub body: String,
    /// The article version in which this title or body last changed.
    pub changed_in: i64,
    /// The latest article version at which this variant was known to be current: when its text
    /// changed, or when someone confirmed it still says what the other locales say.
    pub current_as_of: i64,
}

/// A way a customer asks what the article answers, in one locale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    pub locale: Language,
    pub text: String,
}

/// The facts `serve` decides on: an article's state at its latest version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArticleState {
    pub version: i64,
    pub status: ArticleStatus,
    /// Stale after the end of this day (UTC).
    pub review_by: Option<time::Date>,
    pub variants: Vec<Variant>,
}

impl ArticleState {
    /// Whether the article's review date has passed on `today` (UTC).
    pub fn stale(&self, today: time::Date) -> bool {
        self.review_by.is_some_and(|by| today > by)
    }

    /// The latest version in which any variant of `locale` changed its text; 0 when it has none.
    pub fn latest_change_in(&self, locale: Language) -> i64 {
        self.variants.iter().filter(|v| v.locale == locale).map(|v| v.changed_in).max().unwrap_or(0)
    }

    /// Whether `variant` is older than the article's latest change in another locale (a
    /// translation left behind), until its text changes or someone confirms it.
    pub fn outdated(&self, variant: &Variant) -> bool {
        self.variants.iter().any(|other| other.locale != variant.locale && other.changed_in > variant.current_as_of)
    }

    pub fn variant(&self, locale: Language, kind: VariantKind) -> Option<&Variant> {
        self.variants.iter().find(|v| v.locale == locale && v.kind == kind)
    }
}

/// Where knowledge is shown: each surface takes one kind of variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Surface {
    /// A customer on a channel of this kind (the bot, the answer API).
    Channel(ChannelKind),
    /// A phone call that no channel of ours carries (an outside IVR asking the answer API).
    Phone,
    /// The public help center.
    HelpCenter,
}

impl Surface {
    /// The variant kind this surface serves: `spoken` for phone, `short` for chat and
    /// messengers, `web` for email and the help center (CONTRACT.md, "Knowledge base").
    pub const fn kind(self) -> VariantKind {
        match self {
            Surface::Phone | Surface::Channel(ChannelKind::TwilioVoice) => VariantKind::Spoken,
            Surface::HelpCenter | Surface::Channel(ChannelKind::Email) => VariantKind::Web,
            Surface::Channel(
                ChannelKind::Api
                | ChannelKind::Telegram
                | ChannelKind::Whatsapp
                | ChannelKind::Vk
                | ChannelKind::Viber
                | ChannelKind::TwilioSms
                | ChannelKind::Widget,
            ) => VariantKind::Short,
        }
    }

    /// `phone` or a channel kind's name (`email`, `telegram`…); `None` for anything else.
    pub fn parse(raw: &str) -> Option<Surface> {
        match raw {
            "phone" | "voice" | "ivr" => Some(Surface::Phone),
            "help_center" => Some(Surface::HelpCenter),
            other => other.parse::<ChannelKind>().ok().map(Surface::Channel),
        }
    }
}

/// Why a variant may not be shown to a customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unservable {
    Draft,
    /// Its `review_by` date has passed.
    Stale,
    /// No variant of the surface's kind in that locale.
    Missing,
    /// Older than the article's latest change in another locale.
    Outdated,
    /// `agent` variants are for agents only.
    AgentOnly,
}

impl Unservable {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Stale => "stale",
            Self::Missing => "missing",
            Self::Outdated => "outdated",
            Self::AgentOnly => "agent_only",
        }
    }
}

/// The one rule for what a customer may be shown: the variant of `locale` in the kind
/// `surface` takes, if the article is published, not stale on `today`, and that variant is not
/// outdated. Never another locale, never another kind (a web article is not cut into a chat
/// answer), never an `agent` variant. The first reason that applies otherwise, in the order
/// draft, stale, missing, outdated.
pub fn serve(article: &ArticleState, locale: Language, surface: Surface, today: time::Date) -> Result<&Variant, Unservable> {
    let kind = surface.kind();
    if kind == VariantKind::Agent {
        return Err(Unservable::AgentOnly);
    }
    if article.status != ArticleStatus::Published {
        return Err(Unservable::Draft);
    }
    if article.stale(today) {
        return Err(Unservable::Stale);
    }
    let variant = article.variant(locale, kind).ok_or(Unservable::Missing)?;
    if article.outdated(variant) {
        return Err(Unservable::Outdated);
    }
    Ok(variant)
}

const DATE: &[time::format_description::BorrowedFormatItem<'static>] = time::macros::format_description!("[year]-[month]-[day]");

/// A `YYYY-MM-DD` date (a `review_by`); `None` for anything else.
pub fn parse_date(raw: &str) -> Option<time::Date> {
    time::Date::parse(raw, DATE).ok()
}

/// A date as `YYYY-MM-DD`.
pub fn format_date(date: time::Date) -> String {
    date.format(DATE).unwrap_or_default()
}

/// Longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 300;
/// Largest variant body, in bytes.
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// Most variants one article has: every locale in every kind.
pub const MAX_VARIANTS: usize = 12;
/// Most ways of asking one article lists, over all locales.
pub const MAX_QUESTIONS: usize = 100;
/// Longest way of asking, in characters.
pub const MAX_QUESTION_CHARS: usize = 500;

/// A variant as an editor sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariantInput {
    pub locale: Language,
    pub kind: VariantKind,
    pub title: String,
    pub body: String,
}

/// Why an edit is refused: the input field at fault and what it should be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditError {
    pub field: String,
    pub message: String,
}

fn edit_error(field: impl Into<String>, message: impl Into<String>) -> EditError {
    EditError { field: field.into(), message: message.into() }
}

/// Checks an editor's variants and questions (bounded before any per-item work) and returns
/// them trimmed: titles 1 to `MAX_TITLE_CHARS` characters without control characters, bodies
/// 1 byte to `MAX_BODY_BYTES`, each (locale, kind) once, at least one variant.
pub fn clean_content(variants: &[VariantInput], questions: &[Question]) -> Result<(Vec<VariantInput>, Vec<Question>), EditError> {
    if variants.is_empty() {
        return Err(edit_error("variants", "at least one variant"));
    }
    if variants.len() > MAX_VARIANTS {
        return Err(edit_error("variants", format!("at most {MAX_VARIANTS} variants (3 locales × 4 kinds)")));
    }
    if questions.len() > MAX_QUESTIONS {
        return Err(edit_error("questions", format!("at most {MAX_QUESTIONS} questions")));
    }
    let mut cleaned: Vec<VariantInput> = Vec::with_capacity(variants.len());
    for (i, v) in variants.iter().enumerate() {
        let title = v.title.trim();
        if title.is_empty() || title.chars().count() > MAX_TITLE_CHARS || title.chars().any(char::is_control) {
            return Err(edit_error(format!("variants[{i}].title"), format!("1 to {MAX_TITLE_CHARS} printable characters")));
        }
        let body = v.body.trim();
        // Line breaks and tabs are Markdown's; other control characters are never text.
        if body.is_empty() || body.len() > MAX_BODY_BYTES || body.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
            return Err(edit_error(format!("variants[{i}].body"), format!("1 byte to {} KiB", MAX_BODY_BYTES / 1024)));
        }
        if cleaned.iter().any(|c| c.locale == v.locale && c.kind == v.kind) {
            return Err(edit_error(format!("variants[{i}]"), format!("a second {} variant in {}", v.kind, v.locale)));
        }
        cleaned.push(VariantInput { locale: v.locale, kind: v.kind, title: title.to_owned(), body: body.to_owned() });
    }
    let mut asked: Vec<Question> = Vec::with_capacity(questions.len());
    for (i, q) in questions.iter().enumerate() {
        let text = q.text.split_whitespace().collect::<Vec<_>>().join(" ");
        if text.is_empty() || text.chars().count() > MAX_QUESTION_CHARS || text.chars().any(char::is_control) {
            return Err(edit_error(format!("questions[{i}].text"), format!("1 to {MAX_QUESTION_CHARS} characters")));
        }
        if !asked.iter().any(|a| a.locale == q.locale && a.text == text) {
            asked.push(Question { locale: q.locale, text });
        }
    }
    Ok((cleaned, asked))
}

/// The variants after an edit that becomes version `version`: a variant whose title and body
/// are as before keeps its dates; a changed or new one is current as of `version`. Variants
/// left out are removed.
pub fn next_variants(previous: &[Variant], edited: Vec<VariantInput>, version: i64) -> Vec<Variant> {
    edited
        .into_iter()
        .map(|v| match previous.iter().find(|p| p.locale == v.locale && p.kind == v.kind) {
            Some(p) if p.title == v.title && p.body == v.body => p.clone(),
            _ => Variant { locale: v.locale, kind: v.kind, title: v.title, body: v.body, changed_in: version, current_as_of: version },
        })
        .collect()
}

/// Words in every supported language with which a customer asks for a person rather than
/// the bot (compared lower-cased, as whole words or phrases).
const PERSON_WORDS: &[&str] = &[
    // Russian, in the forms customers write them.
    "оператор",
    "оператора",
    "оператору",
    "оператором",
    "человек",
    "человека",
    "человеку",
    "живой",
    "живого",
    "сотрудник",
    "сотрудника",
    "менеджер",
    "менеджера",
    "консультант",
    "консультанта",
    "агент",
    "агента",
    "поддержка живая",
    // Polish.
    "konsultant",
    "konsultanta",
    "konsultantem",
    "konsultantka",
    "człowiek",
    "człowieka",
    "człowiekiem",
    "czlowiek",
    "czlowieka",
    "czlowiekiem",
    "operator",
    "operatora",
    "pracownik",
    "pracownika",
    "agent",
    "agenta",
    "żywa osoba",
    "zywa osoba",
    // English.
    "human",
    "person",
    "agent",
    "operator",
    "representative",
    "someone real",
    "real person",
    "live agent",
    "live chat",
];

/// Whether a customer's message asks for a person ("оператор", "człowiek", "human agent"…):
/// short messages only (at most 8 words), since a long one that mentions an operator in
/// passing is a question for the bot.
pub fn asks_for_person(text: &str) -> bool {
    let words: Vec<String> = text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).take(9).map(str::to_lowercase).collect();
    if words.is_empty() || words.len() > 8 {
        return false;
    }
    let joined = words.join(" ");
    PERSON_WORDS.iter().any(
        |p| {
            if p.contains(' ') { format!(" {joined} ").contains(&format!(" {p} ")) } else { words.iter().any(|w| w == p) }
        },
    )
}

/// What a customer's answer to "did this help?" says: `Some(true)` yes, `Some(false)` no,
/// `None` when it is neither (a new question).
pub fn feedback(text: &str) -> Option<bool> {
    let t = text.trim().trim_end_matches(['.', '!', ')']).trim().to_lowercase();
    const YES: &[&str] = &[
        "да",
        "да, помогло",
        "помогло",
        "спасибо",
        "tak",
        "tak, pomogło",
        "pomogło",
        "pomoglo",
        "dziękuję",
        "dziekuje",
        "yes",
        "yes, thanks",
        "it helped",
        "helped",
        "thanks",
        "thank you",
        "👍",
    ];
    const NO: &[&str] = &[
        "нет",
        "нет, не помогло",
        "не помогло",
        "nie",
        "nie, nie pomogło",
        "nie pomogło",
        "nie pomoglo",
        "no",
        "no, it didn't",
        "didn't help",
        "did not help",
        "it didn't help",
        "👎",
    ];
    if YES.contains(&t.as_str()) {
        Some(true)
    } else if NO.contains(&t.as_str()) {
        Some(false)
    } else {
        None
    }
}

/// A bot's answer counts as deflected when the same customer reached no agent on any channel
/// within this long after it (72 hours).
pub const DEFLECTION_WINDOW_MS: i64 = 72 * crate::time::HOUR_MS;

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn variant(locale: Language, kind: VariantKind, changed_in: i64, current_as_of: i64) -> Variant {
        Variant { locale, kind, title: "t".into(), body: "b".into(), changed_in, current_as_of }
    }

    fn article(variants: Vec<Variant>) -> ArticleState {
        let version = variants.iter().map(|v| v.current_as_of).max().unwrap_or(1);
        ArticleState { version, status: ArticleStatus::Published, review_by: Some(date!(2026 - 12 - 31)), variants }
    }

    const TODAY: time::Date = date!(2026 - 12 - 01);

    #[test]
    fn each_surface_takes_its_own_kind() {
        let a = article(vec![
            variant(Language::Ru, VariantKind::Short, 1, 1),
            variant(Language::Ru, VariantKind::Web, 1, 1),
            variant(Language::Ru, VariantKind::Spoken, 1, 1),
        ]);
        assert_eq!(serve(&a, Language::Ru, Surface::Channel(ChannelKind::Telegram), TODAY).map(|v| v.kind), Ok(VariantKind::Short));
        assert_eq!(serve(&a, Language::Ru, Surface::Channel(ChannelKind::Email), TODAY).map(|v| v.kind), Ok(VariantKind::Web));
        assert_eq!(serve(&a, Language::Ru, Surface::Channel(ChannelKind::TwilioVoice), TODAY).map(|v| v.kind), Ok(VariantKind::Spoken));
        assert_eq!(serve(&a, Language::Ru, Surface::Phone, TODAY).map(|v| v.kind), Ok(VariantKind::Spoken));
        assert_eq!(serve(&a, Language::Ru, Surface::HelpCenter, TODAY).map(|v| v.kind), Ok(VariantKind::Web));
        assert_eq!(serve(&a, Language::Pl, Surface::HelpCenter, TODAY), Err(Unservable::Missing), "never another locale");
    }

    #[test]
    fn drafts_and_stale_articles_are_never_served() {
        let mut a = article(vec![variant(Language::En, VariantKind::Short, 1, 1)]);
        let widget = Surface::Channel(ChannelKind::Widget);
        assert!(serve(&a, Language::En, widget, date!(2026 - 12 - 31)).is_ok(), "the review day itself is still fresh");
        assert_eq!(serve(&a, Language::En, widget, date!(2027 - 01 - 01)), Err(Unservable::Stale));
        a.status = ArticleStatus::Draft;
        assert_eq!(serve(&a, Language::En, widget, TODAY), Err(Unservable::Draft));
    }

    #[test]
    fn a_translation_left_behind_is_outdated_until_updated_or_confirmed() {
        // Version 2 changed the Russian web text; the Polish short answer dates from version 1.
        let mut a = article(vec![variant(Language::Ru, VariantKind::Web, 2, 2), variant(Language::Pl, VariantKind::Short, 1, 1)]);
        let chat = Surface::Channel(ChannelKind::Whatsapp);
        assert_eq!(serve(&a, Language::Pl, chat, TODAY), Err(Unservable::Outdated));
        a.variants[1].current_as_of = 3; // confirmed at version 3
        assert!(serve(&a, Language::Pl, chat, TODAY).is_ok());
    }

    #[test]
    fn an_unchanged_variant_keeps_its_dates_through_an_edit() {
        let before = vec![variant(Language::Ru, VariantKind::Web, 1, 1), variant(Language::Pl, VariantKind::Web, 1, 1)];
        let edited = vec![
            VariantInput { locale: Language::Ru, kind: VariantKind::Web, title: "t".into(), body: "new".into() },
            VariantInput { locale: Language::Pl, kind: VariantKind::Web, title: "t".into(), body: "b".into() },
        ];
        let after = next_variants(&before, edited, 2);
        assert_eq!((after[0].changed_in, after[0].current_as_of), (2, 2));
        assert_eq!((after[1].changed_in, after[1].current_as_of), (1, 1));
        let a = ArticleState { version: 2, status: ArticleStatus::Published, review_by: None, variants: after };
        assert!(a.outdated(&a.variants[1]) && !a.outdated(&a.variants[0]));
    }

    #[test]
    fn content_is_bounded_and_each_variant_once() {
        let v = |locale, kind| VariantInput { locale, kind, title: " T ".into(), body: " B ".into() };
        let (ok, _) = clean_content(&[v(Language::Ru, VariantKind::Web)], &[]).expect("valid");
        assert_eq!((ok[0].title.as_str(), ok[0].body.as_str()), ("T", "B"));
        assert_eq!(clean_content(&[], &[]).err().map(|e| e.field).unwrap_or_default(), "variants");
        let twice = [v(Language::Ru, VariantKind::Web), v(Language::Ru, VariantKind::Web)];
        assert_eq!(clean_content(&twice, &[]).err().map(|e| e.field).unwrap_or_default(), "variants[1]");
        let long = VariantInput { title: "x".repeat(MAX_TITLE_CHARS + 1), ..v(Language::En, VariantKind::Short) };
        assert_eq!(clean_content(&[long], &[]).err().map(|e| e.field).unwrap_or_default(), "variants[0].title");
        let nul = VariantInput { body: "a\u{0}b".into(), ..v(Language::En, VariantKind::Short) };
        assert_eq!(clean_content(&[nul], &[]).err().map(|e| e.field).unwrap_or_default(), "variants[0].body");
        let lines = VariantInput { body: "a\n\tb\r\n".into(), ..v(Language::En, VariantKind::Short) };
        assert!(clean_content(&[lines], &[]).is_ok(), "line breaks and tabs are text");
        let asked = [Question { locale: Language::En, text: "q\u{1b}".into() }];
        assert_eq!(
            clean_content(&[v(Language::En, VariantKind::Short)], &asked).err().map(|e| e.field).unwrap_or_default(),
            "questions[0].text"
        );
        let many = vec![Question { locale: Language::En, text: "q".into() }; MAX_QUESTIONS + 1];
        assert_eq!(clean_content(&[v(Language::En, VariantKind::Short)], &many).err().map(|e| e.field).unwrap_or_default(), "questions");
    }

    #[test]
    fn asking_for_a_person_in_every_language() {
        for text in [
            "оператор",
            "Позовите оператора!",
            "можно живого человека?",
            "konsultant",
            "Chcę rozmawiać z człowiekiem",
            "human",
            "I want a real person",
            "Agent please",
        ] {
            assert!(asks_for_person(text), "{text}");
        }
        for text in ["как вернуть товар", "gdzie jest moja paczka", "how do I reset my password", ""] {
            assert!(!asks_for_person(text), "{text}");
        }
        let long = "я уже писал оператору вчера про возврат и мне сказали подождать неделю но ничего не пришло";
        assert!(!asks_for_person(long), "a long question that mentions an operator is a question");
    }

    #[test]
    fn feedback_words() {
        assert_eq!(feedback("Да"), Some(true));
        assert_eq!(feedback("nie"), Some(false));
        assert_eq!(feedback("No."), Some(false));
        assert_eq!(feedback("а как вернуть?"), None);
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn any_variant() -> impl Strategy<Value = Variant> {
            (0..3usize, 0..4usize, 1..6i64, 0..3i64).prop_map(|(l, k, changed, extra)| Variant {
                locale: Language::ALL[l],
                kind: VariantKind::ALL[k],
                title: "t".into(),
                body: "b".into(),
                changed_in: changed,
                current_as_of: changed + extra,
            })
        }

        proptest! {
            /// Whatever the data, what `serve` returns is published, fresh, in the asked locale
            /// and kind, and no other locale changed after it was last current.
            #[test]
            fn served_content_is_never_stale_draft_outdated_or_another_kind(
                variants in proptest::collection::vec(any_variant(), 0..8),
                published in any::<bool>(),
                review_offset in proptest::option::of(-5..5i64),
                locale in 0..3usize,
                surface in 0..5usize,
            ) {
                let review_by = review_offset.map(|d| TODAY + time::Duration::days(d));
                let a = ArticleState { version: 9, status: if published { ArticleStatus::Published } else { ArticleStatus::Draft }, review_by, variants };
                let locale = Language::ALL[locale];
                let surface = [Surface::HelpCenter, Surface::Phone, Surface::Channel(ChannelKind::Email), Surface::Channel(ChannelKind::Telegram), Surface::Channel(ChannelKind::Widget)][surface];
                if let Ok(v) = serve(&a, locale, surface, TODAY) {
                    prop_assert!(published);
                    prop_assert!(review_by.is_none_or(|by| TODAY <= by));
                    prop_assert_eq!(v.locale, locale);
                    prop_assert_eq!(v.kind, surface.kind());
                    prop_assert!(v.kind != VariantKind::Agent);
                    prop_assert!(a.variants.iter().all(|o| o.locale == locale || o.changed_in <= v.current_as_of));
                }
            }
        }
    }
}
