//! `POST /admin/upload` (multipart) and the job and audit endpoints under `/admin`.
//!
//! # Brief overview
//! - [`upload`] checks the token first (the write scope), then streams each `file` part to its
//!   own file under the staging folder (tokio's file I/O, so workers never block on the disk),
//!   never holding a part in memory, counting bytes against
//!   the configured limit. The other fields are small: `format` (a loader name or `auto`),
//!   `version`, `make_current`, `dry_run`, and for a practice's billing list `code_type` (the
//!   code type of rows that name none) and `custom_system` (the name of its `custom` code system).
//! - Before a job is queued, every staged archive is inspected through its central directory
//!   ([`inspect_zip`]): entries with `..` or absolute names, entries that expand past the
//!   configured ratio, and archives that expand past the configured size are refused with 422,
//!   and the staged files are deleted. A truncated archive (no central directory) is refused
//!   with 400. The job re-checks the real expanded sizes while decompressing
//!   ([`verify_archives`]), since a central directory can lie.
//! - `GET /admin/jobs`, `GET /admin/jobs/{id}` report jobs; `GET /admin/audit` the audit log.

use crate::auth::{self, Action, Principal};
use crate::error::ApiError;
use crate::jobs::{self, JobSpec};
use crate::{AppState, UploadConfig};
use actix_multipart::Multipart;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use model::Json;
use serde_json::json;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use store::NewJob;
use tokio::io::AsyncWriteExt;

/// The `code_type` values of the billing list.
pub const CODE_TYPES: &[&str] = model::terminology::billing::CodeType::NAMES;

/// Fields other than `file` are short texts.
const MAX_FIELD_BYTES: usize = 4096;

/// Deletes a staging folder unless the job took it over.
struct StagingGuard {
    path: PathBuf,
    keep: bool,
}

impl Drop for StagingGuard {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// The name a part is staged under: the client's last path component reduced to safe characters
/// and bounded in length, the extension kept, since loaders recognise some releases by their file
/// names. Each part is staged in a folder of its own (`part-{idx}`), so names cannot collide.
fn safe_file_name(raw: &str, idx: usize) -> String {
    const MAX_STEM_CHARS: usize = 96;
    let base = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    let cleaned: String = base.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' }).collect();
    let cleaned = cleaned.trim_start_matches('.');
    let lower = cleaned.to_ascii_lowercase();
    let extension_len = if lower.ends_with(".tar.gz") {
        7
    } else {
        match cleaned.rfind('.') {
            Some(dot) if cleaned.len() - dot <= 16 => cleaned.len() - dot,
            _ => 0,
        }
    };
    let (stem, extension) = cleaned.split_at(cleaned.len() - extension_len);
    let stem: String = stem.chars().take(MAX_STEM_CHARS).collect();
    if stem.is_empty() {
        format!("part-{idx}{extension}")
    } else {
        format!("{stem}{extension}")
    }
}

fn parse_flag(name: &str, text: &str) -> Result<bool, ApiError> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" | "" => Ok(false),
        other => Err(ApiError::bad_request(format!("field '{name}' must be true or false, not '{other}'"))),
    }
}

/// What the central directory of one archive says.
#[derive(Debug, Default)]
pub struct ZipSummary {
    pub n_entries: usize,
    pub compressed_bytes: u64,
    pub expanded_bytes: u64,
}

/// Why an upload is refused before it is queued: 400 for a broken file, 422 for a hostile one.
pub enum Refusal {
    Corrupt(String),
    Hostile(String),
}

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> ApiError {
        match refusal {
            Refusal::Corrupt(message) => ApiError::bad_request(message),
            Refusal::Hostile(message) => ApiError::unprocessable(message),
        }
    }
}

fn is_zip(path: &Path) -> bool {
    let mut magic = [0u8; 4];
    let starts_like_zip = File::open(path).and_then(|mut file| file.read_exact(&mut magic)).is_ok() && magic == *b"PK\x03\x04";
    starts_like_zip || path.extension().is_some_and(|extension| extension.eq_ignore_ascii_case("zip"))
}

