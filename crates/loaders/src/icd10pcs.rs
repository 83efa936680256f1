//! ICD-10-PCS from the CMS order file (`icd10pcs_order_<year>.txt`) and, when it is given, the
//! CMS tables XML (`icd10pcs_tables_<year>.xml`, root `ICD10PCS.tabular`), as CMS publishes them
//! each fiscal year (layouts checked against the FY 2020-2026 releases' descriptions).
//!
//! # The order file
//! Fixed width, CRLF, the layout of the ICD-10-CM order file: order number in columns 1-5, code
//! in 7-13, header flag in 15 (`1` a valid code, `0` a header), short description in 17-76,
//! long description from 78. Valid codes have seven characters; the headers are the three
//! character tables (`001` "Central Nervous System and Cranial Nerves, Bypass"). The long
//! description is the display and the short one a designation with the use
//! `http://fhirterm.dev/designation-use#short`. The property `billable` is the header flag.
//! Every code is nested under the header before it whose code begins it (a code under its
//! table), so the code system has `hierarchyMeaning` `is-a` when the file has headers.
//!
//! # The axes
//! Each character of a code is one axis of the code, and each becomes a `valueCode` property
//! named by its position: `section`, `body-system`, `root-operation`, `body-part`, `approach`,
//! `device`, `qualifier` (`0DB…` has `root-operation` = `B`), so an `$expand` filter such as
//! `root-operation = B` works. The names are the ones of the Medical and Surgical section; the
//! other sections call some axes otherwise (Imaging's third character is the *type* and its fifth
//! the *contrast*), but the property stays the position's. A header gets the properties of the
//! characters it has.
//!
//! # The tables XML
//! `<pcsTable>` elements hold one `<label code="…">` on each of `<axis pos="1">` to `pos="3"`,
//! then `<pcsRow>` elements with the labels their codes may take on axes 4 to 7. When the tables
//! are given, each axis property gets a companion `valueString` property `<axis>-label` with the
//! label of that character in that code's table and row (`root-operation-label` = `Excision`).
//! A code no row of its table covers keeps its code and axis properties, without the labels of
//! axes 4 to 7, and is reported. A table that does not name exactly one character on each of
//! its first three axes is passed over with a diagnostic. Codes come from the order file only:
//! the tables XML alone is not a release this module loads.
//!
//! The version is the year in the order file's name, unless [`LoadOptions::version`] overrides
//! it. Rows that are too short, have no order number, a flag that is not `0` or `1`, a code
//! that is not made of the PCS characters (digits and letters but `I` and `O`), a valid code not
//! of seven characters, or a code already given are skipped with a diagnostic.
//!
//! Tests are at the end of this file; fixtures in `test_data/icd10pcs/`; the real-data check runs
//! when `FHIRTERM_REAL_DATA` names the folder `fetch-real-data.sh` filled.

use crate::icd10cm::{year_in_file_name, DESIGNATION_USE_SYSTEM};
use crate::text::{column_text, resolve_entity, LineCounter};
use crate::{Diagnostic, LoadError, LoadOptions, Loaded, Source};
use model::terminology::{CodeSystem, Concept, ConceptProperty, Designation, EffectivePeriod};
use model::Json;
use quick_xml::events::Event;
use serde_json::json;
use std::collections::{HashMap, HashSet};

pub const ICD10PCS_URL: &str = "http://www.cms.gov/Medicare/Coding/ICD10";
pub const ICD10PCS_OID: &str = "2.16.840.1.113883.6.4";

/// The property code of each axis, by position, and what the Medical and Surgical section calls it.
pub const AXIS_PROPERTIES: [(&str, &str); 7] = [
    ("section", "Section"),
    ("body-system", "Body System"),
    ("root-operation", "Root Operation"),
    ("body-part", "Body Part"),
    ("approach", "Approach"),
    ("device", "Device"),
    ("qualifier", "Qualifier"),
];

/// True for a file name this module reads as a CMS order file.
pub fn is_order_file(name: &str) -> bool {
    let base_name = base_name_lowercase(name);
    base_name.starts_with("icd10pcs") && base_name.contains("order") && base_name.ends_with(".txt")
}

/// True for a file name this module reads as a CMS tables XML.
pub fn is_tables_file(name: &str) -> bool {
    let base_name = base_name_lowercase(name);
    base_name.starts_with("icd10pcs") && base_name.contains("tables") && base_name.ends_with(".xml")
}

fn base_name_lowercase(name: &str) -> String {
    name.rsplit('/').next().unwrap_or(name).to_ascii_lowercase()
}

/// True for the characters ICD-10-PCS codes are made of: digits and letters but `I` and `O`.
pub fn is_pcs_character(byte: u8) -> bool {
    byte.is_ascii_digit() || (byte.is_ascii_uppercase() && byte != b'I' && byte != b'O')
}

