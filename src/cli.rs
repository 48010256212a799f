//! The shape of the command line: subcommands, their arguments and help.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::report::table::TableFormat;
use crate::time::{TimeSpec, parse_time_spec};

/// Breach scoping for MCP servers on Azure, from exported telemetry.
#[derive(Debug, Parser)]
#[command(
    name = "mcpforensics",
    version,
    long_version = env!("MCPFORENSICS_LONG_VERSION"),
    about = "Breach scoping for MCP servers on Azure: exported telemetry to a hashed Parquet case, queried with SQL",
    long_about = "mcpforensics reads telemetry exported to Azure Blob Storage (Log Analytics data export: Entra sign-ins \
and audit logs, Application Insights tables with MCP attributes, API Management gateway and MCP logs; NSG and VNet \
flow logs), records every source blob's size and SHA-256, and writes a Parquet case you can query with SQL.\n\n\
With no source or case given, commands run on the bundled sample incident (sample-data/).",
    after_help = "Examples:\n  mcpforensics ingest ./storage-copy --case ./case-2026-11 --since 2026-10-01\n  mcpforensics tables --case ./case-2026-11\n  mcpforensics sql --case ./case-2026-11 \"SELECT user, tool, count(*) FROM tool_calls GROUP BY 1, 2\"\n  mcpforensics sql \"SELECT count(*) FROM tool_calls\"     # on the bundled sample\n\nExit codes: 0 success, 1 error, 2 usage, 3 completed but records or blobs were rejected, 4 scope inconclusive (nothing found, but the evidence cannot show nothing happened)."
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// `--memory-mib`, on the commands that run queries.
#[derive(Debug, Args, Clone)]
pub struct QueryMemoryArgs {
    /// Memory for query operators (sorts, joins, aggregations), in MiB; past it they spill to
    /// temporary files (or the query fails naming the operator, if it cannot spill).
    #[arg(
        long,
        value_name = "MIB",
        env = "MCPFORENSICS_MEMORY_MIB",
        default_value_t = crate::query::DEFAULT_MEMORY_MIB,
        value_parser = clap::value_parser!(u64).range(32..=1_048_576)
    )]
    pub memory_mib: u64,
}

/// `--cluster`, on the commands whose analysis may run on a Ballista cluster.
#[derive(Debug, Args, Clone)]
pub struct ClusterArgs {
    /// Run the queries on the Ballista cluster whose scheduler listens here (df://HOST:PORT)
    /// instead of in this process; every executor must see the case at the same path. The
    /// answers are the same, byte for byte. Needs a build with the `cluster` feature
    /// (docs/scale-out.md).
    #[arg(long, value_name = "df://HOST:PORT", env = "MCPFORENSICS_CLUSTER", value_parser = parse_cluster_url)]
    pub cluster: Option<String>,
    /// Tasks each stage of a query is split into on the cluster: give the executors' slots
    /// together (`--slots` of each `cluster executor`), or a small multiple of them. The answer
    /// does not depend on it.
    #[arg(
        long,
        value_name = "N",
        env = "MCPFORENSICS_CLUSTER_PARTITIONS",
        default_value_t = crate::query::DEFAULT_CLUSTER_PARTITIONS as u16,
        value_parser = clap::value_parser!(u16).range(1..=4096),
        requires = "cluster"
    )]
    pub cluster_partitions: u16,
    /// A directory the client and every executor see at the same path (a shared mount; any
    /// local directory on a one-machine cluster): pack results larger than 256 KiB that later
    /// queries read are written there as Parquet (in a directory of this run's, removed at its
    /// end) instead of travelling inside every plan that reads them. Without it they travel as
    /// rows, which works anywhere but makes large plans (docs/scale-out.md).
    #[arg(
        long,
        value_name = "DIR",
        env = "MCPFORENSICS_CLUSTER_SCRATCH",
        requires = "cluster"
    )]
    pub cluster_scratch: Option<PathBuf>,
}

/// A scheduler's address as `df://HOST:PORT` (the port defaults to Ballista's 50050).
pub fn parse_cluster_url(text: &str) -> Result<String, String> {
    let url =
        url::Url::parse(text).map_err(|e| format!("{e}: give the scheduler as df://HOST:PORT"))?;
    if url.scheme() != "df" {
        return Err(format!(
            "the scheme is {}, not df: give the scheduler as df://HOST:PORT",
            url.scheme()
        ));
    }
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or("no host: give the scheduler as df://HOST:PORT")?;
    if !(url.path().is_empty() || url.path() == "/") || url.query().is_some() {
        return Err("only a host and a port: give the scheduler as df://HOST:PORT".into());
    }
    Ok(format!("df://{host}:{}", url.port().unwrap_or(50050)))
}

impl Command {
    /// The cluster its queries run on (`--cluster`, with its options), for the commands that
    /// may use one.
    pub fn query_cluster(&self) -> Option<&ClusterArgs> {
        let cluster = match self {
            Command::Sql(args) => &args.cluster,
            Command::Scope(args) => &args.inputs.cluster,
            Command::Export(ExportCommand::Customers(args)) => &args.inputs.cluster,
            Command::Export(ExportCommand::Xlsx(args)) => &args.inputs.cluster,
            Command::Queries(QueriesCommand::Run(args)) => &args.cluster,
            _ => return None,
        };
        cluster.cluster.is_some().then_some(cluster)
    }

