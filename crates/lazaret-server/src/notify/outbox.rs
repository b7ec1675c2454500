//! The outbox's announcer and the delivery of outbox messages.
//!
//! As the [`Announcer`], the [`Notifier`] renders the message for a prompt
//! or form (channel, recipient, language, texts), which the store writes
//! with the prompt or form and its delivery job in one transaction;
//! [`Notifier::deliver_due`] (run by the worker) sends due messages through
//! the person's channel. A message is marked sent only after the sender
//! accepted it, and the queue retries failures with back-off until
//! `notify.max_attempts`, then marks it failed.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use lazaret_core::ids::OrderId;
use lazaret_core::person::Person;
use lazaret_store::{
    Backoff, Channel, ClaimedJob, Failure, MessageFailure, NewOutboxMessage, OutboxStatus, Store,
    NOTIFY_QUEUE,
};
use serde::Deserialize;

use super::email::SmtpEmail;
use super::sms::{Sms, SmsSender, WebhookSms};
use super::templates::{challenge_words, render, template, MessageKind, Var};
use super::NotifyError;
use crate::announce::{
    enrollment_link_message_key, exposure_notice_message_key, prompt_message_key,
    symptom_form_message_key, AnnounceError, Announcement, Announcer, EnrollmentLinkNotice,
    ExposureNotice, OrderChange, OrderNotice, SymptomFormNotice,
};
use crate::config::NotifyConfig;
use crate::state::Clock;

/// Where the person-facing check-in page lives under `public_url`. The
/// token goes in the fragment, which browsers never send to a server, so
/// it stays out of access logs.
pub const CHECKIN_PATH: &str = "/checkin";
/// Where the person-facing symptom form lives under `public_url`.
pub const SYMPTOMS_PATH: &str = "/symptoms";
/// Where the person-facing self-enrolment page lives under `public_url`.
pub const ENROLL_PATH: &str = "/enroll";

/// Template variables for a language (texts such as the challenge are
/// translated).
pub type VarsFor = Box<dyn Fn(&str) -> Vec<Var> + Send + Sync>;

/// A message to enqueue: what it is, to whom, and its template variables
/// (the person's name is added).
pub struct Outgoing {
    pub kind: MessageKind,
    pub person: Person,
    pub order_id: Option<OrderId>,
    pub dedupe_key: String,
    /// After this the message is not worth sending.
    pub expires_at: DateTime<Utc>,
    /// Variables per language (texts such as the challenge are translated).
    pub vars: VarsFor,
    /// A reason the message cannot be sent whatever the channel.
    pub blocked: Option<String>,
}

/// What one delivery pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DeliveryReport {
    pub sent: usize,
    pub failed_attempts: usize,
}

#[derive(Deserialize)]
struct DeliverPayload {
    message_id: String,
}

enum Delivered {
    Sent,
    Skipped,
}

/// The notification outbox with the configured senders.
pub struct Notifier {
    store: Store,
    clock: Arc<dyn Clock>,
    /// Where the person's pages are served; without it no link can be made.
    public_url: Option<String>,
    email: Option<SmtpEmail>,
    sms: Option<Arc<dyn SmsSender>>,
    backoff: Backoff,
    max_attempts: i32,
    /// The most one send may take; cut off there, so that a send always
    /// ends inside its job's lease.
    send_timeout: std::time::Duration,
    /// The number notices tell people to call (`[notify] contact_phone`).
    contact_phone: Option<String>,
}

