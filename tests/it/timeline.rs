//! The interactive timeline, driven as a person would: the real binary in tmux (send-keys,
//! capture-pane) on a copy of the sample case; and its refusal without a terminal.

use std::time::Duration;

use crate::common::{Tmux, bin, copy_dir, run, sample_case, scalar};

/// "N of M events" from the header.
fn shown_events(screen: &str) -> (i64, i64) {
    let header = screen.lines().next().unwrap();
    let at = header.find(" events").unwrap();
    let words: Vec<&str> = header[..at].split_whitespace().collect();
    let n = words.len();
    (words[n - 3].parse().unwrap(), words[n - 1].parse().unwrap())
}

#[test]
fn investigator_session_in_tmux() {
    let dir = tempfile::tempdir().unwrap();
    let case = dir.path().join("case");
    copy_dir(&sample_case(), &case);
    let binary = env!("CARGO_BIN_EXE_mcpforensics");
    let tmux = Tmux {
        socket: format!("mcpf-test-{}", std::process::id()),
    };
    let script = format!(
        "'{binary}' timeline --case '{}' --since 2026-09-30 --tz Europe/Berlin; echo EXITED $?; sleep 60",
        case.display()
    );
    tmux.start(&script, 180, 48);

    // Everything loads and scope marks the suspects, which the identity list puts first.
    let screen = tmux.wait_for("attacker calls", 120);
    let events_since = scalar(
        &case,
        "SELECT (SELECT count(*) FROM \"SigninLogs\" WHERE \"TimeGenerated\" >= '2026-09-30') \
              + (SELECT count(*) FROM tool_calls WHERE time >= '2026-09-30') \
              + (SELECT count(*) FROM flows WHERE time >= '2026-09-30')",
    );
    let (shown, total) = shown_events(&screen);
    assert_eq!(shown, total);
    assert!(
        total > events_since,
        "{total} events include traces and dependencies besides {events_since}"
    );
    let identities: Vec<&str> = screen
        .lines()
        .filter_map(|l| l.strip_prefix('│'))
        .take(3)
        .collect();
    assert!(
        identities[1].starts_with("!bob.keller@contoso.com"),
        "{screen}"
    );
    assert!(identities[2].starts_with("!(anonymous)"), "{screen}");

    // A filter: the attacker's calls from one address; the count matches SQL.
    tmux.keys(&["f"]);
    tmux.literal("kind=tool ip=45.86.202.14");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("› kind=tool ip=45.86.202.14", 10);
    let expected = scalar(
        &case,
        "SELECT count(*) FROM tool_calls WHERE client_address = '45.86.202.14' AND time >= '2026-09-30'",
    );
    assert_eq!(shown_events(&screen).0, expected);
    assert!(
        screen.contains("SUSPICIOUS"),
        "attacker calls are marked:\n{screen}"
    );

    // The filtered view exports (e) with exactly those events, each with its blob's hash.
    let exported = dir.path().join("attacker-calls.csv");
    tmux.keys(&["e"]);
    tmux.wait_for("export the events in view", 10);
    tmux.keys(&["BSpace"; 20]);
    tmux.literal(&exported.display().to_string());
    tmux.keys(&["Enter"]);
    tmux.wait_for(&format!("wrote {expected} events"), 20);
    let csv = std::fs::read_to_string(&exported).unwrap();
    let rows: Vec<&str> = csv
        .split("\r\n")
        .filter(|l| !l.is_empty())
        .skip(1)
        .collect();
    assert_eq!(rows.len() as i64, expected);
    assert!(rows.iter().all(|r| r.contains("45.86.202.14")));

    // Search (/) marks without hiding; n moves to the next match.
    tmux.keys(&["/"]);
    tmux.literal("export");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("matching events in view", 10);
    assert_eq!(shown_events(&screen).0, expected, "a search hides nothing");
    assert!(screen.contains('»'), "{screen}");

    // Related (r): the selected call with its dependencies, by operation id.
    tmux.keys(&["r"]);
    let screen = tmux.wait_for("› related operation=", 10);
    assert!(shown_events(&screen).0 >= 2, "{screen}");
    assert!(screen.contains("dependency"), "{screen}");
    tmux.keys(&["BSpace"]);
    tmux.wait_for("back to all", 10);

    // Pivot from the tool cell (user → session → tool), then back.
    tmux.keys(&["l", "l", "p"]);
    let screen = tmux.wait_for("› tool=", 10);
    let pivoted = shown_events(&screen).0;
    assert!(pivoted > 0 && pivoted < expected);
    tmux.keys(&["BSpace"]);
    let screen = tmux.wait_for("back to all", 10);
    assert_eq!(shown_events(&screen).0, expected);

    // z shows times in the --tz zone: Berlin's summer offset on 2026-09-30; z again for UTC.
    tmux.keys(&["z"]);
    let screen = tmux.wait_for("times in Europe/Berlin", 10);
    assert!(screen.contains(" +02:00"), "{screen}");
    tmux.keys(&["z"]);
    tmux.wait_for("times in UTC", 10);

    // A bookmark with a note, then the help, then quit.
    tmux.keys(&["b"]);
    tmux.wait_for("bookmark note", 10);
    tmux.literal("first export from attacker IP");
    tmux.keys(&["Enter"]);
    tmux.wait_for("bookmarked (1 in the case)", 10);
    tmux.keys(&["?"]);
    tmux.wait_for(" keys (", 10);
    tmux.keys(&["Escape"]);
    tmux.keys(&["q"]);
    let screen = tmux.wait_for("EXITED", 10);
    assert!(screen.contains("EXITED 0"), "{screen}");
    assert!(
        !screen.contains("mcpforensics timeline ·"),
        "the terminal is restored:\n{screen}"
    );

    // The bookmark is in the case and exports with its provenance.
    let (code, csv, stderr) = run(bin().args(["export", "bookmarks", "--case"]).arg(&case));
    assert_eq!(code, 0, "{stderr}");
    let rows: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(rows.len(), 2, "{csv}");
    assert!(rows[1].contains("first export from attacker IP"));
    assert!(rows[1].contains("45.86.202.14"));
    let blob = rows[1].split(',').find(|f| f.starts_with("am-")).unwrap();
    let manifest = std::fs::read_to_string(case.join("manifest.json")).unwrap();
    assert!(
        manifest.contains(blob),
        "the bookmark names a blob of the manifest"
    );
}

