//! `ApiError`: every failure the HTTP surface reports, mapped in one table to a status and an
//! OperationOutcome. Nothing else in the server builds error responses. Handlers return errors
//! without naming a format: [`in_request_format`] writes each in the format the request asked for.

use crate::wire::{self, Format};
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{HttpResponse, ResponseError};
use model::fhir::{Issue, OperationOutcome};
use std::fmt;
use store::{StoreError, StoreErrorKind};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub outcome: OperationOutcome,
    /// A `WWW-Authenticate` challenge, sent with 401.
    pub challenge: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, outcome: OperationOutcome::single(Issue::error(code, message)), challenge: None }
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

    /// 401: no token where one is needed, or a token that does not verify. The challenge names
    /// the reason, as RFC 6750 asks.
    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        let message = message.into();
        let description: String = message.chars().map(|c| if c == '"' || c == '\\' || c.is_control() { '\'' } else { c }).collect();
        let mut error = ApiError::new(StatusCode::UNAUTHORIZED, "login", message);
        error.challenge = Some(format!("Bearer realm=\"fhirterm\", error=\"invalid_token\", error_description=\"{description}\""));
        error
    }

    /// 403: the caller is known but may not do this.
    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 403 naming the scope that was needed.
    pub fn missing_scope(scope: &str) -> ApiError {
        let mut error = ApiError::forbidden(format!("this needs the scope '{scope}'"));
        error.challenge = Some("Bearer realm=\"fhirterm\", error=\"insufficient_scope\"".to_owned());
        error
    }

    /// 413: a body or an upload past the configured limit.
    pub fn too_large(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too-long", message)
    }

    /// 422: an upload that is well formed but refused (hostile archive, unknown format).
    pub fn unprocessable(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "processing", message)
    }

    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "exception", message)
    }

    /// The response for this error in a format.
    fn response_in(&self, format: Format) -> HttpResponse {
        let mut response = wire::respond(self.status, &self.outcome.to_json(), format);
        if let Some(challenge) = self.challenge.as_deref().and_then(|text| HeaderValue::from_str(text).ok()) {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, challenge);
        }
        response
    }
}

/// Writes an `ApiError` in the format the request asked for (`_format`, else `Accept`): actix
/// renders errors without the request, in JSON, and this middleware rewrites those the caller
/// wanted in XML. A request whose format is neither (406) is answered in JSON.
pub async fn in_request_format(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let response = next.call(request).await?;
    let api_error = response.response().error().and_then(|error| error.as_error::<ApiError>());
    let xml = match api_error {
        Some(error) if wire::response_format(response.request()).ok() == Some(Format::Xml) => Some(error.response_in(Format::Xml)),
        _ => None,
    };
    Ok(match xml {
        Some(xml) => response.into_response(xml).map_into_right_body(),
        None => response.map_into_left_body(),
    })
}

/// The one table from store error kinds to HTTP statuses.
fn status_of(kind: StoreErrorKind) -> StatusCode {
    match kind {
        StoreErrorKind::NotFound => StatusCode::NOT_FOUND,
        StoreErrorKind::Invalid => StatusCode::BAD_REQUEST,
        StoreErrorKind::Unprocessable => StatusCode::UNPROCESSABLE_ENTITY,
        StoreErrorKind::TooCostly => StatusCode::UNPROCESSABLE_ENTITY,
        StoreErrorKind::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
        StoreErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> ApiError {
        ApiError { status: status_of(error.kind), outcome: error.outcome, challenge: None }
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
        self.response_in(Format::Json)
    }
}
