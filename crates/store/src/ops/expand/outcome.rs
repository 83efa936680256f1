//! The answer of `$expand` as a typed value: the expanded ValueSet's header, parameters and
//! declarations are worked out once, and its `contains` entries are written one by one from the
//! members when the answer is serialized, so a page is never held as a JSON tree and a large one
//! can be streamed to the caller as it is written.

use super::ExpandOptions;
use crate::index::{Expansion, Member};
use crate::ops::presentation::{choose_display, choose_display_with, language_fits, property_values};
use model::fhir::{extension_value, extensions_of, Json};
use model::terminology::Designation;
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// An expanded ValueSet, ready to be written.
pub struct ExpandOutcome {
    /// The value set's identity (`id`, `url`, `version`, …) and, with `includeDefinition`, its
    /// extensions, in the order they are written.
    pub(super) header: Vec<(&'static str, Json)>,
    pub(super) identifier: String,
    pub(super) timestamp: String,
    /// `None` when the members are infinitely many (a whole grammar code system).
    pub(super) total: Option<usize>,
    /// Shown when the call paged (an `offset` above zero, or a `count`).
    pub(super) offset: Option<usize>,
    /// `expansion.parameter`: what the call asked and what the expansion used.
    pub(super) parameters: Vec<Json>,
    /// `expansion.extension`: the properties declared, and why the expansion is not closed.
    pub(super) declared: Vec<Json>,
    pub(super) page: Page,
}

/// The members an answer lists, and how each is written.
pub(super) struct Page {
    pub expansion: Arc<Expansion>,
    /// The page, as positions in `expansion.members`, in the order they are listed.
    pub positions: Vec<u32>,
    /// The page nested along the is-a hierarchy, or `None` when it is listed flat.
    pub nesting: Option<Nesting>,
    pub options: ExpandOptions,
    /// Whether entries show their version (the expansion holds several versions of one system).
    pub show_version: bool,
}

/// Page entries (by their place in the page) under their nearest ancestor also in the page.
pub(super) struct Nesting {
    roots: Vec<usize>,
    children: Vec<Vec<usize>>,
}

/// Nested entries deeper than this are left out, as a hierarchy that deep is not a real one.
const MAX_NESTING_DEPTH: usize = 64;

impl ExpandOutcome {
    /// How many entries the answer lists (at every level of nesting).
    pub fn len(&self) -> usize {
        self.page.positions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.page.positions.is_empty()
    }

    /// The same answer as a JSON value, for XML and for the operations answered by name.
    pub fn to_json(&self) -> Json {
        model::fhir::render::to_json(self)
    }
}

impl Page {
    fn member(&self, place: usize) -> &Member {
        &self.expansion.members[self.page_position(place)]
    }

