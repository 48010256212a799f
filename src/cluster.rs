//! A Ballista cluster for case queries (feature `cluster`): `mcpforensics cluster scheduler` and
//! `mcpforensics cluster executor`, built on the Ballista crates with the case's codecs
//! ([`crate::query::codec`]), so our tables and functions travel with every plan.
//!
//! Tasks are pushed: the scheduler launches each task on an executor with a free slot as soon as
//! its stage can run (an executor's task port), and executors serve shuffle data and results on
//! their Flight port.

use std::net::SocketAddr;
use std::sync::Arc;

use datafusion::common::JoinType;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode};
use datafusion::execution::TaskContext;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::coalesce_partitions::CoalescePartitionsExec;
use datafusion::physical_plan::joins::NestedLoopJoinExec;
use datafusion::physical_plan::metrics::MetricsSet;
use datafusion::physical_plan::{
    ChildrenPropertiesMode, ExecutionPlan, ExecutionPlanProperties, ReplaceChildrenOptions,
};
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
/// executors and clients reach it by (the bind address when not given); an executor silent for
/// `executor_timeout` seconds is lost, and its tasks run again on the others.
pub fn run_scheduler(
    bind: SocketAddr,
    advertise: Option<String>,
    executor_timeout: u64,
    pushed: bool,
    process: ProcessSettings,
) -> Result<(), ClusterError> {
    start_logging(process.log_level);
    let credentials = process.credentials;
    let config = SchedulerConfig {
        bind_host: bind.ip().to_string(),
        bind_port: bind.port(),
        external_host: advertise.unwrap_or_else(|| bind.ip().to_string()),
        // Tasks are launched on executors as soon as a stage can run: executors that pull
        // them poll every 50 ms, and each of a scope's thousands of tasks waited for a poll.
        scheduling_policy: policy(pushed),
        override_logical_codec: Some(Arc::new(CaseLogicalCodec::default())),
        override_physical_codec: Some(Arc::new(CasePhysicalCodec::default())),
        grpc_server_max_decoding_message_size: MAX_MESSAGE_BYTES,
        grpc_server_max_encoding_message_size: MAX_MESSAGE_BYTES,
        grpc_client_max_message_size: MAX_MESSAGE_BYTES,
        executor_timeout_seconds: executor_timeout,
        // Looked for at a third of the timeout, so a lost executor is noticed within 4/3 of it.
        expire_dead_executor_interval_seconds: (executor_timeout / 3).clamp(1, 15),
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
                .with_physical_optimizer_rule(Arc::new(ProbeInOneTask))
                .with_physical_optimizer_rule(Arc::new(FinalStageInOneTask))
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

/// A physical optimizer rule of the scheduler: a nested-loop join that emits rows on behalf of
/// its collected (left) side gets one probing task.
///
/// Such a join (left outer, full, left semi, anti or mark) keeps one record of which collected
/// rows matched, shared by the partitions probing it; in one process they share it, but each
/// task of a distributed stage has its own, so every task would emit the rows it did not see
/// matched. Ballista's planner re-plans hash joins of these types as partitioned on their keys;
/// a nested-loop join has no keys to partition on, so its probing (right) side is gathered into
/// one partition, and its stage into one task. Joins whose rows are driven by the probing side
/// (inner, right, right semi, anti and mark) keep every partition.
#[derive(Debug, Default)]
pub struct ProbeInOneTask;

impl ProbeInOneTask {
    /// Whether each probing row alone decides the rows a join of this type emits.
    fn probe_driven(join_type: JoinType) -> bool {
        matches!(
            join_type,
            JoinType::Inner
                | JoinType::Right
                | JoinType::RightSemi
                | JoinType::RightAnti
                | JoinType::RightMark
        )
    }
}

impl PhysicalOptimizerRule for ProbeInOneTask {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> datafusion::error::Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| {
            let Some(join) = node.downcast_ref::<NestedLoopJoinExec>() else {
                return Ok(Transformed::no(node));
            };
            let probing = join.right();
            if Self::probe_driven(*join.join_type())
                || probing.output_partitioning().partition_count() <= 1
            {
                return Ok(Transformed::no(node));
            }
            let gathered: Arc<dyn ExecutionPlan> =
                Arc::new(CoalescePartitionsExec::new(Arc::clone(probing)));
            let children = vec![Arc::clone(join.left()), gathered];
            let options = ReplaceChildrenOptions::new(ChildrenPropertiesMode::Recompute);
            Ok(Transformed::yes(node.replace_children(children, options)?))
        })
        .data()
    }

    fn name(&self) -> &str {
        "probe_in_one_task"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// A physical optimizer rule of the scheduler, the last: a job's final stage runs as one task.
///
/// Ballista 55 hands the client a final stage's results task by task as they finish; when an
/// executor holding the stage's input is lost, the stage is run again whole and the tasks that had
/// finished hand theirs over a second time (`update_stage_output_links` extends the job's output
/// locations), so the client would read those rows twice. A final stage of one task hands over
/// nothing before it is done. Most of the pack's queries end in a sort merged into one partition
/// already; the others gain one gathering step. (The same hazard between stages is Ballista's and
/// not fixed here: `docs/scale-out.md`, "Losing an executor".)
#[derive(Debug, Default)]
pub struct FinalStageInOneTask;

impl PhysicalOptimizerRule for FinalStageInOneTask {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> datafusion::error::Result<Arc<dyn ExecutionPlan>> {
        if plan.output_partitioning().partition_count() <= 1 {
            return Ok(plan);
        }
        Ok(Arc::new(CoalescePartitionsExec::new(plan)))
    }

    fn name(&self) -> &str {
        "final_stage_in_one_task"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// What an executor needs to know.
#[derive(Debug, Clone)]
pub struct ExecutorSettings {
    /// The scheduler's host and port.
    pub scheduler: (String, u16),
    /// Where it serves shuffle data and results (Arrow Flight).
    pub bind: SocketAddr,
    /// The port, on the host of `bind`, the scheduler launches tasks on (gRPC).
    pub task_port: u16,
    /// The host name others reach it by (the bind address when not given).
    pub advertise: Option<String>,
    /// Tasks it runs at once (the cores when not given).
    pub slots: Option<usize>,
    /// Where it keeps shuffle files (a temporary directory when not given).
    pub work_dir: Option<String>,
    /// Memory its tasks share (Ballista's share of the machine's when not given).
    pub memory_bytes: Option<u64>,
    /// Seconds between its heartbeats to the scheduler.
    pub heartbeat_seconds: u64,
    /// Whether the scheduler launches tasks on it (or it polls for them).
    pub pushed: bool,
}

/// Ballista's scheduling policy: tasks pushed by the scheduler, or pulled by executors.
fn policy(pushed: bool) -> TaskSchedulingPolicy {
    if pushed {
        TaskSchedulingPolicy::PushStaged
    } else {
        TaskSchedulingPolicy::PullStaged
    }
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
        memory_pool_size: settings.memory_bytes.or(defaults.memory_pool_size),
        executor_heartbeat_interval_seconds: settings.heartbeat_seconds,
        task_scheduling_policy: policy(settings.pushed),
        grpc_port: settings.task_port,
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

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::Int64Array;
    use arrow::datatypes::{DataType, Field, Schema};
    use arrow::record_batch::RecordBatch;
    use datafusion::datasource::memory::MemorySourceConfig;
    use datafusion::physical_plan::collect;
    use datafusion::prelude::SessionContext;

    /// A scan of `parts` partitions, each holding the one value of its slice.
    fn scan(name: &str, parts: &[&[i64]]) -> Arc<dyn ExecutionPlan> {
        let schema = Arc::new(Schema::new(vec![Field::new(name, DataType::Int64, false)]));
        let partitions: Vec<Vec<RecordBatch>> = parts
            .iter()
            .map(|values| {
                let column = Arc::new(Int64Array::from(values.to_vec()));
                vec![RecordBatch::try_new(Arc::clone(&schema), vec![column]).expect("batch")]
            })
            .collect();
        MemorySourceConfig::try_new_exec(&partitions, schema, None).expect("scan")
    }

    /// `l JOIN r ON l = r`, written as a nested-loop join: `l` is 1, 2, 3 collected, `r` is 1
    /// and 2 in two partitions.
    fn nested_loop(join_type: JoinType) -> Arc<dyn ExecutionPlan> {
        use datafusion::common::JoinSide;
        use datafusion::logical_expr::Operator;
        use datafusion::physical_expr::expressions::{BinaryExpr, Column};
        use datafusion::physical_plan::joins::utils::{ColumnIndex, JoinFilter};
        let collected = Arc::new(CoalescePartitionsExec::new(scan("l", &[&[1, 2, 3]])));
        let probing = scan("r", &[&[1], &[2]]);
        let equal = Arc::new(BinaryExpr::new(
            Arc::new(Column::new("l", 0)),
            Operator::Eq,
            Arc::new(Column::new("r", 1)),
        ));
        let sides = vec![
            ColumnIndex {
                index: 0,
                side: JoinSide::Left,
            },
            ColumnIndex {
                index: 0,
                side: JoinSide::Right,
            },
        ];
        let pair = Arc::new(Schema::new(vec![
            Field::new("l", DataType::Int64, false),
            Field::new("r", DataType::Int64, false),
        ]));
        let filter = JoinFilter::new(equal, sides, pair);
        Arc::new(
            NestedLoopJoinExec::try_new(collected, probing, Some(filter), &join_type, None)
                .expect("join"),
        )
    }

    /// Rows of each output partition run alone, each from its own copy of the plan (`make`), as
    /// tasks of one stage in other processes share nothing.
    async fn rows_by_task(make: impl Fn() -> Arc<dyn ExecutionPlan>) -> usize {
        let context = SessionContext::new().task_ctx();
        let mut rows = 0;
        for partition in 0..make().output_partitioning().partition_count() {
            let stream = make()
                .execute(partition, Arc::clone(&context))
                .expect("run");
            let batches = datafusion::physical_plan::common::collect(stream)
                .await
                .expect("rows");
            rows += batches.iter().map(RecordBatch::num_rows).sum::<usize>();
        }
        rows
    }

    #[tokio::test]
    async fn a_left_nested_loop_join_probes_in_one_task_and_an_inner_one_keeps_its_partitions() {
        let rule = ProbeInOneTask;
        let options = ConfigOptions::default();
        let left = nested_loop(JoinType::Left);
        let expected = collect(Arc::clone(&left), SessionContext::new().task_ctx())
            .await
            .expect("in one process")
            .iter()
            .map(RecordBatch::num_rows)
            .sum::<usize>();
        assert_eq!(expected, 3, "1 and 2 matched, 3 unmatched");
        // Each task of the unplanned join emits the left rows it did not see matched.
        let planned = rule.optimize(left, &options).expect("rule");
        assert_eq!(planned.output_partitioning().partition_count(), 1);
        assert!(
            planned.children()[1]
                .downcast_ref::<CoalescePartitionsExec>()
                .is_some()
        );
        let plan = || {
            rule.optimize(nested_loop(JoinType::Left), &options)
                .expect("rule")
        };
        assert_eq!(rows_by_task(plan).await, expected);

        let inner = nested_loop(JoinType::Inner);
        let planned = rule.optimize(Arc::clone(&inner), &options).expect("rule");
        assert_eq!(planned.output_partitioning().partition_count(), 2);
        let plan = || {
            rule.optimize(nested_loop(JoinType::Inner), &options)
                .expect("rule")
        };
        assert_eq!(rows_by_task(plan).await, 2);
    }

    /// A plan of two partitions gains one gathering step at its root; a plan of one is unchanged.
    #[test]
    fn the_final_stage_is_one_task() {
        let config = ConfigOptions::default();
        let two = scan("v", &[&[1], &[2]]);
        let gathered = FinalStageInOneTask
            .optimize(Arc::clone(&two), &config)
            .expect("plan");
        assert_eq!(gathered.output_partitioning().partition_count(), 1);
        assert!(gathered.downcast_ref::<CoalescePartitionsExec>().is_some());
        let one = scan("v", &[&[1, 2]]);
        let same = FinalStageInOneTask
            .optimize(Arc::clone(&one), &config)
            .expect("plan");
        assert!(Arc::ptr_eq(&one, &same));
    }
}