impl Notifier {
    /// Builds the senders named in `[notify]`. With none, it still records
    /// every message, as failed with the reason, and says so once here.
    pub fn from_config(
        store: Store,
        clock: Arc<dyn Clock>,
        c: &NotifyConfig,
        public_url: Option<String>,
    ) -> Result<Self, NotifyError> {
        let email = c.email.as_ref().map(SmtpEmail::new).transpose()?;
        let sms = match &c.sms {
            Some(s) => Some(Arc::new(WebhookSms::new(s)?) as Arc<dyn SmsSender>),
            None => None,
        };
        if email.is_none() && sms.is_none() {
            tracing::warn!(
                "no notification sender configured ([notify.email] or [notify.sms]): \
                 check-in prompts are recorded in the outbox as failed, not sent; \
                 unanswered prompts reach officers as `not_delivered` alerts"
            );
        }
        if public_url.is_none() {
            tracing::warn!(
                "public_url is not set: check-in links cannot be sent, so prompts are \
                 recorded in the outbox as failed"
            );
        }
        Ok(Self {
            store,
            clock,
            public_url,
            email,
            sms,
            backoff: Backoff {
                base: Duration::seconds(c.retry_base_secs.max(1) as i64),
                max: Duration::seconds(c.retry_max_secs.max(c.retry_base_secs).max(1) as i64),
            },
            max_attempts: c.max_attempts.clamp(1, 100) as i32,
            send_timeout: c.send_timeout(),
            contact_phone: c.contact_phone.clone(),
        })
    }

    /// Replaces the SMS sender (another gateway than the webhook).
    pub fn with_sms(mut self, sender: Arc<dyn SmsSender>) -> Self {
        self.sms = Some(sender);
        self
    }

    /// Picks the channel: SMS when the person has a phone and SMS is
    /// configured, else e-mail; otherwise the reason nothing can reach them.
    fn route(&self, p: &Person) -> Result<(Channel, String), String> {
        if let (Some(phone), Some(_)) = (&p.phone, &self.sms) {
            return Ok((Channel::Sms, phone.as_str().to_owned()));
        }
        if let (Some(email), Some(_)) = (&p.email, &self.email) {
            return Ok((Channel::Email, email.as_str().to_owned()));
        }
        let yes = |b: bool| if b { "yes" } else { "no" };
        Err(format!(
            "no configured channel reaches this person (phone: {}, e-mail: {}; \
             SMS sender configured: {}, e-mail sender configured: {})",
            yes(p.phone.is_some()),
            yes(p.email.is_some()),
            yes(self.sms.is_some()),
            yes(self.email.is_some()),
        ))
    }

    /// Renders a message: the channel that reaches the person (or why none
    /// does: then it is stored as undeliverable, with no job), their
    /// language and the texts. Pure: nothing is stored.
    pub fn render(&self, o: Outgoing, now: DateTime<Utc>) -> NewOutboxMessage {
        let t = template(o.kind, o.person.language.as_str());
        let mut vars = (o.vars)(t.language);
        vars.push(Var::plain("name", o.person.full_name.as_str()));
        let routed = match o.blocked {
            Some(why) => Err(why),
            None => self.route(&o.person),
        };
        let (channel, recipient, undeliverable) = match routed {
            Ok((c, r)) => (Some(c), Some(r), None),
            Err(why) => (None, None, Some(why)),
        };
        let text = match channel {
            Some(Channel::Sms) => t.sms,
            _ => t.email,
        };
        let m = NewOutboxMessage {
            id: uuid::Uuid::now_v7().to_string(),
            dedupe_key: o.dedupe_key,
            person_id: o.person.id.clone(),
            order_id: o.order_id,
            kind: o.kind.as_str().into(),
            channel,
            language: t.language.into(),
            recipient,
            subject: render(t.subject, &vars, true),
            body: render(text, &vars, false),
            body_redacted: render(text, &vars, true),
            expires_at: o.expires_at,
            created_at: now,
            max_attempts: self.max_attempts,
            undeliverable,
        };
        if let Some(why) = &m.undeliverable {
            tracing::warn!(person = %m.person_id, kind = %m.kind, reason = %why, "message not deliverable");
        }
        m
    }

    /// Renders and stores a message on its own, with its delivery job;
    /// false if its dedupe key was enqueued before. (Prompts and forms are
    /// stored with their message instead: see [`Announcer`].)
    pub async fn enqueue(&self, o: Outgoing) -> Result<bool, NotifyError> {
        let m = self.render(o, self.clock.now());
        Ok(self.store.enqueue_message(&m).await?)
    }

