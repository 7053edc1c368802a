//! Reading validated request JSON: the gateway has already checked types against the
//! model, so these only pick values out.

use serde_json::{Map, Value};

use super::errors::CvmError;

pub(crate) fn str_of<'a>(m: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
    m.get(k).and_then(Value::as_str)
}

pub(crate) fn i64_of(m: &Map<String, Value>, k: &str) -> Option<i64> {
    m.get(k).and_then(Value::as_i64)
}

pub(crate) fn bool_of(m: &Map<String, Value>, k: &str) -> Option<bool> {
    m.get(k).and_then(Value::as_bool)
}

pub(crate) fn obj<'a>(m: &'a Map<String, Value>, k: &str) -> Option<&'a Map<String, Value>> {
    m.get(k).and_then(Value::as_object)
}

pub(crate) fn strings<'a>(m: &'a Map<String, Value>, k: &str) -> Vec<&'a str> {
    m.get(k)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

pub(crate) fn objects<'a>(m: &'a Map<String, Value>, k: &str) -> Vec<&'a Map<String, Value>> {
    m.get(k)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_object).collect())
        .unwrap_or_default()
}

/// `ins-` and eight lowercase letters or digits.
pub(crate) fn is_instance_id(id: &str) -> bool {
    is_short_id(id, "ins")
}

/// `prefix-` and eight lowercase letters or digits.
pub(crate) fn is_short_id(id: &str, prefix: &str) -> bool {
    id.len() == prefix.len() + 9
        && id.starts_with(prefix)
        && id.as_bytes()[prefix.len()] == b'-'
        && id[prefix.len() + 1..]
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// `InstanceIds` of a batch action: at most 100, each well-formed, no duplicates kept.
pub(crate) fn instance_ids(m: &Map<String, Value>) -> Result<Vec<String>, CvmError> {
    let ids = strings(m, "InstanceIds");
    if ids.len() > 100 {
        return Err(CvmError::TooManyValues {
            field: "InstanceIds",
            max: 100,
        });
    }
    if let Some(bad) = ids.iter().find(|id| !is_instance_id(id)) {
        return Err(CvmError::InstanceIdMalformed((*bad).to_owned()));
    }
    let mut out: Vec<String> = Vec::with_capacity(ids.len());
    for id in ids {
        if !out.iter().any(|o| o == id) {
            out.push(id.to_owned());
        }
    }
    Ok(out)
}

/// Offset and Limit as CVM's Describe actions read them (Limit 1–100, default 20).
pub(crate) fn page(m: &Map<String, Value>) -> Result<(usize, usize), CvmError> {
    let offset = i64_of(m, "Offset").unwrap_or(0);
    if offset < 0 {
        return Err(CvmError::AtLeast {
            field: "Offset",
            min: 0,
        });
    }
    let limit = i64_of(m, "Limit").unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(CvmError::Range {
            field: "Limit",
            min: 1,
            max: 100,
        });
    }
    Ok((
        usize::try_from(offset).unwrap_or(usize::MAX),
        usize::try_from(limit).unwrap_or(20),
    ))
}

/// Tags from `TagSpecification` for one resource type, checked as CVM checks them.
pub(crate) fn tags(
    m: &Map<String, Value>,
    resource_type: &str,
) -> Result<Vec<(String, String)>, CvmError> {
    let mut out = Vec::new();
    for spec in objects(m, "TagSpecification") {
        if str_of(spec, "ResourceType").is_some_and(|t| t != resource_type) {
            continue;
        }
        for tag in objects(spec, "Tags") {
            let key = str_of(tag, "Key").unwrap_or_default();
            let value = str_of(tag, "Value").unwrap_or_default();
            let lower = key.to_ascii_lowercase();
            if ["qcloud:", "tencent:", "project"]
                .iter()
                .any(|p| lower.starts_with(p))
            {
                return Err(CvmError::TagKeyReserved(key.to_owned()));
            }
            let key_ok = !key.is_empty()
                && key.chars().count() <= 127
                && key
                    .chars()
                    .all(|c| c.is_alphanumeric() || " +-=._:/@".contains(c));
            if !key_ok {
                return Err(CvmError::IllegalTagKey(key.to_owned()));
            }
            let value_ok = value.chars().count() <= 255
                && value
                    .chars()
                    .all(|c| c.is_alphanumeric() || " +-=._:/@".contains(c));
            if !value_ok {
                return Err(CvmError::IllegalTagValue(value.to_owned()));
            }
            out.retain(|(k, _): &(String, String)| k != key);
            out.push((key.to_owned(), value.to_owned()));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => panic!("not an object"),
        }
    }

    #[test]
    fn ids_are_checked_and_deduplicated() {
        let m = map(json!({"InstanceIds": ["ins-aaaaaaaa", "ins-aaaaaaaa", "ins-bbbbbbbb"]}));
        assert_eq!(instance_ids(&m).unwrap().len(), 2);
        let bad = map(json!({"InstanceIds": ["ins-AAAAAAAA"]}));
        assert!(matches!(
            instance_ids(&bad),
            Err(CvmError::InstanceIdMalformed(_))
        ));
        assert!(is_short_id("skey-abcdefgh", "skey"));
        assert!(!is_short_id("skey-abcdefg", "skey"));
    }

    #[test]
    fn tag_rules() {
        let ok = map(
            json!({"TagSpecification": [{"ResourceType": "instance", "Tags": [{"Key": "env", "Value": "dev"}]}]}),
        );
        assert_eq!(
            tags(&ok, "instance").unwrap(),
            [("env".to_owned(), "dev".to_owned())]
        );
        assert!(tags(&ok, "keypair").unwrap().is_empty());
        for (key, value, want) in [
            ("qcloud:x", "v", "reserved"),
            ("", "v", "key"),
            ("a\u{7}", "v", "key"),
            ("k", "bad\u{7}", "value"),
        ] {
            let m = map(
                json!({"TagSpecification": [{"ResourceType": "instance", "Tags": [{"Key": key, "Value": value}]}]}),
            );
            let e = tags(&m, "instance").unwrap_err();
            let got = match e {
                CvmError::TagKeyReserved(_) => "reserved",
                CvmError::IllegalTagKey(_) => "key",
                CvmError::IllegalTagValue(_) => "value",
                _ => "other",
            };
            assert_eq!(got, want, "{key:?} {value:?}");
        }
    }
}
