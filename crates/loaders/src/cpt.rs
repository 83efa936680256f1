//! CPT from the AMA's licensed data files, as a licensee receives them (the layout of the AMA
//! "CPT data files" of recent years). The project ships no CPT content; the licensee supplies
//! the files, and the fixtures hold invented codes and descriptors.
//!
//! # The files
//! Names are matched without regard to case or folder:
//! - `LONGULT.txt` (required): long descriptors in upper and lower case, one code a line: the
//!   code, a tab, the descriptor. Older files put a space instead of the tab; both are read.
//! - `MEDU.txt` and `SHORTU.txt` (optional): medium and short descriptors, upper case, same layout.
//! - `ConsumerDescriptor.txt` and `ClinicianDescriptor.txt` (optional): tab-separated with a
//!   header row (`Concept Id`, `CPT Code`, `Consumer Friendly Descriptor`; `Concept Id`,
//!   `CPT Code`, `Clinician Descriptor Id`, `Clinician Descriptor`); columns are found by their
//!   header names. A code may have several clinician descriptors.
//!
//! The files are UTF-8; a line that is not is read as ISO-8859-1 (Windows exports).
//!
//! # What it gives
//! One flat CodeSystem. The long descriptor is the display; the medium, short, consumer and
//! clinician descriptors are designations with the uses `medium`, `short`, `consumer` and
//! `clinician` of `http://fhirterm.dev/designation-use`. The property `category` (`valueCode`)
//! is read from the code's shape: five digits `I`, four digits and `F` `II`, and `T` `III`, and
//! `U` `PLA` (proprietary laboratory analyses), and `M` `MAAA`; a code of another shape has none.
//! The modifiers and the AMA's other files (`MODUL.txt`, the PLA and MAAA spreadsheets, the
//! change files) are not read.
//!
//! The version is the first year found in the long descriptor file's path, from the file name up
//! through its folders (`2026 CPT Data Files/LONGULT.txt` gives `2026`), unless
//! [`LoadOptions::version`] overrides it.
//!
//! A line whose code is not five letters or digits, a code given twice, and a descriptor of a
//! code the long descriptor file does not have are skipped with a diagnostic.
//!
//! Tests are at the end of this file; fixtures in `test_data/cpt/`.

use crate::icd10cm::{year_in_file_name, DESIGNATION_USE_SYSTEM};
use crate::text::text_lines;
use crate::{Diagnostic, LoadError, LoadOptions, Loaded, Source};
use model::terminology::{CodeSystem, Concept, ConceptProperty, Designation, EffectivePeriod};
use model::Json;
use serde_json::json;
use std::collections::HashMap;

pub const CPT_URL: &str = "http://www.ama-assn.org/go/cpt";
pub const CPT_OID: &str = "2.16.840.1.113883.6.12";

const LONG_DESCRIPTOR_FILE: &str = "longult.txt";

/// The descriptor files beside the long one: (file name in lower case, designation use, its display).
const PLAIN_DESCRIPTOR_FILES: [(&str, &str, &str); 2] =
    [("medu.txt", "medium", "Medium descriptor"), ("shortu.txt", "short", "Short descriptor")];

/// The descriptor files with a header row: (file name in lower case, use, display, descriptor column).
const HEADED_DESCRIPTOR_FILES: [(&str, &str, &str, &str); 2] = [
    ("consumerdescriptor.txt", "consumer", "Consumer friendly descriptor", "Consumer Friendly Descriptor"),
    ("cliniciandescriptor.txt", "clinician", "Clinician descriptor", "Clinician Descriptor"),
];

fn base_name_lowercase(name: &str) -> String {
    name.rsplit('/').next().unwrap_or(name).to_ascii_lowercase()
}

