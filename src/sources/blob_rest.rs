//! The three read calls of the Blob Storage REST API evidence needs (List Containers, List
//! Blobs, Get Blob), with the blob name carried exactly.
//!
//! Names are what Azure stores: any Unicode, `~ [ ] % ? #`, empty segments, a leading `/`, a
//! newline. Each byte outside the URL's unreserved set is percent-encoded once for the request,
//! and names read from a listing are XML-unescaped (and percent-decoded when the service marks
//! them `Encoded`). A name with a `.` or `..` segment cannot be requested exactly (every URL
//! parser, the service's included, folds those segments into their parent), so it is listed but
//! refused on reading rather than read as another blob.
//!
//! Transient failures (connection errors, 408, 429, 5xx) are retried three times with backoff.
//! Connection failures that outlast the retries are counted; after [`GIVE_UP_AFTER`] in a row
//! with no success between, the storage is taken as gone and every later call fails at once, so
//! an ingest stops in seconds instead of trying each remaining blob for minutes.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use chrono::Utc;

/// Storage REST version requested.
const VERSION: &str = "2021-08-06";
/// Connection failures in a row (each after its retries) after which the storage is gone.
pub const GIVE_UP_AFTER: u32 = 3;
const RETRIES: u32 = 3;

/// How requests are authorised.
#[derive(Clone)]
pub enum Credential {
    /// A SAS token's query pairs, appended to every request.
    Sas(Vec<(String, String)>),
    /// The account key: Shared Key signatures.
    Key(String),
    /// A bearer token from the environment (service principal, workload or managed identity).
    Token(object_store::azure::AzureCredentialProvider),
}

/// A blob as listed.
#[derive(Debug, Clone, PartialEq)]
pub struct ListedBlob {
    /// Its name in the container, exactly.
    pub name: String,
    /// `Content-Length`.
    pub size: u64,
    /// `Etag`.
    pub etag: Option<String>,
    /// `Last-Modified` (as the service wrote it).
    pub last_modified: Option<chrono::DateTime<Utc>>,
}

/// One page of a blob listing.
#[derive(Debug, Default, PartialEq)]
pub struct Page {
    /// Blobs.
    pub blobs: Vec<ListedBlob>,
    /// Virtual folders (with a delimiter), each ending in the delimiter.
    pub prefixes: Vec<String>,
    /// Where the next page starts, if there is one.
    pub next_marker: Option<String>,
}

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// The service answered with an error status.
    #[error("HTTP {status}{}", code.as_deref().map(|c| format!(" ({c})")).unwrap_or_default())]
    Status {
        /// The status.
        status: u16,
        /// `x-ms-error-code`, when given.
        code: Option<String>,
    },
    /// The service could not be reached (after retries).
    #[error("the storage cannot be reached: {0}")]
    Connection(String),
    /// Several calls in a row could not reach the service: no more are tried.
    #[error("the storage stopped answering ({0}); nothing more is requested")]
    Gone(String),
    /// The blob name cannot be requested exactly.
    #[error("{0}")]
    Name(String),
    /// Anything else (an unusable key, a token that could not be had, a malformed listing).
    #[error("{0}")]
    Other(String),
}

impl BlobError {
    /// Whether the container (or blob) does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, BlobError::Status { status: 404, .. })
    }
}

/// A client for one account endpoint.
pub struct BlobClient {
    http: reqwest::Client,
    /// `https://<account>.blob.core.windows.net`, or path-style `http://host:port/<account>`.
    endpoint: String,
    account: String,
    credential: Credential,
    failures_in_a_row: AtomicU32,
    gone: Mutex<Option<String>>,
}

