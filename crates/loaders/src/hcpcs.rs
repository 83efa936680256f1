//! HCPCS Level II from the CMS Alpha-Numeric HCPCS file `HCPC<year>_CONTR_ANWEB*.txt`, read
//! as it is or from inside the CMS zip (`<year>-Alpha-Numeric-HCPCS-File.zip`), following the
//! record layout CMS ships beside it (`HCPCS<year>_recordlayout.txt`, checked for 2018 and 2019).
//!
//! # The file
//! 320-character fixed-width records, CRLF, ISO-8859-1 (decoded here to UTF-8), after a few
//! disclaimer lines, which are skipped. Columns (1-based, inclusive): code 1-5 (a modifier sits
//! in 4-5 behind three blanks), sequence number 6-10, record id 11, long description 12-91,
//! short description 92-119, code added date 269-276, action effective date 277-284,
//! termination date 285-292, action code 293. Record ids: `3` procedure, `4` a continuation of
//! its long description, `7` modifier, `8` a continuation of the modifier's long description.
//!
//! # What it gives
//! One flat CodeSystem (no `hierarchyMeaning`): procedure and modifier codes are both concepts,
//! told apart by the property `kind` (`procedure` or `modifier`). The long description, with its
//! continuations joined by single spaces, is the display; the short description is a designation
//! with the use `http://fhirterm.dev/designation-use#short`. The dates are `valueDateTime`
//! properties `addDate`, `actionEffectiveDate` and `terminationDate` (YYYY-MM-DD), and the
//! action code is the `valueCode` property `actionCode`.
//!
//! The version is the year in the file name (`HCPC2019_…` gives `2019`), else in the zip's
//! name, unless [`LoadOptions::version`] overrides it.
//!
//! A record too short for its fields, a continuation without its first record or a repeated
//! code is skipped with a diagnostic; a date that is not a real YYYYMMDD date is left out with a
//! diagnostic and the code kept.
//!
//! Tests are at the end of this file; fixtures in `test_data/hcpcs/`; the real-release checks
//! run when `FHIRTERM_REAL_DATA` names the folder `fetch-real-data.sh` filled.

use crate::icd10cm::{year_in_file_name, DESIGNATION_USE_SYSTEM};
use crate::{Diagnostic, LoadError, LoadOptions, Loaded, Source};
use model::terminology::{lifecycle, CodeSystem, Concept, ConceptProperty, Designation, EffectivePeriod};
use model::Json;
use serde_json::json;
use std::collections::HashSet;
use std::io::Read;

pub const HCPCS_URL: &str = "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets";
pub const HCPCS_OID: &str = "2.16.840.1.113883.6.285";

/// The last column a procedure or modifier record must reach: the action code.
const MINIMUM_FIRST_RECORD_LENGTH: usize = 293;

/// True for the name of the CMS contractor file, `HCPC<year>_CONTR_ANWEB*.txt`.
pub fn is_contractor_file(name: &str) -> bool {
    let base_name = name.rsplit('/').next().unwrap_or(name).to_ascii_lowercase();
    base_name.starts_with("hcpc") && base_name.contains("_contr_anweb") && base_name.ends_with(".txt")
}

/// True for a zip that may hold the contractor file (CMS names them `…HCPCS…zip`).
pub fn is_hcpcs_zip(name: &str) -> bool {
    let base_name = name.rsplit('/').next().unwrap_or(name).to_ascii_lowercase();
    base_name.contains("hcpc") && base_name.ends_with(".zip")
}

/// Loads one HCPCS release.
pub fn load(source: &dyn Source, options: &LoadOptions) -> Result<Loaded, LoadError> {
    let (path, bytes) = find_contractor_file(source)?;
    let mut loaded = Loaded::default();
    let version = options.version.clone().or_else(|| path.rsplit('!').map(year_in_file_name).find(Option::is_some).flatten());
    if version.is_none() {
        loaded.diagnostics.push(Diagnostic {
            path: path.clone(),
            line: None,
            value: path.clone(),
            message: "no year in the file name; the code system has no version (name one with the version option)".into(),
        });
    }
    let mut concepts = read_records(&path, &bytes, &mut loaded.diagnostics);
    if concepts.is_empty() {
        return Err(LoadError::new(path, "no HCPCS procedure or modifier records (record id 3 or 7 in column 11)"));
    }
    let period = release_period(&path, version.as_deref());
    add_lifecycle(&mut concepts, period.as_ref().map(|period| period.start.as_str()));
    let mut code_system = CodeSystem::from_json(&header(version.as_deref(), concepts.len(), period.as_ref()))
        .expect("the HCPCS header is a valid CodeSystem");
    code_system.concepts = concepts;
    loaded.code_systems.push(code_system);
    Ok(loaded)
}

