//! Pure logic of the Letterbox signup widget.
//!
//! Everything here compiles and is tested natively with plain `cargo test`: no web-sys, no Leptos.
//! The widget (`letterbox`, in `src/`) renders the state these types describe and performs the I/O
//! they ask for; the reference receiver uses the same email rule on the server.
//!
//! # The module map
//!
//! From the leaves up, each row imports only from the rows above it (`cargo xtask test` fails on
//! any import circle, `cargo xtask layers` alone):
//!
//! | module | owns |
//! |---|---|
//! | [`json`], [`email`], [`messages`], [`suggest`], [`theme`] | leaves: the JSON reader and writer, the email rule, the text catalogues, typo suggestions, the slot's theme and colour scheme |
//! | [`signup`] | the one [`signup::Signup`], its [`signup::Source`] and [`signup::Consent`], every [`signup::Outcome`], and the "same signup" rule |
//! | [`bots`] | the honeypot and fill-time signals and the verdict on a submission |
//! | [`delivery`] | the adapters (request building and answer reading per provider), the endpoint [`delivery::contract`], and [`delivery::retry`] with the one queueing rule |
//! | [`pending`], [`remember`] | the browser's records: signups waiting to be sent (and how each answer settles them), signups already made |
//! | [`config`] | a slot's configuration: the model and its errors, provider settings ([`config::providers`]), and reading an existing form ([`config::upgrade`]) |
//! | [`count`] | public counts: reading `{"count": n}`, keeping it a while, and what a goal slot and a slot's social proof say |
//! | [`slot`] | one slot's life: the submission state machine, the screen presenter, the host events |
//!
//! Data flows one way: [`config`] (from the host element) → [`slot::submission`] state → on
//! submit, a [`signup::Signup`] → [`delivery`] builds the requests → the widget's transport sends
//! them → [`delivery`] reads the answers into an [`signup::Outcome`] → [`delivery::retry`] decides
//! (retry, queue in [`pending`], or finish) → [`slot::submission::transition`] → the view.

pub mod bots;
pub mod config;
pub mod count;
pub mod delivery;
pub mod email;
pub mod json;
pub mod messages;
pub mod pending;
pub mod remember;
pub mod signup;
pub mod slot;
pub mod suggest;
pub mod theme;
