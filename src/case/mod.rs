//! The on-disk case: Parquet per table partitioned by day, `manifest.json`, and rejects.
//!
//! Layout:
//! ```text
//! <case>/manifest.json
//! <case>/tables/<Table>/date=YYYY-MM-DD/part-<ingest>-<n>.parquet
//! <case>/rejects/rejects-<ingest>.parquet
//! <case>/index/identities-<ingest>.parquet      (the identities of each run's sign-ins)
//! <case>/derived/tool_calls-<fingerprint>/      (derived, not evidence: `crate::query::call_index`)
//! ```
//! Files are written under a temporary name and renamed when complete, so a reader never sees
//! half a file; the manifest is replaced atomically last. Owns no SQL (that is `query`).

pub mod bookmarks;
pub mod derived;
pub mod files;
pub mod identities;
pub mod journal;
pub mod manifest;
pub mod remote;
pub mod verify;
pub mod writer;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

pub use manifest::Manifest;

/// Errors from reading or writing a case.
#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    /// A file or directory of the case could not be read or written.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The manifest or config is not valid JSON of the expected shape.
    #[error("{path} is damaged: {source}")]
    Manifest {
        /// The manifest path.
        path: PathBuf,
        /// The parse error.
        source: serde_json::Error,
    },
    /// The directory is not a case.
    #[error(
        "{0} is not an mcpforensics case (no manifest.json); create one with `mcpforensics ingest <SOURCE> --case {0}`"
    )]
    NotACase(String),
    /// Parquet writing failed.
    #[error("writing {path}: {source}")]
    Parquet {
        /// File being written.
        path: PathBuf,
        /// The underlying error.
        source: parquet::errors::ParquetError,
    },
    /// A batch could not be split or filtered.
    #[error("arrow: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    /// A case in Blob Storage could not be listed or read (the message never holds a secret).
    #[error("{0}")]
    Remote(String),
    /// Another process is writing to the case.
    #[error(
        "another mcpforensics process is ingesting into {0}; wait for it to finish (two at once would each rewrite the manifest, and one would remove the other's files in progress)"
    )]
    Busy(String),
}

impl CaseError {
    pub(crate) fn io<'a>(
        action: &'static str,
        path: &'a Path,
    ) -> impl FnOnce(std::io::Error) -> CaseError + 'a {
        move |source| CaseError::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }
}

/// An open case directory. The manifest is read on first use: queries need only the tables.
#[derive(Debug)]
pub struct Case {
    root: PathBuf,
    /// A case in Blob Storage: `root` then holds only the copy of its metadata.
    remote: Option<remote::RemoteCase>,
    manifest: OnceLock<Manifest>,
    head: OnceLock<Manifest>,
    totals: OnceLock<manifest::EvidenceTotals>,
    summary: OnceLock<ManifestSummary>,
}

/// What reports need from a manifest, read without keeping its blob records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestSummary {
    /// SHA-256 of `manifest.json` as read.
    pub sha256: String,
    /// Source blobs recorded.
    pub blobs: usize,
    /// Records rejected at ingest, over every blob.
    pub rejected: u64,
    /// Blobs that could not be read completely.
    pub unreadable: usize,
    /// The latest row time of any blob.
    pub last_time: Option<chrono::DateTime<chrono::Utc>>,
}

/// Keys that name a customer in tool arguments and results, unless the case config says otherwise.
pub const DEFAULT_CUSTOMER_KEYS: [&str; 7] = [
    "customer_id",
    "customerId",
    "customer_ids",
    "customerIds",
    "customer",
    "account_id",
    "accountId",
];

/// Settings of a case, from `<case>/config.json` (all optional).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct CaseConfig {
    /// JSON keys that name a customer (data subject) in tool arguments and results.
    pub customer_keys: Vec<String>,
}

impl Default for CaseConfig {
    fn default() -> Self {
        Self {
            customer_keys: DEFAULT_CUSTOMER_KEYS
                .iter()
                .map(|k| (*k).to_string())
                .collect(),
        }
    }
}

