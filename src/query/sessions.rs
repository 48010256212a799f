//! Sessions of tool calls, in one pass: the window function `session_marks` that
//! `call_sessions` numbers and names its sessions with.
//!
//! `session_marks(user, client_address, session_key, time, pause_seconds)` over rows in any order
//! (`OVER ()`, or partitioned by some of the keys): rows with the same identity, address (a call
//! without one and a call with an empty one alike) and session key are one group (an identity's
//! calls from one address under one session id; an empty key for calls without a shared id), and
//! within a group, in time order, a call starts a new part when the call before it is more than
//! `pause_seconds` earlier (or has no time). Each row gets `{part, start, session}`: the part's
//! number in its group (from 1), the time of the call that started it, and the session's name:
//! the session key, with ` (part N)` from the second part on, or for an empty key
//! `(derived) <address or "no address"> <start, UTC, to the second>` (none without a start).
//!
//! The parts are the running count of starts and the latest start's time, as SQL would compute
//! them with `lag` and two running aggregates over `PARTITION BY` the keys `ORDER BY time`; but
//! without a window partition per group (hundreds of thousands at 5 GB, each with its own state)
//! and without sorting the rows: the function orders only a group number and a time per row and
//! writes each row's marks in its place, so the calls' other columns are never copied into
//! sorted order (at 5 GB a sort of the calls held most of scope's peak memory). Calls of equal
//! time in a group may be taken either way: neither can start a part the other does not belong
//! to, so the marks are the same.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, Int64Array, StringArray, StringBuilder, StructArray,
    TimestampNanosecondArray,
};
use arrow::compute::cast;
use arrow::datatypes::{
    DataType, Field, FieldRef, Fields, Int64Type, TimeUnit, TimestampNanosecondType,
};
use datafusion::common::{Result, plan_err};
use datafusion::logical_expr::function::{PartitionEvaluatorArgs, WindowUDFFieldArgs};
use datafusion::logical_expr::{
    PartitionEvaluator, Signature, Volatility, WindowUDF, WindowUDFImpl,
};

/// `session_marks` (see the module).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SessionMarks {
    signature: Signature,
}

/// `session_marks(user, client_address, session_key, time, pause_seconds)`.
pub fn session_marks_udwf() -> WindowUDF {
    WindowUDF::new_from_impl(SessionMarks {
        signature: Signature::any(5, Volatility::Immutable),
    })
}

/// The session window functions (for a session and for the cluster's codec).
pub fn session_functions() -> Vec<Arc<WindowUDF>> {
    vec![Arc::new(session_marks_udwf())]
}

/// The marks' fields: the part's number, its start with the type of the calls' time, and the
/// session's name.
fn marks_fields(time_type: &DataType) -> Fields {
    Fields::from(vec![
        Field::new("part", DataType::Int64, false),
        Field::new("start", time_type.clone(), true),
        Field::new("session", DataType::Utf8, true),
    ])
}

