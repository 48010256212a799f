//! Blob Storage end to end against a real Azurite on loopback (installed by `.ci/run` with
//! `npm ci --prefix tests/azurite`): the case read from Blob equals the case read from the local
//! copy, listing is pruned by day, an interrupted ingest resumes without doubling, and no secret
//! reaches any file or output.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use hmac::{Hmac, Mac};
use object_store::azure::MicrosoftAzureBuilder;
use object_store::path::Path as StorePath;
use object_store::{ObjectStoreExt, PutPayload};
use sha2::Sha256;

use crate::common::*;

pub(crate) const ACCOUNT: &str = "devstoreaccount1";
pub(crate) const KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// An Azurite blob service on a free loopback port, stopped on drop.
pub(crate) struct Azurite {
    child: Child,
    port: u16,
    data: PathBuf,
}

impl Azurite {
    pub(crate) fn start(data: &Path) -> Self {
        let binary = root().join("tests/azurite/node_modules/.bin/azurite-blob");
        assert!(
            binary.exists(),
            "Azurite is not installed: run `npm ci --prefix tests/azurite` (as .ci/run does)"
        );
        let port = TcpListener::bind("127.0.0.1:0")
            .expect("free port")
            .local_addr()
            .expect("addr")
            .port();
        Self::start_on(data, port)
    }

    fn start_on(data: &Path, port: u16) -> Self {
        let binary = root().join("tests/azurite/node_modules/.bin/azurite-blob");
        let child = Command::new(binary)
            .args([
                "--blobHost",
                "127.0.0.1",
                "--blobPort",
                &port.to_string(),
                "--disableTelemetry",
                "--skipApiVersionCheck",
                "--silent",
                "--location",
            ])
            .arg(data)
            .arg("--debug")
            .arg(data.join("debug.log"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("azurite starts");
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "azurite did not start on port {port}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Self {
            child,
            port,
            data: data.to_path_buf(),
        }
    }

    pub(crate) fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}/{ACCOUNT}", self.port)
    }

    pub(crate) fn connection_string(&self) -> String {
        format!(
            "DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={KEY};BlobEndpoint={};",
            self.endpoint()
        )
    }

    /// Stops the service the way an operator would (SIGTERM), so it keeps its data for a restart.
    fn stop(mut self) -> PathBuf {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.data.clone()
    }

    /// GET requests for blobs Azurite logged (its debug log names every request).
    fn blob_gets(&self) -> Vec<String> {
        let log = std::fs::read_to_string(self.data.join("debug.log")).unwrap_or_default();
        log.lines()
            .filter(|l| l.contains("GET") && l.contains("PT") && l.contains(".json"))
            .map(str::to_string)
            .collect()
    }

    /// Creates a container with one Shared Key signed request (object_store cannot create containers).
    pub(crate) fn create_container(&self, container: &str) {
        let date = chrono::Utc::now()
            .format("%a, %d %b %Y %H:%M:%S GMT")
            .to_string();
        let version = "2021-08-06";
        let to_sign = format!(
            "PUT\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:{date}\nx-ms-version:{version}\n/{ACCOUNT}/{ACCOUNT}/{container}\nrestype:container"
        );
        let request = format!(
            "PUT /{ACCOUNT}/{container}?restype=container HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nx-ms-date: {date}\r\nx-ms-version: {version}\r\nAuthorization: SharedKey {ACCOUNT}:{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.port,
            sign(&to_sign)
        );
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        stream.write_all(request.as_bytes()).expect("send");
        let mut response = String::new();
        let _ = stream.read_to_string(&mut response);
        assert!(
            response.starts_with("HTTP/1.1 201") || response.contains("ContainerAlreadyExists"),
            "create {container}: {response}"
        );
    }

    /// Puts one block blob whose name is given already percent-encoded, exactly as sent (the
    /// SDKs normalise some names; these tests need the names Azure can hold). Returns the
    /// response's status line.
    fn put_blob_exact(&self, container: &str, encoded_name: &str, body: &[u8]) -> String {
        let date = chrono::Utc::now()
            .format("%a, %d %b %Y %H:%M:%S GMT")
            .to_string();
        let version = "2021-08-06";
        let to_sign = format!(
            "PUT\n\n\n{}\n\n\n\n\n\n\n\n\nx-ms-blob-type:BlockBlob\nx-ms-date:{date}\nx-ms-version:{version}\n/{ACCOUNT}/{ACCOUNT}/{container}/{encoded_name}",
            body.len()
        );
        let request = format!(
            "PUT /{ACCOUNT}/{container}/{encoded_name} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nx-ms-date: {date}\r\nx-ms-version: {version}\r\nx-ms-blob-type: BlockBlob\r\nAuthorization: SharedKey {ACCOUNT}:{}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            self.port,
            sign(&to_sign),
            body.len()
        );
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        stream.write_all(request.as_bytes()).expect("send");
        stream.write_all(body).expect("send body");
        let mut response = String::new();
        let _ = stream.read_to_string(&mut response);
        response.lines().next().unwrap_or_default().to_string()
    }

    /// Uploads every file of a local storage-account copy, keeping its path.
    pub(crate) fn upload(&self, account_dir: &Path) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let mut by_container: std::collections::BTreeMap<String, Vec<String>> =
            std::collections::BTreeMap::new();
        for (path, _) in hash_tree(account_dir) {
            let (container, rest) = path.split_once('/').expect("container/path");
            by_container
                .entry(container.to_string())
                .or_default()
                .push(rest.to_string());
        }
        for (container, paths) in by_container {
            self.create_container(&container);
            let store = MicrosoftAzureBuilder::new()
                .with_account(ACCOUNT)
                .with_access_key(KEY)
                .with_container_name(&container)
                .with_endpoint(self.endpoint())
                .with_allow_http(true)
                .build()
                .expect("store");
            runtime.block_on(async {
                for path in paths {
                    let body =
                        std::fs::read(account_dir.join(&container).join(&path)).expect("read");
                    store
                        .put(&StorePath::from(path.as_str()), PutPayload::from(body))
                        .await
                        .expect("upload");
                }
            });
        }
    }

    /// An account SAS allowing read and list (service b, all resource types).
    pub(crate) fn sas(&self) -> String {
        let expiry = (chrono::Utc::now() + chrono::Duration::hours(2))
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        let version = "2021-08-06";
        let to_sign = format!("{ACCOUNT}\nrl\nb\nsco\n\n{expiry}\n\nhttps,http\n{version}\n\n");
        let sig = sign(&to_sign);
        let encoded: String = url::form_urlencoded::byte_serialize(sig.as_bytes()).collect();
        format!("sv={version}&ss=b&srt=sco&sp=rl&se={expiry}&spr=https,http&sig={encoded}")
    }
}

