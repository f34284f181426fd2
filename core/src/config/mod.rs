//! The configuration of one signup slot, read from its host element.
//!
//! A slot is configured by the host element's `data-*` attributes, an optional inline
//! `<script type="application/json">` child, and the options given to `Letterbox.mount(element,
//! options)`. Precedence, lowest first: built-in defaults, the inline JSON, the JS options (by
//! top-level key), the attributes (so a CMS template can override one value without touching the
//! JSON). A broken
//! configuration is a [`ConfigError`] that names exactly what is wrong, shown in that slot only.
//!
//! ```
//! use letterbox_core::config::{Config, HostInput};
//! let json = r#"{"endpoint": "/api/subscribe",
//!               "newsletters": [{"id": "daily", "name": "The Daily Briefing"}]}"#;
//! let config = Config::from_host(&HostInput { json: Some(json), ..HostInput::default() }).unwrap();
//! assert_eq!(config.newsletters[0].id, "daily");
//! ```

use std::fmt;

pub mod fallback;
pub mod goal;
pub mod providers;
mod read;
pub mod upgrade;

use crate::delivery::Adapter;
use crate::json::{self, Value};
use crate::messages::{Catalogue, Key, Lang};
use crate::theme::{Theme, THEME_WORDS};
use read::{wrong, Object};

/// One newsletter a slot offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Newsletter {
    /// The id sent to the endpoint.
    pub id: String,
    /// The name shown to readers.
    pub name: String,
    /// What it is about, shown as the checkbox's hint.
    pub description: Option<String>,
    /// How often it is sent ("Every weekday morning"), shown with the name.
    pub frequency: Option<String>,
    /// Pre-selected. Off unless the site says so.
    pub checked: bool,
}

/// One field the reader fills in besides the address (a Mailchimp merge field such as `FNAME`,
/// a plain form's `first_name`): `"fields": [{"name", "label", "required", "options", "value"}]`.
/// It is sent under its `name` when the reader fills it in (an empty optional field is not sent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The name it is sent under (`FNAME`).
    pub name: String,
    /// The label shown to readers (`First name`).
    pub label: String,
    /// The reader must fill it in (or choose one of its options).
    pub required: bool,
    /// A choice of one (radio group or `<select>` in the embed): (value sent, label). Empty: a
    /// text field.
    pub options: Vec<(String, String)>,
    /// The value it starts with (a select's selected option, a checked radio); empty for none.
    pub value: String,
}

/// What the widget read from a host element, as plain data.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostInput<'a> {
    /// The configuration read from a `<form>` inside the element (a site's no-JS fallback or a
    /// Mailchimp embed), as data from [`upgrade::config`](crate::config::upgrade::config), with no
    /// JSON text in between; the lowest precedence of all.
    pub upgraded: Option<&'a Value>,
    /// The text of the element's `<script type="application/json">` child, if any.
    pub json: Option<&'a str>,
    /// The options object given to `Letterbox.mount`, as JSON.
    pub options: Option<&'a str>,
    /// `data-endpoint`.
    pub endpoint: Option<&'a str>,
    /// `data-provider`.
    pub provider: Option<&'a str>,
    /// `data-lang`.
    pub lang: Option<&'a str>,
    /// The `lang` of the element itself or its nearest ancestor that has one.
    pub nearest_lang: Option<&'a str>,
    /// The element's other `data-*` attributes, as (name without `data-`, value). Those named
    /// after the slot's provider (`data-mailchimp-action` when it delivers to Mailchimp,
    /// `data-form-email-field`…) set that settings object's key (dashes read as underscores),
    /// over the JSON; the rest are ignored (a page's own `data-form-id` breaks nothing).
    pub settings: &'a [(&'a str, &'a str)],
}

/// The providers whose settings objects `data-<provider>-<key>` attributes can set.
pub const SETTINGS_ATTRIBUTE_PROVIDERS: &[&str] = &["form", "mailchimp", "listmonk", "ghost"];

/// A settings attribute's value: JSON when it starts with `{` or `[` (`groups`, `hidden`…),
/// `true`/`false` as booleans, anything else as a string.
fn attribute_value(name: &str, text: &str) -> Result<Value, ConfigError> {
    let text = text.trim();
    match text {
        "true" => Ok(Value::Bool(true)),
        "false" => Ok(Value::Bool(false)),
        _ if text.starts_with(['{', '[']) => {
            json::parse(text).map_err(|_| ConfigError::WrongType {
                at: format!("data-{name}"),
                expected: "JSON (it starts with { or [)",
                found: "text that is not JSON",
            })
        }
        _ => Ok(Value::String(text.to_owned())),
    }
}

/// Sets each `data-<provider>-<key>` attribute in `settings` for the slot's `provider` as
/// `<key>` of the `<provider>` object of `merged`, over what the JSON gave.
fn apply_settings_attributes(
    merged: &mut Vec<(String, Value)>,
    settings: &[(&str, &str)],
    provider: &str,
) -> Result<(), ConfigError> {
    if !SETTINGS_ATTRIBUTE_PROVIDERS.contains(&provider) {
        return Ok(());
    }
    for (name, text) in settings {
        let Some(key) = name
            .strip_prefix(provider)
            .and_then(|k| k.strip_prefix('-'))
            .filter(|k| !k.is_empty())
        else {
            continue;
        };
        let (key, value) = (key.replace('-', "_"), attribute_value(name, text)?);
        match merged.iter_mut().find(|(k, _)| k == provider) {
            Some((_, Value::Object(members))) => {
                members.retain(|(k, _)| *k != key);
                members.push((key, value));
            }
            Some((_, other)) => *other = Value::Object(vec![(key, value)]),
            None => merged.push((provider.to_owned(), Value::Object(vec![(key, value)]))),
        }
    }
    Ok(())
}

