//! The typed views of CodeSystem, ValueSet and ConceptMap that the terminology engine reasons about.
//!
//! Each view keeps the resource it came from (`resource`), so that nothing a client sent is lost,
//! and types only what operations read. A CodeSystem's nested concepts are flattened in pre-order,
//! each remembering the position of the concept it was nested in, so that rows can be stored and
//! read back into the very same nesting.

pub mod billing;
mod code_system;
mod coded;
pub mod lifecycle;
pub mod loinc;
pub mod snomed;
mod value_set;

pub use code_system::{CodeSystem, Concept, ConceptProperty, Designation, PropertyCoding, PropertyDef, PropertyValue};
pub use coded::{Code, SystemUrl, Version};
pub use lifecycle::EffectivePeriod;
pub use value_set::{Compose, ConceptReference, ConceptSet, Filter, ValueSet};

use std::fmt;

/// A resource that cannot be understood, with the element path that is wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelError {
    pub path: String,
    pub message: String,
}

impl ModelError {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> ModelError {
        ModelError { path: path.into(), message: message.into() }
    }
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

impl std::error::Error for ModelError {}

/// Every member of a JSON object except the named ones, or `None` when nothing is left.
pub(crate) fn remainder(object: &crate::Json, known: &[&str]) -> Option<crate::Json> {
    let map = object.as_object()?;
    let rest: serde_json::Map<String, crate::Json> =
        map.iter().filter(|(key, _)| !known.contains(&key.as_str())).map(|(key, value)| (key.clone(), value.clone())).collect();
    if rest.is_empty() {
        None
    } else {
        Some(crate::Json::Object(rest))
    }
}

/// Puts back the members that [`remainder`] set aside.
pub(crate) fn merge_remainder(target: &mut crate::Json, extra: Option<&crate::Json>) {
    if let (Some(crate::Json::Object(extra)), Some(map)) = (extra, target.as_object_mut()) {
        for (key, value) in extra {
            map.insert(key.clone(), value.clone());
        }
    }
}
