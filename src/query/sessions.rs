//! Sessions of ordered tool calls, in one pass: the window functions `session_part` and
//! `session_start` that `call_sessions` numbers its sessions with.
//!
//! Both take `(user, address_key, session_key, time, pause_seconds)` over a window ordered by
//! the three keys (or partitioned by some and ordered by the rest), then time: consecutive rows with the same keys are one group (an identity's
//! calls from one address under one session id), and within a group a call starts a new part
//! when the call before it is more than `pause_seconds` earlier (or has no time). `session_part`
//! is the part's number in its group (from 1), `session_start` the time of the call that started
//! it. This is the running count of starts and the latest start's time, as SQL would compute them
//! with `lag` and two running aggregates over `PARTITION BY` the keys; but one pass over rows
//! already sorted, without a window partition per group (hundreds of thousands at 5 GB, each
//! with its own state: most of `call_sessions`' time).

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Int64Array, StringArray, TimestampNanosecondArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, FieldRef, Int64Type, TimeUnit, TimestampNanosecondType};
use datafusion::common::{Result, plan_err};
use datafusion::logical_expr::function::{PartitionEvaluatorArgs, WindowUDFFieldArgs};
use datafusion::logical_expr::{
    PartitionEvaluator, Signature, Volatility, WindowUDF, WindowUDFImpl,
};

/// Which of the two values a [`SessionFunction`] gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Output {
    /// The part's number within its group, from 1.
    Part,
    /// The time of the call that started the part.
    Start,
}

/// `session_part` or `session_start` (see the module).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SessionFunction {
    output: Output,
    signature: Signature,
}

/// `session_part(user, address_key, session_key, time, pause_seconds)`.
pub fn session_part_udwf() -> WindowUDF {
    WindowUDF::new_from_impl(SessionFunction::new(Output::Part))
}

/// `session_start(user, address_key, session_key, time, pause_seconds)`.
pub fn session_start_udwf() -> WindowUDF {
    WindowUDF::new_from_impl(SessionFunction::new(Output::Start))
}

/// Both functions (for a session and for the cluster's codec).
pub fn session_functions() -> Vec<Arc<WindowUDF>> {
    vec![
        Arc::new(session_part_udwf()),
        Arc::new(session_start_udwf()),
    ]
}

impl SessionFunction {
    fn new(output: Output) -> Self {
        Self {
            output,
            signature: Signature::any(5, Volatility::Immutable),
        }
    }
}

