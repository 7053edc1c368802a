//! Request parameters: rebuilding flattened ones and typing all of them against the spec.
//!
//! JSON bodies (TC3 POST) arrive typed; query strings and form bodies (GET, v1) arrive as
//! flattened strings (`Filters.0.Values.0=…`, `DryRun=True`). Both become the same JSON
//! object here, checked member by member against the action's request structure:
//! an unknown member is `UnknownParameter`, a missing required one `MissingParameter`, a
//! value of the wrong type `InvalidParameter`. The check is driven by spec data, not by
//! hand-written code per action.

use std::collections::BTreeMap;

use serde_json::{Map, Number, Value};

use crate::catalogue::CommonCode;
use crate::error::{ApiError, ApiResult};
use crate::spec::{Kind, Member, ServiceSpec};

/// Structures nest at most this deep; deeper input is refused rather than recursed into.
const MAX_DEPTH: usize = 32;

/// Parameters as they arrived.
#[derive(Debug)]
pub enum RawParams {
    /// A JSON object (TC3 POST body).
    Json(Map<String, Value>),
    /// Decoded `key=value` pairs from a query string or form body, common parameters removed.
    Flat(Vec<(String, String)>),
}

/// Types `raw` against the structure `object` of `spec`, returning the request as JSON.
///
/// # Errors
/// `UnknownParameter`, `MissingParameter`, `InvalidParameter` or `InvalidParameterValue`
/// naming the first offending member by its full path (`Filters.0.Name`).
pub fn validate(raw: RawParams, spec: &ServiceSpec, object: &str) -> ApiResult<Map<String, Value>> {
    let members = spec
        .object(object)
        .ok_or_else(|| ApiError::internal(format!("spec has no object {object}")))?;
    let input = match raw {
        RawParams::Json(map) => Input::Json(Value::Object(map)),
        RawParams::Flat(pairs) => Input::Flat(unflatten(pairs)?),
    };
    let checker = Checker { spec };
    match checker.object(input, members, "", 0)? {
        Value::Object(map) => Ok(map),
        _ => unreachable!("object() always returns an object"),
    }
}

/// A flattened parameter tree: `a.0.b=x` becomes `a → 0 → b → "x"`.
#[derive(Debug)]
enum Node {
    Leaf(String),
    Branch(BTreeMap<String, Node>),
}

fn unflatten(pairs: Vec<(String, String)>) -> ApiResult<Node> {
    let mut root = BTreeMap::new();
    for (key, value) in pairs {
        let mut segments = key.split('.').peekable();
        let mut level = &mut root;
        let mut walked = String::new();
        while let Some(seg) = segments.next() {
            if !walked.is_empty() {
                walked.push('.');
            }
            walked.push_str(seg);
            if seg.is_empty() {
                return Err(ApiError::new(CommonCode::UnknownParameter).arg(&key));
            }
            if segments.peek().is_none() {
                if level.contains_key(seg) {
                    return Err(duplicate(&key));
                }
                level.insert(seg.to_owned(), Node::Leaf(value));
                break;
            }
            let next = level
                .entry(seg.to_owned())
                .or_insert_with(|| Node::Branch(BTreeMap::new()));
            match next {
                Node::Branch(map) => level = map,
                // `Filters=x` and `Filters.0.Name=y` together: one name, two shapes.
                Node::Leaf(_) => return Err(duplicate(&walked)),
            }
        }
    }
    Ok(Node::Branch(root))
}

fn duplicate(name: &str) -> ApiError {
    ApiError::with_template(CommonCode::InvalidParameter, "InvalidParameter.Duplicate").arg(name)
}

fn type_error(path: &str) -> ApiError {
    ApiError::with_template(CommonCode::InvalidParameter, "InvalidParameter.Type").arg(path)
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

enum Input {
    Json(Value),
    Flat(Node),
}

struct Checker<'s> {
    spec: &'s ServiceSpec,
}

