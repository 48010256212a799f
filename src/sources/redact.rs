//! The one place that knows what a secret looks like: the markers that reveal a credential inside
//! a text (SAS signatures, account keys, connection strings, client secrets, bearer tokens) and the
//! flags whose value is a credential. Manifests, reports, logs and error messages all go through it.

/// Text that reveals a credential wherever it appears (compared in lower case).
pub const SECRET_MARKERS: [&str; 7] = [
    "sig=",
    "accountkey=",
    "sharedaccesssignature=",
    "client_secret",
    "clientsecret=",
    "bearer ",
    "password=",
];

/// Flags whose value is a credential, in either form (`--flag VALUE`, `--flag=VALUE`).
pub const SECRET_FLAGS: [&str; 5] = [
    "--sas",
    "--sas-token",
    "--account-key",
    "--connection-string",
    "--client-secret",
];

const REDACTED: &str = "[REDACTED]";

fn reveals_secret(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    SECRET_MARKERS.iter().any(|m| lower.contains(m))
}

/// A command line with every credential replaced: the value after a secret flag, the value of a
/// `--flag=value` secret flag, the query of a URL carrying a signature, and any argument holding
/// a secret marker.
pub fn redact_command(args: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut out = Vec::new();
    let mut redact_next = false;
    for arg in args {
        let lower = arg.to_ascii_lowercase();
        if redact_next {
            out.push(REDACTED.into());
            redact_next = false;
        } else if let Some((flag, _)) = arg.split_once('=')
            && SECRET_FLAGS.contains(&flag.to_ascii_lowercase().as_str())
        {
            out.push(format!("{flag}={REDACTED}"));
        } else if reveals_secret(&arg) {
            out.push(match arg.split_once('?') {
                Some((base, _)) if base.contains("://") => format!("{base}?{REDACTED}"),
                _ => REDACTED.into(),
            });
        } else {
            redact_next = SECRET_FLAGS.contains(&lower.as_str());
            out.push(arg);
        }
    }
    out
}

/// A text (an error message, a log line) with every word that reveals a credential replaced.
pub fn scrub(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for token in text.split_inclusive(|c: char| c.is_whitespace() || c == '"' || c == '\'') {
        if reveals_secret(token) {
            out.push_str(REDACTED);
            if token.ends_with(|c: char| c.is_whitespace() || c == '"' || c == '\'') {
                out.push(token.chars().last().unwrap_or(' '));
            }
        } else {
            out.push_str(token);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_flag_form_is_redacted() {
        let args = [
            "mcpforensics",
            "ingest",
            "https://a.blob.core.windows.net/c?sv=2024&sig=SECRET",
            "--account-key",
            "KEY1==",
            "--account-key=KEY2==",
            "--SAS-TOKEN=sv=1&sig=KEY3",
            "--connection-string=DefaultEndpointsProtocol=https;AccountName=a;AccountKey=KEY4",
            "--case",
            "x",
        ];
        let out = redact_command(args.iter().map(|s| s.to_string()));
        assert_eq!(
            out,
            vec![
                "mcpforensics",
                "ingest",
                "https://a.blob.core.windows.net/c?[REDACTED]",
                "--account-key",
                "[REDACTED]",
                "--account-key=[REDACTED]",
                "--SAS-TOKEN=[REDACTED]",
                "--connection-string=[REDACTED]",
                "--case",
                "x"
            ]
        );
        let joined = out.join(" ");
        for secret in ["SECRET", "KEY1", "KEY2", "KEY3", "KEY4"] {
            assert!(!joined.contains(secret), "{secret} in {joined}");
        }
    }

    #[test]
    fn scrub_removes_secret_words_and_keeps_the_message() {
        let scrubbed = scrub("request to https://a.blob.core.windows.net/c?sv=1&sig=SECRET failed");
        assert!(!scrubbed.contains("SECRET") && scrubbed.contains("failed"));
        assert_eq!(scrub("AccountKey=abc; rest"), "[REDACTED] rest");
    }
}
