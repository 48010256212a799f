//! The loaded timeline: every event of the window, in time order, held column-wise in chunks as
//! the loader delivers them, so a million events cost tens of bytes each and rows are read only
//! when drawn. Repeated text (users, addresses, tools, blobs) is held once per chunk behind keys
//! of the narrowest width that fits; summaries, mostly unique, are compressed in blocks of
//! [`TEXT_BLOCK_ROWS`] and decompressed a block at a time when read.

use std::borrow::Cow;
use std::sync::{Arc, Mutex};

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Int64Type, TimeUnit, UInt64Type};

/// What an event is, by the source it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventKind {
    /// Entra sign-in (interactive or not).
    SignIn,
    /// Entra audit entry.
    Audit,
    /// MCP `tools/call` (server telemetry or APIM).
    Tool,
    /// Any other request to the MCP server.
    Request,
    /// An outgoing call from the server.
    Dependency,
    /// A log line.
    Trace,
    /// An exception.
    Exception,
    /// A custom event.
    Event,
    /// A network flow tuple.
    Flow,
    /// A request through API Management (its gateway log), other than an MCP tool call.
    Gateway,
    /// A request the MCP server sent its client: `sampling/createMessage` (the client's model is
    /// to generate text for the server), `elicitation/create` (the user is asked for input),
    /// `roots/list`.
    Ask,
}

impl EventKind {
    /// Every kind, in display order.
    pub const ALL: [EventKind; 11] = [
        EventKind::SignIn,
        EventKind::Audit,
        EventKind::Tool,
        EventKind::Request,
        EventKind::Dependency,
        EventKind::Trace,
        EventKind::Exception,
        EventKind::Event,
        EventKind::Flow,
        EventKind::Gateway,
        EventKind::Ask,
    ];

    /// The name used in the timeline SQL and in filters.
    pub fn label(self) -> &'static str {
        match self {
            EventKind::SignIn => "signin",
            EventKind::Audit => "audit",
            EventKind::Tool => "tool",
            EventKind::Request => "request",
            EventKind::Dependency => "dependency",
            EventKind::Trace => "trace",
            EventKind::Exception => "exception",
            EventKind::Event => "event",
            EventKind::Flow => "flow",
            EventKind::Gateway => "gateway",
            EventKind::Ask => "ask",
        }
    }

    /// The kind with this label.
    pub fn from_label(label: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.label() == label)
    }
}