    fn page_position(&self, place: usize) -> usize {
        self.positions[place] as usize
    }
}

const EXT_CONCEPT_ORDER_CS: &str = "http://hl7.org/fhir/StructureDefinition/codesystem-conceptOrder";
const EXT_CONCEPT_ORDER_VS: &str = "http://hl7.org/fhir/StructureDefinition/valueset-conceptOrder";
const EXT_LABEL_CS: &str = "http://hl7.org/fhir/StructureDefinition/codesystem-label";
const EXT_LABEL_VS: &str = "http://hl7.org/fhir/StructureDefinition/valueset-label";
const EXT_ITEM_WEIGHT: &str = "http://hl7.org/fhir/StructureDefinition/itemWeight";
const EXT_CONTAINS_PROPERTY: &str = "http://hl7.org/fhir/5.0/StructureDefinition/extension-ValueSet.expansion.contains.property";

/// Value set concept extensions an expansion repeats on its entry; the order, label and weight
/// ones become properties, and others (unknown to us) are left out, as tx.fhir.org does.
const ECHOED_CONCEPT_EXTENSIONS: &[&str] = &[
    "http://hl7.org/fhir/StructureDefinition/valueset-deprecated",
    model::fhir::EXT_STANDARDS_STATUS,
    "http://hl7.org/fhir/StructureDefinition/valueset-concept-definition",
    "http://hl7.org/fhir/StructureDefinition/valueset-concept-comments",
    "http://hl7.org/fhir/StructureDefinition/rendering-style",
    "http://hl7.org/fhir/StructureDefinition/rendering-xhtml",
];

/// The properties every expansion entry shows without being asked, as (code, value key, value):
/// a non-active status, and the order, label and weight that the value set (first) or the code
/// system and its supplements give the concept.
pub(super) fn implicit_properties(member: &Member) -> Vec<(&'static str, &'static str, Json)> {
    let mut properties = Vec::new();
    let value_set_extensions = extensions_of(member.value_set_extra.as_ref());
    let concept = member.code_system.as_ref().zip(member.concept_idx);
    let concept_extensions = concept.map(|(code_system, idx)| extensions_of(code_system.concept(idx).extra.as_deref())).unwrap_or(&[]);
    let status = concept.and_then(|(code_system, idx)| code_system.flags[idx as usize].status()).filter(|status| *status != "active");
    if let Some(status) = status {
        properties.push(("status", "valueCode", json!(status)));
    }
    let pick = |value_set_url: &str, code_system_url: &str| {
        extension_value(value_set_extensions, value_set_url).or_else(|| extension_value(concept_extensions, code_system_url)).cloned()
    };
    if let Some(order) = pick(EXT_CONCEPT_ORDER_VS, EXT_CONCEPT_ORDER_CS) {
        properties.push(("order", "valueDecimal", order));
    }
    if let Some(label) = pick(EXT_LABEL_VS, EXT_LABEL_CS) {
        properties.push(("label", "valueString", label));
    }
    if let Some(weight) = pick(EXT_ITEM_WEIGHT, EXT_ITEM_WEIGHT) {
        properties.push(("weight", "valueDecimal", weight));
    }
    properties
}

/// Whether a designation answers a `designation` parameter: `urn:ietf:bcp:47|lang` or `system|code` of its use.
fn designation_matches(designation: &Designation, filter: &str) -> bool {
    match filter.split_once('|') {
        Some(("urn:ietf:bcp:47", language)) => designation.language.as_deref().is_some_and(|have| have.eq_ignore_ascii_case(language)),
        Some((system, code)) => designation.use_coding.as_ref().is_some_and(|coding| {
            model::fhir::str_of(coding, "system") == Some(system) && model::fhir::str_of(coding, "code") == Some(code)
        }),
        None => language_fits(designation.language.as_deref(), filter),
    }
}

/// What one entry shows beyond its member's system, code and flags, worked out as it is written.
struct EntryDetails {
    display: Option<String>,
    designations: Vec<Json>,
    extensions: Vec<Json>,
}

fn entry_details(member: &Member, options: &ExpandOptions) -> EntryDetails {
    let display = choose_display_with(member, &options.languages, options.display_fallback).text;
    let concept = member.code_system.as_ref().zip(member.concept_idx).map(|(code_system, idx)| code_system.concept(idx));
    let mut designations: Vec<Json> = Vec::new();
    if options.include_designations {
        let choice = choose_display(member, &options.languages);
        if choice.translated_from.is_some() || !options.display_fallback {
            if let (Some(display), Some(language)) =
                (&member.display, member.code_system.as_ref().and_then(|code_system| code_system.code_system.language.clone()))
            {
                designations.push(json!({"language": language, "use": {
                    "system": "http://terminology.hl7.org/CodeSystem/hl7TermMaintInfra", "code": "preferredForLanguage", "display": "Preferred For Language"
                }, "value": display}));
            }
        }
        let all = concept.map(|concept| &concept.designations[..]).unwrap_or(&[]).iter().chain(member.value_set_designations.iter());
        for designation in all {
            if choice.translated_from.as_deref() == Some(designation.value.as_str()) {
                continue;
            }
            if !options.designation_filters.is_empty()
                && !options.designation_filters.iter().any(|filter| designation_matches(designation, filter))
            {
                continue;
            }
            designations.push(designation.to_json());
        }
    }
    let value_set_extensions = extensions_of(member.value_set_extra.as_ref());
    let mut extensions: Vec<Json> = value_set_extensions
        .iter()
        .filter(|extension| model::fhir::str_of(extension, "url").is_some_and(|url| ECHOED_CONCEPT_EXTENSIONS.contains(&url)))
        .cloned()
        .collect();
    if let Some(concept) = concept {
        // Rendering hints from the code system (or a supplement), unless the value set gave its own.
        for extension in extensions_of(concept.extra.as_deref()) {
            let url = model::fhir::str_of(extension, "url").unwrap_or_default();
            if url.starts_with("http://hl7.org/fhir/StructureDefinition/rendering-")
                && !extensions.iter().any(|existing| model::fhir::str_of(existing, "url") == Some(url))
            {
                extensions.push(extension.clone());
            }
        }
    }
    let property_extension = |code: &str, value_key: &str, value: Json| {
        let mut value_extension = json!({"url": "value"});
        value_extension[value_key] = value;
        json!({"url": EXT_CONTAINS_PROPERTY, "extension": [{"url": "code", "valueCode": code}, value_extension]})
    };
    for (code, value_key, value) in implicit_properties(member) {
        if !options.properties.iter().any(|requested| requested == code) {
            extensions.push(property_extension(code, value_key, value));
        }
    }
    if let (Some(code_system), Some(concept_idx)) = (&member.code_system, member.concept_idx) {
        for property_code in &options.properties {
            for (value_key, value) in property_values(code_system, concept_idx, property_code) {
                extensions.push(property_extension(property_code, value_key, value));
            }
        }
    }
    EntryDetails { display, designations, extensions }
}

impl Nesting {
    /// Nests a page along the is-a hierarchy: each member goes under its nearest ancestor that is
    /// also in the page.
    pub(super) fn of(members: &[&Member]) -> Nesting {
        let n_members = members.len();
        let mut parent_of: Vec<Option<usize>> = vec![None; n_members];
        let position: HashMap<(&str, u32), usize> = members
            .iter()
            .enumerate()
            .filter_map(|(position, member)| member.concept_idx.map(|idx| ((&*member.system, idx), position)))
            .collect();
        for (position_idx, member) in members.iter().enumerate() {
            let (Some(code_system), Some(concept_idx)) = (&member.code_system, member.concept_idx) else {
                continue;
            };
            // Walk up until an ancestor present in the page is found.
            let mut frontier = code_system.parents[concept_idx as usize].to_vec();
            let mut seen = HashSet::new();
            while !frontier.is_empty() {
                let found = frontier.iter().find_map(|ancestor| {
                    position.get(&(&*member.system, *ancestor)).copied().filter(|parent_position| *parent_position != position_idx)
                });
                if found.is_some() {
                    parent_of[position_idx] = found;
                    break;
                }
                let mut next = Vec::new();
                for ancestor in frontier {
                    if seen.insert(ancestor) {
                        next.extend(code_system.parents[ancestor as usize].iter().copied());
                    }
                }
                frontier = next;
            }
        }
        let mut children: Vec<Vec<usize>> = vec![Vec::new(); n_members];
        let mut roots = Vec::new();
        for (position_idx, parent) in parent_of.iter().enumerate() {
            match parent {
                Some(parent) => children[*parent].push(position_idx),
                None => roots.push(position_idx),
            }
        }
        Nesting { roots, children }
    }
}

/// One `contains` entry (and, nested, the entries under it).
struct Entry<'a> {
    page: &'a Page,
    place: usize,
    depth: usize,
}

