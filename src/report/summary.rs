//! What a report says to a person who reads only its first page: the answer in two sentences,
//! the totals, the attack chain in order (initial access, persistence, collection, exfiltration)
//! and what cannot be excluded. Derived from the report alone, so every format says the same.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::scope::{ScopeReport, Verdict};
use crate::time::{Zone, parse_timestamp};

/// A stage of the attack, in the order an attack runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    /// How the attacker got in.
    InitialAccess,
    /// How access was kept or widened.
    Persistence,
    /// Reaching other internal hosts.
    LateralMovement,
    /// Reading data.
    Collection,
    /// Data leaving.
    Exfiltration,
}

impl Phase {
    /// The phase as a report names it.
    pub fn label(self) -> &'static str {
        match self {
            Phase::InitialAccess => "initial access",
            Phase::Persistence => "persistence",
            Phase::LateralMovement => "lateral movement",
            Phase::Collection => "collection",
            Phase::Exfiltration => "exfiltration",
        }
    }
}

/// One step of the attack chain.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// Its stage.
    pub phase: Phase,
    /// When it started (as in the report).
    pub time: String,
    /// What happened, with figures.
    pub what: String,
    /// The record behind it, when one record is.
    pub evidence: Option<Pointer>,
}

/// A record of the evidence: its blob and line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pointer {
    /// The blob's path.
    pub blob: String,
    /// The line in it.
    pub line: u64,
}

impl Pointer {
    /// The record at `line` of `blob`.
    pub fn new(blob: &str, line: u64) -> Self {
        Self {
            blob: blob.to_string(),
            line,
        }
    }
}

/// The first page of a report.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// What happened, in two sentences.
    pub headline: String,
    /// Totals: label and value.
    pub totals: Vec<(&'static str, String)>,
    /// The attack chain, by phase and then time.
    pub chain: Vec<Step>,
    /// What the evidence cannot show.
    pub cannot_exclude: Vec<String>,
    /// Indicators given on the command line that match nothing the report found.
    pub unmatched_iocs: Vec<String>,
}

/// Bytes with a unit (decimal: 1 KB = 1000 B).
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// At most `shown` items joined by ", ", then "… and N more".
pub fn list_cut(items: &[String], shown: usize) -> String {
    let mut out = items
        .iter()
        .take(shown)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > shown {
        out += &format!(" … and {} more", items.len() - shown);
    }
    out
}

