//! Azure Blob Storage as an evidence source, read-only, through its REST API ([`super::blob_rest`]).
//!
//! Where the evidence is (`location`) and which credential reaches it (`credentials`, first match
//! wins, from the URL's SAS down to managed identity) are their own rooms; this one lists and
//! reads. Secrets are never part of [`EvidenceSource::describe`], errors or the manifest.
//!
//! Listing is pruned by time: each container is descended with delimiter listings down to its
//! `y=` level, and with a window only the `y=/m=/d=` day prefixes of the window are listed, so
//! blobs of other days are neither listed nor downloaded. Nothing is ever written to the account.

use std::collections::BTreeSet;
use std::io::Read;

use chrono::{DateTime, Datelike, Duration, Utc};
use futures::StreamExt;

mod credentials;
mod location;
mod store;

pub use credentials::{
    AzureCredentials, ConnectionString, CredentialEnvironment, parse_connection_string,
};
pub use location::{BlobLocation, is_blob_url, parse_location};
pub use store::{container_store, location_of_address, plan_address};

use super::blob_rest::{BlobClient, BlobError};
use super::{BlobRef, EvidenceSource, ExportKind, Listing, SourceError, layout};

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
        let credential = credentials::resolve(&mut parsed, location, credentials)?;
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
    fn secrets_are_scrubbed_and_days_counted() {
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
