//! The value set one call is about (by id, canonical or inline), checked before any work: its
//! filters, its imports for cycles, and the supplements it names.

use super::definition::{identified_canonical, value_set_canonical};
use super::filter::validate_filter;
use super::walk::ImportWalk;
use crate::ops::context::Context;
use crate::{StoreError, StoreErrorKind};
use model::fhir::Issue;
use model::terminology::ValueSet;
use std::sync::Arc;

/// Finds the value set a call is about: by id, `url`/`valueSetVersion`, or inline `valueSet`.
pub fn requested_value_set(context: &Context<'_>) -> Result<Arc<ValueSet>, StoreError> {
    let value_set = find_requested_value_set(context)?;
    check_filters(context, &value_set)?;
    check_import_cycles(context, &value_set, &mut ImportWalk::default())?;
    for extension in model::fhir::array_of(&value_set.resource, "extension") {
        if model::fhir::str_of(extension, "url") == Some("http://hl7.org/fhir/StructureDefinition/valueset-supplement") {
            if let Some(canonical) = model::fhir::str_of(extension, "valueCanonical") {
                context.use_supplement(canonical)?;
            }
        }
    }
    Ok(value_set)
}

/// Refuses a value set whose imports lead back to itself, before anything else is judged.
/// Each value set is checked once, however many paths import it, and chains past
/// [`crate::MAX_IMPORT_DEPTH`] are `too-costly`.
fn check_import_cycles(context: &Context<'_>, value_set: &ValueSet, walk: &mut ImportWalk) -> Result<(), StoreError> {
    let mut sets = value_set.compose.iter().flat_map(|compose| compose.include.iter().chain(compose.exclude.iter()));
    // A value set that imports nothing has no cycle to find; the deadline is checked all the same.
    if sets.all(|set| set.value_sets.is_empty()) {
        return context.check_budget();
    }
    let identified = identified_canonical(value_set);
    if identified.as_ref().is_some_and(|canonical| walk.cycle_checked.contains(canonical)) {
        return Ok(());
    }
    walk.enter(context, value_set_canonical(value_set))?;
    let sets = value_set.compose.iter().flat_map(|compose| compose.include.iter().chain(compose.exclude.iter()));
    for set in sets {
        for imported in &set.value_sets {
            if let Some(imported) = context.imported_value_set(value_set, imported) {
                check_import_cycles(context, &imported, walk)?;
            }
        }
    }
    walk.leave();
    walk.cycle_checked.extend(identified);
    Ok(())
}

/// Checks every filter of a value set up front, so a broken one is refused naming where it is.
fn check_filters(context: &Context<'_>, value_set: &ValueSet) -> Result<(), StoreError> {
    let Some(compose) = &value_set.compose else { return Ok(()) };
    for (kind, sets) in [("include", &compose.include), ("exclude", &compose.exclude)] {
        for (set_idx, set) in sets.iter().enumerate() {
            let Some(code_system) = set.system.as_deref().and_then(|system| context.code_system(system, set.version.as_deref())) else {
                continue;
            };
            for (filter_idx, filter) in set.filters.iter().enumerate() {
                let checked = validate_filter(&code_system, filter).and_then(|()| match filter.property.as_str() {
                    "constraint" if filter.op != "=" => {
                        Err(super::filter::bad_filter(filter, &code_system, "an ECL constraint takes the operator '='"))
                    }
                    // Evaluated here, against the request's deadline; later uses read the cache.
                    "constraint" => crate::ecl::constraint_members(&code_system, &filter.value, context.request.deadline).map(drop),
                    _ => Ok(()),
                });
                checked.map_err(|mut error| {
                    for issue in &mut error.outcome.issues {
                        issue.expression = vec![format!("ValueSet.compose.{kind}[{set_idx}].filter[{filter_idx}]")];
                    }
                    error
                })?;
            }
        }
    }
    Ok(())
}

/// The error for a value set named by url (and version) that is not known, as tx servers word it.
pub(crate) fn value_set_not_found(url: &str, version: Option<&str>) -> StoreError {
    let shown = match version {
        Some(version) => format!("{url}|{version}"),
        None => url.to_owned(),
    };
    StoreError::with_issue(
        StoreErrorKind::NotFound,
        Issue::error("not-found", format!("A definition for the value Set '{shown}' could not be found"))
            .tx("not-found")
            .message_id("Unable_to_resolve_value_Set_"),
    )
}

fn find_requested_value_set(context: &Context<'_>) -> Result<Arc<ValueSet>, StoreError> {
    if let Some(id) = &context.request.instance_id {
        return context.value_set_by_id(id).map(|entry| entry.value_set.clone()).ok_or_else(|| {
            StoreError::with_issue(
                StoreErrorKind::NotFound,
                Issue::error("not-found", format!("ValueSet/{id} is not known")).tx("not-found"),
            )
        });
    }
    if let Some(resource) = context.params.resource("valueSet") {
        return ValueSet::from_json(resource)
            .map(Arc::new)
            .map_err(|error| StoreError::invalid(format!("invalid valueSet parameter: {error}")));
    }
    let url = context
        .params
        .str("url")
        .or_else(|| context.params.str("context"))
        .ok_or_else(|| StoreError::invalid("no value set was named: give url, valueSet or an instance id"))?;
    let version = context.params.str("valueSetVersion");
    context
        .value_set(&url, version.as_deref())
        .map(|entry| entry.value_set.clone())
        .ok_or_else(|| value_set_not_found(&url, version.as_deref()))
}
