#!/usr/bin/env python3
"""Ingest benchmark: mcpforensics vs DuckDB on the same generated export blobs, in one run.

Generates the sample scenario at the given scale into a work directory (kept between runs), then
measures, N times each, with /usr/bin/time -v (wall time and peak RSS):
  - mcpforensics ingest <account> --case <tmp>
  - on the Log Analytics exports alone (the am-* containers, hard-linked into a second tree), for
    each shape of --shapes (default: the generator's five-minute blobs with export faults; plain:
    hourly blobs without faults, `sample-data generate --plain`), the headline: mcpforensics ingest against DuckDB (the Python package) as an analyst types it, the
    default read_json of each container written to Parquet (one COPY per container), and as a
    second row DuckDB with union_by_name and zstd (its slowest way)
  - DuckDB on the whole account as before: every am-* container, and the NSG flow logs unnested
    down to their tuple strings
  - mcpforensics scope on the case (with --timings: the slowest pass of the queries that depend
    on the findings; --scenario implant puts a server finding in the window)
  - mcpforensics timeline --bench on the case (off-screen 200x50: time to the first frame with
    events, to every event loaded, per-frame time paging through the whole timeline, a filter)
and prints the medians, MB/s, rows/s and the ratio ours/DuckDB as a Markdown table.

  pip install duckdb
  cargo build --release
  python3 benches/bench.py --scale 4 --days 60 --runs 3
"""
import argparse
import datetime
import json
import os
import re
import shutil
import statistics
import subprocess
import socket
import sys
import tempfile
import time

# DuckDB as an analyst runs it: the default read_json of each am-* container, one COPY each, to
# Parquet with DuckDB's default compression.
DUCKDB_DEFAULT_SCRIPT = r"""
import duckdb, os, sys
account, out = sys.argv[1], sys.argv[2]
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
rows = 0
for container in sorted(os.listdir(account)):
    if not container.startswith("am-"):
        continue
    path = os.path.join(account, container, "**", "*.json")
    target = os.path.join(out, container + ".parquet")
    con.execute(f"COPY (SELECT * FROM read_json('{path}', format='newline_delimited', ignore_errors=true)) TO '{target}'")
    rows += con.execute(f"SELECT count(*) FROM '{target}'").fetchone()[0]
print(rows)
"""

DUCKDB_SCRIPT = r"""
import duckdb, os, sys
account, out = sys.argv[1], sys.argv[2]
only_am = len(sys.argv) > 3
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
con.execute("SET preserve_insertion_order = false")
rows = 0
for container in sorted(os.listdir(account)):
    path = os.path.join(account, container, "**", "*.json")
    target = os.path.join(out, container + ".parquet")
    if container.startswith("am-"):
        query = f"SELECT * FROM read_json('{path}', format='newline_delimited', union_by_name=true, ignore_errors=true, maximum_object_size=67108864)"
    elif container == "insights-logs-networksecuritygroupflowevent" and not only_am:
        # DuckDB cannot skip a malformed document, so blobs read mid-append (no closing `]}`) are left out.
        files = [os.path.join(d, f) for d, _, names in os.walk(os.path.join(account, container)) for f in names]
        complete = [f for f in files if open(f, "rb").read().rstrip().endswith(b"]}")]
        listed = "[" + ", ".join("'" + f + "'" for f in complete) + "]"
        query = f'''
          WITH r AS (SELECT unnest(records) AS rec FROM read_json({listed}, maximum_object_size=1073741824)),
               f AS (SELECT rec.time AS t, rec.resourceId AS rid, unnest(rec.properties.flows) AS fl FROM r),
               m AS (SELECT t, rid, fl.rule AS rule, unnest(fl.flows) AS mf FROM f)
          SELECT t, rid, rule, mf.mac AS mac, unnest(mf.flowTuples) AS tuple FROM m'''
    else:
        continue
    con.execute(f"COPY ({query}) TO '{target}' (FORMAT parquet, COMPRESSION zstd)")
    rows += con.execute(f"SELECT count(*) FROM '{target}'").fetchone()[0]
print(rows)
"""


