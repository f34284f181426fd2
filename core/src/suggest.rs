//! Typo suggestions for common mail providers ("Did you mean jane@gmail.com?").
//!
//! This module owns the provider lists and a faithful port of mailcheck.js 1.1.2 (MIT,
//! <https://github.com/mailcheck/mailcheck>): its sift4 string distance ([`sift4_distance`]), its
//! address splitting ([`split_email`]), its closest-match search ([`find_closest_domain`]) and its
//! suggestion logic ([`suggest_with`]). A suggestion is advice shown next to the field; it never
//! blocks a submission, and this module never decides whether an address is valid (that is
//! [`crate::email`]'s job).
//!
//! # The algorithm
//!
//! 1. Split the trimmed address at its last `@`, then the domain at its first `.` into a
//!    second-level part (`gmail`) and a top-level part (`co.uk`). No suggestion if there is no `@`
//!    or any `@`-separated part is empty.
//! 2. No suggestion if both parts are known (`yahoo` + `co.uk`).
//! 3. If the whole domain is known: no suggestion. If it is within distance 2 of a known domain:
//!    suggest that domain (the first of the closest, in list order).
//! 4. Otherwise replace the second-level part and/or the top-level part by the closest known one
//!    within distance 2 (the top-level part only when there is a second-level part).
//!
//! Everything is compared lower-cased; the local part of the suggestion keeps the reader's case.
//!
//! # Differences from mailcheck.js, all deliberate
//!
//! * The local part keeps its case (mailcheck lower-cases the whole address first).
//! * mailcheck swaps the top-level part with a regular expression built from the typed text, so a
//!   typed top-level part containing regular-expression syntax (`gmail.c+m`) makes it return the
//!   domain unchanged or throw; here the top-level part is replaced as the literal suffix it is.
//! * `Mailcheck.run`'s `encodeEmail` (an HTML-escaping step for jQuery) is not ported: the widget
//!   renders text, not HTML.
//!
//! Strings are compared as UTF-16 code units, as JavaScript's `charAt` does, so distances equal
//! mailcheck's even for characters outside the Basic Multilingual Plane.

use std::sync::OnceLock;

/// mailcheck's distance threshold for whole domains.
const DOMAIN_THRESHOLD: usize = 2;
/// mailcheck's distance threshold for second-level domains.
const SECOND_LEVEL_THRESHOLD: usize = 2;
/// mailcheck's distance threshold for top-level domains.
const TOP_LEVEL_THRESHOLD: usize = 2;
/// mailcheck's sift4 `maxOffset`.
const MAX_OFFSET: usize = 5;

/// Known whole domains: mailcheck 1.1.2's `defaultDomains`, then providers common among
/// Letterbox's first readers (Ukrainian and English-language news).
pub const DEFAULT_DOMAINS: &[&str] = &[
    // mailcheck 1.1.2
    "msn.com",
    "bellsouth.net",
    "telus.net",
    "comcast.net",
    "optusnet.com.au",
    "earthlink.net",
    "qq.com",
    "sky.com",
    "icloud.com",
    "mac.com",
    "sympatico.ca",
    "googlemail.com",
    "att.net",
    "xtra.co.nz",
    "web.de",
    "cox.net",
    "gmail.com",
    "ymail.com",
    "aim.com",
    "rogers.com",
    "verizon.net",
    "rocketmail.com",
    "google.com",
    "optonline.net",
    "sbcglobal.net",
    "aol.com",
    "me.com",
    "btinternet.com",
    "charter.net",
    "shaw.ca",
    // Letterbox
    "hotmail.com",
    "outlook.com",
    "yahoo.com",
    "live.com",
    "proton.me",
    "protonmail.com",
    "ukr.net",
    "i.ua",
    "meta.ua",
    "gmx.com",
    "gmx.de",
];

/// Known second-level domains (the part before the first dot): mailcheck 1.1.2's
/// `defaultSecondLevelDomains`.
pub const DEFAULT_SECOND_LEVEL_DOMAINS: &[&str] =
    &["yahoo", "hotmail", "mail", "live", "outlook", "gmx"];

