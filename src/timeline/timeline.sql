-- The merged timeline: one row per event of every source, for the days {from_day}..{to_day}
-- (partition pruning) and the times [{from}, {to}). Columns: time, kind, user, ip (the caller or
-- source address), peer (the destination), session, tool, summary, customers, severity
-- (0 info, 1 warning, 2 error), source_table, blob, line, operation (the App Insights operation
-- id: a tool call, its dependencies and its traces share it). Kind `ask`: a request the MCP server
-- sent its client (sampling/createMessage, elicitation/create, roots/list), however recorded: the
-- server's own span (AppDependencies), the client's (AppRequests), or the gateway's MCP log.
SELECT time, kind, "user", ip, peer, session, tool, summary, customers, severity, source_table, blob, line, operation
FROM (
    -- Every sign-in table the catalogue gives the identity-source role, through its view.
    SELECT time, 'signin' AS kind, coalesce(nullif(upn, ''), user_id) AS "user",
           ip, CAST(NULL AS VARCHAR) AS peer, session, CAST(NULL AS VARCHAR) AS tool,
           concat(CASE WHEN interactive THEN 'sign-in to ' WHEN kind = 'person' THEN 'token for ' ELSE concat(kind, ' token for ') END,
                  coalesce(app_name, '?'),
                  CASE WHEN result = '0' THEN (CASE WHEN interactive THEN ' succeeded' WHEN kind = 'person' THEN ' (non-interactive)' ELSE '' END)
                       ELSE concat(' FAILED ', coalesce(result, '?'),
                                   CASE WHEN interactive THEN concat(' ', coalesce(result_description, '')) WHEN kind = 'person' THEN ' (non-interactive)' ELSE concat(' ', coalesce(result_description, '')) END) END,
                  ' from ', coalesce(ip, '?'), ' ', coalesce(country, ''),
                  CASE WHEN interactive THEN concat(' ', coalesce(user_agent, '')) ELSE '' END) AS summary,
           CAST(NULL AS VARCHAR) AS customers,
           CASE WHEN result = '0' THEN 0 ELSE 1 END AS severity,
           table_name AS source_table, _blob AS blob, _line AS line, CAST(NULL AS VARCHAR) AS operation
    FROM identity_sign_ins WHERE date >= '{from_day}' AND date <= '{to_day}'
    UNION ALL
    SELECT "TimeGenerated", 'audit', coalesce(initiated_by_upn, initiated_by_app, initiated_by_user_id),
           initiated_by_ip, NULL, NULL, NULL,
           concat(coalesce("OperationName", '?'), ': ', coalesce("Result", '?'), ' ', coalesce("ResultReason", '')),
           NULL,
           CASE WHEN lower(coalesce("Result", '')) IN ('success', '') THEN 0 ELSE 1 END,
           'AuditLogs', _blob, _line, CAST(NULL AS VARCHAR)
    FROM "AuditLogs" WHERE date >= '{from_day}' AND date <= '{to_day}'
    UNION ALL
    SELECT time, 'tool', "user", client_address, server, session_id, tool,
           concat(coalesce(tool, '?'), ' ', coalesce(arguments, ''), CASE WHEN success = false THEN concat(' → FAILED ', coalesce(result_code, '')) ELSE '' END),
           array_to_string(array_distinct(array_concat(customer_ids(coalesce(arguments, '{}')), customer_ids(coalesce(result, '{}')))), ','),
           CASE WHEN success = false THEN 2 ELSE 0 END,
           CASE WHEN origin LIKE 'APIM%' THEN 'ApiManagementGatewayMCPLog' WHEN origin = 'AppDependencies' THEN 'AppDependencies' ELSE 'AppRequests' END, _blob, _line, operation_id
    FROM tool_calls WHERE date >= '{from_day}' AND date <= '{to_day}'
    UNION ALL
    SELECT "TimeGenerated", CASE WHEN mcp_method IN ('sampling/createMessage', 'elicitation/create', 'roots/list') THEN 'ask' ELSE 'request' END,
           enduser_id, coalesce(client_address, "ClientIP"), "AppRoleName", session_id, tool_name,
           concat(coalesce(mcp_method, "Name", '?'), ' → ', coalesce("ResultCode", '?')),
           NULL,
           CASE WHEN "Success" = false THEN 2 ELSE 0 END,
           'AppRequests', _blob, _line, "OperationId"
    FROM "AppRequests" WHERE (mcp_method IS NULL OR mcp_method <> 'tools/call') AND date >= '{from_day}' AND date <= '{to_day}'
    UNION ALL
    SELECT "TimeGenerated", CASE WHEN mcp_method IN ('sampling/createMessage', 'elicitation/create', 'roots/list') THEN 'ask' ELSE 'dependency' END,
           enduser_id, "AppRoleName", coalesce(peer_address, "Target"), session_id, tool_name,
           concat(CASE mcp_method
                       WHEN 'sampling/createMessage' THEN 'the server asked the client''s model to generate: '
                       WHEN 'elicitation/create' THEN 'the server asked the user for input: '
                       WHEN 'roots/list' THEN 'the server asked for the client''s roots: '
                       ELSE '' END,
                  coalesce("DependencyType", '?'), ' ', coalesce("Target", '?'), ' ', coalesce("Name", ''), ' → ', coalesce("ResultCode", '?'),
                  CASE WHEN response_bytes IS NULL THEN '' ELSE concat(' (', CAST(response_bytes AS VARCHAR), ' B)') END,
                  -- A model call (a GenAI span, as llm_calls reads it): the model and its tokens.
                  CASE WHEN "Properties" LIKE '%gen_ai.request.model%' AND mcp_method IS NULL
                       THEN concat(' model ', coalesce(json_as_text("Properties", 'gen_ai.request.model'), '?'), ' ',
                                   coalesce(json_as_text("Properties", 'gen_ai.usage.input_tokens'), '?'), '→',
                                   coalesce(json_as_text("Properties", 'gen_ai.usage.output_tokens'), '?'), ' tokens')
                       ELSE '' END),
           NULL,
           CASE WHEN "Success" = false THEN 2 ELSE 0 END,
           'AppDependencies', _blob, _line, "OperationId"
    FROM "AppDependencies" WHERE date >= '{from_day}' AND date <= '{to_day}'
    UNION ALL
    SELECT "TimeGenerated", 'gateway', nullif("UserId", ''), "CallerIpAddress", target_host("BackendUrl"), NULL, NULL,
           concat(coalesce("Method", '?'), ' ', coalesce("Url", '?'), ' → ', coalesce(CAST("ResponseCode" AS VARCHAR), '?'),
                  CASE WHEN "ApimSubscriptionId" IS NULL OR "ApimSubscriptionId" = '' THEN '' ELSE concat(' (subscription ', "ApimSubscriptionId", ')') END,
                  CASE WHEN "LastErrorReason" IS NULL OR "LastErrorReason" = '' THEN '' ELSE concat(' ', "LastErrorReason") END),
           NULL,
           CASE WHEN "IsRequestSuccess" = false OR "ResponseCode" >= 500 THEN 2 WHEN "ResponseCode" >= 400 THEN 1 ELSE 0 END,
           'ApiManagementGatewayLogs', _blob, _line,
           trace_id(coalesce(json_get_str("BackendRequestHeaders", 'traceparent'), json_get_str("BackendRequestHeaders", 'Traceparent'), "CorrelationId"))
    FROM "ApiManagementGatewayLogs" WHERE (mcp_method IS NULL OR mcp_method <> 'tools/call') AND date >= '{from_day}' AND date <= '{to_day}'
    UNION ALL
    SELECT "TimeGenerated", CASE WHEN "Method" IN ('sampling/createMessage', 'elicitation/create', 'roots/list') THEN 'ask' ELSE 'gateway' END,
           NULL, NULL, "ServerName", "SessionId", "ToolName",
           concat('MCP ', coalesce("Method", '?'),
                  CASE WHEN "ToolCount" IS NULL THEN '' ELSE concat(' (', CAST("ToolCount" AS VARCHAR), ' tools)') END,
                  ' from ', coalesce("ClientName", '?'), ' ', coalesce("ClientVersion", ''),
                  ' auth ', coalesce("AuthenticationMethod", '?'),
                  CASE WHEN "Error" IS NULL OR "Error" = '' THEN '' ELSE concat(' → ', "Error") END),
           NULL,
           CASE WHEN "Error" IS NULL OR "Error" = '' THEN 0 ELSE 2 END,
           'ApiManagementGatewayMCPLog', _blob, _line, trace_id("CorrelationId")
    FROM "ApiManagementGatewayMCPLog" WHERE ("Method" IS NULL OR "Method" <> 'tools/call') AND date >= '{from_day}' AND date <= '{to_day}'
    UNION ALL
    SELECT "TimeGenerated", 'trace', enduser_id, client_address, NULL, session_id, tool_name,
           coalesce("Message", ''),
           NULL,
           CASE WHEN "SeverityLevel" >= 3 THEN 2 WHEN "SeverityLevel" = 2 THEN 1 ELSE 0 END,
           'AppTraces', _blob, _line, "OperationId"
    FROM "AppTraces" WHERE date >= '{from_day}' AND date <= '{to_day}'
    UNION ALL
    SELECT "TimeGenerated", 'exception', enduser_id, client_address, NULL, session_id, tool_name,
           concat(coalesce("ExceptionType", '?'), ': ', coalesce("OuterMessage", "Message", '')),
           NULL, 2,
           'AppExceptions', _blob, _line, "OperationId"
    FROM "AppExceptions" WHERE date >= '{from_day}' AND date <= '{to_day}'
    UNION ALL
    SELECT "TimeGenerated", 'event', enduser_id, client_address, NULL, session_id, tool_name,
           coalesce("Name", '?'),
           NULL, 0,
           'AppEvents', _blob, _line, "OperationId"
    FROM "AppEvents" WHERE date >= '{from_day}' AND date <= '{to_day}'
    UNION ALL
    SELECT time, 'flow', NULL, src_ip, dst_ip, NULL, NULL,
           concat(coalesce(src_ip, '?'), ':', coalesce(CAST(src_port AS VARCHAR), '?'), ' → ', coalesce(dst_ip, '?'), ':', coalesce(CAST(dst_port AS VARCHAR), '?'),
                  ' ', coalesce(protocol, ''), ' ', coalesce(direction, ''), ' ', coalesce(decision, ''),
                  CASE WHEN bytes_src_to_dst IS NULL THEN '' ELSE concat(' ', CAST(bytes_src_to_dst AS VARCHAR), ' B out, ', CAST(coalesce(bytes_dst_to_src, 0) AS VARCHAR), ' B in') END),
           NULL,
           CASE WHEN decision = 'D' THEN 1 ELSE 0 END,
           'flows', _blob, _line, CAST(NULL AS VARCHAR)
    FROM flows WHERE date >= '{from_day}' AND date <= '{to_day}'
)
WHERE time >= {from} AND time < {to}
ORDER BY time, source_table, blob, line
