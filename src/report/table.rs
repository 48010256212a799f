//! Query results (Arrow batches) as a terminal table, CSV or JSON.

use std::io::Write;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use arrow::util::display::{ArrayFormatter, FormatOptions};

use crate::escape::{csv_field, terminal_safe};

/// Output formats for tabular results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TableFormat {
    /// Aligned columns for a terminal (long cells are cut, control characters escaped).
    Table,
    /// RFC 4180 CSV, UTF-8, Excel-safe.
    Csv,
    /// A JSON array of objects (nulls kept).
    Json,
}

/// Widest a terminal column gets before its cells are cut.
const MAX_CELL_CHARS: usize = 60;

/// Every cell of the batches as display text (null as empty).
pub fn cells(batches: &[RecordBatch]) -> Result<Vec<Vec<String>>, arrow::error::ArrowError> {
    let options = FormatOptions::default().with_null("");
    let mut rows = Vec::new();
    for batch in batches {
        let formatters = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
            .collect::<Result<Vec<_>, _>>()?;
        for row in 0..batch.num_rows() {
            rows.push(
                formatters
                    .iter()
                    .map(|f| f.value(row).to_string())
                    .collect(),
            );
        }
    }
    Ok(rows)
}

/// Writes batches in the chosen format.
pub fn write(
    format: TableFormat,
    schema: &SchemaRef,
    batches: &[RecordBatch],
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let header: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let to_io = |e: arrow::error::ArrowError| std::io::Error::other(e.to_string());
    match format {
        TableFormat::Csv => {
            // For spreadsheets: a byte-order mark, CRLF line ends (RFC 4180).
            write!(
                out,
                "{}{}\r\n",
                crate::escape::CSV_BOM,
                header
                    .iter()
                    .map(|h| csv_field(h))
                    .collect::<Vec<_>>()
                    .join(",")
            )?;
            for row in cells(batches).map_err(to_io)? {
                write!(
                    out,
                    "{}\r\n",
                    row.iter()
                        .map(|c| csv_field(c))
                        .collect::<Vec<_>>()
                        .join(",")
                )?;
            }
        }
        TableFormat::Json => {
            let mut writer = arrow::json::WriterBuilder::new()
                .with_explicit_nulls(true)
                .build::<_, arrow::json::writer::JsonArray>(Vec::new());
            let refs: Vec<&RecordBatch> = batches.iter().filter(|b| b.num_rows() > 0).collect();
            writer.write_batches(&refs).map_err(to_io)?;
            writer.finish().map_err(to_io)?;
            let bytes = writer.into_inner();
            if bytes.is_empty() {
                writeln!(out, "[]")?;
            } else {
                out.write_all(&bytes)?;
                writeln!(out)?;
            }
        }
        TableFormat::Table => {
            let rows: Vec<Vec<String>> = cells(batches)
                .map_err(to_io)?
                .into_iter()
                .map(|r| r.into_iter().map(|c| cut(&terminal_safe(&c))).collect())
                .collect();
            let header: Vec<String> = header.iter().map(|h| cut(&terminal_safe(h))).collect();
            let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
            for row in &rows {
                for (w, c) in widths.iter_mut().zip(row) {
                    *w = (*w).max(c.chars().count());
                }
            }
            let line = |cells: &[String]| {
                cells
                    .iter()
                    .zip(&widths)
                    .map(|(c, w)| format!("{c}{}", " ".repeat(w - c.chars().count())))
                    .collect::<Vec<_>>()
                    .join(" | ")
            };
            writeln!(out, "{}", line(&header).trim_end())?;
            writeln!(
                out,
                "{}",
                widths
                    .iter()
                    .map(|w| "-".repeat(*w))
                    .collect::<Vec<_>>()
                    .join("-+-")
            )?;
            for row in &rows {
                writeln!(out, "{}", line(row).trim_end())?;
            }
            let count: usize = batches.iter().map(RecordBatch::num_rows).sum();
            writeln!(out, "({count} row{})", if count == 1 { "" } else { "s" })?;
        }
    }
    Ok(())
}

fn cut(text: &str) -> String {
    if text.chars().count() <= MAX_CELL_CHARS {
        return text.to_string();
    }
    let mut short: String = text.chars().take(MAX_CELL_CHARS - 1).collect();
    short.push('…');
    short
}
