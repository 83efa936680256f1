//! Upload jobs: where `loaders` output meets `store`, in the background.
//!
//! # Lifecycle
//! 1. `upload` stages the parts on disk, checks them (size, archive guards, format name) and
//!    stores a job row as `queued`; the client gets `202 Accepted` and `Location: /admin/jobs/{id}`.
//! 2. [`Jobs::submit`] runs the job on tokio's blocking pool, one job at a time per server:
//!    `running` through the phases `parsing` (bytes read so far are counted through a wrapping
//!    [`loaders::Source`]), `diffing` (against the version served now), and `storing` (one
//!    transaction and one registry swap, in `Terminology::load`).
//! 3. It ends `succeeded` (with counts, diagnostics and diff) or `failed` (with the reason); either
//!    way the staged files are deleted and an audit entry is written. A failure at any point
//!    leaves the store and the served content as they were, because nothing is written before the
//!    single load transaction. A dry run stops after diffing.
//! 4. A server that stops mid-job leaves a `queued` or `running` row behind; `fhirterm serve`
//!    marks those failed on start (`Terminology::fail_interrupted_jobs`).

use crate::auth::{Action, Principal};
use crate::UploadConfig;
use model::Json;
use serde_json::json;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use store::{AuditEntry, JobRecord, JobState, JobUpdate, LoadSummary, Terminology};

/// How many diagnostics and diff entries per list a job keeps.
pub const MAX_KEPT: usize = 1000;

/// The job runner: at most one job loads at a time, so that two releases never race for the
/// write lock and progress stays readable.
#[derive(Default)]
pub struct Jobs {
    run_lock: Arc<Mutex<()>>,
}

/// Everything a job needs, fixed when it is accepted.
pub struct JobSpec {
    pub id: String,
    /// A loader name or `auto`.
    pub format: String,
    pub version: Option<String>,
    pub dry_run: bool,
    pub make_current: bool,
    /// For a billing list: the code type of rows that name none.
    pub code_type: Option<model::terminology::billing::CodeType>,
    /// For a billing list: the name of the `custom` code system.
    pub custom_system: String,
    pub principal: Principal,
    pub paths: Vec<PathBuf>,
    /// The job's staging folder, deleted when the job ends.
    pub staging: PathBuf,
    pub limits: UploadConfig,
}

impl Jobs {
    /// Starts the job in the background and returns at once.
    pub fn submit(&self, terminology: Arc<Terminology>, spec: JobSpec) {
        let run_lock = self.run_lock.clone();
        // The join handle is dropped: the job outlives the request, and reports through its row.
        let _detached = tokio::task::spawn_blocking(move || {
            let _one_at_a_time = run_lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            run(&terminology, spec);
        });
    }
}

/// The bytes a job's loader has read, written to the job row at most every 250 ms.
struct Progress<'a> {
    terminology: &'a Terminology,
    job_id: &'a str,
    bytes_done: AtomicU64,
    last_report: Mutex<Instant>,
}

impl Progress<'_> {
    fn add(&self, n_bytes: usize) {
        let bytes_done = self.bytes_done.fetch_add(n_bytes as u64, Ordering::Relaxed) + n_bytes as u64;
        let mut last_report = self.last_report.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if last_report.elapsed() >= Duration::from_millis(250) {
            *last_report = Instant::now();
            let update = JobUpdate { bytes_done: Some(bytes_done as i64), ..JobUpdate::default() };
            if let Err(error) = self.terminology.update_job(self.job_id, &update) {
                tracing::warn!(job = self.job_id, %error, "cannot record job progress");
            }
        }
    }
}

fn audit(terminology: &Terminology, principal: &Principal, action: &str, target: &str, outcome: &str, detail: Option<String>) {
    tracing::info!(target: "fhirterm::audit", sub = principal.sub.as_deref().unwrap_or("anonymous"), action, target, outcome, detail = detail.as_deref().unwrap_or(""), "audit");
    let entry = AuditEntry {
        at: String::new(),
        sub: principal.sub.clone(),
        action: action.to_owned(),
        target: target.to_owned(),
        outcome: outcome.to_owned(),
        detail,
    };
    if let Err(error) = terminology.record_audit(&entry) {
        tracing::error!(%error, action, target, "cannot write the audit log");
    }
}