#[test]
fn refuses_without_a_terminal() {
    let (code, stdout, stderr) = run(bin().args(["timeline"]).arg("--case").arg(sample_case()));
    assert_eq!(code, 2, "{stderr}");
    assert!(stdout.is_empty());
    assert!(stderr.contains("needs a terminal"), "{stderr}");
}

#[test]
fn chunks_are_planned_from_the_rows_per_day_of_the_case_files() {
    use chrono::{Duration, TimeZone, Utc};
    let case = mcpforensics::case::Case::open(&sample_case()).unwrap();
    // Rows per day as the case files record them.
    let mut per_day = std::collections::BTreeMap::<String, u64>::new();
    for file in case.head().unwrap().ingests.iter().flat_map(|i| &i.files) {
        if let Some(day) = file.path.split('/').find_map(|p| p.strip_prefix("date=")) {
            *per_day.entry(day.to_string()).or_default() += file.rows;
        }
    }
    assert!(
        case.head().unwrap().blobs.is_empty(),
        "the head holds no blob records"
    );
    let (first_day, _) = per_day.iter().next().expect("days");
    let from = Utc.from_utc_datetime(
        &chrono::NaiveDate::parse_from_str(first_day, "%Y-%m-%d")
            .unwrap()
            .and_hms_opt(6, 0, 0)
            .unwrap(),
    );
    let to = from + Duration::days(per_day.len() as i64 + 1);
    let chunks = mcpforensics::timeline::loader::plan_chunks(&case, from, to);
    // Contiguous, covering the window, the first alone up to its midnight.
    assert_eq!(chunks.first().map(|c| c.0), Some(from));
    assert_eq!(chunks.last().map(|c| c.1), Some(to));
    assert!(chunks.windows(2).all(|w| w[0].1 == w[1].0));
    assert_eq!(chunks[0].1, from + Duration::hours(18));
    // Every later chunk but the last closes once it reaches the target rows, not before.
    let target = mcpforensics::timeline::loader::CHUNK_TARGET_EVENTS;
    let rows_in = |(a, b): (chrono::DateTime<Utc>, chrono::DateTime<Utc>)| -> u64 {
        let mut day = a.date_naive();
        let mut rows = 0;
        while day.and_hms_opt(0, 0, 0).unwrap().and_utc() < b {
            rows += per_day.get(&day.to_string()).copied().unwrap_or(0);
            day = day.succ_opt().unwrap();
        }
        rows
    };
    let total: u64 = per_day.values().sum();
    assert!(total > 0);
    for chunk in &chunks[1..chunks.len() - 1] {
        assert!(rows_in(*chunk) >= target, "{chunk:?}");
    }
    if total < target {
        assert_eq!(chunks.len(), 2, "{chunks:?}");
    }
}

