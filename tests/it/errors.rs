//! Every error path answers with an OperationOutcome and the right status, never HTML or a panic.

use crate::support::{app, app_with, sample_code_system, sqlite};
use actix_web::http::StatusCode;
use serde_json::json;

#[actix_web::test]
async fn each_error_is_an_operation_outcome_with_its_status() {
    let backend = sqlite();
    let config = server::ServerConfig { max_body_bytes: 2048, auth: server::AuthConfig::anonymous_writes(), ..Default::default() };
    let app = app_with(&backend, config).await;
    let json_type = [("content-type", "application/fhir+json")];

    let malformed = app.send("PUT", "/fhir/CodeSystem/x", &json_type, Some("{\n  \"resourceType\": \"CodeSystem\",\n  \"url\": }")).await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    let (code, text) = malformed.issue();
    assert_eq!(code, "structure");
    assert!(text.contains("line 3"), "{text}");

    let xml_type = [("content-type", "application/fhir+xml")];
    let broken_xml = app
        .send("PUT", "/fhir/CodeSystem/x", &xml_type, Some("<CodeSystem xmlns=\"http://hl7.org/fhir\">\n<url value=\"x\"/>\n<status>"))
        .await;
    assert_eq!(broken_xml.status, StatusCode::BAD_REQUEST);
    assert!(broken_xml.issue().1.contains("line 3"), "{}", broken_xml.body);

    let wrong_type = app.put_json("/fhir/CodeSystem/x", &json!({"resourceType": "ValueSet", "status": "active"})).await;
    assert_eq!(wrong_type.status, StatusCode::BAD_REQUEST);
    assert!(wrong_type.issue().1.contains("ValueSet"), "{}", wrong_type.body);

    let other_id = app
        .put_json("/fhir/CodeSystem/x", &json!({"resourceType": "CodeSystem", "id": "y", "status": "active", "content": "complete"}))
        .await;
    assert_eq!(other_id.status, StatusCode::BAD_REQUEST);
    assert!(other_id.issue().1.contains("'y'"), "{}", other_id.body);

    let invalid = app
        .put_json(
            "/fhir/CodeSystem/x",
            &json!({"resourceType": "CodeSystem", "status": "active", "content": "complete", "concept": [{"display": "no code"}]}),
        )
        .await;
    assert_eq!(invalid.status, StatusCode::BAD_REQUEST);
    assert!(invalid.issue().1.contains("concept[0].code"), "{}", invalid.body);
    assert_eq!(app.get("/fhir/CodeSystem/x").await.status, StatusCode::NOT_FOUND, "a refused write stores nothing");

    let missing = app.get("/fhir/ValueSet/nope").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.issue().0, "not-found");
    assert_eq!(app.get("/fhir/Patient/1").await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get("/no/such/route").await.issue().0, "not-found");

    let unsupported = app.send("PUT", "/fhir/CodeSystem/x", &[("content-type", "text/plain")], Some("hello")).await;
    assert_eq!(unsupported.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(unsupported.issue().0, "not-supported");

    let big_body = json!({"resourceType": "CodeSystem", "status": "active", "content": "complete", "description": "x".repeat(4096)});
    let too_large = app.put_json("/fhir/CodeSystem/x", &big_body).await;
    assert_eq!(too_large.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(too_large.issue().0, "too-costly");

    let not_acceptable = app.get("/fhir/metadata?_format=text/csv").await;
    assert_eq!(not_acceptable.status, StatusCode::NOT_ACCEPTABLE);
    assert!(not_acceptable.content_type.starts_with("application/fhir+json"));

    let xml_error = app.send("GET", "/fhir/ValueSet/nope", &[("accept", "application/fhir+xml")], None).await;
    assert!(xml_error.body.contains("<OperationOutcome"), "errors come back in the format asked for: {}", xml_error.body);
}

#[actix_web::test]
async fn operation_errors_are_operation_outcomes() {
    let backend = sqlite();
    let app = app(&backend).await;
    app.put_json("/fhir/CodeSystem/sample", &sample_code_system()).await;
    let unknown_value_set =
        app.get("/fhir/ValueSet/$validate-code?url=http://example.org/vs/none&code=x&system=http://example.org/cs/sample").await;
    assert_eq!(unknown_value_set.status, StatusCode::NOT_FOUND);
    assert!(unknown_value_set.issue().1.contains("http://example.org/vs/none"));
    let not_parameters = app.post_json("/fhir/ValueSet/$expand", &json!({"resourceType": "ValueSet"})).await;
    assert_eq!(not_parameters.status, StatusCode::BAD_REQUEST);
    let unknown_operation = app.get("/fhir/CodeSystem/$frobnicate").await;
    assert_eq!(unknown_operation.status, StatusCode::NOT_FOUND);
}

/// Handlers return errors without naming a format; every one comes back in the format the request
/// asked for, whichever layer refused it: the operation, its parameters, the route table, the body.
#[actix_web::test]
async fn errors_answer_in_the_format_the_request_asked_for() {
    let backend = sqlite();
    let app = app(&backend).await;
    let xml = [("accept", "application/fhir+xml")];
    for (method, uri, status) in [
        ("GET", "/fhir/ValueSet/$validate-code?url=http://example.org/vs/none&code=x&_format=xml", StatusCode::NOT_FOUND),
        ("GET", "/fhir/CodeSystem/$frobnicate?_format=xml", StatusCode::NOT_FOUND),
        ("GET", "/fhir/CodeSystem/$lookup?_format=xml", StatusCode::BAD_REQUEST),
        ("GET", "/fhir/Patient/1?_format=xml", StatusCode::NOT_FOUND),
        ("GET", "/nowhere?_format=xml", StatusCode::NOT_FOUND),
        ("PUT", "/fhir/CodeSystem/x?_format=xml", StatusCode::BAD_REQUEST),
    ] {
        let answer = app.send(method, uri, &[], Some("{}")).await;
        assert_eq!(answer.status, status, "{method} {uri}: {}", answer.body);
        assert!(answer.content_type.starts_with("application/fhir+xml"), "{method} {uri}: {}", answer.content_type);
        assert!(answer.body.contains("<OperationOutcome"), "{method} {uri}: {}", answer.body);
    }
    let by_accept = app.send("GET", "/fhir/CodeSystem/$lookup", &xml, None).await;
    assert!(by_accept.body.contains("<OperationOutcome"), "{}", by_accept.body);
    let as_json = app.get("/fhir/CodeSystem/$lookup").await;
    assert_eq!(as_json.status, StatusCode::BAD_REQUEST);
    assert!(as_json.content_type.starts_with("application/fhir+json"), "{}", as_json.content_type);
}
