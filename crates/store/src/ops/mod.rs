//! The terminology operations, answered from a registry snapshot plus the request's own content.
//!
//! Each operation reads its input from [`OpRequest`] (a `Parameters` resource, whichever way it
//! arrived) and returns FHIR JSON: a `Parameters` or an expanded `ValueSet`. Request-level content
//! sent as `tx-resource` lives in an overlay registry that dies with the request.

mod compare;
mod context;
pub(crate) mod expand;
mod lookup;
mod translate;
mod validate;

pub use context::Context;

use crate::index::Registry;
use crate::StoreError;
use model::fhir::Parameters;
use model::Json;

/// The default size guard for `$expand`: larger unbounded expansions answer `too-costly`.
pub const TOO_COSTLY_DEFAULT: usize = 10_000;

/// How deeply value sets may import value sets: deeper chains answer `too-costly`.
pub const MAX_IMPORT_DEPTH: usize = 64;

/// A code system this caller may not use (licensed content without the scope), and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeniedSystem {
    /// The system's canonical URL (its OID alias is denied with it).
    pub url: String,
    /// What the caller is told, for example the scope that would unlock it.
    pub message: String,
}

/// One operation call.
#[derive(Clone, Debug, Default)]
pub struct OpRequest {
    pub params: Parameters,
    /// The resource id for instance-level calls (`/ValueSet/{id}/$expand`).
    pub instance_id: Option<String>,
    /// The HTTP `Accept-Language` header, when sent.
    pub accept_language: Option<String>,
    /// The expansion size guard for this call.
    pub too_costly_threshold: Option<usize>,
    /// The code systems this call may not touch, however it reaches them: directly, by OID,
    /// through implicit, stored, inline or imported value sets, `tx-resource`, or a ConceptMap.
    pub denied_systems: Vec<DeniedSystem>,
    /// When the call must give up and answer `too-costly`.
    pub deadline: Option<std::time::Instant>,
}

/// The operations [`run`] answers, as `Type/$name`.
pub const OPERATIONS: &[&str] = &[
    "CodeSystem/$lookup",
    "CodeSystem/$validate-code",
    "CodeSystem/$subsumes",
    "ValueSet/$validate-code",
    "ValueSet/$batch-validate-code",
    "ValueSet/$expand",
    "ValueSet/$compare",
    "ConceptMap/$translate",
];

/// The operations by name. A call that reached a denied code system anywhere in its resolution
/// is refused as a whole, whatever it computed.
pub fn run(name: &str, registry: &Registry, request: &OpRequest) -> Result<Json, StoreError> {
    let context = Context::new(registry, request)?;
    let answer = run_in(name, &context);
    if let Some(denied) = context.denial() {
        return Err(StoreError::with_issue(crate::StoreErrorKind::Forbidden, model::fhir::Issue::error("forbidden", denied.message)));
    }
    // A date of service that no loaded version covers is the answer, whatever else was found.
    if let Some(message) = context.out_of_period() {
        return Err(StoreError::with_issue(crate::StoreErrorKind::NotFound, model::fhir::Issue::error("not-found", message).at("date")));
    }
    answer
}

fn run_in(name: &str, context: &Context<'_>) -> Result<Json, StoreError> {
    match name {
        "CodeSystem/$lookup" => lookup::lookup(context),
        "CodeSystem/$validate-code" => validate::validate_code_system(context),
        "CodeSystem/$subsumes" => lookup::subsumes(context),
        "ValueSet/$validate-code" => validate::validate_value_set(context),
        "ValueSet/$batch-validate-code" => validate::batch_validate(context),
        "ValueSet/$expand" => expand::expand_operation(context),
        "ValueSet/$compare" => compare::compare(context),
        "ConceptMap/$translate" => translate::translate(context),
        other => Err(StoreError::new(crate::StoreErrorKind::NotFound, format!("unknown operation '{other}'"))),
    }
}