/// The loader stops once the events it handed over reach the budget, says where, and still ends
/// with `Loaded`; with room, it loads every chunk of the window.
#[test]
fn loading_stops_at_the_events_budget_and_says_where() {
    use mcpforensics::timeline::loader::{self, LoadPlan, Update};
    use std::sync::{Arc, mpsc};
    let case = Arc::new(mcpforensics::case::Case::open(&sample_case()).unwrap());
    let totals = case.totals().unwrap().clone();
    let from = totals.first().expect("first time");
    let to = totals.last().expect("last time") + chrono::Duration::seconds(1);
    let chunks = loader::plan_chunks(&case, from, to);
    assert!(chunks.len() >= 2, "{chunks:?}");
    let load = |budget: usize| {
        let (tx, rx) = mpsc::channel();
        loader::start(
            LoadPlan {
                case: Arc::clone(&case),
                from,
                to,
                scope: None,
                iocs: Vec::new(),
                sigma: Vec::new(),
                events_budget: budget,
                settings: Default::default(),
            },
            tx,
        );
        let mut seen = Vec::new();
        loop {
            let update = rx.recv_timeout(Duration::from_secs(120)).expect("update");
            let last = matches!(update, Update::Loaded | Update::Failed(_));
            seen.push(update);
            if last {
                return seen;
            }
        }
    };
    let everything = load(usize::MAX);
    let loaded = |updates: &[Update]| -> (usize, usize) {
        updates.iter().fold((0, 0), |(chunks, events), u| match u {
            Update::Chunk { chunk, .. } => (chunks + 1, events + chunk.len()),
            _ => (chunks, events),
        })
    };
    assert_eq!(loaded(&everything).0, chunks.len());
    assert!(
        !everything
            .iter()
            .any(|u| matches!(u, Update::Stopped { .. }))
    );
    assert!(matches!(everything.last(), Some(Update::Loaded)));
    assert!(
        !everything.iter().any(|u| matches!(u, Update::CaseFiles(_))),
        "the sample case holds exactly the files its manifest lists"
    );
    // One byte: the first chunk, then a stop at its end.
    let first_only = load(1);
    assert_eq!(loaded(&first_only).0, 1);
    assert!(loaded(&first_only).1 > 0 && loaded(&first_only).1 < loaded(&everything).1);
    let stops: Vec<_> = first_only
        .iter()
        .filter_map(|u| match u {
            Update::Stopped { at, budget_mib } => Some((*at, *budget_mib)),
            _ => None,
        })
        .collect();
    assert_eq!(stops, vec![(chunks[0].1, 0)]);
    assert!(matches!(first_only.last(), Some(Update::Loaded)));
}

