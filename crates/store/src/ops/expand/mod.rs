//! `$expand`: the members `ops::membership` lists, filtered, paged, and answered as a typed
//! [`ExpandOutcome`] whose entries are written when it is serialized.
//!
//! An expansion is computed as a list of members in a stable order (include order, then code
//! system order), filtered (`activeOnly`, text `filter`), counted, and only then paged, so
//! `total` is exact at every offset and a page costs what the page holds to render. A whole code
//! system or one is-a branch of it is answered from its indexes (`indexed`).

mod indexed;
mod outcome;

pub use outcome::ExpandOutcome;

use super::context::Context;
use super::membership::{cached_compute, requested_value_set, value_set_canonical, value_set_parameter, RequestScope};
use super::presentation::{status_label, value_set_language};
use super::request::ExpandParameters;
use crate::index::{text, Member};
use crate::{StoreError, StoreErrorKind};
use indexed::indexed_expansion;
use model::fhir::{Issue, Json};
use model::terminology::ValueSet;
use outcome::{implicit_properties, Nesting, Page};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;

/// The options of one `$expand` call.
pub(super) struct ExpandOptions {
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
    pub(super) fn scope<'c>(&self, context: &'c Context<'_>) -> RequestScope<'c> {
        RequestScope { active_only: self.active_only, date: context.date.as_deref() }
    }
}

/// The concept-properties URI an implicit property is declared with.
fn implicit_property_uri(code: &str) -> String {
    match code {
        "weight" => "http://hl7.org/fhir/concept-properties#itemWeight".to_owned(),
        other => format!("http://hl7.org/fhir/concept-properties#{other}"),
    }
}

/// The error for an expansion with more members than may be listed without `count`.
pub(super) fn too_costly(context: &Context<'_>, value_set: &ValueSet, count: Option<usize>, total: usize) -> Result<(), StoreError> {
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

/// `ValueSet/$expand`, typed: the expansion worked out, filtered and paged; its entries are
/// written when the answer is serialized.
pub fn expand(context: &Context<'_>, parameters: Result<ExpandParameters, StoreError>) -> Result<ExpandOutcome, StoreError> {
    let params = context.params;
    let value_set = requested_value_set(context)?;
    let parameters = parameters?;
    let parameters_include_definition = parameters.include_definition;
    let options = ExpandOptions {
        languages: context.display_languages_for(value_set_language(&value_set).as_deref()),
        display_fallback: !context.wildcard_language_refused(),
        active_only: parameters.active_only,
        filter: parameters.filter,
        offset: parameters.offset,
        count: parameters.count,
        include_designations: parameters.include_designations,
        exclude_nested: parameters.exclude_nested,
        properties: parameters.properties,
        designation_filters: parameters.designation_filters,
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
    let kept: Vec<u32> = expansion
        .members
        .iter()
        .enumerate()
        .filter(|_| indexed_total.is_none() && !unfiltered)
        .filter(|(_, member)| options.scope(context).admits(member))
        .filter(|(_, member)| match &options.filter {
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
        .map(|(position, _)| position as u32)
        .collect();
    let total = indexed_total.unwrap_or(if unfiltered { expansion.members.len() } else { kept.len() });
    too_costly(context, &value_set, options.count, total)?;
    let page_end = match options.count {
        Some(count) => options.offset.saturating_add(count).min(total),
        None => total,
    };
    // The indexed search's members are the page already.
    let positions: Vec<u32> = if indexed_total.is_some() {
        (0..expansion.members.len() as u32).collect()
    } else if unfiltered {
        (options.offset.min(page_end) as u32..page_end as u32).collect()
    } else if options.offset < total {
        kept[options.offset..page_end].to_vec()
    } else {
        Vec::new()
    };
    drop(kept);
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
    // The properties entries show without being asked, which the expansion declares.
    let mut implicit_codes: Vec<&'static str> = positions
        .iter()
        .flat_map(|position| implicit_properties(&expansion.members[*position as usize]).into_iter().map(|(code, _, _)| code))
        .collect();
    implicit_codes.sort_unstable();
    implicit_codes.dedup();
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
    let nesting = (!(options.exclude_nested || paged || enumerated || flat_search || excludes)).then(|| {
        let page: Vec<&Member> = positions.iter().map(|position| &expansion.members[*position as usize]).collect();
        Nesting::of(&page)
    });

    let mut echoed = Vec::new();
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
            echoed.push(parameter);
        }
    }
    if !params.has("displayLanguage") {
        if let Some(language) = context.request.accept_language.clone().or_else(|| value_set_language(&value_set)) {
            echoed.push(json!({"name": "displayLanguage", "valueCode": language}));
        }
    }
    for text in params.strs("designation") {
        echoed.push(json!({"name": "designation", "valueString": text}));
    }
    let versions_match = value_set_parameter(&value_set, "versionsMatch");
    let versioned_excludes = value_set
        .compose
        .as_ref()
        .is_some_and(|compose| compose.exclude.iter().any(|exclude| exclude.version.is_some() && exclude.concepts.is_empty()));
    if versions_match.as_deref() == Some("true") || (versioned_excludes && versions_match.as_deref() != Some("false")) {
        echoed.push(json!({"name": "versionsMatch", "valueBoolean": true}));
    }
    for text in params.strs("force-system-version") {
        echoed.push(json!({"name": "force-system-version", "valueUri": text}));
    }
    for (name, canonical) in context.rules_used() {
        echoed.push(json!({"name": name, "valueUri": canonical}));
    }
    for used in &expansion.used_code_systems {
        echoed.push(json!({"name": "used-codesystem", "valueUri": used}));
    }
    // A fragment lists only some of its codes, so the expansion may be incomplete: say which.
    let mut fragments_used: Vec<String> = Vec::new();
    for used in &expansion.used_code_systems {
        let (url, version) = model::uris::split_canonical(used);
        if context.code_system_exact(url, version).is_some_and(|code_system| code_system.code_system.content == "fragment") {
            echoed.push(json!({"name": "used-fragment", "valueUri": used}));
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
        echoed.push(json!({"name": name, "valueUri": canonical}));
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
        echoed.push(json!({"name": "used-supplement", "valueUri": supplement}));
    }
    for used in &expansion.used_value_sets {
        echoed.push(json!({"name": "used-valueset", "valueUri": used}));
    }

    // The expansion carries the value set's identity, as the reference servers return it.
    let mut header: Vec<(&'static str, Json)> = Vec::new();
    for key in ["id", "language", "url", "version", "name", "title", "status", "experimental", "date", "publisher"] {
        if let Some(value) = value_set.resource.get(key) {
            header.push((key, value.clone()));
        }
    }
    // `includeDefinition` asks for the value set's definition with the expansion: its extensions
    // come along (the compose is left out, as its filters may be written in R5 terms).
    if parameters_include_definition {
        if let Some(extensions) = value_set.resource.get("extension") {
            header.push(("extension", extensions.clone()));
        }
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
    let show_version = several_versions;
    Ok(ExpandOutcome {
        header,
        identifier: format!("urn:uuid:{}", uuid::Uuid::new_v4()),
        timestamp: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        // The members of a whole grammar code system are infinitely many: there is no total to give.
        total: (!expansion.unbounded).then_some(total),
        offset: (options.offset > 0 || options.count.is_some()).then_some(options.offset),
        parameters: echoed,
        declared,
        page: Page { expansion, positions, nesting, options, show_version },
    })
}
