//! The control plane under `/_tclocal/`: ordinary JSON with ordinary HTTP statuses, because
//! these are not API calls.

use axum::Json;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;

use crate::app::App;

/// Routes under `/_tclocal`.
pub(crate) fn router() -> Router<App> {
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/clock", get(clock))
        .route("/clock/advance", post(advance))
        .fallback(not_found)
}

async fn health() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

async fn ready(State(app): State<App>) -> Response {
    if app.is_ready() {
        (
            StatusCode::OK,
            Json(json!({"ready": true, "store": app.store_name()})),
        )
            .into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"ready": false})),
        )
            .into_response()
    }
}

fn clock_json(app: &App) -> serde_json::Value {
    let now = app.clock().now_millis();
    json!({"now_ms": now, "now": tclocal_wire::clock::iso8601(now)})
}

async fn clock(State(app): State<App>) -> Json<serde_json::Value> {
    Json(clock_json(&app))
}

#[derive(serde::Deserialize)]
struct Advance {
    seconds: f64,
}

/// Moves emulated time forward; resource transitions due by then take effect.
async fn advance(
    State(app): State<App>,
    query: Result<Query<Advance>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(Advance { seconds })) = query else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "give ?seconds=N (a number of seconds, 0 to 31536000)"})),
        )
            .into_response();
    };
    if !(0.0..=31_536_000.0).contains(&seconds) {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "seconds must be between 0 and 31536000 (emulated time only moves forward)"})),
        )
            .into_response();
    }
    // Bounded above, so the cast cannot overflow.
    #[allow(clippy::cast_possible_truncation)]
    let millis = (seconds * 1000.0).round() as i64;
    app.clock().advance_millis(millis);
    (StatusCode::OK, Json(clock_json(&app))).into_response()
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"error": "no such control-plane endpoint"})),
    )
        .into_response()
}
