//! Providers other than the JSON endpoint: a site's own form endpoint, Listmonk, Mailchimp.

use crate::support::*;
use wasm_bindgen_test::wasm_bindgen_test;

#[wasm_bindgen_test]
async fn the_form_provider_posts_urlencoded_fields_to_a_sites_own_endpoint() {
    let action = format!("{}/t/form-provider/form-ok", base());
    let host = Host::new(
        "form-provider",
        Config::new()
            .provider(Provider::Form {
                action,
                email_field: "EMAIL",
                newsletter_field: "list",
                hidden: vec![("source", "article")],
                success_texts: vec!["1"],
                confirms_by_email: true,
            })
            .newsletters(vec![
                newsletter("daily", "Daily"),
                newsletter("culture", "Culture"),
            ]),
    )
    .mount();
    type_email(&host, "jane+news@example.com").await;
    click(&host, "input[value=daily]");
    click(&host, "input[value=culture]");
    submit(&host).await;
    let title = wait_for("the success panel", || shown(&host, ".lb-success h2")).await;
    assert_eq!(
        title.text_content().as_deref(),
        Some("Check your inbox"),
        "confirms_by_email"
    );
    let sent = requests("form-provider").await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["content_type"], "application/x-www-form-urlencoded");
    let body = sent[0]["body"].as_str().unwrap();
    let fields: Vec<&str> = body.split('&').collect();
    assert!(
        fields.contains(&"EMAIL=jane%2Bnews%40example.com"),
        "a + survives: {body}"
    );
    assert!(
        fields.contains(&"list=daily") && fields.contains(&"list=culture"),
        "{body}"
    );
    assert!(fields.contains(&"source=article"), "{body}");
}

#[wasm_bindgen_test]
async fn the_listmonk_provider_discovers_its_lists_by_name_then_subscribes() {
    let listmonk = format!("{}/t/listmonk-discover", base());
    let host = Host::new(
        "listmonk-discover",
        Config::new()
            .provider(Provider::Listmonk {
                base: listmonk,
                discover: true,
            })
            .newsletters(vec![
                newsletter("daily", "The Daily Briefing"),
                newsletter("culture", "Culture Notes"),
            ]),
    )
    .mount();
    click(&host, "input[value=culture]");
    type_email(&host, "jane@example.com").await;
    submit(&host).await;
    let title = wait_for("the success panel", || shown(&host, ".lb-success h2")).await;
    assert_eq!(title.text_content().as_deref(), Some("Check your inbox"));
    let sent = requests("listmonk-discover").await;
    let kinds: Vec<&str> = sent
        .iter()
        .map(|r| r["behaviour"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["listmonk-lists", "listmonk-subscription"]);
    let body = body_of(&sent[1]);
    assert_eq!(
        body["list_uuids"],
        serde_json::json!(["0f4c3b8e-2d7a-4c1b-9a6e-5b2d8c7e1f30"])
    );
    assert_eq!(body["email"], "jane@example.com");
}

#[wasm_bindgen_test]
async fn the_mailchimp_provider_can_be_configured_by_data_attributes() {
    let action = format!(
        "{}/t/mailchimp-attributes/subscribe/post?u=ok&amp;id=list1",
        base()
    );
    // The provider and its settings in attributes, as a site writes them: none in the JSON.
    let host = Host::new(
        "mailchimp-attributes",
        Config::new().newsletters(vec![
            newsletter("daily", "The Daily Briefing"),
            newsletter("culture", "Culture"),
        ]),
    )
    .attribute("data-provider", "mailchimp")
    .attribute("data-mailchimp-action", action)
    .attribute(
        "data-mailchimp-groups",
        r#"{"daily": "group[7][1]", "culture": "group[7][2]"}"#,
    )
    .mount();
    click(&host, "input[value=culture]");
    sign_up(&host, "jane@example.com").await;
    let sent = requests("mailchimp-attributes").await;
    assert_eq!(sent.len(), 1);
    let query = sent[0]["body"].as_str().unwrap();
    assert!(query.contains("group%5B7%5D%5B2%5D=2"), "{query}");
    assert!(!query.contains("group%5B7%5D%5B1%5D"), "{query}");
}

#[wasm_bindgen_test]
async fn the_mailchimp_provider_signs_up_through_jsonp_and_cleans_up() {
    let mailchimp = |id: &str, account: &str| {
        let action = format!("{}/t/{id}/subscribe/post?u={account}&amp;id=list1", base());
        Host::new(
            id,
            Config::new()
                .provider(Provider::Mailchimp {
                    action,
                    groups: vec![("daily", "group[7][1]")],
                })
                .newsletters(vec![newsletter("daily", "The Daily Briefing")]),
        )
        .mount()
    };
    let host = mailchimp("mailchimp-pending", "pending");
    type_email(&host, "jane+news@example.com").await;
    submit(&host).await;
    let panel = wait_for("a result", || {
        shown(&host, ".lb-success").or_else(|| shown(&host, ".lb-failure"))
    })
    .await;
    assert!(
        shown(&host, ".lb-success").is_some(),
        "failure instead: {}",
        panel.text_content().unwrap_or_default()
    );
    let title = get(&host, ".lb-success h2");
    assert_eq!(title.text_content().as_deref(), Some("Check your inbox"));
    let sent = requests("mailchimp-pending").await;
    assert_eq!(sent.len(), 1);
    let query = sent[0]["body"].as_str().unwrap();
    for expected in [
        "u=pending",
        "id=list1",
        "EMAIL=jane%2Bnews%40example.com",
        "group%5B7%5D%5B1%5D=1",
        "b_pending_list1=",
    ] {
        assert!(query.contains(expected), "{expected} missing from {query}");
    }
    sleep(10).await;
    assert!(
        document()
            .query_selector("script[src*='post-json']")
            .unwrap()
            .is_none(),
        "the JSONP script is removed"
    );

    let host = mailchimp("mailchimp-already", "already");
    type_email(&host, "jane@example.com").await;
    submit(&host).await;
    let title = wait_for("the success panel", || shown(&host, ".lb-success h2")).await;
    assert_eq!(
        title.text_content().as_deref(),
        Some("Thank you for signing up")
    );
}

#[wasm_bindgen_test]
async fn a_dropped_request_to_a_service_without_idempotency_is_not_repeated_and_says_check_your_inbox(
) {
    // The dropper reads the form post and closes the connection unanswered: the site's endpoint
    // may have processed it (and sent an email). A form endpoint honours no idempotency key, so
    // the widget neither retries nor queues it.
    let dropper = fetch_text(&format!("{}/t/dropper", base())).await;
    let host = Host::new(
        "maybe-sent-form",
        Config::new()
            .provider(Provider::Form {
                action: format!("{dropper}/t/maybe-sent-form/drop-once"),
                email_field: "EMAIL",
                newsletter_field: "list",
                hidden: vec![],
                success_texts: vec!["1"],
                confirms_by_email: true,
            })
            .newsletters(one()),
    )
    .mount();
    type_email(&host, "jane@example.com").await;
    submit(&host).await;
    wait_for("the failure panel", || shown(&host, ".lb-failure")).await;
    assert!(
        text(&host, ".lb-failure-reason").contains("may already have your signup"),
        "{}",
        text(&host, ".lb-failure-reason")
    );
    sleep(2_500).await;
    assert_eq!(
        requests("maybe-sent-form").await.len(),
        1,
        "sent once, never repeated"
    );
    let queue = pending_queue();
    assert!(!queue.contains("jane@example.com"), "not queued: {queue}");
}
