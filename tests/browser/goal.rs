//! Public counts: the goal slot (`"kind": "goal"`) and a signup slot's `social_proof`, reading
//! `{"count": n}` from the local endpoint's `/t/<test>/count/<answer>` (a number, `malformed`,
//! `html`, `error`, `slow-<n>`), which records each read.

use crate::support::*;
use serde_json::json;
use wasm_bindgen_test::wasm_bindgen_test;

/// A goal slot named `test` reading its count at the test's route answering `answer`.
fn goal(test: &str, answer: &str) -> Config {
    Config::default()
        .key("kind", "goal")
        .key("goal", 20000)
        .key("count_url", route(test, &format!("count/{answer}")))
        .key(
            "cta",
            json!({"text": "Become a member", "url": "/membership"}),
        )
}

/// How many times the endpoint was asked for test `test`'s count.
async fn reads(test: &str) -> usize {
    requests(test)
        .await
        .iter()
        .filter(|r| {
            r["behaviour"]
                .as_str()
                .is_some_and(|b| b.starts_with("count"))
        })
        .count()
}

/// The goal's count line once the count is known (shown, not waiting).
fn counted(s: &Slot) -> Option<String> {
    shown(s, ".lb-goal-count:not(.lb-pending)").map(|_| text(s, "[part=letterbox-count]"))
}

/// Forgets every count this browser kept (each test starts as a first page view).
fn forget_counts() {
    let storage = web_sys::window().unwrap().local_storage().unwrap().unwrap();
    let keys: Vec<String> = (0..storage.length().unwrap())
        .filter_map(|i| storage.key(i).unwrap())
        .filter(|k| k.starts_with("letterbox:count:"))
        .collect();
    for k in keys {
        storage.remove_item(&k).unwrap();
    }
}

/// Every `console.warn` from now on, as text.
fn spy_on_warnings() -> js_sys::Array {
    let warnings = js_sys::Array::new();
    js_sys::Function::new_with_args(
        "warnings",
        "const warn = console.warn; console.warn = function (m) { warnings.push(String(m)); return warn.apply(console, arguments); };",
    )
    .call1(&wasm_bindgen::JsValue::NULL, &warnings)
    .unwrap();
    warnings
}

fn warnings_naming(warnings: &js_sys::Array, what: &str) -> Vec<String> {
    warnings
        .iter()
        .filter_map(|w| w.as_string())
        .filter(|w| w.contains(what))
        .collect()
}

#[wasm_bindgen_test]
async fn a_goal_shows_the_count_it_reads_with_a_named_progress_bar_and_its_link() {
    let test = "goal-shows";
    forget_counts();
    let s = Host::new(test, goal(test, "12345")).mount();
    let count = wait_for("the count", || counted(&s)).await;
    assert_eq!(count, "12,345 of 20,000 members");
    let label = get(&s, "[part=letterbox-title]");
    assert_eq!(
        label.text_content().unwrap(),
        "Help us reach 20,000 members"
    );
    let bar = get(&s, "progress");
    assert_eq!(bar.get_attribute("max").as_deref(), Some("20000"));
    assert_eq!(bar.get_attribute("value").as_deref(), Some("12345"));
    assert_eq!(
        bar.get_attribute("aria-valuetext").as_deref(),
        Some("12,345 of 20,000 members")
    );
    // Named by the heading: the id it points to is the label's.
    assert_eq!(bar.get_attribute("aria-labelledby"), Some(label.id()));
    assert!(!label.id().is_empty());
    let cta = get(&s, "a[part=letterbox-cta]");
    assert_eq!(cta.text_content().unwrap(), "Become a member");
    assert_eq!(cta.get_attribute("href").as_deref(), Some("/membership"));
    assert!(find(&s, ".lb-config-error").is_none());
    assert_eq!(reads(test).await, 1);
}

