//! Customer identities (an email, a phone, a messenger account) and their normalisation.
//!
//! Two identities are the same exactly when their kind and normalised value are equal, so every
//! value is normalised once, at the edge, by parsing: emails lower-cased with the domain in its
//! canonical IDN form, phones in E.164, messenger ids trimmed and checked.

use crate::ids::ChannelId;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityKind {
    Email,
    Phone,
    Telegram,
    Whatsapp,
    Vk,
    Viber,
    /// A visitor of one web-chat widget; scoped to that widget channel.
    Widget,
    /// A user id of the system behind one API channel; scoped to that channel.
    Api,
}

impl IdentityKind {
    pub const ALL: [IdentityKind; 8] =
        [Self::Email, Self::Phone, Self::Telegram, Self::Whatsapp, Self::Vk, Self::Viber, Self::Widget, Self::Api];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Phone => "phone",
            Self::Telegram => "telegram",
            Self::Whatsapp => "whatsapp",
            Self::Vk => "vk",
            Self::Viber => "viber",
            Self::Widget => "widget",
            Self::Api => "api",
        }
    }
}

impl FromStr for IdentityKind {
    type Err = IdentityError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|k| k.as_str() == s).ok_or(IdentityError::UnknownKind)
    }
}

/// Why a raw value is not an identity.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error("not a valid email address")]
    InvalidEmail,
    #[error("not a valid phone number")]
    InvalidPhone,
    #[error("not a valid account id")]
    InvalidAccountId,
    #[error("unknown identity kind")]
    UnknownKind,
    #[error("unknown region code")]
    UnknownRegion,
}

/// A normalised identity. Only constructible through the parsing functions below.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Identity {
    kind: IdentityKind,
    value: String,
}

impl Identity {
    pub fn kind(&self) -> IdentityKind {
        self.kind
    }
    pub fn value(&self) -> &str {
        &self.value
    }

    pub fn email(raw: &str) -> Result<Self, IdentityError> {
        Ok(Self { kind: IdentityKind::Email, value: normalise_email(raw)? })
    }

    pub fn phone(raw: &str, default_region: Option<Region>) -> Result<Self, IdentityError> {
        Ok(Self { kind: IdentityKind::Phone, value: normalise_phone(raw, default_region)? })
    }

    /// A messenger account (Telegram, WhatsApp, VK, Viber) whose id is global to the provider.
    pub fn account(kind: IdentityKind, raw: &str) -> Result<Self, IdentityError> {
        let value = normalise_account_id(raw)?;
        match kind {
            IdentityKind::Telegram | IdentityKind::Vk => {
                if !value.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
                    return Err(IdentityError::InvalidAccountId);
                }
            }
            IdentityKind::Whatsapp => {
                // The phone number's digits, or a business-scoped user id: a country code, a
                // dot, and letters and digits (`PL.1502576394655843`, `US.ENT.118157992128`).
                let bsuid = value.len() > 3
                    && value.as_bytes()[..2].iter().all(u8::is_ascii_uppercase)
                    && value.as_bytes()[2] == b'.'
                    && value[3..].bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.')
                    && !value.ends_with('.');
                if !(value.bytes().all(|b| b.is_ascii_digit()) || bsuid) {
                    return Err(IdentityError::InvalidAccountId);
                }
            }
            IdentityKind::Viber => {}
            IdentityKind::Email | IdentityKind::Phone => return Self::parse(kind, raw, None),
            IdentityKind::Widget | IdentityKind::Api => return Err(IdentityError::UnknownKind),
        }
        Ok(Self { kind, value })
    }

    /// An id that only means something within one channel (an API integration's user id, a
    /// widget visitor id): the channel id becomes part of the value so that user `42` of the CRM
    /// and user `42` of the forum stay two people.
    pub fn scoped(kind: IdentityKind, channel: &ChannelId, raw: &str) -> Result<Self, IdentityError> {
        if !matches!(kind, IdentityKind::Api | IdentityKind::Widget) {
            return Err(IdentityError::UnknownKind);
        }
        let id = normalise_account_id(raw)?;
        Ok(Self { kind, value: format!("{channel}:{id}") })
    }

    /// The value as people read it: a channel-scoped id (`{channel}:{id}`) without its channel.
    pub fn display_value(kind: IdentityKind, value: &str) -> &str {
        match kind {
            IdentityKind::Api | IdentityKind::Widget => value.split_once(':').map_or(value, |(_, id)| id),
            _ => value,
        }
    }

    /// Parses any kind from its raw form. Scoped kinds must already carry their channel prefix.
    pub fn parse(kind: IdentityKind, raw: &str, default_region: Option<Region>) -> Result<Self, IdentityError> {
        match kind {
            IdentityKind::Email => Self::email(raw),
            IdentityKind::Phone => Self::phone(raw, default_region),
            IdentityKind::Widget | IdentityKind::Api => {
                let (channel, id) = raw.split_once(':').ok_or(IdentityError::InvalidAccountId)?;
                let channel = ChannelId::parse(channel).map_err(|_| IdentityError::InvalidAccountId)?;
                Self::scoped(kind, &channel, id)
            }
            other => Self::account(other, raw),
        }
    }

    /// Rebuilds an identity read back from our own database, where values are already normal.
    pub fn from_trusted(kind: IdentityKind, value: String) -> Self {
        Self { kind, value }
    }
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind.as_str(), self.value)
    }
}

