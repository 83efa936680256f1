//! CodeSystem: its header, its property definitions and its concepts flattened in pre-order.

use super::{merge_remainder, remainder, ModelError};
use crate::fhir::{array_of, bool_of, str_of};
use crate::{Json, Name};
use compact_str::CompactString;
use serde_json::{json, Map};
use std::sync::Arc;

/// A CodeSystem resource with its concepts flattened.
#[derive(Clone, Debug, PartialEq)]
pub struct CodeSystem {
    /// The resource without its `concept` element.
    pub resource: Json,
    pub url: String,
    pub version: Option<String>,
    pub name: Option<String>,
    pub title: Option<String>,
    pub status: String,
    pub content: String,
    pub case_sensitive: Option<bool>,
    pub hierarchy_meaning: Option<String>,
    pub supplements: Option<String>,
    pub language: Option<String>,
    pub experimental: Option<bool>,
    pub properties: Vec<PropertyDef>,
    pub concepts: Vec<Concept>,
}

/// A property a CodeSystem declares for its concepts.
#[derive(Clone, Debug, PartialEq)]
pub struct PropertyDef {
    pub code: String,
    pub uri: Option<String>,
    pub value_type: Option<String>,
    pub description: Option<String>,
}

/// One concept, with the position of the concept it was nested in.
#[derive(Clone, Debug, PartialEq)]
pub struct Concept {
    pub code: String,
    pub display: Option<String>,
    pub definition: Option<String>,
    pub designations: Vec<Designation>,
    pub properties: Vec<ConceptProperty>,
    /// Members other than the ones typed here, e.g. `extension`, kept as they came; boxed, since
    /// most concepts have none (a `Json` is 72 bytes inline).
    pub extra: Option<Box<Json>>,
    /// Index in [`CodeSystem::concepts`] of the concept this one was nested under.
    pub nest_parent: Option<usize>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Designation {
    /// Interned: a release has a handful of languages across millions of designations.
    pub language: Option<Name>,
    /// The `use` Coding, as JSON.
    /// Shared: a release has a handful of distinct uses (FSN, synonym, short description) across
    /// millions of designations, so readers of whole releases hand out clones of one `Arc` per use.
    pub use_coding: Option<Arc<Json>>,
    pub value: String,
    /// Members other than the ones typed here; boxed, since nearly every designation has none.
    pub extra: Option<Box<Json>>,
}

/// A concept's property: its code (interned, see [`Name`]) and its typed value.
#[derive(Clone, Debug, PartialEq)]
pub struct ConceptProperty {
    pub code: Name,
    pub value: PropertyValue,
    /// Members other than `code` and the value; boxed, since nearly every property has none.
    pub extra: Option<Box<Json>>,
}

/// A property value by its FHIR type. Codes, strings and dates are [`CompactString`]s, which keep
/// up to 24 bytes inline: SCTIDs, LOINC numbers, dates and flags need no allocation of their own,
/// which is most of the memory a large release's properties take.
#[derive(Clone, Debug, PartialEq)]
pub enum PropertyValue {
    Code(CompactString),
    String(CompactString),
    DateTime(CompactString),
    Boolean(bool),
    Integer(i64),
    /// The decimal's exact text.
    Decimal(CompactString),
    /// A Coding of only `system`, `version`, `code` and `display` (LOINC's part links: millions of
    /// them, over a few hundred systems and some tens of thousands of part names, all interned).
    Coding(Box<PropertyCoding>),
    /// Any other `value[x]` (or a value whose JSON does not fit its type), kept as it came.
    Other {
        key: Name,
        value: Box<Json>,
    },
}

/// The Coding of a [`PropertyValue::Coding`].
#[derive(Clone, Debug, PartialEq)]
pub struct PropertyCoding {
    pub system: Option<Name>,
    pub version: Option<Name>,
    pub code: CompactString,
    pub display: Option<Name>,
}

impl PropertyCoding {
    /// Reads a Coding with a code and nothing but `system`, `version` and `display` beside it.
    pub fn from_json(value: &Json) -> Option<PropertyCoding> {
        let map = value.as_object()?;
        let text = |key: &str| match map.get(key) {
            None => Ok(None),
            Some(Json::String(text)) => Ok(Some(text.as_str())),
            Some(_) => Err(()),
        };
        if map.keys().any(|key| !matches!(key.as_str(), "system" | "version" | "code" | "display")) {
            return None;
        }
        Some(PropertyCoding {
            system: text("system").ok()?.map(Name::new),
            version: text("version").ok()?.map(Name::new),
            code: text("code").ok()??.into(),
            display: text("display").ok()?.map(Name::new),
        })
    }