    /// The memory its queries may use (`--memory-mib`), for the commands that run queries.
    pub fn query_memory_mib(&self) -> Option<u64> {
        let memory = match self {
            Command::Sql(args) => &args.memory,
            Command::Tables(args) => &args.memory,
            Command::Scope(args) => &args.inputs.memory,
            Command::Timeline(args) => &args.memory,
            Command::Export(ExportCommand::Customers(args)) => &args.inputs.memory,
            Command::Export(ExportCommand::Xlsx(args)) => &args.inputs.memory,
            Command::Queries(QueriesCommand::Run(args)) => &args.memory,
            Command::Sigma(args) => &args.memory,
            Command::Overview(args) => &args.memory,
            _ => return None,
        };
        Some(memory.memory_mib)
    }
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read export blobs from a directory laid out like the storage account into a case.
    Ingest(IngestArgs),
    /// Run read-only SQL (DataFusion) over a case.
    Sql(SqlArgs),
    /// List the case's tables and views with their columns and row counts.
    Tables(TablesArgs),
    /// Scope a breach: suspect identities, attacker calls, affected customers, exfiltration, coverage.
    Scope(ScopeArgs),
    /// Run Sigma detection rules (files or folders of YAML) on a case: every hit with its evidence.
    Sigma(SigmaArgs),
    /// The overview of a window against its baseline: tool usage, hours, data access, sign-in
    /// failures, what cannot be attributed, and the network view, as one HTML page with a CSV
    /// per panel (or JSON).
    Overview(OverviewArgs),
    /// Open the interactive timeline of a case: identities, every event, filters, pivots, bookmarks.
    Timeline(TimelineArgs),
    /// Export results for others: the affected-customer CSV, the timeline's bookmarks.
    #[command(subcommand)]
    Export(ExportCommand),
    /// Re-hash the case's files, and the source blobs when reachable, against the manifest.
    Verify(VerifyArgs),
    /// The query pack (queries/*.sql): list the questions, or run one with its parameters bound.
    #[command(subcommand)]
    Queries(QueriesCommand),
    /// The bundled sample incident and its generator.
    #[command(subcommand)]
    SampleData(SampleDataCommand),
    /// Print a shell completion script: `mcpforensics completions bash > /etc/bash_completion.d/mcpforensics`.
    Completions {
        /// The shell: bash, zsh, fish, powershell or elvish.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Run a scheduler or an executor of a Ballista cluster for `--cluster` (docs/scale-out.md).
    #[command(subcommand)]
    Cluster(ClusterCommand),
    /// Print the man page (roff): `mcpforensics man > mcpforensics.1; man ./mcpforensics.1`.
    Man,
    /// Print docs/schema.md (every table and column) from the declared schemas.
    #[command(hide = true)]
    SchemaDoc,
}

/// `--case`, shared by the commands that read a case.
#[derive(Debug, Args, Clone)]
pub struct CaseArgs {
    /// Case directory. Default: the bundled sample, ingested into a cache case on first use.
    /// `sql`, `tables` and `queries run` also read a case kept in Blob Storage in place
    /// (az://ACCOUNT/CONTAINER/PREFIX, or its https:// URL; credentials from the environment).
    #[arg(long, value_name = "DIR", env = "MCPFORENSICS_CASE")]
    pub case: Option<PathBuf>,
}

/// Blob Storage credentials; the environment is read when these are absent (see docs/azure.md for the order).
#[derive(Debug, Args, Clone, Default)]
pub struct AzureArgs {
    /// A storage connection string (else AZURE_STORAGE_CONNECTION_STRING).
    #[arg(long, value_name = "STRING", hide_env_values = true)]
    pub connection_string: Option<String>,
    /// A storage account key (else AZURE_STORAGE_KEY).
    #[arg(long, value_name = "KEY")]
    pub account_key: Option<String>,
    /// A SAS token (else the SAS in the URL, else AZURE_STORAGE_SAS_TOKEN).
    #[arg(long, value_name = "SAS")]
    pub sas_token: Option<String>,
}

impl AzureArgs {
    /// The credentials for the sources module: those given, then the environment's.
    pub fn credentials(&self) -> crate::sources::azure::AzureCredentials {
        crate::sources::azure::AzureCredentials {
            connection_string: self.connection_string.clone(),
            account_key: self.account_key.clone(),
            sas_token: self.sas_token.clone(),
            environment: credential_environment(),
        }
    }
}

/// The flags that take a time.
const TIME_FLAGS: [&str; 3] = ["--since", "--until", "--scope-since"];

/// The times of a command line (`args` without the program) written without a zone, each as
/// `--flag text`: read as UTC, which the command says once ([`crate::time::written_without_zone`]).
pub fn times_without_zone(args: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut found = Vec::new();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        if arg == "--" {
            break;
        }
        let (flag, value) = match arg.split_once('=') {
            Some((flag, value)) => (flag.to_string(), Some(value.to_string())),
            None => (arg, None),
        };
        if !TIME_FLAGS.contains(&flag.as_str()) {
            continue;
        }
        if let Some(value) = value.or_else(|| args.next())
            && crate::time::written_without_zone(&value)
        {
            found.push(format!("{flag} {value}"));
        }
    }
    found
}

/// The storage credentials the process's environment carries (read here, at the edge).
pub fn credential_environment() -> crate::sources::azure::CredentialEnvironment {
    crate::sources::azure::CredentialEnvironment::read(|name| std::env::var(name).ok())
}

/// Credentials from the environment only (commands without credential flags).
pub fn environment_credentials() -> crate::sources::azure::AzureCredentials {
    crate::sources::azure::AzureCredentials {
        environment: credential_environment(),
        ..Default::default()
    }
}

