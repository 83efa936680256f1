//! `$expand`: the members `ops::membership` lists, filtered, paged and rendered.
//!
//! An expansion is computed as a list of members in a stable order (include order, then code
//! system order), filtered (`activeOnly`, text `filter`), counted, and only then paged, so
//! `total` is exact at every offset and a page costs what the page holds to render.

use super::context::Context;
use super::membership::{
    cached_compute, include_code_system, requested_value_set, value_set_canonical, value_set_parameter, ImportWalk, RequestScope,
};
use super::presentation::{choose_display, choose_display_with, language_fits, property_values, status_label, value_set_language};
use crate::index::text;
use crate::index::{member_of, CodeSystemIndex, Expansion, Member};
use crate::{StoreError, StoreErrorKind};
use model::fhir::{extension_value, extensions_of, Issue, Json};
use model::terminology::{Designation, ValueSet};
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

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

impl ExpandOptions {
    /// What `activeOnly` and the call's date of service leave, on both the indexed and the general path.
    fn scope<'c>(&self, context: &'c Context<'_>) -> RequestScope<'c> {
        RequestScope { active_only: self.active_only, date: context.date.as_deref() }
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
    let concept_extensions = concept.map(|(code_system, idx)| extensions_of(code_system.concept(idx).extra.as_deref())).unwrap_or(&[]);
    let status = concept
        .and_then(|(code_system, idx)| code_system.flags[idx as usize].status.map(str::to_owned))
        .filter(|status| status != "active");
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
    let mut entry = json!({"system": &*member.system});
    if show_version {
        if let Some(version) = &member.version {
            entry["version"] = json!(&**version);
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
        for extension in extensions_of(concept.extra.as_deref()) {
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
    let position: HashMap<(&str, u32), usize> = members
        .iter()
        .enumerate()
        .filter_map(|(position, member)| member.concept_idx.map(|idx| ((&*member.system, idx), position)))
        .collect();
    for (position_idx, member) in members.iter().enumerate() {
        let (Some(code_system), Some(concept_idx)) = (&member.code_system, member.concept_idx) else {
            continue;
        };
        // Walk up until an ancestor present in the page is found.
        let mut frontier = code_system.parents[concept_idx as usize].to_vec();
        let mut seen = HashSet::new();
        while !frontier.is_empty() {
            let mut found = None;
            for ancestor in &frontier {
                if let Some(parent_position) = position.get(&(&*member.system, *ancestor)) {
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

/// An expansion answered from one code system's indexes, with members built for the page only.
struct IndexedSearch {
    /// The page's members, and the code system used.
    expansion: Expansion,
    /// How many members matched, at every offset.
    total: usize,
    /// The code system, when the value set (before any filter) holds at least one of its concepts.
    source: Option<Arc<CodeSystemIndex>>,
}

/// The concepts an indexed expansion selects, in code-system order, without copying a branch.
enum Selection {
    /// Every concept of the code system.
    Everything(usize),
    /// A cached is-a branch, less the concept at `skip` (the root of a `descendent-of`).
    Branch {
        members: Arc<Vec<u32>>,
        skip: Option<usize>,
    },
    Listed(Vec<u32>),
}

impl Selection {
    fn len(&self) -> usize {
        match self {
            Selection::Everything(n_concepts) => *n_concepts,
            Selection::Branch { members, skip } => members.len() - usize::from(skip.is_some()),
            Selection::Listed(listed) => listed.len(),
        }
    }

    fn get(&self, position: usize) -> u32 {
        match self {
            Selection::Everything(_) => position as u32,
            Selection::Branch { members, skip } => members[if skip.is_some_and(|skip| position >= skip) { position + 1 } else { position }],
            Selection::Listed(listed) => listed[position],
        }
    }
}

/// From this many text matches on, a branch filter reads the branch's members rather than
/// walking up from each match.
const BRANCH_LOOKUP_FROM: usize = 64;

/// The error for an expansion with more members than may be listed without `count`.
fn too_costly(context: &Context<'_>, value_set: &ValueSet, count: Option<usize>, total: usize) -> Result<(), StoreError> {
    let threshold = context.request.too_costly_threshold.unwrap_or(crate::TOO_COSTLY_DEFAULT);
    if count.is_none() && total > threshold {
        let message = format!("The value set '{}' expansion has too many codes to produce (>{threshold})", value_set_canonical(value_set));
        return Err(StoreError::with_issue(
            StoreErrorKind::TooCostly,
            Issue::error("too-costly", message).message_id("VALUESET_TOO_COSTLY"),
        ));
    }
    Ok(())
}

/// Answers the expansion of a whole code system, or of one `is-a` or `descendent-of` branch of
/// it, with or without a text filter, from the code system's indexes (the cached branch, the word
/// index and the sorted code list) without listing the value set: members are built for the page
/// only. The answer and its order are those of [`compute`] followed by the filters of
/// [`expand_operation`]. `None` when the value set has any other shape; the general path answers it.
fn indexed_expansion(context: &Context<'_>, value_set: &ValueSet, options: &ExpandOptions) -> Result<Option<IndexedSearch>, StoreError> {
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
    let scope = options.scope(context);
    let selection = match &options.filter {
        Some(filter) => {
            let candidates = text::union(&code_system.text_search(filter), &code_system.codes_starting_with(&filter.to_lowercase()));
            // Many matches are checked against the (cached) branch, a few by walking up from each.
            let branch_members = branch.filter(|_| candidates.len() > BRANCH_LOOKUP_FROM).map(|(root, _)| code_system.branch(root));
            Selection::Listed(
                candidates
                    .into_iter()
                    .filter(|idx| match branch {
                        None => true,
                        Some((root, strict)) => {
                            !(strict && root == *idx)
                                && match &branch_members {
                                    Some(members) => members.binary_search(idx).is_ok(),
                                    None => code_system.subsumes(root, *idx),
                                }
                        }
                    })
                    .filter(|idx| scope.admits_concept(&code_system, *idx))
                    .collect(),
            )
        }
        None => {
            let unscoped = match branch {
                None => Selection::Everything(code_system.len()),
                Some((root, strict)) => {
                    let members = code_system.branch(root);
                    let skip = strict.then(|| members.partition_point(|idx| *idx < root));
                    Selection::Branch { members, skip }
                }
            };
            if scope.active_only || scope.date.is_some() {
                let admitted = (0..unscoped.len()).map(|position| unscoped.get(position));
                Selection::Listed(admitted.filter(|idx| scope.admits_concept(&code_system, *idx)).collect())
            } else {
                unscoped
            }
        }
    };
    let total = selection.len();
    too_costly(context, value_set, options.count, total)?;
    let page_end = match options.count {
        Some(count) => options.offset.saturating_add(count).min(total),
        None => total,
    };
    let expansion = Expansion {
        members: (options.offset.min(page_end)..page_end).map(|position| member_of(&code_system, selection.get(position))).collect(),
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
    let indexed = indexed_expansion(context, &value_set, &options)?;
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
                    by_system.entry(Arc::as_ptr(code_system) as usize).or_insert_with(|| code_system.text_search(filter));
                }
            }
            by_system
        }
        _ => HashMap::new(),
    };
    let folded_filter = options.filter.as_deref().map(str::to_lowercase).unwrap_or_default();
    // The indexed search has filtered and paged already: its members are the page. Without a
    // filter or a scope, every listed member stays, and only the page is gathered.
    let unfiltered = indexed_total.is_none() && options.filter.is_none() && !options.active_only && context.date.is_none();
    let members: Vec<&Member> = expansion
        .members
        .iter()
        .filter(|_| indexed_total.is_none() && !unfiltered)
        .filter(|member| options.scope(context).admits(member))
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
    let total = indexed_total.unwrap_or(if unfiltered { expansion.members.len() } else { members.len() });
    too_costly(context, &value_set, options.count, total)?;
    let page_end = match options.count {
        Some(count) => options.offset.saturating_add(count).min(total),
        None => total,
    };
    let unfiltered_page: Vec<&Member> =
        if unfiltered { expansion.members.get(options.offset..page_end).unwrap_or_default().iter().collect() } else { Vec::new() };
    let page: &[&Member] = if indexed_total.is_some() {
        &indexed_page
    } else if unfiltered {
        &unfiltered_page
    } else if options.offset < total {
        &members[options.offset..page_end]
    } else {
        &[]
    };
    // A version is shown only when the expansion holds several versions of one system.
    let mut systems_seen: HashMap<&str, &Option<Arc<str>>> = HashMap::new();
    let mut several_versions = value_set_parameter(&value_set, "versionsMatch").as_deref() == Some("false")
        || value_set.compose.as_ref().is_some_and(|compose| {
            compose.include.iter().enumerate().any(|(idx, include)| {
                include.system.is_some()
                    && (compose.include[idx + 1..].iter().any(|other| other.system == include.system)
                        || compose.exclude.iter().any(|exclude| exclude.system == include.system && exclude.version != include.version))
            })
        });
    let mut last: Option<&Member> = None;
    for member in &expansion.members {
        // Members come in runs of one system version: only a change needs looking up.
        if last.is_some_and(|last| Arc::ptr_eq(&last.system, &member.system) && last.version == member.version) {
            continue;
        }
        last = Some(member);
        if let Some(previous) = systems_seen.insert(&*member.system, &member.version) {
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
