//! Ingest end to end on the generated sample and small staged accounts: integrity, idempotence, pruning.

use std::collections::{HashMap, HashSet};
use std::process::Command;

use mcpforensics::case::Case;
use mcpforensics::ingest::IngestOptions;
use mcpforensics::time::parse_time_spec;

use crate::common::*;

/// Independent count of what the sample holds: lines that parse, exact duplicate lines, bad lines.
fn oracle(account: &std::path::Path) -> (u64, u64, u64) {
    let (mut rows, mut duplicates, mut bad) = (0, 0, 0);
    let mut seen: HashMap<String, HashSet<Vec<u8>>> = HashMap::new();
    for (path, _) in hash_tree(account) {
        if !path.starts_with("am-") {
            continue;
        }
        let container = path.split('/').next().unwrap_or_default().to_string();
        let body = std::fs::read(account.join(&path)).expect("read");
        for line in body.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            match serde_json::from_slice::<serde_json::Value>(line) {
                Ok(value)
                    if value
                        .get("SeverityLevel")
                        .is_some_and(serde_json::Value::is_string) =>
                {
                    bad += 1
                }
                Ok(_) => {
                    if seen
                        .entry(container.clone())
                        .or_default()
                        .insert(line.to_vec())
                    {
                        rows += 1;
                    } else {
                        duplicates += 1;
                    }
                }
                Err(_) => bad += 1,
            }
        }
    }
    (rows, duplicates, bad)
}

#[test]
fn sample_case_matches_an_independent_count() {
    let case = sample_case();
    let manifest = Case::open(&case)
        .expect("case")
        .manifest()
        .expect("manifest")
        .clone();
    let (rows, duplicates, bad) = oracle(&sample_account());
    let flow_rows = scalar(&case, "SELECT count(*) FROM flows") as u64;
    let ingest = &manifest.ingests[0];
    assert_eq!(ingest.rows_written - flow_rows, rows, "Log Analytics rows");
    assert_eq!(ingest.duplicates, duplicates);
    // Bad Log Analytics lines, plus the one flow-log blob read mid-record.
    assert_eq!(ingest.rejected, bad + 1);
    assert!(
        bad >= 3 && duplicates >= 10,
        "the sample exercises rejects ({bad}) and duplicates ({duplicates})"
    );
    assert_eq!(
        scalar(&case, "SELECT count(*) FROM rejects") as u64,
        ingest.rejected
    );
    // Every blob is in the manifest with its real hash and size.
    let on_disk: HashMap<String, String> = hash_tree(&sample_account()).into_iter().collect();
    assert_eq!(manifest.blobs.len(), on_disk.len());
    for blob in &manifest.blobs {
        assert_eq!(on_disk.get(&blob.path), Some(&blob.sha256), "{}", blob.path);
    }
    // Every case file the manifest lists exists with its hash.
    for file in &ingest.files {
        let bytes = std::fs::read(case.join(&file.path)).expect("case file exists");
        assert_eq!(
            hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes)),
            file.sha256
        );
    }
}

#[test]
fn sample_tables_are_typed_and_partitioned_by_day() {
    let case = sample_case();
    for table in [
        "SigninLogs",
        "AADNonInteractiveUserSignInLogs",
        "AuditLogs",
        "AppRequests",
        "AppDependencies",
        "AppTraces",
        "AppEvents",
        "ApiManagementGatewayLogs",
        "ApiManagementGatewayMCPLog",
        "flows",
    ] {
        assert!(
            scalar(&case, &format!("SELECT count(*) FROM \"{table}\"")) > 0,
            "{table} has rows"
        );
    }
    // Partition directories are days, and the date column agrees with the row time.
    assert_eq!(
        scalar(
            &case,
            "SELECT count(*) FROM \"AppRequests\" WHERE date <> to_char(\"TimeGenerated\", '%Y-%m-%d')"
        ),
        0
    );
    assert_eq!(
        scalar(&case, "SELECT count(DISTINCT date) FROM \"SigninLogs\""),
        30
    );
    // MCP attributes are lifted; ClientIP is masked but the real client address survives.
    assert_eq!(
        scalar(
            &case,
            "SELECT count(*) FROM \"AppRequests\" WHERE mcp_method = 'tools/call' AND (tool_name IS NULL OR client_address IS NULL OR \"ClientIP\" <> '0.0.0.0')"
        ),
        0
    );
    // The non-interactive table's JSON-string dynamic columns read the same as the interactive objects.
    let countries = query(
        &case,
        "SELECT DISTINCT \"Location\" FROM \"AADNonInteractiveUserSignInLogs\" WHERE \"LocationDetails\" LIKE '%countryOrRegion%' ORDER BY 1",
    );
    assert!(countries.len() >= 3);
}

