//! The scope report for people and programs: text, JSON, Markdown, one self-contained HTML file,
//! and the affected-customer CSV. Attacker-controlled text is escaped for each medium.

use std::collections::BTreeMap;
use std::fmt::Write;

use chrono::{DateTime, Utc};

use super::summary::{Summary, human_bytes, short_blob, shorten_paths, summarise};
use crate::escape::{csv_field, terminal_safe};
use crate::scope::{RuleHit, ScopeReport, SigmaFindings, Verdict};
use crate::time::Zone;

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

/// What a rendering adds to the report for the people who read it.
#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    /// The case directory the suggested commands name (the report itself never holds a local
    /// path, so it is the same on every machine).
    pub case: Option<String>,
    /// When the report was made, stated in the text, Markdown and HTML (not in the JSON, which
    /// stays byte-identical run after run). `SOURCE_DATE_EPOCH` sets it for a reproduction.
    pub generated: Option<DateTime<Utc>>,
    /// A zone the key times are also shown in (`--tz`); UTC otherwise.
    pub zone: Option<Zone>,
}

/// Renders the report.
pub fn render(report: &ScopeReport, format: ReportFormat, options: &RenderOptions) -> String {
    match format {
        ReportFormat::Json => serde_json::to_string_pretty(report)
            .map(|s| s + "\n")
            .unwrap_or_default(),
        ReportFormat::Text => text(report, options),
        ReportFormat::Md => markdown(report, options),
        ReportFormat::Html => html(report, options),
    }
}

/// "Generated … by mcpforensics …; all times UTC", as the human formats open.
fn generated_line(r: &ScopeReport, options: &RenderOptions) -> String {
    let when = options.generated.map_or(String::new(), |t| {
        format!("Generated {} by ", t.format("%Y-%m-%d %H:%M:%S UTC"))
    });
    let zone = match options.zone {
        Some(zone) if zone != Zone::Utc => {
            format!("; key times of the summary also in {}", zone.label())
        }
        _ => String::new(),
    };
    format!(
        "{when}mcpforensics {}. All times are UTC{zone}.",
        r.evidence.tool_version
    )
}

