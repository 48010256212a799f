//! Ingest: a source's blobs, decoded in parallel, into a case, in a deterministic order.
//!
//! Blobs are listed and pruned by their path time before any is opened. Worker threads hash and
//! decode blobs concurrently; their output is re-ordered into listing order before it reaches
//! the single [`CaseWriter`], so the case (which duplicate copy is kept, file contents, counts
//! per blob) does not depend on thread timing. Workers may run at most a fixed window of blobs
//! ahead of the writer, so memory is bounded by the window, not by the source.

mod blob;
mod blob_log;
pub mod recheck;

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Condvar, Mutex};

use chrono::Utc;
use serde::Serialize;

use crate::case::manifest::{BlobRecord, IngestRecord};
use crate::case::writer::{CaseWriter, remove_stale_temporaries};
use crate::case::{Case, CaseError};
use crate::parsers::{self, DecodeEvent, DecodeStats};
use crate::sources::{BlobRef, EvidenceSource, SourceError};
use crate::time::{EmptyWindow, TimeSpec, WindowSpec, format_utc, from_nanos};
use blob::{BlobError, BlobResult, process_blob};
use blob_log::BlobLog;

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

/// Decoded bytes queued for the writer past which workers decoding ahead wait: memory is
/// bounded by this and the record limit, not by blob sizes.
const QUEUED_BYTES: usize = 64 << 20;

/// Blobs a worker may decode ahead of the writer.
const WINDOW_PER_THREAD: usize = 4;

