//! Faults: Ctrl-C in the middle of ingest and scope, a full disk, a read-only case. Each gives a
//! clear message, leaves no half-written file, and leaves the case as its manifest describes it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

/// Every file under `dir` whose name marks it as unfinished.
fn temporaries(dir: &Path) -> Vec<String> {
    hash_tree(dir)
        .into_iter()
        .map(|(path, _)| path)
        .filter(|p| p.ends_with(".tmp") || p.ends_with(".raw-tmp"))
        .collect()
}

fn wait_until(what: &str, seconds: u64, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while !done() {
        assert!(Instant::now() < deadline, "waited for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn interrupt(pid: u32) {
    let status = Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

fn table_rows(case: &Path) -> Vec<Vec<String>> {
    query(
        case,
        "SELECT 'AppRequests', count(*) FROM \"AppRequests\" UNION ALL SELECT 'flows', count(*) FROM flows \
         UNION ALL SELECT 'SigninLogs', count(*) FROM \"SigninLogs\" UNION ALL SELECT 'rejects', count(*) FROM rejects ORDER BY 1",
    )
}

#[test]
fn ctrl_c_during_ingest_leaves_nothing_half_written_and_a_rerun_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let case = dir.path().join("case");
    let child = bin()
        .arg("ingest")
        .arg(sample_account())
        .arg("--keep-raw")
        .arg("--case")
        .arg(&case)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Interrupt once the run has parquet files open.
    wait_until("an open parquet file", 120, || {
        case.exists() && temporaries(&case).iter().any(|p| p.contains("tables/"))
    });
    interrupt(child.id());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted (Ctrl-C)"), "{stderr}");
    assert_eq!(
        temporaries(&case),
        Vec::<String>::new(),
        "no half-written file"
    );
    let (code, stdout, stderr) = run(bin().args(["verify", "--case"]).arg(&case));
    assert_eq!(
        code, 0,
        "the case is what its manifest says:\n{stdout}{stderr}"
    );

    // Running the same command again completes the case, equal to an uninterrupted ingest.
    let (code, _, stderr) = run(bin()
        .arg("ingest")
        .arg(sample_account())
        .arg("--keep-raw")
        .arg("--case")
        .arg(&case));
    assert!(code == 0 || code == 3, "{stderr}");
    assert_eq!(table_rows(&case), table_rows(&sample_case()));
    let (code, stdout, stderr) = run(bin().args(["verify", "--case"]).arg(&case));
    assert_eq!(code, 0, "{stdout}{stderr}");
}

#[test]
fn ctrl_c_during_scope_writes_no_report() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("scope.html");
    let started = Instant::now();
    let child = bin()
        .args([
            "scope",
            "--since",
            "2026-09-30",
            "--format",
            "html",
            "--out",
        ])
        .arg(&report)
        .arg("--case")
        .arg(sample_case())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    interrupt(child.id());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(!report.exists(), "no report from an interrupted run");
    assert_eq!(temporaries(dir.path()), Vec::<String>::new());
}

/// Runs the binary with a file-size limit, the way a full disk stops writes (EFBIG instead of
/// ENOSPC; the same error path), with SIGXFSZ ignored so the write fails instead of killing.
fn with_full_disk(args: &[&std::ffi::OsStr], limit_blocks: u32) -> (i32, String, String) {
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(format!(
            "trap '' XFSZ; ulimit -f {limit_blocks}; exec \"$0\" \"$@\""
        ))
        .arg(env!("CARGO_BIN_EXE_mcpforensics"))
        .args(args)
        .env("MCPFORENSICS_CACHE_DIR", test_cache())
        .env("MCPFORENSICS_SAMPLE_DIR", sample_account());
    run(&mut command)
}

#[test]
fn a_full_disk_gives_a_clear_error_and_leaves_the_case_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    // A new case: the first parquet file outgrows the limit.
    let case = dir.path().join("new");
    let (code, _, stderr) = with_full_disk(
        &[
            "ingest".as_ref(),
            sample_account().as_os_str(),
            "--case".as_ref(),
            case.as_os_str(),
        ],
        64,
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("File too large"), "{stderr}");
    assert!(
        stderr.contains(&format!("error: writing {}", case.display())),
        "the message names the file: {stderr}"
    );
    assert_eq!(temporaries(&case), Vec::<String>::new());
    let (code, stdout, stderr) = run(bin().args(["verify", "--case"]).arg(&case));
    assert_eq!(code, 0, "{stdout}{stderr}");

    // An existing case: more evidence does not fit; the case is byte for byte as before.
    let existing = dir.path().join("existing");
    copy_dir(&sample_case(), &existing);
    let before = hash_tree(&existing);
    let more = generated_account(12, (2026, 11, 1), 2);
    let (code, _, stderr) = with_full_disk(
        &[
            "ingest".as_ref(),
            more.path().as_os_str(),
            "--case".as_ref(),
            existing.as_os_str(),
        ],
        64,
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("File too large"), "{stderr}");
    assert_eq!(
        hash_tree(&existing),
        before,
        "nothing changed, nothing left behind"
    );

    // A report that does not fit is not left half-written.
    let report = dir.path().join("scope.json");
    let (code, _, stderr) = with_full_disk(
        &[
            "scope".as_ref(),
            "--since".as_ref(),
            "2026-09-30".as_ref(),
            "--format".as_ref(),
            "json".as_ref(),
            "--out".as_ref(),
            report.as_os_str(),
            "--case".as_ref(),
            existing.as_os_str(),
        ],
        8,
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("File too large") && stderr.contains("scope.json"),
        "{stderr}"
    );
    assert!(!report.exists());
    assert_eq!(temporaries(dir.path()), Vec::<String>::new());
}

