//! A deterministic synthetic breach of an MCP server on Azure, in the exact export layouts.
//!
//! The story (the bundled sample is seed 7, scale 1, 30 days from 2026-09-15): tens of staff use
//! the `mcp-crm-server` MCP server through the day, each on their own customers; a night-shift
//! worker uses it at night; a new employee starts inside the attack window; the server backs up
//! nightly to the same storage account and reads Key Vault hourly. Half-way through, a password
//! spray from one IP hits every account and gets into one; from then on the attacker pulls
//! customer data at night from new IPs, through the victim's identity and through a stolen APIM
//! subscription key (anonymous calls to `mcp-tickets` behind API Management), and has the
//! server upload exports to an outside host. The export has an outage of several hours, retry
//! duplicates, overflow blobs, malformed lines and a flow-log blob read mid-append.
//! `--truth` writes what really happened, for tests.

mod blobs;
mod diagnostic;
mod emitter;
mod scenario;

pub use blobs::SampleError;
pub use emitter::Emitter;

pub use scenario::{ApimLogs, GroundTruth, Scenario, SignInLayout, Story};
