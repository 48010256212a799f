//! Any text as a timeline filter expression, parsed and matched against an event.
#![no_main]

use std::borrow::Cow;

use libfuzzer_sys::fuzz_target;
use mcpforensics::timeline::filter::Filter;
use mcpforensics::timeline::store::{Event, EventKind};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let event = Event {
        time: 1_790_000_000_000_000_000,
        kind: EventKind::Tool,
        severity: 1,
        user: Some("bob.keller@contoso.com"),
        ip: Some("45.86.202.14"),
        peer: Some("mcp-crm-server"),
        session: Some("a432a2ca"),
        tool: Some("export_customer_data"),
        summary: Cow::Borrowed("export_customer_data {\"customer_ids\":[\"C-1\"]} ÄÖ İ"),
        customers: Some("C-1,C-2"),
        source_table: "AppRequests",
        blob: Cow::Borrowed("am-apprequests/x.json"),
        line: 3,
        operation: Some("4bf92f3577b34da6a3ce929d0e0e4736"),
    };
    if let Ok(filter) = Filter::parse(text) {
        let _ = filter.matches(&event);
        // A filter's text parses again.
        assert!(Filter::parse(filter.text()).is_ok(), "{text:?}");
    }
});
