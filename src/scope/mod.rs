//! Breach scoping: runs the query pack over a case and assembles the typed scope report.
//!
//! The analysis is SQL (`queries/*.sql`); this module binds the window, reads the results,
//! words each suspect's reasons from the evidence rows, and finds coverage gaps in the hourly
//! volumes against the baseline. It returns a typed report and prints nothing: the report's
//! formats are `crate::report::scope_report`'s.

use std::collections::{BTreeMap, BTreeSet};

use arrow::record_batch::RecordBatch;
use chrono::{DateTime, Duration, Utc};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::case::Case;
use crate::query::pack::{EMBEDDED, PackParams};
use crate::query::{QueryEngine, QueryError};
use crate::time::format_utc;

mod coverage;
mod findings;
mod reasons;
pub mod window;

use coverage::{CallAddressRow, HourRow, address_statements, coverage, missing_sources};
pub use findings::*;
use reasons::{
    ProfileRow, SessionProfileRow, SprayRow, SuspectRow, server_statement, spray_summary, suspect,
    verdict,
};

/// One query of a scope run (defined with the session that measures it).
pub use crate::query::QueryTiming;

/// Runs the scope over a case.
pub async fn scope(case: &Case, request: &ScopeRequest) -> Result<ScopeReport, QueryError> {
    scope_with_timings(case, request)
        .await
        .map(|(report, _)| report)
}

/// Runs the scope over a case, and says how long each query took. The window widens to the
/// breach's first evidence: whatever a run attributes to the attacker is looked up before its
/// window, and where it occurs earlier (in a run of sightings that reaches the window) the scope
/// runs again from there, at most [`window::MAX_MOVES`] times. When the window asked for finds
/// nothing, the scope from the evidence's first days (`--since auto`) is tried, and taken when it
/// finds a breach that began before the window asked for.
pub async fn scope_with_timings(
    case: &Case,
    request: &ScopeRequest,
) -> Result<(ScopeReport, Vec<QueryTiming>), QueryError> {
    let requested = request.params;
    let baseline = requested.since - requested.baseline_start;
    let (evidence_start, _) = case.evidence_span()?;
    let mut params = requested;
    let (mut report, mut timings) = scope_once(case, request, params, Pass::Full).await?;
    // Whether `report` holds the affected customers of its window (a probe's report does not).
    let mut report_is_full = true;
    let mut moved_by: Vec<window::WindowMove> = Vec::new();
    // The scope from the evidence's first days (what --since auto runs), when the start asked
    // for is later: what it attributes to the attacker is looked up before the window too, so a
    // guess that put the breach's first days in the baseline (where its addresses and
    // destinations look known) still finds them.
    let auto = crate::time::auto_since(
        evidence_start,
        requested.until,
        u32::try_from(baseline.num_days()).unwrap_or(14),
    );
    let mut probe_artifacts = BTreeMap::new();
    if request.method != "auto" && auto + Duration::days(1) < requested.since {
        let earlier = PackParams {
            since: auto,
            until: requested.until,
            baseline_start: auto - baseline,
        };
        let probe = probe_window(earlier, requested);
        let (found, more) = scope_once(case, request, probe, Pass::Probe).await?;
        timings.extend(more);
        probe_artifacts = window::artifacts(&found);
        let first = first_activity(&found);
        // Nothing attributed in the window asked for (found nothing, or inconclusive).
        if report.suspects.is_empty()
            && report.server_compromise.is_empty()
            && let Some(first) = first.filter(|f| *f < requested.since)
        {
            moved_by.push(window::WindowMove {
                artifact: "(the whole evidence)".into(),
                kind: "nothing found from the start asked for; scoped from the evidence's first days instead".into(),
                first_seen: format_utc(first),
                record: "the scope from --since auto".into(),
            });
            params = earlier;
            report = found;
            report_is_full = false;
        }
    }
    let mut iterations = 0;
    let mut bounded = false;
    loop {
        let mut found = window::artifacts(&report);
        for (artifact, kind) in &probe_artifacts {
            found
                .entry(artifact.clone())
                .or_insert_with(|| kind.clone());
        }
        let earlier = window::earlier_evidence(
            case,
            &found,
            (params.since, params.until),
            &request.settings,
        )
        .await?;
        let Some(first) = earlier
            .iter()
            .filter_map(|m| crate::time::parse_timestamp(&m.first_seen))
            .min()
        else {
            break;
        };
        let since = window::start_before(first).max(evidence_start.min(params.since));
        if since >= params.since {
            break;
        }
        if iterations == window::MAX_MOVES {
            bounded = true;
            break;
        }
        moved_by.extend(earlier);
        params = PackParams {
            since,
            until: params.until,
            baseline_start: since - baseline,
        };
        let (next, more) = scope_once(case, request, params, Pass::Probe).await?;
        timings.extend(more);
        report = next;
        report_is_full = false;
        iterations += 1;
    }
    if !report_is_full {
        let (full, more) = scope_once(case, request, params, Pass::Full).await?;
        timings.extend(more);
        report = full;
    }
    let span = |p: PackParams| window::WindowSpan {
        since: format_utc(p.since),
        until: format_utc(p.until),
        baseline_start: format_utc(p.baseline_start),
    };
    let spray_start = report
        .spray_sources
        .iter()
        .filter_map(|s| crate::time::parse_timestamp(&s.first_failure))
        .min();
    let first_activity = first_activity(&report).into_iter().chain(spray_start).min();
    let reaches_evidence_start =
        first_activity.is_some_and(|f| f - evidence_start < Duration::days(1));
    if reaches_evidence_start {
        report.coverage.statements.push(format!(
            "The breach's first evidence ({}) lies in the first day of the evidence the case holds (from {}): it may have begun before the oldest blob. Retention limits what this report can show; earlier activity cannot be excluded.",
            first_activity.map(format_utc).unwrap_or_default(),
            format_utc(evidence_start)
        ));
    }
    if !moved_by.is_empty() {
        report.coverage.statements.push(format!(
            "The window asked for began {}; what it attributes to the attacker occurs earlier ({}), so the breach is scoped from {} with the baseline before that.",
            format_utc(requested.since),
            moved_by
                .iter()
                .take(3)
                .map(|m| format!("{} {} from {}", m.kind, m.artifact, m.first_seen))
                .collect::<Vec<_>>()
                .join("; "),
            format_utc(params.since)
        ));
    }
    if bounded {
        report.coverage.statements.push(format!(
            "The window moved {} times and earlier evidence was still to follow: the breach may have begun before {}.",
            window::MAX_MOVES,
            format_utc(params.since)
        ));
    }
    report.window = window::WindowReport {
        requested: span(requested),
        scoped: span(params),
        method: request.method.clone(),
        moved_by,
        iterations,
        bounded,
        evidence_start: format_utc(evidence_start),
        reaches_evidence_start,
    };
    Ok((report, timings))
}

