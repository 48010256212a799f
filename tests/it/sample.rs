//! The sample generator: deterministic, in the real layouts, and the committed sample is current.

use crate::common::*;

fn generate(seed: u64) -> Vec<(String, String)> {
    let dir = tempfile::tempdir().expect("dir");
    mcpforensics::sample::Scenario::new(
        seed,
        0.3,
        chrono::NaiveDate::from_ymd_opt(2026, 5, 1).expect("date"),
        12,
    )
    .write(dir.path())
    .expect("generate");
    hash_tree(dir.path())
}

#[test]
fn same_seed_same_bytes_other_seed_other_incident() {
    let a = generate(11);
    assert_eq!(a, generate(11));
    assert_ne!(a, generate(12));
    let paths: Vec<&str> = a.iter().map(|(p, _)| p.as_str()).collect();
    assert!(paths.iter().any(|p| p.ends_with("/PT05M.json")
        && p.starts_with("am-apprequests/WorkspaceResourceId=/subscriptions/")));
    assert!(
        paths.iter().any(|p| p.ends_with("/PT5M.json")),
        "the PT5M spelling"
    );
    assert!(
        paths
            .iter()
            .any(|p| p.starts_with("am-auditlogs/") && p.contains("/m=00/PT1H.json")),
        "the hourly generation"
    );
    assert!(
        paths.iter().any(|p| p
            .starts_with("insights-logs-networksecuritygroupflowevent/resourceId=/SUBSCRIPTIONS/")
            && p.contains("/macAddress="))
    );
    assert!(
        paths
            .iter()
            .any(|p| p.starts_with("insights-logs-flowlogflowevent/flowLogResourceID=/"))
    );
}

#[test]
fn committed_sample_is_what_the_generator_writes() {
    let dir = tempfile::tempdir().expect("dir");
    let (code, _, stderr) = run(bin()
        .args(["sample-data", "generate", "--out"])
        .arg(dir.path().join("account"))
        .arg("--truth")
        .arg(dir.path().join("truth.json")));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        hash_tree(&dir.path().join("account")) == hash_tree(&sample_account()),
        "sample-data/account is stale: regenerate it (see sample-data/README.md)"
    );
    assert_eq!(
        std::fs::read(dir.path().join("truth.json")).expect("truth"),
        std::fs::read(root().join("sample-data/truth.json")).expect("committed truth")
    );
}

