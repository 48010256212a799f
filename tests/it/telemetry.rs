//! `tool_calls` on telemetry as real MCP servers and gateways write it: a call through API
//! Management is one call, joined to the server's row; the caller comes from the HTTP parent row
//! when the MCP span has none.

use serde_json::json;

use crate::common::*;

fn line(value: serde_json::Value) -> String {
    format!("{value}\n")
}

/// A row of the gateway's MCP log (ApiManagementGatewayMCPLog) for a tools/call.
fn mcp_log(correlation: &str, session: &str, tool: &str, second: u32) -> String {
    line(
        json!({"TimeGenerated": format!("2026-10-01T02:06:{second:02}Z"), "CorrelationId": correlation,
        "SessionId": session, "Method": "tools/call", "ToolName": tool, "ServerName": "mcp-crm"}),
    )
}

/// The MCP server's own row of a tools/call (AppRequests), by `bob`, with its client address
/// when given.
fn server(
    operation: &str,
    session: &str,
    tool: &str,
    customer: &str,
    second: u32,
    client: Option<&str>,
) -> String {
    let mut properties = json!({"mcp.method.name": "tools/call", "gen_ai.tool.name": tool, "mcp.session.id": session,
        "enduser.id": "bob@contoso.com",
        "gen_ai.tool.call.arguments": json!({"customer_id": customer}).to_string()});
    if let Some(client) = client {
        properties["client.address"] = client.into();
    }
    line(
        json!({"TimeGenerated": format!("2026-10-01T02:06:{second:02}Z"), "Id": format!("span-{operation}"),
        "OperationId": operation, "Name": format!("tools/call {tool}"), "ClientIP": "0.0.0.0", "AppRoleName": "mcp-crm",
        "Properties": properties}),
    )
}

#[test]
fn a_call_through_api_management_is_one_call_with_both_sides() {
    let account = Account::new();
    let gateway = |correlation: &str, caller: &str, size: i64| {
        line(
            json!({"TimeGenerated": "2026-10-01T02:06:00Z", "CorrelationId": correlation, "CallerIpAddress": caller,
            "ResponseSize": size, "IsRequestSuccess": true, "ResponseCode": 200, "ApimSubscriptionId": "helpdesk"}),
        )
    };
    let server = |operation: &str, session: &str, tool: &str, customer: &str, second: u32| {
        server(operation, session, tool, customer, second, Some("10.0.3.4"))
    };
    // 1: joined by trace id (the gateway's correlation id is the server's operation id);
    // 2: no shared id, joined by MCP session id and tool; 3: a gateway call with no server row;
    // 4: a server call that did not pass the gateway.
    account.put(
        &la_blob("ApiManagementGatewayLogs", "PT05M.json"),
        (gateway("trace-1", "45.86.202.14", 9000)
            + &gateway("corr-2", "45.86.202.14", 7000)
            + &gateway("corr-3", "203.0.113.10", 100))
            .as_bytes(),
    );
    account.put(
        &la_blob("ApiManagementGatewayMCPLog", "PT05M.json"),
        (mcp_log("trace-1", "s-1", "get_customer", 1)
            + &mcp_log("corr-2", "s-2", "list_orders", 2)
            + &mcp_log("corr-3", "s-3", "get_ticket", 3))
            .as_bytes(),
    );
    account.put(
        &la_blob("AppRequests", "PT05M.json"),
        (server("trace-1", "s-1", "get_customer", "C-1", 1)
            + &server("other-2", "s-2", "list_orders", "C-2", 3)
            + &server("trace-4", "s-4", "get_customer", "C-4", 9))
            .as_bytes(),
    );
    let case = tempfile::tempdir().expect("case");
    ingest_dir(account.path(), case.path());
    let rows = query(
        case.path(),
        "SELECT origin, tool, client_address, client_address_source, arguments, response_bytes, joined_by, \"user\" FROM tool_calls ORDER BY time, tool",
    );
    let expected: Vec<Vec<&str>> = vec![
        vec![
            "APIM+AppRequests",
            "get_customer",
            "45.86.202.14",
            "API Management gateway log",
            "{\"customer_id\":\"C-1\"}",
            "9000",
            "trace id",
            "bob@contoso.com",
        ],
        vec![
            "APIM+AppRequests",
            "list_orders",
            "45.86.202.14",
            "API Management gateway log",
            "{\"customer_id\":\"C-2\"}",
            "7000",
            "session id and tool",
            "bob@contoso.com",
        ],
        vec![
            "APIM",
            "get_ticket",
            "203.0.113.10",
            "API Management gateway log",
            "",
            "100",
            "",
            "(anonymous)",
        ],
        vec![
            "AppRequests",
            "get_customer",
            "10.0.3.4",
            "mcp row",
            "{\"customer_id\":\"C-4\"}",
            "",
            "",
            "bob@contoso.com",
        ],
    ];
    assert_eq!(rows, expected);
}

