//! Log Analytics data export (`am-<table>` containers): one JSON object per line, keys = column names.
//!
//! Each known table declares its typed columns; every other key of a row goes into `_extra`.
//! Application Insights tables also get MCP attributes lifted out of `Properties` (accepting
//! the OpenTelemetry, draft and APIM aliases), and APIM gateway rows get the JSON-RPC call
//! parsed out of a logged request body. Tables without a declaration are still ingested with
//! their time and `_extra`.

use serde_json::{Map, Value};

use super::columns::{Cell, ColumnSpec, Kind, convert, derived, la};
use super::scan::{Member, ValueKind};
use crate::time;

/// A table as it lands in the case.
#[derive(Debug)]
pub struct TableSpec {
    /// Table name in the case (the Log Analytics spelling).
    pub name: &'static str,
    /// Typed columns read from the export, by name.
    pub columns: &'static [ColumnSpec],
    /// Columns computed by mcpforensics.
    pub derived: &'static [ColumnSpec],
    /// Computes the derived columns from the members of the row named in `derive_reads`.
    pub derive: fn(&Map<String, Value>) -> Vec<Cell<'static>>,
    /// The only members `derive` is given (both decoding paths hand it just these).
    pub derive_reads: &'static [&'static str],
}

/// What the MCP columns are lifted from.
const MCP_READS: &[&str] = &[
    "Properties",
    "Name",
    "OperationName",
    "ClientIP",
    "UserAuthenticatedId",
];
const APIM_GATEWAY_READS: &[&str] = &["RequestBody", "ResponseBody"];
/// A gateway record in Azure diagnostics mode: its category and its bodies.
const AZURE_DIAGNOSTICS_READS: &[&str] = &["Category", "requestBody_s", "responseBody_s"];
const AUDIT_READS: &[&str] = &["InitiatedBy"];

use Kind::{Bool, Dyn, Int, Real, Str, Time};

const SIGNIN_COLUMNS: &[ColumnSpec] = &[
    la("TimeGenerated", Time),
    la("CreatedDateTime", Time),
    la("Id", Str),
    la("CorrelationId", Str),
    la("OriginalRequestId", Str),
    la("UniqueTokenIdentifier", Str),
    la("SessionId", Str),
    la("UserPrincipalName", Str),
    la("UserId", Str),
    la("UserDisplayName", Str),
    la("UserType", Str),
    la("AlternateSignInName", Str),
    la("AppDisplayName", Str),
    la("AppId", Str),
    la("ResourceDisplayName", Str),
    la("ResourceIdentity", Str),
    la("ServicePrincipalId", Str),
    la("IPAddress", Str),
    la("AutonomousSystemNumber", Int),
    la("Location", Str),
    la("LocationDetails", Dyn),
    la("UserAgent", Str),
    la("ClientAppUsed", Str),
    la("DeviceDetail", Dyn),
    la("IsInteractive", Bool),
    la("ResultType", Str),
    la("ResultDescription", Str),
    la("ResultSignature", Str),
    la("Status", Dyn),
    la("ConditionalAccessStatus", Str),
    la("AuthenticationRequirement", Str),
    la("RiskLevelDuringSignIn", Str),
    la("RiskLevelAggregated", Str),
    la("RiskState", Str),
    la("RiskDetail", Str),
    la("TokenIssuerType", Str),
    // Entra Agent ID: Microsoft Graph's signIn.agent (agentType, agentSubjectType,
    // agentSubjectParentId, parentAppId), `properties.agent` in diagnostic settings.
    la("Agent", Dyn),
    la("HomeTenantId", Str),
    la("ResourceTenantId", Str),
    la("TenantId", Str),
    la("Category", Str),
    la("Type", Str),
];

/// Service-principal and managed-identity sign-ins (the agent identities of Entra Agent ID too).
const SERVICE_SIGNIN_COLUMNS: &[ColumnSpec] = &[
    la("TimeGenerated", Time),
    la("CreatedDateTime", Time),
    la("Id", Str),
    la("CorrelationId", Str),
    la("OriginalRequestId", Str),
    la("UniqueTokenIdentifier", Str),
    la("ServicePrincipalId", Str),
    la("ServicePrincipalName", Str),
    la("ServicePrincipalCredentialKeyId", Str),
    la("ServicePrincipalCredentialThumbprint", Str),
    la("ClientCredentialType", Str),
    la("AppId", Str),
    la("AppOwnerTenantId", Str),
    la("ResourceDisplayName", Str),
    la("ResourceIdentity", Str),
    la("ResourceServicePrincipalId", Str),
    la("ManagedIdentityType", Str),
    la("FederatedCredentialId", Str),
    la("IPAddress", Str),
    la("Location", Str),
    la("LocationDetails", Dyn),
    la("ResultType", Str),
    la("ResultDescription", Str),
    la("ResultSignature", Str),
    la("Status", Dyn),
    la("ConditionalAccessStatus", Str),
    la("Agent", Dyn),
    la("HomeTenantId", Str),
    la("ResourceTenantId", Str),
    la("TenantId", Str),
    la("Category", Str),
    la("Type", Str),
];

const AUDIT_COLUMNS: &[ColumnSpec] = &[
    la("TimeGenerated", Time),
    la("ActivityDateTime", Time),
    la("Id", Str),
    la("CorrelationId", Str),
    la("OperationName", Str),
    la("ActivityDisplayName", Str),
    la("Category", Str),
    la("AADOperationType", Str),
    la("Result", Str),
    la("ResultReason", Str),
    la("ResultDescription", Str),
    la("LoggedByService", Str),
    la("InitiatedBy", Dyn),
    la("TargetResources", Dyn),
    la("AdditionalDetails", Dyn),
    la("Identity", Str),
    la("TenantId", Str),
    la("Type", Str),
];

const AUDIT_DERIVED: &[ColumnSpec] = &[
    derived(
        "initiated_by_upn",
        Str,
        "InitiatedBy.user.userPrincipalName",
    ),
    derived(
        "initiated_by_user_id",
        Str,
        "InitiatedBy.user.id (Entra object id)",
    ),
    derived("initiated_by_ip", Str, "InitiatedBy.user.ipAddress"),
    derived(
        "initiated_by_app",
        Str,
        "InitiatedBy.app.displayName, else appId",
    ),
];

macro_rules! app_columns {
    ($($extra:expr),* $(,)?) => {
        &[
            la("TimeGenerated", Time), la("Id", Str), la("OperationId", Str), la("ParentId", Str),
            la("OperationName", Str), $($extra,)*
            la("SessionId", Str), la("UserId", Str), la("UserAuthenticatedId", Str), la("UserAccountId", Str),
            la("ClientIP", Str), la("ClientCity", Str), la("ClientStateOrProvince", Str), la("ClientCountryOrRegion", Str),
            la("ClientType", Str), la("ClientOS", Str), la("AppRoleName", Str), la("AppRoleInstance", Str), la("AppVersion", Str),
            la("Properties", Dyn), la("Measurements", Dyn), la("ItemCount", Int), la("SDKVersion", Str),
            la("ResourceGUID", Str), la("IKey", Str), la("_ResourceId", Str), la("TenantId", Str), la("Type", Str),
        ]
    };
}

