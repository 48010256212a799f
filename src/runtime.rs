//! The one tokio runtime builder: every runtime of the tool (queries, the timeline's workers,
//! Blob Storage requests) is built here, with a stack deep enough to plan queries.

/// Stack for threads that plan queries: DataFusion plans the pack's views recursively, and the
/// default 2 MiB of a spawned thread is not enough for the deepest (a debug build needs most).
pub const STACK_BYTES: usize = 16 << 20;

/// A multi-threaded runtime with every driver enabled: `workers` threads, or one per core.
pub fn multi_thread(workers: Option<usize>) -> std::io::Result<tokio::runtime::Runtime> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(workers) = workers {
        builder.worker_threads(workers);
    }
    builder.thread_stack_size(STACK_BYTES).enable_all().build()
}
