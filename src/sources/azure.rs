//! Azure Blob Storage as an evidence source, read-only, through `object_store`.
//!
//! Locations: `az://<account>/<container>[/<prefix>]`, `az://<account>/` (every export container),
//! `https://<account>.blob.core.windows.net/<container>[/<prefix>][?<SAS>]`, and the emulator's
//! path-style `http://127.0.0.1:<port>/<account>/<container>[/<prefix>][?<SAS>]`.
//!
//! Credentials, first match wins: a SAS in the URL; `--connection-string` / `--account-key` /
//! `--sas-token`; `AZURE_STORAGE_CONNECTION_STRING` (its `AccountKey`, `SharedAccessSignature` and
//! `BlobEndpoint` are honoured); `AZURE_STORAGE_KEY` (or `AZURE_STORAGE_ACCOUNT_KEY`);
//! `AZURE_STORAGE_SAS_TOKEN`; a service principal (`AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET`,
//! `AZURE_TENANT_ID`); workload identity (`AZURE_FEDERATED_TOKEN_FILE` with client and tenant ids);
//! the Azure CLI's login when `MCPFORENSICS_USE_AZURE_CLI=1`; otherwise managed identity.
//! Secrets are never part of [`EvidenceSource::describe`], errors or the manifest.
//!
//! Listing is pruned by time: each container is descended with delimiter listings down to its
//! `y=` level, and with a window only the `y=/m=/d=` day prefixes of the window are listed, so
//! blobs of other days are neither listed nor downloaded. Nothing is ever written to the account.

use std::collections::BTreeSet;
use std::io::Read;
use std::sync::Arc;

use chrono::{DateTime, Datelike, Duration, Utc};
use futures::StreamExt;
use object_store::azure::MicrosoftAzureBuilder;
use object_store::path::Path as StorePath;
use object_store::{ObjectStore, ObjectStoreExt, RetryConfig};

use super::{BlobRef, EvidenceSource, ExportKind, Listing, SourceError, layout};

/// Credentials given on the command line (they take precedence over the environment).
#[derive(Debug, Clone, Default)]
pub struct AzureCredentials {
    /// A storage connection string.
    pub connection_string: Option<String>,
    /// A storage account key.
    pub account_key: Option<String>,
    /// A SAS token (with or without the leading `?`).
    pub sas_token: Option<String>,
}

/// A parsed blob location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobLocation {
    /// Storage account name.
    pub account: String,
    /// Container, or `None` for every export container of the account.
    pub container: Option<String>,
    /// Prefix inside the container.
    pub prefix: String,
    /// Account endpoint (`https://<account>.blob.core.windows.net`, or path-style for the emulator).
    pub endpoint: String,
    /// The SAS carried by the URL, if any.
    pub sas: Option<String>,
}

impl BlobLocation {
    /// The location as printed and recorded: never with its SAS.
    pub fn display(&self) -> String {
        let mut text = format!(
            "{}/{}",
            self.endpoint,
            self.container.as_deref().unwrap_or("")
        );
        if !self.prefix.is_empty() {
            text.push('/');
            text.push_str(&self.prefix);
        }
        text
    }
}

/// Whether a location string names Blob Storage rather than a local directory.
pub fn is_blob_url(location: &str) -> bool {
    location.starts_with("az://")
        || location.starts_with("https://")
        || location.starts_with("http://")
}

