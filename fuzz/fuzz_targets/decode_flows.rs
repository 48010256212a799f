//! Any bytes as an NSG or VNet flow-log blob, through the same decode path as ingest.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcpforensics::parsers::{DecodeEvent, Decoder, decode_blob};

fuzz_target!(|data: &[u8]| {
    let mut rows = 0u64;
    let mut rejects = 0u64;
    let stats = decode_blob(
        Box::new(std::io::Cursor::new(data.to_vec())),
        "insights-logs-networksecuritygroupflowevent/resourceId=/X/y=2026/m=10/d=01/h=00/m=00/macAddress=00/PT1H.json",
        Decoder::Flows,
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
    assert_eq!(stats.rows, rows);
    assert_eq!(stats.rejected, rejects);
});
