//! Every input a fuzzer found a crash with (`tests/fixtures/fuzz-regressions/<target>-<name>`),
//! replayed through the same calls as its fuzz target (`fuzz/fuzz_targets/`).

use crate::common::root;
use mcpforensics::catalog::TABLES;
use mcpforensics::parsers::{DecodeEvent, Decoder, decode_blob, diagnostic, log_analytics};

fn decode(body: &[u8], decoder: Decoder) {
    let mut rows = 0u64;
    let mut rejects = 0u64;
    let stats = decode_blob(
        Box::new(std::io::Cursor::new(body.to_vec())),
        "fuzz/blob.json",
        decoder,
        &mut |event| match event {
            DecodeEvent::Batch(batch) => rows += batch.num_rows() as u64,
            DecodeEvent::Reject(_) => rejects += 1,
        },
    )
    .unwrap();
    assert_eq!((stats.rows, stats.rejected), (rows, rejects));
}

#[test]
fn fuzz_regressions_replay() {
    let dir = root().join("tests/fixtures/fuzz-regressions");
    let mut replayed = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with(".md") {
            continue;
        }
        let data = std::fs::read(&path).unwrap();
        let text = String::from_utf8_lossy(&data);
        let target = name.split('-').next().unwrap();
        match target {
            "time_and_since" => {
                let end = chrono::DateTime::from_timestamp(1_790_000_000, 0).unwrap();
                if let Ok(spec) = mcpforensics::time::parse_time_spec(&text) {
                    let _ = spec.resolve(end);
                }
                if let Some(t) = mcpforensics::time::parse_timestamp(&text) {
                    let _ = mcpforensics::time::format_utc(t);
                }
            }
            "timeline_filter" => {
                let _ = mcpforensics::timeline::filter::Filter::parse(&text);
            }
            "decode_flows" => decode(&data, Decoder::Flows),
            "decode_log_analytics" => {
                let Some((&pick, body)) = data.split_first() else {
                    continue;
                };
                let tables = log_analytics::DECLARED;
                let spec = tables
                    .get(usize::from(pick) % (tables.len() + 1))
                    .unwrap_or(&log_analytics::GENERIC);
                decode(body, Decoder::Table(spec));
            }
            "decode_diagnostic" => {
                let Some((&pick, body)) = data.split_first() else {
                    continue;
                };
                let categories: Vec<diagnostic::Category> = TABLES
                    .iter()
                    .flat_map(|t| t.categories)
                    .filter_map(|c| diagnostic::find_category(c))
                    .collect();
                let category = categories[usize::from(pick) % categories.len()];
                decode(body, Decoder::Diagnostic(category));
            }
            other => panic!("{name}: unknown fuzz target {other}"),
        }
        replayed += 1;
    }
    assert!(
        replayed >= 1,
        "the regressions directory holds the crashes found so far"
    );
}
