//! Bad input per format: exact accepted and rejected counts, a reason per line, no panic. The
//! corpus is `tests/fixtures/bad/` with its expectations in `cases.json`.

use std::process::{Command, Stdio};

use crate::common::*;

fn ingest_one(
    path: &str,
    body: &[u8],
) -> (
    tempfile::TempDir,
    mcpforensics::ingest::IngestSummary,
    Vec<Vec<String>>,
) {
    let account = Account::new();
    account.put(path, body);
    let case = tempfile::tempdir().expect("case dir");
    let summary = ingest_dir(account.path(), case.path());
    let rejects = query(
        case.path(),
        "SELECT line, reason, raw_is_utf8 FROM rejects ORDER BY line",
    );
    (case, summary, rejects)
}

const GOOD: &str = r#"{"TimeGenerated":"2026-10-01T02:05:00.1234567Z","Name":"tools/call get_customer","Id":"a1","ItemCount":1,"Properties":{"mcp.method.name":"tools/call","gen_ai.tool.name":"get_customer"}}"#;

#[test]
fn duplicates_and_empty_blobs() {
    let account = Account::new();
    let twice = format!("{GOOD}\n{GOOD}\n");
    account.put(&la_blob("AppRequests", "PT05M.json"), twice.as_bytes());
    account.put(
        &la_blob("AppRequests", "PT05M_1.json"),
        format!("{GOOD}\n").as_bytes(),
    );
    account.put(&la_blob("AppTraces", "PT05M.json"), b"");
    account.put(&la_blob("AppEvents", "PT5M.json"), b"\n\n");
    let case = tempfile::tempdir().expect("case dir");
    let summary = ingest_dir(account.path(), case.path());
    assert_eq!(
        (
            summary.files,
            summary.records,
            summary.rejected,
            summary.duplicates
        ),
        (4, 1, 0, 2)
    );
    let manifest = mcpforensics::case::Case::open(case.path())
        .expect("case")
        .manifest()
        .expect("manifest")
        .clone();
    let per_blob: Vec<(u64, u64)> = manifest
        .blobs
        .iter()
        .map(|b| (b.accepted, b.duplicates))
        .collect();
    assert_eq!(
        per_blob,
        vec![(0, 0), (1, 1), (0, 1), (0, 0)],
        "blobs in path order: AppEvents, PT05M, PT05M_1, AppTraces"
    );
}

#[test]
fn huge_and_deep_lines_do_not_break_the_blob() {
    let mut body = format!("{GOOD}\n").into_bytes();
    let big = "x".repeat(12 * 1024 * 1024);
    body.extend_from_slice(format!("{{\"TimeGenerated\":\"2026-10-01T02:05:01Z\",\"Properties\":{{\"gen_ai.tool.call.result\":\"{big}\"}}}}\n").as_bytes());
    body.extend_from_slice(format!("{}{}\n", "[".repeat(5000), "]".repeat(5000)).as_bytes());
    body.extend_from_slice(format!("{GOOD}\n").replace("a1", "a2").as_bytes());
    let (case, summary, rejects) = ingest_one(&la_blob("AppRequests", "PT05M.json"), &body);
    assert_eq!(
        (summary.records, summary.rejected),
        (3, 1),
        "a 12 MB line is a record; 5000-deep nesting is rejected"
    );
    assert_eq!(rejects[0][0], "3");
    assert!(
        rejects[0][1].contains("recursion limit"),
        "{}",
        rejects[0][1]
    );
    assert_eq!(
        scalar(
            case.path(),
            "SELECT max(length(tool_result)) FROM \"AppRequests\""
        ),
        12 * 1024 * 1024
    );
}

#[test]
fn nsg_mid_hour_read_without_closing_brackets_is_clean() {
    let full = real("nsg-flowlog-v1_real_3records.json");
    let text = String::from_utf8(full).expect("utf8");
    let cut = text
        .trim_end()
        .trim_end_matches('}')
        .trim_end()
        .trim_end_matches(']');
    let (_, summary, rejects) = ingest_one(&nsg_blob(1), cut.as_bytes());
    assert_eq!((summary.records, summary.rejected), (38, 0), "{rejects:?}");
}