/// The probe's window, from the evidence's first days (`earlier`): it looks for a breach that began
/// before the start asked for, so it ends a day after that start (what began before it, and the
/// sessions it was part of), not at the window's end, which the report's own run has just scoped.
fn probe_window(earlier: PackParams, requested: PackParams) -> PackParams {
    PackParams {
        until: (requested.since + Duration::days(1)).min(requested.until),
        ..earlier
    }
}

/// The report's first attacker call or implant flow.
fn first_activity(report: &ScopeReport) -> Option<DateTime<Utc>> {
    report
        .attacker_calls
        .iter()
        .map(|c| c.time.as_str())
        .chain(report.server_compromise.iter().map(|f| f.first.as_str()))
        .filter_map(crate::time::parse_timestamp)
        .min()
}

/// What a run of the pack is for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pass {
    /// The report's own run: every finding.
    Full,
    /// A run that only looks for what the attacker used and when it began, to move the window:
    /// what no widening rule reads is left out (the affected customers, the costliest query when
    /// a server is compromised; the resources touched, the coverage's queries, lateral movement).
    Probe,
}

/// One run of the pack over one window.
// Long: the pack's steps in the order their results feed each other, from the window's calls
// to the typed report.
async fn scope_once(
    case: &Case,
    request: &ScopeRequest,
    params: PackParams,
    pass: Pass,
) -> Result<(ScopeReport, Vec<QueryTiming>), QueryError> {
    let ioc_pairs: Vec<(String, String)> = request
        .iocs
        .iter()
        .map(|i| (i.kind.clone(), i.value.clone()))
        .collect();
    let window = (!request.all_days).then(|| params.day_window());
    let engine = QueryEngine::open_windowed(case, &ioc_pairs, window, &request.settings).await?;
    let params = &params;
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
    // Every session of the window is profiled, but only the attacker's are reported: typed rows
    // for those alone (at 5 GB, 283,149 sessions took half a second to convert).
    run("session_profiles").await?;
    let session_profiles: Vec<SessionProfileRow> = rows(
        "session_profiles",
        &engine
            .sql("SELECT * FROM session_profiles WHERE attacker")
            .await?
            .1,
    )?;
    let server_compromise: Vec<ServerCompromise> =
        rows("server_compromise", &run("server_compromise").await?)?;
    let management_access: Vec<ManagementAccess> =
        rows("management_access", &run("management_access").await?)?;
    let ioc_sightings: Vec<IocSighting> = rows("ioc_sightings", &run("ioc_sightings").await?)?;
    let calls: Vec<AttackerCall> = rows("attacker_calls", &run("attacker_calls").await?)?;
    let suspect_rows: Vec<SuspectRow> = rows("suspects", &run("suspects").await?)?;
    let sessions: Vec<Session> = rows("sessions", &run("sessions").await?)?;
    let persistence: Vec<Persistence> = rows("persistence", &run("persistence").await?)?;
    let exfiltration: Vec<Exfiltration> = rows("exfiltration", &run("exfiltration").await?)?;
    // What only the report's own run reads: the affected customers (the costliest query when a
    // server is compromised), the resources, the coverage (hours, sampling, caller addresses) and
    // lateral movement. A probe's report is never shown; only its attacker's artifacts and first
    // activity are read.
    let full = pass == Pass::Full;
    let report_only = |name: &'static str| {
        let run = &run;
        async move {
            if full {
                run(name).await
            } else {
                Ok(Vec::new())
            }
        }
    };
    let affected_customers: Vec<AffectedCustomer> = rows(
        "affected_customers",
        &report_only("affected_customers").await?,
    )?;
    let resources: Vec<Resource> = rows(
        "resources_touched",
        &report_only("resources_touched").await?,
    )?;
    let hourly: Vec<HourRow> = rows("hourly_volume", &report_only("hourly_volume").await?)?;
    let sampling: Vec<Sampling> = rows("sampling", &report_only("sampling").await?)?;
    let sampled_calls: Vec<SampledCalls> =
        rows("sampled_calls", &report_only("sampled_calls").await?)?;
    let call_addresses: Vec<CallAddressRow> =
        rows("call_addresses", &report_only("call_addresses").await?)?;

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
    evidence.call_index = engine.call_index().map(str::to_string);
    evidence.days_read = reads.window.map(|w| {
        [
            w.first.format("%Y-%m-%d").to_string(),
            w.last.format("%Y-%m-%d").to_string(),
        ]
    });
    let lateral_movement = if full {
        lateral_movement(&engine, params, (&server_compromise, &suspects, &sprays)).await?
    } else {
        Vec::new()
    };
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
        lateral_movement,
        ioc_sightings,
        window: window::WindowReport::default(),
        coverage,
        sigma: None,
    };
    Ok((report, engine.timings()))
}

