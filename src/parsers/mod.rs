//! From blob bytes to Arrow record batches with declared schemas.
//!
//! The registry ([`plan_for`]) maps each export to the table it feeds and the decoder that
//! reads it; adding a format means one module and one line there (see docs/adding-a-format.md).
//! Decoding streams: a blob is framed record by record ([`framing`]), each record checked and
//! appended to a [`columns::BatchBuilder`], and batches of at most [`BATCH_ROWS`] rows are
//! handed on. Bad records become [`Reject`]s naming the line; the rest of the blob continues.

pub mod columns;
pub mod diagnostic;
pub mod flows;
pub mod framing;
pub mod log_analytics;
pub mod scan;
pub mod strict_json;

use std::io::Read;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use serde_json::{Map, Value};

use crate::catalog;
use crate::sources::ExportKind;
use columns::{BatchBuilder, Cell, RowOrigin};
use framing::{Framed, Framer};
use log_analytics::TableSpec;

/// Rows per record batch handed to the case writer.
pub const BATCH_ROWS: usize = 8192;
/// Record bytes at which a batch is handed on before it has [`BATCH_ROWS`] rows: a blob of a
/// few huge records is held one batch at a time, not whole.
pub const BATCH_BYTES: usize = 8 << 20;

/// The table name of every flow log tuple (the catalogue's table with `Decoder::Flows`).
pub const FLOWS_TABLE: &str = "flows";

/// The schema of a catalogue table with declared columns (its own, or the flow tuples'); `None`
/// for a table read with the generic columns.
pub fn declared_schema(table: &catalog::EvidenceTable) -> Option<SchemaRef> {
    match table.decoder {
        catalog::Decoder::Declared => {
            log_analytics::find_table(table.name).map(|spec| Decoder::Table(spec).schema())
        }
        catalog::Decoder::Flows => Some(Decoder::Flows.schema()),
        catalog::Decoder::Generic => None,
    }
}

/// How a blob's records are decoded.
#[derive(Debug, Clone, Copy)]
pub enum Decoder {
    /// A Log Analytics table with declared columns (also used for undeclared tables, with the generic spec).
    Table(&'static TableSpec),
    /// NSG and VNet flow-log records, one row per tuple.
    Flows,
    /// A diagnostic-settings category read onto its Log Analytics table.
    Diagnostic(diagnostic::Category),
}

impl Decoder {
    /// The schema of the batches this decoder produces.
    pub fn schema(self) -> SchemaRef {
        match self {
            Decoder::Table(spec) => columns::schema_for(spec.columns, spec.derived),
            Decoder::Flows => columns::schema_for(flows::FLOW_COLUMNS, &[]),
            Decoder::Diagnostic(category) => {
                let spec = diagnostic::spec_of(&category);
                columns::schema_for(spec.columns, spec.derived)
            }
        }
    }

    /// A short format label for the manifest.
    pub fn format_label(self) -> &'static str {
        match self {
            Decoder::Table(spec) if std::ptr::eq(spec, &log_analytics::GENERIC) => {
                "json-lines (undeclared table)"
            }
            Decoder::Table(_) => "log-analytics-export",
            Decoder::Flows => "flow-log",
            Decoder::Diagnostic(_) => "diagnostic-settings",
        }
    }
}

/// Which table a blob feeds and how it is decoded.
#[derive(Debug, Clone)]
pub struct BlobPlan {
    /// Table name in the case.
    pub table: String,
    /// The decoder.
    pub decoder: Decoder,
}

