//! One function per subcommand: the sequence of steps, no format, storage or SQL detail.

mod cluster;
mod ingest;
mod overview;
mod repl;
mod results;
mod sample;
mod scope;
mod sigma;
mod sql;
mod timeline;

use std::io::IsTerminal;
use std::path::PathBuf;

use crate::cli::{CaseArgs, Cli, Command, QueriesCommand, SampleDataCommand};
use crate::error::{Error, Result, exit};

/// Runs a parsed command line; returns the exit code on success (0, or 3 when records were rejected).
pub fn run(cli: Cli) -> Result<u8> {
    let settings = &query_settings(&cli.command)?;
    let outcome = run_command(cli.command, settings);
    match (outcome, &settings.cluster) {
        (Err(Error::Query(source)), Some(cluster)) => Err(Error::ClusterQuery {
            cluster: cluster.clone(),
            source,
        }),
        (outcome, _) => outcome,
    }
}

/// Runs one command with its query settings.
fn run_command(command: Command, settings: &crate::query::QuerySettings) -> Result<u8> {
    match command {
        Command::Ingest(args) => ingest::run(&args),
        Command::Cluster(command) => cluster::run(command),
        Command::Sql(args) => sql::run_sql(&args, settings),
        Command::Tables(args) => sql::run_tables(&args, settings),
        Command::Scope(args) => scope::run_scope(&args, settings),
        Command::Sigma(args) => sigma::run_sigma(&args, settings),
        Command::Overview(args) => overview::run_overview(&args, settings),
        Command::Timeline(args) => timeline::run_timeline(&args, settings),
        Command::Export(crate::cli::ExportCommand::Bookmarks(args)) => {
            timeline::run_export_bookmarks(&args)
        }
        Command::Verify(args) => run_verify(&args),
        Command::Export(crate::cli::ExportCommand::Xlsx(args)) => {
            scope::run_export_xlsx(&args, settings)
        }
        Command::Export(crate::cli::ExportCommand::Customers(args)) => {
            scope::run_export_customers(&args, settings)
        }
        Command::Queries(QueriesCommand::List) => sql::run_queries_list(),
        Command::Queries(QueriesCommand::Run(args)) => sql::run_queries_run(&args, settings),
        Command::SampleData(SampleDataCommand::Generate(args)) => {
            sample::run_generate(&args).map(|()| exit::OK)
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
            crate::console::print_document(&crate::schema_doc::render()).map_err(|e| {
                Error::Io {
                    context: "writing the schema".into(),
                    source: e,
                }
            })?;
            Ok(exit::OK)
        }
    }
}

/// Writes generated text (completions, the man page) to standard output as it is.
fn write_generated(bytes: &[u8], what: &str) -> Result<u8> {
    crate::console::write_stdout(bytes).map_err(|source| Error::Io {
        context: format!("writing {what}"),
        source,
    })?;
    Ok(exit::OK)
}

/// The case to read: `--case`, else the bundled sample's cache case.
fn resolve_case(args: &CaseArgs) -> Result<PathBuf> {
    match &args.case {
        Some(case) => Ok(case.clone()),
        None => crate::bundled::sample_case(std::io::stderr().is_terminal()),
    }
}

/// Opens a case to read it: a directory, or a case in Blob Storage read in place with `credentials`
/// (then the environment's).
fn open_case_to_read(
    case: &std::path::Path,
    credentials: &crate::sources::azure::AzureCredentials,
) -> Result<crate::case::Case> {
    Ok(crate::case::Case::open_to_read(
        &case.to_string_lossy(),
        credentials,
    )?)
}

/// Resolves `--since/--until/--baseline-days` against the case's evidence (the manifest's latest row time).
fn resolve_window(
    case: &crate::case::Case,
    window: &crate::cli::WindowArgs,
) -> Result<crate::query::pack::PackParams> {
    let (start, end) = case.evidence_span()?;
    let mut resolved = window.spec().resolve(start, end)?;
    if window.since == crate::time::TimeSpec::Auto {
        resolved.since = crate::time::auto_since(start, resolved.until, window.baseline_days);
    }
    Ok(crate::query::pack::PackParams::new(
        resolved,
        window.baseline_days,
    ))
}

/// How the window's start was chosen, as the report names it: `auto` or `given`.
fn window_method(window: &crate::cli::WindowArgs) -> &'static str {
    if window.since == crate::time::TimeSpec::Auto {
        "auto"
    } else {
        "given"
    }
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
    let mut report = crate::case::verify::verify(&case)?;
    report.call_index = crate::query::call_index::verify(&case)?;
    if let Some(source) = &source {
        crate::ingest::recheck::recheck_source(&case, source.as_ref(), &mut report)?;
    }
    crate::report::runs::print_verify_report(
        &report,
        args.format == crate::cli::SummaryFormat::Json,
        args.source.is_some(),
    )
    .map_err(|e| Error::Io {
        context: "writing JSON".into(),
        source: e.into(),
    })?;
    Ok(if report.has_differences() {
        exit::ERROR
    } else {
        exit::OK
    })
}

/// A runtime for the async query engine.
fn runtime() -> Result<tokio::runtime::Runtime> {
    crate::runtime::multi_thread(None).map_err(|source| Error::Io {
        context: "starting the query runtime".into(),
        source,
    })
}

/// Warns when the case's files are not those its manifest lists (results may then miss rows,
/// or hold rows from no recorded evidence); the exit code: [`exit::PARTIAL`] then, else `code`.
fn warn_file_check(files: &crate::case::verify::FileCheck, code: u8) -> u8 {
    match files.statement() {
        Some(statement) => {
            crate::tell!("warning: {}", crate::escape::terminal_safe(&statement));
            exit::PARTIAL
        }
        None => code,
    }
}

/// Refuses an output file that exists unless `--force` was given; checked before any work is
/// done. `-` (standard output) is never refused.
pub(super) fn check_output(path: &std::path::Path, force: bool) -> Result<()> {
    if path.as_os_str() != "-" && !force && path.exists() {
        return Err(Error::Usage(format!(
            "{} exists; --force replaces it",
            path.display()
        )));
    }
    Ok(())
}

/// The command's query settings (`--memory-mib`, `--cluster`), resolved once here and passed
/// down to every session it opens; the defaults for commands without them.
fn query_settings(command: &Command) -> Result<crate::query::QuerySettings> {
    let mut settings = crate::query::QuerySettings::default();
    if let Some(mib) = command.query_memory_mib() {
        let mib = usize::try_from(mib).unwrap_or(usize::MAX);
        settings.memory_bytes = mib.saturating_mul(1024 * 1024);
    }
    if let Some(cluster) = command.query_cluster() {
        if !cfg!(feature = "cluster") {
            return Err(Error::Usage(
                crate::query::QueryError::NoClusterSupport.to_string(),
            ));
        }
        settings.cluster.clone_from(&cluster.cluster);
        settings.cluster_partitions = usize::from(cluster.cluster_partitions);
        settings
            .cluster_scratch
            .clone_from(&cluster.cluster_scratch);
    }
    Ok(settings)
}

/// Whether standard output takes colour: it is a terminal, `NO_COLOR` is unset or empty
/// (no-color.org), and `TERM` is not `dumb`.
fn colour_wanted() -> bool {
    std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
}