/// `timeline --format csv|jsonl|timesketch --out FILE` without a terminal: the same events in
/// each format, in time order, each with its blob, line and the blob's SHA-256 from the manifest;
/// the CSV as a spreadsheet reads it (BOM, CRLF, 17 columns); Timesketch's three required fields;
/// an existing file is not overwritten without --force.
#[test]
fn the_timeline_exports_to_files_without_a_terminal() {
    let case = sample_case();
    let dir = tempfile::tempdir().unwrap();
    let export = |format: &str| {
        let path = dir.path().join(format!("timeline.{format}"));
        let (code, stdout, stderr) = run(bin()
            .args(["timeline", "--case"])
            .arg(&case)
            .args([
                "--since",
                "2026-09-30",
                "--until",
                "2026-10-01",
                "--format",
                format,
                "--out",
            ])
            .arg(&path));
        assert_eq!(code, 0, "{format}: {stdout}{stderr}");
        assert!(stderr.contains("events"), "{stderr}");
        std::fs::read(&path).unwrap()
    };
    let csv = export("csv");
    let jsonl = export("jsonl");
    let timesketch = export("timesketch");

    let rows: Vec<serde_json::Value> = String::from_utf8(jsonl)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(rows.len() > 100, "{} events", rows.len());
    let times: Vec<&str> = rows
        .iter()
        .map(|r| r["datetime"].as_str().unwrap())
        .collect();
    // RFC 3339 with and without fractions: ordered by the parsed time, not the text.
    let parsed: Vec<_> = times
        .iter()
        .map(|t| mcpforensics::time::parse_timestamp(t).unwrap())
        .collect();
    assert!(parsed.windows(2).all(|w| w[0] <= w[1]), "in time order");
    assert!(
        times.iter().all(|t| t.starts_with("2026-09-30")),
        "inside the window"
    );
    let manifest = mcpforensics::case::Case::open(&case)
        .unwrap()
        .manifest()
        .unwrap()
        .clone();
    let sha_of: std::collections::HashMap<&str, &str> = manifest
        .blobs
        .iter()
        .filter(|b| b.read_error.is_none())
        .map(|b| (b.path.as_str(), b.sha256.as_str()))
        .collect();
    for row in &rows {
        let blob = row["blob"].as_str().unwrap();
        assert_eq!(
            row["blob_sha256"].as_str(),
            sha_of.get(blob).copied(),
            "{row}"
        );
        assert!(row["line"].as_u64().unwrap() >= 1);
    }
    // Tool calls carry their App Insights operation, so a spreadsheet can group a call with
    // its dependencies; sign-ins and flows have none.
    let with_operation = |kind: &str| {
        rows.iter()
            .filter(|r| r["kind"] == kind)
            .all(|r| r["operation_id"].is_string())
    };
    assert!(with_operation("tool") && with_operation("dependency"));
    assert!(
        rows.iter()
            .filter(|r| r["kind"] == "flow")
            .all(|r| r["operation_id"].is_null())
    );
    let kinds: std::collections::BTreeSet<&str> =
        rows.iter().map(|r| r["kind"].as_str().unwrap()).collect();
    for kind in ["signin", "tool", "flow"] {
        assert!(kinds.contains(kind), "{kind}: {kinds:?}");
    }

    let sketch: Vec<serde_json::Value> = String::from_utf8(timesketch)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(sketch.len(), rows.len());
    for row in &sketch {
        for field in ["message", "datetime", "timestamp_desc", "timestamp"] {
            assert!(!row[field].is_null(), "{field}: {row}");
        }
    }

    assert!(
        csv.starts_with(b"\xEF\xBB\xBF"),
        "UTF-8 byte-order mark for Excel"
    );
    let text = String::from_utf8(csv[3..].to_vec()).unwrap();
    assert!(text.ends_with("\r\n"));
    let schema = std::sync::Arc::new(arrow::datatypes::Schema::new(
        (0..17)
            .map(|i| {
                arrow::datatypes::Field::new(
                    format!("c{i}"),
                    arrow::datatypes::DataType::Utf8,
                    true,
                )
            })
            .collect::<Vec<_>>(),
    ));
    let reader = arrow::csv::ReaderBuilder::new(schema)
        .with_header(true)
        .build(std::io::Cursor::new(text.as_bytes()))
        .unwrap();
    let parsed: usize = reader.map(|b| b.unwrap().num_rows()).sum();
    assert_eq!(
        parsed,
        rows.len(),
        "every event one CSV record of 17 fields"
    );
    assert!(text.starts_with("datetime,timestamp_desc,message,"));
    // Without --scope-since or --sigma nothing is tagged (and no scope ran).
    assert!(rows.iter().all(|r| r["tag"] == serde_json::json!([])));
    assert!(sketch.iter().all(|r| r.get("tag").is_none()));

    // An existing file is not overwritten without --force.
    let (code, _, stderr) = run(bin()
        .args(["timeline", "--case"])
        .arg(&case)
        .args(["--format", "csv", "--out"])
        .arg(dir.path().join("timeline.csv")));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--force replaces it"), "{stderr}");
}

