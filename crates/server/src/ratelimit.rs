//! Request rate limits per account and action, as the cloud enforces them.
//!
//! Off by default. With `--rate-limits documented`, each action gets the limit its model
//! documents (requests per second); `--rate-limit Action=N` or `service:Action=N` sets or
//! overrides one. A call over the limit in the current second is `RequestLimitExceeded`,
//! which the official SDKs' opt-in retryers retry.

use std::collections::HashMap;

use parking_lot::Mutex;

/// Which limits apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RateMode {
    /// Only custom limits.
    #[default]
    Off,
    /// The documented limits, plus custom ones.
    Documented,
}

impl std::str::FromStr for RateMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "off" => Ok(RateMode::Off),
            "documented" => Ok(RateMode::Documented),
            other => Err(format!(
                "unknown rate-limit mode {other:?} (off or documented)"
            )),
        }
    }
}

/// (AppId, service, action).
type WindowKey = (u64, String, String);

/// Limits and the current second's counts.
#[derive(Debug, Default)]
pub struct RateLimits {
    mode: RateMode,
    /// (service or "", action) → requests per second.
    custom: HashMap<(String, String), u32>,
    /// (AppId, service, action) → (second, count).
    windows: Mutex<HashMap<WindowKey, (i64, u32)>>,
}

/// A call over its limit: how many this second, and the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exceeded {
    /// Calls in the current second, this one included.
    pub count: u32,
    /// The limit.
    pub limit: u32,
}

impl RateLimits {
    /// Limits in `mode` with custom `Action=N` / `service:Action=N` items.
    ///
    /// # Errors
    /// A message naming the item that does not parse.
    pub fn new(mode: RateMode, custom: &[String]) -> Result<RateLimits, String> {
        let mut map = HashMap::new();
        for item in custom
            .iter()
            .flat_map(|s| s.split(','))
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            let (target, n) = item
                .split_once('=')
                .ok_or_else(|| format!("{item:?}: expected Action=N or service:Action=N"))?;
            let n: u32 = n
                .trim()
                .parse()
                .map_err(|_| format!("{item:?}: {n:?} is not a number of requests per second"))?;
            let (service, action) = target.split_once(':').unwrap_or(("", target));
            map.insert((service.trim().to_owned(), action.trim().to_owned()), n);
        }
        Ok(RateLimits {
            mode,
            custom: map,
            windows: Mutex::new(HashMap::new()),
        })
    }

    /// True when no limit can ever apply (the hot path skips the check).
    #[must_use]
    pub fn inactive(&self) -> bool {
        self.mode == RateMode::Off && self.custom.is_empty()
    }

    /// The limit for an action, if any.
    #[must_use]
    pub fn limit(&self, service: &str, action: &str, documented: Option<u32>) -> Option<u32> {
        self.custom
            .get(&(service.to_owned(), action.to_owned()))
            .or_else(|| self.custom.get(&(String::new(), action.to_owned())))
            .copied()
            .or(if self.mode == RateMode::Documented {
                documented
            } else {
                None
            })
    }

    /// Counts one call at `now_ms`; `Err` when it is over the limit.
    ///
    /// # Errors
    /// [`Exceeded`] when the call is over its limit (it is still counted, as the cloud does).
    pub fn admit(
        &self,
        app_id: u64,
        service: &str,
        action: &str,
        documented: Option<u32>,
        now_ms: i64,
    ) -> Result<(), Exceeded> {
        let Some(limit) = self.limit(service, action, documented) else {
            return Ok(());
        };
        let second = now_ms.div_euclid(1000);
        let mut windows = self.windows.lock();
        let slot = windows
            .entry((app_id, service.to_owned(), action.to_owned()))
            .or_insert((second, 0));
        if slot.0 != second {
            *slot = (second, 0);
        }
        slot.1 = slot.1.saturating_add(1);
        if slot.1 > limit {
            return Err(Exceeded {
                count: slot.1,
                limit,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_limits_apply_per_account_and_second() {
        let r = RateLimits::new(RateMode::Off, &["DescribeZones=2".into()]).unwrap();
        assert!(!r.inactive());
        assert!(r.admit(1, "cvm", "DescribeZones", None, 1000).is_ok());
        assert!(r.admit(1, "cvm", "DescribeZones", None, 1500).is_ok());
        assert_eq!(
            r.admit(1, "cvm", "DescribeZones", None, 1999),
            Err(Exceeded { count: 3, limit: 2 })
        );
        assert!(
            r.admit(2, "cvm", "DescribeZones", None, 1999).is_ok(),
            "another account"
        );
        assert!(
            r.admit(1, "cvm", "DescribeZones", None, 2000).is_ok(),
            "next second"
        );
        assert!(
            r.admit(1, "cvm", "RunInstances", Some(1), 2000).is_ok(),
            "documented limits are off"
        );
    }

    #[test]
    fn documented_limits_and_overrides() {
        let r = RateLimits::new(RateMode::Documented, &["cvm:RunInstances=5".into()]).unwrap();
        assert_eq!(r.limit("cvm", "DescribeZones", Some(20)), Some(20));
        assert_eq!(r.limit("cvm", "RunInstances", Some(10)), Some(5));
        assert_eq!(r.limit("cam", "RunInstances", Some(10)), Some(10));
        assert_eq!(r.limit("cvm", "X", None), None);
        assert!(RateLimits::new(RateMode::Off, &[]).unwrap().inactive());
        assert!(RateLimits::new(RateMode::Off, &["X".into()]).is_err());
        assert!(RateLimits::new(RateMode::Off, &["X=y".into()]).is_err());
        assert!("sometimes".parse::<RateMode>().is_err());
    }
}
