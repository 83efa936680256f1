//! The terminology operations, answered from a registry snapshot plus the request's own content.
//!
//! Each operation reads its input from [`OpRequest`] (a `Parameters` resource, whichever way it
//! arrived). Every operation but the draft `$compare` is typed: it takes a request parsed once
//! ([`ValidateCodeRequest`], [`LookupRequest`], [`ExpandRequest`], …) and answers a typed outcome
//! that serializes straight to FHIR JSON; `$compare` returns a JSON value.
//! Request-level content sent as `tx-resource` lives in an overlay registry that dies with the request.

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
pub use expand::ExpandOutcome;
pub use lookup::{LookupOutcome, SubsumesOutcome};
pub use request::{
    BatchValidateRequest, CodedInput, Coding, DeniedSystem, ExpandParameters, ExpandRequest, InputShape, LookupRequest, OpRequest,
    SubsumesRequest, TranslateQuery, TranslateRequest, ValidateCodeRequest, ValidateTarget, MAX_IMPORT_DEPTH, TOO_COSTLY_DEFAULT,
};
pub use translate::{TranslateCoding, TranslateMatch, TranslateOutcome};
pub use validate::{BatchValidateOutcome, ValidateCodeOutcome};

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

/// `$validate-code` against a code system or a value set, typed.
pub fn validate_code(registry: &Registry, request: &ValidateCodeRequest) -> Result<ValidateCodeOutcome, StoreError> {
    let context = Context::new(registry, &request.call)?;
    let answer = validate_in(&context, request.target, request.input.as_ref());
    context.conclude(answer)
}

fn validate_in(context: &Context<'_>, target: ValidateTarget, input: Option<&CodedInput>) -> Result<ValidateCodeOutcome, StoreError> {
    match target {
        ValidateTarget::CodeSystem => validate::validate_code_system(context, input),
        ValidateTarget::ValueSet => validate::validate_value_set(context, input),
    }
}

/// `ValueSet/$batch-validate-code`, typed: each entry answers on its own, and a licence refusal
/// anywhere refuses the whole batch.
pub fn validate_code_batch(registry: &Registry, request: &BatchValidateRequest) -> Result<BatchValidateOutcome, StoreError> {
    let context = Context::new(registry, &request.call)?;
    let answer = validate::batch_validate(&context, &request.entries);
    context.conclude(answer)
}

/// `ValueSet/$expand`, typed: the answer's entries are written when it is serialized.
pub fn expand(registry: &Registry, request: &ExpandRequest) -> Result<ExpandOutcome, StoreError> {
    let context = Context::new(registry, &request.call)?;
    let answer = expand::expand(&context, request.parameters.clone());
    context.conclude(answer)
}

/// `ConceptMap/$translate`, typed.
pub fn translate(registry: &Registry, request: &TranslateRequest) -> Result<TranslateOutcome, StoreError> {
    let context = Context::new(registry, &request.call)?;
    let answer = translate::translate(&context, &request.query);
    context.conclude(answer)
}

/// `CodeSystem/$lookup`, typed.
pub fn lookup(registry: &Registry, request: &LookupRequest) -> Result<LookupOutcome, StoreError> {
    let context = Context::new(registry, &request.call)?;
    let answer = lookup::lookup_typed(&context, request);
    context.conclude(answer)
}

/// `CodeSystem/$subsumes`, typed.
pub fn subsumes(registry: &Registry, request: &SubsumesRequest) -> Result<SubsumesOutcome, StoreError> {
    let context = Context::new(registry, &request.call)?;
    let answer = lookup::subsumes(&context, request);
    context.conclude(answer)
}

fn run_in(name: &str, context: &Context<'_>) -> Result<Json, StoreError> {
    let validate_as = |target| {
        let input = CodedInput::parse(context.params, target);
        validate_in(context, target, input.as_ref()).map(|outcome| outcome.to_json())
    };
    match name {
        "CodeSystem/$lookup" => lookup::lookup_by_name(context).map(|outcome| outcome.to_json()),
        "CodeSystem/$validate-code" => validate_as(ValidateTarget::CodeSystem),
        "CodeSystem/$subsumes" => lookup::subsumes_by_name(context).map(SubsumesOutcome::to_json),
        "ValueSet/$validate-code" => validate_as(ValidateTarget::ValueSet),
        "ValueSet/$batch-validate-code" => {
            validate::batch_validate(context, &BatchValidateRequest::entries_of(context.request)).map(|outcome| outcome.to_json())
        }
        "ValueSet/$expand" => expand::expand(context, ExpandParameters::parse(context.params)).map(|outcome| outcome.to_json()),
        "ValueSet/$compare" => compare::compare(context),
        "ConceptMap/$translate" => translate::translate_by_name(context).map(|outcome| outcome.to_json()),
        other => Err(StoreError::new(crate::StoreErrorKind::NotFound, format!("unknown operation '{other}'"))),
    }
}

#[cfg(test)]
mod tests;
