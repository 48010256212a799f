//! What a person sees of an ingest or a verify run: the progress bar and warnings as the run
//! goes, and the summary when it ends. The runs themselves print nothing.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::case::verify::VerifyReport;
use crate::escape::terminal_safe;
use crate::ingest::{IngestEvent, IngestSummary};

/// Shows an ingest run's [`IngestEvent`]s on standard error: a progress bar (when asked for and
/// standard error is a terminal) with warnings and errors printed above it.
pub struct IngestProgress {
    bar: ProgressBar,
}

impl IngestProgress {
    /// A printer; `bar` draws the progress bar.
    pub fn new(bar: bool) -> Self {
        Self {
            bar: if bar {
                let drawn = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
                if let Ok(style) = ProgressStyle::with_template(
                    "{spinner} ingest [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
                ) {
                    drawn.set_style(style.progress_chars("=> "));
                }
                drawn
            } else {
                ProgressBar::hidden()
            },
        }
    }

    /// Shows one event.
    pub fn observe(&self, event: IngestEvent<'_>) {
        let tell = |line: String| self.bar.suspend(|| crate::tell!("{line}"));
        match event {
            IngestEvent::Reading { bytes } => self.bar.set_length(bytes),
            IngestEvent::BlobDone { bytes } => self.bar.inc(bytes),
            IngestEvent::Rejected { blob, line, reason } => tell(format!(
                "warning: {} line {line}: {}",
                terminal_safe(blob),
                terminal_safe(reason)
            )),
            IngestEvent::RepeatedKeys { blob, line, rows } => tell(format!(
                "warning: {} line {line}: a JSON key is repeated ({rows} rows of this blob); the first value is kept in the column, the others under _extra._duplicate_keys",
                terminal_safe(blob)
            )),
            IngestEvent::Rewritten { blob, reason } => {
                tell(format!("error: {}: {reason}", terminal_safe(blob)))
            }
            IngestEvent::Failed { blob, error } => tell(format!(
                "error: {}: {}",
                terminal_safe(blob),
                terminal_safe(error)
            )),
            IngestEvent::Read => self.bar.finish_and_clear(),
            IngestEvent::Deriving => {
                if !self.bar.is_hidden() {
                    crate::tell!("deriving the call index for scope …");
                }
            }
            IngestEvent::MoreRejected { count } => crate::tell!(
                "warning: {count} more rejected records not shown; all are in the case's rejects (mcpforensics sql \"SELECT * FROM rejects\")"
            ),
        }
    }
}

