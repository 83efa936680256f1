//! ICD-10-CM from the CDC tabular XML (`icd10cm_tabular_<year>.xml`, root `ICD10CM.tabular`) or,
//! when no tabular file is given, from the CMS order file (`icd10cm_order_<year>.txt`).
//!
//! # The tabular XML
//! Chapters, sections (blocks) and `diag` entries form the is-a hierarchy: chapter > section >
//! category > subcategory > … > code. Each concept's `nest_parent` is the concept it sits under.
//! The 7th-character codes are not listed in the release: they are generated from the
//! `sevenChrDef` of the nearest `diag` (the code itself or an ancestor) that defines one, for
//! every code that has no subcodes. A code shorter than six characters (without its dot) is padded
//! with the placeholder `X` up to six before the 7th character is added (`T07` + `A` gives
//! `T07.XXXA`). A code that gets 7th characters becomes a header, like any code with subcodes.
//! One exception is written only as prose, in a `<notes>` note of category S06 ("7th characters
//! D and S do not apply to codes in category S06 with 6th character 7 …, or 8 …"); notes in that
//! wording are read and honoured, and a note that seems to withdraw 7th characters in any other
//! wording is reported as a diagnostic.
//!
//! The XML lists groups of sections (`C00-C96`, `C00-C75`, `T07-T88`, …) as empty sections
//! beside the sections they group; each section is nested under the innermost group before it
//! whose range covers its own, so that every concept without subcodes is a billable code.
//!
//! Codes use the dotted form of FHIR ICD-10-CM (`S72.001A`). Chapters and sections are concepts
//! too, marked `notSelectable`, with codes that cannot be mistaken for ICD-10-CM codes:
//! - a chapter is `chapter-<number>`, e.g. `chapter-1` for "Certain infectious and parasitic
//!   diseases (A00-B99)";
//! - a section is its block range, `A00-A09`. A section the release names by a single category
//!   (`<section id="B10">`) gets the range form `B10-B10`, because `B10` is also the category.
//!
//! Properties: `billable` (true exactly for the concepts without subcodes), `notSelectable` (true
//! for chapters and sections), and every `excludes1` and `excludes2` note as a string property of
//! that name. Inclusion terms become designations with the use
//! `http://fhirterm.dev/designation-use#inclusion`. The display of a 7th-character code is the
//! display of the code it extends, a comma, and the meaning of its 7th character, as in the CMS
//! long descriptions ("…, initial encounter").
//!
//! The version is the `<version>` element, else the year in the file name, unless
//! [`LoadOptions::version`] overrides it.
//!
//! # The order file
//! Fixed width, CRLF: order number in columns 1-5, code in 7-13 (undotted), header flag in 15
//! (`1` billable, `0` header), short description in 17-76, long description from 78. The long
//! description is the display and the short one a designation with the use
//! `http://fhirterm.dev/designation-use#short`. The file has no chapters, sections or
//! nesting, so it gives a flat code system (no `hierarchyMeaning`). When a tabular XML is present
//! the order file is passed over, with a diagnostic saying so.
//!
//! Tests are at the end of this file; fixtures in `test_data/icd10cm/`; the real-release checks
//! run when `FHIRTERM_REAL_DATA` names the folder `fetch-real-data.sh` filled.

use crate::text::{column_text, resolve_entity, LineCounter};
use crate::{Diagnostic, LoadError, LoadOptions, Loaded, Source};
use model::terminology::{CodeSystem, Concept, ConceptProperty, Designation, EffectivePeriod};
use model::Json;
use quick_xml::events::Event;
use serde_json::json;

pub const ICD10CM_URL: &str = "http://hl7.org/fhir/sid/icd-10-cm";
pub const ICD10CM_OID: &str = "2.16.840.1.113883.6.90";
/// The system of the designation uses fhirterm gives inclusion terms and short descriptions.
pub const DESIGNATION_USE_SYSTEM: &str = "http://fhirterm.dev/designation-use";

/// True for a file name this module reads as a tabular XML.
pub fn is_tabular_file(name: &str) -> bool {
    let base_name = base_name_lowercase(name);
    base_name.starts_with("icd10c") && base_name.contains("tabular") && base_name.ends_with(".xml")
}

/// True for a file name this module reads as a CMS order file.
pub fn is_order_file(name: &str) -> bool {
    let base_name = base_name_lowercase(name);
    base_name.starts_with("icd10cm") && base_name.contains("order") && base_name.ends_with(".txt")
}

fn base_name_lowercase(name: &str) -> String {
    name.rsplit('/').next().unwrap_or(name).to_ascii_lowercase()
}

