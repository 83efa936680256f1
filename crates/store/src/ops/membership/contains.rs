//! Whether one concept is a member of a value set, answered without listing the value set, and
//! which of several includes of one system a coding is judged against.

use super::definition::{identified_canonical, value_set_canonical, value_set_parameter};
use super::filter::{filter_matches, CompiledFilter};
use super::walk::ImportWalk;
use crate::index::CodeSystemIndex;
use crate::ops::context::Context;
use crate::{StoreError, StoreErrorKind};
use model::fhir::{array_of, str_of, Issue};
use model::terminology::{Compose, ConceptSet, ValueSet};
use roaring::RoaringBitmap;
use std::collections::HashSet;
use std::sync::Arc;

/// Whether a concept is in one include or exclude.
pub(crate) fn set_contains(
    context: &Context<'_>,
    set: &ConceptSet,
    owner: &ValueSet,
    code_system: &Arc<CodeSystemIndex>,
    concept_idx: u32,
    walk: &mut ImportWalk,
) -> Result<bool, StoreError> {
    if let Some(system) = &set.system {
        if system != code_system.url() && model::uris::canonical_for_oid(system) != Some(code_system.url()) {
            return Ok(false);
        }
        let code = &code_system.concept(concept_idx).code;
        let in_set = if !set.concepts.is_empty() {
            set.concepts.iter().any(|reference| {
                &reference.code == code || (!code_system.case_sensitive() && reference.code.to_lowercase() == code.to_lowercase())
            })
        } else {
            let mut all = true;
            for filter in &set.filters {
                if !filter_matches(code_system, concept_idx, filter)? {
                    all = false;
                    break;
                }
            }
            all
        };
        if !in_set {
            return Ok(false);
        }
    }
    for canonical in &set.value_sets {
        let imported = context.imported_value_set(owner, canonical).ok_or_else(|| {
            let canonical = context.imported_canonical(canonical);
            StoreError::with_issue(
                StoreErrorKind::NotFound,
                Issue::error("not-found", format!("A definition for the value Set '{canonical}' could not be found"))
                    .tx("not-found")
                    .message_id("Unable_to_resolve_value_Set_"),
            )
        })?;
        if !value_set_contains(context, &imported, code_system, concept_idx, walk)? {
            return Ok(false);
        }
    }
    Ok(set.system.is_some() || !set.value_sets.is_empty())
}

/// Whether a concept is a member of a value set, without expanding it.
pub(crate) fn value_set_contains(
    context: &Context<'_>,
    value_set: &ValueSet,
    code_system: &Arc<CodeSystemIndex>,
    concept_idx: u32,
    walk: &mut ImportWalk,
) -> Result<bool, StoreError> {
    let canonical = value_set_canonical(value_set);
    let memo_key = identified_canonical(value_set).map(|identified| (identified, code_system.canonical(), concept_idx));
    if let Some(known) = memo_key.as_ref().and_then(|key| walk.memberships.get(key)) {
        return Ok(*known);
    }
    let Some(compose) = &value_set.compose else {
        let code = &code_system.concept(concept_idx).code;
        let contains = value_set.resource.get("expansion").map(|expansion| array_of(expansion, "contains")).unwrap_or(&[]);
        return Ok(contains.iter().any(|entry| str_of(entry, "system") == Some(code_system.url()) && str_of(entry, "code") == Some(code)));
    };
    walk.enter(context, canonical)?;
    let result = (|| {
        let mut included = false;
        for include in &compose.include {
            if set_contains(context, include, value_set, code_system, concept_idx, walk)? {
                included = true;
                break;
            }
        }
        if !included {
            return Ok(false);
        }
        let versions_kept_apart = value_set_parameter(value_set, "versionsMatch").as_deref() == Some("false");
        for exclude in &compose.exclude {
            // An exclude pinned to another version removes the code when that version has it (versions
            // match by default), and never when the value set keeps versions apart.
            let excluded = match (&exclude.version, &exclude.system, code_system.version()) {
                (Some(pinned), Some(system), Some(actual)) if !crate::index::version_matches(pinned, actual) => {
                    let code = &code_system.concept(concept_idx).code;
                    match context.code_system_exact(system, Some(pinned)).and_then(|other| other.find(code).map(|idx| (other, idx))) {
                        Some((other, idx)) if !versions_kept_apart => set_contains(context, exclude, value_set, &other, idx, walk)?,
                        _ => false,
                    }
                }
                _ => set_contains(context, exclude, value_set, code_system, concept_idx, walk)?,
            };
            if excluded {
                return Ok(false);
            }
        }
        if compose.inactive == Some(false) && code_system.flags[concept_idx as usize].inactive {
            return Ok(false);
        }
        Ok(true)
    })();
    walk.leave();
    if let (Some(key), Ok(answer)) = (memo_key, &result) {
        walk.memberships.insert(key, *answer);
    }
    result
}

