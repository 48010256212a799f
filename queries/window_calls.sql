-- name: window_calls
-- description: The tool calls of the baseline and the window with the columns the profiles compare: identity, address, time, hour, tool, session id, the customers named in arguments and results, the outside hosts named in arguments (URLs, mail addresses), whether the arguments ask for everything (wildcard search, limit of 1000 or more), and the evidence row with its key; and, for the window's calls only, what attacker_calls reports of a call (caller as logged, arguments, result, request and span ids: attacker calls are window calls, and the baseline's text would only be held). The profiles read them several times, so without a current call index they are computed once (tool_calls is then evaluated once per scope); with one, they are a view over the index's files, which each reader reads only the columns of that it needs, and nothing is held.
-- params: since, until, baseline_start
-- held: unless the call index is read
-- output: user, user_id, enduser_id, client_address, client_address_source, time, tool, session_id, item_count, hour, origin, server, operation_id, response_bytes, customers, hosts, wide, arguments, result, jsonrpc_request_id, span_id, apim_subscription_id, backend_address, _blob, _line, call_key
SELECT "user", user_id, CASE WHEN time >= $since THEN enduser_id END AS enduser_id, client_address, client_address_source, time, tool, session_id, item_count, CAST(date_part('hour', time) AS BIGINT) AS hour,
       origin, server, operation_id, response_bytes,
       customers, hosts, wide,
       CASE WHEN time >= $since THEN arguments END AS arguments, CASE WHEN time >= $since THEN result END AS result,
       CASE WHEN time >= $since THEN jsonrpc_request_id END AS jsonrpc_request_id, CASE WHEN time >= $since THEN span_id END AS span_id,
       CASE WHEN time >= $since THEN apim_subscription_id END AS apim_subscription_id,
       CASE WHEN time >= $since THEN backend_address END AS backend_address,
       _blob, _line, call_key
FROM tool_calls
WHERE time >= $baseline_start AND time < $until
