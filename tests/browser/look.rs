//! How a slot looks on its page: the colour scheme follows the host page (not the reader's
//! system), `data-theme` fixes it, and the theming properties cannot hide the button's label.
//! (The reader's system scheme itself is emulated in the accessibility run, `cargo xtask a11y`.)

use crate::support::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::wasm_bindgen_test;
use web_sys::Element;

/// A section of the page styled with `style` (inline: these test pages have no CSP).
fn section(style: &str) -> Element {
    let section = document().create_element("section").unwrap();
    section.set_attribute("style", style).unwrap();
    document().body().unwrap().append_child(&section).unwrap();
    section
}

const LIGHT_TEXT: &str = "rgb(11, 12, 12)";
const DARK_TEXT: &str = "rgb(243, 242, 241)";

#[wasm_bindgen_test]
async fn a_light_page_gets_the_light_colours_and_light_checkboxes() {
    let page = section("color-scheme: light; background: #fff; color: #222");
    let host = answering("look-light", "pending", five()).mount_in(&page);
    sleep(0).await;
    let root = get(&host, ".lb-root");
    assert_eq!(computed(&root, "color"), LIGHT_TEXT);
    let checkbox = get(&host, "input[type=checkbox]");
    assert_eq!(computed(&checkbox, "color-scheme"), "light");
    // Unboxed by default: the slot sits in the page's text column, on the page's background.
    assert_eq!(computed(&root, "padding-left"), "0px");
    assert_eq!(computed(&root, "background-color"), "rgba(0, 0, 0, 0)");
}

#[wasm_bindgen_test]
async fn a_page_that_is_dark_where_the_slot_sits_gets_the_dark_colours() {
    // Declared dark.
    let dark = section("color-scheme: dark; background: #111; color: #eee");
    let host = answering("look-dark", "pending", five()).mount_in(&dark);
    sleep(0).await;
    assert_eq!(computed(&get(&host, ".lb-root"), "color"), DARK_TEXT);
    assert_eq!(
        computed(&get(&host, "input[type=checkbox]"), "color-scheme"),
        "dark"
    );
    // A themed footer: dark by its own colours, with no colour scheme declared.
    let footer = section("background: #1a1a2e; color: rgb(250, 250, 250)");
    let host = answering("look-footer", "pending", one()).mount_in(&footer);
    sleep(0).await;
    assert_eq!(computed(&get(&host, ".lb-root"), "color"), DARK_TEXT);
    let button = get(&host, "button[type=submit]");
    assert_eq!(
        computed(&button, "color"),
        LIGHT_TEXT,
        "dark label on the light accent"
    );
}

#[wasm_bindgen_test]
async fn a_page_that_switches_to_dark_and_back_after_mounting_is_followed() {
    // The site's own switch: a class on <html> that its stylesheet turns dark.
    let sheet = document().create_element("style").unwrap();
    sheet.set_text_content(Some(
        "html.site-dark { color-scheme: dark; background: #111; color: #eee }",
    ));
    document()
        .query_selector("head")
        .unwrap()
        .unwrap()
        .append_child(&sheet)
        .unwrap();
    let html = document().document_element().unwrap();
    let host = answering("look-switch", "pending", five()).mount();
    // A slot whose own section fixes light stays light whatever the page does.
    let light = section("color-scheme: light; background: #fff; color: #222");
    let fixed = answering("look-switch-fixed", "pending", one()).mount_in(&light);
    sleep(0).await;
    assert_eq!(computed(&get(&host, ".lb-root"), "color"), LIGHT_TEXT);
    html.class_list().add_1("site-dark").unwrap();
    let dark = wait_for("the slot to turn dark", || {
        let root = get(&host, ".lb-root");
        (computed(&root, "color") == DARK_TEXT).then_some(root)
    })
    .await;
    assert_eq!(
        computed(&get(&host, "input[type=checkbox]"), "color-scheme"),
        "dark",
        "its checkboxes too"
    );
    assert_eq!(computed(&get(&fixed, ".lb-root"), "color"), LIGHT_TEXT);
    html.class_list().remove_1("site-dark").unwrap();
    wait_for("the slot to turn light again", || {
        (computed(&dark, "color") == LIGHT_TEXT).then_some(())
    })
    .await;
    sheet.remove();
}

#[wasm_bindgen_test]
async fn data_theme_fixes_the_scheme_and_boxes_a_slot_that_differs_from_its_page() {
    let light = section("color-scheme: light; background: #fff; color: #222");
    let host = answering("look-fixed", "pending", one())
        .attribute("data-theme", "dark")
        .mount_in(&light);
    sleep(0).await;
    let root = get(&host, ".lb-root");
    assert_eq!(computed(&root, "color"), DARK_TEXT);
    assert_eq!(computed(&root, "background-color"), "rgb(27, 29, 30)");
    assert_ne!(computed(&root, "padding-left"), "0px");

    let dark = section("color-scheme: dark; background: #111; color: #eee");
    let host = answering("look-fixed-light", "pending", one())
        .attribute("data-theme", "light boxed")
        .mount_in(&dark);
    sleep(0).await;
    let root = get(&host, ".lb-root");
    assert_eq!(computed(&root, "color"), LIGHT_TEXT);
    assert_eq!(computed(&root, "background-color"), "rgb(255, 255, 255)");
}

#[wasm_bindgen_test]
async fn a_transparent_background_leaves_the_button_label_readable() {
    let page = section("background: #fff; color: #222; --letterbox-background: transparent");
    let host = answering("look-transparent", "pending", one()).mount_in(&page);
    sleep(0).await;
    let button: Element = get(&host, "button[type=submit]").dyn_into().unwrap();
    assert_eq!(computed(&button, "color"), "rgb(255, 255, 255)");
    assert_eq!(computed(&button, "background-color"), "rgb(29, 112, 184)");
}

#[wasm_bindgen_test]
async fn colours_below_4_5_to_1_are_warned_about_once_on_the_console() {
    js_sys::Function::new_no_args(
        "window.__lbWarnings = []; const warn = console.warn;
         console.warn = function (m) { window.__lbWarnings.push(String(m)); return warn.apply(console, arguments); };",
    )
    .call0(&wasm_bindgen::JsValue::NULL)
    .unwrap();
    // Only the accent set, light blue: the white label on it is 1.7:1.
    let page = section("background: #fff; color: #222; --letterbox-accent: #9cf");
    answering("contrast-a", "pending", one()).mount_in(&page);
    answering("contrast-b", "pending", one()).mount_in(&page);
    sleep(0).await;
    let warnings: Vec<String> = js_sys::Array::from(
        &js_sys::eval("window.__lbWarnings.filter(m => m.includes('hard to read'))").unwrap(),
    )
    .iter()
    .filter_map(|v| v.as_string())
    .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("button label 1.6:1"), "{warnings:?}");
    assert!(
        !warnings[0].contains("(text "),
        "the text itself passes: {warnings:?}"
    );
}