/// Loads one ICD-10-PCS release: the order file, with the labels of the tables XML when given.
pub fn load(source: &dyn Source, options: &LoadOptions) -> Result<Loaded, LoadError> {
    let names = source.names();
    let mut order_names: Vec<&String> = names.iter().filter(|name| is_order_file(name)).collect();
    let mut tables_names: Vec<&String> = names.iter().filter(|name| is_tables_file(name)).collect();
    if order_names.is_empty() {
        // Renamed files are known by their content.
        let named_tables = tables_names.clone();
        for name in names.iter().filter(|name| !named_tables.contains(name)) {
            match crate::sniff::kind_of(source, name) {
                Some(crate::sniff::FileKind::Icd10pcsOrder) => order_names.push(name),
                Some(crate::sniff::FileKind::Icd10pcsTables) => tables_names.push(name),
                _ => {}
            }
        }
    }
    if order_names.is_empty() {
        let code_lists: Vec<&String> =
            names.iter().filter(|name| crate::sniff::kind_of(source, name) == Some(crate::sniff::FileKind::Icd10pcsCodeList)).collect();
        if let [code_list] = code_lists.as_slice() {
            let mut loaded = Loaded::default();
            let bytes = order_lines_of_code_list(code_list, &source.read_bytes(code_list)?)?;
            loaded.code_systems.push(load_order_file(code_list, &bytes, None, options, &mut loaded.diagnostics)?);
            return Ok(loaded);
        }
    }
    let order_name = match order_names.as_slice() {
        [order_name] => *order_name,
        [] => {
            let path = tables_names.first().map(|name| name.as_str()).or(names.first().map(String::as_str)).unwrap_or_default();
            return Err(LoadError::new(path, "no ICD-10-PCS order file (icd10pcs_order_*.txt) found; the codes come from it"));
        }
        several => {
            return Err(LoadError::new(several[1].as_str(), "more than one ICD-10-PCS order file; load one release at a time")
                .with_value(several[0].as_str()))
        }
    };
    let mut loaded = Loaded::default();
    let tables = match tables_names.as_slice() {
        [] => None,
        [tables_name] => {
            let bytes = source.read_bytes(tables_name)?;
            Some(read_tables(tables_name, &bytes, &mut loaded.diagnostics)?)
        }
        several => {
            return Err(LoadError::new(several[1].as_str(), "more than one ICD-10-PCS tables XML; load one release at a time")
                .with_value(several[0].as_str()))
        }
    };
    let bytes = source.read_bytes(order_name)?;
    let code_system = load_order_file(order_name, &bytes, tables.as_ref(), options, &mut loaded.diagnostics)?;
    loaded.code_systems.push(code_system);
    Ok(loaded)
}

/// A two-column code list (`"code","long description"`, no header) rewritten line for line in the
/// order-file layout, every code valid and billable, so that the order-file reader (and its
/// diagnostics, whose line numbers stay those of the list) reads it. The list has no table
/// headers, so the code system it gives is flat.
fn order_lines_of_code_list(path: &str, bytes: &[u8]) -> Result<Vec<u8>, LoadError> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(bytes);
    let mut out = Vec::with_capacity(bytes.len() * 2);
    for (row_idx, record) in reader.byte_records().enumerate() {
        let record =
            record.map_err(|error| LoadError::new(path, format!("not a readable code list: {error}")).at_line(row_idx as u64 + 1))?;
        let code = String::from_utf8_lossy(record.get(0).unwrap_or_default()).trim().to_owned();
        let long = String::from_utf8_lossy(record.get(1).unwrap_or_default()).trim().to_owned();
        let short: String = long.chars().take(60).collect();
        // A code that does not fit the order layout's seven columns is passed through as it is,
        // so the order-file reader reports it with its line.
        out.extend_from_slice(format!("{:05} {code:<7} 1 {short:<60} {long}\n", row_idx + 1).as_bytes());
    }
    Ok(out)
}

/// One `<pcsRow>`: the (character, label) pairs it allows on axes 4 to 7.
#[derive(Debug, Default)]
struct TableRow {
    axis_labels: [Vec<(u8, String)>; 4],
}

impl TableRow {
    fn label(&self, axis_idx: usize, character: u8) -> Option<&str> {
        self.axis_labels[axis_idx - 3].iter().find(|(code, _)| *code == character).map(|(_, label)| label.as_str())
    }

    fn covers(&self, code: &[u8]) -> bool {
        (3..7).all(|axis_idx| self.label(axis_idx, code[axis_idx]).is_some())
    }
}

/// What the tables XML says: labels of the first three axes by code prefix, rows by table.
#[derive(Debug, Default)]
struct Tables {
    /// `"0"` → "Medical and Surgical", `"00"` → "Central Nervous System …", `"001"` → "Bypass".
    prefix_labels: HashMap<String, String>,
    /// Rows by three-character table code.
    rows: HashMap<String, Vec<TableRow>>,
}

