//! Billing codes from an EHR's CSV export (`*.csv`, comma-separated, a header row naming the
//! columns `code_type,code,description,category`; columns are found by header name).
//!
//! `code_type` picks the code system: `cpt` is CPT (`http://www.ama-assn.org/go/cpt`), `icd10` is
//! ICD-10-CM (`http://hl7.org/fhir/sid/icd-10-cm`, codes put in their dotted form: `E119` gives
//! `E11.9`), `hcpcs` is HCPCS Level II. Each system present gives one flat CodeSystem with
//! content `fragment`, since an export holds only the codes a practice bills. `description` is
//! the display and `category`, when not empty, the string property `category`. The version is
//! [`LoadOptions::version`] when given; the file names none.
//!
//! A row with an unknown `code_type`, no code, the wrong number of columns or a code already
//! listed for its system is skipped with a diagnostic.
//!
//! Tests are at the end of this file, with fixtures in `test_data/csv_codes/`.

use crate::hcpcs::{HCPCS_OID, HCPCS_URL};
use crate::icd10cm::{dotted, ICD10CM_OID, ICD10CM_URL};
use crate::{Diagnostic, LoadError, LoadOptions, Loaded, Source};
use model::terminology::{CodeSystem, Concept, ConceptProperty};
use model::Json;
use serde_json::json;
use std::collections::HashSet;
use std::io::Read;

pub const CPT_URL: &str = "http://www.ama-assn.org/go/cpt";
pub const CPT_OID: &str = "2.16.840.1.113883.6.12";

const REQUIRED_COLUMNS: [&str; 3] = ["code_type", "code", "description"];

/// The systems a `code_type` names: (code_type, url, OID, name, title).
const SYSTEMS: [(&str, &str, &str, &str, &str); 3] = [
    ("cpt", CPT_URL, CPT_OID, "CPT", "Current Procedural Terminology (CPT)"),
    (
        "icd10",
        ICD10CM_URL,
        ICD10CM_OID,
        "ICD10CM",
        "International Classification of Diseases, Tenth Revision, Clinical Modification (ICD-10-CM)",
    ),
    ("hcpcs", HCPCS_URL, HCPCS_OID, "HCPCS", "Healthcare Common Procedure Coding System (HCPCS) Level II"),
];

/// True for a `.csv` file whose header row has the billing export's columns.
pub fn is_billing_csv(source: &dyn Source, name: &str) -> bool {
    if !name.to_ascii_lowercase().ends_with(".csv") {
        return false;
    }
    let Ok(reader) = source.open(name) else {
        return false;
    };
    let mut start = Vec::new();
    if reader.take(4096).read_to_end(&mut start).is_err() {
        return false;
    }
    let text = String::from_utf8_lossy(&start);
    let header_row = text.trim_start_matches('\u{feff}').lines().next().unwrap_or("");
    let columns: Vec<String> = header_row.split(',').map(|column| column.trim().trim_matches('"').to_ascii_lowercase()).collect();
    REQUIRED_COLUMNS.iter().all(|required| columns.iter().any(|column| column == required))
}

