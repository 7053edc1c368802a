//! The SQLite writer thread and its group commit.
//!
//! SQLite allows one writer at a time and each durable commit costs a WAL write (and with
//! `synchronous=FULL` an fsync), so throughput comes from putting many callers' batches into one
//! SQLite transaction. One dedicated OS thread owns the write connection: callers queue their write
//! on a bounded channel and await a oneshot; the thread takes the first queued write, drains
//! whatever else is already waiting, applies all of it in one transaction and answers each caller.
//! No timer is involved: while one group commits, the next one accumulates by itself, so a lone
//! writer pays no extra latency and a busy store commits in large groups.
//!
//! Each caller's batch runs inside its own SAVEPOINT, so a batch that fails is rolled back alone and
//! reported to its caller, while the other batches of the group still commit.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;

use rusqlite::{Connection, DropBehavior, TransactionBehavior, params};
use tokio::sync::{mpsc, oneshot};

use super::sql_error;
use crate::{Batch, Durable, Op, Result, StoreError};

/// Queue length before callers wait (asynchronously) for the writer: enough to form large groups,
/// small enough that a stalled disk turns into backpressure rather than unbounded memory.
const QUEUE_CAPACITY: usize = 4096;

/// Stop draining the queue once a group holds this many ops, so one transaction (and the WAL it
/// grows) stays bounded and the first caller of a group is not kept waiting behind a flood.
const MAX_GROUP_OPS: usize = 16_384;

/// A write the thread applies atomically.
pub(super) enum Write {
    Batch(Batch),
    Clear(Option<String>),
}

impl Write {
    fn weight(&self) -> usize {
        match self {
            Write::Batch(batch) => batch.len().max(1),
            Write::Clear(_) => 1,
        }
    }
}

enum Msg {
    Write {
        write: Write,
        reply: oneshot::Sender<Result<()>>,
    },
    /// Holds the thread until the sender side is dropped, so a test can queue writes first and
    /// observe them committed as one group.
    #[cfg(test)]
    Pause(std::sync::mpsc::Receiver<()>),
}

#[derive(Default)]
struct Counters {
    transactions: AtomicU64,
    commits: AtomicU64,
}

/// Counts of the writer's work, for benchmarks and diagnostics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CommitStats {
    /// SQLite transactions committed (one per group).
    pub transactions: u64,
    /// Callers' writes (batches and clears) applied; `commits / transactions` is the mean group size.
    pub commits: u64,
}

/// Handle to the writer thread. Dropping it flushes the queue and joins the thread.
pub(super) struct Writer {
    queue: Option<mpsc::Sender<Msg>>,
    thread: Option<JoinHandle<()>>,
    counters: Arc<Counters>,
}

impl Writer {
    pub(super) fn spawn(conn: Connection, name: String) -> Result<Self> {
        let (queue, rx) = mpsc::channel(QUEUE_CAPACITY);
        let counters = Arc::new(Counters::default());
        let thread_counters = Arc::clone(&counters);
        let thread = std::thread::Builder::new()
            .name(name)
            .spawn(move || run(conn, rx, &thread_counters))
            .map_err(|e| {
                StoreError::Backend(format!("cannot start the SQLite writer thread: {e}"))
            })?;
        Ok(Self {
            queue: Some(queue),
            thread: Some(thread),
            counters,
        })
    }

    /// Queues `write` and waits until it is committed (or failed).
    pub(super) async fn submit(&self, write: Write) -> Result<()> {
        self.queue(write).await?.await
    }

    /// Queues `write` (waiting only for room in the queue) and returns the wait for its commit.
    pub(super) async fn queue(&self, write: Write) -> Result<Durable> {
        let queue = self.queue.as_ref().ok_or(StoreError::Closed)?;
        let (reply, answer) = oneshot::channel();
        queue
            .send(Msg::Write { write, reply })
            .await
            .map_err(|_| StoreError::Closed)?;
        // The thread only drops a reply unanswered if it panicked.
        Ok(Box::pin(async move {
            answer.await.map_err(|_| StoreError::Closed)?
        }))
    }

    pub(super) fn stats(&self) -> CommitStats {
        CommitStats {
            transactions: self.counters.transactions.load(Ordering::Relaxed),
            commits: self.counters.commits.load(Ordering::Relaxed),
        }
    }

    /// Blocks the writer until the returned sender is dropped.
    #[cfg(test)]
    pub(super) async fn pause(&self) -> std::sync::mpsc::Sender<()> {
        let (release, gate) = std::sync::mpsc::channel();
        let queue = self.queue.as_ref().expect("writer is running");
        queue
            .send(Msg::Pause(gate))
            .await
            .expect("writer is running");
        release
    }

