//! The leadership dashboard in Chromium: sign-in, every figure against `Query.metrics`,
//! the filters, the by-program table, scoping, its origin, its console and a phone's width.

use api::auth::Role;
use chrono::{Duration, TimeZone, Utc};
use serde_json::{Value, json};

use super::{Demo, Page, all_requests_stay_on, browser, output_dir, ready};
use crate::support::{claims, hs256, token};

const OTHER_PROGRAMS: [&str; 4] = ["DATA", "ERP", "MOB", "TOOLS"];

/// Every figure the page shows, as its metrics path, unit and text.
async fn figures(page: &Page<'_>) -> Vec<(String, String, String)> {
    let shown = page
        .eval(
            "[...document.querySelectorAll('#main [data-field]')]
               .map(e => [e.dataset.field, e.dataset.unit, e.textContent])",
        )
        .await;
    serde_json::from_value(shown).unwrap()
}

/// The value at a dotted path (`byProgram.2.leadTime.hours.median`).
fn at<'a>(value: &'a Value, path: &str) -> &'a Value {
    path.split('.')
        .fold(value, |v, key| match key.parse::<usize>() {
            Ok(index) => &v[index],
            Err(_) => &v[key],
        })
}

/// Asserts that `text` shows `value` as the page rounds `unit`.
fn shows(field: &str, unit: &str, text: &str, value: &Value) {
    if text == "–" {
        assert!(value.is_null(), "{field} shows – for {value}");
        return;
    }
    let shown: f64 = text
        .replace(',', "")
        .parse()
        .unwrap_or_else(|_| panic!("{field}: '{text}' is not a number"));
    let value = value
        .as_f64()
        .unwrap_or_else(|| panic!("{field} shows {text} for {value}"));
    let (expected, half_unit) = match unit {
        "integer" => (value, 0.0),
        "perDay" => (value, 0.005),
        "hours" | "days" => (value, 0.05),
        "percent" => (value * 100.0, 0.5),
        other => panic!("{field}: unknown unit {other}"),
    };
    assert!(
        (shown - expected).abs() <= half_unit + 1e-9,
        "{field} shows {text} for {value}"
    );
}

const METRICS: &str = "query($f: MetricsFilter!) { metrics(filter: $f) {
    deploymentFrequency { deployments deploymentDays perDay band }
    leadTime { band hours { count median p90 } }
    changeFailureRate { deployments failed rate band }
    timeToRestore { band hours { count median p90 } }
    reworkRate { deployments rework rate }
    delivery { releasesDelivered onTimeRate slippageDays { count median p90 } rollbackRate
      gateFirstPassRate reviewCompletionRate actionsOpen actionsOverdue actionsClosed }
    compliance { productionDeployments ingestedDeployments unplannedDeployments unplannedRate
      freezeOverrides emergencyDeployments }
    trend { start deployments failedDeployments changeFailureRate leadTimeMedianHours }
    byProgram { programKey deploymentFrequency { perDay band } leadTime { band hours { median } }
      changeFailureRate { rate band } timeToRestore { band hours { median } } }
} }";

/// The window of a preset of `days`: up to the coming UTC midnight, and the one before.
fn preset(days: i64) -> [(String, String); 2] {
    let today = Utc::now().date_naive().and_hms_opt(0, 0, 0).unwrap();
    let to = Utc.from_utc_datetime(&today) + Duration::days(1);
    let from = to - Duration::days(days);
    let previous = from - Duration::days(days);
    let iso = |t: chrono::DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    [(iso(from), iso(to)), (iso(previous), iso(from))]
}

const GRANULARITIES: [&str; 4] = ["DAY", "WEEK", "MONTH", "QUARTER"];

