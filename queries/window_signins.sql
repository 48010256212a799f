-- name: window_signins
-- description: The interactive and non-interactive sign-ins of the baseline and the window, with the identity resolved to its latest UPN: time, address, country, result. ip_profiles reads them several times, so they are computed once.
-- params: until, baseline_start
-- output: time, ip, country, result, user
SELECT s.time, s.ip, s.country, s.result, coalesce(i.user_principal_name, s.upn, s.user_id) AS "user"
FROM (
    SELECT "TimeGenerated" AS time, "IPAddress" AS ip, "Location" AS country, "ResultType" AS result, "UserPrincipalName" AS upn, "UserId" AS user_id FROM "SigninLogs"
    UNION ALL
    SELECT "TimeGenerated", "IPAddress", "Location", "ResultType", "UserPrincipalName", "UserId" FROM "AADNonInteractiveUserSignInLogs"
) s
LEFT JOIN identities i ON s.user_id = i.user_id
WHERE s.time >= $baseline_start AND s.time < $until
