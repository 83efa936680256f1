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
//! - `auth` checks JWT bearer tokens and SMART scopes on writes (and on reads when configured),
//!   and guards restricted code systems; `upload` stages multipart uploads to disk and `jobs`
//!   runs them in the background through the same loaders as `fhirterm load`, recording each
//!   job's progress, counts, diagnostics and diff in the store.
//!
//! - `console` serves the administrators' browser console at `/console`, files compiled in;
//!   `routes::admin` adds the per-system overview (`/admin/code-systems`) its dashboard reads.
//!
//! # What this crate does not do
//! No terminology logic lives here: handlers parse, call the store facade, and render.
//!
//! Tests live in `tests/it`.

pub mod auth;
pub mod cli;
pub mod console;
pub mod error;
pub mod jobs;
pub mod logging;
pub mod routes;
pub mod upload;
pub mod wire;

use actix_web::web;
use std::path::PathBuf;
use std::sync::Arc;
use store::Terminology;

pub use auth::AuthConfig;

/// Limits on bulk uploads.
#[derive(Clone, Debug)]
pub struct UploadConfig {
    /// Largest upload (all parts together), in bytes.
    pub max_upload_bytes: u64,
    /// Where parts are staged until their job ends.
    pub staging_dir: PathBuf,
    /// Largest ratio of an archive entry's expanded size to its compressed size.
    pub max_expansion_ratio: u64,
    /// Largest expanded size of all entries of the archives of one upload, in bytes.
    pub max_expanded_bytes: u64,
}

impl Default for UploadConfig {
    fn default() -> UploadConfig {
        UploadConfig {
            max_upload_bytes: 8 * 1024 * 1024 * 1024,
            staging_dir: std::env::temp_dir().join("fhirterm-staging"),
            max_expansion_ratio: 200,
            max_expanded_bytes: 64 * 1024 * 1024 * 1024,
        }
    }
}

/// Server settings that handlers read.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Largest request body accepted, in bytes (uploads have their own limit).
    pub max_body_bytes: usize,
    /// Largest `$expand` answered without `count`.
    pub too_costly_threshold: usize,
    /// How long one operation may run before it answers `too-costly`.
    pub request_time_budget: std::time::Duration,
    /// Tokens, scopes and restricted code systems. The default refuses every write.
    pub auth: AuthConfig,
    pub upload: UploadConfig,
}

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig {
            max_body_bytes: 64 * 1024 * 1024,
            too_costly_threshold: store::TOO_COSTLY_DEFAULT,
            request_time_budget: std::time::Duration::from_secs(30),
            auth: AuthConfig::default(),
            upload: UploadConfig::default(),
        }
    }
}

/// What every handler shares.
pub struct AppState {
    pub terminology: Arc<Terminology>,
    pub config: ServerConfig,
    /// The upload jobs this server runs.
    pub jobs: jobs::Jobs,
}

impl AppState {
    pub fn new(terminology: Arc<Terminology>, config: ServerConfig) -> AppState {
        AppState { terminology, config, jobs: jobs::Jobs::default() }
    }
}

/// Mounts every route.
/// Puts the FHIR R4 core code systems and value sets compiled into the binary underneath the
/// stored content (see `loaders::builtin`).
pub fn with_fhir_core(terminology: Terminology) -> anyhow::Result<Terminology> {
    let core = loaders::builtin::fhir_r4_core().map_err(|error| anyhow::anyhow!("built-in FHIR R4 core terminology: {error}"))?;
    let n_code_systems = core.code_systems.len();
    let terminology = terminology
        .with_base_content(core.code_systems, core.resources)
        .map_err(|error| anyhow::anyhow!("built-in FHIR R4 core terminology: {error}"))?;
    tracing::info!(source = loaders::builtin::FHIR_R4_CORE_SOURCE, n_code_systems, "built-in terminology in place");
    Ok(terminology)
}

pub fn configure(state: web::Data<AppState>) -> impl FnOnce(&mut web::ServiceConfig) {
    move |config: &mut web::ServiceConfig| {
        config.app_data(state).configure(routes::configure);
    }
}
