//! Conversion of one tccli `api.json` into the structure-only spec.
//!
//! The published model mixes structure with prose (Chinese titles, Markdown documentation,
//! examples). The emulator needs only the structure, and the repository must not carry the
//! prose, so the input types below name just the structural fields: serde skips everything
//! else while parsing, and nothing else can reach the output.

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use serde::{Deserialize, Deserializer, Serialize};

/// The parts of `api.json` the import reads.
#[derive(Debug, Deserialize)]
pub(crate) struct ApiModel {
    pub(crate) metadata: ApiMetadata,
    actions: BTreeMap<String, ApiAction>,
    objects: BTreeMap<String, ApiObject>,
}

/// `api.json` `metadata`.
#[derive(Debug, Deserialize)]
pub(crate) struct ApiMetadata {
    /// e.g. `2017-03-12`.
    #[serde(rename = "apiVersion")]
    pub(crate) api_version: String,
    /// e.g. `cvm`; differs from the tccli directory name for `autoscaling` (`as`).
    #[serde(rename = "serviceShortName")]
    pub(crate) service_short_name: String,
}

#[derive(Debug, Deserialize)]
struct ApiAction {
    input: String,
    output: String,
    #[serde(default)]
    status: Option<String>,
    #[serde(default, deserialize_with = "flag")]
    skip_sign: bool,
    /// Read only for the documented request rate; the prose itself is never copied.
    #[serde(default)]
    document: String,
}

/// The documented request rate limit in an action's documentation ("默认接口请求频率限制：20次/秒"
/// or "频率限制：5次/秒"), as a number: the only thing taken from the prose.
pub(crate) fn rate_limit(document: &str) -> Option<u32> {
    let at = document.find("频率限制")?;
    let rest = &document[at + "频率限制".len()..];
    let rest = rest.trim_start_matches([':', '：', ' ']);
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let after = &rest[digits.len()..];
    if digits.is_empty() || !after.trim_start().starts_with("次/秒") {
        return None;
    }
    digits.parse().ok().filter(|n| *n > 0)
}

#[derive(Debug, Deserialize)]
struct ApiObject {
    #[serde(default)]
    members: Vec<ApiMember>,
}

#[derive(Debug, Deserialize)]
struct ApiMember {
    name: String,
    #[serde(rename = "type")]
    kind: String,
    member: String,
    #[serde(default, deserialize_with = "flag")]
    required: bool,
    #[serde(default, deserialize_with = "flag")]
    output_required: bool,
    #[serde(default, deserialize_with = "flag")]
    value_allowed_null: bool,
    #[serde(default, deserialize_with = "flag")]
    disabled: bool,
}

/// Reads a boolean flag. The models mostly use JSON booleans, but a few members carry
/// `"required": 1`, so numbers (non-zero is true) and `null` (false) are accepted too.
fn flag<'de, D: Deserializer<'de>>(de: D) -> Result<bool, D::Error> {
    use serde::de::Error;
    match serde_json::Value::deserialize(de)? {
        serde_json::Value::Bool(b) => Ok(b),
        serde_json::Value::Null => Ok(false),
        serde_json::Value::Number(n) => Ok(n.as_f64().is_some_and(|f| f != 0.0)),
        serde_json::Value::String(s) if s == "true" || s == "1" => Ok(true),
        serde_json::Value::String(s) if s == "false" || s == "0" || s.is_empty() => Ok(false),
        other => Err(D::Error::custom(format!("not a boolean flag: {other}"))),
    }
}

/// Outer member types the spec model understands.
const KINDS: &[&str] = &["string", "int", "bool", "float", "list", "object", "binary"];
/// Primitive `member` names; anything else must name an object.
const PRIMITIVES: &[&str] = &[
    "string",
    "int64",
    "uint64",
    "bool",
    "float",
    "datetime",
    "datetime_iso",
    "date",
    "binary",
];
/// Action statuses the spec model understands.
const STATUSES: &[&str] = &["online", "deprecated", "offline"];

/// One `specs/<service>/<version>.json` file.
#[derive(Debug, Serialize)]
pub(crate) struct Spec {
    pub(crate) service: String,
    pub(crate) version: String,
    pub(crate) source: Source,
    pub(crate) actions: BTreeMap<String, Action>,
    pub(crate) objects: BTreeMap<String, Vec<Member>>,
    pub(crate) errors: Vec<String>,
}

