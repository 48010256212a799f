//! The binary as a user runs it: exit codes, summaries, SQL output formats, the bundled default.

use crate::common::*;

#[test]
fn ingest_then_sql_end_to_end() {
    let account = Account::new();
    let good = r#"{"TimeGenerated":"2026-10-01T02:05:00Z","Name":"tools/call get_customer","Id":"s1","Properties":{"mcp.method.name":"tools/call","gen_ai.tool.name":"get_customer","client.address":"45.86.202.14","gen_ai.tool.call.arguments":"{\"customer_id\":\"=HYPERLINK(\\\"http://x\\\")\"}","enduser.id":"eve@contoso.com"},"UserAuthenticatedId":"eve@contoso.com"}"#;
    account.put(
        &la_blob("AppRequests", "PT05M.json"),
        format!("{good}\n").as_bytes(),
    );
    let case = tempfile::tempdir().expect("case");
    let case_arg = case.path().to_str().expect("utf8 path");
    let (code, stdout, stderr) = run(bin().args([
        "ingest",
        account.path().to_str().expect("path"),
        "--case",
        case_arg,
        "--format",
        "json",
    ]));
    assert_eq!(code, 0, "{stderr}");
    let summary: serde_json::Value = serde_json::from_str(&stdout).expect("json summary");
    for key in ["files", "records", "rejected", "duplicates"] {
        assert!(summary.get(key).is_some(), "summary has {key}");
    }
    assert_eq!(
        (
            summary["files"].as_u64(),
            summary["records"].as_u64(),
            summary["rejected"].as_u64()
        ),
        (Some(1), Some(1), Some(0))
    );
    assert_eq!(summary["call_index"]["state"], "current", "{stdout}");
    assert_eq!(summary["call_index"]["calls"], 1, "{stdout}");

    let (code, stdout, _) = run(bin().args([
        "sql",
        "--case",
        case_arg,
        "--format",
        "csv",
        "SELECT \"user\", tool, client_address, arguments FROM tool_calls",
    ]));
    assert_eq!(code, 0);
    let mut lines = stdout.lines();
    // A byte-order mark first, for Excel; CRLF line ends.
    assert_eq!(
        lines.next(),
        Some("\u{feff}user,tool,client_address,arguments")
    );
    assert!(stdout.ends_with("\r\n"));
    // The argument is JSON text starting with `{`, so it is quoted but needs no neutralising…
    assert_eq!(
        lines.next(),
        Some(
            "eve@contoso.com,get_customer,45.86.202.14,\"{\"\"customer_id\"\":\"\"=HYPERLINK(\\\"\"http://x\\\"\")\"\"}\""
        )
    );
    // …while a cell that starts with a formula character is.
    let (_, stdout, _) = run(bin().args([
        "sql",
        "--case",
        case_arg,
        "--format",
        "csv",
        "SELECT '=1+1' AS f, '@cmd' AS g, '-2+3' AS h, '-2' AS i, -5 AS j",
    ]));
    // …and a number stays a number.
    assert_eq!(stdout.lines().nth(1), Some("'=1+1,'@cmd,'-2+3,-2,-5"));
    let (_, stdout, _) = run(bin().args([
        "sql",
        "--case",
        case_arg,
        "--format",
        "json",
        "SELECT tool, response_bytes FROM tool_calls",
    ]));
    let rows: serde_json::Value = serde_json::from_str(&stdout).expect("json rows");
    assert_eq!(
        rows,
        serde_json::json!([{"tool": "get_customer", "response_bytes": null}])
    );
    let (_, stdout, _) = run(bin().args([
        "sql",
        "--case",
        case_arg,
        "SELECT concat('a', chr(27), '[2Jb') AS hostile",
    ]));
    assert!(
        stdout.contains("a\\u{1b}[2Jb") && !stdout.contains('\u{1b}'),
        "{stdout}"
    );
}

#[test]
fn exit_codes_mean_something() {
    let account = Account::new();
    account.put(
        &la_blob("AppTraces", "PT05M.json"),
        b"{\"TimeGenerated\":\"2026-10-01T02:05:00Z\"}\nnot json\n",
    );
    let case = tempfile::tempdir().expect("case");
    let case_arg = case.path().to_str().expect("path");
    let (code, stdout, stderr) = run(bin().args([
        "ingest",
        account.path().to_str().expect("path"),
        "--case",
        case_arg,
    ]));
    assert_eq!(code, 3, "rejected records give exit code 3");
    assert!(stderr.contains("line 2: invalid JSON"), "{stderr}");
    assert!(stdout.contains("rejected: 1"), "{stdout}");
    let (code, _, stderr) =
        run(bin().args(["sql", "--case", case_arg, "CREATE TABLE x AS SELECT 1"]));
    assert_eq!(code, 1);
    assert!(
        stderr.to_lowercase().contains("ddl") || stderr.contains("not supported"),
        "{stderr}"
    );
    let (code, _, stderr) = run(bin().args(["sql", "--case", case_arg, "SELECT * FROM nowhere"]));
    assert_eq!((code, stderr.contains("nowhere")), (1, true));
    let (code, _, _) = run(bin().args(["ingest", "/definitely/not/here", "--case", case_arg]));
    assert_eq!(code, 2);
    // Without a SOURCE, ingest refuses instead of pouring the bundled sample into the case.
    let before = hash_tree(case.path());
    let (code, _, stderr) = run(bin().args(["ingest", "--case", case_arg]));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("ingest needs its SOURCE"), "{stderr}");
    assert_eq!(hash_tree(case.path()), before, "the case is unchanged");
    let (code, _, stderr) = run(bin().args([
        "ingest",
        account.path().to_str().expect("path"),
        "--case",
        case_arg,
        "--since",
        "tomorrow",
    ]));
    assert_eq!(code, 2, "{stderr}");
    let (code, _, stderr) = run(bin().args([
        "sql",
        "--case",
        account.path().to_str().expect("path"),
        "SELECT 1",
    ]));
    assert_eq!(code, 1);
    assert!(stderr.contains("is not an mcpforensics case"), "{stderr}");
}

