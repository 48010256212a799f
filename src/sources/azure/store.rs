//! A container of a storage account as an `object_store` store, for reading a case kept in Blob
//! Storage: DataFusion (in this process, or on a cluster's scheduler and executors) reads the case's
//! Parquet files through it, with the credentials evidence is read with.
//!
//! Plans name such files by an address of their own that carries no secret:
//! `<scheme>://<container>:<account>@<host>[:port]/<prefix>/…`, the endpoint's scheme and host, the
//! container and account in the address's user part. Every process builds the store for an address
//! with its own credentials ([`AzureCredentials`], then the environment), so a SAS or key given to
//! one process never travels in a plan.

use std::sync::Arc;

use object_store::ObjectStore;
use object_store::azure::MicrosoftAzureBuilder;

use super::credentials::{self, AzureCredentials};
use super::location::BlobLocation;
use crate::sources::SourceError;
use crate::sources::blob_rest::Credential;
use crate::sources::redact::scrub;

/// The store for the container of `location` (which must name one).
pub fn container_store(
    location: &BlobLocation,
    given: &AzureCredentials,
) -> Result<Arc<dyn ObjectStore>, SourceError> {
    let container = location.container.clone().ok_or_else(|| {
        SourceError::Location(format!("{} names no container", location.display()))
    })?;
    let mut located = location.clone();
    // The endpoint as parsed stays: the location is never an `az://` text here.
    let credential = credentials::resolve(&mut located, &location.endpoint, given)?;
    let mut builder = MicrosoftAzureBuilder::new()
        .with_account(located.account.clone())
        .with_container_name(container)
        .with_endpoint(located.endpoint.clone())
        .with_allow_http(located.endpoint.starts_with("http://"));
    builder = match credential {
        Credential::Sas(pairs) => builder.with_sas_authorization(pairs),
        Credential::Key(key) => builder.with_access_key(key),
        Credential::Token(provider) => builder.with_credentials(provider),
    };
    let store = builder.build().map_err(|e| {
        SourceError::Location(format!("{}: {}", located.display(), scrub(&e.to_string())))
    })?;
    Ok(Arc::new(store))
}

/// The address plans use for `location` (its container and prefix), ending in `/`.
pub fn plan_address(location: &BlobLocation) -> Result<String, SourceError> {
    let container = location.container.as_deref().ok_or_else(|| {
        SourceError::Location(format!("{} names no container", location.display()))
    })?;
    let endpoint = url::Url::parse(&location.endpoint)
        .map_err(|e| SourceError::Location(format!("{}: {e}", location.display())))?;
    let host = endpoint.host_str().unwrap_or_default();
    let port = endpoint.port().map(|p| format!(":{p}")).unwrap_or_default();
    let mut address = format!(
        "{}://{container}:{}@{host}{port}/",
        endpoint.scheme(),
        location.account
    );
    for segment in location.prefix.split('/').filter(|s| !s.is_empty()) {
        address.push_str(&crate::sources::blob_rest::encode_path(segment));
        address.push('/');
    }
    Ok(address)
}

/// The location (endpoint, account, container; no prefix) a plan address names, or `None` when
/// the address is not one of [`plan_address`]'s.
pub fn location_of_address(address: &url::Url) -> Option<BlobLocation> {
    if !matches!(address.scheme(), "http" | "https") || address.username().is_empty() {
        return None;
    }
    let account = address.password().filter(|a| !a.is_empty())?;
    let host = address.host_str()?;
    let port = address.port().map(|p| format!(":{p}")).unwrap_or_default();
    // Virtual-host style (<account>.blob.core.windows.net) or path-style (the emulator).
    let endpoint = if host
        .strip_prefix(account)
        .is_some_and(|rest| rest.starts_with('.'))
    {
        format!("{}://{host}{port}", address.scheme())
    } else {
        format!("{}://{host}{port}/{account}", address.scheme())
    };
    Some(BlobLocation {
        account: account.to_string(),
        container: Some(address.username().to_string()),
        prefix: String::new(),
        endpoint,
        sas: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::azure::parse_location;

    #[test]
    fn plan_addresses_name_the_container_and_no_secret() {
        for (given, address, endpoint) in [
            (
                "az://secexports/cases/contoso/2026?sv=2024&sig=secret",
                "https://cases:secexports@secexports.blob.core.windows.net/contoso/2026/",
                "https://secexports.blob.core.windows.net",
            ),
            (
                "http://127.0.0.1:10000/devstoreaccount1/cases/c1",
                "http://cases:devstoreaccount1@127.0.0.1:10000/c1/",
                "http://127.0.0.1:10000/devstoreaccount1",
            ),
        ] {
            let location = parse_location(given).expect("location");
            let planned = plan_address(&location).expect("address");
            assert_eq!(planned, address);
            assert!(!planned.contains("secret"));
            let back = location_of_address(&url::Url::parse(&planned).expect("url"))
                .expect("an address of ours");
            assert_eq!(back.endpoint, endpoint);
            assert_eq!(back.container.as_deref(), Some("cases"));
        }
        assert!(location_of_address(&url::Url::parse("file:///tmp/case/").expect("url")).is_none());
        let no_container = parse_location("az://secexports").expect("location");
        assert!(plan_address(&no_container).is_err());
    }
}