#[derive(serde::Deserialize)]
struct BadCase {
    file: String,
    layout: String,
    accepted: u64,
    rejected: u64,
    duplicates: u64,
    what: String,
    rejects: Vec<(u64, String, bool)>,
    #[serde(default)]
    times: std::collections::BTreeMap<String, String>,
}

fn blob_for(layout: &str) -> String {
    match layout {
        "nsg" => nsg_blob(1),
        "vnet" => vnet_blob(),
        container => la_blob(
            container.strip_prefix("am-").expect("an am- container"),
            "PT05M.json",
        ),
    }
}

#[test]
fn bad_input_corpus() {
    let dir = root().join("tests/fixtures/bad");
    let cases: Vec<BadCase> =
        serde_json::from_slice(&std::fs::read(dir.join("cases.json")).unwrap()).unwrap();
    let files: std::collections::BTreeSet<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json") && name != "cases.json")
        .collect();
    let listed: std::collections::BTreeSet<String> = cases.iter().map(|c| c.file.clone()).collect();
    assert_eq!(files, listed, "every corpus file has its expectations");
    for case in &cases {
        let body = std::fs::read(dir.join(&case.file)).unwrap();
        let blob = blob_for(&case.layout);
        let account = Account::new();
        account.put(&blob, &body);
        let case_dir = tempfile::tempdir().unwrap();
        let summary = ingest_dir(account.path(), case_dir.path());
        assert_eq!(
            (summary.records, summary.rejected, summary.duplicates),
            (case.accepted, case.rejected, case.duplicates),
            "{}: {}",
            case.file,
            case.what
        );
        let rejects: Vec<(u64, String, bool)> = query(
            case_dir.path(),
            "SELECT line, reason, raw_is_utf8, blob FROM rejects ORDER BY line, reason",
        )
        .into_iter()
        .map(|row| {
            assert_eq!(row[3], blob, "{}: the reject names its blob", case.file);
            (row[0].parse().unwrap(), row[1].clone(), row[2] == "true")
        })
        .collect();
        let mut expected = case.rejects.clone();
        expected.sort();
        assert_eq!(rejects, expected, "{}", case.file);
        for (id, time) in &case.times {
            let stored = query(
                case_dir.path(),
                &format!(
                    "SELECT CAST(\"TimeGenerated\" AS VARCHAR) FROM \"AppRequests\" WHERE \"Id\" = '{id}'"
                ),
            );
            assert_eq!(stored, vec![vec![time.clone()]], "{}: {id}", case.file);
        }
        // The command line names the blob and line of every reject, and exits 3.
        if case.rejected > 0 {
            let cli_case = tempfile::tempdir().unwrap();
            let (code, _, stderr) = run(bin()
                .arg("ingest")
                .arg(account.path())
                .arg("--case")
                .arg(cli_case.path()));
            assert_eq!(code, 3, "{}: {stderr}", case.file);
            for (line, reason, _) in &case.rejects {
                let message = format!("{blob} line {line}: {reason}");
                assert!(
                    stderr.contains(&message),
                    "{}: no {message:?} in\n{stderr}",
                    case.file
                );
            }
        }
    }
}

#[test]
fn containers_named_like_the_cases_own_tables_stay_apart_from_them() {
    let account = Account::new();
    account.put(&la_blob("AppRequests", "PT05M.json"), GOOD.as_bytes());
    // A record the tool rejects, so its own rejects table has a row to keep apart.
    account.put(&la_blob("AppTraces", "PT05M.json"), b"not json\n");
    let hostile = [
        "rejects",
        "flows",
        "tool-calls",
        "identities",
        "iocs",
        "sessions",
    ];
    for name in hostile {
        let body =
            format!("{{\"TimeGenerated\":\"2026-10-01T02:05:00Z\",\"Note\":\"planted {name}\"}}\n");
        account.put(&la_blob(name, "PT05M.json"), body.as_bytes());
    }
    let dir = tempfile::tempdir().expect("case");
    let case = dir.path().join("case");
    let (code, stdout, stderr) = run(bin()
        .arg("ingest")
        .arg(account.path())
        .arg("--case")
        .arg(&case));
    assert_eq!(
        code, 3,
        "the one reject makes it partial:\n{stdout}{stderr}"
    );
    for name in hostile {
        let table = format!("am_{}", name.replace('-', "_"));
        assert_eq!(
            query(
                &case,
                &format!("SELECT json_get_str(_extra, 'Note') FROM {table}")
            ),
            vec![vec![format!("planted {name}")]],
            "{table}"
        );
    }
    // The tool's own tables and views still answer as theirs.
    assert_eq!(scalar(&case, "SELECT count(*) FROM rejects"), 1);
    assert_eq!(scalar(&case, "SELECT count(*) FROM flows"), 0);
    assert_eq!(scalar(&case, "SELECT count(*) FROM tool_calls"), 1);
    let (code, stdout, stderr) = run(bin().args(["scope", "--case"]).arg(&case).args([
        "--since",
        "2026-10-01",
        "--format",
        "json",
    ]));
    assert!(code == 0 || code == 4, "scope runs:\n{stdout}{stderr}");
    assert!(stdout.contains("\"report_version\""), "{stdout}");
}

