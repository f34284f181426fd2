//! Message catalogues: every word the widget shows, in English and Ukrainian, and the site's
//! overrides of them.
//!
//! Wording follows the design guide: say what to do ("Enter your email address"), no "please",
//! "sorry", "valid/invalid" or "this field is required". Summary and inline errors use the same
//! entry. Placeholders are written `{name}` and filled by [`Catalogue::format`].

use crate::email::EmailError;

/// A language the widget has a catalogue for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    /// English (the fallback).
    #[default]
    En,
    /// Ukrainian.
    Uk,
}

impl Lang {
    /// Every supported language.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Uk];

    /// The language for a BCP 47 tag such as `uk`, `uk-UA` or `en-GB`, by its primary subtag;
    /// `None` for a language without a catalogue.
    ///
    /// ```
    /// use letterbox_core::messages::Lang;
    /// assert_eq!(Lang::from_tag("uk-UA"), Some(Lang::Uk));
    /// assert_eq!(Lang::from_tag("de"), None);
    /// ```
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next().unwrap_or("");
        match primary.to_ascii_lowercase().as_str() {
            "en" => Some(Lang::En),
            "uk" => Some(Lang::Uk),
            _ => None,
        }
    }

    /// The BCP 47 tag sent as the submission's `locale`.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Uk => "uk",
        }
    }
}

macro_rules! keys {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal, en: $en:literal, uk: $uk:literal; )*) => {
        /// One entry of the catalogue. Its [`Key::name`] is what a site writes in `texts` to
        /// override it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Key {
            $( $(#[$doc])* $variant, )*
        }

        impl Key {
            /// Every key, in catalogue order.
            pub const ALL: &'static [Key] = &[$(Key::$variant),*];

            /// The snake_case name used in a config's `texts` object.
            pub fn name(self) -> &'static str {
                match self { $(Key::$variant => $name,)* }
            }

            /// The key with this `texts` name.
            pub fn from_name(name: &str) -> Option<Key> {
                match name { $($name => Some(Key::$variant),)* _ => None }
            }

            /// The built-in text in `lang`.
            pub fn default_text(self, lang: Lang) -> &'static str {
                match (self, lang) {
                    $((Key::$variant, Lang::En) => $en, (Key::$variant, Lang::Uk) => $uk,)*
                }
            }
        }
    };
}

