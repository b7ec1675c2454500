//! Liveness/readiness probe for load balancers: anonymous callers are told
//! only `ok` or `degraded`; an officer token also gets the version, the
//! database kind and the clock (nothing for a scanner to fingerprint).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Officer;
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok` or `degraded`.
    pub status: &'static str,
    /// With an officer token only: the rest.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub details: Option<HealthDetails>,
}

/// What an officer is told besides the status.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthDetails {
    /// `sqlite` or `postgres`.
    pub database: &'static str,
    pub version: &'static str,
    /// `system`, or `simulated` for a drill or load test: then `now` is not
    /// real time and nothing this server does concerns real orders.
    pub clock: &'static str,
    /// The server's current time (simulated or not).
    pub now: DateTime<Utc>,
}

#[utoipa::path(get, path = "/healthz", tag = "health",
    responses((status = 200, body = Health, description = "`status` alone without an officer token; the details with one"),
        (status = 503, body = Health)))]
pub async fn healthz(
    State(state): State<AppState>,
    officer: Result<Officer, ApiError>,
) -> (StatusCode, Json<Health>) {
    let ok = state.store.ping().await.is_ok();
    let health = Health {
        status: if ok { "ok" } else { "degraded" },
        details: officer.ok().map(|_| HealthDetails {
            database: state.store.kind().as_str(),
            version: env!("CARGO_PKG_VERSION"),
            clock: if state.clock.is_simulated() {
                "simulated"
            } else {
                "system"
            },
            now: state.now(),
        }),
    };
    let code = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(health))
}