/// Name of the manifest file.
pub const MANIFEST_FILE: &str = "manifest.json";

/// The case held for writing: an exclusive OS lock (`flock`) on the case directory itself, so
/// nothing is added to the case; released when dropped, or when the process ends however it
/// ends (no lock outlives its holder).
#[derive(Debug)]
pub struct WriteLock {
    _locked: fs::File,
}

/// Takes the case at `root` for writing, creating the directory if need be; fails at once with
/// [`CaseError::Busy`] while another process holds it.
pub fn lock_for_writing(root: &Path) -> Result<WriteLock, CaseError> {
    refuse_blob_url(root)?;
    fs::create_dir_all(root).map_err(CaseError::io("creating case directory", root))?;
    let directory = fs::File::open(root).map_err(CaseError::io("opening", root))?;
    match directory.try_lock() {
        Ok(()) => Ok(WriteLock { _locked: directory }),
        Err(fs::TryLockError::WouldBlock) => Err(CaseError::Busy(root.display().to_string())),
        Err(fs::TryLockError::Error(source)) => Err(CaseError::Io {
            action: "locking",
            path: root.to_path_buf(),
            source,
        }),
    }
}

impl Case {
    /// Opens an existing case.
    pub fn open(root: &Path) -> Result<Self, CaseError> {
        refuse_blob_url(root)?;
        if !root.join(MANIFEST_FILE).exists() {
            return Err(CaseError::NotACase(root.display().to_string()));
        }
        Ok(Self {
            root: root.to_path_buf(),
            remote: None,
            manifest: OnceLock::new(),
            head: OnceLock::new(),
            totals: OnceLock::new(),
            summary: OnceLock::new(),
        })
    }

    /// Opens a case, creating an empty one when the directory has none.
    pub fn open_or_create(root: &Path) -> Result<Self, CaseError> {
        refuse_blob_url(root)?;
        if root.join(MANIFEST_FILE).exists() {
            return Self::open(root);
        }
        fs::create_dir_all(root).map_err(CaseError::io("creating case directory", root))?;
        let case = Self {
            root: root.to_path_buf(),
            remote: None,
            manifest: OnceLock::from(Manifest::new(crate::time::format_utc(chrono::Utc::now()))),
            head: OnceLock::new(),
            totals: OnceLock::new(),
            summary: OnceLock::new(),
        };
        case.save_manifest()?;
        Ok(case)
    }

    /// Opens a case to read it: a directory, or a case in Blob Storage (`az://…`, `https://…`, an
    /// emulator URL; read with `credentials`, then the environment's).
    pub fn open_to_read(
        location: &str,
        credentials: &crate::sources::azure::AzureCredentials,
    ) -> Result<Self, CaseError> {
        if !crate::sources::azure::is_blob_url(location) {
            return Self::open(Path::new(location));
        }
        let remote = remote::fetch(location, credentials)?;
        Ok(Self {
            root: remote.scratch.0.clone(),
            remote: Some(remote),
            manifest: OnceLock::new(),
            head: OnceLock::new(),
            totals: OnceLock::new(),
            summary: OnceLock::new(),
        })
    }

    /// Whether the case is read in Blob Storage (its root is then a local copy of its metadata).
    pub fn is_remote(&self) -> bool {
        self.remote.is_some()
    }

    /// The case directory (for a case in Blob Storage, the local copy of its metadata).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the case is, as printed and recorded (a Blob Storage URL never with its SAS).
    pub fn location(&self) -> String {
        match &self.remote {
            Some(remote) => remote.display.clone(),
            None => self.root.display().to_string(),
        }
    }

    /// The object stores its files are read through (local files; the case's container).
    pub fn object_stores(
        &self,
    ) -> Arc<dyn datafusion::execution::object_store::ObjectStoreRegistry> {
        match &self.remote {
            Some(remote) => remote.stores.clone(),
            // A local case's files are read from disk: no credentials.
            None => Arc::new(remote::CaseStores::default()),
        }
    }

