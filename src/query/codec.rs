//! How a case session's plans travel to a Ballista cluster (feature `cluster`).
//!
//! DataFusion's own protobuf carries listing tables, views and built-in functions. What it cannot
//! carry without help is ours, and these codecs add it, wrapping Ballista's (which carry its
//! shuffle nodes and file formats):
//! - [`CaseTable`]: its day window, then the listing table it wraps as a protobuf scan;
//! - `MemTable` (the `iocs`, earlier pack results, empty declared tables): its rows as an Arrow
//!   IPC stream;
//! - `customer_ids` / `customer_mentions`: the case's customer keys they look under;
//! - the JSON functions and our keyless functions, by name, so a scheduler or executor needs no
//!   registry of its own.
//!
//! Every value we write starts with a tag byte, so a blob from Ballista's codec is never misread.

use std::io::Cursor;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow::ipc::reader::StreamReader;
use arrow::ipc::writer::StreamWriter;
use arrow::record_batch::RecordBatch;
use ballista_core::serde::{BallistaLogicalExtensionCodec, BallistaPhysicalExtensionCodec};
use chrono::NaiveDate;
use datafusion::catalog::TableProvider;
use datafusion::common::TableReference;
use datafusion::datasource::file_format::FileFormatFactory;
use datafusion::datasource::{MemTable, provider_as_source, source_as_provider};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{Extension, LogicalPlan, LogicalPlanBuilder, ScalarUDF, WindowUDF};
use datafusion::physical_plan::ExecutionPlan;
use datafusion_proto::bytes::{
    logical_plan_from_bytes_with_extension_codec, logical_plan_to_bytes_with_extension_codec,
};
use datafusion_proto::logical_plan::LogicalExtensionCodec;
use datafusion_proto::physical_plan::{PhysicalExtensionCodec, PhysicalProtoConverterExtension};

use super::reads::{CaseTable, DayWindow, OpenedFiles};
use super::udf::{self, CustomerFunction, CustomerReading};

/// The largest gRPC message between client, scheduler and executors. A plan carries the rows of
/// the pack results it reads (a whole window's calls, on a large case), far past gRPC's 16 MiB.
pub const MAX_MESSAGE_BYTES: u32 = 1 << 30;

/// Tag of a `MemTable`: an Arrow IPC stream follows.
const ROWS: u8 = b'R';
/// Tag of a [`CaseTable`]: `0`, or `1` and two days as `YYYY-MM-DD`; then the wrapped scan.
const CASE_TABLE: u8 = b'C';
/// Tag of `customer_ids`: the keys as a JSON array follow.
const CUSTOMER_IDS: u8 = b'I';
/// Tag of `customer_mentions`: the keys as a JSON array follow.
const CUSTOMER_MENTIONS: u8 = b'M';

fn codec_error(what: &str, error: impl std::fmt::Display) -> DataFusionError {
    DataFusionError::Internal(format!("cluster codec: {what}: {error}"))
}

/// The logical codec of every process of a case's cluster: client, scheduler and executors.
#[derive(Debug, Default)]
pub struct CaseLogicalCodec {
    ballista: BallistaLogicalExtensionCodec,
}

impl LogicalExtensionCodec for CaseLogicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[LogicalPlan],
        ctx: &TaskContext,
    ) -> Result<Extension> {
        self.ballista.try_decode(buf, inputs, ctx)
    }

    fn try_encode(&self, node: &Extension, buf: &mut Vec<u8>) -> Result<()> {
        self.ballista.try_encode(node, buf)
    }

    fn try_decode_table_provider(
        &self,
        buf: &[u8],
        table_ref: &TableReference,
        schema: SchemaRef,
        ctx: &TaskContext,
    ) -> Result<Arc<dyn TableProvider>> {
        match buf.split_first() {
            Some((&ROWS, rows)) => decode_rows(rows, schema),
            Some((&CASE_TABLE, rest)) => self.decode_case_table(rest, ctx),
            _ => self
                .ballista
                .try_decode_table_provider(buf, table_ref, schema, ctx),
        }
    }

    fn try_encode_table_provider(
        &self,
        table_ref: &TableReference,
        node: Arc<dyn TableProvider>,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        if let Some(table) = node.downcast_ref::<MemTable>() {
            buf.push(ROWS);
            encode_rows(table, buf)
        } else if let Some(table) = node.downcast_ref::<CaseTable>() {
            buf.push(CASE_TABLE);
            self.encode_case_table(table_ref, table, buf)
        } else {
            self.ballista
                .try_encode_table_provider(table_ref, node, buf)
        }
    }

    fn try_decode_file_format(
        &self,
        buf: &[u8],
        ctx: &TaskContext,
    ) -> Result<Arc<dyn FileFormatFactory>> {
        self.ballista.try_decode_file_format(buf, ctx)
    }

    fn try_encode_file_format(
        &self,
        buf: &mut Vec<u8>,
        node: Arc<dyn FileFormatFactory>,
    ) -> Result<()> {
        self.ballista.try_encode_file_format(buf, node)
    }

    fn try_decode_udf(&self, name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
        decode_function(name, buf)
    }

    fn try_decode_udwf(&self, name: &str, _buf: &[u8]) -> Result<Arc<WindowUDF>> {
        decode_window_function(name)
    }

    fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
        encode_function(node, buf)
    }
}

