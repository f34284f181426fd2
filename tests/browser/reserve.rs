//! The entry script's space reservation (`dist-src/reserve.js`), run here as the bundle runs it:
//! over the page's hosts before any of them mounts. (`cargo xtask e2e` measures the layout
//! shift it prevents on a real article page; these tests hold the cases that page does not.)

use crate::support::*;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::wasm_bindgen_test;
use web_sys::HtmlElement;

const RESERVE: &str = include_str!("../../dist-src/reserve.js");

/// Runs the reservation as the entry script does; an error if it threw.
fn reserve() -> Result<JsValue, JsValue> {
    js_sys::Function::new_no_args(RESERVE).call0(&JsValue::NULL)
}

/// The min-height the reservation wrote on `host`, in px (0 when none).
fn reserved(host: &HtmlElement) -> f64 {
    host.style()
        .get_property_value("min-height")
        .ok()
        .and_then(|v| v.trim_end_matches("px").parse().ok())
        .unwrap_or(0.0)
}

/// A host whose configuration script holds `json`, at the end of `page`, not mounted.
fn host_in(page: &web_sys::Element, json: String) -> HtmlElement {
    let host = Host::raw(Box::leak(json.into_boxed_str())).build();
    page.append_child(&host).unwrap();
    host
}

const ONE_LIST: &str =
    r#""endpoint": "/x", "newsletters": [{"id": "a", "name": "Morning briefing"}]"#;

#[wasm_bindgen_test]
async fn a_configuration_the_estimate_cannot_read_stops_no_other_slot_and_a_goal_gets_no_box() {
    let page = document().create_element("section").unwrap();
    page.set_attribute("style", "width: 360px").unwrap();
    document().body().unwrap().append_child(&page).unwrap();
    // Mistakes the widget reports in their own slot; before them in the page, so a throw would
    // leave the good slot after them without its box.
    for broken in [
        format!(r#"{{{ONE_LIST}, "fields": {{"x": 1}}}}"#),
        format!(r#"{{{ONE_LIST}, "fields": [null]}}"#),
        r#"{"newsletters": [null, null]}"#.to_owned(),
        r#"["not", "an", "object"]"#.to_owned(),
        "null".to_owned(),
    ] {
        host_in(&page, broken);
    }
    let goal = host_in(
        &page,
        r#"{"kind": "goal", "goal": 100, "count": 5}"#.to_owned(),
    );
    let plain = host_in(&page, format!("{{{ONE_LIST}}}"));
    let options: Vec<String> = (0..50).map(|i| format!(r#""Country {i}""#)).collect();
    let select = host_in(
        &page,
        format!(
            r#"{{{ONE_LIST}, "fields": [{{"name": "COUNTRY", "label": "Country", "options": [{}]}}]}}"#,
            options.join(", ")
        ),
    );
    assert!(reserve().is_ok(), "the reservation threw");
    assert!(reserved(&plain) > 100.0, "{}", reserved(&plain));
    assert!(plain.has_attribute("data-letterbox-reserved"));
    assert_eq!(reserved(&goal), 0.0, "a goal slot is a few lines");
    // A field with 50 options is one <select>: one field's height more, not 50 lines.
    let extra = reserved(&select) - reserved(&plain);
    assert!(extra > 0.0 && extra < 120.0, "{extra}px for one select");
    page.remove();
}

#[wasm_bindgen_test]
async fn the_reserved_space_goes_when_the_slot_is_unmounted() {
    let page = document().create_element("section").unwrap();
    document().body().unwrap().append_child(&page).unwrap();
    let host = answering("reserve-unmount", "pending", five()).build();
    page.append_child(&host).unwrap();
    assert!(reserve().is_ok());
    assert!(reserved(&host) > 100.0);
    letterbox::mount(&host);
    sleep(0).await;
    assert!(letterbox::unmount(&host));
    assert_eq!(reserved(&host), 0.0, "a blank box left behind");
    assert!(!host.has_attribute("data-letterbox-reserved"));
    host.remove();
    page.remove();
}
