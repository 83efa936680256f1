//! `ConceptMap/$translate`, forward and reverse, with R4 and R5 parameter names.

use super::context::Context;
use super::request::{TranslateQuery, TranslateRequest};
use crate::index::ConceptMapEntry;
use crate::StoreError;
use model::fhir::render::{Parameter, Value};
use model::fhir::{array_of, str_of, Json};
use std::sync::Arc;

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

/// A coding in a `$translate` answer; `code_first` keeps the element order of the concept a
/// reverse translation asked about, as tx.fhir.org writes it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TranslateCoding {
    pub system: Option<String>,
    pub code: Option<String>,
    pub display: Option<String>,
    code_first: bool,
}

impl TranslateCoding {
    /// The Coding's elements in the order they are written.
    fn fields(&self) -> Vec<(&str, &str)> {
        let mut fields = Vec::with_capacity(3);
        let code = self.code.as_deref().map(|code| ("code", code));
        if self.code_first {
            fields.extend(code);
        }
        fields.extend(self.system.as_deref().map(|system| ("system", system)));
        if !self.code_first {
            fields.extend(code);
        }
        fields.extend(self.display.as_deref().map(|display| ("display", display)));
        fields
    }
}

/// One `match` of a `$translate` answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TranslateMatch {
    /// The R4 equivalence (R5 relationships are read as their R4 equivalents).
    pub equivalence: String,
    /// The target concept; for a reverse translation, the concept asked about.
    pub concept: TranslateCoding,
    /// For a reverse translation, the source concept that maps to the one asked about.
    pub source: Option<TranslateCoding>,
    /// The ConceptMap's canonical (`url|version`).
    pub origin_map: Option<String>,
}

/// The answer of `$translate`, in the order FHIR JSON lists it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TranslateOutcome {
    pub result: bool,
    pub message: Option<String>,
    pub matches: Vec<TranslateMatch>,
}

impl TranslateOutcome {
    fn parameters(&self) -> Vec<Parameter<'_>> {
        let mut out = Vec::with_capacity(2 + self.matches.len());
        out.push(Parameter::bool("result", self.result));
        if let Some(message) = &self.message {
            out.push(Parameter::str("message", "valueString", message));
        }
        for found in &self.matches {
            let mut parts = vec![Parameter::str("equivalence", "valueCode", &found.equivalence)];
            parts.push(Parameter::Value { name: "concept", value_key: "valueCoding", value: Value::Fields(found.concept.fields()) });
            if let Some(source) = &found.source {
                parts.push(Parameter::Value { name: "source", value_key: "valueCoding", value: Value::Fields(source.fields()) });
            }
            if let Some(origin_map) = &found.origin_map {
                parts.push(Parameter::str("originMap", "valueCanonical", origin_map));
            }
            out.push(Parameter::Parts { name: "match", parts });
        }
        out
    }

    /// The answer as a JSON value, for XML and for callers that work on values.
    pub fn to_json(&self) -> Json {
        model::fhir::render::to_json(self)
    }
}

impl serde::Serialize for TranslateOutcome {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        model::fhir::render::serialize_parameters(serializer, &self.parameters())
    }
}

/// `ConceptMap/$translate` with its parameters read from the context's call.
pub fn translate_by_name(context: &Context<'_>) -> Result<TranslateOutcome, StoreError> {
    translate(context, &TranslateRequest::query_of(context.params))
}

/// `ConceptMap/$translate`.
pub fn translate(context: &Context<'_>, request: &TranslateQuery) -> Result<TranslateOutcome, StoreError> {
    let TranslateQuery { system, code, reverse, target_system, map_url } = request;
    let reverse = *reverse;
    let code = code.as_deref().ok_or_else(|| StoreError::invalid("no code to translate: give code, coding, sourceCode or targetCode"))?;
    let maps: Vec<Arc<ConceptMapEntry>> = match (&context.request.instance_id, map_url) {
        (Some(id), _) => {
            vec![context.concept_map_by_id(id).ok_or_else(|| StoreError::not_found(format!("ConceptMap/{id} is not known")))?]
        }
        (None, Some(url)) => {
            let found: Vec<Arc<ConceptMapEntry>> =
                context.concept_maps().into_iter().filter(|entry| str_of(&entry.resource, "url") == Some(url.as_str())).collect();
            if found.is_empty() {
                return Err(StoreError::not_found(format!("A definition for the ConceptMap '{url}' could not be found")));
            }
            found
        }
        (None, None) => context.concept_maps(),
    };
    let mut matches = Vec::new();
    for map in maps.iter().map(|entry| &entry.resource) {
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
                    if from_code != Some(code) {
                        continue;
                    }
                    // A match between licensed systems gives their codes away: it needs the same access.
                    if !from_system.is_none_or(|from| context.admits(from)) || !to_system.is_none_or(|to| context.admits(to)) {
                        continue;
                    }
                    let concept = TranslateCoding {
                        system: to_system.map(str::to_owned),
                        code: to_code.map(str::to_owned),
                        display: to_display.map(str::to_owned),
                        code_first: false,
                    };
                    let origin_map = str_of(map, "url").map(|url| match str_of(map, "version") {
                        Some(version) => format!("{url}|{version}"),
                        None => url.to_owned(),
                    });
                    let found = if reverse {
                        // As tx.fhir.org answers a reverse translation: the concept asked about, and the source it maps from.
                        let asked = TranslateCoding {
                            system: from_system.map(str::to_owned),
                            code: Some(code.to_owned()),
                            display: None,
                            code_first: true,
                        };
                        TranslateMatch { equivalence: equivalence_of(target), concept: asked, source: Some(concept), origin_map }
                    } else {
                        TranslateMatch { equivalence: equivalence_of(target), concept, source: None, origin_map }
                    };
                    matches.push(found);
                }
            }
        }
    }
    let result = !matches.is_empty();
    let message = (!result).then(|| format!("No mappings could be found for {}#{code}", system.clone().unwrap_or_default()));
    Ok(TranslateOutcome { result, message, matches })
}
