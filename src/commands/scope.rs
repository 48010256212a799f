//! `mcpforensics scope` and `mcpforensics export customers`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use super::{resolve_window, runtime, warn_file_check};
use crate::cli::{EvidenceArgs, ExportCustomersArgs, ScopeArgs, ScopeInputs};
use crate::error::{Error, Result, exit};
use crate::ingest::{IngestOptions, ingest_observed};
use crate::query::QuerySettings;
use crate::report::runs::IngestProgress;
use crate::report::scope_report::{RenderOptions, ReportFormat, customers_csv, render};
use crate::scope::{ScopeReport, ScopeRequest, scope_with_timings};

pub(super) fn run_scope(args: &ScopeArgs, settings: &QuerySettings) -> Result<u8> {
    if let Some(out) = &args.out {
        super::check_output(out, args.force)?;
    }
    if let Some(customers) = &args.customers {
        super::check_output(customers, args.force)?;
        if args.out.as_deref().unwrap_or(Path::new("-")) == customers.as_path() {
            return Err(Error::Usage(format!(
                "--customers and the report both go to {}: give --customers its own file",
                customers.display()
            )));
        }
    }
    let (mut report, mut code, case_dir) = build_report(&args.inputs, settings)?;
    if !args.sigma.is_empty() {
        let findings = sigma_on_window(&args.sigma, &case_dir, &args.inputs, &report, settings)?;
        if !findings.refused.is_empty() && code == exit::OK {
            code = exit::PARTIAL;
        }
        report.sigma = Some(findings);
    }
    let terminal = args.out.is_none() && args.format == ReportFormat::Text;
    let colour = terminal && super::colour_wanted();
    let options = RenderOptions {
        case: Some(case_dir.display().to_string()),
        generated: Some(generation_time()?),
        zone: args.tz,
        colour,
    };
    let text = render(&report, args.format, &options);
    if terminal {
        // Coloured text is terminal-safe already: the renderer made every cell inert.
        if colour {
            crate::console::write_stdout(text.as_bytes())
        } else {
            crate::console::print_document(&text)
        }
        .map_err(|source| Error::Io {
            context: "writing the report".into(),
            source,
        })?;
    } else {
        write_output(args.out.as_deref(), &text)?;
    }
    if let Some(customers) = &args.customers {
        write_customers(&report, customers)?;
    }
    Ok(code)
}

/// The Sigma rules run on the window the report scoped (after any widening).
fn sigma_on_window(
    rules: &[PathBuf],
    case_dir: &Path,
    inputs: &ScopeInputs,
    report: &ScopeReport,
    settings: &QuerySettings,
) -> Result<crate::scope::SigmaFindings> {
    let (loaded, map) = super::sigma::load_rules(rules, None, case_dir)?;
    let case = super::open_case_to_read(case_dir, &inputs.evidence.azure.credentials())?;
    let instant = |text: &str| {
        chrono::DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&chrono::Utc))
            .map_err(|e| Error::Usage(format!("the report's window {text:?}: {e}")))
    };
    let request = crate::sigma::SigmaRequest {
        since: Some(instant(&report.since)?),
        until: Some(instant(&report.until)?),
        min_level: None,
        settings: settings.clone(),
    };
    let outcome = runtime()?.block_on(crate::sigma::run(&case, loaded, &map, &request))?;
    Ok(super::sigma::scope_findings(rules, outcome))
}

/// When the report is made: now, or `SOURCE_DATE_EPOCH` (seconds) to reproduce an earlier
/// report byte for byte.
fn generation_time() -> Result<chrono::DateTime<chrono::Utc>> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(text) if !text.trim().is_empty() => text
            .trim()
            .parse::<i64>()
            .ok()
            .and_then(|seconds| chrono::DateTime::from_timestamp(seconds, 0))
            .ok_or_else(|| {
                Error::Usage(format!(
                    "SOURCE_DATE_EPOCH {text:?} is not a number of seconds since 1970"
                ))
            }),
        _ => Ok(chrono::Utc::now()),
    }
}

pub(super) fn run_export_customers(
    args: &ExportCustomersArgs,
    settings: &QuerySettings,
) -> Result<u8> {
    super::check_output(&args.out, args.force)?;
    let (report, code, _) = build_report(&args.inputs, settings)?;
    write_customers(&report, &args.out)?;
    Ok(code)
}

/// The report's affected customers as CSV to `out` (`-`: standard output).
fn write_customers(report: &ScopeReport, out: &Path) -> Result<()> {
    let csv = customers_csv(report);
    let file = (out.as_os_str() != "-").then_some(out);
    write_output(file, &csv)?;
    if file.is_some() {
        crate::tell!(
            "wrote {} affected customers to {}",
            report.affected_customers.len(),
            out.display()
        );
    }
    Ok(())
}

pub(super) fn run_export_xlsx(
    args: &crate::cli::ExportXlsxArgs,
    settings: &QuerySettings,
) -> Result<u8> {
    super::check_output(&args.out, args.force)?;
    let (report, code, _) = build_report(&args.inputs, settings)?;
    let workbook = crate::report::workbook::to_bytes(&report).map_err(|e| Error::Io {
        context: format!("writing {}", args.out.display()),
        source: std::io::Error::other(e.to_string()),
    })?;
    crate::case::write_atomic(&args.out, &workbook)?;
    crate::tell!(
        "wrote {} affected customers, {} suspects, {} attacker calls and {} exfiltration paths to {}",
        report.affected_customers.len(),
        report.suspects.len(),
        report.attacker_calls.len(),
        report.exfiltration.len(),
        args.out.display()
    );
    Ok(code)
}

