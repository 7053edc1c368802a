//! Tag, API version 2018-08-13: the tags attached to other products' resources.
//!
//! The tag service keeps no copy of its own: each product that tags resources (CVM's
//! instances and key pairs today) implements [`Tagged`], and the tag service reads the tags
//! from it, so a tag set by `RunInstances`' `TagSpecification` is visible here at once and
//! gone with its instance.
//!
//! Emulated: `DescribeResourceTagsByResourceIds` and `DescribeResourceTagsByResourceIdsSeq`
//! (the same question; the `Seq` variant exists in the cloud for ordered paging).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, LazyLock};

use md5::{Digest, Md5};
use serde_json::{Map, Value, json};
use tclocal_wire::catalogue::Templates;
use tclocal_wire::context::RequestContext;
use tclocal_wire::{ApiError, ApiResult};

use crate::{Product, RegionScope, Reply, not_emulated, object};

/// Tag's version.
pub const VERSION: &str = "2018-08-13";

const ACTIONS: [&str; 2] = [
    "DescribeResourceTagsByResourceIds",
    "DescribeResourceTagsByResourceIdsSeq",
];

/// Most `ResourceIds` one request may name.
const MAX_RESOURCE_IDS: usize = 50;
/// Page size when `Limit` is absent, and the largest allowed.
const DEFAULT_LIMIT: u64 = 15;
const MAX_LIMIT: u64 = 100;

/// Tag's message templates (`data/tag/messages.json`).
static MESSAGES: LazyLock<Templates> = LazyLock::new(|| {
    Templates::from_json(include_str!("../data/tag/messages.json"))
        .expect("data/tag/messages.json is valid (checked by tests)")
});

fn error(code: &'static str) -> ApiError {
    ApiError::product(code, &MESSAGES, code)
}

/// A product whose resources carry tags.
pub trait Tagged: Send + Sync {
    /// The product's `ServiceType` in the tag service (`cvm`).
    fn service_type(&self) -> &'static str;

    /// The resource prefixes it tags (`instance`, `keypair`).
    fn resource_prefixes(&self) -> &'static [&'static str];

    /// The tags of each resource in `ids` that the account (`app_id`) has in `region` at
    /// emulated time `now_ms`, in the order of `ids`; resources it does not have are left out.
    fn resource_tags(
        &self,
        app_id: u64,
        region: &str,
        prefix: &str,
        ids: &[&str],
        now_ms: i64,
    ) -> Vec<(String, Vec<(String, String)>)>;
}

/// The tag product.
pub struct Tag {
    sources: HashMap<&'static str, Arc<dyn Tagged>>,
}

impl std::fmt::Debug for Tag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.sources.keys()).finish()
    }
}

impl Tag {
    /// The tag service over these products' resources.
    #[must_use]
    pub fn new(sources: Vec<Arc<dyn Tagged>>) -> Tag {
        Tag {
            sources: sources.into_iter().map(|s| (s.service_type(), s)).collect(),
        }
    }