#[wasm_bindgen_test]
async fn slots_reading_one_count_make_one_request_and_the_next_page_view_reuses_it() {
    let test = "goal-once";
    forget_counts();
    let top = Host::new(test, goal(test, "slow-700")).mount();
    let bottom = Host::new("goal-once-bottom", goal(test, "slow-700")).mount();
    for s in [&top, &bottom] {
        wait_for("the count", || {
            shown(s, "[part=letterbox-count]")
                .filter(|e| e.text_content().unwrap_or_default() == "700 of 20,000 members")
        })
        .await;
    }
    assert_eq!(reads(test).await, 1, "two slots, one read");
    // The reader's next page view: the count kept in this browser is shown at once, unasked.
    letterbox::unmount(&top.host);
    let again = Host::new("goal-once-again", goal(test, "slow-700")).mount();
    assert_eq!(
        text(&again, "[part=letterbox-count]"),
        "700 of 20,000 members"
    );
    assert!(shown(&again, "progress").is_some());
    assert_eq!(reads(test).await, 1, "a fresh count is not read again");
    // Without caching, every page view reads it.
    let uncached = Host::new(
        "goal-once-uncached",
        goal(test, "slow-700").key("count_cache_seconds", 0),
    )
    .mount();
    wait_for("the second read", || counted(&uncached)).await;
    assert_eq!(reads(test).await, 2);
}

#[wasm_bindgen_test]
async fn while_the_count_is_read_its_space_is_kept_and_nothing_is_announced_as_progress() {
    let test = "goal-waiting";
    forget_counts();
    let s = Host::new(test, goal(test, "slow-5")).mount();
    let area = get(&s, ".lb-goal-count");
    // Laid out (its space kept) but invisible, so nothing below moves when the count arrives.
    assert!(!area.has_attribute("hidden"));
    assert!(area.class_list().contains("lb-pending"));
    let height = area.get_bounding_client_rect().height();
    assert!(height > 10.0, "the count's space is kept: {height}");
    wait_for("the count", || {
        (!area.class_list().contains("lb-pending")).then_some(())
    })
    .await;
    assert_eq!(area.get_bounding_client_rect().height(), height);
    assert_eq!(text(&s, "[part=letterbox-count]"), "5 of 20,000 members");
}

#[wasm_bindgen_test]
async fn a_malformed_or_failing_count_leaves_the_text_without_a_number_and_one_console_line() {
    let warnings = spy_on_warnings();
    forget_counts();
    for answer in ["malformed", "html", "error"] {
        let test = format!("goal-fails-{answer}");
        let url = route(&test, &format!("count/{answer}"));
        let s = Host::new(&test, goal(&test, answer)).mount();
        wait_for("the count area to go", || {
            find(&s, ".lb-goal-count").filter(|a| a.has_attribute("hidden"))
        })
        .await;
        assert!(shown(&s, "progress").is_none(), "{answer}: no bar");
        assert_eq!(
            text(&s, "[part=letterbox-title]"),
            "Help us reach 20,000 members"
        );
        assert!(
            shown(&s, "a[part=letterbox-cta]").is_some(),
            "{answer}: the link stays"
        );
        assert!(
            find(&s, ".lb-config-error").is_none(),
            "{answer}: no error for readers"
        );
        let said = warnings_naming(&warnings, &url);
        assert_eq!(said.len(), 1, "{answer}: one console line: {said:?}");
        let expected = match answer {
            "error" => "answered with status 503",
            _ => "something other than {\"count\": n}",
        };
        assert!(said[0].contains(expected), "{answer}: {}", said[0]);
        assert!(said[0].starts_with(&format!("Letterbox: slot \"{test}\": ")));
        // Nothing is kept: the next page view asks again.
        let storage = web_sys::window().unwrap().local_storage().unwrap().unwrap();
        assert_eq!(
            storage.get_item(&format!("letterbox:count:{url}")).unwrap(),
            None
        );
    }
}

#[wasm_bindgen_test]
async fn a_count_url_that_does_not_answer_falls_back_to_the_configured_count() {
    let warnings = spy_on_warnings();
    forget_counts();
    // Nothing listens on port 9 of 127.0.0.1: a network error.
    let url = "http://127.0.0.1:9/count";
    let s = Host::new(
        "goal-unreachable",
        Config::default()
            .key("kind", "goal")
            .key("goal", 20000)
            .key("count", 11000)
            .key("count_url", url),
    )
    .mount();
    wait_for("the configured count", || {
        shown(&s, "[part=letterbox-count]")
            .filter(|e| e.text_content().unwrap_or_default() == "11,000 of 20,000 members")
    })
    .await;
    assert_eq!(warnings_naming(&warnings, url).len(), 1);
    assert!(warnings_naming(&warnings, url)[0].contains("did not answer"));
    // A count from the configuration alone is shown at once.
    let fixed = Host::new(
        "goal-fixed",
        Config::default()
            .key("kind", "goal")
            .key("goal", 100)
            .key("count", 101),
    )
    .mount();
    assert_eq!(text(&fixed, "[part=letterbox-count]"), "101 of 100 members");
    assert_eq!(
        get(&fixed, "progress").get_attribute("value").as_deref(),
        Some("100")
    );
}