#[test]
fn a_repeated_key_never_replaces_the_first_and_an_unbalanced_record_swallows_nothing() {
    let account = Account::new();
    account.put(
        &la_blob("SigninLogs", "PT05M.json"),
        br#"{"TimeGenerated":"2026-10-01T02:05:00Z","UserPrincipalName":"alice@contoso.example","IPAddress":"198.51.100.7","UserPrincipalName":"mallory@contoso.example"}
"#,
    );
    let records = |n: u32| {
        format!(
            r#"{{"time":"2026-10-01T02:0{n}:00Z","resourceId":"/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.INSIGHTS/COMPONENTS/APP","category":"AppTraces","properties":{{"Message":"m{n}"}}}}"#
        )
    };
    // The second record misses its closing brace.
    let unbalanced =
        r#"{"time":"2026-10-01T02:02:00Z","category":"AppTraces","properties":{"Message":"cut""#;
    let document = format!(
        "{{\"records\":[{},\n{unbalanced}}},\n{},\n{}]}}",
        records(1),
        records(3),
        records(4)
    );
    account.put(
        "insights-logs-apptraces/resourceId=/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.INSIGHTS/COMPONENTS/APP/y=2026/m=10/d=01/h=02/m=00/PT1H.json",
        document.as_bytes(),
    );
    let case = tempfile::tempdir().unwrap();
    let summary = ingest_dir(account.path(), case.path());
    assert_eq!(summary.rejected, 1);
    assert_eq!(summary.rows_with_repeated_keys, 1, "counted, not silent");
    assert_eq!(
        query(
            case.path(),
            "SELECT \"UserPrincipalName\", json_get_str(_extra, '_duplicate_keys', 'UserPrincipalName') FROM \"SigninLogs\""
        ),
        vec![vec![
            "alice@contoso.example".to_string(),
            "mallory@contoso.example".to_string()
        ]],
        "the first value is typed, the repeated one kept beside it"
    );
    assert_eq!(
        query(
            case.path(),
            "SELECT \"Message\" FROM \"AppTraces\" ORDER BY 1"
        ),
        vec![
            vec!["m1".to_string()],
            vec!["m3".to_string()],
            vec!["m4".to_string()]
        ],
        "the records after the unbalanced one are read"
    );
    let rejects = query(case.path(), "SELECT line, reason FROM rejects");
    assert_eq!(rejects.len(), 1);
    assert_eq!(rejects[0][0], "2");
    assert!(
        rejects[0][1].contains("not closed before the next record"),
        "{rejects:?}"
    );
}

