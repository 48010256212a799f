-- name: overview_data_access
-- description: Data access per identity per day (UTC), baseline and window (overview): tool calls, distinct customers named in their arguments and results, and response bytes; the page draws each identity's window days against the band of its own baseline days.
-- params: until, baseline_start
-- output: user, day, calls, customers, response_bytes
WITH calls AS (
    SELECT "user", date_trunc('day', time) AS day, count(*) AS calls, sum(coalesce(response_bytes, 0)) AS response_bytes
    FROM tool_calls
    WHERE time >= $baseline_start AND time < $until
    GROUP BY "user", date_trunc('day', time)
),
named AS (
    SELECT "user", day, count(DISTINCT customer) AS customers
    FROM (
        SELECT "user", date_trunc('day', time) AS day, unnest(customers) AS customer
        FROM tool_calls
        WHERE time >= $baseline_start AND time < $until
    ) n
    GROUP BY "user", day
)
SELECT c."user", c.day, c.calls, coalesce(n.customers, 0) AS customers, c.response_bytes
FROM calls c
LEFT JOIN named n ON c."user" = n."user" AND c.day = n.day
ORDER BY c."user", c.day
