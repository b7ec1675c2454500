//! The HTTP API over real sockets, on SQLite and (when configured)
//! PostgreSQL.

use crate::support;
use chrono::Utc;
use lazaret_core::user::Role;
use lazaret_server::{App, Config};
use lazaret_store::backends;
use lazaret_store::testing::{first_broken_link, TestDb};
use reqwest::{Client, Response, StatusCode};
use serde_json::{json, Value};

struct Server {
    base: String,
    client: Client,
    admin: String,
    analyst: String,
    officer: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<()>>,
}

impl Server {
    async fn start(db: &TestDb) -> Server {
        let store = db.store.clone();
        #[allow(
            clippy::disallowed_methods,
            reason = "the test needs a wall-clock instant, not the server's clock"
        )]
        let token = |role| {
            let store = store.clone();
            async move {
                lazaret_server::auth::create_token(&store, role, "test", "test", Utc::now())
                    .await
                    .unwrap()
                    .1
            }
        };
        // A national investigator: the administrator reads no personal data.
        let admin = token(Role::Investigator).await;
        let analyst = token(Role::Analyst).await;
        let officer = token(Role::ComplianceOfficer).await;
        let (listener, base) = support::bind_local().await;
        let app = App::builder(Config::default(), store).build().unwrap();
        let (tx, handle) = support::spawn_server_joinable(listener, &app);
        Server {
            base,
            client: Client::new(),
            admin,
            analyst,
            officer,
            shutdown: Some(tx),
            handle: Some(handle),
        }
    }

    async fn stop(mut self) {
        self.shutdown.take().unwrap().send(()).unwrap();
        self.handle.take().unwrap().await.unwrap();
    }

    async fn get(&self, path: &str, token: Option<&str>) -> Response {
        let mut r = self.client.get(format!("{}{path}", self.base));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send().await.unwrap()
    }

    async fn post(&self, path: &str, token: &str, body: &Value) -> Response {
        self.client
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    async fn patch(&self, path: &str, token: &str, body: &Value) -> Response {
        self.client
            .patch(format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    async fn post_raw(&self, path: &str, token: &str, body: &'static str) -> Response {
        self.client
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap()
    }

    async fn person_count(&self) -> usize {
        let r = self
            .get("/api/v1/persons?limit=500", Some(&self.admin))
            .await;
        r.json::<Value>().await.unwrap()["items"]
            .as_array()
            .unwrap()
            .len()
    }
}

/// Asserts a problem+json response with `status` and `code`; returns it.
async fn problem(r: Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(r.status(), status);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status.as_u16());
    assert!(!body["detail"].as_str().unwrap().is_empty());
    body
}

fn ana() -> Value {
    json!({"id": "P-ana", "full_name": "Ana Lima", "phone": "+41 79 100 00 01",
           "email": "ana@example.org", "language": "ru"})
}

fn order_for(person: &str) -> Value {
    json!({"person_id": person, "address": "Seefeldstrasse 12, Zürich", "lat": 47.3594,
           "lon": 8.5532, "starts_at": "2026-03-01T00:00:00Z", "ends_at": "2026-03-15T00:00:00Z",
           "basis": {"kind": "arrival", "area": "A"}, "time_zone": "Europe/Zurich"})
}

backends!(health_and_authentication);
async fn health_and_authentication(db: TestDb) {
    let s = Server::start(&db).await;
    let r = s.get("/healthz", None).await;
    assert_eq!(r.status(), StatusCode::OK);
    let h: Value = r.json().await.unwrap();
    assert_eq!(
        h,
        json!({ "status": "ok" }),
        "anonymous callers learn only this"
    );
    let h: Value = s
        .get("/healthz", Some(&s.officer))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(h["status"], "ok");
    assert_eq!(h["database"], db.kind().as_str());

    let r = s.get("/api/v1/persons", None).await;
    assert_eq!(r.headers()["www-authenticate"], "Bearer");
    problem(r, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let forged = format!("{}x", &s.admin[..s.admin.len() - 1]);
    for bad in ["garbage", "lzt_nope_secret", forged.as_str()] {
        let r = s.get("/api/v1/persons", Some(bad)).await;
        problem(r, StatusCode::UNAUTHORIZED, "unauthorized").await;
    }
    // The analyst sees aggregates only, never personal data.
    let r = s.get("/api/v1/persons", Some(&s.analyst)).await;
    problem(r, StatusCode::FORBIDDEN, "forbidden").await;
    let r = s.post("/api/v1/persons", &s.officer, &ana()).await;
    problem(r, StatusCode::FORBIDDEN, "forbidden").await;
    assert_eq!(s.person_count().await, 0);

    let r = s.get("/api/v1/openapi.json", None).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let doc: Value = s
        .get("/api/v1/openapi.json", Some(&s.analyst))
        .await
        .json()
        .await
        .unwrap();
    for path in [
        "/api/v1/persons",
        "/api/v1/persons/{id}",
        "/api/v1/orders",
        "/api/v1/orders/{id}/transitions",
    ] {
        assert!(
            doc["paths"].get(path).is_some(),
            "{path} missing from OpenAPI"
        );
    }
    assert!(doc["components"]["securitySchemes"].get("bearer").is_some());

    let r = s.get("/api/v1/nothing-here", Some(&s.admin)).await;
    problem(r, StatusCode::NOT_FOUND, "not_found").await;
    s.stop().await;
}

backends!(persons_create_read_list_and_audit);
async fn persons_create_read_list_and_audit(db: TestDb) {
    let s = Server::start(&db).await;
    let r = s.post("/api/v1/persons", &s.admin, &ana()).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["phone"], "+41791000001");
    assert_eq!(p["language"], "ru");
    let r = s
        .post("/api/v1/persons", &s.admin, &json!({"full_name": "Boris"}))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let boris: Value = r.json().await.unwrap();
    assert!(!boris["id"].as_str().unwrap().is_empty(), "id generated");

    let got: Value = s
        .get("/api/v1/persons/P-ana", Some(&s.officer))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got["full_name"], "Ana Lima");
    let r = s.get("/api/v1/persons/P-nobody", Some(&s.admin)).await;
    problem(r, StatusCode::NOT_FOUND, "not_found").await;

    let page: Value = s
        .get("/api/v1/persons?limit=1", Some(&s.admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let cursor = page["next_cursor"].as_str().unwrap();
    let page2: Value = s
        .get(
            &format!("/api/v1/persons?limit=1&cursor={cursor}"),
            Some(&s.admin),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page2["items"].as_array().unwrap().len(), 1);
    assert!(page2["next_cursor"].is_null());
    assert_ne!(page["items"][0]["id"], page2["items"][0]["id"]);
    let filtered: Value = s
        .get("/api/v1/persons?name=lim", Some(&s.admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(filtered["items"][0]["id"], "P-ana");
    let r = s.get("/api/v1/persons?limit=abc", Some(&s.admin)).await;
    problem(r, StatusCode::BAD_REQUEST, "invalid_request").await;
    let r = s.get("/api/v1/persons?cursor=%21%21", Some(&s.admin)).await;
    problem(r, StatusCode::BAD_REQUEST, "invalid_request").await;

    // Every read and write is in the audit log, and the chain holds.
    let events = db.store.audit_events(0, 1000).await.unwrap();
    assert_eq!(first_broken_link(&events), None);
    let about_ana = db.store.audit_events_for("person", "P-ana").await.unwrap();
    let actions: Vec<&str> = about_ana.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["person.create", "person.read"]);
    s.stop().await;
}

backends!(persons_can_be_corrected_and_each_correction_is_audited);
async fn persons_can_be_corrected_and_each_correction_is_audited(db: TestDb) {
    let s = Server::start(&db).await;
    let r = s
        .post(
            "/api/v1/persons",
            &s.admin,
            &json!({"id": "P-boris", "full_name": "Boris", "email": "b@example.org"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);

    // Only the fields given change; the phone is validated and normalised.
    let r = s
        .patch(
            "/api/v1/persons/P-boris",
            &s.admin,
            &json!({"phone": "+7 495 123 45 67", "language": "ru"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["phone"], "+74951234567");
    assert_eq!(p["language"], "ru");
    assert_eq!(p["email"], "b@example.org", "left out, so kept");
    assert_eq!(p["full_name"], "Boris");

    // null and "" clear; a cleared language is the default again.
    let r = s
        .patch(
            "/api/v1/persons/P-boris",
            &s.admin,
            &json!({"email": null, "full_name": "Boris Ivanov"}),
        )
        .await;
    let p: Value = r.json().await.unwrap();
    assert!(p["email"].is_null(), "{p}");
    assert_eq!(p["full_name"], "Boris Ivanov");
    assert_eq!(p["language"], "ru");
    let got: Value = s
        .get("/api/v1/persons/P-boris", Some(&s.admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (&got["email"], &got["phone"], &got["language"]),
        (&Value::Null, &json!("+74951234567"), &json!("ru")),
        "stored"
    );

    // Bad values, an empty name and unknown fields are refused and
    // change nothing; unknown persons are 404; officers may not write.
    for (body, field) in [
        (json!({"phone": "12"}), "phone"),
        (json!({"email": "not-an-address"}), "email"),
        (json!({"language": "russian"}), "language"),
        (json!({"full_name": ""}), "full_name"),
    ] {
        let r = s.patch("/api/v1/persons/P-boris", &s.admin, &body).await;
        let b = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(b["field"], field, "{b}");
    }
    let r = s
        .patch(
            "/api/v1/persons/P-boris",
            &s.admin,
            &json!({"nationality": "X"}),
        )
        .await;
    assert!(r.status().is_client_error());
    let r = s
        .patch(
            "/api/v1/persons/P-nobody",
            &s.admin,
            &json!({"language": "ru"}),
        )
        .await;
    problem(r, StatusCode::NOT_FOUND, "not_found").await;
    let r = s
        .patch(
            "/api/v1/persons/P-boris",
            &s.officer,
            &json!({"language": "en"}),
        )
        .await;
    problem(r, StatusCode::FORBIDDEN, "forbidden").await;
    let got: Value = s
        .get("/api/v1/persons/P-boris", Some(&s.admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got["language"], "ru");
    assert_eq!(got["full_name"], "Boris Ivanov");

    let events = db
        .store
        .audit_events_for("person", "P-boris")
        .await
        .unwrap();
    let updates: Vec<&str> = events
        .iter()
        .filter(|e| e.action == "person.update")
        .map(|e| e.details.as_str())
        .collect();
    assert_eq!(
        updates,
        [
            r#"{"fields":["phone","language"]}"#,
            r#"{"fields":["full_name","email"]}"#
        ]
    );
    let doc: Value = s
        .get("/api/v1/openapi.json", Some(&s.admin))
        .await
        .json()
        .await
        .unwrap();
    assert!(doc["paths"]["/api/v1/persons/{id}"].get("patch").is_some());
    s.stop().await;
}

backends!(bad_person_input_is_refused_and_changes_nothing);
async fn bad_person_input_is_refused_and_changes_nothing(db: TestDb) {
    let s = Server::start(&db).await;
    assert_eq!(
        s.post("/api/v1/persons", &s.admin, &ana()).await.status(),
        StatusCode::CREATED
    );

    let r = s
        .post_raw("/api/v1/persons", &s.admin, "{\"full_name\": ")
        .await;
    problem(r, StatusCode::BAD_REQUEST, "malformed_json").await;
    let r = s
        .post(
            "/api/v1/persons",
            &s.admin,
            &json!({"full_name": "X", "nationality": "Y"}),
        )
        .await;
    let body = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body").await;
    assert!(body["detail"].as_str().unwrap().contains("nationality"));
    let r = s
        .post(
            "/api/v1/persons",
            &s.admin,
            &json!({"full_name": "X", "phone": "12345"}),
        )
        .await;
    let body = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(body["field"], "phone");
    let r = s
        .post(
            "/api/v1/persons",
            &s.admin,
            &json!({"full_name": "X", "email": "x@"}),
        )
        .await;
    let body = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(body["field"], "email");
    let r = s
        .post(
            "/api/v1/persons",
            &s.admin,
            &json!({"id": "P-ana", "full_name": "Other"}),
        )
        .await;
    problem(r, StatusCode::CONFLICT, "conflict").await;
    let r = s
        .client
        .post(format!("{}/api/v1/persons", s.base))
        .bearer_auth(&s.admin)
        .body("{}")
        .send()
        .await
        .unwrap();
    problem(
        r,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;

    assert_eq!(s.person_count().await, 1);
    let got: Value = s
        .get("/api/v1/persons/P-ana", Some(&s.admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got["full_name"], "Ana Lima");
    s.stop().await;
}

backends!(orders_lifecycle_and_bad_input);
async fn orders_lifecycle_and_bad_input(db: TestDb) {
    let s = Server::start(&db).await;
    s.post("/api/v1/persons", &s.admin, &ana()).await;

    let mut bad = order_for("P-ana");
    bad["lat"] = json!(123.0);
    let body = problem(
        s.post("/api/v1/orders", &s.admin, &bad).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(body["field"], "lat");
    let mut bad = order_for("P-ana");
    bad["ends_at"] = json!("2026-02-01T00:00:00Z");
    problem(
        s.post("/api/v1/orders", &s.admin, &bad).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let mut bad = order_for("P-ana");
    bad["time_zone"] = json!("Mars/Base");
    problem(
        s.post("/api/v1/orders", &s.admin, &bad).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    problem(
        s.post("/api/v1/orders", &s.admin, &order_for("P-ghost"))
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;
    let empty: Value = s
        .get("/api/v1/orders", Some(&s.admin))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        empty["items"].as_array().unwrap().is_empty(),
        "bad orders stored nothing"
    );

    let r = s
        .post("/api/v1/orders", &s.officer, &order_for("P-ana"))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let order: Value = r.json().await.unwrap();
    assert_eq!(order["status"], "active");
    assert_eq!(order["radius_m"], 100.0);
    assert_eq!(order["written"], "created");
    let id = order["id"].as_str().unwrap().to_owned();
    // One active order per person: the same request again answers with
    // that order, unchanged, and stores no second one.
    let r = s
        .post("/api/v1/orders", &s.admin, &order_for("P-ana"))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let again: Value = r.json().await.unwrap();
    assert_eq!(again["id"], id.as_str());
    assert_eq!(again["written"], "unchanged");

    let listed: Value = s
        .get(
            "/api/v1/orders?status=active&person_id=P-ana",
            Some(&s.admin),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"][0]["id"], id.as_str());
    let r = s.get("/api/v1/orders?status=paused", Some(&s.admin)).await;
    problem(r, StatusCode::BAD_REQUEST, "invalid_request").await;

    let path = format!("/api/v1/orders/{id}/transitions");
    let r = s.post(&path, &s.admin, &json!({"to": "released"})).await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let r = s.post(&path, &s.admin, &json!({"to": "completed"})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = s.post(&path, &s.admin, &json!({"to": "active"})).await;
    problem(r, StatusCode::CONFLICT, "illegal_transition").await;
    let got: Value = s
        .get(&format!("/api/v1/orders/{id}"), Some(&s.admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        got["status"], "completed",
        "illegal transition changed nothing"
    );
    let r = s
        .post(
            "/api/v1/orders/nope/transitions",
            &s.admin,
            &json!({"to": "completed"}),
        )
        .await;
    problem(r, StatusCode::NOT_FOUND, "not_found").await;
    // The analyst may not change orders.
    let r = s
        .post(&path, &s.analyst, &json!({"to": "released", "reason": "x"}))
        .await;
    problem(r, StatusCode::FORBIDDEN, "forbidden").await;
    s.stop().await;
}
