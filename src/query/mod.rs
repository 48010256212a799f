//! The one place a DataFusion `SessionContext` is built over a case.
//!
//! Registers every case table as a Parquet listing table with its declared schema (a declared
//! table the case has no data for is registered empty, so queries never fail on a missing
//! source), the `rejects` table, and the views of `views.sql` (`identities`, `tool_calls`).
//! Identifiers are case-sensitive, as in Log Analytics: `SELECT UserPrincipalName FROM SigninLogs`.
//! Ad-hoc SQL is read-only: DDL, DML and `SET`/`COPY` statements are refused.

use std::sync::Arc;

use arrow::datatypes::{DataType, SchemaRef};
use arrow::record_batch::RecordBatch;
use datafusion::catalog::{MemorySchemaProvider, SchemaProvider};
use datafusion::common::TableReference;
use datafusion::datasource::MemTable;
use datafusion::datasource::TableProvider;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::error::DataFusionError;
use datafusion::execution::context::SQLOptions;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};

/// Stack for threads that plan queries (`crate::runtime`'s, for threads started elsewhere).
pub const QUERY_STACK_BYTES: usize = crate::runtime::STACK_BYTES;

pub mod azure_diagnostics;
pub mod call_index;
#[cfg(feature = "cluster")]
pub mod codec;
pub mod memory;
pub mod once;
pub mod pack;
pub mod reads;
pub mod result_files;
pub mod sessions;
pub mod udf;

pub use reads::DayWindow;

use crate::case::identities::{index_files, index_schema};
use crate::case::{Case, CaseError};
use crate::catalog::{self, Role};
use crate::parsers::{self, Decoder, log_analytics};

/// Errors from querying a case.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// DataFusion refused or failed the query.
    #[error("{0}")]
    DataFusion(#[from] DataFusionError),
    /// The case could not be read.
    #[error(transparent)]
    Case(#[from] CaseError),
    /// A query of the pack is missing or malformed.
    #[error("{0}")]
    Pack(String),
    /// A query of the pack failed while it ran (named, since one command runs many).
    #[error("pack query {query}: {source}")]
    InPack {
        /// The query's name.
        query: String,
        /// Why it failed.
        source: Box<QueryError>,
    },
    /// `--cluster` was given to a build without the `cluster` feature.
    #[error(
        "this build of mcpforensics cannot run on a cluster: build it with `cargo build --release --features cluster` (docs/scale-out.md)"
    )]
    NoClusterSupport,
}

/// DataFusion optimizer rules every session (and a cluster's scheduler) runs without: the
/// leaf-expression rules of DataFusion 55 move a function of a column (`json_get_str` of a JSON
/// column) into the inputs of a UNION misaligned ("UNION field 0 have different type"), and
/// project a column twice under two names as one field. Our JSON is text, so pushing those
/// functions toward the scan saves no reading.
pub const REMOVED_OPTIMIZER_RULES: &[&str] =
    &["extract_leaf_expressions", "push_down_leaf_projections"];

/// Views created over every case, in order.
pub const VIEWS_SQL: &str = include_str!("views.sql");
/// Views over MCP messages and over `tool_calls` once it is settled (Sigma's `mcp` log sources).
pub const MESSAGE_VIEWS_SQL: &str = include_str!("message_views.sql");

/// `tool_calls` over the plain view renamed `tool_calls_served`, with caller addresses from HTTP
/// access logs; registered only when the case holds a table the catalogue gives the role
/// `HttpAccess`.
pub const HTTP_ACCESS_SQL: &str = include_str!("http_access.sql");

/// A table or view available to SQL.
#[derive(Debug, Clone)]
pub struct TableInfo {
    /// Name to use in SQL.
    pub name: String,
    /// `table` (data in the case), `empty` (declared, no data), `derived` (the call index) or `view`.
    pub kind: &'static str,
    /// Its schema.
    pub schema: SchemaRef,
}

/// Memory the query operators of one session may hold (sorts, joins, aggregations) before
/// they spill to temporary files, unless the command's settings give another.
pub const DEFAULT_MEMORY_LIMIT: usize = (DEFAULT_MEMORY_MIB as usize) << 20;