/// At most `max` characters, ending in `…` when cut.
pub fn cut(text: &str, max: usize) -> String {
    if text.chars().nth(max).is_none() {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// A report time for people: `2026-09-30 03:12:22 UTC`, and in `zone` when one is given
/// (`(05:12:22 CEST)`, the offset of that date).
pub fn readable_time(time: &str, zone: Option<Zone>) -> String {
    let Some(t) = parse_timestamp(time) else {
        return time.to_string();
    };
    let utc = t.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    match zone {
        Some(zone) if zone != Zone::Utc => {
            let local = zone.format(t, "%Y-%m-%d %H:%M:%S %:z");
            let name = match zone {
                Zone::Named(tz) => format!(" {}", tz.name()),
                _ => String::new(),
            };
            format!("{utc} ({local}{name})")
        }
        _ => utc,
    }
}

/// Shortens a blob path for reading: container, the time of its folder and file name
/// (`am-apprequests 2026-09-30 04:55 PT05M.json`). Paths without time folders keep their first
/// and last two parts. Reports list every shortened path in full in an appendix.
pub fn short_blob(path: &str) -> String {
    let parts: Vec<&str> = path.split('/').collect();
    if parts.len() <= 3 {
        return path.to_string();
    }
    let value = |key: &str, from: usize| {
        parts[from..]
            .iter()
            .position(|p| p.to_ascii_lowercase().starts_with(key))
            .map(|at| (from + at, &parts[from + at][key.len()..]))
    };
    if let Some((y_at, year)) = value("y=", 0) {
        let fields = value("m=", y_at)
            .and_then(|(m_at, month)| value("d=", m_at).map(|(d_at, day)| (d_at, month, day)));
        if let Some((d_at, month, day)) = fields {
            let hour = value("h=", d_at);
            let minute = hour.and_then(|(h_at, _)| value("m=", h_at));
            let mut when = format!("{year}-{month}-{day}");
            if let Some((_, h)) = hour {
                when += &format!(" {h}:{}", minute.map_or("00", |(_, m)| m));
            }
            return format!("{} {when} {}", parts[0], parts[parts.len() - 1]);
        }
    }
    format!(
        "{}/…/{}/{}",
        parts[0],
        parts[parts.len() - 2],
        parts[parts.len() - 1]
    )
}

/// Where a blob path starts in running text: a container name of an export or an archive.
fn path_start(text: &str, at: usize) -> bool {
    let rest = &text[at..];
    (rest.starts_with("am-") || rest.starts_with("insights-"))
        && (at == 0 || text[..at].ends_with([' ', '(', '[']))
}

/// Running text with every blob path in it shortened ([`short_blob`]); the paths found are
/// added to `cited` (short form → full path).
pub fn shorten_paths(text: &str, cited: &mut BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    while at < text.len() {
        if path_start(text, at) {
            let end = text[at..]
                .find([' ', ')', ']', ',', ';'])
                .map_or(text.len(), |n| at + n);
            let token = &text[at..end];
            // `path:line`: the line stays as written.
            let (path, line) = match token.rsplit_once(':') {
                Some((path, line)) if line.bytes().all(|b| b.is_ascii_digit()) => {
                    (path, Some(line))
                }
                _ => (token, None),
            };
            if path.contains('/') {
                let short = short_blob(path);
                cited.insert(short.clone(), path.to_string());
                out += &short;
                if let Some(line) = line {
                    out.push(':');
                    out += line;
                }
                at = end;
                continue;
            }
        }
        let c = text[at..].chars().next().unwrap_or(' ');
        out.push(c);
        at += c.len_utf8();
    }
    out
}

fn parsed(time: &str) -> Option<DateTime<Utc>> {
    parse_timestamp(time)
}

/// The earliest (or latest) of some report times, as written in the report.
fn extreme<'a>(times: impl Iterator<Item = &'a str>, latest: bool) -> Option<&'a str> {
    let mut best: Option<(DateTime<Utc>, &str)> = None;
    for time in times {
        if let Some(t) = parsed(time) {
            let better = best.is_none_or(|(b, _)| if latest { t > b } else { t < b });
            if better {
                best = Some((t, time));
            }
        }
    }
    best.map(|(_, text)| text)
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The customers of each tier, in tier order.
pub fn tiers(r: &ScopeReport) -> [(&'static str, usize); 4] {
    ["exfiltrated", "accessed", "exposed", "cannot_exclude"].map(|tier| {
        let n = r
            .affected_customers
            .iter()
            .filter(|c| c.tier == tier)
            .count();
        (tier, n)
    })
}

/// A tier in words.
fn tier_words(tier: &str) -> &str {
    match tier {
        "cannot_exclude" => "cannot be excluded",
        other => other,
    }
}

fn tier_phrase(r: &ScopeReport) -> String {
    let parts: Vec<String> = tiers(r)
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(tier, n)| format!("{n} {}", tier_words(tier)))
        .collect();
    parts.join(", ")
}

/// Bytes that left, each byte once: every exfiltration path (which holds what a compromised
/// server copied out), and any destination of a compromised server no path holds.
pub fn bytes_out(r: &ScopeReport) -> u64 {
    r.exfiltration.iter().map(|x| x.bytes).sum::<u64>()
        + r.server_compromise
            .iter()
            .filter(|f| {
                !r.exfiltration.iter().any(|x| {
                    x.destination_ip == f.destination_ip && x.path.starts_with(IMPLANT_PATH)
                })
            })
            .map(|f| f.bytes)
            .sum::<u64>()
}

/// How `exfiltration` opens the path of what a compromised server copied out by itself.
const IMPLANT_PATH: &str = "copied out by the server itself";

fn destinations(r: &ScopeReport) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for x in &r.exfiltration {
        let name = match &x.destination_host {
            Some(host) if !host.is_empty() => format!("{} ({host})", x.destination_ip),
            _ => x.destination_ip.clone(),
        };
        if !out.contains(&name) {
            out.push(name);
        }
    }
    for f in &r.server_compromise {
        if !out.contains(&f.destination_ip) {
            out.push(f.destination_ip.clone());
        }
    }
    out
}

