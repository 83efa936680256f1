//! Every loader's fixture, stored the way `fhirterm load` stores it, answers the operations.

use crate::support::{app, sqlite, TestApp};
use actix_web::http::StatusCode;
use serde_json::Value;
use std::path::PathBuf;

fn fixture(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../crates/loaders/test_data").join(relative)
}

/// Loads a fixture exactly as `fhirterm load auto PATH` does.
async fn load(relative: &str) -> (crate::support::Backend, TestApp, Vec<(String, String)>) {
    let backend = sqlite();
    let app = app(&backend).await;
    let source = loaders::open_paths(&[fixture(relative)]).expect("open fixture");
    let format = loaders::detect(source.as_ref()).expect("detect format");
    let loaded = loaders::load(format, source.as_ref(), &loaders::LoadOptions::default()).expect("load fixture");
    let codes: Vec<(String, String)> = loaded
        .code_systems
        .iter()
        .flat_map(|code_system| code_system.concepts.iter().map(move |concept| (code_system.url.clone(), concept.code.clone())))
        .collect();
    app.terminology.load(loaded.code_systems, loaded.resources).expect("store fixture");
    (backend, app, codes)
}

fn parameter<'a>(parameters: &'a Value, name: &str) -> Option<&'a Value> {
    parameters["parameter"].as_array()?.iter().find(|parameter| parameter["name"] == name)
}

fn encode(text: &str) -> String {
    text.replace('%', "%25")
        .replace('|', "%7C")
        .replace('?', "%3F")
        .replace('=', "%3D")
        .replace('/', "%2F")
        .replace(':', "%3A")
        .replace(' ', "%20")
}

#[actix_web::test]
async fn every_fixture_validates_looks_up_and_expands_its_codes() {
    for relative in [
        "icd10cm/icd10cm_tabular_2026.xml",
        "icd10pcs/icd10pcs_order_2026.txt",
        "hcpcs/HCPC2019_CONTR_ANWEB.txt",
        "cpt/2026",
        "ndc",
        "snomed_rf2/SnomedCT_InternationalRF2_PRODUCTION_20250101T120000Z",
        "loinc/Loinc_2.77",
        "rxnorm_rrf/RxNorm_full_01062025",
    ] {
        let (_backend, app, codes) = load(relative).await;
        assert!(!codes.is_empty(), "{relative}: no codes");
        for (system, code) in codes.iter().take(8) {
            let validate = app.get(&format!("/fhir/CodeSystem/$validate-code?url={}&code={}", encode(system), encode(code))).await.json();
            assert_eq!(
                parameter(&validate, "result").map(|result| &result["valueBoolean"]),
                Some(&Value::Bool(true)),
                "{relative} {code}: {validate}"
            );
            let lookup = app.get(&format!("/fhir/CodeSystem/$lookup?system={}&code={}", encode(system), encode(code))).await;
            assert_eq!(lookup.status, StatusCode::OK, "{relative} {code}: {}", lookup.body);
        }
        let system = &codes[0].0;
        let n_codes = codes.iter().filter(|(code_system, _)| code_system == system).count();
        let expansion = app.get(&format!("/fhir/ValueSet/$expand?url={}&count=5", encode(&format!("{system}?fhir_vs")))).await;
        assert_eq!(expansion.status, StatusCode::OK, "{relative}: {}", expansion.body);
        assert_eq!(expansion.json()["expansion"]["total"], n_codes, "{relative}");
        let invalid = app.get(&format!("/fhir/CodeSystem/$validate-code?url={}&code=NOT-A-CODE", encode(system))).await.json();
        assert_eq!(parameter(&invalid, "result").map(|result| &result["valueBoolean"]), Some(&Value::Bool(false)), "{relative}");
    }
}

