//! Scale-out (feature `cluster`): a real Ballista scheduler and two executors on loopback, each a
//! child process of the real binary (`mcpforensics cluster …`); the analysis commands run through
//! them give what the local run gives, byte for byte.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use std::sync::Arc;

use arrow::array::StringArray;
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use datafusion::common::TableReference;
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;
use datafusion_proto::logical_plan::LogicalExtensionCodec;
use mcpforensics::query::codec::CaseLogicalCodec;
use mcpforensics::query::udf;

use crate::azure::{Azurite, case_as_blobs};
use crate::common::{bin, run, sample_case};

/// A cluster process, stopped when dropped.
struct Process {
    child: Child,
    name: String,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Process {
    /// Starts `mcpforensics <args>` with `env` set (credentials for a case in Blob Storage).
    fn start(name: &str, args: &[&str], env: &[(&str, &str)], log: &Path) -> Self {
        let log = std::fs::File::create(log).expect("log file");
        let child = bin()
            .args(args)
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("cluster process starts");
        Self {
            child,
            name: name.to_string(),
        }
    }

    /// Waits until it accepts connections on `port`, failing if it exits first.
    fn wait_listening(&mut self, port: u16) {
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("{} exited before listening: {status}", self.name);
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "{} is not listening on {port} after 60 s",
                self.name
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("address").port()
}

/// The directory of a test's cluster (logs, the executors' shuffle files, the scratch directory):
/// in memory (`/dev/shm`) where the machine has one with a GiB free, else the temporary directory.
/// An executor makes and removes directories for every task; on this machine's ext4 the executors
/// used 1.4–2.1 times the CPU they used on tmpfs, more with each run (docs/scale-out.md, "Where
/// executors keep their shuffle files"). These tests check answers, the same on either.
fn cluster_dir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    let free_kib = Command::new("df")
        .args(["-k", "--output=avail"])
        .arg(shm)
        .output()
        .ok()
        .and_then(|out| {
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .nth(1)
                .and_then(|line| line.trim().parse::<u64>().ok())
        })
        .unwrap_or(0);
    if free_kib >= 1 << 20
        && let Ok(dir) = tempfile::Builder::new()
            .prefix("mcpforensics-cluster-")
            .tempdir_in(shm)
    {
        return dir;
    }
    tempfile::tempdir().expect("dir")
}

/// A scheduler and its executors on loopback, each a child process of the real binary, their
/// logs and shuffle files in a [`cluster_dir`].
struct Cluster {
    dir: tempfile::TempDir,
    scheduler_port: u16,
    scheduler: Option<Process>,
    executors: Vec<Option<Process>>,
    logs: Vec<PathBuf>,
}

/// Partitions each stage is split into in these tests: more than the executors' slots.
const PARTITIONS: &str = "4";

impl Cluster {
    /// `executors` executors of two slots each; `scheduler_args` and `executor_args` are added to
    /// their command lines, `env` to their environment.
    fn start(
        executors: usize,
        env: &[(&str, &str)],
        scheduler_args: &[&str],
        executor_args: &[&str],
    ) -> Self {
        let dir = cluster_dir();
        let scheduler_port = free_port();
        let bind = format!("127.0.0.1:{scheduler_port}");
        let mut args = vec!["cluster", "scheduler", "--bind", &bind];
        args.extend_from_slice(scheduler_args);
        let mut scheduler =
            Process::start("scheduler", &args, env, &dir.path().join("scheduler.log"));
        scheduler.wait_listening(scheduler_port);
        let mut cluster = Self {
            dir,
            scheduler_port,
            scheduler: Some(scheduler),
            executors: Vec::new(),
            logs: Vec::new(),
        };
        for n in 0..executors {
            let (port, task_port) = (free_port(), free_port());
            let work_dir = cluster.dir.path().join(format!("executor-{n}"));
            std::fs::create_dir_all(&work_dir).expect("work dir");
            let log = cluster.dir.path().join(format!("executor-{n}.log"));
            let mut executor_env = env.to_vec();
            executor_env.push(("MCPFORENSICS_LOG", "info"));
            let (scheduler, bind) = (
                format!("127.0.0.1:{scheduler_port}"),
                format!("127.0.0.1:{port}"),
            );
            let task_port = task_port.to_string();
            let mut args = vec![
                "cluster",
                "executor",
                "--scheduler",
                &scheduler,
                "--bind",
                &bind,
                "--task-port",
                &task_port,
                "--slots",
                "2",
                "--work-dir",
                work_dir.to_str().expect("utf-8 path"),
            ];
            args.extend_from_slice(executor_args);
            let mut executor = Process::start(&format!("executor {n}"), &args, &executor_env, &log);
            executor.wait_listening(port);
            cluster.executors.push(Some(executor));
            cluster.logs.push(log);
        }
        cluster
    }

