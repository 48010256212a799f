//! The call index: the case's `tool_calls`, computed once after each ingest for every later session.
//!
//! Relating an MCP server's telemetry rows into calls (HTTP parent and MCP child rows, gateway and
//! server rows, trace facts, the caller's identity) is the largest part of a scope over a large
//! case, and its answer changes only when the case does. So each ingest ends by writing the whole
//! case's `tool_calls`, with what scope compares of each call (`customers`, `hosts`, `wide`), to
//! `<case>/derived/tool_calls-<fingerprint>/date=<day>/calls.parquet`; a session whose case has
//! the same fingerprint reads those rows as `tool_calls` instead of the view.
//!
//! - **The fingerprint** is a SHA-256 over everything the rows depend on: the tool's version, the
//!   views' SQL, the case's customer keys (`config.json`), and every case file the manifest lists,
//!   with its SHA-256. Another ingest, an edited `config.json` or another build gives another
//!   fingerprint: the index is then not read (the view answers), and the next ingest derives a
//!   current one. `mcpforensics ingest` of a source already in the case derives it for an older case.
//! - **Derived, not evidence.** The index is not in the manifest and no report cites it: deleting it
//!   changes speed, not answers. `index.json` beside its files lists them with their rows, sizes and
//!   SHA-256; it is written last and the directory is renamed into place, so a run killed while
//!   deriving leaves only a temporary directory, which the next derivation removes. A session uses
//!   the index only when `index.json` names this fingerprint and every file it lists is there with
//!   its size.
//! - **The same rows as the view.** The index relates rows over the whole case; the view, in a
//!   session over some days, relates the rows of those days, and sessions read a day either side
//!   of what their queries ask for, so a trace or gateway pair crossing midnight at either end is
//!   related the same way (tests compare whole reports both ways).

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::fs::{self, File};
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{Array, AsArray, BooleanArray};
use arrow::datatypes::{DataType, Schema, SchemaRef};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::error::DataFusionError;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::SessionContext;
use futures::StreamExt;
use parquet::arrow::ArrowWriter;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::reads::{CaseTable, DayWindow, OpenedFiles};
use super::{QueryEngine, QueryError, QuerySettings};
use crate::case::files::hash_file;
use crate::case::verify::IndexVerification;
use crate::case::{Case, CaseError};

/// Directory of derived data under the case root.
pub const DERIVED_DIR: &str = "derived";

/// Name of a call index directory, before its fingerprint.
const PREFIX: &str = "tool_calls-";

/// The file in an index directory listing its files (written last).
pub const INDEX_FILE: &str = "index.json";

/// Name the index's rows are registered under (`tool_calls` is a view over it).
pub const TABLE: &str = "tool_calls_index";

/// What `index.json` says of a call index.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct IndexRecord {
    /// The fingerprint of the case it was derived from.
    pub fingerprint: String,
    /// The build that derived it.
    pub tool_version: String,
    /// Tool calls in it.
    pub calls: u64,
    /// Its files, relative to its directory.
    pub files: Vec<IndexFile>,
}

/// One file of a call index.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct IndexFile {
    /// Path relative to the index directory (`date=<day>/calls.parquet`).
    pub path: String,
    /// Rows.
    pub rows: u64,
    /// Bytes.
    pub size: u64,
    /// SHA-256, hex.
    pub sha256: String,
}

/// A current call index: its directory relative to the case root, and what it says of itself.
#[derive(Debug, Clone, PartialEq)]
pub struct CallIndex {
    /// `derived/tool_calls-<fingerprint>`.
    pub dir: String,
    /// Its `index.json`.
    pub record: IndexRecord,
}

pub use crate::case::derived::Derived;

/// The fingerprint of what a call index of `case` depends on (hex).
pub fn fingerprint(case: &Case) -> Result<String, CaseError> {
    let mut hash = Sha256::new();
    hash.update(b"mcpforensics call index\n");
    hash.update(env!("MCPFORENSICS_LONG_VERSION").as_bytes());
    hash.update(b"\n");
    hash.update(super::VIEWS_SQL.as_bytes());
    hash.update(super::HTTP_ACCESS_SQL.as_bytes());
    for key in case.config()?.customer_keys {
        hash.update(key.as_bytes());
        hash.update([0]);
    }
    hash.update(b"\n");
    for file in case.head()?.ingests.iter().flat_map(|i| &i.files) {
        hash.update(file.path.as_bytes());
        hash.update([0]);
        hash.update(file.sha256.as_bytes());
        hash.update(b"\n");
    }
    // 128 bits name it: a directory name, not a proof of anything.
    Ok(hex::encode(&hash.finalize()[..16]))
}

