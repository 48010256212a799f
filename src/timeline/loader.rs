//! Queries off the UI thread: the timeline in time-ordered chunks, the scope marks, and single
//! records for the detail pane, each on its own worker with its own DataFusion session, delivered
//! to the UI as [`Update`]s.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender};

use chrono::{DateTime, Duration, NaiveDate, Utc};

use super::store::Chunk;
use crate::case::Case;
use crate::query::QueryEngine;
use crate::query::pack::PackParams;
use crate::scope::{Ioc, ScopeRequest};

/// The merged-timeline query, with `{from_day}`, `{to_day}`, `{from}`, `{to}` to fill.
const TIMELINE_SQL: &str = include_str!("timeline.sql");

/// Events a chunk after the first should hold, by the manifest's counts. Each chunk is one query
/// whose sort holds its rows several times over while it runs; at 150,000 that transient memory,
/// and what the allocator kept of it between chunks, was 0.4 GiB of the timeline's peak at 5 GB.
pub const CHUNK_TARGET_EVENTS: u64 = 60_000;

/// Records Sigma rules hit: the lines of each blob, with the rules' titles (`; `-separated).
pub type RuleRows = HashMap<String, HashMap<u64, String>>;

/// What Sigma rules marked in the window.
#[derive(Debug, Clone, Default)]
pub struct SigmaMarks {
    /// The records hit (a correlation's every record).
    pub rows: RuleRows,
    /// Hits.
    pub hits: usize,
    /// Rules that could not run.
    pub refused: usize,
}

/// What the scope run marks as suspicious.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Marks {
    /// Suspect identities.
    pub suspects: HashSet<String>,
    /// Attacker calls: the lines of each blob.
    pub attacker_rows: HashMap<String, HashSet<u64>>,
    /// Addresses the attacker used: call addresses and spray sources.
    pub attacker_ips: HashSet<String>,
    /// Exfiltration destinations.
    pub exfil_destinations: HashSet<String>,
    /// Records Sigma rules hit: the lines of each blob, with the rules' titles.
    pub rule_rows: RuleRows,
    /// One line describing the scope run the marks came from.
    pub basis: String,
}

impl Marks {
    /// Whether scope attributes the record to the attacker: one of its attacker calls, a sign-in
    /// from an attacker address, or a flow or dependency to an exfiltration destination. `kind`
    /// is the event kind's label.
    pub fn is_attacker(
        &self,
        (blob, line): (&str, u64),
        kind: &str,
        ip: Option<&str>,
        peer: Option<&str>,
    ) -> bool {
        if self
            .attacker_rows
            .get(blob)
            .is_some_and(|lines| lines.contains(&line))
        {
            return true;
        }
        match kind {
            "signin" => ip.is_some_and(|ip| self.attacker_ips.contains(ip)),
            "flow" | "dependency" => {
                peer.is_some_and(|peer| self.exfil_destinations.contains(peer))
            }
            _ => false,
        }
    }

    /// The titles of the Sigma rules that hit the record.
    pub fn rules(&self, blob: &str, line: u64) -> impl Iterator<Item = &str> {
        self.rule_rows
            .get(blob)
            .and_then(|lines| lines.get(&line))
            .into_iter()
            .flat_map(|titles| titles.split("; "))
    }

    /// The record's tags as exports write them (Timesketch's `tag`): `mcpforensics:attacker`
    /// when scope attributes it to the attacker, and `rule:<title>` for each Sigma rule it hit.
    pub fn tags(
        &self,
        place: (&str, u64),
        kind: &str,
        ip: Option<&str>,
        peer: Option<&str>,
    ) -> Vec<String> {
        let attacker = self
            .is_attacker(place, kind, ip, peer)
            .then(|| ATTACKER_TAG.to_string());
        attacker
            .into_iter()
            .chain(self.rules(place.0, place.1).map(|t| format!("rule:{t}")))
            .collect()
    }
}

/// The tag of a record scope attributes to the attacker.
pub const ATTACKER_TAG: &str = "mcpforensics:attacker";

