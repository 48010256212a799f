//! The scope report's document as one self-contained HTML file: the summary sections on the
//! first printed page, the details after, a table per table with times that never wrap, byte
//! counts exact on hover, pointers to the evidence shortened with the full path on hover and in
//! the appendix, and the attacker's calls per day as inline SVG. No script, no outside resource.

use std::fmt::Write;

use super::document::{Body, Cell, DailyCalls, Document, Lead, Part, Section, Shown, Table};
use super::html::{HTML_STYLE, html_escape, html_text as e};
use super::summary::{cut, human_bytes, short_blob};
use crate::scope::Verdict;

/// Columns that never wrap.
fn no_wrap(cell: &Cell) -> bool {
    matches!(cell, Cell::Time(_) | Cell::Tag(_))
}

/// A table's opening with a header row that repeats on every printed page.
fn table_head(table: &Table) -> String {
    let cells: String = table
        .columns
        .iter()
        .enumerate()
        .map(|(i, column)| {
            let wraps = table
                .rows
                .first()
                .and_then(|row| row.cells.get(i))
                .is_none_or(|cell| !no_wrap(cell));
            let class = if wraps { "" } else { " class=\"t\"" };
            format!("<th{class}>{}</th>", e(column.name))
        })
        .collect();
    format!("<table><thead><tr>{cells}</tr></thead><tbody>")
}

fn cell_html(cell: &Cell, alert: bool) -> String {
    let bad = if alert { " class=\"bad\"" } else { "" };
    match cell {
        Cell::Text(text) => format!("<td{bad}>{}</td>", e(text)),
        Cell::Code(code) => format!(
            "<td class=\"args\" title=\"{}\"><code>{}</code></td>",
            html_escape(code),
            e(&cut(code, 160))
        ),
        Cell::Time(text) | Cell::Tag(text) => format!("<td class=\"t\">{}</td>", e(text)),
        Cell::Count(n) => format!("<td class=\"n\">{n}</td>"),
        Cell::Bytes(n) => format!(
            "<td class=\"n\" title=\"{n} bytes\">{}</td>",
            human_bytes(*n)
        ),
        Cell::Tier(tier) => format!("<td class=\"tier-{}\">{}</td>", html_escape(tier), e(tier)),
        Cell::Evidence(pointer) => format!(
            "<td><span class=\"ev\" title=\"{}:{line}\">{}:{line}</span></td>",
            html_escape(&pointer.blob),
            html_escape(&short_blob(&pointer.blob)),
            line = pointer.line
        ),
    }
}

fn render_table(table: &Table, shown: &Shown) -> String {
    let mut out = table_head(table);
    let limit = match shown {
        Shown::First(n, _) => *n,
        _ => usize::MAX,
    };
    for row in table.rows.iter().take(limit) {
        out.push_str("<tr>");
        for (i, cell) in row.cells.iter().enumerate() {
            out += &cell_html(cell, row.alert && i == 0);
        }
        out.push_str("</tr>");
        if !row.details.is_empty() {
            let items: String = row
                .details
                .iter()
                .map(|d| format!("<li>{}</li>", e(d)))
                .collect();
            let _ = write!(
                out,
                "<tr><td class=\"reasons\" colspan=\"{}\">Reasons:<ul>{items}</ul></td></tr>",
                table.columns.len()
            );
        }
    }
    out.push_str("</tbody></table>");
    if let Shown::First(n, place) = shown
        && table.rows.len() > *n
    {
        let _ = write!(
            out,
            "<p>… and {} more ({}).</p>",
            table.rows.len() - n,
            e(place)
        );
    }
    out
}

