//! `manifest.json`: the chain of custody of a case.
//!
//! Lists every source blob read (path, size, SHA-256, format, counts, time range), every ingest
//! run (tool version, command with secrets removed, window, totals) and every file the case
//! holds with its own SHA-256. Written atomically after each ingest.

use serde::{Deserialize, Serialize};

/// Version of the manifest layout.
pub const MANIFEST_VERSION: u32 = 1;

/// The whole manifest.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    /// Layout version ([`MANIFEST_VERSION`]).
    pub manifest_version: u32,
    /// Always `mcpforensics`.
    pub tool: String,
    /// When the case was created (RFC 3339, UTC).
    pub created: String,
    /// Totals over every blob record, written before them so a reader can stop early
    /// (absent in manifests written before this field existed). As read: the writer computes
    /// them afresh from the records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totals: Option<EvidenceTotals>,
    /// Every ingest run, oldest first.
    pub ingests: Vec<IngestRecord>,
    /// Every source blob read, in the order ingested.
    pub blobs: Vec<BlobRecord>,
}

impl Manifest {
    /// An empty manifest for a new case.
    pub fn new(created: String) -> Self {
        Self {
            manifest_version: MANIFEST_VERSION,
            tool: "mcpforensics".into(),
            created,
            totals: None,
            ingests: Vec::new(),
            blobs: Vec::new(),
        }
    }
}

/// How the line opening the blob records starts, in [`write_manifest`]'s layout and in the
/// pretty-printed one before it: readers of the head stop there.
const BLOBS_LINE: &str = "  \"blobs\": [";

/// Totals over a manifest's blob records: what reports and time windows need, without the records.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct EvidenceTotals {
    /// Blob records.
    pub blobs: u64,
    /// Records rejected, over every blob.
    pub rejected: u64,
    /// Blobs that could not be read completely.
    pub unreadable: u64,
    /// The earliest row time of any blob.
    pub first_time: Option<String>,
    /// The latest row time of any blob.
    pub last_time: Option<String>,
}

impl EvidenceTotals {
    /// Adds one blob record.
    pub fn add(&mut self, blob: &BlobRecord) {
        self.merge(&EvidenceTotals {
            blobs: 1,
            rejected: blob.rejected,
            unreadable: u64::from(blob.read_error.is_some()),
            first_time: blob.first_time.clone(),
            last_time: blob.last_time.clone(),
        });
    }

    /// Adds the totals of other records.
    pub fn merge(&mut self, other: &EvidenceTotals) {
        self.blobs += other.blobs;
        self.rejected += other.rejected;
        self.unreadable += other.unreadable;
        if let Some(first) = other.first()
            && self.first().is_none_or(|t| first < t)
        {
            self.first_time.clone_from(&other.first_time);
        }
        if let Some(last) = other.last()
            && self.last().is_none_or(|t| last > t)
        {
            self.last_time.clone_from(&other.last_time);
        }
    }

    /// The latest row time, parsed.
    pub fn last(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.last_time
            .as_deref()
            .and_then(crate::time::parse_timestamp)
    }

    /// The earliest row time, parsed.
    pub fn first(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.first_time
            .as_deref()
            .and_then(crate::time::parse_timestamp)
    }
}

/// The SHA-256 of every blob record by path, and nothing else of them (the timeline's provenance
/// for hundreds of thousands of blobs). Paths are kept as their 128-bit XXH3 digest, not as text:
/// 48 bytes a blob instead of about 220 (a path is 150 to 200 characters); two of a case's paths
/// sharing a digest is as unlikely as two blobs sharing a SHA-256 prefix of that length.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct BlobHashes(std::collections::HashMap<[u8; 16], [u8; 32]>);

impl BlobHashes {
    /// Records a blob's hash (hex); a value that is not a SHA-256 is not recorded. A path recorded
    /// again (a blob read again after it grew) takes the later hash.
    pub fn insert(&mut self, path: &str, sha256_hex: &str) {
        let mut bytes = [0u8; 32];
        if hex::decode_to_slice(sha256_hex, &mut bytes).is_ok() {
            self.0.insert(digest(path), bytes);
        }
    }

