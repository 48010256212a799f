//! The query pack: the analysis as SQL files in `queries/`, embedded in the binary.
//!
//! Each file answers one question and starts with a header:
//! ```text
//! -- name: attacker_calls
//! -- description: …
//! -- params: since, until, baseline_start
//! -- depends: ip_profiles
//! -- output: time, user, …
//! ```
//! Parameters are bound as named placeholders (`$since`), never spliced into the text. A query
//! may read the results of the queries it depends on under their names; they are run first and
//! registered as tables of the session, held in memory. Two optional headers:
//! `-- held: unless the call index is read` registers the query as a view (its parameters bound)
//! when the session reads a current call index, so readers read the index's columns they need
//! and nothing is held; `-- unique: <column>` checks that no two different rows of the result
//! share the column's value (the pack joins calls on `call_key`, a hash: a shared key would
//! relate two calls, so it is an error, never a silent join; the same row twice, from a case file
//! copied into the case, is one row read twice).

use std::collections::BTreeSet;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use chrono::{DateTime, Utc};
use datafusion::common::{ParamValues, ScalarValue, TableReference};
use datafusion::datasource::{MemTable, TableProvider};
use datafusion::execution::context::SQLOptions;

use super::result_files::ResultFiles;
use super::{DayWindow, QueryEngine, QueryError, QueryTiming};

/// The files of `queries/`, embedded at build time (a test checks the list is complete).
pub const EMBEDDED: &[(&str, &str)] = &[
    (
        "spray_sources.sql",
        include_str!("../../queries/spray_sources.sql"),
    ),
    (
        "window_calls.sql",
        include_str!("../../queries/window_calls.sql"),
    ),
    (
        "window_signins.sql",
        include_str!("../../queries/window_signins.sql"),
    ),
    (
        "call_groups.sql",
        include_str!("../../queries/call_groups.sql"),
    ),
    (
        "ip_profiles.sql",
        include_str!("../../queries/ip_profiles.sql"),
    ),
    (
        "attacker_calls.sql",
        include_str!("../../queries/attacker_calls.sql"),
    ),
    (
        "call_sessions.sql",
        include_str!("../../queries/call_sessions.sql"),
    ),
    (
        "session_destinations.sql",
        include_str!("../../queries/session_destinations.sql"),
    ),
    (
        "session_signs.sql",
        include_str!("../../queries/session_signs.sql"),
    ),
    (
        "session_profiles.sql",
        include_str!("../../queries/session_profiles.sql"),
    ),
    (
        "call_addresses.sql",
        include_str!("../../queries/call_addresses.sql"),
    ),
    ("mcp_hosts.sql", include_str!("../../queries/mcp_hosts.sql")),
    (
        "host_outbound.sql",
        include_str!("../../queries/host_outbound.sql"),
    ),
    (
        "window_dependencies.sql",
        include_str!("../../queries/window_dependencies.sql"),
    ),
    (
        "attacker_dependencies.sql",
        include_str!("../../queries/attacker_dependencies.sql"),
    ),
    (
        "window_new_destinations.sql",
        include_str!("../../queries/window_new_destinations.sql"),
    ),
    (
        "window_outbound.sql",
        include_str!("../../queries/window_outbound.sql"),
    ),
    (
        "attacker_flows.sql",
        include_str!("../../queries/attacker_flows.sql"),
    ),
    (
        "server_compromise.sql",
        include_str!("../../queries/server_compromise.sql"),
    ),
    (
        "management_access.sql",
        include_str!("../../queries/management_access.sql"),
    ),
    (
        "ioc_sightings.sql",
        include_str!("../../queries/ioc_sightings.sql"),
    ),
    ("suspects.sql", include_str!("../../queries/suspects.sql")),
    ("sessions.sql", include_str!("../../queries/sessions.sql")),
    (
        "persistence.sql",
        include_str!("../../queries/persistence.sql"),
    ),
    (
        "exfiltration.sql",
        include_str!("../../queries/exfiltration.sql"),
    ),
    (
        "affected_customers.sql",
        include_str!("../../queries/affected_customers.sql"),
    ),
    (
        "resources_touched.sql",
        include_str!("../../queries/resources_touched.sql"),
    ),
    (
        "hourly_volume.sql",
        include_str!("../../queries/hourly_volume.sql"),
    ),
    ("sampling.sql", include_str!("../../queries/sampling.sql")),
    (
        "sampled_calls.sql",
        include_str!("../../queries/sampled_calls.sql"),
    ),
    (
        "overview_tool_usage.sql",
        include_str!("../../queries/overview_tool_usage.sql"),
    ),
    (
        "overview_tool_hours.sql",
        include_str!("../../queries/overview_tool_hours.sql"),
    ),
    (
        "overview_auth_failures.sql",
        include_str!("../../queries/overview_auth_failures.sql"),
    ),
    (
        "overview_data_access.sql",
        include_str!("../../queries/overview_data_access.sql"),
    ),
    (
        "overview_unattributed.sql",
        include_str!("../../queries/overview_unattributed.sql"),
    ),
    (
        "overview_errors.sql",
        include_str!("../../queries/overview_errors.sql"),
    ),
    (
        "overview_gaps.sql",
        include_str!("../../queries/overview_gaps.sql"),
    ),
    (
        "network_inbound_management.sql",
        include_str!("../../queries/network_inbound_management.sql"),
    ),
    (
        "network_top_talkers.sql",
        include_str!("../../queries/network_top_talkers.sql"),
    ),
    (
        "network_new_destinations.sql",
        include_str!("../../queries/network_new_destinations.sql"),
    ),
    (
        "network_east_west.sql",
        include_str!("../../queries/network_east_west.sql"),
    ),
    (
        "network_denied.sql",
        include_str!("../../queries/network_denied.sql"),
    ),
];

