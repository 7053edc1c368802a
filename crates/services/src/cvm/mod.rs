//! Cloud Virtual Machine (CVM), API version 2017-03-12.
//!
//! The seeds' example action, `DescribeInstancesStatus`, and the catalogue actions
//! `DescribeRegions` and `DescribeZones` are emulated; the rest of CVM's model is validated by
//! the gateway and answered as not emulated until the stateful CVM work lands.

mod catalogue;
mod instances;

use std::sync::{Arc, LazyLock};

use serde_json::{Map, Value, json};
use tclocal_wire::catalogue::Templates;
use tclocal_wire::context::RequestContext;
use tclocal_wire::{ApiError, ApiResult, CommonCode};

use crate::{Product, RegionScope, not_emulated, object};
pub use instances::Instances;

/// The only CVM version the cloud has.
pub const VERSION: &str = "2017-03-12";

/// CVM's own message templates (`data/cvm/messages.json`).
static MESSAGES: LazyLock<Templates> = LazyLock::new(|| {
    Templates::from_json(include_str!("../../data/cvm/messages.json"))
        .expect("data/cvm/messages.json is valid (checked by tests)")
});

/// Largest page and largest id list CVM's Describe actions take.
const MAX_LIMIT: i64 = 100;
const DEFAULT_LIMIT: i64 = 20;

/// The CVM product.
#[derive(Debug, Default)]
pub struct Cvm {
    instances: Arc<Instances>,
}

impl Cvm {
    /// CVM with the given instance index.
    #[must_use]
    pub fn new(instances: Arc<Instances>) -> Cvm {
        Cvm { instances }
    }
}

#[async_trait::async_trait]
impl Product for Cvm {
    fn name(&self) -> &'static str {
        "cvm"
    }

    fn regions(&self) -> RegionScope {
        RegionScope::Regional(catalogue::regions())
    }

    fn emulates(&self, version: &str, action: &str) -> bool {
        version == VERSION
            && matches!(
                action,
                "DescribeInstancesStatus" | "DescribeRegions" | "DescribeZones"
            )
    }

    async fn call(
        &self,
        cx: &RequestContext,
        params: Map<String, Value>,
    ) -> ApiResult<Map<String, Value>> {
        match cx.action.as_str() {
            "DescribeInstancesStatus" => self.describe_instances_status(cx, &params),
            "DescribeRegions" => Ok(describe_regions(cx)),
            "DescribeZones" => Ok(describe_zones(cx)),
            _ => Err(not_emulated(cx)),
        }
    }
}

fn cvm_error(code: &'static str) -> ApiError {
    ApiError::product(code, &MESSAGES, code)
}

fn range_error(name: &str, rule: &str) -> ApiError {
    ApiError::product(
        CommonCode::InvalidParameterValue.as_str(),
        &MESSAGES,
        "InvalidParameterValue.Range",
    )
    .arg(name)
    .arg(rule)
}

/// `ins-` and eight lowercase letters or digits.
fn is_instance_id(id: &str) -> bool {
    id.len() == 12
        && id.starts_with("ins-")
        && id[4..]
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// Offset and Limit as CVM's Describe actions read them.
fn page(params: &Map<String, Value>) -> ApiResult<(usize, usize)> {
    let offset = params.get("Offset").and_then(Value::as_i64).unwrap_or(0);
    if offset < 0 {
        return Err(range_error("Offset", "it must be 0 or more"));
    }
    let limit = params
        .get("Limit")
        .and_then(Value::as_i64)
        .unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(range_error("Limit", "it must be between 1 and 100"));
    }
    // Both fit in usize: offset is non-negative, limit at most 100.
    Ok((
        usize::try_from(offset).unwrap_or(usize::MAX),
        usize::try_from(limit).unwrap_or(0),
    ))
}

impl Cvm {
    fn describe_instances_status(
        &self,
        cx: &RequestContext,
        params: &Map<String, Value>,
    ) -> ApiResult<Map<String, Value>> {
        let ids: Vec<&str> = params
            .get("InstanceIds")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if ids.len() > 100 {
            return Err(cvm_error("InvalidParameterValue.LimitExceeded")
                .arg("InstanceIds")
                .arg(MAX_LIMIT));
        }
        if let Some(bad) = ids.iter().find(|id| !is_instance_id(id)) {
            return Err(cvm_error("InvalidInstanceId.Malformed").arg(bad));
        }
        let (offset, limit) = page(params)?;
        let region = cx.region.as_deref().unwrap_or_default();
        let (total, statuses) =
            self.instances
                .statuses(cx.principal.app_id, region, &ids, offset, limit);
        let set: Vec<Value> = statuses
            .into_iter()
            .map(|(id, state)| json!({"InstanceId": id, "InstanceState": state}))
            .collect();
        Ok(object(
            json!({"TotalCount": total, "InstanceStatusSet": set}),
        ))
    }
}