/// True for the name of one of the AMA descriptor files this module reads.
pub fn is_cpt_file(name: &str) -> bool {
    let base_name = base_name_lowercase(name);
    base_name == LONG_DESCRIPTOR_FILE
        || PLAIN_DESCRIPTOR_FILES.iter().any(|(file, _, _)| base_name == *file)
        || HEADED_DESCRIPTOR_FILES.iter().any(|(file, _, _, _)| base_name == *file)
}

/// The category a CPT code's shape says it is in, if any.
pub fn category_of(code: &str) -> Option<&'static str> {
    let bytes = code.as_bytes();
    if bytes.len() != 5 || !bytes[..4].iter().all(u8::is_ascii_digit) {
        return None;
    }
    match bytes[4] {
        b'0'..=b'9' => Some("I"),
        b'F' => Some("II"),
        b'T' => Some("III"),
        b'U' => Some("PLA"),
        b'M' => Some("MAAA"),
        _ => None,
    }
}

fn is_cpt_code_shape(code: &str) -> bool {
    code.len() == 5 && code.bytes().all(|byte| byte.is_ascii_alphanumeric())
}

/// `code<TAB>descriptor`, or `code descriptor` in the older fixed layout.
fn split_code_line(line: &str) -> (&str, &str) {
    match line.split_once('\t') {
        Some((code, descriptor)) => (code.trim(), descriptor.trim()),
        None => match line.split_once(' ') {
            Some((code, descriptor)) if is_cpt_code_shape(code) => (code, descriptor.trim()),
            _ => (line.trim(), ""),
        },
    }
}

fn designation(use_code: &str, use_display: &str, value: &str) -> Designation {
    Designation {
        language: None,
        use_coding: Some(std::sync::Arc::new(json!({"system": DESIGNATION_USE_SYSTEM, "code": use_code, "display": use_display}))),
        value: value.to_owned(),
        extra: None,
    }
}

