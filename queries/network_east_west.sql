-- name: network_east_west
-- description: East-west connections of the window (network view): allowed flows between two private addresses (RFC 1918) per source, destination and port, new when no flow joined the same pair and port in the baseline; flagged when the port is a management or database port (SSH, RDP, WinRM, SMB, SQL Server, MySQL, PostgreSQL, Redis, MongoDB, Elasticsearch) and when the source is an MCP host (lateral movement after a server compromise).
-- params: since, until, baseline_start
-- depends: mcp_hosts
-- output: src_ip, dst_ip, dst_port, flows, first_flow, new_in_window, management_or_database_port, from_mcp_host
WITH private AS (
    SELECT src_ip, dst_ip, dst_port, time
    FROM flows
    WHERE time >= $baseline_start AND time < $until AND decision = 'A'
      AND (src_ip LIKE '10.%' OR src_ip LIKE '192.168.%'
           OR (src_ip LIKE '172.%' AND CAST(split_part(src_ip, '.', 2) AS INT) BETWEEN 16 AND 31))
      AND (dst_ip LIKE '10.%' OR dst_ip LIKE '192.168.%'
           OR (dst_ip LIKE '172.%' AND CAST(split_part(dst_ip, '.', 2) AS INT) BETWEEN 16 AND 31))
),
pairs AS (
    SELECT src_ip, dst_ip, dst_port,
           sum(CASE WHEN time >= $since THEN 1 ELSE 0 END) AS flows,
           min(CASE WHEN time >= $since THEN time END) AS first_flow,
           sum(CASE WHEN time < $since THEN 1 ELSE 0 END) AS baseline_flows
    FROM private
    GROUP BY src_ip, dst_ip, dst_port
)
SELECT p.src_ip, p.dst_ip, p.dst_port, p.flows, p.first_flow, p.baseline_flows = 0 AS new_in_window,
       p.dst_port IN (22, 3389, 5985, 5986, 445, 1433, 3306, 5432, 6379, 27017, 9200) AS management_or_database_port,
       h.ip IS NOT NULL AS from_mcp_host
FROM pairs p
LEFT JOIN (SELECT DISTINCT ip FROM mcp_hosts) h ON p.src_ip = h.ip
WHERE p.flows > 0
ORDER BY new_in_window DESC, management_or_database_port DESC, from_mcp_host DESC, p.flows DESC, p.src_ip, p.dst_ip, p.dst_port
