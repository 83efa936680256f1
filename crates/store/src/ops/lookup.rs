//! `CodeSystem/$lookup` and `CodeSystem/$subsumes`.

use super::context::Context;
use crate::index::CodeSystemIndex;
use crate::{StoreError, StoreErrorKind};
use model::fhir::{str_of, Issue, Json, Parameters};
use serde_json::json;
use std::sync::Arc;

/// The code system and code a call names, by `system`/`code`, `coding` or an instance id.
fn named_concept(context: &Context<'_>, code_name: &str, coding_name: &str) -> Result<(Arc<CodeSystemIndex>, u32), StoreError> {
    let params = context.params;
    let (system, version, code) = match params.complex(coding_name, "valueCoding") {
        Some(coding) => (
            str_of(coding, "system").map(str::to_owned),
            str_of(coding, "version").map(str::to_owned),
            str_of(coding, "code").map(str::to_owned),
        ),
        None => (params.str("system"), params.str("version"), params.str(code_name)),
    };
    // `url|version` is a canonical: the version travels with the system.
    let (system, version) = match system.as_deref().and_then(|text| text.split_once('|')) {
        Some((url, pinned)) => (Some(url.to_owned()), version.or_else(|| Some(pinned.to_owned()))),
        None => (system, version),
    };
    let code = code.ok_or_else(|| StoreError::invalid(format!("no code given: use {code_name} or {coding_name}")))?;
    let code_system = match (&context.request.instance_id, &system) {
        (Some(id), _) => context.code_system_by_id(id).ok_or_else(|| StoreError::not_found(format!("CodeSystem/{id} is not known")))?,
        (None, Some(system)) => context.code_system(system, version.as_deref()).ok_or_else(|| {
            let shown = match &version {
                Some(version) => format!("{system}' version '{version}"),
                None => system.clone(),
            };
            StoreError::with_issue(
                StoreErrorKind::NotFound,
                Issue::error(
                    "not-found",
                    format!("A definition for CodeSystem '{shown}' could not be found, so the code cannot be looked up"),
                )
                .tx("not-found")
                .at("system"),
            )
        })?,
        (None, None) => return Err(StoreError::invalid("no code system given: use system or coding")),
    };
    let crate::grammar::Resolved::Found(code_system, concept_idx, _) = code_system.resolve(&code) else {
        let version_text = code_system.version().map(|version| format!(" version '{version}'")).unwrap_or_default();
        return Err(StoreError::with_issue(
            StoreErrorKind::NotFound,
            Issue::error("code-invalid", format!("Unknown code '{code}' in the CodeSystem '{}'{version_text}", code_system.url()))
                .tx("invalid-code")
                .at("code"),
        ));
    };
    Ok((code_system, concept_idx))
}

fn property_part(code: &str, value_key: &str, value: Json, description: Option<&str>) -> Json {
    let mut parts = vec![json!({"name": "code", "valueCode": code})];
    let mut value_part = json!({"name": "value"});
    value_part[value_key] = value;
    parts.push(value_part);
    if let Some(description) = description {
        parts.push(json!({"name": "description", "valueString": description}));
    }
    json!({"name": "property", "part": parts})
}

