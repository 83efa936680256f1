//! The terminology the FHIR R4 specification defines itself (administrative-gender,
//! publication-status, …), compiled into the binary so every server knows it without a load.
//!
//! The file is an extract of the hl7.fhir.r4.examples 4.0.1 package made by
//! `scripts/extract-fhir-core`: complete CodeSystems and all ValueSets under `http://hl7.org/fhir/`.
//!
//! Beside it are the tables behind the grammar code systems, made by `scripts/extract-grammar-data`:
//! `language-subtags.tsv.gz` (the IANA Language Subtag Registry, from the npm package
//! `language-subtag-registry`, and HL7's common languages) and `mime-types.txt.gz` (the media
//! types of the npm package `mime-db`), and `iso-3166.tsv.gz` (ISO 3166-1 country codes and
//! names, from the npm package `iso-3166-1`).

use crate::{LoadError, LoadOptions, Loaded, MemorySource};
use std::io::Read;

/// Where the compiled-in content came from, for logs and the README.
pub const FHIR_R4_CORE_SOURCE: &str = "hl7.fhir.r4.examples#4.0.1 (crates/loaders/builtin/fhir-r4-core-terminology.json.gz)";

const FHIR_R4_CORE: &[u8] = include_bytes!("../builtin/fhir-r4-core-terminology.json.gz");

/// The FHIR R4 core code systems and value sets, read from the compiled-in extract.
pub fn fhir_r4_core() -> Result<Loaded, LoadError> {
    let name = "fhir-r4-core-terminology.json";
    let mut json = Vec::new();
    flate2::read::GzDecoder::new(FHIR_R4_CORE)
        .read_to_end(&mut json)
        .map_err(|error| LoadError::new(format!("{name}.gz"), format!("cannot decompress the compiled-in content: {error}")))?;
    let loaded = crate::fhir::load(&MemorySource::new([(name, json)]), &LoadOptions::default())?;
    if let Some(diagnostic) = loaded.diagnostics.first() {
        return Err(LoadError::new(diagnostic.path.clone(), diagnostic.message.clone()));
    }
    Ok(loaded)
}

const LANGUAGE_SUBTAGS: &[u8] = include_bytes!("../builtin/language-subtags.tsv.gz");
const MIME_TYPES: &[u8] = include_bytes!("../builtin/mime-types.txt.gz");

fn decompressed_text(name: &str, compressed: &[u8]) -> Result<String, LoadError> {
    let mut text = String::new();
    flate2::read::GzDecoder::new(compressed)
        .read_to_string(&mut text)
        .map_err(|error| LoadError::new(format!("{name}.gz"), format!("cannot decompress the compiled-in content: {error}")))?;
    Ok(text)
}

/// One record of the IANA Language Subtag Registry.
#[derive(Clone, Debug, PartialEq)]
pub struct LanguageSubtagRecord {
    /// `language`, `extlang`, `script`, `region`, `variant` or `grandfathered`.
    pub kind: String,
    pub subtag: String,
    /// The first description the registry gives.
    pub description: String,
    pub deprecated: bool,
}

/// The language subtag registry with HL7's common languages.
#[derive(Clone, Debug, Default)]
pub struct LanguageSubtagTable {
    /// The registry's `File-Date`.
    pub file_date: String,
    /// The value set the common languages come from, as `url|version`.
    pub common_source: String,
    pub records: Vec<LanguageSubtagRecord>,
    pub common: Vec<String>,
}

/// The compiled-in language subtag registry.
pub fn language_subtags() -> Result<LanguageSubtagTable, LoadError> {
    let name = "language-subtags.tsv";
    let text = decompressed_text(name, LANGUAGE_SUBTAGS)?;
    let mut table = LanguageSubtagTable::default();
    for (line_idx, line) in text.lines().enumerate() {
        let fields: Vec<&str> = line.split('\t').collect();
        let bad_line = || LoadError::new(format!("{name}:{}", line_idx + 1), format!("unexpected line '{line}'"));
        match fields.as_slice() {
            ["#file-date", date] => table.file_date = (*date).to_owned(),
            ["#common-source", source] => table.common_source = (*source).to_owned(),
            [fact, _] if fact.starts_with('#') => {}
            ["common", code] => table.common.push((*code).to_owned()),
            [kind, subtag, description, deprecated] => table.records.push(LanguageSubtagRecord {
                kind: (*kind).to_owned(),
                subtag: (*subtag).to_owned(),
                description: (*description).to_owned(),
                deprecated: match *deprecated {
                    "1" => true,
                    "0" => false,
                    _ => return Err(bad_line()),
                },
            }),
            [""] => {}
            _ => return Err(bad_line()),
        }
    }
    Ok(table)
}

/// The media types mime-db knows.
#[derive(Clone, Debug, Default)]
pub struct MediaTypeTable {
    /// The package they come from, as `name@version`.
    pub source: String,
    pub media_types: Vec<String>,
}

/// The compiled-in list of media types.
pub fn media_types() -> Result<MediaTypeTable, LoadError> {
    let text = decompressed_text("mime-types.txt", MIME_TYPES)?;
    let mut table = MediaTypeTable::default();
    for line in text.lines().filter(|line| !line.is_empty()) {
        match line.strip_prefix("#source\t") {
            Some(source) => table.source = source.to_owned(),
            None if line.starts_with('#') => {}
            None => table.media_types.push(line.to_owned()),
        }
    }
    Ok(table)
}

