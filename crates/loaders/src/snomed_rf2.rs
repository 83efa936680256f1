//! SNOMED CT from an RF2 Snapshot release (SNOMED International, "SNOMED CT Release File
//! Specifications", RF2 as of the 2025 releases), the International Edition or a national edition
//! that bundles it, as a folder or a zip.
//!
//! # The files read
//! Tab-separated, UTF-8, a header row naming the columns, CRLF or LF. Files are found by name
//! anywhere in the release (normally under `Snapshot/Terminology/` and `Snapshot/Refset/`), and
//! columns by their header names:
//! - `sct2_Concept_Snapshot_*.txt`: `id effectiveTime active moduleId definitionStatusId`;
//! - `der2_cRefset_LanguageSnapshot-*.txt`: `id effectiveTime active moduleId refsetId
//!   referencedComponentId acceptabilityId` (900000000000548007 preferred, 900000000000549004
//!   acceptable);
//! - `sct2_Description_Snapshot-*.txt`: `id effectiveTime active moduleId conceptId languageCode
//!   typeId term caseSignificanceId` (900000000000003001 FSN, 900000000000013009 synonym);
//! - `sct2_TextDefinition_Snapshot-*.txt` (same columns), when present;
//! - `sct2_Relationship_Snapshot_*.txt`: `id effectiveTime active moduleId sourceId
//!   destinationId relationshipGroup typeId characteristicTypeId modifierId` (116680003 is-a);
//! - `sct2_RelationshipConcreteValues_Snapshot_*.txt`: `id effectiveTime active moduleId sourceId
//!   value relationshipGroup typeId characteristicTypeId modifierId`, when present (`#500`, `#2.5`,
//!   `"text"`);
//! - `der2_Refset_SimpleSnapshot_*.txt`: `id effectiveTime active moduleId refsetId
//!   referencedComponentId`, when present;
//! - `der2_cRefset_AssociationSnapshot_*.txt`: `id effectiveTime active moduleId refsetId
//!   referencedComponentId targetComponentId`, when present (the historical associations).
//!
//! Not read: Full and Delta files, stated relationships (`sct2_StatedRelationship_*`), OWL axioms,
//! map refsets.
//!
//! # What it gives
//! One CodeSystem `http://snomed.info/sct` with `hierarchyMeaning` is-a and no nesting: every
//! active is-a relationship is a `parent` property (so a concept lists all its parents), every
//! other active relationship a property whose code is the relationship's `typeId` and whose
//! `valueCode` is its `destinationId`; an active concrete value is a property with the `typeId` as
//! code and a `valueInteger`, `valueDecimal` or `valueString`. An inactive concept
//! has the property `inactive` true; every concept has `sufficientlyDefined` (definition status
//! 900000000000073002), `moduleId` and `effectiveTime`. Every active member of a simple refset
//! gives its concept the property `refset` with the refset id as `valueCode`.
//!
//! **Role groups** are kept by position, so that they cost one property per group rather than one
//! per relationship: a concept's attribute properties (those whose code is an SCTID) come first for
//! group 0, then for each group `n` a property `roleGroup` with `valueInteger` n followed by the
//! attributes of that group. A property whose code is not an SCTID (`refset`, the associations)
//! ends a group. `store::ecl` reads the groups back this way; a client reading the CodeSystem
//! sees the same order.
//!
//! Every active member of a historical association refset gives its (normally inactive) concept
//! a property named after the association (`sameAs` for 900000000000527005, `replacedBy`,
//! `wasA`, `possiblyEquivalentTo`, `partiallyEquivalentTo`, `movedTo`, `movedFrom`, `alternative`,
//! `refersTo`, `possiblyReplacedBy`; `association-{refsetId}` for any other) whose `valueCode` is
//! the `targetComponentId`.
//!
//! Dates, in FHIR's own vocabulary (`model::terminology::lifecycle`): the CodeSystem's
//! `effectivePeriod` (its R5 cross-version extension) starts on the release date of the version.
//! An active concept's `effectiveTime` is its `effectiveDate`; an inactive concept's is its
//! `retirementDate`, and it has `status` retired. A Snapshot keeps only each concept's latest row,
//! so an active concept changed since it was first released gets the date of that change.
//!
//! Every active FSN and synonym is a designation with its `languageCode` and the use
//! `http://snomed.info/sct#<typeId>`; inactive descriptions are left out. The display is the
//! synonym preferred in the US English language refset (900000000000509007), else in the GB
//! English one (900000000000508004), else in any other language refset, else the FSN, else any
//! synonym. The first active text definition (English first) is the concept's `definition`.
//!
//! The version is the edition URI `http://snomed.info/sct/{module}/version/{YYYYMMDD}`: the date
//! is the one in the concept file's name, the module the one owning most concepts; in a national
//! edition (a concept file named with a namespace other than `INT`) the International modules
//! 900000000000207008 and 900000000000012004 are passed over. [`LoadOptions::version`] overrides
//! it. When several snapshots give the same component (say an extension loaded beside the
//! International Edition) the row with the latest `effectiveTime` wins.
//!
//! # Memory
//! Files are read line by line. Apart from the concepts being built, only where each description
//! is preferred (one byte per description preferred somewhere) is held between files, which is why
//! the language refsets are read before the descriptions.
//!
//! A row with the wrong number of fields, an id that is not an SCTID or a reference to a concept
//! the release lacks is skipped with a diagnostic; a release without a concept file, or a file
//! whose header lacks a column, is a [`LoadError`].
//!
//! Tests are at the end of this file; fixtures in `test_data/snomed_rf2/`.

use crate::{Diagnostic, LoadError, LoadOptions, Loaded, Source};
use model::terminology::{lifecycle, CodeSystem, Concept, ConceptProperty, Designation, EffectivePeriod};
use model::{Json, Name};
use serde_json::json;
use std::collections::{BTreeSet, HashMap};
use std::io::BufRead;

pub const SNOMED_URL: &str = "http://snomed.info/sct";
pub const SNOMED_OID: &str = "2.16.840.1.113883.6.96";
pub const INTERNATIONAL_CORE_MODULE: &str = "900000000000207008";
const MODEL_MODULE: &str = "900000000000012004";
const IS_A: &str = "116680003";
const FSN: &str = "900000000000003001";
const SYNONYM: &str = "900000000000013009";
const PREFERRED: &str = "900000000000548007";
const US_ENGLISH_REFSET: u64 = 900000000000509007;
const GB_ENGLISH_REFSET: u64 = 900000000000508004;
const SUFFICIENTLY_DEFINED: &str = "900000000000073002";
/// Where a description is preferred, as bits: in the US English refset, the GB English one, any.
const PREFERRED_IN_US: u8 = 1;
const PREFERRED_IN_GB: u8 = 2;
const PREFERRED_ANYWHERE: u8 = 4;

