//! Breach scoping: runs the query pack over a case and assembles the typed scope report.
//!
//! The analysis is SQL (`queries/*.sql`); this module binds the window, reads the results,
//! words each suspect's reasons from the evidence rows, and finds coverage gaps in the hourly
//! volumes against the baseline. It returns a typed report and prints nothing: the report's
//! formats are `crate::report::scope_report`'s.

use std::collections::{BTreeMap, BTreeSet};

use arrow::record_batch::RecordBatch;
use chrono::{DateTime, Datelike, Duration, Timelike, Utc, Weekday};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::case::Case;
use crate::catalog::{self, Role};
use crate::query::pack::{EMBEDDED, PackParams};
use crate::query::{QueryEngine, QueryError};
use crate::time::format_utc;

/// Version of the report layout (docs/scope-report.md).
pub const REPORT_VERSION: u32 = 2;

/// The scope report.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ScopeReport {
    /// Layout version.
    pub report_version: u32,
    /// The answer in a word: `suspects found`, `server compromise found`, `nothing found`, or
    /// `inconclusive` (nothing found, and the evidence cannot show it: no tool-call telemetry in
    /// the window, or no baseline to compare with; the coverage statements say what is missing).
    pub verdict: String,
    /// Window start.
    pub since: String,
    /// Window end (exclusive).
    pub until: String,
    /// Baseline start (the baseline ends at `since`).
    pub baseline_start: String,
    /// The evidence the report came from.
    pub evidence: Evidence,
    /// Indicators of compromise given by the user.
    pub iocs: Vec<Ioc>,
    /// Identities with evidence of abuse.
    pub suspects: Vec<Suspect>,
    /// Sessions of the suspects in the window, attacker's or the user's own.
    pub sessions: Vec<Session>,
    /// Every attacker tool call, in time order.
    pub attacker_calls: Vec<AttackerCall>,
    /// Customers named in attacker calls.
    pub affected_customers: Vec<AffectedCustomer>,
    /// What the attacker's calls reached inside.
    pub resources: Vec<Resource>,
    /// Where data went.
    pub exfiltration: Vec<Exfiltration>,
    /// Password-spray sources seen.
    pub spray_sources: Vec<SpraySource>,
    /// Directory changes that keep or widen access, by or for a suspect (AuditLogs).
    pub persistence: Vec<Persistence>,
    /// Signs that the MCP server itself was compromised (an implant copying data out), which
    /// name no identity.
    pub server_compromise: Vec<ServerCompromise>,
    /// New inbound connections to an MCP host's management ports (how an implant may have come).
    pub management_access: Vec<ManagementAccess>,
    /// What the evidence covers and cannot show.
    pub coverage: Coverage,
}

/// Provenance of a report.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Evidence {
    /// The case directory.
    pub case: String,
    /// SHA-256 of the case's manifest.json when the report was made.
    pub manifest_sha256: String,
    /// Source blobs recorded in the manifest.
    pub blobs: usize,
    /// mcpforensics version.
    pub tool_version: String,
    /// The query pack's version: SHA-256 over the lines `<name> <sha256>` of its queries, sorted.
    pub query_pack_sha256: String,
    /// SHA-256 of each query of the pack.
    pub queries: BTreeMap<String, String>,
    /// Parquet files in the case's tables.
    pub case_files: usize,
    /// Of those, the files the report's queries opened: the days of the baseline and the window,
    /// and the sign-ins of every day (identity resolution).
    pub case_files_read: usize,
    /// First and last UTC day read, or null when every day was read (`--all-days`).
    pub days_read: Option<[String; 2]>,
    /// Files the manifest lists that the case lacks when the report was made (their rows are
    /// not in it); checked by name, `verify` checks content.
    #[serde(default)]
    pub case_files_missing: Vec<String>,
    /// Parquet files in the case the manifest does not list (their rows were read).
    #[serde(default)]
    pub case_files_unlisted: Vec<String>,
}

/// A known-bad indicator.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Ioc {
    /// `ip` or `user`.
    pub kind: String,
    /// The value.
    pub value: String,
}

/// A suspect identity.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Suspect {
    /// UPN when known, else object id, else `(anonymous)`.
    pub user: String,
    /// Entra object id when known.
    pub user_id: Option<String>,
    /// Why, each with its evidence (times, addresses, records).
    pub reasons: Vec<String>,
    /// Addresses the attacker used with this identity.
    pub ips: Vec<String>,
    /// First attacker activity (sign-in or call).
    pub first_seen: Option<String>,
    /// Last attacker activity.
    pub last_seen: Option<String>,
    /// Attacker tool calls.
    pub tool_calls: u64,
    /// Attacker sessions.
    pub attacker_sessions: u64,
    /// The identity's own sessions in the window (the real user's work).
    pub own_sessions: u64,
}

/// A session of a suspect identity.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Session {
    /// Identity.
    pub user: String,
    /// MCP session id (split at pauses over 30 minutes), or `(derived) <address> <start>` when the
    /// server sets none.
    pub session: String,
    /// Whether the session was derived (no usable MCP session id).
    pub derived: bool,
    /// Whether it is the attacker's.
    pub attacker: bool,
    /// Calls in it.
    pub calls: u64,
    /// First call.
    pub first_call: String,
    /// Last call.
    pub last_call: String,
    /// Client addresses.
    pub ips: Vec<String>,
    /// Tools called.
    pub tools: Vec<String>,
}

/// One attacker tool call.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AttackerCall {
    /// When.
    pub time: String,
    /// Identity used.
    pub user: String,
    /// Client address.
    pub client_address: Option<String>,
    /// `AppRequests` or `APIM`.
    pub origin: String,
    /// Tool.
    pub tool: Option<String>,
    /// Arguments (JSON text).
    pub arguments: Option<String>,
    /// MCP session id as logged.
    pub session_id: Option<String>,
    /// The session the call belongs to (see [`Session::session`]).
    pub session: Option<String>,
    /// Trace id or APIM correlation id.
    pub operation_id: Option<String>,
    /// `detected` or `ioc`.
    pub basis: String,
    /// Which rule chose it: `address` (someone else at the keyboard from an address), `session`
    /// (a session steered by someone else), `ioc`.
    pub rule: String,
    /// Source blob.
    #[serde(rename = "_blob")]
    pub blob: String,
    /// Line in the blob.
    #[serde(rename = "_line")]
    pub line: u64,
}

