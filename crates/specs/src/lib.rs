//! The API models tclocal knows, embedded in the binary.
//!
//! The files under `specs/` (derived from the official published models by
//! `cargo run -p xtask -- import-specs`, see `specs/README.md`) are compiled in and parsed on
//! first use, one product version at a time, so start-up does not pay for products nobody
//! calls.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use tclocal_wire::spec::{ActionSpec, ServiceSpec};

struct Embedded {
    service: &'static str,
    version: &'static str,
    json: &'static str,
    parsed: OnceLock<ServiceSpec>,
}

macro_rules! embed {
    ($($service:literal / $version:literal),* $(,)?) => {
        [$(Embedded {
            service: $service,
            version: $version,
            json: include_str!(concat!("../../../specs/", $service, "/", $version, ".json")),
            parsed: OnceLock::new(),
        }),*]
    };
}

static FILES: [Embedded; 4] = embed![
    "cam" / "2019-01-16",
    "cvm" / "2017-03-12",
    "ocr" / "2018-11-19",
    "sts" / "2018-08-13",
];

/// Every embedded product version, and look-ups across them.
#[derive(Debug, Clone, Copy, Default)]
pub struct Registry;

/// The embedded specs.
#[must_use]
pub fn registry() -> Registry {
    Registry
}

impl Registry {
    /// True when a product of that short name is known.
    #[must_use]
    pub fn has_service(self, service: &str) -> bool {
        self.service_name(service).is_some()
    }

    /// The product's short name as a `'static` string, when the product is known.
    #[must_use]
    pub fn service_name(self, service: &str) -> Option<&'static str> {
        FILES
            .iter()
            .find(|f| f.service == service)
            .map(|f| f.service)
    }

    /// The versions of a product, oldest first.
    #[must_use]
    pub fn versions(self, service: &str) -> Vec<&'static str> {
        let mut v: Vec<_> = FILES
            .iter()
            .filter(|f| f.service == service)
            .map(|f| f.version)
            .collect();
        v.sort_unstable();
        v
    }

    /// The model of one product version.
    #[must_use]
    pub fn spec(self, service: &str, version: &str) -> Option<&'static ServiceSpec> {
        FILES
            .iter()
            .find(|f| f.service == service && f.version == version)
            .map(parse)
    }

    /// The products that define `action` in `version`, and those that define it in any
    /// version: used to route a request whose host and credential scope name no product.
    #[must_use]
    pub fn products_with_action(self, action: &str, version: &str) -> ActionMatches {
        let mut matches = ActionMatches::default();
        for f in &FILES {
            if parse(f).actions.contains_key(action) {
                if f.version == version {
                    matches.exact.push(f.service);
                }
                matches.any_version.push(f.service);
            }
        }
        matches.exact.dedup();
        matches.any_version.dedup();
        matches
    }

    /// Every (product, version) pair, for diagnostics and the control plane.
    #[must_use]
    pub fn all(self) -> BTreeMap<&'static str, Vec<&'static str>> {
        let mut out: BTreeMap<&'static str, Vec<&'static str>> = BTreeMap::new();
        for f in &FILES {
            out.entry(f.service).or_default().push(f.version);
        }
        out
    }

    /// An action of a product version.
    #[must_use]
    pub fn action(self, service: &str, version: &str, action: &str) -> Option<&'static ActionSpec> {
        self.spec(service, version)?.actions.get(action)
    }
}

/// Result of [`Registry::products_with_action`].
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ActionMatches {
    /// Products that have the action in the requested version.
    pub exact: Vec<&'static str>,
    /// Products that have the action in some version.
    pub any_version: Vec<&'static str>,
}

fn parse(f: &'static Embedded) -> &'static ServiceSpec {
    f.parsed.get_or_init(|| {
        ServiceSpec::from_json(f.json)
            .unwrap_or_else(|e| panic!("embedded spec {}/{} is invalid: {e}", f.service, f.version))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_spec_parses_and_is_consistent() {
        for f in &FILES {
            let spec = parse(f);
            assert_eq!(spec.service, f.service);
            assert_eq!(spec.version, f.version);
            for (name, action) in &spec.actions {
                assert!(spec.object(&action.input).is_some(), "{name} input");
                assert!(spec.object(&action.output).is_some(), "{name} output");
            }
            for (name, members) in &spec.objects {
                for m in members {
                    let prim = matches!(
                        m.member.as_str(),
                        "string"
                            | "int64"
                            | "uint64"
                            | "bool"
                            | "float"
                            | "double"
                            | "datetime"
                            | "datetime_iso"
                            | "date"
                            | "binary"
                    );
                    assert!(
                        prim || spec.object(&m.member).is_some(),
                        "{name}.{}",
                        m.name
                    );
                }
            }
            assert!(spec.errors.windows(2).all(|w| w[0] < w[1]), "errors sorted");
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
}