/// One query of the pack.
#[derive(Debug, Clone)]
pub struct PackQuery {
    /// Its name (also the table its result is registered as).
    pub name: String,
    /// The question it answers.
    pub description: String,
    /// Parameters it binds.
    pub params: Vec<String>,
    /// Queries whose results it reads.
    pub depends: Vec<String>,
    /// Its output columns, as documented.
    pub output: String,
    /// Whether a session reading a current call index registers it as a view, not its rows.
    pub view_over_index: bool,
    /// A column whose values the result must not repeat.
    pub unique: Option<String>,
    /// The SQL (header included; comments are ignored by the parser).
    pub sql: String,
}

/// Parses a query file's header.
pub fn parse(file: &str, text: &str) -> Result<PackQuery, String> {
    let header = |key: &str| {
        text.lines()
            .take_while(|l| l.starts_with("--"))
            .find_map(|l| {
                l.strip_prefix("--")
                    .map(str::trim)
                    .and_then(|l| l.strip_prefix(key))
                    .map(|v| v.trim().to_string())
            })
    };
    let list = |value: Option<String>| -> Vec<String> {
        value
            .map(|v| {
                v.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty() && s != "none")
                    .collect()
            })
            .unwrap_or_default()
    };
    let name = header("name:").ok_or_else(|| format!("{file}: no `-- name:` header"))?;
    if format!("{name}.sql") != file {
        return Err(format!("{file}: the name header says {name}"));
    }
    Ok(PackQuery {
        name,
        description: header("description:")
            .ok_or_else(|| format!("{file}: no `-- description:` header"))?,
        params: list(header("params:")),
        depends: list(header("depends:")),
        output: header("output:").ok_or_else(|| format!("{file}: no `-- output:` header"))?,
        view_over_index: match header("held:").as_deref() {
            None => false,
            Some("unless the call index is read") => true,
            Some(other) => return Err(format!("{file}: `-- held: {other}` is not understood")),
        },
        unique: header("unique:"),
        sql: text.to_string(),
    })
}

/// Every query of the pack, in file order.
pub fn queries() -> Vec<PackQuery> {
    EMBEDDED
        .iter()
        .filter_map(|(file, text)| parse(file, text).ok())
        .collect()
}

