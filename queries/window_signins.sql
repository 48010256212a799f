-- name: window_signins
-- description: The sign-ins of the baseline and the window (interactive, non-interactive, service principal, managed identity), with the identity resolved to its latest name: time, address, country, result, whether interactive. The profiles read them several times, so they are computed once.
-- params: until, baseline_start
-- output: time, ip, country, result, interactive, user
SELECT s.time, s.ip, s.country, s.result, s.interactive, coalesce(i.user_principal_name, s.upn, s.user_id) AS "user"
FROM (
    SELECT "TimeGenerated" AS time, "IPAddress" AS ip, "Location" AS country, "ResultType" AS result, true AS interactive, "UserPrincipalName" AS upn, "UserId" AS user_id FROM "SigninLogs"
    UNION ALL
    SELECT "TimeGenerated", "IPAddress", "Location", "ResultType", false, "UserPrincipalName", "UserId" FROM "AADNonInteractiveUserSignInLogs"
    UNION ALL
    SELECT "TimeGenerated", "IPAddress", "Location", "ResultType", false, "ServicePrincipalName", "ServicePrincipalId" FROM "AADServicePrincipalSignInLogs"
    UNION ALL
    SELECT "TimeGenerated", "IPAddress", "Location", "ResultType", false, "ServicePrincipalName", "ServicePrincipalId" FROM "AADManagedIdentitySignInLogs"
) s
LEFT JOIN identities i ON s.user_id = i.user_id
WHERE s.time >= $baseline_start AND s.time < $until
