//! Measures the email rule against externally written corpora (`shared/conformance/email/*.jsonl`,
//! see its README) and against the `validator` crate as a differential oracle.
//!
//! * Every row where the rule disagrees with the bare WHATWG regex (`whatwg_valid`) must fall in a
//!   documented deliberate-difference category, computed from the input alone, and must fail
//!   (or pass) with the error the category predicts.
//! * Every address the rule accepts, corpus and generated, must also pass
//!   `validator::ValidateEmail` once normalised; the known exceptions are listed in
//!   [`KNOWN_VALIDATOR_DIFFERENCES`] and the set of differences must equal that list exactly.
//!
//! Run with `-- --nocapture` to see the per-source table and the category counts.
//! The corpus folder is `${CARGO_MANIFEST_DIR}/../../shared/conformance/email`, or
//! `$LETTERBOX_CONFORMANCE_DIR` when set. A missing folder is a failure, not a skip.

#![cfg(not(target_arch = "wasm32"))]

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::PathBuf;

use letterbox_core::email::{parse_email, EmailError, Uts46};
use serde_json::Value;
use validator::ValidateEmail;

/// Addresses the rule accepts but `validator` 0.20 rejects: (input, reason). Must match exactly.
///
/// Empty today: validator applies the same WHATWG grammar (after its own IDN conversion) with
/// looser limits (domain 255, no total), and the rule only ever hands it a normalised ASCII
/// address, so everything the rule accepts is a subset of what validator accepts.
const KNOWN_VALIDATOR_DIFFERENCES: &[(&str, &str)] = &[];

/// How many rows the README says hold lone UTF-16 surrogates (which a Rust `&str` cannot hold).
const EXPECTED_LONE_SURROGATE_ROWS: usize = 8;

struct Row {
    file: String,
    line: usize,
    input: String,
    source_valid: Option<bool>,
    whatwg_valid: Option<bool>,
}

#[derive(Default)]
struct Corpus {
    rows: Vec<Row>,
    /// Per file: (lines, lone-surrogate lines skipped, non-string inputs skipped).
    files: BTreeMap<String, (usize, usize, usize)>,
}

fn corpus_dir() -> PathBuf {
    match std::env::var_os("LETTERBOX_CONFORMANCE_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance/email"),
    }
}

/// A JSON line serde_json refused because of a `\uD800`–`\uDFFF` escape without its pair.
fn has_surrogate_escape(line: &str) -> bool {
    let lower = line.to_ascii_lowercase();
    [
        "\\ud8", "\\ud9", "\\uda", "\\udb", "\\udc", "\\udd", "\\ude", "\\udf",
    ]
    .iter()
    .any(|escape| lower.contains(escape))
}

fn load() -> Corpus {
    let dir = corpus_dir();
    let entries = fs::read_dir(&dir).unwrap_or_else(|error| {
        panic!(
            "conformance corpus folder not found at {} ({error}); set LETTERBOX_CONFORMANCE_DIR \
             to the folder holding the *.jsonl files",
            dir.display()
        )
    });
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "jsonl"))
        .collect();
    paths.sort();
    assert!(
        !paths.is_empty(),
        "no *.jsonl files in the conformance folder {}",
        dir.display()
    );

    let mut corpus = Corpus::default();
    for path in paths {
        let file = path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = fs::read_to_string(&path)
            .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
        let counts = corpus.files.entry(file.clone()).or_default();
        for (index, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            counts.0 += 1;
            let value: Value = match serde_json::from_str(line) {
                Ok(value) => value,
                Err(_) if has_surrogate_escape(line) => {
                    counts.1 += 1;
                    continue;
                }
                Err(error) => panic!("{file}:{}: not JSON: {error}", index + 1),
            };
            let Some(input) = value["input"].as_str() else {
                counts.2 += 1;
                continue;
            };
            corpus.rows.push(Row {
                file: file.clone(),
                line: index + 1,
                input: input.to_owned(),
                source_valid: value["source_valid"].as_bool(),
                whatwg_valid: value["whatwg_valid"].as_bool(),
            });
        }
    }
    corpus
}

