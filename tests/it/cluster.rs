//! Scale-out (feature `cluster`): a real Ballista scheduler and two executors on loopback, each a
//! child process of the real binary (`mcpforensics cluster …`); the analysis commands run through
//! them give what the local run gives, byte for byte.

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Stdio};
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

/// Tasks the executors finished: the lines their logs (at level `info`) have for them. Their work
/// directories are no measure: Ballista removes a job's directory some time after the job.
fn tasks_run(logs: &[std::path::PathBuf]) -> usize {
    logs.iter()
        .map(|log| {
            std::fs::read_to_string(log)
                .unwrap_or_default()
                .matches("Finished task")
                .count()
        })
        .sum()
}

#[test]
fn scope_customers_and_sql_on_a_loopback_cluster_match_the_local_run_byte_for_byte() {
    let case_dir = sample_case();
    let case = case_dir.to_str().expect("utf-8 path");
    let dir = tempfile::tempdir().expect("dir");
    // The same case in Blob Storage (Azurite); the cluster's processes have its credentials in
    // their environment, the client has a SAS in the URL: none travels in a plan.
    let azurite_data = tempfile::tempdir().expect("azurite data");
    let azurite = Azurite::start(azurite_data.path());
    let blobs = case_as_blobs(&case_dir, "cases", "sample");
    azurite.upload(blobs.path());
    let connection = azurite.connection_string();
    let env = [("AZURE_STORAGE_CONNECTION_STRING", connection.as_str())];
    let scheduler_port = free_port();
    let mut scheduler = Process::start(
        "scheduler",
        &[
            "cluster",
            "scheduler",
            "--bind",
            &format!("127.0.0.1:{scheduler_port}"),
        ],
        &env,
        &dir.path().join("scheduler.log"),
    );
    scheduler.wait_listening(scheduler_port);
    let mut executors = Vec::new();
    let mut logs = Vec::new();
    for n in 0..2 {
        let port = free_port();
        let work_dir = dir.path().join(format!("executor-{n}"));
        std::fs::create_dir_all(&work_dir).expect("work dir");
        let log = dir.path().join(format!("executor-{n}.log"));
        let executor_env = [env[0], ("MCPFORENSICS_LOG", "info")];
        let mut executor = Process::start(
            &format!("executor {n}"),
            &[
                "cluster",
                "executor",
                "--scheduler",
                &format!("127.0.0.1:{scheduler_port}"),
                "--bind",
                &format!("127.0.0.1:{port}"),
                "--slots",
                "2",
                "--work-dir",
                work_dir.to_str().expect("utf-8 path"),
            ],
            &executor_env,
            &log,
        );
        executor.wait_listening(port);
        executors.push(executor);
        logs.push(log);
    }
    let cluster = format!("df://127.0.0.1:{scheduler_port}");
    let both = |args: &[&str]| {
        let local = run(bin().args(args).args(["--case", case]));
        let remote = run(bin()
            .args(args)
            .args(["--case", case, "--cluster", &cluster]));
        assert_eq!(local.0, 0, "local {args:?}: {}", local.2);
        assert_eq!(
            remote.0,
            0,
            "cluster {args:?}: {}\nscheduler log:\n{}",
            remote.2,
            std::fs::read_to_string(dir.path().join("scheduler.log")).unwrap_or_default()
        );
        (local.1, remote.1)
    };

    // The whole scope: every query of the pack, results of earlier queries carried as rows,
    // the customer keys in the functions, the indicators' semi-joins.
    let (local, remote) = both(&["scope", "--since", "2026-09-30", "--format", "json"]);
    assert!(local.contains("\"exfiltrated\""), "{local}");
    assert!(local == remote, "scope's JSON differs");
    let after_scope: usize = tasks_run(&logs);
    assert!(
        after_scope > 0,
        "no executor ran a job: the queries did not go to the cluster"
    );

    // The customer CSV, from the case in Blob Storage (Azurite) read by the executors through
    // object_store with their own credentials (the client's SAS never travels), against the
    // in-process export of the local case.
    let url = format!("{}/cases/sample?{}", azurite.endpoint(), azurite.sas());
    let customers = |file: &str, case: &str, cluster: Option<&str>| {
        let path = dir.path().join(file);
        let mut command = bin();
        command
            .args([
                "export",
                "customers",
                "--since",
                "2026-09-30",
                "--case",
                case,
                "--out",
            ])
            .arg(&path)
            .env_remove("AZURE_STORAGE_CONNECTION_STRING");
        if let Some(cluster) = cluster {
            command.args(["--cluster", cluster]);
        }
        let (code, _, stderr) = run(&mut command);
        assert_eq!(code, 0, "export customers --case {case}: {stderr}");
        std::fs::read(path).expect("customer CSV")
    };
    let local = customers("local.csv", case, None);
    let remote = customers("cluster.csv", &url, Some(&cluster));
    assert!(local.len() > 1000, "{}", String::from_utf8_lossy(&local));
    assert!(local == remote, "the customer CSV differs");
    let after_pack = tasks_run(&logs);
    assert!(
        after_pack > after_scope,
        "export customers of the case in Blob Storage ran on the cluster"
    );

    let (local, remote) = both(&[
        "sql",
        "--format",
        "csv",
        "SELECT tool, count(*) AS calls, min(time) AS first, max(time) AS last FROM tool_calls \
         GROUP BY tool ORDER BY tool",
    ]);
    assert!(local.lines().count() > 5);
    assert!(local == remote, "ad-hoc SQL differs");
    assert!(
        tasks_run(&logs) > after_pack,
        "the ad-hoc query ran on the cluster too"
    );

    // A scheduler that is gone is an error naming it, never a quiet local run.
    drop(executors);
    drop(scheduler);
    let (code, stdout, stderr) = run(bin().args([
        "sql",
        "--case",
        case,
        "--cluster",
        &cluster,
        "SELECT count(*) FROM tool_calls",
    ]));
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(stderr.contains(&scheduler_port.to_string()), "{stderr}");
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