/// The case's call index when it is current (its fingerprint is the case's and its files are
/// all there with their sizes); `None` otherwise, and for a case read in Blob Storage.
pub fn current(case: &Case) -> Result<Option<CallIndex>, CaseError> {
    if case.is_remote() {
        return Ok(None);
    }
    let fingerprint = fingerprint(case)?;
    let dir = format!("{DERIVED_DIR}/{PREFIX}{fingerprint}");
    let root = case.root().join(&dir);
    let Ok(text) = fs::read(root.join(INDEX_FILE)) else {
        return Ok(None);
    };
    let Ok(record) = serde_json::from_slice::<IndexRecord>(&text) else {
        return Ok(None);
    };
    let complete = record.fingerprint == fingerprint
        && record
            .files
            .iter()
            .all(|file| fs::metadata(root.join(&file.path)).is_ok_and(|m| m.len() == file.size));
    Ok(complete.then_some(CallIndex { dir, record }))
}

/// Re-hashes the case's current call index against its `index.json` (`verify`): scope checks
/// only that each file is there with its size, so a file changed in place is found here. `None`
/// when the case has no current index (scope then reads none).
pub fn verify(case: &Case) -> Result<Option<IndexVerification>, CaseError> {
    let Some(index) = current(case)? else {
        return Ok(None);
    };
    let mut verified = IndexVerification {
        dir: index.dir.clone(),
        ..IndexVerification::default()
    };
    for file in &index.record.files {
        let path = format!("{}/{}", index.dir, file.path);
        if hash_file(&case.root().join(&path))?.1 == file.sha256 {
            verified.files_ok += 1;
        } else {
            verified.files_changed.push(path);
        }
    }
    Ok(Some(verified))
}

/// Registers `index`'s rows as [`TABLE`] and replaces the `tool_calls` view by one over them,
/// with the view's columns in the view's order.
pub(super) async fn register(
    ctx: &SessionContext,
    case: &Case,
    index: &CallIndex,
    window: Option<DayWindow>,
    opened: Arc<OpenedFiles>,
) -> Result<SchemaRef, QueryError> {
    let view = ctx.table_provider("tool_calls").await?.schema();
    let file_schema = Arc::new(Schema::new(
        view.fields()
            .iter()
            .filter(|f| f.name() != "date")
            .cloned()
            .collect::<Vec<_>>(),
    ));
    let options = ListingOptions::new(Arc::new(ParquetFormat::default()))
        .with_file_extension(".parquet")
        .with_table_partition_cols(vec![("date".to_string(), DataType::Utf8)]);
    let config =
        ListingTableConfig::new(ListingTableUrl::parse(case.address_of(&index.dir, true))?)
            .with_listing_options(options)
            .with_schema(file_schema);
    let listing = Arc::new(ListingTable::try_new(config)?);
    ctx.register_table(TABLE, Arc::new(CaseTable::new(listing, window, opened)))?;
    let columns = view
        .fields()
        .iter()
        .map(|f| format!("\"{}\"", f.name().replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(", ");
    ctx.deregister_table("tool_calls")?;
    ctx.sql(&format!(
        "CREATE VIEW tool_calls AS SELECT {columns} FROM {TABLE}"
    ))
    .await?;
    Ok(ctx.table_provider(TABLE).await?.schema())
}

/// Makes the case's call index current, deriving it when it is not; on a thread of its own
/// (queries need a deep stack and their own runtime), whatever thread calls it. Never fails the
/// caller: an index that cannot be derived is reported, and sessions use the view. It is derived
/// in this process within the default memory limit (`ingest` has no query options).
pub fn ensure_blocking(case: &Case) -> Derived {
    ensure_blocking_in_spans(case, SPAN_BYTES)
}

/// As [`ensure_blocking`], relating spans of days whose files of the tables read hold at most
/// `span_bytes` (a day alone may hold more): the answer is the same whatever the spans.
pub fn ensure_blocking_in_spans(case: &Case, span_bytes: u64) -> Derived {
    let outcome = std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("call-index".into())
            .stack_size(super::QUERY_STACK_BYTES)
            .spawn_scoped(scope, || -> Result<Derived, QueryError> {
                let runtime = crate::runtime::multi_thread(None)
                    .map_err(|e| CaseError::io("starting", case.root())(e))?;
                runtime.block_on(ensure(case, &QuerySettings::default(), span_bytes))
            })
            .map(|thread| thread.join())
    });
    match outcome {
        Ok(Ok(Ok(derived))) => derived,
        Ok(Ok(Err(error))) => Derived::Failed {
            error: error.to_string(),
        },
        Ok(Err(_)) => Derived::Failed {
            error: "the derivation stopped unexpectedly".into(),
        },
        Err(error) => Derived::Failed {
            error: format!("cannot start a thread: {error}"),
        },
    }
}

