//! The overview page (`mcpforensics overview`): one self-contained HTML page (no script; the
//! scope report's content security policy and print rules) whose charts are SVG drawn here, each
//! panel's first rows as a table and all of them in a CSV beside the page; or every panel as
//! JSON.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use crate::overview::{Overview, Panel};
use crate::report::html::html_escape as e;
use crate::report::summary::cut;
use crate::report::table::{TableFormat, cells};
use crate::time::format_utc;

/// Rows of a panel shown in the page's table (its CSV holds them all).
const ROWS_SHOWN: usize = 25;

/// Tools, identities or destinations a chart draws (the busiest first).
const CHART_ITEMS: usize = 15;

/// Width of every chart, in SVG units (fits 1366 px and A4).
const WIDTH: f64 = 900.0;

/// Colours: the window, the baseline, what stands out.
const WINDOW: &str = "#1565c0";
const BASELINE: &str = "#b0bec5";
const ALERT: &str = "#b00020";

/// A tool's calls per hour of day: (window, baseline).
type HourCounts = ([f64; 24], [f64; 24]);

/// An identity's values per day: (baseline days, window days).
type DayValues = (Vec<f64>, Vec<f64>);

/// A panel's cells as display text, with its column names.
struct Cells {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Cells {
    fn of(panel: &Panel) -> Self {
        Self {
            header: panel
                .schema
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect(),
            rows: cells(&panel.batches).unwrap_or_default(),
        }
    }

    fn column(&self, name: &str) -> usize {
        self.header
            .iter()
            .position(|h| h == name)
            .unwrap_or(usize::MAX)
    }

    fn text<'a>(&self, row: &'a [String], name: &str) -> &'a str {
        row.get(self.column(name)).map_or("", String::as_str)
    }

    fn number(&self, row: &[String], name: &str) -> f64 {
        self.text(row, name).parse().unwrap_or(0.0)
    }
}

/// The CSV of one panel (all its rows).
pub fn panel_csv(panel: &Panel) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    crate::report::table::write(TableFormat::Csv, &panel.schema, &panel.batches, &mut out)?;
    Ok(out)
}

/// Every panel as one JSON document: the window, and each panel's rows under its name.
pub fn json(overview: &Overview) -> std::io::Result<String> {
    let mut out = String::from("{");
    let _ = write!(
        out,
        "\"since\":\"{}\",\"until\":\"{}\",\"baseline_start\":\"{}\",\"panels\":{{",
        format_utc(overview.params.since),
        format_utc(overview.params.until),
        format_utc(overview.params.baseline_start)
    );
    for (i, panel) in overview.panels.iter().enumerate() {
        let mut rows = Vec::new();
        crate::report::table::write(TableFormat::Json, &panel.schema, &panel.batches, &mut rows)?;
        let rows = String::from_utf8(rows).map_err(std::io::Error::other)?;
        let _ = write!(
            out,
            "{}{}:{}",
            if i == 0 { "" } else { "," },
            serde_json::Value::String(panel.name.to_string()),
            rows.trim()
        );
    }
    out.push_str("}}\n");
    Ok(out)
}

