//! One code system version, indexed: code lookup, the is-a graph (several parents allowed),
//! concept status flags and a lazily built word index.

use super::text::WordIndex;
use model::terminology::{lifecycle, CodeSystem, Concept, EffectivePeriod};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

/// What a concept's properties say about its status.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConceptFlags {
    pub inactive: bool,
    pub deprecated: bool,
    pub not_selectable: bool,
    /// The `status` property value, when it is one of FHIR's standard statuses.
    pub status: Option<&'static str>,
}

#[derive(Debug)]
pub struct CodeSystemIndex {
    pub code_system: CodeSystem,
    /// The resource id it is stored (or was sent) under.
    pub id: Option<String>,
    by_code: HashMap<String, u32>,
    by_folded_code: HashMap<String, u32>,
    pub parents: super::Adjacency,
    pub children: super::Adjacency,
    pub roots: Vec<u32>,
    pub flags: Vec<ConceptFlags>,
    /// When this release is in force, when it says (`effectivePeriod`).
    pub effective_period: Option<EffectivePeriod>,
    words: OnceLock<WordIndex>,
    /// Every concept as (lower-cased code, index), sorted, for code-prefix search.
    folded_codes: OnceLock<Vec<(String, u32)>>,
    /// The grammar behind a code system that cannot list all its codes (UCUM, BCP-47, MIME types).
    pub grammar: Option<Arc<super::GrammarBinding>>,
    /// What ECL evaluation reads (relationships by type, refsets, associations), built on first use.
    ecl: OnceLock<super::ecl_index::EclIndex>,
}

/// Why a concept was not in force on a day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NotInForce {
    /// It took effect later, on this day.
    NotYet(String),
    /// It was retired before, on this day.
    Retired(String),
}

/// The standard meaning of each property code: its own name, or the concept-properties code its URI names.
fn property_meanings(code_system: &CodeSystem) -> HashMap<String, String> {
    code_system
        .properties
        .iter()
        .filter_map(|definition| {
            let uri = definition.uri.as_deref()?;
            let meaning = uri.strip_prefix("http://hl7.org/fhir/concept-properties#")?;
            Some((definition.code.clone(), meaning.to_owned()))
        })
        .collect()
}

fn flags_of(concept: &Concept, meanings: &HashMap<String, String>) -> ConceptFlags {
    let mut flags = ConceptFlags::default();
    for property in &concept.properties {
        // Runs over every property of every concept at each start: read the value in place.
        let value = match &property.value {
            model::terminology::PropertyValue::Boolean(true) => "true",
            value => value.code().or_else(|| value.as_str()).unwrap_or_default(),
        };
        let meaning = meanings.get(property.code.as_str()).map(String::as_str).unwrap_or(property.code.as_str());
        match meaning {
            "status" => {
                match value {
                    "retired" | "inactive" => flags.inactive = true,
                    "deprecated" => flags.deprecated = true,
                    _ => {}
                }
                // Only the standard statuses are reported; a code system's own codes ("A", "R") are not.
                const STANDARD: [&str; 7] = ["active", "retired", "inactive", "deprecated", "withdrawn", "draft", "experimental"];
                if let Some(standard) = STANDARD.iter().find(|standard| **standard == value) {
                    flags.status = Some(standard);
                }
            }
            "inactive" if value == "true" => flags.inactive = true,
            "notSelectable" if value == "true" => flags.not_selectable = true,
            "deprecated" | "deprecationDate" => flags.deprecated = true,
            _ => {}
        }
    }
    // A concept marked deprecated by the standards-status extension (and no status property).
    let extensions = model::fhir::extensions_of(concept.extra.as_deref());
    let standards_status = model::fhir::extension_value(extensions, model::fhir::EXT_STANDARDS_STATUS).and_then(serde_json::Value::as_str);
    if standards_status == Some("deprecated") && flags.status.is_none() {
        flags.deprecated = true;
        flags.status = Some("deprecated");
    }
    flags
}

