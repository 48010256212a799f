//! Shared helpers: staged storage accounts, library-level ingest and SQL, the sample case.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use mcpforensics::case::Case;
use mcpforensics::ingest::{IngestOptions, IngestSummary, ingest};
use mcpforensics::query::QueryEngine;
use mcpforensics::report::table::cells;
use mcpforensics::sources::local::LocalSource;

/// The project root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A real public sample from tests/fixtures/real.
pub fn real(name: &str) -> Vec<u8> {
    std::fs::read(root().join("tests/fixtures/real").join(name)).expect("fixture exists")
}

/// The committed sample storage account.
pub fn sample_account() -> PathBuf {
    root().join("sample-data/account")
}

/// Cache directory shared by tests (sample case built once, atomically).
pub fn test_cache() -> PathBuf {
    root().join("target/test-cache")
}

/// The case built from the committed sample (built once, shared by all tests).
pub fn sample_case() -> PathBuf {
    mcpforensics::bundled::sample_case_at(&sample_account(), &test_cache(), false)
        .expect("sample case builds")
}

/// A temporary storage account layout.
pub struct Account {
    pub dir: tempfile::TempDir,
}

impl Account {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// Writes a blob at `path` (container/…).
    pub fn put(&self, path: &str, body: &[u8]) -> &Self {
        let full = self.dir.path().join(path);
        std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
        std::fs::write(full, body).expect("write blob");
        self
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// A storage account holding a small generated incident (scale 0.3, `days` days from `start`).
pub fn generated_account(seed: u64, start: (i32, u32, u32), days: u32) -> Account {
    let account = Account::new();
    let start = chrono::NaiveDate::from_ymd_opt(start.0, start.1, start.2).expect("date");
    mcpforensics::sample::Scenario::new(seed, 0.3, start, days)
        .write(account.path())
        .expect("generate");
    account
}

/// An account with a real NSG v1 blob (38 tuples) and an AppTraces blob with this body.
pub fn nsg_and_traces_account(traces: &[u8]) -> Account {
    let account = Account::new();
    account.put(&nsg_blob(1), &real("nsg-flowlog-v1_real_3records.json"));
    account.put(&la_blob("AppTraces", "PT05M.json"), traces);
    account
}

/// A typical Log Analytics export folder for `table` at 2026-10-01 02:05.
pub fn la_blob(table: &str, file: &str) -> String {
    format!(
        "am-{}/WorkspaceResourceId=/subscriptions/s/resourcegroups/rg/providers/microsoft.operationalinsights/workspaces/ws/y=2026/m=10/d=01/h=02/m=05/{file}",
        table.to_ascii_lowercase()
    )
}

/// An NSG flow-log blob path for hour `h` of 2026-10-01.
pub fn nsg_blob(h: u32) -> String {
    format!(
        "insights-logs-networksecuritygroupflowevent/resourceId=/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG/y=2026/m=10/d=01/h={h:02}/m=00/macAddress=000D3A000001/PT1H.json"
    )
}

/// A VNet flow-log blob path.
pub fn vnet_blob() -> String {
    "insights-logs-flowlogflowevent/flowLogResourceID=/SUB_NETWORKWATCHERRG/NETWORKWATCHER_WESTEUROPE_FL/y=2022/m=09/d=14/h=09/m=00/macAddress=00224871C205/PT1H.json".into()
}

/// Ingests with the library, two threads, no output.
pub fn ingest_dir(source: &Path, case: &Path) -> IngestSummary {
    ingest_with(
        source,
        case,
        IngestOptions {
            threads: 2,
            warn_limit: 0,
            derive: Some(mcpforensics::query::call_index::ensure_blocking),
            ..IngestOptions::default()
        },
    )
}

/// Ingests the blobs of `[since, until)` with the library, two threads, no output.
pub fn ingest_window(
    source: &Path,
    case: &Path,
    since: Option<mcpforensics::time::TimeSpec>,
    until: Option<mcpforensics::time::TimeSpec>,
) -> IngestSummary {
    ingest_with(
        source,
        case,
        IngestOptions {
            since,
            until,
            threads: 2,
            warn_limit: 0,
            derive: Some(mcpforensics::query::call_index::ensure_blocking),
            ..IngestOptions::default()
        },
    )
}

pub fn ingest_with(source: &Path, case: &Path, options: IngestOptions) -> IngestSummary {
    ingest(&LocalSource::new(source), case, &options).expect("ingest runs")
}

/// Runs SQL on a case and returns every cell as text.
pub fn query(case: &Path, sql: &str) -> Vec<Vec<String>> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let case = Case::open(case).expect("case opens");
        let engine = QueryEngine::open(&case, &Default::default())
            .await
            .expect("engine");
        let (_, batches) = engine
            .sql(sql)
            .await
            .unwrap_or_else(|e| panic!("query {sql} failed: {e}"));
        cells(&batches).expect("cells")
    })
}

