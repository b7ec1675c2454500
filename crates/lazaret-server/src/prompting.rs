//! Issuing check-in prompts (prompt, deadline job and announcing message in
//! one transaction) and the welfare escalation of missed ones: shared by the
//! officer's "prompt now" route, the check-in route and the worker.

use chrono::{DateTime, Utc};
use lazaret_core::alert::AlertKind;
use lazaret_core::audit::AuditRecord;
use lazaret_core::challenge::{Challenge, HeadPose};
use lazaret_core::checkin::{PromptStatus, WelfareRule};
use lazaret_core::ids::{AlertId, PersonId, PromptId};
use lazaret_core::order::QuarantineOrder;
use lazaret_core::person::Person;
use lazaret_store::{NewAlert, NewJob, PromptRecord, Store, StoreError};
use rand::{Rng, RngCore};
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::announce::{AnnounceError, Announcement, Announcer};
use crate::config::{Config, Liveness};

/// Queue of the jobs that close a prompt when its window (plus the late
/// grace) has passed.
pub const DEADLINE_QUEUE: &str = "prompt.deadline";

/// The token only ever exists in the prompt's announcement; the database
/// keeps its SHA-256 (a 256-bit random secret needs no slow hash).
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn new_token() -> String {
    random_token("lzp")
}

/// A 256-bit random bearer secret, `<prefix>_<64 hex digits>`.
pub fn random_token(prefix: &str) -> String {
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    format!("{prefix}_{}", hex::encode(b))
}

/// A random three-frame challenge: frontal, then both turns in random
/// order (three frames keep a check-in quick on a phone).
pub fn random_challenge() -> Challenge {
    let (a, b) = if rand::rngs::OsRng.gen_bool(0.5) {
        (HeadPose::Left, HeadPose::Right)
    } else {
        (HeadPose::Right, HeadPose::Left)
    };
    Challenge::new(
        uuid::Uuid::new_v4().to_string(),
        vec![HeadPose::Center, a, b],
    )
    .expect("center plus two turns is a valid challenge")
}

/// Why a prompt or form could not be issued. Nothing was stored.
#[derive(Debug, Error)]
pub enum IssueError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("announcing failed: {0}")]
    Announce(#[from] AnnounceError),
    #[error("person {0} of the order is gone")]
    PersonGone(PersonId),
}

/// A prompt just issued, with its token (in the announcement and, for an
/// officer's "prompt now", the response only).
pub struct IssuedPrompt {
    pub prompt: PromptRecord,
    pub token: String,
    pub challenge: Option<Challenge>,
    /// Whether its message went into the outbox with it.
    pub announced: bool,
}

/// The person an announcement goes to (read before the transaction).
pub(crate) async fn person_of(
    store: &Store,
    order: &QuarantineOrder,
) -> Result<Person, IssueError> {
    store
        .get_person(&order.person_id)
        .await?
        .ok_or_else(|| IssueError::PersonGone(order.person_id.clone()))
}

/// Issues a prompt for `order` in `slot` at `now`: the prompt, its deadline
/// job and, with an `announcer`, the outbox message that announces it, all
/// in one transaction (a crash leaves all or nothing). The message is
/// rendered first; if that fails, nothing is stored. Returns `None` if the
/// slot already has a prompt (another instance issued it, with its message).
pub async fn issue_prompt(
    store: &Store,
    config: &Config,
    announcer: Option<&dyn Announcer>,
    order: &QuarantineOrder,
    slot: &str,
    now: DateTime<Utc>,
    actor: &str,
) -> Result<Option<IssuedPrompt>, IssueError> {
    let token = new_token();
    let challenge = (config.liveness == Liveness::On).then(random_challenge);
    let prompt = PromptRecord {
        id: PromptId::generate(),
        order_id: order.id.clone(),
        slot: slot.to_owned(),
        token_hash: hash_token(&token),
        issued_at: now,
        deadline: now + config.prompts.window(),
        challenge: challenge.clone(),
        status: PromptStatus::Open,
        attempts: 0,
    };
    let message = match announcer {
        Some(announcer) => Some(announcer.prompt_message(&Announcement {
            order_id: order.id.clone(),
            prompt_id: prompt.id.clone(),
            person: person_of(store, order).await?,
            time_zone: order.time_zone,
            token: token.clone(),
            deadline: prompt.deadline,
            challenge: challenge.clone(),
            at: now,
        })?),
        None => None,
    };
    let deadline_job = NewJob {
        queue: DEADLINE_QUEUE.into(),
        payload: serde_json::json!({ "prompt_id": prompt.id }),
        run_at: prompt.deadline + config.prompts.late_grace(),
        max_attempts: 10,
        dedupe_key: Some(format!("deadline:{}", prompt.id)),
    };
    let audit = AuditRecord {
        at: now,
        actor: actor.to_owned(),
        action: "prompt.issue".into(),
        subject_type: "order".into(),
        subject_id: order.id.to_string(),
        details: format!("prompt={} slot={slot}", prompt.id),
    };
    if !store
        .issue_prompt(&prompt, &deadline_job, message.as_ref(), &audit)
        .await?
    {
        return Ok(None);
    }
    Ok(Some(IssuedPrompt {
        prompt,
        token,
        challenge,
        announced: message.is_some(),
    }))
}

/// The welfare-check alert of closing `closing` as missed, when that
/// completes the order's run of misses (`lazaret_core::checkin::WelfareRule`
/// on the order's earlier answered or missed prompts, newest first). Read-only:
/// the caller writes it in the transaction that closes the prompt.
pub fn welfare_alert(
    config: &Config,
    order: &QuarantineOrder,
    closing: &PromptRecord,
    earlier_decided: &[PromptRecord],
    now: DateTime<Utc>,
) -> Option<NewAlert> {
    let rule = welfare_rule(config);
    let statuses: Vec<PromptStatus> = earlier_decided.iter().map(|p| p.status).collect();
    if !rule.due(&statuses) {
        return None;
    }
    let run = rule.after_misses.saturating_sub(1) as usize;
    let prompts = std::iter::once(closing)
        .chain(earlier_decided.iter().take(run))
        .map(|p| {
            serde_json::json!({
                "prompt_id": p.id, "issued_at": p.issued_at, "deadline": p.deadline,
            })
        })
        .collect::<Vec<_>>();
    Some(NewAlert {
        id: AlertId::generate(),
        kind: AlertKind::WelfareCheck,
        person_id: order.person_id.clone(),
        order_id: Some(order.id.clone()),
        cause: format!("welfare:{}", closing.id),
        evidence: serde_json::json!({
            "consecutive_missed": rule.after_misses,
            "prompts": prompts,
        }),
        at: now,
    })
}

/// The configured welfare rule.
pub fn welfare_rule(config: &Config) -> WelfareRule {
    WelfareRule {
        after_misses: config.prompts.welfare_after_misses,
    }
}
