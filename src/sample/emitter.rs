//! How the MCP server's OpenTelemetry reaches Application Insights: real SDKs differ, and `scope`
//! must give the same answer on each.

use serde::Serialize;
use serde_json::{Map, Value, json};

/// The shape of a tool call's telemetry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Emitter {
    /// One `AppRequests` row carrying every attribute (client address, user, session, arguments).
    OneRow,
    /// An HTTP `AppRequests` parent row (`POST /mcp`, with the client address, and the user in
    /// `UserAuthenticatedId` as the newer Azure Monitor exporters map `enduser.id`) and an MCP
    /// child span in `AppDependencies` (`InProc`) with the tool, session and arguments but no
    /// client address or user, as an instrumented web framework plus an MCP span give.
    ParentChild,
    /// As `ParentChild`, with the user only in the parent's `UserId`, where the Node.js and
    /// Python Azure Monitor exporters put `enduser.id` (`ai.user.id`).
    ParentChildUserId,
    /// One row without `mcp.session.id` (protocol 2026-07-28, the Python SDK).
    NoSession,
    /// One row with no caller address (the server sees only its front end), hosted on App
    /// Service, whose HTTP log (`AppServiceHTTPLogs`, `CIp`) has the caller of each POST.
    BehindAppService,
    /// Behind API Management, on protocol 2026-07-28 (no sessions): the gateway logs the caller
    /// (`ApiManagementGatewayLogs`, `CallerIpAddress`, the subscription, `BackendRequestHeaders`
    /// with the `traceparent` it sent) and the MCP request (`ApiManagementGatewayMCPLog`,
    /// `oauth2`), both under a `CorrelationId` that is the trace id as a GUID with dashes; the
    /// server's row has the trace id without dashes and no caller address.
    ViaApim,
}

/// The rows (table, row) of one call's server span as this emitter writes them.
pub fn rows(emitter: Emitter, request: Value) -> Vec<(&'static str, Value)> {
    match emitter {
        Emitter::OneRow => vec![("AppRequests", request)],
        Emitter::NoSession => {
            let mut request = request;
            if let Some(props) = request.get_mut("Properties").and_then(Value::as_object_mut) {
                props.remove("mcp.session.id");
            }
            vec![("AppRequests", request)]
        }
        Emitter::ParentChild => parent_and_child(request, false),
        Emitter::ParentChildUserId => parent_and_child(request, true),
        Emitter::BehindAppService => behind_app_service(request),
        Emitter::ViaApim => via_apim(request),
    }
}

