//! Internationalised domains converted to ASCII by the browser's own URL parser (UTS #46), so the
//! widget ships no IDNA tables.

use letterbox_core::email::DomainToAscii;

/// [`DomainToAscii`] through `new URL("http://<domain>/").hostname`.
#[derive(Debug, Clone, Copy, Default)]
pub struct BrowserIdn;

/// Characters that would make the URL parser read something other than a host, or that no
/// domain may contain. Such a domain is refused before it reaches the parser.
fn has_url_delimiter(domain: &str) -> bool {
    domain.chars().any(|c| {
        matches!(
            c,
            '/' | '\\' | '?' | '#' | '@' | ':' | '[' | ']' | '%' | '<' | '>' | '^' | '|'
        ) || c.is_whitespace()
            || c.is_control()
    })
}

impl DomainToAscii for BrowserIdn {
    fn to_ascii(&self, domain: &str) -> Option<String> {
        if domain.is_empty() || has_url_delimiter(domain) {
            return None;
        }
        let url = web_sys::Url::new(&format!("http://{domain}/")).ok()?;
        let host = url.hostname();
        (!host.is_empty()).then_some(host)
    }
}
