//! The window that finds where the breach began: whatever a scope attributes to the attacker is
//! looked up through all the evidence before the window, and the window widens to its first
//! occurrence (docs/scope-report.md, "The window").

use std::collections::{BTreeMap, BTreeSet};

use arrow::array::Array;
use chrono::{DateTime, Duration, Timelike, Utc};

use super::findings::ScopeReport;
pub use super::findings::{WindowMove, WindowReport, WindowSpan};
use crate::case::Case;
use crate::query::{QueryEngine, QueryError, QuerySettings};
use crate::time::format_utc;

/// The longest quiet spell allowed within an attacker's run of evidence: an earlier sighting
/// separated from the window by a longer one (an innocent who used a shared cloud address weeks
/// before, a service that was legitimate before the breach) is not the breach.
pub const MAX_GAP: Duration = Duration::days(3);

/// How many times the window may move before the scope stops widening (and says so).
pub const MAX_MOVES: u32 = 4;

/// What a report attributes to the attacker, by what each is.
pub fn artifacts(report: &ScopeReport) -> BTreeMap<String, String> {
    let mut found = BTreeMap::new();
    let mut add = |value: &str, kind: &str| {
        if !value.is_empty() {
            found
                .entry(value.to_string())
                .or_insert_with(|| kind.to_string());
        }
    };
    for spray in report
        .spray_sources
        .iter()
        .filter(|s| !s.compromised.is_empty())
    {
        add(&spray.ip, "spray source");
    }
    // The attacker's own addresses only: a steered agent's usual address is its everyday one.
    // Indicators the responder gave are looked for where they occur (`ioc_sightings`), but what
    // only they chose does not move the window: the tool widens on what it attributes itself.
    for call in report
        .attacker_calls
        .iter()
        .filter(|c| c.attacker_address && c.basis != "ioc")
    {
        if let Some(address) = &call.client_address {
            add(address, "attacker address");
        }
    }
    for change in &report.persistence {
        if let Some(address) = &change.initiated_by_ip {
            add(address, "persistence from");
        }
    }
    for access in &report.management_access {
        add(&access.source_ip, "management access from");
    }
    // An address only indicator-chosen calls came from is the indicator's too: the responses sent
    // to it are a path out that the tool did not find by itself.
    let addresses = |indicator: bool| -> BTreeSet<&str> {
        report
            .attacker_calls
            .iter()
            .filter(|c| (c.basis == "ioc") == indicator)
            .filter_map(|c| c.client_address.as_deref())
            .collect()
    };
    let chosen_only: BTreeSet<&str> = addresses(true)
        .difference(&addresses(false))
        .copied()
        .collect();
    for path in report.exfiltration.iter().filter(|p| {
        !p.path.contains("(--ioc-ip)") && !chosen_only.contains(p.destination_ip.as_str())
    }) {
        add(&path.destination_ip, "destination");
        if let Some(host) = &path.destination_host {
            add(host, "destination host");
        }
    }
    for finding in &report.server_compromise {
        add(&finding.destination_ip, "implant destination");
    }
    found
}

/// One sighting of an artifact.
struct Sighting {
    time: DateTime<Utc>,
    record: String,
}