    fn by_resource_ids(
        &self,
        cx: &RequestContext,
        p: &Map<String, Value>,
    ) -> ApiResult<Map<String, Value>> {
        let text = |k: &str| p.get(k).and_then(Value::as_str).unwrap_or_default();
        let service = text("ServiceType");
        let prefix = text("ResourcePrefix");
        let region = text("ResourceRegion");
        let source = self.sources.get(service);
        // A product the cloud has but tclocal keeps no resources of has no tags to show.
        if source.is_none() && !tclocal_specs::registry().has_service(service) {
            return Err(error("InvalidParameterValue.ServiceTypeInvalid").arg(service));
        }
        if let Some(s) = source {
            if !s.resource_prefixes().contains(&prefix) {
                return Err(error("InvalidParameterValue.ResourcePrefixInvalid")
                    .arg(prefix)
                    .arg(service));
            }
        }
        if crate::regions::get(region).is_none() {
            return Err(error("InvalidParameterValue.RegionInvalid").arg(region));
        }
        let ids: Vec<&str> = p
            .get("ResourceIds")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if ids.len() > MAX_RESOURCE_IDS {
            return Err(error("LimitExceeded.ResourceNumPerRequest").arg(MAX_RESOURCE_IDS));
        }
        if let Some(bad) = ids.iter().find(|id| id.trim().is_empty()) {
            return Err(error("InvalidParameterValue.ResourceIdInvalid").arg(bad));
        }
        let offset = p.get("Offset").and_then(Value::as_u64).unwrap_or(0);
        let limit = p
            .get("Limit")
            .and_then(Value::as_u64)
            .unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(error("InvalidParameter").arg("Limit").arg(1).arg(MAX_LIMIT));
        }
        let mut unique = Vec::with_capacity(ids.len());
        for id in ids {
            if !unique.contains(&id) {
                unique.push(id);
            }
        }
        let tagged = source.map_or_else(Vec::new, |s| {
            s.resource_tags(
                cx.principal.app_id,
                region,
                prefix,
                &unique,
                cx.received_at_ms,
            )
        });
        let all: Vec<Value> = tagged
            .iter()
            .flat_map(|(id, tags)| {
                tags.iter().map(move |(k, v)| {
                    json!({"TagKey": k, "TagValue": v, "ResourceId": id,
                           "TagKeyMd5": md5_hex(k), "TagValueMd5": md5_hex(v),
                           "ServiceType": service, "Category": "Custom"})
                })
            })
            .collect();
        let total = all.len();
        let page: Vec<Value> = all
            .into_iter()
            .skip(usize::try_from(offset).unwrap_or(usize::MAX))
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .collect();
        Ok(object(json!({
            "TotalCount": total, "Offset": offset, "Limit": limit, "Tags": page,
        })))
    }
}

