//! Where signups go out from this page: one request per signup however many slots send it, the
//! retries core's [`RetryPolicy`] asks for, the browser's queue of signups not sent yet
//! ([`letterbox_core::pending`]), and the registry of the ways this page delivers, through which
//! queued signups are sent. It executes core's decisions and decides nothing itself.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use letterbox_core::delivery::retry::{Decision, RetryPolicy};
use letterbox_core::delivery::{Adapter, Envelope};
use letterbox_core::pending::{self, settle, Pending, PendingQueue, Settlement};
use letterbox_core::signup::{Outcome, Signup};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::storage::{now_ms, storage, store, stored};
use crate::{challenge, remembered, transport};

/// What a slot does with the answer to a signup it waits for; `None` when that signup was
/// withdrawn in another slot.
pub type Delivered = Rc<dyn Fn(Option<Outcome>)>;

/// A signup on its way from one slot: the slot that sent it and the slots that joined it, in
/// that order, each waiting for its answer.
struct InFlight {
    fingerprint: String,
    signup: Signup,
    waiting: Vec<Delivered>,
}

thread_local! {
    /// Every distinct way this page delivers: (destination, adapter fingerprint, adapter).
    static ADAPTERS: RefCell<Vec<(String, String, Adapter)>> = const { RefCell::new(Vec::new()) };
    /// Slots waiting for a queued signup's answer, by its idempotency key.
    static WAITING: RefCell<Vec<(String, Delivered)>> = const { RefCell::new(Vec::new()) };
    static FLUSHING: Cell<bool> = const { Cell::new(false) };
    static IN_FLIGHT: RefCell<Vec<InFlight>> = const { RefCell::new(Vec::new()) };
}

/// How long one page holds its claim on a queued signup; renewed before each send, and longer
/// than one send can take (a challenge token, then two requests, each with its limit).
const LEASE_MS: u64 = 120_000;

/// One request for one signup: when the same signup ([`Signup::is_same_as`]) is already on its
/// way from another slot through an adapter with the same settings (`fingerprint`), this one
/// joins it: `done` gets that one's answer, its idempotency key is returned (the joining slot
/// takes it as its own), and nothing is sent for this slot. Otherwise `signup` is registered as
/// on its way (`None`): send it, and call [`landed`] with its answer, which reaches `done` and
/// every slot that joined. Every answer reaches a slot this one way, through its `done` (here,
/// or [`wait_for_delivery`] for a queued signup).
pub fn join_or_lead(fingerprint: &str, signup: &Signup, done: Delivered) -> Option<String> {
    IN_FLIGHT.with(|f| {
        let mut f = f.borrow_mut();
        let same = |i: &&mut InFlight| i.fingerprint == fingerprint && i.signup.is_same_as(signup);
        match f.iter_mut().find(same) {
            Some(leader) => {
                leader.waiting.push(done);
                Some(leader.signup.key.clone())
            }
            None => {
                f.push(InFlight {
                    fingerprint: fingerprint.to_owned(),
                    signup: signup.clone(),
                    waiting: vec![done],
                });
                None
            }
        }
    })
}

/// The signup with idempotency `key` got its `outcome`: the slot that sent it and the slots that
/// joined it get it, in that order.
pub fn landed(key: &str, outcome: &Outcome) {
    let waiting: Vec<Delivered> = IN_FLIGHT.with(|f| {
        let mut f = f.borrow_mut();
        let (found, rest): (Vec<_>, Vec<_>) = f.drain(..).partition(|i| i.signup.key == key);
        *f = rest;
        found.into_iter().flat_map(|i| i.waiting).collect()
    });
    for done in waiting {
        done(Some(outcome.clone()));
    }
}

/// Sends `envelope` through `adapter`, retrying as [`RetryPolicy::decide`] says (same key, a
/// fresh challenge token each time), up to `max_attempts` in all. When core decides to queue,
/// the signup is kept in the browser for up to `pending_days` and [`Outcome::Queued`] is
/// returned with the key it is kept under: the same signup already waiting (queued by another
/// slot, tab or page view) keeps its own key, and the slot takes that one. If the browser
/// cannot keep it, the last outcome is returned. `waiting` is told each wait before a retry,
/// in milliseconds, so the slot can say so.
pub async fn send(
    adapter: &Adapter,
    envelope: &Envelope,
    max_attempts: u32,
    pending_days: u32,
    waiting: &dyn Fn(u32),
) -> (Outcome, Option<String>) {
    let policy = RetryPolicy {
        max_attempts,
        repeats_safely: adapter.repeats_safely(),
        ..RetryPolicy::default()
    };
    let mut made = 0;
    loop {
        let outcome = challenge::deliver(adapter, envelope).await;
        made += 1;
        let online = online();
        match policy.decide(&outcome, made, online, js_sys::Math::random()) {
            Decision::Retry { delay_ms } => {
                waiting(delay_ms);
                transport::sleep(delay_ms).await
            }
            Decision::Queue => {
                return match enqueue(adapter, &envelope.signup, pending_days) {
                    Some(kept) => (Outcome::Queued, Some(kept)),
                    None => (outcome, None),
                }
            }
            Decision::Finish(shown) => return (shown, None),
        }
    }
}

/// `navigator.onLine` (true where the browser cannot tell).
fn online() -> bool {
    web_sys::window()
        .map(|w| w.navigator().on_line())
        .unwrap_or(true)
}

fn load_queue() -> PendingQueue {
    PendingQueue::load(
        stored(pending::STORAGE_KEY).as_deref(),
        now_ms(),
        PendingQueue::MAX_AGE_MS,
    )
}