impl WindowUDFImpl for SessionMarks {
    fn name(&self) -> &str {
        "session_marks"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn partition_evaluator(
        &self,
        _args: PartitionEvaluatorArgs,
    ) -> Result<Box<dyn PartitionEvaluator>> {
        Ok(Box::new(SessionEvaluator))
    }

    fn field(&self, field_args: WindowUDFFieldArgs) -> Result<FieldRef> {
        let inputs = field_args.input_fields();
        if inputs.len() != 5 {
            return plan_err!(
                "{} takes (user, client_address, session_key, time, pause_seconds)",
                self.name()
            );
        }
        Ok(Arc::new(Field::new(
            field_args.name(),
            DataType::Struct(marks_fields(inputs[3].data_type())),
            false,
        )))
    }
}

#[derive(Debug)]
struct SessionEvaluator;

impl PartitionEvaluator for SessionEvaluator {
    fn evaluate_all(&mut self, values: &[ArrayRef], num_rows: usize) -> Result<ArrayRef> {
        let [user, address, session, time, pause] = values else {
            return plan_err!("session_marks takes five arguments");
        };
        let keys = [user, address, session]
            .map(|key| cast(key, &DataType::Utf8))
            .into_iter()
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let keys: Vec<&StringArray> = keys.iter().map(|k| k.as_string::<i32>()).collect();
        let time_type = time.data_type().clone();
        let nanos = cast(time, &DataType::Timestamp(TimeUnit::Nanosecond, None))?;
        let nanos = nanos.as_primitive::<TimestampNanosecondType>();
        let pause = cast(pause, &DataType::Int64)?;
        let pause = pause.as_primitive::<Int64Type>();
        if u32::try_from(num_rows).is_err() {
            return plan_err!("session_marks takes at most {} rows", u32::MAX);
        }
        fn value(key: &StringArray, row: usize) -> Option<&str> {
            key.is_valid(row).then(|| key.value(row))
        }
        // Each row's group (by first appearance), then the rows ordered by group and time, a
        // call without a time last in its group (as `ORDER BY time` puts nulls).
        let mut groups: HashMap<_, u32, xxhash_rust::xxh3::Xxh3DefaultBuilder> = HashMap::default();
        let mut order = Vec::with_capacity(num_rows);
        for row in 0..num_rows {
            let key = (
                value(keys[0], row),
                value(keys[1], row).unwrap_or(""),
                value(keys[2], row),
            );
            // Both fit: there are at most u32::MAX rows, checked above.
            let next = u32::try_from(groups.len()).unwrap_or(u32::MAX);
            let group = *groups.entry(key).or_insert(next);
            let at = nanos.is_valid(row).then(|| nanos.value(row));
            order.push((
                group,
                at.is_none(),
                at.unwrap_or(0),
                u32::try_from(row).unwrap_or(u32::MAX),
            ));
        }
        drop(groups);
        order.sort_unstable();
        let mut parts = vec![0_i64; num_rows];
        let mut starts: Vec<Option<i64>> = vec![None; num_rows];
        let (mut part, mut start, mut previous, mut group_before) = (0_i64, None, None, None);
        for &(group, untimed, at, row) in &order {
            let row = row as usize;
            if group_before != Some(group) {
                part = 0;
                previous = None;
                group_before = Some(group);
            }
            let at = (!untimed).then_some(at);
            let gap =
                i64::from(pause.is_valid(row)) * pause.value(row).saturating_mul(1_000_000_000);
            // As `previous_time IS NULL OR previous_time < time - pause`: no call before it (or
            // one without a time) starts a part; a call without a time continues one.
            let begins = match (previous, at) {
                (None, _) => true,
                (Some(before), Some(at)) => before < at.saturating_sub(gap),
                (Some(_), None) => false,
            };
            if begins {
                part += 1;
                start = at;
            }
            parts[row] = part;
            starts[row] = start;
            previous = at;
        }
        let names = names(&parts, &starts, keys[1], keys[2]);
        let starts = cast(&TimestampNanosecondArray::from(starts), &time_type)?;
        Ok(Arc::new(StructArray::try_new(
            marks_fields(&time_type),
            vec![Arc::new(Int64Array::from(parts)), starts, names],
            None,
        )?))
    }
}

/// Each row's session name (see the module).
fn names(
    parts: &[i64],
    starts: &[Option<i64>],
    addresses: &StringArray,
    sessions: &StringArray,
) -> ArrayRef {
    let mut names = StringBuilder::with_capacity(parts.len(), sessions.value_data().len());
    for (row, (part, start)) in parts.iter().zip(starts).enumerate() {
        let session = sessions.is_valid(row).then(|| sessions.value(row));
        match session {
            None => names.append_null(),
            Some("") => match start.map(chrono::DateTime::from_timestamp_nanos) {
                None => names.append_null(),
                Some(start) => {
                    let address = if addresses.is_valid(row) {
                        addresses.value(row)
                    } else {
                        "no address"
                    };
                    names.append_value(format!(
                        "(derived) {address} {}",
                        start.format("%Y-%m-%dT%H:%M:%SZ")
                    ));
                }
            },
            Some(session) if *part > 1 => {
                names.append_value(format!("{session} (part {part})"));
            }
            Some(session) => names.append_value(session),
        }
    }
    Arc::new(names.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::TimestampNanosecondArray;
    use datafusion::prelude::SessionContext;

    /// The marks against the SQL they replace (`lag` and running aggregates over a window
    /// partition per group), on groups with pauses either side of the limit, a call without a
    /// time, equal times, and keys that differ in one column only; with the rows in any order.
    #[tokio::test]
    async fn sessions_match_the_running_aggregates_they_replace() -> Result<()> {
        let ctx = SessionContext::new();
        ctx.register_udwf(session_marks_udwf());
        let minute = 60_000_000_000_i64;
        // Out of order, as the calls reach the function; a call without an address and one with
        // an empty address are of one group.
        /// Identity, address, session key, time, pause.
        type Call<'a> = (&'a str, Option<&'a str>, &'a str, Option<i64>, i64);
        let rows: Vec<Call> = vec![
            ("b", Some("2.2.2.2"), "", Some(100 * minute), 300),
            ("a", Some("1.1.1.1"), "s", Some(61 * minute), 1800),
            ("a", Some("1.1.1.1"), "", Some(11 * minute), 300),
            ("a", Some("1.1.1.1"), "s", None, 1800),
            ("a", Some("1.1.1.1"), "s", Some(30 * minute), 1800),
            ("a", Some("2.2.2.2"), "", Some(12 * minute), 300),
            ("a", Some("1.1.1.1"), "", Some(0), 300),
            ("a", Some("1.1.1.1"), "s", Some(0), 1800),
            ("b", Some("2.2.2.2"), "", Some(12 * minute), 300),
            ("a", Some("1.1.1.1"), "s", Some(61 * minute), 1800),
            ("a", Some("1.1.1.1"), "", Some(5 * minute), 300),
            ("c", None, "", Some(0), 300),
            ("c", Some(""), "", Some(2 * minute), 300),
            ("c", None, "t", Some(0), 1800),
        ];
        let batch = arrow::record_batch::RecordBatch::try_from_iter(vec![
            (
                "user",
                Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.0))) as ArrayRef,
            ),
            (
                "client_address",
                Arc::new(StringArray::from(
                    rows.iter().map(|r| r.1).collect::<Vec<_>>(),
                )),
            ),
            (
                "session_key",
                Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.2))),
            ),
            (
                "time",
                Arc::new(TimestampNanosecondArray::from(
                    rows.iter().map(|r| r.3).collect::<Vec<_>>(),
                )),
            ),
            (
                "pause",
                Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.4))),
            ),
        ])?;
        ctx.register_batch("calls", batch)?;
        let ours = "SELECT \"user\", coalesce(client_address, '') AS address_key, session_key, time, \
                    m['part'] AS part, m['start'] AS started, m['session'] AS session \
                    FROM (SELECT *, session_marks(\"user\", client_address, session_key, time, pause) OVER () AS m FROM calls) \
                    ORDER BY 1, 2, 3, 4, 5";
        let theirs = "WITH keyed AS (SELECT *, coalesce(client_address, '') AS address_key FROM calls), \
                      paused AS (SELECT *, lag(time) OVER p AS previous_time FROM keyed \
                      WINDOW p AS (PARTITION BY \"user\", address_key, session_key ORDER BY time)), \
                      marked AS (SELECT *, CASE WHEN previous_time IS NULL \
                      OR previous_time < time - CASE WHEN pause = 300 THEN INTERVAL '5 minutes' ELSE INTERVAL '30 minutes' END THEN 1 ELSE 0 END AS starts FROM paused), \
                      started AS (SELECT \"user\", address_key, client_address, session_key, time, sum(starts) OVER r AS part, \
                      max(CASE WHEN starts = 1 THEN time END) OVER r AS started FROM marked \
                      WINDOW r AS (PARTITION BY \"user\", address_key, session_key ORDER BY time \
                      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)) \
                      SELECT \"user\", address_key, session_key, time, part, started, \
                      CASE WHEN session_key = '' \
                      THEN '(derived) ' || coalesce(client_address, 'no address') || ' ' || to_char(started, '%Y-%m-%dT%H:%M:%SZ') \
                      WHEN part > 1 THEN session_key || ' (part ' || CAST(part AS VARCHAR) || ')' \
                      ELSE session_key END AS session \
                      FROM started ORDER BY 1, 2, 3, 4, 5";
        let text = |batches: Vec<arrow::record_batch::RecordBatch>| {
            arrow::util::pretty::pretty_format_batches(&batches).map(|t| t.to_string())
        };
        // Over every row at once (as call_sessions has it), and partitioned by identity.
        let partitioned = ours.replace("OVER ()", "OVER (PARTITION BY \"user\")");
        assert_ne!(partitioned, ours);
        let ours = text(ctx.sql(ours).await?.collect().await?)?;
        let theirs = text(ctx.sql(theirs).await?.collect().await?)?;
        assert_eq!(ours, theirs);
        assert_eq!(text(ctx.sql(&partitioned).await?.collect().await?)?, theirs);
        // The parts and names the rows above make: a pause of exactly the limit continues a part.
        for expected in [
            "| a    | 1.1.1.1     | s           | 1970-01-01T01:01:00 | 2    | 1970-01-01T01:01:00 | s (part 2)                                |",
            "| a    | 1.1.1.1     |             | 1970-01-01T00:11:00 | 2    | 1970-01-01T00:11:00 | (derived) 1.1.1.1 1970-01-01T00:11:00Z    |",
            "| b    | 2.2.2.2     |             | 1970-01-01T01:40:00 | 2    | 1970-01-01T01:40:00 | (derived) 2.2.2.2 1970-01-01T01:40:00Z    |",
            "| c    |             |             | 1970-01-01T00:00:00 | 1    | 1970-01-01T00:00:00 | (derived) no address 1970-01-01T00:00:00Z |",
            "| c    |             |             | 1970-01-01T00:02:00 | 1    | 1970-01-01T00:00:00 | (derived)  1970-01-01T00:00:00Z           |",
        ] {
            assert!(ours.contains(expected), "{expected} not in\n{ours}");
        }
        Ok(())
    }
}
