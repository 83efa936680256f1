//! The `fhirterm` command line: `serve`, `migrate` and `load`.

use crate::{logging, AppState, AuthConfig, ServerConfig, UploadConfig};
use actix_web::{web, HttpServer};
use anyhow::Context as _;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::sync::Arc;
use store::Terminology;

#[derive(Parser, Debug)]
#[command(name = "fhirterm", version, about = "A FHIR R4 terminology server")]
pub struct Cli {
    /// Log as JSON lines instead of human-readable text.
    #[arg(long, global = true, env = "FHIRTERM_LOG_JSON")]
    pub log_json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve FHIR REST and the terminology operations under /fhir.
    Serve {
        #[arg(long, env = "FHIRTERM_LISTEN", default_value = "127.0.0.1:8080")]
        listen: String,
        #[arg(long, env = "FHIRTERM_DATABASE_URL", default_value = "sqlite://fhirterm.db")]
        database: String,
        /// Largest request body, in bytes.
        #[arg(long, env = "FHIRTERM_MAX_BODY_BYTES", default_value_t = 64 * 1024 * 1024)]
        max_body_bytes: usize,
        /// Largest `$expand` answered without `count`; larger ones answer too-costly.
        #[arg(long, env = "FHIRTERM_EXPANSION_LIMIT", default_value_t = store::TOO_COSTLY_DEFAULT)]
        expansion_limit: usize,
        /// How long one operation may run, in seconds, before it answers too-costly.
        #[arg(long, env = "FHIRTERM_REQUEST_TIME_BUDGET", default_value_t = 30)]
        request_time_budget: u64,
        /// Worker threads (default: one per core).
        #[arg(long, env = "FHIRTERM_WORKERS")]
        workers: Option<usize>,
        /// Leave out the FHIR R4 core code systems and value sets compiled into the binary.
        #[arg(long, env = "FHIRTERM_NO_BUILTIN")]
        no_builtin: bool,
        /// Browser origins allowed to call the server, comma-separated (`https://app.example.org`),
        /// or `*` for any; none by default, which sends no CORS headers at all.
        #[arg(long, env = "FHIRTERM_CORS_ORIGINS", default_value = "")]
        cors_origins: String,
        /// A bearer token that `/metrics` asks for; without one `/metrics` is open.
        #[arg(long, env = "FHIRTERM_METRICS_TOKEN", hide_env_values = true)]
        metrics_token: Option<String>,
        #[command(flatten)]
        auth: AuthArgs,
        #[command(flatten)]
        upload: UploadArgs,
        #[command(flatten)]
        index: IndexArgs,
    },
    /// Create or upgrade the database schema, then exit.
    Migrate {
        #[arg(long, env = "FHIRTERM_DATABASE_URL", default_value = "sqlite://fhirterm.db")]
        database: String,
    },
    /// Load a release: FORMAT is one of the loader names or `auto`; PATH is a file, folder, zip,
    /// package tarball, or a FHIR package as `name@version` fetched with npm.
    Load {
        format: String,
        #[arg(required = true)]
        paths: Vec<String>,
        /// Override the version the release names itself.
        #[arg(long)]
        version: Option<String>,
        /// Make the loaded version the one that answers when no version is named (without it, a
        /// system with no current version marked answers with its latest).
        #[arg(long)]
        make_current: bool,
        #[arg(long, env = "FHIRTERM_DATABASE_URL", default_value = "sqlite://fhirterm.db")]
        database: String,
        /// For a billing list (`csv`): the code type of rows that name none (`cpt`, `icd10`,
        /// `hcpcs` or `custom`).
        #[arg(long)]
        code_type: Option<String>,
        /// For a billing list: the name of the `custom` code system (the last segment of its URL).
        #[arg(long, default_value = model::terminology::billing::DEFAULT_CUSTOM_SYSTEM)]
        custom_system: String,
        #[command(flatten)]
        billing: BillingArgs,
        #[command(flatten)]
        index: IndexArgs,
    },
}