/// `--since/--until`.
#[derive(Debug, Args, Clone, Default)]
pub struct TimeRangeArgs {
    /// Start of the window: RFC 3339, a date (UTC midnight) or a span back from the end of the evidence (72h, 30d).
    #[arg(long, value_name = "TIME", value_parser = parse_time_spec)]
    pub since: Option<TimeSpec>,
    /// End of the window (exclusive), same forms as --since. Default: end of the evidence.
    #[arg(long, value_name = "TIME", value_parser = parse_time_spec)]
    pub until: Option<TimeSpec>,
}

impl TimeRangeArgs {
    /// The window asked for.
    pub fn spec(&self) -> crate::time::WindowSpec {
        crate::time::WindowSpec {
            since: self.since,
            until: self.until,
        }
    }
}

impl TimelineArgs {
    /// The events shown.
    pub fn window(&self) -> crate::time::WindowSpec {
        crate::time::WindowSpec {
            since: self.since,
            until: self.until,
        }
    }
}

impl WindowArgs {
    /// The window asked for.
    pub fn spec(&self) -> crate::time::WindowSpec {
        crate::time::WindowSpec {
            since: Some(self.since),
            until: self.until,
        }
    }
}

/// How a cluster's tasks reach its executors (`cluster scheduler|executor --tasks`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TaskDelivery {
    /// The scheduler launches each task as soon as its stage can run (fastest).
    Push,
    /// Executors poll for work every 50 ms (slower; the scheduler never connects to them).
    Pull,
}

/// Summary formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SummaryFormat {
    /// Readable text.
    Text,
    /// JSON (fields documented in docs/ingest.md).
    Json,
}

/// Arguments of `ingest`.
#[derive(Debug, Args)]
#[command(
    after_help = "Blobs whose path time (y=/m=/d=/h=/m=) lies outside --since/--until are not opened. \
Blobs already in the case with the same path and SHA-256 are skipped, and rows already in the case are dropped \
as duplicates, so re-running an ingest adds nothing twice. Rejected records are printed (first 20), counted and \
kept in the case (table `rejects`); the exit code is then 3."
)]
pub struct IngestArgs {
    /// Where the evidence is: a directory laid out like the storage account (one folder per container: am-*, insights-logs-*) or one container folder; or Blob Storage: az://<account>/<container>[/<prefix>], az://<account>/ (every export container), https://<account>.blob.core.windows.net/<container>[?SAS], http://127.0.0.1:10000/<account>/<container> (emulator). Required: ingest never defaults to the bundled sample.
    #[arg(value_name = "SOURCE")]
    pub source: Option<String>,
    /// Blob Storage credentials.
    #[command(flatten)]
    pub azure: AzureArgs,
    /// The case.
    #[command(flatten)]
    pub case: CaseArgs,
    /// The window.
    #[command(flatten)]
    pub time: TimeRangeArgs,
    /// Blobs downloaded and decoded at once (default: two per core, at least 8 for Blob Storage).
    #[arg(long, alias = "threads", value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: Option<u16>,
    /// Summary format.
    #[arg(long, value_enum, default_value_t = SummaryFormat::Text)]
    pub format: SummaryFormat,
    /// Keep a copy of every blob read under <CASE>/raw/, verified against its SHA-256 (chain of custody).
    #[arg(long)]
    pub keep_raw: bool,
}

/// Arguments of `sql`.
#[derive(Debug, Args)]
#[command(
    after_help = "Identifiers are case-sensitive, as in Log Analytics: SELECT UserPrincipalName FROM SigninLogs. \
Views: tool_calls (one row per MCP tool call, any origin, with the resolved identity), identities. \
Statements that change anything (CREATE, INSERT, COPY, SET) are refused.\n\n\
Without a query, a terminal gets a prompt with line editing and history (kept in the cache directory, never in \
the case): end statements with ';', .tables lists the tables, .format switches the output, .help, Ctrl-D leaves. \
Piped in, the statements are run in order and the first failure stops the run.\n\n\
Examples:\n  mcpforensics sql \"SELECT tool, count(*) FROM tool_calls GROUP BY tool\"\n  mcpforensics sql --case ./case\n  \
echo 'SELECT count(*) FROM \"SigninLogs\";' | mcpforensics sql --format csv"
)]
pub struct SqlArgs {
    /// The SQL query; without it, a prompt (or the statements on standard input).
    pub query: Option<String>,
    /// The case.
    #[command(flatten)]
    pub case: CaseArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = TableFormat::Table)]
    pub format: TableFormat,
    /// Print the query's plan instead of its result (EXPLAIN).
    #[arg(long, requires = "query")]
    pub explain: bool,
    /// With --explain: run the query and print the plan as run (EXPLAIN ANALYZE: each
    /// operator's rows, time and memory).
    #[arg(long, requires = "explain")]
    pub analyze: bool,
    /// Query memory.
    #[command(flatten)]
    pub memory: QueryMemoryArgs,
    /// Where the queries run.
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

/// Arguments of `tables`.
#[derive(Debug, Args)]
pub struct TablesArgs {
    /// The case.
    #[command(flatten)]
    pub case: CaseArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = TableFormat::Table)]
    pub format: TableFormat,
    /// List every column with its type instead: one row per column, never cut.
    #[arg(long)]
    pub columns: bool,
    /// Query memory.
    #[command(flatten)]
    pub memory: QueryMemoryArgs,
}