fn headline(
    r: &ScopeReport,
    first: Option<&str>,
    last: Option<&str>,
    zone: Option<Zone>,
) -> String {
    let span = match (first, last) {
        (Some(a), Some(b)) => format!(
            " from {} to {}",
            readable_time(a, zone),
            readable_time(b, zone)
        ),
        _ => String::new(),
    };
    let customers = r.affected_customers.len();
    let out = bytes_out(r);
    let data = if customers == 0 {
        "No customer's data was found touched".to_string()
    } else {
        format!(
            "Data of {} was touched ({})",
            plural(customers, "customer", "customers"),
            tier_phrase(r)
        )
    };
    let gone = if out > 0 {
        format!(
            ", and {} left for {}",
            human_bytes(out),
            plural(destinations(r).len(), "destination", "destinations")
        )
    } else {
        ", and no transfer out was found".to_string()
    };
    if !r.suspects.is_empty() {
        let names: Vec<String> = r.suspects.iter().map(|s| s.user.clone()).collect();
        let server = if r.server_compromise.is_empty() {
            String::new()
        } else {
            " The MCP server itself also copied data out.".to_string()
        };
        format!(
            "The attacker used {} ({}) in {} tool calls{span}. {data}{gone}.{server}",
            plural(r.suspects.len(), "identity", "identities"),
            list_cut(&names, 3),
            r.attacker_calls.len()
        )
    } else if !r.server_compromise.is_empty() {
        format!(
            "The MCP server itself sent data to a destination new in the window{span}; no \
             identity was misused. {data}{gone}."
        )
    } else if r.verdict == Verdict::Inconclusive {
        "Nothing was found, but the evidence cannot show there was nothing to find. The \
         statements under \"What cannot be excluded\" say what is missing."
            .to_string()
    } else {
        format!(
            "No abused identity, compromised server or data leaving was found between {} and {}. \
             Read it with what cannot be excluded below.",
            readable_time(&r.since, zone),
            readable_time(&r.until, zone)
        )
    }
}

fn unmatched_iocs(r: &ScopeReport) -> Vec<String> {
    r.iocs
        .iter()
        .filter(|ioc| {
            let value = ioc.value.as_str();
            let hit = match ioc.kind.as_str() {
                "ip" => {
                    r.ioc_sightings.iter().any(|s| s.value == value)
                        || r.suspects
                            .iter()
                            .any(|s| s.ips.iter().any(|ip| ip == value))
                        || r.attacker_calls
                            .iter()
                            .any(|c| c.client_address.as_deref() == Some(value))
                        || r.exfiltration.iter().any(|x| x.destination_ip == value)
                        || r.spray_sources.iter().any(|s| s.ip == value)
                        || r.persistence
                            .iter()
                            .any(|p| p.initiated_by_ip.as_deref() == Some(value))
                        || r.server_compromise
                            .iter()
                            .any(|f| f.destination_ip == value)
                        || r.management_access.iter().any(|m| m.source_ip == value)
                }
                _ => r.suspects.iter().any(|s| {
                    s.user.eq_ignore_ascii_case(value)
                        || s.user_id
                            .as_deref()
                            .is_some_and(|id| id.eq_ignore_ascii_case(value))
                }),
            };
            !hit
        })
        .map(|ioc| format!("{} {}", ioc.kind, ioc.value))
        .collect()
}