# The three pack questions, written for DuckDB over the Parquet files its ingest wrote (one per
# container). Run as: python3 -c DUCKDB_QUERY <dir> <query> <baseline_start> <since> <until>;
# prints the number of result rows.
DUCKDB_QUERY = r"""
import duckdb, os, sys
out, name, baseline_start, since, until = sys.argv[1:6]
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
def f(container):
    return "'" + os.path.join(out, container + ".parquet") + "'"
tables = [t for t in ["SigninLogs", "AADNonInteractiveUserSignInLogs", "AuditLogs", "AppRequests", "AppDependencies",
                      "AppTraces", "AppEvents", "AppExceptions", "ApiManagementGatewayLogs", "ApiManagementGatewayMCPLog"]
          if os.path.exists(os.path.join(out, "am-" + t.lower() + ".parquet"))]
window = lambda column, start: f"{column} >= TIMESTAMPTZ '{start}' AND {column} < TIMESTAMPTZ '{until}'"
signins = f"SELECT TimeGenerated, IPAddress, CAST(UserId AS VARCHAR) AS UserId, UserPrincipalName, ResultType, CAST(Id AS VARCHAR) AS Id FROM {f('am-signinlogs')}"
if "AADNonInteractiveUserSignInLogs" in tables:
    signins += f" UNION ALL SELECT TimeGenerated, IPAddress, CAST(UserId AS VARCHAR), UserPrincipalName, ResultType, CAST(Id AS VARCHAR) FROM {f('am-aadnoninteractiveusersigninlogs')}"
if name == "hourly_volume":
    parts = [f"SELECT '{t}' AS table_name, date_trunc('hour', TimeGenerated) AS hour, count(*) AS records FROM {f('am-' + t.lower())} WHERE {window('TimeGenerated', baseline_start)} GROUP BY 2" for t in tables]
    parts.append(f"SELECT 'flows', date_trunc('hour', t), count(*) FROM {f('insights-logs-networksecuritygroupflowevent')} WHERE {window('t', baseline_start)} GROUP BY 2")
    sql = " UNION ALL ".join(parts)
elif name == "spray_sources":
    sql = f'''
      WITH signins AS ({signins}),
      bursts AS (
        SELECT IPAddress AS ip, count(DISTINCT UserId) AS accounts_targeted, count(*) AS failures, min(TimeGenerated) AS first_failure, max(TimeGenerated) AS last_failure
        FROM signins WHERE {window('TimeGenerated', baseline_start)} AND ResultType IN ('50126', '50053', '50034')
        GROUP BY 1 HAVING count(DISTINCT UserId) >= 5)
      SELECT b.*, s.UserId, s.UserPrincipalName, s.TimeGenerated, s.ResultType, s.Id
      FROM bursts b LEFT JOIN signins s ON s.IPAddress = b.ip AND s.ResultType IN ('0', '50074', '50076', '50079', '53003')
           AND s.TimeGenerated >= b.first_failure AND s.TimeGenerated < TIMESTAMPTZ '{until}'
      ORDER BY b.ip, s.TimeGenerated, s.UserId'''
else:
    enduser = "coalesce(CAST(r.Properties.\"enduser.id\" AS VARCHAR), CAST(r.UserAuthenticatedId AS VARCHAR))"
    sql = f'''
      WITH identities AS (
        SELECT UserId AS user_id, arg_max(UserPrincipalName, TimeGenerated) AS upn FROM ({signins})
        WHERE UserId IS NOT NULL AND UserId <> '' GROUP BY 1)
      SELECT coalesce(i.upn, {enduser}, '(anonymous)') AS "user", r.Properties."gen_ai.tool.name" AS tool, count(*) AS calls
      FROM {f('am-apprequests')} r LEFT JOIN identities i ON {enduser} = i.user_id
      WHERE r.Properties."mcp.method.name" = 'tools/call' AND {window('r.TimeGenerated', since)}
      GROUP BY 1, 2 ORDER BY 1, 2'''
print(len(con.execute(sql).fetchall()))
"""

PACK_QUESTIONS = ["hourly_volume", "spray_sources", "tools_per_user"]

# The same questions for mcpforensics: two pack queries as they are, and the per-user tool count.
OUR_TOOLS_PER_USER = """SELECT coalesce(i.user_principal_name, r.enduser_id, '(anonymous)') AS "user", r.tool_name AS tool, count(*) AS calls
FROM "AppRequests" r LEFT JOIN identities i ON r.enduser_id = i.user_id
WHERE r.mcp_method = 'tools/call' AND r."TimeGenerated" >= '{since}' AND r."TimeGenerated" < '{until}'
GROUP BY 1, 2 ORDER BY 1, 2"""


