//! The check every decoder target makes: a blob decoded as ingest decodes it, with rows and rejects
//! counted exactly as handed on, and every reject carrying a line and a reason.

use mcpforensics::parsers::{DecodeEvent, Decoder, decode_blob};

/// Decodes `body` as the blob `name` with `decoder`, asserting that nothing is lost or silent.
pub fn decode_checked(body: &[u8], name: &str, decoder: Decoder) {
    let mut rows = 0u64;
    let mut rejects = 0u64;
    let stats = decode_blob(
        Box::new(std::io::Cursor::new(body.to_vec())),
        name,
        decoder,
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
}