/// Loads one ICD-10-CM release: the tabular XML when there is one, else the order file.
pub fn load(source: &dyn Source, options: &LoadOptions) -> Result<Loaded, LoadError> {
    let names = source.names();
    let mut tabular_names: Vec<&String> = names.iter().filter(|name| is_tabular_file(name)).collect();
    let mut order_names: Vec<&String> = names.iter().filter(|name| is_order_file(name)).collect();
    if tabular_names.is_empty() && order_names.is_empty() {
        // Renamed files are known by their content.
        for name in &names {
            match crate::sniff::kind_of(source, name) {
                Some(crate::sniff::FileKind::Icd10cmTabular) => tabular_names.push(name),
                Some(crate::sniff::FileKind::Icd10cmOrder) => order_names.push(name),
                _ => {}
            }
        }
    }
    let mut loaded = Loaded::default();
    match (tabular_names.as_slice(), order_names.as_slice()) {
        ([tabular_name], _) => {
            let bytes = source.read_bytes(tabular_name)?;
            let code_system = load_tabular(tabular_name, &bytes, options, &mut loaded.diagnostics)?;
            for order_name in &order_names {
                loaded.diagnostics.push(Diagnostic {
                    path: (*order_name).clone(),
                    line: None,
                    value: String::new(),
                    message: "order file passed over: the tabular XML of the release is loaded instead".into(),
                });
            }
            loaded.code_systems.push(code_system);
        }
        ([], [order_name]) => {
            let bytes = source.read_bytes(order_name)?;
            let code_system = load_order_file(order_name, &bytes, options, &mut loaded.diagnostics)?;
            loaded.code_systems.push(code_system);
        }
        ([], []) => {
            return Err(LoadError::new(
                names.first().cloned().unwrap_or_default(),
                "no ICD-10-CM tabular XML (icd10cm_tabular_*.xml) or order file (icd10cm_order_*.txt) found",
            ))
        }
        (several, _) if several.len() > 1 => {
            return Err(LoadError::new(several[1].as_str(), "more than one ICD-10-CM tabular XML; load one release at a time")
                .with_value(several[0].as_str()))
        }
        (_, several) => {
            return Err(LoadError::new(several[1].as_str(), "more than one ICD-10-CM order file; load one release at a time")
                .with_value(several[0].as_str()))
        }
    }
    Ok(loaded)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TabularNodeKind {
    Chapter,
    Section,
    Diag,
}

/// A chapter, section or `diag` as the XML gives it, before 7th characters are generated.
#[derive(Debug)]
struct TabularNode {
    kind: TabularNodeKind,
    code: String,
    display: String,
    parent: Option<usize>,
    n_children: usize,
    inclusion_terms: Vec<String>,
    excludes1: Vec<String>,
    excludes2: Vec<String>,
    /// (7th character, its meaning), when this node has a `sevenChrDef`.
    seven_character_definition: Option<Vec<(String, String)>>,
    line: u64,
}

/// A release note that withdraws some 7th characters from part of a category, e.g. "7th characters
/// D and S do not apply to codes in category S06 with 6th character 7 - …, or 8 - …".
#[derive(Clone, Debug, PartialEq)]
struct SeventhCharacterException {
    /// The category, undotted (`S06`).
    category: String,
    /// The 6th characters of the codes the exception covers.
    sixth_characters: Vec<char>,
    /// The 7th characters those codes do not get.
    withdrawn_seventh_characters: Vec<String>,
}

impl SeventhCharacterException {
    /// Reads the one wording the releases use (2021 to 2026); `None` for any other note.
    fn parse(note: &str) -> Option<SeventhCharacterException> {
        let rest = note.strip_prefix("7th characters ")?;
        let (characters, rest) = rest.split_once(" do not apply to codes in category ")?;
        let withdrawn_seventh_characters: Vec<String> =
            characters.split([' ', ',']).filter(|word| !word.is_empty() && *word != "and").map(str::to_owned).collect();
        if withdrawn_seventh_characters.iter().any(|character| character.len() != 1) {
            return None;
        }
        let (category, rest) = rest.split_once(" with 6th character ")?;
        let category = undotted(category.trim());
        // Each 6th character is a single character followed by " - " and its meaning.
        let chars: Vec<char> = rest.chars().collect();
        let sixth_characters: Vec<char> = (0..chars.len())
            .filter(|&idx| {
                chars[idx].is_ascii_alphanumeric()
                    && (idx == 0 || chars[idx - 1] == ' ')
                    && chars.get(idx + 1) == Some(&' ')
                    && chars.get(idx + 2) == Some(&'-')
            })
            .map(|idx| chars[idx])
            .collect();
        if category.len() != 3 || sixth_characters.is_empty() || withdrawn_seventh_characters.is_empty() {
            return None;
        }
        Some(SeventhCharacterException { category, sixth_characters, withdrawn_seventh_characters })
    }

    fn withdraws(&self, code: &str, seventh_character: &str) -> bool {
        let code = undotted(code);
        code.starts_with(&self.category)
            && code.chars().nth(5).is_some_and(|sixth| self.sixth_characters.contains(&sixth))
            && self.withdrawn_seventh_characters.iter().any(|withdrawn| withdrawn == seventh_character)
    }
}

pub(crate) fn year_in_file_name(name: &str) -> Option<String> {
    let base_name = name.rsplit('/').next().unwrap_or(name);
    let bytes = base_name.as_bytes();
    (0..bytes.len().saturating_sub(3)).find_map(|start| {
        let digits = &bytes[start..start + 4];
        let is_year = digits.iter().all(u8::is_ascii_digit)
            && (digits.starts_with(b"19") || digits.starts_with(b"20"))
            && (start == 0 || !bytes[start - 1].is_ascii_digit())
            && bytes.get(start + 4).is_none_or(|next| !next.is_ascii_digit());
        is_year.then(|| base_name[start..start + 4].to_owned())
    })
}

/// `A000` → `A00.0`; codes of three characters or fewer stay as they are.
pub fn dotted(code: &str) -> String {
    if code.len() > 3 && !code.contains('.') && code.is_ascii() {
        format!("{}.{}", &code[..3], &code[3..])
    } else {
        code.to_owned()
    }
}

/// `A00.0` → `A000`.
pub fn undotted(code: &str) -> String {
    code.replace('.', "")
}

/// The code a 7th character makes of a code: padded with `X` to six characters, then dotted.
fn with_seventh_character(code: &str, seventh_character: &str) -> String {
    let mut extended = undotted(code);
    while extended.len() < 6 {
        extended.push('X');
    }
    extended.push_str(seventh_character);
    dotted(&extended)
}

fn attribute_text(start: &quick_xml::events::BytesStart, name: &str) -> Option<String> {
    start
        .try_get_attribute(name)
        .ok()
        .flatten()
        .and_then(|attribute| attribute.normalized_value(quick_xml::XmlVersion::Implicit1_0).ok())
        .map(|value| value.trim().to_owned())
}

fn parse_error(path: &str, text: &str, offset: usize, message: String) -> LoadError {
    let mut counter = LineCounter::new(text);
    LoadError::new(path, message).at_line(counter.line_at(offset))
}

/// The (first, last) categories of a section code such as `C00-C75`.
fn section_range(code: &str) -> Option<(&str, &str)> {
    code.split_once('-')
}

/// Nests sections under the empty sections that cover them.
///
/// The XML lists groups of sections (`C00-C96` > `C00-C75` > `C00-C14`) as empty sections just
/// before the sections they group, all siblings in the chapter. A group is the is-a parent of
/// the sections inside its range, so each section goes under the innermost empty section before
/// it in the same chapter whose range covers its own. Categories compare as ASCII text (`C7A`
/// sorts between `C75` and `C80`), and grouped sections follow their group, so the concepts stay
/// in pre-order.
fn nest_covered_sections(nodes: &mut [TabularNode]) {
    let mut open_groups: Vec<usize> = Vec::new();
    for node_idx in 0..nodes.len() {
        match nodes[node_idx].kind {
            TabularNodeKind::Chapter => open_groups.clear(),
            TabularNodeKind::Diag => {}
            TabularNodeKind::Section => {
                let Some((first, last)) = section_range(&nodes[node_idx].code) else {
                    continue;
                };
                let (first, last) = (first.to_owned(), last.to_owned());
                while let Some(&group) = open_groups.last() {
                    let covers = section_range(&nodes[group].code)
                        .is_some_and(|(group_first, group_last)| group_first <= first.as_str() && last.as_str() <= group_last);
                    if covers {
                        break;
                    }
                    open_groups.pop();
                }
                if let Some(&group) = open_groups.last() {
                    if let Some(old_parent) = nodes[node_idx].parent {
                        nodes[old_parent].n_children -= 1;
                    }
                    nodes[node_idx].parent = Some(group);
                    nodes[group].n_children += 1;
                }
                if nodes[node_idx].n_children == 0 {
                    open_groups.push(node_idx);
                }
            }
        }
    }
}

/// What the tabular XML holds, before 7th characters are generated.
struct TabularContent {
    version: Option<String>,
    nodes: Vec<TabularNode>,
    exceptions: Vec<SeventhCharacterException>,
}

fn read_tabular_nodes(path: &str, text: &str, diagnostics: &mut Vec<Diagnostic>) -> Result<TabularContent, LoadError> {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut lines = LineCounter::new(text);
    let mut element_path: Vec<String> = Vec::new();
    let mut open_nodes: Vec<usize> = Vec::new();
    let mut nodes: Vec<TabularNode> = Vec::new();
    let mut text_buffer = String::new();
    let mut xml_version: Option<String> = None;
    let mut extension_character: Option<String> = None;
    let mut saw_root = false;
    let mut exceptions = Vec::new();
    loop {
        let offset = reader.buffer_position() as usize;
        let event = reader.read_event().map_err(|error| {
            let error_offset = (reader.error_position() as usize).max(offset);
            parse_error(path, text, error_offset, format!("malformed XML: {error}"))
        })?;
        match event {
            Event::Start(start) => {
                let element_name = start.name().as_ref().to_owned();
                if element_path.is_empty() {
                    if element_name != "ICD10CM.tabular" {
                        return Err(parse_error(
                            path,
                            text,
                            offset,
                            "not an ICD-10-CM tabular XML: the root element is not <ICD10CM.tabular>".into(),
                        )
                        .with_value(element_name));
                    }
                    saw_root = true;
                }
                text_buffer.clear();
                let kind = match element_name.as_str() {
                    "chapter" => Some(TabularNodeKind::Chapter),
                    "section" => Some(TabularNodeKind::Section),
                    "diag" => Some(TabularNodeKind::Diag),
                    _ => None,
                };
                if element_name == "extension" {
                    extension_character = attribute_text(&start, "char");
                }
                if let Some(kind) = kind {
                    let code = if kind == TabularNodeKind::Section {
                        let id = attribute_text(&start, "id").unwrap_or_default();
                        if id.is_empty() || id.contains('-') {
                            id
                        } else {
                            format!("{id}-{id}")
                        }
                    } else {
                        String::new()
                    };
                    let parent = open_nodes.last().copied();
                    if let Some(parent) = parent {
                        nodes[parent].n_children += 1;
                    }
                    open_nodes.push(nodes.len());
                    nodes.push(TabularNode {
                        kind,
                        code,
                        display: String::new(),
                        parent,
                        n_children: 0,
                        inclusion_terms: Vec::new(),
                        excludes1: Vec::new(),
                        excludes2: Vec::new(),
                        seven_character_definition: None,
                        line: lines.line_at(offset),
                    });
                }
                if element_name == "sevenChrDef" {
                    if let Some(node) = open_nodes.last() {
                        nodes[*node].seven_character_definition = Some(Vec::new());
                    }
                }
                element_path.push(element_name);
            }
            Event::Empty(empty) if element_path.is_empty() => {
                return Err(parse_error(
                    path,
                    text,
                    offset,
                    "not an ICD-10-CM tabular XML: the root element is not <ICD10CM.tabular>".into(),
                )
                .with_value(empty.name().as_ref().to_owned()))
            }
            Event::Text(content) => text_buffer.push_str(&content),
            Event::CData(content) => text_buffer.push_str(&content),
            Event::GeneralRef(reference) => {
                let resolved = resolve_entity(&reference);
                match resolved {
                    Some(character) => text_buffer.push(character),
                    None => {
                        return Err(parse_error(path, text, offset, "malformed XML: unknown entity".into())
                            .with_value(format!("&{};", &*reference)))
                    }
                }
            }
            Event::End(_) => {
                let element_name = element_path.pop().unwrap_or_default();
                let parent_element = element_path.last().map(String::as_str).unwrap_or("");
                let grandparent_element = element_path.len().checked_sub(2).map(|idx| element_path[idx].as_str()).unwrap_or("");
                let value = text_buffer.trim().to_owned();
                let current_node = open_nodes.last().copied();
                match (element_name.as_str(), parent_element) {
                    ("version", "ICD10CM.tabular") => xml_version = Some(value),
                    ("name", "chapter") | ("name", "diag") => {
                        if let Some(node) = current_node {
                            nodes[node].code = if parent_element == "chapter" { format!("chapter-{value}") } else { value };
                        }
                    }
                    ("desc", "chapter" | "section" | "diag") => {
                        if let Some(node) = current_node {
                            nodes[node].display = value;
                        }
                    }
                    ("note", "inclusionTerm" | "excludes1" | "excludes2")
                        if matches!(grandparent_element, "chapter" | "section" | "diag") =>
                    {
                        if let Some(node) = current_node {
                            let node = &mut nodes[node];
                            match parent_element {
                                "inclusionTerm" => node.inclusion_terms.push(value),
                                "excludes1" => node.excludes1.push(value),
                                _ => node.excludes2.push(value),
                            }
                        }
                    }
                    ("note", "notes") if value.contains("do not apply") => match SeventhCharacterException::parse(&value) {
                        Some(exception) => exceptions.push(exception),
                        None => diagnostics.push(Diagnostic {
                            path: path.to_owned(),
                            line: Some(lines.line_at(offset)),
                            value,
                            message: "note that seems to withdraw 7th characters is not understood; every 7th character is generated"
                                .into(),
                        }),
                    },
                    ("extension", "sevenChrDef") => {
                        let line = lines.line_at(offset);
                        match (extension_character.take(), current_node) {
                            (Some(character), Some(node))
                                if character.len() == 1 && character.chars().all(|c| c.is_ascii_alphanumeric()) =>
                            {
                                if let Some(definition) = nodes[node].seven_character_definition.as_mut() {
                                    definition.push((character, value));
                                }
                            }
                            (character, _) => diagnostics.push(Diagnostic {
                                path: path.to_owned(),
                                line: Some(line),
                                value: character.unwrap_or_default(),
                                message: "sevenChrDef extension without a single letter or digit in its char attribute; skipped".into(),
                            }),
                        }
                    }
                    ("chapter" | "section" | "diag", _) => {
                        open_nodes.pop();
                    }
                    _ => {}
                }
                text_buffer.clear();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !saw_root {
        return Err(LoadError::new(path, "not an ICD-10-CM tabular XML: no <ICD10CM.tabular> element"));
    }
    if let Some(unclosed) = element_path.last() {
        return Err(parse_error(path, text, text.len(), format!("malformed XML: the document ends before <{unclosed}> is closed")));
    }
    nest_covered_sections(&mut nodes);
    Ok(TabularContent { version: xml_version, nodes, exceptions })
}

fn designation_with_use(use_code: &str, use_display: &str, value: &str) -> Designation {
    Designation {
        language: None,
        use_coding: Some(std::sync::Arc::new(json!({
            "system": DESIGNATION_USE_SYSTEM,
            "code": use_code,
            "display": use_display,
        }))),
        value: value.to_owned(),
        extra: None,
    }
}

fn new_concept(code: String, display: String, nest_parent: Option<usize>) -> Concept {
    Concept {
        code,
        display: (!display.is_empty()).then_some(display),
        definition: None,
        designations: Vec::new(),
        properties: Vec::new(),
        extra: None,
        nest_parent,
    }
}

/// The header of an ICD-10-CM CodeSystem, without concepts, as FHIR JSON.
fn header(version: Option<&str>, n_concepts: usize, hierarchical: bool) -> Json {
    let mut resource = json!({
        "resourceType": "CodeSystem",
        "url": ICD10CM_URL,
        "identifier": [{"system": "urn:ietf:rfc:3986", "value": format!("urn:oid:{ICD10CM_OID}")}],
        "name": "ICD10CM",
        "title": "International Classification of Diseases, Tenth Revision, Clinical Modification (ICD-10-CM)",
        "status": "active",
        "publisher": "National Center for Health Statistics (NCHS)",
        "caseSensitive": true,
        "content": "complete",
        "count": n_concepts,
        "property": [
            {"code": "billable", "type": "boolean",
             "description": "True when the code may be reported: it has no subcodes and needs no 7th character"},
        ],
    });
    if let Some(version) = version {
        resource["version"] = json!(version);
    }
    // A release is in force for its fiscal year (FY2026: 2025-10-01 to 2026-09-30).
    if let Some(period) = EffectivePeriod::of_icd10_version(version) {
        resource["extension"] = json!([period.to_extension()]);
    }
    if hierarchical {
        resource["hierarchyMeaning"] = json!("is-a");
        let properties = resource["property"].as_array_mut().expect("property is an array");
        properties.push(json!({"code": "notSelectable", "uri": "http://hl7.org/fhir/concept-properties#notSelectable", "type": "boolean",
            "description": "True for chapters and sections, which group codes but are not codes"}));
        properties.push(json!({"code": "excludes1", "type": "string",
            "description": "An Excludes1 note: the condition noted is never coded together with this one"}));
        properties.push(json!({"code": "excludes2", "type": "string",
            "description": "An Excludes2 note: the condition noted is not part of this one but may be coded with it"}));
    }
    resource
}

fn code_system_from(header: Json, concepts: Vec<Concept>) -> CodeSystem {
    let mut code_system = CodeSystem::from_json(&header).expect("the ICD-10-CM header is a valid CodeSystem");
    code_system.concepts = concepts;
    code_system
}

fn load_tabular(path: &str, bytes: &[u8], options: &LoadOptions, diagnostics: &mut Vec<Diagnostic>) -> Result<CodeSystem, LoadError> {
    let text = std::str::from_utf8(bytes).map_err(|error| {
        let valid = &bytes[..error.valid_up_to()];
        let line = valid.iter().filter(|byte| **byte == b'\n').count() as u64 + 1;
        LoadError::new(path, "not UTF-8 text").at_line(line)
    })?;
    let text = text.trim_start_matches('\u{feff}');
    let TabularContent { version: xml_version, nodes, exceptions } = read_tabular_nodes(path, text, diagnostics)?;
    let version = options.version.clone().or(xml_version.filter(|version| !version.is_empty())).or_else(|| year_in_file_name(path));

    let mut concepts: Vec<Concept> = Vec::with_capacity(nodes.len() * 2);
    let mut concept_of_node: Vec<usize> = Vec::with_capacity(nodes.len());
    let mut seen_codes = std::collections::HashSet::with_capacity(nodes.len() * 2);
    for (node_idx, node) in nodes.iter().enumerate() {
        let nest_parent = node.parent.map(|parent| concept_of_node[parent]);
        concept_of_node.push(concepts.len());
        let is_diag = node.kind == TabularNodeKind::Diag;
        // The nearest definition of 7th characters, on this code or an ancestor.
        let seven_character_definition = if is_diag && node.n_children == 0 {
            let mut ancestor = Some(node_idx);
            let mut found = None;
            while let Some(idx) = ancestor {
                if let Some(definition) = &nodes[idx].seven_character_definition {
                    found = Some(definition);
                    break;
                }
                ancestor = nodes[idx].parent;
            }
            found.filter(|_| undotted(&node.code).len() < 7)
        } else {
            None
        };
        if node.code.is_empty() {
            diagnostics.push(Diagnostic {
                path: path.to_owned(),
                line: Some(node.line),
                value: node.display.clone(),
                message: format!(
                    "{} without a code; kept with an empty code",
                    match node.kind {
                        TabularNodeKind::Chapter => "chapter",
                        TabularNodeKind::Section => "section",
                        TabularNodeKind::Diag => "diag",
                    }
                ),
            });
        }
        if !seen_codes.insert(node.code.clone()) {
            diagnostics.push(Diagnostic {
                path: path.to_owned(),
                line: Some(node.line),
                value: node.code.clone(),
                message: "code listed twice; the second entry is kept as well".into(),
            });
        }
        let seventh_character_codes: Vec<(String, String)> = seven_character_definition
            .into_iter()
            .flatten()
            .filter(|(character, _)| !exceptions.iter().any(|exception| exception.withdraws(&node.code, character)))
            .map(|(character, meaning)| {
                let display = if meaning.is_empty() { node.display.clone() } else { format!("{}, {meaning}", node.display) };
                (with_seventh_character(&node.code, character), display)
            })
            .collect();
        let billable = is_diag && node.n_children == 0 && seventh_character_codes.is_empty();
        let mut concept = new_concept(node.code.clone(), node.display.clone(), nest_parent);
        concept.designations = node.inclusion_terms.iter().map(|term| designation_with_use("inclusion", "Inclusion term", term)).collect();
        concept.properties.push(ConceptProperty::boolean("billable", billable));
        if !is_diag {
            concept.properties.push(ConceptProperty::boolean("notSelectable", true));
        }
        for note in &node.excludes1 {
            concept.properties.push(ConceptProperty::string("excludes1", note));
        }
        for note in &node.excludes2 {
            concept.properties.push(ConceptProperty::string("excludes2", note));
        }
        let parent_concept = concepts.len();
        concepts.push(concept);
        for (code, display) in seventh_character_codes {
            if !seen_codes.insert(code.clone()) {
                diagnostics.push(Diagnostic {
                    path: path.to_owned(),
                    line: Some(node.line),
                    value: code.clone(),
                    message: "generated 7th-character code is already listed; kept twice".into(),
                });
            }
            let mut concept = new_concept(code, display, Some(parent_concept));
            concept.properties.push(ConceptProperty::boolean("billable", true));
            concepts.push(concept);
        }
    }
    if concepts.is_empty() {
        return Err(LoadError::new(path, "the tabular XML holds no chapters, sections or codes"));
    }
    Ok(code_system_from(header(version.as_deref(), concepts.len(), true), concepts))
}

fn load_order_file(path: &str, bytes: &[u8], options: &LoadOptions, diagnostics: &mut Vec<Diagnostic>) -> Result<CodeSystem, LoadError> {
    let version = options.version.clone().or_else(|| year_in_file_name(path));
    let mut concepts = Vec::new();
    let mut seen_codes = std::collections::HashSet::new();
    for (line_idx, line) in bytes.split(|byte| *byte == b'\n').enumerate() {
        let line_number = line_idx as u64 + 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let row_text = || String::from_utf8_lossy(line).into_owned();
        let order_number = column_text(line, 1, Some(5));
        let code = column_text(line, 7, Some(13));
        let header_flag = column_text(line, 15, Some(15));
        let short_description = column_text(line, 17, Some(76));
        let long_description = column_text(line, 78, None);
        if line.len() < 17 {
            diagnostics.push(Diagnostic {
                path: path.to_owned(),
                line: Some(line_number),
                value: row_text(),
                message: "order file row shorter than 17 characters; skipped".into(),
            });
            continue;
        }
        if order_number.is_empty() || !order_number.bytes().all(|byte| byte.is_ascii_digit()) {
            if line_number == 1 && concepts.is_empty() {
                return Err(LoadError::new(path, "not an ICD-10-CM order file: columns 1-5 do not hold an order number")
                    .at_line(line_number)
                    .with_value(row_text()));
            }
            diagnostics.push(Diagnostic {
                path: path.to_owned(),
                line: Some(line_number),
                value: row_text(),
                message: "columns 1-5 do not hold an order number; skipped".into(),
            });
            continue;
        }
        if code.len() < 3 || !code.bytes().all(|byte| byte.is_ascii_alphanumeric()) {
            diagnostics.push(Diagnostic {
                path: path.to_owned(),
                line: Some(line_number),
                value: code,
                message: "columns 7-13 do not hold an ICD-10-CM code; skipped".into(),
            });
            continue;
        }
        let billable = match header_flag.as_str() {
            "1" => true,
            "0" => false,
            _ => {
                diagnostics.push(Diagnostic {
                    path: path.to_owned(),
                    line: Some(line_number),
                    value: header_flag,
                    message: "column 15 is neither 1 (billable) nor 0 (header); skipped".into(),
                });
                continue;
            }
        };
        let code = dotted(&code);
        if !seen_codes.insert(code.clone()) {
            diagnostics.push(Diagnostic {
                path: path.to_owned(),
                line: Some(line_number),
                value: code,
                message: "code listed twice; the second row is skipped".into(),
            });
            continue;
        }
        let display = if long_description.is_empty() { short_description.clone() } else { long_description };
        let mut concept = new_concept(code, display, None);
        if !short_description.is_empty() {
            concept.designations.push(designation_with_use("short", "Short description", &short_description));
        }
        concept.properties.push(ConceptProperty::boolean("billable", billable));
        concepts.push(concept);
    }
    if concepts.is_empty() {
        return Err(LoadError::new(path, "the order file holds no codes"));
    }
    Ok(code_system_from(header(version.as_deref(), concepts.len(), false), concepts))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemorySource;
    use std::collections::{BTreeSet, HashSet};
    use std::fmt::Write;
    use std::path::PathBuf;

    const TABULAR_FIXTURE: &[u8] = include_bytes!("../test_data/icd10cm/icd10cm_tabular_2026.xml");
    const ORDER_FIXTURE: &[u8] = include_bytes!("../test_data/icd10cm/icd10cm_order_2026.txt");

    /// One line per concept: indentation for nesting, code, billable flag, display, then notes.
    fn dump(code_system: &CodeSystem) -> String {
        let mut depths: Vec<usize> = Vec::new();
        let mut out = String::new();
        for concept in &code_system.concepts {
            let depth = concept.nest_parent.map_or(0, |parent| depths[parent] + 1);
            depths.push(depth);
            let billable = concept.property_text("billable").unwrap_or_default();
            let selectable = if concept.property_text("notSelectable").as_deref() == Some("true") { " notSelectable" } else { "" };
            write!(
                out,
                "{}{} billable={billable}{selectable} {:?}",
                "  ".repeat(depth),
                concept.code,
                concept.display.as_deref().unwrap_or_default()
            )
            .unwrap();
            for designation in &concept.designations {
                let use_code = designation.use_coding.as_ref().and_then(|coding| coding["code"].as_str()).unwrap_or_default();
                write!(out, " {use_code}={:?}", designation.value).unwrap();
            }
            for property in &concept.properties {
                if property.code.starts_with("excludes") {
                    write!(out, " {}={:?}", property.code, property.value_text().unwrap()).unwrap();
                }
            }
            out.push('\n');
        }
        out
    }

    #[test]
    fn tabular_fixture_gives_hierarchy_seventh_characters_and_notes() {
        let source = MemorySource::new([("icd10cm_tabular_2026.xml", TABULAR_FIXTURE)]);
        let loaded = load(&source, &LoadOptions::default()).unwrap();
        assert_eq!(loaded.diagnostics, vec![]);
        let code_system = &loaded.code_systems[0];
        assert_eq!(
            dump(code_system),
            r#"chapter-1 billable=false notSelectable "Certain infectious and parasitic diseases (A00-B99)" excludes2="influenza and other acute respiratory infections (J00-J22)"
  A00-A09 billable=false notSelectable "Intestinal infectious diseases (A00-A09)"
    A00 billable=false "Cholera"
      A00.0 billable=true "Cholera due to Vibrio cholerae 01, biovar cholerae" inclusion="Classical cholera"
      A00.9 billable=true "Cholera, unspecified"
  B10-B10 billable=false notSelectable "Other human herpesviruses (B10)"
    B10 billable=false "Other human herpesviruses"
      B10.0 billable=true "Other human herpesvirus encephalitis" excludes1="herpes encephalitis NOS (B00.4)"
chapter-19 billable=false notSelectable "Injury, poisoning and certain other consequences of external causes (S00-T88)"
  S70-S79 billable=false notSelectable "Injuries to the hip and thigh (S70-S79)"
    S72 billable=false "Fracture of femur" excludes1="traumatic amputation of hip and thigh (S78.-)"
      S72.0 billable=false "Fracture of head and neck of femur" excludes2="physeal fracture of lower end of femur (S79.1-)"
        S72.00 billable=false "Fracture of unspecified part of neck of femur" inclusion="Fracture of hip NOS" inclusion="Fracture of neck of femur NOS"
          S72.001 billable=false "Fracture of unspecified part of neck of right femur"
            S72.001A billable=true "Fracture of unspecified part of neck of right femur, initial encounter for closed fracture"
            S72.001D billable=true "Fracture of unspecified part of neck of right femur, subsequent encounter for closed fracture with routine healing"
        S72.09 billable=false "Other fracture of head and neck of femur"
          S72.09XA billable=true "Other fracture of head and neck of femur, initial encounter for closed fracture"
          S72.09XD billable=true "Other fracture of head and neck of femur, subsequent encounter for closed fracture with routine healing"
  T07-T88 billable=false notSelectable "Injury, poisoning and certain other consequences of external causes (T07-T88)"
    T07-T07 billable=false notSelectable "Injuries involving multiple body regions (T07)"
      T07 billable=false "Unspecified multiple injuries" excludes1="injury NOS (T14.90)"
        T07.XXXA billable=true "Unspecified multiple injuries, initial encounter"
        T07.XXXS billable=true "Unspecified multiple injuries, sequela"
"#
        );
        assert_pre_order(code_system);
        assert_eq!(code_system.version.as_deref(), Some("2026"));
        assert_eq!(code_system.url, ICD10CM_URL);
        assert_eq!(code_system.hierarchy_meaning.as_deref(), Some("is-a"));
        assert_eq!(code_system.resource["count"], json!(code_system.concepts.len()));
        assert_eq!(code_system.resource["identifier"][0]["value"], json!("urn:oid:2.16.840.1.113883.6.90"));
        assert!(code_system.resource.get("concept").is_none());
        let property_codes: Vec<&str> = code_system.properties.iter().map(|property| property.code.as_str()).collect();
        assert_eq!(property_codes, ["billable", "notSelectable", "excludes1", "excludes2"]);
        let inclusion = &code_system.concepts[3].designations[0];
        assert_eq!(inclusion.use_coding.as_ref().unwrap()["system"], json!(DESIGNATION_USE_SYSTEM));
    }

    #[test]
    fn version_option_overrides_the_release_version() {
        let source = MemorySource::new([("icd10cm_tabular_2026.xml", TABULAR_FIXTURE)]);
        let options = LoadOptions { version: Some("2026-04".into()) };
        let code_system = load(&source, &options).unwrap().code_systems.remove(0);
        assert_eq!(code_system.version.as_deref(), Some("2026-04"));
        assert_eq!(code_system.resource["version"], json!("2026-04"));
    }

    #[test]
    fn broken_tabular_xml_is_an_error_with_its_line() {
        let truncated = &TABULAR_FIXTURE[..TABULAR_FIXTURE.len() / 2];
        let source = MemorySource::new([("icd10cm_tabular_2026.xml", truncated)]);
        let error = load(&source, &LoadOptions::default()).unwrap_err();
        assert_eq!(error.path, "icd10cm_tabular_2026.xml");
        assert!(error.message.contains("ends before"), "{error}");
        assert!(error.line.is_some());

        let wrong_root = MemorySource::new([("icd10cm_tabular_2026.xml", "<?xml version=\"1.0\"?>\n<CodeSystem/>\n<x></x>")]);
        let error = load(&wrong_root, &LoadOptions::default()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "icd10cm_tabular_2026.xml:2: not an ICD-10-CM tabular XML: the root element is not <ICD10CM.tabular> (\"CodeSystem\")"
        );
    }

    #[test]
    fn order_file_gives_a_flat_code_system_and_reports_bad_rows() {
        let source = MemorySource::new([("icd10cm_order_2026.txt", ORDER_FIXTURE)]);
        let loaded = load(&source, &LoadOptions::default()).unwrap();
        let code_system = &loaded.code_systems[0];
        assert_eq!(
            dump(code_system),
            r#"A00 billable=false "Cholera" short="Cholera"
A00.0 billable=true "Cholera due to Vibrio cholerae 01, biovar cholerae" short="Cholera due to Vibrio cholerae 01, biovar cholerae"
A00.9 billable=true "Cholera, unspecified" short="Cholera, unspecified"
S72.001A billable=true "Fracture of unspecified part of neck of right femur, initial encounter for closed fracture" short="Fx unsp part of neck of right femur, init for clos fx"
"#
        );
        assert_eq!(code_system.version.as_deref(), Some("2026"));
        assert_eq!(code_system.hierarchy_meaning, None);
        let diagnostics: Vec<String> = loaded.diagnostics.iter().map(ToString::to_string).collect();
        assert_eq!(
            diagnostics,
            [
                "icd10cm_order_2026.txt:4: column 15 is neither 1 (billable) nor 0 (header); skipped (\"X\")",
                "icd10cm_order_2026.txt:6: order file row shorter than 17 characters; skipped (\"00006 B10     1\")",
            ]
        );
    }

    #[test]
    fn tabular_wins_over_the_order_file_and_says_so() {
        let source =
            MemorySource::new([("release/icd10cm_order_2026.txt", ORDER_FIXTURE), ("release/icd10cm_tabular_2026.xml", TABULAR_FIXTURE)]);
        let loaded = load(&source, &LoadOptions::default()).unwrap();
        assert_eq!(loaded.code_systems[0].hierarchy_meaning.as_deref(), Some("is-a"));
        assert_eq!(loaded.diagnostics.len(), 1);
        assert_eq!(loaded.diagnostics[0].path, "release/icd10cm_order_2026.txt");
    }

    #[test]
    fn detects_tabular_and_order_files() {
        for name in ["icd10cm_tabular_2026.xml", "icd10cm-tabular-2021.xml", "Code Tables/icd10cm_order_2026.txt"] {
            let source = MemorySource::new([(name, b"".to_vec())]);
            assert_eq!(crate::detect(&source).unwrap(), crate::Format::Icd10cm, "{name}");
        }
        let fhir = MemorySource::new([("CodeSystem-x.xml", b"".to_vec())]);
        assert_eq!(crate::detect(&fhir).unwrap(), crate::Format::Fhir);
        assert_eq!(crate::Format::parse("icd10cm"), Some(crate::Format::Icd10cm));
    }

    #[test]
    fn seventh_characters_pad_with_placeholders() {
        assert_eq!(with_seventh_character("T07", "A"), "T07.XXXA");
        assert_eq!(with_seventh_character("S02.0", "B"), "S02.0XXB");
        assert_eq!(with_seventh_character("S72.09", "D"), "S72.09XD");
        assert_eq!(with_seventh_character("S72.001", "A"), "S72.001A");
        assert_eq!(year_in_file_name("dir/icd10cm_tabular_2026.xml").as_deref(), Some("2026"));
        assert_eq!(year_in_file_name("icd10c-tabular-April-1-2026.xml").as_deref(), Some("2026"));
        assert_eq!(year_in_file_name("tabular.xml"), None);
    }

    /// Checks that every concept follows its parent and that each parent's descendants are
    /// contiguous, which is what a flat pre-order list promises.
    #[track_caller]
    fn assert_pre_order(code_system: &CodeSystem) {
        let mut ancestors: Vec<usize> = Vec::new();
        for (concept_idx, concept) in code_system.concepts.iter().enumerate() {
            match concept.nest_parent {
                None => ancestors.clear(),
                Some(parent) => {
                    while ancestors.last().is_some_and(|top| *top != parent) {
                        ancestors.pop();
                    }
                    assert!(
                        !ancestors.is_empty(),
                        "{} is not right after the subtree of its parent {}",
                        concept.code,
                        code_system.concepts[parent].code
                    );
                }
            }
            ancestors.push(concept_idx);
        }
    }

    #[test]
    fn reads_the_seventh_character_exception_note() {
        let note = "7th characters D and S do not apply to codes in category S06 with 6th character 7 - death due to brain injury prior to regaining consciousness, or 8 - death due to other cause prior to regaining consciousness.";
        let exception = SeventhCharacterException::parse(note).unwrap();
        assert_eq!(
            exception,
            SeventhCharacterException {
                category: "S06".into(),
                sixth_characters: vec!['7', '8'],
                withdrawn_seventh_characters: vec!["D".into(), "S".into()],
            }
        );
        assert!(exception.withdraws("S06.1X7", "D"));
        assert!(!exception.withdraws("S06.1X7", "A"));
        assert!(!exception.withdraws("S06.1X1", "D"));
        assert!(!exception.withdraws("S07.0X7", "D"));
        assert_eq!(SeventhCharacterException::parse("7th characters apply to all codes"), None);
    }

    fn real_data_folder(test_name: &str) -> Option<PathBuf> {
        match std::env::var_os("FHIRTERM_REAL_DATA") {
            Some(folder) => Some(PathBuf::from(folder)),
            None => {
                eprintln!("skipping {test_name}: FHIRTERM_REAL_DATA is not set (run fetch-real-data.sh DIR and set it to DIR)");
                None
            }
        }
    }

    /// The differences of two code lists, a few of each, for a failure message.
    fn first_differences(expected: &[String], actual: &[String]) -> String {
        let mut expected_counts = std::collections::BTreeMap::<&str, i64>::new();
        for code in expected {
            *expected_counts.entry(code).or_default() += 1;
        }
        for code in actual {
            *expected_counts.entry(code).or_default() -= 1;
        }
        let missing: Vec<&str> = expected_counts.iter().filter(|(_, count)| **count > 0).map(|(code, _)| *code).collect();
        let extra: Vec<&str> = expected_counts.iter().filter(|(_, count)| **count < 0).map(|(code, _)| *code).collect();
        format!(
            "{} missing (first: {:?}), {} extra (first: {:?})",
            missing.len(),
            &missing[..missing.len().min(10)],
            extra.len(),
            &extra[..extra.len().min(10)]
        )
    }

    /// A concept as the code list names it: chapters by number, sections by their XML id,
    /// codes undotted.
    fn code_list_form(code: &str) -> String {
        if let Some(number) = code.strip_prefix("chapter-") {
            return number.to_owned();
        }
        match code.split_once('-') {
            Some((first, last)) if first == last => first.to_owned(),
            Some(_) => code.to_owned(),
            None => undotted(code),
        }
    }

    #[test]
    fn real_icd10cm_2026_equals_the_release_code_list() {
        let Some(folder) = real_data_folder("real_icd10cm_2026_equals_the_release_code_list") else {
            return;
        };
        let release_folder = folder.join("icd10cm/2026");
        let started = std::time::Instant::now();
        let source = crate::open_paths(&[release_folder.clone()]).unwrap();
        let loaded = load(source.as_ref(), &LoadOptions::default()).unwrap();
        eprintln!("loaded ICD-10-CM 2026 in {:?}", started.elapsed());
        assert_eq!(loaded.diagnostics, vec![]);
        let code_system = &loaded.code_systems[0];
        assert_eq!(code_system.version.as_deref(), Some("2026"));

        let code_list = std::fs::read_to_string(release_folder.join("code-list-2026.txt")).unwrap();
        let mut expected: Vec<String> = code_list.lines().map(str::trim).filter(|line| !line.is_empty()).map(str::to_owned).collect();
        let mut actual: Vec<String> = code_system.concepts.iter().map(|concept| code_list_form(&concept.code)).collect();
        expected.sort();
        actual.sort();
        assert!(expected == actual, "code list and loaded concepts differ: {}", first_differences(&expected, &actual));
        let n_chapters = code_system.concepts.iter().filter(|c| c.code.starts_with("chapter-")).count();
        let n_sections =
            code_system.concepts.iter().filter(|concept| concept.code.contains('-') && !concept.code.starts_with("chapter-")).count();
        assert_eq!((n_chapters, n_sections), (22, 297));
        assert_pre_order(code_system);
        // Codes are unique once sections that share a category's name get their range form.
        let unique_codes: HashSet<&str> = code_system.concepts.iter().map(|c| c.code.as_str()).collect();
        assert_eq!(unique_codes.len(), code_system.concepts.len());

        let mut has_children = vec![false; code_system.concepts.len()];
        for concept in &code_system.concepts {
            if let Some(parent) = concept.nest_parent {
                has_children[parent] = true;
            }
        }
        let n_leaves = has_children.iter().filter(|flag| !**flag).count();
        let n_billable = code_system.concepts.iter().filter(|concept| concept.property_text("billable").as_deref() == Some("true")).count();
        assert_eq!(n_billable, n_leaves);
        // The code list has 74,724 lines naming leaves, but five of them (B20, F99, P84, R99,
        // Z66) are the single-category sections named again: 74,719 distinct billable codes.
        assert_eq!(n_billable, 74_719);
        eprintln!(
            "ICD-10-CM 2026: {} concepts ({} chapters, {} sections, {} codes), {} billable",
            code_system.concepts.len(),
            n_chapters,
            n_sections,
            code_system.concepts.len() - n_chapters - n_sections,
            n_billable
        );
    }

    #[test]
    fn real_icd10cm_2021_order_file_and_tabular_agree_on_billable_codes() {
        let Some(folder) = real_data_folder("real_icd10cm_2021_order_file_and_tabular_agree_on_billable_codes") else {
            return;
        };
        let release_folder = folder.join("icd10cm/2021");
        let billable_codes = |path: PathBuf| -> (BTreeSet<String>, usize) {
            let source = crate::open_paths(&[path]).unwrap();
            let loaded = load(source.as_ref(), &LoadOptions::default()).unwrap();
            let code_system = &loaded.code_systems[0];
            let billable = code_system
                .concepts
                .iter()
                .filter(|concept| concept.property_text("billable").as_deref() == Some("true"))
                .map(|concept| concept.code.clone())
                .collect();
            (billable, code_system.concepts.len())
        };
        let (from_tabular, _) = billable_codes(release_folder.join("icd10cm-tabular-2021.xml"));
        let (from_order_file, n_order_rows) = billable_codes(release_folder.join("icd10cm-order-2021.txt"));
        assert_eq!(n_order_rows, 95_358);
        assert_eq!(from_order_file.len(), 72_621);
        let from_tabular: Vec<String> = from_tabular.into_iter().collect();
        let from_order_file: Vec<String> = from_order_file.into_iter().collect();
        assert!(
            from_tabular == from_order_file,
            "billable codes differ (order file as expected, tabular as actual): {}",
            first_differences(&from_order_file, &from_tabular)
        );
    }
}
