//! Ingest: a source's blobs, decoded in parallel, into a case, in a deterministic order.
//!
//! Blobs are listed and pruned by their path time before any is opened. Worker threads hash and
//! decode blobs concurrently; their output is re-ordered into listing order before it reaches
//! the single [`CaseWriter`], so the case (which duplicate copy is kept, file contents, counts
//! per blob) does not depend on thread timing. Workers may run at most a fixed window of blobs
//! ahead of the writer, so memory is bounded by the window, not by the source.

mod accounting;
mod blob;
mod blob_log;
mod commit;
mod outcome;
mod pool;
pub mod recheck;

use std::collections::BTreeMap;

use chrono::Utc;

use crate::case::Case;
use crate::case::writer::{CaseWriter, remove_stale_temporaries};
use crate::sources::EvidenceSource;
use crate::time::{EmptyWindow, TimeSpec, WindowSpec, format_utc};
use accounting::Accounting;
use blob_log::BlobLog;
pub use outcome::{IgnoredFile, IngestError, IngestEvent, IngestSummary, StoppedEarly};
use pool::Pool;

/// Refuses to ingest from a case, or into a directory holding export containers, before anything
/// is created or written.
fn refuse_swapped(
    source: &dyn EvidenceSource,
    case_root: &std::path::Path,
) -> Result<(), IngestError> {
    let described = source.describe();
    let source_path = std::path::Path::new(&described);
    if source_path.join(crate::case::MANIFEST_FILE).is_file() {
        return Err(IngestError::SourceIsCase(described));
    }
    let Ok(entries) = std::fs::read_dir(case_root) else {
        return Ok(());
    };
    let containers: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|name| crate::sources::ExportKind::from_container(name).is_some())
        .take(3)
        .collect();
    if containers.is_empty() {
        Ok(())
    } else {
        Err(IngestError::CaseIsEvidence(
            case_root.display().to_string(),
            containers.join(", "),
        ))
    }
}

/// What to ingest and how.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Window start; blobs whose path time ends before it are not opened.
    pub since: Option<TimeSpec>,
    /// Window end; blobs whose path time starts at or after it are not opened.
    pub until: Option<TimeSpec>,
    /// Decoding threads.
    pub threads: usize,
    /// The command line (secrets are redacted before it is recorded).
    pub command: Vec<String>,
    /// How many reject warnings to print before summarising the rest.
    pub warn_limit: usize,
    /// Keep a verified copy of every blob read under `<case>/raw/`.
    pub keep_raw: bool,
    /// What to derive for the queries once the run is committed, under the case's write lock
    /// (the command supplies `query::call_index::ensure_blocking`; `None` derives nothing and
    /// scope reads the view instead).
    pub derive: Option<crate::case::derived::DeriveFn>,
}

impl Default for IngestOptions {
    fn default() -> Self {
        Self {
            since: None,
            until: None,
            threads: std::thread::available_parallelism().map_or(2, usize::from),
            command: Vec::new(),
            warn_limit: 20,
            keep_raw: false,
            derive: None,
        }
    }
}

/// Ingests every export blob of `source` into the case at `case_root`, telling nothing as it
/// goes (the summary says what happened).
pub fn ingest(
    source: &dyn EvidenceSource,
    case_root: &std::path::Path,
    options: &IngestOptions,
) -> Result<IngestSummary, IngestError> {
    ingest_observed(source, case_root, options, &|_| {})
}

