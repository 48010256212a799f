-- name: attacker_flows
-- description: The window's inbound flow records from the attacker's client addresses (the addresses of attacker calls the address rule found): what the server sent back to them, by time and decision. Read once for exfiltration (the bytes of the allowed flows) and affected_customers (the responses around each attacker call), which read the flows twice.
-- params: since, until
-- depends: attacker_calls
-- output: ip, time, decision, bytes_dst_to_src
SELECT f.src_ip AS ip, f.time, f.decision, f.bytes_dst_to_src
FROM flows f
JOIN (SELECT DISTINCT client_address AS ip FROM attacker_calls WHERE attacker_address) a ON f.src_ip = a.ip
WHERE f.direction = 'I' AND f.time >= $since AND f.time < $until
