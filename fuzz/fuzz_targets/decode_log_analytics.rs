//! Any bytes as a Log Analytics export blob, through the same decode path as ingest: the first
//! byte picks the declared table (or the generic one), the rest is the blob body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcpforensics::parsers::{DecodeEvent, Decoder, decode_blob, log_analytics};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let tables = log_analytics::DECLARED;
    let spec = tables
        .get(usize::from(pick) % (tables.len() + 1))
        .unwrap_or(&log_analytics::GENERIC);
    let mut rows = 0u64;
    let mut rejects = 0u64;
    let stats = decode_blob(
        Box::new(std::io::Cursor::new(body.to_vec())),
        "am-fuzz/y=2026/m=10/d=01/h=00/m=00/PT05M.json",
        Decoder::Table(spec),
        &mut |event| match event {
            DecodeEvent::Batch(batch) => rows += batch.num_rows() as u64,
            DecodeEvent::Reject(reject) => {
                assert!(reject.line >= 1, "reject lines are 1-based");
                assert!(!reject.reason.is_empty(), "every reject has a reason");
                rejects += 1;
            }
        },
    )
    .expect("reading from memory never fails");
    // Nothing lost, nothing silent: what was counted is what was handed on.
    assert_eq!(stats.rows, rows);
    assert_eq!(stats.rejected, rejects);
});
