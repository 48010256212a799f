//! `mcpforensics ingest`.

use std::io::IsTerminal;

use crate::cli::{IngestArgs, SummaryFormat};
use crate::error::{Error, Result, exit};
use crate::ingest::{IngestOptions, IngestSummary, ingest};
use crate::report::terminal_safe;

pub(super) fn run(args: &IngestArgs) -> Result<u8> {
    // Never a default source: `ingest --case X` alone must not pour the bundled sample into a
    // real case. To add the sample on purpose, name its path (`mcpforensics sample-data where`).
    let Some(location) = args.source.clone() else {
        return Err(Error::Usage(
            "ingest needs its SOURCE: the directory or Blob Storage URL of the evidence (it never defaults to the bundled sample; `mcpforensics sample-data where` prints the sample's path)".into(),
        ));
    };
    let case_dir = match &args.case.case {
        Some(case) => case.clone(),
        None => {
            return Err(Error::Usage(
                "ingest needs --case DIR (the case directory to create or add to)".into(),
            ));
        }
    };
    let now = chrono::Utc::now();
    if let (Some(since), Some(until)) = (args.time.since, args.time.until)
        && since.resolve(now) >= until.resolve(now)
    {
        return Err(Error::Usage("--since must be before --until".into()));
    }
    // Listing is pruned by day for absolute times; spans are relative to the end of the evidence,
    // which is only known after listing, so they prune by path time instead.
    let absolute = |spec: Option<crate::time::TimeSpec>| match spec {
        Some(crate::time::TimeSpec::At(t)) => Some(t),
        _ => None,
    };
    let source = crate::sources::open_location(
        &location,
        &args.azure.credentials(),
        (absolute(args.time.since), absolute(args.time.until)),
    )?;
    let default_concurrency = IngestOptions::default().threads
        * if crate::sources::azure::is_blob_url(&location) {
            4
        } else {
            1
        };
    let options = IngestOptions {
        since: args.time.since,
        until: args.time.until,
        threads: args
            .concurrency
            .map_or(default_concurrency, usize::from)
            .max(1),
        command: std::env::args().collect(),
        progress: args.format == SummaryFormat::Text && std::io::stderr().is_terminal(),
        warn_limit: 20,
        keep_raw: args.keep_raw,
    };
    let summary = ingest(source.as_ref(), &case_dir, &options)?;
    match args.format {
        SummaryFormat::Json => {
            let text = serde_json::to_string_pretty(&summary).map_err(|e| Error::Io {
                context: "writing JSON".into(),
                source: e.into(),
            })?;
            crate::say!("{text}");
        }
        SummaryFormat::Text => print_summary(&summary),
    }
    Ok(if summary.has_losses() {
        exit::PARTIAL
    } else {
        exit::OK
    })
}

fn print_summary(s: &IngestSummary) {
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
