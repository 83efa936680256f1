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
//! - [`app`] wraps the routes in the middleware `serve` uses: request logging (`logging`),
//!   compression and CORS (`cors`); `prometheus` counts requests and serves `/metrics`. `conditional` reads `If-Match` and writes `ETag`s;
//!   `subsetting` applies `_summary` and `_elements`.
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
pub mod conditional;
pub mod console;
pub mod cors;
pub mod error;
pub mod jobs;
pub mod logging;
pub mod prometheus;
pub mod routes;
pub mod subsetting;
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
    /// Where a billing list's category value sets live: `{base}{code_type}-{category}`.
    pub billing_value_set_base: String,
    /// Where a billing list's `custom` code system lives: `{base}{custom system name}`.
    pub billing_code_system_base: String,
}

impl Default for UploadConfig {
    fn default() -> UploadConfig {
        UploadConfig {
            max_upload_bytes: 8 * 1024 * 1024 * 1024,
            staging_dir: std::env::temp_dir().join("fhirterm-staging"),
            max_expansion_ratio: 200,
            max_expanded_bytes: 64 * 1024 * 1024 * 1024,
            billing_value_set_base: model::terminology::billing::DEFAULT_VALUE_SET_BASE.to_owned(),
            billing_code_system_base: model::terminology::billing::DEFAULT_CODE_SYSTEM_BASE.to_owned(),
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
    /// Browser origins that may call the server (`--cors-origins`); none means no CORS.
    pub cors_origins: Vec<String>,
    /// The bearer token `/metrics` asks for (`--metrics-token`); none leaves it open.
    pub metrics_token: Option<String>,
}

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig {
            max_body_bytes: 64 * 1024 * 1024,
            too_costly_threshold: store::TOO_COSTLY_DEFAULT,
            request_time_budget: std::time::Duration::from_secs(30),
            auth: AuthConfig::default(),
            upload: UploadConfig::default(),
            cors_origins: Vec::new(),
            metrics_token: None,
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
    /// The state every handler shares; the first one installs the process-wide metrics recorder.
    pub fn new(terminology: Arc<Terminology>, config: ServerConfig) -> AppState {
        prometheus::install();
        AppState { terminology, config, jobs: jobs::Jobs::default() }
    }
}

/// Puts the FHIR R4 core code systems and value sets compiled into the binary underneath the
/// stored content (see `loaders::builtin`).
/// ISO 3166-1 countries come with it, and so do the grammar code systems: UCUM (listing the core `ucum-common` value set), BCP-47
/// language tags and MIME types (see `store::grammar`).
pub fn with_fhir_core(terminology: Terminology) -> anyhow::Result<Terminology> {
    let mut core = loaders::builtin::fhir_r4_core().map_err(|error| anyhow::anyhow!("built-in FHIR R4 core terminology: {error}"))?;
    core.code_systems.push(loaders::builtin::iso_3166().map_err(|error| anyhow::anyhow!("built-in ISO 3166: {error}"))?);
    let n_code_systems = core.code_systems.len();
    let grammars = grammar_code_systems(&core.resources)?;
    let terminology = terminology
        .with_base_content(core.code_systems, core.resources)
        .map_err(|error| anyhow::anyhow!("built-in FHIR R4 core terminology: {error}"))?
        .with_grammar_code_systems(grammars);
    tracing::info!(source = loaders::builtin::FHIR_R4_CORE_SOURCE, n_code_systems, "built-in terminology in place");
    Ok(terminology)
}

/// The value set whose codes stand for all of UCUM when it is expanded.
const UCUM_COMMON_UNITS: &str = "http://hl7.org/fhir/ValueSet/ucum-common";

/// UCUM, BCP-47 and MIME types, each with the tables compiled into the binary.
fn grammar_code_systems(core_resources: &[serde_json::Value]) -> anyhow::Result<Vec<Arc<dyn store::grammar::GrammarCodeSystem>>> {
    use model::fhir::{array_of, str_of};
    let common_units = core_resources
        .iter()
        .find(|resource| str_of(resource, "url") == Some(UCUM_COMMON_UNITS))
        .ok_or_else(|| anyhow::anyhow!("the built-in FHIR R4 core terminology has no {UCUM_COMMON_UNITS}"))?;
    let units: Vec<(String, Option<String>)> = array_of(common_units.get("compose").unwrap_or(&serde_json::Value::Null), "include")
        .iter()
        .flat_map(|include| array_of(include, "concept"))
        .filter_map(|concept| Some((str_of(concept, "code")?.to_owned(), str_of(concept, "display").map(str::to_owned))))
        .collect();
    let units_source = format!("{UCUM_COMMON_UNITS}|{}", str_of(common_units, "version").unwrap_or_default());
    let ucum = store::grammar::Ucum::new(units, &units_source, str_of(common_units, "status").unwrap_or("active"));

    let languages = loaders::builtin::language_subtags().map_err(|error| anyhow::anyhow!("built-in language subtags: {error}"))?;
    let subtags = languages
        .records
        .into_iter()
        .filter_map(|record| {
            use store::grammar::SubtagKind;
            let kind = match record.kind.as_str() {
                "language" => SubtagKind::Language,
                "extlang" => SubtagKind::ExtLang,
                "script" => SubtagKind::Script,
                "region" => SubtagKind::Region,
                "variant" => SubtagKind::Variant,
                "grandfathered" => SubtagKind::Grandfathered,
                _ => return None,
            };
            Some(store::grammar::Subtag { kind, subtag: record.subtag, description: record.description, deprecated: record.deprecated })
        })
        .collect();
    let language_tags = store::grammar::LanguageTags::new(subtags, languages.common, &languages.common_source, &languages.file_date);

    let media = loaders::builtin::media_types().map_err(|error| anyhow::anyhow!("built-in media types: {error}"))?;
    let mime_types = store::grammar::MimeTypes::new(media.media_types, &media.source);
    tracing::info!(
        ucum = store::grammar::ucum::UCUM_VERSION,
        language_registry = languages.file_date,
        media_types = media.source,
        "grammar code systems in place"
    );
    Ok(vec![Arc::new(ucum), Arc::new(language_tags), Arc::new(mime_types)])
}

/// Mounts every route.
pub fn configure(state: web::Data<AppState>) -> impl FnOnce(&mut web::ServiceConfig) {
    move |config: &mut web::ServiceConfig| {
        config.app_data(state).configure(routes::configure);
    }
}

/// The whole application as `fhirterm serve` runs it: the routes behind request logging,
/// compression and CORS. The integration tests build theirs here too.
pub fn app(
    state: web::Data<AppState>,
) -> actix_web::App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let cors = cors::middleware(&state.config.cors_origins);
    // The last `wrap` is the outermost: every request, CORS preflights included, is logged.
    actix_web::App::new()
        .wrap(actix_web::middleware::from_fn(error::in_request_format))
        .wrap(cors)
        .wrap(actix_web::middleware::Compress::default())
        .wrap(actix_web::middleware::from_fn(logging::log_request))
        .configure(configure(state))
}
