//! Breach scoping judged against the generator's ground truth: the sample, unseen variants,
//! every pack query's expected result, indicators, and the reports as users read them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use mcpforensics::case::Case;
use mcpforensics::query::QueryEngine;
use mcpforensics::query::pack::PackParams;
use mcpforensics::sample::{ApimLogs, Emitter, Scenario, SignInLayout, Story};
use mcpforensics::scope::window::{self, WindowMove};
use mcpforensics::scope::{Ioc, ScopeReport, ScopeRequest, scope};
use serde_json::Value;

use crate::common::*;

fn truth_of(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).expect("truth")).expect("json")
}

fn params(since: &str, until: &str) -> PackParams {
    let since = mcpforensics::time::parse_timestamp(since).expect("since");
    let until = mcpforensics::time::parse_timestamp(until).expect("until");
    PackParams {
        since,
        until,
        baseline_start: since - chrono::Duration::days(14),
    }
}

fn run_scope(case: &Path, params: PackParams, iocs: Vec<Ioc>) -> ScopeReport {
    run_scope_days(case, params, iocs, false)
}

fn run_scope_days(case: &Path, params: PackParams, iocs: Vec<Ioc>, all_days: bool) -> ScopeReport {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let case = Case::open(case).expect("case");
    runtime
        .block_on(scope(
            &case,
            &ScopeRequest {
                params,
                iocs,
                all_days,
                method: "given".into(),
                settings: Default::default(),
            },
        ))
        .expect("scope runs")
}