keys! {
    /// Legend of the newsletter fieldset.
    Legend = "legend",
        en: "Choose your newsletters",
        uk: "Оберіть розсилки";
    /// Hint under the legend.
    LegendHint = "legend_hint",
        en: "Select all that you want.",
        uk: "Позначте всі, які хочете отримувати.";
    /// Label of the email field.
    EmailLabel = "email_label",
        en: "Email address",
        uk: "Електронна пошта";
    /// Hint of the email field when several newsletters are offered.
    EmailHint = "email_hint",
        en: "We’ll only use this to send you the newsletters you choose.",
        uk: "Ми використаємо її лише для того, щоб надсилати вам обрані розсилки.";
    /// Hint of the email field when one newsletter is offered; `{newsletter}` is its name.
    EmailHintSingle = "email_hint_single",
        en: "We’ll only use this to send you {newsletter}.",
        uk: "Ми використаємо її лише для того, щоб надсилати вам {newsletter}.";
    /// The submit button.
    Submit = "submit",
        en: "Sign up",
        uk: "Підписатися";
    /// Visually hidden after the email label, so each slot's field names what it signs up to;
    /// `{subject}` is the slot's title or its newsletters' names.
    EmailLabelFor = "email_label_for",
        en: " for {subject}",
        uk: " для {subject}";
    /// Visually hidden after the button's label; `{subject}` as above.
    SubmitFor = "submit_for",
        en: " to {subject}",
        uk: " на {subject}";
    /// The submit button's label while a signup is being sent (repeat submits are ignored).
    SubmitBusy = "submit_busy",
        en: "Sending…",
        uk: "Надсилаємо…";
    /// Announced while a signup is being sent.
    Sending = "sending",
        en: "Sending your signup…",
        uk: "Надсилаємо вашу підписку…";
    /// Heading of the error summary.
    ErrorSummaryTitle = "error_summary_title",
        en: "There is a problem",
        uk: "Виникла проблема";
    /// Visually hidden prefix of each inline error, read by screen readers.
    ErrorPrefix = "error_prefix",
        en: "Error:",
        uk: "Помилка:";
    /// Nothing was entered.
    EmailEmpty = "email_empty",
        en: "Enter your email address",
        uk: "Введіть адресу електронної пошти";
    /// No `@`.
    EmailMissingAt = "email_missing_at",
        en: "Enter an email address with an @, like name@example.com",
        uk: "Введіть адресу електронної пошти із символом @, наприклад name@example.com";
    /// More than one `@`.
    EmailMultipleAt = "email_multiple_at",
        en: "Enter an email address with only one @, like name@example.com",
        uk: "Введіть адресу електронної пошти лише з одним символом @, наприклад name@example.com";
    /// Nothing before the `@`.
    EmailLocalPartEmpty = "email_local_part_empty",
        en: "Enter the part of your email address before the @, like name@example.com",
        uk: "Введіть частину адреси перед @, наприклад name@example.com";
    /// More than 64 characters before the `@`.
    EmailLocalPartTooLong = "email_local_part_too_long",
        en: "Enter 64 characters or fewer before the @",
        uk: "Введіть не більше ніж 64 символи перед @";
    /// Characters or dots that cannot stand before the `@`.
    EmailLocalPartInvalid = "email_local_part_invalid",
        en: "Enter the part before the @ without spaces or accented letters, and without a dot at its start or end or two dots in a row",
        uk: "Введіть частину перед @ без пробілів і літер кирилиці чи з діакритикою, без крапки на початку чи в кінці та без двох крапок поспіль";
    /// Nothing after the `@`.
    EmailDomainEmpty = "email_domain_empty",
        en: "Enter the part of your email address after the @, like example.com",
        uk: "Введіть частину адреси після @, наприклад example.com";
    /// A single-label domain.
    EmailDomainIncomplete = "email_domain_incomplete",
        en: "Enter the full domain after the @, like example.com",
        uk: "Введіть повний домен після @, наприклад example.com";
    /// A malformed domain.
    EmailDomainInvalid = "email_domain_invalid",
        en: "Enter the part after the @ in the correct format, like example.com",
        uk: "Введіть частину після @ у правильному форматі, наприклад example.com";
    /// The whole address is too long.
    EmailTooLong = "email_too_long",
        en: "Enter an email address of 254 characters or fewer",
        uk: "Введіть адресу електронної пошти довжиною не більше ніж 254 символи";
    /// No newsletter was chosen.
    NewslettersNone = "newsletters_none",
        en: "Select at least one newsletter",
        uk: "Оберіть принаймні одну розсилку";
    /// The slot asks for consent and its box is not ticked.
    ConsentMissing = "consent_missing",
        en: "Tick the box to agree before you sign up",
        uk: "Позначте згоду, щоб підписатися";
    /// A required text field is empty; `{field}` is its label.
    FieldMissing = "field_missing",
        en: "Enter your {field}",
        uk: "Заповніть поле «{field}»";
    /// A required choice (radio group or list) has nothing chosen; `{field}` is its label.
    FieldChoose = "field_choose",
        en: "Choose an option for {field}",
        uk: "Оберіть варіант у полі «{field}»";
    /// After the label of a field that may be left empty.
    FieldOptional = "field_optional",
        en: "(optional)",
        uk: "(необов’язково)";
    /// The newsletters of a signup that chose none of the optional ones (the list alone).
    NewsletterFallback = "newsletter_fallback",
        en: "our newsletter",
        uk: "нашу розсилку";
    /// The privacy-policy link's text, unless the site gives its own.
    PrivacyLink = "privacy_link",
        en: "Privacy policy",
        uk: "Політика конфіденційності";
    /// Read by screen readers after a link that opens in a new tab.
    NewTab = "new_tab",
        en: "(opens in a new tab)",
        uk: "(відкриється в новій вкладці)";
    /// A typo suggestion; `{email}` is the suggested address.
    SuggestionText = "suggestion_text",
        en: "Did you mean {email}?",
        uk: "Можливо, ви мали на увазі {email}?";
    /// The button that applies a suggestion; `{email}` is the suggested address.
    SuggestionApply = "suggestion_apply",
        en: "Use {email}",
        uk: "Використати {email}";
    /// Success heading when the reader must confirm by email.
    PendingTitle = "pending_title",
        en: "Check your inbox",
        uk: "Перевірте свою пошту";
    /// Success text when the reader must confirm; `{email}`, `{newsletters}`.
    PendingBody = "pending_body",
        en: "We’ve sent an email to {email}. Open the link in it to confirm your subscription to {newsletters}.",
        uk: "Ми надіслали лист на {email}. Відкрийте посилання в ньому, щоб підтвердити підписку на {newsletters}.";
    /// Success text for a Ghost site; `{email}`, `{newsletters}`. Ghost answers a new reader
    /// and an existing member alike (`201`), but emails an existing member a sign-in link and
    /// adds no newsletter to them (Ghost 6.65 `members-api`: `sendEmailWithMagicLink` switches
    /// to `signin` for a member, `getMemberDataFromMagicLinkToken` ignores the token's
    /// newsletters for one), so the text says both.
    GhostPendingBody = "ghost_pending_body",
        en: "We’ve sent an email to {email}. If you’re new here, open the link in it to confirm your subscription to {newsletters}. If you already have an account, the email signs you in instead: choose {newsletters} in your account.",
        uk: "Ми надіслали лист на {email}. Якщо ви тут уперше, відкрийте посилання в ньому, щоб підтвердити підписку на {newsletters}. Якщо у вас уже є обліковий запис, лист натомість допоможе увійти: оберіть {newsletters} у своєму обліковому записі.";
    /// Success heading when the subscription is active.
    SubscribedTitle = "subscribed_title",
        en: "You’re subscribed",
        uk: "Ви підписалися";
    /// Success text when the subscription is active; `{email}`, `{newsletters}`.
    SubscribedBody = "subscribed_body",
        en: "We’ll send {newsletters} to {email}.",
        uk: "Ми надсилатимемо {newsletters} на {email}.";
    /// Heading when the service says the address was already subscribed. By default it does
    /// not say so: anyone can type an address, and what an address receives is its owner's
    /// business (a site that wants to tell overrides this and `already_body`).
    AlreadyTitle = "already_title",
        en: "Thank you for signing up",
        uk: "Дякуємо за підписку";
    /// Text when the service says the address was already subscribed; `{email}`,
    /// `{newsletters}`. By default it does not reveal that it was.
    AlreadyBody = "already_body",
        en: "If {email} does not already get {newsletters}, look in its inbox for an email to confirm.",
        uk: "Якщо на {email} ще не надходять {newsletters}, знайдіть у скриньці лист для підтвердження.";
    /// Heading of the failure panel.
    FailureTitle = "failure_title",
        en: "Your signup was not sent",
        uk: "Вашу підписку не надіслано";
    /// The endpoint could not be reached.
    FailureNetwork = "failure_network",
        en: "We could not reach the newsletter service. Check your internet connection, then try again.",
        uk: "Не вдалося зв’язатися із сервісом розсилок. Перевірте підключення до інтернету й спробуйте ще раз.";
    /// The endpoint took longer than the timeout.
    FailureTimeout = "failure_timeout",
        en: "The newsletter service took too long to answer. Try again in a moment.",
        uk: "Сервіс розсилок не відповів вчасно. Спробуйте ще раз за хвилину.";
    /// No answer from a service that sends an email for every request: it may have the signup.
    FailureMaybeSent = "failure_maybe_sent",
        en: "The newsletter service did not answer, and it may already have your signup. Check your inbox for an email from it before you try again.",
        uk: "Сервіс розсилок не відповів, але, можливо, уже отримав вашу підписку. Перевірте поштову скриньку, перш ніж пробувати ще раз.";
    /// The endpoint answered with a server error.
    FailureServer = "failure_server",
        en: "The newsletter service has a problem at the moment. Try again in a few minutes.",
        uk: "Сервіс розсилок зараз має проблему. Спробуйте ще раз за кілька хвилин.";
    /// Too many attempts; `{wait}` is what is left of the wait the server asked for, counting
    /// down ("2 minutes", "45 seconds"); `{seconds}` the whole wait in seconds.
    FailureRateLimited = "failure_rate_limited",
        en: "Too many signups were sent from here. Try again in {wait}.",
        uk: "Звідси надіслано забагато підписок. Спробуйте ще раз через {wait}.";
    /// The server's wait is over.
    FailureRateLimitedOver = "failure_rate_limited_over",
        en: "Too many signups were sent from here. You can try again now.",
        uk: "Звідси надіслано забагато підписок. Тепер можна спробувати ще раз.";
    /// While an attempt that got no answer (or a short rate limit) waits to be sent again: `{wait}`
    /// counts down ("3 seconds"), shown under the button; the polite announcement says it once.
    RetryWaiting = "retry_waiting",
        en: "Not sent yet. Trying again in {wait}.",
        uk: "Ще не надіслано. Пробуємо ще раз через {wait}.";
    /// A wait of `{n}` minutes (more than one).
    WaitMinutes = "wait_minutes",
        en: "{n} minutes",
        uk: "{n} хв";
    /// A wait of one minute.
    WaitMinute = "wait_minute",
        en: "1 minute",
        uk: "1 хв";
    /// A wait of `{n}` seconds (more than one).
    WaitSeconds = "wait_seconds",
        en: "{n} seconds",
        uk: "{n} с";
    /// A wait of one second.
    WaitSecond = "wait_second",
        en: "1 second",
        uk: "1 с";
    /// Too many attempts, no wait given.
    FailureRateLimitedNoWait = "failure_rate_limited_no_wait",
        en: "Too many signups were sent from here. Try again in a few minutes.",
        uk: "Звідси надіслано забагато підписок. Спробуйте ще раз за кілька хвилин.";
    /// The endpoint refused the signup in a way the reader cannot fix (e.g. 403, 404).
    FailureRejected = "failure_rejected",
        en: "The newsletter service did not accept this signup.",
        uk: "Сервіс розсилок не прийняв цю підписку.";
    /// The service turned the signup away as likely spam.
    FailureSpam = "failure_spam",
        en: "The newsletter service treated this signup as automated and did not accept it. Try again in a few minutes.",
        uk: "Сервіс розсилок сприйняв цю підписку як автоматичну й не прийняв її. Спробуйте ще раз за кілька хвилин.";
    /// The site's challenge provider (Turnstile, hCaptcha, proof of work) gave no token, so
    /// nothing was sent.
    FailureChallenge = "failure_challenge",
        en: "We could not check that this signup comes from a person, so it was not sent. Try again.",
        uk: "Не вдалося перевірити, що підписку надсилає людина, тож її не надіслано. Спробуйте ще раз.";
    /// The site's delivery setup is wrong; the details go to the console, not the reader.
    FailureConfiguration = "failure_configuration",
        en: "This signup form cannot send signups at the moment. Try again later.",
        uk: "Ця форма зараз не може надсилати підписки. Спробуйте пізніше.";
    /// The submit button's label after a failure that sending again may mend.
    TryAgain = "try_again",
        en: "Try again",
        uk: "Спробувати ще раз";
    /// Heading shown instead of the form when the slot's configuration is broken.
    ConfigErrorTitle = "config_error_title",
        en: "This signup form is not available",
        uk: "Ця форма підписки недоступна";
    /// The same for a goal slot, which has no form.
    GoalConfigErrorTitle = "goal_config_error_title",
        en: "This membership goal is not available",
        uk: "Ця мета щодо кількості учасників недоступна";
    /// Heading when the submission waits in the browser to be sent.
    QueuedTitle = "queued_title",
        en: "Your signup will be sent later",
        uk: "Вашу підписку буде надіслано пізніше";
    /// Text when the submission waits; `{email}`, `{newsletters}`.
    QueuedBody = "queued_body",
        en: "We could not reach the newsletter service just now. We’ll send your signup for {newsletters} with {email} automatically: on this page when your connection is back, or the next time you visit this site.",
        uk: "Зараз не вдалося зв’язатися із сервісом розсилок. Ми автоматично надішлемо вашу підписку на {newsletters} для {email}: на цій сторінці, коли відновиться зв’язок, або під час наступного відвідування сайту.";
    /// The button that withdraws a waiting submission.
    Withdraw = "withdraw",
        en: "Do not send it",
        uk: "Не надсилати";
    /// Shown (and announced) above the form after the reader withdrew a waiting submission.
    WithdrawnNote = "withdrawn_note",
        en: "Your signup was not sent. You can sign up again here.",
        uk: "Вашу підписку не надіслано. Ви можете підписатися знову тут.";
    /// Shown instead of the form when every newsletter of the slot is already subscribed in this
    /// browser; `{newsletters}`.
    RememberedAll = "remembered_all",
        en: "You’re signed up to {newsletters}.",
        uk: "Ви підписані на {newsletters}.";
    /// Shown above the form when some of its newsletters are already subscribed; `{newsletters}`.
    RememberedSome = "remembered_some",
        en: "You’re already signed up to {newsletters}.",
        uk: "Ви вже підписані на {newsletters}.";
    /// The word joining the last two items of a list ("A, B and C").
    ListAnd = "list_and",
        en: "and",
        uk: "та";
    /// A goal slot's heading when the site gives no `label`; `{goal}` is the goal, `{unit}` the
    /// word counted, in the form that agrees with the number just before it.
    GoalLabel = "goal_label",
        en: "Help us reach {goal} {unit}",
        uk: "Наша мета — {goal} {unit}";
    /// A goal slot's count: "12,345 of 20,000 members"; `{unit}` agrees with the number just
    /// before it (the goal in English, the count in Ukrainian: «12 345 учасників із 20 000»).
    GoalCount = "goal_count",
        en: "{count} of {goal} {unit}",
        uk: "{count} {unit} із {goal}";
    /// What a goal slot counts, in its plural forms separated by `|`: one and other in
    /// English; one, few and many in Ukrainian (1 учасник, 2 учасники, 5 учасників).
    GoalUnit = "goal_unit",
        en: "member|members",
        uk: "учасник|учасники|учасників";
    /// A signup slot's `social_proof` line: "Join 48,000 readers"; `{unit}` as above.
    SocialProof = "social_proof",
        en: "Join {count} {unit}",
        uk: "Приєднуйтеся до {count} {unit}";
    /// What `social_proof` counts, in its plural forms (after «до», the genitive: 1 читача,
    /// 2 читачів, 5 читачів, 21 читача).
    SocialProofUnit = "social_proof_unit",
        en: "reader|readers",
        uk: "читача|читачів|читачів";
}

