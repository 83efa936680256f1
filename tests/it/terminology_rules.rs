//! The finer rules of the operations that HL7's suite checks, proven here on small inline content:
//! message ids, one code system in two versions inside a value set, `default-valueset-version`,
//! fragments, and the properties an expansion shows without being asked.

use crate::support::{app, sqlite, TestApp};
use actix_web::http::StatusCode;
use serde_json::{json, Value};

const OVERLOAD: &str = "http://example.org/cs/overload";

fn overload_version(version: &str, concepts: Value) -> Value {
    json!({"resourceType": "CodeSystem", "url": OVERLOAD, "version": version, "status": "active", "content": "complete", "concept": concepts})
}

/// Version 1.0.0 has code1..code3, version 2.0.0 has code1, code2 (renamed) and code4.
fn overload_versions() -> Vec<Value> {
    vec![
        overload_version(
            "1.0.0",
            json!([{"code": "code1", "display": "One"}, {"code": "code2", "display": "Two"}, {"code": "code3", "display": "Three"}]),
        ),
        overload_version(
            "2.0.0",
            json!([{"code": "code1", "display": "One"}, {"code": "code2", "display": "Two #2"}, {"code": "code4", "display": "Four"}]),
        ),
    ]
}

async fn operation(app: &TestApp, path: &str, parameters: Vec<Value>, resources: Vec<Value>) -> (StatusCode, Value) {
    let mut all = parameters;
    all.extend(resources.into_iter().map(|resource| json!({"name": "tx-resource", "resource": resource})));
    let answer = app.post_json(path, &json!({"resourceType": "Parameters", "parameter": all})).await;
    (answer.status, answer.json())
}

fn parameter<'a>(parameters: &'a Value, name: &str) -> Option<&'a Value> {
    parameters["parameter"].as_array()?.iter().find(|parameter| parameter["name"] == name)
}

