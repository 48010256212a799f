//! A local copy of a storage account: `<root>/<container>/<blob path>`.
//!
//! The root may also be a single container folder (`…/am-apprequests`). Files are only ever
//! opened for reading.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::{BlobRef, EvidenceSource, ExportKind, Listing, SourceError, layout};

/// Why a file or folder whose name is not UTF-8 is not read: it could not be recorded or read
/// back exactly, and Azure names are always UTF-8.
const NOT_UTF8: &str = "name is not UTF-8 (Azure names always are)";

/// Why a symbolic link is not read: it may point outside the source, and Blob Storage has none.
const SYMLINK: &str = "a symbolic link: not followed (it could lead outside the source)";

/// Why a pipe, socket or device is not read: reading could block or never end.
const NOT_A_FILE: &str = "not a regular file (a pipe, socket or device): not read";

/// Longest path the OS opens (Linux `PATH_MAX`, terminating NUL included).
const PATH_MAX: usize = 4096;

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

    /// Whether the root is itself one container folder.
    fn root_is_container(&self) -> bool {
        self.root
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| ExportKind::from_container(n).is_some())
    }

    /// The file a listed blob was found at.
    fn file_of(&self, blob: &BlobRef) -> PathBuf {
        let container = if self.root_is_container() {
            self.root.clone()
        } else {
            self.root.join(blob.container())
        };
        container.join(blob.name_in_container())
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
        let containers: Vec<(String, PathBuf)> = if self.root_is_container() {
            let root_name = self.root.file_name().and_then(|n| n.to_str());
            vec![(root_name.unwrap_or_default().to_string(), self.root.clone())]
        } else {
            let mut entries = Vec::new();
            for entry in fs::read_dir(&self.root).map_err(list_error)? {
                let entry = entry.map_err(list_error)?;
                let name = entry.file_name().to_string_lossy().into_owned();
                let kind = entry.file_type().map_err(list_error)?;
                if entry.file_name().to_str().is_none() {
                    listing.ignored.push((name, NOT_UTF8.into()));
                } else if kind.is_symlink() {
                    listing.ignored.push((name, SYMLINK.into()));
                } else if kind.is_dir() {
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
            // Relative names and sizes only: a listing holds hundreds of thousands of blobs.
            let mut files = Vec::new();
            walk(&dir, &container, &mut files, &mut listing.ignored).map_err(list_error)?;
            for (path, size) in files {
                let name = path.rsplit('/').next().unwrap_or_default();
                if !layout::is_export_blob(name) {
                    listing
                        .ignored
                        .push((path, "not a .json export blob".into()));
                    continue;
                }
                listing.blobs.push(BlobRef {
                    path_time: layout::path_time(&path),
                    path,
                    size,
                    kind: kind.clone(),
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
        use std::os::unix::fs::OpenOptionsExt as _;
        let open_error = |source| SourceError::Open {
            blob: blob.path.clone(),
            source,
        };
        // Not a link and not a pipe, even if the file was swapped after listing: O_NOFOLLOW
        // refuses a link, O_NONBLOCK keeps a pipe from blocking the open, and the type is
        // checked on the handle itself.
        let file = fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(self.file_of(blob))
            .map_err(open_error)?;
        if !file.metadata().map_err(open_error)?.is_file() {
            return Err(open_error(std::io::Error::other(NOT_A_FILE)));
        }
        Ok(Box::new(file))
    }
}

/// Every regular file below `dir` as its `/`-separated path under `prefix` and its size, depth
/// first; symbolic links are not followed. Names that are not UTF-8 (never a blob name) are
/// ignored with the reason, since they could not be recorded or read back exactly.
fn walk(
    dir: &Path,
    prefix: &str,
    out: &mut Vec<(String, u64)>,
    ignored: &mut Vec<(String, String)>,
) -> std::io::Result<()> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        // The top folder must be readable; below it, a folder that cannot be read (no
        // permission, a path past the OS limit) is named with the reason and the rest is listed.
        Err(e) if prefix.contains('/') => {
            ignored.push((prefix.to_string(), format!("folder cannot be read: {e}")));
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let file_name = entry.file_name();
        let kind = match entry.file_type() {
            Ok(kind) => kind,
            Err(e) => {
                let name = file_name.to_string_lossy();
                ignored.push((
                    format!("{prefix}/{name}"),
                    format!("cannot be examined: {e}"),
                ));
                continue;
            }
        };
        let Some(name) = file_name.to_str() else {
            ignored.push((
                format!("{prefix}/{}", file_name.to_string_lossy()),
                NOT_UTF8.into(),
            ));
            continue;
        };
        let path = format!("{prefix}/{name}");
        if kind.is_symlink() {
            ignored.push((path, SYMLINK.into()));
        } else if kind.is_dir() {
            walk(&entry.path(), &path, out, ignored)?;
        } else if !kind.is_file() {
            ignored.push((path, NOT_A_FILE.into()));
        } else if entry.path().as_os_str().len() >= PATH_MAX {
            ignored.push((
                path,
                format!("its path is longer than the OS limit ({PATH_MAX} bytes): it cannot be opened; copy the evidence to a shorter root"),
            ));
        } else {
            match entry.metadata() {
                Ok(meta) => out.push((path, meta.len())),
                Err(e) => ignored.push((path, format!("cannot be examined: {e}"))),
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStrExt;

    fn write(path: &Path, text: &str) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    #[test]
    fn lists_names_and_sizes_and_reads_back_from_an_account_or_a_container_root() {
        let dir = tempfile::tempdir().unwrap();
        let blob = "am-apprequests/WorkspaceResourceId=/x/y=2026/m=10/d=01/h=00/m=00/PT05M.json";
        write(&dir.path().join(blob), "{\"a\":1}\n");
        write(&dir.path().join("am-apprequests/notes.txt"), "x");
        // A name that is not UTF-8 cannot be recorded or read back exactly.
        let odd = dir
            .path()
            .join("am-apprequests")
            .join(std::ffi::OsStr::from_bytes(b"PT\xff.json"));
        fs::write(&odd, "{}").unwrap();

        let account = LocalSource::new(dir.path());
        let listing = account.list().unwrap();
        assert_eq!(listing.blobs.len(), 1);
        let found = &listing.blobs[0];
        assert_eq!((found.path.as_str(), found.size), (blob, 8));
        assert_eq!(found.container(), "am-apprequests");
        let mut text = String::new();
        account
            .open(found)
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "{\"a\":1}\n");
        let reasons: Vec<&str> = listing.ignored.iter().map(|(_, r)| r.as_str()).collect();
        assert_eq!(listing.ignored.len(), 2, "{:?}", listing.ignored);
        assert!(reasons.contains(&"not a .json export blob"));
        assert!(reasons.iter().any(|r| r.contains("not UTF-8")));

        let container = LocalSource::new(dir.path().join("am-apprequests"));
        let listing = container.list().unwrap();
        assert_eq!(listing.blobs[0].path, blob);
        let mut text = String::new();
        container
            .open(&listing.blobs[0])
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "{\"a\":1}\n");
    }
}
