//! Appending decoded batches to a case: day partitions, exact-duplicate removal, rejects.
//!
//! One writer serves a whole ingest run. Rows are de-duplicated on `_row_hash` against
//! everything already in the table (loaded lazily on the table's first batch) and against the
//! run so far. Parquet files are kept open per (table, day) while rows keep coming and closed
//! least-recently-used first, so memory stays bounded however many days a source spans. Every
//! file is written under a `.tmp` name; [`CaseWriter::finish`] renames them into place and
//! returns them with their hashes for the manifest.

use std::collections::{HashMap, HashSet};
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BooleanArray, FixedSizeBinaryArray, StringBuilder, TimestampNanosecondArray,
    UInt32Array, UInt64Builder,
};
use arrow::compute::{filter_record_batch, take_record_batch};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use super::files::hash_file;
use super::identities::{INDEX_TABLE, IdentityIndex, is_identity_source};
use super::manifest::CaseFile;
use super::{Case, CaseError};
use crate::parsers::Reject;

const MAX_OPEN_FILES: usize = 48;
const ROW_GROUP_ROWS: usize = 64 * 1024;
/// Buffered bytes at which a row group is written before it has [`ROW_GROUP_ROWS`] rows.
const ROW_GROUP_BYTES: usize = 4 << 20;
/// Memory the open files may hold together: past it the least recently written are closed. A
/// source lists one container (table) after another, so files of tables already passed would
/// otherwise keep their buffers until the end of the run.
const OPEN_FILES_BYTES: usize = 96 << 20;
const NANOS_PER_DAY: i64 = 86_400 * 1_000_000_000;

struct OpenFile {
    tmp: PathBuf,
    path: PathBuf,
    table: String,
    writer: ArrowWriter<File>,
    rows: u64,
    last_used: u64,
    /// The writer's memory after its last write: measuring it walks every buffered page of every
    /// column, so each file is measured once per write to it, not on every write to any file.
    memory: usize,
    /// Batches waiting to be written as one: an export blob often holds a handful of rows, and
    /// the Parquet writer's cost per call is per column, not per row.
    pending: Vec<RecordBatch>,
    pending_rows: usize,
    pending_bytes: usize,
}

/// Rows gathered for a file before they are handed to the Parquet writer as one batch.
const PENDING_ROWS: usize = 8192;
/// Bytes gathered for a file before they are handed to the Parquet writer.
const PENDING_BYTES: usize = 1 << 20;

impl OpenFile {
    /// Hands the gathered batches to the Parquet writer, ending the row group past its size.
    fn write_pending(&mut self) -> Result<(), CaseError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let parquet = |source| CaseError::Parquet {
            path: self.tmp.clone(),
            source,
        };
        let batch = match self.pending.as_slice() {
            [one] => one.clone(),
            many => arrow::compute::concat_batches(&many[0].schema(), many)?,
        };
        self.pending.clear();
        self.pending_rows = 0;
        self.pending_bytes = 0;
        self.writer.write(&batch).map_err(parquet)?;
        // A row group is buffered until written: end it early past a size, so memory is
        // bounded by the open files, not by how many rows a table has per day.
        if self.writer.in_progress_size() > ROW_GROUP_BYTES {
            self.writer.flush().map_err(parquet)?;
        }
        self.memory = self.writer.memory_size();
        Ok(())
    }
}

/// Writes one ingest run's rows and rejects into a case.
pub struct CaseWriter {
    case_root: PathBuf,
    /// Case-relative paths of the files the manifest records: rows are duplicates only of
    /// recorded evidence, never of a file the manifest does not list.
    recorded: HashSet<String>,
    ingest_id: String,
    open: HashMap<(String, i64), OpenFile>,
    closed: Vec<(PathBuf, PathBuf, String, u64)>,
    seen: HashMap<String, RowHashes>,
    /// [`OPEN_FILES_BYTES`], smaller in tests.
    open_files_bytes: usize,
    sequence: u64,
    clock: u64,
    rejects: Option<RejectWriter>,
    identities: IdentityIndex,
}

