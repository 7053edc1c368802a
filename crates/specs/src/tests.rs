//! The embedded data against the committed files, and the models against the validator and
//! the stub generator.

use std::collections::BTreeMap;
use std::path::PathBuf;

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use tclocal_wire::params::{RawParams, validate};
use tclocal_wire::spec::{ActionStatus, Kind, Member, ServiceSpec};

use super::*;

fn specs_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../specs")
}

const PRIMITIVES: &[&str] = &[
    "string",
    "int64",
    "uint64",
    "bool",
    "float",
    "double",
    "datetime",
    "datetime_iso",
    "date",
    "binary",
];

/// Every product version decompresses, parses and agrees with the index; every reference
/// resolves.
#[test]
fn every_embedded_spec_parses_and_is_consistent() {
    let r = registry();
    let mut actions = 0;
    for (service, versions) in r.all() {
        for version in versions {
            let spec = r.spec(service, version).unwrap();
            assert_eq!(spec.service, service);
            assert_eq!(spec.version, version);
            let indexed = r.actions(service, version).unwrap();
            let parsed: Vec<(&str, ActionStatus)> = spec
                .actions
                .iter()
                .map(|(n, a)| (n.as_str(), a.status))
                .collect();
            assert_eq!(indexed, parsed, "{service}/{version}");
            actions += parsed.len();
            for (name, action) in &spec.actions {
                assert!(spec.object(&action.input).is_some(), "{name} input");
                assert!(spec.object(&action.output).is_some(), "{name} output");
                assert!(
                    action.errors.windows(2).all(|w| w[0] < w[1]),
                    "{name} errors"
                );
                assert_eq!(r.action_status(service, version, name), Some(action.status));
            }
            for (name, members) in &spec.objects {
                for m in members {
                    assert!(
                        PRIMITIVES.contains(&m.member.as_str()) || spec.object(&m.member).is_some(),
                        "{service}/{version} {name}.{}",
                        m.name
                    );
                }
            }
            assert!(spec.errors.windows(2).all(|w| w[0] < w[1]), "errors sorted");
            for code in &spec.errors {
                assert!(r.has_error(code, Some(service)), "{code}");
            }
        }
    }
    let size = r.embedded_size();
    assert_eq!(actions, size.actions);
    assert!(size.compressed_bytes * 5 < size.raw_bytes, "{size:?}");
}

/// `specs/index.json` lists exactly the committed files, with their checksums and action
/// counts; the embedded index holds the same files. (CI cannot re-run the import, which needs
/// the published packages; this is its drift check.)
#[test]
fn committed_specs_match_the_index() {
    let dir = specs_dir();
    let text = std::fs::read_to_string(dir.join("index.json")).unwrap();
    let index: Value = serde_json::from_str(&text).unwrap();
    let listed = index["files"].as_object().unwrap();

    let mut on_disk = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let service_dir = entry.unwrap().path();
        if !service_dir.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&service_dir).unwrap() {
            let path = f.unwrap().path();
            let rel = path
                .strip_prefix(&dir)
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned();
            on_disk.push(rel);
        }
    }
    on_disk.sort();
    let listed_names: Vec<&String> = listed.keys().collect();
    assert_eq!(listed_names, on_disk.iter().collect::<Vec<_>>());

    let r = registry();
    let mut embedded = Vec::new();
    for (service, versions) in r.all() {
        for version in versions {
            embedded.push(format!("{service}/{version}.json"));
        }
    }
    assert_eq!(
        embedded, on_disk,
        "the embedded files are the committed ones"
    );

    for (rel, entry) in listed {
        let bytes = std::fs::read(dir.join(rel)).unwrap();
        assert_eq!(
            entry["sha256"].as_str().unwrap(),
            hex::encode(Sha256::digest(&bytes)),
            "{rel} changed since it was imported: re-run the import (specs/README.md)"
        );
        let (service, version) = rel.trim_end_matches(".json").split_once('/').unwrap();
        assert_eq!(
            entry["actions"].as_u64().unwrap() as usize,
            r.action_count(service, version).unwrap(),
            "{rel}"
        );
        assert!(entry["inputs"]["api_json"].is_string(), "{rel}");
    }
}

