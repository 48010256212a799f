//! Declared columns and the builder that turns checked rows into Arrow record batches.
//!
//! Every table's schema is declared here and in the format modules, never inferred from the
//! evidence. Values are converted per column kind with lossless coercions only (a number
//! written as a string is still a number); anything else rejects the row with a reason.

use std::borrow::Cow;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanBuilder, FixedSizeBinaryBuilder, Float64Builder, Int64Builder, StringBuilder,
    TimestampNanosecondBuilder, UInt64Builder,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::record_batch::RecordBatch;
use serde_json::Value;

use crate::time;

/// The type of a declared column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Text. Objects and arrays are kept as their JSON text.
    Str,
    /// 64-bit integer.
    Int,
    /// 64-bit float.
    Real,
    /// Boolean.
    Bool,
    /// UTC timestamp, nanoseconds.
    Time,
    /// A Log Analytics `dynamic` value, kept as JSON text (object, array or the string as written).
    Dyn,
}

impl Kind {
    /// The Arrow type the kind is stored as.
    pub fn data_type(self) -> DataType {
        match self {
            Kind::Str | Kind::Dyn => DataType::Utf8,
            Kind::Int => DataType::Int64,
            Kind::Real => DataType::Float64,
            Kind::Bool => DataType::Boolean,
            Kind::Time => timestamp_type(),
        }
    }

    /// Name used in the schema documentation.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Str => "string",
            Kind::Int => "int64",
            Kind::Real => "float64",
            Kind::Bool => "bool",
            Kind::Time => "timestamp (ns, UTC)",
            Kind::Dyn => "dynamic (JSON text)",
        }
    }
}

/// Arrow type of every time column.
pub fn timestamp_type() -> DataType {
    DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into()))
}

/// One declared column.
#[derive(Debug, Clone, Copy)]
pub struct ColumnSpec {
    /// Column name (Log Analytics spelling for exported columns, snake_case for derived ones).
    pub name: &'static str,
    /// Its type.
    pub kind: Kind,
    /// What it holds; empty for Log Analytics columns kept as exported.
    pub doc: &'static str,
}

/// Shorthand for a column kept as exported.
pub const fn la(name: &'static str, kind: Kind) -> ColumnSpec {
    ColumnSpec {
        name,
        kind,
        doc: "",
    }
}

/// Shorthand for a column computed by mcpforensics.
pub const fn derived(name: &'static str, kind: Kind, doc: &'static str) -> ColumnSpec {
    ColumnSpec { name, kind, doc }
}

/// Provenance and bookkeeping columns every case table ends with.
pub const TRAILING_COLUMNS: [ColumnSpec; 4] = [
    derived(
        "_extra",
        Kind::Dyn,
        "every exported column without a typed column here, as a JSON object; nothing is dropped",
    ),
    derived(
        "_blob",
        Kind::Str,
        "the source blob (path relative to the storage account) the row came from",
    ),
    derived(
        "_line",
        Kind::Int,
        "1-based line in the blob where the record starts",
    ),
    derived(
        "_row_hash",
        Kind::Str,
        "128-bit xxh3 of the record's bytes (16 bytes), used to drop export-retry duplicates",
    ),
];

/// A checked value on its way into a column. Text borrows the record it was read from where it
/// can (a plain record's strings without escapes), so it is copied once, into the column.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell<'a> {
    /// No value.
    Null,
    /// Text.
    Str(Cow<'a, str>),
    /// Integer.
    Int(i64),
    /// Float.
    Real(f64),
    /// Boolean.
    Bool(bool),
    /// Nanoseconds since the epoch, UTC.
    Time(i64),
}

impl Cell<'_> {
    /// Text or null.
    pub fn text(value: Option<String>) -> Cell<'static> {
        value.map_or(Cell::Null, |text| Cell::Str(Cow::Owned(text)))
    }
}