    /// The hash of the blob at `path`, hex.
    pub fn get(&self, path: &str) -> Option<String> {
        self.0.get(&digest(path)).map(hex::encode)
    }

    /// Blobs recorded.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether none is recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Calls `visit` with every blob record of the manifest at `path`, in order, each read from its
/// own line into `T` (the fields the caller needs) and nothing else kept; `Ok(false)`, with
/// nothing visited, when the manifest does not have the layout [`write_manifest`] writes.
pub(crate) fn for_each_blob<T: serde::de::DeserializeOwned>(
    path: &std::path::Path,
    mut visit: impl FnMut(T),
) -> std::io::Result<bool> {
    use std::io::BufRead;
    if read_head(path)?.is_none() {
        return Ok(false);
    }
    let mut lines = std::io::BufReader::new(std::fs::File::open(path)?);
    let mut number = skip_to_blobs(&mut lines)?;
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line)? == 0 {
            return Ok(true);
        }
        number += 1;
        if let Some(record) = blob_record_in(line.as_bytes()) {
            let row = serde_json::from_slice(record).map_err(|e| bad_record(number, &e))?;
            visit(row);
        }
    }
}

/// Reads past the line opening the blob records; the lines read.
pub(crate) fn skip_to_blobs(lines: &mut dyn std::io::BufRead) -> std::io::Result<usize> {
    let mut line = Vec::new();
    let mut read = 0;
    loop {
        line.clear();
        read += 1;
        if lines.read_until(b'\n', &mut line)? == 0 || line.starts_with(BLOBS_LINE.as_bytes()) {
            return Ok(read);
        }
    }
}

/// The blob record on a line of a manifest's records or of a run's spilled records: the JSON
/// object without surrounding space and separating comma; `None` for the closing lines.
fn blob_record_in(line: &[u8]) -> Option<&[u8]> {
    let record = line.trim_ascii();
    let record = record.strip_suffix(b",").unwrap_or(record);
    record.starts_with(b"{").then_some(record)
}

fn bad_record(line: usize, error: &serde_json::Error) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        format!("line {line}: blob record: {error}"),
    )
}

/// Reads a manifest up to its blob records: the header, totals and ingest runs, without the
/// records (hundreds of megabytes on a large case). `None` when the file does not have the
/// layout [`write_manifest`] writes, or no totals; the caller then reads it whole.
pub(crate) fn read_head(path: &std::path::Path) -> std::io::Result<Option<Manifest>> {
    use std::io::BufRead;
    let mut lines = std::io::BufReader::new(std::fs::File::open(path)?);
    let mut head = String::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        // A raw line break never occurs inside a JSON string, so this line is the top-level key.
        if line.starts_with(BLOBS_LINE) {
            head.push_str("  \"blobs\": []\n}\n");
            break;
        }
        head.push_str(&line);
    }
    Ok(serde_json::from_str::<Manifest>(&head)
        .ok()
        .filter(|m| m.totals.is_some()))
}

/// Blob records to write after a manifest's own, as lines of compact JSON copied as they are
/// (each checked to be JSON), with their totals: the records of the manifest being replaced, and
/// those a run spilled to a file instead of holding hundreds of thousands of them in memory.
pub(crate) struct BlobLines<'a> {
    /// The lines; any that holds no record (space, the closing `]`) is skipped.
    pub lines: &'a mut dyn std::io::BufRead,
    /// What the lines are read from, and the number of the first line in it (for messages).
    pub from: (&'a str, usize),
    /// Totals over the records.
    pub totals: &'a EvidenceTotals,
}

