//! The API pipeline: one HTTP request in, one `{"Response": …}` envelope out.
//!
//! Checks run in the order architecture.md §1.2 fixes: method → common parameters →
//! Authorization syntax → timestamp skew → SecretId → signature → product → version →
//! action → region → parameters → business logic. Every outcome, success or error, is HTTP
//! 200 with `Content-Type: application/json` exactly and a `RequestId`; a panic inside a
//! product becomes `InternalError`, never a dropped connection.

mod auth;
mod incoming;
mod route;

use std::sync::Arc;

use axum::body::Body;
use bytes::Bytes;
use futures_util::FutureExt;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde_json::{Map, Value};
use tclocal_services::identity::Identity;
use tclocal_services::{Product, Products, RegionScope, not_emulated, regions};
use tclocal_specs::Registry;
use tclocal_wire::clock::Clock;
use tclocal_wire::context::{Principal, RequestContext};
use tclocal_wire::ids::RequestIds;
use tclocal_wire::params::{RawParams, validate};
use tclocal_wire::spec::{ActionSpec, ActionStatus, ServiceSpec};
use tclocal_wire::{ApiError, ApiResult, CommonCode, Language, envelope};

use crate::config::{AuthMode, Limits};
use auth::{Authenticated, Checker, Signed};
use incoming::{Business, Incoming};

/// Settings the pipeline reads on every request.
#[derive(Debug, Clone, Copy)]
pub struct GatewayConfig {
    /// `--auth`.
    pub auth: AuthMode,
    /// `--language`.
    pub language: Language,
    /// `--max-skew`.
    pub max_skew_secs: i64,
    /// Size limits.
    pub limits: Limits,
}

/// The API gateway.
pub struct Gateway {
    config: GatewayConfig,
    wall: Arc<dyn Clock>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn RequestIds>,
    identity: Arc<Identity>,
    products: Products,
    specs: Registry,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("config", &self.config)
            .field("products", &self.products)
            .finish_non_exhaustive()
    }
}

/// How one request ended, for the log (and, later, the journal).
struct Outcome {
    language: Language,
    service: Option<&'static str>,
    action: Option<String>,
    result: ApiResult<Map<String, Value>>,
}

impl Gateway {
    /// A gateway over these products and identities.
    #[must_use]
    pub fn new(
        config: GatewayConfig,
        wall: Arc<dyn Clock>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn RequestIds>,
        identity: Arc<Identity>,
        products: Products,
        specs: Registry,
    ) -> Gateway {
        Gateway {
            config,
            wall,
            clock,
            ids,
            identity,
            products,
            specs,
        }
    }

    /// Serves one API request.
    pub async fn handle(&self, req: Request<Body>) -> Response<Body> {
        let request_id = self.ids.next_id();
        let started_ms = self.wall.now_millis();
        let received_at_ms = self.clock.now_millis();
        let trace_id = req.headers().get("x-tc-traceid").cloned();
        let mut outcome = Outcome {
            language: self.config.language,
            service: None,
            action: None,
            result: Ok(Map::new()),
        };
        // A panic anywhere in the pipeline is an internal error with a RequestId.
        let run = std::panic::AssertUnwindSafe(self.process(
            req,
            &request_id,
            received_at_ms,
            &mut outcome,
        ))
        .catch_unwind()
        .await;
        if run.is_err() {
            outcome.result = Err(ApiError::internal("a handler panicked"));
        } else if let Ok(Err(e)) = run {
            outcome.result = Err(e);
        }
        let body = match &outcome.result {
            Ok(fields) => envelope::success(fields, &request_id),
            Err(e) => envelope::error(e.code(), &e.message(outcome.language), &request_id),
        };
        self.log(&request_id, started_ms, &outcome);
        let mut resp = Response::new(Body::from(body));
        *resp.status_mut() = StatusCode::OK;
        let headers = resp.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let Some(trace) = trace_id {
            headers.insert("x-tc-traceid", trace);
        }
        resp
    }

    fn log(&self, request_id: &str, started_ms: i64, outcome: &Outcome) {
        let latency_ms = self.wall.now_millis().saturating_sub(started_ms);
        let service = outcome.service.unwrap_or("-");
        let action = outcome.action.as_deref().unwrap_or("-");
        match &outcome.result {
            Ok(_) => tracing::debug!(request_id, service, action, latency_ms, "ok"),
            Err(e) if e.is(CommonCode::InternalError) => {
                tracing::error!(request_id, service, action, latency_ms, error = ?e, "internal error");
            }
            Err(e) => {
                tracing::debug!(
                    request_id,
                    service,
                    action,
                    latency_ms,
                    code = e.code(),
                    "api error"
                );
            }
        }
    }