/// Lateral movement: the window's new east-west connections on management or database ports
/// (`network_east_west`) that start from an MCP host when the server finding names it
/// compromised, or from an address the report attributes to the attacker. Run only when there is
/// such a source: an ordinary scope pays nothing for it. A new connection from any other internal
/// host (an administrator's workstation reaching a database) is the overview's to show, not an
/// accusation.
async fn lateral_movement(
    engine: &QueryEngine,
    params: &PackParams,
    (server, suspects, sprays): (&[ServerCompromise], &[Suspect], &[SprayRow]),
) -> Result<Vec<LateralMovement>, QueryError> {
    let compromised: BTreeSet<&str> = server.iter().map(|f| f.host.as_str()).collect();
    let attacker: BTreeSet<&str> = suspects
        .iter()
        .flat_map(|s| s.ips.iter().map(String::as_str))
        .chain(sprays.iter().map(|s| s.ip.as_str()))
        .collect();
    let internal = |ip: &str| {
        ip.parse::<std::net::Ipv4Addr>()
            .is_ok_and(|a| a.is_private())
    };
    if compromised.is_empty() && !attacker.iter().any(|ip| internal(ip)) {
        return Ok(Vec::new());
    }
    let (_, batches) = engine.run_pack("network_east_west", params).await?;
    let rows: Vec<EastWestRow> = rows("network_east_west", &batches)?;
    Ok(rows
        .into_iter()
        .filter(|r| r.new_in_window && r.management_or_database_port)
        .filter_map(|r| {
            let source = if r.from_mcp_host && compromised.contains(r.src_ip.as_str()) {
                "compromised MCP host"
            } else if attacker.contains(r.src_ip.as_str()) {
                "attacker address"
            } else {
                return None;
            };
            Some(LateralMovement {
                source_ip: r.src_ip,
                source: source.into(),
                destination_ip: r.dst_ip,
                port: r.dst_port,
                flows: r.flows,
                first: r.first_flow,
            })
        })
        .collect())
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
        case: case.location(),
        manifest_sha256,
        blobs: case.summary()?.blobs,
        tool_version: env!("CARGO_PKG_VERSION").into(),
        query_pack_sha256: hex::encode(Sha256::digest(listing.as_bytes())),
        queries,
        case_files: 0,
        case_files_read: 0,
        call_index: None,
        days_read: None,
        case_files_missing: Vec::new(),
        case_files_unlisted: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        crate::time::parse_timestamp(text).expect("timestamp")
    }

    /// The probe runs from the evidence's first days to a day after the start asked for, never
    /// past the window's end, with the baseline before its own start.
    #[test]
    fn the_probe_ends_a_day_after_the_start_asked_for() {
        let earlier = PackParams {
            since: at("2026-06-15T00:00:00Z"),
            until: at("2026-08-30T00:00:00Z"),
            baseline_start: at("2026-06-01T00:00:00Z"),
        };
        let requested = PackParams {
            since: at("2026-07-16T00:00:00Z"),
            until: at("2026-08-30T00:00:00Z"),
            baseline_start: at("2026-07-02T00:00:00Z"),
        };
        let probe = probe_window(earlier, requested);
        assert_eq!(probe.since, earlier.since);
        assert_eq!(probe.baseline_start, earlier.baseline_start);
        assert_eq!(probe.until, at("2026-07-17T00:00:00Z"));
        let short = PackParams {
            until: at("2026-07-16T12:00:00Z"),
            ..requested
        };
        assert_eq!(probe_window(earlier, short).until, short.until);
    }
}