const ISO_3166: &[u8] = include_bytes!("../builtin/iso-3166.tsv.gz");

/// The version the ISO 3166 code system carries: the edition label tx.fhir.org and HL7's tests
/// give `urn:iso:std:iso:3166`, so that codings naming it match across servers.
pub const ISO_3166_VERSION: &str = "2018";

/// The display ISO gives the codes it leaves to users.
pub const USER_ASSIGNED: &str = "User-assigned";

/// ISO 3166-1 (`urn:iso:std:iso:3166`) as a complete code system: every country by its alpha-2,
/// alpha-3 and numeric code, and the alpha-2 codes ISO leaves to users (AA, QM to QZ, XA to XZ
/// and ZZ), which carry the property `user-assigned`.
pub fn iso_3166() -> Result<model::terminology::CodeSystem, LoadError> {
    let name = "iso-3166.tsv";
    let text = decompressed_text(name, ISO_3166)?;
    let mut concepts: Vec<(String, String, bool)> = Vec::new();
    for (line_idx, line) in text.lines().enumerate().filter(|(_, line)| !line.is_empty() && !line.starts_with('#')) {
        let [alpha2, alpha3, numeric, country] = line.split('\t').collect::<Vec<_>>()[..] else {
            return Err(LoadError::new(format!("{name}:{}", line_idx + 1), format!("expected four fields in '{line}'")));
        };
        for code in [alpha2, alpha3, numeric] {
            concepts.push((code.to_owned(), country.to_owned(), false));
        }
    }
    let mut user_assigned: Vec<String> = vec!["AA".to_owned(), "ZZ".to_owned()];
    user_assigned.extend(('M'..='Z').map(|second| format!("Q{second}")));
    user_assigned.extend(('A'..='Z').map(|second| format!("X{second}")));
    for code in user_assigned {
        concepts.push((code, USER_ASSIGNED.to_owned(), true));
    }
    concepts.sort();
    let concept_json: Vec<serde_json::Value> = concepts
        .into_iter()
        .map(|(code, display, user_assigned)| {
            let mut concept = serde_json::json!({"code": code, "display": display});
            if user_assigned {
                concept["property"] = serde_json::json!([{"code": "user-assigned", "valueBoolean": true}]);
            }
            concept
        })
        .collect();
    let resource = serde_json::json!({
        "resourceType": "CodeSystem",
        "id": "iso3166",
        "url": "urn:iso:std:iso:3166",
        "version": ISO_3166_VERSION,
        "name": "ISO3166Part1",
        "title": "ISO 3166 Part 1: Codes for the representation of names of countries",
        "status": "active",
        "content": "complete",
        "caseSensitive": true,
        "language": "en",
        "property": [{"code": "user-assigned", "type": "boolean", "description": "A code ISO leaves for users to assign; its display is set by a supplement"}],
        "concept": concept_json,
    });
    model::terminology::CodeSystem::from_json(&resource).map_err(|error| LoadError::new(name, error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_the_core_code_systems_and_value_sets() {
        let loaded = fhir_r4_core().unwrap();
        assert_eq!(loaded.code_systems.len(), 262);
        assert_eq!(loaded.resources.len(), 672);
        let gender = loaded.code_systems.iter().find(|code_system| code_system.url == "http://hl7.org/fhir/administrative-gender").unwrap();
        assert_eq!(gender.version.as_deref(), Some("4.0.1"));
        let codes: Vec<&str> = gender.concepts.iter().map(|concept| concept.code.as_str()).collect();
        assert_eq!(codes, ["male", "female", "other", "unknown"]);
    }

    #[test]
    fn holds_the_language_subtag_registry_and_the_common_languages() {
        let table = language_subtags().unwrap();
        assert_eq!(table.file_date, "2025-08-25");
        assert_eq!(table.common_source, "http://terminology.hl7.org/ValueSet/Languages|1.0.0");
        assert_eq!(table.common.len(), 485);
        let english = table.records.iter().find(|record| record.kind == "language" && record.subtag == "en").unwrap();
        assert_eq!(english.description, "English");
        assert!(table
            .records
            .iter()
            .any(|record| record.kind == "region" && record.subtag == "US" && record.description == "United States"));
    }

    #[test]
    fn holds_iso_3166_with_the_user_assigned_codes() {
        let code_system = iso_3166().unwrap();
        let display =
            |code: &str| code_system.concepts.iter().find(|concept| concept.code == code).and_then(|concept| concept.display.clone());
        assert_eq!(display("US").as_deref(), Some("United States of America"));
        assert_eq!(display("USA").as_deref(), Some("United States of America"));
        assert_eq!(display("840").as_deref(), Some("United States of America"));
        assert_eq!(display("XY").as_deref(), Some(USER_ASSIGNED));
        assert_eq!(code_system.concepts.len(), 249 * 3 + 42);
    }

    #[test]
    fn holds_the_media_types() {
        let table = media_types().unwrap();
        assert_eq!(table.source, "mime-db@1.54.0");
        assert!(table.media_types.iter().any(|media_type| media_type == "application/pdf"));
        assert!(table.media_types.len() > 2000);
    }
}
