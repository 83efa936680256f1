//! `$expand`, and the value set membership test that `$validate-code` shares with it.
//!
//! An expansion is computed as a list of members in a stable order (include order, then code
//! system order), filtered (`activeOnly`, text `filter`), counted, and only then paged, so
//! `total` is exact at every offset and a page costs what the page holds to render.

use super::Context;
use crate::index::text;
use crate::index::CodeSystemIndex;
use crate::{StoreError, StoreErrorKind};
use model::fhir::{extension_value, extensions_of, Issue, Json};
use model::terminology::{ConceptSet, Designation, Filter, ValueSet};
use regex::Regex;
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// One code in an expansion.
#[derive(Clone, Debug)]
pub struct Member {
    pub system: String,
    pub version: Option<String>,
    pub code: String,
    pub display: Option<String>,
    pub code_system: Option<Arc<CodeSystemIndex>>,
    pub concept_idx: Option<u32>,
    pub inactive: bool,
    pub not_selectable: bool,
    /// Designations the value set itself gives the code.
    pub value_set_designations: Vec<Designation>,
    pub value_set_extra: Option<Json>,
}

impl Member {
    fn key(&self) -> (String, String) {
        (self.system.clone(), self.code.clone())
    }

    /// The same code in two versions of a system is two members.
    fn versioned_key(&self) -> (String, Option<String>, String) {
        (self.system.clone(), self.version.clone(), self.code.clone())
    }
}

/// A computed expansion, before filtering and paging.
#[derive(Default, Debug)]
pub struct Expansion {
    pub members: Vec<Member>,
    pub used_code_systems: Vec<String>,
    pub used_value_sets: Vec<String>,
    /// Why the members are not every code the value set holds (a grammar code system listed by
    /// its common codes only), for the `valueset-unclosed` extension.
    pub unclosed: Option<String>,
    /// Whether a whole grammar code system was included, so the true total is infinite.
    pub unbounded: bool,
    /// The value sets (`url|version`, status) whose listing stood in for a whole grammar code system.
    pub listings_used: Vec<(String, String)>,
}

fn push_unique(list: &mut Vec<String>, item: String) {
    if !list.contains(&item) {
        list.push(item);
    }
}

/// The value sets one call is inside of while it follows imports: the path (for cycles and the
/// depth limit) and what each import already gave, so that a value set imported along many paths
/// (a diamond) is worked out once per call.
#[derive(Default)]
pub(crate) struct ImportWalk {
    path: Vec<String>,
    expansions: HashMap<String, Arc<Expansion>>,
    /// Value sets whose imports were already checked for cycles.
    cycle_checked: HashSet<String>,
    /// Membership answers, by value set canonical, code system canonical and concept.
    pub(crate) memberships: HashMap<(String, String, u32), bool>,
}

impl ImportWalk {
    /// Steps into a value set: a cycle is `vs-invalid`, nesting past [`super::MAX_IMPORT_DEPTH`]
    /// and a call past its deadline are `too-costly`.
    pub(crate) fn enter(&mut self, context: &Context<'_>, canonical: String) -> Result<(), StoreError> {
        if self.path.contains(&canonical) {
            let message =
                format!("Found a circularity pointing to {canonical} processing ValueSet with pathway [{}]", self.path.join(", "));
            return Err(StoreError::with_issue(
                StoreErrorKind::Unprocessable,
                Issue::error("processing", message).tx("vs-invalid").message_id("VALUESET_CIRCULAR_REFERENCE"),
            ));
        }
        if self.path.len() >= super::MAX_IMPORT_DEPTH {
            let message = format!(
                "Value sets import value sets more than {} levels deep (at {canonical}); this server does not follow chains that long",
                super::MAX_IMPORT_DEPTH
            );
            return Err(StoreError::with_issue(StoreErrorKind::TooCostly, Issue::error("too-costly", message)));
        }
        context.check_budget()?;
        self.path.push(canonical);
        Ok(())
    }