/// What a management or database port is.
fn port_name(port: u64) -> Option<&'static str> {
    Some(match port {
        22 => "SSH",
        445 => "SMB",
        1433 => "SQL Server",
        3306 => "MySQL",
        3389 => "RDP",
        5432 => "PostgreSQL",
        5985 | 5986 => "WinRM",
        6379 => "Redis",
        9200 => "Elasticsearch",
        27017 => "MongoDB",
        _ => return None,
    })
}

/// The chain's lateral movement: each new internal connection from an accused source.
fn lateral_steps(r: &ScopeReport) -> impl Iterator<Item = Step> + '_ {
    r.lateral_movement.iter().map(|l| Step {
        phase: Phase::LateralMovement,
        time: l.first.clone(),
        what: format!(
            "{} ({}) reached {} on port {}{}, new in the window ({})",
            l.source_ip,
            l.source,
            l.destination_ip,
            l.port,
            port_name(l.port)
                .map(|n| format!(" ({n})"))
                .unwrap_or_default(),
            plural(l.flows as usize, "flow", "flows")
        ),
        evidence: None,
    })
}

fn chain(r: &ScopeReport) -> Vec<Step> {
    let mut steps = Vec::new();
    for spray in r.spray_sources.iter().filter(|s| !s.compromised.is_empty()) {
        steps.push(Step {
            phase: Phase::InitialAccess,
            time: spray.first_failure.clone(),
            what: format!(
                "password spray from {}: {} failed sign-ins against {} until {}; then signed in: {}",
                spray.ip,
                spray.failures,
                plural(spray.accounts_targeted as usize, "account", "accounts"),
                spray.last_failure,
                list_cut(&spray.compromised, 5)
            ),
            evidence: None,
        });
    }
    for m in &r.management_access {
        steps.push(Step {
            phase: Phase::InitialAccess,
            time: m.first.clone(),
            what: format!(
                "{} connected to the MCP host {} on management port {} ({} flows, {}) until {}",
                m.source_ip,
                m.host,
                m.port,
                m.flows,
                human_bytes(m.bytes),
                m.last
            ),
            evidence: None,
        });
    }
    for s in &r.suspects {
        if let Some(first) = &s.first_seen {
            steps.push(Step {
                phase: Phase::InitialAccess,
                time: first.clone(),
                what: format!(
                    "first attacker activity as {} from {}",
                    s.user,
                    list_cut(&s.ips, 3)
                ),
                evidence: None,
            });
        }
    }
    for p in &r.persistence {
        steps.push(Step {
            phase: Phase::Persistence,
            time: p.time.clone(),
            what: format!(
                "{} by {} from {}",
                p.activity.as_deref().unwrap_or("directory change"),
                p.initiated_by.as_deref().unwrap_or("?"),
                p.initiated_by_ip.as_deref().unwrap_or("?")
            ),
            evidence: Some(Pointer::new(&p.blob, p.line)),
        });
    }
    steps.extend(lateral_steps(r));
    // Collection: each identity's attacker calls, with its tools by use.
    let mut by_user: BTreeMap<&str, Vec<&crate::scope::AttackerCall>> = BTreeMap::new();
    for call in &r.attacker_calls {
        by_user.entry(call.user.as_str()).or_default().push(call);
    }
    for (user, calls) in by_user {
        let first = extreme(calls.iter().map(|c| c.time.as_str()), false);
        let last = extreme(calls.iter().map(|c| c.time.as_str()), true);
        let mut tools: BTreeMap<&str, usize> = BTreeMap::new();
        for call in &calls {
            *tools
                .entry(call.tool.as_deref().unwrap_or("?"))
                .or_default() += 1;
        }
        let mut tools: Vec<(&str, usize)> = tools.into_iter().collect();
        tools.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let tools: Vec<String> = tools.iter().map(|(t, n)| format!("{t} ×{n}")).collect();
        let earliest = calls
            .iter()
            .find(|c| Some(c.time.as_str()) == first)
            .map(|c| Pointer::new(&c.blob, c.line));
        steps.push(Step {
            phase: Phase::Collection,
            time: first.unwrap_or("?").to_string(),
            what: format!(
                "{} as {} until {}: {}",
                plural(calls.len(), "tool call", "tool calls"),
                user,
                last.unwrap_or("?"),
                list_cut(&tools, 4)
            ),
            evidence: earliest,
        });
    }
    // What the server copied out by itself is told once, as its server finding below.
    for x in r
        .exfiltration
        .iter()
        .filter(|x| !x.path.starts_with(IMPLANT_PATH))
    {
        steps.push(Step {
            phase: Phase::Exfiltration,
            time: x.first.clone().unwrap_or_default(),
            what: format!(
                "{} to {}{} until {}, via {}",
                human_bytes(x.bytes),
                x.destination_ip,
                x.destination_host
                    .as_deref()
                    .filter(|h| !h.is_empty())
                    .map(|h| format!(" ({h})"))
                    .unwrap_or_default(),
                x.last.as_deref().unwrap_or("?"),
                x.path
            ),
            evidence: None,
        });
    }
    for f in &r.server_compromise {
        steps.push(Step {
            phase: Phase::Exfiltration,
            time: f.first.clone(),
            what: format!(
                "the MCP server {} sent {} to {}{} in {} flows until {} ({} within ten minutes after answered calls)",
                f.host,
                human_bytes(f.bytes),
                f.destination_ip,
                f.destination_port.map(|p| format!(":{p}")).unwrap_or_default(),
                f.flows,
                f.last,
                human_bytes(f.following_bytes)
            ),
            evidence: None,
        });
    }
    steps.sort_by(|a, b| {
        a.phase
            .cmp(&b.phase)
            .then_with(|| parsed(&a.time).cmp(&parsed(&b.time)))
    });
    steps
}

