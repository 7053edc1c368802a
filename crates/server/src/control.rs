//! The control plane under `/_tclocal/`: ordinary JSON with ordinary HTTP statuses, because
//! these are not API calls.
//!
//! Only loopback clients may use it, unless `--admin-token` is set: then any client that
//! presents the token (`Authorization: Bearer …`, `X-TClocal-Admin-Token`, or `?token=` for
//! the dashboard's first page load), and no one else.

use std::net::SocketAddr;

use axum::Json;
use axum::Router;
use axum::extract::{ConnectInfo, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use subtle::ConstantTimeEq;
use tclocal_wire::CommonCode;

use crate::app::App;
use crate::faults::FaultRule;
use crate::journal;
use crate::snapshot::{Mode, Scope, Snapshot, SnapshotError};

/// Routes under `/_tclocal`.
pub(crate) fn router(app: &App) -> Router<App> {
    // What reads or changes the state the processes of a shared store have in common.
    let shared = Router::new()
        .route("/clock", get(clock))
        .route("/clock/advance", post(advance))
        .route("/resources", get(resources))
        .route(
            "/state",
            get(export_state)
                .put(import_state)
                .layer(axum::extract::DefaultBodyLimit::max(MAX_STATE_BYTES)),
        )
        .route("/reset", post(reset))
        .route("/accounts", get(list_accounts).post(create_account))
        .route("/keys", get(list_keys).post(create_key))
        .route("/keys/{id}/enable", post(enable_key))
        .route("/keys/{id}/disable", post(disable_key))
        .route("/mfa", post(create_mfa))
        .route("/mfa/code", get(mfa_code))
        .route_layer(middleware::from_fn_with_state(app.clone(), coherent));
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/info", get(info))
        .route("/requests", get(requests))
        .route("/requests/{id}", get(request))
        .route(
            "/faults",
            get(list_faults).post(add_fault).delete(clear_faults),
        )
        .route("/faults/{id}", axum::routing::delete(remove_fault))
        .merge(shared)
        .route("/ui", get(ui_redirect))
        .route("/ui/", get(ui_index))
        .route("/ui/{file}", get(ui_file))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(app.clone(), guard))
}

/// On a store several processes share: a read catches up with the other processes first, a
/// change holds their write lock until it is done (as API calls do).
async fn coherent(State(app): State<App>, req: Request, next: Next) -> Response {
    let Some(coherence) = app.coherence() else {
        return next.run(req).await;
    };
    let now = app.clock().now_millis();
    if req.method() == axum::http::Method::GET {
        if let Err(e) = coherence.before_read(now).await {
            return error(StatusCode::SERVICE_UNAVAILABLE, &e.to_string());
        }
        return next.run(req).await;
    }
    match coherence.before_write(now).await {
        Ok(section) => {
            let response = next.run(req).await;
            drop(section);
            response
        }
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
    }
}

/// The largest state file `PUT /_tclocal/state` accepts.
const MAX_STATE_BYTES: usize = 512 * 1024 * 1024;

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({"error": message}))).into_response()
}

/// Loopback only, or the admin token. Liveness, readiness and the dashboard's static files
/// hold no data and stay open, so health checks and `<script src>` need no token.
async fn guard(State(app): State<App>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let open = matches!(
        path,
        "/_tclocal/health" | "/_tclocal/ready" | "/health" | "/ready"
    ) || path.ends_with("/ui/app.js")
        || path.ends_with("/ui/style.css");
    if open {
        return next.run(req).await;
    }
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    match app.admin_token() {
        Some(token) => {
            let given = presented_token(req.headers(), req.uri().query());
            let ok =
                given.is_some_and(|g| bool::from(g.as_bytes().ct_eq(token.expose().as_bytes())));
            if !ok {
                return error(
                    StatusCode::UNAUTHORIZED,
                    "the control plane needs the admin token",
                );
            }
        }
        // No peer means an in-process call (tests), which no remote client can make.
        None => {
            if peer.is_some_and(|p| !p.ip().is_loopback()) {
                return error(
                    StatusCode::FORBIDDEN,
                    "the control plane answers loopback clients only (start with --admin-token to allow others)",
                );
            }
        }
    }
    next.run(req).await
}

