-- Views every case has, over its tables. Each statement ends with a semicolon on its own line end.

-- identities: one row per Entra object id seen signing in, with its UPN and display name at its
-- latest sign-in, its kind (person, service principal, managed identity, agent) and, for an AI
-- agent, its Agent ID type, parent and app; for anyone, the agent that signed in for them. It merges `identity_index` (one row per identity per ingest run, written at
-- ingest from every sign-in, whatever days a session reads), ordering as the index does: the
-- latest time, then the greater name.
CREATE VIEW identities AS
SELECT user_id,
       last_value(user_principal_name ORDER BY last_sign_in NULLS FIRST, user_principal_name NULLS FIRST, display_name NULLS FIRST) AS user_principal_name,
       last_value(display_name ORDER BY last_sign_in NULLS FIRST, user_principal_name NULLS FIRST, display_name NULLS FIRST) AS display_name,
       min(first_sign_in) AS first_sign_in,
       max(last_sign_in) AS last_sign_in,
       sum(sign_ins) AS sign_ins,
       -- An agent when any run saw it sign in as one (Entra Agent ID); else the kind of its
       -- latest sign-in's table (person, service principal, managed identity).
       CASE WHEN bool_or(kind = 'agent') THEN 'agent'
            ELSE last_value(kind ORDER BY last_sign_in NULLS FIRST, user_principal_name NULLS FIRST, display_name NULLS FIRST) END AS kind,
       max(agent_type) AS agent_type,
       max(agent_parent) AS agent_parent,
       max(agent_app) AS agent_app,
       max(acting_agent) AS acting_agent
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
--   id and tool within a minute (the neighbouring row of the same session and tool); joined_by says
--   how. A gateway row without a server row, and a server row without a gateway row, stay calls of
--   their own.
-- Rows of every origin are stacked; the facts of traces with two or more rows (and of traces with
-- a gateway row) are grouped and joined back, small; gateway rows are related to server rows by a
-- window over their session and tool, only for the sessions and tools the gateway log names.
-- The caller is resolved against Entra sign-ins by object id or UPN. What the profiles compare
-- of a call's arguments and result is computed here too (a query that reads none of it computes
-- none of it): the customers named, the outside hosts named, and whether it asks for everything.
-- call_key keys the call's evidence row in one integer, for the pack's joins of calls.
-- A case whose call index is current reads all of this from the index instead (call_index.rs).
CREATE VIEW tool_calls AS
WITH stacked AS (
    SELECT CASE WHEN r.mcp_method = 'tools/call' THEN 'call' ELSE 'parent' END AS kind, 'AppRequests' AS origin,
           r."TimeGenerated" AS time, r.tool_name AS tool, r.mcp_method AS method, r.session_id, r.jsonrpc_request_id,
           r.tool_arguments AS arguments, r.tool_result AS result, r.enduser_id, r.client_address,
           r."Success" AS success, r."ResultCode" AS result_code, r."DurationMs" AS duration_ms, r.response_bytes,
           coalesce(r."ItemCount", 1) AS item_count, trace_id(r."OperationId") AS operation_id, r."Id" AS span_id,
           r."AppRoleName" AS server, CAST(NULL AS VARCHAR) AS apim_subscription_id, nullif(r."UserId", '') AS sdk_user_id,
           CAST(NULL AS VARCHAR) AS auth_method, CAST(NULL AS VARCHAR) AS backend, r._blob, r._line, r.date
    FROM "AppRequests" r
    WHERE r.mcp_method = 'tools/call' OR r.client_address IS NOT NULL OR r.enduser_id IS NOT NULL
       OR (r."UserId" IS NOT NULL AND r."UserId" <> '')
    UNION ALL
    SELECT 'call', 'AppDependencies', d."TimeGenerated", d.tool_name, d.mcp_method, d.session_id, d.jsonrpc_request_id,
           d.tool_arguments, d.tool_result, d.enduser_id, d.client_address, d."Success", d."ResultCode", d."DurationMs",
           d.response_bytes, coalesce(d."ItemCount", 1), trace_id(d."OperationId"), d."Id", d."AppRoleName", CAST(NULL AS VARCHAR),
           nullif(d."UserId", ''), CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR), d._blob, d._line, d.date
    FROM "AppDependencies" d
    WHERE d.mcp_method = 'tools/call'
    UNION ALL
    SELECT 'gateway', 'APIM', m."TimeGenerated", m."ToolName", m."Method", m."SessionId", g.jsonrpc_request_id,
           g.tool_arguments, g.tool_result, CAST(NULL AS VARCHAR), g."CallerIpAddress", g."IsRequestSuccess",
           CAST(g."ResponseCode" AS VARCHAR), CAST(g."TotalTime" AS DOUBLE), g."ResponseSize", CAST(1 AS BIGINT),
           -- The trace the gateway propagated to the server (traceparent, when backend request
           -- headers are logged), else its correlation id, which is the trace id with dashes.
           trace_id(coalesce(json_get_str(g."BackendRequestHeaders", 'traceparent'), json_get_str(g."BackendRequestHeaders", 'Traceparent'), m."CorrelationId")),
           CAST(NULL AS VARCHAR), m."ServerName", g."ApimSubscriptionId", CAST(NULL AS VARCHAR),
           lower(m."AuthenticationMethod"),
           target_host(g."BackendUrl"),
           m._blob, m._line, m.date
    FROM "ApiManagementGatewayMCPLog" m
    LEFT JOIN "ApiManagementGatewayLogs" g ON m."CorrelationId" = g."CorrelationId"
    WHERE m."Method" = 'tools/call'
),
-- Per trace: the HTTP parent's caller, whether the request row is the call (then a child span of
-- it is not another call), whether a gateway row shares the trace, and the server call's fields.
-- Grouped and joined back, not a window over the trace: a window whose frame is a whole partition
-- holds every row of its input at once and builds arrays per trace (many gigabytes on a 90-day
-- case, where nearly every trace is one call). Only traces of two or more rows are grouped (a
-- trace of one row is its own fact), and the server call's arguments and result are kept only for
-- traces with a gateway row, so the table joined back (held in memory) stays small.
keyed AS (
    SELECT *, coalesce(operation_id, _blob || ':' || CAST(_line AS VARCHAR)) AS trace_key
    FROM stacked
),
-- Only a parent, dependency or gateway row makes a trace's facts differ from its rows' own: a call
-- row reads the facts only for its parent's caller and to be dropped beside a request call, and
-- gateway rows read the rest. So only traces with such a row are grouped (a semi-join on their
-- few keys), not every call's trace.
linked AS (
    SELECT DISTINCT trace_key AS linked_key
    FROM keyed
    WHERE kind <> 'call' OR origin <> 'AppRequests'
),
trace_facts AS (
    SELECT trace_key AS fact_key,
           bool_or(kind = 'call' AND origin = 'AppRequests') AS f_has_request_call,
           bool_or(kind = 'gateway') AS f_has_gateway,
           count(CASE WHEN kind = 'call' THEN 1 END) AS f_calls,
           max(CASE WHEN kind = 'parent' THEN client_address END) AS f_parent_address,
           max(CASE WHEN kind = 'parent' THEN enduser_id END) AS f_parent_user,
           max(CASE WHEN kind = 'parent' THEN sdk_user_id END) AS f_parent_sdk_user,
           max(CASE WHEN kind = 'parent' THEN response_bytes END) AS f_parent_bytes,
           max(CASE WHEN kind = 'call' THEN enduser_id END) AS f_enduser_id,
           max(CASE WHEN kind = 'call' THEN client_address END) AS f_client_address,
           max(CASE WHEN kind = 'call' THEN origin END) AS f_origin,
           max(CASE WHEN kind = 'call' THEN span_id END) AS f_span_id,
           max(CASE WHEN kind = 'call' THEN server END) AS f_server,
           max(CASE WHEN kind = 'call' THEN sdk_user_id END) AS f_sdk_user_id,
           max(CASE WHEN kind = 'call' THEN item_count END) AS f_item_count,
           max(CASE WHEN kind = 'call' THEN response_bytes END) AS f_response_bytes,
           CASE WHEN bool_or(kind = 'gateway') THEN max(CASE WHEN kind = 'call' THEN arguments END) END AS f_gateway_arguments,
           CASE WHEN bool_or(kind = 'gateway') THEN max(CASE WHEN kind = 'call' THEN result END) END AS f_gateway_result
    FROM linked l
    JOIN keyed k ON k.trace_key = l.linked_key
    GROUP BY trace_key
    HAVING count(*) > 1
),
traced AS (
    SELECT k.*,
           CASE WHEN f.fact_key IS NULL THEN kind = 'call' AND origin = 'AppRequests' ELSE f.f_has_request_call END AS trace_has_request_call,
           CASE WHEN f.fact_key IS NULL THEN kind = 'gateway' ELSE f.f_has_gateway END AS trace_has_gateway,
           CASE WHEN f.fact_key IS NULL THEN CAST(CASE WHEN kind = 'call' THEN 1 ELSE 0 END AS BIGINT) ELSE f.f_calls END AS trace_calls,
           CASE WHEN f.fact_key IS NULL THEN CASE WHEN kind = 'parent' THEN client_address END ELSE f.f_parent_address END AS parent_address,
           CASE WHEN f.fact_key IS NULL THEN CASE WHEN kind = 'parent' THEN enduser_id END ELSE f.f_parent_user END AS parent_user,
           CASE WHEN f.fact_key IS NULL THEN CASE WHEN kind = 'parent' THEN sdk_user_id END ELSE f.f_parent_sdk_user END AS parent_sdk_user,
           CASE WHEN f.fact_key IS NULL THEN CASE WHEN kind = 'parent' THEN response_bytes END ELSE f.f_parent_bytes END AS parent_bytes,
           CASE WHEN f.fact_key IS NULL OR NOT f.f_has_gateway THEN CASE WHEN kind = 'call' THEN arguments END ELSE f.f_gateway_arguments END AS trace_arguments,
           CASE WHEN f.fact_key IS NULL OR NOT f.f_has_gateway THEN CASE WHEN kind = 'call' THEN result END ELSE f.f_gateway_result END AS trace_result,
           CASE WHEN f.fact_key IS NULL THEN CASE WHEN kind = 'call' THEN enduser_id END ELSE f.f_enduser_id END AS trace_enduser_id,
           CASE WHEN f.fact_key IS NULL THEN CASE WHEN kind = 'call' THEN client_address END ELSE f.f_client_address END AS trace_client_address,
           CASE WHEN f.fact_key IS NULL THEN CASE WHEN kind = 'call' THEN origin END ELSE f.f_origin END AS trace_origin,
           CASE WHEN f.fact_key IS NULL THEN CASE WHEN kind = 'call' THEN span_id END ELSE f.f_span_id END AS trace_span_id,
           CASE WHEN f.fact_key IS NULL THEN CASE WHEN kind = 'call' THEN server END ELSE f.f_server END AS trace_server,
           CASE WHEN f.fact_key IS NULL THEN CASE WHEN kind = 'call' THEN sdk_user_id END ELSE f.f_sdk_user_id END AS trace_sdk_user_id,
           CASE WHEN f.fact_key IS NULL THEN CASE WHEN kind = 'call' THEN item_count END ELSE f.f_item_count END AS trace_item_count,
           CASE WHEN f.fact_key IS NULL THEN CASE WHEN kind = 'call' THEN response_bytes END ELSE f.f_response_bytes END AS trace_response_bytes
    -- The small table first: a hash join holds its first (build) side in memory.
    FROM trace_facts f RIGHT JOIN keyed k ON f.fact_key = k.trace_key
),
calls AS (
    SELECT *,
           session_id IS NOT NULL AND session_id <> ''
           AND ((kind = 'gateway' AND trace_calls = 0) OR (kind = 'call' AND NOT trace_has_gateway)) AS candidate
    FROM traced
    WHERE kind <> 'parent' AND NOT (kind = 'call' AND origin = 'AppDependencies' AND trace_has_request_call)
),
-- Gateway and server rows of one MCP session and tool, in time order: a gateway row takes the
-- server row next to it (after it, else before it) when it is within a minute. Only sessions and
-- tools the gateway log names are ordered so (`pair`); every other row has no neighbour. (Ordering
-- every session and tool as its own window partition took most of scope's time on a large case.)
-- The values the window shifts are null outside a pair, so it copies no text for those rows, and
-- they are spread over sixteen partitions by line number (their values are null whichever rows
-- they sit beside): one partition holding nearly every call kept the sort and the window on one
-- core (4.9 s of the view's 60 days at 5 GB; 3.0 s spread).
gateway_pairs AS (
    SELECT DISTINCT "SessionId" || chr(10) || coalesce("ToolName", '') AS pair_key
    FROM "ApiManagementGatewayMCPLog"
    WHERE "Method" = 'tools/call' AND "SessionId" IS NOT NULL AND "SessionId" <> ''
),
near AS (
    SELECT c.*, CASE WHEN c.candidate AND g.pair_key IS NOT NULL THEN g.pair_key END AS pair
    FROM gateway_pairs g
    RIGHT JOIN calls c ON g.pair_key = CASE WHEN c.candidate THEN c.session_id || chr(10) || coalesce(c.tool, '') END
),
neighbours AS (
    SELECT *,
           lead(CASE WHEN pair IS NOT NULL THEN arguments END) OVER pair_order AS next_arguments, lag(CASE WHEN pair IS NOT NULL THEN arguments END) OVER pair_order AS prev_arguments,
           lead(CASE WHEN pair IS NOT NULL THEN result END) OVER pair_order AS next_result, lag(CASE WHEN pair IS NOT NULL THEN result END) OVER pair_order AS prev_result,
           lead(CASE WHEN pair IS NOT NULL THEN enduser_id END) OVER pair_order AS next_enduser_id, lag(CASE WHEN pair IS NOT NULL THEN enduser_id END) OVER pair_order AS prev_enduser_id,
           lead(CASE WHEN pair IS NOT NULL THEN client_address END) OVER pair_order AS next_client_address, lag(CASE WHEN pair IS NOT NULL THEN client_address END) OVER pair_order AS prev_client_address,
           lead(CASE WHEN pair IS NOT NULL THEN origin END) OVER pair_order AS next_origin, lag(CASE WHEN pair IS NOT NULL THEN origin END) OVER pair_order AS prev_origin,
           lead(CASE WHEN pair IS NOT NULL THEN span_id END) OVER pair_order AS next_span_id, lag(CASE WHEN pair IS NOT NULL THEN span_id END) OVER pair_order AS prev_span_id,
           lead(CASE WHEN pair IS NOT NULL THEN server END) OVER pair_order AS next_server, lag(CASE WHEN pair IS NOT NULL THEN server END) OVER pair_order AS prev_server,
           lead(CASE WHEN pair IS NOT NULL THEN sdk_user_id END) OVER pair_order AS next_sdk_user_id, lag(CASE WHEN pair IS NOT NULL THEN sdk_user_id END) OVER pair_order AS prev_sdk_user_id,
           lead(CASE WHEN pair IS NOT NULL THEN item_count END) OVER pair_order AS next_item_count, lag(CASE WHEN pair IS NOT NULL THEN item_count END) OVER pair_order AS prev_item_count,
           lead(CASE WHEN pair IS NOT NULL THEN operation_id END) OVER pair_order AS next_operation_id, lag(CASE WHEN pair IS NOT NULL THEN operation_id END) OVER pair_order AS prev_operation_id,
           lead(CASE WHEN pair IS NOT NULL THEN parent_address END) OVER pair_order AS next_parent_address, lag(CASE WHEN pair IS NOT NULL THEN parent_address END) OVER pair_order AS prev_parent_address,
           lead(CASE WHEN pair IS NOT NULL THEN parent_user END) OVER pair_order AS next_parent_user, lag(CASE WHEN pair IS NOT NULL THEN parent_user END) OVER pair_order AS prev_parent_user,
           lead(CASE WHEN pair IS NOT NULL THEN parent_sdk_user END) OVER pair_order AS next_parent_sdk_user, lag(CASE WHEN pair IS NOT NULL THEN parent_sdk_user END) OVER pair_order AS prev_parent_sdk_user,
           lead(CASE WHEN pair IS NOT NULL THEN response_bytes END) OVER pair_order AS next_response_bytes, lag(CASE WHEN pair IS NOT NULL THEN response_bytes END) OVER pair_order AS prev_response_bytes,
           lead(CASE WHEN pair IS NOT NULL THEN kind END) OVER pair_order AS next_kind, lag(CASE WHEN pair IS NOT NULL THEN kind END) OVER pair_order AS prev_kind,
           lead(CASE WHEN pair IS NOT NULL THEN time END) OVER pair_order AS next_time, lag(CASE WHEN pair IS NOT NULL THEN time END) OVER pair_order AS prev_time,
           lead(CASE WHEN pair IS NOT NULL THEN kind END, 2) OVER pair_order AS next2_kind, lead(CASE WHEN pair IS NOT NULL THEN time END, 2) OVER pair_order AS next2_time
    FROM near
    WINDOW pair_order AS (PARTITION BY pair, CASE WHEN pair IS NULL THEN _line % 16 END ORDER BY time, _blob, _line)
),
paired AS (
    SELECT *,
           CASE WHEN kind = 'gateway' AND trace_calls > 0 THEN 'trace'
                WHEN kind = 'gateway' AND candidate AND next_kind = 'call' AND next_time <= time + INTERVAL '1 minute' THEN 'next'
                WHEN kind = 'gateway' AND candidate AND prev_kind = 'call' AND prev_time >= time - INTERVAL '1 minute' THEN 'prev'
           END AS pick,
           coalesce(kind = 'call' AND (trace_has_gateway
               OR (candidate AND coalesce(prev_kind, '') = 'gateway' AND prev_time >= time - INTERVAL '1 minute')
               OR (candidate AND coalesce(next_kind, '') = 'gateway' AND next_time <= time + INTERVAL '1 minute'
                   AND NOT coalesce(next2_kind = 'call' AND next2_time <= next_time + INTERVAL '1 minute', false))), false) AS merged
    FROM neighbours
),
merged AS (
    SELECT time, tool, method, session_id, jsonrpc_request_id, success, result_code, duration_ms, apim_subscription_id,
           auth_method, backend, _blob, _line, date, kind, pick,
           client_address AS own_address, enduser_id AS own_user,
           CASE pick WHEN 'trace' THEN trace_origin WHEN 'next' THEN next_origin WHEN 'prev' THEN prev_origin END AS server_origin,
           CASE pick WHEN 'trace' THEN trace_arguments WHEN 'next' THEN next_arguments WHEN 'prev' THEN prev_arguments ELSE arguments END AS s_arguments,
           CASE pick WHEN 'trace' THEN trace_result WHEN 'next' THEN next_result WHEN 'prev' THEN prev_result ELSE result END AS s_result,
           CASE pick WHEN 'trace' THEN trace_enduser_id WHEN 'next' THEN next_enduser_id WHEN 'prev' THEN prev_enduser_id ELSE enduser_id END AS s_user,
           CASE pick WHEN 'trace' THEN parent_user WHEN 'next' THEN next_parent_user WHEN 'prev' THEN prev_parent_user ELSE parent_user END AS s_parent_user,
           CASE pick WHEN 'trace' THEN trace_client_address WHEN 'next' THEN next_client_address WHEN 'prev' THEN prev_client_address ELSE client_address END AS s_address,
           CASE pick WHEN 'trace' THEN parent_address WHEN 'next' THEN next_parent_address WHEN 'prev' THEN prev_parent_address ELSE parent_address END AS s_parent_address,
           CASE pick WHEN 'trace' THEN trace_span_id WHEN 'next' THEN next_span_id WHEN 'prev' THEN prev_span_id ELSE span_id END AS s_span,
           CASE pick WHEN 'trace' THEN trace_server WHEN 'next' THEN next_server WHEN 'prev' THEN prev_server ELSE server END AS s_server,
           CASE pick WHEN 'trace' THEN trace_sdk_user_id WHEN 'next' THEN next_sdk_user_id WHEN 'prev' THEN prev_sdk_user_id ELSE sdk_user_id END AS s_sdk_user,
           CASE pick WHEN 'trace' THEN parent_sdk_user WHEN 'next' THEN next_parent_sdk_user WHEN 'prev' THEN prev_parent_sdk_user ELSE parent_sdk_user END AS s_parent_sdk_user,
           CASE pick WHEN 'trace' THEN trace_item_count WHEN 'next' THEN next_item_count WHEN 'prev' THEN prev_item_count ELSE item_count END AS s_item_count,
           CASE pick WHEN 'trace' THEN operation_id WHEN 'next' THEN next_operation_id WHEN 'prev' THEN prev_operation_id ELSE operation_id END AS s_operation,
           arguments AS own_arguments, result AS own_result, response_bytes AS own_bytes, parent_bytes, server AS own_server,
           operation_id AS own_operation, origin AS own_origin
    FROM paired
    WHERE NOT merged
),
calls_resolved AS (
    SELECT time,
           CASE WHEN kind = 'gateway' AND server_origin IS NOT NULL THEN 'APIM+' || server_origin ELSE own_origin END AS origin,
           tool, method, session_id, jsonrpc_request_id,
           CASE WHEN kind = 'gateway' THEN coalesce(s_arguments, own_arguments) ELSE own_arguments END AS arguments,
           CASE WHEN kind = 'gateway' THEN coalesce(s_result, own_result) ELSE own_result END AS result,
           coalesce(s_user, s_parent_user) AS enduser_id,
           CASE WHEN kind = 'gateway' THEN coalesce(own_address, s_address, s_parent_address) ELSE coalesce(own_address, s_parent_address) END AS client_address,
           success, result_code, duration_ms,
           CASE WHEN kind = 'gateway' THEN own_bytes ELSE coalesce(own_bytes, parent_bytes) END AS response_bytes,
           coalesce(s_item_count, CAST(1 AS BIGINT)) AS item_count,
           CASE WHEN kind = 'gateway' THEN coalesce(s_operation, own_operation) ELSE own_operation END AS operation_id,
           s_span AS span_id,
           coalesce(s_server, own_server) AS server,
           apim_subscription_id, _blob, _line, date,
           CASE WHEN kind = 'gateway' AND own_address IS NOT NULL THEN 'API Management gateway log'
                WHEN kind = 'gateway' AND s_address IS NOT NULL THEN 'mcp row'
                WHEN kind = 'gateway' AND s_parent_address IS NOT NULL THEN 'http parent row'
                WHEN own_address IS NOT NULL THEN 'mcp row'
                WHEN s_parent_address IS NOT NULL THEN 'http parent row' END AS client_address_source,
           CASE WHEN s_user IS NOT NULL THEN 'mcp row' WHEN s_parent_user IS NOT NULL THEN 'http parent row' END AS user_source,
           CASE pick WHEN 'trace' THEN 'trace id' WHEN 'next' THEN 'session id and tool' WHEN 'prev' THEN 'session id and tool' END AS joined_by,
           s_sdk_user AS sdk_user_id, s_parent_sdk_user AS parent_sdk_user, auth_method,
           backend AS backend_address,
           -- A gateway call no server row was joined to, authenticated by a token or certificate
           -- the gateway validated: someone signed in, but the evidence does not name them.
           kind = 'gateway' AND server_origin IS NULL AND coalesce(auth_method, '') IN ('oauth2', 'cert') AS unnamed_caller
    FROM merged
),
upn_to_id AS (
    SELECT lower(user_principal_name) AS upn_key, max(user_id) AS user_id
    FROM identities
    WHERE user_principal_name IS NOT NULL
    GROUP BY lower(user_principal_name)
),
-- The exporter maps enduser.id to the user id (the Node exporter to UserId): a UserId of the MCP
-- row, else of its HTTP parent, that names a known identity is the caller.
resolved AS (
    SELECT c.*,
           coalesce(c.enduser_id,
                    CASE WHEN sdk.user_id IS NOT NULL OR sdk_upn.user_id IS NOT NULL THEN c.sdk_user_id END,
                    CASE WHEN psdk.user_id IS NOT NULL OR psdk_upn.user_id IS NOT NULL THEN c.parent_sdk_user END,
                    CASE WHEN c.unnamed_caller THEN '(authenticated caller, not named)' END) AS caller,
           CASE WHEN c.enduser_id IS NULL AND (sdk.user_id IS NOT NULL OR sdk_upn.user_id IS NOT NULL) THEN 'UserId (known identity)'
                WHEN c.enduser_id IS NULL AND (psdk.user_id IS NOT NULL OR psdk_upn.user_id IS NOT NULL) THEN 'UserId of the http parent row (known identity)'
                WHEN c.enduser_id IS NULL AND c.unnamed_caller THEN 'API Management (' || c.auth_method || ', no server row)'
                ELSE c.user_source END AS caller_source
    FROM calls_resolved c
    LEFT JOIN identities sdk ON c.enduser_id IS NULL AND c.sdk_user_id = sdk.user_id
    LEFT JOIN upn_to_id sdk_upn ON c.enduser_id IS NULL AND lower(c.sdk_user_id) = sdk_upn.upn_key
    LEFT JOIN identities psdk ON c.enduser_id IS NULL AND c.parent_sdk_user = psdk.user_id
    LEFT JOIN upn_to_id psdk_upn ON c.enduser_id IS NULL AND lower(c.parent_sdk_user) = psdk_upn.upn_key
)
SELECT c.time, c.origin, c.tool, c.method, c.session_id, c.jsonrpc_request_id, c.arguments, c.result,
       c.caller AS enduser_id, c.client_address, c.success, c.result_code, c.duration_ms, c.response_bytes, c.item_count,
       c.operation_id, c.span_id, c.server, c.apim_subscription_id, c._blob, c._line, c.date,
       c.client_address_source, c.caller_source AS user_source, c.joined_by, c.backend_address,
       coalesce(by_id.user_id, by_upn.user_id) AS user_id,
       coalesce(by_id.user_principal_name, upn_id.user_principal_name,
                CASE WHEN c.caller LIKE '%@%' THEN c.caller END) AS user_principal_name,
       coalesce(by_id.user_principal_name, upn_id.user_principal_name,
                CASE WHEN c.caller LIKE '%@%' THEN c.caller END,
                nullif(c.caller, ''), '(anonymous)') AS "user",
       customer_ids('[' || coalesce(c.arguments, 'null') || ',' || coalesce(c.result, 'null') || ']') AS customers,
       outside_hosts(coalesce(c.arguments, '{}')) AS hosts,
       coalesce(wide_request(c.arguments), false) AS wide,
       call_key(c._blob, c._line) AS call_key
FROM resolved c
LEFT JOIN identities by_id ON c.caller = by_id.user_id
LEFT JOIN upn_to_id by_upn ON lower(c.caller) = by_upn.upn_key
LEFT JOIN identities upn_id ON by_upn.user_id = upn_id.user_id;
