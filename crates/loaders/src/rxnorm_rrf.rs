//! RxNorm from the NLM full monthly release in Rich Release Format (RxNorm Technical
//! Documentation, section 12 "RxNorm Files", as of the 2025 releases), as the
//! `RxNorm_full_MMDDYYYY` folder, its zip or the bare `rrf/` files.
//!
//! # The files read
//! Pipe-delimited, UTF-8, no header row, every line ending with `|` (so a line has one more
//! field than columns, the last one empty):
//! - `RXNCONSO.RRF` (required): `RXCUI|LAT|TS|LUI|STT|SUI|ISPREF|RXAUI|SAUI|SCUI|SDUI|SAB|TTY|
//!   CODE|STR|SRL|SUPPRESS|CVF|`;
//! - `RXNREL.RRF`: `RXCUI1|RXAUI1|STYPE1|REL|RXCUI2|RXAUI2|STYPE2|RELA|RUI|SRUI|SAB|SL|RG|DIR|
//!   SUPPRESS|CVF|`;
//! - `RXNSAT.RRF`: `RXCUI|LUI|SUI|RXAUI|STYPE|CODE|ATUI|SATUI|ATN|SAB|ATV|SUPPRESS|CVF|`;
//! - `RXNCUI.RRF` (retired RXCUIs): `cui1|ver_start|ver_end|cardinality|cui2|`.
//!
//! Only rows with `SAB` RXNORM are read: the atoms other sources contribute to an RXCUI (MTHSPL,
//! DRUGBANK, …) belong to those sources.
//!
//! # What it gives
//! One flat CodeSystem `http://www.nlm.nih.gov/research/umls/rxnorm` (RxNorm has no is-a
//! hierarchy, so no `hierarchyMeaning`). Each RXCUI is a concept; every atom of it is a
//! designation (language from `LAT`, ENG → `en`; use `http://fhirterm.dev/designation-use#<TTY>`),
//! and each distinct term type a `tty` property. The display is the first atom of a naming term
//! type (IN, PIN, MIN, SCD, SBD, SCDC, …: anything but the synonyms PSN, SY, TMSY and ET), else
//! PSN, else SY, else TMSY, else any atom; unsuppressed atoms come before suppressed ones. A
//! concept all of whose atoms have `SUPPRESS` O, Y or E is `inactive`.
//!
//! Relationships: RRF states them from the second concept's side. A row
//! `RXCUI1|…|RXCUI2|…|RELA` reads "RXCUI2 RELA RXCUI1": the row
//! `9000001|…|9000003|…|has_ingredient` says that 9000003 (a clinical drug component) has the
//! ingredient 9000001. So each row gives the concept RXCUI2 a property whose code is `RELA` (or
//! `REL` when RELA is empty) and whose `valueCode` is RXCUI1. The release lists both directions
//! (`has_ingredient` and `ingredient_of`), so both concepts get their side.
//!
//! Attributes: each unsuppressed RXNSAT row with SAB RXNORM gives its RXCUI a string property
//! named by `ATN` with the value `ATV` (`NDC`, `RXN_STRENGTH`, …).
//!
//! Retired concepts: an RXCUI of `RXNCUI.RRF` that RXNCONSO no longer lists becomes a concept
//! without display, `inactive` true, and a `remapped_to` property for each RXCUI it was remapped
//! to (`cui2` when it differs from `cui1`).
//!
//! The version is the MMDDYYYY of the release's names (`RxNorm_full_01062025`,
//! `Readme_full_01062025.txt`) unless [`LoadOptions::version`] overrides it.
//!
//! A line with the wrong number of fields, or an attribute or relationship of an RXCUI that
//! RXNCONSO lacks, is skipped with a diagnostic; a release without `RXNCONSO.RRF`, or an RRF file
//! whose first line does not have its columns, is a [`LoadError`].
//!
//! Tests are at the end of this file; fixtures in `test_data/rxnorm_rrf/`.

