//! `mcpforensics sigma`: every modifier on records that must and must not match, hostile rules
//! refused by name while the rest run, and the MCP pack on the bundled sample.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

use crate::common::*;

/// Four sign-ins, one per person, each written to exercise some modifiers.
const SIGN_INS: &str = r#"{"TimeGenerated":"2026-10-01T02:05:10Z","Id":"r1","UserPrincipalName":"alice@contoso.com","IPAddress":"10.1.2.3","ResultType":"50126","ResultDescription":"Invalid username or password","AppDisplayName":"Azure Portal","ResourceDisplayName":"Windows Azure Service Management API","UserAgent":"python-requests/2.31","Status":{"errorCode":50126,"failureReason":"Invalid password"},"Type":"SigninLogs"}
{"TimeGenerated":"2026-10-01T02:06:10Z","Id":"r2","UserPrincipalName":"bob@contoso.com","IPAddress":"185.220.101.47","ResultType":"0","AppDisplayName":"Microsoft Graph","ResourceDisplayName":"Microsoft Graph","UserAgent":"Mozilla/5.0 (Windows NT 10.0)","Status":{"errorCode":0},"Type":"SigninLogs"}
{"TimeGenerated":"2026-10-01T02:07:10Z","Id":"r3","UserPrincipalName":"carol@contoso.com","IPAddress":"2001:db8::5","ResultType":"50074","ResultDescription":"Strong Auth required","AppDisplayName":"Office 365","ResourceDisplayName":"Office 365 Exchange Online","UserAgent":"tool /enc abc","Status":{"errorCode":50074},"Type":"SigninLogs"}
{"TimeGenerated":"2026-10-01T02:08:10Z","Id":"r4","UserPrincipalName":"dave@contoso.com","IPAddress":"10.9.9.9","ResultType":"500121","ResultDescription":"Authentication failed during strong authentication request","AppDisplayName":"azure portal","ResourceDisplayName":"Azure Portal","UserAgent":"x aHR0cDovL2V2aWwuZXhhbXBsZQ== y","Status":{"errorCode":500121},"Type":"SigninLogs"}
"#;

/// A rule file on the sign-ins with this detection.
fn rule(title: &str, detection: &str) -> String {
    format!(
        "title: {title}\nid: 00000000-0000-4000-8000-{:012}\nstatus: test\nlevel: medium\nlogsource:\n    product: azure\n    service: signinlogs\ndetection:\n{detection}\n",
        title.len()
    )
}

/// Each rule and the people whose sign-in it must match (everyone else's it must not).
fn cases() -> Vec<(&'static str, String, Vec<&'static str>)> {
    let plain = |field: &str, value: &str| {
        format!("    selection:\n        {field}: {value}\n    condition: selection")
    };
    vec![
        ("equal without case", plain("AppDisplayName", "'AZURE PORTAL'"), vec!["alice", "dave"]),
        ("cased", plain("AppDisplayName|cased", "'Azure Portal'"), vec!["alice"]),
        ("contains", plain("ResultDescription|contains", "'strong auth'"), vec!["carol", "dave"]),
        ("startswith", plain("UserPrincipalName|startswith", "'b'"), vec!["bob"]),
        ("endswith", plain("UserPrincipalName|endswith", "'@CONTOSO.com'"), vec!["alice", "bob", "carol", "dave"]),
        ("all", plain("ResultDescription|contains|all", "['strong', 'failed']"), vec!["dave"]),
        ("any of a list", plain("ResultType", "['50126', '0']"), vec!["alice", "bob"]),
        ("wildcards", plain("UserAgent", "'python*'"), vec!["alice"]),
        ("single wildcard", plain("ResultType", "'5007?'"), vec!["carol"]),
        ("a wildcard kept literal", plain("UserAgent", "'python\\*'"), vec![]),
        ("integer against text", plain("ResultType", "50074"), vec!["carol"]),
        ("re", plain("UserAgent|re", "'^Mozilla/\\d'"), vec!["bob"]),
        ("re is cased", plain("UserAgent|re", "'^mozilla'"), vec![]),
        ("re with i", plain("UserAgent|re|i", "'^mozilla'"), vec!["bob"]),
        ("cidr v4", plain("IPAddress|cidr", "'10.0.0.0/8'"), vec!["alice", "dave"]),
        ("cidr v6", plain("IPAddress|cidr", "'2001:db8::/32'"), vec!["carol"]),
        ("base64", plain("UserAgent|base64|contains", "'http://evil.example'"), vec!["dave"]),
        ("base64offset", plain("UserAgent|base64offset|contains", "'http://'"), vec!["dave"]),
        ("windash", plain("UserAgent|windash|contains", "' -enc '"), vec!["carol"]),
        ("exists", plain("ResultDescription|exists", "true"), vec!["alice", "carol", "dave"]),
        ("exists false", plain("ResultDescription|exists", "false"), vec!["bob"]),
        ("absent field exists false", plain("NoSuchField|exists", "false"), vec!["alice", "bob", "carol", "dave"]),
        ("a null value", plain("ResultDescription", "null"), vec!["bob"]),
        ("gte into JSON", plain("Status.errorCode|gte", "50100"), vec!["alice", "dave"]),
        ("lt", plain("Status.errorCode|lt", "1"), vec!["bob"]),
        ("JSON path contains", plain("Status.failureReason|contains", "'password'"), vec!["alice"]),
        ("fieldref", plain("AppDisplayName|fieldref", "ResourceDisplayName"), vec!["bob", "dave"]),
        (
            "one of, not",
            "    selection_net:\n        IPAddress|cidr: '10.0.0.0/8'\n    selection_ok:\n        ResultType: '0'\n    filter:\n        UserPrincipalName|startswith: 'd'\n    condition: 1 of selection_* and not filter".into(),
            vec!["alice", "bob"],
        ),
        (
            "not on a missing field",
            "    selection:\n        UserPrincipalName|endswith: '@contoso.com'\n    filter:\n        ResultDescription|contains: 'password'\n    condition: selection and not filter".into(),
            vec!["bob", "carol", "dave"],
        ),
        (
            "all of",
            "    selection_domain:\n        UserPrincipalName|endswith: '@contoso.com'\n    selection_ok:\n        ResultType: '0'\n    condition: all of selection_*".into(),
            vec!["bob"],
        ),
        (
            "list of maps",
            "    selection:\n        - ResultType: '50126'\n        - AppDisplayName: 'Office 365'\n    condition: selection".into(),
            vec!["alice", "carol"],
        ),
        ("keywords", "    keywords:\n        - 'PYTHON-requests'\n    condition: keywords".into(), vec!["alice"]),
    ]
}

/// The sign-ins ingested into a case of their own.
fn sign_in_case() -> (Account, tempfile::TempDir) {
    let account = Account::new();
    account.put(&la_blob("SigninLogs", "PT05M.json"), SIGN_INS.as_bytes());
    let case = tempfile::tempdir().expect("case");
    ingest_dir(account.path(), case.path());
    (account, case)
}

