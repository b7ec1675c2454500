//! SMS: a sender interface and its HTTP-webhook implementation.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use serde::Serialize;

use super::NotifyError;
use crate::config::{Secret, SmsConfig};

/// One text message. `message_id` is the outbox id: a gateway can use it
/// to drop a duplicate if a delivery is retried after a lost answer.
#[derive(Debug, Clone, Serialize)]
pub struct Sms {
    pub to: String,
    pub body: String,
    pub message_id: String,
}

pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<(), NotifyError>> + Send + 'a>>;

/// Sends SMS. An error means "not delivered": the job queue retries it.
pub trait SmsSender: Send + Sync + 'static {
    fn send<'a>(&'a self, sms: &'a Sms) -> SendFuture<'a>;
}

/// POSTs `{"to", "body", "message_id"}` as JSON to a configured URL, with an
/// optional bearer token. Any non-2xx answer is a failure.
pub struct WebhookSms {
    client: reqwest::Client,
    url: reqwest::Url,
    bearer: Secret,
}

impl WebhookSms {
    pub fn new(c: &SmsConfig) -> Result<Self, NotifyError> {
        let url = reqwest::Url::parse(&c.webhook_url).map_err(|e| {
            NotifyError::Config(format!(
                "notify.sms.webhook_url {:?} is not a URL: {e}",
                c.webhook_url
            ))
        })?;
        let loopback = url.host_str().is_some_and(crate::config::is_loopback_host);
        if !(url.scheme() == "https" || url.scheme() == "http" && loopback) {
            return Err(NotifyError::Config(
                "notify.sms.webhook_url must be https:// (http:// only on this host)".into(),
            ));
        }
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(c.timeout_secs.max(1)))
            .build()
            .map_err(|e| NotifyError::Config(format!("SMS HTTP client: {e}")))?;
        Ok(Self {
            client,
            url,
            bearer: c.bearer_token.clone(),
        })
    }
}

impl SmsSender for WebhookSms {
    fn send<'a>(&'a self, sms: &'a Sms) -> SendFuture<'a> {
        Box::pin(async move {
            let mut req = self.client.post(self.url.clone()).json(sms);
            if !self.bearer.is_empty() {
                req = req.bearer_auth(self.bearer.expose());
            }
            // Errors name the URL's host only: the body holds the secret link.
            let host = self.url.host_str().unwrap_or("?").to_owned();
            let resp = req.send().await.map_err(|e| {
                NotifyError::Send(format!("SMS webhook {host}: {}", e.without_url()))
            })?;
            let status = resp.status();
            if status.is_success() {
                Ok(())
            } else {
                Err(NotifyError::Send(format!(
                    "SMS webhook {host} answered HTTP {}",
                    status.as_u16()
                )))
            }
        })
    }
}