/// Where the evidence is: a case, or a source directory to ingest first.
#[derive(Debug, Args, Clone)]
pub struct EvidenceArgs {
    /// Case directory, or a case kept in Blob Storage, read in place (az://ACCOUNT/CONTAINER/PREFIX,
    /// or its https:// URL). Default: the bundled sample (or, with --source, a cache case for that
    /// source).
    #[arg(long, value_name = "DIR|URL", env = "MCPFORENSICS_CASE")]
    pub case: Option<PathBuf>,
    /// Ingest this source (a directory in storage-account layout, or a Blob Storage URL) into the case first.
    #[arg(long, value_name = "DIR|URL")]
    pub source: Option<String>,
    /// Blob Storage credentials for --source and for a --case in Blob Storage.
    #[command(flatten)]
    pub azure: AzureArgs,
}

/// Known-bad indicators, scoped exactly on top of what detection finds.
#[derive(Debug, Args, Clone, Default)]
pub struct IocArgs {
    /// A known-bad client IP address (repeatable).
    #[arg(long = "ioc-ip", value_name = "IP")]
    pub ioc_ip: Vec<std::net::IpAddr>,
    /// A known-bad identity: UPN or Entra object id (repeatable).
    #[arg(long = "ioc-user", value_name = "UPN|ID")]
    pub ioc_user: Vec<String>,
}

impl IocArgs {
    /// The indicators as scope takes them: every IP, then every identity.
    pub fn indicators(&self) -> Vec<crate::scope::Ioc> {
        let ips = self.ioc_ip.iter().map(|ip| ("ip", ip.to_string()));
        let users = self.ioc_user.iter().map(|u| ("user", u.clone()));
        ips.chain(users)
            .map(|(kind, value)| crate::scope::Ioc {
                kind: kind.into(),
                value,
            })
            .collect()
    }
}

/// What `scope` and `export customers` both need: the evidence, the window and the indicators.
#[derive(Debug, Args, Clone)]
pub struct ScopeInputs {
    /// The evidence.
    #[command(flatten)]
    pub evidence: EvidenceArgs,
    /// The window.
    #[command(flatten)]
    pub window: WindowArgs,
    /// Indicators of compromise.
    #[command(flatten)]
    pub iocs: IocArgs,
    /// Run without the day window. By default the session opens only the days of the baseline
    /// and the window (and the identity index, to name identities); each query's own
    /// time conditions still bound what it opens. The results are the same.
    #[arg(long)]
    pub all_days: bool,
    /// Print each query's time and row count, and the case files read, to standard error.
    #[arg(long)]
    pub timings: bool,
    /// Query memory.
    #[command(flatten)]
    pub memory: QueryMemoryArgs,
    /// Where the queries run.
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

/// Arguments of `scope`.
#[derive(Debug, Args)]
#[command(
    after_help = "The window is --since to --until (default: the end of the evidence); the baseline of normal \
behaviour is the --baseline-days before --since. Detection needs no indicators: suspects come from password-spray \
successes, from tool calls made from addresses new to everyone with another sign of someone else (off-hours for \
that identity, new country, new tools, anonymous), and from sessions far beyond the identity's own baseline (reach, \
new outside destinations, new addresses without an interactive sign-in); a server copying data out by itself is \
reported as a server compromise, naming no one. Every figure comes from the query pack (mcpforensics queries list).\n\n\
The text, Markdown and HTML reports open with a summary (the answer in two sentences, totals, the attack chain, \
what cannot be excluded), state when they were made (SOURCE_DATE_EPOCH sets that time, to reproduce a report byte \
for byte) and give all times in UTC. The JSON holds no generation time. The text report is coloured on a terminal \
unless NO_COLOR is set.\n\n\
Example: mcpforensics scope --since 2026-09-30 --format html --out scope.html --tz Europe/Berlin"
)]
pub struct ScopeArgs {
    /// Evidence, window and indicators.
    #[command(flatten)]
    pub inputs: ScopeInputs,
    /// Report format.
    #[arg(long, value_enum, default_value_t = crate::report::scope_report::ReportFormat::Text)]
    pub format: crate::report::scope_report::ReportFormat,
    /// Write the report to this file (atomically) instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Replace FILE if it exists (the new file is written beside it and renamed into place);
    /// without it an existing file is refused.
    #[arg(long)]
    pub force: bool,
    /// Also give the summary's key times in this zone: an IANA name (Europe/Berlin: each time
    /// with the offset of its own date, daylight saving included), local, or an offset such as
    /// +02:00. Tables and the JSON stay in UTC.
    #[arg(long, value_name = "ZONE", value_parser = crate::time::Zone::parse)]
    pub tz: Option<crate::time::Zone>,
    /// Also run these Sigma rules (files or folders, repeatable) on the scoped window and add
    /// their hits, with their evidence, as a section of the report (docs/sigma.md).
    #[arg(long, value_name = "RULES")]
    pub sigma: Vec<PathBuf>,
    /// Also write the affected customers of this same run as CSV to FILE: the file `export
    /// customers` writes, byte for byte, without running the query pack a second time. `--force`
    /// applies to it too.
    #[arg(long, value_name = "FILE")]
    pub customers: Option<PathBuf>,
}

/// `export` subcommands.
#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// One CSV row per affected customer (customer_id, first_access, last_access, users, tools, calls, exfiltration_confirmed, evidence).
    Customers(ExportCustomersArgs),
    /// The evidence bookmarked in the timeline, with notes and provenance, as CSV or JSON Lines.
    Bookmarks(ExportBookmarksArgs),
    /// The scope as an Excel workbook: affected customers, suspects, attacker calls, exfiltration
    /// and provenance, one sheet each (every cell text or a number, never a formula).
    Xlsx(ExportXlsxArgs),
}

