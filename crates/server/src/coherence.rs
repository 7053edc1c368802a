//! Several tclocal processes on one database (`--store postgres://…`).
//!
//! Each process serves from working copies in memory, so on a shared store it must learn of
//! the other processes' writes and must not decide against a stale copy. Before a request it
//! compares the store's generation with the one its copies were loaded at and reloads them
//! when they differ; a request that may write (quota, ClientToken, a state change) also holds
//! the processes' write lock from that check until its answer is durable, so two processes
//! never both see the last free slot, create for one ClientToken or move one instance.
//!
//! The cost is a round trip per request and a full reload after another process's write: fine
//! for a shared test environment, and nothing at all for a store only one process uses.

use std::sync::Arc;

use tclocal_services::Products;
use tclocal_store::{Shared, StoreError};
use tokio::sync::{Mutex, OwnedRwLockWriteGuard, RwLock};

use crate::clock::EmulatedTime;

/// Keeps one process's working copies coherent with a shared store.
pub(crate) struct Coherence {
    shared: Arc<dyn Shared>,
    products: Products,
    /// Emulated time's stored offset, which another process may have moved.
    time: Arc<EmulatedTime>,
    /// Writers of this process hold it exclusively (the store's lock is per process); readers
    /// hold it shared while they check, so no reload runs in the middle of a local write.
    local: Arc<RwLock<()>>,
    /// The generation the working copies were loaded at; the mutex also keeps two reloads from
    /// running at once.
    seen: Arc<Mutex<i64>>,
}

/// Held while a writing request runs: the process-wide and the cross-process write lock.
/// Dropping it records the generation this process's own commits moved the store to (its
/// copies hold them already, and no other process can have written meanwhile), then
/// releases both locks.
pub(crate) struct WriteSection {
    shared: Arc<dyn Shared>,
    seen: Arc<Mutex<i64>>,
    local: Option<OwnedRwLockWriteGuard<()>>,
}

impl Coherence {
    /// Coherence over `shared` for `products`, whose copies were loaded at `generation`.
    pub(crate) fn new(
        shared: Arc<dyn Shared>,
        products: Products,
        time: Arc<EmulatedTime>,
        generation: i64,
    ) -> Self {
        Coherence {
            shared,
            products,
            time,
            local: Arc::new(RwLock::new(())),
            seen: Arc::new(Mutex::new(generation)),
        }
    }

    /// Brings the working copies up to date before a request that only reads.
    pub(crate) async fn before_read(&self, now_ms: i64) -> Result<(), StoreError> {
        let _local = self.local.read().await;
        self.refresh(now_ms).await
    }

    /// Takes the write locks and brings the working copies up to date; the section ends when
    /// the returned value is dropped (after the answer is durable).
    pub(crate) async fn before_write(&self, now_ms: i64) -> Result<WriteSection, StoreError> {
        let local = Arc::clone(&self.local).write_owned().await;
        self.shared.lock_writes().await?;
        let section = WriteSection {
            shared: Arc::clone(&self.shared),
            seen: Arc::clone(&self.seen),
            local: Some(local),
        };
        self.refresh(now_ms).await?;
        Ok(section)
    }

    async fn refresh(&self, now_ms: i64) -> Result<(), StoreError> {
        let mut seen = self.seen.lock().await;
        // Read before loading, so the copies are at least as new as the recorded generation.
        let generation = self.shared.generation().await?;
        if generation == *seen {
            return Ok(());
        }
        tracing::debug!(
            from = *seen,
            to = generation,
            "another process wrote; reloading"
        );
        self.time.refresh().await?;
        for product in self.products.iter() {
            product.reload(now_ms).await?;
        }
        *seen = generation;
        Ok(())
    }
}

impl Drop for WriteSection {
    fn drop(&mut self) {
        // The store's lock is released before this process lets its next writer in, so that
        // writer's lock request cannot race the release.
        let local = self.local.take();
        let shared = Arc::clone(&self.shared);
        let seen = Arc::clone(&self.seen);
        let release = async move {
            // On failure the old generation stays recorded, and the next request reloads.
            if let Ok(generation) = shared.generation().await {
                *seen.lock().await = generation;
            }
            if let Err(e) = shared.unlock_writes().await {
                tracing::error!(error = %e, "releasing the shared write lock failed");
            }
            drop(local);
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn(release)),
            Err(_) => tracing::error!("no runtime to release the shared write lock on"),
        }
    }
}
