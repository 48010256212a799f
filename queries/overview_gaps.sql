-- name: overview_gaps
-- description: Silences per source table (overview): for every table with records in the baseline, its records in the baseline and the window, the window's hours with a record, and the longest silence of the window (hours without a record, and when it began) against the longest of the baseline (counted from the table's first record, so days before the evidence began are not silence). A table silent in the window for longer than the baseline ever was is a gap in what the evidence can show (an export stopped, a diagnostic setting removed), not a quiet tenant.
-- params: since, until, baseline_start
-- depends: hourly_volume
-- output: table_name, baseline_records, window_records, window_hours_with_records, longest_silence_hours, longest_silence_from, baseline_longest_silence_hours
WITH tables AS (
    SELECT table_name,
           sum(CASE WHEN hour < $since THEN records ELSE 0 END) AS baseline_records,
           sum(CASE WHEN hour >= $since THEN records ELSE 0 END) AS window_records,
           count(DISTINCT CASE WHEN hour >= $since AND records > 0 THEN hour END) AS window_hours_with_records
    FROM hourly_volume
    WHERE hour >= $baseline_start AND hour < $until
    GROUP BY table_name
    HAVING sum(CASE WHEN hour < $since THEN records ELSE 0 END) > 0
),
-- Each period's hours with records, with its edges: the window's start (the hour before it) and
-- end, the baseline's end; the baseline begins at the table's first record, since days before the
-- evidence began are not days on which the table was silent.
marks AS (
    SELECT v.table_name, CASE WHEN v.hour >= $since THEN 'window' ELSE 'baseline' END AS period,
           to_unixtime(v.hour) AS t
    FROM hourly_volume v JOIN tables s ON v.table_name = s.table_name
    WHERE v.records > 0 AND v.hour >= $baseline_start AND v.hour < $until
    UNION ALL SELECT table_name, 'baseline', to_unixtime(CAST($since AS TIMESTAMP)) FROM tables
    UNION ALL SELECT table_name, 'window', to_unixtime(CAST($since AS TIMESTAMP)) - 3600 FROM tables
    UNION ALL SELECT table_name, 'window', to_unixtime(CAST($until AS TIMESTAMP)) FROM tables
),
steps AS (
    SELECT table_name, period, t, t - lag(t) OVER (PARTITION BY table_name, period ORDER BY t) AS step
    FROM marks
),
longest AS (
    SELECT table_name, period, step, t - step + 3600 AS silence_from,
           row_number() OVER (PARTITION BY table_name, period ORDER BY step DESC, t) AS position
    FROM steps WHERE step IS NOT NULL
)
SELECT s.table_name, s.baseline_records, s.window_records, s.window_hours_with_records,
       GREATEST(w.step / 3600 - 1, 0) AS longest_silence_hours,
       CASE WHEN w.step > 3600 THEN to_timestamp_seconds(w.silence_from) AT TIME ZONE 'UTC' END AS longest_silence_from,
       GREATEST(b.step / 3600 - 1, 0) AS baseline_longest_silence_hours
FROM tables s
JOIN longest w ON w.table_name = s.table_name AND w.period = 'window' AND w.position = 1
JOIN longest b ON b.table_name = s.table_name AND b.period = 'baseline' AND b.position = 1
ORDER BY longest_silence_hours - baseline_longest_silence_hours DESC, s.table_name
