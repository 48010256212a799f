-- name: exfiltration
-- description: Where the data went, per destination and path: (1) responses to attacker client addresses (server-to-client bytes of inbound flows, else the response sizes the server logged; separately, the response sizes API Management logged for calls through it); (2) outbound flows from the MCP hosts to destinations new in the window (not reached in the baseline within three days before their first flow of the window), when an attacker call's HTTP dependency names them or they start within ten minutes after an attacker call (unless the server's dependencies for other callers name them too); (3) attacker-call HTTP dependencies to new hosts with no flow record; (4) what the server copies out by itself (server_compromise); (5) outbound flows from the MCP hosts to an address given with --ioc-ip, even one seen in the baseline. Destinations in use up to the window (backups, Key Vault) never appear.
-- params: since, until
-- depends: attacker_calls, attacker_flows, window_outbound, server_compromise, mcp_hosts, window_calls, window_dependencies, attacker_dependencies
-- output: destination_ip, destination_host, bytes, first, last, path, records
WITH attacker_ips AS (SELECT DISTINCT client_address AS ip FROM attacker_calls WHERE attacker_address),
response_flows AS (
    SELECT ip, sum(coalesce(bytes_dst_to_src, 0)) AS bytes, min(time) AS first, max(time) AS last, count(*) AS records
    FROM attacker_flows
    WHERE decision = 'A'
    GROUP BY ip
),
response_logged AS (
    SELECT client_address AS ip, sum(response_bytes) AS bytes, min(time) AS first, max(time) AS last, count(*) AS records
    FROM attacker_calls
    WHERE response_bytes IS NOT NULL AND origin NOT LIKE 'APIM%' AND attacker_address
    GROUP BY client_address
),
apim_responses AS (
    SELECT client_address AS destination_ip, CAST(NULL AS VARCHAR) AS destination_host, sum(response_bytes) AS bytes,
           min(time) AS first, max(time) AS last,
           'responses to the attacker client through API Management (ResponseSize of the gateway log)' AS path, count(*) AS records
    FROM attacker_calls
    WHERE origin LIKE 'APIM%' AND coalesce(response_bytes, 0) > 0 AND attacker_address
    GROUP BY client_address
),
responses AS (
    SELECT a.ip AS destination_ip, CAST(NULL AS VARCHAR) AS destination_host,
           CASE WHEN f.bytes > 0 THEN f.bytes ELSE coalesce(l.bytes, 0) END AS bytes,
           CASE WHEN f.bytes > 0 THEN f.first ELSE l.first END AS first,
           CASE WHEN f.bytes > 0 THEN f.last ELSE l.last END AS last,
           CASE WHEN f.bytes > 0 THEN 'responses to the attacker client (inbound flows, server-to-client bytes)'
                ELSE 'responses to the attacker client (response sizes logged by the server or API Management)' END AS path,
           CASE WHEN f.bytes > 0 THEN f.records ELSE coalesce(l.records, 0) END AS records
    FROM attacker_ips a
    LEFT JOIN response_flows f ON a.ip = f.ip
    LEFT JOIN response_logged l ON a.ip = l.ip
    WHERE coalesce(f.bytes, 0) > 0 OR coalesce(l.bytes, 0) > 0
),
new_outbound AS (SELECT dst_ip, minute, flows, bytes, first, last, named_hosts FROM window_outbound),
-- The host names the new destinations answer to (window_outbound: a dependency's address, or
-- connections starting with a host's dependencies).
destination_hosts AS (
    SELECT DISTINCT dst_ip, unnest(named_hosts) AS host FROM window_outbound WHERE named_hosts IS NOT NULL
),
-- A destination the server reaches for other callers too (a new service it started using) is
-- not the attacker's, however close in time to an attacker call.
-- Calls whose caller the evidence does not name (a gateway call without its server row) are
-- nobody's work: they neither make a destination the server's own nor the attacker's.
unnamed_operations AS (
    SELECT DISTINCT operation_id FROM window_calls
    WHERE "user" = '(authenticated caller, not named)' AND time >= $since AND time < $until AND operation_id IS NOT NULL
),
own_work_targets AS (
    SELECT DISTINCT d.host AS target, d.peer_address
    FROM window_dependencies d
    LEFT JOIN (SELECT DISTINCT operation_id FROM attacker_calls) a ON d.operation_id = a.operation_id
    LEFT JOIN unnamed_operations u ON d.operation_id = u.operation_id
    WHERE d.time >= $since AND d.time < $until AND d.has_target AND a.operation_id IS NULL AND u.operation_id IS NULL
),
own_work_destinations AS (
    SELECT DISTINCT peer_address AS ip FROM own_work_targets WHERE peer_address IS NOT NULL
    UNION
    SELECT DISTINCT h.dst_ip FROM destination_hosts h JOIN own_work_targets w ON h.host = w.target
),
-- Addresses of the attacker's dependency hosts: the address a row carries, else the new
-- destinations that answer to the host's name.
dependency_hosts AS (
    SELECT ip, max(host) AS host FROM (
        SELECT peer_address AS ip, host FROM attacker_dependencies WHERE peer_address IS NOT NULL
        UNION ALL
        SELECT h.dst_ip AS ip, h.host FROM destination_hosts h JOIN (SELECT DISTINCT host FROM attacker_dependencies) d ON h.host = d.host
    ) linked
    GROUP BY ip
),
-- A flow within ten minutes after an attacker call: the call's eleven minutes as rows of their
-- own (an equi-join on the minute, not a comparison of every flow with every call), and a minute
-- of flows lies partly in the span exactly when its last flow is at or after the call and its
-- first at or before the span's end (no minute holds both ends of a ten-minute span).
attacker_minutes AS (
    SELECT c.time, date_bin(INTERVAL '1 minute', c.time) + c.k AS minute
    FROM (SELECT a.time,
                 unnest(make_array(INTERVAL '0 minutes', INTERVAL '1 minutes', INTERVAL '2 minutes', INTERVAL '3 minutes',
                                   INTERVAL '4 minutes', INTERVAL '5 minutes', INTERVAL '6 minutes', INTERVAL '7 minutes',
                                   INTERVAL '8 minutes', INTERVAL '9 minutes', INTERVAL '10 minutes')) AS k
          FROM (SELECT DISTINCT time FROM attacker_calls) a) c
),
near_attacker AS (
    SELECT DISTINCT o.dst_ip
    FROM attacker_minutes a
    JOIN new_outbound o ON o.minute = a.minute
    LEFT JOIN own_work_destinations w ON o.dst_ip = w.ip
    WHERE o.last >= a.time AND o.first <= a.time + INTERVAL '10 minutes' AND w.ip IS NULL
),
outbound AS (
    SELECT o.dst_ip AS destination_ip, max(h.host) AS destination_host, sum(o.bytes) AS bytes, min(o.first) AS first, max(o.last) AS last,
           CASE WHEN max(h.host) IS NOT NULL
                THEN 'upload by the server on attacker request (HTTP dependency of an attacker call to a new host, outbound flows)'
                ELSE 'outbound flows from an MCP host to a destination new in the window, during attacker activity' END AS path,
           sum(o.flows) AS records
    FROM new_outbound o
    LEFT JOIN dependency_hosts h ON o.dst_ip = h.ip
    LEFT JOIN near_attacker n ON o.dst_ip = n.dst_ip
    LEFT JOIN server_compromise s ON o.dst_ip = s.destination_ip
    WHERE s.destination_ip IS NULL
    GROUP BY o.dst_ip
    HAVING max(h.host) IS NOT NULL OR max(n.dst_ip) IS NOT NULL
),
implant AS (
    SELECT destination_ip, CAST(NULL AS VARCHAR) AS destination_host, sum(bytes) AS bytes, min(first) AS first, max(last) AS last,
           'copied out by the server itself (outbound flows to a new destination no dependency names, following its tool calls: an implant)' AS path,
           sum(flows) AS records
    FROM server_compromise
    GROUP BY destination_ip
),
dependency_only AS (
    SELECT coalesce(d.peer_address, '') AS destination_ip, d.host AS destination_host, CAST(0 AS BIGINT) AS bytes, min(d.time) AS first, max(d.time) AS last,
           'HTTP dependency of an attacker call to a new host (no flow record)' AS path, count(*) AS records
    FROM attacker_dependencies d
    LEFT JOIN (SELECT DISTINCT dst_ip FROM new_outbound) o ON d.peer_address = o.dst_ip
    LEFT JOIN (SELECT DISTINCT host FROM dependency_hosts) l ON d.host = l.host
    WHERE o.dst_ip IS NULL AND l.host IS NULL
    GROUP BY 1, 2
),
-- Outbound flows from an MCP host to an address the responder named (--ioc-ip), seen in the
-- baseline or not, where no other path already holds that destination.
indicated AS (
    SELECT f.dst_ip AS destination_ip, CAST(NULL AS VARCHAR) AS destination_host, sum(coalesce(f.bytes_src_to_dst, 0)) AS bytes,
           min(f.time) AS first, max(f.time) AS last,
           'outbound flows from an MCP host to an indicator address (--ioc-ip)' AS path, count(*) AS records
    FROM flows f
    JOIN mcp_hosts h ON f.src_ip = h.ip
    JOIN (SELECT DISTINCT value FROM iocs WHERE kind = 'ip') i ON f.dst_ip = i.value
    LEFT JOIN (SELECT DISTINCT dst_ip FROM new_outbound) o ON f.dst_ip = o.dst_ip
    LEFT JOIN (SELECT DISTINCT destination_ip FROM server_compromise) s ON f.dst_ip = s.destination_ip
    WHERE f.direction = 'O' AND f.decision = 'A' AND f.time >= $since AND f.time < $until
      AND o.dst_ip IS NULL AND s.destination_ip IS NULL
    GROUP BY f.dst_ip
)
SELECT * FROM responses
UNION ALL SELECT * FROM apim_responses
UNION ALL SELECT * FROM indicated
UNION ALL SELECT * FROM outbound
UNION ALL SELECT * FROM dependency_only
UNION ALL SELECT * FROM implant
ORDER BY bytes DESC, destination_ip, path