/// The WHATWG "valid e-mail address" regex, written out by hand (ASCII only, no length limits,
/// dots anywhere in the local part, dotless domains allowed).
fn whatwg_regex(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+/=?^_`{|}~-.".contains(&b));
    let label_ok = |label: &str| {
        (1..=63).contains(&label.len())
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    local_ok && domain.split('.').all(label_ok)
}

/// A deliberate difference between the rule and the bare WHATWG regex.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Difference {
    /// We trim surrounding whitespace (as a browser's value sanitisation does); the regex does not.
    SurroundingWhitespace,
    /// We convert an internationalised domain with UTS #46; the regex is ASCII-only.
    IdnDomain,
    /// We refuse a dot at the start or end of the local part, or two in a row (RFC 5322
    /// dot-atom); the regex allows them.
    LocalPartDots,
    /// We limit the local part to 64 characters (RFC 5321); the regex has no limit.
    LocalPartOver64,
    /// We require two or more labels; the regex allows `a@b`.
    DotlessDomain,
    /// We limit the domain to 253 characters (RFC 1035); the regex has no limit.
    DomainOver253,
    /// We refuse an all-digit last label (it is no top-level domain; `a@1.2.3.4` is an IP
    /// address written without brackets); the regex allows it.
    AllDigitLastLabel,
    /// We limit the whole address to 254 characters (RFC 5321); the regex has no limit.
    AddressOver254,
}

impl Difference {
    fn describe(self) -> &'static str {
        match self {
            Difference::SurroundingWhitespace => "surrounding whitespace trimmed (we accept)",
            Difference::IdnDomain => "IDN domain converted to ASCII (we accept)",
            Difference::LocalPartDots => "dot at start/end or doubled in local part (we refuse)",
            Difference::LocalPartOver64 => "local part over 64 characters (we refuse)",
            Difference::DotlessDomain => "dotless domain (we refuse)",
            Difference::DomainOver253 => "domain over 253 characters (we refuse)",
            Difference::AllDigitLastLabel => "all-digit last label (we refuse)",
            Difference::AddressOver254 => "address over 254 characters (we refuse)",
        }
    }

    /// What the rule must return for an input in this category.
    fn expected(self) -> Result<(), EmailError> {
        match self {
            Difference::SurroundingWhitespace | Difference::IdnDomain => Ok(()),
            Difference::LocalPartDots => Err(EmailError::LocalPartInvalid),
            Difference::LocalPartOver64 => Err(EmailError::LocalPartTooLong),
            Difference::DotlessDomain => Err(EmailError::DomainIncomplete),
            Difference::DomainOver253 | Difference::AllDigitLastLabel => {
                Err(EmailError::DomainInvalid)
            }
            Difference::AddressOver254 => Err(EmailError::TooLong),
        }
    }
}

/// Explains, from the input alone, why the rule and the regex may disagree on it. Categories are
/// tried in the rule's order of precedence, so the first one that applies names the error.
fn classify(input: &str) -> Option<Difference> {
    if whatwg_regex(input) {
        let (local, domain) = input.split_once('@')?;
        let last = domain.rsplit('.').next().unwrap_or(domain);
        if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
            Some(Difference::LocalPartDots)
        } else if local.len() > 64 {
            Some(Difference::LocalPartOver64)
        } else if !domain.contains('.') {
            Some(Difference::DotlessDomain)
        } else if domain.len() > 253 {
            Some(Difference::DomainOver253)
        } else if last.bytes().all(|b| b.is_ascii_digit()) {
            Some(Difference::AllDigitLastLabel)
        } else if input.len() > 254 {
            Some(Difference::AddressOver254)
        } else {
            None
        }
    } else {
        let trimmed = input.trim();
        let (_, domain) = trimmed.split_once('@')?;
        if trimmed != input && whatwg_regex(trimmed) {
            Some(Difference::SurroundingWhitespace)
        } else if !domain.is_ascii() {
            Some(Difference::IdnDomain)
        } else {
            None
        }
    }
}

fn verdict(input: &str) -> bool {
    parse_email(input, &Uts46).is_ok()
}

fn percent(part: usize, whole: usize) -> String {
    if whole == 0 {
        "-".to_owned()
    } else {
        format!("{:.1}%", 100.0 * part as f64 / whole as f64)
    }
}

#[test]
fn reads_every_corpus_file_and_reports_agreement_per_source() {
    let corpus = load();
    assert!(
        corpus.files.len() >= 8,
        "expected the 8 corpus files in {}, found {:?}",
        corpus_dir().display(),
        corpus.files.keys().collect::<Vec<_>>()
    );

    println!(
        "\n{:<32} {:>5} {:>9} {:>8} {:>17} {:>17}",
        "source", "rows", "skipped", "verdict", "agree w/ source", "agree w/ whatwg"
    );
    let mut surrogates = 0;
    for (file, &(lines, lone, non_string)) in &corpus.files {
        surrogates += lone;
        let rows: Vec<&Row> = corpus.rows.iter().filter(|row| &row.file == file).collect();
        let with_verdict: Vec<&&Row> = rows.iter().filter(|r| r.source_valid.is_some()).collect();
        let agree_source = with_verdict
            .iter()
            .filter(|r| r.source_valid == Some(verdict(&r.input)))
            .count();
        let with_whatwg: Vec<&&Row> = rows.iter().filter(|r| r.whatwg_valid.is_some()).collect();
        let agree_whatwg = with_whatwg
            .iter()
            .filter(|r| r.whatwg_valid == Some(verdict(&r.input)))
            .count();
        println!(
            "{:<32} {:>5} {:>9} {:>8} {:>8}/{:<3} {:>5} {:>8}/{:<3} {:>5}",
            file.trim_end_matches(".jsonl"),
            lines,
            lone + non_string,
            with_verdict.len(),
            agree_source,
            with_verdict.len(),
            percent(agree_source, with_verdict.len()),
            agree_whatwg,
            with_whatwg.len(),
            percent(agree_whatwg, with_whatwg.len()),
        );
    }
    println!(
        "skipped: {surrogates} rows with lone UTF-16 surrogates (a Rust &str cannot hold them), \
         plus non-string inputs"
    );
    assert_eq!(
        surrogates, EXPECTED_LONE_SURROGATE_ROWS,
        "the corpus README lists {EXPECTED_LONE_SURROGATE_ROWS} lone-surrogate rows"
    );
}

#[test]
fn the_hand_written_whatwg_regex_matches_the_corpus_column() {
    let corpus = load();
    let mismatches: Vec<String> = corpus
        .rows
        .iter()
        .filter(|row| {
            row.whatwg_valid
                .is_some_and(|valid| valid != whatwg_regex(&row.input))
        })
        .map(|row| format!("{}:{} {:?}", row.file, row.line, row.input))
        .collect();
    assert!(mismatches.is_empty(), "{mismatches:#?}");
}

#[test]
fn every_disagreement_with_the_whatwg_regex_is_a_documented_deliberate_difference() {
    let corpus = load();
    let mut counts: BTreeMap<Difference, usize> = BTreeMap::new();
    let mut unexplained = Vec::new();
    let mut compared = 0;
    for row in &corpus.rows {
        let Some(whatwg) = row.whatwg_valid else {
            continue;
        };
        compared += 1;
        let ours = parse_email(&row.input, &Uts46);
        if ours.is_ok() == whatwg {
            continue;
        }
        let explained = classify(&row.input)
            .filter(|category| category.expected() == ours.as_ref().map(|_| ()).map_err(|e| *e));
        match explained {
            Some(category) => *counts.entry(category).or_default() += 1,
            None => unexplained.push(format!(
                "{}:{} {:?}: whatwg {whatwg}, ours {:?}, classified {:?}",
                row.file,
                row.line,
                row.input,
                ours.map(|email| email.to_string()),
                classify(&row.input)
            )),
        }
    }

    println!("\ndeliberate differences from the WHATWG regex ({compared} rows compared):");
    for (category, count) in &counts {
        println!("  {count:>4}  {}", category.describe());
    }
    println!("  {:>4}  total", counts.values().sum::<usize>());
    assert!(
        unexplained.is_empty(),
        "{} unexplained disagreements with whatwg_valid:\n{}",
        unexplained.len(),
        unexplained.join("\n")
    );
}

/// Addresses built systematically: every local-part character in several positions, label and
/// address lengths at and over each limit, hyphens, digits, new and IDN top-level domains.
fn generated_addresses() -> Vec<String> {
    let specials = "!#$%&'*+/=?^_`{|}~-.";
    let mut locals: Vec<String> = Vec::new();
    for c in specials.chars().chain(['a', 'Z', '0', '9']) {
        locals.push(c.to_string());
        locals.push(format!("{c}x"));
        locals.push(format!("x{c}"));
        locals.push(format!("x{c}y"));
        locals.push(format!("x{c}{c}y"));
    }
    for len in [1, 2, 63, 64, 65] {
        locals.push("l".repeat(len));
    }
    locals.extend(
        [
            "Jane.Doe",
            "jane+news",
            "a.b.c",
            "JANE",
            "1234",
            "o'brien",
            "a..b",
            ".a",
            "a.",
        ]
        .map(String::from),
    );

    let mut domains: Vec<String> = Vec::new();
    for len in [1, 2, 62, 63, 64] {
        domains.push(format!("{}.com", "d".repeat(len)));
        domains.push(format!("example.{}", "t".repeat(len)));
    }
    for label in [
        "a-b",
        "-ab",
        "ab-",
        "a--b",
        "xn--mnchen-3ya",
        "123",
        "1a",
        "a1",
        "_a",
        "a_b",
    ] {
        domains.push(format!("{label}.example.com"));
        domains.push(format!("example.{label}"));
    }
    domains.extend(
        [
            "example.com",
            "EXAMPLE.COM",
            "mail.example.co.uk",
            "studio.photography",
            "example.xn--j1amh",
            "a.b.c.d.e.f.g",
            "localhost",
            "example.com.",
            ".example.com",
            "example..com",
            "1.2.3.4",
            "example.123",
            "münchen.de",
            "MÜNCHEN.DE",
            "приклад.укр",
            "пошта.приклад.укр",
            "例え.テスト",
            "bücher.example",
            "παράδειγμα.δοκιμή",
            "ñ.com",
            "café.com",
            "日本語.jp",
            "faß.de",
            "ｅｘａｍｐｌｅ．ｃｏｍ",
            "exa mple.com",
            "münchen",
            "xn--mnchen-3ya.de",
            "exämple.com.",
            "ex＠ample.com",
            "\u{301}x.de",
        ]
        .map(String::from),
    );
    // Domains of 252, 253 and 254 characters.
    for len in [252, 253, 254] {
        let mut labels = Vec::new();
        let mut remaining = len - 4;
        while remaining > 63 {
            let take = 63.min(remaining - 2);
            labels.push("g".repeat(take));
            remaining -= take + 1;
        }
        labels.push("g".repeat(remaining));
        labels.push("com".to_owned());
        domains.push(labels.join("."));
    }

    let mut addresses = Vec::new();
    for local in &locals {
        for domain in &domains {
            addresses.push(format!("{local}@{domain}"));
        }
    }
    // Surrounding whitespace of several kinds.
    for pad in [" ", "\t", "\r\n", "\u{a0}", "\u{3000}"] {
        addresses.push(format!("{pad}jane@example.com{pad}"));
    }
    addresses
}