#[test]
fn tool_calls_resolve_identity_by_object_id_and_keep_apim_calls() {
    let case = sample_case();
    let truth: serde_json::Value = serde_json::from_slice(
        &std::fs::read(root().join("sample-data/truth.json")).expect("truth"),
    )
    .expect("json");
    assert_eq!(truth["enduser_form"], "object_id");
    let victim = &truth["compromised_users"][0];
    let (upn, object_id) = (
        victim["upn"].as_str().expect("upn"),
        victim["object_id"].as_str().expect("id"),
    );
    let rows = query(
        &case,
        &format!(
            "SELECT DISTINCT enduser_id, user_id, user_principal_name, \"user\" FROM tool_calls WHERE enduser_id = '{object_id}'"
        ),
    );
    assert_eq!(rows, vec![vec![object_id, object_id, upn, upn]]);
    assert_eq!(
        scalar(
            &case,
            "SELECT count(*) FROM tool_calls WHERE \"user\" = '(anonymous)' AND origin <> 'APIM'"
        ),
        0
    );
    assert_eq!(
        scalar(
            &case,
            "SELECT count(*) FROM tool_calls WHERE origin = 'APIM' AND (arguments IS NULL OR client_address IS NULL)"
        ),
        0
    );
    // The attacker's calls arrive from the attacker's addresses, as the generator says.
    let ips: Vec<String> = truth["attacker_ips"]
        .as_array()
        .expect("ips")
        .iter()
        .map(|v| format!("'{}'", v.as_str().expect("ip")))
        .collect();
    let attacker_calls = scalar(
        &case,
        &format!(
            "SELECT count(*) FROM tool_calls WHERE client_address IN ({})",
            ips.join(",")
        ),
    );
    let expected = truth["attacker_tool_calls"].as_i64().expect("count");
    assert!(
        attacker_calls <= expected && attacker_calls >= expected - 3,
        "{attacker_calls} of {expected} (a few lines are deliberately truncated)"
    );
}

#[test]
fn reingest_adds_nothing_and_source_is_untouched() {
    let account = generated_account(3, (2026, 3, 1), 10);
    let before = hash_tree(account.path());
    let case = tempfile::tempdir().expect("case");
    let first = ingest_dir(account.path(), case.path());
    assert!(first.files > 100 && first.records > 500);
    let counts = query(
        case.path(),
        "SELECT count(*), count(DISTINCT _row_hash) FROM tool_calls JOIN \"AppRequests\" USING (_blob, _line)",
    );
    let first_manifest = Case::open(case.path())
        .expect("case")
        .manifest()
        .expect("manifest")
        .clone();
    let case_before = hash_tree(case.path());
    let second = ingest_dir(account.path(), case.path());
    assert!(second.unchanged, "the run says nothing changed");
    assert_eq!(
        hash_tree(case.path()),
        case_before,
        "a run that adds nothing leaves the case, manifest included, byte for byte"
    );
    assert_eq!(
        (
            second.files,
            second.records,
            second.duplicates,
            second.blobs_already_ingested
        ),
        (0, 0, 0, first.files)
    );
    assert_eq!(
        query(
            case.path(),
            "SELECT count(*), count(DISTINCT _row_hash) FROM tool_calls JOIN \"AppRequests\" USING (_blob, _line)"
        ),
        counts
    );
    assert_eq!(
        hash_tree(account.path()),
        before,
        "source files are never modified"
    );
    let manifest = Case::open(case.path())
        .expect("case")
        .manifest()
        .expect("manifest")
        .clone();
    assert_eq!(
        manifest.ingests.len(),
        1,
        "a run that adds nothing is not recorded"
    );
    assert_eq!(manifest.ingests[0], first_manifest.ingests[0]);
    // The first run's records are copied into the rewritten manifest unchanged.
    assert_eq!(manifest.blobs.len() as u64, first.files);
    assert_eq!(manifest.blobs, first_manifest.blobs);
    assert_eq!(manifest.totals, first_manifest.totals);
}