    /// The scheduler's address for `--cluster`.
    fn url(&self) -> String {
        format!("df://127.0.0.1:{}", self.scheduler_port)
    }

    fn scheduler_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("scheduler.log")).unwrap_or_default()
    }

    /// The directory both executors see for pack results (`--cluster-scratch`).
    fn scratch(&self) -> PathBuf {
        self.dir.path().join("scratch")
    }

    /// Adds the options that run `command` on the cluster (`--cluster`, `--cluster-partitions
    /// 4`) and, with `scratch`, keep its large pack results in [`Self::scratch`].
    fn on<'a>(&self, command: &'a mut Command, scratch: bool) -> &'a mut Command {
        command.args(["--cluster", &self.url(), "--cluster-partitions", PARTITIONS]);
        if scratch {
            command.arg("--cluster-scratch").arg(self.scratch());
        }
        command
    }

    /// Runs `args` on the cluster, large pack results in [`Self::scratch`]: exit code, standard
    /// output and error.
    fn run(&self, args: &[&str]) -> (i32, String, String) {
        run(self.on(bin().args(args), true))
    }

    /// Asserts that a cluster run (its exit code and standard error) succeeded, with the
    /// scheduler's log when it did not.
    fn assert_ran(&self, code: i32, stderr: &str, what: &str) {
        assert_eq!(
            code,
            0,
            "{what}: {stderr}\nscheduler log:\n{}",
            self.scheduler_log()
        );
    }

    /// Tasks each executor finished, as (job, stage) pairs: the lines its log (at level `info`)
    /// has for them. Work directories are no measure: Ballista removes a job's directory some
    /// time after the job.
    fn finished_tasks(&self) -> Vec<Vec<(String, String)>> {
        self.logs
            .iter()
            .map(|log| {
                let text = std::fs::read_to_string(log).unwrap_or_default();
                text.lines()
                    .filter_map(|line| line.split("Finished task : [TID ").nth(1))
                    .filter_map(|tid| {
                        let (job, rest) = tid.split_once('/')?;
                        let (stage, _) = rest.split_once('.')?;
                        Some((job.to_string(), stage.to_string()))
                    })
                    .collect()
            })
            .collect()
    }

    fn tasks_run(&self) -> usize {
        self.finished_tasks().iter().map(Vec::len).sum()
    }

    /// Whether some stage of some job ran tasks on every executor: its partitions were split
    /// across them.
    fn a_stage_ran_on_every_executor(&self) -> bool {
        let tasks = self.finished_tasks();
        let Some((first, others)) = tasks.split_first() else {
            return false;
        };
        first
            .iter()
            .any(|stage| others.iter().all(|tasks| tasks.contains(stage)))
    }
}

/// `local()` and three runs of `remote(attempt)` (1 to 3), all four at once: the local result and
/// the cluster's. Three jobs at once share the executors' slots and shuffle directories; a race
/// shows as a difference between runs.
fn local_and_three_at_once<T: Send>(
    local: impl FnOnce() -> T,
    remote: impl Fn(usize) -> T + Sync,
) -> (T, Vec<T>) {
    std::thread::scope(|threads| {
        let remote = &remote;
        let remotes: Vec<_> = (1..=3)
            .map(|attempt| threads.spawn(move || remote(attempt)))
            .collect();
        let local = local();
        let remotes = remotes
            .into_iter()
            .map(|run| run.join().expect("cluster run"))
            .collect();
        (local, remotes)
    })
}