/// The contractor file, by name, or from inside a zip of the source.
fn find_contractor_file(source: &dyn Source) -> Result<(String, Vec<u8>), LoadError> {
    let names = source.names();
    let mut found: Vec<(String, Vec<u8>)> = Vec::new();
    for name in names.iter().filter(|name| is_contractor_file(name)) {
        found.push((name.clone(), source.read_bytes(name)?));
    }
    if found.is_empty() {
        // A renamed contractor file is known by its records.
        for name in names.iter().filter(|name| !is_hcpcs_zip(name)) {
            if crate::sniff::kind_of(source, name) == Some(crate::sniff::FileKind::HcpcsContractor) {
                found.push((name.clone(), source.read_bytes(name)?));
            }
        }
    }
    if found.is_empty() {
        for zip_name in names.iter().filter(|name| is_hcpcs_zip(name)) {
            let zip_bytes = source.read_bytes(zip_name)?;
            let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip_bytes))
                .map_err(|error| LoadError::new(zip_name, format!("not a zip archive: {error}")))?;
            let inner_names: Vec<String> =
                archive.file_names().filter_map(Result::ok).map(|name| name.to_string()).filter(|name| is_contractor_file(name)).collect();
            for inner_name in inner_names {
                let display = format!("{zip_name}!{inner_name}");
                let mut entry =
                    archive.by_name(&inner_name).map_err(|error| LoadError::new(&display, format!("cannot read entry: {error}")))?;
                let mut bytes = Vec::new();
                entry.read_to_end(&mut bytes).map_err(|error| LoadError::new(&display, format!("corrupt entry: {error}")))?;
                found.push((display, bytes));
            }
        }
    }
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(LoadError::new(
            names.first().cloned().unwrap_or_default(),
            "no HCPCS contractor file (HCPC<year>_CONTR_ANWEB*.txt), as such or in a zip",
        )),
        _ => Err(LoadError::new(found[1].0.as_str(), "more than one HCPCS contractor file; load one release at a time")
            .with_value(found[0].0.as_str())),
    }
}

/// A fixed-width field, by 1-based inclusive columns, decoded from ISO-8859-1 and trimmed.
fn field(record: &[u8], first_column: usize, last_column: usize) -> String {
    let start = (first_column - 1).min(record.len());
    let end = last_column.min(record.len()).max(start);
    record[start..end].iter().map(|byte| *byte as char).collect::<String>().trim().to_owned()
}

fn latin1_text(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| *byte as char).collect()
}

/// The record id of a line that is a record: five digits in 6-10 and 3, 4, 7 or 8 in 11.
fn record_id(line: &[u8]) -> Option<u8> {
    if line.len() < 11 || !line[5..10].iter().all(u8::is_ascii_digit) {
        return None;
    }
    matches!(line[10], b'3' | b'4' | b'7' | b'8').then_some(line[10])
}

/// `YYYYMMDD` as `YYYY-MM-DD`, when it is a real date.
fn fhir_date(text: &str) -> Option<String> {
    if text.len() != 8 || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    let year: u32 = text[..4].parse().ok()?;
    let month: u32 = text[4..6].parse().ok()?;
    let day: u32 = text[6..].parse().ok()?;
    let is_leap_year = (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year => 29,
        2 => 28,
        _ => return None,
    };
    (year >= 1900 && (1..=days_in_month).contains(&day)).then(|| format!("{}-{}-{}", &text[..4], &text[4..6], &text[6..]))
}