/// A customer whose data the attacker touched.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AffectedCustomer {
    /// Customer (data subject) id.
    pub customer_id: String,
    /// Confidence: `exfiltrated`, `accessed`, `exposed` (answered by a compromised server).
    pub tier: String,
    /// First attacker access.
    pub first_access: String,
    /// Last attacker access.
    pub last_access: String,
    /// Identities used.
    pub users: Vec<String>,
    /// Tools used.
    pub tools: Vec<String>,
    /// Attacker calls naming the customer.
    pub calls: u64,
    /// Whether any of those calls is tied to an exfiltration path (response bytes to the attacker, an upload).
    pub exfiltration_confirmed: bool,
    /// The calls: origin, span or correlation id, blob and line.
    pub evidence: Vec<String>,
}

/// A resource reached by attacker calls.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Resource {
    /// Dependency type, or `mcp resource`.
    pub kind: String,
    /// Target (host, database, server).
    pub target: Option<String>,
    /// Statement, URL or resource URI.
    pub detail: Option<String>,
    /// Calls.
    pub calls: u64,
    /// First.
    pub first: String,
    /// Last.
    pub last: String,
}

/// A destination data went to.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Exfiltration {
    /// Address.
    pub destination_ip: String,
    /// Host name, when a dependency names it.
    pub destination_host: Option<String>,
    /// Bytes.
    pub bytes: u64,
    /// First transfer.
    pub first: Option<String>,
    /// Last transfer.
    pub last: Option<String>,
    /// The path that carried it.
    pub path: String,
    /// Flow or log records behind the figure.
    pub records: u64,
}

/// A password-spray source.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SpraySource {
    /// Source address.
    pub ip: String,
    /// Accounts it failed against.
    pub accounts_targeted: u64,
    /// Failed sign-ins.
    pub failures: u64,
    /// First failure.
    pub first_failure: String,
    /// Last failure.
    pub last_failure: String,
    /// Accounts that then signed in from it.
    pub compromised: Vec<String>,
}

/// A directory change by or for a suspect that keeps or widens access.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Persistence {
    /// When.
    pub time: String,
    /// Activity (`User registered security info`, `Consent to application`, …).
    pub activity: Option<String>,
    /// Audit category.
    pub category: Option<String>,
    /// Result.
    pub result: Option<String>,
    /// Who made the change.
    pub initiated_by: Option<String>,
    /// From which address.
    pub initiated_by_ip: Option<String>,
    /// What it changed (the start of TargetResources).
    pub target: Option<String>,
    /// The suspect it belongs to, or `(attacker address)`.
    pub suspect: Option<String>,
    /// Source blob.
    #[serde(rename = "_blob")]
    pub blob: String,
    /// Line in the blob.
    #[serde(rename = "_line")]
    pub line: u64,
}

/// A destination the MCP server copied data to by itself.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ServerCompromise {
    /// The MCP host's address.
    pub host: String,
    /// Where it sent data.
    pub destination_ip: String,
    /// Destination port.
    pub destination_port: Option<u64>,
    /// Outbound flow records.
    pub flows: u64,
    /// Bytes sent.
    pub bytes: u64,
    /// Of those, bytes that left within ten minutes after a tool call was answered.
    pub following_bytes: u64,
    /// First flow.
    pub first: String,
    /// Last flow.
    pub last: String,
}

/// A new inbound connection to a management port of an MCP host.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ManagementAccess {
    /// Who connected.
    pub source_ip: String,
    /// The MCP host.
    pub host: String,
    /// Port (22 SSH, 3389 RDP, …).
    pub port: u64,
    /// Flow records.
    pub flows: u64,
    /// Bytes both ways.
    pub bytes: u64,
    /// First.
    pub first: String,
    /// Last.
    pub last: String,
}

/// Coverage of the evidence.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Coverage {
    /// Per source table: records in the baseline and the window.
    pub tables: Vec<TableCoverage>,
    /// Hours in the window with no records where the baseline always had some.
    pub gaps: Vec<Gap>,
    /// Sampled tables (ItemCount above 1).
    pub sampling: Vec<Sampling>,
    /// Attacker calls seen only through sampling, per identity and tool, with the calls estimated
    /// not to be in the evidence.
    #[serde(default)]
    pub sampled_attacker_calls: Vec<SampledCalls>,
    /// What the gaps mean.
    pub statements: Vec<String>,
}

/// Coverage of one table.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TableCoverage {
    /// Table.
    pub table: String,
    /// Records in the baseline.
    pub baseline_records: u64,
    /// Records in the window.
    pub window_records: u64,
    /// `present`, `missing in window`, `absent` (never exported).
    pub status: String,
}

/// A gap.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Gap {
    /// Table.
    pub table: String,
    /// Gap start.
    pub from: String,
    /// Gap end (exclusive).
    pub to: String,
}

/// Attacker calls of one identity and tool that the telemetry samples.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SampledCalls {
    /// Identity.
    pub user: String,
    /// Tool.
    pub tool: String,
    /// Rows in the evidence.
    pub rows: u64,
    /// Calls the rows stand for (sum of ItemCount).
    pub estimated_calls: u64,
    /// Calls estimated not to be in the evidence.
    pub unseen_calls: u64,
}

/// Sampling of one table.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Sampling {
    /// Table.
    pub table_name: String,
    /// Rows.
    pub rows: u64,
    /// Events the rows stand for.
    pub events: u64,
    /// Largest ItemCount.
    pub max_item_count: u64,
}