/// Makes the case's call index current (see [`ensure_blocking_in_spans`]).
async fn ensure(
    case: &Case,
    settings: &QuerySettings,
    span_bytes: u64,
) -> Result<Derived, QueryError> {
    if let Some(index) = current(case)? {
        return Ok(Derived::Current {
            dir: index.dir,
            calls: index.record.calls,
            seconds: None,
        });
    }
    let started = std::time::Instant::now();
    let fingerprint = fingerprint(case)?;
    let derived = case.root().join(DERIVED_DIR);
    fs::create_dir_all(&derived).map_err(CaseError::io("creating", &derived))?;
    let name = format!("{PREFIX}{fingerprint}");
    let tmp = derived.join(format!(".{name}.tmp"));
    remove_dir(&tmp)?;
    let written = write_index(case, &tmp, &fingerprint, settings, span_bytes).await;
    let record = match written {
        Ok(record) => record,
        Err(error) => {
            let _ = fs::remove_dir_all(&tmp);
            return Err(error);
        }
    };
    let target = derived.join(&name);
    // An index whose files went missing or changed size: replaced as a whole.
    remove_dir(&target)?;
    fs::rename(&tmp, &target).map_err(CaseError::io("renaming into place", &target))?;
    // Indexes of earlier states of the case, and temporaries of killed runs.
    for entry in fs::read_dir(&derived).map_err(CaseError::io("listing", &derived))? {
        let path = entry.map_err(CaseError::io("listing", &derived))?.path();
        let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        if path.is_dir()
            && file_name
                .is_some_and(|n| n != name && (n.starts_with(PREFIX) || n.ends_with(".tmp")))
        {
            remove_dir(&path)?;
        }
    }
    Ok(Derived::Current {
        dir: format!("{DERIVED_DIR}/{name}"),
        calls: record.calls,
        seconds: Some((started.elapsed().as_secs_f64() * 10.0).round() / 10.0),
    })
}

fn remove_dir(path: &Path) -> Result<(), CaseError> {
    match fs::remove_dir_all(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(CaseError::Io {
            action: "removing",
            path: path.to_path_buf(),
            source: e,
        }),
        _ => Ok(()),
    }
}

/// One open file of an index being written.
struct DayFile {
    path: PathBuf,
    writer: ArrowWriter<File>,
    rows: u64,
}

/// Parquet bytes of the tables the view reads that one session relates at most (a day alone may
/// hold more): memory is bounded by this, not by the case's size, and a small case is related in
/// a few sessions, not a session a week (each session plans the view again: about 0.3 s).
/// Peak memory grows with it until the session's operators spill: 48 MiB took the 5 GB case's
/// re-derivation to 1.1 GB, over issue 39's 1 GiB; 32 MiB is under a week there (about 36 MB), as
/// before (docs/performance.md).
pub const SPAN_BYTES: u64 = 32 << 20;

/// Calendar days a span holds at least: fewer, larger sessions never cost more than a session a
/// week did (at 5 GB, 32 MiB spans of under a week made the derivation 20 % slower: more sessions,
/// each planning the view and reading a day either side).
pub const MIN_SPAN_DAYS: i64 = 7;

/// Day → table → bytes of the case's files of that day (from the manifest).
type DaySizes = BTreeMap<chrono::NaiveDate, BTreeMap<String, u64>>;