/// A message from a worker to the UI.
#[derive(Debug)]
pub enum Update {
    /// The next chunk of events, in time order; `done` of `total` chunks are loaded.
    Chunk {
        /// Events.
        chunk: Box<Chunk>,
        /// Chunks loaded so far.
        done: usize,
        /// Chunks in all.
        total: usize,
    },
    /// Loading stopped before the end of the window: the events loaded reached the budget.
    Stopped {
        /// Events up to this time are loaded.
        at: DateTime<Utc>,
        /// The budget, in MiB.
        budget_mib: usize,
    },
    /// Every chunk is loaded (or loading stopped).
    Loaded,
    /// The scope run finished.
    Marks(Box<Marks>),
    /// The full record of an event.
    Detail {
        /// Global event index it was asked for.
        index: usize,
        /// Pretty-printed record, or why it could not be read.
        record: Result<String, String>,
    },
    /// The case's files are not those its manifest lists: what differs, in one sentence.
    CaseFiles(String),
    /// The names (UPN or object id) of the identities that signed in as AI agents (Entra Agent
    /// ID), for the identity list to mark.
    Agents(std::collections::BTreeSet<String>),
    /// A worker failed.
    Failed(String),
}

/// A record the detail pane wants.
#[derive(Debug, Clone)]
pub struct DetailRequest {
    /// Global event index (echoed back).
    pub index: usize,
    /// Case table.
    pub table: String,
    /// Source blob.
    pub blob: String,
    /// Line.
    pub line: u64,
    /// Event time (for partition pruning).
    pub time: i64,
}

/// What to load.
#[derive(Debug, Clone)]
pub struct LoadPlan {
    /// The case, opened once (its manifest can hold a hundred thousand blobs).
    pub case: Arc<Case>,
    /// Window start (inclusive).
    pub from: DateTime<Utc>,
    /// Window end (exclusive).
    pub to: DateTime<Utc>,
    /// The scope window for suspect marks, when asked for.
    pub scope: Option<PackParams>,
    /// Indicators for scope.
    pub iocs: Vec<Ioc>,
    /// Sigma rule files and folders whose hits are marked (`--sigma`).
    pub sigma: Vec<std::path::PathBuf>,
    /// Bytes the loaded events may hold ([`Chunk::memory_size`]); loading stops past it.
    pub events_budget: usize,
    /// How its query sessions run (memory).
    pub settings: crate::query::QuerySettings,
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, String> {
    query_runtime().map_err(|e| e.to_string())
}

/// The runtime of the timeline's queries, its error typed.
pub(crate) fn query_runtime() -> Result<tokio::runtime::Runtime, super::error::TimelineError> {
    crate::runtime::multi_thread(Some(2)).map_err(super::error::TimelineError::Runtime)
}

/// Starts a worker thread with the stack query planning needs; when the thread cannot start,
/// `updates` is told so.
fn spawn_query_thread(updates: &Sender<Update>, work: impl FnOnce() + Send + 'static) {
    if let Err(e) = std::thread::Builder::new()
        .stack_size(crate::query::QUERY_STACK_BYTES)
        .spawn(work)
    {
        let _ = updates.send(Update::Failed(format!("starting a worker thread: {e}")));
    }
}

fn sql_time(t: DateTime<Utc>) -> String {
    format!("TIMESTAMP '{}'", t.format("%Y-%m-%dT%H:%M:%S%.9f"))
}

/// Groups the window's days into chunks: the first day alone (so the first screen comes fast),
/// then runs of days holding about [`CHUNK_TARGET_EVENTS`] by the rows per day of the case
/// files; a day holding more is split into equal slices of time, so no chunk (and no query's
/// result) grows with the size of a day.
pub fn plan_chunks(
    case: &Case,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    // Rows per day, from the case files each ingest wrote (`…/date=YYYY-MM-DD/…`): the
    // manifest's head, not its blob records.
    let mut per_day: BTreeMap<NaiveDate, u64> = BTreeMap::new();
    let files = case
        .head()
        .map(|m| m.ingests.iter().flat_map(|i| &i.files).collect::<Vec<_>>())
        .unwrap_or_default();
    for file in files {
        let day = file
            .path
            .split('/')
            .find_map(|part| part.strip_prefix("date="))
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
        if let Some(day) = day {
            *per_day.entry(day).or_default() += file.rows;
        }
    }
    chunks_of(&per_day, from, to, CHUNK_TARGET_EVENTS)
}

/// [`plan_chunks`] from the rows per day, for chunks of about `target` events.
fn chunks_of(
    per_day: &BTreeMap<NaiveDate, u64>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    target: u64,
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let target = target.max(1);
    let mut chunks = Vec::new();
    let mut start = from;
    let mut estimate = 0u64;
    let mut day_start = from;
    while day_start < to {
        let next_midnight = (day_start.date_naive() + Duration::days(1))
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc())
            .unwrap_or(to);
        let day_end = next_midnight.min(to);
        let rows = per_day.get(&day_start.date_naive()).copied().unwrap_or(0);
        if rows > target {
            // Close what came before, then this day in slices of about `target` rows each.
            if start < day_start {
                chunks.push((start, day_start));
            }
            let slices = i32::try_from(rows.div_ceil(target)).unwrap_or(i32::MAX);
            let length = (day_end - day_start) / slices;
            let mut slice_start = day_start;
            for slice in 1..=slices {
                let slice_end = if slice == slices {
                    day_end
                } else {
                    day_start + length * slice
                };
                if slice_end > slice_start {
                    chunks.push((slice_start, slice_end));
                    slice_start = slice_end;
                }
            }
            start = day_end;
            estimate = 0;
        } else {
            estimate += rows;
            if chunks.is_empty() || estimate >= target || day_end == to {
                chunks.push((start, day_end));
                start = day_end;
                estimate = 0;
            }
        }
        day_start = day_end;
    }
    chunks
}