const APP_REQUEST_COLUMNS: &[ColumnSpec] = app_columns!(
    la("Name", Str),
    la("Url", Str),
    la("Source", Str),
    la("ResultCode", Str),
    la("Success", Bool),
    la("DurationMs", Real),
);
const APP_DEPENDENCY_COLUMNS: &[ColumnSpec] = app_columns!(
    la("Name", Str),
    la("Target", Str),
    la("Data", Str),
    la("DependencyType", Str),
    la("ResultCode", Str),
    la("Success", Bool),
    la("DurationMs", Real),
);
const APP_TRACE_COLUMNS: &[ColumnSpec] = app_columns!(la("Message", Str), la("SeverityLevel", Int));
const APP_EVENT_COLUMNS: &[ColumnSpec] = app_columns!(la("Name", Str));
const APP_EXCEPTION_COLUMNS: &[ColumnSpec] = app_columns!(
    la("ExceptionType", Str),
    la("Message", Str),
    la("OuterMessage", Str),
    la("InnermostMessage", Str),
    la("SeverityLevel", Int),
    la("ProblemId", Str),
    la("HandledAt", Str),
    la("Method", Str),
    la("Details", Dyn),
);

/// MCP attributes lifted out of `Properties` (App Insights tables).
pub const MCP_DERIVED: &[ColumnSpec] = &[
    derived(
        "mcp_method",
        Str,
        "MCP method: Properties mcp.method.name, else gen_ai.operation.name when it is a method (APIM), else rpc.method when it is an MCP method (RPC conventions), else from the span name `tools/call <tool>`",
    ),
    derived(
        "tool_name",
        Str,
        "gen_ai.tool.name, mcp.tool.name (draft), ToolName (Azure MCP Server), else from the span name",
    ),
    derived(
        "session_id",
        Str,
        "mcp.session.id, gen_ai.conversation.id (APIM), session.id; absent on servers of the 2026-07 protocol revision",
    ),
    derived(
        "jsonrpc_request_id",
        Str,
        "jsonrpc.request.id, mcp.request.id (draft)",
    ),
    derived("resource_uri", Str, "mcp.resource.uri"),
    derived(
        "client_address",
        Str,
        "the real caller address: Properties client.address, else ClientIP unless masked to 0.0.0.0",
    ),
    derived(
        "tool_arguments",
        Str,
        "gen_ai.tool.call.arguments as JSON text; else the mcp.request.argument.<key> attributes gathered into an object; else ToolParameters",
    ),
    derived("tool_result", Str, "gen_ai.tool.call.result as JSON text"),
    derived(
        "enduser_id",
        Str,
        "the authenticated caller as the server saw it: Properties enduser.id, else UserAuthenticatedId (a UPN or an Entra object id)",
    ),
    derived(
        "response_bytes",
        Int,
        "size of the response sent to the caller: Properties response.bytes, else http.response.body.size",
    ),
    derived(
        "peer_address",
        Str,
        "the remote address of an outgoing call: Properties network.peer.address, else server.address",
    ),
];

const APIM_GATEWAY_COLUMNS: &[ColumnSpec] = &[
    la("TimeGenerated", Time),
    la("CorrelationId", Str),
    la("OperationName", Str),
    la("Region", Str),
    la("IsRequestSuccess", Bool),
    la("Method", Str),
    la("Url", Str),
    la("CallerIpAddress", Str),
    la("ResponseCode", Int),
    la("ResponseSize", Int),
    la("RequestSize", Int),
    la("BackendResponseCode", Int),
    la("BackendUrl", Str),
    la("TotalTime", Int),
    la("BackendTime", Int),
    la("ApiId", Str),
    la("OperationId", Str),
    la("ProductId", Str),
    la("UserId", Str),
    la("ApimSubscriptionId", Str),
    la("ClientProtocol", Str),
    la("ClientTlsVersion", Str),
    la("LastErrorReason", Str),
    la("LastErrorMessage", Str),
    la("RequestHeaders", Dyn),
    la("ResponseHeaders", Dyn),
    la("BackendRequestHeaders", Dyn),
    la("BackendResponseHeaders", Dyn),
    la("RequestBody", Str),
    la("ResponseBody", Str),
    la("TenantId", Str),
    la("_ResourceId", Str),
    la("Type", Str),
];

/// `AzureDiagnostics`: the common columns, and those of API Management's `GatewayLogs` and the
/// access logs of Application Gateway and Front Door as the Azure diagnostics schemas name them
/// (camelCase, suffixed `_s` text, `_d` number, `_b` boolean, `_g` GUID); every other member
/// stays in `_extra` as written.
const AZURE_DIAGNOSTICS_COLUMNS: &[ColumnSpec] = &[
    la("TimeGenerated", Time),
    la("Category", Str),
    la("ResourceProvider", Str),
    la("ResourceType", Str),
    la("Resource", Str),
    la("ResourceGroup", Str),
    la("SubscriptionId", Str),
    la("ResourceId", Str),
    la("OperationName", Str),
    la("CorrelationId", Str),
    la("CallerIPAddress", Str),
    la("DurationMs", Int),
    la("ResultType", Str),
    la("ResultSignature", Str),
    la("ResultDescription", Str),
    la("Level", Str),
    la("method_s", Str),
    la("url_s", Str),
    la("responseCode_d", Real),
    la("responseSize_d", Real),
    la("requestSize_d", Real),
    la("apiId_s", Str),
    la("operationId_s", Str),
    la("apimSubscriptionId_s", Str),
    la("backendId_s", Str),
    la("backendMethod_s", Str),
    la("backendUrl_s", Str),
    la("backendResponseCode_d", Real),
    la("backendTime_d", Real),
    la("clientTime_d", Real),
    la("isRequestSuccess_b", Bool),
    la("clientProtocol_s", Str),
    la("clientTlsVersion_s", Str),
    la("lastError_reason_s", Str),
    la("lastError_message_s", Str),
    la("lastError_source_s", Str),
    la("lastError_section_s", Str),
    la("errors_s", Str),
    // Members of GatewayLogs and GatewayMCPLogs whose Azure diagnostics names Microsoft does not
    // list: named by the mode's documented rule (the member's name, a type suffix), the bodies
    // and headers as the JSON text the mode writes for objects.
    la("requestBody_s", Str),
    la("responseBody_s", Str),
    la("backendRequestHeaders_s", Dyn),
    la("sessionId_s", Str),
    la("toolName_s", Str),
    la("toolCount_d", Real),
    la("clientName_s", Str),
    la("clientVersion_s", Str),
    la("authenticationMethod_s", Str),
    la("apiType_s", Str),
    la("mcpServerEndpoint_s", Str),
    la("serverName_s", Str),
    la("serverVersion_s", Str),
    la("protocolVersion_s", Str),
    la("transportType_s", Str),
    la("error_s", Str),
    la("errorType_s", Str),
    // Application Gateway's access log (ApplicationGatewayAccessLog) and Front Door's
    // (FrontDoorAccessLog: clientIp_s and httpStatusCode_s on Standard and Premium, clientIP_s on
    // classic).
    la("clientIP_s", Str),
    la("clientIp_s", Str),
    la("httpMethod_s", Str),
    la("requestUri_s", Str),
    la("host_s", Str),
    la("originalHost_s", Str),
    la("hostName_s", Str),
    la("httpStatus_d", Real),
    la("httpStatusCode_s", Str),
    la("httpStatusCode_d", Real),
    la("transactionId_g", Str),
    la("instanceId_s", Str),
    la("trackingReference_s", Str),
    la("TenantId", Str),
    la("_ResourceId", Str),
    la("Type", Str),
];

