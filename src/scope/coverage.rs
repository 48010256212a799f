//! What the evidence cannot show: sources absent or silent, per table and hour against the
//! baseline's own hours, export outages of the App Insights family, and calls without an address.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, Timelike, Utc, Weekday};
use serde::Deserialize;

use super::findings::{Coverage, Gap, Sampling, TableCoverage};
use crate::catalog::{self, Role};
use crate::query::pack::PackParams;
use crate::time::format_utc;

#[derive(Debug, Deserialize)]
pub(super) struct HourRow {
    pub(super) table_name: String,
    pub(super) hour: String,
    pub(super) records: u64,
}

/// What the absence of a source means for the answer, said plainly instead of a bare "absent";
/// and the diagnostic-settings categories the case holds but does not read onto typed tables.
pub(super) fn missing_sources(tables: &[TableCoverage], unread: &[&str]) -> Vec<String> {
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

/// Finds hours in the window with no records where every baseline day of the same kind (weekday
/// or weekend) had records at that hour.
// Long: one statement per kind of gap, in the order the report lists them.
pub(super) fn coverage(
    hourly: &[HourRow],
    sampling: Vec<Sampling>,
    params: &PackParams,
) -> Coverage {
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
    // Baseline days that exist: a day the case holds no evidence of at all (before the oldest
    // blob, or a day no export covers) is not a day on which every table was silent.
    let evidence_days: std::collections::BTreeSet<chrono::NaiveDate> = per_table
        .values()
        .flat_map(|hours| hours.range(params.baseline_start..params.since))
        .filter(|(_, n)| **n > 0)
        .map(|(hour, _)| hour.date_naive())
        .collect();
    let baseline_days: Vec<DateTime<Utc>> = day_starts(params.baseline_start, params.since)
        .into_iter()
        .filter(|d| evidence_days.contains(&d.date_naive()))
        .collect();
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
    // Records are counted per hour: the hour in which a window starting mid-hour begins may hold
    // only records of the window (a window moved to the evidence's first record starts there), so
    // the baseline's evidence is what lies in the hours wholly before the window.
    if per_table.values().all(|hours| {
        hours
            .range(params.baseline_start..hour_floor(params.since))
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
pub(super) fn silent_export_gaps(
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
    // Only baseline days the case holds evidence of (of any source).
    let baseline_days: Vec<DateTime<Utc>> = day_starts(params.baseline_start, params.since)
        .into_iter()
        .filter(|day| {
            (0..24).any(|hour| {
                let t = *day + Duration::hours(hour);
                per_table
                    .values()
                    .any(|h| h.get(&t).is_some_and(|n| *n > 0))
            })
        })
        .collect();
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
pub(super) type Span = (DateTime<Utc>, DateTime<Utc>);

/// Unions overlapping or touching gaps of the same table.
pub(super) fn merge_gaps(gaps: Vec<Gap>) -> Vec<Gap> {
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
pub(super) struct CallAddressRow {
    pub(super) client_address_source: String,
    pub(super) has_address: bool,
    #[serde(default)]
    pub(super) unnamed: bool,
    pub(super) calls: u64,
    #[serde(default)]
    pub(super) first_call: Option<String>,
    #[serde(default)]
    pub(super) last_call: Option<String>,
}

/// What the coverage says about caller addresses: how many calls of the window have none (the
/// signs that compare addresses cannot judge them), and how many took theirs from an HTTP access
/// log by time alone.
pub(super) fn address_statements(rows: &[CallAddressRow]) -> Vec<String> {
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
    let unnamed: Vec<&CallAddressRow> = rows.iter().filter(|r| r.unnamed).collect();
    let unnamed_calls: u64 = unnamed.iter().map(|r| r.calls).sum();
    if unnamed_calls > 0 {
        let first = unnamed.iter().filter_map(|r| r.first_call.as_deref()).min();
        let last = unnamed.iter().filter_map(|r| r.last_call.as_deref()).max();
        statements.push(format!(
            "{unnamed_calls} of {total} tool calls in the window came through API Management with a caller it authenticated (OAuth or a certificate) but without the server's row of the call (an export gap or sampling), from {} to {}: the evidence does not name who made them or what they asked for, so they are attributed to no one; customers they name are listed as cannot_exclude where they fall within the attack.",
            first.unwrap_or("?"),
            last.unwrap_or("?")
        ));
    }
    statements
}

pub(super) fn hour_floor(t: DateTime<Utc>) -> DateTime<Utc> {
    t.date_naive()
        .and_hms_opt(t.hour(), 0, 0)
        .map(|d| d.and_utc())
        .unwrap_or(t)
}

pub(super) fn day_starts(from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<DateTime<Utc>> {
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
            unnamed: false,
            calls,
            first_call: None,
            last_call: None,
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
        let orphaned = CallAddressRow {
            client_address_source: "API Management gateway log".into(),
            has_address: true,
            unnamed: true,
            calls: 4,
            first_call: Some("2026-10-05T06:10:00Z".into()),
            last_call: Some("2026-10-05T12:40:00Z".into()),
        };
        let statements = address_statements(&[row("mcp row", true, 36), orphaned]);
        assert_eq!(statements.len(), 1);
        assert!(statements[0].starts_with("4 of 40 tool calls in the window came through API Management with a caller it authenticated"));
        assert!(statements[0].contains("from 2026-10-05T06:10:00Z to 2026-10-05T12:40:00Z"));
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
