-- name: suspects
-- description: Identities with evidence of abuse: those with attacker calls, and those that signed in from a spray source after its failure burst, with their volume against their own baseline.
-- params: since
-- depends: attacker_calls, spray_sources, window_calls
-- output: user, user_id, tool_calls, first_seen, last_seen, call_ips, spray_ips, sessions, attacker_days, baseline_calls_per_day, kind, agent_type, agent_parent, agent_app, acting_agent
WITH from_calls AS (
    SELECT "user", max(user_id) AS user_id, count(*) AS tool_calls, min(time) AS first_seen, max(time) AS last_seen,
           array_sort(array_agg(DISTINCT client_address)) AS call_ips, count(DISTINCT session_id) AS sessions,
           count(DISTINCT date_bin(INTERVAL '1 day', time)) AS attacker_days
    FROM attacker_calls
    GROUP BY "user"
),
from_spray AS (
    SELECT coalesce(i.user_principal_name, s.user_principal_name, s.user_id) AS "user", max(s.user_id) AS user_id,
           min(s.success_time) AS first_seen, max(s.success_time) AS last_seen, array_sort(array_agg(DISTINCT s.ip)) AS spray_ips
    FROM spray_sources s
    LEFT JOIN identities i ON s.user_id = i.user_id
    WHERE s.user_id IS NOT NULL
    GROUP BY 1
),
baseline AS (
    SELECT "user", CAST(count(*) AS DOUBLE) / count(DISTINCT date_bin(INTERVAL '1 day', time)) AS calls_per_day
    FROM window_calls
    WHERE time < $since
    GROUP BY "user"
)
SELECT coalesce(c."user", s."user") AS "user",
       coalesce(c.user_id, s.user_id) AS user_id,
       coalesce(c.tool_calls, 0) AS tool_calls,
       CASE WHEN s.first_seen IS NULL OR c.first_seen < s.first_seen THEN c.first_seen ELSE s.first_seen END AS first_seen,
       CASE WHEN s.last_seen IS NULL OR c.last_seen > s.last_seen THEN c.last_seen ELSE s.last_seen END AS last_seen,
       c.call_ips, s.spray_ips,
       coalesce(c.sessions, 0) AS sessions,
       coalesce(c.attacker_days, 0) AS attacker_days,
       b.calls_per_day AS baseline_calls_per_day,
       -- What kind of identity (person, service principal, managed identity, AI agent) and, for
       -- an agent, its Agent ID type, parent and app; for anyone, the agent that signed in for them.
       i.kind, i.agent_type, i.agent_parent, i.agent_app, i.acting_agent
FROM from_calls c
FULL OUTER JOIN from_spray s ON c."user" = s."user"
LEFT JOIN baseline b ON coalesce(c."user", s."user") = b."user"
LEFT JOIN identities i ON coalesce(c.user_id, s.user_id) = i.user_id
ORDER BY first_seen, "user"
