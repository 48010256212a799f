-- name: hourly_volume
-- description: Records per source table and hour, over the baseline and the window, for coverage: an hour with nothing where the baseline always had records is a gap.
-- params: baseline_start, until
-- depends: none
-- output: table_name, hour, records
-- date_bin, not date_trunc: DataFusion truncates a timestamp with a time zone through a per-row
-- conversion to local time and text; date_bin is arithmetic on UTC nanoseconds (the same hours).
SELECT 'SigninLogs' AS table_name, date_bin(INTERVAL '1 hour', "TimeGenerated") AS hour, count(*) AS records FROM "SigninLogs" WHERE "TimeGenerated" >= $baseline_start AND "TimeGenerated" < $until GROUP BY 2
UNION ALL SELECT 'AADNonInteractiveUserSignInLogs', date_bin(INTERVAL '1 hour', "TimeGenerated"), count(*) FROM "AADNonInteractiveUserSignInLogs" WHERE "TimeGenerated" >= $baseline_start AND "TimeGenerated" < $until GROUP BY 2
UNION ALL SELECT 'AuditLogs', date_bin(INTERVAL '1 hour', "TimeGenerated"), count(*) FROM "AuditLogs" WHERE "TimeGenerated" >= $baseline_start AND "TimeGenerated" < $until GROUP BY 2
UNION ALL SELECT 'AppRequests', date_bin(INTERVAL '1 hour', "TimeGenerated"), count(*) FROM "AppRequests" WHERE "TimeGenerated" >= $baseline_start AND "TimeGenerated" < $until GROUP BY 2
UNION ALL SELECT 'AppDependencies', date_bin(INTERVAL '1 hour', "TimeGenerated"), count(*) FROM "AppDependencies" WHERE "TimeGenerated" >= $baseline_start AND "TimeGenerated" < $until GROUP BY 2
UNION ALL SELECT 'AppTraces', date_bin(INTERVAL '1 hour', "TimeGenerated"), count(*) FROM "AppTraces" WHERE "TimeGenerated" >= $baseline_start AND "TimeGenerated" < $until GROUP BY 2
UNION ALL SELECT 'AppEvents', date_bin(INTERVAL '1 hour', "TimeGenerated"), count(*) FROM "AppEvents" WHERE "TimeGenerated" >= $baseline_start AND "TimeGenerated" < $until GROUP BY 2
UNION ALL SELECT 'AppExceptions', date_bin(INTERVAL '1 hour', "TimeGenerated"), count(*) FROM "AppExceptions" WHERE "TimeGenerated" >= $baseline_start AND "TimeGenerated" < $until GROUP BY 2
UNION ALL SELECT 'ApiManagementGatewayLogs', date_bin(INTERVAL '1 hour', "TimeGenerated"), count(*) FROM "ApiManagementGatewayLogs" WHERE "TimeGenerated" >= $baseline_start AND "TimeGenerated" < $until GROUP BY 2
UNION ALL SELECT 'ApiManagementGatewayMCPLog', date_bin(INTERVAL '1 hour', "TimeGenerated"), count(*) FROM "ApiManagementGatewayMCPLog" WHERE "TimeGenerated" >= $baseline_start AND "TimeGenerated" < $until GROUP BY 2
UNION ALL SELECT 'flows', date_bin(INTERVAL '1 hour', time), count(*) FROM flows WHERE time >= $baseline_start AND time < $until GROUP BY 2
ORDER BY 1, 2
