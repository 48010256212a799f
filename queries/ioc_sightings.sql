-- name: ioc_sightings
-- description: Where each address given with --ioc-ip occurs in the window, in every place an address is written: tool calls' client addresses, flows on either side, sign-ins, API Management's caller addresses, and outgoing dependencies (by the address a row carries, or by a host name window_outbound tied to that address). One row per indicator and place, with the records and the first and last time; an indicator with no row occurs nowhere in the window's evidence.
-- params: since, until
-- depends: window_calls, window_signins, window_outbound
-- output: value, place, records, first, last
WITH ips AS (SELECT DISTINCT value FROM iocs WHERE kind = 'ip')
SELECT value, place, sum(records) AS records, min(first) AS first, max(last) AS last FROM (
    SELECT i.value, 'tool call client address' AS place, CAST(1 AS BIGINT) AS records, w.time AS first, w.time AS last
    FROM window_calls w JOIN ips i ON w.client_address = i.value
    WHERE w.time >= $since AND w.time < $until
    UNION ALL
    SELECT i.value, CASE WHEN f.direction = 'O' THEN 'outbound flow source' ELSE 'inbound flow source' END, CAST(1 AS BIGINT) AS records, f.time AS first, f.time AS last
    FROM flows f JOIN ips i ON f.src_ip = i.value
    WHERE f.time >= $since AND f.time < $until
    UNION ALL
    SELECT i.value, CASE WHEN f.direction = 'O' THEN 'outbound flow destination' ELSE 'inbound flow destination' END, CAST(1 AS BIGINT) AS records, f.time AS first, f.time AS last
    FROM flows f JOIN ips i ON f.dst_ip = i.value
    WHERE f.time >= $since AND f.time < $until
    UNION ALL
    SELECT i.value, 'sign-in address', CAST(1 AS BIGINT) AS records, s.time AS first, s.time AS last
    FROM window_signins s JOIN ips i ON s.ip = i.value
    WHERE s.time >= $since AND s.time < $until
    UNION ALL
    SELECT i.value, 'API Management caller address', CAST(1 AS BIGINT) AS records, g."TimeGenerated" AS first, g."TimeGenerated" AS last
    FROM "ApiManagementGatewayLogs" g JOIN ips i ON g."CallerIpAddress" = i.value
    WHERE g."TimeGenerated" >= $since AND g."TimeGenerated" < $until
    UNION ALL
    SELECT i.value, 'outgoing dependency address', CAST(1 AS BIGINT) AS records, d."TimeGenerated" AS first, d."TimeGenerated" AS last
    FROM "AppDependencies" d JOIN ips i ON d.peer_address = i.value
    WHERE d."TimeGenerated" >= $since AND d."TimeGenerated" < $until
    UNION ALL
    SELECT i.value, 'outgoing dependency host (' || array_to_string(o.named_hosts, ', ') || ', tied by ' || o.named_basis || ')', o.flows AS records, o.first, o.last
    FROM window_outbound o JOIN ips i ON o.dst_ip = i.value
    WHERE o.named_hosts IS NOT NULL
) sightings
GROUP BY value, place
ORDER BY value, first, place
