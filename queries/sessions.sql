-- name: sessions
-- description: Every session in the window of each suspect identity, marked attacker or own work, so the attacker's activity is scoped apart from the real user's. Sessions are those of call_sessions: MCP session ids split at pauses of more than 30 minutes, derived from identity, address and time where the server sets none.
-- params: since, until
-- depends: attacker_calls, call_sessions
-- output: user, session, derived, attacker, calls, first_call, last_call, ips, tools
WITH suspect_users AS (SELECT DISTINCT "user" FROM attacker_calls),
attacker_keys AS (SELECT DISTINCT call_key FROM attacker_calls),
calls AS (
    SELECT c."user", c.session, c.derived, c.time, c.client_address, c.tool, k.call_key IS NOT NULL AS attacker
    FROM call_sessions c
    JOIN suspect_users u ON c."user" = u."user"
    LEFT JOIN attacker_keys k ON c.call_key = k.call_key
    WHERE c.time >= $since AND c.time < $until
)
SELECT "user", session, bool_and(derived) AS derived, bool_or(attacker) AS attacker, count(*) AS calls, min(time) AS first_call, max(time) AS last_call,
       array_sort(array_agg(DISTINCT coalesce(client_address, '(no address)'))) AS ips,
       array_sort(array_agg(DISTINCT coalesce(tool, '(no tool name)'))) AS tools
FROM calls
GROUP BY "user", session
ORDER BY "user", first_call, session