/// The plural category of `n` in `lang`, as an index into a text's `|`-separated forms: English
/// 0 (one) or 1 (other); Ukrainian 0 (one: 1, 21, 101…), 1 (few: 2–4, 22–24…) or 2 (many: 0,
/// 5–20, 25–30, 11–14, 111…), CLDR's rules for whole numbers.
///
/// ```
/// use letterbox_core::messages::{plural, Lang};
/// assert_eq!([1, 2, 5, 11, 21, 22, 25].map(|n| plural(Lang::Uk, n)), [0, 1, 2, 2, 0, 1, 2]);
/// ```
pub fn plural(lang: Lang, n: u64) -> usize {
    match lang {
        Lang::En => usize::from(n != 1),
        Lang::Uk => match (n % 10, n % 100) {
            (1, r) if r != 11 => 0,
            (2..=4, r) if !(12..=14).contains(&r) => 1,
            _ => 2,
        },
    }
}

/// `n` with its digits grouped in threes as `lang` writes numbers: `12,345` in English, `12 345`
/// in Ukrainian (a no-break space, so a number never breaks over two lines).
///
/// ```
/// use letterbox_core::messages::{group_digits, Lang};
/// assert_eq!(group_digits(Lang::En, 1234567), "1,234,567");
/// assert_eq!(group_digits(Lang::Uk, 20000), "20\u{a0}000");
/// ```
pub fn group_digits(lang: Lang, n: u64) -> String {
    let sep = match lang {
        Lang::En => ',',
        Lang::Uk => '\u{a0}',
    };
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 * 2);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(d);
    }
    out
}