/// A single number from a query.
pub fn scalar(case: &Path, sql: &str) -> i64 {
    query(case, sql)[0][0]
        .parse()
        .unwrap_or_else(|_| panic!("{sql} is not a number"))
}

/// The binary, with the cache pointed at the test cache.
pub fn bin() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mcpforensics"));
    command
        .env("MCPFORENSICS_CACHE_DIR", test_cache())
        .env("MCPFORENSICS_SAMPLE_DIR", sample_account())
        .env_remove("MCPFORENSICS_CASE");
    command
}

pub fn run(command: &mut Command) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = command.output().expect("binary runs");
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

/// The rows of one pack query on a case (`queries run NAME --format json`), over the window given
/// as it is (`--as-given`: not widened) with `baseline_days` of baseline.
pub fn pack_rows(
    case: &Path,
    name: &str,
    (since, until): (&str, &str),
    baseline_days: u32,
) -> Vec<serde_json::Value> {
    let (code, stdout, stderr) = run(bin()
        .args(["queries", "run", name, "--case"])
        .arg(case)
        .args(["--since", since, "--until", until, "--baseline-days"])
        .arg(baseline_days.to_string())
        .args(["--as-given", "--format", "json"]));
    assert_eq!(code, 0, "{name}: {stderr}");
    serde_json::from_str(&stdout).expect("JSON rows")
}

/// SHA-256 of every file under a directory, by relative path.
pub fn hash_tree(dir: &Path) -> Vec<(String, String)> {
    use sha2::Digest;
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let bytes = std::fs::read(&path).expect("read");
                let rel = path
                    .strip_prefix(dir)
                    .expect("prefix")
                    .to_string_lossy()
                    .into_owned();
                out.push((rel, hex::encode(sha2::Sha256::digest(&bytes))));
            }
        }
    }
    out.sort();
    out
}

/// Copies a directory tree (a case to change without touching the shared one).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A tmux server of the test's own.
pub struct Tmux {
    /// The server's socket name (`tmux -L`).
    pub socket: String,
}

impl Tmux {
    /// A tmux command on this server.
    pub fn command(&self) -> Command {
        let mut command = Command::new("tmux");
        command.args(["-L", &self.socket]);
        command
    }

    /// Starts `script` in the session `tl`, `width` columns by `height` rows.
    pub fn start(&self, script: &str, width: u16, height: u16) {
        let status = self
            .command()
            .args(["new-session", "-d", "-s", "tl", "-x", &width.to_string()])
            .args(["-y", &height.to_string(), script])
            .status()
            .expect("tmux is installed (.ci/run installs it)");
        assert!(status.success());
    }

    /// Ends the session `tl`.
    pub fn stop(&self) {
        let _ = self.command().args(["kill-session", "-t", "tl"]).status();
    }

    /// Sends keys to the session `tl`.
    pub fn keys(&self, keys: &[&str]) {
        let status = self
            .command()
            .args(["send-keys", "-t", "tl"])
            .args(keys)
            .status()
            .expect("tmux is installed (.ci/run installs it)");
        assert!(status.success());
    }

    /// Types text into the session `tl`.
    pub fn literal(&self, text: &str) {
        let status = self
            .command()
            .args(["send-keys", "-t", "tl", "-l", text])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// What the session shows.
    pub fn screen(&self) -> String {
        let output = self
            .command()
            .args(["capture-pane", "-p", "-t", "tl"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Waits until the screen shows `text`; panics with the screen after `seconds`.
    pub fn wait_for(&self, text: &str, seconds: u64) -> String {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "waited for {text:?}; the screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.command().arg("kill-server").status();
    }
}

/// An NSG v2 blob whose tuples are these.
pub fn nsg_v2(tuples: &[&str]) -> Vec<u8> {
    serde_json::json!({"records": [{
        "time": "2026-10-01T14:00:00.0000000Z",
        "systemId": "5f4d8b5e-0000-0000-0000-000000000001",
        "macAddress": "000D3A000001",
        "category": "NetworkSecurityGroupFlowEvent",
        "resourceId": "/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG",
        "operationName": "NetworkSecurityGroupFlowEvents",
        "properties": {"Version": 2, "flows": [{"rule": "DefaultRule_AllowVnetOutBound", "flows": [
            {"mac": "000D3A000001", "flowTuples": tuples}
        ]}]}
    }]})
    .to_string()
    .into_bytes()
}
