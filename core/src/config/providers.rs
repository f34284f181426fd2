//! Which service a slot delivers to (`data-provider` / `"provider"`) and that service's settings,
//! read from the configuration into an [`Adapter`].
//!
//! | provider | settings object | required |
//! |---|---|---|
//! | `json` (default) | – | `endpoint` |
//! | `form` | `"form": {"action", "email_field", "newsletter_field", "hidden", "success_texts", "confirms_by_email", "key_field", "key_header", "challenge_field", "consent_field"}` | `form.action` (or `endpoint`) |
//! | `mailchimp` | `"mailchimp": {"action", "groups": {id: "group[N][M]"}, "hidden", "consent_field"}` | `mailchimp.action` |
//! | `listmonk` | `"listmonk": {"base", "lists": {id: uuid}, "discover"}` | `listmonk.base` |
//! | `ghost` | `"ghost": {"site", "newsletters": {id: name}, "labels"}` | `ghost.site` |

use crate::config::read::{wrong, Object};
use crate::config::ConfigError;
use crate::delivery::{
    Adapter, FormAdapter, GhostAdapter, JsonAdapter, ListmonkAdapter, MailchimpAdapter,
    MailchimpGroup,
};
use crate::json::Value;

/// The providers, as written in `data-provider`.
pub const PROVIDERS: &[&str] = &["json", "form", "mailchimp", "listmonk", "ghost"];

const FORM_KEYS: &[&str] = &[
    "action",
    "email_field",
    "newsletter_field",
    "hidden",
    "success_texts",
    "confirms_by_email",
    "key_field",
    "key_header",
    "challenge_field",
    "consent_field",
];
const MAILCHIMP_KEYS: &[&str] = &["action", "groups", "hidden", "consent_field"];
const LISTMONK_KEYS: &[&str] = &["base", "lists", "discover"];
const GHOST_KEYS: &[&str] = &["site", "newsletters", "labels"];

/// `value` if it is an http(s) URL or an absolute path on the site, else [`ConfigError::BadUrl`]
/// naming `at`.
pub(crate) fn url(value: String, at: &str) -> Result<String, ConfigError> {
    // The browser's URL parser drops tabs and newlines anywhere and reads `\` as `/`, so
    // `/\evil.example` or `/<tab>/evil.example` would leave the site (protocol-relative).
    let hidden = value.chars().any(|c| c.is_control());
    let path = value.strip_prefix('/');
    let same_site = path.is_some_and(|p| !p.starts_with(['/', '\\']));
    if !hidden && (value.starts_with("https://") || value.starts_with("http://") || same_site) {
        Ok(value)
    } else {
        Err(ConfigError::BadUrl {
            at: at.to_owned(),
            url: value,
        })
    }
}

/// `group[21][1]` → `("21", "1")`.
fn group_field(field: &str) -> Option<(&str, &str)> {
    let inner = field.strip_prefix("group[")?.strip_suffix(']')?;
    let (group, bit) = inner.split_once("][")?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (digits(group) && digits(bit)).then_some((group, bit))
}

/// The provider's name: `data-provider` (`attribute`), else the JSON's `"provider"` (`json`),
/// else `json`.
pub(crate) fn name(attribute: Option<&str>, json: Option<&Value>) -> Result<String, ConfigError> {
    match attribute.map(str::trim).filter(|p| !p.is_empty()) {
        Some(p) => Ok(p.to_owned()),
        None => match json {
            None | Some(Value::Null) => Ok("json".to_owned()),
            Some(Value::String(s)) => Ok(s.trim().to_owned()),
            Some(other) => Err(wrong("provider".into(), "a string", other)),
        },
    }
}