impl Key {
    /// The catalogue entry for an email rule error.
    pub fn for_email_error(error: EmailError) -> Key {
        match error {
            EmailError::Empty => Key::EmailEmpty,
            EmailError::MissingAt => Key::EmailMissingAt,
            EmailError::MultipleAt => Key::EmailMultipleAt,
            EmailError::LocalPartEmpty => Key::EmailLocalPartEmpty,
            EmailError::LocalPartTooLong => Key::EmailLocalPartTooLong,
            EmailError::LocalPartInvalid => Key::EmailLocalPartInvalid,
            EmailError::DomainEmpty => Key::EmailDomainEmpty,
            EmailError::DomainIncomplete => Key::EmailDomainIncomplete,
            EmailError::DomainInvalid => Key::EmailDomainInvalid,
            EmailError::TooLong => Key::EmailTooLong,
        }
    }
}

/// The texts of one widget instance: a language plus the site's overrides.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalogue {
    lang: Lang,
    overrides: Vec<(Key, String)>,
}

impl Catalogue {
    /// A catalogue in `lang` with the site's `overrides`.
    pub fn new(lang: Lang, overrides: Vec<(Key, String)>) -> Catalogue {
        Catalogue { lang, overrides }
    }

    /// The language of the built-in texts.
    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// The text for `key`: the site's override if it gave one, else the built-in text.
    ///
    /// ```
    /// use letterbox_core::messages::{Catalogue, Key, Lang};
    /// let uk = Catalogue::new(Lang::Uk, Default::default());
    /// assert_eq!(uk.text(Key::Submit), "Підписатися");
    /// ```
    pub fn text(&self, key: Key) -> &str {
        self.overrides
            .iter()
            .rev()
            .find(|(k, _)| *k == key)
            .map_or_else(|| key.default_text(self.lang), |(_, text)| text.as_str())
    }