fn render_section(section: &Section) -> String {
    if section.in_documents == Shown::Omitted {
        return String::new();
    }
    if let Body::Chart(chart) = &section.body {
        return chart_svg(section, chart);
    }
    let mut out = String::new();
    let title = match &section.tally {
        Some(tally) => format!("{} ({})", section.title, e(tally)),
        None => section.title.to_string(),
    };
    if section.part == Part::Summary {
        let _ = write!(out, "<section id=\"{}\"><h2>{title}</h2>", section.id);
    } else {
        let _ = write!(out, "<h2 id=\"{}\">{title}</h2>", section.id);
    }
    match &section.lead {
        Some(Lead::Verdict(verdict, headline)) => {
            let class = if *verdict == Verdict::NothingFound {
                "ok"
            } else {
                "bad"
            };
            let _ = write!(
                out,
                "<p class=\"headline\"><span class=\"{class}\">Verdict: {}.</span> {}</p>",
                e(verdict.as_str()),
                e(headline)
            );
        }
        Some(Lead::Text(text)) => {
            let _ = write!(out, "<p>{}</p>", e(text));
        }
        None => {}
    }
    let empty = section.empty.as_deref().map(e);
    match &section.body {
        Body::Facts(facts) => {
            out.push_str("<table class=\"totals\"><tbody>");
            for (label, value) in facts {
                let _ = write!(out, "<tr><th>{}</th><td>{}</td></tr>", e(label), e(value));
            }
            out.push_str("</tbody></table>");
        }
        Body::List(items) => {
            out.push_str("<ul>");
            if items.is_empty()
                && let Some(empty) = &empty
            {
                let _ = write!(out, "<li>{empty}</li>");
            }
            for item in items {
                let _ = write!(out, "<li>{}</li>", e(item));
            }
            out.push_str("</ul>");
        }
        Body::Table(table) if table.rows.is_empty() && empty.is_some() => {
            let _ = write!(out, "<p>{}</p>", empty.unwrap_or_default());
        }
        Body::Table(table) => out += &render_table(table, &section.in_documents),
        Body::Chart(_) => {}
    }
    if !section.notes.is_empty() {
        out.push_str("<ul>");
        for note in &section.notes {
            let _ = write!(out, "<li>{}</li>", e(note));
        }
        out.push_str("</ul>");
    }
    if section.part == Part::Summary {
        out.push_str("</section>");
    }
    out
}

/// Renders the document as an HTML page.
pub fn render(doc: &Document) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\"><title>Breach scope {} to {}</title><style>{HTML_STYLE}</style></head><body>",
        e(&doc.since),
        e(&doc.until)
    );
    let _ = write!(
        out,
        "<h1>Breach scope {} to {}</h1><p class=\"meta\">{} Baseline from {}. {}</p><nav>",
        e(&doc.since),
        e(&doc.until),
        e(&doc.generated),
        e(&doc.baseline_start),
        e(&doc.provenance)
    );
    for section in doc
        .sections
        .iter()
        .filter(|s| s.in_documents != Shown::Omitted)
    {
        let _ = write!(out, "<a href=\"#{}\">{}</a>", section.id, section.title);
    }
    out.push_str("</nav>");
    let mut details = false;
    for section in &doc.sections {
        if section.part == Part::Details && !details {
            out.push_str("<section id=\"details\">");
            details = true;
        }
        out += &render_section(section);
    }
    if details {
        out.push_str("</section>");
    }
    out.push_str("</body></html>\n");
    out
}

/// Attacker calls per day as bars, with coverage gaps shaded: inline SVG, no script.
fn chart_svg(section: &Section, chart: &DailyCalls) -> String {
    if chart.days.is_empty() {
        return String::new();
    }
    let max = chart.days.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    let (width, height, left, bottom) = (900.0, 180.0, 40.0, 30.0);
    let bar = (width - left) / chart.days.len() as f64;
    let mut svg = format!(
        "<h2 id=\"{}\">{}</h2><svg width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"attacker tool calls per day\">",
        section.id, section.title
    );
    let scale = (height - bottom - 10.0) / max as f64;
    for (table, from, to) in &chart.gaps {
        if let Some(index) = chart
            .days
            .iter()
            .position(|(day, _)| from.starts_with(day.as_str()))
        {
            let _ = write!(
                svg,
                "<rect x=\"{:.1}\" y=\"0\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#ddd\"><title>gap in {}: {} to {}</title></rect>",
                left + index as f64 * bar,
                bar,
                height - bottom,
                html_escape(table),
                html_escape(from),
                html_escape(to)
            );
        }
    }
    for (i, (day, count)) in chart.days.iter().enumerate() {
        let h = *count as f64 * scale;
        let x = left + i as f64 * bar;
        let _ = write!(
            svg,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#b00020\"><title>{day}: {count} calls</title></rect>",
            x + 1.0,
            height - bottom - h,
            (bar - 2.0).max(1.0),
            h
        );
        if i % 7 == 0 {
            let _ = write!(
                svg,
                "<text x=\"{x:.1}\" y=\"{:.1}\">{}</text>",
                height - 12.0,
                html_escape(day.get(5..).unwrap_or(day))
            );
        }
    }
    let _ = write!(
        svg,
        "<text x=\"0\" y=\"12\">{max}</text><line x1=\"{left}\" y1=\"{:.1}\" x2=\"{width}\" y2=\"{:.1}\" stroke=\"#888\"/></svg><p>Grey: hours with a coverage gap.</p>",
        height - bottom,
        height - bottom
    );
    svg
}
