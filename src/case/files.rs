//! The case's own files as files: hashing one, and opening one the manifest lists only when it is
//! a plain file inside the case. Below the writer, the journal and verify, which all use both.

use std::fs::File;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::CaseError;

/// Size and SHA-256 of a file.
pub fn hash_file(path: &Path) -> Result<(u64, String), CaseError> {
    let mut file = File::open(path).map_err(CaseError::io("hashing", path))?;
    let mut hasher = Sha256::new();
    let size = std::io::copy(&mut file, &mut hasher).map_err(CaseError::io("hashing", path))?;
    Ok((size, hex::encode(hasher.finalize())))
}

/// A path the manifest lists, as a regular file inside the case: `Ok(None)` when it is absent
/// (reported as missing elsewhere), `Err` with the reason when it may not be opened: absolute,
/// leaving the case (`..`), a symbolic link, or not a regular file (a device such as /dev/zero
/// would never end, a pipe would block).
pub fn case_file(
    root: &std::path::Path,
    listed: &str,
) -> Result<Option<std::path::PathBuf>, String> {
    use std::path::Component;
    let relative = std::path::Path::new(listed);
    if !relative
        .components()
        .all(|c| matches!(c, Component::Normal(_)))
    {
        return Err("not a plain path inside the case (absolute, or with `..` or `.`)".into());
    }
    let path = root.join(relative);
    match std::fs::symlink_metadata(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot be examined: {e}")),
        Ok(meta) if meta.file_type().is_symlink() => Err("a symbolic link, not followed".into()),
        Ok(meta) if !meta.is_file() => Err("not a regular file".into()),
        Ok(_) => Ok(Some(path)),
    }
}