/// Arguments of `export xlsx`.
#[derive(Debug, Args)]
pub struct ExportXlsxArgs {
    /// Evidence, window and indicators.
    #[command(flatten)]
    pub inputs: ScopeInputs,
    /// The workbook to write (.xlsx).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Replace FILE if it exists (the new file is written beside it and renamed into place);
    /// without it an existing file is refused.
    #[arg(long)]
    pub force: bool,
}

/// Arguments of `export bookmarks`.
#[derive(Debug, Args)]
pub struct ExportBookmarksArgs {
    /// The case.
    #[command(flatten)]
    pub case: CaseArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = BookmarkFormat::Csv)]
    pub format: BookmarkFormat,
    /// Output file (written atomically); `-` for standard output.
    #[arg(long, value_name = "FILE", default_value = "-")]
    pub out: PathBuf,
    /// Replace FILE if it exists (the new file is written beside it and renamed into place);
    /// without it an existing file is refused.
    #[arg(long)]
    pub force: bool,
}

/// Formats of `export bookmarks`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BookmarkFormat {
    /// RFC 4180 CSV, safe to open in a spreadsheet.
    Csv,
    /// One JSON object per line.
    Jsonl,
}

/// Arguments of `timeline`.
#[derive(Debug, Args)]
#[command(
    after_help = "Opens a full-screen timeline of every event in the case (sign-ins, audit entries, MCP tool calls and \
requests, dependencies, traces, exceptions, flow tuples), merged in time order. Left: identities with event counts, \
suspects (from scope) first and marked '!'. Top: an activity histogram with the visible range highlighted. Bottom: the \
selected event with its full record and provenance (blob, line, blob SHA-256). Keys: / search (n/N next/previous match), \
f filter, p pivot, r a call's related events, s next suspicious, L lanes per identity, e export the view, b bookmark; \
? lists every key.\n\n\
Suspect marks come from scope over --scope-since (default: --since); without either, only failures are marked. \
Bookmarks (b) are kept in the case (bookmarks.json) and exported with `mcpforensics export bookmarks`. Needs a terminal.\n\nExamples:\n  mcpforensics timeline --since 2026-09-30\n  mcpforensics timeline --case ./case --since 2026-10-01 --until 2026-10-03 --user bob.keller@contoso.example --tz Europe/Berlin"
)]
pub struct TimelineArgs {
    /// The case.
    #[command(flatten)]
    pub case: CaseArgs,
    /// Start of the events shown (and of the scope window unless --scope-since): RFC 3339, a date or a span back from the end (72h). Default: the start of the evidence.
    #[arg(long, value_name = "TIME", value_parser = parse_time_spec)]
    pub since: Option<TimeSpec>,
    /// End of the events shown (exclusive). Default: the end of the evidence.
    #[arg(long, value_name = "TIME", value_parser = parse_time_spec)]
    pub until: Option<TimeSpec>,
    /// Start with the timeline narrowed to this identity (UPN, object id or (anonymous)).
    #[arg(long, value_name = "UPN")]
    pub user: Option<String>,
    /// Start of the suspected activity for scope's suspect marks. Default: --since.
    #[arg(long, value_name = "TIME", value_parser = parse_time_spec)]
    pub scope_since: Option<TimeSpec>,
    /// Days before the scope start that form the baseline.
    #[arg(long, value_name = "N", default_value_t = 14, value_parser = clap::value_parser!(u32).range(0..=3650))]
    pub baseline_days: u32,
    /// Indicators of compromise for the suspect marks.
    #[command(flatten)]
    pub iocs: IocArgs,
    /// Also mark the records these Sigma rules hit in the window shown (files or folders,
    /// repeatable): red like scope's marks, and `s` stops at them.
    #[arg(long, value_name = "RULES")]
    pub sigma: Vec<PathBuf>,
    /// The zone `z` switches times to: an IANA name (Europe/Berlin; each time gets the offset of
    /// its own date, daylight saving included), `local` (the default), `UTC` or an offset such
    /// as +02:00. Not with --format: exported times are UTC.
    #[arg(long, value_name = "ZONE", value_parser = crate::time::Zone::parse)]
    pub tz: Option<crate::time::Zone>,
    /// Memory for the events the timeline holds, in MiB (about 45 bytes an event). Loading stops,
    /// saying where, when a window holds more; narrow it with --since/--until or raise this.
    #[arg(long, value_name = "MIB", default_value_t = crate::timeline::DEFAULT_EVENTS_MIB, value_parser = clap::value_parser!(u64).range(1..=1_048_576))]
    pub events_mib: u64,
    /// Write the window's merged timeline to a file instead of opening the interactive view (no
    /// terminal needed): csv (spreadsheets: BOM, CRLF, formulas neutralised), jsonl, or timesketch
    /// (JSON Lines with message, datetime, timestamp_desc and timestamp for Timesketch's importer).
    /// One row per event in time order, with blob, line and the blob's SHA-256.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<crate::timeline::export::ExportFormat>,
    /// The file --format writes; `-` for standard output.
    #[arg(long, value_name = "FILE", requires = "format")]
    pub out: Option<PathBuf>,
    /// Replace FILE if it exists (the new file is written beside it and renamed into place);
    /// without it an existing file is refused.
    #[arg(long)]
    pub force: bool,
    /// Measure first paint, loading and scrolling off-screen and print the figures as JSON (benchmarks).
    #[arg(long, hide = true)]
    pub bench: bool,
    /// Query memory.
    #[command(flatten)]
    pub memory: QueryMemoryArgs,
}

