//! Evidence bookmarks: events an investigator marked in the timeline, with a note, kept in the
//! case as `bookmarks.json` (written atomically); `crate::report::bookmarks` exports them.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::CaseError;

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

#[cfg(test)]
pub(crate) mod tests {
    #![allow(
        clippy::unwrap_used,
        reason = "a test fails loudly where a value is missing"
    )]
    use super::*;

    /// A bookmark on the sample's attacker call.
    pub(crate) fn bookmark(note: &str) -> Bookmark {
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
}
