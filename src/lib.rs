//! mcpforensics: breach scoping for MCP servers on Azure.
//!
//! Exported telemetry (Log Analytics data export, API Management logs, NSG and VNet flow logs)
//! flows one way: [`sources`] list and read blobs, [`parsers`] decode them into Arrow batches
//! with declared schemas, [`case`] stores them as hashed, de-duplicated Parquet with a manifest,
//! [`query`] runs DataFusion SQL over the case, and [`report`] prints results.

pub mod parsers;
pub mod sources;
pub mod time;
