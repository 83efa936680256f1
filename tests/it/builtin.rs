//! The FHIR R4 core terminology compiled into the binary: there on a fresh server, replaced by
//! stored content with the same url and version, back when that content is deleted.

use crate::support::{app_with_fhir_core, backend_tests, Backend};
use actix_web::http::StatusCode;
use serde_json::{json, Value};

fn parameter<'a>(parameters: &'a Value, name: &str) -> Option<&'a Value> {
    parameters["parameter"].as_array()?.iter().find(|parameter| parameter["name"] == name)
}

const GENDER: &str = "http://hl7.org/fhir/administrative-gender";

backend_tests! {
    core_terminology => core_terminology_is_there_and_stored_content_replaces_it;
}

async fn core_terminology_is_there_and_stored_content_replaces_it(backend: &Backend) {
    let app = app_with_fhir_core(backend).await;
    let validate = |code: &'static str| format!("/fhir/CodeSystem/$validate-code?url={GENDER}&code={code}");

    // A fresh database: the core code system and value set answer.
    let answer = app.get(&validate("male")).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(parameter(&answer.json(), "result").unwrap()["valueBoolean"], true);
    assert_eq!(parameter(&answer.json(), "version").unwrap()["valueString"], "4.0.1");
    let answer = app.get("/fhir/ValueSet/$expand?url=http://hl7.org/fhir/ValueSet/administrative-gender").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let expansion = answer.json();
    let codes: Vec<&str> =
        expansion["expansion"]["contains"].as_array().unwrap().iter().map(|entry| entry["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["male", "female", "other", "unknown"]);
    // Not stored: REST search lists only what was stored.
    assert_eq!(app.get(&format!("/fhir/CodeSystem?url={GENDER}")).await.json()["total"], 0);

    // A stored code system with the same url and version replaces the built-in one...
    let replacement = json!({"resourceType": "CodeSystem", "url": GENDER, "version": "4.0.1", "status": "active",
            "content": "complete", "concept": [{"code": "nonbinary", "display": "Non-binary"}]});
    assert_eq!(app.put_json("/fhir/CodeSystem/local-gender", &replacement).await.status, StatusCode::CREATED);
    assert_eq!(parameter(&app.get(&validate("nonbinary")).await.json(), "result").unwrap()["valueBoolean"], true);
    assert_eq!(parameter(&app.get(&validate("male")).await.json(), "result").unwrap()["valueBoolean"], false);

    // ...and deleting it brings the built-in one back.
    assert_eq!(app.send("DELETE", "/fhir/CodeSystem/local-gender", &[], None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(parameter(&app.get(&validate("male")).await.json(), "result").unwrap()["valueBoolean"], true);
    assert_eq!(parameter(&app.get(&validate("nonbinary")).await.json(), "result").unwrap()["valueBoolean"], false);
}
