//! Upgrading a site's existing `<form>` into a Letterbox slot (progressive enhancement).
//!
//! A site can leave its plain signup form (its no-JS fallback, or Mailchimp's classic embed code)
//! inside the `data-letterbox` element. The widget reads that form from the DOM into a
//! [`FormMarkup`] (plain data: this module never sees the DOM) and [`config`] turns it into
//! configuration data ([`Value`]), the lowest layer of the slot's configuration
//! ([`HostInput::upgraded`](crate::config::HostInput::upgraded)), read by the same reader as an
//! inline `<script type="application/json">` with no JSON text in between ([`config_json`] writes
//! the same data as text, for tests and tools). The plain form keeps working until the widget is
//! ready.
//!
//! The rule throughout: the upgraded widget sends what the browser would have sent if the reader had
//! only typed an address (and ticked newsletters). Fixed values (hidden inputs, pre-filled fields,
//! checked radios, a named submit button) are kept; anything the reader would have to fill in that
//! the widget does not ask for is an [`UpgradeError`] rather than a signup the service refuses.
//!
//! Two shapes are recognised ([`Upgrade`]):
//!
//! - **Mailchimp's classic embed** (`…list-manage.com/subscribe/post?u=…&id=…`, or the older
//!   `http://…list-manage1.com/…`, called as `https://…list-manage.com/…`) becomes
//!   `"provider": "mailchimp"`: one newsletter per `group[N][M]` checkbox, other fixed fields (e.g.
//!   `tags`) as `hidden`. The `b_<u>_<id>` honeypot is dropped: the adapter sends its own, empty.
//!   Any other field hidden from people (a honeypot copied from another audience's embed) is sent
//!   empty as a `hidden` field, as the embed sends it.
//! - **Any other form** becomes `"provider": "form"`: the email field's name, one newsletter per
//!   checkbox (sent as `newsletter_field`, so they must share one name), fixed fields as `hidden`.
//!   A text field hidden from people (a honeypot) is sent empty.
//!
//! ```
//! use letterbox_core::config::upgrade::{config_json, FieldKind, FormField, FormMarkup};
//! let markup = FormMarkup {
//!     action: "https://news.example/subscribe".into(),
//!     method: "post".into(),
//!     fields: vec![FormField::new(FieldKind::Email, "email")],
//!     legend: Some("The Daily Briefing".into()),
//!     text_above: None,
//! };
//! assert_eq!(
//!     config_json(&markup).unwrap(),
//!     r#"{"provider":"form","newsletters":[{"id":"default","name":"The Daily Briefing"}],"form":{"action":"https://news.example/subscribe","email_field":"email"}}"#
//! );
//! ```

use std::fmt;

use crate::delivery::encode::percent_decode;
use crate::json::{write_string, write_value, Value};

/// A form as the widget found it in the page, as plain data.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormMarkup {
    /// The form's action as an absolute URL, as `form.action` gives it (`&amp;` is also accepted).
    pub action: String,
    /// The form's method, as `form.method` gives it (`get`, `post`, `dialog`); any case. Empty
    /// means GET, the HTML default.
    pub method: String,
    /// The form's controls in document order (`form.elements`), including hidden inputs and submit
    /// buttons.
    pub fields: Vec<FormField>,
    /// The form's own title: its `<legend>` or first heading, whitespace-folded. Used to name the
    /// newsletter of a form without checkboxes. Mailchimp's "* indicates required" line is ignored
    /// if it is passed here.
    pub legend: Option<String>,
    /// When the form has no heading: the text right above its fields (see [`TextAbove`]), which
    /// names the newsletter the same way.
    pub text_above: Option<TextAbove>,
}

/// The first text inside a form, before its first field a reader sees, that is not another
/// field's label: the title of a form without a heading in the embeds sites really paste.
/// Mailchimp's slim embed titles its form with the email field's own label ("Subscribe to our
/// mailing list", with "email address" as the field's placeholder); Brevo's form builder puts
/// its title and description in paragraphs above the fields. Hidden text (an error message
/// waiting in a `display: none` block) is not read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextAbove {
    /// The text, whitespace-folded.
    pub text: String,
    /// It is the email field's label: then it is the title only if it does not name the address
    /// ("Email address", "Enter your email", "Correo electrónico").
    pub labels_email: bool,
}

impl TextAbove {
    /// A visible `<label>` (`is_label`) or `<p>` holding `text`, met above the form's first
    /// visible field, as the form's title candidate: `None` when it is the label of one of
    /// `fields` other than the email field (then the reading goes on to the next one). The one
    /// rule for the widget's page reading and the corpus mirror.
    pub fn candidate(text: String, is_label: bool, fields: &[FormField]) -> Option<TextAbove> {
        let labels_other = is_label
            && fields
                .iter()
                .any(|f| f.kind != FieldKind::Email && f.label == text);
        if labels_other {
            return None;
        }
        let email_label = fields
            .iter()
            .find(|f| f.kind == FieldKind::Email)
            .map(|f| f.label.as_str());
        Some(TextAbove {
            labels_email: is_label && email_label == Some(text.as_str()),
            text,
        })
    }
}

/// What kind of control a [`FormField`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// `<input type=email>`.
    Email,
    /// `<input type=text>` (or no type).
    Text,
    /// `<input type=hidden>`.
    Hidden,
    /// `<input type=checkbox>`.
    Checkbox,
    /// `<input type=radio>`.
    Radio,
    /// A submit button (`<input type=submit>`, `<button>` without a type or `type=submit`).
    Submit,
    /// Anything else that submits a value: other input types, `<select>`, `<textarea>`.
    Other,
}

/// One control of the form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormField {
    /// The kind of control.
    pub kind: FieldKind,
    /// The `name` (a control without one is never submitted, and is ignored).
    pub name: String,
    /// The value the browser would submit if the reader left the control alone: the `value`
    /// attribute (`defaultValue`); for a `<select>` its selected option's value; for a checkbox
    /// without a value attribute `on`, as `.value` gives it.
    pub value: String,
    /// The `id` (informational).
    pub id: String,
    /// The text of the control's label (`control.labels[0]`), whitespace-folded.
    pub label: String,
    /// Checked by default (checkboxes and radios).
    pub checked: bool,
    /// Must be filled in: the `required` attribute, or Mailchimp's `required` class (the embed
    /// code has `novalidate` and marks required fields by class only).
    pub required: bool,
    /// Inside an element positioned off-screen or `aria-hidden`, as Mailchimp's honeypot wrapper
    /// is (`<div style="position: absolute; left: -5000px;" aria-hidden="true">`).
    pub hidden_from_people: bool,
    /// The `placeholder`, whitespace-folded: the field's name for readers when it has no label.
    pub placeholder: String,
    /// A `<select>`'s options: (value, text), in order.
    pub options: Vec<(String, String)>,
    /// A radio's group title, whitespace-folded: the `<legend>` of its fieldset, or the
    /// `<strong>` heading Mailchimp puts over a radio group (`Membership category *`, whose
    /// asterisk marks the group required).
    pub group: String,
}

impl FormField {
    /// A control of `kind` named `name`, with everything else empty or off.
    pub fn new(kind: FieldKind, name: &str) -> FormField {
        FormField {
            kind,
            name: name.to_owned(),
            value: String::new(),
            id: String::new(),
            label: String::new(),
            checked: false,
            required: false,
            hidden_from_people: false,
            placeholder: String::new(),
            options: Vec::new(),
            group: String::new(),
        }
    }
}

/// Which kind of upgrade a form gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upgrade {
    /// Mailchimp's classic embed form: `"provider": "mailchimp"`.
    Mailchimp,
    /// Any other form: `"provider": "form"`.
    Plain,
}

impl Upgrade {
    /// Mailchimp when `action` posts to `https://<something>.list-manage.com/subscribe/post` (or
    /// `list-manage1.com`, http or https)
    /// (whether or not it has its `u` and `id`); Plain otherwise. Lets the widget find the
    /// Mailchimp forms on a page (`data-letterbox-upgrade="mailchimp"`) before reading them.
    ///
    /// ```
    /// use letterbox_core::config::upgrade::Upgrade;
    /// let mc = "https://news.us9.list-manage.com/subscribe/post?u=5e0c&amp;id=7a2c";
    /// assert_eq!(Upgrade::of_action(mc), Upgrade::Mailchimp);
    /// assert_eq!(Upgrade::of_action("https://list-manage.com.evil.example/subscribe/post"), Upgrade::Plain);
    /// ```
    pub fn of_action(action: &str) -> Upgrade {
        match split_url(action) {
            Some(url) if list_manage_host(&url).is_some() => Upgrade::Mailchimp,
            _ => Upgrade::Plain,
        }
    }

    /// The `"provider"` this upgrade produces.
    pub fn provider(self) -> &'static str {
        match self {
            Upgrade::Mailchimp => "mailchimp",
            Upgrade::Plain => "form",
        }
    }
}

/// Why a form cannot be upgraded. The message says what to change; in every case the plain form
/// keeps working as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpgradeError {
    /// The form has no `action`.
    NoAction,
    /// The action is not an http(s) URL (e.g. `javascript:` or `mailto:`).
    ActionNotHttp(String),
    /// The method is neither GET nor POST (e.g. `dialog`).
    UnsupportedMethod(String),
    /// A `list-manage.com/subscribe/post` action without its `u` or `id`.
    IncompleteMailchimpAction(String),
    /// No email field: no visible `type=email` input, and no text input named `email`, `mail` or
    /// `e-mail`.
    NoEmailField,
    /// The form requires fields the widget does not ask for (a name, a required merge field, a
    /// consent box). Each entry is the field's name, with its label when it has one.
    RequiredFields {
        /// Which upgrade it was (the message names the service that would refuse the signup).
        upgrade: Upgrade,
        /// `FNAME ("First Name")`, …
        fields: Vec<String>,
    },
    /// Newsletter checkboxes with different names: the widget sends the chosen newsletters as one
    /// repeated field, so the other names would silently stop being sent.
    CheckboxNamesDiffer(Vec<String>),
    /// A newsletter checkbox with an empty value (there is no id to send).
    CheckboxWithoutValue(String),
    /// Two newsletter checkboxes with the same value.
    DuplicateNewsletter(String),
}

fn quoted(s: &str) -> String {
    let mut out = String::new();
    write_string(&mut out, s);
    out
}

