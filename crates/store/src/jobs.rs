//! Upload jobs and the audit log, persisted beside the terminology rows.
//!
//! A job row is the ground truth of a bulk upload's life: `queued`, `running`, then `succeeded`
//! or `failed`, with its progress, counts, diagnostics and diff as JSON text. The server owns the
//! lifecycle; this module only stores and reads rows. [`Terminology::fail_interrupted_jobs`] is
//! called when a server starts, so that a job cut short by a restart never looks alive.
//!
//! The audit log is append-only: who (`sub`), what (`action`, `target`), when, and the outcome.

use crate::db::with_conn;
use crate::schema::{audit_log, jobs};
use crate::{StoreError, StoreErrorKind, Terminology};
use diesel::prelude::*;
use model::Json;

/// Where a job is in its life: `queued`, `running`, then `succeeded` or `failed` (which can
/// follow any other). Stored and shown as its lower-case name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JobState {
    Queued,
    Running,
    Succeeded,
    Failed,
}

impl JobState {
    /// Every state, in the order a job goes through them.
    pub const ALL: [JobState; 4] = [JobState::Queued, JobState::Running, JobState::Succeeded, JobState::Failed];

    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Succeeded => "succeeded",
            JobState::Failed => "failed",
        }
    }

    /// Whether the job is over, one way or the other.
    pub fn is_finished(self) -> bool {
        matches!(self, JobState::Succeeded | JobState::Failed)
    }

    fn from_stored(text: &str) -> Result<JobState, StoreError> {
        JobState::ALL
            .into_iter()
            .find(|state| state.as_str() == text)
            .ok_or_else(|| StoreError::new(StoreErrorKind::Database, format!("corrupt job column state: '{text}' is not a job state")))
    }
}

