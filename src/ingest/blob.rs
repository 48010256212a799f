//! One blob's work: skipped when the case already holds it, checked against an earlier version
//! of the same path, otherwise hashed (SHA-256), decoded and optionally kept as a verified raw
//! copy, all in one read.

use std::io::Read;
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use crate::case::CaseError;
use crate::parsers::{self, DecodeEvent, DecodeStats};
use crate::sources::{BlobRef, EvidenceSource, SourceError};

/// Why one blob could not be read into the case (counted and recorded; the run goes on).
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// The source would not open it.
    #[error(transparent)]
    Open(#[from] SourceError),
    /// Reading it failed before any record was decoded.
    #[error("read failed: {0}")]
    Read(std::io::Error),
    /// Reading it failed part-way; the records before were decoded.
    #[error("read failed after some records: {0}")]
    ReadAfterRecords(std::io::Error),
    /// Its name would place a raw copy outside the case.
    #[error("blob name {0:?} cannot be kept as a file inside the case")]
    UnsafeName(String),
    /// The raw copy could not be written.
    #[error("keeping a raw copy: {0}")]
    RawCopy(std::io::Error),
    /// The raw copy does not hold what was read.
    #[error("raw copy of {copy} does not match the stream (sha256 {written} vs {read})")]
    RawCopyMismatch {
        /// The copy, relative to the case.
        copy: String,
        /// SHA-256 of the copy written.
        written: String,
        /// SHA-256 of the stream read.
        read: String,
    },
    /// The raw copy could not be hashed again.
    #[error(transparent)]
    Case(#[from] CaseError),
}

/// Hashes and decodes one blob; a blob already in the manifest with the same hash is not decoded.
pub(super) fn process_blob(
    source: &dyn EvidenceSource,
    blob: &BlobRef,
    decoder: parsers::Decoder,
    known: &crate::case::manifest::KnownBlobs,
    raw_dir: Option<&std::path::Path>,
    emit: &mut dyn FnMut(DecodeEvent),
) -> Result<BlobResult, BlobError> {
    // Blob Storage: the same ETag means the same content; nothing is downloaded again.
    if let Some((sha256, size)) = blob
        .etag
        .as_deref()
        .and_then(|etag| known.by_etag(&blob.path, etag))
    {
        return Ok(BlobResult::already_ingested(sha256, size));
    }
    if blob.etag.is_none() && known.may_have(&blob.path, blob.size) {
        let mut reader = source.open(blob)?;
        let mut hasher = Sha256::new();
        let size = std::io::copy(&mut reader, &mut hasher).map_err(BlobError::Read)?;
        let sha256 = hex::encode(hasher.finalize());
        if known.has(&blob.path, &sha256) {
            return Ok(BlobResult::already_ingested(sha256, size));
        }
    }
    // A path already in the case whose content differs: it may only have grown. Its first bytes
    // are checked before anything is decoded, so a rewritten version never mixes into the case.
    if let Some((earlier_sha256, earlier_size)) = known.largest(&blob.path)
        && let Some(rewritten) = rewritten_since(source, blob, &earlier_sha256, earlier_size)?
    {
        return Ok(rewritten);
    }
    let reader = source.open(blob)?;
    let raw = match raw_dir {
        Some(dir) => Some(RawCopy::create(dir, &blob.path)?),
        None => None,
    };
    let hashing = HashingReader {
        inner: reader,
        hasher: Sha256::new(),
        bytes: 0,
        raw,
    };
    let shared = std::sync::Arc::new(Mutex::new(hashing));
    let stats = parsers::decode_blob(
        Box::new(SharedReader(shared.clone())),
        &blob.path,
        decoder,
        emit,
    )
    .map_err(BlobError::ReadAfterRecords)?;
    let mut hashing = shared
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    // The decoder may stop before the end (after a closing `]}`): hash the rest too.
    std::io::copy(&mut *hashing, &mut std::io::sink()).map_err(BlobError::Read)?;
    let sha256 = hex::encode(hashing.hasher.clone().finalize());
    let raw_copy = match hashing.raw.take() {
        Some(raw) => Some(raw.finish(&sha256)?),
        None => None,
    };
    Ok(BlobResult {
        sha256,
        size: hashing.bytes,
        stats,
        already_ingested: false,
        raw_copy,
        rewritten: None,
    })
}

/// Reads a blob the case holds an earlier version of: `None` when it begins with exactly that
/// version's bytes (appended to, as Azure appends to an hour's blob), otherwise the result
/// recording it as rewritten, with its own hash and size, not decoded.
fn rewritten_since(
    source: &dyn EvidenceSource,
    blob: &BlobRef,
    earlier_sha256: &str,
    earlier_size: u64,
) -> Result<Option<BlobResult>, BlobError> {
    let mut reader = source.open(blob)?;
    let mut whole = Sha256::new();
    let mut prefix = Sha256::new();
    let mut buffer = vec![0u8; 256 * 1024];
    let mut size = 0u64;
    loop {
        let n = reader.read(&mut buffer).map_err(BlobError::Read)?;
        if n == 0 {
            break;
        }
        let chunk = &buffer[..n];
        let in_prefix = usize::try_from(earlier_size.saturating_sub(size))
            .unwrap_or(usize::MAX)
            .min(n);
        prefix.update(&chunk[..in_prefix]);
        whole.update(chunk);
        size += n as u64;
    }
    let prefix_sha256 = hex::encode(prefix.finalize());
    if size >= earlier_size && prefix_sha256 == earlier_sha256 {
        return Ok(None);
    }
    let how = if size < earlier_size {
        format!("it is now {size} bytes, shorter than the {earlier_size} bytes ingested")
    } else {
        format!("its first {earlier_size} bytes no longer match the version ingested")
    };
    Ok(Some(BlobResult {
        sha256: hex::encode(whole.finalize()),
        size,
        stats: DecodeStats::default(),
        already_ingested: false,
        raw_copy: None,
        rewritten: Some(format!(
            "rewritten since it was ingested (sha256 {earlier_sha256}): {how}; this version was not read into the case, the earlier one is kept"
        )),
    }))
}

/// The custody copy of a blob being read: written beside the stream, verified, then renamed.
struct RawCopy {
    file: std::io::BufWriter<std::fs::File>,
    tmp: std::path::PathBuf,
    path: std::path::PathBuf,
    relative: String,
}

impl RawCopy {
    fn create(dir: &std::path::Path, blob: &str) -> Result<Self, BlobError> {
        // A blob name is attacker-controllable data: it may not leave the raw directory.
        let segments: Vec<&str> = blob.split('/').collect();
        if segments.iter().any(|s| {
            s.is_empty() || *s == "." || *s == ".." || s.contains('\\') || s.contains('\0')
        }) {
            return Err(BlobError::UnsafeName(blob.to_string()));
        }
        let path = segments.iter().fold(dir.to_path_buf(), |p, s| p.join(s));
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(BlobError::RawCopy)?;
        }
        let tmp = path.with_extension("raw-tmp");
        crate::interrupt::track(&tmp);
        let file = std::fs::File::create(&tmp).map_err(BlobError::RawCopy)?;
        Ok(Self {
            file: std::io::BufWriter::new(file),
            tmp,
            path,
            relative: format!("raw/{blob}"),
        })
    }

    /// Flushes, re-reads the copy and checks its SHA-256 against the stream's before keeping it.
    fn finish(mut self, sha256: &str) -> Result<String, BlobError> {
        use std::io::Write as _;
        self.file.flush().map_err(BlobError::RawCopy)?;
        drop(self.file);
        let (_, written) = crate::case::files::hash_file(&self.tmp)?;
        if written != sha256 {
            let _ = std::fs::remove_file(&self.tmp);
            crate::interrupt::untrack(&self.tmp);
            return Err(BlobError::RawCopyMismatch {
                copy: self.relative,
                written,
                read: sha256.to_string(),
            });
        }
        std::fs::rename(&self.tmp, &self.path).map_err(BlobError::RawCopy)?;
        crate::interrupt::untrack(&self.tmp);
        Ok(self.relative)
    }
}

