-- name: network_inbound_management
-- description: Inbound management-port connections from outside (network view): allowed inbound flows in the window from an address that is not private (RFC 1918, loopback, link-local, Azure's platform address 168.63.129.16) to a management port (SSH 22, Telnet 23, RDP 3389, VNC 5900, WinRM 5985/5986) of any host, per source, host and port; new_source when that source reached no management port in the baseline. An exposed management port is how hosts are taken over.
-- params: since, until, baseline_start
-- output: src_ip, dst_ip, dst_port, flows, bytes, first_flow, last_flow, new_source
WITH management AS (
    SELECT src_ip, dst_ip, dst_port, time,
           coalesce(bytes_src_to_dst, 0) + coalesce(bytes_dst_to_src, 0) AS bytes
    FROM flows
    WHERE time >= $baseline_start AND time < $until AND decision = 'A' AND direction = 'I'
      AND dst_port IN (22, 23, 3389, 5900, 5985, 5986)
      AND NOT (src_ip LIKE '10.%' OR src_ip LIKE '192.168.%' OR src_ip LIKE '127.%'
               OR src_ip LIKE '169.254.%' OR src_ip = '168.63.129.16'
               OR (src_ip LIKE '172.%' AND TRY_CAST(split_part(src_ip, '.', 2) AS INT) BETWEEN 16 AND 31))
),
baseline_sources AS (SELECT DISTINCT src_ip FROM management WHERE time < $since)
SELECT m.src_ip, m.dst_ip, m.dst_port, count(*) AS flows, sum(m.bytes) AS bytes,
       min(m.time) AS first_flow, max(m.time) AS last_flow, b.src_ip IS NULL AS new_source
FROM management m LEFT JOIN baseline_sources b ON m.src_ip = b.src_ip
WHERE m.time >= $since
GROUP BY m.src_ip, m.dst_ip, m.dst_port, b.src_ip
ORDER BY new_source DESC, flows DESC, m.src_ip, m.dst_ip, m.dst_port