#[test]
fn the_caller_of_an_mcp_child_span_comes_from_its_http_parent() {
    let account = Account::new();
    let parent = json!({"TimeGenerated": "2026-10-01T02:06:00Z", "Id": "p1", "OperationId": "op1", "Name": "POST /mcp",
        "ClientIP": "0.0.0.0", "UserAuthenticatedId": "dana@contoso.com", "Properties": {"client.address": "81.2.69.142"}});
    let child = json!({"TimeGenerated": "2026-10-01T02:06:00.01Z", "Id": "c1", "ParentId": "p1", "OperationId": "op1",
        "Name": "tools/call get_invoice", "DependencyType": "InProc", "Properties": {"mcp.method.name": "tools/call",
        "gen_ai.tool.call.arguments": "{\"account_id\":\"C-7\"}"}});
    account.put(
        &la_blob("AppRequests", "PT05M.json"),
        line(parent).as_bytes(),
    );
    account.put(
        &la_blob("AppDependencies", "PT05M.json"),
        line(child).as_bytes(),
    );
    let case = tempfile::tempdir().expect("case");
    ingest_dir(account.path(), case.path());
    let rows = query(
        case.path(),
        "SELECT origin, tool, client_address, client_address_source, user_source, \"user\", session_id FROM tool_calls",
    );
    assert_eq!(
        rows,
        vec![vec![
            "AppDependencies",
            "get_invoice",
            "81.2.69.142",
            "http parent row",
            "http parent row",
            "dana@contoso.com",
            ""
        ]]
    );
}

/// A server that records no caller address behind Application Gateway and App Service: the
/// caller is read from the outermost access log that saw one POST in the call's time span, and
/// only when that log names exactly one address then.
/// Three tool calls (02:06, 02:07, 02:08) whose own row names no caller address.
fn put_calls_without_address(account: &Account) {
    let call = |operation: &str, minute: u32, customer: &str| {
        line(
            json!({"TimeGenerated": format!("2026-10-01T02:{minute:02}:00Z"), "Id": format!("span-{operation}"),
            "OperationId": operation, "Name": "tools/call get_customer", "ClientIP": "0.0.0.0", "DurationMs": 500.0,
            "AppRoleName": "mcp-crm", "Properties": {"mcp.method.name": "tools/call", "gen_ai.tool.name": "get_customer",
                "gen_ai.tool.call.arguments": json!({"customer_id": customer}).to_string()}}),
        )
    };
    account.put(
        &la_blob("AppRequests", "PT05M.json"),
        (call("op-1", 6, "C-1") + &call("op-2", 7, "C-2") + &call("op-3", 8, "C-3")).as_bytes(),
    );
}

/// The account ingested without a rejected record, and each call's arguments, caller address and
/// where the address came from, by time.
fn callers(account: &Account) -> (tempfile::TempDir, Vec<Vec<String>>) {
    let case = tempfile::tempdir().expect("case");
    let summary = ingest_dir(account.path(), case.path());
    assert_eq!(summary.rejected, 0);
    let rows = query(
        case.path(),
        "SELECT arguments, client_address, client_address_source FROM tool_calls ORDER BY time",
    );
    (case, rows)
}

