//! `CodeSystem/$lookup` and `CodeSystem/$subsumes`.

use super::context::Context;
use super::request::{named_code, Coding, LookupRequest, SubsumesRequest};
use crate::index::CodeSystemIndex;
use crate::{StoreError, StoreErrorKind};
use model::fhir::render::Parameter;
use model::fhir::{Issue, Json};
use model::terminology::PropertyValue;
use serde_json::json;
use std::sync::{Arc, LazyLock};

/// The code system and code a call names (read by [`named_code`]), or an instance id.
fn named_concept(
    context: &Context<'_>,
    named: &Coding,
    has_code: bool,
    code_name: &str,
    coding_name: &str,
) -> Result<(Arc<CodeSystemIndex>, u32), StoreError> {
    let (system, version) = (&named.system, &named.version);
    if !has_code {
        return Err(StoreError::invalid(format!("no code given: use {code_name} or {coding_name}")));
    }
    let code = &named.code;
    let code_system = match (&context.request.instance_id, system) {
        (Some(id), _) => context.code_system_by_id(id).ok_or_else(|| StoreError::not_found(format!("CodeSystem/{id} is not known")))?,
        (None, Some(system)) => context.code_system(system, version.as_deref()).ok_or_else(|| {
            let shown = match version {
                Some(version) => format!("{system}' version '{version}"),
                None => system.to_string(),
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
    let crate::grammar::Resolved::Found(code_system, concept_idx, _) = code_system.resolve(code) else {
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

/// The `use` of the designation a code system's display is, in its own language.
static PREFERRED_FOR_LANGUAGE: LazyLock<Json> = LazyLock::new(
    || json!({"system": "http://terminology.hl7.org/CodeSystem/hl7TermMaintInfra", "code": "preferredForLanguage", "display": "Preferred For Language"}),
);

/// One designation of a `$lookup` answer.
#[derive(Clone, Debug, PartialEq)]
pub struct LookupDesignation {
    pub language: Option<String>,
    /// The `use` Coding, as JSON.
    pub use_coding: Option<std::sync::Arc<Json>>,
    /// Whether this is the code system's display, given as the preferred designation in its language.
    pub preferred_for_language: bool,
    pub value: String,
    /// The supplement the designation came from.
    pub source: Option<String>,
}

/// One property of a `$lookup` answer.
#[derive(Clone, Debug, PartialEq)]
pub struct LookupProperty {
    pub code: String,
    /// The typed value; `None` for a group of subproperties (a SNOMED CT role group).
    pub value: Option<PropertyValue>,
    /// The display of a `parent` or `child` code.
    pub description: Option<String>,
    pub subproperties: Vec<LookupProperty>,
}

impl LookupProperty {
    fn parameter<'a>(&'a self, name: &'a str) -> Parameter<'a> {
        let mut parts = Vec::with_capacity(3 + self.subproperties.len());
        parts.push(Parameter::str("code", "valueCode", &self.code));
        if let Some(value) = &self.value {
            parts.push(Parameter::property("value", value));
        }
        if let Some(description) = &self.description {
            parts.push(Parameter::str("description", "valueString", description));
        }
        parts.extend(self.subproperties.iter().map(|subproperty| subproperty.parameter("subproperty")));
        Parameter::Parts { name, parts }
    }
}

/// The answer of `$lookup`, field by field in the order FHIR JSON lists them; it serializes
/// straight to a `Parameters` resource ([`model::fhir::render`]).
#[derive(Clone, Debug, PartialEq)]
pub struct LookupOutcome {
    pub code: String,
    pub system: String,
    pub name: Option<String>,
    pub version: Option<String>,
    pub display: Option<String>,
    pub definition: Option<String>,
    pub is_abstract: bool,
    pub designations: Vec<LookupDesignation>,
    pub used_supplements: Vec<String>,
    pub properties: Vec<LookupProperty>,
}

impl LookupOutcome {
    fn parameters(&self) -> Vec<Parameter<'_>> {
        let mut out = Vec::with_capacity(8 + self.designations.len() + self.properties.len());
        out.push(Parameter::str("code", "valueCode", &self.code));
        out.push(Parameter::str("system", "valueUri", &self.system));
        if let Some(name) = &self.name {
            out.push(Parameter::str("name", "valueString", name));
        }
        if let Some(version) = &self.version {
            out.push(Parameter::str("version", "valueString", version));
        }
        if let Some(display) = &self.display {
            out.push(Parameter::str("display", "valueString", display));
        }
        if let Some(definition) = &self.definition {
            out.push(Parameter::str("definition", "valueString", definition));
        }
        out.push(Parameter::bool("abstract", self.is_abstract));
        for designation in &self.designations {
            let mut parts = Vec::with_capacity(4);
            if let Some(language) = &designation.language {
                parts.push(Parameter::str("language", "valueCode", language));
            }
            if designation.preferred_for_language {
                parts.push(Parameter::json("use", "valueCoding", &PREFERRED_FOR_LANGUAGE));
            } else if let Some(use_coding) = &designation.use_coding {
                parts.push(Parameter::json("use", "valueCoding", use_coding));
            }
            parts.push(Parameter::str("value", "valueString", &designation.value));
            if let Some(source) = &designation.source {
                parts.push(Parameter::str("source", "valueCanonical", source));
            }
            out.push(Parameter::Parts { name: "designation", parts });
        }
        for supplement in &self.used_supplements {
            out.push(Parameter::str("used-supplement", "valueCanonical", supplement));
        }
        out.extend(self.properties.iter().map(|property| property.parameter("property")));
        out
    }

    /// The answer as a JSON value, for XML and for callers that work on values.
    pub fn to_json(&self) -> Json {
        model::fhir::render::to_json(self)
    }
}

impl serde::Serialize for LookupOutcome {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        model::fhir::render::serialize_parameters(serializer, &self.parameters())
    }
}

/// `CodeSystem/$lookup` with its parameters read from the context's call.
pub fn lookup_by_name(context: &Context<'_>) -> Result<LookupOutcome, StoreError> {
    let (coding, has_code) = named_code(context.params, "code", "coding");
    lookup(context, &coding, has_code, &context.params.strs("property"))
}

/// `CodeSystem/$lookup` of a typed request.
pub fn lookup_typed(context: &Context<'_>, request: &LookupRequest) -> Result<LookupOutcome, StoreError> {
    lookup(context, &request.coding, request.has_code, &request.properties)
}

fn lookup(context: &Context<'_>, named: &Coding, has_code: bool, requested: &[String]) -> Result<LookupOutcome, StoreError> {
    let (code_system, concept_idx) = named_concept(context, named, has_code, "code", "coding")?;
    let concept = code_system.concept(concept_idx);
    let flags = &code_system.flags[concept_idx as usize];
    let wants = |code: &str| requested.is_empty() || requested.iter().any(|wanted| wanted == "*" || wanted == code);
    let mut out = LookupOutcome {
        code: concept.code.clone(),
        system: code_system.url().to_owned(),
        name: code_system.code_system.name.clone(),
        version: code_system.version().map(str::to_owned),
        display: concept.display.clone(),
        definition: concept.definition.clone(),
        is_abstract: flags.not_selectable,
        designations: Vec::new(),
        used_supplements: Vec::new(),
        properties: Vec::new(),
    };
    // The display is itself a designation in the code system's language.
    if let (Some(language), Some(display)) = (&code_system.code_system.language, &concept.display) {
        out.designations.push(LookupDesignation {
            language: Some(language.clone()),
            use_coding: None,
            preferred_for_language: true,
            value: display.clone(),
            source: None,
        });
    }
    for designation in &concept.designations {
        out.designations.push(LookupDesignation {
            language: designation.language.as_deref().map(str::to_owned),
            use_coding: designation.use_coding.clone(),
            preferred_for_language: false,
            value: designation.value.clone(),
            source: context.designation_source(code_system.url(), &concept.code, designation),
        });
    }
    out.used_supplements = context.supplements_used(code_system.url());
    let property = |code: &str, value: PropertyValue, description: Option<&str>| LookupProperty {
        code: code.to_owned(),
        value: Some(value),
        description: description.map(str::to_owned),
        subproperties: Vec::new(),
    };
    // SNOMED CT attributes in role groups (crate::ecl reads the loader's layout) are shown as
    // tx servers show them: one `609096000 |Role group|` property per group, its attributes as
    // subproperties.
    let is_snomed = code_system.url() == "http://snomed.info/sct";
    let groups = if is_snomed { crate::ecl::property_groups(concept) } else { vec![0; concept.properties.len()] };
    let mut role_groups: Vec<(u32, Vec<LookupProperty>)> = Vec::new();
    for (concept_property, group) in concept.properties.iter().zip(&groups) {
        if *group != 0 || (is_snomed && concept_property.code == "roleGroup") {
            if concept_property.code != "roleGroup" && (wants(&concept_property.code) || wants("609096000")) {
                let attribute = property(&concept_property.code, concept_property.value.clone(), None);
                match role_groups.iter_mut().find(|(found, _)| found == group) {
                    Some((_, attributes)) => attributes.push(attribute),
                    None => role_groups.push((*group, vec![attribute])),
                }
            }
            continue;
        }
        if wants(&concept_property.code) && !matches!(concept_property.code.as_str(), "parent" | "child") {
            out.properties.push(property(&concept_property.code, concept_property.value.clone(), None));
        }
    }
    for (_, subproperties) in role_groups {
        out.properties.push(LookupProperty { code: "609096000".to_owned(), value: None, description: None, subproperties });
    }
    if is_snomed && requested.iter().any(|wanted| wanted == "normalForm" || wanted == "*") {
        if let Some(normal_form) = crate::ecl::normal_form(&code_system, concept_idx) {
            out.properties.push(property("normalForm", PropertyValue::String(normal_form.into()), None));
        }
    }
    if wants("inactive") && !concept.properties.iter().any(|concept_property| concept_property.code == "inactive") {
        out.properties.push(property("inactive", PropertyValue::Boolean(flags.inactive), None));
    }
    if wants("parent") {
        for parent in &code_system.parents[concept_idx as usize] {
            let parent_concept = code_system.concept(*parent);
            out.properties.push(property(
                "parent",
                PropertyValue::Code(parent_concept.code.as_str().into()),
                parent_concept.display.as_deref(),
            ));
        }
    }
    if wants("child") {
        for child in &code_system.children[concept_idx as usize] {
            let child_concept = code_system.concept(*child);
            out.properties.push(property(
                "child",
                PropertyValue::Code(child_concept.code.as_str().into()),
                child_concept.display.as_deref(),
            ));
        }
    }
    Ok(out)
}

/// The answer of `$subsumes`: how code A relates to code B.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubsumesOutcome {
    Equivalent,
    Subsumes,
    SubsumedBy,
    NotSubsumed,
}

impl SubsumesOutcome {
    /// The `concept-subsumption-outcome` code.
    pub fn code(self) -> &'static str {
        match self {
            SubsumesOutcome::Equivalent => "equivalent",
            SubsumesOutcome::Subsumes => "subsumes",
            SubsumesOutcome::SubsumedBy => "subsumed-by",
            SubsumesOutcome::NotSubsumed => "not-subsumed",
        }
    }

    /// The answer as a JSON value, for XML and for callers that work on values.
    pub fn to_json(self) -> Json {
        model::fhir::render::to_json(&self)
    }
}

impl serde::Serialize for SubsumesOutcome {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        model::fhir::render::serialize_parameters(serializer, &[Parameter::str("outcome", "valueCode", self.code())])
    }
}

/// `CodeSystem/$subsumes` with its parameters read from the context's call.
pub fn subsumes_by_name(context: &Context<'_>) -> Result<SubsumesOutcome, StoreError> {
    subsumes(context, &SubsumesRequest::codes_of(context.params))
}

/// `CodeSystem/$subsumes`.
pub fn subsumes(context: &Context<'_>, request: &SubsumesRequest) -> Result<SubsumesOutcome, StoreError> {
    let (system_a, concept_a) = named_concept(context, &request.coding_a, request.has_code_a, "codeA", "codingA")?;
    let (system_b, concept_b) = named_concept(context, &request.coding_b, request.has_code_b, "codeB", "codingB")?;
    if system_a.canonical() != system_b.canonical() {
        return Err(StoreError::invalid(format!(
            "codeA and codeB are from different code systems: {} and {}",
            system_a.canonical(),
            system_b.canonical()
        )));
    }
    Ok(if concept_a == concept_b {
        SubsumesOutcome::Equivalent
    } else if system_a.subsumes(concept_a, concept_b) {
        SubsumesOutcome::Subsumes
    } else if system_a.subsumes(concept_b, concept_a) {
        SubsumesOutcome::SubsumedBy
    } else {
        SubsumesOutcome::NotSubsumed
    })
}