/// Checks an archive's central directory against the limits, and any archive nested in it.
pub fn inspect_zip<R: Read + std::io::Seek>(display: &str, reader: R, limits: &UploadConfig, depth: usize) -> Result<ZipSummary, Refusal> {
    let mut archive = zip::ZipArchive::new(reader)
        .map_err(|error| Refusal::Corrupt(format!("{display}: not a readable zip archive (truncated or corrupt?): {error}")))?;
    let mut summary = ZipSummary { n_entries: archive.len(), ..ZipSummary::default() };
    let mut nested = Vec::new();
    for idx in 0..archive.len() {
        let entry =
            archive.by_index_raw(idx).map_err(|error| Refusal::Corrupt(format!("{display}: entry {idx} cannot be read: {error}")))?;
        let name = entry.name().map(|name| name.into_owned()).unwrap_or_else(|_| String::from_utf8_lossy(entry.name_raw()).into_owned());
        if name.starts_with('/') || name.starts_with('\\') || name.split(['/', '\\']).any(|part| part == "..") || name.contains(':') {
            return Err(Refusal::Hostile(format!("{display}: entry '{name}' points outside the archive")));
        }
        let (compressed, expanded) = (entry.compressed_size(), entry.size());
        if expanded > limits.max_expansion_ratio.saturating_mul(compressed.max(1)) && expanded > 1024 * 1024 {
            return Err(Refusal::Hostile(format!(
                "{display}: entry '{name}' expands {expanded} bytes from {compressed} (more than {}x); refusing a likely compression bomb",
                limits.max_expansion_ratio
            )));
        }
        summary.compressed_bytes += compressed;
        summary.expanded_bytes = summary.expanded_bytes.saturating_add(expanded);
        if summary.expanded_bytes > limits.max_expanded_bytes {
            return Err(Refusal::Hostile(format!("{display}: the archive expands past the limit of {} bytes", limits.max_expanded_bytes)));
        }
        if name.to_ascii_lowercase().ends_with(".zip") && depth < 2 {
            nested.push((idx, name));
        }
    }
    for (idx, name) in nested {
        let mut entry = archive.by_index(idx).map_err(|error| Refusal::Corrupt(format!("{display}!{name}: {error}")))?;
        let mut bytes = Vec::new();
        (&mut entry)
            .take(limits.max_expanded_bytes.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|error| Refusal::Corrupt(format!("{display}!{name}: corrupt entry: {error}")))?;
        let inner = inspect_zip(&format!("{display}!{name}"), std::io::Cursor::new(bytes), limits, depth + 1)?;
        summary.expanded_bytes = summary.expanded_bytes.saturating_add(inner.expanded_bytes);
        if summary.expanded_bytes > limits.max_expanded_bytes {
            return Err(Refusal::Hostile(format!("{display}: the archive expands past the limit of {} bytes", limits.max_expanded_bytes)));
        }
    }
    Ok(summary)
}

/// Whether a staged file is gzip-compressed (a `.tgz` package, a `.tar.gz` or a `.gz` file).
fn is_gzip(path: &Path) -> bool {
    let mut magic = [0u8; 2];
    File::open(path).and_then(|mut file| file.read_exact(&mut magic)).is_ok() && magic == [0x1f, 0x8b]
}

/// Whether a staged file is a plain tarball (`ustar` at offset 257).
fn is_tar(path: &Path) -> bool {
    let mut header = [0u8; 262];
    File::open(path).and_then(|mut file| file.read_exact(&mut header)).is_ok() && &header[257..262] == b"ustar"
}

/// A reader that counts what passes through it and fails once past a limit, so that a
/// decompressing stream is stopped the moment it expands too far, whatever it declared.
struct BoundedReader<R> {
    inner: R,
    n_read: u64,
    limit: u64,
}

