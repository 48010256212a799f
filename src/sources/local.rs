//! A local copy of a storage account: `<root>/<container>/<blob path>`.
//!
//! The root may also be a single container folder (`…/am-apprequests`). Files are only ever
//! opened for reading.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::{BlobRef, EvidenceSource, ExportKind, Listing, SourceError, layout};

/// A directory laid out like a storage account.
#[derive(Debug, Clone)]
pub struct LocalSource {
    root: PathBuf,
}

impl LocalSource {
    /// A source over `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The directory read.
    pub fn root(&self) -> &Path {
        &self.root
    }
}

impl EvidenceSource for LocalSource {
    fn describe(&self) -> String {
        self.root.display().to_string()
    }

    fn list(&self) -> Result<Listing, SourceError> {
        let list_error = |source| SourceError::List {
            location: self.describe(),
            source,
        };
        let mut listing = Listing::default();
        // The root itself may be one container.
        let root_name = self
            .root
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let containers: Vec<(String, PathBuf)> = if ExportKind::from_container(&root_name).is_some()
        {
            vec![(root_name, self.root.clone())]
        } else {
            let mut entries = Vec::new();
            for entry in fs::read_dir(&self.root).map_err(list_error)? {
                let entry = entry.map_err(list_error)?;
                let name = entry.file_name().to_string_lossy().into_owned();
                if entry.file_type().map_err(list_error)?.is_dir() {
                    entries.push((name, entry.path()));
                } else {
                    listing.ignored.push((
                        name,
                        "file at the account level, outside any container".into(),
                    ));
                }
            }
            entries
        };
        for (container, dir) in containers {
            let Some(kind) = ExportKind::from_container(&container) else {
                listing.ignored.push((
                    container,
                    "not an export container (am-*, insights-logs-*)".into(),
                ));
                continue;
            };
            let mut files = Vec::new();
            walk(&dir, &mut files).map_err(list_error)?;
            for file in files {
                let relative = file.strip_prefix(&dir).unwrap_or(&file);
                let rel: Vec<String> = relative
                    .iter()
                    .map(|c| c.to_string_lossy().into_owned())
                    .collect();
                let path = format!("{container}/{}", rel.join("/"));
                let name = rel.last().cloned().unwrap_or_default();
                if !layout::is_export_blob(&name) {
                    listing
                        .ignored
                        .push((path, "not a .json export blob".into()));
                    continue;
                }
                let size = fs::metadata(&file).map_err(list_error)?.len();
                listing.blobs.push(BlobRef {
                    path_time: layout::path_time(&path),
                    path,
                    container: container.clone(),
                    size,
                    kind: kind.clone(),
                    location: file,
                    etag: None,
                    last_modified: None,
                });
            }
        }
        listing.blobs.sort_by(|a, b| a.path.cmp(&b.path));
        listing.ignored.sort();
        Ok(listing)
    }

    fn open(&self, blob: &BlobRef) -> Result<Box<dyn Read + Send>, SourceError> {
        let file = fs::File::open(&blob.location).map_err(|source| SourceError::Open {
            blob: blob.path.clone(),
            source,
        })?;
        Ok(Box::new(file))
    }
}

/// Every regular file below `dir`, depth first; symbolic links are not followed.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            walk(&entry.path(), out)?;
        } else if kind.is_file() {
            out.push(entry.path());
        }
    }
    Ok(())
}
