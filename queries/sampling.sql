-- name: sampling
-- description: Sampling in the window: Application Insights rows stand for ItemCount events each; a table with ItemCount above 1 under-counts when rows are counted instead of summed.
-- params: since, until
-- depends: none
-- output: table_name, rows, events, max_item_count
SELECT 'AppRequests' AS table_name, count(*) AS rows, coalesce(sum(coalesce("ItemCount", 1)), 0) AS events, coalesce(max(coalesce("ItemCount", 1)), 0) AS max_item_count FROM "AppRequests" WHERE "TimeGenerated" >= $since AND "TimeGenerated" < $until
UNION ALL SELECT 'AppDependencies', count(*), coalesce(sum(coalesce("ItemCount", 1)), 0), coalesce(max(coalesce("ItemCount", 1)), 0) FROM "AppDependencies" WHERE "TimeGenerated" >= $since AND "TimeGenerated" < $until
UNION ALL SELECT 'AppTraces', count(*), coalesce(sum(coalesce("ItemCount", 1)), 0), coalesce(max(coalesce("ItemCount", 1)), 0) FROM "AppTraces" WHERE "TimeGenerated" >= $since AND "TimeGenerated" < $until
UNION ALL SELECT 'AppEvents', count(*), coalesce(sum(coalesce("ItemCount", 1)), 0), coalesce(max(coalesce("ItemCount", 1)), 0) FROM "AppEvents" WHERE "TimeGenerated" >= $since AND "TimeGenerated" < $until
UNION ALL SELECT 'AppExceptions', count(*), coalesce(sum(coalesce("ItemCount", 1)), 0), coalesce(max(coalesce("ItemCount", 1)), 0) FROM "AppExceptions" WHERE "TimeGenerated" >= $since AND "TimeGenerated" < $until
ORDER BY 1