/// Two ingests into one case at once would each rewrite the manifest (one run lost) and the
/// second would remove the first's files in progress: the second fails at once, saying why,
/// and touches nothing.
#[test]
fn a_second_ingest_into_a_case_being_written_fails_and_changes_nothing() {
    let account = generated_account(4, (2026, 3, 1), 2);
    let case = tempfile::tempdir().expect("case");
    ingest_dir(account.path(), case.path());
    let before = hash_tree(case.path());
    let held = mcpforensics::case::lock_for_writing(case.path()).expect("lock");
    let error = mcpforensics::ingest::ingest(
        &mcpforensics::sources::local::LocalSource::new(account.path()),
        case.path(),
        &mcpforensics::ingest::IngestOptions::default(),
    )
    .expect_err("the case is being written");
    assert!(
        error
            .to_string()
            .contains("another mcpforensics process is ingesting"),
        "{error}"
    );
    assert_eq!(hash_tree(case.path()), before, "nothing changed");
    let (code, _, stderr) = run(bin().args([
        "ingest",
        account.path().to_str().expect("path"),
        "--case",
        case.path().to_str().expect("path"),
    ]));
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("another mcpforensics process"), "{stderr}");
    drop(held);
    let again = ingest_dir(account.path(), case.path());
    assert!(again.blobs_already_ingested > 0 && again.records == 0);
}

