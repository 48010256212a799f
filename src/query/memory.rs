//! The memory pool every session runs under.
//!
//! Sorts, aggregations and joins share a fair spill pool of `--memory-mib`: past their share they
//! spill to temporary files, or fail naming the operators that hold memory. `RepartitionExec`
//! is kept out of the limit: in DataFusion 55.2 its spill path can deadlock when two of its
//! inputs spill at once (apache/datafusion#24883, fixed upstream in #24891), which hung `scope`
//! on a 5 GB case at the default limit. Its buffers are a few batches per partition.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use datafusion::error::Result;
use datafusion::execution::memory_pool::{
    FairSpillPool, MemoryConsumer, MemoryLimit, MemoryPool, MemoryReservation, TrackConsumersPool,
};

/// A fair spill pool of `limit` bytes, with repartition buffers counted but not limited.
pub fn pool(limit: usize) -> Arc<dyn MemoryPool> {
    Arc::new(ExemptRepartition {
        limited: Arc::new(TrackConsumersPool::new(
            FairSpillPool::new(limit),
            std::num::NonZeroUsize::MIN.saturating_add(4),
        )),
        exempt: AtomicUsize::new(0),
    })
}

#[derive(Debug)]
struct ExemptRepartition {
    limited: Arc<dyn MemoryPool>,
    exempt: AtomicUsize,
}

fn is_exempt(consumer: &MemoryConsumer) -> bool {
    consumer.name().starts_with("RepartitionExec")
}

impl fmt::Display for ExemptRepartition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (repartition buffers exempt)", self.limited)
    }
}

impl MemoryPool for ExemptRepartition {
    fn name(&self) -> &str {
        "exempt-repartition"
    }

    fn register(&self, consumer: &MemoryConsumer) {
        if !is_exempt(consumer) {
            self.limited.register(consumer);
        }
    }

    fn unregister(&self, consumer: &MemoryConsumer) {
        if !is_exempt(consumer) {
            self.limited.unregister(consumer);
        }
    }

    fn grow(&self, reservation: &MemoryReservation, additional: usize) {
        if is_exempt(reservation.consumer()) {
            self.exempt.fetch_add(additional, Ordering::Relaxed);
        } else {
            self.limited.grow(reservation, additional);
        }
    }

    fn shrink(&self, reservation: &MemoryReservation, shrink: usize) {
        if is_exempt(reservation.consumer()) {
            self.exempt.fetch_sub(shrink, Ordering::Relaxed);
        } else {
            self.limited.shrink(reservation, shrink);
        }
    }

    fn try_grow(&self, reservation: &MemoryReservation, additional: usize) -> Result<()> {
        if is_exempt(reservation.consumer()) {
            self.exempt.fetch_add(additional, Ordering::Relaxed);
            Ok(())
        } else {
            self.limited.try_grow(reservation, additional)
        }
    }

    fn reserved(&self) -> usize {
        self.limited.reserved() + self.exempt.load(Ordering::Relaxed)
    }

    fn memory_limit(&self) -> MemoryLimit {
        self.limited.memory_limit()
    }
}
