//! Any bytes as a Log Analytics export blob, through the same decode path as ingest: the first
//! byte picks the declared table (or the generic one), the rest is the blob body.
#![no_main]

mod checked;

use libfuzzer_sys::fuzz_target;
use mcpforensics::parsers::{Decoder, log_analytics};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let tables = log_analytics::DECLARED;
    let spec = tables
        .get(usize::from(pick) % (tables.len() + 1))
        .unwrap_or(&log_analytics::GENERIC);
    checked::decode_checked(
        body,
        "am-fuzz/y=2026/m=10/d=01/h=00/m=00/PT05M.json",
        Decoder::Table(spec),
    );
});