/// Checks a report against the truth the way the project is judged: every affected customer with
/// at least 95% precision, every compromised identity and no innocent one, the exfiltration
/// destination and not the backup, the outage reported.
fn judge(report: &ScopeReport, truth: &Value) {
    let found: BTreeSet<&str> = report
        .affected_customers
        .iter()
        .map(|c| c.customer_id.as_str())
        .collect();
    let expected: BTreeSet<&str> = truth["affected_customers"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let hits = found.intersection(&expected).count();
    assert!(
        hits as f64 >= 0.97 * expected.len() as f64,
        "recall {hits}/{}",
        expected.len()
    );
    assert!(
        hits as f64 >= 0.95 * found.len() as f64,
        "precision {hits}/{}",
        found.len()
    );
    // Per confidence tier: every customer of the tier found in it, at least 95% precision.
    for tier in ["exfiltrated", "accessed", "exposed", "cannot_exclude"] {
        let want: BTreeSet<&str> = truth["customer_tiers"]
            .as_object()
            .expect("tiers")
            .iter()
            .filter(|(_, t)| t.as_str() == Some(tier))
            .map(|(c, _)| c.as_str())
            .collect();
        let got: BTreeSet<&str> = report
            .affected_customers
            .iter()
            .filter(|c| c.tier == tier)
            .map(|c| c.customer_id.as_str())
            .collect();
        let hits = got.intersection(&want).count();
        assert_eq!(hits, want.len(), "{tier}: recall {hits}/{}", want.len());
        assert!(
            hits as f64 >= 0.95 * got.len() as f64,
            "{tier}: precision {hits}/{}",
            got.len()
        );
    }
    assert_eq!(
        !report.server_compromise.is_empty(),
        truth["server_compromised"] == true,
        "server compromise found exactly when it happened: {:?}",
        report.server_compromise
    );
    let suspects: BTreeSet<&str> = report.suspects.iter().map(|s| s.user.as_str()).collect();
    for user in truth["compromised_users"].as_array().expect("list") {
        let upn = user["upn"].as_str().expect("upn");
        assert!(suspects.contains(upn), "{upn} is found");
        let suspect = report
            .suspects
            .iter()
            .find(|s| s.user == upn)
            .expect("suspect");
        assert_eq!(
            suspect.user_id.as_deref(),
            user["object_id"].as_str(),
            "object id resolved"
        );
        assert!(!suspect.reasons.is_empty() && suspect.attacker_sessions > 0);
    }
    for user in truth["innocent_users"].as_array().expect("list") {
        assert!(
            !suspects.contains(user["upn"].as_str().expect("upn")),
            "innocent {} is not named",
            user["upn"]
        );
    }
    let named_ok = |s: &&str| {
        *s == "(anonymous)"
            || ["compromised_users", "compromised_unseen_users"]
                .iter()
                .flat_map(|list| truth[*list].as_array().expect("list"))
                .any(|u| u["upn"] == *s)
    };
    assert!(
        suspects.iter().all(named_ok),
        "only compromised identities and the anonymous attacker: {suspects:?}"
    );
    let destinations: BTreeSet<&str> = report
        .exfiltration
        .iter()
        .map(|e| e.destination_ip.as_str())
        .collect();
    let truth_destinations: BTreeSet<&str> = truth["exfiltration"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|d| d["ip"].as_str())
        .collect();
    assert_eq!(
        destinations, truth_destinations,
        "exfiltration destinations exact"
    );
    for benign in truth["benign_destinations"].as_array().expect("list") {
        assert!(
            !destinations.contains(benign["ip"].as_str().expect("ip")),
            "{} is not exfiltration",
            benign["ip"]
        );
    }
    let (from, to) = (
        truth["outage"][0].as_str().expect("from"),
        truth["outage"][1].as_str().expect("to"),
    );
    assert!(
        report
            .coverage
            .gaps
            .iter()
            .any(|g| g.from.as_str() < to && g.to.as_str() > from),
        "outage {from}..{to} reported: {:?}",
        report.coverage.gaps
    );
}

#[test]
fn scope_on_the_sample_finds_what_happened() {
    let case = sample_case();
    let truth = truth_of(&root().join("sample-data/truth.json"));
    let report = run_scope(
        &case,
        params("2026-09-30T00:00:00Z", "2026-10-15T00:00:00Z"),
        vec![],
    );
    judge(&report, &truth);
    let bob = report
        .suspects
        .iter()
        .find(|s| s.user == "bob.keller@contoso.com")
        .expect("bob");
    assert_eq!(
        bob.ips,
        vec!["185.220.101.47", "45.86.202.14", "45.86.202.77"]
    );
    assert!(bob.reasons[0].contains("after a password spray from that address"));
    assert_eq!(report.verdict, mcpforensics::scope::Verdict::SuspectsFound);
    assert!(
        report.persistence.iter().any(|p| {
            p.activity.as_deref() == Some("User registered security info")
                && p.suspect.as_deref() == Some("bob.keller@contoso.com")
                && p.initiated_by_ip.as_deref() == Some("185.220.101.47")
        }),
        "the security info registered from the spray address is in the attack chain: {:?}",
        report.persistence
    );
    assert!(
        bob.reasons
            .iter()
            .any(|r| r.starts_with("persistence: User registered security info"))
    );
    assert!(bob.own_sessions > 0, "bob's own daytime work is kept apart");
    assert!(
        report
            .attacker_calls
            .iter()
            .all(|c| c.client_address.as_deref() != Some("203.0.113.10")),
        "no office call is the attacker's"
    );
    let upload = report
        .exfiltration
        .iter()
        .find(|e| e.destination_ip == "91.215.85.30")
        .expect("upload");
    assert_eq!(
        upload.destination_host.as_deref(),
        Some("files-drop.example.net")
    );
    assert!(upload.bytes > 10_000_000 && upload.path.contains("HTTP dependency"));
    assert_eq!(
        report
            .coverage
            .sampling
            .iter()
            .map(|s| s.max_item_count)
            .max(),
        Some(1)
    );
    assert!(
        report
            .coverage
            .statements
            .iter()
            .any(|s| s.contains("cannot be excluded"))
    );
    assert!(
        report
            .coverage
            .statements
            .iter()
            .any(|s| s.starts_with("7 records were rejected at ingest")),
        "the report says what was left out"
    );
    assert_eq!(report.evidence.blobs, 6855);
    assert_eq!(
        report.evidence.queries.len(),
        mcpforensics::query::pack::EMBEDDED.len()
    );
}

/// A generated tenant: seed, scale, first day and days of evidence.
fn tenant(seed: u64, scale: f64, start: (i32, u32, u32), days: u32) -> Scenario {
    Scenario::new(
        seed,
        scale,
        chrono::NaiveDate::from_ymd_opt(start.0, start.1, start.2).expect("date"),
        days,
    )
}

fn variant(seed: u64, scale: f64, days: u32, start: (i32, u32, u32), compromised: usize) {
    judged(&tenant(seed, scale, start, days).with_compromised(compromised));
}

/// Writes a scenario, ingests it, scopes it from its attack day to the end of its evidence, and
/// judges the report against its truth.
fn judged(scenario: &Scenario) -> ScopeReport {
    let (report, truth) = scoped(scenario);
    judge(&report, &truth);
    report
}

/// Writes a scenario, ingests it and scopes it from its attack day to the end of its evidence;
/// the report and the truth.
fn scoped(scenario: &Scenario) -> (ScopeReport, serde_json::Value) {
    let account = Account::new();
    scenario.write(account.path()).expect("generate");
    let truth = serde_json::to_value(scenario.truth()).expect("truth");
    let case = tempfile::tempdir().expect("case");
    ingest_dir(account.path(), case.path());
    let day = |text: &str| {
        mcpforensics::time::parse_timestamp(&format!("{}T00:00:00Z", &text[..10])).expect("day")
    };
    let since = day(truth["attack_start"].as_str().expect("start"));
    let end = day(truth["start"].as_str().expect("start"))
        + chrono::Duration::days(truth["days"].as_i64().expect("days"));
    let window = PackParams {
        since,
        until: end,
        baseline_start: since - chrono::Duration::days(14),
    };
    let report = run_scope(case.path(), window, vec![]);
    assert!(
        report.evidence.call_index.is_some(),
        "the tool calls come from the call index derived at ingest"
    );
    // Without the index, relating the telemetry rows at query time gives the same report.
    std::fs::remove_dir_all(case.path().join("derived")).expect("remove the call index");
    let mut related = run_scope(case.path(), window, vec![]);
    assert_eq!(related.evidence.call_index, None);
    related
        .evidence
        .call_index
        .clone_from(&report.evidence.call_index);
    related.evidence.case_files = report.evidence.case_files;
    related.evidence.case_files_read = report.evidence.case_files_read;
    assert_eq!(related, report, "the call index changed the report");
    (report, truth)
}

/// A refresh token replayed in-country in office hours: only the replayed sessions are the
/// attacker's, found by their reach and their address; the traveller at a hotel is not named.
#[test]
fn token_replay_in_office_hours_is_scoped_by_session() {
    let report = judged(&tenant(41, 0.5, (2026, 4, 6), 30).with_story(Story::Token));
    let victim = &report.suspects[0];
    assert_eq!(report.suspects.len(), 1);
    assert!(
        victim.own_sessions > 0,
        "the victim's own work is kept apart"
    );
    assert!(
        report.attacker_calls.iter().all(|c| c.rule == "session"),
        "found by session, not by a foreign address or night hours"
    );
    assert!(
        victim
            .reasons
            .iter()
            .any(|r| r.contains("interactive sign-in"))
    );
}

/// A hijacked agent: same address, same hours; only the steered sessions are the attacker's.
#[test]
fn hijacked_agent_sessions_are_the_attackers_and_its_other_work_is_not() {
    let report = judged(&tenant(43, 0.5, (2026, 5, 4), 30).with_story(Story::Agent));
    assert_eq!(report.suspects.len(), 1);
    let agent = &report.suspects[0];
    assert_eq!(
        agent.user, "crm-triage-agent",
        "the service principal, by name"
    );
    assert!(agent.own_sessions > 10 * agent.attacker_sessions);
    // An AI agent by its sign-ins' Entra Agent ID fields, with its blueprint and app.
    assert_eq!(agent.kind.as_deref(), Some("agent"));
    let identity = agent.agent.as_ref().expect("Agent ID fields");
    assert_eq!(identity.agent_type.as_deref(), Some("agenticAppInstance"));
    assert_eq!(
        identity.parent.as_deref(),
        Some("c0ffee00-0000-4000-8000-00000000a9e7")
    );
    assert!(identity.app.is_some());
    let words = agent.agent_words().expect("described");
    assert!(
        words.starts_with("AI agent (Entra Agent ID agenticAppInstance, app "),
        "{words}"
    );
    let text = mcpforensics::report::scope_report::render(
        &report,
        mcpforensics::report::scope_report::ReportFormat::Text,
        &Default::default(),
    );
    assert!(text.contains(&format!("    - identity: {words}")), "{text}");
    // Its model calls (GenAI spans in the traces of its tool calls): the steered sessions' prompts
    // carry the injected page, several times longer than its own.
    let using = agent
        .model_use
        .as_ref()
        .expect("model calls in its sessions");
    assert!(using.attacker_calls > 0 && using.own_calls > 0, "{using:?}");
    let per_call = |tokens: u64, calls: u64| tokens / calls.max(1);
    assert!(
        per_call(using.attacker_tokens, using.attacker_calls)
            > 3 * per_call(using.own_tokens, using.own_calls),
        "{using:?}"
    );
    assert!(
        text.contains(&format!("    - model calls: {}", using.words())),
        "{text}"
    );
    assert!(
        report
            .sessions
            .iter()
            .filter(|s| s.attacker)
            .all(|s| s.model_calls > 0),
        "every steered session shows its model calls"
    );
    assert!(
        agent
            .reasons
            .iter()
            .any(|r| r.contains("hooks.relay-sync.example"))
    );
    assert!(
        !report
            .exfiltration
            .iter()
            .any(|e| e.path.contains("responses to the attacker")),
        "responses to the agent's own address are not exfiltration"
    );
}

/// An implant: nobody's identity is named; the server is, with how it likely came in.
#[test]
fn implant_names_the_server_and_no_user() {
    let report = judged(&tenant(45, 0.4, (2026, 2, 2), 30).with_story(Story::Implant));
    assert!(report.suspects.is_empty(), "{:?}", report.suspects);
    assert!(report.attacker_calls.is_empty());
    assert!(report.management_access.iter().any(|m| m.port == 22));
    assert!(
        report
            .coverage
            .statements
            .iter()
            .any(|s| s.contains("No identity was misused"))
    );
}

/// Entra logs archived by diagnostic settings (`insights-logs-signinlogs/tenantId=…`) instead of
/// exported from Log Analytics: the same suspects, reasons (but for the evidence paths), customers
/// and destinations.
#[test]
fn diagnostic_settings_sign_ins_give_the_same_scope() {
    let password = || tenant(49, 0.3, (2026, 7, 6), 26).with_story(Story::Password);
    let la = judged(&password().with_sign_in_layout(SignInLayout::La));
    let diag = judged(&password().with_sign_in_layout(SignInLayout::Diag));
    let suspects = |r: &ScopeReport| {
        r.suspects
            .iter()
            .map(|s| {
                (
                    s.user.clone(),
                    s.user_id.clone(),
                    s.tool_calls,
                    s.reasons.len(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(suspects(&la), suspects(&diag));
    assert!(diag.suspects[0].reasons[0].contains("insights-logs-signinlogs/tenantId="));
    let customers = |r: &ScopeReport| {
        r.affected_customers
            .iter()
            .map(|c| (c.customer_id.clone(), c.tier.clone(), c.calls))
            .collect::<Vec<_>>()
    };
    assert_eq!(customers(&la), customers(&diag));
    assert_eq!(la.exfiltration, diag.exfiltration);
    assert_eq!(la.spray_sources, diag.spray_sources);
}

/// An HTTP parent row with the caller and an MCP child span without it (AppDependencies): the
/// caller is read from the parent, and the answer is the same.
#[test]
fn parent_and_child_rows_give_the_same_answer() {
    let report = judged(
        &tenant(51, 0.4, (2026, 6, 8), 28)
            .with_story(Story::Password)
            .with_emitter(Emitter::ParentChild),
    );
    assert!(
        report
            .attacker_calls
            .iter()
            .filter(|c| c.origin == "AppDependencies")
            .count()
            > 10
    );
}

/// A server whose telemetry has no caller address at all, hosted on App Service: the callers are
/// read from App Service's HTTP log by time, and the stolen-password story, which rests on new
/// addresses, is scoped exactly; the coverage says where the addresses came from.
#[test]
fn a_server_without_caller_addresses_is_scoped_from_its_http_log() {
    let report = judged(
        &tenant(57, 0.4, (2026, 7, 6), 28)
            .with_story(Story::Password)
            .with_emitter(Emitter::BehindAppService),
    );
    assert!(!report.attacker_calls.is_empty());
    assert!(
        report
            .attacker_calls
            .iter()
            .all(|c| c.client_address.is_some()),
        "every attacker call has its caller's address"
    );
    assert!(
        report
            .coverage
            .statements
            .iter()
            .any(|s| s.contains("took their caller's address from an HTTP access log")),
        "{:?}",
        report.coverage.statements
    );
}

/// No MCP session id at all (protocol 2026-07-28): sessions are derived, labelled so, and a
/// hijacked agent's steered work is still told apart from its own.
#[test]
fn sessionless_telemetry_derives_sessions() {
    let report = judged(
        &tenant(53, 0.4, (2026, 9, 7), 28)
            .with_story(Story::Agent)
            .with_emitter(Emitter::NoSession),
    );
    assert!(
        report
            .sessions
            .iter()
            .all(|s| s.derived && s.session.starts_with("(derived) "))
    );
    assert!(
        report.suspects[0]
            .reasons
            .iter()
            .any(|r| r.contains("(derived: the server logs no session id)"))
    );
}

/// Fixed-rate sampling (one operation in three kept, ItemCount 3): every customer the kept
/// telemetry names is scoped in its tier, no innocent is named, and the report estimates the
/// attacker calls it cannot see, per identity and tool, close to how many sampling dropped.
#[test]
fn sampled_telemetry_is_scoped_and_the_unseen_calls_estimated() {
    let scenario = tenant(59, 0.4, (2026, 9, 7), 28)
        .with_story(Story::Mixed)
        .with_sampling(3);
    let truth = scenario.truth();
    assert!(
        truth.attacker_calls_sampled_away > 0,
        "sampling dropped attacker calls"
    );
    let report = judged(&scenario);
    let estimated: u64 = report
        .coverage
        .sampled_attacker_calls
        .iter()
        .map(|s| s.unseen_calls)
        .sum();
    let dropped = truth.attacker_calls_sampled_away as f64;
    assert!(
        (estimated as f64) > 0.5 * dropped && (estimated as f64) < 2.0 * dropped,
        "estimated {estimated} unseen attacker calls; sampling dropped {dropped}"
    );
    assert!(
        report
            .coverage
            .statements
            .iter()
            .any(|s| s.contains("sampl")),
        "{:?}",
        report.coverage.statements
    );
}

/// A traveller at a hotel signs in interactively on the laptop of her baseline and works from
/// there; with one operation in three sampled, her baseline knows few of her hours, so her hotel
/// calls look off-hours. She is not named: hours are no sign from an address where the identity
/// signed in interactively on a client of its baseline. The attackers still are.
#[test]
fn a_traveller_with_a_thin_sampled_baseline_is_not_named() {
    let (report, truth) = scoped(
        &tenant(77, 1.0, (2026, 9, 15), 30)
            .with_story(Story::Mixed)
            .with_sampling(3),
    );
    let named: Vec<&str> = report.suspects.iter().map(|s| s.user.as_str()).collect();
    let traveller = truth["innocent_users"]
        .as_array()
        .expect("innocents")
        .iter()
        .find(|u| u["note"].as_str().is_some_and(|n| n.contains("hotel")))
        .expect("the story has a traveller");
    let traveller = traveller["upn"].as_str().expect("upn");
    for innocent in truth["innocent_users"].as_array().expect("innocents") {
        let upn = innocent["upn"].as_str().unwrap_or_default();
        assert!(!named.contains(&upn), "{upn} named: {named:?}");
    }
    assert!(!named.contains(&traveller));
    for attacker in ["bob.keller@contoso.com", "(anonymous)"] {
        assert!(named.contains(&attacker), "{attacker} missed: {named:?}");
    }
}

/// All four in one tenant, with every trap.
#[test]
fn mixed_breaches_in_one_tenant() {
    let report = judged(&tenant(47, 0.5, (2026, 8, 3), 30).with_story(Story::Mixed));
    assert_eq!(
        report.suspects.len(),
        4,
        "bob, the token victim, the agent, (anonymous)"
    );
}

/// `--since` on a long case opens only the days of the baseline and the window (a day of margin
/// either side) and the identity index, and finds exactly what reading every day finds.
#[test]
fn scope_reads_only_the_days_of_its_window_and_finds_the_same() {
    let account = Account::new();
    let start = chrono::NaiveDate::from_ymd_opt(2026, 3, 2).expect("date");
    let scenario = mcpforensics::sample::Scenario::new(21, 0.12, start, 60);
    scenario.write(account.path()).expect("generate");
    let truth = serde_json::to_value(scenario.truth()).expect("truth");
    let case_dir = tempfile::tempdir().expect("case");
    ingest_dir(account.path(), case_dir.path());
    let attack_day = &truth["attack_start"].as_str().expect("start")[..10];
    let since =
        mcpforensics::time::parse_timestamp(&format!("{attack_day}T00:00:00Z")).expect("since");
    let window = PackParams {
        since,
        until: since + chrono::Duration::days(7),
        baseline_start: since - chrono::Duration::days(14),
    };

    let pruned = run_scope_days(case_dir.path(), window, vec![], false);
    let everything = run_scope_days(case_dir.path(), window, vec![], true);
    let (first, last) = (
        (since - chrono::Duration::days(15))
            .date_naive()
            .to_string(),
        (since + chrono::Duration::days(7)).date_naive().to_string(),
    );
    assert_eq!(
        pruned.evidence.days_read,
        Some([first.clone(), last.clone()])
    );
    assert_eq!(everything.evidence.days_read, None);
    let files = pruned.evidence.case_files;
    assert!(files > 300, "{files} files in a 60-day case");
    // Without the window, each query still opens only the days its own time conditions allow:
    // at least the window's (the same, when every scan's conditions bound its days), fewer than
    // the case.
    assert!(pruned.evidence.case_files_read <= everything.evidence.case_files_read);
    assert!(everything.evidence.case_files_read < files);
    assert!(everything.evidence.case_files_read <= files);
    let mut same = pruned.clone();
    same.evidence.case_files_read = everything.evidence.case_files_read;
    same.evidence.days_read = None;
    assert_eq!(same, everything, "pruning changed the findings");
    assert!(!pruned.attacker_calls.is_empty() && !pruned.affected_customers.is_empty());

    // The files the scans opened: only the window's days, and the identity index.
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let case = Case::open(case_dir.path()).expect("case");
    let days = mcpforensics::query::DayWindow {
        first: (since - chrono::Duration::days(15)).date_naive(),
        last: (since + chrono::Duration::days(7)).date_naive(),
    };
    let opened = runtime.block_on(async {
        let engine = QueryEngine::open_windowed(&case, &[], Some(days), &Default::default())
            .await
            .expect("engine");
        engine
            .run_pack("affected_customers", &window)
            .await
            .expect("query");
        engine.reads().files_opened
    });
    let mut index_files = 0;
    for file in &opened {
        if file.contains("/index/identities-") {
            index_files += 1;
            continue;
        }
        let day = file
            .split("/date=")
            .nth(1)
            .map(|rest| &rest[..10])
            .expect("a date partition");
        assert!(
            first.as_str() <= day && day <= last.as_str(),
            "opened {file} outside the window"
        );
    }
    assert_eq!(
        index_files, 1,
        "the one ingest's identity index: {opened:?}"
    );
    // The tool calls, read from the call index: its files of the 23 days (window, baseline, a day
    // either side).
    let index = mcpforensics::query::call_index::current(&case)
        .expect("reads")
        .expect("the call index is current");
    let opened_requests: Vec<&String> = opened
        .iter()
        .filter(|f| f.contains(&format!("/{}/", index.dir)))
        .collect();
    let all_requests: Vec<String> = index.record.files.iter().map(|f| f.path.clone()).collect();
    let files_between = |from: &str, to: &str| {
        all_requests
            .iter()
            .filter(|path| {
                let day = &path.split("date=").nth(1).expect("date")[..10];
                from <= day && day <= to
            })
            .count()
    };
    let in_window = files_between(&first, &last);
    // At most those; at least the days of [baseline_start, until) the query's own time
    // conditions allow (the margin days are for records joined by id).
    let (strict_first, strict_last) = (
        window.baseline_start.date_naive().to_string(),
        (window.until - chrono::Duration::nanoseconds(1))
            .date_naive()
            .to_string(),
    );
    let strict = files_between(&strict_first, &strict_last);
    assert!(
        strict <= opened_requests.len() && opened_requests.len() <= in_window,
        "{} call index files opened; {strict} in [baseline_start, until), {in_window} in the window",
        opened_requests.len()
    );
    assert!(
        in_window >= 20 && in_window * 2 < all_requests.len(),
        "{in_window} of {} call index files",
        all_requests.len()
    );
}

#[test]
fn unseen_variant_upn_identities_other_tenant_and_dates() {
    variant(8, 0.7, 28, (2027, 1, 11), 1);
}

#[test]
fn unseen_variant_two_compromised_accounts() {
    variant(33, 0.6, 26, (2026, 6, 1), 2);
}

#[test]
fn every_pack_query_gives_its_expected_result_on_the_sample() {
    let case_dir = sample_case();
    let truth = truth_of(&root().join("sample-data/truth.json"));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let case = Case::open(&case_dir).expect("case");
    let p = params("2026-09-30T00:00:00Z", "2026-10-15T00:00:00Z");
    runtime.block_on(async {
        let engine = QueryEngine::open(&case, &Default::default())
            .await
            .expect("engine");
        let run = |name: &'static str| {
            let engine = &engine;
            async move {
                mcpforensics::report::table::cells(&engine.run_pack(name, &p).await.expect(name).1)
                    .expect("cells")
            }
        };
        let sprays = run("spray_sources").await;
        assert_eq!(sprays.len(), 1);
        assert_eq!(
            (
                &sprays[0][0][..],
                &sprays[0][1][..],
                &sprays[0][7][..],
                &sprays[0][9][..]
            ),
            ("185.220.101.47", "19", "bob.keller@contoso.com", "0")
        );
        let attacker_pairs: BTreeSet<(String, String)> = run("ip_profiles")
            .await
            .into_iter()
            .filter(|r| r[17] == "true")
            .map(|r| (r[0].clone(), r[2].clone()))
            .collect();
        let expected: BTreeSet<(String, String)> = [
            ("(anonymous)", "45.86.202.77"),
            ("bob.keller@contoso.com", "45.86.202.14"),
            ("bob.keller@contoso.com", "45.86.202.77"),
        ]
        .iter()
        .map(|(u, i)| ((*u).to_string(), (*i).to_string()))
        .collect();
        assert_eq!(attacker_pairs, expected);
        let calls = run("attacker_calls").await;
        let truth_calls = truth["attacker_tool_calls"].as_u64().expect("count") as usize;
        assert!(
            calls.len() <= truth_calls && calls.len() + 2 >= truth_calls,
            "{} of {truth_calls} (truncated lines are lost)",
            calls.len()
        );
        let suspects = run("suspects").await;
        assert_eq!(
            suspects.iter().map(|r| r[0].as_str()).collect::<Vec<_>>(),
            vec!["bob.keller@contoso.com", "(anonymous)"]
        );
        let sessions = run("sessions").await;
        assert!(
            sessions
                .iter()
                .any(|r| r[0] == "bob.keller@contoso.com" && r[3] == "true")
        );
        assert!(
            sessions
                .iter()
                .any(|r| r[0] == "bob.keller@contoso.com" && r[3] == "false")
        );
        let exfiltration = run("exfiltration").await;
        let destinations: BTreeSet<&str> = exfiltration.iter().map(|r| r[0].as_str()).collect();
        assert_eq!(
            destinations,
            BTreeSet::from(["91.215.85.30", "45.86.202.14", "45.86.202.77"])
        );
        assert_eq!(
            exfiltration[0][0], "91.215.85.30",
            "the upload is the largest"
        );
        assert!(
            exfiltration
                .iter()
                .any(|r| r[5].contains("through API Management")),
            "the stolen-key calls' responses are their own path"
        );
        let customers = run("affected_customers").await;
        assert_eq!(
            customers.len(),
            truth["affected_customers"].as_array().expect("list").len()
        );
        let tier_of = |customer: &str| truth["customer_tiers"][customer].as_str().unwrap_or("");
        for row in &customers {
            assert_eq!(row[1], tier_of(&row[0]), "{row:?}");
            // Readable attacker calls here all have an exfiltration path; the others are named
            // only in lines the export cut short.
            assert_eq!(row[8] == "true", row[1] == "exfiltrated", "{row:?}");
        }
        assert!(
            customers
                .iter()
                .any(|r| r[1] == "cannot_exclude" && r[9].starts_with("[rejected am-apprequests/")),
            "customers named only in cut lines during the attack: {customers:?}"
        );
        let resources = run("resources_touched").await;
        assert!(
            resources
                .iter()
                .any(|r| r[0] == "SQL" && r[2].contains("crm.customers"))
        );
        assert!(
            resources
                .iter()
                .any(|r| r[0] == "HTTP" && r[1] == "files-drop.example.net")
        );
        let hourly = run("hourly_volume").await;
        assert!(
            !hourly.iter().any(|r| r[0] == "AppDependencies"
                && r[1].starts_with("2026-10-05T0")
                && r[1].as_str() >= "2026-10-05T06"
                && r[1].as_str() < "2026-10-05T13"),
            "the outage hours are empty"
        );
        assert!(
            hourly
                .iter()
                .any(|r| r[0] == "flows" && r[1].starts_with("2026-10-05T08")),
            "flows go on through the outage"
        );
        let sampling = run("sampling").await;
        assert!(
            sampling.iter().all(|r| r[1] == r[2]),
            "no sampling in the sample: rows equal events"
        );
    });
}

#[test]
fn indicators_are_scoped_exactly_on_top_of_detection() {
    let case = sample_case();
    let ioc = Ioc {
        kind: "ip".into(),
        value: "198.51.100.77".into(),
    };
    let report = run_scope(
        &case,
        params("2026-09-30T00:00:00Z", "2026-10-15T00:00:00Z"),
        vec![ioc.clone()],
    );
    let carla = report
        .suspects
        .iter()
        .find(|s| s.user == "carla.diaz@contoso.com")
        .expect("the IoC names the night worker's address");
    assert!(
        carla
            .reasons
            .iter()
            .any(|r| r.contains("indicator of compromise"))
    );
    assert!(
        report
            .attacker_calls
            .iter()
            .filter(|c| c.basis == "ioc")
            .all(|c| c.client_address.as_deref() == Some("198.51.100.77"))
    );
    assert!(
        report
            .suspects
            .iter()
            .any(|s| s.user == "bob.keller@contoso.com"),
        "detection still runs"
    );
    assert_eq!(report.iocs, vec![ioc]);
}

/// A user indicator is matched whatever its case, and every call of the identity it names in the
/// window is the attacker's (`ioc`), beside the detected ones. The night worker's address is in the
/// evidence from its first hour, but what only an indicator chose does not move the window (the
/// responses to her address are not a path out the tool found), so the detection keeps its
/// baseline. An indicator naming nobody adds no call.
#[test]
fn user_indicators_take_every_call_of_the_identity_in_any_case() {
    let case = sample_case();
    let window = || params("2026-09-30T00:00:00Z", "2026-10-15T00:00:00Z");
    let user = |value: &str| Ioc {
        kind: "user".into(),
        value: value.into(),
    };
    let plain = run_scope(&case, window(), vec![]);
    let named = run_scope(&case, window(), vec![user("CARLA.Diaz@Contoso.com")]);
    let nobody = run_scope(&case, window(), vec![user("nobody@contoso.com")]);
    let carla = |report: &ScopeReport| -> Vec<String> {
        report
            .attacker_calls
            .iter()
            .filter(|c| c.user == "carla.diaz@contoso.com")
            .map(|c| c.basis.clone() + " " + &c.rule)
            .collect()
    };
    assert!(
        carla(&plain).is_empty(),
        "the night worker is innocent by detection"
    );
    assert!(!carla(&named).is_empty(), "the indicator names her calls");
    assert!(carla(&named).iter().all(|c| c == "ioc ioc"));
    assert_eq!(named.window.scoped.since, named.window.requested.since);
    assert_eq!(
        named.attacker_calls.len(),
        plain.attacker_calls.len() + carla(&named).len(),
        "the detected calls stay as they were"
    );
    assert_eq!(nobody.attacker_calls.len(), plain.attacker_calls.len());
}

/// An indicator address is looked for wherever an address is written, not only among callers:
/// one that only the flows hold (the nightly backup's address, given as if it were an implant's
/// destination) is seen there and its flows are a path of data out; one that occurs nowhere is
/// said to match nothing.
#[test]
fn indicators_are_found_wherever_an_address_is_written() {
    let case = sample_case();
    let iocs: Vec<Ioc> = ["20.60.40.4", "91.215.85.30", "192.0.2.250"]
        .iter()
        .map(|ip| Ioc {
            kind: "ip".into(),
            value: (*ip).into(),
        })
        .collect();
    let report = run_scope(
        &case,
        params("2026-09-30T00:00:00Z", "2026-10-15T00:00:00Z"),
        iocs,
    );
    let places = |ip: &str| -> Vec<&str> {
        report
            .ioc_sightings
            .iter()
            .filter(|s| s.value == ip)
            .map(|s| s.place.as_str())
            .collect()
    };
    assert_eq!(places("20.60.40.4"), vec!["outbound flow destination"]);
    assert!(
        places("91.215.85.30").iter().any(|p| p
            .starts_with("outgoing dependency host (files-drop.example.net, tied by host by time")),
        "{:?}",
        places("91.215.85.30")
    );
    assert!(places("192.0.2.250").is_empty());
    let backup = report
        .exfiltration
        .iter()
        .find(|e| e.destination_ip == "20.60.40.4")
        .expect("flows to an indicator are a path of data out");
    assert!(backup.path.contains("indicator address"));
    let summary = mcpforensics::report::summary::summarise(&report, None);
    assert_eq!(summary.unmatched_iocs, vec!["ip 192.0.2.250"]);
}

#[test]
fn reports_as_users_read_them() {
    let _ = sample_case();
    let (code, json, stderr) =
        run(bin().args(["scope", "--since", "2026-09-30", "--format", "json"]));
    assert_eq!(code, 0, "{stderr}");
    let report: Value = serde_json::from_str(&json).expect("json report");
    for key in [
        "since",
        "until",
        "suspects",
        "affected_customers",
        "exfiltration",
        "coverage",
    ] {
        assert!(report.get(key).is_some(), "{key}");
    }
    for key in [
        "user",
        "user_id",
        "reasons",
        "ips",
        "first_seen",
        "last_seen",
        "tool_calls",
    ] {
        assert!(report["suspects"][0].get(key).is_some(), "suspects[].{key}");
    }
    for key in [
        "customer_id",
        "first_access",
        "last_access",
        "users",
        "tools",
        "calls",
    ] {
        assert!(
            report["affected_customers"][0].get(key).is_some(),
            "affected_customers[].{key}"
        );
    }
    for key in [
        "destination_ip",
        "destination_host",
        "bytes",
        "first",
        "last",
        "path",
    ] {
        assert!(
            report["exfiltration"][0].get(key).is_some(),
            "exfiltration[].{key}"
        );
    }
    assert!(
        report["coverage"]["tables"].is_array()
            && report["coverage"]["gaps"][0].get("table").is_some()
    );
    let (_, again, _) = run(bin().args(["scope", "--since", "2026-09-30", "--format", "json"]));
    assert!(json == again, "two runs give byte-identical JSON");
    let (_, text, _) = run(bin().args(["scope", "--since", "2026-09-30"]));
    assert!(
        text.contains("SUSPECT IDENTITIES (2)")
            && text.contains("bob.keller@contoso.com")
            && text.contains("91.215.85.30")
    );
    let dir = tempfile::tempdir().expect("dir");
    let html = dir.path().join("scope.html");
    let (code, _, _) = run(bin()
        .args([
            "scope",
            "--since",
            "2026-09-30",
            "--format",
            "html",
            "--out",
        ])
        .arg(&html));
    assert_eq!(code, 0);
    let page = std::fs::read_to_string(&html).expect("html");
    assert!(
        page.starts_with("<!DOCTYPE html>")
            && page.contains("<svg")
            && page.contains("files-drop.example.net")
    );
    assert!(
        !page.contains("<script") && !page.contains("src=\"http") && !page.contains("href=\"http"),
        "self-contained, no script"
    );
    let (_, md, _) = run(bin().args(["scope", "--since", "2026-09-30", "--format", "md"]));
    assert!(md.starts_with("# Breach scope") && md.contains("| bob.keller@contoso.com |"));
    let csv_path = dir.path().join("affected.csv");
    let (code, _, _) = run(bin()
        .args(["export", "customers", "--since", "2026-09-30", "--out"])
        .arg(&csv_path));
    assert_eq!(code, 0);
    let csv = std::fs::read_to_string(&csv_path).expect("csv");
    let (_, first, _) =
        run(bin().args(["export", "customers", "--since", "2026-09-30", "--out", "-"]));
    let (_, second, _) =
        run(bin().args(["export", "customers", "--since", "2026-09-30", "--out", "-"]));
    assert!(
        first == csv && second == csv,
        "the CSV is byte-identical run after run"
    );
    // `scope --customers` writes the same file from the report's own run.
    let with_report = dir.path().join("with-report.csv");
    let (code, json, stderr) = run(bin()
        .args([
            "scope",
            "--since",
            "2026-09-30",
            "--format",
            "json",
            "--customers",
        ])
        .arg(&with_report));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&json).expect("the report on stdout"),
        report,
        "the report is unchanged by --customers"
    );
    assert_eq!(
        std::fs::read_to_string(&with_report).expect("scope's CSV"),
        csv,
        "scope --customers writes export customers' bytes"
    );
    assert!(stderr.contains("affected customers to"), "{stderr}");
    for (args, refusal) in [
        (&["--customers", "-"][..], "--customers and the report"),
        (&["--customers"][..], "exists; --force replaces it"),
    ] {
        let mut command = bin();
        command.args(["scope", "--since", "2026-09-30"]).args(args);
        if args.len() == 1 {
            command.arg(&with_report);
        }
        let (code, stdout, stderr) = run(&mut command);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stdout.is_empty() && stderr.contains(refusal), "{stderr}");
    }
    let mut lines = csv.split("\r\n").filter(|l| !l.is_empty());
    assert_eq!(
        lines.next(),
        Some(
            "\u{feff}customer_id,tier,first_access,last_access,users,answered_to (not suspects),tools,calls,exfiltration_confirmed,evidence,manifest_sha256,query_pack_sha256"
        ),
        "a byte-order mark for Excel, then the header"
    );
    assert_eq!(
        lines.count(),
        report["affected_customers"].as_array().expect("list").len()
    );
}

#[test]
fn hostile_strings_stay_data_in_every_report() {
    let account = Account::new();
    let call = |time: &str, ip: &str, customer: &str| {
        serde_json::json!({"TimeGenerated": time, "Name": "tools/call get_customer", "Id": format!("id{time}"), "OperationId": format!("op{time}"), "ClientIP": "0.0.0.0",
            "Properties": {"mcp.method.name": "tools/call", "gen_ai.tool.name": "get_customer\u{1b}[2J", "client.address": ip, "enduser.id": "mallory@contoso.com",
                "gen_ai.tool.call.arguments": serde_json::json!({"customer_id": customer}).to_string()}})
        .to_string()
    };
    let body = [
        call("2026-10-01T02:05:00Z", "45.86.202.14", "=cmd|' /C calc'!A0"),
        call(
            "2026-10-01T02:06:00Z",
            "45.86.202.14",
            "<script>alert(1)</script>",
        ),
    ]
    .join("\n");
    account.put(&la_blob("AppRequests", "PT05M.json"), body.as_bytes());
    let case = tempfile::tempdir().expect("case");
    ingest_dir(account.path(), case.path());
    let case_arg = case.path().to_str().expect("path");
    let window = [
        "--since",
        "2026-10-01",
        "--until",
        "2026-10-02",
        "--ioc-ip",
        "45.86.202.14",
    ];
    let (_, csv, stderr) = run(bin()
        .args(["export", "customers", "--case", case_arg, "--out", "-"])
        .args(window));
    assert!(
        csv.contains("\"'=cmd|' /C calc'!A0\"") || csv.contains("'=cmd|' /C calc'!A0"),
        "{csv}{stderr}"
    );
    assert!(!csv.lines().any(|l| l.starts_with('=')));
    let (_, html, _) = run(bin()
        .args(["scope", "--case", case_arg, "--format", "html"])
        .args(window));
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !html.contains("<script>alert")
    );
    let (_, text, _) = run(bin().args(["scope", "--case", case_arg]).args(window));
    assert!(
        !text.contains('\u{1b}'),
        "no escape sequence reaches the terminal"
    );
    let (_, md, _) = run(bin()
        .args(["scope", "--case", case_arg, "--format", "md"])
        .args(window));
    assert!(!md.contains("<script>"));

    // The workbook: the attacker's `=cmd…` is a text cell, never a formula.
    let out = tempfile::tempdir().expect("out");
    let xlsx = out.path().join("scope.xlsx");
    let (code, _, stderr) = run(bin()
        .args(["export", "xlsx", "--case", case_arg, "--out"])
        .arg(&xlsx)
        .args(window));
    assert!(code == 0 || code == 3, "{stderr}");
    let sheets = workbook_sheets(&xlsx);
    let names: Vec<&str> = sheets.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "Affected customers",
            "Suspects",
            "Attacker calls",
            "Exfiltration",
            "Provenance"
        ]
    );
    for (name, xml) in &sheets {
        assert!(
            !xml.contains("<f>") && !xml.contains("<f "),
            "{name} holds a formula"
        );
    }
    let strings = workbook_part(&xlsx, "xl/sharedStrings.xml");
    assert!(
        strings.contains("=cmd|&apos; /C calc&apos;!A0") || strings.contains("=cmd|' /C calc'!A0"),
        "{strings}"
    );
    assert!(strings.contains("mallory@contoso.com"));
    // As Excel users expect: every table sheet with a frozen header and an autofilter, widths
    // from the content, times as date-time numbers under a header that names the zone, the tier
    // a list.
    for (name, xml) in &sheets[..4] {
        assert!(
            xml.contains("<pane ") && xml.contains("ySplit=\"1\""),
            "{name}"
        );
        assert!(xml.contains("<autoFilter "), "{name}");
        assert!(xml.contains("<cols>"), "{name}: column widths");
    }
    assert!(strings.contains("first_access (UTC)") && strings.contains("time (UTC)"));
    assert!(
        !strings.contains("<t>2026-10-01T02:0"),
        "no call's time is written as text: {strings}"
    );
    let customers = &sheets[0].1;
    assert!(
        customers.contains("<dataValidation ")
            && customers.contains("exfiltrated,accessed,exposed,cannot_exclude"),
        "{customers}"
    );
    // The first affected customer's first access: a number of days after 1899-12-30 that falls on
    // 2026-10-01 (46296).
    let first_access = customers
        .split("<c r=\"C2\"")
        .nth(1)
        .and_then(|c| c.split("<v>").nth(1))
        .and_then(|v| v.split("</v>").next())
        .expect("C2 holds a value");
    let days: f64 = first_access.parse().expect("a number");
    assert_eq!(days.floor(), 46_296.0, "{first_access}");
    let (code, _, stderr) = run(bin()
        .args(["export", "xlsx", "--case", case_arg, "--out"])
        .arg(&xlsx)
        .args(window));
    assert_eq!(
        code, 2,
        "an existing workbook is not overwritten without --force: {stderr}"
    );
    assert!(stderr.contains("--force"), "{stderr}");
}

