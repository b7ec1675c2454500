//! Lazaret's HTTP server: the JSON API under `/api/v1` and the person's
//! pages (`pages`), built from a [`Config`] and a bound listener.

pub mod announce;
pub mod app;
pub mod auth;
pub mod config;
pub mod console;
pub mod crash_hooks;
pub mod error;
mod extract;
pub mod fhir;
// The fuzz targets (fuzz/, outside the workspace) reach the private check-in
// form parser through this one function; not an API.
#[doc(hidden)]
pub mod fuzzing;
pub mod guard;
pub mod location_signals;
mod multipart;
pub mod notify;
pub mod pages;
pub mod prompting;
pub mod routes;
pub mod server;
pub mod services;
pub mod state;
pub mod surveillance;
pub mod symptom_forms;
pub mod template_crypto;
mod verification;
pub mod worker;

use std::future::Future;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;

pub use app::App;
pub use config::Config;
pub use state::{AppState, Clock, SystemClock};

use crate::auth::Officer;
use crate::error::ApiError;

/// The application router with all routes and layers.
pub fn app(state: AppState) -> Router {
    let (api, openapi) = routes::api().split_for_parts();
    let openapi = Arc::new(openapi);
    let max_body = state.config.max_body_bytes;
    let body_timeout = state.config.limits.body_timeout();
    api.merge(pages::routes())
        .merge(console::routes())
        .route(
            "/api/v1/openapi.json",
            get(move |_: Officer| {
                let doc = openapi.clone();
                async move { Json(doc.as_ref().clone()) }
            }),
        )
        .fallback(|| async {
            ApiError::NotFound {
                entity: "route",
                id: "for this method and path".into(),
            }
            .into_response()
        })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::limit_person_addresses,
        ))
        .layer(axum::middleware::from_fn(guard::api_headers))
        .layer(DefaultBodyLimit::max(max_body))
        .layer(axum::middleware::map_request(move |req| {
            server::body_deadline(body_timeout, req)
        }))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// The OpenAPI document (for `lazaret openapi` and tests).
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes::api().split_for_parts().1
}

/// Serves `state`'s routes until `shutdown` resolves, then finishes in-flight
/// requests (for `[limits] shutdown_grace_secs` at most); no worker (see
/// [`App::run`] for the whole server). Timeouts and the connection limit
/// are [`server::run`]'s. Each request knows its client's address (the
/// login throttle and the rate limits count by it).
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = state.config.limits.clone();
    server::run(listener, app(state), &limits, shutdown).await
}