/// The binary as an unprivileged user when the tests run as root (root ignores permissions).
fn unprivileged() -> Command {
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    let mut command = if is_root {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"]);
        c.arg(env!("CARGO_BIN_EXE_mcpforensics"));
        c
    } else {
        Command::new(env!("CARGO_BIN_EXE_mcpforensics"))
    };
    command.env("MCPFORENSICS_CACHE_DIR", "/nonexistent-cache");
    command
}

fn make_read_only(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    for entry in std::fs::read_dir(path).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            make_read_only(&entry.path());
        } else {
            std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(0o444)).unwrap();
        }
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o555)).unwrap();
}

#[test]
fn a_read_only_case_gives_a_clear_error_and_stays_as_it_was() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let case = dir.path().join("case");
    copy_dir(&sample_case(), &case);
    let more = generated_account(12, (2026, 11, 1), 2);
    let readable: PathBuf = more.path().to_path_buf();
    std::fs::set_permissions(&readable, std::fs::Permissions::from_mode(0o755)).unwrap();
    make_read_only(&case);
    let before = hash_tree(&case);

    let (code, _, stderr) = run(unprivileged()
        .arg("ingest")
        .arg(&readable)
        .arg("--case")
        .arg(&case));
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("Permission denied"), "{stderr}");
    assert!(
        stderr.contains(&case.display().to_string()),
        "the message names the path: {stderr}"
    );
    assert_eq!(hash_tree(&case), before);

    // Reading still works, and a report cannot be written into the read-only case either.
    let (code, stdout, stderr) = run(unprivileged()
        .args(["sql", "SELECT count(*) AS n FROM tool_calls", "--case"])
        .arg(&case));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains('n'));
    let report = case.join("scope.json");
    let (code, _, stderr) = run(unprivileged()
        .args([
            "scope",
            "--since",
            "2026-09-30",
            "--format",
            "json",
            "--out",
        ])
        .arg(&report)
        .arg("--case")
        .arg(&case));
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("Permission denied") && stderr.contains("scope.json"),
        "{stderr}"
    );
    assert_eq!(hash_tree(&case), before);
    std::fs::set_permissions(&case, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A case after an earlier ingest of part of `account`, then an ingest of all of it that the
/// process is killed in at `crash_at` (a hook that aborts as SIGKILL would: no clean-up).
fn killed_while_committing(account: &Path, case: &Path, crash_at: &str) {
    let (code, _, stderr) = run(bin()
        .arg("ingest")
        .arg(account)
        .args(["--until", "2026-04-03", "--case"])
        .arg(case));
    assert!(code == 0 || code == 3, "{stderr}");
    let output = bin()
        .arg("ingest")
        .arg(account)
        .arg("--case")
        .arg(case)
        .env("MCPFORENSICS_TEST_CRASH_AT", crash_at)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), None, "killed by its signal");
}

