//! Differential test of `letterbox_core::json` (the widget's hand-written JSON reader) against
//! serde_json, which it replaced in the widget for wasm size.
//!
//! Documents come from three sources: a deterministic generator of well-formed documents (whose
//! expected value is known exactly), single-character mutations of those documents (mostly
//! malformed), and a hand-written table of edge cases. For each document both parsers must agree
//! on acceptance, and when both accept, on the value.
//!
//! Deliberate, accepted differences (each checked explicitly below, see [`KnownDifference`]):
//!
//! * **Nesting limit.** Ours refuses more than [`MAX_DEPTH`] (64) levels with "nested too
//!   deeply"; serde_json's default recursion limit refuses the 128th nested container. Generated
//!   documents stay well below 64 levels; the limits are tested separately.
//! * **Number magnitude.** Ours keeps a number as its source text and never evaluates it, so
//!   `1e400` or a 400-digit integer is accepted; serde_json (without `arbitrary_precision`)
//!   converts to `f64` and refuses a finite-looking literal whose value overflows `f64` with
//!   "number out of range". The difference is accepted only when ours returns a number whose
//!   text overflows `f64`.
//!
//! Things that turned out *not* to differ (asserted in the edge-case table): both refuse lone
//! surrogate escapes (`"\ud800"`, `"\udc00"`, a high surrogate followed by a non-low `\u`
//! escape) when reading into a string; both refuse a byte-order mark (U+FEFF) before the value;
//! both refuse raw control characters (U+0000–U+001F) inside strings and accept DEL (U+007F);
//! for a repeated key both keep the last value (ours keeps every member in order, and
//! [`Value::get`] finds the last; serde_json's `Map::insert` overwrites).

#![cfg(not(target_arch = "wasm32"))]

use letterbox_core::json::{self, ParseError, Value, MAX_DEPTH};
use serde_json::Value as SerdeValue;

// ---------------------------------------------------------------------------------------------
// Deterministic PRNG (xorshift64*), so failures reproduce without a rand crate.

struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform-ish in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True with probability `percent`/100.
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

// ---------------------------------------------------------------------------------------------
// Comparison.

/// Converts our tree to serde_json's. Numbers are converted by letting serde_json parse our raw
/// number text; objects by inserting members in order, so a repeated key keeps its last value as
/// serde_json's own reader does.
fn to_serde(value: &Value) -> SerdeValue {
    match value {
        Value::Null => SerdeValue::Null,
        Value::Bool(b) => SerdeValue::Bool(*b),
        Value::Number(raw) => match serde_json::from_str::<SerdeValue>(raw) {
            Ok(number @ SerdeValue::Number(_)) => number,
            other => panic!("our number text {raw:?} is not a serde_json number: {other:?}"),
        },
        Value::String(s) => SerdeValue::String(s.clone()),
        Value::Array(items) => SerdeValue::Array(items.iter().map(to_serde).collect()),
        Value::Object(members) => {
            let mut map = serde_json::Map::new();
            for (key, member) in members {
                map.insert(key.clone(), to_serde(member));
            }
            SerdeValue::Object(map)
        }
    }
}

/// True if some number in `value` is text whose value overflows `f64` (ours keeps it as text).
fn has_number_beyond_f64(value: &Value) -> bool {
    match value {
        Value::Number(raw) => raw.parse::<f64>().is_ok_and(f64::is_infinite),
        Value::Array(items) => items.iter().any(has_number_beyond_f64),
        Value::Object(members) => members.iter().any(|(_, v)| has_number_beyond_f64(v)),
        _ => false,
    }
}

/// A deliberate difference between the two readers (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KnownDifference {
    /// Ours accepts a number literal whose value overflows `f64`; serde_json says "number out of
    /// range".
    NumberBeyondF64,
    /// Ours refuses nesting deeper than 64 levels; serde_json allows up to 127.
    NestingLimit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    BothAccept,
    BothRefuse,
    Known(KnownDifference),
}