    pub fn to_json(&self) -> Json {
        let mut map = Map::new();
        if let Some(system) = &self.system {
            map.insert("system".into(), Json::String(system.to_string()));
        }
        if let Some(version) = &self.version {
            map.insert("version".into(), Json::String(version.to_string()));
        }
        map.insert("code".into(), Json::String(self.code.to_string()));
        if let Some(display) = &self.display {
            map.insert("display".into(), Json::String(display.to_string()));
        }
        Json::Object(map)
    }
}

impl PropertyValue {
    /// Types a `value[x]` member: `value_key` is the member's name (`valueCode`, `valueCoding`, …).
    pub fn from_json(value_key: &str, value: Json) -> PropertyValue {
        match (value_key, value) {
            ("valueCode", Json::String(text)) => PropertyValue::Code(text.into()),
            ("valueString", Json::String(text)) => PropertyValue::String(text.into()),
            ("valueDateTime", Json::String(text)) => PropertyValue::DateTime(text.into()),
            ("valueBoolean", Json::Bool(flag)) => PropertyValue::Boolean(flag),
            ("valueInteger", Json::Number(number)) if number.as_i64().is_some_and(|integer| integer.to_string() == number.to_string()) => {
                PropertyValue::Integer(number.as_i64().unwrap_or_default())
            }
            ("valueDecimal", Json::Number(number)) => PropertyValue::Decimal(number.to_string().into()),
            ("valueCoding", coding) => match PropertyCoding::from_json(&coding) {
                Some(typed) => PropertyValue::Coding(Box::new(typed)),
                None => PropertyValue::Other { key: Name::new("valueCoding"), value: Box::new(coding) },
            },
            (key, value) => PropertyValue::Other { key: Name::new(key), value: Box::new(value) },
        }
    }

    /// The FHIR member this value is written as (`valueCode`, `valueCoding`, …).
    pub fn key(&self) -> &str {
        match self {
            PropertyValue::Code(_) => "valueCode",
            PropertyValue::String(_) => "valueString",
            PropertyValue::DateTime(_) => "valueDateTime",
            PropertyValue::Boolean(_) => "valueBoolean",
            PropertyValue::Integer(_) => "valueInteger",
            PropertyValue::Decimal(_) => "valueDecimal",
            PropertyValue::Coding(_) => "valueCoding",
            PropertyValue::Other { key, .. } => key,
        }
    }

    /// The value as FHIR JSON.
    pub fn to_json(&self) -> Json {
        match self {
            PropertyValue::Code(text) | PropertyValue::String(text) | PropertyValue::DateTime(text) => Json::String(text.to_string()),
            PropertyValue::Boolean(flag) => Json::Bool(*flag),
            PropertyValue::Integer(integer) => Json::from(*integer),
            PropertyValue::Decimal(text) => {
                text.parse::<serde_json::Number>().map(Json::Number).unwrap_or_else(|_| Json::String(text.to_string()))
            }
            PropertyValue::Coding(coding) => coding.to_json(),
            PropertyValue::Other { value, .. } => Json::clone(value),
        }
    }

    /// The text of a code, string, date or decimal value, without allocating.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            PropertyValue::Code(text) | PropertyValue::String(text) | PropertyValue::DateTime(text) | PropertyValue::Decimal(text) => {
                Some(text)
            }
            PropertyValue::Other { value, .. } => value.as_str(),
            _ => None,
        }
    }

    /// The code of a code value, or of a Coding.
    pub fn code(&self) -> Option<&str> {
        match self {
            PropertyValue::Code(text) => Some(text),
            PropertyValue::Coding(coding) => Some(&coding.code),
            _ => None,
        }
    }

    /// The value as text without allocating, where it has one: a code, string, date or decimal,
    /// a Coding's code, a boolean as `true`/`false`, a JSON string kept as it came. `None` for
    /// integers and other JSON ([`ConceptProperty::value_text`] writes those out).
    pub fn text(&self) -> Option<&str> {
        match self {
            PropertyValue::Boolean(flag) => Some(if *flag { "true" } else { "false" }),
            value => value.code().or_else(|| value.as_str()),
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            PropertyValue::Boolean(flag) => Some(*flag),
            PropertyValue::Other { value, .. } => value.as_bool(),
            _ => None,
        }
    }

    pub fn as_u64(&self) -> Option<u64> {
        match self {
            PropertyValue::Integer(integer) => u64::try_from(*integer).ok(),
            PropertyValue::Other { value, .. } => value.as_u64(),
            _ => None,
        }
    }
}

