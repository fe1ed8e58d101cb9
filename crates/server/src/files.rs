//! A reply's files for drivers: their bytes from the attachment store, or a signed link that a
//! provider fetches them by without signing in (`GET /files/{channel}/{attachment}/{expires}/{signature}`).

use async_trait::async_trait;
use std::sync::Arc;
use switchboard_channels::SendError;
use switchboard_channels::driver::{FileAccess, OutgoingFile};
use switchboard_store::{Channel, Store};
use switchboard_web::AppState;

/// How long a provider may take to fetch a reply's file by its link.
const FILE_LINKS_LAST_S: i64 = 24 * 3600;

pub struct StoreFiles {
    store: Arc<dyn Store>,
    channel: Channel,
    public_url: String,
}

impl StoreFiles {
    pub fn new(state: &AppState, channel: &Channel) -> Self {
        Self { store: state.store.clone(), channel: channel.clone(), public_url: state.public_url.clone() }
    }
}

#[async_trait]
impl FileAccess for StoreFiles {
    async fn bytes(&self, file: &OutgoingFile) -> Result<Vec<u8>, SendError> {
        let (_, bytes) = self
            .store
            .attachment(&self.channel.workspace_id, &file.id)
            .await
            .map_err(|e| SendError::retryable(format!("cannot read {}: {e}", file.filename)))?;
        Ok(bytes)
    }

    fn link(&self, file: &OutgoingFile) -> String {
        let expires = switchboard_store::now().millis() / 1000 + FILE_LINKS_LAST_S;
        let path = switchboard_channels::signature::file_link(self.channel.id.as_str(), &self.channel.secret, file.id.as_str(), expires);
        format!("{}{path}", self.public_url.trim_end_matches('/'))
    }
}
