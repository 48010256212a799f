//! Writing to standard output and standard error: a reader that went away (`| head`) is never an
//! error and never a panic; documents bound for a terminal are made inert first (`escape`), and
//! colour is added only where it is wanted.

use crate::escape::terminal_safe_document;

/// Prints one line of a command's output. A reader that went away (`| head`, `| true`) is not an
/// error: the line is dropped and the command finishes its work and exits with its own code.
pub fn print_line(text: &str) {
    use std::io::Write;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if let Err(e) = writeln!(out, "{text}")
        && !reader_gone(&e)
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
        $crate::console::print_error_line(&format!($($arg)*))
    };
}

/// `println!` for command output, through [`print_line`]: no panic on a closed pipe.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::console::print_line(&format!($($arg)*))
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
    quiet_when_closed(written.and_then(|()| out.flush()))
}

/// Writes bytes to standard output as they are (generated text: completions, the man page); a
/// reader that went away ends the writing quietly, the one rule every writer here follows.
pub fn write_stdout(bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    quiet_when_closed(out.write_all(bytes).and_then(|()| out.flush()))
}

/// The broken-pipe rule: a closed reader is the end of the output, not a failure.
pub fn quiet_when_closed(written: std::io::Result<()>) -> std::io::Result<()> {
    match written {
        Err(e) if reader_gone(&e) => Ok(()),
        other => other,
    }
}

/// Whether a write failed only because its reader went away (`| head`).
pub fn reader_gone(error: &std::io::Error) -> bool {
    error.kind() == std::io::ErrorKind::BrokenPipe
}