const APIM_GATEWAY_DERIVED: &[ColumnSpec] = &[
    derived(
        "mcp_method",
        Str,
        "JSON-RPC method of a logged MCP request body",
    ),
    derived(
        "tool_name",
        Str,
        "params.name of a logged tools/call request body",
    ),
    derived(
        "jsonrpc_request_id",
        Str,
        "JSON-RPC id of a logged request body",
    ),
    derived(
        "tool_arguments",
        Str,
        "params.arguments of a logged tools/call request body, as JSON text",
    ),
    derived(
        "tool_result",
        Str,
        "result of a logged JSON-RPC response body, as JSON text",
    ),
];

const APIM_MCP_COLUMNS: &[ColumnSpec] = &[
    la("TimeGenerated", Time),
    la("CorrelationId", Str),
    la("SessionId", Str),
    la("Method", Str),
    la("ToolName", Str),
    la("ToolCount", Int),
    la("ClientName", Str),
    la("ClientVersion", Str),
    la("AuthenticationMethod", Str),
    la("ApiType", Str),
    la("McpServerEndpoint", Str),
    la("ServerName", Str),
    la("ServerVersion", Str),
    la("ProtocolVersion", Str),
    la("TransportType", Str),
    la("Error", Str),
    la("ErrorType", Str),
    la("OperationName", Str),
    la("Region", Str),
    la("TenantId", Str),
    la("_ResourceId", Str),
    la("Type", Str),
];

/// HTTP access logs of what fronts an MCP server: the caller's address when the server's own
/// telemetry has none. Counters stay text: a `-` in one of them must not reject the row.
const APP_SERVICE_HTTP_COLUMNS: &[ColumnSpec] = &[
    la("TimeGenerated", Time),
    la("CIp", Str),
    la("CsMethod", Str),
    la("CsUriStem", Str),
    la("CsHost", Str),
    la("ScStatus", Str),
    la("UserAgent", Str),
    la("_ResourceId", Str),
    la("Type", Str),
];

/// Azure Functions' host and function logs (the FunctionAppLogs table as Azure Monitor documents it).
const FUNCTION_APP_COLUMNS: &[ColumnSpec] = &[
    la("TimeGenerated", Time),
    la("AppName", Str),
    la("RoleInstance", Str),
    la("HostInstanceId", Str),
    la("HostVersion", Str),
    la("FunctionName", Str),
    la("FunctionInvocationId", Str),
    la("ActivityId", Str),
    la("Category", Str),
    la("Level", Str),
    la("LevelId", Int),
    la("EventId", Int),
    la("EventName", Str),
    la("Message", Str),
    la("ExceptionType", Str),
    la("ExceptionMessage", Str),
    la("ExceptionDetails", Str),
    la("ProcessId", Int),
    la("Location", Str),
    la("_ResourceId", Str),
    la("Type", Str),
];

const AGW_ACCESS_COLUMNS: &[ColumnSpec] = &[
    la("TimeGenerated", Time),
    la("ClientIp", Str),
    la("HttpMethod", Str),
    la("RequestUri", Str),
    la("Host", Str),
    la("OriginalHost", Str),
    la("HttpStatus", Str),
    la("TransactionId", Str),
    la("InstanceId", Str),
    la("_ResourceId", Str),
    la("Type", Str),
];

const FRONT_DOOR_ACCESS_COLUMNS: &[ColumnSpec] = &[
    la("TimeGenerated", Time),
    la("ClientIp", Str),
    la("HttpMethod", Str),
    la("RequestUri", Str),
    la("HostName", Str),
    la("HttpStatusCode", Str),
    la("TrackingReference", Str),
    la("_ResourceId", Str),
    la("Type", Str),
];

const GENERIC_COLUMNS: &[ColumnSpec] = &[la("TimeGenerated", Time), la("Type", Str)];

fn no_derived(_: &Map<String, Value>) -> Vec<Cell<'static>> {
    Vec::new()
}

/// The columns of every table the catalogue marks `Decoder::Declared`, under its name.
pub static DECLARED: &[TableSpec] = &[
    TableSpec {
        name: "AzureDiagnostics",
        columns: AZURE_DIAGNOSTICS_COLUMNS,
        derived: APIM_GATEWAY_DERIVED,
        derive: derive_azure_diagnostics,
        derive_reads: AZURE_DIAGNOSTICS_READS,
    },
    TableSpec {
        name: "SigninLogs",
        columns: SIGNIN_COLUMNS,
        derived: &[],
        derive: no_derived,
        derive_reads: &[],
    },
    TableSpec {
        name: "AADNonInteractiveUserSignInLogs",
        columns: SIGNIN_COLUMNS,
        derived: &[],
        derive: no_derived,
        derive_reads: &[],
    },
    TableSpec {
        name: "AADServicePrincipalSignInLogs",
        columns: SERVICE_SIGNIN_COLUMNS,
        derived: &[],
        derive: no_derived,
        derive_reads: &[],
    },
    TableSpec {
        name: "AADManagedIdentitySignInLogs",
        columns: SERVICE_SIGNIN_COLUMNS,
        derived: &[],
        derive: no_derived,
        derive_reads: &[],
    },
    TableSpec {
        name: "MicrosoftServicePrincipalSignInLogs",
        columns: SERVICE_SIGNIN_COLUMNS,
        derived: &[],
        derive: no_derived,
        derive_reads: &[],
    },
    TableSpec {
        name: "AuditLogs",
        columns: AUDIT_COLUMNS,
        derived: AUDIT_DERIVED,
        derive: derive_audit,
        derive_reads: AUDIT_READS,
    },
    TableSpec {
        name: "AppRequests",
        columns: APP_REQUEST_COLUMNS,
        derived: MCP_DERIVED,
        derive: derive_mcp,
        derive_reads: MCP_READS,
    },
    TableSpec {
        name: "AppDependencies",
        columns: APP_DEPENDENCY_COLUMNS,
        derived: MCP_DERIVED,
        derive: derive_mcp,
        derive_reads: MCP_READS,
    },
    TableSpec {
        name: "AppTraces",
        columns: APP_TRACE_COLUMNS,
        derived: MCP_DERIVED,
        derive: derive_mcp,
        derive_reads: MCP_READS,
    },
    TableSpec {
        name: "AppEvents",
        columns: APP_EVENT_COLUMNS,
        derived: MCP_DERIVED,
        derive: derive_mcp,
        derive_reads: MCP_READS,
    },
    TableSpec {
        name: "AppExceptions",
        columns: APP_EXCEPTION_COLUMNS,
        derived: MCP_DERIVED,
        derive: derive_mcp,
        derive_reads: MCP_READS,
    },
    TableSpec {
        name: "ApiManagementGatewayLogs",
        columns: APIM_GATEWAY_COLUMNS,
        derived: APIM_GATEWAY_DERIVED,
        derive: derive_apim_gateway,
        derive_reads: APIM_GATEWAY_READS,
    },
    TableSpec {
        name: "ApiManagementGatewayMCPLog",
        columns: APIM_MCP_COLUMNS,
        derived: &[],
        derive: no_derived,
        derive_reads: &[],
    },
    TableSpec {
        name: "FunctionAppLogs",
        columns: FUNCTION_APP_COLUMNS,
        derived: &[],
        derive: no_derived,
        derive_reads: &[],
    },
    TableSpec {
        name: "AppServiceHTTPLogs",
        columns: APP_SERVICE_HTTP_COLUMNS,
        derived: &[],
        derive: no_derived,
        derive_reads: &[],
    },
    TableSpec {
        name: "AGWAccessLogs",
        columns: AGW_ACCESS_COLUMNS,
        derived: &[],
        derive: no_derived,
        derive_reads: &[],
    },
    TableSpec {
        name: "FrontDoorAccessLog",
        columns: FRONT_DOOR_ACCESS_COLUMNS,
        derived: &[],
        derive: no_derived,
        derive_reads: &[],
    },
];