fn presented_token(headers: &HeaderMap, query: Option<&str>) -> Option<String> {
    if let Some(v) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        return Some(v.trim().to_owned());
    }
    if let Some(v) = headers
        .get("x-tclocal-admin-token")
        .and_then(|v| v.to_str().ok())
    {
        return Some(v.trim().to_owned());
    }
    query.and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "token")
            .map(|(_, v)| v.into_owned())
    })
}

async fn health() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// 200 once start-up work is done and while the store answers (a PostgreSQL server that
/// cannot be reached turns it 503 until tclocal has reconnected).
async fn ready(State(app): State<App>) -> Response {
    if !app.is_ready() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"ready": false})),
        )
            .into_response();
    }
    let ping = tokio::time::timeout(std::time::Duration::from_secs(5), app.store().ping()).await;
    let problem = match ping {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(e.to_string()),
        Err(_) => Some("the store did not answer within 5 s".to_owned()),
    };
    match problem {
        None => (
            StatusCode::OK,
            Json(json!({"ready": true, "store": app.store_name()})),
        )
            .into_response(),
        Some(why) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"ready": false, "store": app.store_name(), "error": why})),
        )
            .into_response(),
    }
}

async fn info(State(app): State<App>) -> Json<Value> {
    let specs = tclocal_specs::registry();
    let services: Vec<Value> = specs
        .all()
        .into_iter()
        .map(|(name, versions)| {
            let actions: usize = versions
                .iter()
                .filter_map(|v| specs.action_count(name, v))
                .sum();
            let emulated = app.products().get(name).is_some();
            json!({"service": name, "versions": versions, "actions": actions, "emulated": emulated})
        })
        .collect();
    Json(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "store": app.store_name(),
        "uptime_secs": app.uptime().as_secs(),
        "requests": app.journal().total(),
        "services": services,
        "settings": app.settings(),
    }))
}

fn clock_json(app: &App) -> Value {
    let now = app.clock().now_millis();
    json!({"now_ms": now, "now": tclocal_wire::clock::iso8601(now), "offset_ms": app.time().offset_ms()})
}

async fn clock(State(app): State<App>) -> Json<Value> {
    Json(clock_json(&app))
}

#[derive(Deserialize)]
struct Advance {
    seconds: f64,
}

/// Moves emulated time forward; resource transitions due by then take effect.
async fn advance(
    State(app): State<App>,
    query: Result<Query<Advance>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(Advance { seconds })) = query else {
        return error(
            StatusCode::BAD_REQUEST,
            "give ?seconds=N (a number of seconds, 0 to 31536000)",
        );
    };
    if !(0.0..=31_536_000.0).contains(&seconds) {
        return error(
            StatusCode::BAD_REQUEST,
            "seconds must be between 0 and 31536000 (emulated time only moves forward)",
        );
    }
    // Bounded above, so the cast cannot overflow.
    #[allow(clippy::cast_possible_truncation)]
    let millis = (seconds * 1000.0).round() as i64;
    if let Err(e) = app.time().advance(millis).await {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("emulated time was not moved: {e}"),
        );
    }
    (StatusCode::OK, Json(clock_json(&app))).into_response()
}

#[derive(Deserialize)]
struct StateQuery {
    service: Option<String>,
    account: Option<String>,
    #[serde(default)]
    secrets: bool,
    #[serde(default)]
    mode: Mode,
}

