//! A case kept in Blob Storage (`--case az://<account>/<container>/<prefix>`, or an `https://` or
//! emulator URL), read in place: its metadata (manifest, config, commit journal) is copied to a
//! scratch directory that is removed when the case is dropped, and its Parquet files are read through
//! `object_store` by whichever process runs the scan ([`CaseStores`]). Nothing is ever written to the
//! account.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use datafusion::execution::object_store::{DefaultObjectStoreRegistry, ObjectStoreRegistry};
use futures::TryStreamExt;
use object_store::path::Path as StorePath;
use object_store::{ObjectStore, ObjectStoreExt};

use super::CaseError;
use crate::sources::azure::{
    AzureCredentials, container_store, location_of_address, parse_location, plan_address,
};

/// The files of the case that are copied to the scratch directory when present.
const METADATA: [&str; 3] = [
    super::MANIFEST_FILE,
    "config.json",
    super::journal::JOURNAL_FILE,
];

/// A case in Blob Storage: where it is, the files it holds, and the local copy of its metadata.
#[derive(Debug)]
pub(super) struct RemoteCase {
    /// Where the case is, as printed (never with a SAS).
    pub display: String,
    /// The case's address in plans ([`plan_address`]), ending in `/`.
    pub address: String,
    /// Every file of the case, relative to its root (`/`-separated), with its size.
    pub files: BTreeMap<String, u64>,
    /// The stores this process reads the case with.
    pub stores: Arc<CaseStores>,
    /// The metadata copy, removed when dropped.
    pub scratch: Scratch,
}

/// A scratch directory, removed with its contents when dropped.
#[derive(Debug)]
pub(super) struct Scratch(pub PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Lists the case at `location` and copies its metadata. Fails when the location holds no
/// `manifest.json`.
pub(super) fn fetch(
    location: &str,
    credentials: &AzureCredentials,
) -> Result<RemoteCase, CaseError> {
    let remote_error = |message: String| CaseError::Remote(message);
    let parsed = parse_location(location).map_err(remote_error)?;
    let mut given = credentials.clone();
    if given.sas_token.is_none() {
        given.sas_token.clone_from(&parsed.sas);
    }
    let display = parsed.display();
    let store = container_store(&parsed, &given).map_err(|e| remote_error(e.to_string()))?;
    let address = plan_address(&parsed).map_err(|e| remote_error(e.to_string()))?;
    let prefix = parsed.prefix.clone();
    let scratch = Scratch(scratch_dir()?);
    let copy_to = scratch.0.clone();
    let listed_store = store.clone();
    let (files, copied) = std::thread::scope(|threads| {
        threads
            .spawn(|| {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| remote_error(format!("{display}: {e}")))?;
                runtime.block_on(list_and_copy(&listed_store, &prefix, &copy_to))
            })
            .join()
            .unwrap_or_else(|_| Err(remote_error(format!("{display}: the listing failed"))))
    })
    .map_err(|e| match e {
        CaseError::Remote(message) => CaseError::Remote(format!("{display}: {message}")),
        other => other,
    })?;
    if !copied.iter().any(|f| f == super::MANIFEST_FILE) {
        return Err(CaseError::NotACase(display));
    }
    let stores = Arc::new(CaseStores::with_credentials(given));
    stores.add(&address, store);
    Ok(RemoteCase {
        display,
        address,
        files,
        stores,
        scratch,
    })
}

