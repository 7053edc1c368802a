//! Stub answers (`tclocal serve --stub-responses`): for an action tclocal validates but does
//! not emulate, a deterministic response that follows the action's output model, so code that
//! only needs a well-formed answer can run.
//!
//! Every member of the output structure is present (all those the model marks
//! `output_required`, and the others too, so clients that read an optional member find it),
//! with a value of its type that depends on nothing but the model:
//!
//! | type | value |
//! |---|---|
//! | `string` | `"stub-<Member>"` |
//! | `string` / `datetime` | `"2020-01-01 00:00:00"` |
//! | `string` / `datetime_iso` | `"2020-01-01T00:00:00Z"` |
//! | `string` / `date` | `"2020-01-01"` |
//! | `binary` | `""` |
//! | `int` | `0` |
//! | `float` | `0.0` |
//! | `bool` | `false` |
//! | `list` | `[]` |
//! | `object` | the structure, filled the same way |
//!
//! Members the model hides (`disabled`) are left out unless they are `output_required`. A
//! structure that contains itself (directly or further down) is cut where it recurs: an
//! optional member there is left out, a required one is `{}`. `RequestId` is not part of the
//! stub: the envelope adds it, last, as for every answer. Nor is a top-level `Error` member
//! (two `lkeap` answers have one, optional): in `Response`, `Error` means the call failed to
//! every SDK.

use serde_json::{Map, Value};
use tclocal_wire::spec::{ActionSpec, Kind, Member, ServiceSpec};

/// Nested structures deeper than this are cut like recursive ones.
const MAX_DEPTH: usize = 16;

/// The stub answer of `action` (its fields, without `RequestId`).
#[must_use]
pub fn response(spec: &ServiceSpec, action: &ActionSpec) -> Map<String, Value> {
    let mut path = Vec::new();
    structure(spec, &action.output, &mut path)
        .into_iter()
        .filter(|(name, _)| name != "RequestId" && name != "Error")
        .collect()
}

/// The members of the structure `name`, filled; `path` holds the structures being filled.
fn structure<'s>(
    spec: &'s ServiceSpec,
    name: &'s str,
    path: &mut Vec<&'s str>,
) -> Map<String, Value> {
    let mut out = Map::new();
    let Some(members) = spec.object(name) else {
        return out;
    };
    path.push(name);
    for m in members {
        if m.disabled && !m.output_required {
            continue;
        }
        if let Some(v) = value(spec, m, path) {
            out.insert(m.name.clone(), v);
        }
    }
    path.pop();
    out
}

fn value<'s>(spec: &'s ServiceSpec, m: &'s Member, path: &mut Vec<&'s str>) -> Option<Value> {
    Some(match m.kind {
        Kind::String => Value::String(match m.member.as_str() {
            "datetime" => "2020-01-01 00:00:00".to_owned(),
            "datetime_iso" => "2020-01-01T00:00:00Z".to_owned(),
            "date" => "2020-01-01".to_owned(),
            _ => format!("stub-{}", m.name),
        }),
        Kind::Binary => Value::String(String::new()),
        Kind::Int => Value::from(0),
        Kind::Float => Value::from(0.0),
        Kind::Bool => Value::Bool(false),
        Kind::List => Value::Array(Vec::new()),
        Kind::Object => {
            let recurs = path.len() > MAX_DEPTH || path.contains(&m.member.as_str());
            match (recurs, m.output_required) {
                (false, _) => Value::Object(structure(spec, &m.member, path)),
                (true, true) => Value::Object(Map::new()),
                (true, false) => return None,
            }
        }
    })
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
                  "DoRequest": [],
                  "DoResponse": [
                    {"name": "TotalCount", "type": "int", "member": "uint64", "output_required": true},
                    {"name": "Name", "type": "string", "member": "string"},
                    {"name": "Created", "type": "string", "member": "datetime_iso", "nullable": true},
                    {"name": "Day", "type": "string", "member": "date"},
                    {"name": "At", "type": "string", "member": "datetime"},
                    {"name": "Ratio", "type": "float", "member": "float"},
                    {"name": "On", "type": "bool", "member": "bool"},
                    {"name": "Ids", "type": "list", "member": "string", "output_required": true},
                    {"name": "Node", "type": "object", "member": "Node"},
                    {"name": "Hidden", "type": "string", "member": "string", "disabled": true},
                    {"name": "File", "type": "binary", "member": "binary"},
                    {"name": "Error", "type": "object", "member": "Node"},
                    {"name": "RequestId", "type": "string", "member": "string"}
                  ],
                  "Node": [
                    {"name": "Id", "type": "string", "member": "string", "output_required": true},
                    {"name": "Parent", "type": "object", "member": "Node"},
                    {"name": "Root", "type": "object", "member": "Node", "output_required": true},
                    {"name": "Children", "type": "list", "member": "Node"}
                  ]
                }}"#,
        )
        .unwrap()
    }

    #[test]
    fn every_member_gets_a_value_of_its_type() {
        let spec = spec();
        let stub = response(&spec, &spec.actions["Do"]);
        assert_eq!(
            Value::Object(stub.clone()),
            json!({
                "TotalCount": 0,
                "Name": "stub-Name",
                "Created": "2020-01-01T00:00:00Z",
                "Day": "2020-01-01",
                "At": "2020-01-01 00:00:00",
                "Ratio": 0.0,
                "On": false,
                "Ids": [],
                "Node": {"Id": "stub-Id", "Root": {}, "Children": []},
                "File": ""
            })
        );
        // In the model's order; RequestId is the envelope's.
        let keys: Vec<&String> = stub.keys().collect();
        assert_eq!(keys[0], "TotalCount");
        assert_eq!(keys.last().unwrap().as_str(), "File");
        assert_eq!(stub, response(&spec, &spec.actions["Do"]), "deterministic");
    }
}
