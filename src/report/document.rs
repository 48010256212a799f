//! The scope report as a document: sections of typed cells, built once from a [`ScopeReport`],
//! which the text, Markdown and HTML renderers each lay out (`report::render`). A renderer knows
//! the kinds of body (facts, a list, a table, a chart) and of cell (text, code, a time, a count,
//! bytes, a tier, a pointer to the evidence), never a finding: a new finding is a section built
//! here, and every format shows it.

use std::collections::BTreeMap;

use super::summary::{Pointer, Summary, human_bytes, short_blob, shorten_paths, summarise, tiers};
use crate::scope::{ScopeReport, Verdict};
use crate::time::Zone;

/// Attacker calls the Markdown and HTML tables show; the JSON holds them all.
pub const CALLS_SHOWN: usize = 500;

/// The report as its human formats show it.
#[derive(Debug, Clone)]
pub struct Document {
    /// The window: start, end (exclusive), and where its baseline starts.
    pub since: String,
    /// Window end.
    pub until: String,
    /// Baseline start.
    pub baseline_start: String,
    /// "Generated … by mcpforensics …. All times are UTC…".
    pub generated: String,
    /// The answer in a word.
    pub verdict: Verdict,
    /// Where the report came from, in one sentence.
    pub provenance: String,
    /// The sections, in reading order.
    pub sections: Vec<Section>,
}

/// Where a section stands: on the first page, or among the details after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The first page: the answer, the attack chain, what cannot be excluded.
    Summary,
    /// Everything after.
    Details,
}

/// How many rows of a section a format shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shown {
    /// Every row.
    All,
    /// The first `n`, then "… and N more (`where`)".
    First(usize, String),
    /// None: the format leaves the section out.
    Omitted,
}

/// One section of the report.
#[derive(Debug, Clone)]
pub struct Section {
    /// Its anchor (HTML) and name.
    pub id: &'static str,
    /// Its heading.
    pub title: &'static str,
    /// What the heading adds in parentheses (a count, tiers).
    pub tally: Option<String>,
    /// Where it stands.
    pub part: Part,
    /// A paragraph before the body.
    pub lead: Option<Lead>,
    /// Its content.
    pub body: Body,
    /// What to say when the body holds nothing.
    pub empty: Option<String>,
    /// Lines after the body (rules that could not be run).
    pub notes: Vec<String>,
    /// Rows the text format shows.
    pub in_text: Shown,
    /// Rows Markdown and HTML show.
    pub in_documents: Shown,
}

/// A paragraph that opens a section.
#[derive(Debug, Clone)]
pub enum Lead {
    /// The verdict, then what happened.
    Verdict(Verdict, String),
    /// A sentence.
    Text(String),
}

/// A section's content.
#[derive(Debug, Clone)]
pub enum Body {
    /// Labelled values.
    Facts(Vec<(String, String)>),
    /// Statements.
    List(Vec<String>),
    /// Rows under named columns.
    Table(Table),
    /// Attacker calls per day with the coverage gaps (HTML draws it; text and Markdown leave it).
    Chart(DailyCalls),
}

/// A table.
#[derive(Debug, Clone)]
pub struct Table {
    /// Its columns.
    pub columns: Vec<Column>,
    /// Its rows.
    pub rows: Vec<Row>,
}

/// A column of a table.
#[derive(Debug, Clone)]
pub struct Column {
    /// Its name.
    pub name: &'static str,
    /// Whether the text format shows it, and padded to how many characters (0: as it is).
    pub text: Option<usize>,
    /// What the text format writes after its value, where the value alone says too little
    /// (`129 attacker calls`).
    pub unit: Option<&'static str>,
}

/// A row of a table.
#[derive(Debug, Clone, Default)]
pub struct Row {
    /// One cell per column.
    pub cells: Vec<Cell>,
    /// Statements under the row (a suspect's reasons).
    pub details: Vec<String>,
    /// The row names the attacker (a suspect, a destination): shown in red where colour is.
    pub alert: bool,
}

/// A cell.
#[derive(Debug, Clone)]
pub enum Cell {
    /// Text.
    Text(String),
    /// Text shown as code (arguments, hashes, paths), cut to `shown` characters where shown
    /// in a table, whole where hovered.
    Code(String),
    /// A time as the report writes it.
    Time(String),
    /// A short label kept on one line (a phase, a shortened path).
    Tag(String),
    /// A count.
    Count(u64),
    /// Bytes.
    Bytes(u64),
    /// A customer's tier.
    Tier(String),
    /// A record of the evidence, shown short.
    Evidence(Pointer),
}