/// A tier with colour in a terminal (ANSI SGR), applied after the text was made terminal-safe.
pub fn colourise(text: &str) -> String {
    const RED_BOLD: &str = "\u{1b}[1;31m";
    const BOLD: &str = "\u{1b}[1m";
    const RESET: &str = "\u{1b}[0m";
    let mut out = String::with_capacity(text.len() + 256);
    let mut in_suspects = false;
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches('\n');
        let heading = !body.is_empty()
            && !body.starts_with(' ')
            && body
                .chars()
                .take_while(|c| *c != '(')
                .all(|c| c.is_ascii_uppercase() || c == ' ');
        if heading {
            in_suspects = body.starts_with("SUSPECT IDENTITIES");
            out += &format!("{BOLD}{body}{RESET}");
        } else if in_suspects && body.starts_with("  ") && !body.starts_with("   ") {
            out += &format!("{RED_BOLD}{body}{RESET}");
        } else if let Some(rest) = body.strip_prefix("Verdict: ") {
            let colour = if rest.starts_with("nothing") {
                BOLD
            } else {
                RED_BOLD
            };
            out += &format!("Verdict: {colour}{rest}{RESET}");
        } else {
            let mut coloured = body.to_string();
            for (tier, colour) in [
                ("[exfiltrated]", "\u{1b}[31m"),
                ("[accessed]", "\u{1b}[33m"),
                ("[exposed]", "\u{1b}[35m"),
                ("[cannot_exclude]", "\u{1b}[2m"),
            ] {
                coloured = coloured.replace(tier, &format!("{colour}{tier}{RESET}"));
            }
            out += &coloured;
        }
        if line.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

/// "N exfiltrated, N accessed, N exposed, N cannot_exclude": the customers of each tier.
fn tier_counts(r: &ScopeReport) -> String {
    super::summary::tiers(r)
        .iter()
        .map(|(tier, n)| format!("{n} {tier}"))
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

/// The summary's sections in text: the answer, totals, the attack chain, what cannot be
/// excluded, and the indicators that matched nothing.
fn text_summary(summary: &Summary, cited: &mut BTreeMap<String, String>) -> String {
    let s = |t: &str| terminal_safe(t);
    let mut out = String::new();
    let _ = writeln!(out, "\nSUMMARY\n  {}", s(&summary.headline));
    for (label, value) in &summary.totals {
        let _ = writeln!(out, "  {label:<24} {}", s(value));
    }
    if !summary.unmatched_iocs.is_empty() {
        let _ = writeln!(
            out,
            "  {:<24} {}",
            "indicators matching nothing",
            s(&summary.unmatched_iocs.join(", "))
        );
    }
    if !summary.chain.is_empty() {
        let _ = writeln!(out, "\nATTACK CHAIN");
        for step in &summary.chain {
            let evidence = step
                .evidence
                .as_deref()
                .map(|e| format!("  [{}]", s(&shorten_paths(e, cited))))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  {:<15} {}  {}{evidence}",
                step.phase.label(),
                step.time,
                s(&step.what)
            );
        }
    }
    let _ = writeln!(out, "\nWHAT CANNOT BE EXCLUDED (coverage)");
    if summary.cannot_exclude.is_empty() {
        let _ = writeln!(
            out,
            "  - nothing: every source was present through the window and no record was rejected"
        );
    }
    for statement in &summary.cannot_exclude {
        let _ = writeln!(out, "  - {}", s(statement));
    }
    out
}

// Long: the report's sections in order; the renderers are to share one report model (issue 37).
fn text(r: &ScopeReport, options: &RenderOptions) -> String {
    let s = |t: &str| terminal_safe(t);
    let case = options.case.as_deref();
    let summary = summarise(r, options.zone);
    let mut cited = BTreeMap::new();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Breach scope {} … {} (baseline from {})",
        r.since, r.until, r.baseline_start
    );
    let _ = writeln!(out, "{}", generated_line(r, options));
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
    out += &text_summary(&summary, &mut cited);
    let _ = writeln!(out, "\nSUSPECT IDENTITIES ({})", r.suspects.len());
    if r.suspects.is_empty() {
        let _ = writeln!(
            out,
            "  {}",
            if r.verdict == Verdict::Inconclusive {
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
        if let Some(words) = suspect.agent_words() {
            let _ = writeln!(out, "    identity: {}", s(&words));
        }
        if let Some(using) = &suspect.model_use {
            let _ = writeln!(out, "    model calls: {}", s(&using.words()));
        }
        let _ = writeln!(out, "    addresses: {}", s(&suspect.ips.join(", ")));
        for reason in &suspect.reasons {
            let _ = writeln!(out, "    - {}", s(&shorten_paths(reason, &mut cited)));
        }
    }
    if !r.ioc_sightings.is_empty() {
        let _ = writeln!(out, "\nINDICATORS SEEN ({})", r.ioc_sightings.len());
        for sighting in &r.ioc_sightings {
            let _ = writeln!(
                out,
                "  {}  {}: {} records, {} … {}",
                s(&sighting.value),
                s(&sighting.place),
                sighting.records,
                sighting.first,
                sighting.last
            );
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
                s(&shorten_paths(&p.blob, &mut cited)),
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
        for l in &r.lateral_movement {
            let _ = writeln!(
                out,
                "  lateral movement: {} ({}) -> {} port {} ({} flows), from {}",
                s(&l.source_ip),
                l.source,
                s(&l.destination_ip),
                l.port,
                l.flows,
                l.first
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
            "  … and {} more (export them: {})",
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
        if r.resources.len() > 10 {
            let _ = writeln!(
                out,
                "  … and {} more (scope --format json or html lists them all)",
                r.resources.len() - 10
            );
        }
    }
    if let Some(sigma) = &r.sigma {
        out += &sigma_text(sigma, &mut cited);
    }
    if !cited.is_empty() {
        let _ = writeln!(
            out,
            "\nEVIDENCE CITED (shortened above; blob paths in full)"
        );
        for (short, full) in &cited {
            let _ = writeln!(out, "  {}  {}", s(short), s(full));
        }
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

/// Attacker calls shown in the Markdown and HTML tables; the JSON holds them all.
const CALLS_SHOWN: usize = 500;

// Long: the report's sections in order; the renderers are to share one report model (issue 37).
fn markdown(r: &ScopeReport, options: &RenderOptions) -> String {
    let summary = summarise(r, options.zone);
    let mut cited = BTreeMap::new();
    let mut out = String::new();
    let _ = writeln!(out, "# Breach scope {} to {}\n", r.since, r.until);
    let _ = writeln!(out, "{}\n", generated_line(r, options));
    let _ = writeln!(
        out,
        "## Summary\n\n**Verdict: {}.** {}\n\n| | |\n|---|---|",
        md_cell(r.verdict.as_str()),
        md_cell(&summary.headline)
    );
    for (label, value) in &summary.totals {
        let _ = writeln!(out, "| {label} | {} |", md_cell(value));
    }
    if !summary.unmatched_iocs.is_empty() {
        let _ = writeln!(
            out,
            "| indicators matching nothing | {} |",
            md_cell(&summary.unmatched_iocs.join(", "))
        );
    }
    if !summary.chain.is_empty() {
        let _ = writeln!(
            out,
            "\n## Attack chain\n\n| phase | time | what | evidence |\n|---|---|---|---|"
        );
        for step in &summary.chain {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                step.phase.label(),
                md_cell(&step.time),
                md_cell(&step.what),
                md_cell(
                    &step
                        .evidence
                        .as_deref()
                        .map(|e| shorten_paths(e, &mut cited))
                        .unwrap_or_default()
                )
            );
        }
    }
    let _ = writeln!(out, "\n## What cannot be excluded\n");
    for statement in &summary.cannot_exclude {
        let _ = writeln!(out, "- {}", md_cell(statement));
    }
    if summary.cannot_exclude.is_empty() {
        let _ = writeln!(
            out,
            "- Nothing: every source was present through the window and no record was rejected."
        );
    }
    let _ = writeln!(out, "\n## Details\n");
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
        if let Some(words) = s.agent_words() {
            let _ = writeln!(out, "*{}*\n", md_cell(&words));
        }
        if let Some(using) = &s.model_use {
            let _ = writeln!(out, "*Model calls: {}*\n", md_cell(&using.words()));
        }
        for reason in &s.reasons {
            let _ = writeln!(out, "- {}", md_cell(&shorten_paths(reason, &mut cited)));
        }
    }
    let _ = writeln!(
        out,
        "\n## Attacker tool calls ({})\n\n| time | identity | address | tool | arguments | session | rule | evidence |\n|---|---|---|---|---|---|---|---|",
        r.attacker_calls.len()
    );
    for c in r.attacker_calls.iter().take(CALLS_SHOWN) {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            md_cell(&c.time),
            md_cell(&c.user),
            md_cell(c.client_address.as_deref().unwrap_or("")),
            md_cell(c.tool.as_deref().unwrap_or("")),
            md_cell(&cut(c.arguments.as_deref().unwrap_or(""), 160)),
            md_cell(c.session.as_deref().unwrap_or("")),
            md_cell(&c.rule),
            md_cell(&shorten_paths(
                &format!("{}:{}", c.blob, c.line),
                &mut cited
            ))
        );
    }
    if r.attacker_calls.len() > CALLS_SHOWN {
        let _ = writeln!(
            out,
            "\n… and {} more (`scope --format json` holds every call).",
            r.attacker_calls.len() - CALLS_SHOWN
        );
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
                md_cell(&shorten_paths(&p.blob, &mut cited)),
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
        "\n## Affected customers ({}: {})\n\n| customer | tier | first access | last access | identities | answered to (not suspects) | tools | calls | exfiltration confirmed |\n|---|---|---|---|---|---|---|---|---|",
        r.affected_customers.len(),
        tier_counts(r)
    );
    for c in &r.affected_customers {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            md_cell(&c.customer_id),
            c.tier,
            c.first_access,
            c.last_access,
            md_cell(&c.users.join(", ")),
            md_cell(&c.answered_to.join(", ")),
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
            human_bytes(e.bytes),
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
    if let Some(sigma) = &r.sigma {
        out += &sigma_markdown(sigma, &mut cited);
    }
    let _ = writeln!(
        out,
        "\n## Coverage\n\n| table | baseline records | window records | status |\n|---|---|---|---|"
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
    if !cited.is_empty() {
        let _ = writeln!(
            out,
            "\n## Evidence cited\n\nThe blob paths shortened above, in full.\n\n| shortened | blob |\n|---|---|"
        );
        for (short, full) in &cited {
            let _ = writeln!(out, "| {} | {} |", md_cell(short), md_cell(full));
        }
    }
    out
}

/// The Sigma section's heading: hits, and how many rules ran, lacked evidence or were refused.
fn sigma_heading(sigma: &SigmaFindings) -> String {
    format!(
        "{} hits in the window; {} rules ran, {} on tables without records in the window, {} not run",
        sigma.hits.len(),
        sigma.ran,
        sigma.without_evidence,
        sigma.refused.len()
    )
}

/// Where a hit's evidence is: its record, or how many records a correlation read.
fn sigma_evidence(hit: &RuleHit, cited: &mut BTreeMap<String, String>) -> String {
    match (&hit.blob, hit.line) {
        (Some(blob), Some(line)) => format!("{}:{line}", shorten_paths(blob, cited)),
        _ => format!("{} records correlated", hit.correlated.len()),
    }
}

fn sigma_text(sigma: &SigmaFindings, cited: &mut BTreeMap<String, String>) -> String {
    let s = |t: &str| terminal_safe(t);
    let mut out = String::new();
    let _ = writeln!(out, "\nSIGMA RULES ({})", sigma_heading(sigma));
    for hit in sigma.hits.iter().take(20) {
        let mut place = vec![s(&hit.table)];
        place.extend(hit.identity.as_deref().map(&s));
        place.extend(hit.address.as_deref().map(|a| format!("from {}", s(a))));
        let _ = writeln!(
            out,
            "  {}  [{}] {} — {}  {}",
            hit.time.as_deref().unwrap_or("?"),
            s(hit.level.as_deref().unwrap_or("?")),
            s(&hit.rule),
            place.join(" "),
            s(&sigma_evidence(hit, cited))
        );
    }
    if sigma.hits.len() > 20 {
        let _ = writeln!(
            out,
            "  … and {} more (scope --format json or html lists them all)",
            sigma.hits.len() - 20
        );
    }
    for refused in &sigma.refused {
        let _ = writeln!(
            out,
            "  not run: {} ({}): {}",
            s(&refused.rule),
            s(&refused.path),
            s(&refused.reason)
        );
    }
    out
}

fn sigma_markdown(sigma: &SigmaFindings, cited: &mut BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n## Sigma rules\n\n{}.\n\n| time | rule | level | table | identity | address | evidence |\n|---|---|---|---|---|---|---|",
        sigma_heading(sigma)
    );
    for hit in &sigma.hits {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            hit.time.as_deref().unwrap_or(""),
            md_cell(&hit.rule),
            md_cell(hit.level.as_deref().unwrap_or("")),
            md_cell(&hit.table),
            md_cell(hit.identity.as_deref().unwrap_or("")),
            md_cell(hit.address.as_deref().unwrap_or("")),
            md_cell(&sigma_evidence(hit, cited))
        );
    }
    if !sigma.refused.is_empty() {
        let _ = writeln!(out, "\nNot run:\n");
        for refused in &sigma.refused {
            let _ = writeln!(
                out,
                "- {} (`{}`): {}",
                md_cell(&refused.rule),
                md_cell(&refused.path),
                md_cell(&refused.reason)
            );
        }
    }
    out
}

fn sigma_html(sigma: &SigmaFindings, cited: &mut BTreeMap<String, String>) -> String {
    let e = html_text;
    let mut out = format!(
        "<h2 id=\"sigma\">Sigma rules</h2><p>{}.</p>{}",
        e(&sigma_heading(sigma)),
        table_head(&[
            "time", "rule", "level", "table", "identity", "address", "evidence"
        ])
    );
    for hit in &sigma.hits {
        let evidence = match (&hit.blob, hit.line) {
            (Some(blob), Some(line)) => evidence_span(blob, line.max(0) as u64, cited),
            _ => e(&sigma_evidence(hit, cited)),
        };
        let _ = write!(
            out,
            "<tr>{}<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{evidence}</td></tr>",
            time_cell(hit.time.as_deref().unwrap_or("")),
            e(&hit.rule),
            e(hit.level.as_deref().unwrap_or("")),
            e(&hit.table),
            e(hit.identity.as_deref().unwrap_or("")),
            e(hit.address.as_deref().unwrap_or(""))
        );
    }
    out.push_str("</tbody></table>");
    if !sigma.refused.is_empty() {
        out.push_str("<p>Not run:</p><ul>");
        for refused in &sigma.refused {
            let _ = write!(
                out,
                "<li>{} (<code>{}</code>): {}</li>",
                e(&refused.rule),
                e(&refused.path),
                e(&refused.reason)
            );
        }
        out.push_str("</ul>");
    }
    out
}

/// At most `max` characters, ending in `…` when cut.
pub(super) fn cut(text: &str, max: usize) -> String {
    if text.chars().nth(max).is_none() {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Escapes text for HTML element content and attribute values.
pub fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        push_escaped(&mut out, c);
    }
    out
}

fn push_escaped(out: &mut String, c: char) {
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

/// Tokens up to this many characters (addresses, UPNs, tool names) never wrap.
const TOKEN_KEPT: usize = 24;

/// Where a longer token (a blob path, a resource id, a session id, JSON arguments) may wrap: after
/// one of its own separators.
const TOKEN_SEPARATORS: &[char] = &['.', '@', '/', ':', '_', '|', '=', '&', '?', ',', ';', '-'];

/// Escapes text for a table cell or prose so that no token breaks inside itself: a token (the
/// text between spaces) of up to [`TOKEN_KEPT`] characters is kept on one line (a browser would
/// otherwise break `bob-keller@…` at its hyphen), a longer one may wrap only after its own
/// separators (`<wbr>`); a long run without any (a SHA-256) stays whole and the table widens.
/// Not for attribute values: use [`html_escape`].
pub fn html_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for token in text.split_inclusive(char::is_whitespace) {
        let word = token.trim_end();
        let space = &token[word.len()..];
        let length = word.chars().count();
        if length <= TOKEN_KEPT {
            // Browsers break after these when a letter follows (not in `2026-09-21`).
            let breakable = word
                .as_bytes()
                .windows(2)
                .any(|w| matches!(w[0], b'-' | b'/' | b'?') && !w[1].is_ascii_digit());
            if breakable {
                out.push_str("<span class=\"tok\">");
            }
            word.chars().for_each(|c| push_escaped(&mut out, c));
            if breakable {
                out.push_str("</span>");
            }
        } else {
            let mut chars = word.chars().peekable();
            while let Some(c) = chars.next() {
                push_escaped(&mut out, c);
                if TOKEN_SEPARATORS.contains(&c) && chars.peek().is_some() {
                    out.push_str("<wbr>");
                }
            }
        }
        space.chars().for_each(|c| push_escaped(&mut out, c));
    }
    out
}

/// The style of the HTML report: readable on screen, clean on A4 paper (headers repeat on each
/// page, rows never split, the details start on a new page, times never wrap).
pub(super) const HTML_STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1200px;padding:0 1em;color:#222}\
h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:1.6em;border-bottom:1px solid #ddd}\
.meta{color:#555;margin-top:0}nav{margin:1em 0;color:#555}nav a{margin-right:.8em}\
table{border-collapse:collapse;margin:.5em 0 1.5em;width:100%}td,th{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top;overflow-wrap:normal;word-break:normal}.tok{white-space:nowrap}\
th{background:#f3f3f3}td.t,th.t{white-space:nowrap;overflow-wrap:normal}td.n{text-align:right;white-space:nowrap}\
td.reasons{background:#fafafa}.bad{color:#b00020;font-weight:600}.ok{color:#1b5e20;font-weight:600}\
.headline{font-size:1.1em}table.totals{width:auto}table.totals th{width:14em}\
.tier-exfiltrated{color:#b00020;font-weight:600}.tier-accessed{color:#b35c00}.tier-exposed{color:#6a1b9a}.tier-cannot_exclude{color:#555}\
.ev{border-bottom:1px dotted #888}td.args{min-width:16em}code{font-size:12px}svg{max-width:100%;height:auto}svg text{font-size:10px}\
@page{size:A4;margin:14mm}\
@media print{body{margin:0;max-width:none;font-size:10px}nav{display:none}h2{break-after:avoid}tr,li{break-inside:avoid}\
thead{display:table-header-group}#details{break-before:page}#summary{break-inside:avoid}a{color:inherit;text-decoration:none}}";

/// A time cell that never wraps.
fn time_cell(time: &str) -> String {
    format!("<td class=\"t\">{}</td>", html_escape(time))
}

/// A byte count with its unit; the exact count on hover.
fn bytes_cell(bytes: u64) -> String {
    format!(
        "<td class=\"n\" title=\"{bytes} bytes\">{}</td>",
        human_bytes(bytes)
    )
}

/// An evidence pointer, shortened, with the full path on hover (and in the appendix).
fn evidence_span(blob: &str, line: u64, cited: &mut BTreeMap<String, String>) -> String {
    let short = short_blob(blob);
    if short != blob {
        cited.insert(short.clone(), blob.to_string());
    }
    format!(
        "<span class=\"ev\" title=\"{}:{line}\">{}:{line}</span>",
        html_escape(blob),
        html_escape(&short)
    )
}

/// A table's opening with a header row that repeats on every printed page.
fn table_head(columns: &[&str]) -> String {
    let cells: String = columns
        .iter()
        .map(|c| {
            let class = if matches!(
                *c,
                "time"
                    | "first"
                    | "last"
                    | "first seen"
                    | "last seen"
                    | "first access"
                    | "last access"
            ) {
                " class=\"t\""
            } else {
                ""
            };
            format!("<th{class}>{c}</th>")
        })
        .collect();
    format!("<table><thead><tr>{cells}</tr></thead><tbody>")
}

fn html_summary(
    r: &ScopeReport,
    summary: &Summary,
    cited: &mut BTreeMap<String, String>,
) -> String {
    let e = html_text;
    let mut out = String::new();
    let verdict_class = if r.verdict == Verdict::NothingFound {
        "ok"
    } else {
        "bad"
    };
    let _ = write!(
        out,
        "<section id=\"summary\"><h2>Summary</h2><p class=\"headline\"><span class=\"{verdict_class}\">Verdict: {}.</span> {}</p><table class=\"totals\"><tbody>",
        e(r.verdict.as_str()),
        e(&summary.headline)
    );
    for (label, value) in &summary.totals {
        let _ = write!(out, "<tr><th>{}</th><td>{}</td></tr>", e(label), e(value));
    }
    if !summary.unmatched_iocs.is_empty() {
        let _ = write!(
            out,
            "<tr><th>indicators matching nothing</th><td>{}</td></tr>",
            e(&summary.unmatched_iocs.join(", "))
        );
    }
    out.push_str("</tbody></table></section>");
    if !summary.chain.is_empty() {
        out.push_str("<section id=\"chain\"><h2>Attack chain</h2>");
        out.push_str(&table_head(&["phase", "time", "what", "evidence"]));
        for step in &summary.chain {
            let evidence = step
                .evidence
                .as_deref()
                .and_then(|ev| ev.rsplit_once(':'))
                .map(|(blob, line)| evidence_span(blob, line.parse().unwrap_or(0), cited))
                .unwrap_or_default();
            let _ = write!(
                out,
                "<tr><td class=\"t\">{}</td>{}<td>{}</td><td>{evidence}</td></tr>",
                step.phase.label(),
                time_cell(&step.time),
                e(&step.what)
            );
        }
        out.push_str("</tbody></table></section>");
    }
    out.push_str("<section id=\"cannot-exclude\"><h2>What cannot be excluded</h2><ul>");
    for statement in &summary.cannot_exclude {
        let _ = write!(out, "<li>{}</li>", e(statement));
    }
    if summary.cannot_exclude.is_empty() {
        out.push_str("<li>Nothing: every source was present through the window and no record was rejected.</li>");
    }
    out.push_str("</ul></section>");
    out
}

// Long: the report's sections in order; the renderers are to share one report model (issue 37).
fn html(r: &ScopeReport, options: &RenderOptions) -> String {
    let e = html_text;
    let summary = summarise(r, options.zone);
    let mut cited = BTreeMap::new();
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\"><title>Breach scope {} to {}</title><style>{HTML_STYLE}</style></head><body>",
        e(&r.since),
        e(&r.until)
    );
    let _ = write!(
        out,
        "<h1>Breach scope {} to {}</h1><p class=\"meta\">{} Baseline from {}.</p>",
        e(&r.since),
        e(&r.until),
        e(&generated_line(r, options)),
        e(&r.baseline_start)
    );
    out.push_str("<nav><a href=\"#summary\">Summary</a><a href=\"#chain\">Attack chain</a><a href=\"#cannot-exclude\">What cannot be excluded</a><a href=\"#suspects\">Suspects</a><a href=\"#calls\">Attacker calls</a><a href=\"#customers\">Customers</a><a href=\"#exfiltration\">Exfiltration</a><a href=\"#coverage\">Coverage</a><a href=\"#provenance\">Provenance</a></nav>");
    out += &html_summary(r, &summary, &mut cited);
    out.push_str("<section id=\"details\">");
    out.push_str(&timeline_svg(r));
    let _ = write!(
        out,
        "<h2 id=\"suspects\">Suspect identities ({})</h2>{}",
        r.suspects.len(),
        table_head(&[
            "identity",
            "object id",
            "attacker calls",
            "sessions (attacker / own)",
            "addresses",
            "first seen",
            "last seen"
        ])
    );
    for s in &r.suspects {
        let mut reasons: String = s
            .agent_words()
            .map(|words| format!("<li><b>{}</b></li>", e(&words)))
            .unwrap_or_default();
        if let Some(using) = &s.model_use {
            reasons.push_str(&format!("<li>Model calls: {}</li>", e(&using.words())));
        }
        reasons.extend(
            s.reasons
                .iter()
                .map(|x| format!("<li>{}</li>", e(&shorten_paths(x, &mut cited)))),
        );
        let _ = write!(
            out,
            "<tr><td class=\"bad\">{}</td><td>{}</td><td class=\"n\">{}</td><td>{} / {}</td><td>{}</td>{}{}</tr><tr><td class=\"reasons\" colspan=\"7\">Reasons:<ul>{}</ul></td></tr>",
            e(&s.user),
            e(s.user_id.as_deref().unwrap_or("")),
            s.tool_calls,
            s.attacker_sessions,
            s.own_sessions,
            e(&s.ips.join(", ")),
            time_cell(s.first_seen.as_deref().unwrap_or("")),
            time_cell(s.last_seen.as_deref().unwrap_or("")),
            reasons
        );
    }
    out.push_str("</tbody></table>");
    if !r.persistence.is_empty() || !r.server_compromise.is_empty() {
        out.push_str("<h2 id=\"persistence\">Persistence and server compromise</h2>");
        out.push_str(&table_head(&["time", "what", "by", "from", "evidence"]));
        for p in &r.persistence {
            let _ = write!(
                out,
                "<tr>{}<td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                time_cell(&p.time),
                e(p.activity.as_deref().unwrap_or("")),
                e(p.initiated_by.as_deref().unwrap_or("")),
                e(p.initiated_by_ip.as_deref().unwrap_or("")),
                evidence_span(&p.blob, p.line, &mut cited)
            );
        }
        for f in &r.server_compromise {
            let _ = write!(
                out,
                "<tr>{}<td class=\"bad\">the server sent {} to {} in {} flows ({} after answered calls)</td><td>(no identity)</td><td>{}</td><td>flows</td></tr>",
                time_cell(&f.first),
                human_bytes(f.bytes),
                e(&f.destination_ip),
                f.flows,
                human_bytes(f.following_bytes),
                e(&f.host)
            );
        }
        out.push_str("</tbody></table>");
    }
    let _ = write!(
        out,
        "<h2 id=\"calls\">Attacker tool calls ({})</h2>{}",
        r.attacker_calls.len(),
        table_head(&[
            "time",
            "identity",
            "address",
            "tool",
            "arguments",
            "session",
            "rule",
            "evidence"
        ])
        .replacen("<table>", "<table class=\"calls\">", 1)
    );
    for c in r.attacker_calls.iter().take(CALLS_SHOWN) {
        let arguments = c.arguments.as_deref().unwrap_or("");
        let _ = write!(
            out,
            "<tr>{}<td>{}</td><td>{}</td><td>{}</td><td class=\"args\" title=\"{}\"><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            time_cell(&c.time),
            e(&c.user),
            e(c.client_address.as_deref().unwrap_or("")),
            e(c.tool.as_deref().unwrap_or("")),
            html_escape(arguments),
            e(&cut(arguments, 160)),
            e(c.session.as_deref().unwrap_or("")),
            e(&c.rule),
            evidence_span(&c.blob, c.line, &mut cited)
        );
    }
    out.push_str("</tbody></table>");
    if r.attacker_calls.len() > CALLS_SHOWN {
        let _ = write!(
            out,
            "<p>… and {} more (<code>scope --format json</code> holds every call).</p>",
            r.attacker_calls.len() - CALLS_SHOWN
        );
    }
    let _ = write!(
        out,
        "<h2 id=\"customers\">Affected customers ({}: {})</h2>{}",
        r.affected_customers.len(),
        e(&tier_counts(r)),
        table_head(&[
            "customer",
            "tier",
            "first access",
            "last access",
            "identities",
            "answered to (not suspects)",
            "tools",
            "calls",
            "exfiltration confirmed"
        ])
    );
    for c in &r.affected_customers {
        let _ = write!(
            out,
            "<tr><td>{}</td><td class=\"tier-{}\">{}</td>{}{}<td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
            e(&c.customer_id),
            html_escape(&c.tier),
            e(&c.tier),
            time_cell(&c.first_access),
            time_cell(&c.last_access),
            e(&c.users.join(", ")),
            e(&c.answered_to.join(", ")),
            e(&c.tools.join(", ")),
            c.calls,
            if c.exfiltration_confirmed {
                "yes"
            } else {
                "no"
            }
        );
    }
    let _ = write!(
        out,
        "</tbody></table><h2 id=\"exfiltration\">Exfiltration</h2>{}",
        table_head(&["destination", "host", "bytes", "first", "last", "path"])
    );
    for x in &r.exfiltration {
        let _ = write!(
            out,
            "<tr><td class=\"bad\">{}</td><td>{}</td>{}{}{}<td>{}</td></tr>",
            e(&x.destination_ip),
            e(x.destination_host.as_deref().unwrap_or("")),
            bytes_cell(x.bytes),
            time_cell(x.first.as_deref().unwrap_or("")),
            time_cell(x.last.as_deref().unwrap_or("")),
            e(&x.path)
        );
    }
    let _ = write!(
        out,
        "</tbody></table><h2 id=\"resources\">Resources reached</h2>{}",
        table_head(&["kind", "target", "detail", "calls"])
    );
    for x in &r.resources {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td class=\"n\">{}</td></tr>",
            e(&x.kind),
            e(x.target.as_deref().unwrap_or("")),
            e(x.detail.as_deref().unwrap_or("")),
            x.calls
        );
    }
    out.push_str("</tbody></table>");
    if let Some(sigma) = &r.sigma {
        out += &sigma_html(sigma, &mut cited);
    }
    let _ = write!(
        out,
        "<h2 id=\"coverage\">Coverage</h2>{}",
        table_head(&["table", "baseline records", "window records", "status"])
    );
    for t in &r.coverage.tables {
        let _ = write!(
            out,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
            e(&t.table),
            t.baseline_records,
            t.window_records,
            e(&t.status)
        );
    }
    let _ = write!(
        out,
        "</tbody></table><h2 id=\"provenance\">Provenance</h2><p>Evidence: case <code>{}</code>, {} source blobs, manifest SHA-256 <code>{}</code>, mcpforensics {}. Query pack SHA-256 <code>{}</code>:</p>{}",
        e(&r.evidence.case),
        r.evidence.blobs,
        e(&r.evidence.manifest_sha256),
        e(&r.evidence.tool_version),
        e(&r.evidence.query_pack_sha256),
        table_head(&["query", "SHA-256 of its SQL"])
    );
    for (name, sha256) in &r.evidence.queries {
        let _ = write!(
            out,
            "<tr><td>{}</td><td><code>{}</code></td></tr>",
            e(name),
            e(sha256)
        );
    }
    out.push_str("</tbody></table>");
    if !cited.is_empty() {
        out.push_str("<h2 id=\"evidence\">Evidence cited</h2><p>The blob paths shortened above, in full.</p>");
        out.push_str(&table_head(&["shortened", "blob"]));
        for (short, full) in &cited {
            let _ = write!(
                out,
                "<tr><td class=\"t\">{}</td><td><code>{}</code></td></tr>",
                e(short),
                e(full)
            );
        }
        out.push_str("</tbody></table>");
    }
    out.push_str("</section></body></html>\n");
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
        "<h2 id=\"timeline\">Attacker tool calls per day</h2><svg width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"attacker tool calls per day\">"
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
        "{}customer_id,tier,first_access,last_access,users,answered_to (not suspects),tools,calls,exfiltration_confirmed,evidence,manifest_sha256,query_pack_sha256\r\n",
        crate::escape::CSV_BOM
    );
    for c in &report.affected_customers {
        let fields = [
            csv_field(&c.customer_id),
            csv_field(&c.tier),
            csv_field(&c.first_access),
            csv_field(&c.last_access),
            csv_field(&c.users.join("; ")),
            csv_field(&c.answered_to.join("; ")),
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

#[cfg(test)]
mod tests {

    #[test]
    fn html_text_breaks_long_tokens_only_after_their_separators() {
        assert_eq!(html_text("45.86.202.14"), "45.86.202.14");
        assert_eq!(
            html_text("Generated 2026-09-21 14:13:20"),
            "Generated 2026-09-21 14:13:20"
        );
        assert_eq!(
            html_text("anne-marie@contoso.com <b>"),
            "<span class=\"tok\">anne-marie@contoso.com</span> &lt;b&gt;"
        );
        assert_eq!(
            html_text("resourceId=/SUBSCRIPTIONS/ab"),
            "resourceId=<wbr>/<wbr>SUBSCRIPTIONS/<wbr>ab"
        );
        let hash = "ab".repeat(32);
        assert_eq!(
            html_text(&hash),
            hash,
            "a run without separators stays whole"
        );
    }

    use super::*;

    #[test]
    fn colour_marks_headings_suspects_and_tiers_and_only_those() {
        let text = "Verdict: suspects found\n\nSUSPECT IDENTITIES (1)\n  bob@contoso.com — 3 attacker calls\n    - a reason\n\nAFFECTED CUSTOMERS (2: 1 exfiltrated)\n  C-1  2 calls  [exfiltrated]\n  C-2  1 calls  [cannot_exclude]\n";
        let coloured = colourise(text);
        assert!(coloured.contains("Verdict: \u{1b}[1;31msuspects found\u{1b}[0m"));
        assert!(coloured.contains("\u{1b}[1mSUSPECT IDENTITIES (1)\u{1b}[0m"));
        assert!(coloured.contains("\u{1b}[1;31m  bob@contoso.com — 3 attacker calls\u{1b}[0m"));
        assert!(
            coloured.contains("\n    - a reason\n"),
            "reasons stay plain"
        );
        assert!(coloured.contains("\u{1b}[31m[exfiltrated]\u{1b}[0m"));
        assert!(coloured.contains("\u{1b}[2m[cannot_exclude]\u{1b}[0m"));
        // Without the escapes it is the same text.
        let plain = coloured
            .replace("\u{1b}[1;31m", "")
            .replace("\u{1b}[31m", "")
            .replace("\u{1b}[2m", "")
            .replace("\u{1b}[1m", "")
            .replace("\u{1b}[0m", "");
        assert_eq!(plain, text);
        // An escape in the evidence is made inert before colour is added.
        let hostile = crate::escape::terminal_safe_document("  C-3 \u{1b}[8m hidden [accessed]\n");
        assert!(!colourise(&hostile).contains("\u{1b}[8m"));
    }
}
