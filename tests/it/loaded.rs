//! Every loader's fixture, stored the way `fhirterm load` stores it, answers the operations.

use crate::support::{app, encode, sqlite, TestApp};
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

/// The codes of an expansion, in order, nested ones after the code they are nested in.
fn expanded_codes(expansion: &Value) -> Vec<String> {
    fn walk(contains: &Value, out: &mut Vec<String>) {
        for member in contains.as_array().into_iter().flatten() {
            out.extend(member["code"].as_str().map(str::to_owned));
            walk(&member["contains"], out);
        }
    }
    let mut codes = Vec::new();
    walk(&expansion["expansion"]["contains"], &mut codes);
    codes
}

/// Expands a value set of LOINC codes chosen by one compose filter.
async fn expand_loinc_filter(app: &TestApp, property: &str, op: &str, value: &str) -> crate::support::Answer {
    let value_set = serde_json::json!({"resourceType": "ValueSet", "url": "http://example.org/loinc-filter", "status": "active",
        "compose": {"include": [{"system": "http://loinc.org", "filter": [{"property": property, "op": op, "value": value}]}]}});
    app.post_json(
        "/fhir/ValueSet/$expand",
        &serde_json::json!({"resourceType": "Parameters", "parameter": [{"name": "valueSet", "resource": value_set}]}),
    )
    .await
}

#[actix_web::test]
async fn loinc_answer_lists_and_parts_are_value_sets() {
    let (_backend, app, _) = load("loinc/Loinc_2.77").await;
    // An answer list: its answers, in sequence order (the file lists "No" first).
    let yes_no = app.get(&format!("/fhir/ValueSet/$expand?url={}", encode("http://loinc.org/vs/LL99001-1"))).await.json();
    assert_eq!(expanded_codes(&yes_no), ["LA99001-2", "LA99002-0", "LA99005-3"], "{yes_no}");
    assert_eq!(yes_no["expansion"]["contains"][0]["display"], "Yes", "{yes_no}");
    let in_list = |code: &'static str| {
        let app = &app;
        async move {
            let uri = format!(
                "/fhir/ValueSet/$validate-code?url={}&system=http://loinc.org&code={code}",
                encode("http://loinc.org/vs/LL99001-1")
            );
            let answer = app.get(&uri).await.json();
            parameter(&answer, "result").map(|result| result["valueBoolean"].clone())
        }
    };
    assert_eq!(in_list("LA99002-0").await, Some(Value::Bool(true)));
    assert_eq!(in_list("LA99003-8").await, Some(Value::Bool(false)));
    assert_eq!(in_list("99990-1").await, Some(Value::Bool(false)));
    // A part: the terms under it in the component hierarchy, not the part itself.
    let testose = app.get(&format!("/fhir/ValueSet/$expand?url={}", encode("http://loinc.org/vs/LP99001-1"))).await.json();
    assert_eq!(expanded_codes(&testose), ["99990-1", "99991-9"], "{testose}");
    for (code, member) in [("99991-9", true), ("LP99001-1", false), ("99993-5", false)] {
        let uri =
            format!("/fhir/ValueSet/$validate-code?url={}&system=http://loinc.org&code={code}", encode("http://loinc.org/vs/LP99001-1"));
        let answer = app.get(&uri).await.json();
        assert_eq!(parameter(&answer, "result").expect("result")["valueBoolean"], member, "{code}: {answer}");
    }
    // A code the release lacks, or one that is neither a list nor a part, names no value set.
    for url in ["http://loinc.org/vs/LL12345-6", "http://loinc.org/vs/99990-1"] {
        let missing = app.get(&format!("/fhir/ValueSet/$expand?url={}", encode(url))).await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND, "{url}: {}", missing.body);
    }
}