impl CaseWriter {
    /// A writer for a run with this id.
    pub fn new(case: &Case, ingest_id: &str) -> Result<Self, CaseError> {
        let recorded = case
            .head()?
            .ingests
            .iter()
            .flat_map(|run| &run.files)
            .map(|file| file.path.clone())
            .collect();
        Ok(Self {
            case_root: case.root().to_path_buf(),
            recorded,
            ingest_id: ingest_id.to_string(),
            open: HashMap::new(),
            closed: Vec::new(),
            seen: HashMap::new(),
            open_files_bytes: OPEN_FILES_BYTES,
            sequence: 0,
            clock: 0,
            rejects: None,
            identities: IdentityIndex::default(),
        })
    }

    /// Appends a batch to `table`; returns (rows written, exact duplicates dropped).
    ///
    /// The batch's first column is the row time and its last column `_row_hash`.
    pub fn write(&mut self, table: &str, batch: &RecordBatch) -> Result<(u64, u64), CaseError> {
        if !self.seen.contains_key(table) {
            let hashes = load_hashes(
                &self.case_root,
                &self.case_root.join("tables").join(table),
                &self.recorded,
            )?;
            self.seen.insert(table.to_string(), hashes);
        }
        let seen = self.seen.get_mut(table).ok_or_else(|| {
            CaseError::Arrow(arrow::error::ArrowError::InvalidArgumentError(
                "hash set".into(),
            ))
        })?;
        let hashes = batch
            .column(batch.num_columns() - 1)
            .as_any()
            .downcast_ref::<FixedSizeBinaryArray>()
            .ok_or_else(|| {
                arrow::error::ArrowError::SchemaError("last column is not _row_hash".into())
            })?;
        let keep: BooleanArray = (0..hashes.len())
            .map(|i| {
                Some(seen.insert(u128::from_be_bytes(
                    hashes.value(i).try_into().unwrap_or([0; 16]),
                )))
            })
            .collect();
        let kept = filter_record_batch(batch, &keep)?;
        let duplicates = (batch.num_rows() - kept.num_rows()) as u64;
        if is_identity_source(table) {
            self.identities.add(table, &kept)?;
        }
        let times = kept
            .column(0)
            .as_any()
            .downcast_ref::<TimestampNanosecondArray>()
            .ok_or_else(|| {
                arrow::error::ArrowError::SchemaError("first column is not the row time".into())
            })?;
        let mut by_day: HashMap<i64, Vec<u32>> = HashMap::new();
        for i in 0..times.len() {
            let day = if times.is_null(i) {
                0
            } else {
                times.value(i).div_euclid(NANOS_PER_DAY)
            };
            by_day.entry(day).or_default().push(i as u32);
        }
        let mut days: Vec<_> = by_day.into_iter().collect();
        days.sort_by_key(|(day, _)| *day);
        for (day, rows) in days {
            let part = if rows.len() == kept.num_rows() {
                kept.clone()
            } else {
                take_record_batch(&kept, &UInt32Array::from(rows))?
            };
            self.append(table, day, &part)?;
        }
        Ok((kept.num_rows() as u64, duplicates))
    }