#[test]
fn bundled_sample_is_the_default_case() {
    let _ = sample_case();
    let (code, stdout, stderr) =
        run(bin().args(["sql", "SELECT count(*) AS calls FROM tool_calls"]));
    assert_eq!(code, 0, "{stderr}");
    let calls: i64 = stdout
        .lines()
        .nth(2)
        .expect("a row")
        .trim()
        .parse()
        .expect("number");
    assert!(calls > 1000, "{stdout}");
    let (code, stdout, _) = run(bin().args(["tables", "--format", "csv"]));
    assert_eq!(code, 0);
    assert!(stdout.lines().any(|l| l.starts_with("tool_calls,view,")));
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("AppExceptions,empty,0,"))
    );
    // --columns: one row per column with its type, none cut however long the table.
    let (code, stdout, stderr) = run(bin().args(["tables", "--columns", "--format", "csv"]));
    assert_eq!(code, 0, "{stderr}");
    let signin_columns: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("SigninLogs,table,"))
        .collect();
    let (_, described, _) = run(bin().args([
        "sql",
        "--format",
        "csv",
        "SELECT count(*) AS n FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'SigninLogs'",
    ]));
    let expected: usize = described
        .trim_start_matches('\u{feff}')
        .lines()
        .nth(1)
        .and_then(|n| n.trim().parse().ok())
        .expect("a count");
    assert_eq!(signin_columns.len(), expected, "{stdout}");
    assert!(
        signin_columns
            .iter()
            .any(|l| l.contains(",TimeGenerated,\"Timestamp("))
    );
    let (_, table, _) = run(bin().args(["tables", "--columns"]));
    assert!(
        !table.contains('…'),
        "nothing cut in the table format:\n{table}"
    );
    // Options only where they apply: queries list runs no query, so it takes no --memory-mib.
    let (code, _, stderr) = run(bin().args(["queries", "list", "--memory-mib", "100"]));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("unexpected argument '--memory-mib'"),
        "{stderr}"
    );
    // Identifiers keep their Log Analytics case.
    let (code, stdout, stderr) = run(bin().args([
        "sql",
        "SELECT UserPrincipalName FROM SigninLogs WHERE ResultType = '50126' LIMIT 1",
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("@contoso.com"));
}

#[test]
fn schema_doc_is_current() {
    let (code, stdout, _) = run(bin().arg("schema-doc"));
    assert_eq!(code, 0);
    let committed = std::fs::read_to_string(root().join("docs/schema.md")).expect("docs/schema.md");
    assert!(
        committed == stdout,
        "docs/schema.md is stale: run `cargo run -- schema-doc > docs/schema.md`"
    );
}

#[test]
fn help_explains() {
    let (code, stdout, _) = run(bin().arg("--help"));
    assert_eq!(code, 0);
    for word in ["ingest", "sql", "tables", "Exit codes"] {
        assert!(stdout.contains(word), "help mentions {word}");
    }
    let (_, stdout, _) = run(bin().args(["ingest", "--help"]));
    assert!(stdout.contains("--since") && stdout.contains("not opened"));
}

#[test]
fn query_pack_is_listed_and_runs_by_name() {
    let _ = sample_case();
    let (code, stdout, _) = run(bin().args(["queries", "list"]));
    assert_eq!(code, 0);
    for query in mcpforensics::query::pack::queries() {
        assert!(
            stdout.contains(&format!("{}\n  {}", query.name, query.description)),
            "{} listed",
            query.name
        );
    }
    // Two days late: the query runs on the window the scope widened to (the spray of
    // 2026-09-30 03:05), and says so; --as-given runs on the window as given.
    let spray = |extra: &[&str]| {
        let mut args = vec![
            "queries",
            "run",
            "spray_sources",
            "--since",
            "2026-10-02",
            "--format",
            "csv",
        ];
        args.extend_from_slice(extra);
        let (code, stdout, stderr) = run(bin().args(args));
        assert_eq!(code, 0, "{stderr}");
        (stdout, stderr)
    };
    let (stdout, stderr) = spray(&[]);
    assert!(
        stdout
            .lines()
            .nth(1)
            .is_some_and(|l| l.starts_with("185.220.101.47,19,")),
        "{stdout}"
    );
    assert!(
        stderr.contains("the window widened to the breach's first evidence: since 2026-09-30T03:00:00Z (asked for 2026-10-02T00:00:00Z)"),
        "{stderr}"
    );
    let (_, stderr) = spray(&["--as-given"]);
    assert!(!stderr.contains("widened"), "{stderr}");
    // --explain: the plan, after the queries it reads ran (session_signs is read as a table);
    // --analyze: the plan as run, with each operator's rows.
    let explain = |extra: &[&str]| {
        let mut args = vec![
            "queries",
            "run",
            "session_profiles",
            "--since",
            "2026-09-30",
            "--explain",
            "--as-given",
            "--format",
            "csv",
        ];
        args.extend_from_slice(extra);
        let (code, stdout, stderr) = run(bin().args(args));
        assert_eq!(code, 0, "{stderr}");
        stdout
    };
    let plan = explain(&[]);
    assert!(
        plan.contains("physical_plan") && plan.contains("SortExec"),
        "{plan}"
    );
    assert!(!plan.contains("output_rows"), "{plan}");
    let plan = explain(&["--analyze"]);
    assert!(plan.contains("output_rows="), "{plan}");
    let (code, _, stderr) = run(bin().args([
        "queries",
        "run",
        "spray_sources",
        "--since",
        "2026-09-30",
        "--analyze",
    ]));
    assert_eq!(
        code, 2,
        "--analyze without --explain is a usage error: {stderr}"
    );
    let (code, _, stderr) =
        run(bin().args(["queries", "run", "no_such_query", "--since", "2026-09-30"]));
    assert_eq!(code, 1);
    assert!(stderr.contains("no query named no_such_query"));
    let (code, _, stderr) = run(bin().args(["scope", "--since", "2030-01-01"]));
    assert_eq!(
        code, 2,
        "a window after the evidence is a usage error: {stderr}"
    );
}

#[test]
fn scope_with_source_ingests_first() {
    let account =
        nsg_and_traces_account(b"{\"TimeGenerated\":\"2026-10-01T02:05:00Z\"}\nnot json\n");
    let case = tempfile::tempdir().expect("case");
    let (code, stdout, stderr) = run(bin()
        .args(["scope", "--source"])
        .arg(account.path())
        .arg("--case")
        .arg(case.path())
        .args(["--since", "2026-10-01", "--format", "json"]));
    assert_eq!(code, 3, "the ingest rejected a record: {stderr}");
    assert!(stderr.contains("1 rejected"), "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(report["suspects"].as_array().map(Vec::len), Some(0));
    assert!(case.path().join("manifest.json").exists());
}

#[test]
fn verify_finds_every_difference_and_nothing_else() {
    let account = nsg_and_traces_account(b"{\"TimeGenerated\":\"2026-10-01T02:05:00Z\"}\n");
    let case = tempfile::tempdir().expect("case");
    ingest_dir(account.path(), case.path());
    let verify = |extra: &[&str]| {
        run(bin()
            .arg("verify")
            .arg("--case")
            .arg(case.path())
            .args(["--source", account.path().to_str().expect("path")])
            .args(extra))
    };
    let (code, stdout, _) = verify(&[]);
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.contains("verified: no differences") && stdout.contains("source blobs: 2 match")
    );
    // Tamper with the source, a case file, and plant a file.
    account.put(
        &la_blob("AppTraces", "PT05M.json"),
        b"{\"TimeGenerated\":\"2026-10-01T02:06:00Z\"}\n",
    );
    let manifest = mcpforensics::case::Case::open(case.path())
        .expect("case")
        .manifest()
        .expect("manifest")
        .clone();
    let first = &manifest.ingests[0].files[0].path;
    let mut bytes = std::fs::read(case.path().join(first)).expect("file");
    bytes[10] ^= 1;
    std::fs::write(case.path().join(first), bytes).expect("tamper");
    std::fs::write(
        case.path()
            .join("tables/AppTraces/date=2026-10-01/planted.parquet"),
        b"x",
    )
    .expect("plant");
    let (code, stdout, _) = verify(&["--format", "json"]);
    assert_eq!(code, 1);
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(report["case_files_changed"], serde_json::json!([first]));
    assert_eq!(
        report["case_files_unexpected"],
        serde_json::json!(["tables/AppTraces/date=2026-10-01/planted.parquet"])
    );
    assert_eq!(
        report["source_blobs_changed"].as_array().map(Vec::len),
        Some(1)
    );
    assert_eq!(report["source_blobs_ok"], 1);
}

/// Scope reads the call index while its files keep their sizes: verify re-hashes them against
/// the index's own list, so a file changed in place is found.
#[test]
fn verify_rehashes_the_call_index_scope_reads() {
    let case = tempfile::tempdir().expect("case");
    copy_dir(&sample_case(), case.path());
    let verify = || {
        run(bin()
            .args(["verify", "--case"])
            .arg(case.path())
            .args(["--format", "json"]))
    };
    let (code, stdout, stderr) = verify();
    assert_eq!(code, 0, "{stdout}{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    let dir = report["call_index"]["dir"]
        .as_str()
        .expect("dir")
        .to_string();
    assert!(dir.starts_with("derived/tool_calls-"), "{dir}");
    let files = report["call_index"]["files_ok"].as_u64().expect("files");
    assert!(files > 0);
    assert_eq!(report["call_index"]["files_changed"], serde_json::json!([]));

    // One byte of one index file changed in place: the size is the same, so scope would read it.
    let day = std::fs::read_dir(case.path().join(&dir))
        .expect("index")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|n| n.starts_with("date="))
        .expect("a day");
    let changed = format!("{dir}/{day}/calls.parquet");
    let mut bytes = std::fs::read(case.path().join(&changed)).expect("file");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 1;
    std::fs::write(case.path().join(&changed), bytes).expect("tamper");
    let (code, stdout, _) = verify();
    assert_eq!(code, 1, "{stdout}");
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(
        report["call_index"]["files_changed"],
        serde_json::json!([changed])
    );
    assert_eq!(report["call_index"]["files_ok"].as_u64(), Some(files - 1));
    assert_eq!(report["case_files_changed"], serde_json::json!([]));
    let (code, text, _) = run(bin().args(["verify", "--case"]).arg(case.path()));
    assert_eq!(code, 1);
    assert!(
        text.contains(&format!("CHANGED: {changed}"))
            && text.contains(&format!("delete {dir} and run the same ingest again"))
            && text.contains("DIFFERENCES FOUND"),
        "{text}"
    );

    // Without the index there is nothing derived to check, and the evidence verifies.
    std::fs::remove_dir_all(case.path().join(&dir)).expect("remove");
    let (code, stdout, _) = verify();
    assert_eq!(code, 0, "{stdout}");
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert!(report["call_index"].is_null(), "{stdout}");
}

/// Queries read whatever Parquet files the case's table directories hold: a file gone or one
/// planted changes results silently unless every command that queries says so.
#[test]
fn every_query_command_says_when_the_case_is_not_as_its_manifest_lists() {
    let case = tempfile::tempdir().expect("case");
    copy_dir(&sample_case(), case.path());
    let case_arg = case.path().to_str().expect("path");
    let scope = || {
        run(bin().args([
            "scope", "--case", case_arg, "--since", "30d", "--format", "json",
        ]))
    };
    let (code, stdout, stderr) = scope();
    assert_eq!(code, 0, "{stderr}");
    let intact: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(
        intact["evidence"]["case_files_missing"],
        serde_json::json!([])
    );
    assert!(!stdout.contains("does not match its manifest"));

    let head = mcpforensics::case::Case::open(case.path())
        .expect("case")
        .head()
        .expect("head")
        .clone();
    let requests: Vec<&str> = head
        .ingests
        .iter()
        .flat_map(|i| &i.files)
        .filter(|f| f.table == "AppRequests")
        .map(|f| f.path.as_str())
        .collect();
    let (gone, copied) = (requests[0], requests[requests.len() - 1]);
    std::fs::remove_file(case.path().join(gone)).expect("remove");
    let planted = std::path::Path::new(copied)
        .with_file_name("planted.parquet")
        .to_string_lossy()
        .into_owned();
    std::fs::copy(case.path().join(copied), case.path().join(&planted)).expect("plant");

    let (code, stdout, stderr) = scope();
    assert_eq!(code, 3, "a case not as listed gives exit code 3: {stderr}");
    assert!(
        stderr.contains("warning: The case does not match its manifest")
            && stderr.contains(gone)
            && stderr.contains(&planted),
        "{stderr}"
    );
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(
        report["evidence"]["case_files_missing"],
        serde_json::json!([gone])
    );
    assert_eq!(
        report["evidence"]["case_files_unlisted"],
        serde_json::json!([planted])
    );
    let statements = report["coverage"]["statements"].to_string();
    assert!(
        statements.contains("1 file the manifest lists is missing")
            && statements.contains("1 file the manifest does not list is in the case"),
        "{statements}"
    );
    let (code, stdout, stderr) = run(bin().args([
        "scope", "--case", case_arg, "--since", "30d", "--format", "html",
    ]));
    assert_eq!(code, 3);
    assert!(stdout.contains("does not match its manifest") && stderr.contains("warning"));
    for args in [
        vec![
            "sql",
            "--case",
            case_arg,
            "SELECT count(*) FROM \"AppRequests\"",
        ],
        vec![
            "queries",
            "run",
            "hourly_volume",
            "--case",
            case_arg,
            "--since",
            "30d",
        ],
        vec!["tables", "--case", case_arg],
    ] {
        let (code, stdout, stderr) = run(bin().args(&args));
        assert_eq!(code, 3, "{args:?}: {stderr}");
        assert!(
            !stdout.is_empty() && stderr.contains(&planted),
            "{args:?}: {stderr}"
        );
    }
    // The timeline's loader says so too (its header then shows it; a view snapshot covers that).
    use mcpforensics::timeline::loader::{self, LoadPlan, Update};
    let case = std::sync::Arc::new(mcpforensics::case::Case::open(case.path()).expect("case"));
    let totals = case.totals().expect("totals").clone();
    let (tx, rx) = std::sync::mpsc::channel();
    loader::start(
        LoadPlan {
            case,
            from: totals.first().expect("first"),
            to: totals.last().expect("last") + chrono::Duration::seconds(1),
            scope: None,
            iocs: Vec::new(),
            sigma: Vec::new(),
            events_budget: usize::MAX,
            settings: Default::default(),
        },
        tx,
    );
    let said = loop {
        match rx
            .recv_timeout(std::time::Duration::from_secs(120))
            .expect("update")
        {
            Update::CaseFiles(statement) => break statement,
            Update::Loaded | Update::Failed(_) => panic!("loaded without a word on the files"),
            _ => {}
        }
    };
    assert!(said.contains(gone) && said.contains(&planted), "{said}");
}

#[test]
fn absurd_windows_are_usage_errors_not_panics() {
    for args in [
        vec!["scope", "--since", "20212323566h"],
        vec![
            "scope",
            "--since",
            "2026-09-30",
            "--baseline-days",
            "4000000000",
        ],
        vec!["timeline", "--since", "99999999999d"],
    ] {
        let (code, _, stderr) = run(bin().args(&args));
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn sql_cannot_write_files() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out.csv");
    for statement in [
        format!("COPY (SELECT 1 AS x) TO '{}'", target.display()),
        format!(
            "CREATE EXTERNAL TABLE t (x INT) STORED AS CSV LOCATION '{}'",
            dir.path().display()
        ),
        "INSERT INTO tool_calls SELECT * FROM tool_calls".into(),
        "SET datafusion.execution.target_partitions = 1".into(),
    ] {
        let (code, _, stderr) = run(bin()
            .args(["sql", "--case"])
            .arg(sample_case())
            .arg(&statement));
        assert_eq!(code, 1, "{statement}: {stderr}");
        assert!(stderr.contains("error:"), "{stderr}");
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing written"
    );
}

#[test]
fn timeline_and_bookmark_help_explain() {
    let (code, stdout, _) = run(bin().args(["timeline", "--help"]));
    assert_eq!(code, 0);
    for text in [
        "? lists every key",
        "/ search (n/N next/previous match)",
        "--scope-since",
        "export bookmarks",
        "Needs a terminal",
    ] {
        assert!(stdout.contains(text), "{text}: {stdout}");
    }
    let (code, stdout, _) = run(bin().args(["export", "bookmarks", "--help"]));
    assert_eq!(code, 0);
    assert!(
        stdout.contains("csv") && stdout.contains("jsonl"),
        "{stdout}"
    );
}

/// A sort larger than `--memory-mib` spills to temporary files and gives the same rows; one that
/// cannot fit even so fails with a message naming the operators, never by running out of memory.
#[test]
fn queries_past_the_memory_limit_spill_or_fail_clearly() {
    // About 70 MB of rows to sort: every AppRequests record 40 times.
    let query = "SELECT a.\"Properties\" || b.\"Id\" AS x FROM AppRequests a \
                 CROSS JOIN (SELECT \"Id\" FROM AppRequests ORDER BY \"Id\" LIMIT 40) b \
                 ORDER BY length(x), a.\"Id\", b.\"Id\"";
    let sorted = |mib: &str| {
        let (code, stdout, stderr) = run(bin()
            .args(["sql", "--memory-mib", mib, "--format", "csv", "--case"])
            .arg(sample_case())
            .arg(query));
        assert_eq!(code, 0, "{stderr}");
        stdout
    };
    let roomy = sorted("1024");
    assert!(roomy.lines().count() > 70_000);
    assert!(roomy == sorted("100"), "spilling changed the result");

    let (code, analyzed, stderr) = run(bin()
        .args(["sql", "--memory-mib", "100", "--format", "csv", "--case"])
        .arg(sample_case())
        .arg(format!("EXPLAIN ANALYZE {query}")));
    assert_eq!(code, 0, "{stderr}");
    let spills: u64 = analyzed
        .split("spill_count=")
        .skip(1)
        .filter_map(|rest| {
            rest.split(|c: char| !c.is_ascii_digit())
                .next()?
                .parse::<u64>()
                .ok()
        })
        .sum();
    assert!(spills > 0, "nothing spilled: {analyzed}");

    let (code, _, stderr) = run(bin()
        .args(["sql", "--memory-mib", "32", "--case"])
        .arg(sample_case())
        .arg(query));
    assert_eq!(code, 1, "{stderr}");
    // Which sort operator asks first depends on how the two partitions interleave; the message
    // names the one refused and the operators holding memory.
    assert!(
        stderr.contains("Resources exhausted")
            && (stderr.contains("ExternalSorter") || stderr.contains("SortPreservingMerge")),
        "{stderr}"
    );
}

/// Evidence without any tool-call telemetry cannot show that nobody abused the server: `scope`
/// says inconclusive, says what is missing, and exits 4 instead of "none found" and 0.
#[test]
fn scope_without_tool_call_telemetry_is_inconclusive() {
    let account = Account::new();
    let sign_in = |day: u32, result: &str| {
        serde_json::json!({"TimeGenerated": format!("2026-10-{day:02}T09:00:00Z"), "UserId": "u1",
            "UserPrincipalName": "ann@contoso.com", "IPAddress": "203.0.113.10", "ResultType": result})
        .to_string()
    };
    let body: String = (1..=20).map(|d| sign_in(d, "0") + "\n").collect();
    account.put(&la_blob("SigninLogs", "PT05M.json"), body.as_bytes());
    let case = tempfile::tempdir().expect("case");
    ingest_dir(account.path(), case.path());
    let case_arg = case.path().to_str().expect("path");
    let (code, stdout, stderr) =
        run(bin().args(["scope", "--case", case_arg, "--since", "2026-10-15"]));
    assert_eq!(code, 4, "{stderr}");
    assert!(stdout.contains("Verdict: inconclusive"), "{stdout}");
    assert!(stdout.contains("no MCP tool-call telemetry"), "{stdout}");
    assert!(stdout.contains("No NSG or VNet flow logs"), "{stdout}");
    assert!(stdout.contains("No Entra audit logs"), "{stdout}");
    assert!(stderr.contains("inconclusive"), "{stderr}");
    let (code, stdout, _) = run(bin().args([
        "scope",
        "--case",
        case_arg,
        "--since",
        "2026-10-15",
        "--format",
        "json",
    ]));
    assert_eq!(code, 4);
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(report["verdict"], "inconclusive");
}

/// `ingest CASE --case EVIDENCE` (swapped) and an empty source are refused before anything is
/// created or written: no manifest in the evidence folder, no empty case directory.
#[test]
fn swapped_or_empty_sources_change_nothing() {
    let account = Account::new();
    account.put(
        &la_blob("AppTraces", "PT05M.json"),
        b"{\"TimeGenerated\":\"2026-10-01T02:05:00Z\"}\n",
    );
    let case = tempfile::tempdir().expect("case");
    ingest_dir(account.path(), case.path());
    let (evidence_before, case_before) = (hash_tree(account.path()), hash_tree(case.path()));
    let (code, _, stderr) = run(bin().args([
        "ingest",
        case.path().to_str().expect("path"),
        "--case",
        account.path().to_str().expect("path"),
    ]));
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("were SOURCE and --case swapped?"),
        "{stderr}"
    );
    assert_eq!(
        hash_tree(account.path()),
        evidence_before,
        "the evidence is untouched"
    );
    assert_eq!(hash_tree(case.path()), case_before);
    let empty = tempfile::tempdir().expect("empty");
    std::fs::create_dir(empty.path().join("am-apprequests")).expect("container");
    let new_case = empty.path().join("new-case");
    let (code, _, stderr) = run(bin().args([
        "ingest",
        empty.path().to_str().expect("path"),
        "--case",
        new_case.to_str().expect("path"),
    ]));
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("holds no export blobs"), "{stderr}");
    assert!(
        !new_case.exists(),
        "no case directory is created for a run that reads nothing"
    );
}