    /// The finished Parquet files under a directory of the case (`tables/AppRequests`, `rejects`),
    /// relative to its root and `/`-separated, sorted.
    pub fn files_under(&self, relative_dir: &str) -> Result<Vec<String>, CaseError> {
        if let Some(remote) = &self.remote {
            return Ok(remote.parquet_files(relative_dir));
        }
        Ok(Self::parquet_files(&self.root.join(relative_dir))?
            .iter()
            .map(|path| self.relative(path))
            .collect())
    }

    /// Whether the case holds a file (relative to its root, `/`-separated).
    pub fn has_file(&self, relative: &str) -> bool {
        match &self.remote {
            Some(remote) => remote.files.contains_key(relative),
            None => self.root.join(relative).is_file(),
        }
    }

    /// The address DataFusion reads a directory or file of the case at (a directory's ends in `/`).
    pub fn address_of(&self, relative: &str, directory: bool) -> String {
        let slash = if directory { "/" } else { "" };
        match &self.remote {
            Some(remote) => format!(
                "{}{}{slash}",
                remote.address,
                crate::sources::blob_rest::encode_path(relative.trim_matches('/'))
            ),
            None => {
                let path = self.root.join(relative);
                let absolute = std::path::absolute(&path).unwrap_or(path);
                format!("{}{slash}", absolute.display())
            }
        }
    }

    fn relative(&self, path: &Path) -> String {
        path.strip_prefix(&self.root)
            .unwrap_or(path)
            .iter()
            .map(|c| c.to_string_lossy())
            .collect::<Vec<_>>()
            .join("/")
    }

    /// The manifest as loaded (on first use) or last changed.
    pub fn manifest(&self) -> Result<&Manifest, CaseError> {
        if let Some(manifest) = self.manifest.get() {
            return Ok(manifest);
        }
        let path = self.root.join(MANIFEST_FILE);
        let text = fs::read(&path).map_err(CaseError::io("reading", &path))?;
        let manifest =
            serde_json::from_slice(&text).map_err(|source| CaseError::Manifest { path, source })?;
        Ok(self.manifest.get_or_init(|| manifest))
    }

    /// The manifest, for changing before [`Case::save_manifest`].
    pub fn manifest_mut(&mut self) -> Result<&mut Manifest, CaseError> {
        self.manifest()?;
        self.head = OnceLock::new();
        self.totals = OnceLock::new();
        self.summary = OnceLock::new();
        self.manifest
            .get_mut()
            .ok_or_else(|| CaseError::NotACase(self.root.display().to_string()))
    }

    /// The manifest without its blob records (`blobs` is empty): the ingest runs and the files
    /// they wrote. Read from the head of the manifest; older manifests are read whole, once.
    pub fn head(&self) -> Result<&Manifest, CaseError> {
        if let Some(head) = self.head.get() {
            return Ok(head);
        }
        let path = self.root.join(MANIFEST_FILE);
        let head = match manifest::read_head(&path).map_err(CaseError::io("reading", &path))? {
            Some(head) => head,
            None => {
                let whole = self.manifest()?;
                Manifest {
                    manifest_version: whole.manifest_version,
                    tool: whole.tool.clone(),
                    created: whole.created.clone(),
                    totals: whole.totals.clone(),
                    ingests: whole.ingests.clone(),
                    blobs: Vec::new(),
                }
            }
        };
        Ok(self.head.get_or_init(|| head))
    }

    /// The SHA-256 the case holds for each blob path: its newest complete record. A record of a
    /// read that failed, or of a rewritten version (never read into the case), is not it.
    pub fn held_blob_hashes(
        &self,
    ) -> Result<std::collections::BTreeMap<String, String>, CaseError> {
        #[derive(serde::Deserialize)]
        struct Record {
            path: String,
            sha256: String,
            #[serde(default)]
            read_error: Option<serde::de::IgnoredAny>,
            #[serde(default)]
            rewritten: Option<serde::de::IgnoredAny>,
        }
        let mut held = std::collections::BTreeMap::new();
        self.for_each_blob(|record: Record| {
            if record.read_error.is_none() && record.rewritten.is_none() {
                held.insert(record.path, record.sha256);
            }
        })?;
        Ok(held)
    }

