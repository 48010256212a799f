//! The merged super-timeline of a window written to a file, without a terminal: CSV for a
//! spreadsheet, JSON Lines for scripts, and Timesketch's import format.
//!
//! One row per event, in time order, with flat fields: the time (UTC, RFC 3339), what kind of
//! event it is, identity, addresses, session, tool, customers, a one-line message, severity, the
//! case table, and the evidence: blob, line and the blob's SHA-256 from the manifest. The query
//! is the interactive timeline's, run chunk by chunk, so memory stays that of one chunk.

use std::io::Write;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{
    DataType, Int32Type, Int64Type, TimeUnit, TimestampNanosecondType, UInt64Type,
};
use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value, json};

use super::error::TimelineError;
use super::loader::Marks;
use super::store::StoreError;
use crate::case::Case;
use crate::query::QueryEngine;

/// The file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// CSV for spreadsheets: UTF-8 with a byte-order mark, CRLF, formulas neutralised.
    Csv,
    /// One JSON object per line.
    Jsonl,
    /// JSON Lines as Timesketch imports it: `message`, `datetime`, `timestamp_desc`,
    /// `timestamp` (microseconds) and the other fields flat.
    Timesketch,
}

/// Columns of the CSV and keys of the JSON, in order.
const FIELDS: [&str; 17] = [
    "datetime",
    "timestamp_desc",
    "message",
    "kind",
    "user",
    "ip",
    "peer",
    "session",
    "tool",
    "customers",
    "severity",
    "source_table",
    "blob",
    "line",
    "blob_sha256",
    "operation_id",
    "tag",
];

/// What `timestamp_desc` says for each kind of event.
fn description(kind: &str) -> &str {
    match kind {
        "signin" => "Sign-in",
        "audit" => "Directory change",
        "tool" => "MCP tool call",
        "request" => "Request to the server",
        "dependency" => "Call made by the server",
        "trace" => "Server trace",
        "event" => "Server event",
        "exception" => "Server exception",
        "flow" => "Network flow",
        "gateway" => "API gateway request",
        "ask" => "MCP server's request to its client",
        other => other,
    }
}

/// Writes every event of `[from, to)` to `out`, each tagged with what `marks` say of it (scope's
/// attacker mark, the Sigma rules it hit); returns the number written.
pub fn export(
    case: &Case,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    marks: Option<&Marks>,
    format: ExportFormat,
    out: &mut dyn Write,
    settings: &crate::query::QuerySettings,
) -> Result<u64, TimelineError> {
    let hashes = case.held_blob_hashes()?;
    let runtime = super::loader::query_runtime()?;
    let engine = runtime.block_on(QueryEngine::open(case, settings))?;
    if let Some(statement) = engine.file_check().statement() {
        crate::tell!("warning: {}", crate::escape::terminal_safe(&statement));
    }
    let io = TimelineError::Write;
    write_header(format, out).map_err(io)?;
    let mut written = 0u64;
    for (chunk_from, chunk_to) in super::loader::plan_chunks(case, from, to) {
        let sql = super::loader::timeline_sql(chunk_from, chunk_to);
        let (_, batches) = runtime.block_on(engine.sql(&sql))?;
        for batch in &batches {
            for row in rows(batch, &hashes, marks)? {
                write_row(&row, format, out).map_err(io)?;
                written += 1;
            }
        }
    }
    out.flush().map_err(io)?;
    Ok(written)
}

/// Writes what comes before the first event: the CSV's byte-order mark and header.
pub fn write_header(format: ExportFormat, out: &mut dyn Write) -> std::io::Result<()> {
    if format == ExportFormat::Csv {
        out.write_all(crate::escape::CSV_BOM.as_bytes())?;
        out.write_all(FIELDS.join(",").as_bytes())?;
        out.write_all(b"\r\n")?;
    }
    Ok(())
}

/// Writes one loaded event (the interactive timeline's `e`), with its blob's SHA-256.
pub fn write_event(
    event: &super::store::Event<'_>,
    (blob_sha256, tags): (Option<String>, Vec<String>),
    format: ExportFormat,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let time = DateTime::<Utc>::UNIX_EPOCH + Duration::nanoseconds(event.time);
    let text = |value: Option<&str>| value.map_or(Value::Null, |v| json!(v));
    let mut row = Map::new();
    row.insert("datetime".into(), json!(crate::time::format_utc(time)));
    row.insert(
        "timestamp_desc".into(),
        json!(description(event.kind.label())),
    );
    row.insert("message".into(), json!(event.summary));
    row.insert("kind".into(), json!(event.kind.label()));
    row.insert("user".into(), text(event.user));
    row.insert("ip".into(), text(event.ip));
    row.insert("peer".into(), text(event.peer));
    row.insert("session".into(), text(event.session));
    row.insert("tool".into(), text(event.tool));
    row.insert("customers".into(), text(event.customers));
    row.insert("severity".into(), json!(event.severity));
    row.insert("source_table".into(), json!(event.source_table));
    row.insert("blob".into(), json!(event.blob));
    row.insert("line".into(), json!(event.line));
    row.insert("blob_sha256".into(), text(blob_sha256.as_deref()));
    row.insert("operation_id".into(), text(event.operation));
    row.insert("tag".into(), json!(tags));
    row.insert("timestamp".into(), json!(event.time / 1_000));
    write_row(&row, format, out)
}

