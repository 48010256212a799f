//! Printing results: terminal tables, CSV and JSON, with attacker-controlled text kept as data.
//!
//! Everything printed comes from evidence an attacker may have written (tool arguments, user
//! agents, blob names). Terminal output drops control characters and escape sequences; CSV
//! cells that a spreadsheet would run as a formula are neutralised. Owns no analysis.

pub mod table;
pub mod workbook;

/// Makes text safe to print on a terminal: control characters (ESC, BEL, CR, …) become `\u{..}`
/// escapes; ordinary text and newlines-free Unicode pass unchanged.
pub fn terminal_safe(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() || is_bidi_control(c) {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    out
}

/// [`terminal_safe`] for a message of several lines (an error from the query engine): each line
/// made safe, the lines after the first indented by `indent`, so no line can pass for one of
/// the program's own.
pub fn terminal_safe_lines(text: &str, indent: &str) -> String {
    text.trim_end_matches('\n')
        .split('\n')
        .map(terminal_safe)
        .collect::<Vec<_>>()
        .join(&format!("\n{indent}"))
}

/// Characters that change how text around them is shown without being seen: bidi overrides and
/// isolates, zero-width characters, and Unicode tag characters (used to hide instructions).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}'
        | '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{E0000}'..='\u{E007F}')
}

/// [`terminal_safe`] for a whole document bound for a terminal (CSV, JSON lines): every line made
/// safe, its line end (`\n` or `\r\n`) kept.
pub fn terminal_safe_document(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let (content, end) = match line.strip_suffix("\r\n") {
            Some(content) => (content, "\r\n"),
            None => match line.strip_suffix('\n') {
                Some(content) => (content, "\n"),
                None => (line, ""),
            },
        };
        out.push_str(&terminal_safe(content));
        out.push_str(end);
    }
    out
}

/// Prints one line of a command's output. A reader that went away (`| head`, `| true`) is not an
/// error: the line is dropped and the command finishes its work and exits with its own code.
pub fn print_line(text: &str) {
    use std::io::Write;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if let Err(e) = writeln!(out, "{text}")
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        print_error_line(&format!("warning: writing the output: {e}"));
    }
}

/// Writes one line to standard error; a closed or full stderr (`… 2>&1 | head -1`) is
/// ignored instead of panicking, which in a worker would leave the others waiting forever.
pub fn print_error_line(text: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

/// `eprintln!` for warnings and progress notes, through [`print_error_line`]: never panics.
#[macro_export]
macro_rules! tell {
    ($($arg:tt)*) => {
        $crate::report::print_error_line(&format!($($arg)*))
    };
}

/// `println!` for command output, through [`print_line`]: no panic on a closed pipe.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::report::print_line(&format!($($arg)*))
    };
}

/// Writes a document to standard output, made terminal-safe when standard output is a terminal
/// (files and pipes get it byte for byte); a closed pipe ends the writing quietly.
pub fn print_document(text: &str) -> std::io::Result<()> {
    use std::io::{IsTerminal, Write};
    let stdout = std::io::stdout();
    let terminal = stdout.is_terminal();
    let mut out = stdout.lock();
    let written = if terminal {
        out.write_all(terminal_safe_document(text).as_bytes())
    } else {
        out.write_all(text.as_bytes())
    };
    match written.and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// Whether standard output takes colour: it is a terminal, `NO_COLOR` is unset or empty
/// (no-color.org), and `TERM` is not `dumb`.
pub fn colour_wanted() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
}

/// [`print_document`], with `decorate` (colour) applied to the terminal-safe text when standard
/// output takes colour: the evidence's own escape sequences are already made inert by then, so
/// only the decoration's reach the terminal.
pub fn print_document_decorated(text: &str, decorate: fn(&str) -> String) -> std::io::Result<()> {
    use std::io::Write;
    if !colour_wanted() {
        return print_document(text);
    }
    let mut out = std::io::stdout().lock();
    match out
        .write_all(decorate(&terminal_safe_document(text)).as_bytes())
        .and_then(|()| out.flush())
    {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// The UTF-8 byte-order mark every CSV the tool writes starts with: Excel then reads the file as
/// UTF-8 instead of the system code page.
pub const CSV_BOM: &str = "\u{feff}";

/// Neutralises a CSV text cell that Excel or LibreOffice would evaluate (`=`, `+`, `-`, `@`, tab,
/// CR at the start) by prefixing a single quote, the OWASP recommendation. A number (`-5`,
/// `+3.5`, `-1e3`) is left as it is: a spreadsheet reads it as the number, and evaluates nothing.
pub fn spreadsheet_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    let is_number = || {
        cell.parse::<f64>().is_ok_and(f64::is_finite)
            && cell
                .bytes()
                .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b))
    };
    match cell.chars().next() {
        Some('=' | '@' | '\t' | '\r') => std::borrow::Cow::Owned(format!("'{cell}")),
        Some('+' | '-') if !is_number() => std::borrow::Cow::Owned(format!("'{cell}")),
        _ => std::borrow::Cow::Borrowed(cell),
    }
}

/// Quotes a CSV field per RFC 4180 when it holds a comma, quote or line break.
pub fn csv_field(cell: &str) -> String {
    let cell = spreadsheet_safe(cell);
    if cell.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell.into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_stay_numbers_and_formulas_are_neutralised() {
        for number in ["-5", "+3.5", "-1e3", "12"] {
            assert_eq!(spreadsheet_safe(number), number);
        }
        for formula in ["-2+3", "+A1", "=1+1", "@cmd", "-inf", "-NaN", "\t=x"] {
            assert_eq!(spreadsheet_safe(formula), format!("'{formula}"));
        }
    }

    #[test]
    fn documents_for_a_terminal_keep_their_lines_and_lose_their_tricks() {
        let csv = "a,b\r\n\u{1b}]52;c;SGVsbG8=\u{7},\u{1b}[6n\r\nx\u{202E}y\u{200B}z\u{E0041}\n";
        let safe = terminal_safe_document(csv);
        assert!(!safe.chars().any(|c| c == '\u{1b}'
            || c == '\u{7}'
            || c == '\u{202E}'
            || c == '\u{200B}'
            || c == '\u{E0041}'));
        assert_eq!(safe.matches("\r\n").count(), 2);
        assert!(safe.ends_with("\\u{e0041}\n"), "{safe}");
    }

    #[test]
    fn escape_sequences_never_reach_the_terminal() {
        let hostile = "ok\u{1b}[2J\u{1b}]0;pwned\u{7}\r\u{202E}txt";
        let safe = terminal_safe(hostile);
        assert!(!safe.chars().any(|c| c.is_control() || c == '\u{202E}'));
        assert!(safe.starts_with("ok\\u{1b}[2J"));
        // Lines stay lines, each made safe, the later ones indented.
        let message = "Resources exhausted: 1 MiB\nHashJoinInput\u{1b}[31m\r\nerror: forged\n";
        assert_eq!(
            terminal_safe_lines(message, "  "),
            "Resources exhausted: 1 MiB\n  HashJoinInput\\u{1b}[31m\\u{d}\n  error: forged"
        );
        assert_eq!(terminal_safe_lines("one line", "  "), "one line");
    }

    #[test]
    fn formulas_are_neutralised_and_fields_quoted() {
        assert_eq!(
            csv_field("=HYPERLINK(\"http://x\")"),
            "\"'=HYPERLINK(\"\"http://x\"\")\""
        );
        assert_eq!(csv_field("-1+2"), "'-1+2");
        assert_eq!(csv_field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_field("C-1001"), "C-1001");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("line\nbreak"), "\"line\nbreak\"");
    }
}
