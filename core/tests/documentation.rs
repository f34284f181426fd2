//! What the documentation promises stays in step with the code. Each check reads the code's own
//! list (a constant, an enum, the views' `part` attributes, the stylesheet) and the page where a
//! site developer looks for it:
//!
//! | what | from the code | documented in |
//! |---|---|---|
//! | configuration keys | `config::CONFIG_KEYS` | `docs/configuration.md` (key table) and `dist-src/letterbox.d.ts` |
//! | consent and newsletter keys | `config::CONSENT_KEYS`, `config::NEWSLETTER_KEYS` | their rows of the key table, and `letterbox.d.ts` |
//! | provider settings | the keys each provider accepts (from its unknown-key error) | `docs/providers.md` (settings table) |
//! | texts | `messages::Key::ALL` | `docs/configuration.md`, section "Texts" |
//! | parts | every `part="letterbox-…"` in the widget's views (`src/`) | `docs/theming.md`, section "Parts" |
//! | custom properties | every `--letterbox-…` the stylesheet reads, and its light and dark fallbacks | `docs/theming.md` (and its defaults in the Custom properties table) |
//! | events | `events::EventKind` and every `"letterbox:…"` literal in `src/` | `docs/embedding.md`, section "Events", and `letterbox.d.ts` |
//! | xtask commands | the commands `xtask/src/main.rs` matches | `docs/contributing.md` (the `xtask/` line) |
//! | links | every relative link and `#anchor` in `README.md` and `docs/` | the file and heading it names |
//!
//! Where it is cheap, the check also runs the other way (a documented part, property, text or
//! event that the code no longer has fails too).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use letterbox_core::config::goal::{CTA_KEYS, GOAL_KEYS};
use letterbox_core::config::providers::PROVIDERS;
use letterbox_core::config::{
    Config, ConfigError, HostInput, CONFIG_KEYS, CONSENT_KEYS, NEWSLETTER_KEYS,
};
use letterbox_core::messages::Key;
use letterbox_core::slot::events::EventKind;

// ---- reading the repository -----------------------------------------------------------------

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("core/ has a parent")
        .to_path_buf()
}

fn read(relative: &str) -> String {
    let path = root().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Every `.rs` file under `dir` (relative to the repository), recursively, sorted.
fn rust_files(dir: &str) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let entries =
            std::fs::read_dir(dir).unwrap_or_else(|e| panic!("listing {}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&root().join(dir), &mut out);
    out.sort();
    out
}

/// The widget's source (`src/`), file by file.
fn widget_sources() -> Vec<(PathBuf, String)> {
    rust_files("src")
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p)
                .unwrap_or_else(|e| panic!("reading {}: {e}", p.display()));
            (p, text)
        })
        .collect()
}

// ---- reading Markdown -----------------------------------------------------------------------

/// The lines of `doc` outside fenced code blocks, with their heading level (0: not a heading).
fn prose_lines(doc: &str) -> Vec<(usize, &str)> {
    let mut fenced = false;
    let mut out = Vec::new();
    for line in doc.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        let level = line.chars().take_while(|&c| c == '#').count();
        let is_heading = level > 0 && line[level..].starts_with(' ');
        out.push((if is_heading { level } else { 0 }, line));
    }
    out
}

/// The text of the section headed exactly `heading` (e.g. `"## Parts"`), up to the next heading
/// of the same or a higher level.
fn section(doc: &str, heading: &str) -> String {
    let lines = prose_lines(doc);
    let start = lines
        .iter()
        .position(|(_, l)| l.trim_end() == heading)
        .unwrap_or_else(|| panic!("no section {heading:?}"));
    let level = lines[start].0;
    lines[start + 1..]
        .iter()
        .take_while(|(l, _)| *l == 0 || *l > level)
        .map(|(_, line)| *line)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every `` `code span` `` of `text`.
fn code_spans(text: &str) -> Vec<&str> {
    text.split('`').skip(1).step_by(2).collect()
}

/// The first cell of each table row of `text`, with the whole row.
fn table_rows(text: &str) -> Vec<(&str, &str)> {
    text.lines()
        .filter(|l| l.starts_with('|') && !l.starts_with("|---"))
        .map(|l| (l.split('|').nth(1).unwrap_or("").trim(), l))
        .collect()
}

/// The row of the table in `text` whose first cell names `` `name` ``.
fn row<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    table_rows(text)
        .into_iter()
        .find(|(first, _)| code_spans(first).contains(&name))
        .map(|(_, row)| row)
}

fn assert_none_missing(missing: &[String], what: &str) {
    assert!(missing.is_empty(), "{what}: {missing:?}");
}

// ---- configuration --------------------------------------------------------------------------

fn configuration_page() -> String {
    read("docs/configuration.md")
}