/// A pack query run in a session: its name, the parameters it ran with, and its rows (none for a
/// view over the call index).
pub(crate) struct PackResult {
    pub(crate) name: String,
    pub(crate) params: PackParams,
    pub(crate) rows: Option<(SchemaRef, Vec<RecordBatch>)>,
}

/// The parameters every pack query may bind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackParams {
    /// Window start.
    pub since: DateTime<Utc>,
    /// Window end (exclusive).
    pub until: DateTime<Utc>,
    /// Baseline start (the baseline ends at `since`).
    pub baseline_start: DateTime<Utc>,
}

impl PackParams {
    /// The window with a baseline of `baseline_days` before it.
    pub fn new(window: crate::time::Window, baseline_days: u32) -> Self {
        Self {
            since: window.since,
            until: window.until,
            baseline_start: window.since - chrono::Duration::days(i64::from(baseline_days)),
        }
    }

    fn values(&self) -> ParamValues {
        let ts = |t: DateTime<Utc>| {
            ScalarValue::TimestampNanosecond(t.timestamp_nanos_opt(), Some("UTC".into()))
        };
        ParamValues::from(vec![
            ("since", ts(self.since)),
            ("until", ts(self.until)),
            ("baseline_start", ts(self.baseline_start)),
        ])
    }
}

impl PackParams {
    /// The days the pack reads: every query bounds its reads by `[baseline_start, until)`; a day
    /// more on either side keeps rows joined by id whose own time falls just past a midnight (a
    /// gateway log a few milliseconds after the MCP log it belongs to).
    pub fn day_window(&self) -> DayWindow {
        let margin = chrono::Duration::days(1);
        let (start, end) = (self.baseline_start, self.until);
        DayWindow::covering(
            start.checked_sub_signed(margin).unwrap_or(start),
            end.checked_add_signed(margin).unwrap_or(end),
        )
    }
}

impl QueryEngine {
    /// Runs a pack query (after the queries it depends on) and returns its result. Every query run
    /// is registered under its name, so later ad-hoc SQL in this session can read it.
    pub async fn run_pack(
        &self,
        name: &str,
        params: &PackParams,
    ) -> Result<(SchemaRef, Vec<RecordBatch>), QueryError> {
        let all = queries();
        let mut order = Vec::new();
        let mut visiting = BTreeSet::new();
        resolve(name, &all, &mut order, &mut visiting)?;
        let mut last = None;
        for query in order {
            // A query already run with the same parameters is reused, not run again: a
            // dependency, and the query asked for when its rows are held (a view over the call
            // index is collected when asked for by name).
            let already = self.pack_results.lock().ok().and_then(|done| {
                done.iter()
                    .find(|r| r.name == query.name && r.params == *params)
                    .map(|r| r.rows.clone())
            });
            match already {
                Some(_) if query.name != name => continue,
                Some(Some(rows)) => {
                    last = Some(rows);
                    continue;
                }
                _ => {}
            }
            let started = std::time::Instant::now();
            let named = |source: QueryError| QueryError::InPack {
                query: query.name.clone(),
                source: Box::new(source),
            };
            let frame = self
                .ctx
                .sql_with_options(&query.sql, read_only())
                .await
                .and_then(|frame| frame.with_param_values(params.values()))
                .map_err(|e| named(e.into()))?;
            let schema: SchemaRef = Arc::new(frame.schema().as_arrow().clone());
            let (table, rows): (Arc<dyn TableProvider>, _) =
                if query.view_over_index && query.name != name && self.call_index().is_some() {
                    self.record_timing(QueryTiming {
                        name: query.name.clone(),
                        seconds: started.elapsed().as_secs_f64(),
                        rows: None,
                        held: 0,
                        in_file: false,
                    });
                    (frame.into_view(), None)
                } else {
                    let batches = self.collect(frame).await.map_err(named)?;
                    let batches = owned(batches, self.ctx.state().config().batch_size())
                        .map_err(|e| named(datafusion::error::DataFusionError::from(e).into()))?;
                    if let Some(column) = &query.unique {
                        distinct_in(&batches, column).map_err(named)?;
                    }
                    // The batches' own schema: a function's declared list field may differ from
                    // the one its arrays carry (nullability), which MemTable refuses.
                    let schema = batches.first().map_or(schema, RecordBatch::schema);
                    let held = batches.iter().map(RecordBatch::get_array_memory_size).sum();
                    let file = self
                        .result_files
                        .as_ref()
                        .filter(|_| ResultFiles::takes(held));
                    let table: Arc<dyn TableProvider> = match file {
                        Some(files) => files
                            .table(&query.name, schema.clone(), &batches)
                            .await
                            .map_err(|e| named(e.into()))?,
                        None => Arc::new(MemTable::try_new(schema.clone(), vec![batches.clone()])?),
                    };
                    self.record_timing(QueryTiming {
                        name: query.name.clone(),
                        seconds: started.elapsed().as_secs_f64(),
                        rows: Some(batches.iter().map(RecordBatch::num_rows).sum()),
                        held,
                        in_file: file.is_some(),
                    });
                    (table, Some((schema, batches)))
                };
            if rows.is_some() {
                last.clone_from(&rows);
            }
            self.ctx
                .deregister_table(TableReference::bare(query.name.clone()))?;
            self.ctx
                .register_table(TableReference::bare(query.name.clone()), table)?;
            if let Ok(mut done) = self.pack_results.lock() {
                done.retain(|r| r.name != query.name);
                done.push(PackResult {
                    name: query.name.clone(),
                    params: *params,
                    rows,
                });
            }
        }
        last.ok_or_else(|| QueryError::Pack(format!("no query named {name}")))
    }
}

