-- name: mcp_hosts
-- description: The addresses of the MCP servers' hosts: those MCP clients' addresses connect to in the flows; the backends API Management forwards MCP requests to (the address in the gateway log's BackendUrl, where it is one), since behind a gateway the server's flows come from the gateway, not the client; when no tool call carries a client address (SDKs that emit none), every host receiving allowed inbound flows in the window.
-- params: since, until, baseline_start
-- depends: window_calls
-- output: ip
WITH addressed AS (SELECT DISTINCT client_address FROM window_calls WHERE client_address IS NOT NULL),
backends AS (
    SELECT DISTINCT target_host("BackendUrl") AS ip
    FROM "ApiManagementGatewayLogs"
    WHERE "TimeGenerated" >= $baseline_start AND "TimeGenerated" < $until AND "BackendUrl" IS NOT NULL
)
SELECT DISTINCT f.dst_ip AS ip
FROM flows f JOIN addressed c ON f.src_ip = c.client_address
WHERE f.direction = 'I' AND f.time >= $baseline_start AND f.time < $until
UNION
SELECT DISTINCT f.dst_ip
FROM flows f JOIN backends b ON f.dst_ip = b.ip
WHERE f.direction = 'I' AND f.time >= $baseline_start AND f.time < $until
UNION
SELECT DISTINCT dst_ip FROM flows
WHERE direction = 'I' AND decision = 'A' AND time >= $since AND time < $until
  AND (SELECT count(*) FROM addressed) = 0