/// One part of an .xlsx (a zip) as text.
fn workbook_part(path: &std::path::Path, part: &str) -> String {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut archive.by_name(part).unwrap(), &mut text).unwrap();
    text
}

/// Each sheet's name (from the workbook, in order) and XML.
fn workbook_sheets(path: &std::path::Path) -> Vec<(String, String)> {
    let workbook = workbook_part(path, "xl/workbook.xml");
    workbook
        .split("<sheet ")
        .skip(1)
        .enumerate()
        .map(|(i, sheet)| {
            let name = sheet
                .split("name=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap();
            (
                name.to_string(),
                workbook_part(path, &format!("xl/worksheets/sheet{}.xml", i + 1)),
            )
        })
        .collect()
}

#[test]
fn an_empty_baseline_names_only_what_needs_no_baseline() {
    let case = sample_case();
    let report = run_scope(
        &case,
        params("2026-09-15T00:00:00Z", "2026-10-15T00:00:00Z"),
        vec![],
    );
    let suspects: Vec<&str> = report.suspects.iter().map(|s| s.user.as_str()).collect();
    assert_eq!(
        suspects,
        vec!["bob.keller@contoso.com"],
        "the spray success still names the victim; nobody else is judged new"
    );
    assert!(report.coverage.statements[0].starts_with("There is no evidence in the baseline"));
    // A window starting at the evidence's first record, mid-hour: that hour's records are the
    // window's, and the baseline is still empty.
    let (first, _) = Case::open(&case)
        .expect("case")
        .evidence_span()
        .expect("span");
    assert_ne!(
        first.timestamp() % 3600,
        0,
        "the sample's evidence starts mid-hour"
    );
    let report = run_scope(
        &case,
        PackParams {
            since: first,
            until: mcpforensics::time::parse_timestamp("2026-10-15T00:00:00Z").expect("until"),
            baseline_start: first - chrono::Duration::days(14),
        },
        vec![],
    );
    assert!(
        report.coverage.statements[0].starts_with("There is no evidence in the baseline"),
        "{:?}",
        report.coverage.statements
    );
}

/// The report for people: the summary first (answer, totals, attack chain, what cannot be
/// excluded), figures that agree with the JSON, an indicator that matched nothing said so, blob
/// paths shortened with the full paths in an appendix, the generation time from
/// SOURCE_DATE_EPOCH so a report is reproduced byte for byte; and in headless Chromium the HTML
/// prints the summary alone on the first A4 page.
#[test]
fn the_report_for_people_opens_with_the_summary_and_prints_on_a4() {
    let scope = |format: &str| {
        let (code, out, stderr) = run(bin()
            .env("SOURCE_DATE_EPOCH", "1790000000")
            .args(["scope", "--since", "2026-09-30", "--format", format])
            .args(["--ioc-ip", "203.0.113.9", "--ioc-ip", "45.86.202.14"]));
        assert_eq!(code, 0, "{format}: {stderr}");
        out
    };
    let json = scope("json");
    let report: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert!(
        !json.contains("Generated"),
        "the JSON holds no generation time"
    );
    let calls = report["attacker_calls"].as_array().expect("calls").len();
    let customers = report["affected_customers"].as_array().expect("list");
    let exfiltrated = customers
        .iter()
        .filter(|c| c["tier"] == "exfiltrated")
        .count();

    let html = scope("html");
    assert_eq!(html, scope("html"), "byte for byte, given the same time");
    assert!(html.contains("Generated 2026-09-21 14:13:20 UTC by mcpforensics"));
    assert!(html.contains("All times are UTC"));
    let at = |text: &str| {
        html.find(text)
            .unwrap_or_else(|| panic!("{text} missing from the HTML"))
    };
    assert!(
        at("<h2>Summary</h2>") < at("<h2>Attack chain</h2>")
            && at("<h2>Attack chain</h2>") < at("<h2>What cannot be excluded</h2>")
            && at("<h2>What cannot be excluded</h2>") < at("id=\"suspects\""),
        "the summary comes first"
    );
    let summary = &html[at("<h2>Summary</h2>")..at("<h2>Attack chain</h2>")];
    assert!(
        summary.contains(&format!("in {calls} tool calls")),
        "{summary}"
    );
    assert!(
        summary.contains(&format!(
            "Data of {} customers was touched ({exfiltrated} exfiltrated",
            customers.len()
        )),
        "{summary}"
    );
    assert!(
        summary.contains("<th>indicators matching nothing</th><td>ip 203.0.113.9</td>"),
        "the indicator that matched nothing is named, the one that matched is not: {summary}"
    );
    let chain = &html[at("<h2>Attack chain</h2>")..at("<h2>What cannot be excluded</h2>")];
    let phases: Vec<&str> = [
        "initial access",
        "persistence",
        "collection",
        "exfiltration",
    ]
    .into_iter()
    .filter(|phase| chain.contains(&format!("<td class=\"t\">{phase}</td>")))
    .collect();
    assert_eq!(
        phases.len(),
        4,
        "every phase of the sample's attack: {chain}"
    );
    let calls_table = &html[at("id=\"calls\"")..at("id=\"customers\"")];
    assert_eq!(
        calls_table.matches("<tr>").count(),
        calls + 1,
        "a row per attacker call, and the header"
    );
    // Every shortened pointer has its full path in the appendix, and that path is the call's blob.
    // (`<wbr>` lets a long path wrap after its separators; it adds no character.)
    let appendix = html[at("id=\"evidence\"")..].replace("<wbr>", "");
    for call in report["attacker_calls"].as_array().expect("calls") {
        let blob = call["_blob"].as_str().expect("blob");
        assert!(appendix.contains(blob), "{blob} not in the appendix");
    }
    assert!(
        !calls_table.contains("WorkspaceResourceId=/subscriptions/c9c49e67-c2fd-4f36-a7f7-feaeff57d14c/resourcegroups/rg-mcp-prod/providers/microsoft.operationalinsights/workspaces/law-mcp-prod/y=2026</span>"),
        "pointers are shown short"
    );

    let text = scope("text");
    assert!(text.contains("Generated 2026-09-21 14:13:20 UTC"));
    let order: Vec<usize> = [
        "\nSUMMARY\n",
        "\nATTACK CHAIN\n",
        "\nWHAT CANNOT BE EXCLUDED",
        "\nSUSPECT IDENTITIES",
        "\nEVIDENCE CITED",
    ]
    .iter()
    .map(|s| {
        text.find(s)
            .unwrap_or_else(|| panic!("{s} missing:\n{text}"))
    })
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{text}");
    assert!(text.contains(&format!("… and {} more", customers.len() - 15)));
    assert!(!text.contains('\u{1b}'), "no colour into a pipe");
    let md = scope("md");
    assert!(
        md.find("## Summary").expect("md summary") < md.find("## Attack chain").expect("chain")
    );

    let (code, _, stderr) =
        run(bin()
            .env("SOURCE_DATE_EPOCH", "yesterday")
            .args(["scope", "--since", "2026-09-30"]));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("SOURCE_DATE_EPOCH"), "{stderr}");

    // Printed on A4 by Chromium: the summary and attack chain alone on page 1, details after.
    let dir = tempfile::tempdir().expect("dir");
    let page = dir.path().join("scope.html");
    std::fs::write(&page, &html).expect("write");
    let pdf = dir.path().join("scope.pdf");
    let status = std::process::Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-pdf-header-footer",
        ])
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(format!("file://{}", page.display()))
        .stderr(std::process::Stdio::null())
        .status()
        .expect("chromium is installed (.ci/run installs it)");
    assert!(status.success());
    let page_text = |n: &str| {
        let output = std::process::Command::new("pdftotext")
            .args(["-f", n, "-l", n, "-layout"])
            .arg(&pdf)
            .arg("-")
            .output()
            .expect("pdftotext is installed (.ci/run installs poppler-utils)");
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let first = page_text("1");
    assert!(
        first.contains("Summary")
            && first.contains("Attack chain")
            && first.contains("What cannot be excluded"),
        "{first}"
    );
    assert!(
        !first.contains("Suspect identities ("),
        "details start on page 2: {first}"
    );
    assert!(page_text("2").contains("Attacker tool calls per day"));
    // On A4 the cells are narrow: addresses and identities still never break inside themselves.
    let output = std::process::Command::new("pdftotext")
        .args(["-layout"])
        .arg(&pdf)
        .arg("-")
        .output()
        .expect("pdftotext");
    let printed = String::from_utf8_lossy(&output.stdout);
    let mut tokens = 0;
    for suspect in report["suspects"].as_array().expect("suspects") {
        let user = suspect["user"].as_str().expect("user");
        let ips = suspect["ips"].as_array().expect("ips");
        for token in std::iter::once(user).chain(ips.iter().filter_map(|ip| ip.as_str())) {
            assert!(printed.contains(token), "{token} broken on A4:\n{printed}");
            tokens += 1;
        }
    }
    assert!(tokens >= 2, "the sample's suspects and their addresses");
}