/// Whether a concept is a member of the value set a call asked about. A stored value set whose
/// compose needs nothing but its own includes and excludes (no imports, no version-pinned
/// exclude) is answered from the snapshot's membership of the code system index, worked out once
/// with the very rules of [`value_set_contains`]; every other value set is worked out per call.
pub(crate) fn requested_value_set_contains(
    context: &Context<'_>,
    value_set: &ValueSet,
    code_system: &Arc<CodeSystemIndex>,
    concept_idx: u32,
) -> Result<bool, StoreError> {
    match snapshot_members(context, value_set, code_system) {
        Some(members) => Ok(members.contains(concept_idx)),
        None => value_set_contains(context, value_set, code_system, concept_idx, &mut ImportWalk::default()),
    }
}

/// The snapshot's membership of a stored value set in one code system index, worked out on
/// first use; `None` when the call or the value set cannot share it.
fn snapshot_members(context: &Context<'_>, value_set: &ValueSet, code_system: &Arc<CodeSystemIndex>) -> Option<Arc<RoaringBitmap>> {
    // What the call sees must be the snapshot itself, and a grammar resolves codes per call.
    if !context.shares_snapshot_expansions() || code_system.grammar.is_some() {
        return None;
    }
    let compose = value_set.compose.as_ref()?;
    let sets = || compose.include.iter().chain(compose.exclude.iter());
    if sets().any(|set| !set.value_sets.is_empty()) || compose.exclude.iter().any(|set| set.version.is_some()) {
        return None;
    }
    let registry = context.base_registry();
    if let Some(members) = registry.cached_membership(value_set, code_system) {
        return Some(members);
    }
    // Only the value set stored in this snapshot is shared; one sent inline may reuse its URL.
    let stored = registry.value_set(value_set.url.as_deref()?, value_set.version.as_deref())?;
    if !std::ptr::eq(Arc::as_ptr(&stored.value_set), value_set) {
        return None;
    }
    // Nor is an index made for this call (a grammar's one-code index, a supplemented merge).
    if !registry.code_system_versions(code_system.url()).iter().any(|held| Arc::ptr_eq(held, code_system)) {
        return None;
    }
    // A filter this code system cannot apply is reported by the per-call path, as before; so is
    // running past the call's time budget (the per-call check of one code is cheap).
    let members = Arc::new(compose_members(compose, code_system, || context.check_budget()).ok()?);
    registry.cache_membership(stored.value_set.clone(), code_system.clone(), members.clone());
    Some(members)
}

/// One include or exclude with its filters compiled, as [`set_contains`] judges a set without imports.
struct CompiledSet<'s> {
    /// The listed codes, when the set lists codes; lower-cased as well for a case-insensitive system.
    listed: Option<(HashSet<&'s str>, HashSet<String>)>,
    filters: Vec<CompiledFilter<'s>>,
}

