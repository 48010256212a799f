-- name: spray_sources
-- description: Password spray: an address whose failed sign-ins (50126 bad password, 50053 locked, 50034 no such user) hit at least five accounts within two hours, most of which never sign in successfully from that address (an office where colleagues mistype their passwords over weeks is not a spray: they all get in from there); and every account that then signed in from it (0, or 50074/50076/50079/53003: the password was right, then MFA or Conditional Access stopped it). `established` says whether the organisation signed in from the address on three or more baseline days.
-- params: baseline_start, since, until
-- depends: window_signins
-- output: ip, accounts_targeted, failures, first_failure, last_failure, established, user_id, user_principal_name, success_time, success_result, success_id, success_blob, success_line
WITH
-- The people's sign-ins (interactive and non-interactive) of the baseline and the window: every
-- time condition below lies within them.
signins AS (
    SELECT time, ip, user_id, upn, result, id, _blob, _line
    FROM window_signins
    WHERE NOT service_principal
),
failures AS (
    SELECT ip, user_id, time, date_bin(INTERVAL '1 hour', time) AS hour
    FROM signins
    WHERE time >= $baseline_start AND time < $until AND result IN ('50126', '50053', '50034')
),
-- Every failure counts in the two-hour windows starting at its hour and the hour before, so a
-- burst across an hour boundary is seen whole.
windows AS (
    SELECT ip, user_id, time, hour AS window_start FROM failures
    UNION ALL
    SELECT ip, user_id, time, hour - INTERVAL '1 hour' FROM failures
),
bursts AS (
    SELECT ip, window_start
    FROM windows
    GROUP BY ip, window_start
    HAVING count(DISTINCT user_id) >= 5
),
burst_failures AS (
    SELECT DISTINCT w.ip, w.user_id, w.time
    FROM windows w JOIN bursts b ON w.ip = b.ip AND w.window_start = b.window_start
),
succeeded_here AS (
    SELECT DISTINCT ip, user_id FROM signins
    WHERE time >= $baseline_start AND time < $until AND result = '0'
),
sources AS (
    SELECT f.ip, count(DISTINCT f.user_id) AS accounts_targeted, count(*) AS failures,
           min(f.time) AS first_failure, max(f.time) AS last_failure,
           count(DISTINCT CASE WHEN s.user_id IS NOT NULL THEN f.user_id END) AS accounts_succeeding
    FROM burst_failures f
    LEFT JOIN succeeded_here s ON f.ip = s.ip AND f.user_id = s.user_id
    GROUP BY f.ip
),
established AS (
    SELECT ip FROM signins
    WHERE time >= $baseline_start AND time < $since AND result = '0'
    GROUP BY ip
    HAVING count(DISTINCT date_bin(INTERVAL '1 day', time)) >= 3
),
sprays AS (
    SELECT s.*, e.ip IS NOT NULL AS established
    FROM sources s LEFT JOIN established e ON s.ip = e.ip
    WHERE s.accounts_succeeding * 2 < s.accounts_targeted
)
SELECT b.ip, b.accounts_targeted, b.failures, b.first_failure, b.last_failure, b.established,
       s.user_id, s.upn AS user_principal_name, s.time AS success_time, s.result AS success_result,
       s.id AS success_id, s._blob AS success_blob, s._line AS success_line
FROM sprays b
LEFT JOIN signins s
       ON s.ip = b.ip AND s.result IN ('0', '50074', '50076', '50079', '53003') AND s.time >= b.first_failure AND s.time < $until
ORDER BY b.ip, s.time, s.user_id