/// Each ingest run indexes the identities of the sign-ins it wrote; merged, the index gives
/// exactly the identities computed from every sign-in, which is what a case without an index
/// (or with one missing) falls back to.
#[test]
fn identity_index_of_several_runs_equals_identities_from_the_sign_ins() {
    let account = generated_account(7, (2026, 3, 1), 10);
    // One identity signs in last under a new name, in the second run: both ways must name it so.
    let (blob, _) = hash_tree(account.path())
        .into_iter()
        .find(|(p, _)| p.starts_with("am-signinlogs/") && p.contains("/d=02/"))
        .expect("a sign-in blob");
    let body = std::fs::read_to_string(account.path().join(&blob)).expect("blob");
    let mut renamed: serde_json::Value =
        serde_json::from_str(body.lines().next().expect("a line")).expect("json");
    let renamed_id = renamed["UserId"].as_str().expect("id").to_string();
    renamed["UserPrincipalName"] = "renamed.user@contoso.example".into();
    renamed["TimeGenerated"] = "2026-03-11T00:30:00.0000000Z".into();
    renamed["Id"] = "00000000-0000-4000-8000-00000000000a".into();
    let day = blob.split("/d=02/").next().expect("prefix");
    account.put(
        &format!("{day}/d=11/h=00/m=00/PT1H-renamed.json"),
        format!("{renamed}\n").as_bytes(),
    );
    // An AI agent (Entra Agent ID on its service-principal sign-ins, as Microsoft Graph's
    // agentSignIn names them) and a person an agent signed in for, in the second run.
    account.put(
        &la_blob("AADServicePrincipalSignInLogs", "PT05M.json"),
        serde_json::json!({"TimeGenerated": "2026-10-01T02:05:00Z", "Id": "sp-sign-in-1", "ServicePrincipalId": "agent-sp-1",
            "ServicePrincipalName": "crm-triage-agent", "AppId": "agent-app-1", "ResultType": "0", "IPAddress": "10.0.4.4",
            "Agent": {"agentType": "agenticAppInstance", "agentSubjectType": "agenticAppInstance", "agentSubjectParentId": "blueprint-1"},
            "Type": "AADServicePrincipalSignInLogs"})
        .to_string()
        .as_bytes(),
    );
    account.put(
        &la_blob("AADNonInteractiveUserSignInLogs", "PT05M.json"),
        serde_json::json!({"TimeGenerated": "2026-10-01T02:06:00Z", "Id": "obo-sign-in-1", "UserId": "person-obo-1",
            "UserPrincipalName": "dana@contoso.example", "AppId": "agent-app-1", "ResultType": "0", "IPAddress": "10.0.4.4",
            "Agent": {"agentType": "notAgentic", "agentSubjectType": "agenticAppInstance", "agentSubjectParentId": "blueprint-1"},
            "Type": "AADNonInteractiveUserSignInLogs"})
        .to_string()
        .as_bytes(),
    );
    let case = tempfile::tempdir().expect("case");
    let split = parse_time_spec("2026-03-06").expect("split");
    for (since, until) in [(None, Some(split)), (Some(split), None)] {
        ingest_window(account.path(), case.path(), since, until);
    }
    let manifest = Case::open(case.path())
        .expect("case")
        .manifest()
        .expect("manifest")
        .clone();
    let index: Vec<&str> = manifest
        .ingests
        .iter()
        .flat_map(|i| &i.files)
        .filter(|f| f.table == "identities")
        .map(|f| f.path.as_str())
        .collect();
    assert_eq!(index.len(), 2, "one index file per run: {index:?}");
    assert!(index.iter().all(|p| p.starts_with("index/identities-")));
    let report = mcpforensics::case::verify::verify(&Case::open(case.path()).expect("case"))
        .expect("verify");
    assert!(!report.has_differences(), "{report:?}");

    let identities = "SELECT user_id, user_principal_name, display_name, first_sign_in, last_sign_in, sign_ins, kind, agent_type, agent_parent, agent_app, acting_agent FROM identities ORDER BY user_id";
    let from_index = query(case.path(), identities);
    let row_of = |id: &str| {
        from_index
            .iter()
            .find(|row| row[0] == id)
            .unwrap_or_else(|| panic!("{id}: {from_index:?}"))
            .clone()
    };
    assert_eq!(
        row_of("agent-sp-1")[6..],
        [
            "agent",
            "agenticAppInstance",
            "blueprint-1",
            "agent-app-1",
            ""
        ]
    );
    assert_eq!(
        row_of("person-obo-1")[6..],
        ["person", "", "", "", "blueprint-1"]
    );
    assert!(
        from_index
            .iter()
            .filter(|row| !row[0].starts_with("agent-sp"))
            .all(|row| row[6] == "person"
                || row[6] == "service principal"
                || row[6] == "managed identity"),
        "{from_index:?}"
    );
    assert!(from_index.iter().any(|row| row[6] == "person"));
    let users = from_index.len() as i64;
    let named: Vec<&Vec<String>> = from_index
        .iter()
        .filter(|row| row[0] == renamed_id)
        .collect();
    assert_eq!(named.len(), 1);
    assert_eq!(named[0][1], "renamed.user@contoso.example");
    assert!(users > 10, "{users} identities");
    // Users signed in before and after the split: more index rows than identities.
    assert!(scalar(case.path(), "SELECT count(*) FROM identity_index") > users);
    let sign_ins = "SELECT count(*) FROM (SELECT \"UserId\" FROM \"SigninLogs\" UNION ALL SELECT \"UserId\" FROM \"AADNonInteractiveUserSignInLogs\" UNION ALL SELECT \"ServicePrincipalId\" FROM \"AADServicePrincipalSignInLogs\") WHERE \"UserId\" <> ''";
    assert_eq!(
        scalar(case.path(), "SELECT sum(sign_ins) FROM identities"),
        scalar(case.path(), sign_ins)
    );

    // The same case without one of its index files computes identities from the sign-ins.
    let copy = tempfile::tempdir().expect("copy");
    copy_dir(case.path(), copy.path());
    std::fs::remove_file(copy.path().join(index[0])).expect("remove");
    assert_eq!(
        scalar(copy.path(), "SELECT count(*) FROM identity_index"),
        users
    );
    assert_eq!(query(copy.path(), identities), from_index);
}

#[test]
fn since_and_until_prune_blobs_before_opening_them() {
    let account = generated_account(5, (2026, 3, 1), 10);
    let all: Vec<String> = hash_tree(account.path())
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    let in_window: Vec<&String> = all
        .iter()
        .filter(|p| p.contains("/d=07/") || p.contains("/d=08/"))
        .collect();
    let case = tempfile::tempdir().expect("case");
    let options = IngestOptions {
        since: Some(parse_time_spec("2026-03-07").expect("since")),
        until: Some(parse_time_spec("2026-03-09T00:00:00Z").expect("until")),
        threads: 2,
        warn_limit: 0,
        ..IngestOptions::default()
    };
    let summary = ingest_with(account.path(), case.path(), options);
    assert_eq!(summary.blobs_listed as usize, all.len());
    assert_eq!(summary.files as usize, in_window.len());
    assert_eq!(
        summary.blobs_outside_window as usize,
        all.len() - in_window.len()
    );
    let manifest = Case::open(case.path())
        .expect("case")
        .manifest()
        .expect("manifest")
        .clone();
    assert!(
        manifest
            .blobs
            .iter()
            .all(|b| b.path.contains("/d=07/") || b.path.contains("/d=08/"))
    );
    let days = query(
        case.path(),
        "SELECT DISTINCT date FROM \"AppRequests\" ORDER BY 1",
    );
    assert_eq!(days, vec![vec!["2026-03-07"], vec!["2026-03-08"]]);
    // A relative span counts back from the end of the evidence (the last path hour).
    let case = tempfile::tempdir().expect("case");
    let options = IngestOptions {
        since: Some(parse_time_spec("1d").expect("span")),
        threads: 2,
        warn_limit: 0,
        ..IngestOptions::default()
    };
    let summary = ingest_with(account.path(), case.path(), options);
    assert_eq!(summary.since.as_deref(), Some("2026-03-10T00:00:00Z"));
    assert_eq!(
        summary.files as usize,
        all.iter().filter(|p| p.contains("/d=10/")).count()
    );
}

