//! The configuration of one signup slot, read from its host element.
//!
//! A slot is configured by the host element's `data-*` attributes and by an optional inline
//! `<script type="application/json">` child. Precedence, lowest first: built-in defaults, the JSON,
//! the attributes (so a CMS template can override one value without touching the JSON). A broken
//! configuration is a [`ConfigError`] that names exactly what is wrong, shown in that slot only.
//!
//! ```
//! use letterbox_core::config::{Config, HostInput};
//! let json = r#"{"endpoint": "/api/subscribe",
//!               "newsletters": [{"id": "daily", "name": "The Daily Briefing"}]}"#;
//! let config = Config::from_host(&HostInput { json: Some(json), ..HostInput::default() }).unwrap();
//! assert_eq!(config.newsletters[0].id, "daily");
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Deserialize;

use crate::messages::{Catalogue, Key, Lang};

/// One newsletter a slot offers.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Newsletter {
    /// The id sent to the endpoint.
    pub id: String,
    /// The name shown to readers.
    pub name: String,
    /// What it is about, shown as the checkbox's hint.
    #[serde(default)]
    pub description: Option<String>,
    /// How often it is sent ("Every weekday morning"), shown with the name.
    #[serde(default)]
    pub frequency: Option<String>,
    /// Pre-selected. Off unless the site says so.
    #[serde(default)]
    pub checked: bool,
}

/// What the widget read from a host element, as plain data.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostInput<'a> {
    /// The text of the element's `<script type="application/json">` child, if any.
    pub json: Option<&'a str>,
    /// `data-endpoint`.
    pub endpoint: Option<&'a str>,
    /// `data-lang`.
    pub lang: Option<&'a str>,
    /// The `lang` of the element itself or its nearest ancestor that has one.
    pub nearest_lang: Option<&'a str>,
}

/// The resolved configuration of one slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Where signups are posted (an absolute http(s) URL or a path on the page's origin).
    pub endpoint: String,
    /// The newsletters offered, in the site's order; at least one.
    pub newsletters: Vec<Newsletter>,
    /// The texts in the reader's language with the site's overrides.
    pub texts: Catalogue,
}

/// What is wrong with a slot's configuration. The message names the field and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// The JSON child is not valid JSON or has the wrong shape.
    Json {
        /// serde_json's description, including line and column.
        message: String,
    },
    /// Neither `data-endpoint` nor `"endpoint"` was given.
    MissingEndpoint,
    /// The endpoint is not an http(s) URL or an absolute path.
    BadEndpoint(String),
    /// `newsletters` is missing or empty.
    NoNewsletters,
    /// A newsletter has an empty id or name.
    EmptyNewsletterField {
        /// Position in the list, from 0.
        index: usize,
        /// `id` or `name`.
        field: &'static str,
    },
    /// Two newsletters share an id.
    DuplicateNewsletter(String),
    /// `texts` names an entry the catalogue does not have.
    UnknownText(String),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Json { message } => write!(f, "the JSON configuration is not valid: {message}"),
            ConfigError::MissingEndpoint => f.write_str(
                "no endpoint: add data-endpoint=\"https://…\" to the element or \"endpoint\" to its JSON",
            ),
            ConfigError::BadEndpoint(e) => write!(
                f,
                "endpoint {e:?} must start with https://, http:// or / (a path on this site)"
            ),
            ConfigError::NoNewsletters => f.write_str(
                "no newsletters: add \"newsletters\": [{\"id\": …, \"name\": …}] to the JSON",
            ),
            ConfigError::EmptyNewsletterField { index, field } => {
                write!(f, "newsletters[{index}].{field} is empty")
            }
            ConfigError::DuplicateNewsletter(id) => {
                write!(f, "two newsletters have the id {id:?}; ids must be unique")
            }
            ConfigError::UnknownText(k) => {
                let known: Vec<&str> = Key::ALL.iter().map(|k| k.name()).collect();
                write!(f, "texts.{k} is not a text the widget has; known texts: {}", known.join(", "))
            }
        }
    }
}

impl std::error::Error for ConfigError {}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    endpoint: Option<String>,
    #[serde(default)]
    newsletters: Vec<Newsletter>,
    #[serde(default)]
    lang: Option<String>,
    #[serde(default)]
    texts: BTreeMap<String, String>,
}

