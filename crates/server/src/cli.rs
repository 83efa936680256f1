//! The `fhirterm` command line: `serve`, `migrate` and `load`.

use crate::{configure, logging, AppState, ServerConfig};
use actix_web::{middleware, web, App, HttpServer};
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
        /// Worker threads (default: one per core).
        #[arg(long, env = "FHIRTERM_WORKERS")]
        workers: Option<usize>,
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
        #[arg(long, env = "FHIRTERM_DATABASE_URL", default_value = "sqlite://fhirterm.db")]
        database: String,
    },
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    logging::init(cli.log_json);
    match cli.command {
        Command::Serve { listen, database, max_body_bytes, expansion_limit, workers } => {
            serve(&listen, &database, ServerConfig { max_body_bytes, too_costly_threshold: expansion_limit }, workers)
        }
        Command::Migrate { database } => {
            Terminology::open(&database).map_err(|error| anyhow::anyhow!("{}: {error}", store::db::redact(&database)))?;
            println!("database {} is migrated", store::db::redact(&database));
            Ok(())
        }
        Command::Load { format, paths, version, database } => load(&format, &paths, version, &database),
    }
}

fn serve(listen: &str, database: &str, config: ServerConfig, workers: Option<usize>) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let terminology = Arc::new(Terminology::open(database).map_err(|error| anyhow::anyhow!("{}: {error}", store::db::redact(database)))?);
    tracing::info!(
        database = %store::db::redact(database),
        backend = terminology.backend_name(),
        code_systems = terminology.registry().code_system_list().len(),
        startup_ms = started.elapsed().as_millis() as u64,
        "indexes built"
    );
    let state = web::Data::new(AppState { terminology: terminology.clone(), config });
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let refresher = terminology.clone();
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(std::time::Duration::from_secs(5));
            loop {
                interval.tick().await;
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
        let mut server = HttpServer::new(move || {
            App::new()
                .wrap(middleware::from_fn(logging::log_request))
                .wrap(middleware::Compress::default())
                .configure(configure(state.clone()))
        });
        if let Some(workers) = workers {
            server = server.workers(workers);
        }
        let server = server.bind(listen).with_context(|| format!("cannot listen on {listen}"))?;
        tracing::info!(listen, "fhirterm is serving FHIR at http://{listen}/fhir");
        server.run().await.context("server failed")
    })
}

/// Fetches a FHIR package `name@version` from the npm registry into a temporary folder.
fn fetch_package(spec: &str, into: &std::path::Path) -> anyhow::Result<PathBuf> {
    let output = std::process::Command::new("npm")
        .args(["pack", "--silent", spec, "--pack-destination"])
        .arg(into)
        .output()
        .with_context(|| format!("{spec}: cannot run npm to fetch the package"))?;
    if !output.status.success() {
        anyhow::bail!("{spec}: npm could not fetch the package: {}", String::from_utf8_lossy(&output.stderr).trim());
    }
    let file_name = String::from_utf8_lossy(&output.stdout).trim().lines().last().unwrap_or_default().to_owned();
    Ok(into.join(file_name))
}

fn load(format_name: &str, raw_paths: &[String], version: Option<String>, database: &str) -> anyhow::Result<()> {
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
    let source = loaders::open_paths(&paths).map_err(|error| anyhow::anyhow!("{error}"))?;
    let format = if format_name == "auto" {
        loaders::detect(source.as_ref()).map_err(|error| anyhow::anyhow!("{error}"))?
    } else {
        loaders::Format::parse(format_name)
            .ok_or_else(|| anyhow::anyhow!("unknown format '{format_name}': use one of {} or auto", loaders::Format::NAMES.join(", ")))?
    };
    let loaded = loaders::load(format, source.as_ref(), &loaders::LoadOptions { version }).map_err(|error| anyhow::anyhow!("{error}"))?;
    let _ = std::fs::remove_dir_all(&scratch);
    for diagnostic in &loaded.diagnostics {
        eprintln!("fhirterm: warning: {diagnostic}");
    }
    for dependency in &loaded.dependencies {
        eprintln!("fhirterm: note: the package depends on {dependency} (load it separately if you need it)");
    }
    let parsed_in = started.elapsed();
    let terminology = Terminology::open(database).map_err(|error| anyhow::anyhow!("{}: {error}", store::db::redact(database)))?;
    let summary = terminology.load(loaded.code_systems, loaded.resources).map_err(|error| anyhow::anyhow!("{error}"))?;
    println!(
        "loaded {} code systems ({} concepts), {} value sets, {} concept maps with {} diagnostics in {:.1}s (parse {:.1}s)",
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
