//! `mcpforensics overview`: the page, its CSVs and JSON, checked against counts made here with
//! plain SQL on the same case.

use crate::common::{bin, run, sample_case, scalar};

const SINCE: &str = "2026-10-01T00:00:00Z";
const UNTIL: &str = "2026-10-08T00:00:00Z";
/// The default baseline: 14 days before the window.
const BASELINE_START: &str = "2026-09-17T00:00:00Z";

fn path(p: &std::path::Path) -> &str {
    p.to_str().expect("utf-8")
}

/// `overview --case CASE --since SINCE` with `more`.
fn overview(case: &std::path::Path, more: &[&str]) -> (i32, String, String) {
    run(bin()
        .args(["overview", "--case", path(case), "--since", SINCE])
        .args(more))
}

/// The sum of a CSV column (the file as the command wrote it: BOM, CRLF, a header).
fn csv_sum(path: &std::path::Path, column: &str) -> (f64, usize) {
    let text = std::fs::read_to_string(path).expect("csv");
    let text = text
        .strip_prefix('\u{feff}')
        .expect("a byte-order mark for Excel");
    let mut lines = text.split("\r\n").filter(|l| !l.is_empty());
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let at = header
        .iter()
        .position(|h| *h == column)
        .unwrap_or_else(|| panic!("{column} in {header:?}"));
    let mut sum = 0.0;
    let mut rows = 0;
    for line in lines {
        let cell = line.split(',').nth(at).expect("cell");
        sum += cell.parse::<f64>().unwrap_or(0.0);
        rows += 1;
    }
    (sum, rows)
}

#[test]
fn the_page_draws_every_panel_and_its_numbers_are_the_cases() {
    let case = sample_case();
    let out = tempfile::tempdir().expect("dir");
    let page = out.path().join("overview.html");
    let (code, _, stderr) = overview(&case, &["--until", UNTIL, "--out", path(&page)]);
    assert_eq!(code, 0, "{stderr}");
    let html = std::fs::read_to_string(&page).expect("page");
    assert!(
        html.contains("Content-Security-Policy"),
        "the scope report's policy"
    );
    assert!(!html.contains("<script"), "no script");
    for (name, _) in mcpforensics::overview::PANELS {
        assert!(html.contains(&format!("<section id=\"{name}\">")), "{name}");
        let csv = out.path().join(format!("overview-{name}.csv"));
        assert!(csv.is_file(), "{} beside the page", csv.display());
        assert!(
            html.contains(&format!("overview-{name}.csv")),
            "{name} names its CSV"
        );
    }
    assert!(html.matches("<svg").count() >= 5, "charts drawn");

    // Tool usage: every tool call of the window and of the baseline, counted here from tool_calls.
    let window_calls = scalar(
        &case,
        &format!("SELECT count(*) FROM tool_calls WHERE time >= '{SINCE}' AND time < '{UNTIL}'"),
    );
    let baseline_calls = scalar(
        &case,
        &format!(
            "SELECT count(*) FROM tool_calls WHERE time >= '{BASELINE_START}' AND time < '{SINCE}'"
        ),
    );
    assert!(
        window_calls > 0 && baseline_calls > 0,
        "the sample has calls"
    );
    let usage = out.path().join("overview-overview_tool_usage.csv");
    assert_eq!(csv_sum(&usage, "window_calls").0, window_calls as f64);
    assert_eq!(csv_sum(&usage, "baseline_calls").0, baseline_calls as f64);
    // The heat map's cells add up to the same calls.
    let hours = out.path().join("overview-overview_tool_hours.csv");
    assert_eq!(csv_sum(&hours, "window_calls").0, window_calls as f64);

    // Authentication failures: every sign-in table's records with a result other than 0.
    let failures: i64 = [
        "SigninLogs",
        "AADNonInteractiveUserSignInLogs",
        "AADServicePrincipalSignInLogs",
        "AADManagedIdentitySignInLogs",
    ]
    .iter()
    .map(|table| {
        scalar(
            &case,
            &format!(
                "SELECT count(*) FROM \"{table}\" WHERE \"TimeGenerated\" >= '{BASELINE_START}' AND \"TimeGenerated\" < '{UNTIL}' AND \"ResultType\" <> '0'"
            ),
        )
    })
    .sum();
    assert!(failures > 0, "the sample's spray fails sign-ins");
    let auth = out.path().join("overview-overview_auth_failures.csv");
    assert_eq!(csv_sum(&auth, "failures").0, failures as f64);

    // Anonymous calls per day add up to the calls no identity was resolved for.
    let anonymous = scalar(
        &case,
        &format!(
            "SELECT count(*) FROM tool_calls WHERE time >= '{BASELINE_START}' AND time < '{UNTIL}' AND \"user\" = '(anonymous)'"
        ),
    );
    let unattributed = out.path().join("overview-overview_unattributed.csv");
    assert_eq!(
        csv_sum(&unattributed, "anonymous_calls").0,
        anonymous as f64
    );

    // Errors: the calls and failed calls a day add up to tool_calls', the exceptions to
    // AppExceptions'.
    let errors = out.path().join("overview-overview_errors.csv");
    let between = format!("time >= '{BASELINE_START}' AND time < '{UNTIL}'");
    assert_eq!(
        csv_sum(&errors, "calls").0,
        scalar(
            &case,
            &format!("SELECT count(*) FROM tool_calls WHERE {between}")
        ) as f64
    );
    assert_eq!(
        csv_sum(&errors, "failed_calls").0,
        scalar(
            &case,
            &format!("SELECT count(*) FROM tool_calls WHERE {between} AND success = false")
        ) as f64
    );
    assert_eq!(
        csv_sum(&errors, "exceptions").0,
        scalar(
            &case,
            &format!(
                "SELECT count(*) FROM \"AppExceptions\" WHERE \"TimeGenerated\" >= '{BASELINE_START}' AND \"TimeGenerated\" < '{UNTIL}'"
            )
        ) as f64
    );

    // Silences: the window's hours with a record, per table, counted here by the hour.
    let gaps = std::fs::read_to_string(out.path().join("overview-overview_gaps.csv")).expect("csv");
    let cell = |table: &str, column: &str| -> String {
        let mut lines = gaps.trim_start_matches('\u{feff}').split("\r\n");
        let header: Vec<&str> = lines.next().expect("header").split(',').collect();
        let at = header.iter().position(|h| *h == column).expect("column");
        lines
            .find(|l| l.starts_with(&format!("{table},")))
            .unwrap_or_else(|| panic!("{table} in {gaps}"))
            .split(',')
            .nth(at)
            .expect("cell")
            .to_string()
    };
    for table in ["SigninLogs", "AppRequests"] {
        let hours = scalar(
            &case,
            &format!(
                "SELECT count(DISTINCT date_trunc('hour', \"TimeGenerated\")) FROM \"{table}\" WHERE \"TimeGenerated\" >= '{SINCE}' AND \"TimeGenerated\" < '{UNTIL}'"
            ),
        );
        assert_eq!(
            cell(table, "window_hours_with_records"),
            hours.to_string(),
            "{table}"
        );
        let longest: i64 = cell(table, "longest_silence_hours").parse().expect("hours");
        assert!(
            (0..168 - hours).contains(&longest),
            "{table}: a silence of {longest} h in a week with {hours} hours of records"
        );
    }

    // An existing page is not replaced without --force.
    let (again, _, said) = overview(&case, &["--out", path(&page)]);
    assert_eq!(again, 2, "{said}");
    assert!(said.contains("--force"), "{said}");
}

