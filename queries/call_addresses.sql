-- name: call_addresses
-- description: The tool calls of the window by where their caller's address came from (the MCP row, its HTTP parent, the API Management gateway log, an HTTP access log by time) and whether they have one, and whether the caller is one API Management authenticated but the evidence does not name (a gateway call whose server row is missing). The signs that compare addresses cannot judge a call without one, and no sign judges an unnamed caller; the coverage statements say how many there are.
-- params: since
-- depends: window_calls
-- output: client_address_source, has_address, unnamed, calls, first_call, last_call
SELECT coalesce(client_address_source, '(none)') AS client_address_source,
       client_address IS NOT NULL AS has_address,
       "user" = '(authenticated caller, not named)' AS unnamed,
       count(*) AS calls, min(time) AS first_call, max(time) AS last_call
FROM window_calls
WHERE time >= $since
GROUP BY 1, 2, 3
ORDER BY calls DESC, client_address_source, unnamed