impl Drop for Azurite {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn sign(text: &str) -> String {
    let key = base64::engine::general_purpose::STANDARD
        .decode(KEY)
        .expect("key");
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("hmac");
    mac.update(text.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn manifest_blobs(case: &Path) -> Vec<(String, String, u64)> {
    let manifest = mcpforensics::case::Case::open(case)
        .expect("case")
        .manifest()
        .expect("manifest")
        .clone();
    let mut blobs: Vec<(String, String, u64)> = manifest
        .blobs
        .iter()
        .map(|b| (b.path.clone(), b.sha256.clone(), b.accepted + b.duplicates))
        .collect();
    blobs.sort();
    blobs
}

fn table_counts(case: &Path) -> Vec<Vec<String>> {
    query(
        case,
        "SELECT 'flows', count(*) FROM flows UNION ALL SELECT 'AppRequests', count(*) FROM \"AppRequests\" UNION ALL SELECT 'SigninLogs', count(*) FROM \"SigninLogs\" UNION ALL SELECT 'rejects', count(*) FROM rejects ORDER BY 1",
    )
}

/// Every file under `dir` (the reports, the CSV, the cases and the cache) must be free of the secrets.
fn scan_for_secrets(dir: &Path, secrets: &[&str]) {
    let mut stack = vec![dir.to_path_buf()];
    let mut scanned = 0;
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let bytes = std::fs::read(&path).expect("read");
            scanned += 1;
            let text = String::from_utf8_lossy(&bytes);
            for secret in secrets {
                assert!(
                    !text.contains(secret),
                    "{} contains a secret",
                    path.display()
                );
            }
        }
    }
    assert!(scanned > 0, "nothing to scan under {}", dir.display());
}

#[test]
fn blob_storage_ingest_equals_local_and_keeps_no_secret() {
    let account = generated_account(4, (2026, 4, 1), 10);
    // A table without a declaration: a whole-account ingest must find its container by listing.
    account.put(
        &la_blob("SecurityEvent", "PT05M.json"),
        b"{\"TimeGenerated\":\"2026-04-05T02:05:00Z\",\"EventID\":4624}\n",
    );
    let data = tempfile::tempdir().expect("azurite data");
    let azurite = Azurite::start(data.path());
    azurite.upload(account.path());

    let local = tempfile::tempdir().expect("local case");
    ingest_dir(account.path(), local.path());

    // az:// with the standard Azurite connection string in the environment, whole account.
    let remote = tempfile::tempdir().expect("remote case");
    let (code, stdout, stderr) = run(bin()
        .args(["ingest", "az://devstoreaccount1/", "--case"])
        .arg(remote.path())
        .arg("--format")
        .arg("json")
        .env(
            "AZURE_STORAGE_CONNECTION_STRING",
            azurite.connection_string(),
        ));
    assert!(code == 0 || code == 3, "{stderr}");
    assert_eq!(
        manifest_blobs(remote.path()),
        manifest_blobs(local.path()),
        "same blobs, hashes and rows"
    );
    assert_eq!(table_counts(remote.path()), table_counts(local.path()));
    assert_eq!(
        scalar(remote.path(), "SELECT count(*) FROM am_securityevent"),
        1,
        "the undeclared container was listed"
    );
    let manifest = mcpforensics::case::Case::open(remote.path())
        .expect("case")
        .manifest()
        .expect("manifest")
        .clone();
    assert!(
        manifest
            .blobs
            .iter()
            .all(|b| b.etag.is_some() && b.last_modified.is_some()),
        "ETag and last-modified recorded"
    );
    let key_fragment = &KEY[..20];
    assert!(!stdout.contains(key_fragment) && !stderr.contains(key_fragment));

    // Path-style URL with a SAS, one container: the same rows for that table.
    let sas = azurite.sas();
    let sig = sas.split("sig=").nth(1).expect("sig").to_string();
    let one = tempfile::tempdir().expect("case");
    let url = format!("{}/am-apprequests?{sas}", azurite.endpoint());
    let (code, stdout, stderr) = run(bin()
        .args(["ingest", &url, "--keep-raw", "--case"])
        .arg(one.path())
        .env_remove("AZURE_STORAGE_CONNECTION_STRING"));
    assert!(code == 0 || code == 3, "{stderr}");
    let kept = mcpforensics::case::Case::open(one.path())
        .expect("case")
        .manifest()
        .expect("manifest")
        .clone();
    assert!(!kept.blobs.is_empty());
    for blob in &kept.blobs {
        let copy = std::fs::read(one.path().join(blob.raw_copy.as_deref().expect("raw copy")))
            .expect("copy");
        assert_eq!(
            copy,
            std::fs::read(account.path().join(&blob.path)).expect("original"),
            "custody copy of {}",
            blob.path
        );
    }
    assert_eq!(
        query(one.path(), "SELECT count(*) FROM \"AppRequests\""),
        query(local.path(), "SELECT count(*) FROM \"AppRequests\"")
    );
    for output in [&stdout, &stderr] {
        assert!(
            !output.contains(&sig) && !output.contains(key_fragment),
            "no secret in the output"
        );
    }
    scan_for_secrets(remote.path(), &[key_fragment, &sig]);
    scan_for_secrets(one.path(), &[key_fragment, &sig, "sig="]);

    // Re-running against the same ETags downloads nothing.
    let (_, stdout, _) = run(bin()
        .args(["ingest", "az://devstoreaccount1/", "--case"])
        .arg(remote.path())
        .args(["--format", "json"])
        .env(
            "AZURE_STORAGE_CONNECTION_STRING",
            azurite.connection_string(),
        ));
    let again: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(
        (again["files"].as_u64(), again["records"].as_u64()),
        (Some(0), Some(0))
    );
}

#[test]
fn since_prunes_the_listing_by_day() {
    let account = generated_account(4, (2026, 4, 1), 10);
    let data = tempfile::tempdir().expect("azurite data");
    let azurite = Azurite::start(data.path());
    azurite.upload(account.path());
    let day: Vec<String> = hash_tree(account.path())
        .into_iter()
        .map(|(p, _)| p)
        .filter(|p| p.contains("/y=2026/m=04/d=08/"))
        .collect();
    let gets_before = azurite.blob_gets().len();
    let case = tempfile::tempdir().expect("case");
    let (code, stdout, stderr) = run(bin()
        .args([
            "ingest",
            "az://devstoreaccount1/",
            "--since",
            "2026-04-08",
            "--until",
            "2026-04-09",
            "--format",
            "json",
            "--case",
        ])
        .arg(case.path())
        .env(
            "AZURE_STORAGE_CONNECTION_STRING",
            azurite.connection_string(),
        ));
    assert!(code == 0 || code == 3, "{stderr}");
    let summary: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(
        summary["blobs_listed"].as_u64(),
        Some(day.len() as u64),
        "only that day's blobs are even listed"
    );
    assert_eq!(summary["files"].as_u64(), Some(day.len() as u64));
    let gets = azurite.blob_gets();
    let requested = &gets[gets_before..];
    assert!(
        !requested.is_empty() && requested.iter().all(|l| l.contains("d=08")),
        "every blob downloaded is of the window's day"
    );
}

#[test]
fn an_interrupted_ingest_resumes_without_doubling() {
    let account = generated_account(4, (2026, 4, 1), 10);
    let data = tempfile::tempdir().expect("azurite data");
    let azurite = Azurite::start(data.path());
    azurite.upload(account.path());
    let port = azurite.port;
    let connection = azurite.connection_string();
    let case = tempfile::tempdir().expect("case");
    let mut ingest = bin()
        .args([
            "ingest",
            "az://devstoreaccount1/",
            "--concurrency",
            "2",
            "--case",
        ])
        .arg(case.path())
        .env("AZURE_STORAGE_CONNECTION_STRING", &connection)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("ingest starts");
    // Once rows are being written, take the service away, kill the ingest, then bring the service back.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !hash_tree(case.path())
        .iter()
        .any(|(p, _)| p.ends_with(".tmp") && p.contains("tables"))
    {
        assert!(
            Instant::now() < deadline && ingest.try_wait().ok().flatten().is_none(),
            "the ingest should still be running"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let data_dir = azurite.stop();
    let _ = ingest.kill();
    let _ = ingest.wait();
    let interrupted = mcpforensics::case::Case::open(case.path())
        .expect("case")
        .manifest()
        .expect("manifest")
        .clone();
    assert!(
        interrupted.ingests.is_empty(),
        "the killed run recorded nothing as done"
    );
    let _azurite = resume_equals_local(&data_dir, port, &account, case.path());
    let complete: std::collections::BTreeSet<String> = mcpforensics::case::Case::open(case.path())
        .expect("case")
        .manifest()
        .expect("manifest")
        .blobs
        .iter()
        .filter(|b| b.read_error.is_none())
        .map(|b| b.path.clone())
        .collect();
    assert_eq!(
        complete.len(),
        hash_tree(account.path()).len(),
        "every blob ingested completely once"
    );
}

/// Brings the service back on its port and data, runs the same ingest again into `case`, and
/// checks the case now equals an ingest of the local copy: complete, nothing doubled.
fn resume_equals_local(data_dir: &Path, port: u16, account: &Account, case: &Path) -> Azurite {
    let azurite = Azurite::start_on(data_dir, port);
    let (code, _, stderr) = run(bin()
        .args(["ingest", "az://devstoreaccount1/", "--case"])
        .arg(case)
        .env(
            "AZURE_STORAGE_CONNECTION_STRING",
            azurite.connection_string(),
        ));
    assert!(code == 0 || code == 3, "{stderr}");
    let local = tempfile::tempdir().expect("local");
    ingest_dir(account.path(), local.path());
    assert_eq!(
        table_counts(case),
        table_counts(local.path()),
        "complete and nothing doubled"
    );
    azurite
}

/// Every place a secret could leak: the error messages of refused and unreachable requests, the
/// reports, the CSV, verify's output, the case and the cache. The key, the SAS signature and the
/// connection string are given as flags, environment and URL.
#[test]
fn secrets_never_reach_errors_reports_or_the_case() {
    let account = generated_account(5, (2026, 4, 1), 3);
    let data = tempfile::tempdir().expect("azurite data");
    let azurite = Azurite::start(data.path());
    azurite.upload(account.path());
    let key_fragment = &KEY[10..40];
    let sas = azurite.sas();
    let sig = sas.split("sig=").nth(1).expect("sig").to_string();
    let wrong_key = base64::engine::general_purpose::STANDARD.encode([7u8; 64]);
    let wrong_sig = "c2VjcmV0LXNpZ25hdHVyZS10aGF0LWlzLXdyb25n";
    let secrets = [key_fragment, sig.as_str(), &wrong_key[..30], wrong_sig];
    let mut outputs = Vec::new();
    let out = tempfile::tempdir().expect("outputs");

    // Refused: a wrong key (403) through a connection string flag, a forged SAS in the URL.
    let wrong_connection = azurite.connection_string().replace(KEY, &wrong_key);
    let case = out.path().join("refused");
    let (code, stdout, stderr) = run(bin()
        .args([
            "ingest",
            "az://devstoreaccount1/am-apprequests",
            "--connection-string",
            &wrong_connection,
            "--case",
        ])
        .arg(&case)
        .env_remove("AZURE_STORAGE_CONNECTION_STRING"));
    assert_ne!(code, 0, "a wrong key is refused: {stderr}");
    outputs.push((stdout, stderr));
    let forged = format!(
        "{}/am-apprequests?sv=2021-08-06&ss=b&srt=sco&sp=rl&se=2099-01-01T00:00:00Z&sig={wrong_sig}",
        azurite.endpoint()
    );
    let (code, stdout, stderr) = run(bin().args(["ingest", &forged, "--case"]).arg(&case));
    assert_ne!(code, 0, "a forged SAS is refused: {stderr}");
    outputs.push((stdout, stderr));
    // Unreachable: the key in the environment, nothing listening.
    let closed = {
        let listener = TcpListener::bind("127.0.0.1:0").expect("port");
        listener.local_addr().expect("addr").port()
    };
    let unreachable = format!(
        "DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={KEY};BlobEndpoint=http://127.0.0.1:{closed}/{ACCOUNT};"
    );
    let (code, stdout, stderr) = run(bin()
        .args(["ingest", "az://devstoreaccount1/", "--case"])
        .arg(&case)
        .env("AZURE_STORAGE_CONNECTION_STRING", &unreachable));
    assert_ne!(code, 0, "nothing listens: {stderr}");
    outputs.push((stdout, stderr));

    // Working: scope straight from a SAS URL into a case, every report format, the CSV, verify.
    let case = out.path().join("case");
    let url = format!("{}/?{sas}", azurite.endpoint());
    // scope from the SAS URL, every flag but where its case lives.
    let scope_from_url = |format: &str| {
        let mut command = bin();
        command.args([
            "scope",
            "--source",
            &url,
            "--since",
            "2026-04-02",
            "--format",
            format,
        ]);
        command
    };
    for format in ["json", "md", "html", "text"] {
        let report = out.path().join(format!("scope.{format}"));
        let (code, stdout, stderr) = run(scope_from_url(format)
            .arg("--out")
            .arg(&report)
            .arg("--case")
            .arg(&case)
            .env_remove("AZURE_STORAGE_CONNECTION_STRING"));
        assert!(code == 0 || code == 3, "{stderr}");
        assert!(report.exists());
        outputs.push((stdout, stderr));
    }
    // Without --case, scope builds its case in the cache: that case must hold no secret either.
    let cache = out.path().join("cache");
    let (code, stdout, stderr) = run(scope_from_url("json")
        .env("MCPFORENSICS_CACHE_DIR", &cache)
        .env_remove("AZURE_STORAGE_CONNECTION_STRING"));
    assert!(code == 0 || code == 3, "{stderr}");
    outputs.push((stdout, stderr));
    assert!(
        cache.is_dir(),
        "scope without --case builds its case in the cache"
    );
    let (code, stdout, stderr) = run(bin()
        .args(["export", "customers", "--since", "2026-04-02", "--out"])
        .arg(out.path().join("customers.csv"))
        .arg("--case")
        .arg(&case));
    assert!(code == 0 || code == 3, "{stderr}");
    outputs.push((stdout, stderr));
    let (code, stdout, stderr) = run(bin()
        .args(["verify", "--source", &url, "--case"])
        .arg(&case)
        .env("AZURE_STORAGE_KEY", KEY));
    assert_eq!(code, 0, "{stdout}{stderr}");
    outputs.push((stdout, stderr));

    for (stdout, stderr) in &outputs {
        for secret in secrets {
            assert!(
                !stdout.contains(secret) && !stderr.contains(secret),
                "a secret in the output:\n{stdout}\n{stderr}"
            );
        }
    }
    scan_for_secrets(out.path(), &secrets);
}

/// Names Azure holds that URL handling gets wrong: non-ASCII and `~ [ ] % ? #` in folders and in
/// the last segment, an empty segment, a leading `/`, a newline, and a `..` segment. Each is
/// listed; each is read, or named as failed with the reason; the listing never fails or loops.
#[test]
fn hostile_blob_names_are_listed_and_read_exactly() {
    let data = tempfile::tempdir().expect("azurite data");
    let azurite = Azurite::start(data.path());
    let container = "am-apptraces";
    azurite.create_container(container);
    let hour = "y=2026/m=10/d=01/h=02/m=00";
    // (name as stored, name percent-encoded for the upload)
    let names = [
        (
            format!("WorkspaceResourceId=/rg-münchen/x~[y]%z?#/{hour}/PT05M.json"),
            format!("WorkspaceResourceId=/rg-m%C3%BCnchen/x~%5By%5D%25z%3F%23/{hour}/PT05M.json"),
        ),
        (
            format!("plain/{hour}/PT05M ü[1]%#.json"),
            format!("plain/{hour}/PT05M%20%C3%BC%5B1%5D%25%23.json"),
        ),
        (
            format!("empty//{hour}/PT05M.json"),
            format!("empty//{hour}/PT05M.json"),
        ),
        (
            format!("/lead/{hour}/PT05M.json"),
            format!("/lead/{hour}/PT05M.json"),
        ),
        (
            format!("new\nline/{hour}/PT05M.json"),
            format!("new%0Aline/{hour}/PT05M.json"),
        ),
    ];
    for (i, (_, encoded)) in names.iter().enumerate() {
        let body =
            format!("{{\"TimeGenerated\":\"2026-10-01T02:0{i}:00Z\",\"Message\":\"blob {i}\"}}\n");
        let status = azurite.put_blob_exact(container, encoded, body.as_bytes());
        assert!(status.contains("201"), "{encoded}: {status}");
    }
    // A `..` segment, if the service keeps it as a name at all.
    let dotted =
        azurite.put_blob_exact(container, &format!("up/%2E%2E/{hour}/PT05M.json"), b"{}\n");

    let case = tempfile::tempdir().expect("case");
    let (code, stdout, stderr) = run(bin()
        .args([
            "ingest",
            &format!("{}/{container}", azurite.endpoint()),
            "--format",
            "json",
            "--case",
        ])
        .arg(case.path())
        .env(
            "AZURE_STORAGE_CONNECTION_STRING",
            azurite.connection_string(),
        ));
    let summary: serde_json::Value =
        serde_json::from_str(&stdout).unwrap_or_else(|_| panic!("{stdout}{stderr}"));
    let manifest = mcpforensics::case::Case::open(case.path())
        .expect("case")
        .manifest()
        .expect("manifest")
        .clone();
    let read: std::collections::BTreeSet<String> = manifest
        .blobs
        .iter()
        .filter(|b| b.read_error.is_none())
        .map(|b| b.path.clone())
        .collect();
    for (name, _) in &names {
        assert!(
            read.contains(&format!("{container}/{name}")),
            "{name:?} not read: {read:?}\n{stderr}"
        );
    }
    assert_eq!(
        scalar(case.path(), "SELECT count(*) FROM \"AppTraces\""),
        names.len() as i64
    );
    let failed: Vec<_> = manifest
        .blobs
        .iter()
        .filter(|b| b.read_error.is_some())
        .collect();
    if dotted.contains("201") && summary["blobs_listed"].as_u64() == Some(names.len() as u64 + 1) {
        // Kept as a name: named as failed, with why, never read as another blob.
        assert_eq!(code, 3, "{stderr}");
        assert_eq!(failed.len(), 1, "{failed:?}");
        assert!(failed[0].path.contains("/../"), "{failed:?}");
        assert!(
            failed[0]
                .read_error
                .as_deref()
                .unwrap_or_default()
                .contains("segment")
        );
        assert!(stderr.contains("segment"), "{stderr}");
    } else {
        assert_eq!(code, 0, "{stderr}");
        assert!(failed.is_empty(), "{failed:?}");
    }
}

/// The storage going away mid-ingest stops the run within seconds (not one timeout per
/// remaining blob), says what was read and how to resume; the re-run completes it exactly.
#[test]
fn storage_gone_mid_ingest_stops_soon_and_a_rerun_completes() {
    let account = generated_account(6, (2026, 4, 1), 10);
    let data = tempfile::tempdir().expect("azurite data");
    let azurite = Azurite::start(data.path());
    azurite.upload(account.path());
    let port = azurite.port;
    let case = tempfile::tempdir().expect("case");
    let ingest = bin()
        .args([
            "ingest",
            "az://devstoreaccount1/",
            "--concurrency",
            "2",
            "--case",
        ])
        .arg(case.path())
        .env(
            "AZURE_STORAGE_CONNECTION_STRING",
            azurite.connection_string(),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ingest starts");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !hash_tree(case.path())
        .iter()
        .any(|(p, _)| p.ends_with(".tmp") && p.contains("tables"))
    {
        assert!(Instant::now() < deadline, "rows are being written");
        std::thread::sleep(Duration::from_millis(20));
    }
    let data_dir = azurite.stop();
    let stopped_at = Instant::now();
    let output = ingest.wait_with_output().expect("ingest ends");
    let took = stopped_at.elapsed();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stdout}{stderr}");
    assert!(
        stdout.contains("STOPPED EARLY") && stdout.contains("run the same command again"),
        "{stdout}"
    );
    assert!(
        took < Duration::from_secs(60),
        "stopped {} s after the storage went away",
        took.as_secs()
    );
    let errors = stderr.lines().filter(|l| l.starts_with("error:")).count();
    assert!(
        errors < 20,
        "not one error per remaining blob: {errors}\n{stderr}"
    );

    let _azurite = resume_equals_local(&data_dir, port, &account, case.path());
}

/// Copies a case directory into `account/<container>/<prefix>` for [`Azurite::upload`].
pub(crate) fn case_as_blobs(case: &Path, container: &str, prefix: &str) -> tempfile::TempDir {
    let account = tempfile::tempdir().expect("account");
    for (path, _) in hash_tree(case) {
        let target = account.path().join(container).join(prefix).join(&path);
        std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
        std::fs::copy(case.join(&path), target).expect("copy");
    }
    account
}

/// Reports of a case read in place from Blob Storage, apart from where the case is.
/// A report without where its case was, nor how its tool calls were read: a case read in Blob
/// Storage relates them from the telemetry rows (its call index is not read in place), and
/// counts the files it read accordingly; the findings must be the same.
fn without_case_location(json: &str) -> serde_json::Value {
    let mut report: serde_json::Value = serde_json::from_str(json).expect("scope JSON");
    for field in ["case", "call_index", "case_files", "case_files_read"] {
        report["evidence"][field] = serde_json::Value::Null;
    }
    report
}

#[test]
fn a_case_in_blob_storage_is_read_in_place_and_never_written() {
    let case = sample_case();
    let data = tempfile::tempdir().expect("azurite data");
    let azurite = Azurite::start(data.path());
    let blobs = case_as_blobs(&case, "cases", "contoso/sample");
    azurite.upload(blobs.path());
    let sas = azurite.sas();
    let url = format!("{}/cases/contoso/sample", azurite.endpoint());

    let scope_json = [
        "scope",
        "--since",
        "2026-09-30",
        "--format",
        "json",
        "--case",
    ];
    let local = run(bin().args(scope_json).arg(&case));
    assert_eq!(local.0, 0, "{}", local.2);
    // With the account's SAS in the URL, and with none but the environment's connection string.
    let with_sas = format!("{url}?{sas}");
    let remote = run(bin()
        .args(scope_json)
        .arg(&with_sas)
        .env_remove("AZURE_STORAGE_CONNECTION_STRING"));
    assert_eq!(remote.0, 0, "{}", remote.2);
    assert_eq!(
        without_case_location(&remote.1),
        without_case_location(&local.1)
    );
    let evidence = |json: &str| {
        serde_json::from_str::<serde_json::Value>(json).expect("JSON")["evidence"].clone()
    };
    assert!(evidence(&local.1)["call_index"].is_string(), "{}", local.1);
    assert!(evidence(&remote.1)["call_index"].is_null(), "{}", remote.1);
    let report: serde_json::Value = serde_json::from_str(&remote.1).expect("JSON");
    assert_eq!(
        report["evidence"]["case"],
        url.as_str(),
        "the case is named without its SAS"
    );
    let signature = sas.split("sig=").nth(1).expect("sig");
    for text in [&remote.1, &remote.2] {
        assert!(
            !text.contains(signature) && !text.contains("sig="),
            "a secret leaked: {text}"
        );
    }
    let count = "SELECT count(*) AS calls, count(DISTINCT tool) AS tools FROM tool_calls";
    let (code, stdout, stderr) = run(bin()
        .args(["sql", "--format", "csv", count, "--case", &url])
        .env(
            "AZURE_STORAGE_CONNECTION_STRING",
            azurite.connection_string(),
        ));
    assert_eq!(code, 0, "{stderr}");
    let (_, local_count, _) = run(bin()
        .args(["sql", "--format", "csv", count, "--case"])
        .arg(&case));
    assert!(
        local_count
            .lines()
            .nth(1)
            .is_some_and(|row| !row.starts_with("0,")),
        "{local_count}"
    );
    assert_eq!(stdout, local_count);

    // Commands that write a case, or read only directories, refuse the URL and make no directory.
    let here = tempfile::tempdir().expect("cwd");
    let source = mcpforensics::bundled::sample_source_dir();
    let source = source.to_str().expect("utf-8 path");
    for args in [
        vec!["ingest", source, "--case", url.as_str()],
        vec![
            "timeline",
            "--case",
            url.as_str(),
            "--format",
            "csv",
            "--out",
            "t.csv",
        ],
        vec!["verify", "--case", url.as_str()],
    ] {
        let (code, stdout, stderr) = run(bin().args(&args).current_dir(here.path()));
        assert_ne!(code, 0, "{args:?}: {stdout}");
        assert!(stderr.contains("is in Blob Storage"), "{args:?}: {stderr}");
        assert!(
            std::fs::read_dir(here.path())
                .expect("cwd")
                .next()
                .is_none(),
            "{args:?} wrote into the working directory"
        );
    }
    // A location that holds no case says so.
    let (code, _, stderr) = run(bin()
        .args(["sql", "SELECT 1", "--case"])
        .arg(format!("{}/cases/nothing-here", azurite.endpoint()))
        .env(
            "AZURE_STORAGE_CONNECTION_STRING",
            azurite.connection_string(),
        ));
    assert_ne!(code, 0);
    assert!(stderr.contains("nothing-here"), "{stderr}");
}