/// The server's row without caller address or session, and the gateway's two rows of the same
/// request under the trace id written as a GUID.
fn via_apim(request: Value) -> Vec<(&'static str, Value)> {
    let mut request = request;
    let props = request.get_mut("Properties").and_then(Value::as_object_mut);
    let (client, session) = match props {
        Some(props) => {
            props.remove("client.port");
            props.insert("mcp.protocol.version".into(), json!("2026-07-28"));
            (
                props.remove("client.address"),
                props.remove("mcp.session.id"),
            )
        }
        None => (None, None),
    };
    let _ = session;
    let text = |key: &str| {
        request
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let (trace, span, time, name) = (
        text("OperationId"),
        text("Id"),
        text("TimeGenerated"),
        text("Name"),
    );
    let tool = name
        .strip_prefix("tools/call ")
        .unwrap_or(&name)
        .to_string();
    let resource = text("_ResourceId");
    let subscription = resource.split('/').nth(2).unwrap_or_default().to_string();
    let apim = format!(
        "/subscriptions/{subscription}/resourcegroups/rg-mcp-prod/providers/microsoft.apimanagement/service/apim-mcp-prod"
    );
    let correlation = if trace.len() == 32 {
        format!(
            "{}-{}-{}-{}-{}",
            &trace[0..8],
            &trace[8..12],
            &trace[12..16],
            &trace[16..20],
            &trace[20..32]
        )
    } else {
        trace.clone()
    };
    let duration = request
        .get("DurationMs")
        .and_then(Value::as_f64)
        .unwrap_or(0.0);
    let response_bytes: i64 = request
        .pointer("/Properties/response.bytes")
        .and_then(Value::as_str)
        .and_then(|b| b.parse().ok())
        .unwrap_or(0);
    let workspace = request.get("TenantId").cloned().unwrap_or(Value::Null);
    let gateway = json!({
        "TenantId": workspace, "TimeGenerated": time, "OperationName": "Microsoft.ApiManagement/GatewayLogs",
        "CorrelationId": correlation, "Region": "West Europe", "IsRequestSuccess": true, "Category": "GatewayLogs",
        "TotalTime": duration.round() as i64 + 12, "BackendTime": duration.round() as i64, "CallerIpAddress": client,
        "Method": "POST", "Url": "https://apim-mcp-prod.azure-api.net/crm/mcp", "ClientProtocol": "HTTP/1.1",
        "ResponseCode": 200, "BackendMethod": "POST", "BackendUrl": "http://10.0.1.4/mcp", "BackendResponseCode": 200,
        "BackendRequestHeaders": {"traceparent": format!("00-{trace}-{span}-01")},
        "RequestSize": 1_400, "ResponseSize": response_bytes + 420, "ApiId": "mcp-crm", "OperationId": "mcp-post",
        "ApimSubscriptionId": "crm-clients", "UserId": "", "ProductId": "mcp-crm",
        "Type": "ApiManagementGatewayLogs", "_ResourceId": apim,
    });
    let mcp = json!({
        "TenantId": workspace, "TimeGenerated": time, "OperationName": "tools/call", "CorrelationId": correlation,
        "SessionId": "", "Method": "tools/call", "ToolName": tool, "ClientName": "mcp-client", "ClientVersion": "1.0.0",
        "AuthenticationMethod": "oauth2", "ApiType": "mcp", "McpServerEndpoint": "http://10.0.1.4/mcp",
        "ServerName": "mcp-crm-server", "ServerVersion": "1.4.2", "ProtocolVersion": "2026-07-28", "TransportType": "streamable-http",
        "Region": "West Europe", "Type": "ApiManagementGatewayMCPLog", "_ResourceId": apim,
    });
    vec![
        ("ApiManagementGatewayLogs", gateway),
        ("ApiManagementGatewayMCPLog", mcp),
        ("AppRequests", request),
    ]
}

/// The request without its caller address, and App Service's log line of the same POST, written
/// when the response ended (its time plus its duration), as App Service writes it.
fn behind_app_service(request: Value) -> Vec<(&'static str, Value)> {
    let mut request = request;
    let client = request
        .get_mut("Properties")
        .and_then(Value::as_object_mut)
        .and_then(|props| {
            props.remove("client.port");
            props.remove("client.address")
        });
    let start = request
        .get("TimeGenerated")
        .and_then(Value::as_str)
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
    let duration_ms = request
        .get("DurationMs")
        .and_then(Value::as_f64)
        .unwrap_or(0.0);
    let mut rows = Vec::with_capacity(2);
    if let (Some(client), Some(start)) = (client, start) {
        let end = start.to_utc() + chrono::Duration::microseconds((duration_ms * 1000.0) as i64);
        rows.push((
            "AppServiceHTTPLogs",
            json!({"TimeGenerated": format!("{}.{:07}Z", end.format("%Y-%m-%dT%H:%M:%S"), end.timestamp_subsec_nanos() / 100), "CsMethod": "POST",
                "CsUriStem": "/mcp", "SPort": "443", "CIp": client, "UserAgent": "-", "CsHost": "mcp-crm.contoso.com",
                "ScStatus": 200, "ScSubStatus": "0", "ScWin32Status": "0", "TimeTaken": duration_ms.round() as i64,
                "Result": "Success", "Type": "AppServiceHTTPLogs",
                "_ResourceId": "/subscriptions/s/resourcegroups/rg-mcp-prod/providers/microsoft.web/sites/app-mcp-crm"}),
        ));
    }
    rows.insert(0, ("AppRequests", request));
    rows
}

/// Attributes that belong to the HTTP request, not to the MCP span.
const HTTP_ATTRIBUTES: [&str; 5] = [
    "client.address",
    "client.port",
    "user_agent.original",
    "network.transport",
    "network.protocol.name",
];

/// The HTTP parent and the MCP child span. The exporter drops `enduser.*` from the properties and
/// maps `enduser.id` to the parent's `UserAuthenticatedId`, or (`user_id_column`) to its `UserId`.
fn parent_and_child(request: Value, user_id_column: bool) -> Vec<(&'static str, Value)> {
    let Value::Object(mut parent) = request else {
        return Vec::new();
    };
    let props = match parent.remove("Properties") {
        Some(Value::Object(p)) => p,
        _ => Map::new(),
    };
    let (http, mcp): (Map<String, Value>, Map<String, Value>) = props
        .into_iter()
        .filter(|(k, _)| k != "enduser.id")
        .partition(|(k, _)| HTTP_ATTRIBUTES.contains(&k.as_str()));
    if user_id_column {
        let user = parent
            .insert("UserAuthenticatedId".into(), json!(""))
            .unwrap_or(Value::Null);
        parent.insert("UserId".into(), user);
    }
    let span = parent
        .get("Id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let name = parent.get("Name").cloned().unwrap_or(Value::Null);
    let mut child = Map::new();
    for key in [
        "TenantId",
        "TimeGenerated",
        "OperationId",
        "AppRoleName",
        "AppRoleInstance",
        "ItemCount",
        "SDKVersion",
        "DurationMs",
        "Success",
        "ResourceGUID",
        "IKey",
        "_ResourceId",
    ] {
        if let Some(v) = parent.get(key) {
            child.insert(key.into(), v.clone());
        }
    }
    child.insert("Id".into(), json!(span.chars().rev().collect::<String>()));
    child.insert("ParentId".into(), json!(span));
    child.insert("Name".into(), name.clone());
    child.insert("OperationName".into(), name);
    child.insert("DependencyType".into(), json!("InProc"));
    child.insert("Target".into(), json!(""));
    child.insert("Data".into(), json!(""));
    child.insert("ResultCode".into(), json!("0"));
    child.insert("ClientIP".into(), json!("0.0.0.0"));
    child.insert("UserAuthenticatedId".into(), json!(""));
    child.insert("Properties".into(), Value::Object(mcp));
    child.insert("Type".into(), json!("AppDependencies"));
    parent.insert("Name".into(), json!("POST /mcp"));
    parent.insert("OperationName".into(), json!("POST /mcp"));
    parent.insert("ResultCode".into(), json!("200"));
    parent.insert("Properties".into(), Value::Object(http));
    vec![
        ("AppRequests", Value::Object(parent)),
        ("AppDependencies", Value::Object(child)),
    ]
}