    fn append(&mut self, table: &str, day: i64, batch: &RecordBatch) -> Result<(), CaseError> {
        self.clock += 1;
        let key = (table.to_string(), day);
        if !self.open.contains_key(&key) {
            if self.open.len() >= MAX_OPEN_FILES {
                self.close_least_recent()?;
            }
            let date = crate::time::from_nanos(day * NANOS_PER_DAY)
                .format("%Y-%m-%d")
                .to_string();
            let dir = self
                .case_root
                .join("tables")
                .join(table)
                .join(format!("date={date}"));
            fs::create_dir_all(&dir).map_err(CaseError::io("creating", &dir))?;
            self.sequence += 1;
            let name = format!("part-{}-{:05}.parquet", self.ingest_id, self.sequence);
            let path = dir.join(&name);
            let tmp = dir.join(format!(".{name}.tmp"));
            crate::interrupt::track(&tmp);
            let file = File::create_new(&tmp).map_err(CaseError::io("creating", &tmp))?;
            let writer = ArrowWriter::try_new(file, batch.schema(), Some(writer_properties()))
                .map_err(|source| CaseError::Parquet {
                    path: tmp.clone(),
                    source,
                })?;
            self.open.insert(
                key.clone(),
                OpenFile {
                    tmp,
                    path,
                    table: table.to_string(),
                    writer,
                    rows: 0,
                    last_used: 0,
                    memory: 0,
                    pending: Vec::new(),
                    pending_rows: 0,
                    pending_bytes: 0,
                },
            );
        }
        let clock = self.clock;
        if let Some(open) = self.open.get_mut(&key) {
            let bytes = batch.get_array_memory_size();
            open.pending.push(batch.clone());
            open.pending_rows += batch.num_rows();
            open.pending_bytes += bytes;
            open.memory += bytes;
            open.rows += batch.num_rows() as u64;
            open.last_used = clock;
            if open.pending_rows >= PENDING_ROWS || open.pending_bytes >= PENDING_BYTES {
                open.write_pending()?;
            }
        }
        while self.open.len() > 1
            && self.open.values().map(|f| f.memory).sum::<usize>() > self.open_files_bytes
        {
            self.close_least_recent()?;
        }
        Ok(())
    }

    fn close_least_recent(&mut self) -> Result<(), CaseError> {
        let oldest = self
            .open
            .iter()
            .min_by_key(|(_, f)| f.last_used)
            .map(|(k, _)| k.clone());
        if let Some(file) = oldest.and_then(|k| self.open.remove(&k)) {
            self.close(file)?;
        }
        Ok(())
    }

    fn close(&mut self, mut file: OpenFile) -> Result<(), CaseError> {
        // Listed as closed first, so a failure still leaves it to `Drop` to remove.
        self.closed.push((
            file.tmp.clone(),
            file.path.clone(),
            file.table.clone(),
            file.rows,
        ));
        file.write_pending()?;
        file.writer.close().map_err(|source| CaseError::Parquet {
            path: file.tmp,
            source,
        })?;
        Ok(())
    }