/// The resolved configuration of one slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Where and how signups are delivered (`data-provider`, default the JSON contract).
    pub adapter: Adapter,
    /// The newsletters offered, in the site's order; at least one.
    pub newsletters: Vec<Newsletter>,
    /// The texts in the reader's language with the site's overrides.
    pub texts: Catalogue,
    /// Whether `letterbox:*` events carry the reader's address (off unless the site opts in).
    pub events_include_email: bool,
    /// For how many days this browser remembers a signup so no slot asks again (0: never).
    pub remember_days: u32,
    /// Attempts per submission, the first included: network errors, timeouts, 429 and 5xx are
    /// retried with back-off (see [`crate::delivery::retry`]) up to this many times in all.
    pub attempts: u32,
    /// The least time, in milliseconds, between the form appearing and a submission that is not
    /// taken for a bot (0: no time check); see [`crate::bots`].
    pub min_fill_ms: u32,
    /// What to do with bot-looking submissions.
    pub bots: crate::bots::BotPolicy,
    /// For how many days a signup that could not be sent waits in this browser to be sent later
    /// (0: it never waits; the reader gets the failure panel and Try again instead).
    pub pending_days: u32,
    /// The consent the slot asks for, if any; every request then carries a consent record.
    pub consent: Option<ConsentConfig>,
    /// Where the slot's anonymous statistics go (`POST`, once per page view); `None` (the
    /// default) sends none. See [`crate::slot::stats`].
    pub stats_endpoint: Option<String>,
    /// Fields the reader fills in besides the address (`"fields"`), in the site's order.
    pub fields: Vec<Field>,
    /// The reader may sign up without ticking any newsletter (`"choice_optional": true`; an
    /// upgraded Mailchimp form whose interest groups are optional): the list itself is the
    /// subscription and the newsletters are only its groups.
    pub choice_optional: bool,
    /// How the slot looks (`data-theme`, over the `theme` key): its colour scheme (by default
    /// the page's) and whether it is boxed.
    pub theme: Theme,
    /// The slot's own heading ("Get the Daily Briefing"), shown above the form.
    pub title: Option<String>,
    /// The level of the slot's headings, 2–6 (default 2): its title, and the summary's and
    /// panels' headings (one level below a shown title), so a slot fits the page's outline.
    pub heading_level: u8,
    /// A short pitch under the title.
    pub intro: Option<String>,
    /// An image shown above the title (decorative: the title and intro say what it shows),
    /// an http(s) URL or a path on the site.
    pub image: Option<String>,
    /// Where the slot reads how many readers it has, for "Join 48,000 readers" (`social_proof`:
    /// `true` for the reference receiver's `/api/count/<first newsletter>` next to the
    /// endpoint, or the URL of any `{"count": n}`); `None` (the default) shows no such line.
    pub social_proof: Option<String>,
    /// For how many seconds this browser reuses a count it read (`count_cache_seconds`, default
    /// [`goal::DEFAULT_CACHE_SECONDS`]).
    pub count_cache_seconds: u32,
}

/// What a host element holds: a signup slot (the default) or a goal (`"kind": "goal"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A signup form.
    Signup(Box<Config>),
    /// A membership goal with its count ([`goal::Goal`]).
    Goal(goal::Goal),
}

impl Kind {
    /// Reads the slot's configuration as the kind it asks for.
    pub fn from_host(input: &HostInput<'_>) -> Result<Kind, ConfigError> {
        if goal::kind(input)?.as_deref() == Some("goal") {
            goal::Goal::from_host(input).map(Kind::Goal)
        } else {
            Config::from_host(input).map(|c| Kind::Signup(Box::new(c)))
        }
    }

    /// The heading of the panel a slot shows instead of itself when its configuration is broken,
    /// in its kind's words: a goal slot has no form, so it does not say "signup form".
    pub fn error_title(input: &HostInput<'_>) -> Key {
        if goal::is_goal(input) {
            Key::GoalConfigErrorTitle
        } else {
            Key::ConfigErrorTitle
        }
    }

    /// How the slot looks.
    pub fn theme(&self) -> Theme {
        match self {
            Kind::Signup(c) => c.theme,
            Kind::Goal(g) => g.theme,
        }
    }
}

/// The members of the slot's own configuration levels (inline JSON, then mount options, the
/// later winning a key both give), each level checked against `known` when given. Both kinds
/// read their configuration through it.
pub(crate) fn own_members(
    input: &HostInput<'_>,
    known: Option<&'static [&'static str]>,
) -> Result<Vec<(String, Value)>, ConfigError> {
    let mut merged: Vec<(String, Value)> = Vec::new();
    for (text, at) in [
        (input.json, "the configuration"),
        (input.options, "the mount options"),
    ] {
        let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
            continue;
        };
        let value = json::parse(text).map_err(ConfigError::Json)?;
        for (key, value) in Object::new(&value, at, known)?.members() {
            merged.retain(|(k, _)| k != key);
            merged.push((key.clone(), value.clone()));
        }
    }
    Ok(merged)
}

/// The consent a slot asks for (`"consent": {…}`): the text shown, the site's version id of it,
/// and an optional privacy-policy link. With `checkbox` (the default) the reader must tick an
/// unticked box to sign up; without it the text is shown as a statement above the email field
/// (and read with the submit button), and signing up is the agreement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentConfig {
    /// The exact text shown (the checkbox's label), as the site wrote it.
    pub text: String,
    /// The site's version id of that text (`"2026-03"`), recorded with every signup.
    pub version: String,
    /// The privacy policy, an http(s) URL or a path on the site.
    pub privacy_url: Option<String>,
    /// The privacy link's text; the catalogue's "Privacy policy" when absent.
    pub privacy_label: Option<String>,
    /// Whether the reader ticks a box (true) or is shown a statement (false).
    pub checkbox: bool,
    /// Separate permissions the reader may each give (Mailchimp's GDPR marketing permissions,
    /// `gdpr[N]`): (field, value sent, exact wording). When there are any, `text` is their
    /// heading, the reader ticks any of them (or none, as the embed allows), each ticked one is
    /// sent as `field=value` and its wording is the consent record.
    pub choices: Vec<(String, String, String)>,
}

/// The keys of `consent`.
pub const CONSENT_KEYS: &[&str] = &[
    "text",
    "version",
    "privacy_url",
    "privacy_label",
    "checkbox",
    "choices",
];

/// The most newsletters one slot offers: a list longer than a reader can take in is a
/// configuration mistake, and refusing it keeps a huge list from stalling the page.
pub const MAX_NEWSLETTERS: usize = 50;

/// The default of [`Config::attempts`].
pub const DEFAULT_ATTEMPTS: u32 = 4;

/// The default of [`Config::pending_days`], the same as
/// [`crate::pending::PendingQueue::DEFAULT_MAX_AGE_MS`].
pub const DEFAULT_PENDING_DAYS: u32 = 7;

/// The default of [`Config::remember_days`].
pub const DEFAULT_REMEMBER_DAYS: u32 = 30;

/// The keys of the configuration object.
pub const CONFIG_KEYS: &[&str] = &[
    "endpoint",
    "newsletters",
    "lang",
    "texts",
    "events_include_email",
    "remember_days",
    "provider",
    "form",
    "mailchimp",
    "listmonk",
    "ghost",
    "attempts",
    "min_fill_ms",
    "bots",
    "consent",
    "pending_days",
    "stats_endpoint",
    "fields",
    "choice_optional",
    "theme",
    "title",
    "heading_level",
    "intro",
    "image",
    "kind",
    "social_proof",
    "count_cache_seconds",
];
/// The keys of one field (`"fields": [{…}]`).
pub const FIELD_KEYS: &[&str] = &["name", "label", "required", "options", "value"];
/// At most this many fields besides the address.
pub const MAX_FIELDS: usize = 20;
/// The keys of one newsletter.
pub const NEWSLETTER_KEYS: &[&str] = &["id", "name", "description", "frequency", "checked"];