    /// The pipeline. On error the caller renders `outcome.language`, which is set as soon as
    /// the request names a valid one.
    async fn process(
        &self,
        req: Request<Body>,
        request_id: &str,
        received_at_ms: i64,
        outcome: &mut Outcome,
    ) -> ApiResult<()> {
        let (parts, body) = req.into_parts();
        let limits = self.config.limits;

        // Method.
        let is_get = match parts.method {
            Method::GET => true,
            Method::POST => false,
            ref other => {
                return Err(ApiError::new(CommonCode::UnsupportedProtocol).arg(other.as_str()));
            }
        };
        incoming::check_headers(&parts.headers, limits.max_header_bytes)?;
        let query = parts.uri.query().unwrap_or("");
        if query.len() > limits.max_query_bytes {
            return Err(
                ApiError::new(CommonCode::RequestSizeLimitExceeded).arg(limits.max_query_bytes)
            );
        }
        let body = if is_get {
            Bytes::new()
        } else {
            read_body(body, limits.max_body_bytes).await?
        };

        // Common parameters.
        let incoming = Incoming::read(&parts.headers, is_get, query, body)?;
        if let Some(lang) = incoming.language.as_deref().filter(|l| !l.is_empty()) {
            outcome.language = lang.parse().map_err(|_| {
                ApiError::with_template(
                    CommonCode::InvalidParameterValue,
                    "InvalidParameterValue.Language",
                )
                .arg(lang)
            })?;
        }
        let action = incoming
            .action
            .clone()
            .filter(|a| !a.is_empty())
            .ok_or_else(|| ApiError::new(CommonCode::MissingParameter).arg("Action"))?;
        outcome.action = Some(action.clone());
        let version = incoming
            .version
            .clone()
            .filter(|v| !v.is_empty())
            .ok_or_else(|| ApiError::new(CommonCode::MissingParameter).arg("Version"))?;

        // Routing is decided before authentication (SKIP needs the action's model) but its
        // errors are reported after it, as the check order says.
        let scope_service = match &incoming.scheme {
            incoming::Scheme::Tc3 {
                authorization: Some(a),
            } => tclocal_sign::tc3::parse_authorization(a)
                .ok()
                .map(|a| a.service.to_owned()),
            _ => None,
        };
        let routed = route::product(
            self.specs,
            &incoming.host,
            scope_service.as_deref(),
            &action,
            &version,
        );
        let skip_sign = routed.as_ref().ok().is_some_and(|service| {
            self.specs
                .action(service, &version, &action)
                .is_some_and(|a| a.skip_sign)
        });

        // Authorization, timestamp, SecretId, signature.
        let principal = self.authenticate(&parts, query, &incoming, skip_sign)?;

        // Product, version, action.
        let service = routed?;
        outcome.service = Some(service);
        let spec = self.specs.spec(service, &version).ok_or_else(|| {
            ApiError::new(CommonCode::NoSuchVersion)
                .arg(&version)
                .arg(service)
        })?;
        let action_spec = spec
            .actions
            .get(&action)
            .ok_or_else(|| ApiError::new(CommonCode::InvalidAction))?;
        if action_spec.status == ActionStatus::Offline {
            return Err(ApiError::new(CommonCode::ActionOffline).arg(&action));
        }

        // Region.
        let product = self.products.get(service);
        let region = check_region(product.map(Arc::as_ref), incoming.region.as_deref())?;

        // Parameters.
        let raw = match incoming.business {
            Business::Flat(pairs) => RawParams::Flat(pairs),
            Business::Json(bytes) => RawParams::Json(parse_json_object(&bytes)?),
        };
        let params = validate(raw, spec, &action_spec.input)?;

        // Business logic.
        let cx = RequestContext {
            request_id: request_id.to_owned(),
            principal,
            service: service.to_owned(),
            version,
            action,
            region,
            language: outcome.language,
            received_at_ms,
        };
        let fields = match product {
            Some(p) if p.emulates(&cx.version, &cx.action) => p
                .call(&cx, params)
                .await
                .map_err(|e| confine(e, spec, action_spec))?,
            _ => return Err(not_emulated(&cx)),
        };
        outcome.result = Ok(fields);
        Ok(())
    }

