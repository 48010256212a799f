//! A view computed once per session, on its first use, and then served from memory.
//!
//! `identities` is small (one row per identity) but aggregates every sign-in, and `tool_calls`
//! joins it three times; as a plain view it was recomputed by every query and every join that
//! reads it.

use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use datafusion::catalog::Session;
use datafusion::datasource::{MemTable, TableProvider};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{Expr, LogicalPlan, TableType};
use datafusion::physical_plan::{ExecutionPlan, collect};

/// A view whose rows are computed on the first scan of the session and kept.
#[derive(Debug)]
pub struct OnceView {
    plan: LogicalPlan,
    schema: SchemaRef,
    rows: tokio::sync::OnceCell<Arc<MemTable>>,
}

impl OnceView {
    /// The view defined by `plan`.
    pub fn new(plan: LogicalPlan) -> Self {
        let schema = Arc::new(plan.schema().as_arrow().clone());
        Self {
            plan,
            schema,
            rows: tokio::sync::OnceCell::new(),
        }
    }
}

#[async_trait]
impl TableProvider for OnceView {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::View
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let rows = self
            .rows
            .get_or_try_init(|| async {
                let physical = state.create_physical_plan(&self.plan).await?;
                let batches = collect(physical, state.task_ctx()).await?;
                Ok::<_, DataFusionError>(Arc::new(MemTable::try_new(
                    self.schema.clone(),
                    vec![batches],
                )?))
            })
            .await?;
        rows.scan(state, projection, filters, limit).await
    }
}