/// A procedure or modifier while its continuation records are still coming.
struct OpenRecord {
    concept: Concept,
    long_description: String,
    record_id: u8,
}

fn close(open_record: Option<OpenRecord>, concepts: &mut Vec<Concept>) {
    if let Some(mut open_record) = open_record {
        open_record.concept.display = Some(open_record.long_description);
        concepts.push(open_record.concept);
    }
}

fn read_records(path: &str, bytes: &[u8], diagnostics: &mut Vec<Diagnostic>) -> Vec<Concept> {
    let mut concepts: Vec<Concept> = Vec::new();
    let mut open_record: Option<OpenRecord> = None;
    let mut seen_codes: HashSet<String> = HashSet::new();
    let mut saw_first_record = false;
    for (line_idx, line) in bytes.split(|byte| *byte == b'\n').enumerate() {
        let line_number = line_idx as u64 + 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let mut report = |value: String, message: String| {
            diagnostics.push(Diagnostic { path: path.to_owned(), line: Some(line_number), value, message })
        };
        let Some(record_id) = record_id(line) else {
            // Disclaimer lines come before the first record.
            if saw_first_record {
                report(
                    latin1_text(line),
                    "not an HCPCS record (no sequence number in 6-10 and record id 3, 4, 7 or 8 in 11); skipped".into(),
                );
            }
            continue;
        };
        saw_first_record = true;
        let is_modifier = matches!(record_id, b'7' | b'8');
        let code = if is_modifier { field(line, 4, 5) } else { field(line, 1, 5) };
        let long_description = field(line, 12, 91);
        if matches!(record_id, b'4' | b'8') {
            match open_record.as_mut() {
                Some(open) if open.concept.code == code && open.record_id + 1 == record_id => {
                    if !long_description.is_empty() {
                        if !open.long_description.is_empty() {
                            open.long_description.push(' ');
                        }
                        open.long_description.push_str(&long_description);
                    }
                }
                _ => report(code, "continuation record without the record it continues; skipped".into()),
            }
            continue;
        }
        close(open_record.take(), &mut concepts);
        if line.len() < MINIMUM_FIRST_RECORD_LENGTH {
            report(
                latin1_text(line),
                format!(
                    "record of {} characters, too short to reach the action code in column {MINIMUM_FIRST_RECORD_LENGTH}; skipped",
                    line.len()
                ),
            );
            continue;
        }
        let code_is_well_formed = if is_modifier { code.len() == 2 && field(line, 1, 3).is_empty() } else { code.len() == 5 }
            && code.bytes().all(|byte| byte.is_ascii_alphanumeric());
        if !code_is_well_formed {
            report(
                field(line, 1, 5),
                format!(
                    "not a {} code; skipped",
                    if is_modifier { "two-character modifier (columns 4-5)" } else { "five-character procedure (columns 1-5)" }
                ),
            );
            continue;
        }
        if !seen_codes.insert(code.clone()) {
            report(code, "code listed twice; the second record is skipped".into());
            continue;
        }
        let mut concept = Concept {
            code: code.clone(),
            display: None,
            definition: None,
            designations: Vec::new(),
            properties: vec![ConceptProperty::new("kind", "valueCode", json!(if is_modifier { "modifier" } else { "procedure" }))],
            extra: None,
            nest_parent: None,
        };
        let short_description = field(line, 92, 119);
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
        for (property_code, first_column, label) in [
            ("addDate", 269, "code added date (columns 269-276)"),
            ("actionEffectiveDate", 277, "action effective date (columns 277-284)"),
            ("terminationDate", 285, "termination date (columns 285-292)"),
        ] {
            let text = field(line, first_column, first_column + 7);
            if text.is_empty() {
                continue;
            }
            match fhir_date(&text) {
                Some(date) => concept.properties.push(ConceptProperty::new(property_code, "valueDateTime", Json::String(date))),
                None => report(text, format!("{label} of {code} is not a YYYYMMDD date; left out")),
            }
        }
        let action_code = field(line, 293, 293);
        if !action_code.is_empty() {
            concept.properties.push(ConceptProperty::new("actionCode", "valueCode", Json::String(action_code)));
        }
        open_record = Some(OpenRecord { concept, long_description, record_id });
    }
    close(open_record, &mut concepts);
    concepts
}

