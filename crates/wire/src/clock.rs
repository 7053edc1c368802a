//! Injected time.
//!
//! Nothing in tclocal reads the wall clock except [`SystemClock`]: signature skew checks,
//! resource timestamps and lifecycle transitions all ask a [`Clock`], so tests can pin time
//! and `POST /_tclocal/clock/advance` can move emulated time forward.

use std::sync::atomic::{AtomicI64, Ordering};

/// A source of the current time.
pub trait Clock: Send + Sync + 'static {
    /// Milliseconds since the Unix epoch.
    fn now_millis(&self) -> i64;

    /// Seconds since the Unix epoch.
    fn now_unix(&self) -> i64 {
        self.now_millis().div_euclid(1000)
    }

    /// Moves this clock forward by `millis` (emulated time; `POST /_tclocal/clock/advance`).
    fn advance_millis(&self, millis: i64);
}

/// `YYYY-MM-DDThh:mm:ssZ` of Unix milliseconds (UTC), the cloud's timestamp format.
#[must_use]
pub fn iso8601(ms: i64) -> String {
    Iso8601(ms).to_string()
}

/// Unix milliseconds shown (`Display`) and serialised as [`iso8601`] text, without an
/// intermediate `String`: answers write many of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Iso8601(pub i64);

impl std::fmt::Display for Iso8601 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secs = self.0.div_euclid(1000);
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
            rem / 3600,
            (rem % 3600) / 60,
            rem % 60
        )
    }
}

impl serde::Serialize for Iso8601 {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant's method).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    // Both are within 1..=31 and 1..=12 by construction.
    (
        y,
        u32::try_from(m).unwrap_or(1),
        u32::try_from(d).unwrap_or(1),
    )
}

/// The wall clock, plus an offset that emulated-time controls move forward.
#[derive(Debug, Default)]
pub struct SystemClock {
    offset_ms: AtomicI64,
}

impl SystemClock {
    /// The wall clock with no offset.
    #[must_use]
    pub fn new() -> SystemClock {
        SystemClock::default()
    }
}

impl Clock for SystemClock {
    fn advance_millis(&self, millis: i64) {
        self.offset_ms.fetch_add(millis, Ordering::Relaxed);
    }

    fn now_millis(&self) -> i64 {
        // The one sanctioned read of the wall clock (see clippy.toml).
        #[allow(clippy::disallowed_methods)]
        let now = std::time::SystemTime::now();
        let wall = now
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        wall.saturating_add(self.offset_ms.load(Ordering::Relaxed))
    }
}

/// A clock that only moves when told to: for tests.
#[derive(Debug)]
pub struct ManualClock {
    now_ms: AtomicI64,
}

impl ManualClock {
    /// A clock standing at `unix_seconds`.
    #[must_use]
    pub fn at(unix_seconds: i64) -> ManualClock {
        ManualClock {
            now_ms: AtomicI64::new(unix_seconds.saturating_mul(1000)),
        }
    }

    /// Sets the clock to `unix_seconds`.
    pub fn set(&self, unix_seconds: i64) {
        self.now_ms
            .store(unix_seconds.saturating_mul(1000), Ordering::Relaxed);
    }
}

impl Clock for ManualClock {
    fn advance_millis(&self, millis: i64) {
        self.now_ms.fetch_add(millis, Ordering::Relaxed);
    }

    fn now_millis(&self) -> i64 {
        self.now_ms.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_formats_utc() {
        assert_eq!(iso8601(1_700_000_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(951_782_400_000), "2000-02-29T00:00:00Z");
        assert_eq!(iso8601(-1000), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::at(1_551_113_065);
        assert_eq!(c.now_unix(), 1_551_113_065);
        c.advance_millis(1500);
        assert_eq!(c.now_unix(), 1_551_113_066);
        c.set(10);
        assert_eq!(c.now_millis(), 10_000);
    }

    #[test]
    fn system_clock_offset_moves_time_forward() {
        let c = SystemClock::new();
        let before = c.now_unix();
        c.advance_millis(3_600_000);
        assert!(c.now_unix() >= before + 3600);
    }
}
