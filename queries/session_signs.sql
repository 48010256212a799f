-- name: session_signs
-- description: Every session of the window measured against the same identity's sessions in the baseline (the organisation's where the identity has none), with three independent signs of someone else steering it. reach: far more customers than the identity ever reads in a session (at least three times its baseline maximum and ten more), or a request for everything (wildcard search, limit of 1000 or more) the identity never made in the baseline. egress: arguments naming an outside host the identity never named in the baseline (not one of the organisation's own domains), or an HTTP dependency of its calls to a destination new in the window that no other identity's calls reach. access: the client address is new (the identity never used it in the baseline, nobody else within three days before its first call of the window) and nobody completed an interactive sign-in from it (in the window, or in that stretch of the baseline) (a replayed token refreshes non-interactively; a traveller signs in at the hotel). by_signs: two of the three. Computed once for session_profiles, which reads it twice.
-- params: since
-- depends: call_sessions, session_destinations, window_signins
-- output: user, session, derived, client_address, first_call, last_call, calls, wide_calls, customers, baseline_max_customers, new_hosts, new_destinations, new_address, wide_is_new, reach, egress, access, by_signs
WITH calls AS (SELECT * FROM call_sessions),
-- Distinct customers per session: each session's customer lists gathered and flattened, so the
-- grouping holds one row per session (not one per session and customer).
session_customers AS (
    SELECT "user", session, in_window,
           cardinality(array_distinct(flatten(array_agg(customers) FILTER (WHERE cardinality(customers) > 0)))) AS customers
    FROM calls GROUP BY "user", session, in_window
),
baseline_reach AS (
    SELECT "user", max(customers) AS max_customers FROM session_customers WHERE NOT in_window GROUP BY "user"
),
org_reach AS (
    SELECT coalesce(max(customers), 0) AS max_customers FROM session_customers WHERE NOT in_window
),
baseline_users AS (SELECT DISTINCT "user" FROM calls WHERE NOT in_window),
baseline_wide AS (SELECT DISTINCT "user" FROM calls WHERE NOT in_window AND wide),
org_domains AS (
    SELECT DISTINCT lower(split_part(user_principal_name, '@', 2)) AS domain
    FROM identities WHERE user_principal_name LIKE '%@%'
),
hosts AS (
    SELECT "user", session, in_window, unnest(hosts) AS host FROM calls
),
own_hosts AS (
    SELECT DISTINCT h.host FROM hosts h JOIN org_domains d ON h.host = d.domain OR h.host LIKE '%.' || d.domain
),
baseline_hosts AS (SELECT DISTINCT "user", host FROM hosts WHERE NOT in_window),
new_hosts AS (
    SELECT h."user", h.session, array_sort(array_agg(DISTINCT h.host)) AS hosts
    FROM hosts h
    LEFT JOIN baseline_hosts b ON h."user" = b."user" AND h.host = b.host
    LEFT JOIN own_hosts o ON h.host = o.host
    WHERE h.in_window AND b.host IS NULL AND o.host IS NULL
    GROUP BY h."user", h.session
),
dependencies AS (SELECT * FROM session_destinations),
-- A destination of the baseline is known while its use goes on (last reached within three days
-- before its first use in the window), as addresses are.
baseline_destinations AS (
    SELECT b.destination FROM (
        SELECT destination, max(time) AS last_seen FROM dependencies WHERE NOT in_window GROUP BY destination
    ) b
    JOIN (SELECT destination, min(time) AS first_seen FROM dependencies WHERE in_window GROUP BY destination) w
      ON b.destination = w.destination
    WHERE b.last_seen >= w.first_seen - INTERVAL '3 days'
),
single_identity AS (
    SELECT destination FROM dependencies WHERE in_window GROUP BY destination HAVING count(DISTINCT "user") = 1
),
new_destinations AS (
    SELECT d."user", d.session, array_sort(array_agg(DISTINCT d.destination)) AS destinations
    FROM dependencies d
    JOIN single_identity s ON d.destination = s.destination
    LEFT JOIN baseline_destinations b ON d.destination = b.destination
    WHERE d.in_window AND b.destination IS NULL
    GROUP BY d."user", d.session
),
-- An address is known for a session when its identity used it in the baseline, or anyone did
-- within three days before the address's first call of the window (after a longer quiet spell a
-- shared cloud or residential address may have changed hands: the window's own limit).
own_addresses AS (
    SELECT DISTINCT "user", client_address AS ip FROM calls WHERE NOT in_window AND client_address IS NOT NULL
    UNION
    SELECT DISTINCT "user", ip FROM window_signins WHERE time < $since AND result = '0'
),
window_first AS (
    SELECT client_address AS ip, min(time) AS first_seen FROM calls
    WHERE in_window AND client_address IS NOT NULL GROUP BY client_address
),
org_last_seen AS (
    SELECT ip, max(time) AS last_seen FROM (
        SELECT client_address AS ip, time FROM calls WHERE NOT in_window AND client_address IS NOT NULL
        UNION ALL
        SELECT ip, time FROM window_signins WHERE time < $since AND result = '0'
    ) sightings
    GROUP BY ip
),
known_addresses AS (
    SELECT o.ip FROM org_last_seen o JOIN window_first w ON o.ip = w.ip
    WHERE o.last_seen >= w.first_seen - INTERVAL '3 days'
),
-- Interactive sign-ins from the address in the window, or in the baseline while its use went on.
interactive_addresses AS (
    SELECT DISTINCT ip FROM window_signins WHERE interactive AND result = '0' AND time >= $since
    UNION
    SELECT DISTINCT s.ip FROM window_signins s JOIN window_first w ON s.ip = w.ip
    WHERE s.interactive AND s.result = '0' AND s.time < $since AND s.time >= w.first_seen - INTERVAL '3 days'
),
window_sessions AS (
    SELECT "user", session, bool_and(derived) AS derived, max(client_address) AS client_address,
           min(time) AS first_call, max(time) AS last_call, count(*) AS calls,
           sum(CASE WHEN wide THEN 1 ELSE 0 END) AS wide_calls
    FROM calls WHERE in_window
    GROUP BY "user", session
),
measured AS (
    SELECT w.*,
           coalesce(sc.customers, 0) AS customers,
           CASE WHEN bu."user" IS NOT NULL THEN coalesce(br.max_customers, 0) ELSE (SELECT max_customers FROM org_reach) END AS baseline_max_customers,
           nh.hosts AS new_hosts,
           nd.destinations AS new_destinations,
           w.client_address IS NOT NULL AND oa.ip IS NULL AND ka.ip IS NULL AND ia.ip IS NULL AS new_address,
           bu."user" IS NOT NULL AND bw."user" IS NULL AS wide_is_new
    FROM window_sessions w
    LEFT JOIN session_customers sc ON w."user" = sc."user" AND w.session = sc.session AND sc.in_window
    LEFT JOIN baseline_users bu ON w."user" = bu."user"
    LEFT JOIN baseline_reach br ON w."user" = br."user"
    LEFT JOIN baseline_wide bw ON w."user" = bw."user"
    LEFT JOIN new_hosts nh ON w."user" = nh."user" AND w.session = nh.session
    LEFT JOIN new_destinations nd ON w."user" = nd."user" AND w.session = nd.session
    LEFT JOIN own_addresses oa ON w."user" = oa."user" AND w.client_address = oa.ip
    LEFT JOIN known_addresses ka ON w.client_address = ka.ip
    LEFT JOIN interactive_addresses ia ON w.client_address = ia.ip
),
signed AS (
    SELECT *,
           (customers >= 3 * baseline_max_customers AND customers >= baseline_max_customers + 10)
               OR (wide_calls > 0 AND wide_is_new) AS reach,
           new_hosts IS NOT NULL OR new_destinations IS NOT NULL AS egress,
           new_address AS access
    FROM measured
),
judged AS (
    SELECT *,
           (CASE WHEN reach THEN 1 ELSE 0 END + CASE WHEN egress THEN 1 ELSE 0 END + CASE WHEN access THEN 1 ELSE 0 END) >= 2
           AND (SELECT count(*) FROM baseline_users) > 0 AS by_signs
    FROM signed
)
SELECT * FROM judged
