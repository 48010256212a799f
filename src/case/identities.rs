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

pub use crate::catalog::identity_columns;

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
        // What kind of identity it is, and for an AI agent (Entra Agent ID) what the sign-ins
        // say of it; an index file written before these columns reads them as absent.
        Field::new("kind", DataType::Utf8, true),
        Field::new("agent_type", DataType::Utf8, true),
        Field::new("agent_parent", DataType::Utf8, true),
        Field::new("agent_app", DataType::Utf8, true),
        Field::new("acting_agent", DataType::Utf8, true),
    ]))
}

/// Entra's `agentType` values that make the signing-in identity an AI agent (Microsoft Graph's
/// `agentSignIn`: `agenticApp`, `agenticAppInstance`, `agentIdentityBlueprintPrincipal`,
/// `agentIDuser`); `notAgentic` and anything else does not.
pub const AGENTIC_TYPES: &[&str] = &[
    "agenticapp",
    "agenticappinstance",
    "agentidentityblueprintprincipal",
    "agentiduser",
];

/// Whether an `agentType` or `agentSubjectType` value names an agent (compared without case).
pub fn is_agentic(value: &str) -> bool {
    AGENTIC_TYPES.contains(&value.to_ascii_lowercase().as_str())
}

pub use crate::catalog::identity_kind as table_kind;

/// What one sign-in's `Agent` object (Entra Agent ID) says: the identity is an agent (its type,
/// parent and app), or an agent signed in for it (the agent's app), or neither.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct AgentSignIn {
    /// `agentType`, when agentic: the identity signing in is an agent.
    pub agent_type: Option<String>,
    /// `agentSubjectParentId`, else `parentAppId`: the agent identity or blueprint it belongs to.
    pub parent: Option<String>,
    /// When an agent requested the token of an identity that is not one (`agentSubjectType`
    /// agentic, `agentType` not): the agent's parent or app.
    pub acting_for: Option<String>,
}

