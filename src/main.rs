//! The `mcpforensics` binary: parse the command line, run it, report an error once, map to an exit code.

use std::process::ExitCode;

use clap::Parser;

/// mimalloc, not the system allocator: ingest builds and frees many small values on every
/// worker thread, where glibc's malloc took about a fifth of the time (docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = mcpforensics::cli::Cli::parse();
    let zoneless = mcpforensics::cli::times_without_zone(
        std::env::args_os()
            .skip(1)
            .map(|a| a.to_string_lossy().into_owned()),
    );
    if !zoneless.is_empty() {
        mcpforensics::tell!(
            "note: read as UTC (no zone given): {}",
            mcpforensics::escape::terminal_safe(&zoneless.join(", "))
        );
    }
    mcpforensics::interrupt::install();
    match mcpforensics::commands::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            let mut shown = error.to_string();
            mcpforensics::tell!(
                "error: {}",
                mcpforensics::escape::terminal_safe_lines(&shown, "  ")
            );
            let mut source = std::error::Error::source(&error);
            while let Some(cause) = source {
                // Some errors repeat their cause in their own message: print each text once.
                let text = cause.to_string();
                if !shown.contains(&text) {
                    mcpforensics::tell!(
                        "  caused by: {}",
                        mcpforensics::escape::terminal_safe_lines(&text, "    ")
                    );
                    shown.push_str(&text);
                }
                source = cause.source();
            }
            ExitCode::from(error.exit_code())
        }
    }
}
