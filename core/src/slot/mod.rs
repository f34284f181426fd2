//! One slot's life, as pure logic: the submission state machine ([`submission`]: one status, one
//! transition function), the presenter that decides every visible text ([`screen`]), and the
//! events a host page can listen to ([`events`]), and the anonymous statistics counted from them
//! ([`stats`]).
//!
//! The widget keeps a [`submission::State`] per slot, feeds it reader actions and delivery
//! outcomes, renders [`screen::screen`] of it and raises [`events::between`] two states.

pub mod events;
pub mod scenes;
pub mod screen;
pub mod stats;
pub mod submission;
