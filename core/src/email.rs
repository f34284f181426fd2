//! The email rule: one function, [`parse_email`], used by the widget in the browser and by the
//! receiver on the server, so both sides accept exactly the same addresses.
//!
//! This module owns the rule, the normalised [`Email`] it produces, the [`EmailError`] reasons (with
//! their stable codes) and the [`DomainToAscii`] seam through which an internationalised domain is
//! converted to ASCII (the browser's URL parser in the widget, the `idna` crate natively).
//!
//! # The rule
//!
//! Surrounding whitespace (Unicode `White_Space`, which includes space, tab, CR and LF) is trimmed.
//! The rest is accepted exactly when:
//!
//! * it contains exactly one `@`;
//! * the local part (before the `@`) is 1–64 characters from the WHATWG set
//!   ``A-Z a-z 0-9 . ! # $ % & ' * + / = ? ^ _ ` { | } ~ -``, does not start or end with a dot and
//!   has no two dots in a row. Its case is kept;
//! * the domain (after the `@`), converted to ASCII with UTS #46 when it contains non-ASCII
//!   characters (a pure-ASCII domain is only lower-cased), has at least two labels; each label is
//!   1–63 letters, digits and hyphens and does not start or end with a hyphen; the domain is at
//!   most 253 characters and its last label is not all digits;
//! * the whole ASCII address is at most 254 characters. (So the longest domain that can actually
//!   be accepted is 252 characters, with a one-character local part; a 253-character domain passes
//!   the domain check and is then refused as [`EmailError::TooLong`].)
//!
//! So `Jane@München.de` is accepted and normalised to `Jane@xn--mnchen-3ya.de`, while
//! `a@example.com.` (empty last label), `a@localhost` (one label) and `.a@example.com` are refused.
//! The result of the IDN conversion is checked again with the same letter-digit-hyphen rules, so a
//! converter that lets something odd through cannot smuggle it into an accepted address.
//!
//! # Which error wins
//!
//! The checks run in this order and the first failure is reported:
//!
//! 1. [`EmailError::Empty`]: nothing but whitespace.
//! 2. [`EmailError::MissingAt`], [`EmailError::MultipleAt`]: the count of `@` (only U+0040
//!    counts; a full-width `＠` is an ordinary character).
//! 3. The local part: [`EmailError::LocalPartEmpty`], then [`EmailError::LocalPartInvalid`]
//!    (a character outside the set, or a misplaced dot), then [`EmailError::LocalPartTooLong`].
//!    Characters are checked before length because a part with a wrong character is wrong at any
//!    length, and the limit of 64 is then a count of ASCII characters.
//! 4. The domain: [`EmailError::DomainEmpty`]; [`EmailError::DomainInvalid`] when the IDN conversion
//!    fails or a label breaks the letter-digit-hyphen rules (including an empty label, as in a
//!    trailing dot); [`EmailError::DomainIncomplete`] for a single label; [`EmailError::DomainInvalid`]
//!    for a domain over 253 characters or an all-digit last label.
//! 5. [`EmailError::TooLong`]: the whole ASCII address is over 254 characters.
//!
//! The function never panics, whatever the input.

use std::fmt;

/// Converts an internationalised domain to its ASCII (punycode) form, UTS #46 style.
///
/// The widget implements it with the browser's URL parser (so the wasm carries no IDNA tables);
/// natively [`Uts46`] uses the `idna` crate. Return `None` when the domain cannot be converted.
///
/// [`parse_email`] calls it only for a domain containing non-ASCII characters, and checks what it
/// returns with the same letter-digit-hyphen rules as a typed ASCII domain, so an implementation
/// does not need to validate beyond what UTS #46 itself does.
///
/// ```
/// use letterbox_core::email::{parse_email, DomainToAscii};
///
/// /// Refuses every internationalised domain.
/// struct AsciiOnly;
///
/// impl DomainToAscii for AsciiOnly {
///     fn to_ascii(&self, _domain: &str) -> Option<String> {
///         None
///     }
/// }
///
/// assert!(parse_email("jane@example.com", &AsciiOnly).is_ok());
/// assert!(parse_email("jane@münchen.de", &AsciiOnly).is_err());
/// ```
pub trait DomainToAscii {
    /// The ASCII form of `domain`, or `None` if it is not a valid internationalised domain.
    fn to_ascii(&self, domain: &str) -> Option<String>;
}

