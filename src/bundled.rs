//! The bundled sample incident: where it is, and its cache case (ingested on first use).

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::ingest::{IngestOptions, ingest_observed};
use crate::sources::{EvidenceSource, local::LocalSource};

/// The bundled sample storage account: `$MCPFORENSICS_SAMPLE_DIR`, else `sample-data/account` in the source tree.
pub fn sample_source_dir() -> PathBuf {
    std::env::var_os("MCPFORENSICS_SAMPLE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("sample-data")
                .join("account")
        })
}

/// Where cache cases live: `$MCPFORENSICS_CACHE_DIR`, `$XDG_CACHE_HOME/mcpforensics`, `~/.cache/mcpforensics`.
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("MCPFORENSICS_CACHE_DIR") {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(dir).join("mcpforensics");
    }
    match std::env::var_os("HOME") {
        Some(home) => PathBuf::from(home).join(".cache").join("mcpforensics"),
        None => std::env::temp_dir().join("mcpforensics-cache"),
    }
}

/// The cache case for the bundled sample, ingesting it first when it is missing or the sample changed.
pub fn sample_case(progress: bool) -> Result<PathBuf> {
    sample_case_at(&sample_source_dir(), &cache_dir(), progress)
}

/// The cache case under `cache` for the sample account at `sample_dir` and this build, ingested
/// when missing.
pub fn sample_case_at(
    sample_dir: &std::path::Path,
    cache: &std::path::Path,
    progress: bool,
) -> Result<PathBuf> {
    let source = LocalSource::new(sample_dir);
    let listing = source.list().map_err(|e| {
        Error::Usage(format!("no --case given and the bundled sample is not available ({e}); pass --case DIR or set MCPFORENSICS_SAMPLE_DIR"))
    })?;
    // Keyed by the build, not only the version: a cache case is built whole, with the call index
    // of the build that reads it (another build's index is not read: `query::call_index`).
    let mut key = String::from(env!("MCPFORENSICS_LONG_VERSION"));
    for blob in &listing.blobs {
        key.push_str(&format!("\n{}:{}", blob.path, blob.size));
    }
    let fingerprint = format!("{:016x}", xxhash_rust::xxh3::xxh3_64(key.as_bytes()));
    let case_dir = cache.join(format!("sample-case-{fingerprint}"));
    if case_dir.join(crate::case::MANIFEST_FILE).exists() {
        return Ok(case_dir);
    }
    crate::tell!(
        "Ingesting the bundled sample into the cache case {} (first use only)…",
        case_dir.display()
    );
    // Build beside the final place and rename, so a concurrent or interrupted run never leaves half a case.
    let building = cache.join(format!(".building-{fingerprint}-{}", std::process::id()));
    let options = IngestOptions {
        warn_limit: 0,
        command: vec!["(bundled sample)".into()],
        derive: Some(crate::query::call_index::ensure_blocking),
        ..IngestOptions::default()
    };
    let printer = crate::report::runs::IngestProgress::new(progress);
    let summary = ingest_observed(&source, &building, &options, &|event| {
        printer.observe(event)
    })?;
    crate::tell!(
        "… {} rows from {} blobs; the sample deliberately holds {} malformed records (see the rejects table) and {} export-retry duplicates.",
        summary.records,
        summary.files,
        summary.rejected,
        summary.duplicates
    );
    match std::fs::rename(&building, &case_dir) {
        Ok(()) => {}
        Err(_) if case_dir.join(crate::case::MANIFEST_FILE).exists() => {
            let _ = std::fs::remove_dir_all(&building);
        }
        Err(source) => {
            return Err(Error::Io {
                context: format!("moving the sample case into {}", case_dir.display()),
                source,
            });
        }
    }
    Ok(case_dir)
}
