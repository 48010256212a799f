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
    /// An HTTP `AppRequests` parent row (`POST /mcp`, with the client address and the user) and an
    /// MCP child span in `AppDependencies` (`InProc`) with the tool, session and arguments but no
    /// client address or user, as an instrumented web framework plus an MCP span give.
    ParentChild,
    /// One row without `mcp.session.id` (protocol 2026-07-28, the Python SDK).
    NoSession,
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
        Emitter::ParentChild => parent_and_child(request),
    }
}

/// Attributes that belong to the HTTP request, not to the MCP span.
const HTTP_ATTRIBUTES: [&str; 6] = [
    "client.address",
    "client.port",
    "enduser.id",
    "user_agent.original",
    "network.transport",
    "network.protocol.name",
];

fn parent_and_child(request: Value) -> Vec<(&'static str, Value)> {
    let Value::Object(mut parent) = request else {
        return Vec::new();
    };
    let props = match parent.remove("Properties") {
        Some(Value::Object(p)) => p,
        _ => Map::new(),
    };
    let (http, mcp): (Map<String, Value>, Map<String, Value>) = props
        .into_iter()
        .partition(|(k, _)| HTTP_ATTRIBUTES.contains(&k.as_str()));
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