    fn authenticate(
        &self,
        parts: &http::request::Parts,
        query: &str,
        incoming: &Incoming,
        skip_sign: bool,
    ) -> ApiResult<Principal> {
        let fallback = || {
            auth::claimed_secret_id(incoming)
                .and_then(|id| self.identity.lookup(&id))
                .map_or_else(
                    || self.identity.default_principal().clone(),
                    |k| k.principal.clone(),
                )
        };
        if self.config.auth == AuthMode::Off {
            return Ok(fallback());
        }
        let checker = Checker {
            identity: &self.identity,
            max_skew_secs: self.config.max_skew_secs,
            now_secs: self.wall.now_unix(),
            limits: self.config.limits,
        };
        let signed = Signed {
            method: parts.method.as_str(),
            path: parts.uri.path(),
            query,
            headers: &parts.headers,
            body: &incoming.body,
            incoming,
        };
        match checker.check(&signed, skip_sign) {
            Ok(Authenticated::Key(key)) => Ok(key.principal.clone()),
            Ok(Authenticated::Unsigned) => Ok(self.identity.default_principal().clone()),
            Err(e) if self.config.auth == AuthMode::Soft => {
                tracing::warn!(
                    code = e.code(),
                    "authentication failed; served anyway (--auth soft)"
                );
                Ok(fallback())
            }
            Err(e) => Err(e),
        }
    }
}

/// Keeps a product's error inside what the model documents for the action: a common code,
/// or one of the action's codes (the product's when the action has no list of its own). A
/// code outside is a tclocal bug: debug builds fail loudly, release builds answer with the
/// code's common family (`UnsupportedOperation.X` → `UnsupportedOperation`).
fn confine(e: ApiError, spec: &ServiceSpec, action: &ActionSpec) -> ApiError {
    let code = e.code();
    let listed = CommonCode::from_wire(code).is_some()
        || if action.errors.is_empty() {
            spec.has_error(code)
        } else {
            action.errors.iter().any(|c| c == code)
        };
    if listed {
        return e;
    }
    debug_assert!(false, "{code} is not documented for this action");
    tracing::error!(
        code,
        "error code not documented for the action; sending its family"
    );
    match code.split('.').next().and_then(CommonCode::from_wire) {
        Some(family) => e.recode(family),
        None => ApiError::internal(format!("undocumented error code {code}")),
    }
}

async fn read_body(body: Body, limit: usize) -> ApiResult<Bytes> {
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
            Err(ApiError::new(CommonCode::RequestSizeLimitExceeded).arg(limit))
        }
        Err(e) => Err(ApiError::new(CommonCode::InvalidRequest).arg(e)),
    }
}

fn parse_json_object(bytes: &[u8]) -> ApiResult<Map<String, Value>> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::with_template(
            CommonCode::InvalidParameter,
            "InvalidParameter.Body",
        )
        .arg("the body must be a JSON object")),
        Err(e) => Err(ApiError::with_template(
            CommonCode::InvalidParameter,
            "InvalidParameter.Body",
        )
        .arg(e)),
    }
}

fn check_region(product: Option<&dyn Product>, region: Option<&str>) -> ApiResult<Option<String>> {
    let region = region.filter(|r| !r.is_empty());
    let scope = product.map_or(RegionScope::Global, Product::regions);
    match (scope, region) {
        (RegionScope::Global, None) => Ok(None),
        (RegionScope::Global, Some(r)) => {
            if regions::get(r).is_none() {
                return Err(ApiError::new(CommonCode::InvalidParameterValue).arg("Region"));
            }
            Ok(Some(r.to_owned()))
        }
        (RegionScope::Regional(_), None) => {
            Err(ApiError::new(CommonCode::MissingParameter).arg("Region"))
        }
        (RegionScope::Regional(served), Some(r)) => {
            if regions::get(r).is_none() {
                Err(ApiError::new(CommonCode::InvalidParameterValue).arg("Region"))
            } else if !served.contains(&r) {
                Err(ApiError::new(CommonCode::UnsupportedRegion))
            } else {
                Ok(Some(r.to_owned()))
            }
        }
    }
}
