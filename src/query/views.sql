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

-- tool_calls: one row per MCP tools/call, from the MCP server's own telemetry (AppRequests)
-- or from API Management (ApiManagementGatewayMCPLog joined to ApiManagementGatewayLogs),
-- with the caller resolved against Entra sign-ins by object id or UPN.
CREATE VIEW tool_calls AS
WITH calls AS (
    SELECT r."TimeGenerated" AS time,
           'AppRequests' AS origin,
           r.tool_name AS tool,
           r.mcp_method AS method,
           r.session_id,
           r.jsonrpc_request_id,
           r.tool_arguments AS arguments,
           r.tool_result AS result,
           r.enduser_id,
           r.client_address,
           r."Success" AS success,
           r."ResultCode" AS result_code,
           r."DurationMs" AS duration_ms,
           r.response_bytes,
           coalesce(r."ItemCount", 1) AS item_count,
           r."OperationId" AS operation_id,
           r."Id" AS span_id,
           r."AppRoleName" AS server,
           CAST(NULL AS VARCHAR) AS apim_subscription_id,
           r._blob,
           r._line,
           r.date
    FROM "AppRequests" r
    WHERE r.mcp_method = 'tools/call'
    UNION ALL
    SELECT m."TimeGenerated",
           'APIM',
           m."ToolName",
           m."Method",
           m."SessionId",
           g.jsonrpc_request_id,
           g.tool_arguments,
           g.tool_result,
           CAST(NULL AS VARCHAR),
           g."CallerIpAddress",
           g."IsRequestSuccess",
           CAST(g."ResponseCode" AS VARCHAR),
           CAST(g."TotalTime" AS DOUBLE),
           g."ResponseSize",
           CAST(1 AS BIGINT),
           m."CorrelationId",
           CAST(NULL AS VARCHAR),
           m."ServerName",
           g."ApimSubscriptionId",
           m._blob,
           m._line,
           m.date
    FROM "ApiManagementGatewayMCPLog" m
    LEFT JOIN "ApiManagementGatewayLogs" g ON m."CorrelationId" = g."CorrelationId"
    WHERE m."Method" = 'tools/call'
),
upn_to_id AS (
    SELECT lower(user_principal_name) AS upn_key, max(user_id) AS user_id
    FROM identities
    WHERE user_principal_name IS NOT NULL
    GROUP BY lower(user_principal_name)
)
SELECT c.*,
       coalesce(by_id.user_id, by_upn.user_id) AS user_id,
       coalesce(by_id.user_principal_name, upn_id.user_principal_name,
                CASE WHEN c.enduser_id LIKE '%@%' THEN c.enduser_id END) AS user_principal_name,
       coalesce(by_id.user_principal_name, upn_id.user_principal_name,
                CASE WHEN c.enduser_id LIKE '%@%' THEN c.enduser_id END,
                nullif(c.enduser_id, ''), '(anonymous)') AS "user"
FROM calls c
LEFT JOIN identities by_id ON c.enduser_id = by_id.user_id
LEFT JOIN upn_to_id by_upn ON lower(c.enduser_id) = by_upn.upn_key
LEFT JOIN identities upn_id ON by_upn.user_id = upn_id.user_id;
