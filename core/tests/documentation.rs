//! What the documentation promises stays in step with the code: the TypeScript declarations
//! shipped in `dist/` (`dist-src/letterbox.d.ts`) name every configuration key the widget reads,
//! and the README names every text a site can override.

use letterbox_core::config::{CONFIG_KEYS, CONSENT_KEYS};
use letterbox_core::messages::Key;

#[test]
fn the_readme_names_every_text_a_site_can_override() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md");
    let readme = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    let missing: Vec<&str> = Key::ALL
        .iter()
        .map(|k| k.name())
        .filter(|name| !readme.contains(&format!("`{name}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "README.md does not list the texts {missing:?}"
    );
}

fn declarations() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../dist-src/letterbox.d.ts");
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

/// The body of `interface <name> { … }` (up to its closing brace at the start of a line).
fn interface<'a>(text: &'a str, name: &str) -> &'a str {
    let start = text
        .find(&format!("export interface {name} {{"))
        .unwrap_or_else(|| panic!("no interface {name}"));
    let rest = &text[start..];
    &rest[..rest.find("\n}").expect("a closing brace")]
}

fn declares(body: &str, key: &str) -> bool {
    body.lines().any(|l| {
        l.trim_start().starts_with(&format!("{key}?:"))
            || l.trim_start().starts_with(&format!("{key}:"))
    })
}

#[test]
fn every_configuration_key_is_declared_for_mount_options() {
    let text = declarations();
    let options = interface(&text, "LetterboxOptions");
    let missing: Vec<&str> = CONFIG_KEYS
        .iter()
        .copied()
        .filter(|k| !declares(options, k))
        .collect();
    assert!(missing.is_empty(), "LetterboxOptions lacks {missing:?}");
    let consent = interface(&text, "LetterboxConsent");
    let missing: Vec<&str> = CONSENT_KEYS
        .iter()
        .copied()
        .filter(|k| !declares(consent, k))
        .collect();
    assert!(missing.is_empty(), "LetterboxConsent lacks {missing:?}");
}
