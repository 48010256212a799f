//! Any text as an evidence timestamp and as a `--since`/`--until` value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcpforensics::time::{format_utc, parse_time_spec, parse_timestamp, to_nanos};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(t) = parse_timestamp(text) {
        // A time that was read prints and reads back as the same instant.
        let printed = format_utc(t);
        assert_eq!(parse_timestamp(&printed), Some(t), "{text:?} -> {printed}");
        let _ = to_nanos(t);
    }
    if let Ok(spec) = parse_time_spec(text) {
        let end = chrono::DateTime::from_timestamp(1_790_000_000, 0).expect("valid");
        let _ = spec.resolve(end);
    }
});