    pub(crate) fn leave(&mut self) {
        self.path.pop();
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

/// `url|version` of a value set, or its url.
pub fn value_set_canonical(value_set: &ValueSet) -> String {
    identified_canonical(value_set).unwrap_or_else(|| "(unidentified)".to_owned())
}

/// `url|version` of a value set, or its url; `None` when it has no url, so that it cannot be
/// told apart from another without one (and must not share memoised answers).
pub(crate) fn identified_canonical(value_set: &ValueSet) -> Option<String> {
    match (&value_set.url, &value_set.version) {
        (Some(url), Some(version)) => Some(format!("{url}|{version}")),
        (Some(url), None) => Some(url.clone()),
        _ => None,
    }
}

pub(crate) fn member_of(code_system: &Arc<CodeSystemIndex>, concept_idx: u32) -> Member {
    let concept = code_system.concept(concept_idx);
    let flags = &code_system.flags[concept_idx as usize];
    Member {
        system: code_system.url().to_owned(),
        version: code_system.version().map(str::to_owned),
        code: concept.code.clone(),
        display: concept.display.clone(),
        code_system: Some(code_system.clone()),
        concept_idx: Some(concept_idx),
        inactive: flags.inactive,
        not_selectable: flags.not_selectable,
        value_set_designations: Vec::new(),
        value_set_extra: None,
    }
}

fn bad_filter(filter: &Filter, code_system: &CodeSystemIndex, why: &str) -> StoreError {
    StoreError::with_issue(
        StoreErrorKind::Invalid,
        Issue::error(
            "invalid",
            format!(
                "The filter \"{} {} {}\" for the code system {} is not understood: {why}",
                filter.property,
                filter.op,
                filter.value,
                code_system.url()
            ),
        )
        .tx("vs-invalid"),
    )
}

fn full_match(pattern: &str) -> Result<Regex, regex::Error> {
    Regex::new(&format!("^(?:{pattern})$"))
}

/// Whether one concept satisfies one filter (a filter used once; loops compile it first).
pub fn filter_matches(code_system: &CodeSystemIndex, concept_idx: u32, filter: &Filter) -> Result<bool, StoreError> {
    CompiledFilter::new(code_system, filter)?.matches(code_system, concept_idx)
}

/// A filter with what does not depend on the concept worked out once: its regex compiled, its
/// target concept found and its listed values split, so that testing many concepts costs only
/// the test itself.
pub(crate) struct CompiledFilter<'f> {
    filter: &'f Filter,
    regex: Option<Regex>,
    target: Option<u32>,
    listed: Vec<&'f str>,
    /// The members of an ECL `constraint` filter, evaluated once (and cached by `crate::ecl`).
    constraint: Option<Arc<roaring::RoaringBitmap>>,
}

impl<'f> CompiledFilter<'f> {
    pub(crate) fn new(code_system: &CodeSystemIndex, filter: &'f Filter) -> Result<CompiledFilter<'f>, StoreError> {
        let regex = match filter.op.as_str() {
            "regex" => Some(full_match(&filter.value).map_err(|error| bad_filter(filter, code_system, &error.to_string()))?),
            _ => None,
        };
        let target = code_system.find_lenient(&filter.value).map(|(idx, _)| idx);
        let listed = filter.value.split(',').map(str::trim).collect();
        let constraint = match filter.property.as_str() {
            "constraint" => Some(crate::ecl::constraint_members(code_system, &filter.value, None)?),
            _ => None,
        };
        Ok(CompiledFilter { filter, regex, target, listed, constraint })
    }

    fn regex_matches(&self, text: &str) -> bool {
        self.regex.as_ref().is_some_and(|regex| regex.is_match(text))
    }

    pub(crate) fn matches(&self, code_system: &CodeSystemIndex, concept_idx: u32) -> Result<bool, StoreError> {
        let filter = self.filter;
        let concept = code_system.concept(concept_idx);
        if let Some(binding) = &code_system.grammar {
            if let Some(answer) = binding.grammar.filter_matches(&concept.code, filter) {
                return answer.map_err(|why| bad_filter(filter, code_system, &why));
            }
        }
        if let Some(members) = &self.constraint {
            return Ok(members.contains(concept_idx));
        }
        let target = self.target;
        let property = filter.property.as_str();
        let is_concept_property = matches!(property, "concept" | "code");
        match (property, filter.op.as_str()) {
            (_, "is-a") if is_concept_property => Ok(target.is_some_and(|root| code_system.subsumes(root, concept_idx))),
            (_, "descendent-of") if is_concept_property => {
                Ok(target.is_some_and(|root| root != concept_idx && code_system.subsumes(root, concept_idx)))
            }
            (_, "is-not-a") if is_concept_property => Ok(!target.is_some_and(|root| code_system.subsumes(root, concept_idx))),
            (_, "generalizes") if is_concept_property => Ok(target.is_some_and(|leaf| code_system.subsumes(concept_idx, leaf))),
            (_, "child-of") if is_concept_property => {
                Ok(target.is_some_and(|parent| code_system.parents[concept_idx as usize].contains(&parent)))
            }
            (_, "descendent-leaf") if is_concept_property => Ok(code_system.children[concept_idx as usize].is_empty()
                && target.is_some_and(|root| root != concept_idx && code_system.subsumes(root, concept_idx))),
            (_, "=") if is_concept_property => Ok(concept.code == filter.value),
            (_, "in") if is_concept_property => Ok(self.listed.contains(&concept.code.as_str())),
            (_, "not-in") if is_concept_property => Ok(!self.listed.contains(&concept.code.as_str())),
            (_, "regex") if is_concept_property => Ok(self.regex_matches(&concept.code)),
            ("display", op) => {
                let display = concept.display.as_deref().unwrap_or_default();
                match op {
                    "=" => Ok(display == filter.value),
                    "regex" => Ok(self.regex_matches(display)),
                    "exists" => Ok(concept.display.is_some() == (filter.value == "true")),
                    _ => Err(bad_filter(filter, code_system, "unsupported operator for display")),
                }
            }
            (_, op) => {
                let known = code_system.code_system.properties.iter().any(|definition| definition.code == property)
                    || matches!(property, "status" | "inactive" | "notSelectable" | "parent" | "child" | "deprecated");
                if !known {
                    return Err(bad_filter(filter, code_system, &format!("unknown property '{property}'")));
                }
                let mut values: Vec<String> = concept
                    .properties
                    .iter()
                    .filter(|candidate| candidate.code == property)
                    .filter_map(|candidate| candidate.value_text())
                    .collect();
                let flags = &code_system.flags[concept_idx as usize];
                match property {
                    "inactive" if values.is_empty() => values.push(flags.inactive.to_string()),
                    "parent" => {
                        values.extend(code_system.parents[concept_idx as usize].iter().map(|idx| code_system.concept(*idx).code.clone()))
                    }
                    "child" => {
                        values.extend(code_system.children[concept_idx as usize].iter().map(|idx| code_system.concept(*idx).code.clone()))
                    }
                    _ => {}
                }
                match op {
                    "=" => Ok(values.iter().any(|value| *value == filter.value)),
                    "in" => Ok(values.iter().any(|value| self.listed.contains(&value.as_str()))),
                    "not-in" => Ok(!values.iter().any(|value| self.listed.contains(&value.as_str()))),
                    "regex" => Ok(values.iter().any(|value| self.regex_matches(value))),
                    "exists" => Ok(values.is_empty() != (filter.value == "true")),
                    _ => Err(bad_filter(filter, code_system, &format!("unsupported operator '{op}'"))),
                }
            }
        }
    }
}

/// Checks a filter once against the code system, so that a broken one fails even with no concepts.
fn validate_filter(code_system: &CodeSystemIndex, filter: &Filter) -> Result<(), StoreError> {
    const OPERATORS: &[&str] =
        &["=", "is-a", "descendent-of", "is-not-a", "regex", "in", "not-in", "generalizes", "child-of", "descendent-leaf", "exists"];
    if !OPERATORS.contains(&filter.op.as_str()) {
        return Err(bad_filter(filter, code_system, &format!("unknown operator '{}'", filter.op)));
    }
    if filter.value.is_empty() && filter.op != "exists" {
        let text = format!("The system {} filter with property = {}, op = {} has no value", code_system.url(), filter.property, filter.op);
        return Err(StoreError::with_issue(
            StoreErrorKind::Invalid,
            Issue::error("invalid", text).tx("vs-invalid").message_id("UNABLE_TO_HANDLE_SYSTEM_FILTER_WITH_NO_VALUE"),
        ));
    }
    if filter.op == "regex" {
        full_match(&filter.value).map_err(|error| bad_filter(filter, code_system, &error.to_string()))?;
    }
    if matches!(filter.op.as_str(), "is-a" | "descendent-of" | "generalizes" | "child-of" | "descendent-leaf")
        && !matches!(filter.property.as_str(), "concept" | "code")
    {
        return Err(bad_filter(filter, code_system, "hierarchy operators apply to the 'concept' property"));
    }
    Ok(())
}

/// The concepts of one code system that satisfy every filter, in code system order.
fn filtered_concepts(code_system: &CodeSystemIndex, filters: &[Filter]) -> Result<Vec<u32>, StoreError> {
    for filter in filters {
        validate_filter(code_system, filter)?;
    }
    // Start from the cheapest candidate set a hierarchy filter gives, then test the rest.
    let mut candidates: Option<Vec<u32>> = None;
    if let Some(filter) = filters.iter().find(|filter| filter.property == "constraint") {
        candidates = Some(crate::ecl::constraint_members(code_system, &filter.value, None)?.iter().collect());
    } else if let Some(filter) = filters.iter().find(|filter| {
        matches!(filter.property.as_str(), "concept" | "code")
            && matches!(filter.op.as_str(), "is-a" | "descendent-of" | "child-of" | "descendent-leaf" | "=")
    }) {
        let root = code_system.find_lenient(&filter.value).map(|(idx, _)| idx);
        candidates = Some(match (filter.op.as_str(), root) {
            (_, None) => Vec::new(),
            ("child-of", Some(root)) => {
                let mut children = code_system.children[root as usize].clone();
                children.sort_unstable();
                children
            }
            ("=", Some(root)) => vec![root],
            (_, Some(root)) => {
                let mut all = code_system.descendants(root);
                all.push(root);
                all.sort_unstable();
                all
            }
        });
    }
    let candidates = candidates.unwrap_or_else(|| (0..code_system.len() as u32).collect());
    let compiled = filters.iter().map(|filter| CompiledFilter::new(code_system, filter)).collect::<Result<Vec<_>, _>>()?;
    let mut out = Vec::with_capacity(candidates.len());
    for concept_idx in candidates {
        let mut keep = true;
        for filter in &compiled {
            if !filter.matches(code_system, concept_idx)? {
                keep = false;
                break;
            }
        }
        if keep {
            out.push(concept_idx);
        }
    }
    Ok(out)
}

/// Finds the code system an include names, or says why it cannot be used.
fn include_code_system(
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
                super::validate::list_versions(&known)
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
    let mut imported: Vec<HashSet<(String, String)>> = Vec::new();
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
fn cached_compute(context: &Context<'_>, value_set: &ValueSet) -> Result<Arc<Expansion>, StoreError> {
    // Only a value set the snapshot itself defines (stored, or implicit in a code system) is shared;
    // one sent inline may reuse a stored URL with other content.
    let defined_by_snapshot = value_set.url.as_deref().is_some_and(|url| {
        let stored = context.base_registry().value_set(url, value_set.version.as_deref());
        match stored {
            Some(entry) => *entry.value_set == *value_set,
            None => url.contains("?fhir_vs") || url.starts_with("http://loinc.org/vs"),
        }
    });
    let key = (defined_by_snapshot && context.shares_snapshot_expansions()).then(|| value_set_canonical(value_set));
    if let Some(key) = &key {
        if let Some(cached) = context.base_registry().cached_expansion(key) {
            // A cached expansion skips resolution, so the caller's access is checked on what it drew on.
            for used in &cached.used_code_systems {
                context.admits(used);
            }
            return Ok(cached);
        }
    }
    let computed = Arc::new(compute(context, value_set, &mut ImportWalk::default())?);
    if let Some(key) = key {
        context.base_registry().cache_expansion(key, computed.clone());
    }
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
                            system: system.to_owned(),
                            version: model::fhir::str_of(contained, "version").map(str::to_owned),
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
        let mut seen: HashMap<(String, Option<String>, String), usize> = HashMap::new();
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
        let mut excluded: HashSet<(String, Option<String>, String)> = HashSet::new();
        let mut excluded_exact: HashSet<(String, Option<String>, String)> = HashSet::new();
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

/// The options of one `$expand` call.
struct ExpandOptions {
    active_only: bool,
    filter: Option<String>,
    offset: usize,
    count: Option<usize>,
    include_designations: bool,
    exclude_nested: bool,
    properties: Vec<String>,
    languages: Vec<String>,
    /// Whether a member without a display in the wanted languages shows its default display.
    display_fallback: bool,
    designation_filters: Vec<String>,
}

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
/// [`super::MAX_IMPORT_DEPTH`] are `too-costly`.
fn check_import_cycles(context: &Context<'_>, value_set: &ValueSet, walk: &mut ImportWalk) -> Result<(), StoreError> {
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
                    // Evaluated here, against the request's deadline; later uses read the cache.
                    "constraint" if filter.op != "=" => Err(bad_filter(filter, &code_system, "an ECL constraint takes the operator '='")),
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

/// How a resource's status should be flagged to users: withdrawn or deprecated (standards-status),
/// draft, or experimental.
/// The `operationoutcome-message-id` of a "Reference to {label} …" note.
pub fn status_message_id(label: &str) -> &'static str {
    match label {
        "withdrawn" => "MSG_WITHDRAWN",
        "deprecated" => "MSG_DEPRECATED",
        "draft" => "MSG_DRAFT",
        _ => "MSG_EXPERIMENTAL",
    }
}

pub fn status_label(resource: &Json) -> Option<&'static str> {
    let standards_status =
        extension_value(model::fhir::array_of(resource, "extension"), model::fhir::EXT_STANDARDS_STATUS).and_then(Json::as_str);
    match standards_status {
        Some("withdrawn") => return Some("withdrawn"),
        Some("deprecated") => return Some("deprecated"),
        _ => {}
    }
    if model::fhir::str_of(resource, "status") == Some("draft") {
        return Some("draft");
    }
    if model::fhir::bool_of(resource, "experimental") == Some(true) {
        return Some("experimental");
    }
    None
}

/// A default parameter a value set carries in `compose` (the `valueset-expansion-parameter` extension).
pub fn value_set_parameter(value_set: &ValueSet, name: &str) -> Option<String> {
    let compose = value_set.resource.get("compose")?;
    model::fhir::array_of(compose, "extension")
        .iter()
        .filter(|extension| {
            model::fhir::str_of(extension, "url") == Some("http://hl7.org/fhir/StructureDefinition/valueset-expansion-parameter")
        })
        .find(|extension| {
            model::fhir::array_of(extension, "extension")
                .iter()
                .any(|part| model::fhir::str_of(part, "url") == Some("name") && model::fhir::str_of(part, "valueCode") == Some(name))
        })
        .and_then(|extension| {
            model::fhir::array_of(extension, "extension")
                .iter()
                .find(|part| model::fhir::str_of(part, "url") == Some("value"))
                .and_then(model::fhir::params::primitive_text)
        })
}

/// The language a value set asks displays in: its `displayLanguage` expansion parameter, else its own language.
pub fn value_set_language(value_set: &ValueSet) -> Option<String> {
    value_set_parameter(value_set, "displayLanguage").or_else(|| value_set.language.clone())
}

/// The display to show for a member in the caller's language.
pub fn display_for(member: &Member, languages: &[String]) -> Option<String> {
    choose_display(member, languages).text
}

/// The display chosen for a member, and whether it is a translation taken from a designation.
pub struct DisplayChoice {
    pub text: Option<String>,
    /// The value of the designation used instead of the code system's own display.
    pub translated_from: Option<String>,
}

/// Whether a language tag answers a wanted one (`de` answers `de-CH` and the reverse).
pub fn language_fits(have: Option<&str>, wanted: &str) -> bool {
    have.is_some_and(|have| {
        let (have, wanted) = (have.to_lowercase(), wanted.to_lowercase());
        have == wanted || have.starts_with(&format!("{wanted}-")) || wanted.starts_with(&format!("{have}-"))
    })
}

pub fn choose_display(member: &Member, languages: &[String]) -> DisplayChoice {
    choose_display_with(member, languages, true)
}

/// As [`choose_display`]; without `fallback` (the caller gave `*` a quality of zero) a member with
/// no display in the wanted languages gets none.
pub fn choose_display_with(member: &Member, languages: &[String], fallback: bool) -> DisplayChoice {
    let own = DisplayChoice { text: member.display.clone(), translated_from: None };
    if languages.is_empty() {
        return own;
    }
    let code_system = member.code_system.as_ref();
    let default_language = code_system.and_then(|code_system| code_system.code_system.language.clone());
    for language in languages {
        if language == "*" {
            return own;
        }
        if language_fits(default_language.as_deref(), language) && member.display.is_some() {
            return own;
        }
        let concept_designations =
            code_system.zip(member.concept_idx).map(|(code_system, idx)| &code_system.concept(idx).designations[..]).unwrap_or(&[]);
        let found = member
            .value_set_designations
            .iter()
            .chain(concept_designations.iter())
            .find(|designation| language_fits(designation.language.as_deref(), language));
        if let Some(designation) = found {
            return DisplayChoice { text: Some(designation.value.clone()), translated_from: Some(designation.value.clone()) };
        }
    }
    if fallback {
        own
    } else {
        DisplayChoice { text: None, translated_from: None }
    }
}

/// The values of one property of a concept, including the properties every concept has
/// (`definition`, `display`, `inactive`, `parent`, `child`) when the code system does not define them.
pub fn property_values(code_system: &CodeSystemIndex, concept_idx: u32, property_code: &str) -> Vec<(&'static str, Json)> {
    let concept = code_system.concept(concept_idx);
    let own: Vec<(&'static str, Json)> = concept
        .properties
        .iter()
        .filter(|property| property.code == property_code)
        .map(|property| (value_key_name(&property.value_key), property.value.clone()))
        .collect();
    if !own.is_empty() {
        return own;
    }
    match property_code {
        "definition" => concept.definition.iter().map(|definition| ("valueString", json!(definition))).collect(),
        "display" => concept.display.iter().map(|display| ("valueString", json!(display))).collect(),
        "inactive" => vec![("valueBoolean", json!(code_system.flags[concept_idx as usize].inactive))],
        "parent" => {
            code_system.parents[concept_idx as usize].iter().map(|idx| ("valueCode", json!(code_system.concept(*idx).code))).collect()
        }
        "child" => {
            code_system.children[concept_idx as usize].iter().map(|idx| ("valueCode", json!(code_system.concept(*idx).code))).collect()
        }
        _ => Vec::new(),
    }
}

fn value_key_name(value_key: &str) -> &'static str {
    match value_key {
        "valueCode" => "valueCode",
        "valueCoding" => "valueCoding",
        "valueString" => "valueString",
        "valueInteger" => "valueInteger",
        "valueBoolean" => "valueBoolean",
        "valueDateTime" => "valueDateTime",
        "valueDecimal" => "valueDecimal",
        _ => "valueString",
    }
}

const EXT_CONCEPT_ORDER_CS: &str = "http://hl7.org/fhir/StructureDefinition/codesystem-conceptOrder";
const EXT_CONCEPT_ORDER_VS: &str = "http://hl7.org/fhir/StructureDefinition/valueset-conceptOrder";
const EXT_LABEL_CS: &str = "http://hl7.org/fhir/StructureDefinition/codesystem-label";
const EXT_LABEL_VS: &str = "http://hl7.org/fhir/StructureDefinition/valueset-label";
const EXT_ITEM_WEIGHT: &str = "http://hl7.org/fhir/StructureDefinition/itemWeight";

/// Value set concept extensions an expansion repeats on its entry; the order, label and weight
/// ones become properties, and others (unknown to us) are left out, as tx.fhir.org does.
const ECHOED_CONCEPT_EXTENSIONS: &[&str] = &[
    "http://hl7.org/fhir/StructureDefinition/valueset-deprecated",
    model::fhir::EXT_STANDARDS_STATUS,
    "http://hl7.org/fhir/StructureDefinition/valueset-concept-definition",
    "http://hl7.org/fhir/StructureDefinition/valueset-concept-comments",
    "http://hl7.org/fhir/StructureDefinition/rendering-style",
    "http://hl7.org/fhir/StructureDefinition/rendering-xhtml",
];

/// The properties every expansion entry shows without being asked, as (code, value key, value):
/// a non-active status, and the order, label and weight that the value set (first) or the code
/// system and its supplements give the concept.
fn implicit_properties(member: &Member) -> Vec<(&'static str, &'static str, Json)> {
    let mut properties = Vec::new();
    let value_set_extensions = extensions_of(member.value_set_extra.as_ref());
    let concept = member.code_system.as_ref().zip(member.concept_idx).map(|(code_system, idx)| (code_system, idx));
    let concept_extensions = concept.map(|(code_system, idx)| extensions_of(code_system.concept(idx).extra.as_ref())).unwrap_or(&[]);
    let status = concept.and_then(|(code_system, idx)| code_system.flags[idx as usize].status.clone()).filter(|status| status != "active");
    if let Some(status) = status {
        properties.push(("status", "valueCode", json!(status)));
    }
    let pick = |value_set_url: &str, code_system_url: &str| {
        extension_value(value_set_extensions, value_set_url).or_else(|| extension_value(concept_extensions, code_system_url)).cloned()
    };
    if let Some(order) = pick(EXT_CONCEPT_ORDER_VS, EXT_CONCEPT_ORDER_CS) {
        properties.push(("order", "valueDecimal", order));
    }
    if let Some(label) = pick(EXT_LABEL_VS, EXT_LABEL_CS) {
        properties.push(("label", "valueString", label));
    }
    if let Some(weight) = pick(EXT_ITEM_WEIGHT, EXT_ITEM_WEIGHT) {
        properties.push(("weight", "valueDecimal", weight));
    }
    properties
}

/// The concept-properties URI an implicit property is declared with.
fn implicit_property_uri(code: &str) -> String {
    match code {
        "weight" => "http://hl7.org/fhir/concept-properties#itemWeight".to_owned(),
        other => format!("http://hl7.org/fhir/concept-properties#{other}"),
    }
}

/// Whether a designation answers a `designation` parameter: `urn:ietf:bcp:47|lang` or `system|code` of its use.
fn designation_matches(designation: &Designation, filter: &str) -> bool {
    match filter.split_once('|') {
        Some(("urn:ietf:bcp:47", language)) => designation.language.as_deref().is_some_and(|have| have.eq_ignore_ascii_case(language)),
        Some((system, code)) => designation.use_coding.as_ref().is_some_and(|coding| {
            model::fhir::str_of(coding, "system") == Some(system) && model::fhir::str_of(coding, "code") == Some(code)
        }),
        None => language_fits(designation.language.as_deref(), filter),
    }
}

/// Renders one entry; `implicit` is what [`implicit_properties`] found for it.
fn render_member(member: &Member, options: &ExpandOptions, show_version: bool, implicit: &[(&'static str, &'static str, Json)]) -> Json {
    let mut entry = json!({"system": member.system});
    if show_version {
        if let Some(version) = &member.version {
            entry["version"] = json!(version);
        }
    }
    entry["code"] = json!(member.code);
    if let Some(display) = choose_display_with(member, &options.languages, options.display_fallback).text {
        entry["display"] = json!(display);
    }
    if member.not_selectable {
        entry["abstract"] = json!(true);
    }
    if member.inactive {
        entry["inactive"] = json!(true);
    }
    let concept = member.code_system.as_ref().zip(member.concept_idx).map(|(code_system, idx)| code_system.concept(idx));
    if options.include_designations {
        let choice = choose_display(member, &options.languages);
        let mut designations: Vec<Json> = Vec::new();
        if choice.translated_from.is_some() || !options.display_fallback {
            if let (Some(display), Some(language)) =
                (&member.display, member.code_system.as_ref().and_then(|code_system| code_system.code_system.language.clone()))
            {
                designations.push(json!({"language": language, "use": {
                    "system": "http://terminology.hl7.org/CodeSystem/hl7TermMaintInfra", "code": "preferredForLanguage", "display": "Preferred For Language"
                }, "value": display}));
            }
        }
        let all = concept.map(|concept| &concept.designations[..]).unwrap_or(&[]).iter().chain(member.value_set_designations.iter());
        for designation in all {
            if choice.translated_from.as_deref() == Some(designation.value.as_str()) {
                continue;
            }
            if !options.designation_filters.is_empty()
                && !options.designation_filters.iter().any(|filter| designation_matches(designation, filter))
            {
                continue;
            }
            designations.push(designation.to_json());
        }
        if !designations.is_empty() {
            entry["designation"] = Json::Array(designations);
        }
    }
    let value_set_extensions = extensions_of(member.value_set_extra.as_ref());
    let mut extensions: Vec<Json> = value_set_extensions
        .iter()
        .filter(|extension| model::fhir::str_of(extension, "url").is_some_and(|url| ECHOED_CONCEPT_EXTENSIONS.contains(&url)))
        .cloned()
        .collect();
    if let Some(concept) = concept {
        // Rendering hints from the code system (or a supplement), unless the value set gave its own.
        for extension in extensions_of(concept.extra.as_ref()) {
            let url = model::fhir::str_of(extension, "url").unwrap_or_default();
            if url.starts_with("http://hl7.org/fhir/StructureDefinition/rendering-")
                && !extensions.iter().any(|existing| model::fhir::str_of(existing, "url") == Some(url))
            {
                extensions.push(extension.clone());
            }
        }
    }
    let property_extension = |code: &str, value_key: &str, value: Json| {
        let mut value_extension = json!({"url": "value"});
        value_extension[value_key] = value;
        json!({
            "url": "http://hl7.org/fhir/5.0/StructureDefinition/extension-ValueSet.expansion.contains.property",
            "extension": [{"url": "code", "valueCode": code}, value_extension]
        })
    };
    for (code, value_key, value) in implicit {
        if !options.properties.iter().any(|requested| requested == code) {
            extensions.push(property_extension(code, value_key, value.clone()));
        }
    }
    if let (Some(code_system), Some(concept_idx)) = (&member.code_system, member.concept_idx) {
        for property_code in &options.properties {
            for (value_key, value) in property_values(code_system, concept_idx, property_code) {
                extensions.push(property_extension(property_code, value_key, value));
            }
        }
    }
    if !extensions.is_empty() {
        entry["extension"] = Json::Array(extensions);
    }
    entry
}

/// Nests a page of members along the is-a hierarchy: each member goes under its nearest ancestor
/// that is also in the page.
fn nest(members: &[&Member], rendered: Vec<Json>) -> Vec<Json> {
    let n_members = members.len();
    let mut parent_of: Vec<Option<usize>> = vec![None; n_members];
    let position: HashMap<(String, u32), usize> = members
        .iter()
        .enumerate()
        .filter_map(|(position, member)| member.concept_idx.map(|idx| ((member.system.clone(), idx), position)))
        .collect();
    for (position_idx, member) in members.iter().enumerate() {
        let (Some(code_system), Some(concept_idx)) = (&member.code_system, member.concept_idx) else {
            continue;
        };
        // Walk up until an ancestor present in the page is found.
        let mut frontier = code_system.parents[concept_idx as usize].clone();
        let mut seen = HashSet::new();
        while !frontier.is_empty() {
            let mut found = None;
            for ancestor in &frontier {
                if let Some(parent_position) = position.get(&(member.system.clone(), *ancestor)) {
                    if *parent_position != position_idx {
                        found = Some(*parent_position);
                        break;
                    }
                }
            }
            if found.is_some() {
                parent_of[position_idx] = found;
                break;
            }
            let mut next = Vec::new();
            for ancestor in frontier {
                if seen.insert(ancestor) {
                    next.extend(code_system.parents[ancestor as usize].iter().copied());
                }
            }
            frontier = next;
        }
    }
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n_members];
    let mut roots = Vec::new();
    for (position_idx, parent) in parent_of.iter().enumerate() {
        match parent {
            Some(parent) => children[*parent].push(position_idx),
            None => roots.push(position_idx),
        }
    }
    let mut slots: Vec<Option<Json>> = rendered.into_iter().map(Some).collect();
    fn build(position: usize, children: &[Vec<usize>], slots: &mut [Option<Json>], depth: usize) -> Json {
        let mut node = slots[position].take().unwrap_or(Json::Null);
        if depth < 64 && !children[position].is_empty() {
            let nested: Vec<Json> = children[position].iter().map(|child| build(*child, children, slots, depth + 1)).collect();
            node["contains"] = Json::Array(nested);
        }
        node
    }
    roots.into_iter().map(|root| build(root, &children, &mut slots, 0)).collect()
}

/// A paging parameter: absent, or a whole number of zero or more; anything else is refused.
fn non_negative_parameter(params: &model::fhir::Parameters, name: &str) -> Result<Option<usize>, StoreError> {
    let Some(text) = params.str(name) else { return Ok(None) };
    match text.trim().parse::<usize>() {
        Ok(value) => Ok(Some(value)),
        Err(_) => Err(StoreError::with_issue(
            StoreErrorKind::Invalid,
            Issue::error("invalid", format!("The parameter '{name}' must be a whole number of zero or more, not '{text}'")).at(name),
        )),
    }
}

/// A text search answered from one code system's indexes, with members built for the page only.
struct IndexedSearch {
    /// The page's members, and the code system used.
    expansion: Expansion,
    /// How many members matched, at every offset.
    total: usize,
    /// The code system, when the value set (before any filter) holds at least one of its concepts.
    source: Option<Arc<CodeSystemIndex>>,
}

/// Answers a text filter over a whole code system, or over one `is-a` or `descendent-of` branch
/// of it, from the word index and the sorted code list, without listing the value set: the
/// answer and its order are those of [`compute`] followed by the filters of [`expand_operation`].
/// `None` when the value set has any other shape; the general path answers it.
fn indexed_text_search(
    context: &Context<'_>,
    value_set: &ValueSet,
    options: &ExpandOptions,
    filter: &str,
) -> Result<Option<IndexedSearch>, StoreError> {
    let Some(compose) = &value_set.compose else { return Ok(None) };
    let [include] = compose.include.as_slice() else { return Ok(None) };
    let Some(system) = &include.system else { return Ok(None) };
    if !compose.exclude.is_empty() || compose.inactive == Some(false) || !include.concepts.is_empty() || !include.value_sets.is_empty() {
        return Ok(None);
    }
    let branch_filter = match include.filters.as_slice() {
        [] => None,
        [branch_filter]
            if matches!(branch_filter.property.as_str(), "concept" | "code")
                && matches!(branch_filter.op.as_str(), "is-a" | "descendent-of") =>
        {
            Some(branch_filter)
        }
        _ => return Ok(None),
    };
    let mut walk = ImportWalk::default();
    walk.enter(context, value_set_canonical(value_set))?;
    walk.leave();
    let code_system = include_code_system(context, system, include.version.as_deref(), value_set)?;
    // A grammar lists only common codes, and a code listed twice is one member: both stay general.
    if code_system.grammar.is_some() || !code_system.has_unique_codes() {
        return Ok(None);
    }
    // The branch's root, and whether the root itself is left out (`descendent-of`).
    let branch = match branch_filter {
        None => None,
        Some(branch_filter) => match code_system.find_lenient(&branch_filter.value) {
            Some((root, _)) => Some((root, branch_filter.op == "descendent-of")),
            None => return Ok(None),
        },
    };
    let holds_any = match branch {
        None => !code_system.is_empty(),
        Some((root, strict)) => !strict || !code_system.children[root as usize].is_empty(),
    };
    let candidates = text::union(&code_system.words().search(filter), &code_system.codes_starting_with(&filter.to_lowercase()));
    let selected: Vec<u32> = candidates
        .into_iter()
        .filter(|idx| match branch {
            None => true,
            Some((root, strict)) => !(strict && root == *idx) && code_system.subsumes(root, *idx),
        })
        .filter(|idx| !options.active_only || !code_system.flags[*idx as usize].inactive)
        .filter(|idx| context.date.as_deref().is_none_or(|day| code_system.in_force_on(*idx, day).is_ok()))
        .collect();
    let total = selected.len();
    let page_end = match options.count {
        Some(count) => options.offset.saturating_add(count).min(total),
        None => total,
    };
    let page = selected.get(options.offset..page_end).unwrap_or_default();
    let expansion = Expansion {
        members: page.iter().map(|idx| member_of(&code_system, *idx)).collect(),
        used_code_systems: vec![code_system.canonical()],
        ..Expansion::default()
    };
    Ok(Some(IndexedSearch { expansion, total, source: holds_any.then_some(code_system) }))
}

/// `ValueSet/$expand`.
pub fn expand_operation(context: &Context<'_>) -> Result<Json, StoreError> {
    let params = context.params;
    let value_set = requested_value_set(context)?;
    let options = ExpandOptions {
        active_only: params.bool("activeOnly").unwrap_or(false),
        filter: params.str("filter").filter(|filter| !filter.trim().is_empty()),
        offset: non_negative_parameter(params, "offset")?.unwrap_or(0),
        count: non_negative_parameter(params, "count")?,
        include_designations: params.bool("includeDesignations").unwrap_or(false),
        exclude_nested: params.bool("excludeNested").unwrap_or(false),
        properties: params.strs("property"),
        languages: context.display_languages_for(value_set_language(&value_set).as_deref()),
        designation_filters: params.strs("designation"),
        display_fallback: !context.wildcard_language_refused(),
    };
    let indexed = match &options.filter {
        Some(filter) => indexed_text_search(context, &value_set, &options, filter)?,
        None => None,
    };
    let (expansion, indexed_total, indexed_source) = match indexed {
        Some(search) => (Arc::new(search.expansion), Some(search.total), search.source),
        None => (cached_compute(context, &value_set)?, None, None),
    };
    // Filter first, then page: `total` counts what the filters left, at every offset.
    // The word index answers the text filter once per code system (keyed by the index's address).
    let word_matches: HashMap<usize, Vec<u32>> = match &options.filter {
        Some(filter) if indexed_total.is_none() => {
            let mut by_system = HashMap::new();
            for member in &expansion.members {
                if let Some(code_system) = &member.code_system {
                    by_system.entry(Arc::as_ptr(code_system) as usize).or_insert_with(|| code_system.words().search(filter));
                }
            }
            by_system
        }
        _ => HashMap::new(),
    };
    let folded_filter = options.filter.as_deref().map(str::to_lowercase).unwrap_or_default();
    // The indexed search has filtered and paged already: its members are the page.
    let members: Vec<&Member> = expansion
        .members
        .iter()
        .filter(|_| indexed_total.is_none())
        .filter(|member| !options.active_only || !member.inactive)
        // On a date, only the codes in force that day.
        .filter(|member| match (&context.date, &member.code_system, member.concept_idx) {
            (Some(day), Some(code_system), Some(concept_idx)) => code_system.in_force_on(concept_idx, day).is_ok(),
            _ => true,
        })
        .filter(|member| match &options.filter {
            None => true,
            Some(filter) => {
                // The word index covers a code system concept's display and designations; the value
                // set's own display and designations, and the code itself, are checked directly.
                let indexed = member.code_system.as_ref().zip(member.concept_idx).is_some_and(|(code_system, idx)| {
                    word_matches.get(&(Arc::as_ptr(code_system) as usize)).is_some_and(|matches| matches.binary_search(&idx).is_ok())
                });
                let own_display_differs = member.concept_idx.is_none()
                    || member
                        .code_system
                        .as_ref()
                        .zip(member.concept_idx)
                        .is_some_and(|(code_system, idx)| code_system.concept(idx).display != member.display);
                indexed
                    || (own_display_differs && member.display.as_deref().is_some_and(|display| text::matches(display, filter)))
                    || member.code.to_lowercase().starts_with(&folded_filter)
                    || member.value_set_designations.iter().any(|designation| text::matches(&designation.value, filter))
            }
        })
        .collect();
    let indexed_page: Vec<&Member> = if indexed_total.is_some() { expansion.members.iter().collect() } else { Vec::new() };
    let total = indexed_total.unwrap_or(members.len());
    let threshold = context.request.too_costly_threshold.unwrap_or(super::TOO_COSTLY_DEFAULT);
    if options.count.is_none() && total > threshold {
        let message = format!("The value set '{}' expansion has too many codes to produce (>{threshold})", value_set_canonical(&value_set));
        return Err(StoreError::with_issue(
            StoreErrorKind::TooCostly,
            Issue::error("too-costly", message).message_id("VALUESET_TOO_COSTLY"),
        ));
    }
    let page_end = match options.count {
        Some(count) => options.offset.saturating_add(count).min(total),
        None => total,
    };
    let page: &[&Member] = if indexed_total.is_some() {
        &indexed_page
    } else if options.offset < total {
        &members[options.offset..page_end]
    } else {
        &[]
    };
    // A version is shown only when the expansion holds several versions of one system.
    let mut systems_seen: HashMap<&str, &Option<String>> = HashMap::new();
    let mut several_versions = value_set_parameter(&value_set, "versionsMatch").as_deref() == Some("false")
        || value_set.compose.as_ref().is_some_and(|compose| {
            compose.include.iter().enumerate().any(|(idx, include)| {
                include.system.is_some()
                    && (compose.include[idx + 1..].iter().any(|other| other.system == include.system)
                        || compose.exclude.iter().any(|exclude| exclude.system == include.system && exclude.version != include.version))
            })
        });
    for member in &expansion.members {
        if let Some(previous) = systems_seen.insert(member.system.as_str(), &member.version) {
            if previous != &member.version {
                several_versions = true;
                break;
            }
        }
    }
    // Found once per entry: each entry shows them, and the expansion declares the ones in use.
    let implicit: Vec<Vec<(&'static str, &'static str, Json)>> = page.iter().map(|member| implicit_properties(member)).collect();
    let rendered: Vec<Json> =
        page.iter().zip(&implicit).map(|(member, implicit)| render_member(member, &options, several_versions, implicit)).collect();
    let enumerated = value_set.compose.as_ref().is_some_and(|compose| compose.include.iter().any(|include| !include.concepts.is_empty()));
    let paged = options.offset > 0 || options.count.is_some_and(|count| count < total);
    // A text search over whole code systems answers flat; one inside a hierarchy filter keeps the hierarchy.
    let whole_systems = value_set.compose.as_ref().is_some_and(|compose| compose.include.iter().all(|include| include.filters.is_empty()));
    let flat_search = options.filter.is_some() && whole_systems;
    // Excluding codes can remove the parents that would hold the rest, so such expansions answer flat (as tx.fhir.org does).
    // So do expansions that import other value sets.
    let excludes = value_set
        .compose
        .as_ref()
        .is_some_and(|compose| !compose.exclude.is_empty() || compose.include.iter().any(|include| !include.value_sets.is_empty()));
    let contains = if options.exclude_nested || paged || enumerated || flat_search || excludes { rendered } else { nest(page, rendered) };

    let mut parameters = Vec::new();
    let echo_names = [
        ("activeOnly", "valueBoolean"),
        ("count", "valueInteger"),
        ("displayLanguage", "valueCode"),
        ("excludeNested", "valueBoolean"),
        ("filter", "valueString"),
        ("includeDefinition", "valueBoolean"),
        ("includeDesignations", "valueBoolean"),
        ("offset", "valueInteger"),
    ];
    for (name, value_key) in echo_names {
        if let Some(text) = params.str(name) {
            let value = match value_key {
                "valueBoolean" => json!(text == "true"),
                "valueInteger" => json!(text.parse::<i64>().unwrap_or(0)),
                _ => json!(text),
            };
            let mut parameter = json!({"name": name});
            parameter[value_key] = value;
            parameters.push(parameter);
        }
    }
    if !params.has("displayLanguage") {
        if let Some(language) = context.request.accept_language.clone().or_else(|| value_set_language(&value_set)) {
            parameters.push(json!({"name": "displayLanguage", "valueCode": language}));
        }
    }
    for text in params.strs("designation") {
        parameters.push(json!({"name": "designation", "valueString": text}));
    }
    let versions_match = value_set_parameter(&value_set, "versionsMatch");
    let versioned_excludes = value_set
        .compose
        .as_ref()
        .is_some_and(|compose| compose.exclude.iter().any(|exclude| exclude.version.is_some() && exclude.concepts.is_empty()));
    if versions_match.as_deref() == Some("true") || (versioned_excludes && versions_match.as_deref() != Some("false")) {
        parameters.push(json!({"name": "versionsMatch", "valueBoolean": true}));
    }
    for text in params.strs("force-system-version") {
        parameters.push(json!({"name": "force-system-version", "valueUri": text}));
    }
    for (name, canonical) in context.rules_used() {
        parameters.push(json!({"name": name, "valueUri": canonical}));
    }
    for used in &expansion.used_code_systems {
        parameters.push(json!({"name": "used-codesystem", "valueUri": used}));
    }
    // A fragment lists only some of its codes, so the expansion may be incomplete: say which.
    let mut fragments_used: Vec<String> = Vec::new();
    for used in &expansion.used_code_systems {
        let (url, version) = model::uris::split_canonical(used);
        if context.code_system_exact(url, version).is_some_and(|code_system| code_system.code_system.content == "fragment") {
            parameters.push(json!({"name": "used-fragment", "valueUri": used}));
            fragments_used.push(url.to_owned());
        }
    }
    let mut status_warnings: Vec<(String, String)> = Vec::new();
    for used in &expansion.used_code_systems {
        let (url, version) = model::uris::split_canonical(used);
        if let Some(label) = context.code_system_exact(url, version).and_then(|code_system| status_label(&code_system.code_system.resource))
        {
            status_warnings.push((format!("warning-{label}"), used.clone()));
        }
    }
    let value_set_canonicals = std::iter::once(value_set_canonical(&value_set)).chain(expansion.used_value_sets.iter().cloned());
    for canonical in value_set_canonicals {
        let label = if canonical == value_set_canonical(&value_set) {
            status_label(&value_set.resource)
        } else {
            context.value_set(&canonical, None).and_then(|entry| status_label(&entry.value_set.resource))
        };
        // A value set's own draft or experimental status is not worth a warning; its withdrawal is.
        if let Some(label) = label.filter(|label| matches!(*label, "withdrawn" | "deprecated")) {
            status_warnings.push((format!("warning-{label}"), canonical));
        }
    }
    // A listing that stands in for a whole grammar code system is named when it is not final.
    for (canonical, status) in &expansion.listings_used {
        if matches!(status.as_str(), "draft" | "retired") {
            status_warnings.push((format!("warning-{status}"), canonical.clone()));
        }
    }
    for (name, canonical) in status_warnings {
        parameters.push(json!({"name": name, "valueUri": canonical}));
    }
    let mut supplements_used: Vec<String> = Vec::new();
    for used in &expansion.used_code_systems {
        for supplement in context.supplements_used(model::uris::split_canonical(used).0) {
            if !supplements_used.contains(&supplement) {
                supplements_used.push(supplement);
            }
        }
    }
    for supplement in supplements_used {
        parameters.push(json!({"name": "used-supplement", "valueUri": supplement}));
    }
    for used in &expansion.used_value_sets {
        parameters.push(json!({"name": "used-valueset", "valueUri": used}));
    }

    // The expansion carries the value set's identity, as the reference servers return it.
    let mut result = json!({"resourceType": "ValueSet"});
    for key in ["id", "language", "url", "version", "name", "title", "status", "experimental", "date", "publisher"] {
        if let Some(value) = value_set.resource.get(key) {
            result[key] = value.clone();
        }
    }
    // `includeDefinition` asks for the value set's definition with the expansion: its extensions
    // come along (the compose is left out, as its filters may be written in R5 terms).
    if params.bool("includeDefinition") == Some(true) {
        if let Some(extensions) = value_set.resource.get("extension") {
            result["extension"] = extensions.clone();
        }
    }
    let mut expansion_json = json!({
        "identifier": format!("urn:uuid:{}", uuid::Uuid::new_v4()),
        "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "total": total,
    });
    if options.offset > 0 || options.count.is_some() {
        expansion_json["offset"] = json!(options.offset);
    }
    // The members of a whole grammar code system are infinitely many: there is no total to give.
    if expansion.unbounded {
        if let Some(fields) = expansion_json.as_object_mut() {
            fields.remove("total");
        }
    }
    if !parameters.is_empty() {
        expansion_json["parameter"] = Json::Array(parameters);
    }
    // The properties the expansion carries, declared the R5 way through the R4 cross-version extension.
    let mut declared = Vec::new();
    for property_code in &options.properties {
        let definition = expansion
            .members
            .iter()
            .filter_map(|member| member.code_system.as_ref())
            .chain(indexed_source.iter())
            .find_map(|code_system| code_system.code_system.properties.iter().find(|definition| &definition.code == property_code));
        let standard =
            matches!(property_code.as_str(), "definition" | "display" | "inactive" | "parent" | "child" | "status" | "notSelectable")
                .then(|| format!("http://hl7.org/fhir/concept-properties#{property_code}"));
        if let Some(uri) = definition.and_then(|definition| definition.uri.clone()).or(standard) {
            declared.push(json!({
                "url": "http://hl7.org/fhir/5.0/StructureDefinition/extension-ValueSet.expansion.property",
                "extension": [{"url": "code", "valueCode": property_code}, {"url": "uri", "valueUri": uri}]
            }));
        }
    }
    let mut implicit_codes: Vec<&'static str> = implicit.iter().flatten().map(|(code, _, _)| *code).collect();
    implicit_codes.sort_unstable();
    implicit_codes.dedup();
    for code in implicit_codes {
        if !options.properties.iter().any(|requested| requested == code) {
            declared.push(json!({
                "url": "http://hl7.org/fhir/5.0/StructureDefinition/extension-ValueSet.expansion.property",
                "extension": [{"url": "code", "valueCode": code}, {"url": "uri", "valueUri": implicit_property_uri(code)}]
            }));
        }
    }
    if let Some(reason) = &expansion.unclosed {
        declared.push(json!({"url": "http://hl7.org/fhir/StructureDefinition/valueset-unclosed", "valueBoolean": true}));
        declared.push(json!({"url": "http://hl7.org/fhir/StructureDefinition/valueset-unclosed-reason", "valueString": reason}));
    } else if let Some(fragment) = fragments_used.first() {
        declared.push(json!({"url": "http://hl7.org/fhir/StructureDefinition/valueset-unclosed", "valueBoolean": true}));
        declared.push(json!({
            "url": "http://hl7.org/fhir/StructureDefinition/valueset-unclosed-reason",
            "valueString": format!("This extension is based on a fragment of the code system {fragment}")
        }));
    }
    if !declared.is_empty() {
        expansion_json["extension"] = Json::Array(declared);
    }
    if !contains.is_empty() {
        expansion_json["contains"] = Json::Array(contains);
    }
    result["expansion"] = expansion_json;
    Ok(result)
}
