//! The typed scope report: what was found, with the evidence behind it, in the layout of
//! `docs/scope-report.md` (`report_version`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::query::pack::PackParams;

/// Version of the report layout (docs/scope-report.md).
pub const REPORT_VERSION: u32 = 2;

/// The scope report.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ScopeReport {
    /// Layout version.
    pub report_version: u32,
    /// The answer in a word.
    pub verdict: Verdict,
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
    /// New east-west connections on management or database ports from a compromised MCP host
    /// or an attacker address (lateral movement).
    #[serde(default)]
    pub lateral_movement: Vec<LateralMovement>,
    /// Where each `--ioc-ip` occurs in the window's evidence (an indicator without a row occurs
    /// nowhere).
    #[serde(default)]
    pub ioc_sightings: Vec<IocSighting>,
    /// What happened to the window: asked for, scoped, and the earlier evidence that moved it.
    #[serde(default)]
    pub window: WindowReport,
    /// What the evidence covers and cannot show.
    pub coverage: Coverage,
    /// Sigma rules run on the scoped window (`scope --sigma`); absent when none were given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sigma: Option<SigmaFindings>,
}

/// The answer in a word, written as its text (`suspects found`, …) in every format.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum Verdict {
    /// Identities with evidence of abuse.
    #[serde(rename = "suspects found")]
    SuspectsFound,
    /// No identity, but the server itself copied data out.
    #[serde(rename = "server compromise found")]
    ServerCompromiseFound,
    /// Nothing attributed, and the evidence could have shown it.
    #[serde(rename = "nothing found")]
    NothingFound,
    /// Nothing attributed, and the evidence cannot show it: no tool-call telemetry in the
    /// window, no baseline to compare with, or sampled call telemetry (the coverage statements
    /// say what is missing).
    #[serde(rename = "inconclusive")]
    Inconclusive,
}

impl Verdict {
    /// Its text, as every format writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::SuspectsFound => "suspects found",
            Verdict::ServerCompromiseFound => "server compromise found",
            Verdict::NothingFound => "nothing found",
            Verdict::Inconclusive => "inconclusive",
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What Sigma rules found in the scoped window.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct SigmaFindings {
    /// The rule files and folders given.
    pub rules: Vec<String>,
    /// Rules that ran.
    pub ran: u64,
    /// Rules whose tables hold no record in the window.
    pub without_evidence: u64,
    /// Rules that could not be run, with the reason.
    pub refused: Vec<RefusedRule>,
    /// Every hit in the window, in time order.
    pub hits: Vec<RuleHit>,
}

/// A rule that could not be run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RefusedRule {
    /// The rule's title (its file's name when it could not be parsed).
    pub rule: String,
    /// Its file.
    pub path: String,
    /// Why.
    pub reason: String,
}

/// One record (or, for a correlation, one group of records) a Sigma rule matched.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RuleHit {
    /// When.
    pub time: Option<String>,
    /// The rule's title.
    pub rule: String,
    /// The rule's id.
    pub rule_id: Option<String>,
    /// Its level.
    pub level: Option<String>,
    /// Its ATT&CK and other tags, comma-separated.
    pub tags: String,
    /// The record's table (`correlation` and the group for a correlation).
    pub table: String,
    /// Who, where the table says.
    pub identity: Option<String>,
    /// From where, where the table says.
    pub address: Option<String>,
    /// The record's blob.
    pub blob: Option<String>,
    /// Its line.
    pub line: Option<i64>,
    /// The blob's SHA-256.
    pub blob_sha256: Option<String>,
    /// For a correlation: the records it correlated (`table blob:line`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub correlated: Vec<String>,
}

