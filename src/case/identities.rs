//! The identity index: what each ingest run's sign-ins say about each Entra object id.
//!
//! Resolving a caller to a name needs every sign-in of the case, whatever window a session
//! reads. Rather than aggregating every day's sign-in files on every question, each ingest run
//! writes `index/identities-<ingest>.parquet`: one row per object id among the sign-in rows it
//! wrote (after exact duplicates are dropped), with the name at its latest sign-in, its first and
//! last sign-in and how many. The `identities` view merges these rows. The file is a case file
//! like any other: listed in the manifest with its hash, never rewritten.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, Int64Array, StringArray, TimestampNanosecondArray, TimestampNanosecondBuilder,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::error::ArrowError;
use arrow::record_batch::RecordBatch;

use super::{Case, CaseError};

/// Whether identities come from `table`: the catalogue's identity sources (people's sign-ins,
/// then service principals' and managed identities': an AI agent's identity is a service
/// principal).
pub fn is_identity_source(table: &str) -> bool {
    crate::catalog::find(table).is_some_and(|t| t.has(crate::catalog::Role::IdentitySource))
}

/// The columns holding an identity's object id, name and display name in a sign-in table.
pub fn identity_columns(table: &str) -> (&'static str, &'static str, &'static str) {
    match table {
        "AADServicePrincipalSignInLogs" | "AADManagedIdentitySignInLogs" => (
            "ServicePrincipalId",
            "ServicePrincipalName",
            "ServicePrincipalName",
        ),
        _ => ("UserId", "UserPrincipalName", "UserDisplayName"),
    }
}

/// `table` of an index file in the manifest.
pub const INDEX_TABLE: &str = "identities";

/// Directory of the index files, under the case.
pub const INDEX_DIR: &str = "index";

/// Columns of an index file (and of the `identity_index` table).
pub fn index_schema() -> SchemaRef {
    let time = DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into()));
    Arc::new(Schema::new(vec![
        Field::new("user_id", DataType::Utf8, false),
        Field::new("user_principal_name", DataType::Utf8, true),
        Field::new("display_name", DataType::Utf8, true),
        Field::new("first_sign_in", time.clone(), true),
        Field::new("last_sign_in", time, true),
        Field::new("sign_ins", DataType::Int64, false),
    ]))
}

/// Path of an ingest run's index file, and the temporary it is written under.
pub fn index_paths(case_root: &Path, ingest_id: &str) -> (PathBuf, PathBuf) {
    let dir = case_root.join(INDEX_DIR);
    (
        dir.join(format!("identities-{ingest_id}.parquet")),
        dir.join(format!(".identities-{ingest_id}.parquet.tmp")),
    )
}

/// The index files of a case, when every ingest run that wrote sign-in rows also wrote its
/// index file and all of them are present; `None` otherwise (a case from an earlier version,
/// or a damaged one), and identities are then computed from the sign-ins themselves.
/// The files are relative to the case root, `/`-separated.
pub fn index_files(case: &Case) -> Result<Option<Vec<String>>, CaseError> {
    let mut files = Vec::new();
    for ingest in &case.head()?.ingests {
        let wrote_sign_ins = ingest
            .files
            .iter()
            .any(|f| is_identity_source(&f.table) && f.rows > 0);
        let index = ingest.files.iter().find(|f| f.table == INDEX_TABLE);
        match index {
            Some(file) => {
                if !case.has_file(&file.path) {
                    return Ok(None);
                }
                files.push(file.path.clone());
            }
            None if wrote_sign_ins => return Ok(None),
            None => {}
        }
    }
    Ok(Some(files))
}

/// Which sign-in names an identity: the latest by time; a row without a time is older than any
/// with one; at the same time, the greater (name, display name). The `identities` view orders the
/// same way, so the index and the sign-ins give the same names.
type Latest = (Option<i64>, Option<String>, Option<String>);

