-- name: window_outbound
-- description: The window's allowed outbound flows from the MCP hosts to destinations never seen in the baseline (no host's outbound flow reached them between the baseline start and the window), each with its evidence row, and whether an HTTP dependency the server logged (baseline or window) names the destination's address. exfiltration and server_compromise both read them, so the flows are read once.
-- params: since, until, baseline_start
-- depends: mcp_hosts
-- output: host, dst_ip, dst_port, src_port, time, bytes, named_by_dependency, _blob, _line
WITH baseline_destinations AS (
    SELECT DISTINCT dst_ip FROM flows WHERE direction = 'O' AND time >= $baseline_start AND time < $since
),
named_destinations AS (
    SELECT DISTINCT peer_address AS ip FROM "AppDependencies"
    WHERE "TimeGenerated" >= $baseline_start AND "TimeGenerated" < $until AND peer_address IS NOT NULL
)
SELECT f.src_ip AS host, f.dst_ip, f.dst_port, f.src_port, f.time, coalesce(f.bytes_src_to_dst, 0) AS bytes,
       n.ip IS NOT NULL AS named_by_dependency, f._blob, f._line
FROM flows f
JOIN mcp_hosts h ON f.src_ip = h.ip
LEFT JOIN baseline_destinations b ON f.dst_ip = b.dst_ip
LEFT JOIN named_destinations n ON f.dst_ip = n.ip
WHERE f.direction = 'O' AND f.decision = 'A' AND f.time >= $since AND f.time < $until AND b.dst_ip IS NULL
ORDER BY f.time, f._blob, f._line