impl Checker<'_> {
    fn object(
        &self,
        input: Input,
        members: &[Member],
        path: &str,
        depth: usize,
    ) -> ApiResult<Value> {
        if depth > MAX_DEPTH {
            return Err(type_error(path));
        }
        let entries: Vec<(String, Input)> = match input {
            Input::Json(Value::Object(map)) => {
                map.into_iter().map(|(k, v)| (k, Input::Json(v))).collect()
            }
            Input::Flat(Node::Branch(map)) => {
                map.into_iter().map(|(k, v)| (k, Input::Flat(v))).collect()
            }
            _ => return Err(type_error(path)),
        };
        let mut out = Map::new();
        for (name, value) in entries {
            let here = join(path, &name);
            let Some(member) = members.iter().find(|m| m.name == name) else {
                return Err(ApiError::new(CommonCode::UnknownParameter).arg(here));
            };
            // The SDKs omit unset members, but hand-written clients send null for them.
            if matches!(value, Input::Json(Value::Null)) {
                continue;
            }
            let typed = self.member(value, member.kind, &member.member, &here, depth)?;
            out.insert(name, typed);
        }
        if let Some(missing) = members
            .iter()
            .find(|m| m.required && !out.contains_key(&m.name))
        {
            return Err(ApiError::new(CommonCode::MissingParameter).arg(join(path, &missing.name)));
        }
        Ok(Value::Object(out))
    }

    fn member(
        &self,
        input: Input,
        kind: Kind,
        elem: &str,
        path: &str,
        depth: usize,
    ) -> ApiResult<Value> {
        match kind {
            Kind::List => self.list(input, elem, path, depth),
            Kind::Object => self.structure(input, elem, path, depth),
            Kind::String | Kind::Binary => scalar_string(input, path),
            Kind::Int => integer(input, elem, path),
            Kind::Float => float(input, path),
            Kind::Bool => boolean(input, path),
        }
    }

    fn structure(&self, input: Input, name: &str, path: &str, depth: usize) -> ApiResult<Value> {
        let members = self
            .spec
            .object(name)
            .ok_or_else(|| ApiError::internal(format!("spec has no object {name}")))?;
        self.object(input, members, path, depth + 1)
    }

    fn list(&self, input: Input, elem: &str, path: &str, depth: usize) -> ApiResult<Value> {
        let items: Vec<(String, Input)> = match input {
            Input::Json(Value::Array(items)) => items
                .into_iter()
                .enumerate()
                .map(|(i, v)| (i.to_string(), Input::Json(v)))
                .collect(),
            Input::Flat(Node::Branch(map)) => {
                let mut indexed = Vec::with_capacity(map.len());
                for (k, v) in map {
                    let i: usize = k.parse().map_err(|_| type_error(&join(path, &k)))?;
                    indexed.push((i, k, v));
                }
                indexed.sort_by_key(|(i, _, _)| *i);
                indexed
                    .into_iter()
                    .map(|(_, k, v)| (k, Input::Flat(v)))
                    .collect()
            }
            _ => return Err(type_error(path)),
        };
        let kind = primitive_kind(elem);
        let mut out = Vec::with_capacity(items.len());
        for (index, item) in items {
            let here = join(path, &index);
            if matches!(item, Input::Json(Value::Null)) {
                return Err(type_error(&here));
            }
            out.push(self.member(item, kind, elem, &here, depth + 1)?);
        }
        Ok(Value::Array(out))
    }
}

/// The outer kind of a list element named by its `member` type.
fn primitive_kind(member: &str) -> Kind {
    match member {
        "string" | "datetime" | "datetime_iso" | "date" => Kind::String,
        "binary" => Kind::Binary,
        "int64" | "uint64" | "int" => Kind::Int,
        "float" | "double" => Kind::Float,
        "bool" => Kind::Bool,
        _ => Kind::Object,
    }
}

fn scalar_string(input: Input, path: &str) -> ApiResult<Value> {
    match input {
        Input::Json(v @ Value::String(_)) => Ok(v),
        Input::Flat(Node::Leaf(s)) => Ok(Value::String(s)),
        _ => Err(type_error(path)),
    }
}

