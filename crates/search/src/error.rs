//! The crate's error: the index's own failures, the directory's, and documents given wrongly.

use std::path::PathBuf;

/// What went wrong with the search index.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// tantivy failed (I/O under the index, a corrupt segment, a writer that died).
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    /// The index directory or its version file could not be read or written.
    #[error("search index directory: {0}")]
    Io(#[from] std::io::Error),
    /// The directory given to [`crate::SearchIndex::open`] holds files but neither a search
    /// index nor its version file: it is not wiped, since it may be anything.
    #[error("{0} holds files that are not a search index; not touching it")]
    NotAnIndex(PathBuf),
    /// A document was given in a [`crate::GroupChange`] whose group is not its own: it could
    /// never be deleted with that group.
    #[error("document {key:?} belongs to group {doc_group:?}, not to {group:?} it was given under")]
    WrongGroup {
        /// The document's key.
        key: String,
        /// The group the document names.
        doc_group: String,
        /// The group of the change it was given in.
        group: String,
    },
}

/// `Result` with the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
