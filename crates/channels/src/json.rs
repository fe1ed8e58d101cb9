//! Reading a provider's JSON body into its types, with errors that name the field at fault.

use crate::InboundError;
use crate::driver::HookError;
use serde::de::DeserializeOwned;

/// Decodes `bytes`: syntax errors are `Malformed`, a missing field `Missing` and a wrong
/// one `Invalid`, naming it (`from.id`, `attachments[0].filename`).
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, HookError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
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
    })
}