/// The spec for tables without a declaration: time, `Type`, and everything else in `_extra`.
pub static GENERIC: TableSpec = TableSpec {
    name: "(other)",
    columns: GENERIC_COLUMNS,
    derived: &[],
    derive: no_derived,
    derive_reads: &[],
};

/// Finds a declared table by name, case-insensitively (container names are lower case).
pub fn find_table(name: &str) -> Option<&'static TableSpec> {
    DECLARED.iter().find(|t| t.name.eq_ignore_ascii_case(name))
}

/// A checked row: its cells (text borrowing the record where it can), the `_extra` JSON of
/// untyped keys, and its time (ns).
pub type RowCells<'a> = (Vec<Cell<'a>>, Option<String>, Option<i64>);

/// Converts one parsed row into cells for `spec`, plus the `_extra` JSON of untyped keys.
pub fn row_cells(
    spec: &TableSpec,
    mut row: Map<String, Value>,
) -> Result<RowCells<'static>, String> {
    let mut cells = Vec::with_capacity(spec.columns.len() + spec.derived.len());
    for column in spec.columns {
        let value = row.get(column.name).or_else(|| {
            (column.name == "TimeGenerated")
                .then(|| row.get("time"))
                .flatten()
        });
        let cell = match value {
            Some(v) => {
                convert(v, column.kind).map_err(|e| format!("column {}: {e}", column.name))?
            }
            None => Cell::Null,
        };
        cells.push(cell);
    }
    let time = match cells.first() {
        Some(Cell::Time(t)) => Some(*t),
        _ => return Err("no TimeGenerated (or time) in the row".into()),
    };
    let reads: Map<String, Value> = spec
        .derive_reads
        .iter()
        .filter_map(|key| Some(((*key).to_string(), row.get(*key)?.clone())))
        .collect();
    cells.extend((spec.derive)(&reads));
    // `time` is a column only when it stood in for a missing TimeGenerated.
    let time_was_the_time = !row.contains_key("TimeGenerated");
    for column in spec.columns {
        row.remove(column.name);
    }
    if time_was_the_time {
        row.remove("time");
    }
    let extra = (!row.is_empty()).then(|| Value::Object(row).to_string());
    Ok((cells, extra, time))
}

/// The declared columns of a table by name, for reading a plain record's members straight
/// into them ([`PlainRows::row_cells`]).
pub struct PlainRows {
    spec: &'static TableSpec,
    /// Column names with their index, sorted by name.
    by_name: Vec<(&'static str, usize)>,
    time_column: Option<usize>,
    /// The last record's keys by position, with their columns: the records of a blob mostly
    /// repeat one key order, so a key is then matched by one comparison, not a search.
    last_keys: std::cell::RefCell<Vec<(String, Option<usize>)>>,
    /// Whether the table's derived columns are the MCP columns, which read only some members of
    /// `Properties` ([`MCP_PROPERTY_KEYS`]): those alone are parsed, not the whole object.
    mcp_properties: bool,
}

impl PlainRows {
    /// The lookup for `spec`.
    pub fn new(spec: &'static TableSpec) -> Self {
        let mut by_name: Vec<(&'static str, usize)> = spec
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| (c.name, i))
            .collect();
        by_name.sort_unstable();
        Self {
            spec,
            by_name,
            time_column: spec.columns.iter().position(|c| c.name == "TimeGenerated"),
            last_keys: std::cell::RefCell::default(),
            mcp_properties: spec.derive_reads == MCP_READS,
        }
    }

    /// The column of the key at position `at` of a record, looked up once per key order.
    fn column_at(&self, at: usize, key: &str) -> Option<usize> {
        let mut last = self.last_keys.borrow_mut();
        match last.get_mut(at) {
            Some((known, column)) if known == key => *column,
            Some((known, column)) => {
                // Another key at this position: remember it in place (no new allocation).
                known.clear();
                known.push_str(key);
                *column = self.column(key);
                *column
            }
            // Positions come in order, so a record longer than the last adds the next one.
            None => {
                debug_assert_eq!(at, last.len(), "positions are asked for in order");
                let column = self.column(key);
                last.push((key.to_string(), column));
                column
            }
        }
    }

    fn column(&self, key: &str) -> Option<usize> {
        self.by_name
            .binary_search_by(|(name, _)| (*name).cmp(key))
            .ok()
            .map(|i| self.by_name[i].1)
    }

    /// The cells, `_extra` and time of a plain record (see [`super::scan`]), every untyped
    /// member kept in `_extra` as its original bytes, in the order written. `None` when a
    /// value does not convert or the time is missing: the general path ([`row_cells`]) then
    /// rejects the record with the reason.
    pub fn row_cells<'r>(&self, record: &'r str, members: &[Member]) -> Option<RowCells<'r>> {
        self.cells_of(record, members.iter().map(|m| (m.key(record), m)), None)
    }

    /// As [`Self::row_cells`], for members renamed onto this table (a diagnostic-settings
    /// record, see [`super::diagnostic::plain_members`]): each member under its name. Without a
    /// member named `Type`, `Type` holds `table`, as the Log Analytics export fills it.
    pub fn named_row_cells<'r>(
        &self,
        record: &'r str,
        named: &[(std::borrow::Cow<'_, str>, Member)],
        table: &str,
    ) -> Option<RowCells<'r>> {
        self.cells_of(
            record,
            named.iter().map(|(k, m)| (k.as_ref(), m)),
            Some(table),
        )
    }

    fn cells_of<'r, 'k, I>(
        &self,
        record: &'r str,
        members: I,
        table: Option<&str>,
    ) -> Option<RowCells<'r>>
    where
        I: Iterator<Item = (&'k str, &'k Member)> + Clone,
    {
        let columns = self.spec.columns;
        let mut cells = vec![Cell::Null; columns.len()];
        let mut typed = Vec::with_capacity(32);
        let (mut time_member, mut has_time_generated, mut has_type) = (None, false, false);
        for (i, (key, member)) in members.clone().enumerate() {
            has_time_generated |= key == "TimeGenerated";
            has_type |= key == "Type";
            if let Some(column) = self.column_at(i, key) {
                cells[column] = convert_member(record, member, columns[column].kind)?;
                typed.push(true);
            } else {
                if key == "time" {
                    time_member = Some(i);
                }
                typed.push(false);
            }
        }
        let time_column = self.time_column?;
        if let Some(i) = time_member
            && !has_time_generated
        {
            let (_, member) = members.clone().nth(i)?;
            cells[time_column] = convert_member(record, member, Kind::Time)?;
            typed[i] = true;
        }
        let Cell::Time(time) = cells[time_column] else {
            return None;
        };
        let mut extra: Option<String> = None;
        let mut push_extra = |key: &str, raw: &str| {
            let text = extra.get_or_insert_with(|| String::with_capacity(record.len() / 2));
            text.push(if text.is_empty() { '{' } else { ',' });
            text.push('"');
            text.push_str(key);
            text.push_str("\":");
            text.push_str(raw);
        };
        for ((key, member), typed) in members.clone().zip(&typed) {
            if !typed {
                push_extra(key, member.raw(record));
            }
        }
        let quoted_table;
        if let Some(table) = table.filter(|_| !has_type) {
            match self.column("Type") {
                Some(column) => cells[column] = Cell::Str(table.to_string().into()),
                None => {
                    quoted_table = format!("\"{table}\"");
                    push_extra("Type", &quoted_table);
                }
            }
        }
        if let Some(text) = extra.as_mut() {
            text.push('}');
        }
        if !self.spec.derived.is_empty() {
            let mut reads = Map::new();
            for (key, member) in members {
                if self.spec.derive_reads.contains(&key) {
                    let value = match (self.mcp_properties && key == "Properties")
                        .then(|| mcp_properties(record, member))
                        .flatten()
                    {
                        Some(properties) => properties,
                        None => serde_json::from_str(member.raw(record)).ok()?,
                    };
                    reads.insert(key.to_string(), value);
                }
            }
            cells.extend((self.spec.derive)(&reads));
        }
        Some((cells, extra, Some(time)))
    }
}