/// Known top-level domains (everything after the first dot): mailcheck 1.1.2's
/// `defaultTopLevelDomains` (with its duplicate `net`), then `ua`, `com.ua` and `me`.
pub const DEFAULT_TOP_LEVEL_DOMAINS: &[&str] = &[
    // mailcheck 1.1.2
    "com", "com.au", "com.tw", "ca", "co.nz", "co.uk", "de", "fr", "it", "ru", "net", "org", "edu",
    "gov", "jp", "nl", "kr", "se", "eu", "ie", "co.il", "us", "at", "be", "dk", "hk", "es", "gr",
    "ch", "no", "cz", "in", "net", "net.au", "info", "biz", "mil", "co.jp", "sg", "hu", "uk",
    // Letterbox
    "ua", "com.ua", "me",
];

/// A suggested correction of a likely domain typo. It is advice: it never blocks a submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    /// The local part as typed.
    pub address: String,
    /// The suggested domain.
    pub domain: String,
    /// The whole suggested address, `address@domain`.
    pub full: String,
}

impl Suggestion {
    /// The part of [`Suggestion::full`] that differs from the address as `typed`, as a byte
    /// range, for the widget to mark ("jane@g**ai**l.com" for `jane@gmial.com`): what lies
    /// between the longest common start and end of the typed and the suggested domain (compared
    /// lower-cased). Always inside the domain and never empty; a fix that only removes
    /// characters (`gmaill.com`) marks the whole suggested domain.
    ///
    /// ```
    /// use letterbox_core::suggest::suggest;
    /// let mark = |typed: &str| {
    ///     let s = suggest(typed).unwrap();
    ///     s.full[s.changed_in(typed)].to_owned()
    /// };
    /// assert_eq!(mark("jane@gmial.com"), "ai");
    /// assert_eq!(mark("jane@gmail.con"), "m");
    /// assert_eq!(mark("jane@gmaill.com"), "gmail.com");
    /// ```
    pub fn changed_in(&self, typed: &str) -> std::ops::Range<usize> {
        let start = self.full.len().saturating_sub(self.domain.len());
        let whole = start..self.full.len();
        let typed = split_email(typed)
            .map(|p| p.domain.to_ascii_lowercase())
            .unwrap_or_default();
        let (a, b) = (typed.as_bytes(), self.domain.as_bytes());
        let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
        let room = a.len().min(b.len()) - prefix;
        let suffix = a
            .iter()
            .rev()
            .zip(b.iter().rev())
            .take(room)
            .take_while(|(x, y)| x == y)
            .count();
        let range = start + prefix..self.full.len() - suffix;
        if range.is_empty()
            || !self.full.is_char_boundary(range.start)
            || !self.full.is_char_boundary(range.end)
        {
            return whole;
        }
        range
    }
}

/// The lists suggestions are drawn from. Order matters: among equally close candidates the first
/// one wins, as in mailcheck. Entries should be lower-case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lists {
    /// Whole domains (`gmail.com`), matched first.
    pub domains: Vec<String>,
    /// Second-level domains (`hotmail`), the part before the first dot.
    pub second_level_domains: Vec<String>,
    /// Top-level domains (`co.uk`), everything after the first dot.
    pub top_level_domains: Vec<String>,
}

impl Lists {
    /// Lists from any three sequences of strings.
    ///
    /// ```
    /// use letterbox_core::suggest::{suggest_with, Lists};
    ///
    /// let lists = Lists::new(["example.org"], ["example"], ["org"]);
    /// assert_eq!(suggest_with("jane@exmple.org", &lists).unwrap().domain, "example.org");
    /// ```
    pub fn new<D, S, T>(domains: D, second_level_domains: S, top_level_domains: T) -> Self
    where
        D: IntoIterator,
        D::Item: Into<String>,
        S: IntoIterator,
        S::Item: Into<String>,
        T: IntoIterator,
        T::Item: Into<String>,
    {
        Lists {
            domains: domains.into_iter().map(Into::into).collect(),
            second_level_domains: second_level_domains.into_iter().map(Into::into).collect(),
            top_level_domains: top_level_domains.into_iter().map(Into::into).collect(),
        }
    }
}

