//! The pages relm serves to browsers (web.md): the leadership dashboard and GraphiQL, and
//! the embedded files they load. Pages are public HTML (their data comes from `/graphql`
//! with the user's token); each carries a strict Content-Security-Policy.

pub mod assets;

use std::sync::LazyLock;

use poem::http::{HeaderValue, StatusCode, header};
use poem::web::{Data, Path};
use poem::{Body, IntoResponse, Request, Response, handler};

use crate::app::AppState;
use assets::{ASSETS, accepts_gzip};

/// The dashboard's policy: everything from relm itself, no inline script or style, never
/// in a frame.
const DASHBOARD_CSP: &str = "default-src 'self'; object-src 'none'; base-uri 'none'; \
    form-action 'self'; frame-ancestors 'none'";

/// GraphiQL's policy: the dashboard's, but its vendored stylesheet carries its fonts and
/// icons as `data:` URLs, and its dialogs insert a `<style>` element when they open.
/// Scripts stay as strict as the dashboard's.
const GRAPHIQL_CSP: &str = "default-src 'self'; img-src 'self' data:; font-src 'self' data:; \
    style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'; \
    form-action 'self'; frame-ancestors 'none'";

/// A year: assets are named after their build, so they never change under a name.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The dashboard without and with a link to GraphiQL.
static DASHBOARD: LazyLock<[String; 2]> = LazyLock::new(|| {
    let page = |graphiql| render(include_str!("dashboard.html"), graphiql);
    [page(false), page(true)]
});
static GRAPHIQL: LazyLock<String> = LazyLock::new(|| render(include_str!("graphiql.html"), true));

/// A page template with its asset URLs and GraphiQL's availability filled in.
fn render(template: &str, graphiql: bool) -> String {
    template
        .replace("{{assets}}", &ASSETS.prefix())
        .replace("{{graphiql}}", if graphiql { "on" } else { "off" })
}

fn page(html: &'static str, policy: &'static str) -> Response {
    Response::builder()
        .content_type("text/html; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-cache")
        .header(header::CONTENT_SECURITY_POLICY, policy)
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .header(header::REFERRER_POLICY, "no-referrer")
        .body(html)
}

/// `GET /dashboard`: the leadership dashboard.
#[handler]
pub fn dashboard(Data(state): Data<&AppState>) -> Response {
    page(&DASHBOARD[usize::from(state.graphiql)], DASHBOARD_CSP)
}

/// GraphiQL, for a browser that opens `/graphql` where it is enabled.
pub fn graphiql() -> Response {
    page(&GRAPHIQL, GRAPHIQL_CSP)
}

/// `GET /assets/{build}/{file}`: an embedded file, gzip-compressed when the client accepts
/// it, 304 when the client's copy is current.
#[handler]
pub async fn asset(req: &Request, Path(path): Path<String>) -> Response {
    let Some(asset) = ASSETS.get(&path) else {
        return (StatusCode::NOT_FOUND, "no such asset").into_response();
    };
    let current = req
        .header(header::IF_NONE_MATCH)
        .is_some_and(|tags| tags.split(',').any(|tag| tag.trim() == asset.etag));
    let gzip = req
        .header(header::ACCEPT_ENCODING)
        .is_some_and(accepts_gzip);
    let mut response = if current {
        Response::builder()
            .status(StatusCode::NOT_MODIFIED)
            .finish()
    } else if gzip {
        match tokio::task::spawn_blocking(move || asset.gzipped()).await {
            Ok(bytes) => Response::builder()
                .header(header::CONTENT_ENCODING, "gzip")
                .body(Body::from_bytes(bytes.into())),
            Err(_) => Response::builder().body(Body::from_bytes(asset.bytes.into())),
        }
    } else {
        Response::builder().body(Body::from_bytes(asset.bytes.into()))
    };
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE));
    headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Ok(etag) = HeaderValue::from_str(&asset.etag) {
        headers.insert(header::ETAG, etag);
    }
    response
}
