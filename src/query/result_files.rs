//! Pack results kept as Parquet files on storage every executor of a cluster sees
//! (`--cluster-scratch`), so a plan that reads one names a file instead of carrying its rows.
//!
//! On a cluster, a pack query's result that later queries read is otherwise carried inside
//! each of their plans as rows ([`super::codec`]), and each task of a stage gets its own copy:
//! a result of tens of megabytes read through a common table expression ten times made plans of
//! hundreds of megabytes (docs/scale-out.md). A result written here is read like a case file:
//! the plan holds its path, and the executors read it with DataFusion's Parquet scan.
//!
//! Each session writes into a directory of its own, removed when the session ends; nothing is
//! ever written into the case.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use datafusion::datasource::TableProvider;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::error::DataFusionError;
use parquet::arrow::ArrowWriter;

/// Results holding fewer bytes than this stay rows in the plan: a file costs a listing and a
/// footer read per scan, which only pays for larger results.
pub const SMALLEST_RESULT_FILE_BYTES: usize = 256 * 1024;

/// One session's directory of result files, removed when dropped.
#[derive(Debug)]
pub struct ResultFiles {
    dir: PathBuf,
    written: AtomicUsize,
}

fn error(what: String, source: impl std::fmt::Display) -> DataFusionError {
    DataFusionError::Execution(format!("{what}: {source}"))
}

impl ResultFiles {
    /// A new directory for this session's results inside `scratch` (created if missing).
    pub fn create_in(scratch: &Path) -> Result<Self, DataFusionError> {
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let dir = scratch.join(format!(
            "mcpforensics-results-{}-{stamp}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).map_err(|e| {
            error(
                format!(
                    "creating a directory for pack results in --cluster-scratch {}",
                    scratch.display()
                ),
                e,
            )
        })?;
        // The plan names files by absolute path: the executors must find them at the same one.
        let dir = std::fs::canonicalize(&dir)
            .map_err(|e| error(format!("resolving {}", dir.display()), e))?;
        Ok(Self {
            dir,
            written: AtomicUsize::new(0),
        })
    }

    /// Whether a result holding `bytes` is written to a file rather than carried as rows.
    pub fn takes(bytes: usize) -> bool {
        bytes >= SMALLEST_RESULT_FILE_BYTES
    }

    /// Writes `batches` (of `schema`) to a new Parquet file and returns a table reading it.
    pub async fn table(
        &self,
        name: &str,
        schema: SchemaRef,
        batches: &[RecordBatch],
    ) -> Result<Arc<dyn TableProvider>, DataFusionError> {
        let number = self.written.fetch_add(1, Ordering::Relaxed);
        let path = self.dir.join(format!("{name}-{number}.parquet"));
        let file = std::fs::File::create(&path)
            .map_err(|e| error(format!("creating {}", path.display()), e))?;
        let mut writer = ArrowWriter::try_new(file, schema.clone(), None)?;
        for batch in batches {
            writer.write(batch)?;
        }
        writer.close()?;
        let url = ListingTableUrl::parse(path.to_string_lossy())?;
        let options =
            ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet");
        let config = ListingTableConfig::new(url)
            .with_listing_options(options)
            .with_schema(schema);
        Ok(Arc::new(ListingTable::try_new(config)?))
    }

    /// The directory the session's results are written to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for ResultFiles {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int64Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};
    use datafusion::prelude::SessionContext;

    #[tokio::test]
    async fn a_result_written_to_a_file_reads_back_the_same_and_is_removed_with_the_session() {
        let scratch =
            std::env::temp_dir().join(format!("mcpf-result-files-{}", std::process::id()));
        let schema = Arc::new(Schema::new(vec![
            Field::new("user", DataType::Utf8, true),
            Field::new("calls", DataType::Int64, false),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(StringArray::from(vec![Some("alice"), None, Some("bob")])),
                Arc::new(Int64Array::from(vec![3, 1, 2])),
            ],
        )
        .expect("batch");
        let files = ResultFiles::create_in(&scratch).expect("scratch");
        let dir = files.dir().to_path_buf();
        let table = files
            .table("window_calls", schema.clone(), std::slice::from_ref(&batch))
            .await
            .expect("written");
        assert_eq!(
            table.schema(),
            schema,
            "the table keeps the result's schema"
        );
        let ctx = SessionContext::new();
        ctx.register_table("window_calls", table)
            .expect("registered");
        let read = ctx
            .sql("SELECT * FROM window_calls")
            .await
            .expect("sql")
            .collect()
            .await
            .expect("read");
        assert_eq!(read, vec![batch], "the rows come back as written");
        assert!(dir.join("window_calls-0.parquet").is_file());
        drop(files);
        assert!(!dir.exists(), "the session's directory goes with it");
        let _ = std::fs::remove_dir(&scratch);
    }
}