/// Native UTS #46 conversion through the `idna` crate (`idna::domain_to_ascii`: non-transitional,
/// hyphen placement and DNS length left to the rule). Not available in the wasm build.
#[cfg(not(target_arch = "wasm32"))]
#[derive(Debug, Clone, Copy, Default)]
pub struct Uts46;

#[cfg(not(target_arch = "wasm32"))]
impl DomainToAscii for Uts46 {
    fn to_ascii(&self, domain: &str) -> Option<String> {
        idna::domain_to_ascii(domain).ok()
    }
}

/// A normalised address: surrounding whitespace trimmed, the local part's case kept, the domain
/// in lower-case ASCII.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    address: String,
    at: usize,
}

impl Email {
    /// The whole normalised address, e.g. `Jane@xn--mnchen-3ya.de`.
    pub fn as_str(&self) -> &str {
        &self.address
    }
    /// The part before the `@`, as typed (its case kept).
    pub fn local(&self) -> &str {
        &self.address[..self.at]
    }
    /// The ASCII domain, lower-cased.
    pub fn domain(&self) -> &str {
        &self.address[self.at + 1..]
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.address)
    }
}

/// Why an address was refused. Each variant has its own message in [`crate::messages`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EmailError {
    /// Nothing but whitespace was entered.
    Empty,
    /// There is no `@`.
    MissingAt,
    /// There is more than one `@`.
    MultipleAt,
    /// Nothing before the `@`.
    LocalPartEmpty,
    /// More than 64 characters before the `@`.
    LocalPartTooLong,
    /// A character outside the WHATWG set before the `@`, or a misplaced dot.
    LocalPartInvalid,
    /// Nothing after the `@`.
    DomainEmpty,
    /// The domain has a single label (`jane@gmail`).
    DomainIncomplete,
    /// The domain is not letters, digits and hyphens in 1–63 character labels, ends in an all-digit
    /// label, is longer than 253 characters, or cannot be converted to ASCII.
    DomainInvalid,
    /// The whole ASCII address is longer than 254 characters.
    TooLong,
}

impl EmailError {
    /// A stable, machine-readable code (`empty`, `missing_at`, …), printed by the `check-email`
    /// example and usable in logs.
    pub fn code(self) -> &'static str {
        match self {
            EmailError::Empty => "empty",
            EmailError::MissingAt => "missing_at",
            EmailError::MultipleAt => "multiple_at",
            EmailError::LocalPartEmpty => "local_part_empty",
            EmailError::LocalPartTooLong => "local_part_too_long",
            EmailError::LocalPartInvalid => "local_part_invalid",
            EmailError::DomainEmpty => "domain_empty",
            EmailError::DomainIncomplete => "domain_incomplete",
            EmailError::DomainInvalid => "domain_invalid",
            EmailError::TooLong => "too_long",
        }
    }
}

impl fmt::Display for EmailError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl std::error::Error for EmailError {}

/// The longest local part, in characters (RFC 5321 §4.5.3.1.1).
const MAX_LOCAL_PART_LEN: usize = 64;
/// The longest domain label, in characters (RFC 1035 §2.3.4).
const MAX_LABEL_LEN: usize = 63;
/// The longest ASCII domain, in characters (RFC 1035, without the trailing root dot).
const MAX_DOMAIN_LEN: usize = 253;
/// The longest whole ASCII address, in characters (RFC 5321 path limit minus the angle brackets).
const MAX_ADDRESS_LEN: usize = 254;

