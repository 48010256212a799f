-- name: management_access
-- description: Allowed inbound connections in the window to an MCP host on a management port (SSH 22, Telnet 23, RDP 3389, VNC 5900, WinRM 5985/5986) from an address that never connected to a management port in the baseline: how an implant may have been planted.
-- params: since, until, baseline_start
-- depends: mcp_hosts
-- output: source_ip, host, port, flows, bytes, first, last
WITH management AS (
    SELECT f.* FROM flows f JOIN mcp_hosts h ON f.dst_ip = h.ip
    WHERE f.direction = 'I' AND f.decision = 'A' AND f.dst_port IN (22, 23, 3389, 5900, 5985, 5986)
      AND f.time >= $baseline_start AND f.time < $until
),
baseline_sources AS (SELECT DISTINCT src_ip FROM management WHERE time < $since)
SELECT m.src_ip AS source_ip, m.dst_ip AS host, m.dst_port AS port, count(*) AS flows,
       sum(coalesce(m.bytes_src_to_dst, 0) + coalesce(m.bytes_dst_to_src, 0)) AS bytes, min(m.time) AS first, max(m.time) AS last
FROM management m LEFT JOIN baseline_sources b ON m.src_ip = b.src_ip
WHERE m.time >= $since AND b.src_ip IS NULL
GROUP BY m.src_ip, m.dst_ip, m.dst_port
ORDER BY first, source_ip