impl fmt::Display for UpgradeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("cannot upgrade this form (the plain form still works): ")?;
        match self {
            UpgradeError::NoAction => f.write_str(
                "it has no action; set action=\"…\" to the URL that receives the signups",
            ),
            UpgradeError::ActionNotHttp(action) => write!(
                f,
                "its action {} is not an http(s) URL; point it at the URL that receives the signups",
                quoted(action)
            ),
            UpgradeError::UnsupportedMethod(method) => write!(
                f,
                "its method is {}; only method=\"post\" and method=\"get\" forms can be upgraded",
                quoted(method)
            ),
            UpgradeError::IncompleteMailchimpAction(action) => write!(
                f,
                "its Mailchimp action {} lacks u= or id=; copy the form action again from \
                 Mailchimp's embedded form code",
                quoted(action)
            ),
            UpgradeError::NoEmailField => f.write_str(
                "it has no email field; give the address input type=\"email\" (or name=\"email\")",
            ),
            UpgradeError::RequiredFields { upgrade, fields } => {
                write!(
                    f,
                    "it requires {} that the widget does not ask for (it asks only for the email \
                     address), so ",
                    fields.join(", ")
                )?;
                match upgrade {
                    Upgrade::Mailchimp => f.write_str(
                        "Mailchimp would refuse the signup; make these fields optional in \
                         Mailchimp (Audience → Signup forms → Form builder) and remove \
                         class=\"required\" from them in the embed code",
                    ),
                    Upgrade::Plain => f.write_str(
                        "the endpoint would likely refuse the signup; make these fields optional \
                         (remove required) or leave this form without data-letterbox",
                    ),
                }
            }
            UpgradeError::CheckboxNamesDiffer(names) => write!(
                f,
                "its newsletter checkboxes have different names ({}); the widget sends the chosen \
                 newsletters as one repeated field, so give them one name (e.g. name=\"list\") \
                 with the newsletter id as each value",
                names.iter().map(|n| quoted(n)).collect::<Vec<_>>().join(", ")
            ),
            UpgradeError::CheckboxWithoutValue(name) => write!(
                f,
                "the newsletter checkbox {} has an empty value; set value=\"…\" to the \
                 newsletter's id",
                quoted(name)
            ),
            UpgradeError::DuplicateNewsletter(value) => write!(
                f,
                "two newsletter checkboxes have the value {}; give each newsletter its own value",
                quoted(value)
            ),
        }
    }
}

impl std::error::Error for UpgradeError {}

/// The configuration for `markup` as data, the layer
/// [`HostInput::upgraded`](crate::config::HostInput::upgraded) takes; or why the form cannot be
/// upgraded.
///
/// ```
/// use letterbox_core::config::upgrade::{config, FieldKind, FormField, FormMarkup};
/// use letterbox_core::config::{Config, HostInput};
/// let markup = FormMarkup {
///     action: "https://news.example/subscribe".into(),
///     method: "post".into(),
///     fields: vec![FormField::new(FieldKind::Email, "email")],
///     legend: Some("The Daily Briefing".into()),
///     text_above: None,
/// };
/// let upgraded = config(&markup).unwrap();
/// let slot = Config::from_host(&HostInput { upgraded: Some(&upgraded), ..HostInput::default() });
/// assert_eq!(slot.unwrap().newsletters[0].name, "The Daily Briefing");
/// ```
pub fn config(markup: &FormMarkup) -> Result<Value, UpgradeError> {
    Ok(plan(markup)?.into_value())
}

/// What [`config`] gives, as JSON text (for tests and tools; the widget takes the data).
///
/// The JSON has `"provider"`, `"newsletters"` (each `id`, `name`, and `"checked": true` for a box
/// checked by default), and the provider's object:
///
/// - `"form": {"action", "email_field", "newsletter_field"?, "hidden"?}`
/// - `"mailchimp": {"action", "groups"?, "hidden"?}`
///
/// where `?` marks a key left out when there is nothing to put in it. `hidden` keeps the form's
/// order; a name that occurs twice (as a browser would send it) occurs twice.
pub fn config_json(markup: &FormMarkup) -> Result<String, UpgradeError> {
    let mut out = String::with_capacity(512);
    write_value(&mut out, &config(markup)?);
    Ok(out)
}

/// The newsletters of the upgraded form that stand for its checkboxes, each with whether the
/// reader has it ticked now: `boxes` holds each checkbox's (name, value, ticked now). The widget
/// starts from these rather than the form's defaults, so a choice made in the fallback form before
/// the widget arrived is kept. Boxes that are no newsletter (consent, permissions) are left out;
/// a form that cannot be upgraded gives nothing.
///
/// ```
/// use letterbox_core::config::upgrade::{newsletter_boxes, FieldKind, FormField, FormMarkup};
/// let mut boxes = vec![FormField::new(FieldKind::Checkbox, "list"), FormField::new(FieldKind::Checkbox, "list")];
/// boxes[0].value = "daily".into();
/// boxes[1].value = "weekly".into();
/// let mut fields = vec![FormField::new(FieldKind::Email, "email")];
/// fields.extend(boxes);
/// let form = FormMarkup { action: "https://news.example/s".into(), method: "post".into(), fields, legend: None, text_above: None };
/// let now = [("list".to_owned(), "weekly".to_owned(), true), ("other".to_owned(), "x".to_owned(), true)];
/// assert_eq!(newsletter_boxes(&form, &now), [("weekly".to_owned(), true)]);
/// ```
pub fn newsletter_boxes(
    markup: &FormMarkup,
    boxes: &[(String, String, bool)],
) -> Vec<(String, bool)> {
    let Ok(plan) = plan(markup) else {
        return Vec::new();
    };
    boxes
        .iter()
        .filter_map(|(name, value, ticked)| {
            let id = match plan.upgrade {
                Upgrade::Mailchimp => plan
                    .groups
                    .iter()
                    .find(|(_, group)| group == name)
                    .map(|(id, _)| id.clone()),
                Upgrade::Plain => (plan.newsletter_field.as_deref() == Some(name.as_str())
                    && plan.newsletters.iter().any(|n| &n.id == value))
                .then(|| value.clone()),
            }?;
            Some((id, *ticked))
        })
        .collect()
}

/// One newsletter of the produced configuration.
struct NewsletterOut {
    id: String,
    name: String,
    checked: bool,
}

/// What [`config`] gives.
struct Plan {
    upgrade: Upgrade,
    action: String,
    newsletters: Vec<NewsletterOut>,
    /// Plain forms: the email field's name.
    email_field: String,
    /// Plain forms: the checkboxes' shared name.
    newsletter_field: Option<String>,
    /// Mailchimp: newsletter id → `group[N][M]`.
    groups: Vec<(String, String)>,
    hidden: Vec<(String, String)>,
    /// Plain forms: a required consent box's label, which becomes the slot's consent text.
    consent: Option<String>,
    /// The fields the reader fills in besides the address.
    fields: Vec<FieldOut>,
    /// The reader may sign up with no newsletter ticked (the embed lets them).
    choice_optional: bool,
    /// Mailchimp: the GDPR marketing permissions, (field, value, wording): the slot's consent
    /// choices.
    permissions: Vec<(String, String, String)>,
}

/// The heading of an upgraded Mailchimp embed's marketing permissions, as Mailchimp's own
/// embed code titles them.
const PERMISSIONS_TITLE: &str = "Marketing Permissions";

/// One field of the produced configuration (`"fields"`).
struct FieldOut {
    name: String,
    label: String,
    required: bool,
    options: Vec<(String, String)>,
    value: String,
}

/// The consent version of an upgraded form, which has none of its own: `label-` and the FNV-1a
/// (32-bit) hash of the text, so a change of wording is a new version.
///
/// ```
/// use letterbox_core::config::upgrade::label_version;
/// assert_eq!(label_version(""), "label-811c9dc5");
/// assert_eq!(label_version("a"), "label-e40c292c");
/// ```
pub fn label_version(text: &str) -> String {
    let hash = text.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    format!("label-{hash:08x}")
}

/// A configuration object built member by member: one non-generic builder whose methods are
/// never inlined, so the wasm carries one copy of the code however many members the upgrade
/// writes (measured: +271 B of brotli wasm over writing JSON text; +752 B with these methods
/// inlined, +1,710 B with an iterator chain per shape).
struct Members(Vec<(String, Value)>);

impl Members {
    fn new() -> Members {
        Members(Vec::new())
    }

    #[inline(never)]
    fn value(&mut self, key: &str, value: Value) -> &mut Members {
        self.0.push((key.to_owned(), value));
        self
    }

    #[inline(never)]
    fn text(&mut self, key: &str, value: String) -> &mut Members {
        self.value(key, Value::String(value))
    }

    #[inline(never)]
    fn flag(&mut self, key: &str) -> &mut Members {
        self.value(key, Value::Bool(true))
    }

    /// `key: {"k": "v", …}` for string pairs (`groups`, `hidden`), in order.
    fn pairs(&mut self, key: &str, pairs: Vec<(String, String)>) -> &mut Members {
        let mut o = Members::new();
        for (k, v) in pairs {
            o.0.push((k, Value::String(v)));
        }
        self.value(key, o.done())
    }

    #[inline(never)]
    fn done(&mut self) -> Value {
        Value::Object(std::mem::take(&mut self.0))
    }
}

impl Plan {
    /// The configuration layer, with the keys (and only the keys) an inline configuration of the
    /// same slot would have.
    fn into_value(self) -> Value {
        let provider = self.upgrade.provider();
        let mut newsletters = Vec::new();
        for n in self.newsletters {
            let mut o = Members::new();
            o.text("id", n.id).text("name", n.name);
            if n.checked {
                o.flag("checked");
            }
            newsletters.push(o.done());
        }
        let mut settings = Members::new();
        settings.text("action", self.action);
        match self.upgrade {
            Upgrade::Plain => {
                settings.text("email_field", self.email_field);
                if let Some(field) = self.newsletter_field {
                    settings.text("newsletter_field", field);
                }
            }
            Upgrade::Mailchimp if !self.groups.is_empty() => {
                settings.pairs("groups", self.groups);
            }
            Upgrade::Mailchimp => {}
        }
        if !self.hidden.is_empty() {
            settings.pairs("hidden", self.hidden);
        }
        let mut config = Members::new();
        config
            .text("provider", provider.to_owned())
            .value("newsletters", Value::Array(newsletters))
            .value(provider, settings.done());
        if !self.fields.is_empty() {
            let mut fields = Vec::new();
            for f in self.fields {
                let mut o = Members::new();
                o.text("name", f.name).text("label", f.label);
                if f.required {
                    o.flag("required");
                }
                if !f.value.is_empty() {
                    o.text("value", f.value);
                }
                if !f.options.is_empty() {
                    let mut options = Vec::new();
                    for (value, label) in f.options {
                        options.push(
                            Members::new()
                                .text("value", value)
                                .text("label", label)
                                .done(),
                        );
                    }
                    o.value("options", Value::Array(options));
                }
                fields.push(o.done());
            }
            config.value("fields", Value::Array(fields));
        }
        if self.choice_optional {
            config.flag("choice_optional");
        }
        let mut consent = Members::new();
        if !self.permissions.is_empty() {
            // The wording of every permission makes the version: a change is a new version.
            let mut all = String::new();
            for (i, (_, _, wording)) in self.permissions.iter().enumerate() {
                if i > 0 {
                    all.push('\n');
                }
                all.push_str(wording);
            }
            let mut choices = Vec::new();
            for (field, value, wording) in self.permissions {
                choices.push(
                    Members::new()
                        .text("field", field)
                        .text("value", value)
                        .text("text", wording)
                        .done(),
                );
            }
            consent
                .text("text", PERMISSIONS_TITLE.to_owned())
                .text("version", label_version(&all))
                .value("choices", Value::Array(choices));
        } else if let Some(wording) = self.consent {
            let version = label_version(&wording);
            consent.text("text", wording).text("version", version);
        }
        if !consent.0.is_empty() {
            config.value("consent", consent.done());
        }
        config.done()
    }
}

