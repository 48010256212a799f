//! The accounting of a run: each decoded message written to the case and counted on its blob
//! and on the run's summary, each finished blob recorded in the blob log, and told to the
//! observer.

use crate::case::CaseError;
use crate::case::manifest::BlobRecord;
use crate::case::writer::CaseWriter;
use crate::parsers::{self, DecodeEvent, DecodeStats};
use crate::sources::{BlobRef, EvidenceSource};
use crate::time::{format_utc, from_nanos};

use super::blob::BlobResult;
use super::blob_log::BlobLog;
use super::outcome::{IngestEvent, IngestSummary, StoppedEarly};
use super::pool::Message;

/// The run's counts as its blobs are consumed in listing order.
pub(super) struct Accounting<'a> {
    /// The totals, as they will be reported.
    pub summary: IngestSummary,
    /// Where rows and rejects go.
    pub writer: CaseWriter,
    /// The run's blob records, spilled as blobs finish.
    pub blob_log: BlobLog,
    /// The earliest and latest row times written (nanoseconds).
    pub first: Option<i64>,
    /// See `first`.
    pub last: Option<i64>,
    ingest_id: String,
    observer: &'a (dyn Fn(IngestEvent<'_>) + Sync),
    warn_limit: usize,
    warnings_told: usize,
    /// (blob index, (rows written, duplicates dropped)) of the blob being consumed.
    current: (usize, (u64, u64)),
}

impl<'a> Accounting<'a> {
    /// Starts the accounting of run `ingest_id` from its summary so far.
    pub(super) fn new(
        summary: IngestSummary,
        writer: CaseWriter,
        blob_log: BlobLog,
        observer: &'a (dyn Fn(IngestEvent<'_>) + Sync),
        warn_limit: usize,
    ) -> Self {
        Self {
            ingest_id: summary.ingest_id.clone(),
            summary,
            writer,
            blob_log,
            first: None,
            last: None,
            observer,
            warn_limit,
            warnings_told: 0,
            current: (usize::MAX, (0, 0)),
        }
    }

    /// Writes and counts one message of blob `index` (`blob`).
    pub(super) fn consume(
        &mut self,
        index: usize,
        blob: &BlobRef,
        message: Message,
    ) -> Result<(), CaseError> {
        // Derived per blob, not held for every blob listed.
        let plan = &parsers::plan_for(&blob.kind);
        match message {
            Message::Event(DecodeEvent::Batch(batch)) => {
                let (written, duplicates) = self.writer.write(&plan.table, &batch)?;
                let entry = self.counts_of(index);
                entry.0 += written;
                entry.1 += duplicates;
                *self.summary.tables.entry(plan.table.clone()).or_default() += written;
            }
            Message::Event(DecodeEvent::Reject(reject)) => {
                self.writer.reject(&blob.path, &reject)?;
                if self.warnings_told < self.warn_limit {
                    (self.observer)(IngestEvent::Rejected {
                        blob: &blob.path,
                        line: reject.line,
                        reason: &reject.reason,
                    });
                    self.warnings_told += 1;
                }
            }
            Message::Done(result) => {
                (self.observer)(IngestEvent::BlobDone { bytes: blob.size });
                let (written, duplicates) = *self.counts_of(index);
                self.current = (usize::MAX, (0, 0));
                let record = match result {
                    Ok(done) if done.already_ingested => {
                        self.summary.blobs_already_ingested += 1;
                        None
                    }
                    Ok(done) if done.rewritten.is_some() => {
                        (self.observer)(IngestEvent::Rewritten {
                            blob: &blob.path,
                            reason: done.rewritten.as_deref().unwrap_or_default(),
                        });
                        self.summary.blobs_rewritten.push(blob.path.clone());
                        Some(self.record_for(blob, plan, &done, (0, 0), None))
                    }
                    Ok(done) => {
                        self.count_read(blob, &done, written, duplicates);
                        Some(self.record_for(blob, plan, &done, (written, duplicates), None))
                    }
                    Err(error) => {
                        // The manifest records the reason as text, as it was told.
                        let error = error.to_string();
                        self.summary.blobs_failed += 1;
                        (self.observer)(IngestEvent::Failed {
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
                        Some(self.record_for(
                            blob,
                            plan,
                            &failed,
                            (written, duplicates),
                            Some(error),
                        ))
                    }
                };
                if let Some(record) = record {
                    self.blob_log.push(&record)?;
                }
            }
        }
        Ok(())
    }

    /// Counts a blob read to its end on the summary.
    fn count_read(&mut self, blob: &BlobRef, done: &BlobResult, written: u64, duplicates: u64) {
        let summary = &mut self.summary;
        if let Some(line) = done.stats.first_repeated_key_line {
            summary.rows_with_repeated_keys += done.stats.repeated_keys;
            (self.observer)(IngestEvent::RepeatedKeys {
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
            self.first = min_opt(self.first, done.stats.first_time);
            self.last = max_opt(self.last, done.stats.last_time);
        }
    }

    /// Every blob consumed: says whether the source stopped answering before `selected` blobs
    /// were handled, and how many rejects were not told one by one.
    pub(super) fn finish_reading(&mut self, source: &dyn EvidenceSource, selected: usize) {
        let summary = &mut self.summary;
        if let Some(reason) = source.unavailable() {
            let handled = summary.blobs_already_ingested
                + summary.files
                + summary.blobs_failed
                + summary.blobs_rewritten.len() as u64;
            summary.stopped_early = Some(StoppedEarly {
                reason,
                blobs_not_started: (selected as u64).saturating_sub(handled),
            });
        }
        if self.warn_limit > 0 && self.warnings_told < summary.rejected as usize {
            (self.observer)(IngestEvent::MoreRejected {
                count: summary.rejected - self.warnings_told as u64,
            });
        }
    }

    /// The (rows written, duplicates dropped) of blob `index`, reset when a new blob starts.
    fn counts_of(&mut self, index: usize) -> &mut (u64, u64) {
        if self.current.0 != index {
            self.current = (index, (0, 0));
        }
        &mut self.current.1
    }

    /// The manifest's record of a blob done with.
    fn record_for(
        &self,
        blob: &BlobRef,
        plan: &parsers::BlobPlan,
        done: &BlobResult,
        (accepted, duplicates): (u64, u64),
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
            ingest_id: self.ingest_id.clone(),
            read_error,
            etag: blob.etag.clone(),
            last_modified: blob.last_modified.clone(),
            raw_copy: done.raw_copy.clone(),
            rewritten: done.rewritten.clone(),
        }
    }
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
