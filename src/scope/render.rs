//! The scope report for people and programs: text, JSON, Markdown, one self-contained HTML file,
//! and the affected-customer CSV. Attacker-controlled text is escaped for each medium.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::ScopeReport;
use crate::report::{csv_field, terminal_safe};

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// A readable terminal summary.
    Text,
    /// The full report as JSON (docs/scope-report.md).
    Json,
    /// Markdown.
    Md,
    /// One self-contained HTML file with a timeline chart.
    Html,
}

/// Renders the report.
pub fn render(report: &ScopeReport, format: ReportFormat) -> String {
    render_for_case(report, format, None)
}

/// Renders the report; the commands it suggests name `case` (the report itself never holds a
/// local path, so it is the same on every machine).
pub fn render_for_case(report: &ScopeReport, format: ReportFormat, case: Option<&str>) -> String {
    match format {
        ReportFormat::Json => serde_json::to_string_pretty(report)
            .map(|s| s + "\n")
            .unwrap_or_default(),
        ReportFormat::Text => text(report, case),
        ReportFormat::Md => markdown(report),
        ReportFormat::Html => html(report),
    }
}

/// "N exfiltrated, N accessed, N exposed, N cannot_exclude": the customers of each tier.
fn tier_counts(r: &ScopeReport) -> String {
    ["exfiltrated", "accessed", "exposed", "cannot_exclude"]
        .iter()
        .map(|tier| {
            let n = r
                .affected_customers
                .iter()
                .filter(|c| c.tier == *tier)
                .count();
            format!("{n} {tier}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The `export customers` command that reaches the same case, window, baseline and indicators.
fn export_hint(r: &ScopeReport, case: Option<&str>) -> String {
    let mut command = String::from("mcpforensics export customers");
    if let Some(case) = case {
        command += &format!(" --case {}", shell_quote(case));
    }
    command += &format!(" --since {} --until {}", r.since, r.until);
    let day = |t: &str| chrono::DateTime::parse_from_rfc3339(t).ok();
    if let (Some(since), Some(start)) = (day(&r.since), day(&r.baseline_start)) {
        command += &format!(" --baseline-days {}", (since - start).num_days());
    }
    for ioc in &r.iocs {
        command += &format!(" --ioc-{} {}", ioc.kind, shell_quote(&ioc.value));
    }
    command + " --out affected.csv"
}

/// A word for a POSIX shell: as is when plain, otherwise single-quoted.
fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_./:@=+-,".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

fn human_bytes(bytes: u64) -> String {
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

fn text(r: &ScopeReport, case: Option<&str>) -> String {
    let s = |t: &str| terminal_safe(t);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Breach scope {} … {} (baseline from {})",
        r.since, r.until, r.baseline_start
    );
    let _ = writeln!(
        out,
        "Evidence: case {} · {} blobs · manifest sha256 {} · query pack sha256 {} (mcpforensics {})",
        s(&r.evidence.case),
        r.evidence.blobs,
        r.evidence.manifest_sha256,
        r.evidence.query_pack_sha256,
        r.evidence.tool_version
    );
    let _ = writeln!(out, "Verdict: {}", r.verdict);
    let _ = writeln!(out, "\nSUSPECT IDENTITIES ({})", r.suspects.len());
    if r.suspects.is_empty() {
        let _ = writeln!(
            out,
            "  {}",
            if r.verdict == "inconclusive" {
                "none found, and the evidence cannot show there were none: see COVERAGE"
            } else {
                "none found"
            }
        );
    }
    for suspect in &r.suspects {
        let _ = writeln!(
            out,
            "  {}{} — {} attacker calls in {} sessions ({} own sessions kept apart), {} … {}",
            s(&suspect.user),
            suspect
                .user_id
                .as_deref()
                .map(|id| format!(" ({id})"))
                .unwrap_or_default(),
            suspect.tool_calls,
            suspect.attacker_sessions,
            suspect.own_sessions,
            suspect.first_seen.as_deref().unwrap_or("?"),
            suspect.last_seen.as_deref().unwrap_or("?")
        );
        let _ = writeln!(out, "    addresses: {}", s(&suspect.ips.join(", ")));
        for reason in &suspect.reasons {
            let _ = writeln!(out, "    - {}", s(reason));
        }
    }
    if !r.persistence.is_empty() {
        let _ = writeln!(out, "\nPERSISTENCE ({})", r.persistence.len());
        for p in &r.persistence {
            let _ = writeln!(
                out,
                "  {}  {} by {} from {}  [{}]  {}:{}",
                p.time,
                s(p.activity.as_deref().unwrap_or("?")),
                s(p.initiated_by.as_deref().unwrap_or("?")),
                s(p.initiated_by_ip.as_deref().unwrap_or("?")),
                s(p.suspect.as_deref().unwrap_or("")),
                s(&p.blob),
                p.line
            );
        }
    }
    if !r.server_compromise.is_empty() {
        let _ = writeln!(
            out,
            "\nSERVER COMPROMISE (the MCP server itself copied data out; no identity needed)"
        );
        for f in &r.server_compromise {
            let _ = writeln!(
                out,
                "  {} -> {}:{}  {} in {} flows ({} within ten minutes after answered tool calls), {} … {}",
                s(&f.host),
                s(&f.destination_ip),
                f.destination_port
                    .map_or("?".to_string(), |p| p.to_string()),
                human_bytes(f.bytes),
                f.flows,
                human_bytes(f.following_bytes),
                f.first,
                f.last
            );
        }
        for m in &r.management_access {
            let _ = writeln!(
                out,
                "  management access: {} -> {} port {} ({} flows, {}), {} … {}",
                s(&m.source_ip),
                s(&m.host),
                m.port,
                m.flows,
                human_bytes(m.bytes),
                m.first,
                m.last
            );
        }
    }
    let _ = writeln!(
        out,
        "\nAFFECTED CUSTOMERS ({}: {})",
        r.affected_customers.len(),
        tier_counts(r)
    );
    for customer in r.affected_customers.iter().take(15) {
        let _ = writeln!(
            out,
            "  {:<14} {} … {}  {} calls  {}{}",
            s(&customer.customer_id),
            customer.first_access,
            customer.last_access,
            customer.calls,
            s(&customer.tools.join(",")),
            format_args!("  [{}]", customer.tier)
        );
    }
    if r.affected_customers.len() > 15 {
        let _ = writeln!(
            out,
            "  … {} more (export them: {})",
            r.affected_customers.len() - 15,
            s(&export_hint(r, case))
        );
    }
    let _ = writeln!(out, "\nEXFILTRATION ({})", r.exfiltration.len());
    for e in &r.exfiltration {
        let _ = writeln!(
            out,
            "  {:<15} {:<28} {:>10}  {} … {}\n    via {}",
            s(&e.destination_ip),
            s(e.destination_host.as_deref().unwrap_or("")),
            human_bytes(e.bytes),
            e.first.as_deref().unwrap_or("?"),
            e.last.as_deref().unwrap_or("?"),
            s(&e.path)
        );
    }
    if !r.resources.is_empty() {
        let _ = writeln!(out, "\nRESOURCES REACHED ({})", r.resources.len());
        for resource in r.resources.iter().take(10) {
            let detail: String = resource
                .detail
                .as_deref()
                .unwrap_or("")
                .chars()
                .take(90)
                .collect();
            let _ = writeln!(
                out,
                "  {} {} {} ({} calls)",
                s(&resource.kind),
                s(resource.target.as_deref().unwrap_or("")),
                s(&detail),
                resource.calls
            );
        }
    }
    let _ = writeln!(out, "\nCOVERAGE");
    for statement in &r.coverage.statements {
        let _ = writeln!(out, "  - {statement}");
    }
    let _ = writeln!(
        out,
        "\nQUERY PACK (sha256 {})",
        r.evidence.query_pack_sha256
    );
    for (name, sha256) in &r.evidence.queries {
        let _ = writeln!(out, "  {name:<20} {sha256}");
    }
    out
}

fn md_cell(text: &str) -> String {
    let escaped: String = text
        .chars()
        .map(|c| match c {
            '|' => "\\|".to_string(),
            '<' => "&lt;".to_string(),
            '>' => "&gt;".to_string(),
            '&' => "&amp;".to_string(),
            '`' | '*' | '_' | '[' | ']' | '\\' => format!("\\{c}"),
            c if c.is_control() => " ".to_string(),
            c => c.to_string(),
        })
        .collect();
    escaped
}

fn markdown(r: &ScopeReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Breach scope {} to {}\n", r.since, r.until);
    let _ = writeln!(
        out,
        "Baseline from {}. Evidence: case `{}`, {} source blobs, manifest SHA-256 `{}`, query pack SHA-256 `{}`, mcpforensics {}.\n",
        r.baseline_start,
        md_cell(&r.evidence.case),
        r.evidence.blobs,
        r.evidence.manifest_sha256,
        r.evidence.query_pack_sha256,
        r.evidence.tool_version
    );
    let _ = writeln!(
        out,
        "## Suspect identities\n\n| identity | object id | attacker calls | sessions (attacker / own) | addresses | first seen | last seen |\n|---|---|---|---|---|---|---|"
    );
    for s in &r.suspects {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} / {} | {} | {} | {} |",
            md_cell(&s.user),
            md_cell(s.user_id.as_deref().unwrap_or("")),
            s.tool_calls,
            s.attacker_sessions,
            s.own_sessions,
            md_cell(&s.ips.join(", ")),
            s.first_seen.as_deref().unwrap_or(""),
            s.last_seen.as_deref().unwrap_or("")
        );
    }
    for s in &r.suspects {
        let _ = writeln!(out, "\n**{}**\n", md_cell(&s.user));
        for reason in &s.reasons {
            let _ = writeln!(out, "- {}", md_cell(reason));
        }
    }
    if !r.persistence.is_empty() || !r.server_compromise.is_empty() {
        let _ = writeln!(
            out,
            "\n## Persistence and server compromise\n\n| time | what | by | from | evidence |\n|---|---|---|---|---|"
        );
        for p in &r.persistence {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {}:{} |",
                p.time,
                md_cell(p.activity.as_deref().unwrap_or("")),
                md_cell(p.initiated_by.as_deref().unwrap_or("")),
                md_cell(p.initiated_by_ip.as_deref().unwrap_or("")),
                md_cell(&p.blob),
                p.line
            );
        }
        for f in &r.server_compromise {
            let _ = writeln!(
                out,
                "| {} | the server sent {} to {} in {} flows ({} after answered calls) | (no identity) | {} | flows |",
                f.first,
                human_bytes(f.bytes),
                md_cell(&f.destination_ip),
                f.flows,
                human_bytes(f.following_bytes),
                md_cell(&f.host)
            );
        }
    }
    let _ = writeln!(
        out,
        "\n## Affected customers ({}: {})\n\n| customer | tier | first access | last access | identities | tools | calls | exfiltration confirmed |\n|---|---|---|---|---|---|---|---|",
        r.affected_customers.len(),
        tier_counts(r)
    );
    for c in &r.affected_customers {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            md_cell(&c.customer_id),
            c.tier,
            c.first_access,
            c.last_access,
            md_cell(&c.users.join(", ")),
            md_cell(&c.tools.join(", ")),
            c.calls,
            if c.exfiltration_confirmed {
                "yes"
            } else {
                "no"
            }
        );
    }
    let _ = writeln!(
        out,
        "\n## Exfiltration\n\n| destination | host | bytes | first | last | path |\n|---|---|---|---|---|---|"
    );
    for e in &r.exfiltration {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            md_cell(&e.destination_ip),
            md_cell(e.destination_host.as_deref().unwrap_or("")),
            e.bytes,
            e.first.as_deref().unwrap_or(""),
            e.last.as_deref().unwrap_or(""),
            md_cell(&e.path)
        );
    }
    let _ = writeln!(
        out,
        "\n## Resources reached\n\n| kind | target | detail | calls |\n|---|---|---|---|"
    );
    for x in &r.resources {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            md_cell(&x.kind),
            md_cell(x.target.as_deref().unwrap_or("")),
            md_cell(x.detail.as_deref().unwrap_or("")),
            x.calls
        );
    }
    let _ = writeln!(out, "\n## Coverage\n");
    for statement in &r.coverage.statements {
        let _ = writeln!(out, "- {}", md_cell(statement));
    }
    let _ = writeln!(
        out,
        "\n| table | baseline records | window records | status |\n|---|---|---|---|"
    );
    for t in &r.coverage.tables {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            t.table, t.baseline_records, t.window_records, t.status
        );
    }
    let _ = writeln!(
        out,
        "\n## Query pack\n\nSHA-256 `{}`.\n\n| query | SHA-256 of its SQL |\n|---|---|",
        r.evidence.query_pack_sha256
    );
    for (name, sha256) in &r.evidence.queries {
        let _ = writeln!(out, "| {name} | `{sha256}` |");
    }
    out
}

