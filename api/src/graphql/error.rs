//! How an [`ApiError`] reaches a GraphQL client: its message and `extensions.code`.

use async_graphql::ErrorExtensions;

use crate::error::ApiError;

impl ErrorExtensions for ApiError {
    fn extend(&self) -> async_graphql::Error {
        let request_id = uuid::Uuid::new_v4().to_string();
        let message = match self {
            Self::Internal(detail) => {
                tracing::error!(request_id, detail, "internal error");
                format!("internal error (request id {request_id})")
            }
            Self::Busy(detail) | Self::Unavailable(detail) => {
                tracing::warn!(request_id, detail, "the database could not answer");
                self.to_string()
            }
            other => other.to_string(),
        };
        async_graphql::Error::new(message).extend_with(|_, e| {
            e.set("code", self.code());
            if matches!(self, Self::Internal(_)) {
                e.set("requestId", request_id.as_str());
            }
        })
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(err: ApiError) -> Self {
        err.extend()
    }
}
