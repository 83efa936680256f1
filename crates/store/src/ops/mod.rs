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
}

/// The operations by name.
pub fn run(name: &str, registry: &Registry, request: &OpRequest) -> Result<Json, StoreError> {
    let context = Context::new(registry, request)?;
    match name {
        "CodeSystem/$lookup" => lookup::lookup(&context),
        "CodeSystem/$validate-code" => validate::validate_code_system(&context),
        "CodeSystem/$subsumes" => lookup::subsumes(&context),
        "ValueSet/$validate-code" => validate::validate_value_set(&context),
        "ValueSet/$batch-validate-code" => validate::batch_validate(&context),
        "ValueSet/$expand" => expand::expand_operation(&context),
        "ValueSet/$compare" => compare::compare(&context),
        "ConceptMap/$translate" => translate::translate(&context),
        other => Err(StoreError::new(crate::StoreErrorKind::NotFound, format!("unknown operation '{other}'"))),
    }
}
