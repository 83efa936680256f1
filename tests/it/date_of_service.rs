//! Claims are judged on the date of service: on real ICD-10-CM 2025 and 2026 and HCPCS 2018 and
//! 2019 (when `FHIRTERM_REAL_DATA` is set), each case with and without `date`, on both sides of
//! 2025-10-01.

use crate::support::{app, real_data, sqlite, TestApp};
use actix_web::http::StatusCode;
use serde_json::Value;

const ICD: &str = "http://hl7.org/fhir/sid/icd-10-cm";
const HCPCS: &str = "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets";

fn load(app: &TestApp, format: loaders::Format, path: std::path::PathBuf) {
    let source = loaders::open_paths(&[path.clone()]).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    let loaded = loaders::load(format, source.as_ref(), &loaders::LoadOptions::default()).expect("load a release");
    app.terminology.load(loaded.code_systems, loaded.resources).expect("store a release");
}

fn parameter<'a>(answer: &'a Value, name: &str) -> Option<&'a Value> {
    answer["parameter"].as_array()?.iter().find(|parameter| parameter["name"] == name)
}

/// `$validate-code` of one code: (result, message).
async fn validate(app: &TestApp, system: &str, code: &str, extra: &str) -> (bool, String) {
    let answer = app.get(&format!("/fhir/CodeSystem/$validate-code?url={system}&code={code}{extra}")).await;
    assert_eq!(answer.status, StatusCode::OK, "{code}{extra}: {}", answer.body);
    let json = answer.json();
    let result = parameter(&json, "result").and_then(|result| result["valueBoolean"].as_bool()).expect("a result");
    let message = parameter(&json, "message").and_then(|message| message["valueString"].as_str()).unwrap_or_default().to_owned();
    (result, message)
}

/// The codes a code list names, dotted as ICD-10-CM writes them (the list is undotted).
fn icd_codes(list: &str) -> std::collections::BTreeSet<String> {
    list.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.contains('-') && !line.chars().all(|c| c.is_ascii_digit()))
        .map(|line| if line.len() > 3 { format!("{}.{}", &line[..3], &line[3..]) } else { line.to_owned() })
        .collect()
}

#[actix_web::test]
async fn icd10cm_answers_for_the_release_in_force_on_the_date_of_service() {
    let Some(dir) = real_data() else { return };
    let backend = sqlite();
    let app = app(&backend).await;
    for year in ["2025", "2026"] {
        load(&app, loaders::Format::Icd10cm, dir.join(format!("icd10cm/{year}/icd10cm-tabular-{year}.xml")));
    }
    // New in FY2026 (in force from 2025-10-01).
    assert!(validate(&app, ICD, "C50.A0", "").await.0, "current release");
    let (valid, message) = validate(&app, ICD, "C50.A0", "&date=2025-03-01").await;
    assert!(!valid, "C50.A0 on 2025-03-01: {message}");
    assert!(message.contains("version '2025'"), "{message}");
    assert!(validate(&app, ICD, "C50.A0", "&date=2025-10-01").await.0);
    assert!(!validate(&app, ICD, "C50.A0", "&date=2025-09-30").await.0);

    // Dropped after FY2025: found by comparing the official code lists.
    let list_2025 = std::fs::read_to_string(dir.join("icd10cm/2025/code-list-2025.txt")).expect("2025 code list");
    let list_2026 = std::fs::read_to_string(dir.join("icd10cm/2026/code-list-2026.txt")).expect("2026 code list");
    let dropped: Vec<String> = icd_codes(&list_2025).difference(&icd_codes(&list_2026)).cloned().collect();
    assert!(!dropped.is_empty(), "some codes were dropped after 2025");
    for code in dropped.iter().take(3) {
        let (valid, message) = validate(&app, ICD, code, "").await;
        assert!(!valid, "{code} today");
        assert!(message.contains("valid in version '2025', in force from 2024-10-01 to 2025-09-30"), "{code}: {message}");
        assert!(validate(&app, ICD, code, "&date=2025-03-01").await.0, "{code} on 2025-03-01");
        assert!(!validate(&app, ICD, code, "&date=2025-10-01").await.0, "{code} on 2025-10-01");
    }

    // A pinned version wins over the date; url|version is a canonical.
    assert!(validate(&app, ICD, "C50.A0", "&date=2025-03-01&version=2026").await.0);
    assert!(validate(&app, &format!("{ICD}|2026"), "C50.A0", "").await.0);
    assert!(!validate(&app, &format!("{ICD}|2025"), "C50.A0", "").await.0);

    // $expand on a date lists exactly the release in force that day; $lookup answers from it too.
    let total = |answer: Value| answer["expansion"]["total"].as_u64().expect("a total");
    let expand = |date: &str| format!("/fhir/ValueSet/$expand?url={ICD}?fhir_vs&count=0&date={date}");
    let on_2025 = total(app.get(&expand("2025-03-01")).await.json());
    let on_2026 = total(app.get(&expand("2025-10-01")).await.json());
    let version_total = |version: &str| app.terminology.registry().code_system(ICD, Some(version)).expect("a version").len() as u64;
    assert_eq!((on_2025, on_2026), (version_total("2025"), version_total("2026")));
    let lookup = app.get(&format!("/fhir/CodeSystem/$lookup?system={ICD}&code=C50.A0&date=2025-03-01")).await;
    assert_eq!(lookup.status, StatusCode::NOT_FOUND, "{}", lookup.body);

    // Days outside every loaded release say so plainly; a malformed date is a 400.
    for (day, words) in [("2020-01-01", "before every version"), ("2027-01-01", "after the newest version")] {
        let answer = app.get(&format!("/fhir/CodeSystem/$validate-code?url={ICD}&code=A00.0&date={day}")).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{}", answer.body);
        let (_, text) = answer.issue();
        assert!(text.contains(words) && text.contains("2026 from 2025-10-01 to 2026-09-30"), "{day}: {text}");
    }
    let answer = app.get(&format!("/fhir/CodeSystem/$validate-code?url={ICD}&code=A00.0&date=2025-02-30")).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
    assert!(answer.issue().1.contains("'date'"), "{}", answer.body);
}