/// A reader that goes away (`ingest … | true`, `verify … | head`) ends nothing badly: no panic,
/// the run completes with its own exit code and the case is whole.
#[test]
fn a_closed_stdout_is_not_a_panic() {
    let account = Account::new();
    account.put(
        &la_blob("AppTraces", "PT05M.json"),
        b"{\"TimeGenerated\":\"2026-10-01T02:05:00Z\"}\n",
    );
    let case = tempfile::tempdir().expect("case");
    let case_arg = case.path().to_str().expect("path");
    for args in [
        vec![
            "ingest",
            account.path().to_str().expect("path"),
            "--case",
            case_arg,
        ],
        vec!["verify", "--case", case_arg],
        vec![
            "sql",
            "--case",
            case_arg,
            "--format",
            "csv",
            "SELECT * FROM AppTraces",
        ],
    ] {
        let mut child = bin()
            .args(&args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        // The reader goes away before the command writes anything.
        drop(child.stdout.take());
        let output = child.wait_with_output().expect("wait");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(output.status.code(), Some(0), "{args:?}: {stderr}");
    }
    let (code, _, stderr) = run(bin().args(["verify", "--case", case_arg]));
    assert_eq!(code, 0, "the case is whole: {stderr}");
}

/// The export command scope suggests reaches the same case, window, baseline and indicators: run
/// as printed, it writes every customer the report counted.
#[test]
fn the_export_command_scope_suggests_reaches_the_same_case_and_window() {
    let (code, stdout, stderr) = run(bin().args(["scope", "--case"]).arg(sample_case()).args([
        "--since",
        "14d",
        "--baseline-days",
        "10",
        "--ioc-ip",
        "203.0.113.250",
    ]));
    assert!(code == 0 || code == 3, "{stderr}");
    let hint = stdout
        .lines()
        .find_map(|l| {
            l.split_once("(export them: ")
                .map(|(_, c)| c.trim_end_matches(')'))
        })
        .unwrap_or_else(|| panic!("no export hint: {stdout}"));
    for flag in [
        "--case",
        "--since",
        "--until",
        "--baseline-days 10",
        "--ioc-ip 203.0.113.250",
    ] {
        assert!(hint.contains(flag), "{flag}: {hint}");
    }
    let (_, json, _) = run(bin().args(["scope", "--case"]).arg(sample_case()).args([
        "--since",
        "14d",
        "--baseline-days",
        "10",
        "--ioc-ip",
        "203.0.113.250",
        "--format",
        "json",
    ]));
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    let customers = report["affected_customers"].as_array().unwrap().len();

    let dir = tempfile::tempdir().unwrap();
    let words: Vec<&str> = hint.split_whitespace().collect();
    assert_eq!(words[..3], ["mcpforensics", "export", "customers"]);
    let (code, _, stderr) = run(bin().args(&words[1..]).current_dir(dir.path()));
    assert!(code == 0 || code == 3, "{hint}: {stderr}");
    let csv = std::fs::read_to_string(dir.path().join("affected.csv")).unwrap();
    let rows = csv.lines().filter(|l| !l.starts_with('#')).count() - 1;
    assert_eq!(rows, customers, "{hint}");
}

/// Shell integration: completions for each shell that the shell itself accepts (bash is checked by
/// loading it), a man page, and a long version naming the commit.
#[test]
fn completions_man_page_and_version_for_the_shell() {
    let (code, stdout, _) = run(bin().arg("--version"));
    assert_eq!(code, 0);
    assert!(
        stdout.starts_with("mcpforensics ") && stdout.contains("commit"),
        "{stdout}"
    );
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let (code, script, stderr) = run(bin().args(["completions", shell]));
        assert_eq!(code, 0, "{stderr}");
        for word in ["scope", "timeline", "since", "case"] {
            assert!(script.contains(word), "{shell}: {word}");
        }
    }
    let (_, script, _) = run(bin().args(["completions", "bash"]));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mcpforensics.bash");
    std::fs::write(&path, script).unwrap();
    let (code, stdout, stderr) = run(std::process::Command::new("bash").arg("-c").arg(format!(
        "source '{}' && complete -p mcpforensics",
        path.display()
    )));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("mcpforensics"), "{stdout}");
    let (code, page, _) = run(bin().arg("man"));
    assert_eq!(code, 0);
    assert!(page.contains(".TH mcpforensics 1"), "{page}");
    assert!(
        page.contains("scope") && page.contains("Exit codes"),
        "{page}"
    );
    let (code, _, stderr) = run(bin().args(["completions", "tcsh"]));
    assert_eq!(code, 2, "an unknown shell is a usage error: {stderr}");
}

