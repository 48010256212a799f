//! Drawing the timeline state with ratatui. Every string from the evidence goes through
//! [`terminal_safe`] (control characters and escape sequences never reach the terminal) and is
//! cut to its cell; only the rows on screen are built.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Block, Borders, Cell, Clear, List, ListItem, ListState, Paragraph, Row, Table, Wrap,
};

use super::state::{App, Focus, HISTOGRAM_BUCKETS, Mode, PivotColumn};
use super::store::{Event, EventKind};
use crate::escape::terminal_safe;

/// The keys, as `?` shows them.
pub const HELP: &[(&str, &str)] = &[
    ("j k ↓ ↑", "next / previous event"),
    ("PgDn PgUp Space", "page down / up (also Ctrl-F / Ctrl-B)"),
    ("g G Home End", "first / last event"),
    (
        "/",
        "search: mark matching events (») without hiding the others",
    ),
    ("n N", "next / previous search match"),
    (
        "s S",
        "next / previous suspicious event (scope marks, failures)",
    ),
    ("f", "filter: keep only events matching an expression"),
    ("F \\", "filter out: drop events matching an expression"),
    (
        "t",
        "jump to a time: RFC 3339, a date, +2h / -30m from here, 72h before the end",
    ),
    (
        "h l ← →",
        "choose the cell to pivot from: user, session, tool, customer, IP",
    ),
    ("p", "pivot: keep events with the chosen cell's value"),
    (
        "r",
        "related: the selected event's operation (call, its SQL, uploads, traces)",
    ),
    ("Backspace Esc", "back one step of the breadcrumb"),
    ("x", "clear every filter and the search"),
    (
        "Tab",
        "switch between identities and events (Enter picks an identity)",
    ),
    ("Enter", "enlarge / shrink the detail pane"),
    ("J K", "scroll the detail pane (Ctrl-D / Ctrl-U by 10)"),
    (
        "+ -",
        "taller / shorter activity histogram (red: suspicious)",
    ),
    ("L", "lanes: activity per identity, suspects first"),
    ("e", "export the events in view to a .csv or .jsonl file"),
    ("b", "bookmark the event with a note (again to remove)"),
    ("z", "times in UTC / in the chosen zone (--tz)"),
    (
        "mouse",
        "wheel scrolls, click selects an event or an identity",
    ),
    ("q Ctrl-C", "quit"),
    ("", ""),
    (
        "expressions",
        "field=value  field!=value  field~regex  field!~regex  ip in 10.0.0.0/8  word",
    ),
    (
        "",
        "a AND b (or a space)  a OR b  NOT a (or -a)  ( … )  \"quoted words\"",
    ),
    (
        "",
        "time>=2026-10-01  time<2026-10-01T06:00Z  time=2026-10-01  severity>=1",
    ),
    (
        "fields",
        "kind user ip peer session tool customer summary table blob severity time operation",
    ),
];

/// Terminal-safe text of at most `max_chars` characters (longer text ends in `…`).
fn safe(text: &str, max_chars: usize) -> String {
    if text.chars().nth(max_chars).is_none() {
        return terminal_safe(text);
    }
    let cut: String = text.chars().take(max_chars.saturating_sub(1)).collect();
    let mut out = terminal_safe(&cut);
    out.push('…');
    out
}

fn kind_style(kind: EventKind) -> Style {
    let color = match kind {
        EventKind::SignIn => Color::Cyan,
        EventKind::Audit => Color::Magenta,
        EventKind::Tool => Color::Green,
        EventKind::Request => Color::Blue,
        EventKind::Dependency => Color::LightBlue,
        EventKind::Trace => Color::Gray,
        EventKind::Exception => Color::Red,
        EventKind::Event => Color::White,
        EventKind::Flow => Color::Yellow,
        EventKind::Gateway => Color::LightCyan,
        EventKind::Ask => Color::LightMagenta,
    };
    Style::default().fg(color)
}

fn severity_style(severity: u8) -> Style {
    match severity {
        2 => Style::default().fg(Color::Red),
        1 => Style::default().fg(Color::Yellow),
        _ => Style::default(),
    }
}

