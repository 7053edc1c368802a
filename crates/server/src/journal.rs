//! The request journal: every API request, answered or refused, by RequestId.
//!
//! A RequestId exists so that a failed call can be investigated (the seeds say so); here
//! every one can be, through `GET /_tclocal/requests`. The journal is a bounded ring in
//! memory: recording is one short lock and no I/O, so the hot path does not feel it, and a
//! day of heavy use cannot grow it past its capacity. For a signature failure the entry keeps
//! the server's canonical request and string to sign (never a key), so a user can diff them
//! against their own.
//!
//! An entry is built on every request, so it holds what the request already owns (moved in)
//! or static text, and renders derived text (the ISO time) only when it is read.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::Arc;

use parking_lot::Mutex;
use serde::Serialize;

/// What the server computed when a signature did not match.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SignatureDiagnostics {
    /// The canonical request (TC3) or the string to sign (v1) the server built.
    pub canonical_request: String,
    /// The TC3 string to sign.
    pub string_to_sign: String,
}

/// The most bytes of each diagnostic text an entry keeps. A v1 string to sign holds every
/// form parameter of the body (up to the body limit), so without a cap the journal's size
/// would follow what failing clients send, not its entry count.
pub const MAX_DIAGNOSTIC_BYTES: usize = 16 * 1024;

impl SignatureDiagnostics {
    /// Diagnostics of what the server signed, each text cut to [`MAX_DIAGNOSTIC_BYTES`]
    /// with a note of how much was left out.
    #[must_use]
    pub fn new(canonical_request: String, string_to_sign: String) -> SignatureDiagnostics {
        SignatureDiagnostics {
            canonical_request: capped(canonical_request),
            string_to_sign: capped(string_to_sign),
        }
    }
}

fn capped(mut text: String) -> String {
    if text.len() <= MAX_DIAGNOSTIC_BYTES {
        return text;
    }
    let mut cut = MAX_DIAGNOSTIC_BYTES;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let left_out = text.len() - cut;
    text.truncate(cut);
    text.push_str(&format!("… ({left_out} more bytes not kept)"));
    text
}

/// One journal entry.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    /// `Response.RequestId`.
    pub request_id: String,
    /// Wall-clock time the request arrived, Unix milliseconds.
    pub time_ms: i64,
    /// The same as ISO-8601.
    pub time: IsoTime,
    /// `X-TC-TraceId`, when the client sent one.
    pub trace_id: Option<String>,
    /// `X-TC-RequestClient` / `RequestClient`.
    pub client: Option<String>,
    /// HTTP method.
    pub method: Cow<'static, str>,
    /// The caller's AppId, once authenticated.
    pub app_id: Option<u64>,
    /// The caller's UIN, once authenticated.
    pub uin: Option<String>,
    /// The SecretId the request named (not secret; the key never appears here).
    pub secret_id: Option<String>,
    /// Product, once routed.
    pub service: Option<&'static str>,
    /// Action.
    pub action: Option<String>,
    /// API version.
    pub version: Option<String>,
    /// Region.
    pub region: Option<String>,
    /// Answer language.
    pub language: &'static str,
    /// `Error.Code`, or `None` for success.
    pub code: Option<String>,
    /// `Error.Message`.
    pub message: Option<String>,
    /// Time spent answering, microseconds.
    pub latency_us: u64,
    /// How authentication went: `verified`, `unsigned`, `off`, or `soft: <code>` when a
    /// failure was let through by `--auth soft`.
    pub auth: Cow<'static, str>,
    /// For signature failures: what the server signed.
    pub signature: Option<SignatureDiagnostics>,
    /// The fault rule that decided the answer, if any.
    pub fault: Option<String>,
}

/// A Unix time in milliseconds that serialises as ISO-8601 (`2023-11-14T22:13:20Z`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IsoTime(pub i64);

impl Serialize for IsoTime {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&tclocal_wire::clock::iso8601(self.0))
    }
}

/// Filters for [`Journal::query`].
#[derive(Debug, Default, Clone)]
pub struct Query {
    /// Only entries with this code; `Success` selects successes.
    pub code: Option<String>,
    /// Only this action.
    pub action: Option<String>,
    /// Only this product.
    pub service: Option<String>,
    /// Only this account (AppId or UIN).
    pub account: Option<String>,
    /// Only entries at or after this time (Unix ms).
    pub since_ms: Option<i64>,
    /// Only entries at or before this time (Unix ms).
    pub until_ms: Option<i64>,
    /// At most this many, newest first.
    pub limit: usize,
}

/// The bounded journal.
#[derive(Debug)]
pub struct Journal {
    capacity: usize,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    ring: VecDeque<Arc<Entry>>,
    total: u64,
}

impl Journal {
    /// A journal keeping the last `capacity` entries (0 keeps none).
    #[must_use]
    pub fn new(capacity: usize) -> Journal {
        Journal {
            capacity,
            inner: Mutex::new(Inner::default()),
        }
    }

    /// Records an entry, dropping the oldest past capacity.
    pub fn record(&self, entry: Entry) {
        if self.capacity == 0 {
            return;
        }
        let entry = Arc::new(entry);
        let evicted = {
            let mut inner = self.inner.lock();
            inner.total += 1;
            let evicted = if inner.ring.len() == self.capacity {
                inner.ring.pop_front()
            } else {
                None
            };
            inner.ring.push_back(entry);
            evicted
        };
        // Freeing the oldest entry's text happens after the lock is released.
        drop(evicted);
    }