impl std::fmt::Display for JobState {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl serde::Serialize for JobState {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl PartialEq<&str> for JobState {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// The message a job gets when the server stopped while it was queued or running.
pub const INTERRUPTED: &str = "server restarted during the job";

/// One job as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct JobRecord {
    pub id: String,
    pub state: JobState,
    pub phase: String,
    pub format: String,
    pub version: Option<String>,
    pub dry_run: bool,
    pub make_current: bool,
    pub sub: Option<String>,
    /// `[{"name": …, "bytes": …}]`.
    pub files: Json,
    pub bytes_total: i64,
    pub bytes_done: i64,
    pub rows_done: i64,
    pub counts: Option<Json>,
    pub diagnostics: Option<Json>,
    pub n_diagnostics: i64,
    pub diff: Option<Json>,
    pub error: Option<String>,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub updated_at: String,
}

/// What a new job starts with; it is stored as `queued`.
#[derive(Clone, Debug, Default)]
pub struct NewJob {
    pub id: String,
    pub format: String,
    pub version: Option<String>,
    pub dry_run: bool,
    pub make_current: bool,
    pub sub: Option<String>,
    pub files: Json,
    pub bytes_total: i64,
}

/// A change to a job: only the fields that are `Some` are written.
#[derive(Clone, Debug, Default)]
pub struct JobUpdate {
    pub state: Option<JobState>,
    pub phase: Option<String>,
    pub format: Option<String>,
    pub version: Option<String>,
    pub bytes_total: Option<i64>,
    pub bytes_done: Option<i64>,
    pub rows_done: Option<i64>,
    pub counts: Option<Json>,
    pub diagnostics: Option<Json>,
    pub n_diagnostics: Option<i64>,
    pub diff: Option<Json>,
    pub error: Option<String>,
    pub started: bool,
    pub finished: bool,
}

/// One audit entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    /// RFC 3339; filled in when recorded if empty.
    pub at: String,
    pub sub: Option<String>,
    /// For example `upload`, `create`, `update`, `delete`, `job`.
    pub action: String,
    /// For example `CodeSystem/sample` or `job/1f…`.
    pub target: String,
    /// For example `accepted`, `succeeded`, `failed`, `refused 403`.
    pub outcome: String,
    pub detail: Option<String>,
}

#[derive(Queryable, Insertable)]
#[diesel(table_name = jobs)]
#[diesel(treat_none_as_default_value = false)]
struct JobRow {
    id: String,
    state: String,
    phase: String,
    format: String,
    version: Option<String>,
    dry_run: bool,
    make_current: bool,
    sub: Option<String>,
    files: String,
    bytes_total: i64,
    bytes_done: i64,
    rows_done: i64,
    counts: Option<String>,
    diagnostics: Option<String>,
    n_diagnostics: i64,
    diff: Option<String>,
    error: Option<String>,
    created_at: String,
    started_at: Option<String>,
    finished_at: Option<String>,
    updated_at: String,
}

#[derive(AsChangeset)]
#[diesel(table_name = jobs)]
pub(crate) struct JobChanges {
    state: Option<String>,
    phase: Option<String>,
    format: Option<String>,
    version: Option<String>,
    bytes_total: Option<i64>,
    bytes_done: Option<i64>,
    rows_done: Option<i64>,
    counts: Option<String>,
    diagnostics: Option<String>,
    n_diagnostics: Option<i64>,
    diff: Option<String>,
    error: Option<String>,
    started_at: Option<String>,
    finished_at: Option<String>,
    updated_at: String,
}

impl JobChanges {
    /// The row changes for the `Some` fields of an update; `started`/`finished` stamp the time.
    pub(crate) fn of(update: &JobUpdate) -> JobChanges {
        let stamp = now();
        JobChanges {
            state: update.state.map(|state| state.as_str().to_owned()),
            phase: update.phase.clone(),
            format: update.format.clone(),
            version: update.version.clone(),
            bytes_total: update.bytes_total,
            bytes_done: update.bytes_done,
            rows_done: update.rows_done,
            counts: update.counts.as_ref().map(Json::to_string),
            diagnostics: update.diagnostics.as_ref().map(Json::to_string),
            n_diagnostics: update.n_diagnostics,
            diff: update.diff.as_ref().map(Json::to_string),
            error: update.error.clone(),
            started_at: update.started.then(|| stamp.clone()),
            finished_at: update.finished.then(|| stamp.clone()),
            updated_at: stamp,
        }
    }
}

#[derive(Queryable)]
struct AuditRow {
    _pk: i64,
    at: String,
    sub: Option<String>,
    action: String,
    target: String,
    outcome: String,
    detail: Option<String>,
}

#[derive(Insertable)]
#[diesel(table_name = audit_log)]
#[diesel(treat_none_as_default_value = false)]
struct NewAuditRow<'a> {
    at: &'a str,
    sub: Option<&'a str>,
    action: &'a str,
    target: &'a str,
    outcome: &'a str,
    detail: Option<&'a str>,
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn parse(text: &str, column: &str) -> Result<Json, StoreError> {
    serde_json::from_str(text).map_err(|error| StoreError::new(StoreErrorKind::Database, format!("corrupt job column {column}: {error}")))
}

fn parse_opt(text: Option<String>, column: &str) -> Result<Option<Json>, StoreError> {
    text.map(|text| parse(&text, column)).transpose()
}

impl JobRow {
    fn into_record(self) -> Result<JobRecord, StoreError> {
        Ok(JobRecord {
            files: parse(&self.files, "files")?,
            counts: parse_opt(self.counts, "counts")?,
            diagnostics: parse_opt(self.diagnostics, "diagnostics")?,
            diff: parse_opt(self.diff, "diff")?,
            state: JobState::from_stored(&self.state)?,
            id: self.id,
            phase: self.phase,
            format: self.format,
            version: self.version,
            dry_run: self.dry_run,
            make_current: self.make_current,
            sub: self.sub,
            bytes_total: self.bytes_total,
            bytes_done: self.bytes_done,
            rows_done: self.rows_done,
            n_diagnostics: self.n_diagnostics,
            error: self.error,
            created_at: self.created_at,
            started_at: self.started_at,
            finished_at: self.finished_at,
            updated_at: self.updated_at,
        })
    }
}

impl Terminology {
    /// Stores a new job as `queued` and returns it.
    pub fn create_job(&self, new_job: &NewJob) -> Result<JobRecord, StoreError> {
        let created_at = now();
        let row = JobRow {
            id: new_job.id.clone(),
            state: JobState::Queued.as_str().into(),
            phase: "staged".into(),
            format: new_job.format.clone(),
            version: new_job.version.clone(),
            dry_run: new_job.dry_run,
            make_current: new_job.make_current,
            sub: new_job.sub.clone(),
            files: new_job.files.to_string(),
            bytes_total: new_job.bytes_total,
            bytes_done: 0,
            rows_done: 0,
            counts: None,
            diagnostics: None,
            n_diagnostics: 0,
            diff: None,
            error: None,
            created_at: created_at.clone(),
            started_at: None,
            finished_at: None,
            updated_at: created_at,
        };
        with_conn!(self.database(), |conn| diesel::insert_into(jobs::table).values(&row).execute(conn).map_err(StoreError::from))?;
        row.into_record()
    }