    /// Writes the identities of the sign-ins this run wrote (`index/identities-<ingest>.parquet`),
    /// to be renamed into place with the run's other files.
    fn write_identity_index(&mut self) -> Result<(), CaseError> {
        let batch = self.identities.to_batch()?;
        let (path, tmp) = super::identities::index_paths(&self.case_root, &self.ingest_id);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(CaseError::io("creating", dir))?;
        }
        crate::interrupt::track(&tmp);
        self.closed.push((
            tmp.clone(),
            path,
            INDEX_TABLE.to_string(),
            batch.num_rows() as u64,
        ));
        let parquet_error = |source| CaseError::Parquet {
            path: tmp.clone(),
            source,
        };
        let file = File::create_new(&tmp).map_err(CaseError::io("creating", &tmp))?;
        let mut writer = ArrowWriter::try_new(file, batch.schema(), Some(writer_properties()))
            .map_err(parquet_error)?;
        writer.write(&batch).map_err(parquet_error)?;
        writer.close().map_err(parquet_error)?;
        Ok(())
    }

    /// Keeps a rejected record in the case's rejects.
    pub fn reject(&mut self, blob: &str, reject: &Reject) -> Result<(), CaseError> {
        if self.rejects.is_none() {
            let dir = self.case_root.join("rejects");
            fs::create_dir_all(&dir).map_err(CaseError::io("creating", &dir))?;
            self.rejects = Some(RejectWriter::new(&dir, &self.ingest_id)?);
        }
        match self.rejects.as_mut() {
            Some(writer) => writer.push(&self.ingest_id, blob, reject),
            None => Ok(()),
        }
    }

    /// Closes every file, writes the run's identity index, and renames them into place;
    /// returns the files with their hashes.
    pub fn finish(mut self) -> Result<Vec<CaseFile>, CaseError> {
        if !self.identities.is_empty() {
            self.write_identity_index()?;
        }
        let mut open: Vec<OpenFile> = self.open.drain().map(|(_, f)| f).collect();
        while let Some(file) = open.pop() {
            if let Err(error) = self.close(file) {
                self.closed
                    .extend(open.into_iter().map(|f| (f.tmp, f.path, f.table, f.rows)));
                return Err(error);
            }
        }
        if let Some(rejects) = self.rejects.take() {
            let tmp = rejects.tmp.clone();
            match rejects.close() {
                Ok(closed) => self.closed.push(closed),
                Err(error) => {
                    let _ = fs::remove_file(&tmp);
                    crate::interrupt::untrack(&tmp);
                    return Err(error);
                }
            }
        }
        let mut files = Vec::new();
        let mut placed: Vec<PathBuf> = Vec::new();
        if !self.closed.is_empty() {
            // Named before any is placed: a run killed from here on is rolled back (or, once
            // in the manifest, completed) by the next ingest.
            let journal = super::journal::Journal {
                ingest_id: self.ingest_id.clone(),
                files: self
                    .closed
                    .iter()
                    .map(|(_, path, ..)| relative_to(&self.case_root, path))
                    .collect(),
            };
            super::journal::begin(&self.case_root, &journal)?;
        }
        while !self.closed.is_empty() {
            super::journal::crash_point("commit", placed.len());
            let (tmp, path, table, rows) = self.closed.remove(0);
            // A case file is never replaced: evidence already recorded stays as it was hashed.
            let renamed = if path.exists() {
                Err(CaseError::Io {
                    action: "refusing to overwrite",
                    path: path.clone(),
                    source: std::io::Error::from(std::io::ErrorKind::AlreadyExists),
                })
            } else {
                fs::rename(&tmp, &path).map_err(CaseError::io("renaming into place", &path))
            };
            if let Err(error) = renamed {
                // Undo this run's renames: the case stays as the manifest describes it.
                let _ = fs::remove_file(&tmp);
                crate::interrupt::untrack(&tmp);
                for done in &placed {
                    let _ = fs::remove_file(done);
                }
                let _ = super::journal::end(&self.case_root);
                return Err(error);
            }
            crate::interrupt::untrack(&tmp);
            placed.push(path.clone());
            let (size, sha256) = hash_file(&path)?;
            files.push(CaseFile {
                path: relative_to(&self.case_root, &path),
                table,
                rows,
                size,
                sha256,
            });
        }
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(files)
    }
}

/// `path` relative to the case root, with `/` separators (as the manifest lists it).
fn relative_to(case_root: &Path, path: &Path) -> String {
    path.strip_prefix(case_root)
        .unwrap_or(path)
        .iter()
        .map(|c| c.to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

impl Drop for CaseWriter {
    /// A run that ends in an error (a full disk, a read-only case) leaves no temporary behind.
    fn drop(&mut self) {
        let open = self.open.drain().map(|(_, f)| f.tmp);
        let closed = self.closed.drain(..).map(|(tmp, ..)| tmp);
        let rejects = self.rejects.take().map(|r| r.tmp);
        for tmp in open.chain(closed).chain(rejects).collect::<Vec<_>>() {
            let _ = fs::remove_file(&tmp);
            crate::interrupt::untrack(&tmp);
        }
    }
}

/// Removes temporary files a killed run left behind (never renamed, so never part of the case).
pub fn remove_stale_temporaries(case: &Case) -> Result<usize, CaseError> {
    fn walk(dir: &Path, removed: &mut usize) -> std::io::Result<()> {
        for entry in fs::read_dir(dir)? {
            let path = entry?.path();
            if path.is_dir() {
                walk(&path, removed)?;
            } else if path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().ends_with(".tmp"))
            {
                fs::remove_file(&path)?;
                *removed += 1;
            }
        }
        Ok(())
    }
    let mut removed = 0;
    // At the top level: an ingest's spilled blob records and the manifest's own temporary.
    let root = case.root();
    for entry in fs::read_dir(root).map_err(CaseError::io("cleaning", root))? {
        let path = entry.map_err(CaseError::io("cleaning", root))?.path();
        if path.is_file()
            && path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().ends_with(".tmp"))
        {
            fs::remove_file(&path).map_err(CaseError::io("cleaning", &path))?;
            removed += 1;
        }
    }
    for dir in [
        case.root().join("tables"),
        case.rejects_dir(),
        case.root().join(super::identities::INDEX_DIR),
        case.root().join("raw"),
    ] {
        if dir.exists() {
            walk(&dir, &mut removed).map_err(CaseError::io("cleaning", &dir))?;
        }
    }
    Ok(removed)
}