impl Default for Lists {
    /// [`DEFAULT_DOMAINS`], [`DEFAULT_SECOND_LEVEL_DOMAINS`] and [`DEFAULT_TOP_LEVEL_DOMAINS`].
    fn default() -> Self {
        Lists::new(
            DEFAULT_DOMAINS.iter().copied(),
            DEFAULT_SECOND_LEVEL_DOMAINS.iter().copied(),
            DEFAULT_TOP_LEVEL_DOMAINS.iter().copied(),
        )
    }
}

/// An address split the way mailcheck's `splitEmail` does it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailParts {
    /// Everything before the last `@` (may itself contain `@`, as in a quoted local part).
    pub address: String,
    /// Everything after the last `@`.
    pub domain: String,
    /// The domain after its first dot (`co.uk` in `example.co.uk`), or the whole domain if it has
    /// no dot.
    pub top_level_domain: String,
    /// The domain before its first dot, or empty if it has no dot.
    pub second_level_domain: String,
}

/// Suggests a correction for `email` against the default provider lists ([`Lists::default`]), or
/// `None` when the domain is known, not close to anything known, or there is no domain at all.
///
/// # Examples
///
/// ```
/// use letterbox_core::suggest::suggest;
///
/// let suggestion = suggest(" Jane@GMAIL.con ").unwrap();
/// assert_eq!(suggestion.full, "Jane@gmail.com");
/// assert_eq!(suggest("jane@ukr.nte").unwrap().domain, "ukr.net");
/// assert_eq!(suggest("jane@gmail.com"), None);
/// assert_eq!(suggest("jane"), None);
/// ```
pub fn suggest(email: &str) -> Option<Suggestion> {
    static DEFAULTS: OnceLock<Lists> = OnceLock::new();
    suggest_with(email, DEFAULTS.get_or_init(Lists::default))
}

/// Suggests a correction for `email` against `lists` (mailcheck's `suggest`), or `None`.
///
/// The comparison uses the trimmed, lower-cased domain; [`Suggestion::address`] keeps the local
/// part as typed.
///
/// ```
/// use letterbox_core::suggest::{suggest_with, Lists};
///
/// let lists = Lists::new(["gmail.com"], ["yahoo"], ["com", "co.uk"]);
/// assert_eq!(suggest_with("a@gmail.co", &lists).unwrap().domain, "gmail.com");
/// assert_eq!(suggest_with("a@yajoo.co.uk", &lists).unwrap().domain, "yahoo.co.uk");
/// assert_eq!(suggest_with("a@yahoo.co.uk", &lists), None);
/// ```
pub fn suggest_with(email: &str, lists: &Lists) -> Option<Suggestion> {
    let parts = split_email(email)?;
    // Lower-case the whole domain, then split it again. ASCII lower-casing only: every provider
    // in the lists is ASCII, so mailcheck's full Unicode case folding (and its tables, ~7 KB of
    // the wasm) would change no suggestion.
    let domain = parts.domain.to_ascii_lowercase();
    let (sld, tld) = match domain.split_once('.') {
        None => ("", domain.as_str()),
        Some(split) => split,
    };

    // A known second-level + top-level combination (yahoo.co.uk) is left alone.
    if contains(&lists.second_level_domains, sld) && contains(&lists.top_level_domains, tld) {
        return None;
    }

    if let Some(closest) = find_closest_domain(&domain, &lists.domains, DOMAIN_THRESHOLD) {
        if closest == domain {
            return None;
        }
        return Some(make(parts.address, closest.to_owned()));
    }

    let closest_sld = find_closest_domain(sld, &lists.second_level_domains, SECOND_LEVEL_THRESHOLD);
    let closest_tld = find_closest_domain(tld, &lists.top_level_domains, TOP_LEVEL_THRESHOLD);

    let mut suggested = domain.clone();
    let mut changed = false;
    if let Some(closest) = closest_sld.filter(|c| *c != sld) {
        // The second-level part is the domain's prefix.
        suggested = format!("{closest}{}", suggested.get(sld.len()..).unwrap_or(""));
        changed = true;
    }
    if let Some(closest) = closest_tld.filter(|c| *c != tld && !sld.is_empty()) {
        // The top-level part is the domain's suffix (replacing it cannot touch the prefix).
        let keep = suggested.len().saturating_sub(tld.len());
        suggested = format!("{}{closest}", suggested.get(..keep).unwrap_or(""));
        changed = true;
    }
    changed.then(|| make(parts.address, suggested))
}