/// `CodeSystem/$lookup`.
pub fn lookup(context: &Context<'_>) -> Result<Json, StoreError> {
    let (code_system, concept_idx) = named_concept(context, "code", "coding")?;
    let concept = code_system.concept(concept_idx);
    let flags = &code_system.flags[concept_idx as usize];
    let requested: Vec<String> = context.params.strs("property");
    let wants = |code: &str| requested.is_empty() || requested.iter().any(|wanted| wanted == "*" || wanted == code);
    let mut out = Parameters::default();
    out.push_value("code", "valueCode", json!(concept.code));
    out.push_value("system", "valueUri", json!(code_system.url()));
    if let Some(name) = &code_system.code_system.name {
        out.push_value("name", "valueString", json!(name));
    }
    if let Some(version) = code_system.version() {
        out.push_value("version", "valueString", json!(version));
    }
    if let Some(display) = &concept.display {
        out.push_value("display", "valueString", json!(display));
    }
    if let Some(definition) = &concept.definition {
        out.push_value("definition", "valueString", json!(definition));
    }
    out.push_value("abstract", "valueBoolean", json!(flags.not_selectable));
    // The display is itself a designation in the code system's language.
    if let (Some(language), Some(display)) = (&code_system.code_system.language, &concept.display) {
        out.push_parts(
            "designation",
            vec![
                json!({"name": "language", "valueCode": language}),
                json!({"name": "use", "valueCoding": {
                    "system": "http://terminology.hl7.org/CodeSystem/hl7TermMaintInfra", "code": "preferredForLanguage", "display": "Preferred For Language"
                }}),
                json!({"name": "value", "valueString": display}),
            ],
        );
    }
    for designation in &concept.designations {
        let mut parts = Vec::new();
        if let Some(language) = &designation.language {
            parts.push(json!({"name": "language", "valueCode": language}));
        }
        if let Some(use_coding) = &designation.use_coding {
            parts.push(json!({"name": "use", "valueCoding": use_coding}));
        }
        parts.push(json!({"name": "value", "valueString": designation.value}));
        if let Some(source) = context.designation_source(code_system.url(), &concept.code, designation) {
            parts.push(json!({"name": "source", "valueCanonical": source}));
        }
        out.push_parts("designation", parts);
    }
    for supplement in context.supplements_used(code_system.url()) {
        out.push_value("used-supplement", "valueCanonical", json!(supplement));
    }
    // SNOMED CT attributes in role groups (crate::ecl reads the loader's layout) are shown as
    // tx servers show them: one `609096000 |Role group|` property per group, its attributes as
    // subproperties.
    let is_snomed = code_system.url() == "http://snomed.info/sct";
    let groups = if is_snomed { crate::ecl::property_groups(concept) } else { vec![0; concept.properties.len()] };
    let mut role_groups: Vec<(u32, Vec<Json>)> = Vec::new();
    for (property, group) in concept.properties.iter().zip(&groups) {
        if *group != 0 || (is_snomed && property.code == "roleGroup") {
            if property.code != "roleGroup" && (wants(&property.code) || wants("609096000")) {
                let part = json!({"name": "subproperty", "part": [
                    {"name": "code", "valueCode": property.code}, {"name": "value", property.value_key.as_str(): property.value}
                ]});
                match role_groups.iter_mut().find(|(found, _)| found == group) {
                    Some((_, parts)) => parts.push(part),
                    None => role_groups.push((*group, vec![part])),
                }
            }
            continue;
        }
        if wants(&property.code) && !matches!(property.code.as_str(), "parent" | "child") {
            out.entries.push(property_part(&property.code, &property.value_key, property.value.clone(), None));
        }
    }
    for (_, mut parts) in role_groups {
        parts.insert(0, json!({"name": "code", "valueCode": "609096000"}));
        out.entries.push(json!({"name": "property", "part": parts}));
    }
    if is_snomed && requested.iter().any(|wanted| wanted == "normalForm" || wanted == "*") {
        if let Some(normal_form) = crate::ecl::normal_form(&code_system, concept_idx) {
            out.entries.push(property_part("normalForm", "valueString", json!(normal_form), None));
        }
    }
    if wants("inactive") && !concept.properties.iter().any(|property| property.code == "inactive") {
        out.entries.push(property_part("inactive", "valueBoolean", json!(flags.inactive), None));
    }
    if wants("parent") {
        for parent in &code_system.parents[concept_idx as usize] {
            let parent_concept = code_system.concept(*parent);
            out.entries.push(property_part("parent", "valueCode", json!(parent_concept.code), parent_concept.display.as_deref()));
        }
    }
    if wants("child") {
        for child in &code_system.children[concept_idx as usize] {
            let child_concept = code_system.concept(*child);
            out.entries.push(property_part("child", "valueCode", json!(child_concept.code), child_concept.display.as_deref()));
        }
    }
    Ok(out.to_resource())
}

/// `CodeSystem/$subsumes`.
pub fn subsumes(context: &Context<'_>) -> Result<Json, StoreError> {
    let (system_a, concept_a) = named_concept(context, "codeA", "codingA")?;
    let (system_b, concept_b) = named_concept(context, "codeB", "codingB")?;
    if system_a.canonical() != system_b.canonical() {
        return Err(StoreError::invalid(format!(
            "codeA and codeB are from different code systems: {} and {}",
            system_a.canonical(),
            system_b.canonical()
        )));
    }
    let outcome = if concept_a == concept_b {
        "equivalent"
    } else if system_a.subsumes(concept_a, concept_b) {
        "subsumes"
    } else if system_a.subsumes(concept_b, concept_a) {
        "subsumed-by"
    } else {
        "not-subsumed"
    };
    let mut out = Parameters::default();
    out.push_value("outcome", "valueCode", json!(outcome));
    Ok(out.to_resource())
}