/// On a terminal the text report is coloured (the verdict and suspects in red); with NO_COLOR,
/// or into a pipe, it is not.
#[test]
fn the_text_report_is_coloured_on_a_terminal_unless_no_color() {
    let binary = env!("CARGO_BIN_EXE_mcpforensics");
    let tmux = Tmux {
        socket: format!("mcpf-colour-{}", std::process::id()),
    };
    let coloured = |no_color: bool| {
        let script = format!(
            "{}'{binary}' scope --case '{}' --since 2026-09-30 2>/dev/null; echo DONE; sleep 60",
            if no_color { "NO_COLOR=1 " } else { "" },
            sample_case().display(),
        );
        tmux.start(&script, 200, 50);
        tmux.wait_for("DONE", 240);
        let output = tmux
            .command()
            .args(["capture-pane", "-e", "-p", "-S", "-", "-t", "tl"])
            .output()
            .expect("capture");
        tmux.stop();
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let screen = coloured(false);
    assert!(screen.contains("Verdict: "), "{screen}");
    assert!(
        screen.contains("\u{1b}[1m\u{1b}[31m") || screen.contains("\u{1b}[1;31m"),
        "red and bold on a terminal: {screen:?}"
    );
    let plain = coloured(true);
    assert!(plain.contains("Verdict: "), "{plain}");
    assert!(
        !plain.contains("\u{1b}[31m") && !plain.contains("31m"),
        "NO_COLOR: {plain:?}"
    );
}

/// One breach on one telemetry shape, as the exporters write it by default (dependencies name
/// hosts, not addresses): judged against its truth, the upload through the server's own HTTP
/// client never an implant, and, behind API Management, the gateway calls the export gap left
/// without their server rows attributed to no one.
fn breach_on(story: Story, emitter: Emitter, sampled: u32, seed: u64) -> ScopeReport {
    // Sampled telemetry needs more traffic for the baseline to show an export gap at all.
    let scale = if sampled > 1 { 0.5 } else { 0.3 };
    let scenario = tenant(seed, scale, (2026, 9, 15), 24)
        .with_story(story)
        .with_emitter(emitter)
        .with_sampling(sampled);
    let report = judged(&scenario);
    assert!(
        report
            .attacker_calls
            .iter()
            .all(|c| c.user != "(authenticated caller, not named)"),
        "a gateway call without its server row is never the attacker's by itself"
    );
    if story.has(Story::Password) {
        let upload = report
            .exfiltration
            .iter()
            .find(|e| e.destination_ip == "91.215.85.30")
            .expect("the upload's address, tied to its host by time");
        assert_eq!(
            upload.destination_host.as_deref(),
            Some("files-drop.example.net")
        );
        assert!(
            !report
                .server_compromise
                .iter()
                .any(|s| s.destination_ip == "91.215.85.30"),
            "the server's upload on the attacker's request is exfiltration, not an implant"
        );
    }
    if emitter == Emitter::ViaApim {
        assert!(
            report.coverage.statements.iter().any(|s| s.contains(
                "came through API Management with a caller it authenticated (OAuth or a certificate) but without the server's row"
            )),
            "the export gap orphans gateway rows, and the report says so: {:?}",
            report.coverage.statements
        );
    }
    for customer in report
        .affected_customers
        .iter()
        .filter(|c| c.tier == "exposed")
    {
        assert!(
            customer.users.is_empty() && !customer.answered_to.is_empty(),
            "an exposed customer names no suspect, and says whom the copied answers went to"
        );
    }
    report
}

#[test]
fn matrix_password_via_api_management() {
    let report = breach_on(Story::Password, Emitter::ViaApim, 1, 101);
    let anonymous = report
        .suspects
        .iter()
        .find(|s| s.user == "(anonymous)")
        .expect("the stolen key's calls");
    assert_eq!(
        anonymous.credentials,
        vec!["API Management subscription helpdesk"]
    );
    assert!(
        report
            .suspects
            .iter()
            .filter(|s| s.user != "(anonymous)")
            .all(|s| s.credentials.is_empty()),
        "the ordinary client subscription a signed-in user calls through is not named"
    );
    // The same tenant with API Management's diagnostic setting in Azure diagnostics mode: its
    // gateway and MCP logs in the shared `AzureDiagnostics` table scope to the same answer; only
    // where the cited lines are differs.
    let in_azure_diagnostics = judged(
        &tenant(101, 0.3, (2026, 9, 15), 24)
            .with_story(Story::Password)
            .with_emitter(Emitter::ViaApim)
            .with_apim_logs(ApimLogs::AzureDiagnostics),
    );
    assert!(
        in_azure_diagnostics
            .attacker_calls
            .iter()
            .any(|c| c.origin.starts_with("APIM")),
        "calls through the gateway are read from AzureDiagnostics"
    );
    assert_eq!(
        without_citations(&in_azure_diagnostics),
        without_citations(&report)
    );
}

/// A report as JSON without what names the evidence's blobs and lines (and the case's hashes).
fn without_citations(report: &ScopeReport) -> Value {
    fn strip(value: &mut Value) {
        match value {
            Value::Object(map) => {
                for key in [
                    "_blob",
                    "_line",
                    "blob",
                    "line",
                    "evidence",
                    "manifest_sha256",
                ] {
                    map.remove(key);
                }
                map.values_mut().for_each(strip);
            }
            Value::Array(items) => items.iter_mut().for_each(strip),
            Value::String(text) => {
                *text = text
                    .split(' ')
                    .map(|word| if word.contains("/y=") { "<blob>" } else { word })
                    .collect::<Vec<_>>()
                    .join(" ");
            }
            _ => {}
        }
    }
    let mut value = serde_json::to_value(report).expect("report as JSON");
    strip(&mut value);
    value
}

#[test]
fn matrix_password_parent_user_id_diagnostic_sign_ins() {
    let scenario = tenant(103, 0.3, (2026, 9, 15), 24)
        .with_story(Story::Password)
        .with_emitter(Emitter::ParentChildUserId)
        .with_sign_in_layout(SignInLayout::Diag);
    judged(&scenario);
}

#[test]
fn matrix_token_via_api_management() {
    breach_on(Story::Token, Emitter::ViaApim, 1, 105);
}

#[test]
fn matrix_token_parent_child_sampled() {
    breach_on(Story::Token, Emitter::ParentChild, 3, 107);
}

#[test]
fn matrix_agent_via_api_management() {
    breach_on(Story::Agent, Emitter::ViaApim, 1, 109);
}

#[test]
fn matrix_agent_parent_user_id() {
    breach_on(Story::Agent, Emitter::ParentChildUserId, 1, 111);
}

#[test]
fn matrix_implant_via_api_management() {
    breach_on(Story::Implant, Emitter::ViaApim, 1, 113);
}

#[test]
fn matrix_implant_sessionless_sampled() {
    breach_on(Story::Implant, Emitter::NoSession, 3, 115);
}

#[test]
fn matrix_mixed_via_api_management_sampled() {
    breach_on(Story::Mixed, Emitter::ViaApim, 3, 117);
}

#[test]
fn matrix_mixed_parent_user_id() {
    breach_on(Story::Mixed, Emitter::ParentChildUserId, 1, 119);
}

/// Dependencies that carry the peer's address (some instrumentations add it) give the same answer.
#[test]
fn matrix_mixed_with_peer_addresses() {
    let scenario = tenant(121, 0.3, (2026, 9, 15), 24)
        .with_story(Story::Mixed)
        .with_peer_addresses(true);
    judged(&scenario);
}

/// A responder's guess of `--since`: a week early, a day early, an hour, six hours, two days and
/// six days late, and no guess (`auto`). Every one gives the answer of the exact window, and a window that moved says
/// what moved it.
fn window_sweep(story: Story, emitter: Emitter, seed: u64) {
    let scenario = tenant(seed, 0.3, (2026, 9, 1), 30)
        .with_story(story)
        .with_emitter(emitter);
    let account = Account::new();
    scenario.write(account.path()).expect("generate");
    let truth = serde_json::to_value(scenario.truth()).expect("truth");
    let case_dir = tempfile::tempdir().expect("case");
    ingest_dir(account.path(), case_dir.path());
    let attack =
        mcpforensics::time::parse_timestamp(truth["attack_start"].as_str().expect("start"))
            .expect("start");
    let end = mcpforensics::time::parse_timestamp(&format!(
        "{}T00:00:00Z",
        truth["start"].as_str().expect("start")
    ))
    .expect("day")
        + chrono::Duration::days(truth["days"].as_i64().expect("days"));
    let case = Case::open(case_dir.path()).expect("case");
    let (evidence_start, _) = case.evidence_span().expect("span");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let guesses = [
        ("a week early", Some(chrono::Duration::days(-7))),
        ("a day early", Some(chrono::Duration::days(-1))),
        ("an hour late", Some(chrono::Duration::hours(1))),
        ("six hours late", Some(chrono::Duration::hours(6))),
        ("two days late", Some(chrono::Duration::days(2))),
        ("six days late", Some(chrono::Duration::days(6))),
        ("auto", None),
    ];
    for (guess, offset) in guesses {
        let since = match offset {
            Some(offset) => attack + offset,
            None => mcpforensics::time::auto_since(evidence_start, end, 14),
        };
        let request = ScopeRequest {
            params: PackParams {
                since,
                until: end,
                baseline_start: since - chrono::Duration::days(14),
            },
            iocs: Vec::new(),
            all_days: false,
            method: if offset.is_some() { "given" } else { "auto" }.into(),
            settings: Default::default(),
        };
        let report = runtime
            .block_on(scope(&case, &request))
            .expect("scope runs");
        eprintln!(
            "{story:?} {guess}: asked {} scoped {} moved by {:?}",
            report.window.requested.since, report.window.scoped.since, report.window.moved_by
        );
        judge(&report, &truth);
        assert_eq!(
            report.window.requested.since,
            mcpforensics::time::format_utc(since)
        );
        assert_eq!(report.since, report.window.scoped.since, "{guess}");
        if report.window.scoped.since != report.window.requested.since {
            assert!(
                !report.window.moved_by.is_empty(),
                "{guess}: the report says what moved the window"
            );
            assert!(
                report
                    .coverage
                    .statements
                    .iter()
                    .any(|s| s.starts_with("The window asked for began")),
                "{guess}"
            );
        }
    }
}

#[test]
fn window_sweep_password_via_api_management() {
    window_sweep(Story::Password, Emitter::ViaApim, 131);
}

#[test]
fn window_sweep_implant() {
    window_sweep(Story::Implant, Emitter::OneRow, 133);
}

#[test]
fn window_sweep_token_parent_user_id() {
    window_sweep(Story::Token, Emitter::ParentChildUserId, 135);
}

#[test]
fn window_sweep_mixed_sessionless() {
    window_sweep(Story::Mixed, Emitter::NoSession, 137);
}

#[test]
fn window_sweep_agent_parent_child() {
    window_sweep(Story::Agent, Emitter::ParentChild, 139);
}

/// Every file under `dir`.
fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}