    /// Calls `visit` with every blob record of the manifest, in order, each read into `T` (the
    /// fields the caller needs): memory does not hold the records. Manifests of the older
    /// layout are read whole, as a list of `T`.
    pub fn for_each_blob<T: serde::de::DeserializeOwned>(
        &self,
        mut visit: impl FnMut(T),
    ) -> Result<(), CaseError> {
        let path = self.root.join(MANIFEST_FILE);
        if manifest::for_each_blob(&path, &mut visit).map_err(CaseError::io("reading", &path))? {
            return Ok(());
        }
        #[derive(serde::Deserialize)]
        struct Blobs<T> {
            blobs: Vec<T>,
        }
        let text = fs::read(&path).map_err(CaseError::io("reading", &path))?;
        let blobs: Blobs<T> =
            serde_json::from_slice(&text).map_err(|source| CaseError::Manifest { path, source })?;
        blobs.blobs.into_iter().for_each(visit);
        Ok(())
    }

    /// The SHA-256 of every source blob by path, without the rest of their records.
    pub fn blob_hashes(&self) -> Result<manifest::BlobHashes, CaseError> {
        #[derive(serde::Deserialize)]
        struct PathAndHash {
            path: String,
            sha256: String,
        }
        let mut hashes = manifest::BlobHashes::default();
        self.for_each_blob(|blob: PathAndHash| hashes.insert(&blob.path, &blob.sha256))?;
        Ok(hashes)
    }

    /// The blobs the case has read completely, for an ingest to skip them.
    pub fn known_blobs(&self) -> Result<manifest::KnownBlobs, CaseError> {
        if let Some(manifest) = self.manifest.get() {
            return Ok(manifest::KnownBlobs::from_rows(
                manifest.blobs.iter().map(manifest::KnownRow::from),
            ));
        }
        let mut known = manifest::KnownBlobs::with_capacity(self.totals()?.blobs);
        self.for_each_blob(|row| known.add(row))?;
        Ok(known.finish())
    }

    /// The evidence's span: its first row time, and the exclusive end (the second after its
    /// latest row time). An empty case spans the day before now.
    pub fn evidence_span(
        &self,
    ) -> Result<(chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>), CaseError> {
        // The totals alone: resolving a window needs neither the records nor the manifest's hash.
        let totals = self.totals()?;
        let last = totals.last().unwrap_or_else(chrono::Utc::now);
        let end = last - chrono::Duration::nanoseconds(i64::from(last.timestamp_subsec_nanos()))
            + chrono::Duration::seconds(1);
        Ok((
            totals.first().unwrap_or(end - chrono::Duration::days(1)),
            end,
        ))
    }

    /// Totals over the manifest's blob records (count, rejects, time range), from the head of
    /// the manifest; manifests written before it held totals are read whole, once.
    pub fn totals(&self) -> Result<&manifest::EvidenceTotals, CaseError> {
        if let Some(totals) = self.totals.get() {
            return Ok(totals);
        }
        let path = self.root.join(MANIFEST_FILE);
        let head = manifest::read_head(&path).map_err(CaseError::io("reading", &path))?;
        let totals = match head.and_then(|m| m.totals) {
            Some(totals) => totals,
            None => {
                let text = fs::read(&path).map_err(CaseError::io("reading", &path))?;
                serde_json::from_slice::<manifest::Totals>(&text)
                    .map_err(|source| CaseError::Manifest { path, source })?
                    .blobs
            }
        };
        Ok(self.totals.get_or_init(|| totals))
    }

