//! Which days of a case a session reads, and which files it actually opened.
//!
//! Every case table is a Parquet listing table partitioned by `date=YYYY-MM-DD` (the UTC day of
//! the row's time). [`CaseTable`] wraps one: with a [`DayWindow`], every scan also carries
//! `date BETWEEN first AND last`, which DataFusion resolves against the directory names, so the
//! files of other days are never listed, opened or read. Each scan records the files its plan
//! will open, so a report can say exactly how much of the case it read.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use datafusion::catalog::Session;
use datafusion::datasource::TableProvider;
use datafusion::datasource::physical_plan::FileScanConfig;
use datafusion::datasource::source::DataSourceExec;
use datafusion::error::Result;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown, TableType, col, lit};
use datafusion::physical_plan::ExecutionPlan;

/// Inclusive range of UTC days a session may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayWindow {
    /// First day read.
    pub first: NaiveDate,
    /// Last day read.
    pub last: NaiveDate,
}

impl DayWindow {
    /// The days holding `[start, end)`: `end` itself is exclusive, so a window ending at midnight
    /// does not read the next day.
    pub fn covering(start: DateTime<Utc>, end: DateTime<Utc>) -> Self {
        let last_instant = if end > start {
            end - chrono::Duration::nanoseconds(1)
        } else {
            start
        };
        Self {
            first: start.date_naive(),
            last: last_instant.date_naive(),
        }
    }

    /// Days in the window.
    pub fn days(&self) -> i64 {
        (self.last - self.first).num_days() + 1
    }
}

/// Files opened by the scans of a session, shared by its tables.
#[derive(Debug, Default)]
pub struct OpenedFiles(Mutex<BTreeSet<String>>);

impl OpenedFiles {
    /// The files opened so far, sorted.
    pub fn snapshot(&self) -> Vec<String> {
        self.0
            .lock()
            .map(|files| files.iter().cloned().collect())
            .unwrap_or_default()
    }

    fn record(&self, plan: &Arc<dyn ExecutionPlan>) {
        let mut found = Vec::new();
        collect_files(plan, &mut found);
        if let Ok(mut files) = self.0.lock() {
            files.extend(found);
        }
    }
}

fn collect_files(plan: &Arc<dyn ExecutionPlan>, found: &mut Vec<String>) {
    if let Some(exec) = plan.downcast_ref::<DataSourceExec>()
        && let Some(config) = exec.data_source().downcast_ref::<FileScanConfig>()
    {
        for group in &config.file_groups {
            for file in group.files() {
                found.push(file.object_meta.location.to_string());
            }
        }
    }
    for child in plan.children() {
        collect_files(child, found);
    }
}

/// A case table, read only within a day window (if any), recording the files it opens.
#[derive(Debug)]
pub struct CaseTable {
    inner: Arc<dyn TableProvider>,
    window: Option<DayWindow>,
    opened: Arc<OpenedFiles>,
}

impl CaseTable {
    /// Wraps a listing table partitioned by `date`.
    pub fn new(
        inner: Arc<dyn TableProvider>,
        window: Option<DayWindow>,
        opened: Arc<OpenedFiles>,
    ) -> Self {
        Self {
            inner,
            window,
            opened,
        }
    }

    /// The listing table it wraps.
    pub fn inner(&self) -> Arc<dyn TableProvider> {
        self.inner.clone()
    }

    /// The days it reads, if it is bounded.
    pub fn window(&self) -> Option<DayWindow> {
        self.window
    }
}

#[async_trait]
impl TableProvider for CaseTable {
    fn schema(&self) -> SchemaRef {
        self.inner.schema()
    }

    fn table_type(&self) -> TableType {
        self.inner.table_type()
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        self.inner.supports_filters_pushdown(filters)
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let mut filters = filters.to_vec();
        // A row's day directory is the UTC day of its time (the first column), so bounds on the
        // time are bounds on the directories: an ad-hoc query over a week opens only that week.
        if let Some(time) = self.inner.schema().fields().first()
            && let Some(days) = days_bounding(time.name(), &filters)
        {
            if let Some(first) = days.0 {
                filters.push(col("date").gt_eq(lit(first.format("%Y-%m-%d").to_string())));
            }
            if let Some(last) = days.1 {
                filters.push(col("date").lt_eq(lit(last.format("%Y-%m-%d").to_string())));
            }
        }
        if let Some(window) = self.window {
            // Exact on the partition column: DataFusion prunes the directories by it.
            filters.push(col("date").gt_eq(lit(window.first.format("%Y-%m-%d").to_string())));
            filters.push(col("date").lt_eq(lit(window.last.format("%Y-%m-%d").to_string())));
        }
        let plan = self.inner.scan(state, projection, &filters, limit).await?;
        self.opened.record(&plan);
        Ok(plan)
    }
}