use crate::icd10cm::DESIGNATION_USE_SYSTEM;
use crate::snomed_rf2::for_each_line;
use crate::{Diagnostic, LoadError, LoadOptions, Loaded, Source};
use model::terminology::{CodeSystem, Concept, ConceptProperty, Designation};
use model::{Json, Name};
use serde_json::json;
use std::collections::{BTreeSet, HashMap};

pub const RXNORM_URL: &str = "http://www.nlm.nih.gov/research/umls/rxnorm";
pub const RXNORM_OID: &str = "2.16.840.1.113883.6.88";

const N_CONSO_COLUMNS: usize = 18;
const N_REL_COLUMNS: usize = 16;
const N_SAT_COLUMNS: usize = 13;
const N_CUI_COLUMNS: usize = 5;

fn base_name(name: &str) -> &str {
    name.rsplit(['/', '!']).next().unwrap_or(name)
}

/// True for `RXNCONSO.RRF`, the file of concepts and names.
pub fn is_rxnconso(name: &str) -> bool {
    base_name(name).eq_ignore_ascii_case("RXNCONSO.RRF")
}

/// The MMDDYYYY of `RxNorm_full_01062025` or `Readme_full_01062025.txt` anywhere in a name.
fn release_date_in_name(name: &str) -> Option<String> {
    name.split(['/', '!']).find_map(|part| {
        let lower = part.to_ascii_lowercase();
        let start = ["rxnorm_full_", "readme_full_"].iter().find_map(|prefix| Some(lower.find(prefix)? + prefix.len()))?;
        let digits = lower.get(start..start + 8)?;
        let is_date = digits.bytes().all(|byte| byte.is_ascii_digit()) && !lower[start + 8..].starts_with(|c: char| c.is_ascii_digit());
        is_date.then(|| digits.to_owned())
    })
}

/// How good an atom's term type is as the display (lower is better).
fn display_rank(tty: &str, suppressed: bool) -> u8 {
    let rank = match tty {
        "PSN" => 1,
        "SY" => 2,
        "TMSY" => 3,
        "ET" => 4,
        _ => 0,
    };
    if suppressed {
        rank + 10
    } else {
        rank
    }
}

/// ISO 639-2 `LAT` as a BCP 47 tag, for the languages UMLS sources use most.
fn language_tag(lat: &str) -> String {
    match lat {
        "ENG" => "en",
        "SPA" => "es",
        "FRE" => "fr",
        "GER" => "de",
        "DUT" => "nl",
        "ITA" => "it",
        "POR" => "pt",
        "JPN" => "ja",
        "CHI" => "zh",
        other => return other.to_ascii_lowercase(),
    }
    .to_owned()
}

fn property(code: &str, value_key: &str, value: Json) -> ConceptProperty {
    ConceptProperty::new(code, value_key, value)
}

struct ConceptState {
    display_rank: u8,
    all_suppressed: bool,
}

/// Streams an RRF file, giving each line's fields (without the empty one after the last `|`).
/// A first line with the wrong number of fields means the file is not what its name says.
fn for_each_rrf_row(
    source: &dyn Source,
    name: &str,
    n_columns: usize,
    layout: &str,
    diagnostics: &mut Vec<Diagnostic>,
    mut each_row: impl FnMut(u64, &[&str], &mut Vec<Diagnostic>),
) -> Result<(), LoadError> {
    for_each_line(source, name, diagnostics, |line_number, line, diagnostics| {
        if line.is_empty() {
            return Ok(());
        }
        let fields: Vec<&str> = line.split('|').collect();
        if fields.len() != n_columns + 1 || !fields[n_columns].is_empty() {
            let message = format!("line has {} fields where {layout} has {n_columns} and a closing |", fields.len() - 1);
            if line_number == 1 {
                return Err(LoadError::new(name, format!("{message}; not an RRF file of this kind")).at_line(1).with_value(line));
            }
            diagnostics.push(Diagnostic {
                path: name.to_owned(),
                line: Some(line_number),
                value: line.to_owned(),
                message: format!("{message}; skipped"),
            });
            return Ok(());
        }
        each_row(line_number, &fields[..n_columns], diagnostics);
        Ok(())
    })
}