impl Tables {
    /// The label of every character of `code` (`None` where the tables have none).
    fn labels<'a>(&'a self, code: &str) -> [Option<&'a str>; 7] {
        let mut labels = [None; 7];
        for axis_idx in 0..code.len().min(3) {
            labels[axis_idx] = self.prefix_labels.get(&code[..=axis_idx]).map(String::as_str);
        }
        if code.len() == 7 {
            let row = self.rows.get(&code[..3]).and_then(|rows| rows.iter().find(|row| row.covers(code.as_bytes())));
            if let Some(row) = row {
                for (axis_idx, label) in labels.iter_mut().enumerate().skip(3) {
                    *label = row.label(axis_idx, code.as_bytes()[axis_idx]);
                }
            }
        }
        labels
    }
}

fn attribute_text(start: &quick_xml::events::BytesStart, name: &str) -> Option<String> {
    start
        .try_get_attribute(name)
        .ok()
        .flatten()
        .and_then(|attribute| attribute.normalized_value(quick_xml::XmlVersion::Implicit1_0).ok())
        .map(|value| value.trim().to_owned())
}

/// A `<pcsTable>` while it is read.
#[derive(Default)]
struct OpenTable {
    line: u64,
    /// The (character, label) pairs of axes 1 to 3.
    head_labels: [Vec<(u8, String)>; 3],
    rows: Vec<TableRow>,
}