/// Draws the whole screen and records the areas the mouse needs.
pub fn draw(frame: &mut Frame<'_>, app: &mut App) {
    let area = frame.area();
    let detail_height = if app.detail_zoom {
        area.height.saturating_sub(6)
    } else {
        (area.height / 3).clamp(6, 14)
    };
    let activity_rows = match &app.lanes {
        Some(lanes) => (lanes.by_identity.len() as u16).clamp(1, app.histogram_rows.max(6)),
        None => app.histogram_rows,
    };
    let [header, histogram, middle, detail, status] = Layout::vertical([
        Constraint::Length(1),
        // The top border and the time axis.
        Constraint::Length(activity_rows + 2),
        Constraint::Min(3),
        Constraint::Length(detail_height),
        Constraint::Length(1),
    ])
    .areas(area);
    // Below 100 columns the identity list shows only while it has the focus (Tab), so the
    // events keep room for their user column.
    let identity_width = if area.width >= 100 {
        (area.width / 5).clamp(16, 34)
    } else if app.focus == Focus::Identities {
        area.width / 2
    } else {
        0
    };
    let [identities, events] =
        Layout::horizontal([Constraint::Length(identity_width), Constraint::Min(20)]).areas(middle);

    draw_events(frame, app, events);
    draw_header(frame, app, header);
    if app.lanes.is_some() {
        draw_lanes(frame, app, histogram);
    } else {
        draw_histogram(frame, app, histogram);
    }
    if identity_width > 0 {
        draw_identities(frame, app, identities);
    } else {
        app.areas.identity_rows = Rect::default();
    }
    draw_detail(frame, app, detail);
    draw_status(frame, app, status);
    if app.mode == Mode::Help {
        draw_help(frame, area, app.help_scroll);
    }
}

fn draw_header(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let loading = if let Some(at) = app.stopped_at {
        format!(
            " · LOADED ONLY UP TO {} (--events-mib)",
            app.format_time(at)
        )
    } else if app.loaded {
        String::new()
    } else {
        format!(" · loading {}/{}", app.progress.0, app.progress.1)
    };
    let zone = if app.show_zone {
        app.context.zone_label.as_str()
    } else {
        "UTC"
    };
    let mut spans = vec![Span::styled(
        " mcpforensics timeline ",
        Style::default().add_modifier(Modifier::BOLD),
    )];
    if app.case_files.is_some() {
        // First, where it cannot be cut off: the events may miss rows or hold planted ones.
        spans.push(Span::styled(
            "CASE FILES NOT AS IN MANIFEST: run verify ",
            Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
        ));
    }
    spans.extend([
        Span::raw(format!(
            "· {} · {} → {} · {} of {} events{loading} · {zone} · ",
            safe(&app.context.case_label, 60),
            app.format_time(app.context.from),
            app.format_time(app.context.to),
            app.visible_len(),
            app.store.len(),
        )),
        Span::styled(
            safe(&app.breadcrumb(), 200),
            Style::default().fg(Color::Yellow),
        ),
    ]);
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// Buckets summed into `width` columns.
fn columns_of(buckets: &[u32], width: usize) -> Vec<u32> {
    (0..width)
        .map(|x| {
            let start = x * HISTOGRAM_BUCKETS / width;
            let end = ((x + 1) * HISTOGRAM_BUCKETS / width).max(start + 1);
            buckets[start..end.min(HISTOGRAM_BUCKETS)].iter().sum()
        })
        .collect()
}

/// Splits the activity area into its bars and the time axis below them (when there is room).
fn with_axis(inner: Rect) -> (Rect, Option<Rect>) {
    if inner.height < 2 {
        return (inner, None);
    }
    let [bars, axis] = Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(inner);
    (bars, Some(axis))
}

/// The time axis of `width` columns over the window, starting `indent` columns in: a tick and
/// `MM-DD HH:MM` (in the zone the times are shown in) about every 18 columns, the first at the
/// window's start.
fn time_axis(app: &App, indent: usize, width: usize) -> Line<'static> {
    const LABEL: usize = 11;
    const EVERY: usize = 18;
    let mut text = " ".repeat(indent);
    if width < LABEL + 1 {
        return Line::from(text);
    }
    let span = i128::from((app.context.to - app.context.from).max(1));
    let labels = (width / EVERY).max(1);
    let mut column = 0;
    for i in 0..labels {
        let x = i * (width - LABEL - 1) / labels.max(2).saturating_sub(1).max(1);
        let x = if labels == 1 { 0 } else { x };
        if x < column {
            continue;
        }
        text.push_str(&" ".repeat(x - column));
        let ns = app.context.from + ((span * x as i128) / width as i128) as i64;
        let full = app.format_time(ns);
        // `YYYY-MM-DD HH:MM…` → `MM-DD HH:MM`.
        let label = full.get(5..16).unwrap_or(&full);
        text.push('╵');
        text.push_str(label);
        column = x + 1 + label.chars().count();
    }
    Line::from(Span::styled(text, Style::default().fg(Color::DarkGray)))
}

