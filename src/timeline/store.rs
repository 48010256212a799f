//! The loaded timeline: every event of the window, in time order, held column-wise in chunks as
//! the loader delivers them, so a million events cost tens of bytes each and rows are read only
//! when drawn.

use std::sync::Arc;

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
}

impl EventKind {
    /// Every kind, in display order.
    pub const ALL: [EventKind; 9] = [
        EventKind::SignIn,
        EventKind::Audit,
        EventKind::Tool,
        EventKind::Request,
        EventKind::Dependency,
        EventKind::Trace,
        EventKind::Exception,
        EventKind::Event,
        EventKind::Flow,
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
#[derive(Debug, Clone)]
pub struct Chunk {
    time: Vec<i64>,
    kind: Vec<EventKind>,
    severity: Vec<u8>,
    line: Vec<u64>,
    user: Distinct,
    ip: Distinct,
    peer: Distinct,
    session: Distinct,
    tool: Distinct,
    summary: StringArray,
    customers: Distinct,
    source_table: Distinct,
    blob: Distinct,
}

/// A text column holding each distinct value once: users, addresses, tools, tables and blob
/// paths repeat across a chunk's events, so this is a fraction of one string per event.
#[derive(Debug, Clone)]
struct Distinct {
    /// Index into `values` per row; [`Distinct::NULL`] for none.
    keys: Vec<u32>,
    values: StringArray,
}

impl Distinct {
    const NULL: u32 = u32::MAX;

    fn new(array: &StringArray) -> Self {
        let mut index: std::collections::HashMap<&str, u32> = std::collections::HashMap::new();
        use arrow::array::ArrayBuilder;
        let mut values = arrow::array::StringBuilder::new();
        let keys = array
            .iter()
            .map(|value| match value {
                None => Self::NULL,
                Some(text) => *index.entry(text).or_insert_with_key(|text| {
                    values.append_value(text);
                    (values.len() - 1) as u32
                }),
            })
            .collect();
        Self {
            keys,
            values: values.finish(),
        }
    }

    fn get(&self, row: usize) -> Option<&str> {
        let key = self.keys[row];
        (key != Self::NULL).then(|| self.values.value(key as usize))
    }
}

fn text_column(batch: &RecordBatch, name: &'static str) -> Result<StringArray, StoreError> {
    let column = batch.column_by_name(name).ok_or(StoreError::Column(name))?;
    let cast: ArrayRef = arrow::compute::cast(column, &DataType::Utf8)?;
    Ok(cast.as_string::<i32>().clone())
}

fn distinct_column(batch: &RecordBatch, name: &'static str) -> Result<Distinct, StoreError> {
    Ok(Distinct::new(&text_column(batch, name)?))
}

impl Chunk {
    /// Builds a chunk from the timeline query's batches (already in time order).
    pub fn from_batches(batches: &[RecordBatch]) -> Result<Self, StoreError> {
        let Some(first) = batches.first() else {
            return Ok(Self::empty());
        };
        let batch = arrow::compute::concat_batches(&first.schema(), batches)?;
        let time_column = batch
            .column_by_name("time")
            .ok_or(StoreError::Column("time"))?;
        let time = arrow::compute::cast(
            time_column,
            &DataType::Timestamp(TimeUnit::Nanosecond, None),
        )?;
        let time = arrow::compute::cast(&time, &DataType::Int64)?;
        let time: Vec<i64> = time
            .as_primitive::<Int64Type>()
            .iter()
            .map(|t| t.unwrap_or(0))
            .collect();
        let severity = arrow::compute::cast(
            batch
                .column_by_name("severity")
                .ok_or(StoreError::Column("severity"))?,
            &DataType::Int64,
        )?;
        let severity: Vec<u8> = severity
            .as_primitive::<Int64Type>()
            .iter()
            .map(|s| s.unwrap_or(0).clamp(0, 2) as u8)
            .collect();
        let line = arrow::compute::cast(
            batch
                .column_by_name("line")
                .ok_or(StoreError::Column("line"))?,
            &DataType::UInt64,
        )?;
        let line: Vec<u64> = line
            .as_primitive::<UInt64Type>()
            .iter()
            .map(|l| l.unwrap_or(0))
            .collect();
        let kinds = text_column(&batch, "kind")?;
        let mut kind = Vec::with_capacity(kinds.len());
        for label in kinds.iter() {
            let label = label.unwrap_or_default();
            kind.push(EventKind::from_label(label).ok_or_else(|| StoreError::Kind(label.into()))?);
        }
        Ok(Self {
            time,
            kind,
            severity,
            line,
            user: distinct_column(&batch, "user")?,
            ip: distinct_column(&batch, "ip")?,
            peer: distinct_column(&batch, "peer")?,
            session: distinct_column(&batch, "session")?,
            tool: distinct_column(&batch, "tool")?,
            // Mostly unique: kept as it is.
            summary: text_column(&batch, "summary")?,
            customers: distinct_column(&batch, "customers")?,
            source_table: distinct_column(&batch, "source_table")?,
            blob: distinct_column(&batch, "blob")?,
        })
    }

    fn empty() -> Self {
        let none = || StringArray::from(Vec::<Option<&str>>::new());
        let distinct = || Distinct::new(&none());
        Self {
            time: Vec::new(),
            kind: Vec::new(),
            severity: Vec::new(),
            line: Vec::new(),
            user: distinct(),
            ip: distinct(),
            peer: distinct(),
            session: distinct(),
            tool: distinct(),
            summary: none(),
            customers: distinct(),
            source_table: distinct(),
            blob: distinct(),
        }
    }

    /// Number of events.
    pub fn len(&self) -> usize {
        self.time.len()
    }

    /// Whether the chunk holds no event.
    pub fn is_empty(&self) -> bool {
        self.time.is_empty()
    }

    fn event(&self, row: usize) -> Event<'_> {
        fn text(array: &StringArray, row: usize) -> Option<&str> {
            (!array.is_null(row))
                .then(|| array.value(row))
                .filter(|s| !s.is_empty())
        }
        Event {
            time: self.time[row],
            kind: self.kind[row],
            severity: self.severity[row],
            user: self.user.get(row).filter(|s| !s.is_empty()),
            ip: self.ip.get(row).filter(|s| !s.is_empty()),
            peer: self.peer.get(row).filter(|s| !s.is_empty()),
            session: self.session.get(row).filter(|s| !s.is_empty()),
            tool: self.tool.get(row).filter(|s| !s.is_empty()),
            summary: text(&self.summary, row).unwrap_or_default(),
            customers: self.customers.get(row).filter(|s| !s.is_empty()),
            source_table: self.source_table.get(row).unwrap_or_default(),
            blob: self.blob.get(row).unwrap_or_default(),
            line: self.line[row],
        }
    }
}

/// One event, borrowed from the store.
#[derive(Debug, Clone, Copy, PartialEq)]
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
    pub summary: &'a str,
    /// Customer ids named in arguments or results, comma-separated.
    pub customers: Option<&'a str>,
    /// Case table the row is in.
    pub source_table: &'a str,
    /// Source blob.
    pub blob: &'a str,
    /// Line in the blob.
    pub line: u64,
}

/// Every event loaded so far.
#[derive(Debug, Default, Clone)]
pub struct EventStore {
    chunks: Vec<Arc<Chunk>>,
    /// Global index of each chunk's first event.
    starts: Vec<usize>,
    len: usize,
}

impl EventStore {
    /// Appends a chunk (its events must not be earlier than those already held); returns the
    /// global index range of its events.
    pub fn push(&mut self, chunk: Chunk) -> std::ops::Range<usize> {
        let start = self.len;
        self.len += chunk.len();
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
    #![allow(clippy::unwrap_used)]
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
}