#[derive(Debug)]
struct Identity {
    latest: Latest,
    first: Option<i64>,
    last: Option<i64>,
    sign_ins: i64,
}

/// One run's identities, built from the sign-in batches it writes.
#[derive(Debug, Default)]
pub struct IdentityIndex {
    by_user: HashMap<String, Identity>,
}

impl IdentityIndex {
    /// Adds the rows of a sign-in batch (as written to the case); rows without an object id are
    /// not identities.
    pub fn add(&mut self, table: &str, batch: &RecordBatch) -> Result<(), ArrowError> {
        let (id_column, name_column, display_column) = identity_columns(table);
        let text = |name: &str| -> Result<&StringArray, ArrowError> {
            batch
                .column_by_name(name)
                .and_then(|c| c.as_any().downcast_ref::<StringArray>())
                .ok_or_else(|| ArrowError::SchemaError(format!("sign-ins without text {name}")))
        };
        let (ids, names, displays) = (text(id_column)?, text(name_column)?, text(display_column)?);
        let times = batch
            .column_by_name("TimeGenerated")
            .and_then(|c| c.as_any().downcast_ref::<TimestampNanosecondArray>())
            .ok_or_else(|| ArrowError::SchemaError("sign-ins without TimeGenerated".into()))?;
        for i in 0..batch.num_rows() {
            let Some(id) = value(ids, i).filter(|id| !id.is_empty()) else {
                continue;
            };
            let time = times.is_valid(i).then(|| times.value(i));
            let (name, display) = (value(names, i), value(displays, i));
            let row = || (time, name.map(str::to_string), display.map(str::to_string));
            match self.by_user.get_mut(id) {
                Some(identity) => {
                    identity.sign_ins += 1;
                    identity.first = min_time(identity.first, time);
                    identity.last = identity.last.max(time);
                    let latest = &identity.latest;
                    if (time, name, display) > (latest.0, latest.1.as_deref(), latest.2.as_deref())
                    {
                        identity.latest = row();
                    }
                }
                None => {
                    self.by_user.insert(
                        id.to_string(),
                        Identity {
                            latest: row(),
                            first: time,
                            last: time,
                            sign_ins: 1,
                        },
                    );
                }
            }
        }
        Ok(())
    }

    /// Whether no identity was seen.
    pub fn is_empty(&self) -> bool {
        self.by_user.is_empty()
    }

    /// The index rows, by object id.
    pub fn to_batch(&self) -> Result<RecordBatch, ArrowError> {
        let mut users: Vec<(&String, &Identity)> = self.by_user.iter().collect();
        users.sort_by(|a, b| a.0.cmp(b.0));
        let times = |pick: fn(&Identity) -> Option<i64>| -> ArrayRef {
            let mut builder = TimestampNanosecondBuilder::with_capacity(users.len());
            for (_, identity) in &users {
                builder.append_option(pick(identity));
            }
            Arc::new(builder.finish().with_timezone("UTC"))
        };
        let columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from_iter_values(
                users.iter().map(|(id, _)| id.as_str()),
            )),
            Arc::new(StringArray::from_iter(
                users.iter().map(|(_, i)| i.latest.1.as_deref()),
            )),
            Arc::new(StringArray::from_iter(
                users.iter().map(|(_, i)| i.latest.2.as_deref()),
            )),
            times(|i| i.first),
            times(|i| i.last),
            Arc::new(Int64Array::from_iter_values(
                users.iter().map(|(_, i)| i.sign_ins),
            )),
        ];
        RecordBatch::try_new(index_schema(), columns)
    }
}

/// A row's text, if present.
fn value(array: &StringArray, i: usize) -> Option<&str> {
    array.is_valid(i).then(|| array.value(i))
}

