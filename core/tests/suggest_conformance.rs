//! Runs mailcheck.js's own expectations (`shared/conformance/email/mailcheck.json`, captured from
//! mailcheck 1.1.2's spec) against the port in `letterbox_core::suggest`, each with the lists the
//! expectation names, plus checks of Letterbox's extended default lists.
//!
//! The folder is `${CARGO_MANIFEST_DIR}/../../shared/conformance/email`, or
//! `$LETTERBOX_CONFORMANCE_DIR` when set. A missing file is a failure, not a skip.
//! `encodeEmail_expectations` are not run: `encodeEmail` (HTML escaping for jQuery) is not ported.

#![cfg(not(target_arch = "wasm32"))]

use std::path::PathBuf;

use letterbox_core::suggest::{
    find_closest_domain, split_email, suggest, suggest_with, Lists, DEFAULT_DOMAINS,
    DEFAULT_SECOND_LEVEL_DOMAINS, DEFAULT_TOP_LEVEL_DOMAINS,
};
use serde_json::Value;

/// mailcheck's `findClosestDomain` threshold when the spec calls it without one.
const SPEC_THRESHOLD: usize = 2;

fn mailcheck_json() -> Value {
    let dir = match std::env::var_os("LETTERBOX_CONFORMANCE_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance/email"),
    };
    let path = dir.join("mailcheck.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| {
        panic!(
            "mailcheck.json not found at {} ({error}); set LETTERBOX_CONFORMANCE_DIR to the \
             conformance folder",
            path.display()
        )
    });
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("expected an array of strings, got {value}"))
        .iter()
        .map(|item| item.as_str().expect("a string").to_owned())
        .collect()
}

/// Resolves a list name used in mailcheck.json (`spec.domains`, `defaults.defaultDomains`, null).
fn named_list(json: &Value, name: &Value) -> Vec<String> {
    let Some(name) = name.as_str() else {
        assert!(name.is_null(), "unexpected list name {name}");
        return Vec::new();
    };
    let (group, key) = name.split_once('.').expect("group.key");
    match (group, key) {
        ("spec", key) => strings(&json["spec_lists"][key]),
        ("defaults", "defaultDomains") => strings(&json["defaults"]["domains"]),
        ("defaults", "defaultSecondLevelDomains") => {
            strings(&json["defaults"]["secondLevelDomains"])
        }
        ("defaults", "defaultTopLevelDomains") => strings(&json["defaults"]["topLevelDomains"]),
        _ => panic!("unknown list {name}"),
    }
}

/// mailcheck's own default lists, read from mailcheck.json (not Letterbox's extended ones).
fn mailcheck_defaults(json: &Value) -> Lists {
    Lists::new(
        strings(&json["defaults"]["domains"]),
        strings(&json["defaults"]["secondLevelDomains"]),
        strings(&json["defaults"]["topLevelDomains"]),
    )
}

#[test]
fn meets_every_mailcheck_suggestion_expectation() {
    let json = mailcheck_json();
    let expectations = json["suggestion_expectations"].as_array().expect("array");
    assert!(!expectations.is_empty());
    for case in expectations {
        let input = case["input"].as_str().expect("input");
        let lists = Lists {
            domains: named_list(&json, &case["lists"]["domains"]),
            second_level_domains: named_list(&json, &case["lists"]["secondLevelDomains"]),
            top_level_domains: named_list(&json, &case["lists"]["topLevelDomains"]),
        };
        let got = suggest_with(input, &lists);
        let expected = &case["expected"];
        let context = format!("{input:?} ({}: {})", case["api"], case["it"]);
        match expected {
            Value::Object(fields) => {
                let got = got.unwrap_or_else(|| panic!("{context}: expected {expected}, got none"));
                for (field, value) in fields {
                    let actual = match field.as_str() {
                        "address" => &got.address,
                        "domain" => &got.domain,
                        "full" => &got.full,
                        other => panic!("{context}: unknown field {other}"),
                    };
                    assert_eq!(Some(actual.as_str()), value.as_str(), "{context}: {field}");
                }
            }
            // "no suggestion (false)", "no suggestion (empty callback called)", "falsy .domain".
            Value::String(text) if text.starts_with("no suggestion") || text == "falsy .domain" => {
                assert_eq!(got, None, "{context}");
            }
            other => panic!("{context}: unknown expectation {other}"),
        }
    }
    println!("{} suggestion expectations met", expectations.len());
}

