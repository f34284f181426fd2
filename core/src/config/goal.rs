//! A goal slot: `{"kind": "goal", "goal": 20000, "count_url": "/api/count/members", "label": …,
//! "cta": {"text": "Become a member", "url": "/join"}}` shows "12,345 of 20,000 members" with a
//! progress bar and a link to act on it ([`crate::count::goal_screen`] says what it shows).
//!
//! Its configuration comes from the same places as a signup slot's (inline JSON, mount options,
//! `data-lang`, `data-theme`), read through the same [`Object`] reader, so a mistake names its
//! place the same way. A slot is a goal when its JSON or mount options say `"kind": "goal"`.

use crate::config::read::Object;
use crate::config::{
    overrides, own_members, providers, resolve_lang, theme, ConfigError, HostInput,
};
use crate::delivery::Adapter;
use crate::json::Value;
use crate::messages::{Catalogue, Key};
use crate::theme::Theme;

/// The kinds of slot, as written in `"kind"` (`signup` when absent).
pub const KINDS: &[&str] = &["signup", "goal"];

/// The keys of a goal slot's configuration.
pub const GOAL_KEYS: &[&str] = &[
    "kind",
    "goal",
    "count",
    "count_url",
    "count_cache_seconds",
    "label",
    "cta",
    "lang",
    "texts",
    "theme",
];

/// The keys of `cta`.
pub const CTA_KEYS: &[&str] = &["text", "url"];

/// The default of `count_cache_seconds`: five minutes.
pub const DEFAULT_CACHE_SECONDS: u32 = 300;

/// The largest goal (and configured count): a billion.
pub const MAX_GOAL: u32 = 1_000_000_000;

/// The configuration of one goal slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Goal {
    /// The number to reach, 1 to [`MAX_GOAL`].
    pub goal: u64,
    /// The count the site wrote in the configuration: shown when there is no `count_url`, and
    /// when the count's URL gives none.
    pub count: Option<u64>,
    /// Where the count is read (`{"count": n}`), e.g. the reference receiver's
    /// `/api/count/<newsletter>`.
    pub count_url: Option<String>,
    /// For how many seconds this browser reuses a count it read (0: read it on every page).
    pub cache_seconds: u32,
    /// The call to action: (text, URL).
    pub cta: Option<(String, String)>,
    /// The texts in the reader's language, with the site's `texts` and its `label` (as the
    /// `goal_label` text).
    pub texts: Catalogue,
    /// How it looks, as a signup slot's `theme`.
    pub theme: Theme,
}

/// The kind the host's own configuration asks for, one of [`KINDS`]; `None` when it names none
/// (or is not JSON: the signup slot's reader reports that). A `kind` that is not a string, or not
/// one of [`KINDS`], is an error of its own, so a misspelt kind is named as such rather than as
/// whatever the other kind's reader would find wrong.
pub(crate) fn kind(input: &HostInput<'_>) -> Result<Option<String>, ConfigError> {
    let Ok(members) = own_members(input, None) else {
        return Ok(None);
    };
    let members = Value::Object(members);
    match Object::new(&members, "", None)?.text("kind")? {
        Some(kind) if !KINDS.contains(&kind.as_str()) => Err(ConfigError::UnknownKind(kind)),
        kind => Ok(kind),
    }
}

/// True when the host's configuration asks for a goal slot (`"kind": "goal"`). A configuration
/// that is not JSON is not a goal: the signup slot's reader reports it.
pub fn is_goal(input: &HostInput<'_>) -> bool {
    matches!(kind(input), Ok(Some(k)) if k == "goal")
}

/// `count_cache_seconds`: 0 to a day, default [`DEFAULT_CACHE_SECONDS`].
pub(crate) fn cache_seconds(root: &Object<'_>) -> Result<u32, ConfigError> {
    root.whole_number(
        "count_cache_seconds",
        DEFAULT_CACHE_SECONDS,
        0..=86_400,
        "a whole number of seconds from 0 to 86400",
    )
}

/// The reference receiver's public count of `newsletter` next to the slot's endpoint
/// (`…/api/subscribe` → `…/api/count/<newsletter>`), for `"social_proof": true`.
pub(crate) fn count_url_of(adapter: &Adapter, newsletter: &str) -> Result<String, ConfigError> {
    let base = match adapter {
        Adapter::Json(j) => j.endpoint.strip_suffix("/api/subscribe"),
        _ => None,
    };
    let Some(base) = base else {
        return Err(ConfigError::WrongType {
            at: "social_proof".into(),
            expected: "the count's URL (true works only with the reference receiver's endpoint, …/api/subscribe)",
            found: "true",
        });
    };
    let mut url = format!("{base}/api/count/");
    crate::delivery::encode::percent_encode(&mut url, newsletter);
    Ok(url)
}

