//! The control plane under `/_tclocal/`: ordinary JSON with ordinary HTTP statuses, because
//! these are not API calls.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use crate::app::App;

/// Routes under `/_tclocal`.
pub(crate) fn router() -> Router<App> {
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
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

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"error": "no such control-plane endpoint"})),
    )
        .into_response()
}