/// Loads one CPT release from the AMA descriptor files.
pub fn load(source: &dyn Source, options: &LoadOptions) -> Result<Loaded, LoadError> {
    let names = source.names();
    let files_named = |file: &str| -> Vec<&String> { names.iter().filter(|name| base_name_lowercase(name) == file).collect() };
    let one_file_named = |file: &str| -> Result<Option<&String>, LoadError> {
        match files_named(file).as_slice() {
            [] => Ok(None),
            [name] => Ok(Some(*name)),
            several => Err(LoadError::new(several[1].as_str(), "more than one CPT file of this name; load one release at a time")
                .with_value(several[0].as_str())),
        }
    };
    let Some(long_name) = one_file_named(LONG_DESCRIPTOR_FILE)? else {
        return Err(LoadError::new(
            names.first().cloned().unwrap_or_default(),
            "no CPT long descriptor file (LONGULT.txt) found; the codes come from it",
        ));
    };
    let mut loaded = Loaded::default();
    let version = options.version.clone().or_else(|| long_name.split('/').rev().find_map(year_in_file_name));
    if version.is_none() {
        loaded.diagnostics.push(Diagnostic {
            path: long_name.clone(),
            line: None,
            value: long_name.clone(),
            message: "no year in the file or folder names; the code system has no version (name one with the version option)".into(),
        });
    }

    let mut concepts: Vec<Concept> = Vec::new();
    let mut concept_idx_by_code: HashMap<String, usize> = HashMap::new();
    let long_bytes = source.read_bytes(long_name)?;
    for (line_number, line) in text_lines(&long_bytes) {
        if line.trim().is_empty() {
            continue;
        }
        let mut report = |value: &str, message: &str| {
            loaded.diagnostics.push(Diagnostic {
                path: long_name.clone(),
                line: Some(line_number),
                value: value.to_owned(),
                message: message.to_owned(),
            })
        };
        let (code, descriptor) = split_code_line(&line);
        if !is_cpt_code_shape(code) {
            report(&line, "the line does not start with a five-character CPT code and a tab; skipped");
            continue;
        }
        if concept_idx_by_code.contains_key(code) {
            report(code, "code listed twice; the second line is skipped");
            continue;
        }
        concept_idx_by_code.insert(code.to_owned(), concepts.len());
        let mut properties = Vec::new();
        if let Some(category) = category_of(code) {
            properties.push(ConceptProperty::new("category", "valueCode", json!(category)));
        }
        concepts.push(Concept {
            code: code.to_owned(),
            display: (!descriptor.is_empty()).then(|| descriptor.to_owned()),
            definition: None,
            designations: Vec::new(),
            properties,
            extra: None,
            nest_parent: None,
        });
    }
    if concepts.is_empty() {
        return Err(LoadError::new(long_name.as_str(), "the long descriptor file holds no CPT codes"));
    }

    for (file, use_code, use_display) in PLAIN_DESCRIPTOR_FILES {
        let Some(name) = one_file_named(file)? else {
            continue;
        };
        let bytes = source.read_bytes(name)?;
        for (line_number, line) in text_lines(&bytes) {
            if line.trim().is_empty() {
                continue;
            }
            let (code, descriptor) = split_code_line(&line);
            let problem = if !is_cpt_code_shape(code) {
                Some((line.as_str(), "the line does not start with a five-character CPT code and a tab; skipped"))
            } else if !concept_idx_by_code.contains_key(code) {
                Some((code, "code not in the long descriptor file (LONGULT.txt); skipped"))
            } else {
                None
            };
            if let Some((value, message)) = problem {
                loaded.diagnostics.push(Diagnostic {
                    path: name.clone(),
                    line: Some(line_number),
                    value: value.to_owned(),
                    message: message.into(),
                });
                continue;
            }
            if !descriptor.is_empty() {
                concepts[concept_idx_by_code[code]].designations.push(designation(use_code, use_display, descriptor));
            }
        }
    }

    for (file, use_code, use_display, descriptor_column) in HEADED_DESCRIPTOR_FILES {
        let Some(name) = one_file_named(file)? else {
            continue;
        };
        let bytes = source.read_bytes(name)?;
        let mut lines = text_lines(&bytes);
        let header_row = lines.next().map(|(_, line)| line).unwrap_or_default();
        let columns: Vec<&str> = header_row.split('\t').map(str::trim).collect();
        let column_of = |wanted: &str| columns.iter().position(|column| column.eq_ignore_ascii_case(wanted));
        let (Some(code_column), Some(descriptor_column_idx)) = (column_of("CPT Code"), column_of(descriptor_column)) else {
            return Err(LoadError::new(name.as_str(), format!("the header row has no \"CPT Code\" and \"{descriptor_column}\" columns"))
                .at_line(1)
                .with_value(header_row));
        };
        for (line_number, line) in lines {
            if line.trim().is_empty() {
                continue;
            }
            let fields: Vec<&str> = line.split('\t').map(str::trim).collect();
            let code = fields.get(code_column).copied().unwrap_or_default();
            let descriptor = fields.get(descriptor_column_idx).copied().unwrap_or_default();
            let problem = if fields.len() < columns.len() {
                Some((line.as_str(), format!("{} fields where the header has {}; skipped", fields.len(), columns.len())))
            } else if !concept_idx_by_code.contains_key(code) {
                Some((code, "code not in the long descriptor file (LONGULT.txt); skipped".to_owned()))
            } else {
                None
            };
            if let Some((value, message)) = problem {
                loaded.diagnostics.push(Diagnostic { path: name.clone(), line: Some(line_number), value: value.to_owned(), message });
                continue;
            }
            if !descriptor.is_empty() {
                concepts[concept_idx_by_code[code]].designations.push(designation(use_code, use_display, descriptor));
            }
        }
    }

    let mut code_system = CodeSystem::from_json(&header(version.as_deref(), concepts.len())).expect("the CPT header is a valid CodeSystem");
    code_system.concepts = concepts;
    loaded.code_systems.push(code_system);
    Ok(loaded)
}

