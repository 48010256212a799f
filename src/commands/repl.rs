//! `mcpforensics sql` without a query: statements typed at a prompt with line editing and
//! history (a terminal), or read from standard input (a script), over one query session.

use std::path::PathBuf;

use crate::error::{Error, Result, exit};
use crate::escape::terminal_safe_lines;
use crate::query::QueryEngine;
use crate::report::table::TableFormat;

/// What the prompt understands besides SQL.
const HELP: &str = "\
End each statement with ';' (it may span lines). Besides SQL:
  .tables            the case's tables and views
  .format table|csv|json|jsonl
                     how results are shown
  .help              this text
  .quit, .exit       leave (also Ctrl-D)
Identifiers are case-sensitive: SELECT \"UserPrincipalName\" FROM \"SigninLogs\" LIMIT 5;";

/// Splits complete statements (ended by `;` outside quotes and comments) off the front of
/// `buffer`; returns them and what is left (an unfinished statement).
pub fn complete_statements(buffer: &str) -> (Vec<String>, String) {
    let mut statements = Vec::new();
    let mut start = 0;
    let mut quote: Option<char> = None;
    let mut chars = buffer.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '-') if chars.peek().is_some_and(|(_, n)| *n == '-') => {
                // A comment runs to the end of its line.
                for (_, c) in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            (None, ';') => {
                let statement = buffer[start..at].trim();
                if !statement.is_empty() {
                    statements.push(statement.to_string());
                }
                start = at + 1;
            }
            _ => {}
        }
    }
    (statements, buffer[start..].trim_start().to_string())
}

/// Where the prompt keeps its history: the cache directory, never the case (which is evidence).
fn history_path() -> PathBuf {
    crate::bundled::cache_dir().join("sql_history")
}

/// Runs one statement and shows its result; a failure is shown and the session goes on.
fn run_statement(
    runtime: &tokio::runtime::Runtime,
    engine: &QueryEngine,
    sql: &str,
    format: TableFormat,
) -> Result<()> {
    let result = runtime.block_on(engine.sql(sql));
    match result {
        Ok((schema, batches)) => super::results::emit(format, &schema, &batches),
        Err(source) => Err(super::results::query_error(engine, source)),
    }
}

/// A dot command; `None` to leave.
fn dot_command(line: &str, engine: &QueryEngine, format: &mut TableFormat) -> Option<String> {
    let mut words = line.split_whitespace();
    match words.next().unwrap_or_default() {
        ".quit" | ".exit" => None,
        ".help" => Some(HELP.to_string()),
        ".tables" => Some(
            engine
                .tables()
                .iter()
                .map(|t| format!("{:<40} {}", t.name, t.kind))
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        ".format" => {
            let wanted = words.next().unwrap_or_default();
            Some(
                match <TableFormat as clap::ValueEnum>::from_str(wanted, true) {
                    Ok(chosen) => {
                        *format = chosen;
                        format!("results as {wanted}")
                    }
                    Err(_) => "give table, csv, json or jsonl".to_string(),
                },
            )
        }
        other => Some(format!("unknown command {other:?}; .help lists them")),
    }
}

/// The interactive prompt, with line editing and history kept between runs.
pub fn interactive(
    runtime: &tokio::runtime::Runtime,
    engine: &QueryEngine,
    case_label: &str,
    mut format: TableFormat,
) -> Result<u8> {
    use rustyline::error::ReadlineError;
    let mut editor = rustyline::DefaultEditor::new().map_err(|e| Error::Io {
        context: "starting the SQL prompt".into(),
        source: std::io::Error::other(e),
    })?;
    let history = history_path();
    // No history yet is the normal first run.
    let _ = editor.load_history(&history);
    crate::tell!(
        "SQL on case {}: end statements with ';', .help for more, Ctrl-D to leave.",
        crate::escape::terminal_safe(case_label)
    );
    let mut buffer = String::new();
    loop {
        let prompt = if buffer.is_empty() { "sql> " } else { "  -> " };
        let line = match editor.readline(prompt) {
            Ok(line) => line,
            Err(ReadlineError::Interrupted) => {
                buffer.clear();
                continue;
            }
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                return Err(Error::Io {
                    context: "reading the SQL prompt".into(),
                    source: std::io::Error::other(e),
                });
            }
        };
        if buffer.is_empty() && line.trim_start().starts_with('.') {
            match dot_command(line.trim(), engine, &mut format) {
                Some(answer) => {
                    let _ = editor.add_history_entry(line.trim());
                    crate::tell!("{answer}");
                }
                None => break,
            }
            continue;
        }
        buffer.push_str(&line);
        buffer.push('\n');
        let (statements, rest) = complete_statements(&buffer);
        for statement in statements {
            // One history line per statement, recalled whole by the up arrow.
            let _ = editor.add_history_entry(format!("{};", statement.replace('\n', " ")));
            if let Err(error) = run_statement(runtime, engine, &statement, format) {
                crate::tell!("error: {}", terminal_safe_lines(&error.to_string(), "  "));
            }
        }
        buffer = rest;
    }
    if let Some(dir) = history.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    if let Err(e) = editor.save_history(&history) {
        crate::tell!(
            "warning: the SQL history was not saved to {}: {e}",
            history.display()
        );
    }
    Ok(exit::OK)
}

/// Statements from standard input (a script or a pipe), run in order; the first failure stops
/// the run with its error.
pub fn script(
    runtime: &tokio::runtime::Runtime,
    engine: &QueryEngine,
    format: TableFormat,
) -> Result<u8> {
    let mut input = String::new();
    std::io::Read::read_to_string(&mut std::io::stdin(), &mut input).map_err(|source| {
        Error::Io {
            context: "reading SQL from standard input".into(),
            source,
        }
    })?;
    let (mut statements, rest) = complete_statements(&input);
    // The last statement may end without ';'.
    if !rest.trim().is_empty() {
        statements.push(rest.trim().to_string());
    }
    if statements.is_empty() {
        return Err(Error::Usage(
            "no SQL: give a query (mcpforensics sql \"SELECT …\"), pipe statements ending in ';', \
             or run it in a terminal for the prompt"
                .into(),
        ));
    }
    for statement in statements {
        run_statement(runtime, engine, &statement, format)?;
    }
    Ok(exit::OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_end_at_semicolons_outside_quotes_and_comments() {
        let (done, rest) = complete_statements(
            "SELECT 'a;b' AS x;\nSELECT \"we;ird\" -- a comment; still one\nFROM t; SELECT 3",
        );
        assert_eq!(
            done,
            [
                "SELECT 'a;b' AS x",
                "SELECT \"we;ird\" -- a comment; still one\nFROM t"
            ]
        );
        assert_eq!(rest, "SELECT 3");
        let (done, rest) = complete_statements("SELECT 1\n");
        assert!(done.is_empty());
        assert_eq!(rest, "SELECT 1\n");
        let (done, rest) = complete_statements(";; SELECT 2;\n");
        assert_eq!((done, rest.as_str()), (vec!["SELECT 2".to_string()], ""));
    }
}
