//! Cross-origin requests (interface.md, *Front-end applications*): the pages of the origins
//! in `RELM_CORS_ORIGINS` may call `/graphql` and `/v1/exports/…`.
//!
//! Written here rather than with poem's `Cors`, which answers a preflight with 200, refuses
//! other origins with 403 where the contract sends them no CORS header at all, and leaves
//! `Vary` off preflights: the contract's answers are a few headers, exactly as listed.

use poem::http::{HeaderValue, Method, StatusCode, header};
use poem::{Endpoint, Middleware, Request, Response, Result};

use crate::origins::Origins;

const EXPOSED: &str = "Retry-After, Content-Disposition";

/// Answers preflights of listed origins and marks their answers as readable by them.
pub struct CrossOrigin(pub Origins);

impl<E: Endpoint> Middleware<E> for CrossOrigin {
    type Output = CrossOriginEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        CrossOriginEndpoint {
            inner,
            origins: self.0.clone(),
        }
    }
}

pub struct CrossOriginEndpoint<E> {
    inner: E,
    origins: Origins,
}

impl<E: Endpoint> Endpoint for CrossOriginEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Response> {
        let origin = req
            .header(header::ORIGIN)
            .filter(|origin| self.origins.allows(origin))
            .and_then(|origin| HeaderValue::from_str(origin).ok());
        let Some(origin) = origin else {
            // Answers differ by Origin, so a cache must not hand one to another origin.
            let mut response = self.inner.get_response(req).await;
            response
                .headers_mut()
                .append(header::VARY, HeaderValue::from_static("Origin"));
            return Ok(response);
        };
        let mut response = if req.method() == Method::OPTIONS {
            // A preflight needs no token and spends no budget.
            Response::builder()
                .status(StatusCode::NO_CONTENT)
                .header(header::ACCESS_CONTROL_ALLOW_METHODS, "GET, POST")
                .header(
                    header::ACCESS_CONTROL_ALLOW_HEADERS,
                    "authorization, content-type",
                )
                .header(header::ACCESS_CONTROL_MAX_AGE, "600")
                .finish()
        } else {
            self.inner.get_response(req).await
        };
        let headers = response.headers_mut();
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.append(header::VARY, HeaderValue::from_static("Origin"));
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSED),
        );
        Ok(response)
    }
}
