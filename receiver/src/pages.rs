//! What the receiver says to readers, in English and Ukrainian: the server-only messages (JSON
//! error texts, confirmation email), and the plain HTML pages (no-JS form result, confirm and
//! unsubscribe pages). Wording follows the design guide and reuses the widget's catalogue
//! (`letterbox_core::messages`) wherever the widget already has the sentence.
//!
//! Everything inserted into HTML goes through [`escape`].

use letterbox_core::messages::{Catalogue, Key, Lang};

/// A server-only message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Msg {
    /// The request could not be read (not JSON, not UTF-8, too large, wrong content type).
    Unreadable,
    /// A newsletter id that the site does not have.
    NewsletterUnknown,
    /// The address failed the second opinion (`validator`).
    EmailFormat,
    /// The page's origin is not on the allow-list.
    OriginRefused,
    /// Rate limited; `{seconds}`.
    RateLimited,
    /// Something broke on the server.
    ServerProblem,
    /// The same Idempotency-Key with a different request.
    KeyReused,
    /// Confirm page heading.
    ConfirmTitle,
    /// Confirm page text; `{email}`, `{newsletters}`.
    ConfirmBody,
    /// Confirm button.
    ConfirmButton,
    /// After confirming: heading.
    ConfirmedTitle,
    /// Expired or unknown link: heading.
    LinkExpiredTitle,
    /// Expired or unknown link: text.
    LinkExpiredBody,
    /// Unsubscribe page heading.
    UnsubscribeTitle,
    /// Unsubscribe page text; `{email}`, `{newsletters}`.
    UnsubscribeBody,
    /// Unsubscribe button.
    UnsubscribeButton,
    /// After unsubscribing: heading.
    UnsubscribedTitle,
    /// After unsubscribing: text; `{email}`.
    UnsubscribedBody,
    /// Link back to the form.
    Back,
    /// Email subject; `{newsletters}`.
    MailSubject,
    /// Email text; `{email}`, `{newsletters}`, `{link}`, `{unsubscribe}`, `{site}`.
    MailBody,
    /// Subject of the notice to an address already subscribed; `{site}`.
    NoticeSubject,
    /// Text of that notice; `{email}`, `{newsletters}`, `{unsubscribe}`, `{site}`.
    NoticeBody,
}

impl Msg {
    /// The text in `lang`.
    pub fn text(self, lang: Lang) -> &'static str {
        use Lang::{En, Uk};
        match (self, lang) {
            (Msg::Unreadable, En) => "Reload the page and send the form again",
            (Msg::Unreadable, Uk) => "Оновіть сторінку й надішліть форму ще раз",
            (Msg::NewsletterUnknown, En) => "Select a newsletter from the list",
            (Msg::NewsletterUnknown, Uk) => "Оберіть розсилку зі списку",
            (Msg::EmailFormat, En) => {
                "Enter an email address in the correct format, like name@example.com"
            }
            (Msg::EmailFormat, Uk) => {
                "Введіть адресу електронної пошти в правильному форматі, наприклад name@example.com"
            }
            (Msg::OriginRefused, En) => "This signup form is not set up to send from this site",
            (Msg::OriginRefused, Uk) => "Ця форма підписки не налаштована для цього сайту",
            (Msg::RateLimited, En) => "Wait {seconds} seconds, then send the form again",
            (Msg::RateLimited, Uk) => "Зачекайте {seconds} с, а потім надішліть форму ще раз",
            (Msg::ServerProblem, En) => {
                "The signup service has a problem at the moment. Try again in a few minutes"
            }
            (Msg::ServerProblem, Uk) => {
                "Сервіс підписки зараз має проблему. Спробуйте ще раз за кілька хвилин"
            }
            (Msg::KeyReused, En) => "Reload the page and send the form again",
            (Msg::KeyReused, Uk) => "Оновіть сторінку й надішліть форму ще раз",
            (Msg::ConfirmTitle, En) => "Confirm your subscription",
            (Msg::ConfirmTitle, Uk) => "Підтвердьте підписку",
            (Msg::ConfirmBody, En) => "Confirm that {email} should receive {newsletters}.",
            (Msg::ConfirmBody, Uk) => "Підтвердьте, що на {email} надходитимуть {newsletters}.",
            (Msg::ConfirmButton, En) => "Confirm subscription",
            (Msg::ConfirmButton, Uk) => "Підтвердити підписку",
            (Msg::ConfirmedTitle, En) => "Your subscription is confirmed",
            (Msg::ConfirmedTitle, Uk) => "Підписку підтверджено",
            (Msg::LinkExpiredTitle, En) => "This link has expired",
            (Msg::LinkExpiredTitle, Uk) => "Термін дії посилання минув",
            (Msg::LinkExpiredBody, En) => "Sign up again on the site to get a new link.",
            (Msg::LinkExpiredBody, Uk) => {
                "Підпишіться на сайті ще раз, щоб отримати нове посилання."
            }
            (Msg::UnsubscribeTitle, En) => "Unsubscribe",
            (Msg::UnsubscribeTitle, Uk) => "Відписатися",
            (Msg::UnsubscribeBody, En) => "Stop sending {newsletters} to {email}.",
            (Msg::UnsubscribeBody, Uk) => "Більше не надсилати {newsletters} на {email}.",
            (Msg::UnsubscribeButton, En) => "Unsubscribe",
            (Msg::UnsubscribeButton, Uk) => "Відписатися",
            (Msg::UnsubscribedTitle, En) => "You’re unsubscribed",
            (Msg::UnsubscribedTitle, Uk) => "Ви відписалися",
            (Msg::UnsubscribedBody, En) => "We will send no more newsletters to {email}.",
            (Msg::UnsubscribedBody, Uk) => "Ми більше не надсилатимемо розсилки на {email}.",
            (Msg::Back, En) => "Go back to the form",
            (Msg::Back, Uk) => "Повернутися до форми",
            (Msg::MailSubject, En) => "Confirm your subscription to {newsletters}",
            (Msg::MailSubject, Uk) => "Підтвердьте підписку на {newsletters}",
            (Msg::MailBody, En) => {
                "Someone, probably you, asked to receive {newsletters} from {site} at {email}.\n\n\
                 To confirm, open this link and press the button:\n{link}\n\n\
                 If it was not you, ignore this email: nothing is sent without confirmation.\n\n\
                 Unsubscribe: {unsubscribe}\n"
            }
            (Msg::MailBody, Uk) => {
                "Хтось, імовірно ви, попросив надсилати {newsletters} від {site} на {email}.\n\n\
                 Щоб підтвердити, відкрийте це посилання й натисніть кнопку:\n{link}\n\n\
                 Якщо це були не ви, просто ігноруйте цей лист: без підтвердження ми нічого не надсилатимемо.\n\n\
                 Відписатися: {unsubscribe}\n"
            }
            (Msg::NoticeSubject, En) => "You are already subscribed to {site}",
            (Msg::NoticeSubject, Uk) => "Ви вже підписані на {site}",
            (Msg::NoticeBody, En) => {
                "Someone, probably you, asked to receive {newsletters} from {site} at {email}.\n\n\
                 This address already receives them, so nothing changes and nothing needs to be \
                 done. The site did not tell the person who asked.\n\n\
                 Unsubscribe: {unsubscribe}\n"
            }
            (Msg::NoticeBody, Uk) => {
                "Хтось, імовірно ви, попросив надсилати {newsletters} від {site} на {email}.\n\n\
                 Ця адреса вже їх отримує, тож нічого не змінюється і робити нічого не треба. \
                 Сайт не повідомив того, хто це попросив.\n\n\
                 Відписатися: {unsubscribe}\n"
            }
        }
    }

    /// The text in `lang` with `{name}` placeholders filled.
    pub fn format(self, lang: Lang, args: &[(&str, &str)]) -> String {
        fill(self.text(lang), args)
    }
}