/// Starts the timeline worker; it starts the scope worker once the first chunk is out, so the
/// first screen does not wait for scope. Updates arrive on `updates`.
pub fn start(plan: LoadPlan, updates: Sender<Update>) {
    let failed = updates.clone();
    spawn_query_thread(&failed, move || {
        if let Err(message) = load_timeline(&plan, &updates) {
            let _ = updates.send(Update::Failed(message));
        }
    });
}

fn start_marks(plan: &LoadPlan, updates: &Sender<Update>) {
    if plan.scope.is_none() && plan.sigma.is_empty() {
        return;
    }
    let (plan, updates) = (plan.clone(), updates.clone());
    let failed = updates.clone();
    spawn_query_thread(&failed, move || match load_marks(&plan) {
        Ok(marks) => {
            let _ = updates.send(Update::Marks(Box::new(marks)));
        }
        Err(message) => {
            let _ = updates.send(Update::Failed(format!(
                "scope for suspect marks: {message}"
            )));
        }
    });
}

fn load_timeline(plan: &LoadPlan, updates: &Sender<Update>) -> Result<(), String> {
    let case = &plan.case;
    let chunks = plan_chunks(case, plan.from, plan.to);
    let runtime = runtime()?;
    let engine = runtime
        .block_on(QueryEngine::open(case, &plan.settings))
        .map_err(|e| e.to_string())?;
    if let Some(statement) = engine.file_check().statement() {
        let _ = updates.send(Update::CaseFiles(statement));
    }
    // Under the names events carry: the UPN where a sign-in gave one, and the object id.
    let agents = runtime
        .block_on(engine.sql(
            "SELECT DISTINCT name FROM (SELECT user_principal_name AS name FROM identities WHERE kind = 'agent' \
             UNION ALL SELECT user_id FROM identities WHERE kind = 'agent') WHERE name IS NOT NULL",
        ))
        .map_err(|e| e.to_string())?;
    let names: std::collections::BTreeSet<String> = agents
        .1
        .iter()
        .flat_map(|batch| {
            let column = batch
                .column(0)
                .as_any()
                .downcast_ref::<arrow::array::StringArray>()
                .cloned();
            column
                .into_iter()
                .flat_map(|c| c.iter().flatten().map(str::to_string).collect::<Vec<_>>())
        })
        .collect();
    if !names.is_empty() {
        let _ = updates.send(Update::Agents(names));
    }
    let total = chunks.len();
    if total == 0 {
        start_marks(plan, updates);
    }
    let mut held = 0usize;
    for (done, (from, to)) in chunks.into_iter().enumerate() {
        if held >= plan.events_budget {
            let _ = updates.send(Update::Stopped {
                at: from,
                budget_mib: plan.events_budget >> 20,
            });
            break;
        }
        let sql = timeline_sql(from, to);
        let (_, batches) = runtime
            .block_on(engine.sql(&sql))
            .map_err(|e| format!("timeline query: {e}"))?;
        let chunk = Chunk::from_batches(&batches).map_err(|e| e.to_string())?;
        drop(batches);
        held += chunk.memory_size();
        if updates
            .send(Update::Chunk {
                chunk: Box::new(chunk),
                done: done + 1,
                total,
            })
            .is_err()
        {
            return Ok(());
        }
        if done == 0 {
            start_marks(plan, updates);
        }
    }
    let _ = updates.send(Update::Loaded);
    Ok(())
}

