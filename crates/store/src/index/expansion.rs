//! The members of a value set as the operations compute them: one [`Member`] per code, with the
//! code system index and concept it came from, and an [`Expansion`] that lists them with what was
//! used to find them. Registry snapshots cache expansions; `ops::membership` computes them.

use super::CodeSystemIndex;
use model::fhir::Json;
use model::terminology::Designation;
use std::sync::Arc;

/// One code in an expansion. The system and version are shared with the code system index (and
/// every other member of it), so a member costs one allocation for its code and one for its display.
#[derive(Clone, Debug)]
pub struct Member {
    pub system: Arc<str>,
    pub version: Option<Arc<str>>,
    pub code: String,
    pub display: Option<String>,
    pub code_system: Option<Arc<CodeSystemIndex>>,
    pub concept_idx: Option<u32>,
    pub inactive: bool,
    pub not_selectable: bool,
    /// Designations the value set itself gives the code.
    pub value_set_designations: Vec<Designation>,
    pub value_set_extra: Option<Json>,
}

impl Member {
    pub fn key(&self) -> (Arc<str>, String) {
        (self.system.clone(), self.code.clone())
    }

    /// The same code in two versions of a system is two members.
    pub fn versioned_key(&self) -> VersionedKey {
        (self.system.clone(), self.version.clone(), self.code.clone())
    }
}

/// A member's system, version and code: the same code in two versions of a system is two members.
pub type VersionedKey = (Arc<str>, Option<Arc<str>>, String);

/// A computed expansion, before filtering and paging.
#[derive(Default, Debug)]
pub struct Expansion {
    pub members: Vec<Member>,
    pub used_code_systems: Vec<String>,
    pub used_value_sets: Vec<String>,
    /// Why the members are not every code the value set holds (a grammar code system listed by
    /// its common codes only), for the `valueset-unclosed` extension.
    pub unclosed: Option<String>,
    /// Whether a whole grammar code system was included, so the true total is infinite.
    pub unbounded: bool,
    /// The value sets (`url|version`, status) whose listing stood in for a whole grammar code system.
    pub listings_used: Vec<(String, String)>,
}

/// The member for one concept of a code system index, as the code system gives it.
pub fn member_of(code_system: &Arc<CodeSystemIndex>, concept_idx: u32) -> Member {
    let concept = code_system.concept(concept_idx);
    let flags = &code_system.flags[concept_idx as usize];
    Member {
        system: code_system.shared_url(),
        version: code_system.shared_version(),
        code: concept.code.to_string(),
        display: concept.display.as_deref().map(str::to_owned),
        code_system: Some(code_system.clone()),
        concept_idx: Some(concept_idx),
        inactive: flags.inactive,
        not_selectable: flags.not_selectable,
        value_set_designations: Vec::new(),
        value_set_extra: None,
    }
}
