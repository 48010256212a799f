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
}