const CONCEPT_COLUMNS: &[&str] = &["id", "effectiveTime", "active", "moduleId", "definitionStatusId"];
const DESCRIPTION_COLUMNS: &[&str] =
    &["id", "effectiveTime", "active", "moduleId", "conceptId", "languageCode", "typeId", "term", "caseSignificanceId"];
const RELATIONSHIP_COLUMNS: &[&str] = &[
    "id",
    "effectiveTime",
    "active",
    "moduleId",
    "sourceId",
    "destinationId",
    "relationshipGroup",
    "typeId",
    "characteristicTypeId",
    "modifierId",
];
const LANGUAGE_COLUMNS: &[&str] = &["id", "effectiveTime", "active", "moduleId", "refsetId", "referencedComponentId", "acceptabilityId"];
const SIMPLE_REFSET_COLUMNS: &[&str] = &["id", "effectiveTime", "active", "moduleId", "refsetId", "referencedComponentId"];
const CONCRETE_VALUE_COLUMNS: &[&str] = &[
    "id",
    "effectiveTime",
    "active",
    "moduleId",
    "sourceId",
    "value",
    "relationshipGroup",
    "typeId",
    "characteristicTypeId",
    "modifierId",
];
const ASSOCIATION_COLUMNS: &[&str] =
    &["id", "effectiveTime", "active", "moduleId", "refsetId", "referencedComponentId", "targetComponentId"];

use model::terminology::snomed::{association_property, ROLE_GROUP_PROPERTY};

/// Whether a property code names an attribute (an SCTID), as opposed to `parent`, `refset`,
/// `roleGroup` or an association.
pub fn is_attribute_code(code: &str) -> bool {
    sctid(code).is_some()
}

/// Adds an attribute property in its role group, keeping the layout the module doc describes;
/// a relationship already there (same type, value and group) is not added twice. Says whether it
/// was added.
fn add_grouped(properties: &mut Vec<ConceptProperty>, group: u32, attribute: ConceptProperty) -> bool {
    let group_of = |property: &ConceptProperty| (property.code == ROLE_GROUP_PROPERTY).then(|| property.value.as_u64().unwrap_or(0) as u32);
    // The span [start, end) holding the group's attributes.
    let (start, end) = if group == 0 {
        let first_group = properties.iter().position(|property| group_of(property).is_some());
        let start = properties.iter().position(|property| is_attribute_code(&property.code)).unwrap_or(properties.len());
        let end = first_group.unwrap_or_else(|| {
            properties[start..]
                .iter()
                .position(|property| !is_attribute_code(&property.code))
                .map_or(properties.len(), |offset| start + offset)
        });
        (start.min(end), end)
    } else {
        match properties.iter().position(|property| group_of(property) == Some(group)) {
            Some(marker) => {
                let end = properties[marker + 1..]
                    .iter()
                    .position(|property| !is_attribute_code(&property.code))
                    .map_or(properties.len(), |offset| marker + 1 + offset);
                (marker + 1, end)
            }
            None => {
                // A new group goes after the last attribute or group marker.
                let after = properties
                    .iter()
                    .rposition(|property| is_attribute_code(&property.code) || group_of(property).is_some())
                    .map_or(properties.len(), |position| position + 1);
                properties.insert(after, property(ROLE_GROUP_PROPERTY, "valueInteger", json!(group)));
                (after + 1, after + 1)
            }
        }
    };
    if properties[start..end].iter().any(|found| found.code == attribute.code && found.value == attribute.value) {
        return false;
    }
    properties.insert(end, attribute);
    true
}