/// Properties of every Parquet file the tool writes into a case.
pub(crate) fn writer_properties() -> WriterProperties {
    WriterProperties::builder()
        // Snappy, not zstd: the zstd codec allocates compression and decompression contexts for
        // every column chunk read, a tenth of scope's time (docs/performance.md).
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_created_by(format!("mcpforensics {}", env!("CARGO_PKG_VERSION")))
        .build()
}

/// The `_row_hash`es of one table's rows, to drop exact duplicates.
type RowHashes = HashSet<u128, RowHashState>;

/// Hashes a `_row_hash` for [`RowHashes`]: the two halves of the 128-bit xxh3, each mixed with a
/// key drawn per process, multiplied and folded (as foldhash does), in place of SipHash's rounds
/// over 16 bytes. Keyed, so records written to collide in the table's buckets would need the key.
#[derive(Clone, Copy)]
struct RowHashState {
    key: u64,
}

impl Default for RowHashState {
    fn default() -> Self {
        use std::hash::BuildHasher;
        Self {
            key: std::collections::hash_map::RandomState::new().hash_one(0x6d63_7066_u64),
        }
    }
}

impl std::hash::BuildHasher for RowHashState {
    type Hasher = RowHasher;

    fn build_hasher(&self) -> RowHasher {
        RowHasher {
            key: self.key,
            hash: self.key,
        }
    }
}

/// See [`RowHashState`].
struct RowHasher {
    key: u64,
    hash: u64,
}

impl RowHasher {
    fn fold(&mut self, value: u128) {
        let low = (value as u64) ^ self.key;
        let high = ((value >> 64) as u64) ^ self.hash.rotate_left(32);
        let product = u128::from(low) * u128::from(high);
        self.hash = (product as u64) ^ ((product >> 64) as u64);
    }
}

impl std::hash::Hasher for RowHasher {
    fn write(&mut self, bytes: &[u8]) {
        // Only `u128`s are hashed here; any other input is folded 16 bytes at a time.
        for chunk in bytes.chunks(16) {
            let mut block = [0u8; 16];
            block[..chunk.len()].copy_from_slice(chunk);
            self.fold(u128::from_le_bytes(block));
        }
    }

    fn write_u128(&mut self, value: u128) {
        self.fold(value);
    }

    fn finish(&self) -> u64 {
        self.hash
    }
}