impl serde::Serialize for PropertyValue {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            PropertyValue::Code(text) | PropertyValue::String(text) | PropertyValue::DateTime(text) => serializer.serialize_str(text),
            PropertyValue::Boolean(flag) => serializer.serialize_bool(*flag),
            PropertyValue::Integer(integer) => serializer.serialize_i64(*integer),
            PropertyValue::Decimal(_) => self.to_json().serialize(serializer),
            PropertyValue::Coding(coding) => coding.to_json().serialize(serializer),
            PropertyValue::Other { value, .. } => value.serialize(serializer),
        }
    }
}

impl ConceptProperty {
    /// A property from its code and its `value[x]` member's name and JSON.
    pub fn new(code: &str, value_key: &str, value: Json) -> ConceptProperty {
        ConceptProperty { code: Name::new(code), value: PropertyValue::from_json(value_key, value), extra: None }
    }

    /// A `valueCode` property.
    pub fn code(code: &str, value: &str) -> ConceptProperty {
        ConceptProperty { code: Name::new(code), value: PropertyValue::Code(value.into()), extra: None }
    }

    /// A `valueString` property.
    pub fn string(code: &str, value: &str) -> ConceptProperty {
        ConceptProperty { code: Name::new(code), value: PropertyValue::String(value.into()), extra: None }
    }

    /// A `valueDateTime` property.
    pub fn date_time(code: &str, value: &str) -> ConceptProperty {
        ConceptProperty { code: Name::new(code), value: PropertyValue::DateTime(value.into()), extra: None }
    }

    /// A `valueBoolean` property.
    pub fn boolean(code: &str, value: bool) -> ConceptProperty {
        ConceptProperty { code: Name::new(code), value: PropertyValue::Boolean(value), extra: None }
    }

    /// The FHIR member the value is written as (`valueCode`, `valueCoding`, …).
    pub fn value_key(&self) -> &str {
        self.value.key()
    }

    /// The value as text: the string for primitives, the code for a Coding.
    pub fn value_text(&self) -> Option<String> {
        match &self.value {
            PropertyValue::Code(text) | PropertyValue::String(text) | PropertyValue::DateTime(text) | PropertyValue::Decimal(text) => {
                Some(text.to_string())
            }
            PropertyValue::Boolean(flag) => Some(flag.to_string()),
            PropertyValue::Integer(integer) => Some(integer.to_string()),
            PropertyValue::Coding(coding) => Some(coding.code.to_string()),
            PropertyValue::Other { value, .. } => match &**value {
                Json::String(text) => Some(text.clone()),
                Json::Bool(flag) => Some(flag.to_string()),
                Json::Number(number) => Some(number.to_string()),
                Json::Object(_) => str_of(value, "code").map(str::to_owned),
                _ => None,
            },
        }
    }
}

impl Designation {
    pub fn from_json(value: &Json, path: &str) -> Result<Designation, ModelError> {
        let text = str_of(value, "value").ok_or_else(|| ModelError::new(format!("{path}.value"), "missing"))?;
        Ok(Designation {
            language: str_of(value, "language").map(Name::new),
            use_coding: value.get("use").cloned().map(Arc::new),
            value: text.to_owned(),
            extra: remainder(value, &["language", "use", "value"]).map(Box::new),
        })
    }

    pub fn to_json(&self) -> Json {
        let mut out = Json::Object(Map::new());
        if let Some(language) = &self.language {
            out["language"] = json!(language.as_str());
        }
        if let Some(use_coding) = &self.use_coding {
            out["use"] = Json::clone(use_coding);
        }
        out["value"] = json!(self.value);
        merge_remainder(&mut out, self.extra.as_deref());
        out
    }
}

impl Concept {
    /// The first value of a property, as text.
    pub fn property_text(&self, code: &str) -> Option<String> {
        self.properties.iter().find(|property| property.code == code).and_then(ConceptProperty::value_text)
    }