    /// The manifest's hash and totals; memory does not grow with its blob records.
    pub fn summary(&self) -> Result<&ManifestSummary, CaseError> {
        if let Some(summary) = self.summary.get() {
            return Ok(summary);
        }
        let (_, sha256) = files::hash_file(&self.root.join(MANIFEST_FILE))?;
        let totals = self.totals()?;
        let summary = ManifestSummary {
            sha256,
            blobs: totals.blobs as usize,
            rejected: totals.rejected,
            unreadable: totals.unreadable as usize,
            last_time: totals.last(),
        };
        Ok(self.summary.get_or_init(|| summary))
    }

    /// The case's settings (`config.json`), or the defaults when the case has none.
    pub fn config(&self) -> Result<CaseConfig, CaseError> {
        let path = self.root.join("config.json");
        if !path.exists() {
            return Ok(CaseConfig::default());
        }
        let text = fs::read(&path).map_err(CaseError::io("reading", &path))?;
        serde_json::from_slice(&text).map_err(|source| CaseError::Manifest { path, source })
    }

    /// Directory of one table.
    pub fn table_dir(&self, table: &str) -> PathBuf {
        self.root.join("tables").join(table)
    }

    /// Directory of the reject files.
    pub fn rejects_dir(&self) -> PathBuf {
        self.root.join("rejects")
    }

    /// Tables present in the case (directories under `tables/`), sorted.
    pub fn table_names(&self) -> Result<Vec<String>, CaseError> {
        if let Some(remote) = &self.remote {
            let mut names: Vec<String> = remote
                .files
                .keys()
                .filter_map(|f| f.strip_prefix("tables/")?.split_once('/'))
                .map(|(name, _)| name.to_string())
                .collect();
            names.dedup();
            return Ok(names);
        }
        let dir = self.root.join("tables");
        if !dir.exists() {
            return Ok(Vec::new());
        }
        let mut names = Vec::new();
        for entry in fs::read_dir(&dir).map_err(CaseError::io("listing", &dir))? {
            let entry = entry.map_err(CaseError::io("listing", &dir))?;
            if entry.path().is_dir() {
                names.push(entry.file_name().to_string_lossy().into_owned());
            }
        }
        names.sort();
        Ok(names)
    }

    /// Every finished Parquet file under a directory of the case, sorted.
    pub fn parquet_files(dir: &Path) -> Result<Vec<PathBuf>, CaseError> {
        let mut files = Vec::new();
        if dir.exists() {
            collect_parquet(dir, &mut files).map_err(CaseError::io("listing", dir))?;
        }
        files.sort();
        Ok(files)
    }

    /// Writes the manifest atomically (temporary file, then rename).
    pub fn save_manifest(&self) -> Result<(), CaseError> {
        let manifest = self.manifest()?;
        // Streamed: the manifest of a large case is hundreds of megabytes of JSON.
        write_atomic_with(&self.root.join(MANIFEST_FILE), |out| {
            manifest::write_manifest(out, manifest, &mut [])
        })
    }

