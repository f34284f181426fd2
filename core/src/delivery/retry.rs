//! The retry policy, as pure logic: which outcomes are worth sending again, how long to wait
//! before each attempt (exponential back-off with jitter, or the server's `Retry-After`), and when
//! to stop and either keep the submission for later or show the failure.
//!
//! The widget owns the clock and the random numbers; this module only decides. Every retry of a
//! submission reuses its idempotency key, so a retry that crosses a request the server did
//! receive subscribes nobody twice.

use crate::signup::Outcome;

/// What to do after an attempt ended in an outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Send the same submission again after this many milliseconds.
    Retry {
        /// The wait before the next attempt.
        delay_ms: u32,
    },
    /// Stop retrying now, keep the signup in the browser's queue ([`crate::pending`]) and tell
    /// the reader it will be sent later: offline, or every attempt spent without an answer
    /// ([`is_queueable`]).
    Queue,
    /// Stop and show this outcome: the attempt's own (success, a field error, a refusal the
    /// reader cannot fix by waiting, a failure that keeps failing), or [`Outcome::MaybeSent`] for
    /// an unanswered request to a service that must not get a repeat ([`unrepeatable`]).
    Finish(Outcome),
}

/// How retries are paced and bounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (at least 1).
    pub max_attempts: u32,
    /// The back-off before the second attempt, in milliseconds; it doubles for each one after.
    pub base_delay_ms: u32,
    /// No back-off is longer than this.
    pub max_delay_ms: u32,
    /// A `Retry-After` longer than this is not waited for in the page: the reader is shown it.
    pub max_retry_after_secs: u32,
    /// The service may be sent the same signup again after an unanswered request
    /// ([`crate::delivery::Adapter::repeats_safely`]): true for the Letterbox contract, which
    /// honours the idempotency key.
    pub repeats_safely: bool,
}

impl Default for RetryPolicy {
    /// Four attempts, 1 s → 2 s → 4 s (each with jitter), waits of up to 30 s honoured.
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 4,
            base_delay_ms: 1_000,
            max_delay_ms: 10_000,
            max_retry_after_secs: 30,
            repeats_safely: true,
        }
    }
}

/// True for outcomes that may go away by themselves: no answer, a timeout, 429 and 5xx (except
/// 501 Not Implemented, which will not). Never for answers that mean the input or the setup is
/// wrong, and never for success.
///
/// ```
/// use letterbox_core::delivery::retry::is_retryable;
/// use letterbox_core::signup::Outcome;
/// assert!(is_retryable(&Outcome::ServerError { status: 503 }));
/// assert!(!is_retryable(&Outcome::Rejected { status: 400, message: None }));
/// ```
pub fn is_retryable(outcome: &Outcome) -> bool {
    match outcome {
        Outcome::NetworkError
        | Outcome::Timeout
        | Outcome::Unreached
        | Outcome::RateLimited { .. } => true,
        Outcome::ServerError { status } => *status != 501,
        Outcome::Subscribed
        | Outcome::PendingConfirmation
        | Outcome::AlreadySubscribed
        | Outcome::FieldError { .. }
        | Outcome::Rejected { .. }
        | Outcome::RejectedAsSpam
        | Outcome::ChallengeFailed { .. }
        | Outcome::ConfigurationError { .. }
        | Outcome::MaybeSent
        | Outcome::Queued => false,
    }
}

/// The outcome to show instead of `outcome` when the request may have reached a service that
/// must not get it twice: a timeout (the service may still be working on it), or no answer while
/// the browser says it is online (the connection may have dropped after the request was sent).
/// `None` when `outcome` can be repeated or kept for later. Offline, a request never left, so
/// keeping it is safe.
///
/// ```
/// use letterbox_core::delivery::retry::unrepeatable;
/// use letterbox_core::signup::Outcome;
/// assert_eq!(unrepeatable(&Outcome::Timeout, true, false), Some(Outcome::MaybeSent));
/// assert_eq!(unrepeatable(&Outcome::NetworkError, false, false), None);
/// assert_eq!(unrepeatable(&Outcome::Timeout, true, true), None);
/// ```
pub fn unrepeatable(outcome: &Outcome, online: bool, repeats_safely: bool) -> Option<Outcome> {
    match outcome {
        _ if repeats_safely => None,
        Outcome::Timeout => Some(Outcome::MaybeSent),
        Outcome::NetworkError if online => Some(Outcome::MaybeSent),
        _ => None,
    }
}

