//! Records that reach a workspace in Azure diagnostics mode: a resource whose diagnostic setting
//! writes to the shared `AzureDiagnostics` table instead of a resource-specific one (and Front
//! Door, which has no resource-specific table) leaves its records there, with camelCase columns
//! suffixed by type (`method_s`, `responseCode_d`, `isRequestSuccess_b`, `transactionId_g`). A
//! session reads them as rows of the table the catalogue types (docs/ingest.md): the
//! resource-specific table is registered as `<table>_resource_specific` and a view of the table's
//! own name and columns stacks it with the `AzureDiagnostics` rows of that category, renamed, so
//! every question reads the gateway and the access logs the same way whichever mode the tenant
//! used.

use arrow::datatypes::{DataType, Schema};
use datafusion::common::TableReference;
use datafusion::prelude::SessionContext;

use super::QueryError;

/// A table whose records also arrive in `AzureDiagnostics`: its category there, and its columns
/// with the SQL over `AzureDiagnostics` columns that holds each. Columns with the same name and
/// type in both (the time, `CorrelationId`, `OperationName`, the evidence columns) are taken as
/// they are; any other is NULL.
pub struct DiagnosticsForm {
    /// The typed table.
    pub table: &'static str,
    /// The `Category` of its records in `AzureDiagnostics`.
    pub category: &'static str,
    /// Each column and the expression that reads it from an `AzureDiagnostics` row.
    pub columns: &'static [(&'static str, &'static str)],
}

/// A number written as `_d` (a double) read as the text of the whole number, as the
/// resource-specific tables hold status codes.
macro_rules! whole_text {
    ($column:literal) => {
        concat!("CAST(CAST(\"", $column, "\" AS BIGINT) AS VARCHAR)")
    };
}