/// Runs the command to its end, sampling its peak resident memory (`VmHWM`, which only grows)
/// every few milliseconds; returns the exit code and the peak in bytes.
fn run_sampling_peak_memory(command: &mut Command) -> (Option<i32>, u64) {
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak = 0u64;
    loop {
        if let Ok(status) = std::fs::read_to_string(&status_file)
            && let Some(kib) = status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        {
            peak = peak.max(kib * 1024);
        }
        if let Some(status) = child.try_wait().unwrap() {
            return (status.code(), peak);
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

#[test]
fn memory_of_a_blob_is_bounded_by_its_records_not_its_size() {
    let record = |i: usize| {
        format!(
            "{{\"TimeGenerated\":\"2026-10-01T00:{i:02}:00Z\",\"Message\":\"{}{i}\"}}\n",
            "x".repeat(16 << 20)
        )
    };
    let ingest_lines = |lines: usize| {
        let account = Account::new();
        let body: String = (0..lines).map(record).collect();
        account.put(&la_blob("AppTraces", "PT05M.json"), body.as_bytes());
        drop(body);
        let case = tempfile::tempdir().unwrap();
        let (code, peak) = run_sampling_peak_memory(
            bin()
                .arg("ingest")
                .arg(account.path())
                .arg("--case")
                .arg(case.path()),
        );
        assert_eq!(code, Some(0));
        assert_eq!(
            scalar(case.path(), "SELECT count(*) FROM \"AppTraces\""),
            lines as i64
        );
        peak
    };
    let three_records = ingest_lines(3);
    let twelve_records = ingest_lines(12);
    assert!(
        twelve_records * 2 < three_records * 3,
        "a blob four times as large took {} MiB at peak against {} MiB",
        twelve_records >> 20,
        three_records >> 20
    );
}

/// Azure Functions writes `properties` of its `FunctionAppLogs` records as a single-quoted object
/// in place (not JSON). Each such record is read, its properties as columns, the object's
/// original text kept beside the row and the repair marked; a record no reading makes sense of is
/// still rejected with its line.
#[test]
fn function_app_records_with_single_quoted_properties_in_place_are_read() {
    let account = Account::new();
    let record = |minute: u32, message: &str| {
        format!(
            "{{ \"time\": \"2026-10-01T02:{minute:02}:00.0000000Z\", \"resourceId\": \"/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.WEB/SITES/FUNC-MCP\", \"category\": \"FunctionAppLogs\", \"operationName\": \"Microsoft.Web/sites/functions/log\", \"level\": \"Informational\", \"location\": \"West Europe\", \"properties\": {{'appName':'func-mcp','roleInstance':'54108609-638446440','message':'{message}','category':'Function.tools','hostVersion':'4.1040.300.1','functionInvocationId':'1b2c','functionName':'Functions.tools','hostInstanceId':'a3e1','level':'Information','levelId':2,'processId':7612,'eventId':2,'eventName':'FunctionCompleted'}}}}"
        )
    };
    let body = [
        record(1, "Executed \\'Functions.tools\\' (Succeeded, Id=1b2c, Duration=12ms)"),
        record(2, "Executing \\'Functions.tools\\' (Reason=\"This function was programmatically called\")"),
        "{ \"time\": \"2026-10-01T02:03:00Z\", \"category\": \"FunctionAppLogs\", \"properties\": {'appName': }".to_string(),
    ]
    .join("\n");
    account.put(
        "insights-logs-functionapplogs/resourceId=/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.WEB/SITES/FUNC-MCP/y=2026/m=10/d=01/h=02/m=00/PT1H.json",
        body.as_bytes(),
    );
    let case = tempfile::tempdir().unwrap();
    let summary = ingest_dir(account.path(), case.path());
    assert_eq!(
        summary.rejected, 1,
        "only the record no reading makes sense of"
    );
    let rows = query(
        case.path(),
        "SELECT \"Message\", json_get_str(_extra, '_original_properties'), json_get_str(_extra, '_repaired'), \"AppName\", \"FunctionName\", \"LevelId\", \"ProcessId\", \"Category\" FROM \"FunctionAppLogs\" ORDER BY 1",
    );
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(
        rows[0][0],
        "Executed 'Functions.tools' (Succeeded, Id=1b2c, Duration=12ms)"
    );
    assert_eq!(
        rows[1][0],
        "Executing 'Functions.tools' (Reason=\"This function was programmatically called\")"
    );
    assert!(rows[0][1].starts_with("{'appName':'func-mcp'"), "{rows:?}");
    assert!(rows[0][1].contains(r"'message':'Executed \'Functions.tools\'"));
    assert!(rows[0][2].contains("single-quoted"));
    // The properties in FunctionAppLogs' documented columns, typed.
    assert_eq!(
        rows[0][3..],
        ["func-mcp", "Functions.tools", "2", "7612", "Function.tools"]
    );
    let rejects = query(case.path(), "SELECT line, reason FROM rejects");
    assert_eq!(rejects.len(), 1);
    assert_eq!(rejects[0][0], "3");
}