fn state_query(
    query: Result<Query<StateQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<StateQuery, String> {
    query.map(|Query(q)| q).map_err(|e| {
        format!(
            "bad query ({e}): use ?service=cvm|cam, ?account=AppId|OwnerUin, ?secrets=true, ?mode=replace|merge"
        )
    })
}

fn snapshot_error(err: &SnapshotError) -> Response {
    let status = match err {
        SnapshotError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        SnapshotError::UnknownAccount(_) => StatusCode::NOT_FOUND,
        _ => StatusCode::BAD_REQUEST,
    };
    error(status, &err.to_string())
}

/// The state as a snapshot file: `?service=cvm` for one product, `?account=` for one account
/// (AppId or OwnerUin), `?secrets=true` to include
/// secret keys, session tokens and MFA seeds (left out otherwise).
async fn export_state(
    State(app): State<App>,
    query: Result<Query<StateQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let q = match state_query(query) {
        Ok(q) => q,
        Err(why) => return error(StatusCode::BAD_REQUEST, &why),
    };
    let scope = Scope {
        service: q.service,
        account: q.account,
    };
    match app.states().export(&scope, q.secrets).await {
        Ok(snapshot) => Json(snapshot).into_response(),
        Err(err) => snapshot_error(&err),
    }
}

/// Imports a snapshot file: `?mode=replace` (default) or `merge`, `?service=` and `?account=`
/// to limit it (the file's own scope otherwise).
async fn import_state(
    State(app): State<App>,
    query: Result<Query<StateQuery>, axum::extract::rejection::QueryRejection>,
    body: axum::body::Bytes,
) -> Response {
    let q = match state_query(query) {
        Ok(q) => q,
        Err(why) => return error(StatusCode::BAD_REQUEST, &why),
    };
    let snapshot: Snapshot = match serde_json::from_slice(&body) {
        Ok(s) => s,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                &format!(
                    "the body is not a tclocal state file: {}",
                    tclocal_store::codec::json_error_reason(&e)
                ),
            );
        }
    };
    let scope = Scope {
        service: q.service,
        account: q.account,
    };
    let now = app.clock().now_millis();
    match app.states().import(snapshot, &scope, q.mode, now).await {
        Ok(rows) => Json(json!({"imported_rows": rows})).into_response(),
        Err(err) => snapshot_error(&err),
    }
}

/// Empties the state: everything (and the journal and fault rules too), `?service=cvm`,
/// `?account=` (AppId or OwnerUin; the account and its root keys stay), or both.
async fn reset(
    State(app): State<App>,
    query: Result<Query<StateQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let q = match state_query(query) {
        Ok(q) => q,
        Err(why) => return error(StatusCode::BAD_REQUEST, &why),
    };
    let started = std::time::Instant::now();
    let scope = Scope {
        service: q.service,
        account: q.account,
    };
    let whole = scope.is_whole();
    if let Err(err) = app.states().reset(&scope, app.clock().now_millis()).await {
        return snapshot_error(&err);
    }
    if whole {
        app.forget_history();
    }
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let what = match (&scope.service, &scope.account) {
        (None, None) => "everything".to_owned(),
        (Some(service), None) => service.clone(),
        (None, Some(account)) => format!("account {account}"),
        (Some(service), Some(account)) => format!("{service} of account {account}"),
    };
    Json(json!({"reset": what, "took_ms": ms})).into_response()
}

#[derive(Deserialize)]
struct RequestsQuery {
    limit: Option<usize>,
    code: Option<String>,
    action: Option<String>,
    service: Option<String>,
    account: Option<String>,
    since: Option<i64>,
    until: Option<i64>,
}

/// The journal, newest first: `?limit=N&code=…&action=…&service=…&account=…&since=ms&until=ms`.
async fn requests(
    State(app): State<App>,
    query: Result<Query<RequestsQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(q)) = query else {
        return error(
            StatusCode::BAD_REQUEST,
            "filters: limit (number), code, action, service, account, since and until (Unix ms)",
        );
    };
    let entries = app.journal().query(&journal::Query {
        code: q.code,
        action: q.action,
        service: q.service,
        account: q.account,
        since_ms: q.since,
        until_ms: q.until,
        limit: q.limit.unwrap_or(100).min(10_000),
    });
    let entries: Vec<&journal::Entry> = entries.iter().map(AsRef::as_ref).collect();
    Json(json!({"total": app.journal().total(), "requests": entries})).into_response()
}