#[test]
fn the_story_is_in_the_sample() {
    let case = sample_case();
    // The spray: one IP besides the office (where colleagues mistype passwords over weeks),
    // failures on many accounts, then a success.
    let spray = query(
        &case,
        "SELECT \"IPAddress\", count(DISTINCT \"UserId\"), sum(CASE WHEN \"ResultType\" = '0' THEN 1 ELSE 0 END) FROM \"SigninLogs\" WHERE \"ResultType\" IN ('50126', '50053', '0') AND \"IPAddress\" <> '203.0.113.10' GROUP BY 1 HAVING sum(CASE WHEN \"ResultType\" <> '0' THEN 1 ELSE 0 END) > 10",
    );
    assert_eq!(spray.len(), 1);
    assert_eq!(spray[0][2], "1", "exactly one account fell");
    // The nightly backup goes to the same destination every day, baseline included.
    assert_eq!(
        scalar(
            &case,
            "SELECT count(DISTINCT date) FROM flows WHERE dst_ip = '20.60.40.4' AND direction = 'O'"
        ),
        30
    );
    // The export outage: a gap of hours in App Insights on one day.
    let truth: serde_json::Value = serde_json::from_slice(
        &std::fs::read(root().join("sample-data/truth.json")).expect("truth"),
    )
    .expect("json");
    let (from, to) = (
        truth["outage"][0].as_str().expect("from"),
        truth["outage"][1].as_str().expect("to"),
    );
    assert_eq!(
        scalar(
            &case,
            &format!(
                "SELECT count(*) FROM \"AppDependencies\" WHERE \"TimeGenerated\" >= '{from}' AND \"TimeGenerated\" < '{to}'"
            )
        ),
        0
    );
    assert!(
        scalar(
            &case,
            &format!("SELECT count(*) FROM flows WHERE time >= '{from}' AND time < '{to}'")
        ) > 0,
        "flows continue through the outage"
    );
    // The widening window's traps, more than its three-day quiet spell before the attack: a
    // colleague signs in from a cloud address (a replayed token's in the token scenario), and the
    // server syncs with a partner on the address an implant copies to in the implant scenario.
    let attack = truth["attack_start"].as_str().expect("attack");
    let before = format!("TIMESTAMP '{attack}' - INTERVAL '8 days'");
    assert_eq!(
        scalar(
            &case,
            &format!(
                "SELECT count(DISTINCT \"UserId\") FROM \"SigninLogs\" WHERE \"IPAddress\" = '51.145.122.7' AND \"ResultType\" = '0' AND \"TimeGenerated\" < {before}"
            )
        ),
        1
    );
    assert_eq!(
        scalar(
            &case,
            "SELECT count(DISTINCT \"Id\") FROM \"SigninLogs\" WHERE \"IPAddress\" = '51.145.122.7'"
        ),
        1,
        "the cloud desktop only that day"
    );
    assert_eq!(
        scalar(
            &case,
            &format!(
                "SELECT count(DISTINCT date) FROM flows WHERE dst_ip = '185.243.115.84' AND direction = 'O' AND time < {before}"
            )
        ),
        3
    );
    assert_eq!(
        scalar(
            &case,
            "SELECT count(DISTINCT \"Id\") FROM \"AppDependencies\" WHERE \"Target\" = 'sync.partner-ledger.example'"
        ),
        30
    );
}

/// `--plain`: hourly `am-*` blobs, one a slot, every line whole JSON with its declared types,
/// no line twice; and the same incident as the default shape.
#[test]
fn a_plain_export_is_hourly_whole_and_without_faults() {
    let scenario = |plain: bool| {
        mcpforensics::sample::Scenario::new(
            11,
            0.3,
            chrono::NaiveDate::from_ymd_opt(2026, 5, 1).expect("date"),
            12,
        )
        .with_plain_export(plain)
    };
    let dir = tempfile::tempdir().expect("dir");
    let plain = scenario(true);
    plain.write(dir.path()).expect("generate");
    let mut am_blobs = 0;
    let mut lines = 0;
    for (path, _) in hash_tree(dir.path()) {
        if !path.starts_with("am-") {
            continue;
        }
        am_blobs += 1;
        assert!(
            path.ends_with("/m=00/PT1H.json"),
            "not hourly or spilled: {path}"
        );
        let body = std::fs::read_to_string(dir.path().join(&path)).expect("read");
        let mut seen = std::collections::HashSet::new();
        for line in body.lines() {
            lines += 1;
            let row: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{path}: a line that is not whole JSON ({e})"));
            if let Some(level) = row.get("SeverityLevel") {
                assert!(level.is_number(), "{path}: SeverityLevel {level}");
            }
            assert!(seen.insert(line), "{path}: a line written twice");
        }
    }
    let default_blobs = generate(11)
        .iter()
        .filter(|(path, _)| path.starts_with("am-"))
        .count();
    assert!(
        am_blobs > 100 && lines > am_blobs && am_blobs < default_blobs,
        "{am_blobs} blobs, {lines} lines; the default shape: {default_blobs} blobs"
    );
    // The same incident: who, which customers, where the data went.
    let (plain, default) = (plain.truth(), scenario(false).truth());
    assert_eq!(
        plain.compromised_users.len(),
        default.compromised_users.len()
    );
    for (a, b) in plain
        .compromised_users
        .iter()
        .zip(&default.compromised_users)
    {
        assert_eq!(a.upn, b.upn);
    }
    assert_eq!(plain.affected_customers, default.affected_customers);
    assert_eq!(plain.attacker_ips, default.attacker_ips);
    assert_eq!(plain.attacker_tool_calls, default.attacker_tool_calls);
}
