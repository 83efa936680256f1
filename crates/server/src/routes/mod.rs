//! The route table.

pub mod admin;
pub mod health;
pub mod metadata;
pub mod operations;
pub mod rest;

use crate::error::ApiError;
use actix_web::{web, HttpRequest};

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
        .route("/fhir/{segment}", web::get().to(rest::get_type_level))
        .route("/fhir/{segment}", web::post().to(rest::post_type_level))
        .route("/fhir/{resource_type}/{segment}", web::get().to(rest::get_instance_level))
        .route("/fhir/{resource_type}/{segment}", web::post().to(rest::post_instance_level))
        .route("/fhir/{resource_type}/{id}", web::put().to(rest::update))
        .route("/fhir/{resource_type}/{id}", web::delete().to(rest::delete))
        .route("/fhir/{resource_type}/{id}/_history/{version_id}", web::get().to(rest::vread))
        .route("/fhir/{resource_type}/{id}/{operation}", web::get().to(operations::instance_get))
        .route("/fhir/{resource_type}/{id}/{operation}", web::post().to(operations::instance_post))
        .default_service(web::to(unknown_route));
}

async fn unknown_route(request: HttpRequest) -> Result<actix_web::HttpResponse, ApiError> {
    Err(ApiError::not_found(format!("no such endpoint: {} {}", request.method(), request.path())))
}
