//! The case's bookmarks exported as CSV (spreadsheet-safe) or JSON Lines, each naming the
//! evidence it came from and the manifest it was read against.

use crate::case::bookmarks::Bookmark;
use crate::escape::csv_field;

/// Bookmarks as RFC 4180 CSV (spreadsheet-safe), each row naming the evidence it came from.
pub fn to_csv(items: &[Bookmark], manifest_sha256: &str) -> String {
    let mut out = format!(
        "{}time,kind,user,ip,summary,note,table,blob,line,blob_sha256,created,manifest_sha256\r\n",
        crate::escape::CSV_BOM
    );
    for b in items {
        let fields = [
            csv_field(&b.time),
            csv_field(&b.kind),
            csv_field(b.user.as_deref().unwrap_or("")),
            csv_field(b.ip.as_deref().unwrap_or("")),
            csv_field(&b.summary),
            csv_field(&b.note),
            csv_field(&b.table),
            csv_field(&b.blob),
            b.line.to_string(),
            csv_field(b.blob_sha256.as_deref().unwrap_or("")),
            csv_field(&b.created),
            csv_field(manifest_sha256),
        ];
        out.push_str(&fields.join(","));
        out.push_str("\r\n");
    }
    out
}

/// Bookmarks as JSON Lines, each object with the manifest's SHA-256 added.
pub fn to_jsonl(items: &[Bookmark], manifest_sha256: &str) -> String {
    let mut out = String::new();
    for b in items {
        let mut value = serde_json::to_value(b).unwrap_or_default();
        if let serde_json::Value::Object(map) = &mut value {
            map.insert("manifest_sha256".into(), manifest_sha256.into());
        }
        out.push_str(&value.to_string());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        reason = "a test fails loudly where a value is missing"
    )]
    use super::*;
    use crate::case::bookmarks::tests::bookmark;

    #[test]
    fn exports_are_spreadsheet_safe_and_name_the_evidence() {
        let csv = to_csv(
            &[bookmark("=HYPERLINK(\"http://x\",\"y\")")],
            "m".repeat(64).as_str(),
        );
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert!(lines[0].starts_with(crate::escape::CSV_BOM), "for Excel");
        assert_eq!(lines[0].split(',').count(), 12);
        assert!(lines[1].contains("\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""));
        assert!(lines[1].ends_with(&"m".repeat(64)));
        let jsonl = to_jsonl(&[bookmark("n")], "abc");
        let value: serde_json::Value = serde_json::from_str(jsonl.trim()).unwrap();
        assert_eq!(value["manifest_sha256"], "abc");
        assert_eq!(value["line"], 7);
    }
}
