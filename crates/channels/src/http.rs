//! The HTTP client every driver reaches its provider with, and what they share in using it.

use crate::SendError;
use std::time::Duration;

/// How long connecting to a provider may take before the attempt counts as failed.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one request may take in all, upload and answer included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// A client with the connect and total timeouts above: a provider that accepts and never
/// answers costs one attempt after `REQUEST_TIMEOUT`, never a stuck worker.
pub fn client() -> reqwest::Client {
    client_with(CONNECT_TIMEOUT, REQUEST_TIMEOUT)
}

/// A client with other timeouts (tests, the connection check).
pub fn client_with(connect: Duration, total: Duration) -> reqwest::Client {
    reqwest::Client::builder().connect_timeout(connect).timeout(total).build().unwrap_or_default()
}

/// A file at a provider's public link (VK's, Viber's CDN), at most `max` bytes.
pub async fn download(client: &reqwest::Client, url: &str, max: usize) -> Result<Vec<u8>, SendError> {
    let unreachable = |e: reqwest::Error| SendError::retryable(format!("cannot download the file: {}", e.without_url()));
    let mut response = client.get(url).send().await.map_err(unreachable)?;
    let status = response.status();
    if !status.is_success() {
        return Err(SendError {
            message: format!("the file's host answered {status}"),
            retryable: status.as_u16() == 429 || status.is_server_error(),
            retry_after: None,
        });
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
        if bytes.len() + chunk.len() > max {
            return Err(SendError::permanent(format!("the file is over {max} bytes")));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}
