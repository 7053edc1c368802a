//! Versioned envelopes for persisted records.
//!
//! Every value a service persists is wrapped as `{"v":N,"d":...}` so that a record written by an
//! older build can be recognised and migrated (`mod vN` → `mod vN+1`, see style rule 6) instead of
//! being misread. JSON keeps the database readable with the `sqlite3` shell while debugging.
//!
//! ```
//! use tclocal_store::codec::{decode, encode};
//!
//! let bytes = encode(1, &vec!["ins-1".to_owned()]);
//! assert_eq!(bytes, br#"{"v":1,"d":["ins-1"]}"#);
//! let (version, ids): (u16, Vec<String>) = decode(&bytes)?;
//! assert_eq!((version, ids), (1, vec!["ins-1".to_owned()]));
//! # Ok::<(), tclocal_store::StoreError>(())
//! ```

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::{Result, StoreError};

#[derive(Serialize)]
struct EnvelopeOut<'a, T> {
    v: u16,
    d: &'a T,
}

#[derive(Deserialize)]
struct EnvelopeIn<T> {
    v: u16,
    d: T,
}

/// Encodes `value` as a record of schema `version`.
///
/// # Panics
///
/// If `T`'s `Serialize` implementation fails, e.g. a map with non-string keys. Record types are ours
/// and fixed at compile time, so that is a programming error, caught by the type's first test.
pub fn encode<T: Serialize>(version: u16, value: &T) -> Vec<u8> {
    serde_json::to_vec(&EnvelopeOut {
        v: version,
        d: value,
    })
    .expect("record types serialize to JSON (no non-string map keys, no failing Serialize)")
}

/// Decodes a record written by [`encode`], returning its schema version and value.
///
/// To migrate old versions, decode into `serde_json::Value` first and dispatch on the version.
/// Errors are [`StoreError::Corrupt`] with an empty table and key; use [`decode_at`] to name them.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<(u16, T)> {
    decode_at("", "", bytes)
}

/// Like [`decode`], naming the row in the error so an operator can find the damaged record.
pub fn decode_at<T: DeserializeOwned>(table: &str, key: &str, bytes: &[u8]) -> Result<(u16, T)> {
    match serde_json::from_slice::<EnvelopeIn<T>>(bytes) {
        Ok(envelope) => Ok((envelope.v, envelope.d)),
        Err(err) => Err(StoreError::Corrupt {
            table: table.to_owned(),
            key: key.to_owned(),
            reason: format!("undecodable record ({})", json_error_reason(&err)),
        }),
    }
}

/// Why JSON did not decode, without quoting it: serde_json's own message may quote part of the
/// input (`invalid type: string "…"`), and records and state files may hold secrets. Gives the
/// error class and position only.
#[must_use]
pub fn json_error_reason(err: &serde_json::Error) -> String {
    format!(
        "{:?} error at line {} column {}",
        err.classify(),
        err.line(),
        err.column()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Deserialize, Serialize};

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct User {
        name: String,
        secret: String,
        tags: Vec<String>,
    }

    fn user() -> User {
        User {
            name: "alice".to_owned(),
            secret: "s3cr3t-key".to_owned(),
            tags: vec!["dev".to_owned(), "中文".to_owned()],
        }
    }

    /// A record comes back with the version it was written with.
    #[test]
    fn round_trip() {
        let bytes = encode(3, &user());
        assert_eq!(decode::<User>(&bytes).unwrap(), (3, user()));
    }

    /// The on-disk shape is the documented envelope.
    #[test]
    fn envelope_shape() {
        let value: serde_json::Value = serde_json::from_slice(&encode(7, &42u32)).unwrap();
        assert_eq!(value, serde_json::json!({"v": 7, "d": 42}));
    }

    /// An old record can be inspected generically before choosing how to migrate it.
    #[test]
    fn decode_as_value_for_migration() {
        let (version, value) = decode::<serde_json::Value>(&encode(1, &user())).unwrap();
        assert_eq!(version, 1);
        assert_eq!(value["name"], "alice");
    }

    /// Garbage, truncation, a missing envelope or a wrong shape give `Corrupt`, never a panic.
    #[test]
    fn corrupt_records_are_errors() {
        let good = encode(1, &user());
        let cases: Vec<Vec<u8>> = vec![
            Vec::new(),
            b"\xff\x00\xfe".to_vec(),
            good[..good.len() - 3].to_vec(),
            br#"{"name":"alice"}"#.to_vec(),
            br#"{"v":1}"#.to_vec(),
            br#"{"v":70000,"d":{}}"#.to_vec(),
            br#"{"v":1,"d":{"name":1,"secret":"s3cr3t-key","tags":[]}}"#.to_vec(),
        ];
        for bytes in cases {
            let err = decode_at::<User>("cam.users", "100001", &bytes).unwrap_err();
            match &err {
                StoreError::Corrupt { table, key, .. } => {
                    assert_eq!((table.as_str(), key.as_str()), ("cam.users", "100001"));
                }
                other => panic!("expected Corrupt, got {other:?}"),
            }
            assert!(!err.to_string().contains("s3cr3t"), "{err}");
        }
    }

    /// A type mismatch inside `d` does not echo the record's content.
    #[test]
    fn corrupt_reason_hides_content() {
        let err = decode::<u32>(br#"{"v":1,"d":"AKIDsecretvalue"}"#).unwrap_err();
        assert!(!err.to_string().contains("AKIDsecretvalue"), "{err}");
    }
}