/// Parses `az://`, `https://<account>.blob.core.windows.net/…` and path-style emulator URLs.
pub fn parse_location(location: &str) -> Result<BlobLocation, String> {
    let (without_query, sas) = match location.split_once('?') {
        Some((base, query)) if !query.is_empty() => (base, Some(query.to_string())),
        Some((base, _)) => (base, None),
        None => (location, None),
    };
    let redacted = || {
        format!(
            "{without_query}{}",
            if sas.is_some() { "?[SAS]" } else { "" }
        )
    };
    if let Some(rest) = without_query.strip_prefix("az://") {
        let mut parts = rest.splitn(3, '/');
        let account = parts
            .next()
            .filter(|a| !a.is_empty())
            .ok_or_else(|| format!("{} names no storage account", redacted()))?;
        let container = parts.next().filter(|c| !c.is_empty()).map(str::to_string);
        let prefix = parts.next().unwrap_or("").trim_matches('/').to_string();
        return Ok(BlobLocation {
            account: account.into(),
            container,
            prefix,
            endpoint: format!("https://{account}.blob.core.windows.net"),
            sas,
        });
    }
    let url =
        url::Url::parse(without_query).map_err(|e| format!("{} is not a URL: {e}", redacted()))?;
    let host = url.host_str().unwrap_or_default().to_string();
    let segments: Vec<String> = url
        .path_segments()
        .map(|s| s.filter(|p| !p.is_empty()).map(|p| p.to_string()).collect())
        .unwrap_or_default();
    let decode = |s: &str| percent_decode(s);
    if let Some(account) = host.strip_suffix(".blob.core.windows.net") {
        let container = segments.first().map(|c| decode(c));
        let prefix = segments
            .iter()
            .skip(1)
            .map(|s| decode(s))
            .collect::<Vec<_>>()
            .join("/");
        return Ok(BlobLocation {
            account: account.into(),
            container,
            prefix,
            endpoint: format!("https://{host}"),
            sas,
        });
    }
    // Path-style: http(s)://host:port/<account>/<container>/<prefix> (the emulator, Azure Stack).
    let account = segments.first().ok_or_else(|| {
        format!(
            "{} names no storage account (expected /<account>/<container>)",
            redacted()
        )
    })?;
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    Ok(BlobLocation {
        account: account.clone(),
        container: segments.get(1).map(|c| decode(c)),
        prefix: segments
            .iter()
            .skip(2)
            .map(|s| decode(s))
            .collect::<Vec<_>>()
            .join("/"),
        endpoint: format!("{}://{host}{port}/{account}", url.scheme()),
        sas,
    })
}

fn percent_decode(text: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", text.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| text.to_string())
}

/// Fields of a storage connection string.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ConnectionString {
    /// `AccountName`.
    pub account: Option<String>,
    /// `AccountKey`.
    pub key: Option<String>,
    /// `SharedAccessSignature`.
    pub sas: Option<String>,
    /// `BlobEndpoint`.
    pub blob_endpoint: Option<String>,
}

/// Parses `Key=Value;…` (values may contain `=`, as keys and SAS tokens do).
pub fn parse_connection_string(text: &str) -> ConnectionString {
    let mut parsed = ConnectionString::default();
    for part in text.split(';').filter(|p| !p.trim().is_empty()) {
        let Some((key, value)) = part.split_once('=') else {
            continue;
        };
        let value = Some(value.trim().to_string());
        match key.trim().to_ascii_lowercase().as_str() {
            "accountname" => parsed.account = value,
            "accountkey" => parsed.key = value,
            "sharedaccesssignature" => parsed.sas = value,
            "blobendpoint" => {
                parsed.blob_endpoint = value.map(|v| v.trim_end_matches('/').to_string())
            }
            _ => {}
        }
    }
    parsed
}

#[derive(Clone)]
enum Credential {
    Sas(String),
    Key(String),
    Ambient,
}

/// Containers probed when a whole account is given and its containers cannot be listed.
pub fn export_containers() -> Vec<String> {
    let mut names: Vec<String> = crate::parsers::log_analytics::TABLES
        .iter()
        .map(|t| format!("am-{}", t.name.to_ascii_lowercase()))
        .collect();
    names.extend(
        crate::parsers::diagnostic::CATEGORIES
            .iter()
            .map(|c| format!("insights-logs-{}", c.category)),
    );
    names.push("insights-logs-networksecuritygroupflowevent".into());
    names.push("insights-logs-flowlogflowevent".into());
    names
}

/// A storage account (or one container of it) as an evidence source.
pub struct AzureSource {
    location: BlobLocation,
    containers: Vec<(String, Arc<dyn ObjectStore>)>,
    runtime: tokio::runtime::Runtime,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
}