/// A table named in the wrong case, or misspelt, gets the closest name the case has.
#[test]
fn an_unknown_table_names_the_one_meant() {
    let (code, _, stderr) = run(bin()
        .args(["sql", "--case"])
        .arg(sample_case())
        .arg("SELECT count(*) FROM signinlogs"));
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("did you mean \"SigninLogs\"?") && stderr.contains("case-sensitive"),
        "{stderr}"
    );
    let (_, _, stderr) = run(bin()
        .args(["sql", "--case"])
        .arg(sample_case())
        .arg("SELECT count(*) FROM toolcalls"));
    assert!(stderr.contains("did you mean tool_calls?"), "{stderr}");
}

/// `sql --explain` prints the query's plan, not its rows (the flag was once accepted and
/// ignored); `--analyze` the plan as run; `--explain` without a query is a usage error.
#[test]
fn sql_explain_prints_the_plan_and_analyze_the_plan_as_run() {
    let case = sample_case();
    let sql = |extra: &[&str]| {
        let mut command = bin();
        command
            .args(["sql", "--format", "csv", "--case"])
            .arg(&case);
        command.args(extra);
        command.arg("SELECT tool, count(*) AS calls FROM tool_calls GROUP BY tool");
        let (code, stdout, stderr) = run(&mut command);
        assert_eq!(code, 0, "{extra:?}: {stderr}");
        stdout
    };
    let rows = sql(&[]);
    assert!(rows.starts_with("\u{feff}tool,calls\r\n"), "{rows:?}");
    let plan = sql(&["--explain"]);
    assert!(
        plan.contains("physical_plan") && plan.contains("AggregateExec"),
        "{plan}"
    );
    assert!(!plan.contains("output_rows"), "{plan}");
    let analyzed = sql(&["--explain", "--analyze"]);
    assert!(analyzed.contains("output_rows="), "{analyzed}");
    let (code, _, stderr) = run(bin()
        .args(["sql", "--explain", "--case"])
        .arg(&case)
        .stdin(std::process::Stdio::null()));
    assert_eq!(code, 2, "--explain without a query: {stderr}");
}

