//! The timeline's state and everything a key, a click or a worker update does to it. No
//! terminal here: the view draws this state, and tests drive it with plain key events.

use std::collections::HashMap;

use ratatui::crossterm::event::{KeyEvent, MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::{Position, Rect};

use super::filter::{Field, Filter};
use super::keymap::{self, Action, KeyContext};
pub use super::keymap::{Focus, PromptKind};
use super::loader::{DetailRequest, Marks, Update};
use super::store::{Event, EventStore};
use crate::case::bookmarks::{Bookmark, Bookmarks};

/// Buckets of the activity histogram (drawn at any width by summing neighbours).
pub const HISTOGRAM_BUCKETS: usize = 1024;

/// The label of events without an identity in the identity list.
pub const NO_IDENTITY: &str = "(no identity)";

/// Input mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Moving around.
    Normal,
    /// Typing into the prompt line.
    Prompt {
        /// What for.
        kind: PromptKind,
        /// Text so far.
        input: String,
    },
    /// The key help.
    Help,
}

/// The cells a pivot can start from, in pivot order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PivotColumn {
    /// Identity.
    User,
    /// Session.
    Session,
    /// Tool.
    Tool,
    /// First customer.
    Customer,
    /// Caller or source address.
    Ip,
}

impl PivotColumn {
    const ORDER: [PivotColumn; 5] = [
        PivotColumn::User,
        PivotColumn::Session,
        PivotColumn::Tool,
        PivotColumn::Customer,
        PivotColumn::Ip,
    ];

    fn field(self) -> Field {
        match self {
            PivotColumn::User => Field::User,
            PivotColumn::Session => Field::Session,
            PivotColumn::Tool => Field::Tool,
            PivotColumn::Customer => Field::Customer,
            PivotColumn::Ip => Field::Ip,
        }
    }

    /// The cell's value in an event.
    pub fn value<'a>(self, event: &Event<'a>) -> Option<&'a str> {
        match self {
            PivotColumn::User => event.user,
            PivotColumn::Session => event.session,
            PivotColumn::Tool => event.tool,
            PivotColumn::Customer => event.customers.and_then(|c| c.split(',').next()),
            PivotColumn::Ip => event.ip,
        }
    }
}

/// One step of the breadcrumb: a filter kept or dropped.
#[derive(Debug, Clone, PartialEq)]
pub struct Crumb {
    /// The filter.
    pub filter: Filter,
    /// Drop matching events instead of keeping them.
    pub exclude: bool,
    /// Starts afresh: the identity and the earlier steps do not apply while it stands (`r`).
    pub fresh: bool,
}

/// An identity in the left pane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityRow {
    /// UPN, object id, `(anonymous)` or [`NO_IDENTITY`].
    pub name: String,
    /// Events loaded for it.
    pub events: usize,
    /// Named by scope as a suspect.
    pub suspect: bool,
    /// Signed in as an AI agent (Entra Agent ID).
    pub agent: bool,
}

/// What the main loop must do after an input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Leave the timeline.
    Quit,
}

/// Screen areas of the last frame, for the mouse.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Areas {
    /// Rows of the event list (without its header).
    pub timeline_rows: Rect,
    /// Rows of the identity list.
    pub identity_rows: Rect,
}

/// Fixed facts about what is shown.
#[derive(Debug, Clone)]
pub struct Context {
    /// Case directory, as shown.
    pub case_label: String,
    /// Window start, ns.
    pub from: i64,
    /// Window end (exclusive), ns.
    pub to: i64,
    /// The other zone `z` switches to.
    pub zone: crate::time::Zone,
    /// Its name, as given.
    pub zone_label: String,
    /// SHA-256 of each blob, from the manifest.
    pub blob_sha256: crate::case::manifest::BlobHashes,
    /// Why there are no suspect marks, when there are none to wait for.
    pub marks_note: Option<String>,
}

/// The whole timeline state.
pub struct App {
    /// Fixed facts.
    pub context: Context,
    /// Loaded events.
    pub store: EventStore,
    /// Global indices of the events that pass the identity and the filters, in time order.
    visible: Vec<u32>,
    identity_counts: HashMap<String, usize>,
    /// Identities that signed in as AI agents.
    agents: std::collections::BTreeSet<String>,
    /// Identity list as drawn.
    pub identities: Vec<IdentityRow>,
    /// Cursor in the identity list (0 is all identities).
    pub identity_cursor: usize,
    /// The identity the timeline is narrowed to.
    pub identity: Option<String>,
    /// Filters, in the order applied (the breadcrumb).
    pub crumbs: Vec<Crumb>,
    /// Position of the selection in the visible list.
    pub selected: usize,
    /// First visible row drawn.
    pub offset: usize,
    /// Rows the event list showed last frame.
    pub page: usize,
    /// Focused pane.
    pub focus: Focus,
    /// Input mode.
    pub mode: Mode,
    /// Cell a pivot starts from.
    pub column: PivotColumn,
    /// Times shown in the other zone instead of UTC.
    pub show_zone: bool,
    /// Detail pane enlarged.
    pub detail_zoom: bool,
    /// Records fetched for the detail pane, by global index.
    pub details: HashMap<usize, Result<String, String>>,
    requested_detail: Option<usize>,
    /// Bookmarks of the case.
    pub bookmarks: Bookmarks,
    /// Scope's suspect marks, once computed.
    pub marks: Option<Marks>,
    /// Last message for the status line.
    pub status: String,
    /// Chunks loaded and in all.
    pub progress: (usize, usize),
    /// Every chunk is in.
    pub loaded: bool,
    /// Loading stopped at this time (ns), short of the window's end: the events held reached
    /// `--events-mib`.
    pub stopped_at: Option<i64>,
    /// What differs between the case's files and its manifest, when anything does.
    pub case_files: Option<String>,
    /// Visible events per histogram bucket.
    pub histogram: Vec<u32>,
    /// Visible events per histogram bucket that scope marks or that failed.
    pub flagged_histogram: Vec<u32>,
    /// Rows of bars the histogram draws (`+`/`-`).
    pub histogram_rows: u16,
    /// Per-identity lanes over time, when shown (`L`).
    pub lanes: Option<Lanes>,
    /// The search: matching events are highlighted and `n`/`N` move between them.
    pub search: Option<Filter>,
    /// Lines the detail pane is scrolled by (`J`/`K`).
    pub detail_scroll: u16,
    /// Lines the key help is scrolled by.
    pub help_scroll: u16,
    /// Screen areas of the last frame.
    pub areas: Areas,
}

/// Visible events per identity and histogram bucket, for the lane view.
#[derive(Debug, Clone, Default)]
pub struct Lanes {
    /// Per identity (UPN, object id or [`NO_IDENTITY`]): events and flagged events per bucket.
    pub by_identity: HashMap<String, (Vec<u32>, Vec<u32>)>,
}

