//! How the operations show codes and resources: the display in the caller's language, property
//! values with the properties every concept has, and the status labels of resources.

use super::membership::value_set_parameter;
use crate::index::{CodeSystemIndex, Member};
use model::fhir::{extension_value, Json};
use model::terminology::ValueSet;
use serde_json::json;

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
        .map(|property| (value_key_name(property.value_key()), property.value.to_json()))
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