impl AzureSource {
    /// Connects (lazily: nothing is requested until listing) to a location with the given credentials.
    pub fn open(location: &str, credentials: &AzureCredentials) -> Result<Self, SourceError> {
        let mut parsed = parse_location(location).map_err(|e| SourceError::Location(e.clone()))?;
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let connection = credentials
            .connection_string
            .clone()
            .or_else(|| env("AZURE_STORAGE_CONNECTION_STRING"))
            .map(|c| parse_connection_string(&c));
        // A connection string for this account (or naming none) supplies the endpoint too.
        if let Some(conn) = connection
            .as_ref()
            .filter(|c| c.account.as_deref().is_none_or(|a| a == parsed.account))
            && let Some(endpoint) = &conn.blob_endpoint
            && location.starts_with("az://")
        {
            parsed.endpoint = endpoint.clone();
        }
        let credential = if let Some(sas) = parsed.sas.clone() {
            Credential::Sas(sas)
        } else if let Some(sas) = credentials.sas_token.clone() {
            Credential::Sas(sas)
        } else if let Some(key) = credentials.account_key.clone() {
            Credential::Key(key)
        } else if let Some(conn) = connection
            .as_ref()
            .filter(|c| c.account.as_deref().is_none_or(|a| a == parsed.account))
        {
            match (&conn.key, &conn.sas) {
                (Some(key), _) => Credential::Key(key.clone()),
                (None, Some(sas)) => Credential::Sas(sas.clone()),
                _ => Credential::Ambient,
            }
        } else if let Some(key) =
            env("AZURE_STORAGE_KEY").or_else(|| env("AZURE_STORAGE_ACCOUNT_KEY"))
        {
            Credential::Key(key)
        } else if let Some(sas) = env("AZURE_STORAGE_SAS_TOKEN") {
            Credential::Sas(sas)
        } else {
            Credential::Ambient
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|source| SourceError::List {
                location: parsed.display(),
                source,
            })?;
        let containers = match &parsed.container {
            Some(container) => vec![container.clone()],
            // A whole account: every export container it has; if the credential may not list
            // containers, the declared export containers are probed instead.
            None => match runtime.block_on(list_account_containers(&parsed, &credential)) {
                Ok(names) => names
                    .into_iter()
                    .filter(|n| ExportKind::from_container(n).is_some())
                    .collect(),
                Err(_) => export_containers(),
            },
        };
        let mut stores = Vec::new();
        for container in containers {
            let mut builder = MicrosoftAzureBuilder::new()
                .with_account(parsed.account.clone())
                .with_container_name(container.clone())
                .with_endpoint(parsed.endpoint.clone())
                .with_allow_http(parsed.endpoint.starts_with("http://"))
                .with_retry(RetryConfig {
                    max_retries: 5,
                    retry_timeout: std::time::Duration::from_secs(60),
                    ..RetryConfig::default()
                });
            builder = match &credential {
                Credential::Sas(sas) => builder.with_sas_authorization(sas_pairs(sas)),
                Credential::Key(key) => builder.with_access_key(key.clone()),
                Credential::Ambient => ambient(builder),
            };
            let store = builder.build().map_err(|e| {
                SourceError::Location(format!("{}: {}", parsed.display(), scrub(&e.to_string())))
            })?;
            stores.push((container, Arc::new(store) as Arc<dyn ObjectStore>));
        }
        Ok(Self {
            location: parsed,
            containers: stores,
            runtime,
            since: None,
            until: None,
        })
    }

    /// Restricts listing to the day prefixes of a window (blobs outside it are never listed).
    pub fn with_window(
        mut self,
        since: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
    ) -> Self {
        self.since = since;
        self.until = until;
        self
    }

