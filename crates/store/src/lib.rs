//! fhirterm's store: persistence, in-memory indexes and the terminology operations, behind one
//! facade, [`Terminology`].
//!
//! # Brief overview
//! - [`db::Database`] holds a pool for SQLite (the embedded default) or PostgreSQL, chosen by URL,
//!   with the migrations of `migrations/` embedded and run on open.
//! - `repo` writes and reads rows: one per resource, and for a CodeSystem one per concept,
//!   designation and property. Every write is one transaction. `timing` logs a load's phases.
//! - `index` derives the in-memory [`index::Registry`] from those rows: code lookup, the is-a
//!   graph, word indexes. It is immutable and swapped atomically after each write, so readers never
//!   wait and never see half a change.
//! - [`index_files`] saves each stored code system's index as a file beside the database, which
//!   a start reads back instead of the rows while its write key is current.
//! - `billing` checks a practice's billing list against the loaded releases and makes its
//!   categories value sets (and a fragment or local code system where no release is loaded).
//! - `jobs` stores upload jobs and the audit log; `diff` says what a new release of a code
//!   system changes against the version served now.
//! - [`grammar`] holds the code systems defined by a grammar (UCUM, BCP-47, MIME types), served
//!   as base content whose unlisted codes the operations read through the grammar.
//! - `ops` answers `$lookup`, `$validate-code`, `$expand`, `$subsumes` and `$translate` from a
//!   registry snapshot plus any `tx-resource` content sent with the request.
//!
//! # Design decisions
//! The database is ground state; the registry is derived state and can always be rebuilt from it.
//! A write counter in the database lets replicas sharing one PostgreSQL notice each other's writes;
//! on PostgreSQL every write also sends `NOTIFY`, which [`ChangeListener`] hears within 100 ms.
//!
//! # What this crate does not do
//! It knows nothing of HTTP, JWT or release file formats; diesel types never leave it.
//!
//! Tests: unit tests beside the modules; the backend-generic suite in `tests/it/store.rs`.

pub mod billing;
mod changes;
pub mod db;
pub mod diff;
pub mod ecl;
mod error;
pub mod grammar;
mod ids;
pub mod index;
pub mod index_files;
pub mod jobs;
pub mod ops;
mod repo;
mod schema;
mod terminology;
mod timing;

pub use billing::{BillingOptions, BillingPlan, BillingRejected};
pub use changes::ChangeListener;
pub use diff::CodeSystemDiff;
pub use error::{StoreError, StoreErrorKind};
pub use index_files::{default_index_dir, FORMAT_VERSION as INDEX_FILE_FORMAT_VERSION};
pub use jobs::{AuditEntry, JobRecord, JobState, JobUpdate, NewJob};
pub use ops::{
    BatchValidateOutcome, BatchValidateRequest, DeniedSystem, ExpandOutcome, ExpandRequest, LookupOutcome, LookupRequest, OpRequest,
    SubsumesOutcome, SubsumesRequest, TranslateOutcome, TranslateRequest, ValidateCodeOutcome, ValidateCodeRequest, ValidateTarget,
    MAX_IMPORT_DEPTH, TOO_COSTLY_DEFAULT,
};
pub use terminology::{
    CodeSystemSummary, CodeSystemVersionSummary, Created, IndexSource, LoadSummary, SearchQuery, SearchResult, Terminology,
};