/// The period a release is in force: from the first day of its quarter (the annual file is the
/// January release; a quarterly file names its month, `…_APR_…`) to the end of its year.
fn release_period(path: &str, version: Option<&str>) -> Option<EffectivePeriod> {
    let year = EffectivePeriod::of_year_version(version, EffectivePeriod::calendar_year).or_else(|| {
        let year = path.rsplit('!').map(year_in_file_name).find(Option::is_some).flatten();
        EffectivePeriod::of_year_version(year.as_deref(), EffectivePeriod::calendar_year)
    })?;
    let name = path.rsplit(['/', '!']).next().unwrap_or(path).to_ascii_uppercase();
    let month = [("_APR", "04"), ("_JUL", "07"), ("_OCT", "10")].iter().find(|(tag, _)| name.contains(tag)).map(|(_, month)| *month);
    Some(match month {
        Some(month) => EffectivePeriod { start: format!("{}-{month}-01", &year.start[..4]), end: year.end },
        None => year,
    })
}

/// The FHIR lifecycle of each code: `effectiveDate` from the date it was added, `retirementDate`
/// from its termination date, and `status = retired` when it was terminated before the release
/// took effect (a code kept in the file for historical claims, not in force).
fn add_lifecycle(concepts: &mut [Concept], release_start: Option<&str>) {
    for concept in concepts {
        let date_of = |code: &str| {
            concept.properties.iter().find(|property| property.code == code).and_then(|property| property.value.as_str().map(str::to_owned))
        };
        let (added, terminated) = (date_of("addDate"), date_of("terminationDate"));
        if let Some(added) = added {
            concept.properties.push(ConceptProperty::date_time(lifecycle::PROPERTY_EFFECTIVE_DATE, &added));
        }
        if let Some(terminated) = terminated {
            let retired = release_start.is_some_and(|start| terminated.as_str() < start);
            concept.properties.push(ConceptProperty::date_time(lifecycle::PROPERTY_RETIREMENT_DATE, &terminated));
            if retired {
                concept.properties.push(ConceptProperty::new("status", "valueCode", json!("retired")));
            }
        }
    }
}