/// Converts an exported JSON value into a cell of `kind`, or says why it cannot.
pub fn convert(value: &Value, kind: Kind) -> Result<Cell<'static>, String> {
    let wrong = |expected: &str| Err(format!("expected {expected}, found {}", describe(value)));
    Ok(match (kind, value) {
        (_, Value::Null) => Cell::Null,
        (Kind::Str | Kind::Dyn, Value::String(s)) => Cell::Str(Cow::Owned(s.clone())),
        (
            Kind::Str | Kind::Dyn,
            Value::Number(_) | Value::Bool(_) | Value::Object(_) | Value::Array(_),
        ) => Cell::Str(Cow::Owned(value.to_string())),
        (Kind::Int, Value::Number(n)) => match n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| f as i64)
        }) {
            Some(i) => Cell::Int(i),
            None => return wrong("an integer"),
        },
        (Kind::Int, Value::String(s)) if s.trim().is_empty() => Cell::Null,
        (Kind::Int, Value::String(s)) => match s.trim().parse::<i64>() {
            Ok(i) => Cell::Int(i),
            Err(_) => return wrong("an integer"),
        },
        (Kind::Real, Value::Number(n)) => n.as_f64().map_or(Cell::Null, Cell::Real),
        (Kind::Real, Value::String(s)) if s.trim().is_empty() => Cell::Null,
        (Kind::Real, Value::String(s)) => match s.trim().parse::<f64>() {
            Ok(f) if f.is_finite() => Cell::Real(f),
            _ => return wrong("a number"),
        },
        (Kind::Bool, Value::Bool(b)) => Cell::Bool(*b),
        (Kind::Bool, Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" => Cell::Bool(true),
            "false" | "0" => Cell::Bool(false),
            "" => Cell::Null,
            _ => return wrong("a boolean"),
        },
        (Kind::Bool, Value::Number(n)) => match n.as_i64() {
            Some(1) => Cell::Bool(true),
            Some(0) => Cell::Bool(false),
            _ => return wrong("a boolean"),
        },
        (Kind::Time, Value::String(s)) if s.trim().is_empty() => Cell::Null,
        (Kind::Time, Value::String(s)) => match time::parse_timestamp(s).and_then(time::to_nanos) {
            Some(n) => Cell::Time(n),
            None => return wrong("a timestamp"),
        },
        (Kind::Time, Value::Number(n)) => match n
            .as_i64()
            .and_then(time::epoch_to_utc)
            .and_then(time::to_nanos)
        {
            Some(t) => Cell::Time(t),
            None => return wrong("a timestamp"),
        },
        (Kind::Int | Kind::Real | Kind::Bool | Kind::Time, _) => return wrong(kind.label()),
    })
}

/// A short description of a JSON value for reject reasons (strings are cut at 40 characters).
pub fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("boolean {b}"),
        Value::Number(n) => format!("number {n}"),
        Value::String(s) => {
            let cut: String = s.chars().take(40).collect();
            let ellipsis = if s.chars().count() > 40 { "…" } else { "" };
            format!("string {cut:?}{ellipsis}")
        }
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

/// The Arrow schema for a table: its columns, derived columns, then the trailing columns.
pub fn schema_for(columns: &[ColumnSpec], derived: &[ColumnSpec]) -> SchemaRef {
    let mut fields: Vec<Field> = columns
        .iter()
        .chain(derived)
        .map(|c| Field::new(c.name, c.kind.data_type(), true))
        .collect();
    fields.push(Field::new("_extra", DataType::Utf8, true));
    fields.push(Field::new("_blob", DataType::Utf8, false));
    fields.push(Field::new("_line", DataType::UInt64, false));
    fields.push(Field::new(
        "_row_hash",
        DataType::FixedSizeBinary(16),
        false,
    ));
    Arc::new(Schema::new(fields))
}

enum ColumnBuilder {
    Str(StringBuilder),
    Int(Int64Builder),
    Real(Float64Builder),
    Bool(BooleanBuilder),
    Time(TimestampNanosecondBuilder),
}

impl ColumnBuilder {
    fn new(kind: Kind) -> Self {
        match kind {
            Kind::Str | Kind::Dyn => ColumnBuilder::Str(StringBuilder::new()),
            Kind::Int => ColumnBuilder::Int(Int64Builder::new()),
            Kind::Real => ColumnBuilder::Real(Float64Builder::new()),
            Kind::Bool => ColumnBuilder::Bool(BooleanBuilder::new()),
            Kind::Time => {
                ColumnBuilder::Time(TimestampNanosecondBuilder::new().with_timezone("UTC"))
            }
        }
    }

    fn append(&mut self, cell: Cell<'_>) {
        match (self, cell) {
            (ColumnBuilder::Str(b), Cell::Str(s)) => b.append_value(s.as_ref()),
            (ColumnBuilder::Int(b), Cell::Int(i)) => b.append_value(i),
            (ColumnBuilder::Real(b), Cell::Real(f)) => b.append_value(f),
            (ColumnBuilder::Real(b), Cell::Int(i)) => b.append_value(i as f64),
            (ColumnBuilder::Bool(b), Cell::Bool(v)) => b.append_value(v),
            (ColumnBuilder::Time(b), Cell::Time(t)) => b.append_value(t),
            (ColumnBuilder::Str(b), _) => b.append_null(),
            (ColumnBuilder::Int(b), _) => b.append_null(),
            (ColumnBuilder::Real(b), _) => b.append_null(),
            (ColumnBuilder::Bool(b), _) => b.append_null(),
            (ColumnBuilder::Time(b), _) => b.append_null(),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            ColumnBuilder::Str(b) => Arc::new(b.finish()),
            ColumnBuilder::Int(b) => Arc::new(b.finish()),
            ColumnBuilder::Real(b) => Arc::new(b.finish()),
            ColumnBuilder::Bool(b) => Arc::new(b.finish()),
            ColumnBuilder::Time(b) => Arc::new(b.finish()),
        }
    }
}

