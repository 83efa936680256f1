//! `GET /metrics`: what the server has done and holds, in the Prometheus text format.
//!
//! Requests are counted and timed through the `metrics` facade by the request-logging middleware
//! ([`record_request`]), labelled by a small fixed set of operation names ([`operation_of`]) and
//! the status. What the server holds (code systems, concepts, upload jobs by state, expansion
//! cache hits and misses) is read when `/metrics` is scraped. The recorder is process-wide and
//! installed once, by the first [`crate::AppState`].
//!
//! `--metrics-token` makes `/metrics` ask for `Authorization: Bearer <token>`; without it the
//! endpoint is open, like `/health`.

use crate::error::ApiError;
use crate::AppState;
use actix_web::http::{header, Method};
use actix_web::{web, HttpRequest, HttpResponse};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Duration;

const REQUESTS: &str = "fhirterm_http_requests_total";
const REQUEST_SECONDS: &str = "fhirterm_http_request_duration_seconds";

/// Histogram buckets for request latency, in seconds: from a cached lookup to a large expansion.
const LATENCY_BUCKETS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process-wide recorder once and answers its handle; `None` when another
/// recorder was installed first (then requests are not counted here).
pub fn install() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(REQUEST_SECONDS.to_owned()), LATENCY_BUCKETS)
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            metrics::describe_counter!(REQUESTS, "HTTP requests answered, by operation and status");
            metrics::describe_histogram!(REQUEST_SECONDS, metrics::Unit::Seconds, "HTTP request latency, by operation and status");
            metrics::describe_gauge!("fhirterm_code_systems", "Code system versions served, built-in ones included");
            metrics::describe_gauge!("fhirterm_concepts", "Concepts in the code systems served");
            metrics::describe_gauge!("fhirterm_upload_jobs", "Upload jobs stored, by state");
            metrics::describe_counter!("fhirterm_expansion_cache_hits_total", "Cacheable expansions found in the cache");
            metrics::describe_counter!("fhirterm_expansion_cache_misses_total", "Cacheable expansions computed because none was cached");
            metrics::describe_gauge!("fhirterm_build_info", "Always 1; the labels name the build");
            metrics::gauge!("fhirterm_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
            Some(handle)
        })
        .as_ref()
}

/// The label for a request: the FHIR interaction or operation it asks for, from a fixed set so
/// that no client can grow the number of series.
pub fn operation_of(method: &Method, path: &str) -> &'static str {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let operation = |segment: &str| match segment {
        "$lookup" => "$lookup",
        "$validate-code" => "$validate-code",
        "$subsumes" => "$subsumes",
        "$expand" => "$expand",
        "$translate" => "$translate",
        "$batch-validate-code" => "$batch-validate-code",
        "$versions" => "$versions",
        _ => "other",
    };
    match segments.as_slice() {
        ["metrics"] => "metrics",
        ["health", ..] => "health",
        ["admin", "upload"] => "upload",
        ["admin", ..] => "admin",
        ["fhir", "metadata"] => "metadata",
        ["fhir", segment] if segment.starts_with('$') => operation(segment),
        ["fhir", _] if method == Method::GET => "search",
        ["fhir", _] if method == Method::POST => "create",
        ["fhir", _, "_search"] => "search",
        ["fhir", _, segment] if segment.starts_with('$') => operation(segment),
        ["fhir", _, _] if method == Method::GET => "read",
        ["fhir", _, _] if method == Method::PUT => "update",
        ["fhir", _, _] if method == Method::DELETE => "delete",
        ["fhir", _, _, segment] if segment.starts_with('$') => operation(segment),
        ["fhir", _, _, "_history", _] => "vread",
        _ => "other",
    }
}

/// Counts and times one answered request.
pub fn record_request(operation: &'static str, status: u16, latency: Duration) {
    let status = status.to_string();
    metrics::counter!(REQUESTS, "operation" => operation, "status" => status.clone()).increment(1);
    metrics::histogram!(REQUEST_SECONDS, "operation" => operation, "status" => status).record(latency.as_secs_f64());
}

/// Compares without stopping at the first difference, so that timing tells nothing of the token.
fn same_secret(left: &[u8], right: &[u8]) -> bool {
    left.len() == right.len() && left.iter().zip(right).fold(0u8, |difference, (a, b)| difference | (a ^ b)) == 0
}

/// `GET /metrics`.
pub async fn metrics(state: web::Data<AppState>, request: HttpRequest) -> Result<HttpResponse, ApiError> {
    if let Some(token) = &state.config.metrics_token {
        let offered = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .unwrap_or_default();
        if !same_secret(offered.trim().as_bytes(), token.as_bytes()) {
            return Err(ApiError::unauthorized("/metrics needs the metrics token (--metrics-token) as a bearer token"));
        }
    }
    let handle = install().ok_or_else(|| ApiError::internal("another metrics recorder was installed first; /metrics has nothing"))?;
    let (n_code_systems, n_concepts) = state.terminology.registry().code_system_counts();
    metrics::gauge!("fhirterm_code_systems").set(n_code_systems as f64);
    metrics::gauge!("fhirterm_concepts").set(n_concepts as f64);
    let (hits, misses) = store::index::expansion_cache_counts();
    metrics::counter!("fhirterm_expansion_cache_hits_total").absolute(hits);
    metrics::counter!("fhirterm_expansion_cache_misses_total").absolute(misses);
    let terminology = state.terminology.clone();
    if let Ok(Ok(job_counts)) = web::block(move || terminology.job_counts()).await {
        for state_name in store::JobState::ALL.map(store::JobState::as_str) {
            let n_jobs = job_counts.iter().find(|(name, _)| name == state_name).map(|(_, n_jobs)| *n_jobs).unwrap_or(0);
            metrics::gauge!("fhirterm_upload_jobs", "state" => state_name).set(n_jobs as f64);
        }
    }
    handle.run_upkeep();
    Ok(HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(handle.render()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_labelled_by_interaction_or_operation() {
        let cases = [
            (Method::GET, "/fhir/CodeSystem/sample", "read"),
            (Method::PUT, "/fhir/CodeSystem/sample", "update"),
            (Method::DELETE, "/fhir/ValueSet/x", "delete"),
            (Method::GET, "/fhir/ValueSet", "search"),
            (Method::POST, "/fhir/ValueSet/_search", "search"),
            (Method::POST, "/fhir/ValueSet", "create"),
            (Method::GET, "/fhir/CodeSystem/sample/_history/3", "vread"),
            (Method::GET, "/fhir/ValueSet/$expand", "$expand"),
            (Method::POST, "/fhir/ValueSet/colours/$validate-code", "$validate-code"),
            (Method::GET, "/fhir/$versions", "$versions"),
            (Method::GET, "/fhir/ValueSet/$made-up", "other"),
            (Method::GET, "/fhir/metadata", "metadata"),
            (Method::GET, "/health/ready", "health"),
            (Method::POST, "/admin/upload", "upload"),
            (Method::GET, "/admin/jobs/abc", "admin"),
            (Method::GET, "/metrics", "metrics"),
            (Method::PATCH, "/fhir/CodeSystem/sample", "other"),
            (Method::GET, "/favicon.ico", "other"),
        ];
        for (method, path, expected) in cases {
            assert_eq!(operation_of(&method, path), expected, "{method} {path}");
        }
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret(b"token", b"token"));
        assert!(!same_secret(b"token", b"tokem"));
        assert!(!same_secret(b"token", b"token-longer"));
    }
}