/// Where the index of each stored code system is saved as a file, read back at start instead of
/// its rows.
#[derive(clap::Args, Debug)]
pub struct IndexArgs {
    /// The folder of saved index files (default: beside a SQLite database, `FILE.index/`; for
    /// PostgreSQL, under the user's cache folder, `fhirterm/index/postgres-HOST-PORT-DATABASE/`).
    #[arg(long, env = "FHIRTERM_INDEX_DIR")]
    pub index_dir: Option<PathBuf>,
    /// Neither save nor read index files: every start reads the database rows.
    #[arg(long, env = "FHIRTERM_NO_INDEX_FILES", conflicts_with = "index_dir")]
    pub no_index_files: bool,
}

impl IndexArgs {
    /// The folder for the database at `database`, or `None` when index files are off (or the
    /// database is in memory).
    pub fn dir_for(&self, database: &str) -> Option<PathBuf> {
        if self.no_index_files {
            return None;
        }
        self.index_dir.clone().or_else(|| store::default_index_dir(database))
    }
}

/// Who may write and read: tokens, scopes and restricted code systems.
#[derive(clap::Args, Debug)]
pub struct AuthArgs {
    /// Accept writes without a token (local development and the conformance run only).
    #[arg(long, env = "FHIRTERM_ALLOW_ANONYMOUS_WRITES")]
    pub allow_anonymous_writes: bool,
    /// The HS256 shared secret itself.
    #[arg(long, env = "FHIRTERM_JWT_HS256_SECRET", hide_env_values = true)]
    pub jwt_hs256_secret: Option<String>,
    /// A PEM file holding an RS256 (RSA) or ES256 (P-256) public key.
    #[arg(long, env = "FHIRTERM_JWT_PUBLIC_KEY")]
    pub jwt_public_key: Option<PathBuf>,
    /// A JWKS file with RS256 and ES256 public keys.
    #[arg(long, env = "FHIRTERM_JWT_JWKS")]
    pub jwt_jwks: Option<PathBuf>,
    /// The `iss` tokens must carry.
    #[arg(long, env = "FHIRTERM_JWT_ISSUER")]
    pub jwt_issuer: Option<String>,
    /// The `aud` tokens must carry.
    #[arg(long, env = "FHIRTERM_JWT_AUDIENCE")]
    pub jwt_audience: Option<String>,
    /// Reads and operations need a token with read scopes.
    #[arg(long, env = "FHIRTERM_READ_REQUIRES_AUTH")]
    pub read_requires_auth: bool,
    /// Restricted code systems, comma-separated: `URL` or `URL=LICENCE-SCOPE`.
    #[arg(long, env = "FHIRTERM_RESTRICTED_SYSTEMS")]
    pub restricted_systems: Option<String>,
}

/// Where the resources a billing list becomes live.
#[derive(clap::Args, Debug)]
pub struct BillingArgs {
    /// Base URL of the value sets a billing list's categories become (`{base}{code_type}-{category}`).
    #[arg(long, env = "FHIRTERM_BILLING_VALUE_SET_BASE", default_value = model::terminology::billing::DEFAULT_VALUE_SET_BASE)]
    pub billing_value_set_base: String,
    /// Base URL of a billing list's `custom` code system (`{base}{custom system name}`).
    #[arg(long, env = "FHIRTERM_BILLING_CODE_SYSTEM_BASE", default_value = model::terminology::billing::DEFAULT_CODE_SYSTEM_BASE)]
    pub billing_code_system_base: String,
}

/// Limits on bulk uploads.
#[derive(clap::Args, Debug)]
pub struct UploadArgs {
    /// Largest upload, in bytes (all parts together).
    #[arg(long, env = "FHIRTERM_MAX_UPLOAD_BYTES", default_value_t = 8 * 1024 * 1024 * 1024)]
    pub max_upload_bytes: u64,
    /// Where uploads are staged until their job ends (default: a folder in the temp dir).
    #[arg(long, env = "FHIRTERM_STAGING_DIR")]
    pub staging_dir: Option<PathBuf>,
    /// Largest expanded/compressed ratio of an archive entry.
    #[arg(long, env = "FHIRTERM_MAX_EXPANSION_RATIO", default_value_t = 200)]
    pub max_expansion_ratio: u64,
    /// Largest expanded size of the archives of one upload, in bytes.
    #[arg(long, env = "FHIRTERM_MAX_EXPANDED_BYTES", default_value_t = 64 * 1024 * 1024 * 1024)]
    pub max_expanded_bytes: u64,
    #[command(flatten)]
    pub billing: BillingArgs,
}