impl CodeSystemIndex {
    pub fn new(code_system: CodeSystem, id: Option<String>) -> CodeSystemIndex {
        let n_concepts = code_system.concepts.len();
        let mut by_code = HashMap::with_capacity(n_concepts);
        let mut by_folded_code = HashMap::new();
        let case_sensitive = code_system.case_sensitive.unwrap_or(true);
        for (idx, concept) in code_system.concepts.iter().enumerate() {
            by_code.entry(concept.code.clone()).or_insert(idx as u32);
            if !case_sensitive {
                by_folded_code.entry(concept.code.to_lowercase()).or_insert(idx as u32);
            }
        }
        let upwards: Vec<(u32, u32)> =
            crate::repo::is_a_edges(&code_system).into_iter().map(|(child, parent)| (child as u32, parent as u32)).collect();
        let downwards: Vec<(u32, u32)> = upwards.iter().map(|(child, parent)| (*parent, *child)).collect();
        let parents = super::Adjacency::from_edges(n_concepts, &upwards);
        let children = super::Adjacency::from_edges(n_concepts, &downwards);
        let roots = (0..n_concepts as u32).filter(|idx| parents[*idx as usize].is_empty()).collect();
        let meanings = property_meanings(&code_system);
        let flags = code_system.concepts.iter().map(|concept| flags_of(concept, &meanings)).collect();
        let effective_period = EffectivePeriod::of_resource(&code_system.resource);
        CodeSystemIndex {
            code_system,
            id,
            by_code,
            by_folded_code,
            parents,
            children,
            roots,
            flags,
            effective_period,
            words: OnceLock::new(),
            folded_codes: OnceLock::new(),
            grammar: None,
            ecl: OnceLock::new(),
        }
    }

    pub fn url(&self) -> &str {
        &self.code_system.url
    }

    pub fn version(&self) -> Option<&str> {
        self.code_system.version.as_deref()
    }

    /// `url|version`, or the url when there is no version.
    pub fn canonical(&self) -> String {
        match self.version() {
            Some(version) => format!("{}|{version}", self.url()),
            None => self.url().to_owned(),
        }
    }

    pub fn case_sensitive(&self) -> bool {
        self.code_system.case_sensitive.unwrap_or(true)
    }

    pub fn concept(&self, idx: u32) -> &Concept {
        &self.code_system.concepts[idx as usize]
    }

    pub fn len(&self) -> usize {
        self.code_system.concepts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.code_system.concepts.is_empty()
    }

    /// Whether no two concepts share a code.
    pub fn has_unique_codes(&self) -> bool {
        self.by_code.len() == self.len()
    }

    /// Finds a code exactly.
    pub fn find(&self, code: &str) -> Option<u32> {
        self.by_code.get(code).copied()
    }

    /// Finds a code exactly, or ignoring case when the code system is not case sensitive.
    /// The flag says whether only the case-insensitive match found it.
    pub fn find_lenient(&self, code: &str) -> Option<(u32, bool)> {
        if let Some(idx) = self.find(code) {
            return Some((idx, false));
        }
        if self.case_sensitive() {
            return None;
        }
        self.by_folded_code.get(&code.to_lowercase()).map(|idx| (*idx, true))
    }

    /// Finds a code as [`CodeSystemIndex::find_lenient`] does; a grammar code system also reads a
    /// code it does not list, and answers it as a one-concept index of its own.
    pub fn resolve(self: &Arc<Self>, code: &str) -> super::Resolved {
        if let Some((idx, case_folded)) = self.find_lenient(code) {
            return super::Resolved::Found(self.clone(), idx, case_folded);
        }
        match &self.grammar {
            Some(binding) => binding.resolve(self, code),
            None => super::Resolved::NotACode(super::NotACode { detail: None }),
        }
    }

    /// Whether `ancestor` is `descendant` or one of its is-a ancestors.
    pub fn subsumes(&self, ancestor: u32, descendant: u32) -> bool {
        if ancestor == descendant {
            return true;
        }
        let mut stack = vec![descendant];
        let mut seen = std::collections::HashSet::new();
        while let Some(current) = stack.pop() {
            for parent in &self.parents[current as usize] {
                if *parent == ancestor {
                    return true;
                }
                if seen.insert(*parent) {
                    stack.push(*parent);
                }
            }
        }
        false
    }

