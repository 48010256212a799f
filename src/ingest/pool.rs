//! The worker pool of a run: blobs hashed and decoded on worker threads, their output handed
//! to one consumer in listing order, with workers held back so memory is bounded by a window of
//! blobs and bytes, not by the source.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError, mpsc};

use crate::case::manifest::KnownBlobs;
use crate::parsers::{self, DecodeEvent};
use crate::sources::{BlobRef, EvidenceSource};

use super::blob::{BlobError, BlobResult, process_blob};

/// Decoded bytes queued for the consumer past which workers decoding ahead wait: memory is
/// bounded by this and the record limit, not by blob sizes.
const QUEUED_BYTES: usize = 64 << 20;

/// Blobs a worker may decode ahead of the consumer.
const WINDOW_PER_THREAD: usize = 4;

/// What a worker tells about the blob it decodes: its events, then its end.
pub(super) enum Message {
    /// A decoded batch or a rejected record, in the blob's order.
    Event(DecodeEvent),
    /// The blob is done with: read, skipped or failed.
    Done(Result<BlobResult, BlobError>),
}

/// The blobs of a run and what decoding them needs.
pub(super) struct Pool<'a> {
    /// Where the blobs are read from.
    pub source: &'a dyn EvidenceSource,
    /// The blobs, in listing order.
    pub blobs: &'a [BlobRef],
    /// The blobs the case already holds (skipped, or checked for rewriting).
    pub known: &'a KnownBlobs,
    /// Where verified copies of the blobs read go, if kept.
    pub raw_dir: Option<&'a std::path::Path>,
    /// Decoding threads.
    pub threads: usize,
}

/// The consumer's position, shared with the workers that wait for it.
struct Progress {
    /// The index of the blob the consumer is handling.
    next: Mutex<usize>,
    /// Signalled whenever `next` moves or queued bytes were written.
    advanced: Condvar,
    /// Bytes of decoded batches sent and not yet consumed.
    queued_bytes: AtomicUsize,
    /// Set when the consumer failed: workers stop instead of waiting for it forever.
    stopped: AtomicBool,
}

impl Progress {
    fn next(&self) -> MutexGuard<'_, usize> {
        self.next.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wait<'g>(&self, guard: MutexGuard<'g, usize>) -> MutexGuard<'g, usize> {
        self.advanced
            .wait(guard)
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn stopped(&self) -> bool {
        self.stopped.load(Ordering::SeqCst)
    }

    /// Wakes every waiting worker (taking the lock first, so none can miss the wake-up).
    fn wake(&self) {
        drop(self.next());
        self.advanced.notify_all();
    }
}

impl Pool<'_> {
    /// Decodes every blob and hands each message to `consume` in listing order (a blob's
    /// messages in their order, its `Done` last). Stops at the first error `consume` returns,
    /// or when the source stops answering (the blobs not started are then never delivered).
    pub(super) fn decode_in_order<E>(
        &self,
        mut consume: impl FnMut(usize, Message) -> Result<(), E>,
    ) -> Result<(), E> {
        let threads = self.threads.max(1);
        let window = threads * WINDOW_PER_THREAD;
        let progress = Progress {
            next: Mutex::new(0),
            advanced: Condvar::new(),
            queued_bytes: AtomicUsize::new(0),
            stopped: AtomicBool::new(false),
        };
        let next_job = AtomicUsize::new(0);
        let (sender, receiver) = mpsc::channel::<(usize, Message)>();
        std::thread::scope(|scope| {
            for _ in 0..threads {
                let sender = sender.clone();
                let (progress, next_job) = (&progress, &next_job);
                scope.spawn(move || self.work(progress, next_job, window, &sender));
            }
            drop(sender);
            let outcome = deliver_in_order(&receiver, &progress, &mut consume);
            if outcome.is_err() {
                // Wake every worker waiting for the consumer; their sends fail once the
                // receiver is gone.
                progress.stopped.store(true, Ordering::SeqCst);
                progress.wake();
            }
            drop(receiver);
            outcome
        })
    }

    /// One worker: takes the next blob, waits while it is too far ahead of the consumer,
    /// decodes it, and sends its messages.
    fn work(
        &self,
        progress: &Progress,
        next_job: &AtomicUsize,
        window: usize,
        sender: &mpsc::Sender<(usize, Message)>,
    ) {
        loop {
            let index = next_job.fetch_add(1, Ordering::SeqCst);
            let Some(blob) = self.blobs.get(index) else {
                break;
            };
            {
                let mut next = progress.next();
                while index >= *next + window && !progress.stopped() {
                    next = progress.wait(next);
                }
            }
            // The storage stopped answering: no more blobs are started.
            if progress.stopped() || self.source.unavailable().is_some() {
                break;
            }
            let result = process_blob(
                self.source,
                blob,
                parsers::plan_for(&blob.kind).decoder,
                self.known,
                self.raw_dir,
                &mut |event| {
                    if let DecodeEvent::Batch(batch) = &event {
                        // Batches of blobs decoded ahead wait while too many bytes are queued;
                        // the blob being consumed never waits.
                        let size = batch.get_array_memory_size();
                        let mut next = progress.next();
                        while index != *next
                            && progress.queued_bytes.load(Ordering::SeqCst) > QUEUED_BYTES
                            && !progress.stopped()
                        {
                            next = progress.wait(next);
                        }
                        progress.queued_bytes.fetch_add(size, Ordering::SeqCst);
                    }
                    let _ = sender.send((index, Message::Event(event)));
                },
            );
            if sender.send((index, Message::Done(result))).is_err() {
                break;
            }
        }
    }
}

/// Re-orders the workers' messages into listing order and consumes them, moving the consumer's
/// position (and waking the workers) as each blob finishes and each batch is consumed.
fn deliver_in_order<E>(
    receiver: &mpsc::Receiver<(usize, Message)>,
    progress: &Progress,
    consume: &mut impl FnMut(usize, Message) -> Result<(), E>,
) -> Result<(), E> {
    let mut pending: BTreeMap<usize, VecDeque<Message>> = BTreeMap::new();
    let mut next = 0usize;
    // Consumes one message of blob `index`; true when it was the blob's last.
    let mut consume_one = |index: usize, message: Message| -> Result<bool, E> {
        let finished = matches!(message, Message::Done(_));
        let batch_bytes = match &message {
            Message::Event(DecodeEvent::Batch(batch)) => Some(batch.get_array_memory_size()),
            _ => None,
        };
        consume(index, message)?;
        if let Some(bytes) = batch_bytes {
            progress.queued_bytes.fetch_sub(bytes, Ordering::SeqCst);
            progress.wake();
        }
        Ok(finished)
    };
    for (index, message) in receiver.iter() {
        if index != next {
            pending.entry(index).or_default().push_back(message);
            continue;
        }
        let mut finished = consume_one(index, message)?;
        while finished {
            next += 1;
            *progress.next() = next;
            progress.advanced.notify_all();
            finished = false;
            if let Some(queue) = pending.remove(&next) {
                for message in queue {
                    finished = consume_one(next, message)?;
                }
            }
        }
    }
    Ok(())
}
