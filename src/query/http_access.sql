-- tool_calls when the case holds HTTP access logs of what fronts the server (registered instead
-- of the plain view only then, over it renamed tool_calls_served): a call whose own rows carry no
-- caller address takes it from the access log of a POST in its time span (its start 2 s early to
-- its end 2 s late, at most 10 minutes): from the outermost log that saw the request (Front Door,
-- then Application Gateway, then App Service, since each inner one sees the outer one's address),
-- and only when that log names exactly one address then. Several addresses leave the call without
-- one and the source says so. Access logs carry no trace id, so this is a join by time alone.
CREATE VIEW tool_calls AS
WITH http_access AS (
    SELECT 1 AS tier, 'Front Door access log' AS source, CAST("TimeGenerated" AS BIGINT) AS ns, "ClientIp" AS address
    FROM "FrontDoorAccessLog" WHERE upper("HttpMethod") = 'POST'
    UNION ALL
    SELECT 2, 'Application Gateway access log', CAST("TimeGenerated" AS BIGINT), "ClientIp"
    FROM "AGWAccessLogs" WHERE upper("HttpMethod") = 'POST' AND "ClientIp" <> '127.0.0.1'
    UNION ALL
    SELECT 3, 'App Service HTTP log', CAST("TimeGenerated" AS BIGINT), "CIp"
    FROM "AppServiceHTTPLogs" WHERE upper("CsMethod") = 'POST'
),
access AS (
    SELECT tier, source, ns, address, ns / 10000000000 AS bucket
    FROM http_access
    WHERE address IS NOT NULL AND address <> ''
),
spans AS (
    SELECT _blob, _line, CAST(time AS BIGINT) - 2000000000 AS from_ns,
           CAST(time AS BIGINT) + CAST(least(greatest(coalesce(duration_ms, 0), 0), 600000) * 1000000 AS BIGINT) + 2000000000 AS to_ns
    FROM tool_calls_served
    WHERE client_address IS NULL
),
span_buckets AS (
    SELECT _blob, _line, from_ns, to_ns, unnest(generate_series(from_ns / 10000000000, to_ns / 10000000000)) AS bucket
    FROM spans
),
per_tier AS (
    SELECT s._blob, s._line, a.tier, min(a.source) AS source,
           count(DISTINCT a.address) AS addresses, min(a.address) AS address
    FROM span_buckets s
    JOIN access a ON a.bucket = s.bucket AND a.ns >= s.from_ns AND a.ns <= s.to_ns
    GROUP BY s._blob, s._line, a.tier
),
outermost AS (
    SELECT _blob, _line,
           first_value(address ORDER BY tier) AS address,
           first_value(addresses ORDER BY tier) AS addresses,
           first_value(source ORDER BY tier) AS source
    FROM per_tier
    GROUP BY _blob, _line
)
SELECT c.time, c.origin, c.tool, c.method, c.session_id, c.jsonrpc_request_id, c.arguments, c.result,
       c.enduser_id,
       coalesce(c.client_address, CASE WHEN o.addresses = 1 THEN o.address END) AS client_address,
       c.success, c.result_code, c.duration_ms, c.response_bytes, c.item_count,
       c.operation_id, c.span_id, c.server, c.apim_subscription_id, c._blob, c._line, c.date,
       CASE WHEN c.client_address IS NOT NULL THEN c.client_address_source
            WHEN o.addresses = 1 THEN o.source || ' (time)'
            WHEN o.addresses > 1 THEN o.source || ': ' || CAST(o.addresses AS VARCHAR) || ' addresses in the call''s time span, none taken'
       END AS client_address_source,
       c.user_source, c.joined_by, c.backend_address, c.user_id, c.user_principal_name, c."user", c.customers, c.hosts, c.wide, c.call_key
FROM tool_calls_served c
LEFT JOIN outermost o ON c._blob = o._blob AND c._line = o._line;
