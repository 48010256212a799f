//! Printing results: terminal tables, CSV and JSON, with attacker-controlled text kept as data.
//!
//! Everything printed comes from evidence an attacker may have written (tool arguments, user
//! agents, blob names). Terminal output drops control characters and escape sequences; CSV
//! cells that a spreadsheet would run as a formula are neutralised. Owns no analysis.

pub mod table;

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

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
}

/// Neutralises a CSV cell that Excel or LibreOffice would evaluate (`=`, `+`, `-`, `@`, tab, CR
/// at the start) by prefixing a single quote, the OWASP recommendation.
pub fn spreadsheet_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => std::borrow::Cow::Owned(format!("'{cell}")),
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