#[test]
fn every_accepted_address_also_passes_the_validator_crate() {
    let corpus = load();
    let mut inputs: Vec<String> = corpus.rows.iter().map(|row| row.input.clone()).collect();
    let generated = generated_addresses();
    let generated_count = generated.len();
    inputs.extend(generated);

    let mut accepted = 0;
    let mut differences: BTreeSet<(String, String)> = BTreeSet::new();
    let mut refused_but_validator_accepts: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut seen = BTreeSet::new();
    for input in &inputs {
        if !seen.insert(input.as_str()) {
            continue;
        }
        match parse_email(input, &Uts46) {
            Ok(email) => {
                accepted += 1;
                if !email.as_str().validate_email() {
                    differences.insert((input.clone(), email.to_string()));
                }
            }
            Err(error) => {
                if input.as_str().validate_email() {
                    *refused_but_validator_accepts
                        .entry(error.code())
                        .or_default() += 1;
                }
            }
        }
    }

    println!(
        "\nvalidator oracle: {} distinct inputs ({generated_count} generated), {accepted} accepted \
         by the rule, {} of those refused by validator",
        seen.len(),
        differences.len()
    );
    println!("refused by the rule but accepted by validator (raw input), by our error code:");
    for (code, count) in &refused_but_validator_accepts {
        println!("  {count:>4}  {code}");
    }

    let known: BTreeSet<&str> = KNOWN_VALIDATOR_DIFFERENCES
        .iter()
        .map(|(input, _)| *input)
        .collect();
    let found: BTreeSet<&str> = differences
        .iter()
        .map(|(input, _)| input.as_str())
        .collect();
    assert_eq!(
        found, known,
        "addresses the rule accepts but validator refuses changed; update \
         KNOWN_VALIDATOR_DIFFERENCES with a reason each: {differences:#?}"
    );
    assert!(
        accepted > 300,
        "only {accepted} accepted addresses were checked"
    );
}