fn header(version: Option<&str>, n_concepts: usize) -> Json {
    let mut resource = json!({
        "resourceType": "CodeSystem",
        "url": CPT_URL,
        "identifier": [{"system": "urn:ietf:rfc:3986", "value": format!("urn:oid:{CPT_OID}")}],
        "name": "CPT",
        "title": "Current Procedural Terminology (CPT)",
        "status": "active",
        "publisher": "American Medical Association (AMA)",
        "copyright": "CPT is copyright the American Medical Association; these data come from the licensee's own AMA data files",
        "caseSensitive": true,
        "content": "complete",
        "count": n_concepts,
        "property": [
            {"code": "category", "type": "code",
             "description": "The CPT category the code's shape says: I (five digits), II (…F), III (…T), PLA (…U) or MAAA (…M)"},
        ],
    });
    if let Some(version) = version {
        resource["version"] = json!(version);
    }
    // CPT codes take effect on 1 January of their release year.
    if let Some(period) = EffectivePeriod::of_year_version(version, EffectivePeriod::calendar_year) {
        resource["extension"] = json!([period.to_extension()]);
    }
    resource
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemorySource;
    use std::fmt::Write as _;

    fn fixture_files() -> Vec<(String, Vec<u8>)> {
        let folder = concat!(env!("CARGO_MANIFEST_DIR"), "/test_data/cpt/2026");
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(folder)
            .unwrap()
            .map(|entry| {
                let path = entry.unwrap().path();
                (format!("2026 CPT Data Files/{}", crate::file_name(&path)), std::fs::read(&path).unwrap())
            })
            .collect();
        files.sort();
        files
    }

    fn dump(code_system: &CodeSystem) -> String {
        let mut out = String::new();
        for concept in &code_system.concepts {
            write!(out, "{} {:?}", concept.code, concept.display.as_deref().unwrap_or_default()).unwrap();
            for designation in &concept.designations {
                let use_code = designation.use_coding.as_ref().and_then(|coding| coding["code"].as_str()).unwrap_or_default();
                write!(out, " {use_code}={:?}", designation.value).unwrap();
            }
            for property in &concept.properties {
                write!(out, " {}={}", property.code, property.value_text().unwrap()).unwrap();
            }
            out.push('\n');
        }
        out
    }

    const EXPECTED_DUMP: &str = r#"99990 "Invented office visit for the fixture, with a made-up descriptor of some length" medium="INVENTED OFFICE VISIT FOR THE FIXTURE" short="INVENTED OFFICE VISIT" consumer="Made-up visit with a health care professional" clinician="Made-up office visit for a new patient, first invented variant" clinician="Made-up office visit for a new patient, second invented variant" category=I
99991 "Invented café consultation for the fixture, not a CPT descriptor" medium="INVENTED CONSULTATION FOR THE FIXTURE" short="INVENTED CONSULT" consumer="Made-up talk with a specialist" category=I
9990F "Invented performance measure for the fixture" medium="INVENTED PERFORMANCE MEASURE" short="INVENTED MEASURE" category=II
9990T "Invented emerging technology service for the fixture" short="INVENTED EMERGING TECH" category=III
9990U "Invented laboratory analysis for the fixture" clinician="Made-up laboratory analysis of an invented specimen" category=PLA
0001X "Invented code of no known category for the fixture"
"#;

    const EXPECTED_DIAGNOSTICS: [&str; 4] = [
        "2026 CPT Data Files/LONGULT.txt:7: the line does not start with a five-character CPT code and a tab; skipped (\"9999\\tInvented code one character short\")",
        "2026 CPT Data Files/LONGULT.txt:8: code listed twice; the second line is skipped (\"99990\")",
        "2026 CPT Data Files/LONGULT.txt:9: the line does not start with a five-character CPT code and a tab; skipped (\"no tab and no code here\")",
        "2026 CPT Data Files/SHORTU.txt:5: code not in the long descriptor file (LONGULT.txt); skipped (\"99992\")",
    ];

    #[test]
    fn descriptor_files_give_displays_designations_and_diagnostics() {
        let source = MemorySource { files: fixture_files() };
        let loaded = load(&source, &LoadOptions::default()).unwrap();
        let code_system = &loaded.code_systems[0];
        assert_eq!(dump(code_system), EXPECTED_DUMP);
        let diagnostics: Vec<String> = loaded.diagnostics.iter().map(ToString::to_string).collect();
        assert_eq!(diagnostics, EXPECTED_DIAGNOSTICS);
        assert_eq!(code_system.url, CPT_URL);
        assert_eq!(code_system.version.as_deref(), Some("2026"));
        assert_eq!(code_system.resource["count"], json!(6));
        assert_eq!(code_system.resource["identifier"][0]["value"], json!("urn:oid:2.16.840.1.113883.6.12"));
        assert_eq!(code_system.hierarchy_meaning, None);
    }

    #[test]
    fn long_descriptors_alone_and_the_older_space_layout_load_and_the_version_option_wins() {
        let source = MemorySource::new([(
            "LONGULT.TXT",
            b"99990 Invented descriptor in the fixed layout\r\n99991\tInvented tabbed descriptor\r\n".as_slice(),
        )]);
        let loaded = load(&source, &LoadOptions { version: Some("2026-Q2".into()) }).unwrap();
        assert_eq!(loaded.diagnostics, vec![]);
        assert_eq!(
            dump(&loaded.code_systems[0]),
            "99990 \"Invented descriptor in the fixed layout\" category=I\n99991 \"Invented tabbed descriptor\" category=I\n"
        );
        assert_eq!(loaded.code_systems[0].version.as_deref(), Some("2026-Q2"));

        let unversioned = load(&source, &LoadOptions::default()).unwrap();
        assert_eq!(unversioned.code_systems[0].version, None);
        assert_eq!(unversioned.diagnostics[0].path, "LONGULT.TXT");
    }

    #[test]
    fn missing_long_descriptor_file_or_a_wrong_header_is_an_error_naming_the_file() {
        let files: Vec<(String, Vec<u8>)> = fixture_files().into_iter().filter(|(name, _)| !name.ends_with("LONGULT.txt")).collect();
        let error = load(&MemorySource { files }, &LoadOptions::default()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "2026 CPT Data Files/ClinicianDescriptor.txt: no CPT long descriptor file (LONGULT.txt) found; the codes come from it"
        );

        let mut files = fixture_files();
        let consumer = files.iter_mut().find(|(name, _)| name.ends_with("ConsumerDescriptor.txt")).unwrap();
        consumer.1 = b"Concept Id\tCode\tDescriptor\r\n1000001\t99990\tMade-up visit\r\n".to_vec();
        let error = load(&MemorySource { files }, &LoadOptions::default()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "2026 CPT Data Files/ConsumerDescriptor.txt:1: the header row has no \"CPT Code\" and \"Consumer Friendly Descriptor\" columns (\"Concept Id\\tCode\\tDescriptor\")"
        );

        let empty = MemorySource::new([("LONGULT.txt", b"\r\n".as_slice())]);
        assert_eq!(
            load(&empty, &LoadOptions::default()).unwrap_err().to_string(),
            "LONGULT.txt: the long descriptor file holds no CPT codes"
        );
    }

    #[test]
    fn detects_the_descriptor_files() {
        for name in ["LONGULT.txt", "2026 CPT Data Files/SHORTU.txt", "cpt/ClinicianDescriptor.txt", "MEDU.TXT"] {
            let source = MemorySource::new([(name, b"".to_vec())]);
            assert_eq!(crate::detect(&source).unwrap(), crate::Format::Cpt, "{name}");
        }
        assert_eq!(crate::Format::parse("cpt"), Some(crate::Format::Cpt));
        assert!(crate::Format::NAMES.contains(&"cpt"));
        assert_eq!(category_of("0042T"), Some("III"));
        assert_eq!(category_of("A4206"), None);
    }
}