/// Prints an ingest run's summary for a person.
pub fn print_ingest_summary(s: &IngestSummary) {
    let safe = |t: &str| terminal_safe(t);
    crate::say!(
        "Ingested {} blobs ({} bytes) from {} into case {}",
        s.files,
        s.bytes_read,
        safe(&s.source),
        safe(&s.case)
    );
    crate::say!(
        "  blobs: {} listed, {} outside the window (not opened), {} already in the case, {} failed",
        s.blobs_listed,
        s.blobs_outside_window,
        s.blobs_already_ingested,
        s.blobs_failed
    );
    for path in &s.blobs_rewritten {
        crate::say!(
            "  REWRITTEN since ingested (not read; the earlier version is kept): {}",
            safe(path)
        );
    }
    if let Some(stopped) = &s.stopped_early {
        crate::say!(
            "  STOPPED EARLY: the storage stopped answering ({}); {} blobs were never started. \
             What was read is in the case; run the same command again to resume (blobs already \
             read are skipped, failed and unstarted ones are read).",
            safe(&stopped.reason),
            stopped.blobs_not_started
        );
    }
    if let Some(recovered) = &s.recovered_commit {
        crate::say!("  recovered: {recovered}");
    }
    if s.unchanged {
        crate::say!(
            "  nothing new: the case and its manifest are unchanged (reports citing its SHA-256 stay valid)"
        );
    }
    if s.since.is_some() || s.until.is_some() {
        crate::say!(
            "  window: {} … {}",
            s.since.as_deref().unwrap_or("(start)"),
            s.until.as_deref().unwrap_or("(end)")
        );
    }
    if !s.tables.is_empty() {
        crate::say!("  rows per table:");
        let width = s.tables.keys().map(String::len).max().unwrap_or(0);
        for (table, rows) in &s.tables {
            crate::say!("    {:width$}  {rows:>10}", safe(table));
        }
    }
    crate::say!(
        "  rows written: {} · rejected: {} · duplicates dropped: {}",
        s.records,
        s.rejected,
        s.duplicates
    );
    if s.rows_with_repeated_keys > 0 {
        crate::say!(
            "  rows with a repeated JSON key: {} (first value in the column, the others under _extra._duplicate_keys)",
            s.rows_with_repeated_keys
        );
    }
    if let (Some(first), Some(last)) = (&s.first_time, &s.last_time) {
        crate::say!("  time range: {first} … {last}");
    }
    match &s.call_index {
        Some(crate::query::call_index::Derived::Current {
            dir,
            calls,
            seconds,
        }) => crate::say!(
            "  call index: {calls} tool calls in {} ({}; scope reads them instead of relating the telemetry rows again)",
            safe(dir),
            match seconds {
                Some(seconds) => format!("derived in {seconds:.1} s"),
                None => "already current".into(),
            }
        ),
        Some(crate::query::call_index::Derived::Failed { error }) => crate::say!(
            "  warning: no call index ({}); scope relates the telemetry rows itself, slower, with the same answer",
            safe(error)
        ),
        None => {}
    }
    if !s.ignored.is_empty() {
        crate::say!(
            "  ignored {} files that are not export blobs, e.g. {} ({})",
            s.ignored.len(),
            safe(&s.ignored[0].path),
            s.ignored[0].reason
        );
    }
    if s.rejected > 0 {
        crate::say!(
            "  rejected records are kept in the case: mcpforensics sql --case {} \"SELECT blob, line, reason FROM rejects\"",
            safe(&s.case)
        );
    }
}

/// Prints a verify report: as JSON, or for a person (the source's blobs only when it was checked).
pub fn print_verify_report(
    report: &VerifyReport,
    json: bool,
    source_checked: bool,
) -> Result<(), serde_json::Error> {
    if json {
        crate::say!("{}", serde_json::to_string_pretty(report)?);
    } else {
        let safe = terminal_safe;
        crate::say!("manifest.json sha256 {}", report.manifest_sha256);
        crate::say!("case files: {} match the manifest", report.case_files_ok);
        for (label, list) in [
            ("CHANGED", &report.case_files_changed),
            (
                "REFUSED (not a regular file inside the case)",
                &report.case_files_refused,
            ),
            ("MISSING", &report.case_files_missing),
            ("NOT IN MANIFEST", &report.case_files_unexpected),
        ] {
            for path in list {
                crate::say!("  {label}: {}", safe(path));
            }
        }
        if report.interrupted_commit {
            crate::say!(
                "  an ingest was killed while committing its files: run the same ingest again; it removes the files its manifest entry never recorded and reads their blobs again (nothing is lost). Do not delete case files by hand."
            );
        }
        if let Some(index) = &report.call_index {
            crate::say!(
                "call index {}: {} files match its index.json",
                safe(&index.dir),
                index.files_ok
            );
            for path in &index.files_changed {
                crate::say!("  CHANGED: {}", safe(path));
            }
            if !index.files_changed.is_empty() {
                crate::say!(
                    "  the call index is derived data, not evidence, but scope reads it while its files keep their sizes: delete {} and run the same ingest again to derive it anew",
                    safe(&index.dir)
                );
            }
        }
        if source_checked {
            crate::say!(
                "source blobs: {} match the manifest",
                report.source_blobs_ok
            );
            for (label, list) in [
                ("CHANGED", &report.source_blobs_changed),
                ("MISSING", &report.source_blobs_missing),
            ] {
                for path in list {
                    crate::say!("  {label}: {}", safe(path));
                }
            }
        }
        crate::say!(
            "{}",
            if report.has_differences() {
                "DIFFERENCES FOUND"
            } else {
                "verified: no differences"
            }
        );
    }
    Ok(())
}