struct HashingReader {
    inner: Box<dyn Read + Send>,
    hasher: Sha256,
    bytes: u64,
    raw: Option<RawCopy>,
}

impl Read for HashingReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        if let Some(raw) = self.raw.as_mut() {
            std::io::Write::write_all(&mut raw.file, &buf[..n])?;
        }
        Ok(n)
    }
}

struct SharedReader(std::sync::Arc<Mutex<HashingReader>>);

impl Read for SharedReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .read(buf)
    }
}

/// One blob's outcome, as the writer takes it.
pub(super) struct BlobResult {
    pub(super) sha256: String,
    pub(super) size: u64,
    pub(super) stats: DecodeStats,
    pub(super) already_ingested: bool,
    pub(super) raw_copy: Option<String>,
    /// Why the blob was not decoded: its earlier bytes changed since the case read it.
    pub(super) rewritten: Option<String>,
}

impl BlobResult {
    /// A blob the case already holds with this hash: not decoded again.
    fn already_ingested(sha256: String, size: u64) -> Self {
        Self {
            sha256,
            size,
            stats: DecodeStats::default(),
            already_ingested: true,
            raw_copy: None,
            rewritten: None,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        reason = "a test fails loudly where a value is missing"
    )]
    use super::*;

    #[test]
    fn raw_copies_cannot_leave_the_case() {
        let dir = tempfile::tempdir().unwrap();
        let raw = dir.path().join("case/raw");
        for hostile in [
            "../../etc/cron.d/x",
            "am-x/../../../outside.json",
            "am-x//double.json",
            "am-x/./dot.json",
            "am-x\\..\\win.json",
            "am-x/nul\0.json",
        ] {
            let error = RawCopy::create(&raw, hostile).err().unwrap().to_string();
            assert!(
                error.contains("cannot be kept as a file inside the case"),
                "{error}"
            );
        }
        assert!(!dir.path().join("etc").exists() && !dir.path().join("outside.json").exists());
        let ok = RawCopy::create(&raw, "am-x/y=2026/PT05M.json").unwrap();
        assert!(ok.tmp.starts_with(&raw));
        drop(ok);
    }
}