#[actix_web::test]
async fn loinc_filters_on_parts_answers_status_and_copyright() {
    let (_backend, app, _) = load("loinc/Loinc_2.77").await;
    for (property, op, value, expected) in [
        // Parts by LP code, or by name in any case; a term without the link keeps its column text.
        ("SCALE_TYP", "=", "QN", vec!["99990-1", "99991-9", "99993-5"]),
        ("SCALE_TYP", "=", "LP99009-4", vec!["99994-3"]),
        // Column text too ignores case, as LOINC's property values do.
        ("PROPERTY", "=", "scnc", vec!["99991-9"]),
        ("COMPONENT", "=", "Testose", vec!["99990-1", "99991-9"]),
        ("COMPONENT", "=", "LP99001-1", vec!["99990-1", "99991-9"]),
        ("METHOD_TYP", "=", "LP99001-1", vec![]),
        ("CLASS", "=", "CHEM", vec!["99990-1", "99991-9", "99993-5"]),
        ("CLASS", "regex", "CH.*|SURVEY\\..*", vec!["99990-1", "99991-9", "99993-5", "99994-3"]),
        ("PROPERTY", "in", "SCnc,LP99006-0", vec!["99990-1", "99991-9"]),
        ("CLASSTYPE", "=", "4", vec!["99994-3"]),
        ("STATUS", "=", "DISCOURAGED", vec!["99992-7"]),
        ("ORDER_OBS", "=", "Order", vec!["99992-7"]),
        ("copyright", "=", "3rdParty", vec!["99994-3"]),
        // Answer lists: LIST gives one list's answers, answers-for every list of a term.
        ("LIST", "=", "LL99002-9", vec!["LA99003-8", "LA99004-6", "LA99005-3"]),
        ("answers-for", "=", "LL99002-9", vec!["LA99003-8", "LA99004-6", "LA99005-3"]),
        ("answers-for", "=", "99994-3", vec!["LA99003-8", "LA99004-6", "LA99005-3", "LA99001-2", "LA99002-0"]),
        ("answer-list", "=", "LL99001-1", vec!["99992-7", "99994-3"]),
        // The component hierarchy.
        ("ancestor", "=", "LP99000-3", vec!["99990-1", "99991-9", "99993-5", "LP99001-1", "LP99003-7", "LP99004-5"]),
        ("parent", "=", "LP99004-5", vec!["99990-1"]),
    ] {
        let answer = expand_loinc_filter(&app, property, op, value).await;
        assert_eq!(answer.status, StatusCode::OK, "{property} {op} {value}: {}", answer.body);
        let mut codes = expanded_codes(&answer.json());
        if !matches!(property, "LIST" | "answers-for") {
            codes.sort();
        }
        assert_eq!(codes, expected, "{property} {op} {value}");
    }
    let third_party = expand_loinc_filter(&app, "copyright", "=", "LOINC").await.json();
    assert!(!expanded_codes(&third_party).contains(&"99994-3".to_owned()) && expanded_codes(&third_party).contains(&"99990-1".to_owned()));
    for (property, op, value) in [("LIST", "in", "LL99001-1"), ("copyright", "=", "Regenstrief"), ("NOT_A_PROPERTY", "=", "x")] {
        let refused = expand_loinc_filter(&app, property, op, value).await;
        assert_eq!(refused.status.as_u16() / 100, 4, "{property} {op} {value}: {}", refused.body);
        assert_eq!(refused.json()["resourceType"], "OperationOutcome", "{}", refused.body);
    }
}

#[actix_web::test]
async fn loinc_lookup_shows_parts_and_answer_lists() {
    let (_backend, app, _) = load("loinc/Loinc_2.77").await;
    let properties = |lookup: &Value, code: &str| -> Vec<Value> {
        lookup["parameter"]
            .as_array()
            .expect("parameters")
            .iter()
            .filter(|parameter| parameter["name"] == "property" && parameter["part"][0]["valueCode"] == code)
            .map(|parameter| parameter["part"][1].clone())
            .collect()
    };
    let score = app.get("/fhir/CodeSystem/$lookup?system=http://loinc.org&code=99994-3").await.json();
    let lists: Vec<Value> = properties(&score, "answer-list").iter().map(|value| value["valueCoding"]["code"].clone()).collect();
    assert_eq!(lists, [Value::from("LL99002-9"), Value::from("LL99001-1")], "{score}");
    assert_eq!(properties(&score, "SCALE_TYP")[0]["valueCoding"]["display"], "Ord", "{score}");
    let list = app.get("/fhir/CodeSystem/$lookup?system=http://loinc.org&code=LL99002-9").await.json();
    assert_eq!(parameter(&list, "display").expect("display")["valueString"], "Test severity");
    assert_eq!(properties(&list, "Answer").len(), 3, "{list}");
    let answer = app.get("/fhir/CodeSystem/$lookup?system=http://loinc.org&code=LA99005-3").await.json();
    assert_eq!(parameter(&answer, "display").expect("display")["valueString"], "Unknown");
    assert_eq!(properties(&answer, "AnswerList").len(), 2, "{answer}");
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
