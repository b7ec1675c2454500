//! The HTTP routes, one module per resource. Each handler carries its
//! OpenAPI annotation; the document is assembled from them.

pub mod alerts;
pub mod audit;
pub mod checkins;
pub mod enrollment;
pub mod exports;
pub mod follow_up;
pub mod health;
pub mod lab_results;
pub mod my_data;
pub mod orders;
pub mod person_pages;
pub mod persons;
pub mod self_enrollment;
pub mod stats;
pub mod symptoms;
pub mod tracing;

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Lazaret API",
        description = "Quarantine orders, face-verified check-ins and contact tracing. \
                       Officer routes take `Authorization: Bearer <token>`.",
        license(name = "Apache-2.0")
    ),
    modifiers(&BearerAuth),
    components(schemas(crate::error::Problem))
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// All documented routes.
pub fn api() -> OpenApiRouter<AppState> {
    let mut router = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health::healthz))
        .routes(routes!(persons::create_person, persons::list_persons))
        .routes(routes!(persons::get_person, persons::update_person))
        .routes(routes!(persons::export_person))
        .routes(routes!(orders::create_order, orders::list_orders))
        .routes(routes!(orders::get_order))
        .routes(routes!(orders::transition_order))
        .routes(routes!(orders::extend_order))
        .routes(routes!(orders::bulk_orders))
        .routes(routes!(enrollment::enroll))
        .routes(routes!(enrollment::prompt_now))
        .routes(routes!(self_enrollment::create_link))
        .routes(routes!(self_enrollment::submit))
        .routes(routes!(self_enrollment::approve))
        .routes(routes!(self_enrollment::reject))
        .routes(routes!(symptoms::issue_form))
        .routes(routes!(symptoms::submit_report))
        .routes(routes!(person_pages::symptom_form_language))
        .routes(routes!(person_pages::enrollment_link_language))
        .routes(routes!(my_data::my_data))
        .routes(routes!(symptoms::list_reports))
        .routes(routes!(checkins::submit_checkin))
        .routes(routes!(checkins::prompt_info))
        .routes(routes!(alerts::list_alerts))
        .routes(routes!(alerts::get_alert))
        .routes(routes!(alerts::assign_alert))
        .routes(routes!(alerts::resolve_alert))
        .routes(routes!(audit::list_audit))
        .routes(routes!(stats::get_stats))
        .merge(tracing::routes())
        .merge(follow_up::routes())
        .merge(lab_results::routes())
        .merge(exports::routes());
    // After the routes, so that no route's schema replaces the listed codes.
    crate::error::ErrorCodesDoc.modify(router.get_openapi_mut());
    router
}
