-- name: attacker_calls
-- description: The tool calls in the window that are the attacker's: every call from an (identity, client address) pair ip_profiles judged to be someone else at the keyboard (rule `address`), every call of a session session_profiles judged to be steered by someone else (rule `session`: the same identity's other sessions, even from the same address, stay its own; responses to the address count as exfiltration only when the address itself is new, `attacker_address`), and every call matching a known-bad IP or identity given with --ioc-ip / --ioc-user (rule `ioc`).
-- params: since, until
-- depends: ip_profiles, session_profiles, call_sessions
-- output: time, user, user_id, enduser_id, client_address, origin, server, tool, arguments, result, session_id, session, jsonrpc_request_id, operation_id, span_id, response_bytes, item_count, basis, rule, attacker_address, _blob, _line
SELECT c.time, c."user", c.user_id, c.enduser_id, c.client_address, c.origin, c.server, c.tool, c.arguments, c.result,
       c.session_id, cs.session, c.jsonrpc_request_id, c.operation_id, c.span_id, c.response_bytes, c.item_count,
       CASE WHEN coalesce(p.attacker, false) OR coalesce(s.attacker, false) THEN 'detected' ELSE 'ioc' END AS basis,
       CASE WHEN coalesce(p.attacker, false) THEN 'address' WHEN coalesce(s.attacker, false) THEN 'session' ELSE 'ioc' END AS rule,
       -- Whether the client address is the attacker's own (not a steered agent's usual address):
       -- responses to it left the organisation.
       coalesce(p.attacker, false) OR coalesce(s.access, false) OR NOT coalesce(s.attacker, false) AS attacker_address,
       c._blob, c._line
FROM tool_calls c
LEFT JOIN ip_profiles p ON c."user" = p."user" AND c.client_address = p.client_address
LEFT JOIN call_sessions cs ON c._blob = cs._blob AND c._line = cs._line
LEFT JOIN session_profiles s ON cs."user" = s."user" AND cs.session = s.session
WHERE c.time >= $since AND c.time < $until
  AND (coalesce(p.attacker, false)
       OR coalesce(s.attacker, false)
       OR c.client_address IN (SELECT value FROM iocs WHERE kind = 'ip')
       OR lower(c."user") IN (SELECT lower(value) FROM iocs WHERE kind = 'user')
       OR lower(c.user_id) IN (SELECT lower(value) FROM iocs WHERE kind = 'user')
       OR lower(c.enduser_id) IN (SELECT lower(value) FROM iocs WHERE kind = 'user'))
ORDER BY c.time, c._blob, c._line