/// Writes an audit entry, to the table and to the `fhirterm::audit` tracing target.
pub fn record(terminology: &Terminology, principal: &Principal, action: &str, target: &str, outcome: &str, detail: Option<String>) {
    audit(terminology, principal, action, target, outcome, detail)
}

fn run(terminology: &Terminology, spec: JobSpec) {
    let started = JobUpdate { state: Some(JobState::Running), phase: Some("parsing".into()), started: true, ..JobUpdate::default() };
    if let Err(error) = terminology.update_job(&spec.id, &started) {
        tracing::error!(job = spec.id, %error, "cannot start the job");
    }
    tracing::info!(job = spec.id, format = spec.format, dry_run = spec.dry_run, "job started");
    let clock = Instant::now();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| execute(terminology, &spec)))
        .unwrap_or_else(|_| Err("the job panicked; nothing was stored".to_owned()));
    let (update, outcome_word, detail) = match outcome {
        Ok(summary) => {
            let detail = format!("{summary}");
            (
                JobUpdate { state: Some(JobState::Succeeded), phase: Some("done".into()), finished: true, ..JobUpdate::default() },
                "succeeded",
                detail,
            )
        }
        Err(message) => (
            JobUpdate { state: Some(JobState::Failed), error: Some(message.clone()), finished: true, ..JobUpdate::default() },
            "failed",
            message,
        ),
    };
    // The staged files go before the job is seen to end, so an ended job never leaves them behind.
    let _ = std::fs::remove_dir_all(&spec.staging);
    if let Err(error) = terminology.update_job(&spec.id, &update) {
        tracing::error!(job = spec.id, %error, "cannot record the end of the job");
    }
    tracing::info!(job = spec.id, outcome = outcome_word, seconds = clock.elapsed().as_secs_f64(), detail, "job ended");
    audit(terminology, &spec.principal, "upload-job", &format!("job/{}", spec.id), outcome_word, Some(detail));
}

