//! How query results and query failures reach the user, for `sql` (one query or a prompt) and
//! `queries run`.

use std::io::Write;

use arrow::record_batch::RecordBatch;

use crate::error::{Error, Result};
use crate::query::QueryEngine;
use crate::report::table;

/// A query's failure, with the table the user most likely meant when it names an unknown one.
pub(super) fn query_error(engine: &QueryEngine, source: crate::query::QueryError) -> Error {
    let names: Vec<&str> = engine.tables().iter().map(|t| t.name.as_str()).collect();
    match table_hint(&source.to_string(), &names) {
        Some(hint) => Error::QueryHint { source, hint },
        None => Error::Query(source),
    }
}

/// For "table '…x' not found": the case's table or view the user most likely meant. Names are
/// case-sensitive in SQL (`"SigninLogs"` must be quoted), so a case-insensitive match comes first,
/// then the closest name by edit distance (at most a third of its length).
fn table_hint(message: &str, tables: &[&str]) -> Option<String> {
    let missing = message
        .split("table '")
        .nth(1)?
        .split('\'')
        .next()?
        .rsplit('.')
        .next()?
        .to_string();
    let quoted = |name: &str| {
        if name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            name.to_string()
        } else {
            format!("\"{name}\"")
        }
    };
    if let Some(same) = tables.iter().find(|t| t.eq_ignore_ascii_case(&missing)) {
        return Some(format!(
            "did you mean {}? Table names are case-sensitive: quote them as written (`mcpforensics tables` lists them)",
            quoted(same)
        ));
    }
    let lower = missing.to_ascii_lowercase();
    tables
        .iter()
        .map(|t| (edit_distance(&lower, &t.to_ascii_lowercase()), *t))
        .filter(|(d, t)| *d <= t.len().max(3) / 3)
        .min()
        .map(|(_, t)| {
            format!(
                "did you mean {}? (`mcpforensics tables` lists every table and view)",
                quoted(t)
            )
        })
}

/// Levenshtein distance between two short names.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

pub(super) fn emit(
    format: table::TableFormat,
    schema: &arrow::datatypes::SchemaRef,
    batches: &[RecordBatch],
) -> Result<()> {
    use std::io::IsTerminal;
    let stdout = std::io::stdout();
    // CSV and JSON carry evidence text verbatim; on a terminal they go through the same safety
    // as the table (an attacker's escape sequence must not reach the terminal).
    let written = if stdout.is_terminal() && format != table::TableFormat::Table {
        let mut buffer = Vec::new();
        table::write(format, schema, batches, &mut buffer)
            .and_then(|()| crate::console::print_document(&String::from_utf8_lossy(&buffer)))
    } else {
        let mut out = stdout.lock();
        table::write(format, schema, batches, &mut out).and_then(|()| out.flush())
    };
    crate::console::quiet_when_closed(written).map_err(|source| Error::Io {
        context: "writing results".into(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_table_suggests_the_closest_name() {
        let tables = ["SigninLogs", "AppRequests", "tool_calls", "flows"];
        let hint = |m: &str| table_hint(m, &tables);
        let not_found = |name: &str| {
            format!("Error during planning: table 'datafusion.public.{name}' not found")
        };
        assert!(
            hint(&not_found("signinlogs"))
                .unwrap()
                .contains("did you mean \"SigninLogs\"? Table names are case-sensitive")
        );
        assert!(
            hint(&not_found("toolcalls"))
                .unwrap()
                .contains("did you mean tool_calls?")
        );
        assert!(
            hint(&not_found("AppRequest"))
                .unwrap()
                .contains("\"AppRequests\"")
        );
        assert_eq!(
            hint(&not_found("customers")),
            None,
            "nothing close: no guess"
        );
        assert_eq!(hint("Schema error: No field named x"), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