impl<R: Read> Read for BoundedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.n_read += n as u64;
        if self.n_read > self.limit {
            return Err(std::io::Error::other("expanded past the limit"));
        }
        Ok(n)
    }
}

/// Checks a gzip or tar file by streaming through it once, never holding a member in memory:
/// member names (no `..`, no absolute paths), the expansion ratio of the whole compressed stream
/// and the expanded size against the limits.
pub fn inspect_stream(display: &str, path: &Path, limits: &UploadConfig) -> Result<ZipSummary, Refusal> {
    let compressed = std::fs::metadata(path).map(|metadata| metadata.len()).unwrap_or(0);
    let gzipped = is_gzip(path);
    let file = File::open(path).map_err(|error| Refusal::Corrupt(format!("{display}: cannot open: {error}")))?;
    let decoded: Box<dyn Read> = if gzipped {
        Box::new(flate2::read::GzDecoder::new(std::io::BufReader::new(file)))
    } else {
        Box::new(std::io::BufReader::new(file))
    };
    let ratio_limit = if gzipped { limits.max_expansion_ratio.saturating_mul(compressed.max(1)).max(1024 * 1024) } else { u64::MAX };
    let limit = ratio_limit.min(limits.max_expanded_bytes);
    let mut reader = BoundedReader { inner: decoded, n_read: 0, limit };
    let past_limit = |n_read: u64| {
        if n_read > limits.max_expanded_bytes {
            Refusal::Hostile(format!("{display}: the archive expands past the limit of {} bytes", limits.max_expanded_bytes))
        } else {
            Refusal::Hostile(format!(
                "{display}: expands more than {}x its {compressed} compressed bytes; refusing a likely compression bomb",
                limits.max_expansion_ratio
            ))
        }
    };
    let lower = display.to_ascii_lowercase();
    let holds_tar = !gzipped || lower.ends_with(".tgz") || lower.ends_with(".tar.gz");
    let mut summary = ZipSummary { compressed_bytes: compressed, ..ZipSummary::default() };
    if holds_tar {
        let mut archive = tar::Archive::new(&mut reader);
        let entries = archive.entries().map_err(|error| Refusal::Corrupt(format!("{display}: not a readable tarball: {error}")))?;
        for entry in entries {
            let mut entry = match entry {
                Ok(entry) => entry,
                Err(error) => return Err(Refusal::Corrupt(format!("{display}: corrupt tarball: {error}"))),
            };
            let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            if name.starts_with('/') || name.starts_with('\\') || name.split(['/', '\\']).any(|part| part == "..") || name.contains(':') {
                return Err(Refusal::Hostile(format!("{display}: member '{name}' points outside the archive")));
            }
            let link = entry.link_name_bytes().map(|link| String::from_utf8_lossy(&link).into_owned());
            if let Some(link) = link.filter(|link| link.starts_with('/') || link.split('/').any(|part| part == "..")) {
                return Err(Refusal::Hostile(format!("{display}: member '{name}' links outside the archive ({link})")));
            }
            let declared = entry.header().size().unwrap_or(0);
            if summary.expanded_bytes.saturating_add(declared) > limits.max_expanded_bytes {
                return Err(Refusal::Hostile(format!(
                    "{display}: member '{name}' declares {declared} bytes, past the limit of {} bytes",
                    limits.max_expanded_bytes
                )));
            }
            summary.n_entries += 1;
            summary.expanded_bytes += declared;
            std::io::copy(&mut entry, &mut std::io::sink()).map_err(|error| match error.to_string().as_str() {
                "expanded past the limit" => past_limit(limit.saturating_add(1)),
                _ => Refusal::Corrupt(format!("{display}!{name}: corrupt member: {error}")),
            })?;
        }
    } else {
        std::io::copy(&mut reader, &mut std::io::sink()).map_err(|error| match error.to_string().as_str() {
            "expanded past the limit" => past_limit(limit.saturating_add(1)),
            _ => Refusal::Corrupt(format!("{display}: corrupt gzip stream: {error}")),
        })?;
        summary.n_entries = 1;
    }
    if reader.n_read > limit {
        return Err(past_limit(reader.n_read));
    }
    summary.expanded_bytes = summary.expanded_bytes.max(reader.n_read);
    Ok(summary)
}