/// An ISO 3166 country code used to read phone numbers written without a country code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Region(phonenumber::country::Id);

impl Region {
    pub fn code(&self) -> &str {
        self.0.as_ref()
    }
}

impl FromStr for Region {
    type Err = IdentityError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let upper = s.trim().to_ascii_uppercase();
        if upper.len() != 2 {
            return Err(IdentityError::UnknownRegion);
        }
        phonenumber::country::Id::from_str(&upper).map(Region).map_err(|_| IdentityError::UnknownRegion)
    }
}

const MAX_EMAIL_LEN: usize = 254;
const MAX_LOCAL_LEN: usize = 64;
const MAX_ACCOUNT_ID_LEN: usize = 200;

/// Lower-cases the whole address and puts the domain into its canonical Unicode form, so that
/// `Ivan@ПРИМЕР.рф`, `ivan@пример.рф` and `ivan@xn--e1afmkfd.xn--p1ai` are one identity.
pub fn normalise_email(raw: &str) -> Result<String, IdentityError> {
    let trimmed = raw.trim();
    let trimmed = trimmed.strip_prefix("mailto:").or_else(|| trimmed.strip_prefix("MAILTO:")).unwrap_or(trimmed);
    let (local, domain) = trimmed.rsplit_once('@').ok_or(IdentityError::InvalidEmail)?;
    if local.is_empty()
        || local.chars().count() > MAX_LOCAL_LEN
        || local.starts_with('.')
        || local.ends_with('.')
        || local.contains("..")
        || local.chars().any(|c| {
            c.is_whitespace() || c.is_control() || matches!(c, '@' | '<' | '>' | '(' | ')' | ',' | ';' | ':' | '[' | ']' | '\\' | '"')
        })
    {
        return Err(IdentityError::InvalidEmail);
    }
    let ascii_domain = idna::domain_to_ascii_strict(domain.trim_end_matches('.')).map_err(|_| IdentityError::InvalidEmail)?;
    // A mail domain needs at least one dot and no empty labels.
    if !ascii_domain.contains('.') || ascii_domain.split('.').any(str::is_empty) {
        return Err(IdentityError::InvalidEmail);
    }
    let (unicode_domain, result) = idna::domain_to_unicode(&ascii_domain);
    result.map_err(|_| IdentityError::InvalidEmail)?;
    let address = format!("{}@{}", local.to_lowercase(), unicode_domain.to_lowercase());
    if address.len() > MAX_EMAIL_LEN {
        return Err(IdentityError::InvalidEmail);
    }
    Ok(address)
}