/// Arguments of `export customers`.
#[derive(Debug, Args)]
pub struct ExportCustomersArgs {
    /// Evidence, window and indicators.
    #[command(flatten)]
    pub inputs: ScopeInputs,
    /// The CSV file to write (UTF-8, RFC 4180, cells that a spreadsheet would run are neutralised). `-` for standard output.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Replace FILE if it exists (the new file is written beside it and renamed into place);
    /// without it an existing file is refused.
    #[arg(long)]
    pub force: bool,
}

/// Arguments of `verify`.
#[derive(Debug, Args)]
#[command(
    after_help = "Exit code 0 when everything matches the manifest, 1 when anything differs (every difference is listed)."
)]
pub struct VerifyArgs {
    /// The case.
    #[command(flatten)]
    pub case: CaseArgs,
    /// Also re-hash the source blobs (a directory or a Blob Storage URL) against the manifest.
    #[arg(long, value_name = "DIR|URL")]
    pub source: Option<String>,
    /// Blob Storage credentials for --source.
    #[command(flatten)]
    pub azure: AzureArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = SummaryFormat::Text)]
    pub format: SummaryFormat,
}

/// `queries` subcommands.
#[derive(Debug, Subcommand)]
pub enum QueriesCommand {
    /// List the queries with what they answer, their parameters and output.
    List,
    /// Run one query (and the queries it depends on) over a case.
    Run(QueriesRunArgs),
}

/// The scoping window and baseline, shared by `scope`, `export customers` and `queries run`.
#[derive(Debug, Args, Clone)]
pub struct WindowArgs {
    /// Start of the suspected activity: RFC 3339, a date (UTC midnight), a span back from the end
    /// of the evidence (72h, 30d), or `auto` (no guess: the breach's start is found from the
    /// evidence, after a baseline of its earliest days). `scope` and the exports widen the window
    /// to the breach's first evidence whatever is given, and say so.
    #[arg(long, value_name = "TIME", value_parser = parse_time_spec)]
    pub since: TimeSpec,
    /// End of the window (exclusive). Default: the end of the evidence.
    #[arg(long, value_name = "TIME", value_parser = parse_time_spec)]
    pub until: Option<TimeSpec>,
    /// Days before --since that form the baseline of normal behaviour.
    #[arg(long, value_name = "N", default_value_t = 14, value_parser = clap::value_parser!(u32).range(0..=3650))]
    pub baseline_days: u32,
}

/// Output formats of `overview`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OverviewFormat {
    /// One self-contained page (no script) with a CSV per panel beside it.
    Html,
    /// Every panel's rows as one JSON document.
    Json,
}

/// Arguments of `overview`.
#[derive(Debug, Args)]
#[command(
    long_about = "The overview of a window against its baseline, before deciding what is suspicious: \
tool usage per tool (calls a day, window against baseline), tool calls per tool and hour of day (a heat \
map: an hour the baseline never saw a tool used in is outlined), customers named per identity per day \
against each identity's own baseline band, failed sign-ins per day and result code, calls no identity \
or address can be given to, and the network view (top talkers, new outbound destinations of the MCP \
hosts, east-west connections between private addresses with management and database ports flagged, \
denied flows). Each panel is a query of the pack (`queries run overview_tool_usage`, …). The window is \
the one given, not widened. Times are UTC.",
    after_help = "Examples:\n  mcpforensics overview --since 2026-09-30 --out overview.html\n  \
mcpforensics overview --case ./case --since 7d --format json --out overview.json"
)]
pub struct OverviewArgs {
    /// The case.
    #[command(flatten)]
    pub case: CaseArgs,
    /// The window.
    #[command(flatten)]
    pub window: WindowArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OverviewFormat::Html)]
    pub format: OverviewFormat,
    /// Where to write it (HTML: each panel's CSV beside it, named after it). Default: standard
    /// output (the page only).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Replace existing files.
    #[arg(long)]
    pub force: bool,
    /// Query memory.
    #[command(flatten)]
    pub memory: QueryMemoryArgs,
}

/// Arguments of `sigma`.
#[derive(Debug, Args)]
#[command(
    long_about = "Run Sigma detection rules on a case. RULES are rule files or folders (read recursively: \
.yml, .yaml). Each rule's log source names the case's tables (src/sigma/logsources.yaml: Sigma's azure \
services such as signinlogs and auditlogs, and this tool's own: product mcp, category tool_call), its \
detection is compiled to SQL, and every rule of a table runs in one scan of it. Each hit names the \
rule (title, id, level, status, tags), the record's time, table, identity and address where the \
table has them, and its evidence: blob, line and the blob's SHA-256. A rule that cannot be parsed, \
mapped or compiled is reported with the reason and the others still run.\n\n\
Exit codes: 0 the rules ran; 3 some rules could not be run (the summary says which); 4 nothing hit \
and some rules' tables hold no records (the evidence cannot show that nothing happened).",
    after_help = "Examples:\n  mcpforensics sigma rules/mcp\n  \
mcpforensics sigma ./sigma/rules/cloud/azure --case ./case --since 2026-09-30 --min-level medium\n  \
mcpforensics sigma rules/mcp --format csv --out hits.csv"
)]
pub struct SigmaArgs {
    /// Sigma rule files or folders (read recursively).
    #[arg(required = true, value_name = "RULES")]
    pub rules: Vec<PathBuf>,
    /// The case.
    #[command(flatten)]
    pub case: CaseArgs,
    /// The records the rules run on.
    #[command(flatten)]
    pub window: TimeRangeArgs,
    /// Output format: a table and a summary per rule, CSV of the hits, one JSON document (rules
    /// and hits), or JSON lines (one hit per line).
    #[arg(long, value_enum, default_value_t = SigmaFormat::Table)]
    pub format: SigmaFormat,
    /// Run only the rules of this level or above.
    #[arg(long, value_enum, value_name = "LEVEL")]
    pub min_level: Option<SigmaLevel>,
    /// Write the hits to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Replace FILE if it exists (the new file is written beside it and renamed into place);
    /// without it an existing file is refused.
    #[arg(long)]
    pub force: bool,
    /// A log-source map for this run, replacing the case's own (CASE/sigma-logsources.yaml) and the
    /// built-in one (see src/sigma/logsources.yaml and docs/sigma.md).
    #[arg(long, value_name = "FILE")]
    pub logsources: Option<PathBuf>,
    /// Query memory.
    #[command(flatten)]
    pub memory: QueryMemoryArgs,
}