impl BlobClient {
    /// A client; nothing is requested until a call.
    pub fn new(endpoint: &str, account: &str, credential: Credential) -> Result<Self, BlobError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .read_timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| BlobError::Other(super::redact::scrub(&e.to_string())))?;
        Ok(Self {
            http,
            endpoint: endpoint.trim_end_matches('/').to_string(),
            account: account.to_string(),
            credential,
            failures_in_a_row: AtomicU32::new(0),
            gone: Mutex::new(None),
        })
    }

    /// Why the storage is taken as gone, once it is.
    pub fn gone(&self) -> Option<String> {
        self.gone
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Every container name of the account (List Containers, paged).
    pub async fn list_containers(&self) -> Result<Vec<String>, BlobError> {
        let mut names = Vec::new();
        let mut marker = String::new();
        loop {
            let mut query = vec![("comp", "list".to_string())];
            if !marker.is_empty() {
                query.push(("marker", marker.clone()));
            }
            let body = self.get_text("", &query).await?;
            names.extend(
                elements(&body, "Name")
                    .into_iter()
                    .map(|(encoded, text)| name_text(&text, encoded)),
            );
            marker = elements(&body, "NextMarker")
                .into_iter()
                .next()
                .map(|(_, t)| unescape_xml(&t))
                .unwrap_or_default();
            if marker.is_empty() {
                return Ok(names);
            }
        }
    }

    /// One page of List Blobs under `prefix`, with `/` as delimiter when `folders`.
    pub async fn list_blobs(
        &self,
        container: &str,
        prefix: &str,
        folders: bool,
        marker: Option<&str>,
    ) -> Result<Page, BlobError> {
        let mut query = vec![
            ("restype", "container".to_string()),
            ("comp", "list".to_string()),
        ];
        if !prefix.is_empty() {
            query.push(("prefix", prefix.to_string()));
        }
        if folders {
            query.push(("delimiter", "/".to_string()));
        }
        if let Some(marker) = marker {
            query.push(("marker", marker.to_string()));
        }
        let body = self.get_text(&encode_path(container), &query).await?;
        parse_page(&body)
    }

    /// Get Blob: the response, whose body streams the blob's bytes.
    pub async fn get_blob(
        &self,
        container: &str,
        name: &str,
    ) -> Result<reqwest::Response, BlobError> {
        if let Some(segment) = name.split('/').find(|s| *s == "." || *s == "..") {
            return Err(BlobError::Name(format!(
                "the name has a `{segment}` segment, which HTTP cannot carry exactly (the request would read another blob), so it was not read; fetch it by other means and ingest the local copy"
            )));
        }
        let path = format!("{}/{}", encode_path(container), encode_path(name));
        self.send(&path, &[]).await
    }

    async fn get_text(&self, path: &str, query: &[(&str, String)]) -> Result<String, BlobError> {
        let response = self.send(path, query).await?;
        response
            .text()
            .await
            .map_err(|e| BlobError::Connection(super::redact::scrub(&e.to_string())))
    }

    /// Sends a GET, retrying transient failures; counts connection failures towards "gone".
    async fn send(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<reqwest::Response, BlobError> {
        if let Some(reason) = self.gone() {
            return Err(BlobError::Gone(reason));
        }
        let mut attempt = 0;
        loop {
            let outcome = self.send_once(path, query).await;
            let transient = match &outcome {
                Ok(response) => {
                    let status = response.status().as_u16();
                    status == 408 || status == 429 || status >= 500
                }
                Err(BlobError::Connection(_)) => true,
                Err(_) => false,
            };
            if transient && attempt < RETRIES {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(250 << attempt)).await;
                continue;
            }
            return match outcome {
                Ok(response) if response.status().is_success() => {
                    self.failures_in_a_row.store(0, Ordering::SeqCst);
                    Ok(response)
                }
                Ok(response) => {
                    self.failures_in_a_row.store(0, Ordering::SeqCst);
                    let code = response
                        .headers()
                        .get("x-ms-error-code")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_string);
                    Err(BlobError::Status {
                        status: response.status().as_u16(),
                        code,
                    })
                }
                Err(BlobError::Connection(reason)) => {
                    let failures = self.failures_in_a_row.fetch_add(1, Ordering::SeqCst) + 1;
                    if failures >= GIVE_UP_AFTER {
                        let mut gone = self
                            .gone
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner);
                        gone.get_or_insert_with(|| reason.clone());
                    }
                    Err(BlobError::Connection(reason))
                }
                Err(other) => Err(other),
            };
        }
    }

    async fn send_once(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<reqwest::Response, BlobError> {
        // The path is already encoded: appended as text, never re-parsed segment by segment.
        let mut url = format!("{}/{path}", self.endpoint);
        let mut pairs: Vec<(String, String)> = query
            .iter()
            .map(|(k, v)| ((*k).to_string(), v.clone()))
            .collect();
        if let Credential::Sas(sas) = &self.credential {
            pairs.extend(sas.iter().cloned());
        }
        if !pairs.is_empty() {
            let encoded: String = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                .finish();
            // form encoding writes a space as `+`, which the service reads as a plus sign.
            url = format!("{url}?{}", encoded.replace('+', "%20"));
        }
        let parsed = url::Url::parse(&url).map_err(|e| BlobError::Other(e.to_string()))?;
        let mut request = self
            .http
            .get(parsed.clone())
            .header("x-ms-version", VERSION);
        match &self.credential {
            Credential::Sas(_) => {}
            Credential::Key(key) => {
                let date = Utc::now().format("%a, %d %b %Y %H:%M:%S GMT").to_string();
                let mut canonical: Vec<(String, String)> = query
                    .iter()
                    .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
                    .collect();
                canonical.sort();
                let canonical_query: String = canonical
                    .iter()
                    .map(|(k, v)| format!("\n{k}:{v}"))
                    .collect();
                let to_sign = format!(
                    "GET\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:{date}\nx-ms-version:{VERSION}\n/{}{}{canonical_query}",
                    self.account,
                    parsed.path()
                );
                let signature = shared_key_signature(key, &to_sign).map_err(BlobError::Other)?;
                request = request.header("x-ms-date", date).header(
                    "Authorization",
                    format!("SharedKey {}:{signature}", self.account),
                );
            }
            Credential::Token(provider) => {
                let credential = provider
                    .get_credential()
                    .await
                    .map_err(|e| BlobError::Other(super::redact::scrub(&e.to_string())))?;
                match credential.as_ref() {
                    object_store::azure::AzureCredential::BearerToken(token) => {
                        request = request.bearer_auth(token);
                    }
                    _ => {
                        return Err(BlobError::Other(
                            "the environment gave no bearer token for Blob Storage".into(),
                        ));
                    }
                }
            }
        }
        request
            .send()
            .await
            .map_err(|e| BlobError::Connection(super::redact::scrub(&connection_reason(&e))))
    }
}