/// [`DEFAULT_MEMORY_LIMIT`] in MiB, the default of `--memory-mib`.
pub const DEFAULT_MEMORY_MIB: u64 = 2048;

/// How a command's query sessions run: resolved once by the command from its options and
/// passed down to every session it opens (nothing here is a process global).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuerySettings {
    /// Memory the operators of one session may hold before they spill (`--memory-mib`).
    pub memory_bytes: usize,
    /// The Ballista scheduler the sessions run on (`df://HOST:PORT`, `--cluster`); `None` runs
    /// them in this process.
    pub cluster: Option<String>,
    /// Partitions each stage of a query is split into on the cluster (`--cluster-partitions`):
    /// the tasks the executors' slots share.
    pub cluster_partitions: usize,
    /// A directory every executor sees at the same path (`--cluster-scratch`): pack results
    /// later queries read are written there as Parquet rather than carried in their plans.
    pub cluster_scratch: Option<std::path::PathBuf>,
}

/// [`QuerySettings::cluster_partitions`] unless given: two executors of two slots each.
pub const DEFAULT_CLUSTER_PARTITIONS: usize = 4;

impl Default for QuerySettings {
    fn default() -> Self {
        Self {
            memory_bytes: DEFAULT_MEMORY_LIMIT,
            cluster: None,
            cluster_partitions: DEFAULT_CLUSTER_PARTITIONS,
            cluster_scratch: None,
        }
    }
}

/// One query of a run, as `--timings` reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryTiming {
    /// The pack query's name.
    pub name: String,
    /// Seconds it took, writing its result included.
    pub seconds: f64,
    /// Rows of its result; none when it was registered as a view over the call index.
    pub rows: Option<usize>,
    /// Bytes its result holds in memory.
    pub held: usize,
    /// Whether its result went to a Parquet file the cluster's executors read
    /// (`--cluster-scratch`) rather than travelling in plans.
    pub in_file: bool,
}

/// A session in this process, or (with a `cluster`) one whose queries the cluster runs.
async fn session(
    config: SessionConfig,
    runtime: Arc<datafusion::execution::runtime_env::RuntimeEnv>,
    settings: &QuerySettings,
) -> Result<SessionContext, QueryError> {
    match settings.cluster.as_deref() {
        None => Ok(SessionContext::new_with_config_rt(config, runtime)),
        #[cfg(feature = "cluster")]
        Some(url) => {
            use ballista::prelude::{SessionConfigExt, SessionContextExt};
            let mut config = config;
            // An uncorrelated scalar subquery is otherwise left to `ScalarSubqueryExec`, which
            // a stage of a distributed plan cannot carry apart from it: plan it as a join.
            let optimizer = &mut config.options_mut().optimizer;
            optimizer.enable_physical_uncorrelated_scalar_subquery = false;
            // The scheduler's join selection swaps join inputs after dynamic filters were
            // planned, which DataFusion refuses (and the job then never ends): plan none.
            optimizer.enable_dynamic_filter_pushdown = false;
            optimizer.enable_join_dynamic_filter_pushdown = false;
            optimizer.enable_topk_dynamic_filter_pushdown = false;
            optimizer.enable_aggregate_dynamic_filter_pushdown = false;
            // Every equi-join is planned partitioned on its keys, with the distribution its
            // parents need around it; Ballista then broadcasts the small side of the joins whose
            // rows the probing side alone decides (`with_ballista_broadcast_join_*` below). Left
            // to DataFusion, a small side is collected whatever the join type; Ballista's planner
            // re-partitions those whose collected side keeps a shared record of matched rows
            // (outer, semi, anti and mark joins) without gathering them again for a parent that
            // reads one partition, and a sort over such a join read one partition of several.
            optimizer.hash_join_single_partition_threshold = 0;
            optimizer.hash_join_single_partition_threshold_rows = 0;
            // Each stage is split into this many tasks (a nested-loop join with such a record
            // is given one probing task by the scheduler's rule `cluster::ProbeInOneTask`;
            // docs/scale-out.md, "Partitioned stages").
            config.options_mut().execution.target_partitions = settings.cluster_partitions.max(1);
            let config = config
                .with_ballista_logical_extension_codec(Arc::new(codec::CaseLogicalCodec::default()))
                .with_ballista_physical_extension_codec(Arc::new(
                    codec::CasePhysicalCodec::default(),
                ))
                .with_ballista_grpc_client_max_message_size(codec::MAX_MESSAGE_BYTES as usize)
                // The adaptive planner re-plans the pack's many-join plans into hundreds of
                // stages (and cannot yet cancel the ones it drops); the static plan is faster.
                .with_ballista_adaptive_query_planner(false)
                // A join whose small side is under the in-process threshold sends that side whole
                // to every task probing it (inner and probe-driven joins only; Ballista keeps
                // the others partitioned), as in one process.
                .with_ballista_broadcast_join_threshold_bytes(BROADCAST_BYTES)
                .with_ballista_broadcast_join_threshold_rows(0);
            let state = datafusion::execution::SessionStateBuilder::new()
                .with_config(config)
                .with_runtime_env(runtime)
                .with_default_features()
                .build();
            Ok(SessionContext::remote_with_state(url, state).await?)
        }
        #[cfg(not(feature = "cluster"))]
        Some(_) => Err(QueryError::NoClusterSupport),
    }
}