fn read_tables(path: &str, bytes: &[u8], diagnostics: &mut Vec<Diagnostic>) -> Result<Tables, LoadError> {
    let text = std::str::from_utf8(bytes).map_err(|error| {
        let line = bytes[..error.valid_up_to()].iter().filter(|byte| **byte == b'\n').count() as u64 + 1;
        LoadError::new(path, format!("the tables XML is not UTF-8: {error}")).at_line(line)
    })?;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut lines = LineCounter::new(text);
    let mut element_path: Vec<String> = Vec::new();
    let mut tables = Tables::default();
    let mut open_table: Option<OpenTable> = None;
    let mut open_row: Option<TableRow> = None;
    let mut axis_position: Option<usize> = None;
    let mut label_code: Option<String> = None;
    let mut text_buffer = String::new();
    let mut saw_root = false;
    loop {
        let offset = reader.buffer_position() as usize;
        let event = reader.read_event().map_err(|error| {
            let error_offset = (reader.error_position() as usize).max(offset);
            LoadError::new(path, format!("malformed XML: {error}")).at_line(lines.line_at(error_offset))
        })?;
        match event {
            Event::Start(start) => {
                let element_name = start.name().as_ref().to_owned();
                if element_path.is_empty() {
                    if element_name != "ICD10PCS.tabular" {
                        return Err(LoadError::new(path, "not an ICD-10-PCS tables XML: the root element is not <ICD10PCS.tabular>")
                            .at_line(lines.line_at(offset))
                            .with_value(element_name));
                    }
                    saw_root = true;
                }
                text_buffer.clear();
                match element_name.as_str() {
                    "pcsTable" => open_table = Some(OpenTable { line: lines.line_at(offset), ..OpenTable::default() }),
                    "pcsRow" => open_row = Some(TableRow::default()),
                    "axis" => {
                        axis_position =
                            attribute_text(&start, "pos").and_then(|pos| pos.parse::<usize>().ok()).filter(|pos| (1..=7).contains(pos));
                        if axis_position.is_none() {
                            diagnostics.push(Diagnostic {
                                path: path.to_owned(),
                                line: Some(lines.line_at(offset)),
                                value: attribute_text(&start, "pos").unwrap_or_default(),
                                message: "axis without a position from 1 to 7; its labels are passed over".into(),
                            });
                        }
                    }
                    "label" => label_code = attribute_text(&start, "code"),
                    _ => {}
                }
                element_path.push(element_name);
            }
            Event::Empty(empty) if element_path.is_empty() => {
                return Err(LoadError::new(path, "not an ICD-10-PCS tables XML: the root element is not <ICD10PCS.tabular>")
                    .at_line(lines.line_at(offset))
                    .with_value(empty.name().as_ref().to_owned()))
            }
            Event::Text(content) => text_buffer.push_str(&content),
            Event::CData(content) => text_buffer.push_str(&content),
            Event::GeneralRef(reference) => {
                let resolved = resolve_entity(&reference);
                match resolved {
                    Some(character) => text_buffer.push(character),
                    None => {
                        return Err(LoadError::new(path, "malformed XML: unknown entity")
                            .at_line(lines.line_at(offset))
                            .with_value(format!("&{};", &*reference)))
                    }
                }
            }
            Event::End(_) => {
                let element_name = element_path.pop().unwrap_or_default();
                match element_name.as_str() {
                    "label" => {
                        let label = text_buffer.split_whitespace().collect::<Vec<_>>().join(" ");
                        let code = label_code.take().unwrap_or_default();
                        let line = lines.line_at(offset);
                        match (code.as_bytes(), axis_position) {
                            ([character], Some(position)) if is_pcs_character(*character) => {
                                if position <= 3 {
                                    if let Some(table) = open_table.as_mut().filter(|_| open_row.is_none()) {
                                        table.head_labels[position - 1].push((*character, label));
                                    }
                                } else if let Some(row) = open_row.as_mut() {
                                    row.axis_labels[position - 4].push((*character, label));
                                }
                            }
                            (_, Some(_)) => diagnostics.push(Diagnostic {
                                path: path.to_owned(),
                                line: Some(line),
                                value: code,
                                message: "label code is not one ICD-10-PCS character; passed over".into(),
                            }),
                            (_, None) => {}
                        }
                        text_buffer.clear();
                    }
                    "axis" => axis_position = None,
                    "pcsRow" => {
                        if let (Some(row), Some(table)) = (open_row.take(), open_table.as_mut()) {
                            table.rows.push(row);
                        }
                    }
                    "pcsTable" => {
                        if let Some(table) = open_table.take() {
                            close_table(path, table, &mut tables, diagnostics);
                        }
                    }
                    _ => {}
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !saw_root {
        return Err(LoadError::new(path, "not an ICD-10-PCS tables XML: no <ICD10PCS.tabular> element"));
    }
    if !element_path.is_empty() {
        return Err(LoadError::new(path, "the tables XML ends before its elements close")
            .at_line(lines.line_at(text.len()))
            .with_value(element_path.join("/")));
    }
    Ok(tables)
}

fn close_table(path: &str, table: OpenTable, tables: &mut Tables, diagnostics: &mut Vec<Diagnostic>) {
    let mut table_code = String::new();
    for (axis_idx, head_labels) in table.head_labels.iter().enumerate() {
        let [(character, label)] = head_labels.as_slice() else {
            let characters: String = head_labels.iter().map(|(character, _)| *character as char).collect();
            diagnostics.push(Diagnostic {
                path: path.to_owned(),
                line: Some(table.line),
                value: format!("{table_code}[{characters}]"),
                message: format!("table does not name one character on axis {}; the table is passed over", axis_idx + 1),
            });
            return;
        };
        table_code.push(*character as char);
        tables.prefix_labels.entry(table_code.clone()).or_insert_with(|| label.clone());
    }
    tables.rows.entry(table_code).or_default().extend(table.rows);
}

fn load_order_file(
    path: &str,
    bytes: &[u8],
    tables: Option<&Tables>,
    options: &LoadOptions,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<CodeSystem, LoadError> {
    let version = options.version.clone().or_else(|| year_in_file_name(path));
    let mut concepts: Vec<Concept> = Vec::new();
    let mut seen_codes: HashSet<String> = HashSet::new();
    // The headers the next code may sit under, innermost last.
    let mut open_headers: Vec<usize> = Vec::new();
    for (line_idx, line) in bytes.split(|byte| *byte == b'\n').enumerate() {
        let line_number = line_idx as u64 + 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let mut report = |value: String, message: &str| {
            diagnostics.push(Diagnostic { path: path.to_owned(), line: Some(line_number), value, message: message.to_owned() })
        };
        let row_text = || String::from_utf8_lossy(line).into_owned();
        let order_number = column_text(line, 1, Some(5));
        if order_number.is_empty() || !order_number.bytes().all(|byte| byte.is_ascii_digit()) {
            if concepts.is_empty() && line_number == 1 {
                return Err(LoadError::new(path, "not an ICD-10-PCS order file: columns 1-5 do not hold an order number")
                    .at_line(line_number)
                    .with_value(row_text()));
            }
            report(row_text(), "columns 1-5 do not hold an order number; skipped");
            continue;
        }
        if line.len() < 17 {
            report(row_text(), "order file row shorter than 17 characters; skipped");
            continue;
        }
        let code = column_text(line, 7, Some(13));
        let header_flag = column_text(line, 15, Some(15));
        let short_description = column_text(line, 17, Some(76));
        let long_description = column_text(line, 78, None);
        if code.is_empty() || !code.bytes().all(is_pcs_character) {
            report(code, "columns 7-13 do not hold an ICD-10-PCS code (digits and letters but I and O); skipped");
            continue;
        }
        let billable = match header_flag.as_str() {
            "1" => true,
            "0" => false,
            _ => {
                report(header_flag, "column 15 is neither 1 (valid code) nor 0 (header); skipped");
                continue;
            }
        };
        if billable && code.len() != 7 {
            report(code, "a valid ICD-10-PCS code has seven characters; skipped");
            continue;
        }
        if !seen_codes.insert(code.clone()) {
            report(code, "code listed twice; the second row is skipped");
            continue;
        }
        while open_headers.last().is_some_and(|header_idx| !code.starts_with(concepts[*header_idx].code.as_str())) {
            open_headers.pop();
        }
        let display = if long_description.is_empty() { short_description.clone() } else { long_description };
        let mut concept = Concept {
            code: code.clone(),
            display: (!display.is_empty()).then_some(display),
            definition: None,
            designations: Vec::new(),
            properties: Vec::new(),
            extra: None,
            nest_parent: open_headers.last().copied(),
        };
        if !short_description.is_empty() {
            concept.designations.push(Designation {
                language: None,
                use_coding: Some(std::sync::Arc::new(
                    json!({"system": DESIGNATION_USE_SYSTEM, "code": "short", "display": "Short description"}),
                )),
                value: short_description,
                extra: None,
            });
        }
        concept.properties.push(ConceptProperty::new("billable", "valueBoolean", Json::Bool(billable)));
        let labels = tables.map(|tables| tables.labels(&code));
        for (axis_idx, character) in code.chars().enumerate() {
            let (property_code, _) = AXIS_PROPERTIES[axis_idx];
            concept.properties.push(ConceptProperty::new(property_code, "valueCode", Json::String(character.to_string())));
            if let Some(label) = labels.as_ref().and_then(|labels| labels[axis_idx]) {
                concept.properties.push(ConceptProperty::string(&format!("{property_code}-label"), label));
            }
        }
        if let Some(labels) = &labels {
            if labels[..code.len()].iter().any(Option::is_none) {
                report(code.clone(), "the tables XML has no row for this code (or no table); it is kept without the labels it lacks");
            }
        }
        if !billable {
            open_headers.push(concepts.len());
        }
        concepts.push(concept);
    }
    if concepts.is_empty() {
        return Err(LoadError::new(path, "the order file holds no ICD-10-PCS codes"));
    }
    let hierarchical = concepts.iter().any(|concept| concept.nest_parent.is_some());
    let mut code_system = CodeSystem::from_json(&header(version.as_deref(), concepts.len(), hierarchical, tables.is_some()))
        .expect("the ICD-10-PCS header is a valid CodeSystem");
    code_system.concepts = concepts;
    Ok(code_system)
}

/// The header of an ICD-10-PCS CodeSystem, without concepts, as FHIR JSON.
fn header(version: Option<&str>, n_concepts: usize, hierarchical: bool, labelled: bool) -> Json {
    let mut properties = vec![json!({"code": "billable", "type": "boolean",
        "description": "True for a valid seven-character code (header flag 1), false for a table header (flag 0)"})];
    for (position, (property_code, axis_name)) in AXIS_PROPERTIES.iter().enumerate() {
        properties.push(json!({"code": property_code, "type": "code",
            "description": format!("Character {} of the code: the {} axis (as the Medical and Surgical section names it)", position + 1, axis_name.to_lowercase())}));
    }
    if labelled {
        for (position, (property_code, _)) in AXIS_PROPERTIES.iter().enumerate() {
            properties.push(json!({"code": format!("{property_code}-label"), "type": "string",
                "description": format!("The label the tables XML gives character {} in this code's table and row", position + 1)}));
        }
    }
    let mut resource = json!({
        "resourceType": "CodeSystem",
        "url": ICD10PCS_URL,
        "identifier": [{"system": "urn:ietf:rfc:3986", "value": format!("urn:oid:{ICD10PCS_OID}")}],
        "name": "ICD10PCS",
        "title": "International Classification of Diseases, Tenth Revision, Procedure Coding System (ICD-10-PCS)",
        "status": "active",
        "publisher": "Centers for Medicare & Medicaid Services (CMS)",
        "caseSensitive": true,
        "content": "complete",
        "count": n_concepts,
        "property": properties,
    });
    if let Some(version) = version {
        resource["version"] = json!(version);
    }
    // In force for its fiscal year, or from 1 April for an April update.
    if let Some(period) = EffectivePeriod::of_icd10_version(version) {
        resource["extension"] = json!([period.to_extension()]);
    }
    if hierarchical {
        resource["hierarchyMeaning"] = json!("is-a");
    }
    resource
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemorySource;
    use model::terminology::PropertyValue;
    use std::fmt::Write as _;
    use std::path::PathBuf;

    const ORDER_FIXTURE: &[u8] = include_bytes!("../test_data/icd10pcs/icd10pcs_order_2026.txt");
    const TABLES_FIXTURE: &[u8] = include_bytes!("../test_data/icd10pcs/icd10pcs_tables_2026.xml");

    /// One line per concept, indented by depth: code, display, short designation, properties.
    fn dump(code_system: &CodeSystem) -> String {
        let mut depths: Vec<usize> = Vec::new();
        let mut out = String::new();
        for concept in &code_system.concepts {
            let depth = concept.nest_parent.map_or(0, |parent| depths[parent] + 1);
            depths.push(depth);
            write!(out, "{}{} {:?}", "  ".repeat(depth), concept.code, concept.display.as_deref().unwrap_or_default()).unwrap();
            for designation in &concept.designations {
                write!(out, " short={:?}", designation.value).unwrap();
            }
            for property in &concept.properties {
                match &property.value {
                    PropertyValue::String(text) => write!(out, " {}={:?}", property.code, text.as_str()).unwrap(),
                    _ => write!(out, " {}={}", property.code, property.value_text().unwrap()).unwrap(),
                }
            }
            out.push('\n');
        }
        out
    }

    fn diagnostics_text(loaded: &Loaded) -> Vec<String> {
        loaded.diagnostics.iter().map(ToString::to_string).collect()
    }

    const ORDER_ONLY_DUMP: &str = r#"001 "Central Nervous System and Cranial Nerves, Bypass" short="Central Nervous System and Cranial Nerves, Bypass" billable=false section=0 body-system=0 root-operation=1
  0016070 "Bypass Cerebral Ventricle to Nasopharynx with Autologous Tissue Substitute, Open Approach" short="Bypass Cereb Vent to Nasophar w Autol Sub, Open Approach" billable=true section=0 body-system=0 root-operation=1 body-part=6 approach=0 device=7 qualifier=0
  0016071 "Bypass Cerebral Ventricle to Mastoid Sinus with Autologous Tissue Substitute, Open Approach" short="Bypass Cereb Vent to Mastoid Sinus w Autol Sub, Open" billable=true section=0 body-system=0 root-operation=1 body-part=6 approach=0 device=7 qualifier=1
  00160J0 "Bypass Cerebral Ventricle to Nasopharynx with Synthetic Substitute, Open Approach" short="Bypass Cereb Vent to Nasophar w Synth Sub, Open Approach" billable=true section=0 body-system=0 root-operation=1 body-part=6 approach=0 device=J qualifier=0
  00163J4 "Bypass Cerebral Ventricle to Cutaneous with Synthetic Substitute, Percutaneous Approach" short="Bypass Cereb Vent to Cutan w Synth Sub, Perc Approach" billable=true section=0 body-system=0 root-operation=1 body-part=6 approach=3 device=J qualifier=4
B02 "Imaging, Central Nervous System, Computerized Tomography (CT Scan)" short="Imaging, Central Nervous System, Computerized Tomography" billable=false section=B body-system=0 root-operation=2
  B0200ZZ "Computerized Tomography (CT Scan) of Brain using High Osmolar Contrast" short="CT of Brain using H Osm Contrast" billable=true section=B body-system=0 root-operation=2 body-part=0 approach=0 device=Z qualifier=Z
  B020ZZZ "Computerized Tomography (CT Scan) of Brain" short="CT of Brain" billable=true section=B body-system=0 root-operation=2 body-part=0 approach=Z device=Z qualifier=Z
"#;

    const ORDER_FILE_DIAGNOSTICS: [&str; 4] = [
        "icd10pcs_order_2026.txt:9: columns 7-13 do not hold an ICD-10-PCS code (digits and letters but I and O); skipped (\"0016I70\")",
        "icd10pcs_order_2026.txt:10: a valid ICD-10-PCS code has seven characters; skipped (\"001607\")",
        "icd10pcs_order_2026.txt:11: code listed twice; the second row is skipped (\"0016070\")",
        "icd10pcs_order_2026.txt:12: order file row shorter than 17 characters; skipped (\"00012 0DB\")",
    ];

    #[test]
    fn order_file_alone_gives_codes_under_their_tables_with_axis_properties() {
        let source = MemorySource::new([("icd10pcs_order_2026.txt", ORDER_FIXTURE)]);
        let loaded = load(&source, &LoadOptions::default()).unwrap();
        let code_system = &loaded.code_systems[0];
        assert_eq!(dump(code_system), ORDER_ONLY_DUMP);
        assert_eq!(diagnostics_text(&loaded), ORDER_FILE_DIAGNOSTICS);
        assert_eq!(code_system.url, ICD10PCS_URL);
        assert_eq!(code_system.version.as_deref(), Some("2026"));
        assert_eq!(code_system.hierarchy_meaning.as_deref(), Some("is-a"));
        assert_eq!(code_system.resource["count"], json!(8));
        assert_eq!(code_system.resource["identifier"][0]["value"], json!("urn:oid:2.16.840.1.113883.6.4"));
        assert!(code_system.resource.get("concept").is_none());
        let property_codes: Vec<&str> = code_system.properties.iter().map(|property| property.code.as_str()).collect();
        assert_eq!(
            property_codes,
            ["billable", "section", "body-system", "root-operation", "body-part", "approach", "device", "qualifier"]
        );
        assert_eq!(code_system.properties[3].value_type.as_deref(), Some("code"));
    }

    /// Code and label properties only, for the concepts that have labels.
    fn labels_dump(code_system: &CodeSystem) -> String {
        let mut out = String::new();
        for concept in &code_system.concepts {
            write!(out, "{}", concept.code).unwrap();
            for property in concept.properties.iter().filter(|property| property.code.ends_with("-label")) {
                write!(out, " {}={:?}", property.code.trim_end_matches("-label"), property.value_text().unwrap()).unwrap();
            }
            out.push('\n');
        }
        out
    }

    #[test]
    fn tables_xml_adds_the_label_of_every_axis() {
        let source = MemorySource::new([("icd10pcs_order_2026.txt", ORDER_FIXTURE), ("icd10pcs_tables_2026.xml", TABLES_FIXTURE)]);
        let loaded = load(&source, &LoadOptions::default()).unwrap();
        let code_system = &loaded.code_systems[0];
        assert_eq!(
            labels_dump(code_system),
            r#"001 section="Medical and Surgical" body-system="Central Nervous System and Cranial Nerves" root-operation="Bypass"
0016070 section="Medical and Surgical" body-system="Central Nervous System and Cranial Nerves" root-operation="Bypass" body-part="Cerebral Ventricle" approach="Open" device="Autologous Tissue Substitute" qualifier="Nasopharynx"
0016071 section="Medical and Surgical" body-system="Central Nervous System and Cranial Nerves" root-operation="Bypass" body-part="Cerebral Ventricle" approach="Open" device="Autologous Tissue Substitute" qualifier="Mastoid Sinus"
00160J0 section="Medical and Surgical" body-system="Central Nervous System and Cranial Nerves" root-operation="Bypass" body-part="Cerebral Ventricle" approach="Open" device="Synthetic Substitute" qualifier="Nasopharynx"
00163J4 section="Medical and Surgical" body-system="Central Nervous System and Cranial Nerves" root-operation="Bypass"
B02 section="Imaging" body-system="Central Nervous System" root-operation="Computerized Tomography (CT Scan)"
B0200ZZ section="Imaging" body-system="Central Nervous System" root-operation="Computerized Tomography (CT Scan)" body-part="Brain" approach="High Osmolar" device="None" qualifier="None"
B020ZZZ section="Imaging" body-system="Central Nervous System" root-operation="Computerized Tomography (CT Scan)" body-part="Brain" approach="None" device="None" qualifier="None"
"#
        );
        // The label properties sit right after the axis property they name.
        let concept = &code_system.concepts[1];
        let codes: Vec<&str> = concept.properties.iter().map(|property| property.code.as_str()).take(5).collect();
        assert_eq!(codes, ["billable", "section", "section-label", "body-system", "body-system-label"]);
        assert_eq!(code_system.properties.len(), 15);
        assert_eq!(code_system.properties[14].code, "qualifier-label");
        let mut expected_diagnostics =
            vec!["icd10pcs_tables_2026.xml:91: table does not name one character on axis 3; the table is passed over (\"0D[BT]\")"
                .to_owned()];
        expected_diagnostics.extend(ORDER_FILE_DIAGNOSTICS.iter().map(|text| text.to_string()));
        expected_diagnostics.insert(
            1,
            "icd10pcs_order_2026.txt:5: the tables XML has no row for this code (or no table); it is kept without the labels it lacks (\"00163J4\")".into(),
        );
        assert_eq!(diagnostics_text(&loaded), expected_diagnostics);
    }

    #[test]
    fn version_option_overrides_the_year_of_the_file_name() {
        let source = MemorySource::new([("FY2026/icd10pcs_order_2026.txt", ORDER_FIXTURE)]);
        let options = LoadOptions { version: Some("2026-04".into()) };
        let code_system = load(&source, &options).unwrap().code_systems.remove(0);
        assert_eq!(code_system.version.as_deref(), Some("2026-04"));
        assert_eq!(code_system.resource["version"], json!("2026-04"));
    }

    #[test]
    fn a_release_without_its_order_file_or_with_broken_tables_is_an_error_naming_the_file() {
        let tables_only = MemorySource::new([("icd10pcs_tables_2026.xml", TABLES_FIXTURE)]);
        let error = load(&tables_only, &LoadOptions::default()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "icd10pcs_tables_2026.xml: no ICD-10-PCS order file (icd10pcs_order_*.txt) found; the codes come from it"
        );

        let truncated = &TABLES_FIXTURE[..TABLES_FIXTURE.len() / 2];
        let source = MemorySource::new([("icd10pcs_order_2026.txt", ORDER_FIXTURE), ("icd10pcs_tables_2026.xml", truncated)]);
        let error = load(&source, &LoadOptions::default()).unwrap_err();
        assert_eq!(error.path, "icd10pcs_tables_2026.xml");
        assert!(error.line.is_some(), "{error}");

        let wrong_root = MemorySource::new([
            ("icd10pcs_order_2026.txt", ORDER_FIXTURE),
            ("icd10pcs_tables_2026.xml", b"<?xml version=\"1.0\"?>\n<ICD10CM.tabular>\n</ICD10CM.tabular>\n".as_slice()),
        ]);
        let error = load(&wrong_root, &LoadOptions::default()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "icd10pcs_tables_2026.xml:2: not an ICD-10-PCS tables XML: the root element is not <ICD10PCS.tabular> (\"ICD10CM.tabular\")"
        );

        let not_an_order_file = MemorySource::new([("icd10pcs_order_2026.txt", b"code,description\r\n0016070,Bypass\r\n".as_slice())]);
        let error = load(&not_an_order_file, &LoadOptions::default()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "icd10pcs_order_2026.txt:1: not an ICD-10-PCS order file: columns 1-5 do not hold an order number (\"code,description\")"
        );
    }

    #[test]
    fn detects_order_and_tables_files() {
        for name in ["icd10pcs_order_2026.txt", "2026 Code Tables/icd10pcs_tables_2026.xml", "ICD10PCS_ORDER_2020.TXT"] {
            let source = MemorySource::new([(name, b"".to_vec())]);
            assert_eq!(crate::detect(&source).unwrap(), crate::Format::Icd10pcs, "{name}");
        }
        let source = MemorySource::new([("icd10pcs_definitions_2026.xml", b"".to_vec())]);
        assert_eq!(crate::detect(&source).unwrap(), crate::Format::Fhir);
        assert_eq!(crate::Format::parse("icd10pcs"), Some(crate::Format::Icd10pcs));
        assert!(crate::Format::NAMES.contains(&"icd10pcs"));
    }

    /// Writes the real CSV (`"code","long description"`, billable codes only) as an order file in
    /// the CMS layout, with a header row (flag 0) before each table's first code, as CMS does.
    fn order_file_from_real_csv(csv_path: &std::path::Path) -> (Vec<u8>, Vec<String>) {
        let mut reader = csv::ReaderBuilder::new().has_headers(false).from_path(csv_path).unwrap();
        let mut order_file = Vec::new();
        let mut codes = Vec::new();
        let mut order_number = 0;
        let mut last_table = String::new();
        for record in reader.records() {
            let record = record.unwrap();
            let (code, long_description) = (record[0].to_owned(), record[1].to_owned());
            if code[..3] != last_table {
                last_table = code[..3].to_owned();
                order_number += 1;
                let title = format!("Table {last_table}");
                order_file.extend_from_slice(format!("{order_number:05} {last_table:<7} 0 {title:<60} {title}\r\n").as_bytes());
            }
            order_number += 1;
            let short_description: String = long_description.chars().take(60).collect();
            order_file
                .extend_from_slice(format!("{order_number:05} {code:<7} 1 {short_description:<60} {long_description}\r\n").as_bytes());
            codes.push(code);
        }
        (order_file, codes)
    }

    #[test]
    fn real_icd10pcs_codes_load_with_their_axes_from_an_order_file_made_of_the_drg_csv() {
        let Some(folder) = std::env::var_os("FHIRTERM_REAL_DATA").map(PathBuf::from) else {
            eprintln!("skipping real_icd10pcs_codes_load_with_their_axes_from_an_order_file_made_of_the_drg_csv: FHIRTERM_REAL_DATA is not set (run fetch-real-data.sh DIR and set it to DIR)");
            return;
        };
        let (order_file, expected_codes) = order_file_from_real_csv(&folder.join("icd10pcs/drg-icd_10_pcs.csv"));
        assert_eq!(expected_codes.len(), 78_638);
        let release_folder = std::env::temp_dir().join(format!("fhirterm-icd10pcs-{}", std::process::id()));
        std::fs::create_dir_all(&release_folder).unwrap();
        std::fs::write(release_folder.join("icd10pcs_order_2026.txt"), &order_file).unwrap();
        let started = std::time::Instant::now();
        let source = crate::open_paths(std::slice::from_ref(&release_folder)).unwrap();
        let loaded = load(source.as_ref(), &LoadOptions::default());
        let elapsed = started.elapsed();
        std::fs::remove_dir_all(&release_folder).unwrap();
        let loaded = loaded.unwrap();
        assert_eq!(loaded.diagnostics, vec![]);
        let code_system = &loaded.code_systems[0];
        assert_eq!(code_system.version.as_deref(), Some("2026"));
        let codes: Vec<&str> = code_system
            .concepts
            .iter()
            .filter(|concept| concept.property_text("billable").as_deref() == Some("true"))
            .map(|concept| concept.code.as_str())
            .collect();
        assert_eq!(codes, expected_codes);
        let n_tables = code_system.concepts.len() - codes.len();
        for concept in code_system.concepts.iter().filter(|concept| concept.code.len() == 7) {
            let parent = &code_system.concepts[concept.nest_parent.expect("every code sits under its table")];
            assert_eq!(parent.code, concept.code[..3], "{}", concept.code);
            let axes: Vec<(String, String)> = concept
                .properties
                .iter()
                .filter(|property| property.code != "billable")
                .map(|property| (property.code.to_string(), property.value_text().unwrap()))
                .collect();
            let expected_axes: Vec<(String, String)> = AXIS_PROPERTIES
                .iter()
                .zip(concept.code.chars())
                .map(|((property_code, _), character)| (property_code.to_string(), character.to_string()))
                .collect();
            assert_eq!(axes, expected_axes);
            assert!(concept.display.as_deref().is_some_and(|display| !display.is_empty()), "{}", concept.code);
        }
        let n_excisions =
            code_system.concepts.iter().filter(|concept| concept.property_text("root-operation").as_deref() == Some("B")).count();
        eprintln!(
            "ICD-10-PCS (drg CSV as an order file): {} codes in {n_tables} tables, {n_excisions} concepts with root-operation B, loaded in {elapsed:?}",
            codes.len()
        );
    }
}