/// The merged-timeline query for `[from, to)`, reading only those days' partitions.
pub(crate) fn timeline_sql(from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    let last_instant = to - Duration::nanoseconds(1);
    TIMELINE_SQL
        .replace("{from_day}", &from.format("%Y-%m-%d").to_string())
        .replace("{to_day}", &last_instant.format("%Y-%m-%d").to_string())
        .replace("{from}", &sql_time(from))
        .replace("{to}", &sql_time(to))
}

/// What scope (when the plan asks for it) and the Sigma rules mark in the plan's window.
pub fn load_marks(plan: &LoadPlan) -> Result<Marks, String> {
    let mut marks = match plan.scope {
        Some(params) => scope_marks(plan, params)?,
        None => Marks::default(),
    };
    if !plan.sigma.is_empty() {
        let SigmaMarks {
            rows,
            hits,
            refused,
        } = sigma_marks(
            &plan.case,
            &plan.sigma,
            (plan.from, plan.to),
            &plan.settings,
        )?;
        marks.rule_rows = rows;
        let sigma = format!(
            "Sigma: {hits} hits{}",
            if refused > 0 {
                format!(", {refused} rules not run (mcpforensics sigma says why)")
            } else {
                String::new()
            }
        );
        marks.basis = if marks.basis.is_empty() {
            sigma
        } else {
            format!("{}; {sigma}", marks.basis)
        };
    }
    Ok(marks)
}

/// The records Sigma rules hit in the window (a correlation's every record), by blob and line
/// with the rules' titles; the number of hits; and how many rules could not run.
pub fn sigma_marks(
    case: &Case,
    rules: &[std::path::PathBuf],
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    settings: &crate::query::QuerySettings,
) -> Result<SigmaMarks, String> {
    let loaded = crate::sigma::rules::load(rules).map_err(|e| format!("Sigma rules: {e}"))?;
    let (map, _) = crate::sigma::logsource::LogSourceMap::of_case(case.root())?;
    let request = crate::sigma::SigmaRequest {
        since: Some(from),
        until: Some(to),
        min_level: None,
        settings: settings.clone(),
    };
    let report = runtime()?
        .block_on(crate::sigma::run(case, loaded, &map, &request))
        .map_err(|e| e.to_string())?;
    let mut rows = RuleRows::new();
    let mut mark = |blob: &str, line: u64, rule: &str| {
        let titles = rows
            .entry(blob.to_string())
            .or_default()
            .entry(line)
            .or_default();
        if !titles.split("; ").any(|t| t == rule) {
            if !titles.is_empty() {
                titles.push_str("; ");
            }
            titles.push_str(rule);
        }
    };
    for hit in &report.hits {
        if let (Some(blob), Some(line)) = (&hit.blob, hit.line) {
            mark(blob, line.max(0) as u64, &hit.rule);
        }
        // A correlated record reads `table blob:line`.
        for record in &hit.correlated {
            let place = record.split_once(' ').map_or(record.as_str(), |(_, p)| p);
            if let Some((blob, line)) = place.rsplit_once(':')
                && let Ok(line) = line.parse::<u64>()
            {
                mark(blob, line, &hit.rule);
            }
        }
    }
    Ok(SigmaMarks {
        rows,
        hits: report.hits.len(),
        refused: report.refused(),
    })
}