/// Asserts that the page shows exactly `Query.metrics` for a preset window of `days` and
/// `programs`, with each key's change against the previous window, and a trend at the
/// finest granularity that gives 4 to 53 buckets.
async fn page_equals_metrics(
    demo: &Demo,
    page: &Page<'_>,
    token: &str,
    days: i64,
    programs: Option<&[&str]>,
) {
    let [(from, to), (previous_from, previous_to)] = preset(days);
    let granularity = page
        .eval("document.getElementById('trend').dataset.granularity")
        .await;
    let granularity = granularity.as_str().unwrap();
    let filter = |from: &str, to: &str, granularity: &str| json!({ "from": from, "to": to, "programKeys": programs, "granularity": granularity });
    let current = demo
        .graphql(
            token,
            METRICS,
            json!({ "f": filter(&from, &to, granularity) }),
        )
        .await["metrics"]
        .clone();
    let buckets = current["trend"].as_array().unwrap().len();
    assert!(
        (4..=53).contains(&buckets),
        "{days} days by {granularity}: {buckets} buckets"
    );
    let finer = GRANULARITIES
        .iter()
        .position(|g| *g == granularity)
        .unwrap();
    if finer > 0 {
        let finer = GRANULARITIES[finer - 1];
        let trend = demo
            .graphql(
                token,
                "query($f: MetricsFilter!) { metrics(filter: $f) { trend { start } } }",
                json!({ "f": filter(&from, &to, finer) }),
            )
            .await;
        let finer_buckets = trend["metrics"]["trend"].as_array().unwrap().len();
        assert!(
            finer_buckets > 53,
            "{finer} would give {finer_buckets} buckets"
        );
    }
    let previous = demo
        .graphql(
            token,
            METRICS,
            json!({ "f": filter(&previous_from, &previous_to, "QUARTER") }),
        )
        .await["metrics"]
        .clone();

    let shown = figures(page).await;
    for (field, unit, text) in &shown {
        shows(field, unit, text, at(&current, field));
    }
    let trend_rows = current["trend"].as_array().unwrap().len();
    let program_rows = current["byProgram"].as_array().unwrap().len();
    // Every tile, every trend bucket and every program's four keys are on the page.
    assert!(
        shown.len() >= 30 + 4 * trend_rows + 4 * program_rows,
        "{shown:?}"
    );
    for (field, count) in [("trend.", 4 * trend_rows), ("byProgram.", 4 * program_rows)] {
        assert_eq!(
            shown
                .iter()
                .filter(|(f, _, _)| f.starts_with(field))
                .count(),
            count
        );
    }

    let bands: Vec<(String, String)> = serde_json::from_value(
        page.eval(
            "[...document.querySelectorAll('#keys .tile')]
               .map(t => [t.dataset.tile, t.querySelector('.band').textContent])",
        )
        .await,
    )
    .unwrap();
    let names = [
        ("ELITE", "Elite"),
        ("HIGH", "High"),
        ("MEDIUM", "Medium"),
        ("LOW", "Low"),
        ("NO_DATA", "No data"),
    ];
    for (tile, band) in &bands {
        let expected = match current[tile]["band"].as_str() {
            Some(code) => names.iter().find(|(c, _)| *c == code).unwrap().1,
            None => "No DORA band",
        };
        assert!(band.ends_with(expected), "{tile}: {band}, not {expected}");
    }
    assert_eq!(bands.len(), 5);

    let changes: Vec<(String, Option<String>)> = serde_json::from_value(
        page.eval(
            "[...document.querySelectorAll('#keys .tile')]
               .map(t => [t.dataset.tile, t.querySelector('.change').dataset.change ?? null])",
        )
        .await,
    )
    .unwrap();
    let main = [
        ("deploymentFrequency", "deploymentFrequency.perDay"),
        ("leadTime", "leadTime.hours.median"),
        ("changeFailureRate", "changeFailureRate.rate"),
        ("timeToRestore", "timeToRestore.hours.median"),
        ("reworkRate", "reworkRate.rate"),
    ];
    for (tile, shown_change) in changes {
        let path = main.iter().find(|(t, _)| *t == tile).unwrap().1;
        let expected = match (at(&current, path).as_f64(), at(&previous, path).as_f64()) {
            (Some(now), Some(before)) if before != 0.0 => {
                let size = ((now - before) / before.abs() * 100.0).round();
                (size != 0.0).then(|| format!("{size}"))
            }
            _ => None,
        };
        assert_eq!(shown_change, expected, "{tile}");
    }
}