fn describe_regions(cx: &RequestContext) -> Map<String, Value> {
    let set: Vec<Value> = catalogue::regions()
        .iter()
        .filter_map(|id| crate::regions::get(id))
        .map(|r| {
            json!({"Region": r.region, "RegionName": r.name(cx.language), "RegionState": "AVAILABLE"})
        })
        .collect();
    object(json!({"TotalCount": set.len(), "RegionSet": set}))
}

fn describe_zones(cx: &RequestContext) -> Map<String, Value> {
    let zones = catalogue::zones(cx.region.as_deref().unwrap_or_default());
    let set: Vec<Value> = zones
        .iter()
        .map(|z| {
            json!({"Zone": z.zone, "ZoneName": z.name.get(cx.language), "ZoneId": z.zone_id, "ZoneState": z.state})
        })
        .collect();
    object(json!({"TotalCount": set.len(), "ZoneSet": set}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tclocal_wire::Language;
    use tclocal_wire::context::Principal;

    fn cx(action: &str, region: &str, language: Language) -> RequestContext {
        RequestContext {
            request_id: "r".into(),
            principal: Principal {
                app_id: 1,
                owner_uin: "1".into(),
                uin: "1".into(),
                secret_id: None,
            },
            service: "cvm".into(),
            version: VERSION.into(),
            action: action.into(),
            region: Some(region.into()),
            language,
            received_at_ms: 0,
        }
    }

    async fn call(action: &str, params: Value) -> ApiResult<Map<String, Value>> {
        Cvm::default()
            .call(&cx(action, "ap-guangzhou", Language::EnUs), object(params))
            .await
    }

    #[tokio::test]
    async fn describe_instances_status_with_no_instances_is_the_seed_example() {
        let got = call("DescribeInstancesStatus", json!({})).await.unwrap();
        assert_eq!(
            Value::Object(got),
            json!({"TotalCount": 0, "InstanceStatusSet": []})
        );
    }

    #[tokio::test]
    async fn describe_instances_status_checks_ids_and_paging() {
        let too_many: Vec<String> = (0..101).map(|i| format!("ins-{i:08}")).collect();
        let cases = [
            (
                json!({"InstanceIds": too_many}),
                "InvalidParameterValue.LimitExceeded",
            ),
            (
                json!({"InstanceIds": ["bad-id"]}),
                "InvalidInstanceId.Malformed",
            ),
            (
                json!({"InstanceIds": ["ins-ABCDEFGH"]}),
                "InvalidInstanceId.Malformed",
            ),
            (json!({"Limit": 101}), "InvalidParameterValue"),
            (json!({"Limit": 0}), "InvalidParameterValue"),
            (json!({"Offset": -1}), "InvalidParameterValue"),
        ];
        for (params, code) in cases {
            let e = call("DescribeInstancesStatus", params.clone())
                .await
                .unwrap_err();
            assert_eq!(e.code(), code, "{params}");
            assert!(!e.message(Language::EnUs).is_empty());
        }
        let ok = call(
            "DescribeInstancesStatus",
            json!({"InstanceIds": ["ins-r8hr2upy"], "Limit": 100}),
        )
        .await
        .unwrap();
        assert_eq!(ok["TotalCount"], 0);
    }

    #[tokio::test]
    async fn zone_names_follow_the_language() {
        let cvm = Cvm::default();
        let mut names = Vec::new();
        for lang in Language::ALL {
            let got = cvm
                .call(&cx("DescribeZones", "ap-guangzhou", lang), Map::new())
                .await
                .unwrap();
            let zone = got["ZoneSet"]
                .as_array()
                .unwrap()
                .iter()
                .find(|z| z["Zone"] == "ap-guangzhou-3")
                .unwrap()
                .clone();
            assert_eq!(zone["ZoneId"], "100003");
            names.push(zone["ZoneName"].as_str().unwrap().to_owned());
        }
        assert_eq!(names, ["广州三区", "Guangzhou Zone 3", "広州ゾーン3"]);
    }

    #[tokio::test]
    async fn describe_regions_lists_only_regions_with_cvm_zones() {
        let got = call("DescribeRegions", json!({})).await.unwrap();
        let ids: Vec<&str> = got["RegionSet"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["Region"].as_str().unwrap())
            .collect();
        assert!(ids.contains(&"ap-guangzhou"));
        assert!(!ids.contains(&"na-toronto"));
        assert_eq!(got["TotalCount"], ids.len());
    }

    #[test]
    fn cvm_messages_exist_in_three_languages() {
        for key in MESSAGES.keys() {
            for lang in Language::ALL {
                assert!(!MESSAGES.get(key, lang).unwrap().is_empty());
            }
        }
        for code in [
            "InvalidInstanceId.Malformed",
            "InvalidParameterValue.LimitExceeded",
        ] {
            assert!(MESSAGES.get(code, Language::JaJp).is_some());
        }
    }
}
