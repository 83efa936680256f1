//! ValueSet: its header and its compose (includes, excludes, filters, imports).

use super::code_system::Designation;
use super::{remainder, ModelError};
use crate::fhir::{array_of, bool_of, str_of};
use crate::Json;

/// The R5 cross-version extension that carries filter operators R4 does not know (`child-of`, …).
pub const FILTER_OP_EXTENSION: &str = "http://hl7.org/fhir/5.0/StructureDefinition/extension-ValueSet.compose.include.filter.op";

/// A ValueSet resource with its compose typed.
#[derive(Clone, Debug, PartialEq)]
pub struct ValueSet {
    pub resource: Json,
    pub url: Option<String>,
    pub version: Option<String>,
    pub name: Option<String>,
    pub title: Option<String>,
    pub status: String,
    pub language: Option<String>,
    pub experimental: Option<bool>,
    pub compose: Option<Compose>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Compose {
    pub inactive: Option<bool>,
    pub include: Vec<ConceptSet>,
    pub exclude: Vec<ConceptSet>,
}

/// One `include` or `exclude`: a system (optionally pinned), concepts or filters, and imported value sets.
#[derive(Clone, Debug, PartialEq)]
pub struct ConceptSet {
    pub system: Option<String>,
    pub version: Option<String>,
    pub concepts: Vec<ConceptReference>,
    pub filters: Vec<Filter>,
    pub value_sets: Vec<String>,
    pub extra: Option<Json>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ConceptReference {
    pub code: String,
    pub display: Option<String>,
    pub designations: Vec<Designation>,
    pub extra: Option<Json>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Filter {
    pub property: String,
    pub op: String,
    pub value: String,
}

impl ValueSet {
    pub fn from_json(resource: &Json) -> Result<ValueSet, ModelError> {
        if str_of(resource, "resourceType") != Some("ValueSet") {
            return Err(ModelError::new("resourceType", "expected ValueSet"));
        }
        let compose = match resource.get("compose") {
            Some(compose) => Some(Compose {
                inactive: bool_of(compose, "inactive"),
                include: concept_sets(array_of(compose, "include"), "ValueSet.compose.include")?,
                exclude: concept_sets(array_of(compose, "exclude"), "ValueSet.compose.exclude")?,
            }),
            None => None,
        };
        Ok(ValueSet {
            url: str_of(resource, "url").map(str::to_owned),
            version: str_of(resource, "version").map(str::to_owned),
            name: str_of(resource, "name").map(str::to_owned),
            title: str_of(resource, "title").map(str::to_owned),
            status: str_of(resource, "status").unwrap_or("unknown").to_owned(),
            language: str_of(resource, "language").map(str::to_owned),
            experimental: bool_of(resource, "experimental"),
            compose,
            resource: resource.clone(),
        })
    }
}

fn concept_sets(list: &[Json], path: &str) -> Result<Vec<ConceptSet>, ModelError> {
    let mut sets = Vec::new();
    for (idx, value) in list.iter().enumerate() {
        let set_path = format!("{path}[{idx}]");
        let mut concepts = Vec::new();
        for (concept_idx, concept) in array_of(value, "concept").iter().enumerate() {
            let concept_path = format!("{set_path}.concept[{concept_idx}]");
            let code = str_of(concept, "code").ok_or_else(|| ModelError::new(format!("{concept_path}.code"), "missing"))?;
            let designations = array_of(concept, "designation")
                .iter()
                .enumerate()
                .map(|(designation_idx, designation)| {
                    Designation::from_json(designation, &format!("{concept_path}.designation[{designation_idx}]"))
                })
                .collect::<Result<_, _>>()?;
            concepts.push(ConceptReference {
                code: code.to_owned(),
                display: str_of(concept, "display").map(str::to_owned),
                designations,
                extra: remainder(concept, &["code", "display", "designation"]),
            });
        }
        let mut filters = Vec::new();
        for (filter_idx, filter) in array_of(value, "filter").iter().enumerate() {
            let filter_path = format!("{set_path}.filter[{filter_idx}]");
            let op = str_of(filter, "op").map(str::to_owned).or_else(|| {
                filter.get("_op").and_then(|op| {
                    array_of(op, "extension")
                        .iter()
                        .find(|extension| str_of(extension, "url") == Some(FILTER_OP_EXTENSION))
                        .and_then(|extension| str_of(extension, "valueCode"))
                        .map(str::to_owned)
                })
            });
            filters.push(Filter {
                property: str_of(filter, "property")
                    .ok_or_else(|| ModelError::new(format!("{filter_path}.property"), "missing"))?
                    .to_owned(),
                op: op.ok_or_else(|| ModelError::new(format!("{filter_path}.op"), "missing"))?,
                value: str_of(filter, "value").unwrap_or_default().to_owned(),
            });
        }
        sets.push(ConceptSet {
            system: str_of(value, "system").map(str::to_owned),
            version: str_of(value, "version").map(str::to_owned),
            concepts,
            filters,
            value_sets: array_of(value, "valueSet").iter().filter_map(Json::as_str).map(str::to_owned).collect(),
            extra: remainder(value, &["system", "version", "concept", "filter", "valueSet"]),
        });
    }
    Ok(sets)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_compose_with_r5_filter_operators() {
        let resource = json!({"resourceType": "ValueSet", "url": "http://vs", "status": "active", "compose": {
            "include": [{"system": "http://cs", "filter": [{"property": "concept", "_op": {"extension": [
                {"url": FILTER_OP_EXTENSION, "valueCode": "child-of"}]}, "value": "a"}]},
                {"valueSet": ["http://other"]}],
            "exclude": [{"system": "http://cs", "concept": [{"code": "b"}]}]}});
        let value_set = ValueSet::from_json(&resource).unwrap();
        let compose = value_set.compose.unwrap();
        assert_eq!(compose.include[0].filters[0].op, "child-of");
        assert_eq!(compose.include[1].value_sets, vec!["http://other"]);
        assert_eq!(compose.exclude[0].concepts[0].code, "b");
    }
}