fn draw_lanes(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let block = Block::default()
        .borders(Borders::TOP)
        .title(" lanes: events per identity over the window (red: suspicious; L hides) ");
    let (inner, axis) = with_axis(block.inner(area));
    frame.render_widget(block, area);
    let Some(lanes) = &app.lanes else {
        return;
    };
    let label_width = usize::from(inner.width / 5).clamp(8, 30);
    let width = usize::from(inner.width).saturating_sub(label_width + 1);
    if width == 0 || inner.height == 0 {
        return;
    }
    if let Some(axis) = axis {
        frame.render_widget(Paragraph::new(time_axis(app, label_width + 1, width)), axis);
    }
    const SHADES: [char; 5] = [' ', '░', '▒', '▓', '█'];
    let suspects = app.marks.as_ref().map(|m| &m.suspects);
    let lines: Vec<Line<'_>> = lanes
        .ordered(suspects, usize::from(inner.height))
        .into_iter()
        .map(|lane| {
            let counts = columns_of(lane.events, width);
            let flagged = columns_of(lane.flagged, width);
            let peak = counts.iter().copied().max().unwrap_or(0).max(1);
            let label_style = if lane.suspect {
                Style::default().fg(Color::Red).add_modifier(Modifier::BOLD)
            } else {
                Style::default()
            };
            let mut spans = vec![Span::styled(
                format!(
                    "{:<label_width$} ",
                    safe(lane.name, label_width.saturating_sub(1))
                ),
                label_style,
            )];
            spans.extend(counts.iter().zip(&flagged).map(|(&count, &marks)| {
                let shade = if count == 0 {
                    0
                } else {
                    ((count as usize * 4).div_ceil(peak as usize)).clamp(1, 4)
                };
                let style = if marks > 0 {
                    Style::default().fg(Color::Red)
                } else {
                    Style::default().fg(Color::Cyan)
                };
                Span::styled(SHADES[shade].to_string(), style)
            }));
            Line::from(spans)
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

fn draw_histogram(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let block = Block::default()
        .borders(Borders::TOP)
        .title(" activity (visible range highlighted, suspicious in red; + - L) ");
    let (inner, axis) = with_axis(block.inner(area));
    frame.render_widget(block, area);
    let width = usize::from(inner.width);
    if width == 0 || inner.height == 0 {
        return;
    }
    if let Some(axis) = axis {
        frame.render_widget(Paragraph::new(time_axis(app, 0, width)), axis);
    }
    let columns = columns_of(&app.histogram, width);
    let flagged = columns_of(&app.flagged_histogram, width);
    let peak = columns.iter().copied().max().unwrap_or(0).max(1);
    // The columns covering the events on screen.
    let span = (app.context.to - app.context.from).max(1) as i128;
    let column_of = |ns: i64| -> usize {
        let offset = (i128::from(ns) - i128::from(app.context.from)).clamp(0, span - 1);
        ((offset * width as i128) / span) as usize
    };
    let first_time = app
        .visible_index(app.offset)
        .and_then(|i| app.store.time(i));
    let last_row = (app.offset + app.page.max(1))
        .min(app.visible_len())
        .saturating_sub(1);
    let last_time = app.visible_index(last_row).and_then(|i| app.store.time(i));
    let marked = match (first_time, last_time) {
        (Some(a), Some(b)) => column_of(a)..=column_of(b),
        _ => usize::MAX..=usize::MAX,
    };
    const BARS: [char; 9] = [' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let levels = usize::from(inner.height) * 8;
    let heights: Vec<usize> = columns
        .iter()
        .map(|&c| {
            if c == 0 {
                0
            } else {
                ((c as usize * levels).div_ceil(peak as usize)).max(1)
            }
        })
        .collect();
    let lines: Vec<Line<'_>> = (0..inner.height)
        .map(|row| {
            let floor = usize::from(inner.height - 1 - row) * 8;
            let spans: Vec<Span<'_>> = heights
                .iter()
                .enumerate()
                .map(|(x, &h)| {
                    let fill = h.saturating_sub(floor).min(8);
                    let colour = if flagged[x] > 0 {
                        Color::Red
                    } else if marked.contains(&x) {
                        Color::Yellow
                    } else {
                        Color::Cyan
                    };
                    let mut style = Style::default().fg(colour);
                    if marked.contains(&x) {
                        style = style.bg(Color::DarkGray);
                    }
                    Span::styled(BARS[fill].to_string(), style)
                })
                .collect();
            Line::from(spans)
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

fn draw_identities(frame: &mut Frame<'_>, app: &mut App, area: Rect) {
    let focused = app.focus == Focus::Identities;
    let block = Block::default()
        .borders(Borders::ALL)
        .title(" identities ")
        .border_style(if focused {
            Style::default().fg(Color::Yellow)
        } else {
            Style::default()
        });
    let inner = block.inner(area);
    app.areas.identity_rows = inner;
    let agent_column = app.identities.iter().any(|r| r.agent);
    let name_width = usize::from(inner.width).saturating_sub(9 + usize::from(agent_column));
    let items: Vec<ListItem<'_>> = app
        .identities
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let chosen = match &app.identity {
                Some(name) => *name == row.name,
                None => i == 0,
            };
            // `!` a suspect, `•` the lane shown; then, when the case has AI agents (Entra Agent
            // ID), `A` for each of them.
            let mut mark = String::from(if row.suspect {
                "!"
            } else if chosen {
                "•"
            } else {
                " "
            });
            if agent_column {
                mark.push(if row.agent { 'A' } else { ' ' });
            }
            let style = if row.suspect {
                Style::default().fg(Color::Red).add_modifier(Modifier::BOLD)
            } else if row.agent {
                Style::default().fg(Color::Cyan)
            } else {
                Style::default()
            };
            ListItem::new(Line::from(vec![
                Span::styled(mark, style),
                Span::styled(
                    format!(
                        "{:<name_width$}",
                        safe(&row.name, name_width.saturating_sub(1))
                    ),
                    style,
                ),
                Span::raw(format!("{:>7}", row.events)),
            ]))
        })
        .collect();
    let mut state = ListState::default().with_selected(Some(app.identity_cursor));
    let list = List::new(items).block(block).highlight_style(if focused {
        Style::default().add_modifier(Modifier::REVERSED)
    } else {
        Style::default().add_modifier(Modifier::UNDERLINED)
    });
    frame.render_stateful_widget(list, area, &mut state);
}

fn pivot_cell_style(app: &App, column: PivotColumn, selected: bool) -> Style {
    if selected && app.column == column {
        Style::default()
            .fg(Color::Black)
            .bg(Color::Yellow)
            .add_modifier(Modifier::BOLD)
    } else {
        Style::default()
    }
}

fn draw_events(frame: &mut Frame<'_>, app: &mut App, area: Rect) {
    let focused = app.focus == Focus::Timeline;
    let block = Block::default()
        .borders(Borders::ALL)
        .title(format!(
            " events · pivot from {} (h/l, p) ",
            column_title(app.column)
        ))
        .border_style(if focused {
            Style::default().fg(Color::Yellow)
        } else {
            Style::default()
        });
    let inner = block.inner(area);
    // One header row; the rest are events.
    app.page = usize::from(inner.height.saturating_sub(1)).max(1);
    app.areas.timeline_rows = Rect {
        y: inner.y + 1,
        height: inner.height.saturating_sub(1),
        ..inner
    };
    // Keep the selection on screen at this height.
    if app.selected >= app.offset + app.page {
        app.offset = app.selected + 1 - app.page;
    }
    let time_width: u16 = if app.show_zone { 31 } else { 24 };
    let columns = pivot_columns(inner.width, time_width);
    let mut widths = vec![
        Constraint::Length(3),
        Constraint::Length(time_width),
        Constraint::Length(10),
    ];
    let mut titles = vec!["", "time", "kind"];
    for (column, width) in &columns {
        widths.push(Constraint::Length(*width as u16));
        titles.push(column_title(*column));
    }
    widths.push(Constraint::Min(20));
    titles.push("summary");
    let header = Row::new(titles)
        .style(Style::default().add_modifier(Modifier::BOLD | Modifier::UNDERLINED));
    let end = (app.offset + app.page).min(app.visible_len());
    let rows: Vec<Row<'_>> = (app.offset..end)
        .filter_map(|position| {
            let index = app.visible_index(position)?;
            let event = app.store.get(index)?;
            Some(event_row(app, &event, position == app.selected, &columns))
        })
        .collect();
    let table = Table::new(rows, widths)
        .header(header)
        .block(block)
        .column_spacing(1);
    frame.render_widget(table, area);
    if app.visible_len() == 0 {
        let message = if app.store.is_empty() && !app.loaded {
            "loading events…"
        } else if app.store.is_empty() {
            "the case has no events in this window"
        } else {
            "no event matches the identity and filters (Backspace goes back)"
        };
        let at = Rect {
            y: inner.y + 2.min(inner.height.saturating_sub(1)),
            height: 1,
            ..inner
        };
        frame.render_widget(
            Paragraph::new(message).style(Style::default().fg(Color::DarkGray)),
            at,
        );
    }
}

/// The pivot columns that fit beside time, kind and a summary of at least 20 cells, in the order
/// they are dropped last to first.
fn pivot_columns(width: u16, time_width: u16) -> Vec<(PivotColumn, usize)> {
    let mut room = usize::from(width).saturating_sub(3 + usize::from(time_width) + 10 + 20 + 3);
    let mut chosen = Vec::new();
    // The user column narrows to 12 cells before it is dropped.
    let user = room.saturating_sub(1).clamp(12, 24);
    for (column, size) in [
        (PivotColumn::User, user),
        (PivotColumn::Ip, 15),
        (PivotColumn::Tool, 16),
        (PivotColumn::Session, 10),
        (PivotColumn::Customer, 10),
    ] {
        if room > size {
            room -= size + 1;
            chosen.push((column, size));
        }
    }
    // Display order: user, ip, session, tool, customer.
    chosen.sort_by_key(|(column, _)| match column {
        PivotColumn::User => 0,
        PivotColumn::Ip => 1,
        PivotColumn::Session => 2,
        PivotColumn::Tool => 3,
        PivotColumn::Customer => 4,
    });
    chosen
}

fn column_title(column: PivotColumn) -> &'static str {
    match column {
        PivotColumn::User => "user",
        PivotColumn::Ip => "ip",
        PivotColumn::Session => "session",
        PivotColumn::Tool => "tool",
        PivotColumn::Customer => "customer",
    }
}

fn event_row<'a>(
    app: &App,
    event: &Event<'_>,
    selected: bool,
    columns: &[(PivotColumn, usize)],
) -> Row<'a> {
    let flagged = app.is_flagged(event);
    let marker: String = [
        if flagged { '!' } else { ' ' },
        if app.is_bookmarked(event) { '*' } else { ' ' },
        if app.is_match(event) { '»' } else { ' ' },
    ]
    .into_iter()
    .collect();
    let cell = |column: PivotColumn, width: usize| {
        Cell::from(safe(column.value(event).unwrap_or(""), width))
            .style(pivot_cell_style(app, column, selected))
    };
    let mut style = severity_style(event.severity);
    if flagged {
        style = style.fg(Color::Red).add_modifier(Modifier::BOLD);
    }
    if app.is_match(event) {
        style = style.bg(Color::Blue);
    }
    if selected {
        style = style.add_modifier(Modifier::REVERSED);
    }
    let mut cells = vec![
        Cell::from(marker).style(Style::default().fg(Color::Red)),
        Cell::from(app.format_time(event.time)),
        Cell::from(event.kind.label()).style(kind_style(event.kind)),
    ];
    cells.extend(columns.iter().map(|(column, width)| cell(*column, *width)));
    cells.push(Cell::from(safe(&event.summary, 400)));
    Row::new(cells).style(style)
}

fn draw_detail(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let block = Block::default()
        .borders(Borders::ALL)
        .title(" detail (J/K scroll, Enter enlarges, r related) ");
    let Some(index) = app.selected_index() else {
        frame.render_widget(Paragraph::new("no event selected").block(block), area);
        return;
    };
    let Some(event) = app.store.get(index) else {
        return;
    };
    let label = Style::default().fg(Color::DarkGray);
    let field = |name: &'static str, value: Option<&str>| -> Vec<Span<'static>> {
        vec![
            Span::styled(format!("{name} "), label),
            Span::raw(format!("{}  ", safe(value.unwrap_or("-"), 120))),
        ]
    };
    let mut lines = Vec::new();
    let mut first = vec![
        Span::styled(
            app.format_time(event.time),
            Style::default().add_modifier(Modifier::BOLD),
        ),
        Span::raw("  "),
        Span::styled(event.kind.label(), kind_style(event.kind)),
        Span::raw(format!("  severity {}", event.severity)),
    ];
    if app.is_flagged(&event) {
        first.push(Span::styled(
            "  SUSPICIOUS",
            Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
        ));
    }
    if let Some(at) = app
        .bookmarks
        .find(event.source_table, &event.blob, event.line)
    {
        let note = app
            .bookmarks
            .items()
            .get(at)
            .map_or("", |b| b.note.as_str());
        first.push(Span::styled(
            format!("  bookmarked: {}", safe(note, 80)),
            Style::default().fg(Color::Yellow),
        ));
    }
    lines.push(Line::from(first));
    let mut who = field("user", event.user);
    who.extend(field("ip", event.ip));
    who.extend(field("peer", event.peer));
    who.extend(field("session", event.session));
    who.extend(field("tool", event.tool));
    who.extend(field("customers", event.customers));
    who.extend(field("operation", event.operation));
    lines.push(Line::from(who));
    lines.push(Line::from(vec![
        Span::styled("summary ", label),
        Span::raw(safe(&event.summary, 2000)),
    ]));
    let sha = app
        .context
        .blob_sha256
        .get(&event.blob)
        .unwrap_or_else(|| "(not in manifest)".into());
    lines.push(Line::from(vec![
        Span::styled("provenance ", label),
        Span::raw(format!(
            "{} line {} · table {} · blob sha256 {}",
            safe(&event.blob, 300),
            event.line,
            event.source_table,
            sha
        )),
    ]));
    match app.details.get(&index) {
        None => lines.push(Line::styled("record: reading…", label)),
        Some(Err(message)) => lines.push(Line::styled(
            format!("record: {}", safe(message, 300)),
            Style::default().fg(Color::Red),
        )),
        Some(Ok(record)) => {
            lines.push(Line::styled("record (as stored in the case):", label));
            lines.extend(record.lines().map(|l| Line::raw(safe(l, 4000))));
        }
    }
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false })
            .scroll((app.detail_scroll, 0)),
        area,
    );
}

