//! Fault injection: make chosen calls fail, or slow down, on purpose.
//!
//! A rule matches by product, action, region and account (an absent matcher matches
//! everything), fires with a probability, adds latency, and answers any catalogue code; a
//! `count` limits how many calls it hits ("fail the next 3 calls"). Rules are checked after
//! a request is authenticated and validated, where the cloud's back end would fail, so a
//! faulted call still proves the request itself was right.

use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::RwLock;
use serde::{Deserialize, Serialize};
use tclocal_wire::ids::ResourceIds;

/// A fault rule, as posted to `/_tclocal/faults`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    /// Assigned by the server.
    #[serde(default)]
    pub id: String,
    /// Product short name, e.g. `cvm`.
    #[serde(default)]
    pub service: Option<String>,
    /// Action name.
    #[serde(default)]
    pub action: Option<String>,
    /// Region.
    #[serde(default)]
    pub region: Option<String>,
    /// Account: AppId or UIN.
    #[serde(default)]
    pub account: Option<String>,
    /// The error code to answer; absent means "only add latency".
    #[serde(default)]
    pub code: Option<String>,
    /// A message instead of the code's own.
    #[serde(default)]
    pub message: Option<String>,
    /// Chance of firing per matching call, 0 to 1.
    #[serde(default = "one")]
    pub probability: f64,
    /// Latency added when the rule fires, milliseconds.
    #[serde(default)]
    pub latency_ms: u64,
    /// Calls the rule still hits; absent means unlimited.
    #[serde(default)]
    pub count: Option<u64>,
    /// Calls the rule has hit.
    #[serde(default)]
    pub hits: u64,
}

fn one() -> f64 {
    1.0
}

/// What a firing rule does to the call.
#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    /// The rule's id.
    pub rule_id: String,
    /// Code to answer, if any.
    pub code: Option<String>,
    /// Message to answer instead of the code's own.
    pub message: Option<String>,
    /// Latency to add.
    pub latency_ms: u64,
}

/// The call a rule is matched against.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// Product.
    pub service: &'a str,
    /// Action.
    pub action: &'a str,
    /// Region.
    pub region: Option<&'a str>,
    /// AppId.
    pub app_id: u64,
    /// UIN.
    pub uin: &'a str,
}

/// The rule set.
#[derive(Debug, Default)]
pub struct Faults {
    rules: RwLock<Vec<FaultRule>>,
    /// Lets the hot path skip the lock when there are no rules.
    any: AtomicBool,
}

impl FaultRule {
    fn matches(&self, t: &Target<'_>) -> bool {
        let eq = |m: &Option<String>, v: &str| m.as_deref().is_none_or(|m| m == v);
        eq(&self.service, t.service)
            && eq(&self.action, t.action)
            && self.region.as_deref().is_none_or(|r| t.region == Some(r))
            && self
                .account
                .as_deref()
                .is_none_or(|a| a == t.uin || a == t.app_id.to_string())
    }
}

/// A fraction in [0, 1) from random bytes.
fn fraction(ids: &dyn ResourceIds) -> f64 {
    let seed = ids.seed32();
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&seed[..8]);
    // 53 random bits, the precision of an f64 mantissa.
    #[allow(clippy::cast_precision_loss)]
    let f = (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64;
    f
}

impl Faults {
    /// Adds a rule and returns it with its id.
    pub fn add(&self, mut rule: FaultRule, ids: &dyn ResourceIds) -> FaultRule {
        // An empty matcher is an absent one: forms send "" for fields left blank.
        for m in [
            &mut rule.service,
            &mut rule.action,
            &mut rule.region,
            &mut rule.account,
            &mut rule.code,
            &mut rule.message,
        ] {
            if m.as_deref().is_some_and(str::is_empty) {
                *m = None;
            }
        }
        rule.id = ids.short_id("fault");
        rule.hits = 0;
        let mut rules = self.rules.write();
        rules.push(rule.clone());
        self.any.store(true, Ordering::Release);
        rule
    }

    /// Every rule.
    #[must_use]
    pub fn list(&self) -> Vec<FaultRule> {
        self.rules.read().clone()
    }