/// E.164 (`+79123456789`). Numbers without a country code are read in `default_region`, which
/// applies its national conventions (Russia's trunk prefix `8`, Poland's bare 9 digits).
pub fn normalise_phone(raw: &str, default_region: Option<Region>) -> Result<String, IdentityError> {
    let trimmed = raw.trim();
    let digits = trimmed.chars().filter(char::is_ascii_digit).count();
    if !(4..=17).contains(&digits) || trimmed.len() > 40 {
        return Err(IdentityError::InvalidPhone);
    }
    // "00" is the international prefix in most of Europe, including Russia's newer plans and Poland.
    let international;
    let input = if let Some(rest) = trimmed.strip_prefix("00") {
        international = format!("+{rest}");
        international.as_str()
    } else {
        trimmed
    };
    let region = if input.starts_with('+') { None } else { default_region.map(|r| r.0) };
    if region.is_none() && !input.starts_with('+') {
        return Err(IdentityError::InvalidPhone);
    }
    // Read as written (with the default region for a national number), then put into the form
    // its country's numbering plan gives mobiles today, then checked.
    let written = phonenumber::parse(region, input).map_err(|_| IdentityError::InvalidPhone)?;
    let as_written = written.format().mode(phonenumber::Mode::E164).to_string();
    let number = match national_mobile_form(&as_written) {
        Some(mobile) => phonenumber::parse(None, &mobile).map_err(|_| IdentityError::InvalidPhone)?,
        None => written,
    };
    if !phonenumber::is_valid(&number) {
        return Err(IdentityError::InvalidPhone);
    }
    Ok(number.format().mode(phonenumber::Mode::E164).to_string())
}

/// The E.164 form of a mobile number written the way messengers and old habits write it, when
/// that differs (`None`: nothing to change). One person on SMS and on WhatsApp must be one
/// number:
/// - Brazil: mobiles got a ninth digit in 2012–2016 (ANATEL), but WhatsApp ids of older accounts
///   still lack it: `+55 AA NNNNNNNN` with `N` starting 6–9 (mobile ranges) is `+55 AA 9NNNNNNNN`.
/// - Argentina: a mobile is `+54 9 AREA NUMBER` internationally (ITU-T E.164 national plan of
///   Argentina); the domestic form puts `15` after the area code instead, and people paste
///   `+54 AREA 15 NUMBER`: that is `+54 9 AREA NUMBER`.
/// - Mexico: the `1` after `+52` for mobiles was dropped in 2019 (IFT), but WhatsApp ids still
///   carry it: `+52 1 NNNNNNNNNN` is `+52 NNNNNNNNNN`.
fn national_mobile_form(input: &str) -> Option<String> {
    let digits: String = input.chars().filter(char::is_ascii_digit).collect();
    if let Some(national) = digits.strip_prefix("55")
        && national.len() == 10
        && matches!(national.as_bytes()[2], b'6'..=b'9')
    {
        return Some(format!("+55{}9{}", &national[..2], &national[2..]));
    }
    if let Some(national) = digits.strip_prefix("54")
        && national.len() == 12
        && !national.starts_with('9')
    {
        // Area codes have 2 to 4 digits; the national number without `15` has 10.
        for area in 2..=4 {
            if &national[area..area + 2] == "15" {
                let candidate = format!("+549{}{}", &national[..area], &national[area + 2..]);
                let valid = phonenumber::parse(None, &candidate).is_ok_and(|n| phonenumber::is_valid(&n));
                if valid {
                    return Some(candidate);
                }
            }
        }
    }
    if let Some(national) = digits.strip_prefix("521")
        && national.len() == 10
    {
        return Some(format!("+52{national}"));
    }
    None
}

