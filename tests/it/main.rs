//! Integration tests, one binary (each test binary links all of DataFusion).

#![allow(clippy::panic, clippy::unwrap_used)]

mod architecture;
mod azure;
mod bad_input;
mod cli;
#[cfg(feature = "cluster")]
mod cluster;
mod common;
mod faults;
mod fuzz_regressions;
mod ingest;
mod overview;
mod real_samples;
mod sample;
mod scope;
mod sigma;
mod telemetry;
mod timeline;