impl Serialize for Entry<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let page = self.page;
        let member = page.member(self.place);
        let details = entry_details(member, &page.options);
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("system", &*member.system)?;
        if page.show_version {
            if let Some(version) = &member.version {
                map.serialize_entry("version", &**version)?;
            }
        }
        map.serialize_entry("code", &member.code)?;
        if let Some(display) = &details.display {
            map.serialize_entry("display", display)?;
        }
        if member.not_selectable {
            map.serialize_entry("abstract", &true)?;
        }
        if member.inactive {
            map.serialize_entry("inactive", &true)?;
        }
        if !details.designations.is_empty() {
            map.serialize_entry("designation", &details.designations)?;
        }
        if !details.extensions.is_empty() {
            map.serialize_entry("extension", &details.extensions)?;
        }
        if let Some(nesting) = &page.nesting {
            let children = &nesting.children[self.place];
            if self.depth < MAX_NESTING_DEPTH && !children.is_empty() {
                map.serialize_entry("contains", &Entries { page, places: Places::Listed(children), depth: self.depth + 1 })?;
            }
        }
        map.end()
    }
}

/// Which page entries a `contains` list holds.
enum Places<'a> {
    /// The whole page, flat.
    All(usize),
    Listed(&'a [usize]),
}

struct Entries<'a> {
    page: &'a Page,
    places: Places<'a>,
    depth: usize,
}

impl Serialize for Entries<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (page, depth) = (self.page, self.depth);
        match self.places {
            Places::All(n_places) => {
                let mut seq = serializer.serialize_seq(Some(n_places))?;
                for place in 0..n_places {
                    seq.serialize_element(&Entry { page, place, depth })?;
                }
                seq.end()
            }
            Places::Listed(places) => serializer.collect_seq(places.iter().map(|place| Entry { page, place: *place, depth })),
        }
    }
}

impl Serialize for ExpandOutcome {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct Body<'a>(&'a ExpandOutcome);
        impl Serialize for Body<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let outcome = self.0;
                let mut map = serializer.serialize_map(None)?;
                map.serialize_entry("identifier", &outcome.identifier)?;
                map.serialize_entry("timestamp", &outcome.timestamp)?;
                if let Some(total) = outcome.total {
                    map.serialize_entry("total", &total)?;
                }
                if let Some(offset) = outcome.offset {
                    map.serialize_entry("offset", &offset)?;
                }
                if !outcome.parameters.is_empty() {
                    map.serialize_entry("parameter", &outcome.parameters)?;
                }
                if !outcome.declared.is_empty() {
                    map.serialize_entry("extension", &outcome.declared)?;
                }
                if !outcome.is_empty() {
                    let page = &outcome.page;
                    let entries = match &page.nesting {
                        Some(nesting) => Entries { page, places: Places::Listed(&nesting.roots), depth: 0 },
                        None => Entries { page, places: Places::All(page.positions.len()), depth: 0 },
                    };
                    map.serialize_entry("contains", &entries)?;
                }
                map.end()
            }
        }
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("resourceType", "ValueSet")?;
        for (key, value) in &self.header {
            map.serialize_entry(key, value)?;
        }
        map.serialize_entry("expansion", &Body(self))?;
        map.end()
    }
}