/// Loads one RxNorm release.
pub fn load(source: &dyn Source, options: &LoadOptions) -> Result<Loaded, LoadError> {
    let names = source.names();
    let find = |wanted: &str| names.iter().find(|name| base_name(name).eq_ignore_ascii_case(wanted));
    let Some(conso_name) = find("RXNCONSO.RRF") else {
        return Err(LoadError::new(names.first().cloned().unwrap_or_default(), "no RXNCONSO.RRF in this release"));
    };
    let mut loaded = Loaded::default();
    let diagnostics = &mut loaded.diagnostics;
    let mut concepts: Vec<Concept> = Vec::new();
    let mut states: Vec<ConceptState> = Vec::new();
    let mut by_rxcui: HashMap<String, usize> = HashMap::new();

    for_each_rrf_row(source, conso_name, N_CONSO_COLUMNS, "RXNCONSO", diagnostics, |line, fields, diagnostics| {
        let (rxcui, lat, sab, tty, text, suppress) = (fields[0], fields[1], fields[11], fields[12], fields[14], fields[16]);
        if sab != "RXNORM" {
            return;
        }
        if rxcui.is_empty() || !rxcui.bytes().all(|byte| byte.is_ascii_digit()) {
            return diagnostics.push(Diagnostic {
                path: conso_name.clone(),
                line: Some(line),
                value: rxcui.to_owned(),
                message: "RXCUI is not a number; skipped".into(),
            });
        }
        let concept_idx = *by_rxcui.entry(rxcui.to_owned()).or_insert_with(|| {
            concepts.push(Concept {
                code: rxcui.to_owned(),
                display: None,
                definition: None,
                designations: Vec::new(),
                properties: Vec::new(),
                extra: None,
                nest_parent: None,
            });
            states.push(ConceptState { display_rank: u8::MAX, all_suppressed: true });
            concepts.len() - 1
        });
        let suppressed = matches!(suppress, "O" | "Y" | "E");
        let (concept, state) = (&mut concepts[concept_idx], &mut states[concept_idx]);
        state.all_suppressed &= suppressed;
        let rank = display_rank(tty, suppressed);
        if rank < state.display_rank {
            state.display_rank = rank;
            concept.display = Some(text.to_owned());
        }
        if !concept.properties.iter().any(|found| found.code == "tty" && found.value.as_str() == Some(tty)) {
            concept.properties.push(property("tty", "valueCode", json!(tty)));
        }
        concept.designations.push(Designation {
            language: Some(Name::from(language_tag(lat))),
            use_coding: Some(std::sync::Arc::new(json!({"system": DESIGNATION_USE_SYSTEM, "code": tty}))),
            value: text.to_owned(),
            extra: None,
        });
    })?;
    if concepts.is_empty() {
        return Err(LoadError::new(conso_name, "no RXNORM atoms (SAB RXNORM) in RXNCONSO.RRF"));
    }
    for (concept, state) in concepts.iter_mut().zip(&states) {
        if state.all_suppressed {
            concept.properties.insert(0, property("inactive", "valueBoolean", json!(true)));
        }
    }

    let mut relationship_codes: BTreeSet<String> = BTreeSet::new();
    if let Some(rel_name) = find("RXNREL.RRF") {
        for_each_rrf_row(source, rel_name, N_REL_COLUMNS, "RXNREL", diagnostics, |line, fields, diagnostics| {
            let (rxcui1, rel, rxcui2, rela, sab) = (fields[0], fields[3], fields[4], fields[7], fields[10]);
            if sab != "RXNORM" || rxcui1.is_empty() {
                return;
            }
            // RXCUI1 REL/RELA RXCUI2 reads "RXCUI2 RELA RXCUI1": the property goes on RXCUI2.
            let Some(&concept_idx) = by_rxcui.get(rxcui2) else {
                return diagnostics.push(Diagnostic {
                    path: rel_name.clone(),
                    line: Some(line),
                    value: rxcui2.to_owned(),
                    message: "relationship of an RXCUI2 that RXNCONSO lacks; skipped".into(),
                });
            };
            let code = if rela.is_empty() { rel } else { rela };
            let properties = &mut concepts[concept_idx].properties;
            if !properties.iter().any(|found| found.code == code && found.value.as_str() == Some(rxcui1)) {
                relationship_codes.insert(code.to_owned());
                properties.push(property(code, "valueCode", json!(rxcui1)));
            }
        })?;
    }

    let mut attribute_codes: BTreeSet<String> = BTreeSet::new();
    if let Some(sat_name) = find("RXNSAT.RRF") {
        for_each_rrf_row(source, sat_name, N_SAT_COLUMNS, "RXNSAT", diagnostics, |line, fields, diagnostics| {
            let (rxcui, atn, sab, atv, suppress) = (fields[0], fields[8], fields[9], fields[10], fields[11]);
            if sab != "RXNORM" || matches!(suppress, "O" | "Y" | "E") || atn.is_empty() {
                return;
            }
            let Some(&concept_idx) = by_rxcui.get(rxcui) else {
                return diagnostics.push(Diagnostic {
                    path: sat_name.clone(),
                    line: Some(line),
                    value: rxcui.to_owned(),
                    message: format!("attribute {atn} of an RXCUI that RXNCONSO lacks; skipped"),
                });
            };
            let properties = &mut concepts[concept_idx].properties;
            if !properties.iter().any(|found| found.code == atn && found.value.as_str() == Some(atv)) {
                attribute_codes.insert(atn.to_owned());
                properties.push(property(atn, "valueString", json!(atv)));
            }
        })?;
    }

    let mut has_remapped = false;
    if let Some(cui_name) = find("RXNCUI.RRF") {
        for_each_rrf_row(source, cui_name, N_CUI_COLUMNS, "RXNCUI", diagnostics, |_, fields, _| {
            let (retired, replacement) = (fields[0], fields[4]);
            if retired.is_empty() {
                return;
            }
            let concept_idx = match by_rxcui.get(retired) {
                Some(&concept_idx) if states.get(concept_idx).is_none_or(|state| state.display_rank != u8::MAX) => {
                    // Still listed in RXNCONSO: RXNCUI only records its history.
                    return;
                }
                Some(&concept_idx) => concept_idx,
                None => {
                    by_rxcui.insert(retired.to_owned(), concepts.len());
                    concepts.push(Concept {
                        code: retired.to_owned(),
                        display: None,
                        definition: None,
                        designations: Vec::new(),
                        properties: vec![property("inactive", "valueBoolean", json!(true))],
                        extra: None,
                        nest_parent: None,
                    });
                    states.push(ConceptState { display_rank: u8::MAX, all_suppressed: true });
                    concepts.len() - 1
                }
            };
            let properties = &mut concepts[concept_idx].properties;
            if !replacement.is_empty()
                && replacement != retired
                && !properties.iter().any(|found| found.code == "remapped_to" && found.value.as_str() == Some(replacement))
            {
                properties.push(property("remapped_to", "valueCode", json!(replacement)));
                has_remapped = true;
            }
        })?;
    }

    let version = options.version.clone().or_else(|| names.iter().find_map(|name| release_date_in_name(name)));
    if version.is_none() {
        diagnostics.push(Diagnostic {
            path: conso_name.clone(),
            line: None,
            value: String::new(),
            message: "no RxNorm_full_MMDDYYYY or Readme_full_MMDDYYYY name in the release; the code system has no version (name one with the version option)".into(),
        });
    }
    let header = header(version.as_deref(), concepts.len(), &relationship_codes, &attribute_codes, has_remapped);
    let mut code_system = CodeSystem::from_json(&header).expect("the RxNorm header is a valid CodeSystem");
    code_system.concepts = concepts;
    loaded.code_systems.push(code_system);
    Ok(loaded)
}