#[test]
fn meets_every_mailcheck_find_closest_domain_expectation() {
    let json = mailcheck_json();
    let expectations = json["findClosestDomain_expectations"]
        .as_array()
        .expect("array");
    assert!(!expectations.is_empty());
    for case in expectations {
        let input = case["input"].as_str().expect("input");
        let candidates = named_list(&json, &case["candidates"]);
        let expected = case["expected"].as_str();
        assert_eq!(
            find_closest_domain(input, &candidates, SPEC_THRESHOLD),
            expected,
            "{input:?} among {}",
            case["candidates"]
        );
    }
}

#[test]
fn meets_every_mailcheck_split_email_expectation() {
    let json = mailcheck_json();
    let expectations = json["splitEmail_expectations"].as_array().expect("array");
    assert!(!expectations.is_empty());
    for case in expectations {
        let input = case["input"].as_str().expect("input");
        let got = split_email(input);
        let expected = &case["expected"];
        if expected == &Value::Bool(false) {
            assert_eq!(got, None, "{input:?}");
            continue;
        }
        let got = got.unwrap_or_else(|| panic!("{input:?}: expected {expected}, got none"));
        assert_eq!(
            Some(got.address.as_str()),
            expected["address"].as_str(),
            "{input:?}"
        );
        assert_eq!(
            Some(got.domain.as_str()),
            expected["domain"].as_str(),
            "{input:?}"
        );
        assert_eq!(
            Some(got.top_level_domain.as_str()),
            expected["topLevelDomain"].as_str(),
            "{input:?}"
        );
        assert_eq!(
            Some(got.second_level_domain.as_str()),
            expected["secondLevelDomain"].as_str(),
            "{input:?}"
        );
    }
}

#[test]
fn meets_the_readme_examples_with_mailcheck_defaults() {
    let json = mailcheck_json();
    let lists = mailcheck_defaults(&json);
    for case in json["readme_examples_not_executed"]
        .as_array()
        .expect("array")
    {
        let input = case["input"].as_str().expect("input");
        let got = suggest_with(input, &lists).unwrap_or_else(|| panic!("{input:?}: none"));
        if let Some(full) = case["expected_full"].as_str() {
            assert_eq!(got.full, full, "{input:?}");
        }
        if let Some(domain) = case["expected_domain"].as_str() {
            assert_eq!(got.domain, domain, "{input:?}");
        }
    }
}

#[test]
fn letterbox_defaults_extend_mailcheck_defaults_in_order() {
    let json = mailcheck_json();
    let mailcheck = mailcheck_defaults(&json);
    let ours = Lists::default();
    assert!(ours.domains.starts_with(&mailcheck.domains));
    assert!(ours
        .second_level_domains
        .starts_with(&mailcheck.second_level_domains));
    assert!(ours
        .top_level_domains
        .starts_with(&mailcheck.top_level_domains));
    for domain in [
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
    ] {
        assert!(DEFAULT_DOMAINS.contains(&domain), "{domain}");
    }
    for tld in ["ua", "com.ua", "me"] {
        assert!(DEFAULT_TOP_LEVEL_DOMAINS.contains(&tld), "{tld}");
    }
    assert_eq!(
        DEFAULT_SECOND_LEVEL_DOMAINS,
        mailcheck.second_level_domains.as_slice()
    );
}

#[test]
fn suggests_gmail_for_gmial_with_letterbox_defaults() {
    let suggestion = suggest("jane@gmial.com").expect("a suggestion");
    assert_eq!(suggestion.address, "jane");
    assert_eq!(suggestion.domain, "gmail.com");
    assert_eq!(suggestion.full, "jane@gmail.com");
}

#[test]
fn suggests_ukr_net_for_ukr_nte_with_letterbox_defaults() {
    let suggestion = suggest("jane@ukr.nte").expect("a suggestion");
    assert_eq!(suggestion.full, "jane@ukr.net");
}

#[test]
fn suggests_nothing_for_gmail_com_with_letterbox_defaults() {
    assert_eq!(suggest("jane@gmail.com"), None);
}

#[test]
fn suggests_providers_that_only_letterbox_defaults_know() {
    let json = mailcheck_json();
    let mailcheck = mailcheck_defaults(&json);
    for (typo, fixed) in [
        ("jane@urk.net", "ukr.net"),
        ("jane@meta.au", "meta.ua"),
        ("jane@protn.me", "proton.me"),
        ("jane@protonmial.com", "protonmail.com"),
    ] {
        assert_eq!(
            suggest(typo).map(|s| s.domain).as_deref(),
            Some(fixed),
            "{typo}"
        );
        assert_ne!(
            suggest_with(typo, &mailcheck).map(|s| s.domain).as_deref(),
            Some(fixed),
            "{typo} is not a Letterbox-only case"
        );
    }
    assert_eq!(suggest("jane@i.ua"), None);
    assert_eq!(suggest("jane@ukr.net"), None);
}
