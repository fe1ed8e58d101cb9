//! Reading a provider's JSON body into its types, with errors that name the field at fault.

use crate::InboundError;
use crate::driver::HookError;
use serde::de::DeserializeOwned;

/// Decodes `bytes`: syntax errors are `Malformed`, a missing field `Missing` and a wrong
/// one `Invalid`, naming it (`from.id`, `attachments[0].filename`).
/// The body must be one JSON object and nothing after it (an array filled into a struct by
/// position, or trailing bytes, are refused).
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, HookError> {
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => {}
        Some(_) => return Err(HookError::Malformed("the body must be a JSON object".into())),
        None => return Err(HookError::Malformed("the body is empty".into())),
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut *de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let detail = inner.to_string();
        if inner.is_syntax() || inner.is_eof() {
            return HookError::Malformed(detail);
        }
        // serde reports a missing field at its parent's path; name the field itself.
        if let Some(name) = detail.strip_prefix("missing field `").and_then(|r| r.split('`').next()) {
            let field = if path == "." { name.to_owned() } else { format!("{path}.{name}") };
            return HookError::Missing(field);
        }
        if let Some(name) = detail.strip_prefix("unknown field `").and_then(|r| r.split('`').next()) {
            let field = if path == "." { name.to_owned() } else { path.clone() };
            return HookError::Invalid(InboundError::new(field, "unknown field"));
        }
        let field = if path == "." { "body".to_owned() } else { path };
        HookError::Invalid(InboundError::new(field, detail))
    })?;
    de.end().map_err(|e| HookError::Malformed(e.to_string()))?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Body {
        id: String,
        text: String,
    }

    #[test]
    fn one_object_and_nothing_else() {
        assert!(decode::<Body>(br#" {"id": "1", "text": "hi"} "#).is_ok());
        for bad in [&br#"{"id": "1", "text": "hi"}garbage"#[..], br#"["1", "hi"]"#, b"", b"  ", br#""text""#] {
            assert!(matches!(decode::<Body>(bad), Err(HookError::Malformed(_))), "{}", String::from_utf8_lossy(bad));
        }
        assert_eq!(decode::<Body>(br#"{"id": "1"}"#).map(|_| ()), Err(HookError::Missing("text".into())));
    }
}
