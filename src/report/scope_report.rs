//! The scope report for people and programs: JSON (the report itself), and text, Markdown and
//! one self-contained HTML file, each a rendering of the same document (`report::document`);
//! and the affected-customer CSV. Attacker-controlled text is escaped for each medium.

use chrono::{DateTime, Utc};

use super::document::build;
use crate::escape::csv_field;
use crate::scope::ScopeReport;
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
    /// Text for a terminal that takes colour: headings bold, the verdict and the attacker's
    /// rows red, tiers by colour (the evidence's own text made inert).
    pub colour: bool,
}

/// Renders the report.
pub fn render(report: &ScopeReport, format: ReportFormat, options: &RenderOptions) -> String {
    match format {
        ReportFormat::Json => serde_json::to_string_pretty(report)
            .map(|s| s + "\n")
            .unwrap_or_default(),
        human => {
            let document = build(
                report,
                options.zone,
                generated_line(report, options),
                options.case.as_deref(),
            );
            match human {
                ReportFormat::Md => super::scope_markdown::render(&document),
                ReportFormat::Html => super::scope_html::render(&document),
                _ => super::scope_text::render(&document, options.colour),
            }
        }
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
    use super::*;

    fn report() -> ScopeReport {
        serde_json::from_value(serde_json::json!({
            "report_version": 2, "verdict": "suspects found", "since": "2026-09-30T00:00:00Z",
            "until": "2026-10-01T00:00:00Z", "baseline_start": "2026-09-16T00:00:00Z",
            "evidence": {"case": "c", "manifest_sha256": "m", "blobs": 1, "tool_version": "0",
                "query_pack_sha256": "q", "queries": {}, "case_files": 1, "case_files_read": 1,
                "days_read": null},
            "iocs": [], "suspects": [{"user": "bob@contoso.com\u{1b}[8m", "user_id": null,
                "reasons": ["a reason"], "ips": ["45.86.202.14"], "tool_calls": 3,
                "attacker_sessions": 1, "own_sessions": 0, "first_seen": null, "last_seen": null}],
            "sessions": [], "attacker_calls": [],
            "affected_customers": [
                {"customer_id": "C-1", "tier": "exfiltrated", "first_access": "2026-09-30T01:00:00Z",
                 "last_access": "2026-09-30T01:00:00Z", "users": [], "answered_to": [], "tools": [],
                 "calls": 2, "exfiltration_confirmed": true, "evidence": []},
                {"customer_id": "C-2", "tier": "cannot_exclude", "first_access": "2026-09-30T01:00:00Z",
                 "last_access": "2026-09-30T01:00:00Z", "users": [], "answered_to": [], "tools": [],
                 "calls": 1, "exfiltration_confirmed": false, "evidence": []}],
            "resources": [], "exfiltration": [], "spray_sources": [], "persistence": [],
            "server_compromise": [], "management_access": [],
            "coverage": {"tables": [], "gaps": [], "sampling": [], "statements": []}
        }))
        .expect("a report")
    }

    /// Colour marks headings, the verdict, the suspect's row and the tiers, and nothing else; the
    /// evidence's own escape sequence is made inert before any is added.
    #[test]
    fn colour_marks_headings_suspects_and_tiers_and_only_those() {
        let report = report();
        let plain = render(&report, ReportFormat::Text, &RenderOptions::default());
        let coloured = render(
            &report,
            ReportFormat::Text,
            &RenderOptions {
                colour: true,
                ..RenderOptions::default()
            },
        );
        assert!(!plain.contains('\u{1b}'), "{plain}");
        assert!(coloured.contains("Verdict: \u{1b}[1;31msuspects found\u{1b}[0m"));
        assert!(coloured.contains("\u{1b}[1mSUSPECT IDENTITIES (1)\u{1b}[0m"));
        assert!(
            coloured.contains("\u{1b}[1;31m  bob@contoso.com\\u{1b}[8m"),
            "{coloured}"
        );
        assert!(
            coloured.contains("\n    - a reason\n"),
            "reasons stay plain"
        );
        assert!(coloured.contains("\u{1b}[31m[exfiltrated]\u{1b}[0m"));
        assert!(coloured.contains("\u{1b}[2m[cannot_exclude]\u{1b}[0m"));
        assert!(
            !coloured.contains("\u{1b}[8m"),
            "the evidence's escape is inert"
        );
        let stripped = coloured
            .replace("\u{1b}[1;31m", "")
            .replace("\u{1b}[31m", "")
            .replace("\u{1b}[2m", "")
            .replace("\u{1b}[1m", "")
            .replace("\u{1b}[0m", "");
        assert_eq!(stripped, plain, "without the colour it is the same text");
    }

    /// Every human format shows the same sections of the one document, each escaped for its
    /// medium.
    #[test]
    fn every_format_renders_the_same_sections() {
        let report = report();
        let options = RenderOptions::default();
        let text = render(&report, ReportFormat::Text, &options);
        let markdown = render(&report, ReportFormat::Md, &options);
        let html = render(&report, ReportFormat::Html, &options);
        for (text_heading, heading) in [
            ("SUMMARY", "Summary"),
            ("WHAT CANNOT BE EXCLUDED", "What cannot be excluded"),
            ("SUSPECT IDENTITIES (1)", "Suspect identities (1)"),
            (
                "AFFECTED CUSTOMERS (2: 1 exfiltrated, 0 accessed, 0 exposed, 1 cannot_exclude)",
                "Affected customers (2: 1 exfiltrated, 0 accessed, 0 exposed, 1 cannot\\_exclude)",
            ),
            ("EXFILTRATION (0)", "Exfiltration (0)"),
        ] {
            assert!(
                text.contains(&format!("\n{text_heading}\n")),
                "{text_heading}: {text}"
            );
            assert!(
                markdown.contains(&format!("\n## {heading}\n")),
                "{heading}: {markdown}"
            );
            let heading = heading.replace('\\', "");
            assert!(
                html.contains(&format!(">{heading}</h2>")),
                "{heading}: {html}"
            );
        }
        assert!(markdown.contains("| C-1 | exfiltrated |"), "{markdown}");
        assert!(
            html.contains("<td class=\"tier-exfiltrated\">exfiltrated</td>"),
            "{html}"
        );
        assert!(!html.contains("\u{1b}") && !markdown.contains("\u{1b}"));
    }

    /// With no suspect, the report says whether the evidence could have shown one, in every format.
    #[test]
    fn no_suspect_says_whether_the_evidence_could_show_one() {
        let mut report = report();
        report.suspects.clear();
        let options = RenderOptions::default();
        report.verdict = crate::scope::Verdict::Inconclusive;
        for format in [ReportFormat::Text, ReportFormat::Md, ReportFormat::Html] {
            let text = render(&report, format, &options);
            assert!(
                text.contains("None found, and the evidence cannot show there were none"),
                "{format:?}: {text}"
            );
        }
        report.verdict = crate::scope::Verdict::NothingFound;
        let text = render(&report, ReportFormat::Text, &options);
        assert!(
            text.contains("SUSPECT IDENTITIES (0)\n  None found.\n"),
            "{text}"
        );
    }
}
