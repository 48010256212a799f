-- Views over MCP messages and calls, registered after `tool_calls` is settled (the view of
-- views.sql or http_access.sql, or the call index): Sigma's `mcp` log sources read them
-- (src/sigma/logsources.yaml, docs/sigma.md). Each statement ends with a semicolon on its own
-- line end.

-- mcp_messages: one row per MCP message however it was recorded: the MCP row of Application
-- Insights (AppRequests: a request the server received; AppDependencies: an MCP span the server
-- made itself, such as a notification it sent, `notifications/tools/list_changed`), and the API
-- Management gateway's MCP log (ApiManagementGatewayMCPLog, with the gateway log of the same
-- CorrelationId for the caller's address and the response size). `tool_count` is the gateway's
-- ToolCount ("the number of MCP tools discovered by the client", Microsoft's table reference),
-- NULL where the record has none. `user` is the identity as the row names it (not resolved
-- against sign-ins).
CREATE VIEW mcp_messages AS
SELECT r."TimeGenerated" AS time, 'AppRequests' AS origin, r.mcp_method AS method, r.tool_name AS tool,
       r.session_id, coalesce(r.enduser_id, nullif(r."UserAuthenticatedId", '')) AS "user",
       r.client_address, r."AppRoleName" AS server, r.response_bytes, CAST(NULL AS BIGINT) AS tool_count,
       r.tool_arguments AS arguments, r.tool_result AS result, r._blob, r._line, r.date
FROM "AppRequests" r
WHERE r.mcp_method IS NOT NULL
UNION ALL
SELECT d."TimeGenerated", 'AppDependencies', d.mcp_method, d.tool_name, d.session_id,
       coalesce(d.enduser_id, nullif(d."UserAuthenticatedId", '')), d.client_address, d."AppRoleName",
       d.response_bytes, CAST(NULL AS BIGINT), d.tool_arguments, d.tool_result, d._blob, d._line, d.date
FROM "AppDependencies" d
WHERE d.mcp_method IS NOT NULL
UNION ALL
SELECT m."TimeGenerated", 'APIM', m."Method", m."ToolName", m."SessionId", CAST(NULL AS VARCHAR),
       g."CallerIpAddress", m."ServerName", g."ResponseSize", m."ToolCount", g.tool_arguments, g.tool_result,
       m._blob, m._line, m.date
FROM "ApiManagementGatewayMCPLog" m
LEFT JOIN "ApiManagementGatewayLogs" g ON m."CorrelationId" = g."CorrelationId";

-- tool_call_hours: every tool call with its identity's habits before the call's day, for rules
-- on calls at hours the identity does not keep: `user_days_before`, the days within the 28
-- before the call's (UTC) day on which the identity called any tool; `user_days_at_hour`, those
-- of them with a call within an hour of the call's hour of day (the hour before, the same, the
-- hour after: a shift by daylight saving or a late finish is not a new hour). Calls without an
-- identity have no habits (0 and 0). Each is a count over the identity's own earlier days,
-- never over the window's, so the attacker's nights cannot make themselves usual within a day.
CREATE VIEW tool_call_hours AS
WITH call_hours AS (
    SELECT DISTINCT "user" AS who,
           CAST(floor(date_part('epoch', time) / 86400) AS BIGINT) AS day,
           CAST(date_part('hour', time) AS BIGINT) AS hour
    FROM tool_calls
    WHERE "user" <> '(anonymous)' AND time IS NOT NULL
),
near_hours AS (
    SELECT DISTINCT who, day, (hour + shift + 24) % 24 AS hour
    FROM (SELECT who, day, hour, unnest(make_array(-1, 0, 1)) AS shift FROM call_hours)
),
at_hour AS (
    SELECT who, day, hour,
           count(*) OVER (PARTITION BY who, hour ORDER BY day RANGE BETWEEN 28 PRECEDING AND 1 PRECEDING) AS days_at_hour
    FROM near_hours
),
call_days AS (
    SELECT DISTINCT who, day FROM call_hours
),
before AS (
    SELECT who, day,
           count(*) OVER (PARTITION BY who ORDER BY day RANGE BETWEEN 28 PRECEDING AND 1 PRECEDING) AS days_before
    FROM call_days
)
SELECT c.*, coalesce(b.days_before, 0) AS user_days_before, coalesce(a.days_at_hour, 0) AS user_days_at_hour
FROM tool_calls c
LEFT JOIN before b
       ON b.who = c."user" AND b.day = CAST(floor(date_part('epoch', c.time) / 86400) AS BIGINT)
LEFT JOIN at_hour a
       ON a.who = c."user" AND a.day = CAST(floor(date_part('epoch', c.time) / 86400) AS BIGINT)
      AND a.hour = CAST(date_part('hour', c.time) AS BIGINT);

-- llm_calls: the model calls (GenAI client spans) Application Insights holds: AppDependencies rows
-- whose Properties name a requested model (gen_ai.request.model) or a model operation
-- (gen_ai.operation.name chat, text_completion, generate_content, embeddings). The Azure Monitor
-- exporters file such a span as a dependency whose DependencyType is its gen_ai.system (the
-- Python exporter: `data.type = span.attributes[gen_ai.system]`, "openai", "az.ai.inference")
-- and keep the gen_ai.* attributes in Properties; newer emitters write gen_ai.provider.name.
-- The MCP tool spans' own gen_ai.* (execute_tool) are not model calls. `operation_id` is the
-- trace, which an agent instrumented into the same resource shares with the MCP calls it makes.
CREATE VIEW llm_calls AS
SELECT d."TimeGenerated" AS time, d."AppRoleName" AS app, trace_id(d."OperationId") AS operation_id, d."Id" AS span_id,
       coalesce(json_as_text(d."Properties", 'gen_ai.provider.name'), json_as_text(d."Properties", 'gen_ai.system'), d."DependencyType") AS system,
       json_as_text(d."Properties", 'gen_ai.operation.name') AS operation,
       json_as_text(d."Properties", 'gen_ai.request.model') AS model,
       json_as_text(d."Properties", 'gen_ai.response.model') AS response_model,
       TRY_CAST(json_as_text(d."Properties", 'gen_ai.usage.input_tokens') AS BIGINT) AS input_tokens,
       TRY_CAST(json_as_text(d."Properties", 'gen_ai.usage.output_tokens') AS BIGINT) AS output_tokens,
       coalesce(json_as_text(d."Properties", 'gen_ai.conversation.id'), d.session_id) AS conversation_id,
       d."Target" AS target, d."Success" AS success, d."DurationMs" AS duration_ms, d._blob, d._line, d.date
FROM "AppDependencies" d
WHERE d."Properties" LIKE '%gen_ai.%'
  AND d.mcp_method IS NULL
  AND (json_as_text(d."Properties", 'gen_ai.request.model') IS NOT NULL
       OR lower(json_as_text(d."Properties", 'gen_ai.operation.name')) IN ('chat', 'text_completion', 'generate_content', 'embeddings'));
