//! `letterbox-receiver export --format csv`: the list as CSV for a mail service.
//!
//! One row per address and newsletter: `email,newsletter,status,locale,source_page,created_at,
//! confirmed_at,consent_version,consent_at,consent_text` (times in RFC 3339 UTC; the consent
//! columns are empty when the signup carried no consent record). By default only confirmed subscriptions (`subscribed`);
//! `--all` adds pending and unsubscribed rows. Every field is quoted.
//!
//! Formula injection: a spreadsheet treats a cell that begins with `=`, `+`, `-` or `@` (or a tab
//! or carriage return before one) as a formula, and the page and even the address come from
//! readers. Following OWASP's advice such a cell is written with a leading `'`, so it shows as
//! text. `--raw` turns this off for a mail service that imports the file itself (an address such
//! as `-news@example.com` is valid and would otherwise gain the quote).

use std::io::Write;

use crate::db::{Db, Subscription};

/// The CSV header line.
pub const HEADER: &str = "email,newsletter,status,locale,source_page,created_at,confirmed_at,\
                          consent_version,consent_at,consent_text";

/// One CSV field, quoted, with quotes doubled.
pub fn field(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// Like [`field`], with a cell that a spreadsheet would read as a formula (beginning with `=`,
/// `+`, `-`, `@`, tab or carriage return) prefixed with `'`.
pub fn safe_field(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        field(&format!("'{text}"))
    } else {
        field(text)
    }
}

/// Milliseconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn rfc3339(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// One subscription as a CSV line (without the newline); `raw` skips the formula protection.
pub fn line(s: &Subscription, raw: bool) -> String {
    let cell = if raw { field } else { safe_field };
    let consent: serde_json::Value = s
        .consent
        .as_deref()
        .and_then(|c| serde_json::from_str(c).ok())
        .unwrap_or_default();
    let member = |name: &str| consent[name].as_str().unwrap_or_default().to_owned();
    let given_at = consent["at_ms"].as_i64().map(rfc3339).unwrap_or_default();
    [
        cell(&s.email),
        cell(&s.newsletter),
        cell(&s.status),
        cell(&s.locale),
        cell(&s.source_page),
        cell(&rfc3339(s.created_at)),
        cell(&s.confirmed_at.map(rfc3339).unwrap_or_default()),
        cell(&member("version")),
        cell(&given_at),
        cell(&member("text")),
    ]
    .join(",")
}

/// Writes the export to `out`; returns the number of rows.
pub async fn write_csv(
    db: &Db,
    all: bool,
    raw: bool,
    out: &mut impl Write,
) -> Result<usize, String> {
    let rows = db.subscriptions().await?;
    let io = |e: std::io::Error| format!("writing the export: {e}");
    writeln!(out, "{HEADER}").map_err(io)?;
    let mut n = 0;
    for s in rows.iter().filter(|s| all || s.status == "subscribed") {
        writeln!(out, "{}", line(s, raw)).map_err(io)?;
        n += 1;
    }
    out.flush().map_err(io)?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_718_000_000_000), "2024-06-10T06:13:20Z");
    }

    #[test]
    fn formula_cells_get_a_leading_quote() {
        for (cell, want) in [
            (
                "=HYPERLINK(\"http://x\")",
                "\"'=HYPERLINK(\"\"http://x\"\")\"",
            ),
            ("+1", "\"'+1\""),
            ("-2+3", "\"'-2+3\""),
            ("@SUM(A1)", "\"'@SUM(A1)\""),
            ("\t=1", "\"'\t=1\""),
            ("\r=1", "\"'\r=1\""),
            ("jane@example.com", "\"jane@example.com\""),
            ("a=b", "\"a=b\""),
            ("", "\"\""),
        ] {
            assert_eq!(safe_field(cell), want, "{cell:?}");
        }
    }

    #[test]
    fn quotes_are_doubled() {
        assert_eq!(field("a\"b,c"), "\"a\"\"b,c\"");
    }
}