impl AuthArgs {
    pub fn to_config(&self) -> anyhow::Result<AuthConfig> {
        let mut config = AuthConfig {
            allow_anonymous_writes: self.allow_anonymous_writes,
            read_requires_auth: self.read_requires_auth,
            issuer: self.jwt_issuer.clone().filter(|text| !text.is_empty()),
            audience: self.jwt_audience.clone().filter(|text| !text.is_empty()),
            ..AuthConfig::default()
        };
        if let Some(secret) = self.jwt_hs256_secret.as_deref().filter(|secret| !secret.is_empty()) {
            if secret.len() < 32 {
                tracing::warn!("FHIRTERM_JWT_HS256_SECRET is shorter than 32 bytes; use a longer random secret");
            }
            config.add_hs256_secret(secret.as_bytes());
        }
        if let Some(path) = &self.jwt_public_key {
            let pem = std::fs::read(path).with_context(|| format!("cannot read the public key {}", path.display()))?;
            config.add_public_key_pem(&pem, &path.display().to_string()).map_err(|error| anyhow::anyhow!(error))?;
        }
        if let Some(path) = &self.jwt_jwks {
            let text = std::fs::read_to_string(path).with_context(|| format!("cannot read the JWKS {}", path.display()))?;
            config.add_jwks(&text, &path.display().to_string()).map_err(|error| anyhow::anyhow!(error))?;
        }
        if let Some(list) = &self.restricted_systems {
            config.add_restricted(list);
        }
        Ok(config)
    }
}

impl UploadArgs {
    pub fn to_config(&self) -> UploadConfig {
        let defaults = UploadConfig::default();
        UploadConfig {
            max_upload_bytes: self.max_upload_bytes,
            staging_dir: self.staging_dir.clone().unwrap_or(defaults.staging_dir),
            max_expansion_ratio: self.max_expansion_ratio,
            max_expanded_bytes: self.max_expanded_bytes,
            billing_value_set_base: self.billing.billing_value_set_base.clone(),
            billing_code_system_base: self.billing.billing_code_system_base.clone(),
        }
    }
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    logging::init(cli.log_json);
    match cli.command {
        Command::Serve {
            listen,
            database,
            max_body_bytes,
            expansion_limit,
            request_time_budget,
            workers,
            no_builtin,
            cors_origins,
            metrics_token,
            auth,
            upload,
            index,
        } => {
            let config = ServerConfig {
                max_body_bytes,
                too_costly_threshold: expansion_limit,
                request_time_budget: std::time::Duration::from_secs(request_time_budget),
                auth: auth.to_config()?,
                upload: upload.to_config(),
                cors_origins: crate::cors::parse_origins(&cors_origins).map_err(|message| anyhow::anyhow!(message))?,
                metrics_token: metrics_token.filter(|token| !token.is_empty()),
            };
            let index_dir = index.dir_for(&database);
            serve(&listen, &database, index_dir.as_deref(), config, workers, !no_builtin)
        }
        Command::Migrate { database } => {
            open_database(&database)?;
            println!("database {} is migrated", store::db::redact(&database));
            Ok(())
        }
        Command::Load { format, paths, version, make_current, database, code_type, custom_system, billing, index } => {
            let billing_load = BillingLoad { code_type, custom_system, billing };
            load(&format, &paths, version, make_current, &database, index.dir_for(&database).as_deref(), &billing_load)
        }
    }
}

/// Opens and migrates the database; the error names the URL, without its password.
fn open_database(database: &str) -> anyhow::Result<Terminology> {
    open_database_with(database, Terminology::open)
}

/// As [`open_database`], opening with `open`.
fn open_database_with(database: &str, open: impl FnOnce(&str) -> Result<Terminology, store::StoreError>) -> anyhow::Result<Terminology> {
    open(database).map_err(|error| {
        let shown = store::db::redact(database);
        let message = error.to_string();
        if message.contains(&shown) {
            anyhow::anyhow!(message)
        } else {
            anyhow::anyhow!("{shown}: {message}")
        }
    })
}

