//! Injected request ids.
//!
//! Every answer carries a `RequestId` (a UUID v4 on the real cloud). Production draws random
//! ones; tests use [`SeqRequestIds`] to get predictable ids of the same shape.

use std::sync::atomic::{AtomicU64, Ordering};

/// A source of request ids.
pub trait RequestIds: Send + Sync + 'static {
    /// The next id, formatted as a lowercase hyphenated UUID.
    fn next_id(&self) -> String;
}

/// Random UUID v4 ids.
#[derive(Debug, Default, Clone, Copy)]
pub struct UuidRequestIds;

impl RequestIds for UuidRequestIds {
    fn next_id(&self) -> String {
        // The one sanctioned source of random ids (see clippy.toml).
        #[allow(clippy::disallowed_methods)]
        let id = uuid::Uuid::new_v4();
        id.hyphenated().to_string()
    }
}

/// Sequential ids that still parse as UUID v4: `00000000-0000-4000-8000-000000000001`, …
#[derive(Debug, Default)]
pub struct SeqRequestIds {
    next: AtomicU64,
}

impl RequestIds for SeqRequestIds {
    fn next_id(&self) -> String {
        let n = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        format!("00000000-0000-4000-8000-{:012x}", n & 0xffff_ffff_ffff)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_sources_give_uuid_v4_strings() {
        let seq = SeqRequestIds::default();
        for id in [UuidRequestIds.next_id(), seq.next_id(), seq.next_id()] {
            let u = uuid::Uuid::parse_str(&id).unwrap();
            assert_eq!(u.get_version_num(), 4, "{id}");
        }
        assert_eq!(seq.next_id(), "00000000-0000-4000-8000-000000000003");
    }
}