/// `--tz` is checked on every use of the timeline: a zone that does not exist is refused before
/// anything is read, and an export (UTC by design) refuses any zone with the reason.
#[test]
fn the_timeline_checks_its_zone_and_exports_refuse_one() {
    let case = sample_case();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("t.csv");
    let attempt = |zone: &str, export: bool| {
        let mut command = bin();
        command.args(["timeline", "--case"]).arg(&case).args([
            "--since",
            "2026-09-30",
            "--tz",
            zone,
        ]);
        if export {
            command.args(["--format", "csv", "--out"]).arg(&out);
        }
        run(&mut command)
    };
    let (code, _, stderr) = attempt("Mars/Olympus", true);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("Mars/Olympus"), "{stderr}");
    let (code, _, stderr) = attempt("Mars/Olympus", false);
    assert_eq!(code, 2, "{stderr}");
    let (code, _, stderr) = attempt("Europe/Berlin", true);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("exported times are UTC (RFC 3339 with Z), so every tool"),
        "{stderr}"
    );
    assert!(!out.exists(), "nothing written");
}

/// `timeline --format timesketch --scope-since T` carries scope's verdict into Timesketch: every
/// attacker call scope lists in the exported window, and nothing else of its kind, is tagged
/// `mcpforensics:attacker`; sign-ins from the attacker's addresses are tagged too; the CSV carries
/// the same tags in one cell.
#[test]
fn the_timesketch_export_tags_what_scope_attributes_to_the_attacker() {
    let case = sample_case();
    let window = ["--since", "2026-10-01", "--until", "2026-10-04"];
    let (code, scope, stderr) = run(bin().args(["scope", "--case"]).arg(&case).args([
        "--since",
        "2026-10-01",
        "--format",
        "json",
    ]));
    assert!(code == 0 || code == 3, "{stderr}");
    let scope: serde_json::Value = serde_json::from_str(&scope).unwrap();
    let start = mcpforensics::time::parse_timestamp("2026-10-01T00:00:00Z").unwrap();
    let end = mcpforensics::time::parse_timestamp("2026-10-04T00:00:00Z").unwrap();
    let attacker_calls: std::collections::BTreeSet<(String, u64)> = scope["attacker_calls"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| {
            let time = mcpforensics::time::parse_timestamp(c["time"].as_str().unwrap()).unwrap();
            start <= time && time < end
        })
        .map(|c| {
            (
                c["_blob"].as_str().unwrap().to_string(),
                c["_line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(
        !attacker_calls.is_empty(),
        "the sample's attacker calls in the window"
    );
    let attacker_ips: std::collections::BTreeSet<&str> = scope["suspects"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| {
            s["ips"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|ip| ip.as_str())
        })
        .collect();

    let dir = tempfile::tempdir().unwrap();
    let export = |format: &str| {
        let path = dir.path().join(format!("marked.{format}"));
        let (code, stdout, stderr) = run(bin()
            .args(["timeline", "--case"])
            .arg(&case)
            .args(window)
            .args(["--scope-since", "2026-10-01", "--format", format, "--out"])
            .arg(&path));
        assert_eq!(code, 0, "{stdout}{stderr}");
        assert!(
            stderr.contains("running scope for the attacker marks"),
            "{stderr}"
        );
        assert!(
            stderr.contains(
                "note: read as UTC (no zone given): --since 2026-10-01, --until 2026-10-04, \
                 --scope-since 2026-10-01"
            ),
            "{stderr}"
        );
        std::fs::read_to_string(&path).unwrap()
    };
    let sketch: Vec<serde_json::Value> = export("timesketch")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let attacker = |r: &serde_json::Value| {
        r["tag"]
            .as_array()
            .is_some_and(|t| t.iter().any(|t| t == "mcpforensics:attacker"))
    };
    let tagged_tools: std::collections::BTreeSet<(String, u64)> = sketch
        .iter()
        .filter(|r| r["kind"] == "tool" && attacker(r))
        .map(|r| {
            (
                r["blob"].as_str().unwrap().to_string(),
                r["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        tagged_tools, attacker_calls,
        "tagged tool calls are scope's attacker calls"
    );
    let tagged_signins: Vec<&serde_json::Value> = sketch
        .iter()
        .filter(|r| r["kind"] == "signin" && attacker(r))
        .collect();
    assert!(
        tagged_signins
            .iter()
            .all(|r| attacker_ips.contains(r["ip"].as_str().unwrap_or_default())),
        "a tagged sign-in comes from an attacker address"
    );
    assert!(
        sketch
            .iter()
            .filter(|r| r["kind"] == "signin" && !attacker(r))
            .all(|r| !attacker_ips.contains(r["ip"].as_str().unwrap_or_default())),
        "every sign-in from an attacker address is tagged"
    );
    let csv = export("csv");
    let tagged_csv = csv
        .lines()
        .filter(|l| l.ends_with(",mcpforensics:attacker"))
        .count();
    assert_eq!(
        tagged_csv,
        sketch.iter().filter(|r| attacker(r)).count(),
        "the CSV's last cell carries the same tags"
    );
}

/// Ingests `account` and exports the timeline of 2026-10-01 02:00–03:00 as JSON Lines: its events.
fn exported_hour(account: &crate::common::Account) -> Vec<serde_json::Value> {
    let case = tempfile::tempdir().expect("case");
    crate::common::ingest_dir(account.path(), case.path());
    let out = case.path().join("timeline.jsonl");
    let (code, stdout, stderr) = run(bin()
        .args(["timeline", "--case"])
        .arg(case.path())
        .args([
            "--since",
            "2026-10-01T02:00Z",
            "--until",
            "2026-10-01T03:00Z",
            "--format",
            "jsonl",
            "--out",
        ])
        .arg(&out));
    assert_eq!(code, 0, "{stdout}{stderr}");
    std::fs::read_to_string(&out)
        .expect("export")
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

/// Requests an MCP server sends its client are events of their own (`ask`), however they were
/// recorded: the server's span of `sampling/createMessage` (attributes or only its span name),
/// the client's span of `elicitation/create`, the gateway's MCP log of `roots/list`; the server's
/// ordinary calls stay dependencies.
#[test]
fn the_servers_requests_to_its_client_are_events_of_their_own() {
    use crate::common::{Account, la_blob};
    use serde_json::json;
    let line = |value: serde_json::Value| format!("{value}\n");
    let account = Account::new();
    let span = |table: &str, id: &str, name: &str, properties: serde_json::Value| {
        line(
            json!({"TimeGenerated": format!("2026-10-01T02:06:0{id}Z"), "Id": id, "OperationId": "trace-1",
            "DependencyType": "InProc", "Name": name, "Target": "mcp-client", "AppRoleName": "mcp-crm",
            "Success": true, "ResultCode": "0", "Properties": properties, "Type": table}),
        )
    };
    account.put(
        &la_blob("AppDependencies", "PT05M.json"),
        (span(
            "AppDependencies",
            "1",
            "sampling/createMessage",
            json!({"mcp.method.name": "sampling/createMessage"}),
        ) + &span("AppDependencies", "2", "elicitation/create", json!({}))
            + &span("AppDependencies", "3", "POST /v1/sync", json!({})))
            .as_bytes(),
    );
    account.put(
        &la_blob("AppRequests", "PT05M.json"),
        span(
            "AppRequests",
            "4",
            "elicitation/create",
            json!({"mcp.method.name": "elicitation/create"}),
        )
        .as_bytes(),
    );
    account.put(
        &la_blob("ApiManagementGatewayMCPLog", "PT05M.json"),
        line(json!({"TimeGenerated": "2026-10-01T02:06:05Z", "CorrelationId": "c-5", "Method": "roots/list",
            "ServerName": "mcp-crm", "ClientName": "vscode"}))
        .as_bytes(),
    );
    let kinds: Vec<(String, String)> = exported_hour(&account)
        .into_iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap_or("").to_string(),
                e["message"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let kind_of = |needle: &str| {
        kinds
            .iter()
            .filter(|(_, message)| message.contains(needle))
            .map(|(kind, _)| kind.as_str())
            .collect::<Vec<_>>()
    };
    assert_eq!(kind_of("sampling/createMessage"), vec!["ask"], "{kinds:?}");
    assert_eq!(
        kind_of("elicitation/create"),
        vec!["ask", "ask"],
        "{kinds:?}"
    );
    assert_eq!(kind_of("roots/list"), vec!["ask"], "{kinds:?}");
    assert_eq!(kind_of("POST /v1/sync"), vec!["dependency"], "{kinds:?}");
    assert!(
        kinds
            .iter()
            .any(|(_, m)| m.contains("the server asked the client's model to generate")),
        "{kinds:?}"
    );
}

/// Every sign-in table the catalogue reads identities from reaches the timeline through its
/// view: a service principal's and a managed identity's sign-ins are events too, named by the
/// resource they got a token for, a failure with its reason.
#[test]
fn service_principal_and_managed_identity_sign_ins_are_events() {
    use crate::common::{Account, la_blob};
    use serde_json::json;
    let account = Account::new();
    let sign_in = |table: &str, name: &str, result: &str| {
        format!(
            "{}\n",
            json!({"TimeGenerated": "2026-10-01T02:06:00Z", "Id": format!("{table}-1"), "ServicePrincipalId": "sp-1",
                "ServicePrincipalName": name, "AppId": "app-1", "ResourceDisplayName": "Azure Key Vault",
                "IPAddress": "10.0.1.4", "Location": "NL", "ResultType": result,
                "ResultDescription": if result == "0" { "" } else { "Invalid client secret" }, "Type": table})
        )
    };
    account.put(
        &la_blob("AADServicePrincipalSignInLogs", "PT05M.json"),
        sign_in("AADServicePrincipalSignInLogs", "crm-sync", "7000215").as_bytes(),
    );
    account.put(
        &la_blob("AADManagedIdentitySignInLogs", "PT05M.json"),
        sign_in("AADManagedIdentitySignInLogs", "mcp-crm-identity", "0").as_bytes(),
    );
    let events = exported_hour(&account);
    let summary = |table: &str| {
        events
            .iter()
            .find(|e| e["source_table"] == table)
            .map(|e| {
                (
                    e["kind"].as_str().unwrap_or("").to_string(),
                    e["message"].as_str().unwrap_or("").to_string(),
                    e["user"].clone(),
                )
            })
            .unwrap_or_else(|| panic!("no {table} event in {events:?}"))
    };
    let (kind, message, user) = summary("AADServicePrincipalSignInLogs");
    assert_eq!(kind, "signin");
    assert_eq!(user, "crm-sync");
    assert_eq!(
        message,
        "service principal token for Azure Key Vault FAILED 7000215 Invalid client secret from 10.0.1.4 NL"
    );
    let (_, message, _) = summary("AADManagedIdentitySignInLogs");
    assert_eq!(
        message,
        "managed identity token for Azure Key Vault from 10.0.1.4 NL"
    );
}
