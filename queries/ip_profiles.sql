-- name: ip_profiles
-- description: Every (identity, client address) that made tool calls in the window, measured against the baseline before it: is the address new for the identity (never used by it in the baseline) and for the whole organisation (nobody used it within three days before its first call of the window: an address quiet for longer may have changed hands), how many calls fall outside the hours the identity (or, for a new identity, the organisation) is active, how many tools are new to it, is the sign-in country new, is the address a spray source. `attacker` marks pairs where an address new to everyone comes with another sign of someone else at the keyboard; with an empty baseline no pair is marked.
-- params: since
-- depends: spray_sources, call_groups, window_calls, window_signins
-- output: user, user_id, client_address, calls, weighted_calls, first_call, last_call, sessions, offhours_calls, new_tools, new_for_user, new_for_org, country, new_country, spray_source, own_login, own_device_login, attacker
-- The baseline's calls with an address as groups (call_groups): each comparison below reads the
-- identities, addresses, hours and tools of the groups, which are those of the calls.
WITH base AS (SELECT * FROM call_groups WHERE NOT in_window),
signins AS (SELECT * FROM window_signins),
known_user_ips AS (
    SELECT "user", client_address AS ip FROM base
    UNION
    SELECT "user", ip FROM signins WHERE time < $since AND result = '0'
),
-- What others did from an address is known only while it goes on: its last baseline sighting lies
-- within three days before the address's first call of the window. After a longer quiet spell (the
-- window's own limit, docs/scope-report.md) a shared cloud or residential address may have changed
-- hands, and someone's use of it weeks before says nothing about who uses it now.
org_last_seen AS (
    SELECT ip, max(time) AS last_seen FROM (
        SELECT client_address AS ip, last_call AS time FROM base WHERE client_address IS NOT NULL
        UNION ALL
        SELECT ip, time FROM signins WHERE time < $since AND result = '0'
    ) sightings
    GROUP BY ip
),
window_first AS (
    SELECT client_address AS ip, min(first_call) AS first_seen FROM call_groups
    WHERE in_window AND client_address IS NOT NULL GROUP BY client_address
),
known_org_ips AS (
    SELECT o.ip FROM org_last_seen o JOIN window_first w ON o.ip = w.ip
    WHERE o.last_seen >= w.first_seen - INTERVAL '3 days'
),
shifts AS (SELECT -1 AS shift UNION ALL SELECT 0 UNION ALL SELECT 1),
user_hours AS (SELECT DISTINCT b."user", (b.hour + s.shift + 24) % 24 AS hour FROM base b CROSS JOIN shifts s),
org_hours AS (SELECT hour FROM base GROUP BY hour HAVING count(DISTINCT "user") >= 3),
has_baseline AS (SELECT DISTINCT "user" FROM base),
user_tools AS (SELECT DISTINCT "user", tool FROM base),
user_countries AS (SELECT DISTINCT "user", country FROM signins WHERE time < $since AND result = '0' AND country IS NOT NULL),
ip_countries AS (SELECT ip, max(country) AS country FROM signins WHERE time >= $since GROUP BY ip),
sprays AS (SELECT DISTINCT ip FROM spray_sources),
-- Where the identity itself completed an interactive sign-in in the window (a traveller at a hotel).
own_logins AS (SELECT DISTINCT "user", ip FROM signins WHERE time >= $since AND result = '0' AND interactive),
-- The clients (operating system and browser) each identity signed in with in the baseline.
known_clients AS (SELECT DISTINCT "user", client FROM signins WHERE time < $since AND result = '0' AND client IS NOT NULL),
-- Of those, the addresses where it signed in interactively with a client of its baseline: the
-- user on their own device at a new place.
own_device_logins AS (
    SELECT DISTINCT s."user", s.ip FROM signins s
    JOIN known_clients k ON s."user" = k."user" AND s.client = k.client
    WHERE s.time >= $since AND s.result = '0' AND s.interactive
),
-- The window's calls counted per identity, address, hour and tool (far fewer rows than calls),
-- each group then judged by its hour and tool: the same counts as judging every call.
win_groups AS (
    SELECT "user", client_address, hour, tool, user_id, calls, weighted_calls, first_call, last_call
    FROM call_groups WHERE in_window
),
win_sessions AS (
    SELECT "user", client_address, count(DISTINCT session_id) AS sessions FROM window_calls
    WHERE time >= $since AND client_address IS NOT NULL
    GROUP BY "user", client_address
),
marked AS (
    SELECT w.*,
           CASE WHEN hb."user" IS NULL THEN oh.hour IS NULL ELSE uh.hour IS NULL END AS offhours,
           hb."user" IS NOT NULL AND ut.tool IS NULL AS new_tool
    FROM win_groups w
    LEFT JOIN has_baseline hb ON w."user" = hb."user"
    LEFT JOIN user_hours uh ON w."user" = uh."user" AND w.hour = uh.hour
    LEFT JOIN org_hours oh ON w.hour = oh.hour
    LEFT JOIN user_tools ut ON w."user" = ut."user" AND w.tool = ut.tool
),
profiles AS (
    SELECT m."user", max(m.user_id) AS user_id, m.client_address,
           sum(m.calls) AS calls, sum(m.weighted_calls) AS weighted_calls, min(m.first_call) AS first_call, max(m.last_call) AS last_call,
           max(s.sessions) AS sessions,
           sum(CASE WHEN m.offhours THEN m.calls ELSE 0 END) AS offhours_calls,
           count(DISTINCT CASE WHEN m.new_tool THEN m.tool END) AS new_tools
    FROM marked m
    JOIN win_sessions s ON m."user" = s."user" AND m.client_address = s.client_address
    GROUP BY m."user", m.client_address
),
judged AS (
    SELECT p.*,
           ku.ip IS NULL AS new_for_user,
           ko.ip IS NULL AS new_for_org,
           ic.country,
           ic.country IS NOT NULL AND hb."user" IS NOT NULL AND uc.country IS NULL AS new_country,
           sp.ip IS NOT NULL AS spray_source,
           ol.ip IS NOT NULL AS own_login,
           od.ip IS NOT NULL AS own_device_login
    FROM profiles p
    LEFT JOIN known_user_ips ku ON p."user" = ku."user" AND p.client_address = ku.ip
    LEFT JOIN known_org_ips ko ON p.client_address = ko.ip
    LEFT JOIN ip_countries ic ON p.client_address = ic.ip
    LEFT JOIN user_countries uc ON p."user" = uc."user" AND ic.country = uc.country
    LEFT JOIN has_baseline hb ON p."user" = hb."user"
    LEFT JOIN sprays sp ON p.client_address = sp.ip
    LEFT JOIN own_logins ol ON p."user" = ol."user" AND p.client_address = ol.ip
    LEFT JOIN own_device_logins od ON p."user" = od."user" AND p.client_address = od.ip
)
SELECT *,
       new_for_user AND new_for_org
       -- A new tool is a weak sign (and a sampled baseline misses tools): it does not count from
       -- an address the identity itself signed in from interactively, unless that was a spray source.
       -- Hours are not a sign from an address where the identity signed in interactively on a
       -- client of its baseline (a traveller keeps other hours, and a thin or sampled baseline
       -- knows few of its hours); a spray source, a new country and the session signs still are.
       AND (spray_source OR new_country OR "user" = '(anonymous)'
            OR (offhours_calls * 2 > calls AND NOT own_device_login)
            OR (new_tools > 0 AND NOT own_login))
       -- Without a baseline nothing is "new": only spray sources and indicators can name anyone then.
       AND (SELECT count(*) FROM base) > 0
       -- Gateway calls whose server row is missing (an export gap, sampling) carry a caller the
       -- gateway authenticated but did not name: unmatched is not malicious, so they never make an
       -- attacker by themselves (the coverage statements count them).
       AND "user" <> '(authenticated caller, not named)' AS attacker
FROM judged
ORDER BY "user", first_call, client_address