/// The day of month and hour of a blob's path (`…/d=16/h=03/…`).
fn blob_day_hour(path: &Path) -> Option<(u32, u32)> {
    let text = path.to_string_lossy();
    let day = text.find("/d=")?;
    let hour = text.find("/h=")?;
    Some((
        text.get(day + 3..day + 5)?.parse().ok()?,
        text.get(hour + 3..hour + 5)?.parse().ok()?,
    ))
}

/// The breach's first days as a responder may find them: the evidence begins two days before the
/// breach (retention) and in the breach's first two days the attacker sprayed and pulled from other
/// addresses and uploaded to another drop host and address than later. With `innocent_agent`, an
/// innocent's sign-in in the window carries the attacker's user agent. The truth gains the first
/// days' destinations.
fn rotated_password_breach(innocent_agent: bool) -> (Account, Value) {
    let scenario = tenant(131, 0.3, (2026, 9, 1), 30).with_story(Story::Password);
    let account = Account::new();
    scenario.write(account.path()).expect("generate");
    let mut truth = serde_json::to_value(scenario.truth()).expect("truth");
    let renames = [
        ("45.86.202.14", "45.86.202.99"),
        ("45.86.202.77", "45.86.202.98"),
        ("185.220.101.47", "185.220.101.99"),
        ("91.215.85.30", "91.215.85.99"),
        ("files-drop.example.net", "files-store.example.org"),
    ];
    let mut shared = !innocent_agent;
    for path in files_under(account.path()) {
        match blob_day_hour(&path) {
            Some((day, _)) if day <= 13 => std::fs::remove_file(&path).expect("remove"),
            Some((16 | 17, _)) => {
                let text = std::fs::read_to_string(&path).expect("read");
                let renamed = renames
                    .iter()
                    .fold(text.clone(), |t, (from, to)| t.replace(from, to));
                if renamed != text {
                    std::fs::write(&path, renamed).expect("write");
                }
            }
            Some((20, _)) if !shared && path.to_string_lossy().contains("am-signinlogs/") => {
                let text = std::fs::read_to_string(&path).expect("read");
                let edge = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Edg/131.0";
                if text.contains(edge) {
                    std::fs::write(&path, text.replacen(edge, "python-requests/2.32.3", 1))
                        .expect("write");
                    shared = true;
                }
            }
            _ => {}
        }
    }
    assert!(
        shared,
        "an innocent sign-in in the window was given the agent"
    );
    let destinations = truth["exfiltration"].as_array_mut().expect("list");
    for ip in ["45.86.202.99", "45.86.202.98", "91.215.85.99"] {
        destinations.push(serde_json::json!({ "ip": ip }));
    }
    (account, truth)
}