/// The key table at the top of `docs/configuration.md` (before its first `##` section).
fn key_table(page: &str) -> String {
    prose_lines(page)
        .into_iter()
        .skip(1)
        .take_while(|(level, _)| *level == 0 || *level > 2)
        .map(|(_, l)| l)
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_configuration_page_has_a_row_for_every_key() {
    let page = configuration_page();
    let table = key_table(&page);
    let documented: Vec<&str> = table_rows(&table)
        .into_iter()
        .flat_map(|(first, _)| code_spans(first))
        .collect();
    let missing: Vec<String> = CONFIG_KEYS
        .iter()
        .filter(|k| !documented.contains(k))
        .map(|k| k.to_string())
        .collect();
    assert_none_missing(&missing, "docs/configuration.md's key table has no row for");
    let unknown: Vec<String> = documented
        .iter()
        .filter(|k| !CONFIG_KEYS.contains(k))
        .map(|k| k.to_string())
        .collect();
    assert_none_missing(
        &unknown,
        "docs/configuration.md documents keys the code does not read",
    );
}

#[test]
fn the_configuration_page_names_every_consent_and_newsletter_key() {
    let page = configuration_page();
    let table = key_table(&page);
    for (key, inner) in [("consent", CONSENT_KEYS), ("newsletters", NEWSLETTER_KEYS)] {
        let row = row(&table, key).unwrap_or_else(|| panic!("no row for `{key}`"));
        let missing: Vec<String> = inner
            .iter()
            .filter(|k| !row.contains(&format!("\"{k}\"")))
            .map(|k| format!("{key}.{k}"))
            .collect();
        assert_none_missing(&missing, "docs/configuration.md's key table does not name");
    }
}

#[test]
fn the_goal_section_has_a_row_for_every_goal_key_and_names_the_cta_keys() {
    let page = configuration_page();
    let goal = section(&page, "## Goal slots");
    let documented: Vec<&str> = table_rows(&goal)
        .into_iter()
        .flat_map(|(first, _)| code_spans(first))
        .collect();
    let missing: Vec<String> = GOAL_KEYS
        .iter()
        .filter(|k| !documented.contains(k))
        .map(|k| k.to_string())
        .collect();
    assert_none_missing(
        &missing,
        "docs/configuration.md's goal table has no row for",
    );
    let unknown: Vec<String> = documented
        .iter()
        .filter(|k| !GOAL_KEYS.contains(k))
        .map(|k| k.to_string())
        .collect();
    assert_none_missing(
        &unknown,
        "docs/configuration.md's goal table documents keys the code does not read",
    );
    let cta = row(&goal, "cta").unwrap_or_else(|| panic!("no row for `cta`"));
    let missing: Vec<String> = CTA_KEYS
        .iter()
        .filter(|k| !cta.contains(&format!("\"{k}\"")))
        .map(|k| format!("cta.{k}"))
        .collect();
    assert_none_missing(&missing, "docs/configuration.md's goal table does not name");
    let text = declarations();
    let options = interface(&text, "LetterboxGoalOptions");
    let missing: Vec<&str> = GOAL_KEYS
        .iter()
        .copied()
        .filter(|k| !declares(options, k))
        .collect();
    assert!(missing.is_empty(), "LetterboxGoalOptions lacks {missing:?}");
}

/// The settings keys `provider` accepts, as its unknown-key error lists them.
fn provider_keys(provider: &str) -> &'static [&'static str] {
    let json = format!(
        r#"{{"provider": "{provider}", "endpoint": "/api/subscribe",
            "newsletters": [{{"id": "daily", "name": "Daily"}}],
            "{provider}": {{"no_such_setting": true}}}}"#
    );
    let input = HostInput {
        json: Some(&json),
        ..HostInput::default()
    };
    match Config::from_host(&input) {
        Err(ConfigError::UnknownKey { key, known, .. }) if key == "no_such_setting" => known,
        other => panic!("expected {provider}'s unknown-key error, got {other:?}"),
    }
}

#[test]
fn the_providers_page_names_every_setting_of_every_provider() {
    let page = read("docs/providers.md");
    let table_start = page
        .find("| provider | settings object | required |")
        .expect("docs/providers.md has the settings table");
    let table = &page[table_start..];
    let table = &table[..table.find("\n\n").unwrap_or(table.len())];
    let mut missing = Vec::new();
    for provider in PROVIDERS {
        let Some(row) = row(table, provider) else {
            missing.push(format!("{provider} (no row)"));
            continue;
        };
        if *provider == "json" {
            continue; // the contract has no settings object
        }
        for key in provider_keys(provider) {
            if !row.contains(&format!("\"{key}\"")) {
                missing.push(format!("{provider}.{key}"));
            }
        }
    }
    assert_none_missing(&missing, "docs/providers.md's settings table does not name");
}