#[test]
fn a_flow_blob_read_again_after_it_grew_adds_only_the_new_tuples() {
    let full = String::from_utf8(real("nsg-flowlog-v1_real_3records.json")).expect("utf8");
    // Mid-hour: only the first record had been appended.
    let second_record = full
        .match_indices("\"time\"")
        .nth(1)
        .map(|(i, _)| i)
        .expect("two records");
    let open_brace = full[..second_record].rfind('{').expect("brace");
    let partial = full[..open_brace].trim_end().trim_end_matches(',');
    let account = Account::new();
    account.put(&nsg_blob(1), partial.as_bytes());
    let case = tempfile::tempdir().expect("case");
    let first = ingest_dir(account.path(), case.path());
    assert_eq!((first.records, first.rejected), (14, 0));
    account.put(&nsg_blob(1), full.as_bytes());
    let second = ingest_dir(account.path(), case.path());
    assert_eq!(
        (second.files, second.records, second.duplicates),
        (1, 24, 14)
    );
    assert_eq!(scalar(case.path(), "SELECT count(*) FROM flows"), 38);
    let manifest = Case::open(case.path())
        .expect("case")
        .manifest()
        .expect("manifest")
        .clone();
    assert_eq!(
        manifest.blobs.len(),
        2,
        "both versions of the blob are on record"
    );
    assert_ne!(manifest.blobs[0].sha256, manifest.blobs[1].sha256);
}

#[test]
fn a_blob_rewritten_after_ingest_is_named_not_read_and_the_earlier_version_is_kept() {
    let account = Account::new();
    let blob = la_blob("AppTraces", "PT05M.json");
    let earlier = "{\"TimeGenerated\":\"2026-10-01T02:05:00Z\",\"Message\":\"first\"}\n";
    account.put(&blob, earlier.as_bytes());
    let case = tempfile::tempdir().expect("case");
    assert_eq!(ingest_dir(account.path(), case.path()).records, 1);

    // Longer than before, but not by appending: the first record changed.
    let rewritten = "{\"TimeGenerated\":\"2026-10-01T02:05:00Z\",\"Message\":\"FORGED\"}\n\
                     {\"TimeGenerated\":\"2026-10-01T02:06:00Z\",\"Message\":\"more\"}\n";
    account.put(&blob, rewritten.as_bytes());
    let (code, stdout, stderr) = run(bin()
        .arg("ingest")
        .arg(account.path())
        .arg("--case")
        .arg(case.path()));
    assert_eq!(code, 3, "{stdout}{stderr}");
    assert!(
        stderr.contains(&blob) && stderr.contains("rewritten since it was ingested"),
        "{stderr}"
    );
    assert!(stdout.contains("REWRITTEN"), "{stdout}");
    assert_eq!(
        query(case.path(), "SELECT \"Message\" FROM \"AppTraces\""),
        vec![vec!["first".to_string()]],
        "the earlier version stays the evidence; nothing of the rewritten one is read"
    );
    let manifest = Case::open(case.path()).unwrap().manifest().unwrap().clone();
    let record = manifest.blobs.last().unwrap();
    assert!(record.rewritten.is_some(), "{record:?}");
    assert_eq!(record.size, rewritten.len() as u64);

    let (code, stdout, stderr) = run(bin()
        .args(["verify", "--case"])
        .arg(case.path())
        .arg("--source")
        .arg(account.path()));
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stdout.contains(&format!("CHANGED: {blob}")), "{stdout}");

    // Truncated is rewritten too; appending to the version ingested is not.
    account.put(&blob, &earlier.as_bytes()[..10]);
    let (code, _, stderr) = run(bin()
        .arg("ingest")
        .arg(account.path())
        .arg("--case")
        .arg(case.path()));
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("shorter than"), "{stderr}");
    let appended =
        format!("{earlier}{{\"TimeGenerated\":\"2026-10-01T02:07:00Z\",\"Message\":\"later\"}}\n");
    account.put(&blob, appended.as_bytes());
    let summary = ingest_dir(account.path(), case.path());
    assert!(summary.blobs_rewritten.is_empty());
    assert_eq!((summary.records, summary.duplicates), (1, 1));
}