/// The registry: export kind → table and decoder.
pub fn plan_for(kind: &ExportKind) -> BlobPlan {
    match kind {
        ExportKind::LogAnalytics(table) => match log_analytics::find_table(table) {
            Some(spec) => BlobPlan {
                table: spec.name.to_string(),
                decoder: Decoder::Table(spec),
            },
            // A table the catalogue names without declared columns keeps its name, as its
            // diagnostic-settings archive does.
            None => match catalog::find(table).filter(|t| t.decoder == catalog::Decoder::Generic) {
                Some(known) => BlobPlan {
                    table: known.name.to_string(),
                    decoder: Decoder::Table(&log_analytics::GENERIC),
                },
                // Anything else is prefixed like undeclared diagnostic categories: a container named
                // after one of the case's own tables or views (`am-rejects`, `am-flows`,
                // `am-tool-calls`) never takes its name.
                None => BlobPlan {
                    table: format!("{UNDECLARED_EXPORT_PREFIX}{}", sanitize_table_name(table)),
                    decoder: Decoder::Table(&log_analytics::GENERIC),
                },
            },
        },
        ExportKind::NsgFlow | ExportKind::VnetFlow => BlobPlan {
            table: FLOWS_TABLE.into(),
            decoder: Decoder::Flows,
        },
        ExportKind::ResourceLog(category) => match diagnostic::find_category(category) {
            Some(declared) => BlobPlan {
                table: declared.table.to_string(),
                decoder: Decoder::Diagnostic(declared),
            },
            None => BlobPlan {
                table: format!("insights_logs_{}", sanitize_table_name(category)),
                decoder: Decoder::Table(&log_analytics::GENERIC),
            },
        },
    }
}

/// Table-name prefix of an undeclared Log Analytics export (`am-securityevent` →
/// `am_securityevent`); undeclared diagnostic categories get `insights_logs_`.
pub const UNDECLARED_EXPORT_PREFIX: &str = "am_";

/// Keeps `[A-Za-z0-9_]`, replacing anything else by `_`, so a table name is a plain SQL identifier
/// and a safe directory name.
pub fn sanitize_table_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// A record that could not be ingested.
#[derive(Debug, Clone, PartialEq)]
pub struct Reject {
    /// 1-based line where the record starts.
    pub line: u64,
    /// Why it was rejected.
    pub reason: String,
    /// Its bytes (possibly cut to [`framing::MAX_REJECT_RAW_BYTES`]).
    pub raw: Vec<u8>,
}

/// What decoding hands on while it reads a blob.
#[derive(Debug)]
pub enum DecodeEvent {
    /// Rows ready for the case.
    Batch(RecordBatch),
    /// A rejected record.
    Reject(Reject),
}

/// Counts for one decoded blob.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct DecodeStats {
    /// Rows produced (tuples for flow logs).
    pub rows: u64,
    /// Records or tuples rejected.
    pub rejected: u64,
    /// Earliest row time, ns.
    pub first_time: Option<i64>,
    /// Latest row time, ns.
    pub last_time: Option<i64>,
    /// Rows kept with a repeated JSON key (the first value typed, the rest under
    /// `_extra._duplicate_keys`), and the line of the first.
    pub repeated_keys: u64,
    /// Line of the first such row.
    pub first_repeated_key_line: Option<u64>,
}

impl DecodeStats {
    fn saw_time(&mut self, t: Option<i64>) {
        if let Some(t) = t {
            self.first_time = Some(self.first_time.map_or(t, |f| f.min(t)));
            self.last_time = Some(self.last_time.map_or(t, |l| l.max(t)));
        }
    }
}

