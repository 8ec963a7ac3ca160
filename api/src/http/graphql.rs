//! GraphQL over HTTP: the request read from a POST body or a GET query string, run through
//! the application's path (`app`), and answered with the specification's statuses.
//!
//! `/graphql` follows the GraphQL-over-HTTP specification: `application/json` responses
//! are 200 once the request is well-formed; a client that accepts
//! `application/graphql-response+json` gets that type, with 400 for requests that fail to
//! parse or validate. Malformed bodies are 400, mutations over GET 405, a request without a
//! valid token 401 and one over its caller's budget 429, all before anything runs.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use async_graphql::parser::types::OperationType;

use poem::http::{HeaderValue, StatusCode, header};
use poem::web::Data;
use poem::{Body, Request, Response, handler};
use serde::Deserialize;

use super::{JSON, error_response, json_error, read_body, status_of};
use crate::app::limits::RequestMeta;
use crate::app::run::operation_type;
use crate::app::trusted::{Sent, names_a_document, with_document_id};
use crate::app::{AppState, Refusal, answer};
use crate::auth::Credentials;

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

/// A refusal as an HTTP answer: the error body with its status, `WWW-Authenticate` on a
/// 401 and `Retry-After` on a 429.
pub fn refused(refusal: Refusal) -> Response {
    let error = refusal.error_json();
    let status = status_of(&refusal.error);
    let mut response = error_response(
        status,
        error["message"].as_str().unwrap_or_default(),
        Some(error["extensions"].clone()),
    );
    let headers = response.headers_mut();
    if status == StatusCode::UNAUTHORIZED {
        headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    if let Some(seconds) = refusal.retry_after {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

fn wants_graphql_response(req: &Request) -> bool {
    req.header(header::ACCEPT)
        .is_some_and(|accept| accept.contains(GRAPHQL_RESPONSE))
}

/// The client's IP address, for the budget of requests without a valid token.
pub fn client_address(req: &Request) -> Option<IpAddr> {
    req.remote_addr().as_socket_addr().map(|a| a.ip())
}

fn error_codes(response: &async_graphql::Response) -> Vec<String> {
    response
        .errors
        .iter()
        .filter_map(|e| e.extensions.as_ref()?.get("code"))
        .map(|c| c.to_string().trim_matches('"').to_owned())
        .collect()
}

async fn respond(state: &AppState, req: &Request, request: async_graphql::Request) -> Response {
    let started = Instant::now();
    let meta = Arc::new(RequestMeta::default());
    let authorization = req.header(header::AUTHORIZATION);
    let answered = answer(
        state,
        authorization,
        client_address(req),
        request,
        meta.clone(),
    )
    .await;
    let response = match answered {
        Ok(response) => response,
        Err(refusal) => {
            let code = refusal.error.code().to_owned();
            state
                .telemetry
                .record(meta.operation(), started.elapsed(), &[code]);
            return refused(refusal);
        }
    };
    let codes = error_codes(&response);
    state
        .telemetry
        .record(meta.operation(), started.elapsed(), &codes);

    let graphql_response = wants_graphql_response(req);
    // A request error (the document did not parse or validate, or the request ran out of
    // time) has no data and no error with a path; field errors always carry a path.
    let request_error = response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty());
    let status = match (
        graphql_response && request_error,
        codes.first().map(String::as_str),
    ) {
        (false, _) => StatusCode::OK,
        (true, Some("TIMEOUT")) => StatusCode::SERVICE_UNAVAILABLE,
        (true, _) => StatusCode::BAD_REQUEST,
    };
    let body = match serde_json::to_string(&response) {
        Ok(body) => body,
        Err(err) => {
            tracing::error!(%err, "cannot serialise a GraphQL response");
            return json_error(StatusCode::INTERNAL_SERVER_ERROR, "internal error");
        }
    };
    Response::builder()
        .status(status)
        .content_type(if graphql_response {
            GRAPHQL_RESPONSE
        } else {
            JSON
        })
        .body(body)
}

#[handler]
pub async fn post(req: &Request, body: Body, Data(state): Data<&AppState>) -> Response {
    let content_type = req.content_type().unwrap_or_default();
    if !content_type.starts_with(JSON) {
        return json_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the request as application/json",
        );
    }
    let bytes = match read_body(req, body, state).await {
        Ok(bytes) => bytes,
        Err((status, message)) => return json_error(status, &message),
    };
    let request = match serde_json::from_slice::<Sent>(&bytes) {
        Ok(sent) => sent.into_request(),
        Err(err) => {
            return json_error(
                StatusCode::BAD_REQUEST,
                &format!("the body is not a GraphQL request: {err}"),
            );
        }
    };
    if request.query.trim().is_empty() && !names_a_document(&request) {
        return json_error(StatusCode::BAD_REQUEST, "the request has no query");
    }
    respond(state, req, request).await
}

/// The parameters of a GraphQL GET request (GraphQL over HTTP, "GET").
#[derive(Deserialize)]
struct GetParameters {
    #[serde(default)]
    query: String,
    #[serde(rename = "operationName")]
    operation_name: Option<String>,
    variables: Option<String>,
    extensions: Option<String>,
    #[serde(rename = "documentId")]
    document_id: Option<String>,
}

fn get_request(query_string: &str) -> Result<async_graphql::Request, String> {
    let params: GetParameters =
        serde_urlencoded::from_str(query_string).map_err(|e| e.to_string())?;
    let json = |name: &str, text: Option<String>| -> Result<serde_json::Value, String> {
        match text.filter(|t| !t.is_empty()) {
            Some(text) => serde_json::from_str(&text).map_err(|e| format!("invalid {name}: {e}")),
            None => Ok(serde_json::Value::Null),
        }
    };
    let variables = json("variables", params.variables)?;
    let extensions = json("extensions", params.extensions)?;
    let mut request = async_graphql::Request::new(params.query)
        .variables(async_graphql::Variables::from_json(variables));
    request.operation_name = params.operation_name;
    if let serde_json::Value::Object(map) = extensions {
        for (name, value) in map {
            if let Ok(value) = async_graphql::Value::from_json(value) {
                request.extensions.0.insert(name, value);
            }
        }
    }
    Ok(with_document_id(request, params.document_id))
}

#[handler]
pub async fn get(req: &Request, Data(state): Data<&AppState>) -> Response {
    let query = req.uri().query().unwrap_or_default();
    let accepts_html = req
        .header(header::ACCEPT)
        .is_some_and(|a| a.contains("text/html"));
    if query.is_empty() && accepts_html && state.graphiql {
        return crate::web::graphiql();
    }
    let request = match get_request(query) {
        Ok(request) if request.query.trim().is_empty() && !names_a_document(&request) => {
            return json_error(StatusCode::BAD_REQUEST, "the request has no query");
        }
        Ok(request) => request,
        Err(err) => {
            return json_error(
                StatusCode::BAD_REQUEST,
                &format!("the query string is not a GraphQL request: {err}"),
            );
        }
    };
    let named = state
        .trusted
        .named_text(&request)
        .filter(|_| request.query.is_empty());
    let mut runs = async_graphql::Request::new(named.unwrap_or(&request.query));
    runs.operation_name = request.operation_name.clone();
    if operation_type(&runs) == Some(OperationType::Mutation) {
        // What a trusted id names is for a valid token's bearer to learn: without one, the
        // request is refused as any other.
        let authorization = req.header(header::AUTHORIZATION);
        if named.is_some()
            && Credentials::read(state.tokens(), authorization)
                .await
                .subject()
                .is_none()
        {
            return respond(state, req, request).await;
        }
        let mut response = json_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "mutations are only accepted over POST",
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    respond(state, req, request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_parameters_use_the_specification_names() {
        let request = get_request(
            "query=query%20A%7Bme%7Bsubject%7D%7Dquery%20B%7Bme%7Brole%7D%7D&operationName=B&variables=%7B%22a%22%3A1%7D",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(request.operation_name.as_deref(), Some("B"));
        assert_eq!(
            request.variables.get("a"),
            Some(&async_graphql::Value::from(1))
        );
        assert!(get_request("query=%7Ba%7D&variables=%7B").is_err());
    }
}
