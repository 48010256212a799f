//! What a run tells and returns: its events as it goes, its summary, and the errors that stop
//! it (below the run's rooms, which all use them).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::case::CaseError;
use crate::sources::SourceError;
use crate::time::EmptyWindow;

/// Errors that stop an ingest (bad records never do).
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The source could not be listed.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// The case could not be written.
    #[error(transparent)]
    Case(#[from] CaseError),
    /// The source holds no export blob: nothing to ingest (a wrong path, or an empty container).
    #[error(
        "{location} holds no export blobs to ingest ({ignored} other files ignored): check the path or URL; nothing was written"
    )]
    EmptySource {
        /// The source as described to the user.
        location: String,
        /// Files listed but not export blobs.
        ignored: usize,
    },
    /// The case directory holds export containers: it is evidence, not a case.
    #[error(
        "{0} holds export containers ({1}): it looks like evidence, not a case; were SOURCE and --case swapped? Nothing was written"
    )]
    CaseIsEvidence(String, String),
    /// The window holds no time once resolved against the end of the evidence listed.
    #[error("{0}; nothing was written")]
    EmptyWindow(EmptyWindow),
    /// The source is an mcpforensics case, not evidence.
    #[error(
        "{0} is an mcpforensics case (it has a manifest.json), not evidence; were SOURCE and --case swapped? Nothing was written"
    )]
    SourceIsCase(String),
}

/// Totals of one ingest run, as printed and as JSON.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct IngestSummary {
    /// The run id.
    pub ingest_id: String,
    /// The run found nothing new: the case and its manifest were left byte for byte as they
    /// were (reports citing the manifest's SHA-256 stay valid), and the run is not recorded.
    #[serde(default)]
    pub unchanged: bool,
    /// The case directory.
    pub case: String,
    /// The evidence location.
    pub source: String,
    /// Resolved window start.
    pub since: Option<String>,
    /// Resolved window end.
    pub until: Option<String>,
    /// Blobs listed at the source.
    pub blobs_listed: u64,
    /// Blobs not opened: path time outside the window.
    pub blobs_outside_window: u64,
    /// Blobs skipped: same path and SHA-256 already in the case.
    pub blobs_already_ingested: u64,
    /// Blobs read and decoded (the `files` of this run).
    pub files: u64,
    /// Blobs whose read failed part-way.
    pub blobs_failed: u64,
    /// Blobs whose earlier bytes changed since the case read them (rewritten, not appended):
    /// named, not decoded; the version the case holds stays its evidence.
    #[serde(default)]
    pub blobs_rewritten: Vec<String>,
    /// Files at the source that are not export blobs, with the reason.
    pub ignored: Vec<IgnoredFile>,
    /// Rows written, per table.
    pub tables: BTreeMap<String, u64>,
    /// Rows written in all.
    pub records: u64,
    /// Records rejected (kept in the case's rejects).
    pub rejected: u64,
    /// Exact duplicate rows dropped.
    pub duplicates: u64,
    /// Rows kept with a repeated JSON key (the first value in the column, the later ones under
    /// `_extra._duplicate_keys`); each blob holding one is named on stderr.
    #[serde(default)]
    pub rows_with_repeated_keys: u64,
    /// Earliest row time written.
    pub first_time: Option<String>,
    /// Latest row time written.
    pub last_time: Option<String>,
    /// Bytes read from the source.
    pub bytes_read: u64,
    /// Set when the source stopped answering and the run stopped early: why, and how many
    /// blobs were never started (a re-run reads them and the failed ones).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped_early: Option<StoppedEarly>,
    /// How a commit that an earlier, killed run left unfinished was settled at the start of
    /// this one (rolled back, its blobs read again by this run; or completed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovered_commit: Option<String>,
    /// The call index derived for scope after the run (or why there is none): see
    /// [`IngestOptions::derive`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call_index: Option<crate::case::derived::Derived>,
}

/// A file at the source that was not ingested.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct IgnoredFile {
    /// Path relative to the source.
    pub path: String,
    /// Why.
    pub reason: String,
}

impl IngestSummary {
    /// Whether anything was rejected, failed or ignored (exit code 3).
    pub fn has_losses(&self) -> bool {
        self.rejected > 0
            || self.blobs_failed > 0
            || !self.blobs_rewritten.is_empty()
            || self.stopped_early.is_some()
    }
}

/// Why a run stopped before reading every blob it selected.
#[derive(Debug, Clone, serde::Serialize, PartialEq, Eq)]
pub struct StoppedEarly {
    /// What the source last said.
    pub reason: String,
    /// Blobs selected but never started.
    pub blobs_not_started: u64,
}

/// What a run tells as it goes; the caller decides how to show it (nothing here prints).
#[derive(Debug, Clone, Copy)]
pub enum IngestEvent<'a> {
    /// The listing is pruned: this many bytes of blobs will be considered.
    Reading {
        /// Their total size.
        bytes: u64,
    },
    /// A blob is done with (read, skipped or failed).
    BlobDone {
        /// Its size.
        bytes: u64,
    },
    /// A record was rejected (only the run's first `warn_limit`).
    Rejected {
        /// The blob.
        blob: &'a str,
        /// Its line.
        line: u64,
        /// Why.
        reason: &'a str,
    },
    /// A blob's rows repeat a JSON key.
    RepeatedKeys {
        /// The blob.
        blob: &'a str,
        /// The first line with a repeated key.
        line: u64,
        /// Rows of the blob with one.
        rows: u64,
    },
    /// A blob changed since the case read it, and was not read again.
    Rewritten {
        /// The blob.
        blob: &'a str,
        /// What changed.
        reason: &'a str,
    },
    /// A blob could not be read.
    Failed {
        /// The blob.
        blob: &'a str,
        /// Why.
        error: &'a str,
    },
    /// Every blob is done with; the case is being committed.
    Read,
    /// The run is committed; the call index is being derived.
    Deriving,
    /// Rejects beyond `warn_limit` that were not told one by one.
    MoreRejected {
        /// How many.
        count: u64,
    },
}
