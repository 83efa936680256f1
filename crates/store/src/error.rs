//! The store's one error type: a kind the server maps to an HTTP status, and the OperationOutcome to send.

use model::fhir::{Issue, OperationOutcome};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreErrorKind {
    /// The resource, value set or code system asked for does not exist.
    NotFound,
    /// The request or the resource is wrong.
    Invalid,
    /// The request is well formed but cannot be honoured (a business rule).
    Unprocessable,
    /// The answer would exceed a configured size guard.
    TooCostly,
    /// A write's precondition failed: the `If-Match` version is not the current one, or a
    /// conditional create matched more than one resource.
    PreconditionFailed,
    /// The request reaches a restricted code system the caller has no scope for.
    Forbidden,
    /// The database cannot be reached.
    Unavailable,
    /// The database answered with an error.
    Database,
}

impl StoreErrorKind {
    /// The FHIR issue-type code for this kind.
    pub fn issue_code(self) -> &'static str {
        match self {
            StoreErrorKind::NotFound => "not-found",
            StoreErrorKind::Invalid => "invalid",
            StoreErrorKind::Unprocessable => "business-rule",
            StoreErrorKind::TooCostly => "too-costly",
            StoreErrorKind::PreconditionFailed => "conflict",
            StoreErrorKind::Forbidden => "forbidden",
            StoreErrorKind::Unavailable => "transient",
            StoreErrorKind::Database => "exception",
        }
    }
}

#[derive(Clone, Debug)]
pub struct StoreError {
    pub kind: StoreErrorKind,
    pub outcome: OperationOutcome,
}

impl StoreError {
    pub fn new(kind: StoreErrorKind, message: impl Into<String>) -> StoreError {
        StoreError { kind, outcome: OperationOutcome::single(Issue::error(kind.issue_code(), message)) }
    }

    pub fn with_issue(kind: StoreErrorKind, issue: Issue) -> StoreError {
        StoreError { kind, outcome: OperationOutcome::single(issue) }
    }

    pub fn not_found(message: impl Into<String>) -> StoreError {
        StoreError::new(StoreErrorKind::NotFound, message)
    }

    pub fn invalid(message: impl Into<String>) -> StoreError {
        StoreError::new(StoreErrorKind::Invalid, message)
    }

    pub fn precondition_failed(message: impl Into<String>) -> StoreError {
        StoreError::new(StoreErrorKind::PreconditionFailed, message)
    }

    pub fn pool(error: diesel::r2d2::PoolError) -> StoreError {
        StoreError::new(StoreErrorKind::Unavailable, format!("database unavailable: {error}"))
    }

    pub fn message(&self) -> String {
        self.outcome.issues.iter().map(|issue| issue.text.as_str()).collect::<Vec<_>>().join("; ")
    }
}

impl From<diesel::result::Error> for StoreError {
    fn from(error: diesel::result::Error) -> StoreError {
        StoreError::new(StoreErrorKind::Database, format!("database error: {error}"))
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for StoreError {}