/// The earlier evidence of the attacker's later addresses, as the window looks them up from two
/// days and nine hours into the breach of [`rotated_password_breach`].
fn earlier_evidence_of_the_later_address(innocent_agent: bool) -> (Vec<WindowMove>, Value) {
    let (account, truth) = rotated_password_breach(innocent_agent);
    let case_dir = tempfile::tempdir().expect("case");
    ingest_dir(account.path(), case_dir.path());
    let case = Case::open(case_dir.path()).expect("case");
    let attack =
        mcpforensics::time::parse_timestamp(truth["attack_start"].as_str().expect("start"))
            .expect("start");
    let since = attack + chrono::Duration::hours(57);
    let until = mcpforensics::time::parse_timestamp("2026-10-01T00:00:00Z").expect("end");
    let found = std::collections::BTreeMap::from([
        ("45.86.202.14".to_string(), "attacker address".to_string()),
        ("45.86.202.77".to_string(), "attacker address".to_string()),
    ]);
    let moves = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(window::earlier_evidence(
            &case,
            &found,
            (since, until),
            &Default::default(),
        ))
        .expect("looked up");
    (moves, truth)
}

/// The user agent of the attacker's sign-ins is a session fingerprint: looked up before the window
/// for the accounts it signed in to, it reaches the breach's first sign-ins from addresses the
/// attacker no longer used, where the later address's own run stops.
#[test]
fn window_looks_up_the_user_agent_of_the_attackers_sign_ins() {
    let (moves, truth) = earlier_evidence_of_the_later_address(false);
    let address = moves
        .iter()
        .find(|m| m.artifact == "45.86.202.14")
        .expect("the address");
    // The address's run stops at its first use, the night of the breach's third day.
    assert!(
        address.first_seen.starts_with("2026-09-18T0"),
        "{address:?}"
    );
    let fingerprint = moves
        .iter()
        .find(|m| m.kind.starts_with("session fingerprint"))
        .expect("the user agent is looked up");
    assert_eq!(fingerprint.artifact, "python-requests/2.32.3");
    assert!(fingerprint.kind.contains("bob.keller@contoso.com"));
    // The spray's first failed sign-in to bob's account, from an address renamed away, minutes
    // after the breach began.
    let attack = truth["attack_start"].as_str().expect("start");
    assert!(
        fingerprint.first_seen.as_str() >= attack
            && fingerprint.first_seen.starts_with("2026-09-16T03:"),
        "{fingerprint:?} (breach from {attack})"
    );
    assert!(
        fingerprint
            .record
            .starts_with("SigninLogs (user agent) am-signinlogs/"),
        "{}",
        fingerprint.record
    );
}

