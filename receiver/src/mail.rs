//! Confirmation emails: their wording ([`Composer`]) and their delivery ([`run_sender`]).
//!
//! Every email is first written to the `outbox` table in the same transaction as the signup, so an
//! acknowledged signup always has its email. With `SMTP_URL` set, a background task claims unsent
//! rows and hands them to the SMTP server through lettre (retrying failures; a claim expires after
//! five minutes so a crashed process's emails are sent by another). Without SMTP the outbox and
//! the log are the record, which is what the demo shows.

use std::sync::Arc;
use std::time::Duration;

use letterbox_core::messages::Lang;
use lettre::message::{header::ContentType, Mailbox};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tokio::sync::Notify;

use crate::config::Config;
use crate::db::{ConfirmationMail, Db, OutboxEmail};
use crate::pages::{catalogue, Msg};

/// Writes confirmation emails in the reader's language with the site's newsletter names.
#[derive(Debug, Clone)]
pub struct Composer {
    /// The reader's language.
    pub lang: Lang,
    /// The configuration (newsletter names, site name).
    pub config: Arc<Config>,
}

impl Composer {
    /// Names of the newsletters, joined as a reader would say them.
    pub fn names(&self, ids: &[String]) -> String {
        let names: Vec<&str> = ids
            .iter()
            .map(|id| {
                self.config
                    .newsletter(id)
                    .map_or(id.as_str(), |n| n.name.as_str())
            })
            .collect();
        catalogue(self.lang).join_list(&names)
    }
}

impl ConfirmationMail for Composer {
    fn compose(
        &self,
        email: &str,
        newsletters: &[String],
        link: &str,
        unsubscribe: &str,
    ) -> (String, String) {
        let names = self.names(newsletters);
        let subject = Msg::MailSubject.format(self.lang, &[("newsletters", &names)]);
        let body = Msg::MailBody.format(
            self.lang,
            &[
                ("newsletters", &names),
                ("site", &self.config.site_name),
                ("email", email),
                ("link", link),
                ("unsubscribe", unsubscribe),
            ],
        );
        (subject, body)
    }

    fn notice(&self, email: &str, newsletters: &[String], unsubscribe: &str) -> (String, String) {
        let names = self.names(newsletters);
        let site = self.config.site_name.as_str();
        let subject = Msg::NoticeSubject.format(self.lang, &[("site", site)]);
        let body = Msg::NoticeBody.format(
            self.lang,
            &[
                ("newsletters", &names),
                ("site", site),
                ("email", email),
                ("unsubscribe", unsubscribe),
            ],
        );
        (subject, body)
    }
}

/// Sends outbox emails over SMTP until `stop` is notified; woken early by `wake`.
pub async fn run_sender(
    db: Db,
    config: Arc<Config>,
    smtp_url: String,
    wake: Arc<Notify>,
    stop: Arc<Notify>,
) {
    let transport = match AsyncSmtpTransport::<Tokio1Executor>::from_url(&smtp_url) {
        Ok(t) => t.timeout(Some(Duration::from_secs(20))).build(),
        Err(e) => {
            tracing::error!(error = %e, "SMTP_URL is not usable; emails stay in the outbox");
            return;
        }
    };
    let from: Mailbox = match config.mail.from.parse() {
        Ok(m) => m,
        Err(e) => {
            tracing::error!(error = %e, "mail.from is not a mailbox; emails stay in the outbox");
            return;
        }
    };
    loop {
        match db.claim_unsent(20).await {
            Ok(batch) => {
                for email in batch {
                    let result = send(&transport, &from, &email).await;
                    if let Err(e) = &result {
                        tracing::warn!(id = %email.id, error = %e, "sending a confirmation email failed; will retry");
                    } else {
                        tracing::info!(id = %email.id, "confirmation email sent");
                    }
                    if let Err(e) = db.mark_sent(&email.id, result.err().as_deref()).await {
                        tracing::error!(error = %e, "cannot record an email as sent");
                    }
                }
            }
            Err(e) => tracing::error!(error = %e, "cannot read the outbox"),
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(Duration::from_secs(15)) => {}
            _ = stop.notified() => return,
        }
    }
}

async fn send(
    transport: &AsyncSmtpTransport<Tokio1Executor>,
    from: &Mailbox,
    email: &OutboxEmail,
) -> Result<(), String> {
    let to: Mailbox = email.to.parse().map_err(|e| format!("recipient: {e}"))?;
    let message = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(email.subject.clone())
        .header(ContentType::TEXT_PLAIN)
        .body(email.body.clone())
        .map_err(|e| format!("message: {e}"))?;
    transport
        .send(message)
        .await
        .map(|_| ())
        .map_err(|e| format!("smtp: {e}"))
}
