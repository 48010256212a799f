//! `mcpforensics sigma`: Sigma rules on a case, the hits with their evidence and a summary per
//! rule.

use std::io::Write;
use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Array, StringArray, UInt64Array};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;

use super::{open_case_to_read, resolve_case, runtime};
use crate::cli::{SigmaArgs, SigmaFormat, SigmaLevel};
use crate::error::{Error, Result, exit};
use crate::report::table::{self, TableFormat};
use crate::sigma::logsource::LogSourceMap;
use crate::sigma::{RuleState, SigmaReport, SigmaRequest};

pub(super) fn run_sigma(args: &SigmaArgs, settings: &crate::query::QuerySettings) -> Result<u8> {
    if let Some(out) = &args.out {
        super::check_output(out, args.force)?;
    }
    let case_dir = resolve_case(&args.case)?;
    let (loaded, map) = load_rules(&args.rules, args.logsources.as_deref(), &case_dir)?;
    let case = open_case_to_read(&case_dir, &crate::cli::environment_credentials())?;
    let spec = args.window.spec();
    let (since, until) = if spec.since.is_some() || spec.until.is_some() {
        let (start, end) = case.evidence_span()?;
        let window = spec.resolve(start, end)?;
        (Some(window.since), Some(window.until))
    } else {
        (None, None)
    };
    let request = SigmaRequest {
        since,
        until,
        min_level: args.min_level.map(level_name),
        settings: settings.clone(),
    };
    crate::tell!(
        "sigma: {} rule document(s) on {}",
        loaded.len(),
        case_dir.display()
    );
    let report = runtime()?.block_on(crate::sigma::run(&case, loaded, &map, &request))?;
    let mut document = Vec::new();
    write_hits(args.format, &report, &mut document).map_err(|source| Error::Io {
        context: "writing the hits".into(),
        source,
    })?;
    match &args.out {
        Some(path) => crate::case::write_atomic(path, &document)?,
        None => {
            use std::io::IsTerminal;
            let written = if std::io::stdout().is_terminal() && args.format != SigmaFormat::Table {
                crate::console::print_document(&String::from_utf8_lossy(&document))
            } else {
                crate::console::write_stdout(&document)
            };
            crate::console::quiet_when_closed(written).map_err(|source| Error::Io {
                context: "writing the hits".into(),
                source,
            })?;
        }
    }
    // The table and the JSON document hold the summary; CSV and JSON lines hold hits only.
    if matches!(args.format, SigmaFormat::Csv | SigmaFormat::Jsonl) || args.out.is_some() {
        tell_summary(&report);
    }
    Ok(exit_code(&report))
}