/// Writes a manifest as JSON: its header, totals and ingest runs indented, then one blob record
/// per line: the manifest's own, then each of `more_blobs`. The totals written are those of
/// every record.
pub(crate) fn write_manifest(
    out: &mut dyn std::io::Write,
    manifest: &Manifest,
    more_blobs: &mut [BlobLines],
) -> std::io::Result<()> {
    let mut totals = EvidenceTotals::default();
    for blob in &manifest.blobs {
        totals.add(blob);
    }
    for more in more_blobs.iter() {
        totals.merge(more.totals);
    }
    writeln!(out, "{{")?;
    writeln!(
        out,
        "  \"manifest_version\": {},",
        manifest.manifest_version
    )?;
    writeln!(
        out,
        "  \"tool\": {},",
        serde_json::to_string(&manifest.tool)?
    )?;
    writeln!(
        out,
        "  \"created\": {},",
        serde_json::to_string(&manifest.created)?
    )?;
    let totals = serde_json::to_string_pretty(&totals)?.replace('\n', "\n  ");
    writeln!(out, "  \"totals\": {totals},")?;
    // A raw newline only ever separates JSON tokens (string values escape theirs).
    let ingests = serde_json::to_string_pretty(&manifest.ingests)?.replace('\n', "\n  ");
    writeln!(out, "  \"ingests\": {ingests},")?;
    write!(out, "{BLOBS_LINE}")?;
    let mut written = 0usize;
    let mut separator = |out: &mut dyn std::io::Write| {
        written += 1;
        out.write_all(if written == 1 { b"\n    " } else { b",\n    " })
    };
    for blob in &manifest.blobs {
        separator(out)?;
        serde_json::to_writer(&mut *out, blob)?;
    }
    for more in more_blobs {
        let mut line = Vec::new();
        let (from, mut number) = more.from;
        while more.lines.read_until(b'\n', &mut line)? > 0 {
            if let Some(record) = blob_record_in(&line) {
                serde_json::from_slice::<serde::de::IgnoredAny>(record).map_err(|e| {
                    let error = bad_record(number, &e);
                    std::io::Error::new(error.kind(), format!("{from}, {error}"))
                })?;
                separator(out)?;
                out.write_all(record)?;
            }
            line.clear();
            number += 1;
        }
    }
    out.write_all(if written == 0 {
        b"]\n}\n"
    } else {
        b"\n  ]\n}\n"
    })
}

/// The fields of a blob record [`KnownBlobs`] keeps.
#[derive(Debug, Deserialize)]
pub(crate) struct KnownRow {
    path: String,
    size: u64,
    sha256: String,
    #[serde(default)]
    etag: Option<String>,
    #[serde(default)]
    read_error: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    rewritten: Option<serde::de::IgnoredAny>,
}

impl From<&BlobRecord> for KnownRow {
    fn from(blob: &BlobRecord) -> Self {
        Self {
            path: blob.path.clone(),
            size: blob.size,
            sha256: blob.sha256.clone(),
            etag: blob.etag.clone(),
            read_error: blob.read_error.as_ref().map(|_| serde::de::IgnoredAny),
            rewritten: blob.rewritten.as_ref().map(|_| serde::de::IgnoredAny),
        }
    }
}

/// One completely read blob of [`KnownBlobs`]: 80 bytes.
#[derive(Debug, Clone, Copy)]
struct KnownBlob {
    path: [u8; 16],
    etag: Option<[u8; 16]>,
    sha256: [u8; 32],
    size: u64,
}

/// The completely read blobs of a manifest, by path: the checks an ingest makes for every blob
/// it lists take logarithmic time, not a scan of every record, and memory does not hold the
/// records (a case holds hundreds of thousands). Paths and ETags are kept as their 128-bit XXH3
/// digests, hashes as bytes: 80 bytes a blob, however long its path.
#[derive(Debug, Default)]
pub struct KnownBlobs(Vec<KnownBlob>);

impl KnownBlobs {
    /// Indexes the complete records among `rows` (a record with a read error is not known: its
    /// blob is read again).
    pub(crate) fn from_rows(rows: impl IntoIterator<Item = KnownRow>) -> Self {
        let mut known = Self::default();
        for row in rows {
            known.add(row);
        }
        known.finish()
    }

