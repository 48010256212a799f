//! The run's blob records, spilled to a temporary file of the case as each blob finishes and
//! streamed into the manifest at the end.

use crate::case::CaseError;
use crate::case::manifest::{BlobRecord, EvidenceTotals};

/// The run's blob records as lines of compact JSON in a temporary file of the case, removed
/// when dropped (committed or not).
pub(super) struct BlobLog {
    path: std::path::PathBuf,
    out: Option<std::io::BufWriter<std::fs::File>>,
    totals: EvidenceTotals,
}

impl BlobLog {
    pub(super) fn create(case_root: &std::path::Path, ingest_id: &str) -> Result<Self, CaseError> {
        let path = case_root.join(format!(".blobs-{ingest_id}.jsonl.tmp"));
        crate::interrupt::track(&path);
        let file = std::fs::File::create_new(&path).map_err(CaseError::io("creating", &path))?;
        Ok(Self {
            out: Some(std::io::BufWriter::new(file)),
            path,
            totals: Default::default(),
        })
    }

    pub(super) fn push(&mut self, record: &BlobRecord) -> Result<(), CaseError> {
        use std::io::Write;
        let Some(out) = self.out.as_mut() else {
            return Ok(());
        };
        self.totals.add(record);
        serde_json::to_writer(&mut *out, record)
            .map_err(std::io::Error::from)
            .and_then(|()| out.write_all(b"\n"))
            .map_err(CaseError::io("writing", &self.path))
    }

    /// Flushes the records; returns the file to read them from, and their totals.
    pub(super) fn finish(&mut self) -> Result<(&std::path::Path, &EvidenceTotals), CaseError> {
        if let Some(out) = self.out.take() {
            out.into_inner()
                .map_err(|error| CaseError::io("writing", &self.path)(error.into_error()))?;
        }
        Ok((&self.path, &self.totals))
    }
}

impl Drop for BlobLog {
    fn drop(&mut self) {
        self.out = None;
        let _ = std::fs::remove_file(&self.path);
        crate::interrupt::untrack(&self.path);
    }
}