#[test]
fn the_configuration_page_names_every_text_a_site_can_override() {
    let page = configuration_page();
    let texts = section(&page, "## Texts");
    let spans = code_spans(&texts);
    let missing: Vec<String> = Key::ALL
        .iter()
        .map(|k| k.name())
        .filter(|name| !spans.contains(name))
        .map(str::to_owned)
        .collect();
    assert_none_missing(&missing, "docs/configuration.md's Texts section lacks");
    // Placeholders are written `{name}`, and the section may quote a config key like `texts`.
    let unknown: Vec<String> = spans
        .iter()
        .filter(|s| s.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        .filter(|s| {
            Key::from_name(s).is_none() && !CONFIG_KEYS.contains(s) && !GOAL_KEYS.contains(s)
        })
        .map(|s| s.to_string())
        .collect();
    assert_none_missing(
        &unknown,
        "docs/configuration.md names texts that do not exist",
    );
}

fn declarations() -> String {
    read("dist-src/letterbox.d.ts")
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

// ---- theming --------------------------------------------------------------------------------

/// Every `part` name the widget's views render. A `part=` whose value is not a literal
/// `"letterbox-…"` fails here, so no part can be added out of this check's sight.
fn parts_in_views() -> BTreeSet<String> {
    let mut parts = BTreeSet::new();
    for (path, text) in widget_sources() {
        let mut rest = text.as_str();
        while let Some(at) = rest.find("part=") {
            let before = rest[..at].chars().next_back();
            let after = &rest[at + "part=".len()..];
            rest = after;
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '-') {
                continue; // another attribute or word ending in "part"
            }
            let name = after
                .strip_prefix("\"letterbox-")
                .and_then(|s| s.split('"').next())
                .unwrap_or_else(|| {
                    panic!(
                        "{}: a part that is not a literal \"letterbox-…\": part={}",
                        path.display(),
                        after.lines().next().unwrap_or("")
                    )
                });
            parts.insert(format!("letterbox-{name}"));
        }
    }
    assert!(!parts.is_empty(), "found no part attributes in src/");
    parts
}

#[test]
fn the_theming_page_names_every_part_the_views_render() {
    let parts = parts_in_views();
    let page = read("docs/theming.md");
    let documented: BTreeSet<String> = code_spans(&section(&page, "## Parts"))
        .into_iter()
        .filter(|s| s.starts_with("letterbox-") && !s.contains(['…', '.', ' ']))
        .map(str::to_owned)
        .collect();
    let missing: Vec<String> = parts.difference(&documented).cloned().collect();
    assert_none_missing(&missing, "docs/theming.md's Parts section lacks");
    let stale: Vec<String> = documented.difference(&parts).cloned().collect();
    assert_none_missing(&stale, "docs/theming.md lists parts no view renders");
}

/// Every `--letterbox-…` custom property the stylesheet reads (outside its comments).
fn custom_properties() -> BTreeSet<String> {
    let css = read("style/letterbox.css");
    let mut code = String::new();
    let mut rest = css.as_str();
    while let Some(start) = rest.find("/*") {
        code.push_str(&rest[..start]);
        rest = rest[start..]
            .find("*/")
            .map_or("", |end| &rest[start + end + 2..]);
    }
    code.push_str(rest);
    let properties: BTreeSet<String> = code
        .match_indices("--letterbox-")
        .map(|(at, _)| {
            code[at..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect()
        })
        .collect();
    assert!(!properties.is_empty(), "found no custom properties");
    properties
}

#[test]
fn the_theming_page_names_every_custom_property_the_stylesheet_reads() {
    let properties = custom_properties();
    let page = read("docs/theming.md");
    let documented: BTreeSet<String> = code_spans(&page)
        .into_iter()
        .filter(|s| s.starts_with("--letterbox-"))
        .map(str::to_owned)
        .collect();
    let missing: Vec<String> = properties.difference(&documented).cloned().collect();
    assert_none_missing(&missing, "docs/theming.md lacks the custom properties");
    // Each has its row in the table, with a light and a dark default and what it does.
    let table = section(&page, "## Custom properties");
    let without_defaults: Vec<String> = properties
        .iter()
        .filter(|p| {
            row(&table, p).is_none_or(|r| {
                let cells: Vec<&str> = r.split('|').map(str::trim).collect();
                cells.len() < 6 || cells[2..5].iter().any(|c| c.is_empty())
            })
        })
        .cloned()
        .collect();
    assert_none_missing(
        &without_defaults,
        "docs/theming.md's Custom properties table lacks a row with both defaults for",
    );
    let stale: Vec<String> = documented.difference(&properties).cloned().collect();
    assert_none_missing(
        &stale,
        "docs/theming.md names properties the stylesheet does not read",
    );
}

/// Each `--letterbox-…` property's literal fallback in the stylesheet, `(light, dark)`: the
/// `var(--letterbox-x, default)` outside the dark block, and inside `.lb-dark > .lb-root { … }`
/// (the light one where the dark block does not set it). Fallbacks that are other properties
/// (`var(--lb-m)`) are left out: the page describes those in words.
fn stylesheet_defaults() -> BTreeMap<String, (String, Option<String>)> {
    let css = read("style/letterbox.css");
    let dark_start = css
        .find(".lb-dark > .lb-root {")
        .expect("the stylesheet's dark block");
    let dark_end = dark_start + css[dark_start..].find('}').expect("the dark block's end");
    let mut defaults: BTreeMap<String, (String, Option<String>)> = BTreeMap::new();
    for (at, _) in css.match_indices("var(--letterbox-") {
        let inner = &css[at + "var(".len()..];
        let Some((name, rest)) = inner.split_once(',') else {
            continue;
        };
        let Some(value) = rest.split(')').next().map(str::trim) else {
            continue;
        };
        if value.starts_with("var") || name.contains(')') {
            continue;
        }
        let entry = defaults
            .entry(name.trim().to_owned())
            .or_insert_with(|| (String::new(), None));
        if (dark_start..dark_end).contains(&at) {
            entry.1 = Some(value.to_owned());
        } else if entry.0.is_empty() {
            entry.0 = value.to_owned();
        }
    }
    assert!(defaults.len() > 5, "found few defaults: {defaults:?}");
    defaults
}

#[test]
fn the_theming_page_gives_each_property_the_default_the_stylesheet_uses() {
    let page = read("docs/theming.md");
    let table = section(&page, "## Custom properties");
    let wrong: Vec<String> = stylesheet_defaults()
        .into_iter()
        .filter_map(|(name, (light, dark))| {
            let dark = dark.unwrap_or_else(|| light.clone());
            let cells: Vec<String> = row(&table, &name)?
                .split('|')
                .map(|c| c.trim().to_owned())
                .collect();
            let (want_light, want_dark) = (format!("`{light}`"), format!("`{dark}`"));
            (cells.get(2) != Some(&want_light) || cells.get(3) != Some(&want_dark)).then(|| {
                format!("{name}: the stylesheet falls back to {want_light} (light) and {want_dark} (dark), the page says {:?} and {:?}",
                    cells.get(2), cells.get(3))
            })
        })
        .collect();
    assert_none_missing(
        &wrong,
        "docs/theming.md's defaults differ from style/letterbox.css",
    );
}

// ---- events ---------------------------------------------------------------------------------

/// Every event a page can listen for: each [`EventKind`] (a new kind stops this compiling until
/// it is listed here) and every `"letterbox:…"` name the widget dispatches itself (`src/`).
fn event_names() -> BTreeSet<String> {
    use EventKind::{Error, Ready, Submit, Success, Suggestion};
    let kinds = [Ready, Submit, Success, Error, Suggestion];
    for kind in kinds {
        match kind {
            Ready | Submit | Success | Error | Suggestion => {}
        }
    }
    let mut names: BTreeSet<String> = kinds.iter().map(|k| k.name().to_owned()).collect();
    for (_, text) in widget_sources() {
        for (at, _) in text.match_indices("\"letterbox:") {
            let name: String = text[at + 1..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == ':' || *c == '_')
                .collect();
            if text[at + 1 + name.len()..].starts_with('"') {
                names.insert(name);
            }
        }
    }
    names
}

#[test]
fn the_embedding_page_documents_every_event() {
    let events = event_names();
    let page = read("docs/embedding.md");
    let documented: BTreeSet<String> = code_spans(&section(&page, "## Events"))
        .into_iter()
        .filter(|s| s.starts_with("letterbox:"))
        .map(str::to_owned)
        .collect();
    let missing: Vec<String> = events.difference(&documented).cloned().collect();
    assert_none_missing(&missing, "docs/embedding.md's Events section lacks");
    let stale: Vec<String> = documented.difference(&events).cloned().collect();
    assert_none_missing(
        &stale,
        "docs/embedding.md documents events nothing dispatches",
    );
}

#[test]
fn every_event_is_declared_for_typescript() {
    let text = declarations();
    let missing: Vec<String> = event_names()
        .into_iter()
        .filter(|name| !text.contains(&format!("\"{name}\":")))
        .collect();
    assert_none_missing(
        &missing,
        "dist-src/letterbox.d.ts does not declare the events",
    );
}

// ---- contributing ---------------------------------------------------------------------------

/// The commands `cargo xtask` accepts: each `Some("…") =>` arm of its `main`.
fn xtask_commands() -> BTreeSet<String> {
    let main = read("xtask/src/main.rs");
    let commands: BTreeSet<String> = main
        .match_indices("Some(\"")
        .filter_map(|(at, _)| {
            let rest = &main[at + "Some(\"".len()..];
            let name = &rest[..rest.find('"')?];
            rest[name.len()..]
                .trim_start_matches('"')
                .trim_start_matches(')')
                .trim_start()
                .starts_with("=>")
                .then(|| name.to_owned())
        })
        .collect();
    assert!(commands.contains("test"), "found no xtask commands");
    commands
}

#[test]
fn the_contributing_page_lists_every_xtask_command() {
    let commands = xtask_commands();
    let page = read("docs/contributing.md");
    let line = page
        .lines()
        .find(|l| l.starts_with("xtask/"))
        .expect("docs/contributing.md's layout has an xtask/ line");
    let listed: BTreeSet<String> = line
        .split("cargo xtask")
        .nth(1)
        .expect("the xtask/ line says `cargo xtask …`")
        .split('|')
        .filter_map(|c| c.split_whitespace().next())
        .map(str::to_owned)
        .collect();
    let missing: Vec<String> = commands.difference(&listed).cloned().collect();
    assert_none_missing(&missing, "docs/contributing.md's xtask/ line lacks");
    let stale: Vec<String> = listed.difference(&commands).cloned().collect();
    assert_none_missing(
        &stale,
        "docs/contributing.md lists xtask commands that do not exist",
    );
}

// ---- module map -----------------------------------------------------------------------------

/// The modules of a crate folder: its top-level files and folders, without `lib` and `main`.
fn modules_of(dir: &str) -> BTreeSet<String> {
    std::fs::read_dir(root().join(dir))
        .unwrap_or_else(|e| panic!("reading {dir}: {e}"))
        .flatten()
        .filter_map(|e| {
            let path = e.path();
            let name = path.file_stem()?.to_str()?.to_owned();
            (path.is_dir() || path.extension().is_some_and(|x| x == "rs")).then_some(name)
        })
        .filter(|n| n != "main")
        .collect()
}

#[test]
fn the_architecture_page_has_a_row_for_every_module_and_none_for_a_gone_one() {
    let page = read("docs/architecture.md");
    for (dir, heading) in [
        ("core/src", "### `core/src/` (crate `letterbox-core`)"),
        ("src", "### `src/` (crate `letterbox`)"),
    ] {
        let table = section(&page, heading);
        let rows: BTreeSet<String> = table_rows(&table)
            .into_iter()
            .filter_map(|(first, _)| code_spans(first).first().map(|s| (*s).to_owned()))
            .collect();
        let mut modules = modules_of(dir);
        if dir == "core/src" {
            modules.remove("lib");
        }
        let missing: Vec<String> = modules.difference(&rows).cloned().collect();
        assert_none_missing(
            &missing,
            &format!("docs/architecture.md has no row for {dir}/"),
        );
        let stale: Vec<String> = rows.difference(&modules).cloned().collect();
        assert_none_missing(
            &stale,
            &format!("docs/architecture.md has rows for modules {dir}/ no longer has"),
        );
    }
}

// ---- links ----------------------------------------------------------------------------------

/// The Markdown pages: the README and every page under `docs/`, relative to the repository.
fn pages() -> Vec<String> {
    let mut pages = vec!["README.md".to_owned()];
    let mut docs: Vec<String> = std::fs::read_dir(root().join("docs"))
        .expect("docs/ exists")
        .map(|e| e.expect("a directory entry").file_name())
        .filter_map(|n| n.to_str().map(str::to_owned))
        .filter(|n| n.ends_with(".md"))
        .map(|n| format!("docs/{n}"))
        .collect();
    docs.sort();
    pages.extend(docs);
    pages
}

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

fn anchors(page: &str) -> BTreeSet<String> {
    prose_lines(page)
        .into_iter()
        .filter(|(level, _)| *level > 0)
        .map(|(level, line)| anchor(&line[level..]))
        .collect()
}

/// The relative link targets of `page` (outside code blocks), e.g. `docs/theming.md#parts`.
fn relative_links(page: &str) -> Vec<String> {
    let mut links = Vec::new();
    for (_, line) in prose_lines(page) {
        for (at, _) in line.match_indices("](") {
            let rest = &line[at + 2..];
            let Some(end) = rest.find(')') else { continue };
            let target = &rest[..end];
            if !target.contains("://") && !target.starts_with("mailto:") {
                links.push(target.to_owned());
            }
        }
    }
    links
}

#[test]
fn every_relative_link_in_the_readme_and_docs_resolves() {
    let mut broken = Vec::new();
    for page in pages() {
        let text = read(&page);
        let dir = Path::new(&page)
            .parent()
            .unwrap_or(Path::new(""))
            .to_path_buf();
        for link in relative_links(&text) {
            let (file, fragment) = match link.split_once('#') {
                Some((file, fragment)) => (file, Some(fragment)),
                None => (link.as_str(), None),
            };
            let target = if file.is_empty() {
                PathBuf::from(&page)
            } else {
                dir.join(file)
            };
            let full = root().join(&target);
            if !full.exists() {
                broken.push(format!("{page}: {link} (no file)"));
                continue;
            }
            if let Some(fragment) = fragment {
                let target_text = std::fs::read_to_string(&full).unwrap_or_default();
                if !anchors(&target_text).contains(fragment) {
                    broken.push(format!("{page}: {link} (no such heading)"));
                }
            }
        }
    }
    assert_none_missing(&broken, "broken links");
}

#[test]
fn the_readme_links_every_docs_page_and_each_page_links_back() {
    let readme = read("README.md");
    let mut missing = Vec::new();
    for page in pages().into_iter().skip(1) {
        if !relative_links(&readme)
            .iter()
            .any(|l| l.split('#').next() == Some(page.as_str()))
        {
            missing.push(format!("README.md does not link {page}"));
        }
        if !relative_links(&read(&page))
            .iter()
            .any(|l| l.split('#').next() == Some("../README.md"))
        {
            missing.push(format!("{page} does not link back to the README"));
        }
    }
    assert_none_missing(&missing, "missing links");
}

// ---- troubleshooting ------------------------------------------------------------------------

/// The string literals of Rust `source` from byte `from` on, in order, each with the byte where
/// it ends; `\` line continuations and escapes decoded. Scanning stops at `stop` outside a
/// literal (e.g. `");"` for a macro call), if given.
fn literals(source: &str, from: usize, stop: Option<&str>) -> Vec<(String, usize)> {
    let bytes = source.as_bytes();
    let mut out = Vec::new();
    let mut i = from;
    while i < bytes.len() {
        if let Some(stop) = stop {
            if source[i..].starts_with(stop) {
                break;
            }
        }
        match bytes[i] {
            b'\'' if bytes.get(i + 2) == Some(&b'\'') => i += 3, // a char literal like '"'
            b'"' => {
                let mut text = String::new();
                let mut j = i + 1;
                while j < bytes.len() && bytes[j] != b'"' {
                    if bytes[j] == b'\\' {
                        match bytes[j + 1] {
                            b'\n' => {
                                j += 2;
                                while bytes[j].is_ascii_whitespace() {
                                    j += 1;
                                }
                                continue;
                            }
                            b'n' => text.push('\n'),
                            c => text.push(c as char),
                        }
                        j += 2;
                    } else {
                        let ch = source[j..].chars().next().expect("a char");
                        text.push(ch);
                        j += ch.len_utf8();
                    }
                }
                out.push((text, j + 1));
                i = j + 1;
            }
            _ => i += 1,
        }
    }
    out
}

/// A message template as the docs write it: every `{…}` placeholder as `…`.
fn template(message: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for c in message.chars() {
        match c {
            '{' => {
                if depth == 0 {
                    out.push('…');
                }
                depth += 1;
            }
            '}' if depth > 0 => depth -= 1,
            c if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// The part of `source` before its unit tests.
fn without_tests(source: &str) -> &str {
    source.split("#[cfg(test)]").next().unwrap_or(source)
}

/// The messages documented in the table of section `heading` of docs/troubleshooting.md: the
/// first cell of each row, its code span unwrapped (a ``double`` span may hold a backtick).
fn documented(heading: &str) -> Vec<String> {
    let text = section(&read("docs/troubleshooting.md"), heading);
    table_rows(&text)
        .into_iter()
        .skip(1) // the header row
        .map(|(first, _)| {
            let first = first.trim();
            let inner = if let Some(s) = first.strip_prefix("`` ") {
                s.strip_suffix(" ``").unwrap_or(s)
            } else {
                first.trim_matches('`')
            };
            inner.to_owned()
        })
        .collect()
}

/// Whether `message` (with `…` for what varies) matches the documented `pattern` (same form).
fn matches(pattern: &str, message: &str) -> bool {
    let parts: Vec<&str> = pattern.split('…').collect();
    if parts.len() == 1 {
        return pattern == message;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !message.starts_with(first) || !message[first.len()..].ends_with(last) {
        return false;
    }
    let mut rest = &message[first.len()..message.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

/// The `messages` without a row in section `heading`: templates (with `…`) must be written
/// exactly; with `glob`, rendered messages may match a row's `…` with anything.
fn undocumented(messages: &BTreeSet<String>, heading: &str, glob: bool) -> Vec<String> {
    let documented = documented(heading);
    messages
        .iter()
        .filter(|m| {
            !documented
                .iter()
                .any(|d| d == *m || (glob && matches(d, m)))
        })
        .cloned()
        .collect()
}

/// What the widget can print on the console, as templates: the first literal of every
/// `console::` call in `src/`, and the start-up failure the bundle's glue logs.
fn console_messages() -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (path, text) in widget_sources() {
        for (at, _) in text.match_indices("console::") {
            let (message, _) = literals(&text, at, None)
                .into_iter()
                .next()
                .unwrap_or_else(|| panic!("{}: a console call without a message", path.display()));
            out.insert(template(&message));
        }
    }
    let bundle = read("xtask/src/bundle.rs");
    for (at, _) in bundle.match_indices("console.error(\\\"") {
        let rest = &bundle[at + "console.error(\\\"".len()..];
        out.insert(rest[..rest.find("\\\"").expect("a closing quote")].to_owned());
    }
    assert!(out.len() >= 5, "found too few console messages: {out:?}");
    out
}

/// One sample of every kind of configuration error, and the names of the variants of
/// `ConfigError` as its source declares them.
fn config_error_samples() -> (Vec<ConfigError>, BTreeSet<String>) {
    let bad_json = Config::from_host(&HostInput {
        json: Some("{"),
        ..HostInput::default()
    })
    .expect_err("broken JSON is an error");
    let samples = vec![
        bad_json,
        ConfigError::UnknownKey {
            at: "newsletters[0]".into(),
            key: "nmae".into(),
            known: NEWSLETTER_KEYS,
        },
        ConfigError::WrongType {
            at: "newsletters[0].checked".into(),
            expected: "true or false",
            found: "a string",
        },
        ConfigError::MissingEndpoint,
        ConfigError::BadUrl {
            at: "endpoint".into(),
            url: "ftp://x".into(),
        },
        ConfigError::MissingSetting("listmonk.base".into()),
        ConfigError::UnknownProvider("sendgrid".into()),
        ConfigError::NoNewsletters,
        ConfigError::TooManyNewsletters(10_000),
        ConfigError::MissingNewsletterField {
            index: 1,
            field: "name",
        },
        ConfigError::DuplicateNewsletter("daily".into()),
        ConfigError::UnknownText("sumbit".into()),
        ConfigError::Upgrade("it has no email field".into()),
        ConfigError::UnknownKind("gaol".into()),
    ];
    let source = read("core/src/config/mod.rs");
    let body = source
        .split("pub enum ConfigError {")
        .nth(1)
        .expect("core/src/config/mod.rs declares ConfigError");
    let body = &body[..body.find("\n}").expect("the enum ends")];
    let variants = body
        .lines()
        .filter(|l| l.starts_with("    ") && !l.starts_with("     "))
        .map(str::trim)
        .filter(|l| l.starts_with(|c: char| c.is_ascii_uppercase()))
        .map(|l| {
            l.split(|c: char| !c.is_alphanumeric())
                .next()
                .unwrap_or("")
                .to_owned()
        })
        .collect();
    (samples, variants)
}

/// What an adapter or the challenge hook reports on the console (after `Letterbox: `) when the
/// site's setup is wrong: the message literal of every `Outcome::ConfigurationError` outside the
/// tests, and every "the challenge provider …" message.
fn delivery_messages() -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut files = rust_files("core/src/delivery");
    files.extend(rust_files("src"));
    for path in files {
        let text = std::fs::read_to_string(&path).expect("a source file");
        let text = without_tests(&text);
        for (at, _) in text.match_indices("Outcome::ConfigurationError {") {
            let end = at + text[at..].find('}').expect("the struct literal ends");
            // A closing brace inside a format string ends the search early; take the literal
            // that starts before it.
            if let Some((message, _)) = literals(text, at, None).into_iter().next() {
                let starts = at + text[at..].find('"').unwrap_or(usize::MAX - at);
                if starts < end {
                    out.insert(template(&message));
                }
            }
        }
    }
    let challenge = read("src/challenge.rs");
    for (message, _) in literals(without_tests(&challenge), 0, None) {
        if message.starts_with("the challenge provider") {
            out.insert(template(&message));
        }
    }
    assert!(out.len() >= 10, "found too few delivery messages: {out:?}");
    out
}

/// The byte after the `)` that closes the call whose `(` is the first one at or after `from`
/// (parentheses inside string literals do not count).
fn call_end(source: &str, from: usize) -> usize {
    let bytes = source.as_bytes();
    let mut i = from + source[from..].find('(').expect("a call");
    let mut depth = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\'' if bytes.get(i + 2) == Some(&b'\'') => i += 2,
            b'"' => i = literals(source, i, None)[0].1 - 1,
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    bytes.len()
}

/// The receiver's log messages: the message (last literal) of every `tracing::info!`, `warn!`
/// and `error!` in `receiver/src/*.rs`.
fn receiver_log_messages() -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for entry in std::fs::read_dir(root().join("receiver/src")).expect("receiver/src") {
        let path = entry.expect("an entry").path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("a source file");
        let text = without_tests(&text);
        for level in ["tracing::info!(", "tracing::warn!(", "tracing::error!("] {
            for (at, _) in text.match_indices(level) {
                let (message, _) = literals(&text[..call_end(text, at)], at, None)
                    .into_iter()
                    .last()
                    .unwrap_or_else(|| panic!("{}: a log line without a message", path.display()));
                out.insert(template(&message));
            }
        }
    }
    assert!(out.len() >= 20, "found too few log messages: {out:?}");
    out
}

/// The receiver's configuration problems (`check` and start-up print them).
fn receiver_config_problems() -> BTreeSet<String> {
    let text = read("receiver/src/config.rs");
    let text = without_tests(&text);
    let mut out = BTreeSet::new();
    for marker in ["problems.push(", "Err(format!(", "map_err(|_| format!("] {
        for (at, _) in text.match_indices(marker) {
            if let Some((message, _)) = literals(text, at, None).into_iter().next() {
                out.insert(template(&message));
            }
        }
    }
    assert!(
        out.len() >= 10,
        "found too few configuration problems: {out:?}"
    );
    out
}

/// The error statuses the receiver answers with (every non-2xx `StatusCode::…` in app.rs).
fn receiver_error_statuses() -> BTreeSet<String> {
    let text = read("receiver/src/app.rs");
    let text = without_tests(&text);
    let numbers = [
        ("BAD_REQUEST", "400"),
        ("UNAUTHORIZED", "401"),
        ("FORBIDDEN", "403"),
        ("NOT_FOUND", "404"),
        ("REQUEST_TIMEOUT", "408"),
        ("GONE", "410"),
        ("PAYLOAD_TOO_LARGE", "413"),
        ("UNSUPPORTED_MEDIA_TYPE", "415"),
        ("UNPROCESSABLE_ENTITY", "422"),
        ("TOO_MANY_REQUESTS", "429"),
        ("INTERNAL_SERVER_ERROR", "500"),
        ("SERVICE_UNAVAILABLE", "503"),
    ];
    let mut out = BTreeSet::new();
    for (at, _) in text.match_indices("StatusCode::") {
        let name: String = text[at + "StatusCode::".len()..]
            .chars()
            .take_while(|c| c.is_ascii_uppercase() || *c == '_')
            .collect();
        if matches!(
            name.as_str(),
            "OK" | "ACCEPTED" | "NO_CONTENT" | "SEE_OTHER" | ""
        ) {
            continue;
        }
        let number = numbers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, code)| (*code).to_owned())
            .unwrap_or_else(|| panic!("add StatusCode::{name} to this test's table"));
        out.insert(number);
    }
    out
}

#[test]
fn the_troubleshooting_page_lists_every_console_message_of_the_widget() {
    let missing = undocumented(
        &console_messages(),
        "## Console messages of the widget",
        false,
    );
    assert_none_missing(
        &missing,
        "docs/troubleshooting.md (Console messages of the widget) lacks",
    );
}

#[test]
fn the_troubleshooting_page_lists_every_configuration_error() {
    let (samples, variants) = config_error_samples();
    let sampled: BTreeSet<String> = samples
        .iter()
        .map(|e| {
            format!("{e:?}")
                .split(|c: char| !c.is_alphanumeric())
                .next()
                .unwrap_or("")
                .to_owned()
        })
        .collect();
    let unsampled: Vec<String> = variants.difference(&sampled).cloned().collect();
    assert_none_missing(
        &unsampled,
        "ConfigError variants without a sample here (add one, and its row in docs/troubleshooting.md)",
    );
    let messages: BTreeSet<String> = samples.iter().map(ToString::to_string).collect();
    let missing = undocumented(&messages, "### Configuration errors", true);
    assert_none_missing(
        &missing,
        "docs/troubleshooting.md (Configuration errors) has no row matching",
    );
}

#[test]
fn the_troubleshooting_page_lists_every_delivery_setup_message() {
    let missing = undocumented(
        &delivery_messages(),
        "### Delivery and challenge errors",
        false,
    );
    assert_none_missing(
        &missing,
        "docs/troubleshooting.md (Delivery and challenge errors) lacks",
    );
}

#[test]
fn the_troubleshooting_page_lists_every_receiver_log_message_and_problem() {
    let missing = undocumented(&receiver_log_messages(), "## Receiver log messages", false);
    assert_none_missing(
        &missing,
        "docs/troubleshooting.md (Receiver log messages) lacks",
    );
    let missing = undocumented(
        &receiver_config_problems(),
        "## Receiver configuration problems",
        false,
    );
    assert_none_missing(
        &missing,
        "docs/troubleshooting.md (Receiver configuration problems) lacks",
    );
}

#[test]
fn the_troubleshooting_page_lists_every_error_status_of_the_receiver() {
    let documented = documented("## Receiver answers");
    let missing: Vec<String> = receiver_error_statuses()
        .into_iter()
        .filter(|code| !documented.iter().any(|d| d.starts_with(code.as_str())))
        .collect();
    assert_none_missing(
        &missing,
        "docs/troubleshooting.md (Receiver answers) has no row for status",
    );
}

#[test]
fn the_troubleshooting_matcher_reads_templates_as_the_docs_write_them() {
    assert_eq!(
        template("Letterbox: slot \"{slot}\": {e}"),
        "Letterbox: slot \"…\": …"
    );
    assert!(matches(
        "unknown key …; expected one of: …",
        "unknown key \"x\"; expected one of: a, b"
    ));
    assert!(!matches(
        "unknown key …; expected one of: …",
        "unknown provider \"x\"; expected one of: a"
    ));
    let found = literals("f(\"a \\\"b\\\" \\\n     c\", '\"', \"d\");", 0, Some(");"));
    assert_eq!(
        found.iter().map(|(s, _)| s.as_str()).collect::<Vec<_>>(),
        ["a \"b\" c", "d"]
    );
}
