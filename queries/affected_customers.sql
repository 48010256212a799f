-- name: affected_customers
-- description: Customers (data subjects) named in the arguments or results of attacker calls, under the case's customer keys (customer_id, customerId, customer_ids, customerIds, customer, account_id, accountId by default), and those the server answered for while it copied data out by itself, each with a confidence tier: `exfiltrated` (an attacker call naming them has response bytes to the attacker in the flows or the API Management log, or its session uploaded to an exfiltration destination), `accessed` (an attacker call named them, with no exfiltration path seen), `exposed` (a call the compromised host answered, by the flows from the call's client to it, while the implant ran, from ten minutes before its first copy; the evidence cites its first twenty such calls), `cannot_exclude` (named only in a record rejected as unreadable whose blob covers the attack's span, from its first to its last attacker call or the implant's run, or the window when nothing in it is the attacker's: it may have been an attacker call). With first and last access, identities, tools, calls and the evidence rows.
-- params: since, until
-- depends: attacker_calls, attacker_flows, exfiltration, server_compromise, window_calls, window_dependencies
-- output: customer_id, tier, first_access, last_access, users, answered_to, tools, calls, exfiltration_confirmed, evidence
WITH named AS (
    SELECT unnest(customer_ids(arguments)) AS customer_id, _blob, _line FROM attacker_calls WHERE arguments IS NOT NULL
    UNION
    SELECT unnest(customer_ids(result)) AS customer_id, _blob, _line FROM attacker_calls WHERE result IS NOT NULL
),
response_seen AS (
    SELECT a._blob, a._line
    FROM attacker_calls a
    JOIN attacker_flows f ON f.ip = a.client_address
                AND f.time >= a.time - INTERVAL '2 minutes' AND f.time <= a.time + INTERVAL '5 minutes'
    WHERE f.bytes_dst_to_src > 0 AND a.attacker_address
    GROUP BY a._blob, a._line
),
-- An attacker call's HTTP dependency to an exfiltration destination, by its address or, as
-- exporters usually write it, by its host name (Target).
exfiltration_targets AS (
    SELECT DISTINCT destination_ip AS target FROM exfiltration WHERE destination_ip <> ''
    UNION
    SELECT DISTINCT destination_host FROM exfiltration WHERE destination_host IS NOT NULL
),
call_dependencies AS (
    SELECT a._blob, a._line, a."user", a.session, d.peer_address, d.host
    FROM attacker_calls a
    JOIN window_dependencies d ON d.operation_id = a.operation_id
    WHERE d.time >= $since AND d.time < $until
),
uploads AS (
    SELECT a._blob, a._line, a."user", a.session
    FROM call_dependencies a
    JOIN exfiltration_targets e ON a.host = e.target
    UNION
    SELECT a._blob, a._line, a."user", a.session
    FROM call_dependencies a
    JOIN exfiltration_targets e ON a.peer_address = e.target
),
upload_sessions AS (SELECT DISTINCT "user", session FROM uploads WHERE session IS NOT NULL),
calls AS (
    SELECT a.*, r._blob IS NOT NULL OR u._blob IS NOT NULL OR us.session IS NOT NULL
                OR (a.origin LIKE 'APIM%' AND coalesce(a.response_bytes, 0) > 0 AND a.attacker_address) AS exfiltrated
    FROM attacker_calls a
    LEFT JOIN response_seen r ON a._blob = r._blob AND a._line = r._line
    LEFT JOIN (SELECT DISTINCT _blob, _line FROM uploads) u ON a._blob = u._blob AND a._line = u._line
    LEFT JOIN upload_sessions us ON a."user" = us."user" AND a.session = us.session
),
attacked AS (
    SELECT n.customer_id,
           CASE WHEN bool_or(c.exfiltrated) THEN 'exfiltrated' ELSE 'accessed' END AS tier,
           min(c.time) AS first_access,
           max(c.time) AS last_access,
           array_sort(array_agg(DISTINCT c."user")) AS users,
           CAST([] AS VARCHAR[]) AS answered_to,
           array_sort(array_agg(DISTINCT coalesce(c.tool, '(no tool name)'))) AS tools,
           count(*) AS calls,
           bool_or(c.exfiltrated) AS exfiltration_confirmed,
           array_agg(c.origin || ' ' || coalesce(c.span_id, c.operation_id, '') || ' ' || c._blob || ':' || CAST(c._line AS VARCHAR) ORDER BY c.time, c._blob, c._line) AS evidence
    FROM named n
    JOIN calls c ON n._blob = c._blob AND n._line = c._line
    GROUP BY n.customer_id
),
implant_start AS (SELECT min(first) - INTERVAL '10 minutes' AS start FROM server_compromise),
implant_hosts AS (SELECT DISTINCT host FROM server_compromise),
-- Calls the compromised host answered: its client connected to that host in the flows around the
-- call (from two minutes before to five after; a call through a gateway to
-- another server did not pass through it), or the gateway forwarded it to that host (BackendUrl:
-- behind a gateway the host's flows come from the gateway, not the client, so a gateway call is
-- placed by its backend alone); a call without a client address or backend cannot be placed and
-- counts. Each client's flows to the host are gathered once per minute, with the minute's first
-- and last flow. A call at t in minute M spans t - 2 min to t + 5 min: every flow of the minutes
-- M - 1 to M + 4 lies in that span whatever t's second, a flow of minute M - 2 when it is at or
-- after t - 2 min (so when that minute's last flow is), a flow of minute M + 5 when it is at or
-- before t + 5 min (so when that minute's first flow is), and no other flow does. So each client
-- and call minute gets one row (whether the six inner minutes hold a flow, the last flow of the
-- minute before them and the first of the minute after), and each call is placed by one equi-join
-- on its client and minute with one row a side: exact to the flow, and it grows with neither an
-- office address's flows nor a minute's calls.
client_minutes AS (
    SELECT f.src_ip, date_bin(INTERVAL '1 minute', f.time) AS minute, min(f.time) AS first, max(f.time) AS last
    FROM flows f JOIN implant_hosts h ON f.dst_ip = h.host
    WHERE f.direction = 'I' AND f.time >= $since - INTERVAL '5 minutes' AND f.time < $until + INTERVAL '5 minutes'
    GROUP BY f.src_ip, date_bin(INTERVAL '1 minute', f.time)
),
-- Each flow minute as the eight call minutes it bears on (an unnest per minute, not a cross join:
-- a cross join with the minutes as its collected side emits one batch per minute and offset).
minute_offsets AS (
    SELECT m.src_ip, m.minute, m.first, m.last,
           unnest(make_array(INTERVAL '-2 minutes', INTERVAL '-1 minutes', INTERVAL '0 minutes', INTERVAL '1 minutes',
                             INTERVAL '2 minutes', INTERVAL '3 minutes', INTERVAL '4 minutes', INTERVAL '5 minutes')) AS k
    FROM client_minutes m
),
client_cover AS (
    SELECT src_ip, minute - k AS call_minute,
           bool_or(k > INTERVAL '-2 minutes' AND k < INTERVAL '5 minutes') AS inner_flow,
           max(CASE WHEN k = INTERVAL '-2 minutes' THEN last END) AS before_last,
           min(CASE WHEN k = INTERVAL '5 minutes' THEN first END) AS after_first
    FROM minute_offsets
    GROUP BY src_ip, minute - k
),
implant_calls AS (
    SELECT w.customers, w.time, w."user", w.tool, w.origin, w.operation_id, w.client_address, w.backend_address, w._blob, w._line, w.call_key
    FROM window_calls w
    JOIN implant_start s ON w.time >= s.start
    WHERE w.time >= $since AND w.time < $until
),
answered_calls AS (
    SELECT unnest(c.customers) AS customer_id, c.time, c."user", c.tool, c.origin, c.operation_id, c._blob, c._line
    FROM client_cover v
    RIGHT JOIN implant_calls c ON v.src_ip = c.client_address AND v.call_minute = date_bin(INTERVAL '1 minute', c.time)
    LEFT JOIN implant_hosts h ON c.backend_address = h.host
    WHERE CASE WHEN c.backend_address IS NOT NULL THEN h.host IS NOT NULL
               ELSE c.client_address IS NULL
                    OR coalesce(v.inner_flow OR v.before_last >= c.time - INTERVAL '2 minutes'
                                OR v.after_first <= c.time + INTERVAL '5 minutes', false) END
),
-- An implant answers every caller: a customer can be exposed by thousands of calls. The evidence
-- cites the first twenty (`calls` counts them all), so that no row grows with the window. The
-- mentions are numbered in one sort and aggregated per customer before anything is joined to
-- them: every join below is on one row per customer.
answered AS (
    SELECT a.*, row_number() OVER (PARTITION BY a.customer_id ORDER BY a.time, a._blob, a._line) AS nth
    FROM answered_calls a
),
exposed_all AS (
    SELECT a.customer_id, 'exposed' AS tier, min(a.time) AS first_access, max(a.time) AS last_access,
           -- Exposed customers were read by their ordinary callers, not by a suspect: the callers
           -- are listed apart, as whom the copied answers went to.
           CAST([] AS VARCHAR[]) AS users,
           array_sort(array_agg(DISTINCT a."user")) AS answered_to,
           array_sort(array_agg(DISTINCT coalesce(a.tool, '(no tool name)'))) AS tools,
           count(*) AS calls,
           false AS exfiltration_confirmed,
           array_agg(a.origin || ' ' || coalesce(a.operation_id, '') || ' ' || a._blob || ':' || CAST(a._line AS VARCHAR) ORDER BY a.time, a._blob, a._line) FILTER (WHERE a.nth <= 20) AS evidence
    FROM answered a
    GROUP BY a.customer_id
),
-- Customers an attacker call named are in the stronger tier: the exclusion joins one row per
-- customer, with the attacked customers as the side held in memory (the exposed rows, each with
-- its evidence, are streamed past it: held, they took seconds to gather at 5 GB).
exposed AS (
    SELECT e.* FROM attacked t
    RIGHT JOIN exposed_all e ON e.customer_id = t.customer_id
    WHERE t.customer_id IS NULL
),
-- The attack's span: its first to its last attacker call, and the implant's run to the window's end;
-- when nothing in the window is the attacker's, the window itself (what cannot be read there cannot
-- be excluded).
attack_span AS (
    SELECT coalesce(min(first), CAST($since AS TIMESTAMP) AT TIME ZONE 'UTC') AS first,
           coalesce(max(last), CAST($until AS TIMESTAMP) AT TIME ZONE 'UTC') AS last FROM (
        SELECT min(time) AS first, max(time) AS last FROM attacker_calls
        UNION ALL
        SELECT start AS first, CAST($until AS TIMESTAMP) AT TIME ZONE 'UTC' AS last FROM implant_start WHERE start IS NOT NULL
    ) spans
),
rejected AS (
    SELECT blob, line, customer_mentions(raw) AS mentioned,
           to_timestamp(regexp_replace(blob, '^.*/y=([0-9]{4})/m=([0-9]{2})/d=([0-9]{2})/h=([0-9]{2})/m=([0-9]{2})/.*$', '\1-\2-\3T\4:\5:00Z')) AT TIME ZONE 'UTC' AS bucket,
           CASE WHEN upper(blob) LIKE '%/PT05M%' OR upper(blob) LIKE '%/PT5M%' THEN INTERVAL '5 minutes' ELSE INTERVAL '1 hour' END AS bucket_length
    FROM rejects
    WHERE blob LIKE '%/y=%/m=%/d=%/h=%/m=%'
),
unreadable AS (
    SELECT unnest(r.mentioned) AS customer_id, r.bucket, r.blob, r.line,
           '(unknown: unreadable record)' AS who, '(unknown: unreadable record)' AS tool_used, 'rejected ' AS cited
    FROM rejected r CROSS JOIN attack_span s
    WHERE r.bucket + r.bucket_length > s.first AND r.bucket <= s.last
    UNION ALL
    -- Gateway calls whose server row is missing, by a caller the gateway authenticated but did
    -- not name, during the attack: they may have been the attacker's.
    SELECT unnest(w.customers) AS customer_id, w.time AS bucket, w._blob AS blob, w._line AS line,
           '(unknown: gateway call without its server row)' AS who, coalesce(w.tool, '(no tool name)') AS tool_used,
           'unnamed gateway caller ' AS cited
    FROM window_calls w CROSS JOIN attack_span s
    WHERE w."user" = '(authenticated caller, not named)' AND w.time >= $since AND w.time < $until
      AND w.time >= s.first AND w.time <= s.last
),
cannot_exclude AS (
    SELECT u.customer_id, 'cannot_exclude' AS tier, min(u.bucket) AS first_access, max(u.bucket) AS last_access,
           array_sort(array_agg(DISTINCT u.who)) AS users,
           CAST([] AS VARCHAR[]) AS answered_to,
           array_sort(array_agg(DISTINCT u.tool_used)) AS tools,
           count(*) AS calls,
           false AS exfiltration_confirmed,
           array_agg(u.cited || u.blob || ':' || CAST(u.line AS VARCHAR) ORDER BY u.bucket, u.blob, u.line) AS evidence
    FROM unreadable u
    LEFT JOIN attacked t ON u.customer_id = t.customer_id
    -- the exposed tier's customers are the answered ones an attacker call did not name: excluded by
    -- the answered mentions themselves, so that the exposed tier is not computed a second time
    LEFT JOIN (SELECT DISTINCT customer_id FROM answered_calls) e ON u.customer_id = e.customer_id
    WHERE t.customer_id IS NULL AND e.customer_id IS NULL
    GROUP BY u.customer_id
)
SELECT * FROM attacked
UNION ALL
SELECT * FROM exposed
UNION ALL
SELECT * FROM cannot_exclude
ORDER BY first_access, customer_id
