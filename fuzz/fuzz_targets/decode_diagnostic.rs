//! Any bytes as a diagnostic-settings archive blob (`insights-logs-<category>`), through the same
//! decode path as ingest: the first byte picks one of the categories the catalogue reads onto a
//! table, the rest is the blob body (a `{"records": [...]}` document or JSON lines).
#![no_main]

mod checked;

use libfuzzer_sys::fuzz_target;
use mcpforensics::catalog::TABLES;
use mcpforensics::parsers::{Decoder, diagnostic};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let categories: Vec<diagnostic::Category> = TABLES
        .iter()
        .flat_map(|t| t.categories)
        .filter_map(|c| diagnostic::find_category(c))
        .collect();
    let Some(category) = categories.get(usize::from(pick) % categories.len()).copied() else {
        return;
    };
    checked::decode_checked(
        body,
        "insights-logs-fuzz/resourceId=/SUBSCRIPTIONS/X/y=2026/m=10/d=01/h=00/m=00/PT1H.json",
        Decoder::Diagnostic(category),
    );
});