/// Where an indicator address occurs in the window: one place (tool calls, flows either side,
/// sign-ins, gateway callers, dependencies).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct IocSighting {
    /// The indicator.
    pub value: String,
    /// Where it is written.
    pub place: String,
    /// Records.
    pub records: u64,
    /// First.
    pub first: String,
    /// Last.
    pub last: String,
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
    /// Parquet files in the case's tables (and in its call index, when the report read one).
    pub case_files: usize,
    /// Of those, the files the report's queries opened: the days of the baseline and the window,
    /// and the sign-ins of every day (identity resolution).
    pub case_files_read: usize,
    /// The call index the tool calls were read from (`derived/tool_calls-<fingerprint>`, derived
    /// at ingest from exactly the files this manifest lists), or null when the report related
    /// the telemetry rows itself.
    #[serde(default)]
    pub call_index: Option<String>,
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
    /// Credentials the attacker used that must be revoked beyond the identity itself: the API
    /// Management subscriptions (keys) its attacker calls carried.
    #[serde(default)]
    pub credentials: Vec<String>,
    /// What kind of identity its sign-ins show: `person`, `service principal`, `managed
    /// identity` or `agent` (Entra Agent ID); absent when no sign-in names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// For an AI agent: what its sign-ins' Agent ID fields say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<AgentIdentity>,
    /// The AI agent that signed in for this identity (its Agent ID parent), when one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acting_agent: Option<String>,
    /// Its model calls in attacker sessions against its own, when the evidence holds any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_use: Option<ModelUse>,
}

/// An AI agent's identity as Entra Agent ID writes it on its sign-ins.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AgentIdentity {
    /// `agentType` (`agenticAppInstance`, `agentIDuser`, …).
    pub agent_type: Option<String>,
    /// `agentSubjectParentId`, else `parentAppId`: its agent identity blueprint.
    pub parent: Option<String>,
    /// The app id it signed in with.
    pub app: Option<String>,
}

impl Suspect {
    /// The identity in words when it is an AI agent or an agent acted for it; `None` for people,
    /// service principals and managed identities no agent acted for.
    pub fn agent_words(&self) -> Option<String> {
        if let Some(agent) = &self.agent {
            let mut parts = vec![format!(
                "Entra Agent ID {}",
                agent.agent_type.as_deref().unwrap_or("agent")
            )];
            if let Some(app) = &agent.app {
                parts.push(format!("app {app}"));
            }
            if let Some(parent) = &agent.parent {
                parts.push(format!("parent {parent}"));
            }
            return Some(format!("AI agent ({})", parts.join(", ")));
        }
        self.acting_agent.as_ref().map(|agent| {
            format!(
                "{}, for whom an AI agent signed in (Entra Agent ID, parent {agent})",
                self.kind.as_deref().unwrap_or("identity")
            )
        })
    }
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
    /// Model calls (GenAI spans) in the traces of its calls: what an agent asked its model.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub model_calls: u64,
    /// Their input and output tokens.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub model_tokens: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// An identity's model calls in its attacker sessions against its own (a sign to state, not a
/// rule: a steered agent's sessions often show unusual prompts or token volumes).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ModelUse {
    /// Attacker sessions, and the model calls and tokens in them.
    pub attacker_sessions: u64,
    /// Model calls in them.
    pub attacker_calls: u64,
    /// Tokens in them.
    pub attacker_tokens: u64,
    /// Own sessions, and the model calls and tokens in them.
    pub own_sessions: u64,
    /// Model calls in them.
    pub own_calls: u64,
    /// Tokens in them.
    pub own_tokens: u64,
}

