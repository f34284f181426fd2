//! The page's slots: mounted once, found when added later or scrolled near, released when
//! removed.

use crate::support::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::wasm_bindgen_test;
use web_sys::HtmlElement;

#[wasm_bindgen_test]
async fn mounting_twice_renders_one_widget() {
    let host = answering("twice", "subscribed", one()).mount();
    letterbox::mount(&host.host);
    letterbox::mount_all();
    sleep(0).await;
    assert_eq!(all(&host, "form").len(), 1);
    assert_eq!(host.host.shadow_root().unwrap().child_element_count(), 1);
}

#[wasm_bindgen_test]
async fn slots_added_later_are_mounted_and_removed_ones_released() {
    started();
    let host = Host::new(
        "late",
        Config::new()
            .endpoint(route("late", "subscribed"))
            .newsletters(one()),
    )
    .build();
    // At the top of the page, near the viewport: mounted as soon as it is added.
    let body = document().body().unwrap();
    body.insert_before(&host, body.first_child().as_ref())
        .unwrap();
    let ui = wait_for("the late slot to mount", || {
        host.shadow_root().and_then(|r| r.first_element_child())
    })
    .await;
    assert!(find(&ui, "input[type=email]").is_some());
    // Nested inside an element added in one go (infinite scroll appends whole articles).
    let article = document().create_element("article").unwrap();
    article.set_inner_html("<p>More news</p>");
    let nested = Host::new("nested", Config::new().endpoint("/x").newsletters(one())).build();
    article.append_child(&nested).unwrap();
    body.insert_before(&article, body.first_child().as_ref())
        .unwrap();
    wait_for("the nested slot to mount", || {
        nested.shadow_root().and_then(|r| r.first_element_child())
    })
    .await;

    host.remove();
    wait_for("the removed slot to be released", || {
        (ui.child_element_count() == 0).then_some(())
    })
    .await;
    article.remove();
}

#[wasm_bindgen_test]
async fn a_slot_far_below_the_fold_mounts_when_the_reader_scrolls_near() {
    started();
    let window = web_sys::window().unwrap();
    let viewport = window.inner_height().unwrap().as_f64().unwrap();
    let spacer: HtmlElement = document()
        .create_element("div")
        .unwrap()
        .dyn_into()
        .unwrap();
    spacer.set_inner_html(&format!(
        r#"<div style="height: {}px"></div>"#,
        (viewport * 6.0) as u32
    ));
    let host = Host::new("far-below", Config::new().endpoint("/x").newsletters(one())).build();
    let body = document().body().unwrap();
    body.insert_before(&host, body.first_child().as_ref())
        .unwrap();
    body.insert_before(&spacer, Some(&host)).unwrap();
    window.scroll_to_with_x_and_y(0.0, 0.0);
    sleep(300).await;
    assert!(
        !host.has_attribute("data-letterbox-mounted"),
        "a slot six viewports down waits"
    );
    host.scroll_into_view();
    wait_for("the slot to mount near the viewport", || {
        host.shadow_root().and_then(|r| r.first_element_child())
    })
    .await;
    window.scroll_to_with_x_and_y(0.0, 0.0);
    spacer.remove();
    host.remove();
}

#[wasm_bindgen_test]
async fn a_slot_removed_while_sending_does_not_break_the_page() {
    // Infinite scroll or client-side navigation can remove a slot while its request is out.
    let gone = answering("removed-while-sending", "slow", one()).mount();
    type_email(&gone, "jane@example.com").await;
    submit(&gone).await;
    gone.host.remove();
    // The endpoint answers after 1.5 s; the answer must find no slot, and break nothing.
    for _ in 0..100 {
        if requests("removed-while-sending").await.len() == 1 {
            break;
        }
        sleep(50).await;
    }
    sleep(2_000).await;
    let next = answering("after-removal", "subscribed", one()).mount();
    sign_up(&next, "olena@example.com").await;
    assert_eq!(requests("after-removal").await.len(), 1);
}
