//! The overview: what is normal and what is not in a window against its baseline, before anyone
//! decides what is suspicious. Each panel is a query of the pack (`overview_*`, `network_*`), so
//! its numbers can be reproduced with `queries run`; `report::overview` draws them.

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

use crate::case::Case;
use crate::query::pack::PackParams;
use crate::query::{QueryEngine, QueryError, QuerySettings};

/// The panels, in the page's order: the pack query behind each, and its heading.
pub const PANELS: &[(&str, &str)] = &[
    ("overview_tool_usage", "Tool usage"),
    ("overview_tool_hours", "Tool calls by hour of day (UTC)"),
    ("overview_data_access", "Data access per identity"),
    ("overview_auth_failures", "Authentication failures"),
    (
        "overview_errors",
        "Tool call failures and server exceptions",
    ),
    (
        "overview_unattributed",
        "What the call telemetry cannot attribute",
    ),
    ("overview_gaps", "Silences: what the evidence cannot show"),
    ("network_top_talkers", "Network: top talkers"),
    (
        "network_new_destinations",
        "Network: new outbound destinations",
    ),
    ("network_east_west", "Network: east-west connections"),
    ("network_denied", "Network: denied flows"),
    (
        "network_inbound_management",
        "Network: management ports reached from outside",
    ),
];

/// One panel: the query's result.
#[derive(Debug, Clone)]
pub struct Panel {
    /// The pack query (and the panel's file name).
    pub name: &'static str,
    /// Its heading.
    pub title: &'static str,
    /// What it shows (the query's description).
    pub about: String,
    /// The result's columns.
    pub schema: SchemaRef,
    /// The result.
    pub batches: Vec<RecordBatch>,
}

/// The overview of one window.
#[derive(Debug, Clone)]
pub struct Overview {
    /// The window and its baseline.
    pub params: PackParams,
    /// Every panel, in [`PANELS`] order.
    pub panels: Vec<Panel>,
}

/// Runs every panel's query on the window of `params` (as given: the overview shows the window
/// the responder chose, not one a scope widened).
pub async fn overview(
    case: &Case,
    params: PackParams,
    settings: &QuerySettings,
) -> Result<Overview, QueryError> {
    let engine = QueryEngine::open_windowed(case, &[], Some(params.day_window()), settings).await?;
    let descriptions = crate::query::pack::queries();
    let mut panels = Vec::new();
    for (name, title) in PANELS {
        let (schema, batches) = engine.run_pack(name, &params).await?;
        let about = descriptions
            .iter()
            .find(|q| q.name == *name)
            .map(|q| q.description.clone())
            .unwrap_or_default();
        panels.push(Panel {
            name,
            title,
            about,
            schema,
            batches,
        });
    }
    Ok(Overview { params, panels })
}
