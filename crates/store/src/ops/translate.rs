//! `ConceptMap/$translate`, forward and reverse, with R4 and R5 parameter names.

use super::context::Context;
use crate::StoreError;
use model::fhir::{array_of, str_of, Json, Parameters};
use serde_json::json;

/// R5 relationship codes, as R4 equivalences.
fn equivalence_of(target: &Json) -> String {
    if let Some(equivalence) = str_of(target, "equivalence") {
        return equivalence.to_owned();
    }
    match str_of(target, "relationship") {
        Some("related-to") => "relatedto",
        Some("equivalent") => "equivalent",
        Some("source-is-narrower-than-target") => "wider",
        Some("source-is-broader-than-target") => "narrower",
        Some("not-related-to") => "disjoint",
        _ => "equivalent",
    }
    .to_owned()
}

pub fn translate(context: &Context<'_>) -> Result<Json, StoreError> {
    let params = context.params;
    let (system, code) = match params.complex("coding", "valueCoding").or_else(|| params.complex("sourceCoding", "valueCoding")) {
        Some(coding) => (str_of(coding, "system").map(str::to_owned), str_of(coding, "code").map(str::to_owned)),
        None => (params.str("system").or_else(|| params.str("sourceSystem")), params.str("code").or_else(|| params.str("sourceCode"))),
    };
    let reverse = params.bool("reverse").unwrap_or(false) || (params.has("targetCode") && code.is_none());
    let (system, code) =
        if reverse && code.is_none() { (params.str("targetSystem").or(system), params.str("targetCode")) } else { (system, code) };
    let code = code.ok_or_else(|| StoreError::invalid("no code to translate: give code, coding, sourceCode or targetCode"))?;
    let target_system = if reverse { None } else { params.str("targetsystem").or_else(|| params.str("targetSystem")) };
    let map_url = params.str("url").or_else(|| params.str("conceptMap"));
    let maps: Vec<Json> = match (&context.request.instance_id, &map_url) {
        (Some(id), _) => vec![context
            .concept_map_by_id(id)
            .ok_or_else(|| StoreError::not_found(format!("ConceptMap/{id} is not known")))?
            .resource
            .clone()],
        (None, Some(url)) => {
            let found: Vec<Json> = context
                .concept_maps()
                .iter()
                .filter(|entry| str_of(&entry.resource, "url") == Some(url.as_str()))
                .map(|entry| entry.resource.clone())
                .collect();
            if found.is_empty() {
                return Err(StoreError::not_found(format!("A definition for the ConceptMap '{url}' could not be found")));
            }
            found
        }
        (None, None) => context.concept_maps().iter().map(|entry| entry.resource.clone()).collect(),
    };
    let mut matches = Vec::new();
    for map in &maps {
        for group in array_of(map, "group") {
            let (group_source, group_target) = (str_of(group, "source"), str_of(group, "target"));
            let (from_system, to_system) = if reverse { (group_target, group_source) } else { (group_source, group_target) };
            if system.as_deref().is_some_and(|system| from_system.is_some_and(|from| from != system)) {
                continue;
            }
            if target_system.as_deref().is_some_and(|wanted| to_system.is_some_and(|to| to != wanted)) {
                continue;
            }
            for element in array_of(group, "element") {
                for target in array_of(element, "target") {
                    let (from_code, to_code, to_display) = if reverse {
                        (str_of(target, "code"), str_of(element, "code"), str_of(element, "display"))
                    } else {
                        (str_of(element, "code"), str_of(target, "code"), str_of(target, "display"))
                    };
                    if from_code != Some(code.as_str()) {
                        continue;
                    }
                    // A match between licensed systems gives their codes away: it needs the same access.
                    if !from_system.is_none_or(|from| context.admits(from)) || !to_system.is_none_or(|to| context.admits(to)) {
                        continue;
                    }
                    let mut concept = json!({});
                    if let Some(to_system) = to_system {
                        concept["system"] = json!(to_system);
                    }
                    if let Some(to_code) = to_code {
                        concept["code"] = json!(to_code);
                    }
                    if let Some(to_display) = to_display {
                        concept["display"] = json!(to_display);
                    }
                    let mut parts = vec![json!({"name": "equivalence", "valueCode": equivalence_of(target)})];
                    if reverse {
                        // As tx.fhir.org answers a reverse translation: the concept asked about, and the source it maps from.
                        let mut asked = json!({"code": code});
                        if let Some(from_system) = from_system {
                            asked["system"] = json!(from_system);
                        }
                        parts.push(json!({"name": "concept", "valueCoding": asked}));
                        parts.push(json!({"name": "source", "valueCoding": concept}));
                    } else {
                        parts.push(json!({"name": "concept", "valueCoding": concept}));
                    }
                    if let Some(url) = str_of(map, "url") {
                        let canonical = match str_of(map, "version") {
                            Some(version) => format!("{url}|{version}"),
                            None => url.to_owned(),
                        };
                        parts.push(json!({"name": "originMap", "valueCanonical": canonical}));
                    }
                    matches.push(parts);
                }
            }
        }
    }
    let mut out = Parameters::default();
    let result = !matches.is_empty();
    out.push_value("result", "valueBoolean", json!(result));
    if !result {
        out.push_value("message", "valueString", json!(format!("No mappings could be found for {}#{code}", system.unwrap_or_default())));
    }
    for parts in matches {
        out.push_parts("match", parts);
    }
    Ok(out.to_resource())
}