/// Runs one job to its end; the error is the job's failure reason.
fn execute(terminology: &Terminology, spec: &JobSpec) -> Result<String, String> {
    crate::upload::verify_archives(&spec.paths, &spec.limits)?;
    let progress = Progress { terminology, job_id: &spec.id, bytes_done: AtomicU64::new(0), last_report: Mutex::new(Instant::now()) };
    let inner = loaders::open_paths(&spec.paths).map_err(|error| error.to_string())?;
    let count = |n_bytes: usize| progress.add(n_bytes);
    let source = loaders::CountingSource::new(inner, &count);
    let format = if spec.format == "auto" {
        loaders::detect(&source).map_err(|error| error.to_string())?
    } else {
        loaders::Format::parse(&spec.format).ok_or_else(|| format!("unknown format '{}'", spec.format))?
    };
    let format_name = format!("{format:?}").to_lowercase();
    if format == loaders::Format::Csv {
        let read = loaders::csv_codes::read_sheet(&source, spec.code_type);
        drop(source);
        let (sheet, warnings) = read.map_err(|error| error.to_string())?;
        let _ = std::fs::remove_dir_all(&spec.staging);
        return execute_billing(terminology, spec, sheet, warnings, progress.bytes_done.load(Ordering::Relaxed) as i64);
    }
    if spec.code_type.is_some() {
        return Err(format!("code_type goes with a billing list (format csv), not {format_name}"));
    }
    let loaded =
        loaders::load(format, &source, &loaders::LoadOptions { version: spec.version.clone() }).map_err(|error| error.to_string())?;
    drop(source);
    // Parsed: the staged files are no longer needed, and the job may be marked done in the
    // transaction that stores the release, before `run` gets to clean up.
    let _ = std::fs::remove_dir_all(&spec.staging);
    let bytes_done = progress.bytes_done.load(Ordering::Relaxed) as i64;
    let n_rows: usize = loaded.code_systems.iter().map(|code_system| code_system.concepts.len()).sum::<usize>() + loaded.resources.len();
    let diagnostics: Vec<Json> = loaded
        .diagnostics
        .iter()
        .take(MAX_KEPT)
        .map(|diagnostic| json!({"path": diagnostic.path, "line": diagnostic.line, "value": diagnostic.value, "message": diagnostic.message}))
        .collect();
    let code_systems: Vec<Json> = loaded
        .code_systems
        .iter()
        .map(|code_system| json!({"url": code_system.url, "version": code_system.version, "concepts": code_system.concepts.len()}))
        .collect();
    let count_of = |resource_type: &str| loaded.resources.iter().filter(|resource| resource["resourceType"] == resource_type).count();
    let (n_value_sets, n_concept_maps) = (count_of("ValueSet"), count_of("ConceptMap"));
    let mut counts = json!({
        "codeSystems": loaded.code_systems.len(),
        "concepts": loaded.code_systems.iter().map(|code_system| code_system.concepts.len()).sum::<usize>(),
        "valueSets": n_value_sets,
        "conceptMaps": n_concept_maps,
        "diagnostics": loaded.diagnostics.len(),
        "byCodeSystem": code_systems,
    });
    let versions: Vec<&str> = loaded.code_systems.iter().filter_map(|code_system| code_system.version.as_deref()).collect();
    terminology
        .update_job(
            &spec.id,
            &JobUpdate {
                phase: Some("diffing".into()),
                format: Some(format_name),
                version: spec.version.clone().or_else(|| (versions.len() == 1).then(|| versions[0].to_owned())),
                bytes_done: Some(bytes_done),
                rows_done: Some(n_rows as i64),
                counts: Some(counts.clone()),
                diagnostics: Some(Json::Array(diagnostics)),
                n_diagnostics: Some(loaded.diagnostics.len() as i64),
                ..JobUpdate::default()
            },
        )
        .map_err(|error| error.to_string())?;
    if loaded.code_systems.is_empty() && loaded.resources.is_empty() {
        return Err("the release holds no code systems, value sets or concept maps".into());
    }
    for (resource_type, n_resources) in [("ValueSet", n_value_sets), ("ConceptMap", n_concept_maps)] {
        if n_resources > 0 && !(spec.principal.may(resource_type, Action::Create) && spec.principal.may(resource_type, Action::Update)) {
            return Err(format!(
                "the release holds {n_resources} {resource_type} resources, and the token lacks the scope '{}'",
                crate::auth::scope_needed(resource_type, &[Action::Create, Action::Update])
            ));
        }
    }
    let diffs = terminology.diff_against_current(&loaded.code_systems);
    let diff_json = Json::Array(diffs.iter().map(|diff| diff.to_json(MAX_KEPT)).collect());
    let next_phase = if spec.dry_run { "done" } else { "storing" };
    terminology
        .update_job(&spec.id, &JobUpdate { phase: Some(next_phase.into()), diff: Some(diff_json), ..JobUpdate::default() })
        .map_err(|error| error.to_string())?;
    let n_concepts = counts["concepts"].as_u64().unwrap_or_default();
    if spec.dry_run {
        return Ok(format!("dry run: {} code systems, {n_concepts} concepts validated; nothing stored", loaded.code_systems.len()));
    }
    // The job's outcome is committed with the release itself: a restart can never call it failed.
    let summary = terminology
        .load_as_job(loaded.code_systems, loaded.resources, spec.make_current, &spec.id, |summary| stored_update(&mut counts, summary))
        .map_err(|error| format!("storing failed, nothing was stored: {error}"))?;
    Ok(format!(
        "stored {} code systems ({} concepts), {} value sets, {} concept maps",
        summary.n_code_systems, summary.n_concepts, summary.n_value_sets, summary.n_concept_maps
    ))
}