    /// The text for `key` with each `{name}` replaced by its value from `args`. Unknown
    /// placeholders are left as they are; values are inserted verbatim (the view renders text,
    /// never HTML).
    ///
    /// ```
    /// use letterbox_core::messages::{Catalogue, Key, Lang};
    /// let en = Catalogue::new(Lang::En, Default::default());
    /// assert_eq!(
    ///     en.format(Key::SuggestionText, &[("email", "jane@gmail.com")]),
    ///     "Did you mean jane@gmail.com?"
    /// );
    /// ```
    pub fn format(&self, key: Key, args: &[(&str, &str)]) -> String {
        let template = self.text(key);
        let mut out = String::with_capacity(template.len() + 32);
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            match after.find('}') {
                Some(close) => {
                    let name = &after[..close];
                    match args.iter().find(|(n, _)| *n == name) {
                        Some((_, value)) => out.push_str(value),
                        None => {
                            out.push('{');
                            out.push_str(name);
                            out.push('}');
                        }
                    }
                    rest = &after[close + 1..];
                }
                None => {
                    out.push_str(&rest[open..]);
                    rest = "";
                }
            }
        }
        out.push_str(rest);
        out
    }

    /// The text `key` (a template with `{count}`, `{goal}` and `{unit}`) for these numbers, each
    /// grouped as the language writes it, and `{unit}` the form of `unit` (`|`-separated plural
    /// forms) that agrees with the number just before it in the template: `{count} {unit}`
    /// agrees with the count, anything else with the goal (or the count when there is no goal).
    /// A site's override with fewer forms than the language has uses its last one.
    ///
    /// ```
    /// use letterbox_core::messages::{Catalogue, Key, Lang};
    /// let uk = Catalogue::new(Lang::Uk, Default::default());
    /// assert_eq!(uk.counted(Key::GoalCount, Key::GoalUnit, 21, Some(20_000)), "21 учасник із 20\u{a0}000");
    /// let en = Catalogue::new(Lang::En, Default::default());
    /// assert_eq!(en.counted(Key::GoalCount, Key::GoalUnit, 12_345, Some(20_000)), "12,345 of 20,000 members");
    /// ```
    pub fn counted(&self, key: Key, unit: Key, count: u64, goal: Option<u64>) -> String {
        let template = self.text(key);
        let agrees = match (template.find("{unit}"), goal) {
            (Some(at), Some(goal)) if !template[..at].trim_end().ends_with("{count}") => goal,
            _ => count,
        };
        let forms = self.text(unit);
        let form = forms
            .split('|')
            .nth(plural(self.lang, agrees))
            .or_else(|| forms.split('|').next_back())
            .unwrap_or_default()
            .trim();
        let (count, goal) = (
            group_digits(self.lang, count),
            goal.map(|g| group_digits(self.lang, g)).unwrap_or_default(),
        );
        self.format(key, &[("count", &count), ("goal", &goal), ("unit", form)])
    }

    /// Joins names as a reader would say them: "A", "A and B", "A, B and C".
    /// Newsletter names in running text: joined by [`Catalogue::join_list`], each in «…» in
    /// Ukrainian (its typographic quotes for names), as they are in English without quotes.
    pub fn join_names(&self, names: &[&str]) -> String {
        match self.lang {
            Lang::Uk => {
                let quoted: Vec<String> = names.iter().map(|n| format!("«{n}»")).collect();
                self.join_list(&quoted)
            }
            _ => self.join_list(names),
        }
    }

    pub fn join_list<S: AsRef<str>>(&self, items: &[S]) -> String {
        let and = self.text(Key::ListAnd);
        match items {
            [] => String::new(),
            [one] => one.as_ref().to_owned(),
            [init @ .., last] => {
                let head: Vec<&str> = init.iter().map(AsRef::as_ref).collect();
                format!("{} {and} {}", head.join(", "), last.as_ref())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_has_a_distinct_name_and_text_in_every_language() {
        let mut names = std::collections::BTreeSet::new();
        for &key in Key::ALL {
            assert!(names.insert(key.name()), "duplicate name {}", key.name());
            assert_eq!(Key::from_name(key.name()), Some(key));
            for lang in Lang::ALL {
                assert!(
                    !key.default_text(lang).trim().is_empty(),
                    "{key:?} {lang:?}"
                );
            }
        }
    }

    #[test]
    fn ukrainian_differs_from_english_for_every_reader_facing_text() {
        for &key in Key::ALL {
            assert_ne!(
                key.default_text(Lang::En),
                key.default_text(Lang::Uk),
                "{key:?} is untranslated"
            );
        }
    }

    #[test]
    fn placeholders_are_the_same_in_both_languages() {
        fn placeholders(s: &str) -> Vec<&str> {
            let mut v: Vec<&str> = s
                .split('{')
                .skip(1)
                .filter_map(|p| p.split_once('}').map(|(n, _)| n))
                .collect();
            v.sort_unstable();
            v
        }
        for &key in Key::ALL {
            assert_eq!(
                placeholders(key.default_text(Lang::En)),
                placeholders(key.default_text(Lang::Uk)),
                "{key:?}"
            );
        }
    }

    #[test]
    fn wording_avoids_the_words_the_design_guide_rules_out() {
        let banned = ["please", "sorry", "valid", "oops", "required"];
        for &key in Key::ALL {
            let text = key.default_text(Lang::En).to_lowercase();
            for word in banned {
                assert!(!text.contains(word), "{key:?} says {word:?}: {text}");
            }
        }
    }

    #[test]
    fn every_email_error_has_its_own_message() {
        use EmailError::*;
        let errors = [
            Empty,
            MissingAt,
            MultipleAt,
            LocalPartEmpty,
            LocalPartTooLong,
            LocalPartInvalid,
            DomainEmpty,
            DomainIncomplete,
            DomainInvalid,
            TooLong,
        ];
        let keys: std::collections::BTreeSet<Key> =
            errors.iter().map(|e| Key::for_email_error(*e)).collect();
        assert_eq!(keys.len(), errors.len());
    }

    #[test]
    fn overrides_replace_only_their_own_entry() {
        let o = vec![(Key::Submit, "Sign me up".to_owned())];
        let c = Catalogue::new(Lang::En, o);
        assert_eq!(c.text(Key::Submit), "Sign me up");
        assert_eq!(c.text(Key::EmailLabel), "Email address");
    }

    #[test]
    fn format_fills_known_placeholders_and_keeps_unknown_ones() {
        let c = Catalogue::new(Lang::En, Vec::new());
        assert_eq!(
            c.format(Key::SubscribedBody, &[("email", "a@b.co")]),
            "We’ll send {newsletters} to a@b.co."
        );
        let o = vec![(Key::Submit, "Go {unclosed".to_owned())];
        let c = Catalogue::new(Lang::En, o);
        assert_eq!(c.format(Key::Submit, &[]), "Go {unclosed");
    }

    #[test]
    fn lists_are_joined_as_a_reader_would_say_them() {
        let en = Catalogue::new(Lang::En, Vec::new());
        let uk = Catalogue::new(Lang::Uk, Vec::new());
        assert_eq!(en.join_list::<&str>(&[]), "");
        assert_eq!(en.join_list(&["A"]), "A");
        assert_eq!(en.join_list(&["A", "B"]), "A and B");
        assert_eq!(en.join_list(&["A", "B", "C"]), "A, B and C");
        assert_eq!(uk.join_list(&["А", "Б"]), "А та Б");
    }

    #[test]
    fn language_tags_resolve_by_primary_subtag() {
        assert_eq!(Lang::from_tag("en-GB"), Some(Lang::En));
        assert_eq!(Lang::from_tag("UK"), Some(Lang::Uk));
        assert_eq!(Lang::from_tag("uk_UA"), Some(Lang::Uk));
        assert_eq!(Lang::from_tag(""), None);
        assert_eq!(Lang::from_tag("ru"), None);
    }
}
