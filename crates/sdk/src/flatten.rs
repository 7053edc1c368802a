//! Flattening parameters into a query string for `GET` (protocol.md §2.2).
//!
//! Nested objects become `Parent.Child`, list elements `Parent.N` (0-based), depth first in
//! the order of the JSON object; `null` is left out. Booleans are `true`/`false` (as the Go and
//! Node SDKs send them), numbers as JSON writes them. Encoding is `application/x-www-form-urlencoded`
//! (space as `+`), and the signature covers the query exactly as sent.

use serde_json::{Map, Value};

/// The query string for `params`.
pub(crate) fn query(params: &Map<String, Value>) -> String {
    let mut pairs = Vec::new();
    for (k, v) in params {
        walk(k.clone(), v, &mut pairs);
    }
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in &pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

fn walk(prefix: String, v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Null => {}
        Value::Bool(b) => out.push((prefix, b.to_string())),
        Value::Number(n) => out.push((prefix, n.to_string())),
        Value::String(s) => out.push((prefix, s.clone())),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(format!("{prefix}.{i}"), item, out);
            }
        }
        Value::Object(m) => {
            for (k, item) in m {
                walk(format!("{prefix}.{k}"), item, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn q(v: &Value) -> String {
        query(v.as_object().unwrap())
    }

    #[test]
    fn flattens_like_the_official_sdks() {
        assert_eq!(
            q(&json!({"Limit": 1, "Filters": [{"Values": ["未命名"], "Name": "instance-name"}]})),
            "Limit=1&Filters.0.Values.0=%E6%9C%AA%E5%91%BD%E5%90%8D&Filters.0.Name=instance-name"
        );
        assert_eq!(
            q(&json!({"DryRun": true, "A": null, "B": [], "C": {"D": [1, 2]}, "E": "x y&z"})),
            "DryRun=true&C.D.0=1&C.D.1=2&E=x+y%26z"
        );
        assert_eq!(q(&json!({})), "");
    }
}