    /// The check-in prompt of `a` (dedupe key `prompt:<id>`).
    fn prompt_outgoing(&self, a: &Announcement) -> Outgoing {
        let poses = a.challenge.as_ref().map(|c| c.poses.clone());
        let tz = &a.time_zone;
        let deadline = format!(
            "{} {}",
            a.deadline.with_timezone(&tz.tz()).format("%Y-%m-%d %H:%M"),
            tz.name()
        );
        let (link, blocked) = self.link(CHECKIN_PATH, &a.token);
        Outgoing {
            kind: MessageKind::CheckinPrompt,
            person: a.person.clone(),
            order_id: Some(a.order_id.clone()),
            dedupe_key: prompt_message_key(&a.prompt_id),
            expires_at: a.deadline,
            vars: Box::new(move |lang| {
                vec![
                    Var::secret("link", link.clone()),
                    Var::plain("deadline", deadline.clone()),
                    Var::plain("challenge", challenge_words(poses.as_deref(), lang)),
                ]
            }),
            blocked,
        }
    }

    /// The symptom-form link of `n` (one message per form: the daily one
    /// and any an officer issues).
    fn symptom_form_outgoing(&self, n: &SymptomFormNotice) -> Outgoing {
        self.link_outgoing(
            MessageKind::SymptomForm,
            SYMPTOMS_PATH,
            LinkMessage {
                person: &n.person,
                order_id: n.order_id.as_ref(),
                token: &n.token,
                time_zone: &n.time_zone,
                expires_at: n.expires_at,
                dedupe_key: symptom_form_message_key(&n.form_id),
            },
        )
    }

    /// The self-enrolment link of `n` (one message per link).
    fn enrollment_link_outgoing(&self, n: &EnrollmentLinkNotice) -> Outgoing {
        self.link_outgoing(
            MessageKind::EnrollmentLink,
            ENROLL_PATH,
            LinkMessage {
                person: &n.person,
                order_id: Some(&n.order_id),
                token: &n.token,
                time_zone: &n.time_zone,
                expires_at: n.expires_at,
                dedupe_key: enrollment_link_message_key(&n.link_id),
            },
        )
    }

    /// A message carrying the person's link to `path` and when it expires
    /// (in the order's zone).
    fn link_outgoing(&self, kind: MessageKind, path: &str, m: LinkMessage<'_>) -> Outgoing {
        let expires = format!(
            "{} {}",
            m.expires_at
                .with_timezone(&m.time_zone.tz())
                .format("%Y-%m-%d %H:%M"),
            m.time_zone.name()
        );
        let (link, blocked) = self.link(path, m.token);
        Outgoing {
            kind,
            person: m.person.clone(),
            order_id: m.order_id.cloned(),
            dedupe_key: m.dedupe_key,
            expires_at: m.expires_at,
            vars: Box::new(move |_| {
                vec![
                    Var::secret("link", link.clone()),
                    Var::plain("expires", expires.clone()),
                ]
            }),
            blocked,
        }
    }

    /// The person's link to `path` with `token` in the fragment, or why none
    /// can be made.
    fn link(&self, path: &str, token: &str) -> (String, Option<String>) {
        match &self.public_url {
            Some(base) => (
                format!("{}{path}#token={token}", base.trim_end_matches('/')),
                None,
            ),
            None => (
                String::new(),
                Some("public_url is not configured, so no link can be sent".to_owned()),
            ),
        }
    }