    /// Records an ingest run: adds it and its blob records, read from `blob_lines` (one compact
    /// JSON record per line, in order), and replaces the manifest atomically. Neither the run's
    /// records nor those already in the manifest are held in memory: both are streamed, the
    /// latter from the manifest being replaced (read whole only in the older layout).
    pub fn commit_ingest(
        &mut self,
        run: manifest::IngestRecord,
        blob_lines: &Path,
        blob_totals: &manifest::EvidenceTotals,
    ) -> Result<(), CaseError> {
        let path = self.root.join(MANIFEST_FILE);
        // Held already (a case this run created, or one of the older layout): written from
        // memory. Otherwise from the head, the old records copied from the file.
        let head = match self.manifest.get() {
            Some(_) => None,
            None => manifest::read_head(&path).map_err(CaseError::io("reading", &path))?,
        };
        let (manifest, old_totals) = match head {
            Some(mut head) => {
                head.ingests.push(run);
                let old_totals = head.totals.take().unwrap_or_default();
                (std::borrow::Cow::Owned(head), Some(old_totals))
            }
            None => {
                self.manifest_mut()?.ingests.push(run);
                (std::borrow::Cow::Borrowed(self.manifest()?), None)
            }
        };
        let written = write_atomic_with(&path, |out| {
            let mut old;
            let mut lines = std::io::BufReader::new(fs::File::open(blob_lines)?);
            let mut sources = Vec::new();
            if let Some(totals) = &old_totals {
                old = std::io::BufReader::new(fs::File::open(&path)?);
                let first_line = manifest::skip_to_blobs(&mut old)? + 1;
                sources.push(manifest::BlobLines {
                    lines: &mut old,
                    from: (MANIFEST_FILE, first_line),
                    totals,
                });
            }
            sources.push(manifest::BlobLines {
                lines: &mut lines,
                from: ("the run's blob records", 1),
                totals: blob_totals,
            });
            manifest::write_manifest(out, &manifest, &mut sources)
        });
        // Read again on next use, as written (or as it was, if writing failed).
        self.manifest = OnceLock::new();
        self.head = OnceLock::new();
        self.totals = OnceLock::new();
        self.summary = OnceLock::new();
        written
    }
}

fn collect_parquet(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_parquet(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "parquet") {
            out.push(path);
        }
    }
    Ok(())
}

/// A Blob Storage URL given where a case directory is needed (to write it, or to read it by a
/// command that reads only directories) is refused: never a local directory named `az:` or `https:`.
fn refuse_blob_url(root: &Path) -> Result<(), CaseError> {
    let text = root.to_string_lossy();
    if !crate::sources::azure::is_blob_url(&text) {
        return Ok(());
    }
    let shown = crate::sources::azure::parse_location(&text)
        .map(|l| l.display())
        .unwrap_or_else(|_| text.split('?').next().unwrap_or_default().to_string());
    Err(CaseError::Remote(format!(
        "{shown} is in Blob Storage: this command needs a case directory on this machine (a case in \
         Blob Storage is read in place by scope, export customers, export xlsx, sql, tables and \
         queries run; copy it here, e.g. with azcopy, for the others)"
    )))
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), CaseError> {
    write_atomic_with(path, |out| out.write_all(bytes))
}