/// Schema holding every day of the sign-in tables, for identity resolution in a windowed session.
pub const ALL_DAYS_SCHEMA: &str = "all_days";

/// `identity_index` of a case without index files: computed from every day's sign-ins.
const IDENTITY_INDEX_FROM_SIGN_INS: &str = include_str!("identity_index.sql");

/// How much of the case a session read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseReads {
    /// Parquet files of the case's tables.
    pub files_in_case: usize,
    /// Files the session's scans opened (after partition pruning).
    pub files_opened: Vec<String>,
    /// The day window, if the session had one.
    pub window: Option<DayWindow>,
}

/// SQL over one case.
pub struct QueryEngine {
    ctx: SessionContext,
    tables: Vec<TableInfo>,
    /// Pack queries already run in this session: name, the parameters they ran with, and the
    /// rows they gave (none for a view over the call index).
    pack_results: std::sync::Mutex<Vec<pack::PackResult>>,
    /// Each pack query run: name, seconds, rows.
    timings: std::sync::Mutex<Vec<QueryTiming>>,
    opened: Arc<reads::OpenedFiles>,
    files_in_case: usize,
    window: Option<DayWindow>,
    file_check: crate::case::verify::FileCheck,
    /// The call index `tool_calls` reads (its directory in the case), when it reads one.
    call_index: Option<String>,
    /// Whether the session's queries run on a Ballista cluster.
    on_cluster: bool,
    /// Where large pack results go on a cluster with `--cluster-scratch`.
    result_files: Option<result_files::ResultFiles>,
}

impl QueryEngine {
    /// Builds the session over a case, with no indicators of compromise.
    pub async fn open(case: &Case, settings: &QuerySettings) -> Result<Self, QueryError> {
        Self::open_with_iocs(case, &[], settings).await
    }

    /// Builds the session over a case; `iocs` (kind `ip` or `user`, value) become the `iocs` table.
    pub async fn open_with_iocs(
        case: &Case,
        iocs: &[(String, String)],
        settings: &QuerySettings,
    ) -> Result<Self, QueryError> {
        Self::open_windowed(case, iocs, None, settings).await
    }

    /// Builds the session over the days of `window` only (every day when `None`): scans of the
    /// case's tables open only those days' files. Identity resolution (the `identities` view)
    /// does not depend on the window: it reads the case's identity index, written at ingest from
    /// every sign-in, or (in a case without one) the sign-ins of every day through the `all_days`
    /// schema.
    pub async fn open_windowed(
        case: &Case,
        iocs: &[(String, String)],
        window: Option<DayWindow>,
        settings: &QuerySettings,
    ) -> Result<Self, QueryError> {
        Self::open_session(case, iocs, window, true, settings).await
    }