#[test]
fn keep_raw_keeps_a_verified_custody_copy_of_every_blob() {
    let account = nsg_and_traces_account(b"{\"TimeGenerated\":\"2026-10-01T02:05:00Z\"}\n");
    let case = tempfile::tempdir().expect("case");
    let options = IngestOptions {
        keep_raw: true,
        threads: 2,
        warn_limit: 0,
        ..IngestOptions::default()
    };
    let summary = ingest_with(account.path(), case.path(), options);
    assert_eq!(summary.files, 2);
    let manifest = Case::open(case.path())
        .expect("case")
        .manifest()
        .expect("manifest")
        .clone();
    for blob in &manifest.blobs {
        let copy = blob.raw_copy.as_deref().expect("a raw copy");
        assert_eq!(copy, format!("raw/{}", blob.path));
        let bytes = std::fs::read(case.path().join(copy)).expect("copy exists");
        assert_eq!(
            hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes)),
            blob.sha256
        );
        assert_eq!(
            bytes,
            std::fs::read(account.path().join(&blob.path)).expect("source")
        );
    }
}

/// The one-pass manifest summary reports use agrees with the full manifest, and hashes the file.
#[test]
fn manifest_summary_agrees_with_the_manifest() {
    let case = Case::open(&sample_case()).expect("case");
    let summary = case.summary().expect("summary").clone();
    let manifest = case.manifest().expect("manifest");
    assert_eq!(summary.blobs, manifest.blobs.len());
    assert_eq!(
        summary.rejected,
        manifest.blobs.iter().map(|b| b.rejected).sum::<u64>()
    );
    assert!(summary.rejected > 0, "the sample has rejected records");
    assert_eq!(
        summary.unreadable,
        manifest
            .blobs
            .iter()
            .filter(|b| b.read_error.is_some())
            .count()
    );
    let last = manifest
        .blobs
        .iter()
        .filter_map(|b| {
            b.last_time
                .as_deref()
                .and_then(mcpforensics::time::parse_timestamp)
        })
        .max();
    assert_eq!(summary.last_time, last);
    let (_, sha256) =
        mcpforensics::case::files::hash_file(&sample_case().join("manifest.json")).expect("hash");
    assert_eq!(summary.sha256, sha256);
}