async fn choose(page: &Page<'_>, select: &str, value: &str) {
    page.eval(&format!(
        "(() => {{ const s = document.getElementById('{select}'); s.value = '{value}';
                   s.dispatchEvent(new Event('change')); }})()"
    ))
    .await;
}

async fn visible(page: &Page<'_>, id: &str) -> bool {
    page.eval(&format!("!document.getElementById('{id}').hidden"))
        .await
        .as_bool()
        .unwrap()
}

async fn submit_token(page: &Page<'_>, token: &str) {
    page.eval(&format!(
        "(() => {{ document.getElementById('token').value = {};
                   document.getElementById('sign-in-form').requestSubmit(); }})()",
        json!(token)
    ))
    .await;
}

#[tokio::test]
async fn signs_in_through_the_fragment_and_the_form_and_says_why_a_token_is_refused() {
    let Some(browser) = browser().await else {
        return;
    };
    let demo = Demo::start().await;
    let page = browser.page().await;
    let admin = token(Role::Admin, None);

    page.goto(&demo.url(&format!("/dashboard#token={admin}")))
        .await;
    ready(&page, "true").await;
    assert_eq!(
        page.eval("location.hash").await,
        "",
        "the token stayed in the address"
    );
    assert!(
        !page
            .eval("location.href")
            .await
            .as_str()
            .unwrap()
            .contains(&admin)
    );
    assert_eq!(
        page.eval("sessionStorage.getItem('relm.token')").await,
        admin
    );
    assert_eq!(page.eval("localStorage.length").await, 0);
    assert_eq!(page.eval("document.cookie").await, "");
    assert!(
        page.eval("document.getElementById('who-name').textContent")
            .await
            .as_str()
            .unwrap()
            .starts_with("tester (admin")
    );

    page.eval("document.getElementById('sign-out').click()")
        .await;
    page.wait_for("!document.getElementById('sign-in').hidden")
        .await;
    assert!(!visible(&page, "board").await);
    assert_eq!(page.eval("sessionStorage.length").await, 0);

    submit_token(&page, "not-a-token").await;
    page.wait_for("!document.getElementById('sign-in-reason').hidden")
        .await;
    let reason = page
        .eval("document.getElementById('sign-in-reason').textContent")
        .await;
    assert!(reason.as_str().unwrap().contains("not a JWT"), "{reason}");
    assert_eq!(page.eval("sessionStorage.length").await, 0);

    let expired = hs256(&api::auth::Claims {
        exp: (Utc::now().timestamp() - 3600) as u64,
        iat: (Utc::now().timestamp() - 7200) as u64,
        ..claims()
    });
    submit_token(&page, &expired).await;
    page.wait_for(
        "document.getElementById('sign-in-reason').textContent.includes('the token has expired')",
    )
    .await;
    assert!(!visible(&page, "board").await);

    submit_token(&page, &token(Role::Viewer, None)).await;
    ready(&page, "true").await;
    assert!(!visible(&page, "sign-in").await);
    assert!(
        !visible(&page, "deliveries-link").await,
        "a viewer may not read deliveries"
    );
    assert!(
        page.errors().iter().all(|e| e.contains("401")),
        "{:?}",
        page.errors()
    );
}