    /// A session over the days of `window` (every day when `None`) whose `tool_calls` is the
    /// view, whatever call index the case has: what a call index is derived from.
    pub(crate) async fn open_without_index(
        case: &Case,
        window: Option<DayWindow>,
        settings: &QuerySettings,
    ) -> Result<Self, QueryError> {
        // A week of calls is sorted once with every column: spilled past a quarter of the limit
        // rather than held (it held about 1 GB at 5 GB, most of the ingest's peak).
        let settings = QuerySettings {
            memory_bytes: settings.memory_bytes / 4,
            ..settings.clone()
        };
        Self::open_session(case, &[], window, false, &settings).await
    }

    /// [`Self::open_windowed`]; `tool_calls` reads the case's call index when `use_index` and
    /// the index is current; its operators hold at most `memory_bytes` before spilling.
    async fn open_session(
        case: &Case,
        iocs: &[(String, String)],
        window: Option<DayWindow>,
        use_index: bool,
        settings: &QuerySettings,
    ) -> Result<Self, QueryError> {
        let memory_bytes = settings.memory_bytes;
        let config = session_config(memory_bytes);
        let runtime = RuntimeEnvBuilder::new()
            .with_memory_pool(memory::pool(memory_bytes))
            .with_object_store_registry(case.object_stores())
            .build_arc()?;
        let mut ctx = session(config, runtime, settings).await?;
        // Without the rules that misplan unions of views (REMOVED_OPTIMIZER_RULES).
        for rule in REMOVED_OPTIMIZER_RULES {
            ctx.remove_optimizer_rule(rule);
        }
        let all_days = Arc::new(MemorySchemaProvider::new());
        if let Some(catalog) = ctx.catalog("datafusion") {
            catalog.register_schema(ALL_DAYS_SCHEMA, all_days.clone())?;
        }
        let opened = Arc::new(reads::OpenedFiles::default());
        let mut files_in_case = 0;
        // The tables read whatever Parquet files the case's directories hold.
        let file_check = crate::case::verify::check_files(case)?;
        register_functions(&mut ctx, case)?;
        let mut tables = Vec::new();
        tables.push(register_iocs(&ctx, iocs)?);

        let present = case.table_names()?;
        let mut declared: Vec<(String, SchemaRef)> = catalog::TABLES
            .iter()
            .filter_map(|table| Some((table.name.to_string(), parsers::declared_schema(table)?)))
            .collect();
        for name in &present {
            if !declared.iter().any(|(d, _)| d == name) {
                declared.push((
                    name.clone(),
                    Decoder::Table(&log_analytics::GENERIC).schema(),
                ));
            }
        }
        for (name, schema) in declared {
            let table = CaseTableSpec {
                window,
                opened: &opened,
                all_days: &all_days,
            };
            let (info, files) = table.register(&ctx, case, name, schema).await?;
            files_in_case += files;
            tables.push(info);
        }
        // Only where the case holds Azure diagnostics records: every other session's tables stay
        // tables.
        if tables
            .iter()
            .any(|t| t.name == "AzureDiagnostics" && t.kind == "table")
        {
            azure_diagnostics::merge(&ctx).await?;
        }
        let rejects_schema = crate::case::writer::rejects_schema();
        if case.files_under("rejects")?.is_empty() {
            ctx.register_table(
                "rejects",
                Arc::new(MemTable::try_new(rejects_schema.clone(), vec![vec![]])?),
            )?;
            tables.push(TableInfo {
                name: "rejects".into(),
                kind: "empty",
                schema: rejects_schema,
            });
        } else {
            let options = ListingOptions::new(Arc::new(ParquetFormat::default()))
                .with_file_extension(".parquet");
            ctx.register_listing_table(
                "rejects",
                case.address_of("rejects", true),
                options,
                Some(rejects_schema.clone()),
                None,
            )
            .await?;
            tables.push(TableInfo {
                name: "rejects".into(),
                kind: "table",
                schema: rejects_schema,
            });
        }
        files_in_case += register_identity_index(&ctx, case, &opened, &mut tables).await?;
        // An access log in its own table, or possibly among Azure diagnostics records (Front
        // Door's always are: it has no resource-specific table).
        let has_access_logs = tables.iter().any(|t| {
            t.kind == "table"
                && (t.name == "AzureDiagnostics"
                    || catalog::find(&t.name).is_some_and(|c| c.has(Role::HttpAccess)))
        });
        register_views(&ctx, has_access_logs, settings.cluster.is_some()).await?;
        let mut index_read = None;
        // Only over the files the manifest lists: the index was derived from exactly those.
        if use_index
            && file_check.missing.is_empty()
            && file_check.unexpected.is_empty()
            && let Some(index) = call_index::current(case)?
        {
            files_in_case += index.record.files.len();
            index_read = Some(index.dir.clone());
            let schema = call_index::register(&ctx, case, &index, window, opened.clone()).await?;
            tables.push(TableInfo {
                name: call_index::TABLE.into(),
                kind: "derived",
                schema,
            });
        }
        for statement in split_statements(MESSAGE_VIEWS_SQL) {
            ctx.sql(&statement).await?;
        }
        for view in [
            "identities",
            "tool_calls",
            "mcp_messages",
            "tool_call_hours",
        ] {
            let schema = ctx.table_provider(view).await?.schema();
            tables.push(TableInfo {
                name: view.into(),
                kind: "view",
                schema,
            });
        }
        tables.sort_by_key(|t| t.name.to_ascii_lowercase());
        Ok(Self {
            ctx,
            tables,
            pack_results: std::sync::Mutex::new(Vec::new()),
            timings: std::sync::Mutex::new(Vec::new()),
            opened,
            files_in_case,
            window,
            file_check,
            call_index: index_read,
            on_cluster: settings.cluster.is_some(),
            result_files: match (&settings.cluster, &settings.cluster_scratch) {
                (Some(_), Some(scratch)) => Some(result_files::ResultFiles::create_in(scratch)?),
                _ => None,
            },
        })
    }