/// Escapes text for HTML element content and attribute values.
pub fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' => out.push_str(&format!("&#x{:x};", c as u32)),
            c => out.push(c),
        }
    }
    out
}

fn html(r: &ScopeReport) -> String {
    let e = html_escape;
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\"><title>Breach scope {} to {}</title>",
        e(&r.since),
        e(&r.until)
    );
    out.push_str("<style>body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}td.reasons{overflow-wrap:anywhere;background:#fafafa}th{background:#f3f3f3}.bad{color:#b00020;font-weight:600}code{font-size:12px}svg text{font-size:10px}</style></head><body>");
    let _ = write!(
        out,
        "<h1>Breach scope {} to {}</h1><p>Baseline from {}. Evidence: case <code>{}</code>, {} source blobs, manifest SHA-256 <code>{}</code>, query pack SHA-256 <code>{}</code>, mcpforensics {}.</p>",
        e(&r.since),
        e(&r.until),
        e(&r.baseline_start),
        e(&r.evidence.case),
        r.evidence.blobs,
        e(&r.evidence.manifest_sha256),
        e(&r.evidence.query_pack_sha256),
        e(&r.evidence.tool_version)
    );
    out.push_str(&timeline_svg(r));
    let _ = write!(
        out,
        "<h2 id=\"suspects\">Suspect identities ({})</h2><table><tr><th>identity</th><th>object id</th><th>attacker calls</th><th>sessions (attacker / own)</th><th>addresses</th><th>first seen</th><th>last seen</th></tr>",
        r.suspects.len()
    );
    for s in &r.suspects {
        let reasons: String = s
            .reasons
            .iter()
            .map(|x| format!("<li>{}</li>", e(x)))
            .collect();
        let _ = write!(
            out,
            "<tr><td class=\"bad\">{}</td><td>{}</td><td>{}</td><td>{} / {}</td><td>{}</td><td>{}</td><td>{}</td></tr><tr><td class=\"reasons\" colspan=\"7\">Reasons:<ul>{}</ul></td></tr>",
            e(&s.user),
            e(s.user_id.as_deref().unwrap_or("")),
            s.tool_calls,
            s.attacker_sessions,
            s.own_sessions,
            e(&s.ips.join(", ")),
            e(s.first_seen.as_deref().unwrap_or("")),
            e(s.last_seen.as_deref().unwrap_or("")),
            reasons
        );
    }
    out.push_str("</table>");
    if !r.persistence.is_empty() || !r.server_compromise.is_empty() {
        out.push_str("<h2 id=\"persistence\">Persistence and server compromise</h2><table><tr><th>time</th><th>what</th><th>by</th><th>from</th><th>evidence</th></tr>");
        for p in &r.persistence {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}:{}</td></tr>",
                e(&p.time),
                e(p.activity.as_deref().unwrap_or("")),
                e(p.initiated_by.as_deref().unwrap_or("")),
                e(p.initiated_by_ip.as_deref().unwrap_or("")),
                e(&p.blob),
                p.line
            );
        }
        for f in &r.server_compromise {
            let _ = write!(
                out,
                "<tr><td>{}</td><td class=\"bad\">the server sent {} to {} in {} flows ({} after answered calls)</td><td>(no identity)</td><td>{}</td><td>flows</td></tr>",
                e(&f.first),
                human_bytes(f.bytes),
                e(&f.destination_ip),
                f.flows,
                human_bytes(f.following_bytes),
                e(&f.host)
            );
        }
        out.push_str("</table>");
    }
    let _ = write!(
        out,
        "<h2 id=\"customers\">Affected customers ({}: {})</h2><table><tr><th>customer</th><th>tier</th><th>first access</th><th>last access</th><th>identities</th><th>tools</th><th>calls</th><th>exfiltration confirmed</th></tr>",
        r.affected_customers.len(),
        e(&tier_counts(r))
    );
    for c in &r.affected_customers {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            e(&c.customer_id),
            e(&c.tier),
            e(&c.first_access),
            e(&c.last_access),
            e(&c.users.join(", ")),
            e(&c.tools.join(", ")),
            c.calls,
            if c.exfiltration_confirmed {
                "yes"
            } else {
                "no"
            }
        );
    }
    out.push_str("</table><h2 id=\"exfiltration\">Exfiltration</h2><table><tr><th>destination</th><th>host</th><th>bytes</th><th>first</th><th>last</th><th>path</th></tr>");
    for x in &r.exfiltration {
        let _ = write!(
            out,
            "<tr><td class=\"bad\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            e(&x.destination_ip),
            e(x.destination_host.as_deref().unwrap_or("")),
            x.bytes,
            e(x.first.as_deref().unwrap_or("")),
            e(x.last.as_deref().unwrap_or("")),
            e(&x.path)
        );
    }
    out.push_str("</table><h2 id=\"resources\">Resources reached</h2><table><tr><th>kind</th><th>target</th><th>detail</th><th>calls</th></tr>");
    for x in &r.resources {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
            e(&x.kind),
            e(x.target.as_deref().unwrap_or("")),
            e(x.detail.as_deref().unwrap_or("")),
            x.calls
        );
    }
    out.push_str("</table><h2 id=\"coverage\">Coverage</h2><ul>");
    for statement in &r.coverage.statements {
        let _ = write!(out, "<li>{}</li>", e(statement));
    }
    out.push_str("</ul><table><tr><th>table</th><th>baseline records</th><th>window records</th><th>status</th></tr>");
    for t in &r.coverage.tables {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            e(&t.table),
            t.baseline_records,
            t.window_records,
            e(&t.status)
        );
    }
    let _ = write!(
        out,
        "</table><h2 id=\"query-pack\">Query pack</h2><p>SHA-256 <code>{}</code>.</p><table><tr><th>query</th><th>SHA-256 of its SQL</th></tr>",
        e(&r.evidence.query_pack_sha256)
    );
    for (name, sha256) in &r.evidence.queries {
        let _ = write!(
            out,
            "<tr><td>{}</td><td><code>{}</code></td></tr>",
            e(name),
            e(sha256)
        );
    }
    out.push_str("</table></body></html>\n");
    out
}

