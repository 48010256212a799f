//! The commit journal: what makes placing a run's files and recording them in the manifest one
//! step, whatever moment the process dies at.
//!
//! A run's files are renamed into place one by one and only then recorded in the manifest. A
//! process killed between the two (SIGKILL, the OOM killer, power loss) would leave files the
//! manifest does not list; a later run would read them as evidence and drop its own rows as
//! their duplicates. So before the first rename, `<case>/commit-journal.json` names the run and
//! every file it is about to place (written through a synced temporary file and a rename), and
//! it is removed once the manifest is saved. The next ingest finds it and settles it:
//! - the manifest records the run: the commit completed, the journal is removed;
//! - it does not: the run's placed files are removed (they are named after the run, so no other
//!   file is touched), and its blobs, never recorded, are read again by that same ingest.

use std::fs;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{Case, CaseError};

/// File name of the journal at the case root.
pub const JOURNAL_FILE: &str = "commit-journal.json";

/// A run being committed.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct Journal {
    /// The ingest run's id.
    pub ingest_id: String,
    /// Case-relative paths of the files the run places.
    pub files: Vec<String>,
}

/// How an interrupted commit was settled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    /// No commit was interrupted.
    Nothing,
    /// The manifest records the run: only the journal was left to remove.
    Completed(String),
    /// The run never reached the manifest: these of its files were removed.
    RolledBack {
        /// The interrupted run.
        ingest_id: String,
        /// Files removed.
        removed: Vec<String>,
    },
}

/// Records that `journal`'s files are about to be placed.
pub fn begin(case_root: &Path, journal: &Journal) -> Result<(), CaseError> {
    let bytes = serde_json::to_vec_pretty(journal).map_err(|source| CaseError::Manifest {
        path: case_root.join(JOURNAL_FILE),
        source,
    })?;
    super::write_atomic(&case_root.join(JOURNAL_FILE), &bytes)?;
    sync_directory(case_root);
    Ok(())
}

/// Removes the journal once the manifest records the run (or the run's files are gone again).
pub fn end(case_root: &Path) -> Result<(), CaseError> {
    let path = case_root.join(JOURNAL_FILE);
    match fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(CaseError::Io {
            action: "removing",
            path,
            source: e,
        }),
        _ => {
            sync_directory(case_root);
            Ok(())
        }
    }
}

/// Whether a commit was interrupted (the journal is still there).
pub fn pending(case_root: &Path) -> bool {
    case_root.join(JOURNAL_FILE).exists()
}

/// Settles an interrupted commit; call with the case locked for writing.
pub fn settle(case: &Case) -> Result<Settled, CaseError> {
    let path = case.root().join(JOURNAL_FILE);
    let bytes = match fs::read(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Settled::Nothing),
        other => other.map_err(CaseError::io("reading", &path))?,
    };
    let journal: Journal =
        serde_json::from_slice(&bytes).map_err(|source| CaseError::Manifest {
            path: path.clone(),
            source,
        })?;
    if case
        .head()?
        .ingests
        .iter()
        .any(|run| run.id == journal.ingest_id)
    {
        end(case.root())?;
        return Ok(Settled::Completed(journal.ingest_id));
    }
    let mut removed = Vec::new();
    for listed in &journal.files {
        // Only plain paths inside the case that carry the run's id: a damaged or planted
        // journal cannot remove evidence of another run.
        let Ok(Some(file)) = super::files::case_file(case.root(), listed) else {
            continue;
        };
        let named_after_run = file
            .file_name()
            .is_some_and(|n| n.to_string_lossy().contains(&journal.ingest_id));
        if !named_after_run {
            continue;
        }
        fs::remove_file(&file).map_err(CaseError::io("rolling back", &file))?;
        removed.push(listed.clone());
    }
    end(case.root())?;
    Ok(Settled::RolledBack {
        ingest_id: journal.ingest_id,
        removed,
    })
}

/// Makes renames and removals in `dir` durable (best effort: not every file system syncs
/// directories).
pub(crate) fn sync_directory(dir: &Path) {
    if let Ok(handle) = fs::File::open(dir) {
        let _ = handle.sync_all();
    }
}

/// Test hook: `MCPFORENSICS_TEST_CRASH_AT=<stage>:<n>` aborts the process (no destructors, no
/// clean-up: as SIGKILL would) when `stage` reaches step `n`. Stages: `commit` (before placing
/// the n-th file), `manifest` (after every file is placed, before the manifest is saved). Used
/// by the crash tests; unset in use.
pub(crate) fn crash_point(stage: &str, step: usize) {
    static AT: std::sync::OnceLock<Option<(String, usize)>> = std::sync::OnceLock::new();
    let at = AT.get_or_init(|| {
        let value = std::env::var("MCPFORENSICS_TEST_CRASH_AT").ok()?;
        let (stage, step) = value.split_once(':')?;
        Some((stage.to_string(), step.parse().ok()?))
    });
    if at.as_ref().is_some_and(|(s, n)| s == stage && *n == step) {
        std::process::abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unrecorded_run_is_rolled_back_and_nothing_else_is_touched() {
        let dir = tempfile::tempdir().unwrap();
        let case = Case::open_or_create(dir.path()).unwrap();
        let day = dir.path().join("tables/AppRequests/date=2026-01-01");
        fs::create_dir_all(&day).unwrap();
        fs::write(day.join("part-RUN1-0.parquet"), b"run").unwrap();
        fs::write(day.join("part-OTHER-0.parquet"), b"other").unwrap();
        begin(
            dir.path(),
            &Journal {
                ingest_id: "RUN1".into(),
                files: vec![
                    "tables/AppRequests/date=2026-01-01/part-RUN1-0.parquet".into(),
                    "tables/AppRequests/date=2026-01-01/part-OTHER-0.parquet".into(),
                    "../outside".into(),
                ],
            },
        )
        .unwrap();
        assert!(pending(dir.path()));
        let settled = settle(&case).unwrap();
        assert_eq!(
            settled,
            Settled::RolledBack {
                ingest_id: "RUN1".into(),
                removed: vec!["tables/AppRequests/date=2026-01-01/part-RUN1-0.parquet".into()],
            }
        );
        assert!(!day.join("part-RUN1-0.parquet").exists());
        assert!(day.join("part-OTHER-0.parquet").exists());
        assert!(!pending(dir.path()));
        assert_eq!(settle(&case).unwrap(), Settled::Nothing);
    }
}
