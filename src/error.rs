//! The crate's top-level error, wrapping each boundary's error, and the exit-code contract.

use crate::case::CaseError;
use crate::ingest::IngestError;
use crate::query::QueryError;
use crate::sources::SourceError;
use crate::timeline::TimelineError;

/// Any error that ends a command.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Evidence could not be reached.
    #[error(transparent)]
    Source(SourceError),
    /// The case could not be read or written.
    #[error(transparent)]
    Case(#[from] CaseError),
    /// Ingest stopped.
    #[error(transparent)]
    Ingest(#[from] IngestError),
    /// A query failed.
    #[error("query failed: {0}")]
    Query(#[from] QueryError),
    /// A query named a table the case does not have; the hint names the closest one.
    #[error("query failed: {source}\n{hint}")]
    QueryHint {
        /// The query's error.
        source: QueryError,
        /// What the user probably meant.
        hint: String,
    },
    /// A query run on a cluster failed: the scheduler is named, since a lost scheduler or
    /// executor shows only as a broken connection.
    #[error("query failed on the cluster {cluster}: {source}")]
    ClusterQuery {
        /// The scheduler's address (`df://HOST:PORT`).
        cluster: String,
        /// The query's error.
        source: QueryError,
    },
    /// A cluster process stopped.
    #[cfg(feature = "cluster")]
    #[error("cluster: {0}")]
    Cluster(#[from] crate::cluster::ClusterError),
    /// The timeline stopped (interactive or export).
    #[error(transparent)]
    Timeline(#[from] TimelineError),
    /// The command line makes no sense (exit code 2).
    #[error("{0}")]
    Usage(String),
    /// Writing output or a file failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        source: std::io::Error,
    },
}

impl From<SourceError> for Error {
    /// A location that cannot name evidence at all is the user's to fix (exit code 2).
    fn from(error: SourceError) -> Self {
        match error {
            SourceError::Location(text) => Error::Usage(text),
            other => Error::Source(other),
        }
    }
}

impl From<crate::sample::SampleError> for Error {
    /// The generator's failure to write is an output failure like any other.
    fn from(error: crate::sample::SampleError) -> Self {
        Error::Io {
            context: error.context,
            source: error.source,
        }
    }
}

impl From<crate::time::EmptyWindow> for Error {
    /// An empty window is the user's to fix (exit code 2).
    fn from(error: crate::time::EmptyWindow) -> Self {
        Error::Usage(error.to_string())
    }
}

/// Convenience alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Exit codes: 0 success, 1 error, 2 usage, 3 completed with rejected records or blobs.
pub mod exit {
    /// Success.
    pub const OK: u8 = 0;
    /// A fatal error.
    pub const ERROR: u8 = 1;
    /// A usage error (also clap's).
    pub const USAGE: u8 = 2;
    /// Completed, but some records or blobs were rejected; the output says which.
    pub const PARTIAL: u8 = 3;
    /// `scope` completed and found nothing, but the evidence cannot show that nothing happened
    /// (no tool-call telemetry in the window, or no baseline); the report says what is missing.
    pub const INCONCLUSIVE: u8 = 4;
}

impl Error {
    /// The exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) | Error::Ingest(IngestError::EmptyWindow(_)) => exit::USAGE,
            _ => exit::ERROR,
        }
    }
}