/// Decompresses every entry of every staged archive, refusing one that expands past its declared
/// size or the ratio; run by the job before loading, since a central directory can lie.
pub fn verify_archives(paths: &[PathBuf], limits: &UploadConfig) -> Result<(), String> {
    for path in paths.iter().filter(|path| is_zip(path)) {
        let display = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
        let file = File::open(path).map_err(|error| format!("{display}: cannot open: {error}"))?;
        let mut archive = zip::ZipArchive::new(file).map_err(|error| format!("{display}: not a readable zip archive: {error}"))?;
        for idx in 0..archive.len() {
            let mut entry = archive.by_index(idx).map_err(|error| format!("{display}: entry {idx}: {error}"))?;
            let declared = entry.size();
            let allowed = declared.min(limits.max_expansion_ratio.saturating_mul(entry.compressed_size().max(1)).max(1024 * 1024));
            let name = entry.name().map(|name| name.into_owned()).unwrap_or_default();
            let n_read = std::io::copy(&mut (&mut entry).take(allowed.saturating_add(1)), &mut std::io::sink())
                .map_err(|error| format!("{display}!{name}: corrupt entry: {error}"))?;
            if n_read > allowed {
                return Err(format!("{display}!{name}: the entry expands past its declared size of {declared} bytes; refusing it"));
            }
        }
    }
    Ok(())
}

/// What the form said.
#[derive(Default)]
struct Form {
    files: Vec<(String, PathBuf, u64)>,
    format: Option<String>,
    version: Option<String>,
    make_current: Option<bool>,
    dry_run: bool,
    code_type: Option<String>,
    custom_system: Option<String>,
}

async fn read_form(mut payload: Multipart, staging: &Path, limits: &UploadConfig) -> Result<Form, ApiError> {
    let mut form = Form::default();
    let mut total: u64 = 0;
    let cut_short = |error: actix_multipart::MultipartError| {
        ApiError::bad_request(format!("the upload is not valid multipart/form-data or was cut short: {error}"))
    };
    while let Some(field) = payload.next().await {
        let mut field = field.map_err(cut_short)?;
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            let idx = form.files.len();
            let raw_name = field.content_disposition().and_then(|disposition| disposition.get_filename()).unwrap_or("").to_owned();
            let file_name = safe_file_name(&raw_name, idx);
            let folder = staging.join(format!("part-{idx}"));
            tokio::fs::create_dir_all(&folder)
                .await
                .map_err(|error| ApiError::internal(format!("cannot create a staging folder for '{file_name}': {error}")))?;
            let path = folder.join(&file_name);
            let created = tokio::fs::File::create(&path).await;
            let mut file = tokio::io::BufWriter::with_capacity(
                1 << 20,
                created.map_err(|error| ApiError::internal(format!("cannot stage '{file_name}': {error}")))?,
            );
            let mut n_bytes: u64 = 0;
            while let Some(chunk) = field.next().await {
                let chunk = chunk.map_err(cut_short)?;
                n_bytes += chunk.len() as u64;
                total += chunk.len() as u64;
                if total > limits.max_upload_bytes {
                    return Err(ApiError::too_large(format!("the upload is larger than the limit of {} bytes", limits.max_upload_bytes)));
                }
                file.write_all(&chunk).await.map_err(|error| ApiError::internal(format!("cannot stage '{file_name}': {error}")))?;
            }
            file.flush().await.map_err(|error| ApiError::internal(format!("cannot stage '{file_name}': {error}")))?;
            form.files.push((file_name, path, n_bytes));
            continue;
        }
        let mut value = Vec::new();
        while let Some(chunk) = field.next().await {
            value.extend_from_slice(&chunk.map_err(cut_short)?);
            if value.len() > MAX_FIELD_BYTES {
                return Err(ApiError::bad_request(format!("field '{name}' is longer than {MAX_FIELD_BYTES} bytes")));
            }
        }
        let text = String::from_utf8(value).map_err(|_| ApiError::bad_request(format!("field '{name}' is not UTF-8")))?.trim().to_owned();
        match name.as_str() {
            "format" => form.format = Some(text).filter(|text| !text.is_empty()),
            "version" => form.version = Some(text).filter(|text| !text.is_empty()),
            "make_current" => form.make_current = Some(parse_flag(&name, &text)?),
            "dry_run" => form.dry_run = parse_flag(&name, &text)?,
            "code_type" => form.code_type = Some(text.to_ascii_lowercase()).filter(|text| !text.is_empty()),
            "custom_system" => form.custom_system = Some(text).filter(|text| !text.is_empty()),
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown field '{other}': use file, format, version, make_current, dry_run, code_type or custom_system"
                )))
            }
        }
    }
    Ok(form)
}