fn header(
    version: Option<&str>,
    n_concepts: usize,
    relationship_codes: &BTreeSet<String>,
    attribute_codes: &BTreeSet<String>,
    has_remapped: bool,
) -> Json {
    let mut resource = json!({
        "resourceType": "CodeSystem",
        "url": RXNORM_URL,
        "identifier": [{"system": "urn:ietf:rfc:3986", "value": format!("urn:oid:{RXNORM_OID}")}],
        "name": "RxNorm",
        "title": "RxNorm",
        "status": "active",
        "publisher": "National Library of Medicine (NLM)",
        "caseSensitive": false,
        "content": "complete",
        "count": n_concepts,
        "property": [
            {"code": "inactive", "uri": "http://hl7.org/fhir/concept-properties#inactive", "type": "boolean",
             "description": "True when every RXNORM atom of the concept is suppressed (SUPPRESS O, Y or E), or the RXCUI is retired (RXNCUI.RRF)"},
            {"code": "tty", "type": "code", "description": "A term type (TTY) of the concept's RXNORM atoms: IN, SCD, SBD, SY, …"},
        ],
    });
    let properties = resource["property"].as_array_mut().expect("property is an array");
    for code in relationship_codes {
        properties.push(json!({"code": code, "type": "code",
            "description": format!("RXNREL: this concept {code} the RXCUI given (the row's RXCUI2 {code} its RXCUI1)")}));
    }
    for code in attribute_codes {
        properties.push(json!({"code": code, "type": "string", "description": format!("RXNSAT attribute {code} (ATN), its ATV")}));
    }
    if has_remapped {
        properties
            .push(json!({"code": "remapped_to", "type": "code", "description": "RXNCUI.RRF: the RXCUI a retired one was remapped to"}));
    }
    if let Some(version) = version {
        resource["version"] = json!(version);
    }
    resource
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DirSource;
    use std::path::{Path, PathBuf};

    const RELEASE: &str = "RxNorm_full_01062025";

    fn fixture() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data/rxnorm_rrf").join(RELEASE)
    }

    fn concept<'a>(code_system: &'a CodeSystem, code: &str) -> &'a Concept {
        code_system.concepts.iter().find(|concept| concept.code == code).unwrap_or_else(|| panic!("no concept {code}"))
    }

    fn values(concept: &Concept, code: &str) -> Vec<String> {
        concept.properties.iter().filter(|property| property.code == code).filter_map(ConceptProperty::value_text).collect()
    }

    #[test]
    fn release_gives_concepts_relationships_attributes_and_retired_rxcuis() {
        let loaded = load(&DirSource::new(&fixture()).unwrap(), &LoadOptions::default()).unwrap();
        let code_system = &loaded.code_systems[0];
        assert_eq!(code_system.url, RXNORM_URL);
        assert_eq!(code_system.version.as_deref(), Some("01062025"));
        assert_eq!(code_system.resource["identifier"][0]["value"], json!("urn:oid:2.16.840.1.113883.6.88"));
        assert_eq!(code_system.hierarchy_meaning, None);
        // Nine RXCUIs with RXNORM atoms and one retired RXCUI.
        assert_eq!(code_system.concepts.len(), 10);
        assert_eq!(code_system.resource["count"], json!(10));

        // The SCD: display from the SCD atom, not the PSN or SY that come first in the file.
        let clinical_drug = concept(code_system, "9000005");
        assert_eq!(clinical_drug.display.as_deref(), Some("testamol 325 MG / codeinetest 30 MG Oral Tablet"));
        assert_eq!(values(clinical_drug, "tty"), ["PSN", "SCD", "SY"]);
        let designations: Vec<String> = clinical_drug
            .designations
            .iter()
            .map(|designation| format!("{} {}", designation.language.as_deref().unwrap(), designation.use_coding.as_ref().unwrap()["code"]))
            .collect();
        assert_eq!(designations, ["en \"PSN\"", "en \"SCD\"", "en \"SY\""]);
        // RXNREL direction: the rows `9000003|…|9000005|…|consists_of` give 9000005 consists_of 9000003.
        assert_eq!(values(clinical_drug, "consists_of"), ["9000003", "9000004"]);
        assert_eq!(values(clinical_drug, "has_dose_form"), ["9000008"]);
        assert_eq!(values(clinical_drug, "has_tradename"), ["9000007"]);
        assert_eq!(values(concept(code_system, "9000003"), "has_ingredient"), ["9000001"]);
        assert_eq!(values(concept(code_system, "9000003"), "constitutes"), ["9000005"]);
        assert_eq!(values(concept(code_system, "9000001"), "ingredient_of"), ["9000003"]);
        let branded_drug = concept(code_system, "9000007");
        assert_eq!(values(branded_drug, "tradename_of"), ["9000005"]);
        assert_eq!(values(branded_drug, "has_ingredient"), ["9000006"]);
        // NDCs: the suppressed one and the MTHSPL one are left out.
        assert_eq!(values(branded_drug, "NDC"), ["00000123401", "00000123402"]);
        assert_eq!(values(concept(code_system, "9000003"), "RXN_STRENGTH"), ["325 MG"]);

        // Every atom suppressed: inactive. One atom suppressed of several: active.
        assert_eq!(values(concept(code_system, "9000009"), "inactive"), ["true"]);
        assert_eq!(values(concept(code_system, "9000001"), "inactive"), Vec::<String>::new());
        assert_eq!(concept(code_system, "9000001").display.as_deref(), Some("testamol"));
        // Retired, from RXNCUI.RRF.
        let retired = concept(code_system, "8999999");
        assert_eq!(values(retired, "inactive"), ["true"]);
        assert_eq!(values(retired, "remapped_to"), ["9000005"]);
        assert_eq!(retired.display, None);

        let property_codes: Vec<&str> = code_system.properties.iter().map(|property| property.code.as_str()).collect();
        assert_eq!(
            property_codes,
            [
                "inactive",
                "tty",
                "consists_of",
                "constitutes",
                "dose_form_of",
                "has_dose_form",
                "has_ingredient",
                "has_tradename",
                "ingredient_of",
                "tradename_of",
                "NDC",
                "RXN_STRENGTH",
                "remapped_to"
            ]
        );
        let diagnostics: Vec<String> = loaded.diagnostics.iter().map(ToString::to_string).collect();
        assert_eq!(
            diagnostics,
            [
                "rrf/RXNCONSO.RRF:15: line has 16 fields where RXNCONSO has 18 and a closing |; skipped (\"9000010|ENG||||||9100015|9100015|9000010||RXNORM|IN|9000010|truncated||\")",
                "rrf/RXNREL.RRF:15: relationship of an RXCUI2 that RXNCONSO lacks; skipped (\"7777777\")",
            ]
        );
    }

    #[test]
    fn version_option_and_detection() {
        let source = DirSource::new(&fixture()).unwrap();
        assert_eq!(crate::detect(&source).unwrap(), crate::Format::Rxnorm);
        assert_eq!(crate::Format::parse("rxnorm"), Some(crate::Format::Rxnorm));
        let options = LoadOptions { version: Some("2025-01-06".into()) };
        assert_eq!(load(&source, &options).unwrap().code_systems[0].version.as_deref(), Some("2025-01-06"));
        assert_eq!(release_date_in_name("0-RxNorm_full_02032025.zip/rrf/RXNCONSO.RRF").as_deref(), Some("02032025"));
        assert_eq!(release_date_in_name("rrf/RXNCONSO.RRF"), None);
    }

    #[test]
    fn missing_rxnconso_or_wrong_layout_is_an_error() {
        let no_conso = crate::MemorySource::new([("rrf/RXNSAT.RRF", "")]);
        assert_eq!(load(&no_conso, &LoadOptions::default()).unwrap_err().to_string(), "rrf/RXNSAT.RRF: no RXNCONSO.RRF in this release");
        // An RXNREL line where RXNCONSO should be.
        let wrong = crate::MemorySource::new([("rrf/RXNCONSO.RRF", "9000001|||RO|9000003|||has_ingredient|1||RXNORM|RXNORM|||N||\n")]);
        assert_eq!(
            load(&wrong, &LoadOptions::default()).unwrap_err().to_string(),
            "rrf/RXNCONSO.RRF:1: line has 16 fields where RXNCONSO has 18 and a closing |; not an RRF file of this kind (\"9000001|||RO|9000003|||has_ingredient|1||RXNORM|RXNORM|||N||\")"
        );
    }
}