/// Decodes a blob body, handing batches and rejects to `emit` as it goes.
///
/// Errors are only I/O errors of the underlying reader; bad content becomes rejects.
pub fn decode_blob(
    reader: Box<dyn Read + Send>,
    blob: &str,
    decoder: Decoder,
    emit: &mut dyn FnMut(DecodeEvent),
) -> std::io::Result<DecodeStats> {
    let mut framer = Framer::sniff(reader)?;
    let mut stats = DecodeStats::default();
    let mut builder = match decoder {
        Decoder::Table(spec) => BatchBuilder::new(spec.columns, spec.derived),
        Decoder::Flows => BatchBuilder::new(flows::FLOW_COLUMNS, &[]),
        Decoder::Diagnostic(category) => {
            let spec = diagnostic::spec_of(&category);
            BatchBuilder::new(spec.columns, spec.derived)
        }
    };
    let mut batch_bytes = 0usize;
    // Plain records of a Log Analytics table are read straight into their columns; the rest
    // (and any value that does not convert) take the general path below.
    let plain_rows = match decoder {
        Decoder::Table(spec) => Some(log_analytics::PlainRows::new(spec)),
        Decoder::Diagnostic(category) => Some(log_analytics::PlainRows::new(diagnostic::spec_of(
            &category,
        ))),
        Decoder::Flows => None,
    };
    let (mut members, mut keys, mut nested) = (Vec::new(), Vec::new(), Vec::new());
    while let Some(framed) = framer.next_framed()? {
        let (line, bytes) = match framed {
            Framed::Record { line, bytes } => (line, bytes),
            Framed::Bad { line, reason, raw } => {
                reject(&mut stats, line, reason, raw, emit);
                continue;
            }
        };
        let bytes_len = bytes.len();
        let plain = plain_rows.as_ref().and_then(|rows| {
            let record = scan::top_level_members(&bytes, &mut members, &mut keys)?;
            match decoder {
                Decoder::Diagnostic(category) => {
                    // Names borrow this record's bytes, so the list lives for this record only.
                    let mut named = Vec::with_capacity(members.len() + 16);
                    diagnostic::plain_members(
                        &category,
                        record,
                        &members,
                        (&mut nested, &mut keys),
                        &mut named,
                    )?;
                    rows.named_row_cells(record, &named, category.table)
                }
                _ => rows.row_cells(record, &members),
            }
        });
        if let Some(row) = plain {
            push_row(
                &mut builder,
                &mut stats,
                row,
                RowOrigin {
                    blob,
                    line,
                    hash: xxhash_rust::xxh3::xxh3_128(&bytes),
                },
            );
        } else {
            decode_general(&bytes, line, blob, decoder, &mut builder, &mut stats, emit);
        }
        batch_bytes += bytes_len;
        if builder.len() >= BATCH_ROWS || (batch_bytes >= BATCH_BYTES && !builder.is_empty()) {
            batch_bytes = 0;
            emit(DecodeEvent::Batch(builder.finish()));
        }
    }
    if !builder.is_empty() {
        emit(DecodeEvent::Batch(builder.finish()));
    }
    Ok(stats)
}

fn push_row(
    builder: &mut BatchBuilder,
    stats: &mut DecodeStats,
    (cells, extra, time): log_analytics::RowCells,
    origin: RowOrigin<'_>,
) {
    builder.push(cells, extra, origin);
    stats.rows += 1;
    stats.saw_time(time);
}

fn reject(
    stats: &mut DecodeStats,
    line: u64,
    reason: String,
    raw: Vec<u8>,
    emit: &mut dyn FnMut(DecodeEvent),
) {
    stats.rejected += 1;
    emit(DecodeEvent::Reject(Reject { line, reason, raw }));
}