#[tokio::test]
async fn every_figure_equals_query_metrics_for_the_filter_and_follows_it() {
    let Some(browser) = browser().await else {
        return;
    };
    let demo = Demo::start().await;
    let page = browser.page().await;
    let admin = token(Role::Admin, None);
    page.goto(&demo.url(&format!("/dashboard#token={admin}")))
        .await;
    ready(&page, "true").await;
    assert_eq!(page.eval("location.search").await, "?window=90");
    page_equals_metrics(&demo, &page, &admin, 90, None).await;

    choose(&page, "window", "365").await;
    ready(&page, "location.search.includes('window=365')").await;
    choose(&page, "program", "PAY").await;
    ready(&page, "location.search.includes('program=PAY')").await;
    page_equals_metrics(&demo, &page, &admin, 365, Some(&["PAY"])).await;

    choose(&page, "window", "30").await;
    ready(&page, "location.search.includes('window=30')").await;
    page_equals_metrics(&demo, &page, &admin, 30, Some(&["PAY"])).await;

    // A team narrows the figures; the teams offered are the program's.
    let teams = demo
        .graphql(&admin, "{ teams(programKeys: [\"PAY\"]) }", json!({}))
        .await["teams"]
        .clone();
    let offered = page
        .eval("[...document.getElementById('team').options].map(o => o.value).slice(1)")
        .await;
    assert_eq!(offered, teams);
    let team = teams[0].as_str().unwrap().to_owned();
    choose(&page, "team", &team).await;
    ready(&page, &format!("location.search.includes('team={team}')")).await;
    let [(from, to), _] = preset(30);
    let narrowed = demo
        .graphql(
            &admin,
            "query($f: MetricsFilter!) { metrics(filter: $f) { deploymentFrequency { deployments } } }",
            json!({ "f": { "from": from, "to": to, "programKeys": ["PAY"], "team": team } }),
        )
        .await;
    let shown = page
        .eval("document.querySelector('[data-field=\"deploymentFrequency.deployments\"]').textContent")
        .await;
    shows(
        "deploymentFrequency.deployments",
        "integer",
        shown.as_str().unwrap(),
        &narrowed["metrics"]["deploymentFrequency"]["deployments"],
    );

    // A link to the same filter shows the same page.
    let link = page.eval("location.href").await;
    let again = browser.page().await;
    again
        .goto(&format!("{}#token={admin}", link.as_str().unwrap()))
        .await;
    ready(&again, "true").await;
    assert_eq!(
        again.eval("document.getElementById('team').value").await,
        team
    );
    assert_eq!(
        figures(&again).await.len(),
        figures(&page).await.len(),
        "the link did not restore the filter"
    );
}

