//! Any bytes as an NSG or VNet flow-log blob, through the same decode path as ingest.
#![no_main]

mod checked;

use libfuzzer_sys::fuzz_target;
use mcpforensics::parsers::Decoder;

fuzz_target!(|data: &[u8]| {
    checked::decode_checked(
        data,
        "insights-logs-networksecuritygroupflowevent/resourceId=/X/y=2026/m=10/d=01/h=00/m=00/macAddress=00/PT1H.json",
        Decoder::Flows,
    );
});