async fn request(State(app): State<App>, Path(id): Path<String>) -> Response {
    match app.journal().get(&id) {
        Some(entry) => Json(entry.as_ref()).into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            "no request with that RequestId in the journal (it keeps the most recent ones)",
        ),
    }
}

async fn list_faults(State(app): State<App>) -> Json<Value> {
    Json(json!({"faults": app.faults().list()}))
}

/// True when `code` is a common code or one some product's model lists (for `service`,
/// when given).
fn known_code(code: &str, service: Option<&str>) -> bool {
    // The registry's error-code table answers without parsing any model.
    CommonCode::from_wire(code).is_some() || tclocal_specs::registry().has_error(code, service)
}

async fn add_fault(
    State(app): State<App>,
    body: Result<Json<FaultRule>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let rule = match body {
        Ok(Json(rule)) => rule,
        Err(e) => return error(StatusCode::BAD_REQUEST, &format!("not a fault rule: {e}")),
    };
    if !(0.0..=1.0).contains(&rule.probability) {
        return error(
            StatusCode::BAD_REQUEST,
            "probability must be between 0 and 1",
        );
    }
    if rule.latency_ms > 600_000 {
        return error(StatusCode::BAD_REQUEST, "latency_ms must be at most 600000");
    }
    if let Some(code) = rule.code.as_deref().filter(|c| !c.is_empty()) {
        if !known_code(code, rule.service.as_deref().filter(|s| !s.is_empty())) {
            return error(
                StatusCode::BAD_REQUEST,
                &format!("{code} is not a common code nor one the product's model lists"),
            );
        }
    }
    if rule.count == Some(0) {
        return error(
            StatusCode::BAD_REQUEST,
            "count must be at least 1 (omit it for no limit)",
        );
    }
    if rule.code.as_deref().is_none_or(str::is_empty) && rule.latency_ms == 0 {
        return error(
            StatusCode::BAD_REQUEST,
            "a rule needs a code, a latency, or both",
        );
    }
    let rule = app.faults().add(rule, app.resource_ids());
    (StatusCode::CREATED, Json(rule)).into_response()
}

async fn clear_faults(State(app): State<App>) -> Response {
    app.faults().clear();
    StatusCode::NO_CONTENT.into_response()
}

async fn remove_fault(State(app): State<App>, Path(id): Path<String>) -> Response {
    if app.faults().remove(&id) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        error(StatusCode::NOT_FOUND, "no fault rule with that id")
    }
}

/// Accounts, keys (ids only) and each product's resources.
async fn resources(State(app): State<App>) -> Json<Value> {
    let now = app.clock().now_millis();
    let keys: Vec<Value> = app
        .identity()
        .key_summaries()
        .into_iter()
        .map(|(id, p, enabled)| {
            json!({"SecretId": id, "AppId": p.app_id, "OwnerUin": p.owner_uin, "Uin": p.uin, "Enabled": enabled})
        })
        .collect();
    let accounts: Vec<Value> = app
        .identity()
        .accounts()
        .into_iter()
        .map(|(app_id, owner)| json!({"AppId": app_id, "OwnerUin": owner}))
        .collect();
    let mut products = serde_json::Map::new();
    for p in app.products().iter() {
        products.insert(p.name().to_owned(), p.inventory(now));
    }
    Json(json!({"accounts": accounts, "keys": keys, "products": products}))
}

async fn list_accounts(State(app): State<App>) -> Json<Value> {
    let accounts: Vec<Value> = app
        .identity()
        .accounts()
        .into_iter()
        .map(|(app_id, owner)| json!({"AppId": app_id, "OwnerUin": owner}))
        .collect();
    Json(json!({"accounts": accounts}))
}