    /// Number of messages waiting in the queue.
    #[cfg(test)]
    pub(super) fn queued(&self) -> usize {
        self.queue
            .as_ref()
            .map_or(0, |q| q.max_capacity() - q.capacity())
    }

    /// Queues `write` without waiting, returning where its outcome will arrive.
    #[cfg(test)]
    pub(super) fn enqueue(&self, write: Write) -> oneshot::Receiver<Result<()>> {
        let (reply, answer) = oneshot::channel();
        let queue = self.queue.as_ref().expect("writer is running");
        assert!(queue.try_send(Msg::Write { write, reply }).is_ok());
        answer
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        // Closing the channel lets the thread drain what is queued and then stop; joining makes the
        // file's locks and WAL settle before a reopen in the same process.
        drop(self.queue.take());
        if let Some(thread) = self.thread.take() {
            // A panicked writer has nothing left to flush; its callers already got `Closed`.
            let _ = thread.join();
        }
    }
}

fn run(mut conn: Connection, mut rx: mpsc::Receiver<Msg>, counters: &Counters) {
    let mut carried: Option<Msg> = None;
    loop {
        let Some(first) = carried.take().or_else(|| rx.blocking_recv()) else {
            break; // every sender is gone and the queue is empty
        };
        let mut group = Vec::new();
        let mut ops = 0;
        match first {
            Msg::Write { write, reply } => {
                ops += write.weight();
                group.push((write, reply));
            }
            #[cfg(test)]
            Msg::Pause(gate) => {
                let _ = gate.recv();
                continue;
            }
        }
        while ops < MAX_GROUP_OPS {
            match rx.try_recv() {
                Ok(Msg::Write { write, reply }) => {
                    ops += write.weight();
                    group.push((write, reply));
                }
                #[cfg(test)]
                Ok(pause @ Msg::Pause(_)) => {
                    carried = Some(pause);
                    break;
                }
                Err(_) => break,
            }
        }
        let (writes, replies): (Vec<Write>, Vec<_>) = group.into_iter().unzip();
        let results = match apply_group(&mut conn, &writes) {
            Ok(results) => results,
            Err(err) => vec![Err(err); writes.len()],
        };
        counters.transactions.fetch_add(1, Ordering::Relaxed);
        counters
            .commits
            .fetch_add(writes.len() as u64, Ordering::Relaxed);
        for (reply, result) in replies.into_iter().zip(results) {
            // The caller may have given up waiting; its write is committed either way.
            let _ = reply.send(result);
        }
    }
}

/// Applies every write in one transaction. The outer error means nothing of the group committed;
/// otherwise each write has its own outcome.
fn apply_group(conn: &mut Connection, writes: &[Write]) -> Result<Vec<Result<()>>> {
    let mut tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| sql_error("begin transaction", &e))?;
    let mut results = Vec::with_capacity(writes.len());
    for write in writes {
        let mut savepoint = tx.savepoint().map_err(|e| sql_error("savepoint", &e))?;
        match apply_write(&savepoint, write) {
            Ok(()) => {
                savepoint
                    .commit()
                    .map_err(|e| sql_error("release savepoint", &e))?;
                results.push(Ok(()));
            }
            Err(err) => {
                savepoint.set_drop_behavior(DropBehavior::Rollback);
                savepoint
                    .finish()
                    .map_err(|e| sql_error("roll back savepoint", &e))?;
                results.push(Err(err));
            }
        }
    }
    tx.commit().map_err(|e| sql_error("commit", &e))?;
    Ok(results)
}

fn apply_write(conn: &Connection, write: &Write) -> Result<()> {
    match write {
        Write::Batch(batch) => {
            let mut put = conn
                .prepare_cached(
                    "INSERT INTO kv (tbl, key, value) VALUES (?1, ?2, ?3)
                     ON CONFLICT (tbl, key) DO UPDATE SET value = excluded.value",
                )
                .map_err(|e| sql_error("prepare put", &e))?;
            let mut delete = conn
                .prepare_cached("DELETE FROM kv WHERE tbl = ?1 AND key = ?2")
                .map_err(|e| sql_error("prepare delete", &e))?;
            for op in batch.ops() {
                match op {
                    Op::Put { table, key, value } => put
                        .execute(params![table, key, value])
                        .map_err(|e| sql_error("put", &e))?,
                    Op::Delete { table, key } => delete
                        .execute(params![table, key])
                        .map_err(|e| sql_error("delete", &e))?,
                };
            }
            Ok(())
        }
        Write::Clear(Some(table)) => conn
            .execute("DELETE FROM kv WHERE tbl = ?1", params![table])
            .map(drop)
            .map_err(|e| sql_error("clear table", &e)),
        Write::Clear(None) => conn
            .execute("DELETE FROM kv", [])
            .map(drop)
            .map_err(|e| sql_error("clear all", &e)),
    }
}