impl QueryEngine {
    fn record_timing(&self, timing: QueryTiming) {
        if let Ok(mut timings) = self.timings.lock() {
            timings.push(timing);
        }
    }

    /// Runs the queries `name` depends on, then explains `name`: its physical plan, or with
    /// `analyze` the plan as run, with each operator's rows, time and memory
    /// (`queries run --explain [--analyze]`).
    pub async fn explain_pack(
        &self,
        name: &str,
        params: &PackParams,
        analyze: bool,
    ) -> Result<(SchemaRef, Vec<RecordBatch>), QueryError> {
        let all = queries();
        let query = all
            .iter()
            .find(|q| q.name == name)
            .ok_or_else(|| QueryError::Pack(format!("no query named {name}")))?;
        for dependency in &query.depends {
            self.run_pack(dependency, params).await?;
        }
        let frame = self
            .ctx
            .sql_with_options(
                &format!(
                    "EXPLAIN {}{}",
                    if analyze { "ANALYZE " } else { "" },
                    query.sql
                ),
                read_only(),
            )
            .await
            .and_then(|frame| frame.with_param_values(params.values()))?;
        let schema: SchemaRef = Arc::new(frame.schema().as_arrow().clone());
        let batches = self.collect(frame).await?;
        Ok((schema, batches))
    }
}

/// Checks that no two different rows of a result share a value of `column` (an integer key).
/// Rows equal in every column are the same evidence row read twice (a case file copied into the
/// case, which the report already names as not in the manifest): they pass, and relate as the
/// same row always did.
fn distinct_in(batches: &[RecordBatch], column: &str) -> Result<(), QueryError> {
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::Int64Type;
    use datafusion::common::ScalarValue;
    let same_row = |(b1, r1): (usize, usize), (b2, r2): (usize, usize)| {
        let (first, second) = (&batches[b1], &batches[b2]);
        first.columns().iter().zip(second.columns()).all(|(a, b)| {
            match (
                ScalarValue::try_from_array(a, r1),
                ScalarValue::try_from_array(b, r2),
            ) {
                (Ok(a), Ok(b)) => a == b,
                _ => false,
            }
        })
    };
    let mut seen = std::collections::HashMap::new();
    for (index, batch) in batches.iter().enumerate() {
        let values = batch
            .column_by_name(column)
            .and_then(|c| c.as_primitive_opt::<Int64Type>())
            .ok_or_else(|| QueryError::Pack(format!("no integer column {column} to check")))?;
        for row in 0..values.len() {
            if !values.is_valid(row) {
                continue;
            }
            match seen.entry(values.value(row)) {
                std::collections::hash_map::Entry::Vacant(slot) => {
                    slot.insert((index, row));
                }
                std::collections::hash_map::Entry::Occupied(first) => {
                    if !same_row(*first.get(), (index, row)) {
                        return Err(QueryError::Pack(format!(
                            "two different rows share the {column} {}: the calls they key cannot \
                             be told apart, so the sessions cannot be attributed. Scope the case \
                             with a narrower window (--since/--until) and report this",
                            values.value(row)
                        )));
                    }
                }
            }
        }
    }
    Ok(())
}