    /// Removes one rule; false when there was none with that id.
    pub fn remove(&self, id: &str) -> bool {
        let mut rules = self.rules.write();
        let before = rules.len();
        rules.retain(|r| r.id != id);
        self.any.store(!rules.is_empty(), Ordering::Release);
        rules.len() != before
    }

    /// Removes every rule.
    pub fn clear(&self) {
        self.rules.write().clear();
        self.any.store(false, Ordering::Release);
    }

    /// The first matching rule that fires for this call, if any; its count and hits move.
    pub fn pick(&self, target: &Target<'_>, ids: &dyn ResourceIds) -> Option<Fault> {
        if !self.any.load(Ordering::Acquire) {
            return None;
        }
        let mut rules = self.rules.write();
        let index = rules.iter().position(|r| {
            r.matches(target)
                && r.count != Some(0)
                && (r.probability >= 1.0 || fraction(ids) < r.probability)
        })?;
        let rule = &mut rules[index];
        rule.hits += 1;
        if let Some(n) = rule.count.as_mut() {
            *n -= 1;
        }
        let fault = Fault {
            rule_id: rule.id.clone(),
            code: rule.code.clone(),
            message: rule.message.clone(),
            latency_ms: rule.latency_ms,
        };
        if rule.count == Some(0) {
            rules.remove(index);
            self.any.store(!rules.is_empty(), Ordering::Release);
        }
        Some(fault)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tclocal_wire::ids::SeqResourceIds;

    fn target(action: &str) -> Target<'_> {
        Target {
            service: "cvm",
            action,
            region: Some("ap-guangzhou"),
            app_id: 1,
            uin: "100",
        }
    }

    fn rule(json: &str) -> FaultRule {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn absent_matchers_match_everything_and_present_ones_filter() {
        let ids = SeqResourceIds::default();
        let f = Faults::default();
        assert!(f.pick(&target("A"), &ids).is_none());
        f.add(
            rule(r#"{"action": "DescribeZones", "code": "InternalError"}"#),
            &ids,
        );
        assert!(f.pick(&target("RunInstances"), &ids).is_none());
        let hit = f.pick(&target("DescribeZones"), &ids).unwrap();
        assert_eq!(hit.code.as_deref(), Some("InternalError"));
        f.clear();
        f.add(
            rule(r#"{"account": "100", "region": "ap-guangzhou", "latency_ms": 5}"#),
            &ids,
        );
        assert_eq!(f.pick(&target("X"), &ids).unwrap().latency_ms, 5);
        f.clear();
        f.add(rule(r#"{"account": "2"}"#), &ids);
        assert!(f.pick(&target("X"), &ids).is_none());
    }

    #[test]
    fn count_limits_hits_then_the_rule_goes() {
        let ids = SeqResourceIds::default();
        let f = Faults::default();
        let r = f.add(rule(r#"{"code": "ResourceUnavailable", "count": 2}"#), &ids);
        assert!(r.id.starts_with("fault-"));
        assert!(f.pick(&target("A"), &ids).is_some());
        assert_eq!(f.list()[0].hits, 1);
        assert!(f.pick(&target("A"), &ids).is_some());
        assert!(f.pick(&target("A"), &ids).is_none());
        assert!(f.list().is_empty());
    }

    #[test]
    fn probability_zero_never_fires_and_removal_works() {
        let ids = SeqResourceIds::default();
        let f = Faults::default();
        let r = f.add(
            rule(r#"{"code": "InternalError", "probability": 0.0}"#),
            &ids,
        );
        for _ in 0..20 {
            assert!(f.pick(&target("A"), &ids).is_none());
        }
        assert!(f.remove(&r.id));
        assert!(!f.remove(&r.id));
    }

    #[test]
    fn empty_matchers_match_everything() {
        let ids = SeqResourceIds::default();
        let f = Faults::default();
        let r = f.add(
            rule(r#"{"service": "", "action": "", "code": "InternalError"}"#),
            &ids,
        );
        assert_eq!(r.service, None);
        assert!(f.pick(&target("Anything"), &ids).is_some());
    }

    #[test]
    fn unknown_fields_are_refused() {
        assert!(serde_json::from_str::<FaultRule>(r#"{"cod": "x"}"#).is_err());
    }
}