#[test]
fn a_run_killed_while_committing_is_settled_by_the_next_and_equals_an_uninterrupted_one() {
    let account = generated_account(7, (2026, 4, 1), 4);
    let dir = tempfile::tempdir().unwrap();
    let reference = dir.path().join("reference");
    ingest_dir(account.path(), &reference);
    let expected = table_rows(&reference);

    for crash_at in ["commit:2", "manifest:0"] {
        let case = dir.path().join(crash_at.replace(':', "-"));
        killed_while_committing(account.path(), &case, crash_at);
        // Files the manifest does not list are in the case; verify says what to do, and it is
        // not to delete them.
        let (code, stdout, stderr) = run(bin().args(["verify", "--case"]).arg(&case));
        assert_eq!(code, 1, "{stdout}{stderr}");
        assert!(stdout.contains("NOT IN MANIFEST"), "{crash_at}: {stdout}");
        assert!(
            stdout.contains("run the same ingest again"),
            "{crash_at}: {stdout}"
        );

        let (code, stdout, stderr) = run(bin()
            .arg("ingest")
            .arg(account.path())
            .arg("--case")
            .arg(&case));
        assert!(code == 0 || code == 3, "{stderr}");
        assert!(
            stdout.contains("recovered: run") && stdout.contains("killed while committing"),
            "{crash_at}: {stdout}"
        );
        assert_eq!(table_rows(&case), expected, "{crash_at}");
        let duplicates = scalar(
            &case,
            "SELECT count(*) - count(DISTINCT _row_hash) FROM \"AppRequests\"",
        );
        assert_eq!(duplicates, 0, "{crash_at}");
        let (code, stdout, stderr) = run(bin().args(["verify", "--case"]).arg(&case));
        assert_eq!(code, 0, "{crash_at}: {stdout}{stderr}");
    }
}

/// Waits up to `seconds` for the child to end; kills it and fails if it does not.
fn ends_within(child: &mut std::process::Child, seconds: u64, what: &str) -> Option<i32> {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{what}: still running after {seconds} s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_closed_stderr_neither_hangs_the_ingest_nor_stops_sigterm() {
    let account = generated_account(8, (2026, 4, 1), 3);
    // Rejected records make the ingest warn on stderr while it works.
    let garbage: String = (0..200).map(|i| format!("not json {i}\n")).collect();
    account.put(&la_blob("AppTraces", "PT05M.json"), garbage.as_bytes());
    let dir = tempfile::tempdir().unwrap();

    // `ingest … 2>&1 | head -1`: the reader goes away at once.
    let mut child = bin()
        .arg("ingest")
        .arg(account.path())
        .arg("--case")
        .arg(dir.path().join("closed"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take());
    let code = ends_within(&mut child, 120, "ingest with a closed stderr");
    assert_eq!(code, Some(3), "completes, partial for its rejects");
    let (code, stdout, stderr) = run(bin()
        .args(["verify", "--case"])
        .arg(dir.path().join("closed")));
    assert_eq!(code, 0, "{stdout}{stderr}");

    // SIGTERM while stderr is closed still ends it within seconds, leaving a consistent case.
    let case = dir.path().join("terminated");
    let mut child = bin()
        .arg("ingest")
        .arg(sample_account())
        .arg("--case")
        .arg(&case)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take());
    wait_until("an open parquet file", 120, || {
        case.exists() && temporaries(&case).iter().any(|p| p.contains("tables/"))
    });
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(
        ends_within(&mut child, 20, "ingest after SIGTERM"),
        Some(143)
    );
    assert_eq!(temporaries(&case), Vec::<String>::new());
    let (code, stdout, stderr) = run(bin().args(["verify", "--case"]).arg(&case));
    assert_eq!(code, 0, "{stdout}{stderr}");
}