/// True for outcomes worth keeping for a later page view when the page cannot finish them: no
/// answer or a timeout, so the signup never reached the service (the reader is probably
/// offline). This is the one queueing rule. A rate limit is never queued: the service did
/// answer, and the reader gets its honest "Try again in N seconds" and their own Try again; a
/// 5xx that keeps failing is shown with Try again too.
///
/// ```
/// use letterbox_core::delivery::retry::is_queueable;
/// use letterbox_core::signup::Outcome;
/// assert!(is_queueable(&Outcome::Timeout));
/// assert!(!is_queueable(&Outcome::RateLimited { retry_after_secs: Some(600) }));
/// ```
pub fn is_queueable(outcome: &Outcome) -> bool {
    matches!(
        outcome,
        Outcome::NetworkError | Outcome::Timeout | Outcome::Unreached
    )
}

impl RetryPolicy {
    /// The back-off before attempt `next_attempt` (2 for the first retry), with "equal jitter":
    /// half of the exponential delay is fixed and the other half scaled by `random`, a number in
    /// `[0, 1]` from the widget (`Math.random()`; out-of-range or NaN is clamped).
    ///
    /// ```
    /// use letterbox_core::delivery::retry::RetryPolicy;
    /// let p = RetryPolicy::default();
    /// assert_eq!(p.backoff_ms(2, 0.0), 500);
    /// assert_eq!(p.backoff_ms(2, 1.0), 1_000);
    /// assert_eq!(p.backoff_ms(3, 1.0), 2_000);
    /// assert_eq!(p.backoff_ms(30, 1.0), 10_000);
    /// ```
    pub fn backoff_ms(&self, next_attempt: u32, random: f64) -> u32 {
        let doublings = next_attempt.saturating_sub(2).min(31);
        let full = u64::from(self.base_delay_ms)
            .saturating_mul(1u64 << doublings)
            .min(u64::from(self.max_delay_ms));
        let random = if random.is_nan() {
            0.5
        } else {
            random.clamp(0.0, 1.0)
        };
        let half = full / 2;
        // `half` fits in u32 and `random <= 1`, so the product does too.
        let jitter = (half as f64 * random) as u64;
        u32::try_from(full - half + jitter).unwrap_or(u32::MAX)
    }