/// The page; `files` names each panel's CSV beside it (by panel name).
pub fn html(overview: &Overview, files: &BTreeMap<String, String>) -> String {
    let p = &overview.params;
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\"><title>Overview {} to {}</title><style>{}</style></head><body>",
        e(&format_utc(p.since)),
        e(&format_utc(p.until)),
        crate::report::html::HTML_STYLE
    );
    let _ = write!(
        out,
        "<h1>Overview</h1><p class=\"meta\">Window {} to {} (UTC), against the baseline from {}. Every time on this page is UTC. What is normal and what is not, before deciding what is suspicious: each panel is a query of the pack (<code>mcpforensics queries run NAME</code> gives the same rows) and its rows are in the CSV named under it.</p><nav>",
        e(&format_utc(p.since)),
        e(&format_utc(p.until)),
        e(&format_utc(p.baseline_start))
    );
    for panel in &overview.panels {
        let _ = write!(out, "<a href=\"#{}\">{}</a>", panel.name, e(panel.title));
    }
    out.push_str("</nav>");
    let window_days = ((p.until - p.since).num_seconds() as f64 / 86_400.0).max(1.0 / 24.0);
    let baseline_days = ((p.since - p.baseline_start).num_seconds() as f64 / 86_400.0).max(0.0);
    for panel in &overview.panels {
        let cells = Cells::of(panel);
        let _ = write!(
            out,
            "<section id=\"{}\"><h2>{}</h2><p class=\"meta\">{}</p>",
            panel.name,
            e(panel.title),
            e(&panel.about)
        );
        let chart = match panel.name {
            "overview_tool_usage" => tool_usage_chart(&cells, window_days, baseline_days),
            "overview_tool_hours" => hour_heat_map(&cells),
            "overview_data_access" => data_access_chart(&cells, overview),
            "overview_auth_failures" => auth_failure_chart(&cells, overview),
            "overview_unattributed" => unattributed_chart(&cells, overview),
            "overview_errors" => errors_chart(&cells, overview),
            "network_new_destinations" => destinations_chart(&cells),
            _ => String::new(),
        };
        out.push_str(&chart);
        table(&mut out, &cells);
        if let Some(file) = files.get(panel.name) {
            let _ = write!(
                out,
                "<p class=\"meta\">All {} rows: <a href=\"{}\">{}</a></p>",
                cells.rows.len(),
                e(file),
                e(file)
            );
        }
        out.push_str("</section>");
    }
    out.push_str("</body></html>\n");
    out
}

