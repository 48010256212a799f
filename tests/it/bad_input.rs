//! Bad input per format: exact accepted and rejected counts, a reason per line, no panic.

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
fn log_analytics_lines_truncated_garbage_wrong_types_invalid_utf8() {
    let mut body = Vec::new();
    body.extend_from_slice(b"\xEF\xBB\xBF");
    body.extend_from_slice(GOOD.as_bytes());
    body.extend_from_slice(b"\n");
    body.extend_from_slice(&GOOD.as_bytes()[..70]); // line 2: truncated
    body.extend_from_slice(b"\n<html>503 Service Unavailable</html>\n"); // line 3: garbage
    body.extend_from_slice(br#"{"TimeGenerated":"2026-10-01T02:06:00Z","ItemCount":"many"}"#); // line 4: wrong type
    body.extend_from_slice(
        b"\n{\"TimeGenerated\":\"2026-10-01T02:07:00Z\",\"Name\":\"\xff\xfe\"}\n",
    ); // line 5: invalid UTF-8
    body.extend_from_slice(br#"{"TimeGenerated":"yesterday","Name":"x"}"#); // line 6: bad time
    body.extend_from_slice(b"\n\n");
    body.extend_from_slice(br#"{"TimeGenerated":1790820300,"Success":"True","DurationMs":"12.5"}"#); // line 8: coercible
    body.extend_from_slice(b"\n[1,2,3]\n"); // line 9: not an object
    let (case, summary, rejects) = ingest_one(&la_blob("AppRequests", "PT05M.json"), &body);
    assert_eq!(
        (summary.records, summary.rejected, summary.duplicates),
        (2, 6, 0)
    );
    let lines: Vec<&str> = rejects.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(lines, ["2", "3", "4", "5", "6", "9"]);
    assert!(rejects[0][1].contains("EOF while parsing"));
    assert!(rejects[2][1].contains("column ItemCount: expected an integer, found string \"many\""));
    assert_eq!(
        rejects[3][2], "false",
        "invalid UTF-8 is flagged in the rejects"
    );
    assert!(rejects[4][1].contains("column TimeGenerated: expected a timestamp"));
    assert!(rejects[5][1].contains("not a JSON object"));
    let coerced = query(
        case.path(),
        "SELECT \"Success\", \"DurationMs\", \"TimeGenerated\" FROM \"AppRequests\" WHERE \"Id\" IS NULL",
    );
    assert_eq!(coerced, vec![vec!["true", "12.5", "2026-10-01T02:05:00Z"]]);
}

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
fn nsg_document_cut_mid_record_and_bad_tuples() {
    let record = |minute: u32, tuples: &str| {
        format!(
            r#"{{"time":"2026-10-01T01:{minute:02}:00.0000000Z","resourceId":"/NSG","properties":{{"Version":2,"flows":[{{"rule":"R","flows":[{{"mac":"000D3A000001","flowTuples":[{tuples}]}}]}}]}}}}"#
        )
    };
    let ok = r#""1790816400,10.0.0.4,1.2.3.4,50000,443,T,O,A,E,3,300,2,200""#;
    let body = format!(
        "{{\"records\":[\r\n{}\r\n,{}\r\n,{}\r\n,{}",
        record(0, &format!("{ok},{ok}")),
        record(1, r#""1790816460,10.0.0.4,1.2.3.4,50000,443,T,O,A""#), // v1 arity in a v2 record
        record(
            2,
            r#""1790816520,10.0.0.999,1.2.3.4,50000,443,T,O,A,E,1,1,1,1","1790816520,10.0.0.4,1.2.3.4,50000,443,T,O,A,E,1,1,1,1""#
        ),
        &record(3, ok)[..60]
    );
    let (_, summary, rejects) = ingest_one(&nsg_blob(1), body.as_bytes());
    // Two identical tuples in record 0 are one flow row plus one duplicate.
    assert_eq!(
        (summary.records, summary.rejected, summary.duplicates),
        (2, 3, 1)
    );
    let reasons: Vec<(&str, &str)> = rejects
        .iter()
        .map(|r| (r[0].as_str(), r[1].as_str()))
        .collect();
    assert_eq!(
        reasons[0],
        ("3", "flow tuple: 8 fields, expected 13 for nsg v2")
    );
    assert_eq!(
        reasons[1],
        ("4", "flow tuple: \"10.0.0.999\" is not an IP address")
    );
    assert_eq!(
        reasons[2],
        ("5", "blob ends inside this record (truncated)")
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

#[test]
fn unknown_flow_log_versions_are_rejected_by_record() {
    let nsg = r#"{"records":[{"time":"2026-10-01T01:00:00Z","properties":{"Version":3,"flows":[]}},{"time":"2026-10-01T01:00:00Z","category":"x"}]}"#;
    let (_, summary, rejects) = ingest_one(&nsg_blob(1), nsg.as_bytes());
    assert_eq!((summary.records, summary.rejected), (0, 2));
    assert_eq!(rejects[0][1], "unsupported NSG flow log version 3");
    assert!(rejects[1][1].starts_with("neither properties.flows"));
    let vnet = r#"{"records":[{"time":"2022-09-14T09:00:52Z","flowLogVersion":9,"flowRecords":{"flows":[]}}]}"#;
    let (_, summary, rejects) = ingest_one(&vnet_blob(), vnet.as_bytes());
    assert_eq!((summary.records, summary.rejected), (0, 1));
    assert_eq!(rejects[0][1], "unsupported VNet flow log version 9");
}

#[test]
fn vnet_bad_tuples_and_second_timestamps() {
    let body = r#"{"records":[{"time":"2022-09-14T09:00:52Z","flowLogVersion":4,"macAddress":"00224871C205","flowRecords":{"flows":[{"aclID":"a","flowGroups":[{"rule":"R","flowTuples":["1663146003,10.0.0.6,52.239.184.180,23956,443,6,O,E,NX,3,767,2,1580","1663146003606,10.0.0.6,52.239.184.180,23956,443,6,O,Q,NX,3,767,2,1580","1663146003606,10.0.0.6,52.239.184.180,99999,443,6,O,E,NX,3,767,2,1580"]}]}]}}]}"#;
    let (case, summary, rejects) = ingest_one(&vnet_blob(), body.as_bytes());
    assert_eq!((summary.records, summary.rejected), (1, 2));
    assert_eq!(
        rejects[0][1],
        "flow tuple: flow state \"Q\" is not B, C, E or D"
    );
    assert_eq!(
        rejects[1][1],
        "flow tuple: port \"99999\" is not a port number"
    );
    assert_eq!(
        query(case.path(), "SELECT time FROM flows"),
        vec![vec!["2022-09-14T09:00:03Z"]]
    );
}