#[actix_web::test]
async fn snomed_multiple_parents_subsumption_and_implicit_value_sets() {
    let (_backend, app, _) = load("snomed_rf2/SnomedCT_InternationalRF2_PRODUCTION_20250101T120000Z").await;
    let lookup = app.get("/fhir/CodeSystem/$lookup?system=http://snomed.info/sct&code=1400004&property=parent").await.json();
    let parents: Vec<&str> = lookup["parameter"]
        .as_array()
        .expect("parameters")
        .iter()
        .filter(|parameter| parameter["name"] == "property" && parameter["part"][0]["valueCode"] == "parent")
        .filter_map(|parameter| parameter["part"][1]["valueCode"].as_str())
        .collect();
    assert_eq!(parents.len(), 2, "{lookup}");
    let subsumes = app.get("/fhir/CodeSystem/$subsumes?system=http://snomed.info/sct&codeA=1100005&codeB=1400004").await.json();
    assert_eq!(parameter(&subsumes, "outcome").expect("outcome")["valueCode"], "subsumes");
    let not_subsumed = app.get("/fhir/CodeSystem/$subsumes?system=http://snomed.info/sct&codeA=1200007&codeB=1300002").await.json();
    assert_eq!(parameter(&not_subsumed, "outcome").expect("outcome")["valueCode"], "not-subsumed");
    let in_isa = app
        .get(&format!(
            "/fhir/ValueSet/$validate-code?url={}&system=http://snomed.info/sct&code=1400004",
            encode("http://snomed.info/sct?fhir_vs=isa/1100005")
        ))
        .await
        .json();
    assert_eq!(parameter(&in_isa, "result").expect("result")["valueBoolean"], true, "{in_isa}");
    let refset = app.get(&format!("/fhir/ValueSet/$expand?url={}", encode("http://snomed.info/sct?fhir_vs=refset/1900008"))).await.json();
    assert_eq!(refset["expansion"]["total"], 1, "{refset}");
    assert_eq!(refset["expansion"]["contains"][0]["code"], "1400004");
}

#[actix_web::test]
async fn ndc_ten_and_eleven_digit_forms_translate() {
    let (_backend, app, codes) = load("ndc").await;
    let ten_digit =
        codes.iter().map(|(_, code)| code).find(|code| code.contains('-') && code.len() == 12).expect("a 10-digit code").clone();
    let translated = app.get(&format!("/fhir/ConceptMap/$translate?system=http://hl7.org/fhir/sid/ndc&code={ten_digit}")).await.json();
    assert_eq!(parameter(&translated, "result").expect("result")["valueBoolean"], true, "{translated}");
    let eleven = parameter(&translated, "match").expect("match")["part"][1]["valueCoding"]["code"].as_str().expect("code").to_owned();
    assert_eq!(eleven.len(), 11, "{eleven}");
}

#[actix_web::test]
async fn loinc_implicit_value_set_and_filter() {
    let (_backend, app, _) = load("loinc/Loinc_2.77").await;
    let validate = app.get("/fhir/ValueSet/$validate-code?url=http://loinc.org/vs&system=http://loinc.org&code=99990-1").await.json();
    assert_eq!(parameter(&validate, "result").expect("result")["valueBoolean"], true, "{validate}");
    let filtered = app.get("/fhir/ValueSet/$expand?url=http://loinc.org/vs&filter=testose%20serum").await.json();
    assert_eq!(filtered["expansion"]["contains"][0]["code"], "99990-1", "{filtered}");
}

/// `$validate-code` with a `date` on the HCPCS fixture (the 2019 file, in force for 2019; A9270
/// added 1992-01-01 and terminated 2019-12-31): inside the release's year the code's own dates
/// decide, and a day outside every loaded release says so instead of guessing.
#[actix_web::test]
async fn a_date_checks_hcpcs_codes_against_their_release_and_their_own_dates() {
    let (_backend, app, _) = load("hcpcs/HCPC2019_CONTR_ANWEB.txt").await;
    let system = encode(loaders::hcpcs::HCPCS_URL);
    let validate = |code: &'static str, date: Option<&'static str>| {
        let uri = format!(
            "/fhir/CodeSystem/$validate-code?url={system}&code={code}{}",
            date.map(|date| format!("&date={}", encode(date))).unwrap_or_default()
        );
        let app = &app;
        async move { app.get(&uri).await }
    };
    let result = |answer: &crate::support::Answer| parameter(&answer.json(), "result").map(|result| result["valueBoolean"].clone());
    for (code, date) in
        [("A9270", None), ("A9270", Some("2019-06-01")), ("A9270", Some("2019-12-31")), ("A9270", Some("2019")), ("J0120", Some("2019-02"))]
    {
        let answer = validate(code, date).await;
        assert_eq!(answer.status, StatusCode::OK, "{code} {date:?}: {}", answer.body);
        assert_eq!(result(&answer), Some(Value::Bool(true)), "{code} {date:?}: {}", answer.body);
    }
    for (date, words) in [
        ("2020-01-01", "after the newest version"),
        ("2020-03-04T10:00:00Z", "after the newest version"),
        ("1991-12", "before every version"),
    ] {
        let answer = validate("A9270", Some(date)).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{date}: {}", answer.body);
        assert!(
            answer.issue().1.contains(words) && answer.issue().1.contains("2019 from 2019-01-01 to 2019-12-31"),
            "{date}: {}",
            answer.body
        );
    }
    let malformed = validate("A9270", Some("June 2020")).await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST, "{}", malformed.body);
}