fn serve(
    listen: &str,
    database: &str,
    index_dir: Option<&std::path::Path>,
    config: ServerConfig,
    workers: Option<usize>,
    builtin: bool,
) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    // The built-in content goes in before the stored content is read, so that the registry is
    // built once, over both.
    let mut terminology = open_database_with(database, |url| Terminology::open_unread(url, index_dir))?;
    if builtin {
        terminology = crate::with_fhir_core(terminology)?;
    }
    let terminology = Arc::new(open_database_with(database, |_| terminology.reload().map(|()| terminology))?);
    let startup_ms = started.elapsed().as_millis() as u64;
    let sources = terminology.index_source_counts();
    let count = |source: store::IndexSource| sources.get(&source).copied().unwrap_or(0);
    tracing::info!(
        database = %store::db::redact(database),
        backend = terminology.backend_name(),
        code_systems = terminology.registry().code_system_list().len(),
        from_saved_files = count(store::IndexSource::SavedFile),
        from_rows = count(store::IndexSource::Rows),
        index_dir = index_dir.map(|dir| dir.display().to_string()).unwrap_or_else(|| "none".to_owned()),
        startup_ms,
        "indexes built"
    );
    let n_interrupted =
        terminology.fail_interrupted_jobs().map_err(|error| anyhow::anyhow!("cannot check for interrupted jobs: {error}"))?;
    if n_interrupted > 0 {
        tracing::warn!(n_interrupted, "upload jobs that were queued or running when the server stopped are marked failed");
    }
    // Staging folders left behind belong to jobs that cannot resume (they are named by job id).
    if let Ok(entries) = std::fs::read_dir(&config.upload.staging_dir) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.len() == 32 && name.chars().all(|c| c.is_ascii_hexdigit()) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
    tracing::info!(mode = %config.auth.mode_description(), "auth");
    if config.auth.allow_anonymous_writes {
        tracing::warn!("--allow-anonymous-writes: anyone who can reach this server can change its content");
    }
    let state = web::Data::new(AppState::new(terminology.clone(), config));
    // On PostgreSQL, writes by other replicas arrive as notifications within a moment; the 5 s
    // poll below stays as the fallback (and is all there is on SQLite).
    let change_listener = store::ChangeListener::start(&terminology);
    if change_listener.is_some() {
        tracing::info!("listening for writes by other replicas (PostgreSQL NOTIFY)");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let refresher = terminology.clone();
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(std::time::Duration::from_secs(5));
            loop {
                interval.tick().await;
                // Histogram samples wait in the recorder until drained; drain them even when
                // nothing scrapes /metrics.
                if let Some(handle) = crate::prometheus::install() {
                    handle.run_upkeep();
                }
                let terminology = refresher.clone();
                match tokio::task::spawn_blocking(move || terminology.refresh_if_changed()).await {
                    Ok(Ok(true)) => {
                        tracing::info!("indexes rebuilt after a write by another replica")
                    }
                    Ok(Err(error)) => {
                        tracing::warn!(%error, "cannot check the database for changes")
                    }
                    _ => {}
                }
            }
        });
        let mut server = HttpServer::new(move || crate::app(state.clone()));
        if let Some(workers) = workers {
            server = server.workers(workers);
        }
        // A stop signal (SIGTERM, SIGINT) closes the listener at once, lets requests in flight
        // finish for at most this long (operations stop at their budget), then exits.
        server = server.shutdown_timeout(10);
        let server = server.bind(listen).with_context(|| format!("cannot listen on {listen}"))?;
        tracing::info!(listen, "fhirterm is serving FHIR at http://{listen}/fhir");
        server.run().await.context("server failed")
    })
}

/// Fetches a FHIR package `name@version` from the npm registry into a temporary folder.
fn fetch_package(spec: &str, into: &std::path::Path) -> anyhow::Result<PathBuf> {
    // `--loglevel=error`, not `--silent`: npm's own reason is what the user needs when it fails.
    let output = std::process::Command::new("npm")
        .args(["pack", "--loglevel=error", spec, "--pack-destination"])
        .arg(into)
        .output()
        .with_context(|| format!("{spec}: cannot run npm to fetch the package"))?;
    if !output.status.success() {
        anyhow::bail!("{spec}: npm could not fetch the package: {}", npm_reason(&String::from_utf8_lossy(&output.stderr)));
    }
    let file_name = String::from_utf8_lossy(&output.stdout).trim().lines().last().unwrap_or_default().to_owned();
    Ok(into.join(file_name))
}