/// The parts of an absolute URL this module needs.
struct Url<'a> {
    host: String,
    path: &'a str,
    query: &'a str,
}

/// `scheme://[user@]host[:port]/path?query#fragment`, for http(s) URLs only.
fn split_url(url: &str) -> Option<Url<'_>> {
    let url = url.trim();
    let (scheme, rest) = url.split_once("://")?;
    if !(scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("http")) {
        return None;
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, rest) = rest.split_at(end);
    let host = authority.rsplit('@').next().unwrap_or("");
    let host = host.split(':').next().unwrap_or("").to_ascii_lowercase();
    let rest = rest.split('#').next().unwrap_or("");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    Some(Url { host, path, query })
}

/// A Mailchimp form host: `<account>.<dc>.list-manage.com`, or the `list-manage1.com` alias older
/// embed code (2011-2015) posts to.
fn is_list_manage(host: &str) -> bool {
    host.ends_with(".list-manage.com") || host.ends_with(".list-manage1.com")
}

/// The list-manage host of a Mailchimp form action (`…/subscribe/post`), if it is one.
///
/// Also reads the malformed `https:<host>/subscribe/post?u=…&id=…` (no slashes) found in pasted
/// embeds: on an https page the browser resolves it as a path on the page's own site,
/// `https://<site>/<page path>/<host>/subscribe/post?…`, which is what `form.action` gives; a final
/// path segment that is a list-manage host, with `u` and `id` in the query, is taken for it. (On
/// an http page the browser reads it as `https://<host>/…`.)
fn list_manage_host(url: &Url<'_>) -> Option<String> {
    if is_list_manage(&url.host) && url.path == "/subscribe/post" {
        return Some(url.host.clone());
    }
    let segment = url
        .path
        .strip_suffix("/subscribe/post")?
        .rsplit('/')
        .next()?
        .to_ascii_lowercase();
    let valid = segment
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        && !segment.starts_with('.');
    let ids = query_param(url.query, "u").is_some() && query_param(url.query, "id").is_some();
    (valid && ids && is_list_manage(&segment)).then_some(segment)
}

/// A Mailchimp action as the adapter should call it: on `list-manage.com` (the `list-manage1.com`
/// alias serves the same forms). An action on a list-manage host keeps its scheme, port, path and
/// query as written (the adapter calls an `http://` action over https from an https page, where
/// the browser would block it as mixed content); the malformed `https:<host>` embed, which the
/// browser resolved as a path on the page's own site, becomes `https://<host>/subscribe/post`.
fn mailchimp_action(action: &str, url: &Url<'_>) -> String {
    if is_list_manage(&url.host) {
        // Without its fragment (`form.action` keeps it): `id=706d#mc` is no audience.
        let action = action.trim().split('#').next().unwrap_or_default();
        return action.replacen(".list-manage1.com", ".list-manage.com", 1);
    }
    let host = list_manage_host(url).unwrap_or_else(|| url.host.clone());
    let host = match host.strip_suffix(".list-manage1.com") {
        Some(account) => format!("{account}.list-manage.com"),
        None => host,
    };
    if url.query.is_empty() {
        format!("https://{host}/subscribe/post")
    } else {
        format!("https://{host}/subscribe/post?{}", url.query)
    }
}

/// The decoded value of the query parameter `name` (`&amp;` separators accepted), if not empty.
fn query_param(query: &str, name: &str) -> Option<String> {
    query
        .split('&')
        .map(|pair| pair.strip_prefix("amp;").unwrap_or(pair))
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| percent_decode(k) == name)
        .map(|(_, v)| percent_decode(v))
        .filter(|v| !v.is_empty())
}

/// Collapses runs of whitespace to one space and trims.
fn fold(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The form's title: its heading, else the text right above its fields unless that is the
/// email field's label naming the address; then [`title`].
fn form_title(markup: &FormMarkup) -> Option<String> {
    match (&markup.legend, &markup.text_above) {
        (Some(legend), _) => title(Some(legend)),
        (None, Some(above)) if !(above.labels_email && names_address(&above.text)) => {
            title(Some(&above.text))
        }
        _ => None,
    }
}

/// Whether an email field's label names the field ("Email address", "E-Mail-Adresse", "Enter
/// your email", "Correo electrónico", "Courriel") rather than the form.
fn names_address(label: &str) -> bool {
    let lower = label.to_ascii_lowercase();
    [
        "email", "e-mail", "address", "adress", "adres", "correo", "courriel",
    ]
    .iter()
    .any(|w| lower.contains(w))
}

/// The form's title, unless it is missing, Mailchimp's "* indicates required" line, a call
/// to action rather than a name ("Subscribe", "Sign up for our quarterly updates:", "¿Te
/// interesan…?") or a sentence describing the newsletter (it ends with a full stop): the widget
/// says "…to send you {newsletter}", which a button's word, a question or a sentence cannot fill.
fn title(legend: Option<&str>) -> Option<String> {
    let text = fold(legend?);
    // ASCII lower-casing only: Unicode case tables would cost the wasm kilobytes.
    let lower = text.to_ascii_lowercase();
    let ignored = text.is_empty()
        || lower.contains("indicates required")
        || is_call_to_action(&lower)
        || text.ends_with('.');
    (!ignored).then_some(text)
}

/// A heading that asks rather than names (lower-cased): one of the usual verbs of a signup, in
/// the languages the embeds were found in, alone or starting the heading, or a question or a
/// line that ends in `:` or `!`.
fn is_call_to_action(lower: &str) -> bool {
    const VERBS: &[&str] = &[
        "subscribe",
        "sign up",
        "signup",
        "join",
        "get ",
        "stay ",
        "keep ",
        "suscríbete",
        "suscribete",
        "inscríbete",
        "únete",
        "abonnez-vous",
        "inscrivez-vous",
        "s'abonner",
        "assine",
        "inscreva-se",
        "abonneer",
        "schrijf je in",
        "abonnieren",
        "melde dich",
    ];
    let bare = lower.trim_end_matches(|c: char| c.is_ascii_punctuation() || c.is_whitespace());
    VERBS
        .iter()
        .any(|v| bare == v.trim_end() || bare.starts_with(v))
        || lower.starts_with('¿')
        || lower.ends_with(['?', ':', '!'])
}

/// A label for error messages: `FNAME ("First Name")`. A trailing required-asterisk is dropped.
fn describe(field: &FormField) -> String {
    let label = fold(field.label.trim_end_matches([' ', '*']));
    if label.is_empty() {
        field.name.clone()
    } else {
        format!("{} ({})", field.name, quoted(&label))
    }
}

/// `group[21][1]` → `("21", "1")`.
fn group_field(name: &str) -> Option<(&str, &str)> {
    let inner = name.strip_prefix("group[")?.strip_suffix(']')?;
    let (group, bit) = inner.split_once("][")?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (digits(group) && digits(bit)).then_some((group, bit))
}

/// Lower-case ASCII letters and digits, runs of anything else as one `-`, at most 48 characters.
fn slug(label: &str) -> String {
    let mut out = String::new();
    for word in label
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if out.len() + word.len() + 1 > 48 && !out.is_empty() {
            break;
        }
        if !out.is_empty() {
            out.push('-');
        }
        out.push_str(&word.to_ascii_lowercase());
    }
    out.truncate(48);
    out
}

/// Names a plain form's only newsletter may be identified by, when it is a hidden field.
const LIST_FIELDS: &[&str] = &[
    "list",
    "list_id",
    "listid",
    "list-id",
    "list_uuid",
    "newsletter",
    "newsletter_id",
    "audience",
    "audience_id",
];

fn is_email_name(name: &str) -> bool {
    // `semail1`, `MERGE0` (Mailchimp's own name for EMAIL), `fields[email]` (MailerLite),
    // `email_address` (Kit): any name with "email" in it, but not a service's honeypot.
    let lower = name.to_ascii_lowercase();
    ["mail", "e-mail", "merge0"].contains(&lower.as_str())
        || (lower.contains("email") && !is_honeypot_name(name))
}

/// The address field: the first visible `type=email` input, else the first visible text input
/// named like one.
fn email_field(fields: &[FormField]) -> Option<usize> {
    let visible = |f: &&FormField| !f.hidden_from_people && !f.name.is_empty();
    let position =
        |pred: &dyn Fn(&FormField) -> bool| fields.iter().position(|f| visible(&f) && pred(f));
    position(&|f| f.kind == FieldKind::Email)
        .or_else(|| position(&|f| f.kind == FieldKind::Text && is_email_name(&f.name)))
}