/// The earlier of two times, either of which may be absent.
fn min_time(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Time, UPN, object id, display name.
    type Row = (
        Option<i64>,
        Option<&'static str>,
        Option<&'static str>,
        Option<&'static str>,
    );

    fn sign_ins(rows: &[Row]) -> RecordBatch {
        let time = DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into()));
        let schema = Arc::new(Schema::new(vec![
            Field::new("TimeGenerated", time, true),
            Field::new("UserPrincipalName", DataType::Utf8, true),
            Field::new("UserId", DataType::Utf8, true),
            Field::new("UserDisplayName", DataType::Utf8, true),
        ]));
        let times = TimestampNanosecondArray::from(rows.iter().map(|r| r.0).collect::<Vec<_>>())
            .with_timezone("UTC");
        let text = |pick: fn(&Row) -> Option<&'static str>| {
            Arc::new(StringArray::from(rows.iter().map(pick).collect::<Vec<_>>())) as ArrayRef
        };
        RecordBatch::try_new(
            schema,
            vec![Arc::new(times), text(|r| r.1), text(|r| r.2), text(|r| r.3)],
        )
        .expect("batch")
    }

    #[test]
    fn each_identity_keeps_the_name_of_its_latest_sign_in_and_its_span() {
        let mut index = IdentityIndex::default();
        index
            .add(
                "SigninLogs",
                &sign_ins(&[
                    (Some(20), Some("new@x"), Some("u1"), Some("New")),
                    (Some(10), Some("old@x"), Some("u1"), Some("Old")),
                    // No time: older than any timed sign-in, but counted.
                    (None, Some("zzz@x"), Some("u1"), None),
                    (Some(5), Some("b@x"), Some("u2"), None),
                    // Not identities.
                    (Some(7), Some("anon@x"), None, None),
                    (Some(7), Some("empty@x"), Some(""), None),
                ]),
            )
            .expect("add");
        // A later batch: the same time as u2's sign-in, a greater name wins.
        index
            .add(
                "SigninLogs",
                &sign_ins(&[(Some(5), Some("c@x"), Some("u2"), Some("C"))]),
            )
            .expect("add");
        let batch = index.to_batch().expect("batch");
        let text = |c: usize, i: usize| {
            let column = batch.column(c).as_any().downcast_ref::<StringArray>();
            column
                .filter(|a| a.is_valid(i))
                .map(|a| a.value(i).to_string())
        };
        let time = |c: usize, i: usize| {
            let column = batch
                .column(c)
                .as_any()
                .downcast_ref::<TimestampNanosecondArray>();
            column.filter(|a| a.is_valid(i)).map(|a| a.value(i))
        };
        let count = |i: usize| {
            let column = batch.column(5).as_any().downcast_ref::<Int64Array>();
            column.map(|a| a.value(i))
        };
        assert_eq!(batch.num_rows(), 2);
        assert_eq!(text(0, 0).as_deref(), Some("u1"));
        assert_eq!(text(1, 0).as_deref(), Some("new@x"));
        assert_eq!(text(2, 0).as_deref(), Some("New"));
        assert_eq!(
            (time(3, 0), time(4, 0), count(0)),
            (Some(10), Some(20), Some(3))
        );
        assert_eq!(text(0, 1).as_deref(), Some("u2"));
        assert_eq!(text(1, 1).as_deref(), Some("c@x"));
        assert_eq!(
            (time(3, 1), time(4, 1), count(1)),
            (Some(5), Some(5), Some(2))
        );
        assert_eq!(batch.schema(), index_schema());
    }

    #[test]
    fn a_batch_without_the_sign_in_columns_is_an_error() {
        let schema = Arc::new(Schema::new(vec![Field::new(
            "UserId",
            DataType::Utf8,
            true,
        )]));
        let batch = RecordBatch::try_new(schema, vec![Arc::new(StringArray::from(vec!["u1"]))])
            .expect("batch");
        let error = IdentityIndex::default()
            .add("SigninLogs", &batch)
            .expect_err("no columns");
        assert!(error.to_string().contains("UserPrincipalName"), "{error}");
    }
}