/// Accumulates checked rows of one table into record batches.
pub struct BatchBuilder {
    schema: SchemaRef,
    columns: Vec<ColumnBuilder>,
    extra: StringBuilder,
    blob: StringBuilder,
    line: UInt64Builder,
    hash: FixedSizeBinaryBuilder,
    rows: usize,
}

/// The provenance of one row.
#[derive(Debug, Clone, Copy)]
pub struct RowOrigin<'a> {
    /// Blob path.
    pub blob: &'a str,
    /// 1-based line.
    pub line: u64,
    /// Hash of the record's bytes.
    pub hash: u128,
}

impl BatchBuilder {
    /// A builder for a table with these typed and derived columns.
    pub fn new(columns: &[ColumnSpec], derived: &[ColumnSpec]) -> Self {
        Self {
            schema: schema_for(columns, derived),
            columns: columns
                .iter()
                .chain(derived)
                .map(|c| ColumnBuilder::new(c.kind))
                .collect(),
            extra: StringBuilder::new(),
            blob: StringBuilder::new(),
            line: UInt64Builder::new(),
            hash: FixedSizeBinaryBuilder::new(16),
            rows: 0,
        }
    }

    /// The schema of the batches built.
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// Rows waiting in the builder.
    pub fn len(&self) -> usize {
        self.rows
    }

    /// Whether no rows are waiting.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Appends one row; `cells` must hold one cell per typed and derived column, in order.
    pub fn push(&mut self, cells: Vec<Cell<'_>>, extra: Option<String>, origin: RowOrigin<'_>) {
        debug_assert_eq!(cells.len(), self.columns.len());
        for (builder, cell) in self.columns.iter_mut().zip(cells) {
            builder.append(cell);
        }
        self.extra.append_option(extra);
        self.blob.append_value(origin.blob);
        self.line.append_value(origin.line);
        // A 16-byte value always fits a 16-byte column.
        let _ = self.hash.append_value(origin.hash.to_be_bytes());
        self.rows += 1;
    }

    /// Takes the rows gathered so far as a record batch.
    pub fn finish(&mut self) -> RecordBatch {
        let mut arrays: Vec<ArrayRef> =
            self.columns.iter_mut().map(ColumnBuilder::finish).collect();
        arrays.push(Arc::new(self.extra.finish()));
        arrays.push(Arc::new(self.blob.finish()));
        arrays.push(Arc::new(self.line.finish()));
        arrays.push(Arc::new(self.hash.finish()));
        self.rows = 0;
        RecordBatch::try_new(self.schema.clone(), arrays)
            .unwrap_or_else(|_| RecordBatch::new_empty(self.schema.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lossless_coercions_only() {
        assert_eq!(convert(&json!("78"), Kind::Int), Ok(Cell::Int(78)));
        assert_eq!(convert(&json!(3.0), Kind::Int), Ok(Cell::Int(3)));
        assert!(convert(&json!(3.5), Kind::Int).is_err());
        assert!(
            convert(&json!("abc"), Kind::Int)
                .unwrap_err()
                .contains("string \"abc\"")
        );
        assert_eq!(convert(&json!("True"), Kind::Bool), Ok(Cell::Bool(true)));
        assert!(convert(&json!({"a":1}), Kind::Bool).is_err());
        assert_eq!(
            convert(&json!(50126), Kind::Str),
            Ok(Cell::Str("50126".into()))
        );
        assert_eq!(
            convert(&json!({"a":1}), Kind::Dyn),
            Ok(Cell::Str("{\"a\":1}".into()))
        );
        assert_eq!(
            convert(&json!("{\"a\":1}"), Kind::Dyn),
            Ok(Cell::Str("{\"a\":1}".into()))
        );
        assert_eq!(convert(&json!(null), Kind::Time), Ok(Cell::Null));
        assert!(convert(&json!("not a time"), Kind::Time).is_err());
        assert_eq!(
            convert(&json!(1_527_644_123), Kind::Time),
            Ok(Cell::Time(1_527_644_123_000_000_000))
        );
        assert_eq!(convert(&json!("NaN"), Kind::Real).ok(), None);
    }

    #[test]
    fn builds_a_batch_with_provenance() {
        let columns = [la("TimeGenerated", Kind::Time), la("Name", Kind::Str)];
        let mut builder = BatchBuilder::new(&columns, &[]);
        let origin = RowOrigin {
            blob: "am-x/PT05M.json",
            line: 7,
            hash: 1,
        };
        builder.push(
            vec![Cell::Time(0), Cell::Str("a".into())],
            Some("{}".into()),
            origin,
        );
        builder.push(
            vec![Cell::Null, Cell::Null],
            None,
            RowOrigin { line: 8, ..origin },
        );
        let batch = builder.finish();
        assert_eq!(batch.num_rows(), 2);
        assert_eq!(batch.num_columns(), 6);
        assert!(builder.is_empty());
    }
}
