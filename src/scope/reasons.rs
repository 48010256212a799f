//! Words for findings: each suspect's reasons from the evidence rows, relative to its own
//! baseline, the verdict, the server finding, and spray sources.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use super::findings::{
    AgentIdentity, AttackerCall, Coverage, ManagementAccess, ModelUse, ServerCompromise, Session,
    SpraySource, Suspect, Verdict,
};

#[derive(Debug, Deserialize)]
pub(super) struct SprayRow {
    pub(super) ip: String,
    pub(super) accounts_targeted: u64,
    pub(super) failures: u64,
    pub(super) first_failure: String,
    pub(super) last_failure: String,
    pub(super) user_id: Option<String>,
    pub(super) user_principal_name: Option<String>,
    pub(super) success_time: Option<String>,
    pub(super) success_result: Option<String>,
    pub(super) success_id: Option<String>,
    pub(super) success_blob: Option<String>,
    pub(super) success_line: Option<u64>,
}

#[derive(Debug, Deserialize)]
pub(super) struct ProfileRow {
    pub(super) user: String,
    pub(super) client_address: String,
    pub(super) calls: u64,
    pub(super) first_call: String,
    pub(super) last_call: String,
    pub(super) offhours_calls: u64,
    pub(super) new_tools: u64,
    pub(super) new_for_user: bool,
    pub(super) new_for_org: bool,
    pub(super) country: Option<String>,
    pub(super) new_country: bool,
    pub(super) spray_source: bool,
    pub(super) attacker: bool,
}

#[derive(Debug, Deserialize)]
pub(super) struct SessionProfileRow {
    pub(super) user: String,
    pub(super) session: String,
    pub(super) derived: bool,
    pub(super) client_address: Option<String>,
    pub(super) first_call: String,
    pub(super) last_call: String,
    pub(super) calls: u64,
    pub(super) customers: u64,
    pub(super) baseline_max_customers: u64,
    pub(super) wide_calls: u64,
    pub(super) new_hosts: Option<Vec<Option<String>>>,
    pub(super) new_destinations: Option<Vec<Option<String>>>,
    pub(super) reach: bool,
    pub(super) egress: bool,
    pub(super) access: bool,
    /// Attacker by sending to a destination this identity's attacker sessions sent to.
    #[serde(default)]
    pub(super) shared_destination: bool,
    pub(super) attacker: bool,
}

#[derive(Debug, Deserialize)]
pub(super) struct SuspectRow {
    pub(super) user: String,
    pub(super) user_id: Option<String>,
    pub(super) tool_calls: u64,
    pub(super) first_seen: Option<String>,
    pub(super) last_seen: Option<String>,
    pub(super) call_ips: Option<Vec<Option<String>>>,
    pub(super) spray_ips: Option<Vec<Option<String>>>,
    pub(super) attacker_days: u64,
    pub(super) baseline_calls_per_day: Option<f64>,
    #[serde(default)]
    pub(super) kind: Option<String>,
    #[serde(default)]
    pub(super) agent_type: Option<String>,
    #[serde(default)]
    pub(super) agent_parent: Option<String>,
    #[serde(default)]
    pub(super) agent_app: Option<String>,
    #[serde(default)]
    pub(super) acting_agent: Option<String>,
}

/// The verdict, adding to the coverage statements why an empty answer is inconclusive.
pub(super) fn verdict(
    suspects: &[Suspect],
    server: &[ServerCompromise],
    coverage: &mut Coverage,
) -> Verdict {
    if !suspects.is_empty() {
        return Verdict::SuspectsFound;
    }
    if !server.is_empty() {
        return Verdict::ServerCompromiseFound;
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
        missing.push("there is no MCP tool-call telemetry (AppRequests, AppDependencies, ApiManagementGatewayMCPLog) in the window, so who called which tool cannot be told".into());
    }
    if records(&everything, false) == 0 {
        missing.push("there is no evidence at all in the baseline, so nothing can be judged new or unusual (only sprays and indicators could name anyone)".into());
    }
    // Sampled call telemetry: an attacker's calls may be among the operations not kept.
    for sampled in coverage
        .sampling
        .iter()
        .filter(|s| calls.contains(&s.table_name.as_str()) && s.events > s.rows)
    {
        missing.push(format!(
            "{} is sampled ({} rows stand for {} events, up to {} each), so an attacker's calls may be among those not kept",
            sampled.table_name, sampled.rows, sampled.events, sampled.max_item_count
        ));
    }
    if missing.is_empty() {
        return Verdict::NothingFound;
    }
    coverage.statements.insert(
        0,
        format!(
            "Inconclusive: no suspect was found, but {}. Ingest the missing evidence (or widen --since / --baseline-days) before concluding that nothing happened.",
            missing.join("; and ")
        ),
    );
    Verdict::Inconclusive
}

/// What the report says when the server itself copied data out.
pub(super) fn server_statement(
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

pub(super) fn session_reason(profile: &SessionProfileRow, calls: &[AttackerCall]) -> String {
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
            "it sent to a destination this identity's attacker sessions also sent to (new in the window, reached by no other identity), or came from the address of one of them that is new to the organisation and never signed in interactively: the same campaign".into(),
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

pub(super) fn suspect(
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
    // A subscription key identifies the caller only where nothing else does: the ordinary client
    // subscription an identified user calls through is not the credential they abused.
    let credentials: BTreeSet<String> = calls
        .iter()
        .filter(|c| c.user == row.user && row.user == "(anonymous)")
        .filter_map(|c| c.apim_subscription_id.as_deref())
        .filter(|id| !id.is_empty())
        .map(|id| format!("API Management subscription {id}"))
        .collect();
    for credential in &credentials {
        reasons.push(format!(
            "its attacker calls carried the key of {credential}: revoke it (regenerate the keys)"
        ));
    }
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
        credentials: credentials.into_iter().collect(),
        kind: row.kind.clone(),
        agent: (row.kind.as_deref() == Some("agent")).then(|| AgentIdentity {
            agent_type: row.agent_type.clone(),
            parent: row.agent_parent.clone(),
            app: row.agent_app.clone(),
        }),
        acting_agent: row.acting_agent.clone(),
        model_use: model_use(sessions.iter().filter(|s| s.user == row.user)),
    }
}

/// An identity's model calls in its attacker sessions against its own; `None` when none of its
/// sessions holds one.
fn model_use<'a>(sessions: impl Iterator<Item = &'a Session>) -> Option<ModelUse> {
    let mut using = ModelUse {
        attacker_sessions: 0,
        attacker_calls: 0,
        attacker_tokens: 0,
        own_sessions: 0,
        own_calls: 0,
        own_tokens: 0,
    };
    for session in sessions {
        let (count, calls, tokens) = if session.attacker {
            (
                &mut using.attacker_sessions,
                &mut using.attacker_calls,
                &mut using.attacker_tokens,
            )
        } else {
            (
                &mut using.own_sessions,
                &mut using.own_calls,
                &mut using.own_tokens,
            )
        };
        *count += 1;
        *calls += session.model_calls;
        *tokens += session.model_tokens;
    }
    (using.attacker_calls + using.own_calls > 0).then_some(using)
}

pub(super) fn spray_summary(rows: &[SprayRow]) -> Vec<SpraySource> {
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