/// What is wrong with a slot's configuration. The message names the place and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// The JSON child is not JSON.
    Json(json::ParseError),
    /// A key the widget does not know (often a misspelling).
    UnknownKey {
        /// Where: `""` for the top level, `newsletters[2]`…
        at: String,
        /// The key as written.
        key: String,
        /// The keys allowed there.
        known: &'static [&'static str],
    },
    /// A value of the wrong type.
    WrongType {
        /// Where, e.g. `newsletters[0].checked`.
        at: String,
        /// What was expected.
        expected: &'static str,
        /// What was found.
        found: &'static str,
    },
    /// Neither `data-endpoint` nor `"endpoint"` was given.
    MissingEndpoint,
    /// A URL setting is not an http(s) URL or an absolute path.
    BadUrl {
        /// Which setting (`endpoint`, `form.action`…).
        at: String,
        /// What was given, or why it is not usable.
        url: String,
    },
    /// A setting the configuration needs is missing (`listmonk.base`, `consent.version`…).
    MissingSetting(String),
    /// `data-provider` names a provider the widget does not have.
    UnknownProvider(String),
    /// `newsletters` is missing or empty.
    NoNewsletters,
    /// More newsletters than one slot can offer a reader ([`MAX_NEWSLETTERS`]).
    TooManyNewsletters(usize),
    /// A newsletter lacks an id or a name, or it is empty.
    MissingNewsletterField {
        /// Position in the list, from 0.
        index: usize,
        /// `id` or `name`.
        field: &'static str,
    },
    /// Two newsletters share an id.
    DuplicateNewsletter(String),
    /// `texts` names an entry the catalogue does not have.
    UnknownText(String),
    /// The element holds a `<form>` that cannot be upgraded, and no configuration replaces it.
    Upgrade(String),
    /// `kind` is not one of [`goal::KINDS`].
    UnknownKind(String),
}

fn quoted(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    let mut out = String::new();
    json::write_string(&mut out, s);
    f.write_str(&out)
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Json(e) => write!(f, "the JSON configuration is not valid JSON: {e}"),
            ConfigError::UnknownKey { at, key, known } => {
                f.write_str("unknown key ")?;
                quoted(f, key)?;
                if !at.is_empty() {
                    write!(f, " in {at}")?;
                }
                write!(f, "; expected one of: {}", known.join(", "))
            }
            ConfigError::WrongType { at, expected, found } => write!(f, "{at} must be {expected}, not {found}"),
            ConfigError::MissingEndpoint => f.write_str(
                "no endpoint: add data-endpoint=\"https://…\" to the element or \"endpoint\" to its JSON",
            ),
            ConfigError::BadUrl { at, url } => {
                write!(f, "{at} ")?;
                quoted(f, url)?;
                f.write_str(" must start with https://, http:// or / (a path on this site)")
            }
            ConfigError::Upgrade(reason) => write!(f, "the form inside the element cannot be upgraded: {reason}"),
            ConfigError::UnknownKind(kind) => {
                f.write_str("kind ")?;
                quoted(f, kind)?;
                write!(f, " is not one of: {}", goal::KINDS.join(", "))
            }
            ConfigError::MissingSetting(at) => write!(f, "{at} is required but missing"),
            ConfigError::UnknownProvider(p) => {
                f.write_str("unknown provider ")?;
                quoted(f, p)?;
                write!(f, "; expected one of: {}", providers::PROVIDERS.join(", "))
            }
            ConfigError::NoNewsletters => f.write_str(
                "no newsletters: add \"newsletters\": [{\"id\": …, \"name\": …}] to the JSON",
            ),
            ConfigError::TooManyNewsletters(n) => write!(
                f,
                "{n} newsletters: one slot offers at most {MAX_NEWSLETTERS}; split them over several slots"
            ),
            ConfigError::MissingNewsletterField { index, field } => {
                write!(f, "newsletters[{index}] needs a non-empty \"{field}\"")
            }
            ConfigError::DuplicateNewsletter(id) => {
                f.write_str("two newsletters have the id ")?;
                quoted(f, id)?;
                f.write_str("; ids must be unique")
            }
            ConfigError::UnknownText(k) => {
                f.write_str("texts.")?;
                f.write_str(k)?;
                let known: Vec<&str> = Key::ALL.iter().map(|k| k.name()).collect();
                write!(f, " is not a text the widget has; known texts: {}", known.join(", "))
            }
        }
    }
}

impl std::error::Error for ConfigError {}

fn newsletter(index: usize, value: &Value) -> Result<Newsletter, ConfigError> {
    let n = Object::new(
        value,
        &format!("newsletters[{index}]"),
        Some(NEWSLETTER_KEYS),
    )?;
    let required = |name: &'static str| -> Result<String, ConfigError> {
        n.text(name)?
            .ok_or(ConfigError::MissingNewsletterField { index, field: name })
    };
    Ok(Newsletter {
        id: required("id")?,
        name: required("name")?,
        description: n.text("description")?,
        frequency: n.text("frequency")?,
        checked: n.flag("checked", false)?,
    })
}

/// One entry of `"fields"`. A name is required; the label defaults to the name.
fn field(index: usize, value: &Value) -> Result<Field, ConfigError> {
    let f = Object::new(value, &format!("fields[{index}]"), Some(FIELD_KEYS))?;
    let name = f.required("name")?;
    let options = f
        .array("options")?
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let o = Object::new(
                o,
                &f.place(&format!("options[{i}]")),
                Some(&["value", "label"]),
            )?;
            let value = o.string("value")?.unwrap_or_default();
            let label = o.text("label")?.unwrap_or_else(|| value.clone());
            Ok((value, label))
        })
        .collect::<Result<_, ConfigError>>()?;
    Ok(Field {
        label: f.text("label")?.unwrap_or_else(|| name.clone()),
        name,
        required: f.flag("required", false)?,
        options,
        value: f.string("value")?.unwrap_or_default(),
    })
}

/// The `consent` object.
fn consent(value: &Value) -> Result<ConsentConfig, ConfigError> {
    let c = Object::new(value, "consent", Some(CONSENT_KEYS))?;
    Ok(ConsentConfig {
        text: c.required("text")?,
        version: c.required("version")?,
        privacy_url: c
            .text("privacy_url")?
            .map(|u| providers::url(u, "consent.privacy_url"))
            .transpose()?,
        privacy_label: c.text("privacy_label")?,
        checkbox: c.flag("checkbox", true)?,
        choices: c
            .array("choices")?
            .iter()
            .enumerate()
            .map(|(i, choice)| {
                let at = c.place(&format!("choices[{i}]"));
                let choice = Object::new(choice, &at, Some(&["field", "value", "text"]))?;
                Ok((
                    choice.required("field")?,
                    choice.required("value")?,
                    choice.required("text")?,
                ))
            })
            .collect::<Result<_, ConfigError>>()?,
    })
}

