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

use std::borrow::Cow;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use bytes::Bytes;
use futures_util::FutureExt;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde_json::{Map, Value};
use tclocal_services::identity::{ApiKey, Authz, Identity};
use tclocal_services::{Product, Products, RegionScope, Reply, not_emulated, regions};
use tclocal_specs::Registry;
use tclocal_wire::catalogue::common_templates;
use tclocal_wire::clock::Clock;
use tclocal_wire::context::{Principal, RequestContext};
use tclocal_wire::ids::RequestIds;
use tclocal_wire::ids::ResourceIds;
use tclocal_wire::params::{RawParams, validate};
use tclocal_wire::spec::{ActionSpec, ActionStatus, ServiceSpec};
use tclocal_wire::{ApiError, ApiResult, CommonCode, Language, envelope};

use crate::coherence::Coherence;
use crate::config::{AuthMode, Limits};
use crate::faults::{Faults, Target};
use crate::journal::{Entry, IsoTime, Journal, SignatureDiagnostics};
use crate::ratelimit::RateLimits;
use auth::{Authenticated, Checker, Signed};
use incoming::{Business, Incoming};

/// Settings the pipeline reads on every request.
#[derive(Debug, Clone, Copy)]
pub struct GatewayConfig {
    /// `--auth`.
    pub auth: AuthMode,
    /// `--cam`.
    pub cam: AuthMode,
    /// `--language`.
    pub language: Language,
    /// `--max-skew`.
    pub max_skew_secs: i64,
    /// Size limits.
    pub limits: Limits,
    /// `--stub-responses`: answer actions tclocal does not emulate with a stub that follows
    /// the action's output model instead of `UnsupportedOperation.NotEmulated`.
    pub stub_responses: bool,
}

/// The API gateway.
pub struct Gateway {
    pub(crate) config: GatewayConfig,
    /// Wall-clock time: request timestamps and rate-limit windows.
    pub(crate) wall: Arc<dyn Clock>,
    /// Emulated time: what products see.
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) ids: Arc<dyn RequestIds>,
    /// Randomness for fault probabilities.
    pub(crate) resource_ids: Arc<dyn ResourceIds>,
    pub(crate) identity: Arc<Identity>,
    pub(crate) products: Products,
    pub(crate) specs: Registry,
    pub(crate) journal: Arc<Journal>,
    pub(crate) faults: Arc<Faults>,
    pub(crate) rates: RateLimits,
    /// Set when several processes share the store.
    pub(crate) coherence: Option<Arc<Coherence>>,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("config", &self.config)
            .field("products", &self.products)
            .finish_non_exhaustive()
    }
}

/// How one request went, for the log and the journal; filled in as the pipeline proceeds.
#[derive(Default)]
struct Outcome {
    language: Language,
    client: Option<String>,
    secret_id: Option<String>,
    /// Who called, once authenticated.
    caller: Option<Arc<Principal>>,
    auth: &'static str,
    auth_failure: Option<String>,
    /// A CAM denial let through by `--cam soft`.
    cam_denied: Option<String>,
    signature: Option<SignatureDiagnostics>,
    service: Option<&'static str>,
    action: Option<String>,
    version: Option<String>,
    region: Option<String>,
    fault: Option<String>,
    fields: Reply,
}