fn contains(list: &[String], item: &str) -> bool {
    list.iter().any(|entry| entry == item)
}

fn make(address: String, domain: String) -> Suggestion {
    let full = format!("{address}@{domain}");
    Suggestion {
        address,
        domain,
        full,
    }
}

/// Splits an address like mailcheck's `splitEmail`: trims JavaScript whitespace, splits at the
/// last `@` and the domain at its first `.`. `None` when there is no `@` or any `@`-separated
/// part is empty. Case is kept.
///
/// ```
/// use letterbox_core::suggest::split_email;
///
/// let parts = split_email("jane@mail.example.co.uk").unwrap();
/// assert_eq!(parts.second_level_domain, "mail");
/// assert_eq!(parts.top_level_domain, "example.co.uk");
/// assert_eq!(split_email("@example.com"), None);
/// ```
pub fn split_email(email: &str) -> Option<EmailParts> {
    let email = email.trim_matches(is_js_whitespace);
    let parts: Vec<&str> = email.split('@').collect();
    if parts.len() < 2 || parts.iter().any(|part| part.is_empty()) {
        return None;
    }
    let (domain, address) = parts.split_last()?;
    let (second_level_domain, top_level_domain) = match domain.split_once('.') {
        None => ("", *domain),
        Some((sld, tld)) => (sld, tld),
    };
    Some(EmailParts {
        address: address.join("@"),
        domain: (*domain).to_owned(),
        top_level_domain: top_level_domain.to_owned(),
        second_level_domain: second_level_domain.to_owned(),
    })
}

/// JavaScript's `\s`: WhiteSpace and LineTerminator (it includes U+FEFF, not U+0085).
fn is_js_whitespace(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202f}'
                | '\u{205f}'
                | '\u{3000}'
                | '\u{feff}'
    )
}

/// The candidate closest to `domain` by [`sift4_distance`] if within `threshold`
/// (mailcheck's `findClosestDomain`). An exact match is returned at once; among equally close
/// candidates the first wins. `None` for an empty `domain` or no candidate close enough.
///
/// ```
/// use letterbox_core::suggest::find_closest_domain;
///
/// let tlds = ["co.uk", "com", "org", "info", "fr"];
/// assert_eq!(find_closest_domain("cmo", &tlds, 2), Some("com"));
/// assert_eq!(find_closest_domain("xyzzy", &tlds, 2), None);
/// ```
pub fn find_closest_domain<'a, S: AsRef<str>>(
    domain: &str,
    candidates: &'a [S],
    threshold: usize,
) -> Option<&'a str> {
    if domain.is_empty() {
        return None;
    }
    let mut best: Option<(usize, &'a str)> = None;
    for candidate in candidates {
        let candidate = candidate.as_ref();
        if candidate == domain {
            return Some(candidate);
        }
        let distance = sift4_distance(domain, candidate, MAX_OFFSET);
        if best.is_none_or(|(min, _)| distance < min) {
            best = Some((distance, candidate));
        }
    }
    best.filter(|(distance, _)| *distance <= threshold)
        .map(|(_, candidate)| candidate)
}

