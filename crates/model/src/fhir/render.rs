//! FHIR JSON written straight from typed values: a typed operation outcome lists its
//! `Parameters` entries as borrowed [`Parameter`]s, and serde writes them with no
//! `serde_json::Value` tree in between (the hot path of `$validate-code` and `$lookup`).
//! XML still goes through [`crate::fhir::xml::json_to_xml`], from [`to_json`].

use super::outcome::{Issue, OperationOutcome, TX_ISSUE_TYPE};
use super::Json;
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

/// A parameter's value, borrowed from the outcome that owns it.
pub enum Value<'a> {
    Str(&'a str),
    Bool(bool),
    /// A complex value (a Coding, a CodeableConcept) or a property value kept as sent.
    Json(&'a Json),
    /// A small object of text fields the outcome builds itself (a Coding), in this order.
    Fields(Vec<(&'a str, &'a str)>),
    /// A concept property's typed value, written without a JSON value in between.
    Property(&'a crate::terminology::PropertyValue),
}

impl Serialize for Value<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Str(text) => serializer.serialize_str(text),
            Value::Property(value) => value.serialize(serializer),
            Value::Bool(flag) => serializer.serialize_bool(*flag),
            Value::Json(value) => value.serialize(serializer),
            Value::Fields(fields) => {
                let mut map = serializer.serialize_map(Some(fields.len()))?;
                for (key, value) in fields {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
        }
    }
}

/// One `Parameters.parameter`: a value (`{"name", "valueX"}`), an OperationOutcome resource, or parts.
pub enum Parameter<'a> {
    Value { name: &'a str, value_key: &'a str, value: Value<'a> },
    Outcome { name: &'a str, outcome: &'a OperationOutcome },
    Parts { name: &'a str, parts: Vec<Parameter<'a>> },
}

impl<'a> Parameter<'a> {
    pub fn str(name: &'a str, value_key: &'a str, value: &'a str) -> Parameter<'a> {
        Parameter::Value { name, value_key, value: Value::Str(value) }
    }

    pub fn bool(name: &'a str, value: bool) -> Parameter<'a> {
        Parameter::Value { name, value_key: "valueBoolean", value: Value::Bool(value) }
    }

    /// A concept property's value, under the member its type names (`valueCode`, `valueCoding`, …).
    pub fn property(name: &'a str, value: &'a crate::terminology::PropertyValue) -> Parameter<'a> {
        Parameter::Value { name, value_key: value.key(), value: Value::Property(value) }
    }

    pub fn json(name: &'a str, value_key: &'a str, value: &'a Json) -> Parameter<'a> {
        Parameter::Value { name, value_key, value: Value::Json(value) }
    }
}

impl Serialize for Parameter<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        match self {
            Parameter::Value { name, value_key, value } => {
                map.serialize_entry("name", name)?;
                map.serialize_entry(*value_key, value)?;
            }
            Parameter::Outcome { name, outcome } => {
                map.serialize_entry("name", name)?;
                map.serialize_entry("resource", outcome)?;
            }
            Parameter::Parts { name, parts } => {
                map.serialize_entry("name", name)?;
                map.serialize_entry("part", parts)?;
            }
        }
        map.end()
    }
}

/// Writes `{"resourceType": "Parameters", "parameter": [..]}` from a list of entries.
pub fn serialize_parameters<S: Serializer>(serializer: S, parameters: &[Parameter<'_>]) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(Some(2))?;
    map.serialize_entry("resourceType", "Parameters")?;
    map.serialize_entry("parameter", parameters)?;
    map.end()
}

/// The same answer as a JSON value, for XML and for callers that still work on values.
pub fn to_json(resource: &impl Serialize) -> Json {
    serde_json::to_value(resource).expect("a typed FHIR answer always serializes")
}

/// The same object as [`Issue::to_json`], in the same key order.
impl Serialize for Issue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct MessageId(&'static str);
        impl Serialize for MessageId {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut seq = serializer.serialize_seq(Some(1))?;
                seq.serialize_element(&Pairs([
                    ("url", "http://hl7.org/fhir/StructureDefinition/operationoutcome-message-id"),
                    ("valueString", self.0),
                ]))?;
                seq.end()
            }
        }
        struct Details<'a>(&'a Issue);
        impl Serialize for Details<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut map = serializer.serialize_map(None)?;
                map.serialize_entry("text", &self.0.text)?;
                if let Some(tx_code) = self.0.tx_code {
                    map.serialize_entry("coding", &[Pairs([("system", TX_ISSUE_TYPE), ("code", tx_code)])])?;
                }
                map.end()
            }
        }
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("severity", self.severity.as_str())?;
        map.serialize_entry("code", self.code)?;
        if let Some(id) = self.message_id {
            map.serialize_entry("extension", &MessageId(id))?;
        }
        map.serialize_entry("details", &Details(self))?;
        if !self.expression.is_empty() {
            map.serialize_entry("expression", &self.expression)?;
        }
        map.end()
    }
}

/// A small ordered object of text values.
struct Pairs<const N: usize>([(&'static str, &'static str); N]);

impl<const N: usize> Serialize for Pairs<N> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(N))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// The same object as [`OperationOutcome::to_json`]: issues kept out of outcomes are left out.
impl Serialize for OperationOutcome {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct Listed<'a>(&'a [Issue]);
        impl Serialize for Listed<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_seq(self.0.iter().filter(|issue| issue.in_outcome))
            }
        }
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("resourceType", "OperationOutcome")?;
        map.serialize_entry("issue", &Listed(&self.issues))?;
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fhir::IssueSeverity;

    fn issues() -> OperationOutcome {
        OperationOutcome {
            issues: vec![
                Issue::error("code-invalid", "Unknown code 'x'").tx("invalid-code").message_id("Unknown_Code_in_Version").at("code"),
                Issue::new(IssueSeverity::Warning, "business-rule", "note").message_only(),
                Issue::information("informational", "plain"),
            ],
        }
    }

    #[test]
    fn outcomes_serialize_as_their_json_values_do() {
        let outcome = issues();
        assert_eq!(serde_json::to_string(&outcome).unwrap(), outcome.to_json().to_string());
    }

    #[test]
    fn parameters_serialize_in_order_with_their_value_keys() {
        let outcome = issues();
        let coding = serde_json::json!({"system": "http://x", "code": "a"});
        let parts = vec![Parameter::str("code", "valueCode", "a"), Parameter::bool("abstract", false)];
        let parameters = vec![
            Parameter::json("coding", "valueCoding", &coding),
            Parameter::Outcome { name: "issues", outcome: &outcome },
            Parameter::Parts { name: "property", parts },
            Parameter::bool("result", true),
        ];
        struct Answer<'a>(&'a [Parameter<'a>]);
        impl Serialize for Answer<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serialize_parameters(serializer, self.0)
            }
        }
        let mut expected = crate::fhir::Parameters::default();
        expected.push_value("coding", "valueCoding", coding.clone());
        expected.push_resource("issues", outcome.to_json());
        expected.push_parts(
            "property",
            vec![serde_json::json!({"name": "code", "valueCode": "a"}), serde_json::json!({"name": "abstract", "valueBoolean": false})],
        );
        expected.push_value("result", "valueBoolean", serde_json::json!(true));
        assert_eq!(serde_json::to_string(&Answer(&parameters)).unwrap(), expected.to_resource().to_string());
        assert_eq!(to_json(&Answer(&parameters)), expected.to_resource());
    }
}