impl WindowUDFImpl for SessionFunction {
    fn name(&self) -> &str {
        match self.output {
            Output::Part => "session_part",
            Output::Start => "session_start",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn partition_evaluator(
        &self,
        _args: PartitionEvaluatorArgs,
    ) -> Result<Box<dyn PartitionEvaluator>> {
        Ok(Box::new(SessionEvaluator {
            output: self.output,
        }))
    }

    fn field(&self, field_args: WindowUDFFieldArgs) -> Result<FieldRef> {
        let inputs = field_args.input_fields();
        if inputs.len() != 5 {
            return plan_err!(
                "{} takes (user, address_key, session_key, time, pause_seconds)",
                self.name()
            );
        }
        Ok(Arc::new(match self.output {
            Output::Part => Field::new(field_args.name(), DataType::Int64, false),
            Output::Start => Field::new(field_args.name(), inputs[3].data_type().clone(), true),
        }))
    }
}

#[derive(Debug)]
struct SessionEvaluator {
    output: Output,
}

impl PartitionEvaluator for SessionEvaluator {
    fn evaluate_all(&mut self, values: &[ArrayRef], num_rows: usize) -> Result<ArrayRef> {
        let [user, address, session, time, pause] = values else {
            return plan_err!("session functions take five arguments");
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
        let mut parts = Vec::with_capacity(num_rows);
        let mut starts: Vec<Option<i64>> = Vec::with_capacity(num_rows);
        let (mut part, mut start, mut previous) = (0_i64, None, None);
        for row in 0..num_rows {
            let same_group = row > 0 && keys.iter().all(|k| same_key(k, row));
            if !same_group {
                part = 0;
                previous = None;
            }
            let at = nanos.is_valid(row).then(|| nanos.value(row));
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
            parts.push(part);
            starts.push(start);
            previous = at;
        }
        Ok(match self.output {
            Output::Part => Arc::new(Int64Array::from(parts)),
            Output::Start => cast(&TimestampNanosecondArray::from(starts), &time_type)?,
        })
    }
}

/// Whether `row` holds the same value (or null) as the row before it.
fn same_key(key: &StringArray, row: usize) -> bool {
    match (key.is_valid(row), key.is_valid(row - 1)) {
        (true, true) => key.value(row) == key.value(row - 1),
        (valid, valid_before) => valid == valid_before,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::TimestampNanosecondArray;
    use datafusion::prelude::SessionContext;

    /// Both functions against the SQL they replace (`lag` and running aggregates over a window
    /// partition per group), on groups with pauses either side of the limit, a call without a
    /// time, equal times, and keys that differ in one column only.
    #[tokio::test]
    async fn sessions_match_the_running_aggregates_they_replace() -> Result<()> {
        let ctx = SessionContext::new();
        ctx.register_udwf(session_part_udwf());
        ctx.register_udwf(session_start_udwf());
        let minute = 60_000_000_000_i64;
        let rows: Vec<(&str, &str, &str, Option<i64>, i64)> = vec![
            ("a", "1.1.1.1", "s", Some(0), 1800),
            ("a", "1.1.1.1", "s", Some(30 * minute), 1800),
            ("a", "1.1.1.1", "s", Some(61 * minute), 1800),
            ("a", "1.1.1.1", "s", Some(61 * minute), 1800),
            ("a", "1.1.1.1", "s", None, 1800),
            ("a", "1.1.1.1", "", Some(0), 300),
            ("a", "1.1.1.1", "", Some(5 * minute), 300),
            ("a", "1.1.1.1", "", Some(11 * minute), 300),
            ("a", "2.2.2.2", "", Some(12 * minute), 300),
            ("b", "2.2.2.2", "", Some(12 * minute), 300),
            ("b", "2.2.2.2", "", Some(100 * minute), 300),
        ];
        let batch = arrow::record_batch::RecordBatch::try_from_iter(vec![
            (
                "user",
                Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.0))) as ArrayRef,
            ),
            (
                "address_key",
                Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.1))),
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
        let ours = "SELECT \"user\", address_key, session_key, time, \
                    session_part(\"user\", address_key, session_key, time, pause) OVER w AS part, \
                    session_start(\"user\", address_key, session_key, time, pause) OVER w AS started \
                    FROM calls WINDOW w AS (ORDER BY \"user\", address_key, session_key, time) \
                    ORDER BY 1, 2, 3, 4, 5";
        let theirs = "WITH paused AS (SELECT *, lag(time) OVER p AS previous_time FROM calls \
                      WINDOW p AS (PARTITION BY \"user\", address_key, session_key ORDER BY time)), \
                      marked AS (SELECT *, CASE WHEN previous_time IS NULL \
                      OR previous_time < time - CASE WHEN pause = 300 THEN INTERVAL '5 minutes' ELSE INTERVAL '30 minutes' END THEN 1 ELSE 0 END AS starts FROM paused) \
                      SELECT \"user\", address_key, session_key, time, sum(starts) OVER r AS part, \
                      max(CASE WHEN starts = 1 THEN time END) OVER r AS started FROM marked \
                      WINDOW r AS (PARTITION BY \"user\", address_key, session_key ORDER BY time \
                      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) ORDER BY 1, 2, 3, 4, 5";
        let text = |batches: Vec<arrow::record_batch::RecordBatch>| {
            arrow::util::pretty::pretty_format_batches(&batches).map(|t| t.to_string())
        };
        // As call_sessions partitions it (by identity), and as one partition.
        let partitioned = ours.replace("(ORDER BY \"user\", ", "(PARTITION BY \"user\" ORDER BY ");
        assert_ne!(partitioned, ours);
        let ours = text(ctx.sql(ours).await?.collect().await?)?;
        let theirs = text(ctx.sql(theirs).await?.collect().await?)?;
        assert_eq!(ours, theirs);
        assert_eq!(text(ctx.sql(&partitioned).await?.collect().await?)?, theirs);
        // The parts the rows above make: a pause of exactly the limit continues a part.
        for expected in [
            "| a    | 1.1.1.1     | s           | 1970-01-01T01:01:00 | 2    |",
            "| a    | 1.1.1.1     |             | 1970-01-01T00:11:00 | 2    |",
            "| b    | 2.2.2.2     |             | 1970-01-01T01:40:00 | 2    |",
        ] {
            assert!(ours.contains(expected), "{expected} not in\n{ours}");
        }
        Ok(())
    }
}
