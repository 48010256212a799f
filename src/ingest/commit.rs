//! The commit of a run: its files placed and its manifest entry saved as one step (an
//! interruption waits; a failure takes the files back out), or nothing touched when the run
//! found nothing new.

use chrono::{DateTime, Utc};

use crate::case::Case;
use crate::case::manifest::IngestRecord;
use crate::time::{format_utc, from_nanos};

use super::accounting::Accounting;
use super::outcome::{IngestError, IngestSummary};

/// Commits the run `accounting` counted into `case` (its write lock held); `command` is the
/// command line (redacted here), `started` when the run began.
pub(super) fn commit(
    case: &mut Case,
    accounting: Accounting<'_>,
    command: &[String],
    started: DateTime<Utc>,
) -> Result<IngestSummary, IngestError> {
    let Accounting {
        mut summary,
        writer,
        mut blob_log,
        first,
        last,
        ..
    } = accounting;
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
        id: summary.ingest_id.clone(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        command: crate::case::manifest::redact_command(command.iter().cloned()),
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
    let case_root = case.root().to_path_buf();
    if let Err(error) = committed {
        // Without its manifest entry the run's files are not evidence: take them back out.
        for file in &files {
            let _ = std::fs::remove_file(case_root.join(&file.path));
        }
        let _ = crate::case::journal::end(&case_root);
        return Err(error.into());
    }
    crate::case::journal::end(&case_root)?;
    Ok(summary)
}