#[actix_web::test]
async fn a_terminated_hcpcs_code_is_retired_and_not_in_force() {
    let Some(dir) = real_data() else { return };
    let backend = sqlite();
    let app = app(&backend).await;
    for year in ["2018", "2019"] {
        load(&app, loaders::Format::Hcpcs, dir.join(format!("hcpcs/{year}/{year}-Alpha-Numeric-HCPCS-File.zip")));
    }
    // A9599 was terminated on 2017-12-31: kept in the 2018 and 2019 files for historical claims.
    for version in ["2018", "2019"] {
        let answer = app.get(&format!("/fhir/CodeSystem/$validate-code?url={HCPCS}&code=A9599&version={version}")).await.json();
        assert_eq!(parameter(&answer, "result").unwrap()["valueBoolean"], true, "{answer}");
        assert_eq!(parameter(&answer, "inactive").map(|inactive| inactive["valueBoolean"].clone()), Some(Value::Bool(true)), "{answer}");
    }
    let (valid, message) = validate(&app, HCPCS, "A9599", "&date=2018-06-01").await;
    assert!(!valid && message.contains("retired after 2017-12-31"), "{message}");
    // An active code is valid on either side of a release boundary.
    assert!(validate(&app, HCPCS, "A4206", "&date=2018-06-01").await.0);
    assert!(validate(&app, HCPCS, "A4206", "&date=2019-06-01").await.0);

    let lookup = app.get(&format!("/fhir/CodeSystem/$lookup?system={HCPCS}&code=A9599")).await;
    assert_eq!(lookup.status, StatusCode::OK, "{}", lookup.body);
    assert!(lookup.body.contains("\"retirementDate\"") && lookup.body.contains("2017-12-31"), "{}", lookup.body);
    assert!(lookup.body.contains("\"retired\""), "{}", lookup.body);

    // activeOnly and a date of service both leave it out of expansions.
    for query in ["activeOnly=true", "date=2019-06-01"] {
        let expansion = app.get(&format!("/fhir/ValueSet/$expand?url={HCPCS}?fhir_vs&filter=A9599&{query}")).await.json();
        let codes: Vec<&str> =
            expansion["expansion"]["contains"].as_array().into_iter().flatten().filter_map(|entry| entry["code"].as_str()).collect();
        assert!(!codes.contains(&"A9599"), "{query}: {codes:?}");
    }
    let expansion = app.get(&format!("/fhir/ValueSet/$expand?url={HCPCS}?fhir_vs&filter=A9599")).await.json();
    assert!(expansion.to_string().contains("A9599"), "{expansion}");
}
