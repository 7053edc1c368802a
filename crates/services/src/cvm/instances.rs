//! The instance index: every instance by account and region.
//!
//! Reads are served from memory and cost the same however many instances other accounts and
//! regions hold. Creating instances (RunInstances) and their lifecycle arrive with the
//! stateful CVM work; until then the index is only read.

use std::collections::{BTreeMap, HashMap};

use parking_lot::RwLock;

/// Instance states by id, in id order.
type Scope = BTreeMap<String, &'static str>;

/// Instance states by id, per (AppId, region).
#[derive(Debug, Default)]
pub struct Instances {
    by_scope: RwLock<HashMap<(u64, String), Scope>>,
}

impl Instances {
    /// `(TotalCount, page)` of `(InstanceId, InstanceState)` for an account in a region,
    /// limited to `ids` when that is not empty.
    #[must_use]
    pub fn statuses(
        &self,
        app_id: u64,
        region: &str,
        ids: &[&str],
        offset: usize,
        limit: usize,
    ) -> (usize, Vec<(String, &'static str)>) {
        let guard = self.by_scope.read();
        let Some(scope) = guard.get(&(app_id, region.to_owned())) else {
            return (0, Vec::new());
        };
        if ids.is_empty() {
            let page = scope
                .iter()
                .skip(offset)
                .take(limit)
                .map(|(id, s)| (id.clone(), *s))
                .collect();
            return (scope.len(), page);
        }
        let found: Vec<(String, &'static str)> = ids
            .iter()
            .filter_map(|id| scope.get(*id).map(|s| ((*id).to_owned(), *s)))
            .collect();
        let total = found.len();
        (total, found.into_iter().skip(offset).take(limit).collect())
    }
}
