//! FHIR REST: create, read, update, delete and search, in JSON and XML, on every backend.

use crate::support::{app, backend_tests, sample_code_system, Backend};
use actix_web::http::StatusCode;
use serde_json::{json, Value};

fn without_meta(mut resource: Value) -> Value {
    resource.as_object_mut().expect("object").remove("meta");
    resource
}

async fn crud_in_json(backend: &Backend) {
    let app = app(backend).await;
    let code_system = sample_code_system();
    let created = app.put_json("/fhir/CodeSystem/sample", &code_system).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert!(created.location.as_deref().unwrap_or_default().ends_with("/fhir/CodeSystem/sample/_history/1"));

    let read = app.get("/fhir/CodeSystem/sample").await;
    assert_eq!(read.status, StatusCode::OK);
    assert!(read.content_type.starts_with("application/fhir+json"));
    assert_eq!(without_meta(read.json()), code_system);

    let mut changed = code_system.clone();
    changed["title"] = json!("Changed title");
    let updated = app.put_json("/fhir/CodeSystem/sample", &changed).await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    assert_eq!(updated.json()["meta"]["versionId"], "2");
    assert_eq!(app.get("/fhir/CodeSystem/sample").await.json()["title"], "Changed title");

    let posted = app
        .post_json(
            "/fhir/ValueSet",
            &json!({"resourceType": "ValueSet", "url": "http://example.org/vs/all", "version": "1",
        "name": "All", "status": "active", "compose": {"include": [{"system": "http://example.org/cs/sample"}]}}),
        )
        .await;
    assert_eq!(posted.status, StatusCode::CREATED, "{}", posted.body);
    let value_set_id = posted.json()["id"].as_str().expect("id").to_owned();
    assert_eq!(app.get(&format!("/fhir/ValueSet/{value_set_id}")).await.json()["url"], "http://example.org/vs/all");

    let deleted = app.send("DELETE", "/fhir/CodeSystem/sample", &[], None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get("/fhir/CodeSystem/sample").await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.send("DELETE", "/fhir/CodeSystem/sample", &[], None).await.status, StatusCode::NOT_FOUND);
}

async fn crud_in_xml(backend: &Backend) {
    let app = app(backend).await;
    let xml = r#"<ValueSet xmlns="http://hl7.org/fhir"><id value="colours"/><url value="http://example.org/vs/colours"/><version value="2"/><name value="Colours"/><status value="draft"/><compose><include><system value="http://example.org/cs/sample"/><concept><code value="red"/></concept></include></compose></ValueSet>"#;
    let created = app
        .send("PUT", "/fhir/ValueSet/colours", &[("content-type", "application/fhir+xml"), ("accept", "application/fhir+xml")], Some(xml))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert!(created.content_type.starts_with("application/fhir+xml"), "{}", created.content_type);
    assert!(created.body.contains("<code value=\"red\"/>"), "{}", created.body);

    let read = app.get("/fhir/ValueSet/colours?_format=xml").await;
    assert!(read.body.starts_with("<?xml") && read.body.contains("<url value=\"http://example.org/vs/colours\"/>"), "{}", read.body);
    let as_json = app.get("/fhir/ValueSet/colours?_format=json").await.json();
    assert_eq!(as_json["compose"]["include"][0]["concept"][0]["code"], "red");

    let bundle = app.send("GET", "/fhir/ValueSet?url=http://example.org/vs/colours", &[("accept", "application/xml")], None).await;
    assert!(bundle.body.contains("<total value=\"1\"/>"), "{}", bundle.body);
    assert_eq!(app.send("DELETE", "/fhir/ValueSet/colours", &[], None).await.status, StatusCode::NO_CONTENT);
}

