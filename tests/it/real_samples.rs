//! Every decoder against the real public samples (tests/fixtures/real).

use crate::common::*;

fn flows_of(fixture: &str, path: &str) -> (tempfile::TempDir, mcpforensics::ingest::IngestSummary) {
    let account = Account::new();
    account.put(path, &real(fixture));
    let case = tempfile::tempdir().expect("case dir");
    let summary = ingest_dir(account.path(), case.path());
    drop(account);
    (case, summary)
}

#[test]
fn nsg_v1_real_blob_yields_every_tuple() {
    let (case, summary) = flows_of("nsg-flowlog-v1_real_24records.json", &nsg_blob(1));
    assert_eq!((summary.records, summary.rejected), (1187, 0));
    let rows = query(
        case.path(),
        "SELECT log_type, log_version, count(*), count(state), min(time) FROM flows GROUP BY 1, 2",
    );
    assert_eq!(
        rows,
        vec![vec!["nsg", "1", "1187", "0", "2018-05-30T01:35:23Z"]]
    );
    // Every v1 tuple has a decision and no byte counters.
    assert_eq!(
        scalar(
            case.path(),
            "SELECT count(*) FROM flows WHERE decision IN ('A','D') AND bytes_dst_to_src IS NULL"
        ),
        1187
    );
    let (_, small) = flows_of("nsg-flowlog-v1_real_3records.json", &nsg_blob(2));
    assert_eq!((small.records, small.rejected), (38, 0));
}

#[test]
fn appended_block_with_bom_and_leading_comma() {
    let (case, summary) = flows_of("nsg-flowlog-v1_real_appended-block.txt", &nsg_blob(3));
    assert_eq!((summary.records, summary.rejected), (85, 0));
    assert_eq!(
        scalar(
            case.path(),
            "SELECT count(*) FROM flows WHERE rule = 'DefaultRule_DenyAllInBound' AND decision = 'D'"
        ),
        4
    );
}

#[test]
fn nsg_v2_docs_sample_keeps_counters_and_states() {
    let (case, summary) = flows_of("nsg-flowlog-v2_docs-example.json", &nsg_blob(4));
    assert_eq!((summary.records, summary.rejected), (11, 0));
    let begins = scalar(
        case.path(),
        "SELECT count(*) FROM flows WHERE state = 'B' AND bytes_src_to_dst IS NULL",
    );
    let counted = scalar(
        case.path(),
        "SELECT count(*) FROM flows WHERE state IN ('C', 'E') AND bytes_src_to_dst IS NOT NULL",
    );
    assert_eq!(begins + counted, 11);
    assert!(counted > 0);
}

#[test]
fn invalid_trailing_comma_sample_is_rejected_with_its_reason() {
    let (case, summary) = flows_of(
        "nsg-flowlog-v2_macAddress_INVALID-trailing-comma.json",
        &nsg_blob(5),
    );
    assert_eq!((summary.records, summary.rejected), (0, 1));
    let rejects = query(case.path(), "SELECT blob, line, reason FROM rejects");
    assert_eq!(rejects.len(), 1);
    assert_eq!(rejects[0][1], "3", "the record starts on line 3");
    assert!(
        rejects[0][2].starts_with("invalid JSON: trailing comma"),
        "{}",
        rejects[0][2]
    );
    assert!(rejects[0][0].ends_with("macAddress=000D3A000001/PT1H.json"));
}

#[test]
fn vnet_docs_sample_with_millisecond_times() {
    let (case, summary) = flows_of("vnet-flowlog-v4_docs-example.json", &vnet_blob());
    assert_eq!((summary.records, summary.rejected), (19, 0));
    let rows = query(
        case.path(),
        "SELECT min(time), count(DISTINCT protocol), max(log_version), max(mac) FROM flows",
    );
    assert_eq!(
        rows,
        vec![vec!["2022-09-14T08:59:49.563Z", "1", "4", "00224871C205"]]
    );
    assert_eq!(
        scalar(
            case.path(),
            "SELECT count(*) FROM flows WHERE state = 'E' AND encryption = 'NX' AND bytes_dst_to_src > 0"
        ),
        5
    );
}

#[test]
fn diagnostic_settings_archives_are_kept_not_refused() {
    let account = Account::new();
    account.put(
        "insights-logs-auditevent/resourceId=/SUBSCRIPTIONS/X/RESOURCEGROUPS/R/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/V/y=2016/m=01/d=05/h=01/m=00/PT1H.json",
        &real("resource-logs_jsonlines_keyvault-auditevent_docs-example.jsonl"),
    );
    account.put(
        "insights-logs-signinlogs/tenantId=00000000-0000-0000-0000-000000000000/y=2019/m=03/d=12/h=16/m=00/PT1H.json",
        &real("entra_signinlogs_diagnostic-settings-record_docs-example.json"),
    );
    let case = tempfile::tempdir().expect("case dir");
    let summary = ingest_dir(account.path(), case.path());
    assert_eq!((summary.records, summary.rejected), (3, 0));
    let rows = query(
        case.path(),
        "SELECT \"TimeGenerated\", _extra LIKE '%VaultGet%' FROM insights_logs_auditevent ORDER BY 1",
    );
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0], vec!["2016-01-05T01:32:01.269122600Z", "true"]);
    assert_eq!(
        scalar(
            case.path(),
            "SELECT count(*) FROM insights_logs_signinlogs WHERE _extra LIKE '%Timothy Perkins%'"
        ),
        1
    );
}