#[test]
fn the_whole_published_catalogue_is_embedded() {
    let r = registry();
    let size = r.embedded_size();
    // tccli 3.1.189.1: 262 products, 300 product versions, 16,204 actions (protocol.md §8.1).
    assert_eq!(r.services().len(), 262);
    assert_eq!(size.files, 300);
    assert_eq!(size.actions, 16_204);
    assert_eq!(r.versions("vpc"), ["2017-03-12"]);
    assert_eq!(r.service_name("as"), Some("as"));
    assert!(!r.has_service("autoscaling"), "named by serviceShortName");
    assert_eq!(r.versions("nope"), Vec::<&str>::new());
}

/// The service look-up gives every product exactly its files, as a scan of the index does.
#[test]
fn every_product_finds_exactly_its_versions() {
    let r = registry();
    let mut scanned: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for i in 0..super::index::FILE_COUNT {
        scanned
            .entry(super::service_of(i))
            .or_default()
            .push(super::version_of(i));
    }
    assert_eq!(scanned.len(), r.services().len());
    for (service, versions) in &scanned {
        assert_eq!(&r.versions(service), versions, "{service}");
        assert_eq!(r.service_name(service), Some(*service));
    }
    for unknown in ["", "127", "CVM", "cvm ", "zzzz"] {
        assert!(r.versions(unknown).is_empty(), "{unknown:?}");
        assert_eq!(r.service_name(unknown), None, "{unknown:?}");
    }
}

#[test]
fn cvm_describe_instances_status_matches_the_published_model() {
    let r = registry();
    let spec = r.spec("cvm", "2017-03-12").unwrap();
    let req = spec.object("DescribeInstancesStatusRequest").unwrap();
    let names: Vec<_> = req.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["InstanceIds", "Offset", "Limit"]);
    assert!(spec.has_error("InvalidInstanceId.Malformed"));
    assert_eq!(
        r.products_with_action("DescribeInstancesStatus", "2017-03-12")
            .exact,
        ["cvm"]
    );
    assert!(
        r.products_with_action("Nope", "2017-03-12")
            .any_version
            .is_empty()
    );
}

/// Action names repeat across products: routing by (Action, Version) alone is ambiguous for
/// some, which the gateway must resolve or refuse.
#[test]
fn shared_action_names_are_indexed_per_product() {
    let r = registry();
    let zones = r.products_with_action("DescribeZones", "2017-03-12");
    assert_eq!(zones.exact, ["cvm", "postgres"]);
    assert_eq!(
        zones.any_version,
        [
            "alb",
            "api",
            "cvm",
            "cynosdb",
            "edgezone",
            "lighthouse",
            "postgres",
            "region",
            "sqlserver",
            "teo"
        ]
    );
    let vpcs = r.products_with_action("DescribeVpcs", "2017-03-12");
    assert_eq!(vpcs.exact, ["vpc"]);
    assert_eq!(vpcs.any_version, ["bmvpc", "ecm", "vpc"]);
    // A product with several versions is listed once.
    let v = r.versions("cdb");
    assert!(v.len() > 1 || r.versions("tke").len() > 1);
    for (service, versions) in r.all() {
        if versions.len() > 1 {
            let (first, _) = r.actions(service, versions[0]).unwrap()[0];
            let m = r.products_with_action(first, versions[0]);
            assert_eq!(
                m.any_version.iter().filter(|s| **s == service).count(),
                1,
                "{service}"
            );
        }
    }
}

#[test]
fn statuses_and_error_codes_come_from_the_index() {
    let r = registry();
    let mut offline = 0;
    let mut deprecated = 0;
    for (service, versions) in r.all() {
        for version in versions {
            for (_, status) in r.actions(service, version).unwrap() {
                match status {
                    ActionStatus::Offline => offline += 1,
                    ActionStatus::Deprecated => deprecated += 1,
                    ActionStatus::Online => {}
                }
            }
        }
    }
    assert_eq!((offline, deprecated), (26, 188));
    assert_eq!(r.action_status("cvm", "2017-03-12", "Nope"), None);
    assert_eq!(r.action_status("cvm", "1999-01-01", "DescribeZones"), None);
    assert!(r.has_error("InvalidInstanceId.Malformed", None));
    assert!(r.has_error("InvalidInstanceId.Malformed", Some("cvm")));
    assert!(!r.has_error("InvalidInstanceId.Malformed", Some("sts")));
    assert!(!r.has_error("No.Such.Code", None));
    assert!(r.action("cvm", "2017-03-12", "Nope").is_none());
}

