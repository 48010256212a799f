//! Evidence bookmarks: events an investigator marked in the timeline, with a note, kept in the
//! case as `bookmarks.json` (written atomically) and exported as CSV or JSON Lines.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::case::CaseError;
use crate::report::csv_field;

/// File name of the bookmarks in a case.
pub const BOOKMARKS_FILE: &str = "bookmarks.json";

/// One marked event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bookmark {
    /// Event time, RFC 3339 UTC.
    pub time: String,
    /// Event kind.
    pub kind: String,
    /// Identity, when the event has one.
    pub user: Option<String>,
    /// Caller or source address.
    pub ip: Option<String>,
    /// The timeline's one-line description.
    pub summary: String,
    /// Case table holding the record.
    pub table: String,
    /// Source blob.
    pub blob: String,
    /// Line in the blob.
    pub line: u64,
    /// SHA-256 of the source blob, from the manifest.
    pub blob_sha256: Option<String>,
    /// The investigator's note.
    pub note: String,
    /// When the bookmark was made, RFC 3339 UTC.
    pub created: String,
}

/// The case's bookmarks.
#[derive(Debug, Default, Clone)]
pub struct Bookmarks {
    path: Option<PathBuf>,
    items: Vec<Bookmark>,
}

impl Bookmarks {
    /// Reads `bookmarks.json` from a case directory (none yet is an empty list).
    pub fn load(case_root: &Path) -> Result<Self, CaseError> {
        let path = case_root.join(BOOKMARKS_FILE);
        let items = if path.exists() {
            let text = std::fs::read(&path).map_err(CaseError::io("reading", &path))?;
            serde_json::from_slice(&text).map_err(|source| CaseError::Manifest {
                path: path.clone(),
                source,
            })?
        } else {
            Vec::new()
        };
        Ok(Self {
            path: Some(path),
            items,
        })
    }

    /// Bookmarks held in memory only (tests).
    pub fn in_memory() -> Self {
        Self::default()
    }

    /// Every bookmark, in the order made.
    pub fn items(&self) -> &[Bookmark] {
        &self.items
    }

    /// The bookmark of a record, if any.
    pub fn find(&self, table: &str, blob: &str, line: u64) -> Option<usize> {
        self.items
            .iter()
            .position(|b| b.table == table && b.blob == blob && b.line == line)
    }

    /// Adds a bookmark and saves.
    pub fn add(&mut self, bookmark: Bookmark) -> Result<(), CaseError> {
        self.items.push(bookmark);
        self.save()
    }

    /// Removes a bookmark and saves.
    pub fn remove(&mut self, index: usize) -> Result<Option<Bookmark>, CaseError> {
        if index >= self.items.len() {
            return Ok(None);
        }
        let removed = self.items.remove(index);
        self.save()?;
        Ok(Some(removed))
    }

    fn save(&self) -> Result<(), CaseError> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let mut text =
            serde_json::to_vec_pretty(&self.items).map_err(|source| CaseError::Manifest {
                path: path.clone(),
                source,
            })?;
        text.push(b'\n');
        crate::case::write_atomic(path, &text)
    }
}

/// Bookmarks as RFC 4180 CSV (spreadsheet-safe), each row naming the evidence it came from.
pub fn to_csv(items: &[Bookmark], manifest_sha256: &str) -> String {
    let mut out = format!(
        "{}time,kind,user,ip,summary,note,table,blob,line,blob_sha256,created,manifest_sha256\r\n",
        crate::report::CSV_BOM
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
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn bookmark(note: &str) -> Bookmark {
        Bookmark {
            time: "2026-10-01T02:14:00Z".into(),
            kind: "tool".into(),
            user: Some("bob.keller@contoso.example".into()),
            ip: Some("45.86.202.14".into()),
            summary: "export_customers {\"filter\":\"*\"}".into(),
            table: "AppRequests".into(),
            blob: "am-apprequests/y=2026/m=10/d=01/h=02/m=00/PT05M.json".into(),
            line: 7,
            blob_sha256: Some("ab".repeat(32)),
            note: note.into(),
            created: "2026-11-25T10:00:00Z".into(),
        }
    }

    #[test]
    fn persist_across_loads_and_remove() {
        let dir = tempfile::tempdir().unwrap();
        let mut marks = Bookmarks::load(dir.path()).unwrap();
        assert!(marks.items().is_empty());
        marks.add(bookmark("first export")).unwrap();
        marks.add(bookmark("second")).unwrap();
        let reloaded = Bookmarks::load(dir.path()).unwrap();
        assert_eq!(reloaded.items(), marks.items());
        let at = reloaded.find("AppRequests", &bookmark("").blob, 7).unwrap();
        let mut reloaded = reloaded;
        assert_eq!(reloaded.remove(at).unwrap().unwrap().note, "first export");
        assert_eq!(Bookmarks::load(dir.path()).unwrap().items().len(), 1);
        assert_eq!(reloaded.remove(5).unwrap(), None);
    }

    #[test]
    fn exports_are_spreadsheet_safe_and_name_the_evidence() {
        let csv = to_csv(
            &[bookmark("=HYPERLINK(\"http://x\",\"y\")")],
            "m".repeat(64).as_str(),
        );
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert!(lines[0].starts_with(crate::report::CSV_BOM), "for Excel");
        assert_eq!(lines[0].split(',').count(), 12);
        assert!(lines[1].contains("\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""));
        assert!(lines[1].ends_with(&"m".repeat(64)));
        let jsonl = to_jsonl(&[bookmark("n")], "abc");
        let value: serde_json::Value = serde_json::from_str(jsonl.trim()).unwrap();
        assert_eq!(value["manifest_sha256"], "abc");
        assert_eq!(value["line"], 7);
    }
}