def query_seconds(stderr):
    """The seconds each pack query took in a `scope --timings` run: the slowest of its passes."""
    seconds = {}
    for name, value in re.findall(r"^(\w+)\s+([0-9.]+) s\s+\d+ rows", stderr, re.MULTILINE):
        seconds[name] = max(seconds.get(name, 0.0), float(value))
    return seconds


# The scenarios of the scope rows: the generator's options for each.
SCOPE_SCENARIOS = {
    "password": ["--scenario", "password"],
    "token": ["--scenario", "token"],
    "agent": ["--scenario", "agent"],
    "implant": ["--scenario", "implant"],
    "mixed": ["--scenario", "mixed"],
    "sampled": ["--scenario", "password", "--sampled", "10"],
    "sessionless": ["--scenario", "password", "--emitter", "no-session"],
}


def scope_scenarios(args):
    """One row per scenario: the tree's size, its ingest, and the scope's median wall time and peak
    RSS from the guess a responder makes (day --days/2), with what the scope found."""
    start = datetime.date(2026, 6, 1)
    since = (start + datetime.timedelta(days=args.days // 2)).isoformat()
    rows = []
    for name in args.scope_scenarios.split(","):
        if name not in SCOPE_SCENARIOS:
            sys.exit(f"unknown scenario {name!r}: one of {', '.join(SCOPE_SCENARIOS)}")
        account = os.path.join(args.workdir, f"account-s{args.scale}-d{args.days}-scope-{name}")
        if not os.path.isdir(account):
            subprocess.run([args.binary, "sample-data", "generate", "--seed", "9", "--scale", str(args.scale),
                            "--days", str(args.days), "--start", "2026-06-01", *SCOPE_SCENARIOS[name],
                            "--out", account], check=True, stdout=subprocess.DEVNULL)
        sizes = [os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(account) for f in files]
        case = os.path.join(args.workdir, f"case-scope-{name}")
        shutil.rmtree(case, ignore_errors=True)
        ingest_seconds, ingest_rss, out, _ = timed([args.binary, "ingest", account, "--case", case, "--format", "json"])
        records = json.loads(out)["records"]
        runs, found = [], None
        for _ in range(args.runs):
            seconds, rss, out, err = timed([args.binary, "scope", "--case", case, "--since", since, "--format", "json", "--timings"])
            report = json.loads(out)
            slowest = sorted(query_seconds(err).items(), key=lambda kv: -kv[1])[:3]
            runs.append((seconds, rss, slowest))
            found = (len(report["suspects"]), len(report["server_compromise"]), len(report["affected_customers"]),
                     report["window"]["scoped"]["since"])
        seconds = statistics.median(r[0] for r in runs)
        rss = statistics.median(r[1] for r in runs)
        slowest = ", ".join(f"{q} {t:.1f}" for q, t in runs[len(runs) // 2][2])
        rows.append((name, len(sizes), sum(sizes) / 1e6, records, ingest_seconds, ingest_rss, seconds, rss, found, slowest))
        print(f"  {name}: scope {seconds:.2f} s, {rss:.0f} MiB", file=sys.stderr)
        if args.discard:
            shutil.rmtree(account, ignore_errors=True)
            shutil.rmtree(case, ignore_errors=True)
    print(f"scope --since {since} (day {args.days // 2} of {args.days}), scale {args.scale}, median of {args.runs} runs\n")
    print("| scenario | blobs | MB | rows | ingest s | ingest peak RSS (MiB) | scope s | scope peak RSS (MiB) | suspects, server findings, affected customers, scoped from | slowest queries (s, slowest pass) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, blobs, mb, records, i_s, i_rss, s, rss, found, slowest in rows:
        suspects, server, customers, scoped = found
        print(f"| {name} | {blobs:,} | {mb:,.0f} | {records:,} | {i_s:.1f} | {i_rss:.0f} | {s:.2f} | {rss:.0f} | "
              f"{suspects}, {server}, {customers:,}, {scoped} | {slowest} |")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_listening(port, process, what):
    deadline = time.time() + 60
    while time.time() < deadline:
        if process.poll() is not None:
            sys.exit(f"{what} exited before listening on {port}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    sys.exit(f"{what} is not listening on {port} after 60 s")


def cluster_rows(args):
    """The same scope three ways, side by side: in this process on one core (`taskset -c 0`), in
    this process on every core, and on a loopback Ballista cluster of --executors executors with
    one slot each (the binary must be built with `--features cluster`). Each median of --runs; the
    cluster's JSON must equal the in-process one."""
    case = args.cluster
    if not os.path.isdir(case):
        sys.exit(f"--cluster {case}: not a case directory (ingest one first)")
    since = args.since
    scope = [args.binary, "scope", "--case", case, "--since", since, "--format", "json", "--timings"]
    logs = tempfile.mkdtemp(prefix="bench-cluster-")
    processes = []
    try:
        sched_port = free_port()
        scheduler = subprocess.Popen([args.binary, "cluster", "scheduler", "--bind", f"127.0.0.1:{sched_port}"],
                                     stdout=subprocess.DEVNULL, stderr=open(os.path.join(logs, "scheduler.log"), "w"))
        processes.append(scheduler)
        wait_listening(sched_port, scheduler, "the scheduler")
        for n in range(args.executors):
            port, task_port = free_port(), free_port()
            work = os.path.join(logs, f"executor-{n}")
            os.makedirs(work)
            executor = subprocess.Popen([args.binary, "cluster", "executor", "--scheduler", f"127.0.0.1:{sched_port}",
                                         "--bind", f"127.0.0.1:{port}", "--task-port", str(task_port), "--slots", "1",
                                         "--work-dir", work],
                                        stdout=subprocess.DEVNULL, stderr=open(os.path.join(logs, f"executor-{n}.log"), "w"))
            processes.append(executor)
            wait_listening(port, executor, f"executor {n}")
        on_cluster = [*scope, "--cluster", f"df://127.0.0.1:{sched_port}",
                      "--cluster-partitions", str(args.cluster_partitions)]
        cluster_name = f"loopback cluster, {args.executors} executors x 1 slot, {args.cluster_partitions} partitions"
        scratch = os.path.join(logs, "scratch")
        ways = [
            ("in-process, one core (taskset -c 0)", ["taskset", "-c", "0", *scope]),
            (f"in-process, {os.cpu_count()} cores", scope),
            (f"{cluster_name}, pack results in the plans", on_cluster),
            (f"{cluster_name}, large pack results as files (--cluster-scratch)",
             [*on_cluster, "--cluster-scratch", scratch]),
        ]
        rows, answers = [], []
        for name, command in ways:
            runs = []
            for _ in range(args.runs):
                try:
                    seconds, rss, out, _ = timed(command)
                except SystemExit as failure:
                    # A way that fails (a plan past gRPC's limits, say) is a row of its own.
                    error = [line for line in str(failure).splitlines() if line.startswith("error:")]
                    rows.append((name, None, error[0] if error else str(failure)[-300:]))
                    print(f"  {name}: failed: {rows[-1][2]}", file=sys.stderr)
                    break
                runs.append((seconds, rss))
                answers.append((name, out))
            else:
                rows.append((name, statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)))
                print(f"  {name}: {rows[-1][1]:.2f} s", file=sys.stderr)
        first = answers[0][1]
        for name, out in answers:
            if out != first:
                sys.exit(f"{name}: the scope's JSON differs from the first in-process run")
    finally:
        for process in processes:
            process.kill()
            process.wait()
        shutil.rmtree(logs, ignore_errors=True)
    sizes = [os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(os.path.join(case, "tables")) for f in files]
    print(f"scope --case {case} --since {since}: case tables {sum(sizes) / 1e9:.2f} GB in {len(sizes):,} files, "
          f"median of {args.runs} runs, every answer equal byte for byte\n")
    print("| how | scope s | client peak RSS (MiB) | speed-up over one core |")
    print("|---|---|---|---|")
    for name, seconds, rss in rows:
        if seconds is None:
            print(f"| {name} | failed: {rss} | | |")
        else:
            print(f"| {name} | {seconds:.2f} | {rss:.0f} | {rows[0][1] / seconds:.2f}x |")


def timed(command, limit=None):
    """Runs a command under /usr/bin/time -v; returns (seconds, peak RSS MiB, stdout, stderr), or
    None when it was still running after `limit` seconds (it is then stopped, with its children)."""
    process = subprocess.Popen(["/usr/bin/time", "-v", *command], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 9)
        process.communicate()
        return None
    result = subprocess.CompletedProcess(command, process.returncode, stdout, stderr)
    # 3: records rejected (the sample has some on purpose); 4: scope inconclusive (still timed).
    if result.returncode not in (0, 3, 4):
        sys.exit(f"{command[0]} failed ({result.returncode}): {result.stderr[-2000:]}")
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", result.stderr).group(1)
    seconds = sum(float(part) * 60 ** i for i, part in enumerate(reversed(wall.split(":"))))
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr).group(1)) / 1024
    return seconds, rss, result.stdout, result.stderr


# The shapes of evidence the headline is measured on (extra `sample-data generate` flags): the
# generator's default (five-minute blobs, export faults: cut lines, a mistyped value, retry
# duplicates) and a plain export (hourly blobs, no faults), where DuckDB's read_json is at its best.
SHAPES = {"default": [], "plain": ["--plain"]}


def generated_account(args, shape):
    """The generated storage account of this shape (generated once, kept in the work directory)."""
    suffix = "" if args.scenario == "password" else f"-{args.scenario}"
    suffix += "" if shape == "default" else f"-{shape}"
    account = os.path.join(args.workdir, f"account-s{args.scale}-d{args.days}{suffix}")
    if not os.path.isdir(account):
        subprocess.run([args.binary, "sample-data", "generate", "--seed", "9", "--scale", str(args.scale), "--days",
                        str(args.days), "--start", "2026-06-01", "--scenario", args.scenario, *SHAPES[shape],
                        "--out", account], check=True)
    return account


def headline(args, shape):
    """The am-* containers alone, ours and DuckDB's two ways back to back, --runs times; prints the table."""
    account = generated_account(args, shape)
    # The Log Analytics exports alone, hard-linked (the same files, read as regular files).
    am_only = account + "-am"
    if not os.path.isdir(am_only):
        for container in os.listdir(account):
            if not container.startswith("am-"):
                continue
            for d, _, files in os.walk(os.path.join(account, container)):
                target = os.path.join(am_only, os.path.relpath(d, account))
                os.makedirs(target, exist_ok=True)
                for f in files:
                    os.link(os.path.join(d, f), os.path.join(target, f))
    am_sizes = [os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(am_only) for f in files]
    am_megabytes, am_blobs = sum(am_sizes) / 1e6, len(am_sizes)
    am_ours, am_duck_default, am_duck_union = [], [], []
    am_rows_ours = 0

    for _ in range(args.runs):
        am_case = os.path.join(args.workdir, "case-am")
        shutil.rmtree(am_case, ignore_errors=True)
        seconds, rss, out, _ = timed([args.binary, "ingest", am_only, "--case", am_case, "--format", "json"])
        am_rows_ours = json.loads(out)["records"]
        am_ours.append((seconds, rss))
        shutil.rmtree(am_case, ignore_errors=True)
        if not args.skip_duckdb:
            forms = [(DUCKDB_DEFAULT_SCRIPT, am_duck_default, []), (DUCKDB_SCRIPT, am_duck_union, ["am-only"])]
            for script, samples, extra in forms[:1] if args.skip_union_by_name else forms:
                out_dir = os.path.join(args.workdir, "duckdb-am")
                shutil.rmtree(out_dir, ignore_errors=True)
                os.makedirs(out_dir)
                limit = args.duckdb_cap * am_ours[-1][0] if args.duckdb_cap else None
                measured = timed([sys.executable, "-c", script, am_only, out_dir, *extra], limit)
                if measured is None:
                    # Stopped: it took more than `limit`; its peak RSS and rows are unknown.
                    samples.append((limit, float("nan"), None, "stopped"))
                else:
                    seconds, rss, out, _ = measured
                    samples.append((seconds, rss, int(out.strip()), "finished"))
                print(f"  DuckDB {'default' if script is DUCKDB_DEFAULT_SCRIPT else 'union_by_name'}: "
                      f"{samples[-1][3]} at {samples[-1][0]:.1f} s (ours {am_ours[-1][0]:.1f} s)", file=sys.stderr)
            shutil.rmtree(out_dir, ignore_errors=True)

    def median(samples, i):
        return statistics.median(s[i] for s in samples)

    print(f"Log Analytics exports (am-*), {shape} shape: {am_blobs} blobs, {am_megabytes:.1f} MB, scale {args.scale}, {args.days} days, median of {args.runs} runs\n")
    print("| step | seconds | MB/s | rows | peak RSS (MiB) |")
    print("|---|---|---|---|---|")
    s_ours = median(am_ours, 0)
    print(f"| mcpforensics ingest | {s_ours:.2f} | {am_megabytes / s_ours:.1f} | {am_rows_ours:,} | {median(am_ours, 1):.0f} |")
    def ratio(samples):
        # A stopped run counts as its limit, so a median over stopped runs is a lower bound.
        bound = "more than " if sum(1 for s in samples if s[3] == "stopped") * 2 > len(samples) else ""
        return f"{bound}{median(samples, 0) / s_ours:.2f}x"

    for name, samples in [("DuckDB default read_json → Parquet (the analyst's way)", am_duck_default), ("DuckDB read_json union_by_name, zstd", am_duck_union)]:
        if samples:
            s = median(samples, 0)
            stopped = sum(1 for sample in samples if sample[3] == "stopped")
            runs = ", ".join(f"{'>' if sample[3] == 'stopped' else ''}{sample[0]:.1f}" for sample in samples)
            rows = next((f"{sample[2]:,}" for sample in samples if sample[2] is not None), "unknown")
            rss = [sample[1] for sample in samples if sample[3] == "finished"]
            rss = f"{statistics.median(rss):.0f}" if rss else "unknown"
            shown = f"more than {s:.2f}" if stopped * 2 > len(samples) else f"{s:.2f}"
            rate = f"{'less than ' if stopped * 2 > len(samples) else ''}{am_megabytes / s:.1f}"
            print(f"| {name} | {shown} ({runs}; {stopped} stopped) | {rate} | {rows} | {rss} |")
    if am_duck_default:
        union = ratio(am_duck_union) if am_duck_union else "not run"
        print(f"\nDuckDB default / mcpforensics time: {ratio(am_duck_default)} (union_by_name: {union})\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default="target/release/mcpforensics")
    parser.add_argument("--scale", type=float, default=4)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-timeline", action="store_true", help="leave out the timeline measurement")
    parser.add_argument("--skip-duckdb", action="store_true", help="leave out DuckDB (no `pip install duckdb`)")
    parser.add_argument("--shapes", default="default,plain",
                        help="the shapes the headline is measured on, in order (comma list of "
                             f"{', '.join(SHAPES)}); the rest of the bench runs on the first")
    parser.add_argument("--headline-only", action="store_true", help="measure only the am-* headline (ingest against DuckDB's two ways)")
    parser.add_argument("--skip-union-by-name", action="store_true",
                        help="leave out the headline's second DuckDB row (union_by_name, zstd): on a large tree "
                             "it halves the time a median of 3 takes")
    parser.add_argument("--duckdb-cap", type=float, default=None, metavar="X",
                        help="stop each DuckDB headline run once it has taken X times our ingest of the same run "
                             "(its time is then reported as more than that: a lower bound)")
    parser.add_argument("--scenario", default="password",
                        help="the breach generated (sample-data generate --scenario): implant puts the server "
                             "finding in the window, the case where affected_customers used to cost the most")
    parser.add_argument("--scope-scenarios", metavar="LIST", default=None,
                        help="instead of the ingest comparison: one row per scenario (comma list of "
                             f"{', '.join(SCOPE_SCENARIOS)}), each generated at --scale, ingested once and "
                             "scoped --runs times from the guess a responder makes (day --days/2)")
    parser.add_argument("--discard", action="store_true",
                        help="with --scope-scenarios: delete each scenario's tree and case after its row "
                             "(a 5 GB tree and its case take about 7 GB of disk)")
    parser.add_argument("--cluster", metavar="CASE", default=None,
                        help="instead of the ingest comparison: scope CASE in-process on one core, on every core, "
                             "and on a loopback cluster (--executors executors, one slot each); needs a binary "
                             "built with --features cluster")
    parser.add_argument("--since", default="2026-07-16", help="with --cluster: the scope's --since")
    parser.add_argument("--executors", type=int, default=2, help="with --cluster: executors on loopback")
    parser.add_argument("--cluster-partitions", type=int, default=2, help="with --cluster: partitions a stage")
    parser.add_argument("--workdir", default=os.path.join(tempfile.gettempdir(), "mcpforensics-bench"))
    args = parser.parse_args()
    if args.scope_scenarios:
        scope_scenarios(args)
        return
    if args.cluster:
        cluster_rows(args)
        return

    shapes = [shape.strip() for shape in args.shapes.split(",") if shape.strip()]
    unknown = [shape for shape in shapes if shape not in SHAPES]
    if unknown or not shapes:
        sys.exit(f"--shapes: unknown {', '.join(unknown) or '(none given)'}; known: {', '.join(SHAPES)}")
    for shape in shapes:
        headline(args, shape)
    if args.headline_only:
        return
    account = generated_account(args, shapes[0])
    sizes = [os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(account) for f in files]
    megabytes, blobs = sum(sizes) / 1e6, len(sizes)

    ours, again, duck, scope, scope_week, timeline, scope_findings = [], [], [], [], [], [], []
    pack_ours, pack_duck = {}, {}
    files_read = ""
    rows_ours = rows_duck = 0
    for _ in range(args.runs):
        case = os.path.join(args.workdir, "case")
        shutil.rmtree(case, ignore_errors=True)
        seconds, rss, out, _ = timed([args.binary, "ingest", account, "--case", case, "--format", "json"])
        ingested = json.loads(out)
        rows_ours = ingested["records"]
        ours.append((seconds, rss))
        start = datetime.date(2026, 6, 1)
        since = (start + datetime.timedelta(days=args.days // 2)).isoformat()
        until = (start + datetime.timedelta(days=args.days)).isoformat()
        baseline_start = (start + datetime.timedelta(days=args.days // 2 - 14)).isoformat()
        seconds, rss, out, err = timed([args.binary, "scope", "--case", case, "--since", since, "--format", "json", "--timings"])
        scope.append((seconds, rss))
        scope_findings.append((json.loads(out)["server_compromise"] != [], query_seconds(err)))
        seconds, rss, _, err = timed([args.binary, "scope", "--case", case, "--since", "7d", "--format", "json", "--timings"])
        scope_week.append((seconds, rss))
        files_read = re.search(r"read \d+ of \d+ case files[^\n]*", err).group(0)
        for query in PACK_QUESTIONS:
            if query == "tools_per_user":
                command = [args.binary, "sql", "--case", case, "--format", "csv", OUR_TOOLS_PER_USER.format(since=since, until=until)]
            else:
                # --as-given: the query on the window given, as DuckDB runs it (without it the scope
                # runs first to settle the window, which is not the question measured).
                command = [args.binary, "queries", "run", query, "--case", case, "--since", since, "--until", until, "--format", "csv", "--as-given"]
            seconds, rss, out, _ = timed(command)
            pack_ours.setdefault(query, []).append((seconds, rss, max(len(out.splitlines()) - 1, 0)))
        if not args.skip_timeline:
            seconds, rss, out, _ = timed([args.binary, "timeline", "--case", case, "--bench"])
            figures = json.loads(out)
            timeline.append((figures, rss))
        # The same blobs again into the full case: each is hashed, found in the manifest and
        # skipped; what grows with the case is the manifest this reads and rewrites.
        seconds, rss, out, _ = timed([args.binary, "ingest", account, "--case", case, "--format", "json"])
        summary = json.loads(out)
        if summary["records"] != 0 or summary["blobs_already_ingested"] != ingested["files"]:
            sys.exit(f"ingest again wrote {summary['records']} rows, skipped {summary['blobs_already_ingested']} of {ingested['files']} blobs")
        again.append((seconds, rss))
        if args.skip_duckdb:
            continue
        out_dir = os.path.join(args.workdir, "duckdb")
        shutil.rmtree(out_dir, ignore_errors=True)
        os.makedirs(out_dir)
        seconds, rss, out, _ = timed([sys.executable, "-c", DUCKDB_SCRIPT, account, out_dir])
        rows_duck = int(out.strip())
        duck.append((seconds, rss))
        for query in PACK_QUESTIONS:
            seconds, rss, out, _ = timed([sys.executable, "-c", DUCKDB_QUERY, out_dir, query, baseline_start, since, until])
            pack_duck.setdefault(query, []).append((seconds, rss, int(out.strip())))

    def median(samples, i):
        return statistics.median(s[i] for s in samples)

    print(f"Whole account: {blobs} blobs, {megabytes:.1f} MB\n")
    print("| step | seconds | MB/s | rows/s | peak RSS (MiB) |")
    print("|---|---|---|---|---|")
    for name, samples, rows in [("mcpforensics ingest", ours, rows_ours), ("DuckDB read_json → Parquet", duck, rows_duck)]:
        if not samples:
            continue
        s = median(samples, 0)
        print(f"| {name} | {s:.2f} | {megabytes / s:.1f} | {rows / s:,.0f} ({rows:,} rows) | {median(samples, 1):.0f} |")
    print(f"| mcpforensics ingest again into the full case (every blob hashed and skipped) | {median(again, 0):.2f} | {megabytes / median(again, 0):.1f} | | {median(again, 1):.0f} |")
    print(f"| mcpforensics scope (--since day {args.days // 2} of {args.days}) | {median(scope, 0):.2f} | | | {median(scope, 1):.0f} |")
    print(f"| mcpforensics scope (--since 7d, the last week) | {median(scope_week, 0):.2f} | | | {median(scope_week, 1):.0f} |")
    if scope_findings:
        implant = "with" if scope_findings[0][0] else "without"
        print(f"\nscope --since day {args.days // 2}: scenario {args.scenario}, {implant} a server finding; "
              f"seconds a query takes, the slowest of its passes, median of {len(scope_findings)} runs\n")
        print("| query | seconds |")
        print("|---|---|")
        for query in ["window_calls", "window_outbound", "server_compromise", "affected_customers"]:
            times = [timings[query] for _, timings in scope_findings if query in timings]
            if times:
                print(f"| {query} | {statistics.median(times):.2f} |")
    if duck:
        print(f"\ningest time ratio ours/DuckDB: {median(ours, 0) / median(duck, 0):.2f}")
    print(f"\nscope --since 7d {files_read}")
    print(f"\npack questions, window {since} to {until} (baseline from {baseline_start}), one process each, median of {args.runs} runs\n")
    print("| question | mcpforensics s | DuckDB s | ratio ours/DuckDB | result rows ours / DuckDB | peak RSS MiB ours / DuckDB |")
    print("|---|---|---|---|---|---|")
    for query in PACK_QUESTIONS:
        o, d = pack_ours[query], pack_duck.get(query)
        if d:
            print(f"| {query} | {median(o, 0):.2f} | {median(d, 0):.2f} | {median(o, 0) / median(d, 0):.2f} | {o[0][2]} / {d[0][2]} | {median(o, 1):.0f} / {median(d, 1):.0f} |")
        else:
            print(f"| {query} | {median(o, 0):.2f} | | | {o[0][2]} | {median(o, 1):.0f} |")
    if timeline:
        def figure(key):
            return statistics.median(f[key] for f, _ in timeline)
        first = timeline[0][0]
        stopped = f", loading stopped at {first['stopped_at']} (--events-mib)" if first.get("stopped_at") else ""
        print(f"\ntimeline on {first['events']:,} events in {first['chunks']} chunks{stopped}, 200x50 off-screen, median of {len(timeline)} runs\n")
        print("| first paint (ms) | all loaded (ms) | frame while paging, median / max (ms) | frames | filter over all events (ms) | events held (MiB, bytes an event) | peak RSS (MiB) |")
        print("|---|---|---|---|---|---|---|")
        held = figure('events_mib')
        print(f"| {figure('first_paint_ms'):.0f} | {figure('fully_loaded_ms'):.0f} | {figure('scroll_frame_median_ms'):.2f} / {figure('scroll_frame_max_ms'):.1f} | {first['scroll_frames']:,} | {figure('filter_ms'):.0f} | {held:.0f} ({held * 1048576 / max(first['events'], 1):.0f}) | {statistics.median(r for _, r in timeline):.0f} |")


if __name__ == "__main__":
    main()
