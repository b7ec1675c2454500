//! The check-in use case: a person answers a prompt with camera frames and
//! the phone's location, and looks the prompt up for the check-in page.
//!
//! [`submit`] reads the prompt, its order and enrolment in one store call,
//! checks the request once (idempotency key, open prompt, window, frame
//! count), reserves a try, runs the face work on one blocking thread,
//! asks `lazaret_core::checkin::resolve` what the try does, and writes the
//! whole resolution (outcome, prompt closing, alert, welfare escalation,
//! audit event) in one store transaction. Frames are dropped after the face
//! work; only the outcome and its evidence are stored.

use chrono::{DateTime, Utc};
use lazaret_core::audit::AuditRecord;
use lazaret_core::challenge::Challenge;
use lazaret_core::checkin::{self, CheckinOutcome, PromptStatus, Timing, MAX_ATTEMPTS};
use lazaret_core::geo::Coordinates;
use lazaret_core::ids::{AlertId, CheckinId, PromptId};
use lazaret_core::ValidationError;
use lazaret_face::{FaceError, Template};
use lazaret_store::{CheckinFinish, CheckinRecord, CheckinStart, NewAlert};

use crate::location_signals::{self, Fix};
use crate::prompting::{welfare_alert, welfare_rule};
use crate::services::subject::{open_prompt, prompt_closed, Credential, SubjectToken};
use crate::services::ServiceError;
use crate::state::AppState;
use crate::verification::{assess, Assessment};

/// One check-in as the person sent it, parsed by the front end.
#[derive(Debug, Clone)]
pub struct SubmitCheckin {
    /// The prompt token from the check-in link: the person's credential.
    pub token: String,
    /// The client's key for this request (1 to 200 characters): a retried
    /// upload with the same key gets the stored result instead of spending
    /// another try. None: every request is a new try.
    pub request_key: Option<String>,
    pub location: Coordinates,
    /// The phone's accuracy radius in metres (checked not negative by the
    /// parser).
    pub accuracy_m: f64,
    /// The encoded pictures, one per challenge pose.
    pub frames: Vec<Vec<u8>>,
}

/// What one try came to, as the person is told.
#[derive(Debug, Clone)]
pub struct CheckinReceipt {
    pub checkin_id: CheckinId,
    pub prompt_id: PromptId,
    pub outcome: CheckinOutcome,
    pub attempt: u32,
    pub tries_left: u32,
    /// Face distance, liveness result, distance to the place.
    pub evidence: serde_json::Value,
    pub received_at: DateTime<Utc>,
}

/// What the check-in page needs before it opens the camera; nothing about
/// the order, the place or the enrolled face.
#[derive(Debug, Clone)]
pub struct PromptGuide {
    pub deadline: DateTime<Utc>,
    /// None when liveness is off: one frontal frame suffices.
    pub challenge: Option<Challenge>,
    pub tries_left: u32,
    /// The person's language (`en` when the person is gone).
    pub language: String,
}

/// Lets an upload with this prompt token be read: counted against the
/// link's rate limit, and refused (`invalid_token`) when no prompt has it.
/// Whether it still takes answers is [`submit`]'s to say (a retry of an
/// answered prompt gets its stored result).
pub async fn admit(state: &AppState, token: &str) -> Result<(), ServiceError> {
    SubjectToken::admitted(state, Credential::Prompt, token)?
        .prompt(&state.store)
        .await?;
    Ok(())
}