    /// Claims and sends every due message, a few at a time. A batch never
    /// outlives its lease: each message's job is renewed to a whole lease
    /// just before its send (which is cut off at the longest `[notify.*]
    /// timeout_secs`, at most half a lease: see `[worker] lease_secs`), a job no longer this
    /// worker's is left alone, and once the batch's claim could run out
    /// before the next send ends, the unstarted rest is handed back to the
    /// queue. So no other instance can take a message over while it is
    /// being sent, and none is sent after its job was lost.
    pub async fn deliver_due(
        &self,
        worker: &str,
        lease: Duration,
    ) -> Result<DeliveryReport, NotifyError> {
        const BATCH: i64 = 20;
        let store = &self.store;
        let mut r = DeliveryReport::default();
        // The longest one send may take, on this clock.
        let send = self
            .clock
            .scale(Duration::from_std(self.send_timeout).unwrap_or(lease));
        loop {
            let claimed_at = self.clock.now();
            let jobs = store
                .claim_jobs(NOTIFY_QUEUE, worker, claimed_at, lease, BATCH)
                .await?;
            if jobs.is_empty() {
                return Ok(r);
            }
            let mut jobs = jobs.into_iter();
            while let Some(job) = jobs.next() {
                let now = self.clock.now();
                if now + send >= claimed_at + lease {
                    // Too late to start this one under the batch's claim:
                    // back to the queue with the rest, attempts unspent.
                    for j in std::iter::once(job).chain(jobs.by_ref()) {
                        store.release_job(j.id, worker, now).await?;
                    }
                    tracing::info!(
                        worker,
                        "delivery batch handed back before its lease ran out"
                    );
                    break;
                }
                if !store
                    .renew_job_lease(job.id, worker, now, now + lease)
                    .await?
                {
                    tracing::warn!(job = job.id, "delivery job no longer ours: not sent");
                    continue;
                }
                let result = self.deliver(&job).await;
                let now = self.clock.now();
                match result {
                    Ok(d) => {
                        if matches!(d, Delivered::Sent) {
                            r.sent += 1;
                        }
                        store.complete_job(job.id, worker, now).await?;
                    }
                    Err(e) => {
                        r.failed_attempts += 1;
                        let error = e.to_string();
                        let fate = store
                            .fail_job(&job, worker, &error, now, self.backoff)
                            .await?;
                        tracing::warn!(job = job.id, error = %error, ?fate, "message not delivered");
                        if let Ok(p) = serde_json::from_value::<DeliverPayload>(job.payload.clone())
                        {
                            let fate = match fate {
                                Failure::Dead => MessageFailure::Final,
                                Failure::RetryAt(_) => MessageFailure::Retry,
                            };
                            store
                                .record_message_failure(
                                    &p.message_id,
                                    &error,
                                    &e.audit_reason(),
                                    fate,
                                    now,
                                )
                                .await?;
                        }
                    }
                }
            }
        }
    }

    async fn deliver(&self, job: &ClaimedJob) -> Result<Delivered, NotifyError> {
        let store = &self.store;
        let p: DeliverPayload = serde_json::from_value(job.payload.clone())
            .map_err(|e| NotifyError::Data(format!("delivery job payload: {e}")))?;
        let Some(m) = store.get_message(&p.message_id).await? else {
            return Ok(Delivered::Skipped);
        };
        if m.status != OutboxStatus::Pending {
            return Ok(Delivered::Skipped);
        }
        let now = self.clock.now();
        if now >= m.expires_at {
            store
                .expire_message(&m.id, "expired before it could be delivered", now)
                .await?;
            return Ok(Delivered::Skipped);
        }
        let (Some(body), Some(to)) = (m.body.as_deref(), m.recipient.as_deref()) else {
            return Err(NotifyError::Data(format!(
                "message {} has no body or recipient",
                m.id
            )));
        };
        match m.channel {
            Some(Channel::Sms) => {
                let sms = self.sms.as_ref().ok_or_else(|| {
                    NotifyError::Send("no SMS sender is configured ([notify.sms])".into())
                })?;
                let sms_message = Sms {
                    to: to.to_owned(),
                    body: body.to_owned(),
                    message_id: m.id.clone(),
                };
                tokio::time::timeout(self.send_timeout, sms.send(&sms_message))
                    .await
                    .map_err(|_| self.timed_out())??;
            }
            Some(Channel::Email) => {
                let email = self.email.as_ref().ok_or_else(|| {
                    NotifyError::Send("no e-mail sender is configured ([notify.email])".into())
                })?;
                tokio::time::timeout(self.send_timeout, email.send(to, &m.subject, body))
                    .await
                    .map_err(|_| self.timed_out())??;
            }
            None => {
                return Err(NotifyError::Data(format!(
                    "message {} has no channel",
                    m.id
                )));
            }
        }
        store.mark_message_sent(&m.id, self.clock.now()).await?;
        Ok(Delivered::Sent)
    }