/// Creates an account with a root key; the secret key is shown once, here.
async fn create_account(State(app): State<App>) -> Response {
    let now = app.clock().now_millis();
    match app.identity().create_account(now).await {
        Ok((app_id, owner, secret_id, secret_key)) => (
            StatusCode::CREATED,
            Json(
                json!({"AppId": app_id, "OwnerUin": owner, "SecretId": secret_id,
                        "SecretKey": secret_key.expose()}),
            ),
        )
            .into_response(),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

async fn list_keys(State(app): State<App>) -> Json<Value> {
    let keys: Vec<Value> = app
        .identity()
        .key_summaries()
        .into_iter()
        .map(|(id, p, enabled)| {
            json!({"SecretId": id, "AppId": p.app_id, "OwnerUin": p.owner_uin, "Uin": p.uin, "Enabled": enabled})
        })
        .collect();
    Json(json!({"keys": keys}))
}

#[derive(Deserialize)]
struct ForUin {
    uin: String,
}

/// Creates an API key for an account root or sub-user; the secret key is shown once, here.
async fn create_key(
    State(app): State<App>,
    body: Result<Json<ForUin>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Ok(Json(ForUin { uin })) = body else {
        return error(
            StatusCode::BAD_REQUEST,
            r#"give {"uin": "<account or sub-user UIN>"}"#,
        );
    };
    let Some(owner) = app.identity().principal_of_uin(&uin) else {
        return error(
            StatusCode::NOT_FOUND,
            "no account or sub-user with that UIN",
        );
    };
    let now = app.clock().now_millis();
    match app
        .identity()
        .create_access_key(&owner, &uin, "created by tclocal keys", now)
        .await
    {
        Ok((id, secret)) => (
            StatusCode::CREATED,
            Json(json!({"SecretId": id, "SecretKey": secret.expose(), "Uin": uin})),
        )
            .into_response(),
        Err(e) => error(StatusCode::CONFLICT, &e.to_string()),
    }
}

async fn set_key(app: &App, id: &str, enabled: bool) -> Response {
    match app.identity().set_any_key_enabled(id, enabled).await {
        Ok(()) => Json(json!({"SecretId": id, "Enabled": enabled})).into_response(),
        Err(e) => error(StatusCode::NOT_FOUND, &e.to_string()),
    }
}

async fn enable_key(State(app): State<App>, Path(id): Path<String>) -> Response {
    set_key(&app, &id, true).await
}

async fn disable_key(State(app): State<App>, Path(id): Path<String>) -> Response {
    set_key(&app, &id, false).await
}

/// Binds a virtual MFA device to a UIN: its serial number, for STS `SerialNumber`.
async fn create_mfa(
    State(app): State<App>,
    body: Result<Json<ForUin>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Ok(Json(ForUin { uin })) = body else {
        return error(
            StatusCode::BAD_REQUEST,
            r#"give {"uin": "<account or sub-user UIN>"}"#,
        );
    };
    match app.identity().create_mfa_device(&uin).await {
        Ok(serial) => (StatusCode::CREATED, Json(json!({"SerialNumber": serial}))).into_response(),
        Err(e) => error(StatusCode::NOT_FOUND, &e.to_string()),
    }
}

#[derive(Deserialize)]
struct Serial {
    serial: String,
}

/// The current code of a virtual MFA device (emulated time), so tests can pass MFA.
async fn mfa_code(
    State(app): State<App>,
    query: Result<Query<Serial>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(Serial { serial })) = query else {
        return error(StatusCode::BAD_REQUEST, "give ?serial=<SerialNumber>");
    };
    match app.identity().mfa_code(&serial, app.clock().now_millis()) {
        Some(code) => Json(json!({"SerialNumber": serial, "TokenCode": code})).into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            "no MFA device with that serial number",
        ),
    }
}

async fn ui_redirect() -> Response {
    (
        StatusCode::PERMANENT_REDIRECT,
        [(header::LOCATION, "/_tclocal/ui/")],
    )
        .into_response()
}