/// `sql` without a query: piped statements run in order, the first failure stops the run.
#[test]
fn sql_reads_statements_from_standard_input() {
    use std::io::Write;
    let script = |sql: &str| {
        let mut child = bin()
            .args(["sql", "--format", "csv", "--case"])
            .arg(sample_case())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(sql.as_bytes())
            .expect("write");
        let output = child.wait_with_output().expect("run");
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (code, stdout, stderr) =
        script("SELECT 'a;b' AS x;\n-- a comment; not a statement\nSELECT 2 AS y");
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<&str> = stdout
        .split("\r\n")
        .map(|l| l.trim_start_matches('\u{feff}'))
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(lines, ["x", "a;b", "y", "2"], "{stdout}");
    let (code, stdout, stderr) =
        script("SELECT 1 AS one; SELECT * FROM signinlogs; SELECT 3 AS three;");
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stdout.contains("one") && !stdout.contains("three"),
        "{stdout}"
    );
    assert!(stderr.contains("did you mean \"SigninLogs\"?"), "{stderr}");
    let (code, _, stderr) = script("  \n");
    assert_eq!(code, 2);
    assert!(stderr.contains("no SQL"), "{stderr}");
}

/// `sql` without a query in a terminal: a prompt with continuation lines, errors that keep the
/// session, dot commands, and history recalled with the up arrow, also in the next session.
#[test]
fn sql_prompt_in_tmux_keeps_history() {
    let cache = tempfile::tempdir().expect("cache");
    let binary = env!("CARGO_BIN_EXE_mcpforensics");
    let tmux = Tmux {
        socket: format!("mcpf-sql-{}", std::process::id()),
    };
    let start = || {
        let script = format!(
            "MCPFORENSICS_CACHE_DIR='{}' '{binary}' sql --case '{}'; echo EXITED $?; sleep 60",
            cache.path().display(),
            sample_case().display()
        );
        tmux.start(&script, 160, 40);
        tmux.wait_for("sql>", 60);
    };
    start();
    let expected = scalar(&sample_case(), "SELECT count(*) FROM \"SigninLogs\"");
    tmux.literal("SELECT count(*) AS signins");
    tmux.keys(&["Enter"]);
    tmux.wait_for("  ->", 10);
    // tmux reads a trailing `;` as its own command separator; `\;` types it.
    tmux.literal("FROM \"SigninLogs\"\\;");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for(&format!("\n{expected}"), 30);
    assert!(
        screen.contains("signins\n-"),
        "the result's header: {screen}"
    );
    tmux.literal("SELECT * FROM signinlogs\\;");
    tmux.keys(&["Enter"]);
    tmux.wait_for("did you mean \"SigninLogs\"?", 30);
    tmux.literal(".tables");
    tmux.keys(&["Enter"]);
    tmux.wait_for("tool_calls", 10);
    tmux.literal(".quit");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("EXITED", 10);
    assert!(screen.contains("EXITED 0"), "{screen}");
    assert!(cache.path().join("sql_history").exists());
    tmux.stop();

    // A new session recalls the last statement with the up arrow.
    start();
    tmux.keys(&["Up", "Up"]);
    let screen = tmux.wait_for("sql> SELECT * FROM signinlogs;", 10);
    assert!(!screen.contains("EXITED"), "{screen}");
    tmux.keys(&["C-u", "C-d"]);
    let screen = tmux.wait_for("EXITED", 10);
    assert!(screen.contains("EXITED 0"), "{screen}");
}