impl Lanes {
    fn add(&mut self, name: &str, bucket: usize, flagged: bool) {
        if !self.by_identity.contains_key(name) {
            self.by_identity.insert(
                name.to_string(),
                (vec![0; HISTOGRAM_BUCKETS], vec![0; HISTOGRAM_BUCKETS]),
            );
        }
        if let Some((all, marked)) = self.by_identity.get_mut(name) {
            all[bucket] += 1;
            marked[bucket] += u32::from(flagged);
        }
    }

    /// The lanes to draw, at most `rows`: identities scope names first, then by events.
    pub fn ordered(
        &self,
        suspects: Option<&std::collections::HashSet<String>>,
        rows: usize,
    ) -> Vec<Lane<'_>> {
        let mut lanes: Vec<(Lane<'_>, u64)> = self
            .by_identity
            .iter()
            .map(|(name, (events, flagged))| {
                let lane = Lane {
                    name,
                    suspect: suspects.is_some_and(|s| s.contains(name)),
                    events,
                    flagged,
                };
                (lane, events.iter().map(|&c| u64::from(c)).sum())
            })
            .collect();
        lanes.sort_by(|(a, a_total), (b, b_total)| {
            b.suspect
                .cmp(&a.suspect)
                .then(b_total.cmp(a_total))
                .then(a.name.cmp(b.name))
        });
        lanes.truncate(rows);
        lanes.into_iter().map(|(lane, _)| lane).collect()
    }
}

/// One identity's lane.
#[derive(Debug, Clone, Copy)]
pub struct Lane<'a> {
    /// The identity.
    pub name: &'a str,
    /// Named by scope.
    pub suspect: bool,
    /// Its visible events per histogram bucket.
    pub events: &'a [u32],
    /// Those of them that are suspicious.
    pub flagged: &'a [u32],
}

fn ns_to_text(ns: i64, zone: Option<crate::time::Zone>) -> String {
    let utc = crate::time::from_nanos(ns);
    match zone {
        // The offset of the event's own date: daylight saving shows.
        Some(zone) => zone.format(utc, "%Y-%m-%d %H:%M:%S%.3f %:z"),
        None => utc.format("%Y-%m-%d %H:%M:%S%.3fZ").to_string(),
    }
}

impl App {
    /// A fresh state for a window, with no events yet.
    pub fn new(context: Context, bookmarks: Bookmarks) -> Self {
        Self {
            context,
            store: EventStore::default(),
            visible: Vec::new(),
            identity_counts: HashMap::new(),
            agents: std::collections::BTreeSet::new(),
            identities: vec![IdentityRow {
                name: "(all identities)".into(),
                events: 0,
                suspect: false,
                agent: false,
            }],
            identity_cursor: 0,
            identity: None,
            crumbs: Vec::new(),
            selected: 0,
            offset: 0,
            page: 20,
            focus: Focus::Timeline,
            mode: Mode::Normal,
            column: PivotColumn::User,
            show_zone: false,
            detail_zoom: false,
            details: HashMap::new(),
            requested_detail: None,
            bookmarks,
            marks: None,
            status: "loading…".into(),
            progress: (0, 0),
            loaded: false,
            stopped_at: None,
            case_files: None,
            histogram: vec![0; HISTOGRAM_BUCKETS],
            flagged_histogram: vec![0; HISTOGRAM_BUCKETS],
            histogram_rows: 2,
            lanes: None,
            search: None,
            detail_scroll: 0,
            help_scroll: 0,
            areas: Areas::default(),
        }
    }

    /// Number of events that pass the identity and filters.
    pub fn visible_len(&self) -> usize {
        self.visible.len()
    }

    /// The global index of the n-th visible event.
    pub fn visible_index(&self, position: usize) -> Option<usize> {
        self.visible.get(position).map(|&i| i as usize)
    }

    /// The selected event's global index.
    pub fn selected_index(&self) -> Option<usize> {
        self.visible_index(self.selected)
    }

