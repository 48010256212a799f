//! Re-hashing a case against its manifest.

use std::collections::BTreeSet;

use serde::Serialize;

use super::files::{case_file, hash_file};
use super::{Case, CaseError};

/// What verification found.
#[derive(Debug, Default, Clone, Serialize, PartialEq)]
pub struct VerifyReport {
    /// SHA-256 of manifest.json (compare with a report's `evidence.manifest_sha256`).
    pub manifest_sha256: String,
    /// Case files whose hash matches the manifest.
    pub case_files_ok: u64,
    /// Case files whose content changed.
    pub case_files_changed: Vec<String>,
    /// Case files the manifest lists but the case lacks.
    pub case_files_missing: Vec<String>,
    /// Parquet files in the case the manifest does not list.
    pub case_files_unexpected: Vec<String>,
    /// Paths the manifest lists that are not regular files inside the case (absolute, `..`,
    /// a link, a device or a pipe: a tampered manifest), never opened, with the reason.
    #[serde(default)]
    pub case_files_refused: Vec<String>,
    /// Source blobs re-hashed with a matching SHA-256 (with a source).
    pub source_blobs_ok: u64,
    /// Source blobs whose content differs from what was ingested.
    pub source_blobs_changed: Vec<String>,
    /// Source blobs that are gone.
    pub source_blobs_missing: Vec<String>,
    /// An ingest was killed while committing: files not in the manifest are most likely its
    /// own, and the next run of that ingest removes them and reads their blobs again.
    #[serde(default)]
    pub interrupted_commit: bool,
    /// The call index scope reads (derived data, not evidence), re-hashed against its own
    /// `index.json`; none when the case has no current index.
    #[serde(default)]
    pub call_index: Option<IndexVerification>,
}

/// A call index re-hashed against the SHA-256 its `index.json` lists for each file.
#[derive(Debug, Default, Clone, Serialize, PartialEq)]
pub struct IndexVerification {
    /// Its directory, relative to the case root.
    pub dir: String,
    /// Files whose hash matches.
    pub files_ok: u64,
    /// Files whose content changed (paths relative to the case root).
    pub files_changed: Vec<String>,
}

impl VerifyReport {
    /// Whether anything differs.
    pub fn has_differences(&self) -> bool {
        !(self.case_files_changed.is_empty()
            && self.case_files_refused.is_empty()
            && self.case_files_missing.is_empty()
            && self.case_files_unexpected.is_empty()
            && self.source_blobs_changed.is_empty()
            && self.source_blobs_missing.is_empty()
            && self
                .call_index
                .as_ref()
                .is_none_or(|index| index.files_changed.is_empty()))
    }
}

/// The case's files against the manifest's list of them, by name only (no hashing): what
/// every query session checks, since its tables read whatever Parquet files the case
/// directories hold.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct FileCheck {
    /// Files the manifest lists but the case lacks.
    pub missing: Vec<String>,
    /// Parquet files in the case the manifest does not list.
    pub unexpected: Vec<String>,
    /// An ingest was killed while committing (its journal is there): the unlisted files are
    /// most likely its own, which the next ingest removes before reading their blobs again.
    pub interrupted_commit: bool,
}

impl FileCheck {
    /// Whether the case holds exactly the files its manifest lists.
    pub fn matches(&self) -> bool {
        self.missing.is_empty() && self.unexpected.is_empty()
    }

    /// One sentence for a report or a warning, naming up to three files of each kind; `None`
    /// when the files match.
    pub fn statement(&self) -> Option<String> {
        if self.matches() {
            return None;
        }
        let some = |files: &[String]| {
            let mut named = files
                .iter()
                .take(3)
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(", ");
            if files.len() > 3 {
                named += &format!(" and {} more", files.len() - 3);
            }
            named
        };
        let count = |files: &[String], one: &str, many: &str| match files.len() {
            1 => format!("1 {one}"),
            n => format!("{n} {many}"),
        };
        let their = |files: &[String]| if files.len() == 1 { "its" } else { "their" };
        let mut parts = Vec::new();
        if !self.missing.is_empty() {
            parts.push(format!(
                "{} ({}): {} rows are not in this analysis",
                count(
                    &self.missing,
                    "file the manifest lists is missing",
                    "files the manifest lists are missing"
                ),
                some(&self.missing),
                their(&self.missing)
            ));
        }
        if !self.unexpected.is_empty() {
            parts.push(format!(
                "{} ({}): {} rows were read but are not from recorded evidence",
                count(
                    &self.unexpected,
                    "file the manifest does not list is in the case",
                    "files the manifest does not list are in the case"
                ),
                some(&self.unexpected),
                their(&self.unexpected)
            ));
        }
        let next = if self.interrupted_commit {
            "An ingest was killed while committing its files: run the same ingest again; it removes \
             the files its manifest entry never recorded and reads their blobs again (nothing is lost). \
             Do not delete case files by hand"
        } else {
            "Run `mcpforensics verify`"
        };
        Some(format!(
            "The case does not match its manifest: {}. {next}.",
            parts.join("; ")
        ))
    }
}

