//! The route table.

pub mod admin;
pub mod health;
pub mod metadata;
pub mod operations;
pub mod rest;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::{wire, AppState};
use actix_web::http::Method;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};

pub fn configure(config: &mut web::ServiceConfig) {
    config
        .route("/health/live", web::get().to(health::live))
        .route("/health/ready", web::get().to(health::ready))
        .route("/metrics", web::get().to(crate::prometheus::metrics))
        .route("/fhir/metadata", web::get().to(metadata::metadata))
        .configure(crate::console::configure)
        .route("/admin/upload", web::post().to(crate::upload::upload))
        .route("/admin/jobs", web::get().to(crate::upload::job_list))
        .route("/admin/jobs/{id}", web::get().to(crate::upload::job))
        .route("/admin/audit", web::get().to(crate::upload::audit_log))
        .route("/admin/code-systems", web::get().to(admin::code_systems))
        .service(web::scope("/fhir").default_service(web::to(fhir)))
        .default_service(web::to(unknown_route));
}

/// Every path under `/fhir/` but `metadata`, sent to its handler by its segments and method.
/// One handler rather than an actix route per shape: actix matches each dynamic route with a
/// regex, which cost as much CPU as a LOINC `$lookup` itself (perf, release build).
async fn fhir(state: web::Data<AppState>, request: HttpRequest, payload: web::Payload) -> Result<HttpResponse, ApiError> {
    let Some(segments) = request.path().strip_prefix("/fhir/").and_then(fhir_segments) else {
        return unknown_route(request).await;
    };
    let format = || wire::response_format(&request);
    let method = request.method().clone();
    match (method, segments) {
        (Method::GET, Segments::One(segment)) => rest::get_type_level(state, format()?, request, segment).await,
        (Method::POST, Segments::One(segment)) => rest::post_type_level(state, format()?, request, segment, payload).await,
        (Method::GET, Segments::Two(first, second)) => rest::get_instance_level(state, format()?, request, (first, second)).await,
        (Method::POST, Segments::Two(first, second)) => {
            rest::post_instance_level(state, format()?, request, (first, second), payload).await
        }
        (Method::PUT, Segments::Two(first, second)) => rest::update(state, format()?, request, (first, second), payload).await,
        (Method::DELETE, Segments::Two(first, second)) => rest::delete(state, format()?, request, (first, second)).await,
        (Method::GET, Segments::Three(resource_type, id, operation)) => {
            let caller = Caller::extract(&request).await?;
            operations::instance_get(state, format()?, caller, request, (resource_type, id, operation)).await
        }
        (Method::POST, Segments::Three(resource_type, id, operation)) => {
            let caller = Caller::extract(&request).await?;
            operations::instance_post(state, format()?, caller, request, (resource_type, id, operation), payload).await
        }
        (Method::GET, Segments::History(resource_type, id, version_id)) => {
            rest::vread(state, format()?, request, (resource_type, id, version_id)).await
        }
        _ => unknown_route(request).await,
    }
}

/// The shapes of path under `/fhir/`, percent-decoded.
enum Segments {
    /// `Type`, `$operation`, `_search` at the system level…
    One(String),
    /// `Type/id`, `Type/$operation`, `Type/_search`.
    Two(String, String),
    /// `Type/id/$operation`.
    Three(String, String, String),
    /// `Type/id/_history/version`.
    History(String, String, String),
}

/// The segments of a path under `/fhir/`; `None` for an empty segment, text that is not UTF-8
/// once decoded, or a shape no handler takes.
fn fhir_segments(path: &str) -> Option<Segments> {
    let decoded: Vec<String> = path
        .split('/')
        .map(|segment| {
            let decoded = percent_encoding::percent_decode_str(segment).decode_utf8().ok()?;
            (!decoded.is_empty()).then(|| decoded.into_owned())
        })
        .collect::<Option<_>>()?;
    let mut decoded = decoded.into_iter();
    Some(match (decoded.next(), decoded.next(), decoded.next(), decoded.next(), decoded.next()) {
        (Some(first), None, ..) => Segments::One(first),
        (Some(first), Some(second), None, ..) => Segments::Two(first, second),
        (Some(first), Some(second), Some(third), None, _) => Segments::Three(first, second, third),
        (Some(first), Some(second), Some(history), Some(version), None) if history == "_history" => {
            Segments::History(first, second, version)
        }
        _ => return None,
    })
}

async fn unknown_route(request: HttpRequest) -> Result<actix_web::HttpResponse, ApiError> {
    Err(ApiError::not_found(format!("no such endpoint: {} {}", request.method(), request.path())))
}
