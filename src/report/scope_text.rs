//! The scope report's document as terminal text: a heading per section in capitals, a line per
//! row, reasons indented under it. Every cell is made terminal-safe as it is written, so the
//! colour added here (headings bold, the verdict and the attacker's rows red, tiers by colour)
//! is the only escape sequence the text holds.

use std::fmt::Write;

use super::document::{Body, Cell, Document, Lead, Row, Section, Shown, Table};
use crate::escape::terminal_safe;
use crate::scope::Verdict;

const BOLD: &str = "\u{1b}[1m";
const RED_BOLD: &str = "\u{1b}[1;31m";
const RESET: &str = "\u{1b}[0m";

/// Styles text when colour is on.
struct Paint {
    colour: bool,
}

impl Paint {
    fn with(&self, style: &str, text: &str) -> String {
        if self.colour && !text.is_empty() {
            format!("{style}{text}{RESET}")
        } else {
            text.to_string()
        }
    }
}

/// The colour of a tier.
fn tier_style(tier: &str) -> &'static str {
    match tier {
        "exfiltrated" => "\u{1b}[31m",
        "accessed" => "\u{1b}[33m",
        "exposed" => "\u{1b}[35m",
        _ => "\u{1b}[2m",
    }
}

/// Renders the document as text, coloured for a terminal when `colour`.
pub fn render(doc: &Document, colour: bool) -> String {
    let paint = Paint { colour };
    let s = |t: &str| terminal_safe(t);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Breach scope {} … {} (baseline from {})",
        s(&doc.since),
        s(&doc.until),
        s(&doc.baseline_start)
    );
    let _ = writeln!(out, "{}", s(&doc.generated));
    let _ = writeln!(out, "{}", s(&doc.provenance));
    let verdict_style = if doc.verdict == Verdict::NothingFound {
        BOLD
    } else {
        RED_BOLD
    };
    let _ = writeln!(
        out,
        "Verdict: {}",
        paint.with(verdict_style, doc.verdict.as_str())
    );
    for section in &doc.sections {
        out += &render_section(section, &paint);
    }
    out
}

fn render_section(section: &Section, paint: &Paint) -> String {
    if section.in_text == Shown::Omitted || matches!(section.body, Body::Chart(_)) {
        return String::new();
    }
    let s = |t: &str| terminal_safe(t);
    let mut out = String::new();
    let heading = match &section.tally {
        Some(tally) => format!("{} ({})", section.title.to_uppercase(), s(tally)),
        None => section.title.to_uppercase(),
    };
    let _ = writeln!(out, "\n{}", paint.with(BOLD, &heading));
    match &section.lead {
        Some(Lead::Verdict(_, headline)) => {
            let _ = writeln!(out, "  {}", s(headline));
        }
        Some(Lead::Text(text)) => {
            let _ = writeln!(out, "  {}", s(text));
        }
        None => {}
    }
    let empty = |out: &mut String| {
        if let Some(empty) = &section.empty {
            let _ = writeln!(out, "  {}", s(empty));
        }
    };
    match &section.body {
        Body::Facts(facts) => {
            for (label, value) in facts {
                let _ = writeln!(out, "  {:<24} {}", s(label), s(value));
            }
        }
        Body::List(items) => {
            if items.is_empty() {
                empty(&mut out);
            }
            for item in items {
                let _ = writeln!(out, "  - {}", s(item));
            }
        }
        Body::Table(table) => {
            if table.rows.is_empty() {
                empty(&mut out);
            }
            let limit = match &section.in_text {
                Shown::First(n, _) => *n,
                _ => usize::MAX,
            };
            for row in table.rows.iter().take(limit) {
                out += &render_row(table, row, paint);
            }
            if let Shown::First(n, place) = &section.in_text
                && table.rows.len() > *n
            {
                let _ = writeln!(out, "  … and {} more ({})", table.rows.len() - n, s(place));
            }
        }
        Body::Chart(_) => {}
    }
    for note in &section.notes {
        let _ = writeln!(out, "  {}", s(note));
    }
    out
}

/// A row on one line (the columns text shows, empty cells left out), its details under it.
fn render_row(table: &Table, row: &Row, paint: &Paint) -> String {
    let mut words: Vec<String> = Vec::new();
    let mut tiers: Vec<String> = Vec::new();
    for (column, cell) in table.columns.iter().zip(&row.cells) {
        let Some(width) = column.text else {
            continue;
        };
        let word = match cell {
            Cell::Tier(tier) => {
                tiers.push(tier.clone());
                continue;
            }
            other => other.plain(),
        };
        if word.is_empty() {
            continue;
        }
        let word = match column.unit {
            Some(unit) => format!("{word} {unit}"),
            None => word,
        };
        words.push(format!("{:<width$}", terminal_safe(&word)));
    }
    let mut line = format!("  {}", words.join("  ").trim_end());
    if row.alert {
        line = paint.with(RED_BOLD, &line);
    }
    for tier in tiers {
        let tag = format!("[{}]", terminal_safe(&tier));
        line += &format!("  {}", paint.with(tier_style(&tier), &tag));
    }
    let mut out = line + "\n";
    for detail in &row.details {
        let _ = writeln!(out, "    - {}", terminal_safe(detail));
    }
    out
}
