//! One function per subcommand: the sequence of steps, no format, storage or SQL detail.

mod ingest;
mod scope;
mod sql;

use std::io::IsTerminal;
use std::path::PathBuf;

use crate::cli::{CaseArgs, Cli, Command, QueriesCommand, SampleDataCommand};
use crate::error::{Error, Result, exit};

/// Runs a parsed command line; returns the exit code on success (0, or 3 when records were rejected).
pub fn run(cli: Cli) -> Result<u8> {
    match cli.command {
        Command::Ingest(args) => ingest::run(&args),
        Command::Sql(args) => sql::run_sql(&args),
        Command::Tables(args) => sql::run_tables(&args),
        Command::Scope(args) => scope::run_scope(&args),
        Command::Export(crate::cli::ExportCommand::Customers(args)) => {
            scope::run_export_customers(&args)
        }
        Command::Queries(QueriesCommand::List) => sql::run_queries_list(),
        Command::Queries(QueriesCommand::Run(args)) => sql::run_queries_run(&args),
        Command::SampleData(SampleDataCommand::Generate(args)) => {
            crate::sample::run_generate(&args).map(|()| exit::OK)
        }
        Command::SampleData(SampleDataCommand::Where) => {
            println!(
                "sample source: {}",
                crate::bundled::sample_source_dir().display()
            );
            println!("cache:         {}", crate::bundled::cache_dir().display());
            Ok(exit::OK)
        }
        Command::SchemaDoc => {
            print!("{}", crate::schema_doc::render());
            Ok(exit::OK)
        }
    }
}

/// The case to read: `--case`, else the bundled sample's cache case.
fn resolve_case(args: &CaseArgs) -> Result<PathBuf> {
    match &args.case {
        Some(case) => Ok(case.clone()),
        None => crate::bundled::sample_case(std::io::stderr().is_terminal()),
    }
}

/// Resolves `--since/--until/--baseline-days` against the case's evidence (the manifest's latest row time).
fn resolve_window(
    case: &crate::case::Case,
    window: &crate::cli::WindowArgs,
) -> Result<crate::query::pack::PackParams> {
    let evidence_end = case
        .manifest()
        .blobs
        .iter()
        .filter_map(|b| {
            b.last_time
                .as_deref()
                .and_then(crate::time::parse_timestamp)
        })
        .max()
        .unwrap_or_else(chrono::Utc::now);
    // `until` is exclusive: the end of the evidence is the second after the last row time.
    let end = evidence_end
        - chrono::Duration::nanoseconds(i64::from(evidence_end.timestamp_subsec_nanos()))
        + chrono::Duration::seconds(1);
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

/// A runtime for the async query engine.
fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|source| Error::Io {
            context: "starting the query runtime".into(),
            source,
        })
}