#[test]
fn a_call_without_an_address_takes_it_from_the_access_log_in_front() {
    let account = Account::new();
    put_calls_without_address(&account);
    // Application Gateway through diagnostic settings (v2: `timeStamp`, `clientIP`).
    let gateway = |at: &str, method: &str, client: &str| {
        line(
            json!({"timeStamp": format!("2026-10-01T02:{at}+00:00"), "resourceId": "/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/APPLICATIONGATEWAYS/AGW",
            "operationName": "ApplicationGatewayAccess", "category": "ApplicationGatewayAccessLog",
            "properties": {"instanceId": "appgw_0", "clientIP": client, "httpMethod": method, "requestUri": "/mcp", "httpStatus": 200}}),
        )
    };
    account.put(
        "insights-logs-applicationgatewayaccesslog/resourceId=/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/APPLICATIONGATEWAYS/AGW/y=2026/m=10/d=01/h=02/m=00/PT1H.json",
        (gateway("06:00.300", "POST", "45.86.202.14")
            + &gateway("06:00.200", "GET", "9.9.9.9")
            + &gateway("06:01.000", "POST", "127.0.0.1")
            + &gateway("07:00.100", "POST", "198.51.100.7")
            + &gateway("07:00.200", "POST", "198.51.100.8"))
            .as_bytes(),
    );
    // App Service as the Log Analytics export writes it: it sees the gateway for the first call
    // and the caller itself for the third, which did not pass the gateway.
    let app_service = |at: &str, client: &str| {
        line(
            json!({"TimeGenerated": format!("2026-10-01T02:{at}Z"), "CsMethod": "POST", "CsUriStem": "/mcp",
            "CIp": client, "ScStatus": 200, "Type": "AppServiceHTTPLogs"}),
        )
    };
    account.put(
        &la_blob("AppServiceHTTPLogs", "PT05M.json"),
        (app_service("06:00.400", "10.0.0.5") + &app_service("08:00.300", "81.2.69.142"))
            .as_bytes(),
    );
    let (_case, rows) = callers(&account);
    assert_eq!(
        rows,
        vec![
            vec![
                "{\"customer_id\":\"C-1\"}",
                "45.86.202.14",
                "Application Gateway access log (time)"
            ],
            vec![
                "{\"customer_id\":\"C-2\"}",
                "",
                "Application Gateway access log: 2 addresses in the call's time span, none taken"
            ],
            vec![
                "{\"customer_id\":\"C-3\"}",
                "81.2.69.142",
                "App Service HTTP log (time)"
            ],
        ]
    );
}

