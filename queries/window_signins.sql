-- name: window_signins
-- description: The sign-ins of the baseline and the window (interactive, non-interactive, service principal, managed identity), with the identity resolved to its latest name: time, address, country, result, whether interactive, and the client: the operating system and browser family of DeviceDetail, lower-cased and without version (`windows 10 / edge`), null when the record names neither. The profiles and spray_sources read them several times, so they are computed once; with each record's own object id and UPN as logged, whether it is a service principal's or managed identity's, its Id, and the evidence row.
-- params: until, baseline_start
-- output: time, ip, country, result, interactive, user, client, service_principal, user_id, upn, id, _blob, _line
SELECT s.time, s.ip, s.country, s.result, s.interactive, coalesce(i.user_principal_name, s.upn, s.user_id) AS "user",
       CASE WHEN s.os IS NULL AND s.browser IS NULL THEN NULL
            ELSE lower(concat(coalesce(s.os, '?'), ' / ', coalesce(regexp_replace(s.browser, '\s+[0-9][0-9.]*$', ''), '?'))) END AS client,
       s.service_principal, s.user_id, s.upn, s.id, s._blob, s._line
FROM (
    -- Every identity source of the catalogue (identity_sign_ins, generated from it).
    SELECT time, ip, country, result, interactive, upn, user_id, os, browser,
           kind <> 'person' AS service_principal, id, _blob, _line
    FROM identity_sign_ins
) s
LEFT JOIN identities i ON s.user_id = i.user_id
WHERE s.time >= $baseline_start AND s.time < $until