/// Loads every billing CSV in the source.
pub fn load(source: &dyn Source, options: &LoadOptions) -> Result<Loaded, LoadError> {
    let names: Vec<String> = source.names().into_iter().filter(|name| name.to_ascii_lowercase().ends_with(".csv")).collect();
    if names.is_empty() {
        return Err(LoadError::new(source.names().first().cloned().unwrap_or_default(), "no .csv file found"));
    }
    let mut loaded = Loaded::default();
    // Concepts per system, in the order of SYSTEMS.
    let mut concepts_by_system: Vec<Vec<Concept>> = vec![Vec::new(); SYSTEMS.len()];
    let mut seen_codes: Vec<HashSet<String>> = vec![HashSet::new(); SYSTEMS.len()];
    for name in &names {
        let bytes = source.read_bytes(name)?;
        let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(&bytes);
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
        let headers = reader.headers().map_err(|error| LoadError::new(name, format!("unreadable header row: {error}")).at_line(1))?.clone();
        let column_of = |wanted: &str| headers.iter().position(|column| column.trim().eq_ignore_ascii_case(wanted));
        let (Some(code_type_column), Some(code_column), Some(description_column)) =
            (column_of("code_type"), column_of("code"), column_of("description"))
        else {
            return Err(LoadError::new(name, "the header row lacks code_type, code or description")
                .at_line(1)
                .with_value(headers.iter().collect::<Vec<_>>().join(",")));
        };
        let category_column = column_of("category");
        // The line a row starts on, counted here: the csv crate's own line numbers run one
        // short after CRLF line ends.
        let line_of = |position: Option<&csv::Position>| {
            position.map(|position| {
                let mut offset = (position.byte() as usize).min(bytes.len());
                // After a CRLF the position points at the LF, before the row itself.
                while bytes.get(offset).is_some_and(|byte| matches!(byte, b'\r' | b'\n')) {
                    offset += 1;
                }
                1 + bytes[..offset].iter().filter(|byte| **byte == b'\n').count() as u64
            })
        };
        for record in reader.records() {
            let record = match record {
                Ok(record) => record,
                Err(error) => {
                    loaded.diagnostics.push(Diagnostic {
                        path: name.clone(),
                        line: line_of(error.position()),
                        value: String::new(),
                        message: format!("unreadable row: {error}; skipped"),
                    });
                    continue;
                }
            };
            let line = line_of(record.position());
            let row_text = record.iter().collect::<Vec<_>>().join(",");
            let mut report = |value: String, message: &str| {
                loaded.diagnostics.push(Diagnostic { path: name.clone(), line, value, message: message.to_owned() })
            };
            if record.len() != headers.len() {
                report(row_text, &format!("row has {} columns where the header has {}; skipped", record.len(), headers.len()));
                continue;
            }
            let code_type = record[code_type_column].trim().to_ascii_lowercase();
            let Some(system_idx) = SYSTEMS.iter().position(|system| system.0 == code_type) else {
                report(record[code_type_column].to_owned(), "code_type is not cpt, icd10 or hcpcs; skipped");
                continue;
            };
            let mut code = record[code_column].trim().to_owned();
            if code.is_empty() {
                report(row_text, "row without a code; skipped");
                continue;
            }
            if code_type == "icd10" {
                code = dotted(&code.to_ascii_uppercase());
            }
            if !seen_codes[system_idx].insert(code.clone()) {
                report(code, "code listed twice for its code_type; the second row is skipped");
                continue;
            }
            let description = record[description_column].trim();
            let category = category_column.map(|column| record[column].trim()).unwrap_or_default();
            concepts_by_system[system_idx].push(Concept {
                code,
                display: (!description.is_empty()).then(|| description.to_owned()),
                definition: None,
                designations: Vec::new(),
                properties: if category.is_empty() {
                    Vec::new()
                } else {
                    vec![ConceptProperty {
                        code: "category".into(),
                        value_key: "valueString".into(),
                        value: Json::String(category.to_owned()),
                        extra: None,
                    }]
                },
                extra: None,
                nest_parent: None,
            });
        }
    }
    for (system_idx, concepts) in concepts_by_system.into_iter().enumerate() {
        if concepts.is_empty() {
            continue;
        }
        let (_, url, oid, system_name, title) = SYSTEMS[system_idx];
        let mut resource = json!({
            "resourceType": "CodeSystem",
            "url": url,
            "identifier": [{"system": "urn:ietf:rfc:3986", "value": format!("urn:oid:{oid}")}],
            "name": system_name,
            "title": title,
            "status": "active",
            "caseSensitive": true,
            "content": "fragment",
            "count": concepts.len(),
            "property": [{"code": "category", "type": "string", "description": "The category the billing export gives the code"}],
        });
        if let Some(version) = &options.version {
            resource["version"] = json!(version);
        }
        let mut code_system = CodeSystem::from_json(&resource).expect("the billing CSV header is a valid CodeSystem");
        code_system.concepts = concepts;
        loaded.code_systems.push(code_system);
    }
    if loaded.code_systems.is_empty() {
        return Err(LoadError::new(names[0].as_str(), "no usable rows: every row was skipped"));
    }
    Ok(loaded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemorySource;

    const BILLING_FIXTURE: &[u8] = include_bytes!("../test_data/csv_codes/billing_codes.csv");

    #[test]
    fn one_fragment_per_system_and_bad_rows_reported() {
        let source = MemorySource::new([("billing_codes.csv", BILLING_FIXTURE)]);
        assert_eq!(crate::detect(&source).unwrap(), crate::Format::Csv);
        let loaded = load(&source, &LoadOptions::default()).unwrap();
        let summary: Vec<String> = loaded
            .code_systems
            .iter()
            .map(|code_system| {
                let concepts: Vec<String> = code_system
                    .concepts
                    .iter()
                    .map(|concept| {
                        format!(
                            "{} {:?} {:?}",
                            concept.code,
                            concept.display.as_deref().unwrap_or_default(),
                            concept.property_text("category").unwrap_or_default()
                        )
                    })
                    .collect();
                format!("{} {}: {}", code_system.url, code_system.content, concepts.join("; "))
            })
            .collect();
        assert_eq!(
            summary,
            [
                r#"http://www.ama-assn.org/go/cpt fragment: 99999 "Invented office visit, level 1" "E/M"; 99998 "Invented office visit, level 2, with a comma" "E/M""#,
                r#"http://hl7.org/fhir/sid/icd-10-cm fragment: E11.9 "Type 2 diabetes mellitus without complications" "Endocrine"; I10 "Essential (primary) hypertension" """#,
                r#"http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets fragment: G0008 "Administration of influenza virus vaccine" "Immunization""#,
            ]
        );
        let diagnostics: Vec<String> = loaded.diagnostics.iter().map(ToString::to_string).collect();
        assert_eq!(
            diagnostics,
            [
                "billing_codes.csv:7: code_type is not cpt, icd10 or hcpcs; skipped (\"loinc\")",
                "billing_codes.csv:8: row without a code; skipped (\"cpt,,Nothing,E/M\")",
                "billing_codes.csv:9: code listed twice for its code_type; the second row is skipped (\"E11.9\")",
                "billing_codes.csv:10: row has 2 columns where the header has 4; skipped (\"hcpcs,G0009\")",
            ]
        );
        let with_lf_line_ends = String::from_utf8(BILLING_FIXTURE.to_vec()).unwrap().replace("\r\n", "\n");
        let source = MemorySource::new([("billing_codes.csv", with_lf_line_ends)]);
        let lf_diagnostics: Vec<String> =
            load(&source, &LoadOptions::default()).unwrap().diagnostics.iter().map(ToString::to_string).collect();
        assert_eq!(lf_diagnostics, diagnostics);
        let icd = &loaded.code_systems[1];
        assert_eq!(icd.resource["identifier"][0]["value"], json!("urn:oid:2.16.840.1.113883.6.90"));
        assert_eq!(icd.resource["count"], json!(2));
        assert_eq!(icd.version, None);
    }

    #[test]
    fn header_without_the_columns_is_an_error() {
        let source = MemorySource::new([("billing_codes.csv", b"system,value\ncpt,99999\n".to_vec())]);
        let error = load(&source, &LoadOptions::default()).unwrap_err();
        assert_eq!(error.to_string(), "billing_codes.csv:1: the header row lacks code_type, code or description (\"system,value\")");
        assert!(!is_billing_csv(&source, "billing_codes.csv"));
    }
}
