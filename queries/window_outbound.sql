-- name: window_outbound
-- description: The window's allowed outbound flows from the MCP hosts to destinations new in the window (no host's outbound flow reached them in the baseline within three days before their first flow of the window: after a longer quiet spell a cloud address may have changed hands), per host, destination, port and minute (the minute's flows, bytes sent, first and last flow: what every reader counts, sums or places in time, exactly, in a few rows rather than one per flow tuple), with the host names the server's own HTTP dependencies give that address (the new destinations are window_new_destinations). Flow logs hold addresses, dependencies host names (Target) and rarely an address: a destination is named by a dependency when a dependency row carries its address (network.peer.address), or when at least half of its connections start within two seconds of a dependency to one host, at least a fifth of whose dependencies start with its connections, and whose dependencies are sparse enough (their ±2 s cover at most a tenth of the window) that so many coincidences are not chance; a sampled dependency row counts for its ItemCount. exfiltration and server_compromise both read them, so the flows are read once (host_outbound).
-- params: since, until, baseline_start
-- depends: host_outbound, window_new_destinations, window_dependencies
-- output: host, dst_ip, dst_port, minute, flows, bytes, first, last, named_by_dependency, named_hosts, named_basis
-- Addresses dependency rows carry, from three days before the destination's first flow of the
-- window on (an address tied to a host weeks before may have changed hands since).
WITH addressed_destinations AS (
    SELECT d.peer_address AS ip, array_agg(DISTINCT target_host(d."Target")) AS hosts
    FROM "AppDependencies" d
    JOIN window_new_destinations n ON d.peer_address = n.dst_ip
    WHERE d."TimeGenerated" >= $baseline_start AND d."TimeGenerated" < $until AND d.peer_address IS NOT NULL
      AND d."TimeGenerated" >= n.first_seen - INTERVAL '3 days'
    GROUP BY d.peer_address
),
-- The destinations new in the window (window_new_destinations, a few rows) joined to the flows as
-- the side held in memory: a left join keeping every flow would hold the flows themselves, and its
-- output batches would each carry every flow's bytes (the sort after it then spilled them to disk).
new_flows AS (
    SELECT f.* FROM window_new_destinations n JOIN host_outbound f ON f.dst_ip = n.dst_ip
),
-- A connection is one (host, destination, ports); it starts at its first tuple (B in v2 and VNet
-- logs; the first tuple seen where the begin tuple is missing or the log is v1).
connections AS (
    SELECT host, dst_ip, dst_port, src_port, date_trunc('second', min(time)) AS start
    FROM new_flows
    GROUP BY host, dst_ip, dst_port, src_port
),
-- Each connection's seconds as rows of their own (an unnest per connection, not a cross join: a
-- cross join with the connections as its collected side emits one batch per connection and offset).
connection_seconds AS (
    SELECT o.dst_ip, o.host, o.src_port, o.dst_port, o.start, o.start + o.k AS second
    FROM (SELECT c.dst_ip, c.host, c.src_port, c.dst_port, c.start,
                 unnest(make_array(INTERVAL '-2 seconds', INTERVAL '-1 seconds', INTERVAL '0 seconds',
                                   INTERVAL '1 seconds', INTERVAL '2 seconds')) AS k
          FROM connections c) o
),
-- Outgoing calls the server logged, by host name and second (in-process spans reach nothing).
-- A sampled row stands for ItemCount dependencies, of which only it was kept: it counts for that
-- many, so that sampling does not make a service's own connections look unexplained.
dependency_seconds AS (
    SELECT host AS dependency_host, date_trunc('second', time) AS second, max(weight) AS weight
    FROM window_dependencies
    WHERE has_target AND dependency_type <> 'InProc'
    GROUP BY 1, 2
),
-- The share of the window a host's dependencies cover (each ±2 s): where it is large, a flow
-- starting beside one of them says nothing. With the host's dependencies counted (weighted).
host_cover AS (
    SELECT dependency_host, sum(weight) AS dependencies, sum(weight) * 5.0 / greatest(extract(epoch FROM (CAST($until AS TIMESTAMP) - CAST($since AS TIMESTAMP))), 1.0) AS cover
    FROM dependency_seconds
    GROUP BY dependency_host
),
-- Each connection with the hosts whose dependencies start within its ±2 s, by the heaviest such
-- dependency. Joined to the dependency rows themselves, not to dependency_seconds: a CTE read twice
-- is planned twice, and grouping every dependency by host and second was most of this query's time.
coincident_connections AS (
    SELECT c.dst_ip, d.host AS dependency_host, c.host, c.src_port, c.dst_port, c.start, max(d.weight) AS weight
    FROM connection_seconds c
    JOIN window_dependencies d ON c.second = date_trunc('second', d.time)
    WHERE d.has_target AND d.dependency_type <> 'InProc'
    GROUP BY c.dst_ip, d.host, c.host, c.src_port, c.dst_port, c.start
),
coincident AS (
    SELECT dst_ip, dependency_host, sum(weight) AS connections
    FROM coincident_connections
    GROUP BY dst_ip, dependency_host
),
destination_connections AS (SELECT dst_ip, count(*) AS connections FROM connections GROUP BY dst_ip),
timed_destinations AS (
    SELECT c.dst_ip AS ip, array_agg(DISTINCT c.dependency_host) AS hosts
    FROM coincident c
    JOIN destination_connections t ON c.dst_ip = t.dst_ip
    JOIN host_cover h ON c.dependency_host = h.dependency_host
    -- Half the destination's connections start with the host's dependencies, and a fifth of the
    -- host's dependencies with the destination's connections (a database called in the same
    -- second as every geocoding request is not the geocoder; a host behind a few rotating
    -- addresses still is each of them).
    WHERE c.connections * 2 >= t.connections AND c.connections * 5 >= h.dependencies AND h.cover <= 0.1
    GROUP BY c.dst_ip
),
-- What names each new destination, one row each.
destination_names AS (
    SELECT n.dst_ip,
           a.ip IS NOT NULL OR t.ip IS NOT NULL AS named_by_dependency,
           array_sort(coalesce(a.hosts, t.hosts)) AS named_hosts,
           CASE WHEN a.ip IS NOT NULL THEN 'dependency address' WHEN t.ip IS NOT NULL THEN 'host by time ±2 s' END AS named_basis
    FROM window_new_destinations n
    LEFT JOIN addressed_destinations a ON n.dst_ip = a.ip
    LEFT JOIN timed_destinations t ON n.dst_ip = t.ip
),
-- The new destinations' flows per host, port and minute: a time test on a minute's first and last
-- flow is exact for spans longer than a minute (exfiltration's ten minutes after a call).
flow_minutes AS (
    SELECT host, dst_ip, dst_port, date_bin(INTERVAL '1 minute', time) AS minute, count(*) AS flows, sum(bytes) AS bytes,
           min(time) AS first, max(time) AS last
    FROM new_flows
    GROUP BY host, dst_ip, dst_port, date_bin(INTERVAL '1 minute', time)
)
SELECT m.host, m.dst_ip, m.dst_port, m.minute, m.flows, m.bytes, m.first, m.last,
       d.named_by_dependency, d.named_hosts, d.named_basis
FROM destination_names d
JOIN flow_minutes m ON m.dst_ip = d.dst_ip
ORDER BY m.minute, m.host, m.dst_ip, m.dst_port
