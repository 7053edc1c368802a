//! Opt-in retries: exponential backoff with jitter.
//!
//! What is retried, as the official SDKs do (tencentcloud-sdk-go `ratelimitretry.go`,
//! `netretry.go`):
//!
//! * an answer whose code is `RequestLimitExceeded` or one of its sub-codes: the service
//!   refused the request before acting on it, so sending it again is always safe;
//! * a connection that could not be made: the request never left;
//! * another network failure (timeout, reset) only when sending twice cannot do harm: the
//!   request carries a `ClientToken` (the client fills one in where the action has it), or the
//!   action only reads (`Describe…`, `Inquir…`, `Get…`, `List…`, `Query…`), or
//!   [`RetryPolicy::retry_unsafe_network`] says so.
//!
//! Never retried: `InternalError` and every other API error (the answer would be the same, or
//! the service may have acted), decoding errors, credential errors.
//!
//! Each attempt is signed again, with a fresh timestamp and the credentials of that moment.

use std::time::Duration;

use tclocal_wire::ids::{RandomResourceIds, ResourceIds};

/// How a client retries. The default retries nothing.
///
/// ```
/// use std::time::Duration;
/// use tclocal_sdk::RetryPolicy;
///
/// let policy = RetryPolicy::standard().max_retries(5).base_delay(Duration::from_millis(200));
/// assert!(policy.is_enabled());
/// assert!(!RetryPolicy::none().is_enabled());
/// // The n-th retry waits between half and all of base * 2^n, capped.
/// let d = policy.backoff(2, 0.5);
/// assert_eq!(d, Duration::from_millis(600));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    max_retries: u32,
    base_delay: Duration,
    max_delay: Duration,
    retry_unsafe_network: bool,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy::none()
    }
}

impl RetryPolicy {
    /// No retries: every failure is reported at once.
    #[must_use]
    pub fn none() -> RetryPolicy {
        RetryPolicy {
            max_retries: 0,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(20),
            retry_unsafe_network: false,
        }
    }

    /// Three retries, starting at about one second and doubling (the Go SDK's schedule, with
    /// jitter so that many clients hitting one limit do not come back in step).
    #[must_use]
    pub fn standard() -> RetryPolicy {
        RetryPolicy {
            max_retries: 3,
            ..RetryPolicy::none()
        }
    }

    /// How many times a call may be sent again after its first attempt.
    #[must_use]
    pub fn max_retries(mut self, n: u32) -> RetryPolicy {
        self.max_retries = n;
        self
    }

    /// The delay before the first retry (before jitter); each later retry doubles it.
    #[must_use]
    pub fn base_delay(mut self, d: Duration) -> RetryPolicy {
        self.base_delay = d;
        self
    }

    /// The longest delay between two attempts.
    #[must_use]
    pub fn max_delay(mut self, d: Duration) -> RetryPolicy {
        self.max_delay = d;
        self
    }

    /// Also retry network failures of requests that may have been acted on and carry no
    /// `ClientToken` (the Go SDK's `UnsafeRetryOnConnectionFailure`).
    #[must_use]
    pub fn retry_unsafe_network(mut self, yes: bool) -> RetryPolicy {
        self.retry_unsafe_network = yes;
        self
    }

    /// True when the policy retries at all.
    #[must_use]
    pub fn is_enabled(&self) -> bool {
        self.max_retries > 0
    }

    /// The retry budget.
    #[must_use]
    pub fn retries(&self) -> u32 {
        self.max_retries
    }

    pub(crate) fn unsafe_network(&self) -> bool {
        self.retry_unsafe_network
    }

    /// The wait before retry number `retry` (0-based), for a jitter draw `unit` in `[0, 1)`:
    /// `d = min(max_delay, base_delay * 2^retry)`, then a value in `[d/2, d)`.
    #[must_use]
    pub fn backoff(&self, retry: u32, unit: f64) -> Duration {
        let factor = 2u32.saturating_pow(retry.min(31));
        let d = self.base_delay.saturating_mul(factor).min(self.max_delay);
        let unit = if unit.is_finite() {
            unit.clamp(0.0, 1.0)
        } else {
            0.0
        };
        d / 2 + d.mul_f64(unit / 2.0)
    }
}

/// The randomness behind jitter; tests pin it.
pub trait Jitter: Send + Sync + std::fmt::Debug + 'static {
    /// A number in `[0, 1)`.
    fn unit(&self) -> f64;
}

/// Jitter from the system's randomness (UUID v4 bits, the project's one random source).
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemJitter;

impl Jitter for SystemJitter {
    fn unit(&self) -> f64 {
        let seed = RandomResourceIds.seed32();
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(&seed[..8]);
        // 53 random bits make every double in [0, 1) with that spacing equally likely.
        let bits = u64::from_le_bytes(bytes) >> 11;
        #[allow(clippy::cast_precision_loss)] // 53 bits fit a double's mantissa exactly.
        let unit = bits as f64 / (1u64 << 53) as f64;
        unit
    }
}

/// Jitter that always draws the same number: for tests.
#[derive(Debug, Clone, Copy)]
pub struct FixedJitter(pub f64);

impl Jitter for FixedJitter {
    fn unit(&self) -> f64 {
        self.0
    }
}

/// True for actions that only read, whose network failures can be retried blindly.
pub(crate) fn is_read_only(action: &str) -> bool {
    ["Describe", "Inquir", "Get", "List", "Query"]
        .iter()
        .any(|p| action.starts_with(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_is_capped_and_jittered_within_half_to_full() {
        let p = RetryPolicy::standard()
            .base_delay(Duration::from_millis(100))
            .max_delay(Duration::from_millis(1000));
        assert_eq!(p.backoff(0, 0.0), Duration::from_millis(50));
        assert_eq!(p.backoff(1, 0.0), Duration::from_millis(100));
        assert_eq!(p.backoff(3, 0.0), Duration::from_millis(400));
        assert_eq!(p.backoff(4, 0.0), Duration::from_millis(500)); // 1600 capped to 1000
        assert_eq!(p.backoff(40, 0.999_999), p.backoff(40, 0.999_999));
        assert!(p.backoff(40, 0.999_999) < Duration::from_millis(1000));
        assert_eq!(p.backoff(0, f64::NAN), Duration::from_millis(50));
        assert_eq!(p.backoff(0, 7.0), Duration::from_millis(100));
    }

    #[test]
    fn system_jitter_stays_in_unit_interval() {
        for _ in 0..100 {
            let u = SystemJitter.unit();
            assert!((0.0..1.0).contains(&u), "{u}");
        }
    }

    #[test]
    fn read_only_actions() {
        assert!(is_read_only("DescribeInstances"));
        assert!(is_read_only("InquiryPriceRunInstances"));
        assert!(!is_read_only("RunInstances"));
        assert!(!is_read_only("TerminateInstances"));
    }

    #[test]
    fn policies() {
        assert_eq!(RetryPolicy::default(), RetryPolicy::none());
        assert_eq!(RetryPolicy::standard().retries(), 3);
        assert!(
            RetryPolicy::none()
                .retry_unsafe_network(true)
                .unsafe_network()
        );
    }
}