    async fn list_container(
        &self,
        container: &str,
        store: &Arc<dyn ObjectStore>,
        out: &mut Listing,
    ) -> Result<(), object_store::Error> {
        let Some(kind) = ExportKind::from_container(container) else {
            out.ignored.push((
                container.to_string(),
                "not an export container (am-*, insights-logs-*)".into(),
            ));
            return Ok(());
        };
        let start = (!self.location.prefix.is_empty())
            .then(|| StorePath::from(self.location.prefix.as_str()));
        // Descend to the levels whose children are `y=` folders.
        let mut roots: BTreeSet<String> = BTreeSet::new();
        let mut stack = vec![start.clone()];
        let mut direct = Vec::new();
        while let Some(prefix) = stack.pop() {
            let listed = store.list_with_delimiter(prefix.as_ref()).await?;
            direct.extend(listed.objects);
            for child in listed.common_prefixes {
                if child
                    .parts()
                    .next_back()
                    .is_some_and(|p| p.as_ref().starts_with("y="))
                {
                    roots.insert(prefix.as_ref().map(|p| p.to_string()).unwrap_or_default());
                } else {
                    stack.push(Some(child));
                }
            }
        }
        let mut metas = direct;
        for root in roots {
            let base = if root.is_empty() {
                String::new()
            } else {
                format!("{root}/")
            };
            // With a start, only the window's days are listed; without one, everything is.
            let prefixes: Vec<String> = match self.since {
                None => vec![root.clone()],
                Some(since) => days(since, self.until.unwrap_or_else(Utc::now))
                    .into_iter()
                    .map(|d| {
                        format!(
                            "{base}y={:04}/m={:02}/d={:02}",
                            d.year(),
                            d.month(),
                            d.day()
                        )
                    })
                    .collect(),
            };
            for prefix in prefixes {
                let path = if prefix.is_empty() {
                    None
                } else {
                    Some(StorePath::from(prefix.as_str()))
                };
                let mut stream = store.list(path.as_ref());
                while let Some(meta) = stream.next().await {
                    metas.push(meta?);
                }
            }
        }
        for meta in metas {
            let path = format!("{container}/{}", meta.location);
            let name = meta.location.filename().unwrap_or_default().to_string();
            if !layout::is_export_blob(&name) {
                out.ignored.push((path, "not a .json export blob".into()));
                continue;
            }
            out.blobs.push(BlobRef {
                path_time: layout::path_time(&path),
                path,
                size: meta.size,
                kind: kind.clone(),
                etag: meta.e_tag.clone(),
                last_modified: Some(crate::time::format_utc(meta.last_modified)),
            });
        }
        Ok(())
    }
}

/// Names of every container of the account (List Containers, paged), authorised like the blob reads.
async fn list_account_containers(
    location: &BlobLocation,
    credential: &Credential,
) -> Result<Vec<String>, String> {
    let client = reqwest::Client::new();
    let version = "2021-08-06";
    let mut names = Vec::new();
    let mut marker = String::new();
    loop {
        let mut url =
            url::Url::parse(&format!("{}/", location.endpoint)).map_err(|e| e.to_string())?;
        url.query_pairs_mut()
            .append_pair("comp", "list")
            .append_pair("maxresults", "5000");
        if !marker.is_empty() {
            url.query_pairs_mut().append_pair("marker", &marker);
        }
        let mut request = client.get(url.clone()).header("x-ms-version", version);
        match credential {
            Credential::Sas(sas) => {
                let mut with_sas = url.clone();
                for (key, value) in sas_pairs(sas) {
                    with_sas.query_pairs_mut().append_pair(&key, &value);
                }
                request = client.get(with_sas).header("x-ms-version", version);
            }
            Credential::Key(key) => {
                let date = Utc::now().format("%a, %d %b %Y %H:%M:%S GMT").to_string();
                let mut query: Vec<(String, String)> = url
                    .query_pairs()
                    .map(|(k, v)| (k.to_ascii_lowercase(), v.into_owned()))
                    .collect();
                query.sort();
                let canonical_query: String =
                    query.iter().map(|(k, v)| format!("\n{k}:{v}")).collect();
                let to_sign = format!(
                    "GET\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:{date}\nx-ms-version:{version}\n/{}{}{canonical_query}",
                    location.account,
                    url.path()
                );
                let signature = shared_key_signature(key, &to_sign)?;
                request = request.header("x-ms-date", date).header(
                    "Authorization",
                    format!("SharedKey {}:{signature}", location.account),
                );
            }
            Credential::Ambient => {
                let probe = ambient(
                    MicrosoftAzureBuilder::new()
                        .with_account(location.account.clone())
                        .with_container_name("$root")
                        .with_endpoint(location.endpoint.clone()),
                )
                .build()
                .map_err(|e| scrub(&e.to_string()))?;
                let credential = probe
                    .credentials()
                    .get_credential()
                    .await
                    .map_err(|e| scrub(&e.to_string()))?;
                match credential.as_ref() {
                    object_store::azure::AzureCredential::BearerToken(token) => {
                        request = request.bearer_auth(token)
                    }
                    _ => return Err("no token for listing containers".into()),
                }
            }
        }
        let response = request.send().await.map_err(|e| scrub(&e.to_string()))?;
        if !response.status().is_success() {
            return Err(format!("listing containers: HTTP {}", response.status()));
        }
        let body = response.text().await.map_err(|e| scrub(&e.to_string()))?;
        names.extend(xml_values(&body, "Name"));
        marker = xml_values(&body, "NextMarker")
            .into_iter()
            .next()
            .unwrap_or_default();
        if marker.is_empty() {
            return Ok(names);
        }
    }
}