fn draw_status(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let line = match &app.mode {
        Mode::Prompt { kind, input } => Line::from(vec![
            Span::styled(
                format!("{}: ", kind.label()),
                Style::default().fg(Color::Yellow),
            ),
            Span::raw(safe(input, 500)),
            Span::styled("█", Style::default().fg(Color::Yellow)),
        ]),
        _ => {
            let marks = match (&app.marks, &app.context.marks_note) {
                (Some(_), _) => String::new(),
                (None, Some(note)) => format!("{note} · "),
                (None, None) => "scope running… · ".into(),
            };
            Line::from(vec![
                Span::styled(format!(" {marks}"), Style::default().fg(Color::DarkGray)),
                Span::raw(safe(&app.status, 300)),
                Span::styled("   ? keys  q quit", Style::default().fg(Color::DarkGray)),
            ])
        }
    };
    frame.render_widget(Paragraph::new(line), area);
}

fn draw_help(frame: &mut Frame<'_>, area: Rect, scroll: u16) {
    let width = area.width.saturating_sub(4).min(100);
    let height = (HELP.len() as u16 + 2).min(area.height);
    let popup = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    let lines: Vec<Line<'_>> = HELP
        .iter()
        .map(|(keys, what)| {
            Line::from(vec![
                Span::styled(format!("{keys:>16}  "), Style::default().fg(Color::Yellow)),
                Span::raw(*what),
            ])
        })
        .collect();
    let title = if HELP.len() as u16 + 2 > area.height {
        " keys (j/k scroll, any other key closes) "
    } else {
        " keys (any key closes) "
    };
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines)
            .block(Block::default().borders(Borders::ALL).title(title))
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0)),
        popup,
    );
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        reason = "a test fails loudly where a value is missing"
    )]
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    use super::*;
    use crate::case::bookmarks::Bookmarks;
    use crate::timeline::loader::{Marks, Update};
    use crate::timeline::state::tests::{app, context};

    fn screen(app: &mut App) -> String {
        screen_of_size(app, 140, 34)
    }

    fn screen_of_size(app: &mut App, width: u16, height: u16) -> String {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        terminal.draw(|frame| draw(frame, app)).unwrap();
        let buffer = terminal.backend().buffer().clone();
        let mut out = String::new();
        for y in 0..buffer.area.height {
            let line: String = (0..buffer.area.width)
                .map(|x| buffer[(x, y)].symbol().to_string())
                .collect();
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }

    fn press(app: &mut App, keys: &str) {
        for c in keys.chars() {
            let code = match c {
                '\n' => KeyCode::Enter,
                c => KeyCode::Char(c),
            };
            app.on_key(KeyEvent::new(code, KeyModifiers::NONE));
        }
    }

    /// The test state with scope's marks: bob a suspect, the spray address an attacker's; and
    /// carla an identity that signed in as an AI agent.
    fn app_with_marks() -> App {
        let mut app = app();
        app.on_update(Update::Agents(
            ["carla@contoso.example".to_string()].into_iter().collect(),
        ));
        let mut marks = Marks::default();
        marks.suspects.insert("bob@contoso.example".into());
        marks.attacker_ips.insert("185.220.101.47".into());
        marks.basis = "scope since 2026-09-21T00:00:00Z: 1 suspect".into();
        app.on_update(Update::Marks(Box::new(marks)));
        app
    }

    #[test]
    fn empty_case() {
        let mut app = App::new(context(), Bookmarks::in_memory());
        app.on_update(Update::Loaded);
        insta::assert_snapshot!(screen(&mut app));
    }

    #[test]
    fn populated_timeline_with_scope_marks() {
        let mut app = app_with_marks();
        insta::assert_snapshot!(screen(&mut app));
    }

    #[test]
    fn loading_stopped_at_the_events_budget() {
        let mut app = app();
        app.on_update(Update::Stopped {
            at: crate::time::from_nanos(1_790_150_000_000_000_000),
            budget_mib: 384,
        });
        insta::assert_snapshot!(screen(&mut app));
    }

    #[test]
    fn case_files_not_as_in_the_manifest() {
        let mut app = app();
        app.on_update(Update::CaseFiles(
            "The case does not match its manifest: 1 file the manifest lists is missing \
             (tables/AppRequests/date=2026-09-21/part-a.parquet): its rows are not in this \
             analysis. Run `mcpforensics verify`."
                .into(),
        ));
        app.on_update(Update::Loaded);
        insta::assert_snapshot!(screen(&mut app));
    }

    #[test]
    fn filtered() {
        let mut app = app();
        press(&mut app, "fkind=tool\n");
        insta::assert_snapshot!(screen(&mut app));
    }

    #[test]
    fn filtered_with_or_not_and_a_network() {
        let mut app = app();
        press(
            &mut app,
            "f(kind=signin OR kind=flow) AND NOT ip in 10.0.0.0/24\n",
        );
        let text = screen(&mut app);
        assert_eq!(app.visible_len(), 2, "{text}");
        insta::assert_snapshot!(text);
    }

    #[test]
    fn a_filter_that_cannot_be_read_says_why_and_keeps_the_view() {
        let mut app = app();
        let before = app.visible_len();
        press(&mut app, "f(kind=tool OR\n");
        let text = screen(&mut app);
        assert_eq!(app.visible_len(), before, "the view is kept");
        assert!(text.contains("OR needs a term after it"), "{text}");
        insta::assert_snapshot!(text);
    }

    #[test]
    fn detail_open() {
        let mut app = app();
        press(&mut app, "jj");
        let index = app.selected_index().unwrap();
        app.on_update(Update::Detail {
            index,
            record: Ok("{\n  \"TimeGenerated\": \"2026-09-21T14:18:20Z\",\n  \"tool_name\": \"get_customer\"\n}".into()),
        });
        press(&mut app, "\n");
        insta::assert_snapshot!(screen(&mut app));
    }

    #[test]
    fn search_marks_without_hiding() {
        let mut app = app();
        press(&mut app, "/list_orders\n");
        let text = screen(&mut app);
        assert_eq!(text.matches('»').count(), 2, "{text}");
        insta::assert_snapshot!(text);
    }

    #[test]
    fn lanes_per_identity() {
        let mut app = app_with_marks();
        press(&mut app, "L");
        insta::assert_snapshot!(screen(&mut app));
    }

    #[test]
    fn a_small_terminal_keeps_list_detail_and_status() {
        let mut app = app();
        press(&mut app, "jj");
        let text = screen_of_size(&mut app, 80, 24);
        for part in ["mcpforensics timeline", "get_customer", "detail", "? keys"] {
            assert!(text.contains(part), "{part} missing at 80x24:\n{text}");
        }
        insta::assert_snapshot!(text);
        press(&mut app, "?");
        let help = screen_of_size(&mut app, 80, 24);
        assert!(help.contains("j/k scroll"), "{help}");
    }

    #[test]
    fn help() {
        let mut app = app();
        press(&mut app, "?");
        insta::assert_snapshot!(screen(&mut app));
    }

    #[test]
    fn pivot() {
        let mut app = app();
        press(&mut app, "jjlp");
        insta::assert_snapshot!(screen(&mut app));
    }

    #[test]
    fn hostile_strings_are_drawn_inert() {
        use crate::timeline::store::tests::chunk;
        let mut app = App::new(context(), Bookmarks::in_memory());
        app.on_update(Update::Chunk {
            chunk: Box::new(chunk(&[(
                1_790_000_100,
                "tool",
                Some("evil\u{1b}]0;pwned\u{7}@x"),
                "10.0.0.1",
                "run \u{1b}[2J\u{1b}[31mred\r\u{202E}gnp.exe",
            )])),
            done: 1,
            total: 1,
        });
        let text = screen(&mut app);
        assert!(
            !text
                .chars()
                .any(|c| c.is_control() && c != '\n' || c == '\u{202E}')
        );
        assert!(text.contains("\\u{1b}[2J"), "the escape is shown as text");
    }
}
