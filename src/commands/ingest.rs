//! `mcpforensics ingest`.

use std::io::IsTerminal;

use crate::cli::{IngestArgs, SummaryFormat};
use crate::error::{Error, Result, exit};
use crate::ingest::{IngestOptions, ingest_observed};
use crate::report::runs::IngestProgress;

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
    if args.time.spec().check().is_err() {
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
        warn_limit: 20,
        keep_raw: args.keep_raw,
        derive: Some(crate::query::call_index::ensure_blocking),
    };
    let progress =
        IngestProgress::new(args.format == SummaryFormat::Text && std::io::stderr().is_terminal());
    let summary = ingest_observed(source.as_ref(), &case_dir, &options, &|event| {
        progress.observe(event)
    })?;
    match args.format {
        SummaryFormat::Json => {
            let text = serde_json::to_string_pretty(&summary).map_err(|e| Error::Io {
                context: "writing JSON".into(),
                source: e.into(),
            })?;
            crate::say!("{text}");
        }
        SummaryFormat::Text => crate::report::runs::print_ingest_summary(&summary),
    }
    Ok(if summary.has_losses() {
        exit::PARTIAL
    } else {
        exit::OK
    })
}