/// The events of one batch as flat JSON objects with [`FIELDS`].
fn rows(
    batch: &RecordBatch,
    hashes: &std::collections::BTreeMap<String, String>,
    marks: Option<&Marks>,
) -> Result<Vec<Map<String, Value>>, StoreError> {
    let column = |name: &'static str| batch.column_by_name(name).ok_or(StoreError::Column(name));
    let text = |name: &'static str, row: usize| -> Result<Value, StoreError> {
        let array = column(name)?;
        if array.is_null(row) {
            return Ok(Value::Null);
        }
        Ok(match array.data_type() {
            DataType::Utf8 => json!(array.as_string::<i32>().value(row)),
            DataType::LargeUtf8 => json!(array.as_string::<i64>().value(row)),
            DataType::Utf8View => json!(array.as_string_view().value(row)),
            DataType::Int32 => json!(array.as_primitive::<Int32Type>().value(row)),
            DataType::Int64 => json!(array.as_primitive::<Int64Type>().value(row)),
            DataType::UInt64 => json!(array.as_primitive::<UInt64Type>().value(row)),
            _ => json!(arrow::util::display::array_value_to_string(array, row)?),
        })
    };
    let times = column("time")?;
    let DataType::Timestamp(TimeUnit::Nanosecond, _) = times.data_type() else {
        return Err(StoreError::Column("time"));
    };
    let times = times.as_primitive::<TimestampNanosecondType>();
    let mut out = Vec::with_capacity(batch.num_rows());
    for row in 0..batch.num_rows() {
        let nanos = times.value(row);
        let time = DateTime::<Utc>::UNIX_EPOCH + Duration::nanoseconds(nanos);
        let kind = text("kind", row)?;
        let blob = text("blob", row)?;
        let mut event = Map::new();
        event.insert("datetime".into(), json!(crate::time::format_utc(time)));
        event.insert(
            "timestamp_desc".into(),
            json!(description(kind.as_str().unwrap_or_default())),
        );
        event.insert("message".into(), text("summary", row)?);
        event.insert("kind".into(), kind);
        // user … source_table, as the query gives them.
        for name in &FIELDS[4..12] {
            event.insert((*name).into(), text(name, row)?);
        }
        let sha256 = blob
            .as_str()
            .and_then(|b| hashes.get(b))
            .map_or(Value::Null, |h| json!(h));
        event.insert("blob".into(), blob);
        event.insert("line".into(), text("line", row)?);
        event.insert("blob_sha256".into(), sha256);
        event.insert("operation_id".into(), text("operation", row)?);
        let tags = marks.map_or_else(Vec::new, |marks| {
            let line = event["line"].as_u64().unwrap_or_default();
            let (kind, ip, peer) = (&event["kind"], &event["ip"], &event["peer"]);
            marks.tags(
                (event["blob"].as_str().unwrap_or_default(), line),
                kind.as_str().unwrap_or_default(),
                ip.as_str(),
                peer.as_str(),
            )
        });
        event.insert("tag".into(), json!(tags));
        event.insert("timestamp".into(), json!(nanos / 1_000));
        out.push(event);
    }
    Ok(out)
}

fn write_row(
    event: &Map<String, Value>,
    format: ExportFormat,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    match format {
        ExportFormat::Csv => {
            let cells: Vec<String> = FIELDS
                .iter()
                .map(|name| match event.get(*name) {
                    None | Some(Value::Null) => String::new(),
                    Some(Value::String(s)) => crate::escape::csv_field(s),
                    // Tags: one cell, `; `-separated.
                    Some(Value::Array(items)) => crate::escape::csv_field(
                        &items
                            .iter()
                            .filter_map(Value::as_str)
                            .collect::<Vec<_>>()
                            .join("; "),
                    ),
                    // Numbers stay numbers: only text is neutralised.
                    Some(other) => other.to_string(),
                })
                .collect();
            out.write_all(cells.join(",").as_bytes())?;
            out.write_all(b"\r\n")
        }
        ExportFormat::Jsonl => {
            let mut ordered = Map::new();
            for name in FIELDS {
                ordered.insert(name.into(), event.get(name).cloned().unwrap_or(Value::Null));
            }
            serde_json::to_writer(&mut *out, &ordered)?;
            out.write_all(b"\n")
        }
        ExportFormat::Timesketch => {
            // Timesketch needs message, datetime and timestamp_desc; nulls and an empty `tag`
            // are left out.
            let mut ordered = Map::new();
            for name in FIELDS.iter().copied().chain(["timestamp"]) {
                let empty = |v: &&Value| v.is_null() || v.as_array().is_some_and(Vec::is_empty);
                if let Some(value) = event.get(name).filter(|v| !empty(v)) {
                    ordered.insert(name.into(), value.clone());
                }
            }
            serde_json::to_writer(&mut *out, &ordered)?;
            out.write_all(b"\n")
        }
    }
}