/// The forms read, with the column names Microsoft's Azure diagnostics schemas give them.
pub const FORMS: &[DiagnosticsForm] = &[
    DiagnosticsForm {
        table: "ApiManagementGatewayLogs",
        category: "GatewayLogs",
        columns: &[
            ("Method", "\"method_s\""),
            ("Url", "\"url_s\""),
            ("CallerIpAddress", "\"CallerIPAddress\""),
            ("IsRequestSuccess", "\"isRequestSuccess_b\""),
            ("ResponseCode", "\"responseCode_d\""),
            ("ResponseSize", "\"responseSize_d\""),
            ("RequestSize", "\"requestSize_d\""),
            ("BackendResponseCode", "\"backendResponseCode_d\""),
            ("BackendUrl", "\"backendUrl_s\""),
            ("TotalTime", "\"DurationMs\""),
            ("BackendTime", "\"backendTime_d\""),
            ("ApiId", "\"apiId_s\""),
            ("OperationId", "\"operationId_s\""),
            ("ApimSubscriptionId", "\"apimSubscriptionId_s\""),
            ("ClientProtocol", "\"clientProtocol_s\""),
            ("ClientTlsVersion", "\"clientTlsVersion_s\""),
            ("LastErrorReason", "\"lastError_reason_s\""),
            ("LastErrorMessage", "\"lastError_message_s\""),
            // Not in Microsoft's list of the mode's columns: named by its rule (docs/ingest.md).
            ("RequestBody", "\"requestBody_s\""),
            ("ResponseBody", "\"responseBody_s\""),
            ("BackendRequestHeaders", "\"backendRequestHeaders_s\""),
        ],
    },
    // API Management's MCP log: Microsoft lists no Azure diagnostics columns for it; each is the
    // resource-specific column's name in camelCase with the mode's type suffix, the mode's
    // documented rule (docs/ingest.md).
    DiagnosticsForm {
        table: "ApiManagementGatewayMCPLog",
        category: "GatewayMCPLogs",
        columns: &[
            ("SessionId", "\"sessionId_s\""),
            ("Method", "\"method_s\""),
            ("ToolName", "\"toolName_s\""),
            ("ToolCount", "\"toolCount_d\""),
            ("ClientName", "\"clientName_s\""),
            ("ClientVersion", "\"clientVersion_s\""),
            ("AuthenticationMethod", "\"authenticationMethod_s\""),
            ("ApiType", "\"apiType_s\""),
            ("McpServerEndpoint", "\"mcpServerEndpoint_s\""),
            ("ServerName", "\"serverName_s\""),
            ("ServerVersion", "\"serverVersion_s\""),
            ("ProtocolVersion", "\"protocolVersion_s\""),
            ("TransportType", "\"transportType_s\""),
            ("Error", "\"error_s\""),
            ("ErrorType", "\"errorType_s\""),
        ],
    },
    DiagnosticsForm {
        table: "AGWAccessLogs",
        category: "ApplicationGatewayAccessLog",
        columns: &[
            ("ClientIp", "\"clientIP_s\""),
            ("HttpMethod", "\"httpMethod_s\""),
            ("RequestUri", "\"requestUri_s\""),
            ("Host", "\"host_s\""),
            ("OriginalHost", "\"originalHost_s\""),
            ("HttpStatus", whole_text!("httpStatus_d")),
            ("TransactionId", "\"transactionId_g\""),
            ("InstanceId", "\"instanceId_s\""),
        ],
    },
    // Front Door Standard and Premium write `clientIp_s` and `httpStatusCode_s`; classic Front
    // Door `clientIP_s` and a number.
    DiagnosticsForm {
        table: "FrontDoorAccessLog",
        category: "FrontDoorAccessLog",
        columns: &[
            ("ClientIp", "coalesce(\"clientIp_s\", \"clientIP_s\")"),
            ("HttpMethod", "\"httpMethod_s\""),
            ("RequestUri", "\"requestUri_s\""),
            ("HostName", "\"hostName_s\""),
            (
                "HttpStatusCode",
                concat!(
                    "coalesce(\"httpStatusCode_s\", ",
                    whole_text!("httpStatusCode_d"),
                    ")"
                ),
            ),
            ("TrackingReference", "\"trackingReference_s\""),
        ],
    },
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

/// The select list that reads an `AzureDiagnostics` row as a row of `typed`'s columns.
pub fn select_list(
    form: &DiagnosticsForm,
    typed: &Schema,
    diagnostics: &Schema,
) -> Result<Vec<String>, String> {
    typed
        .fields()
        .iter()
        .map(|field| {
            let name = field.name();
            let quoted = format!("\"{}\"", name.replace('"', "\"\""));
            let cast = || {
                sql_type(field.data_type())
                    .ok_or_else(|| format!("{name}: no SQL type for {}", field.data_type()))
            };
            if let Some((_, expression)) = form.columns.iter().find(|(column, _)| column == name) {
                return Ok(format!("CAST({expression} AS {}) AS {quoted}", cast()?));
            }
            match diagnostics.field_with_name(name) {
                Ok(same) if same.data_type() == field.data_type() => Ok(quoted),
                _ => Ok(format!("CAST(NULL AS {}) AS {quoted}", cast()?)),
            }
        })
        .collect()
}

/// Makes each table of [`FORMS`] read its `AzureDiagnostics` records too, when the session has
/// both tables.
pub async fn merge(ctx: &SessionContext) -> Result<(), QueryError> {
    // Names as written: a plain `&str` would be read as SQL and lower-cased.
    let Ok(diagnostics) = ctx
        .table_provider(TableReference::bare("AzureDiagnostics"))
        .await
    else {
        return Ok(());
    };
    for form in FORMS {
        let Ok(typed) = ctx.table_provider(TableReference::bare(form.table)).await else {
            continue;
        };
        let select = select_list(form, &typed.schema(), &diagnostics.schema()).map_err(|e| {
            QueryError::DataFusion(datafusion::error::DataFusionError::Plan(format!(
                "AzureDiagnostics as {}: {e}",
                form.table
            )))
        })?;
        // Both sides as explicit lists of the same columns: with `SELECT *` on one side,
        // DataFusion's projection pruning misaligned the two inputs of the union.
        let columns: Vec<String> = typed
            .schema()
            .fields()
            .iter()
            .map(|f| format!("\"{}\"", f.name().replace('"', "\"\"")))
            .collect();
        let own = format!("{}_resource_specific", form.table);
        ctx.deregister_table(TableReference::bare(form.table))?;
        ctx.register_table(TableReference::bare(own.as_str()), typed)?;
        ctx.sql(&format!(
            "CREATE VIEW \"{table}\" AS SELECT {columns} FROM \"{own}\" \
             UNION ALL SELECT {select} FROM \"AzureDiagnostics\" WHERE \"Category\" = '{category}'",
            table = form.table,
            columns = columns.join(", "),
            select = select.join(", "),
            category = form.category,
        ))
        .await?;
    }
    Ok(())
}
