-- name: sampling
-- description: Sampling in the window: Application Insights rows stand for ItemCount events each; a table with ItemCount above 1 under-counts when rows are counted instead of summed.
-- params: since, until
-- depends: none
-- output: table_name, rows, events, max_item_count
SELECT 'AppRequests' AS table_name, count(*) AS rows, sum(coalesce("ItemCount", 1)) AS events, max(coalesce("ItemCount", 1)) AS max_item_count FROM "AppRequests" WHERE "TimeGenerated" >= $since AND "TimeGenerated" < $until
UNION ALL SELECT 'AppDependencies', count(*), sum(coalesce("ItemCount", 1)), max(coalesce("ItemCount", 1)) FROM "AppDependencies" WHERE "TimeGenerated" >= $since AND "TimeGenerated" < $until
UNION ALL SELECT 'AppTraces', count(*), sum(coalesce("ItemCount", 1)), max(coalesce("ItemCount", 1)) FROM "AppTraces" WHERE "TimeGenerated" >= $since AND "TimeGenerated" < $until
UNION ALL SELECT 'AppEvents', count(*), sum(coalesce("ItemCount", 1)), max(coalesce("ItemCount", 1)) FROM "AppEvents" WHERE "TimeGenerated" >= $since AND "TimeGenerated" < $until
UNION ALL SELECT 'AppExceptions', count(*), sum(coalesce("ItemCount", 1)), max(coalesce("ItemCount", 1)) FROM "AppExceptions" WHERE "TimeGenerated" >= $since AND "TimeGenerated" < $until
ORDER BY 1
