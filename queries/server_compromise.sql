-- name: server_compromise
-- description: Signs that the MCP server itself copies data out (an implant), with no identity misused: outbound flows from an MCP host (a host MCP clients connect to; every host receiving allowed inbound flows when no call carries a client address) to a destination new in the window (not reached in the baseline within three days before its first flow of the window) that no HTTP dependency explains (neither by its address nor by a host name whose dependencies start with its connections), whose bytes mostly leave within ten minutes after the server answered calls (a copy of the results; a beacon alone carries little), in at least three hours without any attacker call (an implant copies every caller's answers, not only the attacker's) (what the attacker's own requests cause, the server's upload on their request included, is exfiltration, never an implant). One row per host and destination.
-- params: since, until
-- depends: window_outbound, window_calls, attacker_calls
-- output: host, destination_ip, destination_port, flows, bytes, following_bytes, first, last
WITH new_outbound AS (
    SELECT host, dst_ip, dst_port, minute, flows, bytes, first, last
    FROM window_outbound
    WHERE NOT named_by_dependency
),
call_minutes AS (
    SELECT DISTINCT date_bin(INTERVAL '1 minute', time) AS minute FROM window_calls
    WHERE time >= $since - INTERVAL '10 minutes' AND time < $until
),
attacker_hours AS (
    SELECT DISTINCT date_bin(INTERVAL '1 hour', time) AS hour FROM attacker_calls
),
-- Each destination's bytes per minute: whether a flow follows calls depends on its minute only.
flow_minutes AS (
    SELECT dst_ip, minute, sum(bytes) AS bytes
    FROM new_outbound
    GROUP BY dst_ip, minute
),
following AS (
    SELECT DISTINCT o.dst_ip, o.minute, o.bytes
    -- each minute's eleven minutes back as rows of their own (an unnest, not a cross join, which
    -- with the minutes as its collected side emits one batch per minute and offset)
    FROM (SELECT fm.dst_ip, fm.minute, fm.bytes,
                 unnest(make_array(INTERVAL '0 minutes', INTERVAL '1 minutes', INTERVAL '2 minutes', INTERVAL '3 minutes',
                                   INTERVAL '4 minutes', INTERVAL '5 minutes', INTERVAL '6 minutes', INTERVAL '7 minutes',
                                   INTERVAL '8 minutes', INTERVAL '9 minutes', INTERVAL '10 minutes')) AS k
          FROM flow_minutes fm) o
    JOIN call_minutes m ON m.minute = o.minute - o.k
),
following_bytes AS (SELECT dst_ip, sum(bytes) AS bytes FROM following GROUP BY dst_ip),
quiet_hours AS (
    SELECT o.dst_ip, count(DISTINCT date_bin(INTERVAL '1 hour', o.minute)) AS hours
    FROM flow_minutes o
    LEFT JOIN attacker_hours a ON date_bin(INTERVAL '1 hour', o.minute) = a.hour
    WHERE a.hour IS NULL
    GROUP BY o.dst_ip
)
SELECT o.host, o.dst_ip AS destination_ip, min(o.dst_port) AS destination_port, sum(o.flows) AS flows, sum(o.bytes) AS bytes,
       coalesce(max(fb.bytes), 0) AS following_bytes, min(o.first) AS first, max(o.last) AS last
FROM new_outbound o
LEFT JOIN following_bytes fb ON o.dst_ip = fb.dst_ip
LEFT JOIN quiet_hours q ON o.dst_ip = q.dst_ip
GROUP BY o.host, o.dst_ip
HAVING sum(o.flows) >= 3 AND coalesce(max(fb.bytes), 0) * 2 >= sum(o.bytes) AND sum(o.bytes) > 0
   AND coalesce(max(q.hours), 0) >= 3
ORDER BY first, destination_ip