/// An RF2 concrete value (`#500`, `#-2.5`, `"text"`) as a property value key and value.
fn concrete_value(text: &str) -> Option<(&'static str, Json)> {
    if let Some(number) = text.strip_prefix('#') {
        let is_integer = !number.contains('.');
        let value: serde_json::Number = number.parse().ok()?;
        return Some((if is_integer { "valueInteger" } else { "valueDecimal" }, Json::Number(value)));
    }
    let quoted = text.strip_prefix('"')?.strip_suffix('"')?;
    Some(("valueString", json!(quoted.replace("\"\"", "\""))))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum FileKind {
    Concept,
    Description,
    TextDefinition,
    Relationship,
    Language,
    SimpleRefset,
    ConcreteValue,
    Association,
}

fn base_name(name: &str) -> &str {
    name.rsplit(['/', '!']).next().unwrap_or(name)
}

fn file_kind(name: &str) -> Option<FileKind> {
    let base_name = base_name(name);
    if !base_name.ends_with(".txt") {
        return None;
    }
    [
        ("sct2_Concept_Snapshot_", FileKind::Concept),
        ("sct2_Description_Snapshot-", FileKind::Description),
        ("sct2_TextDefinition_Snapshot-", FileKind::TextDefinition),
        ("sct2_Relationship_Snapshot_", FileKind::Relationship),
        ("der2_cRefset_LanguageSnapshot-", FileKind::Language),
        ("der2_Refset_SimpleSnapshot_", FileKind::SimpleRefset),
        ("sct2_RelationshipConcreteValues_Snapshot_", FileKind::ConcreteValue),
        ("der2_cRefset_AssociationSnapshot", FileKind::Association),
    ]
    .into_iter()
    .find(|(prefix, _)| base_name.starts_with(prefix))
    .map(|(_, kind)| kind)
}

/// True for the name of an RF2 Snapshot concept file, `sct2_Concept_Snapshot_*.txt`.
pub fn is_concept_snapshot_file(name: &str) -> bool {
    file_kind(name) == Some(FileKind::Concept)
}

/// Streams a delimited text file line by line, giving each line (without its line end) and its
/// 1-based number. Lines that are not UTF-8 are reported and passed over.
pub(crate) fn for_each_line(
    source: &dyn Source,
    name: &str,
    diagnostics: &mut Vec<Diagnostic>,
    mut each_line: impl FnMut(u64, &str, &mut Vec<Diagnostic>) -> Result<(), LoadError>,
) -> Result<(), LoadError> {
    let mut reader = std::io::BufReader::new(source.open(name)?);
    let mut buffer = Vec::new();
    let mut line_number = 0u64;
    loop {
        buffer.clear();
        let n_bytes = reader
            .read_until(b'\n', &mut buffer)
            .map_err(|error| LoadError::new(name, format!("cannot read: {error}")).at_line(line_number + 1))?;
        if n_bytes == 0 {
            return Ok(());
        }
        line_number += 1;
        while buffer.last().is_some_and(|byte| matches!(byte, b'\n' | b'\r')) {
            buffer.pop();
        }
        let bytes = if line_number == 1 { buffer.strip_prefix("\u{feff}".as_bytes()).unwrap_or(&buffer) } else { &buffer };
        match std::str::from_utf8(bytes) {
            Ok(line) => each_line(line_number, line, diagnostics)?,
            Err(_) => diagnostics.push(Diagnostic {
                path: name.to_owned(),
                line: Some(line_number),
                value: String::from_utf8_lossy(bytes).into_owned(),
                message: "line is not UTF-8; skipped".into(),
            }),
        }
    }
}

/// Streams an RF2 file: checks that its header row names the columns wanted and gives each data
/// row's fields in the order of `columns`.
fn for_each_row(
    source: &dyn Source,
    name: &str,
    columns: &[&str],
    diagnostics: &mut Vec<Diagnostic>,
    mut each_row: impl FnMut(u64, &[&str], &mut Vec<Diagnostic>),
) -> Result<(), LoadError> {
    let mut positions: Vec<usize> = Vec::new();
    let mut n_header_fields = 0;
    for_each_line(source, name, diagnostics, |line_number, line, diagnostics| {
        if line_number == 1 {
            let header: Vec<&str> = line.split('\t').map(str::trim).collect();
            n_header_fields = header.len();
            for column in columns {
                let position = header
                    .iter()
                    .position(|found| found == column)
                    .ok_or_else(|| LoadError::new(name, format!("the header row lacks the column {column}")).at_line(1).with_value(line))?;
                positions.push(position);
            }
            return Ok(());
        }
        if line.is_empty() {
            return Ok(());
        }
        let all_fields: Vec<&str> = line.split('\t').collect();
        if all_fields.len() != n_header_fields {
            diagnostics.push(Diagnostic {
                path: name.to_owned(),
                line: Some(line_number),
                value: line.to_owned(),
                message: format!("row has {} fields where the header has {n_header_fields}; skipped", all_fields.len()),
            });
            return Ok(());
        }
        let fields: Vec<&str> = positions.iter().map(|position| all_fields[*position]).collect();
        each_row(line_number, &fields, diagnostics);
        Ok(())
    })?;
    if positions.is_empty() {
        return Err(LoadError::new(name, "empty file: no header row"));
    }
    Ok(())
}

/// An SCTID: 6 to 18 digits, no leading zero.
fn sctid(text: &str) -> Option<u64> {
    model::terminology::snomed::is_sctid(text).then(|| text.parse().ok()).flatten()
}

/// Where one concept stands while the files are read.
struct ConceptState {
    effective_time: String,
    module: String,
    /// The rank of the description giving the display so far (lower is better).
    display_rank: u8,
    definition_rank: u8,
}

struct Builder {
    concepts: Vec<Concept>,
    states: Vec<ConceptState>,
    by_id: HashMap<u64, usize>,
}

fn property(code: &str, value_key: &str, value: Json) -> ConceptProperty {
    ConceptProperty::new(code, value_key, value)
}

/// An RF2 `effectiveTime` (`YYYYMMDD`) as a FHIR date (`YYYY-MM-DD`), when it is a real day.
fn fhir_day(effective_time: &str) -> Option<String> {
    if effective_time.len() != 8 || !effective_time.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    lifecycle::day_of(&format!("{}-{}-{}", &effective_time[..4], &effective_time[4..6], &effective_time[6..]))
}

fn report(diagnostics: &mut Vec<Diagnostic>, name: &str, line: u64, value: &str, message: impl Into<String>) {
    diagnostics.push(Diagnostic { path: name.to_owned(), line: Some(line), value: value.to_owned(), message: message.into() });
}

/// Loads one RF2 Snapshot release.
pub fn load(source: &dyn Source, options: &LoadOptions) -> Result<Loaded, LoadError> {
    let mut names: Vec<(String, FileKind)> =
        source.names().into_iter().filter_map(|name| file_kind(&name).map(|kind| (name, kind))).collect();
    names.sort();
    let files_of = |kind: FileKind| names.iter().filter(move |(_, found)| *found == kind).map(|(name, _)| name.as_str());
    let concept_files: Vec<&str> = files_of(FileKind::Concept).collect();
    if concept_files.is_empty() {
        return Err(LoadError::new(
            source.names().first().cloned().unwrap_or_default(),
            "no RF2 Snapshot concept file (sct2_Concept_Snapshot_*.txt) in this release",
        ));
    }
    if files_of(FileKind::Description).next().is_none() {
        return Err(LoadError::new(concept_files[0], "no RF2 Snapshot description file (sct2_Description_Snapshot-*.txt) beside it"));
    }
    let mut loaded = Loaded::default();
    let diagnostics = &mut loaded.diagnostics;
    let mut builder = Builder { concepts: Vec::new(), states: Vec::new(), by_id: HashMap::new() };

    for name in &concept_files {
        for_each_row(source, name, CONCEPT_COLUMNS, diagnostics, |line, fields, diagnostics| {
            let [id, effective_time, active, module, definition_status] = fields else { unreachable!() };
            let Some(concept_id) = sctid(id) else {
                return report(diagnostics, name, line, id, "concept id is not an SCTID; skipped");
            };
            let is_active = match *active {
                "1" => true,
                "0" => false,
                _ => return report(diagnostics, name, line, active, format!("active of {id} is not 0 or 1; skipped")),
            };
            let mut properties = Vec::with_capacity(4);
            if !is_active {
                properties.push(ConceptProperty::boolean("inactive", true));
            }
            properties.push(ConceptProperty::boolean("sufficientlyDefined", *definition_status == SUFFICIENTLY_DEFINED));
            properties.push(ConceptProperty::code("moduleId", module));
            properties.push(ConceptProperty::string("effectiveTime", effective_time));
            if let Some(day) = fhir_day(effective_time) {
                if is_active {
                    properties.push(ConceptProperty::date_time(lifecycle::PROPERTY_EFFECTIVE_DATE, &day));
                } else {
                    properties.push(ConceptProperty::date_time(lifecycle::PROPERTY_RETIREMENT_DATE, &day));
                }
            }
            if !is_active {
                properties.push(ConceptProperty::code("status", "retired"));
            }
            let state = ConceptState {
                effective_time: effective_time.to_string(),
                module: module.to_string(),
                display_rank: u8::MAX,
                definition_rank: u8::MAX,
            };
            match builder.by_id.get(&concept_id) {
                Some(&concept_idx) => {
                    // The same concept in a second snapshot: the later row wins.
                    if builder.states[concept_idx].effective_time.as_str() <= *effective_time {
                        builder.concepts[concept_idx].properties = properties;
                        builder.states[concept_idx] = state;
                    }
                }
                None => {
                    builder.by_id.insert(concept_id, builder.concepts.len());
                    builder.concepts.push(Concept {
                        code: id.to_string(),
                        display: None,
                        definition: None,
                        designations: Vec::new(),
                        properties,
                        extra: None,
                        nest_parent: None,
                    });
                    builder.states.push(state);
                }
            }
        })?;
    }

    // Where each description is preferred (PREFERRED_IN_* bits), from the active language refset
    // members; acceptable members do not change the display, so they are not kept.
    let mut preferred_in_refsets: HashMap<u64, u8> = HashMap::new();
    for name in files_of(FileKind::Language) {
        for_each_row(source, name, LANGUAGE_COLUMNS, diagnostics, |line, fields, diagnostics| {
            let [_, _, active, _, refset_id, referenced_component_id, acceptability_id] = fields else { unreachable!() };
            if *active != "1" {
                return;
            }
            let (Some(refset), Some(description_id)) = (sctid(refset_id), sctid(referenced_component_id)) else {
                return report(
                    diagnostics,
                    name,
                    line,
                    referenced_component_id,
                    "refsetId or referencedComponentId is not an SCTID; skipped",
                );
            };
            if *acceptability_id == PREFERRED {
                let refset_bit = match refset {
                    US_ENGLISH_REFSET => PREFERRED_IN_US,
                    GB_ENGLISH_REFSET => PREFERRED_IN_GB,
                    _ => 0,
                };
                *preferred_in_refsets.entry(description_id).or_default() |= refset_bit | PREFERRED_ANYWHERE;
            }
        })?;
    }

    let mut shared_uses: HashMap<String, std::sync::Arc<Json>> = HashMap::new();
    for (kind, is_definition) in [(FileKind::Description, false), (FileKind::TextDefinition, true)] {
        for name in files_of(kind) {
            for_each_row(source, name, DESCRIPTION_COLUMNS, diagnostics, |line, fields, diagnostics| {
                let [id, _, active, _, concept_id, language_code, type_id, term, _] = fields else { unreachable!() };
                if *active != "1" {
                    return;
                }
                let Some(&concept_idx) = sctid(concept_id).and_then(|concept_id| builder.by_id.get(&concept_id)) else {
                    return report(
                        diagnostics,
                        name,
                        line,
                        concept_id,
                        format!("description {id} names a concept the release lacks; skipped"),
                    );
                };
                let state = &mut builder.states[concept_idx];
                let concept = &mut builder.concepts[concept_idx];
                if is_definition {
                    let rank = if language_code.starts_with("en") { 0 } else { 1 };
                    if rank < state.definition_rank {
                        state.definition_rank = rank;
                        concept.definition = Some(term.to_string());
                    }
                    return;
                }
                let preferred = sctid(id).and_then(|description_id| preferred_in_refsets.get(&description_id)).copied().unwrap_or(0);
                let rank = match *type_id {
                    SYNONYM if preferred & PREFERRED_IN_US != 0 => 0,
                    SYNONYM if preferred & PREFERRED_IN_GB != 0 => 1,
                    SYNONYM if preferred & PREFERRED_ANYWHERE != 0 => 2,
                    FSN => 3,
                    SYNONYM => 4,
                    _ => 5,
                };
                if rank < state.display_rank {
                    state.display_rank = rank;
                    concept.display = Some(term.to_string());
                }
                // One shared use per description type, not one JSON map per description.
                let use_coding = match shared_uses.get(*type_id) {
                    Some(shared) => std::sync::Arc::clone(shared),
                    None => {
                        let use_display = match *type_id {
                            FSN => "Fully specified name",
                            SYNONYM => "Synonym",
                            _ => "",
                        };
                        let mut use_coding = json!({"system": SNOMED_URL, "code": type_id});
                        if !use_display.is_empty() {
                            use_coding["display"] = json!(use_display);
                        }
                        let shared = std::sync::Arc::new(use_coding);
                        shared_uses.insert(type_id.to_string(), std::sync::Arc::clone(&shared));
                        shared
                    }
                };
                concept.designations.push(Designation {
                    language: (!language_code.is_empty()).then(|| Name::new(language_code)),
                    use_coding: Some(use_coding),
                    value: term.to_string(),
                    extra: None,
                });
            })?;
        }
    }
    drop(preferred_in_refsets);

    let mut attribute_types: BTreeSet<String> = BTreeSet::new();
    for name in files_of(FileKind::Relationship) {
        for_each_row(source, name, RELATIONSHIP_COLUMNS, diagnostics, |line, fields, diagnostics| {
            let [id, _, active, _, source_id, destination_id, group, type_id, _, _] = fields else { unreachable!() };
            if *active != "1" {
                return;
            }
            let Some(&concept_idx) = sctid(source_id).and_then(|source_id| builder.by_id.get(&source_id)) else {
                return report(
                    diagnostics,
                    name,
                    line,
                    source_id,
                    format!("relationship {id} starts at a concept the release lacks; skipped"),
                );
            };
            if sctid(destination_id).is_none() || sctid(type_id).is_none() {
                return report(
                    diagnostics,
                    name,
                    line,
                    destination_id,
                    format!("relationship {id} has a destinationId or typeId that is not an SCTID; skipped"),
                );
            }
            let Ok(group) = group.parse::<u32>() else {
                return report(diagnostics, name, line, group, format!("relationshipGroup of {id} is not a number; skipped"));
            };
            let properties = &mut builder.concepts[concept_idx].properties;
            if *type_id == IS_A {
                if !properties.iter().any(|found| found.code == "parent" && found.value.as_str() == Some(destination_id)) {
                    // Parents go before every attribute, so they never fall inside a role group.
                    let position = properties.iter().position(|found| is_attribute_code(&found.code) || found.code == ROLE_GROUP_PROPERTY);
                    properties.insert(position.unwrap_or(properties.len()), ConceptProperty::code("parent", destination_id));
                }
                return;
            }
            if add_grouped(properties, group, ConceptProperty::code(type_id, destination_id)) {
                attribute_types.insert(type_id.to_string());
            }
        })?;
    }
    let mut concrete_types: BTreeSet<String> = BTreeSet::new();
    for name in files_of(FileKind::ConcreteValue) {
        for_each_row(source, name, CONCRETE_VALUE_COLUMNS, diagnostics, |line, fields, diagnostics| {
            let [id, _, active, _, source_id, value, group, type_id, _, _] = fields else { unreachable!() };
            if *active != "1" {
                return;
            }
            let Some(&concept_idx) = sctid(source_id).and_then(|source_id| builder.by_id.get(&source_id)) else {
                return report(
                    diagnostics,
                    name,
                    line,
                    source_id,
                    format!("concrete value {id} starts at a concept the release lacks; skipped"),
                );
            };
            let (Some(_), Ok(group), Some((value_key, value))) = (sctid(type_id), group.parse::<u32>(), concrete_value(value)) else {
                return report(
                    diagnostics,
                    name,
                    line,
                    value,
                    format!(
                        "concrete value {id} needs an SCTID typeId, a numeric relationshipGroup and a value #number or \"text\"; skipped"
                    ),
                );
            };
            let property_type = if value_key == "valueString" { "string" } else { "decimal" };
            if add_grouped(&mut builder.concepts[concept_idx].properties, group, property(type_id, value_key, value)) {
                concrete_types.insert(format!("{type_id}\t{property_type}"));
            }
        })?;
    }

    let mut has_refsets = false;
    for name in files_of(FileKind::SimpleRefset) {
        for_each_row(source, name, SIMPLE_REFSET_COLUMNS, diagnostics, |line, fields, diagnostics| {
            let [_, _, active, _, refset_id, referenced_component_id] = fields else { unreachable!() };
            if *active != "1" {
                return;
            }
            let Some(&concept_idx) = sctid(referenced_component_id).and_then(|component_id| builder.by_id.get(&component_id)) else {
                return report(diagnostics, name, line, referenced_component_id, "refset member is not a concept of the release; skipped");
            };
            let properties = &mut builder.concepts[concept_idx].properties;
            if !properties.iter().any(|found| found.code == "refset" && found.value.as_str() == Some(refset_id)) {
                properties.push(ConceptProperty::code("refset", refset_id));
                has_refsets = true;
            }
        })?;
    }

    let mut association_codes: BTreeSet<String> = BTreeSet::new();
    for name in files_of(FileKind::Association) {
        for_each_row(source, name, ASSOCIATION_COLUMNS, diagnostics, |line, fields, diagnostics| {
            let [_, _, active, _, refset_id, referenced_component_id, target_component_id] = fields else { unreachable!() };
            if *active != "1" {
                return;
            }
            let (Some(&concept_idx), Some(_), Some(_)) = (
                sctid(referenced_component_id).and_then(|component_id| builder.by_id.get(&component_id)),
                sctid(refset_id),
                sctid(target_component_id),
            ) else {
                return report(
                    diagnostics,
                    name,
                    line,
                    referenced_component_id,
                    "association member is not a concept of the release, or its refsetId or targetComponentId is not an SCTID; skipped",
                );
            };
            let code = association_property(refset_id);
            let properties = &mut builder.concepts[concept_idx].properties;
            if !properties.iter().any(|found| found.code == code && found.value.as_str() == Some(target_component_id)) {
                properties.push(ConceptProperty::code(&code, target_component_id));
                association_codes.insert(code);
            }
        })?;
    }

    for (concept, state) in builder.concepts.iter().zip(&builder.states) {
        if state.display_rank == u8::MAX {
            diagnostics.push(Diagnostic {
                path: concept_files[0].to_owned(),
                line: None,
                value: concept.code.clone(),
                message: "concept without an active description; it has no display".into(),
            });
        }
    }

    let version = match &options.version {
        Some(version) => Some(version.clone()),
        None => {
            let version = edition_version(&concept_files, &builder.states);
            if version.is_none() {
                diagnostics.push(Diagnostic {
                    path: concept_files[0].to_owned(),
                    line: None,
                    value: concept_files[0].to_owned(),
                    message: "no YYYYMMDD release date in the concept file name; the code system has no version (name one with the version option)".into(),
                });
            }
            version
        }
    };
    let typed_attributes =
        attribute_types.iter().map(|type_id| (type_id.as_str(), "code")).chain(concrete_types.iter().filter_map(|entry| {
            let (type_id, property_type) = entry.split_once('\t')?;
            (!attribute_types.contains(type_id)).then_some((type_id, property_type))
        }));
    let mut attribute_properties: Vec<Json> = typed_attributes
        .map(|(type_id, property_type)| {
            let display = sctid(type_id).and_then(|id| builder.by_id.get(&id)).and_then(|idx| builder.concepts[*idx].display.clone());
            let mut definition = json!({"code": type_id, "uri": format!("http://snomed.info/id/{type_id}"), "type": property_type});
            if let Some(display) = display {
                definition["description"] = json!(display);
            }
            definition
        })
        .collect();
    if !attribute_properties.is_empty() {
        attribute_properties.push(json!({"code": ROLE_GROUP_PROPERTY, "uri": "http://snomed.info/id/609096000", "type": "integer",
            "description": "Opens role group n: the attribute properties after it, up to the next roleGroup or non-attribute property, are in that group"}));
    }
    for code in &association_codes {
        let refset_id = model::terminology::snomed::association_refset(code);
        let mut definition = json!({"code": code, "type": "code", "description": "A historical association target (an active member of the association refset)"});
        if let Some(refset_id) = refset_id {
            definition["uri"] = json!(format!("http://snomed.info/id/{refset_id}"));
        }
        attribute_properties.push(definition);
    }
    let header = header(version.as_deref(), builder.concepts.len(), has_refsets, attribute_properties);
    let mut code_system = CodeSystem::from_json(&header).expect("the SNOMED CT header is a valid CodeSystem");
    code_system.concepts = builder.concepts;
    // Lists grown row by row keep up to half their room unused; a release keeps them for its life.
    code_system.concepts.shrink_to_fit();
    for concept in &mut code_system.concepts {
        concept.designations.shrink_to_fit();
        concept.properties.shrink_to_fit();
    }
    loaded.code_systems.push(code_system);
    Ok(loaded)
}

/// The namespace and date in a concept file name: `sct2_Concept_Snapshot_INT_20250101.txt` gives
/// (`INT`, `20250101`).
fn namespace_and_date(name: &str) -> Option<(&str, &str)> {
    let rest = base_name(name).strip_prefix("sct2_Concept_Snapshot_")?.strip_suffix(".txt")?;
    let (namespace, date) = rest.rsplit_once('_')?;
    (date.len() == 8 && date.bytes().all(|byte| byte.is_ascii_digit())).then_some((namespace, date))
}

fn edition_version(concept_files: &[&str], states: &[ConceptState]) -> Option<String> {
    let found: Vec<(&str, &str)> = concept_files.iter().filter_map(|name| namespace_and_date(name)).collect();
    let date = found.iter().map(|(_, date)| *date).max()?;
    let is_national = found.iter().any(|(namespace, _)| *namespace != "INT");
    let mut n_concepts_by_module: HashMap<&str, usize> = HashMap::new();
    for state in states {
        *n_concepts_by_module.entry(state.module.as_str()).or_default() += 1;
    }
    let is_international = |module: &str| module == INTERNATIONAL_CORE_MODULE || module == MODEL_MODULE;
    let pick = |skip_international: bool| {
        n_concepts_by_module
            .iter()
            .filter(|(module, _)| !(skip_international && is_international(module)))
            .max_by(|(module_a, n_a), (module_b, n_b)| n_a.cmp(n_b).then(module_b.cmp(module_a)))
            .map(|(module, _)| module.to_string())
    };
    let module = (if is_national { pick(true) } else { None }).or_else(|| pick(false))?;
    Some(format!("{SNOMED_URL}/{module}/version/{date}"))
}

fn header(version: Option<&str>, n_concepts: usize, has_refsets: bool, attribute_properties: Vec<Json>) -> Json {
    let mut resource = json!({
        "resourceType": "CodeSystem",
        "url": SNOMED_URL,
        "identifier": [{"system": "urn:ietf:rfc:3986", "value": format!("urn:oid:{SNOMED_OID}")}],
        "name": "SNOMED_CT",
        "title": "SNOMED CT",
        "status": "active",
        "publisher": "SNOMED International",
        "copyright": "This release includes SNOMED Clinical Terms® (SNOMED CT®), used by permission of SNOMED International; all rights reserved. Use requires an affiliate licence.",
        "caseSensitive": true,
        "hierarchyMeaning": "is-a",
        "compositional": true,
        "content": "complete",
        "count": n_concepts,
        "property": [
            {"code": "inactive", "uri": "http://hl7.org/fhir/concept-properties#inactive", "type": "boolean",
             "description": "True when the concept is inactive (active 0 in the concept file)"},
            {"code": "sufficientlyDefined", "type": "boolean",
             "description": "True when the definition status is 900000000000073002 (defined), false when primitive"},
            {"code": "moduleId", "uri": "http://snomed.info/field/Concept.moduleId", "type": "code",
             "description": "The module the concept belongs to"},
            {"code": "effectiveTime", "uri": "http://snomed.info/field/Concept.effectiveTime", "type": "string",
             "description": "The effectiveTime (YYYYMMDD) of the concept row"},
            {"code": "parent", "uri": "http://hl7.org/fhir/concept-properties#parent", "type": "code",
             "description": "A direct is-a parent (an active 116680003 relationship); a concept may have several"},
            {"code": "effectiveDate", "uri": "http://hl7.org/fhir/concept-properties#effectiveDate", "type": "dateTime",
             "description": "For an active concept, the effectiveTime of its row: when it took its current form"},
            {"code": "retirementDate", "uri": "http://hl7.org/fhir/concept-properties#retirementDate", "type": "dateTime",
             "description": "For an inactive concept, the effectiveTime of its row: when it was inactivated"},
            {"code": "status", "uri": "http://hl7.org/fhir/concept-properties#status", "type": "code",
             "description": "retired for an inactive concept"},
        ],
    });
    let properties = resource["property"].as_array_mut().expect("property is an array");
    if has_refsets {
        properties.push(json!({"code": "refset", "type": "code",
            "description": "A simple reference set the concept is an active member of"}));
    }
    properties.extend(attribute_properties);
    if let Some(version) = version {
        resource["version"] = json!(version);
        // The edition's release date starts its effective period.
        let release_day = version.rsplit_once("/version/").and_then(|(_, date)| fhir_day(date));
        if let Some(start) = release_day {
            resource["extension"] = json!([EffectivePeriod { start, end: None }.to_extension()]);
        }
    }
    resource
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DirSource;
    use std::path::{Path, PathBuf};

    fn fixture(folder: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data/snomed_rf2").join(folder)
    }

    const INTERNATIONAL: &str = "SnomedCT_InternationalRF2_PRODUCTION_20250101T120000Z";
    const SWEDISH: &str = "SnomedCT_ManagedServiceSE_PRODUCTION_SE1000052_20241130T120000Z";

    fn concept<'a>(code_system: &'a CodeSystem, code: &str) -> &'a Concept {
        code_system.concepts.iter().find(|concept| concept.code == code).unwrap_or_else(|| panic!("no concept {code}"))
    }

    fn values(concept: &Concept, code: &str) -> Vec<String> {
        concept.properties.iter().filter(|property| property.code == code).filter_map(ConceptProperty::value_text).collect()
    }

    fn designations(concept: &Concept) -> Vec<String> {
        concept
            .designations
            .iter()
            .map(|designation| {
                format!(
                    "{} {} {}",
                    designation.language.as_deref().unwrap_or("-"),
                    designation.use_coding.as_ref().and_then(|coding| coding["code"].as_str()).unwrap_or("-"),
                    designation.value
                )
            })
            .collect()
    }

    #[test]
    fn international_snapshot_gives_concepts_parents_designations_and_refsets() {
        let source = DirSource::new(&fixture(INTERNATIONAL)).unwrap();
        let loaded = load(&source, &LoadOptions::default()).unwrap();
        let code_system = &loaded.code_systems[0];
        assert_eq!(code_system.url, SNOMED_URL);
        assert_eq!(code_system.version.as_deref(), Some("http://snomed.info/sct/900000000000207008/version/20250101"));
        assert_eq!(code_system.hierarchy_meaning.as_deref(), Some("is-a"));
        assert_eq!(code_system.resource["identifier"][0]["value"], json!("urn:oid:2.16.840.1.113883.6.96"));
        assert_eq!(code_system.concepts.len(), 12);
        assert_eq!(code_system.resource["count"], json!(12));
        assert!(code_system.concepts.iter().all(|concept| concept.nest_parent.is_none()));

        // Two parents, a finding site, membership of a simple refset; display from the US refset.
        let both = concept(code_system, "1400004");
        assert_eq!(both.display.as_deref(), Some("Test cardiopulmonary hemorrhage"));
        assert_eq!(values(both, "parent"), ["1200007", "1300002"]);
        assert_eq!(values(both, "363698007"), ["1600009"]);
        // Its finding site is in role group 1: the roleGroup property opens the group, after the
        // parents and before the refset membership.
        let layout: Vec<String> = both
            .properties
            .iter()
            .skip(4)
            .map(|property| format!("{}={}", property.code, property.value_text().unwrap_or_default()))
            .collect();
        assert_eq!(layout, ["parent=1200007", "parent=1300002", "roleGroup=1", "363698007=1600009", "refset=1900008"]);
        assert_eq!(values(both, "refset"), ["1900008"]);
        assert_eq!(values(both, "sufficientlyDefined"), ["true"]);
        assert_eq!(values(both, "inactive"), Vec::<String>::new());
        assert_eq!(
            designations(both),
            [
                "en 900000000000003001 Test cardiopulmonary hemorrhage (disorder)",
                "en 900000000000013009 Test cardiopulmonary hemorrhage",
                "en 900000000000013009 Test cardiopulmonary haemorrhage",
            ]
        );
        assert_eq!(both.definition.as_deref(), Some("An invented disorder with two parents, for tests."));

        // Display from the GB refset when the US refset has no preferred term; from the FSN when
        // no refset names one.
        assert_eq!(concept(code_system, "1300002").display.as_deref(), Some("Test disorder of lung, GB"));
        assert_eq!(concept(code_system, "1600009").display.as_deref(), Some("Test body structure (body structure)"));

        // An inactive concept: flagged, and its inactive is-a relationship gives no parent.
        let obsolete = concept(code_system, "1500006");
        assert_eq!(values(obsolete, "inactive"), ["true"]);
        assert_eq!(values(obsolete, "parent"), Vec::<String>::new());
        assert_eq!(obsolete.display.as_deref(), Some("Test obsolete disorder"));
        // The inactive synonym of 1200007 is left out.
        assert_eq!(designations(concept(code_system, "1200007")).len(), 2);

        let property_codes: Vec<&str> = code_system.properties.iter().map(|property| property.code.as_str()).collect();
        assert_eq!(
            property_codes,
            [
                "inactive",
                "sufficientlyDefined",
                "moduleId",
                "effectiveTime",
                "parent",
                "effectiveDate",
                "retirementDate",
                "status",
                "refset",
                "363698007",
                "roleGroup"
            ]
        );
        assert_eq!(code_system.properties[9].description.as_deref(), Some("Finding site"));

        // Dates: the release starts the code system's effective period; an active concept's row
        // date is its effectiveDate, an inactive one's its retirementDate, with status retired.
        assert_eq!(EffectivePeriod::of_resource(&code_system.resource), Some(EffectivePeriod { start: "2025-01-01".into(), end: None }));
        assert_eq!(values(both, lifecycle::PROPERTY_EFFECTIVE_DATE), [fhir_day(&values(both, "effectiveTime")[0]).unwrap()]);
        assert_eq!(values(both, "status"), Vec::<String>::new());
        assert_eq!(values(obsolete, "status"), ["retired"]);
        assert_eq!(values(obsolete, lifecycle::PROPERTY_EFFECTIVE_DATE), Vec::<String>::new());
        assert_eq!(values(obsolete, lifecycle::PROPERTY_RETIREMENT_DATE), [fhir_day(&values(obsolete, "effectiveTime")[0]).unwrap()]);
        assert_eq!(fhir_day("20250230"), None);

        let diagnostics: Vec<String> = loaded.diagnostics.iter().map(ToString::to_string).collect();
        assert_eq!(
            diagnostics,
            [
                "Snapshot/Terminology/sct2_Concept_Snapshot_INT_20250101.txt:14: concept id is not an SCTID; skipped (\"12X4567\")",
                "Snapshot/Terminology/sct2_Description_Snapshot-en_INT_20250101.txt:26: row has 8 fields where the header has 9; skipped (\"9900011\\t20250101\\t1\\t900000000000207008\\t1100005\\ten\\t900000000000013009\\tTruncated row\")",
                "Snapshot/Terminology/sct2_Relationship_Snapshot_INT_20250101.txt:16: relationship 9800021 starts at a concept the release lacks; skipped (\"7777777\")",
            ]
        );
    }

    #[test]
    fn role_groups_concrete_values_and_associations() {
        let source = DirSource::new(&fixture("ecl/SnomedCT_InternationalRF2_PRODUCTION_20250101T120000Z")).expect("fixture");
        let loaded = load(&source, &LoadOptions::default()).expect("load");
        assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
        let code_system = &loaded.code_systems[0];
        let layout = |code: &str| -> Vec<String> {
            concept(code_system, code)
                .properties
                .iter()
                .filter(|property| {
                    !matches!(
                        property.code.as_str(),
                        "sufficientlyDefined" | "moduleId" | "effectiveTime" | "inactive" | "effectiveDate" | "retirementDate" | "status"
                    )
                })
                .map(|property| format!("{} {}={}", property.value_key(), property.code, property.value_text().unwrap_or_default()))
                .collect()
        };
        // Two groups, each opened by its roleGroup property; the parents come first.
        assert_eq!(
            layout("9100001000"),
            [
                "valueCode parent=19829001",
                "valueCode parent=56265001",
                "valueInteger roleGroup=1",
                "valueCode 363698007=39607008",
                "valueCode 116676008=23583003",
                "valueInteger roleGroup=2",
                "valueCode 363698007=80891009",
                "valueCode 116676008=79654002",
            ]
        );
        // Group 0 attributes need no marker; a concrete value sits in its group beside the others.
        assert_eq!(layout("195967001"), ["valueCode parent=19829001", "valueCode 363698007=39607008", "valueCode refset=700043003"]);
        assert_eq!(
            layout("323510009"),
            ["valueCode parent=27658006", "valueInteger roleGroup=1", "valueCode 127489000=372687004", "valueInteger 1142135004=250"]
        );
        // Historical associations on the inactive concepts.
        assert_eq!(layout("155574008"), ["valueCode sameAs=19829001"]);
        assert_eq!(layout("195979001"), ["valueCode replacedBy=195967001"]);
        let property_type =
            |code: &str| code_system.properties.iter().find(|property| property.code == code).map(|property| property.value_type.clone());
        assert_eq!(property_type("1142135004").flatten().as_deref(), Some("decimal"));
        assert_eq!(property_type("roleGroup").flatten().as_deref(), Some("integer"));
        assert!(property_type("sameAs").is_some());
    }

    #[test]
    fn national_edition_takes_its_own_module_and_languages() {
        let source = DirSource::new(&fixture(SWEDISH)).unwrap();
        let loaded = load(&source, &LoadOptions::default()).unwrap();
        assert_eq!(loaded.diagnostics, vec![]);
        let code_system = &loaded.code_systems[0];
        // International modules own most concepts, but the edition is the Swedish one.
        assert_eq!(code_system.version.as_deref(), Some("http://snomed.info/sct/45991000052106/version/20241130"));
        assert_eq!(code_system.concepts.len(), 5);
        let swedish = concept(code_system, "10001000052103");
        assert_eq!(swedish.display.as_deref(), Some("Test disorder, Swedish concept"));
        assert_eq!(
            designations(swedish),
            [
                "en 900000000000003001 Test disorder, Swedish concept (disorder)",
                "en 900000000000013009 Test disorder, Swedish concept",
                "sv 900000000000013009 testsjukdom",
            ]
        );
        assert_eq!(values(swedish, "parent"), ["1100005", "1300002"]);
        assert_eq!(values(swedish, "moduleId"), ["45991000052106"]);
        // Only a Swedish preferred term: it is the display.
        assert_eq!(concept(code_system, "10011000052100").display.as_deref(), Some("lunga, testdel"));

        let options = LoadOptions { version: Some("http://snomed.info/sct/45991000052106/version/20250531".into()) };
        let loaded = load(&source, &options).unwrap();
        assert_eq!(loaded.code_systems[0].version, options.version);
        assert_eq!(
            EffectivePeriod::of_resource(&loaded.code_systems[0].resource).map(|period| period.start).as_deref(),
            Some("2025-05-31")
        );
    }

    #[test]
    fn reads_the_release_zip() {
        use std::io::Write as _;
        let root = fixture(INTERNATIONAL);
        let folder = DirSource::new(&root).unwrap();
        let zip_path = std::env::temp_dir().join(format!("fhirterm-snomed-{}-{INTERNATIONAL}.zip", std::process::id()));
        let mut writer = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
        for name in folder.names() {
            writer.start_file(format!("{INTERNATIONAL}/{name}"), zip::write::SimpleFileOptions::default()).unwrap();
            writer.write_all(&folder.read_bytes(&name).unwrap()).unwrap();
        }
        writer.finish().unwrap();
        let source = crate::open_paths(std::slice::from_ref(&zip_path)).unwrap();
        assert_eq!(crate::detect(source.as_ref()).unwrap(), crate::Format::Snomed);
        let from_zip = load(source.as_ref(), &LoadOptions::default()).unwrap();
        let from_folder = load(&folder, &LoadOptions::default()).unwrap();
        std::fs::remove_file(&zip_path).unwrap();
        assert_eq!(from_zip.code_systems, from_folder.code_systems);
    }

    #[test]
    fn detects_an_rf2_snapshot() {
        let source = DirSource::new(&fixture(SWEDISH)).unwrap();
        assert_eq!(crate::detect(&source).unwrap(), crate::Format::Snomed);
        assert_eq!(crate::Format::parse("snomed"), Some(crate::Format::Snomed));
        assert!(is_concept_snapshot_file("x/Snapshot/Terminology/sct2_Concept_Snapshot_INT_20250101.txt"));
        assert!(!is_concept_snapshot_file("x/Full/Terminology/sct2_Concept_Full_INT_20250101.txt"));
    }

    #[test]
    fn missing_files_and_columns_are_errors() {
        let concept_header = "id\teffectiveTime\tactive\tmoduleId\tdefinitionStatusId\n";
        let description_header = "id\teffectiveTime\tactive\tmoduleId\tconceptId\tlanguageCode\ttypeId\tterm\tcaseSignificanceId\n";
        let no_concepts =
            crate::MemorySource::new([("Snapshot/Terminology/sct2_Description_Snapshot-en_INT_20250101.txt", description_header)]);
        let error = load(&no_concepts, &LoadOptions::default()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "Snapshot/Terminology/sct2_Description_Snapshot-en_INT_20250101.txt: no RF2 Snapshot concept file (sct2_Concept_Snapshot_*.txt) in this release"
        );
        let no_descriptions = crate::MemorySource::new([("Snapshot/Terminology/sct2_Concept_Snapshot_INT_20250101.txt", concept_header)]);
        let error = load(&no_descriptions, &LoadOptions::default()).unwrap_err();
        assert_eq!(error.path, "Snapshot/Terminology/sct2_Concept_Snapshot_INT_20250101.txt");
        let bad_header = crate::MemorySource::new([
            ("Snapshot/Terminology/sct2_Concept_Snapshot_INT_20250101.txt", concept_header),
            (
                "Snapshot/Terminology/sct2_Description_Snapshot-en_INT_20250101.txt",
                "id\teffectiveTime\tactive\tmoduleId\tconceptId\tterm\n",
            ),
        ]);
        let error = load(&bad_header, &LoadOptions::default()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "Snapshot/Terminology/sct2_Description_Snapshot-en_INT_20250101.txt:1: the header row lacks the column languageCode (\"id\\teffectiveTime\\tactive\\tmoduleId\\tconceptId\\tterm\")"
        );
    }
}