/// Access logs in Azure diagnostics mode (Front Door always: it has no resource-specific table;
/// Application Gateway when its setting says so): calls take their caller from them as from the
/// typed tables.
#[test]
fn access_logs_in_azure_diagnostics_give_calls_their_caller() {
    let account = Account::new();
    put_calls_without_address(&account);
    let record = |at: &str, category: &str, fields: serde_json::Value| {
        let mut row = json!({"TimeGenerated": format!("2026-10-01T02:{at}Z"), "Category": category, "Type": "AzureDiagnostics"});
        for (key, value) in fields.as_object().expect("fields") {
            row[key] = value.clone();
        }
        line(row)
    };
    account.put(
        &la_blob("AzureDiagnostics", "PT05M.json"),
        // Front Door Standard (clientIp_s) for the first call, classic Front Door (clientIP_s)
        // for the third; Application Gateway for the second, its GET and its own probe left out.
        (record("06:00.300", "FrontDoorAccessLog", json!({"clientIp_s": "45.86.202.14", "httpMethod_s": "POST", "requestUri_s": "https://mcp.contoso.com/mcp", "httpStatusCode_s": "200"}))
            + &record("07:00.100", "ApplicationGatewayAccessLog", json!({"clientIP_s": "198.51.100.7", "httpMethod_s": "POST", "requestUri_s": "/mcp", "httpStatus_d": 200}))
            + &record("07:00.200", "ApplicationGatewayAccessLog", json!({"clientIP_s": "9.9.9.9", "httpMethod_s": "GET", "requestUri_s": "/", "httpStatus_d": 200}))
            + &record("07:00.300", "ApplicationGatewayAccessLog", json!({"clientIP_s": "127.0.0.1", "httpMethod_s": "POST", "requestUri_s": "/mcp", "httpStatus_d": 200}))
            + &record("08:00.300", "FrontDoorAccessLog", json!({"clientIP_s": "81.2.69.142", "httpMethod_s": "POST", "requestUri_s": "https://mcp.contoso.com/mcp", "httpStatusCode_d": 200}))
            // Another resource's record: no access log.
            + &record("06:00.400", "AuditEvent", json!({"CallerIPAddress": "10.9.9.9", "OperationName": "SecretGet"})))
            .as_bytes(),
    );
    let (case, rows) = callers(&account);
    assert_eq!(
        rows,
        vec![
            vec![
                "{\"customer_id\":\"C-1\"}",
                "45.86.202.14",
                "Front Door access log (time)"
            ],
            vec![
                "{\"customer_id\":\"C-2\"}",
                "198.51.100.7",
                "Application Gateway access log (time)"
            ],
            vec![
                "{\"customer_id\":\"C-3\"}",
                "81.2.69.142",
                "Front Door access log (time)"
            ],
        ]
    );
    assert_eq!(
        query(
            case.path(),
            "SELECT \"HttpStatus\" FROM \"AGWAccessLogs\" ORDER BY \"TimeGenerated\" LIMIT 1"
        ),
        vec![vec!["200"]]
    );
}