    fn from_json(value: &Json, path: &str, nest_parent: Option<usize>) -> Result<Concept, ModelError> {
        let code = str_of(value, "code").ok_or_else(|| ModelError::new(format!("{path}.code"), "missing"))?;
        let designations = array_of(value, "designation")
            .iter()
            .enumerate()
            .map(|(idx, designation)| Designation::from_json(designation, &format!("{path}.designation[{idx}]")))
            .collect::<Result<_, _>>()?;
        let mut properties = Vec::new();
        for (idx, property) in array_of(value, "property").iter().enumerate() {
            let property_path = format!("{path}.property[{idx}]");
            let property_code = str_of(property, "code").ok_or_else(|| ModelError::new(format!("{property_path}.code"), "missing"))?;
            let (value_key, property_value) = property
                .as_object()
                .and_then(|map| map.iter().find(|(key, _)| key.starts_with("value")))
                .ok_or_else(|| ModelError::new(format!("{property_path}.value[x]"), "missing"))?;
            properties.push(ConceptProperty {
                code: Name::new(property_code),
                value: PropertyValue::from_json(value_key, property_value.clone()),
                extra: remainder(property, &["code", value_key.as_str()]).map(Box::new),
            });
        }
        Ok(Concept {
            code: code.to_owned(),
            display: str_of(value, "display").map(str::to_owned),
            definition: str_of(value, "definition").map(str::to_owned),
            designations,
            properties,
            extra: remainder(value, &["code", "display", "definition", "designation", "property", "concept"]).map(Box::new),
            nest_parent,
        })
    }

    /// The concept's own JSON, without nested children.
    pub fn to_json(&self) -> Json {
        let mut out = json!({"code": self.code});
        if let Some(display) = &self.display {
            out["display"] = json!(display);
        }
        if let Some(definition) = &self.definition {
            out["definition"] = json!(definition);
        }
        if !self.designations.is_empty() {
            out["designation"] = Json::Array(self.designations.iter().map(Designation::to_json).collect());
        }
        if !self.properties.is_empty() {
            let properties = self
                .properties
                .iter()
                .map(|property| {
                    let mut entry = json!({"code": property.code.as_str()});
                    entry[property.value_key()] = property.value.to_json();
                    merge_remainder(&mut entry, property.extra.as_deref());
                    entry
                })
                .collect();
            out["property"] = Json::Array(properties);
        }
        merge_remainder(&mut out, self.extra.as_deref());
        out
    }
}

impl CodeSystem {
    /// Reads a CodeSystem resource; the path in an error names the element that is wrong.
    pub fn from_json(resource: &Json) -> Result<CodeSystem, ModelError> {
        if str_of(resource, "resourceType") != Some("CodeSystem") {
            return Err(ModelError::new("resourceType", "expected CodeSystem"));
        }
        let url = str_of(resource, "url").unwrap_or_default().to_owned();
        let mut properties = Vec::new();
        for (idx, property) in array_of(resource, "property").iter().enumerate() {
            let code = str_of(property, "code").ok_or_else(|| ModelError::new(format!("CodeSystem.property[{idx}].code"), "missing"))?;
            properties.push(PropertyDef {
                code: code.to_owned(),
                uri: str_of(property, "uri").map(str::to_owned),
                value_type: str_of(property, "type").map(str::to_owned),
                description: str_of(property, "description").map(str::to_owned),
            });
        }
        let mut concepts = Vec::new();
        flatten_concepts(array_of(resource, "concept"), "CodeSystem.concept", None, &mut concepts)?;
        let mut shell = resource.clone();
        if let Some(map) = shell.as_object_mut() {
            map.remove("concept");
        }
        Ok(CodeSystem {
            url,
            version: str_of(resource, "version").map(str::to_owned),
            name: str_of(resource, "name").map(str::to_owned),
            title: str_of(resource, "title").map(str::to_owned),
            status: str_of(resource, "status").unwrap_or("unknown").to_owned(),
            content: str_of(resource, "content").unwrap_or("complete").to_owned(),
            case_sensitive: bool_of(resource, "caseSensitive"),
            hierarchy_meaning: str_of(resource, "hierarchyMeaning").map(str::to_owned),
            supplements: str_of(resource, "supplements").map(str::to_owned),
            language: str_of(resource, "language").map(str::to_owned),
            experimental: bool_of(resource, "experimental"),
            properties,
            concepts,
            resource: shell,
        })
    }