/// A member's value as a cell of `kind`, by the same lossless rules as [`convert`]; `None`
/// when it does not convert. Text columns keep non-string values as their original bytes.
fn convert_member<'r>(record: &'r str, member: &Member, kind: Kind) -> Option<Cell<'r>> {
    let raw = member.raw(record);
    let string = || -> Option<std::borrow::Cow<'r, str>> {
        match member.plain_str(record) {
            Some(text) => Some(text.into()),
            None => serde_json::from_str::<String>(raw).ok().map(Into::into),
        }
    };
    Some(match (kind, member.kind) {
        (_, ValueKind::Null) => Cell::Null,
        (Kind::Str | Kind::Dyn, ValueKind::String { .. }) => Cell::Str(string()?),
        (Kind::Str | Kind::Dyn, _) => Cell::Str(raw.into()),
        (Kind::Int, ValueKind::Number { integer: true }) => Cell::Int(raw.parse().ok()?),
        (Kind::Int, ValueKind::Number { integer: false }) => {
            let f: f64 = raw.parse().ok()?;
            if f.fract() != 0.0 || f.abs() >= 9.0e15 {
                return None;
            }
            Cell::Int(f as i64)
        }
        (Kind::Real, ValueKind::Number { .. }) => Cell::Real(raw.parse().ok()?),
        (Kind::Bool, ValueKind::Bool) => Cell::Bool(raw == "true"),
        (Kind::Bool, ValueKind::Number { integer: true }) => match raw.parse::<i64>().ok()? {
            1 => Cell::Bool(true),
            0 => Cell::Bool(false),
            _ => return None,
        },
        (Kind::Time, ValueKind::Number { integer: true }) => {
            Cell::Time(time::epoch_to_utc(raw.parse().ok()?).and_then(time::to_nanos)?)
        }
        (Kind::Int | Kind::Real | Kind::Bool | Kind::Time, ValueKind::String { .. }) => {
            // The same text rules as the general path.
            match convert(&Value::String(string()?.into_owned()), kind) {
                Ok(cell) => cell,
                Err(_) => return None,
            }
        }
        _ => return None,
    })
}

/// A value as text: strings as they are, other JSON as its text, null and absence as `None`.
fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// A dynamic column as an object, whether it was exported as an object or as JSON text.
/// Borrowed when it was exported as an object (the common case: no copy of the record's members).
fn object(value: Option<&Value>) -> Option<std::borrow::Cow<'_, Map<String, Value>>> {
    match value? {
        Value::Object(map) => Some(std::borrow::Cow::Borrowed(map)),
        Value::String(s) => match serde_json::from_str(s) {
            Ok(Value::Object(map)) => Some(std::borrow::Cow::Owned(map)),
            _ => None,
        },
        _ => None,
    }
}

fn first_of(props: &Map<String, Value>, keys: &[&str]) -> Option<String> {
    debug_assert!(
        keys.iter().all(|k| MCP_PROPERTY_KEYS.contains(k)),
        "{keys:?}: a member of Properties the MCP columns read must be in MCP_PROPERTY_KEYS"
    );
    keys.iter().find_map(|k| text(props.get(*k)))
}

/// The members of `Properties` the MCP columns read ([`derive_mcp`] reads no other: `first_of`
/// asserts it in debug builds), besides the arguments under [`MCP_ARGUMENT_PREFIX`].
const MCP_PROPERTY_KEYS: &[&str] = &[
    "mcp.method.name",
    "gen_ai.operation.name",
    "rpc.method",
    "gen_ai.tool.name",
    "mcp.tool.name",
    "ToolName",
    "gen_ai.tool.call.arguments",
    "ToolParameters",
    "mcp.session.id",
    "gen_ai.conversation.id",
    "session.id",
    "jsonrpc.request.id",
    "mcp.request.id",
    "mcp.resource.uri",
    "client.address",
    "gen_ai.tool.call.result",
    "enduser.id",
    "response.bytes",
    "http.response.body.size",
    "network.peer.address",
    "server.address",
];

/// The prefix of the tool arguments an emitter writes one member each.
const MCP_ARGUMENT_PREFIX: &str = "mcp.request.argument.";

/// The members of a plain record's `Properties` object that the MCP columns read, in their
/// order, as an object: the rest of `Properties` (often most of it) is not parsed. `None` when
/// `Properties` is not an object (JSON text is parsed whole, as before).
fn mcp_properties(record: &str, member: &Member) -> Option<Value> {
    let (mut nested, mut keys) = (Vec::new(), Vec::new());
    super::scan::nested_members(record, member, &mut nested, &mut keys)?;
    let mut read = Map::new();
    for nested in &nested {
        let key = nested.key(record);
        if MCP_PROPERTY_KEYS.contains(&key) || key.starts_with(MCP_ARGUMENT_PREFIX) {
            read.insert(
                key.to_string(),
                serde_json::from_str(nested.raw(record)).ok()?,
            );
        }
    }
    Some(Value::Object(read))
}

fn derive_mcp(row: &Map<String, Value>) -> Vec<Cell<'static>> {
    let props = object(row.get("Properties")).unwrap_or_default();
    let span_name = text(row.get("Name")).or_else(|| text(row.get("OperationName")));
    let (name_method, name_target) = match span_name.as_deref().and_then(|n| n.split_once(' ')) {
        Some((method, target)) if method.contains('/') => {
            (Some(method.to_string()), Some(target.trim().to_string()))
        }
        _ => (None, None),
    };
    let method = first_of(&props, &["mcp.method.name"])
        .or_else(|| first_of(&props, &["gen_ai.operation.name"]).filter(|m| m.contains('/')))
        // Emitters that follow the RPC conventions name the JSON-RPC method in `rpc.method`.
        .or_else(|| {
            first_of(&props, &["rpc.method"])
                .filter(|m| m.contains('/') || MCP_METHODS.contains(&m.as_str()))
        })
        .or_else(|| name_method.clone())
        .or_else(|| {
            span_name
                .clone()
                .filter(|n| MCP_METHODS.contains(&n.as_str()))
        });
    let tool = first_of(&props, &["gen_ai.tool.name", "mcp.tool.name", "ToolName"])
        .or_else(|| name_target.filter(|_| name_method.as_deref() == Some("tools/call")));
    let mut arguments = first_of(&props, &["gen_ai.tool.call.arguments"]);
    if arguments.is_none() {
        let gathered: Map<String, Value> = props
            .iter()
            .filter_map(|(k, v)| {
                k.strip_prefix(MCP_ARGUMENT_PREFIX)
                    .map(|arg| (arg.to_string(), v.clone()))
            })
            .collect();
        arguments = if gathered.is_empty() {
            first_of(&props, &["ToolParameters"])
        } else {
            Some(Value::Object(gathered).to_string())
        };
    }
    let client_ip = text(row.get("ClientIP")).filter(|ip| ip != "0.0.0.0");
    vec![
        Cell::text(method),
        Cell::text(tool),
        Cell::text(first_of(
            &props,
            &["mcp.session.id", "gen_ai.conversation.id", "session.id"],
        )),
        Cell::text(first_of(&props, &["jsonrpc.request.id", "mcp.request.id"])),
        Cell::text(first_of(&props, &["mcp.resource.uri"])),
        Cell::text(first_of(&props, &["client.address"]).or(client_ip)),
        Cell::text(arguments),
        Cell::text(first_of(&props, &["gen_ai.tool.call.result"])),
        Cell::text(
            first_of(&props, &["enduser.id"]).or_else(|| text(row.get("UserAuthenticatedId"))),
        ),
        first_of(&props, &["response.bytes", "http.response.body.size"])
            .and_then(|b| b.trim().parse::<i64>().ok())
            .map_or(Cell::Null, Cell::Int),
        Cell::text(first_of(
            &props,
            &["network.peer.address", "server.address"],
        )),
    ]
}