/// The first and last UTC days a conjunction of filters allows for the time column `time`, from
/// comparisons of it with timestamp literals (`>=`, `>`, `<`, `<=`, `BETWEEN`, either side).
/// `None` when no filter bounds it. Rows without a time never pass such a comparison.
fn days_bounding(time: &str, filters: &[Expr]) -> Option<(Option<NaiveDate>, Option<NaiveDate>)> {
    use datafusion::logical_expr::{Between, BinaryExpr, Operator};
    use datafusion::scalar::ScalarValue;

    fn nanos(expr: &Expr) -> Option<i64> {
        let Expr::Literal(value, _) = expr else {
            return None;
        };
        match value {
            ScalarValue::TimestampNanosecond(Some(v), _) => Some(*v),
            ScalarValue::TimestampMicrosecond(Some(v), _) => v.checked_mul(1_000),
            ScalarValue::TimestampMillisecond(Some(v), _) => v.checked_mul(1_000_000),
            ScalarValue::TimestampSecond(Some(v), _) => v.checked_mul(1_000_000_000),
            _ => None,
        }
    }
    let is_time = |expr: &Expr| matches!(expr, Expr::Column(c) if c.name == time);
    let day = |n: i64| crate::time::from_nanos(n).date_naive();
    let mut bounds: Vec<(Operator, i64)> = Vec::new();
    for filter in filters {
        match filter {
            Expr::BinaryExpr(BinaryExpr { left, op, right }) => {
                if is_time(left)
                    && let Some(v) = nanos(right)
                {
                    bounds.push((*op, v));
                } else if is_time(right)
                    && let Some(v) = nanos(left)
                    && let Some(op) = op.swap()
                {
                    bounds.push((op, v));
                }
            }
            Expr::Between(Between {
                expr,
                negated: false,
                low,
                high,
            }) if is_time(expr) => {
                if let Some(v) = nanos(low) {
                    bounds.push((Operator::GtEq, v));
                }
                if let Some(v) = nanos(high) {
                    bounds.push((Operator::LtEq, v));
                }
            }
            _ => {}
        }
    }
    let (mut first, mut last): (Option<NaiveDate>, Option<NaiveDate>) = (None, None);
    for (op, v) in bounds {
        let (from, to) = match op {
            Operator::Gt | Operator::GtEq => (Some(day(v)), None),
            Operator::Lt => (None, Some(day(v.saturating_sub(1)))),
            Operator::LtEq => (None, Some(day(v))),
            Operator::Eq => (Some(day(v)), Some(day(v))),
            _ => (None, None),
        };
        first = first.max(from);
        last = match (last, to) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
    (first.is_some() || last.is_some()).then_some((first, last))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_window_ending_at_midnight_does_not_read_the_next_day() {
        let start = Utc
            .with_ymd_and_hms(2026, 9, 1, 0, 0, 0)
            .single()
            .expect("time");
        let end = Utc
            .with_ymd_and_hms(2026, 9, 8, 0, 0, 0)
            .single()
            .expect("time");
        let window = DayWindow::covering(start, end);
        assert_eq!(window.first.to_string(), "2026-09-01");
        assert_eq!(window.last.to_string(), "2026-09-07");
        assert_eq!(window.days(), 7);
        let later = DayWindow::covering(start, end + chrono::Duration::seconds(1));
        assert_eq!(later.last.to_string(), "2026-09-08");
        let empty = DayWindow::covering(end, start);
        assert_eq!(empty.days(), 1);
    }

    #[test]
    fn time_comparisons_bound_the_days_read() {
        use datafusion::scalar::ScalarValue;
        let at = |text: &str| {
            let nanos = crate::time::parse_timestamp(text)
                .and_then(crate::time::to_nanos)
                .expect("time");
            lit(ScalarValue::TimestampNanosecond(
                Some(nanos),
                Some("UTC".into()),
            ))
        };
        let day = |text: &str| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok();
        // As the planner passes it (`col` would normalise the name to lower case).
        let t = || Expr::Column(datafusion::common::Column::from_name("TimeGenerated"));
        // [since, until): a window ending at midnight does not read the next day.
        let window = [
            t().gt_eq(at("2026-07-16T00:00:00Z")),
            t().lt(at("2026-08-30T00:00:00Z")),
        ];
        assert_eq!(
            days_bounding("TimeGenerated", &window),
            Some((day("2026-07-16"), day("2026-08-29")))
        );
        // Literal on the left, BETWEEN, and the tighter of two bounds.
        let mixed = [
            at("2026-07-20T10:00:00Z").lt_eq(t()),
            t().between(at("2026-07-01T00:00:00Z"), at("2026-07-25T23:59:59Z")),
        ];
        assert_eq!(
            days_bounding("TimeGenerated", &mixed),
            Some((day("2026-07-20"), day("2026-07-25")))
        );
        // Another column, another operator or a non-literal bound says nothing.
        let other = [
            col("time").gt(at("2026-07-20T00:00:00Z")),
            t().not_eq(at("2026-07-20T00:00:00Z")),
            t().gt(col("time")),
            t().gt_eq(at("2026-07-20T00:00:00Z")).or(col("x").is_null()),
        ];
        assert_eq!(days_bounding("TimeGenerated", &other), None);
    }
}