#[tokio::test]
async fn the_program_table_filters_sorts_and_a_scoped_token_sees_its_program_only() {
    let Some(browser) = browser().await else {
        return;
    };
    let demo = Demo::start().await;
    let page = browser.page().await;
    let admin = token(Role::Admin, None);
    page.goto(&demo.url(&format!("/dashboard#token={admin}")))
        .await;
    ready(&page, "true").await;
    let rows = "[...document.querySelectorAll('#programs tbody tr')].map(r => r.dataset.program)";
    let programs = demo
        .graphql(&admin, "{ programs { nodes { key } } }", json!({}))
        .await;
    let keys: Vec<&str> = programs["programs"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        page.eval(rows).await,
        json!(keys),
        "one row per program, by key"
    );

    // Sorting by lead time: ascending, then descending, programs without a figure last.
    let [(from, to), _] = preset(90);
    let metrics = demo
        .graphql(
            &admin,
            "query($f: MetricsFilter!) { metrics(filter: $f) { byProgram { programKey leadTime { hours { median } } } } }",
            json!({ "f": { "from": from, "to": to } }),
        )
        .await;
    let mut by_lead_time: Vec<(String, Option<f64>)> = metrics["metrics"]["byProgram"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["programKey"].as_str().unwrap().to_owned(),
                p["leadTime"]["hours"]["median"].as_f64(),
            )
        })
        .collect();
    let order = |list: &[(String, Option<f64>)]| -> Value {
        json!(list.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>())
    };
    let sort_by_lead_time = "document.querySelectorAll('#programs th button')[2].click()";
    by_lead_time.sort_by(|a, b| match (a.1, b.1) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        (x, y) => y.is_some().cmp(&x.is_some()),
    });
    page.eval(sort_by_lead_time).await;
    assert_eq!(page.eval(rows).await, order(&by_lead_time));
    assert_eq!(
        page.eval("document.querySelectorAll('#programs th')[2].getAttribute('aria-sort')")
            .await,
        "ascending"
    );
    by_lead_time.sort_by(|a, b| match (a.1, b.1) {
        (Some(x), Some(y)) => y.total_cmp(&x),
        (x, y) => y.is_some().cmp(&x.is_some()),
    });
    page.eval(sort_by_lead_time).await;
    assert_eq!(page.eval(rows).await, order(&by_lead_time));

    // Choosing a row filters the whole page to that program.
    page.eval("document.querySelector('#programs tr[data-program=\"TOOLS\"]').click()")
        .await;
    ready(&page, "location.search.includes('program=TOOLS')").await;
    assert_eq!(
        page.eval("document.getElementById('program').value").await,
        "TOOLS"
    );
    assert_eq!(page.eval(rows).await, json!(["TOOLS"]));
    page_equals_metrics(&demo, &page, &admin, 90, Some(&["TOOLS"])).await;

    // A token of one program sees that program only, everywhere on the page.
    let viewer = token(Role::Viewer, Some(&["PAY"]));
    let scoped = browser.page().await;
    scoped
        .goto(&demo.url(&format!("/dashboard#token={viewer}")))
        .await;
    ready(&scoped, "true").await;
    assert_eq!(scoped.eval(rows).await, json!(["PAY"]));
    assert_eq!(
        scoped
            .eval("[...document.getElementById('program').options].map(o => o.value)")
            .await,
        json!(["", "PAY"])
    );
    let text = scoped
        .eval("document.body.innerText + [...document.querySelectorAll('option')].map(o => o.textContent).join(' ')")
        .await;
    let text = text.as_str().unwrap();
    for other in OTHER_PROGRAMS {
        let shown = text
            .split(|c: char| !c.is_ascii_alphanumeric())
            .any(|word| word == other);
        assert!(!shown, "a PAY viewer sees {other}:\n{text}");
    }
    assert!(text.contains("PAY"));
    let teams = demo.graphql(&viewer, "{ teams }", json!({})).await["teams"].clone();
    assert_eq!(
        scoped
            .eval("[...document.getElementById('team').options].map(o => o.value).slice(1)")
            .await,
        teams
    );
    page_equals_metrics(&demo, &scoped, &viewer, 90, None).await;

    // Another program's key in a link is refused in words, and the page shows its own.
    let elsewhere = browser.page().await;
    elsewhere
        .goto(&demo.url(&format!("/dashboard?window=90&program=MOB#token={viewer}")))
        .await;
    ready(&elsewhere, "true").await;
    assert!(visible(&elsewhere, "notice").await);
    assert_eq!(elsewhere.eval(rows).await, json!(["PAY"]));
}