/// Sampled telemetry (ItemCount above 1): the report estimates the attacker calls it cannot see,
/// per identity and tool, and says the customers are a lower bound.
#[test]
fn sampled_attacker_calls_are_estimated() {
    let account = Account::new();
    let call = |minute: u32, customer: &str| {
        line(
            json!({"TimeGenerated": format!("2026-10-01T02:{minute:02}:00Z"), "Id": format!("s{minute}"),
            "OperationId": format!("op{minute}"), "Name": "tools/call get_customer", "ClientIP": "0.0.0.0", "ItemCount": 4,
            "Properties": {"mcp.method.name": "tools/call", "client.address": "45.86.202.14", "enduser.id": "eve@contoso.com",
                "gen_ai.tool.call.arguments": json!({"customer_id": customer}).to_string()}}),
        )
    };
    account.put(
        &la_blob("AppRequests", "PT05M.json"),
        (call(5, "C-1") + &call(6, "C-2") + &call(7, "C-3")).as_bytes(),
    );
    let case = tempfile::tempdir().expect("case");
    ingest_dir(account.path(), case.path());
    let since = mcpforensics::time::parse_timestamp("2026-10-01T00:00:00Z").expect("since");
    let request = mcpforensics::scope::ScopeRequest {
        params: mcpforensics::query::pack::PackParams {
            since,
            until: since + chrono::Duration::days(1),
            baseline_start: since - chrono::Duration::days(14),
        },
        iocs: vec![mcpforensics::scope::Ioc {
            kind: "ip".into(),
            value: "45.86.202.14".into(),
        }],
        all_days: false,
        method: "given".into(),
        settings: Default::default(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let case = mcpforensics::case::Case::open(case.path()).expect("case");
    let report = runtime
        .block_on(mcpforensics::scope::scope(&case, &request))
        .expect("scope");
    assert_eq!(report.attacker_calls.len(), 3);
    let sampled = &report.coverage.sampled_attacker_calls;
    assert_eq!(sampled.len(), 1);
    assert_eq!(
        (
            sampled[0].user.as_str(),
            sampled[0].tool.as_str(),
            sampled[0].rows,
            sampled[0].estimated_calls,
            sampled[0].unseen_calls
        ),
        ("eve@contoso.com", "get_customer", 3, 12, 9)
    );
    assert!(
        report.coverage.statements.iter().any(|s| s
            .contains("about 9 attacker calls are not in the evidence")
            && s.contains("lower bound")),
        "{:?}",
        report.coverage.statements
    );
}

/// Model calls as the Azure Monitor exporters file GenAI client spans: a dependency typed by its
/// gen_ai.system with the gen_ai.* attributes in Properties (text, or numbers), or the newer
/// gen_ai.provider.name; an MCP tool span's own gen_ai.* and a plain HTTP call are not model calls.
#[test]
fn model_calls_are_read_from_genai_dependencies_and_nothing_else() {
    let account = Account::new();
    let dependency = |id: &str, kind: &str, name: &str, properties: serde_json::Value| {
        line(
            json!({"TimeGenerated": "2026-10-01T02:06:00Z", "Id": id, "OperationId": format!("trace-{id}"),
            "DependencyType": kind, "Name": name, "Target": "crm-ai.openai.azure.com", "AppRoleName": "crm-triage-agent",
            "Success": true, "Properties": properties, "Type": "AppDependencies"}),
        )
    };
    account.put(
        &la_blob("AppDependencies", "PT05M.json"),
        (dependency("a", "az.ai.inference", "chat gpt-4o", json!({"gen_ai.operation.name": "chat", "gen_ai.system": "az.ai.inference",
            "gen_ai.request.model": "gpt-4o", "gen_ai.usage.input_tokens": "1200", "gen_ai.usage.output_tokens": "80"}))
            + &dependency("b", "openai", "embeddings", json!({"gen_ai.operation.name": "embeddings", "gen_ai.provider.name": "openai",
                "gen_ai.usage.input_tokens": 64}))
            + &dependency("c", "InProc", "tools/call get_customer", json!({"mcp.method.name": "tools/call",
                "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "get_customer"}))
            + &dependency("d", "HTTP", "POST /v1/sync", json!({})))
            .as_bytes(),
    );
    let case = tempfile::tempdir().expect("case");
    ingest_dir(account.path(), case.path());
    let rows = query(
        case.path(),
        "SELECT span_id, system, operation, model, input_tokens, output_tokens, operation_id FROM llm_calls ORDER BY span_id",
    );
    assert_eq!(
        rows,
        vec![
            vec![
                "a",
                "az.ai.inference",
                "chat",
                "gpt-4o",
                "1200",
                "80",
                "trace-a"
            ],
            vec!["b", "openai", "embeddings", "", "64", "", "trace-b"],
        ]
    );
}

/// API Management in Azure diagnostics mode: its GatewayLogs and GatewayMCPLogs records arrive in
/// `AzureDiagnostics` (camelCase columns suffixed `_s`, `_d`, `_b`, among other resources'
/// records) and calls through the gateway are joined exactly as with the resource-specific
/// tables.
#[test]
fn gateway_logs_in_azure_diagnostics_join_like_the_resource_specific_table() {
    let gateway_calls = [
        ("trace-1", "45.86.202.14", 9000, true),
        ("corr-3", "203.0.113.10", 100, false),
    ];
    let write = |account: &Account| {
        account.put(
            &la_blob("AppRequests", "PT05M.json"),
            server("trace-1", "s-1", "get_customer", "C-1", 1, None).as_bytes(),
        );
    };
    let resource_specific = Account::new();
    write(&resource_specific);
    resource_specific.put(
        &la_blob("ApiManagementGatewayMCPLog", "PT05M.json"),
        (mcp_log("trace-1", "s-1", "get_customer", 1) + &mcp_log("corr-3", "s-3", "get_ticket", 3))
            .as_bytes(),
    );
    resource_specific.put(
        &la_blob("ApiManagementGatewayLogs", "PT05M.json"),
        gateway_calls
            .iter()
            .map(|(correlation, caller, size, ok)| {
                line(json!({"TimeGenerated": "2026-10-01T02:06:00Z", "CorrelationId": correlation,
                    "CallerIpAddress": caller, "ResponseSize": size, "IsRequestSuccess": ok, "ResponseCode": 200,
                    "ApimSubscriptionId": "helpdesk", "Method": "POST", "Url": "https://apim.contoso.com/mcp"}))
            })
            .collect::<String>()
            .as_bytes(),
    );
    let diagnostics = Account::new();
    write(&diagnostics);
    diagnostics.put(
        &la_blob("AzureDiagnostics", "PT05M.json"),
        (gateway_calls
            .iter()
            .map(|(correlation, caller, size, ok)| {
                line(json!({"TimeGenerated": "2026-10-01T02:06:00Z", "Category": "GatewayLogs",
                    "ResourceProvider": "MICROSOFT.APIMANAGEMENT", "OperationName": "Microsoft.ApiManagement/GatewayLogs",
                    "CorrelationId": correlation, "CallerIPAddress": caller, "DurationMs": 120, "responseSize_d": size,
                    "isRequestSuccess_b": ok, "responseCode_d": 200, "apimSubscriptionId_s": "helpdesk",
                    "method_s": "POST", "url_s": "https://apim.contoso.com/mcp", "Type": "AzureDiagnostics"}))
            })
            .collect::<String>()
            // The MCP log in the same mode: its members named by the mode's rule.
            + &[("trace-1", "s-1", "get_customer", 1), ("corr-3", "s-3", "get_ticket", 3)]
                .iter()
                .map(|(correlation, session, tool, second)| {
                    line(json!({"TimeGenerated": format!("2026-10-01T02:06:{second:02}Z"),
                        "Category": "GatewayMCPLogs", "ResourceProvider": "MICROSOFT.APIMANAGEMENT",
                        "CorrelationId": correlation, "sessionId_s": session, "method_s": "tools/call",
                        "toolName_s": tool, "serverName_s": "mcp-crm", "Type": "AzureDiagnostics"}))
                })
                .collect::<String>()
            // Another resource's record in the same table is not a gateway call.
            + &line(json!({"TimeGenerated": "2026-10-01T02:06:30Z", "Category": "AuditEvent",
                "ResourceProvider": "MICROSOFT.KEYVAULT", "OperationName": "SecretGet", "CorrelationId": "trace-1",
                "CallerIPAddress": "10.9.9.9", "Type": "AzureDiagnostics"})))
        .as_bytes(),
    );
    let calls = "SELECT origin, tool, client_address, client_address_source, arguments, response_bytes, joined_by, \"user\", apim_subscription_id FROM tool_calls ORDER BY time, tool";
    let gateway = "SELECT \"CorrelationId\", \"CallerIpAddress\", \"ResponseSize\", \"IsRequestSuccess\", \"ResponseCode\", \"Method\", \"Url\" FROM \"ApiManagementGatewayLogs\" ORDER BY \"CorrelationId\"";
    let mcp = "SELECT \"CorrelationId\", \"SessionId\", \"Method\", \"ToolName\", \"ServerName\" FROM \"ApiManagementGatewayMCPLog\" ORDER BY \"CorrelationId\"";
    let mut answers = Vec::new();
    for account in [&resource_specific, &diagnostics] {
        let case = tempfile::tempdir().expect("case");
        ingest_dir(account.path(), case.path());
        answers.push((
            query(case.path(), calls),
            query(case.path(), gateway),
            query(case.path(), mcp),
        ));
    }
    assert_eq!(answers[0], answers[1]);
    let (calls, gateway, mcp) = &answers[1];
    assert_eq!(mcp.len(), 2, "{mcp:?}");
    assert_eq!(
        gateway.len(),
        2,
        "the Key Vault record is no gateway call: {gateway:?}"
    );
    assert_eq!(calls[0][2], "45.86.202.14");
    assert_eq!(calls[0][5], "9000");
    assert_eq!(calls[0][6], "trace id");
}
