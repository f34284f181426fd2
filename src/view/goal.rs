//! Public counts on the page: the goal slot ("12,345 of 20,000 members", a progress bar and the
//! call to action) and a signup slot's social proof ("Join 48,000 readers"). What they say is
//! core's ([`letterbox_core::count`]); here the count is read (this browser's fresh copy, else
//! one request through the transport, shared by every slot of the page asking for the same URL)
//! and rendered. A count that cannot be had leaves the text without a number and one line on
//! the console; readers never see an error.

use std::cell::RefCell;

use leptos::prelude::*;
use letterbox_core::config::goal::Goal;
use letterbox_core::count::{self, goal_screen};
use letterbox_core::delivery::Reply;

use super::slot::{part, Slot};
use crate::{storage, transport};

type Waiting = Vec<(String, Vec<Box<dyn FnOnce(Option<u64>)>>)>;

thread_local! {
    /// The counts being read, by URL, with what waits for each.
    static READING: RefCell<Waiting> = const { RefCell::new(Vec::new()) };
}

/// The count at `url` if this browser read it less than `cache_seconds` ago.
fn kept(url: &str, cache_seconds: u32) -> Option<u64> {
    count::fresh(
        storage::stored(&count::storage_key(url)).as_deref(),
        storage::now_ms(),
        cache_seconds,
    )
}

/// Reads the count at `url` and gives it to `then` (`None` when it cannot be had, after one
/// console line naming `slot`). Slots asking for a URL already being read wait for that read.
fn read_then(
    url: String,
    cache_seconds: u32,
    slot: String,
    then: impl FnOnce(Option<u64>) + 'static,
) {
    let first = READING.with(|r| {
        let mut r = r.borrow_mut();
        match r.iter_mut().find(|(u, _)| *u == url) {
            Some((_, waiting)) => {
                waiting.push(Box::new(then));
                false
            }
            None => {
                r.push((url.clone(), vec![Box::new(then)]));
                true
            }
        }
    });
    if !first {
        return;
    }
    leptos::task::spawn_local(async move {
        let (got, redirected) =
            transport::read_once(&count::request(&url), count::TIMEOUT_MS, |reply| {
                (
                    count::read_reply(&reply),
                    matches!(reply, Reply::Redirected),
                )
            })
            .await;
        let got = match got {
            Ok(n) => {
                if cache_seconds > 0 {
                    storage::store(
                        &count::storage_key(&url),
                        &count::record(n, storage::now_ms()),
                    );
                }
                Some(n)
            }
            Err(e) => {
                // (A redirect was already named on the console by the transport.)
                if !redirected {
                    web_sys::console::warn_1(
                        &format!("Letterbox: slot \"{slot}\": {e} ({url}); the slot shows its text without a number").into(),
                    );
                }
                None
            }
        };
        let waiting = READING.with(|r| {
            let mut r = r.borrow_mut();
            let at = r.iter().position(|(u, _)| *u == url);
            at.map(|i| r.remove(i).1).unwrap_or_default()
        });
        for then in waiting {
            then(got);
        }
    });
}

/// A count for a view: known at once (from the configuration or this browser's copy), or
/// `None` while it is read. Inside, `Some(None)` is a count that could not be had.
fn count_signal(
    url: Option<&str>,
    configured: Option<u64>,
    cache_seconds: u32,
    slot: &str,
) -> RwSignal<Option<Option<u64>>> {
    let Some(url) = url else {
        return RwSignal::new(Some(configured));
    };
    if let Some(n) = kept(url, cache_seconds) {
        return RwSignal::new(Some(Some(n)));
    }
    let count = RwSignal::new(None);
    read_then(url.to_owned(), cache_seconds, slot.to_owned(), move |n| {
        // The slot may be gone by the time the count arrives.
        if !count.is_disposed() {
            count.set(Some(n.or(configured)));
        }
    });
    count
}

/// A goal slot: its label, the count with a progress bar once known (space kept while it is
/// read, so nothing below moves when it arrives), and the call to action.
#[component]
pub fn GoalSlot(goal: Goal, id: String, slot_name: String) -> impl IntoView {
    let count = count_signal(
        goal.count_url.as_deref(),
        goal.count,
        goal.cache_seconds,
        &slot_name,
    );
    let lang = goal.texts.lang().tag();
    let label = goal_screen(&goal, None).label;
    // Numbers as text: formatting an f64 would bring float printing into the wasm.
    let max = goal.goal.to_string();
    let cta = goal.cta.clone();
    let screen = Memo::new(move |_| goal_screen(&goal, count.get().flatten()));
    // A no-break space while the count is read: the line keeps its height (nothing moves).
    let text = move || screen.with(|s| s.count.clone().unwrap_or_else(|| "\u{a0}".into()));
    let label_id = format!("{id}-label");
    view! {
        <div class="lb-root lb-goal" part="letterbox-goal" lang=lang>
            <p class="lb-title" part="letterbox-title" id=label_id.clone()>{label}</p>
            <div class="lb-goal-count" class:lb-pending=move || count.get().is_none()
                hidden=move || count.get() == Some(None)>
                <progress class="lb-goal-bar" part="letterbox-progress" max=max
                    value=move || screen.with(|s| s.value.unwrap_or(0).to_string())
                    aria-labelledby=label_id aria-valuetext=text></progress>
                <p part="letterbox-count">{text}</p>
            </div>
            {cta.map(|(text, url)| view! { <a class="lb-button" part="letterbox-cta" href=url>{text}</a> })}
        </div>
    }
}

/// A signup slot's "Join 48,000 readers" (`social_proof`), under its heading; nothing without
/// the setting, while the count is read, or when it cannot be had.
#[component]
pub fn SocialProof(s: Slot) -> impl IntoView {
    let (url, texts, cache_seconds) = s.config.with_value(|c| {
        (
            c.social_proof.clone(),
            c.texts.clone(),
            c.count_cache_seconds,
        )
    });
    let url = url?;
    let slot = s.slot.get_value();
    let count = count_signal(Some(&url), None, cache_seconds, &slot);
    let line = Memo::new(move |_| {
        count
            .get()
            .flatten()
            .and_then(|n| count::social_proof(&texts, n))
    });
    Some(view! {
        <p class="lb-intro" part="letterbox-social-proof"
            hidden=move || line.with(Option::is_none) || s.hides(part::heading)()>{move || line.get().unwrap_or_default()}</p>
    })
}