/// The report, its exit code, and the case it was made from.
fn build_report(
    inputs: &ScopeInputs,
    settings: &QuerySettings,
) -> Result<(ScopeReport, u8, PathBuf)> {
    let (evidence, window, iocs) = (&inputs.evidence, &inputs.window, &inputs.iocs);
    let (case_dir, code) = evidence_case(evidence)?;
    let started = std::time::Instant::now();
    let case = super::open_case_to_read(&case_dir, &evidence.azure.credentials())?;
    let params = resolve_window(&case, window)?;
    let opened = started.elapsed().as_secs_f64();
    let indicators = iocs.indicators();
    let request = ScopeRequest {
        params,
        iocs: indicators,
        all_days: inputs.all_days,
        method: super::window_method(window).into(),
        settings: settings.clone(),
    };
    // The manifest's SHA-256 (hundreds of MB at scale), hashed beside the queries; the report
    // takes it from the case once done (or hashes it itself, should the queries finish first).
    let runtime = runtime()?;
    let (report, timings) = std::thread::scope(|threads| {
        threads.spawn(|| case.summary().map(|_| ()));
        runtime.block_on(scope_with_timings(&case, &request))
    })?;
    if inputs.timings {
        for timing in &timings {
            let (name, seconds) = (&timing.name, timing.seconds);
            let mib = timing.held as f64 / f64::from(1u32 << 20);
            let kept = if timing.in_file {
                ", a Parquet file the executors read"
            } else {
                ""
            };
            match timing.rows {
                Some(rows) => crate::tell!(
                    "{name:<20} {seconds:>8.3} s {rows:>9} rows {mib:>9.1} MiB held{kept}"
                ),
                None => crate::tell!(
                    "{name:<20} {seconds:>8.3} s a view over the call index: each query reads its columns, 0 MiB held"
                ),
            }
        }
        let total: f64 = timings.iter().map(|timing| timing.seconds).sum();
        crate::tell!("{:<20} {total:>8.3} s", "queries");
        let all = started.elapsed().as_secs_f64();
        crate::tell!("{:<20} {opened:>8.3} s", "opening the case");
        crate::tell!(
            "{:<20} {:>8.3} s (the session, the manifest's SHA-256, the findings)",
            "the rest",
            (all - total - opened).max(0.0)
        );
    }
    if inputs.timings || std::io::stderr().is_terminal() {
        crate::tell!("{}", files_read(&report));
    }
    let files = crate::case::verify::FileCheck {
        missing: report.evidence.case_files_missing.clone(),
        unexpected: report.evidence.case_files_unlisted.clone(),
        interrupted_commit: crate::case::journal::pending(case.root()),
    };
    let code = warn_file_check(&files, code);
    let code = if report.verdict == crate::scope::Verdict::Inconclusive && code == exit::OK {
        crate::tell!(
            "warning: the scope is inconclusive: {}",
            report
                .coverage
                .statements
                .first()
                .map_or("", String::as_str)
        );
        exit::INCONCLUSIVE
    } else {
        code
    };
    Ok((report, code, case_dir))
}

/// One line on how much of the case the report read.
pub(crate) fn files_read(report: &ScopeReport) -> String {
    let evidence = &report.evidence;
    let calls = match &evidence.call_index {
        Some(dir) => format!(
            "; the tool calls from the call index {dir}, derived at ingest from the files this manifest lists"
        ),
        None => "; the tool calls related from the telemetry rows, slower: the case has no current call index (`mcpforensics ingest` of its source derives one, reading nothing new)".into(),
    };
    match &evidence.days_read {
        Some([first, last]) => format!(
            "read {} of {} case files: the days {first} to {last} (baseline and window), and the identity index (in a case ingested before it existed, the sign-ins of every day){calls}",
            evidence.case_files_read, evidence.case_files
        ),
        None => format!(
            "read {} of {} case files (every day){calls}",
            evidence.case_files_read, evidence.case_files
        ),
    }
}

/// The case to scope: --case, or --source ingested first (into --case or a cache case), or the bundled sample.
fn evidence_case(args: &EvidenceArgs) -> Result<(PathBuf, u8)> {
    let Some(source) = &args.source else {
        return Ok((
            super::resolve_case(&crate::cli::CaseArgs {
                case: args.case.clone(),
            })?,
            exit::OK,
        ));
    };
    let evidence = crate::sources::open_location(source, &args.azure.credentials(), (None, None))?;
    let case_dir = match &args.case {
        Some(case) => case.clone(),
        None => {
            let key = xxhash_rust::xxh3::xxh3_64(evidence.describe().as_bytes());
            crate::bundled::cache_dir().join(format!("source-case-{key:016x}"))
        }
    };
    let options = IngestOptions {
        command: std::env::args().collect(),
        derive: Some(crate::query::call_index::ensure_blocking),
        ..IngestOptions::default()
    };
    let progress = IngestProgress::new(std::io::stderr().is_terminal());
    let summary = ingest_observed(evidence.as_ref(), &case_dir, &options, &|event| {
        progress.observe(event)
    })?;
    crate::tell!(
        "ingested {} blobs ({} rows, {} rejected, {} duplicates) into {}",
        summary.files,
        summary.records,
        summary.rejected,
        summary.duplicates,
        case_dir.display()
    );
    Ok((
        case_dir,
        if summary.has_losses() {
            exit::PARTIAL
        } else {
            exit::OK
        },
    ))
}

/// Writes to a file atomically (temporary file, then rename), or to standard output.
fn write_output(path: Option<&Path>, text: &str) -> Result<()> {
    match path {
        Some(path) => Ok(crate::case::write_atomic(path, text.as_bytes())?),
        None => crate::console::print_document(text).map_err(|source| Error::Io {
            context: "writing the report".into(),
            source,
        }),
    }
}