#[test]
fn the_json_holds_every_panel_with_the_window() {
    let case = sample_case();
    let (code, stdout, stderr) = overview(&case, &["--until", UNTIL, "--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let document: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(document["since"], SINCE);
    assert_eq!(document["baseline_start"], BASELINE_START);
    let panels = document["panels"].as_object().expect("panels");
    assert_eq!(panels.len(), mcpforensics::overview::PANELS.len());
    let usage = panels["overview_tool_usage"].as_array().expect("rows");
    assert!(!usage.is_empty());
    assert!(usage.iter().all(|row| row["tool"].is_string()));
}

/// East-west: a new connection on a management port between private hosts comes first and is
/// flagged; a pair the baseline already had is not new; a public destination is not east-west;
/// a denied probe from outside is in the denied flows.
#[test]
fn the_network_view_flags_new_east_west_connections_and_denied_probes() {
    let account = crate::common::Account::new();
    // 02:00 is the baseline, 13:00 and 14:00 the window.
    account.put(
        &crate::common::nsg_blob(14),
        &crate::common::nsg_v2(&[
            "1790820000,10.0.1.4,10.0.2.9,44000,5432,T,O,A,B,3,300,3,900",
            "1790859600,10.0.1.4,10.0.2.9,44001,5432,T,O,A,B,3,300,3,900",
            "1790863200,10.0.1.4,10.0.2.5,44321,3389,T,O,A,B,10,1000,12,40000",
            "1790863200,10.0.1.4,52.1.2.3,44322,443,T,O,A,B,10,1000,12,40000",
            "1790863200,203.0.113.7,10.0.1.4,55000,22,T,I,D,B,,,,",
            "1790863260,203.0.113.7,10.0.1.5,55001,22,T,I,D,B,,,,",
            "1790863300,198.51.100.20,10.0.1.4,55100,3389,T,I,A,B,5,500,5,500",
            "1790820000,198.51.100.30,10.0.1.4,55200,22,T,I,A,B,5,500,5,500",
            "1790863400,198.51.100.30,10.0.1.4,55201,22,T,I,A,B,5,500,5,500",
            "1790863500,10.0.3.7,10.0.1.4,55300,22,T,I,A,B,5,500,5,500",
        ]),
    );
    let case = tempfile::tempdir().expect("case");
    crate::common::ingest_dir(account.path(), case.path());
    let run_query = |name: &str| {
        crate::common::pack_rows(
            case.path(),
            name,
            ("2026-10-01T12:00:00Z", "2026-10-02T00:00:00Z"),
            1,
        )
    };
    let east_west = run_query("network_east_west");
    assert_eq!(
        east_west.len(),
        3,
        "three private pairs in the window: {east_west:?}"
    );
    assert_eq!(east_west[0]["dst_ip"], "10.0.2.5");
    assert_eq!(east_west[0]["dst_port"], 3389);
    assert_eq!(east_west[0]["new_in_window"], true);
    assert_eq!(east_west[0]["management_or_database_port"], true);
    assert_eq!(
        east_west[1]["src_ip"], "10.0.3.7",
        "the administrator's SSH"
    );
    assert_eq!(east_west[1]["new_in_window"], true);
    assert_eq!(east_west[2]["dst_ip"], "10.0.2.9");
    assert_eq!(
        east_west[2]["new_in_window"], false,
        "the baseline had this pair"
    );
    assert_eq!(
        east_west[2]["flows"], 1,
        "only the window's flows are counted"
    );
    let denied = run_query("network_denied");
    assert_eq!(denied.len(), 1, "{denied:?}");
    assert_eq!(denied[0]["src_ip"], "203.0.113.7");
    assert_eq!(denied[0]["denied_flows"], 2);
    assert_eq!(denied[0]["destinations"], 2);
    assert_eq!(denied[0]["from_outside"], true);
    // Management ports reached from outside: a new source first, one the baseline had after it;
    // an internal administrator is east-west, not outside.
    let inbound = run_query("network_inbound_management");
    let sources: Vec<(&str, bool)> = inbound
        .iter()
        .map(|r| (r["src_ip"].as_str().unwrap_or(""), r["new_source"] == true))
        .collect();
    assert_eq!(
        sources,
        [("198.51.100.20", true), ("198.51.100.30", false)],
        "{inbound:?}"
    );
    assert_eq!(inbound[0]["dst_port"], 3389);
    let talkers = run_query("network_top_talkers");
    assert!(
        talkers
            .iter()
            .any(|t| t["dst_ip"] == "52.1.2.3" && t["bytes_in"] == 40000),
        "{talkers:?}"
    );
}

/// The network view on flow logs as Azure wrote them (a real NSG v1 blob of 24 records and
/// Microsoft's VNet flow log v4 example): the overview runs every panel, and the top talkers'
/// flows add up to the allowed flows of the case.
#[test]
fn the_network_view_reads_real_flow_logs() {
    let account = crate::common::Account::new();
    account.put(
        &crate::common::nsg_blob(1),
        &crate::common::real("nsg-flowlog-v1_real_24records.json"),
    );
    account.put(
        &crate::common::vnet_blob(),
        &crate::common::real("vnet-flowlog-v4_docs-example.json"),
    );
    let case = tempfile::tempdir().expect("case");
    crate::common::ingest_dir(account.path(), case.path());
    let allowed = scalar(
        case.path(),
        "SELECT count(*) FROM flows WHERE decision = 'A'",
    );
    let pairs = scalar(
        case.path(),
        "SELECT count(*) FROM (SELECT DISTINCT src_ip, dst_ip, dst_port, direction FROM flows WHERE decision = 'A')",
    );
    assert!(
        allowed > 0 && pairs <= 50,
        "{allowed} flows in {pairs} pairs"
    );
    let (code, stdout, stderr) = run(bin().args([
        "overview",
        "--case",
        path(case.path()),
        "--since",
        "2018-01-01T00:00:00Z",
        "--until",
        "2030-01-01T00:00:00Z",
        "--format",
        "json",
    ]));
    assert_eq!(code, 0, "{stderr}");
    let document: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    let talkers = document["panels"]["network_top_talkers"]
        .as_array()
        .expect("rows");
    assert_eq!(talkers.len() as i64, pairs);
    let flows: i64 = talkers
        .iter()
        .map(|t| t["flows"].as_i64().expect("flows"))
        .sum();
    assert_eq!(flows, allowed, "every allowed flow is in a pair");
    assert_eq!(
        document["panels"].as_object().expect("panels").len(),
        mcpforensics::overview::PANELS.len()
    );
}