/// Any record by way of a tree: first key wins at every depth, later ones are kept under
/// `_extra._duplicate_keys`; diagnostic-settings records are renamed onto their table; flow
/// records become one row per tuple; whatever does not convert is rejected with the reason.
fn decode_general(
    bytes: &[u8],
    line: u64,
    blob: &str,
    decoder: Decoder,
    builder: &mut BatchBuilder,
    stats: &mut DecodeStats,
    emit: &mut dyn FnMut(DecodeEvent),
) {
    // A category known to write its `properties` in single quotes in place is read with them as
    // JSON; the object's original text is kept beside the row (docs/ingest.md).
    let mut repaired = None;
    let parsed = match (strict_json::parse(bytes), &decoder) {
        (Err(error), Decoder::Diagnostic(category)) => {
            match diagnostic::repair_in_place_properties(category, bytes) {
                Some((rewritten, original)) => match strict_json::parse(&rewritten) {
                    Ok(parsed) => {
                        repaired = Some(original);
                        Ok(parsed)
                    }
                    Err(_) => Err(error),
                },
                None => Err(error),
            }
        }
        (parsed, _) => parsed,
    };
    let record: Map<String, Value> = match parsed {
        Ok((Value::Object(_), duplicates))
            if !duplicates.is_empty() && matches!(decoder, Decoder::Flows) =>
        {
            // No place to keep a second value in a flow tuple: ambiguous, so not read.
            let keys: Vec<&str> = duplicates.iter().map(|(path, _)| path.as_str()).collect();
            reject(
                stats,
                line,
                format!(
                    "flow record repeats the key(s) {}: ambiguous, not read",
                    keys.join(", ")
                ),
                bytes.to_vec(),
                emit,
            );
            return;
        }
        Ok((Value::Object(mut map), duplicates)) => {
            // The first value of a repeated key is typed; the later ones are kept beside it.
            if !duplicates.is_empty() {
                stats.repeated_keys += 1;
                stats.first_repeated_key_line.get_or_insert(line);
                map.insert(
                    strict_json::DUPLICATE_KEYS.into(),
                    strict_json::duplicates_object(duplicates),
                );
            }
            if let Some(original) = repaired {
                map.insert(
                    "_repaired".into(),
                    Value::String("properties: single-quoted object in place read as JSON".into()),
                );
                map.insert("_original_properties".into(), Value::String(original));
            }
            map
        }
        Ok((other, _)) => {
            reject(
                stats,
                line,
                format!("record is {}, not a JSON object", columns::describe(&other)),
                bytes.to_vec(),
                emit,
            );
            return;
        }
        Err(e) => {
            reject(stats, line, json_error(&e, line), bytes.to_vec(), emit);
            return;
        }
    };
    let table_row = match decoder {
        Decoder::Table(spec) => Some((spec, record)),
        Decoder::Diagnostic(category) => Some((
            diagnostic::spec_of(&category),
            diagnostic::to_log_analytics(&category, record),
        )),
        Decoder::Flows => {
            decode_flow_record(&record, blob, line, builder, stats, emit);
            None
        }
    };
    if let Some((spec, record)) = table_row {
        match log_analytics::row_cells(spec, record) {
            Ok(row) => {
                let hash = xxhash_rust::xxh3::xxh3_128(bytes);
                push_row(builder, stats, row, RowOrigin { blob, line, hash });
            }
            Err(reason) => reject(stats, line, reason, bytes.to_vec(), emit),
        }
    }
}

/// The rows (one per tuple) and rejects of one flow-log record.
fn decode_flow_record(
    record: &Map<String, Value>,
    blob: &str,
    line: u64,
    builder: &mut BatchBuilder,
    stats: &mut DecodeStats,
    emit: &mut dyn FnMut(DecodeEvent),
) {
    for item in flows::decode_record(record) {
        match item {
            flows::FlowItem::Row { cells, identity } => {
                let time = match cells.first() {
                    Some(Cell::Time(t)) => Some(*t),
                    _ => None,
                };
                let hash = xxhash_rust::xxh3::xxh3_128(identity.as_bytes());
                builder.push(cells, None, RowOrigin { blob, line, hash });
                stats.rows += 1;
                stats.saw_time(time);
            }
            flows::FlowItem::Reject { reason, raw } => {
                stats.rejected += 1;
                emit(DecodeEvent::Reject(Reject {
                    line,
                    reason,
                    raw: raw.into_bytes(),
                }));
            }
        }
    }
}

