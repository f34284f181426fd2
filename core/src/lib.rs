//! Pure logic of the Letterbox signup widget.
//!
//! Everything here compiles and is tested natively with plain `cargo test`: no web-sys, no Leptos.
//! The widget (`letterbox`, in `src/`) renders the state these types describe and performs the I/O
//! they ask for; the reference receiver uses the same email rule on the server.
//!
//! Data flows one way: [`config`] (from the host element) → [`submission`] state → on submit,
//! [`contract`] builds the request → the widget's transport sends it → [`contract`] interprets the
//! response into an [`submission::Outcome`] → [`submission::transition`] → the view.
//!
//! Delivery to other services goes through [`adapters`] (request building and response
//! interpretation per provider), paced by [`retry`], with unfinished submissions kept by
//! [`pending`]. The widget's transport executes what they describe.

pub mod adapters;
pub mod bots;
pub mod config;
pub mod contract;
pub mod email;
pub mod events;
pub mod json;
pub mod messages;
pub mod pending;
pub mod provider;
pub mod remember;
pub mod retry;
pub mod screen;
pub mod submission;
pub mod suggest;
pub mod upgrade;