    /// Room for this many records, without growing.
    pub(crate) fn with_capacity(records: u64) -> Self {
        Self(Vec::with_capacity(usize::try_from(records).unwrap_or(0)))
    }

    /// Adds one record; [`KnownBlobs::finish`] then orders them.
    pub(crate) fn add(&mut self, row: KnownRow) {
        let mut sha256 = [0u8; 32];
        if row.read_error.is_none()
            && row.rewritten.is_none()
            && hex::decode_to_slice(&row.sha256, &mut sha256).is_ok()
        {
            self.0.push(KnownBlob {
                path: digest(&row.path),
                etag: row.etag.as_deref().map(digest),
                sha256,
                size: row.size,
            });
        }
    }

    /// Orders the records by path, for lookups.
    pub(crate) fn finish(mut self) -> Self {
        self.0.sort_by_key(|b| b.path);
        self.0.shrink_to_fit();
        self
    }

    fn at(&self, path: &str) -> &[KnownBlob] {
        let key = digest(path);
        let start = self.0.partition_point(|b| b.path < key);
        let end = start + self.0[start..].partition_point(|b| b.path == key);
        &self.0[start..end]
    }

    /// Whether a blob with this path and content (SHA-256, hex) was already ingested completely.
    pub fn has(&self, path: &str, sha256: &str) -> bool {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(sha256, &mut bytes).is_ok()
            && self.at(path).iter().any(|b| b.sha256 == bytes)
    }

    /// The SHA-256 (hex) and size of a blob already ingested completely with this path and ETag.
    pub fn by_etag(&self, path: &str, etag: &str) -> Option<(String, u64)> {
        let etag = digest(etag);
        self.at(path)
            .iter()
            .find(|b| b.etag == Some(etag))
            .map(|b| (hex::encode(b.sha256), b.size))
    }

    /// Whether a blob with this path and size was already ingested completely (a cheap
    /// pre-check before hashing).
    pub fn may_have(&self, path: &str, size: u64) -> bool {
        self.at(path).iter().any(|b| b.size == size)
    }

    /// The largest version of a path ingested completely: SHA-256 (hex) and size. A blob that
    /// only grows (appended) starts with exactly these bytes.
    pub fn largest(&self, path: &str) -> Option<(String, u64)> {
        self.at(path)
            .iter()
            .max_by_key(|b| b.size)
            .map(|b| (hex::encode(b.sha256), b.size))
    }

    /// Blobs known.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether none is known.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The 128-bit XXH3 digest by which paths and ETags are kept.
fn digest(text: &str) -> [u8; 16] {
    xxhash_rust::xxh3::xxh3_128(text.as_bytes()).to_be_bytes()
}

/// One ingest run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct IngestRecord {
    /// Run id, also part of the names of the files it wrote.
    pub id: String,
    /// mcpforensics version that ran it.
    pub tool_version: String,
    /// The command line, with secrets replaced by `[REDACTED]`.
    pub command: Vec<String>,
    /// The evidence location (never carries secrets).
    pub source: String,
    /// Window start, when given.
    pub since: Option<String>,
    /// Window end, when given.
    pub until: Option<String>,
    /// Start of the run.
    pub started: String,
    /// End of the run.
    pub finished: String,
    /// Blobs listed at the source.
    pub blobs_listed: u64,
    /// Blobs not opened because their path time is outside the window.
    pub blobs_outside_window: u64,
    /// Blobs skipped because the same path and content were ingested before.
    pub blobs_already_ingested: u64,
    /// Blobs read and decoded.
    pub blobs_read: u64,
    /// Blobs whose read failed part-way.
    pub blobs_failed: u64,
    /// Rows written to the case.
    pub rows_written: u64,
    /// Records rejected.
    pub rejected: u64,
    /// Rows dropped as exact duplicates.
    pub duplicates: u64,
    /// Files this run added to the case.
    pub files: Vec<CaseFile>,
}