fn sigma_json(case: &Path, rules: &Path) -> (i32, Value, String) {
    let (code, stdout, stderr) = run(bin()
        .arg("sigma")
        .arg(rules)
        .arg("--case")
        .arg(case)
        .args(["--format", "json"]));
    let json = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));
    (code, json, stderr)
}

fn people(report: &Value, title: &str) -> BTreeSet<String> {
    report["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .filter(|h| h["rule"] == title)
        .map(|h| {
            h["identity"]
                .as_str()
                .expect("identity")
                .split('@')
                .next()
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

#[test]
fn every_modifier_matches_what_it_must_and_nothing_else() {
    let (_account, case) = sign_in_case();
    let rules = tempfile::tempdir().expect("rules");
    for (i, (title, detection, _)) in cases().iter().enumerate() {
        std::fs::write(
            rules.path().join(format!("{i:02}.yml")),
            rule(title, detection),
        )
        .expect("rule");
    }
    let (code, report, stderr) = sigma_json(case.path(), rules.path());
    assert_eq!(code, 0, "{stderr}\n{report:#}");
    let outcomes: BTreeMap<String, String> = report["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .map(|r| {
            (
                r["title"].as_str().expect("title").to_string(),
                r["state"].as_str().expect("state").to_string(),
            )
        })
        .collect();
    for (title, _, expected) in cases() {
        assert_eq!(
            outcomes.get(title).map(String::as_str),
            Some("ran"),
            "{title}: {report:#}"
        );
        let expected: BTreeSet<String> = expected.iter().map(|s| s.to_string()).collect();
        assert_eq!(people(&report, title), expected, "{title}");
    }
    // Every hit cites its evidence: the blob, its line and the blob's SHA-256 from the manifest.
    let hit = &report["hits"][0];
    assert!(
        hit["blob"]
            .as_str()
            .expect("blob")
            .starts_with("am-signinlogs/")
    );
    assert!(hit["line"].as_i64().expect("line") >= 1);
    assert_eq!(hit["blob_sha256"].as_str().expect("sha").len(), 64);
}

#[test]
fn hostile_and_unsupported_rules_are_refused_by_name_and_the_rest_run() {
    let (_account, case) = sign_in_case();
    let rules = tempfile::tempdir().expect("rules");
    let write =
        |name: &str, text: &str| std::fs::write(rules.path().join(name), text).expect("rule");
    write(
        "good.yml",
        &rule(
            "Good",
            "    selection:\n        ResultType: '0'\n    condition: selection",
        ),
    );
    write(
        "field.yml",
        &rule(
            "Unknown field",
            "    selection:\n        NoSuchField: 'x'\n    condition: selection",
        ),
    );
    write(
        "source.yml",
        &rule(
            "Activity",
            "    selection:\n        OperationName: 'x'\n    condition: selection",
        )
        .replace("service: signinlogs", "service: activitylogs"),
    );
    write(
        "aggregation.yml",
        &rule(
            "Aggregation",
            "    selection:\n        ResultType: '50126'\n    condition: selection | count(UserPrincipalName) by IPAddress > 3\n    timeframe: 10m",
        ),
    );
    write(
        "badregex.yml",
        &rule(
            "Bad regex",
            "    selection:\n        UserAgent|re: '(['\n    condition: selection",
        ),
    );
    write(
        "slowregex.yml",
        &rule(
            "Catastrophic regex",
            "    selection:\n        UserAgent|re: '(a+)+$'\n    condition: selection",
        ),
    );
    write(
        "windash.yml",
        &rule(
            "Too many dashes",
            "    selection:\n        UserAgent|windash: ' -a -b -c -d -e'\n    condition: selection",
        ),
    );
    write("big.yml", &"# padding\n".repeat(120_000));
    // Billion laughs: aliases that would expand to a billion strings.
    let mut bomb = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for (name, previous) in ["b", "c", "d", "e", "f", "g", "h", "i"]
        .iter()
        .zip(["a", "b", "c", "d", "e", "f", "g", "h"])
    {
        bomb.push_str(&format!("{name}: &{name} [*{previous},*{previous},*{previous},*{previous},*{previous},*{previous},*{previous},*{previous},*{previous}]\n"));
    }
    write("bomb.yml", &bomb);
    write("notyaml.yml", "title: [unclosed\n");
    let (code, report, stderr) = sigma_json(case.path(), rules.path());
    assert_eq!(code, 3, "some rules could not run: {stderr}");
    let by_file: BTreeMap<String, (String, String)> = report["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .map(|r| {
            (
                Path::new(r["path"].as_str().expect("path"))
                    .file_name()
                    .expect("name")
                    .to_string_lossy()
                    .into_owned(),
                (
                    r["state"].as_str().expect("state").to_string(),
                    r["reason"].as_str().unwrap_or_default().to_string(),
                ),
            )
        })
        .collect();
    let refused = |file: &str, reason: &str| {
        let (state, why) = by_file
            .get(file)
            .unwrap_or_else(|| panic!("{file} reported: {by_file:?}"));
        assert_eq!(state, "refused", "{file}: {why}");
        assert!(why.contains(reason), "{file}: {why}");
    };
    refused("field.yml", "NoSuchField");
    refused("source.yml", "activitylogs");
    refused("aggregation.yml", "");
    refused("badregex.yml", "does not compile");
    refused("windash.yml", "spellings");
    refused("big.yml", "larger than a rule file");
    refused("bomb.yml", "");
    refused("notyaml.yml", "");
    assert_eq!(by_file["good.yml"].0, "ran");
    assert_eq!(people(&report, "Good"), BTreeSet::from(["bob".to_string()]));
    // The regex engine is linear: a pattern that backtracks for ever elsewhere runs and matches nothing.
    assert_eq!(by_file["slowregex.yml"].0, "ran");
}

#[test]
fn the_mcp_pack_runs_on_the_sample_and_agrees_with_sql() {
    let case = sample_case();
    let (code, report, stderr) = sigma_json(&case, &root().join("rules/mcp"));
    assert_eq!(code, 0, "{stderr}");
    for rule in report["rules"].as_array().expect("rules") {
        assert_eq!(rule["state"], "ran", "{rule}");
        assert!(
            rule["id"].is_string() && rule["level"].is_string(),
            "{rule}"
        );
        assert!(
            rule["tags"]
                .as_array()
                .expect("tags")
                .iter()
                .any(|t| t.as_str().is_some_and(|t| t.starts_with("attack.t"))),
            "an ATT&CK technique: {rule}"
        );
    }
    let count = |title: &str| {
        report["hits"]
            .as_array()
            .expect("hits")
            .iter()
            .filter(|h| h["rule"] == title)
            .count() as i64
    };
    assert_eq!(
        count("MCP Tool Called Without an Identity"),
        scalar(
            &case,
            "SELECT count(*) FROM tool_calls WHERE \"user\" = '(anonymous)'"
        )
    );
    assert_eq!(
        count("MCP Tool Answered With an Oversized Response"),
        scalar(
            &case,
            "SELECT count(*) FROM tool_calls WHERE response_bytes >= 1000000"
        )
    );
    // Calls at an hour the identity never kept in the 28 days before: the attacker's first
    // night at Bob's account, and no one else.
    let outside = hits_of(&report, "MCP Tool Called Outside the Identity's Hours");
    assert_eq!(
        outside.len() as i64,
        scalar(
            &case,
            "SELECT count(*) FROM tool_call_hours WHERE user_days_before >= 7 AND user_days_at_hour = 0"
        )
    );
    assert!(!outside.is_empty());
    assert!(
        outside
            .iter()
            .all(|h| h["identity"] == "bob.keller@contoso.com"),
        "{outside:?}"
    );
    // Read then sent out in one session: one hit per session in which a read precedes a
    // sending call within the hour (SQL below), every one the attacker's at Bob's account; the
    // colleagues who fetch web pages or export for the quarter do not read then send in a session.
    let read_then_sent = hits_of(&report, READ_THEN_SENT);
    assert_eq!(
        read_then_sent.len() as i64,
        read_then_sent_sessions(&case, None)
    );
    assert!(read_then_sent.len() >= 10, "{read_then_sent:?}");
    assert!(
        read_then_sent
            .iter()
            .all(|h| h["identity"] == "bob.keller@contoso.com"),
        "{read_then_sent:?}"
    );
    // The attacker registering security info right after the spray: one record, Bob's.
    let registered: Vec<&Value> = hits_of(&report, "Security Info Registered for an Account");
    assert_eq!(registered.len(), 1);
    assert!(
        registered[0]["time"]
            .as_str()
            .expect("time")
            .starts_with("2026-09-30T03:")
    );
    // The spray: one correlation hit, on the attacker's address, with no single identity; the
    // office's address, where eleven people mistyped over a month, is not a spray.
    let sprays: Vec<&Value> = hits_of(&report, "Password Spray From One Address");
    assert_eq!(sprays.len(), 1, "{sprays:?}");
    assert_eq!(sprays[0]["address"], "185.220.101.47");
    assert!(sprays[0]["identity"].is_null());
    assert!(sprays[0]["correlated"].as_array().expect("records").len() >= 10);
    // The failures it reads are not listed on their own.
    assert_eq!(count("Failed Password Sign-in"), 0);
    // The spray found a password: a burst (a correlation) then a success from its address within
    // the hour, a correlation of a correlation, at the spray's success, citing the burst's
    // failures and the success.
    let found: Vec<&Value> = hits_of(
        &report,
        "Successful Sign-in After a Password Spray From the Same Address",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["address"], "185.220.101.47");
    assert!(
        found[0]["time"]
            .as_str()
            .is_some_and(|t| t.starts_with("2026-09-30T03:0"))
    );
    assert!(found[0]["correlated"].as_array().expect("records").len() >= 6);
    assert_eq!(
        count("Password Spray Burst (for the spray-then-success chain)"),
        0,
        "the burst it reads is not listed on its own"
    );
    // The hit's hash is the blob's: read back from the sample account.
    let blob = registered[0]["blob"].as_str().expect("blob");
    let bytes = std::fs::read(sample_account().join(blob)).expect("blob");
    use sha2::Digest;
    assert_eq!(
        registered[0]["blob_sha256"].as_str().expect("sha"),
        hex::encode(sha2::Sha256::digest(&bytes))
    );
    // --since narrows the records, and the CSV is the same hits.
    let (code, csv, _) = run(bin()
        .args([
            "sigma",
            "--since",
            "2026-10-10",
            "--format",
            "csv",
            "--case",
        ])
        .arg(&case)
        .arg(root().join("rules/mcp")));
    assert_eq!(code, 0);
    assert!(
        csv.lines()
            .skip(1)
            .all(|l| l.split(',').next().is_some_and(|t| t >= "2026-10-10")),
        "{csv}"
    );
}

/// Sign-ins for the correlations: a spray (six people failing from one address in three minutes,
/// then one success from it), an office colleague who signed in and later mistyped twice, and a
/// slow guesser whose five failures are twenty minutes apart.
fn spray_sign_ins() -> String {
    let mut lines = Vec::new();
    let mut push = |time: &str, user: &str, address: &str, result: &str| {
        lines.push(format!(
            r#"{{"TimeGenerated":"{time}","Id":"{time}{user}","UserPrincipalName":"{user}@contoso.com","IPAddress":"{address}","ResultType":"{result}","AppDisplayName":"Azure Portal","Type":"SigninLogs"}}"#
        ));
    };
    push("2026-10-01T02:00:00Z", "alice", "203.0.113.10", "0");
    push("2026-10-01T02:30:00Z", "alice", "203.0.113.10", "50126");
    push("2026-10-01T02:31:00Z", "alice", "203.0.113.10", "50126");
    for (i, user) in ["u1", "u2", "u3", "u4", "u5", "u6"].iter().enumerate() {
        push(
            &format!("2026-10-01T03:0{}:{:02}Z", i / 2, (i % 2) * 30),
            user,
            "185.220.101.47",
            "50126",
        );
    }
    push("2026-10-01T03:05:00Z", "u3", "185.220.101.47", "0");
    for i in 0..5 {
        push(
            &format!(
                "2026-10-01T{:02}:{:02}:00Z",
                4 + (i * 20) / 60,
                (i * 20) % 60
            ),
            "carol",
            "198.51.100.7",
            "50126",
        );
    }
    lines.join("\n") + "\n"
}

/// The MCP pack's read-then-sent correlation.
const READ_THEN_SENT: &str = "MCP Records Read Then Sent Out in One Session";

/// A rule's hits in a `sigma --format json` report.
fn hits_of<'r>(report: &'r Value, title: &str) -> Vec<&'r Value> {
    report["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .filter(|h| h["rule"] == title)
        .collect()
}

/// The sessions (identity and session id) in which a read tool precedes, within the hour, a call
/// that sends records out as `rules/mcp/mcp_read_then_export.yml` defines it, counted with SQL;
/// of `user` only when given.
fn read_then_sent_sessions(case: &Path, user: Option<&str>) -> i64 {
    let sent = "e.tool ILIKE '%export%' OR e.tool ILIKE '%upload%' OR e.tool ILIKE '%share%' OR e.tool ILIKE '%send%' OR e.tool ILIKE '%push%' \
        OR e.arguments ILIKE '%\"deliver_to\"%' OR e.arguments ILIKE '%\"webhook%' OR e.arguments ILIKE '%\"callback_url\"%' OR e.arguments ILIKE '%\"upload_url\"%' \
        OR (e.arguments ILIKE '%\"method\"%' AND e.arguments ILIKE '%POST%' AND e.arguments ILIKE '%http%')";
    let read = "r.tool ILIKE 'search%' OR r.tool ILIKE 'list%' OR r.tool ILIKE 'get%' OR r.tool ILIKE 'query%' OR r.tool ILIKE 'read%' OR r.tool ILIKE 'find%'";
    let who = user.map_or(String::new(), |u| format!("AND e.\"user\" = '{u}'"));
    scalar(
        case,
        &format!(
            "SELECT count(DISTINCT e.\"user\" || '/' || coalesce(e.session_id, '')) FROM tool_calls e JOIN tool_calls r ON coalesce(r.session_id, '') = coalesce(e.session_id, '') AND r.\"user\" = e.\"user\" WHERE ({sent}) AND ({read}) AND r.time <= e.time AND e.time <= r.time + INTERVAL '1 hour' {who}"
        ),
    )
}

/// An AI agent's ordinary sessions read records and then fetch web pages (`fetch_url`, a GET):
/// not sending. On a generated tenant where the agent is also hijacked into posting customers to a
/// relay, read-then-sent names the attacker's sessions and the agent's hijacked ones only.
#[test]
fn read_then_sent_leaves_an_agents_ordinary_fetches_alone() {
    let scenario = mcpforensics::sample::Scenario::new(
        305,
        0.3,
        chrono::NaiveDate::from_ymd_opt(2026, 9, 1).expect("date"),
        30,
    )
    .with_story(mcpforensics::sample::Story::Mixed);
    let account = Account::new();
    scenario.write(account.path()).expect("generate");
    let case = tempfile::tempdir().expect("case");
    ingest_dir(account.path(), case.path());
    let (code, report, stderr) = sigma_json(case.path(), &root().join("rules/mcp"));
    assert_eq!(code, 0, "{stderr}");
    let hits = hits_of(&report, READ_THEN_SENT);
    let agent = "crm-triage-agent";
    let by_agent = hits.iter().filter(|h| h["identity"] == agent).count() as i64;
    assert_eq!(by_agent, read_then_sent_sessions(case.path(), Some(agent)));
    assert!(by_agent >= 1, "the hijacked posts are found: {hits:?}");
    let fetched_after_reading = scalar(
        case.path(),
        &format!(
            "SELECT count(DISTINCT coalesce(e.session_id, '') || CAST(date_trunc('hour', e.time) AS VARCHAR)) FROM tool_calls e JOIN tool_calls r ON coalesce(r.session_id, '') = coalesce(e.session_id, '') AND r.\"user\" = e.\"user\" \
             WHERE e.\"user\" = '{agent}' AND e.tool = 'fetch_url' AND r.tool ILIKE 'get%' AND r.time <= e.time AND e.time <= r.time + INTERVAL '1 hour'"
        ),
    );
    assert!(
        fetched_after_reading > 3 * by_agent,
        "the look-alike is common ({fetched_after_reading} reads then fetches) and not hit ({by_agent})"
    );
    let truth = serde_json::to_value(scenario.truth()).expect("truth");
    let named: BTreeSet<&str> = ["compromised_users", "compromised_unseen_users"]
        .iter()
        .flat_map(|list| truth[*list].as_array().expect("list"))
        .filter_map(|u| u["upn"].as_str())
        .collect();
    assert!(
        hits.iter()
            .all(|h| h["identity"].as_str().is_some_and(|i| named.contains(i))),
        "only the attacker's and the hijacked agent's sessions: {hits:?}"
    );
}

/// The groups a rule's hits name (`correlation <field>=<value>` for correlations).
fn groups_of(report: &Value, title: &str) -> BTreeSet<String> {
    report["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .filter(|h| h["rule"] == title)
        .map(|h| h["table"].as_str().expect("table").to_string())
        .collect()
}

#[test]
fn correlations_group_count_and_order_the_records_their_rules_matched() {
    let account = Account::new();
    account.put(
        &la_blob("SigninLogs", "PT05M.json"),
        spray_sign_ins().as_bytes(),
    );
    let case = tempfile::tempdir().expect("case");
    ingest_dir(account.path(), case.path());
    let rules = tempfile::tempdir().expect("rules");
    let base = |title: &str, name: &str, result: &str| {
        rule(
            title,
            &format!("    selection:\n        ResultType: '{result}'\n    condition: selection"),
        )
        .replace("status: test", &format!("name: {name}\nstatus: test"))
    };
    let correlation = |title: &str, body: &str| {
        format!("title: {title}\nstatus: test\nlevel: high\ncorrelation:\n{body}\n")
    };
    let write =
        |name: &str, text: &str| std::fs::write(rules.path().join(name), text).expect("rule");
    write(
        "failed.yml",
        &base("Failed sign-in", "failed_signin", "50126"),
    );
    write("ok.yml", &base("Successful sign-in", "ok_signin", "0"));
    write(
        "count.yml",
        &correlation(
            "Burst of failures",
            "    type: event_count\n    rules:\n        - failed_signin\n    group-by:\n        - IPAddress\n    timespan: 10m\n    condition:\n        gte: 5",
        ),
    );
    write(
        "distinct.yml",
        &correlation(
            "Many people from one address",
            "    type: value_count\n    rules:\n        - failed_signin\n    group-by:\n        - IPAddress\n    timespan: 10m\n    condition:\n        gte: 4\n        field: UserPrincipalName",
        ),
    );
    write(
        "temporal.yml",
        &correlation(
            "Failure and success near each other",
            "    type: temporal\n    rules:\n        - failed_signin\n        - ok_signin\n    group-by:\n        - IPAddress\n    timespan: 1h",
        ),
    );
    write(
        "ordered.yml",
        &correlation(
            "Failures then a success",
            "    type: temporal_ordered\n    rules:\n        - failed_signin\n        - ok_signin\n    group-by:\n        - IPAddress\n    timespan: 1h",
        ),
    );
    write(
        "all.yml",
        &correlation(
            "All failures",
            "    type: event_count\n    rules:\n        - failed_signin\n    timespan: 1d\n    condition:\n        gte: 13",
        ),
    );
    write(
        "sum.yml",
        &correlation(
            "Sum",
            "    type: value_sum\n    rules:\n        - failed_signin\n    group-by:\n        - IPAddress\n    timespan: 1h\n    condition:\n        gte: 250630\n        field: ResultType",
        ),
    );
    write(
        "tumbling.yml",
        &correlation(
            "Failures in one clock hour",
            "    type: event_count\n    rules:\n        - failed_signin\n    group-by:\n        - IPAddress\n    timespan: 1h\n    window: tumbling\n    condition:\n        gte: 4",
        ),
    );
    write(
        "sliding_hour.yml",
        &correlation(
            "Failures within an hour",
            "    type: event_count\n    rules:\n        - failed_signin\n    group-by:\n        - IPAddress\n    timespan: 1h\n    condition:\n        gte: 4",
        ),
    );
    write(
        "session.yml",
        &correlation(
            "A session of failures",
            "    type: event_count\n    rules:\n        - failed_signin\n    group-by:\n        - IPAddress\n    timespan: 1d\n    window: session\n    gap: 30m\n    condition:\n        gte: 5",
        ),
    );
    write(
        "extended.yml",
        &correlation(
            "Failures never followed by a success",
            "    type: temporal\n    rules:\n        - failed_signin\n        - ok_signin\n    group-by:\n        - IPAddress\n    timespan: 10m\n    condition: failed_signin and not ok_signin",
        ),
    );
    write(
        "median.yml",
        &correlation(
            "Median",
            "    type: value_median\n    rules:\n        - failed_signin\n    group-by:\n        - IPAddress\n    timespan: 1h\n    condition:\n        gte: 1\n        field: ResultType",
        ),
    );
    write(
        "fieldless.yml",
        &correlation(
            "Average of nothing",
            "    type: value_avg\n    rules:\n        - failed_signin\n    timespan: 1h\n    condition:\n        gte: 1",
        ),
    );
    write(
        "missing.yml",
        &correlation(
            "Missing rule",
            "    type: event_count\n    rules:\n        - no_such_rule\n    timespan: 1h\n    condition:\n        gte: 1",
        ),
    );
    let (code, report, stderr) = sigma_json(case.path(), rules.path());
    assert_eq!(code, 3, "two correlations are refused: {stderr}");
    // Five failures' codes (5 x 50126) within the hour: only the spray's six reach them; the
    // colleague's two and the slow guesser's four an hour do not.
    let spray_only = BTreeSet::from(["correlation IPAddress=185.220.101.47".to_string()]);
    assert_eq!(groups_of(&report, "Sum"), spray_only, "{report:#}");
    // Window modes: the slow guesser's failures, twenty minutes apart, are four within an hour
    // but never four in one clock hour; as a session (no silence over thirty minutes) all five.
    let carol = "correlation IPAddress=198.51.100.7".to_string();
    let alice = "correlation IPAddress=203.0.113.10".to_string();
    assert_eq!(groups_of(&report, "Failures in one clock hour"), spray_only);
    assert_eq!(
        groups_of(&report, "Failures within an hour"),
        BTreeSet::from([
            spray_only.iter().next().expect("spray").clone(),
            carol.clone()
        ])
    );
    assert_eq!(
        groups_of(&report, "A session of failures"),
        BTreeSet::from([
            spray_only.iter().next().expect("spray").clone(),
            carol.clone()
        ])
    );
    // An extended condition: failures with no success within ten minutes; the spray's success
    // three minutes after its failures excludes it.
    assert_eq!(
        groups_of(&report, "Failures never followed by a success"),
        BTreeSet::from([carol, alice])
    );
    // Every failure's code is a number: each address with failures has a median.
    assert_eq!(groups_of(&report, "Median").len(), 3, "{report:#}");
    let groups = |title: &str| groups_of(&report, title);
    let spray = BTreeSet::from(["correlation IPAddress=185.220.101.47".to_string()]);
    // The slow guesser's five failures never fall within ten minutes; the colleague's two are few.
    assert_eq!(groups("Burst of failures"), spray, "{report:#}");
    assert_eq!(groups("Many people from one address"), spray);
    // Unordered, the colleague's success then mistakes count; in order, only the spray does.
    assert_eq!(
        groups("Failure and success near each other"),
        BTreeSet::from([
            "correlation IPAddress=185.220.101.47".to_string(),
            "correlation IPAddress=203.0.113.10".to_string(),
        ])
    );
    assert_eq!(groups("Failures then a success"), spray, "{report:#}");
    // A correlation hit cites every record it correlated.
    let burst = report["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .find(|h| h["rule"] == "Burst of failures")
        .expect("burst");
    let cited = burst["correlated"].as_array().expect("correlated");
    assert!(cited.len() >= 5, "{burst}");
    assert!(
        cited
            .iter()
            .all(|c| c.as_str().is_some_and(|c| c.contains("am-signinlogs/"))),
        "{burst}"
    );
    let state = |title: &str| {
        report["rules"]
            .as_array()
            .expect("rules")
            .iter()
            .find(|r| r["title"] == title)
            .map(|r| {
                (
                    r["state"].as_str().unwrap_or_default().to_string(),
                    r["reason"].as_str().unwrap_or_default().to_string(),
                )
            })
            .unwrap_or_else(|| panic!("{title}: {report:#}"))
    };
    // The rules correlations read are not listed on their own (`generate: false`, the default).
    let (failed, why) = state("Failed sign-in");
    assert_eq!(failed, "ran");
    assert!(why.contains("generate"), "{why}");
    assert!(groups("Failed sign-in").is_empty());
    // Without group-by, a correlation counts every record: thirteen failures in all.
    assert_eq!(groups("All failures").len(), 1, "{report:#}");
    let (fieldless, why) = state("Average of nothing");
    assert_eq!(fieldless, "refused");
    assert!(why.contains("value_avg") && why.contains("field"), "{why}");
    let (missing, why) = state("Missing rule");
    assert_eq!(missing, "refused");
    assert!(why.contains("no_such_rule"), "{why}");
}

#[test]
fn a_correlation_reads_another_correlations_hits() {
    let account = Account::new();
    account.put(
        &la_blob("SigninLogs", "PT05M.json"),
        spray_sign_ins().as_bytes(),
    );
    let case = tempfile::tempdir().expect("case");
    ingest_dir(account.path(), case.path());
    let rules = tempfile::tempdir().expect("rules");
    let write =
        |name: &str, text: &str| std::fs::write(rules.path().join(name), text).expect("rule");
    let base = |title: &str, name: &str, result: &str| {
        rule(
            title,
            &format!("    selection:\n        ResultType: '{result}'\n    condition: selection"),
        )
        .replace("status: test", &format!("name: {name}\nstatus: test"))
    };
    let correlation = |title: &str, name: &str, body: &str| {
        format!("title: {title}\nname: {name}\nstatus: test\nlevel: high\ncorrelation:\n{body}\n")
    };
    write(
        "failed.yml",
        &base("Failed sign-in", "failed_signin", "50126"),
    );
    write("ok.yml", &base("Successful sign-in", "ok_signin", "0"));
    // Three failures from one address within ten minutes: the spray's six (two and a half
    // minutes); never the colleague's two, nor the slow guesser's, twenty minutes apart.
    write(
        "burst.yml",
        &correlation(
            "Burst of failures",
            "failure_burst",
            "    type: event_count\n    rules:\n        - failed_signin\n    group-by:\n        - IPAddress\n    timespan: 10m\n    condition:\n        gte: 3",
        ),
    );
    // The burst's hits carry its group-by value, so a correlation of it groups by the address.
    write(
        "chained.yml",
        &correlation(
            "A burst then a success",
            "burst_then_success",
            "    type: temporal_ordered\n    rules:\n        - failure_burst\n        - ok_signin\n    group-by:\n        - IPAddress\n    timespan: 1h",
        ),
    );
    write(
        "one_burst.yml",
        &correlation(
            "One burst in the day",
            "one_burst",
            "    type: event_count\n    rules:\n        - failure_burst\n    timespan: 1d\n    condition:\n        gte: 1",
        ),
    );
    write(
        "two_bursts.yml",
        &correlation(
            "Two bursts in the day",
            "two_bursts",
            "    type: event_count\n    rules:\n        - failure_burst\n    timespan: 1d\n    condition:\n        gte: 2",
        ),
    );
    write(
        "loop.yml",
        &format!(
            "{}---\n{}",
            correlation(
                "Loop one",
                "loop_one",
                "    type: event_count\n    rules:\n        - loop_two\n    timespan: 1d\n    condition:\n        gte: 1",
            ),
            correlation(
                "Loop two",
                "loop_two",
                "    type: event_count\n    rules:\n        - loop_one\n    timespan: 1d\n    condition:\n        gte: 1",
            )
        ),
    );
    let (code, report, stderr) = sigma_json(case.path(), rules.path());
    assert_eq!(code, 3, "the loop is refused: {stderr}");
    let spray = BTreeSet::from(["correlation IPAddress=185.220.101.47".to_string()]);
    assert_eq!(
        groups_of(&report, "A burst then a success"),
        spray,
        "{report:#}"
    );
    assert_eq!(
        groups_of(&report, "One burst in the day").len(),
        1,
        "{report:#}"
    );
    assert!(
        groups_of(&report, "Two bursts in the day").is_empty(),
        "{report:#}"
    );
    // The burst feeds correlations without `generate`: not listed on its own.
    assert!(
        groups_of(&report, "Burst of failures").is_empty(),
        "{report:#}"
    );
    // A chained hit cites the records under the hits it read: the six failures and the success.
    let chained = hits_of(&report, "A burst then a success");
    let cited = chained[0]["correlated"].as_array().expect("correlated");
    assert_eq!(cited.len(), 7, "{:#}", chained[0]);
    assert!(
        cited
            .iter()
            .all(|c| c.as_str().is_some_and(|c| c.contains("am-signinlogs/"))),
        "{:#}",
        chained[0]
    );
    for title in ["Loop one", "Loop two"] {
        let summary = report["rules"]
            .as_array()
            .expect("rules")
            .iter()
            .find(|r| r["title"] == title)
            .expect("loop rule");
        assert_eq!(summary["state"], "refused", "{summary}");
        assert!(
            summary["reason"]
                .as_str()
                .unwrap_or_default()
                .contains("loop"),
            "{summary}"
        );
    }
}

/// Tool calls as one App Insights row each (`tools/call`, the caller in `enduser.id`).
fn tool_call_row(time: &str, user: Option<&str>, tool: &str) -> String {
    let mut properties = serde_json::json!({"mcp.method.name": "tools/call", "gen_ai.tool.name": tool,
        "client.address": "10.0.3.4"});
    if let Some(user) = user {
        properties["enduser.id"] = user.into();
    }
    serde_json::json!({"TimeGenerated": time, "Id": format!("span-{time}-{}", user.unwrap_or("anon")),
        "OperationId": format!("op-{time}-{}", user.unwrap_or("anon")), "Name": format!("tools/call {tool}"),
        "ClientIP": "0.0.0.0", "AppRoleName": "mcp-crm", "Properties": properties})
    .to_string()
        + "\n"
}

#[test]
fn the_pack_finds_calls_outside_an_identitys_hours_and_a_changed_tool_list() {
    let account = Account::new();
    let mut calls = String::new();
    let day = |d: u32, hour: u32, minute: u32| format!("2026-10-{d:02}T{hour:02}:{minute:02}:00Z");
    for d in 1..=14 {
        // Bob and Carol work days, 09:00 to 17:00.
        for hour in [9, 12, 16] {
            calls += &tool_call_row(&day(d, hour, 15), Some("bob@contoso.com"), "get_customer");
            calls += &tool_call_row(&day(d, hour, 20), Some("carol@contoso.com"), "get_customer");
        }
        calls += &tool_call_row(&day(d, 17, 5), Some("carol@contoso.com"), "get_customer");
        // An agent calls around the clock.
        for hour in (0..24).step_by(2) {
            calls += &tool_call_row(
                &day(d, hour, 40),
                Some("agent-sync@contoso.com"),
                "list_orders",
            );
        }
    }
    // Dave is new: three days of work days.
    for d in 12..=14 {
        calls += &tool_call_row(&day(d, 10, 0), Some("dave@contoso.com"), "get_customer");
    }
    // The 15th: Bob's account at three in the night (the one hit); Carol working late, an hour
    // after her usual last hour; Dave at night, too new to judge; the agent at night, as ever;
    // an anonymous call at night, without habits; Bob at his usual hour.
    calls += &tool_call_row(&day(15, 3, 10), Some("bob@contoso.com"), "export_customers");
    calls += &tool_call_row(&day(15, 18, 30), Some("carol@contoso.com"), "get_customer");
    calls += &tool_call_row(&day(15, 3, 0), Some("dave@contoso.com"), "get_customer");
    calls += &tool_call_row(
        &day(15, 3, 40),
        Some("agent-sync@contoso.com"),
        "list_orders",
    );
    calls += &tool_call_row(&day(15, 3, 50), None, "get_customer");
    calls += &tool_call_row(&day(15, 10, 15), Some("bob@contoso.com"), "get_customer");
    account.put(&la_blob("AppRequests", "PT05M.json"), calls.as_bytes());
    // The server's own span of a notification it sent, named by its method alone (no target).
    account.put(
        &la_blob("AppDependencies", "PT05M.json"),
        (serde_json::json!({"TimeGenerated": "2026-10-09T11:00:00Z", "Id": "span-notify", "OperationId": "op-notify",
            "Name": "notifications/tools/list_changed", "AppRoleName": "mcp-crm", "Type": "AppDependencies",
            "DependencyType": "InProc", "Success": true})
        .to_string()
            + "\n")
            .as_bytes(),
    );
    // tools/list through API Management: mcp-crm lists 12 tools in two sessions, then 13 in a
    // third (a tool added unannounced); mcp-docs lists 5 in every session.
    let listed = |time: &str, session: &str, server: &str, count: i64| {
        serde_json::json!({"TimeGenerated": time, "CorrelationId": format!("c-{session}-{server}"), "SessionId": session,
            "Method": "tools/list", "ToolCount": count, "ServerName": server, "Type": "ApiManagementGatewayMCPLog"})
        .to_string()
            + "\n"
    };
    account.put(
        &la_blob("ApiManagementGatewayMCPLog", "PT05M.json"),
        (listed("2026-10-02T09:00:00Z", "s-1", "mcp-crm", 12)
            + &listed("2026-10-03T09:00:00Z", "s-2", "mcp-crm", 12)
            + &listed("2026-10-05T09:00:00Z", "s-3", "mcp-crm", 13)
            + &listed("2026-10-02T09:30:00Z", "s-4", "mcp-docs", 5)
            + &listed("2026-10-04T09:30:00Z", "s-5", "mcp-docs", 5)
            + &listed("2026-10-06T09:30:00Z", "s-6", "mcp-docs", 5))
            .as_bytes(),
    );
    let case = tempfile::tempdir().expect("case");
    ingest_dir(account.path(), case.path());
    let (code, report, stderr) = sigma_json(case.path(), &root().join("rules/mcp"));
    assert_eq!(code, 0, "{stderr}");
    let outside = hits_of(&report, "MCP Tool Called Outside the Identity's Hours");
    let found: Vec<(&str, &str)> = outside
        .iter()
        .map(|h| {
            (
                h["identity"].as_str().unwrap_or_default(),
                h["time"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        found,
        vec![("bob@contoso.com", "2026-10-15T03:10:00Z")],
        "{report:#}"
    );
    let announced = hits_of(&report, "MCP Server Announced a Changed Tool List");
    assert_eq!(announced.len(), 1, "{report:#}");
    assert!(
        announced[0]["blob"]
            .as_str()
            .is_some_and(|b| b.contains("am-appdependencies/")),
        "{:#}",
        announced[0]
    );
    assert_eq!(
        groups_of(&report, "MCP Tool List Changed Between Sessions"),
        BTreeSet::from(["correlation Server=mcp-crm".to_string()]),
        "{report:#}"
    );
    let changed = hits_of(&report, "MCP Tool List Changed Between Sessions");
    assert_eq!(
        changed[0]["correlated"].as_array().expect("records").len(),
        3,
        "{:#}",
        changed[0]
    );
}

#[test]
fn a_case_keeps_its_own_log_source_map_and_a_given_one_wins() {
    let (account, case) = sign_in_case();
    let rules = tempfile::tempdir().expect("rules");
    // A tenant's own field name for the sign-in's user, which the built-in map does not know.
    std::fs::write(
        rules.path().join("who.yml"),
        rule(
            "Bob by the tenant's name",
            "    selection:\n        Who|startswith: 'bob'\n    condition: selection",
        ),
    )
    .expect("rule");
    let (code, report, _) = sigma_json(case.path(), rules.path());
    assert_eq!(code, 3, "{report:#}");
    assert_eq!(report["rules"][0]["state"], "refused");
    let map = |field: &str| {
        format!(
            "sources:\n  - logsource: {{product: azure, service: signinlogs}}\n    tables: [SigninLogs]\n    identity: UserPrincipalName\n    fields:\n      Who: {field}\n"
        )
    };
    std::fs::write(
        case.path().join("sigma-logsources.yaml"),
        map("UserPrincipalName"),
    )
    .expect("map");
    let (code, report, stderr) = sigma_json(case.path(), rules.path());
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("sigma-logsources.yaml"), "{stderr}");
    assert_eq!(
        people(&report, "Bob by the tenant's name"),
        BTreeSet::from(["bob".to_string()])
    );
    // `--logsources` wins over the case's map.
    let given = rules.path().join("given.yaml");
    std::fs::write(&given, map("AppDisplayName")).expect("map");
    let (code, stdout, stderr) = run(bin()
        .arg("sigma")
        .arg(rules.path().join("who.yml"))
        .arg("--case")
        .arg(case.path())
        .arg("--logsources")
        .arg(&given)
        .args(["--format", "json"]));
    assert_eq!(code, 0, "{stderr}");
    let report: Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(
        report["hits"].as_array().expect("hits").len(),
        0,
        "{report:#}"
    );
    // The case still verifies: the map is the responder's, not evidence.
    let (code, stdout, _) = run(bin()
        .arg("verify")
        .arg("--case")
        .arg(case.path())
        .args(["--source", account.path().to_str().expect("path")]));
    assert_eq!(code, 0, "{stdout}");
}

/// Python with pySigma and its SQLite backend on its path (README's test command installs them
/// into `target/pysigma`; `MCPFORENSICS_PYSIGMA` names another directory).
fn pysigma() -> std::process::Command {
    let path = std::env::var_os("MCPFORENSICS_PYSIGMA")
        .map_or_else(|| root().join("target/pysigma"), std::path::PathBuf::from);
    let mut python = std::process::Command::new("python3");
    python.env("PYTHONPATH", &path);
    let probe = std::process::Command::new("python3")
        .env("PYTHONPATH", &path)
        .args(["-c", "import sigma.backends.sqlite"])
        .status()
        .expect("python3");
    assert!(
        probe.success(),
        "pySigma is not installed in {}: python3 -m pip install --upgrade --target target/pysigma -r tests/sigma_reference/requirements.txt",
        path.display()
    );
    python
}

/// Runs the same rules with the tool and with pySigma's SQLite backend on the same records, and
/// returns, per rule both ran, the tool's and pySigma's matched records (`blob:line`).
fn against_pysigma(
    case: &Path,
    tables: &[&str],
    rules: &[&Path],
) -> BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> {
    let records = tempfile::tempdir().expect("records");
    for table in tables {
        let (code, json, stderr) = run(bin()
            .args(["sql", "--format", "json", "--case"])
            .arg(case)
            .arg(format!("SELECT * FROM \"{table}\"")));
        assert_eq!(code, 0, "{stderr}");
        std::fs::write(records.path().join(format!("{table}.json")), json).expect("records");
    }
    let output = pysigma()
        .arg(root().join("tests/sigma_reference/reference.py"))
        .arg("--records")
        .arg(records.path())
        .arg("--logsources")
        .arg(root().join("src/sigma/logsources.yaml"))
        .args(rules)
        .output()
        .expect("reference");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let reference: Value = serde_json::from_slice(&output.stdout).expect("reference JSON");
    let mut command = bin();
    command.arg("sigma").args(rules).arg("--case").arg(case);
    let (_, stdout, stderr) = run(command.args(["--format", "json"]));
    let ours: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    let ran: BTreeSet<&str> = ours["rules"]
        .as_array()
        .expect("rules")
        .iter()
        // A rule whose matches only feed correlations lists none of its own.
        .filter(|r| (r["state"] == "ran" || r["state"] == "no_evidence") && r["reason"].is_null())
        .filter_map(|r| r["title"].as_str())
        .collect();
    let mut matched: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for hit in ours["hits"].as_array().expect("hits") {
        if let (Some(blob), Some(line)) = (hit["blob"].as_str(), hit["line"].as_i64()) {
            matched
                .entry(hit["rule"].as_str().expect("rule").to_string())
                .or_default()
                .insert(format!("{blob}:{line}"));
        }
    }
    reference["hits"]
        .as_object()
        .expect("reference hits")
        .iter()
        .filter(|(title, _)| ran.contains(title.as_str()))
        .map(|(title, records)| {
            let theirs = records
                .as_array()
                .expect("records")
                .iter()
                .filter_map(|r| r.as_str().map(str::to_string))
                .collect();
            (
                title.clone(),
                (matched.remove(title).unwrap_or_default(), theirs),
            )
        })
        .collect()
}

#[test]
fn pysigma_agrees_rule_by_rule_on_sigmahq_azure_rules_our_pack_and_every_modifier() {
    // SigmaHQ's Azure rules (pinned, tests/fixtures/sigmahq/SOURCE) and the MCP pack, on the
    // bundled sample.
    let case = sample_case();
    let sigmahq = root().join("tests/fixtures/sigmahq/rules");
    let pack = root().join("rules/mcp");
    let compared = against_pysigma(
        &case,
        &[
            "SigninLogs",
            "AuditLogs",
            "tool_call_hours",
            "mcp_messages",
            "flows",
        ],
        &[&sigmahq, &pack],
    );
    for (title, (ours, theirs)) in &compared {
        assert_eq!(ours, theirs, "{title}: the tool and pySigma differ");
    }
    // The habits of tool_call_hours and the messages' methods are compared too.
    for title in [
        "MCP Tool Called Outside the Identity's Hours",
        "MCP Server Announced a Changed Tool List",
    ] {
        assert!(
            compared.contains_key(title),
            "{title}: {:?}",
            compared.keys()
        );
    }
    let hits: usize = compared.values().map(|(ours, _)| ours.len()).sum();
    eprintln!(
        "compared with pySigma: {} rules, {hits} records",
        compared.len()
    );
    assert!(compared.len() >= 25, "{} rules compared", compared.len());
    assert!(hits >= 200, "{hits} records matched in all");
    // Every modifier's rule on the four handcrafted sign-ins.
    let (_account, signins) = sign_in_case();
    let rules = tempfile::tempdir().expect("rules");
    for (i, (title, detection, _)) in cases().iter().enumerate() {
        std::fs::write(
            rules.path().join(format!("{i:02}.yml")),
            rule(title, detection),
        )
        .expect("rule");
    }
    let compared = against_pysigma(signins.path(), &["SigninLogs"], &[rules.path()]);
    for (title, (ours, theirs)) in &compared {
        assert_eq!(ours, theirs, "{title}: the tool and pySigma differ");
    }
    assert!(
        compared.len() >= 30,
        "{} modifier rules compared: {:?}",
        compared.len(),
        compared.keys()
    );
}

#[test]
fn scope_with_sigma_adds_the_hits_of_the_scoped_window_and_nothing_without_it() {
    let case = sample_case();
    let scope = |extra: &[&str]| {
        let mut command = bin();
        command
            .args([
                "scope",
                "--since",
                "2026-09-30",
                "--format",
                "json",
                "--case",
            ])
            .arg(&case)
            .args(extra);
        run(&mut command)
    };
    let (code, plain, stderr) = scope(&[]);
    assert_eq!(code, 0, "{stderr}");
    let plain: Value = serde_json::from_str(&plain).expect("json");
    assert!(plain.get("sigma").is_none(), "no section without --sigma");
    let pack = root().join("rules/mcp");
    let (code, with, stderr) = scope(&["--sigma", pack.to_str().expect("path")]);
    assert_eq!(code, 0, "{stderr}");
    let mut with: Value = serde_json::from_str(&with).expect("json");
    let sigma = with["sigma"].take();
    // Everything else is the report without --sigma.
    with.as_object_mut().expect("report").remove("sigma");
    assert_eq!(with, plain);
    let hits = sigma["hits"].as_array().expect("hits");
    let (since, until) = (
        plain["since"].as_str().expect("since"),
        plain["until"].as_str().expect("until"),
    );
    assert!(
        hits.iter().all(|h| {
            let t = h["time"].as_str().expect("time");
            t >= since && t < until
        }),
        "every hit falls in the scoped window"
    );
    let rules: BTreeSet<&str> = hits.iter().filter_map(|h| h["rule"].as_str()).collect();
    for expected in [
        "Password Spray From One Address",
        "Security Info Registered for an Account",
        "MCP Tool Told to Send Data to a URL",
    ] {
        assert!(rules.contains(expected), "{expected}: {rules:?}");
    }
    assert!(sigma["refused"].as_array().expect("refused").is_empty());
    // The text report has the section, each hit with its evidence.
    let (code, text, _) = run(bin()
        .args(["scope", "--since", "2026-09-30", "--case"])
        .arg(&case)
        .arg("--sigma")
        .arg(&pack));
    assert_eq!(code, 0);
    assert!(text.contains("SIGMA RULES ("), "{text}");
    assert!(
        text.lines().any(|l| l.contains("Security Info Registered")
            && l.contains("bob.keller@contoso.com")
            && l.contains(".json:")),
        "{text}"
    );
    // A rule that cannot run makes the exit code 3 and is named in the report.
    let bad = tempfile::tempdir().expect("rules");
    std::fs::write(bad.path().join("bad.yml"), "title: [unclosed\n").expect("rule");
    let (code, json, _) = scope(&["--sigma", bad.path().to_str().expect("path")]);
    assert_eq!(code, 3);
    let json: Value = serde_json::from_str(&json).expect("json");
    assert_eq!(
        json["sigma"]["refused"][0]["path"],
        bad.path().join("bad.yml").display().to_string()
    );
}

#[test]
fn the_timeline_marks_every_record_a_rule_hit() {
    let case_dir = sample_case();
    let case = mcpforensics::case::Case::open(&case_dir).expect("case");
    let (from, to) = case.evidence_span().expect("span");
    let mcpforensics::timeline::loader::SigmaMarks {
        rows,
        hits,
        refused,
    } = mcpforensics::timeline::loader::sigma_marks(
        &case,
        &[root().join("rules/mcp")],
        (from, to),
        &Default::default(),
    )
    .expect("marks");
    assert_eq!(refused, 0);
    let (_, report, _) = sigma_json(&case_dir, &root().join("rules/mcp"));
    assert_eq!(hits, report["hits"].as_array().expect("hits").len());
    // Each record hit is marked with its rule.
    for hit in report["hits"].as_array().expect("hits") {
        if let (Some(blob), Some(line)) = (hit["blob"].as_str(), hit["line"].as_u64()) {
            let titles = rows
                .get(blob)
                .and_then(|lines| lines.get(&line))
                .unwrap_or_else(|| panic!("{blob}:{line} is not marked"));
            assert!(titles.contains(hit["rule"].as_str().expect("rule")));
        }
    }
    // The spray correlation marks each sign-in it read.
    let sprayed = rows
        .values()
        .flat_map(|lines| lines.values())
        .filter(|titles| titles.contains("Password Spray From One Address"))
        .count();
    assert!(sprayed >= 10, "{sprayed} sign-ins marked as the spray");
}
