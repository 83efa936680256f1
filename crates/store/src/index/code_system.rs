//! One code system version, indexed: code lookup, the is-a graph (several parents allowed),
//! concept status flags and a lazily built word index.

use super::text::WordIndex;
use model::terminology::{lifecycle, CodeSystem, Concept, EffectivePeriod};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// What a concept's properties say about its status: four bytes, one per concept of every
/// code system served.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConceptFlags {
    pub inactive: bool,
    pub deprecated: bool,
    pub not_selectable: bool,
    /// The `status` property value, as its position among [`STANDARD_STATUSES`] plus one (0 for
    /// none); read with [`ConceptFlags::status`].
    status: u8,
}

#[derive(Debug)]
pub struct CodeSystemIndex {
    pub code_system: CodeSystem,
    /// The url and version, shared with every expansion member of this index.
    shared_url: Arc<str>,
    shared_version: Option<Arc<str>>,
    /// The resource id it is stored (or was sent) under.
    pub id: Option<String>,
    by_code: super::code_lookup::CodeLookup,
    /// For a code system that is not case sensitive: codes in any case.
    by_folded_code: super::code_lookup::CodeLookup,
    pub parents: super::Adjacency,
    pub children: super::Adjacency,
    pub roots: Vec<u32>,
    pub flags: Vec<ConceptFlags>,
    /// When this release is in force, when it says (`effectivePeriod`).
    pub effective_period: Option<EffectivePeriod>,
    words: OnceLock<WordIndex>,
    /// Whether a background build of the text indexes was started, so that each snapshot that
    /// publishes this index (at start, and after every write) does not start another.
    text_indexing_claimed: AtomicBool,
    /// Every concept's position, sorted by its code in lower case, for code-prefix search (the
    /// codes are read from the concepts, not copied).
    folded_codes: OnceLock<Vec<u32>>,
    /// The grammar behind a code system that cannot list all its codes (UCUM, BCP-47, MIME types).
    pub grammar: Option<Arc<super::GrammarBinding>>,
    /// What ECL evaluation reads (relationships by type, refsets, associations), built on first use.
    ecl: OnceLock<super::ecl_index::EclIndex>,
    /// Recently asked is-a branches (a concept and all its descendants, sorted), by root, so that
    /// paging through one costs the page; at most [`BRANCHES_KEPT`] are kept.
    branches: Mutex<HashMap<u32, Arc<Vec<u32>>>>,
}

/// How many is-a branches one code system index keeps before starting afresh.
const BRANCHES_KEPT: usize = 32;

/// Code systems up to this size build their word index on a caller's first text filter (it
/// costs less than a millisecond or so); larger ones are scanned until the background build is done.
const WORD_INDEX_ON_FIRST_USE: usize = 1_000;

/// The statuses a concept's `status` property is reported with (see [`ConceptFlags::status`]).
const STANDARD_STATUSES: [&str; 7] = ["active", "retired", "inactive", "deprecated", "withdrawn", "draft", "experimental"];

impl ConceptFlags {
    /// The `status` property value, when it is one of FHIR's standard statuses.
    pub fn status(&self) -> Option<&'static str> {
        STANDARD_STATUSES.get(usize::from(self.status).checked_sub(1)?).copied()
    }

    fn set_status(&mut self, status: Option<&'static str>) {
        self.status =
            status.and_then(|status| STANDARD_STATUSES.iter().position(|standard| *standard == status)).map_or(0, |at| at as u8 + 1);
    }

    /// The flags in one byte, as a saved index file keeps them: three bits for the flags and the
    /// position of the status among [`STANDARD_STATUSES`] (plus one; 0 for none) above them.
    pub fn to_bits(&self) -> u8 {
        u8::from(self.inactive) | u8::from(self.deprecated) << 1 | u8::from(self.not_selectable) << 2 | self.status << 3
    }

    /// The flags [`ConceptFlags::to_bits`] wrote; `None` for a byte it cannot have written.
    pub fn from_bits(bits: u8) -> Option<ConceptFlags> {
        let status = bits >> 3;
        if usize::from(status) > STANDARD_STATUSES.len() {
            return None;
        }
        Some(ConceptFlags { inactive: bits & 1 != 0, deprecated: bits & 2 != 0, not_selectable: bits & 4 != 0, status })
    }
}

/// Why a concept was not in force on a day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NotInForce {
    /// It took effect later, on this day.
    NotYet(String),
    /// It was retired before, on this day.
    Retired(String),
}