/// Writes the whole case's `tool_calls` under `dir`, one file per day, and `index.json` last.
///
/// In spans of days of at most `span_bytes` ([`SPAN_BYTES`]): each span's calls come from a session over those
/// days and a day either side, so a trace or gateway pair crossing midnight at the span's edge is
/// related as over the whole case (its rows are seconds apart). The first span counts the bytes
/// of every table; the later ones only those of the tables the view reads, taken from the first
/// session's plan.
async fn write_index(
    case: &Case,
    dir: &Path,
    fingerprint: &str,
    settings: &QuerySettings,
    span_bytes: u64,
) -> Result<IndexRecord, QueryError> {
    fs::create_dir_all(dir).map_err(CaseError::io("creating", dir))?;
    let mut files = Vec::new();
    let sizes = day_sizes(case)?;
    let mut read: Option<std::collections::BTreeSet<String>> = None;
    let mut from = sizes.keys().next().copied();
    while let Some(start) = from {
        let (first, last) = span_from(&sizes, start, read.as_ref(), span_bytes, MIN_SPAN_DAYS);
        let margin = chrono::Duration::days(1);
        let window = DayWindow {
            first: first - margin,
            last: last + margin,
        };
        let engine = QueryEngine::open_without_index(case, Some(window), settings).await?;
        if read.is_none() {
            read = Some(tables_read(engine.context(), "tool_calls").await?);
        }
        let frame = engine
            .context()
            .sql(&format!(
                "SELECT * FROM tool_calls WHERE date >= '{first}' AND date <= '{last}'"
            ))
            .await?;
        write_days(frame.execute_stream().await?, dir, &mut files).await?;
        from = sizes
            .range((Bound::Excluded(last), Bound::Unbounded))
            .next()
            .map(|(day, _)| *day);
    }
    let record = IndexRecord {
        fingerprint: fingerprint.to_string(),
        tool_version: env!("MCPFORENSICS_LONG_VERSION").to_string(),
        calls: files.iter().map(|f| f.rows).sum(),
        files,
    };
    let text = serde_json::to_vec_pretty(&record).map_err(|source| CaseError::Manifest {
        path: dir.join(INDEX_FILE),
        source,
    })?;
    crate::case::write_atomic(&dir.join(INDEX_FILE), &text)?;
    Ok(record)
}

/// The bytes of each day's case files, by table, as the manifest records them.
fn day_sizes(case: &Case) -> Result<DaySizes, CaseError> {
    let mut days = DaySizes::new();
    for file in case.head()?.ingests.iter().flat_map(|i| &i.files) {
        let day = file
            .path
            .strip_prefix("tables/")
            .and_then(|rest| rest.split("/date=").nth(1))
            .and_then(|rest| rest.get(..10))
            .and_then(|text| chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok());
        if let Some(day) = day {
            *days
                .entry(day)
                .or_default()
                .entry(file.table.clone())
                .or_default() += file.size;
        }
    }
    Ok(days)
}

/// The span of days from `start` whose files of the tables in `read` (every table when `None`)
/// hold at most `budget` bytes, and at least `min_days` calendar days (and the day `start`):
/// (first, last).
fn span_from(
    sizes: &DaySizes,
    start: chrono::NaiveDate,
    read: Option<&std::collections::BTreeSet<String>>,
    budget: u64,
    min_days: i64,
) -> (chrono::NaiveDate, chrono::NaiveDate) {
    let bytes = |tables: &BTreeMap<String, u64>| -> u64 {
        tables
            .iter()
            .filter(|(table, _)| read.is_none_or(|read| read.contains(*table)))
            .map(|(_, size)| size)
            .sum()
    };
    let (mut last, mut total) = (start, 0u64);
    for (day, tables) in sizes.range(start..) {
        total += bytes(tables);
        if *day > start && total > budget && (*day - start).num_days() >= min_days {
            break;
        }
        last = *day;
    }
    (start, last)
}

/// The tables a query of `view` reads: the table scans of its plan, views expanded.
pub async fn tables_read(
    ctx: &SessionContext,
    view: &str,
) -> Result<std::collections::BTreeSet<String>, QueryError> {
    fn scans(
        plan: &LogicalPlan,
        tables: &mut std::collections::BTreeSet<String>,
    ) -> Result<(), DataFusionError> {
        plan.apply_with_subqueries(|node| {
            if let LogicalPlan::TableScan(scan) = node {
                match scan.source.get_logical_plan() {
                    Some(view) => scans(&view, tables)?,
                    None => {
                        tables.insert(scan.table_name.table().to_string());
                    }
                }
            }
            Ok(TreeNodeRecursion::Continue)
        })
        .map(|_| ())
    }
    let mut tables = std::collections::BTreeSet::new();
    scans(ctx.table(view).await?.logical_plan(), &mut tables)?;
    Ok(tables)
}

