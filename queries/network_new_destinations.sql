-- name: network_new_destinations
-- description: The MCP hosts' outbound destinations new in the window (network view), from window_outbound: first flow, flows, bytes sent, the hosts that reached it, and whether a dependency of the server names it (the server's own work) or nothing does.
-- params: since, until
-- depends: window_outbound
-- output: dst_ip, first_flow, flows, bytes_out, hosts, named_by_dependency
SELECT dst_ip, min(first) AS first_flow, sum(flows) AS flows, sum(bytes) AS bytes_out,
       array_to_string(array_agg(DISTINCT host), ' ') AS hosts,
       bool_or(named_by_dependency) AS named_by_dependency
FROM window_outbound
WHERE first >= $since AND first < $until
GROUP BY dst_ip
ORDER BY sum(bytes) DESC, dst_ip
