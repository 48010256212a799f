-- name: sessions
-- description: Every session in the window of each suspect identity, marked attacker or own work, so the attacker's activity is scoped apart from the real user's. Sessions are those of call_sessions: MCP session ids split at pauses of more than 30 minutes, derived from identity, address and time where the server sets none.
-- params: since, until
-- depends: attacker_calls, call_sessions
-- output: user, session, derived, attacker, calls, first_call, last_call, ips, tools, model_calls, model_tokens
WITH suspect_users AS (SELECT DISTINCT "user" FROM attacker_calls),
attacker_keys AS (SELECT DISTINCT call_key FROM attacker_calls),
calls AS (
    SELECT c."user", c.session, c.derived, c.time, c.client_address, c.tool, c.operation_id, k.call_key IS NOT NULL AS attacker
    FROM call_sessions c
    JOIN suspect_users u ON c."user" = u."user"
    LEFT JOIN attacker_keys k ON c.call_key = k.call_key
    WHERE c.time >= $since AND c.time < $until
),
-- The model calls (llm_calls) in the traces of each session's calls: what an agent asked its model
-- around its tool calls, where the agent's spans reach the same resource. Counted per trace once,
-- however many of the session's calls share it.
models AS (
    SELECT operation_id, count(*) AS model_calls,
           sum(coalesce(input_tokens, 0) + coalesce(output_tokens, 0)) AS model_tokens
    FROM llm_calls
    WHERE time >= $since - INTERVAL '1 hour' AND time < $until + INTERVAL '1 hour' AND operation_id IS NOT NULL
    GROUP BY operation_id
),
session_models AS (
    SELECT o."user", o.session, sum(m.model_calls) AS model_calls, sum(m.model_tokens) AS model_tokens
    FROM (SELECT DISTINCT "user", session, operation_id FROM calls WHERE operation_id IS NOT NULL) o
    JOIN models m ON o.operation_id = m.operation_id
    GROUP BY o."user", o.session
),
grouped AS (
    SELECT "user", session, bool_and(derived) AS derived, bool_or(attacker) AS attacker, count(*) AS calls, min(time) AS first_call, max(time) AS last_call,
           array_sort(array_agg(DISTINCT coalesce(client_address, '(no address)'))) AS ips,
           array_sort(array_agg(DISTINCT coalesce(tool, '(no tool name)'))) AS tools
    FROM calls
    GROUP BY "user", session
)
SELECT g."user", g.session, g.derived, g.attacker, g.calls, g.first_call, g.last_call, g.ips, g.tools,
       coalesce(sm.model_calls, 0) AS model_calls, coalesce(sm.model_tokens, 0) AS model_tokens
FROM grouped g
LEFT JOIN session_models sm ON g."user" = sm."user" AND g.session = sm.session
ORDER BY g."user", g.first_call, g.session
