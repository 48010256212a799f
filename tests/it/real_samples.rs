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
    // The Entra sign-in lands in SigninLogs, typed field by field as the Log Analytics export
    // would give it; what has no column keeps its own name in _extra.
    let row = query(
        case.path(),
        "SELECT \"TimeGenerated\", \"CreatedDateTime\", \"Id\", \"UserPrincipalName\", \"UserId\", \"UserDisplayName\", \"AppDisplayName\", \"IPAddress\", \"Location\", \"LocationDetails\", \"ResultType\", \"ResultDescription\", \"IsInteractive\", \"ClientAppUsed\", \"AutonomousSystemNumber\", \"ResourceIdentity\", \"AuthenticationRequirement\", \"CorrelationId\", \"Category\", \"Type\", _extra LIKE '%appliedConditionalAccessPolicies%' AND _extra LIKE '%\"identity\":\"Timothy Perkins\"%' FROM \"SigninLogs\"",
    );
    assert_eq!(row.len(), 1);
    let expected = [
        "2019-03-12T16:02:15.552213700Z",
        "2019-03-12T16:02:15.552213700Z",
        "0231f922-93fa-4005-bb11-b344eca03c01",
        "<USER PRINCIPAL NAME>",
        "<USER ID>",
        "Timothy Perkins",
        "Azure Portal",
        "<IP ADDRESS>",
        "US",
    ];
    assert_eq!(row[0][..expected.len()], expected);
    // A dynamic column keeps the text written, here the documentation's own layout.
    let location: serde_json::Value = serde_json::from_str(&row[0][9]).expect("JSON text");
    assert_eq!(location["city"], "Bellevue");
    assert!(
        row[0][9].contains("\"city\": \"Bellevue\""),
        "{}",
        row[0][9]
    );
    assert_eq!(
        row[0][10..],
        [
            "50140",
            "This error occurred due to 'Keep me signed in' interrupt when the user was signing-in.",
            "true",
            "Browser",
            "8000",
            "00000003-0000-0ff1-ce00-000000000000",
            "multiFactorAuthentication",
            "bbbb1111-cc22-3333-44dd-555555eeeeee",
            "SignInLogs",
            "SigninLogs",
            "true",
        ]
    );
    // Scope's queries see it: the identity is resolved from it.
    assert_eq!(
        scalar(
            case.path(),
            "SELECT count(*) FROM identities WHERE user_principal_name = '<USER PRINCIPAL NAME>'"
        ),
        1
    );
}

/// The older `{"records":[…]}` form of a diagnostic-settings blob and JSON Lines give the same
/// typed rows, and both equal the Log Analytics export of the same sign-in.
#[test]
fn diagnostic_settings_and_log_analytics_give_the_same_sign_in_rows() {
    let record = serde_json::json!({
        "time": "2026-10-01T02:00:00.1234567Z", "resourceId": "/tenants/t/providers/Microsoft.aadiam",
        "operationName": "Sign-in activity", "category": "NonInteractiveUserSignInLogs", "tenantId": "t",
        "resultType": "0", "callerIpAddress": "81.2.69.142", "correlationId": "c-1", "identity": "Dana",
        "location": "GB", "properties": {"id": "s-1", "createdDateTime": "2026-10-01T02:00:00.1234567+00:00",
            "userPrincipalName": "dana@contoso.com", "userId": "u-1", "userDisplayName": "Dana", "appId": "a-1",
            "ipAddress": "81.2.69.142", "isInteractive": false, "autonomousSystemNumber": 5089,
            "status": {"errorCode": 0}, "location": {"city": "London", "countryOrRegion": "GB"}}
    });
    let la = serde_json::json!({
        "TimeGenerated": "2026-10-01T02:00:00.1234567Z", "Id": "s-1", "CreatedDateTime": "2026-10-01T02:00:00.1234567+00:00",
        "UserPrincipalName": "dana@contoso.com", "UserId": "u-1", "UserDisplayName": "Dana", "AppId": "a-1",
        "IPAddress": "81.2.69.142", "IsInteractive": false, "AutonomousSystemNumber": 5089, "ResultType": "0",
        "Status": {"errorCode": 0}, "LocationDetails": {"city": "London", "countryOrRegion": "GB"}, "Location": "GB",
        "CorrelationId": "c-1", "Category": "NonInteractiveUserSignInLogs", "TenantId": "t", "Type": "AADNonInteractiveUserSignInLogs"
    });
    let typed = "SELECT \"TimeGenerated\", \"Id\", \"CreatedDateTime\", \"UserPrincipalName\", \"UserId\", \"UserDisplayName\", \"AppId\", \"IPAddress\", \"IsInteractive\", \"AutonomousSystemNumber\", \"ResultType\", \"Status\", \"LocationDetails\", \"Location\", \"CorrelationId\", \"Category\", \"TenantId\", \"Type\" FROM \"AADNonInteractiveUserSignInLogs\"";
    let rows_of = |path: &str, body: String| {
        let account = Account::new();
        account.put(path, body.as_bytes());
        let case = tempfile::tempdir().expect("case");
        let summary = ingest_dir(account.path(), case.path());
        assert_eq!((summary.records, summary.rejected), (1, 0), "{path}");
        query(case.path(), typed)
    };
    let diag_path = "insights-logs-noninteractiveusersigninlogs/tenantId=t/y=2026/m=10/d=01/h=02/m=00/PT1H.json";
    let lines = rows_of(diag_path, format!("{record}\n"));
    let document = rows_of(
        diag_path,
        serde_json::json!({"records": [record]}).to_string(),
    );
    let exported = rows_of(
        "am-aadnoninteractiveusersigninlogs/WorkspaceResourceId=/subscriptions/s/resourcegroups/r/providers/microsoft.operationalinsights/workspaces/w/y=2026/m=10/d=01/h=02/m=00/PT05M.json",
        format!("{la}\n"),
    );
    assert_eq!(lines, document);
    assert_eq!(lines, exported);
    assert_eq!(lines[0][3], "dana@contoso.com");
}
