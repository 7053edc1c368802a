//! Which product a request is for.
//!
//! In order (architecture.md §1.2): the first label of `Host` when it names a known product
//! (`cvm.localhost:4570`, `cvm.ap-guangzhou.tencentcloudapi.com` through a proxy); else the
//! TC3 credential-scope service when known (the Node and Java SDKs derive it from the
//! endpoint, so it is `127` for `127.0.0.1`); else the one product that has the action in
//! that version.

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

/// Resolves the product short name.
pub(crate) fn product(
    specs: Registry,
    host: &str,
    scope_service: Option<&str>,
    action: &str,
    version: &str,
) -> ApiResult<&'static str> {
    if let Some(name) = specs.service_name(&host_label(host).to_ascii_lowercase()) {
        return Ok(name);
    }
    if let Some(name) = scope_service.and_then(|s| specs.service_name(s)) {
        return Ok(name);
    }
    let found = specs.products_with_action(action, version);
    match (found.exact.as_slice(), found.any_version.as_slice()) {
        ([one], _) => Ok(one),
        // The action exists, but not in this version: the version check will say so.
        ([], [one]) => Ok(one),
        ([], []) => Err(ApiError::new(CommonCode::InvalidAction)),
        _ => Err(
            ApiError::with_template(CommonCode::NoSuchProduct, "NoSuchProduct.Unroutable")
                .arg(action)
                .arg(version),
        ),
    }
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

    #[test]
    fn routing_prefers_host_then_scope_then_action() {
        let r = tclocal_specs::registry();
        let route = |host, scope, action| product(r, host, scope, action, "2017-03-12");
        assert_eq!(route("cvm.localhost:1", None, "X").unwrap(), "cvm");
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
            product(r, "127.0.0.1", None, "DescribeZones", "2099-01-01").unwrap(),
            "cvm"
        );
    }
}
