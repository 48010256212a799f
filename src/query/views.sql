-- Views every case has, over its tables. Each statement ends with a semicolon on its own line end.

-- identities: one row per Entra object id seen signing in, with its UPN and display name at its
-- latest sign-in. It merges `identity_index` (one row per identity per ingest run, written at
-- ingest from every sign-in, whatever days a session reads), ordering as the index does: the
-- latest time, then the greater name.
CREATE VIEW identities AS
SELECT user_id,
       last_value(user_principal_name ORDER BY last_sign_in NULLS FIRST, user_principal_name NULLS FIRST, display_name NULLS FIRST) AS user_principal_name,
       last_value(display_name ORDER BY last_sign_in NULLS FIRST, user_principal_name NULLS FIRST, display_name NULLS FIRST) AS display_name,
       min(first_sign_in) AS first_sign_in,
       max(last_sign_in) AS last_sign_in,
       sum(sign_ins) AS sign_ins
FROM identity_index
GROUP BY user_id;

-- tool_calls: one row per MCP tools/call, however the server emits it:
-- * the MCP span on its own row (AppRequests), or as a child of the HTTP request (an INTERNAL or
--   CLIENT span lands in AppDependencies; it is used only when no AppRequests row of the same
--   operation is the call);
-- * the caller's address and identity from the MCP row, else from the HTTP parent row of the same
--   operation (client_address_source / user_source say which);
-- * a call through API Management is one call: the gateway's MCP log row (ApiManagementGatewayMCPLog
--   with ApiManagementGatewayLogs on CorrelationId: caller address, response size) joined to the
--   server's row (arguments, result) by trace id (CorrelationId = OperationId), else by MCP session
--   id and tool within a minute; joined_by says how. A gateway row without a server row, and a
--   server row without a gateway row, stay calls of their own.
-- The caller is resolved against Entra sign-ins by object id or UPN.
CREATE VIEW tool_calls AS
WITH mcp_rows AS (
    SELECT r."TimeGenerated" AS time, 'AppRequests' AS origin, r.tool_name AS tool, r.mcp_method AS method, r.session_id,
           r.jsonrpc_request_id, r.tool_arguments AS arguments, r.tool_result AS result, r.enduser_id, r.client_address,
           r."Success" AS success, r."ResultCode" AS result_code, r."DurationMs" AS duration_ms, r.response_bytes,
           coalesce(r."ItemCount", 1) AS item_count, r."OperationId" AS operation_id, r."Id" AS span_id,
           r."ParentId" AS parent_id, r."AppRoleName" AS server, r."UserId" AS sdk_user_id, r._blob, r._line, r.date
    FROM "AppRequests" r
    WHERE r.mcp_method = 'tools/call'
),
request_operations AS (SELECT DISTINCT operation_id FROM mcp_rows WHERE operation_id IS NOT NULL),
child_rows AS (
    SELECT d."TimeGenerated" AS time, 'AppDependencies' AS origin, d.tool_name AS tool, d.mcp_method AS method, d.session_id,
           d.jsonrpc_request_id, d.tool_arguments AS arguments, d.tool_result AS result, d.enduser_id, d.client_address,
           d."Success" AS success, d."ResultCode" AS result_code, d."DurationMs" AS duration_ms, d.response_bytes,
           coalesce(d."ItemCount", 1) AS item_count, d."OperationId" AS operation_id, d."Id" AS span_id,
           d."ParentId" AS parent_id, d."AppRoleName" AS server, d."UserId" AS sdk_user_id, d._blob, d._line, d.date
    FROM "AppDependencies" d
    LEFT JOIN request_operations o ON d."OperationId" = o.operation_id
    WHERE d.mcp_method = 'tools/call' AND o.operation_id IS NULL
),
server_rows AS (SELECT * FROM mcp_rows UNION ALL SELECT * FROM child_rows),
-- The HTTP request rows that carry the call's caller when the MCP row does not.
http_parents AS (
    SELECT "OperationId" AS operation_id, max(client_address) AS client_address, max(enduser_id) AS enduser_id,
           max(response_bytes) AS response_bytes
    FROM "AppRequests"
    WHERE (mcp_method IS NULL OR mcp_method <> 'tools/call') AND (client_address IS NOT NULL OR enduser_id IS NOT NULL)
    GROUP BY "OperationId"
),
server_calls AS (
    SELECT s.time, s.origin, s.tool, s.method, s.session_id, s.jsonrpc_request_id, s.arguments, s.result,
           coalesce(s.enduser_id, p.enduser_id) AS enduser_id,
           coalesce(s.client_address, p.client_address) AS client_address,
           s.success, s.result_code, s.duration_ms, coalesce(s.response_bytes, p.response_bytes) AS response_bytes,
           s.item_count, s.operation_id, s.span_id, s.server, CAST(NULL AS VARCHAR) AS apim_subscription_id,
           s._blob, s._line, s.date,
           CASE WHEN s.client_address IS NOT NULL THEN 'mcp row'
                WHEN p.client_address IS NOT NULL THEN 'http parent row' END AS client_address_source,
           CASE WHEN s.enduser_id IS NOT NULL THEN 'mcp row'
                WHEN p.enduser_id IS NOT NULL THEN 'http parent row' END AS user_source,
           s.sdk_user_id
    FROM server_rows s
    LEFT JOIN http_parents p ON s.operation_id = p.operation_id
),
gateway_calls AS (
    SELECT m."TimeGenerated" AS time, m."ToolName" AS tool, m."Method" AS method, m."SessionId" AS session_id,
           g.jsonrpc_request_id, g.tool_arguments AS arguments, g.tool_result AS result, g."CallerIpAddress" AS client_address,
           g."IsRequestSuccess" AS success, CAST(g."ResponseCode" AS VARCHAR) AS result_code, CAST(g."TotalTime" AS DOUBLE) AS duration_ms,
           g."ResponseSize" AS response_bytes, m."CorrelationId" AS correlation_id, m."ServerName" AS server,
           g."ApimSubscriptionId" AS apim_subscription_id, m._blob, m._line, m.date
    FROM "ApiManagementGatewayMCPLog" m
    LEFT JOIN "ApiManagementGatewayLogs" g ON m."CorrelationId" = g."CorrelationId"
    WHERE m."Method" = 'tools/call'
),
by_trace AS (
    SELECT g._blob AS g_blob, g._line AS g_line, s._blob AS s_blob, s._line AS s_line, 'trace id' AS joined_by
    FROM gateway_calls g JOIN server_calls s ON g.correlation_id = s.operation_id
),
by_session AS (
    SELECT g._blob AS g_blob, g._line AS g_line, s._blob AS s_blob, s._line AS s_line, 'session id and tool' AS joined_by
    FROM gateway_calls g
    JOIN server_calls s ON g.session_id = s.session_id AND g.tool = s.tool
    LEFT JOIN by_trace t ON g._blob = t.g_blob AND g._line = t.g_line
    WHERE t.g_blob IS NULL AND s.time >= g.time - INTERVAL '1 minute' AND s.time <= g.time + INTERVAL '1 minute'
),
-- One server row per gateway row (the nearest by evidence position when several qualify).
joined AS (
    SELECT g_blob, g_line, min(s_blob || '
' || lpad(CAST(s_line AS VARCHAR), 12, '0')) AS s_key, min(joined_by) AS joined_by
    FROM (SELECT * FROM by_trace UNION ALL SELECT * FROM by_session)
    GROUP BY g_blob, g_line
),
joined_server_rows AS (
    SELECT DISTINCT s.*
    FROM server_calls s JOIN joined j ON s._blob || '
' || lpad(CAST(s._line AS VARCHAR), 12, '0') = j.s_key
),
calls AS (
    SELECT s.time, s.origin, s.tool, s.method, s.session_id, s.jsonrpc_request_id, s.arguments, s.result, s.enduser_id,
           s.client_address, s.success, s.result_code, s.duration_ms, s.response_bytes, s.item_count, s.operation_id,
           s.span_id, s.server, s.apim_subscription_id, s._blob, s._line, s.date, s.client_address_source, s.user_source,
           CAST(NULL AS VARCHAR) AS joined_by, s.sdk_user_id
    FROM server_calls s
    LEFT JOIN joined_server_rows j ON s._blob = j._blob AND s._line = j._line
    WHERE j._blob IS NULL
    UNION ALL
    SELECT g.time, CASE WHEN s._blob IS NULL THEN 'APIM' ELSE 'APIM+' || s.origin END, coalesce(g.tool, s.tool), g.method,
           coalesce(g.session_id, s.session_id), coalesce(g.jsonrpc_request_id, s.jsonrpc_request_id),
           coalesce(s.arguments, g.arguments), coalesce(s.result, g.result), s.enduser_id,
           coalesce(g.client_address, s.client_address), g.success, g.result_code, g.duration_ms,
           coalesce(g.response_bytes, s.response_bytes), coalesce(s.item_count, CAST(1 AS BIGINT)),
           coalesce(s.operation_id, g.correlation_id), s.span_id, coalesce(s.server, g.server), g.apim_subscription_id,
           g._blob, g._line, g.date,
           CASE WHEN g.client_address IS NOT NULL THEN 'API Management gateway log' ELSE s.client_address_source END,
           s.user_source, j.joined_by, s.sdk_user_id
    FROM gateway_calls g
    LEFT JOIN joined j ON g._blob = j.g_blob AND g._line = j.g_line
    LEFT JOIN server_calls s ON s._blob || '
' || lpad(CAST(s._line AS VARCHAR), 12, '0') = j.s_key
),
upn_to_id AS (
    SELECT lower(user_principal_name) AS upn_key, max(user_id) AS user_id
    FROM identities
    WHERE user_principal_name IS NOT NULL
    GROUP BY lower(user_principal_name)
),
-- The exporter maps enduser.id to the user id: a UserId that names a known identity is the caller.
resolved AS (
    SELECT c.*, coalesce(c.enduser_id, CASE WHEN sdk.user_id IS NOT NULL OR sdk_upn.user_id IS NOT NULL THEN c.sdk_user_id END) AS caller,
           CASE WHEN c.enduser_id IS NULL AND (sdk.user_id IS NOT NULL OR sdk_upn.user_id IS NOT NULL) THEN 'UserId (known identity)' ELSE c.user_source END AS caller_source
    FROM calls c
    LEFT JOIN identities sdk ON c.enduser_id IS NULL AND c.sdk_user_id = sdk.user_id
    LEFT JOIN upn_to_id sdk_upn ON c.enduser_id IS NULL AND lower(c.sdk_user_id) = sdk_upn.upn_key
)
SELECT c.time, c.origin, c.tool, c.method, c.session_id, c.jsonrpc_request_id, c.arguments, c.result,
       c.caller AS enduser_id, c.client_address, c.success, c.result_code, c.duration_ms, c.response_bytes, c.item_count,
       c.operation_id, c.span_id, c.server, c.apim_subscription_id, c._blob, c._line, c.date,
       c.client_address_source, c.caller_source AS user_source, c.joined_by,
       coalesce(by_id.user_id, by_upn.user_id) AS user_id,
       coalesce(by_id.user_principal_name, upn_id.user_principal_name,
                CASE WHEN c.caller LIKE '%@%' THEN c.caller END) AS user_principal_name,
       coalesce(by_id.user_principal_name, upn_id.user_principal_name,
                CASE WHEN c.caller LIKE '%@%' THEN c.caller END,
                nullif(c.caller, ''), '(anonymous)') AS "user"
FROM resolved c
LEFT JOIN identities by_id ON c.caller = by_id.user_id
LEFT JOIN upn_to_id by_upn ON lower(c.caller) = by_upn.upn_key
LEFT JOIN identities upn_id ON by_upn.user_id = upn_id.user_id;