/// Checks and normalises an address typed or pasted by a reader.
///
/// Surrounding whitespace is trimmed, the local part keeps its case and the domain comes back in
/// lower-case ASCII (an internationalised domain is converted with `idn`, which is only called when
/// the domain contains non-ASCII characters). See the [module documentation](self) for the rule
/// and for which error is reported when several apply. Never panics.
///
/// # Examples
///
/// ```
/// use letterbox_core::email::{parse_email, EmailError, Uts46};
///
/// let email = parse_email("  Jane.Doe+news@München.DE \n", &Uts46).unwrap();
/// assert_eq!(email.as_str(), "Jane.Doe+news@xn--mnchen-3ya.de");
/// assert_eq!(email.local(), "Jane.Doe+news");
/// assert_eq!(email.domain(), "xn--mnchen-3ya.de");
///
/// assert_eq!(parse_email("jane@gmail", &Uts46), Err(EmailError::DomainIncomplete));
/// assert_eq!(parse_email("jane@example.com.", &Uts46).unwrap_err().code(), "domain_invalid");
/// ```
pub fn parse_email(input: &str, idn: &dyn DomainToAscii) -> Result<Email, EmailError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(EmailError::Empty);
    }

    // `@` is ASCII, so these byte positions are always char boundaries.
    let at = match trimmed.find('@') {
        None => return Err(EmailError::MissingAt),
        Some(at) => at,
    };
    let local = &trimmed[..at];
    let domain = &trimmed[at + 1..];
    if domain.contains('@') {
        return Err(EmailError::MultipleAt);
    }

    check_local_part(local)?;
    let domain = domain_to_ascii(domain, idn)?;

    let total = local.len() + 1 + domain.len();
    if total > MAX_ADDRESS_LEN {
        return Err(EmailError::TooLong);
    }

    let mut address = String::with_capacity(total);
    address.push_str(local);
    address.push('@');
    address.push_str(&domain);
    Ok(Email {
        address,
        at: local.len(),
    })
}