/// Pack queries only read: no DDL, DML or statements.
fn read_only() -> SQLOptions {
    SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false)
}

/// A pack result as batches of at most `batch_size` rows that own their data. Some operators
/// return one batch per partition holding every row (a window over whole partitions), others
/// slices of one large array (an aggregation's groups); every slice reports, and keeps alive,
/// the whole array. A later query reading such a result asked the memory pool for gigabytes for
/// one batch (a sort failed so on the 5 GB case). One copy of the result, of the batches that
/// need it.
fn owned(
    batches: Vec<RecordBatch>,
    batch_size: usize,
) -> Result<Vec<RecordBatch>, arrow::error::ArrowError> {
    let too_large =
        |e: std::num::TryFromIntError| arrow::error::ArrowError::ComputeError(e.to_string());
    let mut chunks = Vec::new();
    for batch in batches {
        if batch.num_rows() <= batch_size && owns_its_data(&batch)? {
            chunks.push(batch);
            continue;
        }
        let rows = u32::try_from(batch.num_rows()).map_err(too_large)?;
        let step = u32::try_from(batch_size.max(1)).map_err(too_large)?;
        let mut start = 0;
        while start < rows {
            let end = rows.min(start.saturating_add(step));
            let indices = arrow::array::UInt32Array::from_iter_values(start..end);
            let chunk = arrow::compute::take_record_batch(&batch, &indices)?;
            chunks.push(compact_views(chunk)?);
            start = end;
        }
    }
    Ok(chunks)
}

/// `take` copies a view array's views but keeps every data buffer of its source: the views'
/// bytes are copied into buffers of their own.
/// Whether a batch's buffers hold little more than its own rows (no view columns, which share
/// their source's data buffers, and at most half again the bytes its rows need: builders
/// over-allocate a little, while a slice of a larger result holds many times its rows), so it
/// needs no copy.
fn owns_its_data(batch: &RecordBatch) -> Result<bool, arrow::error::ArrowError> {
    use arrow::array::Array;
    use arrow::datatypes::DataType;
    let mut held = 0usize;
    let mut needed = 0usize;
    for column in batch.columns() {
        if matches!(
            column.data_type(),
            DataType::Utf8View | DataType::BinaryView
        ) {
            return Ok(false);
        }
        held = held.saturating_add(column.get_buffer_memory_size());
        needed = needed.saturating_add(column.to_data().get_slice_memory_size()?);
    }
    Ok(held <= needed.saturating_add(needed / 2).saturating_add(4096))
}

fn compact_views(batch: RecordBatch) -> Result<RecordBatch, arrow::error::ArrowError> {
    use arrow::array::{Array, ArrayRef, AsArray};
    use arrow::datatypes::DataType;
    if !batch
        .columns()
        .iter()
        .any(|c| matches!(c.data_type(), DataType::Utf8View | DataType::BinaryView))
    {
        return Ok(batch);
    }
    let columns: Vec<ArrayRef> = batch
        .columns()
        .iter()
        .map(|column| match column.data_type() {
            DataType::Utf8View => Arc::new(column.as_string_view().gc()) as ArrayRef,
            DataType::BinaryView => Arc::new(column.as_binary_view().gc()) as ArrayRef,
            _ => column.clone(),
        })
        .collect();
    RecordBatch::try_new(batch.schema(), columns)
}