/// npm's error lines made one line: the `npm error` prefixes and repeated lines dropped.
fn npm_reason(stderr: &str) -> String {
    let mut lines: Vec<&str> = Vec::new();
    for line in stderr.lines() {
        let line = line.trim().trim_start_matches("npm error").trim_start_matches("npm ERR!").trim();
        if !line.is_empty() && !line.starts_with("A complete log") && !lines.contains(&line) {
            lines.push(line);
        }
    }
    if lines.is_empty() {
        "npm gave no reason".to_owned()
    } else {
        lines.join("; ")
    }
}

/// What `load` needs for a billing list beyond any release.
struct BillingLoad {
    code_type: Option<String>,
    custom_system: String,
    billing: BillingArgs,
}

fn load(
    format_name: &str,
    raw_paths: &[String],
    version: Option<String>,
    make_current: bool,
    database: &str,
    index_dir: Option<&std::path::Path>,
    billing_load: &BillingLoad,
) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let scratch = std::env::temp_dir().join(format!("fhirterm-load-{}", std::process::id()));
    let mut paths = Vec::new();
    for raw in raw_paths {
        let path = PathBuf::from(raw);
        if !path.exists() && raw.contains('@') && !raw.contains('/') {
            std::fs::create_dir_all(&scratch)?;
            paths.push(fetch_package(raw, &scratch)?);
        } else {
            paths.push(path);
        }
    }
    let reading = ReadProgress::start(&format!("reading {}", raw_paths.join(" ")), plain_size_of(&paths));
    let count = |n_bytes: usize| reading.add(n_bytes);
    let source = loaders::open_paths(&paths).map_err(|error| anyhow::anyhow!("{error}"))?;
    let source = loaders::CountingSource::new(source, &count);
    let format = if format_name == "auto" {
        loaders::detect(&source).map_err(|error| anyhow::anyhow!("{error}"))?
    } else {
        loaders::Format::parse(format_name)
            .ok_or_else(|| anyhow::anyhow!("unknown format '{format_name}': use one of {} or auto", loaders::Format::NAMES.join(", ")))?
    };
    if format == loaders::Format::Csv {
        let code_type = match &billing_load.code_type {
            None => None,
            Some(text) => Some(model::terminology::billing::CodeType::parse(text).ok_or_else(|| {
                anyhow::anyhow!("unknown --code-type '{text}': use one of {}", model::terminology::billing::CodeType::NAMES.join(", "))
            })?),
        };
        let (sheet, warnings) = loaders::csv_codes::read_sheet(&source, code_type).map_err(|error| anyhow::anyhow!("{error}"))?;
        reading.finish(&format!("{} rows, {} unreadable", sheet.rows.len(), sheet.problems.len()));
        return load_billing(sheet, warnings, version, make_current, database, index_dir, billing_load, started);
    }
    if billing_load.code_type.is_some() {
        anyhow::bail!("--code-type goes with a billing list (format csv), not {format_name}");
    }
    let loaded = loaders::load(format, &source, &loaders::LoadOptions { version }).map_err(|error| anyhow::anyhow!("{error}"))?;
    let n_concepts: usize = loaded.code_systems.iter().map(|code_system| code_system.concepts.len()).sum();
    reading.finish(&format!("{n_concepts} concepts, {} other resources, {} diagnostics", loaded.resources.len(), loaded.diagnostics.len()));
    let _ = std::fs::remove_dir_all(&scratch);
    for diagnostic in &loaded.diagnostics {
        eprintln!("fhirterm: warning: {diagnostic}");
    }
    for dependency in &loaded.dependencies {
        eprintln!("fhirterm: note: the package depends on {dependency} (load it separately if you need it)");
    }
    let parsed_in = started.elapsed();
    let phase = Progress::start(&format!("storing into {}", store::db::redact(database)));
    // Only stores: what the database already holds is not read into indexes.
    let terminology = open_database_with(database, |url| Terminology::open_for_loading_with_index_dir(url, index_dir))?;
    let summary =
        terminology.load_release(loaded.code_systems, loaded.resources, make_current).map_err(|error| anyhow::anyhow!("{error}"))?;
    phase.finish("one transaction, committed");
    if let Some(index_dir) = terminology.index_dir() {
        // The next start reads the files instead of the rows; a file that cannot be written is
        // only a warning, and that start reads the rows.
        let saving = Progress::start(&format!("saving the index files in {}", index_dir.display()));
        terminology.wait_for_saved_indexes();
        saving.finish("written");
    }
    println!(
        "loaded {} code systems ({} concepts), {} value sets, {} concept maps with {} diagnostics in {:.2}s (parse {:.2}s)",
        summary.n_code_systems,
        summary.n_concepts,
        summary.n_value_sets,
        summary.n_concept_maps,
        loaded.diagnostics.len(),
        started.elapsed().as_secs_f64(),
        parsed_in.as_secs_f64()
    );
    Ok(())
}

