//! `/health/live` and `/health/ready`.

use crate::AppState;
use actix_web::{web, HttpResponse};
use serde_json::json;

pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "live"}))
}

pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let terminology = state.terminology.clone();
    match web::block(move || terminology.ready()).await {
        Ok(Ok(())) => HttpResponse::Ok().json(json!({"status": "ready"})),
        Ok(Err(error)) => HttpResponse::ServiceUnavailable().json(json!({"status": "unavailable", "reason": error.message()})),
        Err(error) => HttpResponse::ServiceUnavailable().json(json!({"status": "unavailable", "reason": error.to_string()})),
    }
}
