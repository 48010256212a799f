-- identity_index for a case without index files (written by an earlier version): the same rows,
-- one per Entra object id, computed from the sign-ins of every day (schema all_days).
CREATE VIEW identity_index AS
SELECT "UserId" AS user_id,
       last_value("UserPrincipalName" ORDER BY "TimeGenerated" NULLS FIRST, "UserPrincipalName" NULLS FIRST, "UserDisplayName" NULLS FIRST) AS user_principal_name,
       last_value("UserDisplayName" ORDER BY "TimeGenerated" NULLS FIRST, "UserPrincipalName" NULLS FIRST, "UserDisplayName" NULLS FIRST) AS display_name,
       min("TimeGenerated") AS first_sign_in,
       max("TimeGenerated") AS last_sign_in,
       count(*) AS sign_ins
FROM (
    SELECT "UserId", "UserPrincipalName", "UserDisplayName", "TimeGenerated" FROM all_days."SigninLogs" WHERE "UserId" IS NOT NULL AND "UserId" <> ''
    UNION ALL
    SELECT "UserId", "UserPrincipalName", "UserDisplayName", "TimeGenerated" FROM all_days."AADNonInteractiveUserSignInLogs" WHERE "UserId" IS NOT NULL AND "UserId" <> ''
    UNION ALL
    SELECT "ServicePrincipalId", "ServicePrincipalName", "ServicePrincipalName" AS display_name, "TimeGenerated" FROM all_days."AADServicePrincipalSignInLogs" WHERE "ServicePrincipalId" IS NOT NULL AND "ServicePrincipalId" <> ''
    UNION ALL
    SELECT "ServicePrincipalId", "ServicePrincipalName", "ServicePrincipalName" AS display_name, "TimeGenerated" FROM all_days."AADManagedIdentitySignInLogs" WHERE "ServicePrincipalId" IS NOT NULL AND "ServicePrincipalId" <> ''
)
GROUP BY "UserId"
