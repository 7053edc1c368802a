//! CVM's knobs: how long transitions take, the instance quota, and zone capacity.

use std::collections::{HashMap, HashSet};

/// How long each lifecycle transition takes, in emulated milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timings {
    /// PENDING → RUNNING (or LAUNCH_FAILED).
    pub launch_ms: i64,
    /// STARTING → RUNNING.
    pub start_ms: i64,
    /// STOPPING → STOPPED.
    pub stop_ms: i64,
    /// REBOOTING → RUNNING.
    pub reboot_ms: i64,
    /// TERMINATING → gone.
    pub terminate_ms: i64,
}

impl Default for Timings {
    /// Close to what the real cloud takes, shortened: transitions are visible, and a test
    /// that does not want to wait advances emulated time.
    fn default() -> Self {
        Timings {
            launch_ms: 10_000,
            start_ms: 5_000,
            stop_ms: 5_000,
            reboot_ms: 5_000,
            terminate_ms: 3_000,
        }
    }
}

impl Timings {
    /// Every transition completes at once.
    #[must_use]
    pub fn instant() -> Timings {
        Timings {
            launch_ms: 0,
            start_ms: 0,
            stop_ms: 0,
            reboot_ms: 0,
            terminate_ms: 0,
        }
    }

    /// Parses `instant`, `default`, or `launch=10,start=5,stop=5,reboot=5,terminate=3`
    /// (seconds, fractions allowed; unnamed transitions keep their default).
    ///
    /// # Errors
    /// A message naming the part that does not parse.
    pub fn parse(spec: &str) -> Result<Timings, String> {
        match spec.trim() {
            "instant" => return Ok(Timings::instant()),
            "default" | "" => return Ok(Timings::default()),
            _ => {}
        }
        let mut t = Timings::default();
        for part in spec.split(',') {
            let (name, secs) = part
                .split_once('=')
                .ok_or_else(|| format!("{part:?}: expected NAME=SECONDS"))?;
            let secs: f64 = secs
                .trim()
                .parse()
                .map_err(|_| format!("{part:?}: {secs:?} is not a number of seconds"))?;
            if !(0.0..=86_400.0).contains(&secs) {
                return Err(format!("{part:?}: seconds must be between 0 and 86400"));
            }
            // Bounded above, so the cast cannot overflow.
            #[allow(clippy::cast_possible_truncation)]
            let ms = (secs * 1000.0).round() as i64;
            match name.trim() {
                "launch" => t.launch_ms = ms,
                "start" => t.start_ms = ms,
                "stop" => t.stop_ms = ms,
                "reboot" => t.reboot_ms = ms,
                "terminate" => t.terminate_ms = ms,
                other => {
                    return Err(format!(
                        "unknown transition {other:?} (launch, start, stop, reboot, terminate)"
                    ));
                }
            }
        }
        Ok(t)
    }
}

/// CVM settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CvmSettings {
    /// Transition durations.
    pub timings: Timings,
    /// Instances one account may hold in one region.
    pub instance_quota: u64,
    /// Instances that may still be placed per (zone, instance type); absent = unlimited.
    pub type_capacity: HashMap<(String, String), u64>,
    /// Instances that may be placed per zone, all types together; absent = unlimited.
    pub zone_capacity: HashMap<String, u64>,
    /// (zone, instance type) pairs whose launches end LAUNCH_FAILED.
    pub launch_failures: HashSet<(String, String)>,
}

impl Default for CvmSettings {
    fn default() -> Self {
        CvmSettings {
            timings: Timings::default(),
            instance_quota: 1_000,
            type_capacity: HashMap::new(),
            zone_capacity: HashMap::new(),
            launch_failures: HashSet::new(),
        }
    }
}

impl CvmSettings {
    /// Adds capacity rules from `ZONE/TYPE=N` or `ZONE=N` items, comma-separated.
    ///
    /// # Errors
    /// A message naming the item that does not parse.
    pub fn add_capacity(&mut self, spec: &str) -> Result<(), String> {
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (target, n) = item
                .split_once('=')
                .ok_or_else(|| format!("{item:?}: expected ZONE/TYPE=N or ZONE=N"))?;
            let n: u64 = n
                .trim()
                .parse()
                .map_err(|_| format!("{item:?}: {n:?} is not a count"))?;
            match target.split_once('/') {
                Some((zone, ty)) => {
                    self.type_capacity
                        .insert((zone.trim().to_owned(), ty.trim().to_owned()), n);
                }
                None => {
                    self.zone_capacity.insert(target.trim().to_owned(), n);
                }
            }
        }
        Ok(())
    }

    /// Adds `ZONE/TYPE` pairs whose launches fail, comma-separated.
    ///
    /// # Errors
    /// A message naming the item that does not parse.
    pub fn add_launch_failures(&mut self, spec: &str) -> Result<(), String> {
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (zone, ty) = item
                .split_once('/')
                .ok_or_else(|| format!("{item:?}: expected ZONE/TYPE"))?;
            self.launch_failures
                .insert((zone.trim().to_owned(), ty.trim().to_owned()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timings_parse() {
        assert_eq!(Timings::parse("instant").unwrap(), Timings::instant());
        let t = Timings::parse("launch=1.5, stop=0").unwrap();
        assert_eq!(t.launch_ms, 1500);
        assert_eq!(t.stop_ms, 0);
        assert_eq!(t.start_ms, Timings::default().start_ms);
        assert!(Timings::parse("boot=1").is_err());
        assert!(Timings::parse("launch=x").is_err());
        assert!(Timings::parse("launch=-1").is_err());
    }

    #[test]
    fn capacity_and_failures_parse() {
        let mut s = CvmSettings::default();
        s.add_capacity("ap-guangzhou-3/S5.MEDIUM2=0, ap-guangzhou-4=5")
            .unwrap();
        assert_eq!(
            s.type_capacity[&("ap-guangzhou-3".into(), "S5.MEDIUM2".into())],
            0
        );
        assert_eq!(s.zone_capacity["ap-guangzhou-4"], 5);
        assert!(s.add_capacity("x").is_err());
        s.add_launch_failures("ap-guangzhou-3/S5.LARGE8").unwrap();
        assert!(
            s.launch_failures
                .contains(&("ap-guangzhou-3".into(), "S5.LARGE8".into()))
        );
        assert!(s.add_launch_failures("nope").is_err());
    }
}