/// A user agent anyone else signed in with in the window is nobody's fingerprint.
#[test]
fn a_user_agent_an_innocent_shares_is_no_fingerprint() {
    let (moves, _) = earlier_evidence_of_the_later_address(true);
    assert!(moves.iter().any(|m| m.artifact == "45.86.202.14"));
    assert!(
        !moves
            .iter()
            .any(|m| m.kind.starts_with("session fingerprint")),
        "{moves:?}"
    );
}

/// An agent hijack whose every hijacked call was sampled away (one operation in four kept): the
/// evidence cannot show that nothing happened. The scope says `inconclusive` and why (the call
/// telemetry is sampled), and the customers named in records the export cut short within the
/// window are `cannot_exclude`, as the truth has them (found by the CLI sweep of seeds 301–310).
#[test]
fn a_breach_sampled_away_is_inconclusive_and_its_unreadable_customers_are_listed() {
    let scenario = tenant(303, 0.5, (2026, 9, 1), 30)
        .with_story(Story::Agent)
        .with_emitter(Emitter::NoSession)
        .with_sampling(4);
    let truth = serde_json::to_value(scenario.truth()).expect("truth");
    assert!(
        truth["attacker_calls_sampled_away"].as_u64().unwrap_or(0) > 0
            && truth["compromised_users"]
                .as_array()
                .is_some_and(Vec::is_empty),
        "the tenant this test is about: {truth:#}"
    );
    let (report, truth) = scoped(&scenario);
    assert_eq!(report.verdict, mcpforensics::scope::Verdict::Inconclusive);
    assert!(
        report.coverage.statements[0].starts_with("Inconclusive: no suspect was found, but")
            && report.coverage.statements[0].contains("is sampled"),
        "{:?}",
        report.coverage.statements
    );
    assert!(report.suspects.is_empty());
    assert!(
        !report.affected_customers.is_empty()
            && truth["affected_customers"]
                .as_array()
                .is_some_and(|a| !a.is_empty())
    );
    judge(&report, &truth);
    assert!(
        report
            .affected_customers
            .iter()
            .all(|c| c.tier == "cannot_exclude"
                && c.evidence.iter().all(|e| e.starts_with("rejected "))),
        "{:?}",
        report.affected_customers
    );
}

/// A small implant tenant, generated and ingested: its account (for blobs added later), its case,
/// the attack's start, and the window from a day before it, with two weeks of baseline.
fn ingested_implant_tenant() -> (
    Account,
    tempfile::TempDir,
    chrono::DateTime<chrono::Utc>,
    PackParams,
) {
    let scenario = tenant(131, 0.3, (2026, 9, 1), 30).with_story(Story::Implant);
    let account = Account::new();
    scenario.write(account.path()).expect("generate");
    let truth = serde_json::to_value(scenario.truth()).expect("truth");
    let attack =
        mcpforensics::time::parse_timestamp(truth["attack_start"].as_str().expect("start"))
            .expect("start");
    let case_dir = tempfile::tempdir().expect("case");
    ingest_dir(account.path(), case_dir.path());
    let since = attack - chrono::Duration::days(1);
    let params = PackParams {
        since,
        until: mcpforensics::time::parse_timestamp("2026-10-01T00:00:00Z").expect("end"),
        baseline_start: since - chrono::Duration::days(14),
    };
    (account, case_dir, attack, params)
}

/// The server finding of a scope that must find the implant.
fn implant_finding(case: &Path, params: PackParams) -> mcpforensics::scope::ServerCompromise {
    run_scope(case, params, Vec::new())
        .server_compromise
        .into_iter()
        .next()
        .expect("the implant is found")
}

