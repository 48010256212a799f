//! Where evidence bytes come from: a location turned into a listing of blobs and readers over them.
//!
//! Owns listing, classification of each blob by its path and pruning by the path's time. Does
//! not parse bodies (that is `parsers`). A local directory is laid out like a storage account:
//! one folder per container, blobs below with their real names.

pub mod azure;
pub mod blob_rest;
pub mod layout;
pub mod local;
pub mod redact;

use std::io::Read;
use std::path::PathBuf;

pub use layout::{ExportKind, PathTime};

/// Errors from reaching the evidence.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The location does not exist or cannot be listed.
    #[error("cannot list evidence at {location}: {source}")]
    List {
        /// The location as given by the user.
        location: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A blob cannot be opened.
    #[error("cannot open blob {blob}: {source}")]
    Open {
        /// Blob path relative to the source root.
        blob: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The location cannot be read as a place holding evidence.
    #[error("{0}")]
    Location(String),
    /// The location holds no export container.
    #[error(
        "{0} holds no export containers (expected folders named am-<table> or insights-logs-<category>)"
    )]
    NoContainers(String),
}

/// One blob found in a source.
#[derive(Debug, Clone)]
pub struct BlobRef {
    /// Path relative to the source root, `/`-separated, starting with the container.
    pub path: String,
    /// Size in bytes at listing time.
    pub size: u64,
    /// Export it belongs to.
    pub kind: ExportKind,
    /// Time bucket from the path, when the path has one.
    pub path_time: Option<PathTime>,
    /// ETag at listing time (Blob Storage only).
    pub etag: Option<String>,
    /// Last-modified time at listing time (Blob Storage only).
    pub last_modified: Option<String>,
}

impl BlobRef {
    /// The container (the first path segment).
    pub fn container(&self) -> &str {
        self.path
            .split_once('/')
            .map_or(&self.path, |(container, _)| container)
    }

    /// The blob's name inside its container (the path after the container).
    pub fn name_in_container(&self) -> &str {
        self.path.split_once('/').map_or("", |(_, name)| name)
    }
}

/// A place evidence is read from.
pub trait EvidenceSource: Send + Sync {
    /// A description of the location, safe to print and record (never carries secrets).
    fn describe(&self) -> String;
    /// Every export blob under the location, sorted by path; plus paths that were not recognised.
    fn list(&self) -> Result<Listing, SourceError>;
    /// Opens a blob for streaming reads.
    fn open(&self, blob: &BlobRef) -> Result<Box<dyn Read + Send>, SourceError>;
    /// Why the source stopped answering, once it has (several calls in a row could not reach
    /// it): a run then stops instead of failing every remaining blob one by one.
    fn unavailable(&self) -> Option<String> {
        None
    }
}

/// Opens a location: a Blob Storage URL (see [`azure`]) or a local directory.
pub fn open_location(
    location: &str,
    credentials: &azure::AzureCredentials,
    window: (
        Option<chrono::DateTime<chrono::Utc>>,
        Option<chrono::DateTime<chrono::Utc>>,
    ),
) -> Result<Box<dyn EvidenceSource>, SourceError> {
    if azure::is_blob_url(location) {
        return Ok(Box::new(
            azure::AzureSource::open(location, credentials)?.with_window(window.0, window.1),
        ));
    }
    let path = PathBuf::from(location);
    if !path.is_dir() {
        return Err(SourceError::Location(format!(
            "{location} is neither a directory nor a Blob Storage URL (az://, https://)"
        )));
    }
    Ok(Box::new(local::LocalSource::new(path)))
}

/// The result of listing a source.
#[derive(Debug, Default)]
pub struct Listing {
    /// Export blobs, sorted by path.
    pub blobs: Vec<BlobRef>,
    /// Files that are not export blobs (wrong container or file type), with the reason.
    pub ignored: Vec<(String, String)>,
}