/// Every `_row_hash` already stored for a table, in the files the manifest records.
fn load_hashes(
    case_root: &Path,
    table_dir: &Path,
    recorded: &HashSet<String>,
) -> Result<RowHashes, CaseError> {
    let mut seen = RowHashes::default();
    for path in Case::parquet_files(table_dir)? {
        if !recorded.contains(&relative_to(case_root, &path)) {
            continue;
        }
        let parquet_error = |source| CaseError::Parquet {
            path: path.clone(),
            source,
        };
        let file = File::open(&path).map_err(CaseError::io("reading", &path))?;
        let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(parquet_error)?;
        let Some(index) = builder
            .schema()
            .fields()
            .iter()
            .position(|f| f.name() == "_row_hash")
        else {
            continue;
        };
        let mask = ProjectionMask::roots(builder.parquet_schema(), [index]);
        for batch in builder
            .with_projection(mask)
            .build()
            .map_err(parquet_error)?
        {
            let batch = batch?;
            if let Some(hashes) = batch
                .column(0)
                .as_any()
                .downcast_ref::<FixedSizeBinaryArray>()
            {
                for i in 0..hashes.len() {
                    seen.insert(u128::from_be_bytes(
                        hashes.value(i).try_into().unwrap_or([0; 16]),
                    ));
                }
            }
        }
    }
    Ok(seen)
}

/// Schema of the `rejects` table.
pub fn rejects_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("ingest_id", DataType::Utf8, false),
        Field::new("blob", DataType::Utf8, false),
        Field::new("line", DataType::UInt64, false),
        Field::new("reason", DataType::Utf8, false),
        Field::new("raw", DataType::Utf8, false),
        Field::new("raw_is_utf8", DataType::Boolean, false),
    ]))
}

struct RejectWriter {
    tmp: PathBuf,
    path: PathBuf,
    writer: ArrowWriter<File>,
    ingest: StringBuilder,
    blob: StringBuilder,
    line: UInt64Builder,
    reason: StringBuilder,
    raw: StringBuilder,
    utf8: Vec<bool>,
    rows: u64,
}

impl RejectWriter {
    fn new(dir: &Path, ingest_id: &str) -> Result<Self, CaseError> {
        let path = dir.join(format!("rejects-{ingest_id}.parquet"));
        let tmp = dir.join(format!(".rejects-{ingest_id}.parquet.tmp"));
        crate::interrupt::track(&tmp);
        let file = File::create_new(&tmp).map_err(CaseError::io("creating", &tmp))?;
        let writer = ArrowWriter::try_new(file, rejects_schema(), Some(writer_properties()))
            .map_err(|source| CaseError::Parquet {
                path: tmp.clone(),
                source,
            })?;
        Ok(Self {
            tmp,
            path,
            writer,
            ingest: StringBuilder::new(),
            blob: StringBuilder::new(),
            line: UInt64Builder::new(),
            reason: StringBuilder::new(),
            raw: StringBuilder::new(),
            utf8: Vec::new(),
            rows: 0,
        })
    }

