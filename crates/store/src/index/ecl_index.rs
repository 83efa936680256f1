//! What ECL evaluation (`crate::ecl`) reads besides the is-a graph, derived from one code system
//! index once per snapshot on first use: attribute relationships by type with their role groups
//! (read back from the property layout the SNOMED loader writes, see `loaders::snomed_rf2`),
//! concrete values, refset members, the historical associations and the is-a graph as flat
//! arrays. It lives in `index` so that `index` never reaches into `ecl`; `ecl` reads it.

use super::CodeSystemIndex;
use roaring::RoaringBitmap;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub(crate) use model::terminology::snomed::{is_sctid, ASSOCIATIONS, ROLE_GROUP_PROPERTY};

#[derive(Clone, Copy, Debug)]
pub(crate) enum Target {
    Concept(u32),
    Concrete(u32),
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Relationship {
    pub(crate) source: u32,
    /// The role group; an ungrouped relationship gets a group of its own above `1 << 31`.
    pub(crate) group: u32,
    pub(crate) target: Target,
}

#[derive(Clone, Debug)]
pub(crate) enum ConcreteValue {
    Number(f64),
    Text(String),
}

pub(crate) struct Association {
    pub(crate) source: u32,
    pub(crate) refset_id: &'static str,
    pub(crate) target: u32,
}

/// What ECL evaluation reads besides the is-a graph, built once per code system snapshot.
pub struct EclIndex {
    pub(crate) relationships: Vec<Relationship>,
    pub(crate) by_type: HashMap<u32, Vec<u32>>,
    pub(crate) concrete: Vec<ConcreteValue>,
    pub(crate) refset_members: HashMap<u32, RoaringBitmap>,
    pub(crate) associations: Vec<Association>,
    pub(crate) all: RoaringBitmap,
    /// The is-a graph again, each direction as one flat array (compressed sparse rows), so that
    /// walking a large subtree reads memory in order instead of chasing one `Vec` per concept.
    pub(crate) results: Mutex<HashMap<String, Arc<RoaringBitmap>>>,
}

impl std::fmt::Debug for EclIndex {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "EclIndex({} relationships)", self.relationships.len())
    }
}

impl EclIndex {
    pub fn build(index: &CodeSystemIndex) -> EclIndex {
        let mut ecl = EclIndex {
            relationships: Vec::new(),
            by_type: HashMap::new(),
            concrete: Vec::new(),
            refset_members: HashMap::new(),
            associations: Vec::new(),
            all: (0..index.len() as u32).collect(),
            results: Mutex::new(HashMap::new()),
        };
        for concept_idx in 0..index.len() as u32 {
            let mut group = 0u32;
            for property in &index.concept(concept_idx).properties {
                let code = property.code.as_str();
                if code == ROLE_GROUP_PROPERTY {
                    group = property.value.as_u64().unwrap_or(0) as u32;
                    continue;
                }
                if !is_sctid(code) {
                    group = 0;
                    if code == "refset" {
                        if let Some(refset) = property.value.as_str().and_then(|id| index.find(id)) {
                            ecl.refset_members.entry(refset).or_default().insert(concept_idx);
                        }
                    } else if let Some((refset_id, _)) = ASSOCIATIONS.iter().find(|(_, name)| *name == code) {
                        if let Some(target) = property.value.as_str().and_then(|id| index.find(id)) {
                            ecl.associations.push(Association { source: concept_idx, refset_id, target });
                            if let Some(refset) = index.find(refset_id) {
                                ecl.refset_members.entry(refset).or_default().insert(concept_idx);
                            }
                        }
                    }
                    continue;
                }
                let Some(type_idx) = index.find(code) else { continue };
                let target = match property.value_key() {
                    "valueCode" | "valueCoding" => match property.value_text().and_then(|id| index.find(&id)) {
                        Some(target) => Target::Concept(target),
                        None => continue,
                    },
                    "valueString" => {
                        ecl.concrete.push(ConcreteValue::Text(property.value.as_str().unwrap_or_default().to_owned()));
                        Target::Concrete(ecl.concrete.len() as u32 - 1)
                    }
                    _ => match property.value_text().and_then(|text| text.parse::<f64>().ok()) {
                        Some(number) => {
                            ecl.concrete.push(ConcreteValue::Number(number));
                            Target::Concrete(ecl.concrete.len() as u32 - 1)
                        }
                        None => continue,
                    },
                };
                let relationship_idx = ecl.relationships.len() as u32;
                let group = if group == 0 { (1 << 31) | relationship_idx } else { group };
                ecl.relationships.push(Relationship { source: concept_idx, group, target });
                ecl.by_type.entry(type_idx).or_default().push(relationship_idx);
            }
        }
        ecl
    }
}