/// Errors turning query output into timeline chunks.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A column the timeline query promises is missing or has another type.
    #[error("timeline query column {0} is missing or has an unexpected type")]
    Column(&'static str),
    /// An unknown event kind.
    #[error("timeline query returned an unknown event kind {0:?}")]
    Kind(String),
    /// Arrow could not cast a column.
    #[error(transparent)]
    Arrow(#[from] arrow::error::ArrowError),
}

/// One delivered slice of the timeline, column-wise.
#[derive(Debug)]
pub struct Chunk {
    time: Vec<i64>,
    kind: Vec<EventKind>,
    severity: Vec<u8>,
    line: Narrow,
    user: Distinct,
    ip: Distinct,
    peer: Distinct,
    session: Distinct,
    tool: Distinct,
    summary: PackedText,
    customers: Distinct,
    source_table: Distinct,
    blob: SplitText,
    operation: Distinct,
}

/// Unsigned integers, each held in the narrowest width the largest of them needs.
#[derive(Debug, Clone)]
enum Narrow {
    U8(Box<[u8]>),
    U16(Box<[u16]>),
    U32(Box<[u32]>),
    U64(Box<[u64]>),
}

impl Narrow {
    fn new(values: &[u64]) -> Self {
        let max = values.iter().copied().max().unwrap_or(0);
        // Each narrowing is exact: no value exceeds `max`.
        if max <= u64::from(u8::MAX) {
            Narrow::U8(values.iter().map(|&v| v as u8).collect())
        } else if max <= u64::from(u16::MAX) {
            Narrow::U16(values.iter().map(|&v| v as u16).collect())
        } else if max <= u64::from(u32::MAX) {
            Narrow::U32(values.iter().map(|&v| v as u32).collect())
        } else {
            Narrow::U64(values.into())
        }
    }

    fn memory_size(&self) -> usize {
        match self {
            Narrow::U8(v) => v.len(),
            Narrow::U16(v) => v.len() * 2,
            Narrow::U32(v) => v.len() * 4,
            Narrow::U64(v) => v.len() * 8,
        }
    }

    fn get(&self, row: usize) -> u64 {
        match self {
            Narrow::U8(v) => u64::from(v[row]),
            Narrow::U16(v) => u64::from(v[row]),
            Narrow::U32(v) => u64::from(v[row]),
            Narrow::U64(v) => v[row],
        }
    }
}

/// A text column holding each distinct value once: users, addresses, tools, tables and blob
/// paths repeat across a chunk's events, so this is a fraction of one string per event.
#[derive(Debug, Clone)]
struct Distinct {
    /// Per row: 0 for none, else 1 + the index into `values`.
    keys: Narrow,
    values: StringArray,
}

impl Distinct {
    fn new(arrays: &[StringArray]) -> Self {
        let (keys, distinct) = intern(arrays);
        let bytes = distinct.iter().map(|v| v.len()).sum();
        let mut values = arrow::array::StringBuilder::with_capacity(distinct.len(), bytes);
        for value in distinct {
            values.append_value(value);
        }
        Self {
            keys,
            values: values.finish(),
        }
    }

    fn memory_size(&self) -> usize {
        self.keys.memory_size() + self.values.get_buffer_memory_size()
    }

    fn get(&self, row: usize) -> Option<&str> {
        let key = self.keys.get(row);
        (key != 0).then(|| self.values.value(key as usize - 1))
    }
}

/// Per row: 0 for none, else 1 + the index of its text among the distinct texts; and those, in
/// order of first appearance.
fn intern(arrays: &[StringArray]) -> (Narrow, Vec<&str>) {
    let mut index: std::collections::HashMap<&str, u64> = std::collections::HashMap::new();
    let mut distinct = Vec::new();
    let keys: Vec<u64> = rows(arrays)
        .map(|value| match value {
            None => 0,
            Some(text) => *index.entry(text).or_insert_with(|| {
                distinct.push(text);
                distinct.len() as u64
            }),
        })
        .collect();
    (Narrow::new(&keys), distinct)
}

/// The rows of a column delivered in several arrays.
fn rows(arrays: &[StringArray]) -> impl Iterator<Item = Option<&str>> {
    arrays.iter().flat_map(|a| a.iter())
}

/// Blob paths: each split before its time folders (`…/y=2026/m=08/d=07/h=05/…`), and both parts
/// held as [`Distinct`] text. A chunk's paths share a few prefixes (a container and resource each)
/// and repeat their time folders across containers, so a path costs a few bytes, not its 150 to
/// 200 characters.
#[derive(Debug, Clone)]
struct SplitText {
    prefix: Distinct,
    rest: Distinct,
}

impl SplitText {
    /// Where a path is split: before its last `/y=`, else not at all.
    fn split(path: &str) -> (&str, &str) {
        match path.rfind("/y=") {
            Some(at) => path.split_at(at),
            None => (path, ""),
        }
    }

    fn new(arrays: &[StringArray]) -> Self {
        let (prefixes, rests): (Vec<&str>, Vec<&str>) = rows(arrays)
            .map(|v| Self::split(v.unwrap_or_default()))
            .unzip();
        Self {
            prefix: Distinct::new(&[StringArray::from(prefixes)]),
            rest: Distinct::new(&[StringArray::from(rests)]),
        }
    }

    fn memory_size(&self) -> usize {
        self.prefix.memory_size() + self.rest.memory_size()
    }

    /// Writes row `row`'s text into `out` (cleared first).
    fn write(&self, row: usize, out: &mut String) {
        out.clear();
        out.push_str(self.prefix.get(row).unwrap_or_default());
        out.push_str(self.rest.get(row).unwrap_or_default());
    }
}

/// Rows per compressed block of [`PackedText`].
pub const TEXT_BLOCK_ROWS: usize = 512;

/// A text column compressed (Snappy) in blocks of [`TEXT_BLOCK_ROWS`] rows; no value and the
/// empty text are the same. The last block read is kept decompressed, so drawing a screen of
/// neighbouring rows decompresses it once.
#[derive(Debug, Default)]
struct PackedText {
    blocks: Vec<TextBlock>,
    last_read: Mutex<Option<(usize, Arc<str>)>>,
}

#[derive(Debug)]
struct TextBlock {
    compressed: Box<[u8]>,
    /// End of each row's text in the decompressed block.
    ends: Narrow,
}

impl PackedText {
    fn new<'t>(rows: impl Iterator<Item = Option<&'t str>>) -> Result<Self, StoreError> {
        let mut blocks = Vec::new();
        let mut encoder = snap::raw::Encoder::new();
        let mut text = String::new();
        let mut ends: Vec<u64> = Vec::with_capacity(TEXT_BLOCK_ROWS);
        let mut rows = rows.peekable();
        while rows.peek().is_some() {
            text.clear();
            ends.clear();
            for value in rows.by_ref().take(TEXT_BLOCK_ROWS) {
                text.push_str(value.unwrap_or_default());
                ends.push(text.len() as u64);
            }
            let compressed = encoder
                .compress_vec(text.as_bytes())
                .map_err(|_| StoreError::Column("summary"))?;
            blocks.push(TextBlock {
                compressed: compressed.into(),
                ends: Narrow::new(&ends),
            });
        }
        blocks.shrink_to_fit();
        Ok(Self {
            blocks,
            last_read: Mutex::new(None),
        })
    }

    /// Block `index`, decompressed (empty if it cannot be, which a block this type compressed
    /// never is).
    fn block(&self, index: usize) -> Arc<str> {
        if let Ok(last) = self.last_read.lock()
            && let Some((at, text)) = last.as_ref()
            && *at == index
        {
            return text.clone();
        }
        let text: Arc<str> = self
            .blocks
            .get(index)
            .and_then(|b| snap::raw::Decoder::new().decompress_vec(&b.compressed).ok())
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .unwrap_or_default()
            .into();
        if let Ok(mut last) = self.last_read.lock() {
            *last = Some((index, text.clone()));
        }
        text
    }

    fn memory_size(&self) -> usize {
        self.blocks
            .iter()
            .map(|b| b.compressed.len() + b.ends.memory_size())
            .sum::<usize>()
            + self.blocks.capacity() * std::mem::size_of::<TextBlock>()
    }

    /// Row `row`'s text within its decompressed block.
    fn slice<'t>(&self, block: &'t str, row: usize) -> &'t str {
        let Some(ends) = self.blocks.get(row / TEXT_BLOCK_ROWS).map(|b| &b.ends) else {
            return "";
        };
        let at = row % TEXT_BLOCK_ROWS;
        let start = if at == 0 {
            0
        } else {
            ends.get(at - 1) as usize
        };
        block.get(start..ends.get(at) as usize).unwrap_or_default()
    }
}

