//! The code systems a FHIR validator asks about all day, answered by a fresh server with no load
//! step: BCP-47 language tags, UCUM units, MIME types (grammars) and ISO 3166 countries; and
//! `ValueSet/$compare` over stored value sets.

use crate::support::{app_with_fhir_core, backend_tests, Backend, TestApp};
use actix_web::http::StatusCode;
use serde_json::{json, Value};

fn parameter<'a>(parameters: &'a Value, name: &str) -> Option<&'a Value> {
    parameters["parameter"].as_array()?.iter().find(|parameter| parameter["name"] == name)
}

/// `CodeSystem/$validate-code` for one code: (result, display or message).
async fn validate(app: &TestApp, system: &str, code: &str) -> (bool, String) {
    let request = json!({"resourceType": "Parameters", "parameter": [
        {"name": "url", "valueUri": system}, {"name": "code", "valueCode": code}]});
    let answer = app.post_json("/fhir/CodeSystem/$validate-code", &request).await;
    assert_eq!(answer.status, StatusCode::OK, "{system} {code}: {}", answer.body);
    let body = answer.json();
    let result = parameter(&body, "result").and_then(|result| result["valueBoolean"].as_bool()).unwrap();
    let text = match result {
        true => parameter(&body, "display").map(|display| display["valueString"].as_str().unwrap().to_owned()),
        false => parameter(&body, "message").map(|message| message["valueString"].as_str().unwrap().to_owned()),
    };
    (result, text.unwrap_or_default())
}

backend_tests! {
    validator_calls => a_validators_typical_calls_are_answered_out_of_the_box;
    bad_input => malformed_units_and_tags_are_a_clear_false_never_an_error;
    lookup_and_expand => grammar_lookup_and_expansion;
    countries => iso_3166_user_assigned_codes_take_displays_from_supplements;
    compare => value_sets_are_compared;
}

async fn a_validators_typical_calls_are_answered_out_of_the_box(backend: &Backend) {
    let app = app_with_fhir_core(backend).await;
    assert_eq!(validate(&app, "urn:ietf:bcp:47", "en-US").await, (true, "English (United States)".to_owned()));
    assert_eq!(validate(&app, "http://unitsofmeasure.org", "mg/dL").await, (true, "mg/dL".to_owned()));
    assert_eq!(validate(&app, "http://unitsofmeasure.org", "kg.m-2").await, (true, "kg.m-2".to_owned()));
    assert_eq!(validate(&app, "http://unitsofmeasure.org", "10*3/uL").await, (true, "10*3/uL".to_owned()));
    assert_eq!(validate(&app, "http://unitsofmeasure.org", "{score}").await, (true, "{score}".to_owned()));
    assert_eq!(validate(&app, "urn:ietf:bcp:13", "application/pdf").await, (true, "application/pdf".to_owned()));
    assert_eq!(validate(&app, "urn:iso:std:iso:3166", "US").await, (true, "United States of America".to_owned()));

    let (result, message) = validate(&app, "urn:ietf:bcp:47", "en-XX").await;
    assert!(!result);
    assert_eq!(message, "Unknown code 'en-XX' in the CodeSystem 'urn:ietf:bcp:47'");
    let (result, message) = validate(&app, "http://unitsofmeasure.org", "kgXX").await;
    assert!(!result);
    assert_eq!(message, "Unknown code 'kgXX' in the CodeSystem 'http://unitsofmeasure.org' version '2.2'");
    let (result, message) = validate(&app, "urn:ietf:bcp:13", "application/pdff").await;
    assert!(!result);
    assert_eq!(message, "Unknown code 'application/pdff' in the CodeSystem 'urn:ietf:bcp:13'");

    // The unit's own error is in the issues, beside "unknown code".
    let request = json!({"resourceType": "Parameters", "parameter": [
        {"name": "url", "valueUri": "http://unitsofmeasure.org"}, {"name": "code", "valueCode": "kgXX"}]});
    let body = app.post_json("/fhir/CodeSystem/$validate-code", &request).await.json();
    let texts: Vec<&str> = parameter(&body, "issues").unwrap()["resource"]["issue"]
        .as_array()
        .unwrap()
        .iter()
        .map(|issue| issue["details"]["text"].as_str().unwrap())
        .collect();
    assert!(texts.contains(&"Error processing unit 'kgXX': The unit 'kgXX' is unknown at character 1"), "{texts:?}");
}

