//! Browser tests: the real widget mounted into real host elements in headless Chromium, posting
//! to the real local endpoint that `cargo xtask test` starts on 127.0.0.1 (its URL arrives at
//! compile time in `LETTERBOX_TEST_ENDPOINT`). The endpoint records every request, so each test
//! asserts both what the reader sees and what the server received.
//!
//! One module per capability; `support` holds the one host builder (a typed slot configuration,
//! serialised to JSON in one place) and the reader's actions and queries.
#![cfg(target_arch = "wasm32")]

mod api_events;
mod bots;
mod consent;
mod content;
mod delivery;
mod embeds;
mod goal;
mod look;
mod page;
mod providers;
mod queue;
mod remembered;
mod rendering;
mod reserve;
mod stats;
mod support;
mod upgrade;
mod validation;

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);