/// What to scope.
#[derive(Debug, Clone)]
pub struct ScopeRequest {
    /// Window and baseline.
    pub params: PackParams,
    /// Known-bad indicators.
    pub iocs: Vec<Ioc>,
    /// Read every day of the case, not only the baseline's and the window's (the results are the
    /// same; this is slower).
    pub all_days: bool,
}

/// One query of a scope run: name, seconds, rows.
pub type QueryTiming = (String, f64, usize);

/// Runs the scope over a case.
pub async fn scope(case: &Case, request: &ScopeRequest) -> Result<ScopeReport, QueryError> {
    scope_with_timings(case, request)
        .await
        .map(|(report, _)| report)
}

/// Runs the scope over a case, and says how long each query took.
pub async fn scope_with_timings(
    case: &Case,
    request: &ScopeRequest,
) -> Result<(ScopeReport, Vec<QueryTiming>), QueryError> {
    let ioc_pairs: Vec<(String, String)> = request
        .iocs
        .iter()
        .map(|i| (i.kind.clone(), i.value.clone()))
        .collect();
    let window = (!request.all_days).then(|| request.params.day_window());
    let engine = QueryEngine::open_windowed(case, &ioc_pairs, window).await?;
    let params = &request.params;
    let run = |name: &'static str| {
        let engine = &engine;
        async move {
            engine
                .run_pack(name, params)
                .await
                .map(|(_, batches)| batches)
        }
    };
    let sprays: Vec<SprayRow> = rows("spray_sources", &run("spray_sources").await?)?;
    let profiles: Vec<ProfileRow> = rows("ip_profiles", &run("ip_profiles").await?)?;
    let session_profiles: Vec<SessionProfileRow> =
        rows("session_profiles", &run("session_profiles").await?)?;
    let server_compromise: Vec<ServerCompromise> =
        rows("server_compromise", &run("server_compromise").await?)?;
    let management_access: Vec<ManagementAccess> =
        rows("management_access", &run("management_access").await?)?;
    let calls: Vec<AttackerCall> = rows("attacker_calls", &run("attacker_calls").await?)?;
    let suspect_rows: Vec<SuspectRow> = rows("suspects", &run("suspects").await?)?;
    let sessions: Vec<Session> = rows("sessions", &run("sessions").await?)?;
    let persistence: Vec<Persistence> = rows("persistence", &run("persistence").await?)?;
    let exfiltration: Vec<Exfiltration> = rows("exfiltration", &run("exfiltration").await?)?;
    let affected_customers: Vec<AffectedCustomer> =
        rows("affected_customers", &run("affected_customers").await?)?;
    let resources: Vec<Resource> = rows("resources_touched", &run("resources_touched").await?)?;
    let hourly: Vec<HourRow> = rows("hourly_volume", &run("hourly_volume").await?)?;
    let sampling: Vec<Sampling> = rows("sampling", &run("sampling").await?)?;
    let sampled_calls: Vec<SampledCalls> = rows("sampled_calls", &run("sampled_calls").await?)?;
    let call_addresses: Vec<CallAddressRow> =
        rows("call_addresses", &run("call_addresses").await?)?;

    let suspects = suspect_rows
        .iter()
        .map(|s| suspect(s, &profiles, &session_profiles, &sprays, &calls, &sessions))
        .map(|mut s| {
            for change in persistence
                .iter()
                .filter(|p| p.suspect.as_deref() == Some(s.user.as_str()))
            {
                s.reasons.push(format!(
                    "persistence: {} at {} by {} from {} ({}:{})",
                    change.activity.as_deref().unwrap_or("a directory change"),
                    change.time,
                    change.initiated_by.as_deref().unwrap_or("?"),
                    change.initiated_by_ip.as_deref().unwrap_or("?"),
                    change.blob,
                    change.line
                ));
            }
            s
        })
        .collect::<Vec<_>>();
    let spray_sources = spray_summary(&sprays);
    let mut coverage = coverage(&hourly, sampling, params);
    if !server_compromise.is_empty() {
        coverage.statements.push(server_statement(
            &server_compromise,
            &management_access,
            &suspects,
        ));
    }
    if !sampled_calls.is_empty() {
        let unseen: u64 = sampled_calls.iter().map(|s| s.unseen_calls).sum();
        let per: Vec<String> = sampled_calls
            .iter()
            .take(5)
            .map(|s| {
                format!(
                    "{} {} ({} rows for about {} calls)",
                    s.user, s.tool, s.rows, s.estimated_calls
                )
            })
            .collect();
        coverage.statements.push(format!(
            "The telemetry samples the attacker's calls (ItemCount above 1): about {unseen} attacker calls are not in the evidence ({}{}). The customers those calls named cannot be listed: the affected customers are a lower bound.",
            per.join("; "),
            if sampled_calls.len() > 5 { format!("; and {} more", sampled_calls.len() - 5) } else { String::new() }
        ));
    }
    coverage.sampled_attacker_calls = sampled_calls;
    coverage
        .statements
        .extend(address_statements(&call_addresses));
    let unread: Vec<&str> = engine
        .tables()
        .iter()
        .filter(|t| t.kind == "table" && t.name.starts_with("insights_logs_"))
        .map(|t| t.name.as_str())
        .collect();
    coverage
        .statements
        .extend(missing_sources(&coverage.tables, &unread));
    let (rejected, failed) = (case.summary()?.rejected, case.summary()?.unreadable);
    if rejected > 0 || failed > 0 {
        coverage.statements.push(format!(
            "{rejected} records were rejected at ingest and {failed} blobs could not be read completely: they are not in this analysis (the records are in the case's rejects table)."
        ));
    }
    let mut evidence = evidence(case)?;
    let file_check = engine.file_check();
    coverage.statements.extend(file_check.statement());
    evidence.case_files_missing.clone_from(&file_check.missing);
    evidence
        .case_files_unlisted
        .clone_from(&file_check.unexpected);
    let reads = engine.reads();
    evidence.case_files = reads.files_in_case;
    evidence.case_files_read = reads.files_opened.len();
    evidence.days_read = reads.window.map(|w| {
        [
            w.first.format("%Y-%m-%d").to_string(),
            w.last.format("%Y-%m-%d").to_string(),
        ]
    });
    let verdict = verdict(&suspects, &server_compromise, &mut coverage);
    let report = ScopeReport {
        report_version: REPORT_VERSION,
        verdict,
        since: format_utc(params.since),
        until: format_utc(params.until),
        baseline_start: format_utc(params.baseline_start),
        evidence,
        iocs: request.iocs.clone(),
        suspects,
        sessions,
        attacker_calls: calls,
        affected_customers,
        resources,
        exfiltration,
        spray_sources,
        persistence,
        server_compromise,
        management_access,
        coverage,
    };
    Ok((report, engine.timings()))
}