fn scope_marks(plan: &LoadPlan, params: PackParams) -> Result<Marks, String> {
    let case = &plan.case;
    let request = ScopeRequest {
        params,
        iocs: plan.iocs.clone(),
        all_days: false,
        method: "given".into(),
        settings: plan.settings.clone(),
    };
    let report = runtime()?
        .block_on(crate::scope::scope(case, &request))
        .map_err(|e| e.to_string())?;
    let mut marks = Marks {
        basis: format!(
            "scope since {}{} (baseline from {}): {} suspects, {} attacker calls",
            report.since,
            if report.window.moved_by.is_empty() {
                String::new()
            } else {
                format!(", widened from {}", report.window.requested.since)
            },
            report.baseline_start,
            report.suspects.len(),
            report.attacker_calls.len()
        ),
        ..Marks::default()
    };
    for suspect in &report.suspects {
        marks.suspects.insert(suspect.user.clone());
        marks.attacker_ips.extend(suspect.ips.iter().cloned());
    }
    for call in &report.attacker_calls {
        marks
            .attacker_rows
            .entry(call.blob.clone())
            .or_default()
            .insert(call.line);
        if let Some(ip) = &call.client_address {
            marks.attacker_ips.insert(ip.clone());
        }
    }
    for spray in &report.spray_sources {
        marks.attacker_ips.insert(spray.ip.clone());
    }
    for path in &report.exfiltration {
        marks.exfil_destinations.insert(path.destination_ip.clone());
    }
    Ok(marks)
}

/// Starts the detail worker: it answers each request with the record, pretty-printed. Its query
/// session is built on the first request, so it does not compete with the first screen.
pub fn start_detail_worker(
    case: Arc<Case>,
    settings: crate::query::QuerySettings,
    requests: Receiver<DetailRequest>,
    updates: Sender<Update>,
) {
    let failed = updates.clone();
    spawn_query_thread(&failed, move || {
        let Ok(mut request) = requests.recv() else {
            return;
        };
        let setup = || -> Result<(tokio::runtime::Runtime, QueryEngine), String> {
            let runtime = runtime()?;
            let engine = runtime
                .block_on(QueryEngine::open(&case, &settings))
                .map_err(|e| e.to_string())?;
            Ok((runtime, engine))
        };
        let (runtime, engine) = match setup() {
            Ok(pair) => pair,
            Err(message) => {
                let _ = updates.send(Update::Failed(format!("detail worker: {message}")));
                return;
            }
        };
        loop {
            // Only the newest request matters when the user scrolls fast.
            while let Ok(newer) = requests.try_recv() {
                request = newer;
            }
            let record = runtime.block_on(fetch_record(&engine, &request));
            if updates
                .send(Update::Detail {
                    index: request.index,
                    record,
                })
                .is_err()
            {
                return;
            }
            match requests.recv() {
                Ok(next) => request = next,
                Err(_) => return,
            }
        }
    });
}

async fn fetch_record(engine: &QueryEngine, request: &DetailRequest) -> Result<String, String> {
    // Names are spliced into SQL, so only the catalogue's timeline tables, by their own spelling.
    let detail_table = crate::catalog::with_role(crate::catalog::Role::TimelineDetail)
        .find(|t| *t == request.table);
    if detail_table.is_none() {
        return Err(format!("no detail for table {}", request.table));
    }
    let day = crate::time::from_nanos(request.time).format("%Y-%m-%d");
    let sql = format!(
        "SELECT * FROM \"{}\" WHERE date = '{day}' AND _blob = '{}' AND _line = {}",
        request.table,
        request.blob.replace('\'', "''"),
        request.line
    );
    let (_, batches) = engine.sql(&sql).await.map_err(|e| e.to_string())?;
    let batches: Vec<_> = batches.into_iter().filter(|b| b.num_rows() > 0).collect();
    if batches.is_empty() {
        return Err("the record is not in the case".into());
    }
    records_to_json(&batches)
}