impl Config {
    /// Resolves a slot's configuration from what its host element holds.
    pub fn from_host(input: &HostInput<'_>) -> Result<Config, ConfigError> {
        let raw: RawConfig = match input.json.map(str::trim) {
            Some(json) if !json.is_empty() => {
                serde_json::from_str(json).map_err(|e| ConfigError::Json {
                    message: e.to_string(),
                })?
            }
            _ => RawConfig::default(),
        };

        let endpoint = input
            .endpoint
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(str::to_owned)
            .or(raw.endpoint.map(|e| e.trim().to_owned()))
            .ok_or(ConfigError::MissingEndpoint)?;
        if !(endpoint.starts_with("https://")
            || endpoint.starts_with("http://")
            || (endpoint.starts_with('/') && !endpoint.starts_with("//")))
        {
            return Err(ConfigError::BadEndpoint(endpoint));
        }

        if raw.newsletters.is_empty() {
            return Err(ConfigError::NoNewsletters);
        }
        let mut ids = BTreeSet::new();
        let mut newsletters = raw.newsletters;
        for (index, n) in newsletters.iter_mut().enumerate() {
            n.id = n.id.trim().to_owned();
            n.name = n.name.trim().to_owned();
            if n.id.is_empty() {
                return Err(ConfigError::EmptyNewsletterField { index, field: "id" });
            }
            if n.name.is_empty() {
                return Err(ConfigError::EmptyNewsletterField {
                    index,
                    field: "name",
                });
            }
            if !ids.insert(n.id.clone()) {
                return Err(ConfigError::DuplicateNewsletter(n.id.clone()));
            }
        }

        let lang = resolve_lang(input.lang, raw.lang.as_deref(), input.nearest_lang);
        let mut overrides = BTreeMap::new();
        for (name, text) in raw.texts {
            let key = Key::from_name(&name).ok_or(ConfigError::UnknownText(name))?;
            overrides.insert(key, text);
        }

        Ok(Config {
            endpoint,
            newsletters,
            texts: Catalogue::new(lang, overrides),
        })
    }

    /// True when the slot offers exactly one newsletter: a compact form with no checkbox.
    pub fn is_single(&self) -> bool {
        self.newsletters.len() == 1
    }
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

    fn host(json: &str) -> HostInput<'_> {
        HostInput {
            json: Some(json),
            ..HostInput::default()
        }
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

    #[test]
    fn data_attributes_override_the_json() {
        let input = HostInput {
            endpoint: Some("https://news.example/signup"),
            ..host(FIVE)
        };
        assert_eq!(
            Config::from_host(&input).unwrap().endpoint,
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
        assert!(err.to_string().contains("newsleters"), "{err}");
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
        ] {
            let input = HostInput {
                endpoint: Some(bad),
                ..host(no_endpoint)
            };
            assert_eq!(
                Config::from_host(&input).unwrap_err(),
                ConfigError::BadEndpoint(bad.into())
            );
        }
    }

    #[test]
    fn newsletters_must_exist_have_ids_and_names_and_be_unique() {
        let e = |j: &str| Config::from_host(&host(j)).unwrap_err();
        assert_eq!(e(r#"{"endpoint": "/s"}"#), ConfigError::NoNewsletters);
        assert_eq!(
            e(r#"{"endpoint": "/s", "newsletters": []}"#),
            ConfigError::NoNewsletters
        );
        assert_eq!(
            e(
                r#"{"endpoint": "/s", "newsletters": [{"id": "a", "name": "A"}, {"id": " ", "name": "B"}]}"#
            ),
            ConfigError::EmptyNewsletterField {
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
        assert!(matches!(
            e(r#"{"endpoint": "/s", "newsletters": [{"name": "A"}]}"#),
            ConfigError::Json { .. }
        ));
    }

    #[test]
    fn a_single_newsletter_makes_a_compact_form() {
        let c = Config::from_host(&host(
            r#"{"endpoint": "/s", "newsletters": [{"id": "a", "name": "A"}]}"#,
        ));
        assert!(c.unwrap().is_single());
    }
}