    /// Writes the `Some` fields of `update`; `started`/`finished` stamp the time.
    pub fn update_job(&self, id: &str, update: &JobUpdate) -> Result<(), StoreError> {
        let changes = JobChanges::of(update);
        let n_updated =
            with_conn!(self.database(), |conn| diesel::update(jobs::table.find(id)).set(&changes).execute(conn).map_err(StoreError::from))?;
        if n_updated == 0 {
            return Err(StoreError::not_found(format!("job '{id}' is not known")));
        }
        Ok(())
    }

    /// One job, when known.
    pub fn job(&self, id: &str) -> Result<Option<JobRecord>, StoreError> {
        let row: Option<JobRow> =
            with_conn!(self.database(), |conn| jobs::table.find(id).first(conn).optional().map_err(StoreError::from))?;
        row.map(JobRow::into_record).transpose()
    }

    /// How many jobs are in each state, as stored.
    pub fn job_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        with_conn!(self.database(), |conn| jobs::table
            .group_by(jobs::state)
            .select((jobs::state, diesel::dsl::count_star()))
            .order(jobs::state.asc())
            .load::<(String, i64)>(conn)
            .map_err(StoreError::from))
    }

    /// The most recent jobs first, at most `limit`.
    pub fn jobs(&self, limit: usize) -> Result<Vec<JobRecord>, StoreError> {
        let rows: Vec<JobRow> = with_conn!(self.database(), |conn| jobs::table
            .order((jobs::created_at.desc(), jobs::id.desc()))
            .limit(limit as i64)
            .load(conn)
            .map_err(StoreError::from))?;
        rows.into_iter().map(JobRow::into_record).collect()
    }

    /// Marks every queued or running job failed with [`INTERRUPTED`]; returns how many. A server
    /// calls this on start, before it accepts uploads, since no job survives a restart.
    pub fn fail_interrupted_jobs(&self) -> Result<usize, StoreError> {
        let stamp = now();
        // A job whose release was committed (phase `stored`, written in the release's own
        // transaction) succeeded, whatever stopped it from saying so.
        with_conn!(self.database(), |conn| diesel::update(
            jobs::table
                .filter(jobs::state.eq_any([JobState::Queued.as_str(), JobState::Running.as_str()]))
                .filter(jobs::phase.eq("stored"))
        )
        .set((
            jobs::state.eq(JobState::Succeeded.as_str()),
            jobs::phase.eq("done"),
            jobs::finished_at.eq(Some(stamp.as_str())),
            jobs::updated_at.eq(stamp.as_str())
        ))
        .execute(conn)
        .map_err(StoreError::from))?;
        with_conn!(self.database(), |conn| diesel::update(
            jobs::table.filter(jobs::state.eq_any([JobState::Queued.as_str(), JobState::Running.as_str()]))
        )
        .set((
            jobs::state.eq(JobState::Failed.as_str()),
            jobs::error.eq(Some(INTERRUPTED)),
            jobs::finished_at.eq(Some(stamp.as_str())),
            jobs::updated_at.eq(stamp.as_str()),
        ))
        .execute(conn)
        .map_err(StoreError::from))
    }

    /// Appends one entry to the audit log.
    pub fn record_audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        let at = if entry.at.is_empty() { now() } else { entry.at.clone() };
        let row = NewAuditRow {
            at: &at,
            sub: entry.sub.as_deref(),
            action: &entry.action,
            target: &entry.target,
            outcome: &entry.outcome,
            detail: entry.detail.as_deref(),
        };
        with_conn!(self.database(), |conn| diesel::insert_into(audit_log::table).values(&row).execute(conn).map_err(StoreError::from))?;
        Ok(())
    }

    /// The most recent audit entries first, at most `limit`.
    pub fn audit_log(&self, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        let rows: Vec<AuditRow> = with_conn!(self.database(), |conn| audit_log::table
            .order(audit_log::pk.desc())
            .limit(limit as i64)
            .load(conn)
            .map_err(StoreError::from))?;
        Ok(rows
            .into_iter()
            .map(|row| AuditEntry {
                at: row.at,
                sub: row.sub,
                action: row.action,
                target: row.target,
                outcome: row.outcome,
                detail: row.detail,
            })
            .collect())
    }
}
