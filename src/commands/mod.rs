//! One function per subcommand: the sequence of steps, no format, storage or SQL detail.

mod ingest;
mod repl;
mod scope;
mod sql;
mod timeline;

use std::io::IsTerminal;
use std::path::PathBuf;

use crate::cli::{CaseArgs, Cli, Command, QueriesCommand, SampleDataCommand};
use crate::error::{Error, Result, exit};

/// Runs a parsed command line; returns the exit code on success (0, or 3 when records were rejected).
pub fn run(cli: Cli) -> Result<u8> {
    if let Some(mib) = cli.command.query_memory_mib() {
        let mib = usize::try_from(mib).unwrap_or(usize::MAX);
        crate::query::set_memory_limit(mib.saturating_mul(1024 * 1024));
    }
    match cli.command {
        Command::Ingest(args) => ingest::run(&args),
        Command::Sql(args) => sql::run_sql(&args),
        Command::Tables(args) => sql::run_tables(&args),
        Command::Scope(args) => scope::run_scope(&args),
        Command::Timeline(args) => timeline::run_timeline(&args),
        Command::Export(crate::cli::ExportCommand::Bookmarks(args)) => {
            timeline::run_export_bookmarks(&args)
        }
        Command::Verify(args) => run_verify(&args),
        Command::Export(crate::cli::ExportCommand::Xlsx(args)) => scope::run_export_xlsx(&args),
        Command::Export(crate::cli::ExportCommand::Customers(args)) => {
            scope::run_export_customers(&args)
        }
        Command::Queries(QueriesCommand::List) => sql::run_queries_list(),
        Command::Queries(QueriesCommand::Run(args)) => sql::run_queries_run(&args),
        Command::SampleData(SampleDataCommand::Generate(args)) => {
            crate::sample::run_generate(&args).map(|()| exit::OK)
        }
        Command::SampleData(SampleDataCommand::Where) => {
            crate::say!(
                "sample source: {}",
                crate::bundled::sample_source_dir().display()
            );
            crate::say!("cache:         {}", crate::bundled::cache_dir().display());
            Ok(exit::OK)
        }
        Command::Completions { shell } => {
            let mut command = <crate::cli::Cli as clap::CommandFactory>::command();
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut command, "mcpforensics", &mut script);
            write_generated(&script, "the completion script")
        }
        Command::Man => {
            let command = <crate::cli::Cli as clap::CommandFactory>::command();
            let mut page = Vec::new();
            clap_mangen::Man::new(command)
                .render(&mut page)
                .map_err(|e| Error::Io {
                    context: "rendering the man page".into(),
                    source: e,
                })?;
            write_generated(&page, "the man page")
        }
        Command::SchemaDoc => {
            crate::report::print_document(&crate::schema_doc::render()).map_err(|e| Error::Io {
                context: "writing the schema".into(),
                source: e,
            })?;
            Ok(exit::OK)
        }
    }
}

/// Writes generated text (completions, the man page) to standard output as it is.
fn write_generated(bytes: &[u8], what: &str) -> Result<u8> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Io {
            context: format!("writing {what}"),
            source: e,
        }),
        _ => Ok(exit::OK),
    }
}

/// The case to read: `--case`, else the bundled sample's cache case.
fn resolve_case(args: &CaseArgs) -> Result<PathBuf> {
    match &args.case {
        Some(case) => Ok(case.clone()),
        None => crate::bundled::sample_case(std::io::stderr().is_terminal()),
    }
}

/// The exclusive end of the evidence: the second after the manifest's latest row time (now, for
/// an empty case).
fn evidence_end(case: &crate::case::Case) -> Result<chrono::DateTime<chrono::Utc>> {
    // The totals alone: resolving a window needs neither the records nor the manifest's hash.
    let last = case.totals()?.last().unwrap_or_else(chrono::Utc::now);
    Ok(
        last - chrono::Duration::nanoseconds(i64::from(last.timestamp_subsec_nanos()))
            + chrono::Duration::seconds(1),
    )
}

/// Resolves `--since/--until/--baseline-days` against the case's evidence (the manifest's latest row time).
fn resolve_window(
    case: &crate::case::Case,
    window: &crate::cli::WindowArgs,
) -> Result<crate::query::pack::PackParams> {
    let end = evidence_end(case)?;
    let since = window.since.resolve(end);
    let until = window.until.map_or(end, |u| u.resolve(end));
    if since >= until {
        return Err(Error::Usage(format!(
            "--since {} is not before the end of the window {}",
            crate::time::format_utc(since),
            crate::time::format_utc(until)
        )));
    }
    let baseline_start = since - chrono::Duration::days(i64::from(window.baseline_days));
    Ok(crate::query::pack::PackParams {
        since,
        until,
        baseline_start,
    })
}

fn run_verify(args: &crate::cli::VerifyArgs) -> Result<u8> {
    let case_dir = resolve_case(&args.case)?;
    let case = crate::case::Case::open(&case_dir)?;
    let source = match &args.source {
        Some(location) => Some(crate::sources::open_location(
            location,
            &args.azure.credentials(),
            (None, None),
        )?),
        None => None,
    };
    let report = crate::case::verify::verify(&case, source.as_deref())?;
    if args.format == crate::cli::SummaryFormat::Json {
        crate::say!(
            "{}",
            serde_json::to_string_pretty(&report).map_err(|e| Error::Io {
                context: "writing JSON".into(),
                source: e.into()
            })?
        );
    } else {
        let safe = crate::report::terminal_safe;
        crate::say!("manifest.json sha256 {}", report.manifest_sha256);
        crate::say!("case files: {} match the manifest", report.case_files_ok);
        for (label, list) in [
            ("CHANGED", &report.case_files_changed),
            (
                "REFUSED (not a regular file inside the case)",
                &report.case_files_refused,
            ),
            ("MISSING", &report.case_files_missing),
            ("NOT IN MANIFEST", &report.case_files_unexpected),
        ] {
            for path in list {
                crate::say!("  {label}: {}", safe(path));
            }
        }
        if report.interrupted_commit {
            crate::say!(
                "  an ingest was killed while committing its files: run the same ingest again; it removes the files its manifest entry never recorded and reads their blobs again (nothing is lost). Do not delete case files by hand."
            );
        }
        if args.source.is_some() {
            crate::say!(
                "source blobs: {} match the manifest",
                report.source_blobs_ok
            );
            for (label, list) in [
                ("CHANGED", &report.source_blobs_changed),
                ("MISSING", &report.source_blobs_missing),
            ] {
                for path in list {
                    crate::say!("  {label}: {}", safe(path));
                }
            }
        }
        crate::say!(
            "{}",
            if report.has_differences() {
                "DIFFERENCES FOUND"
            } else {
                "verified: no differences"
            }
        );
    }
    Ok(if report.has_differences() {
        exit::ERROR
    } else {
        exit::OK
    })
}

/// A runtime for the async query engine.
fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .thread_stack_size(crate::query::QUERY_STACK_BYTES)
        .enable_all()
        .build()
        .map_err(|source| Error::Io {
            context: "starting the query runtime".into(),
            source,
        })
}

/// Warns when the case's files are not those its manifest lists (results may then miss rows,
/// or hold rows from no recorded evidence); the exit code: [`exit::PARTIAL`] then, else `code`.
fn warn_file_check(files: &crate::case::verify::FileCheck, code: u8) -> u8 {
    match files.statement() {
        Some(statement) => {
            crate::tell!("warning: {}", crate::report::terminal_safe(&statement));
            exit::PARTIAL
        }
        None => code,
    }
}
