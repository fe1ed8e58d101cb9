//! Pieces of typed channel settings: secrets that never print, URLs that must be http(s), ids
//! that admins type as numbers or as text, and reading a `config` object into a driver's own
//! struct with errors that name the key (`config.group_id`).

use crate::InboundError;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use std::fmt;

/// A credential from a channel's settings. `Debug` and `Display` show `***`, so a secret never
/// reaches a log line or an error message by accident; `expose` is the one way to read it.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl<'de> Deserialize<'de> for Secret {
    /// Text with something in it besides spaces (surrounding spaces, as pasted, are dropped).
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(serde::de::Error::custom("is required"));
        }
        Ok(Self(trimmed.to_owned()))
    }
}

/// An `http://` or `https://` URL (a provider's API base, a reply URL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpUrl(String);

impl HttpUrl {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for HttpUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        let url = raw.trim();
        // Parsed whole, so that a URL no request could be made to is refused when it is typed.
        let parsed = reqwest::Url::parse(url).ok().filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some());
        match parsed {
            Some(_) => Ok(Self(url.to_owned())),
            None => Err(serde::de::Error::custom("must be an http(s) URL")),
        }
    }
}

/// A positive integer id given as a JSON number (`123`) or as text of digits (`"123"`): admins
/// copy ids from provider consoles that show them as text, and JSON clients send numbers.
pub fn numeric_id<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Number(i64),
        Text(String),
    }
    let id = match Raw::deserialize(d).map_err(|_| serde::de::Error::custom("must be a number such as 123456"))? {
        Raw::Number(n) => n,
        Raw::Text(s) if !s.trim().is_empty() && s.trim().bytes().all(|b| b.is_ascii_digit()) => {
            s.trim().parse().map_err(|_| serde::de::Error::custom("must be a number such as 123456"))?
        }
        Raw::Text(_) => return Err(serde::de::Error::custom("must be a number such as 123456")),
    };
    if id <= 0 {
        return Err(serde::de::Error::custom("must be a positive number"));
    }
    Ok(id)
}

/// Reads a channel's `config` into `T`. Errors name the key under `config.` and say what is
/// wrong in words an admin understands ("is required", "must be an http(s) URL").
pub fn parse<T: DeserializeOwned>(config: &Value) -> Result<T, InboundError> {
    serde_path_to_error::deserialize(config).map_err(|e| {
        let path = e.path().to_string();
        let detail = e.into_inner().to_string();
        let prefix = if path == "." { "config".to_owned() } else { format!("config.{path}") };
        if let Some(name) = detail.strip_prefix("missing field `").and_then(|r| r.split('`').next()) {
            return InboundError::new(format!("{prefix}.{name}"), "is required");
        }
        if let Some(name) = detail.strip_prefix("unknown field `").and_then(|r| r.split('`').next()) {
            return InboundError::new(format!("{prefix}.{name}"), "unknown key");
        }
        InboundError::new(prefix, without_value(&detail))
    })
}

/// serde's words for a wrong value, without the value: "invalid type: integer `31415926535`,
/// expected a string" would print a secret typed as a number back into an error (and a log).
/// Also without the position suffix, which means nothing in a JSON value.
pub fn without_value(detail: &str) -> String {
    let detail = detail.split(" at line ").next().unwrap_or(detail);
    match detail.split_once(", expected ") {
        Some((what, expected)) if what.starts_with("invalid type") => format!("has the wrong type: expected {expected}"),
        Some((what, expected)) if what.starts_with("invalid value") || what.starts_with("invalid length") => {
            format!("is not valid: expected {expected}")
        }
        _ if detail.starts_with("unknown variant") => {
            format!("is not one of {}", detail.split_once("expected ").map_or("the allowed values", |(_, e)| e))
        }
        _ => detail.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Example {
        #[serde(deserialize_with = "numeric_id")]
        group_id: i64,
        token: Secret,
        api_base_url: Option<HttpUrl>,
    }

    #[test]
    fn ids_are_taken_as_numbers_or_numeric_text() {
        let a: Example = parse(&json!({"group_id": 229_000_001, "token": "t"})).expect("number");
        let b: Example = parse(&json!({"group_id": " 229000001 ", "token": "t"})).expect("text");
        assert_eq!((a.group_id, b.group_id), (229_000_001, 229_000_001));
        for bad in [json!("club229"), json!("+5"), json!(-5), json!(0), json!(1.5), json!(null)] {
            let e = parse::<Example>(&json!({"group_id": bad, "token": "t"})).expect_err("refused");
            assert_eq!(e.field, "config.group_id", "{bad}: {e}");
        }
    }

    #[test]
    fn errors_name_the_key_and_secrets_never_print() {
        let e = parse::<Example>(&json!({"group_id": 1})).expect_err("missing");
        assert_eq!((e.field.as_str(), e.message.as_str()), ("config.token", "is required"));
        let e = parse::<Example>(&json!({"group_id": 1, "token": "  "})).expect_err("blank");
        assert_eq!(e.field, "config.token");
        for bad in ["ftp://x", "http://[::1", "https://a b", "https://"] {
            let e = parse::<Example>(&json!({"group_id": 1, "token": "t", "api_base_url": bad})).expect_err("url");
            assert_eq!((e.field.as_str(), e.message.as_str()), ("config.api_base_url", "must be an http(s) URL"), "{bad}");
        }
        // A secret typed as a number is refused without being printed back.
        let e = parse::<Example>(&json!({"group_id": 1, "token": 31415926535_u64})).expect_err("number");
        assert_eq!(e.field, "config.token");
        assert!(!e.message.contains("31415926535"), "{e}");
        let ok: Example = parse(&json!({"group_id": 1, "token": "hunter2"})).expect("ok");
        assert!(!format!("{ok:?}").contains("hunter2"), "{ok:?}");
        assert_eq!(ok.token.expose(), "hunter2");
    }
}

/// A channel's `config.bot` (CONTRACT.md, "Knowledge base"): whether the knowledge-base bot
/// answers customers on it, and how sure it must be. Any customer-facing kind takes it.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BotSettings {
    pub enabled: bool,
    /// 0..=1; below it the bot hands the question to the agents. Default 0.6.
    #[serde(default = "default_min_confidence")]
    pub min_confidence: f32,
}

fn default_min_confidence() -> f32 {
    0.6
}

impl BotSettings {
    /// The settings of a channel's `config`; `None` when it has none (the bot is off).
    /// Malformed settings were refused when the channel was saved; read as "off" here.
    pub fn of(config: &Value) -> Option<BotSettings> {
        config.get("bot").and_then(|b| serde_json::from_value::<BotSettings>(b.clone()).ok()).filter(|b| b.enabled)
    }

    /// Checks `config.bot` where present; the error names the key at fault.
    pub fn validate(config: &Value) -> Result<(), InboundError> {
        let Some(bot) = config.get("bot") else { return Ok(()) };
        let settings: BotSettings = serde_json::from_value(bot.clone())
            .map_err(|e| InboundError::new("config.bot", format!("must be {{\"enabled\": bool, \"min_confidence\": 0..1}}: {e}")))?;
        if !(0.0..=1.0).contains(&settings.min_confidence) {
            return Err(InboundError::new("config.bot.min_confidence", "must be between 0 and 1"));
        }
        Ok(())
    }
}