/// MCP methods recognised as a bare span name (a span without a target is named by its method
/// alone, OpenTelemetry's MCP conventions), the notifications among them.
const MCP_METHODS: &[&str] = &[
    "initialize",
    "tools/list",
    "tools/call",
    "resources/read",
    "resources/list",
    "resources/templates/list",
    "resources/subscribe",
    "prompts/get",
    "prompts/list",
    "completion/complete",
    "logging/setLevel",
    "ping",
    // Requests the server sends its client.
    "sampling/createMessage",
    "elicitation/create",
    "roots/list",
    "notifications/initialized",
    "notifications/cancelled",
    "notifications/progress",
    "notifications/message",
    "notifications/tools/list_changed",
    "notifications/resources/list_changed",
    "notifications/resources/updated",
    "notifications/prompts/list_changed",
    "notifications/roots/list_changed",
];

fn derive_apim_gateway(row: &Map<String, Value>) -> Vec<Cell<'static>> {
    gateway_body_cells(row.get("RequestBody"), row.get("ResponseBody"))
}

/// The gateway's MCP columns of an `AzureDiagnostics` record of `GatewayLogs`, read from its
/// bodies as from the resource-specific table's; nothing for any other category.
fn derive_azure_diagnostics(row: &Map<String, Value>) -> Vec<Cell<'static>> {
    if text(row.get("Category")).as_deref() == Some("GatewayLogs") {
        gateway_body_cells(row.get("requestBody_s"), row.get("responseBody_s"))
    } else {
        gateway_body_cells(None, None)
    }
}

/// The JSON-RPC method, tool, request id, arguments and result of a logged request and
/// response body.
fn gateway_body_cells(request: Option<&Value>, response: Option<&Value>) -> Vec<Cell<'static>> {
    let request = object(request).unwrap_or_default();
    let params = request.get("params").and_then(Value::as_object);
    let response = object(response).unwrap_or_default();
    vec![
        Cell::text(text(request.get("method"))),
        Cell::text(params.and_then(|p| text(p.get("name")))),
        Cell::text(text(request.get("id"))),
        Cell::text(
            params
                .and_then(|p| p.get("arguments"))
                .map(Value::to_string),
        ),
        Cell::text(response.get("result").map(Value::to_string)),
    ]
}

