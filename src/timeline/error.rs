//! The timeline's error: what stops it, interactive or exporting.

/// Errors of the interactive timeline.
#[derive(Debug, thiserror::Error)]
pub enum TimelineError {
    /// The terminal failed.
    #[error("terminal: {0}")]
    Terminal(#[from] std::io::Error),
    /// The case could not be opened.
    #[error(transparent)]
    Case(#[from] crate::case::CaseError),
    /// No query runtime could be started.
    #[error("starting a query runtime: {0}")]
    Runtime(std::io::Error),
    /// The timeline query failed.
    #[error("timeline query: {0}")]
    Query(#[from] crate::query::QueryError),
    /// The query's output was not what the timeline reads.
    #[error(transparent)]
    Store(#[from] super::store::StoreError),
    /// Scope or the Sigma rules could not mark the timeline.
    #[error("marking the timeline: {0}")]
    Marks(String),
    /// Writing the exported timeline failed.
    #[error("writing the timeline: {0}")]
    Write(std::io::Error),
}