/// Writes the rows of `stream` (`tool_calls`) into one file per day under `dir`, and adds the
/// files to `files`.
async fn write_days(
    mut stream: datafusion::execution::SendableRecordBatchStream,
    dir: &Path,
    files: &mut Vec<IndexFile>,
) -> Result<(), QueryError> {
    let schema = stream.schema();
    let date_column = schema.index_of("date").map_err(DataFusionError::from)?;
    let others: Vec<usize> = (0..schema.fields().len())
        .filter(|&i| i != date_column)
        .collect();
    let file_schema = Arc::new(schema.project(&others).map_err(DataFusionError::from)?);
    let mut days: BTreeMap<String, DayFile> = BTreeMap::new();
    let result = async {
        while let Some(batch) = stream.next().await {
            let batch = batch?;
            let dates = batch
                .column(date_column)
                .as_string_opt::<i32>()
                .ok_or_else(|| {
                    QueryError::Pack("tool_calls: the date column is not text".into())
                })?;
            if dates.null_count() > 0 {
                return Err(QueryError::Pack(
                    "tool_calls: a call without a partition day".into(),
                ));
            }
            let rows = batch.project(&others).map_err(DataFusionError::from)?;
            let mut seen: Vec<&str> = dates.iter().flatten().collect();
            seen.sort_unstable();
            seen.dedup();
            for day in seen {
                let part = if dates.iter().all(|d| d == Some(day)) {
                    rows.clone()
                } else {
                    let keep: BooleanArray = dates.iter().map(|d| Some(d == Some(day))).collect();
                    arrow::compute::filter_record_batch(&rows, &keep)
                        .map_err(DataFusionError::from)?
                };
                let file = match days.entry(day.to_string()) {
                    Entry::Occupied(file) => file.into_mut(),
                    Entry::Vacant(slot) => slot.insert(open_day(dir, day, &file_schema)?),
                };
                file.rows += part.num_rows() as u64;
                file.writer
                    .write(&part)
                    .map_err(|source| parquet_error(&file.path, source))?;
            }
        }
        Ok::<(), QueryError>(())
    }
    .await;
    let mut failure = result.err();
    for (day, file) in days {
        let closed = file
            .writer
            .close()
            .map_err(|source| parquet_error(&file.path, source));
        crate::interrupt::untrack(&file.path);
        if let Err(error) = closed {
            failure.get_or_insert(error);
            continue;
        }
        let (size, sha256) = hash_file(&file.path)?;
        files.push(IndexFile {
            path: format!("date={day}/calls.parquet"),
            rows: file.rows,
            size,
            sha256,
        });
    }
    failure.map_or(Ok(()), Err)
}

fn open_day(dir: &Path, day: &str, schema: &SchemaRef) -> Result<DayFile, QueryError> {
    let day_dir = dir.join(format!("date={day}"));
    fs::create_dir_all(&day_dir).map_err(CaseError::io("creating", &day_dir))?;
    let path = day_dir.join("calls.parquet");
    crate::interrupt::track(&path);
    let file = File::create_new(&path).map_err(CaseError::io("creating", &path))?;
    let writer = ArrowWriter::try_new(
        file,
        schema.clone(),
        Some(crate::case::writer::writer_properties()),
    )
    .map_err(|source| parquet_error(&path, source))?;
    Ok(DayFile {
        path,
        writer,
        rows: 0,
    })
}

fn parquet_error(path: &Path, source: parquet::errors::ParquetError) -> QueryError {
    QueryError::Case(CaseError::Parquet {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> chrono::NaiveDate {
        chrono::NaiveDate::from_ymd_opt(2026, 3, d).expect("day")
    }

    /// Spans grow while their files fit the budget, count only the tables read once known, and
    /// always take their first day, however large.
    #[test]
    fn spans_hold_the_bytes_of_the_tables_read_within_the_budget() {
        let mut sizes = DaySizes::new();
        for (d, requests, flows) in [
            (1, 10, 100),
            (2, 10, 100),
            (3, 30, 100),
            (5, 5, 0),
            (9, 70, 0),
        ] {
            let tables = sizes.entry(day(d)).or_default();
            tables.insert("AppRequests".to_string(), requests);
            if flows > 0 {
                tables.insert("flows".to_string(), flows);
            }
        }
        let read: std::collections::BTreeSet<String> = ["AppRequests".to_string()].into();
        // Every table: the flows fill the budget on the first day.
        assert_eq!(span_from(&sizes, day(1), None, 150, 0), (day(1), day(1)));
        // The tables read: 10 + 10 + 30 + 5 = 55 fit 60; day 9 would make 125.
        assert_eq!(
            span_from(&sizes, day(1), Some(&read), 60, 0),
            (day(1), day(5))
        );
        assert_eq!(
            span_from(&sizes, day(1), Some(&read), 49, 0),
            (day(1), day(2))
        );
        // A day over the budget alone is a span of its own.
        assert_eq!(
            span_from(&sizes, day(9), Some(&read), 10, 0),
            (day(9), day(9))
        );
        assert_eq!(
            span_from(&sizes, day(3), Some(&read), 1_000, 0),
            (day(3), day(9))
        );
        // At least a calendar week, whatever the budget: days 1 to 5 (day 9 is past the week).
        assert_eq!(span_from(&sizes, day(1), None, 10, 7), (day(1), day(5)));
        assert_eq!(
            span_from(&sizes, day(3), Some(&read), 10, 7),
            (day(3), day(9))
        );
    }
}