/// A text column of every batch, as UTF-8 arrays (one per batch: never concatenated, so
/// building a chunk holds one column's copy at a time).
fn text_column(
    batches: &[RecordBatch],
    name: &'static str,
) -> Result<Vec<StringArray>, StoreError> {
    batches
        .iter()
        .map(|batch| {
            let column = batch.column_by_name(name).ok_or(StoreError::Column(name))?;
            let cast: ArrayRef = arrow::compute::cast(column, &DataType::Utf8)?;
            Ok(cast.as_string::<i32>().clone())
        })
        .collect()
}

/// A numeric column of every batch, cast to `to` and mapped to `T`, nulls given by `map(None)`.
fn number_column<T, P: arrow::datatypes::ArrowPrimitiveType>(
    batches: &[RecordBatch],
    name: &'static str,
    to: &[DataType],
    map: impl Fn(Option<P::Native>) -> T,
) -> Result<Vec<T>, StoreError> {
    let mut out = Vec::with_capacity(batches.iter().map(RecordBatch::num_rows).sum());
    for batch in batches {
        let mut column = batch
            .column_by_name(name)
            .ok_or(StoreError::Column(name))?
            .clone();
        for step in to {
            column = arrow::compute::cast(&column, step)?;
        }
        let values = column
            .as_primitive_opt::<P>()
            .ok_or(StoreError::Column(name))?;
        out.extend(values.iter().map(&map));
    }
    Ok(out)
}

