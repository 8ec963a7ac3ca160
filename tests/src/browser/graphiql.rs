//! GraphiQL from relm's own files, with the dashboard's token in its headers.

use api::auth::Role;

use super::{Demo, all_requests_stay_on, browser, ready};
use crate::support::token;

#[tokio::test]
async fn graphiql_loads_offline_and_runs_a_query_with_the_dashboards_token() {
    let Some(browser) = browser().await else {
        return;
    };
    let demo = Demo::start().await;
    let page = browser.page().await;
    let viewer = token(Role::Viewer, Some(&["PAY"]));
    page.goto(&demo.url(&format!("/dashboard#token={viewer}")))
        .await;
    ready(&page, "true").await;

    // The dashboard's link opens GraphiQL in the same tab, which keeps the token.
    page.eval("document.getElementById('graphiql-link').click()")
        .await;
    page.wait_for("document.querySelector('.graphiql-execute-button') !== null")
        .await;
    // The headers editor fills in after the button appears, later on a busy machine.
    page.wait_for("document.querySelector('.graphiql-editor-tool')?.innerText.includes('Bearer')")
        .await;
    page.eval("document.querySelector('.graphiql-execute-button').click()")
        .await;
    page.wait_for("document.querySelector('.result-window').innerText.includes('\"tester\"')")
        .await;
    let result = page
        .eval("document.querySelector('.result-window').innerText")
        .await;
    let result = result.as_str().unwrap();
    assert!(result.contains("\"VIEWER\""), "{result}");
    assert!(result.contains("\"PAY\""), "{result}");

    let headers = page.document_headers(&demo.url("/graphql"));
    let policy = headers["content-security-policy"].as_str().unwrap();
    assert!(policy.contains("default-src 'self'"), "{policy}");
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["referrer-policy"], "no-referrer");

    // Its dialogs and the schema's documentation open without a policy violation.
    for button in ["Open settings dialog", "Open short keys dialog"] {
        page.eval(&format!(
            "document.querySelector('[aria-label=\"{button}\"]').click()"
        ))
        .await;
        page.wait_for("document.querySelector('[role=dialog]') !== null")
            .await;
        page.eval("document.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }))")
            .await;
        page.wait_for("document.querySelector('[role=dialog]') === null")
            .await;
    }
    page.eval("document.querySelector('[aria-label=\"Show Documentation Explorer\"]').click()")
        .await;
    page.wait_for("document.querySelector('.graphiql-doc-explorer') !== null")
        .await;

    let requests = all_requests_stay_on(&page, &demo.origin);
    assert!(requests > 5);
    assert_eq!(page.errors(), Vec::<String>::new());
    assert_eq!(
        page.eval("localStorage.length").await,
        0,
        "GraphiQL kept something in localStorage"
    );
}