fn md5_hex(s: &str) -> String {
    Md5::digest(s.as_bytes())
        .iter()
        .fold(String::with_capacity(32), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

#[async_trait::async_trait]
impl Product for Tag {
    fn name(&self) -> &'static str {
        "tag"
    }

    fn regions(&self) -> RegionScope {
        // Resources of any region are asked about through `ResourceRegion`.
        RegionScope::Global
    }

    fn emulates(&self, version: &str, action: &str) -> bool {
        version == VERSION && ACTIONS.contains(&action)
    }

    async fn call(&self, cx: &RequestContext, params: Map<String, Value>) -> ApiResult<Reply> {
        match cx.action.as_str() {
            "DescribeResourceTagsByResourceIds" | "DescribeResourceTagsByResourceIdsSeq" => {
                self.by_resource_ids(cx, &params).map(Reply::from)
            }
            _ => Err(not_emulated(cx)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tclocal_wire::Language;
    use tclocal_wire::context::Principal;

    struct Fake;

    impl Tagged for Fake {
        fn service_type(&self) -> &'static str {
            "cvm"
        }
        fn resource_prefixes(&self) -> &'static [&'static str] {
            &["instance"]
        }
        fn resource_tags(
            &self,
            app_id: u64,
            region: &str,
            _prefix: &str,
            ids: &[&str],
            _now_ms: i64,
        ) -> Vec<(String, Vec<(String, String)>)> {
            ids.iter()
                .filter(|id| app_id == 1 && region == "ap-guangzhou" && id.starts_with("ins-"))
                .map(|id| {
                    let tags = vec![("env".into(), "dev".into()), ("team".into(), (*id).into())];
                    ((*id).to_owned(), tags)
                })
                .collect()
        }
    }

    fn call(params: Value) -> ApiResult<Map<String, Value>> {
        let tag = Tag::new(vec![Arc::new(Fake)]);
        let cx = RequestContext {
            request_id: "r".into(),
            principal: Principal::root(1, "100000000001").into(),
            service: "tag".into(),
            version: VERSION.into(),
            action: "DescribeResourceTagsByResourceIds".into(),
            region: None,
            language: Language::EnUs,
            received_at_ms: 0,
        };
        futures_lite(tag.call(&cx, object(params))).map(Reply::into_map)
    }

    /// Runs a future that never waits (the tag service does no I/O).
    fn futures_lite<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(f)
    }

    fn base(ids: &[&str]) -> Value {
        json!({"ServiceType": "cvm", "ResourcePrefix": "instance",
               "ResourceRegion": "ap-guangzhou", "ResourceIds": ids})
    }

    fn code(r: ApiResult<Map<String, Value>>) -> String {
        r.expect_err("an error").code().to_owned()
    }

    #[test]
    fn tags_of_the_named_resources_with_their_md5s() {
        let got = call(base(&["ins-aaaaaaaa", "ins-missing0"])).expect("ok");
        assert_eq!(got["TotalCount"], 4, "{got:?}");
        assert_eq!(got["Offset"], 0);
        assert_eq!(got["Limit"], DEFAULT_LIMIT);
        let first = &got["Tags"][0];
        assert_eq!(first["TagKey"], "env");
        assert_eq!(first["TagValue"], "dev");
        assert_eq!(first["ResourceId"], "ins-aaaaaaaa");
        assert_eq!(first["ServiceType"], "cvm");
        assert_eq!(md5_hex(""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(md5_hex("abc"), "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(first["TagKeyMd5"], md5_hex("env"));
        assert_eq!(first["TagValueMd5"], md5_hex("dev"));
    }

    #[test]
    fn pages_with_offset_and_limit_and_names_each_resource_once() {
        let mut p = base(&["ins-aaaaaaaa", "ins-aaaaaaaa", "ins-bbbbbbbb"]);
        p["Offset"] = json!(1);
        p["Limit"] = json!(2);
        let got = call(p).expect("ok");
        assert_eq!(got["TotalCount"], 4);
        let tags = got["Tags"].as_array().expect("list");
        assert_eq!(tags.len(), 2);
        assert_eq!(tags[0]["TagKey"], "team");
        assert_eq!(tags[1]["ResourceId"], "ins-bbbbbbbb");
    }

    #[test]
    fn resources_of_other_accounts_or_regions_have_no_tags() {
        let mut p = base(&["ins-aaaaaaaa"]);
        p["ResourceRegion"] = json!("ap-shanghai");
        assert_eq!(call(p).expect("ok")["TotalCount"], 0);
        // A product the cloud has but tclocal keeps nothing of: no tags, no error.
        let mut p = base(&["disk-aaaaaaaa"]);
        p["ServiceType"] = json!("cbs");
        p["ResourcePrefix"] = json!("disk");
        assert_eq!(call(p).expect("ok")["TotalCount"], 0);
    }

    #[test]
    fn bad_parameters_are_the_documented_codes() {
        let mut p = base(&["ins-aaaaaaaa"]);
        p["ServiceType"] = json!("no-such-product");
        assert_eq!(code(call(p)), "InvalidParameterValue.ServiceTypeInvalid");
        let mut p = base(&["ins-aaaaaaaa"]);
        p["ResourcePrefix"] = json!("volume");
        assert_eq!(code(call(p)), "InvalidParameterValue.ResourcePrefixInvalid");
        let mut p = base(&["ins-aaaaaaaa"]);
        p["ResourceRegion"] = json!("mars-1");
        assert_eq!(code(call(p)), "InvalidParameterValue.RegionInvalid");
        let many: Vec<String> = (0..51).map(|i| format!("ins-{i:08}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert_eq!(
            code(call(base(&many))),
            "LimitExceeded.ResourceNumPerRequest"
        );
        assert_eq!(
            code(call(base(&[" "]))),
            "InvalidParameterValue.ResourceIdInvalid"
        );
        for limit in [0, 101] {
            let mut p = base(&["ins-aaaaaaaa"]);
            p["Limit"] = json!(limit);
            assert_eq!(code(call(p)), "InvalidParameter");
        }
    }

    #[test]
    fn message_templates_parse_and_use_documented_codes() {
        let all = include_str!("../data/tag/messages.json");
        let parsed: Map<String, Value> = serde_json::from_str(all).expect("json");
        let spec = tclocal_specs::registry()
            .spec("tag", VERSION)
            .expect("tag spec");
        for code in parsed.keys() {
            assert!(
                spec.errors.iter().any(|e| e == code),
                "{code} is not a tag error code"
            );
        }
        assert!(
            LazyLock::force(&MESSAGES)
                .get("InvalidParameter", Language::EnUs)
                .is_some()
        );
    }
}