async fn malformed_units_and_tags_are_a_clear_false_never_an_error(backend: &Backend) {
    let app = app_with_fhir_core(backend).await;
    let deep_unit = format!("{}m{}", "(".repeat(5_000), ")".repeat(5_000));
    let long_tag = "en-".repeat(2_000);
    let cases: [(&str, &str); 9] = [
        ("http://unitsofmeasure.org", &deep_unit),
        ("http://unitsofmeasure.org", "m/"),
        ("http://unitsofmeasure.org", "mg/dL{unclosed"),
        ("http://unitsofmeasure.org", "m\u{e9}tre"),
        ("http://unitsofmeasure.org", ")("),
        ("urn:ietf:bcp:47", &long_tag),
        ("urn:ietf:bcp:47", "en--US"),
        ("urn:ietf:bcp:47", "en-us"),
        ("urn:ietf:bcp:13", "text/plain; charset"),
    ];
    for (system, code) in cases {
        let (result, message) = validate(&app, system, code).await;
        assert!(!result, "{system} {code}");
        assert!(message.starts_with("Unknown code"), "{system}: {message}");
    }
}

async fn grammar_lookup_and_expansion(backend: &Backend) {
    let app = app_with_fhir_core(backend).await;
    let answer = app.get("/fhir/CodeSystem/$lookup?system=http://unitsofmeasure.org&code=mg/dL").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let body = answer.json();
    assert_eq!(parameter(&body, "version").unwrap()["valueString"], "2.2");
    let designations: Vec<&str> = body["parameter"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|parameter| parameter["name"] == "designation")
        .filter_map(|designation| designation["part"].as_array()?.iter().find(|part| part["name"] == "value")?["valueString"].as_str())
        .collect();
    assert_eq!(designations, ["mg/dL", "(milligram) / (deciliter)", "milligram per deciliter"]);

    // Expanding all of a grammar gives its common codes, unclosed and without a total.
    let answer = app.get("/fhir/ValueSet/$expand?url=http://hl7.org/fhir/ValueSet/all-languages").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let expansion = &answer.json()["expansion"];
    assert!(expansion.get("total").is_none());
    assert_eq!(expansion["extension"][0]["url"], "http://hl7.org/fhir/StructureDefinition/valueset-unclosed");
    let codes: Vec<&str> = expansion["contains"].as_array().unwrap().iter().map(|entry| entry["code"].as_str().unwrap()).collect();
    assert_eq!(codes.len(), 485);
    assert!(codes.contains(&"en") && codes.contains(&"fr"));

    // A filter the grammar understands: the units whose canonical form is that of grams.
    let value_set = json!({"resourceType": "ValueSet", "url": "http://example.org/mass", "status": "active", "compose": {"include": [
        {"system": "http://unitsofmeasure.org", "filter": [{"property": "canonical", "op": "=", "value": "g"}]}]}});
    let request = json!({"resourceType": "Parameters", "parameter": [{"name": "valueSet", "resource": value_set.clone()}]});
    let expansion = app.post_json("/fhir/ValueSet/$expand", &request).await.json();
    let codes: Vec<&str> =
        expansion["expansion"]["contains"].as_array().unwrap().iter().map(|entry| entry["code"].as_str().unwrap()).collect();
    assert!(codes.contains(&"kg") && codes.contains(&"mg") && !codes.contains(&"mL"), "{codes:?}");
    let request = json!({"resourceType": "Parameters", "parameter": [
        {"name": "valueSet", "resource": value_set}, {"name": "system", "valueUri": "http://unitsofmeasure.org"}, {"name": "code", "valueCode": "mL"}]});
    let body = app.post_json("/fhir/ValueSet/$validate-code", &request).await.json();
    assert_eq!(parameter(&body, "result").unwrap()["valueBoolean"], false);
    let message = parameter(&body, "message").unwrap()["valueString"].as_str().unwrap();
    assert!(message.contains("Code mL has canonical form m3, not g as required"), "{message}");
}