/// Output formats of `sigma`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SigmaFormat {
    /// The hits as a table, then a summary per rule.
    Table,
    /// The hits as RFC 4180 CSV (Excel-safe); the summary on standard error.
    Csv,
    /// One JSON document: the window, every rule with its outcome, every hit.
    Json,
    /// One JSON object per hit and line; the summary on standard error.
    Jsonl,
}

/// Sigma's levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SigmaLevel {
    /// informational
    Informational,
    /// low
    Low,
    /// medium
    Medium,
    /// high
    High,
    /// critical
    Critical,
}

/// Arguments of `queries run`.
#[derive(Debug, Args)]
pub struct QueriesRunArgs {
    /// The query's name (see `queries list`).
    pub name: String,
    /// The case.
    #[command(flatten)]
    pub case: CaseArgs,
    /// The window.
    #[command(flatten)]
    pub window: WindowArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = TableFormat::Table)]
    pub format: TableFormat,
    /// Run on the window exactly as given. By default the scope runs first and the query runs on
    /// the window it scoped (widened to the breach's first evidence, as `scope` reports), so the
    /// pack's rows match the report's.
    #[arg(long)]
    pub as_given: bool,
    /// Print the query's plan instead of its result (the queries it depends on run first as
    /// usual, so the plan sees their real sizes).
    #[arg(long)]
    pub explain: bool,
    /// With --explain: run the query and print the plan as run (EXPLAIN ANALYZE: each
    /// operator's rows, time and memory).
    #[arg(long, requires = "explain")]
    pub analyze: bool,
    /// Query memory.
    #[command(flatten)]
    pub memory: QueryMemoryArgs,
    /// Where the queries run.
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

/// `cluster` subcommands: the processes of a Ballista cluster with this tool's tables and
/// functions built in.
#[derive(Debug, Subcommand)]
pub enum ClusterCommand {
    /// Run a scheduler: clients (`--cluster df://HOST:PORT`) send it their plans, executors pull
    /// the tasks. Runs until stopped.
    #[command(
        after_help = "Example (three terminals, or three machines that all see the case at the same path):\n  \
mcpforensics cluster scheduler --bind 0.0.0.0:50050 --advertise sched.internal\n  \
mcpforensics cluster executor --scheduler sched.internal:50050 --bind 0.0.0.0:50051 --advertise exec1.internal\n  \
mcpforensics scope --case /mnt/cases/c1 --since 30d --cluster df://sched.internal:50050"
    )]
    Scheduler(SchedulerArgs),
    /// Run an executor: it pulls tasks from the scheduler, reads the case's Parquet files and
    /// serves its results on its own port (Arrow Flight). Runs until stopped.
    Executor(ExecutorArgs),
}

/// Arguments of `cluster scheduler`.
#[derive(Debug, Args)]
pub struct SchedulerArgs {
    /// Address to listen on (gRPC, for clients and executors). Loopback by default: the
    /// scheduler has no authentication, so expose it only on a network you trust.
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:50050")]
    pub bind: std::net::SocketAddr,
    /// Host name executors and clients reach it by, when not the bind address.
    #[arg(long, value_name = "HOST")]
    pub advertise: Option<String>,
    /// Seconds without a heartbeat after which an executor is taken as lost: its running tasks,
    /// and the finished ones whose output only it held, run again on the others. Keep it above
    /// twice the executors' `--heartbeat`.
    #[arg(long, value_name = "SECONDS", default_value_t = 180, value_parser = clap::value_parser!(u64).range(2..))]
    pub executor_timeout: u64,
    /// How tasks reach executors. Scheduler and executors must agree. Either way a lost
    /// executor's work runs again on the others and the answer is unchanged (docs/scale-out.md,
    /// "Losing an executor").
    #[arg(long, value_name = "HOW", value_enum, default_value_t = TaskDelivery::Push)]
    pub tasks: TaskDelivery,
}