impl CaseLogicalCodec {
    fn encode_case_table(
        &self,
        table_ref: &TableReference,
        table: &CaseTable,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        match table.window() {
            None => buf.push(0),
            Some(window) => {
                buf.push(1);
                buf.extend_from_slice(window.first.format("%Y-%m-%d").to_string().as_bytes());
                buf.extend_from_slice(window.last.format("%Y-%m-%d").to_string().as_bytes());
            }
        }
        // The wrapped listing table travels as DataFusion's own scan of it.
        let scan =
            LogicalPlanBuilder::scan(table_ref.clone(), provider_as_source(table.inner()), None)?
                .build()?;
        buf.extend_from_slice(&logical_plan_to_bytes_with_extension_codec(&scan, self)?);
        Ok(())
    }

    fn decode_case_table(&self, buf: &[u8], ctx: &TaskContext) -> Result<Arc<dyn TableProvider>> {
        const DAY: usize = "YYYY-MM-DD".len();
        let day = |bytes: &[u8]| {
            std::str::from_utf8(bytes)
                .ok()
                .and_then(|text| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok())
                .ok_or_else(|| codec_error("case table", "a malformed day"))
        };
        let (window, scan) = match buf.split_first() {
            Some((0, scan)) => (None, scan),
            Some((1, rest)) if rest.len() >= 2 * DAY => (
                Some(DayWindow {
                    first: day(&rest[..DAY])?,
                    last: day(&rest[DAY..2 * DAY])?,
                }),
                &rest[2 * DAY..],
            ),
            _ => return Err(codec_error("case table", "a malformed window")),
        };
        let LogicalPlan::TableScan(scan) =
            logical_plan_from_bytes_with_extension_codec(scan, ctx, self)?
        else {
            return Err(codec_error("case table", "not a table scan"));
        };
        let inner = source_as_provider(&scan.source)?;
        // Files a remote scan opens are counted by the client (`QueryEngine`), not here.
        Ok(Arc::new(CaseTable::new(
            inner,
            window,
            Arc::new(OpenedFiles::default()),
        )))
    }
}

/// The physical codec of every process of a case's cluster.
#[derive(Debug, Default)]
pub struct CasePhysicalCodec {
    ballista: BallistaPhysicalExtensionCodec,
}

impl PhysicalExtensionCodec for CasePhysicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.ballista.try_decode(buf, inputs, ctx, proto_converter)
    }

    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<()> {
        self.ballista.try_encode(node, buf, proto_converter)
    }

    fn try_decode_udf(&self, name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
        decode_function(name, buf)
    }

    fn try_decode_udwf(&self, name: &str, _buf: &[u8]) -> Result<Arc<WindowUDF>> {
        decode_window_function(name)
    }

    fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
        encode_function(node, buf)
    }
}

/// A table's rows, in one partition, as an Arrow IPC stream.
fn encode_rows(table: &MemTable, buf: &mut Vec<u8>) -> Result<()> {
    let schema = table.schema();
    let mut writer = StreamWriter::try_new(Vec::new(), &schema)?;
    for partition in &table.batches {
        let batches = partition
            .try_read()
            .map_err(|e| codec_error("in-memory table", e))?;
        for batch in batches.iter() {
            writer.write(batch)?;
        }
    }
    buf.extend_from_slice(&writer.into_inner()?);
    Ok(())
}

fn decode_rows(buf: &[u8], schema: SchemaRef) -> Result<Arc<dyn TableProvider>> {
    let reader = StreamReader::try_new(Cursor::new(buf), None)?;
    let batches = reader.collect::<std::result::Result<Vec<RecordBatch>, _>>()?;
    Ok(Arc::new(MemTable::try_new(schema, vec![batches])?))
}

/// Our functions with state write it; every other function travels by name alone.
fn encode_function(node: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
    if let Some(function) = node.inner().downcast_ref::<CustomerFunction>() {
        buf.push(match function.reading() {
            CustomerReading::Ids => CUSTOMER_IDS,
            CustomerReading::Mentions => CUSTOMER_MENTIONS,
        });
        serde_json::to_writer(&mut *buf, function.keys())
            .map_err(|e| codec_error("customer keys", e))?;
    }
    Ok(())
}

fn decode_function(name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
    let keys = |keys: &[u8]| {
        serde_json::from_slice::<Vec<String>>(keys).map_err(|e| codec_error("customer keys", e))
    };
    match buf.split_first() {
        Some((&CUSTOMER_IDS, rest)) => Ok(Arc::new(udf::customer_ids_udf(keys(rest)?))),
        Some((&CUSTOMER_MENTIONS, rest)) => Ok(Arc::new(udf::customer_mentions_udf(keys(rest)?))),
        _ => udf::keyless_functions()
            .into_iter()
            .find(|function| function.name() == name)
            .or_else(|| built_in_functions().get(name).cloned())
            .ok_or_else(|| {
                DataFusionError::Plan(format!("this cluster does not know the function {name}"))
            }),
    }
}

/// Our window functions, by name (they have no state).
fn decode_window_function(name: &str) -> Result<Arc<WindowUDF>> {
    super::sessions::session_functions()
        .into_iter()
        .find(|function| function.name() == name)
        .ok_or_else(|| {
            DataFusionError::Plan(format!(
                "this cluster does not know the window function {name}"
            ))
        })
}

/// DataFusion's own scalar functions, as a session of this build has them (a Ballista executor's
/// registry lacks some, the nested-list functions among them).
fn built_in_functions() -> &'static std::collections::HashMap<String, Arc<ScalarUDF>> {
    static FUNCTIONS: std::sync::OnceLock<std::collections::HashMap<String, Arc<ScalarUDF>>> =
        std::sync::OnceLock::new();
    FUNCTIONS.get_or_init(|| {
        datafusion::execution::SessionStateBuilder::new()
            .with_default_features()
            .build()
            .scalar_functions()
            .clone()
    })
}