/// The innermost cause of a request error, which names what actually failed (refused, reset).
fn connection_reason(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text = cause.to_string();
        source = cause.source();
    }
    text
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

/// Percent-encodes every byte of `name` but `/` and the characters a URL path carries as
/// themselves (unreserved, and the sub-delimiters `= : @ ! $ & ' ( ) * , ;`; `+` is encoded,
/// since some servers read it as a space).
pub fn encode_path(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric()
            || matches!(
                byte,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'/'
                    | b'='
                    | b':'
                    | b'@'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b','
                    | b';'
            )
        {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Parses a List Blobs response.
fn parse_page(body: &str) -> Result<Page, BlobError> {
    if !body.contains("<EnumerationResults") {
        return Err(BlobError::Other(
            "the listing is not a List Blobs response".into(),
        ));
    }
    let mut page = Page::default();
    for (_, blob) in elements(body, "Blob") {
        let Some((encoded, name)) = elements(&blob, "Name").into_iter().next() else {
            continue;
        };
        let field = |tag: &str| {
            elements(&blob, tag)
                .into_iter()
                .next()
                .map(|(_, t)| unescape_xml(&t))
        };
        page.blobs.push(ListedBlob {
            name: name_text(&name, encoded),
            size: field("Content-Length")
                .and_then(|s| s.trim().parse().ok())
                .unwrap_or(0),
            etag: field("Etag"),
            last_modified: field("Last-Modified").and_then(|t| {
                chrono::DateTime::parse_from_rfc2822(&t)
                    .ok()
                    .map(|t| t.with_timezone(&Utc))
            }),
        });
    }
    for (_, prefix) in elements(body, "BlobPrefix") {
        if let Some((encoded, name)) = elements(&prefix, "Name").into_iter().next() {
            page.prefixes.push(name_text(&name, encoded));
        }
    }
    page.next_marker = elements(body, "NextMarker")
        .into_iter()
        .next()
        .map(|(_, t)| unescape_xml(&t))
        .filter(|m| !m.is_empty());
    Ok(page)
}

/// A `<Name>`'s text: XML-unescaped, and percent-decoded when marked `Encoded="true"` (the
/// service does so for names holding characters XML cannot carry).
fn name_text(text: &str, encoded: bool) -> String {
    let text = unescape_xml(text);
    if !encoded {
        return text;
    }
    let mut bytes = Vec::with_capacity(text.len());
    let raw = text.as_bytes();
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'%'
            && let Some(byte) = raw
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            bytes.push(byte);
            i += 3;
            continue;
        }
        bytes.push(raw[i]);
        i += 1;
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Every `<tag …>text</tag>` at any depth, with whether it carries `Encoded="true"`. Elements
/// of one tag never nest in these responses; `<Blob>` is not confused with `<BlobPrefix>` or
/// `<Blobs>`.
fn elements(body: &str, tag: &str) -> Vec<(bool, String)> {
    let close = format!("</{tag}>");
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(start) = rest.find(&format!("<{tag}")) {
        let after_name = &rest[start + tag.len() + 1..];
        let Some(end_of_open) = after_name.find('>') else {
            break;
        };
        let attributes = &after_name[..end_of_open];
        // `<Blobs>` when looking for `<Blob`: a different element.
        if attributes
            .chars()
            .next()
            .is_some_and(|c| !c.is_whitespace() && c != '/')
        {
            rest = &after_name[end_of_open..];
            continue;
        }
        if attributes.ends_with('/') {
            out.push((false, String::new()));
            rest = &after_name[end_of_open + 1..];
            continue;
        }
        let content = &after_name[end_of_open + 1..];
        let Some(stop) = content.find(&close) else {
            break;
        };
        let encoded = attributes.contains("Encoded=\"true\"");
        out.push((encoded, content[..stop].to_string()));
        rest = &content[stop + close.len()..];
    }
    out
}

/// Replaces XML's entities and character references.
fn unescape_xml(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        let Some(end) = tail.find(';').filter(|e| *e <= 12) else {
            out.push('&');
            rest = &tail[1..];
            continue;
        };
        let entity = &tail[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &tail[end + 1..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_encoded_once_and_read_back_exactly() {
        assert_eq!(
            encode_path("rg-münchen/a b/x~[y]%z?#+/y=2026/PT1H.json"),
            "rg-m%C3%BCnchen/a%20b/x~%5By%5D%25z%3F%23%2B/y=2026/PT1H.json"
        );
        assert_eq!(encode_path("/lead//x\n"), "/lead//x%0A");
        let body = "<?xml version=\"1.0\"?><EnumerationResults ContainerName=\"c\"><Blobs>\
            <Blob><Name>rg-münchen/a&amp;b &lt;x&gt;/PT1H.json</Name><Properties>\
            <Last-Modified>Wed, 25 Nov 2026 10:00:00 GMT</Last-Modified><Etag>0x8D1</Etag>\
            <Content-Length>42</Content-Length></Properties></Blob>\
            <Blob><Name Encoded=\"true\">a%0Ab/PT1H.json</Name><Properties><Content-Length>1</Content-Length></Properties></Blob>\
            <BlobPrefix><Name>y=2026/</Name></BlobPrefix></Blobs><NextMarker>2!abc&amp;</NextMarker></EnumerationResults>";
        let page = parse_page(body).unwrap();
        assert_eq!(page.blobs.len(), 2);
        assert_eq!(page.blobs[0].name, "rg-münchen/a&b <x>/PT1H.json");
        assert_eq!(page.blobs[0].size, 42);
        assert_eq!(page.blobs[0].etag.as_deref(), Some("0x8D1"));
        assert!(page.blobs[0].last_modified.is_some());
        assert_eq!(page.blobs[1].name, "a\nb/PT1H.json");
        assert_eq!(page.prefixes, vec!["y=2026/"]);
        assert_eq!(page.next_marker.as_deref(), Some("2!abc&"));
        assert_eq!(unescape_xml("&#x41;&#66;&bogus;&"), "AB&bogus;&");
        let empty =
            parse_page("<EnumerationResults><Blobs /><NextMarker /></EnumerationResults>").unwrap();
        assert_eq!(empty, Page::default());
        assert!(parse_page("<html>proxy</html>").is_err());
    }
}
