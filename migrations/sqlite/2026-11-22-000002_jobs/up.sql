-- Upload jobs and the audit log, SQLite flavour. Keep in step with migrations/postgres.
CREATE TABLE jobs (
    id TEXT PRIMARY KEY NOT NULL,
    -- queued, running, succeeded or failed.
    state TEXT NOT NULL,
    -- What the job is doing now: staged, parsing, diffing, storing, done.
    phase TEXT NOT NULL,
    format TEXT NOT NULL,
    version TEXT,
    dry_run BOOLEAN NOT NULL,
    make_current BOOLEAN NOT NULL,
    -- The token's `sub`, or NULL for an anonymous write.
    sub TEXT,
    -- JSON: [{"name": …, "bytes": …}].
    files TEXT NOT NULL,
    bytes_total BIGINT NOT NULL,
    bytes_done BIGINT NOT NULL,
    rows_done BIGINT NOT NULL,
    -- JSON objects, set as the job goes.
    counts TEXT,
    diagnostics TEXT,
    n_diagnostics BIGINT NOT NULL,
    diff TEXT,
    error TEXT,
    created_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    updated_at TEXT NOT NULL
);
CREATE INDEX jobs_by_state ON jobs (state);

-- Who wrote what, when, and how it ended: every upload and every REST write, refusals included.
CREATE TABLE audit_log (
    pk INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    sub TEXT,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    outcome TEXT NOT NULL,
    detail TEXT
);