/// The job row's update inside the transaction that stores a release: `stored`, not yet
/// `succeeded`, because readers may see the commit a moment before the new snapshot is published;
/// `run` says succeeded after it, and a restart in between finds the job stored and calls it
/// succeeded. The counts gain what was stored.
fn stored_update(counts: &mut Json, summary: &LoadSummary) -> JobUpdate {
    counts["stored"] = json!({
        "codeSystems": summary.n_code_systems,
        "concepts": summary.n_concepts,
        "valueSets": summary.n_value_sets,
        "conceptMaps": summary.n_concept_maps,
    });
    JobUpdate { phase: Some("stored".into()), counts: Some(counts.clone()), ..JobUpdate::default() }
}

fn diagnostic_json(path: &str, line: Option<u64>, value: &str, message: &str) -> Json {
    json!({"path": path, "line": line, "value": value, "message": message})
}

/// A billing list: checked against the loaded releases by the store; any bad row fails the job
/// with every bad row among its diagnostics, and nothing is stored.
fn execute_billing(
    terminology: &Terminology,
    spec: &JobSpec,
    sheet: model::terminology::billing::BillingSheet,
    warnings: Vec<loaders::Diagnostic>,
    bytes_done: i64,
) -> Result<String, String> {
    let options = store::BillingOptions {
        value_set_base: spec.limits.billing_value_set_base.clone(),
        code_system_base: spec.limits.billing_code_system_base.clone(),
        custom_system: spec.custom_system.clone(),
        version: spec.version.clone(),
        ..store::BillingOptions::default()
    };
    let mut counts = json!({"rows": sheet.rows.len(), "codeSystems": 0, "concepts": 0, "valueSets": 0, "conceptMaps": 0});
    let mut progress = JobUpdate {
        phase: Some("diffing".into()),
        format: Some("csv".into()),
        version: Some(options.version.clone().unwrap_or_else(|| options.today.clone())),
        bytes_done: Some(bytes_done),
        rows_done: Some(sheet.rows.len() as i64),
        ..JobUpdate::default()
    };
    let warning_json = warnings.iter().map(|warning| diagnostic_json(&warning.path, warning.line, &warning.value, &warning.message));
    let plan = match terminology.check_billing(&sheet, &options) {
        Ok(plan) => plan,
        Err(rejected) => {
            let all: Vec<Json> = rejected
                .problems
                .iter()
                .map(|problem| diagnostic_json(&problem.path, problem.line, &problem.value, &problem.message))
                .chain(warning_json)
                .collect();
            counts["diagnostics"] = json!(all.len());
            counts["rowsInError"] = json!(rejected.problems.len());
            progress.n_diagnostics = Some(all.len() as i64);
            progress.diagnostics = Some(Json::Array(all.into_iter().take(MAX_KEPT).collect()));
            progress.counts = Some(counts);
            terminology.update_job(&spec.id, &progress).map_err(|error| error.to_string())?;
            return Err(rejected.to_string());
        }
    };
    let all: Vec<Json> = warning_json
        .chain(plan.warnings.iter().map(|problem| diagnostic_json(&problem.path, problem.line, &problem.value, &problem.message)))
        .collect();
    counts["codeSystems"] = json!(plan.code_systems.len());
    counts["concepts"] = json!(plan.code_systems.iter().map(|code_system| code_system.concepts.len()).sum::<usize>());
    counts["valueSets"] = json!(plan.value_sets.len());
    counts["diagnostics"] = json!(all.len());
    counts["byCodeSystem"] = Json::Array(
        plan.code_systems
            .iter()
            .map(|code_system| json!({"url": code_system.url, "version": code_system.version, "concepts": code_system.concepts.len()}))
            .collect(),
    );
    counts["checkedAgainst"] = Json::Array(
        plan.checked
            .iter()
            .map(|checked| json!({"codeType": checked.code_type.name(), "canonical": checked.canonical, "content": checked.how, "rows": checked.n_rows}))
            .collect(),
    );
    counts["valueSetUrls"] = Json::Array(plan.value_sets.iter().map(|value_set| value_set["url"].clone()).collect());
    progress.n_diagnostics = Some(all.len() as i64);
    progress.diagnostics = Some(Json::Array(all.into_iter().take(MAX_KEPT).collect()));
    progress.counts = Some(counts.clone());
    terminology.update_job(&spec.id, &progress).map_err(|error| error.to_string())?;
    let may_write_value_sets = spec.principal.may("ValueSet", Action::Create) && spec.principal.may("ValueSet", Action::Update);
    if !plan.value_sets.is_empty() && !may_write_value_sets {
        return Err(format!(
            "the billing list makes {} ValueSet resources, and the token lacks the scope '{}'",
            plan.value_sets.len(),
            crate::auth::scope_needed("ValueSet", &[Action::Create, Action::Update])
        ));
    }
    let next_phase = if spec.dry_run { "done" } else { "storing" };
    terminology
        .update_job(&spec.id, &JobUpdate { phase: Some(next_phase.into()), diff: Some(plan.diff_json(MAX_KEPT)), ..JobUpdate::default() })
        .map_err(|error| error.to_string())?;
    let summary_line = plan.summary();
    if spec.dry_run {
        return Ok(format!("dry run: {summary_line}; nothing stored"));
    }
    let summary = terminology
        .store_billing_as_job(plan, spec.make_current, &spec.id, |summary| stored_update(&mut counts, summary))
        .map_err(|error| format!("storing failed, nothing was stored: {error}"))?;
    Ok(format!(
        "{summary_line}; stored {} code systems ({} concepts), {} value sets",
        summary.n_code_systems, summary.n_concepts, summary.n_value_sets
    ))
}