fn plan(markup: &FormMarkup) -> Result<Plan, UpgradeError> {
    let action = markup.action.trim();
    if action.is_empty() {
        return Err(UpgradeError::NoAction);
    }
    let url = split_url(action).ok_or_else(|| UpgradeError::ActionNotHttp(action.to_owned()))?;
    // The configuration parser wants a lower-case scheme, as `form.action` gives it.
    let action = match action.split_once("://") {
        Some((scheme, rest)) => format!("{}://{rest}", scheme.to_ascii_lowercase()),
        None => action.to_owned(),
    };
    let method = markup.method.trim();
    if !(method.is_empty()
        || method.eq_ignore_ascii_case("post")
        || method.eq_ignore_ascii_case("get"))
    {
        return Err(UpgradeError::UnsupportedMethod(method.to_owned()));
    }
    let upgrade = Upgrade::of_action(&action);
    let mut action = match upgrade {
        Upgrade::Mailchimp => mailchimp_action(&action, &url),
        Upgrade::Plain => action,
    };
    // Mailchimp: the account and audience ids, which name the honeypot. Hosted-form markup
    // posts to a bare `…/subscribe/post` and carries them in hidden inputs instead.
    let hidden_input = |name: &str| {
        markup
            .fields
            .iter()
            .find(|f| f.kind == FieldKind::Hidden && f.name == name && !f.value.trim().is_empty())
            .map(|f| f.value.trim().to_owned())
    };
    let mailchimp = match upgrade {
        Upgrade::Mailchimp => match (query_param(url.query, "u"), query_param(url.query, "id")) {
            (Some(u), Some(id)) => Some((u, id)),
            _ => match (hidden_input("u"), hidden_input("id")) {
                (Some(u), Some(id)) if url.query.is_empty() => {
                    use crate::delivery::encode::percent_encode;
                    action.push_str("?u=");
                    percent_encode(&mut action, &u);
                    action.push_str("&id=");
                    percent_encode(&mut action, &id);
                    Some((u, id))
                }
                _ => return Err(UpgradeError::IncompleteMailchimpAction(action)),
            },
        },
        Upgrade::Plain => None,
    };
    let email = email_field(&markup.fields).ok_or(UpgradeError::NoEmailField)?;

    let mut hidden: Vec<(String, String)> = Vec::new();
    if mailchimp.is_some() {
        // Other parameters of the action (`v_id`) go with the post; the adapter sends `u`,
        // `id` and `f_id` itself.
        for pair in url.query.split('&') {
            let pair = pair.strip_prefix("amp;").unwrap_or(pair);
            if let Some((k, v)) = pair.split_once('=') {
                let k = percent_decode(k);
                if !k.is_empty() && !["u", "id", "f_id"].contains(&k.as_str()) {
                    hidden.push((k, percent_decode(v)));
                }
            }
        }
    }
    let mut missing: Vec<String> = Vec::new();
    // Mailchimp's GDPR marketing permissions: (field, value, exact wording).
    let mut permissions: Vec<(String, String, String)> = Vec::new();
    let mut consent: Option<String> = None;
    let mut boxes: Vec<&FormField> = Vec::new();
    let mut fields: Vec<FieldOut> = Vec::new();
    let mut submit_seen = false;

    for (i, f) in markup.fields.iter().enumerate() {
        if f.kind == FieldKind::Submit {
            // Only the button that submits is sent: on Enter, the form's first submit button.
            if !submit_seen && upgrade == Upgrade::Plain && !f.name.is_empty() {
                hidden.push((f.name.clone(), f.value.clone()));
            }
            submit_seen = true;
            continue;
        }
        if i == email || f.name.is_empty() {
            continue;
        }
        let name = f.name.as_str();
        if let Some((u, id)) = &mailchimp {
            // The adapter sends these itself (its own honeypot is always empty).
            if name == format!("b_{u}_{id}") || ["u", "id", "f_id"].contains(&name) {
                continue;
            }
        }
        let keep = (f.name.clone(), f.value.clone());
        let honeypot = f.hidden_from_people || is_honeypot_name(name);
        match f.kind {
            FieldKind::Hidden => hidden.push(keep),
            FieldKind::Submit => {}
            FieldKind::Checkbox if honeypot => {
                if f.checked {
                    hidden.push(keep);
                }
            }
            FieldKind::Checkbox if mailchimp.is_some() => {
                if name.starts_with("gdpr[") {
                    // Sent as the embed sends it (`Y`, or the browser's `on` without a value).
                    let value = if f.value.is_empty() { "on" } else { &f.value };
                    permissions.push((name.to_owned(), value.to_owned(), field_label(f, name)));
                } else if group_field(name).is_some() {
                    boxes.push(f);
                } else if f.checked {
                    hidden.push(keep);
                } else if f.required {
                    missing.push(describe(f));
                }
            }
            FieldKind::Checkbox => {
                // A required box (terms, consent) is not a newsletter choice. The first one with
                // a label becomes the slot's consent box: the widget asks for the tick and, once
                // given, sends the box's field as the form did.
                if f.required {
                    let label = fold(&f.label);
                    if f.checked {
                        hidden.push(keep);
                    } else if consent.is_none() && !label.is_empty() {
                        consent = Some(label);
                        let value = if f.value.is_empty() { "on" } else { &f.value };
                        hidden.push((f.name.clone(), value.to_owned()));
                    } else {
                        missing.push(describe(f));
                    }
                } else {
                    boxes.push(f);
                }
            }
            FieldKind::Radio if honeypot => {
                if f.checked {
                    hidden.push(keep);
                }
            }
            FieldKind::Radio => {
                // A radio group is one field: the reader chooses one of its values (or none,
                // as the embed allows unless one of them is required).
                let option = (f.value.clone(), field_label(f, &f.value));
                let group = fold(&f.group);
                let starred = group.ends_with('*');
                match fields.iter_mut().find(|o| o.name == name) {
                    Some(group) => {
                        group.required |= f.required;
                        if f.checked && group.value.is_empty() {
                            group.value = f.value.clone();
                        }
                        group.options.push(option);
                    }
                    None => fields.push(FieldOut {
                        name: name.to_owned(),
                        label: match group.trim_end_matches(['*', ' ']) {
                            "" => group_label(name),
                            title => title.to_owned(),
                        },
                        required: f.required || starred,
                        options: vec![option],
                        value: if f.checked {
                            f.value.clone()
                        } else {
                            String::new()
                        },
                    }),
                }
            }
            FieldKind::Email | FieldKind::Text | FieldKind::Other => {
                if honeypot {
                    // A honeypot: a person leaves it empty, so it is sent empty. (Mailchimp's own
                    // `b_<u>_<id>` was skipped above: the adapter sends it. One copied from another
                    // audience's embed is sent as the embed sends it.)
                    hidden.push((f.name.clone(), String::new()));
                } else if !f.options.is_empty() {
                    // A `<select>`: its selected option is the default; a required one must not
                    // be left on an empty option.
                    fields.push(FieldOut {
                        name: name.to_owned(),
                        label: field_label(f, name),
                        required: f.required,
                        options: f.options.clone(),
                        value: f.value.clone(),
                    });
                } else if !f.value.trim().is_empty() {
                    hidden.push(keep);
                } else {
                    // A merge field (`FNAME`), asked for with the embed's own label.
                    fields.push(FieldOut {
                        name: name.to_owned(),
                        label: field_label(f, name),
                        required: f.required,
                        options: Vec::new(),
                        value: String::new(),
                    });
                }
            }
        }
    }
    if !missing.is_empty() {
        return Err(UpgradeError::RequiredFields {
            upgrade,
            fields: missing,
        });
    }

    let legend = form_title(markup);
    // The embed lets a reader sign up with none of its boxes ticked unless one is required.
    let choice_optional = !boxes.is_empty() && !boxes.iter().any(|b| b.required);
    let mut plan = Plan {
        upgrade,
        action,
        newsletters: Vec::new(),
        email_field: markup.fields[email].name.clone(),
        newsletter_field: None,
        groups: Vec::new(),
        hidden,
        consent,
        fields,
        choice_optional,
        permissions,
    };
    match upgrade {
        Upgrade::Mailchimp => mailchimp_newsletters(&mut plan, &boxes, legend),
        Upgrade::Plain => plain_newsletters(&mut plan, &boxes, legend)?,
    }
    Ok(plan)
}

/// Text fields services use as honeypots, hidden by their own stylesheet rather than inline
/// (Brevo's `email_address_check`), so the page cannot see that they are hidden.
fn is_honeypot_name(name: &str) -> bool {
    ["email_address_check", "captcha2_h"]
        .iter()
        .any(|n| name.eq_ignore_ascii_case(n))
}

/// The label readers see for a field: its own label without the required asterisk, else its
/// placeholder, else `fallback`.
fn field_label(f: &FormField, fallback: &str) -> String {
    let label = fold(f.label.trim().trim_end_matches(['*', ' ']).trim());
    if !label.is_empty() {
        return label;
    }
    let placeholder = fold(&f.placeholder);
    if placeholder.is_empty() {
        fallback.to_owned()
    } else {
        placeholder
    }
}

/// A radio group's label: the markup ties no label to the group itself, so Mailchimp's own
/// `EMAILTYPE` gets its usual name and any other group its field name.
fn group_label(name: &str) -> String {
    if name.eq_ignore_ascii_case("EMAILTYPE") {
        "Email format".into()
    } else {
        name.to_owned()
    }
}

fn mailchimp_newsletters(plan: &mut Plan, boxes: &[&FormField], legend: Option<String>) {
    for f in boxes {
        let Some((group, bit)) = group_field(&f.name) else {
            continue;
        };
        if plan.groups.iter().any(|(_, field)| *field == f.name) {
            continue;
        }
        let fallback = format!("group-{group}-{bit}");
        let label = fold(&f.label);
        let mut id = slug(&label);
        if id.is_empty() || plan.newsletters.iter().any(|n| n.id == id) {
            id = fallback;
        }
        let name = if label.is_empty() {
            format!("Group {group}-{bit}")
        } else {
            label
        };
        plan.groups.push((id.clone(), f.name.clone()));
        plan.newsletters.push(NewsletterOut {
            id,
            name,
            checked: f.checked,
        });
    }
    if plan.newsletters.is_empty() {
        plan.newsletters.push(NewsletterOut {
            id: "list".into(),
            name: legend.unwrap_or_else(|| "Newsletter".into()),
            checked: false,
        });
    }
}