impl AgentSignIn {
    /// Reads a sign-in's `Agent` column (JSON text).
    pub fn read(agent: &str) -> Self {
        let Ok(serde_json::Value::Object(fields)) = serde_json::from_str(agent) else {
            return Self::default();
        };
        // Keys as Entra writes them (camelCase), as the SQL of identity_index.sql reads them.
        let text = |key: &str| {
            fields
                .get(key)
                .and_then(serde_json::Value::as_str)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        let parent = text("agentSubjectParentId").or_else(|| text("parentAppId"));
        let agent_type = text("agentType").filter(|t| is_agentic(t));
        let subject_agentic = text("agentSubjectType").is_some_and(|t| is_agentic(&t));
        AgentSignIn {
            acting_for: (agent_type.is_none() && subject_agentic)
                .then(|| parent.clone())
                .flatten(),
            parent: agent_type.as_ref().and(parent),
            agent_type,
        }
    }
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
    /// The kind its latest sign-in's table holds.
    latest_kind: &'static str,
    first: Option<i64>,
    last: Option<i64>,
    sign_ins: i64,
    /// Of its agentic sign-ins, the greatest of each field (the `identities` view takes the same).
    agent_type: Option<String>,
    agent_parent: Option<String>,
    agent_app: Option<String>,
    acting_agent: Option<String>,
}

/// Keeps the greater of a kept value and a new one.
fn keep_greatest(kept: &mut Option<String>, new: Option<&str>) {
    if let Some(new) = new
        && kept.as_deref().is_none_or(|k| new > k)
    {
        *kept = Some(new.to_string());
    }
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
        // Optional: the Agent ID object and the app of each sign-in.
        let optional = |name: &str| {
            batch
                .column_by_name(name)
                .and_then(|c| c.as_any().downcast_ref::<StringArray>())
        };
        let (agents, apps) = (optional("Agent"), optional("AppId"));
        let kind = table_kind(table);
        for i in 0..batch.num_rows() {
            let Some(id) = value(ids, i).filter(|id| !id.is_empty()) else {
                continue;
            };
            let time = times.is_valid(i).then(|| times.value(i));
            let (name, display) = (value(names, i), value(displays, i));
            let row = || (time, name.map(str::to_string), display.map(str::to_string));
            let identity = self
                .by_user
                .entry(id.to_string())
                .or_insert_with(|| Identity {
                    latest: row(),
                    latest_kind: kind,
                    first: time,
                    last: time,
                    sign_ins: 0,
                    agent_type: None,
                    agent_parent: None,
                    agent_app: None,
                    acting_agent: None,
                });
            if identity.sign_ins > 0 {
                identity.first = min_time(identity.first, time);
                identity.last = identity.last.max(time);
                let latest = &identity.latest;
                if (time, name, display) > (latest.0, latest.1.as_deref(), latest.2.as_deref()) {
                    identity.latest = row();
                    identity.latest_kind = kind;
                }
            }
            identity.sign_ins += 1;
            let Some(agent) = agents.and_then(|a| value(a, i)) else {
                continue;
            };
            let agent = AgentSignIn::read(agent);
            if agent.agent_type.is_some() {
                keep_greatest(&mut identity.agent_type, agent.agent_type.as_deref());
                keep_greatest(&mut identity.agent_parent, agent.parent.as_deref());
                keep_greatest(
                    &mut identity.agent_app,
                    apps.and_then(|a| value(a, i)).filter(|app| !app.is_empty()),
                );
            }
            keep_greatest(&mut identity.acting_agent, agent.acting_for.as_deref());
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
            Arc::new(StringArray::from_iter(users.iter().map(|(_, i)| {
                Some(if i.agent_type.is_some() {
                    "agent"
                } else {
                    i.latest_kind
                })
            }))),
            Arc::new(StringArray::from_iter(
                users.iter().map(|(_, i)| i.agent_type.as_deref()),
            )),
            Arc::new(StringArray::from_iter(
                users.iter().map(|(_, i)| i.agent_parent.as_deref()),
            )),
            Arc::new(StringArray::from_iter(
                users.iter().map(|(_, i)| i.agent_app.as_deref()),
            )),
            Arc::new(StringArray::from_iter(
                users.iter().map(|(_, i)| i.acting_agent.as_deref()),
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
    fn agent_id_fields_say_who_is_an_agent_and_who_an_agent_acted_for() {
        let agent = AgentSignIn::read(
            r#"{"agentType":"agenticAppInstance","agentSubjectType":"agenticAppInstance","agentSubjectParentId":"bp","parentAppId":"app"}"#,
        );
        assert_eq!(agent.agent_type.as_deref(), Some("agenticAppInstance"));
        assert_eq!(agent.parent.as_deref(), Some("bp"));
        assert_eq!(agent.acting_for, None);
        // An agent user; the parent from parentAppId when no subject parent is written.
        let user = AgentSignIn::read(r#"{"agentType":"agentIDuser","parentAppId":"app"}"#);
        assert_eq!(user.agent_type.as_deref(), Some("agentIDuser"));
        assert_eq!(user.parent.as_deref(), Some("app"));
        // A person for whom an agent requested the token.
        let acted = AgentSignIn::read(
            r#"{"agentType":"notAgentic","agentSubjectType":"agenticAppInstance","agentSubjectParentId":"bp"}"#,
        );
        assert_eq!(acted.agent_type, None);
        assert_eq!(acted.parent, None);
        assert_eq!(acted.acting_for.as_deref(), Some("bp"));
        // Not agentic, absent, or not an object: nothing.
        for text in [
            r#"{"agentType":"notAgentic","agentSubjectType":"notAgentic"}"#,
            "{}",
            "null",
            "not json",
        ] {
            assert_eq!(AgentSignIn::read(text), AgentSignIn::default(), "{text}");
        }
        assert_eq!(
            table_kind("AADManagedIdentitySignInLogs"),
            "managed identity"
        );
        assert_eq!(
            table_kind("AADServicePrincipalSignInLogs"),
            "service principal"
        );
        assert_eq!(table_kind("SigninLogs"), "person");
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
