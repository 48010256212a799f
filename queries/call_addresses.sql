-- name: call_addresses
-- description: The tool calls of the window by where their caller's address came from (the MCP row, its HTTP parent, the API Management gateway log, an HTTP access log by time) and whether they have one. The signs that compare addresses cannot judge a call without one; the coverage statements say how many there are.
-- params: since
-- depends: window_calls
-- output: client_address_source, has_address, calls
SELECT coalesce(client_address_source, '(none)') AS client_address_source,
       client_address IS NOT NULL AS has_address, count(*) AS calls
FROM window_calls
WHERE time >= $since
GROUP BY 1, 2
ORDER BY calls DESC, client_address_source
