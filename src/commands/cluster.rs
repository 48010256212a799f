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
            let pushed = args.tasks == crate::cli::TaskDelivery::Push;
            run_scheduler(
                args.bind,
                args.advertise,
                args.executor_timeout,
                pushed,
                process,
            )?;
        }
        ClusterCommand::Executor(args) => {
            crate::tell!(
                "executor on {} (tasks on port {}), registered with {}:{}",
                args.bind,
                args.task_port,
                args.scheduler.0,
                args.scheduler.1
            );
            run_executor(
                ExecutorSettings {
                    scheduler: args.scheduler,
                    bind: args.bind,
                    task_port: args.task_port,
                    advertise: args.advertise,
                    slots: args.slots.map(usize::from),
                    memory_bytes: args.memory_mib.map(|mib| mib.saturating_mul(1 << 20)),
                    heartbeat_seconds: args.heartbeat,
                    pushed: args.tasks == crate::cli::TaskDelivery::Push,
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