#[tokio::test]
async fn the_page_stays_on_its_origin_without_errors_and_fits_a_phone() {
    let Some(browser) = browser().await else {
        return;
    };
    let demo = Demo::start().await;
    let page = browser.page().await;
    let admin = token(Role::Admin, None);
    page.viewport(1280, 800).await;
    page.goto(&demo.url(&format!("/dashboard#token={admin}")))
        .await;
    ready(&page, "true").await;

    let headers = page.document_headers(&demo.url("/dashboard"));
    let policy = headers["content-security-policy"].as_str().unwrap();
    assert!(policy.contains("default-src 'self'"), "{policy}");
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["referrer-policy"], "no-referrer");

    // Everything a user can open: both chart tables and the deliveries list.
    page.eval("document.querySelectorAll('.toggle').forEach(b => b.click())")
        .await;
    assert_eq!(
        page.eval("document.querySelectorAll('.chart.as-table').length")
            .await,
        2
    );
    page.eval("document.querySelectorAll('.toggle').forEach(b => b.click())")
        .await;
    page.eval("document.getElementById('open-deliveries').click()")
        .await;
    page.wait_for("document.querySelectorAll('#deliveries tbody tr').length > 0")
        .await;
    let listed = page
        .eval("document.querySelector('#deliveries .detail').textContent")
        .await;
    assert!(
        listed
            .as_str()
            .unwrap()
            .ends_with("in the window, newest first.")
    );
    page.screenshot(&output_dir().join("dashboard-1280x800.png"))
        .await;

    page.viewport(390, 844).await;
    page.goto(&demo.url("/dashboard")).await;
    ready(&page, "true").await;
    let (width, scroll_width) = (
        page.eval("window.innerWidth").await,
        page.eval("document.documentElement.scrollWidth").await,
    );
    assert_eq!(width, 390);
    assert!(
        scroll_width.as_u64() <= width.as_u64(),
        "the page scrolls sideways at 390 px: {scroll_width} px wide"
    );
    page.screenshot(&output_dir().join("dashboard-390x844.png"))
        .await;

    let requests = all_requests_stay_on(&page, &demo.origin);
    assert!(requests >= 10, "{:?}", page.requests());
    assert_eq!(page.errors(), Vec::<String>::new());
    assert_eq!(page.eval("localStorage.length").await, 0);
    println!(
        "{requests} requests, all to {}; screenshots in {}",
        demo.origin,
        output_dir().display()
    );
}