    /// What to do after attempt number `attempts_made` (1 for the first) ended in `outcome`.
    /// `online` is `navigator.onLine`; `random` feeds the jitter.
    ///
    /// ```
    /// use letterbox_core::delivery::retry::{Decision, RetryPolicy};
    /// use letterbox_core::signup::Outcome;
    /// let p = RetryPolicy::default();
    /// assert_eq!(p.decide(&Outcome::NetworkError, 1, true, 1.0), Decision::Retry { delay_ms: 1_000 });
    /// assert_eq!(p.decide(&Outcome::NetworkError, 4, true, 1.0), Decision::Queue);
    /// assert_eq!(p.decide(&Outcome::NetworkError, 1, false, 1.0), Decision::Queue);
    /// assert_eq!(p.decide(&Outcome::Subscribed, 1, true, 1.0), Decision::Finish(Outcome::Subscribed));
    /// ```
    pub fn decide(
        &self,
        outcome: &Outcome,
        attempts_made: u32,
        online: bool,
        random: f64,
    ) -> Decision {
        if let Some(shown) = unrepeatable(outcome, online, self.repeats_safely) {
            return Decision::Finish(shown);
        }
        if !is_retryable(outcome) {
            return Decision::Finish(outcome.clone());
        }
        let spent = attempts_made >= self.max_attempts.max(1);
        if !online || spent {
            return if is_queueable(outcome) {
                Decision::Queue
            } else {
                Decision::Finish(outcome.clone())
            };
        }
        match outcome {
            Outcome::RateLimited {
                retry_after_secs: Some(secs),
            } if *secs > self.max_retry_after_secs => Decision::Finish(outcome.clone()),
            Outcome::RateLimited {
                retry_after_secs: Some(secs),
            } => Decision::Retry {
                delay_ms: secs.saturating_mul(1_000),
            },
            _ => Decision::Retry {
                delay_ms: self.backoff_ms(attempts_made + 1, random),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signup::FieldName;

    #[test]
    fn input_errors_successes_spam_and_setup_errors_are_never_retried() {
        let never = [
            Outcome::Subscribed,
            Outcome::PendingConfirmation,
            Outcome::AlreadySubscribed,
            Outcome::FieldError {
                field: FieldName::Email,
                message: "x".into(),
            },
            Outcome::Rejected {
                status: 400,
                message: None,
            },
            Outcome::Rejected {
                status: 422,
                message: Some("x".into()),
            },
            Outcome::RejectedAsSpam,
            Outcome::ChallengeFailed {
                message: "threw".into(),
            },
            Outcome::ConfigurationError {
                message: "x".into(),
            },
            Outcome::ServerError { status: 501 },
        ];
        let p = RetryPolicy::default();
        for outcome in never {
            assert!(!is_retryable(&outcome), "{outcome:?}");
            let shown = Decision::Finish(outcome.clone());
            assert_eq!(p.decide(&outcome, 1, true, 0.5), shown);
            assert_eq!(p.decide(&outcome, 1, false, 0.5), shown);
        }
    }

    #[test]
    fn network_errors_timeouts_5xx_and_429_are_retried() {
        let p = RetryPolicy::default();
        for outcome in [
            Outcome::NetworkError,
            Outcome::Timeout,
            Outcome::ServerError { status: 500 },
            Outcome::ServerError { status: 503 },
            Outcome::RateLimited {
                retry_after_secs: None,
            },
        ] {
            assert!(matches!(
                p.decide(&outcome, 1, true, 0.5),
                Decision::Retry { .. }
            ));
        }
    }

    #[test]
    fn retry_after_is_honoured_exactly_and_long_waits_are_shown_not_queued() {
        let p = RetryPolicy::default();
        let wait = |secs| Outcome::RateLimited {
            retry_after_secs: Some(secs),
        };
        assert_eq!(
            p.decide(&wait(7), 1, true, 0.0),
            Decision::Retry { delay_ms: 7_000 }
        );
        assert_eq!(
            p.decide(&wait(30), 2, true, 0.9),
            Decision::Retry { delay_ms: 30_000 }
        );
        assert_eq!(
            p.decide(&wait(31), 1, true, 0.9),
            Decision::Finish(wait(31))
        );
        assert_eq!(
            p.decide(&wait(u32::MAX), 1, true, 0.9),
            Decision::Finish(wait(u32::MAX))
        );
        assert_eq!(
            p.decide(&wait(7), 4, true, 0.9),
            Decision::Finish(wait(7)),
            "a rate limit on the last attempt is shown, not queued"
        );
        assert_eq!(p.decide(&wait(7), 1, false, 0.9), Decision::Finish(wait(7)));
    }

    #[test]
    fn attempts_are_bounded_and_the_last_failure_is_queued_or_shown() {
        let p = RetryPolicy::default();
        let mut attempts = 0;
        loop {
            attempts += 1;
            match p.decide(&Outcome::Timeout, attempts, true, 0.3) {
                Decision::Retry { .. } => assert!(attempts < 4),
                Decision::Queue => break,
                Decision::Finish(_) => panic!("a timeout is queued, not dropped"),
            }
        }
        assert_eq!(attempts, 4);
        assert_eq!(
            p.decide(&Outcome::ServerError { status: 500 }, 4, true, 0.3),
            Decision::Finish(Outcome::ServerError { status: 500 }),
            "a server that keeps failing is shown, with Try again"
        );
        let once = RetryPolicy {
            max_attempts: 0,
            ..RetryPolicy::default()
        };
        assert_eq!(
            once.decide(&Outcome::NetworkError, 1, true, 0.3),
            Decision::Queue
        );
    }

    #[test]
    fn a_service_without_idempotency_is_never_sent_an_unanswered_request_again() {
        let p = RetryPolicy {
            repeats_safely: false,
            ..RetryPolicy::default()
        };
        // It may have sent the reader an email already: no retry, no queue, say so.
        for outcome in [Outcome::Timeout, Outcome::NetworkError] {
            assert_eq!(
                p.decide(&outcome, 1, true, 0.3),
                Decision::Finish(Outcome::MaybeSent),
                "{outcome:?}"
            );
        }
        assert_eq!(
            p.decide(&Outcome::Timeout, 1, false, 0.3),
            Decision::Finish(Outcome::MaybeSent),
            "a timeout may have been sent before the connection went"
        );
        // Offline, nothing left the browser: keeping it is safe.
        assert_eq!(
            p.decide(&Outcome::NetworkError, 1, false, 0.3),
            Decision::Queue
        );
        // A refusal was an answer: retried as for any service.
        assert!(matches!(
            p.decide(&Outcome::ServerError { status: 503 }, 1, true, 0.3),
            Decision::Retry { .. }
        ));
        assert!(matches!(
            p.decide(
                &Outcome::RateLimited {
                    retry_after_secs: Some(2)
                },
                1,
                true,
                0.3
            ),
            Decision::Retry { .. }
        ));
    }

    #[test]
    fn an_unanswered_read_before_the_signup_is_retried_and_kept_at_any_service() {
        let p = RetryPolicy {
            repeats_safely: false,
            ..RetryPolicy::default()
        };
        assert!(matches!(
            p.decide(&Outcome::Unreached, 1, true, 0.3),
            Decision::Retry { .. }
        ));
        assert_eq!(p.decide(&Outcome::Unreached, 4, true, 0.3), Decision::Queue);
        assert_eq!(unrepeatable(&Outcome::Unreached, true, false), None);
    }

    #[test]
    fn offline_readers_are_queued_at_once() {
        let p = RetryPolicy::default();
        assert_eq!(
            p.decide(&Outcome::NetworkError, 1, false, 0.3),
            Decision::Queue
        );
        assert_eq!(
            p.decide(&Outcome::ServerError { status: 502 }, 1, false, 0.3),
            Decision::Finish(Outcome::ServerError { status: 502 })
        );
    }

    #[test]
    fn backoff_doubles_with_jitter_inside_its_bounds_and_is_capped() {
        let p = RetryPolicy::default();
        for attempt in 2..10 {
            let full = (1_000u32 << (attempt - 2)).min(10_000);
            let low = p.backoff_ms(attempt, 0.0);
            let high = p.backoff_ms(attempt, 1.0);
            assert_eq!(high, full, "attempt {attempt}");
            assert_eq!(low, full - full / 2);
            let mid = p.backoff_ms(attempt, 0.37);
            assert!(low <= mid && mid <= high);
        }
        assert_eq!(p.backoff_ms(2, f64::NAN), 750);
        assert_eq!(p.backoff_ms(2, -3.0), 500);
        assert_eq!(p.backoff_ms(2, 7.0), 1_000);
        assert_eq!(p.backoff_ms(u32::MAX, 1.0), 10_000);
        assert_eq!(
            p.backoff_ms(0, 1.0),
            1_000,
            "attempt numbers below 2 use the base delay"
        );
        let huge = RetryPolicy {
            base_delay_ms: u32::MAX,
            max_delay_ms: u32::MAX,
            ..RetryPolicy::default()
        };
        assert_eq!(huge.backoff_ms(40, 1.0), u32::MAX);
    }
}
