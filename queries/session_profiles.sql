-- name: session_profiles
-- description: Every session of the window with its signs (session_signs: reach, egress, access) and the verdict. A session with two of the three signs is the attacker's; so is another session of the same identity that sends to a destination new in the window which only that identity's attacker sessions reach (the attacker's own infrastructure: the same campaign, even when sampling or a short session shows no other sign).
-- params: none
-- depends: session_signs
-- output: user, session, derived, client_address, first_call, last_call, calls, customers, baseline_max_customers, wide_calls, new_hosts, new_destinations, new_address, reach, egress, access, shared_destination, attacker
WITH attacker_destinations AS (
    SELECT "user", array_agg(DISTINCT destination) AS destinations
    FROM (SELECT "user", unnest(new_destinations) AS destination FROM session_signs WHERE by_signs AND new_destinations IS NOT NULL) d
    GROUP BY "user"
)
SELECT j."user", j.session, j.derived, j.client_address, j.first_call, j.last_call, j.calls, j.customers, j.baseline_max_customers, j.wide_calls,
       j.new_hosts, j.new_destinations, j.new_address, j.reach, j.egress, j.access,
       NOT j.by_signs AND coalesce(array_has_any(j.new_destinations, a.destinations), false) AS shared_destination,
       (j.by_signs OR coalesce(array_has_any(j.new_destinations, a.destinations), false))
       AND j."user" <> '(authenticated caller, not named)' AS attacker
FROM session_signs j
LEFT JOIN attacker_destinations a ON j."user" = a."user"
ORDER BY j."user", j.first_call, j.session
