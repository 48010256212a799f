//! API Management's gateway log as it reaches a workspace in Azure diagnostics mode: the records
//! of category `GatewayLogs` land in `AzureDiagnostics` with camelCase columns suffixed by type
//! (`method_s`, `responseCode_d`, `isRequestSuccess_b`) instead of `ApiManagementGatewayLogs`.
//! A session reads both as one `ApiManagementGatewayLogs` (docs/ingest.md): the resource-specific
//! table is registered as `ApiManagementGatewayLogs_resource_specific` and a view of the same
//! name and columns stacks it with the `AzureDiagnostics` rows of that category, renamed, so every
//! question joins gateway rows the same way whichever mode the tenant used.

use arrow::datatypes::{DataType, Field, Schema};
use datafusion::prelude::SessionContext;

use super::QueryError;

/// The table the view replaces, and the name its own rows are registered under.
pub const GATEWAY_TABLE: &str = "ApiManagementGatewayLogs";
const RESOURCE_SPECIFIC: &str = "ApiManagementGatewayLogs_resource_specific";

/// `ApiManagementGatewayLogs` columns and the `AzureDiagnostics` columns of a `GatewayLogs`
/// record that hold them (the resource-specific table's columns as Microsoft's Azure diagnostics
/// schema for API Management names them). Columns with the same name and type in both (the time,
/// `CorrelationId`, `OperationName`, the evidence columns) are taken as they are.
pub const GATEWAY_COLUMNS: &[(&str, &str)] = &[
    ("Method", "method_s"),
    ("Url", "url_s"),
    ("CallerIpAddress", "CallerIPAddress"),
    ("IsRequestSuccess", "isRequestSuccess_b"),
    ("ResponseCode", "responseCode_d"),
    ("ResponseSize", "responseSize_d"),
    ("RequestSize", "requestSize_d"),
    ("BackendResponseCode", "backendResponseCode_d"),
    ("BackendUrl", "backendUrl_s"),
    ("TotalTime", "DurationMs"),
    ("BackendTime", "backendTime_d"),
    ("ApiId", "apiId_s"),
    ("OperationId", "operationId_s"),
    ("ApimSubscriptionId", "apimSubscriptionId_s"),
    ("ClientProtocol", "clientProtocol_s"),
    ("ClientTlsVersion", "clientTlsVersion_s"),
    ("LastErrorReason", "lastError_reason_s"),
    ("LastErrorMessage", "lastError_message_s"),
];

/// The SQL type a column of `data_type` is cast to.
fn sql_type(data_type: &DataType) -> Option<&'static str> {
    Some(match data_type {
        DataType::Utf8 => "VARCHAR",
        DataType::Int64 => "BIGINT",
        DataType::Float64 => "DOUBLE",
        DataType::Boolean => "BOOLEAN",
        _ => return None,
    })
}

/// The select list that reads an `AzureDiagnostics` row as a row of `gateway`'s columns: each
/// column from its Azure diagnostics name, else from the same name and type, else NULL.
pub fn gateway_select(gateway: &Schema, diagnostics: &Schema) -> Result<Vec<String>, String> {
    gateway
        .fields()
        .iter()
        .map(|field: &std::sync::Arc<Field>| {
            let name = field.name();
            let quoted = format!("\"{}\"", name.replace('"', "\"\""));
            let renamed = GATEWAY_COLUMNS
                .iter()
                .find(|(column, _)| column == name)
                .map(|(_, source)| *source)
                .filter(|source| diagnostics.field_with_name(source).is_ok());
            if let Some(source) = renamed {
                let cast = sql_type(field.data_type())
                    .ok_or_else(|| format!("{name}: no SQL type for {}", field.data_type()))?;
                return Ok(format!("CAST(\"{source}\" AS {cast}) AS {quoted}"));
            }
            match diagnostics.field_with_name(name) {
                Ok(same) if same.data_type() == field.data_type() => Ok(quoted),
                _ => {
                    let cast = sql_type(field.data_type())
                        .ok_or_else(|| format!("{name}: no SQL type for {}", field.data_type()))?;
                    Ok(format!("CAST(NULL AS {cast}) AS {quoted}"))
                }
            }
        })
        .collect()
}

/// Makes `ApiManagementGatewayLogs` read the `AzureDiagnostics` gateway records too, when the
/// session has both tables.
pub async fn merge_gateway_logs(ctx: &SessionContext) -> Result<(), QueryError> {
    // Names as written: a plain `&str` would be read as SQL and lower-cased.
    let bare = datafusion::common::TableReference::bare;
    let (Ok(gateway), Ok(diagnostics)) = (
        ctx.table_provider(bare(GATEWAY_TABLE)).await,
        ctx.table_provider(bare("AzureDiagnostics")).await,
    ) else {
        return Ok(());
    };
    let select = gateway_select(&gateway.schema(), &diagnostics.schema()).map_err(|e| {
        QueryError::DataFusion(datafusion::error::DataFusionError::Plan(format!(
            "AzureDiagnostics as {GATEWAY_TABLE}: {e}"
        )))
    })?;
    ctx.deregister_table(bare(GATEWAY_TABLE))?;
    ctx.register_table(bare(RESOURCE_SPECIFIC), gateway)?;
    ctx.sql(&format!(
        "CREATE VIEW \"{GATEWAY_TABLE}\" AS SELECT * FROM \"{RESOURCE_SPECIFIC}\" \
         UNION ALL SELECT {} FROM \"AzureDiagnostics\" WHERE \"Category\" = 'GatewayLogs'",
        select.join(", ")
    ))
    .await?;
    Ok(())
}
