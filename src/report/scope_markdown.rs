//! The scope report's document as Markdown: a heading per section, a table per table, a row's
//! details as a list under the table. Every cell is escaped so the evidence's text stays text.

use std::fmt::Write;

use super::document::{Body, Document, Lead, Section, Shown, Table};

/// Escapes text for a Markdown table cell or list item.
pub fn md_cell(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '|' => "\\|".to_string(),
            '<' => "&lt;".to_string(),
            '>' => "&gt;".to_string(),
            '&' => "&amp;".to_string(),
            '`' | '*' | '_' | '[' | ']' | '\\' => format!("\\{c}"),
            c if c.is_control() => " ".to_string(),
            c => c.to_string(),
        })
        .collect()
}

/// Renders the document as Markdown.
pub fn render(doc: &Document) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Breach scope {} to {}\n",
        md_cell(&doc.since),
        md_cell(&doc.until)
    );
    let _ = writeln!(
        out,
        "{} Baseline from {}.\n\n{}",
        md_cell(&doc.generated),
        md_cell(&doc.baseline_start),
        md_cell(&doc.provenance)
    );
    for section in &doc.sections {
        out += &render_section(section);
    }
    out
}

fn render_section(section: &Section) -> String {
    if section.in_documents == Shown::Omitted || matches!(section.body, Body::Chart(_)) {
        return String::new();
    }
    let mut out = String::new();
    let _ = match &section.tally {
        Some(tally) => writeln!(out, "\n## {} ({})\n", section.title, md_cell(tally)),
        None => writeln!(out, "\n## {}\n", section.title),
    };
    match &section.lead {
        Some(Lead::Verdict(verdict, headline)) => {
            let _ = writeln!(
                out,
                "**Verdict: {}.** {}\n",
                md_cell(verdict.as_str()),
                md_cell(headline)
            );
        }
        Some(Lead::Text(text)) => {
            let _ = writeln!(out, "{}\n", md_cell(text));
        }
        None => {}
    }
    let empty = section.empty.as_deref().map(md_cell);
    match &section.body {
        Body::Facts(facts) => {
            out.push_str("| | |\n|---|---|\n");
            for (label, value) in facts {
                let _ = writeln!(out, "| {} | {} |", md_cell(label), md_cell(value));
            }
        }
        Body::List(items) => {
            if items.is_empty()
                && let Some(empty) = &empty
            {
                let _ = writeln!(out, "- {empty}");
            }
            for item in items {
                let _ = writeln!(out, "- {}", md_cell(item));
            }
        }
        Body::Table(table) if table.rows.is_empty() && empty.is_some() => {
            let _ = writeln!(out, "{}", empty.unwrap_or_default());
        }
        Body::Table(table) => out += &render_table(table, &section.in_documents),
        Body::Chart(_) => {}
    }
    if !section.notes.is_empty() {
        out.push('\n');
        for note in &section.notes {
            let _ = writeln!(out, "- {}", md_cell(note));
        }
    }
    out
}

fn render_table(table: &Table, shown: &Shown) -> String {
    let mut out = String::new();
    let names: Vec<&str> = table.columns.iter().map(|c| c.name).collect();
    let _ = writeln!(
        out,
        "| {} |\n|{}",
        names.join(" | "),
        "---|".repeat(names.len())
    );
    let limit = match shown {
        Shown::First(n, _) => *n,
        _ => usize::MAX,
    };
    for row in table.rows.iter().take(limit) {
        let cells: Vec<String> = row
            .cells
            .iter()
            .map(|cell| match cell {
                super::document::Cell::Code(code) => md_cell(&super::summary::cut(code, 160)),
                other => md_cell(&other.plain()),
            })
            .collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    if let Shown::First(n, place) = shown
        && table.rows.len() > *n
    {
        let _ = writeln!(out, "\n… and {} more ({place}).", table.rows.len() - n);
    }
    for row in table.rows.iter().take(limit) {
        if row.details.is_empty() {
            continue;
        }
        let name = row.cells.first().map(|c| c.plain()).unwrap_or_default();
        let _ = writeln!(out, "\n**{}**\n", md_cell(&name));
        for detail in &row.details {
            let _ = writeln!(out, "- {}", md_cell(detail));
        }
    }
    out
}
