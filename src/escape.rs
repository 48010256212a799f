//! Making text from the evidence inert where it is shown: on a terminal (control characters,
//! escape sequences and invisible reordering characters become visible escapes) and in a
//! spreadsheet (cells that would run as a formula are neutralised). Everything printed comes
//! from evidence an attacker may have written (tool arguments, user agents, blob names).
//! Depends on nothing in the crate.

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