    /// The call index `tool_calls` reads (its directory in the case), or `None` when
    /// `tool_calls` relates the telemetry rows itself.
    pub fn call_index(&self) -> Option<&str> {
        self.call_index.as_deref()
    }

    /// The case's files against its manifest, as checked when the session opened.
    pub fn file_check(&self) -> &crate::case::verify::FileCheck {
        &self.file_check
    }

    /// How much of the case this session has read so far.
    pub fn reads(&self) -> CaseReads {
        CaseReads {
            files_in_case: self.files_in_case,
            files_opened: self.opened.snapshot(),
            window: self.window,
        }
    }

    /// Each pack query run in this session: name, seconds, rows, bytes its result holds.
    pub fn timings(&self) -> Vec<QueryTiming> {
        self.timings.lock().map(|t| t.clone()).unwrap_or_default()
    }

    /// Tables and views, sorted by name.
    pub fn tables(&self) -> &[TableInfo] {
        &self.tables
    }

    /// The underlying session (for the query pack and scope, which bind parameters).
    pub fn context(&self) -> &SessionContext {
        &self.ctx
    }

    /// Runs one read-only SQL statement and collects the result.
    pub async fn sql(&self, sql: &str) -> Result<(SchemaRef, Vec<RecordBatch>), QueryError> {
        let options = SQLOptions::new()
            .with_allow_ddl(false)
            .with_allow_dml(false)
            .with_allow_statements(false);
        let frame = self.ctx.sql_with_options(sql, options).await?;
        let schema: SchemaRef = Arc::new(frame.schema().as_arrow().clone());
        let batches = self.collect(frame).await?;
        Ok((schema, batches))
    }

    /// Runs a query (see the free function [`collect`]).
    async fn collect(
        &self,
        frame: datafusion::dataframe::DataFrame,
    ) -> Result<Vec<RecordBatch>, QueryError> {
        collect(&self.ctx, frame, self.on_cluster).await
    }

    /// Rows in a table or view.
    pub async fn count(&self, table: &str) -> Result<u64, QueryError> {
        let (_, batches) = self
            .sql(&format!(
                "SELECT count(*) FROM \"{}\"",
                table.replace('"', "\"\"")
            ))
            .await?;
        let count = batches
            .first()
            .and_then(|b| {
                b.column(0)
                    .as_any()
                    .downcast_ref::<arrow::array::Int64Array>()
                    .map(|a| a.value(0))
            })
            .unwrap_or(0);
        Ok(u64::try_from(count).unwrap_or(0))
    }
}