fn audit_refusal(state: &AppState, request: &HttpRequest, action: &str, target: &str, error: &ApiError) {
    let known = auth::authenticate(&state.config.auth, request).ok().flatten().unwrap_or_default();
    let detail = error.outcome.issues.first().map(|issue| issue.text.clone());
    jobs::record(&state.terminology, &known, action, target, &format!("refused {}", error.status.as_u16()), detail);
}

/// `POST /admin/upload`.
pub async fn upload(state: web::Data<AppState>, request: HttpRequest, payload: web::Payload) -> Result<HttpResponse, ApiError> {
    let principal =
        auth::require_write(&state.config.auth, &request, "CodeSystem", &[Action::Create, Action::Update]).inspect_err(|error| {
            audit_refusal(&state, &request, "upload", "admin/upload", error);
        })?;
    let limits = state.config.upload.clone();
    let declared_length =
        request.headers().get(header::CONTENT_LENGTH).and_then(|value| value.to_str().ok()).and_then(|text| text.parse::<u64>().ok());
    if declared_length.is_some_and(|length| length > limits.max_upload_bytes.saturating_add(64 * 1024)) {
        let error = ApiError::too_large(format!("the upload is larger than the limit of {} bytes", limits.max_upload_bytes));
        audit_refusal(&state, &request, "upload", "admin/upload", &error);
        return Err(error);
    }
    let job_id = uuid::Uuid::new_v4().simple().to_string();
    let staging = limits.staging_dir.join(&job_id);
    std::fs::create_dir_all(&staging).map_err(|error| ApiError::internal(format!("cannot create the staging folder: {error}")))?;
    let mut guard = StagingGuard { path: staging.clone(), keep: false };
    let payload = Multipart::new(request.headers(), payload);
    let accepted = accept(&state, &principal, payload, &staging, &job_id, &limits).await;
    let (job, spec) = match accepted {
        Ok(accepted) => accepted,
        Err(error) => {
            audit_refusal(&state, &request, "upload", &format!("job/{job_id}"), &error);
            return Err(error);
        }
    };
    guard.keep = true;
    jobs::record(
        &state.terminology,
        &principal,
        "upload",
        &format!("job/{job_id}"),
        "accepted",
        Some(format!("format {}, {} files, dry_run {}", spec.format, spec.paths.len(), spec.dry_run)),
    );
    state.jobs.submit(state.terminology.clone(), spec);
    let location = format!("/admin/jobs/{job_id}");
    Ok(HttpResponse::build(StatusCode::ACCEPTED).insert_header((header::LOCATION, location)).json(jobs::job_json(&job)))
}