fn plain_newsletters(
    plan: &mut Plan,
    boxes: &[&FormField],
    legend: Option<String>,
) -> Result<(), UpgradeError> {
    let Some(first) = boxes.first() else {
        let mut lists = plan.hidden.iter().filter(|(name, value)| {
            let name = name.trim_end_matches("[]").to_ascii_lowercase();
            LIST_FIELDS.contains(&name.as_str()) && !value.trim().is_empty()
        });
        let id = match (lists.next(), lists.next()) {
            (Some((_, value)), None) => value.trim().to_owned(),
            _ => "default".to_owned(),
        };
        plan.newsletters.push(NewsletterOut {
            id,
            name: legend.unwrap_or_else(|| "Newsletter".into()),
            checked: false,
        });
        return Ok(());
    };
    let mut names: Vec<String> = Vec::new();
    for f in boxes {
        if !names.contains(&f.name) {
            names.push(f.name.clone());
        }
    }
    if names.len() > 1 {
        return Err(UpgradeError::CheckboxNamesDiffer(names));
    }
    for f in boxes {
        if f.value.trim().is_empty() {
            return Err(UpgradeError::CheckboxWithoutValue(f.name.clone()));
        }
        if plan.newsletters.iter().any(|n| n.id == f.value) {
            return Err(UpgradeError::DuplicateNewsletter(f.value.clone()));
        }
        let label = fold(&f.label);
        plan.newsletters.push(NewsletterOut {
            id: f.value.clone(),
            name: if label.is_empty() {
                f.value.clone()
            } else {
                label
            },
            checked: f.checked,
        });
    }
    plan.newsletter_field = Some(first.name.clone());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, HostInput};
    use crate::delivery::Adapter;
    use crate::json::{parse, Value};

    // ---- A test-only stand-in for the widget's DOM extraction ------------------------------

    fn fixture(name: &str) -> String {
        let full = format!(
            "{}/tests/fixtures/upgrade/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
    }

    fn decode_entities(s: &str) -> String {
        s.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&amp;", "&")
    }

    /// `name="v" name='v' name=v name` → pairs, names lower-cased, values entity-decoded.
    fn attributes(tag: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut rest = tag.trim_end_matches('/').trim();
        while !rest.is_empty() {
            let end = rest
                .find(|c: char| c == '=' || c.is_whitespace())
                .unwrap_or(rest.len());
            let name = rest[..end].to_ascii_lowercase();
            rest = rest[end..].trim_start();
            let mut value = String::new();
            if let Some(after) = rest.strip_prefix('=') {
                let after = after.trim_start();
                let (v, tail) = match after.chars().next() {
                    Some(q @ ('"' | '\'')) => {
                        let close = after[1..].find(q).map_or(after.len(), |i| i + 1);
                        (&after[1..close], after.get(close + 1..).unwrap_or(""))
                    }
                    _ => {
                        let e = after.find(char::is_whitespace).unwrap_or(after.len());
                        (&after[..e], &after[e..])
                    }
                };
                value = decode_entities(v);
                rest = tail.trim_start();
            }
            if !name.is_empty() {
                out.push((name, value));
            }
        }
        out
    }

    fn text_of(html: &str) -> String {
        let mut out = String::new();
        let mut in_tag = false;
        for c in html.chars() {
            match c {
                '<' => in_tag = true,
                '>' => in_tag = false,
                c if !in_tag => out.push(c),
                _ => {}
            }
        }
        fold(&decode_entities(&out))
    }

    /// Reads the first `<form>` of `html` as the widget would: enough HTML for the fixtures, not a
    /// parser. Off-screen (`left: -5000px` / `-9999px`), `aria-hidden="true"` or `hidden` wrappers
    /// make their controls hidden from people; `display:none` does not (as in the brief).
    fn scan(html: &str) -> FormMarkup {
        let mut html = html.to_owned();
        while let Some(start) = html.find("<!--") {
            let end = html[start..]
                .find("-->")
                .map_or(html.len(), |e| start + e + 3);
            html.replace_range(start..end, "");
        }
        let mut markup = FormMarkup::default();
        let mut labels: Vec<(String, String)> = Vec::new();
        let mut stack: Vec<(String, bool)> = Vec::new();
        let mut in_form = false;
        let mut pos = 0;
        while let Some(open) = html[pos..].find('<') {
            let start = pos + open;
            let end = start + html[start..].find('>').expect("closed tag");
            let tag = &html[start + 1..end];
            pos = end + 1;
            let (name, attrs) = tag.split_once(char::is_whitespace).unwrap_or((tag, ""));
            let name = name.to_ascii_lowercase();
            let attrs = attributes(attrs);
            let attr = |n: &str| attrs.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
            if let Some(closing) = name.strip_prefix('/') {
                if let Some(i) = stack.iter().rposition(|(n, _)| n == closing) {
                    stack.truncate(i);
                }
                if closing == "form" {
                    in_form = false;
                }
                continue;
            }
            let hidden_here = attr("aria-hidden") == Some("true")
                || attr("hidden").is_some()
                || attr("style").is_some_and(|s| {
                    let s = s.replace(' ', "");
                    s.contains("left:-5000px") || s.contains("left:-9999px")
                });
            let hidden = hidden_here || stack.iter().any(|(_, h)| *h);
            let inner_text = |close: &str| {
                let until = html[pos..].find(close).map_or(html.len(), |i| pos + i);
                text_of(&html[pos..until])
            };
            match name.as_str() {
                "form" => {
                    in_form = true;
                    let action = attr("action").unwrap_or("");
                    markup.action = match action.strip_prefix("//") {
                        Some(rest) => format!("https://{rest}"),
                        None => action.to_owned(),
                    };
                    markup.method = attr("method").unwrap_or("get").to_ascii_lowercase();
                }
                "label" => {
                    if let Some(for_id) = attr("for") {
                        labels.push((for_id.to_owned(), inner_text("</label>")));
                    }
                }
                "legend" | "h1" | "h2" | "h3" | "h4" if in_form && markup.legend.is_none() => {
                    markup.legend = Some(inner_text(&format!("</{name}>")));
                }
                "input" | "button" if in_form => {
                    let kind = match (name.as_str(), attr("type").unwrap_or("")) {
                        ("button", "" | "submit") => FieldKind::Submit,
                        ("button", _) => continue,
                        (_, "email") => FieldKind::Email,
                        (_, "" | "text") => FieldKind::Text,
                        (_, "hidden") => FieldKind::Hidden,
                        (_, "checkbox") => FieldKind::Checkbox,
                        (_, "radio") => FieldKind::Radio,
                        (_, "submit") => FieldKind::Submit,
                        _ => FieldKind::Other,
                    };
                    let value = attr("value").unwrap_or(if kind == FieldKind::Checkbox {
                        "on"
                    } else {
                        ""
                    });
                    markup.fields.push(FormField {
                        kind,
                        name: attr("name").unwrap_or("").to_owned(),
                        value: value.to_owned(),
                        id: attr("id").unwrap_or("").to_owned(),
                        label: String::new(),
                        checked: attr("checked").is_some(),
                        required: attr("required").is_some()
                            || attr("class")
                                .is_some_and(|c| c.split_whitespace().any(|w| w == "required")),
                        hidden_from_people: hidden,
                        placeholder: attr("placeholder").unwrap_or("").to_owned(),
                        options: Vec::new(),
                        group: String::new(),
                    });
                }
                _ => {}
            }
            if !matches!(
                name.as_str(),
                "input" | "br" | "img" | "meta" | "link" | "hr"
            ) {
                stack.push((name, hidden_here));
            }
        }
        for field in &mut markup.fields {
            if let Some((_, text)) = labels
                .iter()
                .find(|(id, _)| *id == field.id && !id.is_empty())
            {
                field.label = text.clone();
            }
        }
        markup
    }

    // ---- Helpers ------------------------------------------------------------------------

    fn upgrade(markup: &FormMarkup) -> Value {
        let text = config_json(markup).unwrap_or_else(|e| panic!("{e}"));
        parse(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
    }

    fn keys(v: &Value) -> Vec<&str> {
        match v {
            Value::Object(members) => members.iter().map(|(k, _)| k.as_str()).collect(),
            other => panic!("not an object: {other:?}"),
        }
    }

    fn pairs(v: Option<&Value>) -> Vec<(&str, &str)> {
        match v {
            None => Vec::new(),
            Some(Value::Object(members)) => members
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str().expect("a string")))
                .collect(),
            Some(other) => panic!("not an object: {other:?}"),
        }
    }

    /// (id, name, checked) of each newsletter, checking each has only the allowed keys.
    fn newsletters(v: &Value) -> Vec<(&str, &str, bool)> {
        let Some(Value::Array(items)) = v.get("newsletters") else {
            panic!("no newsletters array")
        };
        items
            .iter()
            .map(|n| {
                for k in keys(n) {
                    assert!(["id", "name", "checked"].contains(&k), "unexpected key {k}");
                }
                (
                    n.get("id").and_then(Value::as_str).unwrap(),
                    n.get("name").and_then(Value::as_str).unwrap(),
                    n.get("checked") == Some(&Value::Bool(true)),
                )
            })
            .collect()
    }

    fn s(v: &Value, key: &str) -> Option<String> {
        v.get(key).and_then(Value::as_str).map(str::to_owned)
    }

    /// The adapter the lead's provider parser builds from the produced JSON.
    fn adapter_from(markup: &FormMarkup) -> Adapter {
        let root = parse(&config_json(markup).unwrap()).unwrap();
        let root = crate::config::read::Object::new(&root, "", None).unwrap();
        crate::config::providers::adapter(&root, None, None).unwrap_or_else(|e| panic!("{e}"))
    }

    fn field(kind: FieldKind, name: &str, value: &str) -> FormField {
        FormField {
            value: value.into(),
            ..FormField::new(kind, name)
        }
    }

    fn form(action: &str, fields: Vec<FormField>) -> FormMarkup {
        FormMarkup {
            action: action.into(),
            method: "post".into(),
            fields,
            legend: None,
            text_above: None,
        }
    }

    fn error(markup: &FormMarkup) -> UpgradeError {
        config_json(markup).unwrap_err()
    }

    // ---- Mailchimp ----------------------------------------------------------------------

    #[test]
    fn mailchimp_embed_with_groups_honeypot_and_tags_becomes_a_mailchimp_config() {
        let markup = scan(&fixture("mailchimp-groups.html"));
        assert_eq!(Upgrade::of_action(&markup.action), Upgrade::Mailchimp);
        let v = upgrade(&markup);
        assert_eq!(
            keys(&v),
            ["provider", "newsletters", "mailchimp", "choice_optional"],
            "no group box is required, so the embed signs a reader up to the list alone too"
        );
        assert_eq!(s(&v, "provider").as_deref(), Some("mailchimp"));
        assert_eq!(
            newsletters(&v),
            [
                ("daily-digest", "Daily digest", false),
                ("weekly-wrapup", "Weekly wrapup", false),
                ("breaking-news-alerts", "Breaking news alerts", true),
            ],
            "the commented-out group is not offered"
        );
        let mc = v.get("mailchimp").unwrap();
        assert_eq!(keys(mc), ["action", "groups", "hidden"]);
        assert_eq!(
            s(mc, "action").as_deref(),
            Some("https://news.us9.list-manage.com/subscribe/post?u=5e0c1a9b7d3f2e4a6c8b0d1f3&id=7a2c4e6f80&f_id=00b1c2d3e4")
        );
        assert_eq!(
            pairs(mc.get("groups")),
            [
                ("daily-digest", "group[13145][1]"),
                ("weekly-wrapup", "group[13145][2]"),
                ("breaking-news-alerts", "group[13145][4]"),
            ]
        );
        assert_eq!(
            pairs(mc.get("hidden")),
            [("MERGE3", "homepage"), ("tags", "2948")],
            "neither the honeypot nor the submit button is a hidden field"
        );

        let Adapter::Mailchimp(a) = adapter_from(&markup) else {
            panic!("a mailchimp adapter")
        };
        assert_eq!(
            (a.u.as_str(), a.id.as_str(), a.f_id.as_deref()),
            (
                "5e0c1a9b7d3f2e4a6c8b0d1f3",
                "7a2c4e6f80",
                Some("00b1c2d3e4")
            )
        );
        assert_eq!(a.groups.len(), 3);
        assert_eq!(a.groups[2].field, "group[13145][4]");
    }

    #[test]
    fn the_readers_ticks_in_the_fallback_map_to_the_newsletters_they_stand_for() {
        let owned = |n: &str, v: &str, t: bool| (n.to_owned(), v.to_owned(), t);
        let markup = scan(&fixture("mailchimp-groups.html"));
        let now = [
            owned("group[13145][2]", "2", true),
            owned("group[13145][4]", "4", false),
            owned("gdpr[1]", "Y", true),
        ];
        assert_eq!(
            newsletter_boxes(&markup, &now),
            [
                ("weekly-wrapup".to_owned(), true),
                ("breaking-news-alerts".to_owned(), false)
            ],
            "a group by its field, whatever its value; a box that is no group is left out"
        );
        let mut plain = form(
            "https://news.example/subscribe",
            vec![
                field(FieldKind::Email, "email", ""),
                field(FieldKind::Checkbox, "lists[]", "daily"),
                field(FieldKind::Checkbox, "lists[]", "weekly"),
            ],
        );
        let now = [
            owned("lists[]", "weekly", true),
            owned("lists[]", "monthly", true),
        ];
        assert_eq!(
            newsletter_boxes(&plain, &now),
            [("weekly".to_owned(), true)],
            "a value the form did not offer is no newsletter"
        );
        plain.action = String::new();
        assert!(
            newsletter_boxes(&plain, &now).is_empty(),
            "no upgrade, nothing"
        );
    }

    #[test]
    fn the_fallback_form_rendered_from_a_config_reads_back_as_its_newsletters_and_destination() {
        use crate::config::fallback::fallback_form;
        let news = r#""newsletters": [{"id": "daily", "name": "Daily <digest> & \"more\""},
            {"id": "weekly", "name": "Щотижневик", "checked": true}, {"id": "culture", "name": "Culture's week"}]"#;
        let configs = [
            format!(
                r#"{{"endpoint": "https://news.example/api/subscribe?a=1&b=2", "lang": "en", {news}}}"#
            ),
            format!(
                r#"{{"endpoint": "https://news.example/api/subscribe", "lang": "uk", {news}}}"#
            ),
            format!(
                r#"{{"provider": "form", "lang": "uk", {news}, "form": {{"action": "https://news.example/s",
                "email_field": "EMAIL", "newsletter_field": "list[]", "hidden": {{"source": "footer \"x\""}}}}}}"#
            ),
            format!(
                r#"{{"provider": "mailchimp", "lang": "en", {news}, "mailchimp": {{
                "action": "https://news.us9.list-manage.com/subscribe/post?u=5e0c&id=7a2c",
                "groups": {{"daily": "group[21][1]", "weekly": "group[21][2]", "culture": "group[21][4]"}},
                "hidden": {{"tags": "123"}}}}}}"#
            ),
        ];
        for json in &configs {
            let config = Config::from_host(&HostInput {
                json: Some(json),
                ..HostInput::default()
            })
            .unwrap_or_else(|e| panic!("{e}: {json}"));
            let html = fallback_form(&config, "lb-f").expect("a form");
            assert!(html.contains("method=\"post\""), "{html}");
            for key in [
                crate::messages::Key::EmailLabel,
                crate::messages::Key::Submit,
            ] {
                let t = crate::config::fallback::escape(config.texts.text(key));
                assert!(html.contains(&t), "{t} in {html}");
            }
            assert!(!html.contains("<digest>"), "escaped: {html}");
            let markup = scan(&html);
            let upgraded = super::config(&markup).unwrap_or_else(|e| panic!("{e}: {html}"));
            let back = Config::from_host(&HostInput {
                upgraded: Some(&upgraded),
                ..HostInput::default()
            })
            .unwrap_or_else(|e| panic!("{e}: {upgraded:?}"));
            let names = |c: &Config| {
                c.newsletters
                    .iter()
                    .map(|n| n.name.clone())
                    .collect::<Vec<_>>()
            };
            assert_eq!(names(&back), names(&config), "{html}");
            let destination = |a: &Adapter| match a {
                Adapter::Json(j) => (j.endpoint.clone(), Vec::new()),
                Adapter::Form(f) => (f.action.clone(), f.hidden.clone()),
                Adapter::Mailchimp(m) => (
                    format!("{} {} {}", m.host, m.u, m.id),
                    m.groups
                        .iter()
                        .map(|g| (g.field.clone(), g.value.clone()))
                        .collect(),
                ),
                _ => panic!("no such provider here"),
            };
            match (&config.adapter, &back.adapter) {
                // The json endpoint is posted to as a plain form (the receiver takes both).
                (Adapter::Json(j), Adapter::Form(f)) => {
                    assert_eq!(f.action, j.endpoint);
                    let ids = |c: &Config| {
                        c.newsletters
                            .iter()
                            .map(|n| n.id.clone())
                            .collect::<Vec<_>>()
                    };
                    assert_eq!(ids(&back), ids(&config));
                    assert_eq!(f.newsletter_field.as_deref(), Some("newsletters"));
                }
                (Adapter::Form(a), Adapter::Form(b)) => {
                    assert_eq!(destination(&config.adapter), destination(&back.adapter));
                    assert_eq!(
                        (&a.email_field, &a.newsletter_field),
                        (&b.email_field, &b.newsletter_field)
                    );
                }
                (Adapter::Mailchimp(_), Adapter::Mailchimp(_)) => {
                    assert_eq!(destination(&config.adapter), destination(&back.adapter));
                }
                (a, b) => panic!("{} read back as {}", a.provider(), b.provider()),
            }
            let checked = |c: &Config| c.newsletters.iter().map(|n| n.checked).collect::<Vec<_>>();
            assert_eq!(checked(&back), checked(&config));
            // In the snippet the form sits next to the slot's JSON, which the slot keeps
            // following: the same provider and destination as without the form.
            let both = Config::from_host(&HostInput {
                upgraded: Some(&upgraded),
                json: Some(json),
                ..HostInput::default()
            })
            .unwrap_or_else(|e| panic!("{e}: {upgraded:?}"));
            assert_eq!(both.adapter, config.adapter, "{json}");
            assert_eq!(both.newsletters, config.newsletters);
        }
    }

    #[test]
    fn hosted_form_markup_with_the_ids_in_hidden_inputs_and_the_address_in_merge0_is_upgraded() {
        let markup = form(
            "https://example.us4.list-manage.com/subscribe/post",
            vec![
                field(FieldKind::Hidden, "u", "abc123"),
                field(FieldKind::Hidden, "id", "def456"),
                field(FieldKind::Email, "MERGE0", ""),
                FormField {
                    label: "First name".into(),
                    ..field(FieldKind::Text, "MERGE1", "")
                },
                field(FieldKind::Submit, "submit", "Subscribe"),
            ],
        );
        let v = upgrade(&markup);
        let mc = v.get("mailchimp").unwrap();
        assert_eq!(
            s(mc, "action").as_deref(),
            Some("https://example.us4.list-manage.com/subscribe/post?u=abc123&id=def456")
        );
        assert_eq!(keys(mc), ["action"], "u and id are not sent twice");
        assert!(config_json(&markup)
            .unwrap()
            .contains(r#""fields":[{"name":"MERGE1","label":"First name"}]"#));
        let config = Config::from_host(&HostInput {
            upgraded: Some(&config(&markup).unwrap()),
            ..Default::default()
        })
        .unwrap();
        assert!(
            matches!(config.adapter, Adapter::Mailchimp(m) if m.u == "abc123" && m.id == "def456")
        );
    }

    #[test]
    fn a_heading_that_asks_rather_than_names_does_not_name_the_newsletter() {
        for heading in [
            "Subscribe",
            "Subscribe!",
            "Subscribe to our mailing list",
            "Sign up for our quarterly updates:",
            "Join the WNY Cool Roof Project Community",
            "¿Te interesan los temas que publico?",
            "Abonnez-vous",
        ] {
            assert_eq!(title(Some(heading)), None, "{heading}");
        }
        for heading in [
            "Newsletter",
            "Design, Develop and Grow - The Newsletter",
            "The Daily Briefing",
        ] {
            assert_eq!(title(Some(heading)).as_deref(), Some(heading));
        }
    }

    #[test]
    fn a_sentence_describes_rather_than_names_the_newsletter() {
        for text in [
            "Die wichtigsten Nachrichten jeden Morgen.",
            "Subscribe to get non-boring business accounting tips.",
        ] {
            assert_eq!(title(Some(text)), None, "{text}");
        }
    }

    fn above(text: &str, labels_email: bool) -> Option<TextAbove> {
        Some(TextAbove {
            text: text.into(),
            labels_email,
        })
    }

    #[test]
    fn without_a_heading_the_text_above_the_fields_names_the_newsletter() {
        let mut markup = form(
            "https://news.example/join",
            vec![field(FieldKind::Email, "email", "")],
        );
        // Mailchimp's slim embed: the email field's label is the form's title.
        markup.text_above = above("The Weekly Digest", true);
        assert_eq!(
            newsletters(&upgrade(&markup)),
            [("default", "The Weekly Digest", false)]
        );
        // A paragraph above the fields (Brevo's title block).
        markup.text_above = above("Familien Festival", false);
        assert_eq!(
            newsletters(&upgrade(&markup)),
            [("default", "Familien Festival", false)]
        );
        // As with headings, a call to action or a description is no name.
        for text in [
            "Subscribe to our mailing list",
            "Melde dich zu unserem Newsletter an, um ….",
        ] {
            markup.text_above = above(text, false);
            assert_eq!(
                newsletters(&upgrade(&markup)),
                [("default", "Newsletter", false)],
                "{text}"
            );
        }
        // A heading wins over the text above.
        markup.legend = Some("The Daily Briefing".into());
        markup.text_above = above("The Weekly Digest", false);
        assert_eq!(
            newsletters(&upgrade(&markup)),
            [("default", "The Daily Briefing", false)]
        );
    }

    #[test]
    fn an_email_label_that_names_the_address_is_not_the_form_title() {
        let mut markup = form(
            "https://news.example/join",
            vec![field(FieldKind::Email, "email", "")],
        );
        for label in [
            "Email Address",
            "Enter your email",
            "Gebe deine E-Mail-Adresse ein, um dich anzumelden",
            "Correo electrónico",
            "Your address",
        ] {
            markup.text_above = above(label, true);
            assert_eq!(
                newsletters(&upgrade(&markup)),
                [("default", "Newsletter", false)],
                "{label}"
            );
        }
        // The same words in a paragraph that is no field's label still name the form.
        markup.text_above = above("The Address Book", false);
        assert_eq!(
            newsletters(&upgrade(&markup)),
            [("default", "The Address Book", false)]
        );
    }

    #[test]
    fn mailchimp_embed_without_groups_is_one_newsletter_named_by_its_heading() {
        let mut markup = scan(&fixture("mailchimp-single.html"));
        let v = upgrade(&markup);
        assert_eq!(
            newsletters(&v),
            [("list", "Newsletter", false)],
            "\"Subscribe to our mailing list\" asks, it does not name"
        );
        markup.legend = Some("The Daily Briefing".into());
        assert_eq!(
            newsletters(&upgrade(&markup)),
            [("list", "The Daily Briefing", false)]
        );
        let mc = v.get("mailchimp").unwrap();
        assert_eq!(
            keys(mc),
            ["action"],
            "no groups, no hidden fields (the optional FNAME/LNAME are fields)"
        );
        assert!(
            matches!(adapter_from(&markup), Adapter::Mailchimp(a) if a.groups.is_empty() && a.hidden.is_empty())
        );

        let mut unnamed = markup.clone();
        unnamed.legend = Some("  *  indicates\n required ".into());
        assert_eq!(
            newsletters(&upgrade(&unnamed)),
            [("list", "Newsletter", false)]
        );
    }

    #[test]
    fn mailchimp_embed_with_required_merge_fields_asks_for_them_with_their_labels() {
        let markup = scan(&fixture("mailchimp-required-name.html"));
        let v = upgrade(&markup);
        let fields: Vec<(String, String, bool)> = match v.get("fields") {
            Some(Value::Array(items)) => items
                .iter()
                .map(|f| {
                    (
                        s(f, "name").unwrap_or_default(),
                        s(f, "label").unwrap_or_default(),
                        f.get("required") == Some(&Value::Bool(true)),
                    )
                })
                .collect(),
            other => panic!("no fields: {other:?}"),
        };
        let want = |n: &str, l: &str, r: bool| (n.to_owned(), l.to_owned(), r);
        assert_eq!(
            fields,
            [
                want("FNAME", "First Name", true),
                want("LNAME", "Last Name", true),
                want("MMERGE5", "Role", false)
            ],
            "required by class, with the embed's labels (asterisk dropped); the optional one too"
        );
        let config = Config::from_host(&HostInput {
            upgraded: Some(&config(&markup).unwrap()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(config.fields.len(), 3);
        assert!(config.fields[0].required && !config.fields[2].required);
    }

    #[test]
    fn a_prefilled_required_merge_field_is_sent_rather_than_refused() {
        let mut markup = scan(&fixture("mailchimp-required-name.html"));
        for f in &mut markup.fields {
            if f.name == "FNAME" || f.name == "LNAME" {
                f.value = "Reader".into();
            }
        }
        let v = upgrade(&markup);
        assert_eq!(
            pairs(v.get("mailchimp").unwrap().get("hidden")),
            [("FNAME", "Reader"), ("LNAME", "Reader")]
        );
    }

    #[test]
    fn group_ids_are_stable_slugs_falling_back_to_the_group_field() {
        let action = "https://x.us1.list-manage.com/subscribe/post?u=abc&id=def";
        let boxes = [
            ("group[7][1]", "Économie & Marchés!"),
            ("group[7][2]", "Économie & Marchés!"),
            ("group[7][4]", "日本語"),
            ("group[7][8]", ""),
        ];
        let mut fields = vec![field(FieldKind::Email, "EMAIL", "")];
        fields.extend(boxes.iter().map(|(name, label)| FormField {
            label: (*label).into(),
            ..field(FieldKind::Checkbox, name, "1")
        }));
        let v = upgrade(&form(action, fields));
        assert_eq!(
            newsletters(&v),
            [
                ("conomie-march-s", "Économie & Marchés!", false),
                ("group-7-2", "Économie & Marchés!", false),
                ("group-7-4", "日本語", false),
                ("group-7-8", "Group 7-8", false),
            ]
        );
        assert_eq!(
            slug("  The   Daily  Briefing (weekday mornings) "),
            "the-daily-briefing-weekday-mornings"
        );
        assert!(slug(&"word ".repeat(40)).len() <= 48);
    }

    #[test]
    fn mailchimp_ids_in_hidden_inputs_and_unchecked_extra_boxes_are_not_sent() {
        let action = "https://x.us1.list-manage.com/subscribe/post?u=abc&amp;id=def";
        let fields = vec![
            field(FieldKind::Hidden, "u", "abc"),
            field(FieldKind::Hidden, "id", "def"),
            field(FieldKind::Email, "EMAIL", ""),
            field(FieldKind::Checkbox, "MMERGE9", "yes"),
            FormField {
                checked: true,
                hidden_from_people: true,
                ..field(FieldKind::Checkbox, "group[3][16]", "16")
            },
            FormField {
                hidden_from_people: true,
                ..field(FieldKind::Text, "b_abc_def", "filled by autofill")
            },
        ];
        let v = upgrade(&form(action, fields));
        let mc = v.get("mailchimp").unwrap();
        assert_eq!(
            pairs(mc.get("hidden")),
            [("group[3][16]", "16")],
            "a checked group box hidden from people is always sent, as the browser would"
        );
        assert_eq!(mc.get("groups"), None);
        assert_eq!(
            s(mc, "action").as_deref(),
            Some(action),
            "the action is kept as given"
        );
    }

    // ---- Plain forms --------------------------------------------------------------------

    #[test]
    fn plain_form_with_checkboxes_sharing_a_name_sends_them_as_the_newsletter_field() {
        let markup = scan(&fixture("plain-checkboxes.html"));
        assert_eq!(Upgrade::of_action(&markup.action), Upgrade::Plain);
        let v = upgrade(&markup);
        assert_eq!(
            keys(&v),
            ["provider", "newsletters", "form", "choice_optional"],
            "the form posts with no box ticked, so the slot may too"
        );
        assert_eq!(s(&v, "provider").as_deref(), Some("form"));
        assert_eq!(
            newsletters(&v),
            [
                ("daily", "The Daily Briefing", true),
                ("culture", "Arts & Culture <weekly>", false),
                ("climate", "\"Climate\" Friday", false),
            ]
        );
        let f = v.get("form").unwrap();
        assert_eq!(
            keys(f),
            ["action", "email_field", "newsletter_field", "hidden"]
        );
        assert_eq!(
            s(f, "action").as_deref(),
            Some("https://news.example/newsletters/subscribe")
        );
        assert_eq!(s(f, "email_field").as_deref(), Some("address"));
        assert_eq!(s(f, "newsletter_field").as_deref(), Some("newsletters[]"));
        assert_eq!(
            pairs(f.get("hidden")),
            [("source", "article-footer"), ("csrf", "not-a-real-token")],
            "an unnamed button sends nothing"
        );
        let Adapter::Form(a) = adapter_from(&markup) else {
            panic!("a form adapter")
        };
        assert_eq!(a.newsletter_field.as_deref(), Some("newsletters[]"));
        assert_eq!(a.email_field, "address");
    }

    #[test]
    fn plain_form_without_checkboxes_takes_its_newsletter_id_from_the_hidden_list_field() {
        let markup = scan(&fixture("plain-sendy.html"));
        let v = upgrade(&markup);
        assert_eq!(
            newsletters(&v),
            [("kT892Gv763V2mBYJ9UFSeg", "The Morning Briefing", false)]
        );
        let f = v.get("form").unwrap();
        assert_eq!(keys(f), ["action", "email_field", "hidden"]);
        assert_eq!(s(f, "email_field").as_deref(), Some("email"));
        assert_eq!(
            pairs(f.get("hidden")),
            [
                ("website", ""),
                ("list", "kT892Gv763V2mBYJ9UFSeg"),
                ("subform", "yes"),
                ("submit", "Subscribe"),
            ],
            "the off-screen honeypot is sent empty; the optional name is dropped"
        );
        let Adapter::Form(a) = adapter_from(&markup) else {
            panic!("a form adapter")
        };
        assert_eq!(a.action, "https://sendy.news.example/subscribe");
        assert_eq!(a.newsletter_field, None);
    }

    #[test]
    fn a_required_consent_box_becomes_the_slots_consent_and_is_sent_as_the_form_did() {
        let email = || field(FieldKind::Email, "email", "");
        let markup = form(
            "https://news.example/join",
            vec![
                email(),
                FormField {
                    required: true,
                    label: " I agree to the   privacy policy ".into(),
                    ..field(FieldKind::Checkbox, "agree", "yes")
                },
            ],
        );
        let v = upgrade(&markup);
        let consent = v.get("consent").expect("a consent setting");
        assert_eq!(
            s(consent, "text").as_deref(),
            Some("I agree to the privacy policy")
        );
        assert_eq!(
            s(consent, "version"),
            Some(label_version("I agree to the privacy policy"))
        );
        assert_eq!(
            pairs(v.get("form").unwrap().get("hidden")),
            [("agree", "yes")],
            "sent once the reader has ticked the widget's box"
        );
        let config = crate::config::Config::from_host(&crate::config::HostInput {
            upgraded: Some(&config(&markup).unwrap()),
            ..Default::default()
        })
        .unwrap();
        assert!(config.consent.is_some_and(|c| c.checkbox));
        // A box without a label has no text to show: the upgrade still asks for it to go.
        let unlabelled = form(
            "https://news.example/join",
            vec![
                email(),
                FormField {
                    required: true,
                    ..field(FieldKind::Checkbox, "agree", "")
                },
            ],
        );
        assert!(matches!(
            error(&unlabelled),
            UpgradeError::RequiredFields { .. }
        ));
    }

    #[test]
    fn plain_form_without_checkboxes_or_list_field_is_one_default_newsletter() {
        let mut markup = form(
            "https://news.example/join",
            vec![
                field(FieldKind::Text, "E-Mail", ""),
                field(FieldKind::Hidden, "list", "a"),
                field(FieldKind::Hidden, "list_id", "b"),
            ],
        );
        markup.method = "GET".into();
        let v = upgrade(&markup);
        assert_eq!(
            newsletters(&v),
            [("default", "Newsletter", false)],
            "two list-like fields: neither is obvious"
        );
        assert_eq!(
            s(v.get("form").unwrap(), "email_field").as_deref(),
            Some("E-Mail")
        );
    }

    #[test]
    fn the_email_field_is_the_visible_type_email_input_before_any_text_named_email() {
        let honeypot = FormField {
            hidden_from_people: true,
            ..field(FieldKind::Email, "email_confirm", "")
        };
        let markup = form(
            "https://news.example/join",
            vec![
                honeypot,
                field(FieldKind::Text, "email", ""),
                field(FieldKind::Email, "addr", ""),
            ],
        );
        let v = upgrade(&markup);
        let f = v.get("form").unwrap();
        assert_eq!(s(f, "email_field").as_deref(), Some("addr"));
        assert_eq!(
            pairs(f.get("hidden")),
            [("email_confirm", "")],
            "the hidden email-type honeypot is sent empty; the unused empty text field dropped"
        );
    }

    #[test]
    fn fixed_values_are_kept_as_the_browser_would_send_them() {
        let markup = form(
            "HTTPS://news.example/join",
            vec![
                field(FieldKind::Email, "email", ""),
                FormField {
                    checked: true,
                    required: true,
                    ..field(FieldKind::Radio, "format", "html")
                },
                FormField {
                    required: true,
                    ..field(FieldKind::Radio, "format", "text")
                },
                field(FieldKind::Other, "country", "GB"),
                field(FieldKind::Submit, "", ""),
                field(FieldKind::Submit, "later", "Second button"),
                field(FieldKind::Hidden, "utm", "a"),
                field(FieldKind::Hidden, "utm", "b"),
            ],
        );
        let v = upgrade(&markup);
        let f = v.get("form").unwrap();
        assert_eq!(s(f, "action").as_deref(), Some("https://news.example/join"));
        assert_eq!(
            pairs(f.get("hidden")),
            [("country", "GB"), ("utm", "a"), ("utm", "b")],
            "only the first submit button submits; repeated names stay repeated"
        );
        // The radio group is a choice of one, starting on its checked radio.
        assert!(config_json(&markup).unwrap().contains(
            r#""fields":[{"name":"format","label":"format","required":true,"value":"html","options":[{"value":"html","label":"html"},{"value":"text","label":"text"}]}]"#
        ));
    }

    #[test]
    fn labels_with_markup_characters_are_escaped_correctly() {
        let nasty = "Tom & \"Jerry\" <b>bold</b> \\ back\u{1}slash </script>";
        let markup = FormMarkup {
            legend: Some(nasty.into()),
            ..form(
                "https://news.example/join?a=1&b=\"2\"",
                vec![
                    field(FieldKind::Email, "e\"mail", ""),
                    field(FieldKind::Hidden, "k\\ey", "v\nalue"),
                ],
            )
        };
        let text = config_json(&markup).unwrap();
        assert!(
            text.contains(r#"Tom & \"Jerry\" <b>bold</b> \\ back\u0001slash"#),
            "{text}"
        );
        let v = parse(&text).unwrap();
        assert_eq!(newsletters(&v)[0].1, nasty);
        let f = v.get("form").unwrap();
        assert_eq!(
            s(f, "action").as_deref(),
            Some("https://news.example/join?a=1&b=\"2\"")
        );
        assert_eq!(s(f, "email_field").as_deref(), Some("e\"mail"));
        assert_eq!(pairs(f.get("hidden")), [("k\\ey", "v\nalue")]);

        let mut checkbox = field(FieldKind::Checkbox, "nl", "a\"b");
        checkbox.label = "  Arts\n &  <Culture>  ".into();
        let v = upgrade(&form(
            "https://news.example/join",
            vec![field(FieldKind::Email, "email", ""), checkbox],
        ));
        assert_eq!(newsletters(&v), [("a\"b", "Arts & <Culture>", false)]);
    }

    // ---- Errors -------------------------------------------------------------------------

    #[test]
    fn every_upgrade_error_says_what_to_change() {
        let email = || field(FieldKind::Email, "email", "");
        let ok = || form("https://news.example/join", vec![email()]);
        let cases: Vec<(FormMarkup, UpgradeError, &str)> = vec![
            (
                form("  ", vec![email()]),
                UpgradeError::NoAction,
                "set action=",
            ),
            (
                form("javascript:void(0)", vec![email()]),
                UpgradeError::ActionNotHttp("javascript:void(0)".into()),
                "not an http(s) URL",
            ),
            (
                FormMarkup {
                    method: "dialog".into(),
                    ..ok()
                },
                UpgradeError::UnsupportedMethod("dialog".into()),
                "only method=\"post\" and method=\"get\"",
            ),
            (
                form(
                    "https://x.us1.list-manage.com/subscribe/post?u=abc",
                    vec![email()],
                ),
                UpgradeError::IncompleteMailchimpAction(
                    "https://x.us1.list-manage.com/subscribe/post?u=abc".into(),
                ),
                "copy the form action again",
            ),
            (
                form(
                    "https://news.example/join",
                    vec![
                        field(FieldKind::Text, "name", ""),
                        FormField {
                            hidden_from_people: true,
                            ..email()
                        },
                    ],
                ),
                UpgradeError::NoEmailField,
                "type=\"email\"",
            ),
            (
                form(
                    "https://news.example/join",
                    vec![
                        email(),
                        FormField {
                            required: true,
                            label: "I accept the terms".into(),
                            ..field(FieldKind::Checkbox, "terms", "on")
                        },
                        FormField {
                            required: true,
                            label: "I am over 16".into(),
                            ..field(FieldKind::Checkbox, "age", "yes")
                        },
                    ],
                ),
                // The first required box becomes the consent box; a second cannot.
                UpgradeError::RequiredFields {
                    upgrade: Upgrade::Plain,
                    fields: vec!["age (\"I am over 16\")".into()],
                },
                "make these fields optional (remove required)",
            ),
            (
                form(
                    "https://news.example/join",
                    vec![
                        email(),
                        field(FieldKind::Checkbox, "daily", "1"),
                        field(FieldKind::Checkbox, "weekly", "1"),
                    ],
                ),
                UpgradeError::CheckboxNamesDiffer(vec!["daily".into(), "weekly".into()]),
                "give them one name",
            ),
            (
                form(
                    "https://news.example/join",
                    vec![email(), field(FieldKind::Checkbox, "list", " ")],
                ),
                UpgradeError::CheckboxWithoutValue("list".into()),
                "set value=",
            ),
            (
                form(
                    "https://news.example/join",
                    vec![
                        email(),
                        field(FieldKind::Checkbox, "list", "a"),
                        field(FieldKind::Checkbox, "list", "a"),
                    ],
                ),
                UpgradeError::DuplicateNewsletter("a".into()),
                "its own value",
            ),
        ];
        for (markup, expected, advice) in cases {
            let e = error(&markup);
            assert_eq!(e, expected);
            let message = e.to_string();
            assert!(message.contains(advice), "{message:?} lacks {advice:?}");
            assert!(message.starts_with("cannot upgrade this form"), "{message}");
        }
        assert!(config_json(&ok()).is_ok());
    }

    #[test]
    fn post_and_get_in_any_case_and_a_missing_method_are_accepted() {
        for method in ["post", "POST", "Get", "", " get "] {
            let markup = FormMarkup {
                method: method.into(),
                ..form(
                    "https://news.example/join",
                    vec![field(FieldKind::Email, "email", "")],
                )
            };
            assert!(config_json(&markup).is_ok(), "{method:?}");
        }
    }

    #[test]
    fn an_https_colon_host_action_resolved_against_the_page_is_read_as_its_mailchimp_form() {
        let markup = form(
            "https://news.example/newsletter/devdevil.us20.list-manage.com/subscribe/post?u=a93&amp;id=a07",
            vec![field(FieldKind::Email, "EMAIL", "")],
        );
        let v = upgrade(&markup);
        assert_eq!(s(&v, "provider").as_deref(), Some("mailchimp"));
        assert_eq!(
            s(v.get("mailchimp").unwrap(), "action").as_deref(),
            Some("https://devdevil.us20.list-manage.com/subscribe/post?u=a93&amp;id=a07")
        );
    }

    #[test]
    fn a_honeypot_copied_from_another_audience_is_still_sent_empty() {
        let markup = form(
            "https://gmail.us20.list-manage.com/subscribe/post?u=debad&amp;id=5ff0",
            vec![
                field(FieldKind::Email, "EMAIL", ""),
                FormField {
                    hidden_from_people: true,
                    ..field(FieldKind::Text, "b_25582_18957", "")
                },
                FormField {
                    hidden_from_people: true,
                    ..field(FieldKind::Text, "b_debad_5ff0", "")
                },
            ],
        );
        let v = upgrade(&markup);
        assert_eq!(
            pairs(v.get("mailchimp").unwrap().get("hidden")),
            [("b_25582_18957", "")],
            "the foreign honeypot as the embed sends it; the audience's own is the adapter's"
        );
    }

    #[test]
    fn an_old_http_list_manage1_action_is_called_on_list_manage_and_over_https_from_https_pages() {
        let markup = form(
            "http://daemon.us8.list-manage1.com/subscribe/post?u=92dc&amp;id=706d",
            vec![field(FieldKind::Email, "EMAIL", "")],
        );
        let v = upgrade(&markup);
        assert_eq!(s(&v, "provider").as_deref(), Some("mailchimp"));
        assert_eq!(
            s(v.get("mailchimp").unwrap(), "action").as_deref(),
            Some("http://daemon.us8.list-manage.com/subscribe/post?u=92dc&amp;id=706d")
        );
        let adapter = adapter_from(&markup);
        let call = |page: &str| {
            let mut envelope = crate::delivery::Envelope::example();
            envelope.signup.source.page = page.into();
            match adapter.start(&envelope) {
                crate::delivery::Next::Send(ex) => match ex.request {
                    crate::delivery::Request::Jsonp { url, .. } => url,
                    other => panic!("{other:?}"),
                },
                other => panic!("{other:?}"),
            }
        };
        assert!(
            call("https://news.example/a").starts_with("https://daemon.us8.list-manage.com/"),
            "no mixed content on an https page"
        );
        assert!(call("http://news.example/a").starts_with("http://daemon.us8.list-manage.com/"));
    }

    #[test]
    fn a_fragment_on_a_mailchimp_action_is_not_part_of_the_audience() {
        let markup = form(
            "https://a.us8.list-manage.com/subscribe/post?u=92dc&id=706d#mc_embed_signup",
            vec![field(FieldKind::Email, "EMAIL", "")],
        );
        let Adapter::Mailchimp(a) = adapter_from(&markup) else {
            panic!("a mailchimp adapter")
        };
        assert_eq!((a.u.as_str(), a.id.as_str()), ("92dc", "706d"));
    }

    #[test]
    fn only_list_manage_subscribe_post_actions_are_mailchimp() {
        for (action, expected) in [
            (
                "https://a.us1.list-manage.com/subscribe/post?u=1&id=2",
                Upgrade::Mailchimp,
            ),
            (
                "https://user@A.US1.LIST-MANAGE.COM:443/subscribe/post",
                Upgrade::Mailchimp,
            ),
            (
                "http://a.us1.list-manage1.com/subscribe/post?u=1&id=2",
                Upgrade::Mailchimp,
            ),
            (
                // `https:a.us1.list-manage.com/…` as an https page resolves it.
                "https://news.example/page/a.us1.list-manage.com/subscribe/post?u=1&amp;id=2",
                Upgrade::Mailchimp,
            ),
            (
                "https://news.example/page/a.us1.list-manage.com/subscribe/post?u=1",
                Upgrade::Plain,
            ),
            (
                "https://news.example/a.us1.list-manage.com.evil/subscribe/post?u=1&id=2",
                Upgrade::Plain,
            ),
            (
                "https://a.us1.list-manage.com/subscribe/post-json?u=1&id=2",
                Upgrade::Plain,
            ),
            (
                "https://list-manage.com/subscribe/post?u=1&id=2",
                Upgrade::Plain,
            ),
            (
                "https://list-manage.com.evil.example/subscribe/post",
                Upgrade::Plain,
            ),
            (
                "https://news.example/subscribe/post?x=a.list-manage.com",
                Upgrade::Plain,
            ),
            ("ftp://a.us1.list-manage.com/subscribe/post", Upgrade::Plain),
            ("", Upgrade::Plain),
        ] {
            assert_eq!(Upgrade::of_action(action), expected, "{action}");
        }
        assert_eq!(query_param("u=a%2Bb&amp;id=c", "id").as_deref(), Some("c"));
        assert_eq!(query_param("u=a%2Bb&amp;id=c", "u").as_deref(), Some("a+b"));
        assert_eq!(query_param("u=&id=c", "u"), None);
    }
}