/// The package versions a spec was derived from (`None` when unknown or not used).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Source {
    pub(crate) tccli: Option<String>,
    pub(crate) sdk: Option<String>,
    /// The Go SDK module whose `client.go` gave the per-action error codes; written only
    /// when one was read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) go_sdk: Option<String>,
}

/// One action of a spec.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Action {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) status: Option<String>,
    pub(crate) input: String,
    pub(crate) output: String,
    #[serde(skip_serializing_if = "is_false")]
    pub(crate) skip_sign: bool,
    /// Documented requests per second per account, when the documentation states one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) rate_limit: Option<u32>,
    /// The codes the Go SDK documents for this action, sorted and unique; written only when
    /// there are some.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) errors: Vec<String>,
}

/// One member of a structure; flags are written only when true.
#[derive(Debug, Serialize)]
pub(crate) struct Member {
    pub(crate) name: String,
    #[serde(rename = "type")]
    pub(crate) kind: String,
    pub(crate) member: String,
    #[serde(skip_serializing_if = "is_false")]
    pub(crate) required: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub(crate) output_required: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub(crate) nullable: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub(crate) disabled: bool,
}

/// For `skip_serializing_if`, which passes the field by reference.
fn is_false(b: &bool) -> bool {
    !*b
}

/// A converted spec and the oddities noticed on the way (which do not stop the import).
#[derive(Debug)]
pub(crate) struct Converted {
    pub(crate) spec: Spec,
    pub(crate) warnings: Vec<String>,
}

/// Parses `api.json` text.
pub(crate) fn parse(text: &str) -> Result<ApiModel> {
    Ok(serde_json::from_str(text)?)
}

