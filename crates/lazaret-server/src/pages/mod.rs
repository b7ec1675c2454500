//! The person's web pages: check-in (`/checkin`), the daily symptom form
//! (`/symptoms`), self-enrolment (`/enroll`) and what is held about them
//! (`/my-data`, reached from any of the others). Server-rendered HTML in the
//! person's language with a little plain JavaScript for the camera and the
//! location; everything is embedded in the binary and served from here, so
//! a page makes no request to anyone else. Links carry their token in the
//! URL fragment, which the browser keeps to itself; the scripts send it in
//! request bodies only.

pub(crate) mod i18n;
mod render;

use axum::extract::RawQuery;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

pub use i18n::Lang;

use crate::error::ApiError;
use crate::state::AppState;

/// A page: its name (path and script), title and body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    Checkin,
    Symptoms,
    Enroll,
    MyData,
}

impl Page {
    pub const ALL: [Page; 4] = [Page::Checkin, Page::Symptoms, Page::Enroll, Page::MyData];

    pub fn name(self) -> &'static str {
        match self {
            Page::Checkin => "checkin",
            Page::Symptoms => "symptoms",
            Page::Enroll => "enroll",
            Page::MyData => "my-data",
        }
    }

    fn title_key(self) -> &'static str {
        match self {
            Page::Checkin => "checkin_title",
            Page::Symptoms => "symptoms_title",
            Page::Enroll => "enroll_title",
            Page::MyData => "md_title",
        }
    }

    fn body(self) -> &'static str {
        match self {
            Page::Checkin => include_str!("assets/checkin.html"),
            Page::Symptoms => include_str!("assets/symptoms.html"),
            Page::Enroll => include_str!("assets/enroll.html"),
            Page::MyData => include_str!("assets/my-data.html"),
        }
    }
}

/// `(name, content type, bytes)` of the scripts and the style sheet.
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "pages.css",
        "text/css; charset=utf-8",
        include_str!("assets/pages.css"),
    ),
    (
        "console.css",
        "text/css; charset=utf-8",
        include_str!("../console/assets/console.css"),
    ),
    (
        "console.js",
        "text/javascript; charset=utf-8",
        include_str!("../console/assets/console.js"),
    ),
    (
        "common.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/common.js"),
    ),
    (
        "checkin.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/checkin.js"),
    ),
    (
        "symptoms.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/symptoms.js"),
    ),
    (
        "enroll.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/enroll.js"),
    ),
    (
        "my-data.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/my-data.js"),
    ),
];

/// Scripts and styles from this origin only, no inline script, calls only
/// back to this origin, the camera and location only for this origin, no
/// framing, no referrer.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' blob:; media-src 'self' blob:; connect-src 'self'; \
     form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The pages and their assets.
pub fn routes() -> Router<AppState> {
    let mut r = Router::new();
    for page in Page::ALL {
        r = r.route(
            &format!("/{}", page.name()),
            get(move |q: RawQuery, h: HeaderMap| async move { page_response(page, q, &h) }),
        );
    }
    r.route("/assets/{name}", get(asset))
        .layer(axum::middleware::map_response(security_headers))
}

fn page_response(page: Page, RawQuery(query): RawQuery, headers: &HeaderMap) -> Response {
    let choice = query.as_deref().and_then(|q| {
        q.split('&')
            .find_map(|kv| kv.strip_prefix("lang="))
            .map(str::to_owned)
    });
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    let lang = Lang::negotiate(choice.as_deref(), accept);
    match render::render(page, lang) {
        Ok(html) => (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CONTENT_LANGUAGE, lang.code()),
                (header::VARY, "Accept-Language"),
            ],
            html,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(page = page.name(), error = %e, "page cannot be rendered");
            ApiError::Internal.into_response()
        }
    }
}

async fn asset(axum::extract::Path(name): axum::extract::Path<String>) -> Response {
    match ASSETS.iter().find(|a| a.0 == name) {
        Some((_, kind, body)) => ([(header::CONTENT_TYPE, *kind)], *body).into_response(),
        None => ApiError::not_found("asset", name).into_response(),
    }
}

pub(crate) async fn security_headers(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    let set = |h: &mut HeaderMap, k: &'static str, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    set(h, "content-security-policy", CONTENT_SECURITY_POLICY);
    set(h, "referrer-policy", "no-referrer");
    // Pages hold no secret, but a shared phone should not show yesterday's
    // answer; the assets are small and change with the binary.
    set(h, "cache-control", "no-store");
    set(h, "x-content-type-options", "nosniff");
    set(h, "x-frame-options", "DENY");
    set(h, "cross-origin-opener-policy", "same-origin");
    set(h, "cross-origin-resource-policy", "same-origin");
    set(
        h,
        "permissions-policy",
        "camera=(self), geolocation=(self), microphone=(), payment=(), usb=()",
    );
    resp
}
