//! What a run derived from the case for the queries (not evidence: it can be derived again),
//! as the run's summary reports it. The derivation itself is the query layer's
//! (`query::call_index`); the command that ingests asks for it, with the case's write lock still
//! held, through [`crate::ingest::IngestOptions::derive`].

use serde::Serialize;

use super::Case;

/// How a run derives its call index from the case it left (`query::call_index::ensure_blocking`).
pub type DeriveFn = fn(&Case) -> Derived;

/// The call index after an ingest, as its summary reports it.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Derived {
    /// The index is current: derived by this run (`seconds`) or already (`seconds` absent).
    Current {
        /// Its directory, relative to the case root.
        dir: String,
        /// Tool calls in it.
        calls: u64,
        /// How long deriving it took, when this run derived it.
        #[serde(skip_serializing_if = "Option::is_none")]
        seconds: Option<f64>,
    },
    /// It could not be derived; sessions use the view.
    Failed {
        /// Why.
        error: String,
    },
}