/// A destination of the MCP hosts' outbound flows is new in the window unless some host's outbound
/// flow reached it in the baseline within three days before its first flow of the window: the
/// implant's destination is new and the server's everyday destinations are not; a destination
/// another host reached the day before, or the MCP host two days before, is known; one reached a
/// week before and not since is new again (a cloud address may have changed hands).
#[test]
fn new_destinations_are_those_no_host_reached_within_three_days_before() {
    let (account, case_dir, attack, params) = ingested_implant_tenant();
    let implant = implant_finding(case_dir.path(), params);
    let (since, until) = (
        mcpforensics::time::format_utc(params.since),
        mcpforensics::time::format_utc(params.until),
    );
    let rows = |name: &str| pack_rows(case_dir.path(), name, (&since, &until), 14);
    let new_destinations = || -> BTreeMap<String, String> {
        rows("window_new_destinations")
            .iter()
            .map(|r| {
                (
                    r["dst_ip"].as_str().expect("dst_ip").to_string(),
                    r["first_seen"].as_str().expect("first_seen").to_string(),
                )
            })
            .collect()
    };
    let window_destinations: BTreeSet<String> = rows("host_outbound")
        .iter()
        .filter(|r| r["host"] == implant.host.as_str())
        .map(|r| r["dst_ip"].as_str().expect("dst_ip").to_string())
        .collect();
    let before = new_destinations();
    assert!(
        before.contains_key(&implant.destination_ip),
        "{before:?} lacks {}",
        implant.destination_ip
    );
    let everyday: Vec<&String> = window_destinations
        .iter()
        .filter(|d| !before.contains_key(*d))
        .collect();
    assert!(
        !everyday.is_empty(),
        "the server's everyday destinations are known from the baseline: {window_destinations:?}"
    );

    // Each destination reached once in the window, six hours after the attack began, and in the
    // baseline (before the window) as given.
    let reached = attack + chrono::Duration::hours(6);
    let other_host = "10.8.0.5";
    // (destination, its baseline flow: from which host and how long before, whether it is new)
    type Fixture<'a> = (&'a str, Option<(&'a str, chrono::Duration)>, bool);
    let fixtures: [Fixture; 4] = [
        (
            "203.0.113.50",
            Some((implant.host.as_str(), chrono::Duration::days(2))),
            false,
        ),
        (
            "203.0.113.51",
            Some((implant.host.as_str(), chrono::Duration::days(7))),
            true,
        ),
        (
            "203.0.113.52",
            Some((other_host, chrono::Duration::hours(31))),
            false,
        ),
        ("203.0.113.53", None, true),
    ];
    for (i, (destination, baseline, _)) in fixtures.iter().enumerate() {
        let mut flows = vec![(reached, implant.host.as_str())];
        if let Some((source, before)) = baseline {
            assert!(
                reached - *before < params.since,
                "the baseline flow is before the window"
            );
            flows.push((reached - *before, source));
        }
        for (j, (time, source)) in flows.into_iter().enumerate() {
            account.put(
                &format!(
                    "insights-logs-networksecuritygroupflowevent/resourceId=/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG-NEW/y={}/m=00/macAddress=000D3A0000{i}{j}/PT1H.json",
                    time.format("%Y/m=%m/d=%d/h=%H")
                ),
                &nsg_v2(&[&format!(
                    "{},{source},{destination},4100{i},443,T,O,A,E,5,600,5,900",
                    time.timestamp()
                )]),
            );
        }
    }
    ingest_dir(account.path(), case_dir.path());

    let after = new_destinations();
    let mut expected = before.clone();
    for (destination, _, new) in fixtures {
        if new {
            expected.insert(
                destination.to_string(),
                mcpforensics::time::format_utc(reached),
            );
        }
    }
    assert_eq!(after, expected);
}

/// An implant that reaches inward: new connections from the compromised MCP host to an internal
/// database (1433) and to another host's SSH (22) are lateral movement in the attack chain; the
/// host's everyday database connection (in the baseline too), its new connection on a port that
/// is neither management nor database, and an administrator's new connection from another
/// internal host are not.
#[test]
fn an_implant_reaching_inward_is_lateral_movement_in_the_chain() {
    let (account, case_dir, attack, params) = ingested_implant_tenant();
    let before = run_scope(case_dir.path(), params, Vec::new());
    let host = before
        .server_compromise
        .first()
        .expect("the implant is found")
        .host
        .clone();
    assert!(
        before.lateral_movement.is_empty(),
        "nothing inward yet: {:?}",
        before.lateral_movement
    );

    let at = |offset: chrono::Duration| (attack + offset).timestamp();
    let blob = |time: chrono::DateTime<chrono::Utc>| {
        format!(
            "insights-logs-networksecuritygroupflowevent/resourceId=/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG-INNER/y={}/m=00/macAddress=000D3A000009/PT1H.json",
            time.format("%Y/m=%m/d=%d/h=%H")
        )
    };
    let early = attack - chrono::Duration::days(5);
    account.put(
        &blob(early),
        &nsg_v2(&[&format!(
            "{},{host},10.9.9.20,40000,1433,T,O,A,B,3,300,3,900",
            early.timestamp()
        )]),
    );
    let tuples = [
        format!(
            "{},{host},10.9.9.20,40001,1433,T,O,A,B,3,300,3,900",
            at(chrono::Duration::hours(2))
        ),
        format!(
            "{},{host},10.9.9.9,40002,1433,T,O,A,B,9,900,40,80000",
            at(chrono::Duration::hours(3))
        ),
        format!(
            "{},{host},10.9.9.10,40003,22,T,O,A,B,20,3000,20,4000",
            at(chrono::Duration::minutes(181))
        ),
        format!(
            "{},{host},10.9.9.11,40004,8080,T,O,A,B,2,200,2,200",
            at(chrono::Duration::minutes(182))
        ),
        format!(
            "{},10.8.0.5,10.9.9.9,50000,1433,T,O,A,B,5,500,5,500",
            at(chrono::Duration::hours(4))
        ),
    ];
    let tuples: Vec<&str> = tuples.iter().map(String::as_str).collect();
    account.put(&blob(attack + chrono::Duration::hours(2)), &nsg_v2(&tuples));
    ingest_dir(account.path(), case_dir.path());

    let after = run_scope(case_dir.path(), params, Vec::new());
    let moves: BTreeSet<(String, String, u64, String)> = after
        .lateral_movement
        .iter()
        .map(|l| {
            (
                l.source_ip.clone(),
                l.destination_ip.clone(),
                l.port,
                l.source.clone(),
            )
        })
        .collect();
    let expected: BTreeSet<(String, String, u64, String)> = [("10.9.9.9", 1433), ("10.9.9.10", 22)]
        .into_iter()
        .map(|(dst, port)| {
            (
                host.clone(),
                dst.to_string(),
                port,
                "compromised MCP host".to_string(),
            )
        })
        .collect();
    assert_eq!(moves, expected);
    assert_eq!(
        after.affected_customers, before.affected_customers,
        "customers unchanged"
    );

    let (code, text, stderr) = run(bin().args(["scope", "--case"]).arg(case_dir.path()).args([
        "--since",
        &mcpforensics::time::format_utc(params.since),
        "--until",
        "2026-10-01T00:00:00Z",
    ]));
    assert!(code == 0 || code == 3, "{stderr}");
    let chain = &text[text.find("ATTACK CHAIN").expect("chain")..];
    let chain = &chain[..chain.find("\n\n").unwrap_or(chain.len())];
    assert!(
        chain.contains("lateral movement")
            && chain.contains(&format!(
                "{host} (compromised MCP host) reached 10.9.9.9 on port 1433 (SQL Server)"
            )),
        "{chain}"
    );
    assert!(!chain.contains("10.8.0.5"), "{chain}");
}

/// Whether the implanted host answered a call is decided to the second, whichever minute the
/// deciding flow falls in: a call counts when one of its client's flows to the host lies from two
/// minutes before it to five minutes after. Calls from addresses seen nowhere else, each with one
/// flow just inside or just outside an end of its span, name customers exposed exactly so.
#[test]
fn an_implants_answered_calls_are_placed_to_the_second() {
    use chrono::DurationRound;
    let (account, case_dir, attack, params) = ingested_implant_tenant();
    let host = implant_finding(case_dir.path(), params).host;

    // (the one flow's offset from the call in seconds, or none; whether the call is placed)
    let cases: [(Option<i64>, bool); 7] = [
        (Some(-121), false), // the minute two before the call's, before its span
        (Some(-119), true),  // the same minute, within the span
        (Some(-60), true),   // a minute wholly within
        (Some(0), true),
        (Some(299), true),  // the minute five after the call's, within the span
        (Some(301), false), // the same minute, after the span
        (None, false),
    ];
    // A named caller at noon, within the organisation's hours: an ordinary caller from addresses
    // of its own (a new address is the attacker's only with a second sign, and an anonymous
    // caller is one).
    let base = (attack + chrono::Duration::days(1))
        .duration_trunc(chrono::Duration::days(1))
        .expect("day")
        + chrono::Duration::hours(12)
        + chrono::Duration::seconds(30);
    let mut calls = Vec::new();
    let mut tuples = Vec::new();
    for (i, (offset, _)) in cases.iter().enumerate() {
        let time = base + chrono::Duration::minutes(5 * i as i64);
        let client = format!("10.77.0.{}", 10 + i);
        calls.push(
            serde_json::json!({"TimeGenerated": mcpforensics::time::format_utc(time),
                "Name": "tools/call get_customer", "Id": format!("edge{i}"), "OperationId": format!("edgeop{i}"),
                "UserAuthenticatedId": "edge.caller@contoso.example",
                "Properties": {"mcp.method.name": "tools/call", "gen_ai.tool.name": "get_customer", "client.address": client,
                    "gen_ai.tool.call.arguments": serde_json::json!({"customer_id": format!("EDGE-{i}")}).to_string()}})
            .to_string(),
        );
        if let Some(offset) = offset {
            tuples.push(format!(
                "{},{client},{host},50000,443,T,I,A,B,3,300,3,900",
                (time + chrono::Duration::seconds(*offset)).timestamp()
            ));
        }
    }
    account.put(
        &format!(
            "am-apprequests/WorkspaceResourceId=/subscriptions/s/resourcegroups/rg/providers/microsoft.operationalinsights/workspaces/ws/y={}/m=00/edge.json",
            base.format("%Y/m=%m/d=%d/h=%H")
        ),
        (calls.join("\n") + "\n").as_bytes(),
    );
    let tuples: Vec<&str> = tuples.iter().map(String::as_str).collect();
    account.put(
        &format!(
            "insights-logs-networksecuritygroupflowevent/resourceId=/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG-EDGE/y={}/m=00/macAddress=000D3A000077/PT1H.json",
            base.format("%Y/m=%m/d=%d/h=%H")
        ),
        &nsg_v2(&tuples),
    );
    ingest_dir(account.path(), case_dir.path());

    let report = run_scope(case_dir.path(), params, Vec::new());
    for (i, (offset, placed)) in cases.iter().enumerate() {
        let customer = format!("EDGE-{i}");
        let tier = report
            .affected_customers
            .iter()
            .find(|c| c.customer_id == customer)
            .map(|c| c.tier.as_str());
        assert_eq!(
            tier,
            placed.then_some("exposed"),
            "a flow at {offset:?} s from the call"
        );
    }
}
