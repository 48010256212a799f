-- name: hourly_volume
-- description: Records per source table and hour, over the baseline and the window, for coverage: an hour with nothing where the baseline always had records is a gap.
-- params: baseline_start, until
-- depends: none
-- output: table_name, hour, records
-- date_bin, not date_trunc: DataFusion truncates a timestamp with a time zone through a per-row
-- conversion to local time and text; date_bin is arithmetic on UTC nanoseconds (the same hours).
-- coverage_records is generated from the catalogue: every table with the coverage role.
SELECT table_name, date_bin(INTERVAL '1 hour', time) AS hour, count(*) AS records
FROM coverage_records
WHERE time >= $baseline_start AND time < $until
GROUP BY 1, 2
ORDER BY 1, 2
