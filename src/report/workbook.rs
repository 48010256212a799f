//! The scope report as an Excel workbook, for responders who work in spreadsheets: one sheet each
//! for the affected customers, the suspects, the attacker calls and the exfiltration, and one
//! saying where it all came from.
//!
//! Every cell is written as a string or a number, never as a formula, so an attacker's
//! `=HYPERLINK(…)` in a tool argument is shown, not run. Text is cut at Excel's 32,767
//! characters per cell, and says so.

use rust_xlsxwriter::{DataValidation, Format, Workbook, Worksheet, XlsxError};

use crate::scope::ScopeReport;

/// Excel's limit on the characters of one cell.
const MAX_CELL_CHARS: usize = 32_767;

/// The workbook's bytes (the command writes them atomically).
// Long: one sheet after another in the workbook's order, each a few lines of headers and rows.
pub fn to_bytes(report: &ScopeReport) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let header = Format::new().set_bold();
    // Times are Excel date-times in UTC (the header says so), to the millisecond.
    let when = Format::new().set_num_format("yyyy-mm-dd hh:mm:ss.000");

    let sheet = workbook.add_worksheet().set_name("Affected customers")?;
    let columns = [
        "customer_id",
        "tier",
        "first_access (UTC)",
        "last_access (UTC)",
        "identities",
        "answered_to (not suspects)",
        "tools",
        "calls",
        "exfiltration_confirmed",
        "evidence",
    ];
    head(sheet, &columns, &header)?;
    for (i, c) in report.affected_customers.iter().enumerate() {
        let row = row_of(i);
        text(sheet, row, 0, &c.customer_id)?;
        text(sheet, row, 1, &c.tier)?;
        time(sheet, row, 2, &c.first_access, &when)?;
        time(sheet, row, 3, &c.last_access, &when)?;
        text(sheet, row, 4, &c.users.join("; "))?;
        text(sheet, row, 5, &c.answered_to.join("; "))?;
        text(sheet, row, 6, &c.tools.join("; "))?;
        number(sheet, row, 7, c.calls)?;
        text(
            sheet,
            row,
            8,
            if c.exfiltration_confirmed {
                "yes"
            } else {
                "no"
            },
        )?;
        text(sheet, row, 9, &c.evidence.join("\n"))?;
    }
    finish(sheet, report.affected_customers.len(), columns.len())?;
    if !report.affected_customers.is_empty() {
        // The tier is one of four words: a list, so a reviewer's edit cannot invent a fifth.
        let tiers = DataValidation::new().allow_list_strings(&[
            "exfiltrated",
            "accessed",
            "exposed",
            "cannot_exclude",
        ])?;
        sheet.add_data_validation(1, 1, row_of(report.affected_customers.len() - 1), 1, &tiers)?;
    }

    let sheet = workbook.add_worksheet().set_name("Suspects")?;
    let columns = [
        "identity",
        "object_id",
        "attacker_sessions",
        "own_sessions",
        "tool_calls",
        "first_seen (UTC)",
        "last_seen (UTC)",
        "addresses",
        "reasons",
    ];
    head(sheet, &columns, &header)?;
    for (i, s) in report.suspects.iter().enumerate() {
        let row = row_of(i);
        text(sheet, row, 0, &s.user)?;
        text(sheet, row, 1, s.user_id.as_deref().unwrap_or(""))?;
        number(sheet, row, 2, s.attacker_sessions)?;
        number(sheet, row, 3, s.own_sessions)?;
        number(sheet, row, 4, s.tool_calls)?;
        time(sheet, row, 5, s.first_seen.as_deref().unwrap_or(""), &when)?;
        time(sheet, row, 6, s.last_seen.as_deref().unwrap_or(""), &when)?;
        text(sheet, row, 7, &s.ips.join("; "))?;
        text(sheet, row, 8, &s.reasons.join("\n"))?;
    }
    finish(sheet, report.suspects.len(), columns.len())?;

    let sheet = workbook.add_worksheet().set_name("Attacker calls")?;
    let columns = [
        "time (UTC)",
        "identity",
        "client_address",
        "tool",
        "arguments",
        "session",
        "rule",
        "basis",
        "origin",
        "operation_id",
        "blob",
        "line",
    ];
    head(sheet, &columns, &header)?;
    for (i, c) in report.attacker_calls.iter().enumerate() {
        let row = row_of(i);
        time(sheet, row, 0, &c.time, &when)?;
        text(sheet, row, 1, &c.user)?;
        text(sheet, row, 2, c.client_address.as_deref().unwrap_or(""))?;
        text(sheet, row, 3, c.tool.as_deref().unwrap_or(""))?;
        text(sheet, row, 4, c.arguments.as_deref().unwrap_or(""))?;
        text(
            sheet,
            row,
            5,
            c.session
                .as_deref()
                .or(c.session_id.as_deref())
                .unwrap_or(""),
        )?;
        text(sheet, row, 6, &c.rule)?;
        text(sheet, row, 7, &c.basis)?;
        text(sheet, row, 8, &c.origin)?;
        text(sheet, row, 9, c.operation_id.as_deref().unwrap_or(""))?;
        text(sheet, row, 10, &c.blob)?;
        number(sheet, row, 11, c.line)?;
    }
    finish(sheet, report.attacker_calls.len(), columns.len())?;

    let sheet = workbook.add_worksheet().set_name("Exfiltration")?;
    let columns = [
        "destination_ip",
        "destination_host",
        "bytes",
        "first (UTC)",
        "last (UTC)",
        "path",
        "records",
    ];
    head(sheet, &columns, &header)?;
    for (i, e) in report.exfiltration.iter().enumerate() {
        let row = row_of(i);
        text(sheet, row, 0, &e.destination_ip)?;
        text(sheet, row, 1, e.destination_host.as_deref().unwrap_or(""))?;
        number(sheet, row, 2, e.bytes)?;
        time(sheet, row, 3, e.first.as_deref().unwrap_or(""), &when)?;
        time(sheet, row, 4, e.last.as_deref().unwrap_or(""), &when)?;
        text(sheet, row, 5, &e.path)?;
        number(sheet, row, 6, e.records)?;
    }
    finish(sheet, report.exfiltration.len(), columns.len())?;

    let sheet = workbook.add_worksheet().set_name("Provenance")?;
    let facts = [
        ("verdict", report.verdict.to_string()),
        (
            "window",
            format!("{} … {} (UTC)", report.since, report.until),
        ),
        ("baseline from", report.baseline_start.clone()),
        (
            "window asked for",
            format!(
                "from {} ({})",
                report.window.requested.since, report.window.method
            ),
        ),
        (
            "window moved by",
            report
                .window
                .moved_by
                .iter()
                .map(|m| {
                    format!(
                        "{} {} first seen {} ({})",
                        m.kind, m.artifact, m.first_seen, m.record
                    )
                })
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        ("manifest sha256", report.evidence.manifest_sha256.clone()),
        (
            "query pack sha256",
            report.evidence.query_pack_sha256.clone(),
        ),
        ("report version", report.report_version.to_string()),
        (
            "tool",
            format!("mcpforensics {}", env!("CARGO_PKG_VERSION")),
        ),
    ];
    for (i, (name, value)) in facts.iter().enumerate() {
        let row = u32::try_from(i).unwrap_or(u32::MAX);
        sheet.write_string_with_format(row, 0, *name, &header)?;
        text(sheet, row, 1, value)?;
    }
    let row = u32::try_from(facts.len() + 1).unwrap_or(u32::MAX);
    sheet.write_string_with_format(row, 0, "coverage", &header)?;
    for (i, statement) in report.coverage.statements.iter().enumerate() {
        text(sheet, row + u32::try_from(i).unwrap_or(0), 1, statement)?;
    }
    sheet.autofit();
    workbook.save_to_buffer()
}