#[wasm_bindgen_test]
async fn a_ukrainian_goal_groups_digits_and_agrees_in_number() {
    forget_counts();
    for (count, said) in [
        ("21", "21 учасник із 20\u{a0}000"),
        ("22", "22 учасники із 20\u{a0}000"),
        ("12345", "12\u{a0}345 учасників із 20\u{a0}000"),
    ] {
        let test = format!("goal-uk-{count}");
        let s = Host::new(&test, goal(&test, count).key("lang", "uk")).mount();
        let got = wait_for("the count", || counted(&s)).await;
        assert_eq!(got, said);
        assert_eq!(
            text(&s, "[part=letterbox-title]"),
            "Наша мета — 20\u{a0}000 учасників"
        );
        assert_eq!(
            get(&s, ".lb-goal").get_attribute("lang").as_deref(),
            Some("uk")
        );
    }
}

#[wasm_bindgen_test]
async fn a_broken_goal_configuration_is_named_in_the_slot_where_developers_work() {
    let s = Host::new(
        "goal-broken",
        Config::default()
            .key("kind", "goal")
            .key("goal", 0)
            .key("count", 1),
    )
    .mount();
    let detail = text(&s, ".lb-config-detail");
    assert!(
        detail.contains("goal must be a whole number from 1 to 1000000000, not 0"),
        "{detail}"
    );
    // A goal slot has no form: its panel says what is missing in a goal's words.
    assert_eq!(
        text(&s, ".lb-result-title"),
        "This membership goal is not available"
    );
    let uk = Host::new(
        "goal-broken-uk",
        Config::default()
            .key("kind", "goal")
            .key("goal", 0)
            .key("count", 1),
    )
    .attribute("data-lang", "uk")
    .mount();
    assert_eq!(
        text(&uk, ".lb-result-title"),
        "Ця мета щодо кількості учасників недоступна"
    );
}

#[wasm_bindgen_test]
async fn social_proof_says_how_many_readers_to_join_and_nothing_when_the_count_fails() {
    let warnings = spy_on_warnings();
    forget_counts();
    let test = "social-proof";
    let s = Host::new(
        test,
        Config::new()
            .endpoint(route(test, "subscribed"))
            .newsletters(one())
            .key("title", "The Daily Briefing")
            .key("social_proof", route(test, "count/48000")),
    )
    .mount();
    let line = wait_for("the social proof", || {
        shown(&s, "[part=letterbox-social-proof]")
    })
    .await;
    assert_eq!(line.text_content().unwrap(), "Join 48,000 readers");
    // It goes with the heading when a panel replaces the form.
    sign_up(&s, "jane@example.com").await;
    wait_for("the success panel", || shown(&s, ".lb-success")).await;
    assert!(shown(&s, "[part=letterbox-social-proof]").is_none());

    let failing = "social-proof-fails";
    let url = route(failing, "count/malformed");
    let f = Host::new(
        failing,
        Config::new()
            .endpoint(route(failing, "subscribed"))
            .newsletters(one())
            .key("lang", "uk")
            .key("social_proof", url.clone()),
    )
    .mount();
    wait_for("the console line", || {
        (!warnings_naming(&warnings, &url).is_empty()).then_some(())
    })
    .await;
    assert!(shown(&f, "[part=letterbox-social-proof]").is_none());
    assert!(
        shown(&f, "input[type=email]").is_some(),
        "the form works without it"
    );
    assert_eq!(warnings_naming(&warnings, &url).len(), 1);

    let uk = "social-proof-uk";
    let u = Host::new(
        uk,
        Config::new()
            .endpoint(route(uk, "subscribed"))
            .newsletters(one())
            .key("lang", "uk")
            .key("social_proof", route(uk, "count/21")),
    )
    .mount();
    let line = wait_for("the social proof", || {
        shown(&u, "[part=letterbox-social-proof]")
    })
    .await;
    assert_eq!(line.text_content().unwrap(), "Приєднуйтеся до 21 читача");
}