/// Replaces each `{name}` in `template` by its value.
pub fn fill(template: &str, args: &[(&str, &str)]) -> String {
    let mut out = template.to_owned();
    for (name, value) in args {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

/// The widget's catalogue in `lang`.
pub fn catalogue(lang: Lang) -> Catalogue {
    Catalogue::new(lang, Vec::new())
}

/// A catalogue sentence with placeholders filled.
pub fn core_text(lang: Lang, key: Key, args: &[(&str, &str)]) -> String {
    catalogue(lang).format(key, args)
}

/// Escapes text for HTML element content and attribute values (core's, which the fallback
/// form the widget upgrades is written with).
pub use letterbox_core::config::fallback::escape;

/// A whole page: `title` as `<h1>`, paragraphs of text, and optional extra HTML (already safe).
pub fn page(
    lang: Lang,
    site: &str,
    title: &str,
    paragraphs: &[String],
    extra_html: &str,
) -> String {
    let mut body = String::new();
    for p in paragraphs {
        body.push_str("<p>");
        body.push_str(&escape(p));
        body.push_str("</p>\n");
    }
    format!(
        "<!doctype html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"robots\" content=\"noindex\">\n<title>{title} – {site}</title>\n\
         <style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;\
         line-height:1.5}}button{{font:inherit;padding:.5rem 1rem}}</style>\n</head>\n<body>\n<main>\n\
         <h1>{title}</h1>\n{body}{extra_html}</main>\n</body>\n</html>\n",
        lang = lang.tag(),
        title = escape(title),
        site = escape(site),
    )
}

/// A form that POSTs to `action` with one button (used by confirm and unsubscribe pages, so a
/// mail scanner that follows GET links changes nothing).
pub fn button_form(action: &str, label: &str) -> String {
    format!(
        "<form method=\"post\" action=\"{}\"><button type=\"submit\">{}</button></form>\n",
        escape(action),
        escape(label)
    )
}

/// A link back to the form when the `Referer` is an http(s) URL.
pub fn back_link(lang: Lang, referer: Option<&str>) -> String {
    match referer {
        Some(r) if r.starts_with("https://") || r.starts_with("http://") => format!(
            "<p><a href=\"{}\">{}</a></p>\n",
            escape(r),
            escape(Msg::Back.text(lang))
        ),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_escape_everything_they_insert() {
        let html = page(
            Lang::En,
            "<Site>",
            "<t>",
            &["<script>alert(1)</script>".into()],
            "",
        );
        assert!(!html.contains("<script>"));
        assert!(html.contains("&lt;script&gt;"));
        assert!(html.contains("&lt;Site&gt;"));
    }

    #[test]
    fn placeholders_are_filled() {
        assert_eq!(
            Msg::RateLimited.format(Lang::En, &[("seconds", "30")]),
            "Wait 30 seconds, then send the form again"
        );
    }
}