async fn ui_index() -> Response {
    ui_asset("index.html")
}

async fn ui_file(Path(file): Path<String>) -> Response {
    ui_asset(&file)
}

/// The dashboard's files, compiled into the binary (no network at run time).
fn ui_asset(name: &str) -> Response {
    let (body, mime): (&'static str, &'static str) = match name {
        "index.html" => (include_str!("../ui/index.html"), "text/html; charset=utf-8"),
        "app.js" => (
            include_str!("../ui/app.js"),
            "text/javascript; charset=utf-8",
        ),
        "style.css" => (include_str!("../ui/style.css"), "text/css; charset=utf-8"),
        _ => return error(StatusCode::NOT_FOUND, "no such dashboard file"),
    };
    ([(header::CONTENT_TYPE, mime)], body).into_response()
}

async fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "no such control-plane endpoint")
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use tower::ServiceExt;

    async fn app(token: Option<&str>) -> App {
        let config = crate::Config {
            admin_token: token.map(tclocal_sign::SecretKey::new),
            ..crate::Config::for_tests()
        };
        App::build(&config).await.unwrap()
    }

    async fn get_from(
        app: &App,
        path: &str,
        peer: Option<&str>,
        headers: &[(&str, &str)],
    ) -> StatusCode {
        let mut req = axum::http::Request::builder().uri(path);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let mut req = req.body(Body::empty()).unwrap();
        if let Some(p) = peer {
            req.extensions_mut()
                .insert(ConnectInfo(p.parse::<SocketAddr>().unwrap()));
        }
        app.router().oneshot(req).await.unwrap().status()
    }

    /// A remote client is refused; loopback (v4 and v6) is served.
    #[tokio::test]
    async fn remote_clients_are_refused_without_a_token() {
        let app = app(None).await;
        assert_eq!(
            get_from(&app, "/_tclocal/info", Some("192.0.2.7:5000"), &[]).await,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            get_from(&app, "/_tclocal/info", Some("127.0.0.1:5000"), &[]).await,
            StatusCode::OK
        );
        assert_eq!(
            get_from(&app, "/_tclocal/info", Some("[::1]:5000"), &[]).await,
            StatusCode::OK
        );
    }

    /// With a token, only a client presenting it is served, wherever it is.
    #[tokio::test]
    async fn the_admin_token_is_required_when_set() {
        let app = app(Some("s3cret")).await;
        let remote = Some("192.0.2.7:5000");
        assert_eq!(
            get_from(&app, "/_tclocal/info", remote, &[]).await,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            get_from(&app, "/_tclocal/info", Some("127.0.0.1:1"), &[]).await,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            get_from(
                &app,
                "/_tclocal/info",
                remote,
                &[("authorization", "Bearer nope")]
            )
            .await,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            get_from(
                &app,
                "/_tclocal/info",
                remote,
                &[("authorization", "Bearer s3cret")]
            )
            .await,
            StatusCode::OK
        );
        assert_eq!(
            get_from(
                &app,
                "/_tclocal/info",
                remote,
                &[("x-tclocal-admin-token", "s3cret")]
            )
            .await,
            StatusCode::OK
        );
        assert_eq!(
            get_from(&app, "/_tclocal/ui/?token=s3cret", remote, &[]).await,
            StatusCode::OK
        );
    }

    /// The API itself is not guarded: remote API clients get API answers.
    #[tokio::test]
    async fn the_api_is_not_behind_the_guard() {
        let app = app(None).await;
        assert_eq!(
            get_from(&app, "/", Some("192.0.2.7:5000"), &[]).await,
            StatusCode::OK
        );
    }

    #[test]
    fn fault_codes_must_be_known() {
        assert!(known_code("InternalError", None));
        assert!(known_code("InvalidInstanceId.NotFound", Some("cvm")));
        assert!(!known_code("InvalidInstanceId.NotFound", Some("nope")));
        assert!(!known_code("Made.Up", None));
    }
}