/// [`ingest`], telling `observer` each [`IngestEvent`] as it happens (from the writing thread).
pub fn ingest_observed(
    source: &dyn EvidenceSource,
    case_root: &std::path::Path,
    options: &IngestOptions,
    observer: &(dyn Fn(IngestEvent<'_>) + Sync),
) -> Result<IngestSummary, IngestError> {
    let started = Utc::now();
    // Checked and listed before the case directory is created: a run that fails here leaves nothing.
    refuse_swapped(source, case_root)?;
    let listing = source.list()?;
    if listing.blobs.is_empty() {
        return Err(IngestError::EmptySource {
            location: source.describe(),
            ignored: listing.ignored.len(),
        });
    }
    let evidence_end = listing
        .blobs
        .iter()
        .filter_map(|b| b.path_time.map(|t| t.start + t.span))
        .max()
        .unwrap_or(started);
    // Spans count back from the end of the evidence listed.
    let (since, until) = WindowSpec {
        since: options.since,
        until: options.until,
    }
    .bounds(evidence_end);
    if let (Some(since), Some(until)) = (since, until)
        && since >= until
    {
        return Err(IngestError::EmptyWindow(EmptyWindow { since, until }));
    }
    // Held to the end of the run: another ingest into this case waits for nothing and fails.
    let _lock = crate::case::lock_for_writing(case_root)?;
    let mut summary = commit_run(
        source,
        case_root,
        options,
        observer,
        Selection::of(listing, since, until, started),
    )?;
    // Still under the lock: the call index is derived from the case as this run left it.
    if let Some(derive) = options.derive {
        observer(IngestEvent::Deriving);
        let case = Case::open(case_root)?;
        summary.call_index = Some(derive(&case));
    }
    Ok(summary)
}

/// Reads the selected blobs of `listing` into the case and commits the run (the case's write
/// lock held): the run is prepared here, its blobs decoded by the [`pool::Pool`], counted by
/// the [`accounting::Accounting`] and committed by [`commit::commit`].
fn commit_run(
    source: &dyn EvidenceSource,
    case_root: &std::path::Path,
    options: &IngestOptions,
    observer: &(dyn Fn(IngestEvent<'_>) + Sync),
    selection: Selection,
) -> Result<IngestSummary, IngestError> {
    let Selection {
        blobs: selected,
        ignored,
        blobs_listed,
        since,
        until,
        started,
    } = selection;
    let mut case = Case::open_or_create(case_root)?;
    remove_stale_temporaries(&case)?;
    let settled = crate::case::journal::settle(&case)?;
    let ingest_id = new_ingest_id(&case, started)?;
    observer(IngestEvent::Reading {
        bytes: selected.iter().map(|b| b.size).sum(),
    });
    let summary = IngestSummary {
        ingest_id: ingest_id.clone(),
        unchanged: false,
        case: case_root.display().to_string(),
        source: source.describe(),
        since: since.map(format_utc),
        until: until.map(format_utc),
        blobs_listed,
        blobs_outside_window: blobs_listed - selected.len() as u64,
        blobs_already_ingested: 0,
        files: 0,
        blobs_failed: 0,
        blobs_rewritten: Vec::new(),
        ignored: ignored
            .into_iter()
            .map(|(path, reason)| IgnoredFile { path, reason })
            .collect(),
        tables: BTreeMap::new(),
        records: 0,
        rejected: 0,
        duplicates: 0,
        rows_with_repeated_keys: 0,
        first_time: None,
        last_time: None,
        bytes_read: 0,
        stopped_early: None,
        call_index: None,
        recovered_commit: recovered(settled),
    };
    // The run's blob records go to a file as blobs finish, in listing order, and are streamed
    // into the manifest at the end: memory does not grow with the number of blobs.
    let mut accounting = Accounting::new(
        summary,
        CaseWriter::new(&case, &ingest_id)?,
        BlobLog::create(case_root, &ingest_id)?,
        observer,
        options.warn_limit,
    );
    let raw_dir = options.keep_raw.then(|| case_root.join("raw"));
    let known = case.known_blobs()?;
    let pool = Pool {
        source,
        blobs: &selected,
        known: &known,
        raw_dir: raw_dir.as_deref(),
        threads: options.threads,
    };
    pool.decode_in_order(|index, message| accounting.consume(index, &selected[index], message))?;
    observer(IngestEvent::Read);
    accounting.finish_reading(source, selected.len());
    commit::commit(&mut case, accounting, &options.command, started)
}

/// The blobs a run reads: the listing pruned to the window by path time.
struct Selection {
    /// The blobs whose path time overlaps the window, in listing order.
    blobs: Vec<crate::sources::BlobRef>,
    /// Files at the source that are not export blobs, with the reason.
    ignored: Vec<(String, String)>,
    /// Blobs listed, before pruning.
    blobs_listed: u64,
    since: Option<chrono::DateTime<Utc>>,
    until: Option<chrono::DateTime<Utc>>,
    /// When the run began.
    started: chrono::DateTime<Utc>,
}

impl Selection {
    fn of(
        listing: crate::sources::Listing,
        since: Option<chrono::DateTime<Utc>>,
        until: Option<chrono::DateTime<Utc>>,
        started: chrono::DateTime<Utc>,
    ) -> Self {
        // Filtered in place: a listing holds hundreds of thousands of blobs.
        let mut blobs = listing.blobs;
        let blobs_listed = blobs.len() as u64;
        blobs.retain(|b| b.path_time.is_none_or(|t| t.overlaps(since, until)));
        Self {
            blobs,
            ignored: listing.ignored,
            blobs_listed,
            since,
            until,
            started,
        }
    }
}

/// A run id unique within the case (the files a run writes are named after it).
fn new_ingest_id(case: &Case, started: chrono::DateTime<Utc>) -> Result<String, IngestError> {
    let base_id = format!(
        "{}-{:04x}",
        started.format("%Y%m%dT%H%M%S%3fZ"),
        std::process::id() & 0xffff
    );
    let mut ingest_id = base_id.clone();
    let mut attempt = 1;
    while case.head()?.ingests.iter().any(|i| i.id == ingest_id) {
        attempt += 1;
        ingest_id = format!("{base_id}-{attempt}");
    }
    Ok(ingest_id)
}

/// How the start of the run settled a commit an earlier, killed run left unfinished.
fn recovered(settled: crate::case::journal::Settled) -> Option<String> {
    match settled {
        crate::case::journal::Settled::Nothing => None,
        crate::case::journal::Settled::Completed(id) => Some(format!(
            "run {id} had been killed after its manifest entry was saved; its commit journal was removed"
        )),
        crate::case::journal::Settled::RolledBack { ingest_id, removed } => Some(format!(
            "run {ingest_id} had been killed while committing; its {} placed files were removed and its blobs are read again by this run",
            removed.len()
        )),
    }
}
