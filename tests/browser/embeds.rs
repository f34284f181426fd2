//! Real embeds end to end (issue 12): a Mailchimp embed with merge fields, a radio choice and
//! optional groups, upgraded and sent to the local endpoint's Mailchimp-style route; what the
//! reader sees and what arrives.

use crate::support::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::wasm_bindgen_test;
use web_sys::{HtmlInputElement, HtmlSelectElement};

/// The shape of `core/tests/fixtures/embeds/mailchimp/solararbiter-groups-format-gdpr.html`
/// (the GDPR block as Mailchimp writes it): optional FNAME, LNAME required by class, an
/// EMAILTYPE radio group with html checked, a country `<select>` with one selected, two optional
/// groups and two marketing permissions.
fn embed(test: &str) -> String {
    let port = base().rsplit(':').next().unwrap_or("80");
    format!(
        r#"<form action="http://news.us9.list-manage.com:{port}/subscribe/post?u=pending&amp;id={test}" method="post" novalidate>
  <h2>Solar updates</h2>
  <div class="mc-field-group"><label for="e-{test}">Email Address <span class="asterisk">*</span></label>
    <input type="email" value="" name="EMAIL" class="required email" id="e-{test}"></div>
  <div class="mc-field-group"><label for="f-{test}">First Name </label>
    <input type="text" value="" name="FNAME" id="f-{test}"></div>
  <div class="mc-field-group"><label for="l-{test}">Last Name <span class="asterisk">*</span></label>
    <input type="text" value="" name="LNAME" class="required" id="l-{test}"></div>
  <div class="mc-field-group"><label for="c-{test}">Country </label>
    <select name="COUNTRY" id="c-{test}"><option value=""></option><option value="UA" selected>Ukraine</option><option value="GB">United Kingdom</option></select></div>
  <div class="mc-field-group input-group"><strong>Email Format </strong><ul>
    <li><input type="radio" value="html" name="EMAILTYPE" id="h-{test}" checked><label for="h-{test}">html</label></li>
    <li><input type="radio" value="text" name="EMAILTYPE" id="t-{test}"><label for="t-{test}">text</label></li></ul></div>
  <div class="mc-field-group input-group"><strong>Interests </strong><ul>
    <li><input type="checkbox" value="1" name="group[821][1]" id="g1-{test}"><label for="g1-{test}">General</label></li>
    <li><input type="checkbox" value="2" name="group[821][2]" id="g2-{test}"><label for="g2-{test}">Stakeholders</label></li></ul></div>
  <div class="content__gdpr"><label>Marketing Permissions</label><fieldset class="mc_fieldset gdprRequired mc-field-group" name="interestgroup_field">
    <label class="checkbox subfield" for="gdpr_1-{test}"><input type="checkbox" id="gdpr_1-{test}" name="gdpr[1]" value="Y" class="av-checkbox gdpr"><span>Email</span></label>
    <label class="checkbox subfield" for="gdpr_2-{test}"><input type="checkbox" id="gdpr_2-{test}" name="gdpr[2]" value="Y" class="av-checkbox gdpr"><span>Direct mail</span></label></fieldset></div>
  <div style="position: absolute; left: -5000px;" aria-hidden="true"><input type="text" name="b_pending_{test}" tabindex="-1" value=""></div>
  <input type="submit" value="Subscribe" name="subscribe">
</form>"#
    )
}

#[wasm_bindgen_test]
async fn merge_fields_are_asked_with_the_embeds_labels_validated_and_sent_by_name() {
    let slot = Host::anonymous(Config::new())
        .markup(embed("mc-fields"))
        .mount();
    sleep(0).await;
    // What the reader sees: each field with the embed's label, the optional one says so.
    let labels: Vec<String> = all(&slot, ".lb-extra .lb-label")
        .iter()
        .map(|e| e.text_content().unwrap_or_default())
        .collect();
    assert_eq!(
        labels,
        [
            "First Name (optional)",
            "Last Name",
            "Country (optional)",
            "Email Format (optional)"
        ]
    );
    let country: HtmlSelectElement = get(&slot, "select[name=COUNTRY]").dyn_into().unwrap();
    assert_eq!(country.value(), "UA", "the selected option is the default");
    let format: HtmlSelectElement = get(&slot, "select[name=EMAILTYPE]").dyn_into().unwrap();
    assert_eq!(format.value(), "html", "the checked radio is the default");

    // The required last name, left empty: an error in the summary and at the field.
    type_email(&slot, "jane@example.com").await;
    submit(&slot).await;
    let summary = wait_for("the error summary", || shown(&slot, ".lb-summary")).await;
    assert!(
        summary
            .text_content()
            .unwrap_or_default()
            .contains("Enter your Last Name"),
        "{:?}",
        summary.text_content()
    );
    let last: HtmlInputElement = get(&slot, "input[name=LNAME]").dyn_into().unwrap();
    assert_eq!(last.get_attribute("aria-invalid").as_deref(), Some("true"));
    let described = last.get_attribute("aria-describedby").unwrap_or_default();
    assert_eq!(
        text(&slot, &format!("#{described}")),
        "Error: Enter your Last Name"
    );
    assert!(requests("mc-fields").await.is_empty(), "nothing sent yet");

    // The permissions, in their exact wording, unticked.
    let permissions: Vec<String> = all(&slot, ".lb-permissions .lb-checkbox-label")
        .iter()
        .map(|e| e.text_content().unwrap_or_default())
        .collect();
    assert_eq!(permissions, ["Email", "Direct mail"]);
    assert_eq!(
        text(&slot, ".lb-permissions legend"),
        "Marketing Permissions"
    );
    click(&slot, ".lb-permissions .lb-checkbox:nth-of-type(2) input");

    // Filled in; no group ticked, as the embed allows: the list alone.
    last.set_value("Doe");
    dispatch(&last, "input");
    sleep(0).await;
    assert!(
        shown(&slot, ".lb-summary").is_none(),
        "the error went with the edit"
    );
    submit(&slot).await;
    wait_for("the success panel", || shown(&slot, ".lb-success h2")).await;
    let query = requests("mc-fields").await[0]["body"]
        .as_str()
        .unwrap()
        .to_owned();
    for expected in [
        "EMAIL=jane%40example.com",
        "LNAME=Doe",
        "COUNTRY=UA",
        "EMAILTYPE=html",
        "gdpr%5B2%5D=Y",
        "b_pending_mc-fields=",
    ] {
        assert!(query.contains(expected), "{expected} missing from {query}");
    }
    assert!(
        !query.contains("FNAME") && !query.contains("group") && !query.contains("gdpr%5B1%5D"),
        "an empty optional field, unticked groups and an unticked permission are not sent: {query}"
    );
}