impl ModelUse {
    /// The statement in words: tokens per session, the attacker's against its own.
    pub fn words(&self) -> String {
        let per = |tokens: u64, sessions: u64| tokens.checked_div(sessions).unwrap_or(0);
        format!(
            "{} model calls ({} tokens, {} a session) in its {} attacker sessions; {} ({} tokens, {} a session) in its {} own",
            self.attacker_calls,
            self.attacker_tokens,
            per(self.attacker_tokens, self.attacker_sessions),
            self.attacker_sessions,
            self.own_calls,
            self.own_tokens,
            per(self.own_tokens, self.own_sessions),
            self.own_sessions
        )
    }
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
    /// The API Management subscription the call carried (a key), when it came through a gateway.
    #[serde(default)]
    pub apim_subscription_id: Option<String>,
    /// `detected` or `ioc`.
    pub basis: String,
    /// Which rule chose it: `address` (someone else at the keyboard from an address), `session`
    /// (a session steered by someone else), `ioc`.
    pub rule: String,
    /// Whether the client address is the attacker's own (not a steered agent's usual address).
    #[serde(default)]
    pub attacker_address: bool,
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
    /// Identities the attacker used to reach the customer (suspects only; empty for `exposed`).
    pub users: Vec<String>,
    /// For `exposed` customers: the ordinary callers whose answers the compromised server copied
    /// (not suspects).
    #[serde(default)]
    pub answered_to: Vec<String>,
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

/// A row of the pack's `network_east_west`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct EastWestRow {
    pub src_ip: String,
    pub dst_ip: String,
    pub dst_port: u64,
    pub flows: u64,
    pub first_flow: String,
    pub new_in_window: bool,
    pub management_or_database_port: bool,
    pub from_mcp_host: bool,
}

/// A connection between two internal hosts, new in the window, on a management or database port,
/// from a host the report says is compromised or from an attacker address.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LateralMovement {
    /// Where it came from.
    pub source_ip: String,
    /// Why that source: `compromised MCP host` or `attacker address`.
    pub source: String,
    /// The internal host reached.
    pub destination_ip: String,
    /// Its port (22 SSH, 1433 SQL Server, …).
    pub port: u64,
    /// Flow records in the window.
    pub flows: u64,
    /// The first.
    pub first: String,
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
    /// How the start was chosen: `given`, or `auto` (after a baseline of the evidence's earliest
    /// days). Either way the window widens to the breach's first evidence ([`super::window`]).
    pub method: String,
    /// How its query sessions run (memory, cluster).
    pub settings: crate::query::QuerySettings,
}

/// What happened to the window: asked for, scoped, and what moved it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct WindowReport {
    /// The window as asked for (`--since auto` resolved to its starting point).
    pub requested: WindowSpan,
    /// The window the report covers.
    pub scoped: WindowSpan,
    /// `given` (a time or span), or `auto` (found from the evidence after a baseline of its
    /// earliest days).
    pub method: String,
    /// The earlier evidence of what the window attributed to the attacker, each with its record.
    pub moved_by: Vec<WindowMove>,
    /// How many times the window moved.
    pub iterations: u32,
    /// Whether the widening stopped at its bound with earlier evidence still to follow.
    pub bounded: bool,
    /// The first time of the evidence in the case.
    pub evidence_start: String,
    /// Whether the breach's first evidence lies in the evidence's first day: it may have begun
    /// before the oldest blob (retention limits what can be shown).
    pub reaches_evidence_start: bool,
}

impl WindowReport {
    /// The scoped window as the pack's parameters (`None` for a report without one).
    pub fn scoped_params(&self) -> Option<crate::query::pack::PackParams> {
        let at = crate::time::parse_timestamp;
        Some(crate::query::pack::PackParams {
            since: at(&self.scoped.since)?,
            until: at(&self.scoped.until)?,
            baseline_start: at(&self.scoped.baseline_start)?,
        })
    }
}

/// A window and its baseline.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct WindowSpan {
    /// Start.
    pub since: String,
    /// End (exclusive).
    pub until: String,
    /// Baseline start.
    pub baseline_start: String,
}

/// One attacker artifact seen before the window.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct WindowMove {
    /// The address, destination or host.
    pub artifact: String,
    /// What the scope held it for (`attacker address`, `spray source`, `destination`, `host`, …).
    pub kind: String,
    /// Its first occurrence in the run of evidence that reaches the window.
    pub first_seen: String,
    /// Where that occurrence is written (table and record).
    pub record: String,
}