/// The rules under `rules`, and the log-source map: `logsources`, else the case's own
/// (`sigma-logsources.yaml` in the case folder), else the built-in one.
pub(super) fn load_rules(
    rules: &[std::path::PathBuf],
    logsources: Option<&std::path::Path>,
    case_dir: &std::path::Path,
) -> Result<(Vec<crate::sigma::rules::Loaded>, LogSourceMap)> {
    let map = match logsources {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
                context: format!("reading the log-source map {}", path.display()),
                source,
            })?;
            LogSourceMap::parse(&text)
                .map_err(|e| Error::Usage(format!("the log-source map {}: {e}", path.display())))?
        }
        None => {
            let (map, path) = LogSourceMap::of_case(case_dir).map_err(Error::Usage)?;
            if let Some(path) = path {
                crate::tell!("sigma: log sources from {}", path.display());
            }
            map
        }
    };
    let loaded = crate::sigma::rules::load(rules).map_err(|source| Error::Io {
        context: "reading the rules".into(),
        source,
    })?;
    if loaded.is_empty() {
        return Err(Error::Usage(format!(
            "no Sigma rule file (.yml, .yaml) in {}",
            rules
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok((loaded, map))
}

/// The rules' outcome as the scope report's Sigma section.
pub(super) fn scope_findings(
    rules: &[std::path::PathBuf],
    report: SigmaReport,
) -> crate::scope::SigmaFindings {
    crate::scope::SigmaFindings {
        rules: rules.iter().map(|p| p.display().to_string()).collect(),
        ran: report
            .rules
            .iter()
            .filter(|r| r.state == RuleState::Ran)
            .count() as u64,
        without_evidence: report.without_evidence() as u64,
        refused: report
            .rules
            .iter()
            .filter(|r| r.state == RuleState::Refused)
            .map(|r| crate::scope::RefusedRule {
                rule: r.title.clone(),
                path: r.path.clone(),
                reason: r.reason.clone().unwrap_or_default(),
            })
            .collect(),
        hits: report
            .hits
            .into_iter()
            .map(|h| crate::scope::RuleHit {
                time: h.time,
                rule: h.rule,
                rule_id: h.rule_id,
                level: h.level,
                tags: h.tags,
                table: h.table,
                identity: h.identity,
                address: h.address,
                blob: h.blob,
                line: h.line,
                blob_sha256: h.blob_sha256,
                correlated: h.correlated,
            })
            .collect(),
    }
}

fn level_name(level: SigmaLevel) -> String {
    match level {
        SigmaLevel::Informational => "informational",
        SigmaLevel::Low => "low",
        SigmaLevel::Medium => "medium",
        SigmaLevel::High => "high",
        SigmaLevel::Critical => "critical",
    }
    .into()
}

/// 3 when a rule could not be run; 4 when nothing hit and some rule's tables hold nothing in the
/// window; else 0.
fn exit_code(report: &SigmaReport) -> u8 {
    if report.refused() > 0 {
        exit::PARTIAL
    } else if report.hits.is_empty() && report.without_evidence() > 0 {
        exit::INCONCLUSIVE
    } else {
        exit::OK
    }
}

/// The hits as a record batch, in the columns every format shows.
fn hits_batch(report: &SigmaReport) -> std::io::Result<RecordBatch> {
    let text = |f: &dyn Fn(&crate::sigma::Hit) -> Option<String>| -> ArrayRef {
        Arc::new(StringArray::from(
            report.hits.iter().map(f).collect::<Vec<Option<String>>>(),
        ))
    };
    let columns: Vec<(&str, ArrayRef)> = vec![
        ("time", text(&|h| h.time.clone())),
        ("rule", text(&|h| Some(h.rule.clone()))),
        ("level", text(&|h| h.level.clone())),
        ("table", text(&|h| Some(h.table.clone()))),
        ("identity", text(&|h| h.identity.clone())),
        ("address", text(&|h| h.address.clone())),
        ("rule_id", text(&|h| h.rule_id.clone())),
        ("status", text(&|h| h.status.clone())),
        ("tags", text(&|h| Some(h.tags.clone()))),
        ("blob", text(&|h| h.blob.clone())),
        (
            "line",
            Arc::new(Int64Array::from(
                report.hits.iter().map(|h| h.line).collect::<Vec<_>>(),
            )),
        ),
        ("blob_sha256", text(&|h| h.blob_sha256.clone())),
    ];
    let schema = Arc::new(Schema::new(
        columns
            .iter()
            .map(|(name, array)| Field::new(*name, array.data_type().clone(), true))
            .collect::<Vec<_>>(),
    ));
    RecordBatch::try_new(schema, columns.into_iter().map(|(_, a)| a).collect())
        .map_err(|e| std::io::Error::other(e.to_string()))
}

/// The summary per rule as a record batch.
fn summary_batch(report: &SigmaReport) -> std::io::Result<RecordBatch> {
    let text = |values: Vec<Option<String>>| -> ArrayRef { Arc::new(StringArray::from(values)) };
    let rules = &report.rules;
    let columns: Vec<(&str, ArrayRef)> = vec![
        (
            "outcome",
            text(
                rules
                    .iter()
                    .map(|r| Some(state_name(&r.state).into()))
                    .collect(),
            ),
        ),
        (
            "hits",
            Arc::new(UInt64Array::from(
                rules.iter().map(|r| r.hits).collect::<Vec<_>>(),
            )),
        ),
        (
            "first",
            text(rules.iter().map(|r| r.first.clone()).collect()),
        ),
        ("last", text(rules.iter().map(|r| r.last.clone()).collect())),
        (
            "level",
            text(rules.iter().map(|r| r.level.clone()).collect()),
        ),
        (
            "rule",
            text(rules.iter().map(|r| Some(r.title.clone())).collect()),
        ),
        (
            "reason",
            text(rules.iter().map(|r| r.reason.clone()).collect()),
        ),
        (
            "file",
            text(rules.iter().map(|r| Some(r.path.clone())).collect()),
        ),
    ];
    let schema = Arc::new(Schema::new(
        columns
            .iter()
            .map(|(name, array)| {
                Field::new(
                    *name,
                    array.data_type().clone(),
                    array.data_type() != &DataType::UInt64,
                )
            })
            .collect::<Vec<_>>(),
    ));
    RecordBatch::try_new(schema, columns.into_iter().map(|(_, a)| a).collect())
        .map_err(|e| std::io::Error::other(e.to_string()))
}

fn state_name(state: &RuleState) -> &'static str {
    match state {
        RuleState::Ran => "ran",
        RuleState::NoEvidence => "no evidence",
        RuleState::BelowMinLevel => "below --min-level",
        RuleState::Refused => "not run",
    }
}

fn write_hits(
    format: SigmaFormat,
    report: &SigmaReport,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    match format {
        SigmaFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, report)?;
            writeln!(out)
        }
        SigmaFormat::Jsonl => {
            for hit in &report.hits {
                serde_json::to_writer(&mut *out, hit)?;
                writeln!(out)?;
            }
            Ok(())
        }
        SigmaFormat::Csv => {
            let batch = hits_batch(report)?;
            table::write(TableFormat::Csv, &batch.schema(), &[batch], out)
        }
        SigmaFormat::Table => {
            let batch = hits_batch(report)?;
            if report.hits.is_empty() {
                writeln!(out, "no hits")?;
            } else {
                table::write(TableFormat::Table, &batch.schema(), &[batch], out)?;
            }
            writeln!(out)?;
            let summary = summary_batch(report)?;
            table::write(TableFormat::Table, &summary.schema(), &[summary], out)
        }
    }
}

/// The summary per rule on standard error, for the formats whose output holds hits only.
fn tell_summary(report: &SigmaReport) {
    let ran = report
        .rules
        .iter()
        .filter(|r| r.state == RuleState::Ran)
        .count();
    let hit = report.rules.iter().filter(|r| r.hits > 0).count();
    crate::tell!(
        "sigma: {} rule(s) ran, {hit} hit ({} hits); {} could not run; {} found no records to run on",
        ran,
        report.hits.len(),
        report.refused(),
        report.without_evidence()
    );
    for rule in &report.rules {
        match rule.state {
            RuleState::Ran if rule.hits > 0 => crate::tell!(
                "  {} hit(s) {} .. {}: {}",
                rule.hits,
                rule.first.as_deref().unwrap_or("?"),
                rule.last.as_deref().unwrap_or("?"),
                crate::escape::terminal_safe(&rule.title)
            ),
            RuleState::Refused | RuleState::NoEvidence => crate::tell!(
                "  {}: {} ({})",
                state_name(&rule.state),
                crate::escape::terminal_safe(&rule.title),
                crate::escape::terminal_safe(rule.reason.as_deref().unwrap_or(""))
            ),
            _ => {}
        }
    }
}