/// Part 7 lists what `improvementImpact` gives for the window, for ANALYST and up only; the
/// benchmark selector rereads every band; a figure named in `warnings` carries its mark.
#[tokio::test]
async fn did_it_work_the_benchmark_selector_and_few_data_marks_follow_the_api() {
    let Some(browser) = browser().await else {
        return;
    };
    let demo = Demo::start().await;
    let page = browser.page().await;
    let analyst = token(Role::Analyst, None);
    page.goto(&demo.url(&format!("/dashboard?window=365#token={analyst}")))
        .await;
    ready(&page, "true").await;
    assert!(visible(&page, "impact-section").await);
    let [(from, to), _] = preset(365);
    let listed = demo
        .graphql(
            &analyst,
            "query($f: ImpactFilter!) { improvementImpact(filter: $f) { action { id } impact { verdict } } }",
            json!({ "f": { "from": from, "to": to } }),
        )
        .await["improvementImpact"]
        .clone();
    let expected: Vec<(String, String)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["action"]["id"].as_str().unwrap().to_owned(),
                r["impact"]["verdict"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let shown: Vec<(String, String)> = serde_json::from_value(
        page.eval(
            "[...document.querySelectorAll('#impact .impact')].map(a => [a.dataset.action, a.dataset.verdict])",
        )
        .await,
    )
    .unwrap();
    assert_eq!(shown, expected);
    for verdict in [
        "IMPROVED",
        "WORSENED",
        "NO_DETECTABLE_CHANGE",
        "INSUFFICIENT_DATA",
    ] {
        assert!(
            shown.iter().any(|(_, v)| v == verdict),
            "{verdict}: {shown:?}"
        );
    }
    // An action without enough data says so in words; one with an interval draws it.
    let words = page
        .eval("document.querySelector('#impact .verdict-insufficient-data .verdict').textContent")
        .await;
    assert!(
        words.as_str().unwrap().starts_with("Not enough data"),
        "{words}"
    );
    assert_eq!(
        page.eval("document.querySelectorAll('#impact .verdict-insufficient-data svg').length")
            .await,
        0
    );
    assert_eq!(
        page.eval("document.querySelector('#impact .verdict-improved svg.interval') !== null")
            .await,
        true
    );

    page.eval("document.getElementById('impact-section').scrollIntoView()")
        .await;
    page.screenshot(&output_dir().join("dashboard-did-it-work.png"))
        .await;

    // The benchmark selector offers every edition and rereads every band.
    let editions = demo
        .graphql(&analyst, "{ benchmarks { name } }", json!({}))
        .await;
    let offered = page
        .eval("[...document.getElementById('benchmark').options].map(o => o.value)")
        .await;
    assert_eq!(
        offered,
        json!(
            editions["benchmarks"]
                .as_array()
                .unwrap()
                .iter()
                .map(|b| b["name"].clone())
                .collect::<Vec<_>>()
        )
    );
    choose(&page, "benchmark", "DORA_2021").await;
    ready(&page, "location.search.includes('benchmark=DORA_2021')").await;
    let bands = demo
        .graphql(
            &analyst,
            "query($f: MetricsFilter!) { metrics(filter: $f) { deploymentFrequency { band } leadTime { band } changeFailureRate { band } timeToRestore { band } } }",
            json!({ "f": { "from": from, "to": to, "benchmark": "DORA_2021", "granularity": "MONTH" } }),
        )
        .await["metrics"]
        .clone();
    let names = [
        ("ELITE", "Elite"),
        ("HIGH", "High"),
        ("MEDIUM", "Medium"),
        ("LOW", "Low"),
        ("NO_DATA", "No data"),
    ];
    for tile in [
        "deploymentFrequency",
        "leadTime",
        "changeFailureRate",
        "timeToRestore",
    ] {
        let shown = page
            .eval(&format!(
                "document.querySelector('[data-tile=\"{tile}\"] .band').textContent"
            ))
            .await;
        let code = bands[tile]["band"].as_str().unwrap();
        let name = names.iter().find(|(c, _)| *c == code).unwrap().1;
        assert!(
            shown.as_str().unwrap().ends_with(name),
            "{tile}: {shown} under DORA_2021, not {name}"
        );
    }
    assert_eq!(
        page.eval("document.getElementById('benchmark-name').textContent")
            .await,
        "DORA_2021"
    );

    // A small program over a month: its few-data figures carry the mark, no other does.
    choose(&page, "window", "30").await;
    ready(&page, "location.search.includes('window=30')").await;
    choose(&page, "program", "ERP").await;
    ready(&page, "location.search.includes('program=ERP')").await;
    let [(from, to), _] = preset(30);
    let warnings = demo
        .graphql(
            &analyst,
            "query($f: MetricsFilter!) { metrics(filter: $f) { warnings { metric observations } } }",
            json!({ "f": { "from": from, "to": to, "programKeys": ["ERP"] } }),
        )
        .await["metrics"]["warnings"]
        .clone();
    let marks = page
        .eval("[...document.querySelectorAll('#main .few')].map(m => ({metric: m.dataset.metric, observations: Number(m.dataset.observations)}))")
        .await;
    assert!(
        !warnings.as_array().unwrap().is_empty(),
        "ERP has few data in a month"
    );
    let sorted = |v: &Value| {
        let mut list: Vec<String> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w.to_string())
            .collect();
        list.sort();
        list
    };
    assert_eq!(sorted(&marks), sorted(&warnings));

    // A viewer sees no part 7.
    let viewer = browser.page().await;
    let token = token(Role::Viewer, None);
    viewer
        .goto(&demo.url(&format!("/dashboard#token={token}")))
        .await;
    ready(&viewer, "true").await;
    assert!(!visible(&viewer, "impact-section").await);
    assert_eq!(viewer.errors(), Vec::<String>::new());
    assert_eq!(page.errors(), Vec::<String>::new());
}

