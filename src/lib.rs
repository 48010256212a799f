#![recursion_limit = "256"]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::panic))]
// Output goes through `say!`/`tell!`: a closed pipe must never panic (docs/security.md).
#![deny(clippy::print_stdout, clippy::print_stderr)]
//! mcpforensics: breach scoping for MCP servers on Azure.
//!
//! Exported telemetry (Log Analytics data export, API Management logs, NSG and VNet flow logs)
//! flows one way: [`sources`] list and read blobs, [`parsers`] decode them into Arrow batches
//! with declared schemas, [`case`] stores them as hashed, de-duplicated Parquet with a manifest,
//! [`query`] runs DataFusion SQL over the case, and [`report`] prints results. [`ingest`] drives
//! sources → parsers → case; [`commands`] is one function per subcommand of [`cli`].

pub mod bundled;
pub mod case;
pub mod catalog;
pub mod cli;
#[cfg(feature = "cluster")]
pub mod cluster;
pub mod commands;
pub mod console;
pub mod error;
pub mod escape;
pub mod ingest;
pub mod interrupt;
pub mod overview;
pub mod parsers;
pub mod query;
pub mod report;
pub mod runtime;
pub mod sample;
pub mod schema_doc;
pub mod scope;
pub mod sigma;
pub mod sources;
pub mod time;
pub mod timeline;

pub use error::{Error, Result};