/// Runs `args` in this process and three times on `cluster`, at once
/// ([`local_and_three_at_once`]): each cluster run's output must equal the local one, byte for
/// byte.
fn same_three_times(cluster: &Cluster, args: &[&str], what: &str) -> String {
    let (local, remotes) = local_and_three_at_once(|| run(bin().args(args)), |_| cluster.run(args));
    assert_eq!(local.0, 0, "local {args:?}: {}", local.2);
    for (attempt, remote) in remotes.into_iter().enumerate() {
        cluster.assert_ran(remote.0, &remote.2, &format!("cluster {args:?}"));
        assert!(
            remote.1 == local.1,
            "{what} differs from the local run on the cluster's run {}",
            attempt + 1
        );
    }
    local.1
}

/// `export customers` of `case` to a file, in this process or on `cluster`: the CSV's bytes.
fn customers(
    dir: &Path,
    file: &str,
    case: &str,
    since: &str,
    cluster: Option<&Cluster>,
) -> Vec<u8> {
    let path = dir.join(file);
    let mut command = bin();
    command
        .args([
            "export",
            "customers",
            "--since",
            since,
            "--case",
            case,
            "--force",
            "--out",
        ])
        .arg(&path)
        .env_remove("AZURE_STORAGE_CONNECTION_STRING");
    if let Some(cluster) = cluster {
        cluster.on(&mut command, false);
    }
    let (code, _, stderr) = run(&mut command);
    assert_eq!(code, 0, "export customers --case {case}: {stderr}");
    std::fs::read(path).expect("customer CSV")
}

/// `scope` of the sample case from the day its breach is found, as JSON.
fn sample_scope(case: &str) -> [&str; 7] {
    [
        "scope",
        "--case",
        case,
        "--since",
        "2026-09-30",
        "--format",
        "json",
    ]
}

const CALLS_BY_TOOL: &str = "SELECT tool, count(*) AS calls, min(time) AS first, max(time) AS last \
     FROM tool_calls GROUP BY tool ORDER BY tool";

