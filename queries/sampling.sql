-- name: sampling
-- description: Sampling in the window: Application Insights rows stand for ItemCount events each; a table with ItemCount above 1 under-counts when rows are counted instead of summed.
-- params: since, until
-- depends: none
-- output: table_name, rows, events, max_item_count
-- app_insights_records and evidence_roles are generated from the catalogue: every Application
-- Insights table, each listed even when it has no row in the window.
SELECT table_name, sum(rows) AS rows, sum(events) AS events, max(max_item_count) AS max_item_count
FROM (
    SELECT table_name, count(*) AS rows, coalesce(sum(coalesce(item_count, 1)), 0) AS events, coalesce(max(coalesce(item_count, 1)), 0) AS max_item_count
    FROM app_insights_records
    WHERE time >= $since AND time < $until
    GROUP BY 1
    UNION ALL
    SELECT table_name, 0, 0, 0 FROM evidence_roles WHERE role = 'app_insights'
) per_table
GROUP BY 1
ORDER BY 1
