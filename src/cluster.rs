//! A Ballista cluster for case queries (feature `cluster`): `mcpforensics cluster scheduler` and
//! `mcpforensics cluster executor`, built on the Ballista crates with the case's codecs
//! ([`crate::query::codec`]), so our tables and functions travel with every plan.
//!
//! Tasks are pulled: an executor asks the scheduler for work when it has free slots, so executors
//! need no port of their own but the one they serve shuffle data and results on (Arrow Flight).

use std::net::SocketAddr;
use std::sync::Arc;

use datafusion::execution::TaskContext;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::metrics::MetricsSet;
use datafusion::prelude::SessionConfig;

use ballista_core::JobId;
use ballista_core::config::TaskSchedulingPolicy;
use ballista_core::serde::protobuf::{
    RuntimeStatsReport, ShuffleWritePartition, TaskColumnStats, WindowStateReport,
};
use ballista_executor::execution_engine::{
    DefaultExecutionEngine, ExecutionEngine, QueryStageExecutor,
};
use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::start_server;

use crate::case::remote::CaseStores;
use crate::query::codec::{CaseLogicalCodec, CasePhysicalCodec, MAX_MESSAGE_BYTES};
use crate::sources::azure::AzureCredentials;

/// Prints Ballista's log records on standard error, at the level `MCPFORENSICS_LOG` names
/// (`error`, `warn`, `info`, `debug`, `trace`; `warn` when unset), DataFusion's and Ballista's only.
struct StderrLog(log::LevelFilter);

impl log::Log for StderrLog {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        metadata.level() <= self.0
            && ["ballista", "datafusion"]
                .iter()
                .any(|crate_name| metadata.target().starts_with(crate_name))
    }

    fn log(&self, record: &log::Record) {
        if self.enabled(record.metadata()) {
            crate::tell!(
                "{} {} {}",
                record.level(),
                record.target(),
                crate::escape::terminal_safe(&record.args().to_string())
            );
        }
    }

    fn flush(&self) {}
}

fn start_logging(level: log::LevelFilter) {
    let logger: &'static StderrLog = Box::leak(Box::new(StderrLog(level)));
    if log::set_logger(logger).is_ok() {
        log::set_max_level(level);
    }
}