    /// Every descendant of a concept (not the concept itself), in code-system order.
    pub fn descendants(&self, root: u32) -> Vec<u32> {
        let mut seen = vec![false; self.len()];
        let mut stack = vec![root];
        let mut out = Vec::new();
        while let Some(current) = stack.pop() {
            for child in &self.children[current as usize] {
                if !seen[*child as usize] {
                    seen[*child as usize] = true;
                    out.push(*child);
                    stack.push(*child);
                }
            }
        }
        out.sort_unstable();
        out
    }

    /// Every ancestor of a concept (not the concept itself).
    pub fn ancestors(&self, start: u32) -> Vec<u32> {
        let mut seen = std::collections::HashSet::new();
        let mut stack = vec![start];
        let mut out = Vec::new();
        while let Some(current) = stack.pop() {
            for parent in &self.parents[current as usize] {
                if seen.insert(*parent) {
                    out.push(*parent);
                    stack.push(*parent);
                }
            }
        }
        out.sort_unstable();
        out
    }

    /// Whether a concept was in force on a day (`YYYY-MM-DD`), by its `effectiveDate` and
    /// `retirementDate` properties (a concept without them is in force whenever its release is).
    pub fn in_force_on(&self, concept_idx: u32, day: &str) -> Result<(), NotInForce> {
        let date_of = |meaning: &str| {
            self.concept(concept_idx)
                .properties
                .iter()
                .filter(|property| property.code == meaning)
                .find_map(|property| property.value_text())
                .and_then(|text| lifecycle::day_of(&text))
        };
        if let Some(effective) = date_of(lifecycle::PROPERTY_EFFECTIVE_DATE).filter(|effective| effective.as_str() > day) {
            return Err(NotInForce::NotYet(effective));
        }
        if let Some(retired) = date_of(lifecycle::PROPERTY_RETIREMENT_DATE).filter(|retired| retired.as_str() < day) {
            return Err(NotInForce::Retired(retired));
        }
        Ok(())
    }

    /// The relationship, refset and association index ECL evaluation reads (`index::ecl_index`), built
    /// on first use and kept with this snapshot.
    pub fn ecl_index(&self) -> &super::ecl_index::EclIndex {
        self.ecl.get_or_init(|| super::ecl_index::EclIndex::build(self))
    }

    /// Whether the word index is built (see [`CodeSystemIndex::words`]).
    pub fn has_word_index(&self) -> bool {
        self.words.get().is_some()
    }

    /// The concepts whose lower-cased code starts with `folded_prefix` (itself lower-cased),
    /// sorted; the sorted code list behind it is built with the word index.
    pub fn codes_starting_with(&self, folded_prefix: &str) -> Vec<u32> {
        let folded_codes = self.folded_codes();
        let start = folded_codes.partition_point(|(code, _)| code.as_str() < folded_prefix);
        let mut found: Vec<u32> =
            folded_codes[start..].iter().take_while(|(code, _)| code.starts_with(folded_prefix)).map(|(_, idx)| *idx).collect();
        found.sort_unstable();
        found
    }

    /// Builds the word index and the sorted code list now, so no caller waits for them.
    pub fn build_text_indexes(&self) {
        self.words();
        self.folded_codes();
    }

    fn folded_codes(&self) -> &[(String, u32)] {
        self.folded_codes.get_or_init(|| {
            let mut folded_codes: Vec<(String, u32)> =
                self.code_system.concepts.iter().enumerate().map(|(idx, concept)| (concept.code.to_lowercase(), idx as u32)).collect();
            folded_codes.sort_unstable();
            folded_codes
        })
    }

    /// The word index over displays and designations: built in the background when a large code
    /// system is published (`Snapshot::build`), else on first use.
    pub fn words(&self) -> &WordIndex {
        self.words.get_or_init(|| {
            let texts = self.code_system.concepts.iter().enumerate().flat_map(|(idx, concept)| {
                concept
                    .display
                    .iter()
                    .map(String::as_str)
                    .chain(concept.designations.iter().map(|designation| designation.value.as_str()))
                    .map(move |text| (idx as u32, text))
            });
            WordIndex::build(texts)
        })
    }
}