    fn push(&mut self, ingest_id: &str, blob: &str, reject: &Reject) -> Result<(), CaseError> {
        self.ingest.append_value(ingest_id);
        self.blob.append_value(blob);
        self.line.append_value(reject.line);
        self.reason.append_value(&reject.reason);
        match std::str::from_utf8(&reject.raw) {
            Ok(text) => {
                self.raw.append_value(text);
                self.utf8.push(true);
            }
            Err(_) => {
                self.raw.append_value(String::from_utf8_lossy(&reject.raw));
                self.utf8.push(false);
            }
        }
        self.rows += 1;
        if self.utf8.len() >= 1024 {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), CaseError> {
        if self.utf8.is_empty() {
            return Ok(());
        }
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.ingest.finish()),
            Arc::new(self.blob.finish()),
            Arc::new(self.line.finish()),
            Arc::new(self.reason.finish()),
            Arc::new(self.raw.finish()),
            Arc::new(BooleanArray::from(std::mem::take(&mut self.utf8))),
        ];
        let batch = RecordBatch::try_new(rejects_schema(), columns)?;
        self.writer
            .write(&batch)
            .map_err(|source| CaseError::Parquet {
                path: self.tmp.clone(),
                source,
            })
    }

    fn close(mut self) -> Result<(PathBuf, PathBuf, String, u64), CaseError> {
        self.flush()?;
        self.writer.close().map_err(|source| CaseError::Parquet {
            path: self.tmp.clone(),
            source,
        })?;
        Ok((self.tmp, self.path, "rejects".into(), self.rows))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{FixedSizeBinaryBuilder, StringArray};
    use arrow::datatypes::TimeUnit;

    /// The de-duplication set keeps every distinct row hash and drops repeats, and its hasher
    /// spreads hashes that differ in either half (sequential values, one half zero) over distinct
    /// values, and differently in two sets (a key per set).
    #[test]
    fn row_hashes_keep_distinct_rows_and_spread_them() {
        use std::hash::BuildHasher;
        let values: Vec<u128> = (0..20_000u128)
            .map(|i| if i % 2 == 0 { i << 64 } else { i })
            .collect();
        let mut set = RowHashes::default();
        assert!(values.iter().all(|v| set.insert(*v)));
        assert!(values.iter().all(|v| !set.insert(*v)));
        assert_eq!(set.len(), values.len());
        let state = RowHashState::default();
        let spread: HashSet<u64> = values.iter().map(|v| state.hash_one(v)).collect();
        assert!(spread.len() >= values.len() - 2, "{}", spread.len());
        let (one, two) = (RowHashState { key: 1 }, RowHashState { key: 2 });
        assert_ne!(one.hash_one(7u128), two.hash_one(7u128));
    }

    fn batch(day: i64, first_row: u64, rows: u64) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new(
                "TimeGenerated",
                DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
                true,
            ),
            Field::new("Payload", DataType::Utf8, true),
            Field::new("_row_hash", DataType::FixedSizeBinary(16), false),
        ]));
        let times = TimestampNanosecondArray::from_iter_values(
            (0..rows).map(|i| day * NANOS_PER_DAY + i as i64),
        )
        .with_timezone("UTC");
        // Distinct, poorly compressible text: each row is its own value.
        let payload = StringArray::from_iter_values(
            (first_row..first_row + rows)
                .map(|i| format!("{:0>200}", i.wrapping_mul(0x9E37_79B9_7F4A_7C15))),
        );
        let mut hashes = FixedSizeBinaryBuilder::new(16);
        for i in first_row..first_row + rows {
            hashes.append_value(u128::from(i).to_be_bytes()).unwrap();
        }
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(times),
                Arc::new(payload),
                Arc::new(hashes.finish()),
            ],
        )
        .unwrap()
    }

    #[test]
    fn open_files_are_closed_past_the_memory_budget_and_every_row_lands() {
        let dir = tempfile::tempdir().unwrap();
        let case = Case::open_or_create(dir.path()).unwrap();
        let mut writer = CaseWriter::new(&case, "run").unwrap();
        writer.open_files_bytes = 2 << 20;
        let (days, rows_per_day) = (30, 4_000u64);
        let mut most_open = 0;
        for day in 0..days {
            let (written, duplicates) = writer
                .write(
                    "T",
                    &batch(20_000 + day, day as u64 * rows_per_day, rows_per_day),
                )
                .unwrap();
            assert_eq!((written, duplicates), (rows_per_day, 0));
            most_open = most_open.max(writer.open.len());
            let held: usize = writer.open.values().map(|f| f.writer.memory_size()).sum();
            assert!(
                writer.open.len() == 1 || held <= 2 << 20,
                "{held} bytes held by {} open files",
                writer.open.len()
            );
        }
        // Without the budget every day's file would stay open (the limit is 48 files).
        assert!(most_open < 30, "{most_open} files open at once");
        let files = writer.finish().unwrap();
        assert_eq!(files.len(), days as usize);
        assert_eq!(
            files.iter().map(|f| f.rows).sum::<u64>(),
            days as u64 * rows_per_day
        );
        for file in &files {
            let reader = ParquetRecordBatchReaderBuilder::try_new(
                File::open(dir.path().join(&file.path)).unwrap(),
            )
            .unwrap()
            .build()
            .unwrap();
            let rows: usize = reader.map(|b| b.unwrap().num_rows()).sum();
            assert_eq!(rows as u64, file.rows);
        }
    }
}