fn shared_key_signature(key: &str, text: &str) -> Result<String, String> {
    use base64::Engine as _;
    use hmac::Mac as _;
    let key = base64::engine::general_purpose::STANDARD
        .decode(key.trim())
        .map_err(|_| "the account key is not base64".to_string())?;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key)
        .map_err(|_| "unusable account key".to_string())?;
    mac.update(text.as_bytes());
    Ok(base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()))
}

/// The text of every `<tag>…</tag>` element (container names and markers hold no markup).
fn xml_values(body: &str, tag: &str) -> Vec<String> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut values = Vec::new();
    let mut rest = body;
    while let Some(start) = rest.find(&open) {
        let after = &rest[start + open.len()..];
        let Some(end) = after.find(&close) else { break };
        values.push(after[..end].to_string());
        rest = &after[end + close.len()..];
    }
    values
}

/// The days (UTC) touched by `[since, until)`; an open start is not allowed to enumerate from 1970
/// needlessly, so callers pass a real time.
fn days(since: DateTime<Utc>, until: DateTime<Utc>) -> Vec<chrono::NaiveDate> {
    let mut out = Vec::new();
    let mut day = since.date_naive();
    let last = (until - Duration::nanoseconds(1)).date_naive();
    while day <= last && out.len() < 20_000 {
        out.push(day);
        day = day.succ_opt().unwrap_or(day);
    }
    out
}