impl Chunk {
    /// Builds a chunk from the timeline query's batches (already in time order).
    pub fn from_batches(batches: &[RecordBatch]) -> Result<Self, StoreError> {
        if batches.is_empty() {
            return Ok(Self::empty());
        }
        let time = number_column::<i64, Int64Type>(
            batches,
            "time",
            &[
                DataType::Timestamp(TimeUnit::Nanosecond, None),
                DataType::Int64,
            ],
            |t| t.unwrap_or(0),
        )?;
        let severity =
            number_column::<u8, Int64Type>(batches, "severity", &[DataType::Int64], |s| {
                s.unwrap_or(0).clamp(0, 2) as u8
            })?;
        let line = number_column::<u64, UInt64Type>(batches, "line", &[DataType::UInt64], |l| {
            l.unwrap_or(0)
        })?;
        let line = Narrow::new(&line);
        let mut kind = Vec::with_capacity(time.len());
        for label in rows(&text_column(batches, "kind")?) {
            let label = label.unwrap_or_default();
            kind.push(EventKind::from_label(label).ok_or_else(|| StoreError::Kind(label.into()))?);
        }
        let distinct = |name| text_column(batches, name).map(|arrays| Distinct::new(&arrays));
        Ok(Self {
            time,
            kind,
            severity,
            line,
            user: distinct("user")?,
            ip: distinct("ip")?,
            peer: distinct("peer")?,
            session: distinct("session")?,
            tool: distinct("tool")?,
            // Mostly unique: compressed.
            summary: PackedText::new(rows(&text_column(batches, "summary")?))?,
            customers: distinct("customers")?,
            source_table: distinct("source_table")?,
            // Long and repeated: split, each part once.
            blob: SplitText::new(&text_column(batches, "blob")?),
            operation: distinct("operation")?,
        })
    }

    fn empty() -> Self {
        let distinct = || Distinct::new(&[]);
        Self {
            time: Vec::new(),
            kind: Vec::new(),
            severity: Vec::new(),
            line: Narrow::new(&[]),
            user: distinct(),
            ip: distinct(),
            peer: distinct(),
            session: distinct(),
            tool: distinct(),
            summary: PackedText::default(),
            customers: distinct(),
            source_table: distinct(),
            blob: SplitText::new(&[]),
            operation: distinct(),
        }
    }

    /// Number of events.
    pub fn len(&self) -> usize {
        self.time.len()
    }

    /// Bytes its events hold in memory (the column data, not the few fixed fields).
    pub fn memory_size(&self) -> usize {
        let texts = [
            &self.user,
            &self.ip,
            &self.peer,
            &self.session,
            &self.tool,
            &self.customers,
            &self.source_table,
            &self.operation,
        ];
        self.time.capacity() * 8
            + self.kind.capacity()
            + self.severity.capacity()
            + self.line.memory_size()
            + texts.iter().map(|t| t.memory_size()).sum::<usize>()
            + self.summary.memory_size()
            + self.blob.memory_size()
    }

    /// Whether the chunk holds no event.
    pub fn is_empty(&self) -> bool {
        self.time.is_empty()
    }

    /// Event `row`, its summary and blob path copied out.
    fn event(&self, row: usize) -> Event<'_> {
        let block = self.summary.block(row / TEXT_BLOCK_ROWS);
        let summary = Cow::Owned(self.summary.slice(&block, row).to_string());
        let mut blob = String::new();
        self.blob.write(row, &mut blob);
        self.event_with(row, summary, Cow::Owned(blob))
    }

    fn event_with<'a>(
        &'a self,
        row: usize,
        summary: Cow<'a, str>,
        blob: Cow<'a, str>,
    ) -> Event<'a> {
        Event {
            time: self.time[row],
            kind: self.kind[row],
            severity: self.severity[row],
            user: self.user.get(row).filter(|s| !s.is_empty()),
            ip: self.ip.get(row).filter(|s| !s.is_empty()),
            peer: self.peer.get(row).filter(|s| !s.is_empty()),
            session: self.session.get(row).filter(|s| !s.is_empty()),
            tool: self.tool.get(row).filter(|s| !s.is_empty()),
            summary,
            customers: self.customers.get(row).filter(|s| !s.is_empty()),
            source_table: self.source_table.get(row).unwrap_or_default(),
            blob,
            line: self.line.get(row),
            operation: self.operation.get(row).filter(|s| !s.is_empty()),
        }
    }

    /// Calls `visit` with each event of `rows` (chunk rows, in order), decompressing each block
    /// of summaries once.
    fn scan(&self, rows: std::ops::Range<usize>, visit: &mut impl FnMut(usize, &Event<'_>)) {
        let mut row = rows.start;
        let mut blob = String::new();
        while row < rows.end {
            let index = row / TEXT_BLOCK_ROWS;
            let block = self.summary.block(index);
            let block_end = ((index + 1) * TEXT_BLOCK_ROWS).min(rows.end);
            for row in row..block_end {
                let summary = Cow::Borrowed(self.summary.slice(&block, row));
                self.blob.write(row, &mut blob);
                visit(row, &self.event_with(row, summary, Cow::Borrowed(&blob)));
            }
            row = block_end;
        }
    }
}

