//! `cluster scheduler` and `cluster executor`: the processes of a Ballista cluster.

use crate::cli::ClusterCommand;
use crate::error::Result;

/// Runs a cluster process until it is stopped.
#[cfg(feature = "cluster")]
pub fn run(command: ClusterCommand) -> Result<u8> {
    use crate::cluster::{ExecutorSettings, ProcessSettings, run_executor, run_scheduler};
    let process = ProcessSettings {
        log_level: std::env::var("MCPFORENSICS_LOG")
            .ok()
            .and_then(|text| text.parse().ok())
            .unwrap_or(log::LevelFilter::Warn),
        credentials: crate::cli::environment_credentials(),
    };
    match command {
        ClusterCommand::Scheduler(args) => {
            crate::tell!("scheduler listening on {}", args.bind);
            run_scheduler(args.bind, args.advertise, process)?;
        }
        ClusterCommand::Executor(args) => {
            crate::tell!(
                "executor on {}, pulling tasks from {}:{}",
                args.bind,
                args.scheduler.0,
                args.scheduler.1
            );
            run_executor(
                ExecutorSettings {
                    scheduler: args.scheduler,
                    bind: args.bind,
                    advertise: args.advertise,
                    slots: args.slots.map(usize::from),
                    work_dir: args.work_dir.map(|d| d.to_string_lossy().into_owned()),
                },
                process,
            )?;
        }
    }
    Ok(crate::error::exit::OK)
}

/// Without the `cluster` feature: says how to get a build that has it.
#[cfg(not(feature = "cluster"))]
pub fn run(_command: ClusterCommand) -> Result<u8> {
    Err(crate::error::Error::Usage(
        crate::query::QueryError::NoClusterSupport.to_string(),
    ))
}