// ---------------------------------------------------------------------------------------
// Stubs against their output model.

/// Checks `value` against the structure `object`: no member the model lacks, every
/// `output_required` member present, each value of its member's type (recursively).
fn conforms(spec: &ServiceSpec, object: &str, value: &Value, path: &str) -> Result<(), String> {
    let members = spec
        .object(object)
        .ok_or_else(|| format!("{path}: no object {object}"))?;
    let map = value
        .as_object()
        .ok_or_else(|| format!("{path}: not an object"))?;
    for key in map.keys() {
        if !members.iter().any(|m| &m.name == key) {
            return Err(format!("{path}.{key}: not in {object}"));
        }
    }
    for m in members {
        let here = format!("{path}.{}", m.name);
        match map.get(&m.name) {
            None if m.output_required && m.name != "RequestId" && !m.disabled => {
                return Err(format!("{here}: output_required but missing"));
            }
            None => {}
            Some(Value::Null) if m.nullable => {}
            Some(v) => typed(spec, m.kind, &m.member, v, &here)?,
        }
    }
    Ok(())
}

fn typed(
    spec: &ServiceSpec,
    kind: Kind,
    member: &str,
    v: &Value,
    path: &str,
) -> Result<(), String> {
    let ok = match kind {
        Kind::String | Kind::Binary => v.is_string(),
        Kind::Int => v.is_i64() || v.is_u64(),
        Kind::Float => v.is_number(),
        Kind::Bool => v.is_boolean(),
        Kind::Object => return conforms(spec, member, v, path),
        Kind::List => {
            let items = v.as_array().ok_or_else(|| format!("{path}: not a list"))?;
            let elem = element_kind(member);
            for (i, item) in items.iter().enumerate() {
                typed(spec, elem, member, item, &format!("{path}.{i}"))?;
            }
            true
        }
    };
    if ok {
        Ok(())
    } else {
        Err(format!("{path}: {v} is not a {kind:?}"))
    }
}

fn element_kind(member: &str) -> Kind {
    match member {
        "string" | "datetime" | "datetime_iso" | "date" => Kind::String,
        "binary" => Kind::Binary,
        "int64" | "uint64" => Kind::Int,
        "float" | "double" => Kind::Float,
        "bool" => Kind::Bool,
        _ => Kind::Object,
    }
}

