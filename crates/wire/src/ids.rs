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

/// Random UUID v4 ids, from a thread-local generator seeded by the OS (uuid's `fast-rng`):
/// one id per request, so a system call each would show in the request's cost.
#[derive(Debug, Default, Clone, Copy)]
pub struct UuidRequestIds;

impl RequestIds for UuidRequestIds {
    fn next_id(&self) -> String {
        // The one sanctioned source of random ids (see clippy.toml).
        #[allow(clippy::disallowed_methods)]
        let id = uuid::Uuid::new_v4();
        id.hyphenated()
            .encode_lower(&mut uuid::Uuid::encode_buffer())
            .to_owned()
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

/// A source of resource ids (`ins-3f8k2c9d`, `skey-…`) and resource UUIDs.
pub trait ResourceIds: Send + Sync + 'static {
    /// `prefix` + `-` + 8 lowercase letters and digits.
    fn short_id(&self, prefix: &str) -> String;
    /// A lowercase hyphenated UUID v4.
    fn uuid(&self) -> String;
    /// 32 bytes of key material (e.g. an SSH key seed).
    fn seed32(&self) -> [u8; 32];
}

const ALPHABET: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";

fn base36_8(mut n: u128) -> String {
    let mut s = String::with_capacity(8);
    for _ in 0..8 {
        s.push(char::from(ALPHABET[(n % 36) as usize]));
        n /= 36;
    }
    s
}

/// Random ids, drawn from UUID v4 randomness.
#[derive(Debug, Default, Clone, Copy)]
pub struct RandomResourceIds;

impl ResourceIds for RandomResourceIds {
    fn short_id(&self, prefix: &str) -> String {
        format!("{prefix}-{}", base36_8(UuidRequestIds.next_u128()))
    }

    fn uuid(&self) -> String {
        UuidRequestIds.next_id()
    }

    fn seed32(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        out[..16].copy_from_slice(&UuidRequestIds.next_u128().to_le_bytes());
        out[16..].copy_from_slice(&UuidRequestIds.next_u128().to_le_bytes());
        out
    }
}

impl UuidRequestIds {
    fn next_u128(self) -> u128 {
        // The one sanctioned source of random ids (see clippy.toml).
        #[allow(clippy::disallowed_methods)]
        let id = uuid::Uuid::new_v4();
        id.as_u128()
    }
}

/// Predictable ids for tests: `ins-00000001`, `ins-00000002`, …
#[derive(Debug, Default)]
pub struct SeqResourceIds {
    next: AtomicU64,
    uuids: SeqRequestIds,
}

impl ResourceIds for SeqResourceIds {
    fn short_id(&self, prefix: &str) -> String {
        let n = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        format!("{prefix}-{:08}", n % 100_000_000)
    }

    fn uuid(&self) -> String {
        self.uuids.next_id()
    }

    fn seed32(&self) -> [u8; 32] {
        let n = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let mut out = [7u8; 32];
        out[..8].copy_from_slice(&n.to_le_bytes());
        out
    }
}

#[cfg(test)]
mod resource_tests {
    use super::*;

    #[test]
    fn short_ids_have_the_cloud_shape() {
        for id in [
            RandomResourceIds.short_id("ins"),
            SeqResourceIds::default().short_id("ins"),
        ] {
            assert_eq!(id.len(), 12, "{id}");
            assert!(id.starts_with("ins-"));
            assert!(
                id[4..]
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            );
        }
        assert_ne!(
            RandomResourceIds.short_id("ins"),
            RandomResourceIds.short_id("ins")
        );
        let seq = SeqResourceIds::default();
        assert_eq!(seq.short_id("ins"), "ins-00000001");
        assert_eq!(seq.short_id("skey"), "skey-00000002");
    }
}
