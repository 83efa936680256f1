//! The terminology operations, answered from a registry snapshot plus the request's own content.
//!
//! Each operation reads its input from [`OpRequest`] (a `Parameters` resource, whichever way it
//! arrived) and returns FHIR JSON: a `Parameters` or an expanded `ValueSet`. Request-level content
//! sent as `tx-resource` lives in an overlay registry that dies with the request.

mod compare;
mod context;
mod expand;
mod lookup;
mod membership;
mod presentation;
mod request;
mod translate;
mod validate;

pub use context::Context;
pub use request::{DeniedSystem, OpRequest, MAX_IMPORT_DEPTH, TOO_COSTLY_DEFAULT};

use crate::index::Registry;
use crate::StoreError;
use model::Json;

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
    context.conclude(answer)
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

#[cfg(test)]
mod tests;