/// Errors of a cluster process.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// Ballista refused the configuration or failed while serving.
    #[error("{0}")]
    Ballista(#[from] ballista_core::error::BallistaError),
    /// The process could not start its runtime.
    #[error("cannot start the runtime: {0}")]
    Runtime(#[from] std::io::Error),
}

/// How a cluster process logs and reads a case in Blob Storage, resolved by the command.
#[derive(Debug, Clone)]
pub struct ProcessSettings {
    /// The level of Ballista's log on standard error (`MCPFORENSICS_LOG`; warnings by default).
    pub log_level: log::LevelFilter,
    /// The credentials of scans of a case in Blob Storage (the environment's).
    pub credentials: AzureCredentials,
}

/// Runs a scheduler on `bind` until the process is stopped. `advertise` is the host name
/// executors and clients reach it by (the bind address when not given).
pub fn run_scheduler(
    bind: SocketAddr,
    advertise: Option<String>,
    process: ProcessSettings,
) -> Result<(), ClusterError> {
    start_logging(process.log_level);
    let credentials = process.credentials;
    let config = SchedulerConfig {
        bind_host: bind.ip().to_string(),
        bind_port: bind.port(),
        external_host: advertise.unwrap_or_else(|| bind.ip().to_string()),
        scheduling_policy: TaskSchedulingPolicy::PullStaged,
        override_logical_codec: Some(Arc::new(CaseLogicalCodec::default())),
        override_physical_codec: Some(Arc::new(CasePhysicalCodec::default())),
        grpc_server_max_decoding_message_size: MAX_MESSAGE_BYTES,
        grpc_server_max_encoding_message_size: MAX_MESSAGE_BYTES,
        grpc_client_max_message_size: MAX_MESSAGE_BYTES,
        // Plans it receives may scan a case in Blob Storage: its stores are built on first use.
        override_session_builder: Some(Arc::new(move |config| {
            let state = ballista_core::utils::default_session_builder(config)?;
            let runtime = RuntimeEnvBuilder::from_runtime_env(state.runtime_env())
                .with_object_store_registry(Arc::new(CaseStores::with_credentials(
                    credentials.clone(),
                )))
                .build_arc()?;
            // The scheduler optimizes the plans it is sent again: without the rules that misplan
            // unions of views, as every session of ours.
            let rules = state
                .optimizers()
                .iter()
                .filter(|rule| !crate::query::REMOVED_OPTIMIZER_RULES.contains(&rule.name()))
                .cloned()
                .collect();
            Ok(SessionStateBuilder::new_from_existing(state)
                .with_runtime_env(runtime)
                .with_optimizer_rules(rules)
                .build())
        })),
        ..SchedulerConfig::default()
    };
    crate::runtime::multi_thread(None)?.block_on(async move {
        let cluster = BallistaCluster::new_from_config(&config).await?;
        start_server(cluster, bind, Arc::new(config)).await?;
        Ok(())
    })
}

/// What an executor needs to know.
#[derive(Debug, Clone)]
pub struct ExecutorSettings {
    /// The scheduler's host and port.
    pub scheduler: (String, u16),
    /// Where it serves shuffle data and results (Arrow Flight).
    pub bind: SocketAddr,
    /// The host name others reach it by (the bind address when not given).
    pub advertise: Option<String>,
    /// Tasks it runs at once (the cores when not given).
    pub slots: Option<usize>,
    /// Where it keeps shuffle files (a temporary directory when not given).
    pub work_dir: Option<String>,
}

/// Runs an executor until the process is stopped.
pub fn run_executor(
    settings: ExecutorSettings,
    process: ProcessSettings,
) -> Result<(), ClusterError> {
    start_logging(process.log_level);
    let credentials = process.credentials;
    let defaults = ExecutorProcessConfig::default();
    let scratch = settings.work_dir.clone();
    let config = ExecutorProcessConfig {
        bind_host: settings.bind.ip().to_string(),
        port: settings.bind.port(),
        external_host: Some(
            settings
                .advertise
                .unwrap_or_else(|| settings.bind.ip().to_string()),
        ),
        scheduler_host: settings.scheduler.0,
        scheduler_port: settings.scheduler.1,
        // The scheduler may start after its executors (a container platform starts them at once).
        scheduler_connect_timeout_seconds: 30,
        vcores: settings.slots.unwrap_or(defaults.vcores),
        task_scheduling_policy: TaskSchedulingPolicy::PullStaged,
        work_dir: settings.work_dir,
        print_thread_info: false,
        override_logical_codec: Some(Arc::new(CaseLogicalCodec::default())),
        override_physical_codec: Some(Arc::new(CasePhysicalCodec::default())),
        grpc_max_decoding_message_size: MAX_MESSAGE_BYTES,
        grpc_max_encoding_message_size: MAX_MESSAGE_BYTES,
        // Ballista's pool of shuffle clients is private to its crate, so shuffle reads connect
        // afresh (on loopback and within a cluster's network this costs little).
        // Tasks may scan a case in Blob Storage: its stores are built on first use, with this
        // process's credentials (the environment's; none travel in plans).
        override_runtime_producer: Some(Arc::new(move |_config| {
            let mut runtime = RuntimeEnvBuilder::new().with_object_store_registry(Arc::new(
                CaseStores::with_credentials(credentials.clone()),
            ));
            if let Some(dir) = &scratch {
                runtime = runtime.with_temp_file_path(dir.clone());
            }
            runtime.build_arc()
        })),
        override_execution_engine: Some(Arc::new(WithoutOperatorMetrics(Arc::new(
            DefaultExecutionEngine::new(),
        )))),
        ..defaults
    };
    crate::runtime::multi_thread(None)?.block_on(async move {
        start_executor_process(Arc::new(config)).await?;
        Ok(())
    })
}

/// Ballista's own execution engine, except that a task reports no operator metrics.
///
/// The scheduler gives each task of a stage its own copy of the stage's plan, restricted to the
/// task's partitions; a union arm a task does not read becomes an empty in-memory scan, which has
/// metrics where the `EmptyExec` or `PlaceholderRowExec` it replaces has none. Tasks of one stage
/// then report different numbers of operator metrics, and Ballista 55's scheduler rejects the
/// second such task's status ("task metrics array size 7 does not equal with the stage metrics
/// array size 6") without failing it, so the job never ends. The metrics are only shown in the
/// scheduler's own views; nothing in the answer depends on them.
struct WithoutOperatorMetrics(Arc<dyn ExecutionEngine>);

impl ExecutionEngine for WithoutOperatorMetrics {
    fn create_query_stage_exec(
        &self,
        job_id: JobId,
        stage_id: usize,
        task_id: usize,
        global_output_partition_ids: Vec<usize>,
        plan: Arc<dyn ExecutionPlan>,
        work_dir: &str,
        config: &SessionConfig,
    ) -> datafusion::error::Result<Arc<dyn QueryStageExecutor>> {
        let stage = self.0.create_query_stage_exec(
            job_id,
            stage_id,
            task_id,
            global_output_partition_ids,
            plan,
            work_dir,
            config,
        )?;
        Ok(Arc::new(StageWithoutOperatorMetrics(stage)))
    }
}

/// A query stage that runs as Ballista's does and reports no operator metrics.
#[derive(Debug)]
struct StageWithoutOperatorMetrics(Arc<dyn QueryStageExecutor>);

impl std::fmt::Display for StageWithoutOperatorMetrics {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(formatter)
    }
}

#[async_trait::async_trait]
impl QueryStageExecutor for StageWithoutOperatorMetrics {
    async fn execute_query_stage(
        &self,
        task_id: usize,
        context: Arc<TaskContext>,
    ) -> datafusion::error::Result<Vec<ShuffleWritePartition>> {
        self.0.execute_query_stage(task_id, context).await
    }

    fn collect_plan_metrics(&self) -> Vec<MetricsSet> {
        Vec::new()
    }

    fn collect_runtime_stats_reports(&self) -> Vec<RuntimeStatsReport> {
        self.0.collect_runtime_stats_reports()
    }

    fn collect_window_state_reports(&self) -> datafusion::error::Result<Vec<WindowStateReport>> {
        self.0.collect_window_state_reports()
    }

    fn collect_column_stats(&self) -> Vec<TaskColumnStats> {
        self.0.collect_column_stats()
    }
}
