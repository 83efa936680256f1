//! Listing a value set's members: compose includes and excludes, imports, filters and the choice
//! of code system version, with the snapshot's expansion cache in front.

use super::definition::{list_versions, value_set_canonical, value_set_parameter};
use super::filter::filtered_concepts;
use super::walk::ImportWalk;
use crate::index::{member_of, CachedExpansion, CodeSystemIndex, Expansion, Member, VersionedKey};
use crate::ops::context::Context;
use crate::{StoreError, StoreErrorKind};
use model::fhir::{Issue, Json};
use model::terminology::{ConceptSet, ValueSet};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

fn push_unique(list: &mut Vec<String>, item: String) {
    if !list.contains(&item) {
        list.push(item);
    }
}

/// An imported value set's members, worked out once per call for each canonical it is imported by.
fn imported_expansion(
    context: &Context<'_>,
    import: &str,
    imported_value_set: &ValueSet,
    walk: &mut ImportWalk,
) -> Result<Arc<Expansion>, StoreError> {
    // `#id` names a contained value set of its owner; only canonicals are shared across paths.
    let key = (!import.starts_with('#')).then(|| context.imported_canonical(import));
    if let Some(done) = key.as_ref().and_then(|key| walk.expansions.get(key)) {
        return Ok(done.clone());
    }
    let expansion = Arc::new(compute(context, imported_value_set, walk)?);
    if let Some(key) = key {
        walk.expansions.insert(key, expansion.clone());
    }
    Ok(expansion)
}

/// Finds the code system an include names, or says why it cannot be used.
pub(crate) fn include_code_system(
    context: &Context<'_>,
    system: &str,
    version: Option<&str>,
    value_set: &ValueSet,
) -> Result<Arc<CodeSystemIndex>, StoreError> {
    // A versionless include takes `system-version`, else `check-system-version`, as its default.
    let (named, rule) = match (context.forced_version(system), version) {
        (Some(forced), _) => (Some(forced), None),
        (None, Some(version)) => (Some(version), None),
        (None, None) => match (context.default_version(system), context.checked_version(system)) {
            (Some(default), _) => (Some(default), Some("system-version")),
            (None, Some(check)) => (Some(check), Some("check-system-version")),
            (None, None) => (None, None),
        },
    };
    if let Some(code_system) = context.code_system_exact(system, named) {
        if let Some(rule) = rule {
            context.note_rule_used(rule, &format!("{system}|{}", named.unwrap_or_default()));
        }
        if let Some(check) = context.checked_version(system) {
            let actual = code_system.version().unwrap_or_default();
            if !crate::index::version_matches(check, actual) {
                let text = format!(
                    "The version '{actual}' is not allowed for system '{system}': required to be '{check}' by a version-check parameter"
                );
                return Err(StoreError::with_issue(
                    StoreErrorKind::Invalid,
                    Issue::error("exception", text).tx("version-error").message_id("VALUESET_VERSION_CHECK"),
                ));
            }
        }
        return Ok(code_system);
    }
    let effective = context.effective_version(system, version);
    let message = match effective {
        Some(version) => {
            let known = context.known_versions(system);
            format!(
                "A definition for CodeSystem '{system}' version '{version}' could not be found, so the value set cannot be expanded. Valid versions: {}",
                list_versions(&known)
            )
        }
        None => format!(
            "A definition for CodeSystem '{system}' could not be found, so the value set '{}' cannot be expanded",
            value_set_canonical(value_set)
        ),
    };
    let mut issue = Issue::error("not-found", message).tx("not-found");
    if effective.is_some() {
        issue = issue.message_id("UNKNOWN_CODESYSTEM_VERSION_EXP");
    }
    Err(StoreError::with_issue(StoreErrorKind::NotFound, issue))
}