/// A window that holds no time is refused before anything is written, whether its emptiness is
/// clear at once (two dates) or only once the end of the evidence is known (two spans), and the
/// same words say so for ingest, scope and the timeline export.
#[test]
fn an_empty_window_is_a_usage_error_that_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let case = dir.path().join("case");
    for window in [["2026-10-02", "2026-10-01"], ["1d", "2d"]] {
        let (code, _, stderr) = run(bin()
            .arg("ingest")
            .arg(sample_account())
            .arg("--case")
            .arg(&case)
            .args(["--since", window[0], "--until", window[1]]));
        assert_eq!(code, 2, "{window:?}: {stderr}");
        assert!(
            stderr.contains("before") && !case.exists(),
            "{window:?}: {stderr}"
        );
    }
    for command in [&["scope"][..], &["timeline", "--format", "csv"][..]] {
        let (code, _, stderr) = run(bin()
            .args(command)
            .arg("--case")
            .arg(sample_case())
            .args(["--since", "1d", "--until", "2d"]));
        assert_eq!(code, 2, "{command:?}: {stderr}");
        assert!(
            stderr.contains("is not before the end of the window"),
            "{command:?}: {stderr}"
        );
    }
}

/// A build without the `cluster` feature says how to get one, and runs nothing.
#[cfg(not(feature = "cluster"))]
#[test]
fn cluster_options_in_a_build_without_the_feature_say_how_to_get_one() {
    for args in [
        &["sql", "--cluster", "df://127.0.0.1:1", "SELECT 1"][..],
        &["cluster", "scheduler", "--bind", "127.0.0.1:0"][..],
    ] {
        let (code, stdout, stderr) = run(bin().args(args));
        assert_eq!(code, 2, "{args:?}: {stdout}{stderr}");
        assert!(stdout.is_empty(), "{stdout}");
        assert!(stderr.contains("--features cluster"), "{stderr}");
    }
    let (code, _, stderr) = run(bin().args(["sql", "--cluster", "http://h:1", "SELECT 1"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("df://HOST:PORT"), "{stderr}");
}

/// `--timings` names every pack query scope ran with its time, rows and memory held, the total,
/// and the time outside the queries; and says the tool calls came from the call index.
#[test]
fn scope_timings_account_for_the_whole_run() {
    let (code, _, stderr) = run(bin().args(["scope", "--case"]).arg(sample_case()).args([
        "--since",
        "2026-10-01",
        "--timings",
        "--format",
        "json",
    ]));
    assert!(code == 0 || code == 3, "{stderr}");
    // Scope runs every query of the pack but the overview's panels (network_east_west only when
    // there is a compromised host or an internal attacker address to follow).
    let panels: Vec<&str> = mcpforensics::overview::PANELS
        .iter()
        .map(|(n, _)| *n)
        .collect();
    for query in mcpforensics::query::pack::queries() {
        let name = query.name.as_str();
        if panels.contains(&name) {
            continue;
        }
        assert!(
            stderr
                .lines()
                .any(|l| l.starts_with(name) && l.contains(" s ") && l.contains("MiB held")),
            "{name} not timed:\n{stderr}"
        );
    }
    // Each pass runs each query once (a query asked for by name after it ran as another's
    // dependency is reused), and the probe passes (this `--since` is later than the evidence's
    // first days, so the window is probed and moves) leave out what only the report reads.
    let timed = |name: &str| {
        stderr
            .lines()
            .filter(|l| l.split_whitespace().next() == Some(name))
            .count()
    };
    let passes = timed("window_signins");
    assert_eq!(timed("attacker_calls"), passes, "{stderr}");
    let report_runs = timed("affected_customers");
    assert!(report_runs >= 1 && report_runs < passes, "{stderr}");
    for name in [
        "resources_touched",
        "hourly_volume",
        "sampling",
        "sampled_calls",
        "call_addresses",
    ] {
        assert_eq!(timed(name), report_runs, "{name}:\n{stderr}");
    }
    // The sample case reads its call index, so window_calls is a view over it, held nowhere.
    assert!(
        stderr.lines().any(|l| l.starts_with("window_calls")
            && l.contains("a view over the call index")
            && l.contains("0 MiB held")),
        "{stderr}"
    );
    for line in ["queries ", "opening the case ", "the rest "] {
        assert!(
            stderr.lines().any(|l| l.starts_with(line)),
            "{line}:\n{stderr}"
        );
    }
    assert!(
        stderr.contains("the tool calls from the call index derived/tool_calls-"),
        "{stderr}"
    );
}

/// Every command that writes a file refuses one that exists, before doing any work, unless
/// `--force` is given; with it the file is replaced whole (written beside it and renamed) and no
/// temporary file stays behind.
#[test]
fn every_file_output_refuses_an_existing_file_unless_forced() {
    let case = sample_case();
    let case = case.to_str().expect("path");
    let dir = tempfile::tempdir().expect("dir");
    let rules = root().join("rules/mcp");
    let rules = rules.to_str().expect("path");
    let window = ["--since", "2026-09-30T00:00:00Z"];
    let outputs: Vec<(&str, Vec<&str>)> = vec![
        (
            "report.json",
            [&["scope", "--case", case, "--format", "json"][..], &window].concat(),
        ),
        (
            "customers.csv",
            [&["export", "customers", "--case", case][..], &window].concat(),
        ),
        (
            "scope.xlsx",
            [&["export", "xlsx", "--case", case][..], &window].concat(),
        ),
        ("bookmarks.csv", vec!["export", "bookmarks", "--case", case]),
        (
            "timeline.jsonl",
            [
                &["timeline", "--case", case, "--format", "jsonl"][..],
                &window,
            ]
            .concat(),
        ),
        (
            "hits.json",
            vec!["sigma", rules, "--case", case, "--format", "json"],
        ),
    ];
    for (name, args) in outputs {
        let path = dir.path().join(name);
        std::fs::write(&path, b"the responder's own notes").expect("existing file");
        let (code, _, stderr) = run(bin().args(&args).arg("--out").arg(&path));
        assert_eq!(code, 2, "{name}: {stderr}");
        assert!(stderr.contains("--force replaces it"), "{name}: {stderr}");
        assert_eq!(
            std::fs::read(&path).expect("kept"),
            b"the responder's own notes",
            "{name} untouched"
        );
        let (code, _, stderr) = run(bin().args(&args).arg("--out").arg(&path).arg("--force"));
        assert!(code == 0 || code == 3, "{name}: {code} {stderr}");
        let written = std::fs::read(&path).expect("written");
        assert_ne!(written, b"the responder's own notes", "{name} replaced");
        assert!(!written.is_empty(), "{name}");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .expect("dir")
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{name}: {leftovers:?}");
    }
}
