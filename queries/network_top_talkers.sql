-- name: network_top_talkers
-- description: The window's top talkers in the flow logs (network view): allowed flows per source, destination and destination port, with bytes each way, flows and the first and last flow; the 50 pairs that moved the most bytes.
-- params: since, until
-- output: src_ip, dst_ip, dst_port, direction, flows, bytes_out, bytes_in, first_flow, last_flow
SELECT src_ip, dst_ip, dst_port, direction, count(*) AS flows,
       sum(coalesce(bytes_src_to_dst, 0)) AS bytes_out, sum(coalesce(bytes_dst_to_src, 0)) AS bytes_in,
       min(time) AS first_flow, max(time) AS last_flow
FROM flows
WHERE time >= $since AND time < $until AND decision = 'A'
GROUP BY src_ip, dst_ip, dst_port, direction
ORDER BY sum(coalesce(bytes_src_to_dst, 0)) + sum(coalesce(bytes_dst_to_src, 0)) DESC, src_ip, dst_ip, dst_port
LIMIT 50