async fn search_and_paging(backend: &Backend) {
    let app = app(backend).await;
    for idx in 0..5 {
        let resource = json!({"resourceType": "CodeSystem", "id": format!("cs{idx}"), "url": "http://example.org/cs/versions",
            "version": format!("{idx}.0"), "name": format!("Versions{idx}"), "title": "Versioned", "status": if idx == 4 { "draft" } else { "active" },
            "content": "complete", "concept": [{"code": format!("c{idx}")}]});
        assert_eq!(app.put_json(&format!("/fhir/CodeSystem/cs{idx}"), &resource).await.status, StatusCode::CREATED);
    }
    let page = app.get("/fhir/CodeSystem?url=http://example.org/cs/versions&_count=2").await.json();
    assert_eq!(page["type"], "searchset");
    assert_eq!(page["total"], 5);
    assert_eq!(page["entry"].as_array().map(Vec::len), Some(2));
    let next = page["link"].as_array().expect("links").iter().find(|link| link["relation"] == "next").expect("next link")["url"]
        .as_str()
        .expect("url")
        .to_owned();
    let next_path = &next[next.find("/fhir/").expect("base")..];
    let second = app.get(next_path).await.json();
    assert_eq!(second["entry"][0]["resource"]["id"], "cs2");
    assert_eq!(app.get("/fhir/CodeSystem?system=http://example.org/cs/versions&version=3.0").await.json()["total"], 1);
    assert_eq!(app.get("/fhir/CodeSystem?status=draft").await.json()["total"], 1);
    assert_eq!(app.get("/fhir/CodeSystem?name=versions").await.json()["total"], 5);
    assert_eq!(app.get("/fhir/CodeSystem?title=Versioned&_id=cs1").await.json()["total"], 1);
    assert_eq!(app.get("/fhir/CodeSystem?name=nothing").await.json()["total"], 0);
    // Several versions of one canonical live side by side and answer for themselves.
    let lookup = app.get("/fhir/CodeSystem/$lookup?system=http://example.org/cs/versions&version=2.0&code=c2").await;
    assert_eq!(lookup.status, StatusCode::OK, "{}", lookup.body);
    assert_eq!(
        app.get("/fhir/CodeSystem/$lookup?system=http://example.org/cs/versions&version=2.0&code=c3").await.status,
        StatusCode::NOT_FOUND
    );
}

async fn large_code_system_round_trips(backend: &Backend) {
    let app = app(backend).await;
    let n_concepts = 100_000;
    let concepts: Vec<Value> = (0..n_concepts / 10)
        .map(|group| {
            let children: Vec<Value> = (1..10)
                .map(|child| {
                    json!({"code": format!("C{group}.{child}"), "display": format!("Child {child} of group {group}"),
                    "designation": [{"language": "de", "value": format!("Kind {child}")}],
                    "property": [{"code": "weight", "valueInteger": child}]})
                })
                .collect();
            json!({"code": format!("C{group}"), "display": format!("Group {group}"), "concept": children})
        })
        .collect();
    let code_system = json!({"resourceType": "CodeSystem", "id": "big", "url": "http://example.org/cs/big", "version": "1",
        "status": "active", "content": "complete", "property": [{"code": "weight", "type": "integer"}], "concept": concepts});
    let stored = app.put_json("/fhir/CodeSystem/big", &code_system).await;
    assert_eq!(stored.status, StatusCode::CREATED);
    let read = app.get("/fhir/CodeSystem/big").await.json();
    assert_eq!(without_meta(read), code_system);
    // A fresh start rebuilds the same index from the rows.
    let restarted = crate::support::app(backend).await;
    let lookup = restarted.get("/fhir/CodeSystem/$lookup?system=http://example.org/cs/big&code=C9999.9").await.json();
    let parent = lookup["parameter"]
        .as_array()
        .expect("parameters")
        .iter()
        .find(|parameter| parameter["name"] == "property" && parameter["part"][0]["valueCode"] == "parent")
        .cloned();
    assert_eq!(parent.expect("parent property")["part"][1]["valueCode"], "C9999");
}

/// Every kind of value a concept row keeps is stored and read back unchanged, after a restart
/// (which reads the rows again): each property value type, a Coding with and without members of
/// its own, designations with and without language, use and extensions, extensions on concepts
/// and properties, definitions and nesting.
async fn every_row_value_round_trips(backend: &Backend) {
    let app = app(backend).await;
    let extension = json!([{"url": "http://example.org/ext", "valueString": "kept"}]);
    let code_system = json!({"resourceType": "CodeSystem", "id": "kinds", "url": "http://example.org/cs/kinds", "version": "1",
        "status": "active", "content": "complete",
        "property": [{"code": "kind", "type": "code"}, {"code": "note", "type": "string"}, {"code": "since", "type": "dateTime"},
            {"code": "flag", "type": "boolean"}, {"code": "rank", "type": "integer"}, {"code": "weight", "type": "decimal"},
            {"code": "link", "type": "Coding"}],
        "concept": [
            {"code": "a", "display": "A", "definition": "The first \"quoted\" one, with a back\\slash",
             "extension": extension.clone(),
             "designation": [
                {"language": "de", "use": {"system": "http://snomed.info/sct", "code": "900000000000013009", "display": "Synonym"}, "value": "Ä"},
                {"use": {"system": "http://snomed.info/sct", "code": "900000000000013009", "display": "Synonym"}, "value": "a, again"},
                {"language": "fr", "value": "à", "extension": extension.clone()}],
             "property": [
                {"code": "kind", "valueCode": "letter"},
                {"code": "note", "valueString": "line one\nline two \u{2603}"},
                {"code": "since", "valueDateTime": "2024-10-01"},
                {"code": "flag", "valueBoolean": true},
                {"code": "flag", "valueBoolean": false},
                {"code": "rank", "valueInteger": -3},
                {"code": "weight", "valueDecimal": 1.50},
                {"code": "link", "valueCoding": {"system": "http://example.org/cs/other", "version": "2", "code": "x", "display": "X"}},
                {"code": "link", "valueCoding": {"code": "y", "userSelected": true}},
                {"code": "note", "valueString": "with an extension", "extension": extension.clone()}],
             "concept": [{"code": "a1", "display": "A one", "property": [{"code": "rank", "valueInteger": 12345678901_i64}]}]},
            {"code": "b"}]});
    let stored = app.put_json("/fhir/CodeSystem/kinds", &code_system).await;
    assert_eq!(stored.status, StatusCode::CREATED, "{}", stored.body);
    assert_eq!(without_meta(app.get("/fhir/CodeSystem/kinds").await.json()), code_system);
    let restarted = crate::support::app(backend).await;
    assert_eq!(without_meta(restarted.get("/fhir/CodeSystem/kinds").await.json()), code_system);
    let lookup = restarted.get("/fhir/CodeSystem/$lookup?system=http://example.org/cs/kinds&code=a1").await;
    assert_eq!(lookup.status, StatusCode::OK, "{}", lookup.body);
    assert!(lookup.body.contains("\"valueCode\":\"a\""), "the nesting parent is read back: {}", lookup.body);
}

