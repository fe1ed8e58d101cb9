//! The JSON shape of a file that the API hook takes and an agent's reply carries:
//! `{"filename", "content_type", "url"?, "data_base64"?}`.

use crate::InboundError;
use base64::Engine;
use serde::Deserialize;
use switchboard_domain::AttachmentId;
use switchboard_domain::inbound::AttachmentMeta;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonAttachment {
    #[serde(default)]
    pub url: Option<String>,
    pub filename: String,
    pub content_type: String,
    #[serde(default)]
    pub data_base64: Option<String>,
}

/// One attachment of the JSON shape `{filename, content_type, url?, data_base64?}`, the `i`th of
/// its list (named so in errors). Shared with agent replies, which send the same shape.
pub fn attachment(i: usize, a: JsonAttachment) -> Result<AttachmentMeta, InboundError> {
    let field = |f: &str| format!("attachments[{i}].{f}");
    if a.filename.trim().is_empty() || a.filename.len() > 255 {
        return Err(InboundError::new(field("filename"), "must be 1 to 255 bytes"));
    }
    if !a.content_type.contains('/') || a.content_type.len() > 255 {
        return Err(InboundError::new(field("content_type"), "must be a MIME type such as image/png"));
    }
    let content = a
        .data_base64
        .as_deref()
        .map(|d| base64::engine::general_purpose::STANDARD.decode(d.trim()))
        .transpose()
        .map_err(|_| InboundError::new(field("data_base64"), "not valid base64"))?;
    if let Some(url) = &a.url
        && !(url.starts_with("https://") || url.starts_with("http://"))
    {
        return Err(InboundError::new(field("url"), "must be an http(s) URL"));
    }
    if content.is_none() && a.url.is_none() {
        return Err(InboundError::new(field("url"), "an attachment needs url or data_base64"));
    }
    Ok(AttachmentMeta {
        id: AttachmentId::generate(),
        filename: a.filename,
        content_type: a.content_type,
        content,
        url: a.url,
        size: None,
        inline: false,
        content_id: None,
    })
}