/// `load csv`: the billing list checked against the releases in the database; any bad row stores
/// nothing, and each is printed on a line of its own naming file, line and value.
#[allow(clippy::too_many_arguments)]
fn load_billing(
    sheet: model::terminology::billing::BillingSheet,
    warnings: Vec<loaders::Diagnostic>,
    version: Option<String>,
    make_current: bool,
    database: &str,
    index_dir: Option<&std::path::Path>,
    billing_load: &BillingLoad,
    started: std::time::Instant,
) -> anyhow::Result<()> {
    for warning in &warnings {
        eprintln!("fhirterm: warning: {warning}");
    }
    // The list is checked against the releases stored, so they are read, from their saved index
    // files where there are.
    let terminology = open_database_with(database, |url| Terminology::open_with_index_dir(url, index_dir))?;
    let options = store::BillingOptions {
        value_set_base: billing_load.billing.billing_value_set_base.clone(),
        code_system_base: billing_load.billing.billing_code_system_base.clone(),
        custom_system: billing_load.custom_system.clone(),
        version,
        ..store::BillingOptions::default()
    };
    let plan = match terminology.check_billing(&sheet, &options) {
        Ok(plan) => plan,
        Err(rejected) => {
            for problem in &rejected.problems {
                eprintln!("fhirterm: error: {problem}");
            }
            anyhow::bail!("{rejected}");
        }
    };
    for warning in &plan.warnings {
        eprintln!("fhirterm: warning: {warning}");
    }
    let summary_line = plan.summary();
    let phase = Progress::start(&format!("storing into {}", store::db::redact(database)));
    let summary = terminology.store_billing(plan, make_current).map_err(|error| anyhow::anyhow!("{error}"))?;
    phase.finish("one transaction, committed");
    terminology.wait_for_saved_indexes();
    println!(
        "{summary_line}; stored {} code systems ({} concepts), {} value sets in {:.1}s",
        summary.n_code_systems,
        summary.n_concepts,
        summary.n_value_sets,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The total size of the files a load reads, when they are all plain files or folders of them (an
/// archive is read decompressed, so its size on disk says nothing of the bytes to come).
fn plain_size_of(paths: &[PathBuf]) -> Option<u64> {
    fn size(path: &std::path::Path) -> Option<u64> {
        let metadata = std::fs::metadata(path).ok()?;
        if metadata.is_dir() {
            let mut total = 0;
            for entry in std::fs::read_dir(path).ok()?.flatten() {
                total += size(&entry.path())?;
            }
            return Some(total);
        }
        let name = path.to_string_lossy().to_ascii_lowercase();
        let archive = [".zip", ".tgz", ".gz", ".tar"].iter().any(|extension| name.ends_with(extension));
        (!archive).then_some(metadata.len())
    }
    paths.iter().map(|path| size(path)).sum()
}

/// Progress of reading a release, by the bytes the loader has read: on a terminal a live bar with
/// bytes, rate and time left (a spinner when the total is not known); otherwise a plain line every
/// five seconds, for logs and CI.
struct ReadProgress {
    label: String,
    started: std::time::Instant,
    bytes_read: std::sync::atomic::AtomicU64,
    bar: Option<indicatif::ProgressBar>,
    last_line: std::sync::Mutex<std::time::Instant>,
}

impl ReadProgress {
    fn start(label: &str, total: Option<u64>) -> ReadProgress {
        use std::io::IsTerminal;
        let bar = std::io::stderr().is_terminal().then(|| {
            let (bar, template) = match total {
                Some(total) => (indicatif::ProgressBar::new(total), "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}, {eta} left"),
                None => (indicatif::ProgressBar::new_spinner(), "{spinner} {msg} {bytes} {bytes_per_sec} {elapsed}"),
            };
            bar.set_style(indicatif::ProgressStyle::with_template(template).unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()));
            bar.set_message(label.to_owned());
            bar.enable_steady_tick(std::time::Duration::from_millis(100));
            bar
        });
        if bar.is_none() {
            eprintln!("fhirterm: {label} ...");
        }
        let now = std::time::Instant::now();
        ReadProgress { label: label.to_owned(), started: now, bytes_read: 0.into(), bar, last_line: std::sync::Mutex::new(now) }
    }

    fn add(&self, n_bytes: usize) {
        let bytes_read = self.bytes_read.fetch_add(n_bytes as u64, std::sync::atomic::Ordering::Relaxed) + n_bytes as u64;
        if let Some(bar) = &self.bar {
            bar.inc(n_bytes as u64);
            return;
        }
        let mut last_line = self.last_line.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if last_line.elapsed() >= std::time::Duration::from_secs(5) {
            *last_line = std::time::Instant::now();
            let seconds = self.started.elapsed().as_secs_f64().max(0.001);
            eprintln!("fhirterm: {}: {:.1} MB read, {:.1} MB/s", self.label, bytes_read as f64 / 1e6, bytes_read as f64 / 1e6 / seconds);
        }
    }

    fn finish(self, outcome: &str) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        let bytes_read = self.bytes_read.load(std::sync::atomic::Ordering::Relaxed);
        eprintln!(
            "fhirterm: {} done in {:.1}s ({:.1} MB read): {outcome}",
            self.label,
            self.started.elapsed().as_secs_f64(),
            bytes_read as f64 / 1e6
        );
    }
}

/// Progress of one phase of a load on stderr: a live line with the elapsed time on a terminal,
/// plain start and finish lines otherwise (logs, CI).
struct Progress {
    label: String,
    started: std::time::Instant,
    ticker: Option<(std::sync::Arc<std::sync::atomic::AtomicBool>, std::thread::JoinHandle<()>)>,
}

impl Progress {
    fn start(label: &str) -> Progress {
        use std::io::IsTerminal;
        let started = std::time::Instant::now();
        let ticker = if std::io::stderr().is_terminal() {
            let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
            let done_flag = done.clone();
            let text = label.to_owned();
            let handle = std::thread::spawn(move || {
                let frames = ['|', '/', '-', '\\'];
                let mut frame = 0;
                while !done_flag.load(std::sync::atomic::Ordering::Relaxed) {
                    eprint!("\r{} {text} {:.1}s ", frames[frame % frames.len()], started.elapsed().as_secs_f64());
                    frame += 1;
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
            });
            Some((done, handle))
        } else {
            eprintln!("fhirterm: {label} ...");
            None
        };
        Progress { label: label.to_owned(), started, ticker }
    }

    fn finish(self, outcome: &str) {
        if let Some((done, handle)) = self.ticker {
            done.store(true, std::sync::atomic::Ordering::Relaxed);
            let _ = handle.join();
            eprint!("\r");
        }
        eprintln!("fhirterm: {} done in {:.1}s: {outcome}", self.label, self.started.elapsed().as_secs_f64());
    }
}

#[cfg(test)]
mod tests {
    use super::npm_reason;

    #[test]
    fn npm_errors_become_one_line() {
        let stderr = "npm error code E404\nnpm error 404 Not Found - GET https://registry.npmjs.org/x\nnpm error 404\nnpm error 404  The requested resource 'x@9' could not be found\nnpm error A complete log of this run can be found in: /root/.npm/_logs/x.log\n";
        assert_eq!(
            npm_reason(stderr),
            "code E404; 404 Not Found - GET https://registry.npmjs.org/x; 404; 404  The requested resource 'x@9' could not be found"
        );
        assert_eq!(npm_reason(""), "npm gave no reason");
    }
}