fn concept_set_members(
    context: &Context<'_>,
    set: &ConceptSet,
    value_set: &ValueSet,
    expansion: &mut Expansion,
    walk: &mut ImportWalk,
) -> Result<Vec<Member>, StoreError> {
    let mut imported: Vec<HashSet<(Arc<str>, String)>> = Vec::new();
    let mut imported_members: Vec<Vec<Member>> = Vec::new();
    for canonical in &set.value_sets {
        let imported_value_set = context.imported_value_set(value_set, canonical).ok_or_else(|| {
            let effective = context.imported_canonical(canonical);
            let (url, version) = model::uris::split_canonical(&effective);
            let issue = match version {
                Some(version) => Issue::error("not-found", format!("Unable to find included value set '{url}' version '{version}'"))
                    .message_id("VS_EXP_IMPORT_UNK_PINNED"),
                None => Issue::error("not-found", format!("Unable to find included value set '{url}'")),
            };
            StoreError::with_issue(StoreErrorKind::NotFound, issue.tx("not-found"))
        })?;
        let inner = imported_expansion(context, canonical, &imported_value_set, walk)?;
        for used in &inner.used_code_systems {
            push_unique(&mut expansion.used_code_systems, used.clone());
        }
        expansion.unclosed = expansion.unclosed.take().or_else(|| inner.unclosed.clone());
        expansion.unbounded |= inner.unbounded;
        for listing in &inner.listings_used {
            if !expansion.listings_used.contains(listing) {
                expansion.listings_used.push(listing.clone());
            }
        }
        if !canonical.starts_with('#') {
            push_unique(&mut expansion.used_value_sets, value_set_canonical(&imported_value_set));
        }
        imported.push(inner.members.iter().map(Member::key).collect());
        imported_members.push(inner.members.clone());
    }
    let mut members = Vec::new();
    if let Some(system) = &set.system {
        let code_system = include_code_system(context, system, set.version.as_deref(), value_set)?;
        push_unique(&mut expansion.used_code_systems, code_system.canonical());
        if !set.concepts.is_empty() {
            for reference in &set.concepts {
                let crate::grammar::Resolved::Found(holder, concept_idx, _) = code_system.resolve(&reference.code) else {
                    continue;
                };
                let mut member = member_of(&holder, concept_idx);
                if reference.display.is_some() {
                    member.display = reference.display.clone();
                }
                member.value_set_designations = reference.designations.clone();
                member.value_set_extra = reference.extra.clone();
                members.push(member);
            }
        } else {
            let concept_indexes = if set.filters.is_empty() {
                (0..code_system.len() as u32).collect()
            } else {
                filtered_concepts(&code_system, &set.filters)?
            };
            // A value set that selects concepts as `notSelectable = true` presents them as abstract.
            let selected_abstract =
                set.filters.iter().any(|filter| filter.property == "notSelectable" && filter.op == "=" && filter.value == "true");
            members.extend(concept_indexes.into_iter().map(|concept_idx| {
                let mut member = member_of(&code_system, concept_idx);
                member.not_selectable |= selected_abstract;
                member
            }));
            // A grammar's codes cannot all be listed: these are its common ones.
            if let Some(binding) = &code_system.grammar {
                expansion.unclosed = Some(crate::grammar::unclosed_reason(binding.grammar.as_ref()));
                if set.filters.is_empty() {
                    expansion.unbounded = true;
                    let source = (binding.grammar.common_codes_source().to_owned(), binding.grammar.common_codes_status().to_owned());
                    if !expansion.listings_used.contains(&source) {
                        expansion.listings_used.push(source);
                    }
                }
            }
        }
        members.retain(|member| imported.iter().all(|keys| keys.contains(&member.key())));
    } else if let Some((first, rest)) = imported_members.split_first_mut() {
        members = std::mem::take(first);
        members.retain(|member| rest.iter().all(|other| other.iter().any(|candidate| candidate.key() == member.key())));
    }
    Ok(members)
}

/// A value set's members, from the snapshot's expansion cache when the call can share it (no
/// request-level content, supplements or version rules). The cache lives in the registry snapshot,
/// so any write, which publishes a new snapshot, invalidates it.
pub(crate) fn cached_compute(context: &Context<'_>, value_set: &ValueSet) -> Result<Arc<Expansion>, StoreError> {
    // Only a value set the snapshot itself defines (stored, or implicit in a code system) is shared;
    // one sent inline may reuse a stored URL with other content.
    let defined_by_snapshot = value_set.url.as_deref().is_some_and(|url| {
        let stored = context.base_registry().value_set(url, value_set.version.as_deref());
        match stored {
            Some(entry) => *entry.value_set == *value_set,
            None => url.contains("?fhir_vs") || url.starts_with(model::terminology::loinc::VALUE_SET_BASE),
        }
    });
    let key = (defined_by_snapshot && context.shares_snapshot_expansions()).then(|| value_set_canonical(value_set));
    if let Some(key) = &key {
        if let Some(cached) = context.base_registry().cached_expansion(key) {
            // A cached expansion skips resolution, so the caller's access is checked on what it drew on.
            for used in &cached.expansion.used_code_systems {
                context.admits(used);
            }
            context.note_reads(&cached.reads);
            return Ok(cached.expansion);
        }
    }
    let Some(key) = key else {
        return Ok(Arc::new(compute(context, value_set, &mut ImportWalk::default())?));
    };
    let (computed, mut reads) = context.recording_reads(|| compute(context, value_set, &mut ImportWalk::default()));
    let computed = Arc::new(computed?);
    // The value set itself is part of what the expansion depends on, however it was found.
    reads.extend(value_set.url.iter().cloned());
    let cached = CachedExpansion { expansion: computed.clone(), reads: reads.into() };
    context.base_registry().cache_expansion(key, cached);
    Ok(computed)
}