fn derive_audit(row: &Map<String, Value>) -> Vec<Cell<'static>> {
    let initiated = object(row.get("InitiatedBy")).unwrap_or_default();
    let user = initiated.get("user").and_then(Value::as_object);
    let app = initiated.get("app").and_then(Value::as_object);
    vec![
        Cell::text(user.and_then(|u| text(u.get("userPrincipalName")))),
        Cell::text(user.and_then(|u| text(u.get("id")))),
        Cell::text(user.and_then(|u| text(u.get("ipAddress")))),
        Cell::text(app.and_then(|a| text(a.get("displayName")).or_else(|| text(a.get("appId"))))),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    fn derived_named<'c>(spec: &TableSpec, cells: &[Cell<'c>], name: &str) -> Cell<'c> {
        let index = spec.columns.len()
            + spec
                .derived
                .iter()
                .position(|c| c.name == name)
                .expect("derived column");
        cells[index].clone()
    }

    #[test]
    fn mcp_attributes_with_canonical_names() {
        let spec = find_table("apprequests").expect("declared");
        let r = row(json!({
            "TimeGenerated": "2026-10-01T02:00:00.1234567Z", "Name": "tools/call get_customer", "ClientIP": "0.0.0.0",
            "UserAuthenticatedId": "bob@contoso.com", "ItemCount": 1, "NewColumn": "kept",
            "Properties": {"mcp.method.name": "tools/call", "gen_ai.tool.name": "get_customer", "mcp.session.id": "s1",
                "jsonrpc.request.id": "7", "client.address": "45.86.1.2", "gen_ai.tool.call.arguments": "{\"customer_id\":\"C-1\"}"}
        }));
        let (cells, extra, time) = row_cells(spec, r).expect("valid row");
        assert_eq!(time, Some(1_790_820_000_123_456_700));
        assert_eq!(extra.as_deref(), Some("{\"NewColumn\":\"kept\"}"));
        assert_eq!(
            derived_named(spec, &cells, "tool_name"),
            Cell::Str("get_customer".into())
        );
        assert_eq!(
            derived_named(spec, &cells, "client_address"),
            Cell::Str("45.86.1.2".into())
        );
        assert_eq!(
            derived_named(spec, &cells, "enduser_id"),
            Cell::Str("bob@contoso.com".into())
        );
        assert_eq!(
            derived_named(spec, &cells, "tool_arguments"),
            Cell::Str("{\"customer_id\":\"C-1\"}".into())
        );
    }

    #[test]
    fn mcp_aliases_and_properties_as_text() {
        let spec = find_table("AppRequests").expect("declared");
        let props = json!({"gen_ai.operation.name": "tools/call", "mcp.tool.name": "export", "gen_ai.conversation.id": "c9",
            "mcp.request.id": "3", "mcp.request.argument.customerId": "C-9", "enduser.id": "0f1e"}).to_string();
        let r = row(
            json!({"TimeGenerated": "2026-10-01T02:00:00Z", "ClientIP": "10.0.0.9", "Properties": props}),
        );
        let (cells, _, _) = row_cells(spec, r).expect("valid row");
        assert_eq!(
            derived_named(spec, &cells, "mcp_method"),
            Cell::Str("tools/call".into())
        );
        assert_eq!(
            derived_named(spec, &cells, "tool_name"),
            Cell::Str("export".into())
        );
        assert_eq!(
            derived_named(spec, &cells, "session_id"),
            Cell::Str("c9".into())
        );
        assert_eq!(
            derived_named(spec, &cells, "jsonrpc_request_id"),
            Cell::Str("3".into())
        );
        assert_eq!(
            derived_named(spec, &cells, "tool_arguments"),
            Cell::Str("{\"customerId\":\"C-9\"}".into())
        );
        assert_eq!(
            derived_named(spec, &cells, "client_address"),
            Cell::Str("10.0.0.9".into())
        );
        assert_eq!(
            derived_named(spec, &cells, "enduser_id"),
            Cell::Str("0f1e".into())
        );
    }

    /// An emitter following the RPC conventions: the method in `rpc.method`, the tool only in the
    /// span name, the request id in `jsonrpc.request.id`; a non-MCP `rpc.method` is no method.
    #[test]
    fn rpc_method_names_the_mcp_method() {
        let spec = find_table("AppRequests").expect("declared");
        let props =
            json!({"rpc.system": "jsonrpc", "rpc.method": "tools/call", "jsonrpc.request.id": "17",
            "mcp.session.id": "s1"})
            .to_string();
        let r = row(
            json!({"TimeGenerated": "2026-10-01T02:00:00Z", "Name": "tools/call get_customer", "Properties": props}),
        );
        let (cells, _, _) = row_cells(spec, r).expect("valid row");
        assert_eq!(
            derived_named(spec, &cells, "mcp_method"),
            Cell::Str("tools/call".into())
        );
        assert_eq!(
            derived_named(spec, &cells, "tool_name"),
            Cell::Str("get_customer".into())
        );
        assert_eq!(
            derived_named(spec, &cells, "jsonrpc_request_id"),
            Cell::Str("17".into())
        );
        let grpc = json!({"rpc.system": "grpc", "rpc.method": "GetCustomer"}).to_string();
        let r = row(
            json!({"TimeGenerated": "2026-10-01T02:00:00Z", "Name": "GetCustomer", "Properties": grpc}),
        );
        let (cells, _, _) = row_cells(spec, r).expect("valid row");
        assert_eq!(derived_named(spec, &cells, "mcp_method"), Cell::Null);
    }

    #[test]
    fn otel_execute_tool_is_not_a_method_but_the_span_name_is() {
        let spec = find_table("AppRequests").expect("declared");
        let r = row(
            json!({"TimeGenerated": "2026-10-01T02:00:00Z", "Name": "tools/call list_orders",
            "Properties": {"gen_ai.operation.name": "execute_tool"}}),
        );
        let (cells, _, _) = row_cells(spec, r).expect("valid row");
        assert_eq!(
            derived_named(spec, &cells, "mcp_method"),
            Cell::Str("tools/call".into())
        );
        assert_eq!(
            derived_named(spec, &cells, "tool_name"),
            Cell::Str("list_orders".into())
        );
    }

    #[test]
    fn wrong_types_and_missing_time_are_rejected() {
        let spec = find_table("AppRequests").expect("declared");
        let bad = row(json!({"TimeGenerated": "2026-10-01T02:00:00Z", "ItemCount": "many"}));
        assert_eq!(
            row_cells(spec, bad).err().as_deref(),
            Some("column ItemCount: expected an integer, found string \"many\"")
        );
        let timeless = row(json!({"Name": "x"}));
        assert!(row_cells(spec, timeless).is_err());
    }

    #[test]
    fn apim_body_and_audit_actor() {
        let spec = find_table("ApiManagementGatewayLogs").expect("declared");
        let body = json!({"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "get_ticket", "arguments": {"customer_id": "C-4"}}});
        let r =
            row(json!({"TimeGenerated": "2026-10-01T02:00:00Z", "RequestBody": body.to_string()}));
        let (cells, _, _) = row_cells(spec, r).expect("valid row");
        assert_eq!(
            derived_named(spec, &cells, "tool_name"),
            Cell::Str("get_ticket".into())
        );
        assert_eq!(
            derived_named(spec, &cells, "jsonrpc_request_id"),
            Cell::Str("4".into())
        );
        assert_eq!(
            derived_named(spec, &cells, "tool_arguments"),
            Cell::Str("{\"customer_id\":\"C-4\"}".into())
        );
        let audit = find_table("AuditLogs").expect("declared");
        let r = row(json!({"TimeGenerated": "2026-10-01T02:00:00Z",
            "InitiatedBy": {"user": {"id": "u1", "userPrincipalName": "eve@contoso.com", "ipAddress": "1.2.3.4"}}}));
        let (cells, _, _) = row_cells(audit, r).expect("valid row");
        assert_eq!(
            derived_named(audit, &cells, "initiated_by_upn"),
            Cell::Str("eve@contoso.com".into())
        );
    }
}

/// Asserts that the plain path's row of `record` is the general path's: the same time and cells
/// (text of non-string values compared as JSON, since the plain path keeps the bytes written)
/// and the same `_extra` members.
#[cfg(test)]
pub(crate) fn assert_rows_agree(record: &str, plain: &RowCells<'_>, general: &RowCells<'_>) {
    let json = |t: &str| serde_json::from_str::<Value>(t).unwrap_or(Value::String(t.into()));
    let ((cells, extra, time), (want_cells, want_extra, want_time)) = (plain, general);
    assert_eq!(time, want_time, "{record}");
    assert_eq!(cells.len(), want_cells.len());
    for (got, want) in cells.iter().zip(want_cells) {
        match (got, want) {
            (Cell::Str(a), Cell::Str(b)) if a != b => assert_eq!(json(a), json(b), "{record}"),
            _ => assert_eq!(got, want, "{record}"),
        }
    }
    assert_eq!(
        extra.as_deref().map(json),
        want_extra.as_deref().map(json),
        "{record}"
    );
}

#[cfg(test)]
mod plain_tests {
    use super::*;
    use crate::parsers::scan;

    fn plain<'r>(spec: &'static TableSpec, record: &'r str) -> Option<RowCells<'r>> {
        let (mut members, mut keys) = (Vec::new(), Vec::new());
        let text = scan::top_level_members(record.as_bytes(), &mut members, &mut keys)?;
        PlainRows::new(spec).row_cells(text, &members)
    }

    fn general(spec: &'static TableSpec, record: &str) -> Result<RowCells<'static>, String> {
        let (value, duplicates) =
            crate::parsers::strict_json::parse(record.as_bytes()).map_err(|e| e.to_string())?;
        assert!(duplicates.is_empty());
        match value {
            Value::Object(map) => row_cells(spec, map),
            _ => Err("not an object".into()),
        }
    }

    fn json(text: &str) -> Value {
        serde_json::from_str(text).unwrap_or(Value::String(text.into()))
    }

    /// Both paths give the same row: the same cells (text of non-string values compared as
    /// JSON, since the plain path keeps the bytes written) and the same `_extra` members.
    fn same_row(spec: &'static TableSpec, record: &str) {
        let Some(row) = plain(spec, record) else {
            return;
        };
        let want =
            general(spec, record).expect("what the plain path reads, the general path reads");
        assert_rows_agree(record, &row, &want);
    }

    /// One reader for records whose key order changes from record to record (the per-position
    /// key cache): each reads as the general path reads it on its own.
    #[test]
    fn key_orders_changing_between_records_read_each_record_right() {
        let spec = find_table("SigninLogs").expect("SigninLogs");
        let records = [
            r#"{"TimeGenerated":"2026-06-01T00:00:00Z","UserPrincipalName":"a@x","IPAddress":"192.0.2.1","Odd":1}"#,
            r#"{"IPAddress":"192.0.2.2","TimeGenerated":"2026-06-01T00:01:00Z","Odd":2,"UserPrincipalName":"b@x"}"#,
            r#"{"TimeGenerated":"2026-06-01T00:02:00Z","UserPrincipalName":"c@x","IPAddress":"192.0.2.3","Odd":3}"#,
            r#"{"TimeGenerated":"2026-06-01T00:03:00Z","Odd":4}"#,
            r#"{"TimeGenerated":"2026-06-01T00:04:00Z","UserPrincipalName":"e@x","IPAddress":"192.0.2.5","Odd":5,"AppId":"app"}"#,
        ];
        let rows = PlainRows::new(spec);
        let (mut members, mut keys) = (Vec::new(), Vec::new());
        for record in records {
            let text =
                scan::top_level_members(record.as_bytes(), &mut members, &mut keys).expect("plain");
            let row = rows.row_cells(text, &members).expect("plain row");
            let want = general(spec, record).expect("general row");
            assert_rows_agree(record, &row, &want);
        }
    }

    /// The MCP columns of a plain record come from the members of `Properties` they read, parsed
    /// alone: the same cells as the general path, which parses the whole object, whatever else
    /// `Properties` holds (nested values, numbers written in other forms, escapes, arguments one
    /// member each in the order written).
    #[test]
    fn mcp_columns_from_the_members_of_properties_read_equal_the_whole_object() {
        let spec = find_table("AppRequests").expect("AppRequests");
        let records = [
            r#"{"TimeGenerated":"2026-06-01T00:00:00Z","Name":"tools/call export","Properties":{"big":{"a":[1,2,{"b":"c"}]},"mcp.request.argument.customer_id":"C-7","other":1e3,"mcp.request.argument.limit":10.50,"mcp.session.id":"s\u00e9","response.bytes":"2048","client.address":"203.0.113.9"}}"#,
            r#"{"TimeGenerated":"2026-06-01T00:00:01Z","Name":"tools/call","Properties":{"gen_ai.tool.name":"get","gen_ai.tool.call.arguments":{"id":[1, 2]},"enduser.id":"","x":null}}"#,
            r#"{"TimeGenerated":"2026-06-01T00:00:02Z","Properties":"{\"mcp.method.name\":\"tools/list\"}"}"#,
            r#"{"TimeGenerated":"2026-06-01T00:00:03Z","Properties":{}}"#,
        ];
        for record in records {
            let row = plain(spec, record).expect("a plain record");
            let want = general(spec, record).expect("general row");
            assert_rows_agree(record, &row, &want);
        }
        let arguments = spec.columns.len()
            + spec
                .derived
                .iter()
                .position(|c| c.name == "tool_arguments")
                .expect("column");
        let (cells, _, _) = plain(spec, records[0]).expect("plain");
        assert_eq!(
            cells[arguments],
            Cell::Str(r#"{"customer_id":"C-7","limit":10.5}"#.into())
        );
    }

    /// Every record of the bundled sample's Log Analytics exports reads the same both ways, and
    /// nearly all of them take the plain path.
    #[test]
    fn the_plain_path_reads_the_sample_as_the_general_path_does() {
        let account = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data/account");
        let (mut records, mut plain_records) = (0, 0);
        for container in std::fs::read_dir(&account).expect("sample") {
            let container = container.expect("entry").path();
            let name = container.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let Some(spec) = name.strip_prefix("am-").and_then(find_table) else {
                continue;
            };
            let mut stack = vec![container.clone()];
            while let Some(dir) = stack.pop() {
                for entry in std::fs::read_dir(&dir).expect("dir") {
                    let path = entry.expect("entry").path();
                    if path.is_dir() {
                        stack.push(path);
                        continue;
                    }
                    let text = std::fs::read_to_string(&path).expect("blob");
                    for line in text.lines().filter(|l| !l.trim().is_empty()) {
                        records += 1;
                        if plain(spec, line).is_some() {
                            plain_records += 1;
                        }
                        same_row(spec, line);
                    }
                }
            }
        }
        assert!(records > 8000, "{records}");
        assert!(
            plain_records * 100 >= records * 95,
            "{plain_records} of {records}"
        );
    }

    /// A real resource-log record (Key Vault, documented sample, `time` and nested `identity`)
    /// takes the plain path and reads as the general path reads it.
    #[test]
    fn a_real_resource_log_record_reads_the_same_both_ways() {
        let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(
            "tests/fixtures/real/resource-logs_jsonlines_keyvault-auditevent_docs-example.jsonl",
        );
        let text = std::fs::read_to_string(sample).expect("real sample");
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 2);
        let mut times = Vec::new();
        for line in lines {
            let (cells, extra, _) = plain(&GENERIC, line).expect("plain");
            times.push(cells[0].clone());
            // Members as written: nested values keep even the spaces of the sample.
            let extra = extra.expect("members kept");
            assert!(
                extra.starts_with(r#"{"resourceId":"/SUBSCRIPTIONS/"#),
                "{extra}"
            );
            assert!(
                extra.contains(r#""identity":{"claim": {"http://schemas.microsoft.com/identity/claims/objectidentifier": "#),
                "{extra}"
            );
            same_row(&GENERIC, line);
        }
        assert_eq!(times[0], Cell::Time(1_451_957_521_269_122_600));
    }

    #[test]
    fn extra_keeps_every_value_as_written() {
        let spec = find_table("AppTraces").expect("declared");
        let record = r#"{"TimeGenerated":"2026-10-01T00:00:00Z","Latitude":78.376632690429688,"Big":123456789012345678901234567890,"Exp":1E+2,"Text":"a\/b\u00e9","Nested":{"x":[1.10,{"y":-0.0}]},"Message":"m"}"#;
        let (cells, extra, _) = plain(spec, record).expect("plain");
        assert_eq!(
            extra.as_deref(),
            Some(
                r#"{"Latitude":78.376632690429688,"Big":123456789012345678901234567890,"Exp":1E+2,"Text":"a\/b\u00e9","Nested":{"x":[1.10,{"y":-0.0}]}}"#
            )
        );
        let message = APP_TRACE_COLUMNS
            .iter()
            .position(|c| c.name == "Message")
            .expect("Message column");
        assert_eq!(cells[message], Cell::Str("m".into()));
        same_row(spec, record);
    }

    #[test]
    fn time_stands_in_only_for_a_missing_time_generated() {
        let spec = &GENERIC;
        let both =
            r#"{"TimeGenerated":"2026-10-01T00:00:00Z","time":"2026-09-30T23:59:00Z","Type":"X"}"#;
        for (cells, extra) in [
            plain(spec, both).map(|(c, e, _)| (c, e)).expect("plain"),
            general(spec, both)
                .map(|(c, e, _)| (c, e))
                .expect("general"),
        ] {
            assert_eq!(cells[0], Cell::Time(1_790_812_800_000_000_000));
            assert_eq!(
                json(extra.as_deref().expect("time kept")),
                json(r#"{"time":"2026-09-30T23:59:00Z"}"#)
            );
        }
        let alone = r#"{"time":"2026-10-01T00:00:00Z","Type":"X"}"#;
        let (cells, extra, _) = plain(spec, alone).expect("plain");
        assert_eq!(
            (cells[0].clone(), extra),
            (Cell::Time(1_790_812_800_000_000_000), None)
        );
        same_row(spec, alone);
    }

    /// A value that does not convert is left to the general path, which names the reason.
    #[test]
    fn what_does_not_convert_is_left_to_the_general_path() {
        let spec = find_table("AppRequests").expect("declared");
        for record in [
            r#"{"TimeGenerated":"2026-10-01T00:00:00Z","ItemCount":2.5}"#,
            r#"{"TimeGenerated":"2026-10-01T00:00:00Z","ItemCount":"many"}"#,
            r#"{"TimeGenerated":"2026-10-01T00:00:00Z","Success":2}"#,
            r#"{"TimeGenerated":"not a time"}"#,
            r#"{"Name":"no time"}"#,
            r#"{"TimeGenerated":null,"time":"2026-10-01T00:00:00Z"}"#,
        ] {
            assert!(plain(spec, record).is_none(), "{record}");
            assert!(general(spec, record).is_err(), "{record}");
        }
    }
}