/// The views over the case's tables: the catalogue's role views, `views.sql`, and, when the
/// case holds an HTTP access log, `http_access.sql` (`tool_calls` then adds its callers).
async fn register_views(
    ctx: &SessionContext,
    has_access_logs: bool,
    on_cluster: bool,
) -> Result<(), QueryError> {
    let mut statements = vec![
        catalog::evidence_roles_view(),
        catalog::coverage_records_view(),
        catalog::app_insights_records_view(),
        catalog::sign_ins_view("identity_sign_ins", None),
    ];
    statements.extend(split_statements(VIEWS_SQL));
    if has_access_logs {
        for statement in &mut statements {
            if statement.contains("CREATE VIEW tool_calls AS") {
                *statement = statement.replace(
                    "CREATE VIEW tool_calls AS",
                    "CREATE VIEW tool_calls_served AS",
                );
            }
        }
        statements.extend(split_statements(HTTP_ACCESS_SQL));
    }
    for statement in statements {
        ctx.sql(&statement).await?;
        // Computed once per session rather than by every query and join that reads it: on
        // its first use; on a cluster (which cannot carry a view computed on demand), now,
        // by the cluster, and then carried as rows.
        if statement.contains("CREATE VIEW identities") {
            let frame = ctx.table("identities").await?;
            ctx.deregister_table("identities")?;
            let rows: Arc<dyn TableProvider> = if !on_cluster {
                Arc::new(once::OnceView::new(frame.into_unoptimized_plan()))
            } else {
                let schema = Arc::new(frame.schema().as_arrow().clone());
                let batches = collect(ctx, frame, true).await?;
                let schema = batches.first().map_or(schema, RecordBatch::schema);
                Arc::new(MemTable::try_new(schema, vec![batches])?)
            };
            ctx.register_table("identities", rows)?;
        }
    }
    Ok(())
}

/// Largest side of a join that is built once and probed by every partition of the other side.
const BROADCAST_BYTES: usize = 16 << 20;

/// The session's configuration: Log Analytics names as written, text as plain `Utf8`, and
/// sort spilling sized to `memory_bytes`.
fn session_config(memory_bytes: usize) -> SessionConfig {
    let mut config = SessionConfig::new()
        .with_information_schema(true)
        .with_target_partitions(std::thread::available_parallelism().map_or(2, usize::from));
    let options = config.options_mut();
    options.sql_parser.enable_ident_normalization = false;
    options.execution.listing_table_factory_infer_partitions = false;
    options.execution.parquet.pushdown_filters = true;
    // Text as plain `Utf8`, not views into the decoded pages: a view array filtered or joined
    // keeps (and every batch of it counts) whole pages, so sorts and join build sides of a
    // large case asked the memory pool for gigabytes they did not use.
    options.execution.parquet.schema_force_view_types = false;
    // And `VARCHAR` in the pack's SQL (`CAST(NULL AS VARCHAR)`) as `Utf8` too: one view column
    // in a union makes the whole column a view, and a view array taken or filtered keeps every
    // data buffer of its source (a 5 GB case's session results reported hundreds of GB).
    options.sql_parser.map_string_types_to_utf8view = false;
    // A join whose smaller side is a few MiB (the pack's sets of ids, addresses and hosts)
    // builds it once and probes every partition of the larger side where it is, rather than
    // re-partitioning both sides by the key: that moved every column of the calls.
    options.optimizer.hash_join_single_partition_threshold = BROADCAST_BYTES;
    // Each sorting partition keeps this much back for merging its spill files.
    options.execution.sort_spill_reservation_bytes = (memory_bytes / 16).min(10 << 20);
    config
}

