//! Where evidence sits in Blob Storage: `az://<account>/<container>[/<prefix>]`,
//! `az://<account>/` (every export container), `https://<account>.blob.core.windows.net/…[?<SAS>]`
//! and the emulator's path-style `http://127.0.0.1:<port>/<account>/…`, parsed (never printed
//! with its SAS).

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
}