/// The first page of `r`; times in the headline also in `zone` when one is given.
pub fn summarise(r: &ScopeReport, zone: Option<Zone>) -> Summary {
    let starts = r
        .spray_sources
        .iter()
        .filter(|s| !s.compromised.is_empty())
        .map(|s| s.first_failure.as_str())
        .chain(r.suspects.iter().filter_map(|s| s.first_seen.as_deref()))
        .chain(r.attacker_calls.iter().map(|c| c.time.as_str()))
        .chain(r.server_compromise.iter().map(|f| f.first.as_str()))
        .chain(r.management_access.iter().map(|m| m.first.as_str()));
    let ends = r
        .suspects
        .iter()
        .filter_map(|s| s.last_seen.as_deref())
        .chain(r.attacker_calls.iter().map(|c| c.time.as_str()))
        .chain(r.exfiltration.iter().filter_map(|x| x.last.as_deref()))
        .chain(r.server_compromise.iter().map(|f| f.last.as_str()));
    let first = extreme(starts, false);
    let last = extreme(ends, true);
    let unseen: u64 = r
        .coverage
        .sampled_attacker_calls
        .iter()
        .map(|s| s.unseen_calls)
        .sum();
    let mut totals = vec![
        (
            "identities abused",
            if r.suspects.is_empty() {
                "none".to_string()
            } else {
                let names: Vec<String> = r.suspects.iter().map(|s| s.user.clone()).collect();
                format!("{} ({})", r.suspects.len(), list_cut(&names, 5))
            },
        ),
        (
            "attacker tool calls",
            if unseen > 0 {
                format!(
                    "{} in the evidence, about {unseen} more not kept by sampling",
                    r.attacker_calls.len()
                )
            } else {
                r.attacker_calls.len().to_string()
            },
        ),
        (
            "customers affected",
            format!(
                "{} ({})",
                r.affected_customers.len(),
                tiers(r)
                    .iter()
                    .map(|(tier, n)| format!("{n} {}", tier_words(tier)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
        (
            "data out",
            if bytes_out(r) == 0 {
                "none found".to_string()
            } else {
                format!(
                    "{} to {}",
                    human_bytes(bytes_out(r)),
                    list_cut(&destinations(r), 4)
                )
            },
        ),
    ];
    let credentials: Vec<String> = r
        .suspects
        .iter()
        .flat_map(|s| s.credentials.iter().cloned())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    if !credentials.is_empty() {
        totals.push(("credentials to revoke", list_cut(&credentials, 4)));
    }
    if !r.server_compromise.is_empty() {
        totals.push((
            "server compromise",
            "yes: the MCP server copied data out by itself".to_string(),
        ));
    }
    if !r.window.moved_by.is_empty() {
        totals.push((
            "window",
            format!(
                "scoped from {} (asked from {}): {}",
                r.window.scoped.since,
                r.window.requested.since,
                list_cut(
                    &r.window
                        .moved_by
                        .iter()
                        .map(|m| format!("{} {} first seen {}", m.kind, m.artifact, m.first_seen))
                        .collect::<Vec<_>>(),
                    3
                )
            ),
        ));
    } else if r.window.method == "auto" {
        totals.push((
            "window",
            format!(
                "found from the evidence (--since auto): from {}, after a baseline of the evidence's first days",
                r.window.scoped.since
            ),
        ));
    }
    totals.push((
        "first attacker activity",
        first.map_or("none".into(), |t| readable_time(t, zone)),
    ));
    totals.push((
        "last attacker activity",
        last.map_or("none".into(), |t| readable_time(t, zone)),
    ));
    let mut cannot_exclude = r.coverage.statements.clone();
    let unsure = tiers(r)[3].1;
    if unsure > 0 {
        cannot_exclude.push(format!(
            "{} named only in evidence that could not be read in full (tier cannot_exclude).",
            plural(unsure, "customer is", "customers are")
        ));
    }
    Summary {
        headline: headline(r, first, last, zone),
        totals,
        chain: chain(r),
        cannot_exclude,
        unmatched_iocs: unmatched_iocs(r),
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        reason = "a test fails loudly where a value is missing"
    )]
    use super::*;

    #[test]
    fn blob_paths_shorten_to_container_time_and_file() {
        let path = "am-apprequests/WorkspaceResourceId=/subscriptions/c9c4/resourcegroups/rg/providers/microsoft.operationalinsights/workspaces/law/y=2026/m=09/d=30/h=04/m=55/PT05M.json";
        assert_eq!(
            short_blob(path),
            "am-apprequests 2026-09-30 04:55 PT05M.json"
        );
        let archive = "insights-logs-signinlogs/tenantId=t/y=2026/m=10/d=01/h=07/m=00/PT1H.json";
        assert_eq!(
            short_blob(archive),
            "insights-logs-signinlogs 2026-10-01 07:00 PT1H.json"
        );
        assert_eq!(short_blob("am-x/1.json"), "am-x/1.json");
        assert_eq!(short_blob("a/b/c/d/e.json"), "a/…/d/e.json");
        let mut cited = BTreeMap::new();
        let text = format!(
            "first call {path}:12; sign-in (am-signinlogs/a/b/y=2026/m=09/d=30/h=03/m=10/PT05M.json:2)"
        );
        assert_eq!(
            shorten_paths(&text, &mut cited),
            "first call am-apprequests 2026-09-30 04:55 PT05M.json:12; sign-in (am-signinlogs 2026-09-30 03:10 PT05M.json:2)"
        );
        assert_eq!(cited.len(), 2);
        assert_eq!(cited["am-apprequests 2026-09-30 04:55 PT05M.json"], path);
        // Words that merely start like a container stay.
        assert_eq!(
            shorten_paths("farm-x and am-none", &mut cited),
            "farm-x and am-none"
        );
    }

    fn empty_report(verdict: &str) -> ScopeReport {
        let report = serde_json::json!({
            "report_version": 2, "verdict": verdict,
            "since": "2026-10-01T00:00:00Z", "until": "2026-10-08T00:00:00Z",
            "baseline_start": "2026-09-17T00:00:00Z",
            "evidence": {"case": "c", "manifest_sha256": "m", "blobs": 1, "tool_version": "0",
                "query_pack_sha256": "q", "queries": {}, "case_files": 1, "case_files_read": 1,
                "days_read": null},
            "iocs": [{"kind": "user", "value": "eve@contoso.com"}],
            "suspects": [], "sessions": [], "attacker_calls": [], "affected_customers": [],
            "resources": [], "exfiltration": [], "spray_sources": [], "persistence": [],
            "server_compromise": [], "management_access": [],
            "coverage": {"tables": [], "gaps": [], "sampling": [], "statements": []}
        });
        serde_json::from_value(report).unwrap()
    }

    #[test]
    fn a_compromised_server_is_told_as_such_and_names_no_one() {
        let mut report = empty_report("server compromise found");
        report
            .server_compromise
            .push(crate::scope::ServerCompromise {
                host: "10.1.0.4".into(),
                destination_ip: "203.0.113.50".into(),
                destination_port: Some(443),
                flows: 40,
                bytes: 5_300_000,
                following_bytes: 5_000_000,
                first: "2026-10-02T03:00:00Z".into(),
                last: "2026-10-06T03:00:00Z".into(),
            });
        report
            .management_access
            .push(crate::scope::ManagementAccess {
                source_ip: "198.51.100.7".into(),
                host: "10.1.0.4".into(),
                port: 22,
                flows: 3,
                bytes: 90_000,
                first: "2026-10-01T22:00:00Z".into(),
                last: "2026-10-01T22:30:00Z".into(),
            });
        let summary = summarise(&report, None);
        assert!(
            summary
                .headline
                .starts_with("The MCP server itself sent data")
                && summary.headline.contains("no identity was misused")
                && summary.headline.contains("5.3 MB left for 1 destination"),
            "{}",
            summary.headline
        );
        assert_eq!(summary.totals[0], ("identities abused", "none".to_string()));
        let phases: Vec<Phase> = summary.chain.iter().map(|s| s.phase).collect();
        assert_eq!(phases, [Phase::InitialAccess, Phase::Exfiltration]);
        assert!(summary.chain[0].what.contains("management port 22"));
        let first = summary
            .totals
            .iter()
            .find(|(l, _)| *l == "first attacker activity");
        assert_eq!(
            first.unwrap().1,
            "2026-10-01 22:00:00 UTC",
            "the SSH session came first"
        );
        assert_eq!(summary.unmatched_iocs, ["user eve@contoso.com"]);
    }

    #[test]
    fn nothing_found_and_inconclusive_say_different_things() {
        let nothing = summarise(&empty_report("nothing found"), None);
        assert!(
            nothing.headline.starts_with("No abused identity"),
            "{}",
            nothing.headline
        );
        assert!(nothing.chain.is_empty());
        let mut blind = empty_report("inconclusive");
        blind
            .coverage
            .statements
            .push("No tool-call telemetry in the window.".into());
        let blind = summarise(&blind, None);
        assert!(
            blind.headline.contains("cannot show there was nothing"),
            "{}",
            blind.headline
        );
        assert_eq!(
            blind.cannot_exclude,
            ["No tool-call telemetry in the window."]
        );
    }

    #[test]
    fn times_bytes_and_lists_read_as_people_write_them() {
        assert_eq!(
            readable_time("2026-09-30T03:12:22.430Z", None),
            "2026-09-30 03:12:22 UTC"
        );
        let berlin = Zone::parse("Europe/Berlin").unwrap();
        assert_eq!(
            readable_time("2026-09-30T03:12:22.430Z", Some(berlin)),
            "2026-09-30 03:12:22 UTC (2026-09-30 05:12:22 +02:00 Europe/Berlin)"
        );
        assert_eq!(
            readable_time("2026-11-30T03:12:22Z", Some(berlin)),
            "2026-11-30 03:12:22 UTC (2026-11-30 04:12:22 +01:00 Europe/Berlin)"
        );
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(25_900_000), "25.9 MB");
        let items: Vec<String> = (1..=7).map(|i| format!("x{i}")).collect();
        assert_eq!(list_cut(&items, 3), "x1, x2, x3 … and 4 more");
        assert_eq!(list_cut(&items[..2], 3), "x1, x2");
    }
}