/// A file the case holds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CaseFile {
    /// Path relative to the case directory.
    pub path: String,
    /// Table it belongs to (`rejects` for reject files).
    pub table: String,
    /// Rows in it.
    pub rows: u64,
    /// Its size in bytes.
    pub size: u64,
    /// Its SHA-256, hex.
    pub sha256: String,
}

/// One source blob read.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BlobRecord {
    /// Path relative to the storage account (`<container>/<blob name>`).
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the bytes read, hex.
    pub sha256: String,
    /// Format recognised.
    pub format: String,
    /// Table it fed.
    pub table: String,
    /// Rows written to the case from it.
    pub accepted: u64,
    /// Records (or flow tuples) rejected.
    pub rejected: u64,
    /// Rows dropped as exact duplicates of rows already in the case.
    pub duplicates: u64,
    /// Earliest row time.
    pub first_time: Option<String>,
    /// Latest row time.
    pub last_time: Option<String>,
    /// The run that read it.
    pub ingest_id: String,
    /// Set when reading failed part-way; rows before the failure are kept.
    pub read_error: Option<String>,
    /// ETag of the blob when read (Blob Storage only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// Last-modified time of the blob when read (Blob Storage only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    /// The verified custody copy inside the case (`--keep-raw`), relative to the case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_copy: Option<String>,
    /// Set when the blob's earlier bytes changed since a version the case holds (rewritten,
    /// not appended): this version was hashed but not decoded; the earlier one stays the
    /// case's evidence. `sha256` and `size` are this version's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rewritten: Option<String>,
}

pub use crate::sources::redact::redact_command;

#[cfg(test)]
mod tests {
    use super::*;

    fn record(path: &str) -> BlobRecord {
        BlobRecord {
            path: path.into(),
            size: 10,
            sha256: "ab".repeat(32),
            format: "log-analytics".into(),
            table: "AppRequests".into(),
            accepted: 2,
            rejected: 1,
            duplicates: 0,
            first_time: Some("2026-10-01T00:00:00Z".into()),
            last_time: None,
            ingest_id: "run\n\"1\"".into(),
            read_error: None,
            etag: Some("0x8D".into()),
            last_modified: None,
            raw_copy: None,
            rewritten: None,
        }
    }