fn save_queue(queue: &PendingQueue) {
    store(pending::STORAGE_KEY, &queue.to_storage());
}

/// Keeps a signup that could not be sent, for up to `days`, to send when the browser is back
/// online or on the reader's next page view, through `adapter` (or another with the same
/// settings). The key it is kept under (the same signup already waiting keeps its own), or
/// `None` when the slot keeps nothing (`days` 0) or the browser cannot store it.
fn enqueue(adapter: &Adapter, signup: &Signup, days: u32) -> Option<String> {
    if days == 0 || storage().is_none() {
        return None;
    }
    let mut queue = load_queue();
    let mut entry = Pending::new(signup.clone(), &adapter.destination(), now_ms());
    entry.max_age_ms = u64::from(days) * 24 * 60 * 60 * 1000;
    entry.adapter = Some(adapter.fingerprint());
    let kept = queue.add(entry).signup.key.clone();
    save_queue(&queue);
    load_queue()
        .entries()
        .iter()
        .any(|p| p.signup.key == kept)
        .then_some(kept)
}

/// The slots waiting for the queued signup `key`, taken out of the waiting list.
fn take_waiting(key: &str) -> Vec<Delivered> {
    WAITING.with(|w| {
        let mut w = w.borrow_mut();
        let (found, rest) = w.drain(..).partition(|(k, _)| *k == key);
        *w = rest;
        found.into_iter().map(|(_, f)| f).collect()
    })
}

/// Drops the queued signup with idempotency key `key` (the reader withdrew it); a slot that
/// shared it is told.
pub fn withdraw(key: &str) {
    let mut queue = load_queue();
    if queue.remove(key) {
        save_queue(&queue);
    }
    for done in take_waiting(key) {
        done(None);
    }
}

/// Registers how this page delivers, so queued signups for the same place can be sent here.
pub fn register_adapter(adapter: Adapter) {
    let fingerprint = adapter.fingerprint();
    let added = ADAPTERS.with(|a| {
        let mut a = a.borrow_mut();
        let new = !a.iter().any(|(_, f, _)| *f == fingerprint);
        if new {
            a.push((adapter.destination(), fingerprint, adapter));
        }
        new
    });
    // A slot mounted after the page view's first flush may be the only one that can send what
    // waits for its destination.
    if added && stored(pending::STORAGE_KEY).is_some() {
        flush();
    }
}

/// Calls `done` with the answer when the queued signup `key` is finally delivered.
pub fn wait_for_delivery(key: &str, done: Delivered) {
    WAITING.with(|w| w.borrow_mut().push((key.to_owned(), done)));
}

/// Sends the queued signups this page can deliver, each exactly once: a page claims an entry
/// (a lease in storage, so another tab does not send it too), sends it with its original
/// idempotency key through a slot with the same settings (else another delivering to the same
/// place), and settles it as [`settle`] says.
pub fn flush() {
    if FLUSHING.with(|f| f.replace(true)) {
        return;
    }
    leptos::task::spawn_local(async {
        // An integer id (formatting an f64 would pull float printing into the wasm).
        let owner = format!(
            "page-{}",
            (js_sys::Math::random() * 9_007_199_254_740_991.0) as u64
        );
        let adapters: Vec<(String, String, Adapter)> = ADAPTERS.with(|a| a.borrow().clone());
        let mut destinations: Vec<&str> = adapters.iter().map(|(d, _, _)| d.as_str()).collect();
        destinations.sort_unstable();
        destinations.dedup();
        for destination in destinations {
            let mut queue = load_queue();
            let claimed = queue.claim(destination, &owner, now_ms(), LEASE_MS);
            if claimed.is_empty() {
                continue;
            }
            save_queue(&queue);
            for entry in claimed {
                let key = entry.signup.key.clone();
                // Renew this page's claim before each send, so a long batch keeps it.
                let mut queue = load_queue();
                let still_ours = queue
                    .claim(destination, &owner, now_ms(), LEASE_MS)
                    .iter()
                    .any(|e| e.signup.key == key);
                save_queue(&queue);
                if !still_ours {
                    continue; // withdrawn, or taken over, meanwhile
                }
                let here = || adapters.iter().filter(|(d, _, _)| d == destination);
                let same = here().find(|(_, f, _)| entry.adapter.as_ref() == Some(f));
                let Some((_, _, adapter)) = same.or_else(|| here().next()) else {
                    continue;
                };
                let envelope = Envelope::new(entry.signup.clone());
                let outcome = challenge::deliver(adapter, &envelope).await;
                let online = online();
                let (settlement, outcome) = settle(&outcome, online, adapter.repeats_safely());
                let mut queue = load_queue();
                if settlement == Settlement::Keep {
                    queue.release(&key);
                    save_queue(&queue);
                    continue;
                }
                queue.remove(&key);
                save_queue(&queue);
                if settlement == Settlement::Delivered {
                    remembered::remember(destination, &entry.signup.newsletters);
                }
                for done in take_waiting(&key) {
                    done(Some(outcome.clone()));
                }
            }
        }
        FLUSHING.with(|f| f.set(false));
    });
}

/// Sends the queue when the browser comes back online.
pub fn flush_when_online() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let on_online = Closure::<dyn FnMut()>::new(flush);
    let _ = window.add_event_listener_with_callback("online", on_online.as_ref().unchecked_ref());
    // The listener lives as long as the page.
    on_online.forget();
}
