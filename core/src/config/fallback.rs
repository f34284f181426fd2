//! The fallback form of a slot: a plain HTML `<form>` rendered from the slot's configuration, to
//! put inside `<div data-letterbox>` so the signup works without JavaScript and is typeable while
//! the page is still being parsed. The widget upgrades it when it arrives (see
//! [`super::upgrade`]), keeping what the reader already typed and ticked.
//!
//! Pure: used natively (by `cargo xtask embed`), never by the widget itself.

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
