//! The fallback form of a slot: a plain HTML `<form>` rendered from the slot's configuration, to
//! put inside `<div data-letterbox>` so the signup works without JavaScript and is typeable while
//! the page is still being parsed. The widget upgrades it when it arrives (see
//! [`super::upgrade`]), keeping what the reader already typed and ticked.
//!
//! Also the whole recommended snippet ([`snippet`]: preload hints, the script with SRI, the form and
//! the configuration). Pure: used natively (by `cargo xtask embed`) and by the playground build
//! of the widget (its embed builder), never by the release bundle.

use super::Config;
use crate::delivery::Adapter;
use crate::messages::Key;

/// `text` with `& < > " '` escaped, for HTML text and quoted attribute values.
///
/// ```
/// use letterbox_core::config::fallback::escape;
/// assert_eq!(escape(r#"<a href="x">Tom & 'Jerry'</a>"#), "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;");
/// ```
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Where the form posts and under which names, per provider.
struct Target {
    action: String,
    email_field: String,
    /// (field name, value) of each newsletter's checkbox, in the config's order; empty when the
    /// provider sends no newsletter field.
    boxes: Vec<(String, String)>,
    hidden: Vec<(String, String)>,
    /// Mailchimp's honeypot field name.
    honeypot: Option<String>,
}

fn target(config: &Config) -> Option<Target> {
    let ids = |name: &str| -> Vec<(String, String)> {
        config
            .newsletters
            .iter()
            .map(|n| (name.to_owned(), n.id.clone()))
            .collect()
    };
    match &config.adapter {
        Adapter::Json(a) => Some(Target {
            action: a.endpoint.clone(),
            email_field: "email".into(),
            boxes: ids("newsletters"),
            // The receiver answers a plain post with a page in this language.
            hidden: vec![(
                "lang".into(),
                match config.texts.lang() {
                    crate::messages::Lang::En => "en",
                    crate::messages::Lang::Uk => "uk",
                }
                .into(),
            )],
            honeypot: None,
        }),
        Adapter::Form(a) => Some(Target {
            action: a.action.clone(),
            email_field: a.email_field.clone(),
            boxes: a.newsletter_field.as_deref().map(ids).unwrap_or_default(),
            hidden: a.hidden.clone(),
            honeypot: None,
        }),
        Adapter::Mailchimp(a) => {
            let mut action = format!("{}/subscribe/post?u={}&id={}", a.host, a.u, a.id);
            if let Some(f_id) = &a.f_id {
                action.push_str("&f_id=");
                action.push_str(f_id);
            }
            let boxes = config
                .newsletters
                .iter()
                .filter_map(|n| {
                    let g = a.groups.iter().find(|g| g.newsletter == n.id)?;
                    Some((g.field.clone(), g.value.clone()))
                })
                .collect();
            Some(Target {
                action,
                email_field: "EMAIL".into(),
                boxes,
                hidden: a.hidden.clone(),
                honeypot: Some(format!("b_{}_{}", a.u, a.id)),
            })
        }
        // Their APIs take no plain form post.
        Adapter::Listmonk(_) | Adapter::Ghost(_) => None,
    }
}

/// The fallback form for a slot configured as `config`, with element ids starting with `id`:
/// the same texts as the widget in the slot's language (the legend, each newsletter's name as its
/// checkbox's label, the email label, the submit button), `method="post"` to the configured
/// destination (the endpoint of the `json` provider, the `form` provider's action, the Mailchimp
/// form's action). Everything is escaped. `None` for the providers whose services take no plain
/// form post (`listmonk`, `ghost`).
pub fn fallback_form(config: &Config, id: &str) -> Option<String> {
    let t = target(config)?;
    let text = |key: Key| escape(config.texts.text(key));
    let id = escape(id);
    let mut html = format!("<form action=\"{}\" method=\"post\">\n", escape(&t.action));
    if !t.boxes.is_empty() {
        html.push_str(&format!(
            "  <fieldset>\n    <legend>{}</legend>\n",
            text(Key::Legend)
        ));
        for (i, (n, (name, value))) in config.newsletters.iter().zip(&t.boxes).enumerate() {
            // One newsletter offered is the one signed up for.
            let checked = if n.checked || t.boxes.len() == 1 {
                " checked"
            } else {
                ""
            };
            html.push_str(&format!(
                "    <div><input type=\"checkbox\" id=\"{id}-n{i}\" name=\"{}\" value=\"{}\"{checked}> <label for=\"{id}-n{i}\">{}</label></div>\n",
                escape(name),
                escape(value),
                escape(&n.name),
            ));
        }
        html.push_str("  </fieldset>\n");
    }
    html.push_str(&format!(
        "  <label for=\"{id}-email\">{}</label>\n  <input type=\"email\" id=\"{id}-email\" name=\"{}\" autocomplete=\"email\" required>\n",
        text(Key::EmailLabel),
        escape(&t.email_field),
    ));
    for (name, value) in &t.hidden {
        html.push_str(&format!(
            "  <input type=\"hidden\" name=\"{}\" value=\"{}\">\n",
            escape(name),
            escape(value)
        ));
    }
    if let Some(honeypot) = &t.honeypot {
        html.push_str(&format!(
            "  <div style=\"position: absolute; left: -5000px;\" aria-hidden=\"true\"><input type=\"text\" name=\"{}\" tabindex=\"-1\" value=\"\"></div>\n",
            escape(honeypot)
        ));
    }
    html.push_str(&format!(
        "  <button type=\"submit\">{}</button>\n</form>",
        text(Key::Submit)
    ));
    Some(html)
}