/// Query results as typed rows (through Arrow's JSON writer, so every Arrow type maps the same way).
fn rows<T: DeserializeOwned>(query: &str, batches: &[RecordBatch]) -> Result<Vec<T>, QueryError> {
    let batches: Vec<&RecordBatch> = batches.iter().filter(|b| b.num_rows() > 0).collect();
    if batches.is_empty() {
        return Ok(Vec::new());
    }
    let mut writer = arrow::json::WriterBuilder::new()
        .with_explicit_nulls(true)
        .build::<_, arrow::json::writer::JsonArray>(Vec::new());
    let to_error = |e: arrow::error::ArrowError| {
        QueryError::Pack(format!("reading the results of {query}: {e}"))
    };
    writer.write_batches(&batches).map_err(to_error)?;
    writer.finish().map_err(to_error)?;
    serde_json::from_slice(&writer.into_inner())
        .map_err(|e| QueryError::Pack(format!("reading the results of {query}: {e}")))
}

fn evidence(case: &Case) -> Result<Evidence, QueryError> {
    let manifest_sha256 = case.summary()?.sha256.clone();
    let queries: BTreeMap<String, String> = EMBEDDED
        .iter()
        .map(|(file, text)| {
            (
                file.trim_end_matches(".sql").to_string(),
                hex::encode(Sha256::digest(text.as_bytes())),
            )
        })
        .collect();
    let listing: String = queries
        .iter()
        .map(|(name, sha256)| format!("{name} {sha256}\n"))
        .collect();
    Ok(Evidence {
        case: case.root().display().to_string(),
        manifest_sha256,
        blobs: case.summary()?.blobs,
        tool_version: env!("CARGO_PKG_VERSION").into(),
        query_pack_sha256: hex::encode(Sha256::digest(listing.as_bytes())),
        queries,
        case_files: 0,
        case_files_read: 0,
        days_read: None,
        case_files_missing: Vec::new(),
        case_files_unlisted: Vec::new(),
    })
}

