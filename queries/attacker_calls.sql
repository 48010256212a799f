-- name: attacker_calls
-- description: The tool calls in the window that are the attacker's: every call from an (identity, address) pair ip_profiles judged to be an attacker, plus every call matching a known-bad IP or identity given with --ioc-ip / --ioc-user (table iocs).
-- params: since, until
-- depends: ip_profiles
-- output: time, user, user_id, enduser_id, client_address, origin, server, tool, arguments, result, session_id, jsonrpc_request_id, operation_id, span_id, response_bytes, item_count, basis, _blob, _line
SELECT c.time, c."user", c.user_id, c.enduser_id, c.client_address, c.origin, c.server, c.tool, c.arguments, c.result,
       c.session_id, c.jsonrpc_request_id, c.operation_id, c.span_id, c.response_bytes, c.item_count,
       CASE WHEN coalesce(p.attacker, false) THEN 'detected' ELSE 'ioc' END AS basis,
       c._blob, c._line
FROM tool_calls c
LEFT JOIN ip_profiles p ON c."user" = p."user" AND c.client_address = p.client_address
WHERE c.time >= $since AND c.time < $until
  AND (coalesce(p.attacker, false)
       OR c.client_address IN (SELECT value FROM iocs WHERE kind = 'ip')
       OR lower(c."user") IN (SELECT lower(value) FROM iocs WHERE kind = 'user')
       OR lower(c.user_id) IN (SELECT lower(value) FROM iocs WHERE kind = 'user')
       OR lower(c.enduser_id) IN (SELECT lower(value) FROM iocs WHERE kind = 'user'))
ORDER BY c.time, c._blob, c._line