fn integer(input: Input, member: &str, path: &str) -> ApiResult<Value> {
    let unsigned = member == "uint64";
    let n: Number = match input {
        Input::Json(Value::Number(n)) if n.is_i64() || n.is_u64() => n,
        Input::Flat(Node::Leaf(s)) => {
            let s = s.trim();
            if let Ok(i) = s.parse::<i64>() {
                Number::from(i)
            } else if let Ok(u) = s.parse::<u64>() {
                Number::from(u)
            } else {
                return Err(type_error(path));
            }
        }
        _ => return Err(type_error(path)),
    };
    if unsigned && n.as_i64().is_some_and(|i| i < 0) {
        return Err(ApiError::new(CommonCode::InvalidParameterValue).arg(path));
    }
    Ok(Value::Number(n))
}

fn float(input: Input, path: &str) -> ApiResult<Value> {
    match input {
        Input::Json(v @ Value::Number(_)) => Ok(v),
        Input::Flat(Node::Leaf(s)) => s
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| type_error(path)),
        _ => Err(type_error(path)),
    }
}

fn boolean(input: Input, path: &str) -> ApiResult<Value> {
    match input {
        Input::Json(v @ Value::Bool(_)) => Ok(v),
        // Python's urlencode writes True/False; Go and Node write true/false.
        Input::Flat(Node::Leaf(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(type_error(path)),
        },
        _ => Err(type_error(path)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec() -> ServiceSpec {
        ServiceSpec::from_json(
            r#"{"service": "t", "version": "2020-01-01",
                "actions": {"Do": {"input": "DoRequest", "output": "DoResponse"}},
                "objects": {
                  "DoRequest": [
                    {"name": "Ids", "type": "list", "member": "string"},
                    {"name": "Limit", "type": "int", "member": "int64"},
                    {"name": "Count", "type": "int", "member": "uint64"},
                    {"name": "Ratio", "type": "float", "member": "float"},
                    {"name": "DryRun", "type": "bool", "member": "bool"},
                    {"name": "Name", "type": "string", "member": "string", "required": true},
                    {"name": "Filters", "type": "list", "member": "Filter"},
                    {"name": "Placement", "type": "object", "member": "Placement"}
                  ],
                  "Filter": [
                    {"name": "Name", "type": "string", "member": "string", "required": true},
                    {"name": "Values", "type": "list", "member": "string", "required": true}
                  ],
                  "Placement": [{"name": "Zone", "type": "string", "member": "string"}],
                  "DoResponse": []
                }}"#,
        )
        .unwrap()
    }

    fn json(v: Value) -> ApiResult<Map<String, Value>> {
        let Value::Object(m) = v else { panic!() };
        validate(RawParams::Json(m), &spec(), "DoRequest")
    }

    fn flat(pairs: &[(&str, &str)]) -> ApiResult<Map<String, Value>> {
        let pairs = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        validate(RawParams::Flat(pairs), &spec(), "DoRequest")
    }

    fn err(r: ApiResult<Map<String, Value>>) -> (String, String) {
        let e = r.unwrap_err();
        (e.code().to_owned(), e.message(crate::Language::EnUs))
    }

    #[test]
    fn json_of_the_right_types_passes_unchanged() {
        let v = json!({"Name": "n", "Ids": ["a"], "Limit": -1, "Count": 2, "Ratio": 0.5,
                       "DryRun": true, "Filters": [{"Name": "zone", "Values": ["z"]}],
                       "Placement": {"Zone": "ap-guangzhou-3"}});
        assert_eq!(Value::Object(json(v.clone()).unwrap()), v);
    }

    #[test]
    fn flattened_pairs_are_rebuilt_and_coerced() {
        let got = flat(&[
            ("Name", "n"),
            ("Filters.0.Values.1", "b"),
            ("Filters.0.Values.0", "a"),
            ("Filters.0.Name", "zone"),
            ("Limit", "20"),
            ("DryRun", "True"),
            ("Ratio", "1.5"),
            ("Placement.Zone", "z"),
        ])
        .unwrap();
        assert_eq!(
            Value::Object(got),
            json!({"Name": "n", "Filters": [{"Name": "zone", "Values": ["a", "b"]}],
                   "Limit": 20, "DryRun": true, "Ratio": 1.5, "Placement": {"Zone": "z"}})
        );
    }

    #[test]
    fn list_indices_sort_numerically_not_lexically() {
        let pairs: Vec<(String, &str)> = (0..12).map(|i| (format!("Ids.{i}"), "x")).collect();
        let mut refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        refs.push(("Ids.11", "last"));
        refs.retain(|(k, v)| !(*k == "Ids.11" && *v == "x"));
        refs.push(("Name", "n"));
        let got = flat(&refs).unwrap();
        assert_eq!(got["Ids"][11], "last");
    }

    #[test]
    fn unknown_member_is_named_with_its_path() {
        assert_eq!(
            err(json(json!({"Name": "n", "Nope": 1}))),
            (
                "UnknownParameter".into(),
                "The parameter `Nope` is not recognized.".into()
            )
        );
        assert_eq!(
            err(json(
                json!({"Name": "n", "Filters": [{"Name": "a", "Values": [], "X": 1}]})
            ))
            .1,
            "The parameter `Filters.0.X` is not recognized."
        );
    }

    #[test]
    fn missing_required_member_is_named_with_its_path() {
        assert_eq!(err(json(json!({}))).0, "MissingParameter");
        assert_eq!(
            err(json(json!({"Name": "n", "Filters": [{"Name": "a"}]}))).1,
            "The request is missing a required parameter `Filters.0.Values`."
        );
    }

    #[test]
    fn wrong_types_are_invalid_parameter() {
        for bad in [
            json!({"Name": 1}),
            json!({"Name": "n", "Limit": "20"}),
            json!({"Name": "n", "Limit": 1.5}),
            json!({"Name": "n", "Ids": "a"}),
            json!({"Name": "n", "Ids": [1]}),
            json!({"Name": "n", "Ids": [null]}),
            json!({"Name": "n", "DryRun": "true"}),
            json!({"Name": "n", "Placement": []}),
            json!({"Name": "n", "Ratio": "x"}),
        ] {
            assert_eq!(err(json(bad.clone())).0, "InvalidParameter", "{bad}");
        }
        for bad in [
            &[("Name", "n"), ("Limit", "abc")][..],
            &[("Name", "n"), ("DryRun", "yes")],
            &[("Name", "n"), ("Ids", "a")],
            &[("Name", "n"), ("Ids.x", "a")],
            &[("Name", "n"), ("Ratio", "NaN")],
        ] {
            assert_eq!(err(flat(bad)).0, "InvalidParameter", "{bad:?}");
        }
        assert_eq!(
            err(json(json!({"Name": "n", "Limit": "20"}))).1,
            "Parameter `Limit` type error."
        );
    }

    #[test]
    fn negative_unsigned_is_invalid_value() {
        assert_eq!(
            err(json(json!({"Name": "n", "Count": -1}))).0,
            "InvalidParameterValue"
        );
    }

    #[test]
    fn null_members_count_as_absent() {
        assert_eq!(err(json(json!({"Name": null}))).0, "MissingParameter");
        assert!(
            json(json!({"Name": "n", "Limit": null}))
                .unwrap()
                .get("Limit")
                .is_none()
        );
    }

    #[test]
    fn duplicated_or_conflicting_flat_keys_are_refused() {
        assert_eq!(
            err(flat(&[("Name", "a"), ("Name", "b")])).0,
            "InvalidParameter"
        );
        assert_eq!(
            err(flat(&[
                ("Name", "n"),
                ("Filters", "x"),
                ("Filters.0.Name", "y")
            ]))
            .0,
            "InvalidParameter"
        );
        assert_eq!(
            err(flat(&[("Name", "n"), ("Ids..0", "y")])).0,
            "UnknownParameter"
        );
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_flat_input_never_panics(pairs in proptest::collection::vec(("[A-Za-z0-9.]{0,24}", ".{0,8}"), 0..12)) {
            let _ = validate(RawParams::Flat(pairs), &spec(), "DoRequest");
        }
    }
}
