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
//! registered as tables of the session.

use std::collections::BTreeSet;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use chrono::{DateTime, Utc};
use datafusion::common::{ParamValues, ScalarValue, TableReference};
use datafusion::datasource::MemTable;
use datafusion::execution::context::SQLOptions;

use super::{DayWindow, QueryEngine, QueryError};

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
        "session_profiles.sql",
        include_str!("../../queries/session_profiles.sql"),
    ),
    (
        "call_addresses.sql",
        include_str!("../../queries/call_addresses.sql"),
    ),
    ("mcp_hosts.sql", include_str!("../../queries/mcp_hosts.sql")),
    (
        "server_compromise.sql",
        include_str!("../../queries/server_compromise.sql"),
    ),
    (
        "management_access.sql",
        include_str!("../../queries/management_access.sql"),
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
            // A dependency already run with the same parameters is reused, not run again.
            let already = self
                .pack_results
                .lock()
                .map(|done| done.contains(&(query.name.clone(), *params)))
                .unwrap_or(false);
            if already && query.name != name {
                continue;
            }
            let started = std::time::Instant::now();
            let options = SQLOptions::new()
                .with_allow_ddl(false)
                .with_allow_dml(false)
                .with_allow_statements(false);
            let named = |source: QueryError| QueryError::InPack {
                query: query.name.clone(),
                source: Box::new(source),
            };
            let frame = self
                .ctx
                .sql_with_options(&query.sql, options)
                .await
                .and_then(|frame| frame.with_param_values(params.values()))
                .map_err(|e| named(e.into()))?;
            let schema: SchemaRef = Arc::new(frame.schema().as_arrow().clone());
            let batches = self.collect(frame).await.map_err(named)?;
            if let Ok(mut timings) = self.timings.lock() {
                let rows = batches.iter().map(|b| b.num_rows()).sum();
                timings.push((query.name.clone(), started.elapsed().as_secs_f64(), rows));
            }
            // The batches' own schema: a function's declared list field may differ from the
            // one its arrays carry (nullability), which MemTable refuses.
            let schema = batches.first().map_or(schema, RecordBatch::schema);
            let table = MemTable::try_new(schema.clone(), vec![batches.clone()])?;
            self.ctx
                .deregister_table(TableReference::bare(query.name.clone()))?;
            self.ctx
                .register_table(TableReference::bare(query.name.clone()), Arc::new(table))?;
            if let Ok(mut done) = self.pack_results.lock() {
                done.retain(|(n, _)| n != &query.name);
                done.push((query.name.clone(), *params));
            }
            last = Some((schema, batches));
        }
        last.ok_or_else(|| QueryError::Pack(format!("no query named {name}")))
    }
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
}