/// Attacker calls per day as bars, with coverage gaps shaded: inline SVG, no script.
fn timeline_svg(r: &ScopeReport) -> String {
    let mut per_day: BTreeMap<String, u64> = BTreeMap::new();
    let (Some(since), Some(until)) = (
        crate::time::parse_timestamp(&r.since),
        crate::time::parse_timestamp(&r.until),
    ) else {
        return String::new();
    };
    let mut day = since.date_naive();
    while day <= until.date_naive() {
        per_day.insert(day.to_string(), 0);
        day = day.succ_opt().unwrap_or(day);
        if per_day.len() > 400 {
            break;
        }
    }
    for call in &r.attacker_calls {
        if let Some(entry) = per_day.get_mut(call.time.get(..10).unwrap_or_default()) {
            *entry += 1;
        }
    }
    let max = per_day.values().copied().max().unwrap_or(0).max(1);
    let (width, height, left, bottom) = (900.0, 180.0, 40.0, 30.0);
    let bar = (width - left) / per_day.len().max(1) as f64;
    let mut svg = format!(
        "<h2 id=\"timeline\">Attacker tool calls per day</h2><svg width=\"{width}\" height=\"{height}\" role=\"img\" aria-label=\"attacker tool calls per day\">"
    );
    let scale = (height - bottom - 10.0) / max as f64;
    for gap in &r.coverage.gaps {
        if let Some(index) = per_day
            .keys()
            .position(|d| gap.from.starts_with(d.as_str()))
        {
            let _ = write!(
                svg,
                "<rect x=\"{:.1}\" y=\"0\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#ddd\"><title>gap in {}: {} to {}</title></rect>",
                left + index as f64 * bar,
                bar,
                height - bottom,
                html_escape(&gap.table),
                html_escape(&gap.from),
                html_escape(&gap.to)
            );
        }
    }
    for (i, (day, count)) in per_day.iter().enumerate() {
        let h = *count as f64 * scale;
        let x = left + i as f64 * bar;
        let _ = write!(
            svg,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#b00020\"><title>{day}: {count} calls</title></rect>",
            x + 1.0,
            height - bottom - h,
            (bar - 2.0).max(1.0),
            h
        );
        if i % 7 == 0 {
            let _ = write!(
                svg,
                "<text x=\"{x:.1}\" y=\"{:.1}\">{}</text>",
                height - 12.0,
                html_escape(day.get(5..).unwrap_or(day))
            );
        }
    }
    let _ = write!(
        svg,
        "<text x=\"0\" y=\"12\">{max}</text><line x1=\"{left}\" y1=\"{:.1}\" x2=\"{width}\" y2=\"{:.1}\" stroke=\"#888\"/></svg><p>Grey: hours with a coverage gap.</p>",
        height - bottom,
        height - bottom
    );
    svg
}

/// The affected-customer CSV: one row per customer, RFC 4180, UTF-8, Excel-safe.
pub fn customers_csv(report: &ScopeReport) -> String {
    let mut out = format!(
        "{}customer_id,tier,first_access,last_access,users,tools,calls,exfiltration_confirmed,evidence,manifest_sha256,query_pack_sha256\r\n",
        crate::report::CSV_BOM
    );
    for c in &report.affected_customers {
        let fields = [
            csv_field(&c.customer_id),
            csv_field(&c.tier),
            csv_field(&c.first_access),
            csv_field(&c.last_access),
            csv_field(&c.users.join("; ")),
            csv_field(&c.tools.join("; ")),
            c.calls.to_string(),
            c.exfiltration_confirmed.to_string(),
            csv_field(&c.evidence.join("; ")),
            csv_field(&report.evidence.manifest_sha256),
            csv_field(&report.evidence.query_pack_sha256),
        ];
        out.push_str(&fields.join(","));
        out.push_str("\r\n");
    }
    out
}