/// The slot's adapter. `provider` is `data-provider` (which wins over the JSON's `"provider"`),
/// `endpoint` the resolved `endpoint` (attribute or JSON), `root` the merged configuration.
pub(crate) fn adapter(
    root: &Object<'_>,
    provider: Option<&str>,
    endpoint: Option<String>,
) -> Result<Adapter, ConfigError> {
    let provider = name(provider, root.get("provider"))?;
    let endpoint = endpoint.map(|e| url(e, "endpoint")).transpose()?;
    match provider.as_str() {
        "json" => Ok(Adapter::Json(JsonAdapter {
            endpoint: endpoint.ok_or(ConfigError::MissingEndpoint)?,
        })),
        "form" => {
            let s = root.child("form", FORM_KEYS)?;
            let action = match s.text("action")? {
                Some(a) => url(a, "form.action")?,
                None => {
                    endpoint.ok_or_else(|| ConfigError::MissingSetting("form.action".into()))?
                }
            };
            let mut form = FormAdapter::new(&action);
            if let Some(field) = s.text("email_field")? {
                form.email_field = field;
            }
            form.newsletter_field = s.text("newsletter_field")?;
            form.hidden = s.pairs("hidden")?;
            form.success_texts = s.strings("success_texts")?;
            form.confirms_by_email = s.flag("confirms_by_email", false)?;
            form.key_field = s.text("key_field")?;
            form.key_header = s.flag("key_header", false)?;
            form.challenge_field = s.text("challenge_field")?;
            form.consent_field = s.text("consent_field")?;
            Ok(Adapter::Form(form))
        }
        "mailchimp" => {
            let s = root.child("mailchimp", MAILCHIMP_KEYS)?;
            let action = s.required("action")?;
            let mut mc = MailchimpAdapter::from_form_action(&action).map_err(|reason| {
                ConfigError::BadUrl {
                    at: "mailchimp.action".into(),
                    url: reason,
                }
            })?;
            for (newsletter, field) in s.pairs("groups")? {
                let (group, bit) = group_field(&field).ok_or_else(|| ConfigError::WrongType {
                    at: format!("mailchimp.groups.{newsletter}"),
                    expected: "a field name like \"group[21][1]\"",
                    found: "another string",
                })?;
                mc.groups
                    .push(MailchimpGroup::checkbox(&newsletter, group, bit));
            }
            mc.hidden = s.pairs("hidden")?;
            mc.consent_field = s.text("consent_field")?;
            Ok(Adapter::Mailchimp(mc))
        }
        "listmonk" => {
            let s = root.child("listmonk", LISTMONK_KEYS)?;
            let base = url(s.required("base")?, "listmonk.base")?;
            let mut lm = ListmonkAdapter::new(&base);
            lm.lists = s.pairs("lists")?;
            lm.discover = s.flag("discover", false)?;
            Ok(Adapter::Listmonk(lm))
        }
        "ghost" => {
            let s = root.child("ghost", GHOST_KEYS)?;
            let site = url(s.required("site")?, "ghost.site")?;
            let mut ghost = GhostAdapter::new(&site);
            ghost.newsletters = s.pairs("newsletters")?;
            ghost.labels = s.strings("labels")?;
            Ok(Adapter::Ghost(ghost))
        }
        other => Err(ConfigError::UnknownProvider(other.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse;

    fn adapter_of(
        json: &str,
        provider: Option<&str>,
        endpoint: Option<&str>,
    ) -> Result<Adapter, ConfigError> {
        let root = parse(json).unwrap();
        adapter(
            &Object::new(&root, "", None)?,
            provider,
            endpoint.map(str::to_owned),
        )
    }

    #[test]
    fn json_is_the_default_and_needs_an_endpoint() {
        assert_eq!(
            adapter_of("{}", None, Some("/api/subscribe")),
            Ok(Adapter::Json(JsonAdapter {
                endpoint: "/api/subscribe".into()
            }))
        );
        assert_eq!(
            adapter_of("{}", None, None),
            Err(ConfigError::MissingEndpoint)
        );
    }

    #[test]
    fn the_attribute_wins_over_the_json_provider() {
        let a = adapter_of(
            r#"{"provider": "json", "form": {"action": "https://x.example/s"}}"#,
            Some("form"),
            None,
        )
        .unwrap();
        assert!(matches!(a, Adapter::Form(f) if f.action == "https://x.example/s"));
    }

    #[test]
    fn form_settings_are_read_with_defaults() {
        let json = r#"{"provider": "form", "form": {"action": "https://sendy.example/subscribe", "email_field": "email",
            "newsletter_field": "list", "hidden": {"boolean": "true"}, "success_texts": ["1", "true"], "confirms_by_email": true}}"#;
        let Adapter::Form(f) = adapter_of(json, None, None).unwrap() else {
            panic!()
        };
        assert_eq!(f.newsletter_field.as_deref(), Some("list"));
        assert_eq!(f.hidden, [("boolean".to_owned(), "true".to_owned())]);
        assert_eq!(f.success_texts, ["1", "true"]);
        assert!(f.confirms_by_email && !f.key_header);
        assert_eq!((f.challenge_field, f.consent_field), (None, None));
        let json = r#"{"provider": "form", "form": {"action": "/signup",
            "challenge_field": "cf-turnstile-response", "consent_field": "consent_record"}}"#;
        let Adapter::Form(f) = adapter_of(json, None, None).unwrap() else {
            panic!()
        };
        assert_eq!(f.challenge_field.as_deref(), Some("cf-turnstile-response"));
        assert_eq!(f.consent_field.as_deref(), Some("consent_record"));
        let Adapter::Form(f) =
            adapter_of(r#"{"provider": "form"}"#, None, Some("/signup")).unwrap()
        else {
            panic!()
        };
        assert_eq!(
            (f.action.as_str(), f.email_field.as_str()),
            ("/signup", "email"),
            "the endpoint is the action"
        );
    }

    #[test]
    fn mailchimp_reads_the_action_and_one_group_per_newsletter() {
        let json = r#"{"provider": "mailchimp", "mailchimp": {
            "action": "https://news.us21.list-manage.com/subscribe/post?u=8d6e2f1c0b&amp;id=3b1f9e7d5c",
            "groups": {"daily": "group[21][1]", "culture": "group[21][2]"}, "hidden": {"tags": "123"}}}"#;
        let Adapter::Mailchimp(mc) = adapter_of(json, None, None).unwrap() else {
            panic!()
        };
        assert_eq!(
            (mc.u.as_str(), mc.id.as_str()),
            ("8d6e2f1c0b", "3b1f9e7d5c")
        );
        assert_eq!(
            mc.groups,
            [
                MailchimpGroup::checkbox("daily", "21", "1"),
                MailchimpGroup::checkbox("culture", "21", "2")
            ]
        );
        assert_eq!(mc.hidden, [("tags".to_owned(), "123".to_owned())]);
        assert_eq!(mc.consent_field, None);
        let with_gdpr = json.replace(r#""hidden""#, r#""consent_field": "gdpr[27]", "hidden""#);
        let Adapter::Mailchimp(mc) = adapter_of(&with_gdpr, None, None).unwrap() else {
            panic!()
        };
        assert_eq!(mc.consent_field.as_deref(), Some("gdpr[27]"));
        let bad = r#"{"provider": "mailchimp", "mailchimp": {"action": "https://a.us1.list-manage.com/subscribe/post?u=1&id=2", "groups": {"daily": "interest 1"}}}"#;
        assert!(adapter_of(bad, None, None)
            .unwrap_err()
            .to_string()
            .contains("mailchimp.groups.daily"));
        let not_mc =
            r#"{"provider": "mailchimp", "mailchimp": {"action": "https://news.example/signup"}}"#;
        assert!(adapter_of(not_mc, None, None)
            .unwrap_err()
            .to_string()
            .contains("mailchimp.action"));
    }

    #[test]
    fn listmonk_and_ghost_read_their_maps() {
        let Adapter::Listmonk(lm) = adapter_of(
            r#"{"provider": "listmonk", "listmonk": {"base": "https://lists.example/", "lists": {"daily": "e6b6a7d2"}}}"#,
            None,
            None,
        )
        .unwrap() else {
            panic!()
        };
        assert_eq!(
            (lm.base.as_str(), lm.lists.len()),
            ("https://lists.example", 1)
        );
        let Adapter::Ghost(g) = adapter_of(
            r#"{"provider": "ghost", "ghost": {"site": "https://news.example", "newsletters": {"daily": "The Daily Briefing"}, "labels": ["letterbox"]}}"#,
            None,
            None,
        )
        .unwrap() else {
            panic!()
        };
        assert_eq!(
            g.newsletters,
            [("daily".to_owned(), "The Daily Briefing".to_owned())]
        );
        assert_eq!(g.labels, ["letterbox"]);
    }

    #[test]
    fn mistakes_name_the_setting_and_what_to_do() {
        let e = |json: &str, p: Option<&str>| adapter_of(json, p, None).unwrap_err().to_string();
        assert!(e("{}", Some("mailchump")).contains("mailchump"));
        assert!(e(r#"{"provider": "listmonk"}"#, None).contains("listmonk.base"));
        assert!(e(
            r#"{"provider": "ghost", "ghost": {"site": "news.example"}}"#,
            None
        )
        .contains("ghost.site"));
        assert!(e(r#"{"provider": "form", "form": {"acton": "/x"}}"#, None)
            .contains("\"acton\" in form"));
        assert!(e(
            r#"{"provider": "form", "form": {"action": "/x", "hidden": {"a": 1}}}"#,
            None
        )
        .contains("form.hidden.a"));
    }
}