/// Arguments of `cluster executor`.
#[derive(Debug, Args)]
pub struct ExecutorArgs {
    /// The scheduler.
    #[arg(long, value_name = "HOST:PORT", value_parser = parse_host_port)]
    pub scheduler: (String, u16),
    /// Address to serve results and shuffle data on (Arrow Flight). Loopback by default.
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:50051")]
    pub bind: std::net::SocketAddr,
    /// Port, on the host of --bind, the scheduler launches tasks on (gRPC).
    #[arg(long, value_name = "PORT", default_value_t = 50052)]
    pub task_port: u16,
    /// Host name the scheduler and clients reach it by, when not the bind address.
    #[arg(long, value_name = "HOST")]
    pub advertise: Option<String>,
    /// Tasks it runs at once. Default: one per core.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub slots: Option<u16>,
    /// Memory its tasks may hold together, in MiB, shared among its slots: past it sorts,
    /// aggregations and joins spill to the work directory, and an operator that cannot spill
    /// fails its query with the pool's message. Default: Ballista's share of the machine's (or
    /// the container's) memory.
    #[arg(long, value_name = "MIB", value_parser = clap::value_parser!(u64).range(32..=16_777_216))]
    pub memory_mib: Option<u64>,
    /// Seconds between heartbeats to the scheduler.
    #[arg(long, value_name = "SECONDS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    pub heartbeat: u64,
    /// How tasks reach executors. Scheduler and executors must agree. Either way a lost
    /// executor's work runs again on the others and the answer is unchanged (docs/scale-out.md,
    /// "Losing an executor").
    #[arg(long, value_name = "HOW", value_enum, default_value_t = TaskDelivery::Push)]
    pub tasks: TaskDelivery,
    /// Directory for shuffle files. Default: a temporary directory.
    #[arg(long, value_name = "DIR")]
    pub work_dir: Option<PathBuf>,
}

/// `HOST:PORT`, the host a name or an address.
pub fn parse_host_port(text: &str) -> Result<(String, u16), String> {
    let (host, port) = text
        .rsplit_once(':')
        .ok_or_else(|| format!("{text}: give HOST:PORT"))?;
    let port = port
        .parse::<u16>()
        .map_err(|_| format!("{port} is not a port: give HOST:PORT"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(format!("{text}: no host: give HOST:PORT"));
    }
    Ok((host.to_string(), port))
}

/// `sample-data` subcommands.
#[derive(Debug, Subcommand)]
pub enum SampleDataCommand {
    /// Write a synthetic MCP-server breach in the exact Azure export layouts.
    Generate(GenerateArgs),
    /// Print where the bundled sample and its cache case are.
    Where,
}

/// Arguments of `sample-data generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Output directory (laid out like a storage account). Must be empty or absent.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Random seed: the same seed and scale give byte-identical output.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Scale factor: users and traffic grow with it (1 = the bundled sample).
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
    /// Days of evidence.
    #[arg(long, default_value_t = 30)]
    pub days: u32,
    /// First day of evidence (UTC).
    #[arg(long, default_value = "2026-09-15")]
    pub start: String,
    /// Which breach: password (spray, then pulls from abroad at night), token (a refresh token
    /// replayed in-country in office hours), agent (an AI agent hijacked by prompt injection),
    /// implant (code in the server copying results out), mixed (all four). Every scenario also
    /// holds innocent look-alikes (office typos, a traveller, a quarter-end export, a new service).
    #[arg(long, value_enum, default_value = "password")]
    pub scenario: crate::sample::Story,
    /// How Entra sign-ins and audit logs are written: la (Log Analytics data export, am-*) or diag
    /// (diagnostic settings, insights-logs-*/tenantId=…). The incident is the same either way.
    #[arg(long, value_enum, default_value = "la")]
    pub signins: crate::sample::SignInLayout,
    /// How the MCP server's telemetry is shaped (each value below); every shape gives the same
    /// incident, as real SDKs and exporters write it differently.
    #[arg(long, value_enum, default_value = "one-row")]
    pub emitter: crate::sample::Emitter,
    /// Outgoing HTTP dependency rows also carry the peer's address (network.peer.address), as some
    /// instrumentations add. By default they name the host (Target) and URL (Data) only, as the
    /// Azure Monitor exporters write them.
    #[arg(long)]
    pub peer_addresses: bool,
    /// A plain export: every am-* table in hourly blobs (PT1H.json, as export rules created before
    /// 2021-10-15 write them), one blob an hour (no _1 spills), and no faults in those exports (cut
    /// lines, mistyped values, retry duplicates); flow logs are written as by default.
    /// The incident is the same; the ingest bench's second shape, where DuckDB's read_json is at
    /// its best.
    #[arg(long)]
    pub plain: bool,
    /// Where API Management's gateway and MCP logs land (with --emitter via-apim or the helpdesk
    /// key): resource-specific (ApiManagementGatewayLogs, ApiManagementGatewayMCPLog) or
    /// azure-diagnostics (the shared AzureDiagnostics table, as a diagnostic setting in Azure
    /// diagnostics mode writes them). The incident is the same either way.
    #[arg(long, value_enum, default_value = "resource-specific")]
    pub apim_logs: crate::sample::ApimLogs,
    /// Application Insights sampling: keep one operation in N (every row of a kept operation,
    /// each with ItemCount N), as fixed-rate sampling does. 1 keeps everything.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub sampled: u32,
    /// Accounts the password spray gets into (1 or 2).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=2))]
    pub compromised: u8,
    /// Also write the scenario's ground truth (compromised users, affected customers, exfiltration) as JSON here.
    #[arg(long, value_name = "FILE")]
    pub truth: Option<PathBuf>,
}

#[cfg(test)]
mod tests {

    #[test]
    fn times_without_a_zone_are_found_in_every_flag_form() {
        let args = |line: &str| line.split(' ').map(String::from).collect::<Vec<_>>();
        assert_eq!(
            times_without_zone(args(
                "scope --since 2026-10-01 --until=2026-10-05T12:00 --scope-since 2026-10-02T00:00:00Z"
            )),
            ["--since 2026-10-01", "--until 2026-10-05T12:00"]
        );
        assert!(times_without_zone(args("timeline --since 72h --until auto")).is_empty());
        assert!(times_without_zone(args("sql -- --since 2026-10-01")).is_empty());
    }

    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }
}