impl Config {
    /// Resolves a slot's configuration from what its host element holds.
    pub fn from_host(input: &HostInput<'_>) -> Result<Config, ConfigError> {
        let mut merged = match input.upgraded {
            Some(value) => Object::new(
                value,
                "the configuration read from the form",
                Some(CONFIG_KEYS),
            )?
            .members()
            .to_vec(),
            None => Vec::new(),
        };
        let own = own_members(input, Some(CONFIG_KEYS))?;
        // A slot whose own configuration names its destination (the recommended embed: the
        // fallback form next to the JSON) delivers there, not where the form would post.
        if input.endpoint.is_some() || own.iter().any(|(k, _)| k == "endpoint" || k == "provider") {
            merged.retain(|(k, _)| !["provider", "form", "mailchimp"].contains(&k.as_str()));
        }
        for (key, value) in own {
            merged.retain(|(k, _)| *k != key);
            merged.push((key, value));
        }
        let provider = providers::name(
            input.provider,
            merged
                .iter()
                .rev()
                .find(|(k, _)| k == "provider")
                .map(|(_, v)| v),
        )?;
        apply_settings_attributes(&mut merged, input.settings, &provider)?;
        let merged = Value::Object(merged);
        let root = Object::new(&merged, "", None)?;

        let endpoint = match input.endpoint.map(str::trim).filter(|e| !e.is_empty()) {
            Some(e) => Some(e.to_owned()),
            None => root.string("endpoint")?,
        };
        let adapter = providers::adapter(&root, input.provider, endpoint)?;

        let newsletters: Vec<Newsletter> = match root.get("newsletters") {
            None => Vec::new(),
            // Checked before reading them: a huge list must not cost the page its time.
            Some(Value::Array(items)) if items.len() > MAX_NEWSLETTERS => {
                return Err(ConfigError::TooManyNewsletters(items.len()))
            }
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, v)| newsletter(i, v))
                .collect::<Result<_, _>>()?,
            Some(other) => return Err(wrong("newsletters".into(), "an array", other)),
        };
        if newsletters.is_empty() {
            return Err(ConfigError::NoNewsletters);
        }
        for (i, n) in newsletters.iter().enumerate() {
            if newsletters[..i].iter().any(|earlier| earlier.id == n.id) {
                return Err(ConfigError::DuplicateNewsletter(n.id.clone()));
            }
        }

        // listmonk looks unmapped newsletters up by the name readers see.
        let mut adapter = adapter;
        if let Adapter::Listmonk(lm) = &mut adapter {
            if lm.discover {
                lm.names = newsletters
                    .iter()
                    .map(|n| (n.id.clone(), n.name.clone()))
                    .collect();
            }
        }

        let json_lang = root.string("lang")?;
        let lang = resolve_lang(input.lang, json_lang.as_deref(), input.nearest_lang);
        let overrides = overrides(&root)?;

        let events_include_email = root.flag("events_include_email", false)?;

        let remember_days = root.whole_number(
            "remember_days",
            DEFAULT_REMEMBER_DAYS,
            0..=3650,
            "a whole number of days from 0 to 3650",
        )?;

        let attempts = root.whole_number(
            "attempts",
            DEFAULT_ATTEMPTS,
            1..=10,
            "a whole number from 1 to 10",
        )?;

        let min_fill_ms = root.whole_number(
            "min_fill_ms",
            crate::bots::DEFAULT_MIN_FILL_MS,
            0..=60_000,
            "a whole number of milliseconds from 0 to 60000",
        )?;
        let bots = match root.get("bots") {
            None => crate::bots::BotPolicy::Drop,
            Some(Value::String(s)) if s == "drop" => crate::bots::BotPolicy::Drop,
            Some(Value::String(s)) if s == "flag" => crate::bots::BotPolicy::Flag,
            Some(other) => return Err(wrong("bots".into(), "\"drop\" or \"flag\"", other)),
        };

        let consent = root.get("consent").map(consent).transpose()?;
        let consent_field = match &adapter {
            Adapter::Form(f) => f.consent_field.as_ref().map(|_| "form.consent_field"),
            Adapter::Mailchimp(m) => m.consent_field.as_ref().map(|_| "mailchimp.consent_field"),
            _ => None,
        };
        if let (Some(field), None) = (consent_field, &consent) {
            // Without a consent box the field would never be sent: readers would be subscribed
            // without the permission the site meant to record.
            return Err(ConfigError::MissingSetting(format!(
                "consent (what {field} records)"
            )));
        }
        let pending_days = root.whole_number(
            "pending_days",
            DEFAULT_PENDING_DAYS,
            0..=30,
            "a whole number of days from 0 to 30",
        )?;

        let stats_endpoint = root
            .text("stats_endpoint")?
            .map(|u| providers::url(u, "stats_endpoint"))
            .transpose()?;

        let fields = root.array("fields")?;
        if fields.len() > MAX_FIELDS {
            return Err(ConfigError::WrongType {
                at: "fields".into(),
                expected: "an array of at most 20 fields",
                found: "a longer array",
            });
        }
        let fields: Vec<Field> = fields
            .iter()
            .enumerate()
            .map(|(i, v)| field(i, v))
            .collect::<Result<_, _>>()?;
        if !fields.is_empty() && !matches!(adapter, Adapter::Form(_) | Adapter::Mailchimp(_)) {
            // The other services would drop them: readers would fill in fields for nothing.
            return Err(ConfigError::WrongType {
                at: "fields".into(),
                expected: "used with \"provider\": \"form\" or \"mailchimp\" (only they send them)",
                found: "another provider",
            });
        }
        let choice_optional = root.flag("choice_optional", false)?;

        let theme = theme(input, &root)?;
        if let Some(kind) = root.text("kind")?.filter(|k| k != "signup") {
            return Err(ConfigError::UnknownKind(kind));
        }
        let count_cache_seconds = goal::cache_seconds(&root)?;
        let social_proof = match root.get("social_proof") {
            None | Some(Value::Bool(false)) => None,
            Some(Value::Bool(true)) => Some(goal::count_url_of(&adapter, &newsletters[0].id)?),
            Some(Value::String(u)) => Some(providers::url(u.trim().to_owned(), "social_proof")?),
            Some(other) => {
                return Err(wrong(
                    "social_proof".into(),
                    "true, false or the count's URL",
                    other,
                ))
            }
        };

        let title = root.text("title")?;
        let intro = root.text("intro")?;
        let image = root
            .text("image")?
            .map(|u| providers::url(u, "image"))
            .transpose()?;
        let heading_level =
            root.whole_number("heading_level", 2, 2..=6, "a whole number from 2 to 6")? as u8;

        Ok(Config {
            social_proof,
            count_cache_seconds,
            stats_endpoint,
            fields,
            choice_optional,
            title,
            heading_level,
            intro,
            image,
            theme,
            adapter,
            newsletters,
            texts: Catalogue::new(lang, overrides),
            events_include_email,
            remember_days,
            attempts,
            min_fill_ms,
            bots,
            consent,
            pending_days,
        })
    }

    /// What identifies where signups go (provider and target), e.g. `json /api/subscribe`; the
    /// key under which this browser remembers signups.
    pub fn destination(&self) -> String {
        self.adapter.destination()
    }

    /// True when the slot offers exactly one newsletter: a compact form with no checkbox.
    pub fn is_single(&self) -> bool {
        self.newsletters.len() == 1
    }

    /// What this slot signs up to, for the names of its controls ("Email address for …",
    /// "Sign up to …"): its title, else its newsletters' names, so four slots on one page do not
    /// have four fields and buttons of the same name.
    pub fn subject(&self) -> String {
        match &self.title {
            Some(title) => title.clone(),
            None => {
                let names: Vec<&str> = self.newsletters.iter().map(|n| n.name.as_str()).collect();
                self.texts.join_names(&names)
            }
        }
    }

    /// True when the form has more than one field (newsletter boxes, other fields or a consent
    /// box besides the email field), so errors get a summary at its top; a one-field slot (a
    /// header or footer) shows its inline message only.
    pub fn has_summary(&self) -> bool {
        !self.is_single()
            || !self.fields.is_empty()
            || self.consent.as_ref().is_some_and(|c| c.checkbox)
    }
}