/// The functions the pack and the views use: JSON, customer ids, hosts, keys, trace ids and
/// session marks (the customer keys are the case's).
fn register_functions(ctx: &mut SessionContext, case: &Case) -> Result<(), QueryError> {
    datafusion_functions_json::register_all(ctx)?;
    let customer_keys = case.config()?.customer_keys;
    ctx.register_udf(udf::customer_mentions_udf(customer_keys.clone()));
    ctx.register_udf(udf::customer_ids_udf(customer_keys));
    ctx.register_udf(udf::outside_hosts_udf());
    ctx.register_udf(udf::wide_request_udf());
    ctx.register_udf(udf::call_key_udf());
    ctx.register_udf(udf::trace_id_udf());
    ctx.register_udf(udf::target_host_udf());
    for function in sessions::session_functions() {
        ctx.register_udwf(function.as_ref().clone());
    }
    Ok(())
}

/// The `iocs` table: the indicators given (kind `ip` or `user`, value).
fn register_iocs(ctx: &SessionContext, iocs: &[(String, String)]) -> Result<TableInfo, QueryError> {
    let ioc_schema = Arc::new(arrow::datatypes::Schema::new(vec![
        arrow::datatypes::Field::new("kind", DataType::Utf8, false),
        arrow::datatypes::Field::new("value", DataType::Utf8, false),
    ]));
    let ioc_batch = RecordBatch::try_new(
        ioc_schema.clone(),
        vec![
            Arc::new(arrow::array::StringArray::from_iter_values(
                iocs.iter().map(|(k, _)| k.as_str()),
            )),
            Arc::new(arrow::array::StringArray::from_iter_values(
                iocs.iter().map(|(_, v)| v.as_str()),
            )),
        ],
    )
    .map_err(DataFusionError::from)?;
    ctx.register_table(
        "iocs",
        Arc::new(MemTable::try_new(
            ioc_schema.clone(),
            vec![vec![ioc_batch]],
        )?),
    )?;
    Ok(TableInfo {
        name: "iocs".into(),
        kind: "table",
        schema: ioc_schema,
    })
}

/// How a case table is registered in a session: limited to a window of days, its opened files
/// recorded, and an identity source also under the `all_days` schema.
struct CaseTableSpec<'a> {
    window: Option<DayWindow>,
    opened: &'a Arc<reads::OpenedFiles>,
    all_days: &'a Arc<MemorySchemaProvider>,
}

impl CaseTableSpec<'_> {
    /// Registers table `name` of `case` with its declared `schema`: a listing of its Parquet
    /// files, or an empty table with the same columns when it has none; returns it and its
    /// number of files.
    async fn register(
        &self,
        ctx: &SessionContext,
        case: &Case,
        name: String,
        schema: SchemaRef,
    ) -> Result<(TableInfo, usize), QueryError> {
        let dir = format!("tables/{name}");
        let files = case.files_under(&dir)?.len();
        let partitioned = ListingOptions::new(Arc::new(ParquetFormat::default()))
            .with_file_extension(".parquet")
            .with_table_partition_cols(vec![("date".to_string(), DataType::Utf8)]);
        let kind = if files > 0 {
            let config =
                ListingTableConfig::new(ListingTableUrl::parse(case.address_of(&dir, true))?)
                    .with_listing_options(partitioned)
                    .with_schema(schema.clone());
            let listing: Arc<dyn TableProvider> = Arc::new(ListingTable::try_new(config)?);
            ctx.register_table(
                TableReference::bare(name.clone()),
                Arc::new(reads::CaseTable::new(
                    listing.clone(),
                    self.window,
                    self.opened.clone(),
                )),
            )?;
            if catalog::find(name.as_str()).is_some_and(|t| t.has(Role::IdentitySource)) {
                self.all_days.register_table(
                    name.clone(),
                    Arc::new(reads::CaseTable::new(listing, None, self.opened.clone())),
                )?;
            }
            "table"
        } else {
            // The same columns as a listing table, partition column included.
            let mut fields: Vec<_> = schema.fields().iter().cloned().collect();
            fields.push(Arc::new(arrow::datatypes::Field::new(
                "date",
                DataType::Utf8,
                true,
            )));
            let with_date = Arc::new(arrow::datatypes::Schema::new(fields));
            let empty = Arc::new(MemTable::try_new(with_date, vec![vec![]])?);
            ctx.register_table(TableReference::bare(name.clone()), empty.clone())?;
            if catalog::find(name.as_str()).is_some_and(|t| t.has(Role::IdentitySource)) {
                self.all_days.register_table(name.clone(), empty)?;
            }
            "empty"
        };
        let registered = ctx
            .table_provider(TableReference::bare(name.clone()))
            .await?
            .schema();
        Ok((
            TableInfo {
                name,
                kind,
                schema: registered,
            },
            files,
        ))
    }
}

