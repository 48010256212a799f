-- name: call_sessions
-- description: Every tool call of the baseline and the window in its session. A session is one identity's calls from one client address under one MCP session id, split where the calls pause for more than 30 minutes (5 minutes for derived sessions: without an id, a client's burst of calls is its unit of work, and an agent's tasks follow each other minutes apart). Session ids that no other call shares (one per request) mean nothing and are dropped; a call without one (protocol 2026-07-28, SDKs that emit none) gets a derived session, labelled `(derived) <address> <start>`; an id kept for a whole process is split at its pauses.
-- params: since
-- depends: window_calls
-- output: user, client_address, session, derived, session_start, in_window, time, tool, customers, hosts, wide, operation_id, _blob, _line
WITH shared AS (
    SELECT session_id FROM window_calls
    WHERE session_id IS NOT NULL AND session_id <> ''
    GROUP BY session_id
    HAVING count(*) > 1
),
keyed AS (
    SELECT c.*, s.session_id AS mcp_session, coalesce(c.client_address, '') AS address_key, coalesce(s.session_id, '') AS session_key
    FROM window_calls c LEFT JOIN shared s ON c.session_id = s.session_id
),
-- One ordering per (identity, address, session id): the pause before each call marks where a
-- session starts; the running count of starts numbers the part, and the latest start's time is
-- the part's start (calls come in time order). Both are computed in that one ordering, so the
-- calls are sorted once.
paused AS (
    SELECT *, lag(time) OVER (PARTITION BY "user", address_key, session_key ORDER BY time, _blob, _line) AS previous_time
    FROM keyed
),
marked AS (
    SELECT *,
           CASE WHEN previous_time IS NULL
                  OR previous_time < time - CASE WHEN mcp_session IS NULL THEN INTERVAL '5 minutes' ELSE INTERVAL '30 minutes' END
                THEN 1 ELSE 0 END AS starts
    FROM paused
),
started AS (
    SELECT *,
           sum(starts) OVER running AS part,
           max(CASE WHEN starts = 1 THEN time END) OVER running AS session_start
    FROM marked
    WINDOW running AS (PARTITION BY "user", address_key, session_key ORDER BY time, _blob, _line ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
)
SELECT "user", client_address,
       CASE WHEN mcp_session IS NULL
            THEN '(derived) ' || coalesce(client_address, 'no address') || ' ' || to_char(session_start, '%Y-%m-%dT%H:%M:%SZ')
            WHEN part > 1 THEN mcp_session || ' (part ' || CAST(part AS VARCHAR) || ')'
            ELSE mcp_session END AS session,
       mcp_session IS NULL AS derived,
       session_start,
       session_start >= $since AS in_window,
       time, tool, customers, hosts, wide, operation_id, _blob, _line
FROM started