/// The sift4 string distance (Siderite Zackwehdex's "common" variant, with transpositions) as
/// mailcheck.js implements it, over UTF-16 code units. `max_offset` is how far ahead to look for
/// a matching character (mailcheck uses 5).
///
/// ```
/// use letterbox_core::suggest::sift4_distance;
///
/// assert_eq!(sift4_distance("gmail.com", "gmail.com", 5), 0);
/// assert_eq!(sift4_distance("gmail.con", "gmail.com", 5), 1);
/// assert_eq!(sift4_distance("", "abc", 5), 3);
/// ```
pub fn sift4_distance(s1: &str, s2: &str, max_offset: usize) -> usize {
    let s1: Vec<u16> = s1.encode_utf16().collect();
    let s2: Vec<u16> = s2.encode_utf16().collect();
    let (l1, l2) = (s1.len(), s2.len());
    if l1 == 0 {
        return l2;
    }
    if l2 == 0 {
        return l1;
    }

    struct Offset {
        c1: usize,
        c2: usize,
        trans: bool,
    }

    // Cursors are signed: mailcheck steps one back before the loop's increment.
    let (mut c1, mut c2): (isize, isize) = (0, 0);
    let (l1i, l2i) = (l1 as isize, l2 as isize);
    let at = |s: &[u16], i: isize| usize::try_from(i).ok().and_then(|i| s.get(i).copied());
    let mut lcss = 0usize;
    let mut local_cs = 0usize;
    let mut trans = 0usize;
    let mut offsets: Vec<Offset> = Vec::new();

    while c1 < l1i && c2 < l2i {
        if at(&s1, c1) == at(&s2, c2) {
            local_cs += 1;
            let mut is_trans = false;
            let (u1, u2) = (c1 as usize, c2 as usize);
            let mut i = 0;
            while i < offsets.len() {
                let ofs = &mut offsets[i];
                if u1 <= ofs.c1 || u2 <= ofs.c2 {
                    // When two matches cross, the one with the larger offset difference is the
                    // transposition.
                    is_trans = u2.abs_diff(u1) >= ofs.c2.abs_diff(ofs.c1);
                    if is_trans {
                        trans += 1;
                    } else if !ofs.trans {
                        ofs.trans = true;
                        trans += 1;
                    }
                    break;
                } else if u1 > ofs.c2 && u2 > ofs.c1 {
                    offsets.remove(i);
                } else {
                    i += 1;
                }
            }
            offsets.push(Offset {
                c1: u1,
                c2: u2,
                trans: is_trans,
            });
        } else {
            lcss += local_cs;
            local_cs = 0;
            if c1 != c2 {
                let min = c1.min(c2);
                c1 = min;
                c2 = min;
            }
            // Look ahead for a match; on one, step both cursors so the increment below lands on it.
            let mut j: isize = 0;
            while (j as usize) < max_offset && (c1 + j < l1i || c2 + j < l2i) {
                if c1 + j < l1i && at(&s1, c1 + j) == at(&s2, c2) {
                    c1 += j - 1;
                    c2 -= 1;
                    break;
                }
                if c2 + j < l2i && at(&s1, c1) == at(&s2, c2 + j) {
                    c1 -= 1;
                    c2 += j - 1;
                    break;
                }
                j += 1;
            }
        }
        c1 += 1;
        c2 += 1;
        // The last match may be on the last character: count it so transpositions come out right.
        if c1 >= l1i || c2 >= l2i {
            lcss += local_cs;
            local_cs = 0;
            let min = c1.min(c2);
            c1 = min;
            c2 = min;
        }
    }
    lcss += local_cs;
    (l1.max(l2) + trans).saturating_sub(lcss)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_changed_part_is_inside_the_domain_whatever_the_case_typed() {
        let check = |typed: &str, marked: &str| {
            let s = super::suggest(typed).expect("a suggestion");
            let range = s.changed_in(typed);
            assert!(
                range.start >= s.full.len() - s.domain.len(),
                "{typed}: inside the domain"
            );
            assert_eq!(&s.full[range], marked, "{typed}");
        };
        check("Jane@GMIAL.com", "ai");
        check(" jane@hotmial.com ", "ai");
        check("jane@ukr.nte", "et");
        check("jane@yahooo.com", "yahoo.com");
        check("jane@gmai.com", "l");
    }

    #[test]
    fn a_typed_address_that_does_not_parse_marks_the_whole_domain() {
        let s = super::suggest("jane@gmial.com").expect("a suggestion");
        assert_eq!(&s.full[s.changed_in("")], "gmail.com");
    }

    use super::*;

    #[test]
    fn suggests_the_closest_known_provider_for_a_misspelt_domain() {
        assert_eq!(
            suggest("jane@gmial.com").map(|s| s.full).as_deref(),
            Some("jane@gmail.com")
        );
        assert_eq!(
            suggest("jane@hotmial.com").map(|s| s.domain).as_deref(),
            Some("hotmail.com")
        );
        assert_eq!(
            suggest("jane@ukr.nte").map(|s| s.domain).as_deref(),
            Some("ukr.net")
        );
        assert_eq!(
            suggest("jane@protonmail.con").map(|s| s.domain).as_deref(),
            Some("protonmail.com")
        );
    }

    #[test]
    fn suggests_nothing_for_a_known_domain() {
        for domain in DEFAULT_DOMAINS {
            assert_eq!(suggest(&format!("jane@{domain}")), None, "{domain}");
        }
        assert_eq!(suggest("jane@yahoo.co.uk"), None);
        assert_eq!(suggest("jane@outlook.com.ua"), None);
    }

    #[test]
    fn fixes_a_misspelt_top_level_domain_of_an_unknown_domain() {
        let suggestion = suggest("jane@example.cmo").expect("a suggestion");
        assert_eq!(suggestion.domain, "example.com");
        assert_eq!(suggest("jane@pravda.com.au").map(|s| s.domain), None);
        assert_eq!(
            suggest("jane@novyny.con.ua").map(|s| s.domain).as_deref(),
            Some("novyny.com.ua")
        );
    }

    #[test]
    fn keeps_the_local_part_as_typed_and_compares_the_domain_lower_cased() {
        let suggestion = suggest("  Jane.Doe@GMAIL.CON\r\n").expect("a suggestion");
        assert_eq!(suggestion.address, "Jane.Doe");
        assert_eq!(suggestion.domain, "gmail.com");
        assert_eq!(suggestion.full, "Jane.Doe@gmail.com");
        assert_eq!(suggest("Jane@GMAIL.COM"), None);
    }

    #[test]
    fn suggests_nothing_without_a_domain() {
        for input in ["", "jane", "jane@", "@gmail.com", "   ", "a@@gmail.con"] {
            assert_eq!(suggest(input), None, "{input:?}");
        }
    }

    #[test]
    fn replaces_a_top_level_domain_written_with_regex_syntax_literally() {
        let lists = Lists::new(Vec::<String>::new(), ["gmail"], ["com"]);
        assert_eq!(
            suggest_with("a@gmail.c+m", &lists)
                .map(|s| s.domain)
                .as_deref(),
            Some("gmail.com")
        );
    }

    #[test]
    fn measures_sift4_distances_like_mailcheck() {
        assert_eq!(sift4_distance("", "", 5), 0);
        assert_eq!(sift4_distance("abc", "", 5), 3);
        assert_eq!(sift4_distance("cmo", "com", 5), 1);
        assert_eq!(sift4_distance("gmial.com", "gmail.com", 5), 1);
        assert_eq!(sift4_distance("ab", "ba", 5), 1);
    }

    #[test]
    fn never_panics_on_odd_input() {
        for input in [
            "a@\u{10ffff}.\u{10ffff}",
            "🙂@🙂.🙂",
            "a@.",
            "a@..",
            "a@İ.cöm",
            "a@ΣΣ.σς",
            "\u{feff}a@b.c\u{feff}",
            "a@b.",
            "a@.com",
        ] {
            let _ = suggest(input);
        }
    }
}
