-- name: attacker_calls
-- description: The tool calls in the window that are the attacker's: every call from an (identity, client address) pair ip_profiles judged to be someone else at the keyboard (rule `address`), every call of a session session_profiles judged to be steered by someone else (rule `session`: the same identity's other sessions, even from the same address, stay its own; responses to the address count as exfiltration only when the address itself is new, `attacker_address`), and every call matching a known-bad IP or identity given with --ioc-ip / --ioc-user (rule `ioc`).
-- params: since, until
-- depends: ip_profiles, session_profiles, call_sessions, window_calls
-- output: time, user, user_id, enduser_id, client_address, origin, server, tool, arguments, result, session_id, session, jsonrpc_request_id, operation_id, span_id, apim_subscription_id, response_bytes, item_count, basis, rule, attacker_address, _blob, _line, call_key
-- The calls the profiles mark are picked from the sessions, and read with the calls matching an
-- indicator from window_calls (tool_calls is not evaluated again).
WITH marked AS (
    SELECT cs.call_key, coalesce(p.attacker, false) AS by_address, coalesce(s.attacker, false) AS by_session,
           coalesce(s.access, false) AS session_access
    FROM call_sessions cs
    LEFT JOIN (SELECT "user", client_address, attacker FROM ip_profiles WHERE attacker) p
           ON cs."user" = p."user" AND cs.client_address = p.client_address
    LEFT JOIN (SELECT "user", session, access, attacker FROM session_profiles WHERE attacker) s
           ON cs."user" = s."user" AND cs.session = s.session
    WHERE cs.time >= $since AND cs.time < $until AND (p.attacker OR s.attacker)
),
-- The calls an indicator names, by address or identity. Each arm joins the few indicators to the
-- call index's narrow columns, so the calls' wide rows are read once, for the keys chosen, and
-- never exchanged between a cluster's tasks to be matched (four `IN (subquery)` tests over the
-- wide rows did that, once per test). A call's key is unique (`call_sessions`' `-- unique:`).
ioc_addresses AS (SELECT DISTINCT value FROM iocs WHERE kind = 'ip'),
ioc_users AS (SELECT DISTINCT lower(value) AS value FROM iocs WHERE kind = 'user'),
ioc_calls AS (
    SELECT c.call_key FROM window_calls c JOIN ioc_addresses i ON c.client_address = i.value
    WHERE c.time >= $since AND c.time < $until
    UNION
    SELECT c.call_key FROM window_calls c JOIN ioc_users i ON lower(c."user") = i.value
    WHERE c.time >= $since AND c.time < $until
    UNION
    SELECT c.call_key FROM window_calls c JOIN ioc_users i ON lower(c.user_id) = i.value
    WHERE c.time >= $since AND c.time < $until
    UNION
    SELECT c.call_key FROM window_calls c JOIN ioc_users i ON lower(c.enduser_id) = i.value
    WHERE c.time >= $since AND c.time < $until
),
chosen_keys AS (
    SELECT coalesce(m.call_key, i.call_key) AS call_key, coalesce(m.by_address, false) AS by_address,
           coalesce(m.by_session, false) AS by_session, coalesce(m.session_access, false) AS session_access
    FROM marked m
    FULL JOIN ioc_calls i ON m.call_key = i.call_key
),
chosen AS (
    SELECT c.*, k.by_address, k.by_session, k.session_access
    FROM window_calls c
    JOIN chosen_keys k ON c.call_key = k.call_key
    WHERE c.time >= $since AND c.time < $until
)
SELECT c.time, c."user", c.user_id, c.enduser_id, c.client_address, c.origin, c.server, c.tool, c.arguments, c.result,
       c.session_id, cs.session, c.jsonrpc_request_id, c.operation_id, c.span_id, c.apim_subscription_id, c.response_bytes, c.item_count,
       CASE WHEN c.by_address OR c.by_session THEN 'detected' ELSE 'ioc' END AS basis,
       CASE WHEN c.by_address THEN 'address' WHEN c.by_session THEN 'session' ELSE 'ioc' END AS rule,
       -- Whether the client address is the attacker's own (not a steered agent's usual address):
       -- responses to it left the organisation.
       c.by_address OR c.session_access OR NOT c.by_session AS attacker_address,
       c._blob, c._line, c.call_key
FROM chosen c
LEFT JOIN call_sessions cs ON c.call_key = cs.call_key
ORDER BY c.time, c._blob, c._line