/// Verifies one try of a prompt and records what it comes to. The front
/// end has [`admit`]ted the token already (its rate limit is counted there).
pub async fn submit(state: &AppState, req: SubmitCheckin) -> Result<CheckinReceipt, ServiceError> {
    let now = state.now();
    let request_key = req
        .request_key
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let welfare = welfare_rule(&state.config);
    let token = SubjectToken::new(Credential::Prompt, &req.token)?;
    let ctx = state
        .store
        .checkin_context(token.hash(), &request_key, welfare.after_misses)
        .await?
        .ok_or_else(|| token.unknown())?;
    // Tries reserved before this and still without an outcome were being
    // verified by a process that is gone (the face work is cut off at
    // `face_timeout`, so a live one ends well before).
    let stale_before = now - state.clock.scale(stale_reservation(&state.config));
    // A retry is answered from what is stored before anything else is
    // looked at, unless its own verification died with its process: then
    // it is verified afresh (the stale try is given back below).
    if let Some(existing) = &ctx.existing {
        if existing.outcome.is_some() || existing.received_at >= stale_before {
            return receipt_of(existing);
        }
    }
    let prompt = &ctx.prompt;
    let timing = open_prompt(prompt, now, state.config.prompts.late_grace())?;

    // Everything that is the caller's mistake is refused before a try is spent.
    let expected = Challenge::frames_expected(prompt.challenge.as_ref());
    if !expected.contains(&req.frames.len()) {
        return Err(ValidationError::new(
            "frame",
            format!(
                "this prompt needs {} to {} frames (one per pose), got {}",
                expected.start(),
                expected.end(),
                req.frames.len()
            ),
        )
        .into());
    }
    let engine = state.face_engine()?;
    let key = state.template_key()?;
    let order = ctx.order.as_ref().ok_or_else(|| ServiceError::NotFound {
        entity: "order",
        id: prompt.order_id.to_string(),
    })?;
    let enrollment = ctx.enrollment.as_ref().ok_or(ServiceError::NotEnrolled)?;
    let plain = state.open_sealed(
        &key,
        &enrollment.key_id,
        order.id.as_str(),
        &enrollment.ciphertext,
        &enrollment.nonce,
    )?;
    let template = Template::from_bytes(&plain).map_err(|e| {
        tracing::error!(order = %order.id, error = %e, "enrolled template is not a template");
        ServiceError::Internal
    })?;

    // A place in the face work before a try is reserved: when the server is
    // at its bound the person is told to come back and spends nothing.
    let permit = state.guards.face.enter().await?;
    let max_pixels = state.guards.max_frame_pixels;

    let stale_own = ctx.existing.is_some();
    let mut released = false;
    let (checkin_id, attempt) = loop {
        // Our own stale try must go before its request key can be reused.
        if stale_own && !released {
            state
                .store
                .release_stale_checkins(&prompt.id, stale_before, now)
                .await?;
            released = true;
        }
        match state
            .store
            .begin_checkin(&prompt.id, &request_key, now)
            .await?
        {
            CheckinStart::Started {
                checkin_id,
                attempt,
            } => break (checkin_id, attempt),
            CheckinStart::Existing(c) => return receipt_of(&c),
            CheckinStart::Closed(status) => return Err(prompt_closed(status)),
            // Tries left by a dead process are the person's again.
            CheckinStart::NoTriesLeft if !released => {
                released = true;
                let n = state
                    .store
                    .release_stale_checkins(&prompt.id, stale_before, now)
                    .await?;
                if n == 0 {
                    return Err(ServiceError::NoTriesLeft);
                }
                tracing::warn!(prompt = %prompt.id, tries = n, "gave back tries whose verification never finished");
            }
            CheckinStart::NoTriesLeft => return Err(ServiceError::NoTriesLeft),
        }
    };

    // The face work, once, on a blocking thread; the frames are dropped there.
    let fence = order.geofence;
    let challenge = prompt.challenge.clone();
    let (deadline, at, accuracy_m, frames) =
        (prompt.deadline, req.location, req.accuracy_m, req.frames);
    let face_timeout = state.config.limits.face_timeout();
    let retry_after_secs = state.config.limits.face_retry_after_secs.into();
    let work = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        crate::crash_hooks::stall("face", 0);
        // The pixel bound from each header before anything is decoded.
        let images = frames
            .iter()
            .enumerate()
            .map(|(i, f)| {
                lazaret_face::image_input::check_pixels(f, max_pixels)
                    .and_then(|()| engine.decode(f))
                    .map_err(|e| FaceWork::Undecodable(i, e))
            })
            .collect::<Result<Vec<_>, _>>();
        drop(frames);
        let images = match images {
            Ok(images) => images,
            // An unreadable frame is a try like a blurred one: recorded as
            // low quality, so that junk cannot be sent without end.
            Err(FaceWork::Undecodable(frame, e)) => {
                return Ok(Assessment {
                    outcome: CheckinOutcome::LowQuality,
                    evidence: serde_json::json!({
                        "unreadable_frame": { "frame": frame, "reason": e.to_string() },
                    }),
                })
            }
            Err(other) => return Err(other),
        };
        match timing {
            // The answer came after the window: recorded for the officer, not verified.
            Timing::Late => Ok(Assessment {
                outcome: CheckinOutcome::Late,
                evidence: serde_json::json!({ "deadline": deadline, "received_at": now }),
            }),
            _ => assess(
                &engine,
                &template,
                &images,
                challenge.as_ref(),
                &fence,
                &at,
                accuracy_m,
            )
            .map_err(FaceWork::Failed),
        }
    });
    // Bounded, so that a reservation older than `stale_reservation` can only
    // be a dead process's; a verification still running past it has its
    // result dropped (and its try given back below).
    let work = match tokio::time::timeout(face_timeout, work).await {
        Ok(joined) => joined.unwrap_or_else(|e| Err(FaceWork::Panicked(e.to_string()))),
        Err(_) => Err(FaceWork::TimedOut),
    };
    let Assessment {
        outcome,
        mut evidence,
    } = match work {
        Ok(a) => a,
        Err(failure) => {
            // Not a try: our own failure.
            state
                .store
                .abandon_checkin(&checkin_id, &prompt.id, now)
                .await?;
            return Err(match failure {
                FaceWork::Undecodable(frame, e) => ServiceError::InvalidImage {
                    frame,
                    reason: e.to_string(),
                },
                FaceWork::Failed(e) => {
                    tracing::error!(error = %e, prompt = %prompt.id, "verification failed");
                    ServiceError::Internal
                }
                FaceWork::Panicked(e) => {
                    tracing::error!(error = %e, prompt = %prompt.id, "verification failed");
                    ServiceError::Internal
                }
                FaceWork::TimedOut => {
                    tracing::error!(prompt = %prompt.id, ?face_timeout, "verification timed out");
                    ServiceError::FaceBusy { retry_after_secs }
                }
            });
        }
    };
    evidence["attempt"] = attempt.into();
    evidence["received_at"] = serde_json::json!(now);
    // Where the phone said it was, for this try and the officers' location
    // signals (it is the client's word, never proof).
    let location = &mut evidence["location"];
    if !location.is_object() {
        *location = serde_json::json!({});
    }
    location["lat"] = at.lat().into();
    location["lon"] = at.lon().into();
    location["accuracy_m"] = accuracy_m.into();
    location["client_asserted"] = true.into();
    let fix = Fix {
        checkin_id: checkin_id.to_string(),
        at,
        accuracy_m,
        received_at: now,
    };
    let earlier: Vec<Fix> = state
        .store
        .recent_checkins_of_order(&order.id, &checkin_id, location_signals::COMPARED)
        .await?
        .iter()
        .filter_map(|c| Fix::from_evidence(c.id.as_str(), &c.evidence, c.received_at))
        .collect();
    let signals = location_signals::signals(&fix, &earlier);
    if signals.as_object().is_some_and(|s| !s.is_empty()) {
        evidence["location_signals"] = signals;
    }

    let earlier: Vec<PromptStatus> = ctx.earlier_decided.iter().map(|p| p.status).collect();
    let resolution = checkin::resolve(outcome, attempt, welfare, &earlier);
    let alert = resolution.alert.map(|kind| NewAlert {
        id: AlertId::generate(),
        kind,
        person_id: order.person_id.clone(),
        order_id: Some(order.id.clone()),
        cause: format!("prompt:{}", prompt.id),
        evidence: serde_json::json!({
            "prompt_id": prompt.id,
            "deadline": prompt.deadline,
            "outcome": outcome.as_str(),
            "attempts": attempt,
            "last_try": evidence,
        }),
        at: now,
    });
    let escalation = if resolution.escalate {
        welfare_alert(&state.config, order, prompt, &ctx.earlier_decided, now)
    } else {
        None
    };
    let audit = AuditRecord {
        at: now,
        actor: format!("subject:prompt:{}", prompt.id),
        action: "checkin.submit".into(),
        subject_type: "order".into(),
        subject_id: order.id.to_string(),
        details: format!(
            "checkin={checkin_id} attempt={attempt} outcome={} template read for 1:1 verification; frames discarded",
            outcome.as_str()
        ),
    };
    let finish = CheckinFinish {
        outcome,
        evidence,
        close: resolution.close_prompt_as,
        alert,
        escalation,
    };
    state
        .store
        .finish_checkin(&checkin_id, &prompt.id, &finish, &audit)
        .await?;
    Ok(CheckinReceipt {
        checkin_id,
        prompt_id: prompt.id.clone(),
        outcome,
        attempt,
        tries_left: resolution.tries_left,
        evidence: finish.evidence,
        received_at: now,
    })
}