/// One event, borrowed from the store (its summary decompressed).
#[derive(Debug, Clone, PartialEq)]
pub struct Event<'a> {
    /// Nanoseconds since the epoch, UTC.
    pub time: i64,
    /// Kind.
    pub kind: EventKind,
    /// 0 info, 1 warning, 2 error.
    pub severity: u8,
    /// Identity (UPN, object id or `(anonymous)`).
    pub user: Option<&'a str>,
    /// Caller or source address.
    pub ip: Option<&'a str>,
    /// Destination: server, dependency target or flow destination.
    pub peer: Option<&'a str>,
    /// MCP or sign-in session.
    pub session: Option<&'a str>,
    /// MCP tool.
    pub tool: Option<&'a str>,
    /// One-line description.
    pub summary: Cow<'a, str>,
    /// Customer ids named in arguments or results, comma-separated.
    pub customers: Option<&'a str>,
    /// Case table the row is in.
    pub source_table: &'a str,
    /// Source blob.
    pub blob: Cow<'a, str>,
    /// Line in the blob.
    pub line: u64,
    /// App Insights operation id: a tool call, its dependencies and traces share it.
    pub operation: Option<&'a str>,
}

/// Every event loaded so far.
#[derive(Debug, Default, Clone)]
pub struct EventStore {
    chunks: Vec<Arc<Chunk>>,
    /// Global index of each chunk's first event.
    starts: Vec<usize>,
    len: usize,
    bytes: usize,
}

impl EventStore {
    /// Appends a chunk (its events must not be earlier than those already held); returns the
    /// global index range of its events.
    pub fn push(&mut self, chunk: Chunk) -> std::ops::Range<usize> {
        let start = self.len;
        self.len += chunk.len();
        self.bytes += chunk.memory_size();
        if !chunk.is_empty() {
            self.starts.push(start);
            self.chunks.push(Arc::new(chunk));
        }
        start..self.len
    }

    /// Number of events.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is loaded.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes the events hold ([`Chunk::memory_size`] of every chunk).
    pub fn memory_size(&self) -> usize {
        self.bytes
    }