/// Whether a broken slot shows its configuration error's detail on the page (it always goes to
/// the console). Readers get a short neutral line; the detail, written for the site's
/// developers, is shown only where they work: on a local host (`localhost`, `*.localhost`,
/// `127.0.0.1`, `[::1]`, a `file:` page), or when the host element asks with
/// `data-letterbox-debug` (`data-letterbox-debug="false"` hides it even there).
///
/// ```
/// use letterbox_core::config::shows_config_detail;
/// assert!(shows_config_detail("http://localhost:8080/article", None));
/// assert!(!shows_config_detail("https://news.example/article", None));
/// assert!(shows_config_detail("https://news.example/article", Some("")));
/// assert!(!shows_config_detail("http://127.0.0.1/", Some("false")));
/// ```
pub fn shows_config_detail(page: &str, debug: Option<&str>) -> bool {
    if let Some(debug) = debug {
        return !debug.trim().eq_ignore_ascii_case("false");
    }
    if page.starts_with("file:") {
        return true;
    }
    let host = page.split_once("://").map_or("", |(_, rest)| {
        rest.split(['/', '?', '#']).next().unwrap_or("")
    });
    let host = host.rsplit('@').next().unwrap_or("");
    let name = if host.starts_with('[') {
        host.split(']').next().map_or("", |h| &h[1..])
    } else {
        host.split(':').next().unwrap_or("")
    }
    .to_ascii_lowercase();
    name == "localhost" || name.ends_with(".localhost") || name == "127.0.0.1" || name == "::1"
}

/// The site's overrides of texts (`"texts": {name: text}`).
pub(crate) fn overrides(root: &Object<'_>) -> Result<Vec<(Key, String)>, ConfigError> {
    let mut overrides = Vec::new();
    if let Some(texts) = root.get("texts") {
        let texts = Object::new(texts, "texts", None)?;
        for (name, _) in texts.members() {
            let key = Key::from_name(name).ok_or_else(|| ConfigError::UnknownText(name.clone()))?;
            overrides.push((key, texts.string(name)?.unwrap_or_default()));
        }
    }
    Ok(overrides)
}

/// The slot's theme: `data-theme` on the element, over the JSON's `theme`.
pub(crate) fn theme(input: &HostInput<'_>, root: &Object<'_>) -> Result<Theme, ConfigError> {
    let theme_text = match input.settings.iter().find(|(n, _)| *n == "theme") {
        Some((_, text)) => Some((*text).to_owned()),
        None => root.string("theme")?,
    };
    Theme::parse(theme_text.as_deref().unwrap_or_default()).map_err(|word| {
        ConfigError::UnknownKey {
            at: "theme".into(),
            key: word,
            known: THEME_WORDS,
        }
    })
}