    /// The selected event.
    pub fn selected_event(&self) -> Option<Event<'_>> {
        self.selected_index().and_then(|i| self.store.get(i))
    }

    /// Time as shown: UTC, or the chosen zone after `z`.
    pub fn format_time(&self, ns: i64) -> String {
        ns_to_text(ns, self.show_zone.then_some(self.context.zone))
    }

    fn passes(&self, event: &Event<'_>) -> bool {
        let fresh = self.crumbs.iter().rposition(|c| c.fresh);
        if let (Some(identity), None) = (&self.identity, fresh) {
            let name = event.user.unwrap_or(NO_IDENTITY);
            if name != identity {
                return false;
            }
        }
        self.crumbs[fresh.unwrap_or(0)..]
            .iter()
            .all(|c| c.filter.matches(event) != c.exclude)
    }

    /// Whether scope marks the event as the attacker's, or it failed.
    pub fn is_flagged(&self, event: &Event<'_>) -> bool {
        if event.severity >= 2 {
            return true;
        }
        let Some(marks) = &self.marks else {
            return false;
        };
        marks.is_attacker(
            (event.blob.as_ref(), event.line),
            event.kind.label(),
            event.ip,
            event.peer,
        ) || marks
            .rules(event.blob.as_ref(), event.line)
            .next()
            .is_some()
    }

    fn bucket(&self, ns: i64) -> usize {
        let span = (self.context.to - self.context.from).max(1) as i128;
        let offset = (i128::from(ns) - i128::from(self.context.from)).clamp(0, span - 1);
        ((offset * HISTOGRAM_BUCKETS as i128) / span) as usize
    }

    /// Whether the event matches the search.
    pub fn is_match(&self, event: &Event<'_>) -> bool {
        self.search.as_ref().is_some_and(|s| s.matches(event))
    }

    fn rebuild_visible(&mut self) {
        let keep = self.selected_index();
        let mut visible = Vec::new();
        let mut histogram = vec![0; HISTOGRAM_BUCKETS];
        let mut flagged = vec![0; HISTOGRAM_BUCKETS];
        let mut lanes = self.lanes.as_ref().map(|_| Lanes::default());
        self.store.scan(0..self.store.len(), |index, event| {
            if self.passes(event) {
                visible.push(index as u32);
                let bucket = self.bucket(event.time);
                let marked = self.is_flagged(event);
                histogram[bucket] += 1;
                flagged[bucket] += u32::from(marked);
                if let Some(lanes) = lanes.as_mut() {
                    lanes.add(event.user.unwrap_or(NO_IDENTITY), bucket, marked);
                }
            }
        });
        self.visible = visible;
        self.histogram = histogram;
        self.flagged_histogram = flagged;
        self.lanes = lanes;
        self.selected = match keep {
            Some(index) => self.visible.partition_point(|&v| (v as usize) < index),
            None => 0,
        };
        self.clamp_selection();
    }

    fn rebuild_identities(&mut self) {
        let suspects = self.marks.as_ref().map(|m| &m.suspects);
        let mut rows: Vec<IdentityRow> = self
            .identity_counts
            .iter()
            .map(|(name, &events)| IdentityRow {
                name: name.clone(),
                events,
                suspect: suspects.is_some_and(|s| s.contains(name)),
                agent: self.agents.contains(name),
            })
            .collect();
        rows.sort_by(|a, b| {
            b.suspect
                .cmp(&a.suspect)
                .then(b.events.cmp(&a.events))
                .then(a.name.cmp(&b.name))
        });
        let chosen = self
            .identities
            .get(self.identity_cursor)
            .map(|r| r.name.clone());
        let mut list = vec![IdentityRow {
            name: "(all identities)".into(),
            events: self.store.len(),
            suspect: false,
            agent: false,
        }];
        list.extend(rows);
        self.identity_cursor = chosen
            .and_then(|name| list.iter().position(|r| r.name == name))
            .unwrap_or(0);
        self.identities = list;
    }

    fn clamp_selection(&mut self) {
        if self.visible.is_empty() {
            self.selected = 0;
            self.offset = 0;
            return;
        }
        self.selected = self.selected.min(self.visible.len() - 1);
        let page = self.page.max(1);
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + page {
            self.offset = self.selected + 1 - page;
        }
        self.offset = self.offset.min(self.visible.len().saturating_sub(page));
    }

    /// Applies a worker update.
    pub fn on_update(&mut self, update: Update) {
        match update {
            Update::Chunk { chunk, done, total } => {
                let range = self.store.push(*chunk);
                let mut names: HashMap<String, usize> = HashMap::new();
                let mut passing = Vec::new();
                self.store.scan(range, |index, event| {
                    let name = event.user.unwrap_or(NO_IDENTITY);
                    match names.get_mut(name) {
                        Some(count) => *count += 1,
                        None => {
                            names.insert(name.to_string(), 1);
                        }
                    }
                    if self.passes(event) {
                        let name = self.lanes.is_some().then(|| name.to_string());
                        passing.push((
                            index as u32,
                            self.bucket(event.time),
                            self.is_flagged(event),
                            name,
                        ));
                    }
                });
                for (name, count) in names {
                    *self.identity_counts.entry(name).or_default() += count;
                }
                for (index, bucket, marked, name) in passing {
                    self.visible.push(index);
                    self.histogram[bucket] += 1;
                    self.flagged_histogram[bucket] += u32::from(marked);
                    if let (Some(lanes), Some(name)) = (self.lanes.as_mut(), name) {
                        lanes.add(&name, bucket, marked);
                    }
                }
                self.progress = (done, total);
                self.rebuild_identities();
                self.clamp_selection();
                self.status = format!(
                    "loading: {done} of {total} chunks, {} events",
                    self.store.len()
                );
            }
            Update::Stopped { at, budget_mib } => {
                self.stopped_at = crate::time::to_nanos(at);
                self.status = format!(
                    "stopped loading at {}: the {} events loaded reached the timeline's memory \
                     (--events-mib {budget_mib}); narrow the window with --since/--until or raise \
                     --events-mib",
                    self.format_time(self.stopped_at.unwrap_or(self.context.to)),
                    self.store.len()
                );
            }
            Update::Loaded => {
                self.loaded = true;
                if let Some(statement) = &self.case_files {
                    self.status = format!("loaded {} events; {statement}", self.store.len());
                } else if self.stopped_at.is_none() {
                    self.status = format!("loaded {} events; ? for keys", self.store.len());
                }
            }
            Update::Marks(marks) => {
                self.status = marks.basis.clone();
                self.marks = Some(*marks);
                self.rebuild_identities();
                // The histogram's and lanes' marks follow scope's.
                self.rebuild_visible();
            }
            Update::Agents(names) => {
                self.agents = names;
                self.rebuild_identities();
            }
            Update::Detail { index, record } => {
                self.details.insert(index, record);
            }
            Update::CaseFiles(statement) => {
                self.status.clone_from(&statement);
                self.case_files = Some(statement);
            }
            Update::Failed(message) => {
                self.status = format!("error: {message}");
            }
        }
    }

    /// The record the detail pane needs and has not asked for yet.
    pub fn wanted_detail(&mut self) -> Option<DetailRequest> {
        let index = self.selected_index()?;
        if self.details.contains_key(&index) || self.requested_detail == Some(index) {
            return None;
        }
        let event = self.store.get(index)?;
        let request = DetailRequest {
            index,
            table: event.source_table.to_string(),
            blob: event.blob.to_string(),
            line: event.line,
            time: event.time,
        };
        self.requested_detail = Some(index);
        Some(request)
    }

    fn move_to(&mut self, position: usize) {
        if position != self.selected {
            self.detail_scroll = 0;
        }
        self.selected = position;
        self.clamp_selection();
    }

    fn move_by(&mut self, delta: isize) {
        let position = self.selected.saturating_add_signed(delta);
        self.move_to(position);
    }

    /// Moves to the next (or previous) visible event `wanted` holds for; whether there was one.
    fn find(&mut self, forward: bool, wanted: impl Fn(&Self, &Event<'_>) -> bool) -> bool {
        let total = self.visible.len();
        let candidates: Box<dyn Iterator<Item = usize>> = if forward {
            Box::new(self.selected + 1..total)
        } else {
            Box::new((0..self.selected.min(total)).rev())
        };
        for position in candidates {
            let found = self
                .visible_index(position)
                .and_then(|i| self.store.get(i))
                .is_some_and(|e| wanted(self, &e));
            if found {
                self.move_to(position);
                return true;
            }
        }
        false
    }

    fn find_match(&mut self, forward: bool) {
        let Some(search) = &self.search else {
            self.status = "no search yet: / searches, f filters".into();
            return;
        };
        let text = search.text().to_string();
        if self.find(forward, |app, event| app.is_match(event)) {
            self.status = format!("/{text}");
        } else {
            self.status = format!(
                "/{text}: no {} match in view",
                if forward { "later" } else { "earlier" }
            );
        }
    }

    /// The number of visible events the search matches.
    fn count_matches(&self) -> usize {
        // One pass in blocks (each block of summaries decompressed once), not one read an event.
        let mut count = 0;
        self.store.scan(0..self.store.len(), |_, event| {
            if self.passes(event) && self.is_match(event) {
                count += 1;
            }
        });
        count
    }

    fn find_flagged(&mut self, forward: bool) {
        if self.find(forward, |app, event| app.is_flagged(event)) {
            self.status = String::new();
            return;
        }
        self.status = format!(
            "no {} suspicious event{}",
            if forward { "later" } else { "earlier" },
            if self.marks.is_none() {
                " (failures only: no scope marks)"
            } else {
                ""
            }
        );
    }

    fn jump(&mut self, text: &str) -> Result<(), String> {
        let text = text.trim();
        let target = if let Some(rest) = text.strip_prefix('+').or_else(|| text.strip_prefix('-')) {
            let Ok(crate::time::TimeSpec::Ago(span)) = crate::time::parse_time_spec(rest) else {
                return Err(format!(
                    "{text:?}: after + or - give a span such as 2h or 30m"
                ));
            };
            let here = self.selected_event().map_or(self.context.from, |e| e.time);
            let nanos = span.num_nanoseconds().unwrap_or(i64::MAX);
            if text.starts_with('+') {
                here.saturating_add(nanos)
            } else {
                here.saturating_sub(nanos)
            }
        } else {
            let end = crate::time::from_nanos(self.context.to);
            let spec = crate::time::parse_time_spec(text)?;
            crate::time::to_nanos(spec.resolve(end)).ok_or("time out of range")?
        };
        let position = self
            .visible
            .partition_point(|&i| self.store.time(i as usize).is_some_and(|t| t < target));
        self.move_to(position);
        self.status = format!("at {}", self.format_time(target));
        Ok(())
    }

    fn push_crumb(&mut self, filter: Filter, exclude: bool) {
        self.crumbs.push(Crumb {
            filter,
            exclude,
            fresh: false,
        });
        self.rebuild_visible();
    }

    /// The breadcrumb as text.
    pub fn breadcrumb(&self) -> String {
        let mut parts = vec![self.identity.clone().unwrap_or_else(|| "all".into())];
        for crumb in &self.crumbs {
            parts.push(format!(
                "{}{}",
                if crumb.fresh {
                    "related "
                } else if crumb.exclude {
                    "not "
                } else {
                    ""
                },
                crumb.filter.text()
            ));
        }
        parts.join(" › ")
    }

    fn pivot(&mut self) {
        let Some(event) = self.selected_event() else {
            return;
        };
        let column = self.column;
        let Some(value) = column.value(&event).map(str::to_string) else {
            self.status = format!("the selected event has no {}", column.field().name());
            return;
        };
        let filter = Filter::equals(column.field(), &value);
        self.push_crumb(filter, false);
        // The next pivot starts from the next cell along user → session → tool → customer → IP.
        let at = PivotColumn::ORDER
            .iter()
            .position(|c| *c == column)
            .unwrap_or(0);
        self.column = PivotColumn::ORDER[(at + 1) % PivotColumn::ORDER.len()];
        self.status = format!("pivot: {}", self.breadcrumb());
    }

    /// Shows the events of the selected event's operation, whatever the identity and filters:
    /// a tool call with its dependencies, traces and exceptions. Backspace returns.
    fn related(&mut self) {
        let Some(event) = self.selected_event() else {
            return;
        };
        let Some(operation) = event.operation.map(str::to_string) else {
            self.status = format!(
                "this {} has no operation id: nothing ties other events to it (try p to pivot)",
                event.kind.label()
            );
            return;
        };
        // Every event of the operation, whatever the identity and filters hid.
        self.crumbs.push(Crumb {
            filter: Filter::equals(Field::Operation, &operation),
            exclude: false,
            fresh: true,
        });
        self.rebuild_visible();
        self.status = format!(
            "{} events of operation {operation} (Backspace goes back)",
            self.visible.len()
        );
    }

    /// Writes the events in view (identity and filters applied) to a new file (an existing one
    /// is refused: the prompt offers a fresh name).
    fn export_view(&mut self, path: &str) -> Result<(), String> {
        let path = std::path::Path::new(path.trim());
        let format = match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("csv") => super::export::ExportFormat::Csv,
            Some(e) if e.eq_ignore_ascii_case("jsonl") || e.eq_ignore_ascii_case("json") => {
                super::export::ExportFormat::Jsonl
            }
            _ => return Err(format!("{}: name a .csv or .jsonl file", path.display())),
        };
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let mut out = std::io::BufWriter::new(file);
        let mut written = 0u64;
        let mut result = super::export::write_header(format, &mut out);
        // The events in view, in one pass over the store's blocks.
        self.store.scan(0..self.store.len(), |_, event| {
            if result.is_ok() && self.passes(event) {
                let sha = self.context.blob_sha256.get(&event.blob);
                let tags = self.marks.as_ref().map_or_else(Vec::new, |marks| {
                    marks.tags(
                        (event.blob.as_ref(), event.line),
                        event.kind.label(),
                        event.ip,
                        event.peer,
                    )
                });
                result = super::export::write_event(event, (sha, tags), format, &mut out);
                written += 1;
            }
        });
        result
            .and_then(|()| std::io::Write::flush(&mut out))
            .map_err(|e| format!("{}: {e}", path.display()))?;
        self.status = format!(
            "wrote {written} events ({}) to {}",
            self.breadcrumb(),
            path.display()
        );
        Ok(())
    }

    fn select_identity(&mut self, cursor: usize) {
        self.identity_cursor = cursor.min(self.identities.len().saturating_sub(1));
        self.identity = match self.identity_cursor {
            0 => None,
            n => self.identities.get(n).map(|r| r.name.clone()),
        };
        self.rebuild_visible();
        self.status = format!("{} events for {}", self.visible.len(), self.breadcrumb());
    }

    fn toggle_bookmark(&mut self) {
        let Some(event) = self.selected_event() else {
            return;
        };
        if let Some(at) = self
            .bookmarks
            .find(event.source_table, &event.blob, event.line)
        {
            self.status = match self.bookmarks.remove(at) {
                Ok(_) => "bookmark removed".into(),
                Err(e) => format!("error: {e}"),
            };
        } else {
            self.mode = Mode::Prompt {
                kind: PromptKind::Note,
                input: String::new(),
            };
        }
    }

    fn save_bookmark(&mut self, note: &str) {
        let Some(event) = self.selected_event() else {
            return;
        };
        let bookmark = Bookmark {
            time: ns_to_text(event.time, None).replace(' ', "T"),
            kind: event.kind.label().into(),
            user: event.user.map(str::to_string),
            ip: event.ip.map(str::to_string),
            summary: event.summary.to_string(),
            table: event.source_table.to_string(),
            blob: event.blob.to_string(),
            line: event.line,
            blob_sha256: self.context.blob_sha256.get(&event.blob),
            note: note.trim().to_string(),
            created: crate::time::format_utc(chrono::Utc::now()),
        };
        self.status = match self.bookmarks.add(bookmark) {
            Ok(()) => format!("bookmarked ({} in the case)", self.bookmarks.items().len()),
            Err(e) => format!("error: {e}"),
        };
    }

    /// Whether an event is bookmarked.
    pub fn is_bookmarked(&self, event: &Event<'_>) -> bool {
        self.bookmarks
            .find(event.source_table, &event.blob, event.line)
            .is_some()
    }

    fn submit(&mut self, kind: PromptKind, input: &str) {
        let outcome = match kind {
            PromptKind::Filter | PromptKind::FilterOut => Filter::parse(input).map(|filter| {
                self.push_crumb(filter, kind == PromptKind::FilterOut);
                self.status = format!("{} events: {}", self.visible.len(), self.breadcrumb());
            }),
            PromptKind::Search => Filter::parse(input).map(|filter| {
                self.search = Some(filter);
                let matches = self.count_matches();
                let found = self.selected_event().is_some_and(|e| self.is_match(&e))
                    || self.find(true, |app, event| app.is_match(event));
                self.status = format!(
                    "/{}: {matches} matching events in view{}",
                    input.trim(),
                    if found || matches == 0 {
                        ""
                    } else {
                        " (none after here: N goes back)"
                    }
                );
            }),
            PromptKind::Export => self.export_view(input),
            PromptKind::Jump => self.jump(input),
            PromptKind::Note => {
                self.save_bookmark(input);
                Ok(())
            }
        };
        if let Err(message) = outcome {
            self.status = format!("error: {message}");
        }
    }

    /// Handles a key: the keymap says what it asks for, [`App::apply`] does it; returns what the
    /// main loop must do.
    pub fn on_key(&mut self, key: KeyEvent) -> Option<Effect> {
        let context = match self.mode {
            Mode::Normal => KeyContext::Normal(self.focus),
            Mode::Prompt { .. } => KeyContext::Prompt,
            Mode::Help => KeyContext::Help,
        };
        self.apply(keymap::action(context, key)?)
    }

    fn prompt(&mut self, kind: PromptKind) {
        self.mode = Mode::Prompt {
            kind,
            input: String::new(),
        };
    }

    /// Does what an action asks for; returns what the main loop must do.
    pub fn apply(&mut self, action: Action) -> Option<Effect> {
        let page = self.page.max(1) as isize;
        match action {
            Action::Quit => return Some(Effect::Quit),
            // The help: j/k scroll a help taller than the screen; any other key closes it.
            Action::HelpScroll(by) => {
                self.help_scroll = self.help_scroll.saturating_add_signed(by);
                self.mode = Mode::Help;
            }
            Action::CloseHelp => {
                self.help_scroll = 0;
                self.mode = Mode::Normal;
            }
            // The prompt line.
            Action::Submit
            | Action::Cancel
            | Action::DeleteChar
            | Action::Type(_)
            | Action::KeepPrompt => {
                let Mode::Prompt { kind, mut input } =
                    std::mem::replace(&mut self.mode, Mode::Normal)
                else {
                    return None;
                };
                match action {
                    Action::Submit => self.submit(kind, &input),
                    Action::Cancel => self.status = "cancelled".into(),
                    Action::DeleteChar => {
                        input.pop();
                        self.mode = Mode::Prompt { kind, input };
                    }
                    Action::Type(c) => {
                        input.push(c);
                        self.mode = Mode::Prompt { kind, input };
                    }
                    _ => self.mode = Mode::Prompt { kind, input },
                }
            }
            Action::Escape if self.detail_zoom => self.detail_zoom = false,
            Action::Escape if !self.crumbs.is_empty() => {
                self.crumbs.pop();
                self.rebuild_visible();
            }
            Action::Escape => {}
            Action::Help => self.mode = Mode::Help,
            Action::SwitchPane => {
                self.focus = match self.focus {
                    Focus::Timeline => Focus::Identities,
                    Focus::Identities => Focus::Timeline,
                }
            }
            Action::Prompt(kind) => self.prompt(kind),
            Action::ExportPrompt => {
                self.mode = Mode::Prompt {
                    kind: PromptKind::Export,
                    input: fresh_export_name(std::path::Path::new(".")),
                };
            }
            Action::HistogramHeight(1..) => self.histogram_rows = (self.histogram_rows + 1).min(12),
            Action::HistogramHeight(_) => {
                self.histogram_rows = self.histogram_rows.saturating_sub(1).max(1)
            }
            Action::ToggleLanes => {
                if self.lanes.is_some() {
                    self.lanes = None;
                    self.status = "lanes hidden".into();
                } else {
                    self.lanes = Some(Lanes::default());
                    self.rebuild_visible();
                    self.status = "lanes: one row per identity, scope's suspects first".into();
                }
            }
            Action::ToggleZone => {
                self.show_zone = !self.show_zone;
                self.status = if self.show_zone {
                    format!("times in {}", self.context.zone_label)
                } else {
                    "times in UTC".into()
                };
            }
            Action::ClearFilters => {
                self.crumbs.clear();
                self.search = None;
                self.rebuild_visible();
                self.status = "filters and search cleared".into();
            }
            Action::Back if !self.crumbs.is_empty() => {
                self.crumbs.pop();
                self.rebuild_visible();
                self.status = format!("back to {}", self.breadcrumb());
            }
            Action::Back => {}
            Action::MoveBy(by) => self.move_by(by),
            Action::MoveByPages(pages) => self.move_by(pages * page),
            Action::First => self.move_to(0),
            Action::Last => self.move_to(usize::MAX),
            Action::FindMatch(forward) => self.find_match(forward),
            Action::FindFlagged(forward) => self.find_flagged(forward),
            Action::Related => self.related(),
            Action::ScrollDetail(by) => {
                self.detail_scroll = self.detail_scroll.saturating_add_signed(by);
            }
            Action::PivotColumn(step) => {
                let count = PivotColumn::ORDER.len() as isize;
                let at = PivotColumn::ORDER
                    .iter()
                    .position(|c| *c == self.column)
                    .unwrap_or(0) as isize;
                self.column = PivotColumn::ORDER[(at + step).rem_euclid(count) as usize];
            }
            Action::Pivot => self.pivot(),
            Action::ToggleDetail => self.detail_zoom = !self.detail_zoom,
            Action::ToggleBookmark => self.toggle_bookmark(),
            Action::IdentityBy(by) => {
                self.identity_cursor = self
                    .identity_cursor
                    .saturating_add_signed(by)
                    .min(self.identities.len().saturating_sub(1));
            }
            Action::IdentityFirst => self.identity_cursor = 0,
            Action::IdentityLast => {
                self.identity_cursor = self.identities.len().saturating_sub(1);
            }
            Action::IdentityChoose => {
                self.select_identity(self.identity_cursor);
                self.focus = Focus::Timeline;
            }
        }
        None
    }

    /// Handles the mouse: the wheel scrolls, a click selects an event or an identity.
    pub fn on_mouse(&mut self, mouse: MouseEvent) {
        let at = Position::new(mouse.column, mouse.row);
        match mouse.kind {
            MouseEventKind::ScrollDown => self.move_by(3),
            MouseEventKind::ScrollUp => self.move_by(-3),
            MouseEventKind::Down(MouseButton::Left) => {
                if self.areas.timeline_rows.contains(at) {
                    self.focus = Focus::Timeline;
                    let row = usize::from(mouse.row - self.areas.timeline_rows.y);
                    if self.offset + row < self.visible.len() {
                        self.move_to(self.offset + row);
                    }
                } else if self.areas.identity_rows.contains(at) {
                    let row = usize::from(mouse.row - self.areas.identity_rows.y);
                    let first = self.identity_cursor.saturating_sub(
                        usize::from(self.areas.identity_rows.height).saturating_sub(1),
                    );
                    if first + row < self.identities.len() {
                        self.select_identity(first + row);
                    }
                }
            }
            _ => {}
        }
    }

    /// Selects an identity by name before the first frame (`--user`).
    pub fn preselect_identity(&mut self, name: &str) {
        self.identity = Some(name.to_string());
        self.rebuild_visible();
    }
}