fn resolve(
    name: &str,
    all: &[PackQuery],
    order: &mut Vec<PackQuery>,
    visiting: &mut BTreeSet<String>,
) -> Result<(), QueryError> {
    if order.iter().any(|q| q.name == name) {
        return Ok(());
    }
    let query = all.iter().find(|q| q.name == name).ok_or_else(|| {
        QueryError::Pack(format!(
            "no query named {name}; `mcpforensics queries list` shows them"
        ))
    })?;
    if !visiting.insert(name.to_string()) {
        return Err(QueryError::Pack(format!(
            "queries depend on each other in a cycle through {name}"
        )));
    }
    for dependency in &query.depends {
        resolve(dependency, all, order, visiting)?;
    }
    order.push(query.clone());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A batch of one nullable column.
    fn one_column(name: &str, column: arrow::array::ArrayRef) -> RecordBatch {
        let schema = Arc::new(arrow::datatypes::Schema::new(vec![
            arrow::datatypes::Field::new(name, column.data_type().clone(), true),
        ]));
        RecordBatch::try_new(schema, vec![column]).expect("batch")
    }

    #[test]
    fn pack_results_are_held_as_small_batches_that_own_their_data() {
        use arrow::array::{Array, StringArray};
        let text: StringArray = (0..20_000)
            .map(|i| Some(format!("row {i:05} {}", "x".repeat(100))))
            .collect();
        let whole = one_column("text", Arc::new(text));
        // A slice of 1,000 rows reports (and keeps) the whole 20,000-row buffer.
        let slice = whole.slice(5_000, 1_000);
        assert!(slice.get_array_memory_size() > 2_000_000);
        let chunks = owned(vec![whole.clone(), slice.clone()], 8192).expect("copied");
        let sizes: Vec<usize> = chunks.iter().map(RecordBatch::num_rows).collect();
        assert_eq!(sizes, vec![8192, 8192, 3616, 1000]);
        // Same rows, in the same order.
        let all = arrow::compute::concat_batches(&whole.schema(), &chunks[..3]).expect("concat");
        assert_eq!(all, whole);
        assert_eq!(chunks[3], slice);
        // The copied slice holds its own 1,000 rows only.
        assert!(
            chunks[3].get_array_memory_size() < 200_000,
            "{}",
            chunks[3].get_array_memory_size()
        );
        assert!(chunks[3].column(0).to_data().buffers()[1].len() < 150_000);
        assert!(owned(Vec::new(), 8192).expect("empty").is_empty());
        // A batch within the size that holds only its own rows is kept as it is, not copied; a
        // small slice of it (a few rows keeping all of its bytes) is copied.
        let small = chunks[3].clone();
        let kept = owned(vec![small.clone(), small.slice(10, 20)], 8192).expect("kept");
        assert!(
            Arc::ptr_eq(kept[0].column(0), small.column(0)),
            "not copied"
        );
        assert_eq!(kept[1], small.slice(10, 20));
        assert!(
            kept[1].get_array_memory_size() < 10_000,
            "the slice was copied"
        );
    }

    #[test]
    fn view_columns_of_pack_results_keep_only_their_own_bytes() {
        use arrow::array::{Array, StringViewArray};
        // Values longer than 12 bytes live in the view array's data buffers, not in the views.
        let text: StringViewArray = (0..20_000)
            .map(|i| Some(format!("identity {i:05} {}", "y".repeat(100))))
            .collect();
        let whole = one_column("user", Arc::new(text));
        let chunks = owned(vec![whole.clone()], 1_000).expect("copied");
        assert_eq!(chunks.len(), 20);
        let rows = arrow::compute::concat_batches(&whole.schema(), &chunks).expect("concat");
        assert_eq!(rows, whole);
        // A plain take of 1,000 rows keeps every data buffer of the 20,000; the chunk does not.
        let indices = arrow::array::UInt32Array::from_iter_values(0..1_000);
        let taken = arrow::compute::take_record_batch(&whole, &indices).expect("take");
        assert!(taken.get_array_memory_size() > 2_000_000);
        for chunk in &chunks {
            assert!(
                chunk.get_array_memory_size() < 300_000,
                "{}",
                chunk.get_array_memory_size()
            );
            assert_eq!(
                chunk.column(0).data_type(),
                &arrow::datatypes::DataType::Utf8View
            );
        }
    }

    #[test]
    fn every_file_in_queries_is_embedded_and_well_formed() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("queries");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .expect("queries/")
            .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
            .filter(|n| n.ends_with(".sql"))
            .collect();
        on_disk.sort();
        let mut embedded: Vec<String> = EMBEDDED.iter().map(|(f, _)| (*f).to_string()).collect();
        embedded.sort();
        assert_eq!(on_disk, embedded);
        for (file, text) in EMBEDDED {
            let query = parse(file, text).expect("valid header");
            for dependency in &query.depends {
                assert!(
                    EMBEDDED
                        .iter()
                        .any(|(f, _)| *f == format!("{dependency}.sql")),
                    "{file} depends on unknown {dependency}"
                );
            }
            for param in &query.params {
                assert!(
                    ["since", "until", "baseline_start"].contains(&param.as_str()),
                    "{file}: unknown parameter {param}"
                );
                assert!(
                    text.contains(&format!("${param}")),
                    "{file} declares {param} but does not use it"
                );
            }
        }
    }

    #[test]
    fn a_key_shared_by_two_rows_is_an_error_not_a_join() {
        let keys = |values: Vec<Option<i64>>| {
            one_column(
                "call_key",
                Arc::new(arrow::array::Int64Array::from(values)) as arrow::array::ArrayRef,
            )
        };
        // Distinct keys across batches, and rows without a key, pass.
        let distinct = [
            keys(vec![Some(1), None, Some(2)]),
            keys(vec![None, Some(3)]),
        ];
        assert!(distinct_in(&distinct, "call_key").is_ok());
        // A key repeated in another batch by a different row is named.
        let two_columns = |key: i64, time: i64| {
            RecordBatch::try_from_iter(vec![
                (
                    "call_key",
                    Arc::new(arrow::array::Int64Array::from(vec![key])) as arrow::array::ArrayRef,
                ),
                (
                    "time",
                    Arc::new(arrow::array::Int64Array::from(vec![time])) as arrow::array::ArrayRef,
                ),
            ])
            .expect("batch")
        };
        let different = [two_columns(2, 10), two_columns(2, 11)];
        let error = distinct_in(&different, "call_key").expect_err("shared key");
        assert!(
            error.to_string().contains("share the call_key 2"),
            "{error}"
        );
        // The same row twice (a case file copied into the case) is one row read twice.
        let shared = [keys(vec![Some(1), Some(2)]), keys(vec![Some(7), Some(2)])];
        assert!(distinct_in(&shared, "call_key").is_ok());
        assert!(distinct_in(&[two_columns(2, 10), two_columns(2, 10)], "call_key").is_ok());
        // A column that is not there is an error too, not a pass.
        assert!(distinct_in(&distinct, "other").is_err());
    }

    #[test]
    fn the_optional_headers_are_read_and_unknown_values_refused() {
        let text = |held: &str| {
            format!(
                "-- name: q\n-- description: d\n-- params: none\n{held}-- unique: call_key\n\
                 -- output: a\nSELECT 1"
            )
        };
        let query = parse("q.sql", &text("-- held: unless the call index is read\n")).expect("q");
        assert!(query.view_over_index);
        assert_eq!(query.unique.as_deref(), Some("call_key"));
        assert!(!parse("q.sql", &text("")).expect("q").view_over_index);
        assert!(parse("q.sql", &text("-- held: never\n")).is_err());
        // The pack itself: window_calls is a view over a current index, call_sessions unique.
        let all = queries();
        let named = |name: &str| all.iter().find(|q| q.name == name).expect(name);
        assert!(named("window_calls").view_over_index);
        assert_eq!(named("call_sessions").unique.as_deref(), Some("call_key"));
    }
}
