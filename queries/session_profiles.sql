-- name: session_profiles
-- description: Every session of the window with its signs (session_signs: reach, egress, access) and the verdict. A session with two of the three signs is the attacker's; so is another session of the same identity that sends to a destination new in the window which only that identity's attacker sessions reach (the attacker's own infrastructure: the same campaign, even when sampling or a short session shows no other sign), or that comes from the address of one of its two-sign sessions with the access sign (an address new to the organisation that never signed in interactively: the attacker's own).
-- params: none
-- depends: session_signs
-- output: user, session, derived, client_address, first_call, last_call, calls, customers, baseline_max_customers, wide_calls, new_hosts, new_destinations, new_address, reach, egress, access, shared_destination, attacker
-- The attacker's own addresses: those of two-sign sessions whose address is new to the whole
-- organisation and never completed an interactive sign-in (the access sign). Another session of the
-- same identity from such an address is the same actor, even where sampling or a short session
-- left it no sign of its own.
WITH attacker_addresses AS (
    SELECT DISTINCT "user", client_address FROM session_signs WHERE by_signs AND access AND client_address IS NOT NULL
),
attacker_destinations AS (
    SELECT "user", array_agg(DISTINCT destination) AS destinations
    FROM (SELECT "user", unnest(new_destinations) AS destination FROM session_signs WHERE by_signs AND new_destinations IS NOT NULL) d
    GROUP BY "user"
)
SELECT j."user", j.session, j.derived, j.client_address, j.first_call, j.last_call, j.calls, j.customers, j.baseline_max_customers, j.wide_calls,
       j.new_hosts, j.new_destinations, j.new_address, j.reach, j.egress, j.access,
       NOT j.by_signs AND (coalesce(array_has_any(j.new_destinations, a.destinations), false) OR aa."user" IS NOT NULL) AS shared_destination,
       (j.by_signs OR coalesce(array_has_any(j.new_destinations, a.destinations), false) OR aa."user" IS NOT NULL)
       AND j."user" <> '(authenticated caller, not named)' AS attacker
FROM session_signs j
LEFT JOIN attacker_destinations a ON j."user" = a."user"
LEFT JOIN attacker_addresses aa ON j."user" = aa."user" AND j.client_address = aa.client_address AND j.access
ORDER BY j."user", j.first_call, j.session
