//! Which product a request is for.
//!
//! In order (architecture.md §1.2): the first label of `Host` when it names a known product
//! (`cvm.localhost:4570`, `cvm.ap-guangzhou.tencentcloudapi.com` through a proxy); else the
//! TC3 credential-scope service when known (the Node and Java SDKs derive it from the
//! endpoint, so it is `127` for `127.0.0.1`); else the one product that has the action in
//! that version (or, when no product has it in that version, in any version).
//!
//! With every published product embedded, many action names repeat (`DescribeZones` is in
//! ten products, and in `cvm` and `postgres` with the same version `2017-03-12`). When
//! several products match, the one tclocal emulates wins if there is exactly one, so plain
//! `127.0.0.1` endpoints keep reaching CVM, CAM and STS; otherwise the request is
//! `NoSuchProduct.Unroutable` and must name its product by host or credential scope.

use tclocal_specs::Registry;
use tclocal_wire::{ApiError, ApiResult, CommonCode};

/// The first DNS label of a raw Host value (`http://cvm.localhost:4570` → `cvm`).
fn host_label(host: &str) -> &str {
    let host = host
        .strip_prefix("http://")
        .or_else(|| host.strip_prefix("https://"))
        .unwrap_or(host);
    host.split(['.', ':', '/']).next().unwrap_or("")
}

/// Resolves the product short name. `emulated` tells whether tclocal emulates a product
/// (has business logic for it): it breaks ties between products sharing an action name.
pub(crate) fn product(
    specs: Registry,
    emulated: &dyn Fn(&str) -> bool,
    host: &str,
    scope_service: Option<&str>,
    action: &str,
    version: &str,
) -> ApiResult<&'static str> {
    let label = host_label(host);
    let label = if label.bytes().any(|b| b.is_ascii_uppercase()) {
        std::borrow::Cow::Owned(label.to_ascii_lowercase())
    } else {
        std::borrow::Cow::Borrowed(label)
    };
    if let Some(name) = specs.service_name(&label) {
        return Ok(name);
    }
    if let Some(name) = scope_service.and_then(|s| specs.service_name(s)) {
        return Ok(name);
    }
    let found = specs.products_with_action(action, version);
    // The action exists, but not in this version: the version check will say so.
    let candidates = match (found.exact.as_slice(), found.any_version.as_slice()) {
        ([], []) => return Err(ApiError::new(CommonCode::InvalidAction)),
        ([], any) => any,
        (exact, _) => exact,
    };
    let chosen = match candidates {
        [one] => Some(*one),
        several => {
            let mut emulated = several.iter().filter(|s| emulated(s));
            match (emulated.next(), emulated.next()) {
                (Some(one), None) => Some(*one),
                _ => None,
            }
        }
    };
    chosen.ok_or_else(|| {
        ApiError::with_template(CommonCode::NoSuchProduct, "NoSuchProduct.Unroutable")
            .arg(action)
            .arg(version)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_label_ignores_scheme_port_and_path() {
        assert_eq!(host_label("cvm.localhost:4570"), "cvm");
        assert_eq!(
            host_label("http://cvm.ap-guangzhou.tencentcloudapi.com"),
            "cvm"
        );
        assert_eq!(host_label("127.0.0.1:4570"), "127");
        assert_eq!(host_label("localhost:4570"), "localhost");
        assert_eq!(host_label(""), "");
    }

    fn emulated(service: &str) -> bool {
        matches!(service, "cvm" | "cam" | "sts")
    }

    #[test]
    fn routing_prefers_host_then_scope_then_action() {
        let r = tclocal_specs::registry();
        let route = |host, scope, action| product(r, &emulated, host, scope, action, "2017-03-12");
        assert_eq!(route("cvm.localhost:1", None, "X").unwrap(), "cvm");
        assert_eq!(route("CVM.Localhost:1", None, "X").unwrap(), "cvm");
        assert_eq!(route("127.0.0.1:1", Some("cvm"), "X").unwrap(), "cvm");
        assert_eq!(
            route("127.0.0.1:1", Some("127"), "DescribeZones").unwrap(),
            "cvm"
        );
        assert_eq!(
            route("127.0.0.1:1", Some("127"), "NoSuchAction")
                .unwrap_err()
                .code(),
            "InvalidAction"
        );
        assert_eq!(
            product(
                r,
                &emulated,
                "127.0.0.1",
                None,
                "DescribeZones",
                "2099-01-01"
            )
            .unwrap(),
            "cvm"
        );
    }

    /// Action names shared by several products: the one emulated product wins; among
    /// products none of which (or several of which) are emulated, nothing is guessed.
    #[test]
    fn shared_action_names_prefer_the_emulated_product() {
        let r = tclocal_specs::registry();
        let route =
            |action, version| product(r, &emulated, "127.0.0.1:1", Some("127"), action, version);
        // cvm and postgres both have DescribeZones and DescribeRegions in 2017-03-12.
        assert_eq!(route("DescribeZones", "2017-03-12").unwrap(), "cvm");
        assert_eq!(route("DescribeRegions", "2017-03-12").unwrap(), "cvm");
        assert_eq!(
            route("DescribeInstancesStatus", "2017-03-12").unwrap(),
            "cvm"
        );
        // cam and organization share GetUser, but only cam has it in 2019-01-16.
        assert_eq!(route("GetUser", "2019-01-16").unwrap(), "cam");
        // A unique (Action, Version) pair routes to a product tclocal does not emulate.
        assert_eq!(route("DescribeVpcs", "2017-03-12").unwrap(), "vpc");
        // mariadb and postgres, neither emulated.
        let e = route("DescribeDBInstances", "2017-03-12").unwrap_err();
        assert_eq!(e.code(), "NoSuchProduct");
        // No exact match and several products in other versions, none emulated.
        let e = route("DescribeVpcs", "2099-01-01").unwrap_err();
        assert_eq!(e.code(), "NoSuchProduct");
        // Host label or scope settle it.
        assert_eq!(
            product(
                r,
                &emulated,
                "postgres.localhost",
                None,
                "DescribeZones",
                "2017-03-12"
            )
            .unwrap(),
            "postgres"
        );
        assert_eq!(
            product(
                r,
                &emulated,
                "127.0.0.1",
                Some("mariadb"),
                "DescribeDBInstances",
                "2017-03-12"
            )
            .unwrap(),
            "mariadb"
        );
    }
}