#[test]
fn scope_customers_and_sql_on_a_loopback_cluster_match_the_local_run_byte_for_byte() {
    let case_dir = sample_case();
    let case = case_dir.to_str().expect("utf-8 path");
    // The same case in Blob Storage (Azurite); the cluster's processes have its credentials in
    // their environment, the client has a SAS in the URL: none travels in a plan.
    let azurite_data = tempfile::tempdir().expect("azurite data");
    let azurite = Azurite::start(azurite_data.path());
    let blobs = case_as_blobs(&case_dir, "cases", "sample");
    azurite.upload(blobs.path());
    let connection = azurite.connection_string();
    let env = [("AZURE_STORAGE_CONNECTION_STRING", connection.as_str())];
    let mut cluster = Cluster::start(2, &env, &[], &[]);

    // The whole scope: every query of the pack, results of earlier queries carried as rows,
    // the customer keys in the functions, the indicators' semi-joins; stages split into four
    // partitions over two executors.
    let local = same_three_times(&cluster, &sample_scope(case), "scope's JSON");
    assert!(local.contains("\"exfiltrated\""), "{local}");
    let after_scope = cluster.tasks_run();
    assert!(
        after_scope > 0,
        "no executor ran a job: the queries did not go to the cluster"
    );
    assert!(
        cluster.a_stage_ran_on_every_executor(),
        "no stage had tasks on both executors: {:?}",
        cluster.finished_tasks()
    );

    // The customer CSV, from the case in Blob Storage (Azurite) read by the executors through
    // object_store with their own credentials (the client's SAS never travels), against the
    // in-process export of the local case.
    let url = format!("{}/cases/sample?{}", azurite.endpoint(), azurite.sas());
    let dir = tempfile::tempdir().expect("dir");
    let local = customers(dir.path(), "local.csv", case, "2026-09-30", None);
    let remote = customers(
        dir.path(),
        "cluster.csv",
        &url,
        "2026-09-30",
        Some(&cluster),
    );
    assert!(local.len() > 1000, "{}", String::from_utf8_lossy(&local));
    assert!(local == remote, "the customer CSV differs");
    let after_pack = cluster.tasks_run();
    assert!(
        after_pack > after_scope,
        "export customers of the case in Blob Storage ran on the cluster"
    );

    let local = same_three_times(
        &cluster,
        &["sql", "--case", case, "--format", "csv", CALLS_BY_TOOL],
        "ad-hoc SQL",
    );
    assert!(local.lines().count() > 5);
    assert!(
        cluster.tasks_run() > after_pack,
        "the ad-hoc query ran on the cluster too"
    );

    // A scheduler that is gone is an error naming it, never a quiet local run.
    cluster.executors.clear();
    cluster.scheduler = None;
    let (code, stdout, stderr) =
        cluster.run(&["sql", "--case", case, "SELECT count(*) FROM tool_calls"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.contains(&cluster.scheduler_port.to_string()),
        "{stderr}"
    );
}

/// Every story of the generator, a small tenant each, scoped in this process and on a cluster
/// whose stages run as four partitions over two executors: scope's JSON and an ad-hoc query equal
/// three runs in a row, and the customer CSV.
#[test]
fn every_scenario_on_a_partitioned_cluster_matches_the_local_run_three_times() {
    use mcpforensics::sample::{Scenario, Story};
    let cluster = Cluster::start(2, &[], &[], &[]);
    let dir = tempfile::tempdir().expect("dir");
    let stories = [
        ("password", Story::Password),
        ("token", Story::Token),
        ("agent", Story::Agent),
        ("implant", Story::Implant),
        ("mixed", Story::Mixed),
    ];
    let mut results_in_files = false;
    for (n, (name, story)) in stories.into_iter().enumerate() {
        let start = chrono::NaiveDate::from_ymd_opt(2026, 9, 1).expect("date");
        let scenario = Scenario::new(300 + n as u64, 0.05, start, 12).with_story(story);
        let account = crate::common::Account::new();
        scenario.write(account.path()).expect("generate");
        let case_dir = dir.path().join(name);
        crate::common::ingest_dir(account.path(), &case_dir);
        let case = case_dir.to_str().expect("utf-8 path");
        let truth = serde_json::to_value(scenario.truth()).expect("truth");
        let since = &truth["attack_start"].as_str().expect("attack start")[..10];
        // One scope a run gives the JSON and the customer CSV (`--customers`, the bytes of
        // `export customers`: tests/it/scope.rs), so the pack runs once a run, not twice.
        // The first cluster run carries pack results inside its plans, the others write the
        // large ones to the scratch directory (`--cluster-scratch`).
        let scope_and_customers = |csv: PathBuf, cluster: Option<(&Cluster, bool)>| {
            let args = [
                "scope",
                "--case",
                case,
                "--since",
                since,
                "--format",
                "json",
                "--customers",
            ];
            let mut command = bin();
            command.args(args).arg(&csv);
            if let Some((cluster, scratch)) = cluster {
                cluster.on(&mut command, scratch);
                if scratch {
                    command.arg("--timings");
                }
            }
            let (code, json, stderr) = run(&mut command);
            let csv = std::fs::read(&csv).unwrap_or_default();
            (code, json, csv, stderr)
        };
        let (local, remotes) = local_and_three_at_once(
            || scope_and_customers(dir.path().join(format!("{name}-local.csv")), None),
            |attempt| {
                let csv = dir.path().join(format!("{name}-cluster-{attempt}.csv"));
                scope_and_customers(csv, Some((&cluster, attempt > 1)))
            },
        );
        assert_eq!(local.0, 0, "{name}: local scope: {}", local.3);
        assert!(local.1.contains("\"suspects\""), "{name}: {}", local.1);
        assert!(
            local.2.starts_with("\u{feff}customer_id,".as_bytes()),
            "{name}: {}",
            String::from_utf8_lossy(&local.2)
        );
        for (attempt, remote) in remotes.iter().enumerate() {
            let attempt = attempt + 1;
            cluster.assert_ran(
                remote.0,
                &remote.3,
                &format!("{name}: cluster run {attempt}"),
            );
            assert!(
                remote.1 == local.1,
                "{name}: scope's JSON differs on run {attempt}"
            );
            assert!(
                remote.2 == local.2,
                "{name}: the customer CSV differs on run {attempt}"
            );
            results_in_files |= remote.3.contains("a Parquet file the executors read");
        }
        same_three_times(
            &cluster,
            &["sql", "--case", case, "--format", "csv", CALLS_BY_TOOL],
            &format!("{name}: ad-hoc SQL"),
        );
    }
    assert!(
        cluster.a_stage_ran_on_every_executor(),
        "no stage had tasks on both executors"
    );
    assert!(
        results_in_files,
        "no run kept a pack result in --cluster-scratch: the file path went untested"
    );
    let left: Vec<_> = std::fs::read_dir(cluster.scratch())
        .expect("the runs made the scratch directory")
        .collect();
    assert!(
        left.is_empty(),
        "each run removes its result files: {left:?}"
    );
}

/// An executor killed mid-scope, with tasks pushed (the default) and pulled: the scheduler finds
/// it gone, runs its tasks (and the finished ones whose shuffle output only it held) again on the
/// other, and the answer is the local one. The case this is for: a stage running when the
/// executor goes is rolled back and run again whole. Ballista 55 then read its first attempt's
/// output twice (seen with tasks pulled: a suspect's evidence listed twice), and with tasks pushed
/// it refunded no slot for the rolled-back stage's tasks, so the job waited for ever;
/// `vendor/ballista-scheduler` fixes both (its PATCHED.md).
#[test]
fn an_executor_killed_mid_scope_leaves_the_answer_unchanged() {
    let case_dir = sample_case();
    let case = case_dir.to_str().expect("utf-8 path");
    let local = run(bin().args(sample_scope(case)));
    assert_eq!(local.0, 0, "{}", local.2);
    for tasks in ["push", "pull"] {
        killed_mid_scope(case, &local.1, tasks);
    }
}

/// Scopes `case` on new clusters of two executors (`--tasks tasks`), killing one after 30, 40, …
/// of its tasks until the scheduler's log shows a running stage rolled back (whether one is
/// depends on what runs at the kill; most runs: the first), each answer equal to `local`.
fn killed_mid_scope(case: &str, local: &str, tasks: &str) {
    for kill_after in [30, 40, 50, 60] {
        let mut cluster = Cluster::start(
            2,
            &[],
            &["--executor-timeout", "6", "--tasks", tasks],
            &["--heartbeat", "2", "--tasks", tasks],
        );
        let mut command = bin();
        cluster.on(command.args(sample_scope(case)), false);
        let scope = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("scope starts");
        let started = Instant::now();
        while cluster.finished_tasks()[1].len() < kill_after {
            assert!(
                started.elapsed() < Duration::from_secs(300),
                "tasks {tasks}ed: executor 1 did not finish {kill_after} tasks"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        cluster.executors[1] = None;
        // Bounded: a job that waits for ever after the kill fails the test, not hangs it.
        let pid = scope.id().to_string();
        let (sender, ended) = std::sync::mpsc::channel();
        std::thread::spawn(move || sender.send(scope.wait_with_output()));
        let Ok(output) = ended.recv_timeout(Duration::from_secs(600)) else {
            let _ = Command::new("kill").args(["-9", &pid]).status();
            panic!(
                "tasks {tasks}ed, killed after {kill_after} tasks: the scope did not end within \
                 10 minutes:\n{}",
                cluster.scheduler_log()
            );
        };
        let output = output.expect("scope ends");
        let stderr = String::from_utf8_lossy(&output.stderr);
        let log = cluster.scheduler_log();
        let what = format!("tasks {tasks}ed, killed after {kill_after} tasks");
        assert_eq!(output.status.code(), Some(0), "{what}: {stderr}\n{log}");
        // The kill reached work in flight: the scheduler ran tasks of the lost executor again.
        assert!(
            log.contains("on lost Executor"),
            "{what}: nothing was run again:\n{log}"
        );
        assert!(
            String::from_utf8_lossy(&output.stdout) == local,
            "{what}: the answer changed:\n{log}"
        );
        if log.contains("Roll back running job/stage") {
            return;
        }
    }
    panic!("tasks {tasks}ed: no kill rolled back a running stage, the case this test is for");
}

/// A scheduler gone mid-query: an error naming it within a bounded time, never a hang.
#[test]
fn a_scheduler_gone_mid_scope_is_an_error_naming_it() {
    let case_dir = sample_case();
    let case = case_dir.to_str().expect("utf-8 path");
    let mut cluster = Cluster::start(1, &[], &[], &[]);
    let url = cluster.url();
    let scope = bin()
        .args(sample_scope(case))
        .args(["--cluster", &url])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("scope starts");
    let started = Instant::now();
    while cluster.tasks_run() < 5 {
        assert!(started.elapsed() < Duration::from_secs(120), "no task ran");
        std::thread::sleep(Duration::from_millis(50));
    }
    cluster.scheduler = None;
    let gone = Instant::now();
    let output = scope.wait_with_output().expect("scope ends");
    let waited = gone.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&cluster.scheduler_port.to_string()),
        "{stderr}"
    );
    assert!(
        waited < Duration::from_secs(90),
        "the error took {waited:?}"
    );
}

/// An executor's memory limit: an operator that cannot spill fails its query with the pool's
/// message, and the executor stays up for the next query.
#[test]
fn a_query_beyond_an_executors_memory_fails_with_the_pools_message() {
    let case_dir = sample_case();
    let case = case_dir.to_str().expect("utf-8 path");
    let mut cluster = Cluster::start(1, &[], &[], &["--memory-mib", "32"]);
    // Every call's blob name, fifty times over and twentyfold, gathered into one list: an
    // aggregation without groups cannot spill it.
    let (code, stdout, stderr) = cluster.run(&[
        "sql",
        "--case",
        case,
        "SELECT length(array_to_string(array_agg(repeat(t._blob, 20)), ',')) AS n FROM tool_calls t \
         CROSS JOIN (SELECT * FROM unnest(range(0, 50)) AS u(v)) u",
    ]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    // The pool's own words: the task's share of the executor's 32 MiB over its two slots.
    assert!(stderr.contains("Failed to allocate additional"), "{stderr}");
    assert!(stderr.contains("fair(pool_size: 16.0 MB)"), "{stderr}");
    assert!(stderr.contains(&cluster.url()), "{stderr}");
    let executor = cluster.executors[0].as_mut().expect("executor");
    assert!(
        executor.child.try_wait().expect("status").is_none(),
        "the executor exited"
    );
    let (code, stdout, stderr) =
        cluster.run(&["sql", "--case", case, "SELECT count(*) FROM tool_calls"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("2026"), "{stdout}");
}

/// A table's rows and the case's customer keys travel through the codec unchanged.
#[tokio::test]
async fn rows_and_customer_keys_survive_the_codec() {
    let schema = Arc::new(Schema::new(vec![Field::new("args", DataType::Utf8, true)]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![Arc::new(StringArray::from(vec![
            Some(r#"{"acct": "C-7", "customerId": "C-1"}"#),
            None,
        ]))],
    )
    .unwrap();
    let table = MemTable::try_new(schema.clone(), vec![vec![batch.clone()]]).unwrap();
    let codec = CaseLogicalCodec::default();
    let ctx = SessionContext::new();
    let mut buf = Vec::new();
    codec
        .try_encode_table_provider(&TableReference::bare("t"), Arc::new(table), &mut buf)
        .unwrap();
    let decoded = codec
        .try_decode_table_provider(&buf, &TableReference::bare("t"), schema, &ctx.task_ctx())
        .unwrap();
    ctx.register_table("t", decoded).unwrap();
    // The keys chosen for the case, not the defaults, travel with the function.
    let function = udf::customer_ids_udf(vec!["acct".into()]);
    let mut keys = Vec::new();
    codec.try_encode_udf(&function, &mut keys).unwrap();
    let arrived = codec.try_decode_udf("customer_ids", &keys).unwrap();
    ctx.register_udf(arrived.as_ref().clone());
    let rows = ctx
        .sql("SELECT customer_ids(args) AS ids FROM t")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let text = arrow::util::pretty::pretty_format_batches(&rows)
        .unwrap()
        .to_string();
    assert!(text.contains("[C-7]"), "{text}");
    assert!(!text.contains("C-1"), "{text}");
    // A function without state is found by name; an unknown one is refused by name.
    assert!(codec.try_decode_udf("json_get_str", &[]).is_ok());
    assert!(codec.try_decode_udf("array_sort", &[]).is_ok());
    let unknown = codec.try_decode_udf("no_such_function", &[]).unwrap_err();
    assert!(unknown.to_string().contains("no_such_function"));
}