impl Cell {
    /// The cell as plain text (before any escaping): what Markdown and text show.
    pub fn plain(&self) -> String {
        match self {
            Cell::Text(text)
            | Cell::Code(text)
            | Cell::Time(text)
            | Cell::Tag(text)
            | Cell::Tier(text) => text.clone(),
            Cell::Count(n) => n.to_string(),
            Cell::Bytes(n) => human_bytes(*n),
            Cell::Evidence(pointer) => format!("{}:{}", short_blob(&pointer.blob), pointer.line),
        }
    }
}

/// Attacker calls per day in the window and the coverage gaps, for a chart.
#[derive(Debug, Clone, Default)]
pub struct DailyCalls {
    /// Each day of the window (`YYYY-MM-DD`) and its attacker calls.
    pub days: Vec<(String, u64)>,
    /// Each gap: its table, start and end.
    pub gaps: Vec<(String, String, String)>,
}

fn text(value: &str) -> Cell {
    Cell::Text(value.to_string())
}

fn maybe(value: Option<&str>) -> Cell {
    text(value.unwrap_or(""))
}

fn columns(names: &[(&'static str, Option<usize>)]) -> Vec<Column> {
    names
        .iter()
        .map(|(name, text)| Column {
            name,
            text: *text,
            unit: None,
        })
        .collect()
}

/// Columns with the units the text format writes after their values.
fn with_units(mut columns: Vec<Column>, units: &[(&str, &'static str)]) -> Vec<Column> {
    for column in &mut columns {
        column.unit = units
            .iter()
            .find(|(name, _)| *name == column.name)
            .map(|(_, unit)| *unit);
    }
    columns
}

fn section(id: &'static str, title: &'static str, part: Part, body: Body) -> Section {
    Section {
        id,
        title,
        tally: None,
        part,
        lead: None,
        body,
        empty: None,
        notes: Vec::new(),
        in_text: Shown::All,
        in_documents: Shown::All,
    }
}

fn table(columns: Vec<Column>, rows: Vec<Row>) -> Body {
    Body::Table(Table { columns, rows })
}

fn row(cells: Vec<Cell>) -> Row {
    Row {
        cells,
        ..Row::default()
    }
}

/// Builds the document of a report; `zone` adds local times to the summary's key times.
pub fn build(
    r: &ScopeReport,
    zone: Option<Zone>,
    generated: String,
    case: Option<&str>,
) -> Document {
    let summary = summarise(r, zone);
    let mut cited = BTreeMap::new();
    let mut sections = summary_sections(r, &summary);
    sections.push(chart(r));
    sections.push(suspects(r, &mut cited));
    sections.extend(sightings(r));
    sections.extend(server_findings(r));
    sections.push(attacker_calls(r));
    sections.push(customers(r, case));
    sections.push(exfiltration(r));
    sections.extend(resources(r));
    sections.extend(sigma(r, &mut cited));
    sections.push(coverage(r));
    sections.push(query_pack(r));
    // Every pointer shown short, and every path shortened in running text, in full.
    for section in &sections {
        if let Body::Table(table) = &section.body {
            for cell in table.rows.iter().flat_map(|row| &row.cells) {
                if let Cell::Evidence(pointer) = cell {
                    let short = short_blob(&pointer.blob);
                    if short != pointer.blob {
                        cited.insert(short, pointer.blob.clone());
                    }
                }
            }
        }
    }
    if !cited.is_empty() {
        let mut appendix = section(
            "evidence",
            "Evidence cited",
            Part::Details,
            table(
                columns(&[("shortened", Some(0)), ("blob", Some(0))]),
                cited
                    .into_iter()
                    .map(|(short, full)| row(vec![Cell::Tag(short), Cell::Code(full)]))
                    .collect(),
            ),
        );
        appendix.lead = Some(Lead::Text(
            "The blob paths shortened above, in full.".into(),
        ));
        sections.push(appendix);
    }
    Document {
        since: r.since.clone(),
        until: r.until.clone(),
        baseline_start: r.baseline_start.clone(),
        generated,
        verdict: r.verdict,
        provenance: format!(
            "Evidence: case {}, {} source blobs, manifest SHA-256 {}, query pack SHA-256 {}, mcpforensics {}.",
            r.evidence.case,
            r.evidence.blobs,
            r.evidence.manifest_sha256,
            r.evidence.query_pack_sha256,
            r.evidence.tool_version
        ),
        sections,
    }
}

/// The first page: the answer and totals, the attack chain, what cannot be excluded.
fn summary_sections(r: &ScopeReport, summary: &Summary) -> Vec<Section> {
    let mut facts: Vec<(String, String)> = summary
        .totals
        .iter()
        .map(|(label, value)| ((*label).to_string(), value.clone()))
        .collect();
    if !summary.unmatched_iocs.is_empty() {
        facts.push((
            "indicators matching nothing".into(),
            summary.unmatched_iocs.join(", "),
        ));
    }
    let mut answer = section("summary", "Summary", Part::Summary, Body::Facts(facts));
    answer.lead = Some(Lead::Verdict(r.verdict, summary.headline.clone()));
    let mut out = vec![answer];
    if !summary.chain.is_empty() {
        out.push(section(
            "chain",
            "Attack chain",
            Part::Summary,
            table(
                columns(&[
                    ("phase", Some(15)),
                    ("time", Some(0)),
                    ("what", Some(0)),
                    ("evidence", Some(0)),
                ]),
                summary
                    .chain
                    .iter()
                    .map(|step| {
                        row(vec![
                            Cell::Tag(step.phase.label().to_string()),
                            Cell::Time(step.time.clone()),
                            text(&step.what),
                            step.evidence
                                .clone()
                                .map_or_else(|| text(""), Cell::Evidence),
                        ])
                    })
                    .collect(),
            ),
        ));
    }
    let mut unknown = section(
        "cannot-exclude",
        "What cannot be excluded",
        Part::Summary,
        Body::List(summary.cannot_exclude.clone()),
    );
    unknown.empty = Some(
        "Nothing: every source was present through the window and no record was rejected.".into(),
    );
    out.push(unknown);
    out
}

/// Attacker calls per day, with the gaps in coverage.
fn chart(r: &ScopeReport) -> Section {
    let mut days: BTreeMap<String, u64> = BTreeMap::new();
    if let (Some(since), Some(until)) = (
        crate::time::parse_timestamp(&r.since),
        crate::time::parse_timestamp(&r.until),
    ) {
        let mut day = since.date_naive();
        while day <= until.date_naive() && days.len() <= 400 {
            days.insert(day.to_string(), 0);
            day = day.succ_opt().unwrap_or(day);
        }
    }
    for call in &r.attacker_calls {
        if let Some(entry) = days.get_mut(call.time.get(..10).unwrap_or_default()) {
            *entry += 1;
        }
    }
    let mut chart = section(
        "timeline",
        "Attacker tool calls per day",
        Part::Details,
        Body::Chart(DailyCalls {
            days: days.into_iter().collect(),
            gaps: r
                .coverage
                .gaps
                .iter()
                .map(|g| (g.table.clone(), g.from.clone(), g.to.clone()))
                .collect(),
        }),
    );
    chart.in_text = Shown::Omitted;
    chart
}

fn suspects(r: &ScopeReport, cited: &mut BTreeMap<String, String>) -> Section {
    let rows = r
        .suspects
        .iter()
        .map(|s| {
            let mut details: Vec<String> = s
                .agent_words()
                .map(|words| format!("identity: {words}"))
                .into_iter()
                .collect();
            if let Some(using) = &s.model_use {
                details.push(format!("model calls: {}", using.words()));
            }
            details.extend(s.reasons.iter().map(|x| shorten_paths(x, cited)));
            Row {
                cells: vec![
                    text(&s.user),
                    maybe(s.user_id.as_deref()),
                    Cell::Count(s.tool_calls),
                    text(&format!("{} / {}", s.attacker_sessions, s.own_sessions)),
                    text(&s.ips.join(", ")),
                    Cell::Time(s.first_seen.clone().unwrap_or_default()),
                    Cell::Time(s.last_seen.clone().unwrap_or_default()),
                ],
                details,
                alert: true,
            }
        })
        .collect();
    let mut out = section(
        "suspects",
        "Suspect identities",
        Part::Details,
        table(
            with_units(
                columns(&[
                    ("identity", Some(0)),
                    ("object id", Some(0)),
                    ("attacker calls", Some(0)),
                    ("sessions (attacker / own)", Some(0)),
                    ("addresses", None),
                    ("first seen", Some(0)),
                    ("last seen", Some(0)),
                ]),
                &[
                    ("attacker calls", "attacker calls"),
                    ("sessions (attacker / own)", "sessions (attacker / own)"),
                ],
            ),
            rows,
        ),
    );
    out.tally = Some(r.suspects.len().to_string());
    out.empty = Some(
        if r.verdict == Verdict::Inconclusive {
            "None found, and the evidence cannot show there were none: see what cannot be excluded."
        } else {
            "None found."
        }
        .into(),
    );
    out
}

fn sightings(r: &ScopeReport) -> Option<Section> {
    if r.ioc_sightings.is_empty() {
        return None;
    }
    let mut out = section(
        "indicators",
        "Indicators seen",
        Part::Details,
        table(
            with_units(
                columns(&[
                    ("indicator", Some(0)),
                    ("where", Some(0)),
                    ("records", Some(0)),
                    ("first", Some(0)),
                    ("last", Some(0)),
                ]),
                &[("records", "records")],
            ),
            r.ioc_sightings
                .iter()
                .map(|s| {
                    row(vec![
                        text(&s.value),
                        text(&s.place),
                        Cell::Count(s.records),
                        Cell::Time(s.first.clone()),
                        Cell::Time(s.last.clone()),
                    ])
                })
                .collect(),
        ),
    );
    out.tally = Some(r.ioc_sightings.len().to_string());
    Some(out)
}

fn attacker_calls(r: &ScopeReport) -> Section {
    let mut out = section(
        "calls",
        "Attacker tool calls",
        Part::Details,
        table(
            columns(&[
                ("time", None),
                ("identity", None),
                ("address", None),
                ("tool", None),
                ("arguments", None),
                ("session", None),
                ("rule", None),
                ("evidence", None),
            ]),
            r.attacker_calls
                .iter()
                .map(|c| {
                    row(vec![
                        Cell::Time(c.time.clone()),
                        text(&c.user),
                        maybe(c.client_address.as_deref()),
                        maybe(c.tool.as_deref()),
                        Cell::Code(c.arguments.clone().unwrap_or_default()),
                        maybe(c.session.as_deref()),
                        text(&c.rule),
                        Cell::Evidence(Pointer::new(&c.blob, c.line)),
                    ])
                })
                .collect(),
        ),
    );
    out.tally = Some(r.attacker_calls.len().to_string());
    out.in_text = Shown::Omitted;
    out.in_documents = Shown::First(CALLS_SHOWN, "`scope --format json` holds every call".into());
    out
}

/// Directory changes that keep or widen access.
fn persistence(r: &ScopeReport) -> Option<Section> {
    if r.persistence.is_empty() {
        return None;
    }
    let mut persistence = section(
        "persistence",
        "Persistence",
        Part::Details,
        table(
            columns(&[
                ("time", Some(0)),
                ("what", Some(0)),
                ("by", Some(0)),
                ("from", Some(0)),
                ("suspect", Some(0)),
                ("evidence", Some(0)),
            ]),
            r.persistence
                .iter()
                .map(|p| {
                    row(vec![
                        Cell::Time(p.time.clone()),
                        maybe(p.activity.as_deref()),
                        maybe(p.initiated_by.as_deref()),
                        maybe(p.initiated_by_ip.as_deref()),
                        maybe(p.suspect.as_deref()),
                        Cell::Evidence(Pointer::new(&p.blob, p.line)),
                    ])
                })
                .collect(),
        ),
    );
    persistence.tally = Some(r.persistence.len().to_string());
    Some(persistence)
}

/// Persistence, the server's own copying out, access to its management ports and movement
/// from it: each a section when it found anything.
fn server_findings(r: &ScopeReport) -> Vec<Section> {
    let mut out: Vec<Section> = persistence(r).into_iter().collect();
    if !r.server_compromise.is_empty() {
        let mut server = section(
            "server",
            "Server compromise",
            Part::Details,
            table(
                with_units(
                    columns(&[
                        ("host", Some(0)),
                        ("destination", Some(0)),
                        ("port", Some(0)),
                        ("bytes", Some(0)),
                        ("flows", Some(0)),
                        ("within ten minutes after answered calls", Some(0)),
                        ("first", Some(0)),
                        ("last", Some(0)),
                    ]),
                    &[
                        ("flows", "flows"),
                        (
                            "within ten minutes after answered calls",
                            "within ten minutes after answered calls",
                        ),
                    ],
                ),
                r.server_compromise
                    .iter()
                    .map(|f| Row {
                        cells: vec![
                            text(&f.host),
                            text(&f.destination_ip),
                            text(&f.destination_port.map_or("?".into(), |p| p.to_string())),
                            Cell::Bytes(f.bytes),
                            Cell::Count(f.flows),
                            Cell::Bytes(f.following_bytes),
                            Cell::Time(f.first.clone()),
                            Cell::Time(f.last.clone()),
                        ],
                        details: Vec::new(),
                        alert: true,
                    })
                    .collect(),
            ),
        );
        server.lead = Some(Lead::Text(
            "The MCP server itself copied data out; no identity was needed.".into(),
        ));
        out.push(server);
    }
    if !r.management_access.is_empty() {
        out.push(section(
            "management",
            "Management access to the MCP hosts",
            Part::Details,
            table(
                with_units(
                    columns(&[
                        ("from", Some(0)),
                        ("host", Some(0)),
                        ("port", Some(0)),
                        ("flows", Some(0)),
                        ("bytes", Some(0)),
                        ("first", Some(0)),
                        ("last", Some(0)),
                    ]),
                    &[("flows", "flows"), ("port", "port")],
                ),
                r.management_access
                    .iter()
                    .map(|m| {
                        row(vec![
                            text(&m.source_ip),
                            text(&m.host),
                            text(&m.port.to_string()),
                            Cell::Count(m.flows),
                            Cell::Bytes(m.bytes),
                            Cell::Time(m.first.clone()),
                            Cell::Time(m.last.clone()),
                        ])
                    })
                    .collect(),
            ),
        ));
    }
    if !r.lateral_movement.is_empty() {
        out.push(section(
            "lateral",
            "Lateral movement",
            Part::Details,
            table(
                with_units(
                    columns(&[
                        ("from", Some(0)),
                        ("why", Some(0)),
                        ("to", Some(0)),
                        ("port", Some(0)),
                        ("flows", Some(0)),
                        ("first", Some(0)),
                    ]),
                    &[("flows", "flows"), ("port", "port")],
                ),
                r.lateral_movement
                    .iter()
                    .map(|l| {
                        row(vec![
                            text(&l.source_ip),
                            text(&l.source),
                            text(&l.destination_ip),
                            text(&l.port.to_string()),
                            Cell::Count(l.flows),
                            Cell::Time(l.first.clone()),
                        ])
                    })
                    .collect(),
            ),
        ));
    }
    out
}

/// "N exfiltrated, N accessed, N exposed, N cannot_exclude".
fn tier_counts(r: &ScopeReport) -> String {
    tiers(r)
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

fn customers(r: &ScopeReport, case: Option<&str>) -> Section {
    let mut out = section(
        "customers",
        "Affected customers",
        Part::Details,
        table(
            with_units(
                columns(&[
                    ("customer", Some(14)),
                    ("tier", Some(0)),
                    ("first access", Some(0)),
                    ("last access", Some(0)),
                    ("identities", None),
                    ("answered to (not suspects)", None),
                    ("tools", Some(0)),
                    ("calls", Some(0)),
                    ("exfiltration confirmed", None),
                ]),
                &[("calls", "calls")],
            ),
            r.affected_customers
                .iter()
                .map(|c| {
                    row(vec![
                        text(&c.customer_id),
                        Cell::Tier(c.tier.clone()),
                        Cell::Time(c.first_access.clone()),
                        Cell::Time(c.last_access.clone()),
                        text(&c.users.join(", ")),
                        text(&c.answered_to.join(", ")),
                        text(&c.tools.join(", ")),
                        Cell::Count(c.calls),
                        text(if c.exfiltration_confirmed {
                            "yes"
                        } else {
                            "no"
                        }),
                    ])
                })
                .collect(),
        ),
    );
    out.tally = Some(format!(
        "{}: {}",
        r.affected_customers.len(),
        tier_counts(r)
    ));
    out.in_text = Shown::First(15, format!("export them: {}", export_hint(r, case)));
    out
}

fn exfiltration(r: &ScopeReport) -> Section {
    let mut out = section(
        "exfiltration",
        "Exfiltration",
        Part::Details,
        table(
            columns(&[
                ("destination", Some(15)),
                ("host", Some(0)),
                ("bytes", Some(0)),
                ("first", Some(0)),
                ("last", Some(0)),
                ("path", Some(0)),
            ]),
            r.exfiltration
                .iter()
                .map(|e| Row {
                    cells: vec![
                        text(&e.destination_ip),
                        maybe(e.destination_host.as_deref()),
                        Cell::Bytes(e.bytes),
                        Cell::Time(e.first.clone().unwrap_or_default()),
                        Cell::Time(e.last.clone().unwrap_or_default()),
                        text(&e.path),
                    ],
                    details: Vec::new(),
                    alert: true,
                })
                .collect(),
        ),
    );
    out.tally = Some(r.exfiltration.len().to_string());
    out.empty = Some("None found.".into());
    out
}

fn resources(r: &ScopeReport) -> Option<Section> {
    if r.resources.is_empty() {
        return None;
    }
    let mut out = section(
        "resources",
        "Resources reached",
        Part::Details,
        table(
            with_units(
                columns(&[
                    ("kind", Some(0)),
                    ("target", Some(0)),
                    ("detail", Some(0)),
                    ("calls", Some(0)),
                ]),
                &[("calls", "calls")],
            ),
            r.resources
                .iter()
                .map(|x| {
                    row(vec![
                        text(&x.kind),
                        maybe(x.target.as_deref()),
                        Cell::Code(x.detail.clone().unwrap_or_default()),
                        Cell::Count(x.calls),
                    ])
                })
                .collect(),
        ),
    );
    out.tally = Some(r.resources.len().to_string());
    out.in_text = Shown::First(10, "scope --format json or html lists them all".into());
    Some(out)
}

fn sigma(r: &ScopeReport, cited: &mut BTreeMap<String, String>) -> Option<Section> {
    let sigma = r.sigma.as_ref()?;
    let rows = sigma
        .hits
        .iter()
        .map(|hit| {
            let evidence = match (&hit.blob, hit.line) {
                (Some(blob), Some(line)) => Cell::Evidence(Pointer::new(blob, line.max(0) as u64)),
                _ => text(&format!("{} records correlated", hit.correlated.len())),
            };
            row(vec![
                Cell::Time(hit.time.clone().unwrap_or_default()),
                maybe(hit.level.as_deref()),
                text(&hit.rule),
                text(&hit.table),
                maybe(hit.identity.as_deref()),
                maybe(hit.address.as_deref()),
                evidence,
            ])
        })
        .collect();
    let mut out = section(
        "sigma",
        "Sigma rules",
        Part::Details,
        table(
            columns(&[
                ("time", Some(0)),
                ("level", Some(0)),
                ("rule", Some(0)),
                ("table", Some(0)),
                ("identity", Some(0)),
                ("address", Some(0)),
                ("evidence", Some(0)),
            ]),
            rows,
        ),
    );
    out.tally = Some(format!("{} hits", sigma.hits.len()));
    out.lead = Some(Lead::Text(format!(
        "{} hits in the window; {} rules ran, {} on tables without records in the window, {} not run.",
        sigma.hits.len(),
        sigma.ran,
        sigma.without_evidence,
        sigma.refused.len()
    )));
    out.notes = sigma
        .refused
        .iter()
        .map(|refused| {
            format!(
                "not run: {} ({}): {}",
                refused.rule,
                shorten_paths(&refused.path, cited),
                refused.reason
            )
        })
        .collect();
    out.in_text = Shown::First(20, "scope --format json or html lists them all".into());
    Some(out)
}

fn coverage(r: &ScopeReport) -> Section {
    let mut out = section(
        "coverage",
        "Coverage",
        Part::Details,
        table(
            columns(&[
                ("table", Some(0)),
                ("baseline records", Some(0)),
                ("window records", Some(0)),
                ("status", Some(0)),
            ]),
            r.coverage
                .tables
                .iter()
                .map(|t| {
                    row(vec![
                        text(&t.table),
                        Cell::Count(t.baseline_records),
                        Cell::Count(t.window_records),
                        text(&t.status),
                    ])
                })
                .collect(),
        ),
    );
    // The text says what coverage means for the answer under "What cannot be excluded".
    out.in_text = Shown::Omitted;
    out
}

fn query_pack(r: &ScopeReport) -> Section {
    let mut out = section(
        "provenance",
        "Query pack",
        Part::Details,
        table(
            columns(&[("query", Some(20)), ("SHA-256 of its SQL", Some(0))]),
            r.evidence
                .queries
                .iter()
                .map(|(name, sha256)| row(vec![text(name), Cell::Code(sha256.clone())]))
                .collect(),
        ),
    );
    out.tally = Some(format!("sha256 {}", r.evidence.query_pack_sha256));
    out
}