/// The panel's first rows as a table (numbers right-aligned, times never wrapped).
fn table(out: &mut String, cells: &Cells) {
    if cells.rows.is_empty() {
        out.push_str("<p>No rows: the evidence holds nothing of this kind in the window and its baseline (see the coverage of <code>scope</code> for what is missing).</p>");
        return;
    }
    out.push_str("<table><thead><tr>");
    for h in &cells.header {
        let _ = write!(out, "<th>{}</th>", e(h));
    }
    out.push_str("</tr></thead><tbody>");
    for row in cells.rows.iter().take(ROWS_SHOWN) {
        out.push_str("<tr>");
        for cell in row {
            let class = if cell.parse::<f64>().is_ok() {
                " class=\"n\""
            } else if looks_like_time(cell) {
                " class=\"t\""
            } else {
                ""
            };
            let _ = write!(
                out,
                "<td{class}>{}</td>",
                crate::report::html::html_text(cell)
            );
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
    if cells.rows.len() > ROWS_SHOWN {
        let _ = write!(
            out,
            "<p class=\"meta\">{} of {} rows shown.</p>",
            ROWS_SHOWN,
            cells.rows.len()
        );
    }
}

fn looks_like_time(cell: &str) -> bool {
    cell.len() >= 19 && cell.as_bytes().get(10) == Some(&b'T') && cell.as_bytes()[4] == b'-'
}

/// A day's label (`2026-10-01`) from a time cell.
fn day_of(cell: &str) -> String {
    cell.chars().take(10).collect()
}

/// A row's label, right-aligned before the plot at `label_width`, cut to 38 characters.
fn row_label(svg: &mut String, label_width: f64, y: f64, label: &str) {
    let _ = write!(
        svg,
        "<text x=\"{}\" y=\"{y}\" text-anchor=\"end\">{}</text>",
        label_width - 6.0,
        e(&cut(label, 38))
    );
}

/// Horizontal bars: for each label, one bar per series, with the value at its end.
fn bars(labels: &[String], series: &[(&str, &str, Vec<f64>)], unit: &str) -> String {
    let label_width = 230.0;
    let area = WIDTH - label_width - 90.0;
    let row_height = 6.0 + 12.0 * series.len() as f64;
    let max = series
        .iter()
        .flat_map(|(_, _, v)| v.iter().copied())
        .fold(0.0_f64, f64::max)
        .max(1.0);
    let height = 34.0 + row_height * labels.len() as f64;
    let mut svg = format!(
        "<svg viewBox=\"0 0 {WIDTH} {height}\" width=\"{WIDTH}\" role=\"img\" aria-label=\"{}\">",
        e(unit)
    );
    for (i, (legend, colour, _)) in series.iter().enumerate() {
        let x = label_width + 170.0 * i as f64;
        let _ = write!(
            svg,
            "<rect x=\"{x}\" y=\"4\" width=\"10\" height=\"10\" fill=\"{colour}\"/><text x=\"{}\" y=\"13\">{}</text>",
            x + 14.0,
            e(legend)
        );
    }
    let _ = write!(
        svg,
        "<text x=\"{label_width}\" y=\"28\">0</text><text x=\"{}\" y=\"28\" text-anchor=\"end\">{} {}</text>",
        label_width + area,
        format_number(max),
        e(unit)
    );
    for (row, label) in labels.iter().enumerate() {
        let y = 34.0 + row_height * row as f64;
        row_label(&mut svg, label_width, y + row_height / 2.0 + 3.0, label);
        for (i, (_, colour, values)) in series.iter().enumerate() {
            let value = values.get(row).copied().unwrap_or(0.0);
            let w = (value / max * area).max(if value > 0.0 { 1.0 } else { 0.0 });
            let by = y + 3.0 + 12.0 * i as f64;
            let _ = write!(
                svg,
                "<rect x=\"{label_width}\" y=\"{by}\" width=\"{w:.1}\" height=\"10\" fill=\"{colour}\"/><text x=\"{:.1}\" y=\"{}\">{}</text>",
                label_width + w + 4.0,
                by + 9.0,
                format_number(value)
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// Calls per day of each tool in the window against the baseline.
fn tool_usage_chart(cells: &Cells, window_days: f64, baseline_days: f64) -> String {
    let rows: Vec<&Vec<String>> = cells.rows.iter().take(CHART_ITEMS).collect();
    if rows.is_empty() {
        return String::new();
    }
    let labels: Vec<String> = rows
        .iter()
        .map(|r| cells.text(r, "tool").to_string())
        .collect();
    let window: Vec<f64> = rows
        .iter()
        .map(|r| cells.number(r, "window_calls") / window_days)
        .collect();
    let baseline: Vec<f64> = rows
        .iter()
        .map(|r| {
            if baseline_days > 0.0 {
                cells.number(r, "baseline_calls") / baseline_days
            } else {
                0.0
            }
        })
        .collect();
    bars(
        &labels,
        &[
            ("window, calls a day", WINDOW, window),
            ("baseline, calls a day", BASELINE, baseline),
        ],
        "calls a day",
    )
}

/// Tools × hours of day: the window's calls shaded; an hour the baseline never saw the tool
/// called in, but the window did, outlined in red.
fn hour_heat_map(cells: &Cells) -> String {
    let mut by_tool: BTreeMap<String, HourCounts> = BTreeMap::new();
    for row in &cells.rows {
        let hour = cells.number(row, "hour") as usize;
        if hour >= 24 {
            continue;
        }
        let entry = by_tool
            .entry(cells.text(row, "tool").to_string())
            .or_insert(([0.0; 24], [0.0; 24]));
        entry.0[hour] += cells.number(row, "window_calls");
        entry.1[hour] += cells.number(row, "baseline_calls");
    }
    let mut tools: Vec<(&String, &HourCounts)> = by_tool.iter().collect();
    tools.sort_by(|a, b| {
        let total = |t: &[f64; 24]| t.iter().sum::<f64>();
        total(&b.1.0)
            .partial_cmp(&total(&a.1.0))
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.0.cmp(b.0))
    });
    tools.truncate(CHART_ITEMS);
    tools.retain(|(_, (w, _))| w.iter().sum::<f64>() > 0.0);
    if tools.is_empty() {
        return String::new();
    }
    let label_width = 230.0;
    let cell = ((WIDTH - label_width - 10.0) / 24.0).floor();
    let height = 40.0 + 18.0 * tools.len() as f64;
    let max = tools
        .iter()
        .flat_map(|(_, (w, _))| w.iter().copied())
        .fold(1.0_f64, f64::max);
    let mut svg = format!(
        "<svg viewBox=\"0 0 {WIDTH} {height}\" width=\"{WIDTH}\" role=\"img\" aria-label=\"tool calls by hour\">"
    );
    let _ = write!(
        svg,
        "<text x=\"0\" y=\"12\">Shade: the window's calls (darkest {}); red outline: an hour the baseline never saw the tool called in</text>",
        format_number(max)
    );
    for hour in 0..24 {
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"32\" text-anchor=\"middle\">{hour:02}</text>",
            label_width + cell * hour as f64 + cell / 2.0
        );
    }
    for (row, (tool, (window, baseline))) in tools.iter().enumerate() {
        let y = 38.0 + 18.0 * row as f64;
        row_label(&mut svg, label_width, y + 12.0, tool);
        for hour in 0..24 {
            let x = label_width + cell * hour as f64;
            let shade = if window[hour] > 0.0 {
                0.15 + 0.85 * window[hour] / max
            } else {
                0.0
            };
            let outline = if window[hour] > 0.0 && baseline[hour] == 0.0 {
                format!(" stroke=\"{ALERT}\" stroke-width=\"2\"")
            } else {
                String::new()
            };
            let _ = write!(
                svg,
                "<rect x=\"{x:.1}\" y=\"{y}\" width=\"{:.1}\" height=\"16\" fill=\"{WINDOW}\" fill-opacity=\"{shade:.2}\"{outline}><title>{} at {hour:02}h: {} in the window, {} in the baseline</title></rect>",
                cell - 1.0,
                e(tool),
                format_number(window[hour]),
                format_number(baseline[hour])
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// For each identity (the most customers in a window day first): its baseline days' band of
/// customers a day (grey, the mean marked) and its window days (dots, red above the band).
fn data_access_chart(cells: &Cells, overview: &Overview) -> String {
    let since = format_utc(overview.params.since);
    let mut per_user: BTreeMap<String, DayValues> = BTreeMap::new();
    for row in &cells.rows {
        let day = cells.text(row, "day");
        let customers = cells.number(row, "customers");
        let entry = per_user
            .entry(cells.text(row, "user").to_string())
            .or_default();
        if day_of(day) < day_of(&since) {
            entry.0.push(customers);
        } else {
            entry.1.push(customers);
        }
    }
    let mut users: Vec<(&String, &DayValues)> = per_user
        .iter()
        .filter(|(_, (_, window))| !window.is_empty())
        .collect();
    let peak = |v: &[f64]| v.iter().copied().fold(0.0_f64, f64::max);
    users.sort_by(|a, b| {
        peak(&b.1.1)
            .partial_cmp(&peak(&a.1.1))
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.0.cmp(b.0))
    });
    users.truncate(CHART_ITEMS);
    if users.is_empty() {
        return String::new();
    }
    let label_width = 230.0;
    let area = WIDTH - label_width - 60.0;
    let max = users
        .iter()
        .map(|(_, (b, w))| peak(b).max(peak(w)))
        .fold(1.0_f64, f64::max);
    let height = 40.0 + 18.0 * users.len() as f64;
    let mut svg = format!(
        "<svg viewBox=\"0 0 {WIDTH} {height}\" width=\"{WIDTH}\" role=\"img\" aria-label=\"customers named a day per identity\">"
    );
    let _ = write!(
        svg,
        "<rect x=\"0\" y=\"3\" width=\"10\" height=\"10\" fill=\"{BASELINE}\"/><text x=\"14\" y=\"12\">baseline days (mean marked)</text><circle cx=\"205\" cy=\"8\" r=\"4\" fill=\"{WINDOW}\"/><text x=\"213\" y=\"12\">a window day</text><circle cx=\"300\" cy=\"8\" r=\"4\" fill=\"{ALERT}\"/><text x=\"308\" y=\"12\">a window day above every baseline day</text>\
<text x=\"{label_width}\" y=\"30\">0</text><text x=\"{}\" y=\"30\" text-anchor=\"end\">{} customers a day</text>",
        label_width + area,
        format_number(max)
    );
    let scale = |v: f64| label_width + v / max * area;
    for (row, (user, (baseline, window))) in users.iter().enumerate() {
        let y = 36.0 + 18.0 * row as f64;
        row_label(&mut svg, label_width, y + 12.0, user);
        let top = peak(baseline);
        if !baseline.is_empty() {
            let low = baseline.iter().copied().fold(f64::MAX, f64::min);
            let mean = baseline.iter().sum::<f64>() / baseline.len() as f64;
            let _ = write!(
                svg,
                "<rect x=\"{:.1}\" y=\"{}\" width=\"{:.1}\" height=\"12\" fill=\"{BASELINE}\"/><rect x=\"{:.1}\" y=\"{}\" width=\"2\" height=\"16\" fill=\"#37474f\"/>",
                scale(low),
                y + 2.0,
                (scale(top) - scale(low)).max(2.0),
                scale(mean) - 1.0,
                y
            );
        }
        for value in window.iter() {
            let colour = if *value > top { ALERT } else { WINDOW };
            let _ = write!(
                svg,
                "<circle cx=\"{:.1}\" cy=\"{}\" r=\"4\" fill=\"{colour}\" fill-opacity=\"0.8\"/>",
                scale(*value),
                y + 8.0
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// Vertical bars per day for each series, the window's days on a tinted ground.
fn day_chart(days: &[String], since: &str, series: &[(&str, &str, Vec<f64>)]) -> String {
    if days.is_empty() {
        return String::new();
    }
    let left = 60.0;
    let plot_height = 160.0;
    let slot = ((WIDTH - left - 10.0) / days.len() as f64).max(2.0);
    let bar = ((slot - 2.0) / series.len() as f64).max(1.0);
    let max = series
        .iter()
        .flat_map(|(_, _, v)| v.iter().copied())
        .fold(1.0_f64, f64::max);
    let height = plot_height + 70.0;
    let mut svg = format!(
        "<svg viewBox=\"0 0 {WIDTH} {height}\" width=\"{WIDTH}\" role=\"img\" aria-label=\"per day\">"
    );
    for (i, (legend, colour, _)) in series.iter().enumerate() {
        let x = left + 190.0 * i as f64;
        let _ = write!(
            svg,
            "<rect x=\"{x}\" y=\"3\" width=\"10\" height=\"10\" fill=\"{colour}\"/><text x=\"{}\" y=\"12\">{}</text>",
            x + 14.0,
            e(legend)
        );
    }
    let top = 22.0;
    if let Some(first_window) = days.iter().position(|d| d.as_str() >= since) {
        let x = left + slot * first_window as f64;
        let _ = write!(
            svg,
            "<rect x=\"{x:.1}\" y=\"{top}\" width=\"{:.1}\" height=\"{plot_height}\" fill=\"#e3f2fd\"/><text x=\"{:.1}\" y=\"{}\">window</text>",
            left + slot * days.len() as f64 - x,
            x + 3.0,
            top + 10.0
        );
    }
    let _ = write!(
        svg,
        "<line x1=\"{left}\" y1=\"{0}\" x2=\"{1}\" y2=\"{0}\" stroke=\"#888\"/><text x=\"{2}\" y=\"{3}\" text-anchor=\"end\">{4}</text><text x=\"{2}\" y=\"{0}\" text-anchor=\"end\">0</text>",
        top + plot_height,
        WIDTH - 10.0,
        left - 4.0,
        top + 8.0,
        format_number(max)
    );
    let every = (days.len() / 10).max(1);
    for (i, day) in days.iter().enumerate() {
        let x = left + slot * i as f64;
        for (s, (_, colour, values)) in series.iter().enumerate() {
            let value = values.get(i).copied().unwrap_or(0.0);
            let h = value / max * plot_height;
            let _ = write!(
                svg,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{bar:.1}\" height=\"{h:.1}\" fill=\"{colour}\"><title>{}: {}</title></rect>",
                x + 1.0 + bar * s as f64,
                top + plot_height - h,
                e(day),
                format_number(value)
            );
        }
        if i % every == 0 {
            let _ = write!(
                svg,
                "<text x=\"{:.1}\" y=\"{}\" transform=\"rotate(45 {:.1} {})\">{}</text>",
                x,
                top + plot_height + 12.0,
                x,
                top + plot_height + 12.0,
                e(day)
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// Failed sign-ins a day, all result codes together (the table splits them).
fn auth_failure_chart(cells: &Cells, overview: &Overview) -> String {
    let mut per_day: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    for row in &cells.rows {
        let entry = per_day.entry(day_of(cells.text(row, "day"))).or_default();
        entry.0 += cells.number(row, "failures");
        entry.1 = entry.1.max(cells.number(row, "addresses"));
    }
    let days: Vec<String> = per_day.keys().cloned().collect();
    day_chart(
        &days,
        &day_of(&format_utc(overview.params.since)),
        &[
            (
                "failed sign-ins",
                ALERT,
                per_day.values().map(|v| v.0).collect(),
            ),
            (
                "addresses (most of one code)",
                BASELINE,
                per_day.values().map(|v| v.1).collect(),
            ),
        ],
    )
}

/// Calls a day with the share no identity or no address can be given to.
fn unattributed_chart(cells: &Cells, overview: &Overview) -> String {
    daily_chart(
        cells,
        overview,
        &[
            ("tool calls", WINDOW, "calls"),
            ("anonymous", ALERT, "anonymous_calls"),
            ("without an address", BASELINE, "calls_without_address"),
        ],
    )
}

/// Failed tool calls and server exceptions a day.
fn errors_chart(cells: &Cells, overview: &Overview) -> String {
    daily_chart(
        cells,
        overview,
        &[
            ("failed tool calls", ALERT, "failed_calls"),
            ("server exceptions", BASELINE, "exceptions"),
        ],
    )
}

/// A panel with a row a day (`day`) drawn as bars of the named columns: each series is its
/// label, colour and column.
fn daily_chart(cells: &Cells, overview: &Overview, series: &[(&str, &str, &str)]) -> String {
    let days: Vec<String> = cells
        .rows
        .iter()
        .map(|r| day_of(cells.text(r, "day")))
        .collect();
    let series: Vec<(&str, &str, Vec<f64>)> = series
        .iter()
        .map(|(label, colour, column)| {
            let values = cells.rows.iter().map(|r| cells.number(r, column)).collect();
            (*label, *colour, values)
        })
        .collect();
    day_chart(&days, &day_of(&format_utc(overview.params.since)), &series)
}

/// Bytes sent to each new destination (the most first).
fn destinations_chart(cells: &Cells) -> String {
    let rows: Vec<&Vec<String>> = cells.rows.iter().take(CHART_ITEMS).collect();
    if rows.is_empty() {
        return String::new();
    }
    let named: BTreeSet<usize> = rows
        .iter()
        .enumerate()
        .filter(|(_, r)| cells.text(r, "named_by_dependency") == "true")
        .map(|(i, _)| i)
        .collect();
    let labels: Vec<String> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            format!(
                "{}{}",
                cells.text(r, "dst_ip"),
                if named.contains(&i) {
                    " (a dependency's)"
                } else {
                    ""
                }
            )
        })
        .collect();
    let bytes: Vec<f64> = rows.iter().map(|r| cells.number(r, "bytes_out")).collect();
    bars(&labels, &[("bytes sent", ALERT, bytes)], "bytes")
}

/// A number for a label: whole numbers as such, others to one decimal.
fn format_number(value: f64) -> String {
    if value.fract() == 0.0 || value >= 100.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_labels() {
        assert_eq!(format_number(12.0), "12");
        assert_eq!(format_number(2.25), "2.2");
        assert_eq!(format_number(1234.6), "1235");
        assert_eq!(cut("abcdef", 4), "abc…");
        assert_eq!(day_of("2026-10-01T00:00:00Z"), "2026-10-01");
    }

    #[test]
    fn evidence_text_in_a_chart_is_escaped() {
        let labels = vec!["<script>alert(1)</script>".to_string()];
        let svg = bars(&labels, &[("calls", WINDOW, vec![3.0])], "calls");
        assert!(!svg.contains("<script>"), "{svg}");
        assert!(svg.contains("&lt;script&gt;"), "{svg}");
    }
}
