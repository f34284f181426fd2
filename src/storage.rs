//! The browser's `localStorage`, for the records core describes ([`letterbox_core::pending`],
//! [`letterbox_core::remember`]). Storage throws in some privacy modes and sandboxed frames:
//! then nothing is stored, and every caller copes with `None`.

/// The page's storage, if it has one.
pub fn storage() -> Option<web_sys::Storage> {
    web_sys::window().and_then(|w| w.local_storage().ok().flatten())
}

/// The stored value under `key`, if storage is available and holds one.
pub fn stored(key: &str) -> Option<String> {
    storage().and_then(|s| s.get_item(key).ok().flatten())
}

/// Stores `value` under `key`; false when the browser cannot (no storage, quota).
pub fn store(key: &str, value: &str) -> bool {
    storage().is_some_and(|s| s.set_item(key, value).is_ok())
}

/// Removes `key`.
pub fn remove(key: &str) {
    if let Some(s) = storage() {
        let _ = s.remove_item(key);
    }
}

/// Milliseconds since the Unix epoch, as an integer.
pub fn now_ms() -> u64 {
    js_sys::Date::now().max(0.0) as u64
}