async fn list_and_copy(
    store: &Arc<dyn ObjectStore>,
    prefix: &str,
    copy_to: &Path,
) -> Result<(BTreeMap<String, u64>, Vec<String>), CaseError> {
    let failed =
        |e: object_store::Error| CaseError::Remote(crate::sources::redact::scrub(&e.to_string()));
    let root = if prefix.is_empty() {
        None
    } else {
        Some(StorePath::from(prefix))
    };
    let listed: Vec<_> = store
        .list(root.as_ref())
        .try_collect()
        .await
        .map_err(failed)?;
    let mut files = BTreeMap::new();
    for object in listed {
        let full = object.location.to_string();
        let relative = match &root {
            Some(root) => full
                .strip_prefix(root.as_ref())
                .and_then(|rest| rest.strip_prefix('/'))
                .unwrap_or(&full)
                .to_string(),
            None => full.clone(),
        };
        files.insert(relative, object.size);
    }
    let mut copied = Vec::new();
    for name in METADATA {
        if !files.contains_key(name) {
            continue;
        }
        let path = match &root {
            Some(root) => root.clone().join(name),
            None => StorePath::from(name),
        };
        let bytes = store
            .get(&path)
            .await
            .map_err(failed)?
            .bytes()
            .await
            .map_err(failed)?;
        let local = copy_to.join(name);
        std::fs::write(&local, &bytes).map_err(CaseError::io("writing", &local))?;
        copied.push(name.to_string());
    }
    Ok((files, copied))
}

fn scratch_dir() -> Result<PathBuf, CaseError> {
    let base = std::env::temp_dir();
    for attempt in 0..1000u32 {
        let dir = base.join(format!(
            "mcpforensics-case-{}-{}-{attempt}",
            std::process::id(),
            chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
        ));
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(CaseError::io("creating", &dir)(e)),
        }
    }
    Err(CaseError::Remote(format!(
        "no scratch directory could be made in {}",
        base.display()
    )))
}

/// The object stores of a process that reads cases: local files as DataFusion reads them, and
/// each container a plan names by a case address ([`plan_address`]), built on first use with this
/// process's credentials (those given, then the environment's:
/// `AZURE_STORAGE_CONNECTION_STRING`, `AZURE_STORAGE_KEY`, `AZURE_STORAGE_SAS_TOKEN`, a service
/// principal or managed identity).
#[derive(Debug, Default)]
pub struct CaseStores {
    credentials: AzureCredentials,
    local: DefaultObjectStoreRegistry,
    containers: Mutex<HashMap<String, Arc<dyn ObjectStore>>>,
}

impl CaseStores {
    /// Stores built, on first use, with `credentials` (a cluster process passes the
    /// environment's: none travel in plans).
    pub fn with_credentials(credentials: AzureCredentials) -> Self {
        Self {
            credentials,
            ..Self::default()
        }
    }

    fn add(&self, address: &str, store: Arc<dyn ObjectStore>) {
        if let Ok(url) = url::Url::parse(address)
            && let Ok(mut containers) = self.containers.lock()
        {
            containers.insert(store_key(&url), store);
        }
    }
}

/// The part of an address that names its store: scheme, container, account, host and port.
fn store_key(url: &url::Url) -> String {
    url[..url::Position::BeforePath].to_string()
}

impl ObjectStoreRegistry for CaseStores {
    fn register_store(
        &self,
        url: &url::Url,
        store: Arc<dyn ObjectStore>,
    ) -> Option<Arc<dyn ObjectStore>> {
        self.local.register_store(url, store)
    }

    fn deregister_store(&self, url: &url::Url) -> datafusion::error::Result<Arc<dyn ObjectStore>> {
        self.local.deregister_store(url)
    }

    fn get_store(&self, url: &url::Url) -> datafusion::error::Result<Arc<dyn ObjectStore>> {
        let Some(location) = location_of_address(url) else {
            return self.local.get_store(url);
        };
        let key = store_key(url);
        let mut containers = self
            .containers
            .lock()
            .map_err(|_| datafusion::error::DataFusionError::Internal("store registry".into()))?;
        if let Some(store) = containers.get(&key) {
            return Ok(store.clone());
        }
        let store = container_store(&location, &self.credentials)
            .map_err(|e| datafusion::error::DataFusionError::External(Box::new(e)))?;
        containers.insert(key, store.clone());
        Ok(store)
    }
}

impl RemoteCase {
    /// The Parquet files under `relative_dir`, relative to the case root, sorted.
    pub fn parquet_files(&self, relative_dir: &str) -> Vec<String> {
        let prefix = format!("{}/", relative_dir.trim_end_matches('/'));
        self.files
            .keys()
            .filter(|f| f.starts_with(&prefix) && f.ends_with(".parquet"))
            .cloned()
            .collect()
    }
}