fn message_ids(parameters: &Value) -> Vec<String> {
    let issues = parameter(parameters, "issues").map(|issues| issues["resource"]["issue"].clone()).unwrap_or(Value::Null);
    issues
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|issue| issue["extension"].as_array().cloned().unwrap_or_default())
        .filter(|extension| extension["url"] == "http://hl7.org/fhir/StructureDefinition/operationoutcome-message-id")
        .map(|extension| extension["valueString"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[actix_web::test]
async fn a_code_is_judged_against_the_version_of_the_value_set_that_holds_it() {
    let backend = sqlite();
    let app = app(&backend).await;
    let value_set = json!({"resourceType": "ValueSet", "url": "http://example.org/vs/both", "status": "active",
        "compose": {"include": [{"system": OVERLOAD, "version": "1.0.0"}, {"system": OVERLOAD, "version": "2.0.0"}]}});
    let mut content = overload_versions();
    content.push(value_set);
    let validate = |code: &str, display: Option<&str>| {
        let mut coding = json!({"system": OVERLOAD, "code": code});
        if let Some(display) = display {
            coding["display"] = json!(display);
        }
        vec![json!({"name": "url", "valueUri": "http://example.org/vs/both"}), json!({"name": "coding", "valueCoding": coding})]
    };
    let cases: &[(&str, Option<&str>, bool, &str)] = &[
        ("code1", None, true, "2.0.0"),           // in both: the newest
        ("code3", None, true, "1.0.0"),           // only in the older
        ("code2", Some("Two"), true, "1.0.0"),    // the display only the older has
        ("code2", Some("Two #2"), true, "2.0.0"), // the display only the newer has
        ("code2", Some("Deux"), false, "2.0.0"),  // neither: judged against the newest
    ];
    for (code, display, valid, version) in cases {
        let (status, answer) = operation(&app, "/fhir/ValueSet/$validate-code", validate(code, *display), content.clone()).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(parameter(&answer, "result").unwrap()["valueBoolean"], *valid, "{code} {display:?}: {answer}");
        assert_eq!(parameter(&answer, "version").unwrap()["valueString"], *version, "{code} {display:?}: {answer}");
    }
    let (_, unknown) = operation(&app, "/fhir/ValueSet/$validate-code", validate("code99", None), content.clone()).await;
    let mut ids = message_ids(&unknown);
    ids.sort();
    assert_eq!(ids, ["None_of_the_provided_codes_are_in_the_value_set_one", "Unknown_Code_in_Version"]);

    // Excluding the whole older version removes the codes it has, and keeps the one it lacks.
    let without_old = json!({"resourceType": "ValueSet", "url": "http://example.org/vs/new-only", "status": "active",
        "compose": {"include": [{"system": OVERLOAD, "version": "2.0.0"}], "exclude": [{"system": OVERLOAD, "version": "1.0.0"}]}});
    content.push(without_old);
    for (code, valid) in [("code4", true), ("code1", false)] {
        let parameters = vec![
            json!({"name": "url", "valueUri": "http://example.org/vs/new-only"}),
            json!({"name": "coding", "valueCoding": {"system": OVERLOAD, "code": code}}),
        ];
        let (_, answer) = operation(&app, "/fhir/ValueSet/$validate-code", parameters, content.clone()).await;
        assert_eq!(parameter(&answer, "result").unwrap()["valueBoolean"], valid, "{code}: {answer}");
    }
    let (_, expansion) =
        operation(&app, "/fhir/ValueSet/$expand", vec![json!({"name": "url", "valueUri": "http://example.org/vs/new-only"})], content)
            .await;
    let entries = expansion["expansion"]["contains"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!((&entries[0]["code"], &entries[0]["version"]), (&json!("code4"), &json!("2.0.0")));
}

#[actix_web::test]
async fn default_valueset_version_chooses_the_imported_version() {
    let backend = sqlite();
    let app = app(&backend).await;
    let code_system = overload_versions().remove(0);
    let imported = |version: &str, code: &str| {
        json!({"resourceType": "ValueSet", "url": "http://example.org/vs/imported", "version": version, "status": "active",
            "compose": {"include": [{"system": OVERLOAD, "version": "1.0.0", "concept": [{"code": code}]}]}})
    };
    let importer = json!({"resourceType": "ValueSet", "url": "http://example.org/vs/importer", "status": "active",
        "compose": {"include": [{"valueSet": ["http://example.org/vs/imported"]}]}});
    let content = vec![code_system, imported("1", "code1"), imported("2", "code2"), importer];
    let expand = |default: &str| {
        vec![
            json!({"name": "url", "valueUri": "http://example.org/vs/importer"}),
            json!({"name": "default-valueset-version", "valueCanonical": format!("http://example.org/vs/imported|{default}")}),
        ]
    };
    let (status, pinned) = operation(&app, "/fhir/ValueSet/$expand", expand("1"), content.clone()).await;
    assert_eq!(status, StatusCode::OK, "{pinned}");
    assert_eq!(pinned["expansion"]["contains"][0]["code"], "code1");
    let echoed =
        pinned["expansion"]["parameter"].as_array().unwrap().iter().any(|parameter| {
            parameter["name"] == "default-valueset-version" && parameter["valueUri"] == "http://example.org/vs/imported|1"
        });
    assert!(echoed, "{pinned}");
    let (status, missing) = operation(&app, "/fhir/ValueSet/$expand", expand("3"), content).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{missing}");
    assert_eq!(missing["issue"][0]["extension"][0]["valueString"], "VS_EXP_IMPORT_UNK_PINNED");
    assert!(missing["issue"][0]["details"]["text"].as_str().unwrap().contains("version '3'"), "{missing}");
}

#[actix_web::test]
async fn fragments_and_implicit_expansion_properties() {
    let backend = sqlite();
    let app = app(&backend).await;
    let fragment = json!({"resourceType": "CodeSystem", "url": "http://example.org/cs/fragment", "version": "1", "status": "active",
        "content": "fragment", "concept": [{"code": "a", "display": "A",
            "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/codesystem-label", "valueString": "a)"}]}]});
    // An unknown code in a fragment may exist elsewhere: a warning, and still valid.
    let parameters = vec![json!({"name": "url", "valueUri": "http://example.org/cs/fragment"}), json!({"name": "code", "valueCode": "zz"})];
    let (_, answer) = operation(&app, "/fhir/CodeSystem/$validate-code", parameters, vec![fragment.clone()]).await;
    assert_eq!(parameter(&answer, "result").unwrap()["valueBoolean"], true, "{answer}");
    assert_eq!(message_ids(&answer), ["UNKNOWN_CODE_IN_FRAGMENT"]);
    assert!(parameter(&answer, "message").is_none(), "{answer}");

    // The expansion says it may be incomplete, and shows the label and the value set's order and weight.
    let value_set = json!({"resourceType": "ValueSet", "url": "http://example.org/vs/fragment", "status": "active",
        "compose": {"include": [{"system": "http://example.org/cs/fragment", "concept": [{"code": "a", "extension": [
            {"url": "http://hl7.org/fhir/StructureDefinition/valueset-conceptOrder", "valueInteger": 3},
            {"url": "http://hl7.org/fhir/StructureDefinition/itemWeight", "valueDecimal": 1.5},
            {"url": "http://example.org/unknown-extension", "valueString": "left out"}]}]}]}});
    let (status, expansion) = operation(
        &app,
        "/fhir/ValueSet/$expand",
        vec![json!({"name": "url", "valueUri": "http://example.org/vs/fragment"})],
        vec![fragment, value_set],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{expansion}");
    let used_fragment =
        expansion["expansion"]["parameter"].as_array().unwrap().iter().any(|parameter| parameter["name"] == "used-fragment");
    assert!(used_fragment, "{expansion}");
    let entry = &expansion["expansion"]["contains"][0];
    let properties: Vec<(String, String)> = entry["extension"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|extension| extension["url"].as_str().unwrap().ends_with("expansion.contains.property"))
        .map(|extension| (extension["extension"][0]["valueCode"].as_str().unwrap().to_owned(), extension["extension"][1].to_string()))
        .collect();
    let codes: Vec<&str> = properties.iter().map(|(code, _)| code.as_str()).collect();
    assert_eq!(codes, ["order", "label", "weight"], "{entry}");
    assert!(!entry.to_string().contains("unknown-extension"), "{entry}");
}
