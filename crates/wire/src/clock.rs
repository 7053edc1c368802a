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

    /// Moves emulated time forward by `millis`.
    pub fn advance_millis(&self, millis: i64) {
        self.offset_ms.fetch_add(millis, Ordering::Relaxed);
    }
}

impl Clock for SystemClock {
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

    /// Moves the clock forward by `millis`.
    pub fn advance_millis(&self, millis: i64) {
        self.now_ms.fetch_add(millis, Ordering::Relaxed);
    }

    /// Sets the clock to `unix_seconds`.
    pub fn set(&self, unix_seconds: i64) {
        self.now_ms
            .store(unix_seconds.saturating_mul(1000), Ordering::Relaxed);
    }
}

impl Clock for ManualClock {
    fn now_millis(&self) -> i64 {
        self.now_ms.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