/// A JSON syntax error with its position given in lines of the blob, not of the record.
fn json_error(error: &serde_json::Error, record_line: u64) -> String {
    let text = error.to_string();
    let message = text
        .rsplit_once(" at line ")
        .map_or(text.as_str(), |(m, _)| m);
    if error.line() == 0 {
        return format!("invalid JSON: {message}");
    }
    format!(
        "invalid JSON: {message} (line {}, column {})",
        record_line + error.line() as u64 - 1,
        error.column()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The catalogue and the decoders name the same tables: every table marked declared has its
    /// columns, every declaration is in the catalogue, and every category and container is planned
    /// onto its catalogue table.
    #[test]
    fn every_catalogue_table_has_its_decoder() {
        for table in catalog::TABLES {
            let declared = log_analytics::find_table(table.name).is_some();
            assert_eq!(
                declared,
                table.decoder == catalog::Decoder::Declared,
                "{}",
                table.name
            );
            assert!(
                declared_schema(table).is_some() == (table.decoder != catalog::Decoder::Generic)
            );
            for container in catalog::containers() {
                let kind = ExportKind::from_container(&container).expect("an export container");
                let plan = plan_for(&kind);
                assert!(
                    catalog::find(&plan.table).is_some(),
                    "{container} lands in {}, which the catalogue does not name",
                    plan.table
                );
            }
            for category in table.categories {
                let kind = ExportKind::from_container(&format!("insights-logs-{category}"))
                    .expect("a diagnostic container");
                assert_eq!(plan_for(&kind).table, table.name, "{category}");
            }
        }
        for spec in log_analytics::DECLARED {
            assert_eq!(
                catalog::find(spec.name).map(|t| t.decoder),
                Some(catalog::Decoder::Declared),
                "{}",
                spec.name
            );
        }
    }

    fn decode(kind: &ExportKind, body: &[u8]) -> (u64, Vec<Reject>, DecodeStats) {
        let plan = plan_for(kind);
        let mut rows = 0u64;
        let mut rejects = Vec::new();
        let stats = decode_blob(
            Box::new(std::io::Cursor::new(body.to_vec())),
            "b",
            plan.decoder,
            &mut |e| match e {
                DecodeEvent::Batch(b) => rows += b.num_rows() as u64,
                DecodeEvent::Reject(r) => rejects.push(r),
            },
        )
        .expect("in-memory read");
        (rows, rejects, stats)
    }

    #[test]
    fn log_analytics_lines_with_bad_ones() {
        let kind = ExportKind::LogAnalytics("apptraces".into());
        let body = b"{\"TimeGenerated\":\"2026-10-01T00:00:00Z\",\"Message\":\"ok\"}\n{\"TimeGenerated\":\n[1,2]\n\xff\xfe\n{\"TimeGenerated\":\"2026-10-01T00:05:00Z\",\"SeverityLevel\":\"high\"}\n{\"TimeGenerated\":\"2026-10-01T00:06:00Z\"}\n";
        let (rows, rejects, stats) = decode(&kind, body);
        assert_eq!(rows, 2);
        let lines: Vec<u64> = rejects.iter().map(|r| r.line).collect();
        assert_eq!(lines, vec![2, 3, 4, 5]);
        assert!(rejects[1].reason.contains("not a JSON object"));
        assert!(rejects[3].reason.contains("SeverityLevel"));
        assert_eq!(stats.rejected, 4);
        assert_eq!(stats.first_time, Some(1_790_812_800_000_000_000));
    }

    #[test]
    fn undeclared_tables_and_registry() {
        assert_eq!(
            plan_for(&ExportKind::LogAnalytics("signinlogs".into())).table,
            "SigninLogs"
        );
        let other = plan_for(&ExportKind::LogAnalytics("securityevent".into()));
        assert_eq!(other.table, "am_securityevent");
        // The case's own names stay its own.
        for (container, table) in [
            ("rejects", "am_rejects"),
            ("flows", "am_flows"),
            ("tool-calls", "am_tool_calls"),
            ("identities", "am_identities"),
        ] {
            assert_eq!(
                plan_for(&ExportKind::LogAnalytics(container.into())).table,
                table
            );
        }
        let (rows, rejects, _) = decode(
            &ExportKind::LogAnalytics("securityevent".into()),
            b"{\"TimeGenerated\":\"2026-10-01T00:00:00Z\",\"EventID\":4624}\n",
        );
        assert_eq!((rows, rejects.len()), (1, 0));
        assert_eq!(
            plan_for(&ExportKind::ResourceLog("auditevent".into())).table,
            "insights_logs_auditevent"
        );
        assert_eq!(
            plan_for(&ExportKind::ResourceLog(
                "noninteractiveusersigninlogs".into()
            ))
            .table,
            "AADNonInteractiveUserSignInLogs"
        );
        // A table the catalogue knows without columns lands under its name both ways.
        for kind in [
            ExportKind::LogAnalytics("functionapplogs".into()),
            ExportKind::ResourceLog("FunctionAppLogs".into()),
        ] {
            assert_eq!(plan_for(&kind).table, "FunctionAppLogs");
        }
        assert_eq!(sanitize_table_name("../x-y"), "___x_y");
    }
}