/// The prompt behind a token, for the check-in page: refused like a
/// submission when it no longer takes answers.
pub async fn prompt_guide(state: &AppState, token: &str) -> Result<PromptGuide, ServiceError> {
    let prompt = SubjectToken::admitted(state, Credential::Prompt, token)?
        .prompt(&state.store)
        .await?;
    let now = state.now();
    open_prompt(&prompt, now, state.config.prompts.late_grace())?;
    let mut prompt = prompt;
    if prompt.attempts >= MAX_ATTEMPTS {
        // Tries whose verification died with its process are the person's.
        let stale_before = now - state.clock.scale(stale_reservation(&state.config));
        let n = state
            .store
            .release_stale_checkins(&prompt.id, stale_before, now)
            .await?;
        prompt.attempts = prompt.attempts.saturating_sub(n as u32);
        if prompt.attempts >= MAX_ATTEMPTS {
            return Err(ServiceError::NoTriesLeft);
        }
    }
    let order = state.load_order(prompt.order_id.as_str()).await?;
    let language = state
        .store
        .get_person(&order.person_id)
        .await?
        .map(|p| p.language.as_str().to_owned())
        .unwrap_or_else(|| "en".into());
    Ok(PromptGuide {
        deadline: prompt.deadline,
        challenge: prompt.challenge,
        tries_left: checkin::tries_left(prompt.attempts),
        language,
    })
}

/// Why the blocking face work gave no assessment.
enum FaceWork {
    Undecodable(usize, FaceError),
    Failed(FaceError),
    Panicked(String),
    /// Cut off at `[limits] face_timeout_secs`.
    TimedOut,
}

/// How old a try without an outcome must be to be a dead process's: twice
/// the face work's bound, in real time.
fn stale_reservation(config: &crate::config::Config) -> chrono::Duration {
    chrono::Duration::from_std(config.limits.face_timeout() * 2)
        .unwrap_or(chrono::Duration::minutes(2))
}

/// The stored result of a try made before (a retried request).
fn receipt_of(c: &CheckinRecord) -> Result<CheckinReceipt, ServiceError> {
    let outcome = c.outcome.ok_or(ServiceError::InProgress)?;
    Ok(CheckinReceipt {
        checkin_id: c.id.clone(),
        prompt_id: c.prompt_id.clone(),
        outcome,
        attempt: c.attempt,
        tries_left: checkin::tries_left(c.attempt),
        evidence: c.evidence.clone(),
        received_at: c.received_at,
    })
}