/// Writes what `fill` writes to `path` through a temporary file in the same directory and a rename.
pub fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> Result<(), CaseError> {
    let mut name = path
        .file_name()
        .map(std::ffi::OsStr::to_os_string)
        .unwrap_or_default();
    name.push(".tmp");
    let tmp = path.with_file_name(name);
    crate::interrupt::track(&tmp);
    let written = fs::File::create(&tmp)
        .and_then(|file| {
            let mut out = std::io::BufWriter::new(file);
            fill(&mut out)?;
            out.into_inner().map_err(|e| e.into_error())?.sync_all()
        })
        .map_err(CaseError::io("writing", &tmp))
        .and_then(|()| fs::rename(&tmp, path).map_err(CaseError::io("renaming into place", path)));
    if written.is_err() {
        // A full disk or a read-only directory: no partial file stays behind.
        let _ = fs::remove_file(&tmp);
    }
    crate::interrupt::untrack(&tmp);
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_case_with_a_manifest_of_the_older_layout_reads_as_before() {
        // Pretty-printed, without totals: as cases were written before the streamed layout.
        let dir = tempfile::tempdir().unwrap();
        let older = serde_json::json!({
            "manifest_version": 1,
            "tool": "mcpforensics",
            "created": "2026-11-24T00:00:00Z",
            "ingests": [{
                "id": "run-1", "tool_version": "0.1.0", "command": ["mcpforensics", "ingest"],
                "source": "/evidence", "since": null, "until": null,
                "started": "2026-11-24T00:00:00Z", "finished": "2026-11-24T00:00:01Z",
                "blobs_listed": 2, "blobs_outside_window": 0, "blobs_already_ingested": 0,
                "blobs_read": 2, "blobs_failed": 1, "rows_written": 5, "rejected": 2, "duplicates": 0,
                "files": [{"path": "tables/AppRequests/date=2026-10-01/part-run-1-00001.parquet",
                           "table": "AppRequests", "rows": 5, "size": 10, "sha256": "cd"}]
            }],
            "blobs": [
                {"path": "am-apprequests/a.json", "size": 1, "sha256": "ab".repeat(32),
                 "format": "log-analytics", "table": "AppRequests", "accepted": 5, "rejected": 2,
                 "duplicates": 0, "first_time": "2026-10-01T00:00:00Z",
                 "last_time": "2026-10-01T05:00:00Z", "ingest_id": "run-1", "read_error": null},
                {"path": "am-apprequests/b.json", "size": 1, "sha256": "ef".repeat(32),
                 "format": "log-analytics", "table": "AppRequests", "accepted": 0, "rejected": 0,
                 "duplicates": 0, "first_time": null, "last_time": null, "ingest_id": "run-1",
                 "read_error": "cut"}
            ]
        });
        std::fs::write(
            dir.path().join(MANIFEST_FILE),
            serde_json::to_string_pretty(&older).unwrap(),
        )
        .unwrap();
        let case = Case::open(dir.path()).unwrap();
        let head = case.head().unwrap();
        assert_eq!((head.ingests.len(), head.blobs.len()), (1, 0));
        assert_eq!(head.ingests[0].files[0].rows, 5);
        let totals = case.totals().unwrap();
        assert_eq!(
            (totals.blobs, totals.rejected, totals.unreadable),
            (2, 2, 1)
        );
        assert_eq!(totals.last_time.as_deref(), Some("2026-10-01T05:00:00Z"));
        let hashes = case.blob_hashes().unwrap();
        assert_eq!(hashes.get("am-apprequests/b.json"), Some("ef".repeat(32)));
        let summary = case.summary().unwrap();
        assert_eq!(summary.blobs, 2);
        assert_eq!(
            summary.sha256,
            files::hash_file(&dir.path().join(MANIFEST_FILE)).unwrap().1
        );
        // Only the complete record is known to a new ingest.
        let known = case.known_blobs().unwrap();
        assert_eq!(known.len(), 1);
        assert!(known.has("am-apprequests/a.json", &"ab".repeat(32)));
        assert!(!known.may_have("am-apprequests/b.json", 1));

        // A run committed to it rewrites it in the streamed layout, the older records first.
        let mut case = Case::open(dir.path()).unwrap();
        let mut run: manifest::IngestRecord =
            serde_json::from_value(older["ingests"][0].clone()).unwrap();
        run.id = "run-2".into();
        let mut blob: manifest::BlobRecord =
            serde_json::from_value(older["blobs"][1].clone()).unwrap();
        blob.read_error = None;
        blob.ingest_id = "run-2".into();
        let mut run_totals = manifest::EvidenceTotals::default();
        run_totals.add(&blob);
        let lines = dir.path().join("run-2.blobs");
        std::fs::write(&lines, serde_json::to_string(&blob).unwrap() + "\n").unwrap();
        case.commit_ingest(run, &lines, &run_totals).unwrap();
        let case = Case::open(dir.path()).unwrap();
        let ids: Vec<&str> = case
            .head()
            .unwrap()
            .ingests
            .iter()
            .map(|i| i.id.as_str())
            .collect();
        assert_eq!(ids, ["run-1", "run-2"]);
        assert_eq!(case.totals().unwrap().blobs, 3);
        let mut paths = Vec::new();
        case.for_each_blob(|b: manifest::BlobRecord| paths.push((b.path, b.ingest_id)))
            .unwrap();
        assert_eq!(
            paths,
            [
                ("am-apprequests/a.json".to_string(), "run-1".to_string()),
                ("am-apprequests/b.json".into(), "run-1".into()),
                ("am-apprequests/b.json".into(), "run-2".into()),
            ]
        );
        assert!(
            case.known_blobs()
                .unwrap()
                .may_have("am-apprequests/b.json", 1)
        );
    }
}