/// The first evidence before `since` of each artifact, in the run of sightings that reaches its
/// first sighting in the window (or the window's start) without a quiet spell longer than
/// [`MAX_GAP`]; the earliest first. `(since, until)` is the window.
// Long: one lookup per kind of artifact (addresses, destinations, hosts, fingerprints), each
// its SQL and its run of sightings.
pub async fn earlier_evidence(
    case: &Case,
    found: &BTreeMap<String, String>,
    (since, until): (DateTime<Utc>, DateTime<Utc>),
    settings: &QuerySettings,
) -> Result<Vec<WindowMove>, QueryError> {
    if found.is_empty() {
        return Ok(Vec::new());
    }
    let engine = QueryEngine::open_windowed(case, &[], None, settings).await?;
    let fingerprints = sign_in_fingerprints(&engine, found, since, until).await?;
    let list = |values: &mut dyn Iterator<Item = &String>| -> String {
        let quoted: Vec<String> = values
            .map(|v| format!("'{}'", v.replace('\'', "''")))
            .collect();
        if quoted.is_empty() {
            "NULL".to_string()
        } else {
            quoted.join(", ")
        }
    };
    let hosts = list(&mut found.keys().filter(|v| !looks_like_address(v)));
    let agents = list(&mut fingerprints.keys());
    let accounts = list(&mut fingerprints.values().flatten());
    let addresses = list(&mut found.keys().filter(|v| looks_like_address(v)));
    let at = sql_time(since);
    // The sightings on one side of `since`: `when` is the time condition.
    let record = "table_name || ' ' || _blob || ':' || CAST(_line AS VARCHAR)";
    let union = |when: &str| -> String {
        let signins = [
        "SigninLogs",
        "AADNonInteractiveUserSignInLogs",
        "AADServicePrincipalSignInLogs",
        "AADManagedIdentitySignInLogs",
    ]
    .iter()
    .filter(|t| engine.tables().iter().any(|i| i.name == **t))
    .map(|t| {
        format!(
            "SELECT \"IPAddress\" AS artifact, \"TimeGenerated\" AS time, '{t}' AS table_name, _blob, _line FROM \"{t}\" WHERE \"IPAddress\" IN ({addresses}) AND \"TimeGenerated\" {when}"
        )
    })
    .collect::<Vec<_>>();
        let mut parts = vec![
            format!(
                "SELECT client_address AS artifact, time, 'tool call' AS table_name, _blob, _line FROM tool_calls WHERE client_address IN ({addresses}) AND time {when}"
            ),
            format!(
                "SELECT src_ip, time, 'flow from', _blob, _line FROM flows WHERE src_ip IN ({addresses}) AND time {when}"
            ),
            format!(
                "SELECT dst_ip, time, 'flow to', _blob, _line FROM flows WHERE dst_ip IN ({addresses}) AND direction = 'O' AND decision = 'A' AND time {when}"
            ),
            format!(
                "SELECT \"CallerIpAddress\", \"TimeGenerated\", 'API Management caller', _blob, _line FROM \"ApiManagementGatewayLogs\" WHERE \"CallerIpAddress\" IN ({addresses}) AND \"TimeGenerated\" {when}"
            ),
            format!(
                "SELECT target_host(\"Target\"), \"TimeGenerated\", 'dependency', _blob, _line FROM \"AppDependencies\" WHERE target_host(\"Target\") IN ({hosts}) AND \"TimeGenerated\" {when}"
            ),
        ];
        parts.extend(signins);
        if !fingerprints.is_empty() {
            parts.extend(
                USER_AGENT_TABLES
                    .iter()
                    .filter(|t| engine.tables().iter().any(|i| i.name == **t))
                    .map(|t| format!(
                        "SELECT \"UserAgent\", \"TimeGenerated\", '{t} (user agent)', _blob, _line FROM \"{t}\" WHERE \"UserAgent\" IN ({agents}) AND lower(\"UserPrincipalName\") IN ({accounts}) AND \"TimeGenerated\" {when}"
                    )),
            );
        }
        parts.join(" UNION ALL ")
    };
    let sql = format!(
        "SELECT artifact, CAST(to_unixtime(time) * 1000 AS BIGINT) AS millis, {record} AS record FROM ({}) sightings WHERE time IS NOT NULL ORDER BY artifact, time DESC",
        union(&format!("< {at}"))
    );
    // Each artifact's first sighting from `since` on: its run back is measured from there (an
    // artifact first seen a week into the window does not reach back from the window's start).
    let first_sql = format!(
        "SELECT artifact, CAST(to_unixtime(min(time)) * 1000 AS BIGINT) AS millis FROM ({}) sightings WHERE time IS NOT NULL GROUP BY artifact",
        union(&format!(">= {at}"))
    );
    let mut first_in_window: BTreeMap<String, DateTime<Utc>> = BTreeMap::new();
    let (_, first_batches) = engine.sql(&first_sql).await?;
    for batch in &first_batches {
        let artifacts = arrow::compute::cast(batch.column(0), &arrow::datatypes::DataType::Utf8)
            .map_err(|e| QueryError::Pack(format!("reading earlier evidence: {e}")))?;
        let millis = arrow::compute::cast(batch.column(1), &arrow::datatypes::DataType::Int64)
            .map_err(|e| QueryError::Pack(format!("reading earlier evidence: {e}")))?;
        let (Some(artifacts), Some(millis)) = (
            artifacts
                .as_any()
                .downcast_ref::<arrow::array::StringArray>(),
            millis.as_any().downcast_ref::<arrow::array::Int64Array>(),
        ) else {
            continue;
        };
        for row in 0..batch.num_rows() {
            if artifacts.is_null(row) || millis.is_null(row) {
                continue;
            }
            if let Some(time) = DateTime::from_timestamp_millis(millis.value(row)) {
                first_in_window.insert(artifacts.value(row).to_string(), time);
            }
        }
    }
    let (_, batches) = engine.sql(&sql).await?;
    let mut sightings: BTreeMap<String, Vec<Sighting>> = BTreeMap::new();
    for batch in &batches {
        let cast = |i: usize, to: &arrow::datatypes::DataType| {
            arrow::compute::cast(batch.column(i), to)
                .map_err(|e| QueryError::Pack(format!("reading earlier evidence: {e}")))
        };
        let artifacts = cast(0, &arrow::datatypes::DataType::Utf8)?;
        let records = cast(2, &arrow::datatypes::DataType::Utf8)?;
        let millis = cast(1, &arrow::datatypes::DataType::Int64)?;
        let (Some(artifacts), Some(records), Some(millis)) = (
            artifacts
                .as_any()
                .downcast_ref::<arrow::array::StringArray>(),
            records.as_any().downcast_ref::<arrow::array::StringArray>(),
            millis.as_any().downcast_ref::<arrow::array::Int64Array>(),
        ) else {
            continue;
        };
        for row in 0..batch.num_rows() {
            if artifacts.is_null(row) || millis.is_null(row) {
                continue;
            }
            let Some(time) = DateTime::from_timestamp_millis(millis.value(row)) else {
                continue;
            };
            sightings
                .entry(artifacts.value(row).to_string())
                .or_default()
                .push(Sighting {
                    time,
                    record: if records.is_null(row) {
                        String::new()
                    } else {
                        records.value(row).to_string()
                    },
                });
        }
    }
    let mut moves = Vec::new();
    for (artifact, mut seen) in sightings {
        let reach = first_in_window.get(&artifact).copied().unwrap_or(since);
        if let Some(first) = first_in_run(&mut seen, reach) {
            let kind = match found.get(&artifact) {
                Some(kind) => kind.clone(),
                None => format!(
                    "session fingerprint: the user agent of the attacker's sign-ins to {}",
                    fingerprints
                        .get(&artifact)
                        .map(|a| a.join(", "))
                        .unwrap_or_default()
                ),
            };
            moves.push(WindowMove {
                kind,
                artifact,
                first_seen: format_utc(first.time),
                record: first.record.clone(),
            });
        }
    }
    moves.sort_by(|a, b| {
        a.first_seen
            .cmp(&b.first_seen)
            .then_with(|| a.artifact.cmp(&b.artifact))
    });
    Ok(moves)
}