    #[test]
    fn a_written_manifest_reads_back_with_the_spilled_records_after_its_own() {
        let mut manifest = Manifest::new("2026-11-25T00:00:00Z".into());
        let empty = {
            let mut out = Vec::new();
            write_manifest(&mut out, &manifest, &mut []).unwrap();
            out
        };
        assert_eq!(
            serde_json::from_slice::<Manifest>(&empty).unwrap(),
            Manifest {
                totals: Some(EvidenceTotals::default()),
                ..manifest.clone()
            }
        );

        manifest.blobs.push(record("am-a/1.json"));
        manifest.ingests.push(IngestRecord {
            id: "run \"1\"\nline".into(),
            tool_version: "0".into(),
            command: vec!["mcpforensics".into(), "ingest".into()],
            source: "/evidence".into(),
            since: None,
            until: None,
            started: "s".into(),
            finished: "f".into(),
            blobs_listed: 3,
            blobs_outside_window: 0,
            blobs_already_ingested: 0,
            blobs_read: 3,
            blobs_failed: 0,
            rows_written: 6,
            rejected: 3,
            duplicates: 0,
            files: Vec::new(),
        });
        let mut later = record("am-b/3.json");
        later.last_time = Some("2026-10-03T05:00:00.5Z".into());
        later.read_error = Some("cut".into());
        let mut earlier = record("am-a/2.json");
        earlier.first_time = Some("2026-09-30T23:00:00Z".into());
        let spilled_records = [earlier, later];
        let mut spilled_totals = EvidenceTotals::default();
        let mut spilled = String::new();
        for r in &spilled_records {
            spilled_totals.add(r);
            spilled += &(serde_json::to_string(r).unwrap() + "\n");
        }
        let mut out = Vec::new();
        let mut lines = spilled.as_bytes();
        write_manifest(
            &mut out,
            &manifest,
            &mut [BlobLines {
                lines: &mut lines,
                from: ("spilled", 1),
                totals: &spilled_totals,
            }],
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        let read: Manifest = serde_json::from_str(&text).unwrap();
        let paths: Vec<&str> = read.blobs.iter().map(|b| b.path.as_str()).collect();
        assert_eq!(paths, ["am-a/1.json", "am-a/2.json", "am-b/3.json"]);
        assert_eq!(read.blobs[1..], spilled_records);
        assert_eq!(read.ingests, manifest.ingests);
        // One blob record per line, so a large manifest streams and greps.
        assert_eq!(text.lines().filter(|l| l.contains("\"sha256\"")).count(), 3);

        // The totals are those of every record, and the head alone gives them.
        let expected = EvidenceTotals {
            blobs: 3,
            rejected: 3,
            unreadable: 1,
            first_time: Some("2026-09-30T23:00:00Z".into()),
            last_time: Some("2026-10-03T05:00:00.5Z".into()),
        };
        assert_eq!(read.totals.as_ref(), Some(&expected));
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), &text).unwrap();
        let head = read_head(file.path()).unwrap().expect("a head");
        assert_eq!(head.totals, Some(expected));
        assert_eq!((head.ingests, head.blobs.len()), (manifest.ingests, 0));
        let mut paths_and_hashes = Vec::new();
        let streamed = for_each_blob(file.path(), |b: KnownRow| {
            paths_and_hashes.push((b.path, b.sha256, b.read_error.is_some()))
        })
        .unwrap();
        assert!(streamed);
        let expected_rows: Vec<_> = read
            .blobs
            .iter()
            .map(|b| (b.path.clone(), b.sha256.clone(), b.read_error.is_some()))
            .collect();
        assert_eq!(paths_and_hashes, expected_rows);

        // Written again with these records copied from the file, after the manifest's head, and
        // a new run's records after them: the same manifest as writing them all from memory.
        let mut head = read_head(file.path()).unwrap().unwrap();
        let old_totals = head.totals.take().unwrap();
        let mut old = std::io::BufReader::new(std::fs::File::open(file.path()).unwrap());
        let first_line = skip_to_blobs(&mut old).unwrap() + 1;
        let newer = record("am-c/5.json");
        let mut newer_totals = EvidenceTotals::default();
        newer_totals.add(&newer);
        let newer_line = serde_json::to_string(&newer).unwrap() + "\n";
        let mut copied = Vec::new();
        write_manifest(
            &mut copied,
            &head,
            &mut [
                BlobLines {
                    lines: &mut old,
                    from: ("manifest.json", first_line),
                    totals: &old_totals,
                },
                BlobLines {
                    lines: &mut newer_line.as_bytes(),
                    from: ("spilled", 1),
                    totals: &newer_totals,
                },
            ],
        )
        .unwrap();
        let mut whole = read.clone();
        whole.blobs.push(newer);
        let mut from_memory = Vec::new();
        write_manifest(&mut from_memory, &whole, &mut []).unwrap();
        assert_eq!(
            String::from_utf8(copied).unwrap(),
            String::from_utf8(from_memory).unwrap()
        );

