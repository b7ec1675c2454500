//! E-mail over SMTP (lettre): STARTTLS, TLS or, for a local relay, plain.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::NotifyError;
use crate::config::{EmailConfig, SmtpTls};

pub struct SmtpEmail {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl SmtpEmail {
    pub fn new(c: &EmailConfig) -> Result<Self, NotifyError> {
        if c.host.is_empty() {
            return Err(NotifyError::Config("notify.email.host is empty".into()));
        }
        if c.tls == SmtpTls::None && !crate::config::is_loopback_host(&c.host) {
            return Err(NotifyError::Config(
                "notify.email.tls = \"none\" is only for a relay on this host".into(),
            ));
        }
        let from: Mailbox = c
            .from
            .parse()
            .map_err(|e| NotifyError::Config(format!("notify.email.from {:?}: {e}", c.from)))?;
        let tls_err = |e: lettre::transport::smtp::Error| {
            NotifyError::Config(format!("SMTP TLS for {}: {e}", c.host))
        };
        let (builder, default_port) = match c.tls {
            SmtpTls::Starttls => (
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&c.host).map_err(tls_err)?,
                587,
            ),
            SmtpTls::Tls => (
                AsyncSmtpTransport::<Tokio1Executor>::relay(&c.host).map_err(tls_err)?,
                465,
            ),
            SmtpTls::None => (
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&c.host),
                25,
            ),
        };
        let mut builder = builder
            .port(c.port.unwrap_or(default_port))
            .timeout(Some(Duration::from_secs(c.timeout_secs.max(1))));
        if let Some(user) = &c.username {
            builder = builder.credentials(Credentials::new(
                user.clone(),
                c.password.expose().to_owned(),
            ));
        }
        Ok(Self {
            transport: builder.build(),
            from,
        })
    }

    /// Sends one plain-text message (UTF-8; lettre picks the transfer
    /// encoding).
    pub async fn send(&self, to: &str, subject: &str, body: &str) -> Result<(), NotifyError> {
        let to: Mailbox = to.parse().map_err(|e| NotifyError::Delivery {
            redacted: "SMTP: invalid recipient address".into(),
            detail: format!("recipient address: {e}"),
        })?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body.to_owned())
            .map_err(|e| NotifyError::Delivery {
                redacted: "SMTP: the message could not be built".into(),
                detail: format!("building the message: {e}"),
            })?;
        self.transport
            .send(message)
            .await
            .map_err(|e| NotifyError::Delivery {
                redacted: smtp_summary(&e),
                detail: format!("SMTP: {e}"),
            })?;
        Ok(())
    }
}

/// An SMTP failure without the server's text (which often echoes the
/// recipient): its class and reply code only.
fn smtp_summary(e: &lettre::transport::smtp::Error) -> String {
    let class = if e.is_timeout() {
        "timeout"
    } else if e.is_tls() {
        "TLS error"
    } else if e.is_permanent() {
        "permanent error"
    } else if e.is_transient() {
        "transient error"
    } else if e.is_client() {
        "client error"
    } else {
        "connection error"
    };
    match e.status() {
        Some(code) => format!("SMTP: {class} {code}"),
        None => format!("SMTP: {class}"),
    }
}
