-- name: spray_sources
-- description: Password spray: source IPs whose failed sign-ins (50126 bad password, 50053 locked, 50034 no such user) hit at least five accounts, and every account that then signed in from the same IP (0, or 50074/50076/50079/53003: the password was right, then MFA or Conditional Access stopped it).
-- params: baseline_start, until
-- depends: none
-- output: ip, accounts_targeted, failures, first_failure, last_failure, user_id, user_principal_name, success_time, success_result, success_id, success_blob, success_line
WITH signins AS (
    SELECT "TimeGenerated" AS time, "IPAddress" AS ip, "UserId" AS user_id, "UserPrincipalName" AS upn, "ResultType" AS result, "Id" AS id, _blob, _line
    FROM "SigninLogs"
    UNION ALL
    SELECT "TimeGenerated", "IPAddress", "UserId", "UserPrincipalName", "ResultType", "Id", _blob, _line
    FROM "AADNonInteractiveUserSignInLogs"
),
bursts AS (
    SELECT ip, count(DISTINCT user_id) AS accounts_targeted, count(*) AS failures, min(time) AS first_failure, max(time) AS last_failure
    FROM signins
    WHERE time >= $baseline_start AND time < $until AND result IN ('50126', '50053', '50034')
    GROUP BY ip
    HAVING count(DISTINCT user_id) >= 5
)
SELECT b.ip, b.accounts_targeted, b.failures, b.first_failure, b.last_failure,
       s.user_id, s.upn AS user_principal_name, s.time AS success_time, s.result AS success_result,
       s.id AS success_id, s._blob AS success_blob, s._line AS success_line
FROM bursts b
LEFT JOIN signins s
       ON s.ip = b.ip AND s.result IN ('0', '50074', '50076', '50079', '53003') AND s.time >= b.first_failure AND s.time < $until
ORDER BY b.ip, s.time, s.user_id