impl Gateway {
    /// Serves one API request.
    /// `peer` is the client's address, for CAM conditions on the source IP.
    pub async fn handle(&self, req: Request<Body>, peer: Option<SocketAddr>) -> Response<Body> {
        let request_id = self.ids.next_id();
        let started = std::time::Instant::now();
        let wall_ms = self.wall.now_millis();
        let received_at_ms = self.clock.now_millis();
        let method = method_name(req.method());
        let trace_id = req.headers().get("x-tc-traceid").cloned();
        let mut outcome = Outcome {
            language: self.config.language,
            auth: if self.config.auth == AuthMode::Off {
                "off"
            } else {
                "not reached"
            },
            ..Outcome::default()
        };
        // A panic anywhere in the pipeline is an internal error with a RequestId.
        let run = std::panic::AssertUnwindSafe(self.process(
            req,
            peer,
            &request_id,
            received_at_ms,
            &mut outcome,
        ))
        .catch_unwind()
        .await;
        let result = match run {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(ApiError::internal("a handler panicked")),
        };
        let (body, code, message) = match &result {
            Ok(()) => (
                envelope::success(std::mem::take(&mut outcome.fields), &request_id),
                None,
                None,
            ),
            Err(e) => {
                let message = e.message(outcome.language);
                (
                    envelope::error(e.code(), &message, &request_id),
                    Some(e.code().to_owned()),
                    Some(message),
                )
            }
        };
        let latency_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.log(&request_id, latency_us, &outcome, &result);
        let trace = trace_id
            .as_ref()
            .and_then(|t| t.to_str().ok())
            .map(str::to_owned);
        self.journal.record(Entry {
            request_id,
            time_ms: wall_ms,
            time: IsoTime(wall_ms),
            trace_id: trace,
            client: outcome.client,
            method,
            app_id: outcome.caller.as_ref().map(|c| c.app_id),
            uin: outcome.caller.map(|c| c.uin.clone()),
            secret_id: outcome.secret_id,
            service: outcome.service,
            action: outcome.action,
            version: outcome.version,
            region: outcome.region,
            language: outcome.language.as_str(),
            code,
            message,
            latency_us,
            auth: match (outcome.auth_failure, outcome.cam_denied) {
                (Some(code), _) => format!("soft: {code}").into(),
                (None, Some(code)) => format!("{}; cam soft: {code}", outcome.auth).into(),
                (None, None) => outcome.auth.into(),
            },
            signature: outcome.signature,
            fault: outcome.fault,
        });
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

    fn log(&self, request_id: &str, latency_us: u64, outcome: &Outcome, result: &ApiResult<()>) {
        let service = outcome.service.unwrap_or("-");
        let action = outcome.action.as_deref().unwrap_or("-");
        match result {
            Ok(()) => tracing::debug!(request_id, service, action, latency_us, "ok"),
            Err(e) if e.is(CommonCode::InternalError) => {
                tracing::error!(request_id, service, action, latency_us, error = ?e, "internal error");
            }
            Err(e) => {
                tracing::debug!(
                    request_id,
                    service,
                    action,
                    latency_us,
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
        peer: Option<SocketAddr>,
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
        let common = incoming::check_headers(&parts.headers, limits.max_header_bytes)?;
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
        let mut incoming = Incoming::read(&common, is_get, query, body)?;
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
            .take()
            .filter(|a| !a.is_empty())
            .ok_or_else(|| ApiError::new(CommonCode::MissingParameter).arg("Action"))?;
        outcome.action = Some(action.to_string());
        outcome.client = incoming.client.as_deref().map(str::to_owned);
        outcome.region = incoming.region.as_deref().map(str::to_owned);
        let version = incoming
            .version
            .take()
            .filter(|v| !v.is_empty())
            .ok_or_else(|| ApiError::new(CommonCode::MissingParameter).arg("Version"))?;
        outcome.version = Some(version.to_string());

        // Routing is decided before authentication (SKIP needs the action's model) but its
        // errors are reported after it, as the check order says.
        let tc3 = auth::parse_tc3(&incoming);
        let scope_service = tc3
            .as_ref()
            .and_then(|parsed| parsed.as_ref().ok())
            .map(|a| a.service);
        let routed = route::product(
            self.specs,
            &|service| self.products.get(service).is_some(),
            incoming.host,
            scope_service,
            &action,
            &version,
        );
        // Known before authentication, so refused calls are journaled under their product.
        outcome.service = routed.as_ref().ok().copied();
        // The routed product's model, looked up once: the signature check needs the
        // action's SKIP flag, the later checks the rest.
        let routed_spec = routed
            .as_ref()
            .ok()
            .and_then(|service| self.specs.spec(service, &version));
        let skip_sign = routed_spec
            .and_then(|spec| spec.actions.get(&*action))
            .is_some_and(|a| a.skip_sign);

        // On a shared store, catch up with the other processes first: the key that signed
        // this request, or the instance it names, may be theirs. A call that may write holds
        // the processes' write lock until it returns.
        let _section = match &self.coherence {
            Some(coherence) => {
                let writes = routed
                    .as_ref()
                    .ok()
                    .and_then(|s| self.products.get(s))
                    .is_some_and(|p| p.emulates(&version, &action) && p.writes(&action));
                let now = received_at_ms;
                if writes {
                    Some(
                        coherence
                            .before_write(now)
                            .await
                            .map_err(ApiError::internal)?,
                    )
                } else {
                    coherence
                        .before_read(now)
                        .await
                        .map_err(ApiError::internal)?;
                    None
                }
            }
            None => None,
        };

        // Authorization, timestamp, SecretId, signature.
        outcome.secret_id = auth::claimed_secret_id(&incoming, tc3.as_ref());
        let (principal, key) = self.authenticate(
            &parts,
            query,
            (&incoming, tc3.as_ref()),
            skip_sign,
            received_at_ms,
            outcome,
        )?;
        outcome.caller = Some(principal.clone());

        // Product, version, action.
        let service = routed?;
        outcome.service = Some(service);
        let spec = routed_spec.ok_or_else(|| {
            ApiError::new(CommonCode::NoSuchVersion)
                .arg(&version)
                .arg(service)
        })?;
        let action_spec = spec
            .actions
            .get(&*action)
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

        let cx = RequestContext {
            request_id: request_id.to_owned(),
            principal,
            service: service.to_owned(),
            version: version.into_owned(),
            action: action.into_owned(),
            region,
            language: outcome.language,
            received_at_ms,
        };

        // Authorisation (CAM): sub-users, roles and federated users get what their policies
        // allow; the root may do everything.
        if let (Some(key), Some(p)) = (&key, product) {
            if self.config.cam != AuthMode::Off && !Identity::allows_everything(key) {
                let resources = p.resources(&cx, &params);
                let cam_action = format!("{service}:{}", cx.action);
                let client_ip = peer.map(|p| p.ip());
                let denied = match self.identity.authorize(
                    key,
                    &cam_action,
                    &resources,
                    client_ip,
                    received_at_ms,
                ) {
                    Authz::Allow => None,
                    Authz::Deny { explicit: false } => Some(
                        ApiError::with_template(
                            CommonCode::AuthFailureUnauthorizedOperation,
                            "AuthFailure.UnauthorizedOperation.Detail",
                        )
                        .arg(&cam_action)
                        .arg(resources.join(", ")),
                    ),
                    Authz::Deny { explicit: true } => Some(
                        ApiError::with_template(
                            CommonCode::UnauthorizedOperation,
                            "UnauthorizedOperation.Detail",
                        )
                        .arg(&cam_action)
                        .arg(resources.join(", ")),
                    ),
                    Authz::MfaRequired => Some(
                        ApiError::with_template(
                            CommonCode::AuthFailureMFAFailure,
                            "AuthFailure.MFAFailure.Detail",
                        )
                        .arg(&cam_action),
                    ),
                };
                if let Some(e) = denied {
                    if self.config.cam == AuthMode::Soft {
                        tracing::warn!(code = e.code(), action = %cam_action, "CAM denied; served anyway (--cam soft)");
                        outcome.cam_denied = Some(e.code().to_owned());
                    } else {
                        return Err(e);
                    }
                }
            }
        }

        // Rate limit, then injected faults: both stand where the cloud's back end would.
        if !self.rates.inactive() {
            let limited = self.rates.admit(
                cx.principal.app_id,
                service,
                &cx.action,
                action_spec.rate_limit,
                self.wall.now_millis(),
            );
            if let Err(x) = limited {
                return Err(ApiError::new(CommonCode::RequestLimitExceeded)
                    .arg(x.count)
                    .arg(x.limit));
            }
        }
        let target = Target {
            service,
            action: &cx.action,
            region: cx.region.as_deref(),
            app_id: cx.principal.app_id,
            uin: &cx.principal.uin,
        };
        if let Some(fault) = self.faults.pick(&target, self.resource_ids.as_ref()) {
            outcome.fault = Some(fault.rule_id);
            if fault.latency_ms > 0 {
                tokio::time::sleep(std::time::Duration::from_millis(fault.latency_ms)).await;
            }
            if let Some(code) = fault.code {
                let e = match CommonCode::from_wire(&code) {
                    Some(common) => ApiError::new(common),
                    None => ApiError::product(code.clone(), common_templates(), code.clone()),
                };
                return Err(match fault.message {
                    Some(text) => e.with_text(text),
                    None => e,
                });
            }
        }

        // Business logic.
        let fields = match product {
            Some(p) if p.emulates(&cx.version, &cx.action) => p
                .call(&cx, params)
                .await
                .map_err(|e| confine(e, spec, action_spec))?,
            // Validated, not emulated: a stub that follows the output model, when asked for.
            _ if self.config.stub_responses => {
                tclocal_specs::stub::response(spec, action_spec).into()
            }
            _ => return Err(not_emulated(&cx)),
        };
        outcome.fields = fields;
        Ok(())
    }

    fn authenticate(
        &self,
        parts: &http::request::Parts,
        query: &str,
        (incoming, tc3): (&Incoming, Option<&auth::Tc3Header<'_>>),
        skip_sign: bool,
        emulated_now_ms: i64,
        outcome: &mut Outcome,
    ) -> ApiResult<(Arc<Principal>, Option<Arc<ApiKey>>)> {
        let fallback = || {
            let key =
                auth::claimed_secret_id(incoming, tc3).and_then(|id| self.identity.lookup(&id));
            match key {
                Some(k) => (k.principal.clone(), Some(k)),
                None => (self.identity.default_principal().clone(), None),
            }
        };
        if self.config.auth == AuthMode::Off {
            return Ok(fallback());
        }
        let checker = Checker {
            identity: &self.identity,
            max_skew_secs: self.config.max_skew_secs,
            now_secs: self.wall.now_unix(),
            emulated_now_ms,
            limits: self.config.limits,
        };
        let signed = Signed {
            method: parts.method.as_str(),
            path: parts.uri.path(),
            query,
            headers: &parts.headers,
            body: &incoming.body,
            incoming,
            tc3,
        };
        match checker.check(&signed, skip_sign) {
            Ok(Authenticated::Key(key)) => {
                outcome.auth = "verified";
                Ok((key.principal.clone(), Some(key)))
            }
            Ok(Authenticated::Unsigned) => {
                outcome.auth = "unsigned";
                Ok((self.identity.default_principal().clone(), None))
            }
            Err(failure) => {
                let failure = *failure;
                outcome.auth = "failed";
                outcome.signature = failure.diagnostics;
                if self.config.auth == AuthMode::Soft {
                    tracing::warn!(
                        code = failure.error.code(),
                        "authentication failed; served anyway (--auth soft)"
                    );
                    outcome.auth_failure = Some(failure.error.code().to_owned());
                    Ok(fallback())
                } else {
                    Err(failure.error)
                }
            }
        }
    }
}

/// The method's name, without a copy for the methods a client may send.
fn method_name(method: &Method) -> Cow<'static, str> {
    match *method {
        Method::GET => Cow::Borrowed("GET"),
        Method::POST => Cow::Borrowed("POST"),
        ref other => Cow::Owned(other.as_str().to_owned()),
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