/// The name `e` offers in `dir`: `timeline-view.csv`, or the first of `timeline-view-2.csv`,
/// `timeline-view-3.csv`, … that does not exist yet, so a second export never meets a refusal.
fn fresh_export_name(dir: &std::path::Path) -> String {
    (1..)
        .map(|n| {
            if n == 1 {
                "timeline-view.csv".to_string()
            } else {
                format!("timeline-view-{n}.csv")
            }
        })
        .find(|name| !dir.join(name).exists())
        .unwrap_or_else(|| "timeline-view.csv".into())
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(
        clippy::unwrap_used,
        reason = "a test fails loudly where a value is missing"
    )]
    use super::*;
    use crate::timeline::store::EventKind;
    use crate::timeline::store::tests::chunk;
    use ratatui::crossterm::event::{KeyCode, KeyModifiers};

    pub(crate) fn context() -> Context {
        Context {
            case_label: "case".into(),
            from: 1_790_000_000_000_000_000,
            to: 1_790_200_000_000_000_000,
            zone: crate::time::Zone::Fixed(chrono::FixedOffset::east_opt(2 * 3600).unwrap()),
            zone_label: "+02:00".into(),
            blob_sha256: {
                let mut hashes = crate::case::manifest::BlobHashes::default();
                hashes.insert("am-x/497222.json", &"ab".repeat(32));
                hashes
            },
            marks_note: None,
        }
    }

    /// A state with six events in two chunks, like the loader delivers them.
    pub(crate) fn app() -> App {
        let mut app = App::new(context(), Bookmarks::in_memory());
        app.on_update(Update::Chunk {
            chunk: Box::new(chunk(&[
                (
                    1_790_000_100,
                    "signin",
                    Some("bob@contoso.example"),
                    "10.0.0.5",
                    "sign-in to MCP succeeded",
                ),
                (
                    1_790_000_200,
                    "signin",
                    Some("bob@contoso.example"),
                    "185.220.101.47",
                    "sign-in to MCP succeeded",
                ),
                (
                    1_790_000_300,
                    "tool",
                    Some("bob@contoso.example"),
                    "45.86.202.14",
                    "get_customer {\"customer_id\":\"C-1001\"}",
                ),
            ])),
            done: 1,
            total: 2,
        });
        app.on_update(Update::Chunk {
            chunk: Box::new(chunk(&[
                (
                    1_790_090_000,
                    "tool",
                    Some("carla@contoso.example"),
                    "10.0.0.9",
                    "list_orders FAILED",
                ),
                (
                    1_790_100_000,
                    "tool",
                    Some("bob@contoso.example"),
                    "10.0.0.5",
                    "list_orders {}",
                ),
                (
                    1_790_150_000,
                    "flow",
                    None,
                    "10.1.0.4",
                    "10.1.0.4:443 → 91.215.85.30:443",
                ),
            ])),
            done: 2,
            total: 2,
        });
        app.on_update(Update::Loaded);
        app
    }

    #[test]
    fn a_stop_at_the_events_budget_stays_on_screen() {
        let mut app = App::new(context(), Bookmarks::in_memory());
        app.on_update(Update::Chunk {
            chunk: Box::new(chunk(&[(
                1_790_000_000,
                "signin",
                Some("bob"),
                "1.1.1.1",
                "x",
            )])),
            done: 1,
            total: 3,
        });
        let at = crate::time::from_nanos(1_790_086_400_000_000_000);
        app.on_update(Update::Stopped {
            at,
            budget_mib: 512,
        });
        app.on_update(Update::Loaded);
        assert_eq!(app.stopped_at, crate::time::to_nanos(at));
        assert!(app.loaded);
        let shown = app.format_time(1_790_086_400_000_000_000);
        assert!(
            app.status
                .starts_with(&format!("stopped loading at {shown}:"))
                && app.status.contains("the 1 events loaded")
                && app.status.contains("--events-mib 512"),
            "{}",
            app.status
        );
    }

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn press(app: &mut App, keys: &str) {
        for c in keys.chars() {
            let code = match c {
                '\n' => KeyCode::Enter,
                '\u{8}' => KeyCode::Backspace,
                '\u{1b}' => KeyCode::Esc,
                '\t' => KeyCode::Tab,
                c => KeyCode::Char(c),
            };
            app.on_key(key(code));
        }
    }

    fn selected_time(app: &App) -> i64 {
        app.selected_event().unwrap().time / 1_000_000_000
    }

    #[test]
    fn chunks_fill_the_list_identities_and_histogram() {
        let app = app();
        assert_eq!(app.visible_len(), 6);
        assert_eq!(app.progress, (2, 2));
        let names: Vec<(&str, usize)> = app
            .identities
            .iter()
            .map(|r| (r.name.as_str(), r.events))
            .collect();
        assert_eq!(
            names,
            vec![
                ("(all identities)", 6),
                ("bob@contoso.example", 4),
                ("(no identity)", 1),
                ("carla@contoso.example", 1)
            ]
        );
        assert_eq!(app.histogram.iter().sum::<u32>(), 6);
        assert_eq!(
            app.histogram[..2].iter().sum::<u32>(),
            3,
            "the first three events fall in the first buckets"
        );
    }

    #[test]
    fn moving_around() {
        let mut app = app();
        app.page = 2;
        press(&mut app, "jj");
        assert_eq!(app.selected, 2);
        assert_eq!(app.offset, 1);
        press(&mut app, "G");
        assert_eq!(app.selected, 5);
        press(&mut app, "k");
        assert_eq!(app.selected, 4);
        press(&mut app, "g");
        assert_eq!((app.selected, app.offset), (0, 0));
        app.on_key(key(KeyCode::PageDown));
        assert_eq!(app.selected, 2);
        app.on_key(key(KeyCode::PageUp));
        assert_eq!(app.selected, 0);
        press(&mut app, "k");
        assert_eq!(app.selected, 0);
        assert_eq!(app.on_key(key(KeyCode::Char('q'))), Some(Effect::Quit));
        assert_eq!(
            app.on_key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Effect::Quit)
        );
    }

    #[test]
    fn filters_pivots_and_the_breadcrumb() {
        let mut app = app();
        press(&mut app, "fkind=tool\n");
        assert_eq!(app.visible_len(), 3);
        press(&mut app, "Fseverity>=1\n");
        assert_eq!(app.visible_len(), 2);
        assert_eq!(app.breadcrumb(), "all › kind=tool › not severity>=1");
        press(&mut app, "\u{8}");
        assert_eq!(app.visible_len(), 3);
        press(&mut app, "x");
        assert_eq!(app.visible_len(), 6);
        // Pivot from the user cell of the third event, then from its session cell.
        press(&mut app, "gjjp");
        assert_eq!(app.breadcrumb(), "all › user=bob@contoso.example");
        assert_eq!(app.visible_len(), 4);
        assert_eq!(app.column, PivotColumn::Session);
        press(&mut app, "p");
        assert_eq!(app.visible_len(), 2);
        assert_eq!(selected_time(&app), 1_790_000_300);
        press(&mut app, "\u{1b}\u{1b}");
        assert_eq!(app.visible_len(), 6);
        assert_eq!(
            selected_time(&app),
            1_790_000_300,
            "the selection survives filters"
        );
        press(&mut app, "fcolour=red\n");
        assert!(app.status.contains("unknown field"));
        assert_eq!(app.visible_len(), 6);
    }

    #[test]
    fn search_marks_matches_and_moves_between_them_without_hiding_any() {
        let mut app = app();
        press(&mut app, "/list_orders\n");
        assert_eq!(app.visible_len(), 6, "a search hides nothing");
        assert_eq!(
            selected_time(&app),
            1_790_090_000,
            "it moves to the first match"
        );
        assert!(app.status.contains("2 matching events"), "{}", app.status);
        press(&mut app, "n");
        assert_eq!(selected_time(&app), 1_790_100_000);
        press(&mut app, "n");
        assert!(app.status.contains("no later match"), "{}", app.status);
        assert_eq!(selected_time(&app), 1_790_100_000);
        press(&mut app, "N");
        assert_eq!(selected_time(&app), 1_790_090_000);
        // Filters and search are separate: a filter narrows, the search still marks.
        press(&mut app, "fuser=bob@contoso.example\n");
        assert_eq!(app.visible_len(), 4);
        press(&mut app, "g");
        press(&mut app, "n");
        assert_eq!(
            selected_time(&app),
            1_790_100_000,
            "carla's call is filtered out"
        );
        assert!(app.is_match(&app.selected_event().unwrap()));
        press(&mut app, "x");
        assert!(app.search.is_none() && app.crumbs.is_empty());
        press(&mut app, "n");
        assert!(app.status.starts_with("no search yet"), "{}", app.status);
    }

    #[test]
    fn related_keeps_the_selected_calls_operation() {
        let mut app = App::new(context(), Bookmarks::in_memory());
        app.on_update(Update::Chunk {
            chunk: Box::new(chunk(&[
                (1_790_000_100, "signin", Some("bob"), "1.1.1.1", "sign-in"),
                (
                    1_790_000_300,
                    "tool",
                    Some("bob"),
                    "1.1.1.1",
                    "export_customers {}",
                ),
                (
                    1_790_000_310,
                    "dependency",
                    Some("bob"),
                    "mcp-crm",
                    "SQL crmdb",
                ),
                (
                    1_790_000_320,
                    "trace",
                    Some("bob"),
                    "1.1.1.1",
                    "exported 900 rows",
                ),
                (
                    1_790_002_000,
                    "tool",
                    Some("bob"),
                    "1.1.1.1",
                    "get_customer {}",
                ),
            ])),
            done: 1,
            total: 1,
        });
        press(&mut app, "r");
        assert!(app.status.contains("has no operation id"), "{}", app.status);
        assert_eq!(app.visible_len(), 5);
        press(&mut app, "j");
        press(&mut app, "r");
        let kinds: Vec<EventKind> = (0..app.visible_len())
            .map(|p| app.store.get(app.visible_index(p).unwrap()).unwrap().kind)
            .collect();
        assert_eq!(
            kinds,
            [EventKind::Tool, EventKind::Dependency, EventKind::Trace],
            "the call, its SQL and its trace; not the later call"
        );
        assert_eq!(app.breadcrumb(), "all › related operation=op-1790000");
        press(&mut app, "\u{8}");
        assert_eq!(app.visible_len(), 5);
        // Related ignores the filters that hid the rest of the operation, until Backspace.
        press(&mut app, "fkind=tool\n");
        assert_eq!(app.visible_len(), 2);
        press(&mut app, "r");
        assert_eq!(app.visible_len(), 3);
        press(&mut app, "\u{8}");
        assert_eq!(app.visible_len(), 2);
    }

    #[test]
    fn the_view_exports_as_filtered_and_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bob.csv");
        let mut app = app();
        press(&mut app, "fuser=bob@contoso.example\n");
        let typed = format!("e{}{}\n", "\u{8}".repeat(40), path.display());
        press(&mut app, &typed);
        assert!(app.status.starts_with("wrote 4 events"), "{}", app.status);
        let written = std::fs::read_to_string(&path).unwrap();
        let body = written.strip_prefix('\u{feff}').expect("a byte-order mark");
        let lines: Vec<&str> = body.split("\r\n").filter(|l| !l.is_empty()).collect();
        assert_eq!(lines.len(), 5, "header and the four events in view");
        assert!(lines[0].starts_with("datetime,timestamp_desc,message,kind,user"));
        assert!(lines[0].ends_with(",blob_sha256,operation_id,tag"));
        assert!(lines[1..].iter().all(|l| l.contains("bob@contoso.example")));
        assert!(
            lines[3].contains(&"ab".repeat(32)) && lines[3].contains("op-1790000"),
            "the call carries its blob's hash and operation: {}",
            lines[3]
        );
        press(&mut app, &typed);
        assert!(app.status.starts_with("error:"), "{}", app.status);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), written);
        let jsonl = dir.path().join("bob.jsonl");
        press(
            &mut app,
            &format!("e{}{}\n", "\u{8}".repeat(40), jsonl.display()),
        );
        let rows: Vec<serde_json::Value> = std::fs::read_to_string(&jsonl)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(rows.len(), 4);
        assert_eq!(rows[2]["operation_id"], "op-1790000");
        press(
            &mut app,
            &format!(
                "e{}{}\n",
                "\u{8}".repeat(40),
                dir.path().join("x.txt").display()
            ),
        );
        assert!(
            app.status.contains("name a .csv or .jsonl file"),
            "{}",
            app.status
        );
    }

    #[test]
    fn lanes_histogram_marks_and_detail_scrolling() {
        let mut app = app();
        let mut marks = Marks::default();
        marks.attacker_ips.insert("185.220.101.47".into());
        marks.suspects.insert("carla@contoso.example".into());
        marks
            .attacker_rows
            .insert("am-x/497222.json".into(), [3].into_iter().collect());
        app.on_update(Update::Marks(Box::new(marks)));
        assert_eq!(
            app.flagged_histogram.iter().sum::<u32>(),
            3,
            "the failure, the attacker address's sign-in and the attacker call"
        );
        press(&mut app, "L");
        let lanes = app.lanes.as_ref().unwrap();
        let suspects = app.marks.as_ref().map(|m| &m.suspects);
        let order: Vec<(&str, bool, u32)> = lanes
            .ordered(suspects, 10)
            .into_iter()
            .map(|lane| (lane.name, lane.suspect, lane.events.iter().sum()))
            .collect();
        assert_eq!(
            order,
            [
                ("carla@contoso.example", true, 1),
                ("bob@contoso.example", false, 4),
                (NO_IDENTITY, false, 1),
            ],
            "suspects first, then by events"
        );
        press(&mut app, "fkind=tool\n");
        let lanes = app.lanes.as_ref().unwrap();
        assert_eq!(lanes.by_identity.len(), 2, "lanes follow the filters");
        press(&mut app, "L");
        assert!(app.lanes.is_none());
        press(&mut app, "++++");
        assert_eq!(app.histogram_rows, 6);
        press(&mut app, "----------");
        assert_eq!(app.histogram_rows, 1);
        press(&mut app, "JJJ");
        assert_eq!(app.detail_scroll, 3);
        press(&mut app, "K");
        assert_eq!(app.detail_scroll, 2);
        press(&mut app, "j");
        assert_eq!(
            app.detail_scroll, 0,
            "a new event shows its detail from the top"
        );
    }

    #[test]
    fn identities_narrow_the_timeline() {
        let mut app = app();
        press(&mut app, "\tjj\n");
        assert_eq!(app.identity.as_deref(), Some("(no identity)"));
        assert_eq!(app.visible_len(), 1);
        assert_eq!(app.focus, Focus::Timeline);
        press(&mut app, "\tg\n");
        assert_eq!(app.identity, None);
        assert_eq!(app.visible_len(), 6);
    }

    #[test]
    fn jumps_and_suspicious_events() {
        let mut app = app();
        press(&mut app, "t2026-09-22\n");
        assert_eq!(selected_time(&app), 1_790_090_000);
        press(&mut app, "t-25h\n");
        assert_eq!(selected_time(&app), 1_790_000_100);
        press(&mut app, "t+25h\n");
        assert_eq!(selected_time(&app), 1_790_100_000);
        press(&mut app, "tsoon\n");
        assert!(app.status.starts_with("error:"));
        press(&mut app, "g");
        // Without scope only failures are suspicious.
        press(&mut app, "s");
        assert_eq!(selected_time(&app), 1_790_090_000);
        press(&mut app, "s");
        assert!(app.status.contains("no later suspicious event"));
        let mut marks = Marks::default();
        marks.attacker_ips.insert("185.220.101.47".into());
        marks.suspects.insert("bob@contoso.example".into());
        marks
            .attacker_rows
            .insert("am-x/497222.json".into(), [3].into_iter().collect());
        app.on_update(Update::Marks(Box::new(marks)));
        press(&mut app, "S");
        assert_eq!(
            selected_time(&app),
            1_790_000_300,
            "the attacker call is flagged"
        );
        press(&mut app, "S");
        assert_eq!(
            selected_time(&app),
            1_790_000_200,
            "the spray-address sign-in is flagged"
        );
        assert!(app.identities[1].suspect);
    }

    #[test]
    fn sigma_hits_are_suspicious_events() {
        let mut app = app();
        let flagged = |app: &mut App| {
            press(app, "g");
            let mut times = Vec::new();
            for _ in 0..10 {
                press(app, "s");
                if app.status.contains("no later suspicious event") {
                    break;
                }
                times.push(selected_time(app));
            }
            times
        };
        assert!(!flagged(&mut app).contains(&1_790_000_300));
        let mut marks = Marks::default();
        marks.rule_rows.insert(
            "am-x/497222.json".into(),
            [(3, "MCP Tool Told to Send Data to a URL".to_string())]
                .into_iter()
                .collect(),
        );
        app.on_update(Update::Marks(Box::new(marks)));
        assert!(
            flagged(&mut app).contains(&1_790_000_300),
            "the rule's record is flagged"
        );
    }

    #[test]
    fn bookmarks_take_a_note_and_toggle() {
        let mut app = app();
        press(&mut app, "bfirst export\n");
        assert_eq!(app.bookmarks.items().len(), 1);
        let mark = &app.bookmarks.items()[0];
        assert_eq!(mark.note, "first export");
        assert_eq!(mark.time, "2026-09-21T14:15:00.000Z");
        assert_eq!(mark.blob_sha256.as_deref(), Some("ab".repeat(32).as_str()));
        assert!(app.is_bookmarked(&app.selected_event().unwrap()));
        press(&mut app, "b");
        assert!(app.bookmarks.items().is_empty());
        press(&mut app, "b\u{1b}");
        assert!(app.bookmarks.items().is_empty(), "Esc cancels the note");
    }

    #[test]
    fn details_are_asked_for_once() {
        let mut app = app();
        let request = app.wanted_detail().unwrap();
        assert_eq!(
            (request.index, request.table.as_str(), request.line),
            (0, "SigninLogs", 1)
        );
        assert!(app.wanted_detail().is_none());
        app.on_update(Update::Detail {
            index: 0,
            record: Ok("{}".into()),
        });
        press(&mut app, "jk");
        assert!(app.wanted_detail().is_none(), "cached");
        press(&mut app, "j");
        assert_eq!(app.wanted_detail().unwrap().index, 1);
    }

    #[test]
    fn zone_toggle_and_help() {
        let mut app = app();
        let t = app.selected_event().unwrap().time;
        assert_eq!(app.format_time(t), "2026-09-21 14:15:00.000Z");
        press(&mut app, "z");
        assert_eq!(app.format_time(t), "2026-09-21 16:15:00.000 +02:00");
        // A named zone gives each time the offset of its own date.
        app.context.zone = crate::time::Zone::parse("Europe/Berlin").unwrap();
        let december =
            crate::time::to_nanos(crate::time::parse_timestamp("2026-12-01T12:00:00Z").unwrap())
                .unwrap();
        assert_eq!(app.format_time(t), "2026-09-21 16:15:00.000 +02:00");
        assert_eq!(app.format_time(december), "2026-12-01 13:00:00.000 +01:00");
        press(&mut app, "?");
        assert_eq!(app.mode, Mode::Help);
        press(&mut app, "jj");
        assert_eq!(
            (app.mode.clone(), app.help_scroll),
            (Mode::Help, 2),
            "j scrolls the help"
        );
        press(&mut app, "G");
        assert_eq!((app.mode.clone(), app.help_scroll), (Mode::Normal, 0));
        assert_eq!(
            app.selected, 0,
            "the key that closes help does nothing else"
        );
    }

    #[test]
    fn mouse_scrolls_and_clicks() {
        let mut app = app();
        app.areas = Areas {
            timeline_rows: Rect::new(30, 5, 100, 10),
            identity_rows: Rect::new(0, 5, 28, 10),
        };
        let mouse = |kind, column, row| MouseEvent {
            kind,
            column,
            row,
            modifiers: KeyModifiers::NONE,
        };
        app.on_mouse(mouse(MouseEventKind::ScrollDown, 40, 6));
        assert_eq!(app.selected, 3);
        app.on_mouse(mouse(MouseEventKind::Down(MouseButton::Left), 40, 6));
        assert_eq!(app.selected, 1);
        app.on_mouse(mouse(MouseEventKind::Down(MouseButton::Left), 3, 8));
        assert_eq!(app.identity.as_deref(), Some("carla@contoso.example"));
        assert_eq!(app.visible_len(), 1);
    }

    #[test]
    fn the_export_prompt_offers_a_name_that_does_not_exist() {
        let dir = tempfile::tempdir().expect("dir");
        assert_eq!(fresh_export_name(dir.path()), "timeline-view.csv");
        std::fs::write(dir.path().join("timeline-view.csv"), b"first").expect("write");
        assert_eq!(fresh_export_name(dir.path()), "timeline-view-2.csv");
        std::fs::write(dir.path().join("timeline-view-2.csv"), b"second").expect("write");
        assert_eq!(fresh_export_name(dir.path()), "timeline-view-3.csv");
    }
}