enum Message {
    Event(DecodeEvent),
    Done(Result<BlobResult, BlobError>),
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
        crate::sources::Listing {
            blobs: listing.blobs,
            ignored: listing.ignored,
        },
        (since, until),
        started,
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
/// lock held).
#[allow(
    clippy::too_many_arguments,
    reason = "the run's inputs as ingest_observed resolved them; still to be split into the worker pool, the accounting and the commit (issue 37)"
)]
fn commit_run(
    source: &dyn EvidenceSource,
    case_root: &std::path::Path,
    options: &IngestOptions,
    observer: &(dyn Fn(IngestEvent<'_>) + Sync),
    listing: crate::sources::Listing,
    (since, until): (Option<chrono::DateTime<Utc>>, Option<chrono::DateTime<Utc>>),
    started: chrono::DateTime<Utc>,
) -> Result<IngestSummary, IngestError> {
    let mut case = Case::open_or_create(case_root)?;
    remove_stale_temporaries(&case)?;
    let settled = crate::case::journal::settle(&case)?;
    // Filtered in place: a listing holds hundreds of thousands of blobs.
    let mut selected = listing.blobs;
    let blobs_listed = selected.len() as u64;
    selected.retain(|b| b.path_time.is_none_or(|t| t.overlaps(since, until)));
    // Unique within the case: the files a run writes are named after it.
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

    observer(IngestEvent::Reading {
        bytes: selected.iter().map(|b| b.size).sum(),
    });
    let mut summary = IngestSummary {
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
        ignored: listing
            .ignored
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
        recovered_commit: match settled {
            crate::case::journal::Settled::Nothing => None,
            crate::case::journal::Settled::Completed(id) => Some(format!(
                "run {id} had been killed after its manifest entry was saved; its commit journal was removed"
            )),
            crate::case::journal::Settled::RolledBack { ingest_id, removed } => Some(format!(
                "run {ingest_id} had been killed while committing; its {} placed files were removed and its blobs are read again by this run",
                removed.len()
            )),
        },
    };
    let mut writer = CaseWriter::new(&case, &ingest_id)?;
    // The run's blob records go to a file as blobs finish, in listing order, and are streamed
    // into the manifest at the end: memory does not grow with the number of blobs.
    let mut blob_log = BlobLog::create(case_root, &ingest_id)?;
    // Rows written and duplicates dropped so far for the blob being handled.
    let mut current: (usize, (u64, u64)) = (usize::MAX, (0, 0));
    let mut warnings_printed = 0usize;
    let (mut first, mut last): (Option<i64>, Option<i64>) = (None, None);

    let raw_dir = options.keep_raw.then(|| case_root.join("raw"));
    let next_to_write = Mutex::new(0usize);
    let advanced = Condvar::new();
    let next_job = AtomicUsize::new(0);
    // Bytes of decoded batches sent to the writer and not yet written.
    let queued_bytes = AtomicUsize::new(0);
    // Set when the writer fails: workers stop instead of waiting for it forever.
    let stopped = std::sync::atomic::AtomicBool::new(false);
    let window = options.threads.max(1) * WINDOW_PER_THREAD;
    let known = case.known_blobs()?;
    let (sender, receiver) = mpsc::channel::<(usize, Message)>();

    let write_result: Result<(), CaseError> = std::thread::scope(|scope| {
        for _ in 0..options.threads.max(1) {
            let sender = sender.clone();
            let (selected, next_job, next_to_write, advanced, known, queued_bytes) = (
                &selected,
                &next_job,
                &next_to_write,
                &advanced,
                &known,
                &queued_bytes,
            );
            let raw_dir = raw_dir.as_deref();
            let stopped = &stopped;
            scope.spawn(move || {
                loop {
                    let index = next_job.fetch_add(1, Ordering::SeqCst);
                    let Some(blob) = selected.get(index) else {
                        break;
                    };
                    {
                        let mut next = next_to_write
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner);
                        while index >= *next + window && !stopped.load(Ordering::SeqCst) {
                            next = advanced
                                .wait(next)
                                .unwrap_or_else(std::sync::PoisonError::into_inner);
                        }
                    }
                    // The storage stopped answering: no more blobs are started.
                    if stopped.load(Ordering::SeqCst) || source.unavailable().is_some() {
                        break;
                    }
                    let result = process_blob(
                        source,
                        blob,
                        parsers::plan_for(&blob.kind).decoder,
                        known,
                        raw_dir,
                        &mut |event| {
                            if let DecodeEvent::Batch(batch) = &event {
                                // Batches of blobs decoded ahead wait while too many bytes are
                                // queued for the writer; the blob being written never waits.
                                let size = batch.get_array_memory_size();
                                let mut next = next_to_write
                                    .lock()
                                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                                while index != *next
                                    && queued_bytes.load(Ordering::SeqCst) > QUEUED_BYTES
                                    && !stopped.load(Ordering::SeqCst)
                                {
                                    next = advanced
                                        .wait(next)
                                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                                }
                                queued_bytes.fetch_add(size, Ordering::SeqCst);
                            }
                            let _ = sender.send((index, Message::Event(event)));
                        },
                    );
                    if sender.send((index, Message::Done(result))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(sender);

        let mut pending: BTreeMap<usize, VecDeque<Message>> = BTreeMap::new();
        let mut handle = |index: usize, message: Message| -> Result<bool, CaseError> {
            let blob = &selected[index];
            // Derived per blob, not held for every blob listed.
            let plan = &parsers::plan_for(&blob.kind);
            match message {
                Message::Event(DecodeEvent::Batch(batch)) => {
                    let (written, duplicates) = writer.write(&plan.table, &batch)?;
                    queued_bytes.fetch_sub(batch.get_array_memory_size(), Ordering::SeqCst);
                    drop(batch);
                    // Taken and released so a worker checking the budget cannot miss the wake-up.
                    drop(
                        next_to_write
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner),
                    );
                    advanced.notify_all();
                    let entry = counts_of(&mut current, index);
                    entry.0 += written;
                    entry.1 += duplicates;
                    *summary.tables.entry(plan.table.clone()).or_default() += written;
                    Ok(false)
                }
                Message::Event(DecodeEvent::Reject(reject)) => {
                    writer.reject(&blob.path, &reject)?;
                    if warnings_printed < options.warn_limit {
                        observer(IngestEvent::Rejected {
                            blob: &blob.path,
                            line: reject.line,
                            reason: &reject.reason,
                        });
                        warnings_printed += 1;
                    }
                    Ok(false)
                }
                Message::Done(result) => {
                    observer(IngestEvent::BlobDone { bytes: blob.size });
                    let (written, duplicates) = *counts_of(&mut current, index);
                    current = (usize::MAX, (0, 0));
                    match result {
                        Ok(done) if done.already_ingested => summary.blobs_already_ingested += 1,
                        Ok(done) if done.rewritten.is_some() => {
                            observer(IngestEvent::Rewritten {
                                blob: &blob.path,
                                reason: done.rewritten.as_deref().unwrap_or_default(),
                            });
                            summary.blobs_rewritten.push(blob.path.clone());
                            blob_log
                                .push(&record_for(blob, plan, &done, 0, 0, &ingest_id, None))?;
                        }
                        Ok(done) => {
                            if let Some(line) = done.stats.first_repeated_key_line {
                                summary.rows_with_repeated_keys += done.stats.repeated_keys;
                                observer(IngestEvent::RepeatedKeys {
                                    blob: &blob.path,
                                    line,
                                    rows: done.stats.repeated_keys,
                                });
                            }
                            summary.files += 1;
                            summary.bytes_read += done.size;
                            summary.records += written;
                            summary.rejected += done.stats.rejected;
                            summary.duplicates += duplicates;
                            if written > 0 {
                                first = min_opt(first, done.stats.first_time);
                                last = max_opt(last, done.stats.last_time);
                            }
                            blob_log.push(&record_for(
                                blob, plan, &done, written, duplicates, &ingest_id, None,
                            ))?;
                        }
                        Err(error) => {
                            // The manifest records the reason as text, as it was told.
                            let error = error.to_string();
                            summary.blobs_failed += 1;
                            observer(IngestEvent::Failed {
                                blob: &blob.path,
                                error: &error,
                            });
                            let failed = BlobResult {
                                sha256: String::new(),
                                size: blob.size,
                                stats: DecodeStats::default(),
                                already_ingested: false,
                                raw_copy: None,
                                rewritten: None,
                            };
                            blob_log.push(&record_for(
                                blob,
                                plan,
                                &failed,
                                written,
                                duplicates,
                                &ingest_id,
                                Some(error),
                            ))?;
                        }
                    }
                    Ok(true)
                }
            }
        };
        let mut next = 0usize;
        let outcome = (|| {
            for (index, message) in receiver.iter() {
                if index != next {
                    pending.entry(index).or_default().push_back(message);
                    continue;
                }
                let mut finished = handle(index, message)?;
                while finished {
                    next += 1;
                    *next_to_write
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner) = next;
                    advanced.notify_all();
                    finished = false;
                    if let Some(queue) = pending.remove(&next) {
                        for message in queue {
                            finished = handle(next, message)?;
                        }
                    }
                }
            }
            Ok(())
        })();
        if outcome.is_err() {
            // Wake every worker waiting for the writer; their sends fail once the receiver is gone.
            stopped.store(true, Ordering::SeqCst);
            let _guard = next_to_write
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            advanced.notify_all();
        }
        drop(receiver);
        outcome
    });
    write_result?;
    observer(IngestEvent::Read);
    if let Some(reason) = source.unavailable() {
        let handled = summary.blobs_already_ingested
            + summary.files
            + summary.blobs_failed
            + summary.blobs_rewritten.len() as u64;
        summary.stopped_early = Some(StoppedEarly {
            reason,
            blobs_not_started: (selected.len() as u64).saturating_sub(handled),
        });
    }
    if options.warn_limit > 0 && warnings_printed < summary.rejected as usize {
        observer(IngestEvent::MoreRejected {
            count: summary.rejected - warnings_printed as u64,
        });
    }

    // From here to the saved manifest an interruption waits: the run's files and its manifest
    // entry land together.
    let _commit = crate::interrupt::commit_guard();
    let files = writer.finish()?;
    summary.first_time = first.map(|t| format_utc(from_nanos(t)));
    summary.last_time = last.map(|t| format_utc(from_nanos(t)));
    let (blob_lines, blob_totals) = blob_log.finish()?;
    let had_runs = !case.head()?.ingests.is_empty();
    if had_runs
        && files.is_empty()
        && summary.files == 0
        && summary.blobs_failed == 0
        && summary.blobs_rewritten.is_empty()
    {
        // Nothing new: the manifest (and its SHA-256, which reports cite) stays as it was.
        summary.unchanged = true;
        return Ok(summary);
    }
    let run = IngestRecord {
        id: ingest_id,
        tool_version: env!("CARGO_PKG_VERSION").into(),
        command: crate::case::manifest::redact_command(options.command.iter().cloned()),
        source: summary.source.clone(),
        since: summary.since.clone(),
        until: summary.until.clone(),
        started: format_utc(started),
        finished: format_utc(Utc::now()),
        blobs_listed: summary.blobs_listed,
        blobs_outside_window: summary.blobs_outside_window,
        blobs_already_ingested: summary.blobs_already_ingested,
        blobs_read: summary.files,
        blobs_failed: summary.blobs_failed,
        rows_written: summary.records,
        rejected: summary.rejected,
        duplicates: summary.duplicates,
        files: files.clone(),
    };
    crate::case::journal::crash_point("manifest", 0);
    let committed = case.commit_ingest(run, blob_lines, blob_totals);
    drop(blob_log);
    if let Err(error) = committed {
        // Without its manifest entry the run's files are not evidence: take them back out.
        for file in &files {
            let _ = std::fs::remove_file(case_root.join(&file.path));
        }
        let _ = crate::case::journal::end(case_root);
        return Err(error.into());
    }
    crate::case::journal::end(case_root)?;
    Ok(summary)
}

/// The (rows written, duplicates dropped) of blob `index`, reset when a new blob starts.
fn counts_of(current: &mut (usize, (u64, u64)), index: usize) -> &mut (u64, u64) {
    if current.0 != index {
        *current = (index, (0, 0));
    }
    &mut current.1
}

fn min_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

fn max_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, y) => x.or(y),
    }
}

fn record_for(
    blob: &BlobRef,
    plan: &parsers::BlobPlan,
    done: &BlobResult,
    accepted: u64,
    duplicates: u64,
    ingest_id: &str,
    read_error: Option<String>,
) -> BlobRecord {
    BlobRecord {
        path: blob.path.clone(),
        size: done.size,
        sha256: done.sha256.clone(),
        format: plan.decoder.format_label().into(),
        table: plan.table.clone(),
        accepted,
        rejected: done.stats.rejected,
        duplicates,
        first_time: done.stats.first_time.map(|t| format_utc(from_nanos(t))),
        last_time: done.stats.last_time.map(|t| format_utc(from_nanos(t))),
        ingest_id: ingest_id.into(),
        read_error,
        etag: blob.etag.clone(),
        last_modified: blob.last_modified.clone(),
        raw_copy: done.raw_copy.clone(),
        rewritten: done.rewritten.clone(),
    }
}