impl<'s> CompiledSet<'s> {
    /// `None` for a set that holds nothing of this code system (another system, or none named).
    fn new(set: &'s ConceptSet, code_system: &CodeSystemIndex) -> Result<Option<CompiledSet<'s>>, StoreError> {
        let Some(system) = &set.system else { return Ok(None) };
        if system != code_system.url() && model::uris::canonical_for_oid(system) != Some(code_system.url()) {
            return Ok(None);
        }
        if !set.concepts.is_empty() {
            let exact = set.concepts.iter().map(|reference| reference.code.as_str()).collect();
            let folded = match code_system.case_sensitive() {
                true => HashSet::new(),
                false => set.concepts.iter().map(|reference| reference.code.to_lowercase()).collect(),
            };
            return Ok(Some(CompiledSet { listed: Some((exact, folded)), filters: Vec::new() }));
        }
        let filters = set.filters.iter().map(|filter| CompiledFilter::new(code_system, filter)).collect::<Result<_, _>>()?;
        Ok(Some(CompiledSet { listed: None, filters }))
    }

    fn holds(&self, code_system: &CodeSystemIndex, concept_idx: u32) -> Result<bool, StoreError> {
        if let Some((exact, folded)) = &self.listed {
            let code = code_system.concept(concept_idx).code.as_str();
            return Ok(exact.contains(code) || (!folded.is_empty() && folded.contains(&code.to_lowercase())));
        }
        for filter in &self.filters {
            if !filter.matches(code_system, concept_idx)? {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

/// The sets that can hold concepts of this code system index, compiled.
fn compiled_sets<'s>(sets: &'s [ConceptSet], code_system: &CodeSystemIndex) -> Result<Vec<CompiledSet<'s>>, StoreError> {
    let compiled = sets.iter().map(|set| CompiledSet::new(set, code_system)).collect::<Result<Vec<_>, _>>()?;
    Ok(compiled.into_iter().flatten().collect())
}

/// Every concept of a code system index that a compose without imports or version-pinned
/// excludes holds: in some include, in no exclude, and active when the compose asks for that.
fn compose_members(
    compose: &Compose,
    code_system: &CodeSystemIndex,
    check_budget: impl Fn() -> Result<(), StoreError>,
) -> Result<RoaringBitmap, StoreError> {
    let (includes, excludes) = (compiled_sets(&compose.include, code_system)?, compiled_sets(&compose.exclude, code_system)?);
    let mut members = RoaringBitmap::new();
    if includes.is_empty() {
        return Ok(members);
    }
    'concepts: for concept_idx in 0..code_system.len() as u32 {
        // A large code system takes a while: the call that pays for it keeps to its time budget.
        if concept_idx % 4096 == 4095 {
            check_budget()?;
        }
        if compose.inactive == Some(false) && code_system.flags[concept_idx as usize].inactive {
            continue;
        }
        let mut included = false;
        for include in &includes {
            if include.holds(code_system, concept_idx)? {
                included = true;
                break;
            }
        }
        if !included {
            continue;
        }
        for exclude in &excludes {
            if exclude.holds(code_system, concept_idx)? {
                continue 'concepts;
            }
        }
        members.insert(concept_idx);
    }
    Ok(members)
}

/// Of several includes of one system (in different versions), the one a coding is judged against:
/// among those its version allows, newest first, the first that holds the code with the given
/// display, else the first that holds the code, else the newest allowed, else the first.
pub(crate) fn include_for_coding<'v>(
    context: &Context<'_>,
    value_set: &ValueSet,
    system: &str,
    includes: Vec<&'v ConceptSet>,
    code: &str,
    version: Option<&str>,
    display: Option<&str>,
) -> Option<&'v ConceptSet> {
    if includes.len() <= 1 {
        return includes.first().copied();
    }
    let mut candidates = includes.clone();
    candidates.sort_by(|left, right| crate::index::compare_versions(right.version.as_deref(), left.version.as_deref()));
    if let Some(version) = version {
        candidates.retain(|include| include.version.as_deref().is_none_or(|pattern| crate::index::version_matches(pattern, version)));
    }
    // Whether the include holds the code, and (when `with_display`) the given display for it.
    let holds_code = |include: &ConceptSet, with_display: bool| {
        let Some(code_system) = context.code_system_exact(system, include.version.as_deref()) else { return false };
        let Some((concept_idx, _)) = code_system.find_lenient(code) else { return false };
        if !set_contains(context, include, value_set, &code_system, concept_idx, &mut ImportWalk::default()).unwrap_or(false) {
            return false;
        }
        let concept = code_system.concept(concept_idx);
        let fits = |value: &str| display.is_none_or(|given| value.to_lowercase() == given.to_lowercase());
        !with_display
            || concept.display.as_deref().is_some_and(fits)
            || concept.designations.iter().any(|designation| fits(&designation.value))
    };
    candidates
        .iter()
        .find(|include| holds_code(include, true))
        .or_else(|| candidates.iter().find(|include| holds_code(include, false)))
        .or(candidates.first())
        .or(includes.first())
        .copied()
}