/// Part 8 lists every release under way with a forecast, HIGH and MEDIUM risk first, with
/// the on-time probability `Release.forecast` gives; the releases in flight carry their risk.
#[tokio::test]
async fn at_risk_lists_the_forecasts_riskiest_first_and_in_flight_shows_risk() {
    let Some(browser) = browser().await else {
        return;
    };
    let demo = Demo::start().await;
    let page = browser.page().await;
    let viewer = token(Role::Viewer, None);
    page.goto(&demo.url(&format!("/dashboard#token={viewer}")))
        .await;
    ready(&page, "true").await;
    let under_way = demo
        .graphql(
            &viewer,
            "{ releases(filter: {statuses: [PLANNED, SCHEDULED, IN_BUILD, IN_TEST, APPROVED, DEPLOYING]},
                 orderBy: {field: PLANNED_END, direction: ASC}, first: 100) {
               nodes { version program { key } forecast { risk onTimeProbability } } } }",
            json!({}),
        )
        .await;
    let rank = |risk: &str| ["HIGH", "MEDIUM", "LOW"].iter().position(|r| *r == risk);
    let mut expected: Vec<(String, String, String, String)> = under_way["releases"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| !r["forecast"].is_null())
        .map(|r| {
            let p = r["forecast"]["onTimeProbability"].as_f64().unwrap();
            (
                r["program"]["key"].as_str().unwrap().to_owned(),
                r["version"].as_str().unwrap().to_owned(),
                r["forecast"]["risk"].as_str().unwrap().to_owned(),
                format!("{}% on time", (p * 100.0).round()),
            )
        })
        .collect();
    expected.sort_by_key(|(_, _, risk, _)| rank(risk));
    assert!(!expected.is_empty(), "the demo has forecasts");
    let shown: Vec<(String, String, String, String)> = serde_json::from_value(
        page.eval(
            "[...document.querySelectorAll('#at-risk li')].map(li => [li.dataset.program, li.dataset.version,
               li.dataset.risk, li.querySelector('.probability').textContent])",
        )
        .await,
    )
    .unwrap();
    assert_eq!(shown, expected);
    let in_flight = demo
        .graphql(
            &viewer,
            "{ releases(filter: {statuses: [DEPLOYING, APPROVED]}, first: 50) { nodes { forecast { risk } } } }",
            json!({}),
        )
        .await;
    let with_risk = in_flight["releases"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| !r["forecast"].is_null())
        .count();
    assert_eq!(
        page.eval("document.querySelectorAll('#in-flight [class*=risk-]').length")
            .await,
        with_risk
    );
    page.eval("document.getElementById('risk-title').scrollIntoView()")
        .await;
    page.screenshot(&output_dir().join("dashboard-at-risk.png"))
        .await;
    assert_eq!(page.errors(), Vec::<String>::new());
}

#[tokio::test]
async fn at_risk_lists_the_schedule_conflicts_and_the_calendar_marks_their_releases() {
    let Some(browser) = browser().await else {
        return;
    };
    let demo = Demo::start().await;
    let page = browser.page().await;
    let viewer = token(Role::Viewer, None);
    page.goto(&demo.url(&format!("/dashboard#token={viewer}")))
        .await;
    ready(&page, "true").await;
    // The dashboard's window: the coming eight weeks from today's UTC midnight.
    let day = 86_400;
    let today = Utc::now().timestamp() / day * day;
    let iso = |seconds: i64| {
        chrono::DateTime::from_timestamp(seconds, 0)
            .unwrap()
            .to_rfc3339()
    };
    let conflicts = demo
        .graphql(
            &viewer,
            "query($from: DateTime!, $to: DateTime!) { scheduleConflicts(from: $from, to: $to) {
               kind release { version program { key } } } }",
            json!({"from": iso(today), "to": iso(today + 56 * day)}),
        )
        .await;
    let expected: Vec<(String, String, String)> = conflicts["scheduleConflicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["kind"].as_str().unwrap().to_owned(),
                c["release"]["program"]["key"].as_str().unwrap().to_owned(),
                c["release"]["version"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        !expected.is_empty(),
        "the demo plans releases with conflicts"
    );
    let shown: Vec<(String, String, String)> = serde_json::from_value(
        page.eval(
            "[...document.querySelectorAll('#conflicts li')].map(li =>
               [li.dataset.kind, li.dataset.program, li.dataset.version])",
        )
        .await,
    )
    .unwrap();
    assert_eq!(shown, expected);
    let marked: u64 = serde_json::from_value(
        page.eval("document.querySelectorAll('#calendar .entry-release .conflict').length")
            .await,
    )
    .unwrap();
    assert!(marked > 0, "the calendar marks releases with conflicts");
    assert_eq!(page.errors(), Vec::<String>::new());
}