/// The is-a edges of a CodeSystem, as (child, parent) sorted: nesting, plus `parent`,
/// `subsumedBy` and `child` properties that name a known code.
fn is_a_edges(code_system: &CodeSystem) -> Vec<(u32, u32)> {
    let by_code: HashMap<&str, u32> =
        code_system.concepts.iter().enumerate().map(|(idx, concept)| (concept.code.as_str(), idx as u32)).collect();
    let mut edges = Vec::new();
    for (idx, concept) in code_system.concepts.iter().enumerate() {
        let idx = idx as u32;
        if let Some(parent) = concept.nest_parent {
            edges.push((idx, parent as u32));
        }
        for property in &concept.properties {
            // Only hierarchy properties are looked at, and their code is borrowed, not copied:
            // this runs over every property of every concept at each start.
            let is_parent = match property.code.as_str() {
                "parent" | "subsumedBy" => true,
                "child" => false,
                _ => continue,
            };
            let owned;
            let target = match property.value.text() {
                Some(text) => Some(text),
                None => {
                    owned = property.value_text();
                    owned.as_deref()
                }
            };
            let Some(&target_idx) = target.and_then(|code| by_code.get(code)) else {
                continue;
            };
            if target_idx == idx {
                continue;
            }
            edges.push(if is_parent { (idx, target_idx) } else { (target_idx, idx) });
        }
    }
    edges.sort_unstable();
    edges.dedup();
    edges
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
        let value = property.value.text().unwrap_or_default();
        let meaning = meanings.get(property.code.as_str()).map(String::as_str).unwrap_or(property.code.as_str());
        match meaning {
            "status" => {
                match value {
                    "retired" | "inactive" => flags.inactive = true,
                    "deprecated" => flags.deprecated = true,
                    _ => {}
                }
                // Only the standard statuses are reported; a code system's own codes ("A", "R") are not.
                if let Some(standard) = STANDARD_STATUSES.iter().find(|standard| **standard == value) {
                    flags.set_status(Some(standard));
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
    if standards_status == Some("deprecated") && flags.status().is_none() {
        flags.deprecated = true;
        flags.set_status(Some("deprecated"));
    }
    flags
}

impl CodeSystemIndex {
    pub fn new(mut code_system: CodeSystem, id: Option<String>) -> CodeSystemIndex {
        // An index keeps its concepts for its whole life, and lists grown one push at a time
        // (by the row reader, by most loaders) keep up to half their room unused: 144 bytes a
        // concept in the concept list alone.
        code_system.concepts.shrink_to_fit();
        for concept in &mut code_system.concepts {
            concept.designations.shrink_to_fit();
            concept.properties.shrink_to_fit();
        }
        let parents = Self::upward_graph(&code_system);
        let children = parents.reversed();
        let roots = (0..parents.len() as u32).filter(|idx| parents[*idx as usize].is_empty()).collect();
        let flags = Self::concept_flags(&code_system);
        Self::assemble(code_system, id, parents, children, roots, flags)
    }

    /// The index of `code_system` with its is-a graph, roots and status flags as
    /// [`CodeSystemIndex::new`] derived them before (read back from a saved index file): only the
    /// code lookup is built again. Parts that do not fit the concepts are refused.
    pub fn with_derived_parts(
        code_system: CodeSystem,
        id: Option<String>,
        parents: super::Adjacency,
        children: super::Adjacency,
        roots: Vec<u32>,
        flags: Vec<ConceptFlags>,
    ) -> Result<CodeSystemIndex, String> {
        let n_concepts = code_system.concepts.len();
        if parents.len() != n_concepts || children.len() != n_concepts || flags.len() != n_concepts {
            return Err(format!(
                "{n_concepts} concepts, but parents of {}, children of {} and flags of {}",
                parents.len(),
                children.len(),
                flags.len()
            ));
        }
        if let Some(root) = roots.iter().find(|root| **root as usize >= n_concepts || !parents[**root as usize].is_empty()) {
            return Err(format!("root {root} is not a concept without parents"));
        }
        Ok(Self::assemble(code_system, id, parents, children, roots, flags))
    }

    fn assemble(
        code_system: CodeSystem,
        id: Option<String>,
        parents: super::Adjacency,
        children: super::Adjacency,
        roots: Vec<u32>,
        flags: Vec<ConceptFlags>,
    ) -> CodeSystemIndex {
        let n_concepts = code_system.concepts.len();
        let concepts = &code_system.concepts;
        let code_of = |idx: u32| concepts[idx as usize].code.as_str();
        let by_code = super::code_lookup::CodeLookup::build(n_concepts, false, code_of);
        let by_folded_code = match code_system.case_sensitive.unwrap_or(true) {
            true => super::code_lookup::CodeLookup::default(),
            false => super::code_lookup::CodeLookup::build(n_concepts, true, code_of),
        };
        let effective_period = EffectivePeriod::of_resource(&code_system.resource);
        CodeSystemIndex {
            shared_url: Arc::from(code_system.url.as_str()),
            shared_version: code_system.version.as_deref().map(Arc::from),
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
            text_indexing_claimed: AtomicBool::new(false),
            folded_codes: OnceLock::new(),
            grammar: None,
            ecl: OnceLock::new(),
            branches: Mutex::new(HashMap::new()),
        }
    }

    /// The status flags of every concept of `code_system`, in concept order, as an index of it
    /// holds them.
    pub fn concept_flags(code_system: &CodeSystem) -> Vec<ConceptFlags> {
        let meanings = property_meanings(code_system);
        code_system.concepts.iter().map(|concept| flags_of(concept, &meanings)).collect()
    }

    /// The is-a graph of `code_system` upwards (each concept's parents), as an index of it holds it.
    pub fn upward_graph(code_system: &CodeSystem) -> super::Adjacency {
        super::Adjacency::from_edges(code_system.concepts.len(), &is_a_edges(code_system))
    }

    pub fn url(&self) -> &str {
        &self.code_system.url
    }

    pub fn version(&self) -> Option<&str> {
        self.code_system.version.as_deref()
    }

    /// The url, shared (an expansion member holds it without copying it).
    pub fn shared_url(&self) -> Arc<str> {
        self.shared_url.clone()
    }

    /// The version, shared as the url is.
    pub fn shared_version(&self) -> Option<Arc<str>> {
        self.shared_version.clone()
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
        self.by_code.n_codes() == self.len()
    }

    /// Finds a code exactly.
    pub fn find(&self, code: &str) -> Option<u32> {
        self.by_code.get(code, |idx| self.code_system.concepts[idx as usize].code.as_str())
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
        self.by_folded_code.get(code, |idx| self.code_system.concepts[idx as usize].code.as_str()).map(|idx| (idx, true))
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

    /// The word index and the sorted code list, when both are built (for a saved index file).
    pub fn text_indexes(&self) -> Option<(&WordIndex, &[u32])> {
        Some((self.words.get()?, self.folded_codes.get()?))
    }

    /// Takes the word index and the sorted code list a saved index file kept, so that neither is
    /// built again; the code list must order every concept by its code in lower case.
    pub fn set_text_indexes(&self, words: WordIndex, sorted_codes: Vec<u32>) -> Result<(), String> {
        if sorted_codes.len() != self.len() {
            return Err(format!("{} sorted codes for {} concepts", sorted_codes.len(), self.len()));
        }
        let mut seen = vec![false; self.len()];
        for idx in &sorted_codes {
            match seen.get_mut(*idx as usize) {
                Some(seen) if !*seen => *seen = true,
                _ => return Err(format!("the sorted codes name concept {idx} twice or out of range")),
            }
        }
        if sorted_codes.windows(2).any(|pair| self.folded_code(pair[0]).gt(self.folded_code(pair[1]))) {
            return Err("the sorted codes are out of order".to_owned());
        }
        let _ = self.folded_codes.set(sorted_codes);
        let _ = self.words.set(words);
        Ok(())
    }

    /// True the first time it is called, for whoever is to build the text indexes in the
    /// background; false once someone has (the build may still be under way).
    pub fn claim_text_indexing(&self) -> bool {
        !self.has_word_index() && !self.text_indexing_claimed.swap(true, Ordering::AcqRel)
    }

    /// A concept and every descendant of it, in code-system order, kept for the next call that
    /// asks for the same branch.
    pub fn branch(&self, root: u32) -> Arc<Vec<u32>> {
        if let Some(known) = self.branches.lock().ok().and_then(|branches| branches.get(&root).cloned()) {
            return known;
        }
        let mut members = self.descendants(root);
        let position = members.partition_point(|idx| *idx < root);
        members.insert(position, root);
        let members = Arc::new(members);
        if let Ok(mut branches) = self.branches.lock() {
            if branches.len() >= BRANCHES_KEPT {
                branches.clear();
            }
            branches.insert(root, members.clone());
        }
        members
    }

    /// The concepts whose lower-cased code starts with `folded_prefix` (itself lower-cased),
    /// sorted: from the sorted code list once it is built (with the word index), else by a scan.
    pub fn codes_starting_with(&self, folded_prefix: &str) -> Vec<u32> {
        let Some(folded_codes) = self.folded_codes.get() else {
            return self.concept_indexes_where(|concept| {
                let code = concept.code.as_str();
                if code.is_ascii() {
                    code.len() >= folded_prefix.len()
                        && code.as_bytes()[..folded_prefix.len()].eq_ignore_ascii_case(folded_prefix.as_bytes())
                } else {
                    code.to_lowercase().starts_with(folded_prefix)
                }
            });
        };
        let start = folded_codes.partition_point(|idx| self.folded_code(*idx).lt(folded_prefix.chars()));
        let mut found: Vec<u32> = folded_codes[start..]
            .iter()
            .take_while(|idx| {
                let mut code = self.folded_code(**idx);
                folded_prefix.chars().all(|wanted| code.next() == Some(wanted))
            })
            .copied()
            .collect();
        found.sort_unstable();
        found
    }

    /// The concepts whose code starts with `prefix` exactly (case counts), sorted.
    pub fn codes_with_prefix(&self, prefix: &str) -> Vec<u32> {
        let folded_prefix = prefix.to_lowercase();
        match self.folded_codes.get() {
            Some(_) => {
                let mut found = self.codes_starting_with(&folded_prefix);
                found.retain(|idx| self.concept(*idx).code.starts_with(prefix));
                found
            }
            None => self.concept_indexes_where(|concept| concept.code.starts_with(prefix)),
        }
    }

    fn concept_indexes_where(&self, mut keep: impl FnMut(&Concept) -> bool) -> Vec<u32> {
        self.code_system.concepts.iter().enumerate().filter(|(_, concept)| keep(concept)).map(|(idx, _)| idx as u32).collect()
    }

    /// The concepts whose display and designations have, for every word of the query, a word
    /// starting with it; sorted. Answered from the word index when it is built or cheap to build,
    /// else by scanning the texts with the same rule, so that no caller waits for the index.
    pub fn text_search(&self, query: &str) -> Vec<u32> {
        match self.words.get() {
            Some(words) => words.search(query),
            None if self.len() <= WORD_INDEX_ON_FIRST_USE => self.words().search(query),
            None => self.scan_texts(query),
        }
    }

    /// [`CodeSystemIndex::text_search`] without the word index: every concept's texts are read.
    pub fn scan_texts(&self, query: &str) -> Vec<u32> {
        let mut word_query = super::text::WordQuery::new(query);
        self.concept_indexes_where(|concept| word_query.matches_concept(concept_texts(concept)))
    }

    /// Builds the sorted code list and the word index now, so no caller waits for them.
    pub fn build_text_indexes(&self) {
        self.build_code_list();
        self.words();
    }

    /// Builds the sorted code list now (a fraction of the word index's cost).
    pub fn build_code_list(&self) {
        self.folded_codes();
    }

    /// A concept's code in lower case, read as it goes (in the order of `to_lowercase`'s text).
    fn folded_code(&self, idx: u32) -> impl Iterator<Item = char> + '_ {
        self.concept(idx).code.chars().flat_map(char::to_lowercase)
    }

    fn folded_codes(&self) -> &[u32] {
        self.folded_codes.get_or_init(|| {
            let mut folded_codes: Vec<u32> = (0..self.len() as u32).collect();
            folded_codes.sort_by_cached_key(|idx| self.concept(*idx).code.to_lowercase());
            folded_codes
        })
    }

    /// The word index over displays and designations: built in the background when a large code
    /// system is published (`Snapshot::build`), else on first use.
    pub fn words(&self) -> &WordIndex {
        self.words.get_or_init(|| {
            let texts = self
                .code_system
                .concepts
                .iter()
                .enumerate()
                .flat_map(|(idx, concept)| concept_texts(concept).map(move |text| (idx as u32, text)));
            WordIndex::build(texts)
        })
    }
}

/// The texts a text filter reads of a concept: its display and its designations.
fn concept_texts(concept: &Concept) -> impl Iterator<Item = &str> {
    concept.display.as_deref().into_iter().chain(concept.designations.iter().map(|designation| designation.value.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn flags_survive_their_byte() {
        assert_eq!(std::mem::size_of::<ConceptFlags>(), 4);
        let mut every = vec![ConceptFlags::default()];
        for status in STANDARD_STATUSES {
            for bits in 0..8u8 {
                let mut flags = ConceptFlags {
                    inactive: bits & 1 != 0,
                    deprecated: bits & 2 != 0,
                    not_selectable: bits & 4 != 0,
                    ..ConceptFlags::default()
                };
                flags.set_status(Some(status));
                assert_eq!(flags.status(), Some(status));
                every.push(flags);
            }
        }
        for flags in every {
            assert_eq!(ConceptFlags::from_bits(flags.to_bits()), Some(flags.clone()), "{flags:?}");
        }
        assert_eq!(ConceptFlags::from_bits(0xff), None, "a status past the standard ones");
    }

    /// A code system past the on-first-use size, whose texts mix case, accents, punctuation and
    /// designations in other languages (FHIR JSON, the official layout for FHIR content).
    fn large_code_system() -> CodeSystemIndex {
        let stems = ["Fracture of femur", "Café-au-lait spots", "Closed FRACTURE, left femur", "Œdème du pied", "type 2 diabetes"];
        let concepts: Vec<serde_json::Value> = (0..WORD_INDEX_ON_FIRST_USE + 200)
            .map(|idx| {
                let mut concept = json!({"code": format!("C{idx}"), "display": format!("{} {idx}", stems[idx % stems.len()])});
                if idx % 7 == 0 {
                    concept["designation"] = json!([{"language": "de", "value": format!("Oberschenkelbruch Nr{idx}")}]);
                }
                if idx % 11 == 0 {
                    concept.as_object_mut().unwrap().remove("display");
                }
                concept
            })
            .collect();
        let resource = json!({
            "resourceType": "CodeSystem", "url": "http://example.org/fhirterm/test/texts", "status": "active",
            "content": "complete", "concept": concepts
        });
        CodeSystemIndex::new(CodeSystem::from_json(&resource).unwrap(), None)
    }

    #[test]
    fn a_text_filter_answers_alike_before_and_after_the_word_index_is_built() {
        let index = large_code_system();
        let queries = [
            "fem",
            "FRACT fem",
            "cafe",
            "café LAIT",
            "oedeme",
            "œdème pied",
            "ober",
            "nr14",
            "12",
            "fracture 1",
            "type 2",
            "-",
            "emur",
            "",
            "  ",
            "zzz",
            "diabetes 10",
        ];
        let scanned: Vec<Vec<u32>> = queries.iter().map(|query| index.text_search(query)).collect();
        let scanned_codes = index.codes_starting_with("c11");
        let prefixes = ["", "c", "c1", "c110", "c9999", "x"];
        let scanned_prefixes: Vec<Vec<u32>> = prefixes.iter().map(|prefix| index.codes_starting_with(prefix)).collect();
        assert!(!index.has_word_index(), "a large code system is scanned until its index is built");
        index.build_text_indexes();
        for (query, scanned) in queries.iter().zip(&scanned) {
            assert_eq!(&index.text_search(query), scanned, "query {query:?}");
            assert_eq!(&index.scan_texts(query), scanned, "query {query:?}");
        }
        // A one-word query matches a concept when one of its texts matches on its own.
        let by_text = |query: &str| -> Vec<u32> {
            (0..index.len() as u32)
                .filter(|idx| concept_texts(index.concept(*idx)).any(|text| super::super::text::matches(text, query)))
                .collect()
        };
        assert_eq!(scanned[0], by_text("fem"));
        assert!(!scanned[0].is_empty());
        assert_eq!(scanned[6], by_text("ober"));
        assert!(scanned[6].len() > 100, "designations are searched");
        let expected_codes: Vec<u32> = (0..index.len() as u32).filter(|idx| idx.to_string().starts_with("11")).collect();
        assert_eq!(scanned_codes, expected_codes);
        assert_eq!(index.codes_starting_with("c11"), expected_codes);
        for (prefix, scanned) in prefixes.iter().zip(&scanned_prefixes) {
            assert_eq!(&index.codes_starting_with(prefix), scanned, "prefix {prefix:?}");
        }
        assert_eq!(scanned_prefixes[0].len(), index.len());
    }
}
