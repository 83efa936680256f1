//! `/health/live` and `/health/ready`.
//!
//! `serve` builds the registry before it binds its port, so a server that answers at all has its
//! indexes; ready then asks the database, and answers 503 with an OperationOutcome when it cannot
//! be reached (a load balancer takes the replica out until it can).

use crate::error::ApiError;
use crate::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde_json::json;

pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "live"}))
}

pub async fn ready(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let terminology = state.terminology.clone();
    let unavailable = |reason: String| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "transient", format!("not ready: {reason}"));
    match web::block(move || terminology.ready()).await {
        Ok(Ok(())) => Ok(HttpResponse::Ok().json(json!({"status": "ready"}))),
        Ok(Err(error)) => Err(unavailable(error.message())),
        Err(error) => Err(unavailable(error.to_string())),
    }
}