/// Every action of every product version: its stub follows its output model.
#[test]
fn stubs_follow_their_output_model_for_every_action() {
    let r = registry();
    let mut checked = 0;
    for (service, versions) in r.all() {
        for version in versions {
            let spec = r.spec(service, version).unwrap();
            for (name, action) in &spec.actions {
                let stub = stub::response(spec, action);
                assert!(!stub.contains_key("RequestId"), "{service}.{name}");
                let v = Value::Object(stub);
                if let Err(e) = conforms(spec, &action.output, &v, name) {
                    panic!("{service}/{version} {name}: {e}");
                }
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 16_204);
}

#[test]
fn a_vpc_stub_is_what_the_sdk_expects() {
    let r = registry();
    let spec = r.spec("vpc", "2017-03-12").unwrap();
    let stub = stub::response(spec, &spec.actions["DescribeVpcs"]);
    assert_eq!(Value::Object(stub), json!({"TotalCount": 0, "VpcSet": []}));
    let spec = r.spec("sts", "2018-08-13").unwrap();
    let stub = stub::response(spec, &spec.actions["GetCallerIdentity"]);
    assert_eq!(stub["Arn"], "stub-Arn");
}

// ---------------------------------------------------------------------------------------
// Property-style: requests generated from the input model.

/// A tiny deterministic generator (splitmix64), seeded by proptest.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// A valid request for the structure `object`: every required member, some optional ones.
fn valid(spec: &ServiceSpec, object: &str, g: &mut Gen, depth: usize) -> Map<String, Value> {
    let mut out = Map::new();
    for m in spec.object(object).unwrap_or_default() {
        let wanted = m.required || (depth < 4 && g.chance(40));
        if wanted {
            out.insert(
                m.name.clone(),
                valid_value(spec, m.kind, &m.member, g, depth),
            );
        }
    }
    out
}

fn valid_value(spec: &ServiceSpec, kind: Kind, member: &str, g: &mut Gen, depth: usize) -> Value {
    match kind {
        Kind::String | Kind::Binary => json!("tclocal"),
        Kind::Int => json!(g.next() % 100),
        Kind::Float => json!(1.5),
        Kind::Bool => json!(g.chance(50)),
        Kind::Object => Value::Object(valid(spec, member, g, depth + 1)),
        Kind::List => {
            let n = if depth < 4 { g.next() % 3 } else { 0 };
            let elem = element_kind(member);
            (0..n)
                .map(|_| valid_value(spec, elem, member, g, depth + 1))
                .collect()
        }
    }
}

/// A value of another JSON type than the member's.
fn wrong_value(m: &Member) -> Value {
    match m.kind {
        Kind::String | Kind::Binary => json!(7),
        Kind::Int | Kind::Float | Kind::Bool | Kind::List | Kind::Object => json!("tclocal"),
    }
}

/// Every action as (file index, action name), for sampling.
fn all_actions() -> &'static [(&'static str, &'static str, &'static str)] {
    static ALL: OnceLock<Vec<(&'static str, &'static str, &'static str)>> = OnceLock::new();
    ALL.get_or_init(|| {
        let r = registry();
        let mut out = Vec::new();
        for (service, versions) in r.all() {
            for version in versions {
                for (action, _) in r.actions(service, version).unwrap() {
                    out.push((service, version, action));
                }
            }
        }
        out
    })
}

fn check(spec: &ServiceSpec, input: &str, request: Map<String, Value>) -> Result<(), String> {
    validate(RawParams::Json(request), spec, input)
        .map(|_| ())
        .map_err(|e| e.code().to_owned())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// For a random action of any product: a generated valid request is accepted; the same
    /// request without a required member is MissingParameter, with an unknown member
    /// UnknownParameter, with a member of the wrong type InvalidParameter.
    #[test]
    fn generated_requests_are_judged_by_the_model(pick in any::<prop::sample::Index>(), seed in any::<u64>()) {
        let actions = all_actions();
        let (service, version, action) = actions[pick.index(actions.len())];
        let spec = registry().spec(service, version).unwrap();
        let input = &spec.actions[action].input;
        let members = spec.object(input).unwrap();
        let mut g = Gen(seed);
        let request = valid(spec, input, &mut g, 0);
        prop_assert_eq!(check(spec, input, request.clone()), Ok(()), "{}/{} {}: {:?}", service, version, action, request);

        let mut unknown = request.clone();
        unknown.insert("TclocalNoSuchMember".to_owned(), json!("x"));
        prop_assert_eq!(check(spec, input, unknown), Err("UnknownParameter".to_owned()));

        let required: Vec<&Member> = members.iter().filter(|m| m.required).collect();
        if !required.is_empty() {
            let m = required[(seed as usize) % required.len()];
            let mut missing = request.clone();
            missing.remove(&m.name);
            prop_assert_eq!(check(spec, input, missing), Err("MissingParameter".to_owned()), "{} {}", action, m.name);
        }

        if !members.is_empty() {
            let m = &members[(seed as usize) % members.len()];
            let mut wrong = request.clone();
            wrong.insert(m.name.clone(), wrong_value(m));
            prop_assert_eq!(check(spec, input, wrong), Err("InvalidParameter".to_owned()), "{} {}", action, m.name);
        }
    }
}

/// Per product, how many actions have a required member: the sample above reaches them.
#[test]
fn many_products_have_required_members() {
    let r = registry();
    let mut products_with_required: BTreeMap<&str, usize> = BTreeMap::new();
    for (service, version, action) in all_actions() {
        let spec = r.spec(service, version).unwrap();
        let input = &spec.actions[*action].input;
        if spec.object(input).unwrap().iter().any(|m| m.required) {
            *products_with_required.entry(service).or_default() += 1;
        }
    }
    assert!(
        products_with_required.len() > 200,
        "{}",
        products_with_required.len()
    );
}