/// The reader's language: `data-lang`, else the JSON's `lang`, else the nearest `lang` attribute,
/// else English. A language without a catalogue falls through to the next source.
pub fn resolve_lang(
    data_lang: Option<&str>,
    json_lang: Option<&str>,
    nearest: Option<&str>,
) -> Lang {
    [data_lang, json_lang, nearest]
        .into_iter()
        .flatten()
        .find_map(Lang::from_tag)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIVE: &str = r#"{
        "endpoint": "/api/subscribe",
        "newsletters": [
            {"id": "daily", "name": "The Daily Briefing", "frequency": "Every weekday", "description": "The day's main stories."},
            {"id": "explainer", "name": "Explaining Ukraine", "frequency": "Weekly"},
            {"id": "culture", "name": "Culture", "checked": true},
            {"id": "alerts", "name": "Breaking news alerts"},
            {"id": "uk-edition", "name": "Українське видання"}
        ]
    }"#;

    fn endpoint_of(c: &Config) -> &str {
        match &c.adapter {
            Adapter::Json(j) => &j.endpoint,
            other => panic!("not the JSON contract: {other:?}"),
        }
    }

    fn host(json: &str) -> HostInput<'_> {
        HostInput {
            json: Some(json),
            ..HostInput::default()
        }
    }

    #[test]
    fn a_wrong_kind_is_named_with_the_kinds_there_are_before_anything_else() {
        let wrong = "kind \"gaol\" is not one of: signup, goal";
        // Alone, with a goal's keys, or in a complete signup configuration: the kind is what is
        // wrong, not a missing endpoint or a goal key a signup slot does not know.
        for json in [
            r#"{"kind": "gaol"}"#,
            r#"{"kind": "gaol", "goal": 20000, "count_url": "/api/count/members"}"#,
            r#"{"kind": " gaol ", "endpoint": "/api/subscribe", "newsletters": [{"id": "d", "name": "D"}]}"#,
        ] {
            let e = Kind::from_host(&host(json)).map(drop).unwrap_err();
            assert_eq!(e, ConfigError::UnknownKind("gaol".into()), "{json}");
            assert_eq!(e.to_string(), wrong, "{json}");
        }
        let e = Kind::from_host(&host(r#"{"kind": 2}"#))
            .map(drop)
            .unwrap_err();
        assert_eq!(e.to_string(), "kind must be a string, not a number");
    }

    #[test]
    fn a_broken_goal_slot_says_so_in_its_own_words_and_a_signup_slot_as_before() {
        let title = |json: &str, lang| Kind::error_title(&host(json)).default_text(lang);
        let goal = r#"{"kind": "goal", "goal": "many"}"#;
        assert!(Kind::from_host(&host(goal)).is_err());
        assert_eq!(
            title(goal, Lang::En),
            "This membership goal is not available"
        );
        assert_eq!(
            title(goal, Lang::Uk),
            "Ця мета щодо кількості учасників недоступна"
        );
        for signup in [
            r#"{"endpoint": "ftp://x"}"#,
            r#"{"kind": "signup"}"#,
            "{",
            r#"{"kind": "gaol"}"#,
        ] {
            assert_eq!(
                Kind::error_title(&host(signup)),
                Key::ConfigErrorTitle,
                "{signup}"
            );
            assert_eq!(title(signup, Lang::En), "This signup form is not available");
            assert_eq!(title(signup, Lang::Uk), "Ця форма підписки недоступна");
        }
    }

    #[test]
    fn fields_are_read_with_defaults_and_refused_where_the_provider_would_drop_them() {
        let json = r#"{"provider": "mailchimp", "mailchimp": {"action": "https://a.us1.list-manage.com/subscribe/post?u=1&id=2"},
            "newsletters": [{"id": "list", "name": "News"}],
            "fields": [{"name": "FNAME"}, {"name": "EMAILTYPE", "label": "Format", "required": true,
                        "options": [{"value": "html", "label": "HTML"}, {"value": "text"}], "value": "html"}]}"#;
        let c = Config::from_host(&HostInput {
            json: Some(json),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(c.fields[0].label, "FNAME", "the label defaults to the name");
        assert!(!c.fields[0].required && c.fields[1].required);
        assert_eq!(
            c.fields[1].options,
            [
                ("html".to_owned(), "HTML".to_owned()),
                ("text".to_owned(), "text".to_owned())
            ]
        );
        let json_provider = r#"{"endpoint": "/s", "newsletters": [{"id": "a", "name": "A"}],
            "fields": [{"name": "FNAME"}]}"#;
        let e = Config::from_host(&HostInput {
            json: Some(json_provider),
            ..Default::default()
        })
        .unwrap_err();
        assert!(e.to_string().contains("only they send them"), "{e}");
        let nameless = json.replace(r#"{"name": "FNAME"}"#, r#"{"label": "First"}"#);
        let e = Config::from_host(&HostInput {
            json: Some(&nameless),
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(e.to_string(), "fields[0].name is required but missing");
    }

    #[test]
    fn reads_newsletters_in_order_with_their_optional_fields() {
        let c = Config::from_host(&host(FIVE)).unwrap();
        let ids: Vec<&str> = c.newsletters.iter().map(|n| n.id.as_str()).collect();
        assert_eq!(
            ids,
            ["daily", "explainer", "culture", "alerts", "uk-edition"]
        );
        assert_eq!(c.newsletters[0].frequency.as_deref(), Some("Every weekday"));
        assert!(!c.newsletters[0].checked);
        assert!(c.newsletters[2].checked);
        assert!(!c.is_single());
    }

    fn with_consent(consent: &str) -> Result<Config, ConfigError> {
        let json = format!(
            r#"{{"endpoint": "/s", "newsletters": [{{"id": "a", "name": "A"}}], "consent": {consent}}}"#
        );
        Config::from_host(&host(&json))
    }

    #[test]
    fn consent_reads_its_text_version_and_link_and_asks_with_a_box_by_default() {
        let c = with_consent(
            r#"{"text": " I agree to the terms. ", "version": "v3", "privacy_url": "https://news.example/privacy"}"#,
        )
        .unwrap();
        assert_eq!(
            c.consent,
            Some(ConsentConfig {
                text: "I agree to the terms.".into(),
                version: "v3".into(),
                privacy_url: Some("https://news.example/privacy".into()),
                privacy_label: None,
                checkbox: true,
                choices: Vec::new(),
            })
        );
        let statement = with_consent(
            r#"{"text": "T", "version": "1", "checkbox": false, "privacy_label": "Our policy"}"#,
        )
        .unwrap()
        .consent
        .unwrap();
        assert!(!statement.checkbox);
        assert_eq!(statement.privacy_label.as_deref(), Some("Our policy"));
        assert_eq!(with_consent("null").unwrap().consent, None);
        assert_eq!(Config::from_host(&host(FIVE)).unwrap().consent, None);
    }

    #[test]
    fn data_provider_attributes_set_the_providers_settings_over_the_json() {
        let json = r#"{"provider": "mailchimp", "newsletters": [{"id": "daily", "name": "Daily"}],
            "consent": {"text": "Email me", "version": "1"},
            "mailchimp": {"action": "https://old.us1.list-manage.com/subscribe/post?u=old&id=old",
                          "hidden": {"tags": "1"}}}"#;
        let settings = [
            (
                "mailchimp-action",
                "https://news.us21.list-manage.com/subscribe/post?u=8d6e2f1c0b&amp;id=3b1f9e7d5c",
            ),
            ("mailchimp-groups", r#"{"daily": "group[21][1]"}"#),
            ("mailchimp-consent-field", " gdpr[27] "),
            ("endpoint-ignored", "x"),
            ("letterbox-mounted", ""),
        ];
        let c = Config::from_host(&HostInput {
            settings: &settings,
            ..host(json)
        })
        .unwrap();
        let Adapter::Mailchimp(mc) = &c.adapter else {
            panic!("{:?}", c.adapter)
        };
        assert_eq!(
            (mc.u.as_str(), mc.id.as_str()),
            ("8d6e2f1c0b", "3b1f9e7d5c")
        );
        assert_eq!(mc.groups.len(), 1);
        assert_eq!(mc.consent_field.as_deref(), Some("gdpr[27]"));
        assert_eq!(
            mc.hidden,
            [("tags".to_owned(), "1".to_owned())],
            "JSON keys not set by an attribute stay"
        );

        // Attributes alone configure a provider; booleans and JSON values are read as such.
        let form = [
            ("form-action", "/signup"),
            ("form-confirms-by-email", "true"),
            ("form-hidden", r#"{"list": "7"}"#),
        ];
        let c = Config::from_host(&HostInput {
            provider: Some("form"),
            settings: &form,
            ..host(r#"{"newsletters": [{"id": "a", "name": "A"}]}"#)
        })
        .unwrap();
        let Adapter::Form(f) = &c.adapter else {
            panic!("{:?}", c.adapter)
        };
        assert!(f.confirms_by_email);
        assert_eq!((f.action.as_str(), f.hidden.len()), ("/signup", 1));

        // Mistakes name the attribute's setting.
        let broken = [("mailchimp-groups", "{daily: 1}")];
        let e = Config::from_host(&HostInput {
            settings: &broken,
            ..host(json)
        })
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("data-mailchimp-groups must be JSON"), "{e}");
        let unknown = [("mailchimp-list", "x")];
        let e = Config::from_host(&HostInput {
            settings: &unknown,
            ..host(json)
        })
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("unknown key \"list\" in mailchimp"), "{e}");

        // Attributes of another provider are the page's own (analytics, a CMS) and ignored.
        let pages_own = [("form-id", "newsletter-footer"), ("ghost-x", "1")];
        let c = Config::from_host(&HostInput {
            settings: &pages_own,
            ..host(FIVE)
        });
        assert!(c.is_ok(), "{c:?}");
    }

    #[test]
    fn a_consent_field_without_consent_is_refused() {
        let json = r#"{"provider": "mailchimp", "newsletters": [{"id": "daily", "name": "Daily"}],
            "mailchimp": {"action": "https://n.us1.list-manage.com/subscribe/post?u=a&id=b",
                          "consent_field": "gdpr[27]"}}"#;
        let e = Config::from_host(&host(json)).unwrap_err().to_string();
        assert_eq!(
            e,
            "consent (what mailchimp.consent_field records) is required but missing"
        );
    }

    #[test]
    fn listmonk_discovery_knows_the_names_readers_see() {
        let json = r#"{"provider": "listmonk", "listmonk": {"base": "https://l.example", "discover": true},
            "newsletters": [{"id": "daily", "name": "The Daily Briefing"}]}"#;
        let Adapter::Listmonk(lm) = Config::from_host(&host(json)).unwrap().adapter else {
            panic!("listmonk")
        };
        assert!(lm.discover);
        assert_eq!(
            lm.names,
            [("daily".to_owned(), "The Daily Briefing".to_owned())]
        );
    }

    #[test]
    fn pending_days_default_to_a_week_and_accept_zero_to_thirty() {
        let with = |v: &str| {
            Config::from_host(&host(&FIVE.replacen(
                '{',
                &format!("{{\"pending_days\": {v},"),
                1,
            )))
        };
        assert_eq!(Config::from_host(&host(FIVE)).unwrap().pending_days, 7);
        assert_eq!(with("0").unwrap().pending_days, 0);
        assert_eq!(with("30").unwrap().pending_days, 30);
        for bad in ["31", "-1", "1.5", "\"7\""] {
            let e = with(bad).unwrap_err().to_string();
            assert!(
                e.starts_with("pending_days must be a whole number of days from 0 to 30"),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn broken_consent_settings_name_what_is_wrong() {
        let cases = [
            (
                r#"{"version": "1"}"#,
                "consent.text is required but missing",
            ),
            (
                r#"{"text": "T", "version": ""}"#,
                "consent.version is required but missing",
            ),
            (
                r#"{"text": "T", "version": "1", "checkbox": "yes"}"#,
                "consent.checkbox must be true or false, not a string",
            ),
            (
                r#"{"text": "T", "version": 1}"#,
                "consent.version must be a string, not a number",
            ),
            (
                r#"{"text": "T", "version": "1", "link": "/p"}"#,
                "unknown key \"link\" in consent",
            ),
            (r#""I agree""#, "consent must be an object, not a string"),
        ];
        for (consent, message) in cases {
            let error = with_consent(consent).unwrap_err().to_string();
            assert!(error.starts_with(message), "{consent}: {error}");
        }
        // A link the page would run as script is refused, whatever its case or spacing.
        for url in [
            "javascript:alert(1)",
            " JavaScript:alert(1)",
            "data:text/html,x",
            "//evil.example/",
        ] {
            let error = with_consent(&format!(
                r#"{{"text": "T", "version": "1", "privacy_url": "{url}"}}"#
            ))
            .unwrap_err();
            assert!(
                matches!(&error, ConfigError::BadUrl { at, .. } if at == "consent.privacy_url"),
                "{url}: {error}"
            );
        }
    }

    #[test]
    fn data_attributes_override_the_json() {
        let input = HostInput {
            endpoint: Some("https://news.example/signup"),
            ..host(FIVE)
        };
        assert_eq!(
            endpoint_of(&Config::from_host(&input).unwrap()),
            "https://news.example/signup"
        );
    }

    #[test]
    fn language_comes_from_data_lang_then_json_then_nearest_lang_then_english() {
        assert_eq!(resolve_lang(Some("uk"), Some("en"), Some("en")), Lang::Uk);
        assert_eq!(resolve_lang(None, Some("uk"), Some("en")), Lang::Uk);
        assert_eq!(resolve_lang(None, None, Some("uk-UA")), Lang::Uk);
        assert_eq!(resolve_lang(None, None, Some("de")), Lang::En);
        assert_eq!(resolve_lang(Some("fr"), None, Some("uk")), Lang::Uk);
        assert_eq!(resolve_lang(None, None, None), Lang::En);
    }

    #[test]
    fn text_overrides_apply_and_unknown_names_are_refused() {
        let json = r#"{"endpoint": "/s", "newsletters": [{"id": "a", "name": "A"}], "texts": {"submit": "Sign up"}}"#;
        let c = Config::from_host(&host(json)).unwrap();
        assert_eq!(c.texts.text(Key::Submit), "Sign up");
        let bad = r#"{"endpoint": "/s", "newsletters": [{"id": "a", "name": "A"}], "texts": {"sbumit": "x"}}"#;
        let err = Config::from_host(&host(bad)).unwrap_err();
        assert_eq!(err, ConfigError::UnknownText("sbumit".into()));
        assert!(err.to_string().contains("known texts: legend"), "{err}");
    }

    #[test]
    fn broken_json_names_line_and_column() {
        let err =
            Config::from_host(&host("{\"endpoint\": \"/s\",\n \"newsletters\": [}")).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("line 2"), "{msg}");
    }

    #[test]
    fn misspelt_field_is_named_in_the_error() {
        let err = Config::from_host(&host(r#"{"endpoint": "/s", "newsleters": []}"#)).unwrap_err();
        assert!(err.to_string().contains("\"newsleters\""), "{err}");
        assert!(
            err.to_string()
                .contains("expected one of: endpoint, newsletters, lang, texts"),
            "{err}"
        );
    }

    #[test]
    fn missing_or_odd_endpoints_are_refused() {
        let no_endpoint = r#"{"newsletters": [{"id": "a", "name": "A"}]}"#;
        assert_eq!(
            Config::from_host(&host(no_endpoint)).unwrap_err(),
            ConfigError::MissingEndpoint
        );
        for bad in [
            "javascript:alert(1)",
            "//evil.example/x",
            "api/subscribe",
            "ftp://x",
            // What the browser's URL parser reads as `//evil.example/x`:
            "/\\evil.example/x",
            "/\t/evil.example/x",
            "/\n/evil.example/x",
            "https://news.example/\u{0}x",
        ] {
            let input = HostInput {
                endpoint: Some(bad),
                ..host(no_endpoint)
            };
            assert_eq!(
                Config::from_host(&input).unwrap_err(),
                ConfigError::BadUrl {
                    at: "endpoint".into(),
                    url: bad.into()
                }
            );
        }
    }

    #[test]
    fn newsletters_must_exist_have_ids_and_names_and_be_unique() {
        let e = |j: &str| Config::from_host(&host(j)).unwrap_err();
        assert_eq!(e(r#"{"endpoint": "/s"}"#), ConfigError::NoNewsletters);
        let many: Vec<String> = (0..10_000)
            .map(|i| format!(r#"{{"id": "n{i}", "name": "N{i}"}}"#))
            .collect();
        let huge = format!(
            r#"{{"endpoint": "/s", "newsletters": [{}]}}"#,
            many.join(",")
        );
        assert_eq!(e(&huge), ConfigError::TooManyNewsletters(10_000));
        assert!(e(&huge).to_string().contains("at most 50"));
        assert_eq!(
            e(r#"{"endpoint": "/s", "newsletters": []}"#),
            ConfigError::NoNewsletters
        );
        assert_eq!(
            e(
                r#"{"endpoint": "/s", "newsletters": [{"id": "a", "name": "A"}, {"id": " ", "name": "B"}]}"#
            ),
            ConfigError::MissingNewsletterField {
                index: 1,
                field: "id"
            }
        );
        assert_eq!(
            e(
                r#"{"endpoint": "/s", "newsletters": [{"id": "a", "name": "A"}, {"id": "a", "name": "B"}]}"#
            ),
            ConfigError::DuplicateNewsletter("a".into())
        );
        assert_eq!(
            e(r#"{"endpoint": "/s", "newsletters": [{"name": "A"}]}"#),
            ConfigError::MissingNewsletterField {
                index: 0,
                field: "id"
            }
        );
    }

    #[test]
    fn wrong_types_and_misspelt_newsletter_keys_name_their_place() {
        let e = |j: &str| Config::from_host(&host(j)).unwrap_err().to_string();
        assert_eq!(
            e(r#"{"endpoint": "/s", "newsletters": [{"id": "a", "name": "A", "checked": "yes"}]}"#),
            "newsletters[0].checked must be true or false, not a string"
        );
        assert_eq!(
            e(r#"{"endpoint": "/s", "newsletters": [{"id": "a", "name": "A", "frequncy": "Weekly"}]}"#),
            "unknown key \"frequncy\" in newsletters[0]; expected one of: id, name, description, frequency, checked"
        );
        assert_eq!(
            e(r#"{"endpoint": 5, "newsletters": []}"#),
            "endpoint must be a string, not a number"
        );
        assert_eq!(
            e(r#"{"endpoint": "/s", "newsletters": {"id": "a"}}"#),
            "newsletters must be an array, not an object"
        );
        assert_eq!(e("[]"), "the configuration must be an object, not an array");
    }

    #[test]
    fn mount_options_override_the_inline_json_by_key_and_attributes_override_both() {
        let input = HostInput {
            options: Some(r#"{"endpoint": "/from-js", "events_include_email": true}"#),
            ..host(FIVE)
        };
        let c = Config::from_host(&input).unwrap();
        assert_eq!(endpoint_of(&c), "/from-js");
        assert_eq!(
            c.newsletters.len(),
            5,
            "keys the options do not name come from the inline JSON"
        );
        assert!(c.events_include_email);
        let input = HostInput {
            endpoint: Some("/from-attribute"),
            ..input
        };
        assert_eq!(
            endpoint_of(&Config::from_host(&input).unwrap()),
            "/from-attribute"
        );
        let bad = HostInput {
            options: Some(r#"{"endpiont": "/x"}"#),
            ..host(FIVE)
        };
        assert!(Config::from_host(&bad)
            .unwrap_err()
            .to_string()
            .contains("in the mount options"));
    }

    #[test]
    fn remember_days_defaults_to_thirty_and_refuses_what_is_not_a_day_count() {
        assert_eq!(
            Config::from_host(&host(FIVE)).unwrap().remember_days,
            DEFAULT_REMEMBER_DAYS
        );
        let with = |v: &str| {
            let json = format!(
                r#"{{"endpoint": "/s", "newsletters": [{{"id": "a", "name": "A"}}], "remember_days": {v}}}"#
            );
            Config::from_host(&HostInput {
                json: Some(&json),
                ..HostInput::default()
            })
            .map(|c| c.remember_days)
        };
        assert_eq!(with("0"), Ok(0));
        assert_eq!(with("7"), Ok(7));
        for bad in ["-1", "1.5", "99999", "\"7\"", "true"] {
            assert!(with(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_form_derived_configuration_is_overridden_by_the_inline_json() {
        let upgraded = json::parse(
            r#"{"provider": "form", "form": {"action": "https://news.example/signup"},
            "newsletters": [{"id": "default", "name": "Newsletter"}]}"#,
        )
        .unwrap();
        let input = HostInput {
            upgraded: Some(&upgraded),
            json: Some(r#"{"newsletters": [{"id": "daily", "name": "The Daily Briefing"}]}"#),
            ..HostInput::default()
        };
        let c = Config::from_host(&input).unwrap();
        assert_eq!(
            c.newsletters[0].name, "The Daily Briefing",
            "the inline JSON wins"
        );
        assert!(
            matches!(&c.adapter, Adapter::Form(f) if f.action == "https://news.example/signup")
        );
    }

    #[test]
    fn the_upgraded_layer_is_read_as_data_and_checked_like_any_configuration() {
        // No JSON text: a value the upgrade builds goes straight to the reader, which still
        // names the layer in its errors.
        let upgraded = Value::Object(vec![
            ("provider".into(), Value::String("form".into())),
            (
                "newsletters".into(),
                Value::Array(vec![Value::Object(vec![
                    ("id".into(), Value::String("default".into())),
                    ("name".into(), Value::String("The Daily Briefing".into())),
                ])]),
            ),
            (
                "form".into(),
                Value::Object(vec![(
                    "action".into(),
                    Value::String("https://news.example/signup".into()),
                )]),
            ),
        ]);
        let c = Config::from_host(&HostInput {
            upgraded: Some(&upgraded),
            ..HostInput::default()
        })
        .unwrap();
        assert_eq!(c.newsletters[0].name, "The Daily Briefing");
        assert!(
            matches!(&c.adapter, Adapter::Form(f) if f.action == "https://news.example/signup")
        );
        let Value::Object(mut members) = upgraded else {
            unreachable!()
        };
        members.push(("colour".into(), Value::Bool(true)));
        let e = Config::from_host(&HostInput {
            upgraded: Some(&Value::Object(members)),
            ..HostInput::default()
        })
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("the configuration read from the form"),
            "{e}"
        );
    }

    #[test]
    fn attempts_default_to_four_and_stay_between_one_and_ten() {
        assert_eq!(
            Config::from_host(&host(FIVE)).unwrap().attempts,
            DEFAULT_ATTEMPTS
        );
        let with = |v: &str| {
            let json = format!(
                r#"{{"endpoint": "/s", "newsletters": [{{"id": "a", "name": "A"}}], "attempts": {v}}}"#
            );
            Config::from_host(&HostInput {
                json: Some(&json),
                ..HostInput::default()
            })
            .map(|c| c.attempts)
        };
        assert_eq!(with("1"), Ok(1));
        for bad in ["0", "11", "2.5", "\"3\""] {
            assert!(with(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bot_settings_default_to_dropping_below_one_second() {
        let c = Config::from_host(&host(FIVE)).unwrap();
        assert_eq!(
            (c.min_fill_ms, c.bots),
            (1_000, crate::bots::BotPolicy::Drop)
        );
        let json = r#"{"endpoint": "/s", "newsletters": [{"id": "a", "name": "A"}], "bots": "flag", "min_fill_ms": 0}"#;
        let c = Config::from_host(&HostInput {
            json: Some(json),
            ..HostInput::default()
        })
        .unwrap();
        assert_eq!((c.min_fill_ms, c.bots), (0, crate::bots::BotPolicy::Flag));
        let bad =
            r#"{"endpoint": "/s", "newsletters": [{"id": "a", "name": "A"}], "bots": "block"}"#;
        assert!(Config::from_host(&HostInput {
            json: Some(bad),
            ..HostInput::default()
        })
        .is_err());
    }

    #[test]
    fn a_single_newsletter_makes_a_compact_form() {
        let c = Config::from_host(&host(
            r#"{"endpoint": "/s", "newsletters": [{"id": "a", "name": "A"}]}"#,
        ));
        assert!(c.unwrap().is_single());
    }

    #[test]
    fn the_theme_comes_from_data_theme_over_the_json_and_names_a_wrong_word() {
        use crate::theme::Scheme;
        let json =
            r#"{"endpoint": "/s", "newsletters": [{"id": "a", "name": "A"}], "theme": "boxed"}"#;
        let c = Config::from_host(&host(json)).unwrap();
        assert_eq!((c.theme.scheme, c.theme.boxed), (None, true));
        let settings = [("theme", "dark")];
        let c = Config::from_host(&HostInput {
            json: Some(json),
            settings: &settings,
            ..HostInput::default()
        })
        .unwrap();
        assert_eq!((c.theme.scheme, c.theme.boxed), (Some(Scheme::Dark), false));
        let plain = Config::from_host(&host(
            r#"{"endpoint": "/s", "newsletters": [{"id": "a", "name": "A"}]}"#,
        ))
        .unwrap();
        assert_eq!(plain.theme, Theme::default());
        let settings = [("theme", "midnight")];
        let e = Config::from_host(&HostInput {
            json: Some(json),
            settings: &settings,
            ..HostInput::default()
        })
        .unwrap_err();
        assert!(e.to_string().contains("\"midnight\" in theme"), "{e}");
        assert!(e.to_string().contains("auto, light, dark, boxed"), "{e}");
    }
}
