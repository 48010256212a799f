-- name: network_denied
-- description: Denied flows of the window by source and destination port (network view: scans and blocked attempts): flows, distinct destinations, first and last, and whether the source is outside the private ranges; the 100 sources and ports denied most.
-- params: since, until
-- output: src_ip, dst_port, denied_flows, destinations, first_flow, last_flow, from_outside
SELECT src_ip, dst_port, count(*) AS denied_flows, count(DISTINCT dst_ip) AS destinations,
       min(time) AS first_flow, max(time) AS last_flow,
       NOT (src_ip LIKE '10.%' OR src_ip LIKE '192.168.%'
            OR (src_ip LIKE '172.%' AND CAST(split_part(src_ip, '.', 2) AS INT) BETWEEN 16 AND 31)) AS from_outside
FROM flows
WHERE time >= $since AND time < $until AND decision = 'D'
GROUP BY src_ip, dst_port
ORDER BY denied_flows DESC, src_ip, dst_port
LIMIT 100