fn normalise_account_id(raw: &str) -> Result<String, IdentityError> {
    let value = raw.trim();
    if value.is_empty() || value.len() > MAX_ACCOUNT_ID_LEN || value.chars().any(char::is_control) {
        return Err(IdentityError::InvalidAccountId);
    }
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    #[test]
    fn scoped_ids_are_shown_without_their_channel() {
        let channel = ChannelId::generate();
        let api = Identity::scoped(IdentityKind::Api, &channel, "c-77").expect("scoped");
        assert_eq!(Identity::display_value(api.kind, &api.value), "c-77");
        assert_eq!(Identity::display_value(IdentityKind::Email, "a:b@example.com"), "a:b@example.com", "only scoped kinds");
    }

    use super::*;
    use proptest::prelude::*;

    fn region(code: &str) -> Option<Region> {
        Some(code.parse().expect("known region"))
    }

    #[test]
    fn russian_and_polish_national_numbers() {
        assert_eq!(normalise_phone("8 912 345-67-89", region("RU")).as_deref(), Ok("+79123456789"));
        assert_eq!(normalise_phone("+7 (912) 345-67-89", None).as_deref(), Ok("+79123456789"));
        assert_eq!(normalise_phone("601 234 567", region("PL")).as_deref(), Ok("+48601234567"));
        assert_eq!(normalise_phone("0048 601 234 567", None).as_deref(), Ok("+48601234567"));
        assert_eq!(normalise_phone("+48 601-234-567", region("RU")).as_deref(), Ok("+48601234567"));
    }

    #[test]
    fn mobiles_as_messengers_write_them_are_the_e164_number() {
        let e164 = |raw: &str| normalise_phone(raw, None).expect(raw);
        // Brazil: a WhatsApp id without the ninth digit, and the number with it.
        assert_eq!(e164("+551187654321"), "+5511987654321");
        assert_eq!(e164("+55 11 98765-4321"), "+5511987654321");
        assert_eq!(e164("+552187654321"), e164("+5521987654321"));
        // A Brazilian landline (subscriber starting 2-5) keeps its eight digits.
        assert_eq!(e164("+55 11 3456-7890"), "+551134567890");
        // Argentina: the international mobile form, and the domestic 15 pasted after +54.
        assert_eq!(e164("+5491123456789"), "+5491123456789");
        assert_eq!(e164("+54 11 15 2345-6789"), "+5491123456789");
        assert_eq!(e164("+54 351 15 234-5678"), e164("+54 9 351 234-5678"));
        // Mexico: WhatsApp's 521 and the number since 2019.
        assert_eq!(e164("+5215512345678"), "+525512345678");
        assert_eq!(e164("+52 55 1234 5678"), "+525512345678");
        // National numbers with the channel's region are read the same way.
        let br = Some("BR".parse().expect("region"));
        assert_eq!(normalise_phone("11 8765-4321", br).as_deref(), Ok("+5511987654321"));
        assert_eq!(normalise_phone("(11) 98765-4321", br).as_deref(), Ok("+5511987654321"));
        // Nowhere else is anything inserted or dropped.
        assert_eq!(e164("+48 601 234 567"), "+48601234567");
        assert_eq!(e164("+7 912 345-67-89"), "+79123456789");
    }

    #[test]
    fn phones_without_country_need_a_region() {
        assert_eq!(normalise_phone("601 234 567", None), Err(IdentityError::InvalidPhone));
        assert_eq!(normalise_phone("12", region("PL")), Err(IdentityError::InvalidPhone));
        assert_eq!(normalise_phone("call me", region("PL")), Err(IdentityError::InvalidPhone));
    }

    #[test]
    fn emails_are_lower_cased_with_canonical_idn_domains() {
        assert_eq!(normalise_email(" Anna.Kowalska@Example.PL ").as_deref(), Ok("anna.kowalska@example.pl"));
        assert_eq!(normalise_email("Иван@ПРИМЕР.РФ").as_deref(), Ok("иван@пример.рф"));
        assert_eq!(normalise_email("ivan@xn--e1afmkfd.xn--p1ai").as_deref(), Ok("ivan@пример.рф"));
        assert_eq!(normalise_email("mailto:a@b.co").as_deref(), Ok("a@b.co"));
        for bad in
            ["", "plain", "@example.com", "a@", "a@localhost", "a b@example.com", "a@exa mple.com", "a..b@example.com", "a@-bad-.com"]
        {
            assert!(normalise_email(bad).is_err(), "{bad:?} must be rejected");
        }
    }

    #[test]
    fn scoped_ids_keep_channels_apart() {
        let crm = ChannelId::generate();
        let forum = ChannelId::generate();
        let a = Identity::scoped(IdentityKind::Api, &crm, "42").expect("valid");
        let b = Identity::scoped(IdentityKind::Api, &forum, "42").expect("valid");
        assert_ne!(a, b);
        assert_eq!(Identity::parse(IdentityKind::Api, a.value(), None), Ok(a));
    }

    #[test]
    fn messenger_ids_are_checked() {
        assert!(Identity::account(IdentityKind::Telegram, "123456789012").is_ok());
        assert!(Identity::account(IdentityKind::Telegram, "abc").is_err());
        assert!(Identity::account(IdentityKind::Whatsapp, "48601234567").is_ok());
        // Business-scoped user ids, as WhatsApp gives them since 2026.
        assert!(Identity::account(IdentityKind::Whatsapp, "PL.1502576394655843").is_ok());
        assert!(Identity::account(IdentityKind::Whatsapp, "US.ENT.11815799212886844830").is_ok());
        for bad in ["pl.1502576394655843", "PL.", "PL-15025", "PL.15 02", "+48601234567", "P.123"] {
            assert!(Identity::account(IdentityKind::Whatsapp, bad).is_err(), "{bad}");
        }
        assert!(Identity::account(IdentityKind::Viber, "01234567890A=").is_ok());
        assert!(Identity::account(IdentityKind::Viber, "  ").is_err());
    }

    #[test]
    fn region_codes() {
        assert_eq!(region("pl").as_ref().map(Region::code), Some("PL"));
        assert!("XX".parse::<Region>().is_err());
        assert!("RUS".parse::<Region>().is_err());
    }

    fn local_part() -> impl Strategy<Value = String> {
        "[a-zA-Z0-9][a-zA-Z0-9._+-]{0,20}[a-zA-Z0-9]".prop_filter("no double dots", |s| !s.contains(".."))
    }

    fn domain() -> impl Strategy<Value = String> {
        prop_oneof!["[a-zA-Z][a-zA-Z0-9]{0,10}\\.(com|pl|ru|org)", "[а-яА-Я]{2,10}\\.(рф|ru)", "[a-zA-Ząćęłńóśźż]{2,10}\\.pl",]
    }

    proptest! {
        #[test]
        fn email_normalisation_is_idempotent_and_case_blind(local in local_part(), domain in domain()) {
            let raw = format!("{local}@{domain}");
            let once = normalise_email(&raw).expect("generated addresses are valid");
            prop_assert_eq!(normalise_email(&once), Ok(once.clone()));
            prop_assert_eq!(normalise_email(&raw.to_uppercase()), Ok(once.clone()));
            prop_assert_eq!(normalise_email(&format!("  {raw}\t")), Ok(once.clone()));
            prop_assert_eq!(once.to_lowercase(), once.clone());
        }

        #[test]
        fn email_punycode_and_unicode_domains_agree(local in local_part(), domain in domain()) {
            let ascii = idna::domain_to_ascii(&domain).expect("valid domain");
            prop_assert_eq!(
                normalise_email(&format!("{local}@{ascii}")),
                normalise_email(&format!("{local}@{domain}"))
            );
        }

        #[test]
        fn email_normalisation_never_panics(raw in "\\PC{0,80}") {
            let _ = normalise_email(&raw);
        }

        #[test]
        fn russian_mobiles_normalise_the_same_in_every_notation(subscriber in 0u32..10_000_000) {
            let national = format!("912{subscriber:07}");
            let expected = format!("+7{national}");
            let (a, b, c) = (&national[0..3], &national[3..6], &national[6..]);
            for written in [
                format!("8{national}"),
                format!("8 ({a}) {b}-{}-{}", &c[..2], &c[2..]),
                format!("+7 {a} {b} {c}"),
                format!("007{national}"),
                format!("7{national}"),
            ] {
                prop_assert_eq!(normalise_phone(&written, region("RU")), Ok(expected.clone()), "{}", written);
            }
        }

        #[test]
        fn polish_mobiles_normalise_the_same_in_every_notation(subscriber in 0u32..1_000_000) {
            let national = format!("601{subscriber:06}");
            let expected = format!("+48{national}");
            for written in [
                national.clone(),
                format!("{} {} {}", &national[..3], &national[3..6], &national[6..]),
                format!("+48 {national}"),
                format!("0048{national}"),
            ] {
                prop_assert_eq!(normalise_phone(&written, region("PL")), Ok(expected.clone()), "{}", written);
            }
        }

        #[test]
        fn phone_normalisation_is_idempotent(subscriber in 0u32..10_000_000) {
            let e164 = normalise_phone(&format!("8912{subscriber:07}"), region("RU")).expect("valid");
            prop_assert_eq!(normalise_phone(&e164, None), Ok(e164.clone()));
            prop_assert_eq!(normalise_phone(&e164, region("PL")), Ok(e164.clone()));
        }

        #[test]
        fn phone_normalisation_never_panics(raw in "\\PC{0,40}") {
            let _ = normalise_phone(&raw, region("PL"));
        }
    }
}
