-- name: window_new_destinations
-- description: The destinations the MCP hosts' allowed outbound flows reach in the window that are new: no host's outbound flow reached them in the baseline within three days before their first flow of the window (after a longer quiet spell a cloud address may have changed hands: a partner's API weeks before says nothing about who listens there now), one row each with that first flow. window_outbound reads them three times (the destinations' names, their connections, their flows per minute); held once, the baseline's flows are scanned once (as a common table expression they were scanned once per reference, four times a run).
-- params: since, baseline_start
-- depends: host_outbound
-- output: dst_ip, first_seen
WITH window_first AS (SELECT dst_ip, min(time) AS first_seen FROM host_outbound GROUP BY dst_ip),
known_destinations AS (
    SELECT w.dst_ip FROM window_first w
    JOIN flows f ON f.dst_ip = w.dst_ip
    WHERE f.direction = 'O' AND f.time >= $baseline_start AND f.time < $since AND f.time >= w.first_seen - INTERVAL '3 days'
    GROUP BY w.dst_ip
)
SELECT w.dst_ip, w.first_seen FROM window_first w
LEFT JOIN known_destinations k ON w.dst_ip = k.dst_ip
WHERE k.dst_ip IS NULL
