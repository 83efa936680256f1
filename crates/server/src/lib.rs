//! fhirterm's HTTP surface: FHIR REST and the terminology operations over actix-web.
//!
//! # Brief overview
//! - [`configure`] mounts every route on an actix `ServiceConfig`; `main.rs` and the integration
//!   tests both build the app through it, so tests drive exactly what users get.
//! - `wire` negotiates JSON or XML both ways; `error::ApiError` is the one way an error leaves,
//!   always as an OperationOutcome with the right status.
//! - `routes::rest` serves read, create, update, delete and search; `routes::operations` parses
//!   operation parameters and hands them to `store::Terminology`; `routes::metadata` and
//!   `routes::health` answer capability and health.
//!
//! # What this crate does not do
//! No terminology logic lives here: handlers parse, call the store facade, and render.
//!
//! Tests live in `tests/it`.

pub mod cli;
pub mod error;
pub mod logging;
pub mod routes;
pub mod wire;

use actix_web::web;
use std::sync::Arc;
use store::Terminology;

/// Server settings that handlers read.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Largest `$expand` answered without `count`.
    pub too_costly_threshold: usize,
}

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig { max_body_bytes: 64 * 1024 * 1024, too_costly_threshold: store::TOO_COSTLY_DEFAULT }
    }
}

/// What every handler shares.
pub struct AppState {
    pub terminology: Arc<Terminology>,
    pub config: ServerConfig,
}

/// Mounts every route.
pub fn configure(state: web::Data<AppState>) -> impl FnOnce(&mut web::ServiceConfig) {
    move |config: &mut web::ServiceConfig| {
        config.app_data(state).configure(routes::configure);
    }
}
