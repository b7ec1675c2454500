//! Background work on the durable job queue: placing each day's prompts,
//! issuing and announcing them, closing them at their deadline, completing
//! orders at their end, purging expired templates and delivering the
//! notification outbox.
//!
//! Every step is keyed so that any number of server instances can run it:
//! a slot's issue job, a prompt's outbox message and its deadline job each
//! have a dedupe key, and a slot holds at most one prompt.

use std::collections::HashSet;
use std::future::Future;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use lazaret_core::alert::AlertKind;
use lazaret_core::audit::AuditRecord;
use lazaret_core::checkin::PromptStatus;
use lazaret_core::district::DistrictScope;
use lazaret_core::follow_up::FollowUpStatus;
use lazaret_core::ids::{AlertId, FollowUpId, OrderId, PromptId};
use lazaret_core::order::{OrderStatus, QuarantineOrder, TimeZone};
use lazaret_core::zone_lookup::order_time_zone;
use lazaret_store::{
    Backoff, Channel, ClaimedJob, FollowUp, NewAlert, NewJob, OrderFilter, OutboxMessage,
    OutboxStatus, PageRequest, PromptRecord, StoreError,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::announce::{prompt_message_key, Announcer};
use crate::notify::{Notifier, NotifyError};
use crate::prompting::{issue_prompt, welfare_alert, welfare_rule, IssueError, DEADLINE_QUEUE};
use crate::services::notices;
use crate::state::AppState;
use crate::symptom_forms::{issue_symptom_form, local_day, FormFor};

pub const ISSUE_QUEUE: &str = "prompt.issue";
/// Order notices sent per pass at most (the rest wait for the next).
const ORDER_NOTICES_PER_PASS: i64 = 500;

/// Queue of the jobs that issue an order's daily symptom form.
pub const SYMPTOM_ISSUE_QUEUE: &str = "symptoms.issue";
const SYSTEM: &str = "system:scheduler";

#[derive(Debug, Error)]
pub enum WorkerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("job payload unreadable: {0}")]
    Payload(String),
    #[error(transparent)]
    Issue(#[from] IssueError),
    #[error(transparent)]
    Notify(#[from] NotifyError),
    #[error("{0}")]
    Config(String),
    #[error("order notices: {0}")]
    Notices(String),
}

#[derive(Debug, Serialize, Deserialize)]
struct IssuePayload {
    order_id: OrderId,
    slot: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct PromptPayload {
    prompt_id: PromptId,
}

#[derive(Debug, Serialize, Deserialize)]
struct SymptomIssuePayload {
    /// An order's form, or
    #[serde(default)]
    order_id: Option<OrderId>,
    /// a monitored contact's.
    #[serde(default)]
    follow_up_id: Option<FollowUpId>,
    day: NaiveDate,
}

/// One worker: an id for job leases, and what renders its announcements.
pub struct Worker {
    pub state: AppState,
    pub id: String,
    pub announcer: Arc<dyn Announcer>,
    /// Delivers the outbox; without it outbox messages wait for an
    /// instance that has one.
    pub notifier: Option<Arc<Notifier>>,
    pub lease: Duration,
    pub batch: i64,
    /// Planning jobs this worker already saw in the queue (see
    /// [`Worker::enqueue_planned`]).
    planned: Mutex<Planned>,
}

/// Dedupe keys (as 128-bit digests) of planning jobs known to be queued,
/// forgotten when the clock's UTC day changes.
#[derive(Default)]
struct Planned {
    day: Option<NaiveDate>,
    keys: HashSet<u128>,
}

fn key_digest(key: &str) -> u128 {
    let d = Sha256::digest(key.as_bytes());
    u128::from_be_bytes(d[..16].try_into().expect("16 bytes"))
}

/// How much one pass did (for tests and logs).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PassReport {
    pub slots_enqueued: usize,
    pub issued: usize,
    pub announced: usize,
    pub missed: usize,
    /// Prompts closed as `not_delivered` (their message never reached the person).
    pub not_delivered: usize,
    pub completed_orders: usize,
    pub failed_jobs: usize,
    pub symptom_forms_planned: usize,
    pub symptom_forms_issued: usize,
    pub symptom_forms_announced: usize,
    pub messages_sent: usize,
    /// Monitoring periods of notify-tier contacts that ended.
    pub monitoring_ended: usize,
    /// Notices of contacts' orders (issued, moved, ended) sent.
    pub order_notices: usize,
}

impl PassReport {
    fn add(&mut self, o: &PassReport) {
        self.slots_enqueued += o.slots_enqueued;
        self.issued += o.issued;
        self.announced += o.announced;
        self.missed += o.missed;
        self.not_delivered += o.not_delivered;
        self.completed_orders += o.completed_orders;
        self.failed_jobs += o.failed_jobs;
        self.symptom_forms_planned += o.symptom_forms_planned;
        self.symptom_forms_issued += o.symptom_forms_issued;
        self.symptom_forms_announced += o.symptom_forms_announced;
        self.messages_sent += o.messages_sent;
        self.monitoring_ended += o.monitoring_ended;
        self.order_notices += o.order_notices;
    }
}

impl Worker {
    pub fn new(state: AppState, announcer: Arc<dyn Announcer>) -> Self {
        // Leases are compared with the clock's time but must outlast real
        // work: `[worker] lease_secs` real seconds, however fast a simulated
        // clock runs.
        let lease = state.clock.scale(state.config.worker.lease());
        Self {
            state,
            id: format!("worker-{}", uuid::Uuid::new_v4()),
            announcer,
            notifier: None,
            lease,
            batch: 200,
            planned: Mutex::default(),
        }
    }

    /// Enqueues a planning job unless this worker already saw its dedupe
    /// key queued. Planning repeats every pass for every active order; the
    /// database's dedupe key keeps it exactly once, and this memory keeps
    /// a pass from re-sending thousands of inserts that change nothing.
    /// True when this call queued it.
    pub(crate) async fn enqueue_planned(
        &self,
        job: &NewJob,
        now: DateTime<Utc>,
    ) -> Result<bool, WorkerError> {
        let key = job.dedupe_key.as_deref().map(key_digest);
        let today = now.date_naive();
        if let Some(k) = key {
            let mut p = self.planned.lock().expect("planned lock");
            if p.day != Some(today) {
                *p = Planned {
                    day: Some(today),
                    keys: HashSet::new(),
                };
            }
            if p.keys.contains(&k) {
                return Ok(false);
            }
        }
        let queued = self.state.store.enqueue(job, now).await?.is_some();
        // Queued now or before (a dedupe conflict): either way it is there.
        if let Some(k) = key {
            self.planned.lock().expect("planned lock").keys.insert(k);
        }
        Ok(queued)
    }

    /// The same worker, also delivering the notification outbox.
    pub fn with_notifier(mut self, notifier: Arc<Notifier>) -> Self {
        self.notifier = Some(notifier);
        self
    }

    /// Runs passes until `shutdown` resolves, then logs what it did.
    pub async fn run(self, every: std::time::Duration, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut total = PassReport::default();
        loop {
            match self.pass().await {
                Ok(r) if r != PassReport::default() => {
                    tracing::info!(?r, "worker pass");
                    total.add(&r);
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "worker pass failed"),
            }
            tokio::select! {
                _ = &mut shutdown => break,
                _ = tokio::time::sleep(every) => {}
            }
        }
        tracing::info!(
            worker = %self.id,
            issued = total.issued,
            announced = total.announced,
            missed = total.missed,
            not_delivered = total.not_delivered,
            messages_sent = total.messages_sent,
            symptom_forms_issued = total.symptom_forms_issued,
            completed_orders = total.completed_orders,
            failed_jobs = total.failed_jobs,
            "worker stopped"
        );
    }

    /// One pass: plan, then run the due jobs.
    pub async fn pass(&self) -> Result<PassReport, WorkerError> {
        let mut r = self.plan_pass().await?;
        let jobs = self.run_jobs().await?;
        r.issued = jobs.issued;
        r.announced = jobs.announced;
        r.missed = jobs.missed;
        r.not_delivered = jobs.not_delivered;
        r.failed_jobs = jobs.failed_jobs;
        r.symptom_forms_issued = jobs.symptom_forms_issued;
        r.symptom_forms_announced = jobs.symptom_forms_announced;
        r.messages_sent = jobs.messages_sent;
        r.order_notices = jobs.order_notices;
        Ok(r)
    }

    /// Completes ended orders, enqueues the coming prompt slots, raises
    /// (and settles) the alerts of orders nothing can prompt and purges
    /// expired templates.
    pub async fn plan_pass(&self) -> Result<PassReport, WorkerError> {
        let mut r = PassReport::default();
        self.plan(&mut r).await?;
        self.plan_monitoring(&mut r).await?;
        let now = self.state.now();
        let allowance = Duration::hours(self.state.config.enrolment_allowance_hours.into());
        let c = self
            .state
            .store
            .reconcile_cannot_prompt(now, allowance)
            .await?;
        if c.opened + c.closed > 0 {
            tracing::info!(opened = c.opened, closed = c.closed, "cannot_prompt alerts");
        }
        let grace = self.state.config.template_grace();
        self.state
            .store
            .purge_expired_enrollments(now, grace)
            .await?;
        self.state
            .store
            .purge_expired_pending_enrollments(now, grace)
            .await?;
        Ok(r)
    }

    /// Runs every due job: issue (and announce), deadline, then deliver
    /// the outbox.
    pub async fn run_jobs(&self) -> Result<PassReport, WorkerError> {
        let mut r = PassReport::default();
        self.drain(ISSUE_QUEUE, &mut r).await?;
        self.drain(DEADLINE_QUEUE, &mut r).await?;
        self.drain(SYMPTOM_ISSUE_QUEUE, &mut r).await?;
        // Before delivery, so a notice goes out in the same pass.
        r.order_notices = notices::send_order_notices(
            &self.state,
            self.announcer.as_ref(),
            ORDER_NOTICES_PER_PASS,
        )
        .await
        .map_err(|e| WorkerError::Notices(e.to_string()))?
        .sent;
        if let Some(n) = &self.notifier {
            let d = n.deliver_due(&self.id, self.lease).await?;
            r.messages_sent += d.sent;
            r.failed_jobs += d.failed_attempts;
        }
        Ok(r)
    }

    fn schedule_secret(&self) -> Result<Vec<u8>, WorkerError> {
        crate::template_crypto::schedule_secret(&self.state.config)
            .map_err(|e| WorkerError::Config(e.to_string()))
    }

    /// Completes ended orders and enqueues the issue jobs of today's and
    /// tomorrow's slots of every active order.
    async fn plan(&self, r: &mut PassReport) -> Result<(), WorkerError> {
        let secret = self.schedule_secret()?;
        let policy = &self.state.config.prompts;
        let now = self.state.now();
        let mut cursor = None;
        loop {
            let page = self
                .state
                .store
                .list_orders(
                    &OrderFilter {
                        status: Some(OrderStatus::Active),
                        person_id: None,
                        districts: None,
                    },
                    &PageRequest {
                        cursor: cursor.take(),
                        limit: Some(lazaret_store::MAX_LIMIT),
                    },
                )
                .await?;
            for order in &page.items {
                if order.ends_at <= now {
                    if self.complete(order, now).await? {
                        r.completed_orders += 1;
                    }
                    continue;
                }
                self.plan_symptom_form(order, now, r).await?;
                let today = now.with_timezone(&order.time_zone.tz()).date_naive();
                for day in [today, today + Duration::days(1)] {
                    let times = policy.plan_day(&secret, &order.id, order.time_zone, day);
                    for (i, at) in times.into_iter().enumerate() {
                        if at < now || at < order.starts_at || at + policy.window() > order.ends_at
                        {
                            continue;
                        }
                        let slot = format!("{day}#{i}");
                        let job = NewJob {
                            queue: ISSUE_QUEUE.into(),
                            payload: serde_json::to_value(IssuePayload {
                                order_id: order.id.clone(),
                                slot: slot.clone(),
                            })
                            .expect("payload serialises"),
                            run_at: at,
                            max_attempts: 5,
                            dedupe_key: Some(format!("issue:{}:{slot}", order.id)),
                        };
                        if self.enqueue_planned(&job, now).await? {
                            r.slots_enqueued += 1;
                        }
                    }
                }
            }
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => return Ok(()),
            }
        }
    }

    async fn complete(
        &self,
        order: &QuarantineOrder,
        now: DateTime<Utc>,
    ) -> Result<bool, WorkerError> {
        let mut o = order.clone();
        let read_at = o.updated_at;
        let at = now.max(read_at + Duration::milliseconds(1));
        if o.transition(OrderStatus::Completed, None, at).is_err() {
            return Ok(false);
        }
        let audit = AuditRecord {
            at,
            actor: SYSTEM.into(),
            action: "order.complete".into(),
            subject_type: "order".into(),
            subject_id: o.id.to_string(),
            details: "order period ended".into(),
        };
        // Ending it cancels its open prompts and forms and closes its alerts
        // in the same transaction.
        match self.state.store.end_order(&o, read_at, &audit).await {
            Ok(_) => Ok(true),
            // Another instance completed it first.
            Err(StoreError::Stale { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Runs the jobs of `queue` that are due when it starts. Jobs falling
    /// due meanwhile wait for the next pass, so one busy queue cannot keep
    /// the others (deadlines, delivery) and the planning waiting.
    async fn drain(&self, queue: &str, r: &mut PassReport) -> Result<(), WorkerError> {
        // Claims are made at `due`, so every lease of this drain ends at
        // `due + lease`.
        let due = self.state.now();
        loop {
            let jobs = self
                .state
                .store
                .claim_jobs(queue, &self.id, due, self.lease, self.batch)
                .await?;
            if jobs.is_empty() {
                return Ok(());
            }
            let mut jobs = jobs.into_iter();
            while let Some(job) = jobs.next() {
                let now = self.state.now();
                // Half the lease gone: hand the unstarted rest back for the
                // next pass rather than run a job whose lease another
                // instance may take meanwhile.
                if now >= due + self.lease / 2 {
                    for j in std::iter::once(job).chain(jobs.by_ref()) {
                        self.state.store.release_job(j.id, &self.id, now).await?;
                    }
                    return Ok(());
                }
                let result = match queue {
                    ISSUE_QUEUE => self.issue(&job, r).await,
                    DEADLINE_QUEUE => self.deadline(&job, r).await,
                    SYMPTOM_ISSUE_QUEUE => self.issue_symptom_job(&job, r).await,
                    _ => Err(WorkerError::Payload(format!("unknown queue {queue}"))),
                };
                let now = self.state.now();
                match result {
                    Ok(()) => {
                        self.state.store.complete_job(job.id, &self.id, now).await?;
                    }
                    Err(e) => {
                        r.failed_jobs += 1;
                        tracing::warn!(queue, job = job.id, error = %e, "job failed");
                        self.state
                            .store
                            .fail_job(&job, &self.id, &e.to_string(), now, Backoff::default())
                            .await?;
                    }
                }
            }
        }
    }

    async fn issue(&self, job: &ClaimedJob, r: &mut PassReport) -> Result<(), WorkerError> {
        let p: IssuePayload = serde_json::from_value(job.payload.clone())
            .map_err(|e| WorkerError::Payload(e.to_string()))?;
        let Some(order) = self.state.store.get_order(&p.order_id).await? else {
            return Ok(());
        };
        let now = self.state.now();
        if order.status != OrderStatus::Active || order.ends_at <= now {
            return Ok(());
        }
        if self.state.store.get_enrollment(&order.id).await?.is_none() {
            tracing::info!(order = %order.id, "not prompted: no face enrolled");
            return Ok(());
        }
        // The prompt, its deadline job and its message are one transaction:
        // should rendering or storing fail, nothing exists and this job's
        // retry issues the slot afresh. A slot already taken was issued
        // with its message, whose delivery the notify queue retries.
        let Some(issued) = issue_prompt(
            &self.state.store,
            &self.state.config,
            Some(self.announcer.as_ref()),
            &order,
            &p.slot,
            now,
            SYSTEM,
        )
        .await?
        else {
            tracing::debug!(order = %order.id, slot = %p.slot, "slot already issued");
            return Ok(());
        };
        r.issued += 1;
        if issued.announced {
            r.announced += 1;
        }
        Ok(())
    }

    /// Closes a prompt still open after its deadline (and the late grace):
    /// `missed` with a `missed_checkin` alert when its message reached the
    /// person (or they tried), else `not_delivered` with a `not_delivered`
    /// alert. Either alert carries the message's delivery status. The miss
    /// and its welfare escalation are one transaction.
    async fn deadline(&self, job: &ClaimedJob, r: &mut PassReport) -> Result<(), WorkerError> {
        let p: PromptPayload = serde_json::from_value(job.payload.clone())
            .map_err(|e| WorkerError::Payload(e.to_string()))?;
        let Some(prompt) = self.state.store.get_prompt(&p.prompt_id).await? else {
            return Ok(());
        };
        if prompt.status != PromptStatus::Open {
            return Ok(());
        }
        let Some(order) = self.state.store.get_order(&prompt.order_id).await? else {
            return Ok(());
        };
        let now = self.state.now();
        let tries = self.state.store.checkins_of_prompt(&prompt.id).await?;
        let message = self
            .state
            .store
            .get_message_by_dedupe_key(&prompt_message_key(&prompt.id))
            .await?;
        let delivery = Delivery::of(&prompt, message.as_ref());
        // A person who tried had the link, whatever the outbox says.
        let reached = delivery.reached || !tries.is_empty();
        let (status, kind, action, why) = if reached {
            (
                PromptStatus::Missed,
                AlertKind::MissedCheckin,
                "prompt.miss",
                "no verified check-in by the deadline",
            )
        } else {
            (
                PromptStatus::NotDelivered,
                AlertKind::NotDelivered,
                "prompt.not_delivered",
                "the prompt never reached the person",
            )
        };
        let alert = NewAlert {
            id: AlertId::generate(),
            kind,
            person_id: order.person_id.clone(),
            order_id: Some(order.id.clone()),
            cause: format!("prompt:{}", prompt.id),
            evidence: serde_json::json!({
                "prompt_id": prompt.id,
                "issued_at": prompt.issued_at,
                "deadline": prompt.deadline,
                "delivery": delivery.evidence,
                "tries": tries.iter().map(|c| serde_json::json!({
                    "attempt": c.attempt,
                    "outcome": c.outcome.map(|o| o.as_str()),
                    "received_at": c.received_at,
                    "evidence": c.evidence,
                })).collect::<Vec<_>>(),
            }),
            at: now,
        };
        // Only a miss by a person who was told counts towards a welfare check.
        let escalation = match status {
            PromptStatus::Missed => {
                let rule = welfare_rule(&self.state.config);
                let earlier = self
                    .state
                    .store
                    .decided_prompts_before(&order.id, &prompt.id, rule.after_misses)
                    .await?;
                welfare_alert(&self.state.config, &order, &prompt, &earlier, now)
            }
            _ => None,
        };
        let audit = AuditRecord {
            at: now,
            actor: SYSTEM.into(),
            action: action.into(),
            subject_type: "order".into(),
            subject_id: order.id.to_string(),
            details: format!(
                "prompt={} {why}; delivery={}",
                prompt.id, delivery.evidence["status"]
            ),
        };
        if self
            .state
            .store
            .close_unanswered_prompt(&prompt.id, status, &alert, escalation.as_ref(), &audit)
            .await?
        {
            match status {
                PromptStatus::Missed => r.missed += 1,
                _ => r.not_delivered += 1,
            }
        }
        Ok(())
    }

    /// Ends the monitoring periods that are over, then enqueues today's
    /// form of each contact still monitored (once per contact and local
    /// day, in the zone of their residence).
    async fn plan_monitoring(&self, r: &mut PassReport) -> Result<(), WorkerError> {
        let now = self.state.now();
        r.monitoring_ended += self.state.store.end_monitoring(now).await? as usize;
        for f in self.state.store.monitored_contacts(now).await? {
            let day = now
                .with_timezone(&self.zone_of(&f).await?.tz())
                .date_naive();
            let job = NewJob {
                queue: SYMPTOM_ISSUE_QUEUE.into(),
                payload: serde_json::to_value(SymptomIssuePayload {
                    order_id: None,
                    follow_up_id: Some(f.id.clone()),
                    day,
                })
                .expect("payload serialises"),
                run_at: now,
                max_attempts: 5,
                dedupe_key: Some(format!("symptoms:fu:{}:{day}", f.id)),
            };
            if self.enqueue_planned(&job, now).await? {
                r.symptom_forms_planned += 1;
            }
        }
        Ok(())
    }

    /// The zone a monitored contact's days are counted in: their
    /// residence's, else the configured default.
    async fn zone_of(&self, f: &FollowUp) -> Result<TimeZone, WorkerError> {
        let place = self.state.store.residence_of(&f.person_id).await?;
        Ok(order_time_zone(
            place.map(|p| p.coordinates).as_ref(),
            self.state.config.default_time_zone,
        ))
    }

    /// Issues a monitored contact's form of `day`, unless the monitoring
    /// ended or the day passed before the job ran.
    async fn issue_monitoring_form(
        &self,
        id: &FollowUpId,
        day: NaiveDate,
        slot: &str,
        now: DateTime<Utc>,
        r: &mut PassReport,
    ) -> Result<(), WorkerError> {
        let Some(f) = self
            .state
            .store
            .get_follow_up(id, &DistrictScope::All)
            .await?
        else {
            return Ok(());
        };
        let time_zone = self.zone_of(&f).await?;
        if f.status != FollowUpStatus::Monitored
            || f.closed_at.is_some()
            || f.monitor_until.is_none_or(|u| u <= now)
            || now.with_timezone(&time_zone.tz()).date_naive() != day
        {
            return Ok(());
        }
        let to = FormFor::Monitoring {
            follow_up: &f,
            time_zone,
        };
        let issued = issue_symptom_form(
            &self.state.store,
            Some(self.announcer.as_ref()),
            to,
            slot,
            now,
            SYSTEM,
        )
        .await?;
        if let Some(issued) = issued {
            r.symptom_forms_issued += 1;
            if issued.announced {
                r.symptom_forms_announced += 1;
            }
        }
        Ok(())
    }

    /// Enqueues today's form of an order in force (once per order and day).
    async fn plan_symptom_form(
        &self,
        order: &QuarantineOrder,
        now: DateTime<Utc>,
        r: &mut PassReport,
    ) -> Result<(), WorkerError> {
        if !order.is_in_force(now) {
            return Ok(());
        }
        let day = local_day(order, now);
        let job = NewJob {
            queue: SYMPTOM_ISSUE_QUEUE.into(),
            payload: serde_json::to_value(SymptomIssuePayload {
                order_id: Some(order.id.clone()),
                follow_up_id: None,
                day,
            })
            .expect("payload serialises"),
            run_at: now,
            max_attempts: 5,
            dedupe_key: Some(format!("symptoms:{}:{day}", order.id)),
        };
        if self.enqueue_planned(&job, now).await? {
            r.symptom_forms_planned += 1;
        }
        Ok(())
    }

    /// Issues the day's form with its message (one transaction). Should the
    /// message not render, nothing is stored and the job is retried.
    async fn issue_symptom_job(
        &self,
        job: &ClaimedJob,
        r: &mut PassReport,
    ) -> Result<(), WorkerError> {
        let p: SymptomIssuePayload = serde_json::from_value(job.payload.clone())
            .map_err(|e| WorkerError::Payload(e.to_string()))?;
        let now = self.state.now();
        let slot = format!("day:{}", p.day);
        let order = match (&p.order_id, &p.follow_up_id) {
            (Some(id), _) => self.state.store.get_order(id).await?,
            (None, Some(id)) => return self.issue_monitoring_form(id, p.day, &slot, now, r).await,
            (None, None) => return Err(WorkerError::Payload("no order or follow-up".into())),
        };
        let Some(order) = order else {
            return Ok(());
        };
        // A job that ran late (the day is over, or the order ended) issues nothing.
        if order.status != OrderStatus::Active
            || !order.is_in_force(now)
            || local_day(&order, now) != p.day
        {
            return Ok(());
        }
        let Some(issued) = issue_symptom_form(
            &self.state.store,
            Some(self.announcer.as_ref()),
            FormFor::Order(&order),
            &slot,
            now,
            SYSTEM,
        )
        .await?
        else {
            return Ok(());
        };
        r.symptom_forms_issued += 1;
        if issued.announced {
            r.symptom_forms_announced += 1;
        }
        Ok(())
    }
}

/// What the outbox says about a prompt's message when its deadline passes.
struct Delivery {
    /// Whether the person was reached: the sender accepted the message, or
    /// the officer who issued the prompt without a message holds the token.
    reached: bool,
    /// `{"status": sent | failed | no_channel | pending | no_message |
    /// relayed_by_officer, …}` for the alert.
    evidence: serde_json::Value,
}

impl Delivery {
    fn of(prompt: &PromptRecord, message: Option<&OutboxMessage>) -> Self {
        use serde_json::json;
        let Some(m) = message else {
            // Officers' prompts are issued without a message where the
            // server has no notifier; the response told the officer to
            // relay the token. A scheduled prompt always has one, unless it
            // was issued before prompts and messages were one transaction.
            return if prompt.slot.starts_with("now:") {
                Self {
                    reached: true,
                    evidence: json!({
                        "status": "relayed_by_officer",
                        "detail": "issued without a message; the issuing officer was given the token",
                    }),
                }
            } else {
                Self {
                    reached: false,
                    evidence: json!({
                        "status": "no_message",
                        "error": "no message was ever written for this prompt",
                    }),
                }
            };
        };
        let channel = m.channel.map(|c: Channel| c.as_str());
        match m.status {
            OutboxStatus::Sent => Self {
                reached: true,
                evidence: json!({
                    "status": "sent", "channel": channel, "sent_at": m.sent_at,
                    "attempts": m.attempts, "message_id": m.id,
                }),
            },
            OutboxStatus::Failed if m.channel.is_none() => Self {
                reached: false,
                evidence: json!({
                    "status": "no_channel", "error": m.last_error, "message_id": m.id,
                }),
            },
            OutboxStatus::Failed => Self {
                reached: false,
                evidence: json!({
                    "status": "failed", "channel": channel, "attempts": m.attempts,
                    "error": m.last_error, "message_id": m.id,
                }),
            },
            // Still not confirmed sent when the window (and grace) ended.
            OutboxStatus::Pending => Self {
                reached: false,
                evidence: json!({
                    "status": "pending", "channel": channel, "attempts": m.attempts,
                    "error": m.last_error, "message_id": m.id,
                }),
            },
        }
    }
}
