//! Attachment content, kept by its SHA-256 outside the database: the same file sent twice is
//! stored once, and the database stays small enough to back up and migrate quickly. The trait
//! is what an object store (S3 and the like) would implement; `FsBlobStore` keeps the files
//! under the data directory.

use crate::error::{Result, StoreError};
use async_trait::async_trait;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Content-addressed storage for attachment bytes.
#[async_trait]
pub trait BlobStore: Send + Sync {
    /// Stores `bytes` durably (they survive a crash once this returns) and returns their
    /// SHA-256 as lower-case hex. Storing the same bytes again is cheap and changes nothing.
    async fn put(&self, bytes: Vec<u8>) -> Result<String>;
    /// The bytes stored under `sha256`; `NotFound` when there are none.
    async fn get(&self, sha256: &str) -> Result<Vec<u8>>;
}

/// SHA-256 of `bytes` as lower-case hex: the key of a blob.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Files under a directory, fanned out by the first two bytes of the hash
/// (`ab/cd/abcd…`) so that no directory grows past a few thousand entries.
#[derive(Debug, Clone)]
pub struct FsBlobStore {
    root: PathBuf,
}

impl FsBlobStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path_of(&self, sha256: &str) -> Result<PathBuf> {
        // The key becomes a path: only a well-formed hash may, never `../` or the like.
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            return Err(StoreError::NotFound);
        }
        Ok(self.root.join(&sha256[0..2]).join(&sha256[2..4]).join(sha256))
    }

    fn put_blocking(&self, bytes: &[u8]) -> Result<String> {
        let sha = sha256_hex(bytes);
        let path = self.path_of(&sha)?;
        if path.exists() {
            return Ok(sha);
        }
        let dir = path.parent().ok_or_else(|| StoreError::other("blob path has no parent"))?;
        std::fs::create_dir_all(dir).map_err(|e| io_error("create", dir, e))?;
        // Written under a unique temporary name, flushed, then renamed into place: a reader
        // never sees half a file, and two writers of the same bytes both end with one whole.
        let tmp = dir.join(format!(".{sha}.{}.tmp", uuid::Uuid::new_v4().simple()));
        let written = (|| {
            let mut file = std::fs::File::create(&tmp)?;
            file.write_all(bytes)?;
            file.sync_all()?;
            std::fs::rename(&tmp, &path)?;
            // The rename itself is durable only once the directory is flushed.
            std::fs::File::open(dir)?.sync_all()
        })();
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            return Err(io_error("write", &path, e));
        }
        Ok(sha)
    }

    fn get_blocking(&self, sha256: &str) -> Result<Vec<u8>> {
        let path = self.path_of(sha256)?;
        match std::fs::read(&path) {
            Ok(bytes) => Ok(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(StoreError::NotFound),
            Err(e) => Err(io_error("read", &path, e)),
        }
    }
}

fn io_error(what: &str, path: &Path, e: std::io::Error) -> StoreError {
    StoreError::io(&format!("cannot {what} {}", path.display()), &e)
}

#[async_trait]
impl BlobStore for FsBlobStore {
    async fn put(&self, bytes: Vec<u8>) -> Result<String> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || this.put_blocking(&bytes)).await.map_err(|e| StoreError::other(e.to_string()))?
    }

    async fn get(&self, sha256: &str) -> Result<Vec<u8>> {
        let (this, sha) = (self.clone(), sha256.to_owned());
        tokio::task::spawn_blocking(move || this.get_blocking(&sha)).await.map_err(|e| StoreError::other(e.to_string()))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_store() -> FsBlobStore {
        FsBlobStore::new(std::env::temp_dir().join(format!("switchboard-blobs-{}", uuid::Uuid::new_v4().simple())))
    }

    #[tokio::test]
    async fn bytes_come_back_under_their_hash_and_are_stored_once() {
        let store = temp_store();
        let sha = store.put(b"hello".to_vec()).await.expect("put");
        assert_eq!(sha, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
        assert_eq!(store.put(b"hello".to_vec()).await.expect("put again"), sha);
        assert_eq!(store.get(&sha).await.expect("get"), b"hello");
        let file = store.root().join("2c").join("f2").join(&sha);
        assert!(file.is_file(), "fanned out as ab/cd/hash");
        let entries = std::fs::read_dir(file.parent().expect("dir")).expect("list").count();
        assert_eq!(entries, 1, "no temporary file left behind");
        std::fs::remove_dir_all(store.root()).expect("clean up");
    }

    #[tokio::test]
    async fn unknown_and_malformed_keys_are_not_found() {
        let store = temp_store();
        assert!(matches!(store.get(&"0".repeat(64)).await, Err(StoreError::NotFound)));
        assert!(matches!(store.get("../../etc/passwd").await, Err(StoreError::NotFound)));
        assert!(matches!(store.get(&"A".repeat(64)).await, Err(StoreError::NotFound)));
    }
}