fn sas_pairs(sas: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(sas.trim_start_matches('?').as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn ambient(builder: MicrosoftAzureBuilder) -> MicrosoftAzureBuilder {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let mut builder = builder;
    if let Some(id) = env("AZURE_CLIENT_ID") {
        builder = builder.with_client_id(id);
    }
    if let Some(tenant) = env("AZURE_TENANT_ID") {
        builder = builder.with_tenant_id(tenant);
    }
    if let Some(secret) = env("AZURE_CLIENT_SECRET") {
        builder = builder.with_client_secret(secret);
    }
    if let Some(file) = env("AZURE_FEDERATED_TOKEN_FILE") {
        builder = builder.with_federated_token_file(file);
    }
    if env("MCPFORENSICS_USE_AZURE_CLI").is_some_and(|v| v == "1") {
        builder = builder.with_use_azure_cli(true);
    }
    builder
}

pub use super::redact::scrub;

impl EvidenceSource for AzureSource {
    fn describe(&self) -> String {
        self.location.display()
    }

    fn list(&self) -> Result<Listing, SourceError> {
        let mut listing = Listing::default();
        let whole_account = self.location.container.is_none();
        for (container, store) in &self.containers {
            match self
                .runtime
                .block_on(self.list_container(container, store, &mut listing))
            {
                Ok(()) => {}
                Err(object_store::Error::NotFound { .. }) if whole_account => {}
                Err(e) if whole_account && e.to_string().contains("ContainerNotFound") => {}
                Err(e) => {
                    return Err(SourceError::List {
                        location: format!("{}/{container}", self.location.endpoint),
                        source: std::io::Error::other(scrub(&e.to_string())),
                    });
                }
            }
        }
        if whole_account && listing.blobs.is_empty() && listing.ignored.is_empty() {
            return Err(SourceError::NoContainers(self.location.display()));
        }
        listing.blobs.sort_by(|a, b| a.path.cmp(&b.path));
        listing.ignored.sort();
        Ok(listing)
    }

    fn open(&self, blob: &BlobRef) -> Result<Box<dyn Read + Send>, SourceError> {
        let store = self
            .containers
            .iter()
            .find(|(c, _)| c == blob.container())
            .map(|(_, s)| s.clone())
            .ok_or_else(|| SourceError::Open {
                blob: blob.path.clone(),
                source: std::io::Error::other("unknown container"),
            })?;
        let path = StorePath::from(blob.name_in_container());
        let handle = self.runtime.handle().clone();
        let result = handle
            .block_on(store.get(&path))
            .map_err(|e| SourceError::Open {
                blob: blob.path.clone(),
                source: std::io::Error::other(scrub(&e.to_string())),
            })?;
        Ok(Box::new(StreamReader {
            stream: result.into_stream(),
            handle,
            pending: bytes::Bytes::new(),
        }))
    }
}

/// A blocking reader over a byte stream, for the decoding threads.
struct StreamReader {
    stream: futures::stream::BoxStream<'static, object_store::Result<bytes::Bytes>>,
    handle: tokio::runtime::Handle,
    pending: bytes::Bytes,
}

impl Read for StreamReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.pending.is_empty() {
            match self.handle.block_on(self.stream.next()) {
                Some(Ok(chunk)) => self.pending = chunk,
                Some(Err(e)) => return Err(std::io::Error::other(scrub(&e.to_string()))),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.pending.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        self.pending = self.pending.slice(n..);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations() {
        let az =
            parse_location("az://secexports/am-apprequests/WorkspaceResourceId=/x").expect("az");
        assert_eq!(
            (
                az.account.as_str(),
                az.container.as_deref(),
                az.prefix.as_str()
            ),
            (
                "secexports",
                Some("am-apprequests"),
                "WorkspaceResourceId=/x"
            )
        );
        assert_eq!(az.endpoint, "https://secexports.blob.core.windows.net");
        let whole = parse_location("az://secexports/").expect("account");
        assert_eq!(whole.container, None);
        let https = parse_location("https://secexports.blob.core.windows.net/insights-logs-flowlogflowevent?sv=2024&sig=abc%3D").expect("https");
        assert_eq!(
            https.container.as_deref(),
            Some("insights-logs-flowlogflowevent")
        );
        assert_eq!(https.sas.as_deref(), Some("sv=2024&sig=abc%3D"));
        assert!(!https.display().contains("sig=") && !https.display().contains("abc%3D"));
        let emulator =
            parse_location("http://127.0.0.1:10000/devstoreaccount1/am-signinlogs/a/b?sig=x")
                .expect("emulator");
        assert_eq!(emulator.endpoint, "http://127.0.0.1:10000/devstoreaccount1");
        assert_eq!(
            (
                emulator.account.as_str(),
                emulator.container.as_deref(),
                emulator.prefix.as_str()
            ),
            ("devstoreaccount1", Some("am-signinlogs"), "a/b")
        );
        assert!(parse_location("az://").is_err());
    }

    #[test]
    fn container_listing_xml() {
        let listing = "<EnumerationResults><Containers><Container><Name>am-signinlogs</Name></Container><Container><Name>$logs</Name></Container></Containers><NextMarker>m2</NextMarker></EnumerationResults>";
        assert_eq!(xml_values(listing, "Name"), vec!["am-signinlogs", "$logs"]);
        assert_eq!(xml_values(listing, "NextMarker"), vec!["m2"]);
        assert!(xml_values("<NextMarker />", "NextMarker").is_empty());
    }

    #[test]
    fn connection_strings_and_scrubbing() {
        let azurite = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;";
        let parsed = parse_connection_string(azurite);
        assert_eq!(parsed.account.as_deref(), Some("devstoreaccount1"));
        assert!(parsed.key.as_deref().is_some_and(|k| k.ends_with("GMGw==")));
        assert_eq!(
            parsed.blob_endpoint.as_deref(),
            Some("http://127.0.0.1:10000/devstoreaccount1")
        );
        let scrubbed = scrub("request to https://a.blob.core.windows.net/c?sv=1&sig=SECRET failed");
        assert!(!scrubbed.contains("SECRET") && scrubbed.contains("failed"));
        assert_eq!(
            days(
                "2026-10-01T05:00:00Z".parse().expect("t"),
                "2026-10-03T00:00:00Z".parse().expect("t")
            )
            .len(),
            2
        );
    }
}
