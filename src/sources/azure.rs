//! Azure Blob Storage as an evidence source, read-only, through its REST API ([`super::blob_rest`]).
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

use chrono::{DateTime, Datelike, Duration, Utc};
use futures::StreamExt;
use object_store::azure::MicrosoftAzureBuilder;

use super::blob_rest::{BlobClient, BlobError, Credential};
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

/// A storage account (or one container of it) as an evidence source.
pub struct AzureSource {
    location: BlobLocation,
    containers: Vec<String>,
    client: BlobClient,
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
            Credential::Sas(sas_pairs(&sas))
        } else if let Some(sas) = credentials.sas_token.clone() {
            Credential::Sas(sas_pairs(&sas))
        } else if let Some(key) = credentials.account_key.clone() {
            Credential::Key(key)
        } else if let Some(conn) = connection
            .as_ref()
            .filter(|c| c.account.as_deref().is_none_or(|a| a == parsed.account))
            && (conn.key.is_some() || conn.sas.is_some())
        {
            match (&conn.key, &conn.sas) {
                (Some(key), _) => Credential::Key(key.clone()),
                (None, sas) => Credential::Sas(sas_pairs(sas.as_deref().unwrap_or_default())),
            }
        } else if let Some(key) =
            env("AZURE_STORAGE_KEY").or_else(|| env("AZURE_STORAGE_ACCOUNT_KEY"))
        {
            Credential::Key(key)
        } else if let Some(sas) = env("AZURE_STORAGE_SAS_TOKEN") {
            Credential::Sas(sas_pairs(&sas))
        } else {
            let store = ambient(
                MicrosoftAzureBuilder::new()
                    .with_account(parsed.account.clone())
                    .with_container_name("$root")
                    .with_endpoint(parsed.endpoint.clone())
                    .with_allow_http(parsed.endpoint.starts_with("http://")),
            )
            .build()
            .map_err(|e| {
                SourceError::Location(format!("{}: {}", parsed.display(), scrub(&e.to_string())))
            })?;
            Credential::Token(store.credentials().clone())
        };
        let runtime =
            crate::runtime::multi_thread(Some(2)).map_err(|source| SourceError::List {
                location: parsed.display(),
                source,
            })?;
        let client = BlobClient::new(&parsed.endpoint, &parsed.account, credential)
            .map_err(|e| SourceError::Location(format!("{}: {e}", parsed.display())))?;
        let containers = match &parsed.container {
            Some(container) => vec![container.clone()],
            // A whole account: every export container it has; if the credential may not list
            // containers, the declared export containers are probed instead.
            None => match runtime.block_on(client.list_containers()) {
                Ok(names) => names
                    .into_iter()
                    .filter(|n| ExportKind::from_container(n).is_some())
                    .collect(),
                Err(_) => crate::catalog::containers(),
            },
        };
        Ok(Self {
            location: parsed,
            containers,
            client,
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

    async fn list_container(&self, container: &str, out: &mut Listing) -> Result<(), BlobError> {
        let Some(kind) = ExportKind::from_container(container) else {
            out.ignored.push((
                container.to_string(),
                "not an export container (am-*, insights-logs-*)".into(),
            ));
            return Ok(());
        };
        let start = if self.location.prefix.is_empty() {
            String::new()
        } else {
            format!("{}/", self.location.prefix)
        };
        // Descend to the levels whose children are `y=` folders. Prefixes only grow, so even a
        // name with empty segments or a leading `/` ends the descent.
        let mut roots: BTreeSet<String> = BTreeSet::new();
        let mut stack = vec![start];
        let mut blobs = Vec::new();
        while let Some(prefix) = stack.pop() {
            let mut marker: Option<String> = None;
            loop {
                let page = self
                    .client
                    .list_blobs(container, &prefix, true, marker.as_deref())
                    .await?;
                blobs.extend(page.blobs);
                for child in page.prefixes {
                    let last = child
                        .trim_end_matches('/')
                        .rsplit('/')
                        .next()
                        .unwrap_or_default();
                    if last.starts_with("y=") {
                        roots.insert(prefix.clone());
                    } else if child.len() > prefix.len() {
                        stack.push(child);
                    }
                }
                marker = page.next_marker;
                if marker.is_none() {
                    break;
                }
            }
        }
        for root in roots {
            // With a start, only the window's days are listed; without one, everything is.
            let prefixes: Vec<String> = match self.since {
                None => vec![root.clone()],
                Some(since) => days(since, self.until.unwrap_or_else(Utc::now))
                    .into_iter()
                    .map(|d| {
                        format!(
                            "{root}y={:04}/m={:02}/d={:02}/",
                            d.year(),
                            d.month(),
                            d.day()
                        )
                    })
                    .collect(),
            };
            for prefix in prefixes {
                let mut marker: Option<String> = None;
                loop {
                    let page = self
                        .client
                        .list_blobs(container, &prefix, false, marker.as_deref())
                        .await?;
                    blobs.extend(page.blobs);
                    marker = page.next_marker;
                    if marker.is_none() {
                        break;
                    }
                }
            }
        }
        for blob in blobs {
            let path = format!("{container}/{}", blob.name);
            let name = blob.name.rsplit('/').next().unwrap_or_default();
            if !layout::is_export_blob(name) {
                out.ignored.push((path, "not a .json export blob".into()));
                continue;
            }
            out.blobs.push(BlobRef {
                path_time: layout::path_time(&path),
                path,
                size: blob.size,
                kind: kind.clone(),
                etag: blob.etag,
                last_modified: blob.last_modified.map(crate::time::format_utc),
            });
        }
        Ok(())
    }
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
        for container in &self.containers {
            match self
                .runtime
                .block_on(self.list_container(container, &mut listing))
            {
                Ok(()) => {}
                Err(e) if whole_account && e.is_not_found() => {}
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
        let handle = self.runtime.handle().clone();
        let response = handle
            .block_on(
                self.client
                    .get_blob(blob.container(), blob.name_in_container()),
            )
            .map_err(|e| SourceError::Open {
                blob: blob.path.clone(),
                source: std::io::Error::other(scrub(&e.to_string())),
            })?;
        Ok(Box::new(StreamReader {
            stream: Box::pin(response.bytes_stream()),
            handle,
            pending: bytes::Bytes::new(),
        }))
    }

    fn unavailable(&self) -> Option<String> {
        self.client.gone()
    }
}

/// A blocking reader over a byte stream, for the decoding threads.
struct StreamReader {
    stream: futures::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
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
