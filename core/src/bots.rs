//! Telling bots from readers without punishing readers: a honeypot field that people, screen
//! readers and autofill never fill, and a minimum time between the form appearing and its
//! submission.
//!
//! With `"bots": "drop"` (the default) a bot-looking submission is not sent and gets the same
//! visible success as a real one, so a bot learns nothing. With `"bots": "flag"` every submission
//! is sent with its [`Signals`] (`"honeypot"` and `"fill_ms"` in the JSON body) and the server
//! decides; the reference receiver checks them. The threshold is deliberately low: a real reader
//! judged a bot would lose their signup without knowing.

/// What the widget observed about one submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signals {
    /// The honeypot field's text (empty for people).
    pub honeypot: String,
    /// Milliseconds between the form appearing and the submission.
    pub fill_ms: u64,
}

/// What to do with bot-looking submissions (`"bots"` in the configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BotPolicy {
    /// Do not send them; show the usual success.
    #[default]
    Drop,
    /// Send every submission with its signals and let the server decide.
    Flag,
}

/// The default minimum time between the form appearing and a submission.
pub const DEFAULT_MIN_FILL_MS: u32 = 1_000;

/// True when the signals look like a bot: the honeypot has text, or the form was submitted
/// faster than `min_fill_ms` after it appeared (0 turns the time check off).
///
/// ```
/// use letterbox_core::bots::{looks_like_a_bot, Signals};
/// assert!(looks_like_a_bot(&Signals { honeypot: "http://spam.example".into(), fill_ms: 9_000 }, 1_000));
/// assert!(!looks_like_a_bot(&Signals { honeypot: String::new(), fill_ms: 4_200 }, 1_000));
/// ```
pub fn looks_like_a_bot(signals: &Signals, min_fill_ms: u32) -> bool {
    !signals.honeypot.trim().is_empty() || signals.fill_ms < u64::from(min_fill_ms)
}

/// What to do with one submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Send it, with the signals when the site wants them in the request (`"bots": "flag"`).
    Send(Option<Signals>),
    /// Do not send it; the reader sees the usual success (`"bots": "drop"` and it looks like a
    /// bot).
    Drop,
}

/// The verdict on a submission with these `signals` under the slot's `policy`.
///
/// ```
/// use letterbox_core::bots::{verdict, BotPolicy, Signals, Verdict};
/// let fast = Signals { honeypot: String::new(), fill_ms: 200 };
/// assert_eq!(verdict(fast.clone(), 1_000, BotPolicy::Drop), Verdict::Drop);
/// assert_eq!(verdict(fast.clone(), 1_000, BotPolicy::Flag), Verdict::Send(Some(fast)));
/// ```
pub fn verdict(signals: Signals, min_fill_ms: u32, policy: BotPolicy) -> Verdict {
    match policy {
        BotPolicy::Flag => Verdict::Send(Some(signals)),
        BotPolicy::Drop if looks_like_a_bot(&signals, min_fill_ms) => Verdict::Drop,
        BotPolicy::Drop => Verdict::Send(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(honeypot: &str, fill_ms: u64) -> Signals {
        Signals {
            honeypot: honeypot.into(),
            fill_ms,
        }
    }

    #[test]
    fn a_filled_honeypot_is_a_bot_however_slow() {
        assert!(looks_like_a_bot(&s("x", 60_000), 1_000));
    }

    #[test]
    fn a_submission_faster_than_the_minimum_is_a_bot_and_at_the_minimum_a_reader() {
        assert!(looks_like_a_bot(&s("", 999), 1_000));
        assert!(!looks_like_a_bot(&s("", 1_000), 1_000));
        assert!(
            !looks_like_a_bot(&s("  ", 5_000), 1_000),
            "whitespace is not text"
        );
    }

    #[test]
    fn dropping_sends_readers_without_signals_and_flagging_sends_everyone_with_them() {
        let reader = s("", 4_000);
        let bot = s("http://spam.example", 4_000);
        assert_eq!(
            verdict(reader.clone(), 1_000, BotPolicy::Drop),
            Verdict::Send(None)
        );
        assert_eq!(verdict(bot.clone(), 1_000, BotPolicy::Drop), Verdict::Drop);
        assert_eq!(
            verdict(bot.clone(), 1_000, BotPolicy::Flag),
            Verdict::Send(Some(bot))
        );
        assert_eq!(
            verdict(reader.clone(), 1_000, BotPolicy::Flag),
            Verdict::Send(Some(reader))
        );
    }

    #[test]
    fn a_minimum_of_zero_turns_the_time_check_off() {
        assert!(!looks_like_a_bot(&s("", 0), 0));
    }
}