#[derive(Debug, Deserialize)]
struct SprayRow {
    ip: String,
    accounts_targeted: u64,
    failures: u64,
    first_failure: String,
    last_failure: String,
    user_id: Option<String>,
    user_principal_name: Option<String>,
    success_time: Option<String>,
    success_result: Option<String>,
    success_id: Option<String>,
    success_blob: Option<String>,
    success_line: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct ProfileRow {
    user: String,
    client_address: String,
    calls: u64,
    first_call: String,
    last_call: String,
    offhours_calls: u64,
    new_tools: u64,
    new_for_user: bool,
    new_for_org: bool,
    country: Option<String>,
    new_country: bool,
    spray_source: bool,
    attacker: bool,
}

#[derive(Debug, Deserialize)]
struct SessionProfileRow {
    user: String,
    session: String,
    derived: bool,
    client_address: Option<String>,
    first_call: String,
    last_call: String,
    calls: u64,
    customers: u64,
    baseline_max_customers: u64,
    wide_calls: u64,
    new_hosts: Option<Vec<Option<String>>>,
    new_destinations: Option<Vec<Option<String>>>,
    reach: bool,
    egress: bool,
    access: bool,
    /// Attacker by sending to a destination this identity's attacker sessions sent to.
    #[serde(default)]
    shared_destination: bool,
    attacker: bool,
}

#[derive(Debug, Deserialize)]
struct SuspectRow {
    user: String,
    user_id: Option<String>,
    tool_calls: u64,
    first_seen: Option<String>,
    last_seen: Option<String>,
    call_ips: Option<Vec<Option<String>>>,
    spray_ips: Option<Vec<Option<String>>>,
    attacker_days: u64,
    baseline_calls_per_day: Option<f64>,
}

#[derive(Debug, Deserialize)]
struct HourRow {
    table_name: String,
    hour: String,
    records: u64,
}

/// What the absence of a source means for the answer, said plainly instead of a bare "absent";
/// and the diagnostic-settings categories the case holds but does not read onto typed tables.
fn missing_sources(tables: &[TableCoverage], unread: &[&str]) -> Vec<String> {
    let absent = |names: &[&str]| {
        names.iter().all(|n| {
            tables
                .iter()
                .find(|t| t.table == *n)
                .is_none_or(|t| t.baseline_records == 0 && t.window_records == 0)
        })
    };
    let mut out = Vec::new();
    let unread_note = if unread.is_empty() {
        String::new()
    } else {
        format!(
            " The case holds diagnostic-settings categories that are kept but not read onto typed tables ({}): if sign-ins are among them, they are not in this analysis.",
            unread.join(", ")
        )
    };
    if absent(&["SigninLogs", "AADNonInteractiveUserSignInLogs"]) {
        out.push(format!(
            "No Entra sign-ins (SigninLogs, AADNonInteractiveUserSignInLogs, or their diagnostic-settings archives) in the baseline or the window: password sprays, sign-in countries, interactive sign-ins and identity names cannot be judged, and their absence is not evidence that none happened.{unread_note}"
        ));
    } else if !unread.is_empty() {
        out.push(unread_note.trim_start().to_string());
    }
    if absent(&["flows"]) {
        out.push("No NSG or VNet flow logs in the baseline or the window: bytes sent to attackers, outbound transfers and an implant's channel cannot be seen; exfiltration is judged from the servers' own logs only.".into());
    }
    if absent(&["AuditLogs"]) {
        out.push("No Entra audit logs in the baseline or the window: persistence (security info, consent, roles, credentials) cannot be seen.".into());
    }
    out
}

/// The verdict, adding to the coverage statements why an empty answer is inconclusive.
fn verdict(suspects: &[Suspect], server: &[ServerCompromise], coverage: &mut Coverage) -> String {
    if !suspects.is_empty() {
        return "suspects found".into();
    }
    if !server.is_empty() {
        return "server compromise found".into();
    }
    let records = |tables: &[&str], window: bool| -> u64 {
        coverage
            .tables
            .iter()
            .filter(|t| tables.contains(&t.table.as_str()))
            .map(|t| {
                if window {
                    t.window_records
                } else {
                    t.baseline_records
                }
            })
            .sum()
    };
    let calls = [
        "AppRequests",
        "AppDependencies",
        "ApiManagementGatewayMCPLog",
    ];
    let everything: Vec<&str> = coverage.tables.iter().map(|t| t.table.as_str()).collect();
    let mut missing = Vec::new();
    if records(&calls, true) == 0 {
        missing.push("there is no MCP tool-call telemetry (AppRequests, AppDependencies, ApiManagementGatewayMCPLog) in the window, so who called which tool cannot be told");
    }
    if records(&everything, false) == 0 {
        missing.push("there is no evidence at all in the baseline, so nothing can be judged new or unusual (only sprays and indicators could name anyone)");
    }
    if missing.is_empty() {
        return "nothing found".into();
    }
    coverage.statements.insert(
        0,
        format!(
            "Inconclusive: no suspect was found, but {}. Ingest the missing evidence (or widen --since / --baseline-days) before concluding that nothing happened.",
            missing.join("; and ")
        ),
    );
    "inconclusive".into()
}

/// What the report says when the server itself copied data out.
fn server_statement(
    findings: &[ServerCompromise],
    access: &[ManagementAccess],
    suspects: &[Suspect],
) -> String {
    let destinations: BTreeSet<&str> = findings.iter().map(|f| f.destination_ip.as_str()).collect();
    let first = findings
        .iter()
        .map(|f| f.first.as_str())
        .min()
        .unwrap_or_default();
    let mut text = format!(
        "The MCP server itself sent data to {} from {first}, following the tool calls it answered, with no HTTP dependency naming the destination: code in the server (an implant) is the likely cause",
        destinations.into_iter().collect::<Vec<_>>().join(", ")
    );
    if let Some(login) = access.first() {
        text.push_str(&format!(
            "; a new management connection from {} to port {} at {} may be how it came",
            login.source_ip, login.port, login.first
        ));
    }
    if suspects.is_empty() {
        text.push_str(". No identity was misused for it: no user is named.");
    } else {
        text.push_str(". The suspects named are separate findings: the implant needs no identity.");
    }
    text.push_str(" Every customer the server answered for from then on is exposed.");
    text
}

fn session_reason(profile: &SessionProfileRow, calls: &[AttackerCall]) -> String {
    let mut signs = Vec::new();
    if profile.reach {
        let mut reach = format!(
            "{} customers in the session against at most {} in any of this identity's baseline sessions",
            profile.customers, profile.baseline_max_customers
        );
        if profile.wide_calls > 0 {
            reach.push_str(&format!(
                "; {} call(s) asking for everything (wildcard or a limit of 1000 or more), never in its baseline",
                profile.wide_calls
            ));
        }
        signs.push(reach);
    }
    if profile.egress {
        let list = |v: &Option<Vec<Option<String>>>| {
            v.iter()
                .flatten()
                .flatten()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut egress = Vec::new();
        if profile.new_hosts.is_some() {
            egress.push(format!(
                "arguments name outside host(s) this identity never named in the baseline: {}",
                list(&profile.new_hosts)
            ));
        }
        if profile.new_destinations.is_some() {
            egress.push(format!(
                "its calls reached destination(s) new in the window that no other identity's calls reach: {}",
                list(&profile.new_destinations)
            ));
        }
        signs.push(egress.join("; "));
    }
    if profile.shared_destination {
        signs.push(
            "it sent to a destination this identity's attacker sessions also sent to (new in the window, reached by no other identity): the same campaign".into(),
        );
    }
    if profile.access {
        signs.push(format!(
            "from {}, an address new to the whole organisation where nobody ever completed an interactive sign-in (a replayed token refreshes without one)",
            profile.client_address.as_deref().unwrap_or("?")
        ));
    }
    let first_record = calls
        .iter()
        .find(|c| c.user == profile.user && c.session.as_deref() == Some(profile.session.as_str()))
        .map(|c| format!("; first call {}:{}", c.blob, c.line))
        .unwrap_or_default();
    format!(
        "session {}{} with {} calls ({} to {}) steered by someone else: {}{}",
        profile.session,
        if profile.derived {
            " (derived: the server logs no session id)"
        } else {
            ""
        },
        profile.calls,
        profile.first_call,
        profile.last_call,
        signs.join("; "),
        first_record
    )
}

fn suspect(
    row: &SuspectRow,
    profiles: &[ProfileRow],
    session_profiles: &[SessionProfileRow],
    sprays: &[SprayRow],
    calls: &[AttackerCall],
    sessions: &[Session],
) -> Suspect {
    let mut reasons = Vec::new();
    for spray in sprays.iter().filter(|s| {
        s.success_time.is_some()
            && (s.user_id == row.user_id && row.user_id.is_some()
                || s.user_principal_name.as_deref() == Some(row.user.as_str()))
    }) {
        let outcome = match spray.success_result.as_deref() {
            Some("0") => "signed in successfully".to_string(),
            Some(code) => format!("passed the password check (result {code}, then stopped)"),
            None => String::new(),
        };
        reasons.push(format!(
            "{} from {} at {}, after a password spray from that address ({} failures against {} accounts, {} to {}); sign-in record {} ({}:{})",
            outcome,
            spray.ip,
            spray.success_time.as_deref().unwrap_or_default(),
            spray.failures,
            spray.accounts_targeted,
            spray.first_failure,
            spray.last_failure,
            spray.success_id.as_deref().unwrap_or_default(),
            spray.success_blob.as_deref().unwrap_or_default(),
            spray.success_line.unwrap_or_default(),
        ));
    }
    for profile in profiles.iter().filter(|p| p.user == row.user && p.attacker) {
        let mut signs = Vec::new();
        if profile.new_for_user && profile.new_for_org {
            signs.push(
                "an address never seen in the baseline for this identity or anyone else"
                    .to_string(),
            );
        }
        if profile.offhours_calls > 0 {
            signs.push(format!(
                "{} of {} calls outside the hours this identity is active in the baseline",
                profile.offhours_calls, profile.calls
            ));
        }
        if profile.new_country {
            signs.push(format!(
                "sign-in country {} new for this identity",
                profile.country.as_deref().unwrap_or("?")
            ));
        }
        if profile.new_tools > 0 {
            signs.push(format!(
                "{} tool(s) this identity never used in the baseline",
                profile.new_tools
            ));
        }
        if profile.spray_source {
            signs.push("the address is a password-spray source".into());
        }
        if profile.user == "(anonymous)" {
            signs.push("calls without an authenticated identity".into());
        }
        let first_record = calls
            .iter()
            .find(|c| {
                c.user == profile.user
                    && c.client_address.as_deref() == Some(profile.client_address.as_str())
            })
            .map(|c| format!("; first call {}:{}", c.blob, c.line))
            .unwrap_or_default();
        reasons.push(format!(
            "{} tool calls from {} ({} to {}): {}{}",
            profile.calls,
            profile.client_address,
            profile.first_call,
            profile.last_call,
            signs.join("; "),
            first_record
        ));
    }
    let by_address = |p: &SessionProfileRow| {
        profiles.iter().any(|a| {
            a.attacker
                && a.user == p.user
                && p.client_address.as_deref() == Some(a.client_address.as_str())
        })
    };
    for profile in session_profiles
        .iter()
        .filter(|p| p.user == row.user && p.attacker && !by_address(p))
    {
        reasons.push(session_reason(profile, calls));
    }
    if let Some(baseline) = row.baseline_calls_per_day.filter(|b| *b > 0.0) {
        let per_day = row.tool_calls as f64 / row.attacker_days.max(1) as f64;
        if per_day > 3.0 * baseline {
            reasons.push(format!("attacker volume {per_day:.1} calls a day against a baseline of {baseline:.1} for this identity"));
        }
    }
    if calls.iter().any(|c| c.user == row.user && c.basis == "ioc") {
        reasons.push("matches an indicator of compromise given with --ioc-ip / --ioc-user".into());
    }
    let mut ips: BTreeSet<String> = row.call_ips.iter().flatten().flatten().cloned().collect();
    ips.extend(row.spray_ips.iter().flatten().flatten().cloned());
    let mine = sessions.iter().filter(|s| s.user == row.user);
    Suspect {
        user: row.user.clone(),
        user_id: row.user_id.clone(),
        reasons,
        ips: ips.into_iter().collect(),
        first_seen: row.first_seen.clone(),
        last_seen: row.last_seen.clone(),
        tool_calls: row.tool_calls,
        attacker_sessions: mine.clone().filter(|s| s.attacker).count() as u64,
        own_sessions: mine.filter(|s| !s.attacker).count() as u64,
    }
}

fn spray_summary(rows: &[SprayRow]) -> Vec<SpraySource> {
    let mut by_ip: BTreeMap<&str, SpraySource> = BTreeMap::new();
    for row in rows {
        let entry = by_ip.entry(&row.ip).or_insert_with(|| SpraySource {
            ip: row.ip.clone(),
            accounts_targeted: row.accounts_targeted,
            failures: row.failures,
            first_failure: row.first_failure.clone(),
            last_failure: row.last_failure.clone(),
            compromised: Vec::new(),
        });
        if let Some(user) = row
            .user_principal_name
            .clone()
            .or_else(|| row.user_id.clone())
            && !entry.compromised.contains(&user)
        {
            entry.compromised.push(user);
        }
    }
    by_ip.into_values().collect()
}

/// Finds hours in the window with no records where every baseline day of the same kind (weekday
/// or weekend) had records at that hour.
fn coverage(hourly: &[HourRow], sampling: Vec<Sampling>, params: &PackParams) -> Coverage {
    let mut per_table: BTreeMap<&str, BTreeMap<DateTime<Utc>, u64>> = BTreeMap::new();
    for row in hourly {
        if let Some(hour) = crate::time::parse_timestamp(&row.hour) {
            per_table
                .entry(row.table_name.as_str())
                .or_default()
                .insert(hour, row.records);
        }
    }
    let weekend = |t: DateTime<Utc>| matches!(t.weekday(), Weekday::Sat | Weekday::Sun);
    let baseline_days: Vec<DateTime<Utc>> = day_starts(params.baseline_start, params.since);
    let days_of_kind = |kind: bool| {
        baseline_days
            .iter()
            .filter(|d| weekend(**d) == kind)
            .count()
    };
    let mut tables = Vec::new();
    let mut gaps = Vec::new();
    for table in catalog::with_role(Role::Coverage) {
        let hours = per_table.get(table).cloned().unwrap_or_default();
        let baseline_records: u64 = hours
            .range(params.baseline_start..params.since)
            .map(|(_, n)| n)
            .sum();
        let window_records: u64 = hours
            .range(params.since..params.until)
            .map(|(_, n)| n)
            .sum();
        let status = match (baseline_records, window_records) {
            (0, 0) => "absent",
            (_, 0) => "missing in window",
            _ => "present",
        };
        tables.push(TableCoverage {
            table: (*table).to_string(),
            baseline_records,
            window_records,
            status: status.into(),
        });
        if baseline_records == 0 {
            continue;
        }
        // Hours of day (per weekday/weekend) present on every baseline day of that kind.
        // Per (weekday or weekend, hour of day): the count on each baseline day that had records.
        let mut seen: BTreeMap<(bool, u32), Vec<u64>> = BTreeMap::new();
        for (hour, records) in hours.range(params.baseline_start..params.since) {
            seen.entry((weekend(*hour), hour.hour()))
                .or_default()
                .push(*records);
        }
        // Expected: present on every baseline day of that kind, and either busy on every one of
        // them (at least 3 records, so an empty hour by chance is unlikely) or perfectly regular (a heartbeat).
        let expected = |t: DateTime<Utc>| {
            let kind = weekend(t);
            let needed = days_of_kind(kind);
            seen.get(&(kind, t.hour())).is_some_and(|counts| {
                let (min, max) = (
                    counts.iter().min().copied().unwrap_or(0),
                    counts.iter().max().copied().unwrap_or(0),
                );
                needed >= 2 && counts.len() >= needed && (min >= 3 || min == max)
            })
        };
        let mut gap_start: Option<DateTime<Utc>> = None;
        let mut t = hour_floor(params.since)
            + if params.since == hour_floor(params.since) {
                Duration::zero()
            } else {
                Duration::hours(1)
            };
        while t + Duration::hours(1) <= params.until {
            let missing = expected(t) && hours.get(&t).copied().unwrap_or(0) == 0;
            match (missing, gap_start) {
                (true, None) => gap_start = Some(t),
                (false, Some(start)) => {
                    gaps.push(Gap {
                        table: (*table).to_string(),
                        from: format_utc(start),
                        to: format_utc(t),
                    });
                    gap_start = None;
                }
                _ => {}
            }
            t += Duration::hours(1);
        }
        if let Some(start) = gap_start {
            gaps.push(Gap {
                table: (*table).to_string(),
                from: format_utc(start),
                to: format_utc(t),
            });
        }
    }
    gaps = merge_gaps(
        gaps.into_iter()
            .chain(silent_export_gaps(&per_table, params))
            .collect(),
    );
    let mut statements = Vec::new();
    if per_table.values().all(|hours| {
        hours
            .range(params.baseline_start..params.since)
            .next()
            .is_none()
    }) {
        statements.push(format!(
            "There is no evidence in the baseline ({} to {}): nothing can be judged new, so only password sprays and indicators name suspects. Choose a later --since or more --baseline-days.",
            format_utc(params.baseline_start),
            format_utc(params.since)
        ));
    }
    let mut spans: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for gap in &gaps {
        spans
            .entry((gap.from.clone(), gap.to.clone()))
            .or_default()
            .push(gap.table.clone());
    }
    for ((from, to), tables) in &spans {
        statements.push(format!(
            "No {} records from {from} to {to}, although the baseline says they should be there: activity in that period cannot be excluded.",
            tables.join(", ")
        ));
    }
    for table in tables.iter().filter(|t| t.status == "missing in window") {
        statements.push(format!("{} has records in the baseline but none in the window: its activity in the window cannot be seen.", table.table));
    }
    let sampling: Vec<Sampling> = sampling.into_iter().filter(|s| s.rows > 0).collect();
    for sampled in sampling.iter().filter(|s| s.max_item_count > 1) {
        statements.push(format!(
            "{} is sampled (ItemCount up to {}): {} rows stand for {} events, so individual calls may be missing.",
            sampled.table_name, sampled.max_item_count, sampled.rows, sampled.events
        ));
    }
    if statements.is_empty() {
        statements.push("No gaps: every source present in the baseline has records in every hour the baseline says it should.".into());
    }
    Coverage {
        tables,
        gaps,
        sampling,
        sampled_attacker_calls: Vec::new(),
        statements,
    }
}

/// Runs of at least two hours in which every Application Insights table is silent while other
/// sources go on, at hours where most comparable baseline days had App Insights records: an
/// export outage even when no single table is busy enough to show it alone. Hours already
/// reported as a table's gap are merged with it.
fn silent_export_gaps(
    per_table: &BTreeMap<&str, BTreeMap<DateTime<Utc>, u64>>,
    params: &PackParams,
) -> Vec<Gap> {
    let weekend = |t: DateTime<Utc>| matches!(t.weekday(), Weekday::Sat | Weekday::Sun);
    let count_at = |tables: &[&str], t: DateTime<Utc>| -> u64 {
        tables
            .iter()
            .filter_map(|n| per_table.get(n).and_then(|h| h.get(&t)))
            .sum()
    };
    // Application Insights tables are exported together: an export outage silences all of them.
    let app_tables: Vec<&str> = catalog::with_role(Role::AppInsights).collect();
    let others: Vec<&str> = catalog::with_role(Role::Coverage)
        .filter(|t| !app_tables.contains(t))
        .collect();
    let baseline_days = day_starts(params.baseline_start, params.since);
    let mut expected: BTreeMap<(bool, u32), (usize, usize)> = BTreeMap::new();
    for day in &baseline_days {
        for hour in 0..24 {
            let t = *day + Duration::hours(hour);
            let slot = expected.entry((weekend(t), t.hour())).or_default();
            slot.1 += 1;
            if count_at(&app_tables, t) > 0 {
                slot.0 += 1;
            }
        }
    }
    let is_expected = |t: DateTime<Utc>| {
        expected
            .get(&(weekend(t), t.hour()))
            .is_some_and(|(present, days)| *days >= 2 && *present * 4 >= *days * 3)
    };
    let mut runs: Vec<Span> = Vec::new();
    let mut t = hour_floor(params.since);
    while t + Duration::hours(1) <= params.until {
        let silent = is_expected(t) && count_at(&app_tables, t) == 0 && count_at(&others, t) > 0;
        if silent {
            match runs.last_mut() {
                Some((_, end)) if *end == t => *end = t + Duration::hours(1),
                _ => runs.push((t, t + Duration::hours(1))),
            }
        }
        t += Duration::hours(1);
    }
    let mut out = Vec::new();
    for (from, to) in runs
        .into_iter()
        .filter(|(from, to)| *to - *from >= Duration::hours(2))
    {
        for table in app_tables
            .iter()
            .filter(|n| per_table.get(*n).is_some_and(|h| !h.is_empty()))
        {
            out.push(Gap {
                table: (*table).to_string(),
                from: format_utc(from),
                to: format_utc(to),
            });
        }
    }
    out
}

/// A time span, start inclusive, end exclusive.
type Span = (DateTime<Utc>, DateTime<Utc>);

/// Unions overlapping or touching gaps of the same table.
fn merge_gaps(gaps: Vec<Gap>) -> Vec<Gap> {
    let mut by_table: BTreeMap<String, Vec<Span>> = BTreeMap::new();
    for gap in gaps {
        if let (Some(from), Some(to)) = (
            crate::time::parse_timestamp(&gap.from),
            crate::time::parse_timestamp(&gap.to),
        ) {
            by_table.entry(gap.table).or_default().push((from, to));
        }
    }
    let mut merged = Vec::new();
    for (table, mut spans) in by_table {
        spans.sort();
        let mut current: Option<Span> = None;
        for (from, to) in spans {
            current = match current {
                Some((start, end)) if from <= end => Some((start, end.max(to))),
                Some((start, end)) => {
                    merged.push(Gap {
                        table: table.clone(),
                        from: format_utc(start),
                        to: format_utc(end),
                    });
                    Some((from, to))
                }
                None => Some((from, to)),
            };
        }
        if let Some((start, end)) = current {
            merged.push(Gap {
                table: table.clone(),
                from: format_utc(start),
                to: format_utc(end),
            });
        }
    }
    merged.sort_by(|a, b| (&a.from, &a.table).cmp(&(&b.from, &b.table)));
    merged
}

/// Tool calls of the window by where their caller's address came from.
#[derive(Debug, Deserialize)]
struct CallAddressRow {
    client_address_source: String,
    has_address: bool,
    calls: u64,
}

/// What the coverage says about caller addresses: how many calls of the window have none (the
/// signs that compare addresses cannot judge them), and how many took theirs from an HTTP access
/// log by time alone.
fn address_statements(rows: &[CallAddressRow]) -> Vec<String> {
    let total: u64 = rows.iter().map(|r| r.calls).sum();
    let without: u64 = rows
        .iter()
        .filter(|r| !r.has_address)
        .map(|r| r.calls)
        .sum();
    let by_time: u64 = rows
        .iter()
        .filter(|r| r.has_address && r.client_address_source.ends_with("(time)"))
        .map(|r| r.calls)
        .sum();
    let mut statements = Vec::new();
    if without > 0 {
        statements.push(format!(
            "{without} of {total} tool calls in the window carry no caller address, in the server's telemetry or in any gateway or access log in the case: the signs that compare addresses (an address new to the identity, a spray source, an address that never signed in) cannot judge them; the signs of identity, volume, arguments and destinations still do."
        ));
    }
    if by_time > 0 {
        statements.push(format!(
            "{by_time} of {total} tool calls in the window took their caller's address from an HTTP access log in front of the server, matched by time alone (access logs carry no trace id): only where that log saw exactly one caller in the call's time span."
        ));
    }
    statements
}

fn hour_floor(t: DateTime<Utc>) -> DateTime<Utc> {
    t.date_naive()
        .and_hms_opt(t.hour(), 0, 0)
        .map(|d| d.and_utc())
        .unwrap_or(t)
}

fn day_starts(from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<DateTime<Utc>> {
    let mut days = Vec::new();
    let mut day = from
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .map(|d| d.and_utc())
        .unwrap_or(from);
    if day < from {
        day += Duration::days(1);
    }
    while day + Duration::days(1) <= to {
        days.push(day);
        day += Duration::days(1);
    }
    days
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_without_an_address_are_counted_and_time_matches_named() {
        let row = |source: &str, has_address: bool, calls: u64| CallAddressRow {
            client_address_source: source.into(),
            has_address,
            calls,
        };
        assert!(address_statements(&[row("mcp row", true, 40)]).is_empty());
        let statements = address_statements(&[
            row("mcp row", true, 30),
            row("(none)", false, 6),
            row("App Service HTTP log (time)", true, 3),
            row(
                "Application Gateway access log: 2 addresses in the call's time span, none taken",
                false,
                1,
            ),
        ]);
        assert_eq!(statements.len(), 2);
        assert!(
            statements[0].starts_with("7 of 40 tool calls in the window carry no caller address")
        );
        assert!(statements[1].starts_with(
            "3 of 40 tool calls in the window took their caller's address from an HTTP access log"
        ));
    }

    #[test]
    fn missing_sources_are_said_plainly() {
        let table = |name: &str, baseline: u64, window: u64| TableCoverage {
            table: name.into(),
            baseline_records: baseline,
            window_records: window,
            status: String::new(),
        };
        let tables = vec![
            table("SigninLogs", 0, 0),
            table("AuditLogs", 3, 1),
            table("flows", 5, 5),
        ];
        let said = missing_sources(&tables, &["insights_logs_signinlogsv2"]);
        assert_eq!(said.len(), 1, "{said:?}");
        assert!(said[0].starts_with("No Entra sign-ins"));
        assert!(
            said[0].contains("insights_logs_signinlogsv2"),
            "the unread category is named"
        );
        let present = vec![
            table("SigninLogs", 1, 1),
            table("AuditLogs", 0, 0),
            table("flows", 0, 0),
        ];
        let said = missing_sources(&present, &[]);
        assert!(
            said[0].starts_with("No NSG or VNet flow logs")
                && said[1].starts_with("No Entra audit logs")
        );
        assert_eq!(said.len(), 2);
    }
}
