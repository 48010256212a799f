-- name: session_signs
-- description: Every session of the window measured against the same identity's sessions in the baseline (the organisation's where the identity has none), with three independent signs of someone else steering it. reach: far more customers than the identity ever reads in a session (at least three times its baseline maximum and ten more), or a request for everything (wildcard search, limit of 1000 or more) the identity never made in the baseline. egress: arguments naming an outside host the identity never named in the baseline (not one of the organisation's own domains), or an HTTP dependency of its calls to a destination new in the window that no other identity's calls reach. access: the client address is new to the whole organisation and nobody ever completed an interactive sign-in from it (a replayed token refreshes non-interactively; a traveller signs in at the hotel). by_signs: two of the three. Computed once for session_profiles, which reads it twice.
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
baseline_destinations AS (SELECT DISTINCT destination FROM dependencies WHERE NOT in_window),
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
known_addresses AS (
    SELECT DISTINCT client_address AS ip FROM calls WHERE NOT in_window AND client_address IS NOT NULL
    UNION
    SELECT DISTINCT ip FROM window_signins WHERE time < $since AND result = '0'
),
interactive_addresses AS (
    SELECT DISTINCT ip FROM window_signins WHERE interactive AND result = '0'
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
           w.client_address IS NOT NULL AND ka.ip IS NULL AND ia.ip IS NULL AS new_address,
           bu."user" IS NOT NULL AND bw."user" IS NULL AS wide_is_new
    FROM window_sessions w
    LEFT JOIN session_customers sc ON w."user" = sc."user" AND w.session = sc.session AND sc.in_window
    LEFT JOIN baseline_users bu ON w."user" = bu."user"
    LEFT JOIN baseline_reach br ON w."user" = br."user"
    LEFT JOIN baseline_wide bw ON w."user" = bw."user"
    LEFT JOIN new_hosts nh ON w."user" = nh."user" AND w.session = nh.session
    LEFT JOIN new_destinations nd ON w."user" = nd."user" AND w.session = nd.session
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