fn row_of(index: usize) -> u32 {
    u32::try_from(index + 1).unwrap_or(u32::MAX)
}

fn head(sheet: &mut Worksheet, columns: &[&str], format: &Format) -> Result<(), XlsxError> {
    for (i, name) in columns.iter().enumerate() {
        sheet.write_string_with_format(0, u16::try_from(i).unwrap_or(0), *name, format)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    Ok(())
}

/// A text cell, as text (never a formula), cut at Excel's limit with a note.
fn text(sheet: &mut Worksheet, row: u32, column: u16, value: &str) -> Result<(), XlsxError> {
    if value.chars().count() <= MAX_CELL_CHARS {
        sheet.write_string(row, column, value)?;
    } else {
        let note = " … (cut at Excel's cell limit; the JSON report has it whole)";
        let kept: String = value
            .chars()
            .take(MAX_CELL_CHARS - note.chars().count())
            .collect();
        sheet.write_string(row, column, kept + note)?;
    }
    Ok(())
}

/// A sheet's last touches: an autofilter over its header and rows, and column widths from the
/// content.
fn finish(sheet: &mut Worksheet, rows: usize, columns: usize) -> Result<(), XlsxError> {
    let last_column = u16::try_from(columns.saturating_sub(1)).unwrap_or(u16::MAX);
    sheet.autofilter(0, 0, u32::try_from(rows).unwrap_or(u32::MAX), last_column)?;
    sheet.autofit();
    Ok(())
}

/// A time as an Excel date-time (days since 1899-12-30, UTC); text as written when it is not a
/// time, empty when there is none.
fn time(
    sheet: &mut Worksheet,
    row: u32,
    column: u16,
    value: &str,
    format: &Format,
) -> Result<(), XlsxError> {
    match crate::time::parse_timestamp(value) {
        Some(instant) => {
            let days = instant.timestamp_millis() as f64 / 86_400_000.0 + 25_569.0;
            sheet.write_number_with_format(row, column, days, format)?;
            Ok(())
        }
        None => text(sheet, row, column, value),
    }
}

fn number(sheet: &mut Worksheet, row: u32, column: u16, value: u64) -> Result<(), XlsxError> {
    sheet.write_number(row, column, value as f64)?;
    Ok(())
}