    /// One entry by RequestId, newest first. A scan: lookups are rare (a person or a test
    /// investigating a call), recording is on every request, and a map by id would cost
    /// every request a hash, a copy of the id and a removal.
    #[must_use]
    pub fn get(&self, request_id: &str) -> Option<Arc<Entry>> {
        self.inner
            .lock()
            .ring
            .iter()
            .rev()
            .find(|e| e.request_id == request_id)
            .cloned()
    }

    /// Entries matching `q`, newest first.
    #[must_use]
    pub fn query(&self, q: &Query) -> Vec<Arc<Entry>> {
        let snapshot: Vec<Arc<Entry>> = self.inner.lock().ring.iter().rev().cloned().collect();
        snapshot
            .into_iter()
            .filter(|e| match q.code.as_deref() {
                None => true,
                Some("Success") => e.code.is_none(),
                Some(c) => e.code.as_deref() == Some(c),
            })
            .filter(|e| {
                q.action
                    .as_ref()
                    .is_none_or(|a| e.action.as_ref() == Some(a))
            })
            .filter(|e| {
                q.service
                    .as_ref()
                    .is_none_or(|s| e.service == Some(s.as_str()))
            })
            .filter(|e| {
                q.account.as_ref().is_none_or(|a| {
                    e.app_id.is_some_and(|id| id.to_string() == *a) || e.uin.as_ref() == Some(a)
                })
            })
            .filter(|e| q.since_ms.is_none_or(|t| e.time_ms >= t))
            .filter(|e| q.until_ms.is_none_or(|t| e.time_ms <= t))
            .take(q.limit)
            .collect()
    }

    /// Requests recorded since start (including those that rotated out).
    #[must_use]
    pub fn total(&self) -> u64 {
        self.inner.lock().total
    }

    /// Entries held now.
    #[must_use]
    pub fn len(&self) -> usize {
        self.inner.lock().ring.len()
    }

    /// True when nothing is held.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets everything (reset).
    pub fn clear(&self) {
        let mut inner = self.inner.lock();
        inner.ring.clear();
    }
}

#[cfg(test)]
mod tests {
    /// Diagnostic texts are cut at a character boundary past the cap, and say so.
    #[test]
    fn diagnostics_are_capped() {
        let long = "é".repeat(MAX_DIAGNOSTIC_BYTES);
        let d = SignatureDiagnostics::new(long.clone(), "short".to_owned());
        assert!(d.canonical_request.len() < MAX_DIAGNOSTIC_BYTES + 64);
        assert!(long.starts_with(d.canonical_request.split('…').next().unwrap()));
        assert!(
            d.canonical_request
                .ends_with(&format!("({} more bytes not kept)", MAX_DIAGNOSTIC_BYTES))
        );
        assert_eq!(d.string_to_sign, "short");
    }

    use super::*;

    fn entry(id: &str, code: Option<&str>, t: i64) -> Entry {
        Entry {
            request_id: id.into(),
            time_ms: t,
            time: IsoTime(t),
            trace_id: None,
            client: None,
            method: "POST".into(),
            app_id: Some(1),
            uin: Some("100".into()),
            secret_id: None,
            service: Some("cvm"),
            action: Some(
                if code.is_some() {
                    "RunInstances"
                } else {
                    "DescribeZones"
                }
                .into(),
            ),
            version: None,
            region: None,
            language: "zh-CN",
            code: code.map(Into::into),
            message: None,
            latency_us: 1,
            auth: "verified".into(),
            signature: None,
            fault: None,
        }
    }

    #[test]
    fn ring_is_bounded_and_lookups_follow_it() {
        let j = Journal::new(3);
        for i in 0..5 {
            j.record(entry(&format!("r{i}"), None, i));
        }
        assert_eq!(j.len(), 3);
        assert_eq!(j.total(), 5);
        assert!(j.get("r1").is_none());
        assert!(j.get("r4").is_some());
    }

    #[test]
    fn queries_filter_and_return_newest_first() {
        let j = Journal::new(10);
        j.record(entry("a", None, 1));
        j.record(entry("b", Some("InternalError"), 2));
        j.record(entry("c", None, 3));
        let q = |f: fn(&mut Query)| {
            let mut q = Query {
                limit: 10,
                ..Query::default()
            };
            f(&mut q);
            j.query(&q)
                .iter()
                .map(|e| e.request_id.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(q(|_| {}), ["c", "b", "a"]);
        assert_eq!(q(|q| q.code = Some("InternalError".into())), ["b"]);
        assert_eq!(q(|q| q.code = Some("Success".into())), ["c", "a"]);
        assert_eq!(q(|q| q.action = Some("RunInstances".into())), ["b"]);
        assert_eq!(q(|q| q.account = Some("100".into())).len(), 3);
        assert_eq!(q(|q| q.account = Some("1".into())).len(), 3);
        assert!(q(|q| q.account = Some("2".into())).is_empty());
        assert_eq!(q(|q| q.since_ms = Some(2)), ["c", "b"]);
        assert_eq!(q(|q| q.limit = 1), ["c"]);
        let none = Journal::new(0);
        none.record(entry("x", None, 0));
        assert!(none.is_empty());
    }
}