/// Computes a value set's members, following imports; cycles are an error.
pub(crate) fn compute(context: &Context<'_>, value_set: &ValueSet, walk: &mut ImportWalk) -> Result<Expansion, StoreError> {
    walk.enter(context, value_set_canonical(value_set))?;
    let mut expansion = Expansion::default();
    let result = (|| {
        let Some(compose) = &value_set.compose else {
            for contained in model::fhir::array_of(value_set.resource.get("expansion").unwrap_or(&Json::Null), "contains") {
                let system = model::fhir::str_of(contained, "system").unwrap_or_default();
                let code = model::fhir::str_of(contained, "code").unwrap_or_default();
                let code_system = context.code_system(system, model::fhir::str_of(contained, "version"));
                let member =
                    match code_system.as_ref().and_then(|code_system| code_system.find(code).map(|idx| member_of(code_system, idx))) {
                        Some(member) => member,
                        None => Member {
                            system: Arc::from(system),
                            version: model::fhir::str_of(contained, "version").map(Arc::from),
                            code: code.to_owned(),
                            display: model::fhir::str_of(contained, "display").map(str::to_owned),
                            code_system: None,
                            concept_idx: None,
                            inactive: model::fhir::bool_of(contained, "inactive").unwrap_or(false),
                            not_selectable: model::fhir::bool_of(contained, "abstract").unwrap_or(false),
                            value_set_designations: Vec::new(),
                            value_set_extra: None,
                        },
                    };
                expansion.members.push(member);
            }
            return Ok(());
        };
        // `versionsMatch` (a value set expansion parameter) says whether one code in two versions is
        // one member (true: merged, and excluded whatever the version) or two (false: kept and excluded apart).
        let versions_match = value_set_parameter(value_set, "versionsMatch");
        let merge_versions = versions_match.as_deref() == Some("true");
        let exclude_by_version = versions_match.as_deref() == Some("false");
        let mut seen: HashMap<VersionedKey, usize> = HashMap::new();
        // Includes of several versions of one system list the newest version first, as tx servers do.
        let mut includes: Vec<&ConceptSet> = compose.include.iter().collect();
        if !merge_versions {
            includes.sort_by(|left, right| match (&left.system, &right.system) {
                (Some(left_system), Some(right_system)) if left_system == right_system => {
                    crate::index::compare_versions(right.version.as_deref(), left.version.as_deref())
                }
                _ => std::cmp::Ordering::Equal,
            });
        }
        for include in includes {
            for member in concept_set_members(context, include, value_set, &mut expansion, walk)? {
                let key = if merge_versions { (member.system.clone(), None, member.code.clone()) } else { member.versioned_key() };
                match seen.get(&key) {
                    // Merged versions keep the first member's place and display, and name the later version (as tx.fhir.org does).
                    Some(&position) => expansion.members[position].version = member.version,
                    None => {
                        seen.insert(key, expansion.members.len());
                        expansion.members.push(member);
                    }
                }
            }
        }
        let mut excluded: HashSet<VersionedKey> = HashSet::new();
        let mut excluded_exact: HashSet<VersionedKey> = HashSet::new();
        for exclude in &compose.exclude {
            // An enumerated exclude of a pinned version removes that version only.
            let by_version = exclude_by_version || (exclude.version.is_some() && !exclude.concepts.is_empty());
            for member in concept_set_members(context, exclude, value_set, &mut expansion, walk)? {
                excluded.insert(if by_version { member.versioned_key() } else { (member.system.clone(), None, member.code.clone()) });
                if by_version && !exclude_by_version {
                    excluded_exact.insert(member.versioned_key());
                }
            }
        }
        if !excluded.is_empty() {
            expansion.members.retain(|member| {
                let key = if exclude_by_version { member.versioned_key() } else { (member.system.clone(), None, member.code.clone()) };
                !excluded.contains(&key) && !excluded_exact.contains(&member.versioned_key())
            });
        }
        if compose.inactive == Some(false) {
            expansion.members.retain(|member| !member.inactive);
        }
        Ok(())
    })();
    walk.leave();
    result.map(|_| expansion)
}
