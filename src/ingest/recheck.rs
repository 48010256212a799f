//! Re-hashing the evidence a case was read from against the case's manifest: every blob the
//! case holds rows of is listed, read and hashed again (`mcpforensics verify --source`).

use std::collections::BTreeMap;
use std::io::Read;

use sha2::{Digest, Sha256};

use crate::case::verify::VerifyReport;
use crate::case::{Case, CaseError};
use crate::sources::EvidenceSource;

/// Re-hashes every blob of `source` the case holds, filling the report's source counts.
pub fn recheck_source(
    case: &Case,
    source: &dyn EvidenceSource,
    report: &mut VerifyReport,
) -> Result<(), CaseError> {
    // A rewritten version was never read into the case: the earlier one is expected.
    let expected = case.held_blob_hashes()?;
    let listing = source.list().map_err(|e| CaseError::Io {
        action: "listing the source of",
        path: case.root().to_path_buf(),
        source: std::io::Error::other(e.to_string()),
    })?;
    let present: BTreeMap<&str, &crate::sources::BlobRef> =
        listing.blobs.iter().map(|b| (b.path.as_str(), b)).collect();
    for (path, sha256) in &expected {
        let Some(blob) = present.get(path.as_str()) else {
            report.source_blobs_missing.push(path.to_string());
            continue;
        };
        let mut reader = source.open(blob).map_err(|e| CaseError::Io {
            action: "reading",
            path: path.into(),
            source: std::io::Error::other(e.to_string()),
        })?;
        let mut hasher = Sha256::new();
        let mut buffer = vec![0u8; 256 * 1024];
        loop {
            let n = reader
                .read(&mut buffer)
                .map_err(CaseError::io("reading", std::path::Path::new(path)))?;
            if n == 0 {
                break;
            }
            hasher.update(&buffer[..n]);
        }
        if hex::encode(hasher.finalize()) == *sha256 {
            report.source_blobs_ok += 1;
        } else {
            report.source_blobs_changed.push(path.to_string());
        }
    }
    Ok(())
}
