//! The unit of writing: a batch of puts and deletes that a backend applies all-or-nothing.
//!
//! Writes are plain data rather than calls on an open transaction so that a backend can queue them,
//! group many callers' batches into one physical transaction (group commit), or ship them to another
//! process, without holding any lock while the caller still runs code.

/// One write inside a [`Batch`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// Insert or replace the value stored under `key` in `table`.
    Put {
        /// Table name.
        table: String,
        /// Row key.
        key: String,
        /// New value.
        value: Vec<u8>,
    },
    /// Remove `key` from `table`; removing a missing key is not an error.
    Delete {
        /// Table name.
        table: String,
        /// Row key.
        key: String,
    },
}

impl Op {
    /// The table this op writes to.
    pub fn table(&self) -> &str {
        match self {
            Op::Put { table, .. } | Op::Delete { table, .. } => table,
        }
    }

    /// The key this op writes to.
    pub fn key(&self) -> &str {
        match self {
            Op::Put { key, .. } | Op::Delete { key, .. } => key,
        }
    }
}

/// Writes applied atomically by [`Store::commit`](crate::Store::commit), in the order they were added.
///
/// ```
/// use tclocal_store::Batch;
///
/// let mut batch = Batch::new();
/// batch.put("cam.users", "100001", b"{}".to_vec()).delete("cam.keys", "AKID-old");
/// assert_eq!(batch.len(), 2);
/// ```
#[derive(Default, Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    ops: Vec<Op>,
}

impl Batch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a put of `value` under `key` in `table`.
    pub fn put(
        &mut self,
        table: impl Into<String>,
        key: impl Into<String>,
        value: impl Into<Vec<u8>>,
    ) -> &mut Self {
        self.ops.push(Op::Put {
            table: table.into(),
            key: key.into(),
            value: value.into(),
        });
        self
    }

    /// Adds a delete of `key` in `table`.
    pub fn delete(&mut self, table: impl Into<String>, key: impl Into<String>) -> &mut Self {
        self.ops.push(Op::Delete {
            table: table.into(),
            key: key.into(),
        });
        self
    }

    /// Adds an already built op.
    pub fn push(&mut self, op: Op) -> &mut Self {
        self.ops.push(op);
        self
    }

    /// True when the batch holds no op.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Number of ops.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// The ops, in the order they apply.
    pub fn ops(&self) -> &[Op] {
        &self.ops
    }

    /// Takes the ops out of the batch.
    pub fn into_ops(self) -> Vec<Op> {
        self.ops
    }
}

impl From<Vec<Op>> for Batch {
    fn from(ops: Vec<Op>) -> Self {
        Self { ops }
    }
}

impl FromIterator<Op> for Batch {
    fn from_iter<I: IntoIterator<Item = Op>>(iter: I) -> Self {
        Self {
            ops: iter.into_iter().collect(),
        }
    }
}

impl Extend<Op> for Batch {
    fn extend<I: IntoIterator<Item = Op>>(&mut self, iter: I) {
        self.ops.extend(iter);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ops keep insertion order and expose their table and key.
    #[test]
    fn builds_in_order() {
        let mut batch = Batch::new();
        assert!(batch.is_empty());
        batch.put("t", "a", vec![1]).delete("t", "b");
        assert_eq!(batch.len(), 2);
        assert_eq!(
            batch.ops()[0],
            Op::Put {
                table: "t".to_owned(),
                key: "a".to_owned(),
                value: vec![1]
            }
        );
        assert_eq!(batch.ops()[1].table(), "t");
        assert_eq!(batch.ops()[1].key(), "b");
        let again: Batch = batch.clone().into_ops().into_iter().collect();
        assert_eq!(again, batch);
    }
}