        // A damaged record is named by its line, when read and when copied.
        let damaged = text.replacen("{\"path\":\"am-a/2.json\"", "{\"path\":", 1);
        std::fs::write(file.path(), &damaged).unwrap();
        let line = damaged
            .lines()
            .position(|l| l.contains("\"path\":,"))
            .unwrap()
            + 1;
        let error = for_each_blob(file.path(), |_: KnownRow| ())
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with(&format!("line {line}: blob record")),
            "{error}"
        );
        let mut old = std::io::BufReader::new(std::fs::File::open(file.path()).unwrap());
        let first_line = skip_to_blobs(&mut old).unwrap() + 1;
        let error = write_manifest(
            &mut Vec::new(),
            &head,
            &mut [BlobLines {
                lines: &mut old,
                from: ("manifest.json", first_line),
                totals: &old_totals,
            }],
        )
        .unwrap_err()
        .to_string();
        assert!(
            error.starts_with(&format!("manifest.json, line {line}: blob record")),
            "{error}"
        );
        // A manifest of the older layout (pretty-printed, no totals) is read whole instead.
        let mut older = read.clone();
        older.totals = None;
        std::fs::write(file.path(), serde_json::to_string_pretty(&older).unwrap()).unwrap();
        assert_eq!(read_head(file.path()).unwrap(), None);
        assert!(!for_each_blob(file.path(), |_: KnownRow| ()).unwrap());
    }

    #[test]
    fn known_blobs_find_complete_records_by_path_content_size_and_etag() {
        let mut first = record("am-a/1.json");
        first.size = 7;
        let mut grown = record("am-a/1.json");
        grown.sha256 = "cd".repeat(32);
        grown.size = 9;
        grown.etag = Some("0x8E".into());
        let mut cut = record("am-b/2.json");
        cut.read_error = Some("cut".into());
        let other = record("am-c/3.json");
        let known = KnownBlobs::from_rows([&other, &grown, &cut, &first].map(KnownRow::from));
        // The record with a read error is not known: that blob is read again.
        assert_eq!(known.len(), 3);
        assert!(known.has("am-a/1.json", &"ab".repeat(32)));
        assert!(known.has("am-a/1.json", &"cd".repeat(32)));
        assert!(!known.has("am-a/1.json", &"ef".repeat(32)));
        assert!(!known.has("am-b/2.json", &"ab".repeat(32)));
        assert!(!known.has("am-a/1.json", "not hex"));
        assert!(known.may_have("am-a/1.json", 7) && known.may_have("am-a/1.json", 9));
        assert!(!known.may_have("am-a/1.json", 10) && !known.may_have("am-d/4.json", 10));
        assert_eq!(
            known.by_etag("am-a/1.json", "0x8E"),
            Some(("cd".repeat(32), 9))
        );
        assert_eq!(
            known.by_etag("am-a/1.json", "0x8D"),
            Some(("ab".repeat(32), 7))
        );
        assert_eq!(known.by_etag("am-a/1.json", "0x8F"), None);
        assert_eq!(known.by_etag("am-b/2.json", "0x8D"), None);
        assert_eq!(
            known.by_etag("am-c/3.json", "0x8D"),
            Some(("ab".repeat(32), 10))
        );
        assert_eq!(std::mem::size_of::<KnownBlob>(), 80);
    }
}

/// The totals of a manifest, deserialized without keeping its blob records (for manifests
/// without [`Manifest::totals`]).
#[derive(Debug, Deserialize)]
pub(crate) struct Totals {
    #[serde(deserialize_with = "fold_blobs")]
    pub(crate) blobs: EvidenceTotals,
}

#[derive(Deserialize)]
struct BlobTotalsRow {
    rejected: u64,
    read_error: Option<serde::de::IgnoredAny>,
    first_time: Option<String>,
    last_time: Option<String>,
}

fn fold_blobs<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<EvidenceTotals, D::Error> {
    struct Fold;
    impl<'de> serde::de::Visitor<'de> for Fold {
        type Value = EvidenceTotals;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a list of blob records")
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> Result<EvidenceTotals, A::Error> {
            let mut totals = EvidenceTotals::default();
            while let Some(row) = seq.next_element::<BlobTotalsRow>()? {
                totals.merge(&EvidenceTotals {
                    blobs: 1,
                    rejected: row.rejected,
                    unreadable: u64::from(row.read_error.is_some()),
                    first_time: row.first_time,
                    last_time: row.last_time,
                });
            }
            Ok(totals)
        }
    }
    deserializer.deserialize_seq(Fold)
}