/// Rows as pretty JSON objects: every column but the row hash, with `_extra`'s fields inlined.
pub fn records_to_json(batches: &[arrow::array::RecordBatch]) -> Result<String, String> {
    let mut writer = arrow::json::ArrayWriter::new(Vec::new());
    for batch in batches {
        let keep: Vec<usize> = batch
            .schema()
            .fields()
            .iter()
            .enumerate()
            .filter(|(_, f)| f.name() != "_row_hash")
            .map(|(i, _)| i)
            .collect();
        let projected = batch.project(&keep).map_err(|e| e.to_string())?;
        writer.write(&projected).map_err(|e| e.to_string())?;
    }
    writer.finish().map_err(|e| e.to_string())?;
    let mut rows: Vec<serde_json::Map<String, serde_json::Value>> =
        serde_json::from_slice(&writer.into_inner()).map_err(|e| e.to_string())?;
    for row in &mut rows {
        if let Some(serde_json::Value::String(extra)) = row.remove("_extra")
            && let Ok(serde_json::Value::Object(fields)) = serde_json::from_str(&extra)
        {
            for (key, value) in fields {
                row.entry(key).or_insert(value);
            }
        }
        // Dynamic columns kept as JSON text read better as JSON.
        for value in row.values_mut() {
            if let serde_json::Value::String(text) = value
                && (text.starts_with('{') || text.starts_with('['))
                && let Ok(parsed) = serde_json::from_str::<serde_json::Value>(text)
            {
                *value = parsed;
            }
        }
    }
    let value = if rows.len() == 1 {
        rows.into_iter()
            .next()
            .map(serde_json::Value::Object)
            .unwrap_or_default()
    } else {
        serde_json::Value::Array(rows.into_iter().map(serde_json::Value::Object).collect())
    };
    serde_json::to_string_pretty(&value).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_day_holding_more_than_a_chunk_is_split_into_slices_of_time() {
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 8, d).expect("day");
        let at = |d: u32, h: u32| {
            Utc.with_ymd_and_hms(2026, 8, d, h, 0, 0)
                .single()
                .expect("time")
        };
        // Day 1: 50 rows, day 2: 1,000 (a burst), days 3 and 4: 60 each, day 5: 10.
        let per_day: BTreeMap<NaiveDate, u64> = [
            (day(1), 50),
            (day(2), 1_000),
            (day(3), 60),
            (day(4), 60),
            (day(5), 10),
        ]
        .into();
        let chunks = chunks_of(&per_day, at(1, 12), at(5, 12), 100);
        // Contiguous and covering the window.
        assert_eq!(chunks.first().map(|c| c.0), Some(at(1, 12)));
        assert_eq!(chunks.last().map(|c| c.1), Some(at(5, 12)));
        assert!(chunks.windows(2).all(|w| w[0].1 == w[1].0), "{chunks:?}");
        // The first day alone; day 2 in ten slices of 2.4 hours; days 3 and 4 together (120
        // rows reach the target); the rest of the window last.
        assert_eq!(chunks[0], (at(1, 12), at(2, 0)));
        let burst: Vec<_> = chunks[1..11].to_vec();
        assert!(
            burst.iter().all(|(a, b)| *b - *a == Duration::minutes(144)),
            "{burst:?}"
        );
        assert_eq!((burst[0].0, burst[9].1), (at(2, 0), at(3, 0)));
        assert_eq!(chunks[11], (at(3, 0), at(5, 0)));
        assert_eq!(chunks[12], (at(5, 0), at(5, 12)));
        assert_eq!(chunks.len(), 13);
        // A heavy first day is split too: its first slice comes first.
        let heavy_first = chunks_of(&per_day, at(2, 0), at(3, 0), 100);
        assert_eq!(heavy_first.len(), 10);
    }
}