fn seconds_between(from: &str, to: &str) -> Option<f64> {
    let from = chrono::DateTime::parse_from_rfc3339(from).ok()?;
    let to = chrono::DateTime::parse_from_rfc3339(to).ok()?;
    Some((to - from).num_milliseconds() as f64 / 1000.0)
}

/// A job as the API shows it, with progress worked out: percent and rates.
pub fn job_json(job: &JobRecord) -> Json {
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let elapsed = job.started_at.as_deref().and_then(|started| seconds_between(started, job.finished_at.as_deref().unwrap_or(&now)));
    let rate = |amount: i64| elapsed.filter(|seconds| *seconds > 0.0).map(|seconds| (amount as f64 / seconds).round());
    // Parsing is measured in bytes read; the other phases are steps. Percent is an estimate.
    let parse_share = if job.bytes_total > 0 { (job.bytes_done as f64 / job.bytes_total as f64).min(1.0) } else { 0.0 };
    let percent = match (job.state, job.phase.as_str()) {
        (JobState::Succeeded, _) => 100.0,
        (_, "staged") => 0.0,
        (_, "parsing") => 60.0 * parse_share,
        (_, "diffing") => 65.0,
        (_, "storing") => 75.0,
        (_, "stored") => 99.0,
        _ => 100.0 * parse_share.min(0.99),
    };
    json!({
        "id": job.id,
        "state": job.state,
        "phase": job.phase,
        "format": job.format,
        "version": job.version,
        "dryRun": job.dry_run,
        "makeCurrent": job.make_current,
        "sub": job.sub,
        "files": job.files,
        "progress": {
            "bytesTotal": job.bytes_total,
            "bytesDone": job.bytes_done,
            "rowsDone": job.rows_done,
            "percent": (percent * 10.0_f64).round() / 10.0,
            "bytesPerSecond": rate(job.bytes_done),
            "rowsPerSecond": rate(job.rows_done),
            "elapsedSeconds": elapsed,
        },
        "counts": job.counts,
        "diagnostics": job.diagnostics,
        "diagnosticsTotal": job.n_diagnostics,
        "diff": job.diff,
        "error": job.error,
        "createdAt": job.created_at,
        "startedAt": job.started_at,
        "finishedAt": job.finished_at,
        "updatedAt": job.updated_at,
    })
}