async fn metadata_tells_the_truth(backend: &Backend) {
    let app = app(backend).await;
    app.put_json("/fhir/CodeSystem/sample", &sample_code_system()).await;
    let capability = app.get("/fhir/metadata").await.json();
    assert_eq!(capability["fhirVersion"], "4.0.1");
    assert_eq!(capability["instantiates"][0], "http://hl7.org/fhir/CapabilityStatement/terminology-server");
    let value_set = capability["rest"][0]["resource"]
        .as_array()
        .expect("resources")
        .iter()
        .find(|resource| resource["type"] == "ValueSet")
        .expect("ValueSet")
        .clone();
    let operations: Vec<&str> =
        value_set["operation"].as_array().expect("operations").iter().filter_map(|operation| operation["name"].as_str()).collect();
    assert!(operations.contains(&"expand") && operations.contains(&"validate-code"), "{operations:?}");
    let capabilities = app.get("/fhir/metadata?mode=terminology").await.json();
    assert_eq!(capabilities["resourceType"], "TerminologyCapabilities");
    assert_eq!(capabilities["codeSystem"][0]["uri"], "http://example.org/cs/sample");
    assert_eq!(capabilities["codeSystem"][0]["version"][0]["code"], "1.0.0");
    assert_eq!(app.get("/health/live").await.status, StatusCode::OK);
    assert_eq!(app.get("/health/ready").await.status, StatusCode::OK);
}

/// Paths under `/fhir/` are taken apart by segment, percent-decoded, whatever the method; a shape
/// no handler takes is a 404 OperationOutcome.
#[actix_web::test]
async fn paths_are_read_by_their_segments() {
    let backend = crate::support::sqlite();
    let app = app(&backend).await;
    assert_eq!(app.put_json("/fhir/CodeSystem/sample", &sample_code_system()).await.status, StatusCode::CREATED);
    let encoded = app.get("/fhir/CodeSystem/%24lookup?system=http://example.org/cs/sample&code=lung").await;
    assert_eq!(encoded.status, StatusCode::OK, "{}", encoded.body);
    assert_eq!(encoded.json()["parameter"][0]["valueCode"], "lung");
    let instance = app.get("/fhir/CodeSystem/sam%70le/$validate-code?code=lung").await;
    assert_eq!(instance.status, StatusCode::OK, "{}", instance.body);
    assert_eq!(app.get("/fhir/CodeSystem/sample/_history/1").await.status, StatusCode::OK);
    for path in ["/fhir/CodeSystem//sample", "/fhir/CodeSystem/sample/x/y", "/fhir/CodeSystem/sample/_history/1/x", "/fhir", "/fhir/%FF"] {
        let answer = app.get(path).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}: {}", answer.body);
        assert_eq!(answer.json()["resourceType"], "OperationOutcome", "{path}");
    }
    let wrong_method = app.send("PATCH", "/fhir/CodeSystem/sample", &[], None).await;
    assert_eq!(wrong_method.status, StatusCode::NOT_FOUND);
}

backend_tests! {
    crud_json => crud_in_json;
    crud_xml => crud_in_xml;
    search => search_and_paging;
    hundred_thousand_concepts => large_code_system_round_trips;
    row_values => every_row_value_round_trips;
    metadata => metadata_tells_the_truth;
}