#[test]
fn links_pipes_and_overlong_paths_are_named_as_ignored_and_the_rest_is_ingested() {
    let account = Account::new();
    let good = la_blob("AppTraces", "PT05M.json");
    account.put(
        &good,
        b"{\"TimeGenerated\":\"2026-10-01T02:05:00Z\",\"Message\":\"kept\"}\n",
    );
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("PT05M.json");
    std::fs::write(
        &secret,
        "{\"TimeGenerated\":\"2026-10-01T02:05:00Z\",\"Message\":\"outside\"}\n",
    )
    .unwrap();
    let traces = account.path().join("am-apptraces");
    // A link to a file and to a folder outside the source, and a named pipe.
    std::os::unix::fs::symlink(&secret, traces.join("link.json")).unwrap();
    std::os::unix::fs::symlink(outside.path(), traces.join("linked-folder")).unwrap();
    std::os::unix::fs::symlink(outside.path(), account.path().join("am-linked")).unwrap();
    let made = Command::new("mkfifo")
        .arg(traces.join("pipe.json"))
        .status()
        .unwrap();
    assert!(made.success());
    // A blob below folders whose path passes the OS limit (made one relative step at a time).
    let segment = "d".repeat(250);
    let script = format!(
        "cd '{}' && for i in $(seq 1 18); do mkdir {segment} && cd {segment}; done && echo '{{}}' > PT05M.json",
        traces.display()
    );
    assert!(
        Command::new("bash")
            .args(["-c", &script])
            .status()
            .unwrap()
            .success()
    );

    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = run(bin()
        .arg("ingest")
        .arg(account.path())
        .args(["--format", "json", "--case"])
        .arg(dir.path().join("case")));
    assert_eq!(code, 0, "{stdout}{stderr}");
    let summary: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(summary["files"], 1);
    let ignored: Vec<(String, String)> = summary["ignored"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["path"].as_str().unwrap().to_string(),
                i["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let reason_of = |suffix: &str| {
        ignored
            .iter()
            .find(|(p, _)| p.ends_with(suffix))
            .map(|(_, r)| r.clone())
            .unwrap_or_else(|| panic!("{suffix} not named: {ignored:?}"))
    };
    assert!(reason_of("am-apptraces/link.json").contains("symbolic link"));
    assert!(reason_of("am-apptraces/linked-folder").contains("symbolic link"));
    assert!(reason_of("am-linked").contains("symbolic link"));
    assert!(reason_of("am-apptraces/pipe.json").contains("not a regular file"));
    assert!(
        ignored.iter().any(|(p, r)| p.contains(&segment)
            && (r.contains("OS limit") || r.contains("cannot be read"))),
        "{ignored:?}"
    );
    assert_eq!(
        query(
            &dir.path().join("case"),
            "SELECT \"Message\" FROM \"AppTraces\""
        ),
        vec![vec!["kept".to_string()]],
        "nothing outside the source was read"
    );
}

/// The rows of `tool_calls`, sorted, as text: what the call index must reproduce exactly.
fn every_call(case: &std::path::Path) -> Vec<Vec<String>> {
    query(
        case,
        "SELECT * FROM tool_calls ORDER BY _blob, _line, time, origin, arguments",
    )
}

/// Each ingest derives the call index; a session reads it only while it describes the case as it
/// is (the same files, customer keys and build), and it holds exactly the view's rows.
#[test]
fn the_call_index_is_derived_at_ingest_and_read_only_while_current() {
    use mcpforensics::query::call_index::{self, Derived};
    let account = generated_account(5, (2026, 3, 1), 10);
    let case = tempfile::tempdir().expect("case");
    let index_dirs = || -> Vec<String> {
        std::fs::read_dir(case.path().join("derived"))
            .map(|entries| {
                entries
                    .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    let reads_index = |case: &std::path::Path| {
        scalar(
            case,
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'tool_calls_index'",
        ) == 1
    };
    let split = parse_time_spec("2026-03-06").expect("split");
    let first = ingest_window(account.path(), case.path(), None, Some(split));
    let Some(Derived::Current {
        calls,
        seconds: Some(_),
        dir: first_dir,
    }) = first.call_index
    else {
        panic!("the first run derives the index: {:?}", first.call_index);
    };
    assert!(calls > 20, "{calls} calls");
    assert!(reads_index(case.path()));
    assert_eq!(
        scalar(case.path(), "SELECT count(*) FROM tool_calls") as u64,
        calls
    );
    assert_eq!(index_dirs().len(), 1);

    // A second run adds days: a new index over the whole case replaces the first.
    let second = ingest_window(account.path(), case.path(), Some(split), None);
    let Some(Derived::Current {
        calls: all, dir, ..
    }) = second.call_index.clone()
    else {
        panic!("the second run derives the index: {:?}", second.call_index);
    };
    assert!(all > calls);
    assert_ne!(dir, first_dir);
    assert_eq!(
        index_dirs(),
        vec![dir.trim_start_matches("derived/").to_string()]
    );
    let opened = Case::open(case.path()).expect("case");
    let current = call_index::current(&opened)
        .expect("reads")
        .expect("current");
    assert_eq!(current.dir, dir);
    assert_eq!(current.record.calls, all);
    for file in &current.record.files {
        let (size, sha256) =
            mcpforensics::case::files::hash_file(&case.path().join(&dir).join(&file.path))
                .expect("hash");
        assert_eq!((size, sha256.as_str()), (file.size, file.sha256.as_str()));
    }

    // Exactly the view's rows, every column (the view is what a case without the index reads).
    let from_index = every_call(case.path());
    assert_eq!(from_index.len() as u64, all);
    let without = tempfile::tempdir().expect("copy");
    copy_dir(case.path(), without.path());
    std::fs::remove_dir_all(without.path().join("derived")).expect("remove");
    assert!(!reads_index(without.path()));
    assert_eq!(every_call(without.path()), from_index);

    // Related a week at a time (the least span: days 1-7, then 8-10, each with a day either side),
    // the same rows; and the spans count the tables the view reads: requests, dependencies and the
    // gateway's logs, not the traces, sign-ins (identities are read whole) or flows.
    let weekly = tempfile::tempdir().expect("copy");
    copy_dir(without.path(), weekly.path());
    let weekly_case = Case::open(weekly.path()).expect("case");
    assert!(
        matches!(call_index::ensure_blocking_in_spans(&weekly_case, 1), Derived::Current { calls, .. } if calls == all)
    );
    assert_eq!(every_call(weekly.path()), from_index);
    let read = tokio::runtime::Runtime::new()
        .expect("runtime")
        .block_on(async {
            // A case without the index: `tool_calls` is the view.
            let view_case = Case::open(without.path()).expect("case");
            let engine = mcpforensics::query::QueryEngine::open(&view_case, &Default::default())
                .await
                .expect("engine");
            call_index::tables_read(engine.context(), "tool_calls").await
        })
        .expect("plan");
    for table in [
        "AppRequests",
        "AppDependencies",
        "ApiManagementGatewayMCPLog",
        "ApiManagementGatewayLogs",
    ] {
        assert!(read.contains(table), "{table} in {read:?}");
    }
    for table in ["SigninLogs", "AuditLogs", "AppTraces", "flows"] {
        assert!(!read.contains(table), "{table} in {read:?}");
    }

    // A run that adds nothing finds it current; in a copy without it, it derives it again.
    let third = ingest_dir(account.path(), case.path());
    assert!(third.unchanged);
    assert!(
        matches!(&third.call_index, Some(Derived::Current { seconds: None, dir: d, .. }) if *d == dir),
        "{:?}",
        third.call_index
    );
    let rederived = ingest_dir(account.path(), without.path());
    assert!(
        rederived.unchanged,
        "deriving the index changes no evidence"
    );
    assert!(matches!(
        rederived.call_index,
        Some(Derived::Current {
            seconds: Some(_),
            ..
        })
    ));
    assert!(reads_index(without.path()));

    // Other customer keys: the index no longer describes the case and is not read.
    std::fs::write(
        without.path().join("config.json"),
        r#"{"customer_keys": ["no_such_key"]}"#,
    )
    .expect("config");
    assert!(!reads_index(without.path()));
    assert_eq!(
        scalar(
            without.path(),
            "SELECT count(*) FROM tool_calls WHERE cardinality(customers) > 0"
        ),
        0
    );
    assert!(
        scalar(
            case.path(),
            "SELECT count(*) FROM tool_calls WHERE cardinality(customers) > 0"
        ) > 0
    );

    // A damaged index (a file cut short) or a case file gone: the view answers.
    let copy = tempfile::tempdir().expect("copy");
    copy_dir(case.path(), copy.path());
    let file = copy.path().join(&dir).join(&current.record.files[0].path);
    let bytes = std::fs::read(&file).expect("read");
    std::fs::write(&file, &bytes[..bytes.len() / 2]).expect("cut");
    assert!(!reads_index(copy.path()));
    assert_eq!(every_call(copy.path()), from_index);
    let table_file = &opened.head().expect("head").ingests[0]
        .files
        .iter()
        .find(|f| f.table == "AppRequests")
        .expect("a request file")
        .path;
    copy_dir(case.path(), copy.path());
    std::fs::remove_file(copy.path().join(table_file)).expect("remove");
    assert!(!reads_index(copy.path()));

    // A derivation killed part-way left its temporary directory: the next one removes it.
    let killed = case
        .path()
        .join("derived/.tool_calls-0000.tmp/date=2026-03-01");
    std::fs::create_dir_all(&killed).expect("mkdir");
    std::fs::write(killed.join("calls.parquet"), b"half").expect("write");
    std::fs::remove_file(case.path().join(&dir).join(call_index::INDEX_FILE)).expect("remove");
    assert!(!reads_index(case.path()));
    let fourth = ingest_dir(account.path(), case.path());
    assert!(matches!(
        fourth.call_index,
        Some(Derived::Current {
            seconds: Some(_),
            ..
        })
    ));
    assert_eq!(
        index_dirs(),
        vec![dir.trim_start_matches("derived/").to_string()]
    );
    assert_eq!(every_call(case.path()), from_index);
}
