//! Forms already on the page (a Mailchimp embed, a plain form) read and replaced by the widget.

use crate::support::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::wasm_bindgen_test;
use web_sys::{HtmlElement, HtmlInputElement};

/// The Mailchimp classic embed code as sites paste it (shape of core/tests/fixtures/upgrade/),
/// posting to the local endpoint's Mailchimp-style route.
fn mailchimp_embed(test: &str, account: &str) -> String {
    // The `*.list-manage.com` host is mapped to 127.0.0.1 for the test browser (webdriver.json's
    // `--host-resolver-rules`), so the real embed URL reaches the local endpoint's Mailchimp
    // route; the audience id names the test.
    let port = base().rsplit(':').next().unwrap_or("80");
    let action =
        format!("http://news.us9.list-manage.com:{port}/subscribe/post?u={account}&amp;id={test}");
    format!(
        r#"<div id="mc_embed_signup"><form action="{action}" method="post" id="mc-embedded-subscribe-form" class="validate" target="_blank" novalidate>
  <div class="indicates-required"><span class="asterisk">*</span> indicates required</div>
  <div class="mc-field-group"><label for="mce-EMAIL-{test}">Email Address <span class="asterisk">*</span></label>
    <input type="email" value="" name="EMAIL" class="required email" id="mce-EMAIL-{test}"></div>
  <div class="mc-field-group input-group"><strong>Newsletters</strong><ul>
    <li><input type="checkbox" value="1" name="group[13145][1]" id="mce-group-{test}-0"><label for="mce-group-{test}-0">Daily digest</label></li>
    <li><input type="checkbox" value="2" name="group[13145][2]" id="mce-group-{test}-1"><label for="mce-group-{test}-1">Weekly wrapup</label></li>
  </ul></div>
  <div hidden=""><input type="hidden" name="tags" value="2948"></div>
  <div style="position: absolute; left: -5000px;"><input type="text" name="b_{account}_{test}" tabindex="-1" value=""></div>
  <div class="clear"><input type="submit" value="Subscribe" name="subscribe" class="button"></div>
</form></div>"#
    )
}

#[wasm_bindgen_test]
async fn a_mailchimp_embed_inside_a_slot_becomes_the_widget_with_its_groups() {
    let slot = Host::anonymous(Config::new())
        .markup(mailchimp_embed("mc-upgrade", "pending"))
        .mount();
    sleep(0).await;
    assert!(
        !slot
            .text_content()
            .unwrap_or_default()
            .contains("indicates required"),
        "no asterisk legend"
    );
    let names: Vec<String> = all(&slot, ".lb-name")
        .iter()
        .map(|e| e.text_content().unwrap_or_default())
        .collect();
    assert_eq!(names, ["Daily digest", "Weekly wrapup"]);
    assert!(
        slot.host.query_selector("form").unwrap().is_some(),
        "the embed stays in the page for no-JS readers"
    );
    type_email(&slot, "jane+news@example.com").await;
    click(&slot, ".lb-checkbox:nth-child(2) input");
    submit(&slot).await;
    let title = wait_for("the success panel", || shown(&slot, ".lb-success h2")).await;
    assert_eq!(title.text_content().as_deref(), Some("Check your inbox"));
    let query = requests("mc-upgrade").await[0]["body"]
        .as_str()
        .unwrap()
        .to_owned();
    for expected in [
        "EMAIL=jane%2Bnews%40example.com",
        "group%5B13145%5D%5B2%5D=2",
        "tags=2948",
        "b_pending_mc-upgrade=",
    ] {
        assert!(query.contains(expected), "{expected} missing from {query}");
    }
    assert!(
        !query.contains("group%5B13145%5D%5B1%5D"),
        "an unticked group is not sent: {query}"
    );
}

#[wasm_bindgen_test]
async fn a_plain_fallback_form_is_read_and_posted_where_it_posted_before() {
    let action = format!("{}/t/plain-upgrade/form-ok", base());
    let slot = Host::anonymous(Config::new())
        .markup(format!(
            r#"<form action="{action}" method="post"><h3>The Daily Briefing</h3>
             <label for="plain-email">Email</label><input type="email" name="email" id="plain-email">
             <input type="hidden" name="source" value="footer"><button>Subscribe</button></form>
           "#
        ))
        .mount();
    sleep(0).await;
    assert!(
        text(&slot, ".lb-hint").contains("The Daily Briefing"),
        "one newsletter, named by the form's heading"
    );
    sign_up(&slot, "jane@example.com").await;
    let sent = requests("plain-upgrade").await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["content_type"], "application/x-www-form-urlencoded");
    let body = sent[0]["body"].as_str().unwrap();
    assert!(
        body.contains("email=jane%40example.com") && body.contains("source=footer"),
        "{body}"
    );
}

#[wasm_bindgen_test]
async fn without_a_heading_the_label_or_paragraph_above_the_fields_names_the_newsletter() {
    let action = format!("{}/t/label-above/form-ok", base());
    let form = |i: u8, top: &str, label: &str| {
        format!(
            r#"<form action="{action}" method="post">{top}
             <label for="la-{i}">{label}</label><input type="email" name="email" id="la-{i}" placeholder="email address">
             <input type="submit" value="Subscribe"></form>"#
        )
    };
    let cases = [
        // Mailchimp's slim embed: the email field's label is the form's title.
        (form(1, "", "The Weekly Digest"), "The Weekly Digest"),
        // A paragraph above the fields (Brevo's title block); an error waiting hidden is not it.
        (
            form(
                2,
                r#"<div style="display:none"><p>There was an error.</p></div><p>Familien Festival</p>"#,
                "Email",
            ),
            "Familien Festival",
        ),
        // A label that names the address is the field's, and the newsletter keeps its default.
        (form(3, "", "Enter your email"), "Newsletter"),
    ];
    for (markup, name) in cases {
        let slot = Host::anonymous(Config::new()).markup(markup).mount();
        sleep(0).await;
        let hint = text(&slot, ".lb-hint");
        assert!(hint.contains(name), "{name:?} not in {hint:?}");
    }
}