/// Compares the files the manifest lists with the Parquet files the case holds.
pub fn check_files(case: &Case) -> Result<FileCheck, CaseError> {
    let mut check = FileCheck {
        interrupted_commit: super::journal::pending(case.root()),
        ..FileCheck::default()
    };
    let mut listed = BTreeSet::new();
    for file in case.head()?.ingests.iter().flat_map(|i| &i.files) {
        listed.insert(file.path.as_str());
        if !case.has_file(&file.path) {
            check.missing.push(file.path.clone());
        }
    }
    for dir in ["tables", "rejects", super::identities::INDEX_DIR] {
        for relative in case.files_under(dir)? {
            if !listed.contains(relative.as_str()) {
                check.unexpected.push(relative);
            }
        }
    }
    Ok(check)
}

/// Re-hashes every case file against the manifest (`crate::ingest::recheck` re-hashes the
/// source's blobs into the same report).
pub fn verify(case: &Case) -> Result<VerifyReport, CaseError> {
    let files = check_files(case)?;
    let mut report = VerifyReport {
        manifest_sha256: hash_file(&case.root().join(super::MANIFEST_FILE))?.1,
        case_files_missing: files.missing,
        case_files_unexpected: files.unexpected,
        interrupted_commit: files.interrupted_commit,
        ..VerifyReport::default()
    };
    for file in case.head()?.ingests.iter().flat_map(|i| &i.files) {
        let path = match case_file(case.root(), &file.path) {
            Ok(Some(path)) => path,
            Ok(None) => continue,
            Err(reason) => {
                report
                    .case_files_refused
                    .push(format!("{}: {reason}", file.path));
                continue;
            }
        };
        if hash_file(&path)?.1 == file.sha256 {
            report.case_files_ok += 1;
        } else {
            report.case_files_changed.push(file.path.clone());
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_inside_the_case_are_opened() {
        let dir = tempfile::tempdir().expect("dir");
        std::fs::create_dir_all(dir.path().join("tables")).expect("dir");
        std::fs::write(dir.path().join("tables/a.parquet"), b"x").expect("file");
        assert!(
            case_file(dir.path(), "tables/a.parquet")
                .expect("ok")
                .is_some()
        );
        assert!(
            case_file(dir.path(), "tables/absent.parquet")
                .expect("ok")
                .is_none()
        );
        for bad in [
            "/etc/shadow",
            "../outside",
            "tables/../../x",
            "./tables/a.parquet",
        ] {
            assert!(case_file(dir.path(), bad).is_err(), "{bad}");
        }
        assert!(case_file(dir.path(), "tables").is_err(), "a directory");
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("/dev/zero", dir.path().join("tables/zero.parquet"))
                .expect("link");
            assert!(
                case_file(dir.path(), "tables/zero.parquet")
                    .unwrap_err()
                    .contains("symbolic link")
            );
        }
    }

    #[test]
    fn the_statement_names_up_to_three_files_of_each_kind_and_counts_the_rest() {
        assert_eq!(FileCheck::default().statement(), None);
        let files = |n: usize| (1..=n).map(|i| format!("t/{i}.parquet")).collect();
        let one_missing = FileCheck {
            missing: files(1),
            ..FileCheck::default()
        };
        assert_eq!(
            one_missing.statement().as_deref(),
            Some(
                "The case does not match its manifest: 1 file the manifest lists is missing \
                 (t/1.parquet): its rows are not in this analysis. Run `mcpforensics verify`."
            )
        );
        let many = FileCheck {
            missing: files(2),
            unexpected: files(5),
            ..FileCheck::default()
        };
        assert_eq!(
            many.statement().as_deref(),
            Some(
                "The case does not match its manifest: 2 files the manifest lists are missing \
                 (t/1.parquet, t/2.parquet): their rows are not in this analysis; 5 files the \
                 manifest does not list are in the case (t/1.parquet, t/2.parquet, t/3.parquet \
                 and 2 more): their rows were read but are not from recorded evidence. Run \
                 `mcpforensics verify`."
            )
        );
        let killed = FileCheck {
            unexpected: files(1),
            interrupted_commit: true,
            ..FileCheck::default()
        };
        let statement = killed.statement().unwrap();
        assert!(
            statement.contains("run the same ingest again")
                && !statement.contains("Run `mcpforensics verify`"),
            "{statement}"
        );
    }
}
