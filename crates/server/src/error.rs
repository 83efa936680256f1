//! `ApiError`: every failure the HTTP surface reports, mapped in one table to a status and an
//! OperationOutcome. Nothing else in the server builds error responses.

use crate::wire::{self, Format};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use model::fhir::{Issue, OperationOutcome};
use std::fmt;
use store::{StoreError, StoreErrorKind};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub outcome: OperationOutcome,
    /// The format the client asked for, so that errors come back in it.
    pub format: Format,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, outcome: OperationOutcome::single(Issue::error(code, message)), format: Format::Json }
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid", message)
    }

    pub fn structure(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "structure", message)
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not-found", message)
    }

    pub fn in_format(mut self, format: Format) -> ApiError {
        self.format = format;
        self
    }
}

/// The one table from store error kinds to HTTP statuses.
fn status_of(kind: StoreErrorKind) -> StatusCode {
    match kind {
        StoreErrorKind::NotFound => StatusCode::NOT_FOUND,
        StoreErrorKind::Invalid => StatusCode::BAD_REQUEST,
        StoreErrorKind::Unprocessable => StatusCode::UNPROCESSABLE_ENTITY,
        StoreErrorKind::TooCostly => StatusCode::UNPROCESSABLE_ENTITY,
        StoreErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> ApiError {
        ApiError { status: status_of(error.kind), outcome: error.outcome, format: Format::Json }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let texts: Vec<&str> = self.outcome.issues.iter().map(|issue| issue.text.as_str()).collect();
        write!(f, "{}: {}", self.status.as_u16(), texts.join("; "))
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        wire::respond(self.status, &self.outcome.to_json(), self.format)
    }
}