#[wasm_bindgen_test]
async fn the_script_tag_can_upgrade_every_mailchimp_embed_on_the_page() {
    let marker = document().create_element("script").unwrap();
    marker.set_attribute("type", "text/plain").unwrap();
    marker
        .set_attribute("data-letterbox-upgrade", "mailchimp")
        .unwrap();
    document().head().unwrap().append_child(&marker).unwrap();
    let wrapper = document().create_element("section").unwrap();
    wrapper.set_inner_html(&mailchimp_embed("mc-auto", "ok"));
    document().body().unwrap().append_child(&wrapper).unwrap();
    letterbox::mount_all();
    let container: HtmlElement = wrapper
        .query_selector("#mc_embed_signup")
        .unwrap()
        .unwrap()
        .dyn_into()
        .unwrap();
    assert!(
        container.has_attribute("data-letterbox"),
        "the embed's container became a slot"
    );
    let slot = slot(container);
    assert_eq!(all(&slot, "input[type=checkbox]").len(), 2);
    marker.remove();
}

#[wasm_bindgen_test]
async fn an_embed_the_widget_cannot_use_stays_as_the_site_wrote_it_visible_and_working() {
    // A required box that is neither a group nor a permission (`AGREE`), which the upgrade
    // cannot ask for: the widget refuses the embed, so the site's own form must stay, not a
    // "not available" panel.
    let embed = mailchimp_embed("mc-left-alone", "ok").replace(
        r#"<div class="clear">"#,
        r#"<div class="mc-field-group"><input type="checkbox" id="agree_27" name="AGREE" value="Y" class="required"><label for="agree_27">I agree</label></div>
  <div class="clear">"#,
    );
    let host = Host::anonymous(Config::new()).markup(embed).build();
    document().body().unwrap().append_child(&host).unwrap();
    letterbox::mount_all();
    sleep(50).await;
    assert!(host.shadow_root().is_none(), "no shadow root over the form");
    assert_eq!(
        host.get_attribute("data-letterbox-mounted").as_deref(),
        Some("left-alone")
    );
    let form: HtmlElement = host
        .query_selector("form")
        .unwrap()
        .expect("the embed's form is still there")
        .dyn_into()
        .unwrap();
    assert!(
        form.get_bounding_client_rect().height() > 0.0,
        "the form is visible"
    );
    assert!(form
        .get_attribute("action")
        .unwrap_or_default()
        .contains("list-manage.com"));
    assert!(host.query_selector("[name='AGREE']").unwrap().is_some());
    // Mounting again (the page's observer, a second script tag) changes nothing.
    letterbox::mount_all();
    assert!(host.shadow_root().is_none());
    host.remove();
}

#[wasm_bindgen_test]
async fn the_upgrade_keeps_the_typed_address_the_ticked_boxes_and_the_focus() {
    let action = format!("{}/t/typed-upgrade/form-ok", base());
    let host = Host::anonymous(Config::new())
        .markup(format!(
            r#"<form action="{action}" method="post"><h3>Our letters</h3>
             <label for="typed-email">Email</label><input type="email" name="email" id="typed-email">
             <label><input type="checkbox" name="lists" value="daily" checked> Daily</label>
             <label><input type="checkbox" name="lists" value="weekly"> Weekly</label>
             <button>Subscribe</button></form>"#
        ))
        .build();
    document().body().unwrap().append_child(&host).unwrap();
    // The reader, before the widget arrives: unticks the box ticked by default, ticks the other,
    // and types an address. (Not the caret: Chrome exposes none on `<input type=email>`, whose
    // `selectionStart` is null; the widget's field has the address with the caret at its end.)
    let boxes = all(&host, "input[type=checkbox]");
    for b in &boxes {
        b.clone().dyn_into::<HtmlElement>().unwrap().click();
    }
    let fallback = input(&host, "#typed-email");
    fallback.focus().unwrap();
    fallback.set_value("jane@example.com");
    dispatch(&fallback, "input");
    assert_eq!(fallback.selection_start().ok().flatten(), None);

    letterbox::mount(&host);
    sleep(0).await;
    let slot = slot(host);
    let email = input(&slot, "input[type=email]");
    assert_eq!(
        email.value(),
        "jane@example.com",
        "the typed address is kept"
    );
    assert!(
        focused(&slot).is_some_and(|f| f.is_same_node(Some(&email))),
        "the widget's email field has the focus"
    );
    assert!(
        document()
            .active_element()
            .is_some_and(|a| a.is_same_node(Some(&slot.host))),
        "the page's focus is in the slot"
    );
    let ticked: Vec<String> = all(&slot, "input[name=newsletters]")
        .into_iter()
        .map(|b| b.dyn_into::<HtmlInputElement>().unwrap())
        .filter(|b| b.checked())
        .map(|b| b.value())
        .collect();
    assert_eq!(
        ticked,
        ["weekly"],
        "the reader's ticks, not the form's defaults"
    );
    // The widget's state has them too, not only its DOM: they are what is sent.
    submit(&slot).await;
    wait_for("the success panel", || shown(&slot, ".lb-success")).await;
    let sent = requests("typed-upgrade").await;
    let body = sent[0]["body"].as_str().unwrap();
    assert!(
        body.contains("email=jane%40example.com") && body.contains("lists=weekly"),
        "{body}"
    );
    assert!(!body.contains("lists=daily"), "{body}");
}
