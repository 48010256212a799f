-- name: host_outbound
-- description: The window's allowed outbound flows from the MCP hosts, one row per flow tuple (host, destination, ports, time, bytes sent). window_outbound reads them several times (the destinations' first flows, the connections, the flows themselves); held once, the flow logs are scanned once. No evidence row is kept: what reads them counts and sums flows per destination and minute, and the flow logs stay in the case for anyone to cite.
-- params: since, until
-- depends: mcp_hosts
-- output: host, dst_ip, dst_port, src_port, time, bytes
SELECT f.src_ip AS host, f.dst_ip, f.dst_port, f.src_port, f.time, coalesce(f.bytes_src_to_dst, 0) AS bytes
FROM flows f
JOIN mcp_hosts h ON f.src_ip = h.ip
WHERE f.direction = 'O' AND f.decision = 'A' AND f.time >= $since AND f.time < $until