    /// The event at a global index.
    pub fn get(&self, index: usize) -> Option<Event<'_>> {
        if index >= self.len {
            return None;
        }
        let chunk = self
            .starts
            .partition_point(|&s| s <= index)
            .checked_sub(1)?;
        let start = *self.starts.get(chunk)?;
        Some(self.chunks.get(chunk)?.event(index - start))
    }

    /// Calls `visit` with the global index and event of every index in `range`, in order; faster
    /// than [`EventStore::get`] for each, as each block of summaries is decompressed once.
    pub fn scan(&self, range: std::ops::Range<usize>, mut visit: impl FnMut(usize, &Event<'_>)) {
        let end = range.end.min(self.len);
        let mut index = range.start;
        while index < end {
            let Some(chunk) = self.starts.partition_point(|&s| s <= index).checked_sub(1) else {
                return;
            };
            let (Some(&start), Some(events)) = (self.starts.get(chunk), self.chunks.get(chunk))
            else {
                return;
            };
            let rows = (index - start)..(end - start).min(events.len());
            let next = start + rows.end;
            events.scan(rows, &mut |row, event| visit(start + row, event));
            index = next;
        }
    }

    /// The time of the event at a global index.
    pub fn time(&self, index: usize) -> Option<i64> {
        let chunk = self
            .starts
            .partition_point(|&s| s <= index)
            .checked_sub(1)?;
        let start = *self.starts.get(chunk)?;
        self.chunks.get(chunk)?.time.get(index - start).copied()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(
        clippy::unwrap_used,
        reason = "a test fails loudly where a value is missing"
    )]
    use super::*;
    use arrow::array::{Int64Array, TimestampNanosecondArray, UInt64Array};
    use arrow::datatypes::{Field, Schema};

    /// (seconds, kind, user, ip, summary)
    pub(crate) type TestRow<'a> = (i64, &'a str, Option<&'a str>, &'a str, &'a str);

    /// A chunk from test rows.
    pub(crate) fn chunk(rows: &[TestRow<'_>]) -> Chunk {
        let text = |f: &dyn Fn(&TestRow<'_>) -> Option<String>| -> ArrayRef {
            Arc::new(StringArray::from(rows.iter().map(f).collect::<Vec<_>>()))
        };
        let schema = Schema::new(vec![
            Field::new(
                "time",
                DataType::Timestamp(TimeUnit::Nanosecond, None),
                false,
            ),
            Field::new("kind", DataType::Utf8, false),
            Field::new("user", DataType::Utf8, true),
            Field::new("ip", DataType::Utf8, true),
            Field::new("peer", DataType::Utf8, true),
            Field::new("session", DataType::Utf8, true),
            Field::new("tool", DataType::Utf8, true),
            Field::new("summary", DataType::Utf8, true),
            Field::new("customers", DataType::Utf8, true),
            Field::new("severity", DataType::Int64, false),
            Field::new("source_table", DataType::Utf8, false),
            Field::new("blob", DataType::Utf8, false),
            Field::new("line", DataType::UInt64, false),
            Field::new("operation", DataType::Utf8, true),
        ]);
        let batch = RecordBatch::try_new(
            Arc::new(schema),
            vec![
                Arc::new(TimestampNanosecondArray::from_iter_values(
                    rows.iter().map(|r| r.0 * 1_000_000_000),
                )),
                text(&|r| Some(r.1.to_string())),
                text(&|r| r.2.map(str::to_string)),
                text(&|r| Some(r.3.to_string())),
                text(&|r| (r.1 == "tool").then(|| "mcp-crm".to_string())),
                text(&|r| (r.1 == "tool").then(|| format!("sess-{}", r.2.unwrap_or("x")))),
                text(&|r| (r.1 == "tool").then(|| r.4.split(' ').next().unwrap_or("").to_string())),
                text(&|r| Some(r.4.to_string())),
                text(&|r| r.4.contains("C-").then(|| "C-1001,C-1002".to_string())),
                Arc::new(Int64Array::from_iter_values(
                    rows.iter().map(|r| 2 * i64::from(r.4.contains("FAILED"))),
                )),
                text(&|r| {
                    Some(
                        if r.1 == "signin" {
                            "SigninLogs"
                        } else {
                            "AppRequests"
                        }
                        .to_string(),
                    )
                }),
                text(&|r| Some(format!("am-x/{}.json", r.0 / 3600))),
                Arc::new(UInt64Array::from_iter_values(1..=rows.len() as u64)),
                // Events of one operation share the time's thousands of seconds.
                text(&|r| {
                    (!matches!(r.1, "signin" | "flow")).then(|| format!("op-{}", r.0 / 1000))
                }),
            ],
        )
        .unwrap();
        Chunk::from_batches(&[batch]).unwrap()
    }

    #[test]
    fn events_are_found_across_chunks() {
        let mut store = EventStore::default();
        assert!(store.get(0).is_none());
        let first = store.push(chunk(&[(10, "signin", Some("bob"), "1.1.1.1", "sign-in")]));
        let empty = store.push(Chunk::empty());
        let second = store.push(chunk(&[
            (20, "tool", Some("bob"), "2.2.2.2", "get_customer C-1"),
            (30, "flow", None, "3.3.3.3", "flow"),
        ]));
        assert_eq!((first, empty, second.clone()), (0..1, 1..1, 1..3));
        assert_eq!(store.len(), 3);
        let event = store.get(2).unwrap();
        assert_eq!(
            (event.time, event.kind, event.user),
            (30_000_000_000, EventKind::Flow, None)
        );
        assert_eq!(store.get(1).unwrap().customers, Some("C-1001,C-1002"));
        assert_eq!(store.time(1), Some(20_000_000_000));
        assert!(store.get(3).is_none());
    }

    #[test]
    fn blob_paths_are_held_in_two_shared_parts_and_read_back_whole() {
        let paths = [
            "am-apprequests/WorkspaceResourceId=/subscriptions/s/y=2026/m=08/d=07/h=05/m=00/PT05M.json",
            "am-apptraces/WorkspaceResourceId=/subscriptions/s/y=2026/m=08/d=07/h=05/m=00/PT05M.json",
            "am-apprequests/WorkspaceResourceId=/subscriptions/s/y=2026/m=08/d=07/h=06/m=00/PT05M.json",
            "insights-logs-x/resourceId=/A/y=1/y=2026/m=08/d=07/h=05/m=00/macAddress=00/PT1H.json",
            "no-time-folders/blob.json",
            "",
        ];
        let held = SplitText::new(&[StringArray::from(paths.to_vec())]);
        let mut out = String::from("left over");
        for (row, path) in paths.iter().enumerate() {
            held.write(row, &mut out);
            assert_eq!(out, *path);
        }
        // Two containers share a time folder: five prefixes and four rests (the empty text is one).
        assert_eq!(held.prefix.values.len(), 5);
        assert_eq!(held.rest.values.len(), 4);
    }

    #[test]
    fn integers_keep_their_values_in_the_narrowest_width() {
        for (values, width) in [
            (vec![0, 255], 1),
            (vec![3, 256], 2),
            (vec![65_535, 1], 2),
            (vec![65_536], 4),
            (vec![u64::from(u32::MAX)], 4),
            (vec![u64::from(u32::MAX) + 1, 7], 8),
        ] {
            let narrow = Narrow::new(&values);
            let held = match &narrow {
                Narrow::U8(_) => 1,
                Narrow::U16(_) => 2,
                Narrow::U32(_) => 4,
                Narrow::U64(_) => 8,
            };
            assert_eq!(held, width, "{values:?}");
            let back: Vec<u64> = (0..values.len()).map(|i| narrow.get(i)).collect();
            assert_eq!(back, values);
        }
    }

    #[test]
    fn summaries_read_back_exactly_across_blocks_and_chunks() {
        // Three chunks; the middle one spans three compressed blocks. Summaries vary in length,
        // include multi-byte text and empty ones.
        let summary = |i: usize| match i % 7 {
            0 => String::new(),
            1 => format!("Zürich → 東京 {i}"),
            _ => format!(
                "get_customer {{\"customer_id\":\"C-{i}\"}} {}",
                "x".repeat(i % 50)
            ),
        };
        let texts: Vec<String> = (0..1_300).map(summary).collect();
        let rows: Vec<TestRow<'_>> = texts
            .iter()
            .enumerate()
            // An hour apart: every event from its own blob (`chunk` names blobs by the hour).
            .map(|(i, s)| (i as i64 * 3600, "tool", Some("bob"), "10.0.0.1", s.as_str()))
            .collect();
        let mut store = EventStore::default();
        store.push(chunk(&rows[..5]));
        store.push(chunk(&rows[5..5 + 2 * TEXT_BLOCK_ROWS + 100]));
        store.push(chunk(&rows[5 + 2 * TEXT_BLOCK_ROWS + 100..]));
        assert_eq!(store.len(), texts.len());
        for (i, text) in texts.iter().enumerate() {
            let event = store.get(i).unwrap();
            assert_eq!(event.summary, text.as_str(), "event {i}");
            assert_eq!(event.line, rows_line(&rows, i));
            assert_eq!(event.blob, format!("am-x/{i}.json"));
        }
        // A scan from the middle of one chunk and block to the middle of another sees the same.
        let mut seen = Vec::new();
        store.scan(3..1_200, |index, event| {
            seen.push((index, event.summary.to_string(), event.blob.to_string()));
        });
        let expected: Vec<(usize, String, String)> = (3..1_200)
            .map(|i| (i, texts[i].clone(), format!("am-x/{i}.json")))
            .collect();
        assert_eq!(seen, expected);
        // A range past the end stops at the end.
        let mut count = 0;
        store.scan(1_290..5_000, |_, _| count += 1);
        assert_eq!(count, 10);
    }

    /// The line `chunk` gives row `i` of `rows` when the rows were split into the chunks above.
    fn rows_line(rows: &[TestRow<'_>], i: usize) -> u64 {
        let starts = [0, 5, 5 + 2 * TEXT_BLOCK_ROWS + 100, rows.len()];
        let chunk = starts.iter().rposition(|&s| s <= i).unwrap();
        (i - starts[chunk] + 1) as u64
    }
}
