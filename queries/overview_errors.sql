-- name: overview_errors
-- description: Errors per day (UTC), baseline and window (overview): tool calls, failed tool calls (Success false) and the result codes they failed with, and the server's exceptions (AppExceptions). A day whose failures or exceptions leave the baseline stands out: a tool being probed, arguments that break the server, an implant disturbing it.
-- params: until, baseline_start
-- output: day, calls, failed_calls, failure_codes, exceptions
WITH calls AS (
    SELECT date_trunc('day', time) AS day, count(*) AS calls,
           sum(CASE WHEN success = false THEN 1 ELSE 0 END) AS failed_calls,
           count(DISTINCT CASE WHEN success = false THEN coalesce(result_code, '(none)') END) AS codes,
           min(CASE WHEN success = false THEN coalesce(result_code, '(none)') END) AS first_code,
           max(CASE WHEN success = false THEN coalesce(result_code, '(none)') END) AS last_code
    FROM tool_calls
    WHERE time >= $baseline_start AND time < $until
    GROUP BY date_trunc('day', time)
),
exceptions AS (
    SELECT date_trunc('day', "TimeGenerated") AS day, count(*) AS exceptions
    FROM "AppExceptions"
    WHERE "TimeGenerated" >= $baseline_start AND "TimeGenerated" < $until
    GROUP BY date_trunc('day', "TimeGenerated")
)
SELECT coalesce(c.day, e.day) AS day, coalesce(c.calls, 0) AS calls,
       coalesce(c.failed_calls, 0) AS failed_calls,
       CASE WHEN c.codes = 1 THEN c.first_code
            WHEN c.codes = 2 THEN concat(c.first_code, ', ', c.last_code)
            WHEN c.codes > 2 THEN concat(c.first_code, ' … ', c.last_code, ' (', CAST(c.codes AS VARCHAR), ' codes)')
       END AS failure_codes,
       coalesce(e.exceptions, 0) AS exceptions
FROM calls c FULL JOIN exceptions e ON c.day = e.day
ORDER BY day