async fn accept(
    state: &AppState,
    principal: &Principal,
    payload: Multipart,
    staging: &Path,
    job_id: &str,
    limits: &UploadConfig,
) -> Result<(store::JobRecord, JobSpec), ApiError> {
    let form = read_form(payload, staging, limits).await?;
    if form.files.is_empty() {
        return Err(ApiError::bad_request("the upload has no 'file' part"));
    }
    let code_type = match &form.code_type {
        None => None,
        Some(text) => Some(
            model::terminology::billing::CodeType::parse(text)
                .ok_or_else(|| ApiError::unprocessable(format!("unknown code_type '{text}': use one of {}", CODE_TYPES.join(", "))))?,
        ),
    };
    if form.custom_system.as_deref().is_some_and(|name| model::terminology::billing::category_slug(name) != name.to_ascii_lowercase()) {
        return Err(ApiError::bad_request(format!(
            "custom_system '{}' must be letters, digits and single hyphens, to end the code system's URL",
            form.custom_system.as_deref().unwrap_or_default()
        )));
    }
    let format = match (&form.code_type, form.format.as_deref()) {
        (Some(_), format) => {
            if format.is_some_and(|format| format != "csv" && format != "auto") {
                return Err(ApiError::bad_request("code_type goes with the billing CSV format ('csv'), not another format"));
            }
            "csv".to_owned()
        }
        (None, None) => "auto".to_owned(),
        (None, Some(format)) => {
            if format != "auto" && loaders::Format::parse(format).is_none() {
                return Err(ApiError::unprocessable(format!(
                    "unknown format '{format}': use one of {} or auto",
                    loaders::Format::NAMES.join(", ")
                )));
            }
            format.to_owned()
        }
    };
    // Every container format is checked before the job is queued, off the HTTP workers.
    let staged = form.files.clone();
    let checked_limits = limits.clone();
    let (bytes_total, files) = web::block(move || -> Result<(u64, Vec<Json>), ApiError> {
        let mut bytes_total: u64 = 0;
        let mut files = Vec::new();
        for (name, path, n_bytes) in &staged {
            // What the loader will read: the staged file, or an archive's expanded size.
            let mut expanded = std::fs::metadata(path).map(|metadata| metadata.len()).unwrap_or(*n_bytes);
            if is_zip(path) {
                let file = File::open(path).map_err(|error| ApiError::internal(format!("cannot reopen '{name}': {error}")))?;
                expanded = inspect_zip(name, file, &checked_limits, 0)?.expanded_bytes;
            } else if is_gzip(path) || is_tar(path) {
                expanded = inspect_stream(name, path, &checked_limits)?.expanded_bytes;
            }
            bytes_total += expanded;
            files.push(json!({"name": name, "bytes": n_bytes, "expandedBytes": expanded}));
        }
        Ok((bytes_total, files))
    })
    .await
    .map_err(|error| ApiError::internal(format!("worker failed: {error}")))??;
    let make_current = form.make_current.unwrap_or(true);
    let new_job = NewJob {
        id: job_id.to_owned(),
        format: format.clone(),
        version: form.version.clone(),
        dry_run: form.dry_run,
        make_current,
        sub: principal.sub.clone(),
        files: Json::Array(files),
        bytes_total: bytes_total as i64,
    };
    let terminology = state.terminology.clone();
    let job = web::block(move || terminology.create_job(&new_job))
        .await
        .map_err(|error| ApiError::internal(format!("worker failed: {error}")))?
        .map_err(ApiError::from)?;
    let spec = JobSpec {
        id: job_id.to_owned(),
        format,
        version: form.version,
        dry_run: form.dry_run,
        make_current,
        code_type,
        custom_system: form.custom_system.unwrap_or_else(|| model::terminology::billing::DEFAULT_CUSTOM_SYSTEM.to_owned()),
        principal: principal.clone(),
        paths: form.files.iter().map(|(_, path, _)| path.clone()).collect(),
        staging: staging.to_owned(),
        limits: limits.clone(),
    };
    Ok((job, spec))
}

