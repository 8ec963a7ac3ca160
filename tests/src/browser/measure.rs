//! The dashboard's speed and weight (web.md: under one second from navigation to the last
//! tile filled, under 300 KB gzipped), measured against a running relm. A measurement, not
//! a test: `scripts/measure-dashboard` starts `relm serve --demo` and runs it.

use super::browser;

const DEFAULT_RUNS: usize = 20;

/// What one load of the page took: milliseconds from navigation to the last tile filled,
/// and the bytes of HTML, CSS and JavaScript (as sent, gzipped) it loaded.
async fn load(browser: &super::Browser, url: &str, cold: bool) -> (f64, f64) {
    let page = browser.page().await;
    if cold {
        page.call("Network.clearBrowserCache", serde_json::json!({}))
            .await;
    }
    page.viewport(1280, 800).await;
    page.goto(url).await;
    super::ready(&page, "true").await;
    let filled = page
        .eval("performance.getEntriesByName('relm:filled')[0].startTime")
        .await;
    let weight = page
        .eval(
            "[...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')]
               .filter(e => !e.name.endsWith('/graphql'))
               .reduce((sum, e) => sum + e.encodedBodySize, 0)",
        )
        .await;
    page.close().await;
    (filled.as_f64().unwrap(), weight.as_f64().unwrap())
}

fn summary(mut values: Vec<f64>) -> String {
    values.sort_by(f64::total_cmp);
    let at = |p: f64| values[((values.len() - 1) as f64 * p).round() as usize];
    format!(
        "median {:.0} ms, p95 {:.0} ms, min {:.0} ms, max {:.0} ms",
        at(0.5),
        at(0.95),
        values[0],
        values[values.len() - 1]
    )
}

#[tokio::test]
#[ignore = "a measurement: scripts/measure-dashboard runs it against a relm it starts"]
async fn dashboard_load_time_and_weight() {
    let url = std::env::var("RELM_DASHBOARD_URL")
        .expect("RELM_DASHBOARD_URL: the dashboard link relm serve --demo prints");
    let runs = std::env::var("RELM_MEASURE_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(DEFAULT_RUNS);
    let browser = browser().await.expect("Chromium");
    // One load first, so that the server's store and the browser process are warm.
    load(&browser, &url, true).await;
    for cold in [true, false] {
        let mut times = Vec::new();
        let mut weight = 0.0;
        for _ in 0..runs {
            let (time, bytes) = load(&browser, &url, cold).await;
            times.push(time);
            weight = bytes;
        }
        println!(
            "{} cache, {runs} loads at 1280x800: navigation to last tile filled {}; HTML, CSS and JS {:.1} KB gzipped",
            if cold { "empty" } else { "warm" },
            summary(times),
            weight / 1024.0
        );
    }
}