fn header(version: Option<&str>, n_concepts: usize, period: Option<&EffectivePeriod>) -> Json {
    let mut resource = json!({
        "resourceType": "CodeSystem",
        "url": HCPCS_URL,
        "identifier": [{"system": "urn:ietf:rfc:3986", "value": format!("urn:oid:{HCPCS_OID}")}],
        "name": "HCPCS",
        "title": "Healthcare Common Procedure Coding System (HCPCS) Level II",
        "status": "active",
        "publisher": "Centers for Medicare & Medicaid Services (CMS)",
        "caseSensitive": true,
        "content": "complete",
        "count": n_concepts,
        "property": [
            {"code": "kind", "type": "code", "description": "procedure (record id 3) or modifier (record id 7)"},
            {"code": "addDate", "type": "dateTime", "description": "The date the code was added to HCPCS (columns 269-276)"},
            {"code": "actionEffectiveDate", "type": "dateTime", "description": "The date the action in actionCode took effect (columns 277-284)"},
            {"code": "terminationDate", "type": "dateTime", "description": "The last date Medicare providers may use the code (columns 285-292)"},
            {"code": "actionCode", "type": "code", "description": "The change made to the code: A add, B both, C long description, D discontinue, F administrative data, N none, P payment, R reactivate, S short description, T miscellaneous (column 293)"},
            {"code": "effectiveDate", "uri": "http://hl7.org/fhir/concept-properties#effectiveDate", "type": "dateTime",
             "description": "When the code took effect (its added date)"},
            {"code": "retirementDate", "uri": "http://hl7.org/fhir/concept-properties#retirementDate", "type": "dateTime",
             "description": "When the code was retired (its termination date)"},
            {"code": "status", "uri": "http://hl7.org/fhir/concept-properties#status", "type": "code",
             "description": "retired for a code terminated before this release took effect"},
        ],
    });
    if let Some(version) = version {
        resource["version"] = json!(version);
    }
    if let Some(period) = period {
        resource["extension"] = json!([period.to_extension()]);
    }
    resource
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemorySource;
    use std::fmt::Write as _;
    use std::io::Write as _;
    use std::path::PathBuf;

    const CONTRACTOR_FIXTURE: &[u8] = include_bytes!("../test_data/hcpcs/HCPC2019_CONTR_ANWEB.txt");

    fn dump(code_system: &CodeSystem) -> String {
        let mut out = String::new();
        for concept in &code_system.concepts {
            write!(out, "{} {:?}", concept.code, concept.display.as_deref().unwrap_or_default()).unwrap();
            for designation in &concept.designations {
                write!(out, " short={:?}", designation.value).unwrap();
            }
            for property in &concept.properties {
                write!(out, " {}={}", property.code, property.value_text().unwrap()).unwrap();
            }
            out.push('\n');
        }
        out
    }

    const EXPECTED_DUMP: &str = r#"AQ "Physician providing a service in an unlisted health professional shortage area (hpsa)" short="Physician service hpsa" kind=modifier addDate=2006-01-01 actionEffectiveDate=2006-01-01 actionCode=N effectiveDate=2006-01-01
A4206 "Syringe with needle, sterile, 1 cc or less, each" short="1 cc sterile syringe&needle" kind=procedure addDate=1984-01-01 actionEffectiveDate=1984-01-01 actionCode=N effectiveDate=1984-01-01
A9270 "Non-covered item or service, café edition" short="Non-covered item or service" kind=procedure addDate=1992-01-01 actionEffectiveDate=2019-01-01 terminationDate=2019-12-31 actionCode=C effectiveDate=1992-01-01 retirementDate=2019-12-31
G8891 "Most recent office visit systolic blood pressure, in mm hg, for a patient whose diastolic is known (e.g., patients with palliative goals for whom treatment of hypertension may not be appropriate)" short="Sys bp <140, dia bp <90" kind=procedure addDate=2015-01-01 actionEffectiveDate=2015-01-01 actionCode=N effectiveDate=2015-01-01
J0120 "Injection, tetracycline, up to 250 mg" short="Tetracyclin injection" kind=procedure actionEffectiveDate=2000-01-01 actionCode=N
"#;

    const EXPECTED_DIAGNOSTICS: [&str; 3] = [
        "HCPC2019_CONTR_ANWEB.txt:11: code added date (columns 269-276) of J0120 is not a YYYYMMDD date; left out (\"19990231\")",
        "HCPC2019_CONTR_ANWEB.txt:12: record of 30 characters, too short to reach the action code in column 293; skipped (\"K0001001003Standard wheelchair\")",
        "HCPC2019_CONTR_ANWEB.txt:13: continuation record without the record it continues; skipped (\"K0002\")",
    ];

    #[test]
    fn contractor_file_gives_procedures_modifiers_and_diagnostics() {
        let source = MemorySource::new([("HCPC2019_CONTR_ANWEB.txt", CONTRACTOR_FIXTURE)]);
        let loaded = load(&source, &LoadOptions::default()).unwrap();
        let code_system = &loaded.code_systems[0];
        assert_eq!(dump(code_system), EXPECTED_DUMP);
        let diagnostics: Vec<String> = loaded.diagnostics.iter().map(ToString::to_string).collect();
        assert_eq!(diagnostics, EXPECTED_DIAGNOSTICS);
        assert_eq!(code_system.version.as_deref(), Some("2019"));
        assert_eq!(code_system.url, HCPCS_URL);
        assert_eq!(code_system.resource["count"], json!(5));
        assert_eq!(code_system.resource["identifier"][0]["value"], json!("urn:oid:2.16.840.1.113883.6.285"));
        assert_eq!(code_system.hierarchy_meaning, None);
        assert!(code_system.concepts.iter().all(|concept| concept.nest_parent.is_none()));
    }

    fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, bytes) in files {
            writer.start_file(*name, zip::write::SimpleFileOptions::default()).unwrap();
            writer.write_all(bytes).unwrap();
        }
        writer.finish().unwrap().into_inner()
    }

    #[test]
    fn reads_the_contractor_file_inside_the_cms_zip_and_takes_the_version_option() {
        let source = MemorySource::new([
            ("2019-HCPCS-Record-Layout.zip", zip_of(&[("HCPCS2019_recordlayout.txt", b"layout")])),
            (
                "2019-Alpha-Numeric-HCPCS-File.zip",
                zip_of(&[("HCPC2019_README.txt", b"readme"), ("HCPC2019_CONTR_ANWEB.txt", CONTRACTOR_FIXTURE)]),
            ),
        ]);
        let options = LoadOptions { version: Some("2019-Q1".into()) };
        let loaded = load(&source, &options).unwrap();
        assert_eq!(dump(&loaded.code_systems[0]), EXPECTED_DUMP);
        assert_eq!(loaded.code_systems[0].version.as_deref(), Some("2019-Q1"));
        assert_eq!(loaded.diagnostics[0].path, "2019-Alpha-Numeric-HCPCS-File.zip!HCPC2019_CONTR_ANWEB.txt");
    }

    #[test]
    fn detects_the_contractor_file_and_the_cms_zip() {
        for name in ["HCPC2019_CONTR_ANWEB.txt", "HCPC2018_CONTR_ANWEB_disc.txt", "2019-Alpha-Numeric-HCPCS-File.zip"] {
            let source = MemorySource::new([(name, b"".to_vec())]);
            assert_eq!(crate::detect(&source).unwrap(), crate::Format::Hcpcs, "{name}");
        }
        assert_eq!(crate::Format::parse("hcpcs"), Some(crate::Format::Hcpcs));
    }

    #[test]
    fn missing_contractor_file_is_an_error() {
        let source = MemorySource::new([("HCPC2019_README.txt", b"readme".to_vec())]);
        let error = load(&source, &LoadOptions::default()).unwrap_err();
        assert_eq!(error.to_string(), "HCPC2019_README.txt: no HCPCS contractor file (HCPC<year>_CONTR_ANWEB*.txt), as such or in a zip");
        let disclaimers_only = MemorySource::new([("HCPC2019_CONTR_ANWEB.txt", b"***Disclaimers\r\n\r\n".to_vec())]);
        let error = load(&disclaimers_only, &LoadOptions::default()).unwrap_err();
        assert_eq!(error.path, "HCPC2019_CONTR_ANWEB.txt");
    }

    #[test]
    fn dates_must_be_real() {
        assert_eq!(fhir_date("20190101").as_deref(), Some("2019-01-01"));
        assert_eq!(fhir_date("20000229").as_deref(), Some("2000-02-29"));
        assert_eq!(fhir_date("19000229"), None);
        assert_eq!(fhir_date("20191301"), None);
        assert_eq!(fhir_date("2019010"), None);
        assert_eq!(fhir_date("2019O101"), None);
    }

    #[test]
    fn real_hcpcs_2018_and_2019_have_the_published_counts() {
        let Some(folder) = std::env::var_os("FHIRTERM_REAL_DATA").map(PathBuf::from) else {
            eprintln!("skipping real_hcpcs_2018_and_2019_have_the_published_counts: FHIRTERM_REAL_DATA is not set (run fetch-real-data.sh DIR and set it to DIR)");
            return;
        };
        for (year, n_procedures_expected, n_modifiers_expected) in [("2018", 6_205, 354), ("2019", 6_440, 360)] {
            let source = crate::open_paths(&[folder.join("hcpcs").join(year)]).unwrap();
            let loaded = load(source.as_ref(), &LoadOptions::default()).unwrap();
            assert_eq!(loaded.diagnostics, vec![], "{year}");
            let code_system = &loaded.code_systems[0];
            assert_eq!(code_system.version.as_deref(), Some(year));
            let count_kind =
                |kind: &str| code_system.concepts.iter().filter(|concept| concept.property_text("kind").as_deref() == Some(kind)).count();
            assert_eq!((count_kind("procedure"), count_kind("modifier")), (n_procedures_expected, n_modifiers_expected), "{year}");
            eprintln!("HCPCS {year}: {} procedure codes, {} modifiers", n_procedures_expected, n_modifiers_expected);
        }
    }
}