/// Parses `doc` with both readers. `Err` describes a disagreement, with the document and both
/// results.
fn compare(doc: &str) -> Result<Outcome, String> {
    let ours = json::parse(doc);
    let theirs = serde_json::from_str::<SerdeValue>(doc);
    let describe = |what: &str| {
        format!("{what}\n  document: {doc:?}\n  ours:       {ours:?}\n  serde_json: {theirs:?}")
    };
    match (&ours, &theirs) {
        (Ok(ours_value), Ok(their_value)) => {
            let converted = to_serde(ours_value);
            if &converted == their_value {
                Ok(Outcome::BothAccept)
            } else {
                Err(describe(&format!(
                    "values differ (ours converted: {converted:?})"
                )))
            }
        }
        (Err(_), Err(_)) => Ok(Outcome::BothRefuse),
        (Ok(ours_value), Err(e))
            if e.to_string().starts_with("number out of range")
                && has_number_beyond_f64(ours_value) =>
        {
            Ok(Outcome::Known(KnownDifference::NumberBeyondF64))
        }
        (Err(e), Ok(_)) if e.message == "nested too deeply" => {
            Ok(Outcome::Known(KnownDifference::NestingLimit))
        }
        (Ok(_), Err(_)) => Err(describe("only ours accepts")),
        (Err(_), Ok(_)) => Err(describe("only serde_json accepts")),
    }
}

#[derive(Default, Debug)]
struct Tally {
    documents: usize,
    both_accept: usize,
    both_refuse: usize,
    number_beyond_f64: usize,
    nesting_limit: usize,
    disagreements: Vec<String>,
}

impl Tally {
    fn check(&mut self, doc: &str) -> Option<Outcome> {
        self.documents += 1;
        match compare(doc) {
            Ok(outcome) => {
                match outcome {
                    Outcome::BothAccept => self.both_accept += 1,
                    Outcome::BothRefuse => self.both_refuse += 1,
                    Outcome::Known(KnownDifference::NumberBeyondF64) => self.number_beyond_f64 += 1,
                    Outcome::Known(KnownDifference::NestingLimit) => self.nesting_limit += 1,
                }
                Some(outcome)
            }
            Err(report) => {
                self.disagreements.push(report);
                None
            }
        }
    }

