//! One function per subcommand: the sequence of steps, no format, storage or SQL detail.

mod ingest;
mod sql;

use std::io::IsTerminal;
use std::path::PathBuf;

use crate::cli::{CaseArgs, Cli, Command, SampleDataCommand};
use crate::error::{Error, Result, exit};

/// Runs a parsed command line; returns the exit code on success (0, or 3 when records were rejected).
pub fn run(cli: Cli) -> Result<u8> {
    match cli.command {
        Command::Ingest(args) => ingest::run(&args),
        Command::Sql(args) => sql::run_sql(&args),
        Command::Tables(args) => sql::run_tables(&args),
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