/// Whether `b` may appear in a local part: the WHATWG "valid e-mail address" set.
fn is_local_part_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+/=?^_`{|}~-.".contains(&b)
}

fn check_local_part(local: &str) -> Result<(), EmailError> {
    let bytes = local.as_bytes();
    if bytes.is_empty() {
        return Err(EmailError::LocalPartEmpty);
    }
    // Any non-ASCII character has bytes >= 0x80, which are not in the set.
    if !bytes.iter().all(|&b| is_local_part_byte(b))
        || bytes.first() == Some(&b'.')
        || bytes.last() == Some(&b'.')
        || bytes.windows(2).any(|w| w == b"..")
    {
        return Err(EmailError::LocalPartInvalid);
    }
    // All ASCII now, so bytes are characters.
    if bytes.len() > MAX_LOCAL_PART_LEN {
        return Err(EmailError::LocalPartTooLong);
    }
    Ok(())
}

/// Converts the domain as typed to lower-case ASCII and checks it.
fn domain_to_ascii(domain: &str, idn: &dyn DomainToAscii) -> Result<String, EmailError> {
    if domain.is_empty() {
        return Err(EmailError::DomainEmpty);
    }
    let ascii = if domain.is_ascii() {
        domain.to_ascii_lowercase()
    } else {
        match idn.to_ascii(domain) {
            Some(converted) => converted.to_ascii_lowercase(),
            None => return Err(EmailError::DomainInvalid),
        }
    };
    check_ascii_domain(&ascii)?;
    Ok(ascii)
}

/// Checks a domain that should already be ASCII. Also re-checks the converter's output, so
/// anything non-ASCII or otherwise odd it returns is refused here.
fn check_ascii_domain(domain: &str) -> Result<(), EmailError> {
    let mut labels = 0usize;
    let mut last = "";
    for label in domain.split('.') {
        if !is_ldh_label(label) {
            return Err(EmailError::DomainInvalid);
        }
        labels += 1;
        last = label;
    }
    if labels < 2 {
        return Err(EmailError::DomainIncomplete);
    }
    if domain.len() > MAX_DOMAIN_LEN || last.bytes().all(|b| b.is_ascii_digit()) {
        return Err(EmailError::DomainInvalid);
    }
    Ok(())
}

/// 1–63 ASCII letters, digits and hyphens, not starting or ending with a hyphen.
fn is_ldh_label(label: &str) -> bool {
    let bytes = label.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= MAX_LABEL_LEN
        && bytes
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'-')
        && bytes.first() != Some(&b'-')
        && bytes.last() != Some(&b'-')
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use std::cell::Cell;

    fn parse(input: &str) -> Result<String, EmailError> {
        parse_email(input, &Uts46).map(|email| email.as_str().to_owned())
    }

    fn err(input: &str) -> EmailError {
        match parse_email(input, &Uts46) {
            Ok(email) => panic!("{input:?} was accepted as {email}"),
            Err(error) => error,
        }
    }

    /// A converter that returns a fixed answer and counts its calls.
    struct Fixed {
        answer: Option<&'static str>,
        calls: Cell<usize>,
    }

    impl Fixed {
        fn new(answer: Option<&'static str>) -> Self {
            Fixed {
                answer,
                calls: Cell::new(0),
            }
        }
    }

    impl DomainToAscii for Fixed {
        fn to_ascii(&self, _domain: &str) -> Option<String> {
            self.calls.set(self.calls.get() + 1);
            self.answer.map(str::to_owned)
        }
    }

    fn local(len: usize) -> String {
        "a".repeat(len)
    }

    /// A domain of exactly `len` characters: labels of at most 63 `b`s, then `.com`.
    fn domain_of_len(len: usize) -> String {
        let mut remaining = len - ".com".len();
        let mut labels = Vec::new();
        while remaining > 63 {
            let take = 63.min(remaining - 2);
            labels.push("b".repeat(take));
            remaining -= take + 1;
        }
        labels.push("b".repeat(remaining));
        labels.push("com".to_owned());
        let domain = labels.join(".");
        assert_eq!(domain.len(), len, "test helper built {domain}");
        domain
    }

    #[test]
    fn accepts_a_plain_address_unchanged() {
        assert_eq!(parse("jane@example.com"), Ok("jane@example.com".into()));
        let email = parse_email("jane@example.com", &Uts46).unwrap();
        assert_eq!(email.local(), "jane");
        assert_eq!(email.domain(), "example.com");
        assert_eq!(email.to_string(), "jane@example.com");
    }

    #[test]
    fn trims_surrounding_ascii_whitespace_including_crlf_and_tabs() {
        assert_eq!(
            parse(" \t jane@example.com\r\n"),
            Ok("jane@example.com".into())
        );
        assert_eq!(
            parse("\njane@example.com \x0c"),
            Ok("jane@example.com".into())
        );
    }

    #[test]
    fn trims_surrounding_unicode_whitespace() {
        assert_eq!(
            parse("\u{a0}\u{3000}jane@example.com\u{2028}"),
            Ok("jane@example.com".into())
        );
    }

    #[test]
    fn keeps_the_local_part_case_and_lower_cases_the_domain() {
        let email = parse_email("Jane.DOE@Example.COM", &Uts46).unwrap();
        assert_eq!(email.as_str(), "Jane.DOE@example.com");
        assert_eq!(email.local(), "Jane.DOE");
        assert_eq!(email.domain(), "example.com");
    }

    #[test]
    fn accepts_plus_addressing() {
        assert_eq!(
            parse("jane+news@example.com"),
            Ok("jane+news@example.com".into())
        );
        assert_eq!(parse("jane+@example.com"), Ok("jane+@example.com".into()));
    }

    #[test]
    fn accepts_every_whatwg_special_character_in_the_local_part() {
        let specials = "!#$%&'*+/=?^_`{|}~-";
        let address = format!("a{specials}.z@example.com");
        assert_eq!(parse(&address), Ok(address.clone()));
        for c in specials.chars() {
            assert!(parse(&format!("{c}@example.com")).is_ok(), "{c}");
        }
    }

    #[test]
    fn converts_a_german_idn_domain_to_punycode() {
        assert_eq!(
            parse("jane@münchen.de"),
            Ok("jane@xn--mnchen-3ya.de".into())
        );
        assert_eq!(
            parse("Jane@MÜNCHEN.DE"),
            Ok("Jane@xn--mnchen-3ya.de".into())
        );
    }

    #[test]
    fn converts_a_cyrillic_domain_with_a_cyrillic_tld_to_punycode() {
        assert_eq!(
            parse("jane@приклад.укр"),
            Ok("jane@xn--80aikifvh.xn--j1amh".into())
        );
    }

    #[test]
    fn refuses_a_non_ascii_local_part() {
        assert_eq!(err("пошта@приклад.укр"), EmailError::LocalPartInvalid);
        assert_eq!(err("josé@example.com"), EmailError::LocalPartInvalid);
        assert_eq!(
            err("jane\u{200b}@example.com"),
            EmailError::LocalPartInvalid
        );
    }

    #[test]
    fn accepts_new_and_punycode_top_level_domains() {
        assert!(parse("jane@studio.photography").is_ok());
        assert!(parse("jane@example.xn--j1amh").is_ok());
        assert!(parse("jane@example.co.uk").is_ok());
    }

    #[test]
    fn accepts_a_local_part_of_64_characters_and_refuses_65() {
        assert!(parse(&format!("{}@example.com", local(64))).is_ok());
        assert_eq!(
            err(&format!("{}@example.com", local(65))),
            EmailError::LocalPartTooLong
        );
    }

    #[test]
    fn accepts_a_label_of_63_characters_and_refuses_64() {
        assert!(parse(&format!("jane@{}.com", "b".repeat(63))).is_ok());
        assert_eq!(
            err(&format!("jane@{}.com", "b".repeat(64))),
            EmailError::DomainInvalid
        );
    }

    #[test]
    fn allows_a_domain_of_253_characters_and_refuses_254() {
        // With the shortest local part a 253-character domain makes a 255-character address, so
        // the domain check passes and the whole-address limit is what refuses it.
        assert_eq!(
            err(&format!("j@{}", domain_of_len(253))),
            EmailError::TooLong
        );
        assert!(parse(&format!("j@{}", domain_of_len(252))).is_ok());
        assert_eq!(
            err(&format!("j@{}", domain_of_len(254))),
            EmailError::DomainInvalid
        );
    }

    #[test]
    fn accepts_an_address_of_254_characters_and_refuses_255() {
        let at_limit = format!("{}@{}", local(64), domain_of_len(189));
        assert_eq!(at_limit.len(), 254);
        assert!(parse(&at_limit).is_ok());
        let over = format!("{}@{}", local(64), domain_of_len(190));
        assert_eq!(over.len(), 255);
        assert_eq!(err(&over), EmailError::TooLong);
    }

    #[test]
    fn measures_the_length_limits_on_the_ascii_form_of_an_idn_domain() {
        // "ü.de" is 4 characters typed but 11 in ASCII ("xn--tda.de").
        let address = format!("{}@{}.ü.de", local(64), domain_of_len(179));
        assert_eq!(address.chars().count(), 249);
        assert_eq!(err(&address), EmailError::TooLong);
    }

    #[test]
    fn reports_empty_for_nothing_but_whitespace() {
        assert_eq!(err(""), EmailError::Empty);
        assert_eq!(err(" \t\r\n "), EmailError::Empty);
    }

    #[test]
    fn reports_missing_at_without_an_ascii_at_sign() {
        assert_eq!(err("jane.example.com"), EmailError::MissingAt);
        assert_eq!(err("jane＠example.com"), EmailError::MissingAt);
    }

    #[test]
    fn reports_multiple_at_for_two_or_more_at_signs() {
        assert_eq!(err("jane@doe@example.com"), EmailError::MultipleAt);
        assert_eq!(err("@@"), EmailError::MultipleAt);
        assert_eq!(err("\"jane@doe\"@example.com"), EmailError::MultipleAt);
    }

    #[test]
    fn reports_local_part_empty_when_nothing_precedes_the_at() {
        assert_eq!(err("@example.com"), EmailError::LocalPartEmpty);
        assert_eq!(err("  @example.com"), EmailError::LocalPartEmpty);
    }

    #[test]
    fn reports_local_part_invalid_for_misplaced_dots() {
        assert_eq!(err(".jane@example.com"), EmailError::LocalPartInvalid);
        assert_eq!(err("jane.@example.com"), EmailError::LocalPartInvalid);
        assert_eq!(err("ja..ne@example.com"), EmailError::LocalPartInvalid);
        assert_eq!(err(".@example.com"), EmailError::LocalPartInvalid);
    }

    #[test]
    fn reports_local_part_invalid_for_characters_outside_the_set() {
        for input in [
            "ja ne@example.com",
            "ja\tne@example.com",
            "ja\0ne@example.com",
            "ja\x7fne@example.com",
            "\"jane\"@example.com",
            "ja(ne)@example.com",
            "jane\\@example.com",
            "jane,doe@example.com",
            "<jane@example.com",
        ] {
            assert_eq!(err(input), EmailError::LocalPartInvalid, "{input:?}");
        }
    }

    #[test]
    fn reports_characters_before_length_in_the_local_part() {
        let long_and_wrong = format!("{} @example.com", local(70));
        assert_eq!(err(&long_and_wrong), EmailError::LocalPartInvalid);
    }

    #[test]
    fn reports_domain_empty_when_nothing_follows_the_at() {
        assert_eq!(err("jane@"), EmailError::DomainEmpty);
        assert_eq!(err("jane@ \n"), EmailError::DomainEmpty);
    }

    #[test]
    fn reports_domain_incomplete_for_a_single_label() {
        assert_eq!(err("jane@gmail"), EmailError::DomainIncomplete);
        assert_eq!(err("jane@localhost"), EmailError::DomainIncomplete);
        assert_eq!(err("jane@münchen"), EmailError::DomainIncomplete);
    }

    #[test]
    fn reports_domain_invalid_for_an_empty_label_such_as_a_trailing_dot() {
        assert_eq!(err("a@example.com."), EmailError::DomainInvalid);
        assert_eq!(err("a@.example.com"), EmailError::DomainInvalid);
        assert_eq!(err("a@example..com"), EmailError::DomainInvalid);
        assert_eq!(err("a@münchen.de."), EmailError::DomainInvalid);
        assert_eq!(err("a@gmail."), EmailError::DomainInvalid);
    }

    #[test]
    fn reports_domain_invalid_for_labels_that_are_not_letters_digits_and_hyphens() {
        for input in [
            "a@-example.com",
            "a@example-.com",
            "a@exa_mple.com",
            "a@exa mple.com",
            "a@example.com\0",
            "a@[127.0.0.1]",
            "a@example.com>",
            "a@ex＠ample.com",
        ] {
            assert_eq!(err(input), EmailError::DomainInvalid, "{input:?}");
        }
    }

    #[test]
    fn accepts_hyphens_inside_labels_and_all_digit_labels_before_the_last() {
        assert!(parse("a@my-site.example.com").is_ok());
        assert!(parse("a@xn--mnchen-3ya.de").is_ok());
        assert!(parse("a@123.example.com").is_ok());
        assert!(parse("a@example.c0m").is_ok());
    }

    #[test]
    fn reports_domain_invalid_for_an_all_digit_last_label() {
        assert_eq!(err("a@127.0.0.1"), EmailError::DomainInvalid);
        assert_eq!(err("a@example.123"), EmailError::DomainInvalid);
    }

    #[test]
    fn reports_domain_invalid_when_the_idn_conversion_fails() {
        let failing = Fixed::new(None);
        assert_eq!(
            parse_email("a@münchen.de", &failing),
            Err(EmailError::DomainInvalid)
        );
        assert_eq!(failing.calls.get(), 1);
        // A real failure: a label that starts with a combining mark.
        assert_eq!(err("a@\u{301}x.de"), EmailError::DomainInvalid);
    }

    #[test]
    fn rechecks_what_the_idn_converter_returns() {
        for answer in [
            "exa mple.com",
            "ünicode.com",
            "single",
            "",
            "a@b.com",
            "b.123",
            "b.com.",
        ] {
            let converter = Fixed::new(Some(answer));
            let result = parse_email("a@münchen.de", &converter);
            assert!(result.is_err(), "converter answer {answer:?} accepted");
        }
        let upper = Fixed::new(Some("XN--MNCHEN-3YA.DE"));
        assert_eq!(
            parse_email("a@münchen.de", &upper).map(|e| e.domain().to_owned()),
            Ok("xn--mnchen-3ya.de".to_owned())
        );
    }

    #[test]
    fn calls_the_idn_converter_only_for_non_ascii_domains() {
        let converter = Fixed::new(Some("example.com"));
        assert!(parse_email("a@Example.com", &converter).is_ok());
        assert!(parse_email("a@xn--mnchen-3ya.de", &converter).is_ok());
        assert_eq!(converter.calls.get(), 0);
        assert!(parse_email("a@exämple.com", &converter).is_ok());
        assert_eq!(converter.calls.get(), 1);
    }

    #[test]
    fn does_not_call_the_idn_converter_when_the_local_part_is_already_wrong() {
        let converter = Fixed::new(Some("example.com"));
        assert_eq!(
            parse_email(".a@exämple.com", &converter),
            Err(EmailError::LocalPartInvalid)
        );
        assert_eq!(converter.calls.get(), 0);
    }

    #[test]
    fn reports_too_long_only_after_every_part_is_valid() {
        let over = format!("{}@{}", local(64), domain_of_len(200));
        assert_eq!(err(&over), EmailError::TooLong);
        let over_with_bad_domain = format!("{}@{}.", local(64), domain_of_len(200));
        assert_eq!(err(&over_with_bad_domain), EmailError::DomainInvalid);
    }

    #[test]
    fn gives_every_error_a_distinct_snake_case_code() {
        let all = [
            EmailError::Empty,
            EmailError::MissingAt,
            EmailError::MultipleAt,
            EmailError::LocalPartEmpty,
            EmailError::LocalPartTooLong,
            EmailError::LocalPartInvalid,
            EmailError::DomainEmpty,
            EmailError::DomainIncomplete,
            EmailError::DomainInvalid,
            EmailError::TooLong,
        ];
        let codes: std::collections::HashSet<_> = all.iter().map(|e| e.code()).collect();
        assert_eq!(codes.len(), all.len());
        for error in all {
            assert!(error
                .code()
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'_'));
            assert_eq!(error.to_string(), error.code());
        }
    }

    #[test]
    fn never_panics_on_odd_input() {
        let odd = [
            "@",
            "@@@",
            "é@",
            "@é",
            "é@é",
            "\u{10ffff}@\u{10ffff}.\u{10ffff}",
            "a@\u{fffd}",
            "a@xn--",
            "a@xn--.com",
            "a@.",
            "a@..",
            "a@-",
            "\0",
            "\0@\0",
            "a@b.c\u{301}",
            "a@\u{200d}.com",
            "a@\u{ff0e}com",
            "a@example\u{3002}com",
            "🙂@🙂.🙂",
            "a@🙂.com",
        ];
        for input in odd {
            let _ = parse_email(input, &Uts46);
        }
        let long = "ä".repeat(10_000);
        assert_eq!(err(&format!("a@{long}.de")), EmailError::DomainInvalid);
    }
}