/// Turns a parsed model into a spec. Fails on what the spec model could not represent (an
/// unknown status or member type); notes dangling object references as warnings.
pub(crate) fn convert(model: ApiModel, source: Source, errors: Vec<String>) -> Result<Converted> {
    let mut warnings = Vec::new();
    let ApiModel {
        metadata,
        actions,
        objects,
    } = model;

    let actions = actions
        .into_iter()
        .map(|(name, a)| {
            if let Some(status) = &a.status {
                if !STATUSES.contains(&status.as_str()) {
                    bail!("action {name}: unknown status {status:?}");
                }
            }
            for object in [&a.input, &a.output] {
                if !objects.contains_key(object) {
                    warnings.push(format!("action {name}: object {object} is not defined"));
                }
            }
            let action = Action {
                status: a.status,
                input: a.input,
                output: a.output,
                skip_sign: a.skip_sign,
                rate_limit: rate_limit(&a.document),
                errors: Vec::new(),
            };
            Ok((name, action))
        })
        .collect::<Result<BTreeMap<_, _>>>()?;

    let mut converted = BTreeMap::new();
    for (name, object) in &objects {
        let mut members = Vec::with_capacity(object.members.len());
        for m in &object.members {
            if !KINDS.contains(&m.kind.as_str()) {
                bail!("{name}.{}: unknown type {:?}", m.name, m.kind);
            }
            let member = m.member.as_str();
            if !PRIMITIVES.contains(&member) && !objects.contains_key(member) {
                warnings.push(format!("{name}.{}: object {member} is not defined", m.name));
            }
            members.push(Member {
                name: m.name.clone(),
                kind: m.kind.clone(),
                member: m.member.clone(),
                required: m.required,
                output_required: m.output_required,
                nullable: m.value_allowed_null,
                disabled: m.disabled,
            });
        }
        converted.insert(name.clone(), members);
    }

    let spec = Spec {
        service: metadata.service_short_name,
        version: metadata.api_version,
        source,
        actions,
        objects: converted,
        errors,
    };
    Ok(Converted { spec, warnings })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny model in the published shape, prose included, with every flag both ways.
    const FIXTURE: &str = r#"{
      "actions": {
        "DescribeThings": {
          "document": "查询东西。Long **markdown** prose.",
          "input": "DescribeThingsRequest",
          "name": "查询东西",
          "output": "DescribeThingsResponse",
          "status": "online"
        },
        "OldThing": {
          "document": "旧的",
          "input": "OldThingRequest",
          "name": "旧",
          "output": "OldThingResponse",
          "status": "deprecated"
        },
        "AssumeThing": {
          "document": "no status here",
          "input": "OldThingRequest",
          "name": "免签",
          "output": "OldThingResponse",
          "skip_sign": true
        }
      },
      "metadata": {
        "apiVersion": "2020-01-02",
        "api_brief": "简介",
        "serviceNameCN": "东西服务",
        "serviceShortName": "thing"
      },
      "objects": {
        "Filter": {
          "document": "过滤器",
          "members": [
            {"disabled": false, "document": "名字", "example": "zone", "member": "string",
             "name": "Name", "required": true, "type": "string"},
            {"disabled": false, "document": "值", "example": "[\"a\"]", "member": "string",
             "name": "Values", "required": 1, "type": "list"}
          ],
          "usage": "in"
        },
        "DescribeThingsRequest": {
          "document": "请求",
          "members": [
            {"disabled": false, "document": "过滤", "example": "无", "member": "Filter",
             "name": "Filters", "required": false, "type": "list"},
            {"disabled": false, "document": "限制", "example": "20", "member": "int64",
             "name": "Limit", "required": false, "type": "int"},
            {"disabled": true, "document": "隐藏", "example": "false", "member": "bool",
             "name": "Force", "required": false, "type": "bool"},
            {"disabled": false, "document": "偏移", "example": "0", "member": "uint64",
             "name": "Offset", "type": "int"}
          ],
          "type": "object"
        },
        "DescribeThingsResponse": {
          "document": "响应",
          "members": [
            {"disabled": false, "document": "总数", "example": "1", "member": "uint64",
             "name": "TotalCount", "output_required": true, "type": "int",
             "value_allowed_null": false},
            {"disabled": false, "document": "时间", "example": "2020-01-01T00:00:00Z",
             "member": "datetime_iso", "name": "CreatedTime", "output_required": false,
             "type": "string", "value_allowed_null": true},
            {"document": "唯一请求 ID", "member": "string", "name": "RequestId",
             "type": "string"}
          ],
          "type": "object"
        },
        "OldThingRequest": {"document": "", "members": [], "type": "object"},
        "OldThingResponse": {
          "document": "",
          "members": [{"member": "string", "name": "RequestId", "type": "string"}],
          "type": "object"
        }
      },
      "version": "1.0"
    }"#;

    fn source() -> Source {
        Source {
            tccli: Some("1.2.3".to_owned()),
            sdk: Some("tencentcloud-sdk-python-thing 4.5.6".to_owned()),
            go_sdk: None,
        }
    }

    fn converted() -> Converted {
        convert(
            parse(FIXTURE).unwrap(),
            source(),
            vec!["InvalidThing.NotFound".to_owned()],
        )
        .unwrap()
    }

    fn to_value(spec: &Spec) -> serde_json::Value {
        serde_json::to_value(spec).unwrap()
    }

    #[test]
    fn header_comes_from_metadata_and_source() {
        let c = converted();
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        let v = to_value(&c.spec);
        assert_eq!(v["service"], "thing");
        assert_eq!(v["version"], "2020-01-02");
        assert_eq!(v["source"]["tccli"], "1.2.3");
        assert_eq!(v["source"]["sdk"], "tencentcloud-sdk-python-thing 4.5.6");
        assert_eq!(v["errors"], serde_json::json!(["InvalidThing.NotFound"]));
    }

    #[test]
    fn rate_limits_are_read_as_numbers_only() {
        assert_eq!(
            rate_limit("本接口用于X。\n\n默认接口请求频率限制：20次/秒。"),
            Some(20)
        );
        assert_eq!(rate_limit("频率限制: 5 次/秒"), Some(5));
        assert_eq!(rate_limit("no limit stated"), None);
        assert_eq!(rate_limit("频率限制：很高"), None);
        assert_eq!(rate_limit("频率限制：0次/秒"), None);
    }

    #[test]
    fn action_status_and_skip_sign_only_when_present() {
        let v = to_value(&converted().spec);
        assert_eq!(
            v["actions"]["DescribeThings"],
            serde_json::json!({"status": "online", "input": "DescribeThingsRequest",
                               "output": "DescribeThingsResponse"})
        );
        assert_eq!(v["actions"]["OldThing"]["status"], "deprecated");
        assert_eq!(
            v["actions"]["AssumeThing"],
            serde_json::json!({"input": "OldThingRequest", "output": "OldThingResponse",
                               "skip_sign": true})
        );
    }

    #[test]
    fn member_flags_only_when_true_and_order_kept() {
        let v = to_value(&converted().spec);
        assert_eq!(
            v["objects"]["DescribeThingsRequest"],
            serde_json::json!([
                {"name": "Filters", "type": "list", "member": "Filter"},
                {"name": "Limit", "type": "int", "member": "int64"},
                {"name": "Force", "type": "bool", "member": "bool", "disabled": true},
                {"name": "Offset", "type": "int", "member": "uint64"}
            ])
        );
        assert_eq!(
            v["objects"]["DescribeThingsResponse"],
            serde_json::json!([
                {"name": "TotalCount", "type": "int", "member": "uint64", "output_required": true},
                {"name": "CreatedTime", "type": "string", "member": "datetime_iso",
                 "nullable": true},
                {"name": "RequestId", "type": "string", "member": "string"}
            ])
        );
        // `"required": 1` in the model counts as true.
        assert_eq!(
            v["objects"]["Filter"],
            serde_json::json!([
                {"name": "Name", "type": "string", "member": "string", "required": true},
                {"name": "Values", "type": "list", "member": "string", "required": true}
            ])
        );
        assert_eq!(v["objects"]["OldThingRequest"], serde_json::json!([]));
    }

    #[test]
    fn objects_and_actions_are_sorted_by_name() {
        let v = to_value(&converted().spec);
        let objects: Vec<&String> = v["objects"].as_object().unwrap().keys().collect();
        let mut sorted = objects.clone();
        sorted.sort();
        assert_eq!(objects, sorted);
        assert_eq!(objects.len(), 5);
        let actions: Vec<&String> = v["actions"].as_object().unwrap().keys().collect();
        assert_eq!(actions, ["AssumeThing", "DescribeThings", "OldThing"]);
    }

    #[test]
    fn no_prose_survives() {
        let text = serde_json::to_string(&converted().spec).unwrap();
        for prose in [
            "document",
            "example",
            "usage",
            "api_brief",
            "serviceNameCN",
            "查询",
            "markdown",
            "过滤",
            "zone",
            "value_allowed_null",
        ] {
            assert!(!text.contains(prose), "{prose:?} leaked into {text}");
        }
        // The only `name` keys left are member names (ASCII identifiers).
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        for members in v["objects"].as_object().unwrap().values() {
            for m in members.as_array().unwrap() {
                let keys: Vec<&String> = m.as_object().unwrap().keys().collect();
                for k in keys {
                    assert!(
                        [
                            "name",
                            "type",
                            "member",
                            "required",
                            "output_required",
                            "nullable",
                            "disabled"
                        ]
                        .contains(&k.as_str()),
                        "unexpected key {k}"
                    );
                }
                assert!(m["name"].as_str().unwrap().is_ascii());
            }
        }
        for a in v["actions"].as_object().unwrap().values() {
            assert!(a.get("name").is_none() && a.get("document").is_none());
        }
    }

    #[test]
    fn unknown_status_or_type_fails_and_dangling_reference_warns() {
        let bad_status = FIXTURE.replace("\"deprecated\"", "\"retired\"");
        assert!(convert(parse(&bad_status).unwrap(), source(), vec![]).is_err());

        let bad_type = FIXTURE.replace("\"type\": \"bool\"", "\"type\": \"boolean\"");
        assert!(convert(parse(&bad_type).unwrap(), source(), vec![]).is_err());

        let dangling = FIXTURE.replace("\"member\": \"Filter\"", "\"member\": \"Missing\"");
        let c = convert(parse(&dangling).unwrap(), source(), vec![]).unwrap();
        assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
        assert!(c.warnings[0].contains("Missing"));
    }

    #[test]
    fn odd_flag_values_are_rejected() {
        let odd = FIXTURE.replace("\"required\": true", "\"required\": [true]");
        assert!(parse(&odd).is_err());
    }
}