/// Runs a frame's plan. On a cluster, the scheduler plans its scans, so this session first plans
/// the scans of the case's tables itself to record the files they open (the same files: the
/// scheduler plans them from the same filters).
async fn collect(
    ctx: &SessionContext,
    frame: datafusion::dataframe::DataFrame,
    on_cluster: bool,
) -> Result<Vec<RecordBatch>, QueryError> {
    if on_cluster {
        use datafusion::common::tree_node::TreeNodeRecursion;
        use datafusion::logical_expr::LogicalPlan;
        let plan = frame.clone().into_optimized_plan()?;
        let mut scans = Vec::new();
        plan.apply_with_subqueries(|node| {
            if let LogicalPlan::TableScan(scan) = node {
                scans.push(scan.clone());
            }
            Ok(TreeNodeRecursion::Continue)
        })?;
        let state = ctx.state();
        for scan in scans {
            let provider = datafusion::datasource::source_as_provider(&scan.source)?;
            if let Some(table) = provider.downcast_ref::<reads::CaseTable>() {
                table
                    .scan(&state, scan.projection.as_ref(), &scan.filters, scan.fetch)
                    .await?;
            }
        }
    }
    Ok(frame.collect().await?)
}

/// Registers `identity_index`: the case's index files, or, when it has none for some of its
/// sign-ins, a view computing the same rows from every day's sign-ins. Returns the files it lists.
async fn register_identity_index(
    ctx: &SessionContext,
    case: &Case,
    opened: &Arc<reads::OpenedFiles>,
    tables: &mut Vec<TableInfo>,
) -> Result<usize, QueryError> {
    let schema = index_schema();
    let (kind, files) = match index_files(case)? {
        Some(files) if files.is_empty() => {
            let empty = MemTable::try_new(schema.clone(), vec![vec![]])?;
            ctx.register_table("identity_index", Arc::new(empty))?;
            ("empty", 0)
        }
        Some(files) => {
            let urls = files
                .iter()
                .map(|f| ListingTableUrl::parse(case.address_of(f, false)))
                .collect::<Result<Vec<_>, _>>()?;
            let options = ListingOptions::new(Arc::new(ParquetFormat::default()))
                .with_file_extension(".parquet");
            let config = ListingTableConfig::new_with_multi_paths(urls)
                .with_listing_options(options)
                .with_schema(schema.clone());
            let listing: Arc<dyn TableProvider> = Arc::new(ListingTable::try_new(config)?);
            let table = reads::CaseTable::new(listing, None, opened.clone());
            ctx.register_table("identity_index", Arc::new(table))?;
            ("table", files.len())
        }
        None => {
            ctx.sql(&catalog::sign_ins_view(
                "all_days_sign_ins",
                Some(ALL_DAYS_SCHEMA),
            ))
            .await?;
            ctx.sql(IDENTITY_INDEX_FROM_SIGN_INS).await?;
            ("view", 0)
        }
    };
    tables.push(TableInfo {
        name: "identity_index".into(),
        kind,
        schema,
    });
    Ok(files)
}

/// Splits a SQL file into statements at `;` line ends, dropping comment-only pieces.
pub fn split_statements(text: &str) -> Vec<String> {
    let mut statements = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        current.push_str(line);
        current.push('\n');
        if line.trim_end().ends_with(';') {
            let body: String = current
                .lines()
                .filter(|l| !l.trim_start().starts_with("--"))
                .collect::<Vec<_>>()
                .join("\n");
            if !body.trim().trim_end_matches(';').trim().is_empty() {
                statements.push(body.trim().trim_end_matches(';').to_string());
            }
            current.clear();
        }
    }
    statements
}