    fn timed_out(&self) -> NotifyError {
        NotifyError::Send(format!(
            "the sender did not answer within {} s",
            self.send_timeout.as_secs()
        ))
    }
}

impl Announcer for Notifier {
    fn prompt_message(&self, a: &Announcement) -> Result<NewOutboxMessage, AnnounceError> {
        Ok(self.render(self.prompt_outgoing(a), a.at))
    }

    fn symptom_form_message(
        &self,
        n: &SymptomFormNotice,
    ) -> Result<NewOutboxMessage, AnnounceError> {
        Ok(self.render(self.symptom_form_outgoing(n), n.at))
    }

    fn enrollment_link_message(
        &self,
        n: &EnrollmentLinkNotice,
    ) -> Result<NewOutboxMessage, AnnounceError> {
        Ok(self.render(self.enrollment_link_outgoing(n), n.at))
    }

    fn exposure_notice_message(
        &self,
        n: &ExposureNotice,
    ) -> Result<NewOutboxMessage, AnnounceError> {
        let day = |t: DateTime<Utc>| {
            t.with_timezone(&n.time_zone.tz())
                .format("%Y-%m-%d")
                .to_string()
        };
        let (date, until) = (day(n.exposed_on), day(n.until));
        let (phone, blocked) = self.contact_phone();
        Ok(self.render(
            Outgoing {
                kind: MessageKind::ExposureNotice,
                person: n.person.clone(),
                order_id: None,
                dedupe_key: exposure_notice_message_key(&n.follow_up_id),
                expires_at: n.until,
                vars: Box::new(move |_| {
                    vec![
                        Var::plain("date", date.clone()),
                        Var::plain("until", until.clone()),
                        Var::plain("contact_phone", phone.clone()),
                    ]
                }),
                blocked,
            },
            n.at,
        ))
    }

    fn order_notice_message(&self, n: &OrderNotice) -> Result<NewOutboxMessage, AnnounceError> {
        let tz = n.time_zone;
        let when = move |t: DateTime<Utc>| {
            format!(
                "{} {}",
                t.with_timezone(&tz.tz()).format("%Y-%m-%d %H:%M"),
                tz.name()
            )
        };
        let (starts, ends) = (when(n.starts_at), when(n.ends_at));
        let ended = n
            .ended_at
            .map(|t| t.with_timezone(&tz.tz()).format("%Y-%m-%d").to_string())
            .unwrap_or_default();
        let address = n.address.clone();
        let (phone, blocked) = self.contact_phone();
        let kind = match n.change {
            OrderChange::Issued => MessageKind::OrderIssued,
            OrderChange::Extended => MessageKind::OrderExtended,
            OrderChange::Released => MessageKind::OrderReleased,
        };
        // A released person is told for a week; an order's news until it ends.
        let expires_at = match n.change {
            OrderChange::Released => n.at + Duration::days(7),
            _ => n.ends_at.max(n.at + Duration::hours(1)),
        };
        Ok(self.render(
            Outgoing {
                kind,
                person: n.person.clone(),
                order_id: Some(n.order_id.clone()),
                dedupe_key: n.dedupe_key.clone(),
                expires_at,
                vars: Box::new(move |_| {
                    vec![
                        Var::plain("address", address.clone()),
                        Var::plain("starts", starts.clone()),
                        Var::plain("ends", ends.clone()),
                        Var::plain("date", ended.clone()),
                        Var::plain("contact_phone", phone.clone()),
                    ]
                }),
                blocked,
            },
            n.at,
        ))
    }
}

impl Notifier {
    /// The number notices tell people to call, or why they cannot be sent.
    fn contact_phone(&self) -> (String, Option<String>) {
        match &self.contact_phone {
            Some(p) => (p.clone(), None),
            None => (
                String::new(),
                Some("no number for people to call is configured ([notify] contact_phone)".into()),
            ),
        }
    }
}

/// What a link message needs beyond its kind and path.
struct LinkMessage<'a> {
    person: &'a Person,
    order_id: Option<&'a OrderId>,
    token: &'a str,
    time_zone: &'a lazaret_core::order::TimeZone,
    expires_at: DateTime<Utc>,
    dedupe_key: String,
}
