//! Which credential reaches a storage account, first match wins: a SAS in the URL;
//! `--sas-token` / `--account-key` / `--connection-string`; `AZURE_STORAGE_CONNECTION_STRING`
//! (its `AccountKey`, `SharedAccessSignature` and `BlobEndpoint`); `AZURE_STORAGE_KEY` (or
//! `AZURE_STORAGE_ACCOUNT_KEY`); `AZURE_STORAGE_SAS_TOKEN`; otherwise an ambient identity through
//! object_store (service principal, workload identity, the Azure CLI when
//! `MCPFORENSICS_USE_AZURE_CLI=1`, managed identity). Secrets never leave this module in text.

use object_store::azure::MicrosoftAzureBuilder;

use super::location::BlobLocation;
use crate::sources::SourceError;
use crate::sources::blob_rest::Credential;
use crate::sources::redact::scrub;

/// Credentials given on the command line (they take precedence over the environment), and the
/// environment's, read once by the command (nothing below the commands reads the environment).
#[derive(Clone, Default)]
pub struct AzureCredentials {
    /// A storage connection string.
    pub connection_string: Option<String>,
    /// A storage account key.
    pub account_key: Option<String>,
    /// A SAS token (with or without the leading `?`).
    pub sas_token: Option<String>,
    /// What the environment says, used after what was given.
    pub environment: CredentialEnvironment,
}

/// The variables of the environment that carry storage credentials, non-empty ones only.
#[derive(Clone, Default)]
pub struct CredentialEnvironment {
    /// `AZURE_STORAGE_CONNECTION_STRING`.
    pub connection_string: Option<String>,
    /// `AZURE_STORAGE_KEY`, else `AZURE_STORAGE_ACCOUNT_KEY`.
    pub account_key: Option<String>,
    /// `AZURE_STORAGE_SAS_TOKEN`.
    pub sas_token: Option<String>,
    /// `AZURE_CLIENT_ID`.
    pub client_id: Option<String>,
    /// `AZURE_TENANT_ID`.
    pub tenant_id: Option<String>,
    /// `AZURE_CLIENT_SECRET`.
    pub client_secret: Option<String>,
    /// `AZURE_FEDERATED_TOKEN_FILE`.
    pub federated_token_file: Option<String>,
    /// `MCPFORENSICS_USE_AZURE_CLI=1`: a token from the Azure CLI's login.
    pub use_azure_cli: bool,
}

impl CredentialEnvironment {
    /// Reads the variables through `var` (the command passes the process's environment).
    pub fn read(var: impl Fn(&str) -> Option<String>) -> Self {
        let env = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        Self {
            connection_string: env("AZURE_STORAGE_CONNECTION_STRING"),
            account_key: env("AZURE_STORAGE_KEY").or_else(|| env("AZURE_STORAGE_ACCOUNT_KEY")),
            sas_token: env("AZURE_STORAGE_SAS_TOKEN"),
            client_id: env("AZURE_CLIENT_ID"),
            tenant_id: env("AZURE_TENANT_ID"),
            client_secret: env("AZURE_CLIENT_SECRET"),
            federated_token_file: env("AZURE_FEDERATED_TOKEN_FILE"),
            use_azure_cli: env("MCPFORENSICS_USE_AZURE_CLI").is_some_and(|v| v == "1"),
        }
    }
}

/// Which credentials are present, never their values.
impl std::fmt::Debug for AzureCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AzureCredentials")
            .field("connection_string", &self.connection_string.is_some())
            .field("account_key", &self.account_key.is_some())
            .field("sas_token", &self.sas_token.is_some())
            .field("environment", &self.environment)
            .finish()
    }
}

/// Which variables are set, never their values.
impl std::fmt::Debug for CredentialEnvironment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialEnvironment")
            .field("connection_string", &self.connection_string.is_some())
            .field("account_key", &self.account_key.is_some())
            .field("sas_token", &self.sas_token.is_some())
            .field("client_id", &self.client_id.is_some())
            .field("tenant_id", &self.tenant_id.is_some())
            .field("client_secret", &self.client_secret.is_some())
            .field("federated_token_file", &self.federated_token_file.is_some())
            .field("use_azure_cli", &self.use_azure_cli)
            .finish()
    }
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

/// The credential for `parsed` (a connection string naming the account, or none, may also set its
/// endpoint for an `az://` location).
pub(super) fn resolve(
    parsed: &mut BlobLocation,
    location: &str,
    credentials: &AzureCredentials,
) -> Result<Credential, SourceError> {
    let env = &credentials.environment;
    let connection = credentials
        .connection_string
        .clone()
        .or_else(|| env.connection_string.clone())
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
    } else if let Some(key) = env.account_key.clone() {
        Credential::Key(key)
    } else if let Some(sas) = &env.sas_token {
        Credential::Sas(sas_pairs(sas))
    } else {
        let store = ambient(
            env,
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
    Ok(credential)
}

fn sas_pairs(sas: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(sas.trim_start_matches('?').as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// A builder for the ambient credential: a service principal or workload identity the
/// environment names, the Azure CLI's login when asked for, else a managed identity.
fn ambient(env: &CredentialEnvironment, builder: MicrosoftAzureBuilder) -> MicrosoftAzureBuilder {
    let mut builder = builder;
    if let Some(id) = &env.client_id {
        builder = builder.with_client_id(id);
    }
    if let Some(tenant) = &env.tenant_id {
        builder = builder.with_tenant_id(tenant);
    }
    if let Some(secret) = &env.client_secret {
        builder = builder.with_client_secret(secret);
    }
    if let Some(file) = &env.federated_token_file {
        builder = builder.with_federated_token_file(file);
    }
    if env.use_azure_cli {
        builder = builder.with_use_azure_cli(true);
    }
    builder
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_strings() {
        let azurite = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;";
        let parsed = parse_connection_string(azurite);
        assert_eq!(parsed.account.as_deref(), Some("devstoreaccount1"));
        assert!(parsed.key.as_deref().is_some_and(|k| k.ends_with("GMGw==")));
        assert_eq!(
            parsed.blob_endpoint.as_deref(),
            Some("http://127.0.0.1:10000/devstoreaccount1")
        );
        assert_eq!(
            sas_pairs("?sv=2024&sig=a%3D"),
            [
                ("sv".to_string(), "2024".to_string()),
                ("sig".into(), "a=".into())
            ]
        );
    }
}
