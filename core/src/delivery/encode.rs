//! Small text encoders the adapters need: percent-encoding for URLs and form bodies, and turning a
//! service's HTML message into plain text.
//!
//! Written here rather than pulled in as a dependency: each is a few dozen lines, and the widget's
//! wasm budget is tight.

/// Appends `s` percent-encoded to `out`: every byte except ASCII letters, digits and `-._~` becomes
/// `%XX`. A space is `%20` and a `+` is `%2B`, so a plus-address survives both a query string and an
/// `application/x-www-form-urlencoded` body (where a raw `+` would be read as a space).
///
/// ```
/// let mut out = String::new();
/// letterbox_core::delivery::encode::percent_encode(&mut out, "jane+news@example.com");
/// assert_eq!(out, "jane%2Bnews%40example.com");
/// ```
pub fn percent_encode(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 0xf)] as char);
        }
    }
}

/// `name=value` pairs joined with `&`, both sides percent-encoded: a query string or a form body.
///
/// ```
/// use letterbox_core::delivery::encode::form_encode;
/// let pairs = [("EMAIL", "a+b@example.com"), ("group[1][2]", "2"), ("b_u_id", "")];
/// assert_eq!(form_encode(pairs), "EMAIL=a%2Bb%40example.com&group%5B1%5D%5B2%5D=2&b_u_id=");
/// ```
pub fn form_encode<'a, I>(pairs: I) -> String
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    let mut out = String::new();
    for (i, (name, value)) in pairs.into_iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        percent_encode(&mut out, name);
        out.push('=');
        percent_encode(&mut out, value);
    }
    out
}

/// Decodes `%XX` escapes and `+` (as a space) in a query component. Invalid escapes are kept as
/// they are; bytes that do not form UTF-8 are replaced.
///
/// ```
/// assert_eq!(letterbox_core::delivery::encode::percent_decode("a%2Bb+c%zz"), "a+b c%zz");
/// ```
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = |b: u8| (b as char).to_digit(16);
                match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A service's HTML message as plain text: tags removed (a `<br>` or block end becomes a space),
/// the common entities decoded (`&amp; &lt; &gt; &quot; &apos; &#39; &nbsp;` and numeric ones).
/// The result still goes through [`crate::delivery::contract::clean_server_text`] before it is shown.
///
/// ```
/// use letterbox_core::delivery::encode::html_to_text;
/// assert_eq!(
///     html_to_text(r#"jane@example.com is already subscribed. <a href="https://x">Click here</a> &amp; more"#),
///     "jane@example.com is already subscribed. Click here & more"
/// );
/// ```
pub fn html_to_text(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        text.push_str(&rest[..open]);
        let after = &rest[open..];
        match after.find('>') {
            Some(close) => {
                let tag = after[1..close].trim_start_matches('/').to_ascii_lowercase();
                let name: String = tag
                    .chars()
                    .take_while(char::is_ascii_alphanumeric)
                    .collect();
                if matches!(
                    name.as_str(),
                    "br" | "p" | "div" | "li" | "ul" | "ol" | "tr" | "h1" | "h2" | "h3"
                ) {
                    text.push(' ');
                }
                rest = &after[close + 1..];
            }
            None => {
                // A lone `<` is text, not a tag.
                text.push_str(after);
                rest = "";
            }
        }
    }
    text.push_str(rest);
    decode_entities(&text)
}

fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let decoded = after.find(';').filter(|&semi| semi <= 10).and_then(|semi| {
            let name = &after[..semi];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some(' '),
                _ => name
                    .strip_prefix("#x")
                    .or_else(|| name.strip_prefix("#X"))
                    .map(|hex| u32::from_str_radix(hex, 16))
                    .or_else(|| name.strip_prefix('#').map(str::parse::<u32>))
                    .and_then(Result::ok)
                    .and_then(char::from_u32),
            };
            c.map(|c| (c, semi))
        });
        match decoded {
            Some((c, semi)) => {
                out.push(c);
                rest = &after[semi + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreserved_characters_pass_and_everything_else_is_escaped() {
        let mut out = String::new();
        percent_encode(&mut out, "Az09-._~ +&=/?#%[]юé");
        assert_eq!(out, "Az09-._~%20%2B%26%3D%2F%3F%23%25%5B%5D%D1%8E%C3%A9");
    }

    #[test]
    fn a_plus_address_round_trips_through_encoding() {
        let mut out = String::new();
        percent_encode(&mut out, "Jane.Doe+news@example.com");
        assert!(!out.contains('+'));
        assert_eq!(percent_decode(&out), "Jane.Doe+news@example.com");
    }

    #[test]
    fn decoding_keeps_broken_escapes_and_never_panics() {
        assert_eq!(percent_decode("%"), "%");
        assert_eq!(percent_decode("%4"), "%4");
        assert_eq!(percent_decode("%41%42"), "AB");
        assert_eq!(percent_decode("%FF"), "\u{FFFD}");
        assert_eq!(percent_decode("ю%"), "ю%");
    }

    #[test]
    fn html_becomes_text_with_entities_decoded() {
        assert_eq!(html_to_text("a<br/>b<p>c</p>"), "a b c ");
        assert_eq!(
            html_to_text("1 &lt; 2 &#39;x&#x27; &bogus; & done"),
            "1 < 2 'x' &bogus; & done"
        );
        assert_eq!(html_to_text("x < y"), "x < y");
        assert_eq!(html_to_text("<script>alert(1)</script>"), "alert(1)");
        assert_eq!(html_to_text("&#1000000000;"), "&#1000000000;");
    }
}