/// The built files the recommended snippet loads: the content-hashed module script and wasm of
/// `dist/`, each with its SRI hash (`sha384-…`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuiltFiles<'a> {
    /// `letterbox.<hash>.js`.
    pub script: &'a str,
    /// The script's SRI hash.
    pub script_sri: &'a str,
    /// `letterbox_bg.<hash>.wasm`.
    pub wasm: &'a str,
    /// The wasm's SRI hash.
    pub wasm_sri: &'a str,
}

/// The recommended snippet for one slot, as `cargo xtask embed CONFIG` prints it and the
/// playground's embed builder shows it: in `<head>`, the preload hints and the module script,
/// each pinned by its SRI hash, with `files` under `base`; where the signup appears, the
/// `<div data-letterbox>` holding the [`fallback_form`] (for the providers that take a plain
/// post) and the configuration `shown_json` (the caller's formatting of the same configuration
/// as `config`, written as given; `</` is escaped so it cannot end the script element).
///
/// ```
/// use letterbox_core::config::{Config, HostInput};
/// use letterbox_core::config::fallback::{snippet, BuiltFiles};
/// let json = r#"{"endpoint": "/s", "newsletters": [{"id": "daily", "name": "Daily"}]}"#;
/// let config = Config::from_host(&HostInput { json: Some(json), ..Default::default() }).unwrap();
/// let files = BuiltFiles { script: "letterbox.0123456789.js", script_sri: "sha384-A",
///                          wasm: "letterbox_bg.9876543210.wasm", wasm_sri: "sha384-B" };
/// let html = snippet(&config, json, &files, "https://cdn.example/lb/");
/// assert!(html.contains(r#"<link rel="modulepreload" href="https://cdn.example/lb/letterbox.0123456789.js" integrity="sha384-A""#));
/// assert!(html.contains(r#"<form action="/s" method="post">"#));
/// ```
pub fn snippet(config: &Config, shown_json: &str, files: &BuiltFiles<'_>, base: &str) -> String {
    let base = base.trim_end_matches('/');
    let BuiltFiles {
        script,
        script_sri,
        wasm,
        wasm_sri,
    } = *files;
    // Inside <script>, "</script" would end the element early.
    let json = shown_json
        .trim()
        .replace("</", "<\\/")
        .replace('\n', "\n    ");
    // The fallback form, from the same configuration as the widget reads: works without JS and
    // is typeable while the page is parsed; the widget upgrades it, keeping what was typed.
    let form = fallback_form(config, "letterbox-signup")
        .map(|f| format!("  {}\n", f.replace('\n', "\n  ")))
        .unwrap_or_default();
    format!(
        r#"<!-- In <head>, once per page: the script and the wasm start downloading while the page is parsed. -->
<link rel="modulepreload" href="{base}/{script}" integrity="{script_sri}" crossorigin="anonymous">
<link rel="preload" href="{base}/{wasm}" as="fetch" type="application/wasm" integrity="{wasm_sri}" crossorigin="anonymous">
<script type="module" src="{base}/{script}" integrity="{script_sri}" crossorigin="anonymous"></script>

<!-- Where the signup appears: -->
<div data-letterbox>
{form}  <script type="application/json">
    {json}
  </script>
</div>"#
    )
}