    fn assert_no_disagreements(&self, source: &str) {
        eprintln!(
            "{source}: {} documents: {} accepted by both, {} refused by both, {} number-beyond-f64 \
             (known), {} nesting-limit (known), {} disagreements",
            self.documents,
            self.both_accept,
            self.both_refuse,
            self.number_beyond_f64,
            self.nesting_limit,
            self.disagreements.len()
        );
        if !self.disagreements.is_empty() {
            let shown: Vec<&str> = self
                .disagreements
                .iter()
                .take(20)
                .map(String::as_str)
                .collect();
            panic!(
                "{} of {} {source} documents disagree (first {} shown):\n{}",
                self.disagreements.len(),
                self.documents,
                shown.len(),
                shown.join("\n")
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Generator of well-formed documents. It builds our expected `Value` alongside the text, so the
// reader is also checked against the truth, not only against serde_json.

const WHITESPACE: &[&str] = &["", "", "", " ", "  ", "\n", "\t", "\r\n", " \n\t\r "];

/// Characters strings are built from: ASCII, everything JSON requires escaping, DEL, BMP and
/// non-BMP characters, noncharacters and U+FEFF / U+2028 (valid inside JSON strings).
const STRING_CHARS: &[char] = &[
    'a',
    'b',
    'z',
    'A',
    'Z',
    '0',
    '9',
    ' ',
    '"',
    '\\',
    '/',
    '\'',
    '{',
    '}',
    '[',
    ']',
    ':',
    ',',
    '\u{0}',
    '\u{1}',
    '\u{8}',
    '\t',
    '\n',
    '\u{b}',
    '\u{c}',
    '\r',
    '\u{1b}',
    '\u{1f}',
    '\u{7f}',
    '\u{80}',
    'é',
    'ß',
    'ж',
    '中',
    '\u{2028}',
    '\u{2029}',
    '\u{feff}',
    '\u{fffd}',
    '\u{ffff}',
    '\u{e000}',
    '😀',
    '𝄞',
    '\u{10000}',
    '\u{10ffff}',
];

fn push_hex4(out: &mut String, unit: u32, rng: &mut Rng) {
    let hex = format!("{unit:04x}");
    out.push_str("\\u");
    out.push_str(&if rng.chance(30) {
        hex.to_ascii_uppercase()
    } else {
        hex
    });
}

/// Writes `c` into a JSON string literal in one of its valid spellings.
fn push_encoded_char(out: &mut String, c: char, rng: &mut Rng) {
    let short = match c {
        '"' => Some("\\\""),
        '\\' => Some("\\\\"),
        '/' => Some("\\/"),
        '\u{8}' => Some("\\b"),
        '\u{c}' => Some("\\f"),
        '\n' => Some("\\n"),
        '\r' => Some("\\r"),
        '\t' => Some("\\t"),
        _ => None,
    };
    let must_escape = c == '"' || c == '\\' || (c as u32) < 0x20;
    if !must_escape && rng.chance(70) {
        out.push(c);
    } else if short.is_some() && rng.chance(60) {
        out.push_str(short.unwrap_or_default());
    } else {
        let mut units = [0u16; 2];
        for unit in c.encode_utf16(&mut units) {
            push_hex4(out, u32::from(*unit), rng);
        }
    }
}

fn gen_string(rng: &mut Rng, out: &mut String) -> String {
    let len = match rng.below(10) {
        0 => 0,
        1 => 20 + rng.below(60),
        _ => rng.below(8),
    };
    let mut value = String::new();
    for _ in 0..len {
        let c = if rng.chance(10) {
            // Any scalar value at all.
            loop {
                if let Some(c) = char::from_u32((rng.next() % 0x11_0000) as u32) {
                    break c;
                }
            }
        } else {
            rng.pick(STRING_CHARS)
        };
        value.push(c);
    }
    out.push('"');
    for c in value.chars() {
        push_encoded_char(out, c, rng);
    }
    out.push('"');
    value
}

fn digits(rng: &mut Rng, count: usize, out: &mut String) {
    for _ in 0..count {
        out.push(char::from(b'0' + rng.below(10) as u8));
    }
}

/// A number in any JSON form. Magnitudes stay far inside `f64` (at most 30 integer digits and
/// exponents of at most two significant digits).
fn gen_number(rng: &mut Rng) -> String {
    const SPECIAL: &[&str] = &[
        "0",
        "-0",
        "-0.0",
        "0.5e-3",
        "1E+2",
        "1e2",
        "2.5E-07",
        "18446744073709551615",
        "18446744073709551616",
        "-9223372036854775808",
        "-9223372036854775809",
        "123456789012345678901234567890",
        "1.7976931348623157e308",
        "5e-324",
        "1e-400",
        "0.1",
        "0e0",
        "0E-0",
    ];
    if rng.chance(20) {
        return rng.pick(SPECIAL).to_owned();
    }
    let mut s = String::new();
    if rng.chance(30) {
        s.push('-');
    }
    if rng.chance(20) {
        s.push('0');
    } else {
        s.push(char::from(b'1' + rng.below(9) as u8));
        let more = if rng.chance(10) {
            15 + rng.below(15)
        } else {
            rng.below(5)
        };
        digits(rng, more, &mut s);
    }
    if rng.chance(40) {
        s.push('.');
        let count = 1 + rng.below(8);
        digits(rng, count, &mut s);
    }
    if rng.chance(30) {
        s.push(if rng.chance(50) { 'e' } else { 'E' });
        match rng.below(3) {
            0 => s.push('+'),
            1 => s.push('-'),
            _ => {}
        }
        let zeros = if rng.chance(15) { 1 + rng.below(2) } else { 0 };
        s.push_str(&"0".repeat(zeros));
        let count = 1 + rng.below(2);
        digits(rng, count, &mut s);
    }
    s
}

/// Keys are often drawn from a small set so objects have repeated keys.
fn gen_key(rng: &mut Rng, out: &mut String) -> String {
    const COMMON: &[&str] = &["a", "b", "", "status", "é", "😀"];
    if rng.chance(40) {
        let key = rng.pick(COMMON);
        out.push('"');
        for c in key.chars() {
            push_encoded_char(out, c, rng);
        }
        out.push('"');
        key.to_owned()
    } else {
        gen_string(rng, out)
    }
}

fn ws(rng: &mut Rng, out: &mut String) {
    let space = rng.pick(WHITESPACE);
    out.push_str(space);
}

/// Writes a random value at nesting `depth` (0 = top level) and returns what it must parse to.
fn gen_value(rng: &mut Rng, depth: usize, max_depth: usize, out: &mut String) -> Value {
    let container_chance = if depth == 0 {
        90
    } else if depth < max_depth {
        35
    } else {
        0
    };
    if rng.chance(container_chance) {
        let len = if rng.chance(15) { 0 } else { 1 + rng.below(5) };
        if rng.chance(50) {
            out.push('[');
            let mut items = Vec::new();
            ws(rng, out);
            for i in 0..len {
                if i > 0 {
                    out.push(',');
                    ws(rng, out);
                }
                items.push(gen_value(rng, depth + 1, max_depth, out));
                ws(rng, out);
            }
            out.push(']');
            Value::Array(items)
        } else {
            out.push('{');
            let mut members = Vec::new();
            ws(rng, out);
            for i in 0..len {
                if i > 0 {
                    out.push(',');
                    ws(rng, out);
                }
                let key = gen_key(rng, out);
                ws(rng, out);
                out.push(':');
                ws(rng, out);
                members.push((key, gen_value(rng, depth + 1, max_depth, out)));
                ws(rng, out);
            }
            out.push('}');
            Value::Object(members)
        }
    } else {
        match rng.below(6) {
            0 => {
                out.push_str("null");
                Value::Null
            }
            1 => {
                let b = rng.chance(50);
                out.push_str(if b { "true" } else { "false" });
                Value::Bool(b)
            }
            2 | 3 => {
                let n = gen_number(rng);
                out.push_str(&n);
                Value::Number(n)
            }
            _ => Value::String(gen_string(rng, out)),
        }
    }
}

/// A well-formed document (with surrounding whitespace) and the value it must parse to.
fn gen_document(rng: &mut Rng) -> (String, Value) {
    let mut doc = String::new();
    ws(rng, &mut doc);
    let max_depth = 1 + rng.below(8);
    let value = gen_value(rng, 0, max_depth, &mut doc);
    ws(rng, &mut doc);
    (doc, value)
}

/// Characters inserted by mutations: JSON punctuation, digits and number characters, letters that
/// begin or continue literals and escapes, all C0 controls, DEL, and multi-byte characters.
fn interesting_chars() -> Vec<char> {
    let mut chars: Vec<char> = "{}[]\":,\\ 0123456789eE.-+tfnuralse/'".chars().collect();
    chars.extend((0u8..0x20).map(char::from));
    chars.extend(['\u{7f}', 'é', '中', '😀', '\u{feff}', '\u{a0}']);
    chars
}

/// One mutation, on characters so the result stays valid UTF-8 (`parse` takes `&str`).
fn mutate(rng: &mut Rng, doc: &str, interesting: &[char]) -> String {
    let mut chars: Vec<char> = doc.chars().collect();
    if chars.is_empty() {
        return rng.pick(interesting).to_string();
    }
    match rng.below(4) {
        0 => {
            chars.remove(rng.below(chars.len()));
        }
        1 => {
            let at = rng.below(chars.len() + 1);
            chars.insert(at, rng.pick(interesting));
        }
        2 if chars.len() >= 2 => {
            let at = rng.below(chars.len() - 1);
            chars.swap(at, at + 1);
        }
        _ => chars.truncate(rng.below(chars.len())),
    }
    chars.into_iter().collect()
}

const BASE_DOCUMENTS: usize = 8_000;
const MUTANTS_PER_DOCUMENT: usize = 5;
const PREFIXED_DOCUMENTS: usize = 100;

#[test]
fn generated_documents_parse_to_the_generated_value_and_agree_with_serde_json() {
    let mut rng = Rng::new(0x9E37_79B9_7F4A_7C15);
    let mut tally = Tally::default();
    for _ in 0..BASE_DOCUMENTS {
        let (doc, expected) = gen_document(&mut rng);
        let ours = json::parse(&doc);
        assert_eq!(
            ours.as_ref(),
            Ok(&expected),
            "generated document {doc:?} did not parse to its value"
        );
        assert_eq!(
            tally.check(&doc),
            Some(Outcome::BothAccept),
            "{:?}",
            tally.disagreements.last()
        );
    }
    tally.assert_no_disagreements("generated");
}

#[test]
fn mutated_documents_are_accepted_or_refused_like_serde_json() {
    let interesting = interesting_chars();
    let mut rng = Rng::new(0xD1B5_4A32_D192_ED03);
    let mut tally = Tally::default();
    for _ in 0..BASE_DOCUMENTS {
        let (doc, _) = gen_document(&mut rng);
        for _ in 0..MUTANTS_PER_DOCUMENT {
            let mut mutant = mutate(&mut rng, &doc, &interesting);
            // Now and then stack a second mutation.
            if rng.chance(20) {
                mutant = mutate(&mut rng, &mutant, &interesting);
            }
            tally.check(&mutant);
        }
    }
    // Truncation at every character of some documents.
    for _ in 0..PREFIXED_DOCUMENTS {
        let (doc, _) = gen_document(&mut rng);
        for (at, _) in doc.char_indices() {
            tally.check(&doc[..at]);
        }
    }
    tally.assert_no_disagreements("mutated");
    // The mutations must actually exercise both sides.
    assert!(
        tally.both_refuse > tally.documents / 4,
        "too few refused mutants: {tally:?}"
    );
    assert!(
        tally.both_accept > tally.documents / 20,
        "too few accepted mutants: {tally:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Hand-written edge cases.

/// `(document, whether ours accepts it)`; serde_json must agree unless the case is in
/// `KNOWN_DIFFERENCES`.
const EDGE_CASES: &[(&str, bool)] = &[
    // Whitespace: only space, tab, LF and CR, before and after.
    (" 1 ", true),
    ("\t\n\r 1 \r\n\t", true),
    ("", false),
    (" ", false),
    ("\n\t\r ", false),
    ("\u{c}1", false),
    ("1\u{c}", false),
    ("\u{b}1", false),
    ("\u{a0}1", false),
    ("\u{2028}1", false),
    ("1 x", false),
    ("1 2", false),
    ("[1] [2]", false),
    ("\u{0}", false),
    ("1\u{0}", false),
    // Byte-order mark: neither skips it.
    ("\u{feff}1", false),
    ("\u{feff}{}", false),
    ("1\u{feff}", false),
    ("\"\u{feff}\"", true),
    // Escapes.
    ("\"\\u0000\"", true),
    ("\"\\/\"", true),
    ("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", true),
    ("\"\\u00e9\\u00E9\\uFFFF\"", true),
    ("\"\\ud83d\\ude00\"", true),
    ("\"\\uD83D\\uDE00\"", true),
    ("\"\\udbff\\udfff\"", true),
    ("\"\\ud800\"", false),
    ("\"\\ud800x\"", false),
    ("\"\\ud800\\n\"", false),
    ("\"\\ud800\\u0041\"", false),
    ("\"\\ud800\\ud800\"", false),
    ("\"\\ud800\\ud800\\udc00\"", false),
    ("\"\\udc00\"", false),
    ("\"\\udc00\\ud800\"", false),
    ("\"\\u12\"", false),
    ("\"\\u12g4\"", false),
    ("\"\\u1é\"", false),
    ("\"\\u12é\"", false),
    ("\"\\u\"", false),
    ("\"\\u", false),
    ("\"\\U0041\"", false),
    ("\"\\x41\"", false),
    ("\"\\a\"", false),
    ("\"\\'\"", false),
    ("\"\\ \"", false),
    ("\"\\é\"", false),
    ("\"\\", false),
    ("\"\\\"", false),
    ("\"abc", false),
    ("\"", false),
    // Raw characters inside strings: controls refused, DEL and everything else allowed.
    ("\"a\tb\"", false),
    ("\"a\nb\"", false),
    ("\"a\rb\"", false),
    ("\"\u{0}\"", false),
    ("\"\u{1f}\"", false),
    ("\"a\u{7f}b\"", true),
    ("\"\u{80}\u{9f}\u{2028}\u{10ffff}\"", true),
    // Numbers.
    ("0", true),
    ("-0", true),
    ("-0.0", true),
    ("0e0", true),
    ("0.5e-3", true),
    ("1E+2", true),
    ("1e-2", true),
    ("1.0e+05", true),
    ("1e007", true),
    ("18446744073709551616", true),
    ("-18446744073709551617", true),
    ("1e-400", true),
    ("01", false),
    ("-01", false),
    ("00", false),
    ("[01]", false),
    ("1.", false),
    ("1.e5", false),
    (".1", false),
    ("-.1", false),
    ("-", false),
    ("--1", false),
    ("+1", false),
    ("1e", false),
    ("1e+", false),
    ("1E-", false),
    ("1e+-1", false),
    ("1.5e", false),
    ("1e5.5", false),
    ("0x10", false),
    ("1_000", false),
    ("Infinity", false),
    ("-Infinity", false),
    ("NaN", false),
    ("-NaN", false),
    // Literals.
    ("true", true),
    ("false", true),
    ("null", true),
    ("t", false),
    ("tru", false),
    ("fals", false),
    ("nul", false),
    ("nulll", false),
    ("truex", false),
    ("true false", false),
    ("True", false),
    ("NULL", false),
    ("undefined", false),
    // Structure.
    ("[]", true),
    ("{}", true),
    ("[[]]", true),
    ("[ ]", true),
    ("{ }", true),
    ("{\"\":0}", true),
    ("{\"a\":1,\"a\":2}", true),
    ("{\"a\":{\"b\":1},\"a\":[2]}", true),
    ("[1,]", false),
    ("{\"a\":1,}", false),
    ("[,1]", false),
    ("[,]", false),
    ("[1,,2]", false),
    ("{,}", false),
    ("{\"a\"}", false),
    ("{\"a\":}", false),
    ("{\"a\" 1}", false),
    ("{\"a\"::1}", false),
    ("{1:2}", false),
    ("{a:1}", false),
    ("{null:1}", false),
    ("[1 2]", false),
    ("{\"a\":1 \"b\":2}", false),
    ("[", false),
    ("]", false),
    ("{", false),
    ("}", false),
    ("[}", false),
    ("{]", false),
    ("[1}", false),
    (":", false),
    (",", false),
    // Comments and single quotes.
    ("// c\n1", false),
    ("/* c */ 1", false),
    ("1 // c", false),
    ("1 /* c */", false),
    ("#1", false),
    ("'a'", false),
    ("['a']", false),
    ("{'a':1}", false),
    // Numbers beyond f64 (a known difference: ours keeps them as text).
    ("1e400", true),
    ("-1e400", true),
    ("[1E+309]", true),
    ("{\"n\":1e999}", true),
];

/// Edge cases where serde_json deliberately differs from ours.
const KNOWN_DIFFERENCES: &[(&str, KnownDifference)] = &[
    ("1e400", KnownDifference::NumberBeyondF64),
    ("-1e400", KnownDifference::NumberBeyondF64),
    ("[1E+309]", KnownDifference::NumberBeyondF64),
    ("{\"n\":1e999}", KnownDifference::NumberBeyondF64),
];

#[test]
fn edge_cases_are_accepted_or_refused_as_json_requires_and_as_serde_json_does() {
    let mut tally = Tally::default();
    let mut wrong = Vec::new();
    for &(doc, accepts) in EDGE_CASES {
        let ours = json::parse(doc);
        if ours.is_ok() != accepts {
            wrong.push(format!(
                "{doc:?}: expected {}, ours gave {ours:?}",
                if accepts { "Ok" } else { "Err" }
            ));
        }
        let expected = match KNOWN_DIFFERENCES.iter().find(|(d, _)| *d == doc) {
            Some(&(_, difference)) => Outcome::Known(difference),
            None if accepts => Outcome::BothAccept,
            None => Outcome::BothRefuse,
        };
        let outcome = tally.check(doc);
        if outcome.is_some() && outcome != Some(expected) {
            wrong.push(format!("{doc:?}: expected {expected:?}, got {outcome:?}"));
        }
    }
    tally.assert_no_disagreements("edge-case");
    assert!(
        wrong.is_empty(),
        "edge cases not as expected:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn escapes_decode_to_the_characters_they_name() {
    let cases: &[(&str, &str)] = &[
        ("\"\\u0000\"", "\u{0}"),
        ("\"\\/\"", "/"),
        ("\"\\b\\f\\n\\r\\t\"", "\u{8}\u{c}\n\r\t"),
        ("\"\\ud83d\\ude00\"", "😀"),
        ("\"\\udbff\\udfff\"", "\u{10ffff}"),
        ("\"a\u{7f}b\"", "a\u{7f}b"),
    ];
    for &(doc, expected) in cases {
        assert_eq!(
            json::parse(doc),
            Ok(Value::String(expected.to_owned())),
            "{doc:?}"
        );
        assert_eq!(
            serde_json::from_str::<String>(doc).ok().as_deref(),
            Some(expected),
            "{doc:?}"
        );
    }
}

#[test]
fn repeated_keys_keep_every_member_and_the_last_wins_like_serde_json() {
    let doc = r#"{"a": 1, "b": 2, "a": 3}"#;
    let ours = json::parse(doc).unwrap();
    assert_eq!(
        ours,
        Value::Object(vec![
            ("a".into(), Value::Number("1".into())),
            ("b".into(), Value::Number("2".into())),
            ("a".into(), Value::Number("3".into())),
        ])
    );
    assert_eq!(ours.get("a"), Some(&Value::Number("3".into())));
    let theirs: SerdeValue = serde_json::from_str(doc).unwrap();
    assert_eq!(theirs["a"], 3);
    assert_eq!(to_serde(&ours), theirs);
}

#[test]
fn very_long_strings_and_numbers_are_read_whole() {
    let long = "a\u{e9}\u{1f600}\\\"".repeat(50_000);
    let mut doc = String::new();
    json::write_string(&mut doc, &long);
    assert_eq!(json::parse(&doc), Ok(Value::String(long.clone())));
    assert_eq!(compare(&doc), Ok(Outcome::BothAccept));

    let escaped = format!("\"{}\"", "\\u0041\\n".repeat(50_000));
    assert_eq!(
        json::parse(&escaped),
        Ok(Value::String("A\n".repeat(50_000)))
    );
    assert_eq!(compare(&escaped), Ok(Outcome::BothAccept));

    let unterminated = format!("\"{}", "a".repeat(200_000));
    assert_eq!(
        json::parse(&unterminated).map_err(|e| e.message),
        Err("unterminated string")
    );
    assert_eq!(compare(&unterminated), Ok(Outcome::BothRefuse));

    // A long fraction is fine for both; a 400-digit integer overflows f64, a known difference.
    let fraction = format!("0.{}", "1".repeat(1_000));
    assert_eq!(json::parse(&fraction), Ok(Value::Number(fraction.clone())));
    assert_eq!(compare(&fraction), Ok(Outcome::BothAccept));
    let huge = "9".repeat(400);
    assert_eq!(json::parse(&huge), Ok(Value::Number(huge.clone())));
    assert_eq!(
        compare(&huge),
        Ok(Outcome::Known(KnownDifference::NumberBeyondF64))
    );
}

// ---------------------------------------------------------------------------------------------
// Nesting limit.

/// `levels` nested arrays around `inner` (which may be empty).
fn nested_arrays(levels: usize, inner: &str) -> String {
    format!("{}{inner}{}", "[".repeat(levels), "]".repeat(levels))
}

/// `levels` nested objects, each the value of key "k", around `inner` (which may be empty).
fn nested_objects(levels: usize, inner: &str) -> String {
    let mut doc = "{\"k\":".repeat(levels.saturating_sub(1));
    doc.push('{');
    if !inner.is_empty() {
        doc.push_str("\"k\":");
        doc.push_str(inner);
    }
    doc.push_str(&"}".repeat(levels));
    doc
}

#[test]
fn nesting_up_to_the_limit_agrees_with_serde_json() {
    for levels in 1..=MAX_DEPTH {
        for doc in [
            nested_arrays(levels, ""),
            nested_arrays(levels, "1"),
            nested_arrays(levels, "\"s\""),
            nested_objects(levels, ""),
            nested_objects(levels, "null"),
        ] {
            assert_eq!(
                compare(&doc),
                Ok(Outcome::BothAccept),
                "{levels} levels: {doc:?}"
            );
        }
    }
}

#[test]
fn nesting_deeper_than_the_limit_is_refused_as_nested_too_deeply_where_serde_json_accepts() {
    for levels in [MAX_DEPTH + 1, MAX_DEPTH + 2, 100, 127] {
        for doc in [nested_arrays(levels, "1"), nested_objects(levels, "true")] {
            let error = json::parse(&doc).unwrap_err();
            assert_eq!(
                error.message, "nested too deeply",
                "{levels} levels: {doc:?}"
            );
            // The deliberate difference: serde_json's default limit is higher.
            assert!(
                serde_json::from_str::<SerdeValue>(&doc).is_ok(),
                "{levels} levels: {doc:?}"
            );
            assert_eq!(
                compare(&doc),
                Ok(Outcome::Known(KnownDifference::NestingLimit))
            );
        }
    }
    for levels in [MAX_DEPTH + 2, 100, 127] {
        for doc in [nested_arrays(levels, ""), nested_objects(levels, "")] {
            assert_eq!(
                json::parse(&doc).unwrap_err().message,
                "nested too deeply",
                "{levels} levels"
            );
        }
    }
    // serde_json refuses its 128th level, so beyond that both refuse.
    let deeper = nested_arrays(128, "");
    let their_error = serde_json::from_str::<SerdeValue>(&deeper).unwrap_err();
    assert!(
        their_error
            .to_string()
            .starts_with("recursion limit exceeded"),
        "{their_error}"
    );
    assert_eq!(compare(&deeper), Ok(Outcome::BothRefuse));
    // Hostile depth is refused without overflowing the stack.
    assert_eq!(
        json::parse(&"[".repeat(1_000_000)).unwrap_err().message,
        "nested too deeply"
    );
    assert_eq!(
        json::parse(&"{\"a\":".repeat(1_000_000))
            .unwrap_err()
            .message,
        "nested too deeply"
    );
}

/// MAX_DEPTH + 1 nested containers are refused when the innermost holds a value, but accepted
/// when it is empty: the check is on the depth of *values* (`depth > MAX_DEPTH` in `value`),
/// and an empty innermost container never asks for a value at depth 65.
#[test]
fn nesting_one_deeper_than_the_limit_is_refused_even_when_the_innermost_container_is_empty() {
    for doc in [
        nested_arrays(MAX_DEPTH + 1, ""),
        nested_objects(MAX_DEPTH + 1, ""),
    ] {
        assert_eq!(
            json::parse(&doc).map_err(|e| e.message),
            Err("nested too deeply"),
            "{doc:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// write_string.

#[test]
fn written_strings_read_back_unchanged_by_serde_json_and_by_our_reader() {
    let mut rng = Rng::new(0x0123_4567_89AB_CDEF);
    let mut pool: Vec<char> = (0u32..0x80).filter_map(char::from_u32).collect();
    pool.extend(STRING_CHARS);
    let mut cases: Vec<String> = vec![
        String::new(),
        (0u32..0x20).filter_map(char::from_u32).collect(),
        "\"\\/\u{7f}\u{2028}\u{feff}😀".to_owned(),
    ];
    for _ in 0..5_000 {
        let len = rng.below(40);
        let s: String = (0..len)
            .map(|_| {
                if rng.chance(20) {
                    loop {
                        if let Some(c) = char::from_u32((rng.next() % 0x11_0000) as u32) {
                            break c;
                        }
                    }
                } else {
                    rng.pick(&pool)
                }
            })
            .collect();
        cases.push(s);
    }
    for original in &cases {
        let mut written = String::from("prefix ");
        json::write_string(&mut written, original);
        let literal = written
            .strip_prefix("prefix ")
            .expect("write_string appends");
        assert!(
            !literal.chars().any(|c| (c as u32) < 0x20),
            "raw control character written for {original:?}: {literal:?}"
        );
        assert_eq!(
            serde_json::from_str::<String>(literal).as_deref().ok(),
            Some(original.as_str()),
            "serde_json reads {literal:?} differently from {original:?}"
        );
        assert_eq!(
            json::parse(literal),
            Ok(Value::String(original.clone())),
            "our reader reads {literal:?} differently from {original:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Error positions.

fn error_of(doc: &str) -> ParseError {
    json::parse(doc).expect_err(doc)
}

/// `(document, line, column, message)`: ours must point at the offending character.
/// Columns are 1-based and count characters.
const ERROR_POSITIONS: &[(&str, usize, usize, &str)] = &[
    ("[1,,2]", 1, 4, "expected a JSON value"),
    ("[1,]", 1, 4, "expected a JSON value"),
    ("{\"a\" 1}", 1, 6, "expected ':' after the key"),
    ("{\"a\":1,}", 1, 8, "expected a quoted key"),
    ("{\n  \"a\": [1 2]\n}", 2, 11, "expected ',' or ']'"),
    ("{\"a\":1\n\"b\":2}", 2, 1, "expected ',' or '}'"),
    ("[1]\n\n  x", 3, 3, "unexpected text after the JSON value"),
    ("[\"a\\x\"]", 1, 5, "unknown escape in a string"),
    ("[\"a\tb\"]", 1, 4, "control character in a string"),
    (
        "[\"é😀\",\n \"ü\u{1}\"]",
        2,
        4,
        "control character in a string",
    ),
    ("[\n\"abc", 2, 5, "unterminated string"),
    ("[1,\n", 2, 1, "unexpected end of the JSON"),
    ("{\"a\":\r\n -x}", 2, 3, "expected a digit"),
    ("  1.x", 1, 5, "expected a digit after '.'"),
    ("[1e+]", 1, 5, "expected a digit in the exponent"),
    ("[\"\\u12x4\"]", 1, 5, "expected four hex digits"),
    ("[tru]", 1, 2, "expected a JSON value"),
    ("\u{feff}1", 1, 1, "expected a JSON value"),
];

/// Documents where serde_json reports a different position, and why; for every other document
/// in `ERROR_POSITIONS` serde_json must report the same line and column as ours.
const SERDE_POSITION_DIFFERS: &[(&str, &str)] = &[
    (
        "[\"é😀\",\n \"ü\u{1}\"]",
        "serde_json counts columns in bytes, ours in characters",
    ),
    (
        "[\n\"abc",
        "at the end of the text serde_json points at the last character, ours just past it",
    ),
    (
        "[1,\n",
        "at the end of the text serde_json reports column 0 of the last line",
    ),
    (
        "[\"\\u12x4\"]",
        "serde_json points at the end of the four-digit group, ours at its start",
    ),
    (
        "[tru]",
        "serde_json points past the partial literal, ours at its start",
    ),
];

#[test]
fn errors_point_at_the_offending_character() {
    let mut wrong = Vec::new();
    for &(doc, line, column, message) in ERROR_POSITIONS {
        let error = error_of(doc);
        if (error.line, error.column, error.message) != (line, column, message) {
            wrong.push(format!(
                "{doc:?}: expected {message:?} at {line}:{column}, ours gave {error}"
            ));
        }
        let theirs = serde_json::from_str::<SerdeValue>(doc).expect_err(doc);
        let differs = SERDE_POSITION_DIFFERS.iter().any(|(d, _)| *d == doc);
        if !differs && (theirs.line(), theirs.column()) != (line, column) {
            wrong.push(format!(
                "{doc:?}: serde_json points at {}:{} ({theirs})",
                theirs.line(),
                theirs.column()
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "error positions not as expected:\n{}",
        wrong.join("\n")
    );
}