/// Jobs are visible to whoever may upload.
fn require_job_reader(state: &AppState, request: &HttpRequest) -> Result<Principal, ApiError> {
    auth::require_write(&state.config.auth, request, "CodeSystem", &[Action::Create, Action::Update])
}

/// `GET /admin/jobs/{id}`.
pub async fn job(state: web::Data<AppState>, request: HttpRequest, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    require_job_reader(&state, &request)?;
    let id = path.into_inner();
    let terminology = state.terminology.clone();
    let lookup_id = id.clone();
    let job = web::block(move || terminology.job(&lookup_id))
        .await
        .map_err(|error| ApiError::internal(format!("worker failed: {error}")))?
        .map_err(ApiError::from)?
        .ok_or_else(|| ApiError::not_found(format!("job '{id}' is not known")))?;
    Ok(HttpResponse::Ok().json(jobs::job_json(&job)))
}

/// `GET /admin/jobs`: the most recent first (`_count`, default 50).
pub async fn job_list(state: web::Data<AppState>, request: HttpRequest) -> Result<HttpResponse, ApiError> {
    require_job_reader(&state, &request)?;
    let count = query_count(&request)?;
    let terminology = state.terminology.clone();
    let list = web::block(move || terminology.jobs(count))
        .await
        .map_err(|error| ApiError::internal(format!("worker failed: {error}")))?
        .map_err(ApiError::from)?;
    Ok(HttpResponse::Ok().json(json!({"jobs": list.iter().map(jobs::job_json).collect::<Vec<_>>()})))
}

fn query_count(request: &HttpRequest) -> Result<usize, ApiError> {
    match url::form_urlencoded::parse(request.query_string().as_bytes()).find(|(key, _)| key == "_count") {
        None => Ok(50),
        Some((_, text)) => text
            .parse::<usize>()
            .map(|count| count.min(1000))
            .map_err(|_| ApiError::bad_request(format!("_count must be a number, not '{text}'"))),
    }
}

/// `GET /admin/audit`: the audit log, most recent first; needs `system/AuditEvent.read`.
pub async fn audit_log(state: web::Data<AppState>, request: HttpRequest) -> Result<HttpResponse, ApiError> {
    let config = &state.config.auth;
    match auth::authenticate(config, &request)? {
        Some(principal) => auth::check_scopes(&principal, "AuditEvent", &[Action::Read])?,
        None if config.allow_anonymous_writes => {}
        None => return Err(ApiError::unauthorized("the audit log needs a bearer token")),
    }
    let count = query_count(&request)?;
    let terminology = state.terminology.clone();
    let entries = web::block(move || terminology.audit_log(count))
        .await
        .map_err(|error| ApiError::internal(format!("worker failed: {error}")))?
        .map_err(ApiError::from)?;
    let rendered: Vec<Json> = entries
        .iter()
        .map(|entry| {
            json!({"at": entry.at, "sub": entry.sub, "action": entry.action, "target": entry.target,
                   "outcome": entry.outcome, "detail": entry.detail})
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({"entries": rendered})))
}

#[cfg(test)]
mod tests {
    use super::safe_file_name;

    #[test]
    fn staged_names_are_safe_and_bounded() {
        assert_eq!(safe_file_name("../../etc/passwd", 0), "passwd");
        assert_eq!(safe_file_name("C:\\x\\icd10cm-tabular-2026.xml", 1), "icd10cm-tabular-2026.xml");
        assert_eq!(safe_file_name("...", 2), "part-2");
        assert_eq!(safe_file_name("a b;c.zip", 3), "a_b_c.zip");
        let long = format!("{}.tar.gz", "n".repeat(300));
        assert_eq!(safe_file_name(&long, 4), format!("{}.tar.gz", "n".repeat(96)));
        assert_eq!(safe_file_name(&"x".repeat(1000), 5).len(), 96);
    }
}