/// The user-agent tables of Entra's user sign-ins (the service-principal tables have none).
const USER_AGENT_TABLES: [&str; 2] = ["SigninLogs", "AADNonInteractiveUserSignInLogs"];

/// Session fingerprints of the window: each user agent of user sign-ins in the window that came
/// only from the attacker's addresses (`found`'s attacker addresses and spray sources), with the
/// accounts (lower-case) it signed in to. A user agent anyone else used in the window is nobody's
/// fingerprint; its earlier use is looked up for those accounts only.
async fn sign_in_fingerprints(
    engine: &QueryEngine,
    found: &BTreeMap<String, String>,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<BTreeMap<String, Vec<String>>, QueryError> {
    let attacker: Vec<String> = found
        .iter()
        .filter(|(value, kind)| {
            looks_like_address(value)
                && matches!(kind.as_str(), "attacker address" | "spray source")
        })
        .map(|(value, _)| format!("'{}'", value.replace('\'', "''")))
        .collect();
    let tables: Vec<String> = USER_AGENT_TABLES
        .iter()
        .filter(|t| engine.tables().iter().any(|i| i.name == **t))
        .map(|t| {
            format!(
                "SELECT \"UserAgent\" AS agent, lower(\"UserPrincipalName\") AS account, \"IPAddress\" AS address FROM \"{t}\" WHERE \"TimeGenerated\" >= {} AND \"TimeGenerated\" < {}",
                sql_time(since),
                sql_time(until)
            )
        })
        .collect();
    let mut fingerprints = BTreeMap::new();
    if attacker.is_empty() || tables.is_empty() {
        return Ok(fingerprints);
    }
    let sql = format!(
        "SELECT agent, account FROM ({}) signins WHERE agent IS NOT NULL AND agent <> '' AND account IS NOT NULL \
         AND agent IN (SELECT agent FROM ({}) s GROUP BY agent HAVING bool_and(coalesce(address IN ({}), false))) \
         GROUP BY agent, account ORDER BY agent, account",
        tables.join(" UNION ALL "),
        tables.join(" UNION ALL "),
        attacker.join(", ")
    );
    let (_, batches) = engine.sql(&sql).await?;
    for batch in &batches {
        let cast = |i: usize| {
            arrow::compute::cast(batch.column(i), &arrow::datatypes::DataType::Utf8)
                .map_err(|e| QueryError::Pack(format!("reading sign-in fingerprints: {e}")))
        };
        let (agents, accounts) = (cast(0)?, cast(1)?);
        let (Some(agents), Some(accounts)) = (
            agents.as_any().downcast_ref::<arrow::array::StringArray>(),
            accounts
                .as_any()
                .downcast_ref::<arrow::array::StringArray>(),
        ) else {
            continue;
        };
        for row in 0..batch.num_rows() {
            fingerprints
                .entry(agents.value(row).to_string())
                .or_insert_with(Vec::new)
                .push(accounts.value(row).to_string());
        }
    }
    Ok(fingerprints)
}

/// A timestamp literal of `time` (whole seconds).
fn sql_time(time: DateTime<Utc>) -> String {
    format!("TIMESTAMP '{}'", time.format("%Y-%m-%d %H:%M:%S"))
}

/// The earliest of `seen` in the run of sightings that reaches `since` (the artifact's first
/// sighting in the window) back in time without a quiet spell longer than [`MAX_GAP`].
fn first_in_run(seen: &mut [Sighting], since: DateTime<Utc>) -> Option<&Sighting> {
    seen.sort_by(|a, b| b.time.cmp(&a.time).then_with(|| a.record.cmp(&b.record)));
    let mut reach = since;
    let mut first = None;
    for sighting in seen.iter() {
        if reach.signed_duration_since(sighting.time) > MAX_GAP {
            break;
        }
        reach = sighting.time;
        first = Some(sighting);
    }
    first
}

/// The new start of a window moved to `first`: the whole hour before it, so that the first
/// sighting is inside.
pub fn start_before(first: DateTime<Utc>) -> DateTime<Utc> {
    first
        .date_naive()
        .and_hms_opt(first.hour(), 0, 0)
        .map_or(first, |t| t.and_utc())
}

fn looks_like_address(value: &str) -> bool {
    value.parse::<std::net::IpAddr>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_moves_to_the_whole_hour_before_its_first_evidence() {
        let first = crate::time::parse_timestamp("2026-09-27T03:05:09.249Z").expect("time");
        assert_eq!(format_utc(start_before(first)), "2026-09-27T03:00:00Z");
        assert!(looks_like_address("45.86.202.14"));
        assert!(looks_like_address("2001:db8::1"));
        assert!(!looks_like_address("files-drop.example.net"));
    }

    /// The breach's nightly use of an address reaches back to its first night; an innocent's use of
    /// the same (shared cloud) address three weeks earlier, after a long quiet spell, is not the
    /// breach and does not pull the window back.
    #[test]
    fn only_a_run_of_sightings_that_reaches_the_window_moves_it() {
        let at = |t: &str| crate::time::parse_timestamp(t).expect("time");
        let sighting = |t: &str, record: &str| Sighting {
            time: at(t),
            record: record.into(),
        };
        let since = at("2026-10-01T00:00:00Z");
        let mut seen = vec![
            sighting("2026-09-08T14:00:00Z", "innocent, weeks before"),
            sighting("2026-09-27T02:10:00Z", "first night"),
            sighting("2026-09-28T01:40:00Z", "second night"),
            sighting("2026-09-30T03:00:00Z", "fourth night"),
        ];
        let first = first_in_run(&mut seen, since).expect("a run");
        assert_eq!(first.record, "first night");
        let mut stale = vec![sighting("2026-09-20T00:00:00Z", "long before")];
        assert!(first_in_run(&mut stale, since).is_none());
        assert!(first_in_run(&mut [], since).is_none());
    }
}
