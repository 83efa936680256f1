//! Structured logs through `tracing`: the subscriber set-up, and one line per request (which
//! also counts and times the request for `/metrics`).

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use std::io::IsTerminal;
use std::time::Instant;

/// Installs the global subscriber: JSON lines when asked for, human-readable otherwise. Colours
/// (ANSI escape codes) only when stderr is a terminal, so that log files and collectors get
/// plain text.
pub fn init(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("FHIRTERM_LOG").unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(std::io::stderr().is_terminal());
    let result = if json { builder.json().flatten_event(true).try_init() } else { builder.try_init() };
    let _ = result;
}

/// Logs method, path, status, latency and request id for each request, and echoes the id.
pub async fn log_request(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    let method = request.method().to_string();
    let path = request.path().to_owned();
    let operation = crate::prometheus::operation_of(request.method(), &path);
    let mut response = next.call(request).await?;
    let status = response.status().as_u16();
    crate::prometheus::record_request(operation, status, started.elapsed());
    // Microsecond resolution, recorded as a number so that JSON logs carry a JSON number.
    let latency_ms = (started.elapsed().as_secs_f64() * 1_000_000.0).round() / 1000.0;
    tracing::info!(target: "fhirterm::request", method, path, status, latency_ms, request_id, "request");
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(HeaderName::from_static("x-request-id"), value);
    }
    Ok(response)
}
