//! The designer playground's API, only in the playground build (cargo feature `playground`, which
//! `trunk serve` and `cargo xtask playground` enable and the release bundle never does):
//!
//! ```js
//! Letterbox.playground.scenes;                      // [{name: "rate-limited", label: "Rate limited, counting down"}, …]
//! Letterbox.playground.show(element, "confirm");    // true: the slot now shows that state
//! Letterbox.playground.embed(configJson, {script, script_sri, wasm, wasm_sri}, base); // the snippet
//! ```
//!
//! `show` puts a mounted slot in one of core's scenes (`slot::scenes`: the reader's actions and
//! the service's answer, run through core's `transition`), never by editing the DOM. `embed` is
//! core's `config::fallback::snippet`, the text `cargo xtask embed CONFIG` prints.

use js_sys::{Array, Object, Reflect};
use letterbox_core::config::fallback::{snippet, BuiltFiles};
use letterbox_core::config::{HostInput, Kind};
use letterbox_core::slot::scenes::Scene;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::HtmlElement;

fn set(target: &Object, key: &str, value: &JsValue) {
    let _ = Reflect::set(target, &JsValue::from_str(key), value);
}

fn type_error(message: String) -> JsValue {
    js_sys::TypeError::new(&message).into()
}

/// A string property of `files`, or a `TypeError` naming it.
fn text_of(files: &JsValue, key: &str) -> Result<String, JsValue> {
    Reflect::get(files, &JsValue::from_str(key))
        .ok()
        .and_then(|v| v.as_string())
        .ok_or_else(|| {
            type_error(format!(
                "Letterbox.playground.embed: files.{key} must be a string"
            ))
        })
}

/// Adds `playground` to `api`, the `window.Letterbox` object `api::install` is making.
pub fn install(api: &Object) {
    let playground = Object::new();

    let scenes = Array::new();
    for scene in Scene::ALL {
        let entry = Object::new();
        set(&entry, "name", &JsValue::from_str(scene.name()));
        set(&entry, "label", &JsValue::from_str(scene.label()));
        scenes.push(&entry);
    }
    set(&playground, "scenes", &scenes);

    let show = Closure::<dyn Fn(JsValue, JsValue) -> Result<bool, JsValue>>::new(
        |target: JsValue, name: JsValue| {
            let host = target.dyn_into::<HtmlElement>().map_err(|_| {
                type_error("Letterbox.playground.show: expected an HTML element".into())
            })?;
            let name = name.as_string().unwrap_or_default();
            let scene = Scene::from_name(&name).ok_or_else(|| {
                type_error(format!(
                    "Letterbox.playground.show: there is no state called {name:?}"
                ))
            })?;
            Ok(crate::view::scenes::show(&host, scene))
        },
    );
    set(&playground, "show", &show.into_js_value());

    let embed = Closure::<dyn Fn(JsValue, JsValue, JsValue) -> Result<String, JsValue>>::new(
        |json: JsValue, files: JsValue, base: JsValue| {
            let json = json.as_string().ok_or_else(|| {
                type_error("Letterbox.playground.embed: the configuration must be JSON text".into())
            })?;
            let config = match Kind::from_host(&HostInput {
                json: Some(&json),
                ..Default::default()
            })
            .map_err(|e| JsValue::from(js_sys::Error::new(&e.to_string())))?
            {
                Kind::Signup(config) => *config,
                Kind::Goal(_) => {
                    return Err(js_sys::Error::new(
                        "a goal slot (\"kind\": \"goal\") has no form to render",
                    )
                    .into())
                }
            };
            let (script, script_sri) = (text_of(&files, "script")?, text_of(&files, "script_sri")?);
            let (wasm, wasm_sri) = (text_of(&files, "wasm")?, text_of(&files, "wasm_sri")?);
            let files = BuiltFiles {
                script: &script,
                script_sri: &script_sri,
                wasm: &wasm,
                wasm_sri: &wasm_sri,
            };
            Ok(snippet(
                &config,
                &json,
                &files,
                &base.as_string().unwrap_or_default(),
            ))
        },
    );
    set(&playground, "embed", &embed.into_js_value());

    set(api, "playground", &playground.into());
}