async fn iso_3166_user_assigned_codes_take_displays_from_supplements(backend: &Backend) {
    let app = app_with_fhir_core(backend).await;
    assert_eq!(validate(&app, "urn:iso:std:iso:3166", "XY").await, (true, "User-assigned".to_owned()));
    let with_display = |display: &str, supplement: bool| {
        let mut parameters = vec![
            json!({"name": "url", "valueUri": "urn:iso:std:iso:3166"}),
            json!({"name": "code", "valueCode": "XY"}),
            json!({"name": "display", "valueString": display}),
        ];
        if supplement {
            parameters.push(
                json!({"name": "tx-resource", "resource": {"resourceType": "CodeSystem", "url": "http://example.org/countries",
                "version": "1", "status": "active", "content": "supplement", "supplements": "urn:iso:std:iso:3166",
                "concept": [{"code": "XY", "display": "Weird Country"}]}}),
            );
        }
        json!({"resourceType": "Parameters", "parameter": parameters})
    };
    // A supplement sent with the request names the code; without it, a display is only a note.
    let body = app.post_json("/fhir/CodeSystem/$validate-code", &with_display("Weird Country", true)).await.json();
    assert_eq!(parameter(&body, "result").unwrap()["valueBoolean"], true);
    assert!(parameter(&body, "issues").is_none(), "{body}");
    let body = app.post_json("/fhir/CodeSystem/$validate-code", &with_display("Weird Country", false)).await.json();
    assert_eq!(parameter(&body, "result").unwrap()["valueBoolean"], true);
    let issue = &parameter(&body, "issues").unwrap()["resource"]["issue"][0];
    assert_eq!(issue["severity"], "information");
    assert!(issue["details"]["text"].as_str().unwrap().ends_with("Use a supplement to define displays for user assigned codes"));
}

async fn value_sets_are_compared(backend: &Backend) {
    let app = app_with_fhir_core(backend).await;
    let code_system = json!({"resourceType": "CodeSystem", "url": "http://example.org/cs", "version": "1", "status": "active",
        "content": "complete", "concept": [{"code": "root", "concept": [{"code": "A", "concept": [{"code": "A1"}, {"code": "A2"}]}, {"code": "B"}]}]});
    assert_eq!(app.put_json("/fhir/CodeSystem/cs", &code_system).await.status, StatusCode::CREATED);
    let value_set =
        |url: &str, include: Value| json!({"resourceType": "ValueSet", "url": url, "status": "active", "compose": {"include": [include]}});
    let is_a = |code: &str| json!({"system": "http://example.org/cs", "filter": [{"property": "concept", "op": "is-a", "value": code}]});
    let listed = |codes: &[&str]| json!({"system": "http://example.org/cs", "concept": codes.iter().map(|code| json!({"code": code})).collect::<Vec<_>>()});
    let compare = |this: Value, other: Value| {
        json!({"resourceType": "Parameters", "parameter": [
            {"name": "thisValueSet", "resource": this}, {"name": "otherValueSet", "resource": other}, {"name": "diagnostics", "valueBoolean": true}]})
    };
    let cases = [
        (value_set("http://example.org/a", is_a("A")), value_set("http://example.org/root", is_a("root")), "subset", false),
        (value_set("http://example.org/root", is_a("root")), value_set("http://example.org/a", is_a("A")), "superset", false),
        (value_set("http://example.org/a", is_a("A")), value_set("http://example.org/b", is_a("B")), "disjoint", false),
        (value_set("http://example.org/a", is_a("A")), value_set("http://example.org/l", listed(&["A", "A1", "A2"])), "same", true),
        (
            value_set("http://example.org/l1", listed(&["A1", "B"])),
            value_set("http://example.org/l2", listed(&["A2", "B"])),
            "overlapping",
            false,
        ),
    ];
    for (this, other, expected, expanded) in cases {
        let answer = app.post_json("/fhir/ValueSet/$compare", &compare(this, other)).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        let body = answer.json();
        assert_eq!(parameter(&body, "result").unwrap()["valueCode"], expected, "{body}");
        assert_eq!(parameter(&body, "performed-expansion").unwrap()["valueBoolean"], expanded, "{body}");
    }
    let body = app
        .post_json(
            "/fhir/ValueSet/$compare",
            &compare(value_set("http://example.org/l1", listed(&["A1", "B"])), value_set("http://example.org/l2", listed(&["A2", "B"]))),
        )
        .await
        .json();
    assert_eq!(parameter(&body, "common-codes").unwrap()["valueString"], "B");
    assert_eq!(parameter(&body, "missing-codes").unwrap()["valueString"], "A1");
    assert_eq!(parameter(&body, "extra-codes").unwrap()["valueString"], "A2");
}