impl Goal {
    /// Reads a goal slot's configuration from what its host element holds.
    ///
    /// ```
    /// use letterbox_core::config::{goal::Goal, HostInput};
    /// let json = r#"{"kind": "goal", "goal": 20000, "count_url": "/api/count/members",
    ///               "cta": {"text": "Become a member", "url": "/join"}}"#;
    /// let goal = Goal::from_host(&HostInput { json: Some(json), ..HostInput::default() }).unwrap();
    /// assert_eq!((goal.goal, goal.count_url.as_deref()), (20000, Some("/api/count/members")));
    /// ```
    pub fn from_host(input: &HostInput<'_>) -> Result<Goal, ConfigError> {
        let merged = Value::Object(own_members(input, Some(GOAL_KEYS))?);
        let root = Object::new(&merged, "", None)?;
        let number = |key: &str, expected| root.whole_number(key, 0, 0..=MAX_GOAL, expected);
        if root.get("goal").is_none() {
            return Err(ConfigError::MissingSetting("goal".into()));
        }
        let goal = number("goal", "a whole number from 1 to 1000000000")?;
        if goal == 0 {
            return Err(ConfigError::WrongType {
                at: "goal".into(),
                expected: "a whole number from 1 to 1000000000",
                found: "0",
            });
        }
        let count = match root.get("count") {
            None => None,
            Some(_) => Some(u64::from(number(
                "count",
                "a whole number from 0 to 1000000000",
            )?)),
        };
        let count_url = root
            .text("count_url")?
            .map(|u| providers::url(u, "count_url"))
            .transpose()?;
        if count.is_none() && count_url.is_none() {
            return Err(ConfigError::MissingSetting(
                "count_url (where the count is read) or count".into(),
            ));
        }
        let cta = match root.get("cta") {
            None => None,
            Some(_) => {
                let cta = root.child("cta", CTA_KEYS)?;
                let url = cta.required("url")?;
                // A link to a place on the same page ("#membership", the appeal further down)
                // is a call to action too; anything else is checked like every URL.
                let url = match url.strip_prefix('#') {
                    Some(id) if !id.is_empty() && !id.chars().any(char::is_control) => url,
                    _ => providers::url(url, "cta.url")?,
                };
                Some((cta.required("text")?, url))
            }
        };
        let json_lang = root.string("lang")?;
        let lang = resolve_lang(input.lang, json_lang.as_deref(), input.nearest_lang);
        let mut texts = overrides(&root)?;
        if let Some(label) = root.text("label")? {
            texts.push((Key::GoalLabel, label));
        }
        Ok(Goal {
            goal: u64::from(goal),
            count,
            count_url,
            cache_seconds: cache_seconds(&root)?,
            cta,
            texts: Catalogue::new(lang, texts),
            theme: theme(input, &root)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn read(json: &str) -> Result<Goal, ConfigError> {
        Goal::from_host(&HostInput {
            json: Some(json),
            ..HostInput::default()
        })
    }

    fn error(json: &str) -> String {
        match read(json) {
            Err(e) => e.to_string(),
            Ok(g) => panic!("read {json} as {g:?}"),
        }
    }

    #[test]
    fn a_goal_is_told_apart_by_its_kind_from_json_or_mount_options() {
        let json = |j| HostInput {
            json: Some(j),
            ..HostInput::default()
        };
        assert!(is_goal(&json(r#"{"kind": "goal", "goal": 5}"#)));
        assert!(!is_goal(&json(r#"{"kind": "signup"}"#)));
        assert!(!is_goal(&json(r#"{"endpoint": "/api/subscribe"}"#)));
        assert!(!is_goal(&json("not json")));
        assert!(is_goal(&HostInput {
            json: Some(r#"{"kind": "signup"}"#),
            options: Some(r#"{"kind": "goal"}"#),
            ..HostInput::default()
        }));
    }

    #[test]
    fn every_setting_is_read_with_its_default() {
        let g = read(
            r#"{"kind": "goal", "goal": 20000, "count": 12345, "count_url": "https://members.example/api/count/members",
                "count_cache_seconds": 60, "label": "Can we reach 20,000 members?", "lang": "uk", "theme": "dark boxed",
                "cta": {"text": "Become a member", "url": "/join"}}"#,
        )
        .unwrap();
        assert_eq!(g.goal, 20000);
        assert_eq!(g.count, Some(12345));
        assert_eq!(
            g.count_url.as_deref(),
            Some("https://members.example/api/count/members")
        );
        assert_eq!(g.cache_seconds, 60);
        assert_eq!(g.cta, Some(("Become a member".into(), "/join".into())));
        let anchor = r##"{"kind": "goal", "goal": 5, "count": 1, "cta": {"text": "Join", "url": "#membership"}}"##;
        let linked = Goal::from_host(&HostInput {
            json: Some(anchor),
            ..HostInput::default()
        })
        .expect("a link to a place on the page");
        assert_eq!(linked.cta, Some(("Join".into(), "#membership".into())));
        assert_eq!(g.texts.text(Key::GoalLabel), "Can we reach 20,000 members?");
        assert_eq!(g.texts.lang(), crate::messages::Lang::Uk);
        assert!(g.theme.boxed);
        let d = read(r#"{"kind": "goal", "goal": 1, "count": 0}"#).unwrap();
        assert_eq!(
            (d.cache_seconds, d.cta, d.count_url),
            (DEFAULT_CACHE_SECONDS, None, None)
        );
        assert_eq!(d.texts.lang(), crate::messages::Lang::En);
    }

    #[test]
    fn a_bad_goal_count_url_or_cta_is_named_clearly() {
        let cases = [
            (r#"{"kind": "goal", "count": 5}"#, "goal is required but missing"),
            (r#"{"kind": "goal", "goal": 0, "count": 5}"#, "goal must be a whole number from 1 to 1000000000, not 0"),
            (r#"{"kind": "goal", "goal": -3, "count": 5}"#, "goal must be a whole number from 1 to 1000000000, not another number"),
            (r#"{"kind": "goal", "goal": 2.5, "count": 5}"#, "goal must be a whole number from 1 to 1000000000, not another number"),
            (r#"{"kind": "goal", "goal": "20000", "count": 5}"#, "goal must be a whole number from 1 to 1000000000, not a string"),
            (r#"{"kind": "goal", "goal": 5, "count": -1}"#, "count must be a whole number from 0 to 1000000000, not another number"),
            (r#"{"kind": "goal", "goal": 5}"#, "count_url (where the count is read) or count is required but missing"),
            (r#"{"kind": "goal", "goal": 5, "count_url": "javascript:alert(1)"}"#, "count_url \"javascript:alert(1)\" must start with https://, http:// or /"),
            (r#"{"kind": "goal", "goal": 5, "count_url": "//evil.example/c"}"#, "count_url \"//evil.example/c\" must start"),
            (r#"{"kind": "goal", "goal": 5, "count": 1, "cta": {"text": "Join"}}"#, "cta.url is required but missing"),
            (r#"{"kind": "goal", "goal": 5, "count": 1, "cta": {"url": "/join"}}"#, "cta.text is required but missing"),
            (r#"{"kind": "goal", "goal": 5, "count": 1, "cta": {"text": "Join", "url": "data:x"}}"#, "cta.url \"data:x\" must start"),
            (r##"{"kind": "goal", "goal": 5, "count": 1, "cta": {"text": "Join", "url": "#"}}"##, "cta.url \"#\" must start"),
            (r#"{"kind": "goal", "goal": 5, "count": 1, "cta": {"text": "Join", "url": "/j", "target": "_blank"}}"#, "unknown key \"target\" in cta; expected one of: text, url"),
            (r#"{"kind": "goal", "goal": 5, "count": 1, "count_cache_seconds": 90000}"#, "count_cache_seconds must be a whole number of seconds from 0 to 86400"),
            (r#"{"kind": "goal", "goal": 5, "count": 1, "newsletters": []}"#, "unknown key \"newsletters\" in the configuration; expected one of: kind, goal, count"),
            (r#"{"kind": "goal", "goal": 5, "count": 1, "texts": {"goal_units": "x"}}"#, "texts.goal_units is not a text the widget has"),
        ];
        for (json, message) in cases {
            let got = error(json);
            assert!(got.starts_with(message), "{json}: {got}");
        }
    }

    #[test]
    fn a_signup_slot_names_an_unknown_kind_and_reads_social_proof() {
        let config = |extra: &str| {
            let json = format!(
                r#"{{"endpoint": "https://news.example/api/subscribe", "newsletters": [{{"id": "daily news", "name": "Daily"}}]{extra}}}"#
            );
            Config::from_host(&HostInput {
                json: Some(&json),
                ..HostInput::default()
            })
        };
        let ok = config("").unwrap();
        assert_eq!(
            (ok.social_proof, ok.count_cache_seconds),
            (None, DEFAULT_CACHE_SECONDS)
        );
        assert_eq!(
            config(r#", "social_proof": true"#)
                .unwrap()
                .social_proof
                .as_deref(),
            Some("https://news.example/api/count/daily%20news")
        );
        assert_eq!(
            config(r#", "social_proof": "/counts/daily.json", "count_cache_seconds": 0"#)
                .map(|c| (c.social_proof, c.count_cache_seconds))
                .unwrap(),
            (Some("/counts/daily.json".into()), 0)
        );
        assert_eq!(
            config(r#", "social_proof": false, "kind": "signup""#)
                .unwrap()
                .social_proof,
            None
        );
        let err = |extra: &str| config(extra).map(drop).unwrap_err().to_string();
        assert_eq!(
            err(r#", "kind": "gaol""#),
            "kind \"gaol\" is not one of: signup, goal"
        );
        assert!(err(r#", "social_proof": 1"#)
            .starts_with("social_proof must be true, false or the count's URL, not a number"));
        assert!(err(r#", "social_proof": "ftp://x""#)
            .starts_with("social_proof \"ftp://x\" must start"));
        let other = Config::from_host(&HostInput {
            json: Some(
                r#"{"endpoint": "/subscribe", "social_proof": true, "newsletters": [{"id": "d", "name": "D"}]}"#,
            ),
            ..HostInput::default()
        });
        assert!(other
            .map(drop)
            .unwrap_err()
            .to_string()
            .contains("true works only with the reference receiver's endpoint"));
    }
}