    /// The whole resource again, concepts nested as they came.
    pub fn to_json(&self) -> Json {
        let mut out = self.resource.clone();
        let mut children: Vec<Vec<usize>> = vec![Vec::new(); self.concepts.len()];
        let mut roots = Vec::new();
        for (idx, concept) in self.concepts.iter().enumerate() {
            match concept.nest_parent {
                Some(parent) if parent < idx => children[parent].push(idx),
                _ => roots.push(idx),
            }
        }
        fn build(idx: usize, concepts: &[Concept], children: &[Vec<usize>]) -> Json {
            let mut node = concepts[idx].to_json();
            if !children[idx].is_empty() {
                node["concept"] = Json::Array(children[idx].iter().map(|child| build(*child, concepts, children)).collect());
            }
            node
        }
        if !roots.is_empty() {
            out["concept"] = Json::Array(roots.iter().map(|idx| build(*idx, &self.concepts, &children)).collect());
        }
        out
    }
}

fn flatten_concepts(list: &[Json], path: &str, parent: Option<usize>, out: &mut Vec<Concept>) -> Result<(), ModelError> {
    for (idx, value) in list.iter().enumerate() {
        let concept_path = format!("{path}[{idx}]");
        let concept = Concept::from_json(value, &concept_path, parent)?;
        let position = out.len();
        out.push(concept);
        flatten_concepts(array_of(value, "concept"), &format!("{concept_path}.concept"), Some(position), out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flattens_and_renests_concepts() {
        let resource = json!({"resourceType": "CodeSystem", "url": "http://x", "status": "active", "content": "complete",
        "concept": [
            {"code": "a", "display": "A", "extension": [{"url": "http://e", "valueString": "z"}],
             "concept": [{"code": "a1", "designation": [{"language": "de", "value": "A eins"}]}]},
            {"code": "b", "property": [{"code": "status", "valueCode": "retired"}]}
        ]});
        let code_system = CodeSystem::from_json(&resource).unwrap();
        assert_eq!(code_system.concepts.len(), 3);
        assert_eq!(code_system.concepts[1].nest_parent, Some(0));
        assert_eq!(code_system.concepts[2].property_text("status").as_deref(), Some("retired"));
        assert_eq!(code_system.to_json(), resource);
    }

    #[test]
    fn property_values_are_typed_and_written_back_as_they_came() {
        let cases = [
            ("valueCode", json!("73211009")),
            ("valueString", json!("20250101")),
            ("valueDateTime", json!("2025-01-01")),
            ("valueBoolean", json!(true)),
            ("valueInteger", json!(3)),
            ("valueDecimal", serde_json::from_str::<Json>("1.50").unwrap()),
            ("valueCoding", json!({"system": "http://loinc.org", "code": "LP14635-4", "display": "Glucose"})),
            ("valueCoding", json!({"system": "http://loinc.org", "code": "LP1", "userSelected": true})),
            ("valueCode", json!(7)),
            ("valueQuantity", json!({"value": 1, "unit": "mg"})),
        ];
        for (key, value) in cases {
            let property = ConceptProperty::new("p", key, value.clone());
            assert_eq!((property.value_key(), property.value.to_json()), (key, value.clone()), "{key} {value}");
            assert_eq!(serde_json::to_value(&property.value).unwrap(), value);
        }
        let coding = ConceptProperty::new("COMPONENT", "valueCoding", json!({"system": "http://loinc.org", "code": "LP14635-4"}));
        assert!(matches!(coding.value, PropertyValue::Coding(_)));
        assert_eq!(coding.value.code(), Some("LP14635-4"));
        assert_eq!(
            ConceptProperty::new("d", "valueDecimal", serde_json::from_str::<Json>("1.50").unwrap()).value_text().as_deref(),
            Some("1.50")
        );
    }

    #[test]
    fn names_the_element_that_is_wrong() {
        let resource = json!({"resourceType": "CodeSystem", "concept": [{"code": "a"}, {"display": "no code"}]});
        assert_eq!(CodeSystem::from_json(&resource).unwrap_err().to_string(), "CodeSystem.concept[1].code: missing");
    }
}
