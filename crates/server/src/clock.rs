//! Emulated time that survives restarts: the offset `POST /_tclocal/clock/advance` adds to the
//! wall clock is kept in the store, so a restart on the same data does not move emulated time
//! back (pending transitions would otherwise wait again, and timestamps would go backwards).
//!
//! The offset lives in its own table, outside every product's: a product reset or import leaves
//! it alone, and snapshots carry it in their `clock` field.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use serde::{Deserialize, Serialize};
use tclocal_store::{Batch, Store, StoreError, codec};
use tclocal_wire::clock::Clock;

/// The store table of the offset.
pub const TABLE: &str = "tclocal.clock";
const KEY: &str = "offset";
const VERSION: u16 = 1;

/// The persisted record, and a snapshot's `clock` field.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockState {
    /// Milliseconds emulated time is ahead of the wall clock.
    pub offset_ms: i64,
}

/// Emulated time, with its offset written through to the store.
pub struct EmulatedTime {
    clock: Arc<dyn Clock>,
    store: Arc<dyn Store>,
    offset_ms: AtomicI64,
    /// One change at a time, so the stored offset is the last one applied.
    writer: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for EmulatedTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatedTime")
            .field("offset_ms", &self.offset_ms())
            .finish_non_exhaustive()
    }
}

impl EmulatedTime {
    /// Reads the stored offset and moves `clock` forward by it; call before anything reads
    /// emulated time (products settle transitions at start-up).
    ///
    /// # Errors
    /// A store failure, or an offset record this build cannot read.
    pub async fn open(clock: Arc<dyn Clock>, store: Arc<dyn Store>) -> Result<Self, StoreError> {
        let offset_ms = match store.get(TABLE, KEY).await? {
            Some(bytes) => {
                codec::decode_at::<ClockState>(TABLE, KEY, &bytes)?
                    .1
                    .offset_ms
            }
            None => 0,
        };
        if offset_ms > 0 {
            clock.advance_millis(offset_ms);
            tracing::info!(offset_ms, "emulated time resumes ahead of the wall clock");
        }
        Ok(EmulatedTime {
            clock,
            store,
            offset_ms: AtomicI64::new(offset_ms),
            writer: tokio::sync::Mutex::new(()),
        })
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// How far emulated time is ahead of the wall clock.
    pub fn offset_ms(&self) -> i64 {
        self.offset_ms.load(Ordering::Acquire)
    }

    /// Moves emulated time forward by `millis`: stored first, so an answered advance survives
    /// a crash and a failed one changes nothing.
    ///
    /// # Errors
    /// A store failure (the clock is then unchanged).
    pub async fn advance(&self, millis: i64) -> Result<(), StoreError> {
        let _writer = self.writer.lock().await;
        let offset = self.offset_ms().saturating_add(millis.max(0));
        self.store.commit(record(offset)).await?;
        self.clock.advance_millis(offset - self.offset_ms());
        self.offset_ms.store(offset, Ordering::Release);
        Ok(())
    }

    /// Moves emulated time forward to `offset_ms` ahead of the wall clock; never back.
    ///
    /// # Errors
    /// A store failure.
    pub async fn advance_to(&self, offset_ms: i64) -> Result<(), StoreError> {
        let behind = offset_ms.saturating_sub(self.offset_ms());
        if behind > 0 {
            self.advance(behind).await?;
        }
        Ok(())
    }

    /// Catches up with an offset another process sharing the store wrote; never back.
    ///
    /// # Errors
    /// A store failure, or an offset record this build cannot read.
    pub async fn refresh(&self) -> Result<(), StoreError> {
        let _writer = self.writer.lock().await;
        let stored = match self.store.get(TABLE, KEY).await? {
            Some(bytes) => {
                codec::decode_at::<ClockState>(TABLE, KEY, &bytes)?
                    .1
                    .offset_ms
            }
            None => 0,
        };
        let behind = stored - self.offset_ms();
        if behind > 0 {
            self.clock.advance_millis(behind);
            self.offset_ms.store(stored, Ordering::Release);
        }
        Ok(())
    }

    /// Writes the current offset again, after a reset emptied every table.
    ///
    /// # Errors
    /// A store failure.
    pub async fn persist(&self) -> Result<(), StoreError> {
        let _writer = self.writer.lock().await;
        let offset = self.offset_ms();
        if offset == 0 {
            return Ok(());
        }
        self.store.commit(record(offset)).await
    }
}

fn record(offset_ms: i64) -> Batch {
    let mut batch = Batch::new();
    batch.put(
        TABLE,
        KEY,
        codec::encode(VERSION, &ClockState { offset_ms }),
    );
    batch
}

#[cfg(test)]
mod tests {
    use super::*;
    use tclocal_store::MemoryStore;
    use tclocal_wire::clock::ManualClock;

    /// An advance is stored and applied again by the next open on the same store; moving to an
    /// earlier offset does nothing.
    #[tokio::test]
    async fn the_offset_survives_a_reopen_and_never_goes_back() {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let first = EmulatedTime::open(Arc::new(ManualClock::at(100)), store.clone())
            .await
            .unwrap();
        first.advance(5_000).await.unwrap();
        assert_eq!(first.clock().now_millis(), 105_000);
        first.advance_to(1_000).await.unwrap();
        assert_eq!(first.offset_ms(), 5_000, "never back");
        first.advance_to(7_000).await.unwrap();
        assert_eq!(first.clock().now_millis(), 107_000);

        let again = EmulatedTime::open(Arc::new(ManualClock::at(200)), store)
            .await
            .unwrap();
        assert_eq!(again.offset_ms(), 7_000);
        assert_eq!(again.clock().now_millis(), 207_000);
    }
}
